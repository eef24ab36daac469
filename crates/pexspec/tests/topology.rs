//! `pexspec graph --format html`: the topology page loads in headless Chromium with no
//! console error, its script runs, and a screenshot is taken: of the guide's two regions with
//! a plan, and of 50 regions and 2,000 nodes (bench/gen_spec.py's scale 1).
//!
//! Chromium is found through `PEXSPEC_CHROMIUM` or as `chromium` on `PATH` (Debian's package,
//! which `.ci/run` installs). Without it the test fails when `CI` is set and is skipped
//! otherwise. Screenshots are written to `target/topology/`.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PEXSPEC_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|n| dir.join(n)))
        .find(|p| p.is_file())
}

fn pexspec(args: &[&str], dir: &Path) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pexspec"));
    for secret in common::SECRETS {
        command.env_remove(secret);
    }
    command
        .args(args)
        .current_dir(dir)
        .output()
        .expect("pexspec runs")
}

/// Loads `page` in headless Chromium: the DOM after its script ran, and what the browser
/// logged. Also writes a screenshot to `png`.
fn load(browser: &Path, page: &Path, png: &Path, profile: &Path) -> (String, String) {
    let url = format!("file://{}", page.display());
    // The flags the workplace's Chromium needs to start headless as root and stay off the
    // network: no sandbox, no GPU, no background or component traffic.
    let common = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        "--v=0",
    ];
    let dom = Command::new(browser)
        .args(common)
        .arg(format!("--user-data-dir={}", profile.join("dom").display()))
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .expect("chromium runs");
    let shot = Command::new(browser)
        .args(common)
        .arg(format!(
            "--user-data-dir={}",
            profile.join("shot").display()
        ))
        .arg("--window-size=1400,1100")
        .arg(format!("--screenshot={}", png.display()))
        .arg(&url)
        .output()
        .expect("chromium runs");
    assert!(
        shot.status.success(),
        "screenshot failed: {}",
        String::from_utf8_lossy(&shot.stderr)
    );
    let mut log = String::from_utf8_lossy(&dom.stderr).into_owned();
    log.push_str(&String::from_utf8_lossy(&shot.stderr));
    (String::from_utf8_lossy(&dom.stdout).into_owned(), log)
}

/// The console messages Chromium logged (`CONSOLE(line)] "…"` lines) and uncaught errors.
fn console_errors(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
        .collect()
}

#[test]
fn the_topology_page_loads_in_chromium_without_errors() {
    let Some(browser) = chromium() else {
        let msg = "Chromium was not found: set PEXSPEC_CHROMIUM or install Debian's `chromium`";
        assert!(std::env::var_os("CI").is_none(), "{msg}");
        eprintln!("skipped: {msg}");
        return;
    };
    let work = common::site();
    let dir = work.path();
    let shots = common::root().join("target/topology");
    std::fs::create_dir_all(&shots).unwrap();

    // The guide's two regions, with a plan against an empty simulated cloud.
    let plan = pexspec(
        &[
            "plan",
            "specs/zurich-frankfurt.yaml",
            "--sim",
            "--out",
            "plan.json",
        ],
        dir,
    );
    assert!(
        plan.status.success(),
        "{}",
        String::from_utf8_lossy(&plan.stderr)
    );
    let html = pexspec(
        &[
            "graph",
            "specs/zurich-frankfurt.yaml",
            "--format",
            "html",
            "--plan",
            "plan.json",
        ],
        dir,
    );
    assert!(
        html.status.success(),
        "{}",
        String::from_utf8_lossy(&html.stderr)
    );
    let page = dir.join("two-regions.html");
    std::fs::write(&page, &html.stdout).unwrap();
    let (dom, log) = load(
        &browser,
        &page,
        &shots.join("two-regions.png"),
        &dir.join("profile"),
    );
    assert!(
        dom.contains("data-ready=\"1\""),
        "the page's script did not run: {log}"
    );
    assert!(
        dom.contains("badge create"),
        "the plan's creates are not shown"
    );
    assert!(
        console_errors(&log).is_empty(),
        "console: {:#?}",
        console_errors(&log)
    );
    assert!(shots.join("two-regions.png").metadata().unwrap().len() > 10_000);

    // 50 regions, 2,000 nodes: every region and node is on the page, collapsed.
    let big = dir.join("big.yaml");
    let gen_out = Command::new("python3")
        .arg(common::root().join("bench/gen_spec.py"))
        .arg(&big)
        .output()
        .expect("python3 runs");
    assert!(
        gen_out.status.success(),
        "{}",
        String::from_utf8_lossy(&gen_out.stderr)
    );
    let html = pexspec(&["graph", "big.yaml", "--format", "html"], dir);
    assert!(
        html.status.success(),
        "{}",
        String::from_utf8_lossy(&html.stderr)
    );
    let text = String::from_utf8(html.stdout).unwrap();
    assert_eq!(text.matches("<details class=\"region\"").count(), 50);
    assert_eq!(text.matches("<tr class=\"node\"").count(), 2000);
    assert!(!text.contains("<details class=\"region\" data-region=\"eu-frankfurt-1\" open>"));
    let page = dir.join("big.html");
    std::fs::write(&page, &text).unwrap();
    let (dom, log) = load(
        &browser,
        &page,
        &shots.join("fifty-regions.png"),
        &dir.join("profile"),
    );
    assert!(
        dom.contains("data-ready=\"1\""),
        "the page's script did not run: {log}"
    );
    assert!(
        console_errors(&log).is_empty(),
        "console: {:#?}",
        console_errors(&log)
    );
}

#[test]
fn graph_refuses_a_plan_that_is_not_one() {
    let work = common::site();
    let dir = work.path();
    std::fs::write(dir.join("bad.json"), "{\"version\": 1}").unwrap();
    let out = pexspec(
        &[
            "graph",
            "specs/quickstart.yaml",
            "--format",
            "html",
            "--plan",
            "bad.json",
        ],
        dir,
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("has no `changes` list"), "{stderr}");
    let out = pexspec(
        &["graph", "specs/quickstart.yaml", "--plan", "bad.json"],
        dir,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("add `--format html`"));
}
