//! The typed operations of [`crate::OciClient`], one module per service (oci-api.md §2.2).

mod compute;
mod console;
mod identity;
mod network;
mod object_storage;
mod work_requests;

pub use console::{
    ConsoleConnection, ConsoleLookup, ensure_console_connection, ssh_key_fingerprint,
};
pub use object_storage::PutObjectOptions;
