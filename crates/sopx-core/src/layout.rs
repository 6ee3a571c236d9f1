//! Layout hints: what the values of an encrypted file cannot carry.
//!
//! Some spellings cannot survive encryption because sops must be able to
//! read the result: aliases are expanded, `0x1F` is stored as `31`, escapes
//! are written as the characters they stand for, folded lines are joined.
//! Decrypting such a file gives the same data in a slightly different
//! layout. A hint records, as a line patch, how to turn that decrypted
//! output back into the exact original bytes.
//!
//! The patch is encrypted with the data key and kept in the `sopx_layout`
//! metadata field, which sops ignores (and drops when it rewrites a file).
//! The metadata is not covered by the MAC, so a hint is never trusted: the
//! patched output is used only when it parses to exactly the data the
//! values decrypt to (comments included). A stale, replayed or forged hint
//! can therefore change nothing but layout, and is otherwise ignored.

use crate::cipher::{self, DataKey, Stash};
use crate::error::{Error, Result};
use crate::value::{Kind, Plain};

/// Additional data the hint is encrypted with, so that no value's token can
/// stand in for it (values' additional data always ends with `:` after a
/// key path; this name is not a key path sops could produce for metadata).
pub const HINT_AD: &str = "sopx_layout:";

const MAGIC: &[u8] = b"sopx-layout-1\n";

/// A line patch from the decrypted output to the original bytes.
#[derive(Debug, PartialEq, Eq)]
enum Op {
    /// Copy this many lines of the decrypted output.
    Keep(usize),
    /// Skip this many lines of it.
    Drop(usize),
    /// Insert these bytes.
    Add(Vec<u8>),
}

fn lines(b: &[u8]) -> Vec<&[u8]> {
    b.split_inclusive(|c| *c == b'\n').collect()
}

/// The patch that turns `from` into `to`, serialised.
pub fn diff(from: &[u8], to: &[u8]) -> Vec<u8> {
    use similar::{Algorithm, DiffOp, capture_diff_slices_deadline};
    let a = lines(from);
    let b = lines(to);
    // Myers with a deadline: a slow diff only makes the hint larger.
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(500);
    let ops = capture_diff_slices_deadline(Algorithm::Myers, &a, &b, Some(deadline));
    let mut out: Vec<Op> = Vec::new();
    let mut push = |op: Op| match (out.last_mut(), op) {
        (Some(Op::Keep(n)), Op::Keep(m)) => *n += m,
        (Some(Op::Drop(n)), Op::Drop(m)) => *n += m,
        (Some(Op::Add(t)), Op::Add(u)) => t.extend_from_slice(&u),
        (_, op) => out.push(op),
    };
    for op in ops {
        match op {
            DiffOp::Equal { len, .. } => push(Op::Keep(len)),
            DiffOp::Delete { old_len, .. } => push(Op::Drop(old_len)),
            DiffOp::Insert {
                new_index, new_len, ..
            } => push(Op::Add(b[new_index..new_index + new_len].concat())),
            DiffOp::Replace {
                old_len,
                new_index,
                new_len,
                ..
            } => {
                push(Op::Drop(old_len));
                push(Op::Add(b[new_index..new_index + new_len].concat()));
            }
        }
    }
    serialise(&out)
}

fn serialise(ops: &[Op]) -> Vec<u8> {
    let mut s = MAGIC.to_vec();
    for op in ops {
        match op {
            Op::Keep(n) => s.extend_from_slice(format!("={n}\n").as_bytes()),
            Op::Drop(n) => s.extend_from_slice(format!("-{n}\n").as_bytes()),
            Op::Add(t) => {
                s.extend_from_slice(format!("+{}\n", t.len()).as_bytes());
                s.extend_from_slice(t);
            }
        }
    }
    s
}

fn deserialise(mut s: &[u8]) -> Option<Vec<Op>> {
    s = s.strip_prefix(MAGIC)?;
    let mut ops = Vec::new();
    while !s.is_empty() {
        let nl = s.iter().position(|c| *c == b'\n')?;
        let n: usize = std::str::from_utf8(&s[1..nl]).ok()?.parse().ok()?;
        let tag = s[0];
        s = &s[nl + 1..];
        ops.push(match tag {
            b'=' => Op::Keep(n),
            b'-' => Op::Drop(n),
            b'+' => {
                let t = s.get(..n)?.to_vec();
                s = &s[n..];
                Op::Add(t)
            }
            _ => return None,
        });
    }
    Some(ops)
}

/// Applies a serialised patch to `from`; `None` if it does not fit.
pub fn apply(patch: &[u8], from: &[u8]) -> Option<Vec<u8>> {
    let ops = deserialise(patch)?;
    let a = lines(from);
    let mut i = 0;
    let mut out = Vec::with_capacity(from.len());
    for op in ops {
        match op {
            Op::Keep(n) => {
                out.extend(a.get(i..i + n)?.concat());
                i += n;
            }
            Op::Drop(n) => {
                a.get(i..i + n)?;
                i += n;
            }
            Op::Add(t) => out.extend_from_slice(&t),
        }
    }
    (i == a.len()).then_some(out)
}

/// The hint token for a patch. An unchanged patch keeps its ciphertext
/// (its IV comes from `stash`), so an edit elsewhere leaves the line alone.
pub fn seal(patch: Vec<u8>, key: &DataKey, stash: &Stash) -> String {
    stash.encrypt(&Plain::new(Kind::Str, patch), key, HINT_AD)
}

/// Decrypts a hint token, remembering its IV for a later [`seal`].
pub fn open(token: &str, key: &DataKey, stash: &mut Stash) -> Result<Plain> {
    let (p, iv) = cipher::decrypt(token, key, HINT_AD).map_err(|_| {
        Error::BadMetadata(
            "the `sopx_layout` entry does not decrypt with this file's data key".into(),
        )
    })?;
    stash.remember(&p, HINT_AD, iv.as_slice());
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_turns_one_text_into_the_other() {
        let cases: &[(&str, &str)] = &[
            ("a: 1\nb: 2\n", "a: 1\nb: 2\n"),
            ("a: 1\nb: 2\n", "a: 1\n# c\nb: 2"),
            ("x\ny\nz\n", "z\n"),
            ("", "new\n"),
            ("old\n", ""),
            ("a: {x: 1}\n", "base: &b\n  x: 1\na: *b\n"),
        ];
        for (from, to) in cases {
            let p = diff(from.as_bytes(), to.as_bytes());
            assert_eq!(apply(&p, from.as_bytes()).unwrap(), to.as_bytes());
        }
    }

    #[test]
    fn patch_that_does_not_fit_is_refused() {
        let p = diff(b"a\nb\nc\n", b"a\nB\nc\n");
        assert!(apply(&p, b"a\nb\n").is_none());
        assert!(apply(&p, b"a\nb\nc\nd\n").is_none());
        assert!(apply(b"garbage", b"a\n").is_none());
        assert!(apply(b"sopx-layout-1\n+99\nshort", b"").is_none());
    }

    #[test]
    fn unchanged_patch_keeps_its_token() {
        let key = DataKey::generate();
        let p = diff(b"a: 1\n", b"a: 0x1\n");
        let tok = seal(p.clone(), &key, &Stash::default());
        let mut stash = Stash::recording();
        let back = open(&tok, &key, &mut stash).unwrap();
        assert_eq!(back.text, p);
        assert_eq!(seal(p, &key, &stash), tok);
        assert!(open(&tok, &DataKey::generate(), &mut Stash::default()).is_err());
    }
}
