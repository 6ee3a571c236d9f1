//! Command-line interface: argument parsing and printing only; the work is
//! done by [`crate::ops`].

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use clap::{CommandFactory, Parser};
use serde_json::Value;
use zeroize::Zeroizing;

use crate::error::{Error, codes};
use crate::metadata::{KeyGroup, RuleStrings};
use crate::ops::{self, EncryptOptions};
use crate::stores::Format;

mod args;
mod editdir;
mod keys;

pub use args::*;

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
        Some(Command::Edit(c)) => edit(
            &c.file,
            &c.keys,
            &c.rules,
            &c.io,
            open_options(c.ignore_mac, &c.order)?,
        ),
        Some(Command::Rotate(c)) => rotate(&c),
        Some(Command::Updatekeys(c)) => updatekeys(&c),
        Some(Command::Groups(c)) => groups(&c),
        Some(Command::Check(c)) => check(&c),
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
                edit(
                    &file,
                    &l.keys,
                    &l.rules,
                    &l.io,
                    open_options(l.dec.ignore_mac, &l.dec.order)?,
                )
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
/// Prints the library's warnings for `file` (before its output is written).
fn flush_warnings(file: &str) {
    for w in crate::warn::take() {
        eprintln!("sopx: warning: {file}: {w}");
    }
}

fn write_file(path: &Path, data: &[u8]) -> std::io::Result<()> {
    flush_warnings(&path.display().to_string());
    ops::write_atomic(path, data)
}

fn write_output(file: &str, io: &IoArgs, data: &[u8]) -> Out {
    flush_warnings(file);
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
        Some(path) => write_file(&path, data).map_err(|e| {
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

/// Recipients and rules for a new file: flags first, then `.sops.yaml`.
fn encrypt_options(
    file: &str,
    keys: &KeyArgs,
    rules: &RuleArgs,
    io: &IoArgs,
) -> Out<EncryptOptions> {
    let flag_rules = RuleStrings::from(rules);
    let flag_keys = keys::from_args(keys)?;
    let name = effective_name(file, io);
    let rule = crate::config::rule_for(io.config.as_deref(), &name).map_err(at(file))?;
    let mut opts = EncryptOptions::default();
    if !flag_keys.is_empty() {
        opts.key_groups = vec![flag_keys];
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

fn open_options(ignore_mac: bool, order: &OrderArgs) -> Out<ops::OpenOptions> {
    Ok(ops::OpenOptions {
        ignore_mac,
        decryption_order: keys::order(order)?,
    })
}

fn encrypt(file: &str, keys: &KeyArgs, rules: &RuleArgs, io: &IoArgs) -> Out {
    let (input, output) = formats(file, io)?;
    let src = read_input(file)?;
    let opts = encrypt_options(file, keys, rules, io)?;
    if input == Format::Binary && opts.rules.is_set() {
        eprintln!(
            "sopx: warning: {file}: selection rules do not apply to binary files; the whole file is encrypted"
        );
    }
    let out = if input == output {
        ops::encrypt(&src, input, &opts)
    } else {
        ops::encrypt_as(&src, input, output, &opts)
    }
    .map_err(at(file))?;
    write_output(file, io, &out)
}

fn decrypt(file: &str, io: &IoArgs, dec: &DecryptOnly) -> Out {
    let (input, output) = formats(file, io)?;
    let src = read_input(file)?;
    let opened =
        ops::open(&src, input, &open_options(dec.ignore_mac, &dec.order)?).map_err(at(file))?;
    let out = if let Some(path) = &dec.extract {
        let path = ops::parse_tree_path(path).map_err(at(file))?;
        Zeroizing::new(crate::convert::extract(&opened, &path, output).map_err(at(file))?)
    } else if input != output {
        Zeroizing::new(crate::convert::convert(&opened, output).map_err(at(file))?)
    } else {
        opened.plaintext().map_err(at(file))?
    };
    write_output(file, io, &out)?;
    // The process ends here: wipe the secrets (decrypted values, output)
    // and leave freeing the parsed ciphertext, which holds nothing secret,
    // to the exit (on a 20,000-key file that is a tenth of the run time).
    let ops::Opened { doc, decrypted, .. } = opened;
    drop(decrypted);
    drop(out);
    std::mem::forget(doc);
    drop(src);
    Ok(())
}

fn filestatus(file: &str, io: &IoArgs) -> Out {
    let (input, _) = formats(file, io)?;
    let encrypted = matches!(file_status(file, input)?, Status::Encrypted { .. });
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
    let opened = ops::open_for_update(&src, input, &open_options(c.ignore_mac, &c.order)?)
        .map_err(at(&c.file))?;
    if c.idempotent
        && let Ok(cur) = crate::convert::value_at(&opened, &path)
        && cur == value
    {
        return Ok(());
    }
    let out = ops::set(&opened, input, &path, &value).map_err(at(&c.file))?;
    write_file(Path::new(&c.file), &out).map_err(|e| {
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
    let opened = ops::open_for_update(&src, input, &open_options(c.ignore_mac, &c.order)?)
        .map_err(at(&c.file))?;
    let out = match ops::unset(&opened, input, &path) {
        Err(Error::PathNotFound(_)) if c.idempotent => return Ok(()),
        r => r.map_err(at(&c.file))?,
    };
    write_file(Path::new(&c.file), &out).map_err(|e| {
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

fn edit(file: &str, keys: &KeyArgs, rules: &RuleArgs, io: &IoArgs, open: ops::OpenOptions) -> Out {
    let (format, _) = formats(file, io)?;
    let path = Path::new(file);
    let existing = path.exists();
    // A new file: encrypt a template first, then edit it like any other.
    let (src, opened) = if existing {
        let src = read_input(file)?;
        let opened = ops::open_for_update(&src, format, &open).map_err(at(file))?;
        (src, opened)
    } else {
        let opts = encrypt_options(file, keys, rules, io)?;
        let template = if format == Format::Json {
            NEW_FILE_JSON
        } else {
            NEW_FILE_YAML
        };
        let src = ops::encrypt(template.as_bytes(), format, &opts).map_err(at(file))?;
        let opened = ops::open_for_update(&src, format, &open).map_err(at(file))?;
        (src, opened)
    };
    let plain = opened.plaintext().map_err(at(file))?;
    // A private (0700) directory, removed on return, panic and SIGINT,
    // SIGTERM or SIGHUP (see `editdir`).
    let dir = editdir::EditDir::new().map_err(|e| {
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
        let status = dir.run_editor(&cmd, &tmp).map_err(|e| {
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
                return write_file(path, &out).map_err(|e| {
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

/// Writes a result in place or to stdout.
fn write_result(file: &str, in_place: bool, data: &[u8]) -> Out {
    let io = IoArgs {
        in_place,
        ..IoArgs::default()
    };
    write_output(file, &io, data)
}

fn rotate(c: &RotateCmd) -> Out {
    let (format, _) = formats(&c.file, &c.io)?;
    let add = keys::from_args(&c.keys.as_key_args(true))?;
    let remove = keys::from_args(&c.keys.as_key_args(false))?;
    let src = read_input(&c.file)?;
    let opened =
        ops::open(&src, format, &open_options(c.ignore_mac, &c.order)?).map_err(at(&c.file))?;
    let out = ops::rotate(&opened, format, &add, &remove).map_err(at(&c.file))?;
    write_output(&c.file, &c.io, &out)
}

/// One line per key, for showing what `updatekeys` changes.
fn describe_groups(groups: &[KeyGroup]) -> Vec<String> {
    groups
        .iter()
        .enumerate()
        .flat_map(|(i, g)| {
            g.iter()
                .map(move |k| format!("group {i}: {}", k.describe()))
        })
        .collect()
}

fn updatekeys(c: &UpdatekeysCmd) -> Out {
    let open = open_options(false, &c.order)?;
    let mut failed = None;
    for file in &c.files {
        let io = IoArgs {
            input_type: c.input_type.clone(),
            config: c.config.clone(),
            ..IoArgs::default()
        };
        if let Err(f) = updatekeys_one(file, &io, c, &open) {
            eprintln!("sopx: {}", f.msg);
            failed.get_or_insert(f.code);
        }
    }
    match failed {
        Some(code) => Err(Failure::new(
            code,
            "some files were not updated (see above)",
        )),
        None => Ok(()),
    }
}

fn updatekeys_one(file: &str, io: &IoArgs, c: &UpdatekeysCmd, open: &ops::OpenOptions) -> Out {
    let (format, _) = formats(file, io)?;
    let rule = crate::config::rule_for(io.config.as_deref(), Path::new(file))
        .map_err(at(file))?
        .ok_or_else(|| {
            Failure::new(
                codes::ERROR_GENERIC,
                format!(
                    "{file}: no .sops.yaml creation rule matches this file; nothing to update it to"
                ),
            )
        })?;
    let src = read_input(file)?;
    let opened = ops::open(&src, format, open).map_err(at(file))?;
    let threshold = c.shamir.unwrap_or(rule.shamir_threshold);
    let old = describe_groups(&opened.meta.key_groups);
    let new = describe_groups(&rule.key_groups);
    let same_keys = old.len() == new.len() && old.iter().all(|o| new.contains(o));
    if same_keys && (rule.key_groups.len() < 2 || threshold == opened.meta.shamir_threshold) {
        eprintln!("sopx: {file}: already up to date");
        return Ok(());
    }
    eprintln!("The following changes will be made to {file}'s key groups:");
    for o in old.iter().filter(|o| !new.contains(o)) {
        eprintln!("--- {o}");
    }
    for n in new.iter().filter(|n| !old.contains(n)) {
        eprintln!("+++ {n}");
    }
    if !c.yes && !confirm("Is this okay?")? {
        eprintln!("sopx: {file}: changes not applied");
        return Ok(());
    }
    let out = ops::rekey(&opened, rule.key_groups.clone(), threshold).map_err(at(file))?;
    write_file(Path::new(file), &out).map_err(|e| {
        Failure::new(
            codes::COULD_NOT_WRITE_OUTPUT_FILE,
            format!("could not write {file}: {e}"),
        )
    })?;
    eprintln!("sopx: {file}: key groups updated");
    Ok(())
}

/// Asks a yes/no question: a prompt on a terminal, otherwise a line read
/// from stdin (so `yes | sopx updatekeys …` works).
fn confirm(question: &str) -> Out<bool> {
    if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        return dialoguer::Confirm::new()
            .with_prompt(question)
            .default(false)
            .interact()
            .map_err(|e| {
                Failure::new(
                    codes::ERROR_GENERIC,
                    format!("could not ask for confirmation: {e}"),
                )
            });
    }
    eprint!("{question} [y/N] ");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).ok();
    Ok(matches!(line.trim(), "y" | "Y" | "yes" | "Yes"))
}

fn groups(c: &GroupsCmd) -> Out {
    let (file, in_place, order) = match c {
        GroupsCmd::Add(a) => (&a.file, a.in_place, &a.order),
        GroupsCmd::Delete(d) => (&d.file, d.in_place, &d.order),
    };
    let (format, _) = formats(file, &IoArgs::default())?;
    let src = read_input(file)?;
    let opened = ops::open(&src, format, &open_options(false, order)?).map_err(at(file))?;
    let mut groups = opened.meta.key_groups.clone();
    let threshold = match c {
        GroupsCmd::Add(a) => {
            let group = keys::from_args(&a.keys)?;
            if group.is_empty() {
                return Err(Failure::new(
                    codes::ERROR_GENERIC,
                    "give the new group's keys (--age, --pgp, --kms, …)",
                ));
            }
            groups.push(group);
            a.keys.shamir.unwrap_or(opened.meta.shamir_threshold)
        }
        GroupsCmd::Delete(d) => {
            if d.index >= groups.len() {
                return Err(Failure::new(
                    codes::ERROR_GENERIC,
                    format!(
                        "{file} has {} key groups; there is no group {}",
                        groups.len(),
                        d.index
                    ),
                ));
            }
            groups.remove(d.index);
            let t = d.shamir.unwrap_or(opened.meta.shamir_threshold);
            t.min(groups.len())
        }
    };
    let out = ops::rekey(&opened, groups, threshold).map_err(at(file))?;
    write_result(file, in_place, &out)
}

/// What `filestatus` and `check` see in a file.
enum Status {
    /// No `sops` block, or one without a MAC.
    Plain,
    /// A valid `sops` block with a MAC; how many values the file has, and
    /// how many of them are encrypted.
    Encrypted { values: usize, encrypted: usize },
}

/// Is this file encrypted? Like sops: sops metadata with a MAC, and the
/// metadata must be valid (a plaintext file with a fake `sops: {mac: x}`
/// is refused, as sops refuses it).
fn file_status(file: &str, format: Format) -> Out<Status> {
    let src = read_input(file)?;
    let doc = crate::stores::parse(format, &src).map_err(at(file))?;
    let Some(meta) = doc.metadata() else {
        return Ok(Status::Plain);
    };
    if meta
        .get("mac")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Ok(Status::Plain);
    }
    let m = crate::metadata::Metadata::from_value(meta).map_err(at(file))?;
    if !crate::cipher::is_encrypted(&m.mac) {
        return Err(at(file)(Error::BadMetadata(
            "the `mac` is not an encrypted value (ENC[AES256_GCM,…])".into(),
        )));
    }
    let values = doc
        .tree()
        .leaves
        .iter()
        .filter(|l| l.kind != crate::value::Kind::Comment && !l.text.is_empty());
    let (mut n, mut enc) = (0, 0);
    for l in values {
        n += 1;
        if l.text.starts_with(b"ENC[AES256_GCM,data:") {
            enc += 1;
        }
    }
    Ok(Status::Encrypted {
        values: n,
        encrypted: enc,
    })
}

fn check(c: &CheckCmd) -> Out {
    let mut plaintext = 0;
    for file in &c.files {
        let rule =
            crate::config::rule_for(c.config.as_deref(), Path::new(file)).map_err(at(file))?;
        // Only rules that name paths say which files must be encrypted; a
        // catch-all rule only gives keys.
        let Some(regex) = rule.and_then(|r| r.path_regex) else {
            continue;
        };
        let format = Format::from_path(Path::new(file));
        let encrypted = match file_status(file, format) {
            Ok(Status::Plain) => false,
            Ok(Status::Encrypted { values, encrypted }) => {
                if values > 0 && encrypted == 0 {
                    plaintext += 1;
                    eprintln!(
                        "sopx: {file}: encrypted, but none of its {values} value(s) is: every value is in clear (check the rule's encrypted_regex / unencrypted_suffix and re-encrypt)"
                    );
                }
                continue;
            }
            // Not even readable as its format: certainly not sops-encrypted.
            Err(f) if f.code == codes::COULD_NOT_READ_INPUT_FILE => {
                plaintext += 1;
                eprintln!("sopx: {}; it cannot be a valid encrypted file", f.msg);
                continue;
            }
            Err(f) => return Err(f),
        };
        if !encrypted {
            plaintext += 1;
            eprintln!(
                "sopx: {file}: not encrypted, but .sops.yaml says it must be (path_regex {regex:?}); run `sopx encrypt -i {file}`"
            );
        }
    }
    if plaintext > 0 {
        return Err(Failure::new(
            codes::ERROR_GENERIC,
            format!("{plaintext} file(s) must be encrypted before they are committed"),
        ));
    }
    Ok(())
}
