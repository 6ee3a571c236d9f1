//! The AWS KMS client (cargo feature `aws`); the entry and its
//! fields are described in the parent module.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::ProvideCredentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_kms::config::{Credentials, SharedCredentialsProvider, SharedHttpClient};
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::primitives::Blob;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use crate::keys::KeyError;
use crate::keys::env::Env;
use crate::keys::http::chain;

/// AWS's limit on a role session name.
const SESSION_NAME_LIMIT: usize = 64;

/// What went wrong with an entry, the credentials or a KMS call; turned
/// into the `KeyError` message at the module's edge. AWS SDK errors are
/// kept as `explain`'s one-line reason.
#[derive(Debug, thiserror::Error)]
enum Error {
    #[error("the kms entry has no arn")]
    NoArn,
    #[error(
        "no valid ARN found in '{0}' (expected arn:aws:kms:REGION:ACCOUNT:key/ID or arn:aws:kms:REGION:ACCOUNT:alias/NAME)"
    )]
    Arn(String),
    #[error("no valid role ARN found in {0:?} (expected arn:aws:iam::ACCOUNT:role/NAME)")]
    Role(String),
    /// A context that is not a mapping (as JSON).
    #[error("the encryption context must be a mapping of strings, not {0}")]
    ContextNotMapping(String),
    /// A context entry (its key) whose value is not a string.
    #[error("the encryption context value of {0:?} must be a string")]
    ContextValue(String),
    #[error("no AWS credentials provider is configured")]
    NoProvider,
    /// The credential chain (for the entry's profile, if any) found nothing
    /// usable.
    #[error("{}", no_credentials(.0.as_deref(), .1))]
    NoCredentials(Option<String>, #[source] CredentialsError),
    #[error("could not assume role '{0}': failed to construct STS session name: {1}")]
    SessionName(String, #[source] std::io::Error),
    /// AssumeRole failed: the role, and `explain`'s reason.
    #[error("could not assume role '{0}': {1}")]
    AssumeRole(String, String),
    #[error("could not assume role '{0}': STS returned no credentials")]
    NoStsCredentials(String),
    /// `explain`'s reason.
    #[error("failed to encrypt the data key with AWS KMS: {0}")]
    Encrypt(String),
    /// `explain`'s reason.
    #[error("failed to decrypt the data key with AWS KMS: {0}")]
    Decrypt(String),
    /// KMS's answer lacks the named field (`ciphertext`, `plaintext`).
    #[error("AWS KMS returned no {0}")]
    NoOutput(&'static str),
    #[error("the entry has no encrypted data key (enc is empty)")]
    NoEnc,
    #[error("error base64-decoding the encrypted data key: {0}")]
    Enc(#[source] base64::DecodeError),
}

// ---------------------------------------------------------------------------
// The entry

/// An encryption context, as the KMS calls take it.
type Context = HashMap<String, String>;

/// What a `kms` entry says about where and how to call KMS.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    arn: String,
    region: String,
    role: Option<String>,
    context: Option<Context>,
    profile: Option<String>,
}

fn str_field<'a>(fields: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    fields
        .get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// The region of a key ARN. sops matches
/// `^arn:aws[\w-]*:kms:(.+):[0-9]+:(key|alias)/.+$`; the ARN comes from the
/// file's unauthenticated metadata and the region picks the host requests
/// (and credentials) go to, so sopx is stricter: the partition is `aws` or
/// `aws-<word>…` (`aws-cn`, `aws-us-gov`, `aws-iso-b`, …), the region
/// `[a-z0-9]` words joined by `-`, and the key id or alias name has no
/// spaces, control characters, `?`, `#`, `%` or `\`.
pub fn region_of(arn: &str) -> Option<&str> {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(
            r"^arn:aws(?:-[a-z0-9]+)*:kms:([a-z0-9]+(?:-[a-z0-9]+)*):[0-9]+:(?:key|alias)/[A-Za-z0-9/_+=,.@:-]+$",
        )
        .expect("valid regex")
    });
    re.captures(arn).and_then(|c| c.get(1)).map(|m| m.as_str())
}

/// Is this an IAM role ARN (`arn:aws…:iam::ACCOUNT:role/NAME`)?
fn valid_role(role: &str) -> bool {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"^arn:aws(?:-[a-z0-9]+)*:iam::[0-9]+:role/[A-Za-z0-9/_+=,.@-]+$")
            .expect("valid regex")
    })
    .is_match(role)
}

/// The encryption context of an entry: string values as they are, numbers
/// and booleans as written, nulls left out (sops skips nil values).
fn context_of(fields: &Map<String, Value>) -> Result<Option<Context>, Error> {
    let Some(ctx) = fields.get("context") else {
        return Ok(None);
    };
    let obj = match ctx {
        Value::Null => return Ok(None),
        Value::Object(o) => o,
        other => return Err(Error::ContextNotMapping(other.to_string())),
    };
    let mut out = HashMap::with_capacity(obj.len());
    for (k, v) in obj {
        let v = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null => continue,
            _ => return Err(Error::ContextValue(k.clone())),
        };
        out.insert(k.clone(), v);
    }
    Ok((!out.is_empty()).then_some(out))
}

fn entry(fields: &Map<String, Value>) -> Result<Entry, Error> {
    let arn = str_field(fields, "arn").ok_or(Error::NoArn)?;
    let region = region_of(arn).ok_or_else(|| Error::Arn(arn.to_string()))?;
    let role = str_field(fields, "role");
    if let Some(r) = role
        && !valid_role(r)
    {
        return Err(Error::Role(r.to_string()));
    }
    Ok(Entry {
        arn: arn.to_string(),
        region: region.to_string(),
        role: role.map(str::to_string),
        context: context_of(fields)?,
        profile: str_field(fields, "aws_profile").map(str::to_string),
    })
}

// ---------------------------------------------------------------------------
// Host name and STS session name

/// The STS session name sops uses for `hostname`: `sops@` and the hostname
/// without the characters sops strips, cut to 64 bytes.
pub fn session_name(hostname: &str) -> String {
    let keep = |c: char| {
        c.is_ascii_alphanumeric() || matches!(c, '=' | ',' | '.') || ('@'..='_').contains(&c)
    };
    let mut name = format!(
        "sops@{}",
        hostname.chars().filter(|c| keep(*c)).collect::<String>()
    );
    // Every kept character is ASCII, so any byte index is a char boundary.
    name.truncate(SESSION_NAME_LIMIT);
    name
}

/// The machine's host name, as Go's `os.Hostname`.
fn hostname() -> std::io::Result<String> {
    Ok(gethostname::gethostname().to_string_lossy().into_owned())
}

// ---------------------------------------------------------------------------
// Configuration

/// One HTTP client for the process: TLS with ring and the system roots,
/// proxies from `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` as the Go SDK does.
fn http_client() -> SharedHttpClient {
    static CLIENT: OnceLock<SharedHttpClient> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
            use aws_smithy_http_client::{Builder, Connector, proxy::ProxyConfig};
            Builder::new().build_with_connector_fn(|settings, components| {
                // No idle connections are kept: a pooled connection belongs
                // to the runtime that opened it, and `keys` starts a new
                // runtime per operation (rotate decrypts, then encrypts).
                // Concurrent requests need a connection each anyway.
                let mut b = Connector::builder()
                    .proxy_config(ProxyConfig::from_env())
                    .pool_max_idle_per_host(0);
                b.set_connector_settings(settings.cloned());
                b.set_sleep_impl(components.and_then(|c| c.sleep_impl()));
                b.tls_provider(Provider::Rustls(CryptoMode::Ring)).build()
            })
        })
        .clone()
}

type ConfigKey = (Option<String>, String, Option<String>);
type ConfigSlot = Arc<futures::lock::Mutex<Option<Loaded>>>;

/// A configuration with resolved credentials, and when they expire.
#[derive(Clone)]
struct Loaded {
    cfg: SdkConfig,
    expiry: Option<SystemTime>,
}

impl Loaded {
    fn new(cfg: SdkConfig, creds: Credentials) -> Loaded {
        let expiry = creds.expiry();
        Loaded {
            cfg: cfg
                .to_builder()
                .credentials_provider(SharedCredentialsProvider::new(creds))
                .build(),
            expiry,
        }
    }

    /// Still good for a while: `sopx edit` encrypts again only when the
    /// editor closes, which can be long after the file was opened.
    fn fresh(&self) -> bool {
        self.expiry
            .is_none_or(|t| t > SystemTime::now() + Duration::from_secs(5 * 60))
    }
}

/// Loaded configurations by (profile, region, role). A slot's lock is held
/// while it loads, so concurrent keys with the same settings wait for one
/// load (one credential lookup, one AssumeRole) instead of repeating it. Only
/// finished configurations are kept: a load abandoned half-way (another key
/// won the race to decrypt) leaves the slot empty for the next caller, and
/// credentials close to their expiry are loaded again.
fn slot(key: &ConfigKey) -> ConfigSlot {
    static SLOTS: OnceLock<Mutex<HashMap<ConfigKey, ConfigSlot>>> = OnceLock::new();
    let mut slots = SLOTS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    slots.entry(key.clone()).or_default().clone()
}

/// The configuration for `e`: the standard chain with the entry's profile
/// and the ARN's region, then the role's credentials if it has one.
async fn config(e: &Entry) -> Result<SdkConfig, Error> {
    let key = (e.profile.clone(), e.region.clone(), e.role.clone());
    let slot = slot(&key);
    let mut guard = slot.lock().await;
    if let Some(loaded) = guard.as_ref().filter(|l| l.fresh()) {
        return Ok(loaded.cfg.clone());
    }
    let loaded = match &e.role {
        None => {
            let mut loader = aws_config::defaults(BehaviorVersion::latest())
                .http_client(http_client())
                .region(Region::new(e.region.clone()));
            if let Some(p) = &e.profile {
                loader = loader.profile_name(p);
            }
            let cfg = loader.load().await;
            // Resolve the credentials now, once for every key that shares
            // this configuration; a failure is not kept, so asking again
            // gives the same error again.
            let provider = cfg
                .credentials_provider()
                .ok_or(Error::NoProvider)?;
            let creds = provider
                .provide_credentials()
                .await
                .map_err(|err| Error::NoCredentials(e.profile.clone(), err))?;
            Loaded::new(cfg, creds)
        }
        Some(role) => {
            let base = Box::pin(config(&Entry {
                role: None,
                ..e.clone()
            }))
            .await?;
            assume_role(base, role).await?
        }
    };
    let cfg = loaded.cfg.clone();
    *guard = Some(loaded);
    Ok(cfg)
}

async fn assume_role(base: SdkConfig, role: &str) -> Result<Loaded, Error> {
    let host = hostname().map_err(|err| Error::SessionName(role.to_string(), err))?;
    let out = aws_sdk_sts::Client::new(&base)
        .assume_role()
        .role_arn(role)
        .role_session_name(session_name(&host))
        .send()
        .await
        .map_err(|err| Error::AssumeRole(role.to_string(), explain(&err)))?;
    let c = out
        .credentials()
        .ok_or_else(|| Error::NoStsCredentials(role.to_string()))?;
    let creds = Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        SystemTime::try_from(*c.expiration()).ok(),
        "sopx-assume-role",
    );
    Ok(Loaded::new(base, creds))
}

// ---------------------------------------------------------------------------
// Errors

/// A one-line reason for a failed AWS call: what went wrong in words
/// (access denied, key not found, network…), then the service's code and
/// message or the error chain.
fn explain<E>(err: &SdkError<E>) -> String
where
    E: ProvideErrorMetadata + StdError + 'static,
{
    match err {
        SdkError::ServiceError(se) => {
            let e = se.err();
            let status = se.raw().status().as_u16();
            let reason = match e.code() {
                Some("NotFoundException") => "key not found",
                Some("AccessDeniedException" | "AccessDenied") => "access denied",
                Some("InvalidCiphertextException") => {
                    "the encrypted data key does not match this key or its encryption context"
                }
                Some("IncorrectKeyException") => {
                    "the data key was encrypted with a different KMS key"
                }
                Some("DisabledException") => "the key is disabled",
                Some("KMSInvalidStateException") => "the key is not usable in its current state",
                Some("InvalidKeyUsageException") => "the key cannot be used to encrypt and decrypt",
                Some(
                    "UnrecognizedClientException"
                    | "InvalidClientTokenId"
                    | "InvalidSignatureException"
                    | "SignatureDoesNotMatch",
                ) => "the AWS credentials were rejected",
                Some("ExpiredTokenException" | "ExpiredToken") => {
                    "the AWS credentials have expired"
                }
                Some("ThrottlingException" | "Throttling") => "the request was throttled",
                Some(_) => "the service refused the request",
                // No error code the SDK could read (a proxy, or a stand-in
                // answering in another format): go by the status.
                None => match status {
                    401 | 403 => "access denied",
                    404 => "not found",
                    429 => "the request was throttled",
                    500..=599 => "server error",
                    _ => "the service refused the request",
                },
            };
            let code = e
                .code()
                .map(str::to_string)
                .unwrap_or_else(|| format!("HTTP {status}"));
            let body = se.raw().body().bytes().unwrap_or_default();
            let message = e
                .message()
                .filter(|m| !m.is_empty())
                .map(str::to_string)
                .or_else(|| body_message(body));
            match message {
                Some(m) => format!("{reason} ({code}: {m})"),
                None => format!("{reason} ({code})"),
            }
        }
        _ => {
            if let Some(c) = credentials_error(err) {
                return no_credentials(None, c);
            }
            let reason = match err {
                SdkError::DispatchFailure(d) if d.is_timeout() => "network error: timed out",
                SdkError::DispatchFailure(d) if d.is_io() => "network error: could not reach AWS",
                SdkError::TimeoutError(_) => "network error: timed out",
                SdkError::ResponseError(_) => "unexpected response from AWS",
                _ => "the request failed",
            };
            format!("{reason} ({})", chain(err))
        }
    }
}

/// What to do when the credential chain found nothing usable.
fn no_credentials(profile: Option<&str>, err: &CredentialsError) -> String {
    match profile {
        Some(p) => format!(
            "no usable AWS credentials for profile '{p}': check that it is defined, with credentials, in ~/.aws/config or ~/.aws/credentials (or AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE) ({})",
            chain(err)
        ),
        None => format!(
            "no usable AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or choose a profile with --aws-profile or AWS_PROFILE ({})",
            chain(err)
        ),
    }
}

/// The message of an error body the SDK could not parse: the text of an
/// XML `<Message>` element, else the start of the body.
fn body_message(body: &[u8]) -> Option<String> {
    const LIMIT: usize = 300;
    let text = String::from_utf8_lossy(body);
    let text = match (text.find("<Message>"), text.find("</Message>")) {
        (Some(a), Some(b)) if a + 9 <= b => &text[a + 9..b],
        _ => &text[..],
    };
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out: String = words.chars().take(LIMIT).collect();
    if out.len() < words.len() {
        out.push('…');
    }
    (!out.is_empty()).then_some(out)
}

/// A credentials failure somewhere in the error's source chain.
fn credentials_error<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a CredentialsError> {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(c) = e.downcast_ref::<CredentialsError>() {
            return Some(c);
        }
        cur = e.source();
    }
    None
}

// ---------------------------------------------------------------------------
// Encrypt and decrypt

fn kms_client(cfg: &SdkConfig) -> aws_sdk_kms::Client {
    aws_sdk_kms::Client::new(cfg)
}

/// Wraps `secret`, storing the base64 of KMS's ciphertext in `enc`.
pub(super) async fn encrypt(
    _env: &dyn Env,
    fields: &mut Map<String, Value>,
    secret: &[u8],
) -> Result<(), KeyError> {
    let key = format!(
        "kms key {}",
        fields.get("arn").and_then(Value::as_str).unwrap_or("?")
    );
    let err = |e: Error| KeyError::Encrypt {
        key: key.clone(),
        msg: e.to_string(),
    };
    let e = entry(fields).map_err(err)?;
    let cfg = config(&e).await.map_err(err)?;
    let out = kms_client(&cfg)
        .encrypt()
        .key_id(&e.arn)
        .plaintext(Blob::new(secret.to_vec()))
        .set_encryption_context(e.context.clone())
        .send()
        .await
        .map_err(|x| err(Error::Encrypt(explain(&x))))?;
    let blob = out
        .ciphertext_blob()
        .ok_or_else(|| err(Error::NoOutput("ciphertext")))?;
    fields.insert("enc".into(), Value::String(STANDARD.encode(blob.as_ref())));
    sort_context(fields);
    Ok(())
}

/// sops writes the context as a Go map, so its keys come out sorted.
fn sort_context(fields: &mut Map<String, Value>) {
    if let Some(Value::Object(ctx)) = fields.get_mut("context") {
        let mut items: Vec<(String, Value)> = std::mem::take(ctx).into_iter().collect();
        items.sort_by(|a, b| a.0.cmp(&b.0));
        ctx.extend(items);
    }
}

/// Unwraps the entry's `enc` field. Errors give the reason only: the caller
/// lists them under the key's ARN.
/// `env` is not read: the AWS SDK finds its credentials and region itself,
/// in the process environment and `~/.aws`.
pub(super) async fn decrypt(
    _env: &dyn Env,
    fields: &Map<String, Value>,
) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let fail = |e: Error| KeyError::Identity(e.to_string());
    let e = entry(fields).map_err(fail)?;
    let enc = fields.get("enc").and_then(Value::as_str).unwrap_or("");
    if enc.is_empty() {
        return Err(fail(Error::NoEnc));
    }
    let blob = STANDARD
        .decode(enc.trim())
        .map_err(|x| fail(Error::Enc(x)))?;
    let cfg = config(&e).await.map_err(fail)?;
    let out = kms_client(&cfg)
        .decrypt()
        .key_id(&e.arn)
        .ciphertext_blob(Blob::new(blob))
        .set_encryption_context(e.context.clone())
        .send()
        .await
        .map_err(|x| fail(Error::Decrypt(explain(&x))))?;
    let plain = out
        .plaintext
        .ok_or_else(|| fail(Error::NoOutput("plaintext")))?;
    Ok(Zeroizing::new(plain.into_inner()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn region_comes_from_the_arn_like_sops() {
        let ok = [
            (
                "arn:aws:kms:us-east-1:123456789012:key/abc-def",
                "us-east-1",
            ),
            ("arn:aws:kms:eu-west-3:1:alias/my-key", "eu-west-3"),
            (
                "arn:aws-us-gov:kms:us-gov-west-1:123:key/x",
                "us-gov-west-1",
            ),
            ("arn:aws-cn:kms:cn-north-1:123:key/x", "cn-north-1"),
        ];
        for (arn, region) in ok {
            assert_eq!(region_of(arn), Some(region), "{arn}");
        }
        let bad = [
            "",
            "alias/foo",
            "abc-def",
            "arn:aws:kms:us-east-1:abc:key/x",
            "arn:aws:kms:us-east-1:123:key/",
            "arn:aws:s3:us-east-1:123:key/x",
            "arn:gcp:kms:us-east-1:123:key/x",
            "arn:aws:kms:us-east-1:123:secret/x",
            // A region or partition that could name another host.
            "arn:aws:kms:x@127.0.0.1:47123/:111:key/abc",
            "arn:aws:kms:us-east-1.evil.example:111:key/abc",
            "arn:aws:kms:evil.example#:111:key/abc",
            "arn:aws:kms:US-EAST-1:111:key/abc",
            "arn:aws:kms:us-east-1/..:111:key/abc",
            "arn:aws.evil:kms:us-east-1:111:key/abc",
            "arn:aws-:kms:us-east-1:111:key/abc",
            "arn:aws:kms::111:key/abc",
            "arn:aws:kms:us-east-1:111:key/abc def",
            "arn:aws:kms:us-east-1:111:key/abc?x",
            "arn:aws:kms:us-east-1:111:key/abc#",
            "arn:aws:kms:us-east-1:111:key/a\nb",
        ];
        for arn in bad {
            assert_eq!(region_of(arn), None, "{arn}");
        }
        assert_eq!(
            region_of("arn:aws-iso-b:kms:us-isob-east-1:1:alias/a/b_c-d"),
            Some("us-isob-east-1")
        );
    }

    #[test]
    fn roles_must_be_role_arns() {
        assert!(valid_role("arn:aws:iam::111122223333:role/sops/admin"));
        assert!(valid_role("arn:aws-cn:iam::1:role/r+=,.@_-"));
        for bad in [
            "",
            "arn:aws:iam::111:user/u",
            "arn:aws:sts::111:role/r",
            "arn:aws:iam::111:role/",
            "arn:aws:iam::111:role/r x",
            "--role=x",
        ] {
            assert!(!valid_role(bad), "{bad}");
        }
        let f = obj(json!({"arn": "arn:aws:kms:us-east-1:111:key/abc", "role": "x@evil"}));
        assert!(entry(&f).unwrap_err().to_string().contains("no valid role ARN"));
    }

    #[test]
    fn session_name_is_sanitized_and_cut_like_sops() {
        // sops's own test cases (kms/keysource_test.go).
        assert_eq!(session_name("some-hostname"), "sops@somehostname");
        assert_eq!(session_name("foo"), "sops@foo");
        let long = "an-extremely-long-hostname-that-will-be-truncated-by-sops-to-fit-the-limit";
        let got = session_name(long);
        assert_eq!(got.len(), SESSION_NAME_LIMIT);
        assert!(got.starts_with("sops@anextremelylonghostname"));
        // `@-_` is a range in sops's class: A-Z, [ \ ] ^ _ and @ are kept.
        assert_eq!(session_name("a_b[c]^\\D@e"), "sops@a_b[c]^\\D@e");
        assert_eq!(session_name("h=1,2.x"), "sops@h=1,2.x");
        assert_eq!(session_name("é ü/+*~"), "sops@");
    }

    #[test]
    fn entry_reads_the_fields_sops_writes() {
        let f = obj(json!({
            "arn": "arn:aws:kms:us-east-1:111:key/abc",
            "role": "arn:aws:iam::111:role/r",
            "context": {"Env": "prod", "n": 5, "b": true, "gone": null},
            "created_at": "",
            "enc": "",
            "aws_profile": "dev"
        }));
        let e = entry(&f).unwrap();
        assert_eq!(e.region, "us-east-1");
        assert_eq!(e.role.as_deref(), Some("arn:aws:iam::111:role/r"));
        assert_eq!(e.profile.as_deref(), Some("dev"));
        let ctx = e.context.unwrap();
        assert_eq!(ctx.len(), 3);
        assert_eq!(ctx["Env"], "prod");
        assert_eq!(ctx["n"], "5");
        assert_eq!(ctx["b"], "true");

        let f = obj(
            json!({"arn": "arn:aws:kms:us-east-1:111:key/abc", "aws_profile": "", "context": {}}),
        );
        let e = entry(&f).unwrap();
        assert_eq!((e.role, e.profile, e.context), (None, None, None));

        let f = obj(json!({"arn": "not-an-arn"}));
        assert!(
            entry(&f)
                .unwrap_err()
                .to_string()
                .contains("no valid ARN found in 'not-an-arn'")
        );
        assert!(
            entry(&Map::new())
                .unwrap_err()
                .to_string()
                .contains("no arn")
        );
        let f = obj(json!({"arn": "arn:aws:kms:us-east-1:111:key/abc", "context": {"a": [1]}}));
        assert!(entry(&f).unwrap_err().to_string().contains("must be a string"));
    }

    #[test]
    fn context_keys_are_written_sorted_as_sops_does() {
        let mut f = obj(json!({
            "arn": "a",
            "context": {"b": "1", "A": "2", "a": "3"},
            "created_at": "",
        }));
        sort_context(&mut f);
        let keys: Vec<&str> = f["context"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["A", "a", "b"]);
        let fields: Vec<&str> = f.keys().map(String::as_str).collect();
        assert_eq!(fields, ["arn", "context", "created_at"]);
    }

    #[test]
    fn unparsed_error_bodies_give_their_message() {
        let xml = b"<ErrorResponse><Errors><Error><Code>AccessDenied</Code><Message>User: x is not\n authorized</Message></Error></Errors></ErrorResponse>";
        assert_eq!(
            body_message(xml).as_deref(),
            Some("User: x is not authorized")
        );
        assert_eq!(body_message(b"  ").as_deref(), None);
        let long = "x ".repeat(400);
        let got = body_message(long.as_bytes()).unwrap();
        assert!(got.ends_with('…') && got.chars().count() == 301, "{got}");
    }

    #[test]
    fn decrypt_rejects_bad_entries_before_calling_aws() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let arn = "arn:aws:kms:us-east-1:111:key/abc";
        let cases = [
            (json!({"arn": arn, "enc": ""}), "enc is empty"),
            (json!({"arn": arn, "enc": "not base64!"}), "base64"),
            (json!({"arn": "bogus", "enc": "AAAA"}), "no valid ARN"),
        ];
        for (f, want) in cases {
            let err = rt.block_on(decrypt(&crate::keys::env::ProcessEnv, &obj(f))).unwrap_err();
            assert!(matches!(err, KeyError::Identity(_)));
            assert!(err.to_string().contains(want), "{err}");
        }
        let mut f = obj(json!({"arn": "bogus", "enc": ""}));
        let err = rt.block_on(encrypt(&crate::keys::env::ProcessEnv, &mut f, b"secret")).unwrap_err();
        match err {
            KeyError::Encrypt { key, msg } => {
                assert_eq!(key, "kms key bogus");
                assert!(msg.contains("no valid ARN found in 'bogus'"), "{msg}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
