//! Turns saphyr-parser's events into an arena of nodes with exact byte
//! regions. The parser's spans are character-indexed and, for quoted and
//! block scalars, not tight; the regions here are recomputed from the
//! source so that splicing replaces exactly the value and nothing else.

use std::ops::Range;

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, ScanError, Span};

use super::scalar::Style;
use crate::error::{Error, Result};

pub type NodeId = usize;

pub struct Scalar {
    pub value: String,
    pub style: Style,
    pub tag: Option<String>,
    /// The block-scalar indicator (`|-`, `>2`, …), for block styles.
    pub header: Option<Range<usize>>,
    /// The value's text: quotes included; for block scalars the content
    /// lines, from the start of the first through the line break of the last.
    pub body: Range<usize>,
    /// Indentation of block-scalar content.
    pub block_indent: usize,
    pub flow: bool,
}

pub struct MapEntry {
    pub key: Scalar,
    pub value: NodeId,
}

pub struct SeqItem {
    /// Where the item starts: its `-` in block sequences.
    pub start: usize,
    pub value: NodeId,
}

pub enum Kind {
    Map(Vec<MapEntry>),
    Seq(Vec<SeqItem>),
    Scalar(Scalar),
    Alias(NodeId),
}

pub struct Node {
    pub kind: Kind,
    pub flow: bool,
    pub start: usize,
    /// End of the node's last content (for block scalars, after the last
    /// content line break).
    pub end: usize,
}

pub struct Doc {
    pub root: Option<NodeId>,
    /// Where the document's text starts (after a `---` marker, if any).
    pub start: usize,
}

pub struct Parsed {
    pub nodes: Vec<Node>,
    pub docs: Vec<Doc>,
    /// Where each line starts, for columns in O(log n): scanning back to
    /// the line's start is quadratic on long (flow) lines.
    pub lines: Lines,
}

/// The offsets at which the lines of a text start.
pub struct Lines(Vec<usize>);

impl Lines {
    pub fn new(src: &[u8]) -> Lines {
        let mut v = vec![0];
        v.extend(memchr::memchr_iter(b'\n', src).map(|i| i + 1));
        Lines(v)
    }

    /// Start of the line holding `at` (as [`line_start`]).
    pub fn start(&self, at: usize) -> usize {
        let i = self.0.partition_point(|s| *s <= at);
        self.0[i.saturating_sub(1)]
    }
}

/// Character index to byte offset, for non-ASCII sources.
struct Offsets<'a> {
    text: &'a str,
    table: Option<Vec<u32>>,
}

impl Offsets<'_> {
    fn new(text: &str) -> Offsets<'_> {
        let table = (!text.is_ascii()).then(|| {
            let mut t: Vec<u32> = text.char_indices().map(|(b, _)| b as u32).collect();
            t.push(text.len() as u32);
            t
        });
        Offsets { text, table }
    }

    /// For spans that are byte offsets already.
    fn bytes(text: &str) -> Offsets<'_> {
        Offsets { text, table: None }
    }

    fn byte(&self, m: Marker) -> usize {
        match &self.table {
            None => m.index().min(self.text.len()),
            Some(t) => t.get(m.index()).map_or(self.text.len(), |b| *b as usize),
        }
    }
}

enum Frame {
    Doc(Doc),
    Map {
        id: NodeId,
        key: Option<Scalar>,
        /// Keys seen so far: yaml.v3 (so sops) rejects duplicates.
        seen: std::collections::HashSet<String>,
    },
    Seq {
        id: NodeId,
    },
}

pub fn parse(text: &str) -> Result<Parsed> {
    let fast = super::fast::events(text).map(|e| e.map_err(|_| Stop::Fast));
    match build(text, fast, Offsets::bytes(text))? {
        Some(parsed) => Ok(parsed),
        None => parse_slow(text),
    }
}

/// Why the events stopped: a syntax error, or the fast scanner leaving the
/// text to saphyr.
enum Stop {
    Scan(ScanError),
    Fast,
}

/// [`parse`] with saphyr-parser alone.
fn parse_slow(text: &str) -> Result<Parsed> {
    let events = Parser::new_from_str(text).map(|e| e.map_err(Stop::Scan));
    build(text, events, Offsets::new(text)).map(|p| p.expect("saphyr reads every text"))
}

fn build<'a>(
    text: &'a str,
    events: impl Iterator<Item = std::result::Result<(Event<'a>, Span), Stop>>,
    off: Offsets<'a>,
) -> Result<Option<Parsed>> {
    let src = text.as_bytes();
    let lines = Lines::new(src);
    // About one node per line: sized once, not grown by copying.
    let mut nodes: Vec<Node> = Vec::with_capacity(lines.0.len() + 8);
    let mut docs = Vec::new();
    let mut anchors: Vec<Option<NodeId>> = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut last_end = 0usize;
    // Open mappings and sequences: limited, so that the trees built from
    // this stay shallow enough for recursive walks.
    let mut depth = 0usize;

    for ev in events {
        let ev = match ev {
            Ok(ev) => Ok(ev),
            Err(Stop::Fast) => return Ok(None),
            Err(Stop::Scan(e)) => Err(e),
        };
        let (ev, span) = ev.map_err(|e| {
            let m = e.marker();
            // The scanner quotes the character it stopped at (`unexpected
            // character: `x'`); it may belong to a secret, so leave it out.
            let info = e.info();
            let info = info.split_once(": `").map_or(info, |(head, _)| head);
            Error::parse("YAML", m.line(), m.col() + 1, info.to_string())
        })?;
        let start = off.byte(span.start);
        let completed: Option<NodeId> = match ev {
            Event::StreamStart | Event::StreamEnd | Event::Nothing => None,
            Event::DocumentStart(explicit) => {
                if !explicit && !docs.is_empty() {
                    // libyaml (so sops) cannot read a second document
                    // without its `---` marker.
                    return Err(Error::parse(
                        "YAML",
                        span.start.line(),
                        span.start.col() + 1,
                        "this document has no `---` start marker; add one (sops cannot read it otherwise)",
                    ));
                }
                let s = if explicit {
                    line_end(src, start)
                } else {
                    start
                };
                stack.push(Frame::Doc(Doc {
                    root: None,
                    start: s,
                }));
                None
            }
            Event::DocumentEnd => {
                if let Some(Frame::Doc(d)) = stack.pop() {
                    docs.push(d);
                }
                None
            }
            Event::MappingStart(anchor, _) | Event::SequenceStart(anchor, _) => {
                let is_map = matches!(ev, Event::MappingStart(..));
                depth = deeper(depth, span)?;
                let p = skip_properties(src, start);
                let flow = src.get(p) == Some(&if is_map { b'{' } else { b'[' });
                let id = nodes.len();
                nodes.push(Node {
                    kind: if is_map {
                        Kind::Map(Vec::new())
                    } else {
                        Kind::Seq(Vec::new())
                    },
                    flow,
                    start: p,
                    end: p,
                });
                set_anchor(&mut anchors, anchor, id);
                stack.push(if is_map {
                    Frame::Map {
                        id,
                        key: None,
                        seen: Default::default(),
                    }
                } else {
                    Frame::Seq { id }
                });
                None
            }
            Event::MappingEnd | Event::SequenceEnd => {
                depth = depth.saturating_sub(1);
                let id = match stack.pop() {
                    Some(Frame::Map { id, .. }) | Some(Frame::Seq { id }) => id,
                    _ => return Err(Error::Internal("YAML parser: unbalanced collection".into())),
                };
                let n = &mut nodes[id];
                n.end = if n.flow {
                    off.byte(span.end)
                } else {
                    n.end.max(n.start)
                };
                Some(id)
            }
            Event::Alias(anchor) => {
                let target = anchors.get(anchor).copied().flatten().ok_or_else(|| {
                    Error::parse(
                        "YAML",
                        span.start.line(),
                        span.start.col() + 1,
                        "unknown alias",
                    )
                })?;
                let open = stack.iter().any(
                    |f| matches!(f, Frame::Map { id, .. } | Frame::Seq { id } if *id == target),
                );
                if open {
                    return Err(Error::parse(
                        "YAML",
                        span.start.line(),
                        span.start.col() + 1,
                        "this alias refers to a node that contains it (a recursive structure), which sops cannot encrypt",
                    ));
                }
                let end = off.byte(span.end);
                let id = nodes.len();
                nodes.push(Node {
                    kind: Kind::Alias(target),
                    flow: false,
                    start,
                    end,
                });
                Some(id)
            }
            Event::Scalar(value, style, anchor, tag) => {
                let in_flow = in_flow(&stack, &nodes);
                let tag = tag.map(|t| {
                    if t.is_yaml_core_schema() {
                        t.suffix.clone()
                    } else {
                        format!("{}{}", t.handle, t.suffix)
                    }
                });
                // Only block scalars need it (scanning a long flow line
                // for every item would be quadratic).
                let owner = if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) {
                    owner(&stack, &lines)
                } else {
                    Owner::Top
                };
                let sc = scalar(
                    src,
                    &off,
                    span,
                    value.into_owned(),
                    style,
                    tag,
                    in_flow,
                    last_end,
                    owner,
                )?;
                let id = nodes.len();
                let (s, e) = (
                    sc.body
                        .start
                        .min(sc.header.as_ref().map_or(usize::MAX, |h| h.start)),
                    sc.body.end,
                );
                nodes.push(Node {
                    kind: Kind::Scalar(sc),
                    flow: in_flow,
                    start: s,
                    end: e,
                });
                set_anchor(&mut anchors, anchor, id);
                Some(id)
            }
        };
        let Some(id) = completed else { continue };
        last_end = last_end.max(nodes[id].end);
        attach(&mut stack, &mut nodes, id, text)?;
    }
    Ok(Some(Parsed { nodes, docs, lines }))
}

/// Whether the fast scanner reads `text` as saphyr-parser does: `None`
/// when it leaves `text` to saphyr, else the first difference between the
/// two readings (errors included), if any. For tests and fuzzing.
pub fn fast_agrees(text: &str) -> Option<std::result::Result<(), String>> {
    let events = super::fast::events(text).map(|e| e.map_err(|_| Stop::Fast));
    let fast = build(text, events, Offsets::bytes(text)).transpose()?;
    let slow = parse_slow(text);
    // Both may refuse a text with different messages: the fast scanner's
    // events stop at the first refusal, saphyr's may stop a little earlier.
    Some(match (fast, slow) {
        (Ok(a), Ok(b)) => same(&a, &b),
        (Err(_), Err(_)) => Ok(()),
        (Err(a), Ok(_)) => Err(format!("fast path refuses what saphyr reads: {a}")),
        (Ok(_), Err(b)) => Err(format!("fast path reads what saphyr refuses: {b}")),
    })
}

fn same(a: &Parsed, b: &Parsed) -> std::result::Result<(), String> {
    let docs = |p: &Parsed| p.docs.iter().map(|d| (d.root, d.start)).collect::<Vec<_>>();
    if docs(a) != docs(b) {
        return Err(format!("documents {:?} / {:?}", docs(a), docs(b)));
    }
    if a.nodes.len() != b.nodes.len() {
        return Err(format!("{} nodes / {}", a.nodes.len(), b.nodes.len()));
    }
    for (i, (x, y)) in a.nodes.iter().zip(&b.nodes).enumerate() {
        let shape = |n: &Node| (n.flow, n.start, n.end);
        if shape(x) != shape(y) {
            return Err(format!(
                "node {i}: (flow, start, end) {:?} / {:?}",
                shape(x),
                shape(y)
            ));
        }
        let ok = match (&x.kind, &y.kind) {
            (Kind::Map(p), Kind::Map(q)) => {
                p.len() == q.len()
                    && p.iter()
                        .zip(q)
                        .all(|(e, f)| e.value == f.value && same_scalar(&e.key, &f.key))
            }
            (Kind::Seq(p), Kind::Seq(q)) => {
                p.len() == q.len()
                    && p.iter()
                        .zip(q)
                        .all(|(e, f)| (e.start, e.value) == (f.start, f.value))
            }
            (Kind::Scalar(p), Kind::Scalar(q)) => same_scalar(p, q),
            (Kind::Alias(p), Kind::Alias(q)) => p == q,
            _ => false,
        };
        if !ok {
            let detail = match (&x.kind, &y.kind) {
                (Kind::Scalar(p), Kind::Scalar(q)) => format!(
                    ": {:?} / {:?}",
                    (&p.value, p.style, &p.header, &p.body, p.block_indent),
                    (&q.value, q.style, &q.header, &q.body, q.block_indent)
                ),
                _ => String::new(),
            };
            return Err(format!("node {i} (at byte {}) differs{detail}", x.start));
        }
    }
    Ok(())
}

fn same_scalar(a: &Scalar, b: &Scalar) -> bool {
    a.value == b.value
        && a.style == b.style
        && a.tag == b.tag
        && a.header == b.header
        && a.body == b.body
        && a.block_indent == b.block_indent
        && a.flow == b.flow
}

/// One collection deeper than `depth`, within the nesting limit.
fn deeper(depth: usize, span: Span) -> Result<usize> {
    if depth >= crate::limits::MAX_DEPTH {
        return Err(Error::parse(
            "YAML",
            span.start.line(),
            span.start.col() + 1,
            crate::limits::too_deep(),
        ));
    }
    Ok(depth + 1)
}

fn set_anchor(anchors: &mut Vec<Option<NodeId>>, anchor: usize, id: NodeId) {
    if anchor > 0 {
        if anchors.len() <= anchor {
            anchors.resize(anchor + 1, None);
        }
        anchors[anchor] = Some(id);
    }
}

/// What a block scalar's indentation indicator counts from: its key's
/// column in a mapping, its `-`'s in a sequence, nothing at the top.
#[derive(Clone, Copy)]
enum Owner {
    Key(usize),
    Item,
    Top,
}

fn owner(stack: &[Frame], lines: &Lines) -> Owner {
    match stack.last() {
        Some(Frame::Map { key: Some(k), .. }) => {
            Owner::Key(k.body.start - lines.start(k.body.start))
        }
        Some(Frame::Seq { .. }) => Owner::Item,
        _ => Owner::Top,
    }
}

fn in_flow(stack: &[Frame], nodes: &[Node]) -> bool {
    match stack.last() {
        Some(Frame::Map { id, .. }) | Some(Frame::Seq { id }) => nodes[*id].flow,
        _ => false,
    }
}

/// Hands a finished node to its parent.
fn attach(stack: &mut [Frame], nodes: &mut Vec<Node>, id: NodeId, text: &str) -> Result<()> {
    let end = nodes[id].end;
    match stack.last_mut() {
        Some(Frame::Doc(d)) => d.root = Some(id),
        Some(Frame::Seq { id: parent }) => {
            let parent = *parent;
            let start = item_start(text.as_bytes(), nodes[id].start, nodes[parent].flow);
            if let Kind::Seq(items) = &mut nodes[parent].kind
                && items.is_empty()
                && !nodes[parent].flow
            {
                nodes[parent].start = start;
            }
            let p = &mut nodes[parent];
            if let Kind::Seq(items) = &mut p.kind {
                items.push(SeqItem { start, value: id });
            }
            p.end = p.end.max(end);
        }
        Some(Frame::Map {
            id: parent,
            key,
            seen,
        }) => {
            let parent = *parent;
            match key.take() {
                None => {
                    // A collection key (`{x}: v`, `? [a]`) is not the last
                    // node pushed (its children are): test before popping.
                    if !matches!(nodes[id].kind, Kind::Scalar(_)) {
                        let (line, col) = line_col(text, nodes[id].start);
                        return Err(Error::parse(
                            "YAML",
                            line,
                            col,
                            "this mapping key is not a string (sops refuses it too: \"invalid map key\"); write the key as a plain string",
                        ));
                    }
                    let node = nodes.pop().expect("just pushed");
                    let Kind::Scalar(k) = node.kind else {
                        unreachable!("checked above")
                    };
                    if nodes[parent].start > node.start
                        || matches!(&nodes[parent].kind, Kind::Map(e) if e.is_empty())
                            && !nodes[parent].flow
                    {
                        nodes[parent].start = node.start;
                    }
                    if k.value != "<<" && duplicate(&nodes[parent].kind, seen, &k.value) {
                        let (line, col) = line_col(text, k.body.start);
                        return Err(Error::parse(
                            "YAML",
                            line,
                            col,
                            format!("duplicate key {:?} in this mapping", k.value),
                        ));
                    }
                    *key = Some(k);
                }
                Some(k) => {
                    let p = &mut nodes[parent];
                    if let Kind::Map(entries) = &mut p.kind {
                        entries.push(MapEntry { key: k, value: id });
                    }
                    p.end = p.end.max(end);
                }
            }
        }
        None => {}
    }
    Ok(())
}

/// Whether a mapping (`kind`) already has `key`. Small mappings are
/// scanned; from [`SCAN_KEYS`] entries on, `seen` holds every key.
fn duplicate(kind: &Kind, seen: &mut std::collections::HashSet<String>, key: &str) -> bool {
    let Kind::Map(entries) = kind else {
        return false;
    };
    if entries.len() < SCAN_KEYS {
        return entries.iter().any(|e| e.key.value == key);
    }
    if seen.is_empty() {
        seen.extend(entries.iter().map(|e| e.key.value.clone()));
    }
    !seen.insert(key.to_string())
}

/// Up to this many entries, a new key is compared with each (cheaper than
/// hashing and copying every key of the many small mappings).
const SCAN_KEYS: usize = 16;

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..at.min(text.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let col = before.iter().rev().take_while(|b| **b != b'\n').count() + 1;
    (line, col)
}

/// Start of the line holding `at`.
pub fn line_start(src: &[u8], at: usize) -> usize {
    memchr::memrchr(b'\n', &src[..at.min(src.len())]).map_or(0, |p| p + 1)
}

/// Offset just past the line break of the line holding `at` (or the end).
pub fn line_end(src: &[u8], at: usize) -> usize {
    memchr::memchr(b'\n', &src[at.min(src.len())..]).map_or(src.len(), |p| at + p + 1)
}

/// Skips node properties (`!tag`, `&anchor`) and the blanks after them.
fn skip_properties(src: &[u8], mut p: usize) -> usize {
    while p < src.len() && (src[p] == b'!' || src[p] == b'&') {
        while p < src.len() && !src[p].is_ascii_whitespace() {
            p += 1;
        }
        while p < src.len() && src[p].is_ascii_whitespace() {
            p += 1;
        }
    }
    p
}

/// The `-` of a block sequence item whose content starts at `content`.
fn item_start(src: &[u8], content: usize, flow: bool) -> usize {
    if flow {
        return content;
    }
    let mut p = content;
    while p > 0
        && (src[p - 1] == b' ' || src[p - 1] == b'\t' || src[p - 1] == b'\n' || src[p - 1] == b'\r')
    {
        p -= 1;
    }
    if p > 0 && src[p - 1] == b'-' {
        p - 1
    } else {
        content
    }
}

#[allow(clippy::too_many_arguments)]
fn scalar(
    src: &[u8],
    off: &Offsets,
    span: Span,
    value: String,
    style: ScalarStyle,
    tag: Option<String>,
    flow: bool,
    prev_end: usize,
    owner: Owner,
) -> Result<Scalar> {
    let start = off.byte(span.start);
    let end = off.byte(span.end);
    let perr = |at: usize, msg: &str| {
        let text = std::str::from_utf8(src).unwrap_or("");
        let (l, c) = line_col(text, at);
        Error::parse("YAML", l, c, msg.to_string())
    };
    let style = match style {
        ScalarStyle::Plain => Style::Plain,
        ScalarStyle::SingleQuoted => Style::Single,
        ScalarStyle::DoubleQuoted => Style::Double,
        ScalarStyle::Literal => Style::Literal,
        ScalarStyle::Folded => Style::Folded,
    };
    let mut sc = Scalar {
        value,
        style,
        tag,
        header: None,
        body: start..end,
        block_indent: 0,
        flow,
    };
    match style {
        // An empty value (`key:` or an empty document) has no text; the
        // parser's span for it may reach into the next token.
        Style::Plain if sc.value.is_empty() => sc.body = start..start,
        Style::Plain => {
            let p = skip_properties(src, start).min(end.max(start));
            let mut e = end.max(p);
            while e > p && src[e - 1].is_ascii_whitespace() {
                e -= 1;
            }
            sc.body = p..e;
        }
        Style::Single | Style::Double => {
            let p = skip_properties(src, start);
            let q = if style == Style::Single { b'\'' } else { b'"' };
            if src.get(p) != Some(&q) {
                return Err(perr(p, "could not locate quoted scalar"));
            }
            let mut i = p + 1;
            loop {
                // Only the quote, and in double quotes the backslash, matter.
                let next = if q == b'"' {
                    memchr::memchr2(q, b'\\', src.get(i..).unwrap_or_default())
                } else {
                    memchr::memchr(q, src.get(i..).unwrap_or_default())
                };
                let Some(j) = next else {
                    return Err(perr(p, "unterminated quoted scalar"));
                };
                i += j;
                // A backslash escape, or a doubled single quote.
                if src[i] == b'\\' || (q == b'\'' && src.get(i + 1) == Some(&b'\'')) {
                    i += 2;
                } else {
                    break;
                }
            }
            sc.body = p..i + 1;
        }
        Style::Literal | Style::Folded => {
            // The indicator is the last token before the content; search
            // forward from the previous node's end to stay out of comments.
            // With properties (`&anchor |`, `!tag >`) the span starts at
            // them and the indicator follows. (Only where no indicator
            // precedes the span: content that starts with `!` or `&` is
            // not a property.)
            let from = prev_end.min(start);
            let after_props = skip_properties(src, start);
            let h = find_block_header(src, from, start)
                .or_else(|| {
                    (after_props > start && matches!(src.get(after_props), Some(b'|' | b'>')))
                        .then_some(after_props)
                })
                // For an empty block scalar the span may start at the
                // indicator itself.
                .or_else(|| matches!(src.get(start), Some(b'|' | b'>')).then_some(start))
                .ok_or_else(|| perr(start, "could not locate block scalar header"))?;
            let mut he = h + 1;
            while he < src.len() && (src[he] == b'-' || src[he] == b'+' || src[he].is_ascii_digit())
            {
                he += 1;
            }
            let body_start = line_end(src, he);
            // The content is every line up to the first non-blank one that
            // is indented less than the content (YAML's rule; the parser's
            // span may reach into the next token). Its indentation is the
            // header's indicator past the owner's, or the first non-blank
            // line's. A value with no text has no content lines: anything
            // after it (a comment, the next key) is not part of it.
            let explicit = src[h + 1..he]
                .iter()
                .find(|b| b.is_ascii_digit())
                .map(|d| usize::from(d - b'0'));
            let has_text = sc.value.chars().any(|c| !c.is_whitespace());
            let mut last = body_start;
            let mut p = body_start;
            // The `-` of an item is on the header's line, before it.
            let owner_col = match owner {
                Owner::Key(c) => Some(c),
                Owner::Item => src[line_start(src, h)..h].iter().rposition(|b| *b == b'-'),
                Owner::Top => None,
            };
            let mut indent = explicit.map(|n| owner_col.map_or(n, |c| c + n));
            let mut first = None;
            while p < src.len() && has_text {
                let le = line_end(src, p);
                let line = &src[p..le];
                let ind = line.iter().take_while(|b| **b == b' ').count();
                if line.iter().any(|b| !b.is_ascii_whitespace()) {
                    let need = *indent.get_or_insert(ind);
                    if ind < need {
                        break;
                    }
                    first.get_or_insert(ind);
                    last = le;
                }
                p = le;
            }
            let indent = first.or(indent);
            let keep = src[h + 1..he].contains(&b'+');
            if keep {
                let extra = sc.value.len() - sc.value.trim_end_matches('\n').len();
                let mut e = last;
                for _ in 1..extra {
                    e = line_end(src, e);
                }
                last = e;
            }
            // Content that runs to the end of a file with no final line
            // break has no final line break to keep (saphyr adds one;
            // libyaml, so sops, does not).
            if last == src.len() && src.last() != Some(&b'\n') && sc.value.ends_with('\n') {
                sc.value.pop();
            }
            sc.header = Some(h..he);
            sc.body = body_start..last.max(body_start);
            sc.block_indent = indent.unwrap_or(0);
        }
    }
    Ok(sc)
}

/// Finds a block scalar indicator (`|` or `>`) between `from` and `to`,
/// skipping comments.
fn find_block_header(src: &[u8], from: usize, to: usize) -> Option<usize> {
    let mut found = None;
    let mut i = from;
    while i < to {
        match src[i] {
            b'#' if i == 0 || src[i - 1].is_ascii_whitespace() => {
                while i < to && src[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'|' | b'>' => found = Some(i),
            _ => {}
        }
        i += 1;
    }
    found
}

/// Refuses YAML nested deeper than [`crate::limits::MAX_DEPTH`], in one
/// linear pass over the parser's events, for readers whose own parser is
/// slow (quadratic) or recursive on deep input. Syntax errors are left to
/// that reader: only the depth is checked here.
pub fn check_depth(text: &str) -> Result<()> {
    let mut depth = 0usize;
    for ev in Parser::new_from_str(text) {
        let (ev, span) = match ev {
            Ok(ev) => ev,
            // The parser's own limit on flow nesting.
            Err(e) if e.info().contains("recursion limit") => {
                let m = e.marker();
                return Err(Error::parse(
                    "YAML",
                    m.line(),
                    m.col() + 1,
                    "flow collections (`[...]`, `{...}`) are nested too deep",
                ));
            }
            Err(_) => return Ok(()),
        };
        match ev {
            Event::MappingStart(..) | Event::SequenceStart(..) => depth = deeper(depth, span)?,
            Event::MappingEnd | Event::SequenceEnd => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(n: usize, dup_at: Option<usize>) -> String {
        (0..n)
            .map(|i| match dup_at {
                Some(d) if i == d => "k0: again\n".to_string(),
                _ => format!("k{i}: v\n"),
            })
            .collect()
    }

    #[test]
    fn duplicate_keys_are_found_in_small_and_large_mappings() {
        for n in [3, SCAN_KEYS, SCAN_KEYS + 1, 3 * SCAN_KEYS] {
            assert!(parse(&keys(n, None)).is_ok(), "{n} distinct keys");
            for d in [1, n - 1] {
                let err = parse(&keys(n, Some(d))).err().map(|e| e.to_string());
                let err = err.unwrap_or_default();
                assert!(
                    err.contains("duplicate key \"k0\"")
                        && err.contains(&format!("line {}", d + 1)),
                    "{n} keys, duplicate on line {}: {err}",
                    d + 1
                );
            }
        }
        // Merge keys may repeat.
        assert!(parse("a: &a {x: 1}\nb:\n  <<: *a\n  <<: *a\n").is_ok());
    }
}
