//! Service endpoints: region → base URL for Core (iaas), Identity and Object Storage, realm oc1
//! by default, with a per-region override (one loopback port per region for the simulator).

use std::collections::BTreeMap;
use std::fmt;

use reqwest::Url;

use crate::error::OciError;

/// The OCI services pexspec calls. Core includes the work-request API (same host).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Service {
    /// Core services: networking, compute, images, work requests (`iaas.<region>`).
    Core,
    /// Identity (`identity.<region>.oci`).
    Identity,
    /// Object Storage (`objectstorage.<region>`).
    ObjectStorage,
}

impl Service {
    /// The API version path prefix under the base URL (`/20160918`, none for Object Storage).
    pub fn base_path(self) -> &'static [&'static str] {
        match self {
            Self::Core | Self::Identity => &["20160918"],
            Self::ObjectStorage => &[],
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Core => "core",
            Self::Identity => "identity",
            Self::ObjectStorage => "objectstorage",
        })
    }
}

/// Resolves a region to each service's root URL. Without overrides, realm oc1:
/// `https://iaas.{region}.oraclecloud.com`, `https://identity.{region}.oci.oraclecloud.com`,
/// `https://objectstorage.{region}.oraclecloud.com`. An override serves every service of a
/// region from one root (as the simulator does, path-routed).
#[derive(Debug, Clone)]
pub struct Endpoints {
    domain: String,
    overrides: BTreeMap<String, Url>,
}

impl Default for Endpoints {
    fn default() -> Self {
        Self::oc1()
    }
}

impl Endpoints {
    /// The real commercial realm (`oraclecloud.com`).
    pub fn oc1() -> Self {
        Self {
            domain: "oraclecloud.com".into(),
            overrides: BTreeMap::new(),
        }
    }

    /// Serves `region` from `base` for every service (e.g. `http://127.0.0.1:41234`).
    pub fn with_override(mut self, region: &str, base: Url) -> Self {
        self.overrides.insert(region.to_string(), base);
        self
    }

    /// Builds overrides from a `region → URL` map, such as the `oci` object that
    /// `pexspec sim serve` prints.
    pub fn from_overrides<'a>(
        map: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, OciError> {
        let mut e = Self::oc1();
        for (region, url) in map {
            let parsed = Url::parse(url).map_err(|err| OciError::Endpoint {
                region: region.to_string(),
                problem: format!("`{url}` is not a URL: {err}"),
            })?;
            if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
                return Err(OciError::Endpoint {
                    region: region.to_string(),
                    problem: format!("`{url}` is not an http(s) URL"),
                });
            }
            e.overrides.insert(region.to_string(), parsed);
        }
        Ok(e)
    }

    /// The regions with an override.
    pub fn overridden_regions(&self) -> impl Iterator<Item = &str> {
        self.overrides.keys().map(String::as_str)
    }

    /// The root URL of `service` in `region` (no API version path).
    pub fn root(&self, service: Service, region: &str) -> Result<Url, OciError> {
        if let Some(u) = self.overrides.get(region) {
            return Ok(u.clone());
        }
        if region.is_empty()
            || !region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(OciError::Endpoint {
                region: region.to_string(),
                problem: "not an OCI region identifier".into(),
            });
        }
        let host = match service {
            Service::Core => format!("https://iaas.{region}.{}", self.domain),
            Service::Identity => format!("https://identity.{region}.oci.{}", self.domain),
            Service::ObjectStorage => format!("https://objectstorage.{region}.{}", self.domain),
        };
        Url::parse(&host).map_err(|e| OciError::Endpoint {
            region: region.to_string(),
            problem: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oc1_hosts() {
        let e = Endpoints::oc1();
        assert_eq!(
            e.root(Service::Core, "eu-frankfurt-1").unwrap().as_str(),
            "https://iaas.eu-frankfurt-1.oraclecloud.com/"
        );
        assert_eq!(
            e.root(Service::Identity, "eu-frankfurt-1")
                .unwrap()
                .as_str(),
            "https://identity.eu-frankfurt-1.oci.oraclecloud.com/"
        );
        assert_eq!(
            e.root(Service::ObjectStorage, "eu-zurich-1")
                .unwrap()
                .as_str(),
            "https://objectstorage.eu-zurich-1.oraclecloud.com/"
        );
        assert!(e.root(Service::Core, "evil.com/x").is_err());
    }

    #[test]
    fn overrides_serve_every_service() {
        let e = Endpoints::from_overrides([("eu-frankfurt-1", "http://127.0.0.1:9999")]).unwrap();
        for s in [Service::Core, Service::Identity, Service::ObjectStorage] {
            assert_eq!(
                e.root(s, "eu-frankfurt-1").unwrap().as_str(),
                "http://127.0.0.1:9999/"
            );
        }
        assert!(
            e.root(Service::Core, "eu-zurich-1")
                .unwrap()
                .as_str()
                .starts_with("https://iaas.")
        );
        assert!(Endpoints::from_overrides([("r", "ftp://x")]).is_err());
    }
}
