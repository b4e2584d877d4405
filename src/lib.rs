//! sesame: a terminal editor and drop-in command line for SOPS-encrypted files.
//!
//! ```text
//! file bytes ─► store::{yaml,json,...}::parse ─► (Tree with ENC leaves, Metadata)
//!           ─► keys unwrap the data key ─► crypto: decrypt each leaf (AAD = key path), verify MAC
//!           ─► Document: plain tree + the original ENC text of every leaf
//!           ─► edits mark leaves changed ─► crypto::walk: changed leaves get a fresh IV, the rest keep
//!              their ENC text, MAC and lastmodified renewed ─► store::emit ─► atomic write
//! ```
//!
//! The core knows nothing about terminals or argument parsing: the command line (the binary)
//! and the editor (`tui`, the only module here that touches a terminal) are thin front
//! ends over `document::Document`.

// The layers, lowest first; a module imports only its own layer and those below
// (tests/architecture.rs checks it; ARCHITECTURE.md describes each).

// Foundations: secrets in memory, process protections, the environment, Go's text forms,
// files, Git, the tree.
pub mod env;
pub mod fs;
pub mod git;
pub mod gotext;
pub mod path;
pub mod process;
pub mod rules;
pub mod secret;
pub mod tree;

// Formats: parse and emit each store, byte for byte as sops.
pub mod store;

// Crypto and keys: AES-GCM and the MAC, master keys and key groups, the sops metadata block,
// `.sops.yaml`.
pub mod config;
pub mod crypto;
pub mod keys;
pub mod metadata;

// Document operations: open, edit, merge and seal a file; review and merge revisions;
// publish its values.
pub mod document;
pub mod edit;
pub mod filemerge;
#[cfg(feature = "publish")]
pub mod publish;
pub mod repository;
pub mod review;

// Front ends (the command line is the binary, `src/main.rs` and `src/cli/`).
#[cfg(feature = "editor")]
pub mod tui;
