//! Every YAML block in the book is valid YAML, and every block that is a whole spec (it
//! starts with `version: 1`, after comments) loads and lints clean, its paths resolving
//! against `specs/`. Checked here so that the book never shows a spec pexspec would refuse.

use std::path::{Path, PathBuf};

use pexspec_check::{Mode, check};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn markdown_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir)
        .expect("book/src is readable")
        .flatten()
    {
        let path = entry.path();
        if path.is_dir() {
            markdown_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
}

/// The ```yaml blocks of a Markdown text, with the line each starts on.
fn yaml_blocks(text: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        match &mut current {
            None if trimmed.starts_with("```yaml") || trimmed.starts_with("```yml") => {
                current = Some((n + 1, String::new()));
            }
            Some(_) if trimmed.starts_with("```") => blocks.extend(current.take()),
            Some((_, block)) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    blocks
}

#[test]
fn yaml_blocks_in_the_book_are_valid_and_whole_specs_lint_clean() {
    let mut files = Vec::new();
    markdown_files(&root().join("book/src"), &mut files);
    files.sort();
    let (mut blocks_seen, mut specs_seen) = (0, 0);
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (line, block) in yaml_blocks(&text) {
            blocks_seen += 1;
            let place = format!("{}:{line}", file.display());
            serde_saphyr::from_str::<serde_json::Value>(&block)
                .unwrap_or_else(|e| panic!("{place}: not valid YAML: {e}"));
            let first = block
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty() && !l.starts_with('#'));
            if first != Some("version: 1") {
                continue;
            }
            specs_seen += 1;
            let loaded = pexspec_spec::load(&place, &block, root().join("specs"));
            let findings: Vec<String> = check(&loaded, Mode::Lint)
                .iter()
                .map(|d| format!("{}: {}", d.code(), d.message()))
                .collect();
            assert!(
                findings.is_empty(),
                "{place}: the spec in the book is not clean: {findings:#?}"
            );
        }
    }
    assert!(
        blocks_seen > 20,
        "only {blocks_seen} YAML blocks found in the book"
    );
    assert!(specs_seen >= 1, "no whole spec found in the book");
}

/// The subcommands the binary ships, read from its own `--help`.
fn shipped_commands() -> Vec<String> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pexspec"))
        .arg("--help")
        .output()
        .expect("pexspec --help runs");
    let help = String::from_utf8(out.stdout).expect("help is UTF-8");
    let mut commands = Vec::new();
    let mut in_commands = false;
    for line in help.lines() {
        if line.starts_with("Commands:") {
            in_commands = true;
        } else if in_commands && !line.starts_with("  ") {
            break;
        } else if in_commands
            && let Some(name) = line.split_whitespace().next()
            && name != "help"
        {
            commands.push(name.to_owned());
        }
    }
    commands
}

#[test]
fn no_page_says_a_shipped_command_is_still_to_come() {
    const NOT_YET: &[&str] = &[
        "coming in a later release",
        "in a later release",
        "later releases",
        "does not run yet",
        "not yet implemented",
        "not yet available",
        "coming soon",
    ];
    let commands = shipped_commands();
    for expected in ["lint", "plan", "apply", "destroy", "node", "graph", "sim"] {
        assert!(
            commands.iter().any(|c| c == expected),
            "`pexspec --help` does not list `{expected}`: {commands:?}"
        );
    }
    let mut files = Vec::new();
    markdown_files(&root().join("book/src"), &mut files);
    files.sort();
    let mut stale = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        // A paragraph or a table row is the unit: a claim and the command it is about stand
        // in one of them.
        for (n, paragraph) in text.split("\n\n").enumerate() {
            for unit in paragraph.split("\n|") {
                let lower = unit.to_lowercase();
                if NOT_YET.iter().any(|p| lower.contains(p)) {
                    stale.push(format!(
                        "{} (paragraph {}): {}",
                        file.display(),
                        n + 1,
                        unit.trim()
                    ));
                }
            }
        }
    }
    assert!(
        stale.is_empty(),
        "book pages call something shipped unavailable: {stale:#?}"
    );
}
