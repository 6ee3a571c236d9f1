//! The line parser: go-ini's reading of an INI file, with the byte span of
//! every value and comment.

use super::*;

pub(super) struct Parser<'a> {
    pub(super) s: &'a str,
    pub(super) lines: Vec<Line>,
    pub(super) leaves: Vec<Plain>,
    pub(super) spans: Vec<(usize, usize)>,
    pub(super) quotes: Vec<Option<Quote>>,
    pub(super) sections: Vec<Section>,
    /// Comment lines not attached yet.
    pub(super) pending: Vec<usize>,
    pub(super) sops: Option<(usize, usize)>,
    /// Index of the `[sops]` section while reading it.
    pub(super) in_sops: bool,
    /// Lines of keys given again in their section (see `key_line`).
    pub(super) dropped: Vec<(usize, usize)>,
    /// Last real section before the `[sops]` one.
    pub(super) before_sops: usize,
    pub(super) meta_pairs: Vec<(String, String)>,
}

impl<'a> Parser<'a> {
    pub(super) fn err(&self, line: usize, at: usize, msg: impl Into<String>) -> Error {
        let l = self.lines[line];
        let col = self.s[l.start..at.clamp(l.start, l.end)].chars().count() + 1;
        Error::parse(WHAT, line + 1, col, msg)
    }

    pub(super) fn leaf(&mut self, kind: Kind, span: (usize, usize), quote: Option<Quote>) -> usize {
        let id = self.leaves.len();
        self.leaves
            .push(Plain::new(kind, &self.s.as_bytes()[span.0..span.1]));
        self.spans.push(span);
        self.quotes.push(quote);
        id
    }

    /// The comment leaves for the pending comment lines: one per run of
    /// consecutive lines, starting at a line with some text.
    pub(super) fn take_pending(&mut self) -> Vec<Entry> {
        let pending = std::mem::take(&mut self.pending);
        let mut out = Vec::new();
        let mut open: Option<(usize, usize)> = None; // (leaf, last line)
        for i in pending {
            let l = self.lines[i];
            let line = &self.s[l.start..l.end];
            let at = l.start + lead(line);
            let text_start = comment_text_start(self.s, at);
            let text_end = l.start + line.trim_end().len();
            match open {
                Some((id, last)) if last + 1 == i => {
                    self.spans[id].1 = text_end;
                    self.leaves[id].text = self.s.as_bytes()[self.spans[id].0..text_end].to_vec();
                    open = Some((id, i));
                }
                _ if text_start >= text_end => open = None,
                _ => {
                    let id = self.leaf(Kind::Comment, (text_start, text_end), None);
                    out.push(Entry::Comment(id));
                    open = Some((id, i));
                }
            }
        }
        out
    }

    /// A comment on a line after something else, starting at `at`.
    pub(super) fn inline_comment(&mut self, at: usize, end: usize) -> Option<Entry> {
        let start = comment_text_start(self.s, at);
        let end = at + self.s[at..end].trim_end().len();
        (start < end).then(|| Entry::Comment(self.leaf(Kind::Comment, (start, end), None)))
    }

    /// Rest of a line after a closing quote: nothing, or a comment (where
    /// it starts, and the end of the line).
    pub(super) fn after_close(
        &self,
        line: usize,
        from: usize,
        end: usize,
        what: &str,
    ) -> Result<Option<(usize, usize)>> {
        let rest = &self.s[from..end];
        let t = rest.trim_start();
        if t.is_empty() {
            return Ok(None);
        }
        let at = from + lead(rest);
        if t.starts_with(['#', ';']) {
            return Ok(Some((at, end)));
        }
        Err(self.err(
            line,
            at,
            format!("unexpected text after {what} (only a ';' or '#' comment may follow it)"),
        ))
    }

    pub(super) fn current(&mut self) -> &mut Section {
        self.sections
            .last_mut()
            .expect("the DEFAULT section exists")
    }

    /// Attaches the pending comments as trailing comments of the last real
    /// section (sops drops them).
    pub(super) fn flush_trailing(&mut self) {
        let items = self.take_pending();
        let ix = if self.in_sops {
            self.before_sops
        } else {
            self.sections.len() - 1
        };
        self.sections[ix].items.extend(items);
    }

    pub(super) fn close_section(&mut self, last_line: usize) {
        if let Some(sec) = self.sections.last_mut()
            && sec.end.is_none()
            && !self.in_sops
        {
            sec.end = last_line.checked_sub(1);
        }
    }

    pub(super) fn header(&mut self, i: usize, at: usize) -> Result<()> {
        let l = self.lines[i];
        // go-ini looks at the line with its line feed.
        let line = &self.s[at..l.next];
        let Some(close) = line.rfind(']') else {
            return Err(self.err(i, at, "unclosed section header: ']' is missing"));
        };
        let name = &line[1..close];
        if name.is_empty() {
            return Err(self.err(i, at, "empty section name"));
        }
        let rest_start = at + close + 1;
        let rest = &self.s[rest_start..l.end];
        // go-ini takes a comment from the first ';' or '#' after ']' and
        // ignores anything else. Such a comment cannot be encrypted in
        // place: a token ends with ']', and go-ini reads the section name up
        // to the last ']' of the line.
        let comment = match rest.find(['#', ';']) {
            Some(p) if rest[..p].trim().is_empty() => Some(rest_start + p),
            None if rest.trim().is_empty() => None,
            _ => {
                return Err(self.err(
                    i,
                    rest_start + lead(rest),
                    "unexpected text after the section header (only a ';' or '#' comment may follow it)",
                ));
            }
        };
        if let Some(c) = comment
            && comment_text_start(self.s, c) < c + self.s[c..l.end].trim_end().len()
            && name != SOPS
        {
            return Err(self.err(
                i,
                c,
                "a comment after a section header cannot be encrypted there (sops reads the section \
                 name up to the last ']' of the line, and an encrypted comment ends with ']'); \
                 move the comment to its own line above the header",
            ));
        }
        let was_sops = self.in_sops;
        if name == SOPS {
            if self.sops.is_some() {
                return Err(self.err(i, at, "a second [sops] section"));
            }
            self.flush_trailing();
            self.close_section(i);
            self.before_sops = self.sections.len() - 1;
            self.in_sops = true;
            self.sops = Some((l.start, l.next));
            return Ok(());
        }
        if !was_sops {
            self.close_section(i);
        }
        self.in_sops = false;
        let items = self.take_pending();
        self.sections.push(Section {
            name: name.to_string(),
            header: Some(i),
            end: None,
            keys: Vec::new(),
            items,
        });
        Ok(())
    }

    /// go-ini's `readKeyName`: the key and where its value starts.
    pub(super) fn key_name(&self, i: usize, at: usize) -> Result<(String, usize, usize)> {
        let l = self.lines[i];
        let line = &self.s[at..l.next];
        let quote = if line.starts_with('"') {
            if line.len() > 6 && line.starts_with("\"\"\"") {
                "\"\"\""
            } else {
                "\""
            }
        } else if line.starts_with('`') {
            "`"
        } else {
            ""
        };
        let no_delim = || {
            self.err(
                i,
                at,
                "expected 'key = value', a [section] header, a ';' or '#' comment or a blank line: there is no '=' or ':' on this line",
            )
        };
        if !quote.is_empty() {
            let q = quote.len();
            let Some(pos) = line[q..].find(quote).map(|p| p + q) else {
                return Err(self.err(i, at, "the key's closing quote is missing"));
            };
            let Some(d) = line[pos + q..].find(['=', ':']) else {
                return Err(no_delim());
            };
            let delim = pos + q + d;
            return Ok((
                line[q..pos].trim().to_string(),
                at + pos + q,
                at + delim + 1,
            ));
        }
        let Some(delim) = line.find(['=', ':']) else {
            return Err(no_delim());
        };
        let key = line[..delim].trim();
        Ok((key.to_string(), at + key.len(), at + delim + 1))
    }

    /// go-ini's `readValue`; returns the key and the index of the value's
    /// last line.
    pub(super) fn key_line(&mut self, i: usize, at: usize) -> Result<usize> {
        let l = self.lines[i];
        let (name, key_end, vpos) = self.key_name(i, at)?;
        if name.is_empty() {
            return Err(self.err(i, at, "empty key name"));
        }
        if name == "-" {
            return Err(self.err(
                i,
                at,
                "auto-numbered keys ('-') are not supported (sops renames them)",
            ));
        }
        // Where the value starts (right after the delimiter when empty).
        let rest = &self.s[vpos..l.end];
        let vstart = if rest.trim().is_empty() {
            vpos
        } else {
            vpos + lead(rest)
        };
        let line = &self.s[vstart..l.next];
        let mut inline = None;
        let mut joined: Option<String> = None;
        let mut last = i;
        let quote = if line.len() > 3 && line.starts_with("\"\"\"") {
            Quote::Triple
        } else if line.starts_with('`') {
            Quote::Backtick
        } else {
            Quote::None
        };
        let (inner, outer, quote) = if quote != Quote::None {
            let delim = if quote == Quote::Triple {
                "\"\"\""
            } else {
                "`"
            };
            let q = delim.len();
            let open = vstart + q;
            if let Some(p) = self.s[open..l.next].rfind(delim) {
                let close = open + p;
                inline = self.after_close(i, close + q, l.end, "the closing quote")?;
                ((open, close), (vstart, close + q), quote)
            } else {
                // A multi-line value: up to the line holding the quote.
                let mut j = i + 1;
                loop {
                    let Some(&n) = self.lines.get(j) else {
                        return Err(self.err(
                            i,
                            vstart,
                            format!("the value's closing {delim} is missing"),
                        ));
                    };
                    if let Some(p) = self.s[n.start..n.next].rfind(delim) {
                        let close = n.start + p;
                        inline = self.after_close(j, close + q, n.end, "the closing quote")?;
                        last = j;
                        break ((open, close), (vstart, close + q), quote);
                    }
                    j += 1;
                }
            }
        } else {
            let t = &self.s[vstart..l.end];
            let t = t.trim_end();
            let tend = vstart + t.len();
            if t.ends_with('\\') {
                // go-ini joins the next lines, trimmed, while the value ends
                // in `\` (which it drops). The value is stored joined; the
                // layout hint keeps the line breaks.
                let comment_err = |p: &Self, line: usize, at: usize| {
                    p.err(
                        line,
                        at,
                        "a continued value ('\\' at the end of the line) with a comment in it is not supported; move the comment to its own line",
                    )
                };
                if let Some(c) = t.find(['#', ';']) {
                    return Err(comment_err(self, i, vstart + c));
                }
                let mut val = t.strip_suffix('\\').unwrap_or(t).to_string();
                let mut j = i;
                while let Some(&n) = self.lines.get(j + 1) {
                    let next = self.s[n.start..n.end].trim();
                    if next.is_empty() {
                        break;
                    }
                    if let Some(c) = next.find(['#', ';']) {
                        let off = self.s[n.start..n.end].find(next).unwrap_or(0);
                        return Err(comment_err(self, j + 1, n.start + off + c));
                    }
                    j += 1;
                    val.push_str(next);
                    if !val.ends_with('\\') {
                        break;
                    }
                    val.pop();
                }
                if j > i {
                    crate::warn::warn(format!(
                        "line {}: the value ends in '\\' and so goes on over the next line, as sops (go-ini) reads it",
                        i + 1
                    ));
                }
                last = j;
                let end = self.lines[j].start
                    + self.s[self.lines[j].start..self.lines[j].end]
                        .trim_end()
                        .len();
                joined = Some(val);
                ((vstart, end), (vstart, end), Quote::None)
            } else {
                let (vend, comment) = match t.find(['#', ';']) {
                    Some(p) => (vstart + t[..p].trim_end().len(), Some(vstart + p)),
                    None => (tend, None),
                };
                if let Some(c) = comment {
                    inline = Some((c, l.end));
                }
                let v = &self.s[vstart..vend];
                if surrounded(v, b'"') || surrounded(v, b'\'') {
                    let q = v.as_bytes()[0];
                    ((vstart + 1, vend - 1), (vstart, vend), Quote::Pair(q))
                } else {
                    ((vstart, vend), (vstart, vend), Quote::None)
                }
            }
        };
        if self.in_sops {
            self.pending.clear();
            self.meta_pairs
                .push((name, self.s[inner.0..inner.1].to_string()));
            if let Some((start, _)) = self.sops {
                self.sops = Some((start, self.lines[last].next));
            }
            return Ok(last);
        }
        if self.current().keys.iter().any(|k| k.name == name) {
            // go-ini (so sops) keeps the first key's place with the last
            // value. The later line leaves the encrypted file (its value
            // becomes the first key's); the layout hint brings it back on
            // decryption.
            let text = Plain::new(Kind::Str, &self.s.as_bytes()[inner.0..inner.1]);
            let earlier = self.current().items.iter().find_map(|e| match e {
                Entry::Pair(n, Node::Leaf(id)) if *n == name => Some(*id),
                _ => None,
            });
            if let Some(id) = earlier {
                self.leaves[id] = text;
            }
            self.dropped
                .push((self.lines[i].start, self.lines[last].next));
            return Ok(last);
        }
        let id = self.leaf(Kind::Str, inner, Some(quote));
        if let Some(v) = joined {
            self.leaves[id] = Plain::new(Kind::Str, v);
        }
        let comments = self.take_pending();
        let inline = inline.and_then(|(at, end)| self.inline_comment(at, end));
        let sec = self.current();
        sec.keys.push(Key {
            name: name.clone(),
            first: i,
            last,
            inner,
            outer,
            quote,
            delim: (key_end, vstart),
        });
        sec.items.push(Entry::Pair(name, Node::Leaf(id)));
        sec.items.extend(comments);
        sec.items.extend(inline);
        Ok(last)
    }
}
