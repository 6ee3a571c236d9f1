//! The remote key sources and what each one owns: its metadata name and
//! fields, what makes two of its keys the same, its `.sops.yaml` and
//! command-line spellings, and its wrap and unwrap.
//!
//! [`SOURCES`] drives the metadata reader and writer, key comparison
//! (`ops::same_key`), `.sops.yaml` parsing, `--decryption-order` and the
//! key flags, so a new source is its own module plus one line here.

use std::fmt;

use futures::future::BoxFuture;
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use super::KeyError;
use super::env::Env;
use crate::config::Entry;

/// The metadata fields of one entry (`arn`, `created_at`, `enc`, …), in the
/// order they are written.
pub type Fields = Map<String, Value>;

/// The registered sources, in the order sops writes them in a key group
/// (and gathers them from flags and `.sops.yaml`).
pub static SOURCES: &[&dyn KeySource] = &[
    &super::kms::Source,
    &super::gcpkms::Source,
    &super::hckms::Source,
    &super::azkv::Source,
    &super::hcvault::Source,
];

/// The source whose metadata name is `kind`.
pub fn by_kind(kind: &str) -> Option<&'static dyn KeySource> {
    SOURCES.iter().copied().find(|s| s.kind() == kind)
}

/// Settings some sources take from the command line or a rule besides the
/// key itself (AWS's profile and encryption context).
#[derive(Debug, Default, Clone)]
pub struct KeyOptions {
    pub aws_profile: String,
    pub context: Option<Map<String, Value>>,
}

/// A source's command-line flags: `--<long>` for new files (and its
/// environment variable), `--add-<long>`/`--rm-<long>` for `rotate`, and a
/// repeatable `--<long>` for `groups add`.
#[derive(Debug)]
pub struct Flags {
    pub long: &'static str,
    pub short: Option<char>,
    pub env: &'static str,
    pub value_name: &'static str,
    pub help: &'static str,
    /// For `rotate`: "AWS KMS ARNs" gives "AWS KMS ARNs to add".
    pub noun: &'static str,
    /// For `groups add`: one value's name and the help.
    pub one: &'static str,
    pub group_help: &'static str,
}

/// How a source is written in `.sops.yaml`.
#[derive(Debug)]
pub struct ConfigNames {
    /// Next to `age` in a rule: a comma-separated string or a list.
    pub rule: &'static str,
    /// In a key group.
    pub group: &'static str,
    /// Whether a key group lists mappings (read by [`KeySource::parse_entry`])
    /// rather than strings (read by [`KeySource::parse_id`]).
    pub group_entries: bool,
}

/// A key given as a string (on the command line or in `.sops.yaml`) that
/// its source cannot read. Key IDs and URLs are not secret, so the message
/// names the string, with the form its source expected. (One shape for
/// every source: a new source needs no new variant here.)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("could not parse {id:?} as {what} (expected {expected})")]
#[non_exhaustive]
pub struct KeyIdError {
    /// The string given.
    pub id: String,
    /// What its source reads, such as "an Azure Key Vault key URL".
    pub what: &'static str,
    /// The form expected.
    pub expected: &'static str,
}

impl KeyIdError {
    /// `id` is not `what`, which is written as `expected`.
    pub fn new(id: &str, what: &'static str, expected: &'static str) -> KeyIdError {
        KeyIdError {
            id: id.to_string(),
            what,
            expected,
        }
    }
}

/// One kind of remote master key.
pub trait KeySource: Sync {
    /// The metadata list name, also the kind in `--decryption-order`.
    fn kind(&self) -> &'static str;
    /// The fields that name the key: two entries that agree on them are the
    /// same key, whatever data key they wrap.
    fn identity(&self) -> &'static [&'static str];
    /// The key as shown in messages (without the kind).
    fn id(&self, fields: &Fields) -> String;
    fn flags(&self) -> &'static Flags;
    fn config(&self) -> &'static ConfigNames;
    /// A new entry (empty `created_at` and `enc`) from a key given as a
    /// string, on the command line or in `.sops.yaml`.
    fn parse_id(&self, id: &str, opts: &KeyOptions) -> Result<Fields, KeyIdError>;
    /// A new entry from a key group's mapping.
    fn parse_entry(&self, e: &Entry) -> crate::Result<Fields> {
        Err(e.err("expected a string"))
    }
    /// Wraps `secret`, storing the result in `fields` (`created_at` is set
    /// by the caller). Credentials and settings come from `env`, never from
    /// the process environment directly.
    fn wrap<'a>(
        &'a self,
        env: &'a dyn Env,
        fields: &'a mut Fields,
        secret: &'a [u8],
    ) -> BoxFuture<'a, Result<(), KeyError>>;
    /// Unwraps the entry. Errors give the reason only: the caller names the
    /// key.
    fn unwrap<'a>(
        &'a self,
        env: &'a dyn Env,
        fields: &'a Fields,
    ) -> BoxFuture<'a, Result<Zeroizing<Vec<u8>>, KeyError>>;
}

/// A remote key: its source and its metadata entry, kept field for field
/// (unknown fields included) so nothing is lost on rewrite.
#[derive(Debug, Clone)]
pub struct RemoteKey {
    pub source: &'static dyn KeySource,
    pub fields: Fields,
}

impl RemoteKey {
    pub fn kind(&self) -> &'static str {
        self.source.kind()
    }

    pub fn describe(&self) -> String {
        format!("{} key {}", self.kind(), self.source.id(&self.fields))
    }

    /// The identity fields' values, as JSON text (absent: empty).
    pub fn identity(&self) -> Vec<String> {
        self.source
            .identity()
            .iter()
            .map(|f| {
                self.fields
                    .get(*f)
                    .map(Value::to_string)
                    .unwrap_or_default()
            })
            .collect()
    }
}

impl PartialEq for RemoteKey {
    fn eq(&self, other: &Self) -> bool {
        self.kind() == other.kind() && self.fields == other.fields
    }
}

impl fmt::Debug for dyn KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind())
    }
}

/// A string field of an entry (empty when absent or not a string).
pub fn str_field<'a>(fields: &'a Fields, name: &str) -> &'a str {
    fields.get(name).and_then(Value::as_str).unwrap_or("")
}

/// The wrap or unwrap error of a source whose client this build leaves out
/// (sopx-core's cargo feature `feature`).
pub fn not_built(kind: &str, feature: &str) -> KeyError {
    KeyError::Unsupported(format!(
        "this build has no support for {kind} keys (sopx-core's cargo feature `{feature}`); use a full sopx build"
    ))
}

/// A remote source's network client (`keys/<name>/client.rs`) behind its
/// cargo feature; without the feature, stand-ins whose wrap and unwrap fail
/// with [`not_built`], so entries of the kind are still read and kept.
macro_rules! client_behind_feature {
    ($feature:literal, $kind:literal) => {
        #[cfg(feature = $feature)]
        mod client;
        #[cfg(feature = $feature)]
        use client::{decrypt, encrypt};

        #[cfg(not(feature = $feature))]
        async fn encrypt(
            _: &dyn $crate::keys::env::Env,
            _: &mut $crate::keys::registry::Fields,
            _: &[u8],
        ) -> Result<(), $crate::keys::KeyError> {
            Err($crate::keys::registry::not_built($kind, $feature))
        }

        #[cfg(not(feature = $feature))]
        async fn decrypt(
            _: &dyn $crate::keys::env::Env,
            _: &$crate::keys::registry::Fields,
        ) -> Result<zeroize::Zeroizing<Vec<u8>>, $crate::keys::KeyError> {
            Err($crate::keys::registry::not_built($kind, $feature))
        }
    };
}
pub(crate) use client_behind_feature;

/// `KeySource::wrap` and `unwrap` for a source whose module has the
/// `encrypt`/`decrypt` pair of [`client_behind_feature`]; used inside its
/// `impl KeySource`.
macro_rules! wrap_with_client {
    () => {
        fn wrap<'a>(
            &'a self,
            env: &'a dyn $crate::keys::env::Env,
            fields: &'a mut $crate::keys::registry::Fields,
            secret: &'a [u8],
        ) -> futures::future::BoxFuture<'a, Result<(), $crate::keys::KeyError>> {
            Box::pin(encrypt(env, fields, secret))
        }
        fn unwrap<'a>(
            &'a self,
            env: &'a dyn $crate::keys::env::Env,
            fields: &'a $crate::keys::registry::Fields,
        ) -> futures::future::BoxFuture<
            'a,
            Result<zeroize::Zeroizing<Vec<u8>>, $crate::keys::KeyError>,
        > {
            Box::pin(decrypt(env, fields))
        }
    };
}
pub(crate) use wrap_with_client;

/// Appends the `created_at` and `enc` every new entry ends with.
pub fn unwrapped(mut fields: Fields) -> Fields {
    fields.insert("created_at".into(), Value::from(""));
    fields.insert("enc".into(), Value::from(""));
    fields
}
