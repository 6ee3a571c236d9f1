//! GCP KMS master keys (`gcp_kms` entries).
//!
//! The data key is wrapped with Cloud KMS's documented REST API:
//! `POST {endpoint}/v1/{resource_id}:encrypt` with `{"plaintext": base64}`,
//! answered with `{"ciphertext": base64, …}`; `:decrypt` the other way
//! round. The entry's `enc` is the standard (padded) base64 of the
//! ciphertext bytes, exactly as sops 3.11 stores it (`gcpkms/keysource.go`,
//! which talks gRPC but base64-encodes the bytes for compatibility with
//! sops ≤ 3.8's REST client). The resource ID must have the form
//! `projects/P/locations/L/keyRings/R/cryptoKeys/K`, as sops checks.
//!
//! Credentials, in sops's order:
//!
//! | source | what it holds |
//! | --- | --- |
//! | `GOOGLE_CREDENTIALS` | the path of a credentials JSON file, or the JSON itself (a service account key or an `authorized_user` file) |
//! | `GOOGLE_OAUTH_ACCESS_TOKEN` | an OAuth 2.0 access token, used as is (e.g. `$(gcloud auth print-access-token)`) |
//! | Application Default Credentials | `GOOGLE_APPLICATION_CREDENTIALS`, then gcloud's `application_default_credentials.json`, then the GCE metadata server, then `gcloud auth print-access-token` (via the `gcp_auth` crate) |
//!
//! The endpoint is `https://cloudkms.googleapis.com` unless
//! `SOPS_GCP_KMS_ENDPOINT` (`host:port`, as later sops releases accept it;
//! sopx also takes a full `https://…` or `http://…` base URL, which the
//! loopback tests use) or `SOPS_GCP_KMS_UNIVERSE_DOMAIN` (giving
//! `https://cloudkms.<domain>`) is set; the endpoint variable wins.

use serde_json::{Map, Value};

use super::registry::{self, ConfigNames, Fields, Flags, KeyIdError, KeyOptions, KeySource};

registry::client_behind_feature!("gcp", "gcp_kms");

fn resource_id(fields: &Map<String, Value>) -> &str {
    fields
        .get("resource_id")
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn new_entry(id: &str) -> Fields {
    let mut f = Map::new();
    f.insert("resource_id".into(), Value::String(id.replace(' ', "")));
    registry::unwrapped(f)
}

/// GCP KMS in the registry (`keys::registry`).
pub struct Source;

static FLAGS: Flags = Flags {
    long: "gcp-kms",
    short: None,
    env: "SOPS_GCP_KMS_IDS",
    value_name: "IDS",
    help: "Comma-separated GCP KMS key resource IDs",
    noun: "GCP KMS resource IDs",
    one: "ID",
    group_help: "GCP KMS key resource IDs (repeatable)",
};

static CONFIG: ConfigNames = ConfigNames {
    rule: "gcp_kms",
    group: "gcp_kms",
    group_entries: true,
};

impl KeySource for Source {
    fn kind(&self) -> &'static str {
        "gcp_kms"
    }
    fn identity(&self) -> &'static [&'static str] {
        &["resource_id"]
    }
    fn id(&self, fields: &Fields) -> String {
        resource_id(fields).to_string()
    }
    fn flags(&self) -> &'static Flags {
        &FLAGS
    }
    fn config(&self) -> &'static ConfigNames {
        &CONFIG
    }
    fn parse_id(&self, id: &str, _: &KeyOptions) -> Result<Fields, KeyIdError> {
        Ok(new_entry(id))
    }
    fn parse_entry(&self, e: &crate::config::Entry) -> crate::Result<Fields> {
        Ok(new_entry(&e.required("resource_id")?))
    }
    registry::wrap_with_client!();
}
