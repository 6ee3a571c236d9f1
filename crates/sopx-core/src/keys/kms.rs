//! AWS KMS master keys, as sops 3.11 handles them (`kms/keysource.go`).
//!
//! An entry in the `kms` list of a file's `sops` block has these fields, in
//! the order sops writes them:
//!
//! | field | meaning |
//! | --- | --- |
//! | `arn` | the key (`arn:aws…:kms:REGION:ACCOUNT:key/…` or `…:alias/…`); the region comes from here |
//! | `role` | optional: an IAM role assumed through STS before calling KMS |
//! | `context` | optional: the encryption context (string to string), bound to the ciphertext |
//! | `created_at` | when the data key was wrapped (set by `keys::wrap_all`) |
//! | `enc` | the base64 (standard alphabet, padded) of KMS's `CiphertextBlob` |
//! | `aws_profile` | the shared-config profile to load credentials from; empty for the default chain |
//!
//! Configuration and credentials come from the standard AWS chain
//! (environment, `AWS_PROFILE`, `~/.aws/config` and `~/.aws/credentials` or
//! `AWS_CONFIG_FILE`/`AWS_SHARED_CREDENTIALS_FILE`, SSO, `credential_process`,
//! web identity, ECS and EC2 instance metadata), like the Go SDK sops uses.
//! The region is always the one in the ARN. `AWS_ENDPOINT_URL` and
//! `AWS_ENDPOINT_URL_KMS` (`AWS_ENDPOINT_URL_STS` for the role) override the
//! endpoints; `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` are honoured.
//!
//! With a role, sops calls STS `AssumeRole` with the session name
//! `sops@<hostname>`: the hostname loses every character outside
//! `a-z A-Z 0-9 = , . @ [ \ ] ^ _` (sops's character class `[^a-zA-Z0-9=,.@-_]`,
//! in which `@-_` is a range, so a `-` is dropped), and the name is cut to
//! 64 bytes.
//!
//! Every key of a file is wrapped or unwrapped concurrently on the one
//! runtime of `keys`; the configuration (and so the credentials and any
//! assumed role) is loaded once per (profile, region, role) and shared.

use serde_json::{Map, Value};

use super::registry::{self, ConfigNames, Fields, Flags, KeyIdError, KeyOptions, KeySource};

registry::client_behind_feature!("aws", "kms");

/// AWS KMS in the registry (`keys::registry`).
pub struct Source;

static FLAGS: Flags = Flags {
    long: "kms",
    short: Some('k'),
    env: "SOPS_KMS_ARN",
    value_name: "ARNS",
    help: "Comma-separated AWS KMS key ARNs (`arn+role-arn` assumes the role)",
    noun: "AWS KMS ARNs",
    one: "ARN",
    group_help: "AWS KMS key ARNs (repeatable)",
};

static CONFIG: ConfigNames = ConfigNames {
    rule: "kms",
    group: "kms",
    group_entries: true,
};

impl KeySource for Source {
    fn kind(&self) -> &'static str {
        "kms"
    }
    fn identity(&self) -> &'static [&'static str] {
        &["arn", "role", "context", "aws_profile"]
    }
    fn id(&self, fields: &Fields) -> String {
        registry::str_field(fields, "arn").to_string()
    }
    fn flags(&self) -> &'static Flags {
        &FLAGS
    }
    fn config(&self) -> &'static ConfigNames {
        &CONFIG
    }
    fn parse_id(&self, id: &str, opts: &KeyOptions) -> Result<Fields, KeyIdError> {
        Ok(new_entry(id, None, opts.context.clone(), &opts.aws_profile))
    }
    fn parse_entry(&self, e: &crate::config::Entry) -> crate::Result<Fields> {
        let arn = e.required("arn")?;
        let role = e.string("role")?;
        let context = e.string_map("context")?;
        let profile = e.string("aws_profile")?.unwrap_or_default();
        Ok(new_entry(&arn, role.as_deref(), context, &profile))
    }
    registry::wrap_with_client!();
}

/// A kms entry with the fields sops writes, in its order. An ARN of the
/// form `key-arn+role-arn` carries the role to assume.
fn new_entry(
    arn: &str,
    role: Option<&str>,
    context: Option<Map<String, Value>>,
    profile: &str,
) -> Fields {
    let arn = arn.replace(' ', "");
    let (arn, split_role) = match arn.find("+arn:") {
        Some(i) if i > 0 => (arn[..i].to_string(), Some(arn[i + 1..].to_string())),
        _ => (arn, None),
    };
    let mut f = Map::new();
    f.insert("arn".into(), Value::String(arn));
    if let Some(role) = role
        .map(str::to_string)
        .or(split_role)
        .filter(|r| !r.is_empty())
    {
        f.insert("role".into(), Value::String(role));
    }
    if let Some(ctx) = context.filter(|c| !c.is_empty()) {
        f.insert("context".into(), Value::Object(ctx));
    }
    f.insert("created_at".into(), Value::from(""));
    f.insert("enc".into(), Value::from(""));
    f.insert("aws_profile".into(), Value::from(profile));
    f
}
