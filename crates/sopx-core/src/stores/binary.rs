//! Binary store: the whole file is one string value under the key `data`,
//! and the encrypted file is a JSON object `{"data": "ENC[...]", "sops":
//! {...}}`, exactly as sops writes it (tab indentation, trailing newline).
//!
//! The plaintext is kept as raw bytes, so anything round-trips: invalid
//! UTF-8, NUL bytes, CRLF, a missing final newline, the empty file (whose
//! `data` stays `""`, as sops leaves empty strings unencrypted). Decryption
//! outputs exactly those bytes, with nothing added.
//!
//! sops 3.11 ignores the selection options (`--encrypted-regex` and the
//! like) for binary files and writes none of them into the metadata; sopx
//! drops them from the metadata as well, and refuses to write a binary file
//! whose data the rules left in the clear.

use serde_json::Value;

use super::json::JsonDoc;
use super::{Document, Format, PathElem};
use crate::error::{Error, Result};
use crate::tree::{Entry, Node, Tree};
use crate::value::{Kind, Plain};

/// The single key sops stores binary data under.
const DATA_KEY: &str = "data";

/// The JSON sops writes around the token (the `sops` member is appended by
/// the JSON store in sops's layout).
const WRAPPER: &[u8] = b"{\n\t\"data\": \"\"\n}\n";

/// Metadata fields sops 3.11 does not write for binary files.
const RULE_FIELDS: [&str; 6] = [
    "unencrypted_suffix",
    "encrypted_suffix",
    "unencrypted_regex",
    "encrypted_regex",
    "unencrypted_comment_regex",
    "encrypted_comment_regex",
];

/// A binary file: raw plaintext, or the JSON wrapper of an encrypted one.
enum BinaryDoc {
    Plain(Tree),
    Wrapped {
        json: Box<JsonDoc>,
        /// The leaf of the top-level `data` member, if there is one.
        data: Option<usize>,
    },
}

/// Parses a binary file: an encrypted JSON wrapper if `src` is one, else raw
/// plaintext.
pub fn parse(src: &[u8]) -> Result<Box<dyn Document>> {
    if let Some(doc) = parse_wrapper(src) {
        return Ok(doc);
    }
    Ok(Box::new(BinaryDoc::Plain(Tree {
        docs: vec![vec![Entry::Pair(DATA_KEY.into(), Node::Leaf(0))]],
        leaves: vec![Plain::new(Kind::Str, src)],
    })))
}

/// The document, if `src` is an encrypted binary file (a JSON object with a
/// top-level `sops` member). Used by stores whose extension sops 3.11 treats
/// as binary (`.toml`), so that files sops wrote decrypt there too.
pub(crate) fn parse_wrapper(src: &[u8]) -> Option<Box<dyn Document>> {
    let first = src.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first != b'{' {
        return None;
    }
    let json = JsonDoc::parse(src).ok()?;
    json.metadata()?;
    let data = json.tree().docs.first().and_then(|d| {
        d.iter().find_map(|e| match e {
            Entry::Pair(k, Node::Leaf(id)) if k == DATA_KEY => Some(*id),
            _ => None,
        })
    });
    Some(Box::new(BinaryDoc::Wrapped {
        json: Box::new(json),
        data,
    }))
}

fn not_structured() -> Error {
    Error::Unsupported(
        "binary files are not structured: a single value cannot be set or removed".into(),
    )
}

/// The metadata without the selection rules (see the module docs).
fn strip_rules(meta: &Value) -> Value {
    let mut m = meta.clone();
    if let Value::Object(o) = &mut m {
        for k in RULE_FIELDS {
            o.shift_remove(k);
        }
    }
    m
}

impl Document for BinaryDoc {
    fn actual_format(&self) -> Option<Format> {
        Some(Format::Binary)
    }

    fn tree(&self) -> &Tree {
        match self {
            BinaryDoc::Plain(t) => t,
            BinaryDoc::Wrapped { json, .. } => json.tree(),
        }
    }

    fn metadata(&self) -> Option<&Value> {
        match self {
            BinaryDoc::Plain(_) => None,
            BinaryDoc::Wrapped { json, .. } => json.metadata(),
        }
    }

    fn emit_encrypted(&self, tokens: &[(usize, String)], meta: &Value) -> Result<Vec<u8>> {
        match self {
            BinaryDoc::Wrapped { json, .. } => json.emit_encrypted(tokens, &strip_rules(meta)),
            BinaryDoc::Plain(tree) => {
                let token = tokens.iter().find(|(id, _)| *id == 0);
                if token.is_none() && !tree.leaves[0].text.is_empty() {
                    return Err(Error::Other(
                        "binary files are always encrypted whole: the `data` value may not be left in the clear (drop --encrypted-regex, --unencrypted-suffix and the like: sops ignores them for binary files)".into(),
                    ));
                }
                let wrapper = JsonDoc::parse(WRAPPER)?;
                let tokens: Vec<(usize, String)> = token.cloned().into_iter().collect();
                wrapper.emit_encrypted(&tokens, &strip_rules(meta))
            }
        }
    }

    fn emit_plain(&self, plains: &[(usize, Plain)]) -> Result<Vec<u8>> {
        let leaf = match self {
            BinaryDoc::Plain(_) => Some(0),
            BinaryDoc::Wrapped { data, .. } => *data,
        };
        let Some(leaf) = leaf else {
            return Err(Error::Other(
                "error emitting binary store: no binary data found in tree (the file has no top-level `data` string)".into(),
            ));
        };
        if let Some((_, p)) = plains.iter().find(|(id, _)| *id == leaf) {
            return Ok(p.text.clone());
        }
        Ok(self.tree().leaves[leaf].text.clone())
    }

    fn set(&self, _path: &[PathElem], _value: &Value) -> Result<Vec<u8>> {
        Err(not_structured())
    }

    fn unset(&self, _path: &[PathElem]) -> Result<Vec<u8>> {
        Err(not_structured())
    }
}

/// Writes decrypted documents in this format (for `--output-type binary`):
/// the string under the top-level `data` key, as sops does.
pub fn emit_values(docs: &[Value]) -> Result<Vec<u8>> {
    if docs.len() != 1 {
        return Err(Error::Other(
            "error emitting binary store: there must be exactly one document".into(),
        ));
    }
    match docs[0].get(DATA_KEY) {
        Some(Value::String(s)) => Ok(s.clone().into_bytes()),
        Some(_) => Err(Error::Other(
            "error emitting binary store: 'data' key in tree does not have a string value".into(),
        )),
        None => Err(Error::Other(
            "error emitting binary store: no binary data found in tree".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plaintext_is_one_raw_leaf() {
        let src = b"\xff\x00abc\r\n";
        let doc = parse(src).unwrap();
        assert!(doc.metadata().is_none());
        let t = doc.tree();
        assert_eq!(t.leaves.len(), 1);
        assert_eq!(t.leaves[0].text, src);
        assert!(matches!(&t.docs[0][0], Entry::Pair(k, Node::Leaf(0)) if k == "data"));
    }

    #[test]
    fn wrapper_layout_matches_sops() {
        let doc = parse(b"hello").unwrap();
        let meta: Value = serde_json::from_str(
            r#"{"age":[{"recipient":"age1x","enc":"E\n"}],"lastmodified":"2024-01-01T00:00:00Z","mac":"M","unencrypted_suffix":"_unencrypted","version":"3.11.0"}"#,
        )
        .unwrap();
        let out = doc
            .emit_encrypted(&[(0, "ENC[AES256_GCM,data:x]".into())], &meta)
            .unwrap();
        let want = "{\n\t\"data\": \"ENC[AES256_GCM,data:x]\",\n\t\"sops\": {\n\t\t\"age\": [\n\t\t\t{\n\t\t\t\t\"recipient\": \"age1x\",\n\t\t\t\t\"enc\": \"E\\n\"\n\t\t\t}\n\t\t],\n\t\t\"lastmodified\": \"2024-01-01T00:00:00Z\",\n\t\t\"mac\": \"M\",\n\t\t\"version\": \"3.11.0\"\n\t}\n}\n";
        assert_eq!(String::from_utf8(out.clone()).unwrap(), want);
        let back = parse(&out).unwrap();
        assert!(back.metadata().is_some());
        assert_eq!(
            back.emit_plain(&[(0, Plain::new(Kind::Str, "hello"))])
                .unwrap(),
            b"hello"
        );
    }

    #[test]
    fn empty_file_keeps_empty_data() {
        let doc = parse(b"").unwrap();
        let meta: Value = serde_json::from_str(r#"{"lastmodified":"x","mac":"M"}"#).unwrap();
        let out = doc.emit_encrypted(&[], &meta).unwrap();
        assert!(String::from_utf8_lossy(&out).contains("\"data\": \"\""));
        assert_eq!(parse(&out).unwrap().emit_plain(&[]).unwrap(), b"");
    }

    #[test]
    fn clear_data_is_refused() {
        let doc = parse(b"secret").unwrap();
        let meta: Value = serde_json::from_str(r#"{"lastmodified":"x","mac":"M"}"#).unwrap();
        assert!(doc.emit_encrypted(&[], &meta).is_err());
    }

    #[test]
    fn emit_values_takes_data() {
        let v: Value = serde_json::from_str(r#"{"data":"abc"}"#).unwrap();
        assert_eq!(emit_values(&[v]).unwrap(), b"abc");
        let v: Value = serde_json::from_str(r#"{"other":1}"#).unwrap();
        assert!(emit_values(&[v]).is_err());
    }
}
