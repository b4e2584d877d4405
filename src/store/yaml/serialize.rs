//! sops trees to emitter events, with sops's comment placement and go-yaml's scalar styles.
//!
//! sops compat: comment items become yaml.Node comment slots as in sops's `appendTreeBranch` /
//! `appendSequence` (comments before the first entry head the collection, later ones head the
//! next key, inline ones become the next value's line comment, leftovers are the last entry's
//! foot), and scalars get the style go-yaml gives a Go value encoded and parsed back.

use super::compose::MAX_DEPTH;
use super::emitter::{Emitter, Ev, EvKind};
use super::scalar_event::{lost_node_error, scalar_event, string_event};
use crate::secret::PlainBuffer;
use crate::store::{Emitted, StoreError};
use crate::tree::{Comment, List, ListItem, Map, MapItem, Node};

/// The key metadata is written under.
const SOPS_KEY: &str = "sops";

/// sops's indentation setting: 0 means 4, negative is an error.
fn indentation(indent: i64) -> Result<isize, StoreError> {
    match indent {
        i if i < 0 => Err(StoreError::Emit(
            "YAML Negative indentation not accepted".into(),
        )),
        0 => Ok(4),
        i => Ok(isize::try_from(i).unwrap_or(isize::MAX)),
    }
}

pub(super) fn emit_documents(
    docs: &[Map],
    metadata: Option<&Map>,
    indent: i64,
) -> Result<Emitted, StoreError> {
    let mut s = Serializer {
        em: Emitter::new(
            indentation(indent)?,
            4096 + docs.iter().map(Map::size_estimate).sum::<usize>(),
        ),
        depth: 0,
    };
    s.em.emit(Ev::new(EvKind::StreamStart))?;
    for doc in docs {
        s.em.emit(Ev::new(EvKind::DocumentStart))?;
        s.map(doc, metadata, Outer::default(), String::new())?;
        s.em.emit(Ev::new(EvKind::DocumentEnd))?;
    }
    s.em.emit(Ev::new(EvKind::StreamEnd))?;
    let spans = std::mem::take(&mut s.em.spans);
    Ok(Emitted {
        bytes: std::mem::take(&mut s.em.out).into_vec(),
        metadata_spans: spans,
    })
}

pub(super) fn emit_single(node: &Node, indent: i64) -> Result<Vec<u8>, StoreError> {
    let mut s = Serializer {
        em: Emitter::new(indentation(indent)?, 256),
        depth: 0,
    };
    s.em.emit(Ev::new(EvKind::StreamStart))?;
    s.em.emit(Ev::new(EvKind::DocumentStart))?;
    s.node(node, Outer::default())?;
    s.em.emit(Ev::new(EvKind::DocumentEnd))?;
    s.em.emit(Ev::new(EvKind::StreamEnd))?;
    Ok(std::mem::take(&mut s.em.out).into_vec())
}

/// One document written as `emit_documents` writes it without metadata, its top-level items
/// coming a slice at a time: decrypt writes the plaintext as the file is read, so the
/// plaintext tree is never whole. The text is a `PlainBuffer`, wiped when dropped.
pub struct PlainWriter {
    em: Emitter<'static>,
    walk: MapWalk,
}

impl PlainWriter {
    pub fn new(indent: i64, capacity: usize) -> Result<Self, StoreError> {
        let mut em = Emitter::new(indentation(indent)?, capacity);
        em.emit(Ev::new(EvKind::StreamStart))?;
        em.emit(Ev::new(EvKind::DocumentStart))?;
        Ok(PlainWriter {
            em,
            walk: MapWalk::new(Outer::default(), String::new()),
        })
    }

    /// The next top-level items; the events they leave queued are made to own their text.
    pub fn items(&mut self, items: &[MapItem]) -> Result<(), StoreError> {
        let em = std::mem::replace(&mut self.em, Emitter::new(0, 0));
        let mut s = Serializer { em, depth: 0 };
        let written = items.iter().try_for_each(|i| self.walk.item(&mut s, i));
        self.em = s.em.into_static();
        written
    }

    pub fn finish(mut self) -> Result<PlainBuffer, StoreError> {
        let walk = std::mem::replace(
            &mut self.walk,
            MapWalk::new(Outer::default(), String::new()),
        );
        let mut s = Serializer {
            em: std::mem::replace(&mut self.em, Emitter::new(0, 0)),
            depth: 0,
        };
        let ended = walk.end(&mut s).and_then(|()| {
            s.em.emit(Ev::new(EvKind::DocumentEnd))?;
            s.em.emit(Ev::new(EvKind::StreamEnd))
        });
        self.em = s.em.into_static();
        ended?;
        Ok(std::mem::take(&mut self.em.out))
    }
}

/// Comments a collection receives from its parent (yaml.Node head/line/foot).
#[derive(Default)]
struct Outer {
    head: String,
    line: String,
    foot: String,
}

struct Serializer<'t> {
    em: Emitter<'t>,
    /// Current nesting, bounded so that deep trees fail instead of overflowing the stack.
    depth: usize,
}

/// `#a\n#b` for comments `a`, `b`.
fn join(comments: &[&Comment]) -> String {
    let mut s = String::new();
    for c in comments {
        push_comment(&mut s, c);
    }
    s
}

/// go-yaml's `addCommentsHead`: new comments go before an existing head.
fn prepend(head: String, existing: String) -> String {
    match (head.is_empty(), existing.is_empty()) {
        (true, _) => existing,
        (_, true) => head,
        _ => format!("{head}\n{existing}"),
    }
}

/// Appends one comment to a comment block (`#a\n#b`).
fn push_comment(block: &mut String, c: &Comment) {
    if !block.is_empty() {
        block.push('\n');
    }
    block.push('#');
    block.push_str(&c.text.to_lossy());
}

/// The comments an entry of a mapping gets from the items before it.
struct EntryComments {
    head: String,
    line: String,
}

/// A mapping's items turned into events one at a time (sops's `appendTreeBranch`): full-line
/// comments before the first key head the mapping itself, later ones head the next key,
/// inline ones become the next value's line comment, and what is left after the last entry
/// is the mapping's foot. It borrows nothing, so the top level of a document can be written
/// a slice of items at a time (`PlainWriter`).
struct MapWalk {
    outer: Outer,
    tail: String,
    heads: String,
    inlines: String,
    started: bool,
}

impl MapWalk {
    fn new(outer: Outer, tail: String) -> Self {
        MapWalk {
            outer,
            tail,
            heads: String::new(),
            inlines: String::new(),
            started: false,
        }
    }

    fn item<'t>(&mut self, s: &mut Serializer<'t>, item: &'t MapItem) -> Result<(), StoreError> {
        match item {
            MapItem::Comment(c) if c.inline => push_comment(&mut self.inlines, c),
            MapItem::Comment(c) => push_comment(&mut self.heads, c),
            MapItem::Entry(e) => {
                let comments = self.next_entry(s)?;
                s.key(&e.key, comments.head, false)?;
                s.value(&e.value, comments.line)?;
            }
        }
        Ok(())
    }

    /// Starts the mapping before its first entry, and gives the comments of the next entry.
    fn next_entry(&mut self, s: &mut Serializer<'_>) -> Result<EntryComments, StoreError> {
        let head = if self.started {
            std::mem::take(&mut self.heads)
        } else {
            self.started = true;
            let mut start = Ev::new(EvKind::MappingStart);
            start.set_comments(
                prepend(
                    std::mem::take(&mut self.outer.head),
                    std::mem::take(&mut self.heads),
                ),
                String::new(),
                String::new(),
                std::mem::take(&mut self.tail),
            );
            s.em.emit(start)?;
            String::new()
        };
        Ok(EntryComments {
            head,
            line: std::mem::take(&mut self.inlines),
        })
    }

    fn end(self, s: &mut Serializer<'_>) -> Result<(), StoreError> {
        // Full-line comments first, then inline ones.
        let rest = prepend(self.heads, self.inlines);
        let mut end = Ev::new(EvKind::MappingEnd);
        if self.started {
            end.set_comments(String::new(), self.outer.line, self.outer.foot, rest);
        } else {
            // No entries: an empty mapping headed by all its comments.
            let mut start = Ev::new(EvKind::MappingStart);
            start.set_comments(
                prepend(self.outer.head, rest),
                String::new(),
                String::new(),
                self.tail,
            );
            s.em.emit(start)?;
            end.set_comments(
                String::new(),
                self.outer.line,
                self.outer.foot,
                String::new(),
            );
        }
        s.em.emit(end)
    }
}

impl<'t> Serializer<'t> {
    fn node(&mut self, node: &'t Node, outer: Outer) -> Result<(), StoreError> {
        match node {
            Node::Map(m) => self.nested(|s| s.map(m, None, outer, String::new())),
            Node::List(l) => self.nested(|s| s.list(l, outer)),
            Node::Leaf(leaf) => {
                let (mut ev, lost) = scalar_event(&leaf.value);
                if lost
                    && !(outer.head.is_empty() && outer.line.is_empty() && outer.foot.is_empty())
                {
                    return Err(lost_node_error());
                }
                ev.set_comments(outer.head, outer.line, outer.foot, String::new());
                self.em.emit(ev)
            }
        }
    }

    fn nested(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        if self.depth >= MAX_DEPTH {
            return Err(StoreError::Emit(format!(
                "nesting deeper than {MAX_DEPTH} levels is not supported"
            )));
        }
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        r
    }

    /// A mapping, optionally with the metadata appended as a last `sops` entry.
    fn map(
        &mut self,
        map: &'t Map,
        extra: Option<&'t Map>,
        outer: Outer,
        tail: String,
    ) -> Result<(), StoreError> {
        let mut walk = MapWalk::new(outer, tail);
        for item in &map.items {
            walk.item(self, item)?;
        }
        if let Some(meta) = extra {
            let line = walk.next_entry(self)?;
            self.key(SOPS_KEY, line.head, true)?;
            self.map(
                meta,
                None,
                Outer {
                    line: line.line,
                    ..Outer::default()
                },
                String::new(),
            )?;
        }
        walk.end(self)
    }

    fn key(&mut self, key: &'t str, head: String, mark: bool) -> Result<(), StoreError> {
        let (mut ev, lost) = string_event(key);
        if lost && !head.is_empty() {
            return Err(lost_node_error());
        }
        ev.set_comments(head, String::new(), String::new(), String::new());
        ev.mark = mark;
        self.em.emit(ev)
    }

    /// A mapping value; `line` holds the inline comments written after it.
    fn value(&mut self, value: &'t Node, line: String) -> Result<(), StoreError> {
        self.node(
            value,
            Outer {
                line,
                ..Outer::default()
            },
        )
    }

    fn list(&mut self, list: &'t List, outer: Outer) -> Result<(), StoreError> {
        let last_node = list
            .items
            .iter()
            .rposition(|i| matches!(i, ListItem::Node(_)));
        let mut heads: Vec<&Comment> = Vec::new();
        let mut inlines: Vec<&Comment> = Vec::new();
        let Some(last_node) = last_node else {
            for item in &list.items {
                if let ListItem::Comment(c) = item {
                    if c.inline {
                        inlines.push(c)
                    } else {
                        heads.push(c)
                    }
                }
            }
            heads.extend(inlines);
            let mut start = Ev::new(EvKind::SequenceStart);
            start.set_comments(
                prepend(outer.head, join(&heads)),
                String::new(),
                String::new(),
                String::new(),
            );
            self.em.emit(start)?;
            let mut end = Ev::new(EvKind::SequenceEnd);
            end.set_comments(String::new(), outer.line, outer.foot, String::new());
            return self.em.emit(end);
        };

        // Comments after the last element are its foot.
        let mut foot_heads: Vec<&Comment> = Vec::new();
        let mut foot_inlines: Vec<&Comment> = Vec::new();
        for item in &list.items[last_node + 1..] {
            if let ListItem::Comment(c) = item {
                if c.inline {
                    foot_inlines.push(c)
                } else {
                    foot_heads.push(c)
                }
            }
        }
        foot_heads.extend(foot_inlines);
        let last_foot = join(&foot_heads);

        // Full-line comments before the first element head the sequence itself.
        for item in &list.items {
            match item {
                ListItem::Comment(c) if !c.inline => heads.push(c),
                ListItem::Comment(_) => {}
                ListItem::Node(_) => break,
            }
        }
        let mut start = Ev::new(EvKind::SequenceStart);
        start.set_comments(
            prepend(outer.head, join(&heads)),
            String::new(),
            String::new(),
            String::new(),
        );
        self.em.emit(start)?;

        let mut beginning = true;
        for (i, item) in list.items[..=last_node].iter().enumerate() {
            match item {
                ListItem::Comment(c) if c.inline => inlines.push(c),
                ListItem::Comment(c) => heads.push(c),
                ListItem::Node(n) => {
                    if beginning {
                        // Already written as the sequence's head.
                        heads.clear();
                        beginning = false;
                    }
                    let head = join(&heads);
                    heads.clear();
                    let line = join(&inlines);
                    inlines.clear();
                    let foot = if i == last_node {
                        last_foot.clone()
                    } else {
                        String::new()
                    };
                    self.node(n, Outer { head, line, foot })?;
                }
            }
        }
        let mut end = Ev::new(EvKind::SequenceEnd);
        end.set_comments(String::new(), outer.line, outer.foot, String::new());
        self.em.emit(end)
    }
}
