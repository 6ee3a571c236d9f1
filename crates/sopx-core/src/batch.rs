//! Whole-repository batch: which files a command works on (`.sops.yaml`
//! path rules, or being encrypted, over a `.gitignore`-aware walk as
//! ripgrep walks) and a parallel driver that runs one operation per file,
//! isolates failures and reports each file's outcome.
//!
//! Remote key calls run concurrently across files: each worker thread
//! unwraps or wraps its file's data key on its own runtime (all of that
//! file's requests in flight at once, see [`crate::keys`]), and the number
//! of requests in flight over the whole run is capped there.

use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

use crate::config::{self, CreationRule};
use crate::error::{Error, Result};
use crate::stores::{self, Format};

/// Which files a walk picks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// Files a `.sops.yaml` rule with a `path_regex` covers (encrypt, check).
    Covered,
    /// Encrypted files (decrypt, updatekeys, rotate).
    Encrypted,
    /// Either (filestatus, check).
    CoveredOrEncrypted,
}

/// A file to work on: its path, and the path it is known by under its
/// root (for mirroring into an output directory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub path: PathBuf,
    pub rel: PathBuf,
}

/// Whether `src` is an encrypted file of `format`, as sops tells: sops
/// metadata with a non-empty `mac`.
pub fn is_encrypted(src: &[u8], format: Format) -> Result<bool> {
    let doc = stores::parse(format, src)?;
    Ok(matches!(status(doc.as_ref())?, Status::Encrypted { .. }))
}

/// What `filestatus` and `check` see in a file.
pub enum Status {
    /// No `sops` block, or one without a MAC.
    Plain,
    /// A valid `sops` block with a MAC; how many values the file has, and
    /// how many of them are encrypted.
    Encrypted { values: usize, encrypted: usize },
}

/// Is this document encrypted? Like sops: sops metadata with a MAC, and the
/// metadata must be valid (a plaintext file with a fake `sops: {mac: x}` is
/// refused, as sops refuses it).
pub fn status(doc: &dyn stores::Document) -> Result<Status> {
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
    let m = crate::metadata::Metadata::from_value(meta)?;
    if !crate::cipher::is_encrypted(&m.mac) {
        return Err(crate::Error::BadMetadata(
            "the `mac` is not an encrypted value (ENC[AES256_GCM,…])".into(),
        ));
    }
    let (mut values, mut encrypted) = (0, 0);
    for l in doc
        .tree()
        .leaves
        .iter()
        .filter(|l| l.kind != crate::value::Kind::Comment && !l.text.is_empty())
    {
        values += 1;
        encrypted += usize::from(crate::cipher::is_encrypted(l.as_str()));
    }
    Ok(Status::Encrypted { values, encrypted })
}

/// Cheap test first (every encrypted file holds `sops` and `mac`), then a
/// parse. Unreadable files are not encrypted.
fn looks_encrypted(path: &Path) -> bool {
    let Ok(src) = std::fs::read(path) else {
        return false;
    };
    let has = |needle: &[u8]| src.windows(needle.len()).any(|w| w == needle);
    has(b"sops") && has(b"mac") && is_encrypted(&src, Format::from_path(path)).unwrap_or(false)
}

/// The rule that applies to `path`, if it is one with a `path_regex`.
pub fn covering_rule(config: Option<&Path>, path: &Path) -> Result<Option<CreationRule>> {
    Ok(config::rule_for(config, path)?.filter(|r| r.path_regex.is_some()))
}

/// The path `path` (found under `root`) is mirrored to: relative paths
/// without `..` as they are (less a leading `./`), others relative to their
/// root, and as a last resort the file name.
fn relative_name(path: &Path, root: &Path) -> PathBuf {
    let clean = |p: &Path| -> Option<PathBuf> {
        let mut out = PathBuf::new();
        for c in p.components() {
            match c {
                Component::Normal(s) => out.push(s),
                Component::CurDir => {}
                _ => return None,
            }
        }
        (!out.as_os_str().is_empty()).then_some(out)
    };
    clean(path)
        .or_else(|| path.strip_prefix(root).ok().and_then(clean))
        .or_else(|| path.file_name().map(PathBuf::from))
        .unwrap_or_else(|| path.to_path_buf())
}

/// The files to work on: every file named in `files` (the operation decides
/// whether to skip it), and under each of `dirs` the files `pick` selects.
/// The walk skips hidden files and directories (so `.git` and `.sops.yaml`)
/// and what `.gitignore`, `.ignore` and `.git/info/exclude` ignore, in a git
/// repository or not. Each file appears once, in a stable order.
pub fn select(
    files: &[PathBuf],
    dirs: &[PathBuf],
    config: Option<&Path>,
    pick: Pick,
) -> Result<Vec<Target>> {
    let mut out: Vec<Target> = files
        .iter()
        .map(|f| Target {
            path: f.clone(),
            rel: relative_name(f, Path::new(".")),
        })
        .collect();
    for dir in dirs {
        if !dir.is_dir() {
            return Err(Error::Other(format!("{}: not a directory", dir.display())));
        }
        let walk = ignore::WalkBuilder::new(dir)
            .hidden(true)
            .git_ignore(true)
            .git_exclude(true)
            .require_git(false)
            .sort_by_file_name(|a, b| a.cmp(b))
            .build();
        for entry in walk {
            let entry =
                entry.map_err(|e| Error::Other(format!("walking {}: {e}", dir.display())))?;
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                continue;
            }
            let path = entry.into_path();
            let covered = || covering_rule(config, &path).map(|r| r.is_some());
            let picked = match pick {
                Pick::Covered => covered()?,
                Pick::Encrypted => looks_encrypted(&path),
                Pick::CoveredOrEncrypted => covered()? || looks_encrypted(&path),
            };
            if picked {
                let rel = relative_name(&path, dir);
                out.push(Target { path, rel });
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|t| seen.insert(t.path.clone()));
    Ok(out)
}

/// What became of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Changed or written (or, for read-only commands, checked).
    Done,
    /// Nothing to do, with the reason.
    Skipped(String),
    /// Failed, with the reason; nothing of this file was changed.
    Failed(String),
}

/// One file's result: the outcome and what the command prints for it
/// (check's problem lines, filestatus's status), in file order.
#[derive(Debug, Clone)]
pub struct Report {
    pub path: PathBuf,
    pub outcome: Outcome,
    pub lines: Vec<String>,
}

/// The counts of a run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub done: usize,
    pub skipped: usize,
    pub failed: usize,
}

impl Summary {
    pub fn of(reports: &[Report]) -> Summary {
        let mut s = Summary::default();
        for r in reports {
            match r.outcome {
                Outcome::Done => s.done += 1,
                Outcome::Skipped(_) => s.skipped += 1,
                Outcome::Failed(_) => s.failed += 1,
            }
        }
        s
    }
}

/// Worker threads by default: the cores, but at least 8, so files waiting
/// on a remote key service overlap even on a small machine.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .max(8)
}

/// Runs `op` on every target with `jobs` threads; `tick` is called after
/// each file (for a progress bar). A file's failure, even a panic, is
/// reported as its outcome and touches no other file. Reports come back in
/// the order of `targets`.
pub fn run<F>(targets: &[Target], jobs: usize, tick: &(dyn Fn() + Sync), op: F) -> Vec<Report>
where
    F: Fn(&Target) -> (Outcome, Vec<String>) + Sync,
{
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<Report>>> = Mutex::new(vec![None; targets.len()]);
    let jobs = jobs.clamp(1, targets.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(t) = targets.get(i) else { break };
                    let (outcome, lines) =
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| op(t)))
                            .unwrap_or_else(|_| {
                                (Outcome::Failed("internal error (panic)".into()), Vec::new())
                            });
                    let report = Report {
                        path: t.path.clone(),
                        outcome,
                        lines,
                    };
                    slots.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(report);
                    tick();
                }
            });
        }
    });
    slots
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .flatten()
        .collect()
}

/// Where `decrypt --output-dir` writes a target's plaintext.
pub fn output_path(out_dir: &Path, target: &Target) -> PathBuf {
    out_dir.join(&target.rel)
}

/// Writes plaintext for `decrypt --output-dir`: parent directories created
/// 0700, the file 0600, replaced atomically (a temporary file in the same
/// directory, renamed over).
pub fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let dir = dir.unwrap_or(Path::new("."));
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)?;
    let mut tmp = tempfile::Builder::new().prefix(".sopx-").tempfile_in(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    use std::io::Write;
    tmp.write_all(data)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// One problem `check` finds: the line (when known) and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: Option<usize>,
    pub msg: String,
}

impl Problem {
    /// `file:line: message` (or `file: message`), as check prints it.
    pub fn shown(&self, file: &str) -> String {
        match self.line {
            Some(l) => format!("{file}:{l}: {}", self.msg),
            None => format!("{file}: {}", self.msg),
        }
    }
}

/// `check` on one file's bytes, without keys (unless `verify`): `rule` is
/// the `.sops.yaml` rule that applies to it, `shown` its name in messages.
pub fn check_file(
    shown: &str,
    rule: Option<&CreationRule>,
    src: &[u8],
    format: Format,
    verify: bool,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut report = |line: Option<usize>, msg: String| problems.push(Problem { line, msg });
    let doc = match stores::parse(format, src) {
        Ok(d) => d,
        Err(e) => {
            // Not even readable as its format: certainly not encrypted.
            if rule.is_some_and(|r| r.path_regex.is_some()) {
                report(
                    None,
                    format!(
                        "not encrypted (and not readable as {}: {e}), but .sops.yaml says it must be",
                        format.name()
                    ),
                );
            }
            return problems;
        }
    };
    let Some(meta) = doc.metadata() else {
        // Only rules that name paths say which files must be encrypted;
        // a catch-all rule only gives keys.
        if let Some(regex) = rule.and_then(|r| r.path_regex.as_ref()) {
            report(
                Some(1),
                format!(
                    "not encrypted, but .sops.yaml says it must be (path_regex {regex:?}); run `sopx encrypt -i {shown}`"
                ),
            );
        }
        return problems;
    };
    let meta = match crate::metadata::Metadata::from_value(meta) {
        Ok(m) if !m.mac.is_empty() => m,
        Ok(_) => {
            report(
                None,
                "the sops metadata has no `mac`: the file is damaged or not really encrypted"
                    .into(),
            );
            return problems;
        }
        Err(e) => {
            report(None, format!("malformed sops metadata: {e}"));
            return problems;
        }
    };
    match status(doc.as_ref()) {
        Err(e) => {
            report(None, format!("malformed sops metadata: {e}"));
            return problems;
        }
        Ok(Status::Encrypted { values, encrypted }) if values > 0 && encrypted == 0 => report(
            None,
            format!(
                "encrypted, but none of its {values} value(s) is: every value is in clear (check the rule's encrypted_regex / unencrypted_suffix and re-encrypt)"
            ),
        ),
        _ => {}
    }
    let rules = match meta.rules() {
        Ok(r) => r,
        Err(e) => {
            report(
                None,
                format!("malformed selection rules in the metadata: {e}"),
            );
            return problems;
        }
    };
    for f in crate::tree::lint(doc.tree(), &rules) {
        report(
            doc.leaf_line(f.leaf),
            format!("{}: {}", crate::tree::display_path(&f.path), f.problem),
        );
    }
    if let Some(r) = rule.filter(|r| !r.key_groups.is_empty()) {
        let (want, have) = (&r.key_groups, &meta.key_groups);
        let same = want.len() == have.len()
            && want.iter().zip(have).all(|(w, h)| {
                w.len() == h.len()
                    && w.iter()
                        .all(|k| h.iter().any(|m| crate::ops::same_key(k, m)))
            });
        if !same {
            report(
                None,
                format!(
                    "its recipients differ from what .sops.yaml lists for it now (stale after a key change); run `sopx updatekeys {shown}`"
                ),
            );
        }
    }
    if verify && let Err(e) = crate::ops::open(src, format, &crate::ops::OpenOptions::default()) {
        report(None, format!("does not verify: {e}"));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_names() {
        assert_eq!(
            relative_name(Path::new("./a/b.yaml"), Path::new(".")),
            PathBuf::from("a/b.yaml")
        );
        assert_eq!(
            relative_name(Path::new("/x/y/a/b.yaml"), Path::new("/x/y")),
            PathBuf::from("a/b.yaml")
        );
        assert_eq!(
            relative_name(Path::new("../q/b.yaml"), Path::new("../q")),
            PathBuf::from("b.yaml")
        );
    }

    #[test]
    fn a_panic_is_one_file_failure() {
        let t = |p: &str| Target {
            path: p.into(),
            rel: p.into(),
        };
        let targets = vec![t("a"), t("b"), t("c")];
        let r = run(&targets, 2, &|| {}, |t| {
            if t.path == Path::new("b") {
                panic!("boom");
            }
            (Outcome::Done, vec![])
        });
        assert_eq!(r.len(), 3);
        assert_eq!(
            Summary::of(&r),
            Summary {
                done: 2,
                skipped: 0,
                failed: 1
            }
        );
        assert_eq!(r[1].path, Path::new("b"));
    }
}
