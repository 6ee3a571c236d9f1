//! Master keys: wrapping the data key (or its Shamir shares) for every
//! recipient, and unwrapping it with whatever the user has.
//!
//! Local keys (age, PGP) are tried one by one in the decryption order.
//! Remote keys (the sources of [`registry`]) run on one async runtime with
//! every request in flight at once, so a file with five cloud recipients
//! costs one round trip, not five. The runtime is only started for files
//! that have remote keys.

pub mod age;
pub mod env;
// The remote sources' descriptors are always built (so their entries are
// read, kept and compared); each one's client is behind its cargo feature.
pub mod azkv;
pub mod gcpkms;
pub mod hckms;
pub mod hcvault;
#[cfg(feature = "remote")]
mod http;
pub mod kms;
pub mod pgp;
pub mod registry;
pub mod shamir;

use futures::future::{FutureExt, join_all};
use futures::stream::{FuturesUnordered, StreamExt};
use serde_json::{Map, Value};
use thiserror::Error;
use zeroize::Zeroizing;

use crate::cipher::DataKey;
use crate::error::codes;
use crate::keyring::KeyRing;
use crate::metadata::{KeyGroup, MasterKey, Metadata};
use env::Env;

#[derive(Debug, Error)]
pub enum KeyError {
    /// Wrapping the data key for a recipient failed.
    #[error("could not encrypt the data key for {key}: {msg}")]
    Encrypt { key: String, msg: String },
    /// No key of the file could be used; one line per key tried.
    #[error("failed to get the data key required to decrypt the file{}. Tried:\n{}\nProvide a key that matches one of them: for age, SOPS_AGE_KEY_FILE, SOPS_AGE_KEY, SOPS_AGE_KEY_CMD or ~/.config/sops/age/keys.txt; for pgp, the secret key in your GnuPG keyring (GNUPGHOME); for cloud KMS, credentials with decrypt permission", .needed.map(|(n, m)| format!(" (needs {n} of {m} key groups)")).unwrap_or_default(), .tried.iter().map(|(k, e)| format!("  - {k}: {e}")).collect::<Vec<_>>().join("\n"))]
    NoKeyWorked {
        tried: Vec<(String, String)>,
        /// For Shamir files: (threshold, groups).
        needed: Option<(usize, usize)>,
    },
    /// An identity source the user configured could not be read.
    #[error("{0}")]
    Identity(String),
    #[error("{0}")]
    Unsupported(String),
}

impl KeyError {
    pub fn exit_code(&self) -> i32 {
        match self {
            // sops 3.11 exits 1 when a recipient cannot be encrypted to.
            KeyError::Encrypt { .. } => codes::ERROR_GENERIC,
            KeyError::NoKeyWorked { .. } | KeyError::Identity(_) => codes::COULD_NOT_RETRIEVE_KEY,
            KeyError::Unsupported(_) => codes::ERROR_GENERIC,
        }
    }
}

/// sops's default decryption order: local keys first.
pub const DEFAULT_ORDER: [&str; 2] = ["age", "pgp"];

fn is_remote(k: &MasterKey) -> bool {
    matches!(k, MasterKey::Remote(_))
}

fn now_into(fields: &mut Map<String, Value>) {
    fields.insert(
        "created_at".into(),
        Value::from(crate::timefmt::now_rfc3339()),
    );
}

/// Why a PGP key cannot be used with this ring.
const NO_GPG: &str = "PGP keys are not in use (the key ring was built without gpg)";
/// Why a cloud key cannot be used with this ring.
const NO_REMOTE: &str = "cloud key services are not in use (the key ring was built without them)";

/// Wraps `secret` for a local key.
fn wrap_local(key: &mut MasterKey, secret: &[u8], ring: &KeyRing) -> Result<(), KeyError> {
    match key {
        MasterKey::Age { recipient, enc } => {
            *enc = age::encrypt(recipient, secret)?;
        }
        MasterKey::Pgp { .. } if !ring.gpg() => {
            return Err(KeyError::Encrypt {
                key: key.describe(),
                msg: NO_GPG.into(),
            });
        }
        MasterKey::Pgp {
            fp,
            created_at,
            enc,
        } => {
            *enc = pgp::encrypt_with(ring.env(), fp, secret)?;
            *created_at = crate::timefmt::now_rfc3339();
        }
        MasterKey::Remote(_) => unreachable!("remote keys are wrapped asynchronously"),
    }
    Ok(())
}

/// Remote key requests in flight at once over the whole process: a batch
/// run (`crate::batch`) has several files, each with all its requests in
/// flight, and this caps their sum.
pub const REMOTE_CAP: usize = 32;

#[cfg(feature = "remote")]
static REMOTE_PERMITS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(REMOTE_CAP);

/// Wraps `secret` for a remote key.
async fn wrap_remote(key: &mut MasterKey, secret: &[u8], env: &dyn Env) -> Result<(), KeyError> {
    #[cfg(feature = "remote")]
    let _permit = REMOTE_PERMITS.acquire().await;
    let MasterKey::Remote(k) = key else {
        unreachable!("local keys are wrapped synchronously")
    };
    k.source.wrap(env, &mut k.fields, secret).await?;
    now_into(&mut k.fields);
    Ok(())
}

async fn unwrap_remote(key: &MasterKey, env: &dyn Env) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    #[cfg(feature = "remote")]
    let _permit = REMOTE_PERMITS.acquire().await;
    let MasterKey::Remote(k) = key else {
        unreachable!("local keys are unwrapped synchronously")
    };
    k.source.unwrap(env, &k.fields).await
}

/// Runs the remote key requests: on a tokio runtime when a remote key source
/// is built in; without one every request fails at once, so a plain
/// executor does.
fn block_on<F: std::future::Future>(f: F) -> Result<F::Output, KeyError> {
    #[cfg(feature = "remote")]
    {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| KeyError::Identity(format!("could not start the async runtime: {e}")))?;
        Ok(rt.block_on(f))
    }
    #[cfg(not(feature = "remote"))]
    Ok(futures::executor::block_on(f))
}

/// Wraps the data key for every key: the whole key with one group, a Shamir
/// share per group otherwise (`threshold` 0 means all groups). PGP and cloud
/// keys need a `ring` that allows them; their settings and credentials come
/// from its variables.
pub fn wrap_all(
    groups: &mut [KeyGroup],
    data_key: &DataKey,
    threshold: usize,
    ring: &KeyRing,
) -> Result<(), KeyError> {
    let parts: Vec<Zeroizing<Vec<u8>>> = if groups.len() > 1 {
        let t = if threshold == 0 {
            groups.len()
        } else {
            threshold
        };
        shamir::split(data_key.as_bytes(), groups.len(), t)
            .map_err(|e| KeyError::Unsupported(e.to_string()))?
    } else {
        vec![Zeroizing::new(data_key.as_bytes().to_vec())]
    };
    let mut remote = Vec::new();
    for (g, part) in groups.iter_mut().zip(&parts) {
        for k in g.iter_mut() {
            if is_remote(k) {
                if !ring.remote() {
                    return Err(KeyError::Encrypt {
                        key: k.describe(),
                        msg: NO_REMOTE.into(),
                    });
                }
                remote.push((k, part));
            } else {
                wrap_local(k, part, ring)?;
            }
        }
    }
    if remote.is_empty() {
        return Ok(());
    }
    let env = ring.env();
    let results = block_on(join_all(remote.into_iter().map(|(k, part)| async move {
        let name = k.describe();
        wrap_remote(k, part, env).await.map_err(|e| (name, e))
    })))?;
    match results.into_iter().find_map(Result::err) {
        Some((_, e @ KeyError::Encrypt { .. })) => Err(e),
        Some((name, e)) => Err(KeyError::Encrypt {
            key: name,
            msg: e.to_string(),
        }),
        None => Ok(()),
    }
}

/// Asks every key at once; the first to unwrap wins, and the others are
/// dropped (cancelled). Without a winner, every key's error.
async fn first_success(
    keys: Vec<&MasterKey>,
    env: &dyn Env,
) -> Result<Zeroizing<Vec<u8>>, Vec<(String, String)>> {
    let mut pending: FuturesUnordered<_> = keys
        .into_iter()
        .map(|k| async move {
            unwrap_remote(k, env)
                .await
                .map_err(|e| (k.describe(), e.to_string()))
        })
        .collect();
    let mut errs = Vec::new();
    while let Some(r) = pending.next().await {
        match r {
            Ok(secret) => return Ok(secret),
            Err(e) => errs.push(e),
        }
    }
    Err(errs)
}

/// Position of a key kind in the decryption order (unlisted kinds last).
fn rank(order: &[String], kind: &str) -> usize {
    order.iter().position(|o| o == kind).unwrap_or(order.len())
}

/// Recovers the data key. `order` lists key kinds to try first (sops's
/// `--decryption-order`; empty means age, then pgp).
pub(crate) fn unwrap_data_key(
    meta: &Metadata,
    order: &[String],
    ring: &KeyRing,
) -> Result<DataKey, KeyError> {
    let default: Vec<String> = DEFAULT_ORDER.iter().map(|s| s.to_string()).collect();
    let order = if order.is_empty() {
        &default[..]
    } else {
        order
    };
    let mut tried = Vec::new();
    let mut ids: Option<age::Identities> = None;
    let mut parts: Vec<Option<Zeroizing<Vec<u8>>>> = vec![None; meta.key_groups.len()];
    // Local keys, in order, group by group.
    for (g, group) in meta.key_groups.iter().enumerate() {
        let mut local: Vec<&MasterKey> = group.iter().filter(|k| !is_remote(k)).collect();
        local.sort_by_key(|k| rank(order, k.kind()));
        for key in local {
            let res = match key {
                MasterKey::Age { recipient, enc } => {
                    let ids = match &ids {
                        Some(i) => i,
                        None => ids.insert(ring.age_identities()?),
                    };
                    ids.decrypt_for(recipient, enc)
                }
                MasterKey::Pgp { .. } if !ring.gpg() => Err(KeyError::Identity(NO_GPG.into())),
                MasterKey::Pgp { fp, enc, .. } => pgp::decrypt_with(ring.env(), fp, enc),
                MasterKey::Remote(_) => unreachable!(),
            };
            match res {
                Ok(secret) => {
                    parts[g] = Some(secret);
                    break;
                }
                Err(e) => tried.push((key.describe(), e.to_string())),
            }
        }
    }
    // Remote keys of the groups still missing, all at once.
    let missing: Vec<usize> = (0..parts.len()).filter(|g| parts[*g].is_none()).collect();
    let has_remote = missing
        .iter()
        .any(|g| meta.key_groups[*g].iter().any(is_remote));
    if has_remote && !ring.remote() {
        for g in &missing {
            for k in meta.key_groups[*g].iter().filter(|k| is_remote(k)) {
                tried.push((k.describe(), NO_REMOTE.into()));
            }
        }
    } else if has_remote && !enough(&parts, meta) {
        let results = block_on(join_all(missing.iter().map(|&g| {
            let keys: Vec<&MasterKey> =
                meta.key_groups[g].iter().filter(|k| is_remote(k)).collect();
            first_success(keys, ring.env()).map(move |r| (g, r))
        })))?;
        for (g, res) in results {
            match res {
                Ok(secret) => parts[g] = Some(secret),
                Err(errs) => tried.extend(errs),
            }
        }
    }
    assemble(parts, meta, tried)
}

fn enough(parts: &[Option<Zeroizing<Vec<u8>>>], meta: &Metadata) -> bool {
    let have = parts.iter().filter(|p| p.is_some()).count();
    if meta.key_groups.len() > 1 {
        have >= threshold(meta)
    } else {
        have == 1
    }
}

fn threshold(meta: &Metadata) -> usize {
    if meta.shamir_threshold == 0 {
        meta.key_groups.len()
    } else {
        meta.shamir_threshold
    }
}

fn assemble(
    parts: Vec<Option<Zeroizing<Vec<u8>>>>,
    meta: &Metadata,
    tried: Vec<(String, String)>,
) -> Result<DataKey, KeyError> {
    let groups = meta.key_groups.len();
    if !enough(&parts, meta) {
        return Err(KeyError::NoKeyWorked {
            tried,
            needed: (groups > 1).then(|| (threshold(meta), groups)),
        });
    }
    let key = if groups > 1 {
        let shares: Vec<&[u8]> = parts
            .iter()
            .flatten()
            .map(|p| &p[..])
            .take(threshold(meta))
            .collect();
        shamir::combine(&shares)
            .map_err(|e| KeyError::Identity(format!("could not combine the key shares: {e}")))?
    } else {
        parts.into_iter().flatten().next().expect("enough parts")
    };
    DataKey::from_slice(&key).ok_or_else(|| {
        KeyError::Identity(format!(
            "the recovered data key has {} bytes, expected 32",
            key.len()
        ))
    })
}
