//! Simulators of OCI and of the Pexip Management Node: real HTTP servers on loopback
//! that speak the real wire format, keep their state in SQLite and inject faults on demand.

pub mod oci;
pub mod pexip;
