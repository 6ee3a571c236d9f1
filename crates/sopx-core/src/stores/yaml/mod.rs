//! Lossless YAML store.
//!
//! Encryption replaces each value's source text with its token, keeping the
//! value's quoting style (`'ENC[…]'`, `"ENC[…]"`, a `|-` block) so that
//! decryption can write the value back the way it was. Comments are
//! replaced in place by `#ENC[…]`. The `sops` block goes at the end of each
//! document. Nothing else in the file is touched.

mod emit;
mod fast;
pub use emit::{canonical, sops_block, to_yaml, to_yaml_indent};
pub use fast::unsupported as fast_unsupported;
mod parse;
mod pieces;
pub use parse::{check_depth, fast_agrees};
pub(crate) use pieces::pieces as cut_pieces;
pub mod scalar;

use std::ops::Range;

use serde_json::Value;

use self::parse::{Kind as NKind, NodeId, Parsed, line_col, line_end, line_start};
use self::scalar::{Resolved, Style};
use super::{Document, PathElem};
use crate::error::{Error, Result};
use crate::tree::{Entry, Item, Node, Tree};
use crate::value::{Kind, Plain};

/// Where a leaf sits in the source.
#[derive(Debug, Clone)]
enum Loc {
    Value {
        header: Option<Range<usize>>,
        body: Range<usize>,
        style: Style,
        flow: bool,
        block_indent: usize,
        /// Column of the owning key or `-`, for new block scalars.
        parent_col: usize,
    },
    Comment(Range<usize>),
    /// A copy made by expanding an alias: written out inside the alias's
    /// replacement.
    Virtual,
}

/// Per document: the `sops` entry's region, and where a new one goes.
#[derive(Debug, Clone)]
struct DocInfo {
    sops: Option<Range<usize>>,
    insert_at: usize,
    root: Option<NodeId>,
    /// The top level is a flow mapping (`{...}`).
    flow_root: bool,
}

/// Per document, for placing comments: its text range, its entries' slots
/// and its top-level container.
struct DocRange {
    from: usize,
    to: usize,
    slots: Range<usize>,
    top: usize,
}

/// An alias that sops would expand: its region and the copied subtree.
#[derive(Debug, Clone)]
struct AliasCopy {
    region: Range<usize>,
    node: Node,
}

pub struct YamlDoc {
    /// A file of comments only, read as one empty document (see `parse`).
    synthetic: bool,
    text: String,
    parsed: Parsed,
    tree: Tree,
    locs: Vec<Loc>,
    docs: Vec<DocInfo>,
    aliases: Vec<AliasCopy>,
    metadata: Option<Value>,
}

/// A plaintext source is wiped, with every scalar copied from it. An
/// encrypted one holds only what is committed to git anyway.
impl Drop for YamlDoc {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        if self.metadata.is_some() {
            return;
        }
        self.text.zeroize();
        for n in &mut self.parsed.nodes {
            match &mut n.kind {
                NKind::Scalar(s) => s.value.zeroize(),
                NKind::Map(es) => es.iter_mut().for_each(|e| e.key.value.zeroize()),
                _ => {}
            }
        }
    }
}

/// A placed entry, for finding where comments belong.
struct Slot {
    start: usize,
    col: usize,
    container: usize,
    index: usize,
}

/// A container (mapping or sequence) as comments see it.
struct Container {
    col: usize,
    parent: Option<(usize, usize)>,
    /// (position before which to insert, comment leaf)
    comments: Vec<(usize, usize)>,
}

impl YamlDoc {
    pub fn parse(src: &[u8]) -> Result<YamlDoc> {
        let text = std::str::from_utf8(src)
            .map_err(|e| {
                let at = e.valid_up_to();
                let (l, c) = line_col(std::str::from_utf8(&src[..at]).unwrap_or(""), at);
                Error::parse("YAML", l, c, "invalid UTF-8")
            })?
            .to_string();
        let (text, mut parsed) = parse_lenient(text)?;
        let synthetic = parsed.docs.is_empty() && text.bytes().any(|b| b == b'#');
        if synthetic {
            // A file of comments only is one empty document to sops, whose
            // comments it encrypts.
            parsed.docs.push(parse::Doc {
                root: None,
                start: 0,
            });
        }
        let mut b = Builder {
            text: &text,
            parsed: &parsed,
            // About one leaf and one entry per node: sized once.
            leaves: Vec::with_capacity(parsed.nodes.len()),
            locs: Vec::with_capacity(parsed.nodes.len()),
            slots: Vec::with_capacity(parsed.nodes.len()),
            containers: Vec::new(),
            aliases: Vec::new(),
            budget: Default::default(),
            depth: 0,
            alias_depth: 0,
        };
        let markers = doc_markers(text.as_bytes());
        let mut docs = Vec::new();
        let mut trees = Vec::new();
        let mut metadata = None;
        let mut doc_ranges = Vec::new();
        for (di, d) in parsed.docs.iter().enumerate() {
            // An empty document has no extent (its null scalar's span may
            // point into the next one).
            let content_end = match d.root.map(|r| &parsed.nodes[r]) {
                Some(n) if n.end > n.start => n.end,
                _ => d.start,
            }
            .max(d.start);
            // The block goes before the next marker, and never past the
            // `---` that starts the next document.
            let next_start = parsed.docs.get(di + 1).map_or(text.len(), |n| {
                line_start(text.as_bytes(), n.start.saturating_sub(1))
            });
            let insert_at = markers
                .iter()
                .copied()
                .find(|m| *m >= content_end)
                .unwrap_or(text.len())
                .min(next_start.max(content_end));
            let mut info = DocInfo {
                sops: None,
                insert_at,
                root: d.root,
                flow_root: false,
            };
            let slot_from = b.slots.len();
            // The document's top-level container: comments of a document
            // with no entries attach to it.
            let top = b.containers.len();
            let empty = |b: &mut Builder| {
                b.containers.push(Container {
                    col: 0,
                    parent: None,
                    comments: Vec::new(),
                });
                Vec::new()
            };
            let entries = match d.root {
                None => empty(&mut b),
                Some(r) => match &parsed.nodes[r].kind {
                    NKind::Scalar(s) if matches!(scalar::resolve(&s.value, s.style, s.tag.as_deref()), Resolved::Null) => empty(&mut b),
                    NKind::Map(entries) => {
                        // JSON written as YAML: readable, but the metadata
                        // cannot join a flow mapping (see emit_encrypted).
                        info.flow_root = parsed.nodes[r].flow;
                        for e in entries {
                            if e.key.value == "sops" {
                                let from = line_start(text.as_bytes(), e.key.body.start);
                                let to = subtree_end(&text, &parsed, e.value);
                                info.sops = Some(from..to);
                                if metadata.is_none() {
                                    metadata = Some(b.json(e.value)?);
                                }
                            }
                        }
                        match b.map(r, None, false)? {
                            Node::Map(m) => m,
                            _ => unreachable!(),
                        }
                    }
                    NKind::Seq(_) => return Err(Error::Unsupported("YAML documents that are sequences are not supported (sops requires a mapping at the top level)".into())),
                    _ => return Err(Error::Unsupported("YAML documents that are plain values are not supported (sops requires a mapping at the top level)".into())),
                },
            };
            // A document's comments run from the previous document's end.
            let from = doc_ranges.last().map_or(0, |r: &DocRange| r.to);
            doc_ranges.push(DocRange {
                from,
                to: insert_at.max(from),
                slots: slot_from..b.slots.len(),
                top,
            });
            docs.push(info);
            trees.push(entries);
        }
        b.place_comments(&doc_ranges, &docs);
        // Insert comments into the trees.
        let Builder {
            leaves,
            locs,
            containers,
            aliases,
            ..
        } = b;
        let mut tree = Tree {
            docs: Vec::new(),
            leaves,
        };
        let mut counter = 0usize;
        for entries in trees {
            tree.docs
                .push(insert_comments_map(entries, &containers, &mut counter));
        }
        Ok(YamlDoc {
            synthetic,
            text,
            parsed,
            tree,
            locs,
            docs,
            aliases,
            metadata,
        })
    }

    fn src(&self) -> &[u8] {
        self.text.as_bytes()
    }

    /// The column of `at`.
    fn col(&self, at: usize) -> usize {
        let at = at.min(self.src().len());
        at - self.parsed.lines.start(at)
    }

    fn render_encrypted(&self, id: usize, token: &str, out: &mut Vec<(Range<usize>, String)>) {
        match &self.locs[id] {
            Loc::Comment(r) => out.push((r.clone(), token.to_string())),
            Loc::Value {
                header,
                body,
                style,
                flow,
                block_indent,
                ..
            } => match style {
                // A quoted token marks a date written without a time, so
                // that decryption can write it back the same way.
                Style::Plain
                    if !flow && self.tree.leaves[id].kind == Kind::Time && body.len() == 10 =>
                {
                    out.push((body.clone(), format!("'{token}'")))
                }
                Style::Plain if !flow => out.push((body.clone(), token.to_string())),
                Style::Plain | Style::Single => out.push((body.clone(), format!("'{token}'"))),
                Style::Double => out.push((body.clone(), format!("\"{token}\""))),
                Style::Literal | Style::Folded => {
                    let h = if *style == Style::Literal { "|-" } else { ">-" };
                    out.push((
                        header.clone().expect("block scalars have a header"),
                        h.to_string(),
                    ));
                    out.push((
                        body.clone(),
                        format!("{}{token}\n", " ".repeat(*block_indent)),
                    ));
                }
            },
            Loc::Virtual => {}
        }
    }

    fn render_plain(&self, id: usize, p: &Plain, out: &mut Vec<(Range<usize>, String)>) {
        let (header, body, style, flow, block_indent, parent_col) = match &self.locs[id] {
            Loc::Comment(r) => {
                out.push((r.clone(), String::from_utf8_lossy(&p.text).into_owned()));
                return;
            }
            Loc::Virtual => return,
            Loc::Value {
                header,
                body,
                style,
                flow,
                block_indent,
                parent_col,
            } => (header, body, *style, *flow, *block_indent, *parent_col),
        };
        let put = |out: &mut Vec<(Range<usize>, String)>, text: String| match header {
            Some(h) => {
                out.push((h.clone(), text));
                out.push((body.clone(), String::new()));
            }
            None => out.push((body.clone(), text)),
        };
        if p.kind == Kind::Comment {
            // A list item holding a comment (as sops writes them): the item
            // becomes a comment line again.
            let src = self.src();
            let ls = line_start(src, body.start);
            let dash = src[ls..body.start]
                .iter()
                .rposition(|b| *b == b'-')
                .map_or(body.start, |d| ls + d);
            out.push((
                dash..body.end,
                format!("#{}", String::from_utf8_lossy(&p.text)),
            ));
            return;
        }
        if p.kind != Kind::Str && p.kind != Kind::Bytes {
            let text = scalar::typed_text(p);
            match text.strip_suffix("T00:00:00Z") {
                Some(date) if p.kind == Kind::Time && style == Style::Single && !flow => {
                    put(out, date.to_string())
                }
                _ => put(out, text),
            }
            return;
        }
        let s = String::from_utf8_lossy(&p.text);
        match style {
            Style::Literal | Style::Folded => {
                if let Some((h, lines)) = scalar::block(&s, style == Style::Folded, block_indent)
                    .or_else(|| scalar::block(&s, false, block_indent))
                {
                    out.push((header.clone().expect("block header"), h));
                    out.push((body.clone(), lines));
                } else {
                    put(out, scalar::double_quoted(&s));
                }
            }
            Style::Plain if scalar::plain_ok(&s, flow) => put(out, s.into_owned()),
            Style::Plain => {
                let rest_blank = self.src()[body.end..line_end(self.src(), body.end)]
                    .iter()
                    .all(|b| b.is_ascii_whitespace());
                let block = (s.contains('\n') && !flow && rest_blank)
                    .then(|| scalar::block(&s, false, parent_col + 2))
                    .flatten();
                match block {
                    Some((h, lines)) => {
                        // The original line break follows the body.
                        let lines = lines.strip_suffix('\n').unwrap_or(&lines);
                        put(out, format!("{h}\n{lines}"));
                    }
                    None => put(out, scalar::double_quoted(&s)),
                }
            }
            // In flow collections plain values are written `'ENC[…]'`.
            Style::Single if flow && scalar::plain_ok(&s, true) => put(out, s.into_owned()),
            Style::Single if scalar::single_safe(&s) => put(out, scalar::single_quoted(&s)),
            Style::Single | Style::Double => put(out, scalar::double_quoted(&s)),
        }
    }

    /// sops writes `a: []  # note` as a list whose one item is the comment.
    /// Those items become comment lines again, so such a list is written
    /// `[]` after its key, or it would read back as null.
    fn empty_comment_lists(
        &self,
        plains: &[(usize, Plain)],
        out: &mut Vec<(Range<usize>, String)>,
    ) {
        let starts: std::collections::HashSet<usize> = plains
            .iter()
            .filter(|(_, p)| p.kind == Kind::Comment)
            .filter_map(|(id, _)| match &self.locs[*id] {
                Loc::Value { body, .. } => Some(body.start),
                _ => None,
            })
            .collect();
        if starts.is_empty() {
            return;
        }
        let src = self.src();
        for n in &self.parsed.nodes {
            let NKind::Seq(items) = &n.kind else { continue };
            let all_comments = !n.flow
                && !items.is_empty()
                && items.iter().all(|it| {
                    matches!(&self.parsed.nodes[it.value].kind,
                        NKind::Scalar(sc) if starts.contains(&sc.body.start))
                });
            if !all_comments {
                continue;
            }
            let mut p = n.start;
            while p > 0 && src[p - 1].is_ascii_whitespace() {
                p -= 1;
            }
            if p > 0 && src[p - 1] == b':' {
                out.push((p..p, " []".into()));
            }
        }
    }

    /// Renders alias copies for output, with each leaf's new text.
    fn render_aliases(
        &self,
        texts: &std::collections::HashMap<usize, String>,
        out: &mut Vec<(Range<usize>, String)>,
    ) {
        for a in &self.aliases {
            let mut s = String::new();
            flow_render(&a.node, &self.tree, texts, &mut s);
            out.push((a.region.clone(), s));
        }
    }
}

/// Writes a node as flow YAML (JSON-like), for expanded aliases.
fn flow_render(
    node: &Node,
    tree: &Tree,
    texts: &std::collections::HashMap<usize, String>,
    out: &mut String,
) {
    match node {
        Node::Null => out.push_str("null"),
        Node::Leaf(id) => match texts.get(id) {
            Some(t) => out.push_str(t),
            None => {
                let p = &tree.leaves[*id];
                if p.kind == Kind::Str {
                    out.push_str(&scalar::double_quoted(p.as_str()));
                } else {
                    out.push_str(&scalar::typed_text(p));
                }
            }
        },
        Node::Map(entries) => {
            out.push('{');
            let mut first = true;
            for e in entries {
                if let Entry::Pair(k, v) = e {
                    if !first {
                        out.push_str(", ");
                    }
                    first = false;
                    out.push_str(&scalar::double_quoted(k));
                    out.push_str(": ");
                    flow_render(v, tree, texts, out);
                }
            }
            out.push('}');
        }
        Node::List(items) => {
            out.push('[');
            let mut first = true;
            for it in items {
                if let Item::Value(v) = it {
                    if !first {
                        out.push_str(", ");
                    }
                    first = false;
                    flow_render(v, tree, texts, out);
                }
            }
            out.push(']');
        }
    }
}

struct Builder<'a> {
    text: &'a str,
    parsed: &'a Parsed,
    leaves: Vec<Plain>,
    locs: Vec<Loc>,
    slots: Vec<Slot>,
    containers: Vec<Container>,
    aliases: Vec<AliasCopy>,
    /// Nodes built, and those built inside aliases (see `limits`).
    budget: crate::limits::AliasBudget,
    /// Containers open around the node being built, aliases expanded.
    depth: usize,
    /// Aliases being expanded around the node being built.
    alias_depth: usize,
}

impl Builder<'_> {
    /// Counts node `id` against the depth and alias limits.
    fn enter(&mut self, id: NodeId) -> Result<()> {
        self.depth += 1;
        let msg = if self.depth > crate::limits::MAX_DEPTH {
            crate::limits::too_deep()
        } else if !self.budget.count(self.alias_depth > 0) {
            crate::limits::EXCESSIVE_ALIASING.to_string()
        } else {
            return Ok(());
        };
        let (line, col) = line_col(self.text, self.parsed.nodes[id].start);
        Err(Error::parse("YAML", line, col, msg))
    }

    /// A node as JSON, for reading the `sops` block; aliases count against
    /// the same limits as in the document.
    fn json(&mut self, id: NodeId) -> Result<Value> {
        self.enter(id)?;
        let v = self.json_inner(id);
        self.depth -= 1;
        v
    }

    fn json_inner(&mut self, id: NodeId) -> Result<Value> {
        let parsed = self.parsed;
        Ok(match &parsed.nodes[id].kind {
            NKind::Map(es) => Value::Object(
                es.iter()
                    .map(|e| Ok((e.key.value.clone(), self.json(e.value)?)))
                    .collect::<Result<_>>()?,
            ),
            NKind::Seq(items) => Value::Array(
                items
                    .iter()
                    .map(|i| self.json(i.value))
                    .collect::<Result<_>>()?,
            ),
            NKind::Alias(t) => {
                self.alias_depth += 1;
                let v = self.json(*t);
                self.alias_depth -= 1;
                v?
            }
            NKind::Scalar(s) => scalar_json(s),
        })
    }

    fn col(&self, at: usize) -> usize {
        let at = at.min(self.text.len());
        at - self.parsed.lines.start(at)
    }

    fn leaf(&mut self, p: Plain, loc: Loc) -> usize {
        self.leaves.push(p);
        self.locs.push(loc);
        self.leaves.len() - 1
    }

    /// Builds the tree node for `id`. `virt` is set inside alias copies.
    fn node(
        &mut self,
        id: NodeId,
        parent_col: usize,
        parent: Option<(usize, usize)>,
        virt: bool,
    ) -> Result<Node> {
        self.enter(id)?;
        let r = self.node_inner(id, parent_col, parent, virt);
        self.depth -= 1;
        r
    }

    fn node_inner(
        &mut self,
        id: NodeId,
        parent_col: usize,
        parent: Option<(usize, usize)>,
        virt: bool,
    ) -> Result<Node> {
        let parsed = self.parsed;
        let n = &parsed.nodes[id];
        match &n.kind {
            NKind::Scalar(s) => Ok(match scalar::resolve(&s.value, s.style, s.tag.as_deref()) {
                Resolved::Null => Node::Null,
                Resolved::Value(p) => {
                    let loc = if virt {
                        Loc::Virtual
                    } else {
                        Loc::Value {
                            header: s.header.clone(),
                            body: s.body.clone(),
                            style: s.style,
                            flow: s.flow,
                            // Blocks holding only blank lines show no
                            // indentation: nest under the owning key.
                            block_indent: if s.block_indent > parent_col || s.header.is_none() {
                                s.block_indent
                            } else {
                                parent_col + 2
                            },
                            parent_col,
                        }
                    };
                    Node::Leaf(self.leaf(p, loc))
                }
            }),
            NKind::Map(_) => self.map(id, parent, virt),
            NKind::Seq(items) => {
                let c = self.containers.len();
                let col = items.first().map_or(0, |i| self.col(i.start));
                self.containers.push(Container {
                    col,
                    parent,
                    comments: Vec::new(),
                });
                let mut out = Vec::with_capacity(items.len());
                for (i, it) in items.iter().enumerate() {
                    if !virt {
                        self.slots.push(Slot {
                            start: it.start,
                            col: self.col(it.start),
                            container: c,
                            index: i,
                        });
                    }
                    let pc = self.col(it.start);
                    out.push(Item::Value(self.node(it.value, pc, Some((c, i)), virt)?));
                }
                Ok(Node::List(out))
            }
            NKind::Alias(target) => {
                // sops expands aliases: the copy's values are encrypted with
                // the alias's path, so the alias is written out in full.
                self.alias_depth += 1;
                let copy = self.node(*target, parent_col, None, true);
                self.alias_depth -= 1;
                let copy = copy?;
                if !virt {
                    self.aliases.push(AliasCopy {
                        region: n.start..n.end,
                        node: copy.clone(),
                    });
                }
                Ok(copy)
            }
        }
    }

    fn map(&mut self, id: NodeId, parent: Option<(usize, usize)>, virt: bool) -> Result<Node> {
        let parsed = self.parsed;
        let NKind::Map(entries) = &parsed.nodes[id].kind else {
            unreachable!()
        };
        let c = self.containers.len();
        let col = entries.first().map_or(0, |e| self.col(e.key.body.start));
        self.containers.push(Container {
            col,
            parent,
            comments: Vec::new(),
        });
        let mut out = Vec::with_capacity(entries.len());
        for e in entries {
            if e.key.value == "sops" && parent.is_none() && !virt && self.is_doc_root(id) {
                continue;
            }
            let kcol = self.col(e.key.body.start);
            if !virt {
                self.slots.push(Slot {
                    start: e.key.body.start,
                    col: kcol,
                    container: c,
                    index: out.len(),
                });
            }
            let v = self.node(e.value, kcol, Some((c, out.len())), virt)?;
            out.push(Entry::Pair(e.key.value.clone(), v));
        }
        Ok(Node::Map(out))
    }

    fn is_doc_root(&self, id: NodeId) -> bool {
        self.parsed.docs.iter().any(|d| d.root == Some(id))
    }

    /// Finds every comment and decides which container and position it
    /// belongs to, the way yaml.v3 attaches comments closely enough that the
    /// additional data matches sops's in ordinary files.
    fn place_comments(&mut self, doc_ranges: &[DocRange], docs: &[DocInfo]) {
        let src = self.text.as_bytes();
        let mut opaque: Vec<Range<usize>> = Vec::new();
        for n in &self.parsed.nodes {
            if let NKind::Scalar(s) = &n.kind
                && s.style != Style::Plain
            {
                let st = s.header.as_ref().map_or(s.body.start, |h| h.start);
                // Keep a block header's own comment visible.
                if let Some(h) = &s.header {
                    opaque.push(st..h.end);
                    opaque.push(s.body.clone());
                } else {
                    opaque.push(st..s.body.end);
                }
            }
            if let NKind::Map(es) = &n.kind {
                for e in es {
                    if e.key.style != Style::Plain {
                        opaque.push(e.key.body.clone());
                    }
                }
            }
        }
        for d in docs {
            if let Some(r) = &d.sops {
                opaque.push(r.clone());
            }
        }
        opaque.sort_by_key(|r| r.start);
        let mut oi = 0;
        let mut i = 0;
        let mut comments = Vec::new();
        // From one `#` to the next (memchr), skipping those inside quoted,
        // block and metadata text.
        while let Some(off) = memchr::memchr(b'#', &src[i.min(src.len())..]) {
            let h = i + off;
            while oi < opaque.len() && opaque[oi].end <= h {
                oi += 1;
            }
            if oi < opaque.len() && opaque[oi].start <= h {
                i = opaque[oi].end;
                continue;
            }
            if h == 0 || matches!(src[h - 1], b' ' | b'\t' | b'\n' | b'\r') {
                let le = line_end(src, h);
                let mut e = le;
                while e > h + 1 && src[e - 1].is_ascii_whitespace() {
                    e -= 1;
                }
                comments.push((h, e));
                i = le;
                continue;
            }
            i = h + 1;
        }
        for (hash, end) in comments {
            let Some(dr) = doc_ranges
                .iter()
                .find(|d| hash >= d.from && hash < d.to)
                .or_else(|| doc_ranges.iter().rev().find(|d| hash >= d.from))
            else {
                continue;
            };
            let slots = &self.slots[dr.slots.clone()];
            let value = String::from_utf8_lossy(&src[hash + 1..end]).into_owned();
            if slots.is_empty() {
                // A document of comments only: sops keeps them at its top.
                let leaf = self.leaf(
                    Plain::new(Kind::Comment, value),
                    Loc::Comment(hash + 1..end),
                );
                let c = &mut self.containers[dr.top].comments;
                c.push((0, leaf));
                continue;
            }
            let ls = line_start(src, hash);
            let inline = src[ls..hash].iter().any(|b| !b.is_ascii_whitespace());
            let c = hash - ls;
            let k = slots.partition_point(|s| s.start < hash);
            let prev = k.checked_sub(1).map(|j| &slots[j]);
            let next = slots.get(k);
            let target = if inline && prev.is_some_and(|p| p.start >= ls) {
                let p = prev.unwrap();
                (p.container, p.index)
            } else if let Some(n) = next.filter(|n| n.col >= c || prev.is_none()) {
                (n.container, n.index)
            } else if let Some(p) = prev {
                // Climb to the container whose entries are not indented
                // further than the comment, and go after the entry there.
                let (mut cont, mut idx) = (p.container, p.index);
                while self.containers[cont].col > c {
                    match self.containers[cont].parent {
                        Some((pc, pi)) => {
                            cont = pc;
                            idx = pi;
                        }
                        None => break,
                    }
                }
                (cont, idx + 1)
            } else {
                continue;
            };
            let leaf = self.leaf(
                Plain::new(Kind::Comment, value),
                Loc::Comment(hash + 1..end),
            );
            self.containers[target.0].comments.push((target.1, leaf));
        }
    }
}

/// Puts the comments of container number `*counter` between its items
/// (containers are numbered in the order `Builder` created them, which is
/// the order this pre-order walk visits them).
fn interleave<T>(
    items: Vec<T>,
    containers: &[Container],
    counter: &mut usize,
    comment: fn(usize) -> T,
    mut recurse: impl FnMut(T, &mut usize) -> T,
) -> Vec<T> {
    let mut comments = containers
        .get(*counter)
        .map(|c| c.comments.clone())
        .unwrap_or_default();
    *counter += 1;
    comments.sort_by_key(|(pos, _)| *pos);
    let mut out = Vec::with_capacity(items.len() + comments.len());
    let mut pending = comments.into_iter().peekable();
    for (i, it) in items.into_iter().enumerate() {
        while let Some((_, id)) = pending.next_if(|(pos, _)| *pos <= i) {
            out.push(comment(id));
        }
        out.push(recurse(it, counter));
    }
    out.extend(pending.map(|(_, id)| comment(id)));
    out
}

fn insert_comments_map(
    entries: Vec<Entry>,
    containers: &[Container],
    counter: &mut usize,
) -> Vec<Entry> {
    interleave(
        entries,
        containers,
        counter,
        Entry::Comment,
        |e, counter| match e {
            Entry::Pair(k, v) => Entry::Pair(k, insert_comments_node(v, containers, counter)),
            c => c,
        },
    )
}

fn insert_comments_node(n: Node, containers: &[Container], counter: &mut usize) -> Node {
    match n {
        Node::Map(m) => Node::Map(insert_comments_map(m, containers, counter)),
        Node::List(items) => Node::List(interleave(
            items,
            containers,
            counter,
            Item::Comment,
            |it, counter| match it {
                Item::Value(v) => Item::Value(insert_comments_node(v, containers, counter)),
                c => c,
            },
        )),
        other => other,
    }
}

/// Parses `text`. Where saphyr is stricter than libyaml (so sops), the
/// layout is adjusted without changing the data and the parse tried again:
/// a flow collection's closing bracket at its key's indentation is indented
/// one more column, a quoted scalar's continuation lines are indented to
/// its quote, and a comment less indented than a block scalar's explicit
/// indentation (which ends the scalar for libyaml) moves to column 0. The
/// layout hint restores the original spelling on decryption.
fn parse_lenient(mut text: String) -> Result<(String, Parsed)> {
    let mut tries = 0;
    loop {
        match parse::parse(&text) {
            Ok(p) => return Ok((text, p)),
            Err(Error::Parse {
                line, column, msg, ..
            }) if tries < 64 && msg.contains("wrongly indented line in block scalar") => {
                let at: usize = text
                    .split_inclusive('\n')
                    .take(line.saturating_sub(1))
                    .map(str::len)
                    .sum();
                let blanks = text[at..].len() - text[at..].trim_start_matches(' ').len();
                if blanks == 0 || !text[at + blanks..].starts_with('#') {
                    return Err(Error::Parse {
                        what: "YAML",
                        line,
                        column,
                        msg,
                    });
                }
                text.replace_range(at..at + blanks, "");
                tries += 1;
            }
            Err(Error::Parse {
                line, column, msg, ..
            }) if tries < 64 && msg.contains("indentation in quoted scalar") => {
                match indent_quoted(&text, line, column) {
                    Some(t) => text = t,
                    None => {
                        return Err(Error::Parse {
                            what: "YAML",
                            line,
                            column,
                            msg,
                        });
                    }
                }
                tries += 1;
            }
            Err(Error::Parse {
                line, column, msg, ..
            }) if tries < 64 && msg.contains("indentation") => {
                let at: usize = text
                    .split_inclusive('\n')
                    .take(line.saturating_sub(1))
                    .map(str::len)
                    .sum();
                if !text[at..].trim_start_matches(' ').starts_with([']', '}']) {
                    return Err(Error::Parse {
                        what: "YAML",
                        line,
                        column,
                        msg,
                    });
                }
                text.insert(at, ' ');
                tries += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// A quoted scalar at `line`:`column` whose continuation lines are not
/// indented past its key (libyaml accepts that, saphyr does not): those
/// lines indented to the quote's column. Line folding drops a
/// continuation line's leading blanks, so the value does not change.
fn indent_quoted(text: &str, line: usize, column: usize) -> Option<String> {
    let ls: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let at = ls + text[ls..].char_indices().nth(column.saturating_sub(1))?.0;
    let src = text.as_bytes();
    let q = *src.get(at)?;
    if q != b'"' && q != b'\'' {
        return None;
    }
    // Indented to the quote's own column: always past its owner's.
    let base = at - ls;
    let mut i = at + 1;
    let close = loop {
        match src.get(i)? {
            b'\\' if q == b'"' => i += 2,
            c if *c == q && q == b'\'' && src.get(i + 1) == Some(&b'\'') => i += 2,
            c if *c == q => break i,
            _ => i += 1,
        }
    };
    let mut out = String::with_capacity(text.len() + 16);
    let mut last = 0;
    let mut p = at;
    while let Some(nl) = text[p..close].find('\n') {
        let start = p + nl + 1;
        let ind = src[start..].iter().take_while(|b| **b == b' ').count();
        if ind < base {
            out.push_str(&text[last..start]);
            out.push_str(&" ".repeat(base - ind));
            last = start;
        }
        p = start;
    }
    if last == 0 {
        return None;
    }
    out.push_str(&text[last..]);
    Some(out)
}

/// Offsets of lines that start a document (`---`) or end one (`...`).
fn doc_markers(src: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut p = 0;
    while p < src.len() {
        let rest = &src[p..];
        if (rest.starts_with(b"---") || rest.starts_with(b"..."))
            && rest.get(3).is_none_or(|c| c.is_ascii_whitespace())
        {
            out.push(p);
        }
        p = line_end(src, p);
    }
    out
}

/// End of a node's text, through the line break of its last line.
fn subtree_end(text: &str, parsed: &Parsed, id: NodeId) -> usize {
    let end = parsed.nodes[id].end;
    let src = text.as_bytes();
    if end > 0 && src.get(end - 1) == Some(&b'\n') {
        end
    } else {
        line_end(src, end)
    }
}

/// A scalar of the `sops` block as JSON.
fn scalar_json(s: &parse::Scalar) -> Value {
    match scalar::resolve(&s.value, s.style, s.tag.as_deref()) {
        Resolved::Null => Value::Null,
        Resolved::Value(p) => match p.kind {
            Kind::Bool => Value::Bool(crate::value::parse_go_bool(p.as_str()).unwrap_or(false)),
            Kind::Int => p
                .as_str()
                .trim_start_matches('+')
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::from(s.value.clone())),
            // Keep the source text of strings and dates (lastmodified).
            _ => Value::from(s.value.clone()),
        },
    }
}

impl Document for YamlDoc {
    fn tree(&self) -> &Tree {
        &self.tree
    }

    fn metadata(&self) -> Option<&Value> {
        self.metadata.as_ref()
    }

    fn emit_encrypted(&self, tokens: &[(usize, String)], meta: &Value) -> Result<Vec<u8>> {
        if self.docs.is_empty() {
            return Err(Error::Unsupported(
                "the YAML file holds no document (it is empty or only comments); add at least one key".into(),
            ));
        }
        if self.docs.iter().any(|d| d.flow_root) {
            return Err(Error::Unsupported(
                "a flow-style (`{...}`) top-level mapping cannot hold the sops metadata".into(),
            ));
        }
        let mut splices = Vec::with_capacity(tokens.len() + self.docs.len());
        let mut virt = std::collections::HashMap::new();
        for (id, tok) in tokens {
            if matches!(self.locs[*id], Loc::Virtual) {
                virt.insert(*id, format!("\"{tok}\""));
            } else {
                self.render_encrypted(*id, tok, &mut splices);
            }
        }
        self.render_aliases(&virt, &mut splices);
        let block = emit::sops_block(meta);
        for d in &self.docs {
            if d.root.is_none() && self.docs.len() > 1 {
                continue;
            }
            // The block joins the top-level mapping, at its keys' column.
            let col = match d.root.map(|r| &self.parsed.nodes[r].kind) {
                Some(NKind::Map(es)) if !es.is_empty() => self.col(es[0].key.body.start),
                _ => 0,
            };
            let block = if col == 0 {
                block.clone()
            } else {
                let pad = " ".repeat(col);
                block
                    .lines()
                    .map(|l| {
                        if l.is_empty() {
                            "\n".to_string()
                        } else {
                            format!("{pad}{l}\n")
                        }
                    })
                    .collect()
            };
            match &d.sops {
                Some(r) => splices.push((r.clone(), block.clone())),
                None => {
                    let at = d.insert_at;
                    let text = if at > 0 && self.src()[at - 1] != b'\n' {
                        // No final line break: the encrypted file has none
                        // either, which tells decryption to leave it out.
                        format!("\n{}", block.trim_end_matches('\n'))
                    } else {
                        block.clone()
                    };
                    splices.push((at..at, text));
                }
            }
        }
        splice(&self.text, splices)
    }

    fn emit_plain(&self, plains: &[(usize, Plain)]) -> Result<Vec<u8>> {
        let mut splices = Vec::with_capacity(plains.len() + self.docs.len());
        let mut virt = std::collections::HashMap::new();
        for (id, p) in plains {
            if matches!(self.locs[*id], Loc::Virtual) {
                let t = if p.kind == Kind::Str {
                    scalar::double_quoted(p.as_str())
                } else {
                    scalar::typed_text(p)
                };
                virt.insert(*id, t);
            } else {
                self.render_plain(*id, p, &mut splices);
            }
        }
        if !virt.is_empty() {
            self.render_aliases(&virt, &mut splices);
        }
        self.empty_comment_lists(plains, &mut splices);
        let src = self.src();
        for d in &self.docs {
            if let Some(r) = &d.sops {
                let mut r = r.clone();
                let no_final_break = r.end == src.len() && src.last() != Some(&b'\n');
                if no_final_break && r.start > 0 && src[r.start - 1] == b'\n' {
                    r.start -= 1;
                }
                splices.push((r, String::new()));
            }
        }
        splice(&self.text, splices)
    }

    fn set(&self, path: &[PathElem], value: &Value) -> Result<Vec<u8>> {
        emit::set(self, path, value)
    }

    fn leaf_line(&self, leaf: usize) -> Option<usize> {
        let at = match self.locs.get(leaf)? {
            Loc::Value { body, .. } => body.start,
            Loc::Comment(r) => r.start,
            Loc::Virtual => return None,
        };
        Some(line_col(&self.text, at).0)
    }

    fn encryptable(&self) -> Result<()> {
        if self.synthetic {
            return Err(Error::Unsupported(
                "the YAML file holds only comments and no `---` (sops cannot read it either); add a key or a `---` line".into(),
            ));
        }
        Ok(())
    }

    fn unset(&self, path: &[PathElem]) -> Result<Vec<u8>> {
        emit::unset(self, path)
    }
}

/// Applies the replacements in one pass; overlapping ones are a bug and
/// an error, never silently dropped.
fn splice(text: &str, splices: Vec<(Range<usize>, String)>) -> Result<Vec<u8>> {
    let mut e = super::edits::Edits::default();
    for (r, s) in splices {
        e.put(r.start, r.end, |b| b.extend_from_slice(s.as_bytes()));
    }
    e.apply("YAML", text.as_bytes())
}
