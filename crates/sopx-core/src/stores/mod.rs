//! File formats. Each store parses a file into a [`Tree`] and writes it back
//! by splicing new leaf texts into the original bytes, so everything it did
//! not have to change stays byte-identical.

pub mod binary;
pub mod dotenv;
mod edits;
pub mod flatten;
pub mod ini;
pub mod json;
mod splice;
pub mod toml;
pub mod yaml;

use std::path::Path;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::tree::Tree;
use crate::value::Plain;

/// The file formats sops knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// YAML, one or more documents.
    Yaml,
    /// JSON.
    Json,
    /// dotenv (`KEY=value` lines).
    Dotenv,
    /// INI (sections of `key = value`).
    Ini,
    /// TOML (sopx; sops 3.11 treats `.toml` files as binary).
    Toml,
    /// Any file, encrypted whole as one value.
    Binary,
}

/// Every format: its `--input-type` name, the file extensions that select
/// it, and the file `edit` starts a new file from; in one place.
const FORMATS: &[(Format, &str, &[&str], &str)] = &[
    (
        Format::Yaml,
        "yaml",
        &["yaml", "yml"],
        "# New file: replace this with your secrets.\nexample_key: example_value\n",
    ),
    (
        Format::Json,
        "json",
        &["json"],
        "{\n    \"example_key\": \"example_value\"\n}\n",
    ),
    (
        Format::Dotenv,
        "dotenv",
        &["env"],
        "# New file: replace this with your secrets.\nEXAMPLE_KEY=example_value\n",
    ),
    (
        Format::Ini,
        "ini",
        &["ini"],
        "; New file: replace this with your secrets.\n[example]\nexample_key = example_value\n",
    ),
    (
        Format::Toml,
        "toml",
        &["toml"],
        "# New file: replace this with your secrets.\nexample_key = \"example_value\"\n",
    ),
    (
        Format::Binary,
        "binary",
        &[],
        "New file: replace this with your secrets.\n",
    ),
];

fn entry(f: Format) -> &'static (Format, &'static str, &'static [&'static str], &'static str) {
    FORMATS
        .iter()
        .find(|e| e.0 == f)
        .expect("every format is in the table")
}

impl Format {
    /// Every format, in sops's order.
    pub fn all() -> impl Iterator<Item = Format> {
        FORMATS.iter().map(|e| e.0)
    }

    /// By file extension, as sops does (and `.env` by name); anything
    /// unknown is binary.
    pub fn from_path(path: &Path) -> Format {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if name == ".env" {
            return Format::Dotenv;
        }
        FORMATS
            .iter()
            .find(|e| e.2.contains(&ext))
            .map_or(Format::Binary, |e| e.0)
    }

    /// By `--input-type` / `--output-type` name.
    pub fn from_name(s: &str) -> Result<Format> {
        FORMATS
            .iter()
            .find(|e| e.1 == s)
            .map(|e| e.0)
            .ok_or_else(|| Error::UnknownFormat(s.to_string()))
    }

    /// The `--input-type` name.
    pub fn name(self) -> &'static str {
        entry(self).1
    }

    /// What `edit` puts in a new file before the editor opens it.
    pub fn new_file_template(self) -> &'static str {
        entry(self).3
    }
}

impl std::str::FromStr for Format {
    type Err = Error;
    fn from_str(s: &str) -> Result<Format> {
        Format::from_name(s)
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One element of a path into a document: a mapping key or a list index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathElem {
    Key(String),
    Index(usize),
}

/// A path in sops's `--extract` notation (`["a"][0]`), for messages.
pub fn display_path(path: &[PathElem]) -> String {
    if path.is_empty() {
        return "the top level".into();
    }
    path.iter()
        .map(|p| match p {
            PathElem::Key(k) => format!("[{k:?}]"),
            PathElem::Index(i) => format!("[{i}]"),
        })
        .collect()
}

/// The value sops builds for a missing `path` ending in `leaf`: keys make
/// objects, indices make one-element lists.
pub(crate) fn nest(path: &[PathElem], leaf: &Value) -> Value {
    path.iter().rev().fold(leaf.clone(), |acc, p| match p {
        PathElem::Key(k) => {
            let mut m = serde_json::Map::new();
            m.insert(k.clone(), acc);
            Value::Object(m)
        }
        PathElem::Index(_) => Value::Array(vec![acc]),
    })
}

/// A parsed file.
pub trait Document {
    /// The tree sops sees (the `sops` entry excluded).
    fn tree(&self) -> &Tree;

    /// The `sops` entry, if the file has one, as a JSON value.
    fn metadata(&self) -> Option<&Value>;

    /// The file with each `(leaf, text)` put in place of that leaf's value
    /// (texts are `ENC[...]` tokens) and `meta` as its `sops` entry
    /// (replacing the existing one, or added at the end).
    fn emit_encrypted(&self, tokens: &[(usize, String)], meta: &Value) -> Result<Vec<u8>>;

    /// The file with each `(leaf, plaintext)` put in place of that leaf's
    /// value and the `sops` entry removed.
    fn emit_plain(&self, plains: &[(usize, Plain)]) -> Result<Vec<u8>>;

    /// This (plaintext) file with the value at `path` set to `value`
    /// (created, with any missing parents, if absent).
    fn set(&self, path: &[PathElem], value: &Value) -> Result<Vec<u8>>;

    /// This (plaintext) file with the entry at `path` removed.
    fn unset(&self, path: &[PathElem]) -> Result<Vec<u8>>;

    /// The format this document really is, when it differs from the one it
    /// was parsed as (a `.toml` file that sops 3.11 wrote as a binary JSON
    /// wrapper). Rewrites keep that format.
    fn actual_format(&self) -> Option<Format> {
        None
    }

    /// The 1-based line a leaf starts on, where the store knows it.
    fn leaf_line(&self, _leaf: usize) -> Option<usize> {
        None
    }

    /// Whether sops would encrypt this plaintext at all (a YAML file of
    /// comments only, with no `---`, is no document to sops).
    fn encryptable(&self) -> Result<()> {
        Ok(())
    }
}

/// The 1-based line holding byte `at` of `src`.
pub(crate) fn line_of(src: &[u8], at: usize) -> usize {
    src[..at.min(src.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// How the read-back check compares the comments of a format's trees.
pub fn comment_check(format: Format) -> crate::readback::Comments {
    match format {
        // sops's INI comments (php.ini banners) do not always come back with
        // the same text from go-ini's attachment; not compared yet.
        // TOML comment leaves hold the text after `#` as toml_edit keeps it,
        // which the splice does not always reproduce; not compared yet.
        Format::Ini | Format::Toml => crate::readback::Comments::Ignored,
        _ => crate::readback::Comments::InOrder,
    }
}

/// A plaintext tree written afresh in `format`'s canonical layout: the
/// fallback when a file's own layout cannot carry its encrypted values.
/// YAML keeps its comments; the other formats' canonical writers do not.
pub fn canonical(format: Format, tree: &Tree) -> Result<Vec<u8>> {
    match format {
        Format::Yaml => Ok(yaml::canonical(tree).into_bytes()),
        _ => crate::convert::emit(&crate::convert::plain_documents(tree), format),
    }
}

/// Parses `src` as `format`.
pub fn parse(format: Format, src: &[u8]) -> Result<Box<dyn Document>> {
    match format {
        Format::Yaml => Ok(Box::new(yaml::YamlDoc::parse(src)?)),
        Format::Json => Ok(Box::new(json::JsonDoc::parse(src)?)),
        Format::Dotenv => dotenv::parse(src),
        Format::Ini => ini::parse(src),
        Format::Toml => toml::parse(src),
        Format::Binary => binary::parse(src),
    }
}
