//! YAML store (being written).
