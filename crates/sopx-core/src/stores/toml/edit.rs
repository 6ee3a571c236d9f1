//! Setting and removing values in place (`set`, `unset`).

use super::*;

impl TomlDoc {
    pub(super) fn find_key(&self, t: usize, key: &str) -> Option<usize> {
        self.tables[t].index.get(key).copied()
    }

    /// The value items of an array, comments left out.
    pub(super) fn array_values(&self, a: usize) -> Vec<(&BNode, Option<(usize, usize)>)> {
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
    pub(super) fn replace(&self, e: &mut Edits, node: &BNode, value: &Value) -> Result<()> {
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
    pub(super) fn line_home(&self, mut t: usize) -> Option<(usize, Vec<String>)> {
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
    pub(super) fn insert_new(
        &self,
        e: &mut Edits,
        t: usize,
        key: &str,
        value: &Value,
    ) -> Result<()> {
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

    pub(super) fn set_edits(&self, path: &[PathElem], value: &Value) -> Result<Vec<u8>> {
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
    pub(super) fn ranges_of(
        &self,
        node: &BNode,
        kv: Option<(usize, usize)>,
        out: &mut Vec<(usize, usize)>,
    ) {
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

    pub(super) fn unset_edits(&self, path: &[PathElem]) -> Result<Vec<u8>> {
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
pub(super) fn list_removal(
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
