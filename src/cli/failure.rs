//! Why a command failed, by the kinds sops's exit codes tell apart. This is
//! the one place a failure gets its exit code (sops's table, in
//! `sopx_core::error::codes`); everything else builds a kind and a message.

use sopx_core::error::codes;

/// Exit status for what sopx does not do (remote key services, publish):
/// distinct from every status sops uses.
pub const NOT_SUPPORTED: i32 = 69;

/// A failure on its way to the user.
pub enum Failure {
    /// A library error; `msg` is its text with the file (or more) in front.
    Lib { msg: String, err: sopx_core::Error },
    /// The input could not be read.
    Read(String),
    /// The file named does not exist (sops: "no file specified", 100).
    NoFile(String),
    /// The output could not be written.
    Write(String),
    /// Flags that cannot go together, or are missing their partner.
    Conflict(String),
    /// A malformed `set` value or path argument.
    InvalidSet(String),
    /// A malformed `--encryption-context`.
    EncryptionContext(String),
    /// No usable editor.
    NoEditor(String),
    /// `edit` saw no change.
    NotModified(String),
    /// What sopx does not implement (key service, publish).
    NotSupported(String),
    /// An exit status decided elsewhere: a command sopx ran (which reported
    /// its own failure, or was ended by a signal), or the first of several
    /// files that failed (each reported above).
    Status { status: i32, msg: String },
    /// Anything else.
    Generic(String),
}

impl Failure {
    /// A library error about `file`.
    pub fn at(file: &str, err: sopx_core::Error) -> Failure {
        Failure::Lib {
            msg: format!("{file}: {err}"),
            err,
        }
    }

    /// A library error with its own wording around it.
    pub fn lib(msg: String, err: sopx_core::Error) -> Failure {
        Failure::Lib { msg, err }
    }

    /// [`Failure::Generic`].
    pub fn generic(msg: impl Into<String>) -> Failure {
        Failure::Generic(msg.into())
    }

    /// [`Failure::Write`].
    pub fn write(msg: impl Into<String>) -> Failure {
        Failure::Write(msg.into())
    }

    /// [`Failure::Read`].
    pub fn read(msg: impl Into<String>) -> Failure {
        Failure::Read(msg.into())
    }

    /// [`Failure::NoFile`].
    pub fn no_file(msg: impl Into<String>) -> Failure {
        Failure::NoFile(msg.into())
    }

    /// [`Failure::Conflict`].
    pub fn conflict(msg: impl Into<String>) -> Failure {
        Failure::Conflict(msg.into())
    }

    /// [`Failure::InvalidSet`].
    pub fn invalid_set(msg: impl Into<String>) -> Failure {
        Failure::InvalidSet(msg.into())
    }

    /// [`Failure::EncryptionContext`].
    pub fn encryption_context(msg: impl Into<String>) -> Failure {
        Failure::EncryptionContext(msg.into())
    }

    /// [`Failure::NoEditor`].
    pub fn no_editor(msg: impl Into<String>) -> Failure {
        Failure::NoEditor(msg.into())
    }

    /// [`Failure::NotModified`].
    pub fn not_modified(msg: impl Into<String>) -> Failure {
        Failure::NotModified(msg.into())
    }

    /// [`Failure::NotSupported`].
    pub fn not_supported(msg: impl Into<String>) -> Failure {
        Failure::NotSupported(msg.into())
    }

    /// The exit status, as sops would give it.
    pub fn code(&self) -> i32 {
        match self {
            Failure::Lib { err, .. } => err.exit_code(),
            Failure::Read(_) => codes::COULD_NOT_READ_INPUT_FILE,
            Failure::NoFile(_) => codes::NO_FILE_SPECIFIED,
            Failure::Write(_) => codes::COULD_NOT_WRITE_OUTPUT_FILE,
            Failure::Conflict(_) => codes::ERROR_CONFLICTING_PARAMETERS,
            Failure::InvalidSet(_) => codes::ERROR_INVALID_SET_FORMAT,
            Failure::EncryptionContext(_) => codes::ERROR_INVALID_KMS_ENCRYPTION_CONTEXT_FORMAT,
            Failure::NoEditor(_) => codes::NO_EDITOR_FOUND,
            Failure::NotModified(_) => codes::FILE_HAS_NOT_BEEN_MODIFIED,
            Failure::NotSupported(_) => NOT_SUPPORTED,
            Failure::Status { status, .. } => *status,
            Failure::Generic(_) => codes::ERROR_GENERIC,
        }
    }

    /// What to print (nothing for failures already reported).
    pub fn message(&self) -> &str {
        match self {
            Failure::Lib { msg, .. }
            | Failure::Read(msg)
            | Failure::NoFile(msg)
            | Failure::Write(msg)
            | Failure::Conflict(msg)
            | Failure::InvalidSet(msg)
            | Failure::EncryptionContext(msg)
            | Failure::NoEditor(msg)
            | Failure::NotModified(msg)
            | Failure::NotSupported(msg)
            | Failure::Status { msg, .. }
            | Failure::Generic(msg) => msg,
        }
    }
}
