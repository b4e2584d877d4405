//! The YAML scanner: bytes to tokens, with go-yaml's indentation, simple-key and comment rules.
//!
//! sesame must read comments exactly where go-yaml (and so sops) puts them, and go-yaml decides
//! that inside its scanner, from token positions, blank lines and columns. This scanner therefore
//! follows go-yaml v3's token model and lookahead closely; scalars, properties and comments are
//! scanned in the sibling modules `scan_scalar`, `scan_props` and `scan_comment`.

use super::chars::{at, char_count, is_blank, is_blankz, is_break, width};
use super::error::{Mark, YResult, YamlError};
use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// go-yaml's limits on nesting, against stack exhaustion.
pub(super) const MAX_INDENTS: usize = 10_000;
pub(super) const MAX_FLOW_LEVEL: usize = 10_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TokenKind {
    StreamStart,
    StreamEnd,
    VersionDirective,
    TagDirective,
    DocumentStart,
    DocumentEnd,
    BlockSequenceStart,
    BlockMappingStart,
    BlockEnd,
    FlowSequenceStart,
    FlowSequenceEnd,
    FlowMappingStart,
    FlowMappingEnd,
    BlockEntry,
    FlowEntry,
    Key,
    Value,
    Alias,
    Anchor,
    Tag,
    Scalar,
}

/// How a scalar was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ScalarStyle {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

/// One token. `value` holds a scalar's text, an anchor's name, a tag's handle or a %TAG
/// handle; `suffix` a tag's suffix or a %TAG prefix.
#[derive(Clone, Debug)]
pub(super) struct Token<'a> {
    pub kind: TokenKind,
    pub start: Mark,
    pub end: Mark,
    pub value: Cow<'a, str>,
    pub suffix: Cow<'a, str>,
    pub style: ScalarStyle,
    /// `%YAML` version (major, minor).
    pub version: (u32, u32),
}

impl<'a> Token<'a> {
    pub fn new(kind: TokenKind, start: Mark, end: Mark) -> Self {
        Token {
            kind,
            start,
            end,
            value: Cow::Borrowed(""),
            suffix: Cow::Borrowed(""),
            style: ScalarStyle::Plain,
            version: (0, 0),
        }
    }
}

/// The payload of a token, handed to the parser.
pub(super) struct TokenData<'a> {
    pub value: Cow<'a, str>,
    pub suffix: Cow<'a, str>,
    pub style: ScalarStyle,
    pub version: (u32, u32),
}

/// A block of comment lines as go-yaml's scanner records it. Exactly one of `head`, `line`
/// and `foot` is non-empty; lines are joined with `\n` and keep their `#`.
#[derive(Clone, Debug, Default)]
pub(super) struct CommentRec {
    pub scan_mark: Mark,
    pub token_mark: Mark,
    pub start_mark: Mark,
    pub end_mark: Mark,
    pub head: String,
    pub line: String,
    pub foot: String,
}

/// A cheap hasher for token numbers (small sequential integers).
#[derive(Default)]
pub(super) struct TokenHasher(u64);

impl Hasher for TokenHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.0 = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub(super) struct SimpleKey {
    pub possible: bool,
    pub required: bool,
    pub token_number: usize,
    pub mark: Mark,
}

/// The scanner state. Fields are shared with the sibling scanning modules.
pub(super) struct Scanner<'a> {
    pub text: &'a str,
    pub src: &'a [u8],
    pub pos: usize,
    pub line: usize,
    pub column: usize,
    /// Line breaks since the last non-blank character (go-yaml's `newlines`).
    pub newlines: usize,
    /// Produced tokens; `tokens[head..]` are not yet consumed by the parser.
    pub tokens: Vec<Token<'a>>,
    pub head: usize,
    pub tokens_parsed: usize,
    pub token_available: bool,
    pub(super) stream_start_produced: bool,
    pub(super) stream_end_fetched: bool,
    pub indent: isize,
    pub(super) indents: Vec<isize>,
    pub simple_key_allowed: bool,
    pub(super) simple_keys: Vec<SimpleKey>,
    pub(super) simple_keys_by_tok: HashMap<usize, usize, BuildHasherDefault<TokenHasher>>,
    pub flow_level: usize,
    /// Scanned comments; `comments[comments_head..]` are not yet handed to the parser.
    pub comments: Vec<CommentRec>,
    pub comments_head: usize,
    /// Reusable line-break buffers for scalar scanning.
    pub break_buffers: (String, String),
}

impl<'a> Scanner<'a> {
    pub fn new(text: &'a str) -> Self {
        Scanner {
            text,
            src: text.as_bytes(),
            pos: 0,
            line: 0,
            column: 0,
            newlines: 0,
            tokens: Vec::new(),
            head: 0,
            tokens_parsed: 0,
            token_available: false,
            stream_start_produced: false,
            stream_end_fetched: false,
            indent: -1,
            indents: Vec::new(),
            simple_key_allowed: false,
            simple_keys: Vec::new(),
            simple_keys_by_tok: HashMap::default(),
            flow_level: 0,
            comments: Vec::new(),
            comments_head: 0,
            break_buffers: (String::new(), String::new()),
        }
    }

    // ---- cursor -------------------------------------------------------------------------

    #[inline]
    pub fn mark(&self) -> Mark {
        Mark::new(self.pos, self.line, self.column)
    }

    /// The byte `off` bytes ahead (0 at the end).
    #[inline]
    pub fn ch(&self, off: usize) -> u8 {
        at(self.src, self.pos + off)
    }

    /// Advances over one character that is not a line break.
    #[inline]
    pub fn skip(&mut self) {
        if !is_blank(self.src, self.pos) {
            self.newlines = 0;
        }
        self.pos += width(self.ch(0));
        self.column += 1;
    }

    /// Advances over one line break (CRLF counts as one).
    #[inline]
    pub fn skip_line(&mut self) {
        if self.ch(0) == b'\r' && self.ch(1) == b'\n' {
            self.pos += 2;
        } else if is_break(self.src, self.pos) {
            self.pos += width(self.ch(0));
        } else {
            return;
        }
        self.column = 0;
        self.line += 1;
        self.newlines += 1;
    }

    /// Advances over a line break, appending its normalized form (`\n`, or LS/PS kept).
    pub fn read_line(&mut self, out: &mut String) {
        let c = self.ch(0);
        let n = if c == b'\r' && self.ch(1) == b'\n' {
            out.push('\n');
            2
        } else if c == b'\r' || c == b'\n' {
            out.push('\n');
            1
        } else if c == 0xC2 && self.ch(1) == 0x85 {
            out.push('\n');
            2
        } else if c == 0xE2 && self.ch(1) == 0x80 && matches!(self.ch(2), 0xA8 | 0xA9) {
            out.push_str(&self.text[self.pos..self.pos + 3]);
            3
        } else {
            return;
        };
        self.pos += n;
        self.column = 0;
        self.line += 1;
        self.newlines += 1;
    }

    /// Advances over `end - pos` bytes of non-break content on the current line.
    #[inline]
    pub fn advance_to(&mut self, end: usize) {
        let run = &self.src[self.pos..end];
        if run.iter().any(|&c| c != b' ' && c != b'\t') {
            self.newlines = 0;
        }
        self.column += char_count(run);
        self.pos = end;
    }

    /// Advances over non-blank content on the current line.
    #[inline]
    pub fn advance_content(&mut self, end: usize) {
        self.newlines = 0;
        self.column += char_count(&self.src[self.pos..end]);
        self.pos = end;
    }

    /// Whether more than `limit` characters separate byte offsets `from` and `to`.
    pub(super) fn chars_exceed(&self, from: usize, to: usize, limit: usize) -> bool {
        if to.saturating_sub(from) <= limit {
            return false;
        }
        // At most 4 bytes a character, so looking at 4 * (limit + 1) bytes is enough.
        let end = to.min(from + 4 * (limit + 1));
        char_count(&self.src[from..end]) > limit
    }

    pub fn error(&self, context_mark: Mark, problem: &str) -> Box<YamlError> {
        YamlError::scanner(context_mark, self.mark(), problem)
    }

    // ---- token queue --------------------------------------------------------------------

    /// Makes sure the next token is available and returns it.
    pub fn peek(&mut self) -> YResult<&Token<'a>> {
        if !self.token_available {
            self.fetch_more_tokens()?;
        }
        Ok(&self.tokens[self.head])
    }

    /// Consumes the token returned by `peek`.
    pub fn skip_token(&mut self) {
        self.token_available = false;
        self.tokens_parsed += 1;
        self.head += 1;
        // Keep the queue short; go-yaml looks back at the last two tokens, so keep those.
        if self.head > 32 {
            let drop = self.head.min(self.tokens.len().saturating_sub(2));
            self.tokens.drain(..drop);
            self.head -= drop;
        }
        if self.comments_head > 256 && self.comments_head == self.comments.len() {
            self.comments.clear();
            self.comments_head = 0;
        }
    }

    /// Takes the data of the next token (after `peek`) and consumes it. The token stays in
    /// the queue (kind and marks) because the comment scanner looks back at recent tokens.
    pub fn take_token(&mut self) -> TokenData<'a> {
        let t = &mut self.tokens[self.head];
        let data = TokenData {
            value: std::mem::take(&mut t.value),
            suffix: std::mem::take(&mut t.suffix),
            style: t.style,
            version: t.version,
        };
        self.skip_token();
        data
    }

    pub(super) fn insert_token(&mut self, at_pos: Option<usize>, token: Token<'a>) {
        match at_pos {
            None => self.tokens.push(token),
            Some(p) => {
                let at = (self.head + p).min(self.tokens.len());
                self.tokens.insert(at, token)
            }
        }
    }

    pub fn push_token(&mut self, token: Token<'a>) {
        self.tokens.push(token);
    }

    fn fetch_more_tokens(&mut self) -> YResult<()> {
        loop {
            // go-yaml keeps two tokens of lookahead so that comments following a token are
            // scanned before the token is handed out, and more while a simple key is open.
            if self.head + 2 < self.tokens.len() {
                match self.simple_keys_by_tok.get(&self.tokens_parsed) {
                    None => break,
                    Some(&i) => {
                        if !self.simple_key_is_valid(i)? {
                            break;
                        }
                    }
                }
            }
            if self.stream_end_fetched {
                break;
            }
            self.fetch_next_token()?;
        }
        self.token_available = true;
        Ok(())
    }

    fn fetch_next_token(&mut self) -> YResult<()> {
        if !self.stream_start_produced {
            self.indent = -1;
            self.simple_keys.push(SimpleKey::default());
            self.simple_key_allowed = true;
            self.stream_start_produced = true;
            let m = self.mark();
            self.push_token(Token::new(TokenKind::StreamStart, m, m));
            return Ok(());
        }
        let scan_mark = self.mark();
        self.scan_to_next_token()?;
        self.unroll_indent(self.column as isize, scan_mark);

        let c = self.ch(0);
        if c == 0 {
            return self.fetch_stream_end();
        }
        if self.column == 0 {
            if c == b'%' {
                return self.fetch_directive();
            }
            let three = &self.src[self.pos..(self.pos + 3).min(self.src.len())];
            if (three == b"---" || three == b"...") && is_blankz(self.src, self.pos + 3) {
                let kind = if c == b'-' {
                    TokenKind::DocumentStart
                } else {
                    TokenKind::DocumentEnd
                };
                return self.fetch_document_indicator(kind);
            }
        }

        let mut comment_mark = self.mark();
        if (self.flow_level == 0 && c == b':') || (self.flow_level > 0 && c == b',') {
            // Comments after `:` or `,` belong to the token before it.
            if let Some(t) = self.tokens.last() {
                comment_mark = t.start;
            }
        }
        self.fetch_by_indicator(c)?;
        if self.tokens.last().map(|t| t.kind) != Some(TokenKind::BlockEntry) {
            // A `-` alone has no line comment; it becomes a head of what follows.
            self.scan_line_comment(comment_mark)?;
        }
        Ok(())
    }

    fn fetch_by_indicator(&mut self, c: u8) -> YResult<()> {
        let next_blankz = is_blankz(self.src, self.pos + 1);
        match c {
            b'[' => self.fetch_flow_collection_start(TokenKind::FlowSequenceStart),
            b'{' => self.fetch_flow_collection_start(TokenKind::FlowMappingStart),
            b']' => self.fetch_flow_collection_end(TokenKind::FlowSequenceEnd),
            b'}' => self.fetch_flow_collection_end(TokenKind::FlowMappingEnd),
            b',' => self.fetch_flow_entry(),
            b'-' if next_blankz => self.fetch_block_entry(),
            b'?' if self.flow_level > 0 || next_blankz => self.fetch_key(),
            b':' if self.flow_level > 0 || next_blankz => self.fetch_value(),
            b'*' => self.fetch_anchor(TokenKind::Alias),
            b'&' => self.fetch_anchor(TokenKind::Anchor),
            b'!' => self.fetch_tag(),
            b'|' if self.flow_level == 0 => self.fetch_block_scalar(true),
            b'>' if self.flow_level == 0 => self.fetch_block_scalar(false),
            b'\'' => self.fetch_flow_scalar(true),
            b'"' => self.fetch_flow_scalar(false),
            _ => {
                let plain = !(is_blankz(self.src, self.pos)
                    || matches!(
                        c,
                        b'-' | b'?'
                            | b':'
                            | b','
                            | b'['
                            | b']'
                            | b'{'
                            | b'}'
                            | b'#'
                            | b'&'
                            | b'*'
                            | b'!'
                            | b'|'
                            | b'>'
                            | b'\''
                            | b'"'
                            | b'%'
                            | b'@'
                            | b'`'
                    ))
                    || (c == b'-' && !is_blank(self.src, self.pos + 1))
                    || (self.flow_level == 0 && (c == b'?' || c == b':') && !next_blankz);
                if plain {
                    self.fetch_plain_scalar()
                } else {
                    Err(self.error(self.mark(), "found character that cannot start any token"))
                }
            }
        }
    }
}
