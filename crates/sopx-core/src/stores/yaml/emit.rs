//! Writing YAML that sopx creates itself: the `sops` block (in the layout
//! sops 3.11 writes), and the edits made by `set` and `unset`.

use serde_json::{Map, Value};

use super::parse::{Kind as NKind, NodeId, line_end, line_start};
use super::{YamlDoc, scalar, splice, subtree_end};
use crate::error::{Error, Result};
use crate::stores::{PathElem, display_path};

/// The `sops:` block, ending with a line break.
pub fn sops_block(meta: &Value) -> String {
    let mut out = String::from("sops:\n");
    if let Value::Object(m) = meta {
        map_lines(&mut out, m, 4, None, 4);
    }
    out
}

/// A value as block YAML (yaml.v3 style, indent 4).
pub fn to_yaml(v: &Value) -> String {
    to_yaml_indent(v, 4)
}

/// A value as block YAML, as yaml.v3 writes it with an indent of `n`
/// (sops's `--indent`; 0 counts as 4).
pub fn to_yaml_indent(v: &Value, n: usize) -> String {
    let n = if n == 0 { 4 } else { n };
    match v {
        Value::Object(m) if !m.is_empty() => {
            let mut out = String::new();
            map_lines(&mut out, m, 0, None, n);
            out
        }
        Value::Object(_) => "{}\n".into(),
        other => format!("{}\n", scalar_text(other)),
    }
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if scalar::plain_safe(s, false) => s.clone(),
        Value::String(s) => scalar::double_quoted(s),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

/// yaml.v3 with an indent of `n`: mapping keys at `level` (or after the
/// `- ` of `first`); what a key holds (a nested mapping, sequence items, a
/// block scalar's lines) starts at the next multiple of `n` after the
/// key's column, as yaml.v3 computes it.
fn map_lines(
    out: &mut String,
    m: &Map<String, Value>,
    level: usize,
    first: Option<String>,
    n: usize,
) {
    let key_col = first.as_ref().map_or(level, |p| p.len());
    let child = (key_col / n) * n + n;
    for (i, (k, v)) in m.iter().enumerate() {
        let prefix = match (&first, i) {
            (Some(p), 0) => p.clone(),
            _ => " ".repeat(key_col),
        };
        let key = scalar_text(&Value::String(k.clone()));
        match v {
            Value::Object(o) if !o.is_empty() => {
                out.push_str(&format!("{prefix}{key}:\n"));
                map_lines(out, o, child, None, n);
            }
            Value::Array(a) if !a.is_empty() => {
                out.push_str(&format!("{prefix}{key}:\n"));
                seq_lines(out, a, child, None, n);
            }
            Value::Object(_) => out.push_str(&format!("{prefix}{key}: {{}}\n")),
            Value::Array(_) => out.push_str(&format!("{prefix}{key}: []\n")),
            Value::String(s) if s.contains('\n') => match scalar::block(s, false, child) {
                Some((h, lines)) => out.push_str(&format!("{prefix}{key}: {h}\n{lines}")),
                None => out.push_str(&format!("{prefix}{key}: {}\n", scalar::double_quoted(s))),
            },
            other => out.push_str(&format!("{prefix}{key}: {}\n", scalar_text(other))),
        }
    }
}

/// Sequence items at column `col` (`- item`); the first one after `first`
/// when given (a sequence in a sequence: `- - a`).
fn seq_lines(out: &mut String, a: &[Value], col: usize, first: Option<String>, n: usize) {
    for (i, it) in a.iter().enumerate() {
        let item = match (&first, i) {
            (Some(p), 0) => format!("{p}- "),
            _ => format!("{}- ", " ".repeat(col)),
        };
        match it {
            Value::Object(o) if !o.is_empty() => map_lines(out, o, col, Some(item), n),
            Value::Array(inner) if !inner.is_empty() => {
                let inner_col = item.len();
                seq_lines(out, inner, inner_col, Some(item), n)
            }
            Value::Object(_) => out.push_str(&format!("{item}{{}}\n")),
            Value::Array(_) => out.push_str(&format!("{item}[]\n")),
            other => out.push_str(&format!("{item}{}\n", scalar_text(other))),
        }
    }
}

/// Renders `value` as block YAML lines for a new entry at column `col`.
fn new_entry(key: &PathElem, rest: &[PathElem], value: &Value, col: usize) -> String {
    let pad = " ".repeat(col);
    let head = match key {
        PathElem::Key(k) => format!("{pad}{}:", scalar_text(&Value::String(k.clone()))),
        PathElem::Index(_) => format!("{pad}-"),
    };
    match rest.split_first() {
        None => format!("{head} {}\n", scalar_text(value)),
        Some((k2, rest2)) => format!("{head}\n{}", new_entry(k2, rest2, value, col + 2)),
    }
}

/// Where the path leads in the first document.
enum Found {
    Node(NodeId, Option<usize>),
    Missing { parent: NodeId, depth: usize },
}

fn find(doc: &YamlDoc, root: NodeId, path: &[PathElem]) -> Found {
    let mut cur = root;
    let mut key_end = None;
    for (depth, el) in path.iter().enumerate() {
        let node = &doc.parsed.nodes[cur];
        let next = match (&node.kind, el) {
            (NKind::Map(es), PathElem::Key(k)) => es.iter().find(|e| &e.key.value == k).map(|e| {
                key_end = Some(e.key.body.end);
                e.value
            }),
            (NKind::Seq(items), PathElem::Index(i)) => items.get(*i).map(|it| {
                key_end = None;
                it.value
            }),
            _ => None,
        };
        match next {
            Some(n) => cur = n,
            None => return Found::Missing { parent: cur, depth },
        }
    }
    Found::Node(cur, key_end)
}

fn root(doc: &YamlDoc) -> Option<NodeId> {
    doc.docs.first().and_then(|d| d.root)
}

pub fn set(doc: &YamlDoc, path: &[PathElem], value: &Value) -> Result<Vec<u8>> {
    let src = doc.src();
    let Some(root) = root(doc).filter(|r| matches!(doc.parsed.nodes[*r].kind, NKind::Map(_)))
    else {
        // An empty document: the path becomes its content.
        let (k, rest) = path
            .split_first()
            .ok_or_else(|| Error::TreePath(String::new()))?;
        let at = doc.docs.first().map_or(src.len(), |d| d.insert_at);
        let nl = if at > 0 && src[at - 1] != b'\n' {
            "\n"
        } else {
            ""
        };
        return splice(
            &doc.text,
            vec![(at..at, format!("{nl}{}", new_entry(k, rest, value, 0)))],
        );
    };
    let edit = match find(doc, root, path) {
        Found::Node(id, key_end) => {
            let n = &doc.parsed.nodes[id];
            let text = scalar_text(value);
            match &n.kind {
                NKind::Scalar(s) if !(s.body.is_empty() && s.header.is_none()) => {
                    let start = s.header.as_ref().map_or(s.body.start, |h| h.start);
                    let mut end = s.body.end;
                    if s.header.is_some() && end > start && src[end - 1] == b'\n' {
                        end -= 1;
                    }
                    // A block scalar stays a block scalar: its header line
                    // and indentation survive (and so does its encrypted
                    // layout, `|-` and the token on the next line).
                    let block = match value {
                        Value::String(v) if s.header.is_some() => {
                            let folded = s.style == scalar::Style::Folded;
                            scalar::block(v, folded, s.block_indent).map(|(h, lines)| {
                                format!("{h}\n{}", lines.strip_suffix('\n').unwrap_or(&lines))
                            })
                        }
                        _ => None,
                    };
                    (start..end, block.unwrap_or(text))
                }
                _ => {
                    // Empty value or a collection: write after the key's `:`.
                    let from = key_end.unwrap_or(n.start);
                    let colon = src[from..]
                        .iter()
                        .position(|b| *b == b':')
                        .map_or(from, |p| from + p + 1);
                    let mut end = if matches!(n.kind, NKind::Scalar(_)) {
                        colon
                    } else {
                        subtree_end(&doc.text, &doc.parsed, id)
                    };
                    if end > colon && src[end - 1] == b'\n' {
                        end -= 1;
                    }
                    (colon..end, format!(" {text}"))
                }
            }
        }
        Found::Missing { parent, depth } => {
            let n = &doc.parsed.nodes[parent];
            let (el, rest) = (&path[depth], &path[depth + 1..]);
            let last_end = match &n.kind {
                NKind::Map(es) => es
                    .last()
                    .map(|e| subtree_end(&doc.text, &doc.parsed, e.value)),
                NKind::Seq(items) => items
                    .last()
                    .map(|i| subtree_end(&doc.text, &doc.parsed, i.value)),
                _ => {
                    return Err(Error::Other(format!(
                        "cannot set {}: {} is a value, not a mapping or list",
                        display_path(path),
                        display_path(&path[..depth])
                    )));
                }
            };
            if n.flow {
                let close = n.end.saturating_sub(1);
                let sep = if last_end.is_some() { ", " } else { "" };
                let item = match el {
                    PathElem::Key(k) => format!(
                        "{sep}{}: {}",
                        scalar_text(&Value::String(k.clone())),
                        nested_flow(rest, value)
                    ),
                    PathElem::Index(_) => format!("{sep}{}", nested_flow(rest, value)),
                };
                (close..close, item)
            } else {
                let col = doc.col(match &n.kind {
                    NKind::Map(es) => es[0].key.body.start,
                    NKind::Seq(items) => items[0].start,
                    _ => unreachable!(),
                });
                let at = last_end.unwrap_or(n.end);
                let nl = if at > 0 && src[at - 1] != b'\n' {
                    "\n"
                } else {
                    ""
                };
                let text = match el {
                    PathElem::Index(_) => match rest.split_first() {
                        None => format!("{}- {}\n", " ".repeat(col), scalar_text(value)),
                        Some((k2, r2)) => {
                            let inner = new_entry(k2, r2, value, col + 2);
                            format!("{}- {}", " ".repeat(col), &inner[col + 2..])
                        }
                    },
                    key => new_entry(key, rest, value, col),
                };
                (at..at, format!("{nl}{text}"))
            }
        }
    };
    splice(&doc.text, vec![edit])
}

fn nested_flow(rest: &[PathElem], value: &Value) -> String {
    match rest.split_first() {
        None => scalar_text(value),
        Some((PathElem::Key(k), r)) => format!(
            "{{{}: {}}}",
            scalar_text(&Value::String(k.clone())),
            nested_flow(r, value)
        ),
        Some((PathElem::Index(_), r)) => format!("[{}]", nested_flow(r, value)),
    }
}

pub fn unset(doc: &YamlDoc, path: &[PathElem]) -> Result<Vec<u8>> {
    let src = doc.src();
    let not_found = || Error::PathNotFound(display_path(path));
    let root = root(doc).ok_or_else(not_found)?;
    let (last, parent_path) = path.split_last().ok_or_else(not_found)?;
    let Found::Node(parent, _) = find(doc, root, parent_path) else {
        return Err(not_found());
    };
    let n = &doc.parsed.nodes[parent];
    // (start of the entry, end of its value, index, count)
    let (start, value, idx, count) = match (&n.kind, last) {
        (NKind::Map(es), PathElem::Key(k)) => {
            let i = es
                .iter()
                .position(|e| &e.key.value == k)
                .ok_or_else(not_found)?;
            (es[i].key.body.start, es[i].value, i, es.len())
        }
        (NKind::Seq(items), PathElem::Index(i)) => {
            let it = items.get(*i).ok_or_else(not_found)?;
            (it.start, it.value, *i, items.len())
        }
        _ => return Err(not_found()),
    };
    let range = if n.flow {
        let vend = doc.parsed.nodes[value].end;
        let after = &src[vend..];
        let comma = after.iter().position(|b| !b.is_ascii_whitespace());
        match comma {
            Some(p) if after[p] == b',' => {
                let mut e = vend + p + 1;
                while e < src.len() && src[e] == b' ' {
                    e += 1;
                }
                start..e
            }
            _ if idx > 0 => {
                // Last of several: remove the comma before it.
                let before = src[..start]
                    .iter()
                    .rposition(|b| *b == b',')
                    .unwrap_or(start);
                before..vend
            }
            _ => start..vend,
        }
    } else {
        let _ = count;
        line_start(src, start)..subtree_end(&doc.text, &doc.parsed, value).max(line_end(src, start))
    };
    splice(&doc.text, vec![(range, String::new())])
}

/// A plaintext tree in a canonical block layout (indent 4, as sops writes),
/// comments included where the tree holds them: the fallback for files the
/// lossless splice cannot represent.
pub fn canonical(tree: &crate::tree::Tree) -> String {
    let mut out = String::new();
    for (i, d) in tree.docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        if !d.iter().any(|e| matches!(e, crate::tree::Entry::Pair(..))) {
            out.push_str("{}\n");
        }
        canonical_entries(&mut out, tree, d, 0);
    }
    out
}

fn canonical_comment(out: &mut String, tree: &crate::tree::Tree, id: usize, col: usize) {
    out.push_str(&" ".repeat(col));
    out.push('#');
    out.push_str(tree.leaves[id].as_str());
    out.push('\n');
}

fn canonical_entries(
    out: &mut String,
    tree: &crate::tree::Tree,
    entries: &[crate::tree::Entry],
    col: usize,
) {
    use crate::tree::Entry;
    for e in entries {
        match e {
            Entry::Comment(id) => canonical_comment(out, tree, *id, col),
            Entry::Pair(k, v) => {
                out.push_str(&" ".repeat(col));
                out.push_str(&scalar_text(&Value::String(k.clone())));
                out.push(':');
                canonical_value(out, tree, v, col);
            }
        }
    }
}

/// The rest of a line after `key:` or `-`, and the lines nested under it.
fn canonical_value(out: &mut String, tree: &crate::tree::Tree, v: &crate::tree::Node, col: usize) {
    use crate::tree::{Entry, Item, Node};
    use crate::value::Kind;
    let inner = col + 4;
    match v {
        Node::Null => out.push('\n'),
        Node::Leaf(id) => {
            let p = &tree.leaves[*id];
            let s = p.as_str();
            if p.kind != Kind::Str {
                out.push(' ');
                out.push_str(&scalar::typed_text(p));
                out.push('\n');
            } else if scalar::plain_safe(s, false) {
                out.push(' ');
                out.push_str(s);
                out.push('\n');
            } else if let Some((h, lines)) = s
                .contains('\n')
                .then(|| scalar::block(s, false, inner))
                .flatten()
            {
                out.push(' ');
                out.push_str(&h);
                out.push('\n');
                out.push_str(&lines);
            } else {
                out.push(' ');
                out.push_str(&scalar::double_quoted(s));
                out.push('\n');
            }
        }
        Node::Map(m) => {
            if m.iter().any(|e| matches!(e, Entry::Pair(..))) {
                out.push('\n');
            } else {
                out.push_str(" {}\n");
            }
            canonical_entries(out, tree, m, inner);
        }
        Node::List(items) => {
            if items.iter().any(|i| matches!(i, Item::Value(_))) {
                out.push('\n');
            } else {
                out.push_str(" []\n");
            }
            for it in items {
                match it {
                    Item::Comment(id) => canonical_comment(out, tree, *id, inner),
                    Item::Value(v) => {
                        out.push_str(&" ".repeat(inner));
                        out.push('-');
                        canonical_value(out, tree, v, inner);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sops_block_layout_matches_sops() {
        let meta: Value = serde_json::from_str(
            r#"{"age":[{"recipient":"age1abc","enc":"-----BEGIN AGE ENCRYPTED FILE-----\nAAA\n-----END AGE ENCRYPTED FILE-----\n"}],"lastmodified":"2026-11-22T23:47:49Z","mac":"ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]","unencrypted_suffix":"_unencrypted","version":"3.11.0"}"#,
        )
        .unwrap();
        let want = "sops:\n    age:\n        - recipient: age1abc\n          enc: |\n            -----BEGIN AGE ENCRYPTED FILE-----\n            AAA\n            -----END AGE ENCRYPTED FILE-----\n    lastmodified: \"2026-11-22T23:47:49Z\"\n    mac: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\n    unencrypted_suffix: _unencrypted\n    version: 3.11.0\n";
        assert_eq!(sops_block(&meta), want);
    }
}
