//! JSON reader with the token semantics of Go's `json.Decoder.Token`, as sops's JSON store drives
//! it: the same accepted inputs, the same silent truncations at end of input, the same errors.

use super::MAX_DEPTH;
use super::scan::{self, quote_char};
use crate::secret::SecretBuf;
use crate::tree::{Entry, List, ListItem, Map, MapItem, Node, Scalar};
use std::ops::Range;

/// Where one object member sits in the input.
#[derive(Debug, Clone)]
pub(super) struct MemberSpan {
    /// From the key's opening quote.
    pub key_start: usize,
    /// The value token (quotes included); ends after the closing `}`/`]` of a container. `None`
    /// when the value was cut short by the end of the input.
    pub value: Option<Range<usize>>,
    /// Member spans of the value, recorded only for the top-level `sops` object.
    pub inner: Option<Vec<MemberSpan>>,
}

/// The top-level object and the member spans of it (and of its `sops` member).
pub(super) struct TopLevel {
    pub map: Map,
    pub spans: Vec<MemberSpan>,
}

/// Why reading stopped. `Eof` is the clean end of input that Go's `Token` reports as `io.EOF`,
/// which sops's reader treats as "object finished" in some places.
enum Fail {
    Eof,
    Msg(String),
}

type Res<T> = Result<T, Fail>;

/// Go's `tokenState`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Top,
    ArrayStart,
    ArrayValue,
    ArrayComma,
    ObjectStart,
    ObjectKey,
    ObjectColon,
    ObjectValue,
    ObjectComma,
}

/// What `Parser::member` read.
enum Member {
    Read(Entry, MemberSpan),
    /// The object's `}`.
    Closed,
    /// The input ended inside a member value.
    CutShort,
}

enum Tok {
    Open(u8),
    Close,
    Key(String),
    Value(Scalar),
}

struct Parser<'a> {
    src: &'a [u8],
    pos: usize,
    state: State,
    stack: Vec<State>,
    /// Where the last token returned by `token` started.
    tok_start: usize,
}

/// Reads the top-level object; the error text is what sops prints after
/// `Could not unmarshal input data: `.
pub(super) fn parse_top(src: &[u8]) -> Result<TopLevel, String> {
    let mut p = Parser::new(src);
    let first = match p.token() {
        Ok(t) => t,
        Err(Fail::Eof) => return Err("EOF".into()),
        Err(Fail::Msg(m)) => return Err(m),
    };
    match first {
        Tok::Open(b'{') => {}
        Tok::Open(_) => {
            return Err(
                "SOPS only supports JSON files with a top-level object (starting with '{'), \
                        not arrays or other types. Got delimiter [ instead. To encrypt this file, \
                        wrap it in an object, e.g., {\"data\": [...]}"
                    .into(),
            );
        }
        Tok::Value(v) => {
            let (shown, ty) = go_sharp_v(&v);
            return Err(format!(
                "SOPS only supports JSON files with a top-level object (starting with '{{'), not \
                 other JSON types. Got {shown} of type {ty} instead"
            ));
        }
        // `Token` never returns a key or a closing delimiter in the top-level state.
        Tok::Key(_) | Tok::Close => return Err("unexpected token".into()),
    }
    let mut spans = Vec::new();
    match p.object(1, Some(&mut spans), true) {
        Ok((map, _)) => Ok(TopLevel { map, spans }),
        Err(Fail::Eof) => Err("EOF".into()),
        Err(Fail::Msg(m)) => Err(m),
    }
}

/// The top-level object's members, each handed to `each` as it is read (`false` stops). `None`
/// when the input is not an object read to its `}`, or `each` stopped: the whole read then
/// reports what it finds.
pub(super) fn each_top_member(
    src: &[u8],
    mut each: impl FnMut(Entry, MemberSpan) -> bool,
) -> Option<()> {
    let mut p = Parser::new(src);
    if !matches!(p.token(), Ok(Tok::Open(b'{'))) {
        return None;
    }
    loop {
        match p.member(1, true) {
            Ok(Member::Read(entry, span)) => {
                if !each(entry, span) {
                    return None;
                }
            }
            Ok(Member::Closed) => return Some(()),
            _ => return None,
        }
    }
}

/// The top-level member whose key starts at `at`, read on its own as the whole read reads it,
/// when the top-level object's `}` and nothing else follows it (a member of a nested object
/// would be followed by that object's `}` too).
pub(super) fn last_top_member(src: &[u8], at: usize) -> Option<(Entry, MemberSpan)> {
    let mut p = Parser::new(src);
    p.pos = at;
    // Inside the top-level object, after a comma.
    p.stack.push(State::Top);
    p.state = State::ObjectKey;
    let Ok(Member::Read(entry, span)) = p.member(1, true) else {
        return None;
    };
    let closed = matches!(p.member(1, true), Ok(Member::Closed));
    (closed && p.peek().is_none()).then_some((entry, span))
}

/// Go `%#v` and `%T` of a top-level scalar, for the error above.
fn go_sharp_v(v: &Scalar) -> (String, &'static str) {
    match v {
        Scalar::Null => ("<nil>".into(), "<nil>"),
        Scalar::Bool(b) => (b.to_string(), "bool"),
        Scalar::Int(i) => (i.to_string(), "int"),
        Scalar::Float(f) => (crate::gotext::float_yaml(*f), "float64"),
        Scalar::Str(s) => (crate::gotext::go_quote(&s.to_lossy()), "string"),
        _ => (String::new(), ""),
    }
}

impl<'a> Parser<'a> {
    fn new(src: &'a [u8]) -> Self {
        Parser {
            src,
            pos: 0,
            state: State::Top,
            stack: Vec::new(),
            tok_start: 0,
        }
    }

    fn err<T>(&self, msg: String) -> Res<T> {
        Err(Fail::Msg(msg))
    }

    /// Skips JSON whitespace; the next byte, if any.
    fn peek(&mut self) -> Option<u8> {
        while let Some(&c) = self.src.get(self.pos) {
            if matches!(c, b' ' | b'\t' | b'\r' | b'\n') {
                self.pos += 1;
            } else {
                return Some(c);
            }
        }
        None
    }

    fn value_allowed(&self) -> bool {
        matches!(
            self.state,
            State::Top | State::ArrayStart | State::ArrayValue | State::ObjectValue
        )
    }

    /// Go `tokenValueEnd`.
    fn value_end(&mut self) {
        match self.state {
            State::ArrayStart | State::ArrayValue => self.state = State::ArrayComma,
            State::ObjectValue => self.state = State::ObjectComma,
            _ => {}
        }
    }

    /// Go `tokenError`.
    fn token_error<T>(&self, c: u8) -> Res<T> {
        let context = match self.state {
            State::Top | State::ArrayStart | State::ArrayValue | State::ObjectValue => {
                " looking for beginning of value"
            }
            State::ArrayComma => " after array element",
            State::ObjectKey => " looking for beginning of object key string",
            State::ObjectColon => " after object key",
            State::ObjectComma => " after object key:value pair",
            State::ObjectStart => "",
        };
        self.err(format!("invalid character {}{context}", quote_char(c)))
    }

    /// Go `Decoder.Token`.
    fn token(&mut self) -> Res<Tok> {
        loop {
            let c = self.peek().ok_or(Fail::Eof)?;
            self.tok_start = self.pos;
            match c {
                b'[' | b'{' => {
                    if !self.value_allowed() {
                        return self.token_error(c);
                    }
                    self.pos += 1;
                    self.stack.push(self.state);
                    self.state = if c == b'[' {
                        State::ArrayStart
                    } else {
                        State::ObjectStart
                    };
                    return Ok(Tok::Open(c));
                }
                b']' | b'}' => {
                    let ok = if c == b']' {
                        matches!(self.state, State::ArrayStart | State::ArrayComma)
                    } else {
                        matches!(self.state, State::ObjectStart | State::ObjectComma)
                    };
                    if !ok {
                        return self.token_error(c);
                    }
                    self.pos += 1;
                    self.state = self.stack.pop().unwrap_or(State::Top);
                    self.value_end();
                    return Ok(Tok::Close);
                }
                b':' => {
                    if self.state != State::ObjectColon {
                        return self.token_error(c);
                    }
                    self.pos += 1;
                    self.state = State::ObjectValue;
                }
                b',' => match self.state {
                    State::ArrayComma => {
                        self.pos += 1;
                        self.state = State::ArrayValue;
                    }
                    State::ObjectComma => {
                        self.pos += 1;
                        self.state = State::ObjectKey;
                    }
                    _ => return self.token_error(c),
                },
                b'"' if matches!(self.state, State::ObjectStart | State::ObjectKey) => {
                    let (bytes, end) = scan::string(self.src, self.pos).map_err(Fail::Msg)?;
                    self.pos = end;
                    self.state = State::ObjectColon;
                    let key = String::from_utf8(bytes)
                        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
                    return Ok(Tok::Key(key));
                }
                _ => {
                    if !self.value_allowed() {
                        return self.token_error(c);
                    }
                    let v = self.scalar(c)?;
                    self.value_end();
                    return Ok(Tok::Value(v));
                }
            }
        }
    }

    /// sops `treeBranchFromJSONDecoder`, after the `{`. Returns the map and whether its `}` was
    /// seen (a clean end of input inside a member value ends the object silently, as in sops).
    /// `spans` collects member spans; `top` marks the top-level object, whose `sops` member
    /// records the spans of its own members too.
    fn object(
        &mut self,
        depth: usize,
        mut spans: Option<&mut Vec<MemberSpan>>,
        top: bool,
    ) -> Res<(Map, bool)> {
        if depth > MAX_DEPTH {
            return self.err("exceeded max depth".into());
        }
        let mut map = Map::new();
        loop {
            match self.member(depth, top && spans.is_some())? {
                Member::Read(entry, span) => {
                    if let Some(spans) = spans.as_deref_mut() {
                        spans.push(span);
                    }
                    map.items.push(MapItem::Entry(entry));
                }
                Member::Closed => return Ok((map, true)),
                Member::CutShort => return Ok((map, false)),
            }
        }
    }

    /// sops `treeItemFromJSONDecoder`: the next member of an object (`top` records the inner
    /// spans of a `sops` member).
    fn member(&mut self, depth: usize, top: bool) -> Res<Member> {
        let key = match self.token() {
            Ok(Tok::Key(k)) => k,
            Ok(Tok::Close) => return Ok(Member::Closed),
            // sops compat: a clean EOF where a key should be reaches sops's type check with a
            // nil token.
            Err(Fail::Eof) => {
                return self
                    .err("Expected JSON object key, got %!s(<nil>) of type <nil> instead".into());
            }
            Err(e) => return Err(e),
            Ok(_) => return self.err("Expected JSON object key".into()),
        };
        let key_start = self.tok_start;
        let mut inner = (top && key == "sops").then(Vec::new);
        let (value, range) = match self.value(depth, inner.as_mut()) {
            Ok(v) => v,
            // sops compat: `io.EOF` from a member value ends the object without error.
            Err(Fail::Eof) => return Ok(Member::CutShort),
            Err(e) => return Err(e),
        };
        Ok(Member::Read(
            Entry { key, value },
            MemberSpan {
                key_start,
                value: range,
                inner,
            },
        ))
    }

    /// A member value: the node and its byte range (None when a nested object was cut short).
    fn value(
        &mut self,
        depth: usize,
        inner: Option<&mut Vec<MemberSpan>>,
    ) -> Res<(Node, Option<Range<usize>>)> {
        let tok = self.token()?;
        let start = self.tok_start;
        let node = match tok {
            Tok::Open(b'[') => Node::List(self.list(depth + 1)?),
            Tok::Open(_) => {
                let (m, closed) = self.object(depth + 1, inner, false)?;
                if !closed {
                    return Ok((Node::Map(m), None));
                }
                Node::Map(m)
            }
            Tok::Value(v) => Node::scalar(v),
            // `Token` gives neither in the value state.
            Tok::Key(_) | Tok::Close => return self.err("unexpected token".into()),
        };
        Ok((node, Some(start..self.pos)))
    }

    /// sops `sliceFromJSONDecoder`, after the `[`. Any error, a clean EOF included, propagates.
    fn list(&mut self, depth: usize) -> Res<List> {
        if depth > MAX_DEPTH {
            return self.err("exceeded max depth".into());
        }
        let mut list = List::new();
        loop {
            let node = match self.token()? {
                Tok::Close => return Ok(list),
                Tok::Open(b'[') => Node::List(self.list(depth + 1)?),
                Tok::Open(_) => Node::Map(self.object(depth + 1, None, false)?.0),
                Tok::Value(v) => Node::scalar(v),
                Tok::Key(_) => return self.err("unexpected token".into()),
            };
            list.items.push(ListItem::Node(node));
        }
    }

    /// Go `Decoder.Decode` of one scalar starting at `c` (the scanner plus `literalStore`).
    fn scalar(&mut self, c: u8) -> Res<Scalar> {
        let scanned = match c {
            b'"' => scan::string(self.src, self.pos)
                .map(|(s, end)| (Scalar::Str(SecretBuf::new(s)), end)),
            b'-' | b'0'..=b'9' => scan::number(self.src, self.pos),
            b't' => scan::literal(self.src, self.pos, b"true", Scalar::Bool(true)),
            b'f' => scan::literal(self.src, self.pos, b"false", Scalar::Bool(false)),
            b'n' => scan::literal(self.src, self.pos, b"null", Scalar::Null),
            _ => return self.token_error(c),
        };
        let (v, end) = scanned.map_err(Fail::Msg)?;
        self.pos = end;
        Ok(v)
    }
}
