//! hcvault master keys (being written).

use serde_json::{Map, Value};
use zeroize::Zeroizing;

use super::KeyError;

/// Wraps `secret`, storing the ciphertext in the entry's `enc` field.
pub async fn encrypt(_fields: &mut Map<String, Value>, _secret: &[u8]) -> Result<(), KeyError> {
    Err(KeyError::Unsupported(
        "hcvault keys are not supported yet".into(),
    ))
}

/// Unwraps the entry's `enc` field.
pub async fn decrypt(_fields: &Map<String, Value>) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    Err(KeyError::Unsupported(
        "hcvault keys are not supported yet".into(),
    ))
}
