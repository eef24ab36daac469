//! The Provider trait, observed state, and the diff of desired against observed state into a Plan
