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
pub fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root().join("specs"), &dir.path().join("specs"));
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/three-regions.yaml"),
        dir.path().join("specs/three-regions.yaml"),
    )
    .unwrap();
    dir
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
