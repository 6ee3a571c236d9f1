//! Azure Key Vault master keys (`azure_kv` entries).
//!
//! The data key is encrypted with the vault's RSA key by Key Vault's
//! documented REST API, with the operations sops 3.11 uses
//! (`azkv/keysource.go`: the SDK's `Encrypt`/`Decrypt`, algorithm
//! `RSA-OAEP-256`):
//!
//! - `POST {vault_url}/keys/{name}/{version}/encrypt?api-version=7.4` with
//!   `{"alg": "RSA-OAEP-256", "value": base64url(data key)}`, answered with
//!   `{"kid": …, "value": base64url(ciphertext)}`;
//! - `…/decrypt` the other way round.
//!
//! The entry's `enc` is the unpadded base64url of the ciphertext bytes
//! (Go's `base64.RawURLEncoding`), as sops stores it. An empty `version`
//! means the key's latest version (the path then has an empty segment, as
//! the Azure SDKs send it); like sops 3.11, which looks the version up before
//! encrypting, the version actually used (from the answer's `kid`) is
//! written into the entry.
//!
//! Credentials follow the Azure SDKs' default chain as far as it goes
//! without them; the first source that is configured is used:
//!
//! | source | variables |
//! | --- | --- |
//! | client secret | `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET` |
//! | workload identity | `AZURE_FEDERATED_TOKEN_FILE`, `AZURE_CLIENT_ID`, `AZURE_TENANT_ID` |
//! | managed identity | `IDENTITY_ENDPOINT` + `IDENTITY_HEADER` (App Service, Container Apps), else the VM metadata endpoint (IMDS; `AZURE_CLIENT_ID` selects a user-assigned identity) |
//! | Azure CLI | `az account get-access-token` (after `az login`) |
//!
//! `AZURE_AUTHORITY_HOST` replaces `https://login.microsoftonline.com` for
//! the first two, and `AZURE_POD_IDENTITY_AUTHORITY_HOST` the IMDS address
//! `http://169.254.169.254`, as in the Azure SDKs. Certificate and
//! username/password credentials are not supported.
//!
//! # Which vaults get a token
//!
//! The `vault_url` of an entry comes from the file's `sops` block, which no
//! MAC protects: anyone who can change the file can change it. So before a
//! token is asked for or anything is sent:
//!
//! 1. the URL must be `https://<vault>.<domain>` with no port, user, path,
//!    query or fragment, where `<domain>` is one of the Key Vault or Managed
//!    HSM domains of the Azure clouds (`client::KNOWN_DOMAINS`); the token's scope
//!    is then `https://<domain>/.default`;
//! 2. or the vault is one the user allowed in `SOPX_AZURE_KV_ALLOWED_HOSTS`
//!    (comma-separated: a host name, which also allows its subdomains, over
//!    HTTPS; or an origin, `https://host:port`, or `http://<loopback>:<port>`
//!    for a local test server); such a vault gets a token for the scope its
//!    challenge names, which must be a known domain's scope
//!    (`https://vault.azure.net/.default` when it names none);
//! 3. the key name and version must be plain Key Vault names
//!    (`[0-9A-Za-z-]`), so that they cannot change the request's path.
//!
//! Then, as the Azure SDKs' challenge policy does, the request is first sent
//! without a token or body; the vault's `401` answer names the resource a
//! token must be for (`WWW-Authenticate: Bearer … resource="…"` or
//! `scope="…"`), and that scope must be the one derived above (known domain)
//! or a known domain's scope (allowed host). Only then is a token fetched and
//! the real request sent. Redirects are never followed (`http::client`).

use serde_json::{Map, Value};

use super::registry::{self, ConfigNames, Fields, Flags, KeyIdError, KeyOptions, KeySource};

registry::client_behind_feature!("azure", "azure_kv");

/// Azure Key Vault in the registry (`keys::registry`).
pub struct Source;

static FLAGS: Flags = Flags {
    long: "azure-kv",
    short: None,
    env: "SOPS_AZURE_KEYVAULT_URLS",
    value_name: "URLS",
    help: "Comma-separated Azure Key Vault key URLs",
    noun: "Azure Key Vault key URLs",
    one: "URL",
    group_help: "Azure Key Vault key URLs (repeatable)",
};

static CONFIG: ConfigNames = ConfigNames {
    rule: "azure_keyvault",
    group: "azure_keyvault",
    group_entries: true,
};

impl KeySource for Source {
    fn kind(&self) -> &'static str {
        "azure_kv"
    }
    fn identity(&self) -> &'static [&'static str] {
        &["vault_url", "name", "version"]
    }
    fn id(&self, fields: &Fields) -> String {
        let f = |k: &str| registry::str_field(fields, k);
        if f("version").is_empty() {
            format!("{}/keys/{}", f("vault_url"), f("name"))
        } else {
            format!("{}/keys/{}/{}", f("vault_url"), f("name"), f("version"))
        }
    }
    fn flags(&self) -> &'static Flags {
        &FLAGS
    }
    fn config(&self) -> &'static ConfigNames {
        &CONFIG
    }
    fn parse_id(&self, url: &str, _: &KeyOptions) -> Result<Fields, KeyIdError> {
        let (vault, name, version) = parse_key_url(url).ok_or_else(|| {
            KeyIdError::new(
                url,
                "an Azure Key Vault key URL",
                "https://<vault>.vault.azure.net/keys/<name>[/<version>]",
            )
        })?;
        Ok(new_entry(&vault, &name, &version))
    }
    fn parse_entry(&self, e: &crate::config::Entry) -> crate::Result<Fields> {
        let vault = e.required("vaultUrl")?;
        let name = e.required("key")?;
        let version = e.string("version")?.unwrap_or_default();
        Ok(new_entry(vault.trim(), name.trim(), version.trim()))
    }
    registry::wrap_with_client!();
}

fn new_entry(vault_url: &str, name: &str, version: &str) -> Fields {
    let mut f = Map::new();
    f.insert("vault_url".into(), Value::from(vault_url));
    f.insert("name".into(), Value::from(name));
    f.insert("version".into(), Value::from(version));
    registry::unwrapped(f)
}

/// `https://<vault>/keys/<name>[/<version>]` → (vault URL, name, version).
/// Plain `http://` is accepted for loopback hosts only (`127.0.0.1`,
/// `localhost`, `[::1]`, any port), for local test servers.
fn parse_key_url(url: &str) -> Option<(String, String, String)> {
    let url = url.trim();
    let (scheme, rest) = match url.strip_prefix("https://") {
        Some(rest) => ("https", rest),
        None => ("http", url.strip_prefix("http://")?),
    };
    let (host, path) = rest.split_once('/')?;
    let parts: Vec<&str> = path.split('/').collect();
    if host.is_empty() || parts.first() != Some(&"keys") {
        return None;
    }
    if scheme == "http" {
        let name = match host.rsplit_once(':') {
            Some((h, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => h,
            _ => host,
        };
        if !matches!(name, "127.0.0.1" | "localhost" | "[::1]") {
            return None;
        }
    }
    let (name, version) = match parts[1..] {
        [name] => (name, ""),
        [name, version] => (name, version),
        _ => return None,
    };
    if name.is_empty() {
        return None;
    }
    Some((
        format!("{scheme}://{host}"),
        name.to_string(),
        version.to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_urls() {
        assert_eq!(
            parse_key_url(" https://v.vault.azure.net/keys/n/abc "),
            Some(("https://v.vault.azure.net".into(), "n".into(), "abc".into()))
        );
        assert_eq!(parse_key_url("http://v/keys/n"), None);
        assert_eq!(parse_key_url("https://v/keys/"), None);
    }
}
