//! pexspec under misuse (issue 18): concurrent runs in one folder, names and outputs that
//! would become the wrong paths, inputs that are not regular files or never end, values out
//! of range, broken plan and lock files, and the exit codes and formats a script relies on.
//!
//! Every test runs in a private copy of `specs/` (`common::site`). A test that guards
//! against a hang gives the process a generous deadline (`timeout`) only so that a
//! regression fails instead of blocking the suite; nothing asserts how long anything took.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;

/// The deadline of a command that must not hang (a regression fails, never blocks).
const HANG_GUARD: Duration = Duration::from_secs(120);

fn pexspec(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("pexspec").unwrap();
    cmd.current_dir(dir)
        .env_remove("NO_COLOR")
        .timeout(HANG_GUARD);
    for name in common::SECRETS {
        cmd.env_remove(name);
    }
    cmd
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let output = cmd.output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn quickstart(site: &Path) -> PathBuf {
    site.join("specs/quickstart.yaml")
}

/// Every file under `dir`, recursively (symbolic links not followed).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries {
        let entry = entry.unwrap();
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

// Item 4: concurrent `--sim` runs in one folder.

#[test]
fn concurrent_sim_plans_in_one_folder_all_succeed() {
    let site = common::site();
    let children: Vec<_> = (0..4)
        .map(|_| {
            let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("pexspec"));
            cmd.current_dir(site.path())
                .args(["plan", "specs/quickstart.yaml", "--sim", "--color", "never"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            for name in common::SECRETS {
                cmd.env_remove(name);
            }
            cmd.spawn().unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    // Nothing half-done is left: no temporary file in the simulator's state.
    let state = site.path().join("specs/.pexspec/sim");
    let leftovers: Vec<_> = files_under(&state)
        .into_iter()
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.ends_with(".tmp") || name.ends_with(".partial")
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

// Item 6: a name used in a path never leaves its directory.

#[test]
fn a_management_node_name_cannot_write_outside_the_simulators_state() {
    let site = common::site();
    for name in ["../../../evilmgr", "/tmp/pexspec-evilmgr-absolute"] {
        let spec = std::fs::read_to_string(quickstart(site.path()))
            .unwrap()
            .replace("  name: pexmgr\n", &format!("  name: \"{name}\"\n"));
        let path = site.path().join("specs/evil.yaml");
        std::fs::write(&path, spec).unwrap();
        let (code, _, err) = run(pexspec(site.path()).args([
            "plan",
            "specs/evil.yaml",
            "--sim",
            "--color",
            "never",
        ]));
        assert_ne!(code, 0, "{err}");
        let evil = site.path().join("specs/.pexspec/sim/pexip").join(name);
        assert!(!evil.exists(), "{} was created", evil.display());
        assert!(!site.path().join("evilmgr").exists());
        assert!(!Path::new("/tmp/pexspec-evilmgr-absolute").exists());
        // Whatever was written stays in the simulator's state directory.
        for file in files_under(site.path()) {
            let inside = file.starts_with(site.path().join("specs"));
            assert!(inside, "{} written outside specs/", file.display());
        }
    }
}

#[test]
fn sim_serve_refuses_a_management_node_name_that_is_a_path() {
    let site = common::site();
    let (code, _, err) = run(pexspec(site.path()).args([
        "sim",
        "serve",
        "--state",
        "state",
        "--management-node",
        "../escaped",
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--management-node"), "{err}");
    assert!(!site.path().join("escaped").exists());
    assert!(!site.path().join("state").exists(), "nothing is started");
}

// Item 7: `plan --out` never overwrites an input of the run.

#[test]
fn plan_out_refuses_the_files_the_run_reads() {
    let site = common::site();
    let specs = site.path().join("specs");
    #[cfg(unix)]
    std::os::unix::fs::symlink(
        specs.join("certs/conferencing.key"),
        specs.join("link.json"),
    )
    .unwrap();
    let mut outs = vec![
        "specs/quickstart.yaml",
        "./specs/../specs/quickstart.yaml",
        "specs/keys/pexip.pub",
        "specs/certs/conferencing.pem",
        "specs/certs/conferencing.key",
        "specs/.pexspec/journal.db",
    ];
    if cfg!(unix) {
        outs.push("specs/link.json");
    }
    for out in outs {
        let before: Vec<_> = files_under(&specs)
            .into_iter()
            .filter(|p| !p.starts_with(specs.join(".pexspec")))
            .map(|p| (std::fs::read(&p).unwrap(), p))
            .collect();
        let (code, stdout, err) = run(pexspec(site.path()).args([
            "plan",
            "specs/quickstart.yaml",
            "--sim",
            "--color",
            "never",
            "--out",
            out,
        ]));
        assert_eq!(code, 2, "--out {out}: {err}");
        assert!(err.contains("--out"), "{err}");
        assert!(stdout.is_empty(), "refused before planning: {stdout}");
        for (bytes, path) in before {
            assert_eq!(
                std::fs::read(&path).unwrap(),
                bytes,
                "{} changed",
                path.display()
            );
        }
    }
}

// Item 8: only regular files are read, loops are followed once, the budget holds while
// reading.

#[cfg(unix)]
#[test]
fn a_fifo_or_a_device_is_refused_not_read() {
    let site = common::site();
    let fifo = site.path().join("specs/fifo.yaml");
    mkfifo(&fifo);
    for args in [
        vec!["lint", "specs/fifo.yaml"],
        vec!["plan", "specs/fifo.yaml"],
        vec!["lint", "/dev/zero"],
        vec!["plan", "/dev/zero"],
    ] {
        let (code, _, err) = run(pexspec(site.path()).args(&args));
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains("not a regular file"), "{args:?}: {err}");
    }
}

#[cfg(unix)]
#[test]
fn a_folder_with_a_fifo_and_symlink_loops_lints_each_file_once() {
    let site = common::site();
    let specs = site.path().join("specs");
    mkfifo(&specs.join("pipe.yaml"));
    // One loop back to the folder, and two that point at each other's parents.
    std::os::unix::fs::symlink(".", specs.join("again")).unwrap();
    std::fs::create_dir_all(specs.join("a")).unwrap();
    std::fs::create_dir_all(specs.join("b")).unwrap();
    std::os::unix::fs::symlink("../b", specs.join("a/to-b")).unwrap();
    std::os::unix::fs::symlink("../a", specs.join("b/to-a")).unwrap();
    let (code, out, err) = run(pexspec(site.path()).args(["lint", "specs", "--format", "json"]));
    // The FIFO is reported as unreadable (exit 2); every real spec is linted once.
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("pipe.yaml") && err.contains("not a regular file"),
        "{err}"
    );
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let yaml = files_under(&specs)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yaml") && p.is_file())
        .count();
    assert_eq!(report["summary"]["files"], yaml, "{out}");
}

#[test]
fn a_file_over_the_budget_is_refused_as_yaml_budget() {
    let site = common::site();
    let big = site.path().join("specs/big.yaml");
    let file = std::fs::File::create(&big).unwrap();
    // Sparse: 200 MB of zero bytes that take no disk.
    file.set_len(200 * 1024 * 1024).unwrap();
    drop(file);
    let (code, out, err) =
        run(pexspec(site.path()).args(["lint", "specs/big.yaml", "--format", "json"]));
    assert_eq!(code, 1, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["diagnostics"][0]["code"], "yaml-budget", "{out}");
}

// Item 9: `--sim-speed` out of range is a usage error, not a panic.

#[test]
fn a_sim_speed_out_of_range_is_a_usage_error() {
    let site = common::site();
    for speed in ["1e-20", "0", "-1", "NaN", "inf", "1e300", "fast"] {
        for command in ["plan", "apply"] {
            let mut cmd = pexspec(site.path());
            let flag = format!("--sim-speed={speed}");
            cmd.args([command, "specs/quickstart.yaml", "--sim", &flag]);
            if command == "apply" {
                cmd.arg("--auto-approve");
            }
            let (code, _, err) = run(&mut cmd);
            let args = format!("{command} --sim-speed {speed}");
            assert_eq!(code, 2, "{args}: {err}");
            assert!(err.contains("--sim-speed"), "{args}: {err}");
            assert!(!err.contains("panicked"), "{args}: {err}");
        }
    }
    let (code, _, err) =
        run(pexspec(site.path()).args(["sim", "serve", "--state", "s", "--speed", "1e-20"]));
    assert_eq!(code, 2, "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // The range's ends work.
    let (code, _, err) = run(pexspec(site.path()).args([
        "plan",
        "specs/quickstart.yaml",
        "--sim",
        "--sim-speed",
        "0.01",
    ]));
    assert_eq!(code, 0, "{err}");
}

// Item 10: a huge value does not make a huge report.

#[test]
fn a_huge_value_makes_a_small_human_report() {
    let site = common::site();
    let value = "x".repeat(4 * 1024 * 1024);
    let spec = std::fs::read_to_string(quickstart(site.path()))
        .unwrap()
        .replace("hostname: pexmgr", &format!("hostname: {value}"));
    std::fs::write(site.path().join("specs/huge.yaml"), spec).unwrap();
    let (code, out, err) =
        run(pexspec(site.path()).args(["lint", "specs/huge.yaml", "--color", "never"]));
    assert_eq!(code, 1, "{err}");
    assert!(
        out.contains('…'),
        "the value is elided: {}",
        &out[..out.len().min(2000)]
    );
    assert!(out.len() < 64 * 1024, "{} bytes of report", out.len());
}

// Item 17: `--detailed-exitcode` keeps 2 for changes only.

#[test]
fn detailed_exitcode_says_errors_with_one() {
    let site = common::site();
    std::fs::write(site.path().join("faults.json"), "{ not json").unwrap();
    for args in [
        vec!["plan", "specs/missing.yaml", "--detailed-exitcode"],
        vec!["plan", "specs", "--detailed-exitcode"],
        vec![
            "plan",
            "specs/quickstart.yaml",
            "--sim",
            "--sim-faults",
            "faults.json",
            "--detailed-exitcode",
        ],
        vec![
            "plan",
            "specs/quickstart.yaml",
            "--sim",
            "--sim-speed",
            "0",
            "--detailed-exitcode",
        ],
        vec![
            "plan",
            "specs/quickstart.yaml",
            "--detailed-exitcode",
            "--no-such-flag",
        ],
    ] {
        let (code, _, err) = run(pexspec(site.path()).args(&args));
        assert_eq!(code, 1, "{args:?}: {err}");
    }
    // Without the flag, unreadable input stays a usage error.
    let (code, _, _) = run(pexspec(site.path()).args(["plan", "specs/missing.yaml"]));
    assert_eq!(code, 2);
}

// Item 18: an unknown `--lock` scheme is a usage error before anything else.

#[test]
fn a_lock_url_of_an_unknown_scheme_is_a_usage_error() {
    let site = common::site();
    for args in [
        vec![
            "apply",
            "specs/quickstart.yaml",
            "--auto-approve",
            "--lock",
            "s3://bucket/lock",
        ],
        vec![
            "apply",
            "specs/quickstart.yaml",
            "--sim",
            "--auto-approve",
            "--lock",
            "ftp://b/o",
        ],
        vec![
            "destroy",
            "specs/quickstart.yaml",
            "--sim",
            "--auto-approve",
            "--lock",
            "bucket/lock",
        ],
        vec![
            "force-unlock",
            "specs/quickstart.yaml",
            "--yes",
            "--lock",
            "gs://b/o",
        ],
        vec![
            "node",
            "stop",
            "specs/quickstart.yaml",
            "pexconf01",
            "--lock",
            "x://b/o",
        ],
    ] {
        let (code, _, err) = run(pexspec(site.path())
            // An OCI configuration that would fail if it were read.
            .env(
                "OCI_CLI_CONFIG_FILE",
                site.path().join("no-such-oci-config"),
            )
            .args(&args));
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains("--lock"), "{args:?}: {err}");
        assert!(!err.contains("no-such-oci-config"), "{args:?}: {err}");
        assert!(
            !site.path().join("specs/.pexspec").exists(),
            "{args:?}: nothing is started"
        );
    }
}

// Item 19: a broken or edited plan file is refused.

fn saved_plan(site: &Path) -> (PathBuf, serde_json::Value) {
    let path = site.join("plan.json");
    let (code, _, err) = run(pexspec(site).args([
        "plan",
        "specs/quickstart.yaml",
        "--sim",
        "--out",
        "plan.json",
    ]));
    assert_eq!(code, 0, "{err}");
    let value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    (path, value)
}

fn apply_plan(site: &Path) -> (i32, String, String) {
    run(pexspec(site).args([
        "apply",
        "plan.json",
        "--sim",
        "--auto-approve",
        "--color",
        "never",
    ]))
}

#[test]
fn a_broken_plan_file_is_refused() {
    let site = common::site();
    let (path, plan) = saved_plan(site.path());
    assert!(plan["checksum"].is_string(), "{plan}");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut broken: Vec<(&str, String)> = vec![
        ("truncated", text[..text.len() / 2].to_owned()),
        ("empty object", "{}".to_owned()),
        ("empty", String::new()),
    ];
    let mut newer = plan.clone();
    newer["version"] = 99.into();
    broken.push(("newer version", newer.to_string()));
    let mut edited = plan.clone();
    edited["changes"].as_array_mut().unwrap().truncate(3);
    broken.push((
        "changes removed by hand",
        serde_json::to_string_pretty(&edited).unwrap(),
    ));
    let mut unsummed = edited.clone();
    unsummed.as_object_mut().unwrap().remove("checksum");
    broken.push(("checksum removed", unsummed.to_string()));
    for (what, text) in broken {
        std::fs::write(&path, &text).unwrap();
        let (code, out, err) = apply_plan(site.path());
        assert_eq!(code, 2, "{what}: {err}");
        assert!(err.contains("plan.json"), "{what}: {err}");
        assert!(
            err.contains("plan file") && err.contains("broken"),
            "{what}: {err}"
        );
        assert!(
            out.is_empty(),
            "{what}: nothing is planned or applied: {out}"
        );
    }
    // Nothing was created.
    let (code, out, _) = run(pexspec(site.path()).args([
        "plan",
        "specs/quickstart.yaml",
        "--sim",
        "--format",
        "json",
    ]));
    assert_eq!(code, 0);
    let fresh: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(fresh["summary"]["noop"], 0, "{out}");
}

#[test]
fn a_plan_whose_changes_its_spec_does_not_give_is_refused() {
    use sha2::Digest;
    let site = common::site();
    let (path, plan) = saved_plan(site.path());
    // Changes removed and an action changed, with the checksum made again (by someone who
    // read the book's plan page): the file reads well, but it is not its spec's plan.
    for edit in [
        |p: &mut serde_json::Value| p["changes"].as_array_mut().unwrap().truncate(3),
        |p: &mut serde_json::Value| p["changes"][0]["action"] = "noop".into(),
    ] {
        let mut edited = plan.clone();
        edited.as_object_mut().unwrap().remove("checksum");
        edit(&mut edited);
        let digest = sha2::Sha256::digest(edited.to_string().as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        edited["checksum"] = format!("sha256:{hex}").into();
        std::fs::write(&path, serde_json::to_string_pretty(&edited).unwrap()).unwrap();
        let (code, _, err) = apply_plan(site.path());
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("does not match its spec"), "{err}");
    }
    // Nothing was created.
    let (_, out, _) = run(pexspec(site.path()).args([
        "plan",
        "specs/quickstart.yaml",
        "--sim",
        "--format",
        "json",
    ]));
    let fresh: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(fresh["summary"]["noop"], 0, "{out}");
}

// Item 20: `force-unlock` removes a lock it cannot read.

#[test]
fn force_unlock_removes_an_unreadable_lock_after_showing_it() {
    let site = common::site();
    let lock = site.path().join("specs/.pexspec/lock");
    for content in ["garbage \u{1b}[31m not json", "", "{\"who\":1}"] {
        std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
        std::fs::write(&lock, content).unwrap();
        let (code, _, err) =
            run(pexspec(site.path()).args(["force-unlock", "specs/quickstart.yaml", "--yes"]));
        assert_eq!(code, 0, "{content:?}: {err}");
        assert!(!lock.exists(), "{content:?}: the lock is removed");
        assert!(err.contains("does not say who holds it"), "{err}");
        assert!(
            !err.contains('\u{1b}'),
            "the content is shown escaped: {err}"
        );
        if !content.is_empty() {
            assert!(err.contains("garbage") || err.contains("who"), "{err}");
        }
    }
}

// Item 21: findings as JSON on standard output.

#[test]
fn plan_and_apply_in_json_print_findings_as_json() {
    let site = common::site();
    let spec = std::fs::read_to_string(quickstart(site.path()))
        .unwrap()
        .replace("vcn_cidr: 10.0.0.0/16", "vcn_cidr: 10.0.0.0/33");
    std::fs::write(site.path().join("specs/bad.yaml"), spec).unwrap();
    for args in [
        vec!["plan", "specs/bad.yaml", "--sim", "--format", "json"],
        vec![
            "apply",
            "specs/bad.yaml",
            "--sim",
            "--auto-approve",
            "--output",
            "json",
        ],
    ] {
        let (code, out, err) = run(pexspec(site.path()).args(&args));
        assert_eq!(code, 1, "{args:?}: {err}");
        let line = out.lines().next().unwrap_or_default();
        let report: serde_json::Value =
            serde_json::from_str(if args[0] == "plan" { &out } else { line })
                .unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"));
        assert!(report["summary"]["errors"].as_u64() >= Some(1), "{out}");
        assert_eq!(report["diagnostics"][0]["file"], "specs/bad.yaml", "{out}");
        assert!(!err.contains("×"), "no human report besides: {err}");
    }
}

// Item 22: a corrupt journal gets advice.

#[test]
fn a_corrupt_journal_says_what_is_lost_and_how_to_move_it_aside() {
    let site = common::site();
    let state = site.path().join("specs/.pexspec");
    std::fs::create_dir_all(&state).unwrap();
    // A database header, then garbage: SQLite finds it malformed.
    let mut bytes = b"SQLite format 3\0".to_vec();
    bytes.extend((0..8192u32).map(|i| (i * 7 % 251) as u8));
    std::fs::write(state.join("journal.db"), bytes).unwrap();
    let (code, _, err) = run(pexspec(site.path()).args([
        "apply",
        "specs/quickstart.yaml",
        "--sim",
        "--auto-approve",
        "--color",
        "never",
    ]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("journal.db"), "{err}");
    assert!(err.contains("mv "), "how to move it aside: {err}");
    assert!(
        err.contains("tags"),
        "the next apply finds the cloud by its tags: {err}"
    );
    assert!(err.contains("lost"), "what is lost: {err}");
}
