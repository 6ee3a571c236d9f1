//! Writing JSON: tokens, plaintext values and the metadata, in the file's own style.

use super::*;

pub(super) fn newline(b: &mut Vec<u8>, st: &Style, depth: usize) {
    b.extend_from_slice(st.nl.as_bytes());
    for _ in 0..depth {
        b.extend_from_slice(st.unit.as_bytes());
    }
}

/// A JSON string, escaped as serde_json does: `"`, `\` and control
/// characters only (`\b \t \n \f \r`, else `\u00XX`); `/` and non-ASCII
/// characters are written as they are.
pub(super) fn write_str(b: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    b.reserve(s.len() + 2);
    b.push(b'"');
    let bytes = s.as_bytes();
    let mut run = 0;
    for (i, &c) in bytes.iter().enumerate() {
        let esc: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            0x0c => b"\\f",
            b'\r' => b"\\r",
            0..=0x1f => b"",
            _ => continue,
        };
        b.extend_from_slice(&bytes[run..i]);
        if esc.is_empty() {
            b.extend_from_slice(b"\\u00");
            b.push(HEX[(c >> 4) as usize]);
            b.push(HEX[(c & 0xf) as usize]);
        } else {
            b.extend_from_slice(esc);
        }
        run = i + 1;
    }
    b.extend_from_slice(&bytes[run..]);
    b.push(b'"');
}

/// A JSON value in the file's style, its brackets at indentation `depth`.
pub(super) fn write_value(b: &mut Vec<u8>, v: &Value, depth: usize, st: &Style) {
    match v {
        Value::Null => b.extend_from_slice(b"null"),
        Value::Bool(x) => b.extend_from_slice(if *x { b"true" } else { b"false" }),
        Value::Number(n) => b.extend_from_slice(n.to_string().as_bytes()),
        Value::String(s) => write_str(b, s),
        Value::Array(a) if a.is_empty() => b.extend_from_slice(b"[]"),
        Value::Object(m) if m.is_empty() => b.extend_from_slice(b"{}"),
        Value::Array(a) => {
            b.push(b'[');
            for (i, x) in a.iter().enumerate() {
                separator(b, i, depth, st);
                write_value(b, x, depth + 1, st);
            }
            if st.pretty {
                newline(b, st, depth);
            }
            b.push(b']');
        }
        Value::Object(m) => {
            b.push(b'{');
            for (i, (k, x)) in m.iter().enumerate() {
                separator(b, i, depth, st);
                write_str(b, k);
                b.extend_from_slice(st.colon.as_bytes());
                write_value(b, x, depth + 1, st);
            }
            if st.pretty {
                newline(b, st, depth);
            }
            b.push(b'}');
        }
    }
}

/// What goes before child `i` of a container at `depth`.
pub(super) fn separator(b: &mut Vec<u8>, i: usize, depth: usize, st: &Style) {
    if i > 0 {
        b.push(b',');
    }
    if st.pretty {
        newline(b, st, depth + 1);
    } else if i > 0 {
        b.extend_from_slice(st.comma_ws.as_bytes());
    }
}

/// A plaintext leaf as JSON. Numbers that are not JSON syntax are
/// normalized if they can be, else written as strings (as are NaN and
/// infinities); booleans in any of Go's spellings become `true`/`false`.
pub(super) fn write_plain(b: &mut Vec<u8>, p: &Plain) {
    let text = String::from_utf8_lossy(&p.text);
    match p.kind {
        Kind::Int | Kind::Float => {
            if is_json_number(text.as_bytes()) {
                b.extend_from_slice(text.as_bytes());
            } else if p.kind == Kind::Int && is_go_int(&text) {
                let n: i64 = text.parse().unwrap_or_default();
                b.extend_from_slice(n.to_string().as_bytes());
            } else if let Some(f) = parse_go_float(&text).filter(|f| f.is_finite()) {
                b.extend_from_slice(go_format_float(f).as_bytes());
            } else {
                write_str(b, &text);
            }
        }
        Kind::Bool => match parse_go_bool(&text) {
            Some(true) => b.extend_from_slice(b"true"),
            Some(false) => b.extend_from_slice(b"false"),
            None => write_str(b, &text),
        },
        Kind::Str | Kind::Time | Kind::Bytes | Kind::Comment => write_str(b, &text),
    }
}

pub(super) fn is_json_number(t: &[u8]) -> bool {
    !t.is_empty() && scan_number(t, 0) == Ok(t.len())
}
