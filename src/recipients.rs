//! Staged recipient changes: add or remove keys and groups, change the Shamir threshold,
//! rotate the data key or take a `.sops.yaml` rule's groups. Each change is checked when it is
//! staged (no empty group, no impossible threshold), shown as a diff, and written only by
//! `apply`, all at once. The key manager screen and `updatekeys` both use it.

use crate::document::Document;
use crate::keys::groups::KeySources;
use crate::keys::{KeyGroup, MasterKey};
use crate::metadata::Metadata;

/// One staged change.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    AddKey {
        group: usize,
        key: MasterKey,
    },
    RemoveKey {
        group: usize,
        index: usize,
    },
    AddGroup(KeyGroup),
    RemoveGroup(usize),
    SetThreshold(i64),
    /// Replace every group (a creation rule's keys).
    ReplaceGroups {
        groups: Vec<KeyGroup>,
        threshold: i64,
    },
    /// A new data key, so removed recipients cannot read future versions.
    Rotate,
}

/// The key groups and threshold before and after the staged changes.
#[derive(Clone, Debug)]
pub struct Plan {
    before: Vec<KeyGroup>,
    before_threshold: i64,
    groups: Vec<KeyGroup>,
    threshold: i64,
    rotate: bool,
    changes: Vec<Change>,
}

impl Plan {
    /// A plan with no changes yet, starting from a file's metadata.
    pub fn new(md: &Metadata) -> Plan {
        Plan {
            before: md.key_groups.clone(),
            before_threshold: md.shamir_threshold,
            groups: md.key_groups.clone(),
            threshold: md.shamir_threshold,
            rotate: false,
            changes: Vec::new(),
        }
    }

    pub fn groups(&self) -> &[KeyGroup] {
        &self.groups
    }

    /// The threshold that applies: with several groups, 0 means all of them.
    pub fn threshold(&self) -> usize {
        effective_threshold(self.groups.len(), self.threshold)
    }

    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Stages `change` if the result can still be decrypted; otherwise says why not and
    /// changes nothing.
    pub fn stage(&mut self, change: Change) -> Result<(), String> {
        let mut groups = self.groups.clone();
        let mut threshold = self.threshold;
        match &change {
            Change::AddKey { group, key } => {
                let g = groups.get_mut(*group).ok_or_else(|| no_group(*group))?;
                if g.keys
                    .iter()
                    .any(|k| k.kind == key.kind && k.display() == key.display())
                {
                    return Err(format!("group {} already has {}", group + 1, key.display()));
                }
                g.keys.push(key.clone());
            }
            Change::RemoveKey { group, index } => {
                let g = groups.get_mut(*group).ok_or_else(|| no_group(*group))?;
                if *index >= g.keys.len() {
                    return Err(format!("group {} has no key {}", group + 1, index + 1));
                }
                if g.keys.len() == 1 {
                    return Err(format!(
                        "removing the last key of group {} would leave it empty: remove the group instead",
                        group + 1
                    ));
                }
                g.keys.remove(*index);
            }
            Change::AddGroup(g) => {
                if g.keys.is_empty() {
                    return Err("a new group needs at least one key".into());
                }
                groups.push(g.clone());
            }
            Change::RemoveGroup(i) => {
                if *i >= groups.len() {
                    return Err(no_group(*i));
                }
                if groups.len() == 1 {
                    return Err("the file's only key group cannot be removed".into());
                }
                groups.remove(*i);
            }
            Change::SetThreshold(t) => threshold = *t,
            Change::ReplaceGroups {
                groups: g,
                threshold: t,
            } => {
                if g.is_empty() || g.iter().any(|g| g.keys.is_empty()) {
                    return Err("the rule has an empty key group".into());
                }
                groups = g.clone();
                threshold = *t;
            }
            Change::Rotate => {}
        }
        if groups.len() > 1 && (threshold < 0 || threshold > groups.len() as i64) {
            return Err(format!(
                "a threshold of {threshold} is impossible with {} key groups: the file could never be decrypted",
                groups.len()
            ));
        }
        if groups.len() > 1 && threshold == 1 {
            return Err(
                "a threshold of 1 with several groups: use one group instead (any key decrypts)"
                    .into(),
            );
        }
        self.rotate |= change == Change::Rotate;
        self.groups = groups;
        self.threshold = threshold;
        self.changes.push(change);
        Ok(())
    }

    /// Drops every staged change.
    pub fn clear(&mut self) {
        self.groups = self.before.clone();
        self.threshold = self.before_threshold;
        self.rotate = false;
        self.changes.clear();
    }

    /// Per group: keys kept, added and removed.
    pub fn diff(&self) -> Vec<GroupDiff> {
        diff_groups(&self.before, &self.groups)
    }

    /// "any 2 of these 3 groups" — who can decrypt after the changes, for people.
    pub fn who_can_decrypt(&self) -> String {
        who_can_decrypt(&self.groups, self.threshold)
    }

    /// Writes the staged changes into `doc` (nothing on failure): a rotation wraps a new data
    /// key for every key; otherwise the current data key is wrapped for the new keys.
    pub fn apply(&self, doc: &mut Document, sources: &KeySources) -> Result<(), String> {
        if self.rotate {
            return doc.rotate_with_threshold(self.groups.clone(), self.threshold, sources);
        }
        doc.set_key_groups(self.groups.clone(), self.threshold, sources)
    }
}

fn no_group(i: usize) -> String {
    format!("there is no group {}", i + 1)
}

/// With several groups, a threshold of 0 means every group.
pub fn effective_threshold(groups: usize, threshold: i64) -> usize {
    if groups <= 1 {
        1
    } else if threshold <= 0 {
        groups
    } else {
        threshold as usize
    }
}

/// A sentence saying who can decrypt a file with these groups.
pub fn who_can_decrypt(groups: &[KeyGroup], threshold: i64) -> String {
    let keys = |n: usize| {
        if n == 1 {
            "1 key".to_string()
        } else {
            format!("{n} keys")
        }
    };
    match groups.len() {
        0 => "nobody: the file has no keys".into(),
        1 => format!(
            "any one of {} can decrypt",
            if groups[0].keys.len() == 1 {
                "its 1 key".into()
            } else {
                format!("its {}", keys(groups[0].keys.len()))
            }
        ),
        n => {
            let t = effective_threshold(n, threshold);
            if t == n {
                format!("a key from each of the {n} groups is needed to decrypt")
            } else {
                format!("a key from any {t} of these {n} groups is needed to decrypt")
            }
        }
    }
}

/// How old a file's data key is, from the earliest `created_at` of its keys (age keys record
/// none, so an age-only file has no date). Re-splitting Shamir shares renews every date, so this
/// is a lower bound.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataKeyAge {
    pub created: time::OffsetDateTime,
    pub days: i64,
}

impl DataKeyAge {
    pub fn of(md: &Metadata, now: time::OffsetDateTime) -> Option<DataKeyAge> {
        let created = md
            .key_groups
            .iter()
            .flat_map(|g| g.keys.iter())
            .filter_map(|k| crate::gofmt::parse_time(k.text("created_at")))
            .min()?;
        Some(DataKeyAge {
            created,
            days: (now - created).whole_days(),
        })
    }

    /// Whether rotation is due after `max_days` (the key manager's suggestion).
    pub fn rotation_due(&self, max_days: i64) -> bool {
        self.days >= max_days
    }
}

/// Days after which the key manager suggests rotating the data key, unless
/// `SESAME_ROTATE_AFTER_DAYS` says otherwise.
pub const DEFAULT_ROTATE_AFTER_DAYS: i64 = 180;

/// One group's keys: in both, only in the new groups, only in the old (by sops's display
/// string, as sops compares them).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GroupDiff {
    pub common: Vec<String>,
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

/// sops compat: groups are compared position by position.
pub fn diff_groups(old: &[KeyGroup], new: &[KeyGroup]) -> Vec<GroupDiff> {
    let empty = KeyGroup::default();
    (0..old.len().max(new.len()))
        .map(|i| {
            let ours: Vec<String> = old
                .get(i)
                .unwrap_or(&empty)
                .keys
                .iter()
                .map(MasterKey::display)
                .collect();
            let theirs: Vec<String> = new
                .get(i)
                .unwrap_or(&empty)
                .keys
                .iter()
                .map(MasterKey::display)
                .collect();
            let mut d = GroupDiff::default();
            for k in &theirs {
                if ours.contains(k) {
                    d.common.push(k.clone());
                } else {
                    d.added.push(k.clone());
                }
            }
            d.removed = ours
                .iter()
                .filter(|k| !theirs.contains(k))
                .cloned()
                .collect();
            d
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{NewFile, OpenOptions};
    use crate::keys::KeyKind;
    use crate::keys::age::FixedEnv;
    use crate::store::{self, EmitOptions, Format};
    use age::secrecy::ExposeSecret;

    fn identity() -> (String, String) {
        let id = age::x25519::Identity::generate();
        (
            id.to_string().expose_secret().to_string(),
            id.to_public().to_string(),
        )
    }

    fn age_key(recipient: &str) -> MasterKey {
        let mut k = MasterKey::new(KeyKind::Age);
        k.set_text("recipient", recipient);
        k
    }

    fn sources(identities: &[&str]) -> KeySources {
        let vars = [("SOPS_AGE_KEY".to_string(), identities.join("\n"))];
        KeySources::new(Box::new(FixedEnv(vars.into_iter().collect())))
    }

    fn group(recipients: &[&str]) -> KeyGroup {
        KeyGroup {
            keys: recipients.iter().map(|r| age_key(r)).collect(),
        }
    }

    fn metadata(groups: Vec<KeyGroup>, threshold: i64) -> Metadata {
        Metadata {
            key_groups: groups,
            shamir_threshold: threshold,
            ..Metadata::default()
        }
    }

    #[test]
    fn refuses_changes_that_would_lock_everyone_out() {
        let mut plan = Plan::new(&metadata(vec![group(&["age1a"])], 0));
        let err = plan
            .stage(Change::RemoveKey { group: 0, index: 0 })
            .unwrap_err();
        assert!(err.contains("empty"), "{err}");
        assert!(
            plan.stage(Change::RemoveGroup(0))
                .unwrap_err()
                .contains("only key group")
        );
        assert!(
            plan.stage(Change::AddKey {
                group: 0,
                key: age_key("age1a")
            })
            .unwrap_err()
            .contains("already has")
        );
        assert!(plan.stage(Change::AddGroup(KeyGroup::default())).is_err());
        assert!(plan.is_empty(), "refused changes are not staged");

        plan.stage(Change::AddGroup(group(&["age1b"]))).unwrap();
        plan.stage(Change::AddGroup(group(&["age1c"]))).unwrap();
        plan.stage(Change::SetThreshold(3)).unwrap();
        assert!(
            plan.stage(Change::SetThreshold(4))
                .unwrap_err()
                .contains("impossible")
        );
        assert!(plan.stage(Change::SetThreshold(1)).is_err());
        let err = plan.stage(Change::RemoveGroup(2)).unwrap_err();
        assert!(err.contains("impossible"), "3 of 2 groups: {err}");
        plan.stage(Change::SetThreshold(2)).unwrap();
        plan.stage(Change::RemoveGroup(2)).unwrap();
        assert_eq!(
            plan.who_can_decrypt(),
            "a key from each of the 2 groups is needed to decrypt"
        );
        assert_eq!(plan.changes().len(), 5);
        plan.clear();
        assert!(plan.is_empty() && plan.groups().len() == 1);
    }

    #[test]
    fn data_key_age_is_the_oldest_key_date() {
        let mut a = MasterKey::new(KeyKind::Pgp);
        a.set_text("created_at", "2026-01-01T00:00:00Z");
        let mut b = MasterKey::new(KeyKind::Kms);
        b.set_text("created_at", "2026-06-01T00:00:00Z");
        let md = metadata(
            vec![KeyGroup {
                keys: vec![b, a, age_key("age1x")],
            }],
            0,
        );
        let now = crate::gofmt::parse_time("2026-07-20T12:00:00Z").unwrap();
        let age = DataKeyAge::of(&md, now).unwrap();
        assert_eq!(age.days, 200);
        assert!(age.rotation_due(DEFAULT_ROTATE_AFTER_DAYS) && !age.rotation_due(201));
        assert_eq!(
            DataKeyAge::of(&metadata(vec![group(&["age1x"])], 0), now),
            None
        );
    }

    #[test]
    fn sentences_and_diffs() {
        assert_eq!(
            who_can_decrypt(&[group(&["a", "b"])], 0),
            "any one of its 2 keys can decrypt"
        );
        assert_eq!(
            who_can_decrypt(&[group(&["a"]), group(&["b"]), group(&["c"])], 2),
            "a key from any 2 of these 3 groups is needed to decrypt"
        );
        let d = diff_groups(&[group(&["a", "b"])], &[group(&["b", "c"]), group(&["d"])]);
        assert_eq!(
            d[0],
            GroupDiff {
                common: vec!["b".into()],
                added: vec!["c".into()],
                removed: vec!["a".into()]
            }
        );
        assert_eq!(d[1].added, vec!["d".to_string()]);
    }

    /// Staged changes applied to a real document: the new recipient decrypts, a removed one
    /// does not, and rotation replaces the data key.
    #[test]
    fn applied_plans_change_who_can_decrypt() {
        let (id1, r1) = identity();
        let (id2, r2) = identity();
        let (id3, r3) = identity();
        let plain = store::parse_plain(Format::Yaml, b"a: secret\n")
            .unwrap()
            .docs;
        let settings = NewFile {
            key_groups: vec![group(&[&r1])],
            shamir_threshold: 0,
            rule: None,
            mac_only_encrypted: false,
        };
        let mut doc = Document::create(Format::Yaml, plain, settings, &sources(&[])).unwrap();
        let bytes = doc.seal(&EmitOptions::default()).unwrap().unwrap();
        let open = |bytes: &[u8], ids: &[&str]| {
            Document::open(
                Format::Yaml,
                bytes.to_vec(),
                &sources(ids),
                OpenOptions {
                    ignore_mac: false,
                    keep_ciphertext: true,
                },
            )
        };

        let mut doc = open(&bytes, &[&id1]).unwrap();
        let mut plan = Plan::new(doc.metadata());
        plan.stage(Change::AddKey {
            group: 0,
            key: age_key(&r2),
        })
        .unwrap();
        plan.stage(Change::RemoveKey { group: 0, index: 0 })
            .unwrap();
        plan.stage(Change::Rotate).unwrap();
        plan.apply(&mut doc, &sources(&[&id1])).unwrap();
        let rotated = doc.seal(&EmitOptions::default()).unwrap().unwrap();
        assert!(open(&rotated, &[&id2]).is_ok());
        assert!(
            open(&rotated, &[&id1]).is_err(),
            "the removed key no longer decrypts"
        );

        let mut doc = open(&rotated, &[&id2]).unwrap();
        let mut plan = Plan::new(doc.metadata());
        plan.stage(Change::AddGroup(group(&[&r1]))).unwrap();
        plan.stage(Change::AddGroup(group(&[&r3]))).unwrap();
        plan.stage(Change::SetThreshold(2)).unwrap();
        plan.apply(&mut doc, &sources(&[&id2])).unwrap();
        let split = doc.seal(&EmitOptions::default()).unwrap().unwrap();
        assert!(String::from_utf8_lossy(&split).contains("shamir_threshold: 2"));
        assert!(open(&split, &[&id1, &id3]).is_ok());
        assert!(open(&split, &[&id3]).is_err());
    }
}
