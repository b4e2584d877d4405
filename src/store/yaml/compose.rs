//! Events to a node graph with head, line and foot comments, as go-yaml's `yaml.Node` tree.
//!
//! sops converts go-yaml nodes (not events) into its tree, and go-yaml moves some foot comments
//! between keys and values while building nodes; this module reproduces that step. Nodes of
//! all documents live in one arena because go-yaml keeps anchors across documents; children
//! of every collection are one slice of a shared array.

use super::error::{YResult, YamlError};
use super::parser::{Comments, Event, EventKind, Parser};
use super::scanner::ScalarStyle;
use std::borrow::Cow;
use std::collections::HashMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Document,
    Sequence,
    Mapping,
    Scalar,
    Alias,
}

/// Deepest nesting of collections accepted: go-yaml's, so every file sops reads is read. The
/// tree's passes recurse per level; the binary runs them on a stack sized for this depth
/// (`process::STACK_SIZE`).
pub(crate) const MAX_DEPTH: usize = 10_000;

/// Marks "no node" in `YNode::alias`.
pub(super) const NO_NODE: usize = usize::MAX;

/// The largest input the node graph addresses (offsets are `u32`, keeping nodes small).
const MAX_INPUT: usize = u32::MAX as usize;

/// A node's tag: the common ones by value, written ones (`!!int`, `!foo`) as an index into
/// `Stream::tags` (one `u32`: nodes are many, see `YNode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Tag(u32);

impl Tag {
    /// An untagged plain scalar, resolved from its text when needed.
    pub const IMPLICIT: Tag = Tag(0);
    pub const STR: Tag = Tag(1);
    pub const MERGE: Tag = Tag(2);
    pub const MAP: Tag = Tag(3);
    pub const SEQ: Tag = Tag(4);
    const FIRST_WRITTEN: u32 = 5;

    fn written(index: usize) -> Tag {
        Tag(u32::try_from(index)
            .ok()
            .and_then(|i| i.checked_add(Self::FIRST_WRITTEN))
            .unwrap_or(u32::MAX))
    }
}

/// One node of the graph. A 100k-value file has about 220k of them, all alive while the tree
/// is built, so the node is kept to 48 bytes: offsets are `u32` (inputs are limited to 4 GiB)
/// and the text is a slice of the input, or an index into `Stream::owned` for scalars whose
/// text differs from their source (escapes, folding).
#[derive(Debug)]
pub(super) struct YNode {
    /// Boxed: most nodes have no comments.
    pub comments: Option<Box<Comments>>,
    /// The node's text: see `Stream::value`.
    text_at: u32,
    text_len: u32,
    /// Byte range of the node's text (properties included).
    start: u32,
    end: u32,
    /// The children, `Stream::children[first..first + len]`; for an alias, `first` is the
    /// anchored node.
    first: u32,
    len: u32,
    /// 1-based line, as go-yaml reports it.
    pub line: u32,
    /// 0-based column of the node's first character.
    pub column: u32,
    pub tag: Tag,
    pub kind: Kind,
    /// The tag was written explicitly.
    pub tagged: bool,
    pub flow: bool,
    /// `text_at` indexes `Stream::owned`.
    owned: bool,
}

impl YNode {
    pub fn start(&self) -> usize {
        self.start as usize
    }

    pub fn end(&self) -> usize {
        self.end as usize
    }

    /// For an alias, the anchored node; `NO_NODE` for any other node.
    pub fn alias(&self) -> usize {
        if self.kind == Kind::Alias {
            self.first as usize
        } else {
            NO_NODE
        }
    }

    pub fn head(&self) -> &str {
        self.comments.as_ref().map_or("", |c| &c.head)
    }

    pub fn line_comment(&self) -> &str {
        self.comments.as_ref().map_or("", |c| &c.line)
    }

    pub fn foot(&self) -> &str {
        self.comments.as_ref().map_or("", |c| &c.foot)
    }

    fn take_foot(&mut self) -> String {
        self.comments
            .as_mut()
            .map(|c| std::mem::take(&mut c.foot))
            .unwrap_or_default()
    }

    /// Sets (replaces) the foot comment.
    fn set_foot(&mut self, foot: String) {
        if foot.is_empty() {
            if let Some(c) = self.comments.as_mut() {
                c.foot.clear();
            }
        } else {
            self.comments.get_or_insert_with(Box::default).foot = foot;
        }
    }

    fn set_line(&mut self, line: String) {
        if line.is_empty() {
            if let Some(c) = self.comments.as_mut() {
                c.line.clear();
            }
        } else {
            self.comments.get_or_insert_with(Box::default).line = line;
        }
    }
}

/// A parsed stream: the node arena and each document's root.
pub(super) struct Stream<'a> {
    pub nodes: Vec<YNode>,
    pub docs: Vec<Doc>,
    children: Vec<usize>,
    tags: Vec<String>,
    /// The input the nodes' texts are slices of.
    text: &'a str,
    /// Scalar texts that are not slices of the input.
    owned: Vec<String>,
}

/// One document: its node and the offset where the document ends (the next `---`, `...` or
/// the end of input).
#[derive(Clone, Copy, Debug)]
pub(super) struct Doc {
    pub node: usize,
    pub end: usize,
}

impl<'a> Stream<'a> {
    /// The children of a node (key, value, key, value... for a mapping).
    pub fn content(&self, id: usize) -> &[usize] {
        let n = &self.nodes[id];
        if n.kind == Kind::Alias {
            return &[];
        }
        &self.children[n.first as usize..(n.first + n.len) as usize]
    }

    /// A scalar's value, an alias's anchor name; empty for collections.
    pub fn value(&self, id: usize) -> &str {
        let n = &self.nodes[id];
        if n.owned {
            &self.owned[n.text_at as usize]
        } else {
            &self.text[n.text_at as usize..(n.text_at + n.text_len) as usize]
        }
    }

    /// The node's short tag (`!!str`, `!foo`), empty for an untagged plain scalar.
    pub fn tag(&self, id: usize) -> &str {
        match self.nodes[id].tag {
            Tag::IMPLICIT => "",
            Tag::STR => "!!str",
            Tag::MERGE => "!!merge",
            Tag::MAP => "!!map",
            Tag::SEQ => "!!seq",
            Tag(i) => &self.tags[(i - Tag::FIRST_WRITTEN) as usize],
        }
    }

    /// The scalar tag go-yaml reports for a node (`Node.ShortTag`).
    pub fn short_tag(&self, id: usize) -> &str {
        let n = &self.nodes[id];
        match n.kind {
            Kind::Mapping if !n.tagged => "!!map",
            Kind::Sequence if !n.tagged => "!!seq",
            Kind::Alias if n.alias() != NO_NODE => self.short_tag(n.alias()),
            Kind::Scalar if n.tag == Tag::IMPLICIT => super::resolve::resolve_tag(self.value(id)),
            _ => self.tag(id),
        }
    }
}

/// An open collection (or document) and where its children start on the scratch stack.
struct Frame {
    node: usize,
    start: usize,
}

struct Builder<'a, 't> {
    /// The stream built so far.
    s: Stream<'a>,
    /// Children of the open collections, innermost last.
    scratch: Vec<usize>,
    stack: Vec<Frame>,
    anchors: HashMap<String, usize>,
    /// Where doc 0's top level goes pair by pair, if anywhere (see `compose_top_level`).
    top: Option<&'t mut dyn TopLevel<'a>>,
    handing: Handing,
}

/// Takes the top-level pairs of doc 0 as they are composed, so that the nodes of the whole
/// document are never held together (see `compose_top_level`). Each call returns `false` to
/// give up; the stream is then abandoned.
pub(super) trait TopLevel<'a> {
    /// Doc 0's root mapping has started: the document's and the root's head comments are final.
    fn begin(&mut self, stream: &Stream<'a>, doc: usize, root: usize) -> bool;
    /// One complete top-level pair, comments moved as go-yaml moves them. Its nodes are dropped
    /// once this returns.
    fn pair(&mut self, stream: &Stream<'a>, key: usize, value: usize) -> bool;
    /// Doc 0 is complete; the root has no children left, only its and the document's own
    /// comments.
    fn end(&mut self, stream: &Stream<'a>, doc: usize, root: usize) -> bool;
}

/// How far doc 0's top level has been handed on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Handing {
    /// Nothing to hand on (plain `compose`).
    Off,
    /// Doc 0's root has not started yet.
    Waiting,
    /// Within the root mapping; `marks` are the arenas' lengths before its first pair, which
    /// each pair's nodes are cut back to once handed on.
    Root {
        doc: usize,
        root: usize,
        marks: Marks,
    },
    /// Doc 0 is complete.
    Done,
    /// A shape that cannot be handed on pair by pair (or the taker gave up).
    Abandoned,
}

#[derive(Clone, Copy, PartialEq, Eq)]
struct Marks {
    nodes: usize,
    children: usize,
    owned: usize,
    tags: usize,
}

/// Parses every document of `text`. `check_first` runs as soon as the first document is
/// complete: sops checks it before reading further, so its errors win over later ones.
pub(super) fn compose<'a>(
    text: &'a str,
    check_first: impl FnOnce(&Stream<'a>, usize) -> Result<(), String>,
) -> YResult<Stream<'a>> {
    compose_with(text, check_first, None).map(|(stream, _)| stream)
}

/// `compose` handing doc 0's top-level pairs to `top` as each is complete and dropping their
/// nodes: for a block mapping root without anchors, aliases, collection keys or further
/// documents. `Ok(false)` when the stream has another shape or `top` gave up (the caller then
/// composes it whole); errors are `compose`'s.
pub(super) fn compose_top_level<'a>(
    text: &'a str,
    check_first: impl FnOnce(&Stream<'a>, usize) -> Result<(), String>,
    top: &mut dyn TopLevel<'a>,
) -> YResult<bool> {
    let (_, handing) = compose_with(text, check_first, Some(top))?;
    Ok(handing == Handing::Done)
}

fn compose_with<'a>(
    text: &'a str,
    check_first: impl FnOnce(&Stream<'a>, usize) -> Result<(), String>,
    top: Option<&mut dyn TopLevel<'a>>,
) -> YResult<(Stream<'a>, Handing)> {
    if text.len() > MAX_INPUT {
        return Err(YamlError::other(
            "yaml: files larger than 4 GiB are not supported".to_string(),
        ));
    }
    let mut parser = Parser::new(text);
    let expected_nodes = if top.is_some() {
        1024
    } else {
        text.len() / 40 + 16
    };
    let mut b = Builder {
        s: Stream {
            // About one node per 40 bytes of typical input; reserving avoids regrowing. Handed
            // on pair by pair, the top level's nodes are never all held.
            nodes: Vec::with_capacity(expected_nodes),
            docs: Vec::new(),
            children: Vec::with_capacity(expected_nodes),
            tags: Vec::new(),
            text,
            owned: Vec::new(),
        },
        scratch: Vec::new(),
        stack: Vec::new(),
        anchors: HashMap::new(),
        handing: if top.is_some() {
            Handing::Waiting
        } else {
            Handing::Off
        },
        top,
    };
    let mut check_first = Some(check_first);
    loop {
        if b.handing == Handing::Abandoned {
            return Ok((b.s, b.handing));
        }
        let mut event = match parser.next_event() {
            Ok(Some(e)) => e,
            Ok(None) => break,
            // sops compat: sops reports errors past the first document with a prefix, since
            // only its second pass (over all documents) reads them.
            Err(e) if !b.s.docs.is_empty() => {
                return Err(YamlError::other(format!(
                    "Error unmarshaling input YAML: {e}"
                )));
            }
            Err(e) => return Err(e),
        };
        match event.kind {
            EventKind::StreamStart => {}
            EventKind::StreamEnd => break,
            EventKind::DocumentStart => {
                if b.handing == Handing::Done {
                    // Only a single document is handed on.
                    b.abandon();
                    continue;
                }
                let id = b.new_node(&mut event, Kind::Document, Tag::IMPLICIT, Cow::Borrowed(""));
                b.open(id);
            }
            EventKind::DocumentEnd => {
                let id = b.close()?;
                b.s.nodes[id].set_foot(event.take_comments().foot);
                b.s.nodes[id].end = offset(event.start.index);
                b.s.docs.push(Doc {
                    node: id,
                    end: event.start.index,
                });
                if let Some(check) = check_first.take() {
                    check(&b.s, id).map_err(YamlError::other)?;
                }
                b.doc_done(id);
            }
            EventKind::Scalar => {
                if b.at_root_key() {
                    b.hand_prior_pair(&mut event);
                }
                let tag = match event.style {
                    ScalarStyle::Plain if event.value == "<<" => Tag::MERGE,
                    ScalarStyle::Plain => Tag::IMPLICIT,
                    _ => Tag::STR,
                };
                let value = std::mem::take(&mut event.value);
                let id = b.new_node(&mut event, Kind::Scalar, tag, value);
                b.register_anchor(&event, id);
                b.scratch.push(id);
                b.completed(id);
            }
            EventKind::Alias => {
                if b.handing_on() {
                    // An alias needs the anchored nodes, which handing on drops.
                    b.abandon();
                    continue;
                }
                let target = *b.anchors.get(event.value.as_ref()).ok_or_else(|| {
                    YamlError::other(format!("yaml: unknown anchor '{}' referenced", event.value))
                })?;
                let value = std::mem::take(&mut event.value);
                let id = b.new_node(&mut event, Kind::Alias, Tag::IMPLICIT, value);
                b.s.nodes[id].first = offset(target);
                b.scratch.push(id);
                b.completed(id);
            }
            EventKind::SequenceStart | EventKind::MappingStart => {
                let (kind, tag) = if event.kind == EventKind::SequenceStart {
                    (Kind::Sequence, Tag::SEQ)
                } else {
                    (Kind::Mapping, Tag::MAP)
                };
                if b.at_root_key() {
                    // A collection key: go-yaml's decoding refuses it, as `compose` reports.
                    b.abandon();
                    continue;
                }
                let id = b.new_node(&mut event, kind, tag, Cow::Borrowed(""));
                b.s.nodes[id].flow = event.flow;
                b.register_anchor(&event, id);
                b.root_started(id);
                b.scratch.push(id);
                if b.stack.len() > MAX_DEPTH {
                    return Err(YamlError::other(format!(
                        "yaml: line {}: nesting deeper than {MAX_DEPTH} levels is not supported",
                        event.start.line + 1
                    )));
                }
                b.open(id);
            }
            EventKind::SequenceEnd | EventKind::MappingEnd => {
                if b.closing_root() {
                    b.close_root(&mut event)?;
                    continue;
                }
                let start = b.stack.last().map_or(0, |f| f.start);
                let own = &b.scratch[start..];
                let last_key = (own.len() > 1).then(|| own[own.len() - 2]);
                let last_child = own.last().copied();
                let id = b.close()?;
                let c = event.take_comments();
                let n = &mut b.s.nodes[id];
                n.set_line(c.line);
                n.set_foot(c.foot);
                if n.flow {
                    n.end = offset(event.end.index);
                }
                if event.kind == EventKind::MappingEnd
                    && !n.flow
                    && !n.foot().is_empty()
                    && let Some(k) = last_key
                {
                    // A block mapping's foot belongs to its last key.
                    let foot = n.take_foot();
                    b.s.nodes[k].set_foot(foot);
                }
                if !b.s.nodes[id].flow
                    && let Some(last) = last_child
                {
                    b.s.nodes[id].end = b.s.nodes[last].end;
                }
                b.completed(id);
            }
        }
    }
    Ok((b.s, b.handing))
}

/// An offset into the input, which `compose` keeps under 4 GiB.
fn offset(index: usize) -> u32 {
    u32::try_from(index).unwrap_or(u32::MAX)
}

impl<'a> Builder<'a, '_> {
    fn new_node(
        &mut self,
        event: &mut Event<'a>,
        kind: Kind,
        default_tag: Tag,
        value: Cow<'a, str>,
    ) -> usize {
        let explicit = !event.tag().is_empty() && event.tag() != "!";
        let tag = match &mut event.props {
            Some(p) if explicit => {
                self.s.tags.push(short_tag(&p.tag));
                Tag::written(self.s.tags.len() - 1)
            }
            _ => default_tag,
        };
        let (text_at, text_len, owned) = self.place(value);
        self.s.nodes.push(YNode {
            comments: event.comments.take(),
            text_at,
            text_len,
            start: offset(event.start.index),
            end: offset(event.end.index),
            first: 0,
            len: 0,
            line: event.start.line.saturating_add(1),
            column: event.start.column,
            tag,
            kind,
            tagged: explicit,
            flow: false,
            owned,
        });
        self.s.nodes.len() - 1
    }

    /// Where a node's text is kept: its offset and length when it is a slice of the input,
    /// else its index in `Stream::owned`.
    fn place(&mut self, value: Cow<'a, str>) -> (u32, u32, bool) {
        let input = self.s.text.as_bytes().as_ptr_range();
        match value {
            Cow::Borrowed(v) if input.contains(&v.as_ptr()) || v.is_empty() => {
                let at = (v.as_ptr() as usize).saturating_sub(input.start as usize);
                let at = if v.is_empty() { 0 } else { at };
                (offset(at), offset(v.len()), false)
            }
            value => {
                self.s.owned.push(value.into_owned());
                (offset(self.s.owned.len() - 1), 0, true)
            }
        }
    }

    fn register_anchor(&mut self, event: &Event<'_>, id: usize) {
        if !event.anchor().is_empty() {
            if self.handing_on() {
                // Its aliases would need the anchored nodes, which handing on drops.
                self.abandon();
            }
            self.anchors.insert(event.anchor().to_string(), id);
        }
    }

    /// Doc 0 is being handed on (or about to be).
    fn handing_on(&self) -> bool {
        matches!(self.handing, Handing::Waiting | Handing::Root { .. })
    }

    fn abandon(&mut self) {
        self.handing = Handing::Abandoned;
    }

    /// A collection has just been made: if it is doc 0's root, handing on starts.
    fn root_started(&mut self, id: usize) {
        if self.handing != Handing::Waiting || self.stack.len() != 1 {
            return;
        }
        let doc = self.stack[0].node;
        let n = &self.s.nodes[id];
        if n.kind != Kind::Mapping || n.flow {
            self.abandon();
            return;
        }
        self.handing = Handing::Root {
            doc,
            root: id,
            marks: Marks {
                nodes: self.s.nodes.len(),
                children: self.s.children.len(),
                owned: self.s.owned.len(),
                tags: self.s.tags.len(),
            },
        };
        let top = self.top.as_deref_mut().expect("handing on has a taker");
        if !top.begin(&self.s, doc, id) {
            self.abandon();
        }
    }

    /// The next node is a key of doc 0's root, which is being handed on.
    fn at_root_key(&self) -> bool {
        let Handing::Root { root, .. } = self.handing else {
            return false;
        };
        self.stack.len() == 2
            && self.stack[1].node == root
            && (self.scratch.len() - self.stack[1].start).is_multiple_of(2)
    }

    /// A root key starts: the pair before it is complete once this key's foot comment (a
    /// dedented comment ending the prior value) has moved to it, as `completed` would move it.
    fn hand_prior_pair(&mut self, key_event: &mut Event<'a>) {
        let start = self.stack[1].start;
        if self.scratch.len() - start < 2 {
            return;
        }
        let foot = key_event
            .comments
            .as_mut()
            .map(|c| std::mem::take(&mut c.foot))
            .unwrap_or_default();
        if !foot.is_empty() {
            let prior_key = self.scratch[start];
            self.s.nodes[prior_key].set_foot(foot);
        }
        self.hand_pair();
    }

    /// Hands on the root's one pair and drops its nodes.
    fn hand_pair(&mut self) {
        let Handing::Root { marks, .. } = self.handing else {
            return;
        };
        let start = self.stack[1].start;
        let (k, v) = (self.scratch[start], self.scratch[start + 1]);
        let top = self.top.as_deref_mut().expect("handing on has a taker");
        if !top.pair(&self.s, k, v) {
            self.abandon();
        }
        self.scratch.truncate(start);
        self.s.nodes.truncate(marks.nodes);
        self.s.children.truncate(marks.children);
        self.s.owned.truncate(marks.owned);
        self.s.tags.truncate(marks.tags);
    }

    /// The collection ending is doc 0's root, being handed on.
    fn closing_root(&self) -> bool {
        matches!(self.handing, Handing::Root { root, .. }
            if self.stack.last().is_some_and(|f| f.node == root))
    }

    /// The end of a root being handed on: its foot goes to the last key (as for any block
    /// mapping), the last pair is handed on, and the root closes with no children.
    fn close_root(&mut self, event: &mut Event<'a>) -> YResult<()> {
        let Handing::Root { root, .. } = self.handing else {
            return Ok(());
        };
        let c = event.take_comments();
        if !c.line.is_empty() {
            // It would come before the root's items, which are handed on already.
            self.abandon();
            return Ok(());
        }
        let start = self.stack[1].start;
        let has_pair = self.scratch.len() - start >= 2;
        if has_pair && !c.foot.is_empty() {
            let last_key = self.scratch[start];
            self.s.nodes[last_key].set_foot(c.foot);
        } else {
            self.s.nodes[root].set_foot(c.foot);
        }
        if has_pair {
            self.hand_pair();
        }
        self.close()?;
        Ok(())
    }

    /// A document has ended: if it is doc 0 being handed on, its taker finishes.
    fn doc_done(&mut self, doc: usize) {
        match self.handing {
            Handing::Root { doc: d, root, .. } if d == doc => {
                let top = self.top.as_deref_mut().expect("handing on has a taker");
                if top.end(&self.s, doc, root) {
                    self.handing = Handing::Done;
                } else {
                    self.abandon();
                }
            }
            Handing::Waiting => self.abandon(),
            _ => {}
        }
    }

    fn open(&mut self, id: usize) {
        self.stack.push(Frame {
            node: id,
            start: self.scratch.len(),
        });
    }

    /// Closes the innermost collection, moving its children into the shared array.
    fn close(&mut self) -> YResult<usize> {
        let frame = self
            .stack
            .pop()
            .ok_or_else(|| YamlError::other("yaml: unexpected end of a collection"))?;
        let first = self.s.children.len();
        self.s.children.extend(self.scratch.drain(frame.start..));
        let n = &mut self.s.nodes[frame.node];
        n.first = u32::try_from(first).unwrap_or(u32::MAX);
        n.len = u32::try_from(self.s.children.len() - first).unwrap_or(0);
        Ok(frame.node)
    }

    /// go-yaml's foot comment moves once a mapping key or value is complete.
    fn completed(&mut self, id: usize) {
        let Some(parent) = self.stack.last() else {
            return;
        };
        let p = &self.s.nodes[parent.node];
        if p.kind != Kind::Mapping {
            return;
        }
        let flow = p.flow;
        let own = &self.scratch[parent.start..];
        let len = own.len();
        if len % 2 == 1 {
            // A key. A foot comment on it, when dedented, is the foot of the prior value.
            if !flow && !self.s.nodes[id].foot().is_empty() && len > 2 {
                let prior_key = own[len - 3];
                let foot = self.s.nodes[id].take_foot();
                self.s.nodes[prior_key].set_foot(foot);
            }
        } else {
            let key = own[len - 2];
            if self.s.nodes[key].foot().is_empty() && !self.s.nodes[id].foot().is_empty() {
                let foot = self.s.nodes[id].take_foot();
                self.s.nodes[key].set_foot(foot);
            }
        }
    }
}

/// `tag:yaml.org,2002:x` to `!!x`.
fn short_tag(tag: &str) -> String {
    match tag.strip_prefix("tag:yaml.org,2002:") {
        Some(rest) => format!("!!{rest}"),
        None => tag.to_string(),
    }
}

impl Event<'_> {
    fn take_comments(&mut self) -> Comments {
        self.comments.take().map(|c| *c).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_stay_small() {
        // A 100k-value file has ~220k nodes alive while its tree is built: 8 bytes more per
        // node is 1.7 MB more at the peak.
        assert_eq!(std::mem::size_of::<YNode>(), 48);
    }

    #[test]
    fn texts_are_slices_of_the_input_unless_rewritten() {
        let text = "plain: value\nquoted: \"a\\tb\"\nfolded: >\n  x\n  y\nalias: &a v\nref: *a\n";
        let stream = compose(text, |_, _| Ok(())).unwrap();
        let values: Vec<&str> = (0..stream.nodes.len())
            .filter(|&id| matches!(stream.nodes[id].kind, Kind::Scalar | Kind::Alias))
            .map(|id| stream.value(id))
            .collect();
        assert_eq!(
            values,
            [
                "plain", "value", "quoted", "a\tb", "folded", "x y\n", "alias", "v", "ref", "a"
            ]
        );
        // Only the two rewritten scalars are stored apart from the input.
        assert_eq!(stream.owned, ["a\tb", "x y\n"]);
        let alias = stream
            .nodes
            .iter()
            .position(|n| n.kind == Kind::Alias)
            .unwrap();
        assert_eq!(stream.value(stream.nodes[alias].alias()), "v");
        assert!(stream.content(alias).is_empty());
    }
}
