//! Scalar events as sops's encoder produces them: the style go-yaml picks for each Go value
//! (after sops's encode-then-parse round trip), merge and binary tags.

use super::emitter::{Ev, EvKind};
use super::resolve::{Resolved, resolve_plain};
use super::scalar_style::{Analysis, Style, analyze};
use crate::gotext;
use crate::store::StoreError;
use crate::tree::Scalar;
use base64::Engine;
use std::borrow::Cow;

/// sops compat: the error sops reports when a value that became a zero node (see
/// `string_event`) also carries comments.
pub(super) fn lost_node_error() -> StoreError {
    StoreError::Emit(
        "Error marshaling to yaml: yaml: cannot encode node with unknown kind 0".into(),
    )
}

/// A string scalar with the style go-yaml's encoder picks for a Go string, and whether sops
/// loses the value.
///
/// sops compat: sops builds each node by encoding the value and parsing the text back. A
/// literal block whose first line starts with a TAB cannot be parsed back (go-yaml takes the
/// tab for indentation), so sops silently writes `null` instead of the string.
pub(super) fn string_event(s: &str) -> (Ev<'_>, bool) {
    let analysis = analyze(s);
    let style = string_style(s, &analysis);
    if style == Style::Literal && s.starts_with('\t') {
        return (plain("null".into()), true);
    }
    let mut ev = Ev::new(EvKind::Scalar);
    ev.value = Cow::Borrowed(s);
    ev.style = style;
    ev.analysis = Some(analysis);
    if s == "<<" && style == Style::Plain {
        // sops compat: go-yaml reads a plain `<<` back as a merge key and tags it.
        ev.tag = "merge";
    }
    (ev, false)
}

/// The style of a string after go-yaml's encode-then-parse round trip (sops builds nodes with
/// `Node.Encode`): literal for multi-line text, plain when the text reads back as a string,
/// double-quoted otherwise, then downgraded when the text cannot be written in that style.
fn string_style(s: &str, a: &Analysis) -> Style {
    let requested = if a.multiline && s.contains('\n') {
        Style::Literal
    } else if resolve_plain(s) == Resolved::Str && !is_base60_float(s) && !is_old_bool(s) {
        Style::Plain
    } else {
        Style::DoubleQuoted
    };
    match requested {
        Style::Plain if !a.block_plain_allowed => {
            if a.single_quoted_allowed {
                Style::SingleQuoted
            } else {
                Style::DoubleQuoted
            }
        }
        Style::Literal if !a.block_allowed => Style::DoubleQuoted,
        other => other,
    }
}

/// YAML 1.1 booleans that go-yaml still quotes on output.
fn is_old_bool(s: &str) -> bool {
    matches!(
        s,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "on"
            | "On"
            | "ON"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "off"
            | "Off"
            | "OFF"
    )
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$` (sexagesimal numbers like `12:30`).
fn is_base60_float(s: &str) -> bool {
    let mut b = s.as_bytes();
    if let Some((b'+' | b'-', rest)) = b.split_first() {
        b = rest;
    }
    if !b.first().is_some_and(u8::is_ascii_digit) || !b.contains(&b':') {
        return false;
    }
    let n = b
        .iter()
        .take_while(|c| c.is_ascii_digit() || **c == b'_')
        .count();
    b = &b[n..];
    let mut groups = 0;
    while let Some((b':', rest)) = b.split_first() {
        let d = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        let ok = match d {
            1 => true,
            2 => rest[0] <= b'5',
            _ => false,
        };
        if !ok {
            return false;
        }
        b = &rest[d..];
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    match b.split_first() {
        None => true,
        Some((b'.', rest)) => rest.iter().all(|c| c.is_ascii_digit() || *c == b'_'),
        _ => false,
    }
}

/// go-yaml's base64 for `!!binary`: 70-column lines, each ending in a newline once the text
/// needs more than one line.
fn encode_base64(bytes: &[u8]) -> String {
    let enc = base64::engine::general_purpose::STANDARD.encode(bytes);
    if enc.len() < 70 {
        return enc;
    }
    let mut out = String::with_capacity(enc.len() + enc.len() / 70 + 1);
    for chunk in enc.as_bytes().chunks(70) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out
}

fn plain(value: String) -> Ev<'static> {
    let mut ev = Ev::new(EvKind::Scalar);
    ev.analysis = Some(analyze(&value));
    ev.value = Cow::Owned(value);
    ev
}

/// The event for a scalar value, and whether sops loses the value (see `string_event`).
pub(super) fn scalar_event(s: &Scalar) -> (Ev<'_>, bool) {
    let ev = match s {
        Scalar::Null => plain("null".into()),
        Scalar::Bool(b) => plain(b.to_string()),
        Scalar::Int(i) => plain(i.to_string()),
        Scalar::Uint(u) => plain(u.to_string()),
        Scalar::Float(f) => plain(gotext::float_yaml(*f)),
        Scalar::Time(t) => plain(gotext::time_nano(t)),
        Scalar::Str(buf) => match buf.as_str() {
            Some(text) => return string_event(text),
            None => {
                let text = encode_base64(buf.expose());
                let mut ev = Ev::new(EvKind::Scalar);
                ev.style = if text.contains('\n') {
                    Style::Literal
                } else {
                    Style::Plain
                };
                ev.tag = "binary";
                ev.analysis = Some(analyze(&text));
                ev.value = Cow::Owned(text);
                ev
            }
        },
    };
    (ev, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sexagesimal_numbers_are_quoted() {
        for s in ["12:30", "-1:30.5", "1_0:5", "190:20:30", "+1:2"] {
            assert!(is_base60_float(s), "{s}");
        }
        for s in ["12:60", "a:1", "12:", "1:2:", "12:30x", "1.5"] {
            assert!(!is_base60_float(s), "{s}");
        }
    }

    #[test]
    fn base64_lines_like_go_yaml() {
        assert_eq!(encode_base64(b"hi"), "aGk=");
        let b64 = encode_base64(&[0u8; 52]);
        assert_eq!(b64.len(), 74);
        assert_eq!(b64.lines().map(str::len).collect::<Vec<_>>(), vec![70, 2]);
        assert!(b64.ends_with('\n'));
        assert_eq!(encode_base64(&[0u8; 51]).len(), 68);
    }
}
