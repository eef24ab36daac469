//! Instance console connections (Core services): create, get, list and delete; and what the
//! Management Node's bootstrap needs of them: [`ensure_console_connection`] (one usable
//! connection per instance and key, reused across runs) and [`ConsoleLookup`] (the same, for a
//! stack's instance found by its tags).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use pexspec_graph::{Address, Kind};
use pexspec_plan::{GetRequest, Provider, ProviderError};
use reqwest::Method;

use crate::client::{OciClient, Request, require};
use crate::endpoints::Service;
use crate::error::{ErrorClass, OciError};
use crate::import::PollOptions;
use crate::models::*;
use crate::permissions::Operation;
use crate::provider::OciProvider;

fn req(op: Operation, method: Method, path: Vec<String>) -> Request {
    Request::new(op, Service::Core, method, path)
}

const COLLECTION: &str = "instanceConsoleConnections";

impl OciClient {
    /// CreateInstanceConsoleConnection (`POST /instanceConsoleConnections`): answers at once
    /// with the connection in `CREATING`; there is no work request.
    pub async fn create_instance_console_connection(
        &self,
        details: &CreateInstanceConsoleConnectionDetails,
        retry_token: Option<&str>,
    ) -> Result<InstanceConsoleConnection, OciError> {
        let r = req(
            Operation::CreateInstanceConsoleConnection,
            Method::POST,
            vec![COLLECTION.into()],
        )
        .json(details)?;
        Ok(self.create_resource(r, retry_token).await?.resource)
    }

    /// GetInstanceConsoleConnection (records the ETag).
    pub async fn get_instance_console_connection(
        &self,
        id: &str,
    ) -> Result<InstanceConsoleConnection, OciError> {
        let id = require(
            "GetInstanceConsoleConnection",
            "instanceConsoleConnectionId",
            id,
        )?;
        self.get_resource(req(
            Operation::GetInstanceConsoleConnection,
            Method::GET,
            vec![COLLECTION.into(), id],
        ))
        .await
    }

    /// ListInstanceConsoleConnections of a compartment, optionally of one instance (all
    /// pages; deleted connections linger in the listing for a while).
    pub async fn list_instance_console_connections(
        &self,
        compartment_id: &str,
        instance_id: Option<&str>,
    ) -> Result<Vec<InstanceConsoleConnection>, OciError> {
        let c = require(
            "ListInstanceConsoleConnections",
            "compartmentId",
            compartment_id,
        )?;
        let r = req(
            Operation::ListInstanceConsoleConnections,
            Method::GET,
            vec![COLLECTION.into()],
        )
        .query("compartmentId", c)
        .query_opt("instanceId", instance_id);
        self.list_all(r).await
    }

    /// DeleteInstanceConsoleConnection (`204`; the connection goes `DELETING`, then `DELETED`).
    pub async fn delete_instance_console_connection(
        &self,
        id: &str,
        if_match: Option<&str>,
    ) -> Result<(), OciError> {
        let id = require(
            "DeleteInstanceConsoleConnection",
            "instanceConsoleConnectionId",
            id,
        )?;
        self.delete(
            req(
                Operation::DeleteInstanceConsoleConnection,
                Method::DELETE,
                vec![COLLECTION.into(), id],
            ),
            if_match,
        )
        .await
        .map(|_| ())
    }
}

/// The OpenSSH fingerprint of a public key line (`ssh-rsa AAAA… comment`):
/// `SHA256:` and the unpadded base64 of the SHA-256 of the key blob, as `ssh-keygen -l` and
/// OCI's `fingerprint` show it. `None` when the line is not an OpenSSH public key.
pub fn ssh_key_fingerprint(public_key: &str) -> Option<String> {
    let mut parts = public_key.split_whitespace();
    let algorithm = parts.next()?;
    let blob = STANDARD.decode(parts.next()?).ok()?;
    // The blob starts with its own algorithm name, length-prefixed.
    let len = u32::from_be_bytes(blob.get(..4)?.try_into().ok()?) as usize;
    if blob.get(4..4 + len)? != algorithm.as_bytes() {
        return None;
    }
    let digest = ring::digest::digest(&ring::digest::SHA256, &blob);
    Some(format!(
        "SHA256:{}",
        STANDARD_NO_PAD.encode(digest.as_ref())
    ))
}

/// An `ACTIVE` console connection and the commands that use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleConnection {
    /// The connection's OCID.
    pub id: String,
    /// The instance's OCID.
    pub instance_id: String,
    /// The SSH command that opens the serial console (ssh offers the private half of the key
    /// the connection was made with: `-i KEY` right after `ssh`, or an agent).
    pub connection_string: String,
    /// The SSH command that forwards the VNC console to `localhost:5900`, when OCI gave one.
    pub vnc_connection_string: Option<String>,
    /// The fingerprint of the key that may connect.
    pub fingerprint: Option<String>,
    /// The fingerprint of the console service's host key, to compare on first connection.
    pub service_host_key_fingerprint: Option<String>,
    /// Whether an existing connection was reused rather than a new one made.
    pub reused: bool,
}

/// The console connection of `instance_id` (in `compartment_id`, `region`) that `ssh_public_key`
/// may use: an `ACTIVE` (or `CREATING`) one made with the same key is reused, else one is
/// created (untagged: OCI keeps no display name for it). Waits until it is `ACTIVE`, polling
/// as `poll` says on the client's clock; `FAILED` or a deletion is an error.
pub async fn ensure_console_connection(
    client: &OciClient,
    region: &str,
    compartment_id: &str,
    instance_id: &str,
    ssh_public_key: &str,
    poll: &PollOptions,
) -> Result<ConsoleConnection, OciError> {
    const OP: &str = "CreateInstanceConsoleConnection";
    let instance_id = require(OP, "instanceId", instance_id)?;
    let key = ssh_public_key.trim();
    let fingerprint = ssh_key_fingerprint(key).ok_or_else(|| OciError::InvalidArgument {
        operation: OP,
        problem: "the SSH public key is not an OpenSSH public key line (`ssh-rsa AAAA… comment`)"
            .into(),
    })?;
    let c = client.in_region(region);
    let existing = c
        .list_instance_console_connections(compartment_id, Some(&instance_id))
        .await?;
    let usable = |x: &&InstanceConsoleConnection, state: &LifecycleState| {
        x.instance_id == instance_id
            && &x.lifecycle_state == state
            && x.fingerprint.as_deref().is_none_or(|f| f == fingerprint)
    };
    let found = existing
        .iter()
        .find(|x| usable(x, &LifecycleState::Active))
        .or_else(|| {
            existing
                .iter()
                .find(|x| usable(x, &LifecycleState::Creating))
        })
        .cloned();
    let reused = found.is_some();
    let connection = match found {
        Some(x) => x,
        None => {
            let details = CreateInstanceConsoleConnectionDetails {
                instance_id: instance_id.clone(),
                public_key: key.to_owned(),
                ..CreateInstanceConsoleConnectionDetails::default()
            };
            c.create_instance_console_connection(&details, None).await?
        }
    };
    let active = wait_active(&c, connection, poll).await?;
    let connection_string = active
        .connection_string
        .clone()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| OciError::Decode {
            operation: "GetInstanceConsoleConnection",
            message: format!("`{}` is ACTIVE without a connection string", active.id),
            opc_request_id: String::new(),
        })?;
    Ok(ConsoleConnection {
        id: active.id,
        instance_id: active.instance_id,
        connection_string,
        vnc_connection_string: active.vnc_connection_string,
        fingerprint: active.fingerprint,
        service_host_key_fingerprint: active.service_host_key_fingerprint,
        reused,
    })
}

/// Polls a console connection until it is `ACTIVE`.
async fn wait_active(
    client: &OciClient,
    mut connection: InstanceConsoleConnection,
    poll: &PollOptions,
) -> Result<InstanceConsoleConnection, OciError> {
    let clock = client.clock();
    let start = clock.now();
    let mut interval = poll.initial_interval;
    loop {
        match &connection.lifecycle_state {
            LifecycleState::Active => return Ok(connection),
            LifecycleState::Creating => {}
            other => {
                return Err(OciError::Decode {
                    operation: "GetInstanceConsoleConnection",
                    message: format!(
                        "console connection `{}` is {other}, not ACTIVE: the console service could not connect to the instance",
                        connection.id
                    ),
                    opc_request_id: String::new(),
                });
            }
        }
        let waited = clock.now().saturating_sub(start);
        if waited.saturating_add(interval) > poll.timeout {
            return Err(OciError::Timeout {
                operation: "GetInstanceConsoleConnection",
                waited_secs: waited.as_secs(),
                what: format!("console connection `{}` is still CREATING", connection.id),
            });
        }
        clock.sleep(interval).await;
        let grown =
            Duration::try_from_secs_f64(interval.as_secs_f64() * 1.5).unwrap_or(Duration::MAX);
        interval = grown.min(poll.max_interval.max(poll.initial_interval));
        connection = client
            .get_instance_console_connection(&connection.id)
            .await?;
    }
}

/// Opens the serial console of one of a stack's instances: finds the instance by its tags
/// through the OCI provider (as observe does), then [`ensure_console_connection`] with the
/// operator's public key.
#[derive(Clone)]
pub struct ConsoleLookup {
    provider: Arc<OciProvider>,
    ssh_public_key: String,
    poll: PollOptions,
}

impl fmt::Debug for ConsoleLookup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsoleLookup")
            .field("key", &ssh_key_fingerprint(&self.ssh_public_key))
            .field("poll", &self.poll)
            .finish_non_exhaustive()
    }
}

impl ConsoleLookup {
    /// A lookup through `provider`, connecting with `ssh_public_key` (the line of an OpenSSH
    /// `.pub` file); waits for a new connection every 2 s, for up to 5 minutes.
    pub fn new(provider: Arc<OciProvider>, ssh_public_key: impl Into<String>) -> Self {
        Self {
            provider,
            ssh_public_key: ssh_public_key.into(),
            poll: PollOptions {
                initial_interval: Duration::from_secs(2),
                max_interval: Duration::from_secs(10),
                timeout: Duration::from_secs(300),
            },
        }
    }

    /// Polls the new connection as `poll` says.
    pub fn with_poll(mut self, poll: PollOptions) -> Self {
        self.poll = poll;
        self
    }

    /// The console connection of the stack's instance `instance` (`instance[NAME]`) in
    /// `region` (`None`: every region the provider knows is searched).
    pub async fn connect(
        &self,
        stack: &str,
        instance: &Address,
        region: Option<&str>,
    ) -> Result<ConsoleConnection, ProviderError> {
        if instance.kind() != Kind::Instance {
            return Err(ProviderError::Internal {
                message: format!("`{instance}` is not an instance: it has no serial console"),
            });
        }
        let found = self
            .provider
            .get(&GetRequest {
                stack,
                address: instance,
                region,
                id: None,
            })
            .await?
            .ok_or_else(|| ProviderError::NotFound {
                address: instance.to_string(),
            })?;
        let compartment = found
            .fields
            .get("compartment_id")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let region = found
            .region
            .clone()
            .or_else(|| region.map(str::to_owned))
            .unwrap_or_else(|| self.provider.client().region().to_owned());
        ensure_console_connection(
            self.provider.client(),
            &region,
            &compartment,
            &found.id,
            &self.ssh_public_key,
            &self.poll,
        )
        .await
        .map_err(|e| provider_error(instance, e))
    }
}

/// A client error as the provider contract's error, class for class.
fn provider_error(instance: &Address, e: OciError) -> ProviderError {
    let address = instance.to_string();
    let message = e.to_string();
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
            _ => ProviderError::Provider {
                status: 0,
                code: "console-connection".into(),
                message,
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_like_ssh_keygen() {
        // The blob of an ed25519 key: "ssh-ed25519" then 32 key bytes, each length-prefixed.
        let mut blob = Vec::new();
        blob.extend_from_slice(&11u32.to_be_bytes());
        blob.extend_from_slice(b"ssh-ed25519");
        blob.extend_from_slice(&32u32.to_be_bytes());
        blob.extend_from_slice(&[7u8; 32]);
        let line = format!("ssh-ed25519 {} me@host", STANDARD.encode(&blob));
        let fp = ssh_key_fingerprint(&line).unwrap();
        let want = STANDARD_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, &blob));
        assert_eq!(fp, format!("SHA256:{want}"));
        assert!(!fp.ends_with('='));
        // The algorithm must match the blob's; garbage is refused.
        assert_eq!(
            ssh_key_fingerprint(&format!("ssh-rsa {}", STANDARD.encode(&blob))),
            None
        );
        assert_eq!(ssh_key_fingerprint("ssh-rsa not-base64!"), None);
        assert_eq!(ssh_key_fingerprint(""), None);
    }
}
