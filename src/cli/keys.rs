//! Key flags to master keys.

use serde_json::{Map, Value};

use super::{Failure, KeyArgs, OrderArgs, Out};
use sopx_core::keys::registry::{KeyOptions, SOURCES};
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
            Failure::encryption_context(format!("invalid --encryption-context item {pair:?}: expected key:value pairs separated by commas"),
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
            .map_err(|e| Failure::generic(format!("--pgp: {e}")))?;
        out.push(MasterKey::Pgp {
            fp: fp.replace(' ', ""),
            created_at: String::new(),
            enc: String::new(),
        });
    }
    let opts = KeyOptions {
        aws_profile: k.aws_profile.clone().unwrap_or_default(),
        context: match &k.encryption_context {
            Some(c) => Some(encryption_context(c)?),
            None => None,
        },
    };
    let ids: Vec<_> = k
        .remote
        .0
        .iter()
        .map(|(source, list)| (*source, split_list(&Some(list.clone()))))
        .collect();
    let remote = sopx_core::config::keys_from_flags(&ids, &opts)
        .map_err(|e| Failure::generic(e.to_string()))?;
    out.extend(remote);
    Ok(out)
}

/// The decryption order from `--decryption-order` / `SOPS_DECRYPTION_ORDER`.
pub fn order(o: &OrderArgs) -> Out<Vec<String>> {
    let kinds = split_list(&o.decryption_order);
    let known: Vec<&str> = ["age", "pgp"]
        .into_iter()
        .chain(SOURCES.iter().map(|s| s.kind()))
        .collect();
    for k in &kinds {
        if !known.contains(&k.as_str()) {
            let (last, rest) = known.split_last().expect("age and pgp at least");
            return Err(Failure::generic(format!(
                "unknown key kind {k:?} in --decryption-order: use {} or {last}",
                rest.join(", ")
            )));
        }
    }
    Ok(kinds)
}
