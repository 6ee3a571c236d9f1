//! YAML scalars: resolving them to sops's types (as Go's yaml.v3 does) and
//! writing values back in a chosen style.

use crate::timefmt;
use crate::value::{self, Kind, Plain};

/// How a scalar is written in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    Single,
    Double,
    Literal,
    Folded,
}

/// What a scalar resolves to.
pub enum Resolved {
    Null,
    Value(Plain),
}

/// Resolves a scalar's value as yaml.v3 does when decoding into `interface{}`.
/// The kept text is the source spelling when Go's strconv accepts it (so
/// output can repeat it), otherwise sops's canonical form.
pub fn resolve(value: &str, style: Style, tag: Option<&str>) -> Resolved {
    let str_ = || Resolved::Value(Plain::new(Kind::Str, value));
    match tag {
        Some("str") | Some("binary") => return str_(),
        Some("null") => return Resolved::Null,
        Some("bool") => {
            return match value::parse_go_bool(value) {
                Some(_) => Resolved::Value(Plain::new(Kind::Bool, value)),
                None => str_(),
            };
        }
        Some("int") => return resolve_int(value).unwrap_or_else(str_),
        Some("float") => {
            return resolve_float(value)
                .or_else(|| resolve_int(value))
                .unwrap_or_else(str_);
        }
        Some("timestamp") => {
            return match timefmt::normalize_time_value(value) {
                Some(t) => Resolved::Value(Plain::new(Kind::Time, t)),
                None => str_(),
            };
        }
        Some(_) => return str_(),
        None => {}
    }
    if style != Style::Plain {
        return str_();
    }
    match value {
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        "true" | "True" | "TRUE" | "false" | "False" | "FALSE" => {
            return Resolved::Value(Plain::new(Kind::Bool, value));
        }
        _ => {}
    }
    let first = value.as_bytes()[0];
    if first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.') {
        if let Some(r) = resolve_int(value) {
            return r;
        }
        if let Some(r) = resolve_float(value) {
            return r;
        }
        if timefmt::is_yaml_timestamp(value) {
            // Go's RFC3339 parser (used by sops to decrypt) takes the text
            // as written; other spellings are stored in sops's own form.
            let t = if timefmt::is_strict_rfc3339(value) {
                value.to_string()
            } else {
                timefmt::normalize_time_value(value).unwrap_or_else(|| value.to_string())
            };
            return Resolved::Value(Plain::new(Kind::Time, t));
        }
    }
    str_()
}

/// Go's `strconv.ParseInt(s, 0, 64)` after removing `_`, as yaml.v3 does.
fn resolve_int(s: &str) -> Option<Resolved> {
    if value::is_go_int(s) {
        let digits = s.trim_start_matches(['+', '-']);
        if !(digits.len() > 1 && digits.starts_with('0')) {
            return Some(Resolved::Value(Plain::new(Kind::Int, s)));
        }
    }
    let t = s.replace('_', "");
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, &t[..]),
    };
    if body.is_empty() || !body.as_bytes()[0].is_ascii_digit() {
        return None;
    }
    let parsed = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        i128::from_str_radix(h, 16)
    } else if let Some(o) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
        i128::from_str_radix(o, 8)
    } else if let Some(b) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
        i128::from_str_radix(b, 2)
    } else if body.len() > 1 && body.starts_with('0') {
        i128::from_str_radix(&body[1..], 8)
    } else {
        body.parse::<i128>()
    }
    .ok()?;
    let n = if neg { -parsed } else { parsed };
    if n >= i64::MIN as i128 && n <= i64::MAX as i128 {
        Some(Resolved::Value(Plain::new(Kind::Int, n.to_string())))
    } else if value::parse_go_float(s).is_some() {
        // Beyond int64 sops cannot hold it as an int; a float keeps the value
        // readable by sops while sopx keeps every digit of the text.
        Some(Resolved::Value(Plain::new(Kind::Float, s)))
    } else {
        None
    }
}

fn resolve_float(s: &str) -> Option<Resolved> {
    let special = match s {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Some("+Inf"),
        "-.inf" | "-.Inf" | "-.INF" => Some("-Inf"),
        ".nan" | ".NaN" | ".NAN" => Some("NaN"),
        _ => None,
    };
    if let Some(t) = special {
        return Some(Resolved::Value(Plain::new(Kind::Float, t)));
    }
    if !is_yaml_float(s) {
        return None;
    }
    let text = if value::parse_go_float(s).is_some() {
        s.to_string()
    } else {
        value::go_format_float(s.replace('_', "").parse::<f64>().ok()?)
    };
    Some(Resolved::Value(Plain::new(Kind::Float, text)))
}

/// yaml.v3's float syntax: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let d0 = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - d0;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let f0 = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if int_digits == 0 && i == f0 {
            return false;
        }
    } else if int_digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let e0 = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == e0 {
            return false;
        }
    }
    i == b.len()
}

/// The plain-scalar text for a typed (non-string) value.
pub fn typed_text(p: &Plain) -> String {
    let s = p.as_str();
    match p.kind {
        Kind::Float => match s {
            "+Inf" | "Inf" | "inf" | "+inf" | "Infinity" | "+Infinity" => ".inf".into(),
            "-Inf" | "-inf" | "-Infinity" => "-.inf".into(),
            "NaN" | "nan" => ".nan".into(),
            _ => s.into(),
        },
        Kind::Bool => match s {
            "true" | "True" | "TRUE" | "false" | "False" | "FALSE" => s.into(),
            _ => value::parse_go_bool(s).unwrap_or(false).to_string(),
        },
        _ => s.into(),
    }
}

/// Can `s` be written as a new plain scalar? Like yaml.v3, this also
/// quotes YAML 1.1 booleans (`yes`, `on`, …) so YAML 1.1 readers keep them
/// strings.
pub fn plain_safe(s: &str, flow: bool) -> bool {
    plain_ok(s, flow) && !is_yaml11_bool(s)
}

fn is_yaml11_bool(s: &str) -> bool {
    matches!(
        s,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
    )
}

/// Can `s` go back into a slot that was a plain scalar in the source? Any
/// string that reads back as the same string (YAML 1.2) can.
pub fn plain_ok(s: &str, flow: bool) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if s.starts_with([' ', '\t']) || s.ends_with([' ', '\t', ':']) {
        return false;
    }
    if s.chars().any(|c| c.is_control() || c == '\u{feff}') {
        return false;
    }
    if s.contains(": ") || s.contains(" #") || s.contains(":\t") || s.contains("\t#") {
        return false;
    }
    if flow && s.contains([',', '[', ']', '{', '}']) {
        return false;
    }
    if s.starts_with("---") || s.starts_with("...") {
        return false;
    }
    let second_blank = s[first.len_utf8()..]
        .chars()
        .next()
        .is_none_or(|c| c == ' ');
    match first {
        '-' | '?' | ':' if second_blank => return false,
        '-' | '?' | ':' => {}
        ',' | '[' | ']' | '{' | '}' | '#' | '&' | '*' | '!' | '|' | '>' | '\'' | '"' | '%'
        | '@' | '`' => return false,
        _ => {}
    }
    // Strings that would read back as another type, including YAML 1.1
    // booleans that yaml.v3 quotes on output.
    if !matches!(
        resolve(s, Style::Plain, None),
        Resolved::Value(Plain {
            kind: Kind::Str,
            ..
        })
    ) {
        return false;
    }
    !(flow && s.contains('#'))
}

/// Can `s` be written single-quoted on one line?
pub fn single_safe(s: &str) -> bool {
    !s.chars().any(|c| c.is_control() || c == '\u{feff}')
}

pub fn single_quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

pub fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{b}' => out.push_str("\\v"),
            '\u{c}' => out.push_str("\\f"),
            '\u{1b}' => out.push_str("\\e"),
            '\u{85}' => out.push_str("\\N"),
            '\u{a0}' => out.push_str("\\_"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            '\u{feff}' => out.push_str("\\ufeff"),
            c if c.is_control() => {
                let n = c as u32;
                if n <= 0xff {
                    out.push_str(&format!("\\x{n:02x}"));
                } else {
                    out.push_str(&format!("\\u{n:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Writes `s` as a block scalar body (`|` or `>` family) if it can be read
/// back exactly: returns the header (`|`, `|-`, `|+`, `>-`, …) and the
/// indented lines (each ending in `\n`).
pub fn block(s: &str, folded: bool, indent: usize) -> Option<(String, String)> {
    if s.is_empty()
        || s.chars()
            .any(|c| (c.is_control() && c != '\n' && c != '\t') || c == '\u{feff}')
    {
        return None;
    }
    let body = s.trim_end_matches('\n');
    let trailing = s.len() - body.len();
    // Without an indentation indicator, the first line with text sets the
    // indentation: it must not start with a blank (nor may the value start
    // with a line break, which a reader would take as leading blank lines
    // of an unknown indentation).
    let first_text = body.trim_start_matches('\n');
    if body.is_empty() || body.starts_with('\n') || first_text.starts_with([' ', '\t']) {
        return None;
    }
    let lines: Vec<&str> = body.split('\n').collect();
    if lines.iter().any(|l| !l.is_empty() && l.trim().is_empty())
        || lines.iter().any(|l| l.ends_with([' ', '\t']) && folded)
    {
        return None;
    }
    if folded && (lines.len() > 1 || body.contains("  ")) {
        return None;
    }
    let chomp = match trailing {
        0 => "-",
        1 => "",
        _ => "+",
    };
    let header = format!("{}{}", if folded { '>' } else { '|' }, chomp);
    let pad = " ".repeat(indent);
    let mut out = String::with_capacity(s.len() + lines.len() * (indent + 1));
    for l in &lines {
        if !l.is_empty() {
            out.push_str(&pad);
            out.push_str(l);
        }
        out.push('\n');
    }
    for _ in 1..trailing {
        out.push('\n');
    }
    Some((header, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(s: &str) -> Option<(Kind, String)> {
        match resolve(s, Style::Plain, None) {
            Resolved::Null => None,
            Resolved::Value(p) => Some((p.kind, p.as_str().to_string())),
        }
    }

    #[test]
    fn resolves_like_yaml_v3() {
        assert_eq!(kind("12"), Some((Kind::Int, "12".into())));
        assert_eq!(kind("+5"), Some((Kind::Int, "+5".into())));
        assert_eq!(kind("0x1F"), Some((Kind::Int, "31".into())));
        assert_eq!(kind("1.50"), Some((Kind::Float, "1.50".into())));
        assert_eq!(kind("1e3"), Some((Kind::Float, "1e3".into())));
        assert_eq!(kind(".inf"), Some((Kind::Float, "+Inf".into())));
        assert_eq!(kind("True"), Some((Kind::Bool, "True".into())));
        assert_eq!(kind("yes"), Some((Kind::Str, "yes".into())));
        assert_eq!(kind("~"), None);
        assert_eq!(
            kind("2024-01-01"),
            Some((Kind::Time, "2024-01-01T00:00:00Z".into()))
        );
        assert_eq!(kind("1.2.3"), Some((Kind::Str, "1.2.3".into())));
        assert_eq!(kind("-"), Some((Kind::Str, "-".into())));
    }

    #[test]
    fn plain_safety() {
        assert!(plain_safe("hello world", false));
        assert!(plain_safe(
            "ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]",
            false
        ));
        assert!(!plain_safe("ENC[AES256_GCM,data:x]", true));
        for s in [
            "",
            "yes",
            "1.0",
            "null",
            "a: b",
            "a #b",
            " x",
            "- x",
            "#x",
            "'q",
            "true",
            "2024-01-01",
        ] {
            assert!(!plain_safe(s, false), "{s:?}");
        }
    }

    #[test]
    fn block_rendering() {
        assert_eq!(
            block("a\nb\n", false, 2).unwrap(),
            ("|".into(), "  a\n  b\n".into())
        );
        assert_eq!(
            block("a\n\nb", false, 4).unwrap(),
            ("|-".into(), "    a\n\n    b\n".into())
        );
        assert_eq!(
            block("a\n\n", false, 2).unwrap(),
            ("|+".into(), "  a\n\n".into())
        );
        assert!(block(" lead", false, 2).is_none());
        assert_eq!(
            block("one line\n", true, 2).unwrap(),
            (">".into(), "  one line\n".into())
        );
    }

    #[test]
    fn quoting() {
        assert_eq!(single_quoted("it's"), "'it''s'");
        assert_eq!(double_quoted("a\"b\\c\nd\u{1}"), "\"a\\\"b\\\\c\\nd\\x01\"");
    }
}
