//! Command-line interface: argument parsing and printing only; the work is
//! done by [`sopx_core::ops`].

use sopx_core::batch::Status;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use clap::{CommandFactory, FromArgMatches};
use serde_json::Value;
use zeroize::Zeroizing;

use sopx_core::atomic;
use sopx_core::error::Error;
use sopx_core::metadata::{KeyGroup, RuleStrings};
use sopx_core::ops::{self, EncryptOptions};
use sopx_core::stores::Format;

mod args;
mod argv;
#[cfg(test)]
mod assets;
mod batch;
mod editdir;
mod exec;
mod failure;
mod keys;
mod prompt;
mod remote;

pub use args::*;
pub use argv::{invoked_as_sops, version_line};
pub use failure::Failure;

/// The clap command, for completions and man pages.
pub fn command() -> clap::Command {
    argv::last_flag_wins(Cli::command())
}

type Out<T = ()> = std::result::Result<T, Failure>;

/// Attaches the file name to library errors.
fn at(file: &str) -> impl Fn(Error) -> Failure + '_ {
    move |e| Failure::at(file, e)
}

/// Runs the command line; returns the exit code.
pub fn run() -> i32 {
    sopx_core::keys::age::set_prompt(Box::new(prompt::Terminal));
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let as_sops = invoked_as_sops(args.first().map(|a| a.as_os_str()));
    let cmd = command();
    let (args, warnings) = argv::reorder(&cmd, args);
    for w in warnings {
        eprintln!("sopx: warning: {w}");
    }
    let matches = cmd.try_get_matches_from(args).unwrap_or_else(|e| e.exit());
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    match dispatch(cli, as_sops) {
        Ok(()) => 0,
        Err(f) => {
            if !f.message().is_empty() {
                let _ = writeln!(std::io::stderr(), "sopx: {}", f.message());
            }
            f.code()
        }
    }
}

fn not_supported(what: &str) -> Failure {
    Failure::not_supported(format!(
        "{what} is not supported by sopx: sopx always uses its built-in key service; use the real sops for this"
    ))
}

/// `-s`: accepted, but the editor gets the values only.
fn warn_show_master_keys(on: bool) {
    if on {
        eprintln!(
            "sopx: warning: --show-master-keys: sopx does not put the sops metadata in the editor; \
             change keys with `rotate --add-*/--rm-*`, `updatekeys` or `groups`"
        );
    }
}

/// The global flags into a subcommand's input/output flags.
fn with_globals(io: &mut IoArgs, g: &Globals) {
    io.config = g.config.clone();
    io.verbose = g.verbose;
}

/// The file to read: `-` (stdin) when none is given, as sops 3.10+ does;
/// stdin then needs a name (`--filename-override`) or an `--input-type`.
fn file_or_stdin(file: Option<String>, io: &IoArgs) -> Out<String> {
    match file {
        Some(f) => Ok(f),
        None if io.filename_override.is_some() || io.input_type.is_some() => Ok("-".into()),
        // sops exits 8 (conflicting parameters) here too.
        None => Err(Failure::conflict(
            "no file given, and reading stdin needs --filename-override NAME (or --input-type TYPE)",
        )),
    }
}

fn dispatch(cli: Cli, as_sops: bool) -> Out {
    let g = &cli.globals;
    if g.check_for_updates {
        eprintln!(
            "sopx: --check-for-updates: sopx never contacts the network to look for updates; no check was made"
        );
    }
    if cli.version {
        println!("{}", version_line(as_sops));
        return Ok(());
    }
    if !g.keyservice.is_empty() {
        return Err(not_supported("--keyservice (a remote key service)"));
    }
    if let Some(n) = cli.indent {
        sopx_core::convert::set_indent(n);
    }
    match cli.command {
        Some(Command::Encrypt(mut c)) => {
            with_globals(&mut c.io, g);
            if batch::is_batch(&c.batch, c.files.len()) {
                return batch::encrypt(&c);
            }
            let file = file_or_stdin(c.files.pop(), &c.io)?;
            encrypt_with(
                &file,
                &c.keys,
                &c.rules,
                &c.io,
                c.reuse.as_deref(),
                c.no_reuse,
            )
        }
        Some(Command::Diff(c)) => diff(&c),
        Some(Command::Merge(c)) => merge(&c),
        Some(Command::Git(args::GitCmd::Setup(c))) => git_setup(&c),
        Some(Command::Decrypt(mut c)) => {
            with_globals(&mut c.io, g);
            if batch::is_batch(&c.batch, c.files.len()) || c.output_dir.is_some() {
                return batch::decrypt(&c);
            }
            let file = file_or_stdin(c.files.pop(), &c.io)?;
            decrypt(&file, &c.io, &c.dec)
        }
        Some(Command::Edit(mut c)) => {
            with_globals(&mut c.io, g);
            warn_show_master_keys(c.show_master_keys);
            edit(
                &c.file,
                &c.keys,
                &c.rules,
                &c.io,
                open_options(c.ignore_mac, &c.order)?,
            )
        }
        Some(Command::Rotate(mut c)) => {
            with_globals(&mut c.io, g);
            if batch::is_batch(&c.batch, c.files.len()) {
                return batch::rotate(&c);
            }
            let file = c.files[0].clone();
            rotate(&c, &file)
        }
        Some(Command::Updatekeys(c)) => {
            if c.batch.recursive.is_some() || (c.yes && c.files.len() > 1) {
                return batch::updatekeys(&c, g);
            }
            updatekeys(&c, g)
        }
        Some(Command::Groups(c)) => groups(&c),
        Some(Command::Check(c)) => {
            if c.batch.recursive.is_some() {
                return batch::check(&c, g);
            }
            check(&c, g)
        }
        Some(Command::Set(mut c)) => {
            with_globals(&mut c.io, g);
            set(&c)
        }
        Some(Command::Unset(mut c)) => {
            with_globals(&mut c.io, g);
            unset(&c)
        }
        Some(Command::Filestatus(mut c)) => {
            with_globals(&mut c.io, g);
            if batch::is_batch(&c.batch, c.files.len()) {
                return batch::filestatus(&c);
            }
            filestatus(&c.files[0], &c.io)
        }
        Some(Command::ExecEnv(c)) => exec_env(&c),
        Some(Command::ExecFile(c)) => exec_file(&c),
        Some(Command::Completion(c)) => {
            let mut cmd = command();
            let name = if as_sops { "sops" } else { "sopx" };
            clap_complete::generate(c.shell, &mut cmd, name, &mut std::io::stdout());
            Ok(())
        }
        Some(Command::Keyservice(_)) => Err(not_supported("`keyservice` (the key service server)")),
        Some(Command::Publish(_)) => Err(not_supported("`publish`")),
        None => {
            let mut l = cli.legacy;
            with_globals(&mut l.io, g);
            let file = match l.file.take() {
                Some(f) => f,
                None if l.encrypt || l.decrypt => file_or_stdin(None, &l.io)?,
                None => {
                    let me = if as_sops { "sops" } else { "sopx" };
                    return Err(Failure::no_file(format!(
                        "no file specified (try `{me} --help`)"
                    )));
                }
            };
            if let Some(set_arg) = &l.set {
                return legacy_set(&file, set_arg, &l);
            }
            warn_show_master_keys(l.show_master_keys);
            if l.rotate {
                let c = RotateCmd {
                    keys: l.rotate_keys.clone(),
                    io: l.io.clone(),
                    order: l.dec.order.clone(),
                    ignore_mac: l.dec.ignore_mac,
                    batch: BatchArgs::default(),
                    files: vec![file.clone()],
                };
                return rotate(&c, &file);
            }
            if l.encrypt {
                encrypt_with(&file, &l.keys, &l.rules, &l.io, None, false)
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
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| Failure::read(format!("could not read stdin: {e}")))?;
        return Ok(buf);
    }
    std::fs::read(file).map_err(|e| {
        // sops exits 100 for a file that does not exist.
        let msg = format!("could not read {file}: {e}");
        if e.kind() == std::io::ErrorKind::NotFound {
            Failure::no_file(msg)
        } else {
            Failure::read(msg)
        }
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
    // As sops: a type name it does not know counts as not given.
    for t in [&io.input_type, &io.output_type].into_iter().flatten() {
        if let TypeArg::Unknown(t) = t {
            let known: Vec<&str> = Format::all().map(Format::name).collect();
            eprintln!(
                "sopx: warning: {file}: unknown file type {t:?} (known: {}); using the file name's",
                known.join(", ")
            );
        }
    }
    let known = |t: &Option<TypeArg>| t.as_ref().and_then(TypeArg::known);
    let input = known(&io.input_type).unwrap_or_else(|| Format::from_path(&name));
    let output = known(&io.output_type).unwrap_or_else(|| {
        if known(&io.input_type).is_some() {
            input
        } else {
            Format::from_path(&name)
        }
    });
    Ok((input, output))
}

/// Writes a result where the user asked: in place, to --output, or stdout.
/// Prints the library's warnings for `file` (before its output is written).
fn flush_warnings(file: &str) {
    for w in sopx_core::warn::take() {
        eprintln!("sopx: warning: {file}: {w}");
    }
}

fn write_file(path: &Path, data: &[u8]) -> std::io::Result<()> {
    flush_warnings(&path.display().to_string());
    ops::write_atomic(path, data)
}

fn write_output(file: &str, io: &IoArgs, data: &[u8]) -> Out {
    write_output_from(file, io, atomic::Contents::Bytes(data))
}

fn write_output_from(file: &str, io: &IoArgs, mut data: atomic::Contents) -> Out {
    flush_warnings(file);
    let target = if io.in_place {
        if file == "-" {
            return Err(Failure::generic("--in-place needs a file, not stdin"));
        }
        Some(PathBuf::from(file))
    } else {
        io.output.clone()
    };
    match target {
        Some(path) => {
            flush_warnings(&path.display().to_string());
            atomic::write_contents(&path, data)
                .map_err(|e| Failure::write(format!("could not write {}: {e}", path.display())))
        }
        None => {
            let mut out = std::io::stdout().lock();
            data.write_to(&mut out)
                .and_then(|_| out.flush())
                .map_err(|e| Failure::write(format!("could not write to stdout: {e}")))
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
    let rule = sopx_core::config::rule_for(io.config.as_deref(), &name).map_err(at(file))?;
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
        return Err(Failure::generic(Error::NoKeys.to_string()));
    }
    Ok(opts)
}

fn open_options(ignore_mac: bool, order: &OrderArgs) -> Out<ops::OpenOptions> {
    Ok(ops::OpenOptions {
        ignore_mac,
        decryption_order: keys::order(order)?,
        keys: sopx_core::KeyRing::from_env(),
    })
}

fn encrypt_with(
    file: &str,
    keys: &KeyArgs,
    rules: &RuleArgs,
    io: &IoArgs,
    reuse: Option<&str>,
    no_reuse: bool,
) -> Out {
    let (input, output) = formats(file, io)?;
    let src = read_input(file)?;
    if let Some(opened) = reuse_source(file, io, reuse, no_reuse, input)? {
        let out = ops::reseal(&opened, &src, input).map_err(at(file))?;
        return write_output(file, io, &out);
    }
    let opts = encrypt_options(file, keys, rules, io)?;
    if input == Format::Binary && opts.rules.is_set() {
        eprintln!(
            "sopx: warning: {file}: selection rules do not apply to binary files; the whole file is encrypted"
        );
    }
    // A large file: its encryption goes to a private temporary file, never
    // whole into memory, then where the user asked. (Where no temporary
    // file can be made, it is built in memory as a small one is.)
    if input == output
        && ops::uses_pieces(input, src.len())
        && let Ok(mut spool) = tempfile::tempfile()
    {
        ops::encrypt_to_file(&src, input, &opts, &mut spool).map_err(at(file))?;
        drop(src);
        return write_output_from(file, io, atomic::Contents::File(&mut spool));
    }
    let out = if input == output {
        ops::encrypt(&src, input, &opts)
    } else {
        ops::encrypt_as(&src, input, output, &opts)
    }
    .map_err(at(file))?;
    write_output(file, io, &out)
}

/// The encrypted version whose data key and ciphertexts `encrypt` keeps:
/// `--reuse OLD`, or by default (with `-i` on a file git tracks) the one at
/// HEAD, when it is encrypted and opens with the keys at hand.
fn reuse_source(
    file: &str,
    io: &IoArgs,
    reuse: Option<&str>,
    no_reuse: bool,
    input: Format,
) -> Out<Option<ops::Opened>> {
    let opts = ops::OpenOptions::default();
    let read = |spec: &str| -> Out<Vec<u8>> {
        match sopx_core::gitrev::parse_spec(spec) {
            Some(rev) => sopx_core::gitrev::read_at(rev, Path::new(file)).map_err(at(file)),
            None => read_input(spec),
        }
    };
    if let Some(spec) = reuse {
        let old = read(spec)?;
        let opened = ops::open_for_update(&old, input, &opts).map_err(at(spec))?;
        return Ok(Some(opened));
    }
    if no_reuse || !io.in_place || file == "-" || !sopx_core::gitrev::is_tracked(Path::new(file)) {
        return Ok(None);
    }
    let Ok(old) = sopx_core::gitrev::read_at("HEAD", Path::new(file)) else {
        return Ok(None);
    };
    match ops::open_for_update(&old, input, &opts) {
        Ok(opened) => {
            eprintln!(
                "sopx: {file}: keeping the data key and the ciphertext of unchanged values of git:HEAD (--no-reuse to encrypt afresh)"
            );
            Ok(Some(opened))
        }
        Err(_) => Ok(None),
    }
}

/// `sopx merge BASE OURS THEIRS [PATH]`: the git merge driver.
fn merge(c: &args::MergeCmd) -> Out {
    let opts = open_options(false, &c.order)?;
    let format = Format::from_path(Path::new(c.path.as_deref().unwrap_or(&c.ours)));
    let name = c.path.as_deref().unwrap_or(&c.ours);
    let open = |f: &str| -> Out<ops::Opened> {
        let bytes = read_input(f)?;
        ops::open_for_update(&bytes, format, &opts).map_err(|e| {
            Failure::lib(
                format!("{name}: cannot merge, {f} does not open: {e}; nothing was changed"),
                e,
            )
        })
    };
    let (base, ours, theirs) = (open(&c.base)?, open(&c.ours)?, open(&c.theirs)?);
    let m = ops::merge(&base, &ours, &theirs)
        .map_err(|e| Failure::generic(format!("{name}: cannot merge: {e}; nothing was changed")))?;
    write_file(Path::new(&c.ours), &m.bytes)
        .map_err(|e| Failure::write(format!("could not write {}: {e}", c.ours)))?;
    if m.conflicts.is_empty() {
        return Ok(());
    }
    for p in &m.conflicts {
        eprintln!(
            "sopx: {name}: conflict at {p}: both sides changed it; ours is kept, theirs is beside it as an encrypted comment (`sopx edit {name}`)"
        );
    }
    Err(Failure::generic(format!(
        "{name}: {} conflict(s)",
        m.conflicts.len()
    )))
}

/// `sopx git setup`: attributes for the files sopx handles, and the driver
/// config. Idempotent: prints only what it adds.
fn git_setup(c: &args::GitSetupCmd) -> Out {
    let git = |args: &[&str]| -> Out<String> {
        let out = std::process::Command::new("git")
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| Failure::generic(format!("could not run git: {e}")))?;
        if !out.status.success() {
            return Err(Failure::generic(format!(
                "git {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let scope = if c.global { "--global" } else { "--local" };
    for (key, value) in [
        ("diff.sopx.textconv", "sopx decrypt"),
        (
            "merge.sopx.name",
            "sopx: merge encrypted files value by value",
        ),
        ("merge.sopx.driver", "sopx merge %O %A %B %P"),
    ] {
        let now = git(&["config", scope, "--get", key]).unwrap_or_default();
        if now.trim_end() != value {
            git(&["config", scope, key, value])?;
            println!("git config {scope} {key} {value:?}");
        }
    }
    if c.global {
        return Ok(());
    }
    let top = git(&["rev-parse", "--show-toplevel"])?;
    let top = Path::new(top.trim_end());
    let files = git(&["-C", &top.to_string_lossy(), "ls-files", "-z"])?;
    let attrs = top.join(".gitattributes");
    let mut text = std::fs::read_to_string(&attrs).unwrap_or_default();
    let mut added = Vec::new();
    for f in files.split('\0').filter(|f| !f.is_empty()) {
        let path = top.join(f);
        let format = Format::from_path(&path);
        let encrypted = matches!(
            file_status(&path.to_string_lossy(), format),
            Ok(Status::Encrypted { .. })
        );
        let covered = !encrypted
            && sopx_core::config::rule_for(None, &path)
                .ok()
                .flatten()
                .is_some_and(|r| r.path_regex.is_some());
        if !encrypted && !covered {
            continue;
        }
        // gitattributes patterns: escape what would be read as a pattern.
        let pat: String = f
            .chars()
            .flat_map(|ch| match ch {
                '*' | '?' | '[' | ' ' | '\\' | '#' | '!' => vec!['\\', ch],
                c => vec![c],
            })
            .collect();
        let line = format!("/{pat} diff=sopx merge=sopx");
        if !text.lines().any(|l| l.trim() == line) {
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(&line);
            text.push('\n');
            added.push(line);
        }
    }
    if !added.is_empty() {
        ops::write_atomic(&attrs, text.as_bytes())
            .map_err(|e| Failure::write(format!("could not write {}: {e}", attrs.display())))?;
        for l in &added {
            println!("{}: {l}", attrs.display());
        }
    }
    Ok(())
}

/// `sopx diff A B`: both decrypted, compared as text.
fn diff(c: &args::DiffCmd) -> Out {
    let opts = open_options(false, &c.order)?;
    let plain = |spec: &str| -> Out<zeroize::Zeroizing<Vec<u8>>> {
        // REV:PATH when PATH is not itself an existing file name.
        let (bytes, path) = match spec.split_once(':') {
            Some((rev, path)) if !Path::new(spec).exists() && !rev.is_empty() => (
                sopx_core::gitrev::read_at(rev, Path::new(path)).map_err(at(spec))?,
                path,
            ),
            _ => (read_input(spec)?, spec),
        };
        let format = Format::from_path(Path::new(path));
        let opened = ops::open(&bytes, format, &opts).map_err(at(spec))?;
        opened.plaintext().map_err(at(spec))
    };
    let (a, b) = (plain(&c.a)?, plain(&c.b)?);
    let d = sopx_core::diff::unified(&c.a, &a, &c.b, &b);
    if d.is_empty() {
        return Ok(());
    }
    print!("{d}");
    Err(Failure::generic(String::new()))
}

fn decrypt(file: &str, io: &IoArgs, dec: &DecryptOnly) -> Out {
    let (input, output) = formats(file, io)?;
    let src = read_input(file)?;
    let opts = open_options(dec.ignore_mac, &dec.order)?;
    // A large file is decrypted in pieces, never whole into memory.
    if dec.extract.is_none()
        && input == output
        && let Some(out) = ops::decrypt_in_pieces(&src, input, &opts).map_err(at(file))?
    {
        drop(src);
        return write_output(file, io, &out);
    }
    let opened = ops::open(&src, input, &opts).map_err(at(file))?;
    let out = if let Some(path) = &dec.extract {
        let path = ops::parse_tree_path(path).map_err(at(file))?;
        Zeroizing::new(sopx_core::convert::extract(&opened, &path, output).map_err(at(file))?)
    } else if input != output {
        Zeroizing::new(sopx_core::convert::convert(&opened, output).map_err(at(file))?)
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
    let raw = if c.value_stdin {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map_err(|e| {
            Failure::invalid_set(format!("could not read the value from stdin: {e}"))
        })?;
        s
    } else {
        let v = c
            .value
            .clone()
            .ok_or_else(|| Failure::invalid_set("missing VALUE"))?;
        if c.value_file {
            std::fs::read_to_string(&v)
                .map_err(|e| Failure::invalid_set(format!("could not read {v}: {e}")))?
        } else {
            v
        }
    };
    set_value(
        &c.file,
        &c.io,
        &c.path,
        &raw,
        open_options(c.ignore_mac, &c.order)?,
        c.idempotent,
    )
}

/// sops's `--set '["key"] VALUE'`: the path, then the JSON value.
fn legacy_set(file: &str, arg: &str, l: &Legacy) -> Out {
    let (path, value) = ops::split_set_argument(arg).map_err(at(file))?;
    set_value(
        file,
        &l.io,
        path,
        value,
        open_options(l.dec.ignore_mac, &l.dec.order)?,
        false,
    )
}

fn set_value(
    file: &str,
    io: &IoArgs,
    path: &str,
    raw: &str,
    open: ops::OpenOptions,
    idempotent: bool,
) -> Out {
    let (input, output) = formats(file, io)?;
    let value: Value = serde_json::from_str(raw).map_err(|e| {
        Failure::invalid_set(format!(
            "the value must be JSON (a string needs quotes: '\"text\"'): {e}"
        ))
    })?;
    let path = ops::parse_tree_path(path).map_err(at(file))?;
    let src = read_input(file)?;
    let opened = ops::open_for_update(&src, input, &open).map_err(at(file))?;
    if idempotent
        && output == input
        && let Ok(cur) = sopx_core::convert::value_at(&opened, &path)
        && cur == value
    {
        return Ok(());
    }
    let mut out = ops::set(&opened, input, &path, &value).map_err(at(file))?;
    if output != input {
        // As sops: `--output-type` writes the file back in that format.
        out = ops::convert_encrypted(&out, input, output).map_err(at(file))?;
    }
    write_file(Path::new(file), &out)
        .map_err(|e| Failure::write(format!("could not write {file}: {e}")))
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
    write_file(Path::new(&c.file), &out)
        .map_err(|e| Failure::write(format!("could not write {}: {e}", c.file)))
}

/// The editor command, looked up as sops does.
fn editor() -> Out<Vec<String>> {
    for var in ["SOPS_EDITOR", "EDITOR"] {
        if let Ok(v) = std::env::var(var) {
            // Split as a shell would (quotes, escaped spaces), as sops does.
            let words = shlex::split(&v).ok_or_else(|| {
                Failure::no_editor(format!(
                    "{var} is not a valid command line (unbalanced quotes?): fix {var}"
                ))
            })?;
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
    Err(Failure::no_editor(
        "no editor found: set SOPS_EDITOR or EDITOR",
    ))
}

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
        let template = format.new_file_template();
        let src = ops::encrypt(template.as_bytes(), format, &opts).map_err(at(file))?;
        let opened = ops::open_for_update(&src, format, &open).map_err(at(file))?;
        (src, opened)
    };
    let plain = opened.plaintext().map_err(at(file))?;
    // A private (0700) directory, removed on return, panic and SIGINT,
    // SIGTERM or SIGHUP (see `editdir`).
    let dir = editdir::EditDir::new()
        .map_err(|e| Failure::write(format!("could not create a temporary directory: {e}")))?;
    let name = path
        .file_name()
        .map_or_else(|| "edit".into(), |n| n.to_owned());
    let tmp = dir.path().join(name);
    write_private(&tmp, &plain)?;
    let cmd = editor()?;
    loop {
        let status = dir
            .run_editor(&cmd, &tmp)
            .map_err(|e| Failure::no_editor(format!("could not run editor {:?}: {e}", cmd[0])))?;
        if !status.success() {
            return Err(Failure::no_editor(format!(
                "editor {:?} exited with {status}; {file} was not changed",
                cmd[0]
            )));
        }
        let edited = Zeroizing::new(
            std::fs::read(&tmp)
                .map_err(|e| Failure::read(format!("could not read the edited file: {e}")))?,
        );
        if *edited == *plain && existing {
            return Err(Failure::not_modified(format!(
                "{file}: file has not been modified"
            )));
        }
        match ops::reseal(&opened, &edited, format) {
            Ok(out) => {
                return write_file(path, &out)
                    .map_err(|e| Failure::write(format!("could not write {file}: {e}")));
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
                return Err(Failure::lib(
                    format!("{msg}\nyour changes were discarded and {file} was not changed"),
                    e,
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
    let mut f = opts
        .open(path)
        .map_err(|e| Failure::write(format!("could not create {}: {e}", path.display())))?;
    f.write_all(data)
        .and_then(|_| f.sync_all())
        .map_err(|e| Failure::write(format!("could not write {}: {e}", path.display())))
}

/// Writes a result in place or to stdout.
fn write_result(file: &str, in_place: bool, data: &[u8]) -> Out {
    let io = IoArgs {
        in_place,
        ..IoArgs::default()
    };
    write_output(file, &io, data)
}

fn rotate(c: &RotateCmd, file: &str) -> Out {
    let (format, _) = formats(file, &c.io)?;
    let add = keys::from_args(&c.keys.as_key_args(true))?;
    let remove = keys::from_args(&c.keys.as_key_args(false))?;
    let src = read_input(file)?;
    let opened =
        ops::open(&src, format, &open_options(c.ignore_mac, &c.order)?).map_err(at(file))?;
    let out = ops::rotate(&opened, format, &add, &remove).map_err(at(file))?;
    write_output(file, &c.io, &out)
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

fn updatekeys(c: &UpdatekeysCmd, g: &Globals) -> Out {
    let open = open_options(false, &c.order)?;
    let mut failed = None;
    for file in &c.files {
        let io = IoArgs {
            input_type: c.input_type.clone(),
            config: g.config.clone(),
            ..IoArgs::default()
        };
        if let Err(f) = updatekeys_one(file, &io, c, &open) {
            eprintln!("sopx: {}", f.message());
            failed.get_or_insert(f.code());
        }
    }
    match failed {
        Some(status) => Err(Failure::Status {
            status,
            msg: "some files were not updated (see above)".into(),
        }),
        None => Ok(()),
    }
}

fn updatekeys_one(file: &str, io: &IoArgs, c: &UpdatekeysCmd, open: &ops::OpenOptions) -> Out {
    let (format, _) = formats(file, io)?;
    let rule = sopx_core::config::rule_for(io.config.as_deref(), Path::new(file))
        .map_err(at(file))?
        .ok_or_else(|| {
            Failure::generic(format!(
                "{file}: no .sops.yaml creation rule matches this file; nothing to update it to"
            ))
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
    write_file(Path::new(file), &out)
        .map_err(|e| Failure::write(format!("could not write {file}: {e}")))?;
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
            .map_err(|e| Failure::generic(format!("could not ask for confirmation: {e}")));
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
            let group = keys::from_args(&a.keys.as_key_args())?;
            if group.is_empty() {
                return Err(Failure::generic(
                    "give the new group's keys (--age, --pgp, --kms, …)",
                ));
            }
            groups.push(group);
            a.keys.shamir.unwrap_or(opened.meta.shamir_threshold)
        }
        GroupsCmd::Delete(d) => {
            if d.index >= groups.len() {
                return Err(Failure::generic(format!(
                    "{file} has {} key groups; there is no group {}",
                    groups.len(),
                    d.index
                )));
            }
            groups.remove(d.index);
            let t = d.shamir.unwrap_or(opened.meta.shamir_threshold);
            t.min(groups.len())
        }
    };
    let out = ops::rekey(&opened, groups, threshold).map_err(at(file))?;
    write_result(file, in_place, &out)
}

/// The status of a file (see [`sopx_core::batch::status`]).
fn file_status(file: &str, format: Format) -> Out<Status> {
    let src = read_input(file)?;
    let doc = sopx_core::stores::parse(format, &src).map_err(at(file))?;
    sopx_core::batch::status(doc.as_ref()).map_err(at(file))
}

/// `sopx check`: one line per problem, `path:line: message`; no keys
/// needed unless `--verify`.
fn check(c: &CheckCmd, g: &Globals) -> Out {
    let mut problems = 0;
    for file in &c.files {
        for p in batch::check_one(file, g.config.as_deref(), c.verify)? {
            problems += 1;
            eprintln!("{}", p.shown(file));
        }
    }
    if problems > 0 {
        return Err(Failure::generic(format!("{problems} problem(s) found")));
    }
    Ok(())
}

/// Decrypts a file for `exec-env`/`exec-file`.
fn open_for_exec(
    file: &str,
    input_type: &Option<TypeArg>,
    ignore_mac: bool,
    order: &OrderArgs,
) -> Out<(Format, ops::Opened)> {
    let io = IoArgs {
        input_type: input_type.clone(),
        ..IoArgs::default()
    };
    let (input, _) = formats(file, &io)?;
    let src = read_input(file)?;
    let opened = ops::open(&src, input, &open_options(ignore_mac, order)?).map_err(at(file))?;
    Ok((input, opened))
}

/// `/bin/sh -c COMMAND`, as sops runs it; as `user` if given.
fn shell(command: &str, user: &Option<String>) -> Out<std::process::Command> {
    let mut c = std::process::Command::new("/bin/sh");
    c.arg("-c").arg(command);
    if let Some(u) = user {
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            let (uid, gid) = crate::cli::exec::lookup_user(u)
                .map_err(|e| Failure::generic(format!("--user: {e}")))?;
            c.uid(uid).gid(gid);
        }
    }
    Ok(c)
}

/// The command's exit status as sopx's: its code, or 128 + the signal
/// that ended it (as a shell reports it).
fn pass_through(status: std::process::ExitStatus) -> Out {
    if status.success() {
        return Ok(());
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return Err(Failure::Status {
                status: 128 + sig,
                msg: format!("the command was ended by signal {sig}"),
            });
        }
    }
    let code = status.code().unwrap_or(1);
    Err(Failure::Status {
        status: code,
        msg: String::new(),
    })
}

fn start_failed(e: std::io::Error) -> Failure {
    Failure::generic(format!("could not start the command with /bin/sh: {e}"))
}

fn exec_env(c: &ExecEnvCmd) -> Out {
    let (files, command) = c.args.split_at(c.args.len() - 1);
    let command = &command[0];
    let mut docs = Vec::new();
    for file in files {
        let (_, opened) = open_for_exec(file, &c.input_type, c.ignore_mac, &c.order)?;
        match &c.extract {
            Some(p) => {
                let path = ops::parse_tree_path(p).map_err(at(file))?;
                docs.push(sopx_core::convert::value_at(&opened, &path).map_err(at(file))?);
            }
            None => docs.extend(sopx_core::convert::documents(&opened)),
        }
    }
    let vars = crate::cli::exec::env_vars(&docs).map_err(at(&files.join(", ")))?;
    let mut cmd = shell(command, &c.user)?;
    if c.pristine {
        cmd.env_clear();
    }
    cmd.envs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    if c.same_process {
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            return Err(start_failed(cmd.exec()));
        }
    }
    if c.background {
        cmd.spawn().map_err(start_failed)?;
        return Ok(());
    }
    let status = cmd.status().map_err(start_failed)?;
    pass_through(status)
}

fn exec_file(c: &ExecFileCmd) -> Out {
    let (input, opened) = open_for_exec(&c.file, &c.input_type, c.ignore_mac, &c.order)?;
    let output = c
        .output_type
        .as_ref()
        .and_then(TypeArg::known)
        .unwrap_or(input);
    let plain = if output == input {
        opened.plaintext().map_err(at(&c.file))?
    } else {
        Zeroizing::new(sopx_core::convert::convert(&opened, output).map_err(at(&c.file))?)
    };
    // A private (0700) directory, removed when the command ends, when
    // sopx gets SIGINT, SIGTERM or SIGHUP, and on panic.
    let dir = editdir::EditDir::with_prefix(".sopx-exec-")
        .map_err(|e| Failure::write(format!("could not create a temporary directory: {e}")))?;
    let name = c.filename.clone().unwrap_or_else(|| "tmp-file".into());
    if name.is_empty() || name.contains('/') || name == "." || name == ".." {
        return Err(Failure::generic(format!(
            "--filename {name:?} must be a plain file name, without `/`"
        )));
    }
    let path = dir.path().join(&name);
    let command = c.command.replace("{}", &path.display().to_string());
    let mut cmd = shell(&command, &c.user)?;
    let no_fifo = c.no_fifo || cfg!(not(unix));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut feeder = None;
    if no_fifo {
        write_private(&path, &plain)?;
    } else {
        #[cfg(unix)]
        {
            crate::cli::exec::make_fifo(&path).map_err(|e| {
                Failure::write(format!(
                    "could not create a FIFO in {}: {e}",
                    dir.path().display()
                ))
            })?;
            feeder = Some(crate::cli::exec::feed_fifo(&path, plain, stop.clone()));
        }
    }
    if let Some(u) = &c.user {
        // The file belongs to the user the command runs as, as with sops
        // (which switches users before it writes the file).
        #[cfg(unix)]
        {
            let (uid, gid) = crate::cli::exec::lookup_user(u)
                .map_err(|e| Failure::generic(format!("--user: {e}")))?;
            for p in [dir.path(), path.as_path()] {
                std::os::unix::fs::chown(p, Some(uid), Some(gid)).map_err(|e| {
                    Failure::generic(format!(
                        "--user {u}: could not hand {} over: {e}",
                        p.display()
                    ))
                })?;
            }
        }
    }
    if c.background {
        cmd.spawn().map_err(start_failed)?;
        // Wait until the command has read the FIFO (a temporary file
        // would be removed under it: sops leaves the same race).
        if let Some(f) = feeder {
            let _ = f.join();
        }
        return Ok(());
    }
    let status = dir.run(cmd).map_err(start_failed);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    // The writer ends at once unless something still holds the FIFO open
    // without reading it (a background grandchild): it is then left to
    // die with sopx, and the FIFO (which never holds data on disk) is
    // unlinked with its directory all the same.
    if let Some(f) = feeder {
        for _ in 0..40 {
            if f.is_finished() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
    drop(dir);
    pass_through(status?)
}
