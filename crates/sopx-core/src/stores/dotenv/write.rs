//! Writing dotenv: values and comments as sops writes them (multi-line
//! values as they were read), checked keys, and whole documents for
//! `--output-type dotenv`.

use super::*;

/// Line feeds as `\n` (how sops writes a value).
pub(super) fn encode(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    for &b in value {
        if b == b'\n' {
            out.extend_from_slice(b"\\n");
        } else {
            out.push(b);
        }
    }
    out
}

/// The text of a multi-line value: `\` as `\\`, line feeds as `\n`.
pub(super) fn escape_multiline(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + 8);
    for &b in raw {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            _ => out.push(b),
        }
    }
    out
}

/// How a decrypted value is written back: as it was read when it came from
/// a multi-line value, else the way sops writes it.
pub(super) fn write_value(b: &mut Vec<u8>, value: &[u8]) {
    if has_escaped_newline(value)
        && let Some(raw) = unescape_multiline(value)
        && raw.contains(&b'\n')
        && reads_back(&raw, value)
    {
        b.extend_from_slice(&raw);
        return;
    }
    b.extend_from_slice(&encode(value));
}

/// Does `K=<raw>` read back as one variable holding `value`?
pub(super) fn reads_back(raw: &[u8], value: &[u8]) -> bool {
    let mut buf = b"K=".to_vec();
    buf.extend_from_slice(raw);
    buf.push(b'\n');
    DotenvDoc::parse(&buf).is_ok_and(|d| {
        d.vars.len() == 1 && d.tree.leaves.len() == 1 && d.tree.leaves[0].text == value
    })
}

pub(super) fn write_comment(b: &mut Vec<u8>, text: &[u8]) {
    for &c in text {
        b.push(c);
        if c == b'\n' {
            b.push(b'#');
        }
    }
}

pub(super) fn check_key(key: &str) -> Result<()> {
    if key.is_empty()
        || key.contains(['=', '\n', '\r'])
        || key.starts_with('#')
        || key.starts_with(PREFIX)
    {
        return Err(Error::Edit(format!(
            "{key:?} cannot be a dotenv key (it must be non-empty, without '=' or line breaks, not start with '#' or {PREFIX:?})"
        )));
    }
    Ok(())
}

/// Writes decrypted documents in this format (for `--output-type dotenv`):
/// `KEY=value` lines as sops writes them; nested values are refused, as
/// sops refuses them.
pub fn emit_values(docs: &[Value]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let Some(doc) = docs.first() else {
        return Ok(out);
    };
    let Value::Object(m) = doc else {
        return Err(Error::Emit(
            "only a mapping can be written as a dotenv file".into(),
        ));
    };
    for (k, v) in m {
        let text = scalar_text(v).ok_or_else(|| {
            Error::Emit(format!(
                "cannot use complex value in dotenv file; offending key {}",
                k
            ))
        })?;
        if k.is_empty() || k.contains(['=', '\n']) || k.starts_with('#') {
            return Err(Error::Emit(format!(
                "the key {k:?} cannot be written in a dotenv file"
            )));
        }
        out.extend_from_slice(k.as_bytes());
        out.push(b'=');
        out.extend_from_slice(&encode(text.as_bytes()));
        out.push(b'\n');
    }
    Ok(out)
}
