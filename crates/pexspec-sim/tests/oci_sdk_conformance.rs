//! Conformance judged by the official OCI Python SDK (PyPI `oci`): `sdk_conformance.py`
//! drives every OCI operation pexspec's client sends through the SDK's clients and models
//! against the simulator (see the script's doc for what it checks).
//!
//! The SDK comes with the OCI CLI (`oci-cli` depends on `oci`), so the Python of the CLI's
//! virtual environment is used: `PEXSPEC_OCI_VENV/bin/python`, else the `python` beside
//! `PEXSPEC_OCI_CLI` or beside `oci` on `PATH`. `.ci/install-oci-cli` makes that environment.
//! Without it the test fails when `CI` is set and is skipped, loudly, otherwise.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use pexspec_sim::{ServeOptions, SimClock, serve};
use serde_json::{Value, json};

/// The Python of a virtual environment that can `import oci`.
fn find_python() -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(v) = std::env::var_os("PEXSPEC_OCI_VENV") {
        candidates.push(PathBuf::from(v).join("bin").join("python"));
    }
    let cli = std::env::var_os("PEXSPEC_OCI_CLI")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
                .map(|d| d.join("oci"))
                .find(|p| p.is_file())
        });
    if let Some(dir) = cli.as_deref().and_then(Path::parent) {
        candidates.push(dir.join("python"));
    }
    candidates.into_iter().find(|p| {
        p.is_file()
            && Command::new(p)
                .args(["-c", "import oci"])
                .output()
                .is_ok_and(|o| o.status.success())
    })
}

#[allow(clippy::print_stderr)]
fn skip_or_fail() {
    let msg = "SKIPPED: the OCI SDK conformance test needs the official OCI Python SDK: set \
               PEXSPEC_OCI_VENV to a virtual environment with `oci` (`bash .ci/install-oci-cli` \
               makes one), or PEXSPEC_OCI_CLI to the `oci` of such an environment";
    if std::env::var_os("CI").is_some() {
        panic!("{msg}");
    }
    eprintln!("\n*** {msg} ***\n");
}

/// The operation names pexspec's client sends: the rows of the `operations!` table in
/// `crates/pexspec-oci/src/permissions.rs` (`CreateVcn: Compartment, CORE, [...]`). Every
/// request the client builds names an `Operation` of that table (`Request::new` takes one),
/// so the compiler keeps it whole; read as text here, since the simulator's tests share no
/// code with the client.
fn client_operations() -> BTreeSet<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../pexspec-oci/src/permissions.rs");
    let text = std::fs::read_to_string(&path).unwrap();
    let table = text
        .split("\noperations! {")
        .nth(1)
        .expect("permissions.rs has its `operations!` table");
    let table = &table[..table.find("\n}").expect("the table ends")];
    table
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("//"))
        .filter_map(|l| l.split_once(':').map(|(name, _)| name.trim()))
        .filter(|name| {
            !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric())
                && name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_client_operations_are_found() {
    let ops = client_operations();
    for op in [
        "CreateVcn",
        "GetVcn",
        "PutObject",
        "HeadObject",
        "GetWorkRequest",
        "InstanceAction",
    ] {
        assert!(ops.contains(op), "{op} not found in {ops:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_sdk_reads_every_answer_pexspec_relies_on() {
    let Some(python) = find_python() else {
        skip_or_fail();
        return;
    };
    let sim = serve(
        ServeOptions::default()
            .region("eu-frankfurt-1")
            .region("eu-amsterdam-1")
            .clock(SimClock::manual()),
    )
    .await
    .unwrap();
    let args = json!({
        "config_file": sim.config_file(),
        "profile": sim.profile(),
        "endpoints": sim.endpoints(),
        "regions": ["eu-frankfurt-1", "eu-amsterdam-1"],
        "tenancy": sim.tenancy_ocid(),
        "repo": Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."),
    });
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk_conformance.py");
    let mut cmd = Command::new(&python);
    cmd.arg(&script)
        .arg(args.to_string())
        .env("OCI_CLI_SUPPRESS_FILE_PERMISSIONS_WARNING", "True")
        .env("SUPPRESS_LABEL_WARNING", "True");
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the SDK conformance script failed:\n{stdout}\n{stderr}"
    );
    let last: Value = serde_json::from_str(stdout.lines().last().unwrap_or("")).unwrap();
    let checked: BTreeSet<String> = last["checked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let missing: Vec<_> = client_operations()
        .into_iter()
        .filter(|op| !checked.contains(op))
        .collect();
    assert!(
        missing.is_empty(),
        "operations pexspec sends that the SDK conformance script does not drive: {missing:?}"
    );
    sim.shutdown().await;
}
