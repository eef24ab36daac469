//! Secrets never leave pexspec in clear. A canary value is set in every secret of a spec
//! (the admin password, the licence key, the PIN and the Conferencing Nodes' SSH password
//! from the environment; the TLS private key from its file), and the whole life of the
//! platform is run against the simulators: lint, plan (human, JSON, `--out`), apply (plain
//! and JSON), a plan that sees the PIN changed, an apply that fails on a PIN the Management
//! Node refuses, destroy, each with and without `--debug`. No canary may appear in any
//! output, in the saved plan, or anywhere under `.pexspec/` (the journal and its WAL, the
//! lock, the simulated cloud), with one exception: the simulated Management Node's own
//! database, see [`may_hold_secrets`].
//!
//! A second test writes a secret in clear in the spec: lint, plan and apply refuse it without
//! ever printing it.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// Simulated seconds per real second in these tests.
const SPEED: &str = "1200";

const SPEC: &str = "specs/quickstart.yaml";

/// The admin password of the Management Node.
const ADMIN_PASSWORD: &str = "CanaryAdminPw-5e1f9a3c";
/// The licence key.
const LICENCE_KEY: &str = "CanaryLicence-77c3b0d2";
/// The host PIN of the Board room (digits: the Management Node takes nothing else).
const PIN: &str = "73194628";
/// The PIN the Board room is changed to.
const NEW_PIN: &str = "58203716";
/// A PIN the Management Node refuses (not digits): the apply that uses it fails.
const BAD_PIN: &str = "CanaryBadPin-9d0c11e4";
/// The Conferencing Nodes' SSH password.
const SSH_PASSWORD: &str = "CanarySshPw-41d2e8f0";

struct Run {
    what: String,
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs pexspec in `dir` with the canary secrets in the environment (`pin` as the PIN).
fn pexspec(dir: &Path, pin: &str, args: &[&str]) -> Run {
    let mut cmd = Command::cargo_bin("pexspec").unwrap();
    cmd.current_dir(dir).args(args);
    for var in common::SECRETS {
        cmd.env_remove(var);
    }
    cmd.env("PEXIP_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("PEXIP_LICENSE_KEY", LICENCE_KEY)
        .env("BOARD_PIN", pin)
        .env("PEXCONF_SSH_PASSWORD", SSH_PASSWORD);
    let output = cmd.output().unwrap();
    Run {
        what: format!("pexspec {} (BOARD_PIN={pin})", args.join(" ")),
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The canaries: every secret value, and each line of the private key's PEM body.
fn canaries(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = [
        ADMIN_PASSWORD,
        LICENCE_KEY,
        PIN,
        NEW_PIN,
        BAD_PIN,
        SSH_PASSWORD,
    ]
    .map(str::to_owned)
    .to_vec();
    let key = std::fs::read_to_string(dir.join("specs/certs/conferencing.key")).unwrap();
    let body: Vec<String> = key
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("-----") && l.len() >= 16)
        .map(str::to_owned)
        .collect();
    assert!(body.len() > 10, "the key has a PEM body: {key}");
    out.extend(body);
    out
}

/// The canaries found in `bytes`.
fn found_in(bytes: &[u8], canaries: &[String]) -> Vec<String> {
    canaries
        .iter()
        .filter(|c| bytes.windows(c.len()).any(|w| w == c.as_bytes()))
        .cloned()
        .collect()
}

/// Files the simulators keep that hold secrets legitimately: the simulated Management Node's
/// database (`.pexspec/sim/pexip/<name>/pexip.db`, its WAL and shared memory). A real
/// Management Node stores its configuration: the licence it activated, each conference's
/// PIN (its API returns them), the TLS certificates' private keys. The simulator stores the
/// same, or it would not be one. Its admin password and the nodes' SSH password are not in
/// it in clear (a hash, as on a real Management Node): the canary still looks for them
/// there. Everything else under `.pexspec/` is pexspec's (the journal, the lock) or the
/// simulated cloud's (OCI holds no secret of the platform) and must be clean.
fn may_hold_secrets(state: &Path, path: &Path) -> bool {
    let Ok(rel) = path.strip_prefix(state) else {
        return false;
    };
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    matches!(parts.as_slice(), [sim, pexip, _, file]
        if sim == "sim" && pexip == "pexip" && file.starts_with("pexip.db"))
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Every place a canary may not be: each run's output, the saved plans, the files under
/// `.pexspec/` (except [`may_hold_secrets`]). Returns how many files were searched.
fn assert_clean(dir: &Path, runs: &[Run], extra_files: &[&str]) -> usize {
    let canaries = canaries(dir);
    let mut leaks = Vec::new();
    for run in runs {
        for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            let found = found_in(text.as_bytes(), &canaries);
            if !found.is_empty() {
                leaks.push(format!("{} {stream}: {found:?}", run.what));
            }
        }
    }
    let state = dir.join("specs/.pexspec");
    let mut files: Vec<PathBuf> = extra_files.iter().map(|f| dir.join(f)).collect();
    files_under(&state, &mut files);
    let mut searched = 0;
    for file in &files {
        if may_hold_secrets(&state, file) {
            continue;
        }
        let bytes = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        searched += 1;
        let found = found_in(&bytes, &canaries);
        if !found.is_empty() {
            leaks.push(format!("{}: {found:?}", file.display()));
        }
    }
    assert!(leaks.is_empty(), "secrets in clear:\n{}", leaks.join("\n"));
    searched
}

fn sim<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut all = args.to_vec();
    all.extend(["--sim", "--sim-speed", SPEED]);
    all
}

fn expect(run: Run, code: i32) -> Run {
    assert_eq!(
        run.code, code,
        "{}:\n{}\n{}",
        run.what, run.stdout, run.stderr
    );
    run
}

#[test]
fn no_secret_shows_in_any_output_file_or_journal() {
    let site = common::site();
    let dir = site.path();
    // Offline.
    let mut runs = vec![
        expect(pexspec(dir, PIN, &["lint", SPEC]), 0),
        expect(pexspec(dir, PIN, &["lint", SPEC, "--format", "json"]), 0),
        expect(pexspec(dir, PIN, &["--debug", "lint", SPEC]), 0),
    ];

    // Plans.
    runs.push(expect(pexspec(dir, PIN, &sim(&["plan", SPEC])), 0));
    let run = expect(
        pexspec(
            dir,
            PIN,
            &sim(&["plan", SPEC, "--format", "json", "--out", "plan.json"]),
        ),
        0,
    );
    runs.push(run);
    let run = expect(pexspec(dir, PIN, &sim(&["--debug", "plan", SPEC])), 0);
    assert!(run.stderr.contains("debug: World"), "{}", run.stderr);
    assert!(
        run.stderr.contains(r#"{"$secret":"env:BOARD_PIN"}"#),
        "--debug shows the desired states, secrets as references:\n{}",
        run.stderr
    );
    runs.push(run);

    // The platform, built with plain progress.
    let apply = ["apply", SPEC, "--auto-approve"];
    runs.push(expect(
        pexspec(
            dir,
            PIN,
            &sim(&[&apply[..], &["--output", "plain"]].concat()),
        ),
        0,
    ));

    // The PIN changed: the plan says so without either value.
    let run = expect(
        pexspec(dir, NEW_PIN, &sim(&["plan", SPEC, "--detailed-exitcode"])),
        2,
    );
    assert!(
        run.stdout.contains("conference[Board room]"),
        "{}",
        run.stdout
    );
    runs.push(run);
    runs.push(expect(
        pexspec(
            dir,
            NEW_PIN,
            &sim(&["--debug", "plan", SPEC, "--format", "json"]),
        ),
        0,
    ));

    // A PIN the Management Node refuses: the update fails, naming no value.
    let run = expect(
        pexspec(
            dir,
            BAD_PIN,
            &sim(&[&["--debug"], &apply[..], &["--output", "plain"]].concat()),
        ),
        1,
    );
    assert!(
        run.stderr.contains("✗ conference[Board room]"),
        "the Board room's update fails:\n{}",
        run.stderr
    );
    runs.push(run);

    // The new PIN, with JSON progress and every event in Debug form.
    let run = expect(
        pexspec(
            dir,
            NEW_PIN,
            &sim(&[&["--debug"], &apply[..], &["--output", "json"]].concat()),
        ),
        0,
    );
    assert!(run.stderr.contains("debug: StepFinished"), "{}", run.stderr);
    assert!(
        run.stdout.contains(r#""event":"retries""#),
        "{}",
        run.stdout
    );
    runs.push(run);

    // With `--sim` and every variable set, no stand-in is written.
    assert!(!dir.join("specs/.pexspec/sim/secrets.json").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for file in ["journal.db", "journal.key"] {
            let mode = std::fs::metadata(dir.join("specs/.pexspec").join(file))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{file}: {mode:o}");
        }
    }
    // The simulated Management Node does hold the PIN, as a real one does: the canary would
    // find a leak there, it is excluded knowingly.
    let db = dir.join("specs/.pexspec/sim/pexip/pexmgr/pexip.db");
    let held = found_in(&std::fs::read(&db).unwrap(), &canaries(dir));
    assert!(held.iter().any(|c| c == NEW_PIN), "{held:?}");
    assert!(!held.iter().any(|c| c == ADMIN_PASSWORD), "{held:?}");
    assert!(!held.iter().any(|c| c == SSH_PASSWORD), "{held:?}");

    // Everything gone.
    let destroy = ["destroy", SPEC, "--auto-approve"];
    runs.push(expect(
        pexspec(
            dir,
            NEW_PIN,
            &sim(&[&["--debug"], &destroy[..], &["--output", "json"]].concat()),
        ),
        0,
    ));
    runs.push(expect(
        pexspec(
            dir,
            NEW_PIN,
            &sim(&[&destroy[..], &["--output", "plain"]].concat()),
        ),
        0,
    ));

    let searched = assert_clean(dir, &runs, &["plan.json"]);
    // The journal and the simulated cloud were searched, not only the outputs.
    assert!(searched >= 5, "{searched} files searched");
}

#[test]
fn a_secret_written_in_clear_is_refused_and_never_printed() {
    let site = common::site();
    let dir = site.path();
    let spec = dir.join(SPEC);
    let text = std::fs::read_to_string(&spec).unwrap();
    let literal = "admin_password: \"CanaryAdminPw-5e1f9a3c\"";
    let text = text.replace("admin_password: { env: PEXIP_ADMIN_PASSWORD }", literal);
    assert!(text.contains(literal));
    std::fs::write(&spec, text).unwrap();

    let mut runs = Vec::new();
    for format in ["human", "json", "sarif", "github"] {
        let run = expect(pexspec(dir, PIN, &["lint", SPEC, "--format", format]), 1);
        assert!(
            run.stdout.contains("secret-inline"),
            "lint --format {format} names the finding:\n{}",
            run.stdout
        );
        runs.push(run);
    }
    runs.push(expect(pexspec(dir, PIN, &["--debug", "lint", SPEC]), 1));
    runs.push(expect(
        pexspec(dir, PIN, &sim(&["--debug", "plan", SPEC])),
        1,
    ));
    runs.push(expect(
        pexspec(dir, PIN, &sim(&["apply", SPEC, "--auto-approve"])),
        1,
    ));
    assert_clean(dir, &runs, &[]);
}
