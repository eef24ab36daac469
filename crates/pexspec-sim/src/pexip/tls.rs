//! HTTPS for the simulated Management Node and Conferencing Nodes: self-signed certificates
//! (rcgen), persisted so fingerprints survive restarts, and a TLS listener for `axum::serve`.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use super::PexipSimError;

/// A certificate and its private key, both PEM.
#[derive(Clone)]
pub(crate) struct CertPair {
    pub(crate) cert_pem: String,
    pub(crate) key_pem: String,
}

impl std::fmt::Debug for CertPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertPair")
            .field("key_pem", &"<redacted>")
            .finish_non_exhaustive()
    }
}

fn tls_err(e: impl std::fmt::Display) -> PexipSimError {
    PexipSimError::Tls(e.to_string())
}

/// A fresh self-signed certificate for `cn`, valid for `127.0.0.1`, `localhost` and `cn`.
pub(crate) fn generate(cn: &str) -> Result<CertPair, PexipSimError> {
    let mut names = vec!["127.0.0.1".to_owned(), "localhost".to_owned()];
    if !cn.is_empty() && !names.iter().any(|n| n == cn) {
        names.push(cn.to_owned());
    }
    let mut params = rcgen::CertificateParams::new(names).map_err(tls_err)?;
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::CommonName, cn);
    params.distinguished_name = dn;
    let key = rcgen::KeyPair::generate().map_err(tls_err)?;
    let cert = params.self_signed(&key).map_err(tls_err)?;
    Ok(CertPair {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

pub(crate) const MANAGER_CERT: &str = "pexip-manager.crt";
pub(crate) const MANAGER_KEY: &str = "pexip-manager.key";

/// The `meta` row that holds the certificate and its key, one value (certificate PEM, then
/// key PEM), so that of two simulators started at once on one state directory (two `--sim`
/// runs in one folder) both end up with the same pair: SQLite inserts it once.
const PAIR_META: &str = "tls_pair_pem";

/// Loads the Management Node's certificate and key (the state database's, or files an older
/// state directory kept), or creates them; then writes both files (key 0600), each whole, so
/// that nobody reads half a key or a certificate that does not match it.
pub(crate) fn load_or_create(
    store: &super::store::Store<'_>,
    dir: &Path,
    cn: &str,
) -> Result<CertPair, PexipSimError> {
    let cert_path = dir.join(MANAGER_CERT);
    let key_path = dir.join(MANAGER_KEY);
    let candidate = match (
        std::fs::read_to_string(&cert_path),
        std::fs::read_to_string(&key_path),
    ) {
        (Ok(cert_pem), Ok(key_pem)) => CertPair { cert_pem, key_pem },
        _ => generate(cn)?,
    };
    let joined = store.meta_or_insert(
        PAIR_META,
        &format!("{}{}", candidate.cert_pem, candidate.key_pem),
    )?;
    const END: &str = "-----END CERTIFICATE-----";
    let at = joined.rfind(END).map_or(joined.len(), |i| {
        let after = i + END.len();
        after + joined[after..].len() - joined[after..].trim_start().len()
    });
    let pair = CertPair {
        cert_pem: joined[..at].to_owned(),
        key_pem: joined[at..].to_owned(),
    };
    write_whole(&key_path, pair.key_pem.as_bytes())?;
    write_whole(&cert_path, pair.cert_pem.as_bytes())?;
    Ok(pair)
}

fn io_err(path: &Path, e: std::io::Error) -> PexipSimError {
    PexipSimError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Writes `bytes` to `path` (owner-only) through a temporary file of its own, renamed over
/// it: a reader sees the old file or the new one.
fn write_whole(path: &Path, bytes: &[u8]) -> Result<(), PexipSimError> {
    if std::fs::read(path).is_ok_and(|b| b == bytes) {
        return Ok(());
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(|e| io_err(dir, e))?;
    file.write_all(bytes)
        .and_then(|()| file.as_file().sync_all())
        .map_err(|e| io_err(path, e))?;
    file.persist(path).map_err(|e| io_err(path, e.error))?;
    Ok(())
}

/// `SHA256` fingerprint of the first certificate in `cert_pem`, as colon-separated upper hex.
pub(crate) fn fingerprint(cert_pem: &str) -> Result<String, PexipSimError> {
    let der = CertificateDer::from_pem_slice(cert_pem.as_bytes()).map_err(tls_err)?;
    let digest = Sha256::digest(der.as_ref());
    Ok(digest
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":"))
}

/// A rustls server configuration (ring provider, HTTP/1.1) for `pair`.
pub(crate) fn server_config(pair: &CertPair) -> Result<Arc<rustls::ServerConfig>, PexipSimError> {
    let cert = CertificateDer::from_pem_slice(pair.cert_pem.as_bytes()).map_err(tls_err)?;
    let key = PrivateKeyDer::from_pem_slice(pair.key_pem.as_bytes()).map_err(tls_err)?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(tls_err)?
    .with_no_client_auth()
    .with_single_cert(vec![cert], key)
    .map_err(tls_err)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Accepted TLS connections, handed to `axum::serve`. Handshakes run in their own tasks so a
/// stalled client cannot block others.
pub(crate) struct TlsListener {
    rx: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(conn) => conn,
            // The accept loop has stopped (shutdown): never yield another connection.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

/// Binds `127.0.0.1:port` (0: any free port; a busy preferred port falls back to any).
pub(crate) async fn bind(port: u16) -> Result<TcpListener, PexipSimError> {
    match TcpListener::bind(("127.0.0.1", port)).await {
        Ok(l) => Ok(l),
        Err(_) if port != 0 => {
            TcpListener::bind(("127.0.0.1", 0))
                .await
                .map_err(|e| PexipSimError::Io {
                    path: "127.0.0.1:0".into(),
                    message: e.to_string(),
                })
        }
        Err(e) => Err(PexipSimError::Io {
            path: format!("127.0.0.1:{port}"),
            message: e.to_string(),
        }),
    }
}

/// Wraps `tcp` in TLS; the accept loop stops when `shutdown` turns true.
pub(crate) fn listen(
    tcp: TcpListener,
    config: Arc<rustls::ServerConfig>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<TlsListener, PexipSimError> {
    let local = tcp.local_addr().map_err(|e| PexipSimError::Io {
        path: "listener".into(),
        message: e.to_string(),
    })?;
    let (tx, rx) = mpsc::channel(64);
    let acceptor = TlsAcceptor::from(config);
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                r = tcp.accept() => r,
                _ = shutdown.wait_for(|stop| *stop) => break,
            };
            let Ok((stream, peer)) = accepted else {
                continue;
            };
            let acceptor = acceptor.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                let handshake =
                    tokio::time::timeout(Duration::from_secs(30), acceptor.accept(stream));
                if let Ok(Ok(tls)) = handshake.await {
                    let _ = tx.send((tls, peer)).await;
                }
            });
        }
    });
    Ok(TlsListener { rx, local })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two simulators on one state directory (two `--sim` runs in one folder) end up with one
    /// certificate and key, whichever wrote its files first or last.
    #[test]
    fn simulators_on_one_directory_share_one_certificate_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (
            super::super::store::open(dir.path()).unwrap(),
            super::super::store::open(dir.path()).unwrap(),
        );
        let first =
            load_or_create(&super::super::store::Store { conn: &a }, dir.path(), "a").unwrap();
        // The other found no files (it looked before they were written): it makes its own
        // pair, and must still get the first one's.
        std::fs::remove_file(dir.path().join(MANAGER_CERT)).unwrap();
        std::fs::remove_file(dir.path().join(MANAGER_KEY)).unwrap();
        let second =
            load_or_create(&super::super::store::Store { conn: &b }, dir.path(), "b").unwrap();
        assert_eq!(second.cert_pem, first.cert_pem);
        assert_eq!(second.key_pem, first.key_pem);
        assert_eq!(
            std::fs::read_to_string(dir.path().join(MANAGER_KEY)).unwrap(),
            first.key_pem
        );
        server_config(&second).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(MANAGER_KEY))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
