//! A fast scanner for the plain subset of YAML that most secrets files and
//! every encrypted file are written in: block mappings and sequences,
//! one-line plain and quoted scalars, literal and folded block scalars,
//! empty flow collections (`[]`, `{}`), comments, blank lines and `---`
//! markers. It emits the events saphyr-parser would, with byte offsets for
//! spans, and stops with an `Err` on anything else (other flow collections,
//! anchors, aliases, tags, multi-line or escaped scalars, `|+`, tabs, CRLF,
//! …), in which case saphyr reads the file. saphyr spends hundreds of
//! instructions per byte of a quoted or encrypted value; this spends a few.
//!
//! It must never accept a text that saphyr reads differently or refuses:
//! the tests compare the two on every YAML fixture (the real-world corpus
//! and the encrypted files included) and on generated documents, and the
//! `yaml_fast` fuzz target compares them on arbitrary input.

use std::borrow::Cow;
use std::collections::VecDeque;

use saphyr_parser::{Event, Marker, ScalarStyle, Span};

/// Why the fast scanner stops: saphyr reads the file instead.
pub struct Unsupported(&'static str);

type Step<T = ()> = Result<T, Unsupported>;

#[derive(Clone, Copy, PartialEq)]
enum Coll {
    Map,
    Seq,
}

struct Frame {
    coll: Coll,
    indent: usize,
    /// A mapping's last key has no value yet; its null goes here.
    pending: Option<usize>,
}

/// The scanner: an iterator over events.
pub struct Scanner<'a> {
    src: &'a [u8],
    text: &'a str,
    /// Events of the current line, not yet handed out.
    out: VecDeque<(Event<'a>, Span)>,
    emitted: usize,
    /// Where the next unread line starts.
    p: usize,
    started: bool,
    done: bool,
    stack: Vec<Frame>,
    /// A document is open, and whether it has its root node yet.
    doc: Option<bool>,
    line: usize,
    line_start: usize,
    /// Set when the text was refused before scanning.
    failed: Option<Unsupported>,
    /// The indentation of the collection holding the scalar that ended the
    /// previous content line: a more indented line after it would continue
    /// that scalar over several lines, which is left to saphyr.
    after_scalar: Option<usize>,
}

/// The events saphyr-parser would give for `text` (spans in bytes), one
/// line at a time; an `Err` when `text` turns out to be outside the subset
/// this scanner reads, after which it gives nothing more.
pub fn events(text: &str) -> Scanner<'_> {
    let src = text.as_bytes();
    // Control characters (`\0` ends saphyr's input), CRLF and byte-order
    // marks are left to saphyr. (Folded per chunk so that it vectorizes.)
    let odd = src.chunks(64).any(|c| {
        c.iter().fold(false, |a, b| {
            a | ((*b < 0x20) & (*b != b'\n') & (*b != b'\t')) | (*b == 0x7f)
        })
    }) || memchr::memmem::find(src, "\u{feff}".as_bytes()).is_some();
    Scanner {
        src,
        text,
        out: VecDeque::new(),
        emitted: 0,
        p: 0,
        started: false,
        done: odd,
        stack: Vec::new(),
        doc: None,
        line: 0,
        line_start: 0,
        after_scalar: None,
        failed: odd.then_some(Unsupported("control character, CR or byte-order mark")),
    }
}

/// Why the fast scanner leaves `text` to saphyr, and on which line; `None`
/// if it reads it. For tests.
pub fn unsupported(text: &str) -> Option<String> {
    let mut s = events(text);
    loop {
        match s.next()? {
            Ok(_) => {}
            Err(Unsupported(why)) => return Some(format!("line {}: {why}", s.line)),
        }
    }
}

impl<'a> Iterator for Scanner<'a> {
    type Item = Result<(Event<'a>, Span), Unsupported>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(e) = self.out.pop_front() {
                return Some(Ok(e));
            }
            if self.done {
                return self.failed.take().map(Err);
            }
            if let Err(u) = self.step() {
                self.done = true;
                self.out.clear();
                return Some(Err(u));
            }
        }
    }
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Whether `s` holds nothing but spaces and, after at least one space, a
/// comment. (Tabs there move saphyr's spans; they are left to it.)
fn comment_or_blank(s: &[u8]) -> bool {
    let n = s.iter().take_while(|b| **b == b' ').count();
    n == s.len() || (n > 0 && s[n] == b'#')
}

/// Characters that cannot start a plain scalar here (or start something
/// this scanner leaves to saphyr).
fn special_start(b: u8) -> bool {
    matches!(
        b,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'%'
            | b'@'
            | b'`'
            | b'\t'
    )
}

impl<'a> Scanner<'a> {
    fn mark(&self, at: usize) -> Marker {
        Marker::new(at, self.line, at.saturating_sub(self.line_start))
    }

    fn push(&mut self, ev: Event<'a>, start: usize, end: usize) {
        let span = Span::new(self.mark(start), self.mark(end));
        self.out.push_back((ev, span));
        self.emitted += 1;
    }

    /// End of the line starting at `p` (its `\n`, or the end of the text).
    fn eol(&self, p: usize) -> usize {
        memchr::memchr(b'\n', &self.src[p..]).map_or(self.src.len(), |i| p + i)
    }

    /// Scans the next line (or starts or ends the stream).
    fn step(&mut self) -> Step {
        if !self.started {
            self.started = true;
            self.push(Event::StreamStart, 0, 0);
            return Ok(());
        }
        let p = self.p;
        if p < self.src.len() {
            let le = self.eol(p);
            self.line += 1;
            self.line_start = p;
            self.p = match self.line_at(p, le)? {
                Some(next) => {
                    self.line += memchr::memchr_iter(b'\n', &self.src[le..next])
                        .count()
                        .saturating_sub(1);
                    next
                }
                None => le + 1,
            };
            return Ok(());
        }
        let end = self.src.len();
        self.end_doc(end)?;
        if self.emitted == 1 {
            // Nothing but comments: left to saphyr.
            return Err(Unsupported("comments only"));
        }
        self.push(Event::StreamEnd, end, end);
        self.done = true;
        Ok(())
    }

    /// Reads the line `p..le`. Returns where the next unread line starts if
    /// it read further lines (a block scalar's).
    fn line_at(&mut self, p: usize, le: usize) -> Step<Option<usize>> {
        let line = &self.src[p..le];
        let indent = line.iter().take_while(|b| **b == b' ').count();
        let rest = &line[indent..];
        match rest.first() {
            None | Some(b'#') => return Ok(None),
            Some(b'\t') => return Err(Unsupported("tab indentation")),
            _ => {}
        }
        if indent == 0 && (rest.starts_with(b"...") || rest[0] == b'%') {
            return Err(Unsupported("`...` or directive"));
        }
        if indent == 0 && rest.starts_with(b"---") && (rest.len() == 3 || is_blank(rest[3])) {
            if !comment_or_blank(&rest[3..]) {
                return Err(Unsupported("content after `---`"));
            }
            self.end_doc(p)?;
            self.push(Event::DocumentStart(true), p, p + 3);
            self.doc = Some(false);
            self.after_scalar = None;
            return Ok(None);
        }
        if self.after_scalar.take().is_some_and(|o| indent > o) {
            return Err(Unsupported("multi-line scalar"));
        }
        self.node_line(indent, p + indent, le)
    }

    fn end_doc(&mut self, at: usize) -> Step {
        while !self.stack.is_empty() {
            self.close_top(at);
        }
        match self.doc.take() {
            None => Ok(()),
            // An empty document: saphyr gives it a null; left to it.
            Some(false) => Err(Unsupported("empty document")),
            Some(true) => {
                self.push(Event::DocumentEnd, at, at);
                Ok(())
            }
        }
    }

    fn close_top(&mut self, at: usize) {
        let top = self.stack.pop().expect("caller checked");
        if let Some(np) = top.pending {
            self.null(np);
        }
        let ev = match top.coll {
            Coll::Map => Event::MappingEnd,
            Coll::Seq => Event::SequenceEnd,
        };
        self.push(ev, at, at);
    }

    fn null(&mut self, at: usize) {
        self.push(
            Event::Scalar(Cow::Borrowed(""), ScalarStyle::Plain, 0, None),
            at,
            at,
        );
    }

    fn open(&mut self, coll: Coll, indent: usize, at: usize) -> Step {
        match self.doc {
            None => {
                self.push(Event::DocumentStart(false), at, at);
                self.doc = Some(true);
            }
            Some(false) => self.doc = Some(true),
            Some(true) => {
                if self.stack.is_empty() {
                    // A second root node: an error, for saphyr to report.
                    return Err(Unsupported("second root node"));
                }
            }
        }
        if self.stack.len() >= crate::limits::MAX_DEPTH {
            return Err(Unsupported("too deep"));
        }
        let ev = match coll {
            Coll::Map => Event::MappingStart(0, None),
            Coll::Seq => Event::SequenceStart(0, None),
        };
        self.push(ev, at, at);
        self.stack.push(Frame {
            coll,
            indent,
            pending: None,
        });
        Ok(())
    }

    /// A content line whose first character, at `at`, is in column `indent`.
    fn node_line(&mut self, indent: usize, at: usize, le: usize) -> Step<Option<usize>> {
        let src = self.src;
        let item = src[at] == b'-' && (at + 1 == le || is_blank(src[at + 1]));
        while let Some(top) = self.stack.last() {
            if top.indent > indent || (top.indent == indent && top.coll == Coll::Seq && !item) {
                self.close_top(at);
            } else {
                break;
            }
        }
        match self.stack.last_mut() {
            None => self.open(if item { Coll::Seq } else { Coll::Map }, indent, at)?,
            Some(top) if top.coll == Coll::Seq => {
                if !(top.indent == indent && item) {
                    return Err(Unsupported("sequence item where none fits"));
                }
            }
            Some(top) if top.indent == indent => match (item, top.pending.take()) {
                (true, Some(_)) => self.open(Coll::Seq, indent, at)?,
                (true, None) => return Err(Unsupported("item after a scalar value")),
                (false, Some(np)) => self.null(np),
                (false, None) => {}
            },
            Some(top) => {
                if top.pending.take().is_none() {
                    return Err(Unsupported("more indented line after a value"));
                }
                self.open(if item { Coll::Seq } else { Coll::Map }, indent, at)?;
            }
        }
        if !item {
            return self.entry(indent, at, le);
        }
        let mut c = at + 1;
        while c < le && src[c] == b' ' {
            c += 1;
        }
        // An empty item, or its content on the next lines, or a tab.
        if c == le || src[c] == b'#' || src[c] == b'\t' {
            return Err(Unsupported("empty or nested item"));
        }
        if self.key(c, le)?.is_some() {
            let col = c - self.line_start;
            self.open(Coll::Map, col, c)?;
            return self.entry(col, c, le);
        }
        self.value(indent, c, le)
    }

    /// A `key: value` line of the mapping at column `indent`.
    fn entry(&mut self, indent: usize, at: usize, le: usize) -> Step<Option<usize>> {
        let Some((key, style, kend, colon)) = self.key(at, le)? else {
            // A scalar on its own line: a multi-line scalar or an error.
            return Err(Unsupported("scalar line"));
        };
        self.push(Event::Scalar(key, style, 0, None), at, kend);
        let src = self.src;
        let mut v = colon + 1;
        while v < le && src[v] == b' ' {
            v += 1;
        }
        if v == le || src[v] == b'#' {
            let top = self.stack.last_mut().expect("an entry is in a mapping");
            top.pending = Some(colon);
            return Ok(None);
        }
        self.value(indent, v, le)
    }

    /// The key at `at`, if the line is `key:` or `key: …`: its value,
    /// style, end and the offset of its `:`.
    #[allow(clippy::type_complexity)]
    fn key(&self, at: usize, le: usize) -> Step<Option<(Cow<'a, str>, ScalarStyle, usize, usize)>> {
        let src = self.src;
        if matches!(src[at], b'\'' | b'"') {
            let (value, style, end) = self.quoted(at, le)?;
            let mut q = end;
            while q < le && src[q] == b' ' {
                q += 1;
            }
            if q < le && src[q] == b':' && (q + 1 == le || src[q + 1] == b' ') {
                return Ok(Some((value, style, end, q)));
            }
            return if comment_or_blank(&src[end..le]) {
                Ok(None)
            } else {
                Err(Unsupported("text after a quoted key"))
            };
        }
        if special_start(src[at]) {
            return Err(Unsupported("special first character in key"));
        }
        let mut i = at;
        let colon = loop {
            let Some(j) = memchr::memchr3(b':', b'#', b'\t', &src[i..le]) else {
                return Ok(None);
            };
            i += j;
            match src[i] {
                b':' if i + 1 == le || src[i + 1] == b' ' => break i,
                b'\t' => return Err(Unsupported("tab in key")),
                b'#' if src[i - 1] == b' ' => return Ok(None),
                _ => {}
            }
            i += 1;
        };
        let mut kend = colon;
        while src[kend - 1] == b' ' {
            kend -= 1;
        }
        // libyaml limits implicit keys to 1024 characters.
        if kend - at > 1000 {
            return Err(Unsupported("long key"));
        }
        Ok(Some((
            Cow::Borrowed(&self.text[at..kend]),
            ScalarStyle::Plain,
            kend,
            colon,
        )))
    }

    /// A one-line quoted scalar starting at `at`: value, style and end.
    fn quoted(&self, at: usize, le: usize) -> Step<(Cow<'a, str>, ScalarStyle, usize)> {
        let src = self.src;
        let line = &src[at + 1..le];
        if src[at] == b'"' {
            let i = memchr::memchr2(b'"', b'\\', line)
                .ok_or(Unsupported("multi-line double-quoted"))?;
            if line[i] == b'\\' {
                return Err(Unsupported("escape"));
            }
            let end = at + 1 + i;
            return Ok((
                Cow::Borrowed(&self.text[at + 1..end]),
                ScalarStyle::DoubleQuoted,
                end + 1,
            ));
        }
        let mut i = 0;
        let mut doubled = false;
        let close = loop {
            let j = i + memchr::memchr(b'\'', &line[i..])
                .ok_or(Unsupported("multi-line single-quoted"))?;
            if line.get(j + 1) == Some(&b'\'') {
                doubled = true;
                i = j + 2;
            } else {
                break at + 1 + j;
            }
        };
        let raw = &self.text[at + 1..close];
        let value = if doubled {
            Cow::Owned(raw.replace("''", "'"))
        } else {
            Cow::Borrowed(raw)
        };
        Ok((value, ScalarStyle::SingleQuoted, close + 1))
    }

    /// A scalar value at `v` held by the collection at column `owner`.
    fn value(&mut self, owner: usize, v: usize, le: usize) -> Step<Option<usize>> {
        let src = self.src;
        let b = src[v];
        if b == b'|' || b == b'>' {
            return self.block(owner, v, le).map(Some);
        }
        // Empty flow collections; others are left to saphyr.
        if (b == b'[' || b == b'{')
            && v + 1 < le
            && src[v + 1] == if b == b'[' { b']' } else { b'}' }
        {
            if !comment_or_blank(&src[v + 2..le]) {
                return Err(Unsupported("text after an empty flow collection"));
            }
            let (start, end) = if b == b'[' {
                (Event::SequenceStart(0, None), Event::SequenceEnd)
            } else {
                (Event::MappingStart(0, None), Event::MappingEnd)
            };
            if self.stack.len() >= crate::limits::MAX_DEPTH {
                return Err(Unsupported("too deep"));
            }
            self.push(start, v, v + 1);
            // saphyr ends the collection's span after the blanks and the
            // comment that follow it on its line.
            let close = if v + 2 == le { v + 2 } else { le };
            self.push(end, v + 1, close);
            self.after_scalar = Some(owner);
            return Ok(None);
        }
        if b == b'\'' || b == b'"' {
            let (value, style, end) = self.quoted(v, le)?;
            if !comment_or_blank(&src[end..le]) {
                return Err(Unsupported("text after a quoted value"));
            }
            self.push(Event::Scalar(value, style, 0, None), v, end);
            self.after_scalar = Some(owner);
            return Ok(None);
        }
        if special_start(b) {
            // `-5` and `-x` are plain scalars; the rest is left to saphyr.
            if !(b == b'-' && v + 1 < le && !is_blank(src[v + 1])) {
                return Err(Unsupported("special first character in value"));
            }
        }
        // The value runs to a comment (` #`) or the end of the line.
        let mut i = v;
        let stop = loop {
            let Some(j) = memchr::memchr3(b':', b'#', b'\t', &src[i..le]) else {
                break le;
            };
            i += j;
            match src[i] {
                b'\t' => return Err(Unsupported("tab in value")),
                b':' if i + 1 == le || src[i + 1] == b' ' => {
                    return Err(Unsupported("`: ` in value"));
                }
                b'#' if src[i - 1] == b' ' => break i,
                _ => {}
            }
            i += 1;
        };
        let mut end = stop;
        while src[end - 1] == b' ' {
            end -= 1;
        }
        self.push(
            Event::Scalar(
                Cow::Borrowed(&self.text[v..end]),
                ScalarStyle::Plain,
                0,
                None,
            ),
            v,
            end,
        );
        self.after_scalar = Some(owner);
        Ok(None)
    }

    /// A literal (`|`) or folded (`>`) block scalar whose indicator is at
    /// `h`, held by the collection at column `owner`. Returns where the
    /// next unread line starts.
    fn block(&mut self, owner: usize, h: usize, le: usize) -> Step<usize> {
        let src = self.src;
        let folded = src[h] == b'>';
        let mut i = h + 1;
        let strip = i < le && src[i] == b'-';
        if strip {
            i += 1;
        }
        // Keep (`+`) and explicit indentation are left to saphyr.
        if i < le && (src[i] == b'+' || src[i].is_ascii_digit()) {
            return Err(Unsupported("block scalar indicator"));
        }
        if !comment_or_blank(&src[i..le]) {
            return Err(Unsupported("text after block scalar header"));
        }
        let mut value = String::new();
        let mut indent: Option<usize> = None;
        let mut blanks = 0usize;
        let mut last = None;
        let mut p = le + 1;
        while p < src.len() {
            let e = self.eol(p);
            let line = &src[p..e];
            let sp = line.iter().take_while(|b| **b == b' ').count();
            if sp == line.len() {
                // Leading blank lines, and blank lines with more spaces
                // than the content's indentation, are left to saphyr.
                match indent {
                    Some(m) if sp <= m => blanks += 1,
                    _ => return Err(Unsupported("leading or wide blank line in block scalar")),
                }
                p = e + 1;
                continue;
            }
            if line[sp] == b'\t' {
                return Err(Unsupported("tab in block scalar indentation"));
            }
            let m = match indent {
                Some(m) if sp < m => break,
                Some(m) => m,
                None if sp <= owner => break,
                None => *indent.insert(sp),
            };
            // Folding of more-indented lines is left to saphyr.
            if folded && sp > m {
                return Err(Unsupported("more-indented line in a folded scalar"));
            }
            if last.is_some() {
                if folded && blanks == 0 {
                    value.push(' ');
                }
                let breaks = if folded { blanks } else { blanks + 1 };
                for _ in 0..breaks {
                    value.push('\n');
                }
            }
            blanks = 0;
            value.push_str(&self.text[p + m..e]);
            last = Some(e);
            p = e + 1;
        }
        // An empty block scalar is left to saphyr, and so is one that runs
        // to the end of a file with no final line break (saphyr's line
        // breaks there differ from libyaml's; the caller evens them out).
        let last = last.ok_or(Unsupported("empty block scalar"))?;
        if p >= src.len() && src.last() != Some(&b'\n') {
            return Err(Unsupported(
                "block scalar at the end of a file with no final line break",
            ));
        }
        if !strip {
            value.push('\n');
        }
        self.push(
            Event::Scalar(
                Cow::Owned(value),
                if folded {
                    ScalarStyle::Folded
                } else {
                    ScalarStyle::Literal
                },
                0,
                None,
            ),
            h,
            last,
        );
        self.after_scalar = Some(owner);
        Ok(p.min(src.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse::fast_agrees;
    use super::*;

    fn reads(text: &str) {
        match fast_agrees(text) {
            Some(Ok(())) => {}
            Some(Err(e)) => panic!("{text:?}: {e}"),
            None => panic!("{text:?} left to saphyr: {:?}", unsupported(text)),
        }
    }

    fn leaves(text: &str, why: &str) {
        let got = unsupported(text).unwrap_or_default();
        assert!(got.contains(why), "{text:?}: {got:?}");
        // saphyr's reading is still the one used.
        assert!(fast_agrees(text).is_none());
    }

    #[test]
    fn reads_the_plain_subset_as_saphyr_does() {
        for t in [
            "a: 1\nb: 'x''y'\nc: \"z\"\n",
            "# top\n\na:\n  b: c   # note\n  d:\n  - 1\n  - k: v\n    l: w\ne:\n",
            "a: |\n  x\n\n  y\nb: |-\n  z\nc: >\n  p\n  q\n\n  r\n",
            "- a\n- b: c\n  d: e\n",
            "a: []\nb: {}  # none\nc: [] \n",
            "---\na: 1\n---\nb: 2\n",
            "a: -5\nb: x#y\nc: ünïcode # ç\n",
            // Found by fuzzing: content that looks like a property.
            "e: |\n  !!x |\n  y\nz: 2\n",
        ] {
            reads(t);
        }
    }

    #[test]
    fn leaves_everything_else_to_saphyr() {
        for (t, why) in [
            ("a: [1, 2]\n", "special first character in value"),
            ("a: &x 1\nb: *x\n", "special first character in value"),
            ("a: b\n  c\n", "multi-line scalar"),
            ("a: 'x\n  y'\n", "multi-line single-quoted"),
            ("a: \"\\n\"\n", "escape"),
            ("a: |+\n  x\n", "block scalar indicator"),
            ("a: |\n  x", "no final line break"),
            ("a:\tb\n", "tab"),
            ("a: 1\r\n", "control character, CR"),
            ("? a\n: b\n", "special first character in key"),
            ("# only\n", "comments only"),
            // Found by fuzzing: saphyr's spans move with tabs after `[]`.
            ("a: []\t\n", "text after an empty flow collection"),
        ] {
            leaves(t, why);
        }
    }
}
