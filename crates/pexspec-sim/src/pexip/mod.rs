//! The Pexip Management Node simulator.
