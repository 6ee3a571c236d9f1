//! TOML store: a sopx extension (sops 3.11 has no TOML store and reads
//! `.toml` files as binary).
//!
//! The file is first validated with `toml_edit` (which reports bad input
//! with its position, duplicate keys included); then a small scanner walks
//! the (now known to be valid) source in document order and records the byte
//! span of every value and comment, building the tree sops would see:
//! tables (`[a.b]`, dotted keys `a.b = 1`, inline tables) are mappings,
//! arrays and arrays of tables are lists, the decoded values come from
//! `toml_edit`. Output is the original bytes with only the changed spans
//! replaced, so layout, comments, key order and quoting survive.
//!
//! Layout of an encrypted file (see `docs/format.md`, "TOML (sopx
//! extension)"): values become TOML strings holding `ENC[...]` tokens, in
//! the quote style of the original string (which tells decryption how to
//! write the value back); comments become `# ENC[...]`; the metadata is a
//! `[sops]` table appended at the end, with `[[sops.age]]`-style arrays of
//! tables, the same field names as the YAML block. That is the layout the
//! proposed sops TOML stores (getsops/sops#812, #2031) and rops read.
//!
//! A `.toml` file that sops 3.11 encrypted is a JSON wrapper of the binary
//! store: it is recognised and handed to the binary store.

use std::collections::HashMap;

use serde_json::{Map, Value};
use toml_edit as te;
use zeroize::Zeroize;

use super::edits::Edits;
use super::splice::{self, Splice};
use super::{Document, PathElem, display_path, nest};
use crate::error::{Error, Result};
use crate::timefmt;
use crate::tree::{Entry, Item, Node, Tree};
use crate::value::{Kind, Plain, is_go_int, parse_go_bool, parse_go_float};

const WHAT: &str = "TOML";
const SOPS_KEY: &str = "sops";
/// Deeper nesting is refused (see `limits`: tree walks are recursive).
use crate::limits::MAX_DEPTH;
const ROOT: usize = 0;

/// Parses a TOML file (or a sops 3.11 binary wrapper written for one).
pub fn parse(src: &[u8]) -> Result<Box<dyn Document>> {
    if let Some(doc) = super::binary::parse_wrapper(src) {
        return Ok(doc);
    }
    Ok(Box::new(TomlDoc::parse(src)?))
}

// ---------------------------------------------------------------------------
// The parsed document

/// The newline right after the opening delimiter of a multi-line string
/// (TOML drops it from the value).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Nl {
    No,
    Lf,
    CrLf,
}

impl Nl {
    fn as_str(self) -> &'static str {
        match self {
            Nl::No => "",
            Nl::Lf => "\n",
            Nl::CrLf => "\r\n",
        }
    }
}

/// How a value was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Style {
    /// A number, boolean or date-time; `space`: a date-time written with a
    /// space instead of `T`.
    Bare { space: bool },
    /// `"..."`
    Basic,
    /// `'...'`
    Literal,
    /// `"""..."""`
    MlBasic(Nl),
    /// `'''...'''`
    MlLiteral(Nl),
}

/// Where a leaf is in the source.
#[derive(Clone, Copy, Debug)]
enum Slot {
    /// The value's token, delimiters included.
    Value {
        start: usize,
        end: usize,
        style: Style,
    },
    /// From `#` to the end of the line (line break excluded); `space`: one
    /// space after `#`, not part of the comment text.
    Comment {
        start: usize,
        end: usize,
        space: bool,
    },
}

#[derive(Debug)]
enum BNode {
    Leaf(usize),
    Table(usize),
    Array(usize),
}

/// How a table came to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Origin {
    Root,
    /// `[a.b]`
    Header,
    /// One `[[a.b]]` element.
    AotElem,
    /// A parent of a header (`a` of `[a.b]`), not defined itself.
    Implicit,
    /// Created by a dotted key `a.b = 1`.
    Dotted,
    /// `{ ... }`
    Inline,
}

#[derive(Debug)]
struct BTable {
    origin: Origin,
    /// The table (and key) this one hangs under; for array-of-tables
    /// elements, the table holding the array.
    parent: Option<(usize, String)>,
    depth: usize,
    entries: Vec<BEntry>,
    index: HashMap<String, usize>,
    /// Header tables and array elements: from the start of the header line
    /// to the end of the section's last key/value line.
    section: Option<(usize, usize)>,
    /// Where a new `key = value` line goes (root, headers, array elements).
    insert_at: Option<usize>,
    /// Inline tables: the `{...}` span.
    span: Option<(usize, usize)>,
}

#[derive(Debug)]
enum BEntry {
    Comment(usize),
    Pair {
        key: String,
        node: BNode,
        /// Line key/values: the whole line(s), line break included; inline
        /// table members: from the key to the end of the value.
        kv: Option<(usize, usize)>,
    },
}

#[derive(Debug)]
struct BArray {
    /// An array of tables (`[[a]]`).
    aot: bool,
    items: Vec<BItem>,
    /// Inline arrays: the `[...]` span.
    span: Option<(usize, usize)>,
}

#[derive(Debug)]
enum BItem {
    Comment(usize),
    /// The node and, in inline arrays, its span.
    Value(BNode, Option<(usize, usize)>),
}

/// A parsed TOML file.
pub struct TomlDoc {
    src: Vec<u8>,
    tree: Tree,
    slots: Vec<Slot>,
    tables: Vec<BTable>,
    arrays: Vec<BArray>,
    meta: Option<Value>,
    /// Byte ranges holding the `sops` metadata.
    sops_ranges: Vec<(usize, usize)>,
    /// The file's line break.
    nl: &'static str,
    /// Start of the first header line.
    first_header: Option<usize>,
}

impl Drop for TomlDoc {
    fn drop(&mut self) {
        self.src.zeroize();
    }
}

impl TomlDoc {
    pub fn parse(src: &[u8]) -> Result<TomlDoc> {
        let text = match std::str::from_utf8(src) {
            Ok(t) => t,
            Err(e) => {
                let at = e.valid_up_to();
                return Err(Error::parse_at(
                    WHAT,
                    src,
                    at,
                    "invalid UTF-8: TOML files must be encoded in UTF-8".to_string(),
                ));
            }
        };
        let doc = te::Document::parse(text).map_err(|e| {
            let at = e.span().map_or(0, |r| r.start);
            let msg = e.message().lines().next().unwrap_or("invalid TOML").trim();
            Error::parse_at(WHAT, src, at, msg.to_string())
        })?;
        let mut vals = HashMap::new();
        collect_scalars(doc.as_item(), &mut vals);
        let meta = doc.as_table().get(SOPS_KEY).map(item_to_json);
        drop(doc);
        let mut sc = Scanner::new(src, vals);
        sc.run()?;
        let nl = match src.iter().position(|&b| b == b'\n') {
            Some(at) if at > 0 && src[at - 1] == b'\r' => "\r\n",
            _ => "\n",
        };
        let mut d = TomlDoc {
            src: src.to_vec(),
            tree: Tree::default(),
            slots: std::mem::take(&mut sc.slots),
            tables: std::mem::take(&mut sc.tables),
            arrays: std::mem::take(&mut sc.arrays),
            meta,
            sops_ranges: std::mem::take(&mut sc.sops_ranges),
            nl,
            first_header: sc.first_header,
        };
        d.tree = Tree {
            docs: vec![d.entries_of(ROOT)],
            leaves: std::mem::take(&mut sc.leaves),
        };
        Ok(d)
    }

    fn entries_of(&self, t: usize) -> Vec<Entry> {
        self.tables[t]
            .entries
            .iter()
            .map(|e| match e {
                BEntry::Comment(c) => Entry::Comment(*c),
                BEntry::Pair { key, node, .. } => Entry::Pair(key.clone(), self.node_of(node)),
            })
            .collect()
    }

    fn node_of(&self, n: &BNode) -> Node {
        match n {
            BNode::Leaf(id) => Node::Leaf(*id),
            BNode::Table(t) => Node::Map(self.entries_of(*t)),
            BNode::Array(a) => Node::List(
                self.arrays[*a]
                    .items
                    .iter()
                    .map(|i| match i {
                        BItem::Comment(c) => Item::Comment(*c),
                        BItem::Value(v, _) => Item::Value(self.node_of(v)),
                    })
                    .collect(),
            ),
        }
    }

    fn slot(&self, leaf: usize) -> Result<Slot> {
        self.slots.get(leaf).copied().ok_or_else(|| {
            Error::Internal(format!("{WHAT}: no leaf number {leaf} in this document"))
        })
    }

    /// Edits that remove the `sops` metadata. The block sopx appends at the
    /// end goes with the one line break written before it.
    fn remove_sops(&self, e: &mut Edits) {
        let n = self.sops_ranges.len();
        for (k, &(start, end)) in self.sops_ranges.iter().enumerate() {
            if k + 1 == n && end >= self.src.len() {
                let before = &self.src[..start];
                let s = if before.ends_with(b"\r\n") {
                    start - 2
                } else if before.ends_with(b"\n") {
                    start - 1
                } else {
                    start
                };
                e.put(s, self.src.len(), |_| {});
            } else {
                e.put(start, end, |_| {});
            }
        }
    }
}

impl Splice for TomlDoc {
    const WHAT: &'static str = WHAT;
    // The plain writer is what gives a value back its original spelling.
    const KEEP_UNCHANGED: bool = false;

    fn source(&self) -> &[u8] {
        &self.src
    }

    fn leaves(&self) -> &[Plain] {
        &self.tree.leaves
    }

    fn put_token(&self, e: &mut Edits, leaf: usize, token: &str) -> Option<()> {
        match *self.slots.get(leaf)? {
            Slot::Value { start, end, style } => {
                let kind = self.tree.leaves[leaf].kind;
                e.put(start, end, |b| write_token(b, token, kind, style));
            }
            Slot::Comment { start, end, space } => e.put(start, end, |b| {
                b.push(b'#');
                if space {
                    b.push(b' ');
                }
                b.extend_from_slice(token.as_bytes());
            }),
        }
        Some(())
    }

    fn put_plain(&self, e: &mut Edits, leaf: usize, plain: &Plain) -> Option<()> {
        match *self.slots.get(leaf)? {
            Slot::Value { start, end, style } => {
                e.put(start, end, |b| write_plain(b, plain, style));
            }
            Slot::Comment { start, end, space } => e.put(start, end, |b| {
                b.push(b'#');
                if space {
                    b.push(b' ');
                }
                // A comment cannot span lines.
                b.extend(
                    plain
                        .text
                        .iter()
                        .map(|&c| if c == b'\n' || c == b'\r' { b' ' } else { c }),
                );
            }),
        }
        Some(())
    }

    fn place_metadata(&self, e: &mut Edits, _meta: Option<&Value>) {
        self.remove_sops(e);
    }

    /// The `[sops]` tables at the end, after a line break.
    fn append_metadata(&self, out: &mut Vec<u8>, meta: &Value) -> Result<()> {
        if !out.is_empty() {
            out.extend_from_slice(self.nl.as_bytes());
        }
        write_meta(out, meta, self.nl)
    }
}

impl Document for TomlDoc {
    fn tree(&self) -> &Tree {
        &self.tree
    }

    fn metadata(&self) -> Option<&Value> {
        self.meta.as_ref()
    }

    fn emit_encrypted(&self, tokens: &[(usize, String)], meta: &Value) -> Result<Vec<u8>> {
        splice::emit_encrypted(self, tokens, meta)
    }

    fn emit_plain(&self, plains: &[(usize, Plain)]) -> Result<Vec<u8>> {
        splice::emit_plain(self, plains)
    }

    fn set(&self, path: &[PathElem], value: &Value) -> Result<Vec<u8>> {
        let out = self.set_edits(path, value)?;
        check_still_valid(&out, "set")?;
        Ok(out)
    }

    fn unset(&self, path: &[PathElem]) -> Result<Vec<u8>> {
        let out = self.unset_edits(path)?;
        check_still_valid(&out, "unset")?;
        Ok(out)
    }
}

/// `set`/`unset` edit the text; make sure the result is still TOML.
fn check_still_valid(out: &[u8], what: &str) -> Result<()> {
    let text = std::str::from_utf8(out)
        .map_err(|_| Error::Edit(format!("{what}: the result is not UTF-8")))?;
    te::Document::parse(text).map(|_| ()).map_err(|e| {
        Error::Edit(format!(
            "{what}: sopx cannot make this change in place in this TOML layout ({}); edit the file with `sopx edit` instead",
            e.message().lines().next().unwrap_or("invalid TOML").trim()
        ))
    })
}

// ---------------------------------------------------------------------------
// set / unset

impl TomlDoc {
    fn find_key(&self, t: usize, key: &str) -> Option<usize> {
        self.tables[t].index.get(key).copied()
    }

    /// The value items of an array, comments left out.
    fn array_values(&self, a: usize) -> Vec<(&BNode, Option<(usize, usize)>)> {
        self.arrays[a]
            .items
            .iter()
            .filter_map(|i| match i {
                BItem::Value(n, span) => Some((n, *span)),
                BItem::Comment(_) => None,
            })
            .collect()
    }

    /// Replaces the value `node` with `value`, if it has a span of its own.
    fn replace(&self, e: &mut Edits, node: &BNode, value: &Value) -> Result<()> {
        let span = match node {
            BNode::Leaf(id) => match self.slot(*id)? {
                Slot::Value { start, end, .. } => Some((start, end)),
                Slot::Comment { .. } => None,
            },
            BNode::Table(t) => self.tables[*t].span,
            BNode::Array(a) => self.arrays[*a].span,
        };
        let Some((start, end)) = span else {
            return Err(Error::Unsupported(
                "set: replacing a whole table or array of tables is not supported for TOML; set its keys one by one".into(),
            ));
        };
        // A string replacing a string keeps its quotes where it can.
        if let (BNode::Leaf(id), Value::String(v)) = (node, value)
            && let Slot::Value { style, .. } = self.slot(*id)?
            && self.tree.leaves[*id].kind == Kind::Str
        {
            e.put(start, end, |b| write_string(b, v, style));
            return Ok(());
        }
        let text = inline_value(value)?;
        e.put(start, end, |b| b.extend_from_slice(text.as_bytes()));
        Ok(())
    }

    /// The table where a new key of `t` can be written as a line, and the
    /// dotted prefix (keys from there to `t`).
    fn line_home(&self, mut t: usize) -> Option<(usize, Vec<String>)> {
        let mut prefix = Vec::new();
        loop {
            let tb = &self.tables[t];
            match tb.origin {
                Origin::Root | Origin::Header | Origin::AotElem => {
                    prefix.reverse();
                    return Some((t, prefix));
                }
                Origin::Inline => return None,
                Origin::Dotted | Origin::Implicit => {
                    let (p, k) = tb.parent.as_ref()?;
                    prefix.push(k.clone());
                    t = *p;
                }
            }
        }
    }

    /// Adds `key = value` to table `t`.
    fn insert_new(&self, e: &mut Edits, t: usize, key: &str, value: &Value) -> Result<()> {
        let tb = &self.tables[t];
        if tb.origin == Origin::Inline {
            let (start, end) = tb.span.expect("inline tables have a span");
            let last = tb
                .entries
                .iter()
                .filter_map(|x| match x {
                    BEntry::Pair {
                        kv: Some((_, e)), ..
                    } => Some(*e),
                    _ => None,
                })
                .max();
            let text = format!("{} = {}", write_key(key), inline_value(value)?);
            match last {
                Some(at) => e.put(at, at, |b| {
                    b.extend_from_slice(b", ");
                    b.extend_from_slice(text.as_bytes());
                }),
                None => {
                    let inner = &self.src[start + 1..end - 1];
                    let pad = inner.iter().all(|c| *c == b' ');
                    e.put(start + 1, end - 1, |b| {
                        if pad {
                            b.push(b' ');
                        }
                        b.extend_from_slice(text.as_bytes());
                        if pad {
                            b.push(b' ');
                        }
                    });
                }
            }
            return Ok(());
        }
        let (home, mut prefix) = self.line_home(t).ok_or_else(|| {
            Error::Unsupported("set: cannot add a key to this table in place".into())
        })?;
        prefix.push(key.to_string());
        let dotted: Vec<String> = prefix.iter().map(|k| write_key(k)).collect();
        let line = format!("{} = {}", dotted.join("."), inline_value(value)?);
        let at = match self.tables[home].insert_at {
            Some(at) => at,
            None => self.first_header.unwrap_or(self.src.len()),
        };
        let nl = self.nl;
        // The text before `at` may lack a final line break (end of file).
        let need_nl_before = at > 0 && self.src[at - 1] != b'\n';
        e.put(at, at, |b| {
            if need_nl_before {
                b.extend_from_slice(nl.as_bytes());
            }
            b.extend_from_slice(line.as_bytes());
            if !need_nl_before || at < self.src.len() {
                b.extend_from_slice(nl.as_bytes());
            }
        });
        Ok(())
    }

    fn set_edits(&self, path: &[PathElem], value: &Value) -> Result<Vec<u8>> {
        match path.first() {
            None => return Err(Error::Edit("set: the path is empty".into())),
            Some(PathElem::Index(_)) => {
                return Err(Error::Edit(
                    "set: the top level of a TOML file is a table: the path must start with a key"
                        .into(),
                ));
            }
            Some(PathElem::Key(k)) if k == SOPS_KEY => {
                return Err(Error::Edit(
                    "set: the top-level `sops` key holds the sops metadata and cannot be set"
                        .into(),
                ));
            }
            _ => {}
        }
        let mut e = Edits::default();
        let root = BNode::Table(ROOT);
        let mut cur_ref: &BNode = &root;
        let mut n = 0;
        loop {
            let elem = &path[n];
            let rest = &path[n + 1..];
            match (cur_ref, elem) {
                (BNode::Table(t), PathElem::Key(k)) => match self.find_key(*t, k) {
                    Some(pos) => {
                        let BEntry::Pair { node, .. } = &self.tables[*t].entries[pos] else {
                            unreachable!("the index points at pairs")
                        };
                        if rest.is_empty() {
                            self.replace(&mut e, node, value)?;
                            break;
                        }
                        cur_ref = node;
                    }
                    None => {
                        self.insert_new(&mut e, *t, k, &nest(rest, value))?;
                        break;
                    }
                },
                (BNode::Array(a), PathElem::Index(ix)) => {
                    let vals = self.array_values(*a);
                    match vals.get(*ix) {
                        Some((node, _)) if rest.is_empty() => {
                            self.replace(&mut e, node, value)?;
                            break;
                        }
                        Some((node, _)) => cur_ref = node,
                        None => {
                            let arr = &self.arrays[*a];
                            let (false, Some((start, end))) = (arr.aot, arr.span) else {
                                return Err(Error::Unsupported(
                                    "set: appending to an array of tables is not supported for TOML; edit the file with `sopx edit`".into(),
                                ));
                            };
                            let text = inline_value(&nest(rest, value))?;
                            match vals.last() {
                                Some((_, Some((_, vend)))) => {
                                    let at = *vend;
                                    e.put(at, at, |b| {
                                        b.extend_from_slice(b", ");
                                        b.extend_from_slice(text.as_bytes());
                                    });
                                }
                                _ => e.put(start + 1, end - 1, |b| {
                                    b.extend_from_slice(text.as_bytes())
                                }),
                            }
                            break;
                        }
                    }
                }
                (BNode::Leaf(_), _) => {
                    // As sops does: a scalar in the way is replaced.
                    self.replace(&mut e, cur_ref, &nest(&path[n..], value))?;
                    break;
                }
                (BNode::Table(_), PathElem::Index(_)) => {
                    return Err(Error::Edit(format!(
                        "set: {} is a table, not an array: it cannot be indexed by {}",
                        display_path(&path[..n]),
                        display_path(&path[n..n + 1])
                    )));
                }
                (BNode::Array(_), PathElem::Key(_)) => {
                    return Err(Error::Edit(format!(
                        "set: {} is an array, not a table: it has no key {}",
                        display_path(&path[..n]),
                        display_path(&path[n..n + 1])
                    )));
                }
            }
            n += 1;
        }
        e.apply(WHAT, &self.src)
    }

    /// Every source range that defines `node` (for removing it whole).
    fn ranges_of(&self, node: &BNode, kv: Option<(usize, usize)>, out: &mut Vec<(usize, usize)>) {
        if let Some(r) = kv {
            out.push(r);
            return;
        }
        match node {
            BNode::Leaf(_) => {}
            BNode::Table(t) => {
                let tb = &self.tables[*t];
                if let Some(s) = tb.section {
                    out.push(s);
                }
                for e in &tb.entries {
                    if let BEntry::Pair { node, kv, .. } = e {
                        self.ranges_of(node, *kv, out);
                    }
                }
            }
            BNode::Array(a) => {
                for i in &self.arrays[*a].items {
                    if let BItem::Value(n, _) = i {
                        self.ranges_of(n, None, out);
                    }
                }
            }
        }
    }

    fn unset_edits(&self, path: &[PathElem]) -> Result<Vec<u8>> {
        let not_found = || Error::PathNotFound(display_path(path));
        let Some((last, parents)) = path.split_last() else {
            return Err(Error::Edit("unset: the path is empty".into()));
        };
        if matches!(path.first(), Some(PathElem::Key(k)) if k == SOPS_KEY) {
            return Err(not_found());
        }
        let root = BNode::Table(ROOT);
        let mut cur: &BNode = &root;
        for elem in parents {
            cur = match (cur, elem) {
                (BNode::Table(t), PathElem::Key(k)) => {
                    let pos = self.find_key(*t, k).ok_or_else(not_found)?;
                    match &self.tables[*t].entries[pos] {
                        BEntry::Pair { node, .. } => node,
                        BEntry::Comment(_) => return Err(not_found()),
                    }
                }
                (BNode::Array(a), PathElem::Index(ix)) => {
                    self.array_values(*a).get(*ix).ok_or_else(not_found)?.0
                }
                _ => return Err(not_found()),
            };
        }
        let mut ranges = Vec::new();
        match (cur, last) {
            (BNode::Table(t), PathElem::Key(k)) => {
                let tb = &self.tables[*t];
                let pos = self.find_key(*t, k).ok_or_else(not_found)?;
                let BEntry::Pair { node, kv, .. } = &tb.entries[pos] else {
                    return Err(not_found());
                };
                if tb.origin == Origin::Inline {
                    let bounds: Vec<(usize, usize)> = tb
                        .entries
                        .iter()
                        .filter_map(|x| match x {
                            BEntry::Pair { kv: Some(r), .. } => Some(*r),
                            _ => None,
                        })
                        .collect();
                    let me = kv.ok_or_else(not_found)?;
                    let ix = bounds.iter().position(|r| *r == me).ok_or_else(not_found)?;
                    let (start, end) = tb.span.expect("inline tables have a span");
                    ranges.push(list_removal(&self.src, (start, end), &bounds, ix));
                } else {
                    self.ranges_of(node, *kv, &mut ranges);
                }
            }
            (BNode::Array(a), PathElem::Index(ix)) => {
                let vals = self.array_values(*a);
                let (node, _) = vals.get(*ix).ok_or_else(not_found)?;
                match self.arrays[*a].span {
                    Some(span) => {
                        let bounds: Vec<(usize, usize)> =
                            vals.iter().filter_map(|(_, s)| *s).collect();
                        ranges.push(list_removal(&self.src, span, &bounds, *ix));
                    }
                    None => self.ranges_of(node, None, &mut ranges),
                }
            }
            _ => return Err(not_found()),
        }
        ranges.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::new();
        for r in ranges {
            match merged.last_mut() {
                Some(m) if r.0 <= m.1 => m.1 = m.1.max(r.1),
                _ => merged.push(r),
            }
        }
        let mut e = Edits::default();
        for (s, t) in merged {
            e.put(s, t, |_| {});
        }
        e.apply(WHAT, &self.src)
    }
}

/// The range to delete to remove element `ix` of an inline list whose
/// elements span `bounds`, with the comma that separates it.
fn list_removal(
    src: &[u8],
    (_, close): (usize, usize),
    bounds: &[(usize, usize)],
    ix: usize,
) -> (usize, usize) {
    let n = bounds.len();
    if n == 1 {
        // Keep the brackets and the whitespace inside them.
        let (s, e) = bounds[0];
        let mut e2 = e;
        while e2 < close - 1 && matches!(src[e2], b' ' | b'\t' | b',') {
            e2 += 1;
        }
        return (s, if src[e..e2].contains(&b',') { e2 } else { e });
    }
    if ix + 1 < n {
        (bounds[ix].0, bounds[ix + 1].0)
    } else {
        (bounds[ix - 1].1, bounds[ix].1)
    }
}

// ---------------------------------------------------------------------------
// Scanner

/// A decoded scalar, as `toml_edit` read it.
enum Scalar {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Datetime(te::Datetime),
}

impl Drop for Scalar {
    fn drop(&mut self) {
        if let Scalar::Str(s) = self {
            s.zeroize();
        }
    }
}

fn collect_value(v: &te::Value, out: &mut HashMap<usize, Scalar>) {
    let Some(span) = v.span() else { return };
    let s = match v {
        te::Value::String(x) => Scalar::Str(x.value().clone()),
        te::Value::Integer(x) => Scalar::Int(*x.value()),
        te::Value::Float(x) => Scalar::Float(*x.value()),
        te::Value::Boolean(x) => Scalar::Bool(*x.value()),
        te::Value::Datetime(x) => Scalar::Datetime(*x.value()),
        te::Value::Array(a) => {
            for x in a.iter() {
                collect_value(x, out);
            }
            return;
        }
        te::Value::InlineTable(t) => {
            for (_, x) in t.iter() {
                collect_value(x, out);
            }
            return;
        }
    };
    out.insert(span.start, s);
}

fn collect_table(t: &te::Table, out: &mut HashMap<usize, Scalar>) {
    for (_, item) in t.iter() {
        collect_scalars(item, out);
    }
}

fn collect_scalars(item: &te::Item, out: &mut HashMap<usize, Scalar>) {
    match item {
        te::Item::None => {}
        te::Item::Value(v) => collect_value(v, out),
        te::Item::Table(t) => collect_table(t, out),
        te::Item::ArrayOfTables(a) => {
            for t in a.iter() {
                collect_table(t, out);
            }
        }
    }
}

fn value_to_json(v: &te::Value) -> Value {
    match v {
        te::Value::String(x) => Value::String(x.value().clone()),
        te::Value::Integer(x) => Value::from(*x.value()),
        te::Value::Float(x) => serde_json::Number::from_f64(*x.value())
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(x.value().to_string())),
        te::Value::Boolean(x) => Value::Bool(*x.value()),
        te::Value::Datetime(x) => Value::String(x.value().to_string()),
        te::Value::Array(a) => Value::Array(a.iter().map(value_to_json).collect()),
        te::Value::InlineTable(t) => Value::Object(
            t.iter()
                .map(|(k, v)| (k.to_string(), value_to_json(v)))
                .collect(),
        ),
    }
}

fn table_to_json(t: &te::Table) -> Value {
    Value::Object(
        t.iter()
            .map(|(k, v)| (k.to_string(), item_to_json(v)))
            .collect(),
    )
}

/// The `sops` table as the JSON value the metadata reader takes.
fn item_to_json(item: &te::Item) -> Value {
    match item {
        te::Item::None => Value::Null,
        te::Item::Value(v) => value_to_json(v),
        te::Item::Table(t) => table_to_json(t),
        te::Item::ArrayOfTables(a) => Value::Array(a.iter().map(table_to_json).collect()),
    }
}

struct Scanner<'a> {
    s: &'a [u8],
    i: usize,
    vals: HashMap<usize, Scalar>,
    tables: Vec<BTable>,
    arrays: Vec<BArray>,
    leaves: Vec<Plain>,
    slots: Vec<Slot>,
    /// The table of the current section.
    cur: usize,
    /// Comment lines not yet attached (they go with what follows).
    pending: Vec<usize>,
    sops_ranges: Vec<(usize, usize)>,
    /// The run of `sops` sections being read: (start, end of last line).
    sops_run: Option<(usize, usize)>,
    first_header: Option<usize>,
}

fn is_bare_key_char(c: u8) -> bool {
    !matches!(
        c,
        b' ' | b'\t'
            | b'.'
            | b'='
            | b']'
            | b'['
            | b'#'
            | b'\r'
            | b'\n'
            | b','
            | b'}'
            | b'{'
            | b'"'
            | b'\''
    )
}

fn is_date(b: &[u8]) -> bool {
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

impl<'a> Scanner<'a> {
    fn new(s: &'a [u8], vals: HashMap<usize, Scalar>) -> Scanner<'a> {
        Scanner {
            s,
            i: 0,
            vals,
            tables: vec![BTable {
                origin: Origin::Root,
                parent: None,
                depth: 0,
                entries: Vec::new(),
                index: HashMap::new(),
                section: None,
                insert_at: None,
                span: None,
            }],
            arrays: Vec::new(),
            leaves: Vec::new(),
            slots: Vec::new(),
            cur: ROOT,
            pending: Vec::new(),
            sops_ranges: Vec::new(),
            sops_run: None,
            first_header: None,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn at(&self, lit: &[u8]) -> bool {
        self.s[self.i..].starts_with(lit)
    }

    #[cold]
    fn internal(&self, what: &str) -> Error {
        Error::parse_at(
            WHAT,
            self.s,
            self.i,
            format!("sopx could not follow this TOML ({what}); please report it"),
        )
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    fn run(&mut self) -> Result<()> {
        if self.s.starts_with(b"\xEF\xBB\xBF") {
            self.i = 3;
        }
        loop {
            let line_start = self.i;
            self.skip_ws();
            match self.peek() {
                None => break,
                Some(b'\n' | b'\r') => self.i += 1,
                Some(b'#') => {
                    let rec = self.sops_run.is_none();
                    if let Some(c) = self.comment(rec) {
                        self.pending.push(c);
                    }
                }
                Some(b'[') => self.header(line_start)?,
                Some(_) => self.keyval_line(line_start)?,
            }
        }
        self.close_sops_run();
        let cur = self.cur;
        self.flush_pending(cur);
        Ok(())
    }

    fn close_sops_run(&mut self) {
        if let Some(r) = self.sops_run.take() {
            self.sops_ranges.push(r);
        }
    }

    fn flush_pending(&mut self, t: usize) {
        let cs = std::mem::take(&mut self.pending);
        self.tables[t]
            .entries
            .extend(cs.into_iter().map(BEntry::Comment));
    }

    /// A comment at `#`; stops before the line break.
    fn comment(&mut self, rec: bool) -> Option<usize> {
        let start = self.i;
        while let Some(c) = self.peek() {
            if c == b'\n' || (c == b'\r' && self.s.get(self.i + 1) == Some(&b'\n')) {
                break;
            }
            self.i += 1;
        }
        if !rec {
            return None;
        }
        let end = self.i;
        let mut text = &self.s[start + 1..end];
        let space = text.first() == Some(&b' ');
        if space {
            text = &text[1..];
        }
        self.leaves.push(Plain::new(Kind::Comment, text));
        self.slots.push(Slot::Comment { start, end, space });
        Some(self.leaves.len() - 1)
    }

    /// The rest of a line: blanks, an optional comment, the line break.
    fn line_end(&mut self, rec: bool) -> Option<usize> {
        self.skip_ws();
        let c = if self.peek() == Some(b'#') {
            self.comment(rec)
        } else {
            None
        };
        if self.at(b"\r\n") {
            self.i += 2;
        } else if self.peek() == Some(b'\n') {
            self.i += 1;
        }
        c
    }

    /// Blanks, line breaks and comments inside `[...]` or `{...}`.
    fn gap(&mut self, rec: bool) -> Vec<usize> {
        let mut out = Vec::new();
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.i += 1,
                Some(b'#') => {
                    if let Some(c) = self.comment(rec) {
                        out.push(c);
                    }
                }
                _ => return out,
            }
        }
    }

    fn new_table(&mut self, origin: Origin, parent: Option<(usize, String)>) -> Result<usize> {
        let depth = parent
            .as_ref()
            .map_or(0, |(p, _)| self.tables[*p].depth + 1);
        if depth > MAX_DEPTH {
            return Err(Error::parse_at(
                WHAT,
                self.s,
                self.i,
                crate::limits::too_deep(),
            ));
        }
        self.tables.push(BTable {
            origin,
            parent,
            depth,
            entries: Vec::new(),
            index: HashMap::new(),
            section: None,
            insert_at: None,
            span: None,
        });
        Ok(self.tables.len() - 1)
    }

    fn insert(&mut self, t: usize, key: String, node: BNode, kv: Option<(usize, usize)>) {
        if let BNode::Table(child) = node {
            let depth = self.tables[t].depth + 1;
            self.tables[child].parent = Some((t, key.clone()));
            self.tables[child].depth = depth;
        }
        let tb = &mut self.tables[t];
        tb.index.insert(key.clone(), tb.entries.len());
        tb.entries.push(BEntry::Pair { key, node, kv });
    }

    /// The table under `key` in `t` (the last element of an array of
    /// tables), created with `origin` if missing.
    fn descend(&mut self, t: usize, key: &str, origin: Origin) -> Result<usize> {
        if let Some(&pos) = self.tables[t].index.get(key) {
            return match &self.tables[t].entries[pos] {
                BEntry::Pair {
                    node: BNode::Table(id),
                    ..
                } => Ok(*id),
                BEntry::Pair {
                    node: BNode::Array(a),
                    ..
                } => match self.arrays[*a].items.iter().rev().find_map(|i| match i {
                    BItem::Value(BNode::Table(id), _) => Some(*id),
                    _ => None,
                }) {
                    Some(id) => Ok(id),
                    None => Err(self.internal("array is not an array of tables")),
                },
                _ => Err(self.internal("key is not a table")),
            };
        }
        let id = self.new_table(origin, Some((t, key.to_string())))?;
        self.insert(t, key.to_string(), BNode::Table(id), None);
        Ok(id)
    }

    fn header(&mut self, line_start: usize) -> Result<()> {
        let aot = self.s.get(self.i + 1) == Some(&b'[');
        self.i += if aot { 2 } else { 1 };
        let keys = self.keys()?;
        self.skip_ws();
        self.i += if aot { 2 } else { 1 };
        if self.first_header.is_none() {
            self.first_header = Some(line_start);
        }
        if keys.first().map(String::as_str) == Some(SOPS_KEY) {
            self.flush_pending(ROOT);
            self.line_end(false);
            let start = self.sops_run.map_or(line_start, |r| r.0);
            self.sops_run = Some((start, self.i));
            return Ok(());
        }
        self.close_sops_run();
        let (last, parents) = keys
            .split_last()
            .ok_or_else(|| self.internal("empty key"))?;
        let mut t = ROOT;
        for k in parents {
            t = self.descend(t, k, Origin::Implicit)?;
        }
        let id = if aot {
            let arr = match self.tables[t].index.get(last.as_str()) {
                Some(&pos) => match &self.tables[t].entries[pos] {
                    BEntry::Pair {
                        node: BNode::Array(a),
                        ..
                    } => *a,
                    _ => return Err(self.internal("not an array of tables")),
                },
                None => {
                    self.arrays.push(BArray {
                        aot: true,
                        items: Vec::new(),
                        span: None,
                    });
                    let a = self.arrays.len() - 1;
                    self.insert(t, last.clone(), BNode::Array(a), None);
                    a
                }
            };
            let cs = std::mem::take(&mut self.pending);
            self.arrays[arr]
                .items
                .extend(cs.into_iter().map(BItem::Comment));
            let id = self.new_table(Origin::AotElem, Some((t, last.clone())))?;
            self.arrays[arr]
                .items
                .push(BItem::Value(BNode::Table(id), None));
            id
        } else {
            self.flush_pending(t);
            let id = self.descend(t, last, Origin::Header)?;
            self.tables[id].origin = Origin::Header;
            id
        };
        self.cur = id;
        if let Some(c) = self.line_end(true) {
            self.tables[id].entries.push(BEntry::Comment(c));
        }
        self.tables[id].section = Some((line_start, self.i));
        self.tables[id].insert_at = Some(self.i);
        Ok(())
    }

    fn keyval_line(&mut self, line_start: usize) -> Result<()> {
        let keys = self.keys()?;
        self.skip_ws();
        if self.peek() != Some(b'=') {
            return Err(self.internal("expected `=`"));
        }
        self.i += 1;
        self.skip_ws();
        let in_sops = self.sops_run.is_some()
            || (self.cur == ROOT && keys.first().map(String::as_str) == Some(SOPS_KEY));
        if in_sops {
            self.value(false)?;
            self.line_end(false);
            match &mut self.sops_run {
                Some(r) => r.1 = self.i,
                None => self.sops_ranges.push((line_start, self.i)),
            }
            return Ok(());
        }
        let cur = self.cur;
        self.flush_pending(cur);
        let (last, parents) = keys
            .split_last()
            .ok_or_else(|| self.internal("empty key"))?;
        let mut t = cur;
        for k in parents {
            t = self.descend(t, k, Origin::Dotted)?;
        }
        let node = self
            .value(true)?
            .ok_or_else(|| self.internal("value not recorded"))?;
        let trailer = self.line_end(true);
        self.insert(t, last.clone(), node, Some((line_start, self.i)));
        if let Some(c) = trailer {
            self.tables[t].entries.push(BEntry::Comment(c));
        }
        let end = self.i;
        let tb = &mut self.tables[cur];
        tb.insert_at = Some(end);
        if let Some(s) = &mut tb.section {
            s.1 = end;
        }
        Ok(())
    }

    /// A dotted key (at its first character).
    fn keys(&mut self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        loop {
            self.skip_ws();
            out.push(self.simple_key()?);
            self.skip_ws();
            if self.peek() == Some(b'.') {
                self.i += 1;
            } else {
                return Ok(out);
            }
        }
    }

    fn simple_key(&mut self) -> Result<String> {
        let start = self.i;
        match self.peek() {
            Some(b'"') => {
                self.string()?;
                Ok(decode_basic(&self.s[start + 1..self.i - 1]))
            }
            Some(b'\'') => {
                self.string()?;
                Ok(String::from_utf8_lossy(&self.s[start + 1..self.i - 1]).into_owned())
            }
            _ => {
                while self.peek().is_some_and(is_bare_key_char) {
                    self.i += 1;
                }
                if self.i == start {
                    return Err(self.internal("expected a key"));
                }
                Ok(String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
            }
        }
    }

    /// A string token (at its opening quote); returns its style.
    fn string(&mut self) -> Result<Style> {
        let q = self.s[self.i];
        let triple = [q, q, q];
        if self.at(&triple) {
            self.i += 3;
            let nl = if self.at(b"\r\n") {
                Nl::CrLf
            } else if self.at(b"\n") {
                Nl::Lf
            } else {
                Nl::No
            };
            loop {
                match self.peek() {
                    None => return Err(self.internal("unterminated string")),
                    Some(b'\\') if q == b'"' => self.i += 2,
                    Some(c) if c == q && self.at(&triple) => {
                        while self.peek() == Some(q) {
                            self.i += 1;
                        }
                        break;
                    }
                    Some(_) => self.i += 1,
                }
            }
            Ok(if q == b'"' {
                Style::MlBasic(nl)
            } else {
                Style::MlLiteral(nl)
            })
        } else {
            self.i += 1;
            loop {
                match self.peek() {
                    None => return Err(self.internal("unterminated string")),
                    Some(b'\\') if q == b'"' => self.i += 2,
                    Some(c) if c == q => {
                        self.i += 1;
                        break;
                    }
                    Some(_) => self.i += 1,
                }
            }
            Ok(if q == b'"' {
                Style::Basic
            } else {
                Style::Literal
            })
        }
    }

    /// A value; with `rec` false nothing is recorded.
    fn value(&mut self, rec: bool) -> Result<Option<BNode>> {
        let start = self.i;
        match self.peek() {
            Some(b'"' | b'\'') => {
                let style = self.string()?;
                self.leaf(rec, start, style)
            }
            Some(b'[') => self.array(rec),
            Some(b'{') => self.inline_table(rec),
            Some(_) => {
                let space = self.scalar_token();
                self.leaf(rec, start, Style::Bare { space })
            }
            None => Err(self.internal("expected a value")),
        }
    }

    /// A number, boolean or date-time; true if it is a date-time written
    /// with a space separator.
    fn scalar_token(&mut self) -> bool {
        let start = self.i;
        let delim = |c: u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n' | b',' | b']' | b'}' | b'#');
        while self.peek().is_some_and(|c| !delim(c)) {
            self.i += 1;
        }
        let s = self.s;
        let i = self.i;
        if is_date(&s[start..i])
            && s.get(i) == Some(&b' ')
            && s.get(i + 1..i + 3)
                .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
            && s.get(i + 3) == Some(&b':')
        {
            self.i += 1;
            while self.peek().is_some_and(|c| !delim(c)) {
                self.i += 1;
            }
            return true;
        }
        false
    }

    fn leaf(&mut self, rec: bool, start: usize, style: Style) -> Result<Option<BNode>> {
        if !rec {
            return Ok(None);
        }
        let end = self.i;
        let sc = self
            .vals
            .remove(&start)
            .ok_or_else(|| self.internal("value not found"))?;
        let raw = std::str::from_utf8(&self.s[start..end]).unwrap_or_default();
        let plain = plain_of(sc, raw);
        self.leaves.push(plain);
        self.slots.push(Slot::Value { start, end, style });
        Ok(Some(BNode::Leaf(self.leaves.len() - 1)))
    }

    fn array(&mut self, rec: bool) -> Result<Option<BNode>> {
        let start = self.i;
        self.i += 1;
        let id = rec.then(|| {
            self.arrays.push(BArray {
                aot: false,
                items: Vec::new(),
                span: None,
            });
            self.arrays.len() - 1
        });
        loop {
            let cs = self.gap(rec);
            if let Some(a) = id {
                self.arrays[a]
                    .items
                    .extend(cs.into_iter().map(BItem::Comment));
            }
            match self.peek() {
                Some(b']') => {
                    self.i += 1;
                    break;
                }
                None => return Err(self.internal("unterminated array")),
                _ => {}
            }
            let vstart = self.i;
            let node = self.value(rec)?;
            if let (Some(a), Some(n)) = (id, node) {
                self.arrays[a]
                    .items
                    .push(BItem::Value(n, Some((vstart, self.i))));
            }
            let cs = self.gap(rec);
            if let Some(a) = id {
                self.arrays[a]
                    .items
                    .extend(cs.into_iter().map(BItem::Comment));
            }
            if self.peek() == Some(b',') {
                self.i += 1;
            }
        }
        Ok(id.map(|a| {
            self.arrays[a].span = Some((start, self.i));
            BNode::Array(a)
        }))
    }

    fn inline_table(&mut self, rec: bool) -> Result<Option<BNode>> {
        let start = self.i;
        self.i += 1;
        let id = if rec {
            Some(self.new_table(Origin::Inline, None)?)
        } else {
            None
        };
        loop {
            let cs = self.gap(rec);
            if let Some(t) = id {
                self.tables[t]
                    .entries
                    .extend(cs.into_iter().map(BEntry::Comment));
            }
            match self.peek() {
                Some(b'}') => {
                    self.i += 1;
                    break;
                }
                None => return Err(self.internal("unterminated inline table")),
                _ => {}
            }
            let kstart = self.i;
            let keys = self.keys()?;
            self.skip_ws();
            if self.peek() != Some(b'=') {
                return Err(self.internal("expected `=`"));
            }
            self.i += 1;
            self.skip_ws();
            match id {
                Some(t0) => {
                    let (last, parents) = keys
                        .split_last()
                        .ok_or_else(|| self.internal("empty key"))?;
                    let mut t = t0;
                    for k in parents {
                        t = self.descend(t, k, Origin::Inline)?;
                        self.tables[t].span = None;
                    }
                    let node = self
                        .value(true)?
                        .ok_or_else(|| self.internal("value not recorded"))?;
                    self.insert(t, last.clone(), node, Some((kstart, self.i)));
                }
                None => {
                    self.value(false)?;
                }
            }
            let cs = self.gap(rec);
            if let Some(t) = id {
                self.tables[t]
                    .entries
                    .extend(cs.into_iter().map(BEntry::Comment));
            }
            if self.peek() == Some(b',') {
                self.i += 1;
            }
        }
        Ok(id.map(|t| {
            self.tables[t].span = Some((start, self.i));
            BNode::Table(t)
        }))
    }
}

/// A basic string's content, unescaped (for keys).
fn decode_basic(raw: &[u8]) -> String {
    let s = String::from_utf8_lossy(raw);
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let hex = |from: usize, n: usize| -> Option<char> {
        let h: String = chars.get(from..from + n)?.iter().collect();
        u32::from_str_radix(&h, 16).ok().and_then(char::from_u32)
    };
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(&e) = chars.get(i) else { break };
        i += 1;
        let d = match e {
            'x' => (hex(i, 2), i += 2).0,
            'u' => (hex(i, 4), i += 4).0,
            'U' => (hex(i, 8), i += 8).0,
            'b' => Some('\u{8}'),
            't' => Some('\t'),
            'n' => Some('\n'),
            'f' => Some('\u{c}'),
            'r' => Some('\r'),
            'e' => Some('\u{1b}'),
            c => Some(c),
        };
        if let Some(d) = d {
            out.push(d);
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Values: what is encrypted, and how it is written back

/// The plaintext sops would encrypt for a value spelled `raw`.
fn plain_of(mut sc: Scalar, raw: &str) -> Plain {
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
fn rfc3339(dt: &te::Datetime) -> String {
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
fn toml_float_text(f: f64) -> String {
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
fn is_toml_dec_int(s: &str) -> bool {
    let d = s.strip_prefix(['+', '-']).unwrap_or(s);
    !d.is_empty()
        && d.bytes().all(|b| b.is_ascii_digit())
        && (d == "0" || !d.starts_with('0'))
        && s.parse::<i64>().is_ok()
}

/// TOML's float syntax.
fn is_toml_float(s: &str) -> bool {
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
fn write_token(b: &mut Vec<u8>, token: &str, kind: Kind, style: Style) {
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
fn write_plain(b: &mut Vec<u8>, p: &Plain, style: Style) {
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

fn toml_int(text: &str) -> Option<String> {
    if is_toml_dec_int(text) {
        Some(text.to_string())
    } else if is_go_int(text) {
        text.parse::<i64>().ok().map(|n| n.to_string())
    } else {
        None
    }
}

fn toml_float(text: &str) -> Option<String> {
    if is_toml_float(text) {
        Some(text.to_string())
    } else {
        parse_go_float(text).map(toml_float_text)
    }
}

fn toml_datetime(text: &str, space: bool) -> Option<String> {
    let mut t = text.to_string();
    if space && t.len() > 10 && t.as_bytes()[10] == b'T' {
        t.replace_range(10..11, " ");
    }
    t.parse::<te::Datetime>().ok().map(|_| t)
}

fn is_control(c: char) -> bool {
    (c < ' ' && c != '\t') || c == '\u{7f}'
}

/// Writes `s` as a TOML string in `style` where it can be written so,
/// else in the nearest style that can hold it.
fn write_string(b: &mut Vec<u8>, s: &str, style: Style) {
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
fn lead_nl(nl: Nl, s: &str) -> &'static str {
    match nl {
        Nl::No if s.starts_with('\n') || s.starts_with("\r\n") => "\n",
        _ => nl.as_str(),
    }
}

fn can_ml_literal(s: &str) -> bool {
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

fn escape_control(b: &mut Vec<u8>, c: char) {
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
fn write_basic(b: &mut Vec<u8>, s: &str) {
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
fn write_ml_basic(b: &mut Vec<u8>, s: &str, nl: Nl) {
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
fn write_key(k: &str) -> String {
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
fn inline_value(v: &Value) -> Result<String> {
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

// ---------------------------------------------------------------------------
// The metadata block

fn is_array_of_tables(v: &Value) -> bool {
    matches!(v, Value::Array(a) if !a.is_empty() && a.iter().all(Value::is_object))
}

/// A metadata value on one line, or a multi-line string for text with line
/// breaks (the age `enc` armor) in files with `\n` line breaks.
fn meta_value(v: &Value, nl: &str) -> Result<String> {
    match v {
        Value::String(s) if s.contains('\n') && nl == "\n" => {
            let mut b = Vec::new();
            write_ml_basic(&mut b, s, Nl::Lf);
            Ok(String::from_utf8(b).expect("escaped UTF-8"))
        }
        v => inline_value(v),
    }
}

fn write_meta_table(out: &mut String, path: &str, m: &Map<String, Value>, nl: &str) -> Result<()> {
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
fn write_meta(out: &mut Vec<u8>, meta: &Value, nl: &str) -> Result<()> {
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

// ---------------------------------------------------------------------------
// Output

// ---------------------------------------------------------------------------
// --output-type toml

fn to_toml_value(v: &Value) -> Result<te::Value> {
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

fn fill_table(t: &mut te::Table, m: &Map<String, Value>) -> Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::Entry;

    fn doc(s: &str) -> TomlDoc {
        TomlDoc::parse(s.as_bytes()).unwrap()
    }

    fn keys(entries: &[Entry]) -> Vec<String> {
        entries
            .iter()
            .map(|e| match e {
                Entry::Pair(k, _) => k.clone(),
                Entry::Comment(_) => "#".into(),
            })
            .collect()
    }

    /// Encrypt with fake tokens (`T<n>`) and "decrypt" them back.
    fn roundtrip(src: &str) {
        let d = doc(src);
        let tokens: Vec<(usize, String)> = (0..d.tree.leaves.len())
            .filter(|i| !d.tree.leaves[*i].text.is_empty())
            .map(|i| (i, format!("ENC[AES256_GCM,data:T{i}]")))
            .collect();
        let meta: Value = serde_json::from_str(
            r#"{"age":[{"recipient":"age1x","enc":"-----BEGIN-----\nAB\n-----END-----\n"}],"lastmodified":"2024-01-01T00:00:00Z","mac":"M","version":"3.11.0"}"#,
        )
        .unwrap();
        let enc = d.emit_encrypted(&tokens, &meta).unwrap();
        let enc_s = String::from_utf8(enc.clone()).unwrap();
        te::Document::parse(enc_s.as_str()).expect("encrypted TOML is valid");
        let e = TomlDoc::parse(&enc).unwrap();
        assert_eq!(e.metadata().unwrap()["version"], "3.11.0", "{enc_s}");
        assert_eq!(
            e.metadata().unwrap()["age"][0]["enc"],
            "-----BEGIN-----\nAB\n-----END-----\n"
        );
        let plains: Vec<(usize, Plain)> = e
            .tree
            .leaves
            .iter()
            .enumerate()
            .filter_map(|(i, l)| {
                let t = String::from_utf8_lossy(&l.text);
                let n: usize = t
                    .strip_prefix("ENC[AES256_GCM,data:T")?
                    .strip_suffix(']')?
                    .parse()
                    .ok()?;
                Some((i, d.tree.leaves[n].clone()))
            })
            .collect();
        assert_eq!(plains.len(), tokens.len(), "{enc_s}");
        let back = e.emit_plain(&plains).unwrap();
        assert_eq!(String::from_utf8(back).unwrap(), src, "encrypted:\n{enc_s}");
    }

    #[test]
    fn tables_dotted_keys_and_arrays_of_tables() {
        let d = doc(
            "a = 1\nb.c = \"x\"\n[t]\nk = true\n[t.u]\nv = 1.5\n[[arr]]\nn = 1\n[[arr]]\nn = 2\n",
        );
        let top = &d.tree.docs[0];
        assert_eq!(keys(top), ["a", "b", "t", "arr"]);
        let Entry::Pair(_, Node::Map(t)) = &top[2] else {
            panic!()
        };
        assert_eq!(keys(t), ["k", "u"]);
        let Entry::Pair(_, Node::List(items)) = &top[3] else {
            panic!()
        };
        assert_eq!(items.len(), 2);
        let kinds: Vec<Kind> = d.tree.leaves.iter().map(|l| l.kind).collect();
        assert_eq!(
            kinds,
            [
                Kind::Int,
                Kind::Str,
                Kind::Bool,
                Kind::Float,
                Kind::Int,
                Kind::Int
            ]
        );
    }

    #[test]
    fn comments_go_where_sops_would_look_for_them() {
        let d = doc("# top\na = 1 # after a\n# before t\n[t] # on t\n# in t\nb = 2\n");
        let top = &d.tree.docs[0];
        assert_eq!(keys(top), ["#", "a", "#", "#", "t"]);
        let Entry::Pair(_, Node::Map(t)) = &top[4] else {
            panic!()
        };
        assert_eq!(keys(t), ["#", "#", "b"]);
        assert_eq!(d.tree.leaves[0].text, b"top");
    }

    #[test]
    fn values_keep_their_spelling_when_sops_can_read_it() {
        let d = doc(
            "a = +5\nb = 0x1F\nc = 1_000\nd = 1.50\ne = 1e06\nf = inf\ng = -nan\nh = 1979-05-27 07:32:00Z\ni = 1979-05-27\nj = 07:32:00\nk = 1979-05-27T07:32:00.5-07:00\n",
        );
        let t: Vec<String> = d
            .tree
            .leaves
            .iter()
            .map(|l| String::from_utf8_lossy(&l.text).into_owned())
            .collect();
        assert_eq!(
            t,
            [
                "+5",
                "31",
                "1000",
                "1.50",
                "1e06",
                "inf",
                "nan",
                "1979-05-27T07:32:00Z",
                "1979-05-27",
                "07:32:00",
                "1979-05-27T07:32:00.5-07:00"
            ]
        );
    }

    #[test]
    fn round_trips() {
        for src in [
            "",
            "a = 1",
            "a = 1\n",
            "\n\n",
            "# only a comment",
            "s = \"x\\ty\\\"\"\nl = 'lit'\nm = \"\"\"\nline1\nline2\"\"\"\nn = '''\nraw \\ text\n'''\n",
            "t = 1979-05-27 07:32:00Z\nu = 1979-05-27 07:32:00\nd = 1979-05-27\n",
            "a = [1, 2, # c\n  3, # d\n]\n",
            "p = { x = 1, y.z = \"s\" }\n",
            "[[x]]\n# c\n[[x]]\nk = \"v\" # t\n",
            "a = 1\r\nb = \"\"\"\r\nx\r\ny\"\"\"\r\n[t]\r\nc = 2\r\n",
            "empty = \"\"\n\"quoted key\" = 1\n'lit.key' = 2\n",
            "q = \"\"\"a \"\"quoted\"\" b\"\"\"\n",
        ] {
            roundtrip(src);
        }
    }

    fn k(s: &str) -> PathElem {
        PathElem::Key(s.into())
    }

    #[test]
    fn set_and_unset_edit_in_place() {
        let src = "a = 1\np = { x = 1 }\nl = [1, 2]\n\n[t]\nb = 'q' # c\nd.e = 1\n\n[[r]]\nn = 1\n\n[[r]]\nn = 2\n";
        let d = doc(src);
        let set = |path: &[PathElem], v: &str| {
            String::from_utf8(d.set(path, &serde_json::from_str(v).unwrap()).unwrap()).unwrap()
        };
        let unset = |path: &[PathElem]| String::from_utf8(d.unset(path).unwrap()).unwrap();
        assert_eq!(set(&[k("a")], "2"), src.replace("a = 1", "a = 2"));
        assert_eq!(
            set(&[k("new")], "\"v\""),
            src.replace("l = [1, 2]\n", "l = [1, 2]\nnew = \"v\"\n")
        );
        assert_eq!(
            set(&[k("p"), k("y")], "2"),
            src.replace("{ x = 1 }", "{ x = 1, y = 2 }")
        );
        assert_eq!(
            set(&[k("l"), PathElem::Index(5)], "3"),
            src.replace("[1, 2]", "[1, 2, 3]")
        );
        assert_eq!(set(&[k("t"), k("b")], "\"z\""), src.replace("'q'", "'z'"));
        assert_eq!(
            set(&[k("t"), k("d"), k("f")], "true"),
            src.replace("d.e = 1\n", "d.e = 1\nd.f = true\n")
        );
        assert_eq!(
            set(&[k("r"), PathElem::Index(1), k("m")], "0"),
            src.replace("n = 2\n", "n = 2\nm = 0\n")
        );
        assert_eq!(unset(&[k("a")]), src.replace("a = 1\n", ""));
        assert_eq!(unset(&[k("p"), k("x")]), src.replace("{ x = 1 }", "{  }"));
        assert_eq!(
            unset(&[k("l"), PathElem::Index(0)]),
            src.replace("[1, 2]", "[2]")
        );
        assert_eq!(
            unset(&[k("r"), PathElem::Index(0)]),
            src.replace("[[r]]\nn = 1\n", "")
        );
        assert_eq!(
            unset(&[k("t")]),
            src.replace("[t]\nb = 'q' # c\nd.e = 1\n", "")
        );
        assert!(d.unset(&[k("missing")]).is_err());
        assert!(d.set(&[k("sops")], &Value::from(1)).is_err());
        assert!(d.set(&[k("t")], &Value::from(1)).is_err());
    }

    #[test]
    fn errors_have_lines() {
        match TomlDoc::parse(b"a = 1\nb = 2\na = 3\n") {
            Err(Error::Parse { what, line, .. }) => {
                assert_eq!(what, "TOML");
                assert_eq!(line, 3);
            }
            other => panic!("{:?}", other.err()),
        }
        assert!(matches!(
            TomlDoc::parse(b"x = \"unterminated\n"),
            Err(Error::Parse { line: 1, .. })
        ));
    }

    #[test]
    fn float_and_int_syntax() {
        assert!(is_toml_float("1.5"));
        assert!(is_toml_float("-1e06"));
        assert!(is_toml_float("224_617.445_991"));
        assert!(!is_toml_float("1000000"));
        assert!(!is_toml_float("03.14"));
        assert!(!is_toml_float("NaN"));
        assert_eq!(toml_float("1000000").unwrap(), "1000000.0");
        assert_eq!(toml_float("+Inf").unwrap(), "inf");
        assert_eq!(toml_int("007").unwrap(), "7");
        assert_eq!(toml_int("+5").unwrap(), "+5");
    }

    #[test]
    fn emit_values_writes_tables() {
        let v: Value = serde_json::from_str(
            r#"{"a":1,"s":"x","t":{"b":[1,2]},"l":[{"n":1},{"n":2}],"z":null}"#,
        )
        .unwrap();
        let out = String::from_utf8(emit_values(&[v]).unwrap()).unwrap();
        let parsed = te::Document::parse(out.as_str()).unwrap();
        assert_eq!(parsed["t"]["b"].as_array().unwrap().len(), 2);
        assert_eq!(parsed["l"].as_array_of_tables().unwrap().len(), 2);
        assert!(!out.contains('z'));
    }
}
