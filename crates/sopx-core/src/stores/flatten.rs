//! Shared by the flat stores (dotenv and INI): sops's flattening of the
//! metadata block, which these formats cannot nest; lines; scalar text.
//!
//! Verified against sops 3.11 (`stores/flatten.go` and its output):
//! - nested mappings are joined with `__map_`, list items with `__list_N`:
//!   `age: [{enc: …}]` becomes `age__list_0__map_enc`;
//! - `null` values are left out; `mac_only_encrypted` is written `true`,
//!   `shamir_threshold` as decimal text;
//! - line feeds in values are written as the two characters `\n` (and read
//!   back the same way, in every value);
//! - sops's dotenv store writes the keys sorted (byte order); its INI store
//!   writes them in Go map order (random) in 3.11 and sorted in later
//!   versions, so sopx sorts for both.

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// A line of the source: `start..end` without its line feed, `next` where
/// the next line starts (after the line feed, or the end of the file).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Line {
    pub start: usize,
    pub end: usize,
    pub next: usize,
}

/// The lines of `src` from `from` on.
pub(crate) fn split_lines(src: &[u8], from: usize) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut start = from;
    while start < src.len() {
        let end = src[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(src.len(), |n| start + n);
        let next = (end + 1).min(src.len());
        lines.push(Line { start, end, next });
        start = next;
        if end == src.len() {
            break;
        }
    }
    lines
}

/// A JSON scalar as the text of a flat value (`None` for a mapping or a
/// list, which flat formats cannot hold).
pub(crate) fn scalar_text(v: &Value) -> Option<String> {
    Some(match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        Value::Array(_) | Value::Object(_) => return None,
    })
}

const MAP_SEP: &str = "__map_";
const LIST_SEP: &str = "__list_";

/// The metadata (as [`crate::metadata::Metadata::to_value`] gives it) as
/// flat `(key, value)` pairs, keys sorted as sops writes them.
pub fn flatten(meta: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Value::Object(m) = meta {
        for (k, v) in m {
            go(k.clone(), v, &mut out);
        }
    }
    out.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    out
}

fn go(prefix: String, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Null => {}
        Value::Object(m) => {
            for (k, v) in m {
                go(format!("{prefix}{MAP_SEP}{k}"), v, out);
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                go(format!("{prefix}{LIST_SEP}{i}"), v, out);
            }
        }
        Value::String(s) => out.push((prefix, encode_newlines(s))),
        Value::Bool(b) => out.push((prefix, b.to_string())),
        Value::Number(n) => out.push((prefix, n.to_string())),
    }
}

/// Line feeds as `\n` (sops's `EncodeNewLines`).
pub fn encode_newlines(s: &str) -> String {
    s.replace('\n', "\\n")
}

/// `\n` as line feeds (sops's `DecodeNewLines`).
pub fn decode_newlines(s: &str) -> String {
    s.replace("\\n", "\n")
}

enum Token {
    Key(String),
    Index(usize),
}

/// Splits a flat key into its path (sops's `tokenize`).
fn tokenize(path: &str) -> Result<Vec<Token>> {
    let mut tokens = Vec::new();
    // (start of the current token's text, whether it is a list index)
    let mut start = 0;
    let mut is_list = false;
    let mut i = 0;
    let finish = |tokens: &mut Vec<Token>, text: &str, is_list: bool| -> Result<()> {
        if is_list {
            let n = text.parse::<usize>().map_err(|_| {
                Error::BadMetadata(format!(
                    "metadata key {path:?}: {text:?} is not a list index"
                ))
            })?;
            tokens.push(Token::Index(n));
        } else {
            tokens.push(Token::Key(text.to_string()));
        }
        Ok(())
    };
    while i < path.len() {
        let rest = &path[i..];
        let sep = if rest.starts_with(MAP_SEP) {
            Some((MAP_SEP.len(), false))
        } else if rest.starts_with(LIST_SEP) {
            Some((LIST_SEP.len(), true))
        } else {
            None
        };
        match sep {
            Some((n, list)) => {
                finish(&mut tokens, &path[start..i], is_list)?;
                i += n;
                start = i;
                is_list = list;
            }
            None => i += rest.chars().next().map_or(1, char::len_utf8),
        }
    }
    finish(&mut tokens, &path[start..], is_list)?;
    Ok(tokens)
}

fn conflict(path: &str) -> Error {
    Error::BadMetadata(format!(
        "metadata key {path:?} conflicts with another key (a value and a mapping or list at the same place)"
    ))
}

/// Rebuilds the nested metadata from flat pairs (in any order): the inverse
/// of [`flatten`], with sops's decoding of `\n`, `mac_only_encrypted` and
/// `shamir_threshold`.
pub fn unflatten<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Value> {
    let mut root = Value::Object(Map::new());
    for (key, value) in pairs {
        let tokens = tokenize(key)?;
        let value = match key {
            "mac_only_encrypted" => Value::Bool(value == "true"),
            "shamir_threshold" => {
                let n = value.trim().parse::<u64>().map_err(|_| {
                    Error::BadMetadata(format!("shamir_threshold is not an integer: {value:?}"))
                })?;
                Value::from(n)
            }
            _ => Value::String(decode_newlines(value)),
        };
        let mut cur = &mut root;
        for (n, t) in tokens.iter().enumerate() {
            let last = n + 1 == tokens.len();
            let next_is_list = matches!(tokens.get(n + 1), Some(Token::Index(_)));
            let fresh = || {
                if next_is_list {
                    Value::Array(Vec::new())
                } else {
                    Value::Object(Map::new())
                }
            };
            cur = match (t, cur) {
                (Token::Key(k), Value::Object(m)) => {
                    if last {
                        m.insert(k.clone(), value.clone());
                        break;
                    }
                    let slot = m.entry(k.clone()).or_insert_with(fresh);
                    if slot.is_null() {
                        *slot = fresh();
                    }
                    slot
                }
                (Token::Index(i), Value::Array(a)) => {
                    if a.len() <= *i {
                        a.resize(*i + 1, Value::Null);
                    }
                    if last {
                        a[*i] = value.clone();
                        break;
                    }
                    if a[*i].is_null() {
                        a[*i] = fresh();
                    }
                    &mut a[*i]
                }
                _ => return Err(conflict(key)),
            };
            if matches!((next_is_list, &*cur), (true, Value::Object(_)))
                || matches!((next_is_list, &*cur), (false, Value::Array(_)))
                || !matches!(cur, Value::Object(_) | Value::Array(_))
            {
                return Err(conflict(key));
            }
        }
    }
    Ok(root)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flatten_like_sops() {
        let meta = json!({
            "key_groups": [
                {"age": [{"recipient": "age1a", "enc": "-----BEGIN-----\nabc\n-----END-----\n"}]},
                {"pgp": [{"created_at": "t", "enc": "e", "fp": "F"}]}
            ],
            "shamir_threshold": 2,
            "lastmodified": "2024-01-01T00:00:00Z",
            "mac": "ENC[x]",
            "mac_only_encrypted": true,
            "kms": null,
            "version": "3.11.0"
        });
        let flat = flatten(&meta);
        let keys: Vec<&str> = flat.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "key_groups__list_0__map_age__list_0__map_enc",
                "key_groups__list_0__map_age__list_0__map_recipient",
                "key_groups__list_1__map_pgp__list_0__map_created_at",
                "key_groups__list_1__map_pgp__list_0__map_enc",
                "key_groups__list_1__map_pgp__list_0__map_fp",
                "lastmodified",
                "mac",
                "mac_only_encrypted",
                "shamir_threshold",
                "version",
            ]
        );
        assert_eq!(flat[0].1, "-----BEGIN-----\\nabc\\n-----END-----\\n");
        assert_eq!(flat[7].1, "true");
        assert_eq!(flat[8].1, "2");
    }

    #[test]
    fn unflatten_inverts_flatten() {
        let meta = json!({
            "age": [
                {"recipient": "age1a", "enc": "a\nb\n"},
                {"recipient": "age1b", "enc": "c"}
            ],
            "lastmodified": "2024-01-01T00:00:00Z",
            "mac": "ENC[x]",
            "mac_only_encrypted": true,
            "shamir_threshold": 3,
            "version": "3.11.0"
        });
        let flat = flatten(&meta);
        let back = unflatten(flat.iter().rev().map(|(k, v)| (k.as_str(), v.as_str()))).unwrap();
        let m = crate::metadata::Metadata::from_value(&back).unwrap();
        let m0 = crate::metadata::Metadata::from_value(&meta).unwrap();
        assert_eq!(m.key_groups, m0.key_groups);
        assert_eq!(m.shamir_threshold, 3);
        assert!(m.rules().unwrap().mac_only_encrypted);
        assert_eq!(back["age"][0]["enc"], "a\nb\n");
    }

    #[test]
    fn unflatten_rejects_conflicts_and_bad_indices() {
        assert!(unflatten([("age", "x"), ("age__list_0__map_enc", "y")]).is_err());
        assert!(unflatten([("age__list_0__map_enc", "y"), ("age", "x")]).is_ok());
        assert!(unflatten([("age__list_x__map_enc", "y")]).is_err());
        assert!(unflatten([("shamir_threshold", "two")]).is_err());
        assert!(unflatten([("age__map_a", "1"), ("age__list_0", "2")]).is_err());
    }
}
