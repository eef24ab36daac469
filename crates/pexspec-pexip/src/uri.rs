//! Resource URIs, the API's references between objects
//! (`/api/admin/configuration/v1/system_location/3/`), and a deserializer that accepts a
//! reference given either as a URI or as the embedded object.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// Path prefix of the configuration API.
pub const CONFIG_PREFIX: &str = "/api/admin/configuration/v1/";
/// Path prefix of the status API.
pub const STATUS_PREFIX: &str = "/api/admin/status/v1/";

/// A resource URI, e.g. `/api/admin/configuration/v1/system_location/3/`.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ResourceUri(String);

impl ResourceUri {
    /// Wraps a URI path. A full URL is reduced to its path.
    pub fn new(uri: impl Into<String>) -> Self {
        let uri = uri.into();
        match uri
            .find("://")
            .and_then(|i| uri[i + 3..].find('/').map(|j| i + 3 + j))
        {
            Some(start) => ResourceUri(uri[start..].to_owned()),
            None => ResourceUri(uri),
        }
    }

    /// The configuration URI of object `id` of `kind`.
    pub fn config(kind: &str, id: impl fmt::Display) -> Self {
        ResourceUri(format!("{CONFIG_PREFIX}{kind}/{id}/"))
    }

    /// The path.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last path segment (the id; for licences the fulfillment id).
    pub fn id(&self) -> Option<&str> {
        self.0
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .filter(|s| !s.is_empty())
    }

    /// The numeric id, when the last segment is a number.
    pub fn numeric_id(&self) -> Option<u64> {
        self.id().and_then(|s| s.parse().ok())
    }

    /// The resource kind (`system_location`, ...), when this is a configuration or status URI.
    pub fn kind(&self) -> Option<&str> {
        let rest = self
            .0
            .strip_prefix(CONFIG_PREFIX)
            .or_else(|| self.0.strip_prefix(STATUS_PREFIX))?;
        rest.split('/').next().filter(|s| !s.is_empty())
    }
}

impl fmt::Display for ResourceUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ResourceUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum UriOrObject {
    Uri(String),
    Object { resource_uri: String },
}

impl<'de> Deserialize<'de> for ResourceUri {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match UriOrObject::deserialize(d)? {
            UriOrObject::Uri(u) | UriOrObject::Object { resource_uri: u } => {
                Ok(ResourceUri::new(u))
            }
        }
    }
}

/// Deserializes a nullable reference (`null` or `""` → `None`).
pub(crate) fn optional<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ResourceUri>, D::Error> {
    let v = Option::<ResourceUri>::deserialize(d)?;
    Ok(v.filter(|u| !u.as_str().is_empty()))
}

/// Deserializes a list of references (`null` → empty).
pub(crate) fn list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<ResourceUri>, D::Error> {
    Ok(Option::<Vec<ResourceUri>>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_of_a_uri() {
        let u = ResourceUri::new(
            "https://mgr.example.com/api/admin/configuration/v1/system_location/3/",
        );
        assert_eq!(u.as_str(), "/api/admin/configuration/v1/system_location/3/");
        assert_eq!(u.kind(), Some("system_location"));
        assert_eq!(u.numeric_id(), Some(3));
        assert_eq!(ResourceUri::config("licence", "FID12").id(), Some("FID12"));
    }

    #[test]
    fn references_read_from_uris_or_objects() {
        let v: Vec<ResourceUri> = serde_json::from_str(
            r#"["/api/admin/configuration/v1/dns_server/1/", {"id": 2, "address": "x", "resource_uri": "/api/admin/configuration/v1/dns_server/2/"}]"#,
        )
        .unwrap();
        assert_eq!(v[1].numeric_id(), Some(2));
        assert_eq!(v[0].numeric_id(), Some(1));
    }
}
