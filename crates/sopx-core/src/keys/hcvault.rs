//! HashiCorp Vault transit master keys (`hc_vault` entries).
//!
//! The data key is sent to the transit engine as sops 3.11 does
//! (`hcvault/keysource.go`), using Vault's documented HTTP API:
//!
//! - encrypt: `POST {vault_address}/v1/{engine_path}/encrypt/{key_name}` with
//!   `{"plaintext": base64(data key)}`; the answer's `data.ciphertext`
//!   (`vault:v1:…`) is stored verbatim as the entry's `enc`;
//! - decrypt: `POST {vault_address}/v1/{engine_path}/decrypt/{key_name}` with
//!   `{"ciphertext": enc}`; the answer's `data.plaintext` is base64.
//!
//! (sops's Go client sends `PUT`, which Vault treats exactly like `POST`.)
//!
//! | variable | meaning |
//! | --- | --- |
//! | `VAULT_TOKEN` | the token, sent as `X-Vault-Token` |
//! | `~/.vault-token` | read (trimmed) when `VAULT_TOKEN` is unset or empty, as sops does; `vault login` writes it |
//! | `VAULT_NAMESPACE` | sent as `X-Vault-Namespace` (Vault Enterprise / HCP namespaces) |
//! | `VAULT_CACERT` | a PEM file of CA certificates to trust in addition to the system's |
//! | `VAULT_SKIP_VERIFY` | `1`/`true`: do not verify the server's TLS certificate |
//!
//! The address comes from the key itself (`vault_address`), like sops. Without
//! a token the request is still sent (a Vault agent or proxy may add one); if
//! Vault then refuses it, the error says that no token was found.
//!
//! # Which addresses get the token
//!
//! The `vault_address` of a file is not covered by the MAC: anyone who can
//! change the file can point it at their own server, which would then get
//! the user's token (and, when encrypting, the data key). sops 3.13 added
//! `SOPS_HC_VAULT_ALLOWLIST` for this (GHSA-jgf3-f6rg-8x3h); sopx reads it
//! the same way:
//!
//! | `SOPS_HC_VAULT_ALLOWLIST` | addresses sopx talks to |
//! | --- | --- |
//! | `all` | any (sops's default; a hostile file gets your token) |
//! | `none` | none |
//! | `a,b,…` | those starting with one of the entries (each entry, and the address, with a `/` added at the end when it has none, so `http://v:8200` does not allow `http://v:82000`) |
//! | unset or empty | **sopx differs from sops here**: only `VAULT_ADDR` (as a one-entry list), and none when that is unset too |
//!
//! The check is made before the token is read and before anything is sent,
//! for encryption and decryption alike. Redirects (Vault standbys answer 307)
//! are only followed to addresses the same list allows. The address must be
//! an `http`/`https` URL without user, query or fragment, and the engine path
//! and key name plain path segments (no `.`, `..`, `?`, `#`, `%`), so that
//! they cannot turn the call into another API call.

use serde_json::{Map, Value};

use super::registry::{self, ConfigNames, Fields, Flags, KeyIdError, KeyOptions, KeySource};

registry::client_behind_feature!("vault", "hc_vault");

/// Vault transit in the registry (`keys::registry`).
pub struct Source;

static FLAGS: Flags = Flags {
    long: "hc-vault-transit",
    short: None,
    env: "SOPS_VAULT_URIS",
    value_name: "URIS",
    help: "Comma-separated Vault transit key URIs (https://vault:8200/v1/transit/keys/NAME)",
    noun: "Vault transit key URIs",
    one: "URI",
    group_help: "Vault transit key URIs (repeatable)",
};

static CONFIG: ConfigNames = ConfigNames {
    rule: "hc_vault_transit_uri",
    group: "hc_vault",
    group_entries: false,
};

impl KeySource for Source {
    fn kind(&self) -> &'static str {
        "hc_vault"
    }
    fn identity(&self) -> &'static [&'static str] {
        &["vault_address", "engine_path", "key_name"]
    }
    fn id(&self, fields: &Fields) -> String {
        let f = |k: &str| registry::str_field(fields, k);
        format!(
            "{}/v1/{}/keys/{}",
            f("vault_address"),
            f("engine_path"),
            f("key_name")
        )
    }
    fn flags(&self) -> &'static Flags {
        &FLAGS
    }
    fn config(&self) -> &'static ConfigNames {
        &CONFIG
    }
    fn parse_id(&self, uri: &str, _: &KeyOptions) -> Result<Fields, KeyIdError> {
        let (address, engine, name) = parse_uri(uri).ok_or_else(|| {
            KeyIdError::new(
                uri,
                "a Vault transit key URI",
                "e.g. https://vault.example.com:8200/v1/transit/keys/keyName",
            )
        })?;
        let mut f = Map::new();
        f.insert("vault_address".into(), Value::String(address));
        f.insert("engine_path".into(), Value::String(engine));
        f.insert("key_name".into(), Value::String(name));
        Ok(registry::unwrapped(f))
    }
    registry::wrap_with_client!();
}

/// `scheme://host[:port]/v1/<engine path>/keys/<name>` → (address, engine
/// path, key name), as sops's `hcvault.NewMasterKeyFromURI` splits it.
fn parse_uri(uri: &str) -> Option<(String, String, String)> {
    let uri = uri.trim();
    let (scheme, rest) = uri.split_once("://")?;
    if scheme.is_empty() {
        return None;
    }
    let (host, path) = rest.split_once('/')?;
    let path = path.split(['?', '#']).next().unwrap_or("");
    let dirs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let is_version =
        |s: &str| s.len() > 1 && s.starts_with('v') && s[1..].bytes().all(|b| b.is_ascii_digit());
    if host.is_empty()
        || dirs.len() < 4
        || !is_version(dirs[0])
        || dirs.iter().any(|d| d.is_empty())
    {
        return None;
    }
    let name = dirs[dirs.len() - 1];
    let engine = dirs[1..dirs.len() - 2].join("/");
    Some((format!("{scheme}://{host}"), engine, name.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_uris() {
        assert_eq!(
            parse_uri("https://vault.example.com:8200/v1/transit/keys/keyName"),
            Some((
                "https://vault.example.com:8200".into(),
                "transit".into(),
                "keyName".into()
            ))
        );
        assert_eq!(parse_uri("https://vault.example.com/transit/keys/k"), None);
        assert_eq!(parse_uri("https://vault.example.com/v1/keys/k"), None);
    }
}
