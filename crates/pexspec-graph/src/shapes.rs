//! The shapes an imported custom image lists as compatible by default. Any other shape a
//! node uses gets an `image_shape` resource (the guide: "Not all instance shapes are
//! automatically available for a custom image. For example, if you want to use a
//! VM.Optimized3.Flex shape you need to manually make it available").

/// Shapes OCI lists as compatible with an imported (paravirtualized) custom image without an
/// explicit compatibility entry. The guide's shape browser for a custom image shows the
/// VM.Standard2 series, and it recommends VM.Standard3.Flex with no extra step.
pub const DEFAULT_IMAGE_SHAPES: &[&str] = &[
    "VM.Standard2.1",
    "VM.Standard2.2",
    "VM.Standard2.4",
    "VM.Standard2.8",
    "VM.Standard2.16",
    "VM.Standard2.24",
    "VM.Standard.E2.1",
    "VM.Standard.E2.2",
    "VM.Standard.E2.4",
    "VM.Standard.E2.8",
    "VM.Standard3.Flex",
    "VM.Standard.E3.Flex",
    "VM.Standard.E4.Flex",
];

/// Whether a custom image lists `shape` as compatible by default.
pub fn listed_by_default(shape: &str) -> bool {
    DEFAULT_IMAGE_SHAPES.contains(&shape)
}
