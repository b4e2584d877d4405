//! age identities kept in the OS keyring (the Linux kernel keyring, through keyring-core and
//! its keyutils store), so decryption finds them alongside `SOPS_AGE_KEY_FILE`.
//!
//! All identities live in one keyring entry: a short text bundle, one identity per line. The
//! kernel replaces an entry's payload in one step, so a failed or interrupted change leaves
//! either the old list or the new one; there is no index that could disagree with the
//! entries it names.

mod bundle;
mod store;

pub use bundle::{InputError, Kind, Stored, parse_identities};

use age::x25519;
use bundle::Bundle;

/// What went wrong with the keyring or the identities given to it. Messages never include a
/// secret key.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error(
        "no OS keyring is available on this platform (sesame stores identities only in the Linux kernel keyring)"
    )]
    NoStore,
    #[error("the OS keyring ({location}) cannot be used: {reason}")]
    Unavailable { location: String, reason: String },
    #[error("the OS keyring entry {entry} is not a sesame identity list: {reason}")]
    Corrupt { entry: String, reason: String },
    #[error("the identity for {recipient} is already in the OS keyring{}", named(.name))]
    Duplicate {
        recipient: String,
        name: Option<String>,
    },
    #[error("the name {name:?} is already used by the identity for {recipient}")]
    NameTaken { name: String, recipient: String },
    #[error("no identity in the OS keyring has the recipient or name {0:?}")]
    NotFound(String),
    #[error("invalid identity name {name:?}: {reason}")]
    BadName { name: String, reason: String },
    #[error("failed to write the OS keyring ({location}): {reason}")]
    Write { location: String, reason: String },
}

fn named(name: &Option<String>) -> String {
    name.as_ref()
        .map(|n| format!(" (named {n:?})"))
        .unwrap_or_default()
}

/// An identity as `list` shows it: no secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    pub recipient: String,
    pub name: Option<String>,
}

/// The stored identities, and a sentence saying where they are kept and how long they last.
#[derive(Debug)]
pub struct Listing {
    pub identities: Vec<Listed>,
    pub location: String,
}

/// Where identities would be kept on this machine, for reports: the place, not its state.
pub fn place() -> &'static str {
    store::PLACE
}

/// Lists the stored identities without exposing their secrets.
pub fn list() -> Result<Listing, KeyringError> {
    let slot = store::Slot::open()?;
    let bundle = slot.read()?;
    Ok(Listing {
        identities: bundle.entries().iter().map(Stored::listed).collect(),
        location: slot.location(),
    })
}

/// The stored identities, ready to unwrap data keys; empty when none were added.
pub fn load() -> Result<Vec<x25519::Identity>, KeyringError> {
    let bundle = store::Slot::open()?.read()?;
    Ok(bundle
        .entries()
        .iter()
        .map(|s| s.identity().clone())
        .collect())
}

/// Adds identities; either all of them are stored or none (a duplicate recipient or name
/// refuses the whole call). Returns the recipients, in order, and the storage sentence.
pub fn add(
    new: Vec<(x25519::Identity, Option<String>)>,
) -> Result<(Vec<String>, String), KeyringError> {
    let slot = store::Slot::open()?;
    let mut bundle = slot.read()?;
    let mut recipients = Vec::new();
    for (identity, name) in new {
        if let Some(n) = &name {
            bundle::check_name(n)?;
        }
        recipients.push(bundle.push(identity, name)?);
    }
    slot.write(&bundle)?;
    Ok((recipients, slot.location()))
}

/// Removes the identity whose recipient or name is `which`, and returns it (without secret).
pub fn remove(which: &str) -> Result<Listed, KeyringError> {
    let slot = store::Slot::open()?;
    let mut bundle: Bundle = slot.read()?;
    let removed = bundle
        .take(which.trim())
        .ok_or_else(|| KeyringError::NotFound(which.to_string()))?;
    slot.write(&bundle)?;
    Ok(removed)
}
