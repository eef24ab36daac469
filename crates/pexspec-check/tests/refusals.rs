//! A spec that lints clean must never fail `plan` or `apply` for a reason lint could know.
//!
//! This test reads the sources of every place where `apply` refuses what the spec asks for
//! (the providers' validation of the desired state, the secret resolver, the world's set-up)
//! and requires each refusal to be in [`REFUSALS`]: either with the check code lint reports
//! and a spec that triggers it (which must lint, in `plan`'s mode, with that code), or with
//! the reason only the cloud (or the run's environment) can tell. A refusal added without a
//! row fails here.

use std::path::{Path, PathBuf};

use pexspec_check::{Mode, check};
use pexspec_diagnostics::Code;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A spec that makes `apply` refuse: the clean base fixture with one text replaced.
struct Edit {
    from: &'static str,
    to: &'static str,
}

/// What lint knows of a refusal.
enum Verdict {
    /// Lint reports `code` for the base fixture with `edit` applied.
    Lint(Code, Edit),
    /// Lint reports `code` when a referenced file is malformed; the fixture named shows it.
    LintFixture(Code, &'static str),
    /// Only the cloud or the run's environment can tell; why.
    Runtime(&'static str),
    /// Not about the spec: a defect of the graph or of observed state.
    NotSpec,
}

/// One place where apply refuses: the source file and a text of its message.
struct Refusal {
    file: &'static str,
    says: &'static str,
    verdict: Verdict,
}

const fn lint(
    file: &'static str,
    says: &'static str,
    code: Code,
    from: &'static str,
    to: &'static str,
) -> Refusal {
    Refusal {
        file,
        says,
        verdict: Verdict::Lint(code, Edit { from, to }),
    }
}

const PEXIP: &str = "crates/pexspec-pexip/src/provider.rs";
const OBJECTS: &str = "crates/pexspec-pexip/src/objects.rs";
const RESOLVER: &str = "crates/pexspec-pexip/src/resolver.rs";
const OCI_GET: &str = "crates/pexspec-oci/src/provider/get.rs";
const OCI_MUTATE: &str = "crates/pexspec-oci/src/provider/mutate.rs";
const OCI_ERROR: &str = "crates/pexspec-oci/src/provider/error.rs";
const WORLD: &str = "crates/pexspec/src/world.rs";

const SSH_PASSWORD: &str = "    ssh_password: { env: PEXCONF_SSH_PASSWORD }\n";

/// Every refusal of `apply` about what the spec asks for.
const REFUSALS: &[Refusal] = &[
    // The Pexip provider.
    Refusal {
        file: PEXIP,
        says: "is not UTF-8 text",
        verdict: Verdict::LintFixture(Code::InvalidValue, "certificate-not-utf8"),
    },
    Refusal {
        file: PEXIP,
        says: "the certificate file holds no readable PEM X.509 certificate",
        verdict: Verdict::LintFixture(Code::InvalidValue, "certificate-not-pem"),
    },
    lint(
        PEXIP,
        "has no `ssh_password`",
        Code::SshPasswordMissing,
        SSH_PASSWORD,
        "",
    ),
    Refusal {
        file: PEXIP,
        says: "a licence cannot change in place",
        verdict: Verdict::Runtime(
            "a change of a licence already activated: needs the observed licence",
        ),
    },
    Refusal {
        file: OBJECTS,
        says: "the TLS certificate file holds a private key",
        verdict: Verdict::LintFixture(Code::PrivateKeyInCertificate, "private-key-in-certificate"),
    },
    Refusal {
        file: OBJECTS,
        says: "the TLS certificate is not a readable PEM X.509 certificate",
        verdict: Verdict::LintFixture(Code::InvalidValue, "certificate-not-pem"),
    },
    lint(
        OBJECTS,
        "the API allows at most",
        Code::NameTooLong,
        "name: pexconf01\n",
        "name: pexconf01-frankfurt-transcoding-main\n",
    ),
    lint(
        OBJECTS,
        "the SSH password is empty",
        Code::SecretReferenceInvalid,
        SSH_PASSWORD,
        "    ssh_password: { file: ../_files/empty.secret }\n",
    ),
    // The secret resolver (errors reach apply when a step resolves the secret).
    lint(
        RESOLVER,
        "cannot read `",
        Code::FileMissing,
        "{ file: ../_files/conferencing.key }",
        "{ file: ../_files/absent.key }",
    ),
    lint(
        RESOLVER,
        "the environment variable `{name}` is empty",
        Code::SecretReferenceInvalid,
        "{ env: PEXIP_LICENSE_KEY }",
        "{ env: \"\" }",
    ),
    Refusal {
        file: RESOLVER,
        says: "the environment variable `{name}` is not set",
        verdict: Verdict::Runtime(
            "a variable's value exists only where apply runs; a real run checks every `env:` secret before any call (world.rs)",
        ),
    },
    Refusal {
        file: RESOLVER,
        says: "the secret file `{path}` is not UTF-8 text",
        verdict: Verdict::LintFixture(Code::SecretReferenceInvalid, "secret-file-not-utf8"),
    },
    lint(
        RESOLVER,
        "the secret file `{path}` is empty",
        Code::SecretReferenceInvalid,
        "{ file: ../_files/conferencing.key }",
        "{ file: ../_files/empty.secret }",
    ),
    lint(
        RESOLVER,
        "is not a secret reference",
        Code::SecretInline,
        "{ env: PEXIP_LICENSE_KEY }",
        "\"ABCD-1234\"",
    ),
    // The OCI provider.
    Refusal {
        file: OCI_GET,
        says: "an `rpc_peering` address names two regions",
        verdict: Verdict::NotSpec,
    },
    Refusal {
        file: OCI_GET,
        says: "is not a bucket id",
        verdict: Verdict::NotSpec,
    },
    Refusal {
        file: OCI_GET,
        says: "is not an object id",
        verdict: Verdict::NotSpec,
    },
    Refusal {
        file: OCI_GET,
        says: "is not an image shape id",
        verdict: Verdict::NotSpec,
    },
    Refusal {
        file: OCI_MUTATE,
        says: "is not tagged `pexspec-stack: {}`; tag it",
        verdict: Verdict::Runtime(
            "a compartment of that name made by someone else: only the tenancy knows",
        ),
    },
    Refusal {
        file: OCI_MUTATE,
        says: "choose another `images.bucket`",
        verdict: Verdict::Runtime(
            "bucket names are unique per namespace: only Object Storage knows who holds one",
        ),
    },
    Refusal {
        file: OCI_MUTATE,
        says: "the image file `{}` does not exist",
        verdict: Verdict::Runtime(
            "an image already uploaded needs no local file, so lint cannot require it; the upload step says so",
        ),
    },
    Refusal {
        file: OCI_MUTATE,
        says: "is too long to record in a tag",
        verdict: Verdict::Runtime(
            "the tag holds the tenancy's Object Storage namespace, known only to the cloud",
        ),
    },
    Refusal {
        file: OCI_MUTATE,
        says: "has no availability domain",
        verdict: Verdict::Runtime("a region's availability domains are listed by the cloud"),
    },
    lint(
        OCI_MUTATE,
        "cannot read the SSH public key",
        Code::FileMissing,
        "ssh_public_key: ../_files/pexip.pub",
        "ssh_public_key: ../_files/absent.pub",
    ),
    Refusal {
        file: OCI_MUTATE,
        says: "cannot change in place",
        verdict: Verdict::Runtime("a change of an existing resource: needs the observed state"),
    },
    Refusal {
        file: OCI_MUTATE,
        says: "is not a bucket id",
        verdict: Verdict::NotSpec,
    },
    Refusal {
        file: OCI_MUTATE,
        says: "is not an object id",
        verdict: Verdict::NotSpec,
    },
    Refusal {
        file: OCI_MUTATE,
        says: "is not an image shape id",
        verdict: Verdict::NotSpec,
    },
    Refusal {
        file: OCI_ERROR,
        says: "ProviderError::Invalid {",
        verdict: Verdict::NotSpec,
    },
    // The world's set-up, before any call.
    lint(
        WORLD,
        "the spec has a secret written in clear",
        Code::SecretInline,
        "{ env: PEXIP_LICENSE_KEY }",
        "\"ABCD-1234\"",
    ),
    Refusal {
        file: WORLD,
        says: "the spec's secrets need these environment variables",
        verdict: Verdict::Runtime("a variable's value exists only where apply runs"),
    },
    Refusal {
        file: WORLD,
        says: "OciSettings::from_graph(graph)",
        verdict: Verdict::NotSpec,
    },
    lint(
        WORLD,
        "the spec has no Management Node",
        Code::ManagementNodeMissing,
        "management_node:\n  name: pexmgr\n  region: eu-frankfurt-1\n  shape: { name: VM.Standard3.Flex, ocpus: 2, memory_gb: 16 }\n  hostname: pexmgr\n  domain: example.com\n  private_ip: 10.0.1.10\n  admin_password: { env: PEXIP_ADMIN_PASSWORD }\n",
        "",
    ),
    lint(
        WORLD,
        "the Management Node's name cannot name its simulator's state directory",
        Code::NameInvalid,
        "  name: pexmgr\n",
        "  name: ../../../evilmgr\n",
    ),
    Refusal {
        file: WORLD,
        says: "cannot record the stack of the simulated Management Node",
        verdict: Verdict::Runtime("the file system of the run"),
    },
    Refusal {
        file: WORLD,
        says: "the simulated Management Node `{name}` in this folder belongs to stack",
        verdict: Verdict::Runtime(
            "what else was applied with `--sim` in the same folder: the simulators' state, not the spec",
        ),
    },
    Refusal {
        file: WORLD,
        says: "cannot create the simulator's state directory",
        verdict: Verdict::Runtime("the file system of the run"),
    },
    Refusal {
        file: WORLD,
        says: "{e}\\n  help: {FIRST_REAL_RUN_HELP}",
        verdict: Verdict::Runtime(
            "the OCI CLI configuration of the run (`~/.oci/config`, its profile)",
        ),
    },
    Refusal {
        file: WORLD,
        says: ".map_err(|e| Setup::usage(e.to_string()))?;",
        verdict: Verdict::Runtime(
            "the OCI CLI configuration of the run and the client built from it",
        ),
    },
    Refusal {
        file: WORLD,
        says: "the Management Node's admin password",
        verdict: Verdict::Runtime(
            "resolves the admin password: the variable's value or the file, as the resolver's rows",
        ),
    },
    Refusal {
        file: WORLD,
        says: "the Management Node has no address pexspec can reach",
        verdict: Verdict::Runtime(
            "a real run of a Management Node in OCI without `private_ip`: its address is known once its instance exists (a gap of the world's set-up, not of the spec)",
        ),
    },
    Refusal {
        file: WORLD,
        says: "does not hold a certificate fingerprint",
        verdict: Verdict::Runtime("the pinned fingerprint kept in `.pexspec/`"),
    },
    Refusal {
        file: WORLD,
        says: "the Management Node: {e}",
        verdict: Verdict::Runtime("the Pexip client's options"),
    },
];

/// What marks a refusal in each source file.
fn markers(file: &str) -> &'static [&'static str] {
    match file {
        PEXIP => &["ProviderError::Invalid {"],
        OBJECTS => &["PexipError::Input("],
        RESOLVER => &["PexipError::Config("],
        OCI_GET | OCI_MUTATE => &["invalid("],
        OCI_ERROR => &["ProviderError::Invalid {"],
        WORLD => &["Setup::usage("],
        _ => &[],
    }
}

const FILES: [&str; 7] = [
    PEXIP, OBJECTS, RESOLVER, OCI_GET, OCI_MUTATE, OCI_ERROR, WORLD,
];

/// Every refusal site of `file`: the first string literal at or after the marker (within a
/// few lines), or the marker's line when the message is not a literal.
fn sites(file: &str) -> Vec<(usize, String)> {
    let text = std::fs::read_to_string(root().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    // Tests at the bottom of a file are not refusals.
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        for marker in markers(file) {
            let Some(at) = line.find(marker) else {
                continue;
            };
            // A pattern that converts an error kind (`X(_) => ...`) or the helper's own
            // definition is not a refusal.
            if line[at + marker.len()..].starts_with("_)")
                || code.starts_with("pub(crate) fn")
                || code.starts_with("fn ")
                || line[..at].contains("| PexipError")
            {
                continue;
            }
            let window: String = lines[n..(n + 6).min(lines.len())].join("\n");
            let from = &window[at..];
            let literal = from.find('"').and_then(|start| {
                let rest = &from[start + 1..];
                let end = rest
                    .find("\",")
                    .or_else(|| rest.find("\")"))
                    .or_else(|| rest.find('"'))?;
                Some(rest[..end].to_owned())
            });
            let message = match literal {
                // The literal must belong to this refusal, not to the next statement.
                Some(l) if !from[..from.find('"').unwrap_or(0)].contains(';') => l,
                _ => line.trim().to_owned(),
            };
            out.push((n + 1, message));
        }
    }
    out
}

fn base() -> String {
    std::fs::read_to_string(fixtures().join("_base.yaml")).unwrap()
}

/// The codes lint reports, in `plan`'s mode, for `text` placed beside the fixtures.
fn lint_codes(text: &str) -> Vec<Code> {
    let loaded = pexspec_spec::load(
        "refusal.yaml",
        text,
        fixtures().join("ssh-password-missing"),
    );
    check(&loaded, Mode::Plan)
        .iter()
        .map(|d| d.code())
        .collect()
}

#[test]
fn every_refusal_of_apply_is_listed() {
    let mut unlisted = Vec::new();
    let mut matched = vec![false; REFUSALS.len()];
    for file in FILES {
        for (line, message) in sites(file) {
            let row = REFUSALS.iter().position(|r| {
                r.file == file && (message.contains(r.says) || r.says.contains(message.as_str()))
            });
            match row {
                Some(i) => matched[i] = true,
                None => unlisted.push(format!("{file}:{line}: {message}")),
            }
        }
    }
    assert!(
        unlisted.is_empty(),
        "refusals of apply with no row in REFUSALS (give each a check code and a spec that triggers it, or the reason only the cloud can tell):\n{}",
        unlisted.join("\n")
    );
    let stale: Vec<String> = REFUSALS
        .iter()
        .zip(&matched)
        .filter(|(_, m)| !**m)
        .map(|(r, _)| format!("{}: {}", r.file, r.says))
        .collect();
    assert!(
        stale.is_empty(),
        "rows that match no refusal in the sources: {stale:#?}"
    );
}

#[test]
fn every_refusal_lint_could_know_is_a_check() {
    let base = base();
    assert!(
        lint_codes(&base).is_empty(),
        "the base fixture is not clean"
    );
    for r in REFUSALS {
        match &r.verdict {
            Verdict::Lint(code, edit) => {
                assert!(
                    base.contains(edit.from),
                    "{}: `{}` is not in the base fixture",
                    r.says,
                    edit.from
                );
                let spec = base.replacen(edit.from, edit.to, 1);
                let codes = lint_codes(&spec);
                assert!(
                    codes.contains(code),
                    "{}: `{}` refuses it, but lint reports {codes:?}, not {code}",
                    r.file,
                    r.says
                );
            }
            Verdict::LintFixture(code, name) => {
                let path = fixtures().join("_refusals").join(format!("{name}.yaml"));
                let loaded = pexspec_spec::load_file(&path).unwrap();
                let codes: Vec<Code> = check(&loaded, Mode::Plan)
                    .iter()
                    .map(|d| d.code())
                    .collect();
                assert!(
                    codes.contains(code),
                    "{}: {} lints {codes:?}, not {code}",
                    r.says,
                    path.display()
                );
            }
            Verdict::Runtime(why) => assert!(!why.is_empty()),
            Verdict::NotSpec => {}
        }
    }
}

/// The book's "write your own spec" example, as it was when `apply --sim` stopped at the
/// node's registration (no `ssh_password`), fails lint with the check, and only with it.
#[test]
fn the_books_example_without_ssh_password_fails_lint() {
    let page = std::fs::read_to_string(root().join("book/src/getting-started.md")).unwrap();
    let start = page
        .find("## Write your own spec")
        .expect("the section is in the book");
    let block = &page[start..];
    let open = block
        .find("```yaml\n")
        .expect("the section has a YAML block")
        + "```yaml\n".len();
    let close = open + block[open..].find("```").unwrap();
    let spec = &block[open..close];
    let without: String = spec
        .lines()
        .filter(|l| !l.contains("ssh_password"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(
        spec, without,
        "the book's example has no `ssh_password` line to remove"
    );
    let loaded = pexspec_spec::load("getting-started.yaml", &without, root().join("specs"));
    let codes: Vec<&str> = check(&loaded, Mode::Lint)
        .iter()
        .map(|d| d.code().as_str())
        .collect();
    assert_eq!(codes, ["ssh-password-missing"]);
}
