//! age recipients and identities (placeholder, being written).

use zeroize::Zeroizing;

use super::KeyError;

pub fn encrypt(_recipient: &str, _secret: &[u8]) -> Result<String, KeyError> {
    Err(KeyError::Unsupported("age: not written yet".into()))
}

pub struct Identities;

impl Identities {
    pub fn load() -> Result<Identities, KeyError> {
        Err(KeyError::Unsupported("age: not written yet".into()))
    }

    pub fn decrypt(&self, _enc: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        Err(KeyError::Unsupported("age: not written yet".into()))
    }
}
