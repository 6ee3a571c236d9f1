//! Loopback stand-ins for GCP KMS, Azure Key Vault (with the Microsoft
//! identity platform's token endpoint and the managed identity endpoint) and
//! Vault's transit engine.
//!
//! Each follows its provider's documented REST API: paths, methods, auth
//! headers, request and answer JSON, and error bodies. The cryptography is a
//! stand-in (AES-256-GCM under a key derived from the key's name, also for
//! Azure's RSA keys), so a ciphertext only opens with the key that made it.
//! Servers listen on 127.0.0.1 only, one thread per connection, and stop
//! when dropped.
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aes_gcm::aead::Aead;
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

// ---------------------------------------------------------------------------
// a minimal HTTP/1.1 server

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The raw path, without the query string.
    pub path: String,
    pub query: Vec<(String, String)>,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// An `application/x-www-form-urlencoded` body.
    pub fn form(&self) -> HashMap<String, String> {
        parse_pairs(&String::from_utf8_lossy(&self.body))
            .into_iter()
            .collect()
    }

    pub fn bearer(&self) -> Option<&str> {
        self.header("authorization")?.strip_prefix("Bearer ")
    }
}

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(status: u16, v: Value) -> Response {
        Response {
            status,
            headers: vec![(
                "Content-Type".into(),
                "application/json; charset=utf-8".into(),
            )],
            body: serde_json::to_vec(&v).unwrap(),
        }
    }

    pub fn with_header(mut self, k: &str, v: &str) -> Response {
        self.headers.push((k.into(), v.into()));
        self
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        _ => "Other",
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz");
                match u8::from_str_radix(hex, 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_pairs(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

type Handler = dyn Fn(&Request) -> Response + Send + Sync;

/// A loopback HTTP server; every request is logged.
pub struct Server {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    pub log: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    pub fn start(handler: impl Fn(&Request) -> Response + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding a loopback port");
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let (stop2, log2) = (stop.clone(), log.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (handler, log) = (handler.clone(), log2.clone());
                std::thread::spawn(move || serve(conn, &*handler, &log));
            }
        });
        Server { addr, stop, log }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
    }
}

/// A loopback port that only counts the connections made to it (TLS or
/// not): for checking that nothing at all was sent to an address.
pub struct Tripwire {
    pub addr: SocketAddr,
    pub hits: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Tripwire {
    pub fn start() -> Tripwire {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding a loopback port");
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (hits2, stop2) = (hits.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                if conn.is_ok() {
                    hits2.fetch_add(1, Ordering::SeqCst);
                }
            }
        });
        Tripwire { addr, hits, stop }
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for Tripwire {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
    }
}

fn serve(conn: TcpStream, handler: &Handler, log: &Mutex<Vec<Request>>) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("").to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 {
            return;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let req = Request {
        method,
        path: path.to_string(),
        query: parse_pairs(query),
        headers,
        body,
    };
    log.lock().unwrap().push(req.clone());
    let resp = handler(&req);
    let mut out = format!(
        "HTTP/1.1 {} {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        resp.status,
        reason(resp.status),
        resp.body.len()
    );
    for (k, v) in &resp.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let mut conn = conn;
    let _ = conn.write_all(out.as_bytes());
    let _ = conn.write_all(&resp.body);
    let _ = conn.flush();
}

// ---------------------------------------------------------------------------
// stand-in cryptography

fn cipher(label: &str) -> Aes256Gcm {
    let key = Sha256::digest(format!("sopx remote key test: {label}").as_bytes());
    Aes256Gcm::new_from_slice(&key).unwrap()
}

pub fn seal(label: &str, plaintext: &[u8]) -> Vec<u8> {
    let nonce: [u8; 12] = rand::random();
    let mut out = nonce.to_vec();
    out.extend(
        cipher(label)
            .encrypt(Nonce::from_slice(&nonce), plaintext)
            .unwrap(),
    );
    out
}

pub fn open(label: &str, data: &[u8]) -> Option<Vec<u8>> {
    if data.len() < 12 {
        return None;
    }
    cipher(label)
        .decrypt(Nonce::from_slice(&data[..12]), &data[12..])
        .ok()
}

/// What a fake provider should do besides answering normally.
#[derive(Default)]
pub struct Faults {
    /// Keys (by name / resource ID) the caller may not use.
    pub denied: HashSet<String>,
    /// Answer every key operation with HTTP 500.
    pub fail: bool,
}

// ---------------------------------------------------------------------------
// Vault transit

pub const VAULT_TOKEN: &str = "s.sopx-test-token";

/// Vault with transit engines mounted at `mounts`, each holding `keys`.
pub struct FakeVault {
    pub mounts: Vec<String>,
    pub keys: Vec<String>,
    pub namespace: Option<String>,
    pub faults: Mutex<Faults>,
}

fn vault_errors(status: u16, errors: &[&str]) -> Response {
    Response::json(status, json!({ "errors": errors }))
}

fn vault_ok(data: Value) -> Response {
    Response::json(
        200,
        json!({
            "request_id": "5c3b4b9c-0000-4000-8000-000000000000",
            "lease_id": "",
            "renewable": false,
            "lease_duration": 0,
            "data": data,
            "wrap_info": null,
            "warnings": null,
            "auth": null
        }),
    )
}

impl FakeVault {
    pub fn new(mounts: &[&str], keys: &[&str]) -> Arc<FakeVault> {
        Arc::new(FakeVault {
            mounts: mounts.iter().map(|s| s.to_string()).collect(),
            keys: keys.iter().map(|s| s.to_string()).collect(),
            namespace: None,
            faults: Mutex::default(),
        })
    }

    pub fn start(self: &Arc<Self>) -> Server {
        let me = self.clone();
        Server::start(move |r| me.handle(r))
    }

    fn handle(&self, r: &Request) -> Response {
        // Vault takes PUT and POST alike for writes.
        if r.method != "POST" && r.method != "PUT" {
            return vault_errors(405, &["unsupported operation"]);
        }
        if r.header("x-vault-token") != Some(VAULT_TOKEN) {
            return vault_errors(403, &["permission denied"]);
        }
        if let Some(ns) = &self.namespace
            && r.header("x-vault-namespace") != Some(ns.as_str())
        {
            return vault_errors(403, &["permission denied"]);
        }
        let Some(rest) = r.path.strip_prefix("/v1/") else {
            return vault_errors(404, &[]);
        };
        // {mount}/{op}/{name}, the mount possibly nested.
        let segs: Vec<&str> = rest.split('/').collect();
        if segs.len() < 3 {
            return vault_errors(404, &[]);
        }
        let name = segs[segs.len() - 1];
        let op = segs[segs.len() - 2];
        let mount = segs[..segs.len() - 2].join("/");
        if !self.mounts.contains(&mount) || !matches!(op, "encrypt" | "decrypt") {
            return vault_errors(
                404,
                &[&format!(
                    "no handler for route \"{rest}\". route entry not found."
                )],
            );
        }
        let faults = self.faults.lock().unwrap();
        if faults.denied.contains(name) {
            return vault_errors(403, &["permission denied"]);
        }
        if faults.fail {
            return vault_errors(500, &["internal error"]);
        }
        drop(faults);
        let Some(body) = r.json() else {
            return vault_errors(400, &["failed to parse JSON input"]);
        };
        let label = format!("vault {mount} {name}");
        match op {
            "encrypt" => {
                let Some(pt) = body
                    .get("plaintext")
                    .and_then(Value::as_str)
                    .and_then(|p| STANDARD.decode(p).ok())
                else {
                    return vault_errors(400, &["failed to decode plaintext as base64"]);
                };
                if !self.keys.iter().any(|k| k == name) {
                    // Policies here do not allow creating keys by upsert.
                    return vault_errors(403, &["permission denied"]);
                }
                let ct = format!("vault:v1:{}", STANDARD.encode(seal(&label, &pt)));
                vault_ok(json!({ "ciphertext": ct, "key_version": 1 }))
            }
            _ => {
                if !self.keys.iter().any(|k| k == name) {
                    return vault_errors(400, &["encryption key not found"]);
                }
                let Some(ct) = body.get("ciphertext").and_then(Value::as_str) else {
                    return vault_errors(400, &["missing ciphertext to decrypt"]);
                };
                let Some(raw) = ct
                    .strip_prefix("vault:v1:")
                    .and_then(|b| STANDARD.decode(b).ok())
                else {
                    return vault_errors(400, &["invalid ciphertext: no prefix"]);
                };
                match open(&label, &raw) {
                    Some(pt) => vault_ok(json!({ "plaintext": STANDARD.encode(pt) })),
                    None => vault_errors(400, &["cipher: message authentication failed"]),
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// GCP KMS (and Google's OAuth 2.0 token endpoint)

pub const GCP_TOKEN: &str = "ya29.sopx-test-token";
/// The token the fake token endpoint hands out.
pub const GCP_ISSUED_TOKEN: &str = "ya29.sopx-issued-token";
pub const GCP_REFRESH_TOKEN: &str = "1//sopx-refresh-token";

/// Cloud KMS holding the crypto keys `keys` (full resource IDs).
pub struct FakeGcp {
    pub keys: Vec<String>,
    pub faults: Mutex<Faults>,
    /// Service account emails the token endpoint accepts JWTs from.
    pub service_accounts: Vec<String>,
    pub token_requests: AtomicUsize,
}

fn google_error(code: u16, status: &str, message: &str) -> Response {
    Response::json(
        code,
        json!({ "error": { "code": code, "message": message, "status": status } }),
    )
}

impl FakeGcp {
    pub fn new(keys: &[&str]) -> Arc<FakeGcp> {
        Arc::new(FakeGcp {
            keys: keys.iter().map(|s| s.to_string()).collect(),
            faults: Mutex::default(),
            service_accounts: vec!["sopx-test@sopx-test.iam.gserviceaccount.com".into()],
            token_requests: AtomicUsize::new(0),
        })
    }

    pub fn start(self: &Arc<Self>) -> Server {
        let me = self.clone();
        Server::start(move |r| me.handle(r))
    }

    fn handle(&self, r: &Request) -> Response {
        if r.path == "/token" {
            return self.token(r);
        }
        if r.method != "POST" {
            return google_error(405, "METHOD_NOT_ALLOWED", "method not allowed");
        }
        let Some(rest) = r.path.strip_prefix("/v1/") else {
            return google_error(404, "NOT_FOUND", "not found");
        };
        let Some((id, op)) = rest.rsplit_once(':') else {
            return google_error(404, "NOT_FOUND", "not found");
        };
        if !matches!(op, "encrypt" | "decrypt") {
            return google_error(404, "NOT_FOUND", "not found");
        }
        if !matches!(r.bearer(), Some(GCP_TOKEN) | Some(GCP_ISSUED_TOKEN)) {
            return google_error(
                401,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
            );
        }
        let faults = self.faults.lock().unwrap();
        if faults.denied.contains(id) {
            let perm = if op == "encrypt" {
                "useToEncrypt"
            } else {
                "useToDecrypt"
            };
            return google_error(
                403,
                "PERMISSION_DENIED",
                &format!(
                    "Permission 'cloudkms.cryptoKeyVersions.{perm}' denied on resource '{id}' (or it may not exist)."
                ),
            );
        }
        if faults.fail {
            return google_error(500, "INTERNAL", "Internal error encountered.");
        }
        drop(faults);
        if !self.keys.iter().any(|k| k == id) {
            return google_error(404, "NOT_FOUND", &format!("CryptoKey {id} not found."));
        }
        let Some(body) = r.json() else {
            return google_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
        };
        let label = format!("gcp {id}");
        match op {
            "encrypt" => {
                let Some(pt) = body
                    .get("plaintext")
                    .and_then(Value::as_str)
                    .and_then(|p| STANDARD.decode(p).ok())
                else {
                    return google_error(
                        400,
                        "INVALID_ARGUMENT",
                        "Invalid value at 'plaintext' (TYPE_BYTES), Base64 decoding failed",
                    );
                };
                Response::json(
                    200,
                    json!({
                        "name": format!("{id}/cryptoKeyVersions/1"),
                        "ciphertext": STANDARD.encode(seal(&label, &pt)),
                        "verifiedPlaintextCrc32c": false,
                        "verifiedAdditionalAuthenticatedDataCrc32c": false,
                        "protectionLevel": "SOFTWARE"
                    }),
                )
            }
            _ => {
                let Some(ct) = body
                    .get("ciphertext")
                    .and_then(Value::as_str)
                    .and_then(|c| STANDARD.decode(c).ok())
                else {
                    return google_error(
                        400,
                        "INVALID_ARGUMENT",
                        "Invalid value at 'ciphertext' (TYPE_BYTES), Base64 decoding failed",
                    );
                };
                match open(&label, &ct) {
                    Some(pt) => Response::json(
                        200,
                        json!({
                            "plaintext": STANDARD.encode(pt),
                            "usedPrimary": true,
                            "protectionLevel": "SOFTWARE"
                        }),
                    ),
                    None => google_error(
                        400,
                        "INVALID_ARGUMENT",
                        "Decryption failed: the ciphertext is invalid.",
                    ),
                }
            }
        }
    }

    /// Google's OAuth 2.0 token endpoint: the JWT bearer grant of service
    /// accounts and the refresh token grant of authorized users.
    fn token(&self, r: &Request) -> Response {
        self.token_requests.fetch_add(1, Ordering::SeqCst);
        let form = r.form();
        let bad = |code: &str, desc: &str| {
            Response::json(400, json!({ "error": code, "error_description": desc }))
        };
        match form.get("grant_type").map(String::as_str) {
            Some("urn:ietf:params:oauth:grant-type:jwt-bearer") => {
                let Some(jwt) = form.get("assertion") else {
                    return bad("invalid_request", "Missing required parameter: assertion");
                };
                let parts: Vec<&str> = jwt.split('.').collect();
                let claims: Option<Value> = (parts.len() == 3)
                    .then(|| URL_SAFE_NO_PAD.decode(parts[1]).ok())
                    .flatten()
                    .and_then(|b| serde_json::from_slice(&b).ok());
                let Some(claims) = claims else {
                    return bad("invalid_grant", "Invalid JWT.");
                };
                let iss = claims.get("iss").and_then(Value::as_str).unwrap_or("");
                let scope = claims.get("scope").and_then(Value::as_str).unwrap_or("");
                if !self.service_accounts.iter().any(|s| s == iss) {
                    return bad("invalid_grant", "Invalid JWT Signature.");
                }
                if !scope.contains("https://www.googleapis.com/auth/cloud") {
                    return bad("invalid_scope", "Invalid OAuth scope.");
                }
            }
            Some("refresh_token") => {
                if form.get("refresh_token").map(String::as_str) != Some(GCP_REFRESH_TOKEN) {
                    return bad("invalid_grant", "Bad Request");
                }
            }
            _ => return bad("unsupported_grant_type", "Invalid grant_type"),
        }
        Response::json(
            200,
            json!({ "access_token": GCP_ISSUED_TOKEN, "expires_in": 3599, "token_type": "Bearer" }),
        )
    }
}

// ---------------------------------------------------------------------------
// Azure Key Vault, the identity platform and IMDS

pub const AZ_TENANT: &str = "72f988bf-0000-4000-8000-000000000000";
pub const AZ_CLIENT_ID: &str = "0b7c3a9e-0000-4000-8000-000000000001";
pub const AZ_CLIENT_SECRET: &str = "sopx~test~secret";
pub const AZ_TOKEN: &str = "eyJ0eXAiOiJKV1QifQ.sopx-test-token.sig";
/// The latest version of every key.
pub const AZ_VERSION: &str = "0123456789abcdef0123456789abcdef";

/// A key vault holding `keys` (each with the single version [`AZ_VERSION`]),
/// served at the server's own URL, plus the token endpoint
/// (`/{tenant}/oauth2/v2.0/token`) and IMDS (no identity assigned).
pub struct FakeAzure {
    pub keys: Vec<String>,
    pub faults: Mutex<Faults>,
    /// Filled in once the server runs: the vault URL used in `kid`s.
    pub url: Mutex<String>,
    /// The resource its authentication challenge names.
    pub challenge_resource: Mutex<String>,
}

fn kv_error(status: u16, code: &str, message: &str) -> Response {
    Response::json(
        status,
        json!({ "error": { "code": code, "message": message } }),
    )
}

impl FakeAzure {
    pub fn new(keys: &[&str]) -> Arc<FakeAzure> {
        Arc::new(FakeAzure {
            keys: keys.iter().map(|s| s.to_string()).collect(),
            faults: Mutex::default(),
            url: Mutex::new(String::new()),
            challenge_resource: Mutex::new("https://vault.azure.net".into()),
        })
    }

    pub fn start(self: &Arc<Self>) -> Server {
        let me = self.clone();
        let s = Server::start(move |r| me.handle(r));
        *self.url.lock().unwrap() = s.url();
        s
    }

    fn handle(&self, r: &Request) -> Response {
        if r.path == format!("/{AZ_TENANT}/oauth2/v2.0/token") {
            return token(r);
        }
        if r.path.ends_with("/oauth2/v2.0/token") {
            return Response::json(
                400,
                json!({
                    "error": "invalid_request",
                    "error_description": "AADSTS90002: Tenant not found.",
                    "error_codes": [90002]
                }),
            );
        }
        if r.path == "/metadata/identity/oauth2/token" {
            if r.header("metadata") != Some("true") {
                return Response::json(
                    400,
                    json!({ "error": "invalid_request", "error_description": "Required metadata header not specified" }),
                );
            }
            return Response::json(
                400,
                json!({ "error": "invalid_request", "error_description": "Identity not found" }),
            );
        }
        // /keys/{name}/{version}/{op}, version possibly empty (latest).
        let segs: Vec<&str> = r.path.trim_start_matches('/').split('/').collect();
        let ["keys", name, version, op] = segs[..] else {
            return kv_error(404, "NotFound", "The requested resource was not found.");
        };
        if r.method != "POST" || !matches!(op, "encrypt" | "decrypt") {
            return kv_error(405, "BadParameter", "Method not allowed.");
        }
        if r.query_param("api-version").is_none() {
            return kv_error(
                400,
                "BadParameter",
                "The request URI contains an invalid or missing api-version.",
            );
        }
        if r.bearer() != Some(AZ_TOKEN) {
            return kv_error(401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.")
                .with_header(
                    "WWW-Authenticate",
                    &format!(
                        "Bearer authorization=\"https://login.microsoftonline.com/{AZ_TENANT}\", resource=\"{}\"",
                        self.challenge_resource.lock().unwrap()
                    ),
                );
        }
        let faults = self.faults.lock().unwrap();
        if faults.denied.contains(name) {
            return Response::json(
                403,
                json!({ "error": {
                    "code": "Forbidden",
                    "message": format!("Operation {op} is not permitted on this key. Caller: appid={AZ_CLIENT_ID};Vault: sopx-test;location=westeurope"),
                    "innererror": { "code": "ForbiddenByPolicy" }
                } }),
            );
        }
        if faults.fail {
            return kv_error(500, "InternalServerError", "An unexpected error occurred.");
        }
        drop(faults);
        let version = if version.is_empty() {
            AZ_VERSION
        } else {
            version
        };
        if !self.keys.iter().any(|k| k == name) || version != AZ_VERSION {
            return kv_error(
                404,
                "KeyNotFound",
                &format!(
                    "A key with (name/id) {name} was not found in this key vault. If you recently deleted this key you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"
                ),
            );
        }
        let Some(body) = r.json() else {
            return kv_error(400, "BadParameter", "Request body is not JSON.");
        };
        if body.get("alg").and_then(Value::as_str) != Some("RSA-OAEP-256") {
            return kv_error(400, "BadParameter", "Invalid algorithm.");
        }
        let Some(value) = body
            .get("value")
            .and_then(Value::as_str)
            .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
        else {
            return kv_error(400, "BadParameter", "Property value is not base64url.");
        };
        let kid = format!("{}/keys/{name}/{version}", self.url.lock().unwrap());
        let label = format!("azure {name} {version}");
        let out = if op == "encrypt" {
            seal(&label, &value)
        } else {
            match open(&label, &value) {
                Some(pt) => pt,
                None => return kv_error(400, "BadParameter", "The parameter is incorrect.\r\n"),
            }
        };
        Response::json(
            200,
            json!({ "kid": kid, "value": URL_SAFE_NO_PAD.encode(out) }),
        )
    }
}

/// The identity platform's v2 token endpoint, client credentials grant.
fn token(r: &Request) -> Response {
    let f = r.form();
    let err = |status: u16, code: &str, desc: &str| {
        Response::json(
            status,
            json!({
                "error": code,
                "error_description": format!("{desc}\r\nTrace ID: 00000000-0000-0000-0000-000000000000\r\nTimestamp: 2025-01-01 00:00:00Z"),
                "error_codes": [7000215],
                "trace_id": "00000000-0000-0000-0000-000000000000",
                "correlation_id": "00000000-0000-0000-0000-000000000000"
            }),
        )
    };
    if r.method != "POST" || f.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return err(
            400,
            "unsupported_grant_type",
            "AADSTS70003: The app requested an unsupported grant type.",
        );
    }
    if f.get("client_id").map(String::as_str) != Some(AZ_CLIENT_ID) {
        return err(
            400,
            "unauthorized_client",
            &format!(
                "AADSTS700016: Application with identifier '{}' was not found in the directory.",
                f.get("client_id").map(String::as_str).unwrap_or("")
            ),
        );
    }
    if f.get("client_secret").map(String::as_str) != Some(AZ_CLIENT_SECRET) {
        return err(
            401,
            "invalid_client",
            "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '0b7c3a9e-0000-4000-8000-000000000001'.",
        );
    }
    if f.get("scope").map(String::as_str) != Some("https://vault.azure.net/.default") {
        return err(
            400,
            "invalid_scope",
            "AADSTS1002012: The provided value for scope is not valid.",
        );
    }
    Response::json(
        200,
        json!({ "token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": AZ_TOKEN }),
    )
}
