//! The typed pexspec spec with spans on every value, YAML loading with budgets, and its JSON Schema
