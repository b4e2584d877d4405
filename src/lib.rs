//! sesame: a terminal editor and drop-in command line for SOPS-encrypted files.
//!
//! ```text
//! file bytes ─► store::{yaml,json,...}::parse ─► (Tree with ENC leaves, Metadata)
//!           ─► keys unwrap the data key ─► crypto: decrypt each leaf (AAD = key path), verify MAC
//!           ─► Document: plain tree + the original ENC text of every leaf
//!           ─► edits mark leaves changed ─► seal: changed leaves get a fresh IV, the rest keep
//!              their ENC text, MAC and lastmodified renewed ─► store::emit ─► atomic write
//! ```
//!
//! The core knows nothing about terminals or argument parsing: the command line (the binary)
//! and the editor (`tui`, the only module here that touches a terminal) are thin front
//! ends over `document::Document`.

pub mod config;
pub mod crypto;
pub mod document;
pub mod edit;
pub mod env;
pub mod fs;
pub mod gotext;
pub mod keys;
pub mod metadata;
pub mod path;
pub mod publish;
pub mod rules;
pub mod secret;
pub mod store;
pub mod tree;
pub mod tui;
