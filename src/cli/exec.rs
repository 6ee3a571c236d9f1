//! What `exec-env` and `exec-file` need besides running the command: the
//! environment variables a decrypted document gives, the FIFO the
//! plaintext is handed over in, and the user to run the command as.
//!
//! Variables: each top-level entry of the document (of every document,
//! and of every file, later ones winning) becomes one variable, as with
//! sops. Strings are taken as they are (line breaks included, as sops
//! 3.11 does); numbers and booleans are written as in JSON, null as an
//! empty string. Where
//! sops refuses a nested value, sopx flattens it: a map's entries become
//! `PARENT_CHILD` (the key names joined with `_`, case kept), a list's
//! items `PARENT_0`, `PARENT_1`, and so on, to any depth.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::Value;

use sopx_core::error::{Error, Result};

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                flatten(&format!("{prefix}_{k}"), v, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                flatten(&format!("{prefix}_{i}"), v, out);
            }
        }
        other => out.push((prefix.to_string(), scalar(other))),
    }
}

/// The variables a decrypted document gives (see the module docs). A
/// later entry with the same name replaces an earlier one.
pub fn env_vars(docs: &[Value]) -> Result<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = Vec::new();
    for doc in docs {
        let Value::Object(m) = doc else {
            return Err(Error::Unsupported(
                "exec-env needs a map at the top level (key: value entries)".into(),
            ));
        };
        for (k, v) in m {
            if k == "sops" {
                continue;
            }
            flatten(k, v, &mut out);
        }
    }
    let mut unique: Vec<(String, String)> = Vec::with_capacity(out.len());
    for (k, v) in out {
        if k.is_empty() || k.contains('=') || k.contains('\0') || v.contains('\0') {
            return Err(Error::Unsupported(format!(
                "{k:?} cannot be an environment variable (empty, or with `=` or a NUL byte)"
            )));
        }
        match unique.iter_mut().find(|(n, _)| *n == k) {
            Some(slot) => slot.1 = v,
            None => unique.push((k, v)),
        }
    }
    Ok(unique)
}

/// Creates a FIFO only the user can read and write (0600).
#[cfg(unix)]
pub fn make_fifo(path: &Path) -> std::io::Result<()> {
    use rustix::fs::{CWD, FileType, Mode, mknodat};
    mknodat(CWD, path, FileType::Fifo, Mode::from_raw_mode(0o600), 0).map_err(Into::into)
}

/// Writes `data` into the FIFO at `path` once a reader opens it, from a
/// thread. The thread gives up, without writing, once `stop` is set
/// before any reader came; a reader that goes away early ends the write.
#[cfg(unix)]
pub fn feed_fifo(
    path: &Path,
    data: zeroize::Zeroizing<Vec<u8>>,
    stop: Arc<AtomicBool>,
) -> JoinHandle<()> {
    let path = path.to_path_buf();
    std::thread::spawn(move || {
        use std::os::unix::fs::OpenOptionsExt;
        loop {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            // Non-blocking open: fails with ENXIO while there is no reader.
            let opened = std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
                .open(&path);
            match opened {
                Ok(mut f) => {
                    let _ = rustix::fs::fcntl_setfl(&f, rustix::fs::OFlags::empty());
                    let _ = f.write_all(&data);
                    return;
                }
                Err(e) if e.raw_os_error() == Some(rustix::io::Errno::NXIO.raw_os_error()) => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(_) => return,
            }
        }
    })
}

/// Why `--user` names no usable user.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("could not read /etc/passwd: {0}")]
    Passwd(#[source] std::io::Error),
    #[error("no user {0:?} in /etc/passwd (check the --user name)")]
    Unknown(String),
    #[error("the /etc/passwd entry of {0:?} is not valid")]
    BadEntry(String),
}

/// The user and group IDs of a user name (or a numeric ID), from
/// `/etc/passwd`.
pub fn lookup_user(name: &str) -> std::result::Result<(u32, u32), UserError> {
    let passwd = std::fs::read_to_string("/etc/passwd").map_err(UserError::Passwd)?;
    for line in passwd.lines() {
        let f: Vec<&str> = line.split(':').collect();
        if f.len() >= 4 && (f[0] == name || f[2] == name) {
            let bad = || UserError::BadEntry(name.to_string());
            let uid = f[2].parse().map_err(|_| bad())?;
            let gid = f[3].parse().map_err(|_| bad())?;
            return Ok((uid, gid));
        }
    }
    Err(UserError::Unknown(name.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flattens_nested_values() {
        let docs = [json!({"A": "x\ny", "n": 5, "b": true, "z": null,
            "db": {"user": "u", "hosts": ["h1", "h2"]}, "sops": {"mac": "m"}})];
        let vars = env_vars(&docs).unwrap();
        let get = |k: &str| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("A"), Some("x\ny"));
        assert_eq!(get("n"), Some("5"));
        assert_eq!(get("b"), Some("true"));
        assert_eq!(get("z"), Some(""));
        assert_eq!(get("db_user"), Some("u"));
        assert_eq!(get("db_hosts_1"), Some("h2"));
        assert_eq!(get("sops"), None);
    }

    #[test]
    fn later_entries_win() {
        let vars = env_vars(&[json!({"A": "1", "B": "2"}), json!({"A": "3"})]).unwrap();
        assert_eq!(vars, [("A".into(), "3".into()), ("B".into(), "2".into())]);
    }
}
