//! The crate's error type: every failure of a Pexip call, classed (config, user input,
//! network, throttled, conflict, provider, internal) and marked retryable or not.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::trust::Fingerprint;

/// The class of an error (the house style's classification, mapped to exit codes upstream).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Wrong credentials, an untrusted certificate, an unusable option.
    Config,
    /// A value the API refused (field errors).
    UserInput,
    /// The Management Node or a Conferencing Node could not be reached.
    Network,
    /// HTTP 429.
    Throttled,
    /// The object is in a state that forbids the change.
    Conflict,
    /// The API failed (5xx), answered something unexpected, or a wait ran out.
    Provider,
    /// A local failure (writing the bootstrap store).
    Internal,
}

/// Why the server certificate was not trusted.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum TrustError {
    /// The presented certificate is not the pinned one.
    #[error(
        "the certificate of `{host}` has changed: pinned SHA-256 fingerprint `{pinned}`, presented `{presented}`; \
         if it was replaced on purpose, check the new fingerprint on the node's console and pin it"
    )]
    FingerprintMismatch {
        /// Host (and port) connected to.
        host: String,
        /// The fingerprint that was pinned.
        pinned: Fingerprint,
        /// The fingerprint of the certificate presented.
        presented: Fingerprint,
    },
    /// The presented certificate does not chain to the CA file.
    #[error(
        "the certificate of `{host}` (SHA-256 `{presented}`) is not trusted by the CA file `{ca_file}`: {reason}"
    )]
    Untrusted {
        /// Host (and port) connected to.
        host: String,
        /// The CA file used.
        ca_file: String,
        /// Fingerprint of the certificate presented.
        presented: Fingerprint,
        /// What webpki said.
        reason: String,
    },
    /// The CA file could not be read or holds no certificate.
    #[error("cannot use the CA file `{path}`: {reason}")]
    CaFile {
        /// The CA file.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A fingerprint string could not be parsed.
    #[error("invalid SHA-256 fingerprint `{0}`: expected 32 bytes as hex, colons optional")]
    BadFingerprint(String),
}

/// Every failure of this crate.
#[derive(Debug, thiserror::Error)]
pub enum PexipError {
    /// HTTP 401/403: the credentials were refused (class: config).
    #[error(
        "the Management Node at `{url}` refused the credentials of user `{username}` (HTTP {status}); check the web administration username and password set in the installation wizard"
    )]
    Auth {
        /// Base URL of the Management Node.
        url: String,
        /// The username sent.
        username: String,
        /// 401 or 403.
        status: u16,
    },
    /// HTTP 404 (class: provider).
    #[error("`{path}` was not found on the Management Node")]
    NotFound {
        /// The path requested.
        path: String,
    },
    /// HTTP 400 with the API's field errors (class: user input).
    #[error("the Management Node refused the `{kind}`: {}", summary(.fields, .message))]
    Validation {
        /// The resource kind (`worker_vm`, ...).
        kind: String,
        /// Field name → messages, as the API gave them.
        fields: BTreeMap<String, Vec<String>>,
        /// A message not tied to a field.
        message: Option<String>,
    },
    /// HTTP 409 (class: conflict).
    #[error("conflict on `{path}`: {message}")]
    Conflict {
        /// The path requested.
        path: String,
        /// The API's message.
        message: String,
    },
    /// HTTP 429 (class: throttled).
    #[error("the Management Node is throttling requests (HTTP 429) on `{path}`")]
    Throttled {
        /// The path requested.
        path: String,
        /// The `Retry-After` the server asked for.
        retry_after: Option<Duration>,
    },
    /// HTTP 5xx or another unexpected status (class: provider).
    #[error("the Management Node answered HTTP {status} to {method} `{path}`: {message}")]
    Server {
        /// HTTP status.
        status: u16,
        /// HTTP method.
        method: String,
        /// The path requested.
        path: String,
        /// The API's message (first 300 characters).
        message: String,
    },
    /// The connection failed or timed out (class: network).
    #[error("cannot reach `{url}`: {message}")]
    Network {
        /// The URL requested.
        url: String,
        /// What failed.
        message: String,
    },
    /// The server certificate is not trusted (class: config).
    #[error(transparent)]
    Trust(#[from] TrustError),
    /// A wait ran out (class: provider).
    #[error("timed out after {}s waiting for {what}: {hint}", .waited.as_secs())]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        waited: Duration,
        /// What to check.
        hint: String,
    },
    /// The API answered something this client cannot read (class: provider).
    #[error("unexpected answer from `{path}`: {message}")]
    Decode {
        /// The path requested.
        path: String,
        /// What could not be read.
        message: String,
    },
    /// A local file could not be written or read (class: internal).
    #[error("cannot use `{path}`: {message}")]
    Io {
        /// The file or directory.
        path: String,
        /// What failed.
        message: String,
    },
    /// An option or input is unusable (class: config).
    #[error("{0}")]
    Config(String),
    /// A desired value is invalid before anything is sent (class: user input).
    #[error("{0}")]
    Input(String),
    /// A Conferencing Node exists but its bootstrap file is gone (class: conflict).
    #[error(
        "the bootstrap file of Conferencing Node `{node}` is not in the bootstrap store and the node has not synced; \
         the Management Node returns it only once: delete the node and create it again"
    )]
    BootstrapLost {
        /// Node name.
        node: String,
    },
    /// Fields that cannot change in place differ (class: conflict).
    #[error("Conferencing Node `{node}` differs in {} which it took from its bootstrap file; replace the node", fields.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", "))]
    NeedsReplacement {
        /// Node name.
        node: String,
        /// The fields that differ.
        fields: Vec<String>,
    },
}

fn summary(fields: &BTreeMap<String, Vec<String>>, message: &Option<String>) -> String {
    let mut parts: Vec<String> = fields
        .iter()
        .map(|(field, msgs)| format!("`{field}`: {}", msgs.join(" ")))
        .collect();
    if let Some(m) = message {
        parts.push(m.clone());
    }
    if parts.is_empty() {
        "no details given".into()
    } else {
        parts.join("; ").trim_end_matches('.').to_owned()
    }
}

impl PexipError {
    /// The error's class.
    pub fn class(&self) -> ErrorClass {
        match self {
            PexipError::Auth { .. } | PexipError::Trust(_) | PexipError::Config(_) => {
                ErrorClass::Config
            }
            PexipError::Validation { .. } | PexipError::Input(_) => ErrorClass::UserInput,
            PexipError::Network { .. } => ErrorClass::Network,
            PexipError::Throttled { .. } => ErrorClass::Throttled,
            PexipError::Conflict { .. }
            | PexipError::BootstrapLost { .. }
            | PexipError::NeedsReplacement { .. } => ErrorClass::Conflict,
            PexipError::NotFound { .. }
            | PexipError::Server { .. }
            | PexipError::Timeout { .. }
            | PexipError::Decode { .. } => ErrorClass::Provider,
            PexipError::Io { .. } => ErrorClass::Internal,
        }
    }

    /// Whether the same call may succeed later: network failures, 429 and 5xx.
    pub fn is_retryable(&self) -> bool {
        match self {
            PexipError::Network { .. } | PexipError::Throttled { .. } => true,
            PexipError::Server { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_message_names_fields() {
        let mut fields = BTreeMap::new();
        fields.insert(
            "name".to_owned(),
            vec!["Ensure this value has at most 32 characters (it has 33).".to_owned()],
        );
        let e = PexipError::Validation {
            kind: "worker_vm".into(),
            fields,
            message: None,
        };
        assert_eq!(
            e.to_string(),
            "the Management Node refused the `worker_vm`: `name`: Ensure this value has at most 32 characters (it has 33)"
        );
        assert_eq!(e.class(), ErrorClass::UserInput);
        assert!(!e.is_retryable());
    }

    #[test]
    fn retryable_classes() {
        let net = PexipError::Network {
            url: "https://x".into(),
            message: "refused".into(),
        };
        assert!(net.is_retryable());
        let s503 = PexipError::Server {
            status: 503,
            method: "GET".into(),
            path: "/".into(),
            message: String::new(),
        };
        assert!(s503.is_retryable());
        let auth = PexipError::Auth {
            url: "https://x".into(),
            username: "admin".into(),
            status: 401,
        };
        assert!(!auth.is_retryable());
        assert_eq!(auth.class(), ErrorClass::Config);
    }
}
