//! Byte splicing shared by the stores: every output is the source with
//! some ranges replaced, built in one pass.

use zeroize::Zeroize;

use crate::error::{Error, Result};

/// Replacements of source byte ranges, applied in one pass; the buffer of
/// new texts (which may hold plaintext) is wiped afterwards.
#[derive(Default)]
pub(crate) struct Edits {
    /// (start, end, from, to): source `start..end` becomes `buf[from..to]`.
    list: Vec<(usize, usize, usize, usize)>,
    buf: Vec<u8>,
}

impl Edits {
    /// Replaces `start..end` with what `write` appends.
    pub(crate) fn put(&mut self, start: usize, end: usize, write: impl FnOnce(&mut Vec<u8>)) {
        let from = self.buf.len();
        write(&mut self.buf);
        self.list.push((start, end, from, self.buf.len()));
    }

    /// Removes `start..end`.
    pub(crate) fn cut(&mut self, start: usize, end: usize) {
        self.put(start, end, |_| {});
    }

    pub(crate) fn apply(mut self, what: &str, src: &[u8]) -> Result<Vec<u8>> {
        self.list.sort_by_key(|&(s, e, _, _)| (s, e));
        // The exact size (a plaintext written over an encrypted file is
        // several times smaller than its source).
        let cut: usize = self
            .list
            .iter()
            .map(|&(s, e, _, _)| e.saturating_sub(s))
            .sum();
        let mut out = Vec::with_capacity((src.len() + self.buf.len()).saturating_sub(cut));
        let mut at = 0;
        for &(start, end, from, to) in &self.list {
            if start < at {
                self.buf.zeroize();
                return Err(Error::Internal(format!(
                    "{what}: overlapping edits (a leaf was given twice?)"
                )));
            }
            out.extend_from_slice(&src[at..start]);
            out.extend_from_slice(&self.buf[from..to]);
            at = end;
        }
        out.extend_from_slice(&src[at..]);
        self.buf.zeroize();
        Ok(out)
    }
}
