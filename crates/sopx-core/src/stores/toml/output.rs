//! Writing data as TOML (`--output-type toml`).

use super::*;

pub(super) fn to_toml_value(v: &Value) -> Result<te::Value> {
    Ok(match v {
        Value::Null => {
            return Err(Error::Unsupported(
                "TOML has no null value: a list holding null cannot be written as TOML".into(),
            ));
        }
        Value::Bool(b) => (*b).into(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.into(),
            None => n.as_f64().unwrap_or(f64::NAN).into(),
        },
        Value::String(s) => s.as_str().into(),
        Value::Array(a) => {
            let mut arr = te::Array::new();
            for x in a {
                arr.push(to_toml_value(x)?);
            }
            te::Value::Array(arr)
        }
        Value::Object(m) => {
            let mut t = te::InlineTable::new();
            for (k, x) in m {
                if !x.is_null() {
                    t.insert(k, to_toml_value(x)?);
                }
            }
            te::Value::InlineTable(t)
        }
    })
}

pub(super) fn fill_table(t: &mut te::Table, m: &Map<String, Value>) -> Result<()> {
    for (k, v) in m {
        match v {
            // TOML has no null: such keys are left out.
            Value::Null => {}
            Value::Object(o) => {
                let mut sub = te::Table::new();
                fill_table(&mut sub, o)?;
                t.insert(k, te::Item::Table(sub));
            }
            v if is_array_of_tables(v) => {
                let mut aot = te::ArrayOfTables::new();
                for x in v.as_array().into_iter().flatten() {
                    let mut sub = te::Table::new();
                    if let Value::Object(o) = x {
                        fill_table(&mut sub, o)?;
                    }
                    aot.push(sub);
                }
                t.insert(k, te::Item::ArrayOfTables(aot));
            }
            v => {
                t.insert(k, te::Item::Value(to_toml_value(v)?));
            }
        }
    }
    Ok(())
}

/// Writes decrypted documents in this format (for `--output-type toml`).
/// Keys whose value is null are left out (TOML has no null).
pub fn emit_values(docs: &[Value]) -> Result<Vec<u8>> {
    let doc = match docs {
        [] => return Ok(Vec::new()),
        [d] => d,
        _ => {
            return Err(Error::Unsupported(format!(
                "a TOML file holds one document, and this file has {}",
                docs.len()
            )));
        }
    };
    let Value::Object(m) = doc else {
        return Err(Error::Unsupported(
            "only a mapping can be written as a TOML file".into(),
        ));
    };
    let mut out = te::DocumentMut::new();
    fill_table(out.as_table_mut(), m)?;
    Ok(out.to_string().into_bytes())
}
