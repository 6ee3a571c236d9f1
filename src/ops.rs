//! The operations the commands are made of, on bytes and files.

use std::path::Path;

use serde_json::Value;
use zeroize::Zeroizing;

use crate::cipher::{DataKey, Stash};
use crate::error::{Error, Result};
use crate::keys;
use crate::metadata::{KeyGroup, MasterKey, Metadata, RuleStrings};
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
    if format == Format::Binary && opts.rules.is_set() {
        // sops ignores selection rules for binary files: the one value is
        // always encrypted (the CLI warns).
        let opts = EncryptOptions {
            rules: RuleStrings::default(),
            ..opts.clone()
        };
        return encrypt(src, format, &opts);
    }
    let doc = stores::parse(format, src)?;
    if doc.metadata().is_some() {
        return Err(Error::AlreadyEncrypted);
    }
    if opts.key_groups.iter().all(|g| g.is_empty()) {
        return Err(Error::NoKeys);
    }
    let key = DataKey::generate();
    let mut groups = opts.key_groups.clone();
    keys::wrap_all(&mut groups, &key, opts.shamir_threshold)?;
    let meta = Metadata::new(
        groups,
        opts.shamir_threshold,
        &opts.rules.clone().normalized()?,
    );
    seal(doc.as_ref(), meta, &key, &Stash::default())
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
    if opts.key_groups.iter().all(|g| g.is_empty()) {
        return Err(Error::NoKeys);
    }
    let key = DataKey::generate();
    let mut groups = opts.key_groups.clone();
    keys::wrap_all(&mut groups, &key, opts.shamir_threshold)?;
    let mut meta = Metadata::new(
        groups,
        opts.shamir_threshold,
        &opts.rules.clone().normalized()?,
    );
    let enc = tree::encrypt(doc.tree(), &meta.rules()?, &key, &Stash::default())?;
    meta.lastmodified = timefmt::now_rfc3339();
    meta.mac = tree::encrypt_mac(&enc.mac, &key, &meta.lastmodified);
    crate::convert::encrypted_as(doc.tree(), &enc.tokens, &meta.to_value(), output)
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

/// How to open an encrypted file.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// Decrypt even if the MAC does not match.
    pub ignore_mac: bool,
    /// Key kinds to try first (`--decryption-order`); empty: age, then pgp.
    pub decryption_order: Vec<String>,
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
    let key = keys::unwrap_data_key(&meta, &opts.decryption_order)?;
    let rules = meta.rules()?;
    let decrypted = tree::decrypt(doc.tree(), &rules, &key, &mut stash)?;
    if !opts.ignore_mac {
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
    let format = opened.doc.actual_format().unwrap_or(format);
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
    use serde_json::Value as J;
    let id = |k: &MasterKey| -> Vec<String> {
        match k {
            MasterKey::Age { recipient, .. } => vec!["age".into(), recipient.trim().to_string()],
            MasterKey::Pgp { fp, .. } => vec!["pgp".into(), fp.replace(' ', "").to_uppercase()],
            MasterKey::Other { kind, fields } => {
                let mut v = vec![kind.clone()];
                for f in [
                    "arn",
                    "role",
                    "context",
                    "aws_profile",
                    "resource_id",
                    "vault_url",
                    "name",
                    "version",
                    "vault_address",
                    "engine_path",
                    "key_name",
                ] {
                    v.push(fields.get(f).map(J::to_string).unwrap_or_default());
                }
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
            keys::wrap_all(&mut fresh, &opened.key, 0)?;
            for k in groups[0].iter_mut() {
                if let Some(new) = fresh[0].iter().find(|n| same_key(n, k)) {
                    *k = new.clone();
                }
            }
        }
    } else {
        keys::wrap_all(&mut groups, &opened.key, threshold)?;
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
    opened.doc.emit_encrypted(&[], &meta.to_value())
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
    keys::wrap_all(&mut meta.key_groups, &key, meta.shamir_threshold)?;
    let format = opened.doc.actual_format().unwrap_or(format);
    let plain = stores::parse(format, &opened.plaintext()?)?;
    seal(plain.as_ref(), meta, &key, &Stash::default())
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
