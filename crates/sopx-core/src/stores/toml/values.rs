//! Values: what is encrypted, and how it is written back.

use super::*;

/// The plaintext sops would encrypt for a value spelled `raw`.
pub(super) fn plain_of(mut sc: Scalar, raw: &str) -> Plain {
    match &mut sc {
        Scalar::Str(s) => Plain::new(Kind::Str, std::mem::take(s)),
        Scalar::Int(n) => {
            // Go's Atoi reads optional-sign decimal only.
            let text = if is_go_int(raw) {
                raw.to_string()
            } else {
                n.to_string()
            };
            Plain::new(Kind::Int, text)
        }
        Scalar::Float(f) => {
            let text = if !raw.contains('_') && parse_go_float(raw).is_some() {
                raw.to_string()
            } else {
                toml_float_text(*f)
            };
            Plain::new(Kind::Float, text)
        }
        Scalar::Bool(b) => Plain::new(Kind::Bool, if *b { "true" } else { "false" }),
        Scalar::Datetime(dt) => {
            let mut text = raw.to_string();
            if text.len() > 10 && matches!(text.as_bytes()[10], b' ' | b't') {
                text.replace_range(10..11, "T");
            }
            if dt.offset.is_some() && !timefmt::is_strict_rfc3339(&text) {
                text = rfc3339(dt);
            }
            Plain::new(Kind::Time, text)
        }
    }
}

/// An offset date-time as Go's RFC 3339 (nanosecond) form.
pub(super) fn rfc3339(dt: &te::Datetime) -> String {
    let mut s = String::new();
    if let Some(d) = dt.date {
        s.push_str(&format!("{:04}-{:02}-{:02}", d.year, d.month, d.day));
    }
    if let Some(t) = dt.time {
        s.push_str(&format!(
            "T{:02}:{:02}:{:02}",
            t.hour,
            t.minute,
            t.second.unwrap_or(0)
        ));
        if let Some(n) = t.nanosecond.filter(|n| *n != 0) {
            let frac = format!("{n:09}");
            s.push('.');
            s.push_str(frac.trim_end_matches('0'));
        }
    }
    match dt.offset {
        Some(te::Offset::Z) => s.push('Z'),
        Some(te::Offset::Custom { minutes }) => {
            let sign = if minutes < 0 { '-' } else { '+' };
            let m = minutes.unsigned_abs();
            s.push_str(&format!("{sign}{:02}:{:02}", m / 60, m % 60));
        }
        None => {}
    }
    s
}

/// A float in TOML syntax (which Go's ParseFloat also reads).
pub(super) fn toml_float_text(f: f64) -> String {
    if f.is_nan() {
        "nan".into()
    } else if f == f64::INFINITY {
        "inf".into()
    } else if f == f64::NEG_INFINITY {
        "-inf".into()
    } else {
        format!("{f:?}")
    }
}

/// TOML's decimal integer syntax without `_`: `[+-]?(0|[1-9][0-9]*)`.
pub(super) fn is_toml_dec_int(s: &str) -> bool {
    let d = s.strip_prefix(['+', '-']).unwrap_or(s);
    !d.is_empty()
        && d.bytes().all(|b| b.is_ascii_digit())
        && (d == "0" || !d.starts_with('0'))
        && s.parse::<i64>().is_ok()
}

/// TOML's float syntax.
pub(super) fn is_toml_float(s: &str) -> bool {
    let t = s.strip_prefix(['+', '-']).unwrap_or(s);
    if t == "inf" || t == "nan" {
        return true;
    }
    let b = t.as_bytes();
    let mut i = 0;
    // digits with single underscores between digits
    let digits = |i: &mut usize| -> bool {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
            if *i + 1 < b.len() && b[*i] == b'_' && b[*i + 1].is_ascii_digit() {
                *i += 1;
            }
        }
        *i > start
    };
    if !digits(&mut i) {
        return false;
    }
    if b[0] == b'0' && i > 1 {
        return false;
    }
    let mut ok = false;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
        ok = true;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
        ok = true;
    }
    ok && i == b.len()
}

/// An `ENC[...]` token written in place of a value of `kind` that was
/// written in `style`. Strings keep their quotes; a date-time written with
/// a space gets single quotes, other values double quotes.
pub(super) fn write_token(b: &mut Vec<u8>, token: &str, kind: Kind, style: Style) {
    let (open, nl, close): (&[u8], Nl, &[u8]) = match (kind, style) {
        (Kind::Str, Style::Literal) => (b"'", Nl::No, b"'"),
        (Kind::Str, Style::MlBasic(nl)) => (b"\"\"\"", nl, b"\"\"\""),
        (Kind::Str, Style::MlLiteral(nl)) => (b"'''", nl, b"'''"),
        (Kind::Time, Style::Bare { space: true }) => (b"'", Nl::No, b"'"),
        _ => (b"\"", Nl::No, b"\""),
    };
    b.extend_from_slice(open);
    b.extend_from_slice(nl.as_str().as_bytes());
    b.extend_from_slice(token.as_bytes());
    b.extend_from_slice(close);
}

/// A decrypted value, written in TOML where its token was. The token's
/// quotes say how the value was written (see [`write_token`]).
pub(super) fn write_plain(b: &mut Vec<u8>, p: &Plain, style: Style) {
    let text = String::from_utf8_lossy(&p.text);
    let bare = match p.kind {
        Kind::Int => toml_int(&text),
        Kind::Float => toml_float(&text),
        Kind::Bool => parse_go_bool(&text).map(|v| v.to_string()),
        Kind::Time => {
            let space = matches!(style, Style::Literal | Style::Bare { space: true });
            toml_datetime(&text, space)
        }
        Kind::Str | Kind::Bytes | Kind::Comment => None,
    };
    match bare {
        Some(t) => b.extend_from_slice(t.as_bytes()),
        None => write_string(b, &text, style),
    }
}

pub(super) fn toml_int(text: &str) -> Option<String> {
    if is_toml_dec_int(text) {
        Some(text.to_string())
    } else if is_go_int(text) {
        text.parse::<i64>().ok().map(|n| n.to_string())
    } else {
        None
    }
}

pub(super) fn toml_float(text: &str) -> Option<String> {
    if is_toml_float(text) {
        Some(text.to_string())
    } else {
        parse_go_float(text).map(toml_float_text)
    }
}

pub(super) fn toml_datetime(text: &str, space: bool) -> Option<String> {
    let mut t = text.to_string();
    if space && t.len() > 10 && t.as_bytes()[10] == b'T' {
        t.replace_range(10..11, " ");
    }
    t.parse::<te::Datetime>().ok().map(|_| t)
}

pub(super) fn is_control(c: char) -> bool {
    (c < ' ' && c != '\t') || c == '\u{7f}'
}

/// Writes `s` as a TOML string in `style` where it can be written so,
/// else in the nearest style that can hold it.
pub(super) fn write_string(b: &mut Vec<u8>, s: &str, style: Style) {
    match style {
        Style::Literal if !s.contains('\'') && !s.chars().any(is_control) => {
            b.push(b'\'');
            b.extend_from_slice(s.as_bytes());
            b.push(b'\'');
        }
        Style::MlLiteral(nl) if can_ml_literal(s) => {
            b.extend_from_slice(b"'''");
            b.extend_from_slice(lead_nl(nl, s).as_bytes());
            b.extend_from_slice(s.as_bytes());
            b.extend_from_slice(b"'''");
        }
        Style::MlBasic(nl) | Style::MlLiteral(nl) => write_ml_basic(b, s, nl),
        _ => write_basic(b, s),
    }
}

/// The line break after an opening `"""`/`'''`: the original one, or one
/// that must be there because the value itself starts with a line break
/// (TOML drops the first one).
pub(super) fn lead_nl(nl: Nl, s: &str) -> &'static str {
    match nl {
        Nl::No if s.starts_with('\n') || s.starts_with("\r\n") => "\n",
        _ => nl.as_str(),
    }
}

pub(super) fn can_ml_literal(s: &str) -> bool {
    if s.contains("'''") {
        return false;
    }
    let b = s.as_bytes();
    b.iter().enumerate().all(|(i, &c)| match c {
        b'\n' | b'\t' => true,
        b'\r' => b.get(i + 1) == Some(&b'\n'),
        c => !(c < 0x20 || c == 0x7f),
    })
}

pub(super) fn escape_control(b: &mut Vec<u8>, c: char) {
    match c {
        '\u{8}' => b.extend_from_slice(b"\\b"),
        '\t' => b.extend_from_slice(b"\\t"),
        '\n' => b.extend_from_slice(b"\\n"),
        '\u{c}' => b.extend_from_slice(b"\\f"),
        '\r' => b.extend_from_slice(b"\\r"),
        c => b.extend_from_slice(format!("\\u{:04X}", c as u32).as_bytes()),
    }
}

/// `"..."`: `"`, `\` and control characters escaped (`\t`, `\n`, ... where
/// TOML has a short form, else `\uXXXX`); everything else as it is.
pub(super) fn write_basic(b: &mut Vec<u8>, s: &str) {
    b.push(b'"');
    for c in s.chars() {
        match c {
            '"' => b.extend_from_slice(b"\\\""),
            '\\' => b.extend_from_slice(b"\\\\"),
            c if c < ' ' || c == '\u{7f}' => escape_control(b, c),
            c => {
                let mut buf = [0u8; 4];
                b.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    b.push(b'"');
}

/// `"""..."""`: line breaks and tabs as they are, `\` and other control
/// characters escaped, and every third `"` of a run escaped so that no
/// `"""` appears inside.
pub(super) fn write_ml_basic(b: &mut Vec<u8>, s: &str, nl: Nl) {
    b.extend_from_slice(b"\"\"\"");
    b.extend_from_slice(lead_nl(nl, s).as_bytes());
    let mut quotes = 0;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' {
            if quotes == 2 {
                b.extend_from_slice(b"\\\"");
                quotes = 0;
            } else {
                b.push(b'"');
                quotes += 1;
            }
            continue;
        }
        quotes = 0;
        match c {
            '\\' => b.extend_from_slice(b"\\\\"),
            '\n' | '\t' => b.push(c as u8),
            '\r' if chars.peek() == Some(&'\n') => b.push(b'\r'),
            c if c < ' ' || c == '\u{7f}' => escape_control(b, c),
            c => {
                let mut buf = [0u8; 4];
                b.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    b.extend_from_slice(b"\"\"\"");
}

/// A key, bare when it can be.
pub(super) fn write_key(k: &str) -> String {
    if !k.is_empty()
        && k.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
    {
        k.to_string()
    } else {
        let mut b = Vec::new();
        write_basic(&mut b, k);
        String::from_utf8(b).expect("escaped UTF-8")
    }
}

/// A JSON value as an inline TOML value (for `set`).
pub(super) fn inline_value(v: &Value) -> Result<String> {
    Ok(match v {
        Value::Null => {
            return Err(Error::Edit(
                "TOML has no null value: set a string, number, boolean, array or table".into(),
            ));
        }
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => {
            let t = n.to_string();
            if is_toml_dec_int(&t) || is_toml_float(&t) {
                t
            } else if let Some(f) = n.as_f64() {
                toml_float_text(f)
            } else {
                t
            }
        }
        Value::String(s) => {
            let mut b = Vec::new();
            write_basic(&mut b, s);
            String::from_utf8(b).expect("escaped UTF-8")
        }
        Value::Array(a) => {
            let items: Result<Vec<String>> = a.iter().map(inline_value).collect();
            format!("[{}]", items?.join(", "))
        }
        Value::Object(m) if m.is_empty() => "{}".into(),
        Value::Object(m) => {
            let items: Result<Vec<String>> = m
                .iter()
                .map(|(k, v)| Ok(format!("{} = {}", write_key(k), inline_value(v)?)))
                .collect();
            format!("{{ {} }}", items?.join(", "))
        }
    })
}
