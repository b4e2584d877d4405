//! Input decoding: UTF-8 (or UTF-16 with a BOM) without control characters, as go-yaml's
//! reader accepts it.

use super::chars::width;
use std::borrow::Cow;

/// Decoded input text plus where it starts in the original bytes.
pub(super) struct Input<'a> {
    pub text: Cow<'a, str>,
    /// Bytes of the original input before `text` (a UTF-8 BOM).
    pub base: usize,
    /// The text is a transcoding, so its offsets do not address the input.
    pub transcoded: bool,
    /// Where the text first has a line starting `---` or `...` (a document marker, or text
    /// that may be one), at its `\n`.
    pub first_marker: Option<usize>,
}

/// Decodes `bytes` like go-yaml's reader; errors are go-yaml's messages without `yaml: `.
pub(super) fn decode(bytes: &[u8]) -> Result<Input<'_>, &'static str> {
    let (text, base, transcoded) = match bytes {
        [0xFF, 0xFE, rest @ ..] => (Cow::Owned(utf16(rest, u16::from_le_bytes)?), 2, true),
        [0xFE, 0xFF, rest @ ..] => (Cow::Owned(utf16(rest, u16::from_be_bytes)?), 2, true),
        [0xEF, 0xBB, 0xBF, rest @ ..] => (Cow::Borrowed(utf8(rest)?), 3, false),
        _ => (Cow::Borrowed(utf8(bytes)?), 0, false),
    };
    let first_marker = check(&text)?;
    Ok(Input {
        text,
        base,
        transcoded,
        first_marker,
    })
}

/// How much of the text each round of `check` looks at: small enough to stay in the CPU's
/// cache from one check to the next, so a large file is read from memory once for all of
/// them.
const BLOCK: usize = 64 << 10;

/// Checks the text has none of the control characters go-yaml rejects, a block at a time,
/// and finds its first document marker.
fn check(text: &str) -> Result<Option<usize>, &'static str> {
    let bytes = text.as_bytes();
    let mut first_marker = None;
    let mut start = 0;
    while start < bytes.len() {
        let mut end = (start + BLOCK).min(bytes.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        check_controls(&bytes[start..end])?;
        if first_marker.is_none() {
            // A marker that begins in this block may end in the next one.
            let window = &bytes[start..(end + 3).min(bytes.len())];
            first_marker = find_marker(window).map(|at| start + at);
        }
        start = end;
    }
    Ok(first_marker)
}

fn find_marker(text: &[u8]) -> Option<usize> {
    let dashes = memchr::memmem::find(text, b"\n---");
    let dots = memchr::memmem::find(text, b"\n...");
    match (dashes, dots) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The text, or go-yaml's message for its first fault.
fn utf8(bytes: &[u8]) -> Result<&str, &'static str> {
    // The fast check passes almost every file; the slow one finds where a bad one goes wrong.
    if let Ok(text) = simdutf8::basic::from_utf8(bytes) {
        return Ok(text);
    }
    std::str::from_utf8(bytes).map_err(|e| {
        let valid = &bytes[..e.valid_up_to()];
        // go-yaml reads in order: a control character before the bad octet is the fault.
        if let Err(control) = check_controls(valid) {
            return control;
        }
        match e.error_len() {
            None => "incomplete UTF-8 octet sequence",
            Some(_) => {
                let bad = bytes[e.valid_up_to()];
                if (0x80..0xC0).contains(&bad) || bad >= 0xF8 {
                    "invalid leading UTF-8 octet"
                } else {
                    "invalid trailing UTF-8 octet"
                }
            }
        }
    })
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, &'static str> {
    if !bytes.len().is_multiple_of(2) {
        return Err("incomplete UTF-16 character");
    }
    let units = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .map_err(|_| "invalid UTF-16 surrogate pair")
}

/// Bytes looked at together by `check_controls`'s fast path.
const RUN: usize = 32;

/// Whether a run of bytes may hold anything but printable ASCII, TAB, LF and CR (written so
/// that it compiles to a few SIMD instructions).
#[inline]
fn maybe_special(run: &[u8; RUN]) -> bool {
    run.iter().fold(false, |any, &c| {
        let control = (c < 0x20) & (c != b'\n') & (c != b'\t') & (c != b'\r');
        any | control | (c >= 0x7F)
    })
}

/// go-yaml rejects C0 controls other than TAB, LF and CR, DEL, C1 controls other than NEL,
/// U+FFFE and U+FFFF. `b` is UTF-8 (whole characters).
fn check_controls(b: &[u8]) -> Result<(), &'static str> {
    const ERR: &str = "control characters are not allowed";
    let mut i = 0;
    while i < b.len() {
        if let Some(run) = b[i..].first_chunk::<RUN>()
            && !maybe_special(run)
        {
            i += RUN;
            continue;
        }
        let c = b[i];
        match c {
            b'\t' | b'\n' | b'\r' | 0x20..=0x7E => {}
            0x00..=0x1F | 0x7F => return Err(ERR),
            0xC2 if (0x80..=0x9F).contains(&b[i + 1]) && b[i + 1] != 0x85 => return Err(ERR),
            0xEF if b[i + 1] == 0xBF && matches!(b[i + 2], 0xBE | 0xBF) => return Err(ERR),
            _ => {}
        }
        i += width(c);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_controls_and_bad_utf8() {
        assert!(decode(b"a: 1\n").is_ok());
        assert!(decode("a: \u{85}é\t\r\n".as_bytes()).is_ok());
        assert_eq!(
            decode(b"a: \x01").err(),
            Some("control characters are not allowed")
        );
        assert_eq!(
            decode(b"a: \x7f").err(),
            Some("control characters are not allowed")
        );
        assert_eq!(
            decode("a: \u{9f}".as_bytes()).err(),
            Some("control characters are not allowed")
        );
        assert_eq!(
            decode("abcdefgh\u{ffff}".as_bytes()).err(),
            Some("control characters are not allowed")
        );
        assert!(decode(b"a: \xff").is_err());
        assert!(decode(b"a: \xc3").is_err());
    }

    #[test]
    fn checks_every_block_and_across_their_ends() {
        // Every offset around the first block's end: a marker or a multi-byte character that
        // straddles it, and a control character after it.
        for shift in 0..10 {
            let text = format!("{}\n---\nb: 1\n", "a".repeat(BLOCK - 5 + shift));
            let decoded = decode(text.as_bytes()).unwrap();
            assert_eq!(
                decoded.first_marker,
                Some(BLOCK - 5 + shift),
                "shift {shift}"
            );
            let dots = text.replace("\n---", "\n...");
            assert_eq!(
                decode(dots.as_bytes()).unwrap().first_marker,
                Some(BLOCK - 5 + shift)
            );

            let mut wide = format!("{}é€😀\u{85}", "a".repeat(BLOCK - 10 + shift));
            assert!(decode(wide.as_bytes()).is_ok(), "shift {shift}");
            wide.push('\u{9f}');
            assert_eq!(
                decode(wide.as_bytes()).err(),
                Some("control characters are not allowed")
            );
        }
        let far = format!(
            "{}\n---\n{}\n...\n",
            "a".repeat(3 * BLOCK),
            "b".repeat(BLOCK)
        );
        assert_eq!(
            decode(far.as_bytes()).unwrap().first_marker,
            Some(3 * BLOCK)
        );
        assert_eq!(decode(b"a: 1\n").unwrap().first_marker, None);
    }

    #[test]
    fn reports_the_first_fault_as_go_yaml_reads() {
        for (input, fault) in [
            (&b"a: \x01 \xff"[..], "control characters are not allowed"),
            (b"a: \xff \x01", "invalid leading UTF-8 octet"),
            (b"a: \xc3( \x01", "invalid trailing UTF-8 octet"),
            (b"a: \x01 \xc3", "control characters are not allowed"),
            (b"a: \xc3", "incomplete UTF-8 octet sequence"),
        ] {
            assert_eq!(decode(input).err(), Some(fault), "{input:?}");
        }
    }

    #[test]
    fn strips_bom_and_reads_utf16() {
        let i = decode(b"\xEF\xBB\xBFa: 1").unwrap();
        assert_eq!((i.text.as_ref(), i.base), ("a: 1", 3));
        let i = decode(b"\xFF\xFEa\x00:\x00").unwrap();
        assert_eq!(i.text.as_ref(), "a:");
        assert!(i.transcoded);
    }
}
