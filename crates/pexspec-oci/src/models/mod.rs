//! OCI wire types (JSON, camelCase, unset fields omitted) and what every resource exposes to an
//! observer: id, display name, lifecycle state, freeform tags and the ETag when one was returned.

use std::collections::BTreeMap;

mod console;
mod iaas;
mod identity;
mod object_storage;
mod work_request;

pub use console::*;
pub use iaas::*;
pub use identity::*;
pub use object_storage::*;
pub use work_request::*;

/// The freeform tag naming the pexspec stack that owns a resource.
pub const TAG_STACK: &str = "pexspec-stack";
/// The freeform tag holding a resource's pexspec address, e.g. `vcn[eu-zurich-1]`.
pub const TAG_ADDRESS: &str = "pexspec-address";

/// Defines a string enum that keeps unknown wire values (`Other`) instead of failing.
macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $wire:literal,)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $($(#[$vm])* $variant,)+
            /// A value this client does not know (services add values over time).
            Other(String),
        }

        impl $name {
            /// The wire value.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)+
                    Self::Other(s) => s,
                }
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $($wire => Self::$variant,)+
                    other => Self::Other(other.to_string()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Ok(Self::from(s.as_ref()))
            }
        }
    };
}
pub(crate) use string_enum;

string_enum! {
    /// Every `lifecycleState` value of the resources pexspec manages (oci-api.md §2.4).
    LifecycleState {
        /// Compartment being created.
        Creating = "CREATING",
        /// Compartment usable.
        Active = "ACTIVE",
        /// Compartment inactive.
        Inactive = "INACTIVE",
        /// Being deleted.
        Deleting = "DELETING",
        /// Deleted.
        Deleted = "DELETED",
        /// Being created.
        Provisioning = "PROVISIONING",
        /// Usable.
        Available = "AVAILABLE",
        /// Being changed.
        Updating = "UPDATING",
        /// Being terminated.
        Terminating = "TERMINATING",
        /// Gone.
        Terminated = "TERMINATED",
        /// Attachment being made.
        Attaching = "ATTACHING",
        /// Attached.
        Attached = "ATTACHED",
        /// Attachment being removed.
        Detaching = "DETACHING",
        /// Detached (gone).
        Detached = "DETACHED",
        /// Instance moving.
        Moving = "MOVING",
        /// Instance running.
        Running = "RUNNING",
        /// Instance starting.
        Starting = "STARTING",
        /// Instance stopping.
        Stopping = "STOPPING",
        /// Instance stopped.
        Stopped = "STOPPED",
        /// Instance being imaged.
        CreatingImage = "CREATING_IMAGE",
        /// Image being imported.
        Importing = "IMPORTING",
        /// Image being exported.
        Exporting = "EXPORTING",
        /// Image disabled.
        Disabled = "DISABLED",
        /// Public IP being assigned.
        Assigning = "ASSIGNING",
        /// Public IP assigned.
        Assigned = "ASSIGNED",
        /// Public IP being unassigned.
        Unassigning = "UNASSIGNING",
        /// Public IP not assigned.
        Unassigned = "UNASSIGNED",
        /// Console connection that could not be made.
        Failed = "FAILED",
    }
}

impl LifecycleState {
    /// True when the resource is gone or going (`TERMINATED`, `TERMINATING`, `DELETED`,
    /// `DELETING`, `DETACHED`, `DETACHING`): an observer treats it as absent.
    pub fn is_gone(&self) -> bool {
        matches!(
            self,
            Self::Terminated
                | Self::Terminating
                | Self::Deleted
                | Self::Deleting
                | Self::Detached
                | Self::Detaching
        )
    }
}

/// What an observer reads from any OCI resource.
pub trait OciResource {
    /// The resource OCID (for a bucket without an `id`: its name).
    fn id(&self) -> &str;
    /// The display name (a compartment's or bucket's `name`).
    fn display_name(&self) -> Option<&str>;
    /// The lifecycle state, for resources that have one.
    fn lifecycle_state(&self) -> Option<&LifecycleState>;
    /// Freeform tags.
    fn freeform_tags(&self) -> &BTreeMap<String, String>;
    /// The ETag of the response that returned this resource (gets, creates, updates).
    fn etag(&self) -> Option<&str>;
    /// Records the response's ETag.
    fn set_etag(&mut self, etag: Option<String>);

    /// The value of freeform tag `key`.
    fn tag(&self, key: &str) -> Option<&str> {
        self.freeform_tags().get(key).map(String::as_str)
    }

    /// True when tagged `pexspec-stack: <stack>`.
    fn belongs_to_stack(&self, stack: &str) -> bool {
        self.tag(TAG_STACK) == Some(stack)
    }

    /// The `pexspec-address` tag.
    fn pexspec_address(&self) -> Option<&str> {
        self.tag(TAG_ADDRESS)
    }
}

/// The resources of `items` tagged for `stack` that are not gone, keyed by `pexspec-address`
/// (OCI list calls cannot filter by tag: this is the client-side filter). Resources of the stack
/// without an address tag are skipped.
pub fn by_address<T: OciResource>(items: Vec<T>, stack: &str) -> BTreeMap<String, Vec<T>> {
    let mut out: BTreeMap<String, Vec<T>> = BTreeMap::new();
    for item in items {
        if !item.belongs_to_stack(stack)
            || item.lifecycle_state().is_some_and(LifecycleState::is_gone)
        {
            continue;
        }
        if let Some(addr) = item.pexspec_address().map(str::to_string) {
            out.entry(addr).or_default().push(item);
        }
    }
    out
}

/// Freeform tags `pexspec-stack` and `pexspec-address` for a create request.
pub fn pexspec_tags(stack: &str, address: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (TAG_STACK.to_string(), stack.to_string()),
        (TAG_ADDRESS.to_string(), address.to_string()),
    ])
}

/// A deterministic `opc-retry-token` for a create: 48 hex digits of SHA-256 over the stack, the
/// address and the desired state (e.g. the create body), so a re-run after a crash sends the
/// same token for the same intent (OCI honours tokens for 24 hours) and a changed intent a new one.
pub fn retry_token(stack: &str, address: &str, desired: &[u8]) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for part in [stack.as_bytes(), b"\0", address.as_bytes(), b"\0", desired] {
        ctx.update(part);
    }
    ctx.finish()
        .as_ref()
        .iter()
        .take(24)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Implements [`OciResource`] for a struct with `id`, `display_name: Option<String>`,
/// `lifecycle_state: LifecycleState`, `freeform_tags` and `etag` fields.
macro_rules! resource {
    ($($t:ty),+ $(,)?) => {$(
        impl $crate::models::OciResource for $t {
            fn id(&self) -> &str { &self.id }
            fn display_name(&self) -> Option<&str> { self.display_name.as_deref() }
            fn lifecycle_state(&self) -> Option<&$crate::models::LifecycleState> { Some(&self.lifecycle_state) }
            fn freeform_tags(&self) -> &std::collections::BTreeMap<String, String> { &self.freeform_tags }
            fn etag(&self) -> Option<&str> { self.etag.as_deref() }
            fn set_etag(&mut self, etag: Option<String>) { self.etag = etag; }
        }
    )+};
}
pub(crate) use resource;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_tokens_follow_the_intent() {
        let a = retry_token("pexdocs", "vcn[eu-zurich-1]", b"{\"cidr\":1}");
        assert_eq!(a.len(), 48);
        assert_eq!(
            a,
            retry_token("pexdocs", "vcn[eu-zurich-1]", b"{\"cidr\":1}")
        );
        assert_ne!(
            a,
            retry_token("pexdocs", "vcn[eu-zurich-1]", b"{\"cidr\":2}")
        );
        assert_ne!(retry_token("ab", "c", b""), retry_token("a", "bc", b""));
    }

    #[test]
    fn unknown_enum_values_are_kept() {
        let s: LifecycleState = serde_json::from_str("\"SOMETHING_NEW\"").unwrap();
        assert_eq!(s, LifecycleState::Other("SOMETHING_NEW".into()));
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"SOMETHING_NEW\"");
        let s: LifecycleState = serde_json::from_str("\"AVAILABLE\"").unwrap();
        assert_eq!(s, LifecycleState::Available);
    }
}
