//! Typed errors of the library, each mapped to the exit code sops uses for it.

use thiserror::Error;

/// Exit statuses, as in sops's `cmd/sops/codes`.
pub mod codes {
    pub const ERROR_GENERIC: i32 = 1;
    pub const COULD_NOT_READ_INPUT_FILE: i32 = 2;
    pub const COULD_NOT_WRITE_OUTPUT_FILE: i32 = 3;
    pub const ERROR_DUMPING_TREE: i32 = 4;
    pub const ERROR_READING_CONFIG: i32 = 5;
    pub const ERROR_INVALID_KMS_ENCRYPTION_CONTEXT_FORMAT: i32 = 6;
    pub const ERROR_INVALID_SET_FORMAT: i32 = 7;
    pub const ERROR_CONFLICTING_PARAMETERS: i32 = 8;
    pub const ERROR_ENCRYPTING_MAC: i32 = 21;
    pub const ERROR_ENCRYPTING_TREE: i32 = 23;
    pub const ERROR_DECRYPTING_MAC: i32 = 24;
    pub const ERROR_DECRYPTING_TREE: i32 = 25;
    pub const MAC_MISMATCH: i32 = 51;
    pub const MAC_NOT_FOUND: i32 = 52;
    pub const CONFIG_FILE_NOT_FOUND: i32 = 61;
    pub const INVALID_TREE_PATH_FORMAT: i32 = 91;
    pub const NO_FILE_SPECIFIED: i32 = 100;
    pub const NO_ENCRYPTION_KEY_FOUND: i32 = 111;
    pub const COULD_NOT_RETRIEVE_KEY: i32 = 128;
    pub const FILE_HAS_NOT_BEEN_MODIFIED: i32 = 200;
    pub const NO_EDITOR_FOUND: i32 = 201;
    pub const FILE_ALREADY_ENCRYPTED: i32 = 203;
}

/// Everything that can go wrong in the library.
#[derive(Debug, Error)]
pub enum Error {
    #[error("{what} at line {line}, column {column}: {msg}")]
    Parse {
        what: &'static str,
        line: usize,
        column: usize,
        msg: String,
    },
    #[error("unsupported document: {0}")]
    Unsupported(String),
    #[error("sops metadata not found: this file is not encrypted (run `sopx encrypt` on it first)")]
    MetadataNotFound,
    #[error("invalid sops metadata: {0}")]
    BadMetadata(String),
    #[error(
        "the file is already encrypted (it has a top-level `sops` key); decrypt it first or use `sopx edit`"
    )]
    AlreadyEncrypted,
    #[error("could not decrypt value at {path}: {msg}")]
    DecryptValue { path: String, msg: String },
    #[error("could not encrypt value at {path}: {msg}")]
    EncryptValue { path: String, msg: String },
    /// Neither MAC is shown: the stored one is encrypted for a reason, and
    /// both are digests of the secret values.
    #[error(
        "MAC mismatch: the file was modified outside sops/sopx; use --ignore-mac to decrypt anyway"
    )]
    MacMismatch,
    #[error(
        "the `mac` entry is missing from the sops metadata; use --ignore-mac to decrypt anyway"
    )]
    MacNotFound,
    #[error("could not decrypt the MAC: {0}")]
    DecryptMac(String),
    #[error("{0}")]
    Key(#[from] crate::keys::KeyError),
    #[error(
        "no master key given: pass --age (or another key flag), set SOPS_AGE_RECIPIENTS, or add a creation rule to .sops.yaml"
    )]
    NoKeys,
    #[error("config {path}: {msg}")]
    Config { path: String, msg: String },
    #[error("invalid tree path {0:?}: expected a form like '[\"key\"][0]'")]
    TreePath(String),
    #[error("path {0} not found in the document")]
    PathNotFound(String),
    #[error(
        "nothing was written: the output did not read back as the data it must hold ({0}); this is a sopx bug, please report it with the file's layout (not its values)"
    )]
    ReadBack(String),
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// The exit code sops uses for this kind of failure.
    pub fn exit_code(&self) -> i32 {
        use codes::*;
        match self {
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
            Error::Other(_) => ERROR_GENERIC,
        }
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

pub type Result<T, E = Error> = std::result::Result<T, E>;
