//! Encrypting a large YAML file in pieces. The file is cut into runs of
//! whole top-level entries (`stores::yaml::pieces` says where a cut cannot
//! change how the file reads). Each piece is parsed, encrypted, spliced and
//! read back on its own, on all cores, and written out in order; the MAC
//! runs over the pieces in order exactly as over the whole file, and the
//! `sops` block follows the last piece. Memory stays a small multiple of the
//! file instead of the dozens of times its whole tree and its five-times
//! larger encryption take, and the work is shared between cores.
//!
//! A piece that the lossless splice cannot write exactly (one that would
//! need a layout hint or the canonical layout) stops this path; the caller
//! encrypts the whole file instead.
//!
//! Decryption goes the same way: the pieces of an encrypted file (its
//! `sops` entry in the last one) are decrypted and read back on their own,
//! the MAC over all of them is checked, and only then is the plaintext
//! (a fraction of the encrypted file's size) given out. Anything unusual (a
//! layout hint, a comment that does not decrypt, a piece that does not
//! read back) leaves the file to the whole-file path, which reports it.

use std::io::{Seek, Write};
use std::ops::Range;

use crate::cipher::{DataKey, Stash};
use crate::error::{Error, Result};
use crate::keys;
use crate::metadata::{Metadata, Rules};
use crate::ops::{self, EncryptOptions, OpenOptions};
use crate::readback;
use crate::stores::{self, Format};
use crate::timefmt;
use crate::tree::{self, RunningMac};

/// Plaintext YAML at least this large is encrypted in pieces.
pub const MIN_BYTES: usize = 256 << 10;

/// Pieces are about this large: enough to keep every core busy with few
/// pieces in memory at once.
fn piece_bytes(len: usize, threads: usize) -> usize {
    (len / (threads * 8)).clamp(16 << 10, 128 << 10)
}

/// One piece, encrypted and read back.
struct Sealed {
    out: Vec<u8>,
    /// Where the `sops` block would go in `out`.
    block_at: usize,
    mac_input: tree::MacInput,
    values: usize,
    encrypted: usize,
    /// Raised on the worker's thread, for the caller's.
    warnings: Vec<String>,
}

/// Encrypts the YAML file `src` into `out` (from its start, truncated
/// first) in pieces of about `piece` bytes (or a size of its own choice).
/// `Ok(false)` when the file is not one to cut, or a piece cannot be
/// written losslessly: then `out` is left empty and the caller encrypts the
/// whole file.
pub fn encrypt(
    src: &[u8],
    opts: &EncryptOptions,
    piece: Option<usize>,
    out: &mut std::fs::File,
) -> Result<bool> {
    encrypt_keyed(src, opts, piece, out, &mut None)
}

/// [`encrypt`], with the data key and metadata left in `made` (made there
/// if `None`): when the file falls back to the whole-file path, that path
/// uses them, so the key is not wrapped twice (a second KMS call).
pub(crate) fn encrypt_keyed(
    src: &[u8],
    opts: &EncryptOptions,
    piece: Option<usize>,
    out: &mut std::fs::File,
    made: &mut Option<(DataKey, Metadata)>,
) -> Result<bool> {
    let Some((text, ranges)) = cut(src, piece, false) else {
        return Ok(false);
    };
    if made.is_none() {
        *made = Some(ops::new_key(opts)?);
    }
    let (key, meta) = made.as_ref().expect("made above");
    let mut meta = meta.clone();
    let rules = meta.rules()?;
    meta.lastmodified = timefmt::now_rfc3339();
    // Each piece is written and read back with a stand-in MAC, then its
    // `sops` block is cut out again: the real MAC is known at the end.
    meta.mac = tree::encrypt_mac(&"0".repeat(128), key, &meta.lastmodified);
    let block = stores::yaml::sops_block(&meta.to_value());

    let reset = |out: &mut std::fs::File| -> Result<bool> {
        out.set_len(0).map_err(Error::Spool)?;
        out.rewind().map_err(Error::Spool)?;
        Ok(false)
    };
    reset(out)?;
    let mut mac = RunningMac::new(&rules);
    let (mut values, mut encrypted) = (0, 0);
    let mut last = None;
    for batch in ranges.chunks(threads()) {
        let sealed = on_threads(batch, |r| {
            seal(&text[r.clone()], &rules, key, &meta, &block)
        });
        for s in sealed {
            let Some(s) = s? else {
                return reset(out);
            };
            mac.update(&s.mac_input);
            s.warnings.iter().for_each(|w| crate::warn::warn(w.clone()));
            values += s.values;
            encrypted += s.encrypted;
            if let Some(prev) = last.replace(s) {
                write_piece(out, &prev.out)?;
            }
        }
    }
    let last = last.expect("at least two pieces");
    if values > 0 && encrypted == 0 {
        ops::warn_nothing_encrypted(values);
    }
    meta.mac = tree::encrypt_mac(&mac.finish(), key, &meta.lastmodified);
    let real = stores::yaml::sops_block(&meta.to_value());
    write_piece(out, &last.out[..last.block_at])?;
    write_piece(out, real.as_bytes())?;
    write_piece(out, &last.out[last.block_at..])?;
    out.flush().map_err(Error::Spool)?;
    Ok(true)
}

fn write_piece(out: &mut std::fs::File, bytes: &[u8]) -> Result<()> {
    out.write_all(bytes).map_err(Error::Spool)
}

fn threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8)
}

/// `src` as text and its pieces, if it is a file to cut (see
/// `stores::yaml::pieces`).
fn cut(src: &[u8], piece: Option<usize>, encrypted: bool) -> Option<(&str, Vec<Range<usize>>)> {
    let text = std::str::from_utf8(src).ok()?;
    let piece = piece.unwrap_or_else(|| piece_bytes(src.len(), threads()));
    let ranges = stores::yaml::cut_pieces(text, piece, encrypted)?;
    Some((text, ranges))
}

/// `f` of each piece of `batch` at once, one thread each, in order.
fn on_threads<R: Send>(batch: &[Range<usize>], f: impl Fn(&Range<usize>) -> R + Sync) -> Vec<R> {
    if batch.len() == 1 {
        return vec![f(&batch[0])];
    }
    std::thread::scope(|s| {
        let f = &f;
        let handles: Vec<_> = batch.iter().map(|r| s.spawn(move || f(r))).collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("piece worker panicked"))
            .collect()
    })
}

/// Encrypts one piece and reads it back as a file of its own, `sops` block
/// included; `None` if it cannot be written losslessly.
fn seal(
    piece: &str,
    rules: &Rules,
    key: &DataKey,
    meta: &Metadata,
    block: &str,
) -> Result<Option<Sealed>> {
    let doc = stores::parse(Format::Yaml, piece.as_bytes())?;
    if doc.metadata().is_some() {
        return Err(Error::AlreadyEncrypted);
    }
    let (tokens, mac_input) = tree::encrypt_for_running_mac(doc.tree(), rules, key)?;
    let (values, encrypted) = ops::value_counts(doc.tree(), &tokens);
    let mut meta = meta.clone();
    let Ok(out) = ops::seal_checked(
        doc.as_ref(),
        &tokens,
        piece.as_bytes(),
        Format::Yaml,
        &mut meta,
        key,
        &Stash::default(),
    ) else {
        return Ok(None);
    };
    if meta.layout.is_some() {
        return Ok(None);
    }
    // The block, at the start of a line, once.
    let Some(block_at) = find_block(&out, block.as_bytes()) else {
        return Ok(None);
    };
    let mut out = out;
    out.drain(block_at..block_at + block.len());
    Ok(Some(Sealed {
        out,
        block_at,
        mac_input,
        values,
        encrypted,
        warnings: crate::warn::take(),
    }))
}

fn find_block(out: &[u8], block: &[u8]) -> Option<usize> {
    let mut found =
        memchr::memmem::find_iter(out, block).filter(|at| *at == 0 || out[at - 1] == b'\n');
    let at = found.next()?;
    found.next().is_none().then_some(at)
}

/// Decrypts the YAML file `src` in pieces (of about `piece` bytes, or a
/// size of its own choice): its plaintext, read back and with the MAC
/// checked (unless `opts` says to ignore it). `Ok(None)` when the file is
/// not one to cut or something in it needs the whole-file path.
pub fn decrypt(
    src: &[u8],
    opts: &OpenOptions,
    piece: Option<usize>,
) -> Result<Option<zeroize::Zeroizing<Vec<u8>>>> {
    let Some((text, ranges)) = cut(src, piece, true) else {
        return Ok(None);
    };
    let last = ranges.last().expect("at least two pieces").clone();
    let Ok(tail) = stores::parse(Format::Yaml, text[last].as_bytes()) else {
        return Ok(None);
    };
    let Ok(meta) = ops::metadata_of(tail.as_ref()) else {
        return Ok(None);
    };
    drop(tail);
    if meta.layout.is_some() {
        return Ok(None);
    }
    let key = keys::unwrap_data_key(&meta, &opts.decryption_order, &opts.keys)?;
    let rules = meta.rules()?;
    let mut mac = RunningMac::new(&rules);
    let mut out = zeroize::Zeroizing::new(Vec::with_capacity(src.len() / 2));
    for batch in ranges.chunks(threads()) {
        for o in on_threads(batch, |r| open(&text[r.clone()], &rules, &key)) {
            let Some((plain, input)) = o else {
                return Ok(None);
            };
            mac.update(&input);
            // (A plaintext can be larger than its encryption: a block scalar's
            // indentation is not encrypted.)
            tree::append_wiping(&mut out, &plain);
        }
    }
    if !opts.ignore_mac {
        tree::verify_mac(
            &meta.mac,
            &mac.finish(),
            &key,
            &ops::mac_ad(&meta.lastmodified),
        )?;
    }
    Ok(Some(out))
}

/// Decrypts one piece and reads its plaintext back; `None` if anything in
/// it is left to the whole-file path.
fn open(
    piece: &str,
    rules: &Rules,
    key: &DataKey,
) -> Option<(zeroize::Zeroizing<Vec<u8>>, tree::MacInput)> {
    let doc = stores::parse(Format::Yaml, piece.as_bytes()).ok()?;
    let (dec, input) = tree::decrypt_for_running_mac(doc.tree(), rules, key).ok()?;
    if !dec.undecrypted_comments.is_empty() {
        return None;
    }
    let plain = zeroize::Zeroizing::new(doc.emit_plain(&dec.plains).ok()?);
    let re = stores::parse(Format::Yaml, &plain).ok()?;
    readback::compare(
        &readback::View::with(doc.tree(), &dec.plains),
        &readback::View::of(re.tree()),
        stores::comment_check(Format::Yaml),
    )
    .ok()?;
    Some((plain, input))
}
