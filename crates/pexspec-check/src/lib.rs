//! Every check of the spec (DESIGN.md section 5), one module per family
