//! Decrypted data as plain JSON-like values: for `--extract`, for output in
//! another format than the input's, and for `set --idempotent`. These paths
//! re-serialise, so they are not lossless; same-format decryption never
//! comes here.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};

use crate::error::{Error, Result};
use crate::ops::Opened;
use crate::stores::{Format, PathElem};
use crate::tree::{Entry, Item, Node, Tree};
use crate::value::{Kind, Plain, parse_go_bool};

fn leaf_value(p: &Plain) -> Value {
    let s = p.as_str();
    match p.kind {
        Kind::Int => s
            .trim_start_matches('+')
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::from(s)),
        Kind::Float => s
            .parse::<Number>()
            .map(Value::Number)
            .unwrap_or_else(|_| Value::from(s)),
        Kind::Bool => Value::Bool(parse_go_bool(s).unwrap_or(false)),
        _ => Value::String(String::from_utf8_lossy(&p.text).into_owned()),
    }
}

fn node_value(n: &Node, tree: &Tree, plains: &HashMap<usize, &Plain>) -> Value {
    match n {
        Node::Null => Value::Null,
        Node::Leaf(id) => leaf_value(plains.get(id).copied().unwrap_or(&tree.leaves[*id])),
        Node::Map(m) => map_value(m, tree, plains),
        Node::List(items) => Value::Array(
            items
                .iter()
                .filter_map(|i| match i {
                    // sops keeps a comment in a list as an item holding it.
                    Item::Value(Node::Leaf(id))
                        if plains.get(id).copied().unwrap_or(&tree.leaves[*id]).kind
                            == Kind::Comment =>
                    {
                        None
                    }
                    Item::Value(v) => Some(node_value(v, tree, plains)),
                    Item::Comment(_) => None,
                })
                .collect(),
        ),
    }
}

fn map_value(m: &[Entry], tree: &Tree, plains: &HashMap<usize, &Plain>) -> Value {
    let mut out = Map::new();
    for e in m {
        if let Entry::Pair(k, v) = e {
            out.insert(k.clone(), node_value(v, tree, plains));
        }
    }
    Value::Object(out)
}

/// An encrypted tree written in another format (`encrypt --output-type`):
/// each encrypted leaf becomes its token, and every document gets the
/// `sops` block. Comments do not cross formats; they are not in the MAC.
pub fn encrypted_as(
    tree: &Tree,
    tokens: &[(usize, String)],
    meta: &Value,
    format: Format,
) -> Result<Vec<u8>> {
    if !matches!(format, Format::Yaml | Format::Json | Format::Toml) {
        return Err(Error::Unsupported(format!(
            "encrypting into the {} format from another format is not supported; encrypt as yaml, json or toml",
            format.name()
        )));
    }
    let tokens: Vec<(usize, Plain)> = tokens
        .iter()
        .map(|(i, t)| (*i, Plain::new(Kind::Str, t.as_bytes())))
        .collect();
    let map: HashMap<usize, &Plain> = tokens.iter().map(|(i, p)| (*i, p)).collect();
    let docs: Vec<Value> = tree
        .docs
        .iter()
        .map(|d| {
            let mut v = map_value(d, tree, &map);
            if let Value::Object(m) = &mut v {
                m.insert("sops".into(), meta.clone());
            }
            v
        })
        .collect();
    emit(&docs, format)
}

/// The decrypted documents as values.
pub fn documents(opened: &Opened) -> Vec<Value> {
    let plains: HashMap<usize, &Plain> = opened
        .decrypted
        .plains
        .iter()
        .map(|(i, p)| (*i, p))
        .collect();
    let tree = opened.doc.tree();
    tree.docs
        .iter()
        .map(|d| map_value(d, tree, &plains))
        .collect()
}

/// The decrypted value at `path` (in the first document).
pub fn value_at(opened: &Opened, path: &[PathElem]) -> Result<Value> {
    let docs = documents(opened);
    let mut cur = docs
        .first()
        .ok_or_else(|| Error::PathNotFound("the empty document".into()))?;
    for (i, el) in path.iter().enumerate() {
        let next = match (el, cur) {
            (PathElem::Key(k), Value::Object(m)) => m.get(k),
            (PathElem::Index(n), Value::Array(a)) => a.get(*n),
            _ => None,
        };
        cur = next.ok_or_else(|| {
            Error::PathNotFound(crate::tree::display_path(
                &path[..=i]
                    .iter()
                    .map(|p| match p {
                        PathElem::Key(k) => k.clone(),
                        PathElem::Index(n) => n.to_string(),
                    })
                    .collect::<Vec<_>>(),
            ))
        })?;
    }
    Ok(cur.clone())
}

/// `--extract`: a string is printed as is, anything else in `format`.
pub fn extract(opened: &Opened, path: &[PathElem], format: Format) -> Result<Vec<u8>> {
    match value_at(opened, path)? {
        Value::String(s) => Ok(s.into_bytes()),
        // Like sops: YAML output ends scalars with a line break, JSON does not.
        v @ (Value::Number(_) | Value::Bool(_) | Value::Null) => {
            let nl = if format == Format::Yaml { "\n" } else { "" };
            Ok(format!("{v}{nl}").into_bytes())
        }
        v => emit(&[v], format),
    }
}

/// The decrypted file written in another format.
pub fn convert(opened: &Opened, format: Format) -> Result<Vec<u8>> {
    emit(&documents(opened), format)
}

/// A plaintext tree's documents as values (comments left out).
pub fn plain_documents(tree: &Tree) -> Vec<Value> {
    let none = HashMap::new();
    tree.docs
        .iter()
        .map(|d| map_value(d, tree, &none))
        .collect()
}

static INDENT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// sops's `--indent N`: JSON written in canonical layout is indented with
/// N spaces instead of a tab, YAML with N instead of 4, as yaml.v3 does
/// (0: sops's defaults).
pub fn set_indent(n: usize) {
    INDENT.store(n, std::sync::atomic::Ordering::Relaxed);
}

/// Documents written in `format`'s canonical layout.
pub fn emit(docs: &[Value], format: Format) -> Result<Vec<u8>> {
    match format {
        Format::Json => {
            let v = docs.first().cloned().unwrap_or(Value::Object(Map::new()));
            let mut buf = Vec::new();
            let n = INDENT.load(std::sync::atomic::Ordering::Relaxed);
            let spaces = " ".repeat(n);
            let indent: &[u8] = if n == 0 { b"\t" } else { spaces.as_bytes() };
            let fmt = serde_json::ser::PrettyFormatter::with_indent(indent);
            let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
            serde::Serialize::serialize(&v, &mut ser).map_err(|e| Error::Other(e.to_string()))?;
            buf.push(b'\n');
            Ok(buf)
        }
        Format::Yaml => {
            let mut out = String::new();
            for (i, d) in docs.iter().enumerate() {
                if i > 0 {
                    out.push_str("---\n");
                }
                let n = INDENT.load(std::sync::atomic::Ordering::Relaxed);
                out.push_str(&crate::stores::yaml::to_yaml_indent(d, n));
            }
            Ok(out.into_bytes())
        }
        Format::Dotenv => crate::stores::dotenv::emit_values(docs),
        Format::Ini => crate::stores::ini::emit_values(docs),
        Format::Toml => crate::stores::toml::emit_values(docs),
        Format::Binary => crate::stores::binary::emit_values(docs),
    }
}
