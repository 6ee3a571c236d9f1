//! Reading a dotenv file as sops does: lines, values (multi-line quoted
//! ones included), comments and the `sops_` lines, with their byte spans.

use super::*;

/// 1-based column of byte `at` in line `l`.
pub(super) fn column(src: &[u8], l: Line, at: usize) -> usize {
    String::from_utf8_lossy(&src[l.start..at.min(l.end)])
        .chars()
        .count()
        + 1
}

/// Can sops read this line?
pub(super) fn sops_reads(line: &[u8]) -> bool {
    line.is_empty() || line[0] == b'#' || line.contains(&b'=')
}

/// `\n` as line feeds (how sops reads a value).
pub(super) fn decode(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'\\' && raw.get(i + 1) == Some(&b'n') {
            out.push(b'\n');
            i += 2;
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    out
}

/// Inverse of [`escape_multiline`]; `None` if `text` is not its output.
pub(super) fn unescape_multiline(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i] == b'\\' {
            match text.get(i + 1) {
                Some(b'\\') => out.push(b'\\'),
                Some(b'n') => out.push(b'\n'),
                _ => return None,
            }
            i += 2;
        } else {
            out.push(text[i]);
            i += 1;
        }
    }
    Some(out)
}

pub(super) fn has_escaped_newline(text: &[u8]) -> bool {
    text.windows(2).any(|w| w == b"\\n")
}

/// How a value that starts with a quote ends.
pub(super) enum Extent {
    /// On its own line, as sops reads it.
    OneLine,
    /// On line `j` (a multi-line value).
    Through(usize),
    /// Never: the quote opened at this column is not closed anywhere.
    Unclosed(usize),
}

/// Finds closing quotes; remembers where a search found none, so that
/// unclosed quotes do not make parsing quadratic.
#[derive(Default)]
pub(super) struct Quotes {
    none_after: [Option<usize>; 2],
}

impl Quotes {
    /// Position of the quote `q` closing a value whose text starts at `from`
    /// (`\` escapes the next byte inside double quotes).
    pub(super) fn close(&mut self, src: &[u8], from: usize, q: u8) -> Option<usize> {
        let slot = usize::from(q == b'\'');
        if self.none_after[slot].is_some_and(|p| from >= p) {
            return None;
        }
        let mut i = from;
        while i < src.len() {
            match src[i] {
                b'\\' if q == b'"' => i += 2,
                b if b == q => return Some(i),
                _ => i += 1,
            }
        }
        self.none_after[slot] = Some(self.none_after[slot].map_or(from, |p| p.min(from)));
        None
    }
}

pub(super) fn extent(
    src: &[u8],
    lines: &[Line],
    i: usize,
    vstart: usize,
    quotes: &mut Quotes,
) -> Extent {
    let l = lines[i];
    let raw = &src[vstart..l.end];
    let lead = raw
        .iter()
        .take_while(|b| **b == b' ' || **b == b'\t')
        .count();
    let q = match raw.get(lead) {
        Some(&q @ (b'"' | b'\'')) => q,
        _ => return Extent::OneLine,
    };
    let open = vstart + lead;
    let Some(close) = quotes.close(src, open + 1, q) else {
        return Extent::Unclosed(column(src, l, open));
    };
    if close < l.end {
        return Extent::OneLine;
    }
    let mut j = i + 1;
    while j < lines.len() && lines[j].end < close {
        j += 1;
    }
    let j = j.min(lines.len() - 1);
    if (i + 1..=j).any(|k| !sops_reads(&src[lines[k].start..lines[k].end])) {
        Extent::Through(j)
    } else {
        Extent::OneLine
    }
}

/// The variable a key names: without `export` and surrounding blanks.
pub(super) fn var_name(key: &str) -> &str {
    let k = key.trim();
    match k.strip_prefix("export") {
        Some(rest) if rest.starts_with([' ', '\t']) => rest.trim_start(),
        _ => k,
    }
}

pub(super) fn bad_line(src: &[u8], l: Line, n: usize, open: Option<(usize, usize)>) -> Error {
    let text = &src[l.start..l.end];
    let lead = text.iter().take_while(|b| b.is_ascii_whitespace()).count();
    let (column, mut msg) = if lead == text.len() {
        (
            1,
            "the line holds only whitespace, which sops cannot read (its dotenv reader takes \
             KEY=VALUE lines, comments with '#' in the first column and empty lines); make it empty"
                .to_string(),
        )
    } else if text[lead] == b'#' {
        (
            lead + 1,
            "indented comment: sops reads a comment only when '#' is the first character of the \
             line; remove the indentation"
                .to_string(),
        )
    } else {
        (1, "expected KEY=VALUE, but the line has no '='".to_string())
    };
    if let Some((ol, oc)) = open {
        msg.push_str(&format!(
            " (the quoted value opened at line {ol}, column {oc} is never closed)"
        ));
    }
    Error::parse(WHAT, n, column, msg)
}

impl DotenvDoc {
    pub fn parse(src: &[u8]) -> Result<DotenvDoc> {
        if let Err(e) = std::str::from_utf8(src) {
            return Err(Error::parse_at(
                WHAT,
                src,
                e.valid_up_to(),
                "invalid UTF-8: sopx reads dotenv files as UTF-8",
            ));
        }
        let lines = split_lines(src, 0);
        let mut entries = Vec::new();
        let mut leaves = Vec::new();
        let mut spans = Vec::new();
        let mut vars = Vec::new();
        let mut sops_lines = Vec::new();
        let mut meta_pairs: Vec<(String, String)> = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut duplicate: Option<(usize, String, usize)> = None;
        let mut quotes = Quotes::default();
        let mut open_quote = None;
        let text = |a: usize, b: usize| String::from_utf8_lossy(&src[a..b]).into_owned();
        let mut i = 0;
        while i < lines.len() {
            let l = lines[i];
            let line = &src[l.start..l.end];
            if line.is_empty() {
                i += 1;
                continue;
            }
            if line[0] == b'#' {
                let id = leaves.len();
                leaves.push(Plain::new(Kind::Comment, &line[1..]));
                spans.push((l.start + 1, l.end));
                entries.push(Entry::Comment(id));
                i += 1;
                continue;
            }
            let Some(eq) = line.iter().position(|&b| b == b'=') else {
                return Err(bad_line(src, l, i + 1, open_quote));
            };
            let key = text(l.start, l.start + eq);
            let vstart = l.start + eq + 1;
            if let Some(k) = key.strip_prefix(PREFIX) {
                meta_pairs.push((k.to_string(), text(vstart, l.end)));
                sops_lines.push(i);
                i += 1;
                continue;
            }
            let (last, value) = match extent(src, &lines, i, vstart, &mut quotes) {
                Extent::Through(j) => (j, escape_multiline(&src[vstart..lines[j].end])),
                Extent::OneLine => (i, decode(&src[vstart..l.end])),
                Extent::Unclosed(col) => {
                    open_quote.get_or_insert((i + 1, col));
                    (i, decode(&src[vstart..l.end]))
                }
            };
            let name = var_name(&key).to_string();
            match seen.get(&name) {
                Some(&first) => {
                    duplicate.get_or_insert((i + 1, name, first));
                }
                None => {
                    seen.insert(name, i + 1);
                }
            }
            let id = leaves.len();
            leaves.push(Plain::new(Kind::Str, value));
            spans.push((vstart, lines[last].end));
            entries.push(Entry::Pair(key.clone(), Node::Leaf(id)));
            vars.push(Var {
                key,
                first: i,
                last,
                value: (vstart, lines[last].end),
            });
            i = last + 1;
        }
        let meta = if meta_pairs.is_empty() {
            None
        } else {
            Some(flatten::unflatten(
                meta_pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            )?)
        };
        if meta.is_none()
            && let Some((line, name, first)) = duplicate
        {
            // sops keeps both lines; so does sopx, with a word of warning.
            crate::warn::warn(format!(
                "line {line}: variable {name:?} is defined again (first at line {first}); both lines are kept, but most readers use only one of the values"
            ));
        }
        Ok(DotenvDoc {
            src: src.to_vec(),
            lines,
            tree: Tree {
                docs: vec![entries],
                leaves,
            },
            spans,
            vars,
            sops_lines,
            meta,
        })
    }
}
