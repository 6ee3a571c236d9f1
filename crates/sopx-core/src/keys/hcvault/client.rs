//! The Vault transit client (cargo feature `vault`); the entry and its
//! fields are described in the parent module.

use std::path::PathBuf;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

use crate::keys::KeyError;
use crate::keys::env::{Env, digest, home_dir, text, var};
use crate::keys::http::{ClientError, HttpError};

/// The service, as messages name it.
const VAULT: &str = "Vault";
pub const VAULT_TOKEN: &str = "VAULT_TOKEN";
pub const VAULT_ADDR: &str = "VAULT_ADDR";
/// The addresses sopx may send requests (and the token) to.
pub const SOPS_HC_VAULT_ALLOWLIST: &str = "SOPS_HC_VAULT_ALLOWLIST";
pub const VAULT_NAMESPACE: &str = "VAULT_NAMESPACE";
pub const VAULT_CACERT: &str = "VAULT_CACERT";
pub const VAULT_SKIP_VERIFY: &str = "VAULT_SKIP_VERIFY";
/// The token file in the user's home directory.
pub const TOKEN_FILE: &str = ".vault-token";

/// What went wrong with an entry, the allowlist or a transit call; turned
/// into the `KeyError` message at the module's edge.
#[derive(Debug, thiserror::Error)]
enum Error {
    #[error("the hc_vault entry has no `{0}`")]
    MissingField(&'static str),
    /// A Vault address (from the file) that is refused, and why.
    #[error("the Vault address {0:?} {1}")]
    Address(String, &'static str),
    #[error(
        "the engine path {0:?} is not a plain path (letters, digits, '-', '_', '.'; no '.' or '..' segments)"
    )]
    EnginePath(String),
    #[error("the key name {0:?} is not a plain name (letters, digits, '-', '_', '.')")]
    KeyName(String),
    /// An address the allowlist does not allow, and what the user can do.
    #[error("refusing to contact Vault at {0}: {1}")]
    NotAllowed(String, String),
    /// An empty entry of the allowlist (counted from 1).
    #[error("{SOPS_HC_VAULT_ALLOWLIST}'s entry {0} is empty")]
    EmptyAllowlistEntry(usize),
    #[error("cannot read the Vault token file {}: {}", .0.display(), .1)]
    TokenFile(PathBuf, #[source] std::io::Error),
    #[error("cannot read {VAULT_CACERT}={0}: {1}")]
    CaCert(String, #[source] std::io::Error),
    #[error("{VAULT_CACERT}={0} is not a PEM bundle: {1}")]
    NotPem(String, #[source] reqwest::Error),
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The client's failure, found once and kept for the process.
    #[error(transparent)]
    Cached(Arc<Error>),
    #[error(transparent)]
    Http(#[from] HttpError),
    /// An error status when no token was sent, which likely explains it.
    #[error(
        "{0} (no Vault token was found: set {VAULT_TOKEN} or run `vault login`, which writes ~/{TOKEN_FILE})"
    )]
    StatusNoToken(HttpError),
    #[error("Vault's answer is not JSON ({0})")]
    NotJson(#[source] serde_json::Error),
    /// No `data` in the answer to `<engine>/<op>/<name>`.
    #[error("the transit backend {0}/{1}/{2} returned no data")]
    NoData(String, String, String),
    #[error("Vault's answer has no {0}")]
    AnswerMissing(&'static str),
    #[error("the {0} in Vault's answer is not a string")]
    AnswerNotString(&'static str),
    #[error("the plaintext in Vault's answer is not valid base64")]
    PlaintextBase64,
    #[error("the entry has no encrypted data key (`enc`)")]
    NoEnc,
}

/// A transit key, as an `hc_vault` entry names it.
struct TransitKey<'a> {
    address: &'a str,
    engine: &'a str,
    name: &'a str,
}

impl<'a> TransitKey<'a> {
    fn from_fields(fields: &'a Map<String, Value>) -> Result<Self, Error> {
        let get = |k: &'static str| {
            fields
                .get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .ok_or(Error::MissingField(k))
        };
        let key = TransitKey {
            address: get("vault_address")?.trim_end_matches('/'),
            engine: get("engine_path")?.trim_matches('/'),
            name: get("key_name")?,
        };
        check_address(key.address)?;
        if !key.engine.split('/').all(plain_segment) {
            return Err(Error::EnginePath(key.engine.to_string()));
        }
        if !plain_segment(key.name) {
            return Err(Error::KeyName(key.name.to_string()));
        }
        Ok(key)
    }

    /// sops's string form of the key.
    fn uri(&self) -> String {
        format!("{}/v1/{}/keys/{}", self.address, self.engine, self.name)
    }

    fn url(&self, op: &str) -> String {
        format!("{}/v1/{}/{op}/{}", self.address, self.engine, self.name)
    }

    /// Sends one transit request and returns the answer's `data` object.
    async fn call(&self, env: &dyn Env, op: &str, body: Value) -> Result<Map<String, Value>, Error> {
        let allow = allowlist(env)?;
        if !allow.allows(self.address) {
            return Err(Error::NotAllowed(
                self.address.to_string(),
                allow.why_not(),
            ));
        }
        let client = client(env)?;
        let token = token(env)?;
        let mut req = client
            .post(self.url(op))
            .header("X-Vault-Request", "true")
            .json(&body);
        if let Some(t) = &token {
            req = req.header("X-Vault-Token", t.as_str());
        }
        if let Some(ns) = var(env, VAULT_NAMESPACE) {
            req = req.header("X-Vault-Namespace", ns);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| HttpError::send(VAULT, self.address, &e))?;
        let status = resp.status();
        let text = resp
            .text()
            .await
            .map_err(|e| HttpError::read(VAULT, &e))?;
        if !status.is_success() {
            let e = HttpError::status(VAULT, status, format!(": {}", vault_errors(&text)));
            if token.is_none() && matches!(status.as_u16(), 400 | 401 | 403) {
                return Err(Error::StatusNoToken(e));
            }
            return Err(e.into());
        }
        let v: Value = serde_json::from_str(&text).map_err(Error::NotJson)?;
        match v.get("data") {
            Some(Value::Object(data)) => Ok(data.clone()),
            _ => Err(Error::NoData(
                self.engine.to_string(),
                op.to_string(),
                self.name.to_string(),
            )),
        }
    }
}

/// Wraps `secret`, storing the ciphertext in the entry's `enc` field.
pub(super) async fn encrypt(
    env: &dyn Env,
    fields: &mut Map<String, Value>,
    secret: &[u8],
) -> Result<(), KeyError> {
    let enc = {
        let key = TransitKey::from_fields(fields).map_err(|e| KeyError::Encrypt {
            key: "hc_vault key".into(),
            msg: e.to_string(),
        })?;
        let fail = |e: Error| KeyError::Encrypt {
            key: format!("Vault transit key {}", key.uri()),
            msg: e.to_string(),
        };
        let data = key
            .call(env, "encrypt", json!({ "plaintext": STANDARD.encode(secret) }))
            .await
            .map_err(fail)?;
        match data.get("ciphertext") {
            Some(Value::String(c)) if !c.is_empty() => c.clone(),
            Some(_) => return Err(fail(Error::AnswerNotString("ciphertext"))),
            None => return Err(fail(Error::AnswerMissing("ciphertext"))),
        }
    };
    fields.insert("enc".into(), Value::String(enc));
    Ok(())
}

/// Unwraps the entry's `enc` field.
pub(super) async fn decrypt(
    env: &dyn Env,
    fields: &Map<String, Value>,
) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let key = TransitKey::from_fields(fields).map_err(|e| KeyError::Identity(e.to_string()))?;
    let fail = |e: Error| {
        KeyError::Identity(format!(
            "transit key {:?} (engine {:?}): {e}",
            key.name, key.engine
        ))
    };
    let enc = fields
        .get("enc")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| fail(Error::NoEnc))?;
    let data = key
        .call(env, "decrypt", json!({ "ciphertext": enc }))
        .await
        .map_err(fail)?;
    let plaintext = match data.get("plaintext") {
        Some(Value::String(p)) => Zeroizing::new(p.clone()),
        Some(_) => return Err(fail(Error::AnswerNotString("plaintext"))),
        None => return Err(fail(Error::AnswerMissing("plaintext"))),
    };
    STANDARD
        .decode(plaintext.as_bytes())
        .map(Zeroizing::new)
        .map_err(|_| fail(Error::PlaintextBase64))
}

/// A path segment that cannot change the request's path or URL.
fn plain_segment(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// A Vault address: `http(s)://host[:port][/path]`, no user, query or fragment.
fn check_address(address: &str) -> Result<(), Error> {
    let bad = |why: &'static str| Error::Address(address.to_string(), why);
    let url = url::Url::parse(address).map_err(|_| bad("is not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(bad("is not an http or https URL"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("carries a user name or password"));
    }
    if url.query().is_some() || url.fragment().is_some() || address.contains(['?', '#', '\\']) {
        return Err(bad("has a query or fragment"));
    }
    Ok(())
}

/// The Vault addresses sopx may talk to (`SOPS_HC_VAULT_ALLOWLIST`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Allowlist {
    All,
    /// Prefixes, each ending in `/`; `from_vault_addr` when they are the
    /// default taken from `VAULT_ADDR`.
    Prefixes {
        prefixes: Vec<String>,
        from_vault_addr: bool,
    },
}

impl Allowlist {
    /// sops's parsing of `SOPS_HC_VAULT_ALLOWLIST` when set; else sopx's
    /// default, `VAULT_ADDR` alone.
    fn from(list: Option<&str>, vault_addr: Option<&str>) -> Result<Allowlist, Error> {
        let with_slash = |s: &str| {
            if s.ends_with('/') {
                s.to_string()
            } else {
                format!("{s}/")
            }
        };
        match list.filter(|l| !l.is_empty()) {
            Some("all") => Ok(Allowlist::All),
            Some("none") => Ok(Allowlist::Prefixes {
                prefixes: Vec::new(),
                from_vault_addr: false,
            }),
            Some(l) => {
                let mut prefixes = Vec::new();
                for (i, e) in l.split(',').enumerate() {
                    let e = e.trim_matches(' ');
                    if e.is_empty() {
                        return Err(Error::EmptyAllowlistEntry(i + 1));
                    }
                    prefixes.push(with_slash(e));
                }
                Ok(Allowlist::Prefixes {
                    prefixes,
                    from_vault_addr: false,
                })
            }
            None => Ok(Allowlist::Prefixes {
                prefixes: vault_addr
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .map(with_slash)
                    .into_iter()
                    .collect(),
                from_vault_addr: true,
            }),
        }
    }

    fn allows(&self, address: &str) -> bool {
        match self {
            Allowlist::All => true,
            Allowlist::Prefixes { prefixes, .. } => {
                let a = if address.ends_with('/') {
                    address.to_string()
                } else {
                    format!("{address}/")
                };
                prefixes.iter().any(|p| a.starts_with(p.as_str()))
            }
        }
    }

    /// Why an address was refused, and what the user can do about it.
    fn why_not(&self) -> String {
        match self {
            Allowlist::Prefixes {
                from_vault_addr: true,
                prefixes,
            } if prefixes.is_empty() => format!(
                "{SOPS_HC_VAULT_ALLOWLIST} and {VAULT_ADDR} are unset, and sopx only sends requests (and your token) to a Vault you allowed: set {VAULT_ADDR} to this Vault's address, or list it in {SOPS_HC_VAULT_ALLOWLIST}"
            ),
            Allowlist::Prefixes {
                from_vault_addr: true,
                ..
            } => format!(
                "it is not {VAULT_ADDR}, the only Vault sopx sends requests (and your token) to while {SOPS_HC_VAULT_ALLOWLIST} is unset; list it in {SOPS_HC_VAULT_ALLOWLIST} if you trust it"
            ),
            _ => format!("{SOPS_HC_VAULT_ALLOWLIST} does not allow it"),
        }
    }
}

/// The allowlist from the environment.
fn allowlist(env: &dyn Env) -> Result<Allowlist, Error> {
    Allowlist::from(
        text(env, SOPS_HC_VAULT_ALLOWLIST).as_deref(),
        text(env, VAULT_ADDR).as_deref(),
    )
}

/// `VAULT_TOKEN`, else the trimmed contents of `~/.vault-token` if it exists.
fn token(env: &dyn Env) -> Result<Option<Zeroizing<String>>, Error> {
    token_from(var(env, VAULT_TOKEN), home_dir(env))
}

fn token_from(
    env_token: Option<String>,
    home: Option<PathBuf>,
) -> Result<Option<Zeroizing<String>>, Error> {
    if let Some(t) = env_token {
        return Ok(Some(Zeroizing::new(t)));
    }
    let Some(home) = home else {
        return Ok(None);
    };
    let path = home.join(TOKEN_FILE);
    match std::fs::read_to_string(&path) {
        Ok(s) => {
            let s = Zeroizing::new(s);
            let t = s.trim();
            Ok((!t.is_empty()).then(|| Zeroizing::new(t.to_string())))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::TokenFile(path, e)),
    }
}

/// The error messages of a Vault error body (`{"errors": [...]}`), or the
/// body itself when it has another shape.
fn vault_errors(body: &str) -> String {
    let errors: Vec<String> = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("errors").and_then(Value::as_array).cloned())
        .map(|a| {
            a.iter()
                .map(|e| match e {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    if !errors.is_empty() {
        return errors.join("; ");
    }
    let body = body.trim();
    if body.is_empty() {
        "(empty answer)".into()
    } else {
        body.chars().take(300).collect()
    }
}

/// The HTTP client for Vault, with `VAULT_CACERT` / `VAULT_SKIP_VERIFY`
/// and the allowlist applied; built once per process for each set of
/// those variables. Connections are not pooled: each runtime sopx starts
/// is short and requests run concurrently anyway.
fn client(env: &dyn Env) -> Result<reqwest::Client, Error> {
    type Built = Result<reqwest::Client, Arc<Error>>;
    static CLIENTS: OnceLock<Mutex<HashMap<[u8; 32], Built>>> = OnceLock::new();
    let key = digest(
        env,
        &[VAULT_CACERT, VAULT_SKIP_VERIFY, SOPS_HC_VAULT_ALLOWLIST, VAULT_ADDR],
    );
    let mut all = CLIENTS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    all.entry(key)
        .or_insert_with(|| build_client(env).map_err(Arc::new))
        .clone()
        .map_err(Error::Cached)
}

/// Builds the client `client` keeps.
fn build_client(env: &dyn Env) -> Result<reqwest::Client, Error> {
    let mut b = crate::keys::http::builder();
    if let Some(path) = var(env, VAULT_CACERT) {
        let pem = match std::fs::read(&path) {
            Ok(pem) => pem,
            Err(e) => return Err(Error::CaCert(path, e)),
        };
        let certs = match reqwest::Certificate::from_pem_bundle(&pem) {
            Ok(certs) => certs,
            Err(e) => return Err(Error::NotPem(path, e)),
        };
        for c in certs {
            b = b.add_root_certificate(c);
        }
    }
    if var(env, VAULT_SKIP_VERIFY).is_some_and(|v| is_true(&v)) {
        b = b.danger_accept_invalid_certs(true);
    }
    // Follow a redirect (a standby pointing at the active node) only
    // to an address the allowlist allows too.
    let allow = allowlist(env)?;
    b = b.redirect(reqwest::redirect::Policy::custom(move |attempt| {
        let target = attempt.url().as_str().to_string();
        if attempt.previous().len() >= 10 {
            attempt.error("too many redirects")
        } else if check_address(&target).is_ok() && allow.allows(&target) {
            attempt.follow()
        } else {
            attempt.error(format!(
                "Vault redirected to {target}, which {SOPS_HC_VAULT_ALLOWLIST} does not allow"
            ))
        }
    }));
    Ok(b.build().map_err(ClientError::from)?)
}

/// Go's `strconv.ParseBool` truths.
fn is_true(v: &str) -> bool {
    matches!(v, "1" | "t" | "T" | "true" | "TRUE" | "True")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(addr: &str, engine: &str, name: &str) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("vault_address".into(), addr.into());
        m.insert("engine_path".into(), engine.into());
        m.insert("key_name".into(), name.into());
        m.insert("created_at".into(), "".into());
        m.insert("enc".into(), "".into());
        m
    }

    #[test]
    fn urls_follow_the_transit_api() {
        let f = entry("https://vault.example.com:8200/", "sops/nested", "k1");
        let k = TransitKey::from_fields(&f).unwrap();
        assert_eq!(
            k.url("encrypt"),
            "https://vault.example.com:8200/v1/sops/nested/encrypt/k1"
        );
        assert_eq!(
            k.url("decrypt"),
            "https://vault.example.com:8200/v1/sops/nested/decrypt/k1"
        );
        assert_eq!(
            k.uri(),
            "https://vault.example.com:8200/v1/sops/nested/keys/k1"
        );
    }

    #[test]
    fn allowlist_follows_sops() {
        let l = |s: &str| Allowlist::from(Some(s), None).unwrap();
        assert!(l("all").allows("http://anything:1"));
        assert!(!l("none").allows("http://127.0.0.1:8200"));
        let a = l(" http://127.0.0.1:8200 ,https://vault.example.com/");
        assert!(a.allows("http://127.0.0.1:8200"));
        assert!(a.allows("http://127.0.0.1:8200/"));
        assert!(a.allows("https://vault.example.com"));
        assert!(!a.allows("http://127.0.0.1:82000"));
        assert!(!a.allows("http://127.0.0.1:8200.evil.example"));
        assert!(!a.allows("http://127.0.0.1:8200@evil.example"));
        assert!(!a.allows("https://vault.example.com.evil.example"));
        for (bad, n) in [(",", 1), (",a", 1), ("a,", 2), ("a,,b", 2)] {
            assert_eq!(
                Allowlist::from(Some(bad), None).unwrap_err().to_string(),
                format!("SOPS_HC_VAULT_ALLOWLIST's entry {n} is empty")
            );
        }
    }

    #[test]
    fn without_an_allowlist_only_vault_addr_is_allowed() {
        let a = Allowlist::from(None, Some("https://vault.example.com:8200")).unwrap();
        assert!(a.allows("https://vault.example.com:8200"));
        assert!(!a.allows("https://evil.example"));
        assert!(a.why_not().contains("VAULT_ADDR"));
        let a = Allowlist::from(Some(""), None).unwrap();
        assert!(!a.allows("http://127.0.0.1:8200"));
        assert!(a.why_not().contains("unset"));
    }

    #[test]
    fn hostile_entries_are_refused_before_any_request() {
        for (addr, engine, name) in [
            ("http://u:p@127.0.0.1:8200", "transit", "k"),
            ("http://127.0.0.1:8200?x=", "transit", "k"),
            ("http://127.0.0.1:8200#", "transit", "k"),
            ("file:///etc/passwd", "transit", "k"),
            ("127.0.0.1:8200", "transit", "k"),
            ("http://127.0.0.1:8200", "../sys", "k"),
            ("http://127.0.0.1:8200", "transit", "../../sys/policy/x"),
            ("http://127.0.0.1:8200", "transit", "k?x"),
            ("http://127.0.0.1:8200", "transit", "k%2F.."),
            ("http://127.0.0.1:8200", "a/./b", "k"),
        ] {
            let f = entry(addr, engine, name);
            assert!(
                TransitKey::from_fields(&f).is_err(),
                "{addr} {engine} {name}"
            );
        }
    }

    #[test]
    fn missing_fields_are_named() {
        let mut f = entry("http://127.0.0.1:8200", "transit", "k");
        f.remove("key_name");
        let e = TransitKey::from_fields(&f).err().unwrap().to_string();
        assert!(e.contains("key_name"), "{e}");
    }

    #[test]
    fn token_env_first_then_file() {
        let dir = tempfile::tempdir().unwrap();
        assert!(token_from(None, Some(dir.path().into())).unwrap().is_none());
        std::fs::write(dir.path().join(TOKEN_FILE), "  s.file-token\n").unwrap();
        let t = token_from(None, Some(dir.path().into())).unwrap().unwrap();
        assert_eq!(t.as_str(), "s.file-token");
        let t = token_from(Some("s.env".into()), Some(dir.path().into()))
            .unwrap()
            .unwrap();
        assert_eq!(t.as_str(), "s.env");
        assert!(token_from(None, None).unwrap().is_none());
    }

    #[test]
    fn error_bodies() {
        assert_eq!(
            vault_errors(r#"{"errors":["permission denied"]}"#),
            "permission denied"
        );
        assert_eq!(vault_errors(r#"{"errors":["a","b"]}"#), "a; b");
        assert_eq!(vault_errors(""), "(empty answer)");
        assert_eq!(vault_errors("oops"), "oops");
    }
}
