//! Reading a file as it was at a git revision (`git:REV` arguments), for
//! stable re-encryption and diffs. The revision and path come from the
//! user's command line, never from a file.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::{Error, Result};

/// `git:REV` → `Some(REV)`.
pub fn parse_spec(spec: &str) -> Option<&str> {
    spec.strip_prefix("git:")
}

fn dir_and_name(path: &Path) -> (PathBuf, String) {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    (dir, name)
}

fn check_rev(rev: &str) -> Result<()> {
    if rev.is_empty() || rev.starts_with('-') || rev.contains(':') || rev.contains('\0') {
        return Err(Error::Other(format!(
            "{rev:?} is not a git revision: give a commit, branch or tag such as HEAD, main or HEAD~1"
        )));
    }
    Ok(())
}

/// The bytes of `path` at revision `rev`, as git stores them.
pub fn read_at(rev: &str, path: &Path) -> Result<Vec<u8>> {
    check_rev(rev)?;
    let (dir, name) = dir_and_name(path);
    let out = Command::new("git")
        .arg("-C")
        .arg(&dir)
        .arg("show")
        .arg(format!("{rev}:./{name}"))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            Error::Other(format!(
                "could not run git: {e}; install git or give a file path"
            ))
        })?;
    if !out.status.success() {
        return Err(Error::Other(format!(
            "git has no {} at {rev}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(out.stdout)
}

/// Whether git tracks `path` (false outside a repository or without git).
/// Whether `path` may be in a git work tree, without starting git: some
/// directory above it holds `.git`, or `GIT_DIR` is set. When this is
/// false, [`is_tracked`] is false too (a batch skips the call per file).
pub fn may_be_in_repo(path: &Path) -> bool {
    if std::env::var_os("GIT_DIR").is_some() {
        return true;
    }
    let Ok(abs) = std::path::absolute(path) else {
        return true;
    };
    abs.ancestors()
        .skip(1)
        .any(|d| d.join(".git").symlink_metadata().is_ok())
}

pub fn is_tracked(path: &Path) -> bool {
    let (dir, name) = dir_and_name(path);
    Command::new("git")
        .arg("-C")
        .arg(&dir)
        .args(["ls-files", "--error-unmatch", "--"])
        .arg(&name)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_that_look_like_options_are_refused() {
        assert!(check_rev("--output=/tmp/x").is_err());
        assert!(check_rev("HEAD:secret").is_err());
        assert!(check_rev("").is_err());
        assert!(check_rev("HEAD~1").is_ok());
        assert_eq!(parse_spec("git:main"), Some("main"));
        assert_eq!(parse_spec("old.yaml"), None);
    }
}
