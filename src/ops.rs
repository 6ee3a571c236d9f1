//! The operations the commands are made of, on bytes and files.

use std::io::Write;
use std::path::Path;

use serde_json::Value;
use zeroize::Zeroizing;

use crate::cipher::{DataKey, Stash};
use crate::error::{Error, Result};
use crate::keys;
use crate::metadata::{KeyGroup, Metadata, RuleStrings};
use crate::stores::{self, Document, Format, PathElem};
use crate::timefmt;
use crate::tree::{self, Decrypted};

/// What a new encrypted file gets: recipients and rules.
#[derive(Debug, Clone, Default)]
pub struct EncryptOptions {
    pub key_groups: Vec<KeyGroup>,
    pub shamir_threshold: usize,
    pub rules: RuleStrings,
}

/// Encrypts a plaintext file's bytes.
pub fn encrypt(src: &[u8], format: Format, opts: &EncryptOptions) -> Result<Vec<u8>> {
    let doc = stores::parse(format, src)?;
    if doc.metadata().is_some() {
        return Err(Error::AlreadyEncrypted);
    }
    if opts.key_groups.iter().all(|g| g.is_empty()) {
        return Err(Error::NoKeys);
    }
    let key = DataKey::generate();
    let mut groups = opts.key_groups.clone();
    keys::wrap_all(&mut groups, &key)?;
    let meta = Metadata::new(
        groups,
        opts.shamir_threshold,
        &opts.rules.clone().normalized()?,
    );
    seal(doc.as_ref(), meta, &key, &Stash::default())
}

/// Encrypts a parsed plaintext document with a known data key, writing a
/// fresh MAC and `lastmodified`.
pub fn seal(
    doc: &dyn Document,
    mut meta: Metadata,
    key: &DataKey,
    stash: &Stash,
) -> Result<Vec<u8>> {
    let rules = meta.rules()?;
    let enc = tree::encrypt(doc.tree(), &rules, key, stash)?;
    meta.lastmodified = timefmt::now_rfc3339();
    meta.mac = tree::encrypt_mac(&enc.mac, key, &meta.lastmodified);
    doc.emit_encrypted(&enc.tokens, &meta.to_value())
}

/// An encrypted file, opened: its data key, decrypted leaves and the IVs
/// needed to re-encrypt unchanged values identically.
pub struct Opened {
    pub doc: Box<dyn Document>,
    pub meta: Metadata,
    pub key: DataKey,
    pub decrypted: Decrypted,
    pub stash: Stash,
}

impl Opened {
    /// The plaintext file, in the same format and layout (wiped on drop).
    pub fn plaintext(&self) -> Result<Zeroizing<Vec<u8>>> {
        self.doc
            .emit_plain(&self.decrypted.plains)
            .map(Zeroizing::new)
    }
}

/// The additional data sops uses for the MAC: `lastmodified` as Go formats
/// it after parsing.
fn mac_ad(lastmodified: &str) -> String {
    timefmt::normalize_rfc3339(lastmodified).unwrap_or_else(|| lastmodified.to_string())
}

/// Reads the metadata of an encrypted file.
pub fn metadata_of(doc: &dyn Document) -> Result<Metadata> {
    let v = doc.metadata().ok_or(Error::MetadataNotFound)?;
    Metadata::from_value(v)
}

/// Opens an encrypted file: recovers the data key, decrypts, checks the MAC.
pub fn open(src: &[u8], format: Format, ignore_mac: bool) -> Result<Opened> {
    open_with(src, format, ignore_mac, Stash::default())
}

/// Opens an encrypted file that will be written back: remembers IVs so that
/// unchanged values keep their ciphertext.
pub fn open_for_update(src: &[u8], format: Format, ignore_mac: bool) -> Result<Opened> {
    open_with(src, format, ignore_mac, Stash::recording())
}

fn open_with(src: &[u8], format: Format, ignore_mac: bool, mut stash: Stash) -> Result<Opened> {
    let doc = stores::parse(format, src)?;
    let meta = metadata_of(doc.as_ref())?;
    let key = keys::unwrap_data_key(&meta)?;
    let rules = meta.rules()?;
    let decrypted = tree::decrypt(doc.tree(), &rules, &key, &mut stash)?;
    if !ignore_mac {
        tree::verify_mac(&meta.mac, &decrypted.mac, &key, &mac_ad(&meta.lastmodified))?;
    }
    Ok(Opened {
        doc,
        meta,
        key,
        decrypted,
        stash,
    })
}

/// Re-encrypts edited plaintext with the opened file's key and settings.
/// Values that did not change keep their ciphertext.
pub fn reseal(opened: &Opened, plaintext: &[u8], format: Format) -> Result<Vec<u8>> {
    let doc = stores::parse(format, plaintext)?;
    if doc.metadata().is_some() {
        return Err(Error::Other(
            "the edited file contains a top-level `sops` entry; remove it (sopx adds the metadata itself)".into(),
        ));
    }
    seal(
        doc.as_ref(),
        opened.meta.clone(),
        &opened.key,
        &opened.stash,
    )
}

/// Sets the value at `path` in an encrypted file.
pub fn set(opened: &Opened, format: Format, path: &[PathElem], value: &Value) -> Result<Vec<u8>> {
    let plain = stores::parse(format, &opened.plaintext()?)?;
    let edited = plain.set(path, value)?;
    reseal(opened, &edited, format)
}

/// Removes the entry at `path` from an encrypted file.
pub fn unset(opened: &Opened, format: Format, path: &[PathElem]) -> Result<Vec<u8>> {
    let plain = stores::parse(format, &opened.plaintext()?)?;
    let edited = plain.unset(path)?;
    reseal(opened, &edited, format)
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

/// Writes `data` to `path` atomically: a temporary file in the same
/// directory, flushed to disk, then renamed over the original (whose
/// permissions it takes). A failure leaves the original untouched.
pub fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new().prefix(".sopx-").tempfile_in(dir)?;
    tmp.write_all(data)?;
    tmp.as_file().sync_all()?;
    if let Ok(m) = std::fs::metadata(path) {
        tmp.as_file().set_permissions(m.permissions())?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    // Make the rename itself durable.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
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
