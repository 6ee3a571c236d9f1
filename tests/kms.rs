//! AWS KMS master keys against moto's KMS and STS and the real sops 3.11.
//!
//! Each test uses a `moto_server` on 127.0.0.1 (a free port), started here
//! and killed when the last test using it is done; keys are created through
//! the KMS JSON API over plain HTTP. sopx and sops run with fake credentials,
//! `AWS_ENDPOINT_URL` pointing at moto, and instance metadata disabled, so
//! nothing leaves the machine. moto and sops are required in CI
//! (`require_moto`, `require_sops`).

mod common;

use common::*;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

const YAML: &str = "\
# settings
db:
    user: admin
    password: hunter2 # inline
    port: 5432
tags:
    - a
    - b
enabled: true
";

const ACCOUNT: &str = "123456789012";

// ---------------------------------------------------------------------------
// moto

fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

/// `moto_server`: `$MOTO_SERVER_BIN`, else beside the sops venv's python,
/// else on PATH.
fn find_moto() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("MOTO_SERVER_BIN").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Some(p);
        }
        if in_ci() {
            panic!("MOTO_SERVER_BIN={} does not exist", p.display());
        }
    }
    let venv = PathBuf::from("/opt/sopsvenv/bin/moto_server");
    if venv.is_file() {
        return Some(venv);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("moto_server"))
        .find(|p| p.is_file())
}

/// moto_server, or `None` (outside CI only) after a loud message.
fn require_moto() -> Option<PathBuf> {
    if let Some(p) = find_moto() {
        return Some(p);
    }
    let hint = "set MOTO_SERVER_BIN or `/opt/sopsvenv/bin/pip install 'moto[server]'` (scripts/test.sh does)";
    if in_ci() {
        panic!(
            "moto_server not found, and CI is set: interop tests must not be skipped in CI ({hint})"
        );
    }
    eprintln!();
    eprintln!("**********************************************************************");
    eprintln!("*** moto_server NOT FOUND: SKIPPING THIS TEST ({hint})");
    eprintln!("**********************************************************************");
    eprintln!();
    None
}

/// A running moto_server; killed when dropped.
struct Moto {
    child: Mutex<Child>,
    port: u16,
}

impl Moto {
    fn start(bin: &Path, env: &[(&str, &str)]) -> Moto {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = tempfile::NamedTempFile::new().unwrap();
        let child = Command::new(bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log.reopen().unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {}: {e}", bin.display()));
        let moto = Moto {
            child: Mutex::new(child),
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if http(port, "GET", "/moto-api/", &[], "").is_ok() {
                return moto;
            }
            if let Ok(Some(st)) = moto.child.lock().unwrap().try_wait() {
                panic!(
                    "moto_server exited ({st}) before answering: {}",
                    std::fs::read_to_string(log.path()).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not answer on port {port} within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Calls a KMS action (JSON protocol) in `region`.
    fn kms(&self, region: &str, action: &str, body: Value) -> Value {
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential=test/20240101/{region}/kms/aws4_request, SignedHeaders=host, Signature=00"
        );
        let headers = [
            ("X-Amz-Target", format!("TrentService.{action}")),
            ("Content-Type", "application/x-amz-json-1.1".to_string()),
            ("Authorization", auth),
        ];
        let text = http(self.port, "POST", "/", &headers, &body.to_string())
            .unwrap_or_else(|e| panic!("KMS {action}: {e}"));
        if text.trim().is_empty() {
            return Value::Null;
        }
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("KMS {action}: {e}: {text}"))
    }

    /// A new symmetric key in `region`; returns its ARN.
    fn create_key(&self, region: &str) -> String {
        let out = self.kms(region, "CreateKey", json!({"Description": "sopx test"}));
        out["KeyMetadata"]["Arn"]
            .as_str()
            .unwrap_or_else(|| panic!("CreateKey: {out}"))
            .to_string()
    }

    /// Calls an IAM action (query protocol); returns the XML answer.
    fn iam(&self, params: &[(&str, &str)]) -> String {
        let auth = "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=00";
        let mut body = String::from("Version=2010-05-08");
        for (k, v) in params {
            body.push_str(&format!("&{k}={}", form_encode(v)));
        }
        let headers = [
            (
                "Content-Type",
                "application/x-www-form-urlencoded".to_string(),
            ),
            ("Authorization", auth.to_string()),
        ];
        http(self.port, "POST", "/", &headers, &body)
            .unwrap_or_else(|e| panic!("IAM {params:?}: {e}"))
    }

    /// moto's dump of its state (`/moto-api/data.json`).
    fn state(&self) -> Value {
        let text = http(self.port, "GET", "/moto-api/data.json", &[], "").unwrap();
        serde_json::from_str(&text).unwrap()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let child = self.child.get_mut().unwrap_or_else(|e| e.into_inner());
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// The moto_server shared by the tests running now; a new one is started
/// when none is alive.
fn moto() -> Option<Arc<Moto>> {
    static SHARED: Mutex<Weak<Moto>> = Mutex::new(Weak::new());
    let bin = require_moto()?;
    let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(m) = shared.upgrade() {
        return Some(m);
    }
    let m = Arc::new(Moto::start(&bin, &[]));
    *shared = Arc::downgrade(&m);
    Some(m)
}

/// A minimal HTTP/1.1 exchange with 127.0.0.1:`port`; the body of a 2xx
/// answer, else an error with the status line and body.
fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &str,
) -> Result<String, String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").ok_or("no HTTP header")?;
    let status = head.lines().next().unwrap_or("");
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase()
            .starts_with("transfer-encoding: chunked")
    });
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    if status.split(' ').nth(1).is_some_and(|c| c.starts_with('2')) {
        Ok(body)
    } else {
        Err(format!("{status}: {body}"))
    }
}

fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The text of the first `<tag>` element of an XML answer.
fn xml_text<'a>(xml: &'a str, tag: &str) -> &'a str {
    let open = format!("<{tag}>");
    let start = xml
        .find(&open)
        .unwrap_or_else(|| panic!("no <{tag}> in {xml}"))
        + open.len();
    let end = start + xml[start..].find('<').unwrap();
    &xml[start..end]
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((len, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(len.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

// ---------------------------------------------------------------------------
// running sopx and sops against moto

struct Env {
    sb: Sandbox,
    moto: Arc<Moto>,
    sops: PathBuf,
}

/// A sandbox, moto and sops, or `None` when a tool is missing outside CI.
fn setup() -> Option<Env> {
    let sops = require_sops()?;
    let moto = moto()?;
    Some(Env {
        sb: Sandbox::new(),
        moto,
        sops,
    })
}

impl Env {
    /// Fake credentials, moto as the endpoint for every service, no instance
    /// metadata, no shared config unless a test writes one, one attempt per
    /// request.
    fn aws(&self, mut c: Command) -> Command {
        c.env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ENDPOINT_URL", self.moto.url())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", self.sb.root().join("no-aws-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                self.sb.root().join("no-aws-credentials"),
            );
        c
    }

    fn sopx(&self) -> Command {
        self.aws(self.sb.sopx())
    }

    fn sops(&self) -> Command {
        self.aws(self.sb.sops(&self.sops))
    }

    /// `sopx encrypt` with `args` of `work/plain.yaml` (YAML), into `name`.
    fn sopx_encrypt(&self, name: &str, args: &[&str]) -> PathBuf {
        let plain = self.sb.write("plain.yaml", YAML);
        let r = run(self.sopx().arg("encrypt").args(args).arg(&plain));
        r.assert_ok(&format!("sopx encrypt {args:?}"));
        self.sb.write(name, &r.stdout)
    }

    fn sops_encrypt(&self, name: &str, args: &[&str]) -> PathBuf {
        let plain = self.sb.write("plain.yaml", YAML);
        let r = run(self.sops().arg("encrypt").args(args).arg(&plain));
        r.assert_ok(&format!("sops encrypt {args:?}"));
        self.sb.write(name, &r.stdout)
    }

    /// sopx decrypts `file` to the original data; to the original text, byte
    /// for byte, when sopx wrote the file.
    fn sopx_opens(&self, file: &Path) {
        let r = run(self.sopx().arg("decrypt").arg(file));
        r.assert_ok(&format!("sopx decrypt {}", file.display()));
        let text = std::fs::read_to_string(file).unwrap();
        // sopx keeps the comment where it was; sops moves it above the key.
        let by_sopx = text
            .lines()
            .any(|l| l.starts_with("    password: ENC[") && l.ends_with("# inline"));
        if by_sopx {
            assert_eq!(r.stdout_str(), YAML, "sopx decrypt {}", file.display());
        } else {
            same_data(Format::Yaml, YAML, &r.stdout_str())
                .unwrap_or_else(|e| panic!("sopx decrypt {}: {e}", file.display()));
        }
    }

    /// sops decrypts `file` to the original data.
    fn sops_opens(&self, file: &Path) {
        let r = run(self.sops().arg("decrypt").arg(file));
        r.assert_ok(&format!("sops decrypt {}", file.display()));
        same_data(Format::Yaml, YAML, &r.stdout_str())
            .unwrap_or_else(|e| panic!("sops decrypt {}: {e}", file.display()));
    }
}

/// The `kms` entries of a YAML file's `sops` block.
fn kms_entries(file: &Path) -> Vec<serde_yaml_ng::Mapping> {
    let text = std::fs::read_to_string(file).unwrap();
    let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    doc["sops"]["kms"]
        .as_sequence()
        .unwrap_or_else(|| panic!("no sops.kms list in {}:\n{text}", file.display()))
        .iter()
        .map(|e| e.as_mapping().expect("a kms entry is a mapping").clone())
        .collect()
}

fn field_names(e: &serde_yaml_ng::Mapping) -> Vec<String> {
    e.keys().map(|k| k.as_str().unwrap().to_string()).collect()
}

fn field<'a>(e: &'a serde_yaml_ng::Mapping, name: &str) -> &'a str {
    e.get(name)
        .and_then(|v| v.as_str())
        .unwrap_or_else(|| panic!("no string field {name} in {e:?}"))
}

/// Replaces `from` with `to` in a file.
fn edit(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains(from), "{from:?} not in {}", file.display());
    std::fs::write(file, text.replace(from, to)).unwrap();
}

// ---------------------------------------------------------------------------
// tests

#[test]
fn sopx_encrypts_and_both_decrypt_with_sops_fields() {
    let Some(env) = setup() else { return };
    let arn = env.moto.create_key("us-east-1");
    let ours = env.sopx_encrypt("ours.yaml", &["--kms", &arn]);
    env.sopx_opens(&ours);
    env.sops_opens(&ours);

    // The entry has sops's fields in sops's order, with sops's values.
    let theirs = env.sops_encrypt("theirs.yaml", &["--kms", &arn]);
    let (a, b) = (&kms_entries(&ours), &kms_entries(&theirs));
    assert_eq!((a.len(), b.len()), (1, 1));
    assert_eq!(
        field_names(&a[0]),
        ["arn", "created_at", "enc", "aws_profile"]
    );
    assert_eq!(field_names(&a[0]), field_names(&b[0]));
    assert_eq!(field(&a[0], "arn"), arn);
    assert_eq!(field(&a[0], "aws_profile"), "");
    let created = field(&a[0], "created_at");
    assert!(
        normalize_timestamp(created).is_some() && created.ends_with('Z') && created.len() == 20,
        "created_at {created:?} is not RFC 3339 UTC in seconds as sops writes it"
    );
    // enc is the base64 of the CiphertextBlob, as sops stores it: it opens
    // with a plain KMS Decrypt call.
    let enc = field(&a[0], "enc");
    let out = env.moto.kms(
        "us-east-1",
        "Decrypt",
        json!({"CiphertextBlob": enc, "KeyId": arn}),
    );
    let plain = out["Plaintext"].as_str().expect("a plaintext");
    use base64::Engine;
    let key = base64::engine::general_purpose::STANDARD
        .decode(plain)
        .unwrap();
    assert_eq!(key.len(), 32, "the data key");
}

#[test]
fn sops_encrypts_and_sopx_decrypts() {
    let Some(env) = setup() else { return };
    let arn = env.moto.create_key("us-east-1");
    let theirs = env.sops_encrypt("theirs.yaml", &["--kms", &arn]);
    env.sopx_opens(&theirs);
    // sopx can also re-key the file (a decrypt and an encrypt in one
    // process, on two runtimes), and sops still opens it.
    let r = run(env.sopx().args(["rotate", "-i"]).arg(&theirs));
    r.assert_ok("sopx rotate");
    env.sopx_opens(&theirs);
    env.sops_opens(&theirs);
}

#[test]
fn region_comes_from_the_arn_and_aliases_work() {
    let Some(env) = setup() else { return };
    // moto keeps keys per region: a request signed for AWS_REGION would not
    // find this key.
    let arn = env.moto.create_key("eu-west-3");
    let key_id = arn.rsplit('/').next().unwrap();
    env.moto.kms(
        "eu-west-3",
        "CreateAlias",
        json!({"AliasName": "alias/sopx-test", "TargetKeyId": key_id}),
    );
    let alias = format!("arn:aws:kms:eu-west-3:{ACCOUNT}:alias/sopx-test");
    for (name, key) in [("by-arn.yaml", &arn), ("by-alias.yaml", &alias)] {
        let f = env.sopx_encrypt(name, &["--kms", key]);
        assert_eq!(field(&kms_entries(&f)[0], "arn"), key);
        env.sopx_opens(&f);
        env.sops_opens(&f);
    }
    let theirs = env.sops_encrypt("theirs.yaml", &["--kms", &alias]);
    env.sopx_opens(&theirs);
}

#[test]
fn encryption_context_round_trip_and_wrong_context_fails() {
    let Some(env) = setup() else { return };
    let arn = env.moto.create_key("us-east-1");
    let args = ["--kms", &arn, "--encryption-context", "Env:prod,App:web"];
    let ours = env.sopx_encrypt("ours.yaml", &args);
    let theirs = env.sops_encrypt("theirs.yaml", &args);
    let (a, b) = (&kms_entries(&ours)[0], &kms_entries(&theirs)[0]);
    assert_eq!(
        field_names(a),
        ["arn", "context", "created_at", "enc", "aws_profile"]
    );
    assert_eq!(field_names(a), field_names(b));
    // The same context, keys in the same (sorted) order as sops writes them.
    assert_eq!(a["context"], b["context"]);
    let ctx = a["context"].as_mapping().unwrap();
    assert_eq!(
        ctx.keys().map(|k| k.as_str().unwrap()).collect::<Vec<_>>(),
        ["App", "Env"]
    );
    for f in [&ours, &theirs] {
        env.sopx_opens(f);
        env.sops_opens(f);
    }
    // The context is bound to the ciphertext: change it and KMS refuses.
    for f in [&ours, &theirs] {
        edit(f, "Env: prod", "Env: staging");
        let r = run(env.sopx().arg("decrypt").arg(f));
        r.assert_code(128, "sopx decrypt with a changed context");
        assert!(r.stderr.contains(&arn), "{}", r.stderr);
        assert!(
            r.stderr.contains("InvalidCiphertextException"),
            "{}",
            r.stderr
        );
        run(env.sops().arg("decrypt").arg(f)).assert_code(128, "sops decrypt, changed context");
    }
}

#[test]
fn aws_profile_selects_credentials_from_private_files() {
    let Some(env) = setup() else { return };
    let arn = env.moto.create_key("us-east-1");
    let creds = env.sb.write(
        "aws/credentials",
        "[default]\n\n[sopx-test]\naws_access_key_id = profilekey\naws_secret_access_key = profilesecret\n",
    );
    let config = env
        .sb
        .write("aws/config", "[profile sopx-test]\nregion = us-west-2\n");
    let with_profile = |mut c: Command| {
        c.env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env("AWS_SHARED_CREDENTIALS_FILE", &creds)
            .env("AWS_CONFIG_FILE", &config);
        c
    };
    let plain = env.sb.write("plain.yaml", YAML);
    let r = run(with_profile(env.sopx())
        .args(["encrypt", "--kms", &arn, "--aws-profile", "sopx-test"])
        .arg(&plain));
    r.assert_ok("sopx encrypt --aws-profile");
    let ours = env.sb.write("ours.yaml", &r.stdout);
    let r = run(with_profile(env.sops())
        .args(["encrypt", "--kms", &arn, "--aws-profile", "sopx-test"])
        .arg(&plain));
    r.assert_ok("sops encrypt --aws-profile");
    let theirs = env.sb.write("theirs.yaml", &r.stdout);
    let (a, b) = (&kms_entries(&ours)[0], &kms_entries(&theirs)[0]);
    assert_eq!(field(a, "aws_profile"), "sopx-test");
    assert_eq!(field_names(a), field_names(b));
    assert_eq!(field(a, "aws_profile"), field(b, "aws_profile"));

    for f in [&ours, &theirs] {
        let r = run(with_profile(env.sopx()).arg("decrypt").arg(f));
        r.assert_ok("sopx decrypt with the profile of the file");
        same_data(Format::Yaml, YAML, &r.stdout_str()).unwrap();
        run(with_profile(env.sops()).arg("decrypt").arg(f)).assert_ok("sops decrypt, profile");
    }
    // Without the profile there are no credentials at all.
    edit(&ours, "aws_profile: sopx-test", "aws_profile: \"\"");
    let r = run(with_profile(env.sopx()).arg("decrypt").arg(&ours));
    r.assert_code(128, "sopx decrypt without credentials");
    assert!(r.stderr.contains(&arn), "{}", r.stderr);
    assert!(
        r.stderr.contains("no usable AWS credentials"),
        "{}",
        r.stderr
    );
    // A profile that does not exist is named in the error.
    edit(&ours, "aws_profile: \"\"", "aws_profile: nosuchprofile");
    let r = run(with_profile(env.sopx()).arg("decrypt").arg(&ours));
    r.assert_code(128, "sopx decrypt with an unknown profile");
    assert!(r.stderr.contains("nosuchprofile"), "{}", r.stderr);
}

#[test]
fn role_is_assumed_through_sts_like_sops() {
    let Some(env) = setup() else { return };
    let arn = env.moto.create_key("us-east-1");
    let role_ours = format!(
        "arn:aws:iam::{ACCOUNT}:role/sopx-role-{}",
        std::process::id()
    );
    let role_theirs = format!("{role_ours}-sops");
    let ours = env.sopx_encrypt("ours.yaml", &["--kms", &format!("{arn}+{role_ours}")]);
    let theirs = env.sops_encrypt("theirs.yaml", &["--kms", &format!("{arn}+{role_theirs}")]);
    let (a, b) = (&kms_entries(&ours)[0], &kms_entries(&theirs)[0]);
    assert_eq!(
        field_names(a),
        ["arn", "role", "created_at", "enc", "aws_profile"]
    );
    assert_eq!(field_names(a), field_names(b));
    assert_eq!(field(a, "arn"), arn);
    assert_eq!(field(a, "role"), role_ours);
    for f in [&ours, &theirs] {
        env.sopx_opens(f);
        env.sops_opens(f);
    }
    // Both assumed their role with the same session name (sops@<hostname>).
    let state = env.moto.state();
    let roles = state["sts"]["AssumedRole"]
        .as_array()
        .unwrap_or_else(|| panic!("no sts.AssumedRole in moto's state"));
    let session = |role: &str| -> String {
        let names: Vec<&str> = roles
            .iter()
            .filter(|r| r["role_arn"] == role)
            .filter_map(|r| r["session_name"].as_str())
            .collect();
        assert!(!names.is_empty(), "{role} was never assumed");
        assert!(names.iter().all(|n| *n == names[0]), "{names:?}");
        names[0].to_string()
    };
    let ours_session = session(&role_ours);
    assert!(ours_session.starts_with("sops@"), "{ours_session}");
    assert_eq!(ours_session, session(&role_theirs));
}

#[test]
fn missing_key_fails_with_its_arn() {
    let Some(env) = setup() else { return };
    let missing =
        format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/00000000-0000-4000-8000-00000000dead");
    let plain = env.sb.write("plain.yaml", YAML);
    let r = run(env.sopx().args(["encrypt", "--kms", &missing]).arg(&plain));
    r.assert_code(1, "sopx encrypt for a key that does not exist");
    assert!(r.stderr.contains(&missing), "{}", r.stderr);
    assert!(r.stderr.contains("key not found"), "{}", r.stderr);
    assert!(r.stdout.is_empty());
    // sops agrees on the exit code.
    run(env.sops().args(["encrypt", "--kms", &missing]).arg(&plain))
        .assert_code(1, "sops encrypt for a key that does not exist");

    // A file whose key has gone.
    let arn = env.moto.create_key("us-east-1");
    let f = env.sopx_encrypt("ours.yaml", &["--kms", &arn]);
    edit(&f, &arn, &missing);
    let r = run(env.sopx().arg("decrypt").arg(&f));
    r.assert_code(128, "sopx decrypt, key gone");
    assert!(r.stderr.contains(&missing), "{}", r.stderr);
    assert!(r.stderr.contains("key not found"), "{}", r.stderr);
    run(env.sops().arg("decrypt").arg(&f)).assert_code(128, "sops decrypt, key gone");
}

#[test]
fn unreachable_endpoint_is_a_network_error() {
    let Some(env) = setup() else { return };
    let arn = env.moto.create_key("us-east-1");
    let f = env.sopx_encrypt("ours.yaml", &["--kms", &arn]);
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let r = run(env
        .sopx()
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{closed}"))
        .env("AWS_MAX_ATTEMPTS", "1")
        .arg("decrypt")
        .arg(&f));
    r.assert_code(128, "sopx decrypt, endpoint down");
    assert!(r.stderr.contains(&arn), "{}", r.stderr);
    assert!(r.stderr.contains("network error"), "{}", r.stderr);
    // AWS_ENDPOINT_URL_KMS wins over AWS_ENDPOINT_URL.
    let r = run(env
        .sopx()
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{closed}"))
        .env("AWS_ENDPOINT_URL_KMS", env.moto.url())
        .arg("decrypt")
        .arg(&f));
    r.assert_ok("sopx decrypt with AWS_ENDPOINT_URL_KMS");
    assert_eq!(r.stdout_str(), YAML);
}

#[test]
fn five_recipients() {
    let Some(env) = setup() else { return };
    let arns: Vec<String> = (0..5).map(|_| env.moto.create_key("us-east-1")).collect();
    let list = arns.join(",");
    let ours = env.sopx_encrypt("ours.yaml", &["--kms", &list]);
    let entries = kms_entries(&ours);
    assert_eq!(
        entries.iter().map(|e| field(e, "arn")).collect::<Vec<_>>(),
        arns.iter().map(String::as_str).collect::<Vec<_>>()
    );
    let mut encs: Vec<&str> = entries.iter().map(|e| field(e, "enc")).collect();
    encs.sort();
    encs.dedup();
    assert_eq!(encs.len(), 5, "every key has its own ciphertext");
    env.sopx_opens(&ours);
    env.sops_opens(&ours);
    let theirs = env.sops_encrypt("theirs.yaml", &["--kms", &list]);
    env.sopx_opens(&theirs);

    // Any one key is enough: make four entries name keys that do not exist.
    let gone: Vec<String> = (0..5)
        .map(|i| {
            format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/00000000-0000-4000-8000-00000000000{i}")
        })
        .collect();
    for f in [&ours, &theirs] {
        for (arn, gone) in arns[..4].iter().zip(&gone) {
            edit(f, arn, gone);
        }
        env.sopx_opens(f);
    }
    env.sops_opens(&ours);
    // With none left, every key is listed with its reason.
    edit(&ours, &arns[4], &gone[4]);
    let r = run(env.sopx().arg("decrypt").arg(&ours));
    r.assert_code(128, "sopx decrypt, no key left");
    for arn in &gone {
        assert!(
            r.stderr.contains(&format!(
                "{arn}: failed to decrypt the data key with AWS KMS: key not found"
            )),
            "{arn} not in {}",
            r.stderr
        );
    }
    run(env.sops().arg("decrypt").arg(&ours)).assert_code(128, "sops decrypt, no key left");
    // Encrypting fails as soon as one of the five fails.
    let mut some_gone = arns.clone();
    some_gone[2] = gone[2].clone();
    let r = run(env
        .sopx()
        .args(["encrypt", "--kms", &some_gone.join(",")])
        .arg(env.sb.work().join("plain.yaml")));
    r.assert_code(1, "sopx encrypt, one key gone");
    assert!(r.stderr.contains(&gone[2]), "{}", r.stderr);
}

#[test]
fn access_denied_is_reported_with_the_arn() {
    let Some(env) = setup() else { return };
    let Some(bin) = require_moto() else { return };
    // A moto of its own that checks IAM permissions after the first four
    // requests: a key, a user, the user's access key, and a policy that lets
    // the user encrypt but not decrypt.
    let moto = Moto::start(&bin, &[("INITIAL_NO_AUTH_ACTION_COUNT", "4")]);
    let arn = moto.create_key("us-east-1");
    moto.iam(&[("Action", "CreateUser"), ("UserName", "sopx-encrypt-only")]);
    let xml = moto.iam(&[
        ("Action", "CreateAccessKey"),
        ("UserName", "sopx-encrypt-only"),
    ]);
    let (id, secret) = (
        xml_text(&xml, "AccessKeyId").to_string(),
        xml_text(&xml, "SecretAccessKey").to_string(),
    );
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*"}]
    });
    moto.iam(&[
        ("Action", "PutUserPolicy"),
        ("UserName", "sopx-encrypt-only"),
        ("PolicyName", "encrypt-only"),
        ("PolicyDocument", &policy.to_string()),
    ]);
    let as_user = |mut c: Command| {
        c.env("AWS_ENDPOINT_URL", moto.url())
            .env("AWS_ACCESS_KEY_ID", &id)
            .env("AWS_SECRET_ACCESS_KEY", &secret);
        c
    };
    let plain = env.sb.write("plain.yaml", YAML);
    let r = run(as_user(env.sopx())
        .args(["encrypt", "--kms", &arn])
        .arg(&plain));
    r.assert_ok("sopx encrypt with kms:Encrypt allowed");
    let f = env.sb.write("ours.yaml", &r.stdout);
    let r = run(as_user(env.sopx()).arg("decrypt").arg(&f));
    r.assert_code(128, "sopx decrypt without kms:Decrypt");
    assert!(
        r.stderr.contains(&format!(
            "{arn}: failed to decrypt the data key with AWS KMS: access denied"
        )),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("kms:Decrypt"), "{}", r.stderr);
    run(as_user(env.sops()).arg("decrypt").arg(&f))
        .assert_code(128, "sops decrypt without kms:Decrypt");
    // Credentials moto does not know are refused too.
    let r = run(as_user(env.sopx())
        .env("AWS_ACCESS_KEY_ID", "AKIAUNKNOWN")
        .args(["encrypt", "--kms", &arn])
        .arg(&plain));
    r.assert_code(1, "sopx encrypt with unknown credentials");
    assert!(r.stderr.contains(&arn), "{}", r.stderr);
    assert!(r.stderr.contains("access denied"), "{}", r.stderr);
}
