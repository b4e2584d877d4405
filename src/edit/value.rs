//! Scalar values as people type them: the text an editor shows for a value, that text read
//! back as a chosen type (string, int, float, bool or null) with a clear error when it does
//! not fit, and a new value's type inferred from its text as YAML would read it.

use crate::gotext;
use crate::secret::SecretBuf;
use crate::tree::Scalar;

/// The types a value can be changed to by hand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    Str,
    Int,
    Float,
    Bool,
    Null,
}

impl ValueKind {
    /// In the order a type picker lists them.
    pub const ALL: [ValueKind; 5] = [
        ValueKind::Str,
        ValueKind::Int,
        ValueKind::Float,
        ValueKind::Bool,
        ValueKind::Null,
    ];

    /// The type a scalar has, where it is one of these (`None` for time and uint64).
    pub fn of(value: &Scalar) -> Option<ValueKind> {
        match value {
            Scalar::Str(_) => Some(ValueKind::Str),
            Scalar::Int(_) => Some(ValueKind::Int),
            Scalar::Float(_) => Some(ValueKind::Float),
            Scalar::Bool(_) => Some(ValueKind::Bool),
            Scalar::Null => Some(ValueKind::Null),
            Scalar::Uint(_) | Scalar::Time(_) => None,
        }
    }

    /// The name sops uses in `ENC[...,type:NAME]` (null values are never encrypted).
    pub fn name(self) -> &'static str {
        match self {
            ValueKind::Str => "str",
            ValueKind::Int => "int",
            ValueKind::Float => "float",
            ValueKind::Bool => "bool",
            ValueKind::Null => "null",
        }
    }

    /// The key that picks it in the type menu, and the word shown beside it.
    pub fn key(self) -> (char, &'static str) {
        match self {
            ValueKind::Str => ('s', "string"),
            ValueKind::Int => ('i', "int"),
            ValueKind::Float => ('f', "float"),
            ValueKind::Bool => ('b', "bool"),
            ValueKind::Null => ('n', "null"),
        }
    }
}

/// A new value as its text reads in YAML: a scalar, or an empty map (`{}`) or list (`[]`).
#[derive(Debug, PartialEq)]
pub enum Typed {
    Scalar(Scalar),
    Map,
    List,
}

/// The type a newly typed value has, as YAML reads a plain value: `30` an int, `2.5` a float,
/// `true` a bool, `null` or `~` null, `{}` an empty map, `[]` an empty list, and `"30"` (or
/// `'30'`) the string 30. Anything else, empty or several lines, is the text itself as a string:
/// nothing typed is ever dropped (YAML would cut `p@ss #1` at the `#`).
pub fn infer(text: &str) -> Typed {
    use crate::store::yaml::{Resolved, resolve_plain};
    match text {
        "{}" => return Typed::Map,
        "[]" => return Typed::List,
        "" => return Typed::Scalar(Scalar::Str(SecretBuf::default())),
        _ => {}
    }
    for q in ['"', '\''] {
        if let Some(inner) = text.strip_prefix(q).and_then(|t| t.strip_suffix(q))
            && !inner.contains(q)
            && !inner.contains('\n')
        {
            return Typed::Scalar(Scalar::Str(inner.into()));
        }
    }
    if text.contains('\n') || text.trim() != text {
        return Typed::Scalar(Scalar::Str(text.into()));
    }
    Typed::Scalar(match resolve_plain(text) {
        Resolved::Null => Scalar::Null,
        Resolved::Bool(b) => Scalar::Bool(b),
        Resolved::Int(i) => Scalar::Int(i),
        Resolved::Float(f) if f.is_finite() => Scalar::Float(f),
        // Times, uint64 beyond int64, infinities and NaN stay the text the person typed.
        Resolved::Uint(_) | Resolved::Float(_) | Resolved::Time(_) | Resolved::Str => {
            Scalar::Str(text.into())
        }
    })
}

/// Text that does not read as the wanted type. Holds no part of the text (it may be secret).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{hint}")]
pub struct ValueError {
    pub kind: ValueKind,
    pub hint: &'static str,
}

/// The text of a scalar as an editor shows it (a string's own bytes, numbers as sops writes
/// them, `true`/`false`).
pub fn text_of(value: &Scalar) -> SecretBuf {
    match value {
        Scalar::Str(s) => s.clone(),
        Scalar::Int(i) => i.to_string().into(),
        Scalar::Uint(u) => u.to_string().into(),
        Scalar::Float(f) => gotext::float_f(*f).into(),
        Scalar::Bool(b) => if *b { "true" } else { "false" }.into(),
        Scalar::Time(t) => gotext::time_nano(t).into(),
        Scalar::Null => SecretBuf::default(),
    }
}

/// Reads `text` as a value of type `kind`.
pub fn parse(kind: ValueKind, text: &str) -> Result<Scalar, ValueError> {
    let t = text.trim();
    match kind {
        ValueKind::Str => Ok(Scalar::Str(text.into())),
        ValueKind::Int => t.parse::<i64>().map(Scalar::Int).map_err(|_| ValueError {
            kind,
            hint: "not an integer: use digits with an optional sign, e.g. 42 or -7",
        }),
        ValueKind::Float => match t.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Scalar::Float(f)),
            _ => Err(ValueError {
                kind,
                hint: "not a number: use e.g. 3.14, -0.5 or 1e6",
            }),
        },
        ValueKind::Bool => match t.to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" => Ok(Scalar::Bool(true)),
            "false" | "no" | "off" => Ok(Scalar::Bool(false)),
            _ => Err(ValueError {
                kind,
                hint: "not a boolean: use true or false",
            }),
        },
        ValueKind::Null => match t {
            "" | "null" | "~" => Ok(Scalar::Null),
            _ => Err(ValueError {
                kind,
                hint: "a null value holds no text: clear it, or choose another type with t",
            }),
        },
    }
}

/// The value converted to another type, keeping what it says (`"42"` → 42, 1 → `true`).
pub fn convert(value: &Scalar, kind: ValueKind) -> Result<Scalar, ValueError> {
    match (value, kind) {
        (Scalar::Int(i), ValueKind::Bool) => Ok(Scalar::Bool(*i != 0)),
        (Scalar::Bool(b), ValueKind::Int) => Ok(Scalar::Int(i64::from(*b))),
        (Scalar::Bool(b), ValueKind::Float) => Ok(Scalar::Float(if *b { 1.0 } else { 0.0 })),
        (Scalar::Float(f), ValueKind::Int) if f.fract() == 0.0 && f.abs() < 9.0e18 => {
            Ok(Scalar::Int(*f as i64))
        }
        (Scalar::Null, ValueKind::Str) => Ok(Scalar::Str(SecretBuf::default())),
        (_, ValueKind::Null) => Ok(Scalar::Null),
        _ => {
            let text = text_of(value);
            let s = text.as_str().ok_or(ValueError {
                kind,
                hint: "the value is not valid UTF-8 text",
            })?;
            parse(kind, s)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_type_and_rejects_bad_text() {
        assert_eq!(parse(ValueKind::Int, " 42 "), Ok(Scalar::Int(42)));
        assert!(parse(ValueKind::Int, "4.2").is_err());
        assert_eq!(parse(ValueKind::Float, "1e3"), Ok(Scalar::Float(1000.0)));
        assert!(parse(ValueKind::Float, "NaN").is_err());
        assert_eq!(parse(ValueKind::Bool, "True"), Ok(Scalar::Bool(true)));
        assert!(parse(ValueKind::Bool, "maybe").is_err());
        assert_eq!(parse(ValueKind::Str, " x "), Ok(Scalar::str(" x ")));
    }

    #[test]
    fn converts_between_types() {
        assert_eq!(
            convert(&Scalar::str("7"), ValueKind::Int),
            Ok(Scalar::Int(7))
        );
        assert_eq!(
            convert(&Scalar::Int(7), ValueKind::Str),
            Ok(Scalar::str("7"))
        );
        assert_eq!(
            convert(&Scalar::Int(0), ValueKind::Bool),
            Ok(Scalar::Bool(false))
        );
        assert_eq!(
            convert(&Scalar::Float(2.0), ValueKind::Int),
            Ok(Scalar::Int(2))
        );
        let err = convert(&Scalar::str("secret"), ValueKind::Int).unwrap_err();
        assert!(!err.to_string().contains("secret"));
    }

    #[test]
    fn infers_a_new_values_type_as_yaml_reads_it() {
        let scalar = |t: &str| match infer(t) {
            Typed::Scalar(s) => s,
            other => panic!("{t}: {other:?}"),
        };
        assert_eq!(scalar("30"), Scalar::Int(30));
        assert_eq!(scalar("-2.5"), Scalar::Float(-2.5));
        assert_eq!(scalar("true"), Scalar::Bool(true));
        assert_eq!(scalar("~"), Scalar::Null);
        assert_eq!(scalar("null"), Scalar::Null);
        assert_eq!(infer("{}"), Typed::Map);
        assert_eq!(infer("[]"), Typed::List);
        assert_eq!(scalar("\"30\""), Scalar::str("30"));
        assert_eq!(scalar("'true'"), Scalar::str("true"));
        // Text stays text, whole: YAML would end it at " #", drop the spaces or refuse it.
        for text in [
            "p@ss #1",
            " 30",
            "a: b",
            "yes",
            "1\n2",
            "",
            "2024-01-01",
            ".inf",
            "\"a\"b\"",
        ] {
            assert_eq!(scalar(text), Scalar::str(text), "{text:?}");
        }
    }

    #[test]
    fn null_is_a_type_too() {
        assert_eq!(parse(ValueKind::Null, ""), Ok(Scalar::Null));
        assert!(parse(ValueKind::Null, "x").is_err());
        assert_eq!(convert(&Scalar::Int(3), ValueKind::Null), Ok(Scalar::Null));
        assert_eq!(ValueKind::of(&Scalar::Null), Some(ValueKind::Null));
    }

    #[test]
    fn shows_values_as_text() {
        assert_eq!(text_of(&Scalar::Float(1.5)).as_str(), Some("1.5"));
        assert_eq!(text_of(&Scalar::Bool(true)).as_str(), Some("true"));
    }
}
