//! What a save would change, net: each value added, removed, changed, renamed, moved to plain
//! text or into encryption since the last save (however many edits, undos and redos led
//! there), and who gains or loses access. The values are compared by keyed hashes of this run,
//! taken before the first edit; no value is kept or shown.

use crate::document::Document;
use crate::keys::plan::Plan;
use crate::metadata::Metadata;
use crate::path::{Step, TreePath};
use crate::review::diff::ChangeKind;
use crate::review::diff::{self, FileDiff, Side, Verification};
use crate::review::leaves::{self, Leaf, ValueHasher};
use std::collections::HashMap;

/// The leaves of the document as a save would write it now.
pub fn snapshot(doc: &Document, hasher: &ValueHasher) -> Option<Vec<Leaf>> {
    let stored = doc.would_write().ok()?;
    Some(leaves_of(doc, &stored, hasher))
}

/// The leaves of `stored`, the document as `would_write` gave it.
pub fn leaves_of(doc: &Document, stored: &[crate::tree::Map], hasher: &ValueHasher) -> Vec<Leaf> {
    leaves::leaves(stored, Some(doc.docs()), hasher, false)
}

/// A map or list whose key changed while everything in it stayed the same.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Renamed {
    pub doc: usize,
    pub from: TreePath,
    pub to: TreePath,
    pub values: usize,
}

/// Values under `prefix`, each as (the rest of its path, its value hash).
type Contents = Vec<(Vec<Step>, Option<u64>)>;

/// Collects, for every proper ancestor of each changed leaf of `kind`, what lies under it.
fn under(
    diff: &FileDiff,
    kind: &ChangeKind,
    leaves: &[Leaf],
) -> HashMap<(usize, Vec<Step>), Contents> {
    let hash: HashMap<(usize, &TreePath), Option<u64>> = leaves
        .iter()
        .filter(|l| l.comment.is_none())
        .map(|l| ((l.doc, &l.path), l.value))
        .collect();
    let mut out: HashMap<(usize, Vec<Step>), Contents> = HashMap::new();
    for c in diff
        .changes
        .iter()
        .filter(|c| &c.kind == kind && !c.comment)
    {
        let value = hash.get(&(c.doc, &c.path)).copied().flatten();
        for cut in 1..c.path.0.len() {
            let (prefix, rest) = c.path.0.split_at(cut);
            out.entry((c.doc, prefix.to_vec()))
                .or_default()
                .push((rest.to_vec(), value));
        }
    }
    for contents in out.values_mut() {
        contents.sort();
    }
    out
}

/// Maps and lists renamed as a whole (same parent, a new key, the same values under the same
/// inner paths): their removed and added values become one rename each, outermost first.
pub fn subtree_renames(diff: &mut FileDiff, saved: &[Leaf], now: &[Leaf]) -> Vec<Renamed> {
    let removed = under(diff, &ChangeKind::Removed, saved);
    let added = under(diff, &ChangeKind::Added, now);
    let total = |leaves: &[Leaf], doc: usize, prefix: &[Step]| {
        leaves
            .iter()
            .filter(|l| l.doc == doc && l.comment.is_none() && l.path.0.starts_with(prefix))
            .count()
    };
    let mut from_keys: Vec<&(usize, Vec<Step>)> = removed.keys().collect();
    // Outermost first, so a rename inside a renamed map is not counted twice.
    from_keys.sort_by(|(da, a), (db, b)| (da, a.len(), a).cmp(&(db, b.len(), b)));
    let mut found: Vec<Renamed> = Vec::new();
    for (doc, from) in from_keys {
        let contents = &removed[&(*doc, from.clone())];
        // Everything the old map held went, and nothing of it is inside a rename found already.
        if contents.iter().any(|(_, h)| h.is_none())
            || total(saved, *doc, from) != contents.len()
            || found
                .iter()
                .any(|r| r.doc == *doc && from.starts_with(&r.from.0))
        {
            continue;
        }
        let parent = &from[..from.len() - 1];
        let to = added.iter().find(|((d, to), c)| {
            d == doc
                && to.len() == from.len()
                && to.starts_with(parent)
                && *c == contents
                && total(now, *doc, to) == contents.len()
        });
        if let Some(((_, to), _)) = to {
            found.push(Renamed {
                doc: *doc,
                from: TreePath(from.clone()),
                to: TreePath(to.clone()),
                values: contents.len(),
            });
        }
    }
    diff.changes.retain(|c| {
        !found.iter().any(|r| {
            r.doc == c.doc
                && ((c.kind == ChangeKind::Removed && c.path.0.starts_with(&r.from.0))
                    || (c.kind == ChangeKind::Added && c.path.0.starts_with(&r.to.0)))
        })
    });
    found
}

/// The net difference between `saved` (the leaves at the last save) and `now` (what a save
/// would write now), with the staged recipient changes of `plan`.
pub fn net(doc: &Document, saved: &[Leaf], now: &[Leaf], plan: &Plan) -> (FileDiff, Vec<Renamed>) {
    let old: &Metadata = doc.metadata();
    let mut new = old.clone();
    if !plan.is_empty() {
        new.key_groups = plan.groups().to_vec();
        new.shamir_threshold = plan.raw_threshold();
    }
    let docs = doc.docs().len();
    let mut d = diff::diff(
        &Side {
            leaves: saved,
            metadata: Some(old),
            docs,
        },
        &Side {
            leaves: now,
            metadata: Some(&new),
            docs,
        },
        // Values are compared by their plaintext hashes; a rotation only re-encrypts them.
        Some(true),
        Verification::Verified,
    );
    let renamed = subtree_renames(&mut d, saved, now);
    (d, renamed)
}
