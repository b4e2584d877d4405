//! go-yaml nodes to sops trees: comment items, typed scalars, expanded aliases.
//!
//! sops compat: this follows sops's `appendYamlNodeToTreeBranch` / `nodeToTreeValue`: each
//! comment line becomes a `Comment` item placed before the entry it was attached to (a line
//! comment after a scalar becomes an inline comment), foot comments follow their entry.

use super::compose::{Kind, MAX_DEPTH, NO_NODE, Stream};
use super::resolve::{Resolved, resolve_plain, resolve_tagged};
use crate::gotext;
use crate::secret::SecretBuf;
use crate::tree::{Comment, Entry, Leaf, List, ListItem, Map, MapItem, Node, Scalar};
use base64::Engine;
use std::collections::HashSet;

/// Converts the nodes of one stream, expanding aliases within a budget.
pub(super) struct Converter<'s, 'a> {
    stream: &'s Stream<'a>,
    /// Nodes that may still be produced; aliases can multiply a small input.
    budget: usize,
    active_aliases: HashSet<usize>,
    /// Nesting of the value being converted (aliases can nest beyond the text's own depth).
    depth: usize,
}

type CResult<T> = Result<T, String>;

impl<'s, 'a> Converter<'s, 'a> {
    pub fn new(stream: &'s Stream<'a>) -> Self {
        Converter {
            stream,
            budget: stream
                .nodes
                .len()
                .saturating_mul(10)
                .saturating_add(1_000_000),
            active_aliases: HashSet::new(),
            depth: 0,
        }
    }

    /// The tree of one document. Errors are sops's messages.
    pub fn document(&mut self, doc: usize) -> CResult<Map> {
        let mut items = Vec::with_capacity(self.top_level(doc));
        self.branch(doc, &mut items, false, None)?;
        Ok(Map { items })
    }

    /// `document`, handing its top-level items to `each` a slice of about `size` at a time as
    /// they are made (the items stay in the map), without its top-level `sops` entries.
    pub fn document_in_slices(
        &mut self,
        doc: usize,
        size: usize,
        each: &mut dyn FnMut(&mut [MapItem]),
    ) -> CResult<Map> {
        let mut items = Vec::with_capacity(self.top_level(doc));
        let mut slices = Slices {
            size,
            handed: 0,
            each,
        };
        self.branch(doc, &mut items, false, Some(&mut slices))?;
        (slices.each)(&mut items[slices.handed..]);
        Ok(Map { items })
    }

    /// How many entries a document's root mapping has (its tree's items, but for comments):
    /// the tree is made at its size rather than grown by doubling.
    pub fn top_level(&self, doc: usize) -> usize {
        let s = self.stream;
        match s.content(doc).first() {
            Some(&root) if s.nodes[root].kind == Kind::Mapping => s.content(root).len() / 2,
            _ => 0,
        }
    }

    fn spend(&mut self) -> CResult<()> {
        self.budget = self
            .budget
            .checked_sub(1)
            .ok_or("yaml: document contains excessive aliasing")?;
        Ok(())
    }

    /// Follows an alias, guarding against cycles.
    fn enter_alias(&mut self, id: usize) -> CResult<usize> {
        let n = &self.stream.nodes[id];
        if n.alias() == NO_NODE || !self.active_aliases.insert(id) {
            let name = self.stream.value(id);
            return Err(format!("yaml: anchor '{name}' value contains itself"));
        }
        Ok(n.alias())
    }

    /// sops `appendYamlNodeToTreeBranch`. `slices` is given for a document's top level.
    fn branch(
        &mut self,
        id: usize,
        out: &mut Vec<MapItem>,
        handled: bool,
        mut slices: Option<&mut Slices>,
    ) -> CResult<()> {
        let n = &self.stream.nodes[id];
        if !handled {
            head_items(self.stream, id, out);
        }
        match n.kind {
            Kind::Document => {
                for &child in self.stream.content(id) {
                    self.branch(child, out, false, slices.as_deref_mut())?;
                }
            }
            Kind::Sequence => {
                return Err(
                    "Error unmarshaling input YAML: YAML documents that are sequences are not \
                     supported"
                        .into(),
                );
            }
            Kind::Mapping => {
                for pair in self.stream.content(id).chunks(2) {
                    let start = out.len();
                    self.pair(pair[0], pair[1], out)?;
                    if let Some(slices) = slices.as_deref_mut() {
                        slices.entry_made(out, start);
                    }
                }
            }
            Kind::Scalar => {
                if self.stream.short_tag(id) != "!!null" {
                    return Err(
                        "Error unmarshaling input YAML: YAML documents that are values are not \
                         supported"
                            .into(),
                    );
                }
            }
            Kind::Alias => {
                let target = self.enter_alias(id)?;
                let r = self.branch(target, out, false, slices);
                self.active_aliases.remove(&id);
                r?;
            }
        }
        if !handled {
            foot_items(self.stream, id, out);
        }
        Ok(())
    }

    /// One pair of a mapping, as its items (comment lines, the entry).
    pub fn pair(&mut self, k: usize, v: usize, out: &mut Vec<MapItem>) -> CResult<()> {
        let nodes = &self.stream.nodes;
        let (kn, vn) = (&nodes[k], &nodes[v]);
        if kn.comments.is_none() && vn.comments.is_none() {
            let key = self.key(k)?;
            let value_comments = matches!(vn.kind, Kind::Scalar | Kind::Alias);
            let value = self.value(v, value_comments)?;
            self.spend()?;
            out.push(MapItem::Entry(Entry { key, value }));
            return Ok(());
        }
        map_comments(kn.head(), false, out);
        map_comments(kn.line_comment(), false, out);
        let value_comments = matches!(vn.kind, Kind::Scalar | Kind::Alias);
        if value_comments {
            map_comments(vn.head(), false, out);
            map_comments(vn.line_comment(), true, out);
        }
        let key = self.key(k)?;
        let value = self.value(v, value_comments)?;
        self.spend()?;
        out.push(MapItem::Entry(Entry { key, value }));
        if value_comments {
            map_comments(vn.foot(), false, out);
        }
        map_comments(kn.foot(), false, out);
        Ok(())
    }

    /// sops `nodeToTreeValue`.
    pub fn value(&mut self, id: usize, handled: bool) -> CResult<Node> {
        self.spend()?;
        if self.depth >= MAX_DEPTH {
            return Err(format!(
                "yaml: nesting deeper than {MAX_DEPTH} levels is not supported"
            ));
        }
        self.depth += 1;
        let r = self.value_inner(id, handled);
        self.depth -= 1;
        r
    }

    fn value_inner(&mut self, id: usize, handled: bool) -> CResult<Node> {
        let n = &self.stream.nodes[id];
        match n.kind {
            Kind::Sequence => {
                let content = self.stream.content(id);
                let mut items = Vec::with_capacity(content.len());
                if !handled {
                    list_comments(n.head(), false, &mut items);
                    list_comments(n.line_comment(), false, &mut items);
                }
                for &item in content {
                    let i = &self.stream.nodes[item];
                    list_comments(i.head(), false, &mut items);
                    list_comments(i.line_comment(), true, &mut items);
                    items.push(ListItem::Node(self.value(item, true)?));
                    list_comments(i.foot(), false, &mut items);
                }
                if !handled {
                    list_comments(n.foot(), false, &mut items);
                }
                Ok(Node::List(List { items }))
            }
            Kind::Mapping => {
                let mut items = Vec::with_capacity(self.stream.content(id).len() / 2);
                self.branch(id, &mut items, handled, None)?;
                Ok(Node::Map(Map { items }))
            }
            Kind::Scalar => Ok(Node::Leaf(Leaf {
                value: self.scalar(id),
                cipher: None,
            })),
            Kind::Alias => {
                let target = self.enter_alias(id)?;
                let r = self.value(target, false);
                self.active_aliases.remove(&id);
                r
            }
            Kind::Document => Ok(Node::Map(Map::new())),
        }
    }

    /// A scalar as go-yaml decodes it into `interface{}`; sops ignores decoding errors, which
    /// leave the value null.
    fn scalar(&self, id: usize) -> Scalar {
        let value = self.stream.value(id);
        let text = || Scalar::Str(SecretBuf::from(value));
        let tag = self.stream.tag(id);
        if tag == "!!str" {
            return text();
        }
        if tag == "!!binary" {
            let cleaned: String = value
                .chars()
                .filter(|c| !matches!(c, '\n' | '\r'))
                .collect();
            return match base64::engine::general_purpose::STANDARD.decode(cleaned) {
                Ok(bytes) => Scalar::Str(SecretBuf::new(bytes)),
                Err(_) => Scalar::Null,
            };
        }
        let resolved = if tag.is_empty() {
            resolve_plain(value)
        } else {
            match resolve_tagged(tag, value) {
                Ok(r) => r,
                Err(_) => return Scalar::Null,
            }
        };
        match resolved {
            Resolved::Null => Scalar::Null,
            Resolved::Bool(b) => Scalar::Bool(b),
            Resolved::Int(i) => Scalar::Int(i),
            Resolved::Uint(u) => Scalar::Uint(u),
            Resolved::Float(f) => Scalar::Float(f),
            Resolved::Time(t) => Scalar::Time(t),
            Resolved::Str => text(),
        }
    }

    /// A mapping key, which sops requires to be a string.
    pub fn key(&self, id: usize) -> CResult<String> {
        let mut n = &self.stream.nodes[id];
        let mut target = id;
        while n.kind == Kind::Alias && n.alias() != NO_NODE {
            target = n.alias();
            n = &self.stream.nodes[target];
        }
        if n.kind != Kind::Scalar {
            let ty = if n.kind == Kind::Mapping {
                "sops.TreeBranch"
            } else {
                "[]interface {}"
            };
            return Err(format!(
                "Tree contains a non-string key (type {ty}): {}. Only string keys are supported",
                if n.kind == Kind::Mapping {
                    "map"
                } else {
                    "list"
                }
            ));
        }
        // Keys are nearly always strings: skip building a secret buffer for them.
        let tag = self.stream.tag(target);
        let value = self.stream.value(target);
        if tag == "!!str" || (tag.is_empty() && resolve_plain(value) == Resolved::Str) {
            return Ok(value.to_string());
        }
        match self.scalar(target) {
            Scalar::Str(s) => Ok(s.to_lossy().into_owned()),
            other => {
                let (ty, text) = go_value(&other);
                Err(format!(
                    "Tree contains a non-string key (type {ty}): {text}. Only string keys are \
                     supported"
                ))
            }
        }
    }
}

/// A document's top-level items handed on in slices as they are made (see
/// `Converter::document_in_slices`).
struct Slices<'e> {
    size: usize,
    /// Items before this one have been handed on.
    handed: usize,
    each: &'e mut dyn FnMut(&mut [MapItem]),
}

impl Slices<'_> {
    /// After the items from `start` on were made for one entry: drops a `sops` entry (the
    /// metadata, read apart; `parse` removes it from every document) and hands on a slice
    /// once there are enough items.
    fn entry_made(&mut self, out: &mut Vec<MapItem>, start: usize) {
        if let Some(at) = out[start..]
            .iter()
            .position(|i| matches!(i, MapItem::Entry(e) if e.key == super::SOPS_KEY))
        {
            out.remove(start + at);
        }
        if out.len() - self.handed >= self.size {
            (self.each)(&mut out[self.handed..]);
            self.handed = out.len();
        }
    }
}

/// A node's head and line comments as comment items (those written before its items).
pub(super) fn head_items(stream: &Stream<'_>, id: usize, out: &mut Vec<MapItem>) {
    let n = &stream.nodes[id];
    map_comments(n.head(), false, out);
    map_comments(n.line_comment(), false, out);
}

/// A node's foot comment as comment items.
pub(super) fn foot_items(stream: &Stream<'_>, id: usize, out: &mut Vec<MapItem>) {
    map_comments(stream.nodes[id].foot(), false, out);
}

/// Go's type name and `%s` rendering of a non-string key.
fn go_value(s: &Scalar) -> (&'static str, String) {
    match s {
        Scalar::Null => ("<nil>", "%!s(<nil>)".into()),
        Scalar::Bool(b) => ("bool", format!("%!s(bool={b})")),
        Scalar::Int(i) => ("int", format!("%!s(int={i})")),
        Scalar::Uint(u) => ("uint64", format!("%!s(uint64={u})")),
        Scalar::Float(f) => {
            let v = if f.is_nan() {
                "NaN".to_string()
            } else if f.is_infinite() {
                if *f > 0.0 { "+Inf" } else { "-Inf" }.to_string()
            } else {
                gotext::float_yaml(*f)
            };
            ("float64", format!("%!s(float64={v})"))
        }
        Scalar::Time(t) => ("time.Time", crate::gotext::go_time_string(t)),
        Scalar::Str(_) => ("string", String::new()),
    }
}

/// One comment item per non-empty line, without the leading `#`.
fn comment_lines(text: &str) -> impl Iterator<Item = &str> {
    text.split('\n')
        .filter(|l| !l.is_empty())
        .map(|l| l.get(1..).unwrap_or(""))
}

#[inline]
fn map_comments(text: &str, inline: bool, out: &mut Vec<MapItem>) {
    if text.is_empty() {
        return;
    }
    for line in comment_lines(text) {
        out.push(MapItem::Comment(Comment {
            text: SecretBuf::from(line),
            inline,
            cipher: None,
        }));
    }
}

#[inline]
fn list_comments(text: &str, inline: bool, out: &mut Vec<ListItem>) {
    if text.is_empty() {
        return;
    }
    for line in comment_lines(text) {
        out.push(ListItem::Comment(Comment {
            text: SecretBuf::from(line),
            inline,
            cipher: None,
        }));
    }
}

/// Removes comments at every level (the metadata tree carries none).
pub(super) fn strip_comments(map: &mut Map) {
    map.items.retain(|i| matches!(i, MapItem::Entry(_)));
    for item in &mut map.items {
        if let MapItem::Entry(e) = item {
            strip_node(&mut e.value);
        }
    }
}

fn strip_node(node: &mut Node) {
    match node {
        Node::Map(m) => strip_comments(m),
        Node::List(l) => {
            l.items.retain(|i| matches!(i, ListItem::Node(_)));
            for item in &mut l.items {
                if let ListItem::Node(n) = item {
                    strip_node(n);
                }
            }
        }
        Node::Leaf(_) => {}
    }
}
