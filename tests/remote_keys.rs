//! GCP KMS, Azure Key Vault and Vault transit master keys, end to end through
//! the CLI, against loopback servers that follow each provider's REST API
//! (`tests/remote_keys/server.rs`). Vault is also checked against the real
//! sops 3.11 in both directions (sops's Vault client talks plain HTTP to any
//! address; its GCP client is gRPC-only and its Azure client insists on
//! HTTPS with a challenge from a real tenant, so those two cannot be pointed
//! at a loopback server).

mod common;
#[path = "remote_keys/server.rs"]
mod server;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use common::{Run, Sandbox, run};
use serde_yaml_ng::Value as Yaml;
use server::*;

/// Indented as sops writes YAML, so that decrypting with either tool gives
/// these bytes back.
const PLAIN: &str = "secret: hunter2\nlist:\n    - 1\n    - two\nnested:\n    deeper: value\n";

const GCP_KEY: &str = "projects/sopx-test/locations/global/keyRings/ring/cryptoKeys/key1";
const GCP_KEY2: &str = "projects/sopx-test/locations/europe-west1/keyRings/ring/cryptoKeys/key2";

/// The `sops` block's entries of `kind` (`hc_vault`, `gcp_kms`, `azure_kv`).
fn entries(yaml: &str, kind: &str) -> Vec<serde_yaml_ng::Mapping> {
    let doc: Yaml = serde_yaml_ng::from_str(yaml).expect("encrypted output is YAML");
    doc.get("sops")
        .and_then(|s| s.get(kind))
        .and_then(Yaml::as_sequence)
        .unwrap_or_else(|| panic!("no sops.{kind} in:\n{yaml}"))
        .iter()
        .map(|e| e.as_mapping().expect("a key entry is a mapping").clone())
        .collect()
}

fn keys_of(m: &serde_yaml_ng::Mapping) -> Vec<String> {
    m.keys().map(|k| k.as_str().unwrap().to_string()).collect()
}

fn field<'a>(m: &'a serde_yaml_ng::Mapping, k: &str) -> &'a str {
    m.get(k)
        .and_then(Yaml::as_str)
        .unwrap_or_else(|| panic!("no string field {k} in {m:?}"))
}

/// `YYYY-MM-DDTHH:MM:SSZ`, as sops writes `created_at`.
fn assert_rfc3339_utc(s: &str) {
    let b = s.as_bytes();
    let ok = b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        });
    assert!(ok, "created_at {s:?} is not RFC 3339 UTC");
}

fn write_plain(sb: &Sandbox) -> PathBuf {
    sb.write("secrets.yaml", PLAIN)
}

fn encrypt(cmd: &mut Command, flag: &str, key: &str, file: &Path) -> Run {
    run(cmd.arg("encrypt").arg(flag).arg(key).arg(file))
}

fn decrypt(cmd: &mut Command, file: &Path) -> Run {
    run(cmd.arg("decrypt").arg(file))
}

/// Encrypts `PLAIN` into `work/enc.yaml`; returns its text.
fn encrypt_ok(sb: &Sandbox, cmd: &mut Command, flag: &str, key: &str) -> String {
    let plain = write_plain(sb);
    let r = encrypt(cmd, flag, key, &plain);
    r.assert_ok("encrypt");
    let text = r.stdout_str();
    sb.write("enc.yaml", &text);
    text
}

fn assert_decrypts(r: &Run) {
    r.assert_ok("decrypt");
    assert_eq!(r.stdout_str(), PLAIN, "decrypted output");
}

fn assert_fails(r: &Run, code: i32, needles: &[&str]) {
    r.assert_code(code, "expected failure");
    for n in needles {
        assert!(
            r.stderr.contains(n),
            "stderr should mention {n:?}:\n{}",
            r.stderr
        );
    }
}

// ---------------------------------------------------------------------------
// Vault transit

fn vault_uri(s: &Server, mount: &str, key: &str) -> String {
    format!("{}/v1/{mount}/keys/{key}", s.url())
}

/// The token, and the server as the user's `VAULT_ADDR` (the one Vault
/// sopx sends a token to when `SOPS_HC_VAULT_ALLOWLIST` is unset).
fn vault_cmd(sb: &Sandbox, srv: &Server, program: &Path) -> Command {
    let mut c = sb.cmd(program);
    c.env("VAULT_TOKEN", VAULT_TOKEN)
        .env("VAULT_ADDR", srv.url());
    c
}

/// `sopx` with the server as `VAULT_ADDR`, and no token.
fn vault_sopx(sb: &Sandbox, srv: &Server) -> Command {
    let mut c = sb.sopx();
    c.env("VAULT_ADDR", srv.url());
    c
}

#[test]
fn vault_round_trip_and_entry_fields() {
    let vault = FakeVault::new(&["transit", "sops/nested"], &["k1", "k2"]);
    let srv = vault.start();
    let sb = Sandbox::new();
    let text = encrypt_ok(
        &sb,
        &mut vault_cmd(&sb, &srv, &common::sopx_bin()),
        "--hc-vault-transit",
        &vault_uri(&srv, "sops/nested", "k2"),
    );
    let e = entries(&text, "hc_vault");
    assert_eq!(e.len(), 1);
    assert_eq!(
        keys_of(&e[0]),
        [
            "vault_address",
            "engine_path",
            "key_name",
            "created_at",
            "enc"
        ]
    );
    assert_eq!(field(&e[0], "vault_address"), srv.url());
    assert_eq!(field(&e[0], "engine_path"), "sops/nested");
    assert_eq!(field(&e[0], "key_name"), "k2");
    assert_rfc3339_utc(field(&e[0], "created_at"));
    assert!(field(&e[0], "enc").starts_with("vault:v1:"), "{e:?}");

    let r = decrypt(
        &mut vault_cmd(&sb, &srv, &common::sopx_bin()),
        &sb.work().join("enc.yaml"),
    );
    assert_decrypts(&r);

    // The requests were the documented ones.
    let reqs = srv.requests();
    assert_eq!(reqs.len(), 2, "one encrypt, one decrypt");
    assert_eq!(reqs[0].method, "POST");
    assert_eq!(reqs[0].path, "/v1/sops/nested/encrypt/k2");
    assert_eq!(reqs[1].path, "/v1/sops/nested/decrypt/k2");
    for r in &reqs {
        assert_eq!(r.header("x-vault-token"), Some(VAULT_TOKEN));
        assert!(
            r.header("content-type")
                .is_some_and(|c| c.starts_with("application/json"))
        );
    }
    let body = reqs[1].json().unwrap();
    assert_eq!(body["ciphertext"].as_str(), Some(field(&e[0], "enc")));
}

#[test]
fn vault_token_from_home_file_and_namespace() {
    let vault = Arc::new(FakeVault {
        mounts: vec!["transit".into()],
        keys: vec!["k1".into()],
        namespace: Some("team-a".into()),
        faults: Default::default(),
    });
    let srv = vault.start();
    let sb = Sandbox::new();
    std::fs::write(sb.home().join(".vault-token"), format!("{VAULT_TOKEN}\n")).unwrap();
    let uri = vault_uri(&srv, "transit", "k1");
    // Without the namespace, Vault refuses.
    let r = encrypt(
        &mut vault_sopx(&sb, &srv),
        "--hc-vault-transit",
        &uri,
        &write_plain(&sb),
    );
    assert_fails(&r, 1, &["permission denied", "403"]);
    let mut c = vault_sopx(&sb, &srv);
    c.env("VAULT_NAMESPACE", "team-a");
    encrypt_ok(&sb, &mut c, "--hc-vault-transit", &uri);
    let mut c = vault_sopx(&sb, &srv);
    c.env("VAULT_NAMESPACE", "team-a");
    assert_decrypts(&decrypt(&mut c, &sb.work().join("enc.yaml")));
    // VAULT_TOKEN wins over the file.
    let mut c = vault_sopx(&sb, &srv);
    c.env("VAULT_NAMESPACE", "team-a")
        .env("VAULT_TOKEN", "s.wrong");
    let r = decrypt(&mut c, &sb.work().join("enc.yaml"));
    assert_fails(&r, 128, &["permission denied"]);
}

#[test]
fn vault_denied_missing_key_and_server_error() {
    let vault = FakeVault::new(&["transit"], &["k1"]);
    let srv = vault.start();
    let sb = Sandbox::new();
    let uri = vault_uri(&srv, "transit", "k1");
    encrypt_ok(
        &sb,
        &mut vault_cmd(&sb, &srv, &common::sopx_bin()),
        "--hc-vault-transit",
        &uri,
    );
    let enc = sb.work().join("enc.yaml");

    // Permission denied on decrypt: exit 128, the key named.
    vault.faults.lock().unwrap().denied.insert("k1".into());
    let r = decrypt(&mut vault_cmd(&sb, &srv, &common::sopx_bin()), &enc);
    assert_fails(&r, 128, &["k1", &srv.url(), "403", "permission denied"]);
    vault.faults.lock().unwrap().denied.clear();

    // A key Vault does not have: encryption is refused.
    let r = encrypt(
        &mut vault_cmd(&sb, &srv, &common::sopx_bin()),
        "--hc-vault-transit",
        &vault_uri(&srv, "transit", "nope"),
        &write_plain(&sb),
    );
    assert_fails(&r, 1, &["nope", "permission denied"]);
    // An engine that is not mounted.
    let r = encrypt(
        &mut vault_cmd(&sb, &srv, &common::sopx_bin()),
        "--hc-vault-transit",
        &vault_uri(&srv, "other", "k1"),
        &write_plain(&sb),
    );
    assert_fails(&r, 1, &["404", "no handler for route"]);

    // Server errors.
    vault.faults.lock().unwrap().fail = true;
    let r = decrypt(&mut vault_cmd(&sb, &srv, &common::sopx_bin()), &enc);
    assert_fails(&r, 128, &["k1", "500", "internal error"]);
    let r = encrypt(
        &mut vault_cmd(&sb, &srv, &common::sopx_bin()),
        "--hc-vault-transit",
        &uri,
        &write_plain(&sb),
    );
    assert_fails(&r, 1, &["transit/keys/k1", "500", "internal error"]);
}

#[test]
fn vault_wrong_key_and_missing_token() {
    let vault = FakeVault::new(&["transit"], &["k1", "k2"]);
    let srv = vault.start();
    let sb = Sandbox::new();
    let text = encrypt_ok(
        &sb,
        &mut vault_cmd(&sb, &srv, &common::sopx_bin()),
        "--hc-vault-transit",
        &vault_uri(&srv, "transit", "k1"),
    );
    // The entry claims key k2: Vault cannot open k1's ciphertext with it.
    sb.write("enc.yaml", text.replace("key_name: k1", "key_name: k2"));
    let r = decrypt(
        &mut vault_cmd(&sb, &srv, &common::sopx_bin()),
        &sb.work().join("enc.yaml"),
    );
    assert_fails(&r, 128, &["k2", "400", "message authentication failed"]);

    // No token anywhere.
    let r = decrypt(&mut vault_sopx(&sb, &srv), &sb.work().join("enc.yaml"));
    assert_fails(&r, 128, &["no Vault token", "VAULT_TOKEN", ".vault-token"]);
    let r = encrypt(
        &mut vault_sopx(&sb, &srv),
        "--hc-vault-transit",
        &vault_uri(&srv, "transit", "k1"),
        &write_plain(&sb),
    );
    assert_fails(&r, 1, &["no Vault token", "VAULT_TOKEN"]);
}

#[test]
fn vault_unreachable_names_the_address() {
    // A port nothing listens on (bound, then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let sb = Sandbox::new();
    let mut c = sb.sopx();
    c.env("VAULT_TOKEN", VAULT_TOKEN).env(
        "SOPS_HC_VAULT_ALLOWLIST",
        format!("http://127.0.0.1:{port}"),
    );
    let r = encrypt(
        &mut c,
        "--hc-vault-transit",
        &format!("http://127.0.0.1:{port}/v1/transit/keys/k1"),
        &write_plain(&sb),
    );
    assert_fails(
        &r,
        1,
        &[&format!("127.0.0.1:{port}"), "could not reach Vault"],
    );
}

/// The `vault_address` of a file is not trusted: without
/// `SOPS_HC_VAULT_ALLOWLIST` only `VAULT_ADDR` gets requests (and the
/// token); with it, only the addresses it lists.
#[test]
fn vault_hostile_address_gets_no_token() {
    let vault = FakeVault::new(&["transit"], &["k1"]);
    let srv = vault.start();
    // The attacker's server answers like Vault and logs what it gets.
    let evil = FakeVault::new(&["transit"], &["k1"]);
    let evil_srv = evil.start();
    let sb = Sandbox::new();
    let text = encrypt_ok(
        &sb,
        &mut vault_cmd(&sb, &srv, &common::sopx_bin()),
        "--hc-vault-transit",
        &vault_uri(&srv, "transit", "k1"),
    );
    let hostile = sb.write(
        "hostile.yaml",
        text.replace(
            &format!("vault_address: {}", srv.url()),
            &format!("vault_address: {}", evil_srv.url()),
        ),
    );
    let no_token_reached_it = |what: &str| {
        let seen = evil_srv.requests();
        assert!(
            seen.iter().all(|r| r.header("x-vault-token").is_none()),
            "{what}: the token reached the attacker: {seen:?}"
        );
        assert!(seen.is_empty(), "{what}: the attacker was contacted");
    };

    // VAULT_ADDR is the user's Vault: the file's address is refused.
    let r = decrypt(&mut vault_cmd(&sb, &srv, &common::sopx_bin()), &hostile);
    assert_fails(
        &r,
        128,
        &["refusing to contact Vault", &evil_srv.url(), "VAULT_ADDR"],
    );
    no_token_reached_it("VAULT_ADDR only");
    // Nothing set at all: nothing is contacted.
    let mut c = sb.sopx();
    c.env("VAULT_TOKEN", VAULT_TOKEN);
    let r = decrypt(&mut c, &hostile);
    assert_fails(&r, 128, &["refusing", "SOPS_HC_VAULT_ALLOWLIST"]);
    no_token_reached_it("nothing set");
    // An allowlist naming the user's Vault, and prefix tricks.
    for list in [
        srv.url(),
        "none".to_string(),
        format!("{},http://127.0.0.1:1", srv.url()),
    ] {
        let mut c = vault_cmd(&sb, &srv, &common::sopx_bin());
        c.env("SOPS_HC_VAULT_ALLOWLIST", &list);
        let r = decrypt(&mut c, &hostile);
        assert_fails(&r, 128, &["refusing", "SOPS_HC_VAULT_ALLOWLIST"]);
        no_token_reached_it(&list);
    }
    // Paths that would turn the call into another API call.
    for (from, to) in [
        ("engine_path: transit", "engine_path: ../sys/policies/acl"),
        ("key_name: k1", "key_name: ../../../sys/seal"),
    ] {
        let f = sb.write("paths.yaml", text.replace(from, to));
        let before = srv.requests().len();
        let r = decrypt(&mut vault_cmd(&sb, &srv, &common::sopx_bin()), &f);
        assert_fails(&r, 128, &["not a plain"]);
        assert_eq!(srv.requests().len(), before, "{to}: nothing was sent");
    }
    // The user's own Vault still works.
    let r = decrypt(
        &mut vault_cmd(&sb, &srv, &common::sopx_bin()),
        &sb.work().join("enc.yaml"),
    );
    assert_decrypts(&r);
}

#[test]
fn vault_interop_with_real_sops() {
    let Some(sops) = common::require_sops() else {
        return;
    };
    let vault = FakeVault::new(&["transit"], &["k1"]);
    let srv = vault.start();
    let sb = Sandbox::new();
    let uri = vault_uri(&srv, "transit", "k1");
    let plain = write_plain(&sb);

    // sops encrypts, sopx decrypts.
    let r = run(vault_cmd(&sb, &srv, &sops)
        .arg("encrypt")
        .arg("--hc-vault-transit")
        .arg(&uri)
        .arg(&plain));
    r.assert_ok("sops encrypt");
    let by_sops = r.stdout_str();
    sb.write("by-sops.yaml", &by_sops);
    let r = decrypt(
        &mut vault_cmd(&sb, &srv, &common::sopx_bin()),
        &sb.work().join("by-sops.yaml"),
    );
    assert_decrypts(&r);

    // sopx encrypts, sops decrypts.
    let by_sopx = encrypt_ok(
        &sb,
        &mut vault_cmd(&sb, &srv, &common::sopx_bin()),
        "--hc-vault-transit",
        &uri,
    );
    let r = run(vault_cmd(&sb, &srv, &sops)
        .arg("decrypt")
        .arg(sb.work().join("enc.yaml")));
    r.assert_ok("sops decrypt");
    assert_eq!(r.stdout_str(), PLAIN);

    // Both write the entry alike.
    let (a, b) = (
        &entries(&by_sops, "hc_vault")[0],
        &entries(&by_sopx, "hc_vault")[0],
    );
    assert_eq!(keys_of(a), keys_of(b), "field order of the hc_vault entry");
    for k in ["vault_address", "engine_path", "key_name"] {
        assert_eq!(field(a, k), field(b, k), "{k}");
    }
    assert!(field(a, "enc").starts_with("vault:v1:"));
    // sops's Go client writes with PUT, sopx with POST: Vault takes both.
    let methods: Vec<String> = srv.requests().iter().map(|r| r.method.clone()).collect();
    assert!(methods.contains(&"PUT".to_string()) && methods.contains(&"POST".to_string()));
}

// ---------------------------------------------------------------------------
// GCP KMS

fn gcp_cmd(sb: &Sandbox, srv: &Server) -> Command {
    let mut c = sb.sopx();
    c.env("SOPS_GCP_KMS_ENDPOINT", srv.url())
        .env("GOOGLE_OAUTH_ACCESS_TOKEN", GCP_TOKEN);
    c
}

#[test]
fn gcp_round_trip_and_entry_fields() {
    let gcp = FakeGcp::new(&[GCP_KEY, GCP_KEY2]);
    let srv = gcp.start();
    let sb = Sandbox::new();
    let text = encrypt_ok(
        &sb,
        &mut gcp_cmd(&sb, &srv),
        "--gcp-kms",
        &format!("{GCP_KEY},{GCP_KEY2}"),
    );
    let e = entries(&text, "gcp_kms");
    assert_eq!(e.len(), 2);
    for (entry, id) in e.iter().zip([GCP_KEY, GCP_KEY2]) {
        assert_eq!(keys_of(entry), ["resource_id", "created_at", "enc"]);
        assert_eq!(field(entry, "resource_id"), id);
        assert_rfc3339_utc(field(entry, "created_at"));
        use base64::Engine as _;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(field(entry, "enc"))
            .expect("enc is standard base64");
        // 12-byte nonce + 32-byte data key + 16-byte tag.
        assert_eq!(raw.len(), 60);
    }
    assert_decrypts(&decrypt(
        &mut gcp_cmd(&sb, &srv),
        &sb.work().join("enc.yaml"),
    ));

    let reqs = srv.requests();
    assert_eq!(reqs[0].method, "POST");
    let paths: Vec<&str> = reqs.iter().map(|r| r.path.as_str()).collect();
    assert!(
        paths.contains(&format!("/v1/{GCP_KEY}:encrypt").as_str()),
        "{paths:?}"
    );
    assert!(
        paths.contains(&format!("/v1/{GCP_KEY2}:encrypt").as_str()),
        "{paths:?}"
    );
    for r in &reqs {
        assert_eq!(r.bearer(), Some(GCP_TOKEN));
    }
    // One key is enough to decrypt: either one was asked.
    assert!(paths.iter().any(|p| p.ends_with(":decrypt")), "{paths:?}");
}

/// A service account key file in `sb` whose token_uri is the loopback
/// server at `url`.
fn gcp_service_account(sb: &Sandbox, url: &str) -> PathBuf {
    let sa = std::fs::read_to_string(
        common::manifest_dir().join("tests/remote_keys/gcp-service-account.json"),
    )
    .unwrap()
    .replace("TOKEN_URI", &format!("{url}/token"));
    sb.write("sa.json", &sa)
}

#[test]
fn gcp_service_account_and_user_credentials() {
    let gcp = FakeGcp::new(&[GCP_KEY]);
    let srv = gcp.start();
    let sb = Sandbox::new();
    // A service account key whose token_uri is the loopback server: gcp_auth
    // signs a JWT and trades it for an access token.
    let sa_path = gcp_service_account(&sb, &srv.url());
    let mut c = sb.sopx();
    c.env("SOPS_GCP_KMS_ENDPOINT", srv.url())
        .env("GOOGLE_CREDENTIALS", &sa_path);
    encrypt_ok(&sb, &mut c, "--gcp-kms", GCP_KEY);
    assert!(gcp.token_requests.load(std::sync::atomic::Ordering::SeqCst) >= 1);
    let kms: Vec<_> = srv
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/v1/"))
        .collect();
    assert_eq!(kms[0].bearer(), Some(GCP_ISSUED_TOKEN));

    // The same JSON inline, through GOOGLE_APPLICATION_CREDENTIALS's sibling.
    let sa = std::fs::read_to_string(&sa_path).unwrap();
    let mut c = sb.sopx();
    c.env("SOPS_GCP_KMS_ENDPOINT", srv.url())
        .env("GOOGLE_CREDENTIALS", &sa);
    assert_decrypts(&decrypt(&mut c, &sb.work().join("enc.yaml")));

    // An authorized_user file (gcloud auth application-default login).
    let user = serde_json::json!({
        "type": "authorized_user",
        "client_id": "764086051850-test.apps.googleusercontent.com",
        "client_secret": "d-FL95Q19q7MQmFpd7hHD0Ty",
        "refresh_token": GCP_REFRESH_TOKEN,
        "token_uri": format!("{}/token", srv.url()),
    });
    let user_path = sb.write("adc.json", user.to_string());
    let mut c = sb.sopx();
    c.env("SOPS_GCP_KMS_ENDPOINT", srv.url())
        .env("GOOGLE_APPLICATION_CREDENTIALS", &user_path);
    assert_decrypts(&decrypt(&mut c, &sb.work().join("enc.yaml")));

    // GOOGLE_CREDENTIALS comes before GOOGLE_OAUTH_ACCESS_TOKEN, as in sops.
    let mut c = sb.sopx();
    c.env("SOPS_GCP_KMS_ENDPOINT", srv.url())
        .env("GOOGLE_CREDENTIALS", "{not json")
        .env("GOOGLE_OAUTH_ACCESS_TOKEN", GCP_TOKEN);
    let r = decrypt(&mut c, &sb.work().join("enc.yaml"));
    assert_fails(&r, 128, &["GOOGLE_CREDENTIALS"]);
}

#[test]
fn gcp_denied_not_found_wrong_key_and_server_error() {
    let gcp = FakeGcp::new(&[GCP_KEY, GCP_KEY2]);
    let srv = gcp.start();
    let sb = Sandbox::new();
    let text = encrypt_ok(&sb, &mut gcp_cmd(&sb, &srv), "--gcp-kms", GCP_KEY);
    let enc = sb.work().join("enc.yaml");

    gcp.faults.lock().unwrap().denied.insert(GCP_KEY.into());
    let r = decrypt(&mut gcp_cmd(&sb, &srv), &enc);
    assert_fails(
        &r,
        128,
        &[GCP_KEY, "403", "PERMISSION_DENIED", "useToDecrypt"],
    );
    gcp.faults.lock().unwrap().denied.clear();

    // A key KMS does not have.
    let missing = "projects/sopx-test/locations/global/keyRings/ring/cryptoKeys/gone";
    sb.write("gone.yaml", text.replace(GCP_KEY, missing));
    let r = decrypt(&mut gcp_cmd(&sb, &srv), &sb.work().join("gone.yaml"));
    assert_fails(&r, 128, &[missing, "404", "NOT_FOUND", "not found"]);
    let r = encrypt(
        &mut gcp_cmd(&sb, &srv),
        "--gcp-kms",
        missing,
        &write_plain(&sb),
    );
    assert_fails(&r, 1, &[missing, "404"]);

    // Another key cannot open the ciphertext.
    sb.write("wrong.yaml", text.replace(GCP_KEY, GCP_KEY2));
    let r = decrypt(&mut gcp_cmd(&sb, &srv), &sb.work().join("wrong.yaml"));
    assert_fails(
        &r,
        128,
        &[GCP_KEY2, "INVALID_ARGUMENT", "Decryption failed"],
    );

    // A malformed resource ID is refused before any request, like sops.
    let before = srv.requests().len();
    let r = encrypt(
        &mut gcp_cmd(&sb, &srv),
        "--gcp-kms",
        "projects/p/keyRings/r",
        &write_plain(&sb),
    );
    assert_fails(&r, 1, &["no valid resource ID"]);
    assert_eq!(srv.requests().len(), before);

    gcp.faults.lock().unwrap().fail = true;
    let r = decrypt(&mut gcp_cmd(&sb, &srv), &enc);
    assert_fails(&r, 128, &[GCP_KEY, "500", "INTERNAL"]);
    let r = encrypt(
        &mut gcp_cmd(&sb, &srv),
        "--gcp-kms",
        GCP_KEY,
        &write_plain(&sb),
    );
    assert_fails(&r, 1, &[GCP_KEY, "500"]);
}

/// A resource ID from a file cannot change the request's host, path, query
/// or action: such IDs are refused before any credential is sent.
#[test]
fn gcp_hostile_resource_id_gets_no_request() {
    let gcp = FakeGcp::new(&[GCP_KEY]);
    let srv = gcp.start();
    let sb = Sandbox::new();
    let text = encrypt_ok(&sb, &mut gcp_cmd(&sb, &srv), "--gcp-kms", GCP_KEY);
    let before = srv.requests().len();
    for hostile in [
        format!("{GCP_KEY}?alt=json"),
        format!("{GCP_KEY}#"),
        format!("{GCP_KEY}:decrypt"),
        "projects/x@127.0.0.2/locations/global/keyRings/ring/cryptoKeys/key1".to_string(),
        "projects/../locations/../keyRings/ring/cryptoKeys/key1".to_string(),
        "projects/sopx-test/locations/global/keyRings/%2E%2E/cryptoKeys/key1".to_string(),
    ] {
        let f = sb.write(
            "hostile.yaml",
            text.replace(
                &format!("resource_id: {GCP_KEY}"),
                &format!("resource_id: \"{hostile}\""),
            ),
        );
        let r = decrypt(&mut gcp_cmd(&sb, &srv), &f);
        assert_fails(&r, 128, &["no valid resource ID"]);
        let reqs = srv.requests();
        assert!(
            reqs[before..].iter().all(|r| r.bearer().is_none()),
            "{hostile}: a token was sent: {:?}",
            &reqs[before..]
        );
        assert_eq!(reqs.len(), before, "{hostile}: a request was sent");
    }
}

#[test]
fn gcp_bad_or_missing_credentials() {
    let gcp = FakeGcp::new(&[GCP_KEY]);
    let srv = gcp.start();
    let sb = Sandbox::new();
    encrypt_ok(&sb, &mut gcp_cmd(&sb, &srv), "--gcp-kms", GCP_KEY);
    let enc = sb.work().join("enc.yaml");

    // A token KMS does not accept.
    let mut c = sb.sopx();
    c.env("SOPS_GCP_KMS_ENDPOINT", srv.url())
        .env("GOOGLE_OAUTH_ACCESS_TOKEN", "ya29.expired");
    let r = decrypt(&mut c, &enc);
    assert_fails(&r, 128, &[GCP_KEY, "401", "UNAUTHENTICATED"]);

    // No credentials at all (HOME is empty, gcloud is not installed, and
    // there is no metadata server here).
    let before = srv.requests().len();
    let mut c = sb.sopx();
    c.env("SOPS_GCP_KMS_ENDPOINT", srv.url());
    let r = decrypt(&mut c, &enc);
    assert_fails(
        &r,
        128,
        &[
            GCP_KEY,
            "no Google credentials found",
            "GOOGLE_OAUTH_ACCESS_TOKEN",
        ],
    );
    assert_eq!(
        srv.requests().len(),
        before,
        "nothing was sent without credentials"
    );
}

// ---------------------------------------------------------------------------
// Azure Key Vault

fn az_cmd(sb: &Sandbox, srv: &Server) -> Command {
    let mut c = sb.sopx();
    c.env("AZURE_TENANT_ID", AZ_TENANT)
        .env("AZURE_CLIENT_ID", AZ_CLIENT_ID)
        .env("AZURE_CLIENT_SECRET", AZ_CLIENT_SECRET)
        .env("AZURE_AUTHORITY_HOST", srv.url())
        // Never the real IMDS address, should the chain get that far.
        .env("AZURE_POD_IDENTITY_AUTHORITY_HOST", srv.url())
        // The loopback stand-in is not a Key Vault domain: the user allows it.
        .env("SOPX_AZURE_KV_ALLOWED_HOSTS", srv.url());
    c
}

#[test]
fn azure_round_trip_and_entry_fields() {
    let az = FakeAzure::new(&["key1"]);
    let srv = az.start();
    let sb = Sandbox::new();
    let url = format!("{}/keys/key1/{AZ_VERSION}", srv.url());
    let text = encrypt_ok(&sb, &mut az_cmd(&sb, &srv), "--azure-kv", &url);
    let e = entries(&text, "azure_kv");
    assert_eq!(e.len(), 1);
    assert_eq!(
        keys_of(&e[0]),
        ["vault_url", "name", "version", "created_at", "enc"]
    );
    assert_eq!(field(&e[0], "vault_url"), srv.url());
    assert_eq!(field(&e[0], "name"), "key1");
    assert_eq!(field(&e[0], "version"), AZ_VERSION);
    assert_rfc3339_utc(field(&e[0], "created_at"));
    let enc = field(&e[0], "enc");
    assert!(
        enc.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "enc is unpadded base64url: {enc}"
    );
    assert_decrypts(&decrypt(
        &mut az_cmd(&sb, &srv),
        &sb.work().join("enc.yaml"),
    ));

    let reqs = srv.requests();
    let token = format!("/{AZ_TENANT}/oauth2/v2.0/token");
    // Each process first asks without a token, for the vault's challenge.
    let (kv, challenges): (Vec<_>, Vec<_>) = reqs
        .iter()
        .filter(|r| r.path != token)
        .partition(|r| r.bearer().is_some());
    assert_eq!(challenges.len(), 2, "one challenge per process");
    assert!(challenges.iter().all(|r| r.body.is_empty()));
    assert_eq!(kv.len(), 2);
    assert_eq!(kv[0].method, "POST");
    assert_eq!(kv[0].path, format!("/keys/key1/{AZ_VERSION}/encrypt"));
    assert_eq!(kv[1].path, format!("/keys/key1/{AZ_VERSION}/decrypt"));
    for r in &kv {
        assert_eq!(r.query_param("api-version"), Some("7.4"));
        assert_eq!(r.bearer(), Some(AZ_TOKEN));
        assert_eq!(r.json().unwrap()["alg"], "RSA-OAEP-256");
    }
    assert_eq!(kv[1].json().unwrap()["value"].as_str(), Some(enc));
    // One token per process.
    assert_eq!(reqs.iter().filter(|r| r.path == token).count(), 2);
}

#[test]
fn azure_latest_version_is_recorded() {
    let az = FakeAzure::new(&["key1"]);
    let srv = az.start();
    let sb = Sandbox::new();
    let url = format!("{}/keys/key1", srv.url());
    let text = encrypt_ok(&sb, &mut az_cmd(&sb, &srv), "--azure-kv", &url);
    let e = entries(&text, "azure_kv");
    assert_eq!(
        field(&e[0], "version"),
        AZ_VERSION,
        "the version used is written"
    );
    let encrypt_req = srv
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/encrypt"))
        .unwrap();
    assert_eq!(
        encrypt_req.path, "/keys/key1//encrypt",
        "empty version: the latest"
    );
    assert_decrypts(&decrypt(
        &mut az_cmd(&sb, &srv),
        &sb.work().join("enc.yaml"),
    ));

    // An entry without a version (older sops) decrypts with the latest.
    sb.write(
        "nover.yaml",
        text.replace(&format!("version: {AZ_VERSION}"), "version: \"\""),
    );
    assert_decrypts(&decrypt(
        &mut az_cmd(&sb, &srv),
        &sb.work().join("nover.yaml"),
    ));
}

#[test]
fn azure_denied_not_found_and_server_error() {
    let az = FakeAzure::new(&["key1", "key2"]);
    let srv = az.start();
    let sb = Sandbox::new();
    let url = format!("{}/keys/key1/{AZ_VERSION}", srv.url());
    let text = encrypt_ok(&sb, &mut az_cmd(&sb, &srv), "--azure-kv", &url);
    let enc = sb.work().join("enc.yaml");

    az.faults.lock().unwrap().denied.insert("key1".into());
    let r = decrypt(&mut az_cmd(&sb, &srv), &enc);
    assert_fails(&r, 128, &["key1", &srv.url(), "403", "Forbidden"]);
    az.faults.lock().unwrap().denied.clear();

    sb.write("gone.yaml", text.replace("name: key1", "name: gone"));
    let r = decrypt(&mut az_cmd(&sb, &srv), &sb.work().join("gone.yaml"));
    assert_fails(&r, 128, &["gone", "404", "KeyNotFound"]);
    let r = encrypt(
        &mut az_cmd(&sb, &srv),
        "--azure-kv",
        &format!("{}/keys/gone", srv.url()),
        &write_plain(&sb),
    );
    assert_fails(&r, 1, &["keys/gone", "404", "KeyNotFound"]);

    // Another key cannot open the ciphertext.
    sb.write("wrong.yaml", text.replace("name: key1", "name: key2"));
    let r = decrypt(&mut az_cmd(&sb, &srv), &sb.work().join("wrong.yaml"));
    assert_fails(&r, 128, &["key2", "400", "BadParameter"]);

    az.faults.lock().unwrap().fail = true;
    let r = decrypt(&mut az_cmd(&sb, &srv), &enc);
    assert_fails(&r, 128, &["key1", "500", "InternalServerError"]);
    let r = encrypt(
        &mut az_cmd(&sb, &srv),
        "--azure-kv",
        &url,
        &write_plain(&sb),
    );
    assert_fails(&r, 1, &["keys/key1", "500"]);
}

#[test]
fn azure_bad_or_missing_credentials() {
    let az = FakeAzure::new(&["key1"]);
    let srv = az.start();
    let sb = Sandbox::new();
    let url = format!("{}/keys/key1/{AZ_VERSION}", srv.url());
    encrypt_ok(&sb, &mut az_cmd(&sb, &srv), "--azure-kv", &url);
    let enc = sb.work().join("enc.yaml");

    // A wrong client secret: the identity platform's error is shown.
    let mut c = az_cmd(&sb, &srv);
    c.env("AZURE_CLIENT_SECRET", "wrong");
    let r = decrypt(&mut c, &enc);
    assert_fails(&r, 128, &["key1", "invalid_client", "AADSTS7000215"]);

    // No credentials: the chain ends at managed identity (loopback IMDS
    // stand-in, no identity) and the Azure CLI (not installed here).
    let mut c = sb.sopx();
    c.env("AZURE_POD_IDENTITY_AUTHORITY_HOST", srv.url())
        .env("SOPX_AZURE_KV_ALLOWED_HOSTS", srv.url())
        .env("PATH", sb.root());
    let r = decrypt(&mut c, &enc);
    assert_fails(
        &r,
        128,
        &[
            "key1",
            "no Azure credentials found",
            "AZURE_CLIENT_SECRET",
            "Identity not found",
            "az",
        ],
    );
    let r = encrypt(
        sb.sopx()
            .env("AZURE_POD_IDENTITY_AUTHORITY_HOST", srv.url())
            .env("SOPX_AZURE_KV_ALLOWED_HOSTS", srv.url())
            .env("PATH", sb.root()),
        "--azure-kv",
        &url,
        &write_plain(&sb),
    );
    assert_fails(&r, 1, &["no Azure credentials found"]);
}

#[test]
fn azure_urls_need_https_except_on_loopback() {
    let sb = Sandbox::new();
    let r = encrypt(
        &mut sb.sopx(),
        "--azure-kv",
        "http://myvault.vault.azure.net/keys/k/v",
        &write_plain(&sb),
    );
    assert!(!r.ok(), "plain http to a remote vault is refused");
    assert!(r.stderr.contains("could not parse"), "{}", r.stderr);
}

/// The `vault_url` of a file is not trusted: a vault outside the Key Vault
/// domains, and not allowed by the user, gets no request, and no token is
/// even fetched for it.
#[test]
fn azure_hostile_vault_url_gets_no_token() {
    let az = FakeAzure::new(&["key1"]);
    let srv = az.start();
    // The attacker's server answers like a vault, and logs what it gets.
    let evil = FakeAzure::new(&["key1"]);
    let evil_srv = evil.start();
    let sb = Sandbox::new();
    let url = format!("{}/keys/key1/{AZ_VERSION}", srv.url());
    let text = encrypt_ok(&sb, &mut az_cmd(&sb, &srv), "--azure-kv", &url);
    let token_path = format!("/{AZ_TENANT}/oauth2/v2.0/token");
    let tokens = || {
        srv.requests()
            .iter()
            .filter(|r| r.path == token_path)
            .count()
    };
    for hostile in [
        evil_srv.url(),
        "https://attacker.example".to_string(),
        "http://attacker.example".to_string(),
        "https://myvault.vault.azure.net.attacker.example".to_string(),
        format!("{}/#", srv.url()),
    ] {
        let f = sb.write(
            "hostile.yaml",
            text.replace(
                &format!("vault_url: {}", srv.url()),
                &format!("vault_url: {hostile}"),
            ),
        );
        let before = tokens();
        let r = decrypt(&mut az_cmd(&sb, &srv), &f);
        assert_fails(&r, 128, &["refusing to send Azure credentials"]);
        assert_eq!(tokens(), before, "{hostile}: no token was fetched");
        assert!(
            !r.stderr.contains(AZ_TOKEN) && !r.stderr.contains(AZ_CLIENT_SECRET),
            "{}",
            r.stderr
        );
    }
    let seen = evil_srv.requests();
    assert!(
        seen.iter().all(|r| r.header("authorization").is_none()),
        "a token reached the attacker: {seen:?}"
    );
    assert!(seen.is_empty(), "the attacker was contacted: {seen:?}");
}

/// A vault whose challenge names another resource (a token for Azure
/// Resource Manager, say) gets no token.
#[test]
fn azure_challenge_for_another_resource_is_refused() {
    let az = FakeAzure::new(&["key1"]);
    *az.challenge_resource.lock().unwrap() = "https://management.azure.com".into();
    let srv = az.start();
    let sb = Sandbox::new();
    let r = encrypt(
        &mut az_cmd(&sb, &srv),
        "--azure-kv",
        &format!("{}/keys/key1/{AZ_VERSION}", srv.url()),
        &write_plain(&sb),
    );
    assert_fails(&r, 1, &["refusing", "management.azure.com"]);
    let reqs = srv.requests();
    assert!(reqs.iter().all(|r| !r.path.ends_with("/token")), "{reqs:?}");
    assert!(reqs.iter().all(|r| r.header("authorization").is_none()));
}

// ---------------------------------------------------------------------------
// AWS KMS (the rest is in tests/kms.rs, against moto)

/// A key ARN from a file picks the region, and so the host: one whose
/// region or partition could name another host is refused before any
/// credential is even loaded, and nothing connects anywhere.
#[test]
fn aws_hostile_arn_loads_no_credentials() {
    let wire = Tripwire::start();
    let sb = Sandbox::new();
    let marker = sb.root().join("credentials-were-loaded");
    std::fs::create_dir_all(sb.home().join(".aws")).unwrap();
    std::fs::write(
        sb.home().join(".aws/config"),
        format!(
            "[default]\nregion = us-east-1\ncredential_process = sh -c 'touch {} && echo {{\\\"Version\\\": 1, \\\"AccessKeyId\\\": \\\"AKIAEXAMPLE\\\", \\\"SecretAccessKey\\\": \\\"s\\\", \\\"SessionToken\\\": \\\"sess\\\"}}'\n",
            marker.display()
        ),
    )
    .unwrap();
    let port = wire.addr.port();
    for (arn, role) in [
        (format!("arn:aws:kms:x@127.0.0.1:{port}/:111:key/abc"), None),
        (format!("arn:aws:kms:127.0.0.1:{port}#:111:key/abc"), None),
        (
            "arn:aws:kms:us-east-1.evil.example:111:key/abc".to_string(),
            None,
        ),
        ("arn:aws.evil:kms:us-east-1:111:key/abc".to_string(), None),
        (
            "arn:aws:kms:us-east-1:111:key/abc".to_string(),
            Some(format!("https://127.0.0.1:{port}/")),
        ),
    ] {
        let role = role
            .map(|r| format!("          role: \"{r}\"\n"))
            .unwrap_or_default();
        let f = sb.write(
            "hostile.yaml",
            format!(
                "a: ENC[AES256_GCM,data:AAAA,iv:AAAAAAAAAAAAAAAAAAAAAA==,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]\n\
                 sops:\n    kms:\n        - arn: \"{arn}\"\n{role}          created_at: \"2024-01-01T00:00:00Z\"\n          enc: AAAA\n          aws_profile: \"\"\n\
                 \x20   lastmodified: \"2024-01-01T00:00:00Z\"\n    mac: ENC[AES256_GCM,data:AAAA,iv:AAAAAAAAAAAAAAAAAAAAAA==,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]\n\
                 \x20   unencrypted_suffix: _unencrypted\n    version: 3.11.0\n"
            ),
        );
        let r = decrypt(&mut sb.sopx(), &f);
        assert_fails(&r, 128, &["no valid"]);
        assert!(!marker.exists(), "{arn}: credentials were loaded");
        assert_eq!(wire.hits(), 0, "{arn}: something connected to the tripwire");
    }
}

// ---------------------------------------------------------------------------
// all three at once

#[test]
fn three_providers_in_one_file_any_one_decrypts() {
    let vault = FakeVault::new(&["transit"], &["k1"]);
    let gcp = FakeGcp::new(&[GCP_KEY]);
    let az = FakeAzure::new(&["key1"]);
    let (vs, gs, as_) = (vault.start(), gcp.start(), az.start());
    let sb = Sandbox::new();
    let env = |c: &mut Command| {
        c.env("VAULT_TOKEN", VAULT_TOKEN)
            .env("VAULT_ADDR", vs.url())
            .env("SOPS_GCP_KMS_ENDPOINT", gs.url())
            .env("GOOGLE_OAUTH_ACCESS_TOKEN", GCP_TOKEN)
            .env("AZURE_TENANT_ID", AZ_TENANT)
            .env("AZURE_CLIENT_ID", AZ_CLIENT_ID)
            .env("AZURE_CLIENT_SECRET", AZ_CLIENT_SECRET)
            .env("AZURE_AUTHORITY_HOST", as_.url())
            .env("AZURE_POD_IDENTITY_AUTHORITY_HOST", as_.url())
            .env("SOPX_AZURE_KV_ALLOWED_HOSTS", as_.url());
    };
    let mut c = sb.sopx();
    env(&mut c);
    let r = run(c
        .arg("encrypt")
        .arg("--hc-vault-transit")
        .arg(vault_uri(&vs, "transit", "k1"))
        .arg("--gcp-kms")
        .arg(GCP_KEY)
        .arg("--azure-kv")
        .arg(format!("{}/keys/key1", as_.url()))
        .arg(write_plain(&sb)));
    r.assert_ok("encrypt for three providers");
    let text = r.stdout_str();
    sb.write("enc.yaml", &text);
    // sops's order of kinds in the block.
    let pos = |k: &str| {
        text.find(&format!("\n    {k}:"))
            .unwrap_or_else(|| panic!("{k} in\n{text}"))
    };
    assert!(pos("gcp_kms") < pos("azure_kv") && pos("azure_kv") < pos("hc_vault"));

    // Two providers refuse; the third is enough.
    vault.faults.lock().unwrap().fail = true;
    gcp.faults.lock().unwrap().denied.insert(GCP_KEY.into());
    let mut c = sb.sopx();
    env(&mut c);
    assert_decrypts(&decrypt(&mut c, &sb.work().join("enc.yaml")));

    // All refuse: every key is listed with its reason.
    az.faults.lock().unwrap().denied.insert("key1".into());
    let mut c = sb.sopx();
    env(&mut c);
    let r = decrypt(&mut c, &sb.work().join("enc.yaml"));
    assert_fails(
        &r,
        128,
        &[
            GCP_KEY,
            "PERMISSION_DENIED",
            "key1",
            "Forbidden",
            "k1",
            "internal error",
        ],
    );
}

/// `rotate` unwraps, then wraps again, in one process (two async runtimes):
/// cached credentials must work in both, and every entry gets a new `enc`.
#[test]
fn rotate_rewraps_for_every_provider() {
    let vault = FakeVault::new(&["transit"], &["k1"]);
    let gcp = FakeGcp::new(&[GCP_KEY]);
    let az = FakeAzure::new(&["key1"]);
    let (vs, gs, as_) = (vault.start(), gcp.start(), az.start());
    let sb = Sandbox::new();
    let sa_path = gcp_service_account(&sb, &gs.url());
    let env = |c: &mut Command| {
        c.env("VAULT_TOKEN", VAULT_TOKEN)
            .env("VAULT_ADDR", vs.url())
            .env("SOPS_GCP_KMS_ENDPOINT", gs.url())
            .env("GOOGLE_CREDENTIALS", &sa_path)
            .env("AZURE_TENANT_ID", AZ_TENANT)
            .env("AZURE_CLIENT_ID", AZ_CLIENT_ID)
            .env("AZURE_CLIENT_SECRET", AZ_CLIENT_SECRET)
            .env("AZURE_AUTHORITY_HOST", as_.url())
            .env("AZURE_POD_IDENTITY_AUTHORITY_HOST", as_.url())
            .env("SOPX_AZURE_KV_ALLOWED_HOSTS", as_.url());
    };
    let mut c = sb.sopx();
    env(&mut c);
    let r = run(c
        .arg("encrypt")
        .arg("--hc-vault-transit")
        .arg(vault_uri(&vs, "transit", "k1"))
        .arg("--gcp-kms")
        .arg(GCP_KEY)
        .arg("--azure-kv")
        .arg(format!("{}/keys/key1/{AZ_VERSION}", as_.url()))
        .arg(write_plain(&sb)));
    r.assert_ok("encrypt");
    let before = r.stdout_str();
    let enc = sb.write("enc.yaml", &before);

    let tokens_before = gcp.token_requests.load(std::sync::atomic::Ordering::SeqCst);
    let mut c = sb.sopx();
    env(&mut c);
    run(c.arg("rotate").arg("-i").arg(&enc)).assert_ok("rotate");
    let after = std::fs::read_to_string(&enc).unwrap();
    // Decryption asks the three providers at once and cancels the losers;
    // a cancelled Google token request may still have reached the server.
    // (`rotate_with_one_google_key_takes_one_token` checks the cache.)
    let tokens = gcp.token_requests.load(std::sync::atomic::Ordering::SeqCst) - tokens_before;
    assert!((1..=2).contains(&tokens), "{tokens} token requests");
    for kind in ["hc_vault", "gcp_kms", "azure_kv"] {
        let (a, b) = (&entries(&before, kind)[0], &entries(&after, kind)[0]);
        assert_ne!(field(a, "enc"), field(b, "enc"), "{kind} was re-wrapped");
    }
    let mut c = sb.sopx();
    env(&mut c);
    assert_decrypts(&decrypt(&mut c, &enc));
}

/// `rotate` with a Google key alone: decryption must use it, and the token
/// it took is reused for the new wrap (one token for the whole command).
#[test]
fn rotate_with_one_google_key_takes_one_token() {
    let gcp = FakeGcp::new(&[GCP_KEY]);
    let gs = gcp.start();
    let sb = Sandbox::new();
    let sa_path = gcp_service_account(&sb, &gs.url());
    let env = |c: &mut Command| {
        c.env("SOPS_GCP_KMS_ENDPOINT", gs.url())
            .env("GOOGLE_CREDENTIALS", &sa_path);
    };
    let mut c = sb.sopx();
    env(&mut c);
    let r = encrypt(&mut c, "--gcp-kms", GCP_KEY, &write_plain(&sb));
    r.assert_ok("encrypt");
    let enc = sb.write("enc.yaml", r.stdout_str());
    let before = gcp.token_requests.load(std::sync::atomic::Ordering::SeqCst);
    let mut c = sb.sopx();
    env(&mut c);
    run(c.arg("rotate").arg("-i").arg(&enc)).assert_ok("rotate");
    assert_eq!(
        gcp.token_requests.load(std::sync::atomic::Ordering::SeqCst),
        before + 1
    );
}

// ---------------------------------------------------------------------------
// The library: a key ring's variables, not the process's

/// The loopback Vault's key `transit/k1`, as the library takes it.
fn library_vault_key(srv: &Server) -> sopx_core::metadata::MasterKey {
    use sopx_core::keys::registry::{self, KeyOptions, RemoteKey};
    let source = registry::by_kind("hc_vault").unwrap();
    let fields = source
        .parse_id(&vault_uri(srv, "transit", "k1"), &KeyOptions::default())
        .unwrap();
    sopx_core::metadata::MasterKey::Remote(RemoteKey { source, fields })
}

/// Variables for a key ring: the server as `VAULT_ADDR`, the token if
/// `token`, and a home with nothing in it (no age identity file): only
/// what is given.
fn library_vault_vars(
    srv: &Server,
    token: bool,
) -> impl Fn(&str) -> Option<std::ffi::OsString> + Send + Sync + 'static {
    let addr = srv.url();
    move |name: &str| match name {
        "VAULT_ADDR" => Some(addr.clone().into()),
        "VAULT_TOKEN" if token => Some(VAULT_TOKEN.into()),
        "HOME" => Some("/nonexistent".into()),
        _ => None,
    }
}

/// A `KeyRing` built with its own variables gives them to the remote
/// sources: a Vault key is wrapped and unwrapped with the ring's
/// `VAULT_ADDR` and `VAULT_TOKEN` (this test process has neither). A ring
/// without the token, or without cloud keys, opens nothing and the server
/// sees no token.
#[test]
fn library_key_ring_variables_reach_the_remote_sources() {
    use sopx_core::ops::{self, EncryptOptions, OpenOptions};
    use sopx_core::{Format, KeyRing};

    // Were they set, the process's own could make this pass.
    assert!(
        std::env::var_os("VAULT_TOKEN").is_none() && std::env::var_os("VAULT_ADDR").is_none(),
        "run this test without VAULT_TOKEN and VAULT_ADDR"
    );
    let vault = FakeVault::new(&["transit"], &["k1"]);
    let srv = vault.start();
    let vars = |token: bool| library_vault_vars(&srv, token);
    let key = library_vault_key(&srv);
    let with = |token: bool| KeyRing::new().with_env(vars(token)).with_remote_keys(true);

    // Wrapping needs a ring that allows cloud keys.
    let mut opts = EncryptOptions {
        key_groups: vec![vec![key]],
        keys: KeyRing::new().with_env(vars(true)),
        ..EncryptOptions::default()
    };
    let err = ops::encrypt(PLAIN.as_bytes(), Format::Yaml, &opts).unwrap_err();
    assert!(err.to_string().contains("not in use"), "{err}");
    assert!(srv.requests().is_empty());

    opts.keys = with(true);
    let sealed = ops::encrypt(PLAIN.as_bytes(), Format::Yaml, &opts).unwrap();
    let open = |keys: KeyRing| {
        ops::open(
            &sealed,
            Format::Yaml,
            &OpenOptions {
                keys,
                ..OpenOptions::default()
            },
        )
    };
    let opened = open(with(true)).unwrap();
    assert_eq!(&opened.plaintext().unwrap()[..], PLAIN.as_bytes());
    let reqs = srv.requests();
    assert_eq!(reqs.len(), 2, "one encrypt, one decrypt");
    assert!(
        reqs.iter()
            .all(|r| r.header("x-vault-token") == Some(VAULT_TOKEN))
    );

    // The ring's variables, not a cache filled by another ring: no token.
    let err = open(with(false)).err().expect("no token, no data key");
    assert!(err.to_string().contains("k1"), "{err}");
    assert!(
        srv.requests()[2..]
            .iter()
            .all(|r| r.header("x-vault-token").is_none())
    );
    // Cloud keys not allowed: no request at all.
    let before = srv.requests().len();
    let err = open(KeyRing::new().with_env(vars(true)))
        .err()
        .expect("cloud keys are off");
    assert!(err.to_string().contains("not in use"), "{err}");
    assert_eq!(srv.requests().len(), before);
}

/// A large YAML file that is cut into pieces but falls back to the
/// whole-file path (its folded scalar needs a layout hint) wraps its data
/// key once: one request to Vault, not one per path.
#[test]
fn library_large_file_falling_back_wraps_the_key_once() {
    use std::io::{Read, Seek};

    use sopx_core::ops::{self, EncryptOptions, OpenOptions};
    use sopx_core::{Format, KeyRing};

    let vault = FakeVault::new(&["transit"], &["k1"]);
    let srv = vault.start();
    let ring = KeyRing::new()
        .with_env(library_vault_vars(&srv, true))
        .with_remote_keys(true);
    let opts = EncryptOptions {
        key_groups: vec![vec![library_vault_key(&srv)]],
        keys: ring.clone(),
        ..EncryptOptions::default()
    };
    let mut plain = String::from("folded: >\n  one\n  two\n");
    for i in 0..20_000 {
        plain.push_str(&format!("key{i:05}: value number {i}\n"));
    }
    assert!(ops::uses_pieces(Format::Yaml, plain.len()));
    let mut out = tempfile::tempfile().unwrap();
    ops::encrypt_to_file(plain.as_bytes(), Format::Yaml, &opts, &mut out).unwrap();
    let encrypts =
        |reqs: &[server::Request]| reqs.iter().filter(|r| r.path.contains("/encrypt/")).count();
    assert_eq!(encrypts(&srv.requests()), 1, "the data key is wrapped once");
    let mut sealed = Vec::new();
    out.rewind().unwrap();
    out.read_to_end(&mut sealed).unwrap();
    assert!(
        String::from_utf8_lossy(&sealed).contains("sopx_layout"),
        "the whole-file path wrote it"
    );
    let opened = ops::open(
        &sealed,
        Format::Yaml,
        &OpenOptions {
            keys: ring,
            ..OpenOptions::default()
        },
    )
    .unwrap();
    assert_eq!(&opened.plaintext().unwrap()[..], plain.as_bytes());
}
