//! The flattened index of visible rows: one small record per shown item, rebuilt only when the
//! structure or the expansion changes (never per keystroke), so drawing touches only the rows
//! on screen whatever the file's size.

use crate::edit::ops::Addr;
use crate::rules::Selector;
use crate::tree::{ListItem, Map, MapItem, Node, Scalar};
use std::collections::HashSet;

/// How leaves are told encrypted or plain.
pub enum Classifier {
    /// By the file's rule, as a save would encrypt them.
    Rule(Selector),
    /// By the stored text (review mode): `ENC[...]` is encrypted.
    Ciphertext,
}

/// What a row shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowKind {
    /// A document of a multi-document file.
    Doc,
    Map,
    List,
    Leaf,
    Comment,
}

/// One visible row.
#[derive(Clone, Copy, Debug)]
pub struct Row {
    pub kind: RowKind,
    pub depth: u16,
    pub doc: u32,
    /// Index of the parent row (`u32::MAX` for top-level items and document rows).
    pub parent: u32,
    /// Position of the item in its container (comments counted).
    pub item: u32,
    /// A leaf or comment the rule encrypts.
    pub encrypted: bool,
    /// A container with its children hidden.
    pub collapsed: bool,
}

/// The visible rows in order.
#[derive(Debug, Default)]
pub struct Rows {
    rows: Vec<Row>,
}

const NONE: u32 = u32::MAX;

struct Builder<'a> {
    rows: Vec<Row>,
    collapsed: &'a HashSet<Addr>,
    classifier: &'a Classifier,
    /// The address of the item being visited (reused, no allocation per row).
    addr: Addr,
    /// Comment groups for the comment rules, one per open container.
    comments: Vec<Vec<Vec<u8>>>,
}

impl Rows {
    /// Builds the rows of every document, skipping the inside of collapsed containers.
    pub fn build(docs: &[Map], collapsed: &HashSet<Addr>, classifier: &Classifier) -> Rows {
        let mut b = Builder {
            rows: Vec::new(),
            collapsed,
            classifier,
            addr: Addr::default(),
            comments: Vec::new(),
        };
        let multi = docs.len() > 1;
        for (i, doc) in docs.iter().enumerate() {
            b.addr = Addr::new(i, Vec::new());
            let (parent, depth) = if multi {
                let hidden = collapsed.contains(&b.addr);
                b.rows.push(Row {
                    kind: RowKind::Doc,
                    depth: 0,
                    doc: i as u32,
                    parent: NONE,
                    item: i as u32,
                    encrypted: false,
                    collapsed: hidden,
                });
                if hidden {
                    continue;
                }
                ((b.rows.len() - 1) as u32, 1)
            } else {
                (NONE, 0)
            };
            b.map(doc, parent, depth, false);
        }
        Rows { rows: b.rows }
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<&Row> {
        self.rows.get(i)
    }

    /// The address of row `i` (`None` for a document row).
    pub fn addr(&self, i: usize) -> Option<Addr> {
        let row = self.rows.get(i)?;
        if row.kind == RowKind::Doc {
            return None;
        }
        let mut items = Vec::with_capacity(row.depth as usize + 1);
        let mut r = row;
        loop {
            if r.kind == RowKind::Doc {
                break;
            }
            items.push(r.item as usize);
            if r.parent == NONE {
                break;
            }
            r = &self.rows[r.parent as usize];
        }
        items.reverse();
        Some(Addr::new(row.doc as usize, items))
    }

    /// The row showing `addr`, if visible. Rows are in address order (depth first), so this
    /// is a binary search.
    pub fn find(&self, addr: &Addr) -> Option<usize> {
        let key = |i: usize| {
            self.addr(i)
                .unwrap_or_else(|| Addr::new(self.rows[i].doc as usize, Vec::new()))
        };
        let (mut lo, mut hi) = (0, self.rows.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match key(mid).cmp(addr) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// Only the rows on the way to one of `hits` (sorted addresses): each hit, its ancestors and
    /// their document rows, so a search can show just its matching branches.
    pub fn only_towards(&self, hits: &[Addr]) -> Rows {
        let leads = |a: &Addr| {
            let at = hits.partition_point(|h| h < a);
            hits.get(at).is_some_and(|h| h.starts_with(a))
        };
        let mut index = vec![NONE; self.rows.len()];
        let mut rows = Vec::new();
        for (i, row) in self.rows.iter().enumerate() {
            let keep = match self.addr(i) {
                Some(a) => leads(&a),
                None => hits.iter().any(|h| h.doc == row.doc as usize),
            };
            if keep {
                index[i] = rows.len() as u32;
                let mut r = *row;
                if r.parent != NONE {
                    r.parent = index[r.parent as usize];
                }
                rows.push(r);
            }
        }
        Rows { rows }
    }

    /// The row of the parent container of row `i`.
    pub fn parent(&self, i: usize) -> Option<usize> {
        let p = self.rows.get(i)?.parent;
        (p != NONE).then_some(p as usize)
    }
}

impl Builder<'_> {
    fn encrypted(&self, leaf: &Scalar, matched: bool, is_comment: bool) -> bool {
        match self.classifier {
            Classifier::Rule(sel) => {
                !matches!(leaf, Scalar::Null)
                    && sel.should_encrypt(matched, &self.comments, is_comment)
            }
            Classifier::Ciphertext => {
                matches!(leaf, Scalar::Str(s) if s.expose().starts_with(b"ENC[AES256_GCM,"))
            }
        }
    }

    fn uses_comments(&self) -> bool {
        matches!(self.classifier, Classifier::Rule(s) if s.uses_comments())
    }

    fn key_matches(&self, key: &str) -> bool {
        matches!(self.classifier, Classifier::Rule(s) if s.key_matches(key))
    }

    fn note_comment(&mut self, text: &[u8]) {
        if let Some(g) = self.comments.last_mut() {
            g.push(text.to_vec());
        }
    }

    fn push(
        &mut self,
        kind: RowKind,
        parent: u32,
        depth: u16,
        item: usize,
        encrypted: bool,
    ) -> u32 {
        let collapsed =
            matches!(kind, RowKind::Map | RowKind::List) && self.collapsed.contains(&self.addr);
        self.rows.push(Row {
            kind,
            depth,
            doc: self.addr.doc as u32,
            parent,
            item: item as u32,
            encrypted,
            collapsed,
        });
        (self.rows.len() - 1) as u32
    }

    fn comment(
        &mut self,
        text: &crate::secret::SecretBuf,
        parent: u32,
        depth: u16,
        pos: usize,
        matched: bool,
    ) {
        self.note_comment(text.expose());
        let enc = match self.classifier {
            Classifier::Ciphertext => text.expose().starts_with(b"ENC[AES256_GCM,"),
            Classifier::Rule(_) => {
                !text.is_empty() && self.encrypted(&Scalar::Bool(true), matched, true)
            }
        };
        self.addr.items.push(pos);
        self.push(RowKind::Comment, parent, depth, pos, enc);
        self.addr.items.pop();
    }

    fn map(&mut self, map: &Map, parent: u32, depth: u16, matched: bool) {
        let groups = self.uses_comments();
        if groups {
            self.comments.push(Vec::new());
        }
        for (pos, item) in map.items.iter().enumerate() {
            match item {
                MapItem::Comment(c) => self.comment(&c.text, parent, depth, pos, matched),
                MapItem::Entry(e) => {
                    let m = matched || self.key_matches(&e.key);
                    self.addr.items.push(pos);
                    self.node(&e.value, parent, depth, pos, m);
                    self.addr.items.pop();
                    if let Some(g) = self.comments.last_mut() {
                        g.clear();
                    }
                }
            }
        }
        if groups {
            self.comments.pop();
        }
    }

    fn node(&mut self, node: &Node, parent: u32, depth: u16, pos: usize, matched: bool) {
        match node {
            Node::Leaf(l) => {
                let enc = self.encrypted(&l.value, matched, false);
                self.push(RowKind::Leaf, parent, depth, pos, enc);
            }
            Node::Map(m) => {
                let me = self.push(RowKind::Map, parent, depth, pos, false);
                if !self.rows[me as usize].collapsed {
                    self.map(m, me, depth + 1, matched);
                }
            }
            Node::List(l) => {
                let me = self.push(RowKind::List, parent, depth, pos, false);
                if self.rows[me as usize].collapsed {
                    return;
                }
                let groups = self.uses_comments();
                if groups {
                    self.comments.push(Vec::new());
                }
                for (i, item) in l.items.iter().enumerate() {
                    match item {
                        ListItem::Comment(c) => self.comment(&c.text, me, depth + 1, i, matched),
                        ListItem::Node(n) => {
                            self.addr.items.push(i);
                            self.node(n, me, depth + 1, i, matched);
                            self.addr.items.pop();
                            if let Some(g) = self.comments.last_mut() {
                                g.clear();
                            }
                        }
                    }
                }
                if groups {
                    self.comments.pop();
                }
            }
        }
    }
}
