//! The OCI compute shapes pexspec knows (being written).
