//! Tokens to events, with go-yaml's assignment of scanned comments to events.
//!
//! The grammar is the usual libyaml one. sops compat: comments are handed out as go-yaml v3
//! does it (`peek_token` unfolding, stem comments of nested block collections, document head
//! splitting at a blank line), because the comment placement in sops's tree depends on it.

use super::error::{Mark, YResult, YamlError};
use super::scanner::{ScalarStyle, Scanner, TokenKind};
use std::borrow::Cow;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum EventKind {
    StreamStart,
    StreamEnd,
    DocumentStart,
    DocumentEnd,
    Alias,
    Scalar,
    SequenceStart,
    SequenceEnd,
    MappingStart,
    MappingEnd,
}

/// Head, line and foot comments of an event or node (comment lines joined by `\n`).
#[derive(Debug, Default)]
pub(super) struct Comments {
    pub head: String,
    pub line: String,
    pub foot: String,
}

/// A node's anchor and full tag.
#[derive(Debug, Default)]
pub(super) struct Props<'a> {
    pub anchor: Cow<'a, str>,
    pub tag: Cow<'a, str>,
}

/// A parse event. For an alias, `value` is the anchor name it refers to. Properties and
/// comments are boxed: most events have neither, and events are moved around a lot.
#[derive(Debug)]
pub(super) struct Event<'a> {
    pub kind: EventKind,
    pub start: Mark,
    pub end: Mark,
    pub value: Cow<'a, str>,
    pub props: Option<Box<Props<'a>>>,
    pub comments: Option<Box<Comments>>,
    pub implicit: bool,
    pub style: ScalarStyle,
    pub flow: bool,
}

impl<'a> Event<'a> {
    pub(super) fn new(kind: EventKind, start: Mark, end: Mark) -> Self {
        Event {
            kind,
            start,
            end,
            value: Cow::Borrowed(""),
            props: None,
            comments: None,
            implicit: false,
            style: ScalarStyle::Plain,
            flow: false,
        }
    }

    pub fn anchor(&self) -> &str {
        self.props.as_ref().map_or("", |p| &p.anchor)
    }

    pub fn tag(&self) -> &str {
        self.props.as_ref().map_or("", |p| &p.tag)
    }

    pub(super) fn comments_mut(&mut self) -> &mut Comments {
        self.comments.get_or_insert_with(Box::default)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum State {
    StreamStart,
    ImplicitDocumentStart,
    DocumentStart,
    DocumentContent,
    DocumentEnd,
    BlockNode,
    BlockSequenceFirstEntry,
    BlockSequenceEntry,
    IndentlessSequenceEntry,
    BlockMappingFirstKey,
    BlockMappingKey,
    BlockMappingValue,
    FlowSequenceFirstEntry,
    FlowSequenceEntry,
    FlowSequenceEntryMappingKey,
    FlowSequenceEntryMappingValue,
    FlowSequenceEntryMappingEnd,
    FlowMappingFirstKey,
    FlowMappingKey,
    FlowMappingValue,
    FlowMappingEmptyValue,
    End,
}

/// A token's kind and position, copied out of the scanner's queue.
#[derive(Clone, Copy)]
pub(super) struct Peeked {
    pub kind: TokenKind,
    pub start: Mark,
    pub end: Mark,
}

pub(super) struct Parser<'a> {
    pub(super) scanner: Scanner<'a>,
    pub(super) state: State,
    pub(super) states: Vec<State>,
    pub(super) marks: Vec<Mark>,
    pub(super) tag_directives: Vec<(String, String)>,
    pub(super) head_comment: String,
    line_comment: String,
    foot_comment: String,
    pub(super) stem_comment: Option<String>,
}

impl<'a> Parser<'a> {
    pub fn new(text: &'a str) -> Self {
        Parser {
            scanner: Scanner::new(text),
            state: State::StreamStart,
            states: Vec::new(),
            marks: Vec::new(),
            tag_directives: Vec::new(),
            head_comment: String::new(),
            line_comment: String::new(),
            foot_comment: String::new(),
            stem_comment: None,
        }
    }

    /// The next event; `None` once the stream has ended.
    pub fn next_event(&mut self) -> YResult<Option<Event<'a>>> {
        if self.state == State::End {
            return Ok(None);
        }
        self.state_machine().map(Some)
    }

    pub(super) fn peek(&mut self) -> YResult<Peeked> {
        let t = self.scanner.peek()?;
        let p = Peeked {
            kind: t.kind,
            start: t.start,
            end: t.end,
        };
        self.unfold_comments(p);
        Ok(p)
    }

    pub(super) fn skip(&mut self) {
        self.scanner.skip_token();
    }

    /// Moves the scanned comments positioned up to `token` into the pending comment slots.
    fn unfold_comments(&mut self, token: Peeked) {
        let sc = &mut self.scanner;
        while sc.comments_head < sc.comments.len()
            && token.start.index >= sc.comments[sc.comments_head].token_mark.index
        {
            let c = &mut sc.comments[sc.comments_head];
            if !c.head.is_empty() {
                if token.kind == TokenKind::BlockEnd {
                    // No heads on ends: keep it for the following token.
                    break;
                }
                append_comment(&mut self.head_comment, &c.head);
            }
            if !c.foot.is_empty() {
                append_comment(&mut self.foot_comment, &c.foot);
            }
            if !c.line.is_empty() {
                append_comment(&mut self.line_comment, &c.line);
            }
            *c = Default::default();
            sc.comments_head += 1;
        }
    }

    pub(super) fn set_event_comments(&mut self, event: &mut Event<'a>) {
        event.comments = if self.head_comment.is_empty()
            && self.line_comment.is_empty()
            && self.foot_comment.is_empty()
        {
            None
        } else {
            Some(Box::new(Comments {
                head: std::mem::take(&mut self.head_comment),
                line: std::mem::take(&mut self.line_comment),
                foot: std::mem::take(&mut self.foot_comment),
            }))
        };
        self.stem_comment = None;
    }

    pub(super) fn pop_state(&mut self) {
        self.state = self.states.pop().unwrap_or(State::End);
    }

    fn state_machine(&mut self) -> YResult<Event<'a>> {
        match self.state {
            State::StreamStart => self.parse_stream_start(),
            State::ImplicitDocumentStart => self.parse_document_start(true),
            State::DocumentStart => self.parse_document_start(false),
            State::DocumentContent => self.parse_document_content(),
            State::DocumentEnd => self.parse_document_end(),
            State::BlockNode => self.parse_node(true, false),
            State::BlockSequenceFirstEntry => self.parse_block_sequence_entry(true),
            State::BlockSequenceEntry => self.parse_block_sequence_entry(false),
            State::IndentlessSequenceEntry => self.parse_indentless_sequence_entry(),
            State::BlockMappingFirstKey => self.parse_block_mapping_key(true),
            State::BlockMappingKey => self.parse_block_mapping_key(false),
            State::BlockMappingValue => self.parse_block_mapping_value(),
            State::FlowSequenceFirstEntry => self.parse_flow_sequence_entry(true),
            State::FlowSequenceEntry => self.parse_flow_sequence_entry(false),
            State::FlowSequenceEntryMappingKey => self.parse_flow_sequence_entry_mapping_key(),
            State::FlowSequenceEntryMappingValue => self.parse_flow_sequence_entry_mapping_value(),
            State::FlowSequenceEntryMappingEnd => self.parse_flow_sequence_entry_mapping_end(),
            State::FlowMappingFirstKey => self.parse_flow_mapping_key(true),
            State::FlowMappingKey => self.parse_flow_mapping_key(false),
            State::FlowMappingValue => self.parse_flow_mapping_value(false),
            State::FlowMappingEmptyValue => self.parse_flow_mapping_value(true),
            State::End => Err(YamlError::other(
                "yaml: attempted to go past the end of stream",
            )),
        }
    }

    fn parse_stream_start(&mut self) -> YResult<Event<'a>> {
        let t = self.peek()?;
        if t.kind != TokenKind::StreamStart {
            return Err(YamlError::parser(
                None,
                t.start,
                "did not find expected <stream-start>",
            ));
        }
        self.state = State::ImplicitDocumentStart;
        self.skip();
        Ok(Event::new(EventKind::StreamStart, t.start, t.end))
    }

    fn parse_document_start(&mut self, implicit: bool) -> YResult<Event<'a>> {
        let mut t = self.peek()?;
        if !implicit {
            while t.kind == TokenKind::DocumentEnd {
                self.skip();
                t = self.peek()?;
            }
        }
        let directive_or_start = matches!(
            t.kind,
            TokenKind::VersionDirective
                | TokenKind::TagDirective
                | TokenKind::DocumentStart
                | TokenKind::StreamEnd
        );
        if implicit && !directive_or_start {
            self.process_directives()?;
            self.states.push(State::DocumentEnd);
            self.state = State::BlockNode;
            let mut event = Event::new(EventKind::DocumentStart, t.start, t.end);
            event.implicit = true;
            let head = self.split_document_head();
            if !head.is_empty() {
                event.comments_mut().head = head;
            }
            return Ok(event);
        }
        if t.kind != TokenKind::StreamEnd {
            let start = t.start;
            self.process_directives()?;
            let t = self.peek()?;
            if t.kind != TokenKind::DocumentStart {
                return Err(YamlError::parser(
                    None,
                    t.start,
                    "did not find expected <document start>",
                ));
            }
            self.states.push(State::DocumentEnd);
            self.state = State::DocumentContent;
            self.skip();
            return Ok(Event::new(EventKind::DocumentStart, start, t.end));
        }
        self.state = State::End;
        self.skip();
        Ok(Event::new(EventKind::StreamEnd, t.start, t.end))
    }

    /// sops compat: go-yaml gives an implicit document the part of the pending head comment
    /// before its last blank line; the rest stays for the first node.
    fn split_document_head(&mut self) -> String {
        let hc = self.head_comment.as_bytes();
        let mut i = hc.len().saturating_sub(1);
        while i > 0 {
            if hc[i] == b'\n' {
                if i == hc.len() - 1 {
                    let head = self.head_comment[..i].to_string();
                    self.head_comment = self.head_comment[i + 1..].to_string();
                    return head;
                } else if hc[i - 1] == b'\n' {
                    let head = self.head_comment[..i - 1].to_string();
                    self.head_comment = self.head_comment[i + 1..].to_string();
                    return head;
                }
            }
            i -= 1;
        }
        String::new()
    }

    fn parse_document_content(&mut self) -> YResult<Event<'a>> {
        let t = self.peek()?;
        if matches!(
            t.kind,
            TokenKind::VersionDirective
                | TokenKind::TagDirective
                | TokenKind::DocumentStart
                | TokenKind::DocumentEnd
                | TokenKind::StreamEnd
        ) {
            self.pop_state();
            return Ok(empty_scalar(t.start));
        }
        self.parse_node(true, false)
    }

    fn parse_document_end(&mut self) -> YResult<Event<'a>> {
        let t = self.peek()?;
        let mut event = Event::new(EventKind::DocumentEnd, t.start, t.start);
        event.implicit = true;
        if t.kind == TokenKind::DocumentEnd {
            event.end = t.end;
            self.skip();
            event.implicit = false;
        }
        self.tag_directives.clear();
        self.state = State::DocumentStart;
        self.set_event_comments(&mut event);
        if let Some(c) = event.comments.as_mut()
            && !c.head.is_empty()
            && c.foot.is_empty()
        {
            c.foot = std::mem::take(&mut c.head);
        }
        Ok(event)
    }

    fn process_directives(&mut self) -> YResult<()> {
        let mut seen_version = false;
        loop {
            let t = self.peek()?;
            match t.kind {
                TokenKind::VersionDirective => {
                    let token = self.scanner.take_token();
                    if seen_version {
                        return Err(YamlError::parser(
                            None,
                            t.start,
                            "found duplicate %YAML directive",
                        ));
                    }
                    if token.version != (1, 1) {
                        return Err(YamlError::parser(
                            None,
                            t.start,
                            "found incompatible YAML document",
                        ));
                    }
                    seen_version = true;
                }
                TokenKind::TagDirective => {
                    let token = self.scanner.take_token();
                    let handle = token.value.into_owned();
                    if self.tag_directives.iter().any(|(h, _)| *h == handle) {
                        return Err(YamlError::parser(
                            None,
                            t.start,
                            "found duplicate %TAG directive",
                        ));
                    }
                    self.tag_directives
                        .push((handle, token.suffix.into_owned()));
                }
                _ => break,
            }
        }
        for (h, p) in [("!", "!"), ("!!", "tag:yaml.org,2002:")] {
            if !self.tag_directives.iter().any(|(x, _)| x == h) {
                self.tag_directives.push((h.to_string(), p.to_string()));
            }
        }
        Ok(())
    }
}

pub(super) fn empty_scalar<'a>(mark: Mark) -> Event<'a> {
    let mut e = Event::new(EventKind::Scalar, mark, mark);
    e.implicit = true;
    e
}

fn append_comment(slot: &mut String, text: &str) {
    if !slot.is_empty() {
        slot.push('\n');
    }
    slot.push_str(text);
}
