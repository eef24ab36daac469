//! Shared test setup: a Pexip simulator on 127.0.0.1 (tokio-driven clock, so paused time
//! drives it too) and a client that pins its certificate.
#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use pexspec_pexip::{Client, ClientOptions, Secret, Sleeper, Trust};
use pexspec_sim::pexip::{self, ClockSource, PexipSim, PexipSimOptions};

pub const PASSWORD: &str = "sim-admin-password";

pub struct Env {
    /// First field, so it is dropped first, while the state is still there.
    pub strict: Strict,
    pub sim: PexipSim,
    pub client: Client,
    pub dir: tempfile::TempDir,
}

pub fn sim_options(dir: &std::path::Path) -> PexipSimOptions {
    let mut opts = PexipSimOptions::new(dir.join("sim"), PASSWORD);
    opts.auto_bootstrap = true;
    opts.clock = ClockSource::Tokio;
    opts
}

pub fn client(sim: &PexipSim, trust: Trust) -> Client {
    Client::new(ClientOptions::new(
        sim.base_url(),
        Secret::new(PASSWORD),
        trust,
    ))
    .unwrap()
}

pub fn pinned(sim: &PexipSim) -> Trust {
    Trust::Pinned(sim.fingerprint().parse().unwrap())
}

pub async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let sim = pexip::start(sim_options(dir.path())).await.unwrap();
    let client = client(&sim, pinned(&sim));
    Env {
        strict: Strict::new(dir.path()),
        sim,
        client,
        dir,
    }
}

/// Fails the test, when dropped, if a simulator under its directory ignored a body field or a
/// filter the client sent (the real API would have ignored it silently: a misspelling).
pub struct Strict(std::path::PathBuf);

impl Strict {
    pub fn new(root: &std::path::Path) -> Self {
        Strict(root.to_path_buf())
    }
}

impl Drop for Strict {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let ignored = pexip::ignored_under(&self.0).unwrap();
        assert!(
            ignored.is_empty(),
            "the Pexip simulator ignored what the client sent: {ignored:#?}"
        );
    }
}

/// A sleeper that records what it was asked to sleep and returns at once.
#[derive(Debug, Default)]
pub struct CountingSleeper {
    pub calls: AtomicU64,
    pub total_ms: AtomicU64,
}

impl Sleeper for CountingSleeper {
    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.total_ms
            .fetch_add(d.as_millis() as u64, Ordering::Relaxed);
        Box::pin(async {})
    }
}

pub fn counting() -> Arc<CountingSleeper> {
    Arc::new(CountingSleeper::default())
}

/// A self-signed certificate and key for `cn`.
pub fn cert(cn: &str) -> (String, String) {
    let mut params = rcgen::CertificateParams::new(vec![cn.to_owned()]).unwrap();
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::CommonName, cn);
    params.distinguished_name = dn;
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), key.serialize_pem())
}
