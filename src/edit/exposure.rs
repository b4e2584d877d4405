//! Values a save would store in plain text although they were encrypted: a key renamed onto
//! the plain suffix, a value moved out of the rule's reach, a copy of a secret into a plain
//! field. Found by comparing what will be written with a baseline taken before the first edit:
//! keyed hashes of the values stored encrypted, and of the plain entries (path and value).
//! The hashes stay in memory under a per-process random key, so they reveal nothing.

use crate::tree::{ListItem, Map, MapItem, Node, Scalar};
use std::collections::HashSet;
use std::hash::{BuildHasher, Hash, Hasher, RandomState};

/// What the documents held before their edits.
#[derive(Clone, Debug)]
pub struct Baseline {
    key: RandomState,
    /// Values stored encrypted.
    encrypted: HashSet<u64>,
    /// Plain entries, by path and value.
    plain: HashSet<u64>,
}

/// A scalar as hashed: its type and its value.
struct ValueKey<'a>(&'a Scalar);

impl Hash for ValueKey<'_> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        std::mem::discriminant(self.0).hash(h);
        match self.0 {
            Scalar::Null => {}
            Scalar::Bool(b) => b.hash(h),
            Scalar::Int(i) => i.hash(h),
            Scalar::Uint(u) => u.hash(h),
            Scalar::Float(f) => f.to_bits().hash(h),
            Scalar::Str(s) => s.expose().hash(h),
            Scalar::Time(t) => t.unix_timestamp_nanos().hash(h),
        }
    }
}

/// One step of a key path: a map key or a list index.
#[derive(Hash)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// A path as `["a"][0]`, made only for a value that is reported.
fn path_text(steps: &[Step]) -> String {
    steps
        .iter()
        .map(|s| match s {
            Step::Key(k) => format!("[{k:?}]"),
            Step::Index(i) => format!("[{i}]"),
        })
        .collect()
}

impl Baseline {
    /// The baseline of decrypted documents whose encrypted leaves still carry their ciphertext
    /// (as opened, or just sealed).
    pub fn of(docs: &[Map]) -> Baseline {
        let mut b = Baseline {
            key: RandomState::new(),
            encrypted: HashSet::new(),
            plain: HashSet::new(),
        };
        let key = b.key.clone();
        for (i, doc) in docs.iter().enumerate() {
            walk_map(
                &key,
                doc,
                key.hash_one(i),
                &mut Vec::new(),
                &mut |path, _, leaf| {
                    match &leaf.cipher {
                        Some(_) => b.encrypted.insert(key.hash_one(ValueKey(&leaf.value))),
                        None => b.plain.insert(key.hash_one((path, ValueKey(&leaf.value)))),
                    };
                },
            );
        }
        b
    }

    /// The paths (as `["a"]["b"]`) of values that `sealed` (the documents as they will be
    /// written, encrypted values as `ENC[...]` text) stores in plain text, that were not there
    /// in plain text before, and whose value was stored encrypted before.
    pub fn exposed(&self, sealed: &[Map]) -> Vec<String> {
        let mut out = Vec::new();
        for (i, doc) in sealed.iter().enumerate() {
            let prefix = if sealed.len() > 1 {
                format!("document {} ", i + 1)
            } else {
                String::new()
            };
            let key = &self.key;
            walk_map(
                key,
                doc,
                key.hash_one(i),
                &mut Vec::new(),
                &mut |path, names, leaf| {
                    let stored_encrypted = matches!(&leaf.value, Scalar::Str(s)
                    if s.expose().starts_with(b"ENC[AES256_GCM,"));
                    if !stored_encrypted
                        && !self
                            .plain
                            .contains(&key.hash_one((path, ValueKey(&leaf.value))))
                        && self
                            .encrypted
                            .contains(&key.hash_one(ValueKey(&leaf.value)))
                    {
                        out.push(format!("{prefix}{}", path_text(names)));
                    }
                },
            );
        }
        out
    }
}

/// Calls `f(path hash, path steps, leaf)` for every non-null leaf of `map`.
fn walk_map<'a>(
    key: &RandomState,
    map: &'a Map,
    path: u64,
    names: &mut Vec<Step<'a>>,
    f: &mut impl FnMut(u64, &[Step<'a>], &crate::tree::Leaf),
) {
    for item in &map.items {
        if let MapItem::Entry(e) = item {
            names.push(Step::Key(&e.key));
            walk_node(
                key,
                &e.value,
                key.hash_one((path, Step::Key(&e.key))),
                names,
                f,
            );
            names.pop();
        }
    }
}

fn walk_node<'a>(
    key: &RandomState,
    node: &'a Node,
    path: u64,
    names: &mut Vec<Step<'a>>,
    f: &mut impl FnMut(u64, &[Step<'a>], &crate::tree::Leaf),
) {
    match node {
        Node::Leaf(l) if l.value != Scalar::Null => f(path, names, l),
        Node::Leaf(_) => {}
        Node::Map(m) => walk_map(key, m, path, names, f),
        Node::List(l) => {
            for (i, item) in l.items.iter().enumerate() {
                if let ListItem::Node(n) = item {
                    names.push(Step::Index(i));
                    walk_node(key, n, key.hash_one((path, Step::Index(i))), names, f);
                    names.pop();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::Leaf;

    fn leaf(value: &str, encrypted: bool) -> Node {
        Node::Leaf(Leaf {
            value: Scalar::Str(crate::secret::SecretBuf::from(value.as_bytes().to_vec())),
            cipher: encrypted.then(|| "ENC[AES256_GCM,data:x]".into()),
        })
    }

    fn doc(entries: &[(&str, Node)]) -> Map {
        let mut m = Map::new();
        for (k, v) in entries {
            m.push(*k, v.clone());
        }
        m
    }

    #[test]
    fn a_secret_moved_to_a_plain_place_is_exposed_and_nothing_else() {
        let before = doc(&[
            ("password", leaf("hunter2", true)),
            ("port_unencrypted", leaf("5432", false)),
            ("pin", leaf("5432", true)),
        ]);
        let base = Baseline::of(&[before]);
        let enc = leaf("ENC[AES256_GCM,data:y]", false);
        let after = doc(&[
            ("password_unencrypted", leaf("hunter2", false)),
            // Unchanged plain entry whose value equals an encrypted one: not a leak.
            ("port_unencrypted", leaf("5432", false)),
            ("pin", enc.clone()),
            ("note_unencrypted", leaf("new plain text", false)),
        ]);
        assert_eq!(
            base.exposed(&[after]),
            vec!["[\"password_unencrypted\"]".to_string()]
        );
        let untouched = doc(&[("password", enc), ("port_unencrypted", leaf("5432", false))]);
        assert!(base.exposed(&[untouched]).is_empty());
    }
}
