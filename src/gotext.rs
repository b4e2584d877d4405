//! Go's text forms of numbers, booleans, times and quoted strings, as sops writes and reads
//! them.
//!
//! sops is written in Go, so its byte-exact output depends on `strconv.FormatFloat`,
//! `encoding/json`, `time.Time.MarshalText` and `strconv.Quote`; these functions reproduce them.

use time::{OffsetDateTime, UtcOffset};

/// Shortest round-trip digits of a finite float: (negative, digits without dot, decimal
/// exponent of the first digit). `0.0` gives ("0", 0).
fn shortest_digits(f: f64) -> (bool, String, i32) {
    // `{:e}` prints the shortest digits that round-trip, as `d.ddde<exp>`.
    let s = format!("{:e}", f.abs());
    let (mantissa, exp) = s.split_once('e').expect("{:e} always has an exponent");
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let exp: i32 = exp.parse().expect("{:e} exponent is an integer");
    (f.is_sign_negative(), digits, exp)
}

fn non_finite(f: f64) -> Option<&'static str> {
    if f.is_nan() {
        Some("NaN")
    } else if f == f64::INFINITY {
        Some("+Inf")
    } else if f == f64::NEG_INFINITY {
        Some("-Inf")
    } else {
        None
    }
}

/// `digits` with an exponent of the first digit, written without exponent.
fn plain_form(neg: bool, digits: &str, exp: i32) -> String {
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(digits);
    } else {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.push_str(digits);
            for _ in digits.len()..int_len {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    }
    out
}

/// `d.ddd` + `e` + sign + at least `min_exp_digits` exponent digits.
fn exp_form(neg: bool, digits: &str, exp: i32, e: char, min_exp_digits: usize) -> String {
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    out.push_str(&digits[..1]);
    if digits.len() > 1 {
        out.push('.');
        out.push_str(&digits[1..]);
    }
    out.push(e);
    out.push(if exp < 0 { '-' } else { '+' });
    out.push_str(&format!(
        "{:0width$}",
        exp.unsigned_abs(),
        width = min_exp_digits
    ));
    out
}

/// Go `strconv.FormatFloat(f, 'f', -1, 64)`: the form sops encrypts floats in.
pub fn float_f(f: f64) -> String {
    if let Some(s) = non_finite(f) {
        return s.to_string();
    }
    let (neg, digits, exp) = shortest_digits(f);
    plain_form(neg, &digits, exp)
}

/// Go `strconv.FormatFloat(f, 'g' or 'G', -1, 64)`.
fn float_g(f: f64, e: char) -> String {
    if let Some(s) = non_finite(f) {
        return s.to_string();
    }
    let (neg, digits, exp) = shortest_digits(f);
    if !(-4..6).contains(&exp) {
        exp_form(neg, &digits, exp, e, 2)
    } else {
        plain_form(neg, &digits, exp)
    }
}

/// How go-yaml writes a float: `'g'` form, with `.inf`, `-.inf` and `.nan`.
pub fn float_yaml(f: f64) -> String {
    if f.is_nan() {
        ".nan".into()
    } else if f == f64::INFINITY {
        ".inf".into()
    } else if f == f64::NEG_INFINITY {
        "-.inf".into()
    } else {
        float_g(f, 'e')
    }
}

/// How Go's `encoding/json` writes a finite float. `None` for NaN and infinities, which JSON
/// cannot hold.
pub fn float_json(f: f64) -> Option<String> {
    if !f.is_finite() {
        return None;
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let (neg, digits, exp) = shortest_digits(f);
        // Go writes `e-07` and then trims it to `e-7`; positive exponents stay two digits.
        let min = if exp < 0 { 1 } else { 2 };
        Some(exp_form(neg, &digits, exp, 'e', min))
    } else {
        Some(float_f(f))
    }
}

/// sops `ValToString` for floats (dotenv, INI, exec-env): `'G'` form, and one decimal when the
/// result would read as an integer.
pub fn float_text(f: f64) -> String {
    let g = float_g(f, 'E');
    if g.contains('.') || g.contains('E') || !f.is_finite() {
        g
    } else {
        format!("{g}.0")
    }
}

/// Go `strconv.ParseFloat(s, 64)`, close enough for the decimal and special forms sops uses.
pub fn parse_float(s: &str) -> Option<f64> {
    if s.is_empty() || s.contains('_') {
        return None;
    }
    let lower = s.to_ascii_lowercase();
    let body = lower.trim_start_matches(['+', '-']);
    if matches!(body, "inf" | "infinity" | "nan") {
        return lower.parse().ok();
    }
    if !body.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return None;
    }
    s.parse().ok()
}

/// Go `strconv.Atoi`: optional sign, decimal digits, fits in i64.
pub fn parse_int(s: &str) -> Option<i64> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Go `strconv.ParseBool`.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// How sops encrypts a bool: Title case, a heritage of the Python version.
pub fn bool_title(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

fn push_offset(out: &mut String, offset: UtcOffset) {
    if offset.is_utc() {
        out.push('Z');
    } else {
        let (h, m, _) = offset.as_hms();
        let sign = if offset.is_negative() { '-' } else { '+' };
        out.push_str(&format!("{sign}{:02}:{:02}", h.abs(), m.abs()));
    }
}

fn date_time(t: &OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Go `time.Time.MarshalText` (RFC 3339 with nanoseconds, trailing zeros trimmed).
pub fn time_nano(t: &OffsetDateTime) -> String {
    let mut out = date_time(t);
    let nanos = t.nanosecond();
    if nanos != 0 {
        let frac = format!("{nanos:09}");
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
    push_offset(&mut out, t.offset());
    out
}

/// Go `t.Format(time.RFC3339)`: seconds precision.
pub fn time_seconds(t: &OffsetDateTime) -> String {
    let mut out = date_time(t);
    push_offset(&mut out, t.offset());
    out
}

/// Go `time.Parse(time.RFC3339, s)` (fractional seconds accepted, as Go does).
pub fn parse_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

/// The current time in UTC at seconds precision, as sops stamps `lastmodified`.
pub fn now_seconds() -> String {
    let now = OffsetDateTime::now_utc();
    time_seconds(&now.replace_nanosecond(0).unwrap_or(now))
}

/// `text` as a JSON string literal (RFC 8259 escapes only).
pub fn json_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go `strconv.Quote` (`%q`): a double-quoted Go string literal.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if is_go_print(c) => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// An approximation of Go `unicode.IsPrint`: no controls, no spaces but ASCII space, no format
/// characters.
fn is_go_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    !(c.is_control()
        || c.is_whitespace()
        || matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}'
            | '\u{e000}'..='\u{f8ff}'))
}

/// Go `time.Time.String()` for the zones go-yaml produces.
pub fn go_time_string(t: &time::OffsetDateTime) -> String {
    let mut s = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    if t.nanosecond() != 0 {
        let frac = format!("{:09}", t.nanosecond());
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    let off = t.offset();
    let (h, m, _) = off.as_hms();
    let zone = format!(
        "{}{:02}{:02}",
        if off.is_negative() { '-' } else { '+' },
        h.unsigned_abs(),
        m.unsigned_abs()
    );
    if off.is_utc() {
        s.push_str(" +0000 UTC");
    } else {
        s.push_str(&format!(" {zone} {zone}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_f_matches_go() {
        for (f, s) in [
            (1.0, "1"),
            (0.5, "0.5"),
            (1e21, "1000000000000000000000"),
            (1e-7, "0.0000001"),
            (-0.0, "-0"),
            (1234.56789, "1234.56789"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
        ] {
            assert_eq!(float_f(f), s, "{f}");
        }
    }

    #[test]
    fn float_yaml_matches_go_yaml() {
        for (f, s) in [
            (1e6, "1e+06"),
            (1234568000.0, "1.234568e+09"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (123456.5, "123456.5"),
            (1e21, "1e+21"),
            (1.0, "1"),
            (-0.0, "-0"),
            (f64::INFINITY, ".inf"),
            (f64::NEG_INFINITY, "-.inf"),
            (f64::NAN, ".nan"),
            (1e100, "1e+100"),
        ] {
            assert_eq!(float_yaml(f), s, "{f}");
        }
    }

    #[test]
    fn float_json_matches_encoding_json() {
        for (f, s) in [
            (1.0, "1"),
            (0.000001, "0.000001"),
            (1e20, "100000000000000000000"),
            (1e-7, "1e-7"),
            (1e21, "1e+21"),
            (1.5e300, "1.5e+300"),
            (1.2345678901234568e29, "1.2345678901234568e+29"),
            (0.0, "0"),
        ] {
            assert_eq!(float_json(f).unwrap(), s, "{f}");
        }
        assert_eq!(float_json(f64::NAN), None);
    }

    #[test]
    fn float_text_matches_val_to_string() {
        for (f, s) in [
            (1.0, "1.0"),
            (100000.0, "100000.0"),
            (1e21, "1E+21"),
            (0.5, "0.5"),
            (1234.56789, "1234.56789"),
        ] {
            assert_eq!(float_text(f), s, "{f}");
        }
    }

    #[test]
    fn parses_like_strconv() {
        assert_eq!(parse_int("-42"), Some(-42));
        assert_eq!(parse_int("+7"), Some(7));
        assert_eq!(parse_int("1.0"), None);
        assert_eq!(parse_int(""), None);
        assert_eq!(parse_float("1e3"), Some(1000.0));
        assert_eq!(parse_float("+Inf"), Some(f64::INFINITY));
        assert!(parse_float("NaN").unwrap().is_nan());
        assert_eq!(parse_float("abc"), None);
        assert_eq!(parse_bool("True"), Some(true));
        assert_eq!(parse_bool("yes"), None);
    }

    #[test]
    fn times_like_go() {
        let t = parse_time("2001-12-14T21:59:43.1-05:00").unwrap();
        assert_eq!(time_nano(&t), "2001-12-14T21:59:43.1-05:00");
        assert_eq!(time_seconds(&t), "2001-12-14T21:59:43-05:00");
        let z = parse_time("2024-01-01T00:00:00+00:00").unwrap();
        assert_eq!(time_nano(&z), "2024-01-01T00:00:00Z");
        assert_eq!(now_seconds().len(), 20);
    }

    #[test]
    fn go_quote_matches_strconv_quote() {
        assert_eq!(go_quote("a\"b\\c\n\t\u{7}"), r#""a\"b\\c\n\t\a""#);
        assert_eq!(go_quote("é日😀"), "\"é日😀\"");
        assert_eq!(
            go_quote("\u{1}\u{7f}\u{a0}\u{2028}"),
            r#""\x01\x7f\u00a0\u2028""#
        );
    }
}
