//! Reviewing sops files across revisions: leaf lists read without a key, the leaf-level diff,
//! people's names for recipients, and the text view Git's textconv prints.

pub mod diff;
pub mod history;
pub mod leaves;
pub mod names;
pub mod view;

use crate::document::{Document, OpenError, OpenOptions, inspect};
use crate::keys::groups::KeySources;
use crate::metadata::Metadata;
use crate::store::{self, Format};
use crate::tree::Map;
use diff::{FileDiff, Side, Verification};
use leaves::{Leaf, ValueHasher};

/// One revision of a file: as stored, and decrypted when a key was at hand.
pub struct Revision {
    /// What it is called in messages (`HEAD:secrets.yaml`, a path).
    pub label: String,
    pub format: Format,
    bytes: Vec<u8>,
    /// The documents as stored (`ENC[...]` text for encrypted values).
    pub raw: Vec<Map>,
    /// `None` for a file that is not encrypted with sops (or absent).
    pub metadata: Option<Metadata>,
    pub opened: Option<Document>,
    /// Why decrypting failed, when it was tried.
    pub open_error: Option<String>,
}

impl Revision {
    /// Reads a revision without decrypting it. A file without sops metadata is read as plain
    /// data (a file before its first encryption, or after a decryption committed by mistake).
    pub fn read(
        label: impl Into<String>,
        format: Format,
        bytes: Vec<u8>,
    ) -> Result<Revision, OpenError> {
        let (raw, metadata) = match inspect(format, &bytes) {
            Ok((parsed, md)) => (parsed.docs, Some(md)),
            Err(OpenError::Metadata(crate::metadata::MetadataError::NotFound)) => {
                (store::parse_plain(format, &bytes)?.docs, None)
            }
            Err(e) => return Err(e),
        };
        Ok(Revision {
            label: label.into(),
            format,
            bytes,
            raw,
            metadata,
            opened: None,
            open_error: None,
        })
    }

    /// A revision in which the file does not exist.
    pub fn absent(label: impl Into<String>, format: Format) -> Revision {
        Revision {
            label: label.into(),
            format,
            bytes: Vec::new(),
            raw: Vec::new(),
            metadata: None,
            opened: None,
            open_error: None,
        }
    }

    /// Decrypts the revision (MAC checked, a mismatch kept as `mac_problem`). A failure is
    /// remembered in `open_error`; the revision stays usable without its plaintext.
    pub fn decrypt(&mut self, sources: &KeySources) {
        if self.metadata.is_none() || self.opened.is_some() {
            return;
        }
        let opts = OpenOptions {
            ignore_mac: true,
            keep_ciphertext: true,
            keep_damaged: false,
        };
        match Document::open(self.format, self.bytes.clone(), sources, opts) {
            Ok(doc) => self.opened = Some(doc),
            Err(e) => self.open_error = Some(e.to_string()),
        }
    }

    /// Whether the revision is encrypted with sops.
    pub fn is_sops(&self) -> bool {
        self.metadata.is_some()
    }

    /// The bytes as stored.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The revision's leaves (see `leaves::leaves`).
    pub fn leaves(&self, hasher: &ValueHasher, keep_plain: bool) -> Vec<Leaf> {
        // A plain file's values are its own plaintext.
        let opened = self.opened.as_ref().map(|d| d.docs());
        leaves::leaves(&self.raw, opened, hasher, keep_plain)
    }
}

/// Compares two revisions (decrypted ones by value and MAC, the others by what is stored).
pub fn compare(old: &Revision, new: &Revision, hasher: &ValueHasher) -> FileDiff {
    let (a, b) = (old.leaves(hasher, false), new.leaves(hasher, false));
    let both = old.opened.as_ref().zip(new.opened.as_ref());
    let same_key = both.map(|(o, n)| o.same_data_key(n));
    let verification = match both {
        None => Verification::Keyless,
        Some((o, n)) => {
            let problems: Vec<String> = [(old, o), (new, n)]
                .iter()
                .filter_map(|(r, d)| d.mac_problem().map(|p| format!("{}: {p}", r.label)))
                .collect();
            if problems.is_empty() {
                Verification::Verified
            } else {
                Verification::MacProblem(problems)
            }
        }
    };
    diff::diff(
        &Side {
            leaves: &a,
            metadata: old.metadata.as_ref(),
            docs: old.raw.len(),
        },
        &Side {
            leaves: &b,
            metadata: new.metadata.as_ref(),
            docs: new.raw.len(),
        },
        same_key,
        verification,
    )
}
