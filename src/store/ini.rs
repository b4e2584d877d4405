//! INI store (being written).
