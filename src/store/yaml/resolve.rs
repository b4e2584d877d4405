//! Typing of plain scalars and explicit tags, as go-yaml v3's `resolve` (YAML 1.1-flavoured).
//!
//! sops compat: `yes`/`no`/`on`/`off` are strings, `017` is octal, `1_000` is an int, dates are
//! timestamps and `<<` is special. The emitter uses the same rules to decide when a string
//! must be quoted.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// A typed scalar value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Time(OffsetDateTime),
    /// The text is a string (or, for `!!merge`/unknown tags, kept as text).
    Str,
}

/// The first-character hint go-yaml uses to pick the candidate types.
fn hint(value: &str) -> u8 {
    match value.as_bytes().first() {
        None => b'N',
        Some(b'+' | b'-') => b'S',
        Some(b'0'..=b'9') => b'D',
        Some(b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~') => b'M',
        Some(b'.') => b'.',
        _ => 0,
    }
}

/// The fixed spellings of null, booleans, infinities and NaN.
fn lookup(value: &str) -> Option<Resolved> {
    Some(match value {
        "true" | "True" | "TRUE" => Resolved::Bool(true),
        "false" | "False" | "FALSE" => Resolved::Bool(false),
        "" | "~" | "null" | "Null" | "NULL" => Resolved::Null,
        ".nan" | ".NaN" | ".NAN" => Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Resolved::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Resolved::Float(f64::NEG_INFINITY),
        _ => return None,
    })
}

/// The type of an untagged plain scalar.
pub(crate) fn resolve_plain(value: &str) -> Resolved {
    resolve_hinted(value, true)
}

/// The short tag go-yaml gives an untagged plain scalar.
pub(super) fn resolve_tag(value: &str) -> &'static str {
    match resolve_plain(value) {
        Resolved::Null => "!!null",
        Resolved::Bool(_) => "!!bool",
        Resolved::Int(_) | Resolved::Uint(_) => "!!int",
        Resolved::Float(_) => "!!float",
        Resolved::Time(_) => "!!timestamp",
        Resolved::Str => "!!str",
    }
}

fn resolve_hinted(value: &str, timestamps: bool) -> Resolved {
    let h = hint(value);
    if h == 0 {
        return Resolved::Str;
    }
    if let Some(r) = lookup(value) {
        return r;
    }
    match h {
        b'.' => {
            if is_dot_float(value)
                && let Some(f) = finite(value)
            {
                return Resolved::Float(f);
            }
        }
        b'D' | b'S' => {
            if timestamps && let Some(t) = parse_timestamp(value) {
                return Resolved::Time(t);
            }
            let plain: String = value.chars().filter(|&c| c != '_').collect();
            if let Some(i) = go_parse_int(&plain) {
                return Resolved::Int(i);
            }
            if let Some(u) = go_parse_uint(&plain, 0) {
                return Resolved::Uint(u);
            }
            if is_yaml_float(&plain)
                && let Some(f) = finite(&plain)
            {
                return Resolved::Float(f);
            }
            for (prefix, neg_prefix, base) in [("0b", "-0b", 2), ("0o", "-0o", 8)] {
                if let Some(digits) = plain.strip_prefix(prefix) {
                    if let Some(i) = go_parse_int_base(digits, base) {
                        return Resolved::Int(i);
                    }
                    if let Some(u) = go_parse_uint(digits, base) {
                        return Resolved::Uint(u);
                    }
                } else if let Some(digits) = plain.strip_prefix(neg_prefix)
                    && let Some(i) = go_parse_int_base(&format!("-{digits}"), base)
                {
                    return Resolved::Int(i);
                }
            }
        }
        _ => {}
    }
    Resolved::Str
}

/// go-yaml `resolve(tag, value)` for an explicit tag (short form); unknown tags keep the text
/// as a string. Errors carry go-yaml's message.
pub(crate) fn resolve_tagged(tag: &str, value: &str) -> Result<Resolved, String> {
    let (timestamps, target) = match tag {
        "" => return Ok(resolve_plain(value)),
        "!!str" => return Ok(Resolved::Str),
        "!!bool" | "!!int" | "!!float" | "!!null" => (false, tag),
        "!!timestamp" => (true, tag),
        _ => return Ok(Resolved::Str),
    };
    let r = resolve_hinted(value, timestamps);
    let rtag = match &r {
        Resolved::Null => "!!null",
        Resolved::Bool(_) => "!!bool",
        Resolved::Int(_) | Resolved::Uint(_) => "!!int",
        Resolved::Float(_) => "!!float",
        Resolved::Time(_) => "!!timestamp",
        Resolved::Str => "!!str",
    };
    if rtag == target {
        return Ok(r);
    }
    if target == "!!float"
        && let Resolved::Int(i) = r
    {
        return Ok(Resolved::Float(i as f64));
    }
    Err(format!("cannot decode {rtag} `{value}` as a {target}"))
}

fn finite(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// `.digits` with an optional exponent: what Go's ParseFloat accepts after a leading dot.
fn is_dot_float(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
    digits > 0 && exponent_ok(&b[1 + digits..])
}

/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
fn is_yaml_float(s: &str) -> bool {
    let mut b = s.as_bytes();
    if let Some((b'+' | b'-', rest)) = b.split_first() {
        b = rest;
    }
    let int = b.iter().take_while(|c| c.is_ascii_digit()).count();
    b = &b[int..];
    if int == 0 {
        let Some((b'.', rest)) = b.split_first() else {
            return false;
        };
        let frac = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        if frac == 0 {
            return false;
        }
        b = &rest[frac..];
    } else if let Some((b'.', rest)) = b.split_first() {
        let frac = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        b = &rest[frac..];
    }
    exponent_ok(b)
}

fn exponent_ok(b: &[u8]) -> bool {
    match b.split_first() {
        None => true,
        Some((b'e' | b'E', mut rest)) => {
            if let Some((b'+' | b'-', r)) = rest.split_first() {
                rest = r;
            }
            !rest.is_empty() && rest.iter().all(u8::is_ascii_digit)
        }
        _ => false,
    }
}

/// Go `strconv.ParseUint(s, base, 64)`; base 0 reads `0x`, `0o`, `0b` and leading-zero
/// octal prefixes. No sign, no underscores (go-yaml removed them).
pub(crate) fn go_parse_uint(s: &str, base: u32) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let (digits, base) = if base == 0 {
        let b = s.as_bytes();
        if b[0] == b'0' {
            match b.get(1).map(u8::to_ascii_lowercase) {
                Some(b'b') if b.len() >= 3 => (&s[2..], 2),
                Some(b'o') if b.len() >= 3 => (&s[2..], 8),
                Some(b'x') if b.len() >= 3 => (&s[2..], 16),
                _ => (&s[1..], 8),
            }
        } else {
            (s, 10)
        }
    } else {
        (s, base)
    };
    let mut n: u64 = 0;
    for c in digits.chars() {
        let d = c.to_digit(base)?;
        n = n.checked_mul(u64::from(base))?.checked_add(u64::from(d))?;
    }
    Some(n)
}

/// Go `strconv.ParseInt(s, 0, 64)`.
pub(crate) fn go_parse_int(s: &str) -> Option<i64> {
    go_parse_int_base(s, 0)
}

/// Go `strconv.ParseInt(s, base, 64)`: an optional sign, then `go_parse_uint`.
fn go_parse_int_base(s: &str, base: u32) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let u = go_parse_uint(body, base)?;
    if neg {
        if u > 1 << 63 {
            return None;
        }
        Some((u as i64).wrapping_neg())
    } else {
        i64::try_from(u).ok()
    }
}

/// A timestamp in one of go-yaml's accepted forms: `YYYY-M-D`, optionally followed by
/// `T`/`t` + `h:m:s[.frac]` + `Z`/`±hh:mm`, or by a space + `h:m:s[.frac]` (UTC).
pub(crate) fn parse_timestamp(s: &str) -> Option<OffsetDateTime> {
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return None;
    }
    let year: i32 = s[..4].parse().ok()?;
    let mut r = Reader { b, i: 5 };
    let month = r.num()?;
    r.lit(b'-')?;
    let day = r.num()?;
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date = Date::from_calendar_date(year, month, u8::try_from(day).ok()?).ok()?;
    if r.done() {
        return Some(PrimitiveDateTime::new(date, Time::MIDNIGHT).assume_utc());
    }
    let zoned = match r.peek() {
        b'T' | b't' => true,
        b' ' => false,
        _ => return None,
    };
    r.i += 1;
    let hour = r.num()?;
    r.lit(b':')?;
    let minute = r.num()?;
    r.lit(b':')?;
    let second = r.num()?;
    if hour >= 24 || minute >= 60 || second >= 60 {
        return None;
    }
    let mut nanos = 0u32;
    if matches!(r.peek(), b'.' | b',') && r.b.get(r.i + 1).is_some_and(u8::is_ascii_digit) {
        r.i += 1;
        let start = r.i;
        while r.peek().is_ascii_digit() {
            r.i += 1;
        }
        // Go keeps nine digits and drops the rest.
        let digits = &s[start..r.i.min(start + 9)];
        nanos = digits.parse::<u32>().ok()? * 10u32.pow(9 - digits.len() as u32);
    }
    let time = Time::from_hms_nano(hour as u8, minute as u8, second as u8, nanos).ok()?;
    let local = PrimitiveDateTime::new(date, time);
    if !zoned {
        return r.done().then(|| local.assume_utc());
    }
    let offset = match r.peek() {
        b'Z' => {
            r.i += 1;
            UtcOffset::UTC
        }
        sign @ (b'+' | b'-') => {
            let z = r.b.get(r.i..r.i + 6)?;
            if z[3] != b':' || !z[1..3].iter().chain(&z[4..6]).all(u8::is_ascii_digit) {
                return None;
            }
            let hh = i32::from(z[1] - b'0') * 10 + i32::from(z[2] - b'0');
            let mm = i32::from(z[4] - b'0') * 10 + i32::from(z[5] - b'0');
            if hh > 24 || mm > 60 {
                return None;
            }
            r.i += 6;
            let secs = (hh * 60 + mm) * 60;
            UtcOffset::from_whole_seconds(if sign == b'-' { -secs } else { secs }).ok()?
        }
        _ => return None,
    };
    r.done().then(|| local.assume_offset(offset))
}

/// A cursor over timestamp text.
struct Reader<'b> {
    b: &'b [u8],
    i: usize,
}

impl Reader<'_> {
    fn peek(&self) -> u8 {
        self.b.get(self.i).copied().unwrap_or(0)
    }

    fn done(&self) -> bool {
        self.i == self.b.len()
    }

    fn lit(&mut self, c: u8) -> Option<()> {
        (self.peek() == c).then(|| self.i += 1)
    }

    /// One or two digits, greedily (Go's `getnum`).
    fn num(&mut self) -> Option<u32> {
        let d0 = self.peek();
        if !d0.is_ascii_digit() {
            return None;
        }
        self.i += 1;
        let mut n = u32::from(d0 - b'0');
        if self.peek().is_ascii_digit() {
            n = n * 10 + u32::from(self.peek() - b'0');
            self.i += 1;
        }
        Some(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_like_go_parse_int() {
        assert_eq!(go_parse_int("0"), Some(0));
        assert_eq!(go_parse_int("-0x10"), Some(-16));
        assert_eq!(go_parse_int("+0b11"), Some(3));
        assert_eq!(go_parse_int("0O17"), Some(15));
        assert_eq!(go_parse_int("017"), Some(15));
        assert_eq!(go_parse_int("08"), None);
        assert_eq!(go_parse_int("0x"), None);
        assert_eq!(go_parse_int("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(go_parse_int("9223372036854775808"), None);
        assert_eq!(go_parse_uint("+1", 0), None);
        assert_eq!(resolve_plain("0b-101"), Resolved::Int(-5));
        assert_eq!(resolve_plain("-0b101"), Resolved::Int(-5));
        assert_eq!(resolve_plain("1_"), Resolved::Int(1));
        assert_eq!(resolve_plain("_1"), Resolved::Str);
        assert_eq!(resolve_plain("+.5"), Resolved::Float(0.5));
        assert_eq!(resolve_plain("+.nan"), Resolved::Str);
        assert_eq!(resolve_plain("<<"), Resolved::Str);
    }

    #[test]
    fn timestamps_like_go_yaml() {
        let t = |s: &str| parse_timestamp(s).map(|t| crate::gotext::time_nano(&t));
        assert_eq!(t("2001-12-14"), Some("2001-12-14T00:00:00Z".into()));
        assert_eq!(t("2001-2-3 4:05:06"), Some("2001-02-03T04:05:06Z".into()));
        assert_eq!(
            t("2001-12-14T21:59:43,5+01:30"),
            Some("2001-12-14T21:59:43.5+01:30".into())
        );
        assert_eq!(
            t("2001-12-14T21:59:43.1234567891Z"),
            Some("2001-12-14T21:59:43.123456789Z".into())
        );
        for bad in [
            "2001-12-14T21:59:43",
            "2001-13-01",
            "2001-02-29",
            "01-02-03",
            "2001-12-14 24:00:00",
            "2001-12-14x",
            "2001-12-14 21:59:43 +01:00",
        ] {
            assert_eq!(t(bad), None, "{bad}");
        }
    }

    #[test]
    fn explicit_tags() {
        assert_eq!(resolve_tagged("!!float", "2"), Ok(Resolved::Float(2.0)));
        assert_eq!(
            resolve_tagged("!!timestamp", "2001-01-01").map(|r| matches!(r, Resolved::Time(_))),
            Ok(true)
        );
        assert_eq!(
            resolve_tagged("!!int", "x"),
            Err("cannot decode !!str `x` as a !!int".into())
        );
        assert_eq!(
            resolve_tagged("!!bool", "yes"),
            Err("cannot decode !!str `yes` as a !!bool".into())
        );
        assert_eq!(resolve_tagged("!foo", "1"), Ok(Resolved::Str));
    }
}
