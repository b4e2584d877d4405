//! Staged recipient changes: add or remove keys and groups, change the Shamir threshold,
//! rotate the data key or take a `.sops.yaml` rule's groups. Each change is checked when it is
//! staged (no empty group, no impossible threshold), shown as a diff, and written only by
//! `apply`, all at once. The key manager screen and `updatekeys` both use it.

use crate::document::Document;
use crate::keys::groups::KeySources;
use crate::keys::{KeyGroup, KeyKind, MasterKey};
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
    /// For each staged group, the group it was before the changes (`None`: a new group).
    origins: Vec<Option<usize>>,
    threshold: i64,
    rotate: bool,
    changes: Vec<Change>,
    /// One line per change, for people (written when it was staged, so removed keys keep
    /// their names).
    labels: Vec<String>,
}

impl Plan {
    /// A plan with no changes yet, starting from a file's metadata.
    pub fn new(md: &Metadata) -> Plan {
        Plan {
            before: md.key_groups.clone(),
            before_threshold: md.shamir_threshold,
            groups: md.key_groups.clone(),
            origins: (0..md.key_groups.len()).map(Some).collect(),
            threshold: md.shamir_threshold,
            rotate: false,
            changes: Vec::new(),
            labels: Vec::new(),
        }
    }

    /// The groups before any staged change.
    pub fn before(&self) -> &[KeyGroup] {
        &self.before
    }

    /// The raw threshold as it will be written (0: every group).
    pub fn raw_threshold(&self) -> i64 {
        self.threshold
    }

    /// What each staged change does, in staging order.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Whether a new data key is staged.
    pub fn rotates(&self) -> bool {
        self.rotate
    }

    /// Whether `key` was not in this group before the changes (a new recipient there).
    pub fn is_new(&self, group: usize, key: &MasterKey) -> bool {
        let before = self.origins.get(group).copied().flatten();
        !before
            .and_then(|g| self.before.get(g))
            .is_some_and(|g| g.keys.iter().any(|k| same_key(k, key)))
    }

    /// Drops the newest staged change; returns what it did.
    pub fn unstage_last(&mut self) -> Option<String> {
        let mut changes = std::mem::take(&mut self.changes);
        let label = self.labels.pop();
        changes.pop()?;
        self.clear();
        for change in changes {
            self.stage(change)
                .expect("a change that was valid in this order still is");
        }
        label
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
        if change == Change::Rotate && self.rotate {
            return Err("a new data key is already staged".into());
        }
        let label = self.describe(&change);
        let mut groups = self.groups.clone();
        let mut origins = self.origins.clone();
        let mut threshold = self.threshold;
        match &change {
            Change::AddKey { group, key } => {
                let g = groups.get_mut(*group).ok_or_else(|| no_group(*group))?;
                if g.keys.iter().any(|k| same_key(k, key)) {
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
                origins.push(None);
            }
            Change::RemoveGroup(i) => {
                if *i >= groups.len() {
                    return Err(no_group(*i));
                }
                if groups.len() == 1 {
                    return Err("the file's only key group cannot be removed".into());
                }
                groups.remove(*i);
                origins.remove(*i);
            }
            Change::SetThreshold(t) => {
                if groups.len() < 2 {
                    return Err("a threshold needs several key groups: add a group first".into());
                }
                threshold = *t;
            }
            Change::ReplaceGroups {
                groups: g,
                threshold: t,
            } => {
                if g.is_empty() || g.iter().any(|g| g.keys.is_empty()) {
                    return Err("the rule has an empty key group".into());
                }
                groups = g.clone();
                // sops compat: a rule's groups are compared with the file's by position.
                origins = (0..g.len())
                    .map(|i| (i < self.before.len()).then_some(i))
                    .collect();
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
        self.origins = origins;
        self.threshold = threshold;
        self.changes.push(change);
        self.labels.push(label);
        Ok(())
    }

    /// A line saying what `change` would do to the current groups.
    fn describe(&self, change: &Change) -> String {
        let key_name = |k: &MasterKey| format!("{} {}", k.kind.field(), k.display());
        match change {
            Change::AddKey { group, key } => {
                format!("add {} to group {}", key_name(key), group + 1)
            }
            Change::RemoveKey { group, index } => {
                match self.groups.get(*group).and_then(|g| g.keys.get(*index)) {
                    Some(k) => format!("remove {} from group {}", key_name(k), group + 1),
                    None => format!("remove key {} from group {}", index + 1, group + 1),
                }
            }
            Change::AddGroup(g) => {
                let first = g.keys.first().map(key_name).unwrap_or_default();
                format!("add group {} with {first}", self.groups.len() + 1)
            }
            Change::RemoveGroup(i) => {
                let n = self.groups.get(*i).map_or(0, |g| g.keys.len());
                format!(
                    "remove group {} and its {n} key{}",
                    i + 1,
                    if n == 1 { "" } else { "s" }
                )
            }
            Change::SetThreshold(t) => format!("set the Shamir threshold to {t}"),
            Change::ReplaceGroups { groups, .. } => format!(
                "take the .sops.yaml rule's keys ({} group{})",
                groups.len(),
                if groups.len() == 1 { "" } else { "s" }
            ),
            Change::Rotate => "rotate the data key (every value is encrypted again)".into(),
        }
    }

    /// Drops every staged change.
    pub fn clear(&mut self) {
        self.groups = self.before.clone();
        self.origins = (0..self.before.len()).map(Some).collect();
        self.threshold = self.before_threshold;
        self.rotate = false;
        self.changes.clear();
        self.labels.clear();
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

/// sops compat: keys are the same recipient when type and display string match.
pub fn same_key(a: &MasterKey, b: &MasterKey) -> bool {
    a.kind == b.kind && a.display() == b.display()
}

/// A creation rule's groups, where a key the file already has in the same group keeps its
/// stored entry (its `enc` and any fields sesame does not use), so it need not be wrapped
/// again.
pub fn keep_stored_entries(old: &[KeyGroup], mut new: Vec<KeyGroup>) -> Vec<KeyGroup> {
    for (i, group) in new.iter_mut().enumerate() {
        let Some(previous) = old.get(i) else { continue };
        for key in &mut group.keys {
            if let Some(stored) = previous.keys.iter().find(|k| same_key(k, key)) {
                *key = stored.clone();
            }
        }
    }
    new
}

/// sops compat (updatekeys): the threshold after taking a rule's groups is the given one, else
/// the file's, capped by the group count; where that leaves several groups without one, the
/// rule's applies.
pub fn rule_threshold(given: Option<i64>, file: i64, rule_groups: usize, rule: i64) -> i64 {
    let mut t = given
        .filter(|t| *t != 0)
        .unwrap_or(file)
        .min(rule_groups as i64);
    if t == 0 && rule_groups > 1 {
        t = rule.min(rule_groups as i64);
    }
    t
}

/// What a typed recipient is: an age X25519 or SSH public key, a PGP fingerprint, or an AWS
/// KMS ARN (`arn[+role]`). Anything else is `None` (the caller may try it as a key file).
pub fn parse_recipient(text: &str) -> Result<Option<MasterKey>, String> {
    let t = text.trim();
    if t.starts_with("age1") || t.starts_with("ssh-") {
        crate::keys::age::parse_recipient(t).map_err(|e| e.to_string())?;
        let mut k = MasterKey::new(KeyKind::Age);
        k.set_text("recipient", t);
        return Ok(Some(k));
    }
    if t.starts_with("arn:") {
        let arn = t.split('+').next().unwrap_or(t);
        let parts: Vec<&str> = arn.split(':').collect();
        if parts.len() < 6 || parts[2] != "kms" || parts[3].is_empty() {
            return Err(format!(
                "{t:?} is not an AWS KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID, optionally +ROLE_ARN)"
            ));
        }
        return Ok(Some(crate::config::kms_key(t, "", None)));
    }
    let hex: String = t.chars().filter(|c| !c.is_whitespace()).collect();
    if (hex.len() == 40 || hex.len() == 16) && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Ok(Some(crate::config::pgp_key(&hex.to_ascii_uppercase())));
    }
    Ok(None)
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
    match groups.len() {
        0 => "nobody: the file has no keys".into(),
        1 => match groups[0].keys.len() {
            0 => "nobody: its key group is empty".into(),
            1 => "its one key can decrypt".into(),
            n => format!("any one of its {n} keys can decrypt"),
        },
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
    let displays = |groups: &[KeyGroup], i: usize| -> Vec<String> {
        groups
            .get(i)
            .map(|g| g.keys.iter().map(MasterKey::display).collect())
            .unwrap_or_default()
    };
    (0..old.len().max(new.len()))
        .map(|i| {
            let (ours, theirs) = (displays(old, i), displays(new, i));
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
    fn unchanged_keys_keep_their_stored_entries() {
        let mut a = age_key("a");
        a.set_text("enc", "x");
        let mut b = age_key("b");
        b.set_text("enc", "y");
        let kept = keep_stored_entries(&[KeyGroup { keys: vec![a, b] }], vec![group(&["b", "c"])]);
        assert_eq!(kept[0].keys[0].enc(), "y");
        assert_eq!(kept[0].keys[1].enc(), "");
        assert_eq!(rule_threshold(None, 0, 3, 2), 2);
        assert_eq!(rule_threshold(None, 3, 2, 0), 2);
        assert_eq!(rule_threshold(Some(2), 0, 3, 3), 2);
        assert_eq!(rule_threshold(None, 0, 1, 0), 0);
    }

    #[test]
    fn typed_recipients_are_recognised() {
        let (_, r) = identity();
        let k = parse_recipient(&format!("  {r} ")).unwrap().unwrap();
        assert_eq!((k.kind, k.display()), (KeyKind::Age, r));
        assert!(parse_recipient("age1notakey").is_err());
        let fp = "c009 74e4 cf25 a715 d3ce 81d9 6237 7bd1 225d 0c0e";
        let k = parse_recipient(fp).unwrap().unwrap();
        assert_eq!(k.display(), "C00974E4CF25A715D3CE81D962377BD1225D0C0E");
        let arn = "arn:aws:kms:eu-west-1:111122223333:key/abc+arn:aws:iam::111122223333:role/ops";
        let k = parse_recipient(arn).unwrap().unwrap();
        assert_eq!(k.kind, KeyKind::Kms);
        assert_eq!(k.text("role"), "arn:aws:iam::111122223333:role/ops");
        assert!(parse_recipient("arn:aws:s3:::bucket").is_err());
        assert_eq!(parse_recipient("./keys/ops.asc").unwrap(), None);
    }

    #[test]
    fn unstaging_replays_the_rest_and_labels_name_the_keys() {
        let mut plan = Plan::new(&metadata(vec![group(&["age1a", "age1b"])], 0));
        plan.stage(Change::RemoveKey { group: 0, index: 0 })
            .unwrap();
        plan.stage(Change::AddGroup(group(&["age1c"]))).unwrap();
        plan.stage(Change::Rotate).unwrap();
        assert!(
            plan.stage(Change::Rotate).is_err(),
            "one rotation is enough"
        );
        assert!(plan.stage(Change::SetThreshold(2)).is_ok());
        assert_eq!(
            plan.labels()[..2],
            [
                "remove age age1a from group 1".to_string(),
                "add group 2 with age age1c".to_string()
            ]
        );
        assert!(plan.is_new(1, &age_key("age1c")) && !plan.is_new(0, &age_key("age1b")));
        let mut three = Plan::new(&metadata(
            vec![group(&["age1a"]), group(&["age1b"]), group(&["age1c"])],
            2,
        ));
        three.stage(Change::RemoveGroup(0)).unwrap();
        assert!(
            !three.is_new(0, &age_key("age1b")),
            "group 2, now the first, keeps its keys"
        );
        assert_eq!(
            plan.unstage_last().as_deref(),
            Some("set the Shamir threshold to 2")
        );
        assert_eq!(
            plan.unstage_last().as_deref(),
            Some("rotate the data key (every value is encrypted again)")
        );
        assert!(!plan.rotates() && plan.groups().len() == 2);
        plan.unstage_last();
        plan.unstage_last();
        assert!(plan.is_empty() && plan.unstage_last().is_none());
        assert_eq!(plan.groups()[0].keys.len(), 2);
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
