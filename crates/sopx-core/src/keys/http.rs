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

/// A key service's HTTP exchange that failed. Shared by the remote clients,
/// each naming its service ("GCP KMS", "Vault"...), so that every source
/// words the same failure the same way.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum HttpError {
    /// The request could not be sent: where to, and the error chain.
    #[error("could not reach {service} at {address}: {reason}")]
    Send {
        service: &'static str,
        address: String,
        reason: String,
    },
    /// The answer could not be read.
    #[error("reading {service}'s answer failed: {reason}")]
    Read {
        service: &'static str,
        reason: String,
    },
    /// An HTTP error status, and what the service said (`: message`, or
    /// nothing).
    #[error("{service} answered {status}{said}")]
    Status {
        service: &'static str,
        status: reqwest::StatusCode,
        said: String,
    },
}

impl HttpError {
    pub(crate) fn send(service: &'static str, address: &str, e: &reqwest::Error) -> Self {
        HttpError::Send {
            service,
            address: address.to_string(),
            reason: chain(e),
        }
    }

    pub(crate) fn read(service: &'static str, e: &reqwest::Error) -> Self {
        HttpError::Read {
            service,
            reason: chain(e),
        }
    }

    pub(crate) fn status(service: &'static str, status: reqwest::StatusCode, said: String) -> Self {
        HttpError::Status {
            service,
            status,
            said,
        }
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
