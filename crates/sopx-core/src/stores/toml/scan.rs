//! The scanner: the tree of a TOML source `toml_edit` has validated, with
//! the byte span of every value and comment.
//!
//! From `toml_edit` (`collect`): each value's decoded form and span, and
//! each header's span and table path. The scanner never lexes a value or a
//! header: it jumps to the span's end, and takes a value's quote style from
//! its first bytes. A key is the text up to the `=` before the next value;
//! `toml_edit::Key::parse` decodes it.
//!
//! The scanner itself walks the lines and the insides of arrays and inline
//! tables, to find the comments (`toml_edit` keeps them only as raw decor
//! text, blanks and line breaks included) and to place each one, each key
//! and each value in the tree in document order; it also finds the line
//! spans that edits need: key/value lines, sections, the `[sops]` ranges
//! and where a new line goes.

use std::collections::BTreeMap;

use super::*;

/// A decoded scalar, as `toml_edit` read it.
pub(super) enum Scalar {
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

/// What `toml_edit` read for the value starting at some byte: where the
/// value ends and, for a string, number, boolean or date-time, its decoded
/// value.
pub(super) struct Span {
    pub(super) end: usize,
    pub(super) scalar: Option<Scalar>,
}

/// What the scanner takes from `toml_edit`, by byte position.
#[derive(Default)]
pub(super) struct Spans {
    /// Every value, by its first byte.
    pub(super) vals: BTreeMap<usize, Span>,
    /// Every header (`[a.b]`, `[[a.b]]`), by its `[`: where it ends, and the
    /// path of its table.
    pub(super) headers: HashMap<usize, (usize, Vec<String>)>,
}

pub(super) fn collect(root: &te::Table) -> Spans {
    let mut out = Spans::default();
    collect_table(root, &mut Vec::new(), &mut out);
    out
}

fn collect_table(t: &te::Table, path: &mut Vec<String>, out: &mut Spans) {
    for (key, item) in t.iter() {
        path.push(key.to_owned());
        match item {
            te::Item::None => {}
            te::Item::Value(v) => collect_value(v, &mut out.vals),
            te::Item::Table(t) => collect_header(t, path, out),
            te::Item::ArrayOfTables(a) => {
                for t in a.iter() {
                    collect_header(t, path, out);
                }
            }
        }
        path.pop();
    }
}

fn collect_header(t: &te::Table, path: &mut Vec<String>, out: &mut Spans) {
    // Tables with no header (`a` of `[a.b]`, or of `a.b = 1`) have their
    // key's span.
    if let (false, false, Some(span)) = (t.is_implicit(), t.is_dotted(), t.span()) {
        out.headers.insert(span.start, (span.end, path.clone()));
    }
    collect_table(t, path, out);
}

fn collect_value(v: &te::Value, out: &mut BTreeMap<usize, Span>) {
    let Some(span) = v.span() else { return };
    let scalar = match v {
        te::Value::String(x) => Some(Scalar::Str(x.value().clone())),
        te::Value::Integer(x) => Some(Scalar::Int(*x.value())),
        te::Value::Float(x) => Some(Scalar::Float(*x.value())),
        te::Value::Boolean(x) => Some(Scalar::Bool(*x.value())),
        te::Value::Datetime(x) => Some(Scalar::Datetime(*x.value())),
        te::Value::Array(a) => {
            for x in a.iter() {
                collect_value(x, out);
            }
            None
        }
        te::Value::InlineTable(t) => {
            for (_, x) in t.iter() {
                collect_value(x, out);
            }
            // A table made by a dotted key (`y` of `{ y.z = 1 }`) is not a
            // value: its span is the key's.
            if t.is_dotted() {
                return;
            }
            None
        }
    };
    out.insert(
        span.start,
        Span {
            end: span.end,
            scalar,
        },
    );
}

pub(super) fn value_to_json(v: &te::Value) -> Value {
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

pub(super) fn table_to_json(t: &te::Table) -> Value {
    Value::Object(
        t.iter()
            .map(|(k, v)| (k.to_string(), item_to_json(v)))
            .collect(),
    )
}

/// The `sops` table as the JSON value the metadata reader takes.
pub(super) fn item_to_json(item: &te::Item) -> Value {
    match item {
        te::Item::None => Value::Null,
        te::Item::Value(v) => value_to_json(v),
        te::Item::Table(t) => table_to_json(t),
        te::Item::ArrayOfTables(a) => Value::Array(a.iter().map(table_to_json).collect()),
    }
}

pub(super) struct Scanner<'a> {
    pub(super) s: &'a [u8],
    pub(super) i: usize,
    pub(super) vals: BTreeMap<usize, Span>,
    pub(super) headers: HashMap<usize, (usize, Vec<String>)>,
    pub(super) tables: Vec<BTable>,
    pub(super) arrays: Vec<BArray>,
    pub(super) leaves: Vec<Plain>,
    pub(super) slots: Vec<Slot>,
    /// The table of the current section.
    pub(super) cur: usize,
    /// Comment lines not yet attached (they go with what follows).
    pub(super) pending: Vec<usize>,
    pub(super) sops_ranges: Vec<(usize, usize)>,
    /// The run of `sops` sections being read: (start, end of last line).
    pub(super) sops_run: Option<(usize, usize)>,
    pub(super) first_header: Option<usize>,
}

impl<'a> Scanner<'a> {
    pub(super) fn new(s: &'a [u8], spans: Spans) -> Scanner<'a> {
        Scanner {
            s,
            i: 0,
            vals: spans.vals,
            headers: spans.headers,
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

    pub(super) fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    pub(super) fn at(&self, lit: &[u8]) -> bool {
        self.s[self.i..].starts_with(lit)
    }

    #[cold]
    pub(super) fn internal(&self, what: &str) -> Error {
        Error::parse_at(
            WHAT,
            self.s,
            self.i,
            format!("sopx could not follow this TOML ({what}); please report it"),
        )
    }

    pub(super) fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    pub(super) fn run(&mut self) -> Result<()> {
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

    pub(super) fn close_sops_run(&mut self) {
        if let Some(r) = self.sops_run.take() {
            self.sops_ranges.push(r);
        }
    }

    pub(super) fn flush_pending(&mut self, t: usize) {
        let cs = std::mem::take(&mut self.pending);
        self.tables[t]
            .entries
            .extend(cs.into_iter().map(BEntry::Comment));
    }

    /// A comment at `#`; stops before the line break.
    pub(super) fn comment(&mut self, rec: bool) -> Option<usize> {
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
    pub(super) fn line_end(&mut self, rec: bool) -> Option<usize> {
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
    pub(super) fn gap(&mut self) -> Vec<usize> {
        let mut out = Vec::new();
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.i += 1,
                Some(b'#') => {
                    if let Some(c) = self.comment(true) {
                        out.push(c);
                    }
                }
                _ => return out,
            }
        }
    }

    pub(super) fn new_table(
        &mut self,
        origin: Origin,
        parent: Option<(usize, String)>,
    ) -> Result<usize> {
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

    pub(super) fn insert(
        &mut self,
        t: usize,
        key: String,
        node: BNode,
        kv: Option<(usize, usize)>,
    ) {
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
    pub(super) fn descend(&mut self, t: usize, key: &str, origin: Origin) -> Result<usize> {
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

    pub(super) fn header(&mut self, line_start: usize) -> Result<()> {
        let aot = self.s.get(self.i + 1) == Some(&b'[');
        let (end, keys) = self
            .headers
            .remove(&self.i)
            .ok_or_else(|| self.internal("header not found"))?;
        self.i = end;
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

    pub(super) fn keyval_line(&mut self, line_start: usize) -> Result<()> {
        let keys = self.key_eq()?;
        let in_sops = self.sops_run.is_some()
            || (self.cur == ROOT && keys.first().map(String::as_str) == Some(SOPS_KEY));
        if in_sops {
            self.skip_value()?;
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
        let node = self.value()?;
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

    /// A (dotted) key, `=` and the blanks around it, up to the value
    /// `toml_edit` placed next; the keys decoded by `toml_edit`.
    pub(super) fn key_eq(&mut self) -> Result<Vec<String>> {
        let start = self.i;
        let value = self
            .vals
            .range(start..)
            .next()
            .map(|(&at, _)| at)
            .ok_or_else(|| self.internal("value not found"))?;
        let keys = std::str::from_utf8(&self.s[start..value])
            .ok()
            .and_then(|t| t.trim_end_matches([' ', '\t']).strip_suffix('='))
            .and_then(|t| te::Key::parse(t).ok())
            .ok_or_else(|| self.internal("key not read"))?;
        self.i = value;
        Ok(keys.iter().map(|k| k.get().to_owned()).collect())
    }

    /// Moves past a value without recording it, to where `toml_edit`
    /// says it ends.
    pub(super) fn skip_value(&mut self) -> Result<()> {
        self.i = self
            .vals
            .get(&self.i)
            .map(|v| v.end)
            .ok_or_else(|| self.internal("value not found"))?;
        Ok(())
    }

    /// A value.
    pub(super) fn value(&mut self) -> Result<BNode> {
        match self.peek() {
            Some(b'[') => self.array(),
            Some(b'{') => self.inline_table(),
            Some(_) => self.leaf(),
            None => Err(self.internal("expected a value")),
        }
    }

    /// A string, number, boolean or date-time: its span and decoded value
    /// are `toml_edit`'s.
    pub(super) fn leaf(&mut self) -> Result<BNode> {
        let start = self.i;
        let Some(Span {
            end,
            scalar: Some(sc),
        }) = self.vals.remove(&start)
        else {
            return Err(self.internal("value not found"));
        };
        let style = style_of(&self.s[start..end]);
        self.i = end;
        let raw = std::str::from_utf8(&self.s[start..end]).unwrap_or_default();
        let plain = plain_of(sc, raw);
        self.leaves.push(plain);
        self.slots.push(Slot::Value { start, end, style });
        Ok(BNode::Leaf(self.leaves.len() - 1))
    }

    pub(super) fn array(&mut self) -> Result<BNode> {
        let start = self.i;
        self.i += 1;
        self.arrays.push(BArray {
            aot: false,
            items: Vec::new(),
            span: None,
        });
        let a = self.arrays.len() - 1;
        loop {
            let cs = self.gap();
            self.arrays[a]
                .items
                .extend(cs.into_iter().map(BItem::Comment));
            match self.peek() {
                Some(b']') => {
                    self.i += 1;
                    break;
                }
                None => return Err(self.internal("unterminated array")),
                _ => {}
            }
            let vstart = self.i;
            let node = self.value()?;
            self.arrays[a]
                .items
                .push(BItem::Value(node, Some((vstart, self.i))));
            let cs = self.gap();
            self.arrays[a]
                .items
                .extend(cs.into_iter().map(BItem::Comment));
            if self.peek() == Some(b',') {
                self.i += 1;
            }
        }
        self.arrays[a].span = Some((start, self.i));
        Ok(BNode::Array(a))
    }

    pub(super) fn inline_table(&mut self) -> Result<BNode> {
        let start = self.i;
        self.i += 1;
        let t0 = self.new_table(Origin::Inline, None)?;
        loop {
            let cs = self.gap();
            self.tables[t0]
                .entries
                .extend(cs.into_iter().map(BEntry::Comment));
            match self.peek() {
                Some(b'}') => {
                    self.i += 1;
                    break;
                }
                None => return Err(self.internal("unterminated inline table")),
                _ => {}
            }
            let kstart = self.i;
            let keys = self.key_eq()?;
            let (last, parents) = keys
                .split_last()
                .ok_or_else(|| self.internal("empty key"))?;
            let mut t = t0;
            for k in parents {
                t = self.descend(t, k, Origin::Inline)?;
                self.tables[t].span = None;
            }
            let node = self.value()?;
            self.insert(t, last.clone(), node, Some((kstart, self.i)));
            let cs = self.gap();
            self.tables[t0]
                .entries
                .extend(cs.into_iter().map(BEntry::Comment));
            if self.peek() == Some(b',') {
                self.i += 1;
            }
        }
        self.tables[t0].span = Some((start, self.i));
        Ok(BNode::Table(t0))
    }
}

/// How a string, number, boolean or date-time is written, from its bytes.
pub(super) fn style_of(raw: &[u8]) -> Style {
    let nl = |rest: &[u8]| {
        if rest.starts_with(b"\r\n") {
            Nl::CrLf
        } else if rest.starts_with(b"\n") {
            Nl::Lf
        } else {
            Nl::No
        }
    };
    match raw {
        [b'"', b'"', b'"', rest @ ..] => Style::MlBasic(nl(rest)),
        [b'\'', b'\'', b'\'', rest @ ..] => Style::MlLiteral(nl(rest)),
        [b'"', ..] => Style::Basic,
        [b'\'', ..] => Style::Literal,
        // A date-time's date and time are apart only by one space.
        _ => Style::Bare {
            space: raw.contains(&b' '),
        },
    }
}
