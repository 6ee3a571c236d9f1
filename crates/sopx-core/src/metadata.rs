//! The `sops` metadata block: key groups, MAC, selective-encryption rules.
//!
//! Stores hand the block over as a `serde_json::Value` (whatever the file
//! format), and take it back as YAML lines or a JSON object written in the
//! field order sops 3.11 uses.

use regex::Regex;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::keys::registry::{self, RemoteKey};

/// The version written into files; sops accepts any 3.x.
pub const SOPS_VERSION: &str = "3.11.0";
pub const DEFAULT_UNENCRYPTED_SUFFIX: &str = "_unencrypted";

/// Which values get encrypted.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    pub unencrypted_suffix: Option<String>,
    pub encrypted_suffix: Option<String>,
    pub unencrypted_regex: Option<Regex>,
    pub encrypted_regex: Option<Regex>,
    pub unencrypted_comment_regex: Option<Regex>,
    pub encrypted_comment_regex: Option<Regex>,
    pub mac_only_encrypted: bool,
}

fn re(field: &str, s: &str) -> Result<Regex> {
    Regex::new(s)
        .map_err(|e| Error::BadMetadata(format!("{field}: invalid regular expression: {e}")))
}

impl Rules {
    /// Compiles rule settings, applying sops's checks (at most one of the six
    /// rules per file) and its default (`_unencrypted` when none is set).
    pub fn compile(r: &RuleStrings) -> Result<Rules> {
        let r = r.clone().normalized()?;
        let compile =
            |field: &str, v: &Option<String>| v.as_deref().map(|s| re(field, s)).transpose();
        Ok(Rules {
            unencrypted_regex: compile("unencrypted_regex", &r.unencrypted_regex)?,
            encrypted_regex: compile("encrypted_regex", &r.encrypted_regex)?,
            unencrypted_comment_regex: compile(
                "unencrypted_comment_regex",
                &r.unencrypted_comment_regex,
            )?,
            encrypted_comment_regex: compile(
                "encrypted_comment_regex",
                &r.encrypted_comment_regex,
            )?,
            unencrypted_suffix: r.unencrypted_suffix,
            encrypted_suffix: r.encrypted_suffix,
            mac_only_encrypted: r.mac_only_encrypted,
        })
    }

    /// sops's `shouldBeEncrypted`.
    pub fn should_encrypt(
        &self,
        path: &[String],
        comments: &[Vec<String>],
        is_comment: bool,
    ) -> bool {
        let mut enc = true;
        if let Some(s) = &self.unencrypted_suffix
            && path.iter().any(|p| p.ends_with(s.as_str()))
        {
            enc = false;
        }
        if let Some(s) = &self.encrypted_suffix {
            enc = path.iter().any(|p| p.ends_with(s.as_str()));
        }
        if let Some(r) = &self.unencrypted_regex
            && path.iter().any(|p| r.is_match(p))
        {
            enc = false;
        }
        if let Some(r) = &self.encrypted_regex {
            enc = path.iter().any(|p| r.is_match(p));
        }
        if let Some(r) = &self.unencrypted_comment_regex
            && comments.iter().flatten().any(|c| r.is_match(c))
        {
            enc = false;
        }
        if let Some(r) = &self.encrypted_comment_regex {
            enc = false;
            let last_level = comments.len().saturating_sub(1);
            let last_len = comments.last().map_or(0, |c| c.len());
            'outer: for (i, cs) in comments.iter().enumerate() {
                for (j, c) in cs.iter().enumerate() {
                    // The comment that matches is not itself encrypted.
                    if is_comment && i == last_level && j + 1 == last_len {
                        continue;
                    }
                    if r.is_match(c) {
                        enc = true;
                        break 'outer;
                    }
                }
            }
        }
        enc
    }
}

/// A master key entry and the data key (or Shamir share) it wraps.
#[derive(Debug, Clone, PartialEq)]
pub enum MasterKey {
    Age {
        recipient: String,
        enc: String,
    },
    Pgp {
        fp: String,
        created_at: String,
        enc: String,
    },
    /// A cloud key (`keys::registry`), its entry kept verbatim so no field
    /// is ever lost.
    Remote(RemoteKey),
}

impl MasterKey {
    pub fn kind(&self) -> &str {
        match self {
            MasterKey::Age { .. } => "age",
            MasterKey::Pgp { .. } => "pgp",
            MasterKey::Remote(k) => k.kind(),
        }
    }

    /// A short name for messages.
    pub fn describe(&self) -> String {
        match self {
            MasterKey::Age { recipient, .. } => format!("age recipient {recipient}"),
            MasterKey::Pgp { fp, .. } => format!("pgp key {fp}"),
            MasterKey::Remote(k) => k.describe(),
        }
    }
}

pub type KeyGroup = Vec<MasterKey>;

/// The metadata of an encrypted file.
#[derive(Debug, Clone)]
pub struct Metadata {
    pub key_groups: Vec<KeyGroup>,
    pub shamir_threshold: usize,
    pub lastmodified: String,
    pub mac: String,
    pub rules: RuleStrings,
    pub version: String,
    /// sopx's layout hints (`sopx_layout`): an encrypted patch that turns
    /// the decrypted output back into the exact original bytes where the
    /// values alone cannot carry the layout. sops ignores the field and drops
    /// it when it rewrites the file; see `layout.rs`.
    pub layout: Option<String>,
}

/// The metadata field holding sopx's encrypted layout hints.
pub const LAYOUT_FIELD: &str = "sopx_layout";

/// Key kinds in the order sops writes them: in a group, or at the top level
/// (where pgp comes after `mac`), the remote kinds and then age; `pgp_first`
/// puts pgp in front, as in `key_groups`.
fn kind_order(pgp_first: bool) -> impl Iterator<Item = &'static str> {
    let pgp = pgp_first.then_some("pgp");
    pgp.into_iter()
        .chain(registry::SOURCES.iter().map(|s| s.kind()))
        .chain(["age"])
}

impl Metadata {
    pub fn new(
        key_groups: Vec<KeyGroup>,
        shamir_threshold: usize,
        rules: &RuleStrings,
    ) -> Metadata {
        // Like sops, several groups always carry an explicit threshold.
        let shamir_threshold = match (key_groups.len(), shamir_threshold) {
            (0 | 1, _) => 0,
            (n, 0) => n,
            (_, t) => t,
        };
        Metadata {
            key_groups,
            shamir_threshold,
            lastmodified: String::new(),
            mac: String::new(),
            rules: rules.clone(),
            version: SOPS_VERSION.into(),
            layout: None,
        }
    }

    pub fn rules(&self) -> Result<Rules> {
        Rules::compile(&self.rules)
    }

    /// Reads the `sops` block.
    pub fn from_value(v: &Value) -> Result<Metadata> {
        let m = v
            .as_object()
            .ok_or_else(|| Error::BadMetadata("the `sops` entry is not a mapping".into()))?;
        let s = |k: &str| -> Option<String> {
            match m.get(k) {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                Some(Value::Bool(b)) => Some(b.to_string()),
                _ => None,
            }
        };
        let lastmodified = s("lastmodified")
            .ok_or_else(|| Error::BadMetadata("`lastmodified` is missing".into()))?;
        let mut groups = Vec::new();
        let top = read_group(m)?;
        if !top.is_empty() {
            groups.push(top);
        } else if let Some(Value::Array(gs)) = m.get("key_groups") {
            for g in gs {
                let g = g
                    .as_object()
                    .ok_or_else(|| Error::BadMetadata("a key group is not a mapping".into()))?;
                groups.push(read_group(g)?);
            }
        }
        if groups.is_empty() {
            return Err(Error::BadMetadata("no keys found in file".into()));
        }
        let shamir_threshold = match m.get("shamir_threshold") {
            Some(Value::Number(n)) => n.as_u64().unwrap_or(0) as usize,
            Some(Value::String(s)) => s.parse().unwrap_or(0),
            _ => 0,
        };
        let mac_only_encrypted = matches!(m.get("mac_only_encrypted"), Some(Value::Bool(true)))
            || s("mac_only_encrypted").as_deref() == Some("true");
        Ok(Metadata {
            key_groups: groups,
            shamir_threshold,
            lastmodified,
            mac: s("mac").unwrap_or_default(),
            rules: RuleStrings {
                unencrypted_suffix: s("unencrypted_suffix"),
                encrypted_suffix: s("encrypted_suffix"),
                unencrypted_regex: s("unencrypted_regex"),
                encrypted_regex: s("encrypted_regex"),
                unencrypted_comment_regex: s("unencrypted_comment_regex"),
                encrypted_comment_regex: s("encrypted_comment_regex"),
                mac_only_encrypted,
            },
            version: s("version").unwrap_or_default(),
            layout: s(LAYOUT_FIELD),
        })
    }

    /// The block as an ordered JSON object, in sops's field order.
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        if self.key_groups.len() > 1 {
            if self.shamir_threshold > 0 {
                m.insert(
                    "shamir_threshold".into(),
                    Value::from(self.shamir_threshold),
                );
            }
            let gs = self
                .key_groups
                .iter()
                .map(|g| Value::Object(write_group(g, true)))
                .collect();
            m.insert("key_groups".into(), Value::Array(gs));
        } else if let Some(g) = self.key_groups.first() {
            let gm = write_group(g, false);
            for k in kind_order(false) {
                if let Some(v) = gm.get(k) {
                    m.insert(k.into(), v.clone());
                }
            }
        }
        m.insert(
            "lastmodified".into(),
            Value::from(self.lastmodified.clone()),
        );
        m.insert("mac".into(), Value::from(self.mac.clone()));
        if self.key_groups.len() == 1
            && let Some(v) = write_group(&self.key_groups[0], false).get("pgp")
        {
            m.insert("pgp".into(), v.clone());
        }
        let opt = |m: &mut Map<String, Value>, k: &str, v: &Option<String>| {
            if let Some(v) = v {
                m.insert(k.into(), Value::from(v.clone()));
            }
        };
        let r = &self.rules;
        opt(&mut m, "unencrypted_suffix", &r.unencrypted_suffix);
        opt(&mut m, "encrypted_suffix", &r.encrypted_suffix);
        opt(&mut m, "unencrypted_regex", &r.unencrypted_regex);
        opt(&mut m, "encrypted_regex", &r.encrypted_regex);
        opt(
            &mut m,
            "unencrypted_comment_regex",
            &r.unencrypted_comment_regex,
        );
        opt(
            &mut m,
            "encrypted_comment_regex",
            &r.encrypted_comment_regex,
        );
        if r.mac_only_encrypted {
            m.insert("mac_only_encrypted".into(), Value::Bool(true));
        }
        opt(&mut m, LAYOUT_FIELD, &self.layout);
        m.insert("version".into(), Value::from(self.version.clone()));
        Value::Object(m)
    }
}

/// The selective-encryption settings as strings (from flags, config or a
/// file's metadata).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleStrings {
    pub unencrypted_suffix: Option<String>,
    pub encrypted_suffix: Option<String>,
    pub unencrypted_regex: Option<String>,
    pub encrypted_regex: Option<String>,
    pub unencrypted_comment_regex: Option<String>,
    pub encrypted_comment_regex: Option<String>,
    pub mac_only_encrypted: bool,
}

impl RuleStrings {
    /// Drops empty settings, checks that at most one of the six rules is set
    /// (as sops does), and applies sops's default (`_unencrypted`) when none is.
    pub fn normalized(mut self) -> Result<RuleStrings> {
        let fields = [
            &mut self.unencrypted_suffix,
            &mut self.encrypted_suffix,
            &mut self.unencrypted_regex,
            &mut self.encrypted_regex,
            &mut self.unencrypted_comment_regex,
            &mut self.encrypted_comment_regex,
        ];
        let mut set = 0;
        for f in fields {
            if f.as_deref() == Some("") {
                *f = None;
            }
            set += usize::from(f.is_some());
        }
        if set > 1 {
            return Err(Error::BadMetadata(
                "cannot use more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex, unencrypted_regex, encrypted_comment_regex or unencrypted_comment_regex in the same file".into(),
            ));
        }
        if set == 0 {
            self.unencrypted_suffix = Some(DEFAULT_UNENCRYPTED_SUFFIX.to_string());
        }
        Ok(self)
    }

    /// Is any rule given (so a config's rules are overridden)?
    pub fn is_set(&self) -> bool {
        *self != RuleStrings::default()
    }
}

fn str_field(m: &Map<String, Value>, k: &str) -> String {
    match m.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(v) => v.to_string(),
    }
}

fn read_group(m: &Map<String, Value>) -> Result<KeyGroup> {
    let mut g = Vec::new();
    for kind in kind_order(false).chain(["pgp"]) {
        let Some(list) = m.get(kind) else { continue };
        let list = match list {
            Value::Null => continue,
            Value::Array(a) => a,
            _ => return Err(Error::BadMetadata(format!("`{kind}` is not a list"))),
        };
        for e in list {
            let e = e.as_object().ok_or_else(|| {
                Error::BadMetadata(format!("an entry of `{kind}` is not a mapping"))
            })?;
            g.push(match kind {
                "age" => MasterKey::Age {
                    recipient: str_field(e, "recipient"),
                    enc: str_field(e, "enc"),
                },
                "pgp" => {
                    let fp = str_field(e, "fp");
                    crate::keys::pgp::check_fingerprint(&fp)
                        .map_err(|m| Error::BadMetadata(format!("a pgp entry's fp: {m}")))?;
                    MasterKey::Pgp {
                        fp,
                        created_at: str_field(e, "created_at"),
                        enc: str_field(e, "enc"),
                    }
                }
                _ => MasterKey::Remote(RemoteKey {
                    source: registry::by_kind(kind).expect("a registered kind"),
                    fields: e.clone(),
                }),
            });
        }
    }
    Ok(g)
}

fn write_group(g: &KeyGroup, in_key_groups: bool) -> Map<String, Value> {
    let mut out = Map::new();
    // Inside key_groups sops writes pgp first; at top level pgp comes after mac.
    for kind in kind_order(in_key_groups).chain((!in_key_groups).then_some("pgp")) {
        let entries: Vec<Value> = g
            .iter()
            .filter(|k| k.kind() == kind)
            .map(|k| match k {
                MasterKey::Age { recipient, enc } => {
                    let mut e = Map::new();
                    e.insert("recipient".into(), Value::from(recipient.clone()));
                    e.insert("enc".into(), Value::from(enc.clone()));
                    Value::Object(e)
                }
                MasterKey::Pgp {
                    fp,
                    created_at,
                    enc,
                } => {
                    let mut e = Map::new();
                    e.insert("created_at".into(), Value::from(created_at.clone()));
                    e.insert("enc".into(), Value::from(enc.clone()));
                    e.insert("fp".into(), Value::from(fp.clone()));
                    Value::Object(e)
                }
                MasterKey::Remote(k) => Value::Object(k.fields.clone()),
            })
            .collect();
        if !entries.is_empty() {
            out.insert(kind.to_string(), Value::Array(entries));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn default_suffix_and_rule_conflicts() {
        let r = Rules::compile(&RuleStrings::default()).unwrap();
        assert!(r.should_encrypt(&p(&["a"]), &[], false));
        assert!(!r.should_encrypt(&p(&["a_unencrypted", "b"]), &[], false));
        let two = RuleStrings {
            unencrypted_suffix: Some("_u".into()),
            encrypted_suffix: Some("_e".into()),
            ..Default::default()
        };
        assert!(Rules::compile(&two).is_err());
        // A comment rule alone replaces the default suffix, as in sops.
        let comment_only = RuleStrings {
            encrypted_comment_regex: Some("x".into()),
            ..Default::default()
        };
        assert_eq!(comment_only.clone().normalized().unwrap(), comment_only);
    }

    #[test]
    fn encrypted_regex_and_comment_rules() {
        let r = Rules::compile(&RuleStrings {
            encrypted_regex: Some("^(data|stringData)$".into()),
            ..Default::default()
        })
        .unwrap();
        assert!(r.should_encrypt(&p(&["data", "x"]), &[], false));
        assert!(!r.should_encrypt(&p(&["metadata", "name"]), &[], false));
        let r = Rules::compile(&RuleStrings {
            encrypted_comment_regex: Some("sops:enc".into()),
            ..Default::default()
        })
        .unwrap();
        let stack = vec![vec!["sops:enc".to_string()]];
        assert!(r.should_encrypt(&p(&["a"]), &stack, false));
        assert!(!r.should_encrypt(&p(&["a"]), &stack, true));
        assert!(!r.should_encrypt(&p(&["a"]), &[vec![]], false));
    }

    #[test]
    fn metadata_roundtrips_through_value() {
        let v: Value = serde_json::from_str(
            r#"{"age":[{"recipient":"age1x","enc":"E"}],"lastmodified":"2024-01-01T00:00:00Z","mac":"M","unencrypted_suffix":"_unencrypted","version":"3.11.0"}"#,
        )
        .unwrap();
        let m = Metadata::from_value(&v).unwrap();
        assert_eq!(m.to_value(), v);
    }
}
