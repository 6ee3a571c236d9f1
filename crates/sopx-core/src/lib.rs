//! Read and write [SOPS](https://github.com/getsops/sops) encrypted files in
//! process: YAML, JSON, dotenv, INI, TOML and binary files whose values are
//! encrypted with a per-file data key, the key wrapped for age, PGP and
//! cloud KMS recipients, and the whole sealed with a MAC.
//!
//! Files written here open with sops 3.x, every sops 3.x file opens here, and
//! the layout (comments, blank lines, quoting, key order) is kept byte for
//! byte. This is the library behind the `sopx` command line.
//!
//! # The front door
//!
//! - [`KeyRing`]: which keys may open files. [`KeyRing::from_env`] is what
//!   the `sops` command does; [`KeyRing::new`] uses only what you add.
//! - [`SopsFile`]: an opened file: [`SopsFile::plaintext`],
//!   [`SopsFile::get`], [`SopsFile::documents`], [`SopsFile::set`].
//! - [`encrypt`] with [`Recipients`]: a new encrypted file.
//!
//! ```
//! use sopx_core::{Format, KeyRing, SopsFile};
//!
//! # let identity = "AGE-SECRET-KEY-1Z2MFA0XGFAPLGGTEV3R9U4ZPUKG2LDEXV4X4JG5WYD3WCA75XQWSZAVS0Q";
//! # let to = sopx_core::Recipients::new().age("age1cr082j8hxlk0xqlrrteh0wg6zcc0xafakjw9tksq42ga8eent9lq94pj5y")?;
//! # let bytes = sopx_core::encrypt(b"token: abc\n", Format::Yaml, &to)?;
//! let ring = KeyRing::new().with_age_identities(identity)?;
//! let file = SopsFile::open(&bytes, Format::Yaml, &ring)?;
//! assert_eq!(file.get(r#"["token"]"#)?, "abc");
//! # Ok::<(), sopx_core::Error>(())
//! ```
//!
//! # Features
//!
//! | feature | default | what it adds |
//! | --- | --- | --- |
//! | `pgp` | yes | OpenPGP in process (Sequoia); without it PGP keys go through the `gpg` program only |
//! | `aws` | no | AWS KMS keys (the AWS SDK) |
//! | `gcp` | no | GCP KMS keys |
//! | `hckms` | no | HuaweiCloud KMS keys |
//! | `azure` | no | Azure Key Vault keys |
//! | `vault` | no | HashiCorp Vault transit keys |
//!
//! age is always built in. With no feature at all the crate needs no async
//! runtime, HTTP client or OpenPGP implementation; files with keys of a
//! left-out kind still open with any other key they have.
//!
//! # Stability
//!
//! The modules hidden from this documentation are the engine the `sopx`
//! binary is built from; they are public for it and may change in any
//! release.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod file;
mod keyring;

pub use error::{Error, Result};
pub use file::{Recipients, SopsFile, encrypt};
pub use keyring::KeyRing;
pub use keys::env::Env;
pub use stores::Format;

#[doc(hidden)]
pub mod atomic;
#[doc(hidden)]
pub mod batch;
#[doc(hidden)]
pub mod cipher;
#[doc(hidden)]
pub mod config;
#[doc(hidden)]
pub mod convert;
#[doc(hidden)]
pub mod diff;
pub mod error;
#[doc(hidden)]
pub mod gitrev;
#[doc(hidden)]
pub mod keys;
#[doc(hidden)]
pub mod layout;
#[doc(hidden)]
pub mod limits;
#[doc(hidden)]
pub mod merge;
#[doc(hidden)]
pub mod metadata;
#[doc(hidden)]
pub mod ops;
#[doc(hidden)]
pub mod pieces;
#[doc(hidden)]
pub mod readback;
#[doc(hidden)]
pub mod stores;
#[doc(hidden)]
pub mod timefmt;
#[doc(hidden)]
pub mod tree;
#[doc(hidden)]
pub mod value;
#[doc(hidden)]
pub mod warn;
