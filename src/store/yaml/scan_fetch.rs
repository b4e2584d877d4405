//! Token fetchers of the scanner, with go-yaml's simple-key and indentation bookkeeping.

use super::error::{Mark, YResult};
use super::scanner::{MAX_FLOW_LEVEL, MAX_INDENTS, Scanner, SimpleKey, Token, TokenKind};

impl<'a> Scanner<'a> {
    // ---- simple keys and indentation ----------------------------------------------------

    pub(super) fn simple_key_is_valid(&mut self, i: usize) -> YResult<bool> {
        let key = self.simple_keys[i];
        if !key.possible {
            return Ok(false);
        }
        // A simple key is limited to one line and 1024 characters.
        if (key.mark.line as usize) < self.line || self.chars_exceed(key.mark.index, self.pos, 1024)
        {
            if key.required {
                return Err(self.error(key.mark, "could not find expected ':'"));
            }
            self.simple_keys[i].possible = false;
            return Ok(false);
        }
        Ok(true)
    }

    pub(super) fn save_simple_key(&mut self) -> YResult<()> {
        let required = self.flow_level == 0 && self.indent == self.column as isize;
        if self.simple_key_allowed {
            let key = SimpleKey {
                possible: true,
                required,
                token_number: self.tokens_parsed + (self.tokens.len() - self.head),
                mark: self.mark(),
            };
            self.remove_simple_key()?;
            let last = self.simple_keys.len() - 1;
            self.simple_keys[last] = key;
            self.simple_keys_by_tok.insert(key.token_number, last);
        }
        Ok(())
    }

    pub(super) fn remove_simple_key(&mut self) -> YResult<()> {
        let i = self.simple_keys.len() - 1;
        let key = self.simple_keys[i];
        if key.possible {
            if key.required {
                return Err(self.error(key.mark, "could not find expected ':'"));
            }
            self.simple_keys[i].possible = false;
            self.simple_keys_by_tok.remove(&key.token_number);
        }
        Ok(())
    }

    pub(super) fn increase_flow_level(&mut self) -> YResult<()> {
        self.simple_keys.push(SimpleKey {
            possible: false,
            required: false,
            token_number: self.tokens_parsed + (self.tokens.len() - self.head),
            mark: self.mark(),
        });
        self.flow_level += 1;
        if self.flow_level > MAX_FLOW_LEVEL {
            return Err(self.error(self.mark(), "exceeded max depth of 10000"));
        }
        Ok(())
    }

    pub(super) fn decrease_flow_level(&mut self) {
        if self.flow_level > 0 {
            self.flow_level -= 1;
            if let Some(key) = self.simple_keys.pop() {
                self.simple_keys_by_tok.remove(&key.token_number);
            }
        }
    }

    /// Opens a block collection when `column` is deeper than the current indentation,
    /// inserting its start token before token `number` (or appending it).
    pub(super) fn roll_indent(
        &mut self,
        column: usize,
        number: Option<usize>,
        kind: TokenKind,
        mark: Mark,
    ) -> YResult<()> {
        if self.flow_level > 0 {
            return Ok(());
        }
        if self.indent < column as isize {
            self.indents.push(self.indent);
            self.indent = column as isize;
            if self.indents.len() > MAX_INDENTS {
                return Err(self.error(mark, "exceeded max depth of 10000"));
            }
            // sops compat: a token number already handed out (go-yaml's negative position)
            // appends the token instead of inserting it.
            let pos = number.and_then(|n| n.checked_sub(self.tokens_parsed));
            self.insert_token(pos, Token::new(kind, mark, mark));
        }
        Ok(())
    }

    /// Closes block collections deeper than `column`. sops compat: go-yaml places each
    /// BLOCK-END before trailing comments written at that block's indentation, so that they
    /// become foot comments of the block rather than heads of what follows.
    pub(super) fn unroll_indent(&mut self, column: isize, scan_mark: Mark) {
        if self.flow_level > 0 {
            return;
        }
        let mut block_mark = scan_mark;
        block_mark.index = block_mark.index.saturating_sub(1);
        while self.indent > column {
            let mut stop_index = block_mark.index;
            for comment in self.comments[self.comments_head..].iter().rev() {
                if comment.end_mark.index < stop_index {
                    break;
                }
                if comment.start_mark.column as isize == self.indent + 1 {
                    block_mark = comment.start_mark;
                }
                stop_index = comment.scan_mark.index;
            }
            self.push_token(Token::new(TokenKind::BlockEnd, block_mark, block_mark));
            self.indent = self.indents.pop().unwrap_or(-1);
        }
    }

    // ---- token fetchers ------------------------------------------------------------------

    pub(super) fn fetch_stream_end(&mut self) -> YResult<()> {
        if self.column != 0 {
            self.column = 0;
            self.line += 1;
        }
        self.unroll_indent(-1, self.mark());
        self.remove_simple_key()?;
        self.simple_key_allowed = false;
        let m = self.mark();
        self.push_token(Token::new(TokenKind::StreamEnd, m, m));
        self.stream_end_fetched = true;
        Ok(())
    }

    pub(super) fn fetch_directive(&mut self) -> YResult<()> {
        self.unroll_indent(-1, self.mark());
        self.remove_simple_key()?;
        self.simple_key_allowed = false;
        let token = self.scan_directive()?;
        self.push_token(token);
        Ok(())
    }

    pub(super) fn fetch_document_indicator(&mut self, kind: TokenKind) -> YResult<()> {
        self.unroll_indent(-1, self.mark());
        self.remove_simple_key()?;
        self.simple_key_allowed = false;
        let start = self.mark();
        self.advance_to(self.pos + 3);
        let end = self.mark();
        self.push_token(Token::new(kind, start, end));
        Ok(())
    }

    /// Consumes a one-character indicator and appends its token.
    pub(super) fn push_indicator(&mut self, kind: TokenKind) {
        let start = self.mark();
        self.skip();
        let end = self.mark();
        self.push_token(Token::new(kind, start, end));
    }

    pub(super) fn fetch_flow_collection_start(&mut self, kind: TokenKind) -> YResult<()> {
        self.save_simple_key()?;
        self.increase_flow_level()?;
        self.simple_key_allowed = true;
        self.push_indicator(kind);
        Ok(())
    }

    pub(super) fn fetch_flow_collection_end(&mut self, kind: TokenKind) -> YResult<()> {
        self.remove_simple_key()?;
        self.decrease_flow_level();
        self.simple_key_allowed = false;
        self.push_indicator(kind);
        Ok(())
    }

    pub(super) fn fetch_flow_entry(&mut self) -> YResult<()> {
        self.remove_simple_key()?;
        self.simple_key_allowed = true;
        self.push_indicator(TokenKind::FlowEntry);
        Ok(())
    }

    pub(super) fn fetch_block_entry(&mut self) -> YResult<()> {
        if self.flow_level == 0 {
            if !self.simple_key_allowed {
                return Err(self.error(
                    self.mark(),
                    "block sequence entries are not allowed in this context",
                ));
            }
            let m = self.mark();
            self.roll_indent(self.column, None, TokenKind::BlockSequenceStart, m)?;
        }
        self.remove_simple_key()?;
        self.simple_key_allowed = true;
        self.push_indicator(TokenKind::BlockEntry);
        Ok(())
    }

    pub(super) fn fetch_key(&mut self) -> YResult<()> {
        if self.flow_level == 0 {
            if !self.simple_key_allowed {
                return Err(self.error(self.mark(), "mapping keys are not allowed in this context"));
            }
            let m = self.mark();
            self.roll_indent(self.column, None, TokenKind::BlockMappingStart, m)?;
        }
        self.remove_simple_key()?;
        self.simple_key_allowed = self.flow_level == 0;
        self.push_indicator(TokenKind::Key);
        Ok(())
    }

    pub(super) fn fetch_value(&mut self) -> YResult<()> {
        let i = self.simple_keys.len() - 1;
        if self.simple_key_is_valid(i)? {
            let key = self.simple_keys[i];
            // sops compat: a key token already handed out (`{}x: 1`) is appended, as go-yaml's
            // negative insert position does; the parser then reports the error.
            let pos = key.token_number.checked_sub(self.tokens_parsed);
            self.insert_token(pos, Token::new(TokenKind::Key, key.mark, key.mark));
            self.roll_indent(
                key.mark.column as usize,
                Some(key.token_number),
                TokenKind::BlockMappingStart,
                key.mark,
            )?;
            self.simple_keys[i].possible = false;
            self.simple_keys_by_tok.remove(&key.token_number);
            self.simple_key_allowed = false;
        } else {
            if self.flow_level == 0 {
                if !self.simple_key_allowed {
                    return Err(self.error(
                        self.mark(),
                        "mapping values are not allowed in this context",
                    ));
                }
                let m = self.mark();
                self.roll_indent(self.column, None, TokenKind::BlockMappingStart, m)?;
            }
            self.simple_key_allowed = self.flow_level == 0;
        }
        self.push_indicator(TokenKind::Value);
        Ok(())
    }

    pub(super) fn fetch_anchor(&mut self, kind: TokenKind) -> YResult<()> {
        self.save_simple_key()?;
        self.simple_key_allowed = false;
        let token = self.scan_anchor(kind)?;
        self.push_token(token);
        Ok(())
    }

    pub(super) fn fetch_tag(&mut self) -> YResult<()> {
        self.save_simple_key()?;
        self.simple_key_allowed = false;
        let token = self.scan_tag()?;
        self.push_token(token);
        Ok(())
    }

    pub(super) fn fetch_block_scalar(&mut self, literal: bool) -> YResult<()> {
        self.remove_simple_key()?;
        self.simple_key_allowed = true;
        let token = self.scan_block_scalar(literal)?;
        self.push_token(token);
        Ok(())
    }

    pub(super) fn fetch_flow_scalar(&mut self, single: bool) -> YResult<()> {
        self.save_simple_key()?;
        self.simple_key_allowed = false;
        let token = self.scan_flow_scalar(single)?;
        self.push_token(token);
        Ok(())
    }

    pub(super) fn fetch_plain_scalar(&mut self) -> YResult<()> {
        self.save_simple_key()?;
        self.simple_key_allowed = false;
        let token = self.scan_plain_scalar()?;
        self.push_token(token);
        Ok(())
    }
}
