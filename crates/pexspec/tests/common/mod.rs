//! Shared by the command-line tests: a private copy of the example specs, so that runs with
//! `--sim` keep their simulated cloud (`.pexspec/`) in a temporary directory, never in the
//! repository.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The repository's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(&name));
        } else {
            std::fs::copy(&path, to.join(&name)).unwrap();
        }
    }
}

/// A temporary directory holding `specs/` (the examples, their keys and certificates) and
/// `specs/three-regions.yaml` (a full mesh of three regions).
pub fn site() -> Site {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root().join("specs"), &dir.path().join("specs"));
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/three-regions.yaml"),
        dir.path().join("specs/three-regions.yaml"),
    )
    .unwrap();
    Site(dir)
}

/// A test's site (see [`site`]). When it is dropped the test fails if a Pexip simulator that
/// ran on it (`--sim`, `sim serve`) ignored a body field or a filter pexspec sent: the real
/// Management Node would have ignored it silently.
pub struct Site(tempfile::TempDir);

impl Site {
    pub fn path(&self) -> &Path {
        self.0.path()
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        assert_pexip_strict(self.0.path());
    }
}

/// Fails (unless the test is already failing) if a Pexip simulator state under `root` holds
/// an ignored body field or filter.
pub fn assert_pexip_strict(root: &Path) {
    if std::thread::panicking() {
        return;
    }
    let ignored = pexspec_sim::pexip::ignored_under(root).unwrap();
    assert!(
        ignored.is_empty(),
        "the Pexip simulator ignored what pexspec sent: {ignored:#?}"
    );
}

/// The secrets the example specs name: unset, so that `--sim` makes its own stand-ins
/// whatever the environment of the test run holds.
pub const SECRETS: &[&str] = &[
    "PEXIP_ADMIN_PASSWORD",
    "PEXIP_LICENSE_KEY",
    "BOARD_PIN",
    "TEAM_PIN",
    "PEXCONF_SSH_PASSWORD",
];

/// `GET path` over plain HTTP/1.1 to `hostport` (a simulator's own inspection endpoints),
/// the body (de-chunked). Panics on any answer but 200.
pub fn http_get(hostport: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(hostport).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    loop {
        let Some((size, rest)) = body.split_once("\r\n") else {
            return out;
        };
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            return out;
        }
        out.push_str(&rest[..n]);
        body = &rest[n + 2..];
    }
}

/// The OCI simulator of a `--sim` state directory, started in this process, and a client of
/// it (the test key of its configuration).
pub async fn oci_sim(state: &Path) -> (pexspec_sim::serve::RunningSim, pexspec_oci::OciClient) {
    let sim =
        pexspec_sim::serve::serve(pexspec_sim::serve::ServeOptions::default().state_dir(state))
            .await
            .unwrap();
    let config = pexspec_oci::OciConfig::load(
        &pexspec_oci::LoadOptions {
            config_file: Some(sim.config_file().to_path_buf()),
            profile: Some(sim.profile().to_owned()),
        },
        &std::collections::BTreeMap::<String, String>::new(),
    )
    .unwrap();
    let endpoints = pexspec_oci::Endpoints::from_overrides(
        sim.endpoints()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str())),
    )
    .unwrap();
    let client = pexspec_oci::OciClient::new(&config, endpoints).unwrap();
    (sim, client)
}

/// An OCI CLI configuration in `dir` whose profile is complete (the simulator's test key),
/// so that a real run gets past reading it; returns its path for `OCI_CLI_CONFIG_FILE`.
/// Nothing is ever sent with it: the tests that use it stop before any call.
pub fn oci_config(dir: &Path) -> PathBuf {
    let key = root().join("crates/pexspec-sim/src/oci/testkey/test_api_key.pem");
    let path = dir.join("oci-config");
    std::fs::write(
        &path,
        format!(
            "[DEFAULT]\nuser=ocid1.user.oc1..aaaaaaaatest\n\
             fingerprint=11:22:33:44:55:66:77:88:99:00:aa:bb:cc:dd:ee:ff\n\
             tenancy=ocid1.tenancy.oc1..aaaaaaaatest\nregion=eu-frankfurt-1\nkey_file={}\n",
            key.display()
        ),
    )
    .unwrap();
    path
}

/// Everything tagged `pexspec-stack: stack` and not gone in the simulated cloud whose state
/// is `state`, asked of the OCI simulator over its own inspection endpoint (`/_sim/tagged`),
/// not through pexspec's observe.
pub fn tagged_resources(state: &Path, stack: &str) -> Vec<serde_json::Value> {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let sim =
            pexspec_sim::serve::serve(pexspec_sim::serve::ServeOptions::default().state_dir(state))
                .await
                .unwrap();
        let base = sim.endpoints().values().next().unwrap().clone();
        let hostport = base.trim_start_matches("http://").to_owned();
        let path = format!("/_sim/tagged?key=pexspec-stack&value={stack}");
        let body = tokio::task::spawn_blocking(move || http_get(&hostport, &path))
            .await
            .unwrap();
        sim.shutdown().await;
        serde_json::from_str::<Vec<serde_json::Value>>(&body)
            .unwrap_or_else(|e| panic!("{e}: {body}"))
    })
}
