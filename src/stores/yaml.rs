//! YAML store (placeholder, being written).

use serde_json::Value;

use super::{Document, PathElem};
use crate::error::{Error, Result};
use crate::tree::Tree;
use crate::value::Plain;

pub struct YamlDoc {
    tree: Tree,
}

impl YamlDoc {
    pub fn parse(_src: &[u8]) -> Result<YamlDoc> {
        Err(Error::Unsupported("YAML: not written yet".into()))
    }
}

impl Document for YamlDoc {
    fn tree(&self) -> &Tree {
        &self.tree
    }
    fn metadata(&self) -> Option<&Value> {
        None
    }
    fn emit_encrypted(&self, _tokens: &[(usize, String)], _meta: &Value) -> Result<Vec<u8>> {
        unimplemented!()
    }
    fn emit_plain(&self, _plains: &[(usize, Plain)]) -> Result<Vec<u8>> {
        unimplemented!()
    }
    fn set(&self, _path: &[PathElem], _value: &Value) -> Result<Vec<u8>> {
        unimplemented!()
    }
    fn unset(&self, _path: &[PathElem]) -> Result<Vec<u8>> {
        unimplemented!()
    }
}
