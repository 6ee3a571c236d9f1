//! The JSON scanner: every value's byte span and the file's style.

use super::*;

pub(super) fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Scans a JSON number starting at `start`; its end, or where and why it is
/// not one.
pub(super) fn scan_number(
    s: &[u8],
    start: usize,
) -> std::result::Result<usize, (usize, &'static str)> {
    let digit = |i: usize| s.get(i).is_some_and(u8::is_ascii_digit);
    let digits = |mut i: usize| {
        while digit(i) {
            i += 1;
        }
        i
    };
    let mut i = start;
    if s.get(i) == Some(&b'-') {
        i += 1;
    }
    match s.get(i) {
        Some(b'0') => {
            i += 1;
            if digit(i) {
                return Err((i, "leading zeros are not allowed in JSON numbers"));
            }
        }
        Some(b'1'..=b'9') => i = digits(i),
        _ => return Err((i, "invalid number: expected a digit")),
    }
    if s.get(i) == Some(&b'.') {
        i += 1;
        if !digit(i) {
            return Err((
                i,
                "invalid number: expected a digit after the decimal point",
            ));
        }
        i = digits(i);
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(s.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digit(i) {
            return Err((i, "invalid number: expected a digit in the exponent"));
        }
        i = digits(i);
    }
    Ok(i)
}

pub(super) fn hex4(s: &[u8], at: usize) -> Option<u32> {
    let h = s.get(at..at + 4)?;
    if !h.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u32::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()
}

pub(super) struct Parser<'a> {
    pub(super) s: &'a [u8],
    pub(super) i: usize,
    pub(super) depth: usize,
    pub(super) leaves: Vec<Plain>,
    pub(super) spans: Vec<(usize, usize)>,
    /// Indices of the top-level members named `sops`.
    pub(super) sops: Vec<usize>,
    /// Style seen so far.
    pub(super) unit: Option<String>,
    pub(super) colon: Option<(usize, usize)>,
    pub(super) comma_ws: Option<(usize, usize)>,
}

impl<'a> Parser<'a> {
    /// A parser positioned at `at`, for re-reading a piece of `s`.
    pub(super) fn over(s: &'a [u8], at: usize) -> Parser<'a> {
        Parser {
            s,
            i: at,
            depth: 0,
            leaves: Vec::new(),
            spans: Vec::new(),
            sops: Vec::new(),
            unit: None,
            colon: None,
            comma_ws: None,
        }
    }

    #[cold]
    #[inline(never)]
    pub(super) fn err(&self, at: usize, msg: impl Into<String>) -> Error {
        Error::parse_at(WHAT, self.s, at, msg)
    }

    /// "unexpected ..." at `at`, where `expected` was expected.
    #[cold]
    #[inline(never)]
    pub(super) fn unexpected(&self, at: usize, expected: &str) -> Error {
        let msg = match self.s.get(at) {
            None => format!("unexpected end of input: expected {expected}"),
            Some(b'/') => "comments are not allowed in JSON".into(),
            Some(b'\'') => "strings must be in double quotes in JSON".into(),
            // The character itself is not quoted: it may be part of a secret.
            Some(_) => format!("unexpected character: expected {expected}"),
        };
        self.err(at, msg)
    }

    pub(super) fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    pub(super) fn ws(&mut self) {
        while self.i < self.s.len() && is_ws(self.s[self.i]) {
            self.i += 1;
        }
    }

    /// Only whitespace may follow the top-level value.
    pub(super) fn end(&self) -> Result<()> {
        if self.i < self.s.len() {
            return Err(self.unexpected(self.i, "nothing after the top-level value"));
        }
        Ok(())
    }

    pub(super) fn leaf(
        &mut self,
        rec: bool,
        kind: Kind,
        text: Vec<u8>,
        start: usize,
    ) -> (Node, Span) {
        let span = Span {
            start,
            end: self.i,
            kind: SpanKind::Scalar,
        };
        if !rec {
            return (Node::Null, span);
        }
        self.leaves.push(Plain { kind, text });
        self.spans.push((start, self.i));
        (Node::Leaf(self.leaves.len() - 1), span)
    }

    /// A value at the current position (whitespace already skipped). With
    /// `rec` false nothing is recorded (the `sops` member).
    pub(super) fn value(&mut self, rec: bool) -> Result<(Node, Span)> {
        match self.peek() {
            Some(b'{') => self.object(rec, false),
            Some(b'[') => self.array(rec),
            _ => self.scalar(rec),
        }
    }

    /// A string, number or literal. Kept out of [`Parser::value`] so the
    /// recursion's stack frames stay small.
    #[inline(never)]
    pub(super) fn scalar(&mut self, rec: bool) -> Result<(Node, Span)> {
        let start = self.i;
        match self.peek() {
            Some(b'"') => {
                let text = self.string(rec)?;
                Ok(self.leaf(rec, Kind::Str, text, start))
            }
            Some(b'-' | b'0'..=b'9') => {
                let end = scan_number(self.s, start).map_err(|(at, msg)| self.err(at, msg))?;
                self.i = end;
                let text = &self.s[start..end];
                let num = std::str::from_utf8(text).unwrap_or_default();
                if !num.parse::<f64>().is_ok_and(f64::is_finite) {
                    return Err(self.err(
                        start,
                        "number out of range: sops reads JSON numbers as 64-bit floats",
                    ));
                }
                let text = if rec { text.to_vec() } else { Vec::new() };
                Ok(self.leaf(rec, Kind::Float, text, start))
            }
            Some(c) if c.is_ascii_alphabetic() => {
                let mut end = start;
                while end < self.s.len() && self.s[end].is_ascii_alphanumeric() {
                    end += 1;
                }
                let word = &self.s[start..end];
                self.i = end;
                match word {
                    b"true" | b"false" => {
                        let text = if rec { word.to_vec() } else { Vec::new() };
                        Ok(self.leaf(rec, Kind::Bool, text, start))
                    }
                    b"null" => Ok((
                        Node::Null,
                        Span {
                            start,
                            end,
                            kind: SpanKind::Scalar,
                        },
                    )),
                    _ => Err(self.err(
                        start,
                        // Not quoted: an unquoted word may be a secret.
                        "invalid value (not quoted?): expected a string, a number, an object, an array, true, false or null",
                    )),
                }
            }
            _ => Err(self.unexpected(start, "a value")),
        }
    }

    pub(super) fn enter(&mut self, at: usize) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err(at, crate::limits::too_deep()));
        }
        Ok(())
    }

    /// Skips whitespace after an opening bracket, learning the indentation
    /// unit from the first child that starts a line.
    pub(super) fn ws_first_child(&mut self) {
        let from = self.i;
        self.ws();
        if self.unit.is_some() {
            return;
        }
        let w = &self.s[from..self.i];
        let Some(nl) = w.iter().rposition(|&b| b == b'\n') else {
            return;
        };
        let ind = &w[nl + 1..];
        let d = self.depth;
        if ind.is_empty() || !ind.len().is_multiple_of(d) {
            return;
        }
        let unit = &ind[..ind.len() / d];
        let uniform = unit.iter().all(|&b| b == b' ') || unit.iter().all(|&b| b == b'\t');
        if uniform && ind.chunks(unit.len()).all(|c| c == unit) {
            self.unit = Some(String::from_utf8_lossy(unit).into_owned());
        }
    }

    /// Skips whitespace after a comma, learning the one-line separator.
    pub(super) fn ws_after_comma(&mut self) {
        let from = self.i;
        self.ws();
        if self.comma_ws.is_none() && !self.s[from..self.i].contains(&b'\n') {
            self.comma_ws = Some((from, self.i));
        }
    }

    pub(super) fn object(&mut self, rec: bool, top: bool) -> Result<(Node, Span)> {
        let open = self.i;
        self.enter(open)?;
        self.i += 1;
        let mut entries = Vec::new();
        let mut members = Vec::new();
        let mut count = 0;
        // Top-level keys seen: a second `sops` (or any key twice) would let
        // one reader see other data than the next.
        let mut seen = std::collections::HashSet::new();
        self.ws_first_child();
        if self.peek() == Some(b'}') {
            self.i += 1;
        } else {
            loop {
                let key_start = self.i;
                match self.peek() {
                    Some(b'"') => {}
                    Some(b'}') if count > 0 => {
                        return Err(self.err(key_start, "trailing comma is not allowed in JSON"));
                    }
                    _ => return Err(self.unexpected(key_start, "a string key")),
                }
                let key = self.string(rec)?;
                let key_end = self.i;
                self.ws();
                if self.peek() != Some(b':') {
                    return Err(self.unexpected(self.i, "':' after an object key"));
                }
                self.i += 1;
                self.ws();
                if self.colon.is_none() && !self.s[key_end..self.i].contains(&b'\n') {
                    self.colon = Some((key_end, self.i));
                }
                if top && !seen.insert(key.clone()) {
                    let what = if key == SOPS_KEY.as_bytes() {
                        "the top-level object holds `sops` twice (only one metadata block is allowed)"
                    } else {
                        "this key appears twice in the top-level object"
                    };
                    return Err(self.err(key_start, what));
                }
                let is_sops = top && key == SOPS_KEY.as_bytes();
                let (node, value) = self.value(rec && !is_sops)?;
                count += 1;
                if is_sops {
                    self.sops.push(members.len());
                } else if rec {
                    let key = String::from_utf8(key)
                        .map_err(|_| self.err(key_start, "key is not valid UTF-8"))?;
                    entries.push(Entry::Pair(key, node));
                }
                if rec {
                    members.push(Member {
                        key_start,
                        key_end,
                        value,
                    });
                }
                self.ws();
                match self.peek() {
                    Some(b',') => {
                        self.i += 1;
                        self.ws_after_comma();
                    }
                    Some(b'}') => {
                        self.i += 1;
                        break;
                    }
                    _ => return Err(self.unexpected(self.i, "',' or '}' after an object member")),
                }
            }
        }
        self.depth -= 1;
        let kind = if rec {
            SpanKind::Object(members)
        } else {
            SpanKind::Scalar
        };
        Ok((
            Node::Map(entries),
            Span {
                start: open,
                end: self.i,
                kind,
            },
        ))
    }

    pub(super) fn array(&mut self, rec: bool) -> Result<(Node, Span)> {
        let open = self.i;
        self.enter(open)?;
        self.i += 1;
        let mut items = Vec::new();
        let mut spans = Vec::new();
        let mut count = 0;
        self.ws_first_child();
        if self.peek() == Some(b']') {
            self.i += 1;
        } else {
            loop {
                if self.peek() == Some(b']') && count > 0 {
                    return Err(self.err(self.i, "trailing comma is not allowed in JSON"));
                }
                let (node, span) = self.value(rec)?;
                count += 1;
                if rec {
                    items.push(Item::Value(node));
                    spans.push(span);
                }
                self.ws();
                match self.peek() {
                    Some(b',') => {
                        self.i += 1;
                        self.ws_after_comma();
                    }
                    Some(b']') => {
                        self.i += 1;
                        break;
                    }
                    _ => return Err(self.unexpected(self.i, "',' or ']' after an array element")),
                }
            }
        }
        self.depth -= 1;
        let kind = if rec {
            SpanKind::Array(spans)
        } else {
            SpanKind::Scalar
        };
        Ok((
            Node::List(items),
            Span {
                start: open,
                end: self.i,
                kind,
            },
        ))
    }

    /// A string at the current `"`: its unescaped bytes (empty unless
    /// `want`). Lone surrogate escapes become U+FFFD, as in Go.
    pub(super) fn string(&mut self, want: bool) -> Result<Vec<u8>> {
        let s = self.s;
        let open = self.i;
        self.i += 1;
        let mut buf = Vec::new();
        let mut escaped = false;
        let mut run = self.i;
        loop {
            let mut i = self.i;
            while i < s.len() && s[i] != b'"' && s[i] != b'\\' && s[i] >= 0x20 {
                i += 1;
            }
            self.i = i;
            match s.get(i) {
                None => return Err(self.err(open, "unterminated string")),
                Some(b'"') => {
                    self.i = i + 1;
                    if !want {
                        return Ok(Vec::new());
                    }
                    if !escaped {
                        return Ok(s[run..i].to_vec());
                    }
                    buf.extend_from_slice(&s[run..i]);
                    return Ok(buf);
                }
                Some(b'\\') => {
                    if want {
                        buf.extend_from_slice(&s[run..i]);
                    }
                    escaped = true;
                    let ch = self.escape()?;
                    if want {
                        let mut tmp = [0; 4];
                        buf.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
                    }
                    run = self.i;
                }
                Some(b'\n') => {
                    return Err(self.err(
                        i,
                        "unterminated string (a line break inside a string must be written \\n)",
                    ));
                }
                Some(_) => {
                    return Err(self.err(i, "a control character must be escaped inside a string"));
                }
            }
        }
    }

    /// The escape sequence at the current `\`.
    pub(super) fn escape(&mut self) -> Result<char> {
        let s = self.s;
        let at = self.i;
        let Some(&c) = s.get(at + 1) else {
            return Err(self.err(at, "unterminated string"));
        };
        self.i = at + 2;
        Ok(match c {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let Some(hi) = hex4(s, at + 2) else {
                    return Err(self.err(at, "invalid \\u escape: expected 4 hexadecimal digits"));
                };
                self.i = at + 6;
                if (0xD800..0xDC00).contains(&hi) {
                    let lo = if s[self.i..].starts_with(b"\\u") {
                        hex4(s, self.i + 2).filter(|lo| (0xDC00..0xE000).contains(lo))
                    } else {
                        None
                    };
                    match lo {
                        Some(lo) => {
                            self.i += 6;
                            char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                                .unwrap_or('\u{FFFD}')
                        }
                        None => '\u{FFFD}',
                    }
                } else {
                    char::from_u32(hi).unwrap_or('\u{FFFD}')
                }
            }
            _ => {
                return Err(self.err(at, "invalid escape sequence"));
            }
        })
    }
}
