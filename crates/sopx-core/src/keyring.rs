//! Where the keys that open a file come from.

use std::sync::Arc;

use zeroize::Zeroizing;

use crate::keys::KeyError;
use crate::keys::age::Identities;
use crate::keys::env::{Env, ProcessEnv};

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
    /// Where sops's variables are read (`SOPS_AGE_*`, `GNUPGHOME`...).
    env: Option<Arc<dyn Env>>,
    age: Vec<Zeroizing<String>>,
    gpg: bool,
    remote: bool,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("env", &self.env.is_some())
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
            env: Some(Arc::new(ProcessEnv)),
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

    /// Reads the variables (sops's `SOPS_AGE_KEY_FILE`, `GNUPGHOME`, and the
    /// cloud providers' credentials) from `env` instead of the process
    /// environment: what [`KeyRing::from_env`] does, with the variables a
    /// caller chooses.
    ///
    /// ```
    /// use std::ffi::OsString;
    /// use sopx_core::KeyRing;
    ///
    /// let vars = |name: &str| (name == "SOPS_AGE_KEY_FILE").then(|| OsString::from("/run/secrets/age.txt"));
    /// let ring = KeyRing::new().with_env(vars).with_gpg(false);
    /// ```
    pub fn with_env(mut self, env: impl Env + 'static) -> KeyRing {
        self.env = Some(Arc::new(env));
        self
    }

    /// Lets PGP keys be opened through GnuPG (the `gpg` program and the
    /// user's keyrings).
    pub fn with_gpg(mut self, allow: bool) -> KeyRing {
        self.gpg = allow;
        self
    }

    /// Lets the cloud key services (AWS KMS, GCP KMS, Azure Key Vault,
    /// Vault transit, HuaweiCloud KMS) be asked, with credentials found as
    /// their own tools find them: from the variables of [`with_env`]
    /// (the process environment if none was given). AWS credentials are
    /// found by the AWS SDK itself, in the process environment and `~/.aws`.
    ///
    /// [`with_env`]: KeyRing::with_env
    pub fn with_remote_keys(mut self, allow: bool) -> KeyRing {
        self.remote = allow;
        self
    }

    /// The age identities to try, loaded now.
    pub(crate) fn age_identities(&self) -> Result<Identities, KeyError> {
        let mut ids = match &self.env {
            Some(env) => Identities::load_from(env.as_ref()),
            None => Identities::empty(),
        };
        for text in &self.age {
            ids.extend(Identities::from_text("age identities passed in", text)?);
        }
        Ok(ids)
    }

    pub(crate) fn gpg(&self) -> bool {
        self.gpg
    }

    /// The variables gpg and the cloud key sources read: the ring's, or
    /// the process environment when none was given.
    pub(crate) fn env(&self) -> &dyn Env {
        match &self.env {
            Some(env) => env.as_ref(),
            None => &ProcessEnv,
        }
    }

    pub(crate) fn remote(&self) -> bool {
        self.remote
    }
}
