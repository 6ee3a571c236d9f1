//! OpenPGP master keys against GnuPG and the real sops 3.11.
//!
//! Every test makes its own GnuPG home inside its sandbox (keys generated at
//! test time with `gpg --quick-gen-key`, or the sops functional-test keys
//! imported from `../shared/sops-upstream/pgp/`), and stops that home's
//! gpg-agent when done. gpg and sops are required in CI (`require_gpg`,
//! `require_sops`).

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

const YAML: &str = "\
db:
    user: admin
    password: hunter2
    port: 5432
tags:
    - a
    - b
enabled: true
";

const JSON: &str = r#"{
    "db": {"user": "admin", "password": "hunter2", "port": 5432},
    "tags": ["a", "b"],
    "enabled": true
}
"#;

/// The sops functional-test key 1 (RSA 2048, `FBC7…81B4`).
const SOPS_TEST_FP: &str = "FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4";
/// The sops functional-test key 2 (RSA 1024: Sequoia's standard policy
/// refuses it, so sopx falls back to `gpg --encrypt` as sops does).
const SOPS_TEST_FP_1024: &str = "D7229043384BCC60326C6FB9D8720D957C3D3074";

/// A GnuPG home directory; its gpg-agent is stopped when dropped.
struct GpgHome {
    path: PathBuf,
    gpg: PathBuf,
}

impl GpgHome {
    fn new(path: PathBuf, gpg: &Path) -> GpgHome {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700)).unwrap();
        GpgHome {
            path,
            gpg: gpg.to_path_buf(),
        }
    }

    /// The sandbox's own home (`GNUPGHOME` of every sandbox command).
    fn default_of(sb: &Sandbox, gpg: &Path) -> GpgHome {
        GpgHome::new(sb.home().join(".gnupg"), gpg)
    }

    fn cmd(&self, sb: &Sandbox) -> Command {
        let mut c = sb.cmd(&self.gpg);
        c.env("GNUPGHOME", &self.path).arg("--batch");
        c
    }

    /// Generates an unprotected key (ed25519 + cv25519) and returns its fingerprint.
    fn gen_key(&self, sb: &Sandbox, name: &str) -> String {
        let uid = format!("{name} <{name}@example.org>");
        run(self
            .cmd(sb)
            .args(["--passphrase", "", "--quick-gen-key", &uid])
            .args(["future-default", "default", "never"]))
        .assert_ok("gpg --quick-gen-key");
        let r = run(self.cmd(sb).args(["--with-colons", "--list-keys", &uid]));
        r.assert_ok("gpg --list-keys");
        r.stdout_str()
            .lines()
            .find_map(|l| l.strip_prefix("fpr:::::::::"))
            .and_then(|l| l.split(':').next())
            .expect("a fingerprint line")
            .to_string()
    }

    fn import(&self, sb: &Sandbox, file: &Path) {
        run(self.cmd(sb).arg("--import").arg(file)).assert_ok("gpg --import");
    }

    fn import_sops_test_keys(&self, sb: &Sandbox) {
        self.import(
            sb,
            &upstream_dir().join("pgp/sops_functional_tests_key.asc"),
        );
    }

    /// `gpg --export-secret-keys` of an unprotected key.
    fn export_secret(&self, sb: &Sandbox, fp: &str) -> Vec<u8> {
        let r = run(self
            .cmd(sb)
            .args(["--pinentry-mode", "loopback", "--passphrase", ""])
            .args(["--export-secret-keys", fp]));
        r.assert_ok("gpg --export-secret-keys");
        assert!(!r.stdout.is_empty());
        r.stdout
    }
}

impl Drop for GpgHome {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", &self.path)
            .args(["--kill", "gpg-agent"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}

fn tools() -> Option<(PathBuf, PathBuf)> {
    let gpg = require_gpg()?;
    let sops = require_sops()?;
    Some((gpg, sops))
}

fn upstream_key_available() -> bool {
    let p = upstream_dir().join("pgp/sops_functional_tests_key.asc");
    if p.is_file() {
        return true;
    }
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        panic!(
            "{} missing: shared/ must be beside the repo in CI",
            p.display()
        );
    }
    eprintln!(
        "*** {} NOT FOUND: SKIPPING THE sops TEST KEY CASES",
        p.display()
    );
    false
}

/// The `pgp` entries of a file's metadata: (fp, created_at, enc).
fn pgp_entries(format: Format, text: &str) -> Vec<(String, String, String)> {
    let docs = load(format, text).unwrap();
    let sops = docs[0].get("sops").expect("sops metadata");
    let mut out = Vec::new();
    let mut push = |list: &Canon| {
        if let Canon::Seq(items) = list {
            for it in items {
                let s = |k: &str| match it.get(k) {
                    Some(Canon::Str(v)) => v.clone(),
                    other => panic!("pgp entry field {k}: {other:?}"),
                };
                out.push((s("fp"), s("created_at"), s("enc")));
            }
        }
    };
    if let Some(l) = sops.get("pgp") {
        push(l);
    }
    if let Some(Canon::Seq(groups)) = sops.get("key_groups") {
        for g in groups {
            if let Some(l) = g.get("pgp") {
                push(l);
            }
        }
    }
    out
}

/// The checks every sopx-written pgp entry passes: the fingerprint as given
/// (spaces removed), an RFC 3339 UTC `created_at`, and `enc` armored the way
/// sops stores gpg's output (no final newline: `enc: |-` in YAML).
fn check_entry(format: Format, text: &str, fp: &str) -> Result<(), String> {
    let entries = pgp_entries(format, text);
    let Some((_, created, enc)) = entries.iter().find(|e| e.0 == fp) else {
        return Err(format!("no pgp entry for {fp}: {entries:?}"));
    };
    if !(created.len() == 20 && created.ends_with('Z') && created.as_bytes()[10] == b'T') {
        return Err(format!("created_at {created:?}"));
    }
    if !enc.starts_with("-----BEGIN PGP MESSAGE-----\n\n")
        || !enc.ends_with("\n-----END PGP MESSAGE-----")
    {
        return Err(format!("enc is not armored as sops writes it: {enc:?}"));
    }
    let crc = enc.lines().rev().nth(1).unwrap_or("");
    if !(crc.starts_with('=') && crc.len() == 5) {
        return Err(format!("no CRC-24 line before the footer: {enc:?}"));
    }
    if format == Format::Yaml && !text.contains("enc: |-\n") {
        return Err("YAML enc is not written as a `|-` block".into());
    }
    Ok(())
}

fn name_for(format: Format) -> (&'static str, &'static str) {
    match format {
        Format::Yaml => ("secret.yaml", YAML),
        Format::Json => ("secret.json", JSON),
    }
}

/// sopx decrypts `path` (in `sb`, with `extra` env) to the same data as `plain`.
fn sopx_opens(sb: &Sandbox, path: &Path, format: Format, plain: &str) -> Result<(), String> {
    let r = run(sb.sopx().arg("decrypt").arg(path));
    if !r.ok() {
        return Err(format!("sopx decrypt: {}", r.describe()));
    }
    same_data(format, plain, &r.stdout_str()).map_err(|e| format!("sopx decrypt: {e}"))
}

fn sops_opens(
    sb: &Sandbox,
    sops: &Path,
    path: &Path,
    format: Format,
    plain: &str,
) -> Result<(), String> {
    let r = run(sb.sops(sops).arg("decrypt").arg(path));
    if !r.ok() {
        return Err(format!("sops decrypt: {}", r.describe()));
    }
    same_data(format, plain, &r.stdout_str()).map_err(|e| format!("sops decrypt: {e}"))
}

#[test]
fn sopx_pgp_files_open_with_sopx_and_sops() {
    let Some((gpg, sops)) = tools() else { return };
    let sb = Sandbox::new();
    let home = GpgHome::default_of(&sb, &gpg);
    let mut fps = vec![home.gen_key(&sb, "alice")];
    if upstream_key_available() {
        home.import_sops_test_keys(&sb);
        fps.push(SOPS_TEST_FP.into());
        fps.push(SOPS_TEST_FP_1024.into());
    }
    let mut f = Failures::default();
    for fp in &fps {
        for format in [Format::Yaml, Format::Json] {
            let (name, plain) = name_for(format);
            f.check(
                &format!("{fp} {name}"),
                (|| {
                    let src = sb.write(name, plain);
                    let r = run(sb.sopx().args(["encrypt", "--pgp", fp]).arg(&src));
                    if !r.ok() {
                        return Err(format!("sopx encrypt: {}", r.describe()));
                    }
                    let enc = sb.write(&format!("enc-{name}"), &r.stdout);
                    check_entry(format, &r.stdout_str(), fp)?;
                    sopx_opens(&sb, &enc, format, plain)?;
                    sops_opens(&sb, &sops, &enc, format, plain)
                })(),
            );
        }
    }
    f.finish("sopx-written pgp files");
}

#[test]
fn sops_pgp_files_open_with_sopx() {
    let Some((gpg, sops)) = tools() else { return };
    let sb = Sandbox::new();
    let home = GpgHome::default_of(&sb, &gpg);
    let mut fps = vec![home.gen_key(&sb, "bob")];
    if upstream_key_available() {
        home.import_sops_test_keys(&sb);
        fps.push(SOPS_TEST_FP.into());
    }
    let mut f = Failures::default();
    for fp in &fps {
        for format in [Format::Yaml, Format::Json] {
            let (name, plain) = name_for(format);
            f.check(
                &format!("{fp} {name}"),
                (|| {
                    let src = sb.write(name, plain);
                    let r = run(sb.sops(&sops).args(["encrypt", "--pgp", fp]).arg(&src));
                    if !r.ok() {
                        return Err(format!("sops encrypt: {}", r.describe()));
                    }
                    let enc = sb.write(&format!("enc-{name}"), &r.stdout);
                    // sopx reads sops's entries the way it writes its own.
                    check_entry(format, &r.stdout_str(), fp)?;
                    sopx_opens(&sb, &enc, format, plain)
                })(),
            );
        }
    }
    f.finish("sops-written pgp files");
}

#[test]
fn age_and_pgp_recipients_each_open_the_file() {
    let Some((gpg, sops)) = tools() else { return };
    let sb = Sandbox::new();
    let home = GpgHome::default_of(&sb, &gpg);
    let fp = home.gen_key(&sb, "carol");
    let empty = GpgHome::new(sb.root().join("empty-gnupg"), &gpg);
    let mut f = Failures::default();
    for (writer, format) in [
        ("sopx", Format::Yaml),
        ("sopx", Format::Json),
        ("sops", Format::Yaml),
    ] {
        let (name, plain) = name_for(format);
        f.check(
            &format!("{writer} {name}"),
            (|| {
                let src = sb.write(name, plain);
                let mut c = if writer == "sopx" {
                    sb.sopx()
                } else {
                    sb.sops(&sops)
                };
                let r = run(c
                    .args(["encrypt", "--age", &pub1(), "--pgp", &fp])
                    .arg(&src));
                if !r.ok() {
                    return Err(format!("{writer} encrypt: {}", r.describe()));
                }
                let enc = sb.write(&format!("{writer}-{name}"), &r.stdout);
                for (who, mut cmd) in [
                    // age only: no usable GnuPG key.
                    ("sopx, age only", {
                        let mut c = sb.sopx();
                        c.env("GNUPGHOME", &empty.path);
                        c
                    }),
                    ("sops, age only", {
                        let mut c = sb.sops(&sops);
                        c.env("GNUPGHOME", &empty.path);
                        c
                    }),
                    // pgp only: no age identity anywhere.
                    ("sopx, pgp only", {
                        let mut c = sb.sopx();
                        c.env_remove("SOPS_AGE_KEY_FILE");
                        c
                    }),
                    ("sops, pgp only", {
                        let mut c = sb.sops(&sops);
                        c.env_remove("SOPS_AGE_KEY_FILE");
                        c
                    }),
                ] {
                    let r = run(cmd.arg("decrypt").arg(&enc));
                    if !r.ok() {
                        return Err(format!("{who}: {}", r.describe()));
                    }
                    same_data(format, plain, &r.stdout_str()).map_err(|e| format!("{who}: {e}"))?;
                }
                // Neither: both tools fail alike.
                for (who, mut cmd) in [("sopx", sb.sopx()), ("sops", sb.sops(&sops))] {
                    let r = run(cmd
                        .env("GNUPGHOME", &empty.path)
                        .env_remove("SOPS_AGE_KEY_FILE")
                        .arg("decrypt")
                        .arg(&enc));
                    if r.code != Some(128) {
                        return Err(format!("{who} with no key: expected 128, {}", r.describe()));
                    }
                }
                Ok(())
            })(),
        );
    }
    f.finish("age + pgp recipients");
}

#[test]
fn missing_or_wrong_secret_key_exits_128_naming_the_fingerprint() {
    let Some((gpg, sops)) = tools() else { return };
    let sb = Sandbox::new();
    let home = GpgHome::default_of(&sb, &gpg);
    let fp = home.gen_key(&sb, "dave");
    let src = sb.write("secret.yaml", YAML);
    let r = run(sb.sopx().args(["encrypt", "--pgp", &fp]).arg(&src));
    r.assert_ok("sopx encrypt");
    let enc = sb.write("enc.yaml", &r.stdout);

    // No secret key at all (an empty home), the public key only, and an
    // unrelated key pair.
    let empty = GpgHome::new(sb.root().join("empty"), &gpg);
    let public_only = GpgHome::new(sb.root().join("public-only"), &gpg);
    let r = run(home.cmd(&sb).args(["--export", &fp]));
    r.assert_ok("gpg --export");
    let pubkey = sb.write("pub.gpg", &r.stdout);
    public_only.import(&sb, &pubkey);
    let other = GpgHome::new(sb.root().join("other"), &gpg);
    other.gen_key(&sb, "mallory");

    for (what, h) in [
        ("empty home", &empty),
        ("public key only", &public_only),
        ("another key", &other),
    ] {
        let x = run(sb.sopx().env("GNUPGHOME", &h.path).arg("decrypt").arg(&enc));
        x.assert_code(128, &format!("sopx decrypt, {what}"));
        assert!(x.stdout.is_empty(), "{what}: output on failure");
        assert!(
            x.stderr.contains(&fp),
            "{what}: fingerprint missing: {}",
            x.stderr
        );
        assert!(
            x.stderr.contains("No secret key"),
            "{what}: gpg's reason missing: {}",
            x.stderr
        );
        assert!(
            x.stderr.contains(&h.path.display().to_string()),
            "{what}: GnuPG home missing: {}",
            x.stderr
        );
        let s = run(sb
            .sops(&sops)
            .env("GNUPGHOME", &h.path)
            .arg("decrypt")
            .arg(&enc));
        assert_eq!(s.code, Some(128), "sops, {what}: {}", s.describe());
    }

    // Encrypting to a key the keyring lacks fails and names it.
    let missing = "0123456789ABCDEF0123456789ABCDEF01234567";
    let r = run(sb.sopx().args(["encrypt", "--pgp", missing]).arg(&src));
    assert!(!r.ok(), "encrypt to a missing key succeeded");
    assert!(r.stdout.is_empty());
    assert!(r.stderr.contains(missing), "{}", r.stderr);
    assert!(r.stderr.contains("No public key"), "{}", r.stderr);
}

#[test]
fn sops_gpg_exec_is_used() {
    let Some((gpg, sops)) = tools() else { return };
    let sb = Sandbox::new();
    let home = GpgHome::default_of(&sb, &gpg);
    let fp = home.gen_key(&sb, "erin");
    let log = sb.root().join("gpg-calls.log");
    let wrapper = sb.write(
        "gpg-wrapper.sh",
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            gpg.display()
        ),
    );
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let src = sb.write("secret.yaml", YAML);
    let r = run(sb
        .sopx()
        .env("SOPS_GPG_EXEC", &wrapper)
        .args(["encrypt", "--pgp", &fp])
        .arg(&src));
    r.assert_ok("sopx encrypt via the wrapper");
    let enc = sb.write("enc.yaml", &r.stdout);
    let calls = std::fs::read_to_string(&log).unwrap_or_default();
    // `--` ends the options: the fingerprint can never be one.
    assert_eq!(calls, format!("--export -- {fp}\n"), "encrypt calls");

    std::fs::remove_file(&log).unwrap();
    let r = run(sb
        .sopx()
        .env("SOPS_GPG_EXEC", &wrapper)
        .env_remove("SOPS_AGE_KEY_FILE")
        .arg("decrypt")
        .arg(&enc));
    r.assert_ok("sopx decrypt via the wrapper");
    same_data(Format::Yaml, YAML, &r.stdout_str()).unwrap();
    // sops runs `gpg -d` (no --batch, no --use-agent): so does sopx.
    let calls = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(calls, "-d\n", "decrypt calls");

    // The real sops through the same wrapper, for comparison.
    std::fs::remove_file(&log).unwrap();
    let s = run(sb
        .sops(&sops)
        .env("SOPS_GPG_EXEC", &wrapper)
        .arg("decrypt")
        .arg(&enc));
    s.assert_ok("sops decrypt via the wrapper");
    assert_eq!(std::fs::read_to_string(&log).unwrap_or_default(), "-d\n");

    // A SOPS_GPG_EXEC that does not exist: nothing else is run, and the
    // error names it.
    let bogus = sb.root().join("no-such-gpg");
    let r = run(sb
        .sopx()
        .env("SOPS_GPG_EXEC", &bogus)
        .env_remove("SOPS_AGE_KEY_FILE")
        .arg("decrypt")
        .arg(&enc));
    r.assert_code(128, "sopx decrypt with a missing SOPS_GPG_EXEC");
    assert!(
        r.stderr.contains(&bogus.display().to_string()),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("SOPS_GPG_EXEC"), "{}", r.stderr);
    assert!(r.stderr.contains(&fp), "{}", r.stderr);
    let r = run(sb
        .sopx()
        .env("SOPS_GPG_EXEC", &bogus)
        .args(["encrypt", "--pgp", &fp])
        .arg(&src));
    assert!(!r.ok(), "encrypt with a missing SOPS_GPG_EXEC succeeded");
    assert!(r.stderr.contains("SOPS_GPG_EXEC"), "{}", r.stderr);
}

/// A GnuPG 1 style home (`secring.gpg`/`pubring.gpg` files) is read with
/// Sequoia directly, as sops reads it with go-crypto: no gpg binary needed.
#[test]
fn legacy_keyrings_work_without_gpg() {
    let Some((gpg, sops)) = tools() else { return };
    let sb = Sandbox::new();
    let home = GpgHome::default_of(&sb, &gpg);
    let fp = home.gen_key(&sb, "frank");
    let legacy = sb.root().join("legacy");
    std::fs::create_dir_all(&legacy).unwrap();
    std::fs::write(legacy.join("secring.gpg"), home.export_secret(&sb, &fp)).unwrap();
    let r = run(home.cmd(&sb).args(["--export", &fp]));
    r.assert_ok("gpg --export");
    std::fs::write(legacy.join("pubring.gpg"), &r.stdout).unwrap();
    let no_gpg = sb.root().join("no-such-gpg");

    // Encrypt and decrypt with no gpg binary at all.
    let src = sb.write("secret.yaml", YAML);
    let r = run(sb
        .sopx()
        .env("GNUPGHOME", &legacy)
        .env("SOPS_GPG_EXEC", &no_gpg)
        .args(["encrypt", "--pgp", &fp])
        .arg(&src));
    r.assert_ok("sopx encrypt from pubring.gpg");
    check_entry(Format::Yaml, &r.stdout_str(), &fp).unwrap();
    let enc = sb.write("enc.yaml", &r.stdout);
    for (who, mut cmd) in [("sopx", sb.sopx()), ("sops", sb.sops(&sops))] {
        let r = run(cmd
            .env("GNUPGHOME", &legacy)
            .env("SOPS_GPG_EXEC", &no_gpg)
            .env_remove("SOPS_AGE_KEY_FILE")
            .arg("decrypt")
            .arg(&enc));
        r.assert_ok(&format!("{who} decrypt from secring.gpg"));
        same_data(Format::Yaml, YAML, &r.stdout_str()).unwrap();
    }

    // A file sops wrote through gpg (compressed data) opens the same way.
    let r = run(sb.sops(&sops).args(["encrypt", "--pgp", &fp]).arg(&src));
    r.assert_ok("sops encrypt");
    let enc = sb.write("sops-enc.yaml", &r.stdout);
    let r = run(sb
        .sopx()
        .env("GNUPGHOME", &legacy)
        .env("SOPS_GPG_EXEC", &no_gpg)
        .env_remove("SOPS_AGE_KEY_FILE")
        .arg("decrypt")
        .arg(&enc));
    r.assert_ok("sopx decrypt of a sops file from secring.gpg");
    same_data(Format::Yaml, YAML, &r.stdout_str()).unwrap();
}

#[test]
fn fingerprints_from_flags_env_and_config_are_normalised() {
    let Some((gpg, sops)) = tools() else { return };
    let sb = Sandbox::new();
    let home = GpgHome::default_of(&sb, &gpg);
    let fp = home.gen_key(&sb, "grace");
    let spaced: String = fp
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(" ");
    let long_id = fp[fp.len() - 16..].to_string();
    let src = sb.write("secret.yaml", YAML);
    let mut f = Failures::default();
    // (case, `--pgp` value or None for SOPS_PGP_FP, SOPS_PGP_FP, stored fp)
    let lower = fp.to_lowercase();
    let env_fp = format!(" {spaced}");
    let cases = [
        (
            "--pgp with spaces",
            Some(spaced.as_str()),
            None,
            fp.as_str(),
        ),
        ("SOPS_PGP_FP", None, Some(env_fp.as_str()), fp.as_str()),
        (
            "--pgp long key ID",
            Some(long_id.as_str()),
            None,
            long_id.as_str(),
        ),
        (
            "--pgp lower case",
            Some(lower.as_str()),
            None,
            lower.as_str(),
        ),
    ];
    for (what, flag, env_fp, stored) in cases {
        f.check(
            what,
            (|| {
                let mut cmd = sb.sopx();
                cmd.arg("encrypt");
                if let Some(v) = flag {
                    cmd.args(["--pgp", v]);
                }
                if let Some(v) = env_fp {
                    cmd.env("SOPS_PGP_FP", v);
                }
                let r = run(cmd.arg(&src));
                if !r.ok() {
                    return Err(format!("sopx encrypt: {}", r.describe()));
                }
                check_entry(Format::Yaml, &r.stdout_str(), stored)?;
                let enc = sb.write("enc.yaml", &r.stdout);
                sopx_opens(&sb, &enc, Format::Yaml, YAML)?;
                sops_opens(&sb, &sops, &enc, Format::Yaml, YAML)
            })(),
        );
    }
    // .sops.yaml creation rule with a spaced fingerprint.
    sb.write(
        ".sops.yaml",
        format!("creation_rules:\n  - path_regex: secret\\.yaml$\n    pgp: '{spaced}'\n"),
    );
    f.check(
        ".sops.yaml",
        (|| {
            let r = run(sb.sopx().arg("encrypt").arg("secret.yaml"));
            if !r.ok() {
                return Err(format!("sopx encrypt: {}", r.describe()));
            }
            check_entry(Format::Yaml, &r.stdout_str(), &fp)?;
            let enc = sb.write("enc.yaml", &r.stdout);
            sopx_opens(&sb, &enc, Format::Yaml, YAML)?;
            sops_opens(&sb, &sops, &enc, Format::Yaml, YAML)
        })(),
    );
    f.finish("fingerprint forms");
}

/// A passphrase-protected key is used through gpg-agent, as with sops: with
/// no cached passphrase and no terminal the decryption fails (exit 128,
/// gpg's reason shown); once the agent holds the passphrase it succeeds.
#[test]
fn protected_key_is_used_through_gpg_agent() {
    let Some((gpg, sops)) = tools() else { return };
    let sb = Sandbox::new();
    let home = GpgHome::default_of(&sb, &gpg);
    let uid = "locked <locked@example.org>";
    run(home
        .cmd(&sb)
        .args([
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "correct horse",
        ])
        .args(["--quick-gen-key", uid, "future-default", "default", "never"]))
    .assert_ok("gpg --quick-gen-key with a passphrase");
    let r = run(home.cmd(&sb).args(["--with-colons", "--list-keys", uid]));
    let fp = r
        .stdout_str()
        .lines()
        .find_map(|l| l.strip_prefix("fpr:::::::::"))
        .and_then(|l| l.split(':').next())
        .expect("a fingerprint")
        .to_string();
    let src = sb.write("secret.yaml", YAML);
    let r = run(sb.sopx().args(["encrypt", "--pgp", &fp]).arg(&src));
    r.assert_ok("sopx encrypt (needs no passphrase)");
    let enc = sb.write("enc.yaml", &r.stdout);

    // A fresh agent knows no passphrase, and pinentry has no terminal.
    drop(
        Command::new("gpgconf")
            .env("GNUPGHOME", &home.path)
            .args(["--kill", "gpg-agent"])
            .status(),
    );
    let r = run_timeout(
        sb.sopx()
            .env_remove("SOPS_AGE_KEY_FILE")
            .arg("decrypt")
            .arg(&enc),
        120,
    )
    .expect("sopx decrypt hung waiting for a passphrase");
    r.assert_code(128, "sopx decrypt with the passphrase unknown");
    assert!(r.stderr.contains(&fp), "{}", r.stderr);
    assert!(
        r.stderr.contains("gpg: "),
        "gpg's reason missing: {}",
        r.stderr
    );

    // Unlock once through the agent (loopback pinentry caches it).
    let msg = run_stdin(
        home.cmd(&sb)
            .args(["--trust-model", "always", "-e", "-r", &fp]),
        b"unlock",
    );
    msg.assert_ok("gpg -e");
    let r = run_stdin(
        home.cmd(&sb)
            .args([
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "correct horse",
            ])
            .arg("-d"),
        &msg.stdout,
    );
    r.assert_ok("gpg -d with the passphrase");

    for (who, mut cmd) in [("sopx", sb.sopx()), ("sops", sb.sops(&sops))] {
        let r = run_timeout(
            cmd.env_remove("SOPS_AGE_KEY_FILE").arg("decrypt").arg(&enc),
            120,
        )
        .unwrap_or_else(|| panic!("{who} decrypt hung"));
        r.assert_ok(&format!("{who} decrypt with the agent's cached passphrase"));
        same_data(Format::Yaml, YAML, &r.stdout_str()).unwrap();
    }
}

/// A fingerprint is a value for gpg, never an option: `--output=PATH` in a
/// file's metadata (which no MAC covers), on the command line or in
/// `.sops.yaml` is refused before gpg runs, so `gpg --export` cannot write
/// the keyring where an attacker wants it.
#[test]
fn hostile_fingerprints_never_reach_gpg_as_options() {
    let Some((gpg, _sops)) = tools() else { return };
    let sb = Sandbox::new();
    let home = GpgHome::default_of(&sb, &gpg);
    let fp = home.gen_key(&sb, "mallory-target");
    let src = sb.write("secret.yaml", YAML);
    let r = run(sb
        .sopx()
        .args(["encrypt", "--age", &pub1(), "--pgp", &fp])
        .arg(&src));
    r.assert_ok("sopx encrypt");
    let text = r.stdout_str();
    assert!(text.contains(&fp));
    let mut written = Vec::new();
    for (i, hostile) in ["--output={}", "-o{}", "--homedir={}"].iter().enumerate() {
        let target = sb.root().join(format!("pwned-{i}"));
        written.push(target.clone());
        let hostile = hostile.replace("{}", &target.display().to_string());
        // In the metadata: rotate re-wraps the data key for every entry.
        let f = sb.write("enc.yaml", text.replace(&fp, &hostile));
        let r = run(sb.sopx().args(["rotate", "-i"]).arg(&f));
        r.assert_code(2, "rotate with a hostile fp in the metadata");
        assert!(
            r.stderr.contains("is not a PGP fingerprint"),
            "{}",
            r.stderr
        );
        // On the command line.
        let r = run(sb
            .sopx()
            .args(["encrypt", &format!("--pgp={hostile}")])
            .arg(&src));
        assert!(!r.ok(), "--pgp={hostile} was accepted");
        assert!(
            r.stderr.contains("is not a PGP fingerprint"),
            "{}",
            r.stderr
        );
        // In .sops.yaml.
        sb.write(
            ".sops.yaml",
            format!("creation_rules:\n  - pgp: '{hostile}'\n"),
        );
        let r = run(sb.sopx().arg("encrypt").arg("secret.yaml"));
        assert!(!r.ok(), ".sops.yaml pgp {hostile} was accepted");
        assert!(
            r.stderr.contains("is not a PGP fingerprint"),
            "{}",
            r.stderr
        );
        std::fs::remove_file(sb.work().join(".sops.yaml")).unwrap();
    }
    for t in &written {
        assert!(!t.exists(), "gpg wrote {}", t.display());
    }
    // Real fingerprints in their usual forms still work.
    for good in [
        fp.clone(),
        format!("0x{fp}"),
        fp[fp.len() - 16..].to_string(),
    ] {
        let r = run(sb.sopx().args(["encrypt", "--pgp", &good]).arg(&src));
        r.assert_ok(&format!("--pgp {good}"));
    }
}
