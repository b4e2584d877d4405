//! Go `encoding/json` scanner for scalar tokens (strings, numbers, literals): the same accepted
//! syntax and error texts, and Go's unescaping (U+FFFD for each invalid byte or lone surrogate).

use crate::tree::Scalar;

/// A scanned value and the position after it, or the error text.
pub(super) type Scanned<T> = Result<(T, usize), String>;

/// `true`, `false` or `null` at `pos`; the value and the position after it.
pub(super) fn literal(s: &[u8], pos: usize, word: &[u8], v: Scalar) -> Scanned<Scalar> {
    for (i, &want) in word.iter().enumerate().skip(1) {
        match s.get(pos + i) {
            None => return Err("unexpected EOF".into()),
            Some(&got) if got != want => {
                let name = std::str::from_utf8(word).unwrap_or("");
                return Err(format!(
                    "invalid character {} in literal {name} (expecting {})",
                    quote_char(got),
                    quote_char(want)
                ));
            }
            Some(_) => {}
        }
    }
    Ok((v, pos + word.len()))
}

/// A number at `start`, typed as sops types it.
pub(super) fn number(s: &[u8], start: usize) -> Scanned<Scalar> {
    let mut i = start;
    let digits = |i: &mut usize| {
        while *i < s.len() && s[*i].is_ascii_digit() {
            *i += 1;
        }
    };
    let bad = |i: usize, what: &str| -> Scanned<Scalar> {
        match s.get(i) {
            None => Err("unexpected EOF".into()),
            Some(&c) => Err(format!("invalid character {} {what}", quote_char(c))),
        }
    };
    if s[i] == b'-' {
        i += 1;
    }
    match s.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => digits(&mut i),
        _ => return bad(i, "in numeric literal"),
    }
    if s.get(i) == Some(&b'.') {
        i += 1;
        if !s.get(i).is_some_and(u8::is_ascii_digit) {
            return bad(i, "after decimal point in numeric literal");
        }
        digits(&mut i);
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(s.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !s.get(i).is_some_and(u8::is_ascii_digit) {
            return bad(i, "in exponent of numeric literal");
        }
        digits(&mut i);
    }
    // The grammar above guarantees ASCII.
    let text = std::str::from_utf8(&s[start..i]).unwrap_or("0");
    // sops normalizeJSONNumber: int when `strconv.ParseInt` accepts it, else float64.
    if let Ok(n) = text.parse::<i64>() {
        return Ok((Scalar::Int(n), i));
    }
    match text.parse::<f64>() {
        Ok(f) if f.is_finite() => Ok((Scalar::Float(f), i)),
        _ => Err(format!(
            "strconv.ParseFloat: parsing {}: value out of range",
            crate::gotext::go_quote(text)
        )),
    }
}

/// A string token at `pos` (the opening quote), unescaped the way Go does it.
pub(super) fn string(s: &[u8], pos: usize) -> Scanned<Vec<u8>> {
    let mut i = pos + 1;
    let mut out = Vec::new();
    loop {
        // Copy the run of plain bytes in one go.
        let run = i;
        i = super::skip_words(s, i, |v| {
            super::has_byte(v, b'"') | super::has_byte(v, b'\\') | super::has_less(v, 0x20)
        });
        i += s[i..]
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
            .unwrap_or(s.len() - i);
        if out.is_empty() {
            out.reserve_exact(i - run);
        }
        push_utf8_go(&mut out, &s[run..i]);
        let Some(&c) = s.get(i) else {
            return Err("unexpected EOF".into());
        };
        match c {
            b'"' => return Ok((out, i + 1)),
            b'\\' => {
                let Some(&e) = s.get(i + 1) else {
                    return Err("unexpected EOF".into());
                };
                i += 2;
                match e {
                    b'"' | b'\\' | b'/' => out.push(e),
                    b'b' => out.push(8),
                    b'f' => out.push(12),
                    b'n' => out.push(b'\n'),
                    b'r' => out.push(b'\r'),
                    b't' => out.push(b'\t'),
                    b'u' => {
                        let r = hex4(s, i)?;
                        i += 4;
                        let ch = if (0xD800..0xE000).contains(&r) {
                            // A surrogate: take the next `\uXXXX` only when it completes a
                            // valid pair; otherwise U+FFFD and leave it.
                            let low = (s.get(i) == Some(&b'\\') && s.get(i + 1) == Some(&b'u'))
                                .then(|| hex4_quiet(s, i + 2))
                                .flatten();
                            match low {
                                Some(lo) if r < 0xDC00 && (0xDC00..0xE000).contains(&lo) => {
                                    i += 6;
                                    char::from_u32(0x10000 + ((r - 0xD800) << 10) + (lo - 0xDC00))
                                }
                                _ => None,
                            }
                        } else {
                            char::from_u32(r)
                        };
                        let ch = ch.unwrap_or('\u{FFFD}');
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                    }
                    _ => {
                        return Err(format!(
                            "invalid character {} in string escape code",
                            quote_char(e)
                        ));
                    }
                }
            }
            _ => {
                return Err(format!(
                    "invalid character {} in string literal",
                    quote_char(c)
                ));
            }
        }
    }
}

/// Four hex digits at `i` (after `\u`), with the scanner's errors.
fn hex4(s: &[u8], i: usize) -> Result<u32, String> {
    let mut v = 0u32;
    for k in 0..4 {
        let Some(&c) = s.get(i + k) else {
            return Err("unexpected EOF".into());
        };
        let d = (c as char).to_digit(16).ok_or_else(|| {
            format!(
                "invalid character {} in \\u hexadecimal character escape",
                quote_char(c)
            )
        })?;
        v = v * 16 + d;
    }
    Ok(v)
}

/// Four hex digits at `i`, if there are.
fn hex4_quiet(s: &[u8], i: usize) -> Option<u32> {
    let digits = s.get(i..i + 4)?;
    digits
        .iter()
        .try_fold(0u32, |v, &c| Some(v * 16 + (c as char).to_digit(16)?))
}

/// Appends raw string bytes, replacing each byte that is not part of valid UTF-8 with U+FFFD, as
/// Go's `utf8.DecodeRune` loop does (one replacement per bad byte, unlike Rust's lossy decoding).
fn push_utf8_go(out: &mut Vec<u8>, mut bytes: &[u8]) {
    loop {
        match std::str::from_utf8(bytes) {
            Ok(s) => {
                out.extend_from_slice(s.as_bytes());
                return;
            }
            Err(e) => {
                let good = e.valid_up_to();
                out.extend_from_slice(&bytes[..good]);
                out.extend_from_slice("\u{FFFD}".as_bytes());
                bytes = &bytes[good + 1..];
            }
        }
    }
}

/// Go `quoteChar`: a byte as it appears in `encoding/json` syntax errors.
pub(super) fn quote_char(c: u8) -> String {
    match c {
        b'\'' => r"'\''".into(),
        b'"' => "'\"'".into(),
        _ => {
            let q = crate::gotext::go_quote(&char::from(c).to_string());
            format!("'{}'", &q[1..q.len() - 1])
        }
    }
}
