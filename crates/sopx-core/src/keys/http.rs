//! Shared by the remote key sources: error chains for messages, and the
//! HTTP client (rustls with ring; no OpenSSL).

// Each remote source uses some of these; a build with only some sources
// leaves the others unused.
#![cfg_attr(
    not(all(
        feature = "aws",
        feature = "gcp",
        feature = "azure",
        feature = "vault",
        feature = "hckms"
    )),
    allow(dead_code)
)]

use std::error::Error as StdError;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// The HTTP client could not be built (TLS setup). Kept in a `OnceLock`
/// and handed to every caller, hence the `Arc` (`reqwest::Error` is not
/// `Clone`).
#[derive(Debug, Clone, thiserror::Error)]
#[error("could not set up the HTTP client: {}", chain(&**.0))]
pub(crate) struct ClientError(#[source] Arc<reqwest::Error>);

impl From<reqwest::Error> for ClientError {
    fn from(e: reqwest::Error) -> Self {
        ClientError(Arc::new(e))
    }
}

/// ` (CODE): message` from an API error's code and message, leaving out
/// what is empty (nothing when both are).
pub(crate) fn code_and_message(code: &str, msg: &str) -> String {
    match (code.is_empty(), msg.is_empty()) {
        (false, false) => format!(" ({code}): {msg}"),
        (false, true) => format!(" ({code})"),
        (true, false) => format!(": {msg}"),
        (true, true) => String::new(),
    }
}

/// An error and its sources, joined by `: ` (repeats left out).
pub(crate) fn chain(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur = Some(err);
    while let Some(e) = cur {
        // One line: credential chains list their attempts on several.
        let s = e
            .to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if !s.is_empty() && !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = e.source();
    }
    parts.join(": ")
}

/// A client builder with sopx's defaults. Connections are not pooled: each
/// runtime sopx starts is short, and requests run concurrently anyway.
/// Redirects are not followed: a request (and its credentials and body) only
/// ever goes to the address that was checked.
pub(crate) fn builder() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .user_agent(concat!("sopx/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(0)
        .redirect(reqwest::redirect::Policy::none())
}

/// The client shared by the key sources that need no special TLS setup.
pub(crate) fn client() -> Result<&'static reqwest::Client, ClientError> {
    static CLIENT: OnceLock<Result<reqwest::Client, ClientError>> = OnceLock::new();
    CLIENT
        .get_or_init(|| builder().build().map_err(ClientError::from))
        .as_ref()
        .map_err(Clone::clone)
}
