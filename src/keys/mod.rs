//! Master keys: wrapping the data key for each recipient and unwrapping it
//! again with whatever identity the user has.

pub mod age;
pub mod pgp;

use thiserror::Error;
use zeroize::Zeroizing;

use crate::cipher::DataKey;
use crate::error::codes;
use crate::metadata::{KeyGroup, MasterKey, Metadata};

#[derive(Debug, Error)]
pub enum KeyError {
    /// Wrapping the data key for a recipient failed.
    #[error("could not encrypt the data key for {key}: {msg}")]
    Encrypt { key: String, msg: String },
    /// No key of the file could be used; one line per key tried.
    #[error("failed to get the data key required to decrypt the file. Tried:\n{}\nProvide a matching identity (for age: SOPS_AGE_KEY_FILE, SOPS_AGE_KEY, SOPS_AGE_KEY_CMD or ~/.config/sops/age/keys.txt)", .tried.iter().map(|(k, e)| format!("  - {k}: {e}")).collect::<Vec<_>>().join("\n"))]
    NoKeyWorked { tried: Vec<(String, String)> },
    /// An identity source the user configured could not be read.
    #[error("{0}")]
    Identity(String),
    #[error("{0}")]
    Unsupported(String),
}

impl KeyError {
    pub fn exit_code(&self) -> i32 {
        match self {
            KeyError::Encrypt { .. } => codes::ERROR_ENCRYPTING_TREE,
            KeyError::NoKeyWorked { .. } | KeyError::Identity(_) => codes::COULD_NOT_RETRIEVE_KEY,
            KeyError::Unsupported(_) => codes::ERROR_GENERIC,
        }
    }
}

/// Wraps `secret` (the data key, or a Shamir share) for `key`, storing the result in it.
pub fn wrap(key: &mut MasterKey, secret: &[u8]) -> Result<(), KeyError> {
    match key {
        MasterKey::Age { recipient, enc } => {
            *enc = age::encrypt(recipient, secret)?;
            Ok(())
        }
        MasterKey::Pgp {
            fp,
            created_at,
            enc,
        } => {
            *enc = pgp::encrypt(fp, secret)?;
            *created_at = crate::timefmt::now_rfc3339();
            Ok(())
        }
        other => Err(KeyError::Unsupported(format!(
            "encrypting for {} is not supported yet",
            other.describe()
        ))),
    }
}

/// Wraps the data key for every key of every group.
pub fn wrap_all(groups: &mut [KeyGroup], data_key: &DataKey) -> Result<(), KeyError> {
    if groups.len() > 1 {
        return Err(KeyError::Unsupported(
            "several key groups (Shamir secret sharing) are not supported yet".into(),
        ));
    }
    for g in groups.iter_mut() {
        for k in g.iter_mut() {
            wrap(k, data_key.as_bytes())?;
        }
    }
    Ok(())
}

/// Recovers the data key from the file's key groups.
pub fn unwrap_data_key(meta: &Metadata) -> Result<DataKey, KeyError> {
    let mut tried = Vec::new();
    let mut ids: Option<Result<age::Identities, KeyError>> = None;
    for group in &meta.key_groups {
        for key in group {
            let res: Result<Zeroizing<Vec<u8>>, String> = match key {
                MasterKey::Age { enc, .. } => match ids.get_or_insert_with(age::Identities::load) {
                    Ok(ids) => ids.decrypt(enc).map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                },
                MasterKey::Pgp { fp, enc, .. } => pgp::decrypt(fp, enc).map_err(|e| e.to_string()),
                other => Err(format!("{} keys are not supported yet", other.kind())),
            };
            match res {
                Ok(secret) => {
                    if meta.key_groups.len() > 1 {
                        return Err(KeyError::Unsupported(
                            "files with several key groups (Shamir) are not supported yet".into(),
                        ));
                    }
                    return DataKey::from_slice(&secret).ok_or_else(|| {
                        KeyError::Identity(format!(
                            "{} decrypted a data key of {} bytes, expected 32",
                            key.describe(),
                            secret.len()
                        ))
                    });
                }
                Err(e) => tried.push((key.describe(), e)),
            }
        }
    }
    Err(KeyError::NoKeyWorked { tried })
}
