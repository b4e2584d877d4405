//! JSON store (being written).
