//! `.sops.yaml`: finding it, reading its creation rules and picking the rule
//! for a file, following sops 3.11 (`config/config.go`).
//!
//! What sops does, and what this module does:
//! - The file must be called `.sops.yaml`; a `.sops.yml` met on the way is
//!   ignored with a warning ([`ConfigLookup::warning`]). The search checks a
//!   directory and then up to 100 of its ancestors.
//! - sops itself searches upwards from the working directory only; sopx
//!   ([`resolve_config`]) searches upwards from the target file's directory
//!   first and then from the working directory.
//! - `path_regex` is an unanchored search, matched against the file's
//!   absolute path with the config file's directory (plus a separator)
//!   removed from its front: `secrets/a.yaml` for a file under the config's
//!   directory, the whole absolute path for a file elsewhere. Paths are
//!   made absolute lexically (`..` removed, symlinks kept), as Go's
//!   `filepath.Abs` does. A rule without `path_regex` matches every file.
//!   The first matching rule wins.
//! - Keys are a comma-separated string or a list (`age: "a,b"` or
//!   `age: [a, b]`), with whitespace around each key ignored. When a rule
//!   has `key_groups`, its top-level keys are ignored.
//! - At most one of `unencrypted_suffix`, `encrypted_suffix`,
//!   `unencrypted_regex`, `encrypted_regex`, `unencrypted_comment_regex`,
//!   `encrypted_comment_regex` per rule.
//! - Other top-level sections (`destination_rules`, `stores`) and unknown
//!   fields are ignored. A config without `creation_rules` has no rules.
//!
//! Unlike sops, which only looks at the rule it picked, every rule is
//! checked when the file is loaded (regular expressions, recipients, key
//! URLs), so a broken rule is reported whichever file is being encrypted.

use std::path::{Component, Path, PathBuf};

use regex::Regex;
use serde_json::{Map, Value as Json};
use serde_yaml_ng::{Mapping, Value};

use crate::error::{Error, Result};
use crate::keys::registry::{self, Fields, KeyOptions, KeySource, RemoteKey};
use crate::metadata::{KeyGroup, MasterKey, RuleStrings};

pub const CONFIG_FILE_NAME: &str = ".sops.yaml";
/// A name sops does not accept, but warns about.
pub const ALTERNATE_CONFIG_NAME: &str = ".sops.yml";
/// How many directories sops checks (the start and its ancestors).
const MAX_DEPTH: usize = 100;

// ---------------------------------------------------------------------------
// Finding the file
// ---------------------------------------------------------------------------

/// The result of searching for a config file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigLookup {
    pub path: Option<PathBuf>,
    /// Set when a `.sops.yml` was met and ignored (sops's wording).
    pub warning: Option<String>,
}

/// `p` made absolute against `cwd` and cleaned lexically, like Go's
/// `filepath.Abs` (`..` pops a component; symlinks are not resolved).
fn absolute_in(p: &Path, cwd: &Path) -> PathBuf {
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        cwd.join(p)
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn cwd() -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"))
}

fn lookup_in(start_dir: &Path, cwd: &Path) -> ConfigLookup {
    let mut dir = absolute_in(start_dir, cwd);
    let mut alternate: Option<PathBuf> = None;
    for _ in 0..MAX_DEPTH {
        let candidate = dir.join(CONFIG_FILE_NAME);
        if candidate.is_file() {
            let warning = alternate.map(|alt| {
                format!(
                    "ignoring {:?} when searching for config file; the config file must be called {:?}; using {:?} instead",
                    alt.display().to_string(),
                    CONFIG_FILE_NAME,
                    candidate.display().to_string()
                )
            });
            return ConfigLookup {
                path: Some(candidate),
                warning,
            };
        }
        if alternate.is_none() {
            let alt = dir.join(ALTERNATE_CONFIG_NAME);
            if alt.is_file() {
                alternate = Some(alt);
            }
        }
        if !dir.pop() {
            break;
        }
    }
    ConfigLookup {
        path: None,
        warning: alternate.map(|alt| {
            format!(
                "ignoring {:?} when searching for config file; the config file must be called {:?}",
                alt.display().to_string(),
                CONFIG_FILE_NAME
            )
        }),
    }
}

/// Searches `start_dir` and its ancestors for `.sops.yaml`, noting any
/// `.sops.yml` met on the way.
pub fn lookup_config(start_dir: &Path) -> ConfigLookup {
    lookup_in(start_dir, &cwd())
}

/// The nearest `.sops.yaml` in `start_dir` or one of its ancestors.
pub fn find_config(start_dir: &Path) -> Option<PathBuf> {
    lookup_config(start_dir).path
}

fn resolve_in(explicit: Option<&Path>, file: &Path, cwd: &Path) -> Result<ConfigLookup> {
    if let Some(p) = explicit.filter(|p| !p.as_os_str().is_empty()) {
        // Anything readable but a directory: `/dev/null` is an empty
        // config, as with sops (vscode-sops passes it).
        if p.is_file() || (p.exists() && !p.is_dir()) {
            return Ok(ConfigLookup {
                path: Some(p.to_path_buf()),
                warning: None,
            });
        }
        let msg = if p.exists() {
            "a directory, not a config file: give the path of the .sops.yaml file".to_string()
        } else {
            "config file not found (given with --config or SOPS_CONFIG)".to_string()
        };
        return Err(Error::Config {
            path: p.display().to_string(),
            msg,
        });
    }
    // sops's lookup first: upwards from the working directory. Only when
    // that finds nothing, upwards from the file's directory (sops #242).
    let from_cwd = lookup_in(cwd, cwd);
    if from_cwd.path.is_some() {
        return Ok(from_cwd);
    }
    let file_dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let from_file = lookup_in(&file_dir, cwd);
    if from_file.path.is_some() {
        return Ok(from_file);
    }
    Ok(ConfigLookup {
        path: None,
        warning: from_cwd.warning.or(from_file.warning),
    })
}

/// Like [`resolve_config`], keeping the `.sops.yml` warning.
pub fn resolve_config_lookup(explicit: Option<&Path>, file: &Path) -> Result<ConfigLookup> {
    resolve_in(explicit, file, &cwd())
}

/// The config file to use for `file`: `explicit` (from `--config` or
/// `SOPS_CONFIG`; an empty path counts as not given) must exist; otherwise
/// the nearest `.sops.yaml` in or above the working directory (as sops),
/// otherwise the nearest in or above the file's directory, otherwise none.
pub fn resolve_config(explicit: Option<&Path>, file: &Path) -> Result<Option<PathBuf>> {
    resolve_config_lookup(explicit, file).map(|l| l.path)
}

// ---------------------------------------------------------------------------
// Creation rules
// ---------------------------------------------------------------------------

/// One entry of `creation_rules`.
#[derive(Debug, Clone)]
pub struct CreationRule {
    pub path_regex: Option<String>,
    /// Keys to encrypt for, with empty `enc` (and `created_at`). Empty when
    /// the rule names no key at all.
    pub key_groups: Vec<KeyGroup>,
    pub shamir_threshold: usize,
    /// As written in the rule (not normalized: no default suffix added).
    pub rules: RuleStrings,
    regex: Option<Regex>,
}

impl CreationRule {
    /// Whether the rule applies to `path` (as given by [`path_for_matching`]).
    pub fn matches(&self, path: &str) -> bool {
        self.regex.as_ref().is_none_or(|r| r.is_match(path))
    }
}

/// The string sops matches `path_regex` against: `file` made absolute, with
/// `config_dir` (made absolute) and a separator removed from its front.
pub fn path_for_matching(file: &Path, config_dir: &Path) -> String {
    path_for_matching_in(file, config_dir, &cwd())
}

fn path_for_matching_in(file: &Path, config_dir: &Path, cwd: &Path) -> String {
    let file = absolute_in(file, cwd).display().to_string();
    let dir = absolute_in(config_dir, cwd).display().to_string();
    let prefix = format!("{dir}{}", std::path::MAIN_SEPARATOR);
    match file.strip_prefix(&prefix) {
        Some(rest) => rest.to_string(),
        None => file,
    }
}

/// The first rule that applies to `file`; `config_dir` is the directory of
/// the config file the rules came from.
pub fn matching_rule<'a>(
    rules: &'a [CreationRule],
    file: &Path,
    config_dir: &Path,
) -> Option<&'a CreationRule> {
    let path = path_for_matching(file, config_dir);
    rules.iter().find(|r| r.matches(&path))
}

/// Reads the creation rules of a config file. A file without
/// `creation_rules` (empty, or only `destination_rules`/`stores`) gives none.
pub fn load_rules(config_path: &Path) -> Result<Vec<CreationRule>> {
    let shown = config_path.display().to_string();
    let text = std::fs::read_to_string(config_path).map_err(|e| Error::Config {
        path: shown.clone(),
        msg: format!("could not read the file: {e}"),
    })?;
    parse_rules(&text, &shown)
}

/// Parses config text; `shown` names the file in errors.
pub fn parse_rules(text: &str, shown: &str) -> Result<Vec<CreationRule>> {
    let p = Parser { file: shown };
    let doc = p.load(text)?;
    let top = match &doc {
        Value::Null => return Ok(Vec::new()),
        Value::Mapping(m) => m,
        other => {
            return Err(p.err(
                "",
                format!("expected a mapping at the top level, found {}", kind(other)),
            ));
        }
    };
    let list = match top.get("creation_rules") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Sequence(s)) => s,
        Some(other) => {
            return Err(p.err(
                "creation_rules",
                format!("expected a list of rules, found {}", kind(other)),
            ));
        }
    };
    list.iter()
        .enumerate()
        .map(|(i, v)| p.rule(&format!("creation_rules[{i}]"), v))
        .collect()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// A scalar as Go's YAML decoder would put it into a string field.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Tagged(t) => scalar(&t.value),
        _ => None,
    }
}

fn split_keys(s: &str) -> impl Iterator<Item = String> + '_ {
    s.split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(String::from)
}

struct Parser<'a> {
    file: &'a str,
}

impl Parser<'_> {
    /// The config as a YAML value, merge keys applied. The YAML library
    /// takes quadratic time on deep nesting: that is refused first, in
    /// linear time.
    fn load(&self, text: &str) -> Result<Value> {
        crate::stores::yaml::check_depth(text).map_err(|e| self.err("", e))?;
        let mut doc: Value = serde_yaml_ng::from_str(text)
            .map_err(|e| self.err("", format!("invalid YAML: {e}")))?;
        doc.apply_merge()
            .map_err(|e| self.err("", format!("invalid YAML merge key: {e}")))?;
        Ok(doc)
    }

    fn err(&self, at: &str, msg: impl std::fmt::Display) -> Error {
        Error::Config {
            path: self.file.to_string(),
            msg: if at.is_empty() {
                msg.to_string()
            } else {
                format!("{at}: {msg}")
            },
        }
    }

    fn mapping<'v>(&self, at: &str, v: &'v Value) -> Result<&'v Mapping> {
        match v {
            Value::Mapping(m) => Ok(m),
            other => Err(self.err(at, format!("expected a mapping, found {}", kind(other)))),
        }
    }

    /// An optional string field; empty counts as absent, as in sops.
    fn string(&self, m: &Mapping, at: &str, key: &str) -> Result<Option<String>> {
        match m.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => match scalar(v) {
                Some(s) if s.is_empty() => Ok(None),
                Some(s) => Ok(Some(s)),
                None => Err(self.err(
                    &format!("{at}.{key}"),
                    format!("expected a string, found {}", kind(v)),
                )),
            },
        }
    }

    fn bool(&self, m: &Mapping, at: &str, key: &str) -> Result<bool> {
        match m.get(key) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            // Go's YAML decoder still accepts the YAML 1.1 spellings for bools.
            Some(Value::String(s))
                if ["true", "yes", "on", "y"].contains(&s.to_lowercase().as_str()) =>
            {
                Ok(true)
            }
            Some(Value::String(s))
                if ["false", "no", "off", "n"].contains(&s.to_lowercase().as_str()) =>
            {
                Ok(false)
            }
            Some(v) => Err(self.err(
                &format!("{at}.{key}"),
                format!("expected true or false, found {}", kind(v)),
            )),
        }
    }

    fn count(&self, m: &Mapping, at: &str, key: &str) -> Result<usize> {
        match m.get(key) {
            None | Some(Value::Null) => Ok(0),
            Some(Value::Number(n)) if n.as_u64().is_some() => Ok(n.as_u64().unwrap_or(0) as usize),
            Some(v) => Err(self.err(
                &format!("{at}.{key}"),
                format!("expected a whole number of at least 0, found {}", kind(v)),
            )),
        }
    }

    /// A key list: a comma-separated string or a list of such strings.
    fn keys(&self, m: &Mapping, at: &str, key: &str) -> Result<Vec<String>> {
        let at = format!("{at}.{key}");
        match m.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Sequence(items)) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Value::String(s) => out.extend(split_keys(s)),
                        Value::Null => {}
                        other => {
                            return Err(self.err(
                                &format!("{at}[{i}]"),
                                format!("expected a string, found {}", kind(other)),
                            ));
                        }
                    }
                }
                Ok(out)
            }
            Some(v) => match scalar(v) {
                Some(s) => Ok(split_keys(&s).collect()),
                None => Err(self.err(
                    &at,
                    format!(
                        "expected a string (keys separated by commas) or a list of strings, found {}",
                        kind(v)
                    ),
                )),
            },
        }
    }

    /// A list of mappings (`kms`, `gcp_kms`, `azure_keyvault` in key groups).
    fn entries<'v>(
        &self,
        m: &'v Mapping,
        at: &str,
        key: &str,
    ) -> Result<Vec<(String, &'v Mapping)>> {
        let at = format!("{at}.{key}");
        match m.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Sequence(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let at = format!("{at}[{i}]");
                    self.mapping(&at, item).map(|m| (at, m))
                })
                .collect(),
            Some(v) => Err(self.err(&at, format!("expected a list, found {}", kind(v)))),
        }
    }

    fn regex(&self, at: &str, s: &str) -> Result<Regex> {
        Regex::new(s).map_err(|e| self.err(at, format!("invalid regular expression: {e}")))
    }

    fn age(&self, at: &str, recipients: Vec<String>, group: &mut KeyGroup) -> Result<()> {
        for r in recipients {
            crate::keys::age::check_recipient(&r)
                .map_err(|e| self.err(at, format!("invalid age recipient {r:?}: {e}")))?;
            group.push(MasterKey::Age {
                recipient: r,
                enc: String::new(),
            });
        }
        Ok(())
    }

    fn rule(&self, at: &str, v: &Value) -> Result<CreationRule> {
        let m = self.mapping(at, v)?;
        let path_regex = self.string(m, at, "path_regex")?;
        let regex = path_regex
            .as_deref()
            .map(|s| self.regex(&format!("{at}.path_regex"), s))
            .transpose()?;

        let mut rules = RuleStrings::default();
        let fields = [
            ("unencrypted_suffix", &mut rules.unencrypted_suffix, false),
            ("encrypted_suffix", &mut rules.encrypted_suffix, false),
            ("unencrypted_regex", &mut rules.unencrypted_regex, true),
            ("encrypted_regex", &mut rules.encrypted_regex, true),
            (
                "unencrypted_comment_regex",
                &mut rules.unencrypted_comment_regex,
                true,
            ),
            (
                "encrypted_comment_regex",
                &mut rules.encrypted_comment_regex,
                true,
            ),
        ];
        let mut set = 0;
        for (key, slot, is_regex) in fields {
            *slot = self.string(m, at, key)?;
            if let Some(s) = slot.as_deref() {
                set += 1;
                if is_regex {
                    self.regex(&format!("{at}.{key}"), s)?;
                }
            }
        }
        if set > 1 {
            return Err(self.err(
                at,
                "cannot use more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex, \
                 unencrypted_regex, encrypted_comment_regex, or unencrypted_comment_regex for the same rule",
            ));
        }
        rules.mac_only_encrypted = self.bool(m, at, "mac_only_encrypted")?;
        let shamir_threshold = self.count(m, at, "shamir_threshold")?;

        let mut key_groups = Vec::new();
        match m.get("key_groups") {
            None | Some(Value::Null) => {}
            Some(Value::Sequence(gs)) if gs.is_empty() => {}
            Some(Value::Sequence(gs)) => {
                for (i, g) in gs.iter().enumerate() {
                    let gat = format!("{at}.key_groups[{i}]");
                    let mut group = Vec::new();
                    self.group(&gat, g, &mut group, 0)?;
                    // sops drops duplicate keys within a group.
                    let mut unique: KeyGroup = Vec::with_capacity(group.len());
                    for k in group {
                        if !unique.contains(&k) {
                            unique.push(k);
                        }
                    }
                    key_groups.push(unique);
                }
            }
            Some(other) => {
                return Err(self.err(
                    &format!("{at}.key_groups"),
                    format!("expected a list of key groups, found {}", kind(other)),
                ));
            }
        }
        if key_groups.is_empty() {
            let group = self.top_level_group(m, at)?;
            if !group.is_empty() {
                key_groups.push(group);
            }
        }

        Ok(CreationRule {
            path_regex,
            key_groups,
            shamir_threshold,
            rules,
            regex,
        })
    }

    /// The keys written directly in a rule, in the order sops gathers them.
    fn top_level_group(&self, m: &Mapping, at: &str) -> Result<KeyGroup> {
        let mut g = Vec::new();
        self.age(&format!("{at}.age"), self.keys(m, at, "age")?, &mut g)?;
        for fp in self.keys(m, at, "pgp")? {
            crate::keys::pgp::check_fingerprint(&fp)
                .map_err(|e| self.err(&format!("{at}.pgp"), e))?;
            g.push(pgp_key(&fp));
        }
        let opts = KeyOptions {
            aws_profile: self.string(m, at, "aws_profile")?.unwrap_or_default(),
            context: None,
        };
        for source in registry::SOURCES {
            let field = source.config().rule;
            for id in self.keys(m, at, field)? {
                g.push(self.remote(&format!("{at}.{field}"), *source, &id, &opts)?);
            }
        }
        Ok(g)
    }

    /// One entry of `key_groups` (and, recursively, its `merge` entries).
    fn group(&self, at: &str, v: &Value, out: &mut KeyGroup, depth: usize) -> Result<()> {
        if depth > 32 {
            return Err(self.err(at, "key groups are merged too deeply"));
        }
        let m = self.mapping(at, v)?;
        match m.get("merge") {
            None | Some(Value::Null) => {}
            Some(Value::Sequence(subs)) => {
                for (i, sub) in subs.iter().enumerate() {
                    self.group(&format!("{at}.merge[{i}]"), sub, out, depth + 1)?;
                }
            }
            Some(other) => {
                return Err(self.err(
                    &format!("{at}.merge"),
                    format!("expected a list of key groups, found {}", kind(other)),
                ));
            }
        }
        self.age(&format!("{at}.age"), self.keys(m, at, "age")?, out)?;
        for fp in self.keys(m, at, "pgp")? {
            crate::keys::pgp::check_fingerprint(&fp)
                .map_err(|e| self.err(&format!("{at}.pgp"), e))?;
            out.push(pgp_key(&fp));
        }
        for source in registry::SOURCES {
            let names = source.config();
            if names.group_entries {
                for (eat, e) in self.entries(m, at, names.group)? {
                    let e = Entry {
                        p: self,
                        at: eat,
                        m: e,
                    };
                    out.push(remote_key(*source, source.parse_entry(&e)?));
                }
            } else {
                for id in self.keys(m, at, names.group)? {
                    let at = format!("{at}.{}", names.group);
                    out.push(self.remote(&at, *source, &id, &KeyOptions::default())?);
                }
            }
        }
        Ok(())
    }

    /// A remote key written as a string at `at`.
    fn remote(
        &self,
        at: &str,
        source: &'static dyn KeySource,
        id: &str,
        opts: &KeyOptions,
    ) -> Result<MasterKey> {
        let fields = source.parse_id(id, opts).map_err(|e| self.err(at, e))?;
        Ok(remote_key(source, fields))
    }
}

fn remote_key(source: &'static dyn KeySource, fields: Fields) -> MasterKey {
    MasterKey::Remote(RemoteKey { source, fields })
}

/// One mapping of a key group's list (`- arn: …`), for a key source to
/// read its fields from (`KeySource::parse_entry`).
pub struct Entry<'a> {
    p: &'a Parser<'a>,
    at: String,
    m: &'a Mapping,
}

impl Entry<'_> {
    /// An error about this entry.
    pub fn err(&self, msg: impl std::fmt::Display) -> Error {
        self.p.err(&self.at, msg)
    }

    /// An optional string field; empty counts as absent, as in sops.
    pub fn string(&self, key: &str) -> Result<Option<String>> {
        self.p.string(self.m, &self.at, key)
    }

    /// A string field that must be there.
    pub fn required(&self, key: &str) -> Result<String> {
        self.string(key)?
            .ok_or_else(|| self.err(format!("`{key}` is missing")))
    }

    /// An optional mapping of strings (nulls kept), such as a KMS context.
    pub fn string_map(&self, key: &str) -> Result<Option<Map<String, Json>>> {
        let at = format!("{}.{key}", self.at);
        match self.m.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Mapping(c)) => {
                let mut out = Map::new();
                for (k, v) in c {
                    let k = scalar(k).ok_or_else(|| self.p.err(&at, "keys must be strings"))?;
                    let v = match v {
                        Value::Null => Json::Null,
                        v => Json::String(scalar(v).ok_or_else(|| {
                            self.p.err(&format!("{at}.{k}"), "expected a string")
                        })?),
                    };
                    out.insert(k, v);
                }
                Ok(Some(out))
            }
            Some(other) => Err(self
                .p
                .err(&at, format!("expected a mapping, found {}", kind(other)))),
        }
    }
}

/// Remote master keys given on the command line, one list of ids per
/// source, built like the config's.
pub fn keys_from_flags(
    ids: &[(&'static dyn KeySource, Vec<String>)],
    opts: &KeyOptions,
) -> std::result::Result<Vec<MasterKey>, registry::KeyIdError> {
    let mut out = Vec::new();
    for (source, ids) in ids {
        for id in ids {
            out.push(remote_key(*source, source.parse_id(id, opts)?));
        }
    }
    Ok(out)
}

fn pgp_key(fp: &str) -> MasterKey {
    MasterKey::Pgp {
        fp: fp.replace(' ', ""),
        created_at: String::new(),
        enc: String::new(),
    }
}

/// The creation rule that applies to `file`: from `explicit` (`--config` /
/// `SOPS_CONFIG`) or the nearest `.sops.yaml`; `None` without a config or
/// without a matching rule.
///
/// As in sops, only the rules up to the one that applies are looked at,
/// and only that one is read in full: a key sopx cannot use in another
/// rule (a plugin recipient, say) does not stop this file.
pub fn rule_for(explicit: Option<&Path>, file: &Path) -> Result<Option<CreationRule>> {
    let Some(path) = resolve_config(explicit, file)? else {
        return Ok(None);
    };
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(&path).map_err(|e| Error::Config {
        path: shown.clone(),
        msg: format!("could not read the file: {e}"),
    })?;
    let dir = path.parent().unwrap_or(Path::new("."));
    select_rule(&text, &shown, &path_for_matching(file, dir))
}

/// The first rule of config `text` whose `path_regex` matches `rel` (see
/// [`path_for_matching`]), read in full; earlier rules only have their
/// `path_regex` checked, later ones are not read.
pub fn select_rule(text: &str, shown: &str, rel: &str) -> Result<Option<CreationRule>> {
    let p = Parser { file: shown };
    let doc = p.load(text)?;
    let list = match &doc {
        Value::Null => return Ok(None),
        Value::Mapping(m) => match m.get("creation_rules") {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Sequence(s)) => s,
            Some(other) => {
                return Err(p.err(
                    "creation_rules",
                    format!("expected a list of rules, found {}", kind(other)),
                ));
            }
        },
        other => {
            return Err(p.err(
                "",
                format!("expected a mapping at the top level, found {}", kind(other)),
            ));
        }
    };
    for (i, v) in list.iter().enumerate() {
        let at = format!("creation_rules[{i}]");
        let m = p.mapping(&at, v)?;
        let matches = match p.string(m, &at, "path_regex")? {
            None => true,
            Some(r) => p.regex(&format!("{at}.path_regex"), &r)?.is_match(rel),
        };
        if matches {
            return p.rule(&at, v).map(Some);
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A1: &str = "age1cjw0fpmk6v645m4zfqq093j8fjftqmxq538j5xnl3n29h9pcmenqws6xat";
    const A2: &str = "age1hj9ewjs3amm2lraqsqg24x9k3wceup9fp7xlc0ten4m7qwg98cdsgfeml9";

    fn parse(text: &str) -> Vec<CreationRule> {
        parse_rules(text, ".sops.yaml").unwrap()
    }

    fn parse_err(text: &str) -> String {
        parse_rules(text, "/repo/.sops.yaml")
            .unwrap_err()
            .to_string()
    }

    fn recipients(g: &KeyGroup) -> Vec<String> {
        g.iter()
            .filter_map(|k| match k {
                MasterKey::Age { recipient, enc } => {
                    assert!(enc.is_empty());
                    Some(recipient.clone())
                }
                _ => None,
            })
            .collect()
    }

    fn pick<'a>(rules: &'a [CreationRule], file: &str) -> Option<&'a CreationRule> {
        let rel = path_for_matching_in(Path::new(file), Path::new("/repo"), Path::new("/repo"));
        rules.iter().find(|r| r.matches(&rel))
    }

    #[test]
    fn first_match_wins_relative_to_config_dir() {
        let rules = parse(&format!(
            "creation_rules:\n  - path_regex: ^prod/.*\\.yaml$\n    age: {A1}\n  - path_regex: \\.yaml$\n    age: {A2}\n  - age: {A1},{A2}\n"
        ));
        assert_eq!(rules.len(), 3);
        let r = pick(&rules, "/repo/prod/db.yaml").unwrap();
        assert_eq!(recipients(&r.key_groups[0]), [A1]);
        // Relative file names are taken from the working directory (/repo here).
        let r = pick(&rules, "prod/../dev/db.yaml").unwrap();
        assert_eq!(recipients(&r.key_groups[0]), [A2]);
        let r = pick(&rules, "/repo/x.json").unwrap();
        assert_eq!(r.path_regex, None);
        assert_eq!(recipients(&r.key_groups[0]), [A1, A2]);
        // Outside the config's directory the absolute path is matched: ^prod/ cannot match.
        let r = pick(&rules, "/elsewhere/prod/db.yaml").unwrap();
        assert_eq!(recipients(&r.key_groups[0]), [A2]);
        assert_eq!(
            path_for_matching_in(
                Path::new("/repository/a"),
                Path::new("/repo"),
                Path::new("/")
            ),
            "/repository/a"
        );

        let only = parse(&format!(
            "creation_rules:\n  - path_regex: secret\n    age: {A1}\n"
        ));
        assert!(pick(&only, "/repo/public.yaml").is_none());
        // Unanchored search, as Go's regexp.MatchString.
        assert!(pick(&only, "/repo/a/my-secrets.yaml").is_some());
    }

    #[test]
    fn keys_as_comma_string_or_list() {
        let rules = parse(&format!(
            "creation_rules:\n  - age: ' {A1} , {A2} ,'\n  - age:\n      - {A1}\n      - ' {A2}'\n  - age: [\"{A1},{A2}\"]\n    pgp: 'FBC7 B9E2 A4F9 289A, 85D77543B3D624B63CEA9E6DBC17301B491B3F21'\n"
        ));
        for r in &rules {
            assert_eq!(recipients(&r.key_groups[0]), [A1, A2]);
        }
        let pgp: Vec<_> = rules[2].key_groups[0]
            .iter()
            .filter_map(|k| match k {
                MasterKey::Pgp { fp, .. } => Some(fp.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(
            pgp,
            [
                "FBC7B9E2A4F9289A",
                "85D77543B3D624B63CEA9E6DBC17301B491B3F21"
            ]
        );
    }

    #[test]
    fn key_groups_and_other_key_kinds() {
        let rules = parse(&format!(
            r#"
stores:
  yaml:
    indent: 4
destination_rules:
  - s3_bucket: b
    path_regex: x
creation_rules:
  - path_regex: \.yaml$
    age: {A2}
    shamir_threshold: 2
    encrypted_regex: ^(data|stringData)$
    mac_only_encrypted: true
    key_groups:
      - age: [{A1}, {A1}]
        kms:
          - arn: arn:aws:kms:us-east-1:111:key/abc
            role: arn:aws:iam::111:role/r
            context: {{Env: prod}}
            aws_profile: dev
      - pgp: [ABCDEF0123456789]
        gcp_kms:
          - resource_id: projects/p/locations/global/keyRings/r/cryptoKeys/k
        azure_keyvault:
          - vaultUrl: https://v.vault.azure.net
            key: k
            version: "1"
        hc_vault: [https://vault.example.com:8200/v1/transit/keys/k1]
  - kms: arn:aws:kms:us-east-1:111:key/top+arn:aws:iam::111:role/x
    aws_profile: p
    azure_keyvault: https://v.vault.azure.net/keys/name
    hc_vault_transit_uri: http://127.0.0.1:8200/v1/sops/nested/keys/k2
"#
        ));
        let r = &rules[0];
        assert_eq!(r.shamir_threshold, 2);
        assert_eq!(
            r.rules.encrypted_regex.as_deref(),
            Some("^(data|stringData)$")
        );
        assert!(r.rules.mac_only_encrypted);
        assert_eq!(
            r.key_groups.len(),
            2,
            "top-level keys are ignored when key_groups is set"
        );
        // Duplicates are dropped within a group.
        assert_eq!(recipients(&r.key_groups[0]), [A1]);
        let kms = r.key_groups[0].iter().find(|k| k.kind() == "kms").unwrap();
        let MasterKey::Remote(RemoteKey { fields, .. }) = kms else {
            panic!()
        };
        assert_eq!(
            serde_json::to_string(fields).unwrap(),
            r#"{"arn":"arn:aws:kms:us-east-1:111:key/abc","role":"arn:aws:iam::111:role/r","context":{"Env":"prod"},"created_at":"","enc":"","aws_profile":"dev"}"#
        );
        let kinds: Vec<_> = r.key_groups[1]
            .iter()
            .map(|k| k.kind().to_string())
            .collect();
        assert_eq!(kinds, ["pgp", "gcp_kms", "azure_kv", "hc_vault"]);
        let MasterKey::Remote(RemoteKey { fields, .. }) = &r.key_groups[1][3] else {
            panic!()
        };
        assert_eq!(fields["vault_address"], "https://vault.example.com:8200");
        assert_eq!(fields["engine_path"], "transit");
        assert_eq!(fields["key_name"], "k1");

        let g = &rules[1].key_groups[0];
        let MasterKey::Remote(RemoteKey { fields, .. }) = &g[0] else {
            panic!()
        };
        assert_eq!(
            serde_json::to_string(fields).unwrap(),
            r#"{"arn":"arn:aws:kms:us-east-1:111:key/top","role":"arn:aws:iam::111:role/x","created_at":"","enc":"","aws_profile":"p"}"#
        );
        let MasterKey::Remote(RemoteKey { fields, .. }) = &g[1] else {
            panic!()
        };
        assert_eq!(
            (
                fields["vault_url"].as_str(),
                fields["name"].as_str(),
                fields["version"].as_str()
            ),
            (Some("https://v.vault.azure.net"), Some("name"), Some(""))
        );
        let MasterKey::Remote(RemoteKey { fields, .. }) = &g[2] else {
            panic!()
        };
        assert_eq!(fields["engine_path"], "sops/nested");
        assert_eq!(
            rules[1].rules.unencrypted_suffix, None,
            "rules are not normalized here"
        );
    }

    #[test]
    fn merge_keys_and_key_group_merge() {
        let rules = parse(&format!(
            "common: &common\n  age: {A1}\n  unencrypted_suffix: _plain\ncreation_rules:\n  - <<: *common\n    path_regex: a\n  - key_groups:\n      - merge:\n          - age: [{A1}]\n        age: [{A2}]\n"
        ));
        assert_eq!(rules[0].rules.unencrypted_suffix.as_deref(), Some("_plain"));
        assert_eq!(recipients(&rules[0].key_groups[0]), [A1]);
        assert_eq!(recipients(&rules[1].key_groups[0]), [A1, A2]);
    }

    #[test]
    fn empty_configs_have_no_rules() {
        assert!(parse("").is_empty());
        assert!(parse("# nothing\n").is_empty());
        assert!(parse("destination_rules: []\n").is_empty());
        assert!(parse("creation_rules:\n").is_empty());
        // A rule without keys is kept, with no key groups.
        let r = parse("creation_rules:\n  - path_regex: x\n");
        assert!(r[0].key_groups.is_empty());
    }

    #[test]
    fn errors_name_the_file_and_the_field() {
        let e = parse_err(&format!(
            "creation_rules:\n  - path_regex: a\n    age: {A1}\n  - path_regex: b\n  - path_regex: '(unclosed'\n"
        ));
        assert!(
            e.starts_with(
                "config /repo/.sops.yaml: creation_rules[2].path_regex: invalid regular expression:"
            ),
            "{e}"
        );
        let e = parse_err("creation_rules:\n  - encrypted_regex: '['\n");
        assert!(
            e.contains("creation_rules[0].encrypted_regex: invalid regular expression"),
            "{e}"
        );
        let e = parse_err("creation_rules:\n  - age: age1nope\n");
        assert!(
            e.contains("creation_rules[0].age: invalid age recipient \"age1nope\""),
            "{e}"
        );
        let e = parse_err(&format!(
            "creation_rules:\n  - key_groups:\n      - age: [{A1}]\n      - age: [ssh-foo AAAA]\n"
        ));
        assert!(
            e.contains("creation_rules[0].key_groups[1].age: invalid age recipient"),
            "{e}"
        );
        let e = parse_err("creation_rules:\n  - age: {a: b}\n");
        assert!(e.contains("creation_rules[0].age: expected a string (keys separated by commas) or a list of strings, found a mapping"), "{e}");
        let e = parse_err("creation_rules:\n  - age: [1]\n");
        assert!(
            e.contains("creation_rules[0].age[0]: expected a string, found a number"),
            "{e}"
        );
        let e = parse_err(
            "creation_rules:\n  - encrypted_suffix: _e\n    unencrypted_comment_regex: x\n",
        );
        assert!(
            e.contains("creation_rules[0]: cannot use more than one of"),
            "{e}"
        );
        let e = parse_err("creation_rules:\n  - shamir_threshold: -1\n");
        assert!(e.contains("creation_rules[0].shamir_threshold"), "{e}");
        let e = parse_err("creation_rules: {}\n");
        assert!(
            e.contains("creation_rules: expected a list of rules, found a mapping"),
            "{e}"
        );
        let e = parse_err("creation_rules:\n  - azure_keyvault: https://v/secrets/x\n");
        assert!(
            e.contains("creation_rules[0].azure_keyvault: could not parse"),
            "{e}"
        );
        let e = parse_err("creation_rules:\n  - hc_vault_transit_uri: vault.example.com/keys/k\n");
        assert!(
            e.contains("creation_rules[0].hc_vault_transit_uri: could not parse"),
            "{e}"
        );
        let e = parse_err("creation_rules: [\n");
        assert!(e.contains("invalid YAML"), "{e}");
        let err = parse_rules("creation_rules: {}\n", "x").unwrap_err();
        assert_eq!(err.exit_code(), crate::error::codes::ERROR_READING_CONFIG);
    }

    #[test]
    fn walking_up_directories() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let deep = root.join("a/b/c");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(root.join("a/.sops.yaml"), "creation_rules: []\n").unwrap();
        std::fs::write(root.join("a/b/.sops.yml"), "").unwrap();
        let found = lookup_config(&deep);
        assert_eq!(
            found.path.as_deref(),
            Some(root.join("a/.sops.yaml").as_path())
        );
        let w = found.warning.unwrap();
        assert!(
            w.contains(".sops.yml") && w.contains("must be called \".sops.yaml\""),
            "{w}"
        );
        assert_eq!(
            find_config(&root.join("a")),
            Some(root.join("a/.sops.yaml"))
        );
        // `..` is resolved lexically.
        assert_eq!(
            find_config(&deep.join("../../..").join("a/b")),
            Some(root.join("a/.sops.yaml"))
        );

        // resolve_config: the working directory first (as sops), then the
        // file's directory.
        let other = root.join("other");
        std::fs::create_dir_all(other.join("sub")).unwrap();
        std::fs::write(other.join(".sops.yaml"), "").unwrap();
        let file = deep.join("x.yaml");
        let got = resolve_in(None, &file, &other.join("sub")).unwrap();
        assert_eq!(got.path, Some(other.join(".sops.yaml")));
        std::fs::create_dir_all(root.join("lonely")).unwrap();
        if find_config(root).is_none() {
            let got = resolve_in(None, &file, &root.join("lonely")).unwrap();
            assert_eq!(got.path, Some(root.join("a/.sops.yaml")));
        }
        // A relative file name is taken from the working directory.
        let got = resolve_in(None, Path::new("c/x.yaml"), &root.join("a/b")).unwrap();
        assert_eq!(got.path, Some(root.join("a/.sops.yaml")));
        // An explicit path wins; an empty one counts as not given.
        let explicit = other.join(".sops.yaml");
        let got = resolve_in(Some(&explicit), &file, root).unwrap();
        assert_eq!(got.path, Some(explicit));
        let got = resolve_in(Some(Path::new("")), &file, root).unwrap();
        assert_eq!(got.path, Some(root.join("a/.sops.yaml")));

        // load_rules reads the file; matching_rule uses the config's directory.
        std::fs::write(
            root.join("a/.sops.yaml"),
            format!("creation_rules:\n  - path_regex: ^b/c/\n    age: {A1}\n"),
        )
        .unwrap();
        let rules = load_rules(&root.join("a/.sops.yaml")).unwrap();
        assert!(matching_rule(&rules, &file, &root.join("a")).is_some());
        assert!(matching_rule(&rules, &root.join("a/x.yaml"), &root.join("a")).is_none());
    }

    #[test]
    fn only_the_rule_used_is_read() {
        let text = format!(
            "creation_rules:\n  - path_regex: ^hw/\n    age: age1yubikey1bogus\n    pgp: nope\n  - path_regex: \\.yaml$\n    age: {A1}\n  - age: [{{not: a string}}]\n"
        );
        let r = select_rule(&text, ".sops.yaml", "x.yaml").unwrap().unwrap();
        assert_eq!(recipients(&r.key_groups[0]), [A1]);
        // The rule that applies is checked in full.
        let err = select_rule(&text, ".sops.yaml", "hw/x.yaml").unwrap_err();
        assert!(err.to_string().contains("creation_rules[0]"), "{err}");
        // Rules before it have their path_regex checked, as in sops.
        let bad = format!("creation_rules:\n  - path_regex: '('\n  - age: {A1}\n");
        assert!(select_rule(&bad, ".sops.yaml", "x.yaml").is_err());
        assert!(select_rule("", ".sops.yaml", "x.yaml").unwrap().is_none());
    }

    #[test]
    fn explicit_missing_config_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let missing = tmp.path().join("nope.yaml");
        let err = resolve_config(Some(&missing), Path::new("x.yaml")).unwrap_err();
        let Error::Config { path, msg } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(path, &missing.display().to_string());
        assert!(msg.contains("not found"), "{msg}");
        assert!(err.to_string().contains("nope.yaml"), "{err}");
        let err = resolve_config(Some(tmp.path()), Path::new("x.yaml")).unwrap_err();
        assert!(err.to_string().contains("not a config file"), "{err}");
        let err = load_rules(&missing).unwrap_err();
        assert!(err.to_string().contains("could not read the file"), "{err}");
    }
}
