//! The configuration resources the simulator serves: their fields, limits, defaults and the
//! validation that produces the API's `{"<kind>": {"<field>": ["message"]}}` 400 bodies.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde_json::{Map, Value, json};

/// Prefix of every configuration resource path.
pub(crate) const CONFIG_PREFIX: &str = "/api/admin/configuration/v1/";
/// Prefix of every status resource path.
pub(crate) const STATUS_PREFIX: &str = "/api/admin/status/v1/";

#[derive(Debug, Clone, Copy)]
pub(crate) enum Ty {
    Str(usize),
    Bool,
    Int(i64, i64),
    NullInt(i64, i64),
    Ipv4,
    NullIpv4,
    NullIpv6,
    Choice(&'static [&'static str]),
    Ref(&'static str),
    NullRef(&'static str),
    RefList(&'static str),
    /// A SHA-512 crypt hash (`$6$salt$hash`): the API never takes a clear SSH password.
    Crypt,
    /// A conference PIN: 4–20 digits, an optional trailing `#`, or empty.
    Pin,
    /// PEM text of at most the given length.
    Pem(usize),
    /// A list of strings (resource URIs of kinds this simulator does not model, such as
    /// `static_route` and `ssh_authorized_key`).
    StrList,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Def {
    Required,
    Null,
    Str(&'static str),
    Bool(bool),
    Int(i64),
    EmptyList,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    pub(crate) name: &'static str,
    pub(crate) ty: Ty,
    pub(crate) def: Def,
    /// Never quoted in errors (and write-only: see `returned`).
    pub(crate) secret: bool,
    /// Returned by GET. `false`: write-only, as the real API does for the fields Pexip's own
    /// provider keeps at the planned value with the comment "value not returned by API"
    /// (`pexip/terraform-provider-infinity`, `internal/provider/resource_infinity_worker_vm.go`,
    /// `read`: `deployment_type`, `password`).
    pub(crate) returned: bool,
}

const fn f(name: &'static str, ty: Ty, def: Def) -> Field {
    Field {
        name,
        ty,
        def,
        secret: false,
        returned: true,
    }
}

const fn secret(name: &'static str, ty: Ty, def: Def) -> Field {
    Field {
        name,
        ty,
        def,
        secret: true,
        returned: false,
    }
}

/// A write-only field whose value may be quoted in errors.
const fn write_only(name: &'static str, ty: Ty, def: Def) -> Field {
    Field {
        name,
        ty,
        def,
        secret: false,
        returned: false,
    }
}

#[derive(Debug)]
pub(crate) struct KindSpec {
    pub(crate) name: &'static str,
    pub(crate) fields: &'static [Field],
    /// Fields computed by the server: ignored in requests, returned by GET.
    pub(crate) read_only: &'static [&'static str],
    /// Fields whose value must be unique among objects of the kind.
    pub(crate) unique: &'static [&'static str],
}

const NODE_TYPES: &[&str] = &["CONFERENCING", "PROXYING"];
const DEPLOYMENT_TYPES: &[&str] = &[
    "MANUAL-PROVISION-ONLY",
    "MANUAL-ESXI",
    "MANUAL-HYPERV",
    "MANUAL-KVM",
    "MANUAL-XEN",
];
const SSH_MODES: &[&str] = &["GLOBAL", "OFF", "ON"];
/// `pexip/terraform-provider-infinity`, `resource_infinity_worker_vm.go`: `snmp_mode`
/// "Valid choices: DISABLED, STANDARD, AUTHPRIV", default `DISABLED`.
const SNMP_MODES: &[&str] = &["DISABLED", "STANDARD", "AUTHPRIV"];
const SERVICE_TYPES: &[&str] = &[
    "conference",
    "lecture",
    "two_stage_dialing",
    "test_call",
    "media_playback",
];

pub(crate) static KINDS: &[KindSpec] = &[
    KindSpec {
        name: "dns_server",
        fields: &[
            f("address", Ty::Str(255), Def::Required),
            f("description", Ty::Str(250), Def::Str("")),
        ],
        read_only: &[],
        unique: &[],
    },
    KindSpec {
        name: "ntp_server",
        fields: &[
            f("address", Ty::Str(255), Def::Required),
            f("description", Ty::Str(250), Def::Str("")),
            secret("key", Ty::Str(320), Def::Str("")),
            f("key_id", Ty::NullInt(1, 65_535), Def::Null),
        ],
        read_only: &[],
        unique: &[],
    },
    KindSpec {
        name: "system_location",
        fields: &[
            f("name", Ty::Str(250), Def::Required),
            f("description", Ty::Str(250), Def::Str("")),
            f("mtu", Ty::Int(512, 1500), Def::Int(1500)),
            f("dns_servers", Ty::RefList("dns_server"), Def::EmptyList),
            f("ntp_servers", Ty::RefList("ntp_server"), Def::EmptyList),
            f(
                "transcoding_location",
                Ty::NullRef("system_location"),
                Def::Null,
            ),
            f(
                "overflow_location1",
                Ty::NullRef("system_location"),
                Def::Null,
            ),
            f(
                "overflow_location2",
                Ty::NullRef("system_location"),
                Def::Null,
            ),
        ],
        read_only: &[],
        unique: &["name"],
    },
    KindSpec {
        name: "licence",
        fields: &[
            secret_returned("entitlement_id", Ty::Str(100), Def::Required),
            f("offline_mode", Ty::Bool, Def::Bool(false)),
        ],
        read_only: &[
            "fulfillment_id",
            "fulfillment_type",
            "product_id",
            "license_type",
            "features",
            "concurrent",
            "concurrent_overdraft",
            "activatable",
            "activatable_overdraft",
            "hybrid",
            "hybrid_overdraft",
            "start_date",
            "expiration_date",
            "status",
            "trust_flags",
            "repair",
            "server_chain",
            "vendor_dictionary",
        ],
        unique: &["entitlement_id"],
    },
    KindSpec {
        name: "tls_certificate",
        fields: &[
            f("certificate", Ty::Pem(12_288), Def::Required),
            secret("private_key", Ty::Pem(12_288), Def::Required),
            secret("private_key_passphrase", Ty::Str(100), Def::Str("")),
            f("parameters", Ty::Str(8192), Def::Str("")),
            f("nodes", Ty::RefList("worker_vm"), Def::EmptyList),
        ],
        read_only: &[
            "start_date",
            "end_date",
            "subject_name",
            "subject_hash",
            "subject_alt_names",
            "raw_subject",
            "issuer_name",
            "issuer_hash",
            "raw_issuer",
            "serial_no",
            "key_id",
            "issuer_key_id",
            "text",
        ],
        unique: &[],
    },
    KindSpec {
        name: "conference",
        fields: &[
            f("name", Ty::Str(250), Def::Required),
            f("description", Ty::Str(250), Def::Str("")),
            f(
                "service_type",
                Ty::Choice(SERVICE_TYPES),
                Def::Str("conference"),
            ),
            f("pin", Ty::Pin, Def::Str("")),
            f("guest_pin", Ty::Pin, Def::Str("")),
            f("allow_guests", Ty::Bool, Def::Bool(false)),
            f("tag", Ty::Str(250), Def::Str("")),
        ],
        read_only: &["aliases", "creation_time"],
        unique: &["name"],
    },
    KindSpec {
        name: "conference_alias",
        fields: &[
            f("alias", Ty::Str(250), Def::Required),
            f("conference", Ty::Ref("conference"), Def::Required),
            f("description", Ty::Str(250), Def::Str("")),
        ],
        read_only: &["creation_time"],
        unique: &["alias"],
    },
    KindSpec {
        name: "worker_vm",
        fields: &[
            f("name", Ty::Str(32), Def::Required),
            f("description", Ty::Str(250), Def::Str("")),
            f("hostname", Ty::Str(63), Def::Required),
            f("domain", Ty::Str(192), Def::Required),
            f("address", Ty::Ipv4, Def::Required),
            f("netmask", Ty::Ipv4, Def::Required),
            f("gateway", Ty::Ipv4, Def::Required),
            f("static_nat_address", Ty::NullIpv4, Def::Null),
            f("secondary_address", Ty::NullIpv4, Def::Null),
            f("secondary_netmask", Ty::NullIpv4, Def::Null),
            f("ipv6_address", Ty::NullIpv6, Def::Null),
            f("ipv6_gateway", Ty::NullIpv6, Def::Null),
            f("alternative_fqdn", Ty::Str(255), Def::Str("")),
            f(
                "node_type",
                Ty::Choice(NODE_TYPES),
                Def::Str("CONFERENCING"),
            ),
            f("transcoding", Ty::Bool, Def::Bool(true)),
            write_only(
                "deployment_type",
                Ty::Choice(DEPLOYMENT_TYPES),
                Def::Str("MANUAL-PROVISION-ONLY"),
            ),
            secret("password", Ty::Crypt, Def::Str("")),
            f("system_location", Ty::Ref("system_location"), Def::Required),
            f("tls_certificate", Ty::NullRef("tls_certificate"), Def::Null),
            f("maintenance_mode", Ty::Bool, Def::Bool(false)),
            f("maintenance_mode_reason", Ty::Str(250), Def::Str("")),
            f("enable_distributed_database", Ty::Bool, Def::Bool(true)),
            f("enable_ssh", Ty::Choice(SSH_MODES), Def::Str("GLOBAL")),
            f("vm_cpu_count", Ty::Int(2, 128), Def::Int(4)),
            f("vm_system_memory", Ty::Int(2000, 64_000), Def::Int(4096)),
            f(
                "media_priority_weight",
                Ty::NullInt(0, 1_000_000),
                Def::Null,
            ),
            // The rest of what `pexip/go-infinity-sdk` `config/worker_vm_model.go`
            // (`WorkerVMCreateRequest`, `WorkerVMUpdateRequest`) sends; limits and defaults from
            // `pexip/terraform-provider-infinity` `resource_infinity_worker_vm.go`.
            f(
                "tls_client_certificate",
                Ty::NullRef("tls_certificate"),
                Def::Null,
            ),
            f("ssh_authorized_keys", Ty::StrList, Def::EmptyList),
            f("ssh_authorized_keys_use_cloud", Ty::Bool, Def::Bool(true)),
            f("static_routes", Ty::StrList, Def::EmptyList),
            f("snmp_mode", Ty::Choice(SNMP_MODES), Def::Str("DISABLED")),
            f("snmp_community", Ty::Str(16), Def::Str("public")),
            f("snmp_username", Ty::Str(100), Def::Str("")),
            secret("snmp_authentication_password", Ty::Str(100), Def::Str("")),
            secret("snmp_privacy_password", Ty::Str(100), Def::Str("")),
            f(
                "snmp_system_contact",
                Ty::Str(70),
                Def::Str("admin@domain.com"),
            ),
            f(
                "snmp_system_location",
                Ty::Str(70),
                Def::Str("Virtual machine"),
            ),
        ],
        read_only: &[
            "cloud_bursting",
            "managed",
            "service_manager",
            "service_policy",
            "signalling",
        ],
        unique: &["name", "address"],
    },
];

/// The Management Node's configuration (`management_vm`, a singleton made by the
/// installation wizard): fields from `pexip/go-infinity-sdk` `config/management_vm_model.go`.
/// Its identity and addressing (hostname, domain, address, netmask, gateway) are the
/// wizard's and read-only here (they change only by re-running the wizard: "Re-running the
/// installation wizard", Pexip Administrator Guide); DNS and NTP servers are writable.
pub(crate) static MANAGEMENT_VM: KindSpec = KindSpec {
    name: "management_vm",
    fields: &[
        f("name", Ty::Str(32), Def::Required),
        f("description", Ty::Str(250), Def::Str("")),
        f("alternative_fqdn", Ty::Str(255), Def::Str("")),
        f("mtu", Ty::Int(512, 1500), Def::Int(1500)),
        f("dns_servers", Ty::RefList("dns_server"), Def::EmptyList),
        f("ntp_servers", Ty::RefList("ntp_server"), Def::EmptyList),
        f("static_nat_address", Ty::NullIpv4, Def::Null),
        f("enable_ssh", Ty::Choice(SSH_MODES), Def::Str("ON")),
        f("snmp_mode", Ty::Choice(SNMP_MODES), Def::Str("DISABLED")),
    ],
    read_only: &[
        "hostname",
        "domain",
        "address",
        "netmask",
        "gateway",
        "primary",
        "initializing",
    ],
    unique: &[],
};

/// A field returned by GET but never quoted in errors (the licence entitlement).
const fn secret_returned(name: &'static str, ty: Ty, def: Def) -> Field {
    Field {
        name,
        ty,
        def,
        secret: false,
        returned: true,
    }
}

/// A field type as a tastypie schema names it, and whether null is allowed.
pub(crate) fn describe(ty: Ty) -> (&'static str, bool) {
    match ty {
        Ty::Str(_) | Ty::Choice(_) | Ty::Crypt | Ty::Pin | Ty::Pem(_) => ("string", false),
        Ty::Bool => ("boolean", false),
        Ty::Int(..) => ("integer", false),
        Ty::NullInt(..) => ("integer", true),
        Ty::Ipv4 => ("string", false),
        Ty::NullIpv4 | Ty::NullIpv6 => ("string", true),
        Ty::Ref(_) => ("related", false),
        Ty::NullRef(_) => ("related", true),
        Ty::RefList(_) | Ty::StrList => ("related", false),
    }
}

/// Fields whose values are never quoted in an error message, even when returned by GET.
pub(crate) fn never_quoted(kind: &str, field: &str) -> bool {
    matches!(
        (kind, field),
        ("licence", "entitlement_id") | ("conference", "pin" | "guest_pin")
    )
}

pub(crate) fn kind(name: &str) -> Option<&'static KindSpec> {
    KINDS
        .iter()
        .chain(std::iter::once(&MANAGEMENT_VM))
        .find(|k| k.name == name)
}

/// Field errors of one request, in field order.
pub(crate) type FieldErrors = BTreeMap<String, Vec<String>>;

/// The 400 body: `{"<kind>": {"<field>": ["message", ...]}}`.
pub(crate) fn error_body(kind: &str, errors: &FieldErrors) -> Value {
    json!({ kind: errors })
}

pub(crate) fn uri(kind: &str, id: impl std::fmt::Display) -> String {
    format!("{CONFIG_PREFIX}{kind}/{id}/")
}

/// The id of a configuration resource URI of `kind` (`/api/admin/configuration/v1/<kind>/<id>/`).
pub(crate) fn parse_uri(kind: &str, value: &str) -> Option<i64> {
    let rest = value
        .strip_prefix(CONFIG_PREFIX)?
        .strip_prefix(kind)?
        .strip_prefix('/')?;
    let id = rest.strip_suffix('/').unwrap_or(rest);
    id.parse().ok()
}

/// Whether `value` is a SHA-512 crypt string: `$6$[rounds=N$]salt$hash` with an 86-char hash.
fn is_sha512_crypt(value: &str) -> bool {
    let Some(rest) = value.strip_prefix("$6$") else {
        return false;
    };
    let mut parts: Vec<&str> = rest.split('$').collect();
    if parts.first().is_some_and(|p| p.starts_with("rounds=")) {
        parts.remove(0);
    }
    let b64 = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'/')
    };
    matches!(parts.as_slice(), [salt, hash]
        if !salt.is_empty() && salt.len() <= 16 && b64(salt) && hash.len() == 86 && b64(hash))
}

fn is_pin(value: &str) -> bool {
    let digits = value.strip_suffix('#').unwrap_or(value);
    value.is_empty()
        || ((4..=20).contains(&value.len()) && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// Looks up whether a referenced object exists.
pub(crate) trait Refs {
    fn exists(&self, kind: &str, id: i64) -> bool;
}

/// Validates one field value; `Err` is the message (never quoting a secret value).
fn check(kind: &str, field: &Field, value: &Value, refs: &dyn Refs) -> Result<(), String> {
    let quote = !field.secret && !never_quoted(kind, field.name);
    let too_long = |s: &str, max: usize| {
        let n = s.chars().count();
        if n > max {
            Err(format!(
                "Ensure this value has at most {max} characters (it has {n})."
            ))
        } else {
            Ok(())
        }
    };
    let reference = |target: &str, v: &str| match parse_uri(target, v) {
        Some(id) if refs.exists(target, id) => Ok(()),
        _ => Err(format!(
            "Could not find the provided object via resource URI '{v}'."
        )),
    };
    match (field.ty, value) {
        (Ty::Str(max), Value::String(s)) => too_long(s, max),
        (Ty::NullInt(..) | Ty::NullIpv4 | Ty::NullIpv6 | Ty::NullRef(_), Value::Null) => Ok(()),
        (Ty::Bool, Value::Bool(_)) => Ok(()),
        (Ty::Int(min, max) | Ty::NullInt(min, max), Value::Number(n)) => match n.as_i64() {
            Some(i) if i < min => Err(format!(
                "Ensure this value is greater than or equal to {min}."
            )),
            Some(i) if i > max => Err(format!("Ensure this value is less than or equal to {max}.")),
            Some(_) => Ok(()),
            None => Err("Enter a whole number.".into()),
        },
        (Ty::Ipv4 | Ty::NullIpv4, Value::String(s)) => s
            .parse::<Ipv4Addr>()
            .map(|_| ())
            .map_err(|_| "Enter a valid IPv4 address.".into()),
        (Ty::NullIpv6, Value::String(s)) => s
            .parse::<Ipv6Addr>()
            .map(|_| ())
            .map_err(|_| "Enter a valid IPv6 address.".into()),
        (Ty::Choice(choices), Value::String(s)) => {
            if choices.contains(&s.as_str()) {
                Ok(())
            } else if quote {
                Err(format!(
                    "Select a valid choice. {s} is not one of the available choices."
                ))
            } else {
                Err("Select a valid choice.".into())
            }
        }
        (Ty::Ref(target) | Ty::NullRef(target), Value::String(s)) => reference(target, s),
        (Ty::RefList(target), Value::Array(items)) => {
            for item in items {
                match item {
                    Value::String(s) => reference(target, s)?,
                    _ => return Err("Expected a list of resource URIs.".into()),
                }
            }
            Ok(())
        }
        (Ty::Crypt, Value::String(s)) => {
            if s.is_empty() || is_sha512_crypt(s) {
                Ok(())
            } else {
                Err("Enter a SHA-512 crypt hash ($6$...), not a clear-text password.".into())
            }
        }
        (Ty::Pin, Value::String(s)) => {
            if is_pin(s) {
                Ok(())
            } else {
                Err("Enter 4 to 20 digits, optionally followed by #.".into())
            }
        }
        (Ty::StrList, Value::Array(items)) => {
            if items.iter().all(Value::is_string) {
                Ok(())
            } else {
                Err("Expected a list of strings.".into())
            }
        }
        (Ty::Pem(max), Value::String(s)) => {
            too_long(s, max)?;
            if s.contains("-----BEGIN ") {
                Ok(())
            } else {
                Err("Enter PEM-encoded data.".into())
            }
        }
        (_, Value::Null) => Err("This field may not be null.".into()),
        _ => Err("Invalid type for this field.".into()),
    }
}

/// The default value of a field (`None`: required).
fn default(def: Def) -> Option<Value> {
    match def {
        Def::Required => None,
        Def::Null => Some(Value::Null),
        Def::Str(s) => Some(Value::String(s.to_owned())),
        Def::Bool(b) => Some(Value::Bool(b)),
        Def::Int(i) => Some(json!(i)),
        Def::EmptyList => Some(json!([])),
    }
}

/// Validates a create (`existing == None`) or a partial update (`Some(current)`), returning the
/// full stored object (without id and computed fields).
///
/// A body field the kind does not have is ignored, as the real API (tastypie) ignores it;
/// its name goes to `ignored` so that the simulator can record it (see `Shared::ignore`).
pub(crate) fn validate(
    spec: &KindSpec,
    body: &Map<String, Value>,
    existing: Option<&Map<String, Value>>,
    others: &[(i64, Value)],
    self_id: Option<i64>,
    refs: &dyn Refs,
    ignored: &mut Vec<String>,
) -> Result<Map<String, Value>, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut out = existing.cloned().unwrap_or_default();
    for (name, value) in body {
        if name == "id" || name == "resource_uri" || spec.read_only.contains(&name.as_str()) {
            continue;
        }
        match spec.fields.iter().find(|fld| fld.name == name) {
            None => ignored.push(name.clone()),
            Some(field) => match check(spec.name, field, value, refs) {
                Ok(()) => {
                    out.insert(name.clone(), value.clone());
                }
                Err(msg) => errors.entry(name.clone()).or_default().push(msg),
            },
        }
    }
    if existing.is_none() {
        for field in spec.fields {
            if out.contains_key(field.name) || errors.contains_key(field.name) {
                continue;
            }
            match default(field.def) {
                Some(v) => {
                    out.insert(field.name.to_owned(), v);
                }
                None => {
                    errors
                        .entry(field.name.to_owned())
                        .or_default()
                        .push("This field is required.".into());
                }
            }
        }
    }
    for unique in spec.unique {
        let Some(value) = out.get(*unique) else {
            continue;
        };
        let clash = others
            .iter()
            .any(|(id, other)| Some(*id) != self_id && other.get(*unique) == Some(value));
        if clash {
            errors
                .entry((*unique).to_owned())
                .or_default()
                .push(format!(
                    "{} with this {} already exists.",
                    spec.name, unique
                ));
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoRefs;
    impl Refs for NoRefs {
        fn exists(&self, _: &str, id: i64) -> bool {
            id == 1
        }
    }

    #[test]
    fn crypt_hashes_are_recognised() {
        let hash = "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1";
        assert!(is_sha512_crypt(hash));
        assert!(!is_sha512_crypt("hunter2"));
        assert!(!is_sha512_crypt("$6$salt$short"));
    }

    #[test]
    fn name_past_32_characters_is_a_field_error() {
        let spec = kind("worker_vm").unwrap();
        let body = json!({
            "name": "x".repeat(33), "hostname": "h", "domain": "d", "address": "10.0.0.5",
            "netmask": "255.255.255.0", "gateway": "10.0.0.1",
            "system_location": "/api/admin/configuration/v1/system_location/1/"
        });
        let errors = validate(
            spec,
            body.as_object().unwrap(),
            None,
            &[],
            None,
            &NoRefs,
            &mut Vec::new(),
        )
        .unwrap_err();
        assert_eq!(
            errors["name"],
            vec!["Ensure this value has at most 32 characters (it has 33)."]
        );
        assert_eq!(errors.len(), 1);
    }

    #[test]
    fn secret_values_are_never_quoted() {
        let spec = kind("worker_vm").unwrap();
        let body = json!({"password": "clear-text-secret"});
        let errors = validate(
            spec,
            body.as_object().unwrap(),
            None,
            &[],
            None,
            &NoRefs,
            &mut Vec::new(),
        )
        .unwrap_err();
        let text = serde_json::to_string(&errors).unwrap();
        assert!(!text.contains("clear-text-secret"), "{text}");
        assert!(errors.contains_key("password"));
    }

    #[test]
    fn unknown_fields_are_ignored_and_reported() {
        let spec = kind("dns_server").unwrap();
        let body = json!({"address": "192.0.2.53", "adress": "x"});
        let mut ignored = Vec::new();
        let out = validate(
            spec,
            body.as_object().unwrap(),
            None,
            &[],
            None,
            &NoRefs,
            &mut ignored,
        )
        .unwrap();
        assert_eq!(ignored, vec!["adress".to_owned()]);
        assert!(!out.contains_key("adress"));
        assert_eq!(out["address"], "192.0.2.53");
    }

    #[test]
    fn uris_parse_by_kind() {
        assert_eq!(
            parse_uri(
                "system_location",
                "/api/admin/configuration/v1/system_location/3/"
            ),
            Some(3)
        );
        assert_eq!(
            parse_uri(
                "dns_server",
                "/api/admin/configuration/v1/system_location/3/"
            ),
            None
        );
    }
}
