//! OpenPGP master keys.
//!
//! sops 3.11 (`pgp/keysource.go`) handles a pgp entry in two steps, each
//! falling back to the next:
//!
//! | operation | 1. library (go-crypto) | 2. the `gpg` binary |
//! | --- | --- | --- |
//! | encrypt | public key from `$GNUPGHOME/pubring.gpg` | `gpg --no-default-recipient --yes --encrypt -a -r FP --trusted-key LAST16 --no-encrypt-to`, stdout trimmed |
//! | decrypt | secret key from `$GNUPGHOME/secring.gpg` (else `pubring.gpg`) | `gpg -d`, the armored message on stdin |
//!
//! The library step only works with GnuPG 1 style keyrings: GnuPG ≥ 2.1
//! keeps public keys in `pubring.kbx` and secret keys behind gpg-agent, so
//! with a current GnuPG sops always ends up running the binary. The binary
//! is `$SOPS_GPG_EXEC` when set and not empty, else `gpg` from `PATH`
//! (run directly, no shell); sops passes neither `--batch` nor `--homedir`,
//! so gpg's own `GNUPGHOME`, gpg-agent, pinentry and smartcards all apply.
//!
//! sopx does the same, with Sequoia in place of go-crypto, and builds the
//! message itself whenever it can get the public key:
//!
//! * **encrypt**: the certificate comes from `$GNUPGHOME/pubring.gpg` if that
//!   file holds it, else from `gpg --export FP`; Sequoia encrypts to its
//!   newest valid encryption key. When that fails (no such key, or a key
//!   Sequoia's standard policy or pure-Rust backend refuses, such as ElGamal
//!   or RSA-1024) sopx runs sops's `gpg --encrypt` command instead.
//! * **decrypt**: Sequoia with unprotected secret keys from
//!   `$GNUPGHOME/secring.gpg` (else `pubring.gpg`) when such a file exists
//!   (passphrase-protected keys there are left to gpg), then `gpg -d`.
//!
//! `enc` is written as sops writes it: ASCII armor with a blank line after
//! the header, 64-column base64, the CRC-24 line, and no newline after
//! `-----END PGP MESSAGE-----` (sops trims gpg's output, so YAML shows
//! `enc: |-`). The message is a version 3 PKESK and a SEIPD version 1 packet
//! (with MDC) around a binary literal packet, which every GnuPG and sops
//! version reads; SEIPD version 2 is only used for version 6 keys.
//!
//! `GNUPGHOME` is `$GNUPGHOME` when set and not empty, else `$HOME/.gnupg`.
//! sops has no variable naming a keyring file (`SOPS_PGP_KEYRING` does not
//! exist); the two legacy file names above are the only ones read directly.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[cfg(feature = "pgp")]
mod sequoia;
#[cfg(feature = "pgp")]
use sequoia::{cert_has, key_handle, open_with_certs, pick_exported, read_ring, seal};
use zeroize::Zeroizing;

use super::KeyError;
use super::env::non_empty;
pub use super::env::{Env, ProcessEnv};

/// Names the GnuPG binary to run instead of `gpg`.
pub const SOPS_GPG_EXEC: &str = "SOPS_GPG_EXEC";
/// GnuPG's home directory (keyrings, gpg-agent sockets).
pub const GNUPGHOME: &str = "GNUPGHOME";
/// The GnuPG 1 public keyring, relative to the GnuPG home.
pub const LEGACY_PUBRING: &str = "pubring.gpg";
/// The GnuPG 1 secret keyring, relative to the GnuPG home.
pub const LEGACY_SECRING: &str = "secring.gpg";

// ---------------------------------------------------------------------------
// Fingerprints
// ---------------------------------------------------------------------------

/// The fingerprint as sops stores it: surrounding and inner spaces removed
/// (`NewMasterKeyFromFingerprint`), case kept.
pub fn normalize_fingerprint(fp: &str) -> String {
    fp.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Checks a fingerprint from the command line, `.sops.yaml` or a file's
/// metadata: after spaces are removed, hexadecimal digits only (an `0x`
/// prefix allowed, as gpg allows it), as many as gpg uses: 16 (a long key
/// ID), 32 (a v3 fingerprint), 40 (v4) or 64 (v5/v6). The value goes to
/// `gpg` as an argument, so nothing else (an option such as `--output=…`, a
/// user ID, a file name) may pass.
pub fn check_fingerprint(fp: &str) -> Result<(), FingerprintError> {
    let s = normalize_fingerprint(fp);
    let hex = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(&s);
    if matches!(hex.len(), 16 | 32 | 40 | 64) && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(FingerprintError(fp.chars().take(80).collect()))
    }
}

/// A string [`check_fingerprint`] refuses; the message shows its first 80
/// characters and what a fingerprint looks like.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a PGP fingerprint (expected 16, 32, 40 or 64 hexadecimal digits)")]
pub struct FingerprintError(String);

/// sops's `shortenFingerprint`: the last 16 characters (the long key ID of a
/// v4 fingerprint), for `--trusted-key`.
fn short_id(fp: &str) -> &str {
    let n = fp.chars().count();
    match fp.char_indices().nth(n.saturating_sub(16)) {
        Some((i, _)) if n > 16 => &fp[i..],
        _ => fp,
    }
}

// ---------------------------------------------------------------------------
// Environment and the gpg binary
// ---------------------------------------------------------------------------

/// `$GNUPGHOME`, else `$HOME/.gnupg` (what gpg itself uses).
pub fn gnupg_home(env: &dyn Env) -> Option<PathBuf> {
    if let Some(h) = non_empty(env, GNUPGHOME) {
        return Some(PathBuf::from(h));
    }
    let home = if cfg!(windows) { "USERPROFILE" } else { "HOME" };
    non_empty(env, home).map(|h| PathBuf::from(h).join(".gnupg"))
}

/// The GnuPG binary sops would run.
struct Gpg {
    program: OsString,
    /// Passed on explicitly so that an injected [`Env`] reaches gpg too.
    home: Option<OsString>,
    from_env: bool,
}

/// What a gpg run printed.
struct GpgOutput {
    stdout: Zeroizing<Vec<u8>>,
    #[cfg_attr(not(feature = "pgp"), allow(dead_code))]
    stderr: String,
}

/// Why a gpg run failed.
enum GpgError {
    /// The binary could not be started at all.
    NotRun(String),
    /// It ran and failed: its stderr (one line), or its exit status.
    Failed(String),
}

impl std::fmt::Display for GpgError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GpgError::NotRun(m) | GpgError::Failed(m) => f.write_str(m),
        }
    }
}

impl Gpg {
    fn from_env(env: &dyn Env) -> Gpg {
        let exec = non_empty(env, SOPS_GPG_EXEC);
        Gpg {
            from_env: exec.is_some(),
            program: exec.unwrap_or_else(|| "gpg".into()),
            home: non_empty(env, GNUPGHOME),
        }
    }

    /// `gpg -d` or `SOPS_GPG_EXEC=/path -d`, for messages.
    fn show(&self, args: &[&str]) -> String {
        let prog = self.program.to_string_lossy();
        let prog = if self.from_env {
            format!("{prog} (from {SOPS_GPG_EXEC})")
        } else {
            prog.into_owned()
        };
        format!("{prog} {}", args.join(" "))
    }

    /// Runs gpg with `stdin`; an error carries gpg's stderr (trimmed, one
    /// line) or says why it could not be started.
    fn run(&self, args: &[&str], stdin: &[u8]) -> Result<GpgOutput, GpgError> {
        let mut cmd = Command::new(&self.program);
        cmd.args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(h) = &self.home {
            cmd.env(GNUPGHOME, h);
        }
        let mut child = cmd.spawn().map_err(|e| {
            let hint = if e.kind() == std::io::ErrorKind::NotFound {
                if self.from_env {
                    format!("; check {SOPS_GPG_EXEC}")
                } else {
                    "; install GnuPG or set SOPS_GPG_EXEC".to_string()
                }
            } else {
                String::new()
            };
            GpgError::NotRun(format!(
                "could not run {}: {e}{hint}",
                Path::new(&self.program).display()
            ))
        })?;
        let mut input = child.stdin.take().expect("piped stdin");
        let mut out = child.stdout.take().expect("piped stdout");
        let mut err = child.stderr.take().expect("piped stderr");
        let data = Zeroizing::new(stdin.to_vec());
        let (stdout, stderr, status) = std::thread::scope(|s| {
            // gpg may stop reading early (a bad message); a broken pipe then
            // is not the error worth reporting, its stderr is.
            s.spawn(move || {
                let _ = input.write_all(&data);
            });
            let stderr = s.spawn(move || {
                let mut v = Vec::new();
                let _ = err.read_to_end(&mut v);
                v
            });
            let mut stdout = Zeroizing::new(Vec::new());
            let read = out.read_to_end(&mut stdout);
            let stderr = stderr.join().unwrap_or_default();
            let status = child.wait();
            (read.map(|_| stdout), stderr, status)
        });
        let stderr = one_line(&String::from_utf8_lossy(&stderr));
        let status = status.map_err(|e| GpgError::Failed(format!("waiting for gpg: {e}")))?;
        let stdout = stdout.map_err(|e| GpgError::Failed(format!("reading gpg's output: {e}")))?;
        if !status.success() {
            return Err(GpgError::Failed(if stderr.is_empty() {
                format!("{status}")
            } else {
                stderr
            }));
        }
        Ok(GpgOutput { stdout, stderr })
    }
}

/// gpg's stderr on one line: lines trimmed, blank ones dropped, `; ` between.
fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

// ---------------------------------------------------------------------------
// Encryption
// ---------------------------------------------------------------------------

/// Encrypts `secret` to the key with this fingerprint; returns the armored
/// message exactly as sops stores it in `enc`. gpg runs with the variables
/// of `env` (`GNUPGHOME`, `SOPS_GPG_EXEC`...).
pub fn encrypt_with(env: &dyn Env, fingerprint: &str, secret: &[u8]) -> Result<String, KeyError> {
    check_fingerprint(fingerprint).map_err(|e| KeyError::Encrypt {
        key: "pgp key".into(),
        msg: e.to_string(),
    })?;
    let fp = normalize_fingerprint(fingerprint);
    let mut failures = Vec::new();
    let gpg = Gpg::from_env(env);
    // Without the OpenPGP library, gpg does it all, as it does for sops
    // with a current GnuPG.
    #[cfg(feature = "pgp")]
    if let Some(enc) = encrypt_in_process(env, &gpg, &fp, secret, &mut failures)? {
        return Ok(enc);
    }

    // 3. gpg encrypts, exactly as sops runs it.
    let args = [
        "--no-default-recipient",
        "--yes",
        "--encrypt",
        "-a",
        "-r",
        fp.as_str(),
        "--trusted-key",
        short_id(&fp),
        "--no-encrypt-to",
    ];
    match gpg.run(&args, secret) {
        Ok(out) => {
            let text = String::from_utf8_lossy(&out.stdout);
            let text = text.trim();
            if text.starts_with("-----BEGIN PGP MESSAGE-----") {
                return Ok(text.to_string());
            }
            failures.push(format!(
                "{}: no armored message on its output",
                gpg.show(&["--encrypt"])
            ));
        }
        Err(e) => failures.push(format!("{}: {e}", gpg.show(&["--encrypt"]))),
    }

    Err(encrypt_error(env, &fp, &failures))
}

/// Steps 1 and 2 of [`encrypt_with`]: the certificate from a GnuPG 1 keyring
/// or `gpg --export`, encrypted to with Sequoia. `None` when neither worked
/// (the reasons are in `failures`) and gpg should try.
#[cfg(feature = "pgp")]
fn encrypt_in_process(
    env: &dyn Env,
    gpg: &Gpg,
    fp: &str,
    secret: &[u8],
    failures: &mut Vec<String>,
) -> Result<Option<String>, KeyError> {
    let handle = key_handle(fp);
    // 1. A GnuPG 1 public keyring, read directly (as sops does).
    if let (Some(home), Some(h)) = (gnupg_home(env), &handle) {
        let ring = home.join(LEGACY_PUBRING);
        if ring.is_file() {
            match read_ring(&ring).map(|certs| certs.into_iter().find(|c| cert_has(c, h))) {
                Ok(Some(cert)) => match seal(&cert, secret) {
                    Ok(enc) => return Ok(Some(enc)),
                    Err(e) => failures.push(format!("{}: {e}", ring.display())),
                },
                Ok(None) => {}
                Err(e) => failures.push(format!("{}: {e}", ring.display())),
            }
        }
    }

    // 2. The certificate exported by gpg, encrypted to with Sequoia.
    // `--` ends gpg's options: whatever follows is a key to export.
    let export = ["--export", "--", fp];
    match gpg.run(&export, &[]) {
        Err(e @ GpgError::NotRun(_)) => {
            failures.push(e.to_string());
            return Err(encrypt_error(env, fp, failures));
        }
        Err(e) => failures.push(format!("{}: {e}", gpg.show(&export))),
        Ok(out) => match pick_exported(&out, handle.as_ref()).and_then(|c| seal(&c, secret)) {
            Ok(enc) => return Ok(Some(enc)),
            Err(e) => failures.push(format!("{}: {e}", gpg.show(&export))),
        },
    }
    Ok(None)
}

fn encrypt_error(env: &dyn Env, fp: &str, failures: &[String]) -> KeyError {
    let home = gnupg_home(env).map_or_else(
        || "unknown: neither GNUPGHOME nor HOME is set".to_string(),
        |h| h.display().to_string(),
    );
    KeyError::Encrypt {
        key: format!("pgp key {fp}"),
        msg: format!("{} (GnuPG home {home})", failures.join("; ")),
    }
}

// ---------------------------------------------------------------------------
// Decryption
// ---------------------------------------------------------------------------

/// Decrypts an armored message written for the key with this fingerprint,
/// gpg running with the variables of `env`.
///
/// The error says what was tried and why each step failed (gpg's own
/// messages included); callers name the key in front of it, as
/// `keys::unwrap_data_key` does.
pub fn decrypt_with(
    env: &dyn Env,
    _fingerprint: &str, // the message names its recipients itself
    enc: &str,
) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let mut failures = Vec::new();

    // 1. A GnuPG 1 keyring read directly: secring.gpg, else pubring.gpg.
    let home = gnupg_home(env);
    let ring = home.as_ref().and_then(|h| {
        [LEGACY_SECRING, LEGACY_PUBRING]
            .iter()
            .map(|n| h.join(n))
            .find(|p| p.is_file())
    });
    #[cfg(feature = "pgp")]
    if let Some(ring) = &ring {
        match read_ring(ring).and_then(|certs| open_with_certs(&certs, enc)) {
            Ok(secret) => return Ok(secret),
            Err(e) => failures.push(format!("{}: {e}", ring.display())),
        }
    }

    // 2. gpg -d, with gpg-agent, pinentry and smartcards as configured.
    let gpg = Gpg::from_env(env);
    match gpg.run(&["-d"], enc.as_bytes()) {
        Ok(out) => return Ok(out.stdout),
        Err(e @ GpgError::NotRun(_)) => failures.push(e.to_string()),
        Err(e) => failures.push(format!("{}: {e}", gpg.show(&["-d"]))),
    }

    let where_ = match (&home, &ring) {
        (Some(h), None) => format!(
            " (GnuPG home {}; no {LEGACY_SECRING} or {LEGACY_PUBRING} there to read directly)",
            h.display()
        ),
        (Some(h), Some(_)) => format!(" (GnuPG home {})", h.display()),
        (None, _) => " (neither GNUPGHOME nor HOME is set)".to_string(),
    };
    Err(KeyError::Identity(format!(
        "could not decrypt the data key: {}{where_}",
        failures.join("; ")
    )))
}

#[cfg(all(test, feature = "pgp"))]
mod tests {
    use super::*;
    use openpgp::KeyHandle;
    use openpgp::cert::Cert;
    use openpgp::cert::{CertBuilder, CipherSuite, Preferences};
    use openpgp::packet::PKESK;
    use openpgp::parse::Parse;
    use openpgp::policy::StandardPolicy;
    use openpgp::serialize::Serialize;
    use openpgp::{Packet, PacketPile};
    use sequoia::key_handle;
    use sequoia_openpgp as openpgp;
    use std::collections::HashMap;

    const SECRET: &[u8; 32] = b"0123456789abcdef0123456789abcdef";

    /// An environment holding only these variables.
    fn env(vars: &[(&str, &Path)]) -> impl Fn(&str) -> Option<OsString> + use<> {
        let map: HashMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_os_str().to_owned()))
            .collect();
        move |name: &str| map.get(name).cloned()
    }

    fn new_cert(password: Option<&str>) -> Cert {
        CertBuilder::general_purpose(Some("sopx test <test@example.org>"))
            .set_cipher_suite(CipherSuite::Cv25519)
            .set_password(password.map(Into::into))
            .generate()
            .unwrap()
            .0
    }

    /// A GnuPG home with legacy keyrings for `certs` (public and secret),
    /// and a `SOPS_GPG_EXEC` that cannot run, so only Sequoia can work.
    struct Home {
        dir: tempfile::TempDir,
    }

    impl Home {
        fn new(pubring: &[&Cert], secring: &[&Cert]) -> Home {
            let dir = tempfile::tempdir().unwrap();
            if !pubring.is_empty() {
                let mut f = std::fs::File::create(dir.path().join(LEGACY_PUBRING)).unwrap();
                for c in pubring {
                    c.serialize(&mut f).unwrap();
                }
            }
            if !secring.is_empty() {
                let mut f = std::fs::File::create(dir.path().join(LEGACY_SECRING)).unwrap();
                for c in secring {
                    c.as_tsk().serialize(&mut f).unwrap();
                }
            }
            Home { dir }
        }
        fn gpg(&self) -> PathBuf {
            self.dir.path().join("no-such-gpg")
        }
        fn env(&self) -> impl Fn(&str) -> Option<OsString> + use<> {
            let gpg = self.gpg();
            env(&[(GNUPGHOME, self.dir.path()), (SOPS_GPG_EXEC, &gpg)])
        }
    }

    fn packets(enc: &str) -> Vec<Packet> {
        PacketPile::from_bytes(enc.as_bytes())
            .unwrap()
            .into_children()
            .collect()
    }

    #[test]
    fn fingerprints_are_normalised_and_matched() {
        assert_eq!(
            normalize_fingerprint(" FBC7 B9E2 A4F9 289A C0C1  D484 3D16 CEE4 A273 81B4 "),
            "FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4"
        );
        let fp = key_handle("fbc7b9e2a4f9289ac0c1d4843d16cee4a27381b4").unwrap();
        let id = key_handle("0x3D16CEE4A27381B4").unwrap();
        assert!(matches!(fp, KeyHandle::Fingerprint(_)));
        assert!(matches!(id, KeyHandle::KeyID(_)));
        assert!(fp.aliases(&id));
        assert_eq!(key_handle("user@example.org"), None);
        assert_eq!(key_handle("ABCDEF"), None);
        assert_eq!(
            short_id("FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4"),
            "3D16CEE4A27381B4"
        );
        assert_eq!(short_id("3D16CEE4A27381B4"), "3D16CEE4A27381B4");
        assert_eq!(short_id("ABC"), "ABC");
    }

    #[test]
    fn gnupg_home_and_gpg_binary_follow_the_environment() {
        let e = env(&[(GNUPGHOME, Path::new("/g")), ("HOME", Path::new("/h"))]);
        assert_eq!(gnupg_home(&e), Some(PathBuf::from("/g")));
        let e = env(&[(GNUPGHOME, Path::new("")), ("HOME", Path::new("/h"))]);
        assert_eq!(gnupg_home(&e), Some(PathBuf::from("/h/.gnupg")));
        assert_eq!(gnupg_home(&env(&[])), None);

        let g = Gpg::from_env(&env(&[]));
        assert_eq!(g.program, "gpg");
        assert_eq!(g.show(&["-d"]), "gpg -d");
        let g = Gpg::from_env(&env(&[(SOPS_GPG_EXEC, Path::new(""))]));
        assert_eq!(g.program, "gpg");
        let g = Gpg::from_env(&env(&[(SOPS_GPG_EXEC, Path::new("/opt/gpg2"))]));
        assert_eq!(g.program, "/opt/gpg2");
        assert_eq!(g.show(&["-d"]), "/opt/gpg2 (from SOPS_GPG_EXEC) -d");
    }

    #[test]
    fn legacy_keyrings_round_trip_with_sops_armor() {
        let cert = new_cert(None);
        let home = Home::new(&[&cert], &[&cert]);
        let fp = cert.fingerprint().to_hex();
        let enc = encrypt_with(&home.env(), &fp, SECRET).unwrap();

        // Armor exactly as sops stores gpg's output.
        assert!(enc.starts_with("-----BEGIN PGP MESSAGE-----\n\n"), "{enc}");
        assert!(enc.ends_with("\n-----END PGP MESSAGE-----"), "{enc}");
        let lines: Vec<&str> = enc.lines().collect();
        assert!(lines.iter().all(|l| l.len() <= 64));
        let crc = lines[lines.len() - 2];
        assert!(crc.starts_with('=') && crc.len() == 5, "CRC line: {crc}");

        // PKESK v3 to the encryption subkey, then SEIPD v1, although a
        // Sequoia certificate advertises SEIPD v2.
        assert!(
            cert.with_policy(&StandardPolicy::new(), None)
                .unwrap()
                .features()
                .unwrap()
                .supports_seipdv2()
        );
        let subkey = cert
            .keys()
            .with_policy(&StandardPolicy::new(), None)
            .for_storage_encryption()
            .next()
            .unwrap()
            .key()
            .keyid()
            .to_hex();
        match &packets(&enc)[..] {
            [Packet::PKESK(PKESK::V3(p)), Packet::SEIP(s)] => {
                assert_eq!(p.recipient().unwrap().to_hex(), subkey);
                assert_eq!(s.version(), 1);
            }
            other => panic!("unexpected packets {other:?}"),
        }

        let got = decrypt_with(&home.env(), &fp, &enc).unwrap();
        assert_eq!(&got[..], SECRET);

        // The long key ID, lower case and spaced forms find the same key.
        for name in [
            fp.to_lowercase(),
            cert.keyid().to_hex(),
            cert.fingerprint().to_spaced_hex(),
        ] {
            let enc = encrypt_with(&home.env(), &name, SECRET).unwrap();
            assert_eq!(&decrypt_with(&home.env(), &name, &enc).unwrap()[..], SECRET);
        }
    }

    #[test]
    fn pubring_alone_serves_as_secring_like_sops() {
        // No secring.gpg: sops (and sopx) read secret keys from pubring.gpg.
        let cert = new_cert(None);
        let dir = tempfile::tempdir().unwrap();
        let mut f = std::fs::File::create(dir.path().join(LEGACY_PUBRING)).unwrap();
        cert.as_tsk().serialize(&mut f).unwrap();
        drop(f);
        let gpg = dir.path().join("no-such-gpg");
        let e = env(&[(GNUPGHOME, dir.path()), (SOPS_GPG_EXEC, &gpg)]);
        let fp = cert.fingerprint().to_hex();
        let enc = encrypt_with(&e, &fp, SECRET).unwrap();
        assert_eq!(&decrypt_with(&e, &fp, &enc).unwrap()[..], SECRET);
    }

    #[test]
    fn protected_and_foreign_keys_give_clear_errors() {
        let mine = new_cert(None);
        let other = new_cert(None);
        let locked = new_cert(Some("hunter2"));
        let fp = mine.fingerprint().to_hex();
        let enc = encrypt_with(&Home::new(&[&mine], &[]).env(), &fp, SECRET).unwrap();

        let home = Home::new(&[], &[&other]);
        let err = decrypt_with(&home.env(), &fp, &enc)
            .unwrap_err()
            .to_string();
        assert!(err.contains("none of its secret keys matches"), "{err}");
        assert!(err.contains(LEGACY_SECRING), "{err}");
        assert!(err.contains("could not run"), "{err}");
        assert!(err.contains(&home.gpg().display().to_string()), "{err}");
        assert!(err.contains("SOPS_GPG_EXEC"), "{err}");

        let home = Home::new(&[], &[&locked]);
        let err = decrypt_with(&home.env(), &fp, &enc)
            .unwrap_err()
            .to_string();
        assert!(err.contains("passphrase-protected (left to gpg)"), "{err}");

        // No legacy keyring at all: the message says where it looked.
        let home = Home::new(&[], &[]);
        let err = decrypt_with(&home.env(), &fp, &enc).unwrap_err();
        assert_eq!(err.exit_code(), crate::error::codes::COULD_NOT_RETRIEVE_KEY);
        let err = err.to_string();
        assert!(err.contains("no secring.gpg or pubring.gpg there"), "{err}");
        assert!(
            err.contains(&home.dir.path().display().to_string()),
            "{err}"
        );
    }

    #[test]
    fn encrypt_errors_name_the_key_and_every_step() {
        let cert = new_cert(None);
        let home = Home::new(&[&cert], &[]);
        let fp = "0000000000000000000000000000000000000000";
        let err = encrypt_with(&home.env(), fp, SECRET).unwrap_err();
        // sops 3.11 exits 1 when it cannot encrypt to a recipient.
        assert_eq!(err.exit_code(), crate::error::codes::ERROR_GENERIC);
        let err = err.to_string();
        assert!(err.contains(&format!("pgp key {fp}")), "{err}");
        assert!(err.contains("SOPS_GPG_EXEC"), "{err}");
        assert!(
            !err.contains("--encrypt"),
            "gpg is missing: no second try: {err}"
        );
        assert!(err.contains("could not run"), "{err}");
    }
}
