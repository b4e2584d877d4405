//! The key manager's state: staged recipient changes (`keys::plan::Plan`), the cursor over
//! groups and keys, and what this machine can do with each key (probed by the session, so
//! `update` stays pure). Nothing here draws or reads.

use crate::keys::groups::KeySources;
use crate::keys::plan::{DEFAULT_ROTATE_AFTER_DAYS, DataKeyAge, GroupDiff, Plan};
use crate::keys::service::Availability;
use crate::keys::{KeyGroup, KeyKind, MasterKey};
use crate::metadata::Metadata;
use std::collections::HashMap;

/// A key by type and sops display string (what `facts` are keyed by).
pub type KeyId = (KeyKind, String);

pub fn key_id(key: &MasterKey) -> KeyId {
    (key.kind, key.display())
}

/// What this machine knows about one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyFacts {
    pub availability: Availability,
    /// A PGP key's user id, when a key file or gpg knows it.
    pub user_id: Option<String>,
    /// Why the data key could not be wrapped for it (a PGP key with no public key here).
    pub wrap_problem: Option<String>,
}

/// A selectable line of the key manager: a group's header or one of its keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    Group(usize),
    Key(usize, usize),
}

impl Entry {
    pub fn group(self) -> usize {
        match self {
            Entry::Group(g) | Entry::Key(g, _) => g,
        }
    }
}

/// A `.sops.yaml` rule's groups, waiting for the user's yes.
#[derive(Clone, Debug)]
pub struct RulePreview {
    /// The config file the rule came from.
    pub config: String,
    pub groups: Vec<KeyGroup>,
    pub threshold: i64,
    /// Per group, against the currently staged groups.
    pub diff: Vec<GroupDiff>,
}

/// The key manager screen's state.
#[derive(Clone, Debug)]
pub struct KeyManager {
    pub plan: Plan,
    /// Index into `entries()`.
    pub cursor: usize,
    pub facts: HashMap<KeyId, KeyFacts>,
    /// Today, for the data key's age (set by the session; tests fix it).
    pub now: Option<time::OffsetDateTime>,
    /// Suggest rotation once the data key is this many days old.
    pub rotate_after_days: i64,
    /// When the current data key first appeared in Git history (set by the session).
    pub key_since: Option<time::OffsetDateTime>,
    /// People's names for recipients, from `.sops.yaml` (set by the session).
    pub names: crate::review::names::Names,
}

impl KeyManager {
    pub fn new(md: &Metadata) -> KeyManager {
        KeyManager {
            plan: Plan::new(&md.key_groups, md.shamir_threshold),
            cursor: 0,
            facts: HashMap::new(),
            now: None,
            rotate_after_days: DEFAULT_ROTATE_AFTER_DAYS,
            key_since: None,
            names: Default::default(),
        }
    }

    /// Starts over from the file's metadata (after a save or a reload).
    pub fn reset(&mut self, md: &Metadata) {
        self.plan = Plan::new(&md.key_groups, md.shamir_threshold);
        self.clamp();
    }

    /// The selectable lines, in screen order.
    pub fn entries(&self) -> Vec<Entry> {
        let mut out = Vec::new();
        for (g, group) in self.plan.groups().iter().enumerate() {
            out.push(Entry::Group(g));
            out.extend((0..group.keys.len()).map(|k| Entry::Key(g, k)));
        }
        out
    }

    pub fn selected(&self) -> Option<Entry> {
        self.entries().get(self.cursor).copied()
    }

    /// Moves the cursor by `delta` lines, staying inside.
    pub fn step(&mut self, delta: isize) {
        let n = self.entries().len();
        self.cursor = self
            .cursor
            .saturating_add_signed(delta)
            .min(n.saturating_sub(1));
    }

    pub fn clamp(&mut self) {
        self.step(0);
    }

    /// The data key's age: from Git history where the file has one, else estimated from the
    /// metadata.
    pub fn data_key_age(&self, md: &Metadata) -> Option<DataKeyAge> {
        let now = self.now?;
        match self.key_since {
            Some(since) => Some(DataKeyAge::from_commit(since, now)),
            None => DataKeyAge::of(&md.key_groups, now),
        }
    }

    /// The keys of the staged groups nothing is known about yet.
    pub fn unprobed(&self) -> Vec<MasterKey> {
        let mut out: Vec<MasterKey> = Vec::new();
        for key in self.plan.groups().iter().flat_map(|g| g.keys.iter()) {
            let id = key_id(key);
            if !self.facts.contains_key(&id) && !out.iter().any(|k| key_id(k) == id) {
                out.push(key.clone());
            }
        }
        out
    }
}

/// Finds out, without prompting or network calls, what this machine can do with `keys`.
pub fn probe(keys: &[MasterKey], sources: &KeySources) -> Vec<(KeyId, KeyFacts)> {
    keys.iter()
        .map(|key| {
            let pgp = key.kind == KeyKind::Pgp;
            let facts = KeyFacts {
                availability: sources.availability(key),
                user_id: pgp.then(|| sources.pgp_user_id(key.text("fp"))).flatten(),
                wrap_problem: (pgp && key.enc().is_empty())
                    .then(|| sources.pgp_public_key_problem(key.text("fp")))
                    .flatten(),
            };
            (key_id(key), facts)
        })
        .collect()
}
