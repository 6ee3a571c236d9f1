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
//! username/password credentials are not supported. Tokens are requested
//! for `https://<vault host without its first label>/.default`, e.g.
//! `https://vault.azure.net/.default`.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

use super::KeyError;
use super::http::{chain, client};

pub const AZURE_TENANT_ID: &str = "AZURE_TENANT_ID";
pub const AZURE_CLIENT_ID: &str = "AZURE_CLIENT_ID";
pub const AZURE_CLIENT_SECRET: &str = "AZURE_CLIENT_SECRET";
pub const AZURE_FEDERATED_TOKEN_FILE: &str = "AZURE_FEDERATED_TOKEN_FILE";
pub const AZURE_AUTHORITY_HOST: &str = "AZURE_AUTHORITY_HOST";
pub const AZURE_POD_IDENTITY_AUTHORITY_HOST: &str = "AZURE_POD_IDENTITY_AUTHORITY_HOST";
pub const IDENTITY_ENDPOINT: &str = "IDENTITY_ENDPOINT";
pub const IDENTITY_HEADER: &str = "IDENTITY_HEADER";

const API_VERSION: &str = "7.4";
const ALG: &str = "RSA-OAEP-256";
const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";
const DEFAULT_IMDS: &str = "http://169.254.169.254";
const DEFAULT_SCOPE: &str = "https://vault.azure.net/.default";

/// A Key Vault key, as an `azure_kv` entry names it.
struct VaultKey<'a> {
    vault_url: &'a str,
    name: &'a str,
    version: &'a str,
}

impl<'a> VaultKey<'a> {
    fn from_fields(fields: &'a Map<String, Value>) -> Result<Self, String> {
        let get = |k: &str| fields.get(k).and_then(Value::as_str).unwrap_or("").trim();
        let key = VaultKey {
            vault_url: get("vault_url").trim_end_matches('/'),
            name: get("name"),
            version: get("version"),
        };
        if key.vault_url.is_empty() || key.name.is_empty() {
            return Err("the azure_kv entry needs `vault_url` and `name`".into());
        }
        Ok(key)
    }

    /// sops's string form of the key.
    fn id(&self) -> String {
        format!("{}/keys/{}/{}", self.vault_url, self.name, self.version)
    }

    /// How decryption errors name the key (the vault URL is already in
    /// the report's `azure_kv key <vault_url>` prefix).
    fn short(&self) -> String {
        if self.version.is_empty() {
            format!("key {:?} (latest version)", self.name)
        } else {
            format!("key {:?} version {:?}", self.name, self.version)
        }
    }

    /// One `encrypt` / `decrypt` operation; the answer's JSON object.
    async fn call(&self, op: &str, value: &[u8]) -> Result<Map<String, Value>, String> {
        let token = access_token(&scope_for(self.vault_url)).await?;
        let url = format!(
            "{}/keys/{}/{}/{op}?api-version={API_VERSION}",
            self.vault_url, self.name, self.version
        );
        let resp = client()?
            .post(&url)
            .bearer_auth(token.as_str())
            .json(&json!({ "alg": ALG, "value": URL_SAFE_NO_PAD.encode(value) }))
            .send()
            .await
            .map_err(|e| format!("could not reach {}: {}", self.vault_url, chain(&e)))?;
        let status = resp.status();
        let text = resp
            .text()
            .await
            .map_err(|e| format!("reading Key Vault's answer failed: {}", chain(&e)))?;
        if !status.is_success() {
            return Err(format!("Key Vault answered {status}{}", azure_error(&text)));
        }
        match serde_json::from_str(&text) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err("Key Vault's answer is not a JSON object".into()),
        }
    }
}

/// Decodes base64url with or without padding (sops writes it without).
fn decode_b64url(s: &str) -> Result<Vec<u8>, base64::DecodeError> {
    URL_SAFE_NO_PAD.decode(s.trim().trim_end_matches('='))
}

/// Wraps `secret`, storing the ciphertext in the entry's `enc` field.
pub async fn encrypt(fields: &mut Map<String, Value>, secret: &[u8]) -> Result<(), KeyError> {
    let (enc, version) = {
        let key = VaultKey::from_fields(fields).map_err(|msg| KeyError::Encrypt {
            key: "azure_kv key".into(),
            msg,
        })?;
        let fail = |msg: String| KeyError::Encrypt {
            key: format!("Azure Key Vault key {}", key.id()),
            msg,
        };
        let answer = key.call("encrypt", secret).await.map_err(fail)?;
        let value = answer
            .get("value")
            .and_then(Value::as_str)
            .ok_or_else(|| fail("Key Vault's answer has no value".into()))?;
        let bytes = decode_b64url(value)
            .map_err(|_| fail("the value in Key Vault's answer is not valid base64url".into()))?;
        let version = if key.version.is_empty() {
            answer
                .get("kid")
                .and_then(Value::as_str)
                .and_then(version_of_kid)
        } else {
            None
        };
        (URL_SAFE_NO_PAD.encode(bytes), version)
    };
    if let Some(v) = version {
        fields.insert("version".into(), Value::String(v));
    }
    fields.insert("enc".into(), Value::String(enc));
    Ok(())
}

/// Unwraps the entry's `enc` field.
pub async fn decrypt(fields: &Map<String, Value>) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let key = VaultKey::from_fields(fields).map_err(KeyError::Identity)?;
    let fail = |msg: String| KeyError::Identity(format!("{}: {msg}", key.short()));
    let enc = fields.get("enc").and_then(Value::as_str).unwrap_or("");
    let ciphertext = decode_b64url(enc).map_err(|e| {
        fail(format!(
            "failed to base64 decode Azure Key Vault encrypted key: {e}"
        ))
    })?;
    let answer = key.call("decrypt", &ciphertext).await.map_err(fail)?;
    let value = answer
        .get("value")
        .and_then(Value::as_str)
        .map(|s| Zeroizing::new(s.to_string()))
        .ok_or_else(|| fail("Key Vault's answer has no value".into()))?;
    decode_b64url(&value)
        .map(Zeroizing::new)
        .map_err(|_| fail("the value in Key Vault's answer is not valid base64url".into()))
}

/// The version in a key identifier `https://<vault>/keys/<name>/<version>`.
fn version_of_kid(kid: &str) -> Option<String> {
    let path = kid.split_once("://")?.1.split_once('/')?.1;
    match path.split('/').collect::<Vec<_>>()[..] {
        ["keys", _, v] if !v.is_empty() => Some(v.to_string()),
        _ => None,
    }
}

/// The token scope for a vault: `https://<host without its first label>/.default`
/// (`vault.azure.net`, `vault.azure.cn`, `managedhsm.azure.net`, …).
fn scope_for(vault_url: &str) -> String {
    let host = vault_url
        .split_once("://")
        .map(|(_, r)| r)
        .unwrap_or(vault_url)
        .split(['/', ':'])
        .next()
        .unwrap_or("");
    match host.split_once('.') {
        Some((_, rest))
            if rest.contains('.') && !rest.bytes().all(|b| b.is_ascii_digit() || b == b'.') =>
        {
            format!("https://{rest}/.default")
        }
        _ => DEFAULT_SCOPE.to_string(),
    }
}

/// `: message (code)` from a Key Vault error body
/// (`{"error": {"code", "message"}}`), an identity platform error
/// (`{"error": "invalid_client", "error_description": …}`), or the raw body.
fn azure_error(body: &str) -> String {
    let v: Option<Value> = serde_json::from_str(body).ok();
    match v.as_ref().and_then(|v| v.get("error")) {
        Some(Value::Object(e)) => {
            let code = e.get("code").and_then(Value::as_str).unwrap_or("");
            let msg = e.get("message").and_then(Value::as_str).unwrap_or("");
            let inner = e
                .get("innererror")
                .and_then(|i| i.get("code"))
                .and_then(Value::as_str)
                .map(|c| format!("/{c}"))
                .unwrap_or_default();
            match (code.is_empty(), msg.is_empty()) {
                (false, false) => format!(" ({code}{inner}): {msg}"),
                (false, true) => format!(" ({code}{inner})"),
                (true, false) => format!(": {msg}"),
                (true, true) => String::new(),
            }
        }
        Some(Value::String(code)) => {
            let desc = v
                .as_ref()
                .and_then(|v| v.get("error_description"))
                .and_then(Value::as_str)
                .map(|d| d.lines().next().unwrap_or(""))
                .unwrap_or("");
            format!(" ({code}): {desc}")
                .trim_end_matches([':', ' '])
                .to_string()
        }
        _ if body.trim().is_empty() => String::new(),
        _ => format!(": {}", body.trim().chars().take(300).collect::<String>()),
    }
}

// ---------------------------------------------------------------------------
// credentials

fn non_empty_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

#[derive(Clone)]
struct Token {
    secret: Zeroizing<String>,
    until: Instant,
}

/// Tokens (or the reason none could be had) per scope, for this process.
type Cache = HashMap<String, Result<Token, (String, Instant)>>;

/// An access token for `scope`, from the first configured credential.
async fn access_token(scope: &str) -> Result<Zeroizing<String>, String> {
    static CACHE: OnceLock<tokio::sync::Mutex<Cache>> = OnceLock::new();
    let mut cache = CACHE
        .get_or_init(|| tokio::sync::Mutex::new(HashMap::new()))
        .lock()
        .await;
    let now = Instant::now();
    match cache.get(scope) {
        Some(Ok(t)) if now < t.until => return Ok(t.secret.clone()),
        Some(Err((e, until))) if now < *until => return Err(e.clone()),
        _ => {}
    }
    let res = fetch_token(scope).await;
    let out = res.as_ref().map(|t| t.secret.clone()).map_err(Clone::clone);
    // Failures are remembered briefly, so five keys do not probe five times.
    cache.insert(
        scope.to_string(),
        res.map_err(|e| (e, Instant::now() + Duration::from_secs(30))),
    );
    out
}

async fn fetch_token(scope: &str) -> Result<Token, String> {
    let tenant = non_empty_var(AZURE_TENANT_ID);
    let client_id = non_empty_var(AZURE_CLIENT_ID);
    let authority = non_empty_var(AZURE_AUTHORITY_HOST)
        .unwrap_or_else(|| DEFAULT_AUTHORITY.to_string())
        .trim()
        .trim_end_matches('/')
        .to_string();
    let mut tried = Vec::new();

    // 1. Client secret (EnvironmentCredential).
    if let (Some(t), Some(c), Some(secret)) =
        (&tenant, &client_id, non_empty_var(AZURE_CLIENT_SECRET))
    {
        let secret = Zeroizing::new(secret);
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", c.as_str()),
            ("client_secret", secret.as_str()),
            ("scope", scope),
        ];
        return identity_platform(&authority, t, &form)
            .await
            .map_err(|e| format!("client secret credential ({AZURE_CLIENT_ID}={c}): {e}"));
    }
    // 2. Workload identity (federated token file).
    if let (Some(t), Some(c), Some(file)) = (
        &tenant,
        &client_id,
        non_empty_var(AZURE_FEDERATED_TOKEN_FILE),
    ) {
        let assertion = std::fs::read_to_string(&file)
            .map(Zeroizing::new)
            .map_err(|e| format!("cannot read {AZURE_FEDERATED_TOKEN_FILE}={file}: {e}"))?;
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", c.as_str()),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion.trim()),
            ("scope", scope),
        ];
        return identity_platform(&authority, t, &form)
            .await
            .map_err(|e| format!("workload identity credential: {e}"));
    }
    tried.push(format!(
        "environment: {AZURE_TENANT_ID}, {AZURE_CLIENT_ID} and {AZURE_CLIENT_SECRET} (or {AZURE_FEDERATED_TOKEN_FILE}) are not all set"
    ));
    // 3. Managed identity.
    match managed_identity(scope, client_id.as_deref()).await {
        Ok(t) => return Ok(t),
        Err(e) => tried.push(format!("managed identity: {e}")),
    }
    // 4. Azure CLI.
    match azure_cli(scope, tenant.as_deref()).await {
        Ok(t) => return Ok(t),
        Err(e) => tried.push(format!("Azure CLI: {e}")),
    }
    Err(format!("no Azure credentials found ({})", tried.join("; ")))
}

/// A token from the Microsoft identity platform's v2 token endpoint.
async fn identity_platform(
    authority: &str,
    tenant: &str,
    form: &[(&str, &str)],
) -> Result<Token, String> {
    let url = format!("{authority}/{tenant}/oauth2/v2.0/token");
    let resp = client()?
        .post(&url)
        .form(form)
        .send()
        .await
        .map_err(|e| format!("could not reach {authority}: {}", chain(&e)))?;
    token_answer(resp, "the identity platform").await
}

async fn token_answer(resp: reqwest::Response, who: &str) -> Result<Token, String> {
    let status = resp.status();
    let text = Zeroizing::new(resp.text().await.unwrap_or_default());
    if !status.is_success() {
        return Err(format!("{who} answered {status}{}", azure_error(&text)));
    }
    let v: Value =
        serde_json::from_str(&text).map_err(|_| format!("{who}'s answer is not JSON"))?;
    let secret = v
        .get("access_token")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{who}'s answer has no access_token"))?;
    // expires_in is a number, or a string from managed identity endpoints.
    let secs = match v.get("expires_in") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    }
    .unwrap_or(3600);
    Ok(Token {
        secret: Zeroizing::new(secret.to_string()),
        until: Instant::now() + Duration::from_secs(secs.saturating_sub(60)),
    })
}

async fn managed_identity(scope: &str, client_id: Option<&str>) -> Result<Token, String> {
    let resource = scope.trim_end_matches("/.default");
    let client = client()?;
    if let (Some(endpoint), Some(header)) = (
        non_empty_var(IDENTITY_ENDPOINT),
        non_empty_var(IDENTITY_HEADER),
    ) {
        let mut query = vec![("api-version", "2019-08-01"), ("resource", resource)];
        if let Some(c) = client_id {
            query.push(("client_id", c));
        }
        let url = reqwest::Url::parse_with_params(&endpoint, &query)
            .map_err(|e| format!("{IDENTITY_ENDPOINT}={endpoint} is not a URL: {e}"))?;
        let resp = client
            .get(url)
            .header("X-IDENTITY-HEADER", header)
            .send()
            .await
            .map_err(|e| format!("could not reach {endpoint}: {}", chain(&e)))?;
        return token_answer(resp, "the managed identity endpoint").await;
    }
    let host = non_empty_var(AZURE_POD_IDENTITY_AUTHORITY_HOST)
        .unwrap_or_else(|| DEFAULT_IMDS.to_string());
    let url = format!(
        "{}/metadata/identity/oauth2/token",
        host.trim().trim_end_matches('/')
    );
    let mut query = vec![("api-version", "2018-02-01"), ("resource", resource)];
    if let Some(c) = client_id {
        query.push(("client_id", c));
    }
    // Off Azure nothing answers there: give up quickly.
    let url = reqwest::Url::parse_with_params(&url, &query)
        .map_err(|e| format!("{AZURE_POD_IDENTITY_AUTHORITY_HOST}: {e}"))?;
    let resp = client
        .get(url)
        .header("Metadata", "true")
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .map_err(|_| "no managed identity endpoint answered".to_string())?;
    token_answer(resp, "the managed identity endpoint").await
}

async fn azure_cli(scope: &str, tenant: Option<&str>) -> Result<Token, String> {
    let mut args = vec![
        "account".to_string(),
        "get-access-token".into(),
        "--output".into(),
        "json".into(),
        "--resource".into(),
        scope.trim_end_matches("/.default").to_string(),
    ];
    if let Some(t) = tenant {
        args.push("--tenant".into());
        args.push(t.to_string());
    }
    let out = tokio::task::spawn_blocking(move || {
        let az = if cfg!(windows) { "az.cmd" } else { "az" };
        std::process::Command::new(az)
            .args(&args)
            .stdin(std::process::Stdio::null())
            .output()
    })
    .await
    .map_err(|e| format!("could not run az: {e}"))?
    .map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => "az is not installed".to_string(),
        _ => format!("could not run az: {e}"),
    })?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let first = err.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        return Err(format!(
            "`az account get-access-token` failed: {}",
            first.trim()
        ));
    }
    let stdout = Zeroizing::new(out.stdout);
    let v: Value = serde_json::from_slice(&stdout)
        .map_err(|_| "`az account get-access-token` printed no JSON".to_string())?;
    let secret = v
        .get("accessToken")
        .and_then(Value::as_str)
        .ok_or("`az account get-access-token` printed no accessToken")?;
    let until = v
        .get("expires_on")
        .and_then(Value::as_u64)
        .and_then(|t| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .ok()?
                .as_secs();
            Some(Instant::now() + Duration::from_secs(t.saturating_sub(now).saturating_sub(60)))
        })
        .unwrap_or_else(|| Instant::now() + Duration::from_secs(300));
    Ok(Token {
        secret: Zeroizing::new(secret.to_string()),
        until,
    })
}

// ---------------------------------------------------------------------------
// HTTP

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_follow_the_vault_host() {
        assert_eq!(
            scope_for("https://myvault.vault.azure.net"),
            "https://vault.azure.net/.default"
        );
        assert_eq!(
            scope_for("https://v.vault.azure.cn/"),
            "https://vault.azure.cn/.default"
        );
        assert_eq!(
            scope_for("https://hsm.managedhsm.azure.net"),
            "https://managedhsm.azure.net/.default"
        );
        assert_eq!(scope_for("http://127.0.0.1:8080"), DEFAULT_SCOPE);
        assert_eq!(scope_for("http://localhost:8080"), DEFAULT_SCOPE);
    }

    #[test]
    fn kid_versions() {
        assert_eq!(
            version_of_kid("https://v.vault.azure.net/keys/k/0123abcd").as_deref(),
            Some("0123abcd")
        );
        assert_eq!(version_of_kid("https://v.vault.azure.net/keys/k"), None);
        assert_eq!(version_of_kid("nonsense"), None);
    }

    #[test]
    fn base64url_with_or_without_padding() {
        assert_eq!(decode_b64url("AAE").unwrap(), [0, 1]);
        assert_eq!(decode_b64url("AAE=").unwrap(), [0, 1]);
        assert_eq!(decode_b64url("-_8").unwrap(), [0xfb, 0xff]);
        assert!(decode_b64url("+/8").is_err());
    }

    #[test]
    fn error_bodies() {
        assert_eq!(
            azure_error(
                r#"{"error":{"code":"KeyNotFound","message":"A key with (name/id) k was not found in this key vault."}}"#
            ),
            " (KeyNotFound): A key with (name/id) k was not found in this key vault."
        );
        assert_eq!(
            azure_error(
                r#"{"error":{"code":"Forbidden","message":"denied","innererror":{"code":"ForbiddenByPolicy"}}}"#
            ),
            " (Forbidden/ForbiddenByPolicy): denied"
        );
        assert_eq!(
            azure_error(
                r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x"}"#
            ),
            " (invalid_client): AADSTS7000215: Invalid client secret provided."
        );
        assert_eq!(azure_error(""), "");
    }

    #[test]
    fn key_names() {
        let mut f = Map::new();
        f.insert("vault_url".into(), "https://v.vault.azure.net/".into());
        f.insert("name".into(), "k".into());
        f.insert("version".into(), "".into());
        let k = VaultKey::from_fields(&f).unwrap();
        assert_eq!(k.id(), "https://v.vault.azure.net/keys/k/");
        assert_eq!(k.short(), "key \"k\" (latest version)");
        f.remove("name");
        assert!(VaultKey::from_fields(&f).is_err());
    }
}
