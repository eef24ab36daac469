//! The IAM policy of the book's "Before your first real apply" page grants every operation the
//! OCI client can send.
//!
//! Why the enumeration cannot miss one: `Request::new` (the only constructor of a request,
//! and `client.rs` the only place that sends one) takes a `permissions::Operation`, whose
//! variants are generated from the permissions table, so an operation with no entry does not
//! compile. This test adds the two checks the compiler cannot make: no request is built or
//! renamed around `Request::new`, and no entry is stale (each is sent by some operation of
//! `src/ops/`), so the policy asks for nothing pexspec does not use.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use pexspec_oci::permissions::{
    FAMILIES, IAM, OBJECT_STORAGE, Operation, Requirement, Scope, Verb, resource_covers,
};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn sources() -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    rust_files(&crate_dir().join("src"), &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p, text)
        })
        .collect()
}

/// The operations `text` names: the identifiers written after `Operation::`, and those that
/// `crud!` invocations of `ops/network.rs` pass bare (`get_vcn = GetVcn,`).
fn operation_refs(text: &str) -> BTreeSet<String> {
    let ident = |rest: &str| -> (String, Option<char>) {
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let next = rest[name.len()..].chars().next();
        (name, next)
    };
    let qualified = text
        .match_indices("Operation::")
        .map(|(i, m)| ident(&text[i + m.len()..]).0);
    let bare = text
        .match_indices("= ")
        .map(|(i, m)| ident(&text[i + m.len()..]))
        .filter(|(_, next)| matches!(next, Some(',' | ')' | '\n')))
        .map(|(name, _)| name);
    qualified
        .chain(bare)
        .filter(|name| name.chars().next().is_some_and(|c| c.is_ascii_uppercase()))
        .collect()
}

#[test]
fn every_request_is_built_from_an_operation() {
    for (path, text) in sources() {
        let name = path
            .strip_prefix(crate_dir())
            .unwrap()
            .display()
            .to_string();
        // A struct literal would bypass `Request::new` and its `Operation` (the definition,
        // its `impl` and functions returning a `Request` are not literals).
        for (i, _) in text.match_indices("Request {") {
            let whole_word = !text[..i]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
            let line = text[..i].rsplit('\n').next().unwrap_or_default().trim();
            assert!(
                !whole_word
                    || line.starts_with("pub(crate) struct")
                    || line.starts_with("impl")
                    || line.ends_with("->"),
                "{name}: a `Request` built without `Request::new`: `{line}`"
            );
        }
        assert!(
            !text.contains(".op = "),
            "{name}: a request's operation name is overwritten"
        );
    }
}

#[test]
fn every_entry_is_sent_by_an_operation_of_the_client() {
    let mut sent = BTreeSet::new();
    let ops = crate_dir().join("src/ops");
    for (path, text) in sources() {
        if path.starts_with(&ops) {
            sent.extend(operation_refs(&text));
        }
    }
    let table: BTreeSet<String> = Operation::ALL.iter().map(|o| o.name().to_owned()).collect();
    let stale: Vec<_> = table.difference(&sent).collect();
    assert!(
        stale.is_empty(),
        "table entries no request uses (they widen the policy for nothing): {stale:?}"
    );
    let unknown: Vec<_> = sent.difference(&table).collect();
    assert!(unknown.is_empty(), "operations with no entry: {unknown:?}");
    // The scan sees what the compiler sees: the sources name 90-odd operations.
    assert!(sent.len() >= 90, "only {} operations found", sent.len());
}

#[test]
fn every_entry_names_its_source_and_a_known_resource_type() {
    let mut names = BTreeSet::new();
    let standalone = ["compartments", "tenancies"];
    for op in Operation::ALL {
        assert!(names.insert(op.name()), "`{op}` appears twice");
        assert!(
            op.source()
                .starts_with("https://docs.oracle.com/en-us/iaas/Content/Identity/"),
            "`{op}`: {} is not OCI's policy reference",
            op.source()
        );
        for r in op.requirements() {
            let known = standalone.contains(&r.resource)
                || FAMILIES
                    .iter()
                    .any(|(_, members, _)| members.contains(&r.resource));
            assert!(known, "`{op}` needs `{r}`, a resource type of no family");
        }
        if op.requirements().is_empty() {
            assert_eq!(op, &Operation::GetNamespace, "`{op}` needs nothing?");
        }
        if let Some(note) = op.unverified() {
            assert!(!note.is_empty());
        }
    }
    // Spot checks against the reference's rows.
    let needs = |op: Operation| op.requirements().to_vec();
    assert!(needs(Operation::LaunchInstance).contains(&Requirement {
        verb: Verb::Manage,
        resource: "instances"
    }));
    assert_eq!(
        needs(Operation::ListBuckets),
        vec![Requirement {
            verb: Verb::Inspect,
            resource: "buckets"
        }]
    );
    assert_eq!(Operation::ListBuckets.source(), OBJECT_STORAGE);
    assert_eq!(Operation::ListAvailabilityDomains.source(), IAM);
    assert_eq!(Operation::ListAvailabilityDomains.scope(), Scope::Tenancy);
}

/// One statement: `Allow group G to <verb> <resource> in tenancy|compartment C`.
#[derive(Debug, Clone, PartialEq)]
struct Statement {
    verb: Verb,
    resource: String,
    tenancy: bool,
}

impl Statement {
    fn parse(line: &str) -> Result<Statement, String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let bad = || format!("not a policy statement pexspec's test reads: `{line}`");
        match words.as_slice() {
            ["Allow", "group", _, "to", verb, resource, "in", rest @ ..] => {
                let verb = Verb::parse(verb).ok_or_else(bad)?;
                let tenancy = match rest {
                    ["tenancy"] => true,
                    ["compartment", _] => false,
                    _ => return Err(bad()),
                };
                Ok(Statement {
                    verb,
                    resource: (*resource).to_owned(),
                    tenancy,
                })
            }
            _ => Err(bad()),
        }
    }

    fn grants(&self, scope: Scope, r: &Requirement) -> bool {
        (self.tenancy || scope == Scope::Compartment)
            && self.verb >= r.verb
            && resource_covers(&self.resource, r.resource)
    }
}

/// The statements of the page's ```text block that holds `Allow` lines.
fn book_policy() -> Vec<Statement> {
    let path = crate_dir().join("../../book/src/first-real-run.md");
    let page = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut blocks = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in page.lines() {
        match (&mut current, line.trim()) {
            (None, "```text") => current = Some(Vec::new()),
            (Some(_), "```") => blocks.push(current.take().unwrap()),
            (Some(lines), l) => lines.push(l),
            (None, _) => {}
        }
    }
    let policy: Vec<_> = blocks
        .into_iter()
        .filter(|b| b.iter().any(|l| l.starts_with("Allow ")))
        .collect();
    assert_eq!(
        policy.len(),
        1,
        "the page has one ```text block of `Allow` statements"
    );
    policy[0]
        .iter()
        .filter(|l| !l.is_empty())
        .map(|l| Statement::parse(l).unwrap())
        .collect()
}

/// The requirements `policy` does not grant, as `Operation: requirement`.
fn uncovered(policy: &[Statement]) -> Vec<String> {
    let mut missing = Vec::new();
    for op in Operation::ALL {
        for r in op.requirements() {
            if !policy.iter().any(|s| s.grants(op.scope(), r)) {
                missing.push(format!("{op}: {r}"));
            }
        }
    }
    missing
}

#[test]
fn the_book_policy_grants_every_operation() {
    let policy = book_policy();
    let missing = uncovered(&policy);
    assert!(
        missing.is_empty(),
        "the policy on book/src/first-real-run.md does not grant:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_book_policy_is_minimal() {
    let policy = book_policy();
    for (i, s) in policy.iter().enumerate() {
        // Without the statement, something is not granted.
        let mut without = policy.clone();
        without.remove(i);
        assert!(
            !uncovered(&without).is_empty(),
            "`{} {}` is not needed",
            s.verb,
            s.resource
        );
        // With a weaker verb, something is not granted.
        if let Some(weaker) = Verb::ALL.into_iter().rev().find(|v| *v < s.verb) {
            let mut weakened = policy.clone();
            weakened[i].verb = weaker;
            assert!(
                !uncovered(&weakened).is_empty(),
                "`{} {}` would do instead of `{}`",
                weaker,
                s.resource,
                s.verb
            );
        }
        // Granted on the compartment instead of the tenancy, something is not granted.
        if s.tenancy {
            let mut narrowed = policy.clone();
            narrowed[i].tenancy = false;
            assert!(
                !uncovered(&narrowed).is_empty(),
                "`{} {}` need not be granted in the tenancy",
                s.verb,
                s.resource
            );
        }
    }
}

#[test]
fn the_checker_refuses_a_short_policy() {
    let parse = |lines: &[&str]| -> Vec<Statement> {
        lines.iter().map(|l| Statement::parse(l).unwrap()).collect()
    };
    // `use instance-family` does not launch an instance (LaunchInstance needs `manage
    // instances`), and `manage instances` alone does not read the image.
    let short = parse(&[
        "Allow group G to inspect tenancies in tenancy",
        "Allow group G to inspect compartments in tenancy",
        "Allow group G to manage compartments in compartment P",
        "Allow group G to manage virtual-network-family in compartment P",
        "Allow group G to use instance-family in compartment P",
        "Allow group G to manage object-family in compartment P",
    ]);
    let missing = uncovered(&short);
    assert!(missing.contains(&"LaunchInstance: manage instances".to_owned()));
    assert!(missing.contains(&"TerminateInstance: manage instances".to_owned()));
    assert!(!missing.iter().any(|m| m.starts_with("CreateVcn")));
    // A tenancy-wide requirement is not granted by a compartment's statement.
    let local = parse(&["Allow group G to inspect compartments in compartment P"]);
    assert!(
        uncovered(&local).contains(&"ListAvailabilityDomains: inspect compartments".to_owned())
    );
    // Statements the test cannot read are refused, not skipped.
    assert!(Statement::parse("Allow group G to manage all the things").is_err());
    assert!(Statement::parse("Allow group G to own instances in tenancy").is_err());
}
