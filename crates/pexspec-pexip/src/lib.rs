//! Pexip Infinity management API types, client and the Pexip side of pexspec: trust of the
//! Management Node's certificate, the installation wizard's answers, idempotent platform
//! configuration, Conferencing Node bootstrap, maintenance mode and drain, and the Pexip side
//! of the plan's `Provider` ([`PexipProvider`]).
//!
//! Everything here talks to a Management Node through [`Client`]; none of it knows the
//! simulator, which builds and parses its requests with its own code.

pub mod client;
pub mod crypt;
mod der;
pub mod ensure;
pub mod error;
pub mod node;
pub mod objects;
pub mod provider;
pub mod resolver;
pub mod retry;
pub mod secret;
pub mod status;
pub mod trust;
pub mod uri;
pub mod wait;
pub mod wizard;

pub use client::{Api, Client, ClientOptions, Meta, Page, Resource, probe_fingerprint};
pub use der::{CertId, cert_id};
pub use ensure::{Ensured, ensure, ensure_absent, find};
pub use error::{ErrorClass, PexipError, TrustError};
pub use node::{
    BOOTSTRAP_PATH, BootstrapFile, BootstrapSink, BootstrapStore, CreatedNode, DrainReport,
    UploadOptions, UploadReceipt, bootstrap_base, bootstrap_url, create_worker_vm, drain,
    ensure_worker_vm, node_status, participants_on, set_maintenance, upload_bootstrap, wait_synced,
};
pub use objects::{
    Conference, ConferenceAlias, ConferenceAliasSpec, ConferenceSpec, DnsServer, DnsServerSpec,
    FieldChange, FieldValue, Fields, Licence, LicenceSpec, Managed, NodeRole, NtpServer,
    NtpServerSpec, SystemLocation, SystemLocationSpec, TlsCertificate, TlsCertificateSpec,
    WorkerVm, WorkerVmSpec, diff,
};
pub use provider::{
    MANAGER_READY_STATE, NODE_READY_STATE, NODE_UPLOADED_STATE, OperatorWizard, PEXIP_KINDS,
    PexipProvider, PexipProviderOptions, SECRET_NOT_SET, SECRET_SET, UploadRouter, WRITE_ONLY,
    WizardMode, provider_error, write_only,
};
pub use resolver::{SecretResolver, SpecSecrets};
pub use retry::{RetryPolicy, Sleeper, TokioSleeper};
pub use secret::Secret;
pub use status::{ConferenceStatus, ManagementVmStatus, ParticipantStatus, WorkerVmStatus};
pub use trust::{Fingerprint, Trust, TrustHandle, rustls_config};
pub use uri::ResourceUri;
pub use wait::WaitOptions;
pub use wizard::{
    Answer, ConsoleAccess, ConsoleFuture, ConsoleInfo, ConsoleTarget, InstructionSink,
    SecretSource, WizardInputs, WizardScript, WizardStep, render_instructions, render_wizard,
    wait_until_ready,
};
