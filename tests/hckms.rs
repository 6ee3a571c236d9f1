//! HuaweiCloud KMS (`hckms`, sops 3.12) end to end through the CLI, against
//! a loopback server that follows KMS's REST API (`encrypt-data`,
//! `decrypt-data`) and checks every request's `SDK-HMAC-SHA256` signature
//! with the secret key, recomputed from the request as received.

mod common;
#[path = "remote_keys/server.rs"]
mod server;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::{Run, Sandbox, run};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use serde_yaml_ng::Value as Yaml;
use server::{Request, Response, Server, open, seal};
use sha2::{Digest, Sha256};

const PLAIN: &str = "secret: hunter2\nlist:\n    - 1\n    - two\n";
const AK: &str = "HPUATESTACCESSKEY";
const SK: &str = "test-secret-key";
const PROJECT: &str = "0123456789abcdef0123456789abcdef";
const UUID1: &str = "0d0466b0-e727-4d9c-b35d-f84bb474a37f";
const UUID2: &str = "9b2a2c1e-5f3d-4c55-8a47-1f4f0f2d9e10";

fn id1() -> String {
    format!("tr-west-1:{UUID1}")
}

fn id2() -> String {
    format!("eu-west-101:{UUID2}")
}

/// A KMS with the keys `uuids`, for project [`PROJECT`] and key pair
/// ([`AK`], [`SK`]).
struct FakeKms {
    uuids: Vec<&'static str>,
    /// Keys whose use is refused (HTTP 403).
    denied: Mutex<Vec<String>>,
}

impl FakeKms {
    fn start(uuids: &[&'static str]) -> (Arc<FakeKms>, Server) {
        let kms = Arc::new(FakeKms {
            uuids: uuids.to_vec(),
            denied: Mutex::new(Vec::new()),
        });
        let k = kms.clone();
        let srv = Server::start(move |r| k.handle(r));
        (kms, srv)
    }

    fn handle(&self, r: &Request) -> Response {
        let err = |status: u16, code: &str, msg: &str| {
            Response::json(
                status,
                json!({"error": {"error_code": code, "error_msg": msg}}),
            )
        };
        if let Err(why) = check_signature(r) {
            return Response::json(
                401,
                json!({"error_code": "APIGW.0301", "error_msg": format!("Incorrect IAM authentication information: {why}")}),
            );
        }
        let prefix = format!("/v1.0/{PROJECT}/kms/");
        let Some(op) = r.path.strip_prefix(&prefix) else {
            return err(
                404,
                "APIGW.0101",
                "The API does not exist or has not been published",
            );
        };
        let Some(body) = r.json() else {
            return err(400, "KMS.0201", "Invalid request body");
        };
        let s = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or("");
        if r.method != "POST" || s("encryption_algorithm") != "SYMMETRIC_DEFAULT" {
            return err(400, "KMS.0201", "Invalid request");
        }
        let uuid = s("key_id");
        if !self.uuids.contains(&uuid) {
            return err(404, "KMS.0207", "The key does not exist.");
        }
        if self.denied.lock().unwrap().iter().any(|d| d == uuid) {
            return err(403, "KMS.0303", "Access denied to the key.");
        }
        match op {
            "encrypt-data" => {
                let sealed = seal(uuid, s("plain_text").as_bytes());
                Response::json(
                    200,
                    json!({"key_id": uuid, "cipher_text": format!("HCKMS:{}", STANDARD.encode(sealed))}),
                )
            }
            "decrypt-data" => {
                let opened = s("cipher_text")
                    .strip_prefix("HCKMS:")
                    .and_then(|c| STANDARD.decode(c).ok())
                    .and_then(|c| open(uuid, &c));
                match opened {
                    Some(p) => Response::json(
                        200,
                        json!({
                            "key_id": uuid,
                            "plain_text": String::from_utf8(p.clone()).unwrap(),
                            "plain_text_base64": STANDARD.encode(&p),
                        }),
                    ),
                    None => err(400, "KMS.0206", "Failed to decrypt the data."),
                }
            }
            _ => err(404, "APIGW.0101", "The API does not exist"),
        }
    }
}

fn hex_sha256(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// Recomputes the `SDK-HMAC-SHA256` signature from the request as it
/// arrived (every header it names, as received; the path with a final '/').
fn check_signature(r: &Request) -> Result<(), String> {
    let auth = r.header("authorization").ok_or("no Authorization header")?;
    let rest = auth
        .strip_prefix("SDK-HMAC-SHA256 Access=")
        .ok_or("not SDK-HMAC-SHA256")?;
    let (access, rest) = rest
        .split_once(", SignedHeaders=")
        .ok_or("no SignedHeaders")?;
    let (signed, signature) = rest.split_once(", Signature=").ok_or("no Signature")?;
    if access != AK {
        return Err("unknown access key".into());
    }
    let names: Vec<&str> = signed.split(';').collect();
    for must in ["host", "x-sdk-date", "x-project-id"] {
        if !names.contains(&must) {
            return Err(format!("{must} is not signed"));
        }
    }
    if r.header("x-project-id") != Some(PROJECT) {
        return Err("wrong X-Project-Id".into());
    }
    let date = r.header("x-sdk-date").ok_or("no X-Sdk-Date")?;
    let mut headers = String::new();
    for n in &names {
        let v = r
            .header(n)
            .ok_or_else(|| format!("signed header {n} was not sent"))?;
        headers.push_str(&format!("{n}:{}\n", v.trim()));
    }
    let request = format!(
        "{}\n{}/\n\n{headers}\n{signed}\n{}",
        r.method,
        r.path.trim_end_matches('/'),
        hex_sha256(&r.body)
    );
    let to_sign = format!(
        "SDK-HMAC-SHA256\n{date}\n{}",
        hex_sha256(request.as_bytes())
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(SK.as_bytes()).unwrap();
    mac.update(to_sign.as_bytes());
    if hex::encode(mac.finalize().into_bytes()) != signature {
        return Err("verify aksk signature fail".into());
    }
    Ok(())
}

/// `sopx` with the credentials in the environment and `srv` as the user's
/// endpoint.
fn sopx(sb: &Sandbox, srv: &Server) -> Command {
    let mut c = sb.sopx();
    c.env("HUAWEICLOUD_SDK_AK", AK)
        .env("HUAWEICLOUD_SDK_SK", SK)
        .env("HUAWEICLOUD_SDK_PROJECT_ID", PROJECT)
        .env("SOPX_HUAWEICLOUD_KMS_ENDPOINT", srv.url())
        // No age identity: only hckms can decrypt.
        .env("SOPS_AGE_KEY_FILE", sb.root().join("no-such-keys.txt"));
    c
}

fn sops_block(yaml: &str) -> serde_yaml_ng::Mapping {
    let doc: Yaml = serde_yaml_ng::from_str(yaml).expect("YAML output");
    doc.get("sops")
        .and_then(Yaml::as_mapping)
        .expect("a sops block")
        .clone()
}

fn keys_of(m: &serde_yaml_ng::Mapping) -> Vec<String> {
    m.keys().map(|k| k.as_str().unwrap().to_string()).collect()
}

fn hckms_entries(m: &serde_yaml_ng::Mapping) -> Vec<serde_yaml_ng::Mapping> {
    m.get("hckms")
        .and_then(Yaml::as_sequence)
        .expect("an hckms list")
        .iter()
        .map(|e| e.as_mapping().unwrap().clone())
        .collect()
}

fn field<'a>(m: &'a serde_yaml_ng::Mapping, k: &str) -> &'a str {
    m.get(k).and_then(Yaml::as_str).unwrap_or("")
}

fn write_plain(sb: &Sandbox) -> PathBuf {
    sb.write("secrets.yaml", PLAIN)
}

fn decrypt(sb: &Sandbox, srv: &Server, file: &Path) -> Run {
    run(sopx(sb, srv).arg("decrypt").arg(file))
}

fn assert_decrypts(r: &Run) {
    r.assert_ok("decrypt");
    assert_eq!(r.stdout_str(), PLAIN);
}

#[test]
fn flag_round_trip_and_metadata_as_sops_writes_it() {
    let (_kms, srv) = FakeKms::start(&[UUID1]);
    let sb = Sandbox::new();
    let r = run(sopx(&sb, &srv)
        .args(["encrypt", "--hckms", &id1(), "--age", &common::pub1()])
        .arg(write_plain(&sb)));
    r.assert_ok("encrypt");
    let text = r.stdout_str();
    // sops 3.12's order: hckms between gcp_kms and azure_kv, before age;
    // each entry key_id, created_at, enc.
    let meta = sops_block(&text);
    assert_eq!(
        keys_of(&meta),
        [
            "hckms",
            "age",
            "lastmodified",
            "mac",
            "unencrypted_suffix",
            "version"
        ]
    );
    let e = &hckms_entries(&meta)[0];
    assert_eq!(keys_of(e), ["key_id", "created_at", "enc"]);
    assert_eq!(field(e, "key_id"), id1());
    assert!(field(e, "enc").starts_with("HCKMS:"), "{text}");
    assert_eq!(field(e, "created_at").len(), 20, "RFC 3339 UTC: {text}");

    let reqs = srv.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].path, format!("/v1.0/{PROJECT}/kms/encrypt-data"));
    let body = reqs[0].json().unwrap();
    assert_eq!(body["key_id"], UUID1, "the UUID, not the region");
    // The data key goes as base64 text, as sops sends it.
    assert_eq!(
        STANDARD
            .decode(body["plain_text"].as_str().unwrap())
            .unwrap()
            .len(),
        32
    );

    let enc = sb.write("enc.yaml", &text);
    assert_decrypts(&decrypt(&sb, &srv, &enc));
    assert_eq!(
        srv.requests()[1].path,
        format!("/v1.0/{PROJECT}/kms/decrypt-data")
    );
    // --decryption-order knows the kind.
    assert_decrypts(&run(sopx(&sb, &srv)
        .args(["decrypt", "--decryption-order", "hckms,age"])
        .arg(&enc)));

    // The environment variable works like the flag.
    let r = run(sopx(&sb, &srv)
        .env("SOPS_HUAWEICLOUD_KMS_IDS", id1())
        .arg("encrypt")
        .arg(write_plain(&sb)));
    r.assert_ok("encrypt with SOPS_HUAWEICLOUD_KMS_IDS");
    assert_eq!(keys_of(&sops_block(&r.stdout_str()))[0], "hckms");
}

#[test]
fn creation_rules_and_key_groups() {
    let (_kms, srv) = FakeKms::start(&[UUID1, UUID2]);
    let sb = Sandbox::new();
    sb.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - path_regex: top\\.yaml$\n    hckms:\n      - {}\n  - path_regex: groups\\.yaml$\n    shamir_threshold: 2\n    key_groups:\n      - hckms:\n          - key_id: {}\n        age: [{}]\n      - hckms:\n          - key_id: {}\n",
            id1(),
            id1(),
            common::pub1(),
            id2()
        ),
    );
    let top = sb.write("top.yaml", PLAIN);
    run(sopx(&sb, &srv).args(["encrypt", "-i"]).arg(&top)).assert_ok("encrypt by rule");
    let text = std::fs::read_to_string(&top).unwrap();
    assert_eq!(
        field(&hckms_entries(&sops_block(&text))[0], "key_id"),
        id1()
    );
    assert_decrypts(&decrypt(&sb, &srv, &top));

    let groups = sb.write("groups.yaml", PLAIN);
    run(sopx(&sb, &srv).args(["encrypt", "-i"]).arg(&groups)).assert_ok("encrypt by groups");
    let text = std::fs::read_to_string(&groups).unwrap();
    let meta = sops_block(&text);
    let gs = meta["key_groups"].as_sequence().unwrap();
    assert_eq!(gs.len(), 2);
    // In a group, too, hckms comes before age (sops 3.12's keygroup order).
    assert_eq!(keys_of(gs[0].as_mapping().unwrap()), ["hckms", "age"]);
    assert_eq!(
        field(&hckms_entries(gs[1].as_mapping().unwrap())[0], "key_id"),
        id2()
    );
    assert_decrypts(&decrypt(&sb, &srv, &groups));

    // A malformed key ID is named with its place in the config.
    sb.write(".sops.yaml", "creation_rules:\n  - hckms: [no-uuid]\n");
    let r = run(sopx(&sb, &srv).arg("encrypt").arg(write_plain(&sb)));
    r.assert_code(5, "bad key id in config");
    assert!(
        r.stderr.contains("creation_rules[0].hckms") && r.stderr.contains("region:key-uuid"),
        "{}",
        r.stderr
    );
}

#[test]
fn updatekeys_and_rotate() {
    let (kms, srv) = FakeKms::start(&[UUID1, UUID2]);
    let sb = Sandbox::new();
    // Start with age only.
    let file = sb.write("s.yaml", PLAIN);
    run(sopx(&sb, &srv)
        .args(["encrypt", "-i", "--age", &common::pub1()])
        .arg(&file))
    .assert_ok("encrypt with age");
    let values_before: Vec<String> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .filter(|l| l.contains("ENC["))
        .map(String::from)
        .collect();

    // updatekeys adds the rule's hckms key, keeping every value's ciphertext.
    sb.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - age: {}\n    hckms: [{}]\n",
            common::pub1(),
            id1()
        ),
    );
    let mut c = sopx(&sb, &srv);
    c.env("SOPS_AGE_KEY_FILE", common::key1());
    run(c.args(["updatekeys", "-y"]).arg(&file)).assert_ok("updatekeys");
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        field(&hckms_entries(&sops_block(&text))[0], "key_id"),
        id1()
    );
    for v in &values_before {
        assert!(text.contains(v.as_str()), "value kept: {v}");
    }
    assert_decrypts(&decrypt(&sb, &srv, &file));
    // Nothing to do the second time: the key is the same one.
    let mut c = sopx(&sb, &srv);
    c.env("SOPS_AGE_KEY_FILE", common::key1());
    run(c.args(["updatekeys", "-y"]).arg(&file)).assert_ok("updatekeys again");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);

    // rotate: swap hckms keys; only the new one can decrypt afterwards.
    run(sopx(&sb, &srv)
        .args(["rotate", "-i", "--add-hckms", &id2(), "--rm-hckms", &id1()])
        .arg(&file))
    .assert_ok("rotate");
    let text = std::fs::read_to_string(&file).unwrap();
    let ids: Vec<String> = hckms_entries(&sops_block(&text))
        .iter()
        .map(|e| field(e, "key_id").to_string())
        .collect();
    assert_eq!(ids, [id2()]);
    kms.denied.lock().unwrap().push(UUID1.into());
    assert_decrypts(&decrypt(&sb, &srv, &file));
    kms.denied.lock().unwrap().clear();

    // groups add with the repeatable flag.
    let r = run(sopx(&sb, &srv)
        .args(["groups", "add", "--file"])
        .arg(&file)
        .args(["--hckms", &id1(), "-i"]));
    r.assert_ok("groups add --hckms");
    let meta = sops_block(&std::fs::read_to_string(&file).unwrap());
    assert_eq!(meta["key_groups"].as_sequence().unwrap().len(), 2);
}

#[test]
fn errors_name_the_key_and_the_reason() {
    let (kms, srv) = FakeKms::start(&[UUID1]);
    let sb = Sandbox::new();
    let r = run(sopx(&sb, &srv)
        .args(["encrypt", "--hckms", &id1()])
        .arg(write_plain(&sb)));
    r.assert_ok("encrypt");
    let enc = sb.write("enc.yaml", &r.stdout);

    kms.denied.lock().unwrap().push(UUID1.into());
    let r = decrypt(&sb, &srv, &enc);
    r.assert_code(128, "denied");
    for n in [id1().as_str(), "403", "KMS.0303"] {
        assert!(r.stderr.contains(n), "{n}: {}", r.stderr);
    }
    kms.denied.lock().unwrap().clear();

    // A wrong secret key: the server refuses the signature.
    let r = run(sopx(&sb, &srv)
        .env("HUAWEICLOUD_SDK_SK", "wrong")
        .arg("decrypt")
        .arg(&enc));
    r.assert_code(128, "bad signature");
    assert!(r.stderr.contains("APIGW.0301"), "{}", r.stderr);

    // No project ID, or no key pair at all.
    let r = run(sopx(&sb, &srv)
        .env_remove("HUAWEICLOUD_SDK_PROJECT_ID")
        .arg("decrypt")
        .arg(&enc));
    r.assert_code(128, "no project");
    assert!(
        r.stderr.contains("HUAWEICLOUD_SDK_PROJECT_ID"),
        "{}",
        r.stderr
    );
    let r = run(sopx(&sb, &srv)
        .args(["encrypt", "--hckms", "tr-west-1:unknown-key"])
        .arg(write_plain(&sb)));
    r.assert_code(1, "unknown key");
    assert!(r.stderr.contains("KMS.0207"), "{}", r.stderr);

    // The credentials file's [basic] section, when the variables are unset.
    sb.write(
        "hc-credentials",
        format!("[other]\nak = nope\n\n[basic]\nak = {AK}\nsk = {SK}\nproject_id = {PROJECT}\n"),
    );
    let r = run(sopx(&sb, &srv)
        .env_remove("HUAWEICLOUD_SDK_AK")
        .env_remove("HUAWEICLOUD_SDK_SK")
        .env_remove("HUAWEICLOUD_SDK_PROJECT_ID")
        .env(
            "HUAWEICLOUD_SDK_CREDENTIALS_FILE",
            sb.work().join("hc-credentials"),
        )
        .arg("decrypt")
        .arg(&enc));
    assert_decrypts(&r);
}

/// The `key_id` of a file is not covered by the MAC. Whatever it says, the
/// credentials go to the official endpoint of a well-formed region or to
/// the endpoint the user chose, never to a host the file names.
#[test]
fn hostile_key_ids_get_no_credentials() {
    let (_kms, srv) = FakeKms::start(&[UUID1, UUID2]);
    // The attacker's server records everything it is sent.
    let attacker = Server::start(|_| Response::json(200, json!({"cipher_text": "x"})));
    let sb = Sandbox::new();
    let r = run(sopx(&sb, &srv)
        .args(["encrypt", "--hckms", &id1()])
        .arg(write_plain(&sb)));
    r.assert_ok("encrypt");
    let good = r.stdout_str();
    let port = attacker.addr.port();
    let hostile = [
        format!("127.0.0.1:{port}"),
        format!("127.0.0.1#:{UUID1}"),
        format!("evil.example/:{UUID1}"),
        format!("x@127.0.0.1:{UUID1}"),
        format!("localhost.:{UUID1}"),
        format!("tr-west-1.evil.example:{UUID1}"),
        format!("TR-WEST-1:{UUID1}"),
    ];
    for id in &hostile {
        let text = good.replace(&id1(), id);
        let file = sb.write("hostile.yaml", &text);
        // Without an endpoint of the user's: only an official host may be used.
        let r = run(sopx(&sb, &srv)
            .env_remove("SOPX_HUAWEICLOUD_KMS_ENDPOINT")
            .arg("decrypt")
            .arg(&file));
        r.assert_code(128, id);
        assert!(
            r.stderr.contains("refusing") || r.stderr.contains("as a HuaweiCloud KMS key ID"),
            "{id}: {}",
            r.stderr
        );
    }
    assert!(attacker.requests().is_empty(), "the attacker was contacted");
    assert_eq!(srv.requests().len(), 1, "only the first encryption");

    // With the user's endpoint, a file naming another region still only
    // reaches that endpoint.
    let file = sb.write(
        "other-region.yaml",
        good.replace(&id1(), &format!("eu-west-101:{UUID1}")),
    );
    assert_decrypts(&decrypt(&sb, &srv, &file));
    assert!(attacker.requests().is_empty());
    assert!(srv.requests().iter().all(|r| {
        r.header("authorization")
            .is_some_and(|a| a.starts_with("SDK-HMAC-SHA256 Access="))
    }),);

    // An endpoint variable that is not a plain https origin is refused too.
    let r = run(sopx(&sb, &srv)
        .env(
            "SOPX_HUAWEICLOUD_KMS_ENDPOINT",
            format!("http://{}.nip.io:{port}", "127.0.0.1"),
        )
        .arg("decrypt")
        .arg(&file));
    r.assert_code(128, "plain http to a non-loopback name");
    assert!(attacker.requests().is_empty());
}

#[test]
fn real_sops_3_11_reads_past_the_hckms_list() {
    let Some(sops) = common::require_sops() else {
        return;
    };
    let (_kms, srv) = FakeKms::start(&[UUID1]);
    let sb = Sandbox::new();
    let r = run(sopx(&sb, &srv)
        .args(["encrypt", "--hckms", &id1(), "--age", &common::pub1()])
        .arg(write_plain(&sb)));
    r.assert_ok("encrypt");
    let enc = sb.write("enc.yaml", &r.stdout);
    // sops 3.11 does not know hckms; its age key still opens the file.
    let r = run(sb.sops(&sops).arg("decrypt").arg(&enc));
    r.assert_ok("sops decrypt");
    assert_eq!(r.stdout_str(), PLAIN);
}
