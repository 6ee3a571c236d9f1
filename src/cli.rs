//! Command-line interface: argument parsing and printing only; the work is
//! done by [`crate::ops`].

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use clap::{Args, CommandFactory, Parser, Subcommand};
use serde_json::Value;
use zeroize::Zeroizing;

use crate::error::{Error, codes};
use crate::metadata::{KeyGroup, MasterKey, RuleStrings};
use crate::ops::{self, EncryptOptions};
use crate::stores::Format;

#[derive(Parser, Debug)]
#[command(
    name = "sopx",
    version,
    about = "Lossless, fast, SOPS-compatible encryption of the values in YAML and JSON files",
    long_about = "sopx encrypts the values of YAML and JSON files with a per-file data key wrapped for \
                  age recipients, and writes files the real sops opens. Everything it does not have to \
                  change stays byte-for-byte as it was: comments, blank lines, quoting, key order.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub legacy: Legacy,
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
    /// Comma-separated AWS KMS ARNs (not supported yet)
    #[arg(short = 'k', long, env = "SOPS_KMS_ARN", value_name = "ARNS")]
    pub kms: Option<String>,
    /// Comma-separated GCP KMS resource IDs (not supported yet)
    #[arg(long = "gcp-kms", env = "SOPS_GCP_KMS_IDS", value_name = "IDS")]
    pub gcp_kms: Option<String>,
    /// Comma-separated Azure Key Vault key URLs (not supported yet)
    #[arg(
        long = "azure-kv",
        env = "SOPS_AZURE_KEYVAULT_URLS",
        value_name = "URLS"
    )]
    pub azure_kv: Option<String>,
    /// Comma-separated Vault transit key URIs (not supported yet)
    #[arg(
        long = "hc-vault-transit",
        env = "SOPS_VAULT_URIS",
        value_name = "URIS"
    )]
    pub hc_vault_transit: Option<String>,
    /// Number of key groups needed to decrypt (Shamir; not supported yet)
    #[arg(long = "shamir-secret-sharing-threshold", value_name = "N")]
    pub shamir: Option<usize>,
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
    /// Input format: yaml, json, dotenv, ini, binary (default: from the file extension)
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<String>,
    /// Output format (default: the input format)
    #[arg(long, value_name = "TYPE")]
    pub output_type: Option<String>,
    /// Write the result to FILE instead of stdout
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Write the result back to the input file
    #[arg(short = 'i', long)]
    pub in_place: bool,
    /// Use this file name for format detection and .sops.yaml rules (for stdin input)
    #[arg(long, value_name = "NAME")]
    pub filename_override: Option<PathBuf>,
    /// Path of the .sops.yaml config (default: searched upwards from the file)
    #[arg(long, env = "SOPS_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Print more about what is going on
    #[arg(long)]
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
}

#[derive(Args, Debug)]
pub struct EncryptCmd {
    #[command(flatten)]
    pub keys: KeyArgs,
    #[command(flatten)]
    pub rules: RuleArgs,
    #[command(flatten)]
    pub io: IoArgs,
    /// File to encrypt (`-` for stdin)
    pub file: String,
}

#[derive(Args, Debug)]
pub struct DecryptCmd {
    #[command(flatten)]
    pub io: IoArgs,
    #[command(flatten)]
    pub dec: DecryptOnly,
    /// File to decrypt (`-` for stdin)
    pub file: String,
}

#[derive(Args, Debug)]
pub struct EditCmd {
    #[command(flatten)]
    pub keys: KeyArgs,
    #[command(flatten)]
    pub rules: RuleArgs,
    #[command(flatten)]
    pub io: IoArgs,
    /// Do not check the MAC before editing
    #[arg(long)]
    pub ignore_mac: bool,
    /// File to edit (created if it does not exist)
    pub file: String,
}

#[derive(Args, Debug)]
pub struct SetCmd {
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
    /// The file to check
    pub file: String,
}

/// The clap command, for completions and man pages.
pub fn command() -> clap::Command {
    Cli::command()
}

/// A failure on its way to the user: message and exit code.
pub struct Failure {
    pub code: i32,
    pub msg: String,
}

impl Failure {
    fn new(code: i32, msg: impl Into<String>) -> Failure {
        Failure {
            code,
            msg: msg.into(),
        }
    }
}

type Out<T = ()> = std::result::Result<T, Failure>;

/// Attaches the file name to library errors.
fn at(file: &str) -> impl Fn(Error) -> Failure + '_ {
    move |e| Failure::new(e.exit_code(), format!("{file}: {e}"))
}

/// Runs the command line; returns the exit code.
pub fn run() -> i32 {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(()) => 0,
        Err(f) => {
            let _ = writeln!(std::io::stderr(), "sopx: {}", f.msg);
            f.code
        }
    }
}

fn dispatch(cli: Cli) -> Out {
    match cli.command {
        Some(Command::Encrypt(c)) => encrypt(&c.file, &c.keys, &c.rules, &c.io),
        Some(Command::Decrypt(c)) => decrypt(&c.file, &c.io, &c.dec),
        Some(Command::Edit(c)) => edit(&c.file, &c.keys, &c.rules, &c.io, c.ignore_mac),
        Some(Command::Set(c)) => set(&c),
        Some(Command::Unset(c)) => unset(&c),
        Some(Command::Filestatus(c)) => filestatus(&c.file, &c.io),
        None => {
            let l = cli.legacy;
            let file = l.file.ok_or_else(|| {
                Failure::new(
                    codes::NO_FILE_SPECIFIED,
                    "no file specified (try `sopx --help`)",
                )
            })?;
            if l.encrypt {
                encrypt(&file, &l.keys, &l.rules, &l.io)
            } else if l.decrypt {
                decrypt(&file, &l.io, &l.dec)
            } else {
                edit(&file, &l.keys, &l.rules, &l.io, l.dec.ignore_mac)
            }
        }
    }
}

fn read_input(file: &str) -> Out<Vec<u8>> {
    if file == "-" {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf).map_err(|e| {
            Failure::new(
                codes::COULD_NOT_READ_INPUT_FILE,
                format!("could not read stdin: {e}"),
            )
        })?;
        return Ok(buf);
    }
    std::fs::read(file).map_err(|e| {
        // sops exits 100 for a file that does not exist.
        let code = if e.kind() == std::io::ErrorKind::NotFound {
            codes::NO_FILE_SPECIFIED
        } else {
            codes::COULD_NOT_READ_INPUT_FILE
        };
        Failure::new(code, format!("could not read {file}: {e}"))
    })
}

/// The name used for format detection and config rules.
fn effective_name(file: &str, io: &IoArgs) -> PathBuf {
    io.filename_override
        .clone()
        .unwrap_or_else(|| PathBuf::from(file))
}

fn formats(file: &str, io: &IoArgs) -> Out<(Format, Format)> {
    let name = effective_name(file, io);
    let parse = |s: &str| {
        Format::from_name(s).map_err(|e| Failure::new(codes::ERROR_GENERIC, e.to_string()))
    };
    let input = match &io.input_type {
        Some(t) => parse(t)?,
        None => Format::from_path(&name),
    };
    let output = match &io.output_type {
        Some(t) => parse(t)?,
        None => input,
    };
    Ok((input, output))
}

/// Writes a result where the user asked: in place, to --output, or stdout.
fn write_output(file: &str, io: &IoArgs, data: &[u8]) -> Out {
    let target = if io.in_place {
        if file == "-" {
            return Err(Failure::new(
                codes::ERROR_GENERIC,
                "--in-place needs a file, not stdin",
            ));
        }
        Some(PathBuf::from(file))
    } else {
        io.output.clone()
    };
    match target {
        Some(path) => ops::write_atomic(&path, data).map_err(|e| {
            Failure::new(
                codes::COULD_NOT_WRITE_OUTPUT_FILE,
                format!("could not write {}: {e}", path.display()),
            )
        }),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(data).and_then(|_| out.flush()).map_err(|e| {
                Failure::new(
                    codes::COULD_NOT_WRITE_OUTPUT_FILE,
                    format!("could not write to stdout: {e}"),
                )
            })
        }
    }
}

fn split_list(s: &Option<String>) -> Vec<String> {
    s.as_deref()
        .unwrap_or("")
        .split(',')
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

/// Recipients and rules for a new file: flags first, then `.sops.yaml`.
fn encrypt_options(
    file: &str,
    keys: &KeyArgs,
    rules: &RuleArgs,
    io: &IoArgs,
) -> Out<EncryptOptions> {
    let flag_rules = RuleStrings::from(rules);
    let unsupported = [
        ("--kms", &keys.kms),
        ("--gcp-kms", &keys.gcp_kms),
        ("--azure-kv", &keys.azure_kv),
        ("--hc-vault-transit", &keys.hc_vault_transit),
    ];
    for (flag, v) in unsupported {
        if !split_list(v).is_empty() {
            return Err(Failure::new(
                codes::ERROR_GENERIC,
                format!("{flag} is not supported by this version of sopx yet; use --age"),
            ));
        }
    }
    let age = split_list(&keys.age);
    let pgp = split_list(&keys.pgp);
    let name = effective_name(file, io);
    let rule = crate::config::rule_for(io.config.as_deref(), &name).map_err(at(file))?;
    let mut opts = EncryptOptions::default();
    if !age.is_empty() || !pgp.is_empty() {
        let ages = age.into_iter().map(|r| MasterKey::Age {
            recipient: r,
            enc: String::new(),
        });
        let pgps = pgp.into_iter().map(|fp| MasterKey::Pgp {
            fp: fp.replace(' ', ""),
            created_at: String::new(),
            enc: String::new(),
        });
        opts.key_groups = vec![ages.chain(pgps).collect::<KeyGroup>()];
        opts.shamir_threshold = keys.shamir.unwrap_or(0);
    } else if let Some(rule) = &rule {
        opts.key_groups = rule.key_groups.clone();
        opts.shamir_threshold = keys.shamir.unwrap_or(rule.shamir_threshold);
    }
    opts.rules = match (&rule, flag_rules.is_set()) {
        (Some(r), false) => r.rules.clone(),
        _ => flag_rules,
    };
    if opts.key_groups.iter().all(|g| g.is_empty()) {
        // sops 3.11 exits 1 here (not 111).
        return Err(Failure::new(
            codes::ERROR_GENERIC,
            Error::NoKeys.to_string(),
        ));
    }
    Ok(opts)
}

fn encrypt(file: &str, keys: &KeyArgs, rules: &RuleArgs, io: &IoArgs) -> Out {
    let (input, output) = formats(file, io)?;
    if input != output {
        return Err(Failure::new(
            codes::ERROR_GENERIC,
            "converting between formats while encrypting is not supported yet",
        ));
    }
    let src = read_input(file)?;
    let opts = encrypt_options(file, keys, rules, io)?;
    let out = ops::encrypt(&src, input, &opts).map_err(at(file))?;
    write_output(file, io, &out)
}

fn decrypt(file: &str, io: &IoArgs, dec: &DecryptOnly) -> Out {
    let (input, output) = formats(file, io)?;
    let src = read_input(file)?;
    let opened = ops::open(&src, input, dec.ignore_mac).map_err(at(file))?;
    if opened.decrypted.undecrypted_comments > 0 && io.verbose {
        eprintln!(
            "sopx: {file}: {} comment(s) could not be decrypted and were left as they are",
            opened.decrypted.undecrypted_comments
        );
    }
    let out = if let Some(path) = &dec.extract {
        let path = ops::parse_tree_path(path).map_err(at(file))?;
        Zeroizing::new(crate::convert::extract(&opened, &path, output).map_err(at(file))?)
    } else if input != output {
        Zeroizing::new(crate::convert::convert(&opened, output).map_err(at(file))?)
    } else {
        opened.plaintext().map_err(at(file))?
    };
    write_output(file, io, &out)
}

fn filestatus(file: &str, io: &IoArgs) -> Out {
    let (input, _) = formats(file, io)?;
    let src = read_input(file)?;
    let doc = crate::stores::parse(input, &src).map_err(at(file))?;
    // Like sops: encrypted means metadata with a MAC.
    let encrypted = doc
        .metadata()
        .and_then(|m| m.get("mac"))
        .and_then(Value::as_str)
        .is_some_and(|m| !m.is_empty());
    println!("{}", serde_json::json!({ "encrypted": encrypted }));
    Ok(())
}

fn set(c: &SetCmd) -> Out {
    let (input, _) = formats(&c.file, &c.io)?;
    let raw = if c.value_stdin {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map_err(|e| {
            Failure::new(
                codes::ERROR_INVALID_SET_FORMAT,
                format!("could not read the value from stdin: {e}"),
            )
        })?;
        s
    } else {
        let v = c
            .value
            .clone()
            .ok_or_else(|| Failure::new(codes::ERROR_INVALID_SET_FORMAT, "missing VALUE"))?;
        if c.value_file {
            std::fs::read_to_string(&v).map_err(|e| {
                Failure::new(
                    codes::ERROR_INVALID_SET_FORMAT,
                    format!("could not read {v}: {e}"),
                )
            })?
        } else {
            v
        }
    };
    let value: Value = serde_json::from_str(&raw).map_err(|e| {
        Failure::new(
            codes::ERROR_INVALID_SET_FORMAT,
            format!("the value must be JSON (a string needs quotes: '\"text\"'): {e}"),
        )
    })?;
    let path = ops::parse_tree_path(&c.path).map_err(at(&c.file))?;
    let src = read_input(&c.file)?;
    let opened = ops::open_for_update(&src, input, c.ignore_mac).map_err(at(&c.file))?;
    if c.idempotent
        && let Ok(cur) = crate::convert::value_at(&opened, &path)
        && cur == value
    {
        return Ok(());
    }
    let out = ops::set(&opened, input, &path, &value).map_err(at(&c.file))?;
    ops::write_atomic(Path::new(&c.file), &out).map_err(|e| {
        Failure::new(
            codes::COULD_NOT_WRITE_OUTPUT_FILE,
            format!("could not write {}: {e}", c.file),
        )
    })
}

fn unset(c: &UnsetCmd) -> Out {
    let (input, _) = formats(&c.file, &c.io)?;
    let path = ops::parse_tree_path(&c.path).map_err(at(&c.file))?;
    let src = read_input(&c.file)?;
    let opened = ops::open_for_update(&src, input, c.ignore_mac).map_err(at(&c.file))?;
    let out = match ops::unset(&opened, input, &path) {
        Err(Error::PathNotFound(_)) if c.idempotent => return Ok(()),
        r => r.map_err(at(&c.file))?,
    };
    ops::write_atomic(Path::new(&c.file), &out).map_err(|e| {
        Failure::new(
            codes::COULD_NOT_WRITE_OUTPUT_FILE,
            format!("could not write {}: {e}", c.file),
        )
    })
}

/// The editor command, looked up as sops does.
fn editor() -> Out<Vec<String>> {
    for var in ["SOPS_EDITOR", "EDITOR"] {
        if let Ok(v) = std::env::var(var) {
            let words: Vec<String> = v.split_whitespace().map(String::from).collect();
            if !words.is_empty() {
                return Ok(words);
            }
        }
    }
    for cand in ["vim", "nano", "vi"] {
        if let Some(paths) = std::env::var_os("PATH")
            && std::env::split_paths(&paths).any(|d| d.join(cand).is_file())
        {
            return Ok(vec![cand.to_string()]);
        }
    }
    Err(Failure::new(
        codes::NO_EDITOR_FOUND,
        "no editor found: set SOPS_EDITOR or EDITOR",
    ))
}

const NEW_FILE_YAML: &str =
    "# New file: replace this with your secrets.\nexample_key: example_value\n";
const NEW_FILE_JSON: &str = "{\n    \"example_key\": \"example_value\"\n}\n";

fn edit(file: &str, keys: &KeyArgs, rules: &RuleArgs, io: &IoArgs, ignore_mac: bool) -> Out {
    let (format, _) = formats(file, io)?;
    let path = Path::new(file);
    let existing = path.exists();
    // A new file: encrypt a template first, then edit it like any other.
    let (src, opened) = if existing {
        let src = read_input(file)?;
        let opened = ops::open_for_update(&src, format, ignore_mac).map_err(at(file))?;
        (src, opened)
    } else {
        let opts = encrypt_options(file, keys, rules, io)?;
        let template = if format == Format::Json {
            NEW_FILE_JSON
        } else {
            NEW_FILE_YAML
        };
        let src = ops::encrypt(template.as_bytes(), format, &opts).map_err(at(file))?;
        let opened = ops::open_for_update(&src, format, false).map_err(at(file))?;
        (src, opened)
    };
    let plain = opened.plaintext().map_err(at(file))?;
    let dir = tempfile::Builder::new()
        .prefix("sopx-edit-")
        .tempdir()
        .map_err(|e| {
            Failure::new(
                codes::COULD_NOT_WRITE_OUTPUT_FILE,
                format!("could not create a temporary directory: {e}"),
            )
        })?;
    let name = path
        .file_name()
        .map_or_else(|| "edit".into(), |n| n.to_owned());
    let tmp = dir.path().join(name);
    write_private(&tmp, &plain)?;
    let cmd = editor()?;
    loop {
        let status = std::process::Command::new(&cmd[0])
            .args(&cmd[1..])
            .arg(&tmp)
            .status()
            .map_err(|e| {
                Failure::new(
                    codes::NO_EDITOR_FOUND,
                    format!("could not run editor {:?}: {e}", cmd[0]),
                )
            })?;
        if !status.success() {
            return Err(Failure::new(
                codes::NO_EDITOR_FOUND,
                format!(
                    "editor {:?} exited with {status}; {file} was not changed",
                    cmd[0]
                ),
            ));
        }
        let edited = Zeroizing::new(std::fs::read(&tmp).map_err(|e| {
            Failure::new(
                codes::COULD_NOT_READ_INPUT_FILE,
                format!("could not read the edited file: {e}"),
            )
        })?);
        if *edited == *plain && existing {
            return Err(Failure::new(
                codes::FILE_HAS_NOT_BEEN_MODIFIED,
                format!("{file}: file has not been modified"),
            ));
        }
        match ops::reseal(&opened, &edited, format) {
            Ok(out) => {
                return ops::write_atomic(path, &out).map_err(|e| {
                    Failure::new(
                        codes::COULD_NOT_WRITE_OUTPUT_FILE,
                        format!("could not write {file}: {e}"),
                    )
                });
            }
            Err(e) => {
                let msg = format!("{file}: the edited file is not valid: {e}");
                if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
                    eprintln!("sopx: {msg}");
                    let again = dialoguer::Confirm::new()
                        .with_prompt("Re-open the editor to fix it? (no discards your changes)")
                        .default(true)
                        .interact()
                        .unwrap_or(false);
                    if again {
                        continue;
                    }
                }
                let _ = &src;
                return Err(Failure::new(
                    e.exit_code(),
                    format!("{msg}\nyour changes were discarded and {file} was not changed"),
                ));
            }
        }
    }
}

/// Creates a file only the user can read (0600).
fn write_private(path: &Path, data: &[u8]) -> Out {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| {
        Failure::new(
            codes::COULD_NOT_WRITE_OUTPUT_FILE,
            format!("could not create {}: {e}", path.display()),
        )
    })?;
    f.write_all(data).and_then(|_| f.sync_all()).map_err(|e| {
        Failure::new(
            codes::COULD_NOT_WRITE_OUTPUT_FILE,
            format!("could not write {}: {e}", path.display()),
        )
    })
}
