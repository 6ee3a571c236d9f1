//! The operations the commands are made of, on bytes and files.

use std::path::Path;

use serde_json::Value;
use zeroize::Zeroizing;

use crate::cipher::{DataKey, Stash};
use crate::error::{Error, Result};
use crate::keyring::KeyRing;
use crate::keys;
use crate::layout;
use crate::metadata::{KeyGroup, MasterKey, Metadata, RuleStrings};
use crate::readback;
use crate::stores::{self, Document, Format, PathElem};
use crate::timefmt;
use crate::tree::{self, Decrypted};

/// What a new encrypted file gets: recipients and rules.
#[derive(Debug, Clone)]
pub struct EncryptOptions {
    pub key_groups: Vec<KeyGroup>,
    pub shamir_threshold: usize,
    pub rules: RuleStrings,
    /// What wrapping the data key may use: gpg for PGP recipients, the
    /// cloud key services, and the variables both read.
    pub keys: KeyRing,
}

impl Default for EncryptOptions {
    /// What the command line does: no recipient yet, no rule, gpg and the
    /// cloud key services allowed, with the process environment.
    fn default() -> EncryptOptions {
        EncryptOptions {
            key_groups: Vec::new(),
            shamir_threshold: 0,
            rules: RuleStrings::default(),
            keys: KeyRing::from_env(),
        }
    }
}

/// Encrypts a plaintext file's bytes.
pub fn encrypt(src: &[u8], format: Format, opts: &EncryptOptions) -> Result<Vec<u8>> {
    encrypt_keyed(src, format, opts, None)
}

/// [`encrypt`] with the data key and metadata already `made` (by the
/// pieces path, which fell back to this one), else new ones.
fn encrypt_keyed(
    src: &[u8],
    format: Format,
    opts: &EncryptOptions,
    made: Option<(DataKey, Metadata)>,
) -> Result<Vec<u8>> {
    if format == Format::Binary && opts.rules.is_set() {
        // sops ignores selection rules for binary files: the one value is
        // always encrypted (the CLI warns).
        let opts = EncryptOptions {
            rules: RuleStrings::default(),
            ..opts.clone()
        };
        return encrypt_keyed(src, format, &opts, made);
    }
    let doc = stores::parse(format, src)?;
    if doc.metadata().is_some() {
        return Err(Error::AlreadyEncrypted);
    }
    doc.encryptable()?;
    let (key, meta) = match made {
        Some(made) => made,
        None => new_key(opts)?,
    };
    seal(doc.as_ref(), src, format, meta, &key, &Stash::default())
}

/// A new data key, wrapped for the recipients of `opts`, and the metadata
/// of a new file.
pub(crate) fn new_key(opts: &EncryptOptions) -> Result<(DataKey, Metadata)> {
    if opts.key_groups.iter().all(|g| g.is_empty()) {
        return Err(Error::NoKeys);
    }
    let key = DataKey::generate();
    let mut groups = opts.key_groups.clone();
    keys::wrap_all(&mut groups, &key, opts.shamir_threshold, &opts.keys)?;
    let meta = Metadata::new(
        groups,
        opts.shamir_threshold,
        &opts.rules.clone().normalized()?,
    );
    Ok((key, meta))
}

/// Whether a `format` file of `len` bytes may be encrypted or decrypted in
/// pieces ([`encrypt_to_file`], [`decrypt_in_pieces`]): then an encryption
/// is best spooled to a file, not held in memory.
pub fn uses_pieces(format: Format, len: usize) -> bool {
    format == Format::Yaml && len >= crate::pieces::MIN_BYTES
}

/// [`encrypt`] into `out`, truncated first. Large YAML files are encrypted
/// in pieces of whole top-level entries, each read back before it is
/// written (see [`crate::pieces`]), so that neither the file's whole tree
/// nor its whole encryption is held in memory.
pub fn encrypt_to_file(
    src: &[u8],
    format: Format,
    opts: &EncryptOptions,
    out: &mut std::fs::File,
) -> Result<()> {
    use std::io::{Seek, Write};
    let mut made = None;
    if uses_pieces(format, src.len())
        && crate::pieces::encrypt_keyed(src, opts, None, out, &mut made)?
    {
        return Ok(());
    }
    let bytes = encrypt_keyed(src, format, opts, made)?;
    out.set_len(0)
        .and_then(|_| out.rewind())
        .and_then(|_| out.write_all(&bytes))
        .and_then(|_| out.flush())
        .map_err(Error::Spool)
}

/// Encrypts a plaintext file into another format (`--output-type`): not
/// lossless, as the layout cannot cross formats.
pub fn encrypt_as(
    src: &[u8],
    input: Format,
    output: Format,
    opts: &EncryptOptions,
) -> Result<Vec<u8>> {
    let doc = stores::parse(input, src)?;
    if doc.metadata().is_some() {
        return Err(Error::AlreadyEncrypted);
    }
    doc.encryptable()?;
    let (key, mut meta) = new_key(opts)?;
    let enc = tree::encrypt(doc.tree(), &meta.rules()?, &key, &Stash::default())?;
    warn_if_nothing_encrypted(doc.tree(), &enc.tokens);
    meta.lastmodified = timefmt::now_rfc3339();
    meta.mac = tree::encrypt_mac(&enc.mac, &key, &meta.lastmodified);
    crate::convert::encrypted_as(doc.tree(), &enc.tokens, &meta.to_value(), output)
}

/// A file whose rules encrypt none of its values is written with every
/// secret in clear: almost always a mistake in `encrypted_regex` and the
/// like, so say so (sops says nothing).
fn warn_if_nothing_encrypted(tree: &tree::Tree, tokens: &[(usize, String)]) {
    let (values, encrypted) = value_counts(tree, tokens);
    if values > 0 && encrypted == 0 {
        warn_nothing_encrypted(values);
    }
}

/// How many leaves of `tree` hold a value (not a comment, not empty), and
/// how many of those `tokens` encrypt.
pub(crate) fn value_counts(tree: &tree::Tree, tokens: &[(usize, String)]) -> (usize, usize) {
    let is_value = |id: usize| {
        let l = &tree.leaves[id];
        l.kind != crate::value::Kind::Comment && !l.text.is_empty()
    };
    let values = (0..tree.leaves.len()).filter(|id| is_value(*id)).count();
    let encrypted = tokens.iter().filter(|(id, _)| is_value(*id)).count();
    (values, encrypted)
}

pub(crate) fn warn_nothing_encrypted(values: usize) {
    crate::warn::warn(format!(
        "no value was encrypted: the selection rules (encrypted_regex, unencrypted_suffix, …) match none of the file's {values} value(s), so all of them are written in clear"
    ));
}

/// Encrypts a parsed plaintext document (`doc`, parsed from `src`) with a
/// known data key, writing a fresh MAC and `lastmodified`.
///
/// The result is read back before it is returned: it must parse, hold the
/// metadata and every token where it was meant to go, and decrypt to the
/// data of `src`. Where the decrypted layout would differ from `src`, an
/// encrypted layout hint makes sopx's decryption byte-exact. Where the
/// lossless splice cannot represent the file at all, the file is written
/// in a canonical layout instead (with a warning), still with the hint.
pub fn seal(
    doc: &dyn Document,
    src: &[u8],
    format: Format,
    meta: Metadata,
    key: &DataKey,
    stash: &Stash,
) -> Result<Vec<u8>> {
    seal_stamped(doc, src, format, meta, key, stash, timefmt::now_rfc3339())
}

/// [`seal`] with a given `lastmodified`.
fn seal_stamped(
    doc: &dyn Document,
    src: &[u8],
    format: Format,
    mut meta: Metadata,
    key: &DataKey,
    stash: &Stash,
    lastmodified: String,
) -> Result<Vec<u8>> {
    let rules = meta.rules()?;
    let enc = tree::encrypt(doc.tree(), &rules, key, stash)?;
    warn_if_nothing_encrypted(doc.tree(), &enc.tokens);
    meta.lastmodified = lastmodified;
    meta.mac = tree::encrypt_mac(&enc.mac, key, &meta.lastmodified);
    let reason = match seal_checked(doc, &enc.tokens, src, format, &mut meta, key, stash) {
        Ok(out) => return Ok(out),
        Err(reason) => reason,
    };
    // The canonical layout: the same data (and comments) written afresh.
    let canon = stores::canonical(format, doc.tree())?;
    let cdoc = stores::parse(format, &canon)?;
    // Only YAML's canonical writer keeps comments.
    let comments = match format {
        Format::Yaml => stores::comment_check(format),
        _ => readback::Comments::Ignored,
    };
    readback::compare(
        &readback::View::of(doc.tree()),
        &readback::View::of(cdoc.tree()),
        comments,
    )
    .map_err(|e| Error::ReadBack(format!("the canonical layout differs at {e}")))?;
    stash.rewind();
    let cenc = tree::encrypt(cdoc.tree(), &rules, key, stash)?;
    meta.mac = tree::encrypt_mac(&cenc.mac, key, &meta.lastmodified);
    let out = seal_checked(
        cdoc.as_ref(),
        &cenc.tokens,
        src,
        format,
        &mut meta,
        key,
        stash,
    )
    .map_err(|r| Error::ReadBack(r.to_string()))?;
    crate::warn::warn(format!(
        "the file's layout could not be kept ({reason}); it is written in sops's canonical layout, and `sopx decrypt` still gives back the original bytes"
    ));
    Ok(out)
}

/// Why an output does not read back as what it must hold: a reason for the
/// canonical fallback or a read-back error, never quoting a value.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Unreadable {
    #[error("{0}")]
    Emit(Box<Error>),
    #[error("the encrypted file does not parse: {0}")]
    EncryptedParse(Box<Error>),
    #[error("the encrypted file has no sops metadata")]
    NoMetadata,
    #[error("its metadata does not read back")]
    Metadata,
    #[error("the encrypted file differs at {0}")]
    EncryptedDiffers(readback::Mismatch),
    #[error("the encrypted file does not decrypt: {0}")]
    NoDecryption(Box<Error>),
    #[error("its decryption does not parse: {0}")]
    DecryptionParse(Box<Error>),
    #[error("its decryption differs at {0}")]
    DecryptionDiffers(readback::Mismatch),
    /// Decryption's own output (`Opened::plaintext`).
    #[error("(it does not parse: {0})")]
    PlainParse(Box<Error>),
    #[error("{0}")]
    PlainDiffers(readback::Mismatch),
}

/// Splices the tokens in, then reads the result back (see [`seal`]).
/// Errors are reasons for the canonical fallback.
pub(crate) fn seal_checked(
    doc: &dyn Document,
    tokens: &[(usize, String)],
    src: &[u8],
    format: Format,
    meta: &mut Metadata,
    key: &DataKey,
    stash: &Stash,
) -> std::result::Result<Vec<u8>, Unreadable> {
    meta.layout = None;
    let out = doc
        .emit_encrypted(tokens, &meta.to_value())
        .map_err(|e| Unreadable::Emit(Box::new(e)))?;
    let re = check_encrypted(doc, tokens, &out, format, meta)?;
    // What decryption will write, before any hint.
    // Decryption writes back the leaves that hold tokens; the others stay
    // as they are in the encrypted file.
    let mut encrypted = vec![false; doc.tree().leaves.len()];
    for (i, _) in tokens {
        encrypted[*i] = true;
    }
    let expected: Vec<(usize, crate::value::Plain)> = re
        .pairs
        .iter()
        .filter(|(a, _)| encrypted[*a])
        .map(|(a, b)| (*b, doc.tree().leaves[*a].clone()))
        .collect();
    let plain = Zeroizing::new(
        re.doc
            .emit_plain(&expected)
            .map_err(|e| Unreadable::NoDecryption(Box::new(e)))?,
    );
    if plain.as_slice() == src {
        return Ok(out);
    }
    let pdoc =
        stores::parse(format, &plain).map_err(|e| Unreadable::DecryptionParse(Box::new(e)))?;
    readback::compare(
        &readback::View::of(doc.tree()),
        &readback::View::of(pdoc.tree()),
        stores::comment_check(format),
    )
    .map_err(Unreadable::DecryptionDiffers)?;
    let patch = Zeroizing::new(layout::diff(&plain, src));
    meta.layout = Some(layout::seal(patch.to_vec(), key, stash));
    let out = doc
        .emit_encrypted(tokens, &meta.to_value())
        .map_err(|e| Unreadable::Emit(Box::new(e)))?;
    check_encrypted(doc, tokens, &out, format, meta)?;
    Ok(out)
}

/// What must survive a write of the metadata: the keys, the MAC, the time
/// and the hint. (Stores may leave out fields sops ignores for them, such
/// as the selection rules of binary files.)
fn same_metadata(got: &Metadata, meant: &Metadata) -> bool {
    let essentials = |m: &Metadata| {
        let mut v = m.clone();
        v.rules = Default::default();
        v.version = String::new();
        v.lastmodified = mac_ad(&m.lastmodified);
        v.to_value()
    };
    essentials(got) == essentials(meant)
}

struct ReadBack {
    doc: Box<dyn Document>,
    /// (leaf in the plaintext document, leaf in the encrypted one)
    pairs: Vec<(usize, usize)>,
}

/// Parses an encrypted output: its metadata must be `meta` and its tree the
/// plaintext tree with each token in its leaf's place.
fn check_encrypted(
    doc: &dyn Document,
    tokens: &[(usize, String)],
    out: &[u8],
    format: Format,
    meta: &Metadata,
) -> std::result::Result<ReadBack, Unreadable> {
    let re = stores::parse(format, out).map_err(|e| Unreadable::EncryptedParse(Box::new(e)))?;
    let got = re
        .metadata()
        .ok_or(Unreadable::NoMetadata)
        .and_then(|v| Metadata::from_value(v).map_err(|_| Unreadable::Metadata))?;
    if !same_metadata(&got, meta) {
        return Err(Unreadable::Metadata);
    }
    let tree = doc.tree();
    let toks: Vec<(usize, crate::value::Plain)> = tokens
        .iter()
        .map(|(i, t)| {
            let kind = match tree.leaves[*i].kind {
                crate::value::Kind::Comment => crate::value::Kind::Comment,
                _ => crate::value::Kind::Str,
            };
            (*i, crate::value::Plain::new(kind, t.as_bytes()))
        })
        .collect();
    // Where sops reads the format, an encrypted comment must stay where it
    // was: its additional data depends on its place.
    let comments = match format {
        Format::Yaml | Format::Dotenv | Format::Ini => readback::Comments::Placed,
        // TOML comments are sopx's own (sops has no TOML store): their
        // text is checked when the file is decrypted.
        _ => readback::Comments::Ignored,
    };
    let pairs = readback::compare(
        &readback::View::with(tree, &toks),
        &readback::View::of(re.tree()),
        comments,
    )
    .map_err(Unreadable::EncryptedDiffers)?;
    Ok(ReadBack { doc: re, pairs })
}

/// An encrypted file, opened: its data key, decrypted leaves and the IVs
/// needed to re-encrypt unchanged values identically.
pub struct Opened {
    pub doc: Box<dyn Document>,
    /// The format the plaintext is written in.
    pub format: Format,
    pub meta: Metadata,
    pub(crate) key: DataKey,
    pub decrypted: Decrypted,
    pub stash: Stash,
    /// The decrypted layout hint, if the file has one.
    layout: Option<crate::value::Plain>,
    /// The keys it was opened with: `rekey` and `rotate` wrap with them.
    pub(crate) keys: KeyRing,
}

impl Opened {
    /// The plaintext file, in the same format and layout (wiped on drop).
    /// It is read back first and must hold exactly the decrypted data; the
    /// file's layout hint, if any, is applied only when the result still
    /// does.
    pub fn plaintext(&self) -> Result<Zeroizing<Vec<u8>>> {
        let plain = Zeroizing::new(self.doc.emit_plain(&self.decrypted.plains)?);
        if let Some(patch) = &self.layout {
            match layout::apply(&patch.text, &plain).map(Zeroizing::new) {
                Some(exact) if self.check_plain(&exact).is_ok() => return Ok(exact),
                _ => crate::warn::warn(
                    "the file's layout hint (`sopx_layout`) does not match its values (the file was changed by another tool, or the hint was tampered with); writing the decrypted values in the encrypted file's layout".into(),
                ),
            }
        }
        self.check_plain(&plain)
            .map_err(|e| Error::ReadBack(format!("the decrypted output differs at {e}")))?;
        Ok(plain)
    }

    fn check_plain(&self, plain: &[u8]) -> std::result::Result<(), Unreadable> {
        let re =
            stores::parse(self.format, plain).map_err(|e| Unreadable::PlainParse(Box::new(e)))?;
        readback::compare(
            &readback::View::with(self.doc.tree(), &self.decrypted.plains),
            &readback::View::of(re.tree()),
            stores::comment_check(self.format),
        )
        .map(|_| ())
        .map_err(Unreadable::PlainDiffers)
    }
}

/// The additional data sops uses for the MAC: `lastmodified` as Go formats
/// it after parsing.
pub(crate) fn mac_ad(lastmodified: &str) -> String {
    timefmt::normalize_rfc3339(lastmodified).unwrap_or_else(|| lastmodified.to_string())
}

/// Reads the metadata of an encrypted file.
pub fn metadata_of(doc: &dyn Document) -> Result<Metadata> {
    let v = doc.metadata().ok_or(Error::MetadataNotFound)?;
    Metadata::from_value(v)
}

/// How to open an encrypted file.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// Decrypt even if the MAC does not match.
    pub ignore_mac: bool,
    /// Key kinds to try first (`--decryption-order`); empty: age, then pgp.
    pub decryption_order: Vec<String>,
    /// The keys that may be used.
    pub keys: KeyRing,
}

impl Default for OpenOptions {
    /// What the command line does: MAC checked, sops's order, keys from the
    /// environment.
    fn default() -> OpenOptions {
        OpenOptions {
            ignore_mac: false,
            decryption_order: Vec::new(),
            keys: KeyRing::from_env(),
        }
    }
}

/// The plaintext of a large YAML file, as [`Opened::plaintext`] gives it,
/// decrypted in pieces (see [`crate::pieces`]) so that its whole tree is
/// never held in memory; `None` for a file that is not decrypted that way.
pub fn decrypt_in_pieces(
    src: &[u8],
    format: Format,
    opts: &OpenOptions,
) -> Result<Option<Zeroizing<Vec<u8>>>> {
    if !uses_pieces(format, src.len()) {
        return Ok(None);
    }
    crate::pieces::decrypt(src, opts, None)
}

/// Opens an encrypted file: recovers the data key, decrypts, checks the MAC.
pub fn open(src: &[u8], format: Format, opts: &OpenOptions) -> Result<Opened> {
    open_with(src, format, opts, Stash::default())
}

/// Opens an encrypted file that will be written back: remembers IVs so that
/// unchanged values keep their ciphertext.
pub fn open_for_update(src: &[u8], format: Format, opts: &OpenOptions) -> Result<Opened> {
    open_with(src, format, opts, Stash::recording())
}

fn open_with(src: &[u8], format: Format, opts: &OpenOptions, mut stash: Stash) -> Result<Opened> {
    let doc = stores::parse(format, src)?;
    let meta = metadata_of(doc.as_ref())?;
    let key = keys::unwrap_data_key(&meta, &opts.decryption_order, &opts.keys)?;
    let rules = meta.rules()?;
    let decrypted = tree::decrypt(doc.tree(), &rules, &key, &mut stash)?;
    warn_undecrypted_comments(src, doc.tree(), &decrypted.undecrypted_comments);
    if !opts.ignore_mac {
        tree::verify_mac(&meta.mac, &decrypted.mac, &key, &mac_ad(&meta.lastmodified))?;
    }
    // The hint is not covered by the MAC: one that does not decrypt is
    // ignored, like one that does not fit.
    let layout = meta.layout.as_ref().and_then(|t| {
        layout::open(t, &key, &mut stash)
            .map_err(|e| crate::warn::warn(e.to_string()))
            .ok()
    });
    let format = doc.actual_format().unwrap_or(format);
    Ok(Opened {
        doc,
        format,
        layout,
        meta,
        key,
        decrypted,
        stash,
        keys: opts.keys.clone(),
    })
}

/// An encrypted comment that does not decrypt was changed (or moved) after
/// encryption: the MAC does not cover comments, so this is the only sign of
/// tampering. sops warns too ("possibly unencrypted comment").
fn warn_undecrypted_comments(src: &[u8], tree: &tree::Tree, ids: &[usize]) {
    if ids.len() > 20 {
        crate::warn::warn(format!(
            "{} more encrypted comments do not decrypt (possible tampering)",
            ids.len() - 20
        ));
    }
    for id in ids.iter().take(20) {
        let token = &tree.leaves[*id].text;
        let line = src
            .windows(token.len().max(1))
            .position(|w| w == token.as_slice())
            .map(|at| src[..at].iter().filter(|b| **b == b'\n').count() + 1);
        let at = line.map_or(String::new(), |l| format!("line {l}: "));
        crate::warn::warn(format!(
            "{at}an encrypted comment does not decrypt: it was changed or moved after encryption (possible tampering; comments are not covered by the MAC); it is left as it is"
        ));
    }
}

/// Re-encrypts edited plaintext with the opened file's key and settings.
/// Values that did not change keep their ciphertext.
pub fn reseal(opened: &Opened, plaintext: &[u8], format: Format) -> Result<Vec<u8>> {
    let format = opened.doc.actual_format().unwrap_or(format);
    let doc = stores::parse(format, plaintext)?;
    if doc.metadata().is_some() {
        return Err(Error::Edit(
            "the edited file contains a top-level `sops` entry; remove it (sopx adds the metadata itself)".into(),
        ));
    }
    seal(
        doc.as_ref(),
        plaintext,
        format,
        opened.meta.clone(),
        &opened.key,
        &opened.stash,
    )
}

/// Sets the value at `path` in an encrypted file.
pub fn set(opened: &Opened, format: Format, path: &[PathElem], value: &Value) -> Result<Vec<u8>> {
    let plain = stores::parse(
        opened.doc.actual_format().unwrap_or(format),
        &opened.plaintext()?,
    )?;
    let edited = plain.set(path, value)?;
    reseal(opened, &edited, format)
}

/// Removes the entry at `path` from an encrypted file.
pub fn unset(opened: &Opened, format: Format, path: &[PathElem]) -> Result<Vec<u8>> {
    let plain = stores::parse(
        opened.doc.actual_format().unwrap_or(format),
        &opened.plaintext()?,
    )?;
    let edited = plain.unset(path)?;
    reseal(opened, &edited, format)
}

/// What a three-way merge of encrypted files produced.
pub struct Merged {
    /// The merged file, encrypted with the ours side's data key.
    pub bytes: Vec<u8>,
    /// Paths both sides changed differently (the ours value is kept, the
    /// theirs value follows it as an encrypted comment where the format has
    /// comments).
    pub conflicts: Vec<String>,
}

/// Merges two encrypted versions of a file changed from `base` (a git merge
/// driver), value by value on the plaintexts: layout and comments of ours
/// survive, unchanged values keep their ciphertext from the side they came
/// from, recipients added on either side are kept, and `lastmodified` is
/// the later of the two. Both sides must share the data key: after a
/// rotation on one side there is nothing sound to merge automatically.
pub fn merge(base: &Opened, ours: &Opened, theirs: &Opened) -> Result<Merged> {
    use subtle::ConstantTimeEq;
    if !bool::from(ours.key.as_bytes().ct_eq(theirs.key.as_bytes())) {
        return Err(Error::Merge(
            "the two sides have different data keys (one of them was rotated); merge by hand with `sopx edit`, or rotate after merging".into(),
        ));
    }
    let format = ours.format;
    let mut meta = ours.meta.clone();
    if meta.key_groups.len() != theirs.meta.key_groups.len() {
        return Err(Error::Merge(
            "the two sides have different key groups; merge the recipients by hand with `sopx groups`".into(),
        ));
    }
    for (g, tg) in meta.key_groups.iter_mut().zip(&theirs.meta.key_groups) {
        for k in tg {
            if !g.iter().any(|m| same_key(m, k)) {
                g.push(k.clone());
            }
        }
    }
    let (pb, po, pt) = (base.plaintext()?, ours.plaintext()?, theirs.plaintext()?);
    let note = |ls: &[&[u8]]| -> Vec<u8> {
        if format == Format::Json {
            return Vec::new();
        }
        let mut out = Vec::new();
        for l in ls {
            out.extend_from_slice(b"# sopx merge conflict, theirs: ");
            out.extend_from_slice(l.strip_suffix(b"\n").unwrap_or(l));
            out.push(b'\n');
        }
        out
    };
    let m = crate::merge::merge3(&pb, &po, &pt, note);
    let merged = zeroize::Zeroizing::new(m.text);
    let mut conflicts = Vec::new();
    if m.conflicts > 0 {
        let docs = |o: &Opened| {
            crate::convert::documents(o)
                .into_iter()
                .next()
                .unwrap_or_default()
        };
        conflicts = crate::merge::conflicting_paths(&docs(base), &docs(ours), &docs(theirs));
        if conflicts.is_empty() {
            conflicts.push(format!(
                "{} hunk(s) of lines next to each other",
                m.conflicts
            ));
        }
    }
    let doc = stores::parse(format, &merged).map_err(|e| {
        Error::Merge(format!(
            "the merged plaintext does not parse ({e}); merge by hand with `sopx edit`"
        ))
    })?;
    let mut stash = Stash::recording();
    stash.absorb(&ours.stash);
    stash.absorb(&theirs.stash);
    let later =
        |a: &str, b: &str| match (timefmt::normalize_rfc3339(a), timefmt::normalize_rfc3339(b)) {
            (Some(x), Some(y)) if y > x => b.to_string(),
            _ => a.to_string(),
        };
    let stamp = later(&ours.meta.lastmodified, &theirs.meta.lastmodified);
    let bytes = seal_stamped(
        doc.as_ref(),
        &merged,
        format,
        meta,
        &ours.key,
        &stash,
        stamp,
    )?;
    Ok(Merged { bytes, conflicts })
}

/// Splits sops's legacy `--set` argument, `["key"][0] VALUE`, into the
/// tree path and the (JSON) value text.
pub fn split_set_argument(arg: &str) -> Result<(&str, &str)> {
    let bad = || {
        Error::TreePath(
            "--set needs a path and a JSON value separated by a space, e.g. '[\"key\"] \"value\"'"
                .to_string(),
        )
    };
    let s = arg.trim_start();
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c.is_whitespace() => {
                let value = s[i..].trim();
                return if i == 0 || value.is_empty() {
                    Err(bad())
                } else {
                    Ok((&s[..i], value))
                };
            }
            None => {}
        }
    }
    Err(bad())
}

/// An encrypted file written in another format, values, order and
/// metadata kept (the MAC does not depend on the format): what
/// `set --output-type` writes back.
pub fn convert_encrypted(src: &[u8], input: Format, output: Format) -> Result<Vec<u8>> {
    let doc = stores::parse(input, src)?;
    let meta = doc.metadata().cloned().ok_or(Error::MetadataNotFound)?;
    let mut docs = crate::convert::plain_documents(doc.tree());
    for d in &mut docs {
        if let serde_json::Value::Object(m) = d {
            m.insert("sops".into(), meta.clone());
        }
    }
    crate::convert::emit(&docs, output)
}

/// Parses sops's tree-path syntax: `["key"][0]["other"]`.
pub fn parse_tree_path(s: &str) -> Result<Vec<PathElem>> {
    let bad = || Error::TreePath(s.to_string());
    let mut out = Vec::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        rest = rest.strip_prefix('[').ok_or_else(bad)?;
        if let Some(r) = rest.strip_prefix('"').or_else(|| rest.strip_prefix('\'')) {
            let q = rest.as_bytes()[0] as char;
            let mut key = String::new();
            let mut chars = r.char_indices();
            let end = loop {
                match chars.next() {
                    None => return Err(bad()),
                    Some((_, '\\')) => match chars.next() {
                        Some((_, c)) => key.push(c),
                        None => return Err(bad()),
                    },
                    Some((i, c)) if c == q => break i,
                    Some((_, c)) => key.push(c),
                }
            };
            rest = r[end + 1..].strip_prefix(']').ok_or_else(bad)?;
            out.push(PathElem::Key(key));
        } else {
            let end = rest.find(']').ok_or_else(bad)?;
            let idx = rest[..end].trim().parse::<usize>().map_err(|_| bad())?;
            out.push(PathElem::Index(idx));
            rest = &rest[end + 1..];
        }
    }
    Ok(out)
}

/// Writes `data` to `path`: through symbolic links, keeping owner, group
/// and mode, atomically where the directory allows it (see [`crate::atomic`]).
pub fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    crate::atomic::write_file(path, data)
}

/// Does `a` name the same master key as `b` (same recipient, fingerprint,
/// ARN, resource…), whatever their wrapped data?
pub fn same_key(a: &MasterKey, b: &MasterKey) -> bool {
    let id = |k: &MasterKey| -> Vec<String> {
        match k {
            MasterKey::Age { recipient, .. } => vec!["age".into(), recipient.trim().to_string()],
            MasterKey::Pgp { fp, .. } => vec!["pgp".into(), fp.replace(' ', "").to_uppercase()],
            MasterKey::Remote(r) => {
                let mut v = vec![r.kind().to_string()];
                v.extend(r.identity());
                v
            }
        }
    };
    id(a) == id(b)
}

/// Writes new key groups for an opened file, keeping its data key, so every
/// value keeps its ciphertext: only the `sops` block changes. With one group
/// before and after, keys already present keep their wrapped key.
pub fn rekey(opened: &Opened, mut groups: Vec<KeyGroup>, threshold: usize) -> Result<Vec<u8>> {
    if groups.iter().all(|g| g.is_empty()) {
        return Err(Error::NoKeys);
    }
    let reuse = groups.len() == 1 && opened.meta.key_groups.len() == 1;
    let mut fresh: Vec<KeyGroup> = groups.iter().map(|_| Vec::new()).collect();
    if reuse {
        for k in groups[0].iter_mut() {
            match opened.meta.key_groups[0]
                .iter()
                .find(|old| same_key(old, k))
            {
                Some(old) => *k = old.clone(),
                None => fresh[0].push(k.clone()),
            }
        }
        if !fresh[0].is_empty() {
            keys::wrap_all(&mut fresh, &opened.key, 0, &opened.keys)?;
            for k in groups[0].iter_mut() {
                if let Some(new) = fresh[0].iter().find(|n| same_key(n, k)) {
                    *k = new.clone();
                }
            }
        }
    } else {
        keys::wrap_all(&mut groups, &opened.key, threshold, &opened.keys)?;
    }
    let mut meta = opened.meta.clone();
    meta.key_groups = groups;
    let n = meta.key_groups.len();
    // Like sops, write the threshold explicitly (all groups when unset).
    meta.shamir_threshold = match (n, threshold) {
        (1, _) => 0,
        (_, 0) => n,
        (_, t) => t,
    };
    let out = opened.doc.emit_encrypted(&[], &meta.to_value())?;
    // Only the metadata changed: it must read back, and the values with it.
    let re = stores::parse(opened.format, &out)?;
    let same_meta = re
        .metadata()
        .and_then(|v| Metadata::from_value(v).ok())
        .is_some_and(|m| m.to_value() == meta.to_value());
    readback::compare(
        &readback::View::of(opened.doc.tree()),
        &readback::View::of(re.tree()),
        readback::Comments::Placed,
    )
    .ok()
    .filter(|_| same_meta)
    .ok_or_else(|| Error::ReadBack("the re-keyed file does not read back".into()))?;
    Ok(out)
}

/// A new data key for an opened file: every value and every wrapped key
/// changes. `add` joins the first group; keys matching `remove` leave all
/// groups.
pub fn rotate(
    opened: &Opened,
    format: Format,
    add: &[MasterKey],
    remove: &[MasterKey],
) -> Result<Vec<u8>> {
    let mut meta = opened.meta.clone();
    for g in meta.key_groups.iter_mut() {
        g.retain(|k| !remove.iter().any(|r| same_key(r, k)));
    }
    if let Some(first) = meta.key_groups.first_mut() {
        for a in add {
            if !first.iter().any(|k| same_key(k, a)) {
                first.push(a.clone());
            }
        }
    }
    meta.key_groups.retain(|g| !g.is_empty());
    if meta.key_groups.is_empty() {
        return Err(Error::NoKeys);
    }
    let key = DataKey::generate();
    keys::wrap_all(
        &mut meta.key_groups,
        &key,
        meta.shamir_threshold,
        &opened.keys,
    )?;
    let format = opened.doc.actual_format().unwrap_or(format);
    let text = opened.plaintext()?;
    let plain = stores::parse(format, &text)?;
    seal(plain.as_ref(), &text, format, meta, &key, &Stash::default())
}

#[cfg(test)]
mod set_argument_tests {
    use super::*;

    #[test]
    fn splits_path_and_value() {
        assert_eq!(
            split_set_argument(r#"["a"] "aaa""#).unwrap(),
            (r#"["a"]"#, r#""aaa""#)
        );
        assert_eq!(
            split_set_argument(r#"["a b"][0]   {"x": 1}"#).unwrap(),
            (r#"["a b"][0]"#, r#"{"x": 1}"#)
        );
        assert!(split_set_argument(r#"["a"]"#).is_err());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_paths() {
        assert_eq!(
            parse_tree_path(r#"["a"][0]['b c']"#).unwrap(),
            vec![
                PathElem::Key("a".into()),
                PathElem::Index(0),
                PathElem::Key("b c".into())
            ]
        );
        assert!(parse_tree_path("a.b").is_err());
        assert!(parse_tree_path(r#"["a""#).is_err());
    }
}
