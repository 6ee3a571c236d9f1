//! HuaweiCloud KMS master keys (`hckms` entries), added in sops 3.12
//! (`hckms/keysource.go`).
//!
//! | field | meaning |
//! | --- | --- |
//! | `key_id` | `region:key-uuid`, e.g. `tr-west-1:0d0466b0-e727-4d9c-b35d-f84bb474a37f` |
//! | `created_at` | when the data key was wrapped |
//! | `enc` | the `cipher_text` KMS answered, verbatim |
//!
//! The data key goes through KMS's documented REST API, as sops's SDK
//! calls it: `POST {endpoint}/v1.0/{project_id}/kms/encrypt-data` with
//! `{"key_id": uuid, "plain_text": base64(data key), "encryption_algorithm":
//! "SYMMETRIC_DEFAULT"}`, answered with `{"cipher_text": …}`; `decrypt-data`
//! takes `{"cipher_text", "encryption_algorithm", "key_id"}` and answers
//! `{"plain_text": base64(data key)}`.
//!
//! Requests are signed with the access key as the Huawei SDKs do
//! (`SDK-HMAC-SHA256` over the method, path, headers and body hash). The
//! credentials come from the variables the SDK's default chain reads first:
//!
//! | variable | meaning |
//! | --- | --- |
//! | `HUAWEICLOUD_SDK_AK`, `HUAWEICLOUD_SDK_SK` | the access key pair |
//! | `HUAWEICLOUD_SDK_PROJECT_ID` | the project (of the key's region) |
//! | `HUAWEICLOUD_SDK_SECURITY_TOKEN` | for temporary keys |
//! | `HUAWEICLOUD_SDK_CREDENTIALS_FILE` | else this file's `[basic]` section (`ak`, `sk`, `project_id`, `security_token`), default `~/.huaweicloud/credentials` |
//!
//! # Where the credentials go
//!
//! The `key_id` comes from the file's `sops` block, which no MAC protects,
//! and its region picks the host. So the region must be `[a-z0-9]` words
//! joined by `-`, and requests go to `https://kms.{region}.myhuaweicloud.com`
//! only, or to the endpoint the user set in `SOPX_HUAWEICLOUD_KMS_ENDPOINT`
//! (`https://host[:port]`, or `http://` to a loopback address), which then
//! serves every region. Both are checked before credentials are read.
//! Redirects are never followed (`http::client`).

use serde_json::{Map, Value};

use super::registry::{self, ConfigNames, Fields, Flags, KeyIdError, KeyOptions, KeySource};

/// A key's `region:key-uuid`, split and checked.
// Only the client reads the parts.
#[cfg_attr(not(feature = "hckms"), allow(dead_code))]
pub(crate) struct KeyId<'a> {
    pub(crate) region: &'a str,
    pub(crate) uuid: &'a str,
}

impl<'a> KeyId<'a> {
    /// A `key_id` that is not `region:key-uuid` is a [`KeyIdError`].
    pub(crate) fn parse(id: &'a str) -> Result<Self, KeyIdError> {
        let bad = || KeyIdError::new(id, "a HuaweiCloud KMS key ID", "region:key-uuid");
        let (region, uuid) = id.trim().split_once(':').ok_or_else(bad)?;
        let (region, uuid) = (region.trim(), uuid.trim());
        if region.is_empty()
            || uuid.is_empty()
            || !uuid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(bad());
        }
        Ok(KeyId { region, uuid })
    }
}

registry::client_behind_feature!("hckms", "hckms");

/// HuaweiCloud KMS in the registry (`keys::registry`).
pub struct Source;

static FLAGS: Flags = Flags {
    long: "hckms",
    short: None,
    env: "SOPS_HUAWEICLOUD_KMS_IDS",
    value_name: "IDS",
    help: "Comma-separated HuaweiCloud KMS key IDs (region:key-uuid)",
    noun: "HuaweiCloud KMS key IDs",
    one: "ID",
    group_help: "HuaweiCloud KMS key IDs, region:key-uuid (repeatable)",
};

static CONFIG: ConfigNames = ConfigNames {
    rule: "hckms",
    group: "hckms",
    group_entries: true,
};

fn new_entry(id: &str) -> Result<Fields, KeyIdError> {
    let id = id.trim();
    KeyId::parse(id)?;
    let mut f = Map::new();
    f.insert("key_id".into(), Value::from(id));
    Ok(registry::unwrapped(f))
}

impl KeySource for Source {
    fn kind(&self) -> &'static str {
        "hckms"
    }
    fn identity(&self) -> &'static [&'static str] {
        &["key_id"]
    }
    fn id(&self, fields: &Fields) -> String {
        registry::str_field(fields, "key_id").to_string()
    }
    fn flags(&self) -> &'static Flags {
        &FLAGS
    }
    fn config(&self) -> &'static ConfigNames {
        &CONFIG
    }
    fn parse_id(&self, id: &str, _: &KeyOptions) -> Result<Fields, KeyIdError> {
        new_entry(id)
    }
    fn parse_entry(&self, e: &crate::config::Entry) -> crate::Result<Fields> {
        new_entry(&e.required("key_id")?).map_err(|m| e.err(m))
    }
    registry::wrap_with_client!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids() {
        let k = KeyId::parse(" tr-west-1 : 0d0466b0-e727-4d9c-b35d-f84bb474a37f ").unwrap();
        assert_eq!(
            (k.region, k.uuid),
            ("tr-west-1", "0d0466b0-e727-4d9c-b35d-f84bb474a37f")
        );
        for bad in ["nouuid", ":u", "r:", "r:a,b:c", "r:a/b"] {
            assert!(KeyId::parse(bad).is_err(), "{bad}");
        }
    }
}
