//! Events to a node graph with head, line and foot comments, as go-yaml's `yaml.Node` tree.
//!
//! sops converts go-yaml nodes (not events) into its tree, and go-yaml moves some foot comments
//! between keys and values while building nodes; this module reproduces that step. Nodes of
//! all documents live in one arena because go-yaml keeps anchors across documents.

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

/// Deepest nesting of collections accepted. go-yaml allows 10000, but sesame's tree and the
/// passes over it recurse, so deeper documents are refused rather than overflowing the stack.
pub(crate) const MAX_DEPTH: usize = 256;

/// Marks "no node" in `YNode::alias`.
pub(super) const NO_NODE: usize = usize::MAX;

#[derive(Debug)]
pub(super) struct YNode<'a> {
    pub value: Cow<'a, str>,
    /// Short tag (`!!str`, `!foo`); empty for an untagged plain scalar, which is resolved from
    /// its text when needed.
    pub tag: Cow<'a, str>,
    pub content: Vec<usize>,
    /// Boxed: most nodes have no comments.
    pub comments: Option<Box<Comments>>,
    /// For an alias, the anchored node.
    pub alias: usize,
    /// Byte range of the node's text (properties included).
    pub start: usize,
    pub end: usize,
    /// 1-based line, as go-yaml reports it.
    pub line: u32,
    /// 0-based column of the node's first character.
    pub column: u32,
    pub kind: Kind,
    /// The tag was written explicitly.
    pub tagged: bool,
    pub flow: bool,
}

impl YNode<'_> {
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
    pub nodes: Vec<YNode<'a>>,
    pub docs: Vec<Doc>,
}

/// One document: its node and the offset where the document ends (the next `---`, `...` or
/// the end of input).
#[derive(Clone, Copy, Debug)]
pub(super) struct Doc {
    pub node: usize,
    pub end: usize,
}

struct Frame {
    node: usize,
}

impl<'a> Stream<'a> {
    /// The scalar tag go-yaml reports for a node (`Node.ShortTag`).
    pub fn short_tag(&self, id: usize) -> Cow<'_, str> {
        let n = &self.nodes[id];
        match n.kind {
            Kind::Mapping if !n.tagged => Cow::Borrowed("!!map"),
            Kind::Sequence if !n.tagged => Cow::Borrowed("!!seq"),
            Kind::Alias if n.alias != NO_NODE => self.short_tag(n.alias),
            Kind::Scalar if n.tag.is_empty() => {
                Cow::Borrowed(super::resolve::resolve_tag(&n.value))
            }
            _ => Cow::Borrowed(n.tag.as_ref()),
        }
    }
}

/// Parses every document of `text`.
pub(super) fn compose(text: &str) -> YResult<Stream<'_>> {
    let mut parser = Parser::new(text);
    // About one node per 40 bytes of typical input; reserving avoids regrowing a large arena.
    let mut nodes: Vec<YNode<'_>> = Vec::with_capacity(text.len() / 40 + 16);
    let mut docs = Vec::new();
    let mut anchors: HashMap<String, usize> = HashMap::new();
    let mut stack: Vec<Frame> = Vec::new();

    loop {
        let event = match parser.next_event() {
            Ok(Some(e)) => e,
            Ok(None) => break,
            // sops compat: sops reports errors past the first document with a prefix, since
            // only its second pass (over all documents) reads them.
            Err(e) if !docs.is_empty() => {
                return Err(YamlError::other(format!(
                    "Error unmarshaling input YAML: {e}"
                )));
            }
            Err(e) => return Err(e),
        };
        let mut event = event;
        match event.kind {
            EventKind::StreamStart => {}
            EventKind::StreamEnd => break,
            EventKind::DocumentStart => {
                let id = new_node(
                    &mut nodes,
                    &mut event,
                    Kind::Document,
                    "",
                    Cow::Borrowed(""),
                );
                stack.push(Frame { node: id });
            }
            EventKind::DocumentEnd => {
                let Some(frame) = stack.pop() else {
                    return Err(YamlError::other("yaml: unexpected document end"));
                };
                nodes[frame.node].set_foot(event.take_comments().foot);
                nodes[frame.node].end = event.start.index;
                docs.push(Doc {
                    node: frame.node,
                    end: event.start.index,
                });
            }
            EventKind::Scalar => {
                let default_tag = match event.style {
                    ScalarStyle::Plain if event.value == "<<" => "!!merge",
                    ScalarStyle::Plain => "",
                    _ => "!!str",
                };
                let value = std::mem::take(&mut event.value);
                let id = new_node(&mut nodes, &mut event, Kind::Scalar, default_tag, value);
                register_anchor(&mut anchors, &event, id);
                attach(&mut nodes, &stack, id);
            }
            EventKind::Alias => {
                let target = *anchors.get(event.value.as_ref()).ok_or_else(|| {
                    YamlError::other(format!("yaml: unknown anchor '{}' referenced", event.value))
                })?;
                let value = std::mem::take(&mut event.value);
                let id = new_node(&mut nodes, &mut event, Kind::Alias, "", value);
                nodes[id].alias = target;
                attach(&mut nodes, &stack, id);
            }
            EventKind::SequenceStart | EventKind::MappingStart => {
                let (kind, default_tag) = if event.kind == EventKind::SequenceStart {
                    (Kind::Sequence, "!!seq")
                } else {
                    (Kind::Mapping, "!!map")
                };
                let id = new_node(&mut nodes, &mut event, kind, default_tag, Cow::Borrowed(""));
                nodes[id].flow = event.flow;
                register_anchor(&mut anchors, &event, id);
                if let Some(parent) = stack.last() {
                    nodes[parent.node].content.push(id);
                }
                if stack.len() > MAX_DEPTH {
                    return Err(YamlError::other(format!(
                        "yaml: line {}: nesting deeper than {MAX_DEPTH} levels is not supported",
                        event.start.line + 1
                    )));
                }
                stack.push(Frame { node: id });
            }
            EventKind::SequenceEnd | EventKind::MappingEnd => {
                let Some(frame) = stack.pop() else {
                    return Err(YamlError::other("yaml: unexpected collection end"));
                };
                let id = frame.node;
                let n = &mut nodes[id];
                let c = event.take_comments();
                n.set_line(c.line);
                n.set_foot(c.foot);
                if n.flow {
                    n.end = event.end.index;
                }
                if event.kind == EventKind::MappingEnd
                    && !n.flow
                    && !n.foot().is_empty()
                    && n.content.len() > 1
                {
                    // A block mapping's foot belongs to its last key.
                    let foot = n.take_foot();
                    let last_key = n.content[n.content.len() - 2];
                    nodes[last_key].set_foot(foot);
                }
                if !nodes[id].flow
                    && let Some(&last) = nodes[id].content.last()
                {
                    nodes[id].end = nodes[last].end;
                }
                completed(&mut nodes, &stack, id);
            }
        }
    }
    Ok(Stream { nodes, docs })
}

fn new_node<'a>(
    nodes: &mut Vec<YNode<'a>>,
    event: &mut Event<'a>,
    kind: Kind,
    default_tag: &'static str,
    value: Cow<'a, str>,
) -> usize {
    let explicit = !event.tag().is_empty() && event.tag() != "!";
    let tag = match &mut event.props {
        Some(p) if explicit => short_tag(std::mem::take(&mut p.tag)),
        _ => Cow::Borrowed(default_tag),
    };
    let comments = event.comments.take();
    nodes.push(YNode {
        kind,
        tag,
        tagged: explicit,
        flow: false,
        value,
        alias: NO_NODE,
        content: Vec::new(),
        line: event.start.line.saturating_add(1),
        column: event.start.column,
        start: event.start.index,
        end: event.end.index,
        comments,
    });
    nodes.len() - 1
}

fn register_anchor(anchors: &mut HashMap<String, usize>, event: &Event<'_>, id: usize) {
    if !event.anchor().is_empty() {
        anchors.insert(event.anchor().to_string(), id);
    }
}

/// Appends a finished scalar or alias to the open collection.
fn attach(nodes: &mut [YNode<'_>], stack: &[Frame], id: usize) {
    if let Some(parent) = stack.last() {
        nodes[parent.node].content.push(id);
    }
    completed(nodes, stack, id);
}

/// go-yaml's foot comment moves once a mapping key or value is complete.
fn completed(nodes: &mut [YNode<'_>], stack: &[Frame], id: usize) {
    let Some(parent) = stack.last() else { return };
    let p = parent.node;
    if nodes[p].kind != Kind::Mapping {
        return;
    }
    let len = nodes[p].content.len();
    if len % 2 == 1 {
        // A key. A foot comment on it, when dedented, is the foot of the prior value.
        if !nodes[p].flow && !nodes[id].foot().is_empty() && len > 2 {
            let prior_key = nodes[p].content[len - 3];
            let foot = nodes[id].take_foot();
            nodes[prior_key].set_foot(foot);
        }
    } else {
        let key = nodes[p].content[len - 2];
        if nodes[key].foot().is_empty() && !nodes[id].foot().is_empty() {
            let foot = nodes[id].take_foot();
            nodes[key].set_foot(foot);
        }
    }
}

/// `tag:yaml.org,2002:x` to `!!x`.
fn short_tag(tag: Cow<'_, str>) -> Cow<'_, str> {
    match tag.strip_prefix("tag:yaml.org,2002:") {
        Some(rest) => Cow::Owned(format!("!!{rest}")),
        None => tag,
    }
}

impl Event<'_> {
    fn take_comments(&mut self) -> Comments {
        self.comments.take().map(|c| *c).unwrap_or_default()
    }
}
