//! The OpenPGP implementation (Sequoia) behind the `pgp` feature: reading
//! GnuPG 1 keyrings and `gpg --export` output, and building or opening the
//! message without the gpg binary.

use std::io::{Read, Write};
use std::path::Path;

use sequoia_openpgp as openpgp;

use openpgp::KeyHandle;
use openpgp::armor;
use openpgp::cert::{Cert, CertParser};
use openpgp::crypto::{KeyPair, SessionKey};
use openpgp::packet::{PKESK, SKESK};
use openpgp::parse::Parse;
use openpgp::parse::stream::{
    DecryptionHelper, DecryptorBuilder, MessageStructure, VerificationHelper,
};
use openpgp::policy::StandardPolicy;
use openpgp::serialize::stream::{Armorer, Encryptor, LiteralWriter, Message, Recipient};
use openpgp::types::{DataFormat, Features, SymmetricAlgorithm};
use zeroize::Zeroizing;

use super::{GpgOutput, normalize_fingerprint};

/// Why a keyring, an export or a message could not be used in process;
/// the caller puts the file or command in front and falls back to gpg.
/// Sequoia's errors are `anyhow` errors, which are not `std` errors, so
/// they are shown but not given as sources.
#[derive(Debug, thiserror::Error)]
pub(super) enum Error {
    #[error("cannot read it: {0}")]
    Read(#[source] std::io::Error),
    #[error("not OpenPGP data: {0}")]
    NotOpenPgp(anyhow::Error),
    /// Nothing parsed; the first certificate's error.
    #[error("no readable certificate: {0}")]
    NoCertificate(anyhow::Error),
    /// `gpg --export` printed nothing: its stderr, or that it was empty.
    #[error("no public key in the GnuPG keyring ({0})")]
    NothingExported(String),
    #[error("the exported certificates do not contain this key")]
    NotExported,
    /// Several certificates and no fingerprint to choose: how many.
    #[error("{0} certificates match; give a fingerprint")]
    Ambiguous(usize),
    #[error("certificate {0} is not valid: {1}")]
    Invalid(openpgp::Fingerprint, anyhow::Error),
    #[error("certificate {0} is expired: {1}")]
    Expired(openpgp::Fingerprint, anyhow::Error),
    #[error("certificate {0} is revoked")]
    Revoked(openpgp::Fingerprint),
    #[error("certificate {0} has no valid encryption key that sopx supports")]
    NoEncryptionKey(openpgp::Fingerprint),
    #[error("encryption failed: {0}")]
    Encrypt(anyhow::Error),
    #[error("armored output is not UTF-8")]
    NotUtf8,
    #[error("no secret keys in it")]
    NoSecretKeys,
    /// Only passphrase-protected secret keys: their key IDs (hex).
    #[error("its secret keys are passphrase-protected (left to gpg): {}", .0.join(", "))]
    Protected(Vec<String>),
    #[error("not an OpenPGP message: {0}")]
    NotMessage(anyhow::Error),
    /// Sequoia refused the message (e.g. no matching secret key).
    #[error("{0}")]
    Decryptor(anyhow::Error),
    #[error("decryption failed: {0}")]
    Decrypt(#[source] std::io::Error),
}

/// The key a fingerprint names: a v4/v6 fingerprint or a long key ID (with
/// or without `0x`), in any case.
pub(super) fn key_handle(fp: &str) -> Option<KeyHandle> {
    let s = normalize_fingerprint(fp);
    let s = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(&s);
    if !matches!(s.len(), 16 | 40 | 64) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    s.parse().ok()
}

pub(super) fn cert_has(cert: &Cert, h: &KeyHandle) -> bool {
    cert.keys().any(|ka| ka.key().key_handle().aliases(h))
}

pub(super) fn read_ring(path: &Path) -> Result<Vec<Cert>, Error> {
    let bytes = std::fs::read(path).map_err(Error::Read)?;
    parse_certs(&bytes)
}

/// Every certificate in a keyring (binary or armored); certificates Sequoia
/// cannot parse are skipped as long as one can be read.
pub(super) fn parse_certs(bytes: &[u8]) -> Result<Vec<Cert>, Error> {
    let parser = CertParser::from_bytes(bytes).map_err(Error::NotOpenPgp)?;
    let mut certs = Vec::new();
    let mut first_err = None;
    for c in parser {
        match c {
            Ok(c) => certs.push(c),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    match (certs.is_empty(), first_err) {
        (true, Some(e)) => Err(Error::NoCertificate(e)),
        _ => Ok(certs),
    }
}

/// The certificate `gpg --export` gave for `handle` (or its only one).
pub(super) fn pick_exported(out: &GpgOutput, handle: Option<&KeyHandle>) -> Result<Cert, Error> {
    if out.stdout.is_empty() {
        let why = if out.stderr.is_empty() {
            "nothing exported".to_string()
        } else {
            out.stderr.clone()
        };
        return Err(Error::NothingExported(why));
    }
    let certs = parse_certs(&out.stdout)?;
    match handle {
        Some(h) => certs
            .into_iter()
            .find(|c| cert_has(c, h))
            .ok_or(Error::NotExported),
        None if certs.len() == 1 => Ok(certs.into_iter().next().expect("one")),
        None => Err(Error::Ambiguous(certs.len())),
    }
}

/// Encrypts `secret` to the newest valid encryption-capable key of `cert`.
pub(super) fn seal(cert: &Cert, secret: &[u8]) -> Result<String, Error> {
    let policy = StandardPolicy::new();
    let vc = cert
        .with_policy(&policy, None)
        .map_err(|e| Error::Invalid(cert.fingerprint(), e))?;
    vc.alive()
        .map_err(|e| Error::Expired(cert.fingerprint(), e))?;
    if let openpgp::types::RevocationStatus::Revoked(_) = vc.revocation_status() {
        return Err(Error::Revoked(cert.fingerprint()));
    }
    let key = vc
        .keys()
        .supported()
        .alive()
        .revoked(false)
        .for_storage_encryption()
        .for_transport_encryption()
        .max_by_key(|ka| ka.key().creation_time())
        .ok_or_else(|| Error::NoEncryptionKey(cert.fingerprint()))?;
    // GnuPG (and sops through it) reads SEIPD v1 only: use it for v4 keys
    // even when the certificate advertises SEIPD v2.
    let recipient = if key.key().version() == 4 {
        Recipient::new(
            Features::empty().set_seipdv1(),
            KeyHandle::from(key.key().keyid()),
            key.key(),
        )
    } else {
        Recipient::from(key)
    };
    let mut out = Vec::with_capacity(1024);
    let write = |out: &mut Vec<u8>| -> openpgp::Result<()> {
        let message = Message::new(out);
        let message = Armorer::new(message).kind(armor::Kind::Message).build()?;
        let message = Encryptor::for_recipients(message, [recipient]).build()?;
        let mut w = LiteralWriter::new(message)
            .format(DataFormat::Binary)
            .build()?;
        w.write_all(secret)?;
        w.finalize()?;
        Ok(())
    };
    write(&mut out).map_err(Error::Encrypt)?;
    let text = String::from_utf8(out).map_err(|_| Error::NotUtf8)?;
    Ok(text.trim_end().to_string())
}

/// Decrypts with the unprotected secret keys among `certs`.
pub(super) fn open_with_certs(certs: &[Cert], enc: &str) -> Result<Zeroizing<Vec<u8>>, Error> {
    let mut keys = Vec::new();
    let mut protected = Vec::new();
    for cert in certs {
        for ka in cert.keys().secret() {
            let key = ka.key();
            if key.has_unencrypted_secret() {
                if let Ok(pair) = key.clone().into_keypair() {
                    keys.push(pair);
                }
            } else {
                protected.push(key.keyid());
            }
        }
    }
    if keys.is_empty() {
        return Err(if protected.is_empty() {
            Error::NoSecretKeys
        } else {
            Error::Protected(protected.iter().map(|k| k.to_hex()).collect())
        });
    }
    let policy = StandardPolicy::new();
    let helper = Helper {
        keys,
        recipients: Vec::new(),
    };
    let mut dec = DecryptorBuilder::from_bytes(enc.as_bytes())
        .map_err(Error::NotMessage)?
        .with_policy(&policy, None, helper)
        .map_err(Error::Decryptor)?;
    let mut out = Zeroizing::new(Vec::new());
    dec.read_to_end(&mut out).map_err(Error::Decrypt)?;
    Ok(out)
}

struct Helper {
    keys: Vec<KeyPair>,
    /// Key IDs the message was encrypted to (for the error message).
    recipients: Vec<String>,
}

impl VerificationHelper for Helper {
    fn get_certs(&mut self, _ids: &[KeyHandle]) -> openpgp::Result<Vec<Cert>> {
        Ok(Vec::new())
    }
    fn check(&mut self, _structure: MessageStructure) -> openpgp::Result<()> {
        Ok(())
    }
}

impl DecryptionHelper for Helper {
    fn decrypt(
        &mut self,
        pkesks: &[PKESK],
        _skesks: &[SKESK],
        sym_algo: Option<SymmetricAlgorithm>,
        decrypt: &mut dyn FnMut(Option<SymmetricAlgorithm>, &SessionKey) -> bool,
    ) -> openpgp::Result<Option<Cert>> {
        for pkesk in pkesks {
            let to = pkesk.recipient();
            self.recipients
                .push(to.as_ref().map_or("anonymous".into(), |h| h.to_hex()));
            for pair in self.keys.iter_mut() {
                let matches = match &to {
                    Some(h) => pair.public().key_handle().aliases(h),
                    None => true, // a hidden recipient: try every key
                };
                if matches
                    && let Some((algo, sk)) = pkesk.decrypt(pair, sym_algo)
                    && decrypt(algo, &sk)
                {
                    return Ok(None);
                }
            }
        }
        Err(anyhow::anyhow!(
            "none of its secret keys matches the message's recipients ({})",
            self.recipients.join(", ")
        ))
    }
}
