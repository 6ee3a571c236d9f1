//! The front door: encrypt a file for recipients, open one with the keys
//! you pass in, read its values, change one and seal it again.

use serde_json::Value;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::keyring::KeyRing;
use crate::metadata::{KeyGroup, MasterKey};
use crate::ops::{self, EncryptOptions, OpenOptions, Opened};
use crate::stores::Format;

/// Who can open a file sopx encrypts: one key group, any of whose keys
/// opens it.
///
/// ```
/// use sopx_core::Recipients;
///
/// let to = Recipients::new()
///     .age("age1cjw0fpmk6v645m4zfqq093j8fjftqmxq538j5xnl3n29h9pcmenqws6xat")?;
/// # Ok::<(), sopx_core::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Recipients {
    keys: KeyGroup,
}

impl Recipients {
    /// No recipient yet.
    pub fn new() -> Recipients {
        Recipients::default()
    }

    /// Adds an age recipient (`age1…`, an SSH public key, or a plugin's
    /// recipient).
    pub fn age(mut self, recipient: &str) -> Result<Recipients> {
        crate::keys::age::check_recipient(recipient)
            .map_err(|e| Error::Recipient(e.to_string()))?;
        self.keys.push(MasterKey::Age {
            recipient: recipient.trim().to_string(),
            enc: String::new(),
        });
        Ok(self)
    }

    /// Adds a PGP key by fingerprint; the data key is encrypted to it
    /// through GnuPG.
    pub fn pgp(mut self, fingerprint: &str) -> Result<Recipients> {
        crate::keys::pgp::check_fingerprint(fingerprint)
            .map_err(|e| Error::Recipient(e.to_string()))?;
        self.keys.push(MasterKey::Pgp {
            fp: crate::keys::pgp::normalize_fingerprint(fingerprint),
            created_at: String::new(),
            enc: String::new(),
        });
        Ok(self)
    }
}

/// Encrypts a plaintext file (its bytes, in `format`) for `recipients`,
/// as `sops encrypt` would: every value encrypted, keys, comments and
/// layout kept. The result opens with sops 3.x.
///
/// ```
/// use sopx_core::{Format, KeyRing, Recipients, SopsFile};
///
/// # let identity = "AGE-SECRET-KEY-1Z2MFA0XGFAPLGGTEV3R9U4ZPUKG2LDEXV4X4JG5WYD3WCA75XQWSZAVS0Q";
/// # let recipient = "age1cr082j8hxlk0xqlrrteh0wg6zcc0xafakjw9tksq42ga8eent9lq94pj5y";
/// let to = Recipients::new().age(recipient)?;
/// let sealed = sopx_core::encrypt(b"password: hunter2 # the db\n", Format::Yaml, &to)?;
/// assert!(!String::from_utf8_lossy(&sealed).contains("hunter2"));
///
/// let ring = KeyRing::new().with_age_identities(identity)?;
/// let file = SopsFile::open(&sealed, Format::Yaml, &ring)?;
/// assert_eq!(&file.plaintext()?[..], b"password: hunter2 # the db\n");
/// # Ok::<(), sopx_core::Error>(())
/// ```
pub fn encrypt(plaintext: &[u8], format: Format, recipients: &Recipients) -> Result<Vec<u8>> {
    ops::encrypt(
        plaintext,
        format,
        &EncryptOptions {
            key_groups: vec![recipients.keys.clone()],
            ..EncryptOptions::default()
        },
    )
}

/// An encrypted file, opened: its MAC checked and its values decrypted.
///
/// ```
/// use sopx_core::{Format, KeyRing, SopsFile};
/// use serde_json::json;
///
/// # let identity = "AGE-SECRET-KEY-1Z2MFA0XGFAPLGGTEV3R9U4ZPUKG2LDEXV4X4JG5WYD3WCA75XQWSZAVS0Q";
/// # let to = sopx_core::Recipients::new().age("age1cr082j8hxlk0xqlrrteh0wg6zcc0xafakjw9tksq42ga8eent9lq94pj5y")?;
/// # let bytes = sopx_core::encrypt(b"db:\n  user: app\n  password: old\n", Format::Yaml, &to)?;
/// let ring = KeyRing::new().with_age_identities(identity)?;
/// let file = SopsFile::open(&bytes, Format::Yaml, &ring)?;
/// assert_eq!(file.get(r#"["db"]["user"]"#)?, json!("app"));
///
/// // A new encrypted file: only the changed value gets a new ciphertext.
/// let changed = file.set(r#"["db"]["password"]"#, &json!("new"))?;
/// let again = SopsFile::open(&changed, Format::Yaml, &ring)?;
/// assert_eq!(again.get(r#"["db"]["password"]"#)?, json!("new"));
/// # Ok::<(), sopx_core::Error>(())
/// ```
pub struct SopsFile {
    opened: Opened,
    format: Format,
}

impl std::fmt::Debug for SopsFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SopsFile")
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl SopsFile {
    /// Opens an encrypted file from its bytes with the keys in `keys`.
    pub fn open(bytes: &[u8], format: Format, keys: &KeyRing) -> Result<SopsFile> {
        let opts = OpenOptions {
            ignore_mac: false,
            decryption_order: Vec::new(),
            keys: keys.clone(),
        };
        Ok(SopsFile {
            opened: ops::open_for_update(bytes, format, &opts)?,
            format,
        })
    }

    /// Reads and opens the file at `path`; the format comes from its name,
    /// as sops decides it (`.yaml`/`.yml`, `.json`, `.env`, `.ini`,
    /// `.toml`, anything else binary).
    pub fn open_path(path: impl AsRef<std::path::Path>, keys: &KeyRing) -> Result<SopsFile> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Error::Read {
            path: path.display().to_string(),
            source,
        })?;
        SopsFile::open(&bytes, Format::from_path(path), keys)
    }

    /// The format the file is read and written in.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The decrypted file, byte for byte as it was before encryption when
    /// sopx wrote it (wiped from memory on drop).
    pub fn plaintext(&self) -> Result<Zeroizing<Vec<u8>>> {
        self.opened.plaintext()
    }

    /// The decrypted data, one JSON value per document (YAML files may
    /// hold several). The values are plain `serde_json` values: they are not
    /// wiped on drop.
    pub fn documents(&self) -> Vec<Value> {
        crate::convert::documents(&self.opened)
    }

    /// The value at `path`, in sops's `--extract` notation
    /// (`["key"]["list"][0]`).
    pub fn get(&self, path: &str) -> Result<Value> {
        crate::convert::value_at(&self.opened, &ops::parse_tree_path(path)?)
    }

    /// The file with the value at `path` (sops's `--extract` notation) set
    /// to `value`, encrypted again with the same data key. Every other
    /// value keeps its ciphertext, so a diff shows the changed line and the
    /// MAC.
    pub fn set(&self, path: &str, value: &Value) -> Result<Vec<u8>> {
        ops::set(
            &self.opened,
            self.format,
            &ops::parse_tree_path(path)?,
            value,
        )
    }

    /// The file's keys, as sops describes them in messages
    /// (`age recipient age1…`, `pgp key …`, `AWS KMS key arn:…`).
    pub fn recipients(&self) -> Vec<String> {
        self.opened
            .meta
            .key_groups
            .iter()
            .flatten()
            .map(MasterKey::describe)
            .collect()
    }
}
