//! The crate's error type: every failure is classed (config, user input, network, throttled,
//! conflict, provider, internal) and knows whether the same call may succeed if retried.

use std::fmt;
use std::path::PathBuf;

/// The class of an error: decides the exit code and whether retrying may help.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ErrorClass {
    /// The local OCI configuration or the credentials are wrong (config file, key, pass phrase,
    /// fingerprint, 401, 403).
    Config,
    /// What the user asked for cannot be done as given (400 invalid parameter, limits and quotas,
    /// a missing local file).
    UserInput,
    /// The network failed (connection refused or reset, timeout, corrupted transfer).
    Network,
    /// OCI asked us to slow down (429).
    Throttled,
    /// The resource is busy, in the wrong state, already exists or changed since it was read
    /// (409, 412).
    Conflict,
    /// OCI failed or answered something unusable (5xx, 404, unparsable body, failed work request).
    Provider,
    /// A bug on our side (a request OCI could not parse, a method it does not allow).
    Internal,
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Config => "config",
            Self::UserInput => "user input",
            Self::Network => "network",
            Self::Throttled => "throttled",
            Self::Conflict => "conflict",
            Self::Provider => "provider",
            Self::Internal => "internal",
        })
    }
}

/// An error answer from an OCI service: HTTP status, OCI error code and message, and the
/// `opc-request-id` that Oracle support asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    /// The operation that failed, e.g. `CreateVcn`.
    pub operation: &'static str,
    /// HTTP status code.
    pub status: u16,
    /// OCI error code, e.g. `NotAuthorizedOrNotFound` (empty when the body had none).
    pub code: String,
    /// Human-readable message from the service.
    pub message: String,
    /// The `opc-request-id` of the failed attempt (the server's, or the one we sent).
    pub opc_request_id: String,
    /// The `Retry-After` delay the service asked for, if any.
    pub retry_after: Option<std::time::Duration>,
}

impl ServiceError {
    /// The class of this service error (oci-api.md §2.9).
    pub fn class(&self) -> ErrorClass {
        match (self.status, self.code.as_str()) {
            (401 | 403, _) => ErrorClass::Config,
            (429, _) => ErrorClass::Throttled,
            (409 | 412, _) => ErrorClass::Conflict,
            (400, "CannotParseRequest") | (405 | 431, _) => ErrorClass::Internal,
            (400 | 413 | 422, _) => ErrorClass::UserInput,
            _ => ErrorClass::Provider,
        }
    }

    /// Whether the official SDKs retry this answer by default (oci-api.md §2.10): 429,
    /// 409 `IncorrectState` / `LockConflict` / `ExternalServerIncorrectState`, and every 5xx
    /// except 501.
    pub fn is_retryable(&self) -> bool {
        if self.is_out_of_capacity() {
            // Retrying the same launch in the same place rarely helps: the caller moves on to
            // another availability or fault domain instead.
            return false;
        }
        match self.status {
            429 => true,
            409 => matches!(
                self.code.as_str(),
                "IncorrectState" | "LockConflict" | "ExternalServerIncorrectState"
            ),
            501 => false,
            500..=599 => true,
            _ => false,
        }
    }
}

impl ServiceError {
    /// True for LaunchInstance's `500 InternalError "Out of host capacity."`: the availability
    /// (or fault) domain has no room for the shape right now.
    pub fn is_out_of_capacity(&self) -> bool {
        self.status == 500
            && self
                .message
                .to_ascii_lowercase()
                .contains("out of host capacity")
    }
}

/// Every error of the OCI crate. Secrets (keys, pass phrases) never appear in the text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OciError {
    /// The OCI config file could not be read.
    #[error("cannot read OCI config file `{path}`: {source}")]
    ConfigRead {
        /// The config file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The OCI config file is not valid INI.
    #[error("OCI config file `{path}` line {line}: {message}")]
    ConfigSyntax {
        /// The config file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The requested profile is not in the config file.
    #[error("profile `{profile}` not found in OCI config file `{path}` (profiles: {available})")]
    ProfileNotFound {
        /// The config file.
        path: PathBuf,
        /// The profile asked for.
        profile: String,
        /// The profiles that exist, comma separated.
        available: String,
    },
    /// A required key is missing from the profile.
    #[error("OCI config file `{path}`, profile `{profile}`: missing key `{key}`")]
    ConfigMissingKey {
        /// The config file.
        path: PathBuf,
        /// The profile.
        profile: String,
        /// The missing key.
        key: &'static str,
    },
    /// A key of the profile has a malformed value.
    #[error("OCI config file `{path}` line {line}: `{key}` {problem}")]
    ConfigInvalidValue {
        /// The config file (or `environment` for an env override).
        path: PathBuf,
        /// 1-based line (0 for an env override).
        line: usize,
        /// The key.
        key: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The API key file could not be read.
    #[error("cannot read API key file `{path}`: {source}")]
    KeyFileRead {
        /// The key file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The API key could not be used (format, encryption, pass phrase, size).
    #[error("API key `{path}`: {problem}")]
    Key {
        /// The key file (or a description of where the key came from).
        path: PathBuf,
        /// What is wrong, never including key material.
        problem: String,
    },
    /// The key's fingerprint differs from the one the config file declares.
    #[error(
        "API key `{key_file}` has fingerprint `{actual}` but `fingerprint` in `{config_file}` is `{expected}`: upload this key's public half in the OCI console or fix `fingerprint`"
    )]
    FingerprintMismatch {
        /// The key file.
        key_file: PathBuf,
        /// The config file.
        config_file: PathBuf,
        /// The fingerprint the config declares.
        expected: String,
        /// The key's real fingerprint.
        actual: String,
    },
    /// A region or endpoint could not be turned into a URL.
    #[error("endpoint for `{region}`: {problem}")]
    Endpoint {
        /// The region.
        region: String,
        /// What is wrong.
        problem: String,
    },
    /// An argument given to the client is invalid (caught before sending).
    #[error("{operation}: {problem}")]
    InvalidArgument {
        /// The operation.
        operation: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// The service answered with an error status.
    #[error(
        "{}: {} {}: {} (opc-request-id `{}`)",
        .0.operation, .0.status, if .0.code.is_empty() { "(no code)" } else { .0.code.as_str() }, .0.message, .0.opc_request_id
    )]
    Service(ServiceError),
    /// The request could not be sent or the answer not received.
    #[error("{operation}: network error: {message}")]
    Network {
        /// The operation.
        operation: &'static str,
        /// What happened.
        message: String,
    },
    /// The service answered 2xx but the body or a header could not be understood.
    #[error(
        "{operation}: cannot understand the response: {message} (opc-request-id `{opc_request_id}`)"
    )]
    Decode {
        /// The operation.
        operation: &'static str,
        /// What is wrong.
        message: String,
        /// The `opc-request-id`.
        opc_request_id: String,
    },
    /// Data arrived but its checksum is not the one we computed.
    #[error(
        "{operation}: checksum mismatch for {what}: sent `{expected}`, service reports `{actual}`"
    )]
    Integrity {
        /// The operation.
        operation: &'static str,
        /// What was checked (e.g. `part 3`).
        what: String,
        /// Our checksum.
        expected: String,
        /// The service's checksum.
        actual: String,
    },
    /// A work request ended in `FAILED` or `CANCELED`.
    #[error("work request `{id}` ({operation}) ended {status}: {message}")]
    WorkRequestFailed {
        /// The work request OCID.
        id: String,
        /// Its operation type.
        operation: String,
        /// Its final status.
        status: String,
        /// The errors it reported, joined.
        message: String,
    },
    /// A wait gave up.
    #[error("{operation}: gave up waiting after {waited_secs} s: {what}")]
    Timeout {
        /// The operation.
        operation: &'static str,
        /// Seconds waited.
        waited_secs: u64,
        /// What was awaited.
        what: String,
    },
    /// A local file (e.g. an image to upload) could not be read.
    #[error("local file `{path}`: {source}")]
    LocalIo {
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// Something that cannot happen did (a background task died).
    #[error("internal error: {0}")]
    Internal(String),
}

impl OciError {
    /// The class of this error.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::ConfigRead { .. }
            | Self::ConfigSyntax { .. }
            | Self::ProfileNotFound { .. }
            | Self::ConfigMissingKey { .. }
            | Self::ConfigInvalidValue { .. }
            | Self::KeyFileRead { .. }
            | Self::Key { .. }
            | Self::FingerprintMismatch { .. }
            | Self::Endpoint { .. } => ErrorClass::Config,
            Self::InvalidArgument { .. } | Self::LocalIo { .. } => ErrorClass::UserInput,
            Self::Service(e) => e.class(),
            Self::Network { .. } | Self::Integrity { .. } => ErrorClass::Network,
            Self::Decode { .. } | Self::WorkRequestFailed { .. } | Self::Timeout { .. } => {
                ErrorClass::Provider
            }
            Self::Internal(_) => ErrorClass::Internal,
        }
    }

    /// Whether the same call may succeed if tried again later.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Service(e) => e.is_retryable(),
            Self::Network { .. } | Self::Integrity { .. } | Self::Timeout { .. } => true,
            _ => false,
        }
    }

    /// The service error, if the service answered with an error status.
    pub fn service(&self) -> Option<&ServiceError> {
        match self {
            Self::Service(e) => Some(e),
            _ => None,
        }
    }

    /// The HTTP status, if the service answered with an error status.
    pub fn status(&self) -> Option<u16> {
        self.service().map(|e| e.status)
    }

    /// The OCI error code, if the service answered with an error status.
    pub fn code(&self) -> Option<&str> {
        self.service().map(|e| e.code.as_str())
    }

    /// The `opc-request-id` to quote to Oracle support, if a request was answered.
    pub fn opc_request_id(&self) -> Option<&str> {
        match self {
            Self::Service(e) => Some(e.opc_request_id.as_str()),
            Self::Decode { opc_request_id, .. } => Some(opc_request_id.as_str()),
            _ => None,
        }
    }

    /// True for 404 answers: the resource does not exist (or we may not see it).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// True for LaunchInstance's "Out of host capacity" answer (see
    /// [`ServiceError::is_out_of_capacity`]).
    pub fn is_out_of_capacity(&self) -> bool {
        self.service().is_some_and(ServiceError::is_out_of_capacity)
    }
}
