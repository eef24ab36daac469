//! Compiles a checked spec into the resource dependency graph
