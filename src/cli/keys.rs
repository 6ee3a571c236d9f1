//! Key flags to master keys.

use serde_json::{Map, Value};

use super::{Failure, KeyArgs, OrderArgs, Out};
use sopx_core::error::codes;
use sopx_core::metadata::MasterKey;

/// A comma-separated flag value, trimmed, without empty items.
pub fn split_list(s: &Option<String>) -> Vec<String> {
    s.as_deref()
        .unwrap_or("")
        .split(',')
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

/// `key:value,key2:value2`, as sops's `--encryption-context`.
fn encryption_context(s: &str) -> Out<Map<String, Value>> {
    let mut out = Map::new();
    for pair in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once(':').ok_or_else(|| {
            Failure::new(
                codes::ERROR_INVALID_KMS_ENCRYPTION_CONTEXT_FORMAT,
                format!("invalid --encryption-context item {pair:?}: expected key:value pairs separated by commas"),
            )
        })?;
        out.insert(k.to_string(), Value::from(v));
    }
    Ok(out)
}

/// Every master key the flags name, in sops's kind order.
pub fn from_args(k: &KeyArgs) -> Out<Vec<MasterKey>> {
    let mut out: Vec<MasterKey> = split_list(&k.age)
        .into_iter()
        .map(|r| MasterKey::Age {
            recipient: r,
            enc: String::new(),
        })
        .collect();
    for fp in split_list(&k.pgp) {
        sopx_core::keys::pgp::check_fingerprint(&fp)
            .map_err(|e| Failure::new(codes::ERROR_GENERIC, format!("--pgp: {e}")))?;
        out.push(MasterKey::Pgp {
            fp: fp.replace(' ', ""),
            created_at: String::new(),
            enc: String::new(),
        });
    }
    let context = match &k.encryption_context {
        Some(c) => Some(encryption_context(c)?),
        None => None,
    };
    let remote = sopx_core::config::keys_from_flags(
        &split_list(&k.kms),
        k.aws_profile.as_deref().unwrap_or(""),
        context,
        &split_list(&k.gcp_kms),
        &split_list(&k.azure_kv),
        &split_list(&k.hc_vault_transit),
    )
    .map_err(|e| Failure::new(codes::ERROR_GENERIC, e))?;
    out.extend(remote);
    Ok(out)
}

/// The decryption order from `--decryption-order` / `SOPS_DECRYPTION_ORDER`.
pub fn order(o: &OrderArgs) -> Out<Vec<String>> {
    let kinds = split_list(&o.decryption_order);
    for k in &kinds {
        if !["age", "pgp", "kms", "gcp_kms", "azure_kv", "hc_vault"].contains(&k.as_str()) {
            return Err(Failure::new(
                codes::ERROR_GENERIC,
                format!(
                    "unknown key kind {k:?} in --decryption-order: use age, pgp, kms, gcp_kms, azure_kv or hc_vault"
                ),
            ));
        }
    }
    Ok(kinds)
}
