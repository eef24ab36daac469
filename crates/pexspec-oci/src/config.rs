//! The OCI CLI configuration: `~/.oci/config` INI profiles with `[DEFAULT]` inheritance,
//! `OCI_CLI_CONFIG_FILE` / `OCI_CLI_PROFILE` and the other `OCI_CLI_*` overrides, key file
//! resolution, and turning a profile into a [`Signer`]. The environment is injected ([`Env`]).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::OciError;
use crate::key::ApiKey;
use crate::signer::Signer;

/// The name of the profile every other profile inherits from.
pub const DEFAULT_PROFILE: &str = "DEFAULT";

/// Environment lookup, injectable so tests never touch the process environment.
pub trait Env {
    /// The value of variable `name`, if set.
    fn var(&self, name: &str) -> Option<String>;
}

/// The real process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Env for BTreeMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

impl Env for HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

/// A secret string: Debug and Display print `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret value. Do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Where to load the configuration from. `None` fields fall back like the OCI CLI.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Explicit config file (`--config-file`); else `OCI_CLI_CONFIG_FILE`; else `~/.oci/config`.
    pub config_file: Option<PathBuf>,
    /// Explicit profile (the spec's `oci.profile`); else `OCI_CLI_PROFILE`; else `DEFAULT`.
    pub profile: Option<String>,
}

/// Where a value came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A line of the config file.
    File {
        /// 1-based line.
        line: usize,
    },
    /// An `OCI_CLI_*` environment variable.
    Env(&'static str),
}

/// One loaded profile. Debug output redacts the pass phrase.
#[derive(Debug, Clone)]
pub struct OciConfig {
    /// The config file the profile was read from.
    pub config_file: PathBuf,
    /// The profile name.
    pub profile: String,
    /// User OCID.
    pub user: String,
    /// Tenancy OCID.
    pub tenancy: String,
    /// Declared key fingerprint (`aa:bb:…`).
    pub fingerprint: String,
    /// Region identifier, e.g. `eu-frankfurt-1`.
    pub region: String,
    /// The private key file, `~` expanded and resolved.
    pub key_file: PathBuf,
    /// The key's pass phrase, if any.
    pub pass_phrase: Option<Secret>,
    origins: BTreeMap<&'static str, Origin>,
}

/// One parsed INI file: section → key → (value, line). Keys are lower-cased like Python's
/// `configparser`.
#[derive(Debug, Default)]
struct Ini {
    sections: BTreeMap<String, BTreeMap<String, (String, usize)>>,
    order: Vec<String>,
}

fn parse_ini(text: &str, path: &Path) -> Result<Ini, OciError> {
    let syntax = |line: usize, message: String| OciError::ConfigSyntax {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut ini = Ini::default();
    let mut current: Option<String> = None;
    let mut last_key: Option<(String, usize)> = None; // (key, indent) for continuation lines
    for (idx, raw) in text.lines().enumerate() {
        let lineno = idx + 1;
        let raw = if lineno == 1 {
            raw.trim_start_matches('\u{feff}')
        } else {
            raw
        };
        let value = raw.trim();
        if value.is_empty() {
            last_key = None;
            continue;
        }
        if value.starts_with('#') || value.starts_with(';') {
            continue;
        }
        let indent = raw.len() - raw.trim_start().len();
        if let (Some(section), Some((key, key_indent))) = (&current, &last_key)
            && indent > *key_indent
        {
            if let Some(entry) = ini.sections.get_mut(section).and_then(|s| s.get_mut(key)) {
                entry.0.push('\n');
                entry.0.push_str(value);
            }
            continue;
        }
        if let Some(name) = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
            if name.is_empty() {
                return Err(syntax(lineno, "empty section name `[]`".into()));
            }
            if ini.sections.contains_key(name) {
                return Err(syntax(lineno, format!("profile `[{name}]` appears twice")));
            }
            ini.sections.insert(name.to_string(), BTreeMap::new());
            ini.order.push(name.to_string());
            current = Some(name.to_string());
            last_key = None;
            continue;
        }
        let Some(section) = &current else {
            return Err(syntax(lineno, "a key before any `[PROFILE]` line".into()));
        };
        let split = value.find(['=', ':']);
        let Some(pos) = split else {
            return Err(syntax(lineno, "expected `key = value`".into()));
        };
        let key = value[..pos].trim().to_ascii_lowercase();
        if key.is_empty() {
            return Err(syntax(lineno, "a line with `=` but no key".into()));
        }
        let val = value[pos + 1..].trim().to_string();
        let entries = ini.sections.entry(section.clone()).or_default();
        if entries.contains_key(&key) {
            return Err(syntax(
                lineno,
                format!("key `{key}` appears twice in profile `[{section}]`"),
            ));
        }
        entries.insert(key.clone(), (val, lineno));
        last_key = Some((key, indent));
    }
    Ok(ini)
}

impl Ini {
    /// The profile's keys with `[DEFAULT]` merged under them (profile values win).
    fn profile(&self, name: &str) -> Option<BTreeMap<String, (String, usize)>> {
        let defaults = self
            .sections
            .get(DEFAULT_PROFILE)
            .cloned()
            .unwrap_or_default();
        if name == DEFAULT_PROFILE {
            // `configparser` always has a DEFAULT section, even when the file lacks one.
            return Some(defaults);
        }
        let own = self.sections.get(name)?;
        let mut merged = defaults;
        merged.extend(own.iter().map(|(k, v)| (k.clone(), v.clone())));
        Some(merged)
    }
}

/// Expands a leading `~` or `~/` with `HOME` (or `USERPROFILE`).
fn expand_user(path: &str, env: &dyn Env) -> PathBuf {
    let home = || env.var("HOME").or_else(|| env.var("USERPROFILE"));
    if path == "~" {
        if let Some(h) = home() {
            return PathBuf::from(h);
        }
    } else if let Some(rest) = path.strip_prefix("~/").or_else(|| path.strip_prefix("~\\"))
        && let Some(h) = home()
    {
        return Path::new(&h).join(rest);
    }
    PathBuf::from(path)
}

const ENV_OVERRIDES: &[(&str, &str)] = &[
    ("OCI_CLI_USER", "user"),
    ("OCI_CLI_TENANCY", "tenancy"),
    ("OCI_CLI_FINGERPRINT", "fingerprint"),
    ("OCI_CLI_KEY_FILE", "key_file"),
    ("OCI_CLI_REGION", "region"),
    ("OCI_CLI_PASSPHRASE", "pass_phrase"),
];

impl OciConfig {
    /// Loads a profile like the OCI CLI: file from `options.config_file`, else
    /// `OCI_CLI_CONFIG_FILE`, else `~/.oci/config`; profile from `options.profile`, else
    /// `OCI_CLI_PROFILE`, else `DEFAULT`; then `OCI_CLI_USER`, `OCI_CLI_TENANCY`,
    /// `OCI_CLI_FINGERPRINT`, `OCI_CLI_KEY_FILE`, `OCI_CLI_REGION`, `OCI_CLI_PASSPHRASE` override
    /// the file's values.
    pub fn load(options: &LoadOptions, env: &dyn Env) -> Result<Self, OciError> {
        let path = match (&options.config_file, env.var("OCI_CLI_CONFIG_FILE")) {
            (Some(p), _) => expand_user(&p.to_string_lossy(), env),
            (None, Some(p)) if !p.is_empty() => expand_user(&p, env),
            _ => expand_user("~/.oci/config", env),
        };
        let text = std::fs::read_to_string(&path).map_err(|source| OciError::ConfigRead {
            path: path.clone(),
            source,
        })?;
        let profile = options
            .profile
            .clone()
            .or_else(|| env.var("OCI_CLI_PROFILE").filter(|p| !p.is_empty()))
            .unwrap_or_else(|| DEFAULT_PROFILE.to_string());
        Self::from_text(&text, &path, &profile, env)
    }

    /// Parses config `text` as if read from `path` (used to resolve a relative `key_file`).
    pub fn from_text(
        text: &str,
        path: &Path,
        profile: &str,
        env: &dyn Env,
    ) -> Result<Self, OciError> {
        let ini = parse_ini(text, path)?;
        let values = ini
            .profile(profile)
            .ok_or_else(|| OciError::ProfileNotFound {
                path: path.to_path_buf(),
                profile: profile.to_string(),
                available: if ini.order.is_empty() {
                    "none".into()
                } else {
                    ini.order.join(", ")
                },
            })?;
        let mut origins = BTreeMap::new();
        let mut get = |key: &'static str| -> Option<String> {
            if let Some((var, _)) = ENV_OVERRIDES.iter().find(|(_, k)| *k == key)
                && let Some(v) = env.var(var)
            {
                origins.insert(key, Origin::Env(var));
                return Some(v);
            }
            values.get(key).map(|(v, line)| {
                origins.insert(key, Origin::File { line: *line });
                v.clone()
            })
        };
        let user = get("user");
        let tenancy = get("tenancy");
        let fingerprint = get("fingerprint");
        let region = get("region");
        let key_file = get("key_file");
        let pass_phrase = get("pass_phrase");
        let has_key_content = values.contains_key("key_content");
        if has_key_content {
            let line = values.get("key_content").map_or(0, |(_, l)| *l);
            return Err(OciError::ConfigInvalidValue {
                path: path.to_path_buf(),
                line,
                key: "key_content".into(),
                problem:
                    "cannot be set in a config file (the OCI SDK refuses it too): use `key_file`"
                        .into(),
            });
        }
        let missing = |key: &'static str| OciError::ConfigMissingKey {
            path: path.to_path_buf(),
            profile: profile.to_string(),
            key,
        };
        let user = user.ok_or_else(|| missing("user"))?;
        let tenancy = tenancy.ok_or_else(|| missing("tenancy"))?;
        let fingerprint = fingerprint.ok_or_else(|| missing("fingerprint"))?;
        let region = region.ok_or_else(|| missing("region"))?;
        let key_file = key_file.ok_or_else(|| missing("key_file"))?;
        let mut cfg = OciConfig {
            config_file: path.to_path_buf(),
            profile: profile.to_string(),
            user,
            tenancy,
            fingerprint,
            region,
            key_file: PathBuf::new(),
            pass_phrase: pass_phrase.filter(|p| !p.is_empty()).map(Secret),
            origins,
        };
        cfg.key_file = cfg.resolve_key_file(&key_file, env);
        cfg.validate()?;
        Ok(cfg)
    }

    /// `~` expansion, then: an absolute path is kept; a relative one is taken relative to the
    /// config file's directory, unless only the current-directory reading exists (the OCI CLI
    /// itself resolves relative paths against the current directory).
    fn resolve_key_file(&self, raw: &str, env: &dyn Env) -> PathBuf {
        let expanded = expand_user(raw, env);
        if expanded.is_absolute() {
            return expanded;
        }
        let beside = self.config_file.parent().map(|dir| dir.join(&expanded));
        match beside {
            Some(b) if b.exists() || !expanded.exists() => b,
            _ => expanded,
        }
    }

    fn invalid(&self, key: &'static str, problem: String) -> OciError {
        let (path, line) = match self.origins.get(key) {
            Some(Origin::File { line }) => (self.config_file.clone(), *line),
            Some(Origin::Env(var)) => (PathBuf::from(format!("environment variable {var}")), 0),
            None => (self.config_file.clone(), 0),
        };
        OciError::ConfigInvalidValue {
            path,
            line,
            key: key.to_string(),
            problem,
        }
    }

    fn validate(&self) -> Result<(), OciError> {
        for (key, value) in [("user", &self.user), ("tenancy", &self.tenancy)] {
            if !is_ocid(value) {
                return Err(self.invalid(key, format!("is not an OCID: `{value}`")));
            }
        }
        if !is_fingerprint(&self.fingerprint) {
            return Err(self.invalid(
                "fingerprint",
                format!(
                    "must be 16 lower-case hex pairs separated by `:`, found `{}`",
                    self.fingerprint
                ),
            ));
        }
        if self.region.is_empty()
            || !self
                .region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(self.invalid(
                "region",
                format!("is not an OCI region identifier: `{}`", self.region),
            ));
        }
        Ok(())
    }

    /// The 1-based line of `key` in the config file, if it came from there.
    pub fn line_of(&self, key: &str) -> Option<usize> {
        match self.origins.get(key) {
            Some(Origin::File { line }) => Some(*line),
            _ => None,
        }
    }

    /// Reads the key file, decrypts it with `pass_phrase`, checks that its fingerprint is the
    /// declared one, and returns the signer for this profile.
    pub fn signer(&self) -> Result<Signer, OciError> {
        let key = ApiKey::from_file(
            &self.key_file,
            self.pass_phrase.as_ref().map(Secret::expose),
        )
        .map_err(|e| match e {
            OciError::KeyFileRead { path, source } => {
                let at = self
                    .line_of("key_file")
                    .map(|l| format!(" (`key_file` at line {l})"))
                    .unwrap_or_default();
                OciError::KeyFileRead {
                    path: PathBuf::from(format!(
                        "{}{at} of `{}`",
                        path.display(),
                        self.config_file.display()
                    )),
                    source,
                }
            }
            other => other,
        })?;
        if key.fingerprint() != self.fingerprint {
            return Err(OciError::FingerprintMismatch {
                key_file: self.key_file.clone(),
                config_file: self.config_file.clone(),
                expected: self.fingerprint.clone(),
                actual: key.fingerprint().to_string(),
            });
        }
        Ok(Signer::new(
            &self.tenancy,
            &self.user,
            &self.fingerprint,
            key,
        ))
    }
}

/// The OCID shape the SDK accepts: `ocid1.<type>.<realm>.[region].<id>` (dots or colons).
fn is_ocid(s: &str) -> bool {
    let parts: Vec<&str> = s.split(['.', ':']).collect();
    parts.len() >= 5
        && parts.first().is_some_and(|p| !p.is_empty())
        && parts.last().is_some_and(|p| !p.is_empty())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b':' || b == b'-' || b == b'_')
}

fn is_fingerprint(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    parts.len() == 16
        && parts.iter().all(|p| {
            p.len() == 2
                && p.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ocid_shapes() {
        assert!(is_ocid(
            "ocid1.tenancy.oc1..aaaaaaaaba3pv6wkcr4jqae5f15p2b2m2yt2j6rx32uzr4h25vqstifsfdsq"
        ));
        assert!(is_ocid("ocid1.user.oc1..aaaa"));
        assert!(!is_ocid("ocid1.user"));
        assert!(!is_ocid("ocid1.user.oc1..aaaa bbb"));
    }

    #[test]
    fn fingerprint_shapes() {
        assert!(is_fingerprint(
            "20:3b:97:13:55:1c:5b:0d:d3:37:d8:50:4e:c5:3a:34"
        ));
        assert!(!is_fingerprint(
            "20:3B:97:13:55:1c:5b:0d:d3:37:d8:50:4e:c5:3a:34"
        ));
        assert!(!is_fingerprint("20:3b:97"));
    }

    #[test]
    fn continuation_lines_join_like_configparser() {
        let ini = parse_ini("[DEFAULT]\nkey = a\n  b\nother=c\n", Path::new("x")).unwrap();
        let p = ini.profile("DEFAULT").unwrap();
        assert_eq!(p["key"].0, "a\nb");
        assert_eq!(p["other"].0, "c");
    }
}
