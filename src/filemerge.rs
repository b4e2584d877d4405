//! Three-way merge of two revisions of a sops file with their common ancestor, for Git's
//! merge driver, `sesame merge` and the editor's conflict screen.
//!
//! The result is one side (the *host*: ours, unless only theirs replaced the data key) with
//! the other side's changes redone on it. A value the other side changed keeps that side's
//! ciphertext byte for byte when both share the data key, so the result's raw diff against
//! ours shows theirs' value lines plus `lastmodified` and `mac`. Recipients merge 3-way (added
//! on either side stays, removed on either side goes); the rule and threshold merge like
//! values. A place both sides changed differently is a conflict: it keeps ours unless a
//! resolution says otherwise. Nothing here writes a file or prints a value.

use crate::document::Document;
use crate::edit::merge::{self, Reapply};
use crate::keys::groups::KeySources;
use crate::keys::{KeyGroup, KeyKind, MasterKey};
use crate::metadata::Metadata;
use crate::path::TreePath;
use crate::review::leaves::dotted;
use crate::rules::Rule;
use crate::tree::Node;
use std::collections::HashMap;

/// Which revision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Which {
    Base,
    Ours,
    Theirs,
}

impl Which {
    pub fn name(self) -> &'static str {
        match self {
            Which::Base => "base",
            Which::Ours => "ours",
            Which::Theirs => "theirs",
        }
    }
}

/// A place both sides changed differently.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    pub doc: usize,
    pub path: TreePath,
    /// The place as people read it (`db.password`).
    pub place: String,
}

/// How a conflict is settled.
#[derive(Clone, Debug)]
pub enum Resolution {
    Take(Which),
    /// A value typed by the user (`None`: remove the place).
    Value(Option<Node>),
}

/// What a merge will do, worked out before anything is built.
#[derive(Debug)]
pub struct Plan {
    /// The side the result is built on.
    pub host: Which,
    /// The other side's changes to redo on the host.
    reapply: Vec<Reapply>,
    pub conflicts: Vec<Conflict>,
    /// Metadata both sides changed differently (the host's stays).
    pub metadata_conflicts: Vec<String>,
    pub warnings: Vec<String>,
    /// The merged recipients, when they differ from the host's.
    groups: Option<(Vec<KeyGroup>, i64)>,
    selection: (Option<Rule>, bool),
    /// Whether the other side shares the host's data key (its ciphertexts are valid).
    other_shares_key: bool,
    /// Places the other side changed, and places the host changed (for reports).
    pub ours_changed: Vec<String>,
    pub theirs_changed: Vec<String>,
}

/// The three decrypted revisions.
pub struct Sides<'a> {
    pub base: &'a Document,
    pub ours: &'a Document,
    pub theirs: &'a Document,
}

impl Sides<'_> {
    fn get(&self, which: Which) -> &Document {
        match which {
            Which::Base => self.base,
            Which::Ours => self.ours,
            Which::Theirs => self.theirs,
        }
    }
}

/// Works out the merge.
pub fn plan(sides: &Sides) -> Plan {
    let (base, ours, theirs) = (sides.base, sides.ours, sides.theirs);
    let ours_rotated = !ours.same_data_key(base);
    let theirs_rotated = !theirs.same_data_key(base);
    let mut warnings = Vec::new();
    let host = if theirs_rotated && !ours_rotated {
        warnings.push(
            "theirs replaced the data key: the result uses it, and ours' changed values are encrypted again under it".to_string(),
        );
        Which::Theirs
    } else {
        if theirs_rotated && !ours.same_data_key(theirs) {
            warnings.push(
                "both sides replaced the data key: the result keeps ours, and theirs' changed values are encrypted again under it".to_string(),
            );
        } else if ours_rotated && !ours.same_data_key(theirs) {
            warnings.push(
                "ours replaced the data key: theirs' changed values are encrypted again under it"
                    .to_string(),
            );
        }
        Which::Ours
    };
    let other = if host == Which::Ours {
        Which::Theirs
    } else {
        Which::Ours
    };
    let (h, o) = (sides.get(host), sides.get(other));
    let m = merge::three_way(base.docs(), o.docs(), h.docs());
    let docs = base.docs().len().max(ours.docs().len());
    let conflicts = m
        .conflicts
        .iter()
        .map(|(doc, path)| Conflict {
            doc: *doc,
            path: path.clone(),
            place: place(*doc, path, docs),
        })
        .collect();
    let changed = |side: &Document| {
        merge::three_way(base.docs(), side.docs(), base.docs())
            .reapply
            .iter()
            .map(|r| reapply_place(r, docs))
            .collect::<Vec<_>>()
    };
    let mut metadata_conflicts = Vec::new();
    let (bm, om, tm) = (base.metadata(), ours.metadata(), theirs.metadata());
    let hm = h.metadata();
    let groups = match merge_groups(bm, om, tm, host, h.same_data_key(o)) {
        Ok(g) if g == hm.key_groups => None,
        Ok(g) => Some(g),
        Err(e) => {
            metadata_conflicts.push(e);
            None
        }
    };
    let threshold = three(
        &bm.shamir_threshold,
        &om.shamir_threshold,
        &tm.shamir_threshold,
    )
    .unwrap_or_else(|| {
        metadata_conflicts.push(format!(
            "shamir_threshold: ours {} and theirs {} (base {})",
            om.shamir_threshold, tm.shamir_threshold, bm.shamir_threshold
        ));
        hm.shamir_threshold
    });
    let groups = match groups {
        Some(g) => Some((g, threshold)),
        None if threshold != hm.shamir_threshold => Some((hm.key_groups.clone(), threshold)),
        None => None,
    };
    let rule = three(&bm.rule, &om.rule, &tm.rule).unwrap_or_else(|| {
        metadata_conflicts.push("the selection rule changed differently on both sides".into());
        hm.rule.clone()
    });
    let mac_only = three(
        &bm.mac_only_encrypted,
        &om.mac_only_encrypted,
        &tm.mac_only_encrypted,
    )
    .unwrap_or(hm.mac_only_encrypted);
    Plan {
        host,
        reapply: m.reapply,
        conflicts,
        metadata_conflicts,
        warnings,
        groups,
        selection: (rule, mac_only),
        other_shares_key: h.same_data_key(o),
        ours_changed: changed(ours),
        theirs_changed: changed(theirs),
    }
}

/// The 3-way merge of one setting: the side that changed it wins; `None` when both changed
/// it differently.
fn three<T: PartialEq + Clone>(base: &T, ours: &T, theirs: &T) -> Option<T> {
    if ours == base || ours == theirs {
        Some(theirs.clone())
    } else if theirs == base {
        Some(ours.clone())
    } else {
        None
    }
}

fn id(k: &MasterKey) -> (KeyKind, String) {
    (k.kind, k.display())
}

/// Recipients merged group by group: a key added on either side stays, a key removed on
/// either side goes. Entries come from the host where it has them (so their `enc` stays
/// valid); one taken from the other side keeps its `enc` only when that side has the host's
/// data key (`other_shares_key`), else it is wrapped afresh when the result is built. (With
/// several groups every share is made afresh anyway: shares of two splits do not mix.)
fn merge_groups(
    base: &Metadata,
    ours: &Metadata,
    theirs: &Metadata,
    host: Which,
    other_shares_key: bool,
) -> Result<Vec<KeyGroup>, String> {
    let from_other = |mut key: MasterKey| {
        if !other_shares_key {
            key.fields.remove("enc");
        }
        key
    };
    let ids = |md: &Metadata| -> Vec<Vec<(KeyKind, String)>> {
        md.key_groups
            .iter()
            .map(|g| g.keys.iter().map(id).collect())
            .collect()
    };
    let (b, o, t) = (ids(base), ids(ours), ids(theirs));
    let (hm, om) = match host {
        Which::Theirs => (theirs, ours),
        _ => (ours, theirs),
    };
    if o.len() != t.len() || b.len() != o.len() {
        let whole = |side: &Metadata, is_host: bool| -> Vec<KeyGroup> {
            let mut groups = side.key_groups.clone();
            if !is_host {
                for g in &mut groups {
                    g.keys = g.keys.drain(..).map(from_other).collect();
                }
            }
            groups
        };
        return match (b == o, b == t) {
            (true, _) => Ok(whole(theirs, host == Which::Theirs)),
            (_, true) => Ok(whole(ours, host != Which::Theirs)),
            _ if o == t => Ok(hm.key_groups.clone()),
            _ => Err("the key groups were restructured differently on both sides".into()),
        };
    }
    let mut out = Vec::new();
    for g in 0..o.len() {
        let removed =
            |k: &(KeyKind, String)| b[g].contains(k) && (!o[g].contains(k) || !t[g].contains(k));
        let mut group = KeyGroup::default();
        let mut seen = Vec::new();
        // Ours' order first, then keys theirs added.
        for k in o[g].iter().chain(t[g].iter()) {
            if removed(k) || seen.contains(k) {
                continue;
            }
            seen.push(k.clone());
            let from = |md: &Metadata| md.key_groups[g].keys.iter().find(|m| id(m) == *k).cloned();
            let entry = from(hm).or_else(|| from(om).map(from_other));
            if let Some(e) = entry {
                group.keys.push(e);
            }
        }
        out.push(group);
    }
    Ok(out)
}

fn place(doc: usize, path: &TreePath, docs: usize) -> String {
    let p = if path.is_empty() {
        "(the whole document)".to_string()
    } else {
        dotted(path)
    };
    if docs > 1 {
        format!("document {}: {p}", doc + 1)
    } else {
        p
    }
}

fn reapply_place(r: &Reapply, docs: usize) -> String {
    match r {
        Reapply::Set { doc, path, .. } | Reapply::Remove { doc, path } => place(*doc, path, docs),
        Reapply::Add {
            doc, parent, key, ..
        } => {
            let mut p = parent.clone();
            p.0.push(crate::path::Step::Key(key.clone()));
            place(*doc, &p, docs)
        }
    }
}

impl Plan {
    /// Whether the merge needs no decision.
    pub fn is_clean(&self) -> bool {
        self.conflicts.is_empty() && self.metadata_conflicts.is_empty()
    }
}

/// Builds the merged document on a copy of the host: redoes the other side's changes, settles
/// conflicts (`resolutions` by conflict index; unsettled ones keep ours), and merges
/// recipients and rule. Wrapping the data key for a recipient only the other side had may
/// ask a key service. The result is ready to seal (which renews `lastmodified` and the MAC).
pub fn build(
    plan: &Plan,
    sides: &Sides,
    host: Document,
    resolutions: &HashMap<usize, Resolution>,
    sources: &KeySources,
) -> Result<Document, String> {
    let mut doc = host;
    for change in &plan.reapply {
        doc.reapply(change.clone(), plan.other_shares_key)?;
    }
    for (i, c) in plan.conflicts.iter().enumerate() {
        let default = Resolution::Take(Which::Ours);
        let resolution = resolutions.get(&i).unwrap_or(&default);
        let (value, keep) = match resolution {
            Resolution::Take(which) if *which == plan.host => continue,
            Resolution::Take(which) => {
                let side = sides.get(*which);
                (side.node_at(c.doc, &c.path), doc.same_data_key(side))
            }
            Resolution::Value(v) => (v.clone(), false),
        };
        let change = match value {
            Some(value) => Reapply::Set {
                doc: c.doc,
                path: c.path.clone(),
                value,
            },
            None => Reapply::Remove {
                doc: c.doc,
                path: c.path.clone(),
            },
        };
        // A place already gone is already removed.
        if let Err(e) = doc.reapply(change, keep)
            && doc.node_at(c.doc, &c.path).is_some()
        {
            return Err(e);
        }
    }
    let (rule, mac_only) = plan.selection.clone();
    doc.set_selection(rule, mac_only);
    if let Some((groups, threshold)) = &plan.groups {
        doc.set_key_groups(groups.clone(), *threshold, sources)?;
    }
    doc.touch();
    Ok(doc)
}

/// What a merge would do, judged without a key from what is stored: a value whose stored
/// form (ciphertext or clear text) is unchanged since the base was not changed on that side.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct KeylessVerdict {
    pub ours_changed: Vec<String>,
    pub theirs_changed: Vec<String>,
    /// Places both sides changed (whether to the same value cannot be told without a key).
    pub both_changed: Vec<String>,
}

/// The keyless verdict over the revisions' leaves (see `review::leaves::leaves`).
pub fn keyless_verdict(
    base: &[crate::review::leaves::Leaf],
    ours: &[crate::review::leaves::Leaf],
    theirs: &[crate::review::leaves::Leaf],
    docs: usize,
) -> KeylessVerdict {
    use crate::review::leaves::Leaf;
    fn index(leaves: &[Leaf]) -> HashMap<(usize, &TreePath, Option<usize>), &str> {
        leaves
            .iter()
            .map(|l| (l.key(), l.fingerprint.as_str()))
            .collect()
    }
    let (b, o, t) = (index(base), index(ours), index(theirs));
    let mut seen = std::collections::HashSet::new();
    let mut places: Vec<(&Leaf, _)> = Vec::new();
    for l in base.iter().chain(ours).chain(theirs) {
        if seen.insert(l.key()) {
            places.push((l, l.key()));
        }
    }
    let mut v = KeylessVerdict::default();
    for (leaf, key) in places {
        let (bs, os, ts) = (b.get(&key), o.get(&key), t.get(&key));
        let name = leaf.place(docs);
        match (os != bs, ts != bs) {
            (true, true) if os == ts => v.ours_changed.push(name),
            (true, true) => v.both_changed.push(name),
            (true, false) => v.ours_changed.push(name),
            (false, true) => v.theirs_changed.push(name),
            (false, false) => {}
        }
    }
    v
}
