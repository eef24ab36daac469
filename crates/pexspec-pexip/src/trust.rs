//! Trust in a Management Node's (or a fresh Conferencing Node's) self-signed certificate: never
//! silent. A custom rustls `ServerCertVerifier` pins the SHA-256 fingerprint of the leaf
//! certificate (trust on first use captures it), or verifies against a CA file.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::error::TrustError;

/// The SHA-256 fingerprint of a DER certificate; shown as `AB:CD:…` (32 upper-hex pairs).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// The fingerprint of a DER-encoded certificate.
    pub fn of_der(der: &[u8]) -> Self {
        Fingerprint(Sha256::digest(der).into())
    }

    /// The fingerprint of the first certificate in a PEM text.
    pub fn of_pem(pem: &str) -> Result<Self, TrustError> {
        let der =
            CertificateDer::from_pem_slice(pem.as_bytes()).map_err(|e| TrustError::CaFile {
                path: "<pem>".into(),
                reason: e.to_string(),
            })?;
        Ok(Self::of_der(der.as_ref()))
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

impl FromStr for Fingerprint {
    type Err = TrustError;

    /// Accepts `AB:CD:…`, `abcd…`, optionally prefixed with `SHA256:` or `sha256/`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || TrustError::BadFingerprint(s.to_owned());
        let trimmed = s.trim();
        let body = [
            "SHA256:", "sha256:", "SHA256/", "sha256/", "SHA-256:", "sha-256:",
        ]
        .iter()
        .find_map(|p| trimmed.strip_prefix(p))
        .unwrap_or(trimmed);
        let hex: Vec<u8> = body
            .bytes()
            .filter(|b| !matches!(b, b':' | b' ' | b'-'))
            .collect();
        if hex.len() != 64 {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        for (i, pair) in hex.chunks(2).enumerate() {
            let text = std::str::from_utf8(pair).map_err(|_| bad())?;
            out[i] = u8::from_str_radix(text, 16).map_err(|_| bad())?;
        }
        Ok(Fingerprint(out))
    }
}

impl Serialize for Fingerprint {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Fingerprint {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// How to trust the server certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// Only the certificate with this SHA-256 fingerprint (host name not checked: the pin is
    /// stronger).
    Pinned(Fingerprint),
    /// Certificates that chain to a CA in this PEM file and name the host.
    CaFile(PathBuf),
    /// Accept the first certificate seen, capture its fingerprint (read it with
    /// [`TrustHandle::observed`]) and require it on every later connection. The caller must
    /// store the fingerprint and show it to the operator.
    FirstUse,
}

#[derive(Debug)]
enum Mode {
    Pinned(Fingerprint),
    FirstUse,
    Ca {
        path: String,
        inner: Arc<WebPkiServerVerifier>,
    },
}

#[derive(Debug, Default)]
struct Observed {
    fingerprint: Option<Fingerprint>,
    failure: Option<TrustError>,
}

/// The verifier plugged into rustls.
#[derive(Debug)]
struct PinVerifier {
    mode: Mode,
    provider: Arc<CryptoProvider>,
    state: Mutex<Observed>,
}

impl PinVerifier {
    fn state(&self) -> std::sync::MutexGuard<'_, Observed> {
        match self.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    fn refuse(&self, failure: TrustError) -> rustls::Error {
        self.state().failure = Some(failure);
        rustls::Error::InvalidCertificate(CertificateError::ApplicationVerificationFailure)
    }
}

impl ServerCertVerifier for PinVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let presented = Fingerprint::of_der(end_entity.as_ref());
        let host = server_name.to_str().into_owned();
        match &self.mode {
            Mode::Pinned(pinned) => {
                if *pinned != presented {
                    return Err(self.refuse(TrustError::FingerprintMismatch {
                        host,
                        pinned: *pinned,
                        presented,
                    }));
                }
            }
            Mode::FirstUse => {
                let mut state = self.state();
                match state.fingerprint {
                    Some(pinned) if pinned != presented => {
                        drop(state);
                        return Err(self.refuse(TrustError::FingerprintMismatch {
                            host,
                            pinned,
                            presented,
                        }));
                    }
                    _ => state.fingerprint = Some(presented),
                }
            }
            Mode::Ca { path, inner } => {
                if let Err(e) = inner.verify_server_cert(
                    end_entity,
                    intermediates,
                    server_name,
                    ocsp_response,
                    now,
                ) {
                    return Err(self.refuse(TrustError::Untrusted {
                        host,
                        ca_file: path.clone(),
                        presented,
                        reason: e.to_string(),
                    }));
                }
            }
        }
        self.state().fingerprint = Some(presented);
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        // The pin says which certificate; the signature proves the server holds its key.
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// What the verifier saw: the fingerprint of the last certificate presented, and why the last
/// one was refused.
#[derive(Debug, Clone)]
pub struct TrustHandle(Arc<PinVerifier>);

impl TrustHandle {
    /// The SHA-256 fingerprint of the certificate presented (and accepted) last; with
    /// [`Trust::FirstUse`], the fingerprint to store and show.
    pub fn observed(&self) -> Option<Fingerprint> {
        self.0.state().fingerprint
    }

    /// Takes the reason of the last refusal, if any.
    pub(crate) fn take_failure(&self) -> Option<TrustError> {
        self.0.state().failure.take()
    }
}

/// A rustls client configuration (ring provider) that trusts as `trust` says, and the handle
/// that reports what it saw.
pub fn rustls_config(trust: &Trust) -> Result<(rustls::ClientConfig, TrustHandle), TrustError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mode = match trust {
        Trust::Pinned(fp) => Mode::Pinned(*fp),
        Trust::FirstUse => Mode::FirstUse,
        Trust::CaFile(path) => {
            let shown = path.display().to_string();
            let ca_err = |reason: String| TrustError::CaFile {
                path: shown.clone(),
                reason,
            };
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| ca_err(e.to_string()))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| ca_err(e.to_string()))?;
            if certs.is_empty() {
                return Err(ca_err("it holds no PEM certificate".into()));
            }
            let mut roots = rustls::RootCertStore::empty();
            for cert in certs {
                roots.add(cert).map_err(|e| ca_err(e.to_string()))?;
            }
            let inner =
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|e| ca_err(e.to_string()))?;
            Mode::Ca { path: shown, inner }
        }
    };
    let verifier = Arc::new(PinVerifier {
        mode,
        provider: provider.clone(),
        state: Mutex::new(Observed::default()),
    });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TrustError::CaFile {
            path: "<rustls>".into(),
            reason: e.to_string(),
        })?
        .dangerous()
        .with_custom_certificate_verifier(verifier.clone())
        .with_no_client_auth();
    Ok((config, TrustHandle(verifier)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_round_trip_in_every_spelling() {
        let fp = Fingerprint::of_der(b"certificate");
        let shown = fp.to_string();
        assert_eq!(shown.len(), 32 * 3 - 1);
        assert_eq!(shown.parse::<Fingerprint>().unwrap(), fp);
        assert_eq!(
            format!("SHA256:{}", shown.replace(':', "").to_lowercase())
                .parse::<Fingerprint>()
                .unwrap(),
            fp
        );
        assert!("AB:CD".parse::<Fingerprint>().is_err());
        assert!("zz".repeat(32).parse::<Fingerprint>().is_err());
    }

    #[test]
    fn a_missing_ca_file_is_a_clear_error() {
        let err = rustls_config(&Trust::CaFile("/nonexistent/ca.pem".into())).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
    }
}
