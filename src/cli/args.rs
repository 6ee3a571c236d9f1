//! The command line, as clap sees it: sops's subcommands and flags.

use std::path::PathBuf;

use std::ffi::OsStr;
use std::sync::LazyLock;

use clap::builder::{PossibleValue, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};

use sopx_core::Format;
use sopx_core::metadata::RuleStrings;

#[derive(Parser, Debug)]
#[command(
    name = "sopx",
    version,
    about = "Lossless, fast, SOPS-compatible encryption of the values in YAML, JSON, dotenv, INI and TOML files",
    long_about = "sopx encrypts the values of YAML, JSON, dotenv, INI and TOML files (and whole binary \
                  files) with a per-file data key wrapped for age, PGP, AWS KMS, GCP KMS, Azure Key \
                  Vault and Vault transit keys, and writes files the real sops opens. Everything it \
                  does not have to change stays byte-for-byte as it was: comments, blank lines, \
                  quoting, key order.",
    args_conflicts_with_subcommands = true,
    disable_version_flag = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub globals: Globals,
    #[command(flatten)]
    pub legacy: Legacy,
    /// Print the version (installed as `sops`: `sops 3.11.0 (sopx X.Y.Z)`)
    #[arg(short = 'v', long)]
    pub version: bool,
    /// Indentation of the YAML or JSON that sopx writes in new layout (converted output), as sops's --indent (legacy mode: `sopx --indent 2 -d …`)
    #[arg(long, value_name = "N")]
    pub indent: Option<usize>,
}

/// sops's global flags: accepted before or after any subcommand.
#[derive(Args, Debug, Default, Clone)]
pub struct Globals {
    /// Path of the .sops.yaml config (default: searched upwards from the working directory, then from the file); /dev/null means an empty config
    #[arg(long, env = "SOPS_CONFIG", value_name = "PATH", global = true)]
    pub config: Option<PathBuf>,
    /// Print more about what is going on
    #[arg(long, global = true)]
    pub verbose: bool,
    /// Accepted for sops compatibility; sopx never checks for updates
    #[arg(long, global = true)]
    pub disable_version_check: bool,
    /// Accepted for sops compatibility; sopx never contacts the network to check for updates, and says so
    #[arg(long, global = true)]
    pub check_for_updates: bool,
    /// Accepted for sops compatibility: sopx always uses its built-in (local) key service
    #[arg(long, global = true)]
    pub enable_local_keyservice: bool,
    /// Remote key service (not supported by sopx: gives an error)
    #[arg(long, value_name = "URI", env = "SOPS_KEYSERVICE", global = true)]
    pub keyservice: Vec<String>,
}

/// sops's original flag style: `sopx -d FILE`, `sopx -e FILE`, `sopx FILE`.
#[derive(Args, Debug, Default)]
pub struct Legacy {
    /// Encrypt FILE (same as `sopx encrypt`)
    #[arg(short = 'e', long, conflicts_with = "decrypt")]
    pub encrypt: bool,
    /// Decrypt FILE (same as `sopx decrypt`)
    #[arg(short = 'd', long)]
    pub decrypt: bool,
    #[command(flatten)]
    pub keys: KeyArgs,
    #[command(flatten)]
    pub rules: RuleArgs,
    #[command(flatten)]
    pub io: IoArgs,
    #[command(flatten)]
    pub dec: DecryptOnly,
    /// Rotate the data key (same as `sopx rotate`)
    #[arg(short = 'r', long, conflicts_with_all = ["encrypt", "decrypt"])]
    pub rotate: bool,
    #[command(flatten)]
    pub rotate_keys: RotateKeys,
    /// Set one value, as in `sopx set`: '["key"] VALUE' (VALUE is JSON)
    #[arg(long, value_name = "PATH VALUE")]
    pub set: Option<String>,
    /// Accepted for sops compatibility (sopx does not show the keys while editing)
    #[arg(short = 's', long)]
    pub show_master_keys: bool,
    /// The file to edit, encrypt or decrypt
    pub file: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Encrypt a file; the result goes to stdout unless -i or --output
    Encrypt(EncryptCmd),
    /// Decrypt a file; the plaintext goes to stdout unless -i or --output
    Decrypt(DecryptCmd),
    /// Open a file in $SOPS_EDITOR/$EDITOR, re-encrypting it on save
    Edit(EditCmd),
    /// Set one value of an encrypted file
    Set(SetCmd),
    /// Remove one entry from an encrypted file
    Unset(UnsetCmd),
    /// Tell whether a file is encrypted, as JSON (`{"encrypted":true}`)
    Filestatus(FilestatusCmd),
    /// Give a file a new data key (every value is re-encrypted), optionally adding or removing keys
    Rotate(RotateCmd),
    /// Re-wrap files' data keys for the keys `.sops.yaml` lists now (values keep their ciphertext)
    Updatekeys(UpdatekeysCmd),
    /// Add or delete key groups
    #[command(subcommand)]
    Groups(GroupsCmd),
    /// Fail if a file that a `.sops.yaml` path_regex rule covers is not encrypted (for pre-commit hooks)
    Check(CheckCmd),
    /// Show a decrypted unified diff of two encrypted files (each a path, or REV:PATH for a git revision); exits 1 when they differ
    Diff(DiffCmd),
    /// Git merge driver: merge OURS and THEIRS (changed from BASE) value by value, encrypted, into OURS (`sopx merge %O %A %B %P`)
    Merge(MergeCmd),
    /// Git integration
    #[command(subcommand)]
    Git(GitCmd),
    /// Run a command with the decrypted values in its environment
    ExecEnv(ExecEnvCmd),
    /// Run a command with the decrypted file in a FIFO (or a 0600 temporary file); `{}` in the command is its path
    ExecFile(ExecFileCmd),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish)
    Completion(CompletionCmd),
    /// Not supported by sopx (sops's key service server): exits with an error
    Keyservice(UnsupportedCmd),
    /// Not supported by sopx (sops's publish to S3/GCS/Vault): exits with an error
    Publish(UnsupportedCmd),
}

#[derive(Args, Debug)]
pub struct MergeCmd {
    #[command(flatten)]
    pub order: OrderArgs,
    /// The common ancestor (git's %O)
    pub base: String,
    /// Our version, which receives the result (git's %A)
    pub ours: String,
    /// Their version (git's %B)
    pub theirs: String,
    /// The file's path in the repository, which gives its format (git's %P)
    pub path: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum GitCmd {
    /// Configure git for sopx: .gitattributes lines for the encrypted files and the files .sops.yaml rules cover, and the merge driver and textconv in the repository's config (idempotent; prints what it changes)
    Setup(GitSetupCmd),
}

#[derive(Args, Debug)]
pub struct GitSetupCmd {
    /// Write the driver and textconv config to the global git config instead (no .gitattributes)
    #[arg(long)]
    pub global: bool,
}

#[derive(Args, Debug)]
pub struct ExecEnvCmd {
    /// Start the command and return at once, without waiting for it
    #[arg(long, conflicts_with = "same_process")]
    pub background: bool,
    /// Give the command only the decrypted values, not sopx's environment
    #[arg(long)]
    pub pristine: bool,
    /// Run the command as this user (needs the privilege to switch users)
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// Replace the sopx process with the command (exec), instead of a child process
    #[arg(long)]
    pub same_process: bool,
    /// Take the variables from this subtree only, e.g. '["app"]' (sopx addition)
    #[arg(long, value_name = "PATH")]
    pub extract: Option<String>,
    /// Input format of the files (default: from each file's extension)
    #[arg(long, value_name = "TYPE", value_parser = TypeParser)]
    pub input_type: Option<TypeArg>,
    /// Do not check the MAC
    #[arg(long)]
    pub ignore_mac: bool,
    #[command(flatten)]
    pub order: OrderArgs,
    /// The encrypted file(s) (several: a sopx addition, later files win), then the command, run with /bin/sh -c
    #[arg(required = true, num_args = 2.., value_name = "FILE... COMMAND")]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ExecFileCmd {
    /// Start the command and return once it has read the file, without waiting for it to end
    #[arg(long)]
    pub background: bool,
    /// Use a 0600 temporary file instead of a FIFO
    #[arg(long)]
    pub no_fifo: bool,
    /// Run the command as this user (needs the privilege to switch users)
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// Input format (default: from the file extension)
    #[arg(long, value_name = "TYPE", value_parser = TypeParser)]
    pub input_type: Option<TypeArg>,
    /// Format of the decrypted file given to the command (default: the input format)
    #[arg(long, value_name = "TYPE", value_parser = TypeParser)]
    pub output_type: Option<TypeArg>,
    /// Name of the FIFO or temporary file (in a private directory)
    #[arg(long, value_name = "NAME")]
    pub filename: Option<String>,
    /// Do not check the MAC
    #[arg(long)]
    pub ignore_mac: bool,
    #[command(flatten)]
    pub order: OrderArgs,
    /// The encrypted file
    pub file: String,
    /// The command, run with /bin/sh -c; `{}` is replaced with the decrypted file's path
    pub command: String,
}

#[derive(Args, Debug)]
pub struct CompletionCmd {
    /// The shell
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub struct UnsupportedCmd {
    /// Ignored: the command is not supported
    #[arg(num_args = 0.., allow_hyphen_values = true, trailing_var_arg = true)]
    pub rest: Vec<String>,
}

/// Whole-repository batch (sopx addition): a directory to walk, and the
/// number of files worked on at once.
#[derive(Args, Debug, Default, Clone)]
pub struct BatchArgs {
    /// Work on the files under DIR (as well as any FILE given), walked as
    /// ripgrep walks: hidden and .gitignore'd files skipped; files are
    /// picked by .sops.yaml path rules or by being encrypted, as the
    /// command needs. Files are processed in parallel, with one summary
    #[arg(short = 'r', long = "recursive", value_name = "DIR")]
    pub recursive: Option<PathBuf>,
    /// Files worked on at once in a batch (default: the cores, at least 8)
    #[arg(short = 'j', long, value_name = "N")]
    pub jobs: Option<usize>,
}

/// Recipients for new files.
#[derive(Args, Debug, Default, Clone)]
pub struct KeyArgs {
    /// Comma-separated age recipients (age1..., ssh-ed25519 ..., ssh-rsa ...)
    #[arg(
        short = 'a',
        long,
        env = "SOPS_AGE_RECIPIENTS",
        value_name = "RECIPIENTS"
    )]
    pub age: Option<String>,
    /// Comma-separated PGP fingerprints
    #[arg(short = 'p', long, env = "SOPS_PGP_FP", value_name = "FPS")]
    pub pgp: Option<String>,
    // The remote key sources' flags (`--kms`, `--gcp-kms`, …).
    #[command(flatten)]
    pub remote: super::remote::New,
    /// Number of key groups needed to decrypt (Shamir secret sharing)
    #[arg(long = "shamir-secret-sharing-threshold", value_name = "N")]
    pub shamir: Option<usize>,
    /// AWS profile for the KMS keys given with --kms
    #[arg(long, value_name = "PROFILE")]
    pub aws_profile: Option<String>,
    /// KMS encryption context, as key:value pairs separated by commas
    #[arg(long, value_name = "CONTEXT")]
    pub encryption_context: Option<String>,
}

/// Which key kinds to try first when decrypting.
#[derive(Args, Debug, Default, Clone)]
pub struct OrderArgs {
    /// Comma-separated key kinds to try first, e.g. `age,pgp` (the default)
    #[arg(long, env = "SOPS_DECRYPTION_ORDER", value_name = "KINDS")]
    pub decryption_order: Option<String>,
}

/// Which values get encrypted.
#[derive(Args, Debug, Default, Clone)]
pub struct RuleArgs {
    /// Leave values whose key ends with this suffix unencrypted (default _unencrypted)
    #[arg(long, value_name = "SUFFIX")]
    pub unencrypted_suffix: Option<String>,
    /// Encrypt only values whose key ends with this suffix
    #[arg(long, value_name = "SUFFIX")]
    pub encrypted_suffix: Option<String>,
    /// Leave values whose key matches this regex unencrypted
    #[arg(long, value_name = "REGEX")]
    pub unencrypted_regex: Option<String>,
    /// Encrypt only values whose key matches this regex
    #[arg(long, value_name = "REGEX")]
    pub encrypted_regex: Option<String>,
    /// Leave values after a comment matching this regex unencrypted
    #[arg(long, value_name = "REGEX")]
    pub unencrypted_comment_regex: Option<String>,
    /// Encrypt only values after a comment matching this regex
    #[arg(long, value_name = "REGEX")]
    pub encrypted_comment_regex: Option<String>,
    /// Compute the MAC over encrypted values only
    #[arg(long)]
    pub mac_only_encrypted: bool,
}

impl From<&RuleArgs> for RuleStrings {
    fn from(a: &RuleArgs) -> RuleStrings {
        RuleStrings {
            unencrypted_suffix: a.unencrypted_suffix.clone(),
            encrypted_suffix: a.encrypted_suffix.clone(),
            unencrypted_regex: a.unencrypted_regex.clone(),
            encrypted_regex: a.encrypted_regex.clone(),
            unencrypted_comment_regex: a.unencrypted_comment_regex.clone(),
            encrypted_comment_regex: a.encrypted_comment_regex.clone(),
            mac_only_encrypted: a.mac_only_encrypted,
        }
    }
}

/// Input, output and configuration.
#[derive(Args, Debug, Default, Clone)]
pub struct IoArgs {
    /// Input format (default: from the file extension)
    #[arg(long, value_name = "TYPE", value_parser = TypeParser)]
    pub input_type: Option<TypeArg>,
    /// Output format (default: the input format)
    #[arg(long, value_name = "TYPE", value_parser = TypeParser)]
    pub output_type: Option<TypeArg>,
    /// Write the result to FILE instead of stdout
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Write the result back to the input file
    #[arg(short = 'i', long)]
    pub in_place: bool,
    /// Use this file name for format detection and .sops.yaml rules (for stdin input)
    #[arg(long, value_name = "NAME")]
    pub filename_override: Option<PathBuf>,
    /// From the global --config (filled in after parsing)
    #[arg(skip)]
    pub config: Option<PathBuf>,
    /// From the global --verbose (filled in after parsing)
    #[arg(skip)]
    pub verbose: bool,
}

#[derive(Args, Debug, Default, Clone)]
pub struct DecryptOnly {
    /// Print only the value at this path, e.g. '["database"]["password"]'
    #[arg(long, value_name = "PATH")]
    pub extract: Option<String>,
    /// Do not check the MAC (for files changed by hand)
    #[arg(long)]
    pub ignore_mac: bool,
    #[command(flatten)]
    pub order: OrderArgs,
}

#[derive(Args, Debug)]
pub struct EncryptCmd {
    #[command(flatten)]
    pub keys: KeyArgs,
    #[command(flatten)]
    pub rules: RuleArgs,
    #[command(flatten)]
    pub io: IoArgs,
    /// Keep the data key, recipients and the ciphertext of every unchanged
    /// value of OLD: a path, or git:REV for this file at a git revision.
    /// With -i on a file git tracks, git:HEAD is the default when HEAD holds
    /// an encrypted version you can open
    #[arg(long, value_name = "OLD")]
    pub reuse: Option<String>,
    /// Encrypt afresh, even where --reuse git:HEAD would be the default
    #[arg(long, conflicts_with = "reuse")]
    pub no_reuse: bool,
    #[command(flatten)]
    pub batch: BatchArgs,
    /// File to encrypt (`-` or none: stdin, named by --filename-override);
    /// several files, or -r, encrypt each in place (with -i), in parallel
    #[arg(value_name = "FILE")]
    pub files: Vec<String>,
}

#[derive(Args, Debug)]
pub struct DecryptCmd {
    #[command(flatten)]
    pub io: IoArgs,
    #[command(flatten)]
    pub dec: DecryptOnly,
    /// Write each file's plaintext under DIR, at its relative path (mode
    /// 0600); for several files or -r
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    #[command(flatten)]
    pub batch: BatchArgs,
    /// File to decrypt (`-` or none: stdin, named by --filename-override);
    /// several files, or -r, need --output-dir
    #[arg(value_name = "FILE")]
    pub files: Vec<String>,
}

#[derive(Args, Debug)]
pub struct EditCmd {
    #[command(flatten)]
    pub keys: KeyArgs,
    #[command(flatten)]
    pub rules: RuleArgs,
    #[command(flatten)]
    pub order: OrderArgs,
    #[command(flatten)]
    pub io: IoArgs,
    /// Do not check the MAC before editing
    #[arg(long)]
    pub ignore_mac: bool,
    /// Accepted for sops compatibility (sopx does not show the keys while editing)
    #[arg(short = 's', long)]
    pub show_master_keys: bool,
    /// File to edit (created if it does not exist)
    pub file: String,
}

#[derive(Args, Debug)]
pub struct SetCmd {
    #[command(flatten)]
    pub order: OrderArgs,
    #[command(flatten)]
    pub io: IoArgs,
    /// Do not check the MAC
    #[arg(long)]
    pub ignore_mac: bool,
    /// Read the value from the file given as VALUE
    #[arg(long)]
    pub value_file: bool,
    /// Read the value from stdin
    #[arg(long, conflicts_with = "value_file")]
    pub value_stdin: bool,
    /// Do nothing (and exit 0) if the value is already set to this
    #[arg(long)]
    pub idempotent: bool,
    /// The encrypted file
    pub file: String,
    /// Path in the document, e.g. '["a"]["b"][0]'
    pub path: String,
    /// The new value, as JSON (e.g. '"text"', '42', '{"k": "v"}')
    pub value: Option<String>,
}

#[derive(Args, Debug)]
pub struct UnsetCmd {
    #[command(flatten)]
    pub order: OrderArgs,
    #[command(flatten)]
    pub io: IoArgs,
    /// Do not check the MAC
    #[arg(long)]
    pub ignore_mac: bool,
    /// Do nothing (and exit 0) if the path does not exist
    #[arg(long)]
    pub idempotent: bool,
    /// The encrypted file
    pub file: String,
    /// Path in the document, e.g. '["a"]["b"]'
    pub path: String,
}

#[derive(Args, Debug)]
pub struct FilestatusCmd {
    #[command(flatten)]
    pub io: IoArgs,
    #[command(flatten)]
    pub batch: BatchArgs,
    /// The file to check; with several files or -r, one JSON line per file
    /// (`{"file":…,"encrypted":…}`)
    #[arg(value_name = "FILE", required_unless_present = "recursive")]
    pub files: Vec<String>,
}

/// Keys to add or remove in `rotate`.
#[derive(Args, Debug, Default, Clone)]
pub struct RotateKeys {
    /// age recipients to add
    #[arg(long, value_name = "RECIPIENTS")]
    pub add_age: Option<String>,
    /// age recipients to remove
    #[arg(long, value_name = "RECIPIENTS")]
    pub rm_age: Option<String>,
    /// PGP fingerprints to add
    #[arg(long, value_name = "FPS")]
    pub add_pgp: Option<String>,
    /// PGP fingerprints to remove
    #[arg(long, value_name = "FPS")]
    pub rm_pgp: Option<String>,
    // `--add-kms`, `--rm-kms` and the like.
    #[command(flatten)]
    pub remote: super::remote::Rotate,
}

impl RotateKeys {
    /// The keys to add (`add`) or remove, as key flags.
    pub fn as_key_args(&self, add: bool) -> KeyArgs {
        let pick = |a: &Option<String>, r: &Option<String>| if add { a.clone() } else { r.clone() };
        KeyArgs {
            age: pick(&self.add_age, &self.rm_age),
            pgp: pick(&self.add_pgp, &self.rm_pgp),
            remote: super::remote::New(if add {
                self.remote.add.clone()
            } else {
                self.remote.rm.clone()
            }),
            ..KeyArgs::default()
        }
    }
}

#[derive(Args, Debug)]
pub struct RotateCmd {
    #[command(flatten)]
    pub keys: RotateKeys,
    #[command(flatten)]
    pub io: IoArgs,
    #[command(flatten)]
    pub order: OrderArgs,
    /// Do not check the MAC
    #[arg(long)]
    pub ignore_mac: bool,
    #[command(flatten)]
    pub batch: BatchArgs,
    /// The encrypted file; several files, or -r, rotate each in place (with -i)
    #[arg(value_name = "FILE", required_unless_present = "recursive")]
    pub files: Vec<String>,
}

#[derive(Args, Debug)]
pub struct UpdatekeysCmd {
    /// Do not ask for confirmation
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Number of key groups needed to decrypt (Shamir), overriding the config
    #[arg(long = "shamir-secret-sharing-threshold", value_name = "N")]
    pub shamir: Option<usize>,
    /// Input format (default: from each file's extension)
    #[arg(long, value_name = "TYPE", value_parser = TypeParser)]
    pub input_type: Option<TypeArg>,
    #[command(flatten)]
    pub order: OrderArgs,
    #[command(flatten)]
    pub batch: BatchArgs,
    /// The encrypted files (one after the other, asking for each; with -r,
    /// or several files and -y, in parallel)
    #[arg(required_unless_present = "recursive")]
    pub files: Vec<String>,
}

#[derive(Subcommand, Debug)]
pub enum GroupsCmd {
    /// Add a key group made of the given keys
    Add(GroupsAddCmd),
    /// Delete the key group at INDEX (0-based)
    Delete(GroupsDeleteCmd),
}

/// The keys of a new group: each flag can be given more than once, as in sops.
#[derive(Args, Debug, Default, Clone)]
pub struct GroupKeyArgs {
    /// age recipients (repeatable; each may be a comma-separated list)
    #[arg(long, value_name = "RECIPIENT")]
    pub age: Vec<String>,
    /// PGP fingerprints (repeatable)
    #[arg(long, value_name = "FP")]
    pub pgp: Vec<String>,
    // The remote key sources' repeatable flags.
    #[command(flatten)]
    pub remote: super::remote::Group,
    /// Number of key groups needed to decrypt (Shamir secret sharing)
    #[arg(long = "shamir-secret-sharing-threshold", value_name = "N")]
    pub shamir: Option<usize>,
    /// AWS profile for the KMS keys given with --kms
    #[arg(long, value_name = "PROFILE")]
    pub aws_profile: Option<String>,
    /// KMS encryption context, as key:value pairs separated by commas
    #[arg(long, value_name = "CONTEXT")]
    pub encryption_context: Option<String>,
}

impl GroupKeyArgs {
    /// The same keys as comma-separated key flags.
    pub fn as_key_args(&self) -> KeyArgs {
        let join = |v: &Vec<String>| (!v.is_empty()).then(|| v.join(","));
        KeyArgs {
            age: join(&self.age),
            pgp: join(&self.pgp),
            remote: super::remote::New(self.remote.0.clone()),
            shamir: self.shamir,
            aws_profile: self.aws_profile.clone(),
            encryption_context: self.encryption_context.clone(),
        }
    }
}

#[derive(Args, Debug)]
pub struct GroupsAddCmd {
    /// The encrypted file
    #[arg(short = 'f', long)]
    pub file: String,
    #[command(flatten)]
    pub keys: GroupKeyArgs,
    /// Write the result back to the file (otherwise: stdout)
    #[arg(short = 'i', long)]
    pub in_place: bool,
    #[command(flatten)]
    pub order: OrderArgs,
}

#[derive(Args, Debug)]
pub struct GroupsDeleteCmd {
    /// The encrypted file
    #[arg(short = 'f', long)]
    pub file: String,
    /// Number of key groups needed to decrypt after the deletion
    #[arg(long = "shamir-secret-sharing-threshold", value_name = "N")]
    pub shamir: Option<usize>,
    /// Write the result back to the file (otherwise: stdout)
    #[arg(short = 'i', long)]
    pub in_place: bool,
    #[command(flatten)]
    pub order: OrderArgs,
    /// Index of the group to delete
    pub index: usize,
}

#[derive(Args, Debug)]
pub struct DiffCmd {
    #[command(flatten)]
    pub order: OrderArgs,
    /// The old version: a path, or REV:PATH (e.g. HEAD:secrets.yaml)
    pub a: String,
    /// The new version: a path, or REV:PATH
    pub b: String,
}

#[derive(Args, Debug)]
pub struct CheckCmd {
    /// Also decrypt each encrypted file and verify its MAC (needs the keys)
    #[arg(long)]
    pub verify: bool,
    #[command(flatten)]
    pub batch: BatchArgs,
    /// The files to check: plaintext files a rule covers must be encrypted;
    /// encrypted files must hold no value in clear that their rules encrypt,
    /// no malformed token or metadata, and the recipients .sops.yaml lists
    pub files: Vec<String>,
}

/// A format as clap knows it. The names come from the library's table of
/// formats, so `--help` and the shell completions list them all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormatName(pub Format);

impl ValueEnum for FormatName {
    fn value_variants<'a>() -> &'a [Self] {
        static ALL: LazyLock<Vec<FormatName>> =
            LazyLock::new(|| Format::all().map(FormatName).collect());
        &ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.0.name()))
    }
}

/// What `--input-type` or `--output-type` was given: a known format, or a
/// name sops does not know. sops treats such a name as not given (it uses
/// the file name's format), so clap must accept it; sopx warns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeArg {
    Known(Format),
    Unknown(String),
}

impl TypeArg {
    pub fn known(&self) -> Option<Format> {
        match self {
            TypeArg::Known(f) => Some(*f),
            TypeArg::Unknown(_) => None,
        }
    }
}

/// Reads a [`TypeArg`]: it never fails, and lists [`FormatName`]'s values.
#[derive(Debug, Clone, Copy)]
pub struct TypeParser;

impl TypedValueParser for TypeParser {
    type Value = TypeArg;

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<TypeArg, clap::Error> {
        let name = value.to_string_lossy();
        Ok(FormatName::value_variants()
            .iter()
            .find(|f| f.0.name() == name)
            .map_or_else(
                || TypeArg::Unknown(name.into_owned()),
                |f| TypeArg::Known(f.0),
            ))
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            FormatName::value_variants()
                .iter()
                .filter_map(FormatName::to_possible_value),
        ))
    }
}
