//! Compiles a checked spec into the resource dependency graph (DESIGN.md §2, §6).
//!
//! [`compile`] turns a [`pexspec_spec::Spec`] into a [`Graph`]: one [`Node`] per resource
//! the deployment guide has you create by hand (compartment, bucket, images, VCNs, gateways,
//! route tables, security lists, subnets, DRGs and remote peerings, instances, public IPs,
//! and the Pexip configuration), each with a stable [`Address`], its region, its desired
//! state (JSON, with references to other resources as [`Ref`] markers and secrets as
//! references only) and its dependencies. The graph is acyclic; its topological order is
//! deterministic. [`Graph::to_dot`] and [`Graph::to_mermaid`] draw it.
//!
//! This crate is pure: no IO, no clock, no async.

mod address;
mod compile;
mod graph;
pub mod hash;
pub mod network;
mod render;
pub mod shapes;
pub mod testing;
pub mod topology;
pub mod value;

pub use address::{Address, Kind, ParseAddressError};
pub use compile::compile;
pub use graph::{Graph, Group, Node};
pub use render::REDUCE_UP_TO;
pub use topology::topology_html;
pub use value::{Lookup, Ref};
