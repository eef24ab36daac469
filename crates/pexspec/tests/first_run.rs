//! A real run (no `--sim`) on a machine with no OCI configuration says what to set up, names
//! the book's page, and does so before it asks for or checks any secret.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{SECRETS, site};

/// The usage exit code (`pexspec::EXIT_USAGE`).
const EXIT_USAGE: i32 = 2;

/// The environment variables a real run reads for secrets: the spec's, and the one the
/// installation wizard's instructions name.
fn secret_names() -> Vec<&'static str> {
    let mut names = SECRETS.to_vec();
    names.push("PEXIP_OS_PASSWORD");
    names
}

/// Runs `pexspec args` in `dir` with `home` as `HOME`, no `OCI_CLI_*` variable but those of
/// `vars`, and no secret set.
fn pexspec(dir: &Path, home: &Path, args: &[&str], vars: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pexspec"));
    cmd.current_dir(dir)
        .args(args)
        .env("HOME", home)
        .env("NO_COLOR", "1")
        .env_remove("USERPROFILE");
    for var in [
        "OCI_CLI_CONFIG_FILE",
        "OCI_CLI_PROFILE",
        "OCI_CLI_USER",
        "OCI_CLI_TENANCY",
        "OCI_CLI_FINGERPRINT",
        "OCI_CLI_KEY_FILE",
        "OCI_CLI_REGION",
        "OCI_CLI_PASSPHRASE",
    ] {
        cmd.env_remove(var);
    }
    for name in secret_names() {
        cmd.env_remove(name);
    }
    for (name, value) in vars {
        cmd.env(name, value);
    }
    cmd.output().unwrap()
}

/// Checks the run stopped on the missing configuration with the help line, and named no
/// secret before it (nor after: it stops there).
fn assert_first_run_help(out: &Output, problem: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(EXIT_USAGE), "stderr: {stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).trim().is_empty());
    let error = stderr
        .find("error: ")
        .unwrap_or_else(|| panic!("no error line: {stderr}"));
    assert!(stderr[error..].contains(problem), "stderr: {stderr}");
    let help = stderr
        .find("help: ")
        .unwrap_or_else(|| panic!("no help line: {stderr}"));
    let help_line = stderr[help..].lines().next().unwrap();
    assert!(
        help_line.contains("\"Before your first real apply\"")
            && help_line.contains("https://pexspec.dev/book/first-real-run.html")
            && help_line.contains("`--sim`"),
        "help: {help_line}"
    );
    for name in secret_names() {
        assert!(!stderr.contains(name), "`{name}` named: {stderr}");
    }
    assert!(
        !stderr.contains("environment variables"),
        "stderr: {stderr}"
    );
}

#[test]
fn plan_and_apply_without_an_oci_config_say_where_to_start() {
    let dir = site();
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join(".oci/config");
    for args in [
        &["plan", "specs/quickstart.yaml"][..],
        &["apply", "specs/quickstart.yaml", "--auto-approve"][..],
    ] {
        let out = pexspec(dir.path(), home.path(), args, &[]);
        assert_first_run_help(
            &out,
            &format!("cannot read OCI config file `{}`", config.display()),
        );
    }
    // Nothing was written for the run: no journal, no lock, no trust file.
    assert!(!dir.path().join("specs/.pexspec").exists());
}

#[test]
fn an_incomplete_profile_gets_the_same_help() {
    let dir = site();
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".oci")).unwrap();
    // The quickstart's `oci.profile` is `DEFAULT`; this one has no `key_file`.
    std::fs::write(
        home.path().join(".oci/config"),
        "[DEFAULT]\nuser=ocid1.user.oc1..aaaa\ntenancy=ocid1.tenancy.oc1..aaaa\n\
         fingerprint=12:34:56:78:90:ab:cd:ef:12:34:56:78:90:ab:cd:ef\nregion=eu-frankfurt-1\n",
    )
    .unwrap();
    let out = pexspec(
        dir.path(),
        home.path(),
        &["plan", "specs/quickstart.yaml"],
        &[],
    );
    assert_first_run_help(&out, "profile `DEFAULT`: missing key `key_file`");
}

#[test]
fn oci_cli_config_file_is_the_file_looked_for() {
    let dir = site();
    let home = tempfile::tempdir().unwrap();
    let elsewhere = home.path().join("elsewhere/config");
    let out = pexspec(
        dir.path(),
        home.path(),
        &["plan", "specs/quickstart.yaml"],
        &[("OCI_CLI_CONFIG_FILE", &elsewhere)],
    );
    assert_first_run_help(
        &out,
        &format!("cannot read OCI config file `{}`", elsewhere.display()),
    );
}
