//! `secret-reference-invalid`: a secret reference that can never yield a value. `plan` and
//! `apply` resolve secrets only when a step needs them (the licence after the Management
//! Node is up, a PIN after the rooms' locations...), so a reference that cannot work must be
//! found here, before anything is created.
//!
//! An `{ env: }` reference is judged by its name only (the variable's value is never looked
//! at: lint runs where secrets are not set). A `{ file: }` secret is read, bounded, to learn
//! whether it is empty or not text; its contents are dropped at once and never appear in a
//! finding.

use std::collections::HashSet;
use std::io::Read;
use std::path::Path;

use pexspec_diagnostics::{Code, Diagnostic};
use pexspec_spec::{Secret, Sp};

use crate::Ctx;

/// The largest secret file read: a licence key, a PIN or a private key with its chain is a
/// few KiB. A larger file is not judged (it is not empty).
const MAX_SECRET_BYTES: u64 = 1024 * 1024;

pub(crate) fn run(ctx: &mut Ctx<'_>) {
    let spec = ctx.spec;
    // PIN references with a bad variable name are `pin-invalid`'s (one finding per value).
    let pins: HashSet<*const Sp<Secret>> = spec
        .platform
        .vmrs
        .iter()
        .flat_map(|v| v.pin.iter().chain(v.guest_pin.iter()))
        .map(std::ptr::from_ref)
        .collect();
    let mut found = Vec::new();
    for secret in spec.secrets() {
        match &secret.value {
            Secret::Env(name) => {
                if pins.contains(&std::ptr::from_ref(secret)) {
                    continue;
                }
                if let Some(why) = env_name_problem(&name.value) {
                    found.push(
                        Diagnostic::new(
                            Code::SecretReferenceInvalid,
                            if name.value.is_empty() {
                                "a secret reference names no environment variable".to_owned()
                            } else {
                                format!(
                                    "`{}` cannot name an environment variable: {why}",
                                    name.value
                                )
                            },
                        )
                        .with_primary(name.span, "no variable can have this name")
                        .with_help("name the variable that holds the value, e.g. `{ env: PEXIP_ADMIN_PASSWORD }`; letters, digits and `_`"),
                    );
                }
            }
            Secret::File(path) => {
                if path.value.trim().is_empty() {
                    found.push(
                        Diagnostic::new(
                            Code::SecretReferenceInvalid,
                            "a secret file reference names no file",
                        )
                        .with_primary(path.span, "empty path")
                        .with_help("name the file that holds the value, relative to the spec, e.g. `{ file: secrets/licence.key }`"),
                    );
                    continue;
                }
                if let Some(why) = file_problem(&ctx.loaded.resolve(&path.value)) {
                    found.push(
                        Diagnostic::new(
                            Code::SecretReferenceInvalid,
                            format!("the secret file `{}` {why}", path.value),
                        )
                        .with_primary(path.span, why)
                        .with_help("put the value in the file (one trailing newline is dropped), or point the reference at the file that holds it"),
                    );
                }
            }
            Secret::Inline => {}
        }
    }
    for d in found {
        ctx.report(d);
    }
}

/// Why no environment variable can be called `name` (POSIX: a name is non-empty and has no
/// `=`; NUL cannot be passed in an environment).
fn env_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("the name is empty")
    } else if name.contains('=') {
        Some("a name cannot contain `=`")
    } else if name.contains('\0') {
        Some("a name cannot contain a NUL character")
    } else {
        None
    }
}

/// Why the secret file at `path` cannot yield a value: empty (after the one trailing
/// newline the resolver drops) or not UTF-8 text. A missing file is `file-missing`'s.
fn file_problem(path: &Path) -> Option<&'static str> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() {
        return None;
    }
    if meta.len() > MAX_SECRET_BYTES {
        return None;
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(MAX_SECRET_BYTES)
        .read_to_end(&mut bytes)
        .ok()?;
    let problem = match std::str::from_utf8(&bytes) {
        Err(_) => Some("is not UTF-8 text"),
        Ok(text) => {
            let text = text.strip_suffix('\n').unwrap_or(text);
            let text = text.strip_suffix('\r').unwrap_or(text);
            text.is_empty().then_some("is empty")
        }
    };
    bytes.fill(0);
    problem
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names_no_environment_can_hold() {
        assert_eq!(env_name_problem(""), Some("the name is empty"));
        assert_eq!(env_name_problem("A=B"), Some("a name cannot contain `=`"));
        assert!(env_name_problem("A\0B").is_some());
        assert_eq!(env_name_problem("PEXIP_ADMIN_PASSWORD"), None);
        assert_eq!(env_name_problem("lower-case.ok"), None);
    }

    #[test]
    fn empty_and_binary_files() {
        let dir = std::env::temp_dir().join(format!("pexspec-secrets-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, bytes, want) in [
            ("empty", &b""[..], Some("is empty")),
            ("newline", b"\n", Some("is empty")),
            ("crlf", b"\r\n", Some("is empty")),
            ("binary", b"\xff\xfe", Some("is not UTF-8 text")),
            ("value", b"s3cret\n", None),
            ("two-newlines", b"\n\n", None),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, bytes).unwrap();
            assert_eq!(file_problem(&path), want, "{name}");
        }
        assert_eq!(file_problem(&dir.join("absent")), None);
        assert_eq!(file_problem(&dir), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
