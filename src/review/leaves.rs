//! A sops file as a flat list of leaves, each with how it is stored (encrypted or plain), its
//! type, its length and a fingerprint of what is stored, read from the file alone (no key);
//! with the opened document beside it, each leaf also gets a keyed hash of its plaintext so
//! two revisions' values can be compared without ever printing one.

use crate::crypto::cipher::parse_enc;
use crate::edit::value::text_of;
use crate::path::{Step, TreePath};
use crate::secret::SecretBuf;
use crate::tree::{ListItem, Map, MapItem, Node, Scalar};
use sha2::{Digest, Sha256};
use std::hash::{BuildHasher, RandomState};

/// How a leaf is stored in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stored {
    /// An `ENC[...]` value: its text (the identity that proves a value unchanged), its type tag.
    Encrypted { enc: Box<str>, kind: String },
    /// A value in clear: its type.
    Plain { kind: &'static str },
}

/// One value or comment of a file.
#[derive(Clone, Debug)]
pub struct Leaf {
    pub doc: usize,
    /// The path of the value (of the container, for a comment).
    pub path: TreePath,
    /// For a comment: its position among its container's comments.
    pub comment: Option<usize>,
    pub stored: Stored,
    /// Length of the value in bytes (of the plaintext, also for encrypted values).
    pub len: usize,
    /// A short public fingerprint of what is stored (ciphertext, or the plain value): changes
    /// whenever the stored form changes.
    pub fingerprint: String,
    /// A hash of the plaintext under a key of this run only, when known (plain leaves, or
    /// encrypted ones of an opened document): equal values, equal hashes. Never printed.
    pub value: Option<u64>,
    /// The plaintext itself, only when asked for (`--show-values`).
    pub plain: Option<SecretBuf>,
}

impl Leaf {
    pub fn is_encrypted(&self) -> bool {
        matches!(self.stored, Stored::Encrypted { .. })
    }

    pub fn type_name(&self) -> &str {
        match &self.stored {
            Stored::Encrypted { kind, .. } => kind,
            Stored::Plain { kind } => kind,
        }
    }

    /// Where the leaf is, for people: `db.password`, `hosts[0]`, `["a b"]`, `# db (comment 1)`.
    pub fn place(&self, docs: usize) -> String {
        let mut text = dotted(&self.path);
        if let Some(n) = self.comment {
            text = if text.is_empty() {
                format!("# comment {}", n + 1)
            } else {
                format!("{text} # comment {}", n + 1)
            };
        }
        if docs > 1 {
            format!("document {}: {text}", self.doc + 1)
        } else {
            text
        }
    }

    /// The identity of the place: document, path and comment position.
    pub fn key(&self) -> (usize, &TreePath, Option<usize>) {
        (self.doc, &self.path, self.comment)
    }
}

/// A path written as people read it: `db.password`, `hosts[0].name`, with `["…"]` for keys
/// that are not plain words.
pub fn dotted(path: &TreePath) -> String {
    let mut out = String::new();
    for step in &path.0 {
        match step {
            Step::Key(k)
                if !k.is_empty()
                    && k.chars()
                        .all(|c| c.is_alphanumeric() || c == '_' || c == '-') =>
            {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Step::Key(k) => out.push_str(&format!("[{k:?}]")),
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// The key under which plaintext hashes of one run are made (never stored or printed).
#[derive(Clone, Default)]
pub struct ValueHasher(RandomState);

impl ValueHasher {
    fn hash(&self, kind: &str, text: &[u8]) -> u64 {
        self.0.hash_one((kind, text))
    }
}

/// The leaves of documents as read from a file (`ENC[...]` text for encrypted values), with
/// plaintext hashes taken from `opened` (the same documents decrypted) when given, and the
/// plaintext itself when `keep_plain`.
pub fn leaves(
    raw: &[Map],
    opened: Option<&[Map]>,
    hasher: &ValueHasher,
    keep_plain: bool,
) -> Vec<Leaf> {
    let mut out = Vec::new();
    for (doc, map) in raw.iter().enumerate() {
        let plain = opened.and_then(|o| o.get(doc));
        let mut w = Walker {
            doc,
            hasher,
            keep_plain,
            out: &mut out,
            path: TreePath::default(),
        };
        w.map(map, plain);
    }
    out
}

struct Walker<'a> {
    doc: usize,
    hasher: &'a ValueHasher,
    keep_plain: bool,
    out: &'a mut Vec<Leaf>,
    path: TreePath,
}

impl Walker<'_> {
    fn map(&mut self, raw: &Map, plain: Option<&Map>) {
        let same_shape = plain.filter(|p| p.items.len() == raw.items.len());
        let mut comments = 0;
        for (i, item) in raw.items.iter().enumerate() {
            let twin = same_shape.map(|p| &p.items[i]);
            match item {
                MapItem::Entry(e) => {
                    let twin = match twin {
                        Some(MapItem::Entry(t)) if t.key == e.key => Some(&t.value),
                        _ => None,
                    };
                    self.path.0.push(Step::Key(e.key.clone()));
                    self.node(&e.value, twin);
                    self.path.0.pop();
                }
                MapItem::Comment(c) => {
                    let twin = match twin {
                        Some(MapItem::Comment(t)) => Some(t.text.expose()),
                        _ => None,
                    };
                    self.comment(c.text.expose(), twin, comments);
                    comments += 1;
                }
            }
        }
    }

    fn node(&mut self, raw: &Node, plain: Option<&Node>) {
        match raw {
            Node::Map(m) => self.map(m, plain.and_then(Node::as_map)),
            Node::List(l) => {
                let twin = plain
                    .and_then(Node::as_list)
                    .filter(|p| p.items.len() == l.items.len());
                let (mut index, mut comments) = (0, 0);
                for (i, item) in l.items.iter().enumerate() {
                    let t = twin.map(|p| &p.items[i]);
                    match item {
                        ListItem::Node(n) => {
                            let t = match t {
                                Some(ListItem::Node(t)) => Some(t),
                                _ => None,
                            };
                            self.path.0.push(Step::Index(index));
                            self.node(n, t);
                            self.path.0.pop();
                            index += 1;
                        }
                        ListItem::Comment(c) => {
                            let t = match t {
                                Some(ListItem::Comment(t)) => Some(t.text.expose()),
                                _ => None,
                            };
                            self.comment(c.text.expose(), t, comments);
                            comments += 1;
                        }
                    }
                }
            }
            Node::Leaf(leaf) => {
                let plain = match plain {
                    Some(Node::Leaf(p)) => Some(&p.value),
                    _ => None,
                };
                self.leaf(&leaf.value, plain);
            }
        }
    }

    fn leaf(&mut self, raw: &Scalar, plain: Option<&Scalar>) {
        let leaf = match raw.as_str_if_enc() {
            Some((enc, kind, len)) => Leaf {
                doc: self.doc,
                path: self.path.clone(),
                comment: None,
                stored: Stored::Encrypted {
                    enc: enc.into(),
                    kind,
                },
                len,
                fingerprint: short_hash(&[enc.as_bytes()]),
                value: plain.map(|p| self.scalar_hash(p)),
                plain: plain.filter(|_| self.keep_plain).map(text_of),
            },
            None => {
                let text = text_of(raw);
                Leaf {
                    doc: self.doc,
                    path: self.path.clone(),
                    comment: None,
                    stored: Stored::Plain {
                        kind: raw.type_name(),
                    },
                    len: text.expose().len(),
                    fingerprint: short_hash(&[raw.type_name().as_bytes(), text.expose()]),
                    value: Some(self.scalar_hash(raw)),
                    plain: self.keep_plain.then_some(text),
                }
            }
        };
        self.out.push(leaf);
    }

    fn comment(&mut self, raw: &[u8], plain: Option<&[u8]>, n: usize) {
        let enc = std::str::from_utf8(raw)
            .ok()
            .and_then(|t| parse_enc(t.trim()).ok().map(|e| (t.trim(), e)));
        let leaf = match enc {
            Some((text, e)) => Leaf {
                doc: self.doc,
                path: self.path.clone(),
                comment: Some(n),
                stored: Stored::Encrypted {
                    enc: text.into(),
                    kind: e.kind.to_string(),
                },
                len: base64_len(e.data),
                fingerprint: short_hash(&[text.as_bytes()]),
                value: plain.map(|p| self.hasher.hash("comment", p)),
                plain: plain
                    .filter(|_| self.keep_plain)
                    .map(|p| SecretBuf::new(p.to_vec())),
            },
            None => Leaf {
                doc: self.doc,
                path: self.path.clone(),
                comment: Some(n),
                stored: Stored::Plain { kind: "comment" },
                len: raw.len(),
                fingerprint: short_hash(&[b"comment", raw]),
                value: Some(self.hasher.hash("comment", raw)),
                plain: self.keep_plain.then(|| SecretBuf::new(raw.to_vec())),
            },
        };
        self.out.push(leaf);
    }

    fn scalar_hash(&self, value: &Scalar) -> u64 {
        self.hasher.hash(value.type_name(), text_of(value).expose())
    }
}

trait EncText {
    /// The `ENC[...]` text, type tag and plaintext length of an encrypted value.
    fn as_str_if_enc(&self) -> Option<(&str, String, usize)>;
}

impl EncText for Scalar {
    fn as_str_if_enc(&self) -> Option<(&str, String, usize)> {
        let Scalar::Str(s) = self else { return None };
        let text = s.as_str()?;
        let e = parse_enc(text).ok()?;
        Some((text, e.kind.to_string(), base64_len(e.data)))
    }
}

/// The decoded length of standard base64 text (the plaintext length of an AES-GCM value).
fn base64_len(data: &str) -> usize {
    let pad = data.bytes().rev().take_while(|b| *b == b'=').count();
    (data.len() / 4 * 3).saturating_sub(pad)
}

/// Eight hex digits of SHA-256 over `parts`.
pub fn short_hash(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    hex::encode(&h.finalize()[..4])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Format, parse_plain};

    #[test]
    fn paths_read_as_people_write_them() {
        let p = TreePath::parse(r#"["db"]["hosts"][0]["a b"]"#).unwrap();
        assert_eq!(dotted(&p), r#"db.hosts[0]["a b"]"#);
    }

    #[test]
    fn an_encrypted_value_shows_its_type_and_length_but_no_plaintext() {
        let enc = "ENC[AES256_GCM,data:aGVsbG8=,iv:AAAA,tag:BBBB,type:str]";
        let docs = parse_plain(Format::Yaml, format!("a: {enc}\nb: 5\n").as_bytes())
            .unwrap()
            .docs;
        let l = leaves(&docs, None, &ValueHasher::default(), false);
        assert_eq!(l.len(), 2);
        assert!(l[0].is_encrypted());
        assert_eq!((l[0].type_name(), l[0].len, l[0].value), ("str", 5, None));
        assert_eq!((l[1].type_name(), l[1].len), ("int", 1));
        assert!(l[1].value.is_some());
        assert_ne!(l[0].fingerprint, l[1].fingerprint);
    }
}
