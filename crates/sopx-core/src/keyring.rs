//! Where the keys that open a file come from.

use zeroize::Zeroizing;

use crate::keys::KeyError;
use crate::keys::age::{Identities, ProcessEnv};

/// The keys a caller lets sopx use to recover a file's data key.
///
/// [`KeyRing::from_env`] is what the `sops` command line does: age
/// identities from `SOPS_AGE_KEY`, `SOPS_AGE_KEY_FILE`, `SOPS_AGE_KEY_CMD`,
/// `~/.config/sops/age/keys.txt` and the SSH keys; PGP through GnuPG
/// (`GNUPGHOME`, `SOPS_GPG_EXEC`); and the cloud key services with their
/// usual credentials. A service that holds its own key starts from
/// [`KeyRing::new`] instead, which uses nothing it was not given:
///
/// ```
/// use sopx_core::KeyRing;
///
/// let key = "AGE-SECRET-KEY-1Z2MFA0XGFAPLGGTEV3R9U4ZPUKG2LDEXV4X4JG5WYD3WCA75XQWSZAVS0Q";
/// let ring = KeyRing::new().with_age_identities(key)?;
/// # Ok::<(), sopx_core::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct KeyRing {
    env: bool,
    age: Vec<Zeroizing<String>>,
    gpg: bool,
    remote: bool,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("env", &self.env)
            .field("age_identity_sets", &self.age.len())
            .field("gpg", &self.gpg)
            .field("remote", &self.remote)
            .finish()
    }
}

impl KeyRing {
    /// An empty ring: no identity, no gpg, no cloud key service.
    pub fn new() -> KeyRing {
        KeyRing::default()
    }

    /// Everything sops itself would use, found through the process
    /// environment. The variables are read when a file is opened.
    pub fn from_env() -> KeyRing {
        KeyRing {
            env: true,
            age: Vec::new(),
            gpg: true,
            remote: true,
        }
    }

    /// Adds age identities: the text of an age key file (`AGE-SECRET-KEY-1…`
    /// lines, comments allowed), as `SOPS_AGE_KEY` holds it. Checked here,
    /// so that a typo fails early.
    pub fn with_age_identities(mut self, text: &str) -> Result<KeyRing, crate::Error> {
        let text = Zeroizing::new(text.to_string());
        Identities::from_text("age identities passed in", &text)?;
        self.age.push(text);
        Ok(self)
    }

    /// Lets PGP keys be opened through GnuPG (the `gpg` program and the
    /// user's keyrings).
    pub fn with_gpg(mut self, allow: bool) -> KeyRing {
        self.gpg = allow;
        self
    }

    /// Lets the cloud key services (AWS KMS, GCP KMS, Azure Key Vault,
    /// Vault transit) be asked, with credentials from the environment as
    /// their own tools find them.
    pub fn with_remote_keys(mut self, allow: bool) -> KeyRing {
        self.remote = allow;
        self
    }

    /// The age identities to try, loaded now.
    pub(crate) fn age_identities(&self) -> Result<Identities, KeyError> {
        let mut ids = if self.env {
            Identities::load_from(&ProcessEnv)
        } else {
            Identities::empty()
        };
        for text in &self.age {
            ids.extend(Identities::from_text("age identities passed in", text)?);
        }
        Ok(ids)
    }

    pub(crate) fn gpg(&self) -> bool {
        self.gpg
    }

    pub(crate) fn remote(&self) -> bool {
        self.remote
    }
}
