//! No input makes loading or checking panic: random bytes, and the example specs mutated at
//! random (lines deleted, duplicated, swapped, characters replaced, values swapped for
//! tricky scalars). Every outcome is a list of diagnostics, each with a span inside the file.

use std::path::PathBuf;

use pexspec_check::{Mode, check};
use pexspec_spec::load;
use proptest::prelude::*;

const SPECS: [&str; 4] = [
    include_str!("../../../specs/quickstart.yaml"),
    include_str!("../../../specs/zurich-frankfurt.yaml"),
    include_str!("../../../specs/private.yaml"),
    include_str!("../../../specs/hybrid.yaml"),
];

const TRICKY: &[&str] = &[
    "",
    "~",
    "null",
    "[]",
    "{}",
    "0",
    "-1",
    "1e309",
    ".nan",
    "yes",
    "\"\"",
    "*nope",
    "&a",
    "!!binary x",
    "10.0.0.0/33",
    "10.0.0.256/8",
    "::/0",
    "0.0.0.0/0",
    "999999999999999999999999",
    "\"\\u0000\"",
    "- x",
    "a: b",
    "{env: }",
    "{file: ../../../../etc/passwd}",
    "\"é漢🦀\"",
    "[[[[[[]]]]]]",
];

fn check_text(text: &str) {
    let loaded = load("fuzz.yaml", text, PathBuf::from("/nonexistent"));
    for mode in [Mode::Lint, Mode::Plan] {
        for d in check(&loaded, mode) {
            if let Some(label) = d.primary() {
                assert!(label.span.end <= text.len(), "span past the end: {d:?}");
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Edit {
    Delete(usize),
    Duplicate(usize),
    Swap(usize, usize),
    ReplaceValue(usize, usize),
    Char(usize, char),
    Indent(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<usize>().prop_map(Edit::Delete),
        any::<usize>().prop_map(Edit::Duplicate),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::Swap(a, b)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::ReplaceValue(a, b)),
        (any::<usize>(), any::<char>()).prop_map(|(a, c)| Edit::Char(a, c)),
        any::<usize>().prop_map(Edit::Indent),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    for e in edits {
        if lines.is_empty() {
            break;
        }
        let n = lines.len();
        match e {
            Edit::Delete(i) => {
                lines.remove(i % n);
            }
            Edit::Duplicate(i) => {
                let l = lines[i % n].clone();
                lines.insert(i % n, l);
            }
            Edit::Swap(a, b) => lines.swap(a % n, b % n),
            Edit::ReplaceValue(i, v) => {
                let line = &mut lines[i % n];
                if let Some(colon) = line.find(": ") {
                    line.truncate(colon + 2);
                    line.push_str(TRICKY[v % TRICKY.len()]);
                }
            }
            Edit::Char(i, c) => {
                let line = &mut lines[i % n];
                if !line.is_empty() {
                    let at = line
                        .char_indices()
                        .nth(i % line.chars().count())
                        .map_or(0, |(b, _)| b);
                    line.insert(at, *c);
                }
            }
            Edit::Indent(i) => lines[i % n].insert_str(0, "  "),
        }
    }
    lines.join("\n")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        check_text(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn mutated_specs_never_panic(which in 0..SPECS.len(), edits in proptest::collection::vec(edit(), 1..8)) {
        check_text(&apply(SPECS[which], &edits));
    }
}
