//! Static facts of the simulated cloud: regions, availability and fault domains, compute
//! shapes, and the format of OCIDs and names.

use rand::Rng as _;
use serde_json::{Value, json};

/// One OCI region the simulator knows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Region {
    pub name: &'static str,
    pub key: &'static str,
    pub ads: u8,
}

/// The regions of the oc1 realm the simulator can serve (name, key, number of ADs).
pub(crate) const REGIONS: &[Region] = &[
    Region {
        name: "af-johannesburg-1",
        key: "JNB",
        ads: 1,
    },
    Region {
        name: "ap-chuncheon-1",
        key: "YNY",
        ads: 1,
    },
    Region {
        name: "ap-hyderabad-1",
        key: "HYD",
        ads: 1,
    },
    Region {
        name: "ap-melbourne-1",
        key: "MEL",
        ads: 1,
    },
    Region {
        name: "ap-mumbai-1",
        key: "BOM",
        ads: 1,
    },
    Region {
        name: "ap-osaka-1",
        key: "KIX",
        ads: 1,
    },
    Region {
        name: "ap-seoul-1",
        key: "ICN",
        ads: 1,
    },
    Region {
        name: "ap-singapore-1",
        key: "SIN",
        ads: 1,
    },
    Region {
        name: "ap-sydney-1",
        key: "SYD",
        ads: 1,
    },
    Region {
        name: "ap-tokyo-1",
        key: "NRT",
        ads: 1,
    },
    Region {
        name: "ca-montreal-1",
        key: "YUL",
        ads: 1,
    },
    Region {
        name: "ca-toronto-1",
        key: "YYZ",
        ads: 1,
    },
    Region {
        name: "eu-amsterdam-1",
        key: "AMS",
        ads: 1,
    },
    Region {
        name: "eu-frankfurt-1",
        key: "FRA",
        ads: 3,
    },
    Region {
        name: "eu-madrid-1",
        key: "MAD",
        ads: 1,
    },
    Region {
        name: "eu-marseille-1",
        key: "MRS",
        ads: 1,
    },
    Region {
        name: "eu-milan-1",
        key: "LIN",
        ads: 1,
    },
    Region {
        name: "eu-paris-1",
        key: "CDG",
        ads: 1,
    },
    Region {
        name: "eu-stockholm-1",
        key: "ARN",
        ads: 1,
    },
    Region {
        name: "eu-zurich-1",
        key: "ZRH",
        ads: 1,
    },
    Region {
        name: "il-jerusalem-1",
        key: "MTZ",
        ads: 1,
    },
    Region {
        name: "me-dubai-1",
        key: "DXB",
        ads: 1,
    },
    Region {
        name: "me-jeddah-1",
        key: "JED",
        ads: 1,
    },
    Region {
        name: "mx-queretaro-1",
        key: "QRO",
        ads: 1,
    },
    Region {
        name: "sa-santiago-1",
        key: "SCL",
        ads: 1,
    },
    Region {
        name: "sa-saopaulo-1",
        key: "GRU",
        ads: 1,
    },
    Region {
        name: "sa-vinhedo-1",
        key: "VCP",
        ads: 1,
    },
    Region {
        name: "uk-cardiff-1",
        key: "CWL",
        ads: 1,
    },
    Region {
        name: "uk-london-1",
        key: "LHR",
        ads: 3,
    },
    Region {
        name: "us-ashburn-1",
        key: "IAD",
        ads: 3,
    },
    Region {
        name: "us-chicago-1",
        key: "ORD",
        ads: 3,
    },
    Region {
        name: "us-phoenix-1",
        key: "PHX",
        ads: 3,
    },
    Region {
        name: "us-sanjose-1",
        key: "SJC",
        ads: 1,
    },
];

/// The tenancy-specific prefix of availability-domain names.
pub(crate) const AD_PREFIX: &str = "Pjwf";

/// Finds a region by name or by key (`FRA`, case-insensitive).
pub(crate) fn region(name_or_key: &str) -> Option<Region> {
    REGIONS
        .iter()
        .find(|r| r.name == name_or_key || r.key.eq_ignore_ascii_case(name_or_key))
        .copied()
}

/// The availability-domain names of a region: `Pjwf:EU-FRANKFURT-1-AD-1`, …
pub(crate) fn availability_domains(region: &str) -> Vec<String> {
    let n = self::region(region).map_or(1, |r| r.ads);
    (1..=n)
        .map(|i| format!("{AD_PREFIX}:{}-AD-{i}", region.to_ascii_uppercase()))
        .collect()
}

/// The fault domains of every availability domain.
pub(crate) const FAULT_DOMAINS: [&str; 3] = ["FAULT-DOMAIN-1", "FAULT-DOMAIN-2", "FAULT-DOMAIN-3"];

/// A compute shape.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    pub name: &'static str,
    pub flex: bool,
    /// Fixed shapes: the OCPUs. Flex shapes: the maximum OCPUs.
    pub ocpus: f64,
    /// Fixed shapes: the memory. Flex shapes: the maximum memory.
    pub memory_gb: f64,
    pub max_per_ocpu_gb: f64,
    pub default_per_ocpu_gb: f64,
    pub processor: &'static str,
    /// Whether a custom (imported) image may use it without an added compatibility entry.
    pub custom_image_default: bool,
}

const fn fixed(name: &'static str, ocpus: f64, memory_gb: f64) -> Shape {
    Shape {
        name,
        flex: false,
        ocpus,
        memory_gb,
        max_per_ocpu_gb: 0.0,
        default_per_ocpu_gb: 0.0,
        processor: "2.0 GHz Intel® Xeon® Platinum 8167M (Skylake)",
        custom_image_default: true,
    }
}

/// The shapes of every availability domain.
pub(crate) const SHAPES: &[Shape] = &[
    fixed("VM.Standard2.1", 1.0, 15.0),
    fixed("VM.Standard2.2", 2.0, 30.0),
    fixed("VM.Standard2.4", 4.0, 60.0),
    fixed("VM.Standard2.8", 8.0, 120.0),
    fixed("VM.Standard2.16", 16.0, 240.0),
    fixed("VM.Standard2.24", 24.0, 320.0),
    Shape {
        name: "VM.Standard3.Flex",
        flex: true,
        ocpus: 32.0,
        memory_gb: 512.0,
        max_per_ocpu_gb: 64.0,
        default_per_ocpu_gb: 16.0,
        processor: "2.0 GHz Intel® Xeon® Platinum 8358 (Ice Lake)",
        custom_image_default: true,
    },
    Shape {
        name: "VM.Optimized3.Flex",
        flex: true,
        ocpus: 18.0,
        memory_gb: 256.0,
        max_per_ocpu_gb: 64.0,
        default_per_ocpu_gb: 14.0,
        processor: "3.0 GHz Intel® Xeon® Gold 6354 (Ice Lake)",
        custom_image_default: false,
    },
    Shape {
        name: "VM.Standard.E3.Flex",
        flex: true,
        ocpus: 64.0,
        memory_gb: 1024.0,
        max_per_ocpu_gb: 64.0,
        default_per_ocpu_gb: 16.0,
        processor: "2.25 GHz AMD EPYC™ 7742 (Rome)",
        custom_image_default: true,
    },
    Shape {
        name: "VM.Standard.E4.Flex",
        flex: true,
        ocpus: 64.0,
        memory_gb: 1024.0,
        max_per_ocpu_gb: 64.0,
        default_per_ocpu_gb: 16.0,
        processor: "2.55 GHz AMD EPYC™ 7J13 (Milan)",
        custom_image_default: true,
    },
    Shape {
        name: "VM.Standard.E5.Flex",
        flex: true,
        ocpus: 94.0,
        memory_gb: 1049.0,
        max_per_ocpu_gb: 64.0,
        default_per_ocpu_gb: 12.0,
        processor: "2.4 GHz AMD EPYC™ 9J14 (Genoa)",
        custom_image_default: false,
    },
    Shape {
        name: "VM.Standard.A1.Flex",
        flex: true,
        ocpus: 80.0,
        memory_gb: 512.0,
        max_per_ocpu_gb: 64.0,
        default_per_ocpu_gb: 6.0,
        processor: "3.0 GHz Ampere® Altra™",
        custom_image_default: false,
    },
];

/// Finds a shape by name.
pub(crate) fn shape(name: &str) -> Option<&'static Shape> {
    SHAPES.iter().find(|s| s.name == name)
}

/// The `Shape` JSON of ListShapes.
pub(crate) fn shape_json(s: &Shape) -> Value {
    if s.flex {
        json!({
            "shape": s.name,
            "isFlexible": true,
            "ocpus": 1.0,
            "memoryInGBs": s.default_per_ocpu_gb,
            "processorDescription": s.processor,
            "networkingBandwidthInGbps": 1.0,
            "maxVnicAttachments": 2,
            "ocpuOptions": {"min": 1.0, "max": s.ocpus},
            "memoryOptions": {
                "minInGBs": 1.0,
                "maxInGBs": s.memory_gb,
                "defaultPerOcpuInGBs": s.default_per_ocpu_gb,
                "minPerOcpuInGBs": 1.0,
                "maxPerOcpuInGBs": s.max_per_ocpu_gb
            },
            "networkingBandwidthOptions": {"minInGbps": 1.0, "maxInGbps": 40.0, "defaultPerOcpuInGbps": 1.0},
            "maxVnicAttachmentOptions": {"min": 2, "max": 24.0, "defaultPerOcpu": 1.0},
            "billingType": "PAID"
        })
    } else {
        json!({
            "shape": s.name,
            "isFlexible": false,
            "ocpus": s.ocpus,
            "memoryInGBs": s.memory_gb,
            "processorDescription": s.processor,
            "networkingBandwidthInGbps": s.ocpus,
            "maxVnicAttachments": (s.ocpus as i64).max(2),
            "billingType": "PAID"
        })
    }
}

const BASE32: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";

fn random_base32(n: usize) -> String {
    let mut rng = rand::rng();
    (0..n)
        .map(|_| BASE32[rng.random_range(0..BASE32.len())] as char)
        .collect()
}

/// A new OCID: `ocid1.<kind>.oc1.<region>.<unique>`; `region` is empty for global resources
/// (compartments), as in `ocid1.compartment.oc1..aaaa…`.
pub(crate) fn ocid(kind: &str, region: &str) -> String {
    format!("ocid1.{kind}.oc1.{region}.aaaaaaaa{}", random_base32(52))
}

/// A fresh Object Storage namespace name (12 lower-case letters and digits).
pub(crate) fn namespace_name() -> String {
    let mut rng = rand::rng();
    const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let first = (b'a' + rng.random_range(0..26u8)) as char;
    std::iter::once(first)
        .chain((0..11).map(|_| ALNUM[rng.random_range(0..ALNUM.len())] as char))
        .collect()
}

/// A random UUID (version 4), OCI's form of object and part etags and upload ids.
pub(crate) fn uuid() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = super::wire::hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// 32 upper-case hex characters (request ids).
pub(crate) fn hex32() -> String {
    let b: [u8; 16] = rand::random();
    super::wire::hex(&b).to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(
            availability_domains("eu-frankfurt-1")[0],
            "Pjwf:EU-FRANKFURT-1-AD-1"
        );
        assert_eq!(availability_domains("eu-zurich-1").len(), 1);
        let o = ocid("vcn", "eu-frankfurt-1");
        assert!(o.starts_with("ocid1.vcn.oc1.eu-frankfurt-1.aaaaaaaa"));
        assert_eq!(o.len(), "ocid1.vcn.oc1.eu-frankfurt-1.".len() + 60);
        assert!(ocid("compartment", "").starts_with("ocid1.compartment.oc1..aaaaaaaa"));
        assert_eq!(uuid().len(), 36);
        assert_eq!(region("fra").unwrap().name, "eu-frankfurt-1");
        assert!(shape("VM.Standard.E4.Flex").unwrap().flex);
    }
}
