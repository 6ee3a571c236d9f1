//! TOML store: a sopx extension (sops 3.11 has no TOML store and reads
//! `.toml` files as binary).
//!
//! `toml_edit` parses the file: it validates it (bad input is reported with
//! its position, duplicate keys included), decodes the values and keys, and
//! gives the byte span of every value and header. The scanner (`scan`) then
//! walks the valid source in document order for what `toml_edit` gives no
//! position for: the comments, which it keeps only as raw decor text, and
//! the line spans that edits in place need (key/value lines, sections, the
//! `[sops]` ranges). It builds the tree sops would see:
//! tables (`[a.b]`, dotted keys `a.b = 1`, inline tables) are mappings,
//! arrays and arrays of tables are lists. Output is the original bytes with
//! only the changed spans replaced, so layout, comments, key order and
//! quoting survive.
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

mod edit;
mod meta;
mod output;
mod scan;
mod values;

pub use self::output::emit_values;
use self::{meta::*, scan::*, values::*};
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
        let spans = collect(doc.as_table());
        let meta = doc.as_table().get(SOPS_KEY).map(item_to_json);
        drop(doc);
        let mut sc = Scanner::new(src, spans);
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
