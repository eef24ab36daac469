//! Turns client errors ([`OciError`]) into the provider contract's [`ProviderError`], class
//! for class, and the provider's own complaints about a desired state.

use pexspec_graph::Address;
use pexspec_plan::ProviderError;

use crate::error::{ErrorClass, OciError};

/// The provider error for a client error about `address` (`None` while observing).
pub(crate) fn convert(address: Option<&Address>, e: OciError) -> ProviderError {
    let address = address.map_or_else(|| "observe".to_owned(), ToString::to_string);
    let message = e.to_string();
    // A spent retry token is final for that token (the SDKs do not retry it): the create
    // walks to the token's next generation instead (`create_one`).
    if let OciError::Service(s) = &e
        && s.status == 409
        && s.code == super::mutate::INVALIDATED_RETRY_TOKEN
    {
        return ProviderError::Provider {
            status: s.status,
            code: s.code.clone(),
            message,
        };
    }
    match e.class() {
        ErrorClass::Config => ProviderError::Config { message },
        ErrorClass::UserInput => ProviderError::Invalid { address, message },
        ErrorClass::Network => ProviderError::Network { message },
        ErrorClass::Throttled => ProviderError::Throttled {
            retry_after_ms: e
                .service()
                .and_then(|s| s.retry_after)
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        },
        ErrorClass::Conflict => ProviderError::Conflict { address, message },
        ErrorClass::Internal => ProviderError::Internal { message },
        ErrorClass::Provider => match &e {
            OciError::Service(s) if s.status == 404 => ProviderError::NotFound { address },
            OciError::Service(s) => ProviderError::Provider {
                status: s.status,
                code: s.code.clone(),
                message,
            },
            // A wait that gave up may end if tried again later.
            OciError::Timeout { .. } => ProviderError::Network { message },
            OciError::WorkRequestFailed { .. } => ProviderError::Provider {
                status: 0,
                code: "WorkRequestFailed".into(),
                message,
            },
            _ => ProviderError::Provider {
                status: 0,
                code: "UnreadableAnswer".into(),
                message,
            },
        },
    }
}

/// A desired state that lacks what the provider needs: a defect of the graph, not of the
/// user's spec.
pub(crate) fn malformed(address: &Address, what: impl std::fmt::Display) -> ProviderError {
    ProviderError::Internal {
        message: format!("the desired state of `{address}` {what}"),
    }
}

/// Something the user must change.
pub(crate) fn invalid(address: &Address, message: impl Into<String>) -> ProviderError {
    ProviderError::Invalid {
        address: address.to_string(),
        message: message.into(),
    }
}
