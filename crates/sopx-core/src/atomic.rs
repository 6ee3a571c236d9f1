//! Replacing a file's contents (`-i`, `--output`, `edit`, `set`, …) without
//! surprises:
//!
//! * **Symbolic links are written through**: the link stays, the file it
//!   names (followed to the end, `canonicalize`-style) gets the new
//!   contents. A dangling link creates the file it names.
//! * **Normal case, atomic**: a temporary file beside the real target,
//!   written, given the target's mode, owner and group, flushed to disk
//!   (`fsync`), then renamed over the target, and the directory flushed. A
//!   crash leaves either the old or the new file, never a mix.
//! * **Hard links** (more than one name for the file): renaming would leave
//!   the other names with the old contents, so the file is rewritten in
//!   place (same inode, every name sees the new contents). To stay
//!   crash-safe, the new contents are first written and flushed to a
//!   temporary copy beside it, which is removed once the rewrite is on disk;
//!   if the rewrite fails, the error names that copy.
//! * **Fallback, in place**: when the directory does not let sopx create the
//!   temporary file (read-only directory, sticky directory owned by someone
//!   else) or the owner or group cannot be given to a new file (a file of
//!   another user that this user may write), the existing file is rewritten
//!   in place: its owner, group, mode and links stay, but a crash in the
//!   middle of the write can leave it truncated.
//! * Anything that is not a regular file (`/dev/stdout`, a FIFO) is simply
//!   written to.
//!
//! New files are created with mode 0600.

use std::fs::{self, OpenOptions};
use std::io::{self, Seek, Write};
use std::path::{Path, PathBuf};

/// Where a chain of symbolic links starting at `path` ends: the file to
/// write (which may not exist yet).
pub fn resolve_links(path: &Path) -> io::Result<PathBuf> {
    if let Ok(p) = fs::canonicalize(path) {
        return Ok(p);
    }
    // A new file, or a link to one: follow the links by hand.
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = fs::read_link(&p)?;
                p = match p.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                };
            }
            Ok(_) => return Ok(p),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(p),
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other(format!(
        "{}: too many levels of symbolic links",
        path.display()
    )))
}

/// New contents for a file: bytes, or a file read from its start (an
/// output spooled because it is too large to hold in memory).
pub enum Contents<'a> {
    /// In memory.
    Bytes(&'a [u8]),
    /// In a file.
    File(&'a mut fs::File),
}

impl Contents<'_> {
    /// Writes all of it to `w`; the number of bytes.
    pub fn write_to(&mut self, w: &mut dyn Write) -> io::Result<u64> {
        match self {
            Contents::Bytes(b) => w.write_all(b).map(|_| b.len() as u64),
            Contents::File(f) => {
                f.rewind()?;
                io::copy(f, w)
            }
        }
    }
}

/// Writes `data` to `path` as the module documentation says.
pub fn write_file(path: &Path, data: &[u8]) -> io::Result<()> {
    write_contents(path, Contents::Bytes(data))
}

/// [`write_file`], for contents in memory or in a file.
pub fn write_contents(path: &Path, mut data: Contents) -> io::Result<()> {
    let data = &mut data;
    let target = resolve_links(path)?;
    let meta = match fs::metadata(&target) {
        Ok(m) => Some(m),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    if let Some(m) = &meta {
        if !m.is_file() {
            let mut f = OpenOptions::new().write(true).open(&target)?;
            return data.write_to(&mut f).and_then(|_| f.flush());
        }
        if links(m) > 1 {
            return rewrite_staged(&target, data);
        }
    }
    match replace(&target, data, meta.as_ref()) {
        Ok(()) => Ok(()),
        Err(Replace::CannotHere(_)) if meta.is_some() => rewrite_in_place(&target, data),
        Err(Replace::CannotHere(e) | Replace::Failed(e)) => Err(e),
    }
}

#[cfg(unix)]
fn links(m: &fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    m.nlink()
}

#[cfg(not(unix))]
fn links(_: &fs::Metadata) -> u64 {
    1
}

enum Replace {
    /// The directory or the file's ownership does not allow a replacement;
    /// rewriting in place may still work.
    CannotHere(io::Error),
    Failed(io::Error),
}

fn dir_of(target: &Path) -> &Path {
    match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn not_permitted(e: &io::Error) -> bool {
    // EROFS (30 on Linux and the BSDs) is a read-only file system.
    e.kind() == io::ErrorKind::PermissionDenied
        || e.kind() == io::ErrorKind::ReadOnlyFilesystem
        || e.raw_os_error() == Some(30)
}

/// The temporary file beside `target`, new contents written and flushed.
fn staged_copy(target: &Path, data: &mut Contents) -> io::Result<tempfile::NamedTempFile> {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.sopx-"))
        .tempfile_in(dir_of(target))?;
    data.write_to(&mut tmp)?;
    tmp.as_file().sync_all()?;
    Ok(tmp)
}

/// Temporary file, same mode, owner and group, fsync, rename, fsync the
/// directory.
fn replace(target: &Path, data: &mut Contents, meta: Option<&fs::Metadata>) -> Result<(), Replace> {
    let tmp = staged_copy(target, data).map_err(|e| {
        if not_permitted(&e) {
            Replace::CannotHere(e)
        } else {
            Replace::Failed(e)
        }
    })?;
    if let Some(m) = meta {
        tmp.as_file()
            .set_permissions(m.permissions())
            .map_err(Replace::Failed)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let mine = tmp.as_file().metadata().map_err(Replace::Failed)?;
            if (mine.uid(), mine.gid()) != (m.uid(), m.gid()) {
                // Only root may give a file away, and a user only to a group
                // they are in: otherwise keep the owner by writing in place.
                std::os::unix::fs::fchown(tmp.as_file(), Some(m.uid()), Some(m.gid()))
                    .map_err(Replace::CannotHere)?;
                // chown may clear the set-id bits: set the mode again.
                tmp.as_file()
                    .set_permissions(m.permissions())
                    .map_err(Replace::Failed)?;
            }
        }
        tmp.as_file().sync_all().map_err(Replace::Failed)?;
    }
    tmp.persist(target).map_err(|e| {
        if not_permitted(&e.error) {
            Replace::CannotHere(e.error)
        } else {
            Replace::Failed(e.error)
        }
    })?;
    if let Ok(d) = fs::File::open(dir_of(target)) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Rewrites the existing file (same inode): new contents from the start,
/// cut to length, flushed.
fn rewrite_in_place(target: &Path, data: &mut Contents) -> io::Result<()> {
    let mut f = OpenOptions::new().write(true).open(target)?;
    let len = data.write_to(&mut f)?;
    f.set_len(len)?;
    f.sync_all()
}

/// For a file with hard links: the new contents go to a flushed copy beside
/// it first, then into the file itself; the copy is removed once the file
/// is on disk. Without a writable directory, only the rewrite.
fn rewrite_staged(target: &Path, data: &mut Contents) -> io::Result<()> {
    let copy = match staged_copy(target, data) {
        Ok(t) => t,
        Err(e) if not_permitted(&e) => return rewrite_in_place(target, data),
        Err(e) => return Err(e),
    };
    match rewrite_in_place(target, data) {
        Ok(()) => copy.close(),
        Err(e) => {
            let kept = copy.into_temp_path().keep().ok();
            Err(match kept {
                Some(p) => io::Error::new(
                    e.kind(),
                    format!(
                        "{e} (rewriting a file with several hard links in place; its new contents are in {})",
                        p.display()
                    ),
                ),
                None => e,
            })
        }
    }
}
