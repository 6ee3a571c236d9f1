//! Typed errors of the library, each mapped to the exit code sops uses for it.

use thiserror::Error;

/// Exit statuses, as in sops's `cmd/sops/codes`.
pub mod codes {
    /// Any other failure.
    pub const ERROR_GENERIC: i32 = 1;
    /// The input file could not be read or parsed.
    pub const COULD_NOT_READ_INPUT_FILE: i32 = 2;
    /// The output could not be written.
    pub const COULD_NOT_WRITE_OUTPUT_FILE: i32 = 3;
    /// The document could not be written out.
    pub const ERROR_DUMPING_TREE: i32 = 4;
    /// `.sops.yaml` could not be read.
    pub const ERROR_READING_CONFIG: i32 = 5;
    /// A malformed `--encryption-context`.
    pub const ERROR_INVALID_KMS_ENCRYPTION_CONTEXT_FORMAT: i32 = 6;
    /// A malformed `set` argument.
    pub const ERROR_INVALID_SET_FORMAT: i32 = 7;
    /// Flags that cannot go together.
    pub const ERROR_CONFLICTING_PARAMETERS: i32 = 8;
    /// The MAC could not be encrypted.
    pub const ERROR_ENCRYPTING_MAC: i32 = 21;
    /// A value could not be encrypted.
    pub const ERROR_ENCRYPTING_TREE: i32 = 23;
    /// The MAC could not be decrypted.
    pub const ERROR_DECRYPTING_MAC: i32 = 24;
    /// A value could not be decrypted.
    pub const ERROR_DECRYPTING_TREE: i32 = 25;
    /// The MAC does not match the values.
    pub const MAC_MISMATCH: i32 = 51;
    /// The metadata has no MAC.
    pub const MAC_NOT_FOUND: i32 = 52;
    /// No `.sops.yaml` was found.
    pub const CONFIG_FILE_NOT_FOUND: i32 = 61;
    /// A malformed `--extract` path.
    pub const INVALID_TREE_PATH_FORMAT: i32 = 91;
    /// No file was named.
    pub const NO_FILE_SPECIFIED: i32 = 100;
    /// No key to encrypt with.
    pub const NO_ENCRYPTION_KEY_FOUND: i32 = 111;
    /// No key could recover the data key.
    pub const COULD_NOT_RETRIEVE_KEY: i32 = 128;
    /// `edit` saw no change.
    pub const FILE_HAS_NOT_BEEN_MODIFIED: i32 = 200;
    /// `edit` found no editor.
    pub const NO_EDITOR_FOUND: i32 = 201;
    /// The file to encrypt is already encrypted.
    pub const FILE_ALREADY_ENCRYPTED: i32 = 203;
}

/// Everything that can go wrong in the library. Each message says what to
/// do; none quotes a secret value.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A recipient or key given to the library is not valid.
    #[error("invalid recipient: {0}")]
    Recipient(String),
    /// The file does not parse as its format.
    #[error("{what} at line {line}, column {column}: {msg}")]
    Parse {
        /// The format (`YAML`, `JSON`...).
        what: &'static str,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong there.
        msg: String,
    },
    /// A document sops cannot encrypt (a top-level list, for example).
    #[error("unsupported document: {0}")]
    Unsupported(String),
    /// The file has no `sops` metadata: it is not encrypted.
    #[error("sops metadata not found: this file is not encrypted (run `sopx encrypt` on it first)")]
    MetadataNotFound,
    /// The `sops` metadata is malformed.
    #[error("invalid sops metadata: {0}")]
    BadMetadata(String),
    /// The file to encrypt already has `sops` metadata.
    #[error(
        "the file is already encrypted (it has a top-level `sops` key); decrypt it first or use `sopx edit`"
    )]
    AlreadyEncrypted,
    /// A value could not be decrypted (a damaged or foreign token).
    #[error("could not decrypt value at {path}: {msg}")]
    DecryptValue {
        /// Where, in `--extract` notation.
        path: String,
        /// Why.
        msg: String,
    },
    /// A value could not be encrypted.
    #[error("could not encrypt value at {path}: {msg}")]
    EncryptValue {
        /// Where, in `--extract` notation.
        path: String,
        /// Why.
        msg: String,
    },
    /// The MAC does not match the decrypted values. Neither MAC is shown:
    /// the stored one is encrypted for a reason, and both are digests of
    /// the secret values.
    #[error(
        "MAC mismatch: the file was modified outside sops/sopx; use --ignore-mac to decrypt anyway"
    )]
    MacMismatch,
    /// The metadata has no MAC.
    #[error(
        "the `mac` entry is missing from the sops metadata; use --ignore-mac to decrypt anyway"
    )]
    MacNotFound,
    /// The MAC itself could not be decrypted.
    #[error("could not decrypt the MAC: {0}")]
    DecryptMac(crate::cipher::TokenError),
    /// Wrapping or recovering the data key failed.
    #[error("{0}")]
    Key(#[from] crate::keys::KeyError),
    /// Encryption was asked for without any recipient.
    #[error(
        "no master key given: pass --age (or another key flag), set SOPS_AGE_RECIPIENTS, or add a creation rule to .sops.yaml"
    )]
    NoKeys,
    /// `.sops.yaml` is invalid.
    #[error("config {path}: {msg}")]
    Config {
        /// The configuration file.
        path: String,
        /// What is wrong in it.
        msg: String,
    },
    /// A malformed `--extract`/`set` path.
    #[error("invalid tree path {0:?}: expected a form like '[\"key\"][0]'")]
    TreePath(String),
    /// The path names nothing in the document.
    #[error("path {0} not found in the document")]
    PathNotFound(String),
    /// What would have been written did not read back as the data it must
    /// hold; nothing was written.
    #[error(
        "nothing was written: the output did not read back as the data it must hold ({0}); this is a sopx bug, please report it with the file's layout (not its values)"
    )]
    ReadBack(String),
    /// A `set`, `unset` or edit the document cannot take (the path's shape,
    /// a value the format cannot hold, the metadata entry).
    #[error("{0}")]
    Edit(String),
    /// The document cannot be written in the asked format.
    #[error("{0}")]
    Emit(String),
    /// An unknown `--input-type`/`--output-type` name.
    #[error("unknown file type {0:?}: use yaml, json, dotenv, ini, toml or binary")]
    UnknownFormat(String),
    /// `merge` cannot combine the two sides value by value.
    #[error("{0}")]
    Merge(String),
    /// A git revision or a git command failed (`REV:PATH` arguments,
    /// `--reuse`).
    #[error("{0}")]
    Git(String),
    /// Walking a directory (`-r`) failed.
    #[error("{path}: {msg}")]
    Walk {
        /// The directory.
        path: String,
        /// What went wrong.
        msg: String,
    },
    /// The encrypted output of a large file could not be spooled to its
    /// temporary file.
    #[error(
        "could not write the encrypted output to a temporary file: {0}; check the free space in the temporary directory (TMPDIR)"
    )]
    Spool(#[source] std::io::Error),
    /// A broken internal invariant: a sopx bug, never the user's input.
    #[error("internal error: {0}; this is a sopx bug, please report it")]
    Internal(String),
}

impl Error {
    /// The exit code sops uses for this kind of failure.
    pub fn exit_code(&self) -> i32 {
        use codes::*;
        match self {
            Error::Read { .. } => COULD_NOT_READ_INPUT_FILE,
            Error::Recipient(_) => ERROR_GENERIC,
            Error::Parse { .. } | Error::Unsupported(_) => COULD_NOT_READ_INPUT_FILE,
            Error::MetadataNotFound => ERROR_GENERIC,
            Error::BadMetadata(_) => COULD_NOT_READ_INPUT_FILE,
            Error::AlreadyEncrypted => FILE_ALREADY_ENCRYPTED,
            Error::DecryptValue { .. } => ERROR_DECRYPTING_TREE,
            Error::EncryptValue { .. } => ERROR_ENCRYPTING_TREE,
            Error::MacMismatch => MAC_MISMATCH,
            // sops 3.11 reports a missing or undecryptable MAC as a mismatch.
            Error::MacNotFound | Error::DecryptMac(_) => MAC_MISMATCH,
            Error::Key(k) => k.exit_code(),
            Error::NoKeys => ERROR_GENERIC,
            Error::Config { .. } => ERROR_READING_CONFIG,
            Error::TreePath(_) => INVALID_TREE_PATH_FORMAT,
            Error::PathNotFound(_) => ERROR_GENERIC,
            Error::ReadBack(_) => ERROR_GENERIC,
            Error::Edit(_) | Error::Merge(_) | Error::Git(_) | Error::Walk { .. } => ERROR_GENERIC,
            Error::Emit(_) => ERROR_GENERIC,
            Error::UnknownFormat(_) => ERROR_GENERIC,
            Error::Spool(_) => COULD_NOT_WRITE_OUTPUT_FILE,
            Error::Internal(_) => ERROR_GENERIC,
        }
    }

    /// A parse error at byte `at` of `src`, with 1-based line and column
    /// (in characters).
    pub(crate) fn parse_at(
        what: &'static str,
        src: &[u8],
        at: usize,
        msg: impl Into<String>,
    ) -> Self {
        let before = &src[..at.min(src.len())];
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1);
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        let column = 1 + before[line_start..]
            .iter()
            .filter(|&&b| b & 0xC0 != 0x80)
            .count();
        Error::parse(what, line, column, msg)
    }

    pub(crate) fn parse(
        what: &'static str,
        line: usize,
        column: usize,
        msg: impl Into<String>,
    ) -> Self {
        Error::Parse {
            what,
            line,
            column,
            msg: msg.into(),
        }
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
