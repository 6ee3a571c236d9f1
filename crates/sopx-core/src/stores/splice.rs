//! The skeleton the flat stores (JSON, dotenv, INI, TOML) share: new leaf
//! texts spliced into the source, the `sops` entry placed or cut, all
//! applied in one pass. Each store says only where a leaf sits and how its
//! format spells a token, a plaintext value and the metadata; the read-back
//! check every write goes through is `ops::seal`'s.

use serde_json::Value;

use super::edits::Edits;
use crate::error::{Error, Result};
use crate::value::Plain;

/// What a store knows about its source for writing it back.
pub(crate) trait Splice {
    /// The format's name in messages.
    const WHAT: &'static str;
    /// Whether a leaf whose plaintext is unchanged keeps its source text
    /// (`false`: always rewritten, for stores whose plain writer is what
    /// normalises a spelling).
    const KEEP_UNCHANGED: bool = true;

    /// The source bytes.
    fn source(&self) -> &[u8];
    /// The leaves as parsed.
    fn leaves(&self) -> &[Plain];
    /// The byte range of `leaf`'s value, for stores that write tokens as
    /// they are (no quoting).
    fn span(&self, _leaf: usize) -> Option<(usize, usize)> {
        None
    }
    /// Puts `token` in place of `leaf`'s value; `None` when there is no such
    /// leaf. By default the token as it is, at [`Splice::span`].
    fn put_token(&self, e: &mut Edits, leaf: usize, token: &str) -> Option<()> {
        let (a, b) = self.span(leaf)?;
        e.put(a, b, |buf| buf.extend_from_slice(token.as_bytes()));
        Some(())
    }
    /// Puts `plain` in place of `leaf`'s value; `None` when there is no such
    /// leaf.
    fn put_plain(&self, e: &mut Edits, leaf: usize, plain: &Plain) -> Option<()>;
    /// Cuts the `sops` entry. With `meta` (encrypting) a store that keeps the
    /// metadata inside the body writes it in place here.
    fn place_metadata(&self, e: &mut Edits, meta: Option<&Value>);
    /// Writes the metadata after the spliced body, for stores that keep it
    /// at the end.
    fn append_metadata(&self, _out: &mut Vec<u8>, _meta: &Value) -> Result<()> {
        Ok(())
    }
}

fn no_leaf<S: Splice>(leaf: usize) -> Error {
    Error::Internal(format!(
        "{}: no leaf number {leaf} in this document",
        S::WHAT
    ))
}

/// The file with each `(leaf, token)` in place and `meta` as its metadata.
pub(crate) fn emit_encrypted<S: Splice>(
    s: &S,
    tokens: &[(usize, String)],
    meta: &Value,
) -> Result<Vec<u8>> {
    let mut e = Edits::default();
    for (leaf, token) in tokens {
        s.put_token(&mut e, *leaf, token)
            .ok_or_else(|| no_leaf::<S>(*leaf))?;
    }
    s.place_metadata(&mut e, Some(meta));
    let mut out = e.apply(S::WHAT, s.source())?;
    s.append_metadata(&mut out, meta)?;
    Ok(out)
}

/// The file with each `(leaf, plaintext)` in place and no metadata.
pub(crate) fn emit_plain<S: Splice>(s: &S, plains: &[(usize, Plain)]) -> Result<Vec<u8>> {
    let mut e = Edits::default();
    for (leaf, plain) in plains {
        if S::KEEP_UNCHANGED && s.leaves().get(*leaf) == Some(plain) {
            continue; // already written that way
        }
        s.put_plain(&mut e, *leaf, plain)
            .ok_or_else(|| no_leaf::<S>(*leaf))?;
    }
    s.place_metadata(&mut e, None);
    e.apply(S::WHAT, s.source())
}
