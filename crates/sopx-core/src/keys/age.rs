//! age recipients and identities.
//!
//! Encryption produces the ASCII-armored age file that sops stores in an
//! `age` entry's `enc` field. Recipients are X25519 keys (`age1…`) or SSH
//! public keys (`ssh-ed25519 AAAA…`, `ssh-rsa AAAA…`).
//!
//! Identities are gathered the way sops 3.11 does (`age/keysource.go`):
//! every source below that is present is loaded, none takes precedence, and
//! problems with one source are only reported if decryption then fails.
//!
//! | source | what it holds |
//! | --- | --- |
//! | `SOPS_AGE_KEY` | identities, inline (one per line or several on a line separated by spaces, `#` comments) |
//! | `SOPS_AGE_KEY_FILE` | path of an identity file, or of a passphrase-protected one (asked for on the terminal) |
//! | `SOPS_AGE_KEY_CMD` | a command printing identities; split into words like a shell would, then run directly (sops uses no shell either), once per recipient with `SOPS_AGE_RECIPIENT` set to it |
//! | `<config dir>/sops/age/keys.txt` | the default identity file, if it exists |
//! | `SOPS_AGE_SSH_PRIVATE_KEY_FILE` | an SSH private key (ed25519 or rsa; a passphrase is asked for on the terminal) |
//! | `SOPS_AGE_SSH_PRIVATE_KEY_CMD` | a command printing an SSH private key |
//! | `~/.ssh/id_ed25519`, `~/.ssh/id_rsa` | each loaded if it exists, whether or not the variable above is set (sops ≥ 3.11) |
//!
//! Identities may be plugin identities (`AGE-PLUGIN-NAME-1…`) and
//! recipients plugin recipients (`age1NAME1…`): sopx then runs
//! `age-plugin-NAME` from PATH and speaks the age plugin protocol with it,
//! through the `age` crate; the plugin's questions go to the terminal.
//! Post-quantum recipients (`age1pq1…`) are refused: the `age` crate 0.11
//! has no ML-KEM.
//!
//! `<config dir>` is Go's `os.UserConfigDir()` as sops uses it:
//! `$XDG_CONFIG_HOME` (must be absolute) or `~/.config` on Linux and other
//! Unixes; `$XDG_CONFIG_HOME` if set, else `~/Library/Application Support`
//! on macOS; `%AppData%` on Windows.

use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use age::armor::{ArmoredReader, ArmoredWriter, Format};
use zeroize::Zeroizing;

use super::KeyError;
pub use super::env::{Env, ProcessEnv};
use super::env::{home_dir, non_empty};

pub const SOPS_AGE_KEY: &str = "SOPS_AGE_KEY";
pub const SOPS_AGE_KEY_FILE: &str = "SOPS_AGE_KEY_FILE";
pub const SOPS_AGE_KEY_CMD: &str = "SOPS_AGE_KEY_CMD";
pub const SOPS_AGE_SSH_PRIVATE_KEY_FILE: &str = "SOPS_AGE_SSH_PRIVATE_KEY_FILE";
pub const SOPS_AGE_SSH_PRIVATE_KEY_CMD: &str = "SOPS_AGE_SSH_PRIVATE_KEY_CMD";
/// Set for `SOPS_AGE_KEY_CMD`: the recipient whose identity is wanted.
pub const SOPS_AGE_RECIPIENT: &str = "SOPS_AGE_RECIPIENT";
/// The default identity file, relative to the user config directory.
pub const DEFAULT_KEYS_FILE: &str = "sops/age/keys.txt";

const RECIPIENT_HELP: &str = "a valid recipient is an age public key (`age1` followed by 58 \
     characters, as printed by `age-keygen -y`) or an SSH public key \
     (`ssh-ed25519 AAAA…` or `ssh-rsa AAAA…`)";

// ---------------------------------------------------------------------------
// Recipients and encryption
// ---------------------------------------------------------------------------

/// Why a string is not an age recipient sopx can encrypt to; the message
/// says what a valid recipient looks like.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecipientError {
    /// Looks like a plugin recipient (`age1NAME1…`) but does not parse; the
    /// parser's reason.
    #[error("not a valid age plugin recipient ({0}); {RECIPIENT_HELP}")]
    Plugin(String),
    /// A post-quantum recipient (`age1pq1…`), which the age crate cannot
    /// encrypt to.
    #[error(
        "post-quantum age recipients (age1pq1…) are not supported: the age crate sopx \
         is built with (0.11) has no ML-KEM; use an X25519 or SSH recipient"
    )]
    PostQuantum,
    /// The plugin's program failed or is missing: its name and the reason.
    #[error("age plugin {0}: {1} (the program age-plugin-{0} must be on PATH)")]
    PluginProgram(String, String),
    /// An `age1…` string that is not an X25519 key; the parser's reason.
    #[error("not a valid age public key ({0}); {RECIPIENT_HELP}")]
    X25519(String),
    /// An ssh-rsa key under 2048 bits.
    #[error("the ssh-rsa key is too small: age needs at least 2048 bits")]
    RsaTooSmall,
    /// An ssh-rsa key over age's limit.
    #[error("the ssh-rsa key is larger than age supports")]
    RsaTooLarge,
    /// An SSH key of another type (its name).
    #[error("SSH key type {0} cannot be used with age; use an ssh-ed25519 or ssh-rsa key")]
    SshKeyType(String),
    /// An `ssh-…` string that does not parse.
    #[error("not a valid SSH public key; {RECIPIENT_HELP}")]
    Ssh,
    /// Neither `age1…` nor `ssh-…`.
    #[error("unknown recipient type; {RECIPIENT_HELP}")]
    Unknown,
}

/// A plugin recipient (`age1NAME1…`), parsed but not yet bound to its
/// `age-plugin-NAME` program.
fn parse_plugin_recipient(r: &str) -> Result<age::plugin::Recipient, RecipientError> {
    let parsed = r
        .parse::<age::plugin::Recipient>()
        .map_err(|e| RecipientError::Plugin(e.to_string()))?;
    if parsed.plugin() == "pq" {
        return Err(RecipientError::PostQuantum);
    }
    Ok(parsed)
}

fn parse_recipient(recipient: &str) -> Result<Box<dyn age::Recipient>, RecipientError> {
    let r = recipient.trim();
    if r.starts_with("age1") {
        // The bech32 data part never contains a `1`, so a second one marks a
        // plugin recipient (`age1yubikey1…`) or a post-quantum one (`age1pq1…`).
        if r.matches('1').count() > 1 {
            let parsed = parse_plugin_recipient(r)?;
            let plugin = age::plugin::RecipientPluginV1::new(
                parsed.plugin(),
                std::slice::from_ref(&parsed),
                &[],
                PromptCallbacks,
            )
            .map_err(|e| {
                RecipientError::PluginProgram(parsed.plugin().to_string(), e.to_string())
            })?;
            return Ok(Box::new(plugin));
        }
        return r
            .parse::<age::x25519::Recipient>()
            .map(|k| Box::new(k) as Box<dyn age::Recipient>)
            .map_err(|e| RecipientError::X25519(e.to_string()));
    }
    if r.starts_with("ssh-") {
        use age::ssh::ParseRecipientKeyError as E;
        return r
            .parse::<age::ssh::Recipient>()
            .map(|k| Box::new(k) as Box<dyn age::Recipient>)
            .map_err(|e| match e {
                E::RsaModulusTooSmall => RecipientError::RsaTooSmall,
                E::RsaModulusTooLarge => RecipientError::RsaTooLarge,
                E::Unsupported(kind) => RecipientError::SshKeyType(kind),
                E::Ignore | E::Invalid(_) => RecipientError::Ssh,
            });
    }
    Err(RecipientError::Unknown)
}

/// Checks that `recipient` (surrounding whitespace allowed) can be encrypted
/// to; the error says why not and what a valid recipient looks like.
pub fn check_recipient(recipient: &str) -> Result<(), RecipientError> {
    let r = recipient.trim();
    if r.starts_with("age1") && r.matches('1').count() > 1 {
        // The plugin program is only looked for when it is needed.
        return parse_plugin_recipient(r).map(|_| ());
    }
    parse_recipient(recipient).map(|_| ())
}

/// What to tell the user when an age plugin fails or is missing.
fn plugin_error(name: &str, e: &str) -> String {
    RecipientError::PluginProgram(name.to_string(), e.to_string()).to_string()
}

/// How age plugins and passphrase-protected identities ask the user
/// something. The sopx binary installs a terminal prompt with
/// [`set_prompt`]; without one every question goes unanswered and the plugin
/// or identity fails with its own error.
pub trait Prompt: Send + Sync {
    /// A yes/no question; `None` when it cannot be asked.
    fn confirm(&self, message: &str, yes: &str, no: Option<&str>) -> Option<bool>;
    /// A value that is not secret (a PIN prompt's label, a serial number).
    fn public_string(&self, description: &str) -> Option<String>;
    /// A passphrase or PIN.
    fn passphrase(&self, description: &str) -> Option<age::secrecy::SecretString>;
}

static PROMPT: std::sync::OnceLock<Box<dyn Prompt>> = std::sync::OnceLock::new();

/// Installs the process's [`Prompt`]; the first call wins (returns `false`
/// after that).
pub fn set_prompt(prompt: Box<dyn Prompt>) -> bool {
    PROMPT.set(prompt).is_ok()
}

/// The age callbacks: messages to stderr, questions to the installed
/// [`Prompt`].
#[derive(Clone, Copy)]
pub struct PromptCallbacks;

impl age::Callbacks for PromptCallbacks {
    fn display_message(&self, message: &str) {
        eprintln!("sopx: {message}");
    }

    fn confirm(&self, message: &str, yes: &str, no: Option<&str>) -> Option<bool> {
        PROMPT.get()?.confirm(message, yes, no)
    }

    fn request_public_string(&self, description: &str) -> Option<String> {
        PROMPT.get()?.public_string(description)
    }

    fn request_passphrase(&self, description: &str) -> Option<age::secrecy::SecretString> {
        match PROMPT.get() {
            Some(p) => p.passphrase(description),
            None => {
                eprintln!("sopx: {description}: no way to ask for the passphrase");
                None
            }
        }
    }
}

/// Encrypts `secret` to `recipient`, returning the ASCII-armored age file
/// exactly as sops stores it in `enc`.
pub fn encrypt(recipient: &str, secret: &[u8]) -> Result<String, KeyError> {
    let err = |msg: String| KeyError::Encrypt {
        key: format!("age recipient {:?}", recipient.trim()),
        msg,
    };
    let r = parse_recipient(recipient).map_err(|e| err(e.to_string()))?;
    let encryptor = age::Encryptor::with_recipients(std::iter::once(r.as_ref()))
        .map_err(|e| err(e.to_string()))?;
    let mut out = Vec::with_capacity(512);
    let write = |out: &mut Vec<u8>| -> std::io::Result<()> {
        let armor = ArmoredWriter::wrap_output(out, Format::AsciiArmor)?;
        let mut w = encryptor.wrap_output(armor)?;
        w.write_all(secret)?;
        w.finish()?.finish()?;
        Ok(())
    };
    write(&mut out).map_err(|e| err(e.to_string()))?;
    String::from_utf8(out).map_err(|_| err("armored output is not UTF-8".into()))
}

// ---------------------------------------------------------------------------
// Environment
// ---------------------------------------------------------------------------

/// Why the user config directory is unknown (sops's messages); the
/// default identity file is then skipped, and the reason shown only if
/// decryption fails.
#[derive(Debug, thiserror::Error)]
enum ConfigDirError {
    #[error("%AppData% is not defined")]
    NoAppData,
    #[error("$HOME is not defined")]
    NoHome,
    #[error("path in $XDG_CONFIG_HOME is relative: {}", .0.display())]
    RelativeXdg(PathBuf),
    #[error("neither $XDG_CONFIG_HOME nor $HOME are defined")]
    Neither,
}

/// The user config directory as sops 3.11 computes it (`getUserConfigDir`).
fn user_config_dir(env: &dyn Env) -> Result<PathBuf, ConfigDirError> {
    if cfg!(windows) {
        return non_empty(env, "APPDATA")
            .map(PathBuf::from)
            .ok_or(ConfigDirError::NoAppData);
    }
    if cfg!(target_os = "macos") {
        // sops honours XDG_CONFIG_HOME on macOS itself; Go would not.
        if let Some(x) = non_empty(env, "XDG_CONFIG_HOME") {
            return Ok(PathBuf::from(x));
        }
        return home_dir(env)
            .map(|h| h.join("Library").join("Application Support"))
            .ok_or(ConfigDirError::NoHome);
    }
    if let Some(x) = non_empty(env, "XDG_CONFIG_HOME") {
        let p = PathBuf::from(x);
        if !p.is_absolute() {
            return Err(ConfigDirError::RelativeXdg(p));
        }
        return Ok(p);
    }
    home_dir(env)
        .map(|h| h.join(".config"))
        .ok_or(ConfigDirError::Neither)
}

/// A path for messages, with the home directory shown as `~`.
fn show_path(p: &Path, home: Option<&Path>) -> String {
    if let Some(rest) = home.and_then(|h| p.strip_prefix(h).ok()) {
        let sep = std::path::MAIN_SEPARATOR;
        return format!("~{sep}{}", rest.display());
    }
    p.display().to_string()
}

// ---------------------------------------------------------------------------
// Identities
// ---------------------------------------------------------------------------

/// What became of one place identities were looked for.
enum Outcome {
    Loaded(usize),
    NotFound,
    Empty,
    Failed(String),
}

struct Source {
    /// Never holds secret material: a variable name, a path or a command.
    label: String,
    outcome: Outcome,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.outcome {
            Outcome::Loaded(1) => write!(f, "{} (1 identity)", self.label),
            Outcome::Loaded(n) => write!(f, "{} ({n} identities)", self.label),
            Outcome::NotFound => write!(f, "{} (not found)", self.label),
            Outcome::Empty => write!(f, "{} (no identities in it)", self.label),
            Outcome::Failed(e) => write!(f, "{} (error: {e})", self.label),
        }
    }
}

/// The age identities available for decryption, and a record of where they
/// were looked for (for error messages).
pub struct Identities {
    ids: Vec<Box<dyn age::Identity>>,
    sources: Vec<Source>,
    /// `SOPS_AGE_KEY_CMD`, run once per recipient (with
    /// `SOPS_AGE_RECIPIENT` set) when a key of that recipient is decrypted.
    key_cmd: Option<String>,
    by_recipient: std::cell::RefCell<Vec<CmdRun>>,
}

/// One run of `SOPS_AGE_KEY_CMD`: the recipient, its identities, the outcome.
type CmdRun = (String, Vec<Box<dyn age::Identity>>, Source);

impl fmt::Debug for Identities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identities")
            .field("count", &self.ids.len())
            .field("looked_in", &self.locations())
            .finish()
    }
}

/// Why one identity source could not be used; shown (after the source's
/// label) only if decryption then fails. Never holds key material.
#[derive(Debug, thiserror::Error)]
enum IdentityError {
    #[error("could not open it: {0}")]
    Open(#[source] std::io::Error),
    #[error("not a readable age-encrypted identity file: {0}")]
    EncryptedFile(#[source] age::DecryptError),
    #[error(
        "this age file is encrypted to a recipient, not with a passphrase; it cannot be used \
         as an identity file"
    )]
    NotPassphrase,
    #[error("the identities are not valid UTF-8")]
    NotUtf8,
    /// A bad `AGE-PLUGIN-…` word: its line (from 1) and the parser's reason.
    #[error("line {0}: not a valid age plugin identity: {1}")]
    PluginIdentity(usize, String),
    /// The identity file's text could not be read as one.
    #[error(transparent)]
    IdentityFile(std::io::Error),
    /// A line is not an identity.
    #[error(transparent)]
    Identities(age::DecryptError),
    #[error("could not read it: {0}")]
    ReadSsh(#[source] std::io::Error),
    #[error("not a usable SSH private key: {0}")]
    SshKey(#[source] std::io::Error),
    #[error("the SSH key is an encrypted PEM key, which age cannot use")]
    SshEncryptedPem,
    /// An SSH key encrypted with a cipher age lacks (its name).
    #[error("the SSH key is encrypted with {0}, which age cannot use")]
    SshCipher(String),
    #[error("SSH key type {0} cannot be used with age (only ssh-ed25519 and ssh-rsa can)")]
    SshKeyType(String),
    #[error("could not split the command into words (unbalanced quotes?)")]
    CommandWords,
    #[error("the command is empty")]
    CommandEmpty,
    /// The program that could not be started.
    #[error("could not run {0}: {1}")]
    CommandRun(String, #[source] std::io::Error),
    #[error("the command failed ({0})")]
    CommandFailed(std::process::ExitStatus),
    /// The same, with the start of what it printed on stderr.
    #[error("the command failed ({0}): {1}")]
    CommandFailedSaying(std::process::ExitStatus, String),
}

/// Parses identity-file text (`AGE-SECRET-KEY-1…` lines, `#` comments and
/// blank lines). Surrounding whitespace on a line is ignored.
fn parse_identity_text(text: &[u8]) -> Result<Vec<Box<dyn age::Identity>>, IdentityError> {
    parse_identities(text, None)
}

/// Parses identities: `AGE-SECRET-KEY-1…` and `AGE-PLUGIN-…` lines (several
/// on one line, separated by spaces, are accepted too), `#` comments and
/// blank lines; or a passphrase-protected identity file (an age file
/// encrypted with a passphrase, armored or not), asked for on the terminal
/// when it is first needed. `name` names the file in the prompt.
fn parse_identities(
    text: &[u8],
    name: Option<String>,
) -> Result<Vec<Box<dyn age::Identity>>, IdentityError> {
    let start = text
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(text.len());
    let body = &text[start..];
    if body.starts_with(b"age-encryption") || body.starts_with(b"-----BEGIN AGE") {
        let data = std::io::Cursor::new(Zeroizing::new(body.to_vec()));
        let id = age::encrypted::Identity::from_buffer(
            ArmoredReader::new(data),
            name,
            PromptCallbacks,
            None,
        )
        .map_err(IdentityError::EncryptedFile)?
        .ok_or(IdentityError::NotPassphrase)?;
        return Ok(vec![Box::new(id)]);
    }
    let text = std::str::from_utf8(text).map_err(|_| IdentityError::NotUtf8)?;
    let mut normalized = Zeroizing::new(String::with_capacity(text.len()));
    let mut plugins: Vec<age::plugin::Identity> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        for word in line.split_whitespace() {
            if word.starts_with("AGE-PLUGIN-") {
                let id = word
                    .parse::<age::plugin::Identity>()
                    .map_err(|e| IdentityError::PluginIdentity(n + 1, e.to_string()))?;
                plugins.push(id);
            } else {
                normalized.push_str(word);
                normalized.push('\n');
            }
        }
    }
    let file = age::IdentityFile::from_buffer(normalized.as_bytes())
        .map_err(IdentityError::IdentityFile)?;
    let mut out = file.into_identities().map_err(IdentityError::Identities)?;
    let mut names: Vec<String> = plugins.iter().map(|p| p.plugin().to_string()).collect();
    names.sort();
    names.dedup();
    for name in names {
        out.push(Box::new(LazyPlugin {
            identities: plugins
                .iter()
                .filter(|p| p.plugin() == name)
                .cloned()
                .collect(),
            name,
        }));
    }
    Ok(out)
}

/// Plugins that could not be started, for the error when no identity
/// could decrypt.
static PLUGIN_PROBLEMS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// A plugin's identities; the plugin program is looked for when a stanza
/// is to be unwrapped, as sops does, so that a plugin missing here (a
/// hardware key's plugin on a CI machine) does not stop the other
/// identities of the same source.
struct LazyPlugin {
    name: String,
    identities: Vec<age::plugin::Identity>,
}

impl age::Identity for LazyPlugin {
    fn unwrap_stanza(
        &self,
        stanza: &age_core::format::Stanza,
    ) -> Option<Result<age_core::format::FileKey, age::DecryptError>> {
        self.unwrap_stanzas(std::slice::from_ref(stanza))
    }

    fn unwrap_stanzas(
        &self,
        stanzas: &[age_core::format::Stanza],
    ) -> Option<Result<age_core::format::FileKey, age::DecryptError>> {
        match age::plugin::IdentityPluginV1::new(&self.name, &self.identities, PromptCallbacks) {
            Ok(p) => p.unwrap_stanzas(stanzas),
            Err(e) => {
                // Not this identity's to answer: let the others try.
                let msg = plugin_error(&self.name, &e.to_string());
                let mut problems = PLUGIN_PROBLEMS.lock().unwrap_or_else(|e| e.into_inner());
                if !problems.contains(&msg) {
                    problems.push(msg);
                }
                None
            }
        }
    }
}

/// Loads an SSH private key file as an age identity.
fn load_ssh_key(path: &Path) -> Result<Box<dyn age::Identity>, IdentityError> {
    let data = Zeroizing::new(std::fs::read(path).map_err(IdentityError::ReadSsh)?);
    ssh_identity(&data, path.display().to_string())
}

/// An SSH private key (ed25519 or rsa) as an age identity; a
/// passphrase-protected one asks for its passphrase on the terminal when
/// it is first needed.
fn ssh_identity(data: &[u8], name: String) -> Result<Box<dyn age::Identity>, IdentityError> {
    use age::ssh::{Identity, UnsupportedKey};
    let id = Identity::from_buffer(data, Some(name)).map_err(IdentityError::SshKey)?;
    match id {
        Identity::Unencrypted(_) => Ok(Box::new(id)),
        Identity::Encrypted(_) => Ok(Box::new(id.with_callbacks(PromptCallbacks))),
        Identity::Unsupported(u) => Err(match u {
            UnsupportedKey::EncryptedPem => IdentityError::SshEncryptedPem,
            UnsupportedKey::EncryptedSsh(cipher) => IdentityError::SshCipher(cipher.to_string()),
            UnsupportedKey::Hardware(kind) | UnsupportedKey::Type(kind) => {
                IdentityError::SshKeyType(kind.to_string())
            }
        }),
    }
}

/// Runs the `SOPS_AGE_KEY_CMD` command as sops does: split into words with
/// shell quoting rules, executed directly, stdin closed, stdout captured.
fn run_key_cmd(cmd: &str, recipient: Option<&str>) -> Result<Zeroizing<Vec<u8>>, IdentityError> {
    let args = shlex::split(cmd).ok_or(IdentityError::CommandWords)?;
    let (prog, rest) = args.split_first().ok_or(IdentityError::CommandEmpty)?;
    let mut c = Command::new(prog);
    if let Some(r) = recipient {
        c.env(SOPS_AGE_RECIPIENT, r);
    }
    let out = c
        .args(rest)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| IdentityError::CommandRun(prog.clone(), e))?;
    let stdout = Zeroizing::new(out.stdout);
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let mut stderr = stderr.trim().to_string();
        if stderr.chars().count() > 300 {
            stderr = stderr.chars().take(300).collect::<String>() + "…";
        }
        return Err(if stderr.is_empty() {
            IdentityError::CommandFailed(out.status)
        } else {
            IdentityError::CommandFailedSaying(out.status, stderr)
        });
    }
    Ok(stdout)
}

impl Identities {
    /// Gathers identities from every source sops 3.11 uses (see the module
    /// documentation), reading the variables from `env`. Never fails:
    /// problems are kept and reported by [`Identities::decrypt`] if no
    /// identity can decrypt.
    pub fn load_from(env: &dyn Env) -> Identities {
        let mut me = Identities::empty();
        let home = home_dir(env);
        let home = home.as_deref();

        if let Some(v) = env.var_os(SOPS_AGE_KEY) {
            let text = Zeroizing::new(v.into_encoded_bytes());
            let res = parse_identity_text(&text);
            me.add(SOPS_AGE_KEY.to_string(), res);
        }

        if let Some(v) = env.var_os(SOPS_AGE_KEY_FILE) {
            let path = PathBuf::from(v);
            let label = format!("{SOPS_AGE_KEY_FILE}={}", path.display());
            let res = match std::fs::read(&path) {
                Ok(data) => parse_identity_text(&Zeroizing::new(data)),
                Err(e) => Err(IdentityError::Open(e)),
            };
            me.add(label, res);
        }

        if let Some(v) = env.var_os(SOPS_AGE_KEY_CMD) {
            me.key_cmd = Some(v.to_string_lossy().into_owned());
        }

        match user_config_dir(env) {
            Ok(dir) => {
                let path = dir.join(DEFAULT_KEYS_FILE);
                let label = show_path(&path, home);
                match std::fs::read(&path) {
                    Ok(data) => {
                        let res = parse_identity_text(&Zeroizing::new(data));
                        me.add(label, res);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => me.sources.push(Source {
                        label,
                        outcome: Outcome::NotFound,
                    }),
                    Err(e) => me.add(label, Err(IdentityError::Open(e))),
                }
            }
            Err(e) => me.sources.push(Source {
                label: DEFAULT_KEYS_FILE.to_string(),
                outcome: Outcome::Failed(format!("user config directory unknown: {e}")),
            }),
        }

        if let Some(v) = env.var_os(SOPS_AGE_SSH_PRIVATE_KEY_FILE) {
            let path = PathBuf::from(v);
            let label = format!("{SOPS_AGE_SSH_PRIVATE_KEY_FILE}={}", path.display());
            let res = load_ssh_key(&path).map(|id| vec![id]);
            me.add(label, res);
        }

        if let Some(v) = env.var_os(SOPS_AGE_SSH_PRIVATE_KEY_CMD) {
            let cmd = v.to_string_lossy().into_owned();
            let label = format!("{SOPS_AGE_SSH_PRIVATE_KEY_CMD}={cmd:?}");
            let res = run_key_cmd(&cmd, None)
                .and_then(|out| ssh_identity(&out, SOPS_AGE_SSH_PRIVATE_KEY_CMD.into()))
                .map(|id| vec![id]);
            me.add(label, res);
        }

        if let Some(h) = home {
            for name in ["id_ed25519", "id_rsa"] {
                let path = h.join(".ssh").join(name);
                let label = show_path(&path, Some(h));
                if path.exists() {
                    let res = load_ssh_key(&path).map(|id| vec![id]);
                    me.add(label, res);
                } else {
                    me.sources.push(Source {
                        label,
                        outcome: Outcome::NotFound,
                    });
                }
            }
        }
        me
    }

    /// No identity at all.
    pub fn empty() -> Identities {
        Identities {
            ids: Vec::new(),
            sources: Vec::new(),
            key_cmd: None,
            by_recipient: Default::default(),
        }
    }

    /// The identities in `text` (an age key file's content); `label` names
    /// them in messages and never holds key material.
    pub fn from_text(label: &str, text: &str) -> Result<Identities, KeyError> {
        let ids = parse_identity_text(text.as_bytes())
            .map_err(|e| KeyError::Identity(format!("{label}: {e}")))?;
        let mut me = Identities::empty();
        me.add(label.to_string(), Ok(ids));
        Ok(me)
    }

    /// Adds `other`'s identities after these.
    pub fn extend(&mut self, other: Identities) {
        self.ids.extend(other.ids);
        self.sources.extend(other.sources);
        if self.key_cmd.is_none() {
            self.key_cmd = other.key_cmd;
        }
    }

    fn add(&mut self, label: String, res: Result<Vec<Box<dyn age::Identity>>, IdentityError>) {
        let outcome = match res {
            Ok(ids) if ids.is_empty() => Outcome::Empty,
            Ok(ids) => {
                let n = ids.len();
                self.ids.extend(ids);
                Outcome::Loaded(n)
            }
            Err(e) => Outcome::Failed(e.to_string()),
        };
        self.sources.push(Source { label, outcome });
    }

    /// How many identities were loaded (those of `SOPS_AGE_KEY_CMD` count
    /// once it has run).
    pub fn len(&self) -> usize {
        self.ids.len()
            + self
                .by_recipient
                .borrow()
                .iter()
                .map(|(_, ids, _)| ids.len())
                .sum::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0 && self.key_cmd.is_none()
    }

    /// Runs `SOPS_AGE_KEY_CMD` for `recipient`, once.
    fn run_cmd_for(&self, recipient: &str) {
        let Some(cmd) = &self.key_cmd else { return };
        if self
            .by_recipient
            .borrow()
            .iter()
            .any(|(r, _, _)| r == recipient)
        {
            return;
        }
        let label = format!("{SOPS_AGE_KEY_CMD}={cmd:?}");
        let res = run_key_cmd(cmd, Some(recipient)).and_then(|out| parse_identity_text(&out));
        let (ids, outcome) = match res {
            Ok(ids) if ids.is_empty() => (ids, Outcome::Empty),
            Ok(ids) => {
                let n = ids.len();
                (ids, Outcome::Loaded(n))
            }
            Err(e) => (Vec::new(), Outcome::Failed(e.to_string())),
        };
        self.by_recipient.borrow_mut().push((
            recipient.to_string(),
            ids,
            Source { label, outcome },
        ));
    }

    /// Every place looked in and what was found there, e.g.
    /// `SOPS_AGE_KEY_FILE=/x (1 identity), ~/.config/sops/age/keys.txt (not found)`.
    pub fn locations(&self) -> String {
        let by = self.by_recipient.borrow();
        let cmd = by.last().map(|(_, _, s)| s.to_string());
        self.sources
            .iter()
            .map(|s| s.to_string())
            .chain(cmd)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Problems with sources that were present but could not be used (a
    /// missing `SOPS_AGE_KEY_FILE`, a malformed key, a failing command…).
    pub fn problems(&self) -> Vec<String> {
        let by = self.by_recipient.borrow();
        self.sources
            .iter()
            .chain(by.iter().map(|(_, _, s)| s))
            .filter(|s| matches!(s.outcome, Outcome::Failed(_)))
            .map(|s| s.to_string())
            .collect()
    }

    /// Decrypts an armored age file (an `enc` field) with any identity.
    pub fn decrypt(&self, enc: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        self.decrypt_for("", enc)
    }

    /// Decrypts the `enc` field of the key of `recipient`: with every
    /// identity, and those `SOPS_AGE_KEY_CMD` prints for this recipient.
    pub fn decrypt_for(&self, recipient: &str, enc: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        self.run_cmd_for(recipient);
        let by = self.by_recipient.borrow();
        let extra: Vec<&dyn age::Identity> = by
            .iter()
            .filter(|(r, _, _)| r == recipient)
            .flat_map(|(_, ids, _)| ids.iter().map(|i| i.as_ref()))
            .collect();
        if self.ids.is_empty() && extra.is_empty() {
            return Err(KeyError::Identity(format!(
                "no age identity found (looked in: {})",
                self.locations()
            )));
        }
        // Tolerate surrounding whitespace and CRLF line ends around the armor.
        let enc = format!("{}\n", enc.trim().replace("\r\n", "\n"));
        let decryptor =
            age::Decryptor::new_buffered(ArmoredReader::new(enc.as_bytes())).map_err(|e| {
                KeyError::Identity(format!(
                    "the encrypted data key is not a valid age file: {e}"
                ))
            })?;
        let all = self
            .ids
            .iter()
            .map(|i| i.as_ref())
            .chain(extra.iter().copied());
        let mut reader = match decryptor.decrypt(all) {
            Ok(r) => r,
            Err(age::DecryptError::NoMatchingKeys) => {
                let plugins = PLUGIN_PROBLEMS
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .join("; ");
                let plugins = if plugins.is_empty() {
                    String::new()
                } else {
                    format!("; {plugins}")
                };
                return Err(KeyError::Identity(format!(
                    "no identity matched any recipient (looked in: {}){plugins}",
                    self.locations()
                )));
            }
            Err(e) => {
                return Err(KeyError::Identity(format!(
                    "could not decrypt the data key: {e} (looked in: {})",
                    self.locations()
                )));
            }
        };
        let mut out = Zeroizing::new(Vec::with_capacity(64));
        reader
            .read_to_end(&mut out)
            .map_err(|e| KeyError::Identity(format!("could not decrypt the data key: {e}")))?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use age::secrecy::ExposeSecret;
    use std::collections::HashMap;
    use std::ffi::OsString;

    const FIXTURE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/keys/age-test.txt"
    );
    const FIXTURE_PUBLIC: &str = "age1cjw0fpmk6v645m4zfqq093j8fjftqmxq538j5xnl3n29h9pcmenqws6xat";

    /// A fixed unencrypted ed25519 key, for machines without `ssh-keygen`.
    const SSH_ED25519_PRIVATE: &str = "-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACBN38n/p/hMjVIyR2zE3mYRtjwfilFrjpsn4UXHUmn6swAAAJBYH4MKWB+D
CgAAAAtzc2gtZWQyNTUxOQAAACBN38n/p/hMjVIyR2zE3mYRtjwfilFrjpsn4UXHUmn6sw
AAAEDs1a3quL6uL1DCW4KjXo6wLaQMyP4o9l4Jbn6p+BneFk3fyf+n+EyNUjJHbMTeZhG2
PB+KUWuOmyfhRcdSafqzAAAACXNvcHgtdGVzdAECAwQ=
-----END OPENSSH PRIVATE KEY-----
";
    const SSH_ED25519_PUBLIC: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE3fyf+n+EyNUjJHbMTeZhG2PB+KUWuOmyfhRcdSafqz sopx-test";

    /// An environment holding only `vars`, with HOME pointing at an empty
    /// directory so nothing of the real user's is picked up.
    struct TestEnv {
        _home: tempfile::TempDir,
        vars: HashMap<String, OsString>,
    }

    impl TestEnv {
        fn new(vars: &[(&str, &str)]) -> TestEnv {
            let home = tempfile::tempdir().unwrap();
            let mut map: HashMap<String, OsString> = vars
                .iter()
                .map(|(k, v)| (k.to_string(), OsString::from(v)))
                .collect();
            map.entry("HOME".into())
                .or_insert_with(|| home.path().as_os_str().to_owned());
            TestEnv {
                _home: home,
                vars: map,
            }
        }
        fn home(&self) -> PathBuf {
            PathBuf::from(&self.vars["HOME"])
        }
        fn load(&self) -> Identities {
            let f = |k: &str| self.vars.get(k).cloned();
            Identities::load_from(&f)
        }
    }

    fn generated() -> (String, String) {
        let id = age::x25519::Identity::generate();
        (
            id.to_string().expose_secret().to_string(),
            id.to_public().to_string(),
        )
    }

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn x25519_roundtrip_with_inline_key() {
        let (sk, pk) = generated();
        let enc = encrypt(&format!("  {pk}\n"), SECRET).unwrap();
        assert!(
            enc.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\n"),
            "{enc}"
        );
        assert!(
            enc.ends_with("\n-----END AGE ENCRYPTED FILE-----\n"),
            "{enc}"
        );
        let text = format!("# created: now\n# public key: {pk}\n\n{sk}\n");
        let ids = TestEnv::new(&[(SOPS_AGE_KEY, &text)]).load();
        assert_eq!(ids.len(), 1);
        assert_eq!(&ids.decrypt(&enc).unwrap()[..], SECRET);
        // Surrounding whitespace in `enc` is tolerated.
        assert_eq!(&ids.decrypt(&format!("\n{enc}  \n")).unwrap()[..], SECRET);
    }

    #[test]
    fn key_file_and_default_keys_txt() {
        let (sk, pk) = generated();
        let enc = encrypt(&pk, SECRET).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let kf = dir.path().join("k.txt");
        std::fs::write(&kf, format!("{sk}\r\n")).unwrap();
        let env = TestEnv::new(&[(SOPS_AGE_KEY_FILE, kf.to_str().unwrap())]);
        assert_eq!(&env.load().decrypt(&enc).unwrap()[..], SECRET);

        // ~/.config/sops/age/keys.txt (Linux) or XDG_CONFIG_HOME/sops/age/keys.txt.
        let env = TestEnv::new(&[("XDG_CONFIG_HOME", dir.path().to_str().unwrap())]);
        let keys = dir.path().join("sops/age/keys.txt");
        std::fs::create_dir_all(keys.parent().unwrap()).unwrap();
        std::fs::write(&keys, format!("# comment\n{sk}\n")).unwrap();
        if !cfg!(windows) {
            let ids = env.load();
            assert_eq!(ids.len(), 1, "{ids:?}");
            assert_eq!(&ids.decrypt(&enc).unwrap()[..], SECRET);
        }
        if cfg!(target_os = "linux") {
            let env = TestEnv::new(&[]);
            let keys = env.home().join(".config/sops/age/keys.txt");
            std::fs::create_dir_all(keys.parent().unwrap()).unwrap();
            std::fs::write(&keys, &sk).unwrap();
            assert_eq!(&env.load().decrypt(&enc).unwrap()[..], SECRET);
        }
    }

    #[test]
    fn wrong_identity_fails_with_locations() {
        let (_, pk) = generated();
        let (other_sk, _) = generated();
        let enc = encrypt(&pk, SECRET).unwrap();
        let env = TestEnv::new(&[
            (SOPS_AGE_KEY, &other_sk),
            (SOPS_AGE_KEY_FILE, "/nonexistent/keys.txt"),
        ]);
        let err = env.load().decrypt(&enc).unwrap_err().to_string();
        assert!(err.contains("no identity matched any recipient"), "{err}");
        assert!(err.contains("SOPS_AGE_KEY (1 identity)"), "{err}");
        assert!(
            err.contains("SOPS_AGE_KEY_FILE=/nonexistent/keys.txt (error: could not open it"),
            "{err}"
        );
        if cfg!(target_os = "linux") {
            assert!(
                err.contains("~/.config/sops/age/keys.txt (not found)"),
                "{err}"
            );
            assert!(err.contains("~/.ssh/id_ed25519 (not found)"), "{err}");
        }
        assert!(!err.contains(&other_sk), "secret leaked: {err}");
    }

    #[test]
    fn nothing_configured_is_ok_until_decrypt() {
        let env = TestEnv::new(&[]);
        let ids = env.load();
        assert!(ids.is_empty());
        let enc = encrypt(FIXTURE_PUBLIC, SECRET).unwrap();
        let err = ids.decrypt(&enc).unwrap_err().to_string();
        assert!(
            err.starts_with("no age identity found (looked in: "),
            "{err}"
        );
    }

    #[test]
    fn explicit_source_errors_are_named() {
        let env = TestEnv::new(&[
            (SOPS_AGE_KEY, "AGE-SECRET-KEY-1NOTAKEY"),
            (SOPS_AGE_SSH_PRIVATE_KEY_FILE, "/nonexistent/id_ed25519"),
            (SOPS_AGE_KEY_CMD, "sh -c 'echo boom >&2; exit 3'"),
        ]);
        let ids = env.load();
        // SOPS_AGE_KEY_CMD runs when a key is decrypted (for its recipient).
        let _ = ids.decrypt_for(FIXTURE_PUBLIC, "not armor");
        let problems = ids.problems().join("\n");
        assert!(
            problems.contains(
                "SOPS_AGE_KEY (error: identity file contains non-identity data on line 1)"
            ),
            "{problems}"
        );
        assert!(
            problems.contains(
                "SOPS_AGE_SSH_PRIVATE_KEY_FILE=/nonexistent/id_ed25519 (error: could not read it"
            ),
            "{problems}"
        );
        if cfg!(unix) {
            assert!(
                problems.contains(
                    "SOPS_AGE_KEY_CMD=\"sh -c 'echo boom >&2; exit 3'\" (error: the command failed"
                ),
                "{problems}"
            );
            assert!(problems.contains("boom"), "{problems}");
        }
        assert!(!problems.contains("NOTAKEY"), "{problems}");
    }

    #[cfg(unix)]
    #[test]
    fn key_cmd_output_is_used() {
        let (sk, pk) = generated();
        let enc = encrypt(&pk, SECRET).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let kf = dir.path().join("key file.txt");
        std::fs::write(&kf, &sk).unwrap();
        // Quoted words as a shell would split them; no shell is involved.
        let cmd = format!("cat '{}'", kf.display());
        let env = TestEnv::new(&[(SOPS_AGE_KEY_CMD, &cmd)]);
        assert_eq!(&env.load().decrypt(&enc).unwrap()[..], SECRET);
    }

    #[test]
    fn several_keys_on_one_line() {
        let (sk1, pk1) = generated();
        let (sk2, pk2) = generated();
        let ids = TestEnv::new(&[(SOPS_AGE_KEY, &format!("{sk1} {sk2}"))]).load();
        assert_eq!(ids.len(), 2);
        for pk in [pk1, pk2] {
            let enc = encrypt(&pk, SECRET).unwrap();
            assert_eq!(&ids.decrypt(&enc).unwrap()[..], SECRET);
        }
    }

    #[cfg(unix)]
    #[test]
    fn key_cmd_is_told_the_recipient() {
        let (sk, pk) = generated();
        let enc = encrypt(&pk, SECRET).unwrap();
        let dir = tempfile::tempdir().unwrap();
        // The command prints the key only for the right recipient.
        std::fs::write(dir.path().join(&pk), &sk).unwrap();
        let cmd = format!(
            "sh -c 'cat \"{}/$SOPS_AGE_RECIPIENT\"'",
            dir.path().display()
        );
        let env = TestEnv::new(&[(SOPS_AGE_KEY_CMD, &cmd)]);
        let ids = env.load();
        assert_eq!(&ids.decrypt_for(&pk, &enc).unwrap()[..], SECRET);
        let (_, other) = generated();
        assert!(ids.decrypt_for(&other, &enc).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn ssh_private_key_cmd() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("k");
        std::fs::write(&key, SSH_ED25519_PRIVATE).unwrap();
        let enc = encrypt(SSH_ED25519_PUBLIC, SECRET).unwrap();
        let cmd = format!("cat {}", key.display());
        let ids = TestEnv::new(&[(SOPS_AGE_SSH_PRIVATE_KEY_CMD, &cmd)]).load();
        assert_eq!(&ids.decrypt(&enc).unwrap()[..], SECRET);
    }

    #[test]
    fn passphrase_identity_file_without_a_terminal_fails_clearly() {
        let (sk, pk) = generated();
        let enc = encrypt(&pk, SECRET).unwrap();
        let pass = age::secrecy::SecretString::from("correct horse".to_string());
        let e = age::Encryptor::with_user_passphrase(pass);
        let mut protected = Vec::new();
        let armor = ArmoredWriter::wrap_output(&mut protected, Format::AsciiArmor).unwrap();
        let mut w = e.wrap_output(armor).unwrap();
        w.write_all(sk.as_bytes()).unwrap();
        w.finish().unwrap().finish().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let kf = dir.path().join("keys.age");
        std::fs::write(&kf, &protected).unwrap();
        let ids = TestEnv::new(&[(SOPS_AGE_KEY_FILE, kf.to_str().unwrap())]).load();
        assert_eq!(ids.len(), 1, "{}", ids.locations());
        // No terminal in tests: the passphrase cannot be asked for.
        assert!(ids.decrypt(&enc).is_err());
    }

    fn ssh_keygen(dir: &Path, kind: &str) -> Option<(PathBuf, String)> {
        let key = dir.join(format!("id_{kind}"));
        let mut cmd = Command::new("ssh-keygen");
        cmd.args(["-q", "-t", kind, "-N", "", "-C", "sopx-test", "-f"])
            .arg(&key);
        if kind == "rsa" {
            cmd.args(["-b", "2048"]);
        }
        let ok = cmd.stdin(Stdio::null()).output().ok()?.status.success();
        if !ok {
            return None;
        }
        let public = std::fs::read_to_string(key.with_extension("pub")).ok()?;
        Some((key, public))
    }

    #[test]
    fn ssh_ed25519_roundtrip() {
        let dir = tempfile::tempdir().unwrap();
        let (key, public) = ssh_keygen(dir.path(), "ed25519").unwrap_or_else(|| {
            let key = dir.path().join("fixed_ed25519");
            std::fs::write(&key, SSH_ED25519_PRIVATE).unwrap();
            (key, SSH_ED25519_PUBLIC.to_string())
        });
        let enc = encrypt(&public, SECRET).unwrap();
        let env = TestEnv::new(&[(SOPS_AGE_SSH_PRIVATE_KEY_FILE, key.to_str().unwrap())]);
        assert_eq!(&env.load().decrypt(&enc).unwrap()[..], SECRET);

        // The fixed key works too, and as the default ~/.ssh/id_ed25519.
        let enc = encrypt(SSH_ED25519_PUBLIC, SECRET).unwrap();
        let env = TestEnv::new(&[]);
        std::fs::create_dir_all(env.home().join(".ssh")).unwrap();
        std::fs::write(env.home().join(".ssh/id_ed25519"), SSH_ED25519_PRIVATE).unwrap();
        let ids = env.load();
        assert_eq!(&ids.decrypt(&enc).unwrap()[..], SECRET);
        assert!(
            ids.locations().contains("id_ed25519 (1 identity)"),
            "{ids:?}"
        );
    }

    #[test]
    fn ssh_rsa_roundtrip() {
        let dir = tempfile::tempdir().unwrap();
        let Some((key, public)) = ssh_keygen(dir.path(), "rsa") else {
            eprintln!("ssh-keygen not available; skipping");
            return;
        };
        let enc = encrypt(&public, SECRET).unwrap();
        let env = TestEnv::new(&[(SOPS_AGE_SSH_PRIVATE_KEY_FILE, key.to_str().unwrap())]);
        assert_eq!(&env.load().decrypt(&enc).unwrap()[..], SECRET);
    }

    #[test]
    fn bad_recipients_are_explained() {
        for bad in [
            "",
            "age1notakey",
            "AGE1xyz",
            "ssh-ed25519 AAAAnope",
            "gpg:1234",
            "age1yubikey1qwerty",
        ] {
            let err = encrypt(bad, SECRET).unwrap_err();
            assert!(matches!(err, KeyError::Encrypt { .. }), "{err:?}");
            let msg = err.to_string();
            assert!(msg.contains(&format!("{:?}", bad.trim())), "{msg}");
            assert!(msg.contains("age1") || msg.contains("ssh-ed25519"), "{msg}");
            assert!(check_recipient(bad).is_err());
        }
        assert!(check_recipient(&format!(" {FIXTURE_PUBLIC} ")).is_ok());
        assert!(check_recipient(SSH_ED25519_PUBLIC).is_ok());
    }

    #[test]
    fn debug_output_has_no_secrets() {
        let (sk, _) = generated();
        let ids = TestEnv::new(&[(SOPS_AGE_KEY, &sk)]).load();
        let dbg = format!("{ids:?}");
        assert!(!dbg.contains("AGE-SECRET-KEY"), "{dbg}");
        assert!(dbg.contains("count: 1"), "{dbg}");
    }

    #[test]
    fn fixture_key_and_age_cli_interop() {
        let enc = encrypt(FIXTURE_PUBLIC, SECRET).unwrap();
        let env = TestEnv::new(&[(SOPS_AGE_KEY_FILE, FIXTURE)]);
        let ids = env.load();
        assert_eq!(&ids.decrypt(&enc).unwrap()[..], SECRET);

        let age_bin = ["/usr/bin/age", "age"]
            .into_iter()
            .find(|b| Command::new(b).arg("--version").output().is_ok());
        let Some(age_bin) = age_bin else {
            eprintln!("age binary not found; skipping the CLI interop part");
            return;
        };
        // age -d -i KEYFILE decrypts what we produced.
        let mut child = Command::new(age_bin)
            .args(["-d", "-i", FIXTURE])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(enc.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.stdout, SECRET);

        // And we decrypt what `age -e -a -r` produced.
        let mut child = Command::new(age_bin)
            .args(["-e", "-a", "-r", FIXTURE_PUBLIC])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(SECRET).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let theirs = String::from_utf8(out.stdout).unwrap();
        assert_eq!(&ids.decrypt(&theirs).unwrap()[..], SECRET);
    }
}
