//! go-yaml v3's event emitter, for the block style sops writes.
//!
//! sops compat: output must match go-yaml byte for byte, including where comments land and
//! when blank lines appear, and that is decided by this state machine's bookkeeping (column,
//! "whitespace", "indention", foot indentation, pending comment slots). The states and their
//! order follow go-yaml's `emitterc.go`; flow style is only used for empty collections.

use super::scalar_style::{Analysis, Style, analyze};
use crate::secret::PlainBuffer;
use crate::store::StoreError;
use std::borrow::Cow;
use std::collections::VecDeque;
use std::ops::Range;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum EvKind {
    StreamStart,
    StreamEnd,
    DocumentStart,
    DocumentEnd,
    SequenceStart,
    SequenceEnd,
    MappingStart,
    MappingEnd,
    Scalar,
}

/// The comment slots of an event, each a whole comment block (`#a\n#b`).
#[derive(Debug, Default)]
pub(super) struct EvComments {
    pub head: String,
    pub line: String,
    pub foot: String,
    pub tail: String,
}

/// An emitter event. Comments are boxed: few events have any.
#[derive(Debug)]
pub(super) struct Ev<'t> {
    pub kind: EvKind,
    pub value: Cow<'t, str>,
    /// Tag suffix under `!!` (`binary`, `merge`), or empty for an implicit scalar.
    pub tag: &'static str,
    pub style: Style,
    /// Precomputed analysis of `value`, to avoid scanning it twice.
    pub analysis: Option<Analysis>,
    pub comments: Option<Box<EvComments>>,
    /// This is the metadata key: record where its line starts.
    pub mark: bool,
}

impl<'t> Ev<'t> {
    pub fn new(kind: EvKind) -> Self {
        Ev {
            kind,
            value: Cow::Borrowed(""),
            tag: "",
            style: Style::Plain,
            analysis: None,
            comments: None,
            mark: false,
        }
    }

    /// The event owning its text.
    pub fn into_static(self) -> Ev<'static> {
        Ev {
            kind: self.kind,
            value: Cow::Owned(self.value.into_owned()),
            tag: self.tag,
            style: self.style,
            analysis: self.analysis,
            comments: self.comments,
            mark: self.mark,
        }
    }

    /// Sets the comment slots, allocating only when there is a comment.
    pub fn set_comments(&mut self, head: String, line: String, foot: String, tail: String) {
        self.comments = if head.is_empty() && line.is_empty() && foot.is_empty() && tail.is_empty()
        {
            None
        } else {
            Some(Box::new(EvComments {
                head,
                line,
                foot,
                tail,
            }))
        };
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum St {
    StreamStart,
    FirstDocumentStart,
    DocumentStart,
    DocumentContent,
    DocumentEnd,
    FlowSequenceFirstItem,
    FlowMappingFirstKey,
    BlockSequenceFirstItem,
    BlockSequenceItem,
    BlockMappingFirstKey,
    BlockMappingKey,
    BlockMappingSimpleValue,
    BlockMappingValue,
    End,
}

/// The emitter: its queue of events (borrowing the tree they come from) and its state.
pub(super) struct Emitter<'t> {
    events: VecDeque<Ev<'t>>,
    st: EmitState,
}

/// Everything of the emitter but its queue of events.
pub(super) struct EmitState {
    pub out: PlainBuffer,
    state: St,
    states: Vec<St>,
    pub(super) indent: isize,
    indents: Vec<isize>,
    pub best_indent: isize,
    flow_level: usize,
    simple_key_context: bool,
    pub line: usize,
    pub column: usize,
    pub whitespace: bool,
    pub indention: bool,
    /// go-yaml's "open ended" flag; only matters with directives, which sops never writes.
    pub open_ended: bool,
    pub(super) foot_indent: isize,
    tag_suffix: &'static str,
    scalar: Analysis,
    style: Style,
    pub(super) head_comment: String,
    pub line_comment: String,
    pub(super) foot_comment: String,
    pub(super) tail_comment: String,
    key_line_comment: String,
    /// Byte ranges of the marked (metadata) blocks, each to the end of its document.
    pub spans: Vec<Range<usize>>,
    span_start: Option<usize>,
}

fn emit_error(msg: &str) -> StoreError {
    StoreError::Emit(format!("Error marshaling to yaml: {msg}"))
}

impl EmitState {
    fn new(indent: isize, capacity: usize) -> Self {
        EmitState {
            out: PlainBuffer::with_capacity(capacity),
            state: St::StreamStart,
            states: Vec::new(),
            indent: -1,
            indents: Vec::new(),
            best_indent: if (2..=9).contains(&indent) { indent } else { 2 },
            flow_level: 0,
            simple_key_context: false,
            line: 0,
            column: 0,
            whitespace: true,
            indention: true,
            open_ended: false,
            foot_indent: -1,
            tag_suffix: "",
            scalar: Analysis::default(),
            style: Style::Plain,
            head_comment: String::new(),
            line_comment: String::new(),
            foot_comment: String::new(),
            tail_comment: String::new(),
            key_line_comment: String::new(),
            spans: Vec::new(),
            span_start: None,
        }
    }

    /// A key's line comment and the current one trade places.
    fn swap_line_comments(&mut self) {
        std::mem::swap(&mut self.line_comment, &mut self.key_line_comment);
    }
}

impl std::ops::Deref for Emitter<'_> {
    type Target = EmitState;
    fn deref(&self) -> &EmitState {
        &self.st
    }
}

impl std::ops::DerefMut for Emitter<'_> {
    fn deref_mut(&mut self) -> &mut EmitState {
        &mut self.st
    }
}

impl<'t> Emitter<'t> {
    /// An emitter with go-yaml's indentation rule: widths outside 2..=9 become 2.
    pub fn new(indent: isize, capacity: usize) -> Self {
        Emitter {
            events: VecDeque::new(),
            st: EmitState::new(indent, capacity),
        }
    }

    /// The emitter with the events still queued owning their text, so it outlives the tree
    /// they came from (`PlainWriter`, between slices; a few events at most).
    pub fn into_static(self) -> Emitter<'static> {
        Emitter {
            events: self.events.into_iter().map(Ev::into_static).collect(),
            st: self.st,
        }
    }

    /// Queues an event and emits what can be emitted.
    pub fn emit(&mut self, ev: Ev<'t>) -> Result<(), StoreError> {
        self.events.push_back(ev);
        while !self.need_more_events() {
            let Some(mut ev) = self.events.pop_front() else {
                break;
            };
            self.analyze_event(&mut ev);
            self.state_machine(&ev)?;
        }
        Ok(())
    }

    /// go-yaml looks ahead one event after a document start, two after a sequence start and
    /// three after a mapping start (to spot empty collections and simple keys).
    fn need_more_events(&self) -> bool {
        let Some(first) = self.events.front() else {
            return true;
        };
        let accumulate = match first.kind {
            EvKind::DocumentStart => 1,
            EvKind::SequenceStart => 2,
            EvKind::MappingStart => 3,
            _ => return false,
        };
        if self.events.len() > accumulate {
            return false;
        }
        let mut level = 0i32;
        for e in &self.events {
            match e.kind {
                EvKind::StreamStart
                | EvKind::DocumentStart
                | EvKind::SequenceStart
                | EvKind::MappingStart => level += 1,
                EvKind::StreamEnd
                | EvKind::DocumentEnd
                | EvKind::SequenceEnd
                | EvKind::MappingEnd => level -= 1,
                EvKind::Scalar => {}
            }
            if level == 0 {
                return false;
            }
        }
        true
    }

    fn analyze_event(&mut self, ev: &mut Ev<'t>) {
        self.tag_suffix = "";
        if let Some(c) = ev.comments.take() {
            let c = *c;
            if !c.head.is_empty() {
                self.head_comment = c.head;
            }
            if !c.line.is_empty() {
                self.line_comment = c.line;
            }
            if !c.foot.is_empty() {
                self.foot_comment = c.foot;
            }
            if !c.tail.is_empty() {
                self.tail_comment = c.tail;
            }
        }
        if ev.kind == EvKind::Scalar {
            self.tag_suffix = ev.tag;
            self.scalar = ev.analysis.unwrap_or_else(|| analyze(&ev.value));
        }
    }

    fn state_machine(&mut self, ev: &Ev<'t>) -> Result<(), StoreError> {
        match self.state {
            St::StreamStart => {
                if ev.kind != EvKind::StreamStart {
                    return Err(emit_error("expected STREAM-START"));
                }
                self.state = St::FirstDocumentStart;
                Ok(())
            }
            St::FirstDocumentStart => self.emit_document_start(ev, true),
            St::DocumentStart => self.emit_document_start(ev, false),
            St::DocumentContent => self.emit_document_content(ev),
            St::DocumentEnd => self.emit_document_end(ev),
            St::FlowSequenceFirstItem => self.emit_flow_end(ev, b"]", EvKind::SequenceEnd),
            St::FlowMappingFirstKey => self.emit_flow_end(ev, b"}", EvKind::MappingEnd),
            St::BlockSequenceFirstItem => self.emit_block_sequence_item(ev, true),
            St::BlockSequenceItem => self.emit_block_sequence_item(ev, false),
            St::BlockMappingFirstKey => self.emit_block_mapping_key(ev, true),
            St::BlockMappingKey => self.emit_block_mapping_key(ev, false),
            St::BlockMappingSimpleValue => self.emit_block_mapping_value(ev, true),
            St::BlockMappingValue => self.emit_block_mapping_value(ev, false),
            St::End => Err(emit_error("expected nothing after STREAM-END")),
        }
    }

    /// Whether the current scalar is all ASCII.
    pub(super) fn scalar_ascii(&self) -> bool {
        self.scalar.ascii
    }

    fn pop_state(&mut self) {
        self.state = self.states.pop().unwrap_or(St::End);
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        let indent = self.indent;
        self.indents.push(indent);
        if self.indent < 0 {
            self.indent = if flow { self.best_indent } else { 0 };
        } else if !indentless {
            if self.states.last() == Some(&St::BlockSequenceItem) {
                // The first indentation inside a sequence just skips the "- " indicator.
                self.indent += 2;
            } else {
                let b = self.best_indent;
                self.indent = b * ((self.indent + b) / b);
            }
        }
    }

    fn emit_document_start(&mut self, ev: &Ev<'t>, first: bool) -> Result<(), StoreError> {
        match ev.kind {
            EvKind::DocumentStart => {
                if !first {
                    self.write_indent();
                    self.write_indicator(b"---", true, false, false);
                    self.write_indent();
                }
                if !self.head_comment.is_empty() {
                    self.process_head_comment();
                    self.put_break();
                }
                self.state = St::DocumentContent;
                Ok(())
            }
            EvKind::StreamEnd => {
                self.state = St::End;
                Ok(())
            }
            _ => Err(emit_error("expected DOCUMENT-START or STREAM-END")),
        }
    }

    fn emit_document_content(&mut self, ev: &Ev<'t>) -> Result<(), StoreError> {
        self.states.push(St::DocumentEnd);
        self.process_head_comment();
        self.emit_node(ev, false)?;
        self.process_line_comment(false);
        self.process_foot_comment();
        Ok(())
    }

    fn emit_document_end(&mut self, ev: &Ev<'t>) -> Result<(), StoreError> {
        if ev.kind != EvKind::DocumentEnd {
            return Err(emit_error("expected DOCUMENT-END"));
        }
        // go-yaml forces a separation before the document's foot comment.
        self.foot_indent = 0;
        self.process_foot_comment();
        self.foot_indent = -1;
        self.write_indent();
        self.state = St::DocumentStart;
        if let Some(start) = self.span_start.take() {
            let end = self.out.len();
            self.spans.push(start..end);
        }
        Ok(())
    }

    /// The end of an empty flow collection (`{}` or `[]`) whose start was just written.
    fn emit_flow_end(&mut self, ev: &Ev<'t>, close: &[u8], end: EvKind) -> Result<(), StoreError> {
        let open: &[u8] = if close == b"]" { b"[" } else { b"{" };
        self.write_indicator(open, true, true, false);
        self.increase_indent(true, false);
        self.flow_level += 1;
        if ev.kind != end {
            return Err(emit_error("non-empty collection in flow style"));
        }
        if end == EvKind::MappingEnd {
            self.process_head_comment();
        }
        self.flow_level -= 1;
        self.pop_indent();
        if end == EvKind::SequenceEnd && self.column == 0 {
            self.write_indent();
        }
        self.write_indicator(close, false, false, false);
        self.process_line_comment(false);
        self.process_foot_comment();
        self.pop_state();
        Ok(())
    }

    fn emit_block_sequence_item(&mut self, ev: &Ev<'t>, first: bool) -> Result<(), StoreError> {
        if first {
            self.increase_indent(false, false);
        }
        if ev.kind == EvKind::SequenceEnd {
            self.pop_indent();
            self.pop_state();
            return Ok(());
        }
        self.process_head_comment();
        self.write_indent();
        self.write_indicator(b"-", true, false, true);
        self.states.push(St::BlockSequenceItem);
        self.emit_node(ev, false)?;
        self.process_line_comment(false);
        self.process_foot_comment();
        Ok(())
    }

    fn emit_block_mapping_key(&mut self, ev: &Ev<'t>, first: bool) -> Result<(), StoreError> {
        if first {
            self.increase_indent(false, false);
        }
        self.process_head_comment();
        if ev.kind == EvKind::MappingEnd {
            self.pop_indent();
            self.pop_state();
            return Ok(());
        }
        self.write_indent();
        if ev.mark {
            self.span_start = Some(self.out.len() - self.column);
        }
        if !self.line_comment.is_empty() {
            self.key_line_comment = std::mem::take(&mut self.line_comment);
        }
        if self.check_simple_key(ev) {
            self.states.push(St::BlockMappingSimpleValue);
            self.emit_node(ev, true)
        } else {
            self.write_indicator(b"?", true, false, true);
            self.states.push(St::BlockMappingValue);
            self.emit_node(ev, false)
        }
    }

    fn emit_block_mapping_value(&mut self, ev: &Ev<'t>, simple: bool) -> Result<(), StoreError> {
        if simple {
            self.write_indicator(b":", false, false, false);
        } else {
            self.write_indent();
            self.write_indicator(b":", true, false, true);
        }
        if !self.key_line_comment.is_empty() {
            match ev.kind {
                // A scalar takes the key's comment unless it has its own (then it is lost).
                EvKind::Scalar if self.line_comment.is_empty() => {
                    self.line_comment = std::mem::take(&mut self.key_line_comment);
                }
                EvKind::MappingStart | EvKind::SequenceStart => {
                    // An indented block follows: write the key's comment now.
                    self.st.swap_line_comments();
                    self.process_line_comment(false);
                    self.st.swap_line_comments();
                }
                _ => {}
            }
        }
        self.states.push(St::BlockMappingKey);
        self.emit_node(ev, false)?;
        self.process_line_comment(false);
        self.process_foot_comment();
        Ok(())
    }

    fn emit_node(&mut self, ev: &Ev<'t>, simple_key: bool) -> Result<(), StoreError> {
        self.simple_key_context = simple_key;
        match ev.kind {
            EvKind::Scalar => {
                self.select_scalar_style(ev);
                if !self.tag_suffix.is_empty() {
                    self.write_tag(self.tag_suffix);
                }
                self.increase_indent(true, false);
                match self.style {
                    Style::Plain => self.write_plain(&ev.value),
                    Style::SingleQuoted => self.write_single_quoted(&ev.value),
                    Style::DoubleQuoted => self.write_double_quoted(&ev.value),
                    Style::Literal => self.write_literal(&ev.value),
                }
                self.pop_indent();
                self.pop_state();
                Ok(())
            }
            EvKind::SequenceStart => {
                self.state = if self.flow_level > 0 || self.next_is(EvKind::SequenceEnd) {
                    St::FlowSequenceFirstItem
                } else {
                    St::BlockSequenceFirstItem
                };
                Ok(())
            }
            EvKind::MappingStart => {
                self.state = if self.flow_level > 0 || self.next_is(EvKind::MappingEnd) {
                    St::FlowMappingFirstKey
                } else {
                    St::BlockMappingFirstKey
                };
                Ok(())
            }
            _ => Err(emit_error(
                "expected SCALAR, SEQUENCE-START, MAPPING-START, or ALIAS",
            )),
        }
    }

    fn next_is(&self, kind: EvKind) -> bool {
        self.events.front().is_some_and(|e| e.kind == kind)
    }

    fn check_simple_key(&self, ev: &Ev<'t>) -> bool {
        let tag_len = if self.tag_suffix.is_empty() {
            0
        } else {
            2 + self.tag_suffix.len()
        };
        let length = match ev.kind {
            EvKind::Scalar => {
                if self.scalar.multiline {
                    return false;
                }
                tag_len + ev.value.len()
            }
            EvKind::SequenceStart if self.next_is(EvKind::SequenceEnd) => 0,
            EvKind::MappingStart if self.next_is(EvKind::MappingEnd) => 0,
            _ => return false,
        };
        length <= 128
    }

    fn select_scalar_style(&mut self, ev: &Ev<'t>) {
        let mut style = ev.style;
        let a = self.scalar;
        if self.simple_key_context && a.multiline {
            style = Style::DoubleQuoted;
        }
        if style == Style::Plain {
            if !a.block_plain_allowed {
                style = Style::SingleQuoted;
            }
            if ev.value.is_empty() && (self.flow_level > 0 || self.simple_key_context) {
                style = Style::SingleQuoted;
            }
        }
        if style == Style::SingleQuoted && !a.single_quoted_allowed {
            style = Style::DoubleQuoted;
        }
        if style == Style::Literal
            && (!a.block_allowed || self.flow_level > 0 || self.simple_key_context)
        {
            style = Style::DoubleQuoted;
        }
        self.style = style;
    }
}
