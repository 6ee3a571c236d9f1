//! The HuaweiCloud KMS client (cargo feature `hckms`): credentials,
//! request signing and the two KMS calls; the entry, its key ID and where
//! requests may go are in the parent module.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::KeyId;
use crate::keys::KeyError;
use crate::keys::env::{Env, home_dir, var};
use crate::keys::http::{ClientError, HttpError, client};
use crate::keys::registry::{self, Fields};

pub const HUAWEICLOUD_SDK_AK: &str = "HUAWEICLOUD_SDK_AK";
pub const HUAWEICLOUD_SDK_SK: &str = "HUAWEICLOUD_SDK_SK";
pub const HUAWEICLOUD_SDK_PROJECT_ID: &str = "HUAWEICLOUD_SDK_PROJECT_ID";
pub const HUAWEICLOUD_SDK_SECURITY_TOKEN: &str = "HUAWEICLOUD_SDK_SECURITY_TOKEN";
pub const HUAWEICLOUD_SDK_CREDENTIALS_FILE: &str = "HUAWEICLOUD_SDK_CREDENTIALS_FILE";
/// An endpoint the user chose for every region (a proxy, a test server).
pub const SOPX_HUAWEICLOUD_KMS_ENDPOINT: &str = "SOPX_HUAWEICLOUD_KMS_ENDPOINT";

/// The service, as messages name it.
const HCKMS: &str = "HuaweiCloud KMS";
const ALGORITHM: &str = "SDK-HMAC-SHA256";
const CONTENT_TYPE: &str = "application/json;charset=UTF-8";

#[derive(Debug, thiserror::Error)]
enum Error {
    #[error(transparent)]
    KeyId(#[from] registry::KeyIdError),
    #[error(
        "refusing to send HuaweiCloud credentials for region {0:?}: a region is lowercase letters and digits joined by '-'"
    )]
    Region(String),
    #[error(
        "refusing to use {SOPX_HUAWEICLOUD_KMS_ENDPOINT}={0:?}: expected https://host[:port] (or http:// to a loopback address), without path, query or user"
    )]
    Endpoint(String),
    #[error("no HuaweiCloud credentials: {0}")]
    Credentials(String),
    /// The request URL could not be made from the endpoint (its base).
    #[error("could not reach {HCKMS} at {0}: {1}")]
    Url(String, #[source] url::ParseError),
    #[error("could not reach {HCKMS} at {0}: {1}")]
    Client(String, #[source] ClientError),
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("HuaweiCloud KMS's answer {0}")]
    Answer(&'static str),
}

/// The base URL requests for `key` go to: the official endpoint of its
/// checked region, or the user's.
fn endpoint(key: &KeyId, chosen: Option<&str>) -> Result<String, Error> {
    if let Some(e) = chosen {
        return check_endpoint(e);
    }
    let word = |w: &str| {
        !w.is_empty()
            && w.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    if key.region.len() > 32 || !key.region.split('-').all(word) {
        return Err(Error::Region(key.region.to_string()));
    }
    Ok(format!("https://kms.{}.myhuaweicloud.com", key.region))
}

/// The user's endpoint, as `scheme://host[:port]`.
fn check_endpoint(e: &str) -> Result<String, Error> {
    let bad = || Error::Endpoint(e.to_string());
    let url = url::Url::parse(e.trim()).map_err(|_| bad())?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        None => return Err(bad()),
    };
    let plain = url.username().is_empty()
        && url.password().is_none()
        && url.query().is_none()
        && url.fragment().is_none()
        && matches!(url.path(), "" | "/");
    match url.scheme() {
        "https" if plain => Ok(url.origin().ascii_serialization()),
        "http" if plain && loopback => Ok(url.origin().ascii_serialization()),
        _ => Err(bad()),
    }
}

/// An access key pair; never printed.
struct Credentials {
    ak: String,
    sk: Zeroizing<String>,
    project: String,
    token: Option<Zeroizing<String>>,
}

impl Credentials {
    /// From the environment, else the credentials file.
    fn load(env: &dyn Env) -> Result<Self, Error> {
        let mut found: Vec<(String, Zeroizing<String>)> = Vec::new();
        if let (Some(ak), Some(sk)) = (var(env, HUAWEICLOUD_SDK_AK), var(env, HUAWEICLOUD_SDK_SK)) {
            found.push(("ak".into(), Zeroizing::new(ak)));
            found.push(("sk".into(), Zeroizing::new(sk)));
            for (k, v) in [
                ("project_id", HUAWEICLOUD_SDK_PROJECT_ID),
                ("security_token", HUAWEICLOUD_SDK_SECURITY_TOKEN),
            ] {
                found.extend(var(env, v).map(|x| (k.to_string(), Zeroizing::new(x))));
            }
        } else {
            found = profile(env)?;
        }
        let take = |k: &str| {
            found
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| Zeroizing::new(v.trim().to_string()))
        };
        let (Some(ak), Some(sk)) = (take("ak"), take("sk")) else {
            return Err(Error::Credentials(format!(
                "set {HUAWEICLOUD_SDK_AK} and {HUAWEICLOUD_SDK_SK}, or ak and sk in the [basic] section of ~/.huaweicloud/credentials"
            )));
        };
        let project = take("project_id").ok_or_else(|| {
            Error::Credentials(format!(
                "set {HUAWEICLOUD_SDK_PROJECT_ID} to the project of the key's region (sopx does not look it up)"
            ))
        })?;
        // The project ID is part of the request path.
        if !project
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(Error::Credentials(
                "the project ID may only hold letters, digits and '-'".into(),
            ));
        }
        Ok(Credentials {
            ak: ak.to_string(),
            sk,
            project: project.to_string(),
            token: take("security_token").filter(|t| !t.is_empty()),
        })
    }
}

/// The `[basic]` section of the SDK's credentials file, if there is one.
fn profile(env: &dyn Env) -> Result<Vec<(String, Zeroizing<String>)>, Error> {
    let path = match var(env, HUAWEICLOUD_SDK_CREDENTIALS_FILE) {
        Some(p) => std::path::PathBuf::from(p),
        None => match home_dir(env) {
            Some(home) => home.join(".huaweicloud/credentials"),
            None => return Ok(Vec::new()),
        },
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => Zeroizing::new(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(Error::Credentials(format!(
                "could not read {}: {e}",
                path.display()
            )));
        }
    };
    let mut section = "";
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim();
        } else if section.eq_ignore_ascii_case("basic")
            && let Some((k, v)) = line.split_once('=')
        {
            out.push((
                k.trim().to_ascii_lowercase(),
                Zeroizing::new(v.trim().to_string()),
            ));
        }
    }
    Ok(out)
}

fn hex_sha256(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The `SDK-HMAC-SHA256` signature of a request, all of whose `headers`
/// (lowercase names, sorted) are signed.
fn signature(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(&str, String)],
    body: &[u8],
    date: &str,
    sk: &[u8],
) -> String {
    let names: Vec<&str> = headers.iter().map(|(n, _)| *n).collect();
    let canonical_headers: String = headers
        .iter()
        .map(|(n, v)| format!("{n}:{}\n", v.trim()))
        .collect();
    // The signer always ends the path with '/'.
    let path = format!("{}/", path.trim_end_matches('/'));
    let request = format!(
        "{method}\n{path}\n{query}\n{canonical_headers}\n{}\n{}",
        names.join(";"),
        hex_sha256(body)
    );
    let to_sign = format!("{ALGORITHM}\n{date}\n{}", hex_sha256(request.as_bytes()));
    let mut mac = Hmac::<Sha256>::new_from_slice(sk).expect("HMAC takes any key length");
    mac.update(to_sign.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The signed headers (sorted by name) and the `Authorization` value for
/// a POST of `body` to `url`.
fn sign(
    url: &url::Url,
    body: &[u8],
    creds: &Credentials,
    date: &str,
) -> (Vec<(&'static str, String)>, String) {
    let host = match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or("")),
        None => url.host_str().unwrap_or("").to_string(),
    };
    let mut headers = vec![
        ("content-type", CONTENT_TYPE.to_string()),
        ("host", host),
        ("x-project-id", creds.project.clone()),
        ("x-sdk-date", date.to_string()),
    ];
    if let Some(t) = &creds.token {
        headers.push(("x-security-token", t.to_string()));
    }
    let sig = signature(
        "POST",
        url.path(),
        "",
        &headers,
        body,
        date,
        creds.sk.as_bytes(),
    );
    let names: Vec<&str> = headers.iter().map(|(n, _)| *n).collect();
    let auth = format!(
        "{ALGORITHM} Access={}, SignedHeaders={}, Signature={sig}",
        creds.ak,
        names.join(";")
    );
    (headers, auth)
}

/// One KMS call for `key`; the answer's JSON object. The endpoint is
/// checked before the credentials are read.
async fn call(
    env: &dyn Env,
    key: &KeyId<'_>,
    op: &str,
    body: Value,
) -> Result<Map<String, Value>, Error> {
    let base = endpoint(key, var(env, SOPX_HUAWEICLOUD_KMS_ENDPOINT).as_deref())?;
    let creds = Credentials::load(env)?;
    let url = url::Url::parse(&format!("{base}/v1.0/{}/kms/{op}", creds.project))
        .map_err(|e| Error::Url(base.clone(), e))?;
    let body = Zeroizing::new(body.to_string().into_bytes());
    let date = time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .expect("a fixed format");
    let (headers, auth) = sign(&url, &body, &creds, &date);
    let mut req = client()
        .map_err(|e| Error::Client(base.clone(), e))?
        .post(url.as_str())
        .header("Authorization", auth)
        .body(body.to_vec());
    for (name, value) in headers.into_iter().filter(|(n, _)| *n != "host") {
        req = req.header(name, value);
    }
    let resp = req
        .send()
        .await
        .map_err(|e| HttpError::send(HCKMS, &base, &e))?;
    let status = resp.status();
    let text = resp
        .text()
        .await
        .map_err(|e| HttpError::read(HCKMS, &e))?;
    if !status.is_success() {
        return Err(HttpError::status(HCKMS, status, kms_error(&text)).into());
    }
    match serde_json::from_str(&text) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(Error::Answer("is not a JSON object")),
    }
}

/// `: code: message` from an error body (`{"error": {"error_code",
/// "error_msg"}}` or the same fields at the top), else the body's start.
fn kms_error(body: &str) -> String {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let e = v.get("error").unwrap_or(&v);
    let f = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("");
    match (f("error_code"), f("error_msg")) {
        ("", "") if body.trim().is_empty() => String::new(),
        ("", "") => format!(": {}", body.trim().chars().take(200).collect::<String>()),
        (code, "") => format!(": {code}"),
        ("", msg) => format!(": {msg}"),
        (code, msg) => format!(": {code}: {msg}"),
    }
}

/// Wraps `secret`, storing KMS's ciphertext in the entry's `enc` field.
pub(super) async fn encrypt(
    env: &dyn Env,
    fields: &mut Fields,
    secret: &[u8],
) -> Result<(), KeyError> {
    let id = registry::str_field(fields, "key_id").to_string();
    let fail = |e: Error| KeyError::Encrypt {
        key: format!("hckms key {id}"),
        msg: e.to_string(),
    };
    let key = KeyId::parse(&id).map_err(|e| fail(e.into()))?;
    let plain = Zeroizing::new(STANDARD.encode(secret));
    let body = json!({
        "key_id": key.uuid,
        "plain_text": plain.as_str(),
        "encryption_algorithm": "SYMMETRIC_DEFAULT",
    });
    let answer = call(env, &key, "encrypt-data", body).await.map_err(fail)?;
    let enc = answer
        .get("cipher_text")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| fail(Error::Answer("has no cipher_text")))?
        .to_string();
    fields.insert("enc".into(), Value::String(enc));
    Ok(())
}

/// Unwraps the entry's `enc` field.
pub(super) async fn decrypt(
    env: &dyn Env,
    fields: &Fields,
) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let fail = |e: Error| KeyError::Identity(e.to_string());
    let key = KeyId::parse(registry::str_field(fields, "key_id")).map_err(|e| fail(e.into()))?;
    let enc = registry::str_field(fields, "enc");
    if enc.is_empty() {
        return Err(KeyError::Identity(
            "the entry has no encrypted data key (enc is empty)".into(),
        ));
    }
    let body = json!({
        "cipher_text": enc,
        "encryption_algorithm": "SYMMETRIC_DEFAULT",
        "key_id": key.uuid,
    });
    let answer = call(env, &key, "decrypt-data", body).await.map_err(fail)?;
    let plain = answer
        .get("plain_text")
        .and_then(Value::as_str)
        .map(|s| Zeroizing::new(s.to_string()))
        .ok_or_else(|| fail(Error::Answer("has no plain_text")))?;
    STANDARD
        .decode(plain.as_bytes())
        .map(Zeroizing::new)
        .map_err(|_| fail(Error::Answer("has a plain_text that is not base64")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        let k = KeyId::parse("tr-west-1:u").unwrap();
        assert_eq!(
            endpoint(&k, None).unwrap(),
            "https://kms.tr-west-1.myhuaweicloud.com"
        );
        for region in ["evil.com#", "a.b", "x/", "A-1", "-a", "a--b", "a@b", ""] {
            let k = KeyId { region, uuid: "u" };
            assert!(endpoint(&k, None).is_err(), "{region:?}");
        }
        // The user's endpoint serves every region, but is itself checked.
        let k = KeyId::parse("eu-west-101:u").unwrap();
        assert_eq!(
            endpoint(&k, Some("http://127.0.0.1:8080/")).unwrap(),
            "http://127.0.0.1:8080"
        );
        for bad in [
            "http://example.com",
            "https://u:p@kms.example.com",
            "https://kms.example.com/x",
            "https://kms.example.com?q",
            "ftp://127.0.0.1",
        ] {
            assert!(endpoint(&k, Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn signature_matches_the_sdk_test_vector() {
        // The Go SDK signer's own test: GET /path?limit=1 with its date only.
        let headers = [("x-sdk-date", "20060102T150405Z".to_string())];
        let sig = signature(
            "GET",
            "/path",
            "limit=1",
            &headers,
            b"",
            "20060102T150405Z",
            b"SecretKey",
        );
        assert_eq!(
            sig,
            "5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624"
        );
        let creds = Credentials {
            ak: "AK".into(),
            sk: Zeroizing::new("SK".into()),
            project: "p1".into(),
            token: None,
        };
        let url = url::Url::parse("http://127.0.0.1:9/v1.0/p1/kms/encrypt-data").unwrap();
        let (headers, auth) = sign(&url, b"{}", &creds, "20240101T000000Z");
        assert_eq!(headers[1], ("host", "127.0.0.1:9".to_string()));
        assert!(
            auth.starts_with(
                "SDK-HMAC-SHA256 Access=AK, SignedHeaders=content-type;host;x-project-id;x-sdk-date, Signature="
            ),
            "{auth}"
        );
    }

    #[test]
    fn error_bodies() {
        assert_eq!(
            kms_error(r#"{"error":{"error_code":"KMS.0205","error_msg":"no key"}}"#),
            ": KMS.0205: no key"
        );
        assert_eq!(
            kms_error(r#"{"error_code":"APIGW.0301","error_msg":"bad sig"}"#),
            ": APIGW.0301: bad sig"
        );
        assert_eq!(kms_error(""), "");
        assert_eq!(kms_error("oops"), ": oops");
    }
}
