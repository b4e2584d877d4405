//! The leaf-level difference between two revisions of a sops file. Without a key it works
//! from what is stored: a value whose ciphertext is byte-identical did not change (sops and
//! sesame keep unchanged ciphertext), and a value that went from `ENC[...]` to clear text is a
//! leak whatever its value. With the opened documents it compares plaintext (by keyed hashes,
//! never printed), verifies both MACs and tells whether the data key is the same.

use crate::config::CreationRule;
use crate::keys::{KeyGroup, KeyKind};
use crate::metadata::Metadata;
use crate::path::TreePath;
use crate::review::leaves::{Leaf, Stored};
use std::collections::{HashMap, HashSet};

/// What happened to one value or comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Removed,
    /// The value changed (with a key: verified; without: its ciphertext changed while the data
    /// key stayed).
    Changed,
    /// Now a value of another type (`str` → `int`), stored the same way.
    TypeChanged,
    /// Stored anew under a replaced data key; without a key, whether the value changed too is
    /// not known.
    ReEncrypted,
    /// Encrypted before, stored in clear now: a secret in plain text in Git.
    Exposed,
    /// Stored in clear before, encrypted now.
    Protected,
    /// Same value, new key (`from` is the old place).
    Renamed {
        from: String,
    },
}

/// A value's stored form on one side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shape {
    pub encrypted: bool,
    pub type_name: String,
    pub len: usize,
}

impl Shape {
    fn of(leaf: &Leaf) -> Shape {
        Shape {
            encrypted: leaf.is_encrypted(),
            type_name: leaf.type_name().to_string(),
            len: leaf.len,
        }
    }
}

/// One changed value or comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeafChange {
    pub place: String,
    pub path: TreePath,
    pub doc: usize,
    pub comment: bool,
    pub kind: ChangeKind,
    pub old: Option<Shape>,
    pub new: Option<Shape>,
    /// With a key: whether the plaintext differs (`None` without a key).
    pub value_changed: Option<bool>,
}

/// A change in the `sops` metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyChange {
    RecipientAdded {
        group: usize,
        kind: KeyKind,
        id: String,
    },
    RecipientRemoved {
        group: usize,
        kind: KeyKind,
        id: String,
    },
    GroupAdded(usize),
    GroupRemoved(usize),
    Threshold {
        old: i64,
        new: i64,
    },
    /// The selection rule (`encrypted_regex: ...`, or the default suffix).
    Rule {
        old: String,
        new: String,
    },
    MacOnlyEncrypted {
        old: bool,
        new: bool,
    },
    Version {
        old: String,
        new: String,
    },
}

impl ChangeKind {
    /// The change in words, for people (never a value).
    pub fn describe(&self) -> String {
        match self {
            ChangeKind::Added => "added".into(),
            ChangeKind::Removed => "removed".into(),
            ChangeKind::Changed => "changed".into(),
            ChangeKind::TypeChanged => "changed type".into(),
            ChangeKind::ReEncrypted => "re-encrypted (value not checked: no key)".into(),
            ChangeKind::Exposed => "encrypted → PLAIN TEXT (leak)".into(),
            ChangeKind::Protected => "plain → encrypted".into(),
            ChangeKind::Renamed { from } => format!("renamed from {from}"),
        }
    }
}

impl KeyChange {
    /// The change in words with its mark (`+` gained, `-` lost, `~` changed); recipients by
    /// the names `.sops.yaml` gives them.
    pub fn describe(&self, names: &crate::review::names::Names) -> (char, String) {
        match self {
            KeyChange::RecipientAdded { group, kind, id } => (
                '+',
                format!("group {}: {} {}", group + 1, kind.field(), names.label(id)),
            ),
            KeyChange::RecipientRemoved { group, kind, id } => (
                '-',
                format!("group {}: {} {}", group + 1, kind.field(), names.label(id)),
            ),
            KeyChange::GroupAdded(g) => ('+', format!("key group {}", g + 1)),
            KeyChange::GroupRemoved(g) => ('-', format!("key group {}", g + 1)),
            KeyChange::Threshold { old, new } => ('~', format!("shamir_threshold: {old} → {new}")),
            KeyChange::Rule { old, new } => ('~', format!("rule: {old} → {new}")),
            KeyChange::MacOnlyEncrypted { old, new } => {
                ('~', format!("mac_only_encrypted: {old} → {new}"))
            }
            KeyChange::Version { old, new } => ('~', format!("version: {old} → {new}")),
        }
    }
}

/// Whether the two revisions share their data key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataKeyVerdict {
    /// `shared` values kept their ciphertext byte for byte, which only the same key allows;
    /// `verified` when both keys were unwrapped and compared.
    Same { shared: usize, verified: bool },
    /// Every encrypted value was stored anew (or, verified, the keys differ).
    Replaced { verified: bool },
    /// One side has no encrypted value to tell by, and no key was at hand.
    Unknown,
}

/// How far the result was checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verification {
    /// No key: the MACs were not checked and values were compared by ciphertext only.
    Keyless,
    /// Both files decrypted and their MACs verified.
    Verified,
    /// Decrypted, but a MAC did not match (side, problem).
    MacProblem(Vec<String>),
}

/// The difference between two revisions.
#[derive(Clone, Debug)]
pub struct FileDiff {
    pub changes: Vec<LeafChange>,
    pub unchanged: usize,
    pub keys: Vec<KeyChange>,
    pub data_key: DataKeyVerdict,
    pub verification: Verification,
}

/// One side of a diff: its leaves (see `leaves::leaves`), metadata and, with a key, whether
/// its data key equals the other side's (decided by the caller, who holds both).
pub struct Side<'a> {
    pub leaves: &'a [Leaf],
    pub metadata: Option<&'a Metadata>,
    pub docs: usize,
}

/// Compares two revisions. `same_key` is `Some` when both data keys were unwrapped.
pub fn diff(
    old: &Side,
    new: &Side,
    same_key: Option<bool>,
    verification: Verification,
) -> FileDiff {
    let docs = old.docs.max(new.docs);
    let old_ix: HashMap<_, &Leaf> = old.leaves.iter().map(|l| (l.key(), l)).collect();
    let new_keys: HashSet<_> = new.leaves.iter().map(Leaf::key).collect();
    let data_key = verdict(old.leaves, new.leaves, same_key);
    let key_same = matches!(data_key, DataKeyVerdict::Same { .. });
    let mut changes = Vec::new();
    let mut unchanged = 0;
    for n in new.leaves {
        let Some(o) = old_ix.get(&n.key()) else {
            changes.push(change(n, docs, ChangeKind::Added, None, Some(n)));
            continue;
        };
        let value_changed = match (o.value, n.value) {
            (Some(a), Some(b)) => Some(a != b),
            _ => None,
        };
        let kind = match (&o.stored, &n.stored) {
            (Stored::Encrypted { enc: a, .. }, Stored::Encrypted { enc: b, .. }) if a == b => None,
            (Stored::Encrypted { .. }, Stored::Encrypted { .. })
            | (Stored::Plain { .. }, Stored::Plain { .. })
                if o.type_name() != n.type_name() =>
            {
                Some(ChangeKind::TypeChanged)
            }
            (Stored::Encrypted { .. }, Stored::Plain { .. }) => Some(ChangeKind::Exposed),
            (Stored::Plain { .. }, Stored::Encrypted { .. }) => Some(ChangeKind::Protected),
            (Stored::Plain { .. }, Stored::Plain { .. }) => {
                (o.fingerprint != n.fingerprint).then_some(ChangeKind::Changed)
            }
            (Stored::Encrypted { .. }, Stored::Encrypted { .. }) => match value_changed {
                Some(false) => None,
                Some(true) => Some(ChangeKind::Changed),
                None if key_same => Some(ChangeKind::Changed),
                None => Some(ChangeKind::ReEncrypted),
            },
        };
        match kind {
            None => unchanged += 1,
            Some(kind) => {
                let mut c = change(n, docs, kind, Some(o), Some(n));
                c.value_changed = value_changed;
                changes.push(c);
            }
        }
    }
    for o in old.leaves.iter().filter(|o| !new_keys.contains(&o.key())) {
        changes.push(change(o, docs, ChangeKind::Removed, Some(o), None));
    }
    find_renames(&mut changes, old.leaves, new.leaves);
    FileDiff {
        changes,
        unchanged,
        keys: key_changes(old.metadata, new.metadata),
        data_key,
        verification,
    }
}

fn change(
    at: &Leaf,
    docs: usize,
    kind: ChangeKind,
    old: Option<&Leaf>,
    new: Option<&Leaf>,
) -> LeafChange {
    LeafChange {
        place: at.place(docs),
        path: at.path.clone(),
        doc: at.doc,
        comment: at.comment.is_some(),
        kind,
        old: old.map(Shape::of),
        new: new.map(Shape::of),
        value_changed: None,
    }
}

/// A removed value and an added one under the same parent, stored alike and with the same
/// plaintext (known for plain values, or with a key), are one rename.
fn find_renames(changes: &mut Vec<LeafChange>, old: &[Leaf], new: &[Leaf]) {
    let value_of = |leaves: &[Leaf], c: &LeafChange| {
        leaves
            .iter()
            .find(|l| l.doc == c.doc && l.path == c.path && l.comment.is_none())
            .and_then(|l| l.value.map(|v| (v, l.is_encrypted())))
    };
    let parent = |p: &TreePath| TreePath(p.0[..p.0.len().saturating_sub(1)].to_vec());
    let mut removed_by: HashMap<(usize, String, u64, bool), usize> = HashMap::new();
    for (i, c) in changes.iter().enumerate() {
        if c.kind == ChangeKind::Removed
            && !c.comment
            && let Some((v, enc)) = value_of(old, c)
        {
            removed_by
                .entry((c.doc, parent(&c.path).to_string(), v, enc))
                .or_insert(i);
        }
    }
    let mut drop = HashSet::new();
    for i in 0..changes.len() {
        let c = &changes[i];
        if c.kind != ChangeKind::Added || c.comment {
            continue;
        }
        let Some((v, enc)) = value_of(new, c) else {
            continue;
        };
        if let Some(r) = removed_by.remove(&(c.doc, parent(&c.path).to_string(), v, enc)) {
            let from = changes[r].place.clone();
            let old = changes[r].old.clone();
            let c = &mut changes[i];
            c.kind = ChangeKind::Renamed { from };
            c.old = old;
            c.value_changed = Some(false);
            drop.insert(r);
        }
    }
    let mut i = 0;
    changes.retain(|_| {
        i += 1;
        !drop.contains(&(i - 1))
    });
}

fn verdict(old: &[Leaf], new: &[Leaf], same_key: Option<bool>) -> DataKeyVerdict {
    fn enc(l: &Leaf) -> Option<&str> {
        match &l.stored {
            Stored::Encrypted { enc, .. } => Some(enc),
            Stored::Plain { .. } => None,
        }
    }
    let old_enc: HashSet<&str> = old.iter().filter_map(enc).collect();
    let new_enc: Vec<&str> = new.iter().filter_map(enc).collect();
    let shared = new_enc.iter().filter(|e| old_enc.contains(*e)).count();
    match same_key {
        Some(true) => DataKeyVerdict::Same {
            shared,
            verified: true,
        },
        Some(false) => DataKeyVerdict::Replaced { verified: true },
        None if shared > 0 => DataKeyVerdict::Same {
            shared,
            verified: false,
        },
        None if !old_enc.is_empty() && !new_enc.is_empty() => {
            DataKeyVerdict::Replaced { verified: false }
        }
        None => DataKeyVerdict::Unknown,
    }
}

/// Recipients of each group, as `(type, identifier)` in file order.
fn recipients(group: &KeyGroup) -> Vec<(KeyKind, String)> {
    group.keys.iter().map(|k| (k.kind, k.display())).collect()
}

/// The selection rule as people read it.
pub fn rule_text(md: &Metadata) -> String {
    match &md.rule {
        Some(r) => format!("{}: {}", r.kind.field(), r.pattern),
        None => "unencrypted_suffix: _unencrypted (default)".into(),
    }
}

fn key_changes(old: Option<&Metadata>, new: Option<&Metadata>) -> Vec<KeyChange> {
    let empty = Metadata::default();
    let (old, new) = (old.unwrap_or(&empty), new.unwrap_or(&empty));
    let mut out = Vec::new();
    let groups = old.key_groups.len().max(new.key_groups.len());
    for g in 0..groups {
        match (old.key_groups.get(g), new.key_groups.get(g)) {
            (Some(_), None) => out.push(KeyChange::GroupRemoved(g)),
            (None, Some(_)) => out.push(KeyChange::GroupAdded(g)),
            _ => {}
        }
        let before = old.key_groups.get(g).map(recipients).unwrap_or_default();
        let after = new.key_groups.get(g).map(recipients).unwrap_or_default();
        for (kind, id) in after.iter().filter(|r| !before.contains(r)) {
            out.push(KeyChange::RecipientAdded {
                group: g,
                kind: *kind,
                id: id.clone(),
            });
        }
        for (kind, id) in before.iter().filter(|r| !after.contains(r)) {
            out.push(KeyChange::RecipientRemoved {
                group: g,
                kind: *kind,
                id: id.clone(),
            });
        }
    }
    if old.shamir_threshold != new.shamir_threshold {
        out.push(KeyChange::Threshold {
            old: old.shamir_threshold,
            new: new.shamir_threshold,
        });
    }
    if old.rule != new.rule {
        out.push(KeyChange::Rule {
            old: rule_text(old),
            new: rule_text(new),
        });
    }
    if old.mac_only_encrypted != new.mac_only_encrypted {
        out.push(KeyChange::MacOnlyEncrypted {
            old: old.mac_only_encrypted,
            new: new.mac_only_encrypted,
        });
    }
    if old.version != new.version {
        out.push(KeyChange::Version {
            old: old.version.clone(),
            new: new.version.clone(),
        });
    }
    out
}

impl FileDiff {
    /// Whether nothing a reviewer needs to see changed.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.keys.is_empty()
    }

    /// Values encrypted before and stored in clear now.
    pub fn exposed(&self) -> impl Iterator<Item = &LeafChange> {
        self.changes
            .iter()
            .filter(|c| c.kind == ChangeKind::Exposed)
    }

    /// Recipients removed while the data key stayed: they can still decrypt the new revision
    /// with the data key they could unwrap before.
    pub fn removed_without_rotation(&self) -> Vec<&KeyChange> {
        if !matches!(self.data_key, DataKeyVerdict::Same { .. }) {
            return Vec::new();
        }
        self.keys
            .iter()
            .filter(|k| matches!(k, KeyChange::RecipientRemoved { .. }))
            .collect()
    }
}

/// How a file's metadata differs from the creation rule that covers it (empty: in step).
/// Recipient order alone is not a difference.
pub fn rule_drift(md: &Metadata, rule: &CreationRule) -> Vec<String> {
    let mut out = Vec::new();
    let sets = |groups: &[KeyGroup]| -> Vec<Vec<String>> {
        groups
            .iter()
            .map(|g| {
                let mut ids: Vec<String> = g
                    .keys
                    .iter()
                    .map(|k| format!("{} {}", k.kind.field(), k.display()))
                    .collect();
                ids.sort();
                ids
            })
            .collect()
    };
    let (have, want) = (sets(&md.key_groups), sets(&rule.key_groups));
    if have.len() != want.len() {
        out.push(format!(
            "{} key group(s), the rule has {}",
            have.len(),
            want.len()
        ));
    }
    for (g, (h, w)) in have.iter().zip(&want).enumerate() {
        for id in w.iter().filter(|id| !h.contains(id)) {
            out.push(format!("group {}: {id} is missing", g + 1));
        }
        for id in h.iter().filter(|id| !w.contains(id)) {
            out.push(format!("group {}: {id} is not in the rule", g + 1));
        }
    }
    if rule.rule.is_some() && rule.rule != md.rule {
        let want = Metadata {
            rule: rule.rule.clone(),
            ..Metadata::default()
        };
        out.push(format!(
            "selection rule is {}, the rule says {}",
            rule_text(md),
            rule_text(&want)
        ));
    }
    if rule.mac_only_encrypted != md.mac_only_encrypted {
        out.push(format!(
            "mac_only_encrypted is {}, the rule says {}",
            md.mac_only_encrypted, rule.mac_only_encrypted
        ));
    }
    if want.len() > 1 && rule.shamir_threshold > 0 && rule.shamir_threshold != md.shamir_threshold {
        out.push(format!(
            "shamir_threshold is {}, the rule says {}",
            md.shamir_threshold, rule.shamir_threshold
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::review::leaves::{ValueHasher, leaves};
    use crate::store::{Format, parse_plain};

    const ENC_A: &str = "ENC[AES256_GCM,data:aGVsbG8=,iv:AAAA,tag:BBBB,type:str]";
    const ENC_B: &str = "ENC[AES256_GCM,data:d29ybGQ=,iv:CCCC,tag:DDDD,type:str]";
    const ENC_INT: &str = "ENC[AES256_GCM,data:MQ==,iv:EEEE,tag:FFFF,type:int]";

    fn side(yaml: &str, hasher: &ValueHasher) -> Vec<Leaf> {
        let docs = parse_plain(Format::Yaml, yaml.as_bytes()).unwrap().docs;
        leaves(&docs, None, hasher, false)
    }

    fn kinds(old: &str, new: &str) -> (Vec<(String, ChangeKind)>, DataKeyVerdict) {
        let h = ValueHasher::default();
        let (a, b) = (side(old, &h), side(new, &h));
        let d = diff(
            &Side {
                leaves: &a,
                metadata: None,
                docs: 1,
            },
            &Side {
                leaves: &b,
                metadata: None,
                docs: 1,
            },
            None,
            Verification::Keyless,
        );
        let k = d.changes.into_iter().map(|c| (c.place, c.kind)).collect();
        (k, d.data_key)
    }

    #[test]
    fn each_kind_of_change_is_told_apart_without_a_key() {
        let old = format!(
            "same: {ENC_A}\nleak: {ENC_A}x\nsecret_now: plain\nre: {ENC_B}\nt: {ENC_A}y\nold_name: v\ngone: 1\n"
        );
        let new = format!(
            "same: {ENC_A}\nleak: hunter2\nsecret_now: {ENC_B}\nre: {ENC_A}\nt: {ENC_INT}\nnew_name: v\nadded: 2\n"
        );
        let (k, verdict) = kinds(&old, &new);
        let find = |p: &str| {
            k.iter()
                .find(|(place, _)| place == p)
                .map(|(_, k)| k.clone())
        };
        assert_eq!(find("same"), None);
        assert_eq!(find("leak"), Some(ChangeKind::Exposed));
        assert_eq!(find("secret_now"), Some(ChangeKind::Protected));
        assert_eq!(
            find("re"),
            Some(ChangeKind::Changed),
            "same key: a changed value"
        );
        assert_eq!(find("t"), Some(ChangeKind::TypeChanged));
        assert_eq!(
            find("new_name"),
            Some(ChangeKind::Renamed {
                from: "old_name".into()
            })
        );
        assert_eq!(find("old_name"), None, "a rename is one change");
        assert_eq!(find("added"), Some(ChangeKind::Added));
        assert_eq!(find("gone"), Some(ChangeKind::Removed));
        assert!(matches!(
            verdict,
            DataKeyVerdict::Same {
                verified: false,
                ..
            }
        ));
    }

    #[test]
    fn every_ciphertext_new_means_the_data_key_was_replaced() {
        let (k, verdict) = kinds(&format!("a: {ENC_A}\n"), &format!("a: {ENC_B}\n"));
        assert_eq!(verdict, DataKeyVerdict::Replaced { verified: false });
        assert_eq!(k, vec![("a".to_string(), ChangeKind::ReEncrypted)]);
    }
}
