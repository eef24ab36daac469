//! The OCI compute shapes pexspec knows: for each, whether it is flexible, its OCPU and memory
//! limits (Oracle's documented limits), its processor, whether an imported custom image lists
//! it as compatible without being told, and the HD call capacity curve the estimates use.
//!
//! The checks, the resource graph and the simulator all read this one catalogue:
//!
//! ```
//! use pexspec_check::shapes::{shape, estimate_hd_calls};
//! let info = shape("VM.Optimized3.Flex").unwrap();
//! assert!(info.flex && info.ocpus.contains(&18.0));
//! assert_eq!(estimate_hd_calls(info, 8.0), 44.0);
//! ```

use std::ops::RangeInclusive;

pub use crate::capacity::estimate_hd_calls;

/// The processor family of a shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Processor {
    /// Intel Xeon (x86-64).
    Intel,
    /// AMD EPYC (x86-64).
    Amd,
    /// Ampere Arm (aarch64): Pexip Infinity does not run on it.
    Arm,
}

impl Processor {
    /// Whether Pexip Infinity runs on it (x86-64 only).
    pub fn runs_pexip(self) -> bool {
        !matches!(self, Processor::Arm)
    }
}

/// Where a shape's HD call estimate comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CapacityBasis {
    /// The guide's own measurements for this shape family.
    Measured,
    /// No measurement for this shape: the guide's VM.Standard2 curve, a conservative
    /// estimate for newer Intel and AMD processors.
    AssumedStandard2,
    /// Pexip does not run on this shape: no estimate.
    None,
}

/// What pexspec knows about one OCI compute shape.
#[derive(Clone, Debug, PartialEq)]
pub struct ShapeInfo {
    /// The OCI shape name, e.g. `VM.Standard3.Flex`.
    pub name: &'static str,
    /// Whether OCPUs and memory are chosen at launch (`shapeConfig`). A fixed shape takes no
    /// configuration.
    pub flex: bool,
    /// The OCPUs allowed (flex: Oracle's range; fixed: exactly the shape's OCPUs). OCPU
    /// counts are whole numbers.
    pub ocpus: RangeInclusive<f64>,
    /// The memory allowed in GB, absolute (fixed: exactly the shape's memory).
    pub memory_gb: RangeInclusive<f64>,
    /// The memory allowed per OCPU in GB (flex shapes: 1 to 64; fixed: the shape's ratio).
    pub memory_per_ocpu_gb: RangeInclusive<f64>,
    /// The processor family.
    pub processor: Processor,
    /// Whether a custom image imported from Pexip's OVA lists this shape as compatible
    /// without an explicit `AddImageShapeCompatibilityEntry`. When `false`, the graph adds
    /// an `image_shape` step (harmless if OCI already lists it); the guide: "Not all
    /// instance shapes are automatically available for a custom image".
    pub default_image_compatible: bool,
    /// Where the HD call estimate comes from.
    pub capacity_basis: CapacityBasis,
    /// The capacity curve (OCPUs, HD calls) the estimate interpolates, from the guide's
    /// table; empty for shapes Pexip does not run on.
    pub hd_curve: &'static [(f64, f64)],
}

impl ShapeInfo {
    /// Whether Pexip Infinity runs on this shape.
    pub fn runs_pexip(&self) -> bool {
        self.processor.runs_pexip()
    }

    /// For a fixed shape, its OCPUs and memory in GB.
    pub fn fixed(&self) -> Option<(f64, f64)> {
        (!self.flex).then(|| (*self.ocpus.start(), *self.memory_gb.start()))
    }

    /// The memory in GB allowed with `ocpus` OCPUs: the per-OCPU range times `ocpus`,
    /// clipped to the absolute range. Oracle: "The minimum amount of memory allowed is
    /// either 1 GB or a value matching the number of OCPUs, whichever is greater".
    pub fn memory_range_for(&self, ocpus: f64) -> RangeInclusive<f64> {
        let lo = (self.memory_per_ocpu_gb.start() * ocpus).max(*self.memory_gb.start());
        let hi = (self.memory_per_ocpu_gb.end() * ocpus).min(*self.memory_gb.end());
        lo..=hi
    }

    /// Whether `ocpus` is a valid OCPU count for this shape (whole and in range).
    pub fn accepts_ocpus(&self, ocpus: f64) -> bool {
        ocpus.fract() == 0.0 && self.ocpus.contains(&ocpus)
    }

    /// Whether `ocpus` and `memory_gb` are a valid configuration of this flex shape.
    pub fn accepts(&self, ocpus: f64, memory_gb: f64) -> bool {
        self.accepts_ocpus(ocpus) && self.memory_range_for(ocpus).contains(&memory_gb)
    }
}

/// The guide's measurements for VM.Standard2 (Intel 8167M @ 2.0GHz): OCPUs → HD calls.
pub const STANDARD2_CURVE: &[(f64, f64)] = &[(4.0, 12.0), (8.0, 23.0), (24.0, 63.0)];

/// The guide's measurements for VM.Optimized3.Flex (Intel Xeon Gold 6354 @ 3.0GHz).
pub const OPTIMIZED3_CURVE: &[(f64, f64)] = &[(4.0, 23.0), (8.0, 44.0), (18.0, 82.0)];

const fn flex(
    name: &'static str,
    max_ocpus: f64,
    max_memory_gb: f64,
    processor: Processor,
    default_image_compatible: bool,
    capacity_basis: CapacityBasis,
    hd_curve: &'static [(f64, f64)],
) -> ShapeInfo {
    ShapeInfo {
        name,
        flex: true,
        ocpus: 1.0..=max_ocpus,
        memory_gb: 1.0..=max_memory_gb,
        memory_per_ocpu_gb: 1.0..=64.0,
        processor,
        default_image_compatible,
        capacity_basis,
        hd_curve,
    }
}

const fn standard2(name: &'static str, ocpus: f64, memory_gb: f64) -> ShapeInfo {
    ShapeInfo {
        name,
        flex: false,
        ocpus: ocpus..=ocpus,
        memory_gb: memory_gb..=memory_gb,
        memory_per_ocpu_gb: (memory_gb / ocpus)..=(memory_gb / ocpus),
        processor: Processor::Intel,
        default_image_compatible: true,
        capacity_basis: CapacityBasis::Measured,
        hd_curve: STANDARD2_CURVE,
    }
}

/// Every shape pexspec knows, sorted by name. Limits from Oracle's "Compute Shapes" page:
/// flexible shapes take 1 to 64 GB per OCPU, at least 1 GB, up to the shape's total.
static SHAPES: [ShapeInfo; 12] = [
    flex(
        "VM.Optimized3.Flex",
        18.0,
        256.0,
        Processor::Intel,
        false,
        CapacityBasis::Measured,
        OPTIMIZED3_CURVE,
    ),
    flex(
        "VM.Standard.A1.Flex",
        80.0,
        512.0,
        Processor::Arm,
        false,
        CapacityBasis::None,
        &[],
    ),
    flex(
        "VM.Standard.E3.Flex",
        64.0,
        1024.0,
        Processor::Amd,
        false,
        CapacityBasis::AssumedStandard2,
        STANDARD2_CURVE,
    ),
    flex(
        "VM.Standard.E4.Flex",
        64.0,
        1024.0,
        Processor::Amd,
        false,
        CapacityBasis::AssumedStandard2,
        STANDARD2_CURVE,
    ),
    flex(
        "VM.Standard.E5.Flex",
        94.0,
        1049.0,
        Processor::Amd,
        false,
        CapacityBasis::AssumedStandard2,
        STANDARD2_CURVE,
    ),
    standard2("VM.Standard2.1", 1.0, 15.0),
    standard2("VM.Standard2.16", 16.0, 240.0),
    standard2("VM.Standard2.2", 2.0, 30.0),
    standard2("VM.Standard2.24", 24.0, 320.0),
    standard2("VM.Standard2.4", 4.0, 60.0),
    standard2("VM.Standard2.8", 8.0, 120.0),
    flex(
        "VM.Standard3.Flex",
        32.0,
        512.0,
        Processor::Intel,
        true,
        CapacityBasis::AssumedStandard2,
        STANDARD2_CURVE,
    ),
];

/// The shape named `name` (exact, case-sensitive, as OCI spells it).
pub fn shape(name: &str) -> Option<&'static ShapeInfo> {
    catalogue().iter().find(|s| s.name == name)
}

/// Every shape pexspec knows, sorted by name (Arm shapes included: check
/// [`ShapeInfo::runs_pexip`]).
pub fn catalogue() -> &'static [ShapeInfo] {
    &SHAPES
}

/// The shape the guide recommends for every node ("VM.Standard3.Flex (or VM.Standard2 if
/// 3.Flex isn't available)").
pub const RECOMMENDED: &str = "VM.Standard3.Flex";

/// The known shape Pexip runs on whose name is closest to `name`, for "did you mean".
pub fn closest(name: &str) -> Option<&'static str> {
    let lower = name.trim().to_ascii_lowercase();
    catalogue()
        .iter()
        .filter(|s| s.runs_pexip())
        .map(|s| {
            (
                strsim::jaro_winkler(&lower, &s.name.to_ascii_lowercase()),
                s.name,
            )
        })
        .filter(|(score, _)| *score > 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_is_sorted_unique_and_complete() {
        let names: Vec<&str> = catalogue().iter().map(|s| s.name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted);
        for name in [
            "VM.Standard3.Flex",
            "VM.Standard.E3.Flex",
            "VM.Standard.E4.Flex",
            "VM.Standard.E5.Flex",
            "VM.Optimized3.Flex",
            "VM.Standard2.1",
            "VM.Standard2.2",
            "VM.Standard2.4",
            "VM.Standard2.8",
            "VM.Standard2.16",
            "VM.Standard2.24",
            "VM.Standard.A1.Flex",
        ] {
            assert!(shape(name).is_some(), "{name} missing");
        }
        assert!(shape(RECOMMENDED).is_some_and(|s| s.flex && s.runs_pexip()));
    }

    #[test]
    fn fixed_shapes_have_their_size() {
        let s = shape("VM.Standard2.24").unwrap();
        assert_eq!(s.fixed(), Some((24.0, 320.0)));
        assert!(!s.flex);
        assert_eq!(shape("VM.Standard3.Flex").unwrap().fixed(), None);
    }

    #[test]
    fn flex_memory_depends_on_ocpus() {
        let s = shape("VM.Standard3.Flex").unwrap();
        assert_eq!(s.memory_range_for(1.0), 1.0..=64.0);
        assert_eq!(s.memory_range_for(4.0), 4.0..=256.0);
        // Capped by the shape's total.
        assert_eq!(s.memory_range_for(32.0), 32.0..=512.0);
        assert!(s.accepts(2.0, 16.0));
        assert!(!s.accepts(2.0, 1.0));
        assert!(!s.accepts(2.5, 16.0));
        assert!(!s.accepts(33.0, 64.0));
        assert!(!s.accepts(f64::NAN, 16.0));
        assert!(!s.accepts(2.0, f64::INFINITY));
    }

    #[test]
    fn arm_does_not_run_pexip() {
        assert!(!shape("VM.Standard.A1.Flex").unwrap().runs_pexip());
        assert!(shape("VM.Standard.E4.Flex").unwrap().runs_pexip());
    }

    #[test]
    fn closest_suggests_known_x86_shapes() {
        assert_eq!(closest("vm.standard3.flex"), Some("VM.Standard3.Flex"));
        assert_eq!(closest("VM.Optimised3.Flex"), Some("VM.Optimized3.Flex"));
        assert_eq!(closest("VM.Standard.E4.flex"), Some("VM.Standard.E4.Flex"));
        assert!(closest("VM.Standard2.48").is_some_and(|s| s.starts_with("VM.Standard2.")));
        // Arm shapes are never suggested.
        assert_ne!(closest("VM.Standard.A1.Flx"), Some("VM.Standard.A1.Flex"));
        assert_eq!(closest("t2.micro"), None);
        assert_eq!(shape("vm.standard3.flex"), None);
    }
}
