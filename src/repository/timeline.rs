//! A file's story in Git without a key: for each commit that touched it, who and when, and
//! what changed — values (by ciphertext identity), recipients, rule, and whether the data
//! key was replaced.

use crate::git::{Blobs, Commit};
use crate::review::diff::{ChangeKind, DataKeyVerdict, KeyChange};
use crate::review::leaves::ValueHasher;
use crate::review::names::Names;
use crate::review::{self, Revision};
use crate::store::Format;

/// One commit's changes to the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub commit: Commit,
    /// What changed, one phrase each.
    pub changes: Vec<String>,
}

/// Up to `n` places, then how many more.
fn some(places: &[String], n: usize) -> String {
    if places.len() <= n {
        places.join(", ")
    } else {
        format!("{}, and {} more", places[..n].join(", "), places.len() - n)
    }
}

/// The events (oldest first) of `git_path` over `commits` (newest first, as `git log`).
pub fn timeline(
    commits: &[Commit],
    blobs: &mut Blobs,
    git_path: &str,
    format: Format,
    names: &Names,
) -> Result<Vec<Event>, String> {
    let hasher = ValueHasher::default();
    let mut previous = Revision::absent("", format);
    let mut out = Vec::new();
    for commit in commits.iter().rev() {
        let spec = format!("{}:{git_path}", commit.id);
        let current = match blobs.read(&spec).map_err(|e| e.to_string())? {
            Some(bytes) => Revision::read(spec.clone(), format, bytes)
                .unwrap_or_else(|_| Revision::absent(spec.clone(), format)),
            None => Revision::absent(spec.clone(), format),
        };
        let mut changes = Vec::new();
        let created = previous.raw.is_empty() && previous.metadata.is_none();
        if created {
            changes.push("created".to_string());
        } else if current.raw.is_empty() && current.metadata.is_none() {
            changes.push("deleted".to_string());
        } else if previous.is_sops() && !current.is_sops() {
            changes.push("DECRYPTED: no longer a sops file".to_string());
        }
        let report = review::compare(&previous, &current, &hasher);
        let by_kind = |want: fn(&ChangeKind) -> bool| -> Vec<String> {
            report
                .changes
                .iter()
                .filter(|c| want(&c.kind))
                .map(|c| c.place.clone())
                .collect()
        };
        if !changes.iter().any(|c| c == "created" || c == "deleted") {
            let exposed = by_kind(|k| *k == ChangeKind::Exposed);
            if !exposed.is_empty() {
                changes.push(format!("now in PLAIN TEXT: {}", some(&exposed, 5)));
            }
            let changed = by_kind(|k| {
                matches!(
                    k,
                    ChangeKind::Changed | ChangeKind::TypeChanged | ChangeKind::Protected
                )
            });
            if !changed.is_empty() {
                changes.push(format!("changed {}", some(&changed, 5)));
            }
            let added = by_kind(|k| *k == ChangeKind::Added);
            if !added.is_empty() {
                changes.push(format!("added {}", some(&added, 5)));
            }
            let removed = by_kind(|k| *k == ChangeKind::Removed);
            if !removed.is_empty() {
                changes.push(format!("removed {}", some(&removed, 5)));
            }
            let renamed = by_kind(|k| matches!(k, ChangeKind::Renamed { .. }));
            if !renamed.is_empty() {
                changes.push(format!("renamed to {}", some(&renamed, 5)));
            }
            if matches!(report.data_key, DataKeyVerdict::Replaced { .. }) {
                changes.push("data key replaced".to_string());
            }
        }
        for k in &report.keys {
            // A new file's rule and threshold are news only when they change later.
            let recipient = matches!(
                k,
                KeyChange::RecipientAdded { .. } | KeyChange::RecipientRemoved { .. }
            );
            if created && !recipient {
                continue;
            }
            let (mark, text) = k.describe(names);
            changes.push(format!("{mark} {text}"));
        }
        if changes.is_empty() {
            changes.push("metadata only".to_string());
        }
        out.push(Event {
            commit: commit.clone(),
            changes,
        });
        previous = current;
    }
    Ok(out)
}
