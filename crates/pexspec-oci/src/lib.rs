//! OCI wire types, request signer, typed client, image upload and import for pexspec.
//!
//! - [`OciConfig::load`] reads an OCI CLI profile; [`OciConfig::signer`] loads and checks the key.
//! - [`Signer`] implements OCI request signature version 1 (byte-compatible with the SDKs).
//! - [`OciClient`] is the typed client: retries, an adaptive rate limit per (service, region),
//!   pagination, ETags and retry tokens; [`Endpoints`] maps regions to URLs (or to the simulator).
//! - [`upload_file`] and [`import_image`] move a Pexip OVA into a bucket and make it an image.
//! - [`permissions::Operation`] names every operation the client can send, with the IAM
//!   permissions it needs (the book's first-real-run page prints the policy that grants them).
//! - [`provider::OciProvider`] is the OCI side of `pexspec_plan::Provider`: observe by tags,
//!   create, update, delete and read every OCI kind of the resource graph.
//!
//! The simulator (`pexspec-sim`) shares no request-building or parsing code with this crate.

mod client;
mod clock;
mod config;
mod der;
mod endpoints;
mod error;
mod import;
mod key;
pub mod models;
mod ops;
pub mod permissions;
mod progress;
pub mod provider;
mod ratelimit;
mod retry;
mod signer;
mod upload;

pub use client::{ClientOptions, OciClient, WithWorkRequest};
pub use clock::{Clock, ManualClock, SleepFuture, TokioClock};
pub use config::{DEFAULT_PROFILE, Env, LoadOptions, OciConfig, ProcessEnv, Secret};
pub use endpoints::{Endpoints, Service};
pub use error::{ErrorClass, OciError, ServiceError};
pub use import::{ImageImport, PollOptions, import_image, wait_for_work_request};
pub use key::{ApiKey, fingerprint_of_private_key_pem, fingerprint_of_rsa_public_key};
pub use ops::{
    ConsoleConnection, ConsoleLookup, PutObjectOptions, ensure_console_connection,
    ssh_key_fingerprint,
};
pub use progress::{
    NoProgress, TransferProgress, UploadPhase, UploadProgress, WorkRequestProgress,
};
pub use ratelimit::{RateLimitConfig, RateLimiter};
pub use retry::{RetryCounts, RetryPolicy, RetryStats, parse_retry_after};
pub use signer::{
    BodySigning, Signer, authorization_header, content_sha256, headers_to_sign, host_of,
    prepare_headers, request_target, signing_string,
};
pub use upload::{
    MAX_PARTS, ObjectLocation, UploadOptions, UploadOutcome, effective_part_size, multipart_md5,
    upload_file,
};
