//! The `[sops]` metadata tables.

use super::*;

pub(super) fn is_array_of_tables(v: &Value) -> bool {
    matches!(v, Value::Array(a) if !a.is_empty() && a.iter().all(Value::is_object))
}

/// A metadata value on one line, or a multi-line string for text with line
/// breaks (the age `enc` armor) in files with `\n` line breaks.
pub(super) fn meta_value(v: &Value, nl: &str) -> Result<String> {
    match v {
        Value::String(s) if s.contains('\n') && nl == "\n" => {
            let mut b = Vec::new();
            write_ml_basic(&mut b, s, Nl::Lf);
            Ok(String::from_utf8(b).expect("escaped UTF-8"))
        }
        v => inline_value(v),
    }
}

pub(super) fn write_meta_table(
    out: &mut String,
    path: &str,
    m: &Map<String, Value>,
    nl: &str,
) -> Result<()> {
    for (k, v) in m {
        if v.is_null() || v.is_object() || is_array_of_tables(v) {
            continue;
        }
        out.push_str(&write_key(k));
        out.push_str(" = ");
        out.push_str(&meta_value(v, nl)?);
        out.push_str(nl);
    }
    for (k, v) in m {
        let p = format!("{path}.{}", write_key(k));
        match v {
            Value::Object(o) => {
                out.push_str(nl);
                out.push_str(&format!("[{p}]{nl}"));
                write_meta_table(out, &p, o, nl)?;
            }
            Value::Array(a) if is_array_of_tables(v) => {
                for x in a {
                    out.push_str(nl);
                    out.push_str(&format!("[[{p}]]{nl}"));
                    if let Value::Object(o) = x {
                        write_meta_table(out, &p, o, nl)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Appends the `[sops]` table.
pub(super) fn write_meta(out: &mut Vec<u8>, meta: &Value, nl: &str) -> Result<()> {
    let Value::Object(m) = meta else {
        return Err(Error::Emit(
            "TOML: the sops metadata must be a table".into(),
        ));
    };
    let mut s = format!("[{SOPS_KEY}]{nl}");
    write_meta_table(&mut s, SOPS_KEY, m, nl)?;
    out.extend_from_slice(s.as_bytes());
    Ok(())
}
