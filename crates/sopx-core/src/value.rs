//! Typed leaf values, and the byte forms sops uses for them.
//!
//! A value keeps the text it had in the file (`text`) so that output can be
//! written back exactly as it was read. The MAC, however, is computed over
//! the form sops's `ToBytes` produces after parsing that text, so both tools
//! agree on it whatever spelling the file used.

use zeroize::{Zeroize, ZeroizeOnDrop};

/// The type tag sops stores in `ENC[...,type:T]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Str,
    Int,
    Float,
    Bool,
    Time,
    Bytes,
    Comment,
}

impl Kind {
    pub fn tag(self) -> &'static str {
        match self {
            Kind::Str => "str",
            Kind::Int => "int",
            Kind::Float => "float",
            Kind::Bool => "bool",
            Kind::Time => "time",
            Kind::Bytes => "bytes",
            Kind::Comment => "comment",
        }
    }

    pub fn from_tag(tag: &str) -> Option<Kind> {
        Some(match tag {
            "str" => Kind::Str,
            "int" | "int64" => Kind::Int,
            "float" => Kind::Float,
            "bool" => Kind::Bool,
            "time" => Kind::Time,
            "bytes" => Kind::Bytes,
            "comment" => Kind::Comment,
            _ => return None,
        })
    }
}

/// A plaintext leaf: its kind and its text (the exact bytes sopx encrypts).
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Plain {
    #[zeroize(skip)]
    pub kind: Kind,
    pub text: Vec<u8>,
}

impl std::fmt::Debug for Plain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Plain({}, <redacted>)", self.kind.tag())
    }
}

impl Plain {
    pub fn new(kind: Kind, text: impl Into<Vec<u8>>) -> Plain {
        Plain {
            kind,
            text: text.into(),
        }
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.text).unwrap_or("")
    }

    /// The bytes sops feeds to the MAC for this value (`ToBytes` of the value
    /// sops would hold after parsing it).
    pub fn mac_bytes(&self) -> std::borrow::Cow<'_, [u8]> {
        use std::borrow::Cow;
        match self.kind {
            Kind::Str | Kind::Bytes | Kind::Comment => Cow::Borrowed(&self.text),
            Kind::Int => {
                let s = self.as_str();
                match s.trim_start_matches('+').parse::<i64>() {
                    Ok(n) => Cow::Owned(n.to_string().into_bytes()),
                    Err(_) => Cow::Borrowed(&self.text),
                }
            }
            Kind::Float => match parse_go_float(self.as_str()) {
                Some(f) => Cow::Owned(go_format_float(f).into_bytes()),
                None => Cow::Borrowed(&self.text),
            },
            Kind::Bool => {
                if parse_go_bool(self.as_str()).unwrap_or(false) {
                    Cow::Borrowed(b"True")
                } else {
                    Cow::Borrowed(b"False")
                }
            }
            Kind::Time => match crate::timefmt::normalize_time_value(self.as_str()) {
                Some(t) => Cow::Owned(t.into_bytes()),
                None => Cow::Borrowed(&self.text),
            },
        }
    }
}

/// `strconv.ParseBool`.
pub fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Decimal integer text that Go's `strconv.Atoi` accepts and that fits in i64.
pub fn is_go_int(s: &str) -> bool {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && s.parse::<i64>().is_ok()
}

/// Decimal float text that both Go's `strconv.ParseFloat` and Rust accept.
pub fn parse_go_float(s: &str) -> Option<f64> {
    match s {
        "+Inf" | "Inf" | "inf" | "+inf" | "Infinity" | "+Infinity" => return Some(f64::INFINITY),
        "-Inf" | "-inf" | "-Infinity" => return Some(f64::NEG_INFINITY),
        "NaN" | "nan" => return Some(f64::NAN),
        _ => {}
    }
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut ndig = i - start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let f = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        ndig += i - f;
    }
    if ndig == 0 {
        return None;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let e = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == e {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    let v: f64 = s.parse().ok()?;
    if v.is_infinite() {
        return None; // Go reports ErrRange
    }
    Some(v)
}

/// `strconv.FormatFloat(f, 'f', -1, 64)`: shortest round-trip digits, never
/// an exponent.
pub fn go_format_float(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f == f64::INFINITY {
        "+Inf".into()
    } else if f == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        // Rust's Display prints the shortest round-trip digits without exponent.
        format!("{f}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_float_formatting_matches_strconv() {
        assert_eq!(go_format_float(1.0), "1");
        assert_eq!(go_format_float(2.5), "2.5");
        assert_eq!(go_format_float(1e21), "1000000000000000000000");
        assert_eq!(go_format_float(1e-7), "0.0000001");
        assert_eq!(go_format_float(9007199254740993.0), "9007199254740992");
        assert_eq!(go_format_float(f64::INFINITY), "+Inf");
    }

    #[test]
    fn mac_bytes_use_sops_canonical_forms() {
        assert_eq!(&*Plain::new(Kind::Float, "2.50").mac_bytes(), b"2.5");
        assert_eq!(&*Plain::new(Kind::Int, "+7").mac_bytes(), b"7");
        assert_eq!(&*Plain::new(Kind::Bool, "TRUE").mac_bytes(), b"True");
        assert_eq!(&*Plain::new(Kind::Bool, "false").mac_bytes(), b"False");
        assert_eq!(&*Plain::new(Kind::Str, "x").mac_bytes(), b"x");
    }

    #[test]
    fn go_number_syntax() {
        assert!(is_go_int("-12"));
        assert!(!is_go_int("0x1F"));
        assert!(!is_go_int("99999999999999999999"));
        assert_eq!(parse_go_float("1e3"), Some(1000.0));
        assert_eq!(parse_go_float(".5"), Some(0.5));
        assert_eq!(parse_go_float(".inf"), None);
        assert_eq!(parse_go_float("1_0"), None);
    }
}
