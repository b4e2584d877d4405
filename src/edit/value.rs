//! Scalar values as people type them: the text an editor shows for a value, and that text
//! read back as a chosen type (string, int, float or bool), with a clear error when it does
//! not fit.

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
}

impl ValueKind {
    /// In the order a type picker cycles through them.
    pub const ALL: [ValueKind; 4] = [
        ValueKind::Str,
        ValueKind::Int,
        ValueKind::Float,
        ValueKind::Bool,
    ];

    /// The type a scalar has, where it is one of the four (`None` for null, time, uint64).
    pub fn of(value: &Scalar) -> Option<ValueKind> {
        match value {
            Scalar::Str(_) => Some(ValueKind::Str),
            Scalar::Int(_) => Some(ValueKind::Int),
            Scalar::Float(_) => Some(ValueKind::Float),
            Scalar::Bool(_) => Some(ValueKind::Bool),
            Scalar::Null | Scalar::Uint(_) | Scalar::Time(_) => None,
        }
    }

    /// The name sops uses in `ENC[...,type:NAME]`.
    pub fn name(self) -> &'static str {
        match self {
            ValueKind::Str => "str",
            ValueKind::Int => "int",
            ValueKind::Float => "float",
            ValueKind::Bool => "bool",
        }
    }
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
    fn shows_values_as_text() {
        assert_eq!(text_of(&Scalar::Float(1.5)).as_str(), Some("1.5"));
        assert_eq!(text_of(&Scalar::Bool(true)).as_str(), Some("true"));
    }
}
