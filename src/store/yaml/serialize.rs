//! sops trees to emitter events, with sops's comment placement and go-yaml's scalar styles.
//!
//! sops compat: comment items become yaml.Node comment slots as in sops's `appendTreeBranch` /
//! `appendSequence` (comments before the first entry head the collection, later ones head the
//! next key, inline ones become the next value's line comment, leftovers are the last entry's
//! foot), and scalars get the style go-yaml gives a Go value encoded and parsed back.

use super::compose::MAX_DEPTH;
use super::emit_scalar::{Analysis, Style, analyze};
use super::emitter::{Emitter, Ev, EvKind};
use super::resolve::{Resolved, resolve_plain};
use crate::gofmt;
use crate::store::{Emitted, StoreError};
use crate::tree::{Comment, List, ListItem, Map, MapItem, Node, Scalar};
use base64::Engine;
use std::borrow::Cow;

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
        em: Emitter::new(indentation(indent)?, 4096),
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

/// sops compat: the error sops reports when a value that became a zero node (see
/// `string_event`) also carries comments.
fn lost_node_error() -> StoreError {
    StoreError::Emit(
        "Error marshaling to yaml: yaml: cannot encode node with unknown kind 0".into(),
    )
}

/// A string scalar with the style go-yaml's encoder picks for a Go string, and whether sops
/// loses the value.
///
/// sops compat: sops builds each node by encoding the value and parsing the text back. A
/// literal block whose first line starts with a TAB cannot be parsed back (go-yaml takes the
/// tab for indentation), so sops silently writes `null` instead of the string.
fn string_event(s: &str) -> (Ev<'_>, bool) {
    let analysis = analyze(s);
    let style = string_style(s, &analysis);
    if style == Style::Literal && s.starts_with('\t') {
        return (plain("null".into()), true);
    }
    let mut ev = Ev::new(EvKind::Scalar);
    ev.value = Cow::Borrowed(s);
    ev.style = style;
    ev.analysis = Some(analysis);
    if s == "<<" && style == Style::Plain {
        // sops compat: go-yaml reads a plain `<<` back as a merge key and tags it.
        ev.tag = "merge";
    }
    (ev, false)
}

/// The style of a string after go-yaml's encode-then-parse round trip (sops builds nodes with
/// `Node.Encode`): literal for multi-line text, plain when the text reads back as a string,
/// double-quoted otherwise, then downgraded when the text cannot be written in that style.
fn string_style(s: &str, a: &Analysis) -> Style {
    let requested = if a.multiline && s.contains('\n') {
        Style::Literal
    } else if resolve_plain(s) == Resolved::Str && !is_base60_float(s) && !is_old_bool(s) {
        Style::Plain
    } else {
        Style::DoubleQuoted
    };
    match requested {
        Style::Plain if !a.block_plain_allowed => {
            if a.single_quoted_allowed {
                Style::SingleQuoted
            } else {
                Style::DoubleQuoted
            }
        }
        Style::Literal if !a.block_allowed => Style::DoubleQuoted,
        other => other,
    }
}

/// YAML 1.1 booleans that go-yaml still quotes on output.
fn is_old_bool(s: &str) -> bool {
    matches!(
        s,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "on"
            | "On"
            | "ON"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "off"
            | "Off"
            | "OFF"
    )
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$` (sexagesimal numbers like `12:30`).
fn is_base60_float(s: &str) -> bool {
    let mut b = s.as_bytes();
    if let Some((b'+' | b'-', rest)) = b.split_first() {
        b = rest;
    }
    if !b.first().is_some_and(u8::is_ascii_digit) || !b.contains(&b':') {
        return false;
    }
    let n = b
        .iter()
        .take_while(|c| c.is_ascii_digit() || **c == b'_')
        .count();
    b = &b[n..];
    let mut groups = 0;
    while let Some((b':', rest)) = b.split_first() {
        let d = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        let ok = match d {
            1 => true,
            2 => rest[0] <= b'5',
            _ => false,
        };
        if !ok {
            return false;
        }
        b = &rest[d..];
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    match b.split_first() {
        None => true,
        Some((b'.', rest)) => rest.iter().all(|c| c.is_ascii_digit() || *c == b'_'),
        _ => false,
    }
}

/// go-yaml's base64 for `!!binary`: 70-column lines, each ending in a newline once the text
/// needs more than one line.
fn encode_base64(bytes: &[u8]) -> String {
    let enc = base64::engine::general_purpose::STANDARD.encode(bytes);
    if enc.len() < 70 {
        return enc;
    }
    let mut out = String::with_capacity(enc.len() + enc.len() / 70 + 1);
    for chunk in enc.as_bytes().chunks(70) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out
}

fn plain(value: String) -> Ev<'static> {
    let mut ev = Ev::new(EvKind::Scalar);
    ev.analysis = Some(analyze(&value));
    ev.value = Cow::Owned(value);
    ev
}

/// The event for a scalar value, and whether sops loses the value (see `string_event`).
fn scalar_event(s: &Scalar) -> (Ev<'_>, bool) {
    let ev = match s {
        Scalar::Null => plain("null".into()),
        Scalar::Bool(b) => plain(b.to_string()),
        Scalar::Int(i) => plain(i.to_string()),
        Scalar::Uint(u) => plain(u.to_string()),
        Scalar::Float(f) => plain(gofmt::float_yaml(*f)),
        Scalar::Time(t) => plain(gofmt::time_nano(t)),
        Scalar::Str(buf) => match buf.as_str() {
            Some(text) => return string_event(text),
            None => {
                let text = encode_base64(buf.expose());
                let mut ev = Ev::new(EvKind::Scalar);
                ev.style = if text.contains('\n') {
                    Style::Literal
                } else {
                    Style::Plain
                };
                ev.tag = "binary";
                ev.analysis = Some(analyze(&text));
                ev.value = Cow::Owned(text);
                ev
            }
        },
    };
    (ev, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sexagesimal_numbers_are_quoted() {
        for s in ["12:30", "-1:30.5", "1_0:5", "190:20:30", "+1:2"] {
            assert!(is_base60_float(s), "{s}");
        }
        for s in ["12:60", "a:1", "12:", "1:2:", "12:30x", "1.5"] {
            assert!(!is_base60_float(s), "{s}");
        }
    }

    #[test]
    fn base64_lines_like_go_yaml() {
        assert_eq!(encode_base64(b"hi"), "aGk=");
        let b64 = encode_base64(&[0u8; 52]);
        assert_eq!(b64.len(), 74);
        assert_eq!(b64.lines().map(str::len).collect::<Vec<_>>(), vec![70, 2]);
        assert!(b64.ends_with('\n'));
        assert_eq!(encode_base64(&[0u8; 51]).len(), 68);
    }
}
