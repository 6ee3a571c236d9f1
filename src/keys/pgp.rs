//! OpenPGP master keys (being written).

use zeroize::Zeroizing;

use super::KeyError;

/// Encrypts `secret` to the key with this fingerprint; returns the armored message.
pub fn encrypt(fingerprint: &str, _secret: &[u8]) -> Result<String, KeyError> {
    Err(KeyError::Unsupported(format!(
        "pgp key {fingerprint}: OpenPGP is not supported yet"
    )))
}

/// Decrypts an armored message written for the key with this fingerprint.
pub fn decrypt(fingerprint: &str, _enc: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    Err(KeyError::Unsupported(format!(
        "pgp key {fingerprint}: OpenPGP is not supported yet"
    )))
}
