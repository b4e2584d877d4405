//! Whitespace and comments between tokens, classified as go-yaml v3 does.
//!
//! sops compat: which node a comment ends up on (head, line or foot) is decided here, from
//! blank lines, columns and the surrounding tokens. The rules are go-yaml's
//! (`yaml_parser_scan_to_next_token`, `yaml_parser_scan_comments`,
//! `yaml_parser_scan_line_comment`); sesame reproduces them so that a file re-emitted after
//! parsing keeps its comments where sops would put them.

use super::chars::{at, is_blank, is_bom, is_break, is_breakz};
use super::error::{Mark, YResult};
use super::scanner::{CommentRec, Scanner, TokenKind};

/// go-yaml looks ahead at most this many bytes for a comment.
const PEEK_LIMIT: usize = 512;

impl Scanner<'_> {
    /// Skips blanks, line breaks and comments up to the next token.
    pub fn scan_to_next_token(&mut self) -> YResult<()> {
        let scan_mark = self.mark();
        loop {
            if self.column == 0 && is_bom(self.src, self.pos) {
                self.skip();
            }
            let tabs_ok = self.flow_level > 0 || !self.simple_key_allowed;
            let blanks = self.src[self.pos..]
                .iter()
                .take_while(|&&c| c == b' ' || (tabs_ok && c == b'\t'))
                .count();
            self.pos += blanks;
            self.column += blanks;
            self.reposition_entry_line_comment();
            if self.ch(0) == b'#' {
                self.scan_comments(scan_mark)?;
            }
            if is_break(self.src, self.pos) {
                self.skip_line();
                if self.flow_level == 0 {
                    self.simple_key_allowed = true;
                }
            } else {
                return Ok(());
            }
        }
    }

    /// A line comment right after a sequence's first `-` reads like a header of what follows
    /// (`- # c` then `  - x`): go-yaml turns it into a head comment.
    fn reposition_entry_line_comment(&mut self) {
        let n = self.tokens.len();
        if self.comments_head >= self.comments.len() || n < 2 {
            return;
        }
        let (a, b) = (self.tokens[n - 2].kind, self.tokens[n - 1].kind);
        let at_break = is_break(self.src, self.pos);
        let (line, mark) = (self.line, self.mark());
        let comment = self.comments.last_mut().expect("checked non-empty");
        if a == TokenKind::BlockSequenceStart
            && b == TokenKind::BlockEntry
            && !comment.line.is_empty()
            && !at_break
        {
            comment.head = std::mem::take(&mut comment.line);
            if comment.start_mark.line as usize + 1 == line {
                comment.token_mark = mark;
            }
        }
    }

    /// Reads a comment that follows a token on the same line.
    pub fn scan_line_comment(&mut self, token_mark: Mark) -> YResult<()> {
        if self.newlines > 0 {
            return Ok(());
        }
        let mut peek = 0;
        while peek < PEEK_LIMIT && is_blank(self.src, self.pos + peek) {
            peek += 1;
        }
        if peek >= PEEK_LIMIT || self.ch(peek) != b'#' {
            return Ok(());
        }
        for _ in 0..peek {
            self.skip();
        }
        let start_mark = self.mark();
        let text = self.read_to_line_end();
        if !text.is_empty() {
            self.comments.push(CommentRec {
                token_mark,
                start_mark,
                line: text,
                ..CommentRec::default()
            });
        }
        Ok(())
    }

    /// Reads from the current position to the end of the line.
    fn read_to_line_end(&mut self) -> String {
        let start = self.pos;
        let mut end = start;
        while !is_breakz(self.src, end) {
            end += 1;
        }
        self.advance_to(end);
        self.text[start..end].to_string()
    }

    /// Reads a run of comment lines starting at the current `#`, splitting it into foot
    /// comments of the previous token and a head comment of the next, as go-yaml does.
    #[inline(never)]
    fn scan_comments(&mut self, scan_mark: Mark) -> YResult<()> {
        let n = self.tokens.len();
        let mut token = &self.tokens[n - 1];
        if token.kind == TokenKind::FlowEntry && n > 1 {
            token = &self.tokens[n - 2];
        }
        let token_kind = token.kind;
        let mut token_mark = token.start;
        let mut scan_mark = scan_mark;
        let mut start_mark = Mark::default();
        let mut next_indent = self.indent.max(0);
        let mut recent_empty = false;
        let mut first_empty = self.newlines <= 1;
        let mut line = self.line;
        let mut column = self.column;
        let mut text = String::new();

        // The foot line is where a comment must start to still be a foot of the prior
        // content: the line below it when the current line has content.
        let mut foot_line: isize = -1;
        if scan_mark.line > 0 {
            foot_line = self.line as isize - self.newlines as isize + 1;
            if self.newlines == 0 && self.column > 1 {
                foot_line += 1;
            }
        }

        let mut peek = 0;
        while peek < PEEK_LIMIT {
            let p = self.pos + peek;
            column += 1;
            if is_blank(self.src, p) {
                peek += 1;
                continue;
            }
            let c = at(self.src, p);
            let close_flow = self.flow_level > 0 && (c == b']' || c == b'}');
            let here = |line, column| Mark::new(p, line, column);
            if close_flow || is_breakz(self.src, p) {
                if close_flow || !recent_empty {
                    let before_indent = (start_mark.column as isize - 1) < next_indent;
                    let is_foot = close_flow
                        || (first_empty
                            && ((start_mark.line as isize == foot_line
                                && token_kind != TokenKind::Value)
                                || before_indent));
                    if is_foot {
                        if !text.is_empty() {
                            if before_indent {
                                // Dedented: unrelated to the prior token.
                                token_mark = start_mark;
                            }
                            self.comments.push(CommentRec {
                                scan_mark,
                                token_mark,
                                start_mark,
                                end_mark: here(line, column),
                                foot: std::mem::take(&mut text),
                                ..CommentRec::default()
                            });
                            scan_mark = here(line, column);
                            token_mark = scan_mark;
                        }
                    } else if !text.is_empty() && c != 0 {
                        text.push('\n');
                    }
                }
                if !is_break(self.src, p) {
                    break;
                }
                first_empty = false;
                recent_empty = true;
                column = 0;
                line += 1;
                // sops compat: go-yaml peeks byte by byte here, so a CRLF counts as two
                // line breaks.
                peek += 1;
                continue;
            }

            if !text.is_empty()
                && (close_flow
                    || ((column as isize - 1) < next_indent
                        && column != start_mark.column as usize))
            {
                // A comment at a different indentation is a foot of the preceding data.
                self.comments.push(CommentRec {
                    scan_mark,
                    token_mark,
                    start_mark,
                    end_mark: here(line, column),
                    foot: std::mem::take(&mut text),
                    ..CommentRec::default()
                });
                scan_mark = here(line, column);
                token_mark = scan_mark;
            }

            if c != b'#' {
                break;
            }
            if text.is_empty() {
                start_mark = here(line, column);
            } else {
                text.push('\n');
            }
            recent_empty = false;

            // Consume everything up to this comment, then the comment itself.
            let seen = p;
            while self.pos < seen {
                if is_break(self.src, self.pos) {
                    self.skip_line();
                } else {
                    self.skip();
                }
            }
            let body = self.read_to_line_end();
            text.push_str(&body);

            // sops compat: go-yaml resets its peek offset to 0 and then its loop increments
            // it, so the line break ending the comment is skipped without being counted.
            peek = 1;
            column = 0;
            line = self.line;
            next_indent = self.indent.max(0);
        }

        if !text.is_empty() {
            let end_mark = Mark::new((self.pos + peek).saturating_sub(1), line, column);
            self.comments.push(CommentRec {
                scan_mark,
                token_mark: start_mark,
                start_mark,
                end_mark,
                head: text,
                ..CommentRec::default()
            });
        }
        Ok(())
    }
}
