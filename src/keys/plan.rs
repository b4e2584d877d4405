//! Staged recipient changes: add or remove keys and groups, change the Shamir threshold,
//! rotate the data key or take a `.sops.yaml` rule's groups. Each change is checked when it is
//! staged (no empty group, no impossible threshold), shown as a diff, and written only by
//! `Document::apply_plan`, all at once. The key manager screen and the CLI's `groups`,
//! `rotate` and `updatekeys` all stage their changes here.

use crate::keys::{KeyGroup, MasterKey};

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
    /// Remove a recipient from every group it is in (`rotate --rm-*`).
    RemoveEverywhere(MasterKey),
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

/// Why a change cannot be staged. The messages are the editor's; the CLI words some of them
/// as sops does.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("there is no group {}", .0 + 1)]
    NoGroup(usize),
    #[error("group {} has no key {}", .group + 1, .index + 1)]
    NoKey { group: usize, index: usize },
    #[error("group {} already has {key}", .group + 1)]
    DuplicateKey { group: usize, key: String },
    #[error("removing the last key of group {} would leave it empty: remove the group instead", .0 + 1)]
    WouldEmptyGroup(usize),
    #[error("a new group needs at least one key")]
    EmptyNewGroup,
    #[error("the rule has an empty key group")]
    RuleHasEmptyGroup,
    #[error("the file's only key group cannot be removed")]
    OnlyGroup,
    #[error("a threshold needs several key groups: add a group first")]
    ThresholdNeedsGroups,
    #[error(
        "a threshold of {threshold} is impossible with {groups} key groups: the file could never be decrypted"
    )]
    ImpossibleThreshold { threshold: i64, groups: usize },
    #[error("a threshold of 1 with several groups: use one group instead (any key decrypts)")]
    ThresholdOfOne,
    #[error("a new data key is already staged")]
    AlreadyRotating,
}

/// Which refusals apply. Both refuse what would leave a file nobody can decrypt (an empty
/// group, no group, a threshold above the group count).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checks {
    /// The key manager's: also refuses what is pointless or surprising (a key twice in a
    /// group, a threshold of 1 over several groups, a threshold with one group).
    Editor,
    /// The command line's: sops accepts those, so a drop-in does too.
    Sops,
}

/// The groups, their origins and the threshold as staged so far.
#[derive(Clone, Debug)]
struct Staged {
    groups: Vec<KeyGroup>,
    /// For each staged group, the group it was before the changes (`None`: a new group).
    origins: Vec<Option<usize>>,
    threshold: i64,
    /// Whether the threshold was set by a staged change (not inherited from the file).
    threshold_set: bool,
    rotate: bool,
}

/// The key groups and threshold before and after the staged changes.
#[derive(Clone, Debug)]
pub struct Plan {
    before: Vec<KeyGroup>,
    before_threshold: i64,
    checks: Checks,
    staged: Staged,
    changes: Vec<Change>,
    /// One line per change, for people (written when it was staged, so removed keys keep
    /// their names).
    labels: Vec<String>,
}

impl Plan {
    /// A plan with no changes yet, starting from a file's key groups and Shamir threshold,
    /// with the key manager's checks.
    pub fn new(key_groups: &[KeyGroup], shamir_threshold: i64) -> Plan {
        Plan::with_checks(key_groups, shamir_threshold, Checks::Editor)
    }

    /// A plan with no changes yet and the given checks.
    pub fn with_checks(key_groups: &[KeyGroup], shamir_threshold: i64, checks: Checks) -> Plan {
        Plan {
            before: key_groups.to_vec(),
            before_threshold: shamir_threshold,
            checks,
            staged: Staged {
                groups: key_groups.to_vec(),
                origins: (0..key_groups.len()).map(Some).collect(),
                threshold: shamir_threshold,
                threshold_set: false,
                rotate: false,
            },
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
        self.staged.threshold
    }

    /// What each staged change does, in staging order.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Whether a new data key is staged.
    pub fn rotates(&self) -> bool {
        self.staged.rotate
    }

    /// Whether `key` was not in this group before the changes (a new recipient there).
    pub fn is_new(&self, group: usize, key: &MasterKey) -> bool {
        let before = self.staged.origins.get(group).copied().flatten();
        !before
            .and_then(|g| self.before.get(g))
            .is_some_and(|g| g.keys.iter().any(|k| same_key(k, key)))
    }

    /// Drops the newest staged change; returns what it did.
    pub fn unstage_last(&mut self) -> Option<String> {
        let mut changes = std::mem::take(&mut self.changes);
        changes.pop()?;
        let label = self.labels.pop();
        let labels = std::mem::take(&mut self.labels);
        self.clear();
        self.stage_all(changes)
            .expect("changes that were valid in this order still are");
        self.labels = labels;
        label
    }

    pub fn groups(&self) -> &[KeyGroup] {
        &self.staged.groups
    }

    /// The threshold that applies: with several groups, 0 means all of them.
    pub fn threshold(&self) -> usize {
        effective_threshold(self.staged.groups.len(), self.staged.threshold)
    }

    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Stages `change` if the result can still be decrypted; otherwise says why not and
    /// changes nothing.
    pub fn stage(&mut self, change: Change) -> Result<(), PlanError> {
        self.stage_all(vec![change])
    }

    /// Stages several changes as one step: each is checked on its own, the threshold once at
    /// the end (so a command may lower the threshold and remove a group together). Nothing is
    /// staged unless all of them can be.
    pub fn stage_all(&mut self, changes: Vec<Change>) -> Result<(), PlanError> {
        let mut staged = self.staged.clone();
        let mut labels = Vec::new();
        for change in &changes {
            labels.push(describe(&staged, change));
            self.apply_change(&mut staged, change)?;
        }
        let n = staged.groups.len();
        if n > 1 && (staged.threshold < 0 || staged.threshold > n as i64) {
            return Err(PlanError::ImpossibleThreshold {
                threshold: staged.threshold,
                groups: n,
            });
        }
        if self.checks == Checks::Editor && n > 1 && staged.threshold == 1 && staged.threshold_set {
            return Err(PlanError::ThresholdOfOne);
        }
        self.staged = staged;
        self.changes.extend(changes);
        self.labels.extend(labels);
        Ok(())
    }

    /// One change on the staged groups, with the checks that need no other change.
    fn apply_change(&self, s: &mut Staged, change: &Change) -> Result<(), PlanError> {
        let editor = self.checks == Checks::Editor;
        match change {
            Change::AddKey { group, key } => {
                let g = s.groups.get_mut(*group).ok_or(PlanError::NoGroup(*group))?;
                if editor && g.keys.iter().any(|k| same_key(k, key)) {
                    return Err(PlanError::DuplicateKey {
                        group: *group,
                        key: key.display(),
                    });
                }
                g.keys.push(key.clone());
            }
            Change::RemoveKey { group, index } => {
                let g = s.groups.get_mut(*group).ok_or(PlanError::NoGroup(*group))?;
                if *index >= g.keys.len() {
                    return Err(PlanError::NoKey {
                        group: *group,
                        index: *index,
                    });
                }
                if g.keys.len() == 1 {
                    return Err(PlanError::WouldEmptyGroup(*group));
                }
                g.keys.remove(*index);
            }
            Change::RemoveEverywhere(key) => {
                for (i, g) in s.groups.iter_mut().enumerate() {
                    g.keys.retain(|k| !same_key(k, key));
                    if g.keys.is_empty() {
                        return Err(PlanError::WouldEmptyGroup(i));
                    }
                }
            }
            Change::AddGroup(g) => {
                if g.keys.is_empty() {
                    return Err(PlanError::EmptyNewGroup);
                }
                s.groups.push(g.clone());
                s.origins.push(None);
            }
            Change::RemoveGroup(i) => {
                if *i >= s.groups.len() {
                    return Err(PlanError::NoGroup(*i));
                }
                if s.groups.len() == 1 {
                    return Err(PlanError::OnlyGroup);
                }
                s.groups.remove(*i);
                s.origins.remove(*i);
            }
            Change::SetThreshold(t) => {
                if editor && s.groups.len() < 2 {
                    return Err(PlanError::ThresholdNeedsGroups);
                }
                s.threshold = *t;
                s.threshold_set = true;
            }
            Change::ReplaceGroups { groups, threshold } => {
                if groups.is_empty() || groups.iter().any(|g| g.keys.is_empty()) {
                    return Err(PlanError::RuleHasEmptyGroup);
                }
                s.groups = groups.clone();
                // sops compat: a rule's groups are compared with the file's by position.
                s.origins = (0..groups.len())
                    .map(|i| (i < self.before.len()).then_some(i))
                    .collect();
                s.threshold = *threshold;
                s.threshold_set = true;
            }
            Change::Rotate => {
                if s.rotate {
                    return Err(PlanError::AlreadyRotating);
                }
                s.rotate = true;
            }
        }
        Ok(())
    }

    /// Drops every staged change.
    pub fn clear(&mut self) {
        self.staged = Staged {
            groups: self.before.clone(),
            origins: (0..self.before.len()).map(Some).collect(),
            threshold: self.before_threshold,
            threshold_set: false,
            rotate: false,
        };
        self.changes.clear();
        self.labels.clear();
    }

    /// Per group: keys kept, added and removed.
    pub fn diff(&self) -> Vec<GroupDiff> {
        diff_groups(&self.before, &self.staged.groups)
    }

    /// Whether, after the staged changes, the keys this machine can use would open too few
    /// groups to decrypt the file (`usable` says per key: yes, no, or `None` when only trying
    /// would tell, which counts as usable).
    pub fn locks_out(&self, usable: impl Fn(&MasterKey) -> Option<bool>) -> bool {
        let groups = &self.staged.groups;
        let open = groups
            .iter()
            .filter(|g| g.keys.iter().any(|k| usable(k) != Some(false)))
            .count();
        open < self.threshold()
    }

    /// Says that no key here could decrypt the file after the changes, and who still can.
    pub fn lockout_warning(&self, file: &str) -> String {
        let who: Vec<String> = self
            .staged
            .groups
            .iter()
            .enumerate()
            .map(|(i, g)| {
                let keys: Vec<String> = g
                    .keys
                    .iter()
                    .map(|k| format!("{} {}", k.kind.field(), k.display()))
                    .collect();
                format!("group {}: {}", i + 1, keys.join(", "))
            })
            .collect();
        format!(
            "after this change no key on this machine can decrypt {file}; {} ({})",
            self.who_can_decrypt(),
            who.join("; ")
        )
    }

    /// "any 2 of these 3 groups" — who can decrypt after the changes, for people.
    pub fn who_can_decrypt(&self) -> String {
        who_can_decrypt(&self.staged.groups, self.staged.threshold)
    }
}

/// A line saying what `change` would do to the staged groups.
fn describe(s: &Staged, change: &Change) -> String {
    let key_name = |k: &MasterKey| format!("{} {}", k.kind.field(), k.display());
    match change {
        Change::AddKey { group, key } => {
            format!("add {} to group {}", key_name(key), group + 1)
        }
        Change::RemoveKey { group, index } => {
            match s.groups.get(*group).and_then(|g| g.keys.get(*index)) {
                Some(k) => format!("remove {} from group {}", key_name(k), group + 1),
                None => format!("remove key {} from group {}", index + 1, group + 1),
            }
        }
        Change::RemoveEverywhere(key) => format!("remove {} from every group", key_name(key)),
        Change::AddGroup(g) => {
            let first = g.keys.first().map(key_name).unwrap_or_default();
            format!("add group {} with {first}", s.groups.len() + 1)
        }
        Change::RemoveGroup(i) => {
            let n = s.groups.get(*i).map_or(0, |g| g.keys.len());
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
    /// From the recipients' `created_at` only: `updatekeys` renews those while the data key
    /// stays, so this is a lower bound, not the key's age (Git history tells the real one).
    pub estimate: bool,
}

impl DataKeyAge {
    /// The age Git history gives: the data key first appeared in a commit made `created`.
    pub fn from_commit(created: time::OffsetDateTime, now: time::OffsetDateTime) -> DataKeyAge {
        DataKeyAge {
            created,
            days: (now - created).whole_days(),
            estimate: false,
        }
    }

    /// An estimate from the oldest recipient's `created_at`.
    pub fn of(key_groups: &[KeyGroup], now: time::OffsetDateTime) -> Option<DataKeyAge> {
        let created = key_groups
            .iter()
            .flat_map(|g| g.keys.iter())
            .filter_map(|k| crate::gotext::parse_time(k.text("created_at")))
            .min()?;
        Some(DataKeyAge {
            created,
            days: (now - created).whole_days(),
            estimate: true,
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
    use crate::document::{Document, NewFile, OpenOptions};
    use crate::env::FixedEnv;
    use crate::keys::KeyKind;
    use crate::keys::groups::KeySources;
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

    #[test]
    fn refuses_changes_that_would_lock_everyone_out() {
        let mut plan = Plan::new(&[group(&["age1a"])], 0);
        let err = plan
            .stage(Change::RemoveKey { group: 0, index: 0 })
            .unwrap_err()
            .to_string();
        assert!(err.contains("empty"), "{err}");
        assert!(
            plan.stage(Change::RemoveGroup(0))
                .unwrap_err()
                .to_string()
                .contains("only key group")
        );
        assert!(
            plan.stage(Change::AddKey {
                group: 0,
                key: age_key("age1a")
            })
            .unwrap_err()
            .to_string()
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
                .to_string()
                .contains("impossible")
        );
        assert!(plan.stage(Change::SetThreshold(1)).is_err());
        let err = plan.stage(Change::RemoveGroup(2)).unwrap_err().to_string();
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
    fn sops_checks_allow_what_sops_does_and_batches_check_the_end() {
        let mut plan = Plan::with_checks(&[group(&["age1a"])], 0, Checks::Sops);
        plan.stage(Change::AddKey {
            group: 0,
            key: age_key("age1a"),
        })
        .unwrap();
        plan.stage(Change::SetThreshold(1)).unwrap();
        assert_eq!(
            plan.stage(Change::RemoveEverywhere(age_key("age1a"))),
            Err(PlanError::WouldEmptyGroup(0))
        );
        assert_eq!(
            plan.stage(Change::RemoveGroup(0)),
            Err(PlanError::OnlyGroup)
        );

        let three = [group(&["age1a"]), group(&["age1b"]), group(&["age1c"])];
        let mut plan = Plan::with_checks(&three, 3, Checks::Sops);
        plan.stage_all(vec![Change::SetThreshold(2), Change::RemoveGroup(0)])
            .unwrap();
        assert_eq!((plan.groups().len(), plan.raw_threshold()), (2, 2));
        let mut plan = Plan::with_checks(&three, 0, Checks::Sops);
        assert_eq!(
            plan.stage_all(vec![Change::SetThreshold(3), Change::RemoveGroup(0)]),
            Err(PlanError::ImpossibleThreshold {
                threshold: 3,
                groups: 2
            })
        );
        assert!(plan.is_empty(), "a refused batch stages nothing");
        plan.stage(Change::RemoveEverywhere(age_key("age1b")))
            .unwrap_err();
        plan.stage(Change::RemoveEverywhere(age_key("age1z")))
            .unwrap();
        assert_eq!(plan.labels(), ["remove age age1z from every group"]);
    }

    #[test]
    fn data_key_age_is_the_oldest_key_date() {
        let mut a = MasterKey::new(KeyKind::Pgp);
        a.set_text("created_at", "2026-01-01T00:00:00Z");
        let mut b = MasterKey::new(KeyKind::Kms);
        b.set_text("created_at", "2026-06-01T00:00:00Z");
        let groups = [KeyGroup {
            keys: vec![b, a, age_key("age1x")],
        }];
        let now = crate::gotext::parse_time("2026-07-20T12:00:00Z").unwrap();
        let age = DataKeyAge::of(&groups, now).unwrap();
        assert_eq!(age.days, 200);
        assert!(age.rotation_due(DEFAULT_ROTATE_AFTER_DAYS) && !age.rotation_due(201));
        assert_eq!(DataKeyAge::of(&[group(&["age1x"])], now), None);
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
    fn unstaging_replays_the_rest_and_labels_name_the_keys() {
        let mut plan = Plan::new(&[group(&["age1a", "age1b"])], 0);
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
        let mut three = Plan::new(
            &[group(&["age1a"]), group(&["age1b"]), group(&["age1c"])],
            2,
        );
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
            ..NewFile::default()
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
                    keep_damaged: false,
                },
            )
        };

        let mut doc = open(&bytes, &[&id1]).unwrap();
        let mut plan = Plan::new(&doc.metadata().key_groups, doc.metadata().shamir_threshold);
        plan.stage(Change::AddKey {
            group: 0,
            key: age_key(&r2),
        })
        .unwrap();
        plan.stage(Change::RemoveKey { group: 0, index: 0 })
            .unwrap();
        plan.stage(Change::Rotate).unwrap();
        doc.apply_plan(&plan, &sources(&[&id1])).unwrap();
        let rotated = doc.seal(&EmitOptions::default()).unwrap().unwrap();
        assert!(open(&rotated, &[&id2]).is_ok());
        assert!(
            open(&rotated, &[&id1]).is_err(),
            "the removed key no longer decrypts"
        );

        let mut doc = open(&rotated, &[&id2]).unwrap();
        let mut plan = Plan::new(&doc.metadata().key_groups, doc.metadata().shamir_threshold);
        plan.stage(Change::AddGroup(group(&[&r1]))).unwrap();
        plan.stage(Change::AddGroup(group(&[&r3]))).unwrap();
        plan.stage(Change::SetThreshold(2)).unwrap();
        doc.apply_plan(&plan, &sources(&[&id2])).unwrap();
        let split = doc.seal(&EmitOptions::default()).unwrap().unwrap();
        assert!(String::from_utf8_lossy(&split).contains("shamir_threshold: 2"));
        assert!(open(&split, &[&id1, &id3]).is_ok());
        assert!(open(&split, &[&id3]).is_err());
    }
}
