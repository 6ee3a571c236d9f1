//! INI store, lossless and compatible with sops 3.11.
//!
//! What sops does (verified with sops 3.11, which reads INI with go-ini
//! v1.67 using its default options):
//! - lines are left-trimmed; blank lines are skipped; `;` or `#` starts a
//!   comment line; `[name]` starts a section (the name is everything up to
//!   the LAST `]`, untrimmed; every header starts a new section, even with a
//!   name seen before); keys before the first header form a `DEFAULT`
//!   section, always present (first) in the tree, even when empty;
//! - `key = value` or `key: value` (the first `=` or `:`; the key trimmed,
//!   it may be quoted with `"`, `` ` `` or `"""`); a value is trimmed, ends
//!   at the first `#` or `;` (the rest is a comment), loses one pair of
//!   surrounding `"` or `'` quotes; a value starting with `"""` or `` ` ``
//!   runs to the LAST such quote of the line, or over several lines when the
//!   line has none; a value ending in `\` continues on the next line; a
//!   line that is none of these is an error; a key repeated in a section
//!   keeps only its last value;
//! - comment lines (with their line breaks; blank lines between them
//!   dropped) and the inline comment of a key are joined into one comment
//!   attached to the next key (after it in the tree) or section header
//!   (first in the section); the first `;`/`#` and the spaces after it are
//!   removed; comments after the last key of the file are dropped;
//! - every value is a string; the metadata is a `[sops]` section of
//!   flattened keys (see [`super::flatten`]), aligned on `=`, in random order
//!   (sorted in later sops versions).
//!
//! sopx builds the same tree (sections, keys, values, comments attached
//! where go-ini attaches them), so both tools compute the same MAC and
//! `sops decrypt` reads sopx's files. Output is the original bytes with
//! values and comment texts replaced in place:
//! - a value's token goes where its text was: inside the quotes when it was
//!   quoted (`"ENC[…]"`, `"""ENC[…]"""`), so the quotes, the alignment and
//!   the spacing around `=` survive; inline comments get their own token
//!   after the value; a multi-line `"""` value becomes one line;
//! - a run of consecutive comment lines is one comment whose text runs from
//!   after the first line's `;`/`#` (and spaces) to the end of the last
//!   line, so it is what sops would read when the run is all a key has, and
//!   `sops decrypt` shows every line of it; blank lines, indentation and
//!   trailing comments (which sops drops) are kept by sopx;
//! - the `[sops]` section is appended after a blank line, keys sorted and
//!   aligned as go-ini writes them; decryption removes exactly that.
//!
//! A key repeated in a section is read as go-ini reads it: its last value,
//! at its first place; the later lines are left out of the encrypted file
//! and come back, on decryption, from the layout hint. A value ending in `\`
//! goes on over the next line, as go-ini reads it, with a warning.
//!
//! Refused with a line number: what go-ini refuses (no `=`/`:`, unclosed
//! `[`, empty section or key name, unclosed `"""`), auto-numbered `-` keys,
//! text after a closing quote or a `]` that is not a comment (go-ini ignores
//! it; it would stay in clear), and a comment after a section header
//! (`[a] ; note`): its token would end with `]`, and go-ini takes the
//! section name up to the last `]` of the line, so it cannot be encrypted in
//! place (sops moves it above the header).
//!
//! Modules: `parse` (the line parser), `write` (tokens, plaintext, the
//! `[sops]` section, `--output-type ini`); the document, `set` and `unset`
//! are here.

use serde_json::Value;

mod parse;
mod write;

pub use self::write::emit_values;
use self::{parse::*, write::*};
use super::edits::Edits;
use super::flatten::{self, Line, scalar_text, split_lines};
use super::splice::{self, Splice};
use super::{Document, PathElem, display_path};
use crate::error::{Error, Result};
use crate::tree::{Entry, Node, Tree};
use crate::value::{Kind, Plain};

const WHAT: &str = "INI";
const SOPS: &str = "sops";
const DEFAULT: &str = "DEFAULT";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quote {
    None,
    /// Surrounding `"` or `'`, removed by go-ini.
    Pair(u8),
    Triple,
    Backtick,
}

impl Quote {
    fn len(self) -> usize {
        match self {
            Quote::None => 0,
            Quote::Pair(_) | Quote::Backtick => 1,
            Quote::Triple => 3,
        }
    }

    /// Can `text` go between these quotes and read back the same?
    fn holds(self, text: &str) -> bool {
        match self {
            Quote::None => reads_back_unquoted(text),
            Quote::Pair(q) => !text.contains(q as char) && !text.contains(['#', ';', '\n', '\r']),
            Quote::Triple => !text.contains("\"\"\""),
            Quote::Backtick => !text.contains('`'),
        }
    }
}

#[derive(Debug)]
struct Key {
    name: String,
    first: usize,
    last: usize,
    /// The value's text, and the value with its quotes.
    inner: (usize, usize),
    outer: (usize, usize),
    quote: Quote,
    /// From the end of the key to the start of the value (`" = "`, `"="`).
    delim: (usize, usize),
}

#[derive(Debug)]
struct Section {
    name: String,
    /// Line of the header (`None` for the implicit DEFAULT section).
    header: Option<usize>,
    /// Last line that belongs to the section (before the next header).
    end: Option<usize>,
    keys: Vec<Key>,
    items: Vec<Entry>,
}

/// A parsed INI file.
pub struct IniDoc {
    src: Vec<u8>,
    lines: Vec<Line>,
    tree: Tree,
    /// Byte range of each leaf (its text is exactly those bytes).
    spans: Vec<(usize, usize)>,
    /// The quoting around each value leaf (`None` for comments).
    quotes: Vec<Option<Quote>>,
    sections: Vec<Section>,
    /// The `[sops]` section: from its header line to the end of its last
    /// line (line feed included).
    sops: Option<(usize, usize)>,
    /// Lines of repeated keys, left out of the encrypted file.
    dropped: Vec<(usize, usize)>,
    meta: Option<Value>,
    nl: &'static str,
}

/// Parses an INI file.
pub fn parse(src: &[u8]) -> Result<Box<dyn Document>> {
    Ok(Box::new(IniDoc::parse(src)?))
}

/// Offset of the first non-whitespace character of `s` (or its length).
fn lead(s: &str) -> usize {
    s.len() - s.trim_start().len()
}

/// go-ini's `hasSurroundedQuote`.
fn surrounded(s: &str, q: u8) -> bool {
    let b = s.as_bytes();
    b.len() >= 2
        && b[0] == q
        && b[b.len() - 1] == q
        && b[1..].iter().position(|&c| c == q) == Some(b.len() - 2)
}

/// Would `text`, written unquoted as a value, read back as itself?
fn reads_back_unquoted(text: &str) -> bool {
    text.trim() == text
        && !text.contains(['#', ';', '\n', '\r'])
        && !text.ends_with('\\')
        && !text.starts_with('`')
        && (text.len() <= 3 || !text.starts_with("\"\"\""))
        && !surrounded(text, b'"')
        && !surrounded(text, b'\'')
}

/// A value as go-ini writes it.
fn go_quote(text: &str) -> String {
    if text.contains(['\n', '`']) {
        format!("\"\"\"{text}\"\"\"")
    } else if text.contains(['#', ';']) {
        format!("`{text}`")
    } else if text.trim() != text {
        format!("\"{text}\"")
    } else {
        text.to_string()
    }
}

/// A value for a place quoted with `quote`: inside the quotes when it fits
/// there, else the whole value (quotes included) rewritten.
fn place_value(
    e: &mut Edits,
    inner: (usize, usize),
    outer: (usize, usize),
    quote: Quote,
    text: &str,
) {
    if quote.holds(text) {
        e.put(inner.0, inner.1, |b| b.extend_from_slice(text.as_bytes()));
    } else {
        e.put(outer.0, outer.1, |b| {
            b.extend_from_slice(go_quote(text).as_bytes())
        });
    }
}

/// sops's `stripCommentChar`: where a comment's text starts, given the
/// position of its `;` or `#`.
fn comment_text_start(src: &str, at: usize) -> usize {
    let c = src.as_bytes()[at];
    let rest = &src[at..];
    at + rest.len() - rest.trim_start_matches([c as char, ' ']).len()
}

impl IniDoc {
    pub fn parse(src: &[u8]) -> Result<IniDoc> {
        let s = match std::str::from_utf8(src) {
            Ok(s) => s,
            Err(e) => {
                let msg = if src.starts_with(b"\xFF\xFE") || src.starts_with(b"\xFE\xFF") {
                    "the file is UTF-16; sopx reads INI files as UTF-8"
                } else {
                    "invalid UTF-8: sopx reads INI files as UTF-8"
                };
                return Err(Error::parse_at(WHAT, src, e.valid_up_to(), msg));
            }
        };
        // go-ini skips a UTF-8 byte order mark.
        let from = if s.starts_with('\u{feff}') { 3 } else { 0 };
        let lines = split_lines(src, from);
        let nl = match lines.first() {
            Some(l) if l.next > l.end && l.end > l.start && src[l.end - 1] == b'\r' => "\r\n",
            _ => "\n",
        };
        let mut p = Parser {
            s,
            lines,
            leaves: Vec::new(),
            spans: Vec::new(),
            quotes: Vec::new(),
            sections: vec![Section {
                name: DEFAULT.into(),
                header: None,
                end: None,
                keys: Vec::new(),
                items: Vec::new(),
            }],
            pending: Vec::new(),
            sops: None,
            in_sops: false,
            dropped: Vec::new(),
            before_sops: 0,
            meta_pairs: Vec::new(),
        };
        let mut i = 0;
        while i < p.lines.len() {
            let l = p.lines[i];
            let line = &s[l.start..l.end];
            let at = l.start + lead(line);
            match s.as_bytes().get(at) {
                None => {}
                Some(_) if at >= l.end => {}
                Some(b'#' | b';') => p.pending.push(i),
                Some(b'[') => p.header(i, at)?,
                Some(_) => i = p.key_line(i, at)?,
            }
            i += 1;
        }
        p.flush_trailing();
        let n = p.lines.len();
        p.close_section(n);
        if p.in_sops {
            // Nothing after [sops]: keep `end` of the section before it.
        }
        let meta = match p.sops {
            Some(_) => Some(flatten::unflatten(
                p.meta_pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            )?),
            None => None,
        };
        let docs = vec![
            p.sections
                .iter_mut()
                .map(|sec| Entry::Pair(sec.name.clone(), Node::Map(std::mem::take(&mut sec.items))))
                .collect(),
        ];
        Ok(IniDoc {
            src: src.to_vec(),
            lines: p.lines,
            tree: Tree {
                docs,
                leaves: p.leaves,
            },
            spans: p.spans,
            quotes: p.quotes,
            sections: p.sections,
            sops: p.sops,
            dropped: p.dropped,
            meta,
            nl,
        })
    }

    /// Cuts the `[sops]` section and the blank line sopx puts before it
    /// (or, at the end of a file without a final line feed, the line feeds
    /// before it).
    fn cut_metadata(&self, e: &mut Edits) {
        let Some((start, mut end)) = self.sops else {
            return;
        };
        // Blank lines after a final [sops] section (older sops wrote one)
        // go with it.
        if self.src[end..].iter().all(u8::is_ascii_whitespace) {
            end = self.src.len();
        }
        let before = &self.src[..start];
        let blank = ["\r\n\r\n", "\n\n"]
            .iter()
            .find(|b| before.ends_with(b.as_bytes()))
            .map(|b| b.len() / 2);
        let at_eof_no_nl = end == self.src.len() && !self.src.ends_with(b"\n");
        let from = match (blank, at_eof_no_nl) {
            (Some(n), true) => start - 2 * n,
            (Some(n), false) => start - n,
            (None, true) if before.ends_with(b"\r\n") => start - 2,
            (None, true) if before.ends_with(b"\n") => start - 1,
            (None, _) => start,
        };
        e.cut(from, end);
    }

    /// Bytes of lines `first..=last` with their line feed (or the line feed
    /// before them at the end of a file without a final one).
    fn line_range(&self, first: usize, last: usize) -> (usize, usize) {
        let (a, b) = (self.lines[first], self.lines[last]);
        if b.next == b.end && a.start > 0 {
            let back = if self.src[..a.start].ends_with(b"\r\n") {
                2
            } else {
                1
            };
            (a.start - back, b.end)
        } else {
            (a.start, b.next)
        }
    }

    fn sections_named<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s Section> + 's {
        self.sections.iter().filter(move |s| s.name == name)
    }

    fn sops_section_name(name: &str, verb: &str) -> Result<()> {
        if name == SOPS {
            return Err(Error::Edit(format!(
                "{verb}: the [sops] section holds the sops metadata"
            )));
        }
        Ok(())
    }
}

impl Document for IniDoc {
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
        let (sec, key) = match path {
            [PathElem::Key(s), PathElem::Key(k)] => (s, k),
            _ => {
                return Err(Error::Edit(
                    "set: INI paths name a section and a key, like '[\"section\"][\"key\"]'".into(),
                ));
            }
        };
        Self::sops_section_name(sec, "set")?;
        let text = scalar_text(value).ok_or_else(|| {
            Error::Edit(format!(
                "{}: INI values are strings; a mapping or a list cannot be written there",
                display_path(path)
            ))
        })?;
        let mut e = Edits::default();
        let found = self
            .sections_named(sec)
            .filter_map(|s| s.keys.iter().find(|k| k.name == *key))
            .last();
        if let Some(k) = found {
            if k.inner.0 == k.inner.1 && k.quote == Quote::None && !text.is_empty() {
                // `key =` with nothing after: space the value like the key.
                let spaced = self.src[k.delim.0..k.delim.1].first() == Some(&b' ');
                let v = go_quote(&text);
                e.put(k.inner.0, k.inner.1, |b| {
                    if spaced {
                        b.push(b' ');
                    }
                    b.extend_from_slice(v.as_bytes());
                });
                return e.apply(WHAT, &self.src);
            }
            place_value(&mut e, k.inner, k.outer, k.quote, &text);
            return e.apply(WHAT, &self.src);
        }
        let nl = self.nl;
        let line = |delim: &str| -> Result<String> {
            Ok(format!("{}{delim}{}", key_text(key)?, go_quote(&text)))
        };
        let end = self.sops.map_or(self.src.len(), |(s, _)| s);
        match self.sections_named(sec).last() {
            Some(s) => {
                let (at, delim) = match s.keys.last() {
                    Some(k) => (
                        self.lines[k.last].next,
                        String::from_utf8_lossy(&self.src[k.delim.0..k.delim.1]).into_owned(),
                    ),
                    None => match s.header {
                        Some(h) => (self.lines[h].next, " = ".to_string()),
                        None => (0, " = ".to_string()),
                    },
                };
                let text = line(&delim)?;
                let missing_nl = at > 0 && !self.src[..at].ends_with(b"\n");
                e.put(at, at, |b| {
                    if missing_nl {
                        b.extend_from_slice(nl.as_bytes());
                    }
                    b.extend_from_slice(text.as_bytes());
                    if !missing_nl {
                        b.extend_from_slice(nl.as_bytes());
                    }
                });
            }
            None => {
                if sec.contains(['\n', '\r', ']']) || sec.is_empty() {
                    return Err(Error::Edit(format!(
                        "{sec:?} cannot be an INI section name"
                    )));
                }
                let text = line(" = ")?;
                let before = &self.src[..end];
                // Keep the file's last line ending as it was: a final line
                // feed, or none.
                let final_nl = before.is_empty() || before.ends_with(b"\n") || end < self.src.len();
                e.put(end, end, |b| {
                    if !final_nl {
                        b.extend_from_slice(nl.as_bytes());
                    }
                    if !before.is_empty() {
                        b.extend_from_slice(nl.as_bytes());
                    }
                    b.extend_from_slice(format!("[{sec}]{nl}{text}").as_bytes());
                    if final_nl {
                        b.extend_from_slice(nl.as_bytes());
                    }
                });
            }
        }
        e.apply(WHAT, &self.src)
    }

    fn unset(&self, path: &[PathElem]) -> Result<Vec<u8>> {
        let mut e = Edits::default();
        match path {
            [PathElem::Key(sec), PathElem::Key(key)] => {
                Self::sops_section_name(sec, "unset")?;
                let Some(k) = self
                    .sections_named(sec)
                    .filter_map(|s| s.keys.iter().find(|k| k.name == *key))
                    .last()
                else {
                    return Err(Error::PathNotFound(display_path(path)));
                };
                let (a, b) = self.line_range(k.first, k.last);
                e.cut(a, b);
            }
            [PathElem::Key(sec)] => {
                Self::sops_section_name(sec, "unset")?;
                let mut any = false;
                for s in self.sections_named(sec) {
                    any = true;
                    match s.header {
                        Some(h) => {
                            let last = s.end.unwrap_or(h).max(h);
                            let (a, b) = self.line_range(h, last);
                            e.cut(a, b);
                        }
                        None => {
                            for k in &s.keys {
                                let (a, b) = self.line_range(k.first, k.last);
                                e.cut(a, b);
                            }
                        }
                    }
                }
                if !any {
                    return Err(Error::PathNotFound(display_path(path)));
                }
            }
            _ => {
                return Err(Error::Edit(
                    "unset: INI paths name a section, or a section and a key, like '[\"section\"][\"key\"]'"
                        .into(),
                ));
            }
        }
        e.apply(WHAT, &self.src)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(s: &str) -> IniDoc {
        IniDoc::parse(s.as_bytes()).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    fn err(s: &str) -> (usize, usize, String) {
        match IniDoc::parse(s.as_bytes()) {
            Err(Error::Parse {
                line, column, msg, ..
            }) => (line, column, msg),
            Err(e) => panic!("{s:?}: not a parse error: {e}"),
            Ok(_) => panic!("{s:?}: parsed"),
        }
    }

    /// The tree as (section, [(key or "#", text)]).
    fn items(d: &IniDoc) -> Vec<(String, Vec<(String, String)>)> {
        d.tree.docs[0]
            .iter()
            .map(|e| match e {
                Entry::Pair(name, Node::Map(items)) => (
                    name.clone(),
                    items
                        .iter()
                        .map(|e| match e {
                            Entry::Comment(id) => ("#".into(), d.tree.leaves[*id].as_str().into()),
                            Entry::Pair(k, Node::Leaf(id)) => {
                                (k.clone(), d.tree.leaves[*id].as_str().into())
                            }
                            _ => unreachable!(),
                        })
                        .collect(),
                ),
                _ => unreachable!(),
            })
            .collect()
    }

    fn sec(name: &str, items: &[(&str, &str)]) -> (String, Vec<(String, String)>) {
        (
            name.into(),
            items
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        )
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

    fn roundtrip(src: &str) -> String {
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
            plains.push((i, l.clone()));
        }
        let enc = d.emit_encrypted(&tokens, &meta()).unwrap();
        let enc_s = String::from_utf8(enc.clone()).unwrap();
        let e = IniDoc::parse(&enc).unwrap_or_else(|err| panic!("{enc_s}\n{err}"));
        assert!(e.meta.is_some());
        // Same tree shape, every encrypted leaf now a token.
        let shape = |d: &IniDoc| -> Vec<(String, Vec<String>)> {
            items(d)
                .into_iter()
                .map(|(s, it)| (s, it.into_iter().map(|(k, _)| k).collect()))
                .collect()
        };
        assert_eq!(shape(&e), shape(&d), "{enc_s}");
        for (i, _) in &plains {
            assert!(e.tree.leaves[*i].as_str().starts_with("ENC["), "{enc_s}");
        }
        let out = e.emit_plain(&plains).unwrap();
        assert_eq!(String::from_utf8_lossy(&out), src, "encrypted:\n{enc_s}");
        enc_s
    }

    #[test]
    fn reads_like_go_ini() {
        let d = doc(
            "; top\n# two\nglobal = g1\n\n[DEFAULT]\ndflt=1\n\n; sec\n[server]\n; c1\n\n  # c2\nhost   =   example.com\nport=8080 ; trailing\nurl: http://x/?a=b\nempty =\nquoted = \"a b\"\nsingle = 'c d'\nodd = \"a\" b\" \nt = \"\"\"x\ny\"\"\" ; after\nbt = `p;q`\n; end\n",
        );
        assert_eq!(
            items(&d),
            [
                sec("DEFAULT", &[("global", "g1"), ("#", "top\n# two")]),
                sec("DEFAULT", &[("dflt", "1")]),
                sec(
                    "server",
                    &[
                        ("#", "sec"),
                        ("host", "example.com"),
                        ("#", "c1"),
                        ("#", "c2"),
                        ("port", "8080"),
                        ("#", "trailing"),
                        ("url", "http://x/?a=b"),
                        ("empty", ""),
                        ("quoted", "a b"),
                        ("single", "c d"),
                        ("odd", "\"a\" b\""),
                        ("t", "x\ny"),
                        ("#", "after"),
                        ("bt", "p;q"),
                        ("#", "end"),
                    ]
                ),
            ]
        );
    }

    #[test]
    fn lossless_roundtrips() {
        for src in [
            "",
            "[a]\nk=v",
            "k = v\n",
            "; only a comment\n",
            "\n\n[a]\n\n",
            "[a]\r\nk = v\r\n; c\r\n",
            "; head\n[server]\nhost   =   example.com ; inline\nport=8080\n\n# before\nurl = http://x/?a=b&c=d\nempty =\nquoted = \"a b\"\nsingle = 'c d'\n",
            "[a]\nt = \"\"\"line 1\nline 2\"\"\" ; after\nb = `x;y`\n\n[a]\nk: v\n",
            ";\n; php.ini style\n;\n[PHP]\nengine = On\n;;;;;;\n",
            "[unicode]\nnom = Zoë ✓\n[ spaced name ]\n  indented = yes\n",
            "\u{feff}[bom]\nk = v\n",
        ] {
            roundtrip(src);
        }
    }

    #[test]
    fn metadata_section() {
        let enc = roundtrip("[a]\nk = v\n");
        assert!(
            enc.ends_with(
                "\n\n[sops]\nage__list_0__map_enc       = -----BEGIN AGE ENCRYPTED FILE-----\\nabc\\n-----END AGE ENCRYPTED FILE-----\\n\nage__list_0__map_recipient = age1xyz\nlastmodified               = 2024-01-01T00:00:00Z\nmac                        = ENC[AES256_GCM,data:bWFj,iv:aXY=,tag:dGFn,type:str]\nunencrypted_suffix         = _unencrypted\nversion                    = 3.11.0\n"
            ),
            "{enc}"
        );
        let d = doc(&enc);
        let m = crate::metadata::Metadata::from_value(d.metadata().unwrap()).unwrap();
        assert_eq!(m.to_value(), meta());
        assert!(!roundtrip("[a]\nk = v").ends_with('\n'));
        assert!(roundtrip("").starts_with("[sops]\n"));
    }

    #[test]
    fn reads_sops_multiline_metadata() {
        let src = "[foo]\nbar = ENC[AES256_GCM,data:Upwq,iv:x,tag:y,type:str]\n\n[sops]\nlastmodified = 2026-05-22T20:15:23Z\nmac = ENC[AES256_GCM,data:h2,iv:x,tag:y,type:str]\npgp__list_0__map_created_at = 2026-05-22T20:15:17Z\npgp__list_0__map_enc        = \"\"\"-----BEGIN PGP MESSAGE-----\n\nwcBM\n=j3Rn\n-----END PGP MESSAGE-----\"\"\"\npgp__list_0__map_fp = FBC7\nversion = 3.13.1\n";
        let d = doc(src);
        let m = d.metadata().unwrap();
        assert_eq!(
            m["pgp"][0]["enc"],
            "-----BEGIN PGP MESSAGE-----\n\nwcBM\n=j3Rn\n-----END PGP MESSAGE-----"
        );
        assert_eq!(
            items(&d),
            [
                sec("DEFAULT", &[]),
                sec(
                    "foo",
                    &[("bar", "ENC[AES256_GCM,data:Upwq,iv:x,tag:y,type:str]")]
                )
            ]
        );
        let out = d.emit_plain(&[]).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "[foo]\nbar = ENC[AES256_GCM,data:Upwq,iv:x,tag:y,type:str]\n"
        );
        // sops 3.5 left a blank line after the section.
        let d = doc(&format!("{src}\n"));
        assert_eq!(
            String::from_utf8(d.emit_plain(&[]).unwrap()).unwrap(),
            "[foo]\nbar = ENC[AES256_GCM,data:Upwq,iv:x,tag:y,type:str]\n"
        );
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(err("[a]\nnovalue\n").0, 2);
        assert_eq!(err("[a\n").0, 1);
        assert_eq!(err("[]\n").0, 1);
        assert_eq!(err("[a]\nk = \"\"\"open\nmore\n").0, 2);
        // A repeated key: go-ini's first place with the last value.
        let d = doc("[a]\nk = 1\nj = 2\nk = 3\n");
        let Some(Entry::Pair(_, Node::Map(keys))) = d.tree.docs[0].get(1) else {
            panic!("no section a")
        };
        let Entry::Pair(k, Node::Leaf(id)) = &keys[0] else {
            panic!("no key k")
        };
        assert_eq!((k.as_str(), d.tree.leaves[*id].as_str()), ("k", "3"));
        assert_eq!(keys.len(), 2);
        // A value ending in `\` goes on over the next line, as in go-ini.
        let d = doc("[a]\nk = C:\\dir\\\nnext = 1\n");
        assert_eq!(d.tree.leaves.last().unwrap().as_str(), "C:\\dirnext = 1");
        assert_eq!(err("[a]\nk = a \\\n b ; c\n").0, 3);
        assert_eq!(err("[a] junk\n").0, 1);
        let (l, c, m) = err("[a]\n[b] ; note\n");
        assert_eq!((l, c), (2, 5));
        assert!(m.contains("above the header"), "{m}");
        doc("[a] ;\nk = v\n");
        assert_eq!(err("[a]\nk = `x` junk\n").0, 2);
        assert_eq!(err("= v\n").0, 1);
        assert_eq!(err("[a]\n[sops]\nx=1\n[sops]\n").0, 4);
        // The same key in two sections with the same name is fine.
        doc("[a]\nk=1\n[a]\nk=2\n");
    }

    #[test]
    fn foreign_values_are_quoted_when_needed() {
        let d = doc("[a]\nk = ENC[x]\nq = \"ENC[y]\"\n");
        let p = |i: usize, s: &str| (i, Plain::new(Kind::Str, s));
        let out = d.emit_plain(&[p(0, "a;b # c"), p(1, " spaced ")]).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "[a]\nk = `a;b # c`\nq = \" spaced \"\n"
        );
        let out = d.emit_plain(&[p(0, "two\nlines"), p(1, "plain")]).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "[a]\nk = \"\"\"two\nlines\"\"\"\nq = \"plain\"\n"
        );
    }

    #[test]
    fn set_and_unset() {
        let d = doc("top = 1\n\n[a]\nx   = 1\ny   = \"q\" ; c\n\n[b]\nz=1");
        let set = |s: &str, k: &str, v: Value| {
            String::from_utf8(
                d.set(&[PathElem::Key(s.into()), PathElem::Key(k.into())], &v)
                    .unwrap(),
            )
            .unwrap()
        };
        assert_eq!(
            set("a", "y", json!("new")),
            "top = 1\n\n[a]\nx   = 1\ny   = \"new\" ; c\n\n[b]\nz=1"
        );
        assert_eq!(
            set("a", "x", json!("a;b")),
            "top = 1\n\n[a]\nx   = `a;b`\ny   = \"q\" ; c\n\n[b]\nz=1"
        );
        assert_eq!(
            set("a", "w", json!(2)),
            "top = 1\n\n[a]\nx   = 1\ny   = \"q\" ; c\nw   = 2\n\n[b]\nz=1"
        );
        assert_eq!(
            set("b", "n", json!(true)),
            "top = 1\n\n[a]\nx   = 1\ny   = \"q\" ; c\n\n[b]\nz=1\nn=true"
        );
        assert_eq!(
            set("DEFAULT", "d", json!("v")),
            "top = 1\nd = v\n\n[a]\nx   = 1\ny   = \"q\" ; c\n\n[b]\nz=1"
        );
        assert_eq!(
            set("c", "k", json!("v")),
            "top = 1\n\n[a]\nx   = 1\ny   = \"q\" ; c\n\n[b]\nz=1\n\n[c]\nk = v"
        );
        assert!(d.set(&[PathElem::Key("a".into())], &json!("v")).is_err());
        assert!(
            d.set(
                &[PathElem::Key("a".into()), PathElem::Key("k".into())],
                &json!([1])
            )
            .is_err()
        );
        let unset = |p: &[&str]| {
            let p: Vec<PathElem> = p.iter().map(|s| PathElem::Key(s.to_string())).collect();
            String::from_utf8(d.unset(&p).unwrap()).unwrap()
        };
        assert_eq!(unset(&["a", "y"]), "top = 1\n\n[a]\nx   = 1\n\n[b]\nz=1");
        assert_eq!(
            unset(&["b", "z"]),
            "top = 1\n\n[a]\nx   = 1\ny   = \"q\" ; c\n\n[b]"
        );
        assert_eq!(unset(&["a"]), "top = 1\n\n[b]\nz=1");
        assert_eq!(unset(&["b"]), "top = 1\n\n[a]\nx   = 1\ny   = \"q\" ; c\n");
        assert!(matches!(
            d.unset(&[PathElem::Key("a".into()), PathElem::Key("nope".into())]),
            Err(Error::PathNotFound(_))
        ));
    }

    #[test]
    fn values_output() {
        let out = emit_values(&[json!({
            "DEFAULT": {},
            "a": {"x": 1, "long_key": "v;w", "t": true, "n": null, "s": " pad"},
            "b": {"k": "multi\nline"}
        })])
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "[a]\nx        = 1\nlong_key = `v;w`\nt        = true\nn        = \ns        = \" pad\"\n\n[b]\nk = \"\"\"multi\nline\"\"\"\n"
        );
        assert!(emit_values(&[json!({"a": 1})]).is_err());
        assert!(emit_values(&[json!({"a": {"b": {"c": 1}}})]).is_err());
    }
}
