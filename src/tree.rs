//! The ordered tree every store parses into and emits from: maps, lists, scalars and comments.
//!
//! One tree type serves both sides of the cipher: in a file as read, encrypted leaves hold their
//! `ENC[...]` text as strings; in an opened document they hold plaintext and remember the
//! `ENC[...]` text they came from (`Leaf::cipher`), so a save can keep unchanged ciphertext.

use crate::secret::SecretBuf;
use time::OffsetDateTime;

/// An ordered mapping. Items keep file order; comments sit between entries.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Map {
    pub items: Vec<MapItem>,
}

/// One item of a map: a key with its value, or a comment line.
#[derive(Clone, Debug, PartialEq)]
pub enum MapItem {
    Entry(Entry),
    Comment(Comment),
}

/// A key and its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: String,
    pub value: Node,
}

/// An ordered sequence whose items are values or comment lines.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct List {
    pub items: Vec<ListItem>,
}

/// One item of a list.
#[derive(Clone, Debug, PartialEq)]
pub enum ListItem {
    Node(Node),
    Comment(Comment),
}

/// A value in the tree.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Map(Map),
    List(List),
    Leaf(Leaf),
}

impl Node {
    /// See `Map::wipe_secrets`.
    pub fn wipe_secrets(&mut self) {
        match self {
            Node::Map(m) => m.wipe_secrets(),
            Node::List(l) => {
                for item in &mut l.items {
                    match item {
                        ListItem::Node(n) => n.wipe_secrets(),
                        ListItem::Comment(c) => c.text.wipe(),
                    }
                }
            }
            Node::Leaf(leaf) => {
                if let Scalar::Str(s) = &mut leaf.value {
                    s.wipe();
                }
            }
        }
    }
}

/// A scalar value plus, in an opened document, the ciphertext it was read from.
#[derive(Clone, Debug, PartialEq)]
pub struct Leaf {
    pub value: Scalar,
    /// The `ENC[...]` text this value was decrypted from, valid while value and path are
    /// unchanged. `None` for new or edited values, and for values stored in clear.
    pub cipher: Option<Box<str>>,
}

/// A comment line. `text` excludes the comment marker (`# x` has text `" x"`).
#[derive(Clone, Debug, PartialEq)]
pub struct Comment {
    pub text: SecretBuf,
    /// Written after a value on the same line (`key: v # c`) rather than on its own line.
    pub inline: bool,
    /// As `Leaf::cipher`, for encrypted comments.
    pub cipher: Option<Box<str>>,
}

/// A typed scalar, with the types sops distinguishes. `Debug` shows the type only: any value
/// may be a secret (a PIN is an integer).
#[derive(Clone, PartialEq)]
pub enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    /// A YAML integer in [2^63, 2^64): readable, but sops refuses to encrypt it.
    Uint(u64),
    Float(f64),
    Str(SecretBuf),
    Time(OffsetDateTime),
}

impl std::fmt::Debug for Scalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Scalar::Null => "Null",
            Scalar::Bool(_) => "Bool([redacted])",
            Scalar::Int(_) => "Int([redacted])",
            Scalar::Uint(_) => "Uint([redacted])",
            Scalar::Float(_) => "Float([redacted])",
            Scalar::Str(_) => "Str([redacted])",
            Scalar::Time(_) => "Time([redacted])",
        })
    }
}

impl Map {
    pub fn new() -> Self {
        Map::default()
    }

    /// Zeroizes every plaintext in the map (string values and comments), as dropping it
    /// would, without freeing anything: for a process that is about to exit and leaves the
    /// freeing to the OS.
    pub fn wipe_secrets(&mut self) {
        for item in &mut self.items {
            match item {
                MapItem::Entry(e) => e.value.wipe_secrets(),
                MapItem::Comment(c) => c.text.wipe(),
            }
        }
    }

    /// About how many bytes this map takes written out (keys, string values, comments, a
    /// little per item): what an emitter reserves, so a large file's output is not grown by
    /// doubling (each step a copy and fresh pages).
    pub fn size_estimate(&self) -> usize {
        fn node(n: &Node) -> usize {
            match n {
                Node::Map(m) => m.size_estimate(),
                Node::List(l) => l
                    .items
                    .iter()
                    .map(|i| match i {
                        ListItem::Node(n) => node(n) + 16,
                        ListItem::Comment(c) => c.text.len() + 8,
                    })
                    .sum(),
                Node::Leaf(l) => match &l.value {
                    Scalar::Str(s) => s.len() + 4,
                    _ => 16,
                },
            }
        }
        self.items
            .iter()
            .map(|i| match i {
                MapItem::Entry(e) => e.key.len() + node(&e.value) + 16,
                MapItem::Comment(c) => c.text.len() + 8,
            })
            .sum()
    }

    /// The value of the first entry named `key`.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries().find(|e| e.key == key).map(|e| &e.value)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        self.items.iter_mut().find_map(|item| match item {
            MapItem::Entry(e) if e.key == key => Some(&mut e.value),
            _ => None,
        })
    }

    /// The entries, skipping comments.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.items.iter().filter_map(|item| match item {
            MapItem::Entry(e) => Some(e),
            MapItem::Comment(_) => None,
        })
    }

    pub fn push(&mut self, key: impl Into<String>, value: Node) {
        self.items.push(MapItem::Entry(Entry {
            key: key.into(),
            value,
        }));
    }

    /// Removes every entry named `key`, returning the first removed value.
    pub fn remove(&mut self, key: &str) -> Option<Node> {
        let pos = self
            .items
            .iter()
            .position(|item| matches!(item, MapItem::Entry(e) if e.key == key))?;
        match self.items.remove(pos) {
            MapItem::Entry(e) => Some(e.value),
            MapItem::Comment(_) => unreachable!("position matched an entry"),
        }
    }
}

impl List {
    pub fn new() -> Self {
        List::default()
    }

    /// The values, skipping comments.
    pub fn values(&self) -> impl Iterator<Item = &Node> {
        self.items.iter().filter_map(|item| match item {
            ListItem::Node(n) => Some(n),
            ListItem::Comment(_) => None,
        })
    }
}

impl Node {
    /// A leaf with no remembered ciphertext.
    pub fn scalar(value: Scalar) -> Node {
        Node::Leaf(Leaf {
            value,
            cipher: None,
        })
    }

    /// A string leaf.
    pub fn string(s: impl Into<SecretBuf>) -> Node {
        Node::scalar(Scalar::Str(s.into()))
    }

    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Node::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&List> {
        match self {
            Node::List(l) => Some(l),
            _ => None,
        }
    }

    pub fn as_scalar(&self) -> Option<&Scalar> {
        match self {
            Node::Leaf(l) => Some(&l.value),
            _ => None,
        }
    }

    /// The text of a UTF-8 string leaf.
    pub fn as_str(&self) -> Option<&str> {
        match self.as_scalar()? {
            Scalar::Str(s) => s.as_str(),
            _ => None,
        }
    }
}

impl Comment {
    pub fn new(text: impl Into<SecretBuf>) -> Self {
        Comment {
            text: text.into(),
            inline: false,
            cipher: None,
        }
    }
}

impl Scalar {
    /// The name sops uses for the type in `ENC[...,type:<name>]`, for error messages too.
    pub fn type_name(&self) -> &'static str {
        match self {
            Scalar::Null => "null",
            Scalar::Bool(_) => "bool",
            Scalar::Int(_) => "int",
            Scalar::Uint(_) => "uint64",
            Scalar::Float(_) => "float",
            Scalar::Str(_) => "str",
            Scalar::Time(_) => "time",
        }
    }

    pub fn str(s: impl Into<SecretBuf>) -> Scalar {
        Scalar::Str(s.into())
    }
}
