//! The real-world corpus (`tests/fixtures/realworld/`): 300+ YAML, JSON,
//! dotenv, INI and TOML files taken unchanged from public repositories (see
//! `SOURCES` for repository, path, commit and licence of each file), run
//! through sopx and the real sops 3.11.
//!
//! One test per property; each goes over the whole corpus, collects every
//! failure, prints a summary line per format (`realworld yaml: ...`) and only
//! then fails, so one run shows every broken file. `scripts/realworld-report.sh`
//! prints the summary lines.
//!
//! - `sopx_roundtrip_is_lossless`: encrypt + decrypt gives the original bytes
//!   (files listed in `EXCEPTIONS`: the original data).
//! - `sops_opens_sopx_files`: the real sops decrypts sopx's encryption to the
//!   same data as its own encryption of the file.
//! - `sopx_opens_sops_files`: sopx decrypts sops's encryption to the same data
//!   as sops does.
//! - `no_comment_left_in_clear`: a comment sops encrypts is not left in clear
//!   by sopx.
//! - `one_value_set_changes_three_lines`: `sopx set` of one value changes the
//!   value's line, `mac` and `lastmodified`, nothing else.
//! - `sopx_handles_what_sops_refuses`: files sops refuses or cannot round-trip
//!   (`sops-refuses/`) are round-tripped exactly or refused cleanly.
//!
//! Data is compared as `--output-type json` (parsed, key order kept), except
//! for multi-document YAML, compared as YAML (all documents, with the go-yaml
//! resolution rules of `common::load_yaml`): `sops decrypt --output-type json`
//! keeps only the first document. sops 3.11 has no TOML store: TOML files only take
//! part in the sopx-only tests.
//!
//! The sopx and sops encryptions of every file are made once per test binary
//! and shared by the tests. `REALWORLD_THREADS` sets the number of worker
//! threads (default: the number of CPUs, at most 4); `REALWORLD_FILTER` limits
//! the run to files whose relative path contains the given text.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

// ---------------------------------------------------------------------------
// the corpus

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Yaml,
    Json,
    Dotenv,
    Ini,
    Toml,
}

const KINDS: [Kind; 5] = [Kind::Yaml, Kind::Json, Kind::Dotenv, Kind::Ini, Kind::Toml];

impl Kind {
    fn dir(self) -> &'static str {
        match self {
            Kind::Yaml => "yaml",
            Kind::Json => "json",
            Kind::Dotenv => "dotenv",
            Kind::Ini => "ini",
            Kind::Toml => "toml",
        }
    }

    /// The `--input-type` of sops and sopx; `None` for TOML, which sops 3.11
    /// does not know.
    fn sops_type(self) -> Option<&'static str> {
        match self {
            Kind::Toml => None,
            k => Some(k.dir()),
        }
    }

    fn of(path: &Path) -> Kind {
        match path.extension().and_then(|e| e.to_str()) {
            Some("yaml" | "yml") => Kind::Yaml,
            Some("json") => Kind::Json,
            Some("env") => Kind::Dotenv,
            Some("ini") => Kind::Ini,
            Some("toml") => Kind::Toml,
            other => panic!("no format for extension {other:?} of {}", path.display()),
        }
    }
}

struct Case {
    kind: Kind,
    /// Path relative to the corpus root, e.g. `yaml/bitnami-charts__x.yaml`.
    rel: String,
    path: PathBuf,
    /// `Some(reason)` when listed in `EXCEPTIONS`.
    exception: Option<String>,
    /// A YAML stream of more than one document.
    multi_doc: bool,
}

impl Case {
    fn bytes(&self) -> Vec<u8> {
        std::fs::read(&self.path).unwrap()
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes()).into_owned()
    }
    fn file_name(&self) -> &str {
        self.path.file_name().unwrap().to_str().unwrap()
    }
    /// The `--output-type` the data of the file is compared in: JSON, except
    /// for multi-document YAML (sops's JSON output keeps only the first
    /// document), which is compared as YAML.
    fn compare_type(&self) -> &'static str {
        if self.multi_doc { "yaml" } else { "json" }
    }
}

fn is_multi_doc(kind: Kind, text: &str) -> bool {
    kind == Kind::Yaml
        && load_yaml(text)
            .map(|d| d.len() > 1)
            .unwrap_or_else(|_| text.lines().filter(|l| l.starts_with("---")).count() > 1)
}

fn root() -> PathBuf {
    fixtures_dir().join("realworld")
}

/// `EXCEPTIONS`: `<relative file>  <reason>` per line, `#` comments.
fn realworld_exceptions() -> BTreeMap<String, String> {
    let Ok(text) = std::fs::read_to_string(root().join("EXCEPTIONS")) else {
        return BTreeMap::new();
    };
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.split_once(char::is_whitespace) {
            Some((file, reason)) => (file.to_string(), reason.trim().to_string()),
            None => (l.to_string(), String::new()),
        })
        .collect()
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

fn filter_matches(rel: &str) -> bool {
    match std::env::var("REALWORLD_FILTER") {
        Ok(f) if !f.is_empty() => rel.contains(&f),
        _ => true,
    }
}

/// Every file of the five format directories, by format then name.
fn cases() -> &'static [Case] {
    static CASES: OnceLock<Vec<Case>> = OnceLock::new();
    CASES.get_or_init(|| {
        let exc = realworld_exceptions();
        let mut v = Vec::new();
        for kind in KINDS {
            for path in files_in(&root().join(kind.dir())) {
                assert_eq!(
                    Kind::of(&path),
                    kind,
                    "{} is in the wrong directory",
                    path.display()
                );
                let rel = format!(
                    "{}/{}",
                    kind.dir(),
                    path.file_name().unwrap().to_str().unwrap()
                );
                let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
                v.push(Case {
                    multi_doc: is_multi_doc(kind, &text),
                    kind,
                    exception: exc.get(&rel).cloned(),
                    rel,
                    path,
                });
            }
        }
        for name in exc.keys() {
            assert!(
                v.iter().any(|c| &c.rel == name),
                "EXCEPTIONS names {name}, which is not in the corpus"
            );
        }
        v.retain(|c| filter_matches(&c.rel));
        v
    })
}

fn refused_cases() -> Vec<Case> {
    files_in(&root().join("sops-refuses"))
        .into_iter()
        .map(|path| Case {
            kind: Kind::of(&path),
            rel: format!(
                "sops-refuses/{}",
                path.file_name().unwrap().to_str().unwrap()
            ),
            path,
            exception: None,
            multi_doc: false,
        })
        .filter(|c| filter_matches(&c.rel))
        .collect()
}

// ---------------------------------------------------------------------------
// running over the corpus

fn threads() -> usize {
    std::env::var("REALWORLD_THREADS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
                .min(4)
        })
        .max(1)
}

/// `f` over `items` on a few threads; results in the order of `items`.
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(usize, &T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let mut got: Vec<(usize, R)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads().min(items.len().max(1)))
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        if i >= items.len() {
                            break;
                        }
                        mine.push((i, f(i, &items[i])));
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("worker thread panicked"))
            .collect()
    });
    got.sort_by_key(|(i, _)| *i);
    got.into_iter().map(|(_, r)| r).collect()
}

/// `work/<index>-<file name>`: a private copy of a corpus file, outside the
/// repository so that no `.sops.yaml` is found.
fn work_name(i: usize, c: &Case, tag: &str) -> String {
    format!("{i:04}-{tag}-{}", c.file_name())
}

fn sopx_encrypt(sb: &Sandbox, i: usize, c: &Case) -> Run {
    let plain = sb.write(&work_name(i, c, "plain"), c.bytes());
    run(sb
        .sopx()
        .arg("encrypt")
        .arg("--age")
        .arg(pub1())
        .arg(&plain))
}

fn sops_encrypt(sb: &Sandbox, sops: &Path, i: usize, c: &Case) -> Run {
    let t = c.kind.sops_type().unwrap();
    let plain = sb.write(&work_name(i, c, "plain"), c.bytes());
    run(sb
        .sops(sops)
        .args([
            "encrypt",
            "--age",
            &pub1(),
            "--input-type",
            t,
            "--output-type",
            t,
        ])
        .arg(&plain))
}

/// The real sops's decryption of `enc` in the format the data is compared in.
fn sops_decrypt_cmp(sb: &Sandbox, sops: &Path, c: &Case, enc: &Path) -> Run {
    run(sb
        .sops(sops)
        .args(["decrypt", "--input-type", c.kind.sops_type().unwrap()])
        .args(["--output-type", c.compare_type()])
        .arg(enc))
}

fn sopx_decrypt_cmp(sb: &Sandbox, c: &Case, enc: &Path) -> Run {
    run(sb
        .sopx()
        .args(["decrypt", "--output-type", c.compare_type()])
        .arg(enc))
}

/// What the tests share: each file's encryption by sopx and by sops, and
/// sops's decryption of its own encryption (the reference data).
struct Prepared {
    sopx_enc: Run,
    /// `None` for TOML, or when sops is not installed.
    sops_enc: Option<Run>,
    /// sops's decryption of `sops_enc` in [`Case::compare_type`].
    sops_ref: Option<Result<String, String>>,
}

fn prepared() -> &'static [Prepared] {
    static PREP: OnceLock<Vec<Prepared>> = OnceLock::new();
    PREP.get_or_init(|| {
        let sops = find_sops();
        let sb = Sandbox::new();
        par_map(cases(), |i, c| {
            let sopx_enc = sopx_encrypt(&sb, i, c);
            let (sops_enc, sops_ref) = match (&sops, c.kind.sops_type()) {
                (Some(sops), Some(_)) => {
                    let e = sops_encrypt(&sb, sops, i, c);
                    let reference = if e.ok() {
                        let enc = sb.write(&work_name(i, c, "sops"), &e.stdout);
                        let d = sops_decrypt_cmp(&sb, sops, c, &enc);
                        if d.ok() {
                            Ok(d.stdout_str())
                        } else {
                            Err(format!(
                                "sops decrypt of its own encryption failed: {}",
                                d.describe()
                            ))
                        }
                    } else {
                        Err(format!("sops encrypt failed: {}", e.describe()))
                    };
                    (Some(e), Some(reference))
                }
                _ => (None, None),
            };
            Prepared {
                sopx_enc,
                sops_enc,
                sops_ref,
            }
        })
    })
}

/// Data equality of two texts in the format they were compared in.
fn same_cmp(c: &Case, expected: &str, actual: &str) -> Result<(), String> {
    match c.compare_type() {
        "yaml" => same_data(Format::Yaml, expected, actual),
        _ => same_data(Format::Json, expected, actual),
    }
}

/// One summary line per format, e.g.
/// `realworld yaml: 190 files, 185 byte-identical, 5 exceptions (data-equal)`.
#[derive(Default)]
struct Tally {
    per_kind: BTreeMap<Kind, BTreeMap<&'static str, usize>>,
    files: BTreeMap<Kind, usize>,
}

impl Tally {
    fn file(&mut self, k: Kind) {
        *self.files.entry(k).or_default() += 1;
    }
    fn add(&mut self, k: Kind, what: &'static str) {
        *self.per_kind.entry(k).or_default().entry(what).or_default() += 1;
    }
    fn print(&self, test: &str, order: &[&'static str]) {
        for (k, n) in &self.files {
            let counts = self.per_kind.get(k);
            let parts: Vec<String> = order
                .iter()
                .map(|w| {
                    format!(
                        "{} {w}",
                        counts.and_then(|c| c.get(w)).copied().unwrap_or(0)
                    )
                })
                .collect();
            eprintln!(
                "realworld {}: {n} files, {} [{test}]",
                k.dir(),
                parts.join(", ")
            );
        }
    }
}

// ---------------------------------------------------------------------------
// the corpus itself (no binaries needed)

/// Every file is attributed in `SOURCES` (repository, path, commit, licence),
/// and the corpus has the announced size and limits.
#[test]
fn corpus_is_complete_and_attributed() {
    let text = std::fs::read_to_string(root().join("SOURCES")).expect("SOURCES");
    let mut lines = text.lines();
    assert_eq!(
        lines
            .next()
            .map(|h| h.split('\t').take(5).collect::<Vec<_>>()),
        Some(vec!["file", "repo", "path", "commit", "licence"]),
        "SOURCES header"
    );
    let mut listed = BTreeMap::new();
    for (n, l) in lines.enumerate() {
        let f: Vec<&str> = l.split('\t').collect();
        assert!(f.len() >= 5, "SOURCES line {}: {l:?}", n + 2);
        assert!(
            f[3].len() == 40 && f[3].chars().all(|c| c.is_ascii_hexdigit()),
            "SOURCES line {}: bad commit {:?}",
            n + 2,
            f[3]
        );
        assert!(
            !f[1].is_empty() && !f[2].is_empty() && !f[4].is_empty(),
            "SOURCES line {}: {l:?}",
            n + 2
        );
        if f[0].starts_with("sops-refuses/") {
            assert!(
                f.get(5).is_some_and(|r| r.starts_with("sops-refuses: ")),
                "SOURCES line {}: a sops-refuses file needs the reason in column 6",
                n + 2
            );
        }
        assert!(
            listed.insert(f[0].to_string(), ()).is_none(),
            "SOURCES lists {} twice",
            f[0]
        );
    }
    let mut on_disk = Vec::new();
    let mut total = 0u64;
    for dir in KINDS.iter().map(|k| k.dir()).chain(["sops-refuses"]) {
        for p in files_in(&root().join(dir)) {
            let len = p.metadata().unwrap().len();
            assert!(
                len < 64 * 1024,
                "{} is {len} bytes (limit 64 KiB)",
                p.display()
            );
            total += len;
            on_disk.push(format!(
                "{dir}/{}",
                p.file_name().unwrap().to_str().unwrap()
            ));
        }
    }
    for f in &on_disk {
        assert!(listed.contains_key(f), "{f} is not in SOURCES");
    }
    for f in listed.keys() {
        assert!(
            on_disk.contains(f),
            "SOURCES lists {f}, which does not exist"
        );
    }
    let main = on_disk
        .iter()
        .filter(|f| !f.starts_with("sops-refuses/"))
        .count();
    assert!(main >= 300, "only {main} corpus files");
    assert!(
        total < 6 * 1024 * 1024,
        "corpus is {total} bytes (limit 6 MiB)"
    );
    let exc = realworld_exceptions();
    for name in exc.keys() {
        assert!(
            listed.contains_key(name),
            "EXCEPTIONS names {name}, which is not in the corpus"
        );
    }
    eprintln!(
        "realworld corpus: {main} files + {} sops-refuses, {total} bytes, {} exceptions",
        on_disk.len() - main,
        exc.len()
    );
}

/// The helpers the tests rely on see what they should.
#[test]
fn helpers_work() {
    assert_eq!(changed_lines("a\nb\nc\n", "a\nb\nc\n"), 0);
    assert_eq!(changed_lines("a\nb\nc\n", "a\nx\nc\n"), 1);
    assert_eq!(changed_lines("a\nb\nc\nd\n", "x\nb\nc\ny\nz\n"), 3);
    assert_eq!(changed_lines("k: |-\n  v\nmac: 1\n", "k: w\nmac: 2\n"), 3);
    assert_eq!(
        comment_texts(
            Kind::Yaml,
            "# top comment\na: 1 # trailing one\nb: '#no'\n# ab\n"
        ),
        vec!["top comment", "trailing one"]
    );
    assert_eq!(
        comment_texts(
            Kind::Ini,
            "; semicolon\n# hash sign\n[s]\nk = v # not a comment\n"
        ),
        vec!["semicolon", "hash sign"]
    );
    let v: serde_json::Value =
        serde_json::from_str(r#"{"n": 1, "l": [true, {"x": "y"}], "s": "t"}"#).unwrap();
    assert_eq!(
        first_string_leaf(&v, String::new()).as_deref(),
        Some(r#"["l"][1]["x"]"#)
    );
    assert!(
        same_toml(
            "a = 1\nc = 2\n[t]\nb = 'x'\n",
            "c = 2 # two\na = 1\n\n[t]\nb = \"x\"\n"
        )
        .is_ok()
    );
    assert!(same_toml("a = 0x10\n", "a = 16\n").is_ok());
    assert!(same_toml("a = 1\n", "a = '1'\n").is_err());
}

// ---------------------------------------------------------------------------
// 1. sopx alone: lossless round trip

/// The data of `bytes` (a plaintext of `c`'s format) as the real sops sees
/// it: sops's decryption of its encryption, in [`Case::compare_type`].
fn sops_view(
    sb: &Sandbox,
    sops: &Path,
    i: usize,
    c: &Case,
    bytes: &[u8],
) -> Result<String, String> {
    let t = c.kind.sops_type().unwrap();
    let plain = sb.write(&work_name(i, c, "view"), bytes);
    let e = run(sb
        .sops(sops)
        .args([
            "encrypt",
            "--age",
            &pub1(),
            "--input-type",
            t,
            "--output-type",
            t,
        ])
        .arg(&plain));
    if !e.ok() {
        return Err(format!("sops encrypt: {}", e.describe()));
    }
    let enc = sb.write(&work_name(i, c, "view-enc"), &e.stdout);
    let d = sops_decrypt_cmp(sb, sops, c, &enc);
    if !d.ok() {
        return Err(format!("sops decrypt: {}", d.describe()));
    }
    Ok(d.stdout_str())
}

/// `sopx encrypt` exits 0 and `sopx decrypt` gives back the exact original
/// bytes; for files in `EXCEPTIONS`, the original data.
#[test]
fn sopx_roundtrip_is_lossless() {
    let sops = find_sops();
    let sb = Sandbox::new();
    let prep = prepared();
    let results = par_map(cases(), |i, c| -> (&'static str, Result<(), String>) {
        let e = &prep[i].sopx_enc;
        if !e.ok() {
            return (
                "failed",
                Err(format!("sopx encrypt failed: {}", e.describe())),
            );
        }
        let enc = sb.write(&work_name(i, c, "sopx"), &e.stdout);
        let d = run(sb.sopx().arg("decrypt").arg(&enc));
        if !d.ok() {
            return (
                "failed",
                Err(format!("sopx decrypt failed: {}", d.describe())),
            );
        }
        let original = c.bytes();
        if d.stdout == original {
            if let Some(reason) = &c.exception {
                eprintln!(
                    "note: {} round-trips byte-exact but is in EXCEPTIONS ({reason})",
                    c.rel
                );
            }
            return ("byte-identical", Ok(()));
        }
        let Some(reason) = &c.exception else {
            return (
                "failed",
                Err(format!(
                    "decrypt differs from the original: {}",
                    first_difference(&original, &d.stdout).replace('\n', "\n    ")
                )),
            );
        };
        let data = match c.kind {
            Kind::Yaml => same_data(Format::Yaml, &c.text(), &d.stdout_str()),
            Kind::Json => same_data(Format::Json, &c.text(), &d.stdout_str()),
            Kind::Toml => same_toml(&c.text(), &d.stdout_str()),
            Kind::Dotenv | Kind::Ini => match &sops {
                Some(sops) => {
                    let want = prep[i].sops_ref.clone().unwrap();
                    let got = sops_view(&sb, sops, i, c, &d.stdout);
                    match (want, got) {
                        (Ok(w), Ok(g)) => same_data(Format::Json, &w, &g),
                        (w, g) => Err(format!(
                            "sops cannot read both: original {w:?}, decrypted {g:?}"
                        )),
                    }
                }
                None => return ("unchecked exceptions (no sops)", Ok(())),
            },
        };
        match data {
            Ok(()) => ("exceptions (data-equal)", Ok(())),
            Err(e) => (
                "failed",
                Err(format!(
                    "in EXCEPTIONS ({reason}), but the data differs: {e}"
                )),
            ),
        }
    });
    let mut f = Failures::default();
    let mut t = Tally::default();
    for (c, (what, r)) in cases().iter().zip(results) {
        t.file(c.kind);
        t.add(c.kind, what);
        f.check(&c.rel, gap("sopx_roundtrip_is_lossless", &c.rel, r));
    }
    t.print(
        "sopx round trip",
        &[
            "byte-identical",
            "exceptions (data-equal)",
            "unchecked exceptions (no sops)",
            "failed",
        ],
    );
    f.finish("realworld: sopx encrypt + decrypt");
}

/// TOML data equality, via toml_edit (tables, arrays, inline tables and
/// scalars; formatting, comments and the order of keys are ignored).
fn same_toml(expected: &str, actual: &str) -> Result<(), String> {
    fn canon_item(i: &toml_edit::Item) -> String {
        match i {
            toml_edit::Item::None => "none".into(),
            toml_edit::Item::Value(v) => canon_value(v),
            toml_edit::Item::Table(t) => {
                let m: BTreeMap<String, String> = t
                    .iter()
                    .map(|(k, v)| (k.to_string(), canon_item(v)))
                    .collect();
                format!("{m:?}")
            }
            toml_edit::Item::ArrayOfTables(a) => {
                let v: Vec<String> = a
                    .iter()
                    .map(|t| canon_item(&toml_edit::Item::Table(t.clone())))
                    .collect();
                format!("{v:?}")
            }
        }
    }
    fn canon_value(v: &toml_edit::Value) -> String {
        use toml_edit::Value;
        match v {
            Value::String(s) => format!("s{:?}", s.value()),
            Value::Integer(n) => format!("i{}", n.value()),
            Value::Float(x) => format!("f{}", x.value()),
            Value::Boolean(b) => format!("b{}", b.value()),
            Value::Datetime(d) => format!("d{}", d.value()),
            Value::Array(a) => format!("{:?}", a.iter().map(canon_value).collect::<Vec<_>>()),
            Value::InlineTable(t) => {
                let m: BTreeMap<String, String> = t
                    .iter()
                    .map(|(k, v)| (k.to_string(), canon_value(v)))
                    .collect();
                format!("{m:?}")
            }
        }
    }
    let parse = |s: &str| -> Result<String, String> {
        let d: toml_edit::DocumentMut = s.parse().map_err(|e| format!("invalid TOML: {e}"))?;
        Ok(canon_item(d.as_item()))
    };
    let (e, a) = (parse(expected)?, parse(actual)?);
    if e == a {
        Ok(())
    } else {
        Err("the TOML data differs".into())
    }
}

// ---------------------------------------------------------------------------
// 2. and 3. interoperability with the real sops

/// The real sops decrypts sopx's encryption to the same data as it decrypts
/// its own encryption of the same file to.
#[test]
fn sops_opens_sopx_files() {
    let Some(sops) = require_sops() else { return };
    let Some(_) = require_age() else { return };
    let sb = Sandbox::new();
    let prep = prepared();
    let results = par_map(cases(), |i, c| -> (&'static str, Result<(), String>) {
        if c.kind == Kind::Toml {
            return ("skipped", Ok(()));
        }
        let p = &prep[i];
        let reference = match p.sops_ref.as_ref().unwrap() {
            Ok(r) => r,
            Err(e) => return ("failed", Err(format!("no reference: {e}"))),
        };
        if !p.sopx_enc.ok() {
            return (
                "failed",
                Err(format!("sopx encrypt failed: {}", p.sopx_enc.describe())),
            );
        }
        let enc = sb.write(&work_name(i, c, "sopx"), &p.sopx_enc.stdout);
        let d = sops_decrypt_cmp(&sb, &sops, c, &enc);
        if !d.ok() {
            return (
                "failed",
                Err(format!(
                    "sops decrypt of sopx's file failed: {}",
                    d.describe()
                )),
            );
        }
        match same_cmp(c, reference, &d.stdout_str()) {
            Ok(()) => ("opened by sops (same data)", Ok(())),
            Err(e) => (
                "failed",
                Err(format!(
                    "sops's decryption of sopx's file differs from sops's own: {e}"
                )),
            ),
        }
    });
    let mut f = Failures::default();
    let mut t = Tally::default();
    for (c, (what, r)) in cases().iter().zip(results) {
        if what == "skipped" {
            continue;
        }
        t.file(c.kind);
        t.add(c.kind, what);
        f.check(&c.rel, gap("sops_opens_sopx_files", &c.rel, r));
    }
    t.print(
        "sops decrypts sopx",
        &["opened by sops (same data)", "failed"],
    );
    f.finish("realworld: sops decrypt of sopx's encryption");
}

/// sopx decrypts sops's encryption to the same data as sops does.
#[test]
fn sopx_opens_sops_files() {
    let Some(_) = require_sops() else { return };
    let Some(_) = require_age() else { return };
    let sb = Sandbox::new();
    let prep = prepared();
    let results = par_map(cases(), |i, c| -> (&'static str, Result<(), String>) {
        if c.kind == Kind::Toml {
            return ("skipped", Ok(()));
        }
        let p = &prep[i];
        let reference = match p.sops_ref.as_ref().unwrap() {
            Ok(r) => r,
            Err(e) => return ("failed", Err(format!("no reference: {e}"))),
        };
        let enc = sb.write(
            &work_name(i, c, "sops"),
            &p.sops_enc.as_ref().unwrap().stdout,
        );
        let d = sopx_decrypt_cmp(&sb, c, &enc);
        if !d.ok() {
            return (
                "failed",
                Err(format!(
                    "sopx decrypt of sops's file failed: {}",
                    d.describe()
                )),
            );
        }
        if d.stdout_str() == *reference {
            return ("read from sops (byte-identical)", Ok(()));
        }
        match same_cmp(c, reference, &d.stdout_str()) {
            Ok(()) => ("read from sops (data-equal)", Ok(())),
            Err(e) => (
                "failed",
                Err(format!(
                    "sopx's decryption of sops's file differs from sops's: {e}"
                )),
            ),
        }
    });
    let mut f = Failures::default();
    let mut t = Tally::default();
    for (c, (what, r)) in cases().iter().zip(results) {
        if what == "skipped" {
            continue;
        }
        t.file(c.kind);
        t.add(c.kind, what);
        f.check(&c.rel, gap("sopx_opens_sops_files", &c.rel, r));
    }
    t.print(
        "sopx decrypts sops",
        &[
            "read from sops (byte-identical)",
            "read from sops (data-equal)",
            "failed",
        ],
    );
    f.finish("realworld: sopx decrypt of sops's encryption");
}

// ---------------------------------------------------------------------------
// 4. comments

/// The text of each comment of a plaintext (after `#`, or `;` at the start
/// of an INI line), trimmed, at least 4 characters. Naive on purpose: a `#`
/// inside a value may give a "comment" that is really data; those are not
/// encrypted as comments by sops either, so the comparison skips them.
fn comment_texts(kind: Kind, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let t = line.trim_start();
        let body = if t.starts_with('#') || (kind == Kind::Ini && t.starts_with(';')) {
            Some(&t[1..])
        } else if kind == Kind::Yaml {
            line.find(" #").map(|j| &line[j + 2..])
        } else {
            None
        };
        if let Some(b) = body {
            let b = b.trim();
            if b.chars().count() >= 4 && !out.iter().any(|x| x == b) {
                out.push(b.to_string());
            }
        }
    }
    out
}

/// Every comment text that sops does not leave in clear in its encryption of
/// a file is not in clear in a comment of sopx's encryption either.
#[test]
fn no_comment_left_in_clear() {
    let Some(_) = require_sops() else { return };
    let prep = prepared();
    let mut f = Failures::default();
    let mut t = Tally::default();
    for (i, c) in cases().iter().enumerate() {
        if !matches!(c.kind, Kind::Yaml | Kind::Dotenv | Kind::Ini) {
            continue;
        }
        t.file(c.kind);
        let p = &prep[i];
        let sops_enc = p.sops_enc.as_ref().unwrap();
        if !sops_enc.ok() || !p.sopx_enc.ok() {
            t.add(c.kind, "not encrypted by both");
            f.check(
                &c.rel,
                gap(
                    "no_comment_left_in_clear",
                    &c.rel,
                    Err("not encrypted by both sops and sopx (see the other tests)".into()),
                ),
            );
            continue;
        }
        let theirs = sops_enc.stdout_str();
        // sopx's comments: a comment text counts as left in clear when one
        // of the comments of sopx's file contains it (not when it is only a
        // part of some key or value, e.g. `url =` in `root_url = ENC[...]`)
        let ours = comment_texts(c.kind, &p.sopx_enc.stdout_str());
        let mut leaked = Vec::new();
        for comment in comment_texts(c.kind, &c.text()) {
            if theirs.contains(&comment) {
                continue;
            }
            t.add(c.kind, "comments checked");
            if ours.iter().any(|o| o.contains(&comment)) {
                leaked.push(comment);
            }
        }
        if leaked.is_empty() {
            t.add(c.kind, "files without a leak");
        } else {
            t.add(c.kind, "files leaking comments");
        }
        f.check(
            &c.rel,
            if leaked.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "{} comment(s) sops encrypts are in clear in sopx's file, e.g. {:?}",
                    leaked.len(),
                    &leaked[..leaked.len().min(3)]
                ))
            },
        );
    }
    t.print(
        "comments",
        &[
            "comments checked",
            "files without a leak",
            "files leaking comments",
            "not encrypted by both",
        ],
    );
    f.finish("realworld: comments left in clear");
}

// ---------------------------------------------------------------------------
// 5. `sopx set` of one value

/// The path (`["a"][0]["b"]`) of the first string leaf at depth >= 1, in
/// document order.
fn first_string_leaf(v: &serde_json::Value, path: String) -> Option<String> {
    use serde_json::Value;
    match v {
        Value::String(_) if !path.is_empty() => Some(path),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .find_map(|(i, x)| first_string_leaf(x, format!("{path}[{i}]"))),
        Value::Object(o) => o
            .iter()
            .filter(|(k, _)| !k.contains(['"', '\\']))
            .find_map(|(k, x)| first_string_leaf(x, format!("{path}[\"{k}\"]"))),
        _ => None,
    }
}

/// The number of changed lines between two texts: max(removed, added) of an
/// LCS line diff.
fn changed_lines(before: &str, after: &str) -> usize {
    let a: Vec<&str> = before.lines().collect();
    let b: Vec<&str> = after.lines().collect();
    // trim the common head and tail, LCS on the rest
    let head = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (a, b) = (&a[head..a.len() - tail], &b[head..b.len() - tail]);
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let common = lcs[0][0];
    (a.len() - common).max(b.len() - common)
}

/// How many leaves differ between two JSON values (missing ones count).
fn changed_leaves(a: &serde_json::Value, b: &serde_json::Value) -> usize {
    use serde_json::Value as V;
    match (a, b) {
        (V::Object(x), V::Object(y)) => {
            let mut n = 0;
            for (k, v) in x {
                n += y.get(k).map_or(1, |w| changed_leaves(v, w));
            }
            n + y.keys().filter(|k| !x.contains_key(*k)).count()
        }
        (V::Array(x), V::Array(y)) => {
            let common: usize = x.iter().zip(y).map(|(v, w)| changed_leaves(v, w)).sum();
            common + x.len().abs_diff(y.len())
        }
        (x, y) => usize::from(x != y),
    }
}

fn lastmodified_line(text: &str) -> Option<&str> {
    text.lines().find(|l| l.contains("lastmodified"))
}

/// `sopx set` of the first string value changes exactly three lines of the
/// encrypted file (the value, `mac`, `lastmodified`; two when `lastmodified`
/// did not change because it is the same second), and decrypt shows the new
/// value. Multi-document YAML files are left out.
#[test]
fn one_value_set_changes_three_lines() {
    let sb = Sandbox::new();
    let prep = prepared();
    let results = par_map(cases(), |i, c| -> (&'static str, Result<(), String>) {
        let e = &prep[i].sopx_enc;
        if !e.ok() {
            return (
                "failed",
                Err(format!("sopx encrypt failed: {}", e.describe())),
            );
        }
        if c.multi_doc {
            return ("skipped (multi-document)", Ok(()));
        }
        let enc = sb.write(&work_name(i, c, "set"), &e.stdout);
        let j = run(sb
            .sopx()
            .args(["decrypt", "--output-type", "json"])
            .arg(&enc));
        if !j.ok() {
            return (
                "failed",
                Err(format!(
                    "sopx decrypt --output-type json failed: {}",
                    j.describe()
                )),
            );
        }
        let value: serde_json::Value = match serde_json::from_slice(&j.stdout) {
            Ok(v) => v,
            Err(err) => {
                return (
                    "failed",
                    Err(format!("sopx's JSON output does not parse: {err}")),
                );
            }
        };
        let Some(path) = first_string_leaf(&value, String::new()) else {
            return ("skipped (no string value)", Ok(()));
        };
        let before = e.stdout_str();
        let s = run(sb
            .sopx()
            .arg("set")
            .arg(&enc)
            .arg(&path)
            .arg("\"sopx-new-value\""));
        if !s.ok() {
            return (
                "failed",
                Err(format!("sopx set {path} failed: {}", s.describe())),
            );
        }
        let after = std::fs::read_to_string(&enc).unwrap();
        // A value inside an anchor changes in every alias copy too: each
        // copy's line changes with it, and nothing else may.
        let j2 = run(sb
            .sopx()
            .args(["decrypt", "--output-type", "json"])
            .arg(&enc));
        let changed_values = serde_json::from_slice::<serde_json::Value>(&j2.stdout)
            .map_or(1, |v| changed_leaves(&value, &v).max(1));
        // `mac`, `lastmodified` unless it is the same second, and the
        // layout hint when the value sits in a region the hint rewrites.
        let hint = |t: &str| {
            t.lines()
                .find(|l| l.contains("sopx_layout"))
                .map(str::to_string)
        };
        let meta = 1
            + usize::from(lastmodified_line(&before) != lastmodified_line(&after))
            + usize::from(hint(&before) != hint(&after));
        let n = changed_lines(&before, &after);
        let expected = changed_values + meta;
        if n != expected && !(changed_values > 1 && n > meta && n <= expected) {
            return (
                "failed",
                Err(format!(
                    "sopx set {path} changed {n} lines of the encrypted file, expected {expected}: {}",
                    first_difference(before.as_bytes(), after.as_bytes()).replace('\n', "\n    ")
                )),
            );
        }
        let x = run(sb
            .sopx()
            .arg("decrypt")
            .arg("--extract")
            .arg(&path)
            .arg(&enc));
        if !x.ok() {
            return (
                "failed",
                Err(format!(
                    "sopx decrypt --extract {path} after set failed: {}",
                    x.describe()
                )),
            );
        }
        if x.stdout_str().trim_end_matches('\n') != "sopx-new-value" {
            return (
                "failed",
                Err(format!(
                    "after set, --extract {path} gives {:?}",
                    x.stdout_str()
                )),
            );
        }
        ("set changed 3 lines", Ok(()))
    });
    let mut f = Failures::default();
    let mut t = Tally::default();
    for (c, (what, r)) in cases().iter().zip(results) {
        t.file(c.kind);
        t.add(c.kind, what);
        f.check(&c.rel, gap("one_value_set_changes_three_lines", &c.rel, r));
    }
    t.print(
        "sopx set",
        &[
            "set changed 3 lines",
            "skipped (multi-document)",
            "skipped (no string value)",
            "failed",
        ],
    );
    f.finish("realworld: sopx set of one value");
}

// ---------------------------------------------------------------------------
// 6. what the real sops refuses

/// Files sops refuses (or cannot round-trip): sopx encrypts them and gives
/// the exact bytes back, or it exits non-zero with an error message and
/// writes nothing (stdout empty; with `-i`, the file unchanged and no other
/// file created).
#[test]
fn sopx_handles_what_sops_refuses() {
    let sb = Sandbox::new();
    let cases = refused_cases();
    assert!(
        !cases.is_empty() || std::env::var_os("REALWORLD_FILTER").is_some(),
        "no sops-refuses files"
    );
    let results = par_map(&cases, |i, c| -> (&'static str, Result<(), String>) {
        let original = c.bytes();
        let plain = sb.write(&work_name(i, c, "plain"), &original);
        let e = run(sb
            .sopx()
            .arg("encrypt")
            .arg("--age")
            .arg(pub1())
            .arg(&plain));
        if e.ok() {
            if e.stdout.is_empty() {
                return (
                    "failed",
                    Err("sopx encrypt exited 0 but wrote nothing".into()),
                );
            }
            let enc = sb.write(&work_name(i, c, "enc"), &e.stdout);
            let d = run(sb.sopx().arg("decrypt").arg(&enc));
            if !d.ok() {
                return (
                    "failed",
                    Err(format!(
                        "sopx encrypted it, but decrypt failed: {}",
                        d.describe()
                    )),
                );
            }
            if d.stdout != original {
                return (
                    "failed",
                    Err(format!(
                        "sopx encrypted it, but the round trip is not exact: {}",
                        first_difference(&original, &d.stdout).replace('\n', "\n    ")
                    )),
                );
            }
            return ("encrypted and round-tripped exactly", Ok(()));
        }
        if e.code.is_none() {
            return (
                "failed",
                Err(format!(
                    "sopx encrypt was killed by a signal: {}",
                    e.describe()
                )),
            );
        }
        if e.stderr.trim().is_empty() {
            return (
                "failed",
                Err(format!(
                    "sopx encrypt exited {:?} without an error message",
                    e.code
                )),
            );
        }
        if !e.stdout.is_empty() {
            return (
                "failed",
                Err(format!(
                    "sopx encrypt failed but wrote {} bytes to stdout",
                    e.stdout.len()
                )),
            );
        }
        if e.stderr.contains("panicked") {
            return ("failed", Err(format!("sopx panicked: {}", e.describe())));
        }
        // in place, in a directory of its own
        let dir = format!("inplace-{i:04}");
        let copy = sb.write(&format!("{dir}/{}", c.file_name()), &original);
        let ip = run(sb
            .sopx()
            .arg("encrypt")
            .arg("-i")
            .arg("--age")
            .arg(pub1())
            .arg(&copy));
        if ip.ok() {
            return (
                "failed",
                Err("sopx encrypt refused the file on stdout but encrypted it in place".into()),
            );
        }
        if std::fs::read(&copy).unwrap() != original {
            return (
                "failed",
                Err("sopx encrypt -i failed but changed the file".into()),
            );
        }
        let left: Vec<_> = std::fs::read_dir(sb.work().join(&dir)).unwrap().collect();
        if left.len() != 1 {
            return (
                "failed",
                Err(format!(
                    "sopx encrypt -i failed but left {} files in the directory",
                    left.len()
                )),
            );
        }
        ("refused cleanly", Ok(()))
    });
    let mut f = Failures::default();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for (c, (what, r)) in cases.iter().zip(results) {
        *counts.entry(what).or_default() += 1;
        if what == "refused cleanly" {
            eprintln!("  {}: refused", c.rel);
        }
        f.check(&c.rel, gap("sopx_handles_what_sops_refuses", &c.rel, r));
    }
    eprintln!(
        "realworld sops-refuses: {} files, {} encrypted and round-tripped exactly, {} refused cleanly, {} failed",
        cases.len(),
        counts
            .get("encrypted and round-tripped exactly")
            .unwrap_or(&0),
        counts.get("refused cleanly").unwrap_or(&0),
        counts.get("failed").unwrap_or(&0)
    );
    f.finish("realworld: files sops refuses");
}

/// `KNOWN_GAPS`: files a test is known to fail on, each with its reason
/// (`<file> <test> # reason`). A listed failure is reported, not failed;
/// a listed file that passes fails the test, so the list only shrinks.
fn gap(test: &str, rel: &str, r: Result<(), String>) -> Result<(), String> {
    static GAPS: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();
    let gaps = GAPS.get_or_init(|| {
        let p = manifest_dir().join("tests/fixtures/realworld/KNOWN_GAPS");
        std::fs::read_to_string(p)
            .unwrap_or_default()
            .lines()
            .map(|l| l.split('#').next().unwrap_or("").trim())
            .filter(|l| !l.is_empty())
            .filter_map(|l| {
                let mut w = l.split_whitespace();
                Some((w.next()?.to_string(), w.next()?.to_string()))
            })
            .collect()
    });
    let listed = gaps.iter().any(|(f, t)| f == rel && t == test);
    match (listed, r) {
        (false, r) => r,
        (true, Err(e)) => {
            eprintln!("known gap: {rel} ({test}): {e}");
            Ok(())
        }
        (true, Ok(())) => Err(format!(
            "listed in KNOWN_GAPS for {test} but passes: remove it from the list"
        )),
    }
}
