//! Writing INI: tokens, plaintext values, the `[sops]` section, and whole
//! documents for `--output-type ini`.

use super::*;

/// A key as go-ini writes it.
pub(super) fn key_text(k: &str) -> Result<String> {
    if k.is_empty()
        || k.trim() != k
        || k.contains(['\n', '\r'])
        || k.starts_with(['#', ';', '['])
        || k == "-"
    {
        return Err(Error::Edit(format!(
            "{k:?} cannot be written as an INI key"
        )));
    }
    Ok(if k.contains(['"', '=', ':']) {
        if k.contains('`') {
            return Err(Error::Edit(format!(
                "{k:?} cannot be written as an INI key"
            )));
        }
        format!("`{k}`")
    } else if k.contains('`') {
        format!("\"\"\"{k}\"\"\"")
    } else {
        k.to_string()
    })
}

pub(super) fn write_comment(b: &mut Vec<u8>, text: &str) {
    // Lines after the first must stay comments.
    for (n, line) in text.split('\n').enumerate() {
        if n > 0 {
            b.push(b'\n');
            if !line.trim_start().starts_with(['#', ';']) {
                b.extend_from_slice(b"; ");
            }
        }
        b.extend_from_slice(line.as_bytes());
    }
}

impl Splice for IniDoc {
    const WHAT: &'static str = WHAT;

    fn source(&self) -> &[u8] {
        &self.src
    }

    fn leaves(&self) -> &[Plain] {
        &self.tree.leaves
    }

    fn span(&self, leaf: usize) -> Option<(usize, usize)> {
        self.spans.get(leaf).copied()
    }

    fn put_plain(&self, e: &mut Edits, leaf: usize, plain: &Plain) -> Option<()> {
        let (a, b) = self.span(leaf)?;
        let text = String::from_utf8_lossy(&plain.text);
        match self.quotes[leaf] {
            None => e.put(a, b, |buf| write_comment(buf, &text)),
            Some(q) => {
                let n = q.len();
                place_value(e, (a, b), (a - n, b + n), q, &text);
            }
        }
        Some(())
    }

    /// Cuts the `[sops]` section; an encrypted file also loses the repeated
    /// keys that go-ini drops (their values live in the layout hint).
    fn place_metadata(&self, e: &mut Edits, meta: Option<&Value>) {
        if meta.is_some() {
            for (a, b) in &self.dropped {
                e.put(*a, *b, |_| {});
            }
        }
        self.cut_metadata(e);
    }

    /// The `[sops]` section at the end, after a blank line, aligned as sops
    /// writes it.
    fn append_metadata(&self, out: &mut Vec<u8>, meta: &Value) -> Result<()> {
        let nl = self.nl.as_bytes();
        let final_newline = out.is_empty() || out.ends_with(b"\n");
        if !out.is_empty() {
            if !final_newline {
                out.extend_from_slice(nl);
            }
            out.extend_from_slice(nl);
        }
        out.extend_from_slice(b"[sops]");
        let flat = flatten::flatten(meta);
        let width = flat.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        for (k, v) in &flat {
            out.extend_from_slice(nl);
            out.extend_from_slice(format!("{k:width$} = {}", go_quote(v)).as_bytes());
        }
        if final_newline {
            out.extend_from_slice(nl);
        }
        Ok(())
    }
}

/// Writes decrypted documents in this format (for `--output-type ini`), as
/// sops (go-ini) writes them: top-level keys are sections, whose values
/// must be scalars; keys aligned on `=`; a blank line between sections.
pub fn emit_values(docs: &[Value]) -> Result<Vec<u8>> {
    let mut out = String::new();
    let Some(doc) = docs.first() else {
        return Ok(Vec::new());
    };
    let Value::Object(m) = doc else {
        return Err(Error::Emit(
            "only a mapping of sections can be written as an INI file".into(),
        ));
    };
    for (i, (name, sec)) in m.iter().enumerate() {
        let Value::Object(keys) = sec else {
            return Err(Error::Emit(format!(
                "cannot write {name:?} as an INI section: section values should always be mappings"
            )));
        };
        if i == 0 && name.eq_ignore_ascii_case(DEFAULT) {
            if keys.is_empty() {
                continue;
            }
        } else {
            if name.is_empty() || name.contains(['\n', '\r']) {
                return Err(Error::Edit(format!(
                    "{name:?} cannot be an INI section name"
                )));
            }
            out.push_str(&format!("[{name}]\n"));
        }
        let mut lines = Vec::new();
        for (k, v) in keys {
            let text = scalar_text(v).ok_or_else(|| {
                Error::Edit(format!(
                    "[{name:?}][{k:?}]: INI values are strings; a mapping or a list cannot be written there"
                ))
            })?;
            lines.push((key_text(k)?, go_quote(&text)));
        }
        let width = lines.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        for (k, v) in lines {
            out.push_str(&format!("{k:width$} = {v}\n"));
        }
        out.push('\n');
    }
    if out.ends_with("\n\n") {
        out.pop();
    }
    Ok(out.into_bytes())
}
