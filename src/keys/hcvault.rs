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
//! The address comes from the key itself (`vault_address`), never from
//! `VAULT_ADDR`, like sops. Without a token the request is still sent (a
//! Vault agent or proxy may add one); if Vault then refuses it, the error
//! says that no token was found.

use std::path::PathBuf;
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

use super::KeyError;
use super::http::chain;

pub const VAULT_TOKEN: &str = "VAULT_TOKEN";
pub const VAULT_NAMESPACE: &str = "VAULT_NAMESPACE";
pub const VAULT_CACERT: &str = "VAULT_CACERT";
pub const VAULT_SKIP_VERIFY: &str = "VAULT_SKIP_VERIFY";
/// The token file in the user's home directory.
pub const TOKEN_FILE: &str = ".vault-token";

/// A transit key, as an `hc_vault` entry names it.
struct TransitKey<'a> {
    address: &'a str,
    engine: &'a str,
    name: &'a str,
}

impl<'a> TransitKey<'a> {
    fn from_fields(fields: &'a Map<String, Value>) -> Result<Self, String> {
        let get = |k: &str| {
            fields
                .get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| format!("the hc_vault entry has no `{k}`"))
        };
        Ok(TransitKey {
            address: get("vault_address")?.trim_end_matches('/'),
            engine: get("engine_path")?.trim_matches('/'),
            name: get("key_name")?,
        })
    }

    /// sops's string form of the key.
    fn uri(&self) -> String {
        format!("{}/v1/{}/keys/{}", self.address, self.engine, self.name)
    }

    fn url(&self, op: &str) -> String {
        format!("{}/v1/{}/{op}/{}", self.address, self.engine, self.name)
    }

    /// Sends one transit request and returns the answer's `data` object.
    async fn call(&self, op: &str, body: Value) -> Result<Map<String, Value>, String> {
        let client = client()?;
        let token = token()?;
        let mut req = client
            .post(self.url(op))
            .header("X-Vault-Request", "true")
            .json(&body);
        if let Some(t) = &token {
            req = req.header("X-Vault-Token", t.as_str());
        }
        if let Some(ns) = non_empty_var(VAULT_NAMESPACE) {
            req = req.header("X-Vault-Namespace", ns);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| format!("could not reach Vault at {}: {}", self.address, chain(&e)))?;
        let status = resp.status();
        let text = resp
            .text()
            .await
            .map_err(|e| format!("reading Vault's answer failed: {}", chain(&e)))?;
        if !status.is_success() {
            let mut msg = format!("Vault answered {status}: {}", vault_errors(&text));
            if token.is_none() && matches!(status.as_u16(), 400 | 401 | 403) {
                msg.push_str(&format!(
                    " (no Vault token was found: set {VAULT_TOKEN} or run `vault login`, which writes ~/{TOKEN_FILE})"
                ));
            }
            return Err(msg);
        }
        let v: Value =
            serde_json::from_str(&text).map_err(|e| format!("Vault's answer is not JSON ({e})"))?;
        match v.get("data") {
            Some(Value::Object(data)) => Ok(data.clone()),
            _ => Err(format!(
                "the transit backend {}/{op}/{} returned no data",
                self.engine, self.name
            )),
        }
    }
}

/// Wraps `secret`, storing the ciphertext in the entry's `enc` field.
pub async fn encrypt(fields: &mut Map<String, Value>, secret: &[u8]) -> Result<(), KeyError> {
    let enc = {
        let key = TransitKey::from_fields(fields).map_err(|msg| KeyError::Encrypt {
            key: "hc_vault key".into(),
            msg,
        })?;
        let fail = |msg: String| KeyError::Encrypt {
            key: format!("Vault transit key {}", key.uri()),
            msg,
        };
        let data = key
            .call("encrypt", json!({ "plaintext": STANDARD.encode(secret) }))
            .await
            .map_err(fail)?;
        match data.get("ciphertext") {
            Some(Value::String(c)) if !c.is_empty() => c.clone(),
            Some(_) => {
                return Err(fail(
                    "the ciphertext in Vault's answer is not a string".into(),
                ));
            }
            None => return Err(fail("Vault's answer has no ciphertext".into())),
        }
    };
    fields.insert("enc".into(), Value::String(enc));
    Ok(())
}

/// Unwraps the entry's `enc` field.
pub async fn decrypt(fields: &Map<String, Value>) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let key = TransitKey::from_fields(fields).map_err(KeyError::Identity)?;
    let fail = |msg: String| {
        KeyError::Identity(format!(
            "transit key {:?} (engine {:?}): {msg}",
            key.name, key.engine
        ))
    };
    let enc = fields
        .get("enc")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| fail("the entry has no encrypted data key (`enc`)".into()))?;
    let data = key
        .call("decrypt", json!({ "ciphertext": enc }))
        .await
        .map_err(fail)?;
    let plaintext = match data.get("plaintext") {
        Some(Value::String(p)) => Zeroizing::new(p.clone()),
        Some(_) => {
            return Err(fail(
                "the plaintext in Vault's answer is not a string".into(),
            ));
        }
        None => return Err(fail("Vault's answer has no plaintext".into())),
    };
    STANDARD
        .decode(plaintext.as_bytes())
        .map(Zeroizing::new)
        .map_err(|_| fail("the plaintext in Vault's answer is not valid base64".into()))
}

fn non_empty_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// `VAULT_TOKEN`, else the trimmed contents of `~/.vault-token` if it exists.
fn token() -> Result<Option<Zeroizing<String>>, String> {
    token_from(non_empty_var(VAULT_TOKEN), home_dir())
}

fn token_from(
    env_token: Option<String>,
    home: Option<PathBuf>,
) -> Result<Option<Zeroizing<String>>, String> {
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
        Err(e) => Err(format!(
            "cannot read the Vault token file {}: {e}",
            path.display()
        )),
    }
}

/// The home directory as go-homedir finds it (`$HOME`, `%USERPROFILE%`).
fn home_dir() -> Option<PathBuf> {
    let var = if cfg!(windows) { "USERPROFILE" } else { "HOME" };
    non_empty_var(var).map(PathBuf::from)
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
/// applied. Connections are not pooled: each runtime sopx starts is short
/// and requests run concurrently anyway.
fn client() -> Result<&'static reqwest::Client, String> {
    static CLIENT: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            let mut b = super::http::builder();
            if let Some(path) = non_empty_var(VAULT_CACERT) {
                let pem = std::fs::read(&path)
                    .map_err(|e| format!("cannot read {VAULT_CACERT}={path}: {e}"))?;
                let certs = reqwest::Certificate::from_pem_bundle(&pem)
                    .map_err(|e| format!("{VAULT_CACERT}={path} is not a PEM bundle: {e}"))?;
                for c in certs {
                    b = b.add_root_certificate(c);
                }
            }
            if non_empty_var(VAULT_SKIP_VERIFY).is_some_and(|v| is_true(&v)) {
                b = b.danger_accept_invalid_certs(true);
            }
            b.build()
                .map_err(|e| format!("could not set up the HTTP client: {}", chain(&e)))
        })
        .as_ref()
        .map_err(Clone::clone)
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
    fn missing_fields_are_named() {
        let mut f = entry("http://127.0.0.1:8200", "transit", "k");
        f.remove("key_name");
        let e = TransitKey::from_fields(&f).err().unwrap();
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
