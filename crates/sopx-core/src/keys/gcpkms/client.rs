//! The GCP KMS client (cargo feature `gcp`); the entry and its
//! fields are described in the parent module.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

use super::resource_id;
use crate::keys::KeyError;
use crate::keys::env::{Env, digest, var};
use crate::keys::http::{ClientError, HttpError, chain, client, code_and_message};

pub const GOOGLE_CREDENTIALS: &str = "GOOGLE_CREDENTIALS";
pub const GOOGLE_OAUTH_ACCESS_TOKEN: &str = "GOOGLE_OAUTH_ACCESS_TOKEN";
pub const GOOGLE_APPLICATION_CREDENTIALS: &str = "GOOGLE_APPLICATION_CREDENTIALS";
pub const SOPS_GCP_KMS_ENDPOINT: &str = "SOPS_GCP_KMS_ENDPOINT";
pub const SOPS_GCP_KMS_UNIVERSE_DOMAIN: &str = "SOPS_GCP_KMS_UNIVERSE_DOMAIN";

const DEFAULT_ENDPOINT: &str = "https://cloudkms.googleapis.com";
/// The service, as messages name it.
const GCP_KMS: &str = "GCP KMS";
const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
const SCOPES: &[&str] = &["https://www.googleapis.com/auth/cloud-platform"];

/// What went wrong talking to GCP KMS or finding credentials; turned into
/// the `KeyError` message at the module's edge.
#[derive(Debug, thiserror::Error)]
enum Error {
    #[error(
        "no valid resource ID found in {0:?} (expected projects/<project>/locations/<location>/keyRings/<ring>/cryptoKeys/<key>, names of letters, digits, '-' and '_')"
    )]
    ResourceId(String),
    #[error("the encrypted data key (`enc`) is not valid base64: {0}")]
    Enc(#[source] base64::DecodeError),
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("GCP KMS's answer {0}")]
    Answer(&'static str),
    /// The named field of the answer (`ciphertext`, `plaintext`).
    #[error("the {0} in GCP KMS's answer is not valid base64")]
    AnswerBase64(&'static str),
    /// A credentials file (named by the variable, with its value) that
    /// could not be read.
    #[error("cannot read {0}={1}: {2}")]
    ReadFile(&'static str, String, #[source] std::io::Error),
    #[error("credentials: failed to obtain credentials from {GOOGLE_CREDENTIALS:?}: {0}")]
    GoogleCredentials(#[source] Box<Error>),
    #[error("{GOOGLE_APPLICATION_CREDENTIALS}={0}: {1}")]
    ApplicationCredentials(String, #[source] Box<Error>),
    #[error(
        "no Google credentials found ({}); set {GOOGLE_CREDENTIALS} (a credentials file or its JSON), \
         {GOOGLE_OAUTH_ACCESS_TOKEN}, or {GOOGLE_APPLICATION_CREDENTIALS}, \
         or run `gcloud auth application-default login`",
        chain(.0)
    )]
    NoCredentials(#[source] gcp_auth::Error),
    #[error("not a credentials JSON document: {0}")]
    NotJson(#[source] serde_json::Error),
    #[error("invalid service account key: {}", chain(.0))]
    ServiceAccount(#[source] gcp_auth::Error),
    #[error("the authorized_user credentials lack client_id or refresh_token")]
    UserIncomplete,
    #[error("the credentials JSON has no `type`")]
    NoType,
    #[error(
        "credentials of type {0:?} are not supported by sopx (use a service account key, \
         an authorized_user file, or {GOOGLE_OAUTH_ACCESS_TOKEN})"
    )]
    UnsupportedType(String),
    #[error("could not get a Google access token: {}", chain(.0))]
    Token(#[source] gcp_auth::Error),
    /// The token endpoint (its URI) could not be reached.
    #[error("could not reach {}: {}", .0, chain(.1))]
    TokenSend(String, #[source] reqwest::Error),
    #[error("refreshing the Google user credentials failed: {0}{1}")]
    Refresh(reqwest::StatusCode, String),
    #[error("the token endpoint's answer {0}")]
    TokenAnswer(&'static str),
    /// The credentials' failure, found once and kept for the process.
    #[error(transparent)]
    Cached(Arc<Error>),
}

/// Wraps `secret`, storing the ciphertext in the entry's `enc` field.
pub(super) async fn encrypt(
    env: &dyn Env,
    fields: &mut Map<String, Value>,
    secret: &[u8],
) -> Result<(), KeyError> {
    let id = resource_id(fields).to_string();
    let fail = |e: Error| KeyError::Encrypt {
        key: format!("GCP KMS key {id}"),
        msg: e.to_string(),
    };
    check_resource_id(&id).map_err(fail)?;
    let answer = call(
        env,
        &id,
        "encrypt",
        json!({ "plaintext": STANDARD.encode(secret) }),
    )
    .await
    .map_err(fail)?;
    let ciphertext = answer
        .get("ciphertext")
        .and_then(Value::as_str)
        .ok_or_else(|| fail(Error::Answer("has no ciphertext")))?;
    let bytes = STANDARD
        .decode(ciphertext)
        .map_err(|_| fail(Error::AnswerBase64("ciphertext")))?;
    fields.insert("enc".into(), Value::String(STANDARD.encode(bytes)));
    Ok(())
}

/// Unwraps the entry's `enc` field.
pub(super) async fn decrypt(
    env: &dyn Env,
    fields: &Map<String, Value>,
) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let fail = |e: Error| KeyError::Identity(e.to_string());
    let id = resource_id(fields);
    check_resource_id(id).map_err(fail)?;
    let enc = fields.get("enc").and_then(Value::as_str).unwrap_or("");
    // Like sops: the stored value must be standard base64.
    let bytes = STANDARD
        .decode(enc)
        .map_err(|e| fail(Error::Enc(e)))?;
    let answer = call(
        env,
        id,
        "decrypt",
        json!({ "ciphertext": STANDARD.encode(bytes) }),
    )
    .await
    .map_err(fail)?;
    let plaintext = answer
        .get("plaintext")
        .and_then(Value::as_str)
        .map(|s| Zeroizing::new(s.to_string()))
        .ok_or_else(|| fail(Error::Answer("has no plaintext")))?;
    STANDARD
        .decode(plaintext.as_bytes())
        .map(Zeroizing::new)
        .map_err(|_| fail(Error::AnswerBase64("plaintext")))
}

/// sops checks `^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$`.
/// The ID comes from the file's unauthenticated metadata and becomes part of
/// the request URL, so sopx also checks each name's characters: the project
/// `[a-z0-9.-]` (optionally `domain:` in front, for domain-scoped projects),
/// the location `[a-z0-9-]`, the key ring and key `[A-Za-z0-9_-]`; no name is
/// `.` or `..`. Nothing in it can then change the path or query (`/`, `?`,
/// `#`, `%`, `@`, `..`) or the `:encrypt` action.
fn check_resource_id(id: &str) -> Result<(), Error> {
    let parts: Vec<&str> = id.split('/').collect();
    let name = |s: &str, extra: &[u8]| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase() || extra.contains(&b))
    };
    let project = |p: &str| match p.split_once(':') {
        Some((domain, project)) => name(domain, b".-") && name(project, b".-"),
        None => name(p, b".-"),
    };
    let key_name = |s: &str| {
        s.len() <= 63
            && !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    let ok = parts.len() == 8
        && parts
            .iter()
            .step_by(2)
            .zip(["projects", "locations", "keyRings", "cryptoKeys"])
            .all(|(p, want)| *p == want)
        && project(parts[1])
        && name(parts[3], b"-")
        && key_name(parts[5])
        && key_name(parts[7]);
    if ok {
        Ok(())
    } else {
        Err(Error::ResourceId(id.to_string()))
    }
}

/// The Cloud KMS base URL (no trailing slash).
fn endpoint(env: &dyn Env) -> String {
    endpoint_from(
        var(env, SOPS_GCP_KMS_ENDPOINT),
        var(env, SOPS_GCP_KMS_UNIVERSE_DOMAIN),
    )
}

fn endpoint_from(endpoint: Option<String>, universe: Option<String>) -> String {
    if let Some(e) = endpoint {
        let e = e.trim().trim_end_matches('/');
        return if e.contains("://") {
            e.to_string()
        } else {
            format!("https://{e}")
        };
    }
    if let Some(d) = universe {
        return format!("https://cloudkms.{}", d.trim().trim_matches('.'));
    }
    DEFAULT_ENDPOINT.to_string()
}

/// One `:encrypt` / `:decrypt` call; the answer's JSON object.
async fn call(
    env: &dyn Env,
    id: &str,
    op: &str,
    body: Value,
) -> Result<Map<String, Value>, Error> {
    let token = access_token(env).await?;
    let base = endpoint(env);
    let url = format!("{base}/v1/{id}:{op}");
    let resp = client()?
        .post(&url)
        .bearer_auth(token.as_str())
        .json(&body)
        .send()
        .await
        .map_err(|e| HttpError::send(GCP_KMS, &base, &e))?;
    let status = resp.status();
    let text = resp
        .text()
        .await
        .map_err(|e| HttpError::read(GCP_KMS, &e))?;
    if !status.is_success() {
        return Err(HttpError::status(GCP_KMS, status, google_error(&text)).into());
    }
    match serde_json::from_str(&text) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(Error::Answer("is not a JSON object")),
    }
}

/// `: message (STATUS)` from a Google API error body
/// (`{"error": {"code", "message", "status"}}`), or the raw body.
fn google_error(body: &str) -> String {
    let v: Option<Value> = serde_json::from_str(body).ok();
    let err = v.as_ref().and_then(|v| v.get("error"));
    match err {
        Some(Value::Object(e)) => {
            let msg = e.get("message").and_then(Value::as_str).unwrap_or("");
            let status = e.get("status").and_then(Value::as_str).unwrap_or("");
            code_and_message(status, msg)
        }
        // OAuth endpoints answer {"error": "invalid_grant", "error_description": …}.
        Some(Value::String(code)) => {
            let desc = v
                .as_ref()
                .and_then(|v| v.get("error_description"))
                .and_then(Value::as_str)
                .unwrap_or("");
            format!(": {code} {desc}").trim_end().to_string()
        }
        _ if body.trim().is_empty() => String::new(),
        _ => format!(": {}", body.trim().chars().take(300).collect::<String>()),
    }
}

// ---------------------------------------------------------------------------
// credentials

enum Creds {
    /// `GOOGLE_OAUTH_ACCESS_TOKEN`.
    Static(Zeroizing<String>),
    /// A service account key or Application Default Credentials.
    Provider(Arc<dyn gcp_auth::TokenProvider>),
    /// An `authorized_user` credentials file (`gcloud auth application-default login`).
    User(UserCreds),
}

struct UserCreds {
    client_id: String,
    client_secret: Zeroizing<String>,
    refresh_token: Zeroizing<String>,
    token_uri: String,
    cached: tokio::sync::Mutex<Option<(Zeroizing<String>, Instant)>>,
}

/// The credentials, found once per process for each set of the variables
/// that name them: a key ring with other variables finds its own.
async fn creds(env: &dyn Env) -> Result<Arc<Creds>, Error> {
    type Found = Result<Arc<Creds>, Arc<Error>>;
    static CREDS: OnceLock<tokio::sync::Mutex<HashMap<[u8; 32], Found>>> = OnceLock::new();
    let vars = [
        GOOGLE_CREDENTIALS,
        GOOGLE_OAUTH_ACCESS_TOKEN,
        GOOGLE_APPLICATION_CREDENTIALS,
    ];
    let key = digest(env, &vars);
    let mut all = CREDS.get_or_init(Default::default).lock().await;
    let found = match all.get(&key) {
        Some(f) => f.clone(),
        None => {
            let f = find_creds(env).await.map(Arc::new).map_err(Arc::new);
            all.insert(key, f.clone());
            f
        }
    };
    found.map_err(Error::Cached)
}

async fn find_creds(env: &dyn Env) -> Result<Creds, Error> {
    if let Some(v) = var(env, GOOGLE_CREDENTIALS) {
        // sops: a path if such a file exists, else the JSON itself.
        let json = if std::path::Path::new(&v).is_file() {
            std::fs::read_to_string(&v).map_err(|e| Error::ReadFile(GOOGLE_CREDENTIALS, v, e))?
        } else {
            v
        };
        return from_json(&json).map_err(|e| Error::GoogleCredentials(Box::new(e)));
    }
    if let Some(t) = var(env, GOOGLE_OAUTH_ACCESS_TOKEN) {
        return Ok(Creds::Static(Zeroizing::new(t.trim().to_string())));
    }
    if let Some(path) = var(env, GOOGLE_APPLICATION_CREDENTIALS) {
        let json = match std::fs::read_to_string(&path) {
            Ok(json) => json,
            Err(e) => return Err(Error::ReadFile(GOOGLE_APPLICATION_CREDENTIALS, path, e)),
        };
        return from_json(&json).map_err(|e| Error::ApplicationCredentials(path, Box::new(e)));
    }
    // Application Default Credentials, as gcp_auth finds them (gcloud's
    // files, the metadata server): like the AWS SDK, it reads the process.
    gcp_auth::provider()
        .await
        .map(Creds::Provider)
        .map_err(Error::NoCredentials)
}

/// Credentials from a JSON credentials file's contents.
fn from_json(json: &str) -> Result<Creds, Error> {
    let v: Value = serde_json::from_str(json).map_err(Error::NotJson)?;
    let field = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    match field("type").as_str() {
        "service_account" => gcp_auth::CustomServiceAccount::from_json(json)
            .map(|sa| Creds::Provider(Arc::new(sa)))
            .map_err(Error::ServiceAccount),
        "authorized_user" => {
            let token_uri = match field("token_uri") {
                u if u.is_empty() => DEFAULT_TOKEN_URI.to_string(),
                u => u,
            };
            let c = UserCreds {
                client_id: field("client_id"),
                client_secret: Zeroizing::new(field("client_secret")),
                refresh_token: Zeroizing::new(field("refresh_token")),
                token_uri,
                cached: tokio::sync::Mutex::new(None),
            };
            if c.client_id.is_empty() || c.refresh_token.is_empty() {
                return Err(Error::UserIncomplete);
            }
            Ok(Creds::User(c))
        }
        "" => Err(Error::NoType),
        other => Err(Error::UnsupportedType(other.to_string())),
    }
}

async fn access_token(env: &dyn Env) -> Result<Zeroizing<String>, Error> {
    match &*creds(env).await? {
        Creds::Static(t) => Ok(t.clone()),
        Creds::Provider(p) => p
            .token(SCOPES)
            .await
            .map(|t| Zeroizing::new(t.as_str().to_string()))
            .map_err(Error::Token),
        Creds::User(u) => u.token().await,
    }
}

impl UserCreds {
    /// A refresh-token grant, cached until a minute before it expires.
    async fn token(&self) -> Result<Zeroizing<String>, Error> {
        let mut cached = self.cached.lock().await;
        if let Some((t, until)) = cached.as_ref()
            && Instant::now() < *until
        {
            return Ok(t.clone());
        }
        let form = [
            ("grant_type", "refresh_token"),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.as_str()),
            ("refresh_token", self.refresh_token.as_str()),
        ];
        let resp = client()?
            .post(&self.token_uri)
            .form(&form)
            .send()
            .await
            .map_err(|e| Error::TokenSend(self.token_uri.clone(), e))?;
        let status = resp.status();
        let text = Zeroizing::new(resp.text().await.unwrap_or_default());
        if !status.is_success() {
            return Err(Error::Refresh(status, google_error(&text)));
        }
        let v: Value =
            serde_json::from_str(&text).map_err(|_| Error::TokenAnswer("is not JSON"))?;
        let token = v
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or(Error::TokenAnswer("has no access_token"))?;
        let token = Zeroizing::new(token.to_string());
        let secs = v.get("expires_in").and_then(Value::as_u64).unwrap_or(3600);
        let until = Instant::now() + Duration::from_secs(secs.saturating_sub(60));
        *cached = Some((token.clone(), until));
        Ok(token)
    }
}

// ---------------------------------------------------------------------------
// HTTP

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_ids_are_checked_like_sops() {
        assert!(check_resource_id("projects/p/locations/global/keyRings/r/cryptoKeys/k").is_ok());
        assert!(
            check_resource_id(
                "projects/example.com:my-proj-1/locations/europe-west1/keyRings/Ring_1/cryptoKeys/Key-2"
            )
            .is_ok()
        );
        assert!(check_resource_id("projects/123456/locations/us/keyRings/r/cryptoKeys/k").is_ok());
        for bad in [
            "",
            "/projects",
            "projects/p/locations/global/keyRings/r/cryptoKeys/",
            "projects/p/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1",
            "projects/p/location/global/keyRings/r/cryptoKeys/k",
            // Nothing that could change the URL's path, query or action.
            "projects/p/locations/global/keyRings/r/cryptoKeys/k?alt=x",
            "projects/p/locations/global/keyRings/r/cryptoKeys/k#",
            "projects/p/locations/global/keyRings/r/cryptoKeys/k:decrypt",
            "projects/../locations/../keyRings/r/cryptoKeys/k",
            "projects/p/locations/global/keyRings/../cryptoKeys/k",
            "projects/x@evil.example/locations/global/keyRings/r/cryptoKeys/k",
            "projects/p/locations/global/keyRings/r%2F..%2F/cryptoKeys/k",
            "projects/p/locations/global/keyRings/r/cryptoKeys/k\\x",
            "projects/p/locations/global/keyRings/r/cryptoKeys/k x",
            "projects/P/locations/global/keyRings/r/cryptoKeys/k",
            "projects/:p/locations/global/keyRings/r/cryptoKeys/k",
        ] {
            let e = check_resource_id(bad).unwrap_err().to_string();
            assert!(e.contains("no valid resource ID"), "{bad}: {e}");
        }
    }

    #[test]
    fn endpoints() {
        assert_eq!(endpoint_from(None, None), "https://cloudkms.googleapis.com");
        assert_eq!(
            endpoint_from(Some("cloudkms.example.com:443".into()), None),
            "https://cloudkms.example.com:443"
        );
        assert_eq!(
            endpoint_from(Some("http://127.0.0.1:9/".into()), Some("x.fr".into())),
            "http://127.0.0.1:9"
        );
        assert_eq!(
            endpoint_from(None, Some("s3nsapis.fr".into())),
            "https://cloudkms.s3nsapis.fr"
        );
    }

    #[test]
    fn error_bodies() {
        assert_eq!(
            google_error(
                r#"{"error":{"code":403,"message":"Permission denied","status":"PERMISSION_DENIED"}}"#
            ),
            " (PERMISSION_DENIED): Permission denied"
        );
        assert_eq!(
            google_error(r#"{"error":"invalid_grant","error_description":"Bad Request"}"#),
            ": invalid_grant Bad Request"
        );
        assert_eq!(google_error(""), "");
        assert_eq!(google_error("boom"), ": boom");
    }

    #[test]
    fn credential_json_types() {
        let e = from_json(r#"{"type":"external_account"}"#)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("external_account"), "{e}");
        assert!(from_json("nope").is_err());
        let user = from_json(
            r#"{"type":"authorized_user","client_id":"c","client_secret":"s","refresh_token":"r"}"#,
        )
        .ok()
        .unwrap();
        match user {
            Creds::User(u) => assert_eq!(u.token_uri, DEFAULT_TOKEN_URI),
            _ => panic!("expected user credentials"),
        }
    }
}
