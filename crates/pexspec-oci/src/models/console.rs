//! Instance console connections: SSH access to an instance's serial console through OCI's
//! console service (the guide's "Bootstrapping the Management Node").

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{LifecycleState, OciResource};

type Tags = BTreeMap<String, String>;

/// `CreateInstanceConsoleConnectionDetails` (the connection lands in the instance's
/// compartment).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateInstanceConsoleConnectionDetails {
    /// The instance's OCID.
    pub instance_id: String,
    /// The OpenSSH public key (`ssh-rsa AAAA… comment`) that may connect.
    pub public_key: String,
    /// Freeform tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub freeform_tags: Tags,
}

/// `InstanceConsoleConnection`. It has no display name and no creation time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceConsoleConnection {
    /// OCID.
    pub id: String,
    /// Compartment OCID (the instance's).
    #[serde(default)]
    pub compartment_id: String,
    /// The instance's OCID.
    #[serde(default)]
    pub instance_id: String,
    /// The SSH command that opens the serial console
    /// (`ssh -o ProxyCommand='ssh -W %h:%p -p 443 <connection>@instance-console.<region>.oci.oraclecloud.com' <instance>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_string: Option<String>,
    /// The SSH command that forwards the VNC console to `localhost:5900`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vnc_connection_string: Option<String>,
    /// The fingerprint of the public key that may connect (`SHA256:…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// The fingerprint of the console service's host key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_host_key_fingerprint: Option<String>,
    /// `CREATING`, `ACTIVE`, `FAILED`, `DELETING` or `DELETED`.
    pub lifecycle_state: LifecycleState,
    /// Freeform tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub freeform_tags: Tags,
    /// ETag of the response, when one was returned.
    #[serde(skip)]
    pub etag: Option<String>,
}

impl OciResource for InstanceConsoleConnection {
    fn id(&self) -> &str {
        &self.id
    }
    fn display_name(&self) -> Option<&str> {
        None
    }
    fn lifecycle_state(&self) -> Option<&LifecycleState> {
        Some(&self.lifecycle_state)
    }
    fn freeform_tags(&self) -> &BTreeMap<String, String> {
        &self.freeform_tags
    }
    fn etag(&self) -> Option<&str> {
        self.etag.as_deref()
    }
    fn set_etag(&mut self, etag: Option<String>) {
        self.etag = etag;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_what_the_cli_shows() {
        // Field names and values as `oci compute instance-console-connection create` prints
        // them (camelCase on the wire).
        let c: InstanceConsoleConnection = serde_json::from_value(serde_json::json!({
            "compartmentId": "ocid1.compartment.oc1..c",
            "connectionString": "ssh -o ProxyCommand='ssh -W %h:%p -p 443 ocid1.instanceconsoleconnection.oc1.phx.a@instance-console.us-phoenix-1.oraclecloud.com' ocid1.instance.oc1.phx.b",
            "definedTags": {},
            "fingerprint": "SHA256:Y0vcuPDS2HHIIfJ+ZjfO7kGln+ALmAO9hmYJb1B3fqI",
            "freeformTags": {},
            "id": "ocid1.instanceconsoleconnection.oc1.phx.a",
            "instanceId": "ocid1.instance.oc1.phx.b",
            "lifecycleState": "CREATING",
            "vncConnectionString": "ssh -o ProxyCommand='…' -N -L localhost:5900:ocid1.instance.oc1.phx.b:5900 ocid1.instance.oc1.phx.b"
        }))
        .unwrap();
        assert_eq!(c.lifecycle_state, LifecycleState::Creating);
        assert_eq!(c.display_name(), None);
        assert!(
            c.connection_string
                .unwrap()
                .ends_with("ocid1.instance.oc1.phx.b")
        );
        let failed: LifecycleState = serde_json::from_str("\"FAILED\"").unwrap();
        assert_eq!(failed, LifecycleState::Failed);
    }

    #[test]
    fn the_create_body_is_camel_case() {
        let d = CreateInstanceConsoleConnectionDetails {
            instance_id: "ocid1.instance.oc1..i".into(),
            public_key: "ssh-rsa AAAA k".into(),
            freeform_tags: BTreeMap::new(),
        };
        assert_eq!(
            serde_json::to_value(&d).unwrap(),
            serde_json::json!({"instanceId": "ocid1.instance.oc1..i", "publicKey": "ssh-rsa AAAA k"})
        );
    }
}
