//! sops trees to emitter events, with sops's comment placement and go-yaml's scalar styles.
//!
//! sops compat: comment items become yaml.Node comment slots as in sops's `appendTreeBranch` /
//! `appendSequence` (comments before the first entry head the collection, later ones head the
//! next key, inline ones become the next value's line comment, leftovers are the last entry's
//! foot), and scalars get the style go-yaml gives a Go value encoded and parsed back.

use super::compose::MAX_DEPTH;
use super::emitter::{Emitter, Ev, EvKind};
use super::scalar_event::{lost_node_error, scalar_event, string_event};
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
        bytes: s.em.out,
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
    Ok(s.em.out)
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
    for (i, c) in comments.iter().enumerate() {
        if i > 0 {
            s.push('\n');
        }
        s.push('#');
        s.push_str(&c.text.to_lossy());
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
        let has_entries =
            extra.is_some() || map.items.iter().any(|i| matches!(i, MapItem::Entry(_)));
        let mut heads: Vec<&Comment> = Vec::new();
        let mut inlines: Vec<&Comment> = Vec::new();

        if !has_entries {
            for item in &map.items {
                if let MapItem::Comment(c) = item {
                    if c.inline {
                        inlines.push(c)
                    } else {
                        heads.push(c)
                    }
                }
            }
            heads.extend(inlines);
            let mut start = Ev::new(EvKind::MappingStart);
            start.set_comments(
                prepend(outer.head, join(&heads)),
                String::new(),
                String::new(),
                tail,
            );
            self.em.emit(start)?;
            let mut end = Ev::new(EvKind::MappingEnd);
            end.set_comments(String::new(), outer.line, outer.foot, String::new());
            return self.em.emit(end);
        }

        // Full-line comments before the first key head the mapping itself.
        for item in &map.items {
            match item {
                MapItem::Comment(c) if !c.inline => heads.push(c),
                MapItem::Comment(_) => {}
                MapItem::Entry(_) => break,
            }
        }
        let mut start = Ev::new(EvKind::MappingStart);
        start.set_comments(
            prepend(outer.head, join(&heads)),
            String::new(),
            String::new(),
            tail,
        );
        self.em.emit(start)?;

        heads.clear();
        let mut beginning = true;
        for item in &map.items {
            match item {
                MapItem::Comment(c) if c.inline => inlines.push(c),
                MapItem::Comment(c) => heads.push(c),
                MapItem::Entry(e) => {
                    let key_head = if beginning {
                        String::new()
                    } else {
                        join(&heads)
                    };
                    beginning = false;
                    heads.clear();
                    let line = join(&inlines);
                    inlines.clear();
                    self.key(&e.key, key_head, false)?;
                    self.value(&e.value, line)?;
                }
            }
        }
        if let Some(meta) = extra {
            let key_head = if beginning {
                String::new()
            } else {
                join(&heads)
            };
            heads.clear();
            let line = join(&inlines);
            inlines.clear();
            self.key(SOPS_KEY, key_head, true)?;
            self.map(
                meta,
                None,
                Outer {
                    line,
                    ..Outer::default()
                },
                String::new(),
            )?;
        }
        heads.extend(inlines);
        let mut end = Ev::new(EvKind::MappingEnd);
        end.set_comments(String::new(), outer.line, outer.foot, join(&heads));
        self.em.emit(end)
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
