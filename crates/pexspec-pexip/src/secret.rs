//! Secret values (admin password, licence keys, PINs, SSH passwords, private keys): a wrapper
//! whose `Debug` and `Display` print `<redacted>`, compared in constant time.

use std::fmt;

use serde::{Deserialize, Deserializer};
use sha2::{Digest, Sha256};

/// A secret string. Its value never appears in `Debug`/`Display` output; read it with
/// [`Secret::expose`] only where it must be sent.
#[derive(Clone, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The clear value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A short SHA-256 fingerprint (`sha256:` + 16 hex digits) to name a high-entropy secret
    /// such as a licence key in plans and messages. Never use it for PINs or passwords: a short
    /// secret can be recovered from its hash.
    pub fn fingerprint(&self) -> String {
        let digest = Sha256::digest(self.0.as_bytes());
        let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        format!("sha256:{hex}")
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

/// Constant-time equality (for equal lengths), so comparing a PIN leaks no timing.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        ct_eq(self.0.as_bytes(), other.0.as_bytes())
    }
}

impl Eq for Secret {}

impl<'de> Deserialize<'de> for Secret {
    /// Reads a string, a number or null; anything else is refused without quoting the value
    /// (a serde error would otherwise put it in a message).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::Null => Ok(Secret::default()),
            serde_json::Value::String(s) => Ok(Secret(s)),
            serde_json::Value::Number(n) => Ok(Secret(n.to_string())),
            _ => Err(serde::de::Error::custom(
                "a secret field holds neither text nor a number",
            )),
        }
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_its_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?} {s}"), "<redacted> <redacted>");
        assert_eq!(s.expose(), "hunter2");
        assert_eq!(s, Secret::from("hunter2"));
        assert_ne!(s, Secret::from("hunter3"));
        assert!(s.fingerprint().starts_with("sha256:"));
        assert!(!s.fingerprint().contains("hunter2"));
    }

    #[test]
    fn reads_without_quoting() {
        let s: Secret = serde_json::from_str("1234").unwrap();
        assert_eq!(s.expose(), "1234");
        let err = serde_json::from_str::<Secret>(r#"["9876"]"#)
            .unwrap_err()
            .to_string();
        assert!(!err.contains("9876"), "{err}");
    }
}
