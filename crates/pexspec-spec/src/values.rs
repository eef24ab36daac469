//! Value types of the spec that keep what was written: CIDRs and addresses (parsed by the
//! checks, so that one bad value is one finding, not a load failure) and secret references.

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::Sp;

/// A CIDR block as written, e.g. `10.0.0.0/16`. Parsing is left to the checks, which report
/// a malformed block as `invalid-value` and host bits as `cidr-host-bits`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cidr {
    /// The text as written.
    pub raw: String,
}

impl Cidr {
    /// The parsed network, if the text is a CIDR block (host bits are kept).
    pub fn net(&self) -> Option<IpNet> {
        self.raw.trim().parse().ok()
    }
}

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|raw| Cidr { raw })
    }
}

impl JsonSchema for Cidr {
    fn schema_name() -> Cow<'static, str> {
        "Cidr".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A CIDR block: an IPv4 or IPv6 network address and a prefix length, e.g. `10.0.0.0/16`.",
            "examples": ["10.0.0.0/16"],
        })
    }
}

/// An IP address as written, e.g. `10.0.1.31`. Parsing is left to the checks.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IpAddress {
    /// The text as written.
    pub raw: String,
}

impl IpAddress {
    /// The parsed address, if the text is one.
    pub fn addr(&self) -> Option<IpAddr> {
        self.raw.trim().parse().ok()
    }
}

impl<'de> Deserialize<'de> for IpAddress {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|raw| IpAddress { raw })
    }
}

impl JsonSchema for IpAddress {
    fn schema_name() -> Cow<'static, str> {
        "IpAddress".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "An IPv4 or IPv6 address, e.g. `10.0.1.31`.",
            "examples": ["10.0.1.31"],
        })
    }
}

/// Where a secret's value comes from. The value itself is never part of the spec, is read
/// only when a step needs it, and never appears in output, logs, plans or the journal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Secret {
    /// `{ env: NAME }`: the value of an environment variable.
    Env(Sp<String>),
    /// `{ file: PATH }`: the contents of a file, relative to the spec (a trailing newline is
    /// dropped).
    File(Sp<String>),
    /// A literal written in clear. The loader keeps only the fact (never the text) so it can
    /// report `secret-inline` and hide the text in every rendering of the file.
    Inline,
}

/// The kind of a secret reference, for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretRef {
    /// From the environment.
    Env,
    /// From a file.
    File,
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct SecretVisitor;

        impl<'de> Visitor<'de> for SecretVisitor {
            type Value = Secret;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a secret reference `{ env: NAME }` or `{ file: PATH }`")
            }

            fn visit_str<E: de::Error>(self, _: &str) -> Result<Secret, E> {
                Ok(Secret::Inline)
            }

            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Secret, E> {
                Ok(Secret::Inline)
            }

            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Secret, E> {
                Ok(Secret::Inline)
            }

            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Secret, E> {
                Ok(Secret::Inline)
            }

            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Secret, E> {
                Ok(Secret::Inline)
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Secret, A::Error> {
                let Some(key) = map.next_key::<String>()? else {
                    return Err(de::Error::custom(
                        "a secret reference needs `env` or `file`, e.g. `{ env: PEXIP_ADMIN_PASSWORD }`",
                    ));
                };
                let secret = match key.as_str() {
                    "env" => Secret::Env(map.next_value()?),
                    "file" => Secret::File(map.next_value()?),
                    other => return Err(de::Error::unknown_field(other, &["env", "file"])),
                };
                if let Some(extra) = map.next_key::<String>()? {
                    return Err(de::Error::custom(format!(
                        "a secret reference has exactly one of `env` or `file`, found `{key}` and `{extra}`"
                    )));
                }
                Ok(secret)
            }
        }

        d.deserialize_any(SecretVisitor)
    }
}

impl JsonSchema for Secret {
    fn schema_name() -> Cow<'static, str> {
        "Secret".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A secret, never written in clear: `{ env: NAME }` reads an environment variable, `{ file: PATH }` a file relative to the spec.",
            "oneOf": [
                {
                    "type": "object",
                    "properties": {"env": {"type": "string", "description": "The environment variable that holds the value."}},
                    "required": ["env"],
                    "additionalProperties": false,
                },
                {
                    "type": "object",
                    "properties": {"file": {"type": "string", "description": "The file that holds the value, relative to the spec."}},
                    "required": ["file"],
                    "additionalProperties": false,
                },
            ],
        })
    }
}

/// A scalar of a non-string type read strictly: the YAML must be a plain `true`/`false` or
/// number, never a quoted string (`"true"`, `"4"`) that a lenient reader would convert. The
/// JSON Schema refuses those strings, and the loader must refuse the same files.
pub(crate) trait StrictScalar: Sized {
    /// What the field holds, in the user's words.
    const WHAT: &'static str;
    /// What to write, in the user's words.
    const EXPECTED: &'static str;
    fn from_bool(_: bool) -> Option<Self> {
        None
    }
    fn from_u64(_: u64) -> Option<Self> {
        None
    }
    fn from_i64(_: i64) -> Option<Self> {
        None
    }
    fn from_f64(_: f64) -> Option<Self> {
        None
    }
}

impl StrictScalar for bool {
    const WHAT: &'static str = "a boolean";
    const EXPECTED: &'static str = "`true` or `false`, without quotes";
    fn from_bool(b: bool) -> Option<Self> {
        Some(b)
    }
}

impl StrictScalar for u64 {
    const WHAT: &'static str = "a whole number";
    const EXPECTED: &'static str = "a whole number without quotes, e.g. `1`";
    fn from_u64(n: u64) -> Option<Self> {
        Some(n)
    }
    fn from_i64(n: i64) -> Option<Self> {
        u64::try_from(n).ok()
    }
}

impl StrictScalar for f64 {
    const WHAT: &'static str = "a number";
    const EXPECTED: &'static str = "a number without quotes, e.g. `4` or `2.5`";
    fn from_u64(n: u64) -> Option<Self> {
        // Counts of OCPUs and GB: far below 2^53, exact in an f64.
        #[allow(clippy::cast_precision_loss)]
        Some(n as f64)
    }
    fn from_i64(n: i64) -> Option<Self> {
        #[allow(clippy::cast_precision_loss)]
        Some(n as f64)
    }
    fn from_f64(n: f64) -> Option<Self> {
        Some(n)
    }
}

/// The strict reading of one scalar.
struct Strict<T>(T);

impl<'de, T: StrictScalar> Deserialize<'de> for Strict<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);

        impl<T: StrictScalar> V<T> {
            fn or_err<E: de::Error>(
                v: Option<T>,
                what: de::Unexpected<'_>,
            ) -> Result<Strict<T>, E> {
                v.map(Strict)
                    .ok_or_else(|| E::invalid_value(what, &T::EXPECTED))
            }
        }

        impl<'de, T: StrictScalar> Visitor<'de> for V<T> {
            type Value = Strict<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(T::EXPECTED)
            }

            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Strict<T>, E> {
                Self::or_err(T::from_bool(v), de::Unexpected::Bool(v))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Strict<T>, E> {
                Self::or_err(T::from_u64(v), de::Unexpected::Unsigned(v))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Strict<T>, E> {
                Self::or_err(T::from_i64(v), de::Unexpected::Signed(v))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Strict<T>, E> {
                Self::or_err(T::from_f64(v), de::Unexpected::Float(v))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Strict<T>, E> {
                Err(E::custom(format!(
                    "`{}` is not {}: write {}",
                    v.escape_debug(),
                    T::WHAT,
                    T::EXPECTED
                )))
            }
        }

        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// `deserialize_with` for an `Sp<bool>`, `Sp<u64>` or `Sp<f64>` field: see [`StrictScalar`].
pub(crate) fn strict<'de, D: Deserializer<'de>, T: StrictScalar>(d: D) -> Result<Sp<T>, D::Error> {
    Sp::<Strict<T>>::deserialize(d).map(|s| s.map(|v| v.0))
}

/// [`strict`] for an optional field (`null` is absent).
pub(crate) fn opt_strict<'de, D: Deserializer<'de>, T: StrictScalar>(
    d: D,
) -> Result<Option<Sp<T>>, D::Error> {
    Option::<Sp<Strict<T>>>::deserialize(d).map(|o| o.map(|s| s.map(|v| v.0)))
}

/// [`strict`] for a plain `bool` field.
pub(crate) fn strict_plain<'de, D: Deserializer<'de>, T: StrictScalar>(
    d: D,
) -> Result<T, D::Error> {
    Strict::<T>::deserialize(d).map(|v| v.0)
}
