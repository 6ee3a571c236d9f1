//! The Azure Key Vault client (cargo feature `azure`); the entry and its
//! fields are described in the parent module.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

use crate::keys::KeyError;
use crate::keys::env::{Env, digest, text, var};
use crate::keys::http::{ClientError, HttpError, client, code_and_message};

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

/// Vaults the user allows besides the known Key Vault domains.
pub const SOPX_AZURE_KV_ALLOWED_HOSTS: &str = "SOPX_AZURE_KV_ALLOWED_HOSTS";

/// The DNS domains of Key Vault and Managed HSM in the Azure clouds
/// (public, China, US Government, and the former Germany cloud).
pub const KNOWN_DOMAINS: &[&str] = &[
    "vault.azure.net",
    "vault.azure.cn",
    "vault.usgovcloudapi.net",
    "vault.microsoftazure.de",
    "managedhsm.azure.net",
    "managedhsm.azure.cn",
    "managedhsm.usgovcloudapi.net",
    "managedhsm.microsoftazure.de",
];

/// What went wrong talking to Key Vault or getting a token; turned into
/// the `KeyError` message at the module's edge. `Clone` because token
/// failures are cached (`access_token`), so errors that are not `Clone`
/// (reqwest's, I/O) are kept as their message.
#[derive(Debug, Clone, thiserror::Error)]
enum Error {
    /// A vault URL (as written in the file) refused, and why.
    #[error(
        "refusing to send Azure credentials to {0:?}: {1} (a vault must be https://<name>.vault.azure.net or in another Key Vault domain; allow other vaults with {SOPX_AZURE_KV_ALLOWED_HOSTS})"
    )]
    VaultUrl(String, &'static str),
    #[error("the azure_kv entry needs `vault_url` and `name`")]
    MissingField,
    #[error("the azure_kv entry's `name` and `version` may only hold letters, digits and '-'")]
    BadName,
    /// A vault whose challenge asks for another domain's token (got, want).
    #[error(
        "refusing to send Azure credentials to {0}: its challenge asks for a token for {1:?}, not for its own domain ({2:?})"
    )]
    ForeignScope(String, String, String),
    /// An allowed vault whose challenge asks for a non-Key Vault token.
    #[error(
        "refusing to send Azure credentials to {0}: its challenge asks for a token for {1:?}, which is not a Key Vault scope"
    )]
    NotKeyVaultScope(String, String),
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    Http(#[from] HttpError),
    /// An answer that is unusable: whose, and what is wrong with it.
    #[error("{0}'s answer {1}")]
    Answer(&'static str, &'static str),
    #[error("the value in Key Vault's answer is not valid base64url")]
    ValueBase64,
    #[error("failed to base64 decode Azure Key Vault encrypted key: {0}")]
    Enc(#[source] base64::DecodeError),
    #[error("client secret credential ({AZURE_CLIENT_ID}={0}): {1}")]
    ClientSecret(String, Box<Error>),
    #[error("cannot read {AZURE_FEDERATED_TOKEN_FILE}={0}: {1}")]
    TokenFile(String, String),
    #[error("workload identity credential: {0}")]
    Workload(Box<Error>),
    /// Every credential failed; one reason per credential tried.
    #[error("no Azure credentials found ({})", .0.join("; "))]
    NoCredentials(Vec<String>),
    #[error("{IDENTITY_ENDPOINT}={0} is not a URL: {1}")]
    IdentityEndpoint(String, #[source] url::ParseError),
    #[error("{AZURE_POD_IDENTITY_AUTHORITY_HOST}: {0}")]
    PodIdentityHost(#[source] url::ParseError),
    #[error("no managed identity endpoint answered")]
    NoManagedIdentity,
    #[error("could not run az: {0}")]
    RunAz(String),
    #[error("az is not installed")]
    NoAz,
    #[error("`az account get-access-token` failed: {0}")]
    AzFailed(String),
    #[error("`az account get-access-token` printed no {0}")]
    AzOutput(&'static str),
}

const KEY_VAULT: &str = "Key Vault";
const IDENTITY_PLATFORM: &str = "the identity platform";
const MANAGED_IDENTITY: &str = "the managed identity endpoint";

/// Where a checked vault URL may be called, and for which token scope.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Endpoint {
    /// `scheme://host[:port]`, no trailing slash.
    base: String,
    /// The scope derived from a known domain; `None` for a vault the user
    /// allowed, whose challenge then names one.
    scope: Option<String>,
}

/// Is `host` a loopback name or address?
fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(a) => a.is_loopback(),
        url::Host::Ipv6(a) => a.is_loopback(),
    }
}

/// Checks a vault URL from a file against the known domains and the user's
/// `SOPX_AZURE_KV_ALLOWED_HOSTS` (`allowed`); see the module documentation.
fn check_vault_url(vault_url: &str, allowed: Option<&str>) -> Result<Endpoint, Error> {
    let refuse = |why: &'static str| Error::VaultUrl(vault_url.to_string(), why);
    let url = url::Url::parse(vault_url).map_err(|_| refuse("it is not a URL"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse("it carries a user name or password"));
    }
    if url.query().is_some() || url.fragment().is_some() || !matches!(url.path(), "" | "/") {
        return Err(refuse("a vault URL has no path, query or fragment"));
    }
    let host = url.host().ok_or_else(|| refuse("it has no host"))?;
    let scheme = url.scheme();
    let base = url.origin().ascii_serialization();
    if scheme == "https"
        && url.port().is_none()
        && let url::Host::Domain(d) = &host
    {
        let d = d.to_ascii_lowercase();
        for known in KNOWN_DOMAINS {
            if let Some(label) = d.strip_suffix(known).and_then(|l| l.strip_suffix('.'))
                && !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            {
                return Ok(Endpoint {
                    base,
                    scope: Some(format!("https://{known}/.default")),
                });
            }
        }
    }
    for entry in allowed.unwrap_or("").split(',').map(str::trim) {
        if entry.is_empty() {
            continue;
        }
        let ok = if entry.contains("://") {
            // An exact origin; plain http only for loopback test servers.
            url::Url::parse(entry).is_ok_and(|e| {
                e.origin() == url.origin()
                    && (e.scheme() == "https"
                        || e.scheme() == "http" && e.host().as_ref().is_some_and(is_loopback))
            })
        } else {
            let suffix = entry.trim_start_matches('.').to_ascii_lowercase();
            let h = host.to_string().to_ascii_lowercase();
            scheme == "https"
                && !suffix.is_empty()
                && (h == suffix || h.ends_with(&format!(".{suffix}")))
        };
        if ok {
            return Ok(Endpoint { base, scope: None });
        }
    }
    if scheme != "https" {
        return Err(refuse("it is not https"));
    }
    Err(refuse(
        "its host is not in a Key Vault or Managed HSM domain (or has a port)",
    ))
}

/// The vaults the user allowed, if any.
fn allowed_hosts(env: &dyn Env) -> Option<String> {
    text(env, SOPX_AZURE_KV_ALLOWED_HOSTS)
}

/// Is this a plain Key Vault key name or version (no path characters)?
fn plain_name(s: &str) -> bool {
    s.len() <= 127 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The scope a `WWW-Authenticate: Bearer …` challenge names
/// (`scope="…"`, else `resource="…"` + `/.default`).
fn challenge_scope(header: &str) -> Option<String> {
    let rest = header.trim().strip_prefix("Bearer")?;
    let mut resource = None;
    let mut scope = None;
    for part in rest.split(',') {
        let Some((k, v)) = part.split_once('=') else {
            continue;
        };
        let v = v.trim().trim_matches('"').to_string();
        match k.trim().to_ascii_lowercase().as_str() {
            "scope" => scope = Some(v),
            "resource" => resource = Some(v),
            _ => {}
        }
    }
    scope.or_else(|| resource.map(|r| format!("{}/.default", r.trim_end_matches('/'))))
}

/// Is `scope` the scope of one of the known Key Vault domains?
fn known_scope(scope: &str) -> bool {
    KNOWN_DOMAINS
        .iter()
        .any(|d| scope == format!("https://{d}/.default"))
}

/// A Key Vault key, as an `azure_kv` entry names it.
struct VaultKey<'a> {
    vault_url: &'a str,
    name: &'a str,
    version: &'a str,
}

impl<'a> VaultKey<'a> {
    fn from_fields(fields: &'a Map<String, Value>) -> Result<Self, Error> {
        let get = |k: &str| fields.get(k).and_then(Value::as_str).unwrap_or("").trim();
        let key = VaultKey {
            vault_url: get("vault_url").trim_end_matches('/'),
            name: get("name"),
            version: get("version"),
        };
        if key.vault_url.is_empty() || key.name.is_empty() {
            return Err(Error::MissingField);
        }
        if !plain_name(key.name) || !plain_name(key.version) {
            return Err(Error::BadName);
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

    /// One `encrypt` / `decrypt` operation; the answer's JSON object. The
    /// vault URL is checked, and its challenge read, before any token is
    /// fetched.
    async fn call(
        &self,
        env: &dyn Env,
        op: &str,
        value: &[u8],
    ) -> Result<Map<String, Value>, Error> {
        let ep = check_vault_url(self.vault_url, allowed_hosts(env).as_deref())?;
        let url = format!(
            "{}/keys/{}/{}/{op}?api-version={API_VERSION}",
            ep.base, self.name, self.version
        );
        let scope = challenge(&ep, &url).await?;
        let token = access_token(env, &scope).await?;
        let resp = client()?
            .post(&url)
            .bearer_auth(token.as_str())
            .json(&json!({ "alg": ALG, "value": URL_SAFE_NO_PAD.encode(value) }))
            .send()
            .await
            .map_err(|e| HttpError::send(KEY_VAULT, self.vault_url, &e))?;
        let status = resp.status();
        let text = resp
            .text()
            .await
            .map_err(|e| HttpError::read(KEY_VAULT, &e))?;
        if !status.is_success() {
            return Err(HttpError::status(KEY_VAULT, status, azure_error(&text)).into());
        }
        match serde_json::from_str(&text) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err(Error::Answer(KEY_VAULT, "is not a JSON object")),
        }
    }
}

/// The token scope for a checked vault, from its authentication challenge:
/// the request is sent once without a token or body, and the `401` answer's
/// `WWW-Authenticate` header names the scope. It must be the vault's own
/// domain's (known domains) or a Key Vault scope (allowed vaults). The
/// scope is remembered per vault for the process.
async fn challenge(ep: &Endpoint, url: &str) -> Result<String, Error> {
    static SCOPES: OnceLock<std::sync::Mutex<HashMap<String, String>>> = OnceLock::new();
    let scopes = SCOPES.get_or_init(Default::default);
    if let Some(s) = scopes
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&ep.base)
    {
        return Ok(s.clone());
    }
    let resp = client()?
        .post(url)
        .header(reqwest::header::CONTENT_LENGTH, "0")
        .send()
        .await
        .map_err(|e| HttpError::send(KEY_VAULT, &ep.base, &e))?;
    let named = (resp.status() == reqwest::StatusCode::UNAUTHORIZED)
        .then(|| resp.headers().get(reqwest::header::WWW_AUTHENTICATE))
        .flatten()
        .and_then(|h| h.to_str().ok())
        .and_then(challenge_scope);
    let scope = match (&ep.scope, named) {
        (Some(want), Some(got)) if *want != got => {
            return Err(Error::ForeignScope(ep.base.clone(), got, want.clone()));
        }
        (Some(want), _) => want.clone(),
        (None, Some(got)) if known_scope(&got) => got,
        (None, Some(got)) => {
            return Err(Error::NotKeyVaultScope(ep.base.clone(), got));
        }
        (None, None) => DEFAULT_SCOPE.to_string(),
    };
    scopes
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(ep.base.clone(), scope.clone());
    Ok(scope)
}

/// Decodes base64url with or without padding (sops writes it without).
fn decode_b64url(s: &str) -> Result<Vec<u8>, base64::DecodeError> {
    URL_SAFE_NO_PAD.decode(s.trim().trim_end_matches('='))
}

/// Wraps `secret`, storing the ciphertext in the entry's `enc` field.
pub(super) async fn encrypt(
    env: &dyn Env,
    fields: &mut Map<String, Value>,
    secret: &[u8],
) -> Result<(), KeyError> {
    let (enc, version) = {
        let key = VaultKey::from_fields(fields).map_err(|e| KeyError::Encrypt {
            key: "azure_kv key".into(),
            msg: e.to_string(),
        })?;
        let fail = |e: Error| KeyError::Encrypt {
            key: format!("Azure Key Vault key {}", key.id()),
            msg: e.to_string(),
        };
        let answer = key.call(env, "encrypt", secret).await.map_err(fail)?;
        let value = answer
            .get("value")
            .and_then(Value::as_str)
            .ok_or_else(|| fail(Error::Answer(KEY_VAULT, "has no value")))?;
        let bytes = decode_b64url(value).map_err(|_| fail(Error::ValueBase64))?;
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
pub(super) async fn decrypt(
    env: &dyn Env,
    fields: &Map<String, Value>,
) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let key = VaultKey::from_fields(fields).map_err(|e| KeyError::Identity(e.to_string()))?;
    let fail = |e: Error| KeyError::Identity(format!("{}: {e}", key.short()));
    let enc = fields.get("enc").and_then(Value::as_str).unwrap_or("");
    let ciphertext = decode_b64url(enc).map_err(|e| fail(Error::Enc(e)))?;
    let answer = key.call(env, "decrypt", &ciphertext).await.map_err(fail)?;
    let value = answer
        .get("value")
        .and_then(Value::as_str)
        .map(|s| Zeroizing::new(s.to_string()))
        .ok_or_else(|| fail(Error::Answer(KEY_VAULT, "has no value")))?;
    decode_b64url(&value)
        .map(Zeroizing::new)
        .map_err(|_| fail(Error::ValueBase64))
}

/// The version in a key identifier `https://<vault>/keys/<name>/<version>`.
fn version_of_kid(kid: &str) -> Option<String> {
    let path = kid.split_once("://")?.1.split_once('/')?.1;
    match path.split('/').collect::<Vec<_>>()[..] {
        ["keys", _, v] if !v.is_empty() => Some(v.to_string()),
        _ => None,
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
            // The inner code only qualifies a code.
            let code = if code.is_empty() {
                String::new()
            } else {
                format!("{code}{inner}")
            };
            code_and_message(&code, msg)
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

#[derive(Clone)]
struct Token {
    secret: Zeroizing<String>,
    until: Instant,
}

/// Tokens (or the reason none could be had) per scope and set of credential
/// variables, for this process.
type Cache = HashMap<(String, [u8; 32]), Result<Token, (Error, Instant)>>;

/// The variables that choose the credential.
const CREDENTIAL_VARS: [&str; 8] = [
    AZURE_TENANT_ID,
    AZURE_CLIENT_ID,
    AZURE_CLIENT_SECRET,
    AZURE_AUTHORITY_HOST,
    AZURE_FEDERATED_TOKEN_FILE,
    IDENTITY_ENDPOINT,
    IDENTITY_HEADER,
    AZURE_POD_IDENTITY_AUTHORITY_HOST,
];

/// An access token for `scope`, from the first configured credential.
async fn access_token(env: &dyn Env, scope: &str) -> Result<Zeroizing<String>, Error> {
    static CACHE: OnceLock<tokio::sync::Mutex<Cache>> = OnceLock::new();
    let mut cache = CACHE
        .get_or_init(|| tokio::sync::Mutex::new(HashMap::new()))
        .lock()
        .await;
    let now = Instant::now();
    let key = (scope.to_string(), digest(env, &CREDENTIAL_VARS));
    match cache.get(&key) {
        Some(Ok(t)) if now < t.until => return Ok(t.secret.clone()),
        Some(Err((e, until))) if now < *until => return Err(e.clone()),
        _ => {}
    }
    let res = fetch_token(env, scope).await;
    let out = res.as_ref().map(|t| t.secret.clone()).map_err(Clone::clone);
    // Failures are remembered briefly, so five keys do not probe five times.
    cache.insert(
        key,
        res.map_err(|e| (e, Instant::now() + Duration::from_secs(30))),
    );
    out
}

async fn fetch_token(env: &dyn Env, scope: &str) -> Result<Token, Error> {
    let tenant = var(env, AZURE_TENANT_ID);
    let client_id = var(env, AZURE_CLIENT_ID);
    let authority = var(env, AZURE_AUTHORITY_HOST)
        .unwrap_or_else(|| DEFAULT_AUTHORITY.to_string())
        .trim()
        .trim_end_matches('/')
        .to_string();
    let mut tried = Vec::new();

    // 1. Client secret (EnvironmentCredential).
    if let (Some(t), Some(c), Some(secret)) =
        (&tenant, &client_id, var(env, AZURE_CLIENT_SECRET))
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
            .map_err(|e| Error::ClientSecret(c.clone(), Box::new(e)));
    }
    // 2. Workload identity (federated token file).
    if let (Some(t), Some(c), Some(file)) = (
        &tenant,
        &client_id,
        var(env, AZURE_FEDERATED_TOKEN_FILE),
    ) {
        let assertion = std::fs::read_to_string(&file)
            .map(Zeroizing::new)
            .map_err(|e| Error::TokenFile(file.clone(), e.to_string()))?;
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
            .map_err(|e| Error::Workload(Box::new(e)));
    }
    tried.push(format!(
        "environment: {AZURE_TENANT_ID}, {AZURE_CLIENT_ID} and {AZURE_CLIENT_SECRET} (or {AZURE_FEDERATED_TOKEN_FILE}) are not all set"
    ));
    // 3. Managed identity.
    match managed_identity(env, scope, client_id.as_deref()).await {
        Ok(t) => return Ok(t),
        Err(e) => tried.push(format!("managed identity: {e}")),
    }
    // 4. Azure CLI.
    match azure_cli(scope, tenant.as_deref()).await {
        Ok(t) => return Ok(t),
        Err(e) => tried.push(format!("Azure CLI: {e}")),
    }
    Err(Error::NoCredentials(tried))
}

/// A token from the Microsoft identity platform's v2 token endpoint.
async fn identity_platform(
    authority: &str,
    tenant: &str,
    form: &[(&str, &str)],
) -> Result<Token, Error> {
    let url = format!("{authority}/{tenant}/oauth2/v2.0/token");
    let resp = client()?
        .post(&url)
        .form(form)
        .send()
        .await
        .map_err(|e| HttpError::send(IDENTITY_PLATFORM, authority, &e))?;
    token_answer(resp, IDENTITY_PLATFORM).await
}

/// The token in an answer from `who` (the identity platform or a managed
/// identity endpoint).
async fn token_answer(resp: reqwest::Response, who: &'static str) -> Result<Token, Error> {
    let status = resp.status();
    let text = Zeroizing::new(resp.text().await.unwrap_or_default());
    if !status.is_success() {
        return Err(HttpError::status(who, status, azure_error(&text)).into());
    }
    let v: Value = serde_json::from_str(&text).map_err(|_| Error::Answer(who, "is not JSON"))?;
    let secret = v
        .get("access_token")
        .and_then(Value::as_str)
        .ok_or(Error::Answer(who, "has no access_token"))?;
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

async fn managed_identity(
    env: &dyn Env,
    scope: &str,
    client_id: Option<&str>,
) -> Result<Token, Error> {
    let resource = scope.trim_end_matches("/.default");
    let client = client()?;
    if let (Some(endpoint), Some(header)) = (
        var(env, IDENTITY_ENDPOINT),
        var(env, IDENTITY_HEADER),
    ) {
        let mut query = vec![("api-version", "2019-08-01"), ("resource", resource)];
        if let Some(c) = client_id {
            query.push(("client_id", c));
        }
        let url = reqwest::Url::parse_with_params(&endpoint, &query)
            .map_err(|e| Error::IdentityEndpoint(endpoint.clone(), e))?;
        let resp = client
            .get(url)
            .header("X-IDENTITY-HEADER", header)
            .send()
            .await
            .map_err(|e| HttpError::send(MANAGED_IDENTITY, &endpoint, &e))?;
        return token_answer(resp, MANAGED_IDENTITY).await;
    }
    let host = var(env, AZURE_POD_IDENTITY_AUTHORITY_HOST)
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
        .map_err(Error::PodIdentityHost)?;
    let resp = client
        .get(url)
        .header("Metadata", "true")
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .map_err(|_| Error::NoManagedIdentity)?;
    token_answer(resp, MANAGED_IDENTITY).await
}

async fn azure_cli(scope: &str, tenant: Option<&str>) -> Result<Token, Error> {
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
    .map_err(|e| Error::RunAz(e.to_string()))?
    .map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::NoAz,
        _ => Error::RunAz(e.to_string()),
    })?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let first = err.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        return Err(Error::AzFailed(first.trim().to_string()));
    }
    let stdout = Zeroizing::new(out.stdout);
    let v: Value = serde_json::from_slice(&stdout)
        .map_err(|_| Error::AzOutput("JSON"))?;
    let secret = v
        .get("accessToken")
        .and_then(Value::as_str)
        .ok_or(Error::AzOutput("accessToken"))?;
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
    fn known_domains_give_their_scope() {
        for (url, scope) in [
            (
                "https://myvault.vault.azure.net",
                "https://vault.azure.net/.default",
            ),
            (
                "https://v.vault.azure.cn/",
                "https://vault.azure.cn/.default",
            ),
            (
                "https://V-1.Vault.UsGovCloudApi.net",
                "https://vault.usgovcloudapi.net/.default",
            ),
            (
                "https://hsm.managedhsm.azure.net",
                "https://managedhsm.azure.net/.default",
            ),
            (
                "https://v.vault.microsoftazure.de",
                "https://vault.microsoftazure.de/.default",
            ),
        ] {
            let ep = check_vault_url(url, None).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(ep.scope.as_deref(), Some(scope), "{url}");
        }
    }

    #[test]
    fn hostile_vault_urls_are_refused() {
        for url in [
            "https://attacker.example",
            "http://attacker.example",
            "http://myvault.vault.azure.net",
            "https://vault.azure.net",
            "https://.vault.azure.net",
            "https://myvault.vault.azure.net.attacker.example",
            "https://myvault.vault.azure.net:8443",
            "https://user:pw@myvault.vault.azure.net",
            "https://attacker.example/#.vault.azure.net",
            "https://attacker.example/?x=.vault.azure.net",
            "https://attacker.example\\@myvault.vault.azure.net",
            "https://myvault.vault.azure.net/keys",
            "https://myvaultvault.azure.net",
            "https://127.0.0.1",
            "http://127.0.0.1:8080",
            "file:///etc/passwd",
            "myvault.vault.azure.net",
        ] {
            let e = check_vault_url(url, None).unwrap_err().to_string();
            assert!(e.contains("refusing"), "{url}: {e}");
        }
    }

    #[test]
    fn the_user_can_allow_other_vaults() {
        let allow = Some(" kv.internal.example , http://127.0.0.1:8080,https://10.0.0.1:8443");
        for url in [
            "https://kv.internal.example",
            "https://a.kv.internal.example",
            "http://127.0.0.1:8080",
            "https://10.0.0.1:8443",
        ] {
            let ep = check_vault_url(url, allow).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(ep.scope, None, "{url}");
        }
        for url in [
            "http://kv.internal.example",
            "https://evilkv.internal.example",
            "http://127.0.0.1:8081",
            "https://127.0.0.1:8080",
            "https://10.0.0.1",
        ] {
            assert!(check_vault_url(url, allow).is_err(), "{url}");
        }
        // Plain http only for loopback addresses, even when listed.
        assert!(check_vault_url("http://10.0.0.1:80", Some("http://10.0.0.1:80")).is_err());
    }

    #[test]
    fn challenges_name_a_scope() {
        assert_eq!(
            challenge_scope(
                r#"Bearer authorization="https://login.microsoftonline.com/t", resource="https://vault.azure.net""#
            )
            .as_deref(),
            Some("https://vault.azure.net/.default")
        );
        assert_eq!(
            challenge_scope(
                r#"Bearer authorization="https://login.microsoftonline.com/t", scope="https://managedhsm.azure.net/.default""#
            )
            .as_deref(),
            Some("https://managedhsm.azure.net/.default")
        );
        assert_eq!(challenge_scope("Basic realm=x"), None);
        assert!(known_scope("https://vault.azure.cn/.default"));
        assert!(!known_scope("https://management.azure.com/.default"));
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
        f.insert("name".into(), "../../secrets/x?".into());
        assert!(VaultKey::from_fields(&f).is_err());
        f.insert("name".into(), "k".into());
        f.insert("version".into(), "v/../../x".into());
        assert!(VaultKey::from_fields(&f).is_err());
        f.remove("name");
        assert!(VaultKey::from_fields(&f).is_err());
    }
}
