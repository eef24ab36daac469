//! The OCI simulator.
