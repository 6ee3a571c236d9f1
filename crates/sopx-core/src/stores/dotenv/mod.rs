//! dotenv store, lossless and compatible with sops 3.11.
//!
//! What sops does (verified with sops 3.11 and `stores/dotenv/store.go`):
//! - it splits the file on `\n`; an empty line is skipped, a line whose
//!   first byte is `#` is a comment (its text is everything after the `#`),
//!   any other line must contain `=`: the key is everything before the first
//!   `=` (not trimmed: `export A` and `A ` are keys), the value everything
//!   after it, where the two characters `\n` stand for a line feed. Quotes
//!   are NOT interpreted (`A="x"` has the value `"x"`, quotes included),
//!   inline `# …` is part of the value, a `\r` before the line feed is part
//!   of the value or comment. Whitespace-only lines, indented comments and
//!   lines without `=` are errors; duplicate keys are kept (both lines,
//!   sopx warns);
//! - every value is a string; empty values are not encrypted; comments are
//!   encrypted (`#ENC[…,type:comment]`);
//! - the metadata is written as `sops_`-prefixed flattened keys (see
//!   [`super::flatten`]), sorted, after the data, with `\n` for line feeds;
//!   a plaintext file with any `sops_` key is "already encrypted".
//!
//! sopx reads every file sops reads exactly as sops does (same keys, same
//! values, same comments), so `sops decrypt` of a sopx file yields what sops
//! would have read from the plaintext, and the MAC agrees. On top of that:
//! - output is the original bytes with values and comment texts replaced in
//!   place, so blank lines, `export`, quotes (which belong to the value),
//!   inline comments, `\r\n` line ends and a missing final line feed all
//!   survive; the `sops_` lines are appended at the end (with no final line
//!   feed when the file had none) and decryption removes exactly them;
//! - multi-line quoted values, which sops cannot read: a value starting with
//!   `"` or `'` that is not closed on its line, whose closing quote is on a
//!   later line, and where some line in between is not valid for sops (so
//!   sops would refuse the file), is one value running to the closing line.
//!   Its text for encryption is the raw text with `\` written `\\` and line
//!   feeds written `\n`, so `sops decrypt` shows it as a one-line value and
//!   sopx restores the original lines (a one-line value never contains the
//!   two characters `\n` once read, which tells the two apart);
//! - errors: a line sops cannot read (no `=`, only whitespace, an indented
//!   comment) is reported with its line number (and the unclosed quote that
//!   may explain it); a plaintext file defining the same variable twice
//!   (`A=` and `export A=` count as the same) is refused, since only one of
//!   the values would be used; encrypted files keep what sops wrote.

use std::collections::HashMap;

use serde_json::Value;

use super::edits::Edits;
use super::flatten::{self, Line, scalar_text, split_lines};
use super::splice::{self, Splice};
use super::{Document, PathElem, display_path};
use crate::error::{Error, Result};
use crate::tree::{Entry, Node, Tree};
use crate::value::{Kind, Plain};

mod parse;
mod write;

pub use self::write::emit_values;
use self::{parse::*, write::*};

const WHAT: &str = "dotenv";
const PREFIX: &str = "sops_";

/// A `KEY=value` entry (not `sops_`).
#[derive(Debug)]
struct Var {
    key: String,
    /// Index of its first and last line (they differ for multi-line values).
    first: usize,
    last: usize,
    /// The value's bytes (after `=`, up to the end of the last line).
    value: (usize, usize),
}

/// A parsed dotenv file.
pub struct DotenvDoc {
    src: Vec<u8>,
    lines: Vec<Line>,
    tree: Tree,
    /// Byte range of each leaf's text (value after `=`, comment after `#`).
    spans: Vec<(usize, usize)>,
    vars: Vec<Var>,
    /// Indices of the `sops_` lines.
    sops_lines: Vec<usize>,
    meta: Option<Value>,
}

/// Parses a dotenv file.
pub fn parse(src: &[u8]) -> Result<Box<dyn Document>> {
    Ok(Box::new(DotenvDoc::parse(src)?))
}

impl DotenvDoc {
    /// Bytes `start..end` of lines `first..=last` with their line feeds; for
    /// lines at the end of a file without a final line feed, the line feed
    /// before them instead, so the file still ends the same way.
    fn line_range(&self, first: usize, last: usize) -> (usize, usize) {
        let (a, b) = (self.lines[first], self.lines[last]);
        if b.next == b.end && a.start > 0 {
            (a.start - 1, b.end)
        } else {
            (a.start, b.next)
        }
    }

    /// Cuts the `sops_` lines.
    fn cut_metadata(&self, e: &mut Edits) {
        let mut k = 0;
        while k < self.sops_lines.len() {
            let first = self.sops_lines[k];
            let mut last = first;
            while k + 1 < self.sops_lines.len() && self.sops_lines[k + 1] == last + 1 {
                k += 1;
                last += 1;
            }
            let (a, b) = self.line_range(first, last);
            e.cut(a, b);
            k += 1;
        }
    }

    /// The variable a path names (exact key first, then the variable name).
    fn find(&self, path: &[PathElem], verb: &str) -> Result<Option<&Var>> {
        let key = match path {
            [PathElem::Key(k)] => k,
            [] => return Err(Error::Edit(format!("{verb}: the path is empty"))),
            _ => {
                return Err(Error::Edit(format!(
                    "{verb}: a dotenv file is flat: the path must be a single key, like '[\"NAME\"]'"
                )));
            }
        };
        if key.starts_with(PREFIX) {
            return Err(Error::Edit(format!(
                "{verb}: keys starting with {PREFIX:?} hold the sops metadata in dotenv files"
            )));
        }
        Ok(self
            .vars
            .iter()
            .find(|v| v.key == *key)
            .or_else(|| self.vars.iter().find(|v| var_name(&v.key) == key.as_str())))
    }
}

impl Splice for DotenvDoc {
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
        if self.tree.leaves[leaf].kind == Kind::Comment {
            e.put(a, b, |buf| write_comment(buf, &plain.text));
        } else {
            e.put(a, b, |buf| write_value(buf, &plain.text));
        }
        Some(())
    }

    fn place_metadata(&self, e: &mut Edits, _meta: Option<&Value>) {
        self.cut_metadata(e);
    }

    /// `sops_` lines at the end, keeping the file's final line feed (or
    /// its absence).
    fn append_metadata(&self, out: &mut Vec<u8>, meta: &Value) -> Result<()> {
        let final_newline = out.is_empty() || out.ends_with(b"\n");
        for (k, v) in flatten::flatten(meta) {
            if !final_newline {
                out.push(b'\n');
            }
            out.extend_from_slice(PREFIX.as_bytes());
            out.extend_from_slice(k.as_bytes());
            out.push(b'=');
            out.extend_from_slice(v.as_bytes());
            if final_newline {
                out.push(b'\n');
            }
        }
        Ok(())
    }
}

impl Document for DotenvDoc {
    fn tree(&self) -> &Tree {
        &self.tree
    }

    fn metadata(&self) -> Option<&Value> {
        self.meta.as_ref()
    }

    fn leaf_line(&self, leaf: usize) -> Option<usize> {
        let (a, _) = self.spans.get(leaf).copied()?;
        Some(super::line_of(&self.src, a))
    }

    fn emit_encrypted(&self, tokens: &[(usize, String)], meta: &Value) -> Result<Vec<u8>> {
        splice::emit_encrypted(self, tokens, meta)
    }

    fn emit_plain(&self, plains: &[(usize, Plain)]) -> Result<Vec<u8>> {
        splice::emit_plain(self, plains)
    }

    fn set(&self, path: &[PathElem], value: &Value) -> Result<Vec<u8>> {
        let found = self.find(path, "set")?;
        let PathElem::Key(key) = &path[0] else {
            unreachable!("find checked the path")
        };
        let text = scalar_text(value).ok_or_else(|| {
            Error::Edit(format!(
                "cannot use complex value in dotenv file; offending key {}",
                key
            ))
        })?;
        let raw = encode(text.as_bytes());
        let mut e = Edits::default();
        match found {
            Some(v) => e.put(v.value.0, v.value.1, |b| b.extend_from_slice(&raw)),
            None => {
                check_key(key)?;
                let end = self.src.len();
                let newline = end == 0 || self.src.ends_with(b"\n");
                e.put(end, end, |b| {
                    if !newline {
                        b.push(b'\n');
                    }
                    b.extend_from_slice(key.as_bytes());
                    b.push(b'=');
                    b.extend_from_slice(&raw);
                    if newline {
                        b.push(b'\n');
                    }
                });
            }
        }
        e.apply(WHAT, &self.src)
    }

    fn unset(&self, path: &[PathElem]) -> Result<Vec<u8>> {
        let Some(v) = self.find(path, "unset")? else {
            return Err(Error::PathNotFound(display_path(path)));
        };
        let (a, b) = self.line_range(v.first, v.last);
        let mut e = Edits::default();
        e.cut(a, b);
        e.apply(WHAT, &self.src)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(s: &str) -> DotenvDoc {
        DotenvDoc::parse(s.as_bytes()).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    fn err(s: &str) -> (usize, usize, String) {
        match DotenvDoc::parse(s.as_bytes()) {
            Err(Error::Parse {
                line, column, msg, ..
            }) => (line, column, msg),
            Err(e) => panic!("{s:?}: not a parse error: {e}"),
            Ok(_) => panic!("{s:?}: parsed"),
        }
    }

    /// (key, value) pairs and comments, as sops would read them.
    fn items(d: &DotenvDoc) -> Vec<(String, String)> {
        d.tree.docs[0]
            .iter()
            .map(|e| match e {
                Entry::Comment(id) => ("#".into(), d.tree.leaves[*id].as_str().into()),
                Entry::Pair(k, Node::Leaf(id)) => (k.clone(), d.tree.leaves[*id].as_str().into()),
                Entry::Pair(..) => unreachable!(),
            })
            .collect()
    }

    fn meta() -> Value {
        json!({
            "age": [{"recipient": "age1xyz", "enc": "-----BEGIN AGE ENCRYPTED FILE-----\nabc\n-----END AGE ENCRYPTED FILE-----\n"}],
            "lastmodified": "2024-01-01T00:00:00Z",
            "mac": "ENC[AES256_GCM,data:bWFj,iv:aXY=,tag:dGFn,type:str]",
            "unencrypted_suffix": "_unencrypted",
            "version": "3.11.0"
        })
    }

    /// Fake encryption: each non-empty leaf becomes a token holding its
    /// number; returns the encrypted bytes and the plains to restore.
    fn roundtrip(src: &str) -> Vec<u8> {
        let d = doc(src);
        let mut tokens = Vec::new();
        let mut plains = Vec::new();
        for (i, l) in d.tree.leaves.iter().enumerate() {
            if l.text.is_empty() {
                continue;
            }
            tokens.push((
                i,
                format!("ENC[AES256_GCM,data:{i},iv:x,tag:y,type:{}]", l.kind.tag()),
            ));
            plains.push(i);
        }
        let enc = d.emit_encrypted(&tokens, &meta()).unwrap();
        let e = DotenvDoc::parse(&enc).unwrap();
        assert!(e.meta.is_some());
        assert_eq!(e.tree.leaves.len(), d.tree.leaves.len(), "{enc:?}");
        let restore: Vec<(usize, Plain)> = plains
            .iter()
            .map(|&i| (i, d.tree.leaves[i].clone()))
            .collect();
        let out = e.emit_plain(&restore).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out),
            src,
            "encrypted:\n{}",
            String::from_utf8_lossy(&enc)
        );
        enc
    }

    #[test]
    fn reads_like_sops() {
        let d = doc(
            "# c\n#\nexport A=\"x y\" # inline\nB = 2 \nC=\nD=a\\nb\nE='q'\r\nF=x=y\n\n\nG=\"open\nH=1\n",
        );
        assert_eq!(
            items(&d),
            [
                ("#", " c"),
                ("#", ""),
                ("export A", "\"x y\" # inline"),
                ("B ", " 2 "),
                ("C", ""),
                ("D", "a\nb"),
                ("E", "'q'\r"),
                ("F", "x=y"),
                ("G", "\"open"),
                ("H", "1"),
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
    }

    #[test]
    fn multiline_values() {
        let src = "K=\"-----BEGIN KEY-----\nMIIB\\x\n-----END KEY-----\" # pem\nN=1\n";
        let d = doc(src);
        assert_eq!(
            items(&d),
            [
                (
                    "K",
                    "\"-----BEGIN KEY-----\\nMIIB\\\\x\\n-----END KEY-----\" # pem"
                ),
                ("N", "1")
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
        roundtrip(src);
        // Closed on a later line but every line in between is valid for
        // sops: read line by line, as sops does.
        let d = doc("A=\"x\nB=\"y\"\n");
        assert_eq!(items(&d)[0].1, "\"x");
        assert_eq!(items(&d)[1].1, "\"y\"");
        // Single quotes do not escape.
        let d = doc("A='it\\\nline two'\n");
        assert_eq!(items(&d)[0].1, "'it\\\\\\nline two'");
        roundtrip("A='it\\\nline two'\n");
    }

    #[test]
    fn lossless_roundtrips() {
        for src in [
            "",
            "A=1",
            "A=1\n",
            "\n\n",
            "# only a comment",
            "A=1\r\nB=two\r\n#c\r\n",
            "export A=\"quoted\" # note\n\nB='single'\nC=\nD=a\\nb\\\\nc\n",
            "KEY=\"multi\nline\"\nX=1",
            "A=\"x\ny\"\n\n# after\nB=\"p\nq\" z\n",
            "U=ünïcödé ✓\nE=\n=empty key\n",
        ] {
            roundtrip(src);
        }
    }

    #[test]
    fn metadata_lines() {
        let enc = roundtrip("A=1\n");
        let text = String::from_utf8(enc).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("A=ENC["));
        assert_eq!(
            lines[1],
            "sops_age__list_0__map_enc=-----BEGIN AGE ENCRYPTED FILE-----\\nabc\\n-----END AGE ENCRYPTED FILE-----\\n"
        );
        assert_eq!(lines[2], "sops_age__list_0__map_recipient=age1xyz");
        assert_eq!(lines[3], "sops_lastmodified=2024-01-01T00:00:00Z");
        assert!(lines[4].starts_with("sops_mac=ENC["));
        assert_eq!(lines[5], "sops_unencrypted_suffix=_unencrypted");
        assert_eq!(lines[6], "sops_version=3.11.0");
        assert!(text.ends_with('\n'));
        let d = doc(&text);
        let m = crate::metadata::Metadata::from_value(d.metadata().unwrap()).unwrap();
        assert_eq!(m.to_value(), meta());
        // No final line feed: none after the metadata either.
        let enc = roundtrip("A=1");
        assert!(!enc.ends_with(b"\n"));
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(err("A=1\nnoequals\n").0, 2);
        let (l, c, m) = err("A=1\n   \n");
        assert_eq!((l, c), (2, 1));
        assert!(m.contains("whitespace"), "{m}");
        let (l, c, m) = err("A=1\n  # x\n");
        assert_eq!((l, c), (2, 3));
        assert!(m.contains("indented"), "{m}");
        let (l, _, m) = err("A=\"abc\nnot a pair\n");
        assert_eq!(l, 2);
        assert!(m.contains("line 1, column 3 is never closed"), "{m}");
        // A repeated variable is kept, as sops keeps it (with a warning).
        assert_eq!(items(&doc("A=1\nB=2\nexport A=3\n")).len(), 3);
        match DotenvDoc::parse(b"A=1\nB=\xc3\xa9\xff") {
            Err(Error::Parse { line, column, .. }) => assert_eq!((line, column), (2, 4)),
            _ => panic!("invalid UTF-8 accepted"),
        }
        // Duplicates are allowed in encrypted files (sops writes them).
        doc("A=1\nA=2\nsops_version=3.11.0\nsops_lastmodified=x\n");
    }

    #[test]
    fn set_and_unset() {
        let d = doc("# c\nA=1\nexport B=\"x\"\nC=\"multi\nline\"\n");
        let set = |p: &str, v: Value| {
            String::from_utf8(d.set(&[PathElem::Key(p.into())], &v).unwrap()).unwrap()
        };
        assert_eq!(
            set("A", json!("two\nlines")),
            "# c\nA=two\\nlines\nexport B=\"x\"\nC=\"multi\nline\"\n"
        );
        assert_eq!(
            set("B", json!(5)),
            "# c\nA=1\nexport B=5\nC=\"multi\nline\"\n"
        );
        assert_eq!(set("C", json!(true)), "# c\nA=1\nexport B=\"x\"\nC=true\n");
        assert_eq!(
            set("D", json!("new")),
            "# c\nA=1\nexport B=\"x\"\nC=\"multi\nline\"\nD=new\n"
        );
        assert!(d.set(&[PathElem::Key("D".into())], &json!({})).is_err());
        assert!(
            d.set(&[PathElem::Key("sops_x".into())], &json!("1"))
                .is_err()
        );
        let unset =
            |p: &str| String::from_utf8(d.unset(&[PathElem::Key(p.into())]).unwrap()).unwrap();
        assert_eq!(unset("C"), "# c\nA=1\nexport B=\"x\"\n");
        assert_eq!(unset("export B"), "# c\nA=1\nC=\"multi\nline\"\n");
        assert!(matches!(
            d.unset(&[PathElem::Key("Z".into())]),
            Err(Error::PathNotFound(_))
        ));
        let d = doc("A=1\nB=2");
        assert_eq!(
            String::from_utf8(d.unset(&[PathElem::Key("B".into())]).unwrap()).unwrap(),
            "A=1"
        );
        assert_eq!(
            String::from_utf8(d.set(&[PathElem::Key("C".into())], &json!("3")).unwrap()).unwrap(),
            "A=1\nB=2\nC=3"
        );
    }

    #[test]
    fn values_output() {
        let out = emit_values(&[json!({"a": 1, "b": "x\ny", "c": true, "d": null})]).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a=1\nb=x\\ny\nc=true\nd=\n"
        );
        let e = emit_values(&[json!({"a": {"b": 1}})]).unwrap_err();
        assert!(e.to_string().contains("offending key a"), "{e}");
    }
}
