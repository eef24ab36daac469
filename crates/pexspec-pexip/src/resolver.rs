//! Secret and file references of a desired state (`{"$secret": "env:NAME"}`,
//! `{"$secret": "file:PATH"}`, `{"$file": "PATH"}`), resolved only at the moment a request is
//! sent or an observed value is compared: [`SecretResolver`] and its implementation for a spec
//! on disk, [`SpecSecrets`].

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::PexipError;
use crate::secret::Secret;

/// Turns the references of a desired state into values. Errors name the reference (the
/// variable or the path), never a value.
pub trait SecretResolver: Send + Sync + fmt::Debug {
    /// The value of a secret reference: `env:NAME` or `file:PATH` (relative to the spec; a
    /// trailing newline is dropped).
    fn secret(&self, reference: &str) -> Result<Secret, PexipError>;

    /// The contents of a non-secret file (`{"$file": PATH}`, relative to the spec), e.g. a
    /// certificate.
    fn file(&self, path: &str) -> Result<Vec<u8>, PexipError>;
}

/// Where [`SpecSecrets`] reads `env:` references.
#[derive(Clone, PartialEq, Eq)]
enum EnvSource {
    /// The process environment.
    Process,
    /// A fixed table (tests, or a caller that read a secret manager).
    Table(BTreeMap<String, String>),
}

/// The references of one spec: `env:` from the process environment (or a table), `file:`
/// and `$file` relative to the spec's directory.
#[derive(Clone)]
pub struct SpecSecrets {
    base_dir: PathBuf,
    env: EnvSource,
}

impl SpecSecrets {
    /// Reads `env:` references from the process environment and files relative to
    /// `base_dir` (the spec's directory).
    pub fn new(base_dir: impl Into<PathBuf>) -> Self {
        SpecSecrets {
            base_dir: base_dir.into(),
            env: EnvSource::Process,
        }
    }

    /// Reads `env:` references from `table` instead of the process environment.
    pub fn with_env(base_dir: impl Into<PathBuf>, table: BTreeMap<String, String>) -> Self {
        SpecSecrets {
            base_dir: base_dir.into(),
            env: EnvSource::Table(table),
        }
    }

    /// The spec's directory.
    pub fn base_dir(&self) -> &Path {
        &self.base_dir
    }

    fn read(&self, path: &str) -> Result<Vec<u8>, PexipError> {
        let full = self.base_dir.join(path);
        std::fs::read(&full)
            .map_err(|e| PexipError::Config(format!("cannot read `{}`: {e}", full.display())))
    }
}

impl fmt::Debug for SpecSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let env = match &self.env {
            EnvSource::Process => "process environment".to_owned(),
            EnvSource::Table(t) => format!(
                "table of {} variables: {}",
                t.len(),
                t.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        };
        f.debug_struct("SpecSecrets")
            .field("base_dir", &self.base_dir)
            .field("env", &env)
            .finish()
    }
}

/// Drops one trailing `\n` or `\r\n`, as the book's "Secrets" chapter promises for files.
fn chomp(mut text: String) -> String {
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    text
}

impl SecretResolver for SpecSecrets {
    fn secret(&self, reference: &str) -> Result<Secret, PexipError> {
        if let Some(name) = reference.strip_prefix("env:") {
            let value = match &self.env {
                EnvSource::Process => std::env::var(name).ok(),
                EnvSource::Table(t) => t.get(name).cloned(),
            };
            return match value {
                Some(v) if !v.is_empty() => Ok(Secret::new(v)),
                Some(_) => Err(PexipError::Config(format!(
                    "the environment variable `{name}` is empty"
                ))),
                None => Err(PexipError::Config(format!(
                    "the environment variable `{name}` is not set"
                ))),
            };
        }
        if let Some(path) = reference.strip_prefix("file:") {
            let bytes = self.read(path)?;
            let text = String::from_utf8(bytes).map_err(|_| {
                PexipError::Config(format!("the secret file `{path}` is not UTF-8 text"))
            })?;
            let text = chomp(text);
            if text.is_empty() {
                return Err(PexipError::Config(format!(
                    "the secret file `{path}` is empty"
                )));
            }
            return Ok(Secret::new(text));
        }
        Err(PexipError::Config(format!(
            "`{reference}` is not a secret reference (`env:NAME` or `file:PATH`); a secret written in clear is never sent"
        )))
    }

    fn file(&self, path: &str) -> Result<Vec<u8>, PexipError> {
        self.read(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_and_files_resolve_and_errors_name_only_the_reference() {
        let dir = std::env::temp_dir().join(format!(
            "pexspec-resolver-{}-{:x}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("pin"), "1234\r\n").unwrap();
        let mut env = BTreeMap::new();
        env.insert("BOARD_PIN".to_owned(), "9876".to_owned());
        let r = SpecSecrets::with_env(&dir, env);
        assert_eq!(r.secret("env:BOARD_PIN").unwrap().expose(), "9876");
        assert_eq!(r.secret("file:pin").unwrap().expose(), "1234");
        assert_eq!(r.file("pin").unwrap(), b"1234\r\n");
        let missing = r.secret("env:NOPE").unwrap_err().to_string();
        assert_eq!(missing, "the environment variable `NOPE` is not set");
        assert!(r.secret("inline").is_err());
        assert!(r.secret("file:absent").is_err());
        let shown = format!("{r:?}");
        assert!(
            shown.contains("BOARD_PIN") && !shown.contains("9876"),
            "{shown}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
