//! The configuration objects pexspec manages, as read from the API (`DnsServer`, ...) and as
//! desired (`DnsServerSpec`, ...), with what a provider needs to diff them: a natural key and
//! the managed fields ([`Managed`]).

use std::collections::BTreeMap;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::client::{Api, Resource};
use crate::crypt::hash_password;
use crate::der::{CertId, cert_id, normalise_serial};
use crate::error::PexipError;
use crate::secret::Secret;
use crate::uri::{self, ResourceUri};

/// A field value as compared by a diff. Secrets compare by value and show as `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub enum FieldValue {
    /// No value.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// Text.
    Text(String),
    /// A reference.
    Uri(ResourceUri),
    /// References, compared as a set.
    Uris(Vec<ResourceUri>),
    /// A secret (PIN, key): compared in constant time, never shown.
    Secret(Secret),
}

impl FieldValue {
    fn text(s: &str) -> Self {
        FieldValue::Text(s.to_owned())
    }

    fn opt_text(s: Option<&str>) -> Self {
        s.filter(|v| !v.is_empty())
            .map_or(FieldValue::Null, FieldValue::text)
    }

    fn uris(list: &[ResourceUri]) -> Self {
        let mut v = list.to_vec();
        v.sort();
        v.dedup();
        FieldValue::Uris(v)
    }

    fn opt_uri(u: Option<&ResourceUri>) -> Self {
        u.map_or(FieldValue::Null, |u| FieldValue::Uri(u.clone()))
    }

    /// The JSON to send (secrets exposed: only for request bodies).
    fn to_json(&self) -> Value {
        match self {
            FieldValue::Null => Value::Null,
            FieldValue::Bool(b) => json!(b),
            FieldValue::Int(i) => json!(i),
            FieldValue::Text(s) => json!(s),
            FieldValue::Uri(u) => json!(u.as_str()),
            FieldValue::Uris(list) => {
                json!(list.iter().map(ResourceUri::as_str).collect::<Vec<_>>())
            }
            FieldValue::Secret(s) => json!(s.expose()),
        }
    }
}

impl fmt::Display for FieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::Null => f.write_str("null"),
            FieldValue::Bool(b) => write!(f, "{b}"),
            FieldValue::Int(i) => write!(f, "{i}"),
            FieldValue::Text(s) => write!(f, "{s:?}"),
            FieldValue::Uri(u) => write!(f, "{u}"),
            FieldValue::Uris(list) => {
                let items: Vec<&str> = list.iter().map(ResourceUri::as_str).collect();
                write!(f, "[{}]", items.join(", "))
            }
            FieldValue::Secret(_) => f.write_str("<redacted>"),
        }
    }
}

impl fmt::Debug for FieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// One field that differs between desired and observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    /// API field name.
    pub field: &'static str,
    /// Observed value.
    pub from: FieldValue,
    /// Desired value.
    pub to: FieldValue,
}

/// Managed fields by API field name.
pub type Fields = BTreeMap<&'static str, FieldValue>;

/// A desired configuration object: what a provider needs to find, diff and write it.
pub trait Managed {
    /// The object as read from the API.
    type Observed: Resource + Clone + fmt::Debug;

    /// The natural key, readable and free of secrets (`10.0.0.2`, `Frankfurt`,
    /// `licence sha256:…`).
    fn natural_key(&self) -> String;
    /// The natural key of an observed object (same form as [`Managed::natural_key`]).
    fn observed_key(observed: &Self::Observed) -> String;
    /// Whether `observed` is this object (by natural key; secrets compared in constant time).
    fn matches(&self, observed: &Self::Observed) -> bool {
        self.natural_key() == Self::observed_key(observed)
    }
    /// A list filter that narrows the search by natural key, when the API offers one.
    fn lookup(&self) -> Option<(&'static str, String)>;
    /// The fields pexspec manages, desired.
    fn managed_fields(&self) -> Fields;
    /// The same fields, observed.
    fn observed_fields(observed: &Self::Observed) -> Fields;
    /// Fields that cannot change in place (the object must be replaced).
    fn immutable_fields() -> &'static [&'static str] {
        &[]
    }
    /// The resource URI of an observed object.
    fn uri(observed: &Self::Observed) -> &ResourceUri;
    /// The create body.
    fn create_body(&self) -> Result<Value, PexipError>;
    /// The PATCH body that sets `changed` fields.
    fn patch_body(&self, changed: &[FieldChange]) -> Value {
        let mut body = Map::new();
        for change in changed {
            body.insert(change.field.to_owned(), change.to.to_json());
        }
        Value::Object(body)
    }
}

/// The fields of `desired` that differ from `observed`, in field order.
pub fn diff<M: Managed>(desired: &M, observed: &M::Observed) -> Vec<FieldChange> {
    let want = desired.managed_fields();
    let have = M::observed_fields(observed);
    want.into_iter()
        .filter_map(|(field, to)| {
            let from = have.get(field).cloned().unwrap_or(FieldValue::Null);
            (from != to).then_some(FieldChange { field, from, to })
        })
        .collect()
}

fn fields(pairs: impl IntoIterator<Item = (&'static str, FieldValue)>) -> Fields {
    pairs.into_iter().collect()
}

fn body_of(fields: &Fields) -> Value {
    Value::Object(
        fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.to_json()))
            .collect(),
    )
}

// ---------------------------------------------------------------- dns_server, ntp_server

/// A DNS server (`dns_server`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct DnsServer {
    /// Id.
    pub id: u64,
    /// URI.
    pub resource_uri: ResourceUri,
    /// IP address or host name.
    pub address: String,
    /// Description.
    pub description: String,
}

impl Resource for DnsServer {
    const KIND: &'static str = "dns_server";
    const API: Api = Api::Configuration;
}

/// A desired DNS server. Natural key: the address (the wizard's servers are adopted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsServerSpec {
    /// IP address or host name.
    pub address: String,
    /// Description.
    pub description: String,
}

impl Managed for DnsServerSpec {
    type Observed = DnsServer;

    fn natural_key(&self) -> String {
        self.address.clone()
    }
    fn observed_key(o: &DnsServer) -> String {
        o.address.clone()
    }
    fn lookup(&self) -> Option<(&'static str, String)> {
        Some(("address", self.address.clone()))
    }
    fn managed_fields(&self) -> Fields {
        fields([
            ("address", FieldValue::text(&self.address)),
            ("description", FieldValue::text(&self.description)),
        ])
    }
    fn observed_fields(o: &DnsServer) -> Fields {
        fields([
            ("address", FieldValue::text(&o.address)),
            ("description", FieldValue::text(&o.description)),
        ])
    }
    fn uri(o: &DnsServer) -> &ResourceUri {
        &o.resource_uri
    }
    fn create_body(&self) -> Result<Value, PexipError> {
        Ok(body_of(&self.managed_fields()))
    }
}

/// An NTP server (`ntp_server`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct NtpServer {
    /// Id.
    pub id: u64,
    /// URI.
    pub resource_uri: ResourceUri,
    /// IP address or host name.
    pub address: String,
    /// Description.
    pub description: String,
    /// Id of the symmetric key, if any (the key itself is never read).
    pub key_id: Option<u32>,
}

impl Resource for NtpServer {
    const KIND: &'static str = "ntp_server";
    const API: Api = Api::Configuration;
}

/// A desired NTP server. Natural key: the address (the wizard's servers are adopted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NtpServerSpec {
    /// IP address or host name.
    pub address: String,
    /// Description.
    pub description: String,
}

impl Managed for NtpServerSpec {
    type Observed = NtpServer;

    fn natural_key(&self) -> String {
        self.address.clone()
    }
    fn observed_key(o: &NtpServer) -> String {
        o.address.clone()
    }
    fn lookup(&self) -> Option<(&'static str, String)> {
        Some(("address", self.address.clone()))
    }
    fn managed_fields(&self) -> Fields {
        fields([
            ("address", FieldValue::text(&self.address)),
            ("description", FieldValue::text(&self.description)),
        ])
    }
    fn observed_fields(o: &NtpServer) -> Fields {
        fields([
            ("address", FieldValue::text(&o.address)),
            ("description", FieldValue::text(&o.description)),
        ])
    }
    fn uri(o: &NtpServer) -> &ResourceUri {
        &o.resource_uri
    }
    fn create_body(&self) -> Result<Value, PexipError> {
        Ok(body_of(&self.managed_fields()))
    }
}

// ---------------------------------------------------------------- system_location

/// A system location (`system_location`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct SystemLocation {
    /// Id.
    pub id: u64,
    /// URI.
    pub resource_uri: ResourceUri,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// MTU.
    pub mtu: Option<u32>,
    /// DNS servers of the location (the API returns them embedded or as URIs).
    #[serde(deserialize_with = "uri::list")]
    pub dns_servers: Vec<ResourceUri>,
    /// NTP servers of the location.
    #[serde(deserialize_with = "uri::list")]
    pub ntp_servers: Vec<ResourceUri>,
}

impl Resource for SystemLocation {
    const KIND: &'static str = "system_location";
    const API: Api = Api::Configuration;
}

/// A desired system location. Natural key: the name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemLocationSpec {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// DNS servers (URIs), compared as a set.
    pub dns_servers: Vec<ResourceUri>,
    /// NTP servers (URIs), compared as a set.
    pub ntp_servers: Vec<ResourceUri>,
    /// MTU; `None` leaves the API's value alone.
    pub mtu: Option<u32>,
}

impl Managed for SystemLocationSpec {
    type Observed = SystemLocation;

    fn natural_key(&self) -> String {
        self.name.clone()
    }
    fn observed_key(o: &SystemLocation) -> String {
        o.name.clone()
    }
    fn lookup(&self) -> Option<(&'static str, String)> {
        Some(("name", self.name.clone()))
    }
    fn managed_fields(&self) -> Fields {
        let mut f = fields([
            ("name", FieldValue::text(&self.name)),
            ("description", FieldValue::text(&self.description)),
            ("dns_servers", FieldValue::uris(&self.dns_servers)),
            ("ntp_servers", FieldValue::uris(&self.ntp_servers)),
        ]);
        if let Some(mtu) = self.mtu {
            f.insert("mtu", FieldValue::Int(i64::from(mtu)));
        }
        f
    }
    fn observed_fields(o: &SystemLocation) -> Fields {
        fields([
            ("name", FieldValue::text(&o.name)),
            ("description", FieldValue::text(&o.description)),
            ("dns_servers", FieldValue::uris(&o.dns_servers)),
            ("ntp_servers", FieldValue::uris(&o.ntp_servers)),
            (
                "mtu",
                o.mtu
                    .map_or(FieldValue::Null, |m| FieldValue::Int(i64::from(m))),
            ),
        ])
    }
    fn uri(o: &SystemLocation) -> &ResourceUri {
        &o.resource_uri
    }
    fn create_body(&self) -> Result<Value, PexipError> {
        Ok(body_of(&self.managed_fields()))
    }
}

// ---------------------------------------------------------------- licence

/// A licence (`licence`), addressed by its `fulfillment_id`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Licence {
    /// URI (`licence/<fulfillment_id>/`).
    pub resource_uri: ResourceUri,
    /// Fulfillment id.
    pub fulfillment_id: String,
    /// The entitlement (licence key): secret.
    pub entitlement_id: Secret,
    /// Whether it was activated offline.
    pub offline_mode: bool,
    /// Status (`ACTIVATED`, ...).
    pub status: String,
    /// Product id.
    pub product_id: String,
    /// Licence type.
    pub license_type: String,
    /// Concurrent call licences.
    pub concurrent: i64,
    /// Expiration date.
    pub expiration_date: Option<String>,
}

impl Resource for Licence {
    const KIND: &'static str = "licence";
    const API: Api = Api::Configuration;
}

/// A desired licence. Natural key: a fingerprint of the key (never the key itself); matched
/// against the API's `entitlement_id` in constant time. Nothing to update: a licence is added
/// or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenceSpec {
    /// The licence key (entitlement id).
    pub entitlement_id: Secret,
    /// Activate offline.
    pub offline_mode: bool,
}

impl Managed for LicenceSpec {
    type Observed = Licence;

    fn natural_key(&self) -> String {
        format!(
            "licence {}",
            licence_key(&self.entitlement_id).fingerprint()
        )
    }
    fn observed_key(o: &Licence) -> String {
        format!("licence {}", licence_key(&o.entitlement_id).fingerprint())
    }
    fn matches(&self, o: &Licence) -> bool {
        same_licence(&self.entitlement_id, &o.entitlement_id)
    }
    fn lookup(&self) -> Option<(&'static str, String)> {
        // Never put a licence key in a URL (proxies and access logs keep URLs).
        None
    }
    fn managed_fields(&self) -> Fields {
        fields([(
            "entitlement_id",
            FieldValue::Secret(self.entitlement_id.clone()),
        )])
    }
    fn observed_fields(o: &Licence) -> Fields {
        fields([(
            "entitlement_id",
            FieldValue::Secret(o.entitlement_id.clone()),
        )])
    }
    fn uri(o: &Licence) -> &ResourceUri {
        &o.resource_uri
    }
    fn create_body(&self) -> Result<Value, PexipError> {
        Ok(
            json!({ "entitlement_id": self.entitlement_id.expose(), "offline_mode": self.offline_mode }),
        )
    }
}

/// An entitlement id as the Management Node stores it: without spaces. Pexip's provider finds
/// the licence it just added by comparing the listed `entitlement_id` with the planned one
/// with every space removed (`pexip/terraform-provider-infinity`,
/// `internal/provider/resource_infinity_licence.go`, `Create`:
/// `strings.ReplaceAll(plan.EntitlementID.ValueString(), " ", "")`).
pub fn licence_key(entitlement_id: &Secret) -> Secret {
    Secret::new(entitlement_id.expose().replace(' ', ""))
}

/// Whether two entitlement ids name one licence (spaces do not count, see [`licence_key`]).
pub fn same_licence(a: &Secret, b: &Secret) -> bool {
    licence_key(a) == licence_key(b)
}

// ---------------------------------------------------------------- tls_certificate

/// A TLS certificate (`tls_certificate`). The private key is never read back.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct TlsCertificate {
    /// Id.
    pub id: u64,
    /// URI.
    pub resource_uri: ResourceUri,
    /// The certificate, PEM.
    pub certificate: String,
    /// Subject as the API shows it.
    pub subject_name: String,
    /// Issuer as the API shows it.
    pub issuer_name: String,
    /// Serial number as the API shows it.
    pub serial_no: String,
    /// Not before.
    pub start_date: Option<String>,
    /// Not after.
    pub end_date: Option<String>,
    /// Subject alternative names.
    pub subject_alt_names: String,
    /// Nodes using it.
    #[serde(deserialize_with = "uri::list")]
    pub nodes: Vec<ResourceUri>,
}

impl Resource for TlsCertificate {
    const KIND: &'static str = "tls_certificate";
    const API: Api = Api::Configuration;
}

/// A desired TLS certificate. Natural key: subject common name and serial number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsCertificateSpec {
    certificate_pem: String,
    private_key_pem: Secret,
    passphrase: Option<Secret>,
    id: CertId,
}

impl TlsCertificateSpec {
    /// From a PEM certificate and its PEM private key; fails if the certificate cannot be read.
    pub fn new(
        certificate_pem: impl Into<String>,
        private_key_pem: Secret,
        passphrase: Option<Secret>,
    ) -> Result<Self, PexipError> {
        let certificate_pem = certificate_pem.into();
        // Nothing that is a private key is ever sent as a certificate (`pexspec lint` reports
        // it as `private-key-in-certificate`).
        if certificate_pem.contains("PRIVATE KEY-----") {
            return Err(PexipError::Input(
                "the TLS certificate file holds a private key, which is never sent as a certificate"
                    .into(),
            ));
        }
        let id = cert_id(&certificate_pem).ok_or_else(|| {
            PexipError::Input("the TLS certificate is not a readable PEM X.509 certificate".into())
        })?;
        Ok(TlsCertificateSpec {
            certificate_pem,
            private_key_pem,
            passphrase,
            id,
        })
    }

    /// Subject common name, serial and fingerprint.
    pub fn cert_id(&self) -> &CertId {
        &self.id
    }

    /// The certificate, PEM.
    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }
}

fn cn_of(subject: &str) -> String {
    subject
        .split([',', '/'])
        .find_map(|part| part.trim().strip_prefix("CN="))
        .map(str::to_owned)
        .unwrap_or_default()
}

fn observed_cert_key(o: &TlsCertificate) -> (String, String) {
    match cert_id(&o.certificate) {
        Some(id) => (id.common_name, id.serial),
        None => (cn_of(&o.subject_name), normalise_serial(&o.serial_no)),
    }
}

impl Managed for TlsCertificateSpec {
    type Observed = TlsCertificate;

    fn natural_key(&self) -> String {
        format!("CN={} serial={}", self.id.common_name, self.id.serial)
    }
    fn observed_key(o: &TlsCertificate) -> String {
        let (cn, serial) = observed_cert_key(o);
        format!("CN={cn} serial={serial}")
    }
    fn lookup(&self) -> Option<(&'static str, String)> {
        None
    }
    fn managed_fields(&self) -> Fields {
        fields([(
            "certificate",
            FieldValue::Text(self.id.fingerprint.to_string()),
        )])
    }
    fn observed_fields(o: &TlsCertificate) -> Fields {
        let fp = cert_id(&o.certificate).map_or(FieldValue::Null, |id| {
            FieldValue::Text(id.fingerprint.to_string())
        });
        fields([("certificate", fp)])
    }
    fn uri(o: &TlsCertificate) -> &ResourceUri {
        &o.resource_uri
    }
    fn create_body(&self) -> Result<Value, PexipError> {
        let mut body = json!({
            "certificate": self.certificate_pem,
            "private_key": self.private_key_pem.expose(),
        });
        if let (Some(p), Some(obj)) = (&self.passphrase, body.as_object_mut()) {
            obj.insert("private_key_passphrase".into(), json!(p.expose()));
        }
        Ok(body)
    }
    fn patch_body(&self, _changed: &[FieldChange]) -> Value {
        // A different certificate under the same subject and serial: send it with its key.
        self.create_body().unwrap_or(Value::Null)
    }
}

// ---------------------------------------------------------------- conference, conference_alias

/// A Virtual Meeting Room (`conference`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Conference {
    /// Id.
    pub id: u64,
    /// URI.
    pub resource_uri: ResourceUri,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// `conference`, `lecture`, ...
    pub service_type: String,
    /// Host PIN (secret).
    pub pin: Secret,
    /// Guest PIN (secret).
    pub guest_pin: Secret,
    /// Whether guests may join.
    pub allow_guests: bool,
    /// Aliases (read-only here: managed as `conference_alias` objects).
    #[serde(deserialize_with = "uri::list")]
    pub aliases: Vec<ResourceUri>,
}

impl Resource for Conference {
    const KIND: &'static str = "conference";
    const API: Api = Api::Configuration;
}

/// A desired Virtual Meeting Room. Natural key: the name. Its aliases are
/// [`ConferenceAliasSpec`] objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConferenceSpec {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Host PIN (none: no PIN).
    pub pin: Option<Secret>,
    /// Guest PIN (none: no PIN).
    pub guest_pin: Option<Secret>,
    /// Whether guests may join.
    pub allow_guests: bool,
}

impl Managed for ConferenceSpec {
    type Observed = Conference;

    fn natural_key(&self) -> String {
        self.name.clone()
    }
    fn observed_key(o: &Conference) -> String {
        o.name.clone()
    }
    fn lookup(&self) -> Option<(&'static str, String)> {
        Some(("name", self.name.clone()))
    }
    fn managed_fields(&self) -> Fields {
        fields([
            ("name", FieldValue::text(&self.name)),
            ("description", FieldValue::text(&self.description)),
            (
                "pin",
                FieldValue::Secret(self.pin.clone().unwrap_or_default()),
            ),
            (
                "guest_pin",
                FieldValue::Secret(self.guest_pin.clone().unwrap_or_default()),
            ),
            ("allow_guests", FieldValue::Bool(self.allow_guests)),
        ])
    }
    fn observed_fields(o: &Conference) -> Fields {
        fields([
            ("name", FieldValue::text(&o.name)),
            ("description", FieldValue::text(&o.description)),
            ("pin", FieldValue::Secret(o.pin.clone())),
            ("guest_pin", FieldValue::Secret(o.guest_pin.clone())),
            ("allow_guests", FieldValue::Bool(o.allow_guests)),
        ])
    }
    fn uri(o: &Conference) -> &ResourceUri {
        &o.resource_uri
    }
    fn create_body(&self) -> Result<Value, PexipError> {
        Ok(body_of(&self.managed_fields()))
    }
}

/// An alias of a Virtual Meeting Room (`conference_alias`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct ConferenceAlias {
    /// Id.
    pub id: u64,
    /// URI.
    pub resource_uri: ResourceUri,
    /// The alias dialled.
    pub alias: String,
    /// The conference (URI).
    pub conference: ResourceUri,
    /// Description.
    pub description: String,
}

impl Resource for ConferenceAlias {
    const KIND: &'static str = "conference_alias";
    const API: Api = Api::Configuration;
}

/// A desired alias. Natural key: the alias.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConferenceAliasSpec {
    /// The alias dialled.
    pub alias: String,
    /// The conference (URI).
    pub conference: ResourceUri,
    /// Description.
    pub description: String,
}

impl Managed for ConferenceAliasSpec {
    type Observed = ConferenceAlias;

    fn natural_key(&self) -> String {
        self.alias.clone()
    }
    fn observed_key(o: &ConferenceAlias) -> String {
        o.alias.clone()
    }
    fn lookup(&self) -> Option<(&'static str, String)> {
        Some(("alias", self.alias.clone()))
    }
    fn managed_fields(&self) -> Fields {
        fields([
            ("alias", FieldValue::text(&self.alias)),
            ("conference", FieldValue::Uri(self.conference.clone())),
            ("description", FieldValue::text(&self.description)),
        ])
    }
    fn observed_fields(o: &ConferenceAlias) -> Fields {
        fields([
            ("alias", FieldValue::text(&o.alias)),
            ("conference", FieldValue::Uri(o.conference.clone())),
            ("description", FieldValue::text(&o.description)),
        ])
    }
    fn uri(o: &ConferenceAlias) -> &ResourceUri {
        &o.resource_uri
    }
    fn create_body(&self) -> Result<Value, PexipError> {
        Ok(body_of(&self.managed_fields()))
    }
}

// ---------------------------------------------------------------- worker_vm

/// A Conferencing Node's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NodeRole {
    /// Transcoding Conferencing Node (`node_type: CONFERENCING`).
    #[default]
    Transcoding,
    /// Proxying Edge Node (`node_type: PROXYING`).
    Proxying,
}

impl NodeRole {
    /// The API's `node_type`.
    pub fn node_type(self) -> &'static str {
        match self {
            NodeRole::Transcoding => "CONFERENCING",
            NodeRole::Proxying => "PROXYING",
        }
    }
}

/// A Conferencing Node (`worker_vm`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct WorkerVm {
    /// Id.
    pub id: u64,
    /// URI.
    pub resource_uri: ResourceUri,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Hostname.
    pub hostname: String,
    /// Domain.
    pub domain: String,
    /// IPv4 address (the instance's private address).
    pub address: String,
    /// Network mask.
    pub netmask: String,
    /// Default gateway.
    pub gateway: String,
    /// Static NAT address (the instance's public address).
    pub static_nat_address: Option<String>,
    /// SIP TLS FQDN.
    pub alternative_fqdn: Option<String>,
    /// `CONFERENCING` or `PROXYING`.
    pub node_type: String,
    /// Deployment type.
    pub deployment_type: String,
    /// System location (URI).
    #[serde(deserialize_with = "uri::optional")]
    pub system_location: Option<ResourceUri>,
    /// TLS certificate (URI).
    #[serde(deserialize_with = "uri::optional")]
    pub tls_certificate: Option<ResourceUri>,
    /// IPv6 address.
    pub ipv6_address: Option<String>,
    /// IPv6 gateway.
    pub ipv6_gateway: Option<String>,
    /// Maintenance mode.
    pub maintenance_mode: bool,
    /// Why maintenance mode is on.
    pub maintenance_mode_reason: String,
    /// Distributed database.
    pub enable_distributed_database: bool,
}

impl Resource for WorkerVm {
    const KIND: &'static str = "worker_vm";
    const API: Api = Api::Configuration;
}

/// A desired Conferencing Node, created with `deployment_type: MANUAL-PROVISION-ONLY` (the
/// guide's "Generic (configuration-only)"). Natural key: the name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerVmSpec {
    /// Name (at most 32 characters).
    pub name: String,
    /// Description.
    pub description: String,
    /// Transcoding or proxying.
    pub role: NodeRole,
    /// Hostname (at most 63 characters).
    pub hostname: String,
    /// Domain (at most 192 characters).
    pub domain: String,
    /// The instance's private IPv4 address.
    pub address: Ipv4Addr,
    /// Network mask.
    pub netmask: Ipv4Addr,
    /// Default gateway (the subnet's first host address).
    pub gateway: Ipv4Addr,
    /// The instance's public address, if any.
    pub static_nat_address: Option<Ipv4Addr>,
    /// SIP TLS FQDN (API field `alternative_fqdn`).
    pub sip_tls_fqdn: Option<String>,
    /// System location (URI).
    pub system_location: ResourceUri,
    /// TLS certificate (URI).
    pub tls_certificate: Option<ResourceUri>,
    /// IPv6 address.
    pub ipv6_address: Option<Ipv6Addr>,
    /// IPv6 gateway.
    pub ipv6_gateway: Option<Ipv6Addr>,
    /// SSH password of the node's `admin` user; sent only as a SHA-512 crypt hash.
    pub ssh_password: Secret,
    /// Distributed database ("usually enabled for nodes that are always on").
    pub enable_distributed_database: bool,
}

impl WorkerVmSpec {
    /// Checks the API's length limits before anything is sent.
    pub fn check(&self) -> Result<(), PexipError> {
        for (field, value, max) in [
            ("name", &self.name, 32),
            ("hostname", &self.hostname, 63),
            ("domain", &self.domain, 192),
        ] {
            let n = value.chars().count();
            if n > max {
                return Err(PexipError::Input(format!(
                    "Conferencing Node `{}`: `{field}` has {n} characters, the API allows at most {max}",
                    self.name
                )));
            }
        }
        if self.ssh_password.is_empty() {
            return Err(PexipError::Input(format!(
                "Conferencing Node `{}`: the SSH password is empty",
                self.name
            )));
        }
        Ok(())
    }
}

impl Managed for WorkerVmSpec {
    type Observed = WorkerVm;

    fn natural_key(&self) -> String {
        self.name.clone()
    }
    fn observed_key(o: &WorkerVm) -> String {
        o.name.clone()
    }
    fn lookup(&self) -> Option<(&'static str, String)> {
        Some(("name", self.name.clone()))
    }
    fn managed_fields(&self) -> Fields {
        let ip6 =
            |a: Option<Ipv6Addr>| a.map_or(FieldValue::Null, |a| FieldValue::Text(a.to_string()));
        fields([
            ("name", FieldValue::text(&self.name)),
            ("description", FieldValue::text(&self.description)),
            ("node_type", FieldValue::text(self.role.node_type())),
            ("hostname", FieldValue::text(&self.hostname)),
            ("domain", FieldValue::text(&self.domain)),
            ("address", FieldValue::Text(self.address.to_string())),
            ("netmask", FieldValue::Text(self.netmask.to_string())),
            ("gateway", FieldValue::Text(self.gateway.to_string())),
            (
                "static_nat_address",
                self.static_nat_address
                    .map_or(FieldValue::Null, |a| FieldValue::Text(a.to_string())),
            ),
            (
                // A plain string on the API, `""` when unset (never null): the provider's
                // default is `""` (`pexip/terraform-provider-infinity`,
                // `resource_infinity_worker_vm.go`) and the SDK's update request sends it
                // as a string (`pexip/go-infinity-sdk` `config/worker_vm_model.go`).
                "alternative_fqdn",
                FieldValue::text(self.sip_tls_fqdn.as_deref().unwrap_or_default()),
            ),
            (
                "system_location",
                FieldValue::Uri(self.system_location.clone()),
            ),
            (
                "tls_certificate",
                FieldValue::opt_uri(self.tls_certificate.as_ref()),
            ),
            ("ipv6_address", ip6(self.ipv6_address)),
            ("ipv6_gateway", ip6(self.ipv6_gateway)),
            (
                "enable_distributed_database",
                FieldValue::Bool(self.enable_distributed_database),
            ),
        ])
    }
    fn observed_fields(o: &WorkerVm) -> Fields {
        fields([
            ("name", FieldValue::text(&o.name)),
            ("description", FieldValue::text(&o.description)),
            ("node_type", FieldValue::text(&o.node_type)),
            ("hostname", FieldValue::text(&o.hostname)),
            ("domain", FieldValue::text(&o.domain)),
            ("address", FieldValue::text(&o.address)),
            ("netmask", FieldValue::text(&o.netmask)),
            ("gateway", FieldValue::text(&o.gateway)),
            (
                "static_nat_address",
                FieldValue::opt_text(o.static_nat_address.as_deref()),
            ),
            (
                "alternative_fqdn",
                FieldValue::text(o.alternative_fqdn.as_deref().unwrap_or_default()),
            ),
            (
                "system_location",
                FieldValue::opt_uri(o.system_location.as_ref()),
            ),
            (
                "tls_certificate",
                FieldValue::opt_uri(o.tls_certificate.as_ref()),
            ),
            (
                "ipv6_address",
                FieldValue::opt_text(o.ipv6_address.as_deref()),
            ),
            (
                "ipv6_gateway",
                FieldValue::opt_text(o.ipv6_gateway.as_deref()),
            ),
            (
                "enable_distributed_database",
                FieldValue::Bool(o.enable_distributed_database),
            ),
        ])
    }
    fn immutable_fields() -> &'static [&'static str] {
        // Written into the node by its bootstrap file: changing them means a new node.
        &[
            "hostname",
            "domain",
            "address",
            "netmask",
            "gateway",
            "ipv6_address",
            "ipv6_gateway",
        ]
    }
    fn uri(o: &WorkerVm) -> &ResourceUri {
        &o.resource_uri
    }
    /// The create body; the SSH password is hashed here (SHA-512 crypt), never sent in clear.
    fn create_body(&self) -> Result<Value, PexipError> {
        self.check()?;
        let mut body = Map::new();
        for (k, v) in self.managed_fields() {
            // Optional fields left empty are omitted, as the API's own forms do.
            if v != FieldValue::Null {
                body.insert(k.to_owned(), v.to_json());
            }
        }
        body.insert("deployment_type".into(), json!("MANUAL-PROVISION-ONLY"));
        body.insert(
            "password".into(),
            json!(hash_password(&self.ssh_password).expose()),
        );
        Ok(Value::Object(body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node() -> WorkerVmSpec {
        WorkerVmSpec {
            name: "pexconf01".into(),
            description: String::new(),
            role: NodeRole::Transcoding,
            hostname: "pexconf01".into(),
            domain: "example.com".into(),
            address: Ipv4Addr::new(10, 0, 1, 31),
            netmask: Ipv4Addr::new(255, 255, 255, 0),
            gateway: Ipv4Addr::new(10, 0, 1, 1),
            static_nat_address: None,
            sip_tls_fqdn: Some("pexconf01.example.com".into()),
            system_location: ResourceUri::config("system_location", 1),
            tls_certificate: None,
            ipv6_address: None,
            ipv6_gateway: None,
            ssh_password: Secret::new("clear-ssh-password"),
            enable_distributed_database: true,
        }
    }

    #[test]
    fn a_private_key_is_never_taken_for_a_certificate() {
        let pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n";
        let e = TlsCertificateSpec::new(pem, Secret::new("k"), None).unwrap_err();
        assert!(e.to_string().contains("holds a private key"), "{e}");
    }

    #[test]
    fn the_create_body_carries_a_hash_never_the_password() {
        let body = node().create_body().unwrap();
        let text = body.to_string();
        assert!(!text.contains("clear-ssh-password"), "{text}");
        assert!(body["password"].as_str().unwrap().starts_with("$6$"));
        assert_eq!(body["deployment_type"], "MANUAL-PROVISION-ONLY");
        assert_eq!(body["node_type"], "CONFERENCING");
        assert_eq!(body["alternative_fqdn"], "pexconf01.example.com");
        assert_eq!(
            body["system_location"],
            "/api/admin/configuration/v1/system_location/1/"
        );
        assert!(body.get("static_nat_address").is_none());
    }

    #[test]
    fn limits_are_checked_before_sending() {
        let mut n = node();
        n.name = "x".repeat(33);
        assert!(
            n.create_body()
                .unwrap_err()
                .to_string()
                .contains("at most 32")
        );
    }

    #[test]
    fn pins_diff_without_showing() {
        let want = ConferenceSpec {
            name: "Board room".into(),
            description: String::new(),
            pin: Some(Secret::new("1234")),
            guest_pin: None,
            allow_guests: false,
        };
        let have = Conference {
            name: "Board room".into(),
            pin: Secret::new("9999"),
            ..Conference::default()
        };
        let changes = diff(&want, &have);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].field, "pin");
        assert_eq!(
            format!("{:?}", changes),
            "[FieldChange { field: \"pin\", from: <redacted>, to: <redacted> }]"
        );
    }

    #[test]
    fn location_servers_compare_as_sets() {
        let a = ResourceUri::config("dns_server", 1);
        let b = ResourceUri::config("dns_server", 2);
        let want = SystemLocationSpec {
            name: "Frankfurt".into(),
            description: String::new(),
            dns_servers: vec![a.clone(), b.clone()],
            ntp_servers: vec![],
            mtu: None,
        };
        let have = SystemLocation {
            name: "Frankfurt".into(),
            dns_servers: vec![b, a],
            ..SystemLocation::default()
        };
        assert!(diff(&want, &have).is_empty());
    }
}
