//! Pexip Infinity management API types, client and the Pexip side of the Provider
