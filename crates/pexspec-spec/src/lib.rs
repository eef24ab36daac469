//! The typed pexspec spec (DESIGN.md §4) with a span on every value a check can blame,
//! YAML loading with budgets, and the JSON Schema of the format.
//!
//! [`load`] turns YAML text into a [`Spec`] or into diagnostics: it never panics and never
//! returns an `Err` for bad input. Loading stops at the first structural error (as serde
//! does), always with a span and a code; the cross-field checks live in `pexspec-check`.

mod load;
mod model;
mod schema;
mod spanned;
mod values;

pub use load::{Loaded, MAX_FILE_BYTES, load, load_file, read_regular};
pub use model::*;
pub use schema::json_schema;
pub use spanned::Sp;
pub use values::{Cidr, IpAddress, Secret, SecretRef};
