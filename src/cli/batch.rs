//! The batch forms of the commands (`-r DIR`, several files): each command's
//! one-file step, run by [`sopx_core::batch::run`], and the summary.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use super::*;
use sopx_core::batch::{self as b, Outcome, Pick, Target};

/// Whether a command line is a batch: `-r`, or more than one file.
pub(super) fn is_batch(a: &BatchArgs, files: usize) -> bool {
    a.recursive.is_some() || files > 1
}

fn conflict(msg: impl Into<String>) -> Failure {
    Failure::conflict(msg)
}

/// Flags that name one input or one output have no meaning in a batch.
fn refuse_single_file_flags(io: &IoArgs) -> Out {
    if io.output.is_some() {
        return Err(conflict(
            "--output names one file; a batch (several files or -r) writes each in place (-i) or under --output-dir",
        ));
    }
    if io.filename_override.is_some() {
        return Err(conflict(
            "--filename-override names one file; it cannot be used with several files or -r",
        ));
    }
    if io.output_type.is_some() {
        return Err(conflict(
            "--output-type is for one file; a batch keeps each file's format",
        ));
    }
    Ok(())
}

fn targets(files: &[String], a: &BatchArgs, config: Option<&Path>, pick: Pick) -> Out<Vec<Target>> {
    if files.iter().any(|f| f == "-") {
        return Err(conflict("stdin (`-`) cannot be part of a batch"));
    }
    let files: Vec<PathBuf> = files.iter().map(PathBuf::from).collect();
    let dirs: Vec<PathBuf> = a.recursive.iter().cloned().collect();
    b::select(&files, &dirs, config, pick).map_err(|e| Failure::lib(e.to_string(), e))
}

/// A failure as a file's outcome: the message, less the `file:` prefix the
/// summary adds.
fn failed(file: &str, f: Failure) -> (Outcome, Vec<String>) {
    let prefix = format!("{file}: ");
    let msg = f.message();
    let msg = msg.strip_prefix(&prefix).unwrap_or(msg).to_string();
    (Outcome::Failed(msg), Vec::new())
}

/// Runs `op` over `targets` with a progress bar on a terminal, prints what
/// each file printed and then one summary; fails if any file failed.
fn drive<F>(what: &str, targets: &[Target], a: &BatchArgs, verbose: bool, op: F) -> Out
where
    F: Fn(&str) -> Out<(Outcome, Vec<String>)> + Sync,
{
    let jobs = a.jobs.unwrap_or_else(b::default_jobs);
    let bar = (std::io::stderr().is_terminal() && targets.len() > 1).then(|| {
        let bar = indicatif::ProgressBar::new(targets.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_prefix(format!("sopx {what}"));
        bar
    });
    let tick = || {
        if let Some(bar) = &bar {
            bar.inc(1);
        }
    };
    let reports = b::run(targets, jobs, &tick, |t| {
        let file = t.path.display().to_string();
        let (outcome, mut lines) = op(&file).unwrap_or_else(|f| failed(&file, f));
        for w in sopx_core::warn::take() {
            lines.push(format!("sopx: warning: {file}: {w}"));
        }
        (outcome, lines)
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let mut stdout = std::io::stdout().lock();
    for r in &reports {
        for l in &r.lines {
            // Lines that are a command's output (JSON) go to stdout,
            // messages to stderr.
            if l.starts_with('{') {
                let _ = writeln!(stdout, "{l}");
            } else {
                eprintln!("{l}");
            }
        }
    }
    let _ = stdout.flush();
    let s = b::Summary::of(&reports);
    eprintln!(
        "sopx {what}: {} file(s): {} done, {} skipped, {} failed",
        reports.len(),
        s.done,
        s.skipped,
        s.failed
    );
    for r in &reports {
        match &r.outcome {
            Outcome::Failed(why) => eprintln!("  failed: {}: {why}", r.path.display()),
            Outcome::Skipped(why) if verbose => {
                eprintln!("  skipped: {}: {why}", r.path.display())
            }
            _ => {}
        }
    }
    if s.failed > 0 {
        return Err(Failure::generic(String::new()));
    }
    Ok(())
}

fn write_back(file: &str, data: &[u8]) -> Out {
    ops::write_atomic(Path::new(file), data)
        .map_err(|e| Failure::write(format!("could not write {file}: {e}")))
}

/// `encrypt -i` over the files `.sops.yaml` rules cover.
pub(super) fn encrypt(c: &EncryptCmd) -> Out {
    refuse_single_file_flags(&c.io)?;
    if !c.io.in_place {
        return Err(conflict(
            "encrypting several files (or -r) writes each in place: add -i",
        ));
    }
    if c.reuse.is_some() {
        return Err(conflict(
            "--reuse names the old version of one file; in a batch each file reuses its git:HEAD version by default (--no-reuse to encrypt afresh)",
        ));
    }
    let targets = targets(&c.files, &c.batch, c.io.config.as_deref(), Pick::Covered)?;
    drive("encrypt", &targets, &c.batch, c.io.verbose, |file| {
        let (input, _) = formats(file, &c.io)?;
        let src = read_input(file)?;
        if b::is_encrypted(&src, input).unwrap_or(false) {
            return Ok((Outcome::Skipped("already encrypted".into()), vec![]));
        }
        // Files outside any git work tree have no git:HEAD to reuse.
        let no_reuse = c.no_reuse || !sopx_core::gitrev::may_be_in_repo(Path::new(file));
        let out = match reuse_source(file, &c.io, None, no_reuse, input)? {
            Some(opened) => ops::reseal(&opened, &src, input).map_err(at(file))?,
            None => {
                let opts = encrypt_options(file, &c.keys, &c.rules, &c.io)?;
                ops::encrypt(&src, input, &opts).map_err(at(file))?
            }
        };
        write_back(file, &out)?;
        Ok((Outcome::Done, vec![]))
    })
}

/// `decrypt --output-dir DIR` over encrypted files.
pub(super) fn decrypt(c: &DecryptCmd) -> Out {
    refuse_single_file_flags(&c.io)?;
    let Some(out_dir) = &c.output_dir else {
        return Err(conflict(
            "decrypting several files (or -r) needs --output-dir DIR (plaintext is never written in place by a batch)",
        ));
    };
    if c.io.in_place || c.dec.extract.is_some() {
        return Err(conflict(
            "-i and --extract are for one file; a batch writes each file's plaintext under --output-dir",
        ));
    }
    // Plaintext copies inside the walked tree could be committed, or
    // picked up by a later batch: the output directory must be elsewhere.
    if let Some(root) = &c.batch.recursive {
        let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        let (root, out) = (canon(root), canon(out_dir));
        if out.starts_with(&root) {
            return Err(conflict(format!(
                "--output-dir {} is inside {}, the tree being decrypted: put the plaintext outside it (and outside any git work tree)",
                out.display(),
                root.display()
            )));
        }
    }
    let open = open_options(c.dec.ignore_mac, &c.dec.order)?;
    let targets = targets(&c.files, &c.batch, c.io.config.as_deref(), Pick::Encrypted)?;
    let by_path: std::collections::HashMap<String, &Target> = targets
        .iter()
        .map(|t| (t.path.display().to_string(), t))
        .collect();
    drive("decrypt", &targets, &c.batch, c.io.verbose, |file| {
        let (input, _) = formats(file, &c.io)?;
        let src = read_input(file)?;
        let opened = ops::open(&src, input, &open).map_err(at(file))?;
        let plain = opened.plaintext().map_err(at(file))?;
        let dest = b::output_path(out_dir, by_path[file]);
        b::write_private(&dest, &plain)
            .map_err(|e| Failure::write(format!("could not write {}: {e}", dest.display())))?;
        Ok((Outcome::Done, vec![]))
    })
}

/// `rotate -i` over encrypted files.
pub(super) fn rotate(c: &RotateCmd) -> Out {
    refuse_single_file_flags(&c.io)?;
    if !c.io.in_place {
        return Err(conflict(
            "rotating several files (or -r) writes each in place: add -i",
        ));
    }
    let add = keys::from_args(&c.keys.as_key_args(true))?;
    let remove = keys::from_args(&c.keys.as_key_args(false))?;
    let open = open_options(c.ignore_mac, &c.order)?;
    let targets = targets(&c.files, &c.batch, c.io.config.as_deref(), Pick::Encrypted)?;
    drive("rotate", &targets, &c.batch, c.io.verbose, |file| {
        let (format, _) = formats(file, &c.io)?;
        let src = read_input(file)?;
        let opened = ops::open(&src, format, &open).map_err(at(file))?;
        let out = ops::rotate(&opened, format, &add, &remove).map_err(at(file))?;
        write_back(file, &out)?;
        Ok((Outcome::Done, vec![]))
    })
}

/// `updatekeys -y` over encrypted files.
pub(super) fn updatekeys(c: &UpdatekeysCmd, g: &Globals) -> Out {
    if !c.yes {
        return Err(conflict(
            "updatekeys on several files at once (-r) cannot ask for each: add -y",
        ));
    }
    let open = open_options(false, &c.order)?;
    let io = IoArgs {
        input_type: c.input_type.clone(),
        config: g.config.clone(),
        ..IoArgs::default()
    };
    let targets = targets(&c.files, &c.batch, g.config.as_deref(), Pick::Encrypted)?;
    drive("updatekeys", &targets, &c.batch, g.verbose, |file| {
        let (format, _) = formats(file, &io)?;
        let rule = sopx_core::config::rule_for(io.config.as_deref(), Path::new(file))
            .map_err(at(file))?
            .ok_or_else(|| {
                Failure::generic(
                    "no .sops.yaml creation rule matches this file; nothing to update it to",
                )
            })?;
        let src = read_input(file)?;
        let opened = ops::open(&src, format, &open).map_err(at(file))?;
        let threshold = c.shamir.unwrap_or(rule.shamir_threshold);
        let old = describe_groups(&opened.meta.key_groups);
        let new = describe_groups(&rule.key_groups);
        let same_keys = old.len() == new.len() && old.iter().all(|o| new.contains(o));
        if same_keys && (rule.key_groups.len() < 2 || threshold == opened.meta.shamir_threshold) {
            return Ok((Outcome::Skipped("already up to date".into()), vec![]));
        }
        let mut lines = Vec::new();
        for o in old.iter().filter(|o| !new.contains(o)) {
            lines.push(format!("sopx: {file}: --- {o}"));
        }
        for n in new.iter().filter(|n| !old.contains(n)) {
            lines.push(format!("sopx: {file}: +++ {n}"));
        }
        let out = ops::rekey(&opened, rule.key_groups.clone(), threshold).map_err(at(file))?;
        write_back(file, &out)?;
        Ok((Outcome::Done, lines))
    })
}

/// `filestatus`: one JSON line per file.
pub(super) fn filestatus(c: &FilestatusCmd) -> Out {
    let targets = targets(
        &c.files,
        &c.batch,
        c.io.config.as_deref(),
        Pick::CoveredOrEncrypted,
    )?;
    drive("filestatus", &targets, &c.batch, c.io.verbose, |file| {
        let (input, _) = formats(file, &c.io)?;
        let src = read_input(file)?;
        let encrypted = b::is_encrypted(&src, input).unwrap_or(false);
        let line = serde_json::json!({ "file": file, "encrypted": encrypted }).to_string();
        Ok((Outcome::Done, vec![line]))
    })
}

/// `check -r`: each file's problems, `path:line: message`.
pub(super) fn check(c: &CheckCmd, g: &Globals) -> Out {
    let targets = targets(
        &c.files,
        &c.batch,
        g.config.as_deref(),
        Pick::CoveredOrEncrypted,
    )?;
    drive("check", &targets, &c.batch, g.verbose, |file| {
        let problems = check_one(file, g.config.as_deref(), c.verify)?;
        if problems.is_empty() {
            return Ok((Outcome::Done, vec![]));
        }
        let n = problems.len();
        let lines = problems.into_iter().map(|p| p.shown(file)).collect();
        Ok((Outcome::Failed(format!("{n} problem(s)")), lines))
    })
}

/// `check` on one file.
pub(super) fn check_one(file: &str, config: Option<&Path>, verify: bool) -> Out<Vec<b::Problem>> {
    let rule = sopx_core::config::rule_for(config, Path::new(file)).map_err(at(file))?;
    let format = Format::from_path(Path::new(file));
    let src = read_input(file)?;
    Ok(b::check_file(file, rule.as_ref(), &src, format, verify))
}
