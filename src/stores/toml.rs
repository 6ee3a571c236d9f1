//! toml store (being written).

use serde_json::Value;

use super::Document;
use crate::error::{Error, Result};

/// Parses a toml file.
pub fn parse(_src: &[u8]) -> Result<Box<dyn Document>> {
    Err(Error::Unsupported(
        "the toml format is not supported yet".into(),
    ))
}

/// Writes decrypted documents in this format (for `--output-type toml`).
pub fn emit_values(_docs: &[Value]) -> Result<Vec<u8>> {
    Err(Error::Unsupported(
        "output in the toml format is not supported yet".into(),
    ))
}
