//! The node and collection productions of the parser: properties, scalars, block and flow
//! sequences and mappings (go-yaml's `yaml_parser_parse_node` and the collection states).

use super::error::{Mark, YResult, YamlError};
use super::parser::{Event, EventKind, Parser, Props, State, empty_scalar};
use super::scanner::{ScalarStyle, TokenKind};
use std::borrow::Cow;

impl<'a> Parser<'a> {
    pub(super) fn parse_node(&mut self, block: bool, indentless: bool) -> YResult<Event<'a>> {
        let mut t = self.peek()?;
        if t.kind == TokenKind::Alias {
            self.pop_state();
            let token = self.scanner.take_token();
            let mut event = Event::new(EventKind::Alias, t.start, t.end);
            event.value = token.value;
            self.set_event_comments(&mut event);
            return Ok(event);
        }

        let mut start = t.start;
        let mut end = t.start;
        let mut anchor: Cow<'a, str> = Cow::Borrowed("");
        let mut tag_parts: Option<(Cow<'a, str>, Cow<'a, str>, Mark)> = None;
        for _ in 0..2 {
            match t.kind {
                TokenKind::Anchor if anchor.is_empty() => {
                    if tag_parts.is_none() {
                        start = t.start;
                    }
                    end = t.end;
                    anchor = self.scanner.take_token().value;
                }
                TokenKind::Tag if tag_parts.is_none() => {
                    if anchor.is_empty() {
                        start = t.start;
                    }
                    end = t.end;
                    let token = self.scanner.take_token();
                    tag_parts = Some((token.value, token.suffix, t.start));
                }
                _ => break,
            }
            t = self.peek()?;
        }

        let tag: Cow<'a, str> = match tag_parts {
            None => Cow::Borrowed(""),
            Some((handle, suffix, _)) if handle.is_empty() => suffix,
            Some((handle, suffix, tag_mark)) => {
                match self.tag_directives.iter().find(|(h, _)| *h == handle) {
                    Some((_, prefix)) => Cow::Owned(format!("{prefix}{suffix}")),
                    None => {
                        return Err(YamlError::parser(
                            Some(start),
                            tag_mark,
                            "found undefined tag handle",
                        ));
                    }
                }
            }
        };
        let implicit = tag.is_empty();

        let has_props = !anchor.is_empty() || !tag.is_empty();
        let mut props = has_props.then(|| Box::new(Props { anchor, tag }));
        let mut event = |kind, end| {
            let mut e = Event::new(kind, start, end);
            e.props = props.take();
            e.implicit = implicit;
            e
        };
        if indentless && t.kind == TokenKind::BlockEntry {
            self.state = State::IndentlessSequenceEntry;
            return Ok(event(EventKind::SequenceStart, t.end));
        }
        match t.kind {
            TokenKind::Scalar => {
                let token = self.scanner.take_token();
                let mut e = event(EventKind::Scalar, t.end);
                let tag = e.tag();
                e.implicit = (tag.is_empty() && token.style == ScalarStyle::Plain) || tag == "!";
                e.style = token.style;
                e.value = token.value;
                self.pop_state();
                self.set_event_comments(&mut e);
                Ok(e)
            }
            TokenKind::FlowSequenceStart | TokenKind::FlowMappingStart => {
                let seq = t.kind == TokenKind::FlowSequenceStart;
                let mut e = event(
                    if seq {
                        EventKind::SequenceStart
                    } else {
                        EventKind::MappingStart
                    },
                    t.end,
                );
                e.flow = true;
                self.state = if seq {
                    State::FlowSequenceFirstEntry
                } else {
                    State::FlowMappingFirstKey
                };
                self.set_event_comments(&mut e);
                Ok(e)
            }
            TokenKind::BlockSequenceStart | TokenKind::BlockMappingStart if block => {
                let seq = t.kind == TokenKind::BlockSequenceStart;
                let mut e = event(
                    if seq {
                        EventKind::SequenceStart
                    } else {
                        EventKind::MappingStart
                    },
                    t.end,
                );
                self.state = if seq {
                    State::BlockSequenceFirstEntry
                } else {
                    State::BlockMappingFirstKey
                };
                if let Some(stem) = self.stem_comment.take() {
                    e.comments_mut().head = stem;
                }
                Ok(e)
            }
            _ if has_props => {
                self.pop_state();
                Ok(event(EventKind::Scalar, end))
            }
            _ => Err(YamlError::parser(
                Some(start),
                t.start,
                "did not find expected node content",
            )),
        }
    }

    /// sops compat: a comment written before a `-` whose entry starts a nested block
    /// collection becomes the head of that collection (go-yaml's "stem" comment).
    fn split_stem_comment(&mut self, stem_len: usize) -> YResult<()> {
        if stem_len == 0 {
            return Ok(());
        }
        let t = self.peek()?;
        if !matches!(
            t.kind,
            TokenKind::BlockSequenceStart | TokenKind::BlockMappingStart
        ) {
            return Ok(());
        }
        let rest = if self.head_comment.len() == stem_len {
            String::new()
        } else {
            self.head_comment[stem_len + 1..].to_string()
        };
        self.head_comment.truncate(stem_len);
        self.stem_comment = Some(std::mem::replace(&mut self.head_comment, rest));
        Ok(())
    }

    pub(super) fn parse_block_sequence_entry(&mut self, first: bool) -> YResult<Event<'a>> {
        if first {
            let t = self.peek()?;
            self.marks.push(t.start);
            self.skip();
        }
        let t = self.peek()?;
        match t.kind {
            TokenKind::BlockEntry => {
                let prior_head_len = self.head_comment.len();
                self.skip();
                self.split_stem_comment(prior_head_len)?;
                let n = self.peek()?;
                if !matches!(n.kind, TokenKind::BlockEntry | TokenKind::BlockEnd) {
                    self.states.push(State::BlockSequenceEntry);
                    self.parse_node(true, false)
                } else {
                    self.state = State::BlockSequenceEntry;
                    Ok(empty_scalar(t.end))
                }
            }
            TokenKind::BlockEnd => {
                self.pop_state();
                self.marks.pop();
                self.skip();
                Ok(Event::new(EventKind::SequenceEnd, t.start, t.end))
            }
            _ => {
                let context = self.marks.pop();
                Err(YamlError::parser(
                    context,
                    t.start,
                    "did not find expected '-' indicator",
                ))
            }
        }
    }

    pub(super) fn parse_indentless_sequence_entry(&mut self) -> YResult<Event<'a>> {
        let t = self.peek()?;
        if t.kind == TokenKind::BlockEntry {
            let prior_head_len = self.head_comment.len();
            self.skip();
            self.split_stem_comment(prior_head_len)?;
            let n = self.peek()?;
            if !matches!(
                n.kind,
                TokenKind::BlockEntry | TokenKind::Key | TokenKind::Value | TokenKind::BlockEnd
            ) {
                self.states.push(State::IndentlessSequenceEntry);
                return self.parse_node(true, false);
            }
            self.state = State::IndentlessSequenceEntry;
            return Ok(empty_scalar(t.end));
        }
        self.pop_state();
        Ok(Event::new(EventKind::SequenceEnd, t.start, t.start))
    }

    pub(super) fn parse_block_mapping_key(&mut self, first: bool) -> YResult<Event<'a>> {
        if first {
            let t = self.peek()?;
            self.marks.push(t.start);
            self.skip();
        }
        let t = self.peek()?;
        match t.kind {
            TokenKind::Key => {
                self.skip();
                let n = self.peek()?;
                if !matches!(
                    n.kind,
                    TokenKind::Key | TokenKind::Value | TokenKind::BlockEnd
                ) {
                    self.states.push(State::BlockMappingValue);
                    self.parse_node(true, true)
                } else {
                    self.state = State::BlockMappingValue;
                    Ok(empty_scalar(t.end))
                }
            }
            TokenKind::BlockEnd => {
                self.pop_state();
                self.marks.pop();
                let mut e = Event::new(EventKind::MappingEnd, t.start, t.end);
                self.set_event_comments(&mut e);
                self.skip();
                Ok(e)
            }
            _ => {
                let context = self.marks.pop();
                Err(YamlError::parser(
                    context,
                    t.start,
                    "did not find expected key",
                ))
            }
        }
    }

    pub(super) fn parse_block_mapping_value(&mut self) -> YResult<Event<'a>> {
        let t = self.peek()?;
        if t.kind == TokenKind::Value {
            self.skip();
            let n = self.peek()?;
            if !matches!(
                n.kind,
                TokenKind::Key | TokenKind::Value | TokenKind::BlockEnd
            ) {
                self.states.push(State::BlockMappingKey);
                return self.parse_node(true, true);
            }
            self.state = State::BlockMappingKey;
            return Ok(empty_scalar(t.end));
        }
        self.state = State::BlockMappingKey;
        Ok(empty_scalar(t.start))
    }

    pub(super) fn parse_flow_sequence_entry(&mut self, first: bool) -> YResult<Event<'a>> {
        if first {
            let t = self.peek()?;
            self.marks.push(t.start);
            self.skip();
        }
        let mut t = self.peek()?;
        if t.kind != TokenKind::FlowSequenceEnd {
            if !first {
                if t.kind == TokenKind::FlowEntry {
                    self.skip();
                    t = self.peek()?;
                } else {
                    let context = self.marks.pop();
                    return Err(YamlError::parser(
                        context,
                        t.start,
                        "did not find expected ',' or ']'",
                    ));
                }
            }
            if t.kind == TokenKind::Key {
                self.state = State::FlowSequenceEntryMappingKey;
                let mut e = Event::new(EventKind::MappingStart, t.start, t.end);
                e.implicit = true;
                e.flow = true;
                self.skip();
                return Ok(e);
            } else if t.kind != TokenKind::FlowSequenceEnd {
                self.states.push(State::FlowSequenceEntry);
                return self.parse_node(false, false);
            }
        }
        self.pop_state();
        self.marks.pop();
        let mut e = Event::new(EventKind::SequenceEnd, t.start, t.end);
        self.set_event_comments(&mut e);
        self.skip();
        Ok(e)
    }

    pub(super) fn parse_flow_sequence_entry_mapping_key(&mut self) -> YResult<Event<'a>> {
        let t = self.peek()?;
        if !matches!(
            t.kind,
            TokenKind::Value | TokenKind::FlowEntry | TokenKind::FlowSequenceEnd
        ) {
            self.states.push(State::FlowSequenceEntryMappingValue);
            return self.parse_node(false, false);
        }
        self.skip();
        self.state = State::FlowSequenceEntryMappingValue;
        Ok(empty_scalar(t.end))
    }

    pub(super) fn parse_flow_sequence_entry_mapping_value(&mut self) -> YResult<Event<'a>> {
        let mut t = self.peek()?;
        if t.kind == TokenKind::Value {
            self.skip();
            t = self.peek()?;
            if !matches!(t.kind, TokenKind::FlowEntry | TokenKind::FlowSequenceEnd) {
                self.states.push(State::FlowSequenceEntryMappingEnd);
                return self.parse_node(false, false);
            }
        }
        self.state = State::FlowSequenceEntryMappingEnd;
        Ok(empty_scalar(t.start))
    }

    pub(super) fn parse_flow_sequence_entry_mapping_end(&mut self) -> YResult<Event<'a>> {
        let t = self.peek()?;
        self.state = State::FlowSequenceEntry;
        Ok(Event::new(EventKind::MappingEnd, t.start, t.start))
    }

    pub(super) fn parse_flow_mapping_key(&mut self, first: bool) -> YResult<Event<'a>> {
        if first {
            let t = self.peek()?;
            self.marks.push(t.start);
            self.skip();
        }
        let mut t = self.peek()?;
        if t.kind != TokenKind::FlowMappingEnd {
            if !first {
                if t.kind == TokenKind::FlowEntry {
                    self.skip();
                    t = self.peek()?;
                } else {
                    let context = self.marks.pop();
                    return Err(YamlError::parser(
                        context,
                        t.start,
                        "did not find expected ',' or '}'",
                    ));
                }
            }
            if t.kind == TokenKind::Key {
                self.skip();
                let n = self.peek()?;
                if !matches!(
                    n.kind,
                    TokenKind::Value | TokenKind::FlowEntry | TokenKind::FlowMappingEnd
                ) {
                    self.states.push(State::FlowMappingValue);
                    return self.parse_node(false, false);
                }
                self.state = State::FlowMappingValue;
                return Ok(empty_scalar(n.start));
            } else if t.kind != TokenKind::FlowMappingEnd {
                self.states.push(State::FlowMappingEmptyValue);
                return self.parse_node(false, false);
            }
        }
        self.pop_state();
        self.marks.pop();
        let mut e = Event::new(EventKind::MappingEnd, t.start, t.end);
        self.set_event_comments(&mut e);
        self.skip();
        Ok(e)
    }

    pub(super) fn parse_flow_mapping_value(&mut self, empty: bool) -> YResult<Event<'a>> {
        let mut t = self.peek()?;
        if empty {
            self.state = State::FlowMappingKey;
            return Ok(empty_scalar(t.start));
        }
        if t.kind == TokenKind::Value {
            self.skip();
            t = self.peek()?;
            if !matches!(t.kind, TokenKind::FlowEntry | TokenKind::FlowMappingEnd) {
                self.states.push(State::FlowMappingKey);
                return self.parse_node(false, false);
            }
        }
        self.state = State::FlowMappingKey;
        Ok(empty_scalar(t.start))
    }
}
