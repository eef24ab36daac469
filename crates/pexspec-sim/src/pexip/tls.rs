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

/// Loads the Management Node's certificate from `dir`, or creates and stores it (key 0600).
pub(crate) fn load_or_create(dir: &Path, cn: &str) -> Result<CertPair, PexipSimError> {
    let cert_path = dir.join(MANAGER_CERT);
    let key_path = dir.join(MANAGER_KEY);
    if cert_path.exists() && key_path.exists() {
        let cert_pem = std::fs::read_to_string(&cert_path).map_err(|e| io_err(&cert_path, e))?;
        let key_pem = std::fs::read_to_string(&key_path).map_err(|e| io_err(&key_path, e))?;
        return Ok(CertPair { cert_pem, key_pem });
    }
    let pair = generate(cn)?;
    write_private(&key_path, pair.key_pem.as_bytes())?;
    std::fs::write(&cert_path, pair.cert_pem.as_bytes()).map_err(|e| io_err(&cert_path, e))?;
    Ok(pair)
}

fn io_err(path: &Path, e: std::io::Error) -> PexipSimError {
    PexipSimError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), PexipSimError> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut file = opts.open(path).map_err(|e| io_err(path, e))?;
    file.write_all(bytes).map_err(|e| io_err(path, e))?;
    file.sync_all().map_err(|e| io_err(path, e))
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
