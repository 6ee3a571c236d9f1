//! sopx: lossless, fast, SOPS-compatible encryption of the values in
//! structured files.
//!
//! The library holds everything: the value cipher and MAC ([`cipher`],
//! [`tree`]), the `sops` metadata ([`metadata`]), file formats
//! ([`stores`]), master keys ([`keys`]), `.sops.yaml` ([`config`]) and the
//! operations the commands are made of ([`ops`]).

#![forbid(unsafe_code)]

pub mod atomic;
pub mod batch;
pub mod cipher;
pub mod cli;
pub mod config;
pub mod convert;
pub mod diff;
pub mod error;
pub mod exec;
pub mod gitrev;
pub mod keys;
pub mod layout;
pub mod limits;
pub mod merge;
pub mod metadata;
pub mod ops;
pub mod readback;
pub mod stores;
pub mod timefmt;
pub mod tree;
pub mod value;
pub mod warn;

pub use error::{Error, Result};
