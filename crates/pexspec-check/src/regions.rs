//! The OCI region identifiers pexspec knows (commercial realm oc1 and the government and
//! sovereign realms), for `unknown-region` and the region suggestions.

/// Every OCI region identifier pexspec accepts, sorted.
pub const OCI_REGIONS: &[&str] = &[
    "af-johannesburg-1",
    "ap-batam-1",
    "ap-chiyoda-1",
    "ap-chuncheon-1",
    "ap-chuncheon-2",
    "ap-dcc-canberra-1",
    "ap-hyderabad-1",
    "ap-ibaraki-1",
    "ap-melbourne-1",
    "ap-mumbai-1",
    "ap-osaka-1",
    "ap-seoul-1",
    "ap-seoul-2",
    "ap-singapore-1",
    "ap-singapore-2",
    "ap-suwon-1",
    "ap-sydney-1",
    "ap-tokyo-1",
    "ca-montreal-1",
    "ca-toronto-1",
    "eu-amsterdam-1",
    "eu-crissier-1",
    "eu-dcc-dublin-1",
    "eu-dcc-milan-1",
    "eu-dcc-rating-1",
    "eu-frankfurt-1",
    "eu-frankfurt-2",
    "eu-jovanovac-1",
    "eu-madrid-1",
    "eu-madrid-2",
    "eu-marseille-1",
    "eu-milan-1",
    "eu-paris-1",
    "eu-stockholm-1",
    "eu-turin-1",
    "eu-zurich-1",
    "il-jerusalem-1",
    "me-abudhabi-1",
    "me-dcc-muscat-1",
    "me-dubai-1",
    "me-jeddah-1",
    "me-riyadh-1",
    "mx-monterrey-1",
    "mx-queretaro-1",
    "sa-bogota-1",
    "sa-santiago-1",
    "sa-saopaulo-1",
    "sa-valparaiso-1",
    "sa-vinhedo-1",
    "uk-cardiff-1",
    "uk-gov-cardiff-1",
    "uk-gov-london-1",
    "uk-london-1",
    "us-ashburn-1",
    "us-chicago-1",
    "us-gov-ashburn-1",
    "us-gov-chicago-1",
    "us-gov-phoenix-1",
    "us-langley-1",
    "us-luke-1",
    "us-phoenix-1",
    "us-saltlake-2",
    "us-sanjose-1",
    "us-somerset-1",
    "us-thames-1",
];

/// Whether `name` is an OCI region identifier.
pub fn is_oci_region(name: &str) -> bool {
    OCI_REGIONS.binary_search(&name).is_ok()
}

/// The known region closest to `name`, when one is close enough to be a likely typo.
pub fn closest_region(name: &str) -> Option<&'static str> {
    pexspec_diagnostics::closest(name, OCI_REGIONS.iter().copied(), 0.85)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_is_sorted_and_unique() {
        assert!(OCI_REGIONS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn typos_find_their_region() {
        assert_eq!(closest_region("eu-frankfurt1"), Some("eu-frankfurt-1"));
        assert_eq!(closest_region("eu-zürich-1"), Some("eu-zurich-1"));
        assert_eq!(closest_region("mars-olympus-1"), None);
    }
}
