//! Where every key source reads its environment variables: sops's own
//! (`SOPS_AGE_KEY_FILE`, `SOPS_GCP_KMS_ENDPOINT`...) and the cloud
//! providers' credentials (`VAULT_TOKEN`, `AZURE_CLIENT_ID`...). A
//! [`KeyRing`](crate::KeyRing) holds one [`Env`] and hands it to the
//! sources, so a caller that passes its own sees no variable of the
//! process. The exceptions are the providers' own code, which finds its
//! credentials itself: the AWS SDK (`AWS_*`, `~/.aws`), gcp_auth's
//! Application Default Credentials (the last GCP fallback) and the `az`
//! command (the last Azure fallback).
//!
//! Credentials found once are kept for the process, each under a digest of
//! the variables that chose it (`digest`): a ring with other variables
//! finds its own.

// The helpers below `non_empty` serve the remote clients; a build with
// only some of them leaves some helpers unused.
#![cfg_attr(
    not(all(
        feature = "gcp",
        feature = "azure",
        feature = "vault",
        feature = "hckms"
    )),
    allow(dead_code)
)]

use std::ffi::OsString;
use std::path::PathBuf;

use sha2::{Digest, Sha256};

/// Where environment variables are read from: the process environment
/// ([`KeyRing::from_env`](crate::KeyRing::from_env)), or any
/// `Fn(&str) -> Option<OsString>` a caller gives
/// ([`KeyRing::with_env`](crate::KeyRing::with_env)).
pub trait Env: Send + Sync {
    /// The variable's value, if set.
    fn var_os(&self, name: &str) -> Option<OsString>;
}

/// The real process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var_os(&self, name: &str) -> Option<OsString> {
        std::env::var_os(name)
    }
}

impl<F: Fn(&str) -> Option<OsString> + Send + Sync> Env for F {
    fn var_os(&self, name: &str) -> Option<OsString> {
        self(name)
    }
}

/// A variable, unless unset or empty (Go's `os.Getenv(...) != ""`): how
/// sops reads its own variables.
pub(crate) fn non_empty(env: &dyn Env, name: &str) -> Option<OsString> {
    env.var_os(name).filter(|v| !v.is_empty())
}

/// A variable as text, unless unset, not UTF-8, empty or blank: how the
/// cloud providers' own tools read theirs.
pub(crate) fn var(env: &dyn Env, name: &str) -> Option<String> {
    env.var_os(name)
        .and_then(|v| v.into_string().ok())
        .filter(|v| !v.trim().is_empty())
}

/// A variable as text, as set (empty included), unless unset or not UTF-8.
pub(crate) fn text(env: &dyn Env, name: &str) -> Option<String> {
    env.var_os(name).and_then(|v| v.into_string().ok())
}

/// Go's `os.UserHomeDir`: `$HOME` (`%USERPROFILE%` on Windows), no fallback.
pub(crate) fn home_dir(env: &dyn Env) -> Option<PathBuf> {
    let var = if cfg!(windows) { "USERPROFILE" } else { "HOME" };
    non_empty(env, var).map(PathBuf::from)
}

/// A digest of the variables `names` (set or not, and their values): a
/// credential cached for one digest is only reused by a key ring whose
/// variables give the same one. The values (secrets among them) are not
/// kept.
pub(crate) fn digest(env: &dyn Env, names: &[&str]) -> [u8; 32] {
    let mut h = Sha256::new();
    for name in names {
        h.update(name.as_bytes());
        match env.var_os(name) {
            Some(v) => {
                let v = v.as_encoded_bytes();
                h.update([1]);
                h.update((v.len() as u64).to_le_bytes());
                h.update(v);
            }
            None => h.update([0]),
        }
    }
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_tells_apart_values_and_unset() {
        let a = |n: &str| (n == "A").then(|| OsString::from("x"));
        let b = |n: &str| (n == "A").then(|| OsString::from("y"));
        let empty = |n: &str| (n == "A").then(OsString::new);
        let none = |_: &str| None;
        let all = [
            digest(&a, &["A"]),
            digest(&b, &["A"]),
            digest(&empty, &["A"]),
            digest(&none, &["A"]),
        ];
        for i in 0..all.len() {
            for j in i + 1..all.len() {
                assert_ne!(all[i], all[j], "{i} and {j}");
            }
        }
        assert_eq!(digest(&a, &["A"]), digest(&a, &["A"]));
    }

    #[test]
    fn var_treats_blank_as_unset() {
        let e = |n: &str| match n {
            "BLANK" => Some(OsString::from("  ")),
            "SET" => Some(OsString::from("v")),
            _ => None,
        };
        assert_eq!(var(&e, "BLANK"), None);
        assert_eq!(var(&e, "SET").as_deref(), Some("v"));
        assert_eq!(var(&e, "UNSET"), None);
        assert!(non_empty(&e, "BLANK").is_some());
    }
}
