//! The binary and TOML stores.
//!
//! Binary (any unknown extension): the whole file is one value under `data`
//! in a JSON wrapper, exactly as sops 3.11 writes it. Checked both ways
//! against the real sops on `tests/fixtures/corpus-binary/` plus a 1 MiB
//! random file made at test time, and against sops-written fixtures in
//! `tests/fixtures/sops-binary/` (`scripts/regen-format-fixtures-binary-toml.sh`).
//!
//! TOML (a sopx extension; sops 3.11 reads `.toml` as binary): every file of
//! `tests/fixtures/corpus-toml/` must come back byte for byte (except the
//! files in its `EXCEPTIONS`, which must hold the same data), the encrypted
//! file must be valid TOML with a `[sops]` table, tampering must fail the
//! MAC, and invalid input must be refused with a line number, leaving the
//! file as it was.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

// ---------------------------------------------------------------------------
// helpers

fn binary_corpus_dir() -> PathBuf {
    fixtures_dir().join("corpus-binary")
}

fn sops_binary_dir() -> PathBuf {
    fixtures_dir().join("sops-binary")
}

fn toml_corpus_dir() -> PathBuf {
    fixtures_dir().join("corpus-toml")
}

/// Regular files directly in `dir` (dot files left out), sorted.
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .filter(|p| !p.file_name().unwrap().to_str().unwrap().starts_with('.'))
        .collect();
    v.sort();
    v
}

fn name_of(p: &Path) -> String {
    p.file_name().unwrap().to_str().unwrap().to_string()
}

/// The binary corpus (at least 10 files).
fn binary_corpus() -> Vec<PathBuf> {
    let v = files_in(&binary_corpus_dir());
    assert!(v.len() >= 10, "binary corpus too small: {} files", v.len());
    v
}

/// 1 MiB of pseudo-random bytes (xorshift, fixed seed).
fn random_mib() -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut out = Vec::with_capacity(1 << 20);
    while out.len() < 1 << 20 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}

struct TomlCase {
    name: String,
    path: PathBuf,
    flags: Vec<String>,
    exception: Option<String>,
}

fn toml_exceptions() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(toml_corpus_dir().join("EXCEPTIONS")).unwrap();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.split_once('#') {
            Some((n, r)) => (n.trim().to_string(), r.trim().to_string()),
            None => (l.to_string(), String::new()),
        })
        .collect()
}

/// The TOML corpus (at least 20 files).
fn toml_corpus() -> Vec<TomlCase> {
    let exc = toml_exceptions();
    let cases: Vec<TomlCase> = files_in(&toml_corpus_dir())
        .into_iter()
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("toml"))
        .map(|path| {
            let name = name_of(&path);
            let flags = std::fs::read_to_string(toml_corpus_dir().join(format!("{name}.flags")))
                .map(|t| parse_flags(&t))
                .unwrap_or_default();
            TomlCase {
                exception: exc.get(&name).cloned(),
                name,
                path,
                flags,
            }
        })
        .collect();
    assert!(
        cases.len() >= 20,
        "TOML corpus too small: {} files",
        cases.len()
    );
    for n in exc.keys() {
        assert!(
            cases.iter().any(|c| &c.name == n),
            "EXCEPTIONS names {n}, which is not in the TOML corpus"
        );
    }
    cases
}

/// `sopx encrypt --age <pub1> <flags> <file>` in the sandbox.
fn sopx_encrypt(sb: &Sandbox, file: &Path, flags: &[String]) -> Run {
    run(sb
        .sopx()
        .arg("encrypt")
        .arg("--age")
        .arg(pub1())
        .args(flags)
        .arg(file))
}

fn sopx_decrypt(sb: &Sandbox, file: &Path) -> Run {
    run(sb.sopx().arg("decrypt").arg(file))
}

fn bytes_eq(what: &str, want: &[u8], got: &[u8]) -> Result<(), String> {
    if want == got {
        Ok(())
    } else {
        Err(format!("{what}: {}", first_difference(want, got)))
    }
}

/// A TOML value as JSON, for comparing data: date-times as
/// `date|h:m:s.nanos|offset`, floats as numbers (NaN as the string "nan").
fn toml_value_json(v: &toml_edit::Value) -> Value {
    use toml_edit::Value as V;
    match v {
        V::String(s) => Value::String(s.value().clone()),
        V::Integer(i) => Value::from(*i.value()),
        V::Float(f) => {
            let f = *f.value();
            serde_json::Number::from_f64(f)
                .map(Value::Number)
                .unwrap_or_else(|| {
                    Value::String(if f.is_nan() {
                        "nan".into()
                    } else {
                        f.to_string()
                    })
                })
        }
        V::Boolean(b) => Value::Bool(*b.value()),
        V::Datetime(d) => {
            let d = d.value();
            let date = d.date.map(|x| x.to_string()).unwrap_or_default();
            let time = d
                .time
                .map(|t| {
                    format!(
                        "{:02}:{:02}:{:02}.{}",
                        t.hour,
                        t.minute,
                        t.second.unwrap_or(0),
                        t.nanosecond.unwrap_or(0)
                    )
                })
                .unwrap_or_default();
            let off = d.offset.map(|o| o.to_string()).unwrap_or_default();
            Value::String(format!("{date}|{time}|{off}"))
        }
        V::Array(a) => Value::Array(a.iter().map(toml_value_json).collect()),
        V::InlineTable(t) => Value::Object(
            t.iter()
                .map(|(k, v)| (k.to_string(), toml_value_json(v)))
                .collect(),
        ),
    }
}

fn toml_table_json(t: &toml_edit::Table) -> Value {
    let mut m = Map::new();
    for (k, item) in t.iter() {
        let v = match item {
            toml_edit::Item::None => continue,
            toml_edit::Item::Value(v) => toml_value_json(v),
            toml_edit::Item::Table(t) => toml_table_json(t),
            toml_edit::Item::ArrayOfTables(a) => {
                Value::Array(a.iter().map(toml_table_json).collect())
            }
        };
        m.insert(k.to_string(), v);
    }
    Value::Object(m)
}

/// The data of a TOML text as JSON (keys sorted), or the parse error.
fn toml_data(text: &[u8]) -> Result<Value, String> {
    let s = std::str::from_utf8(text).map_err(|e| e.to_string())?;
    let doc = toml_edit::Document::parse(s).map_err(|e| e.to_string())?;
    Ok(sort_keys(toml_table_json(doc.as_table())))
}

fn sort_keys(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let sorted: BTreeMap<String, Value> =
                m.into_iter().map(|(k, v)| (k, sort_keys(v))).collect();
            Value::Object(sorted.into_iter().collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(sort_keys).collect()),
        v => v,
    }
}

/// Every scalar of `v` outside the keys for which `clear` says so must be an
/// ENC token (encrypted values are strings); returns the offending paths.
fn unencrypted_scalars(
    v: &Value,
    path: &mut Vec<String>,
    clear: &dyn Fn(&[String]) -> bool,
    out: &mut Vec<String>,
) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                path.push(k.clone());
                unencrypted_scalars(x, path, clear, out);
                path.pop();
            }
        }
        Value::Array(a) => {
            for x in a {
                unencrypted_scalars(x, path, clear, out);
            }
        }
        Value::String(s) if s.is_empty() || is_enc(s) => {}
        _ => {
            if !clear(path) {
                out.push(format!("{path:?} = {v}"));
            }
        }
    }
}

/// `true` when any key on the path ends with `_unencrypted` (sops's default).
fn default_clear(path: &[String]) -> bool {
    path.iter().any(|k| k.ends_with("_unencrypted"))
}

/// Comment lines (first non-blank character `#`) outside the `[sops]` block
/// that are neither empty nor `# ENC[...]`.
fn clear_comment_lines(text: &str) -> Vec<String> {
    let body = text.split("\n[sops]").next().unwrap_or(text);
    body.lines()
        .map(|l| l.trim_start_matches('\u{feff}').trim())
        .filter(|l| l.starts_with('#'))
        .filter(|l| {
            let rest = l.trim_start_matches('#').trim();
            !(rest.is_empty() || rest.starts_with("ENC[AES256_GCM,"))
        })
        .map(str::to_string)
        .collect()
}

// ---------------------------------------------------------------------------
// binary

/// Files sops 3.11 encrypted decrypt with sopx to the corpus bytes (no sops
/// needed: the fixtures are committed). Includes `app.toml`, which sops 3.11
/// treats as binary: `sopx decrypt x.toml` must read that JSON wrapper.
#[test]
fn binary_sops_fixtures_decrypt_with_sopx() {
    let sb = Sandbox::new();
    let mut f = Failures::default();
    for src in binary_corpus() {
        let name = name_of(&src);
        let fixture = sops_binary_dir().join(&name);
        f.check(
            &name,
            (|| {
                if !fixture.is_file() {
                    return Err(
                        "missing fixture: run scripts/regen-format-fixtures-binary-toml.sh".into(),
                    );
                }
                let enc = sb.copy_in(&fixture);
                let r = sopx_decrypt(&sb, &enc);
                if !r.ok() {
                    return Err(format!("sopx decrypt: {}", r.describe()));
                }
                bytes_eq("sopx decrypt", &std::fs::read(&src).unwrap(), &r.stdout)
            })(),
        );
    }
    // Two recipients: the second key alone opens the file.
    for name in ["text.txt", "app.toml"] {
        f.check(
            &format!("two-recipients/{name}"),
            (|| {
                let enc = sb.write(
                    &format!("two/{name}"),
                    std::fs::read(sops_binary_dir().join("two-recipients").join(name)).unwrap(),
                );
                let r = run(sb
                    .sopx()
                    .env("SOPS_AGE_KEY_FILE", key2())
                    .arg("decrypt")
                    .arg(&enc));
                if !r.ok() {
                    return Err(format!("sopx decrypt with key 2: {}", r.describe()));
                }
                bytes_eq(
                    "decrypt",
                    &std::fs::read(binary_corpus_dir().join(name)).unwrap(),
                    &r.stdout,
                )
            })(),
        );
    }
    f.finish("sops-written binary fixtures decrypted by sopx");
}

/// Replaces what differs between two encryptions (tokens, armor, time) so
/// that layouts can be compared.
fn mask_binary_wrapper(text: &str) -> String {
    let tok = regex::Regex::new(r"ENC\[AES256_GCM,[^\]]*\]").unwrap();
    let armor = regex::Regex::new(r#""enc": "[^"]*""#).unwrap();
    let time = regex::Regex::new(r#""lastmodified": "[^"]*""#).unwrap();
    let s = tok.replace_all(text, "ENC");
    let s = armor.replace_all(&s, r#""enc": "ARMOR""#);
    time.replace_all(&s, r#""lastmodified": "TIME""#)
        .into_owned()
}

/// sopx round trip is byte-exact for every binary file (1 MiB random data
/// included), and sopx writes the wrapper exactly as sops does.
#[test]
fn binary_sopx_roundtrip_and_layout() {
    let sb = Sandbox::new();
    let mut f = Failures::default();
    let mut cases: Vec<(String, Vec<u8>)> = binary_corpus()
        .iter()
        .map(|p| (name_of(p), std::fs::read(p).unwrap()))
        .collect();
    cases.push(("random_1mib.bin".into(), random_mib()));
    for (name, bytes) in &cases {
        f.check(
            name,
            (|| {
                let src = sb.write(&format!("plain/{name}"), bytes);
                // `.toml` is TOML for sopx; ask for the binary store as sops 3.11 does.
                let flags: Vec<String> = if name.ends_with(".toml") {
                    vec!["--input-type".into(), "binary".into()]
                } else {
                    vec![]
                };
                let r = sopx_encrypt(&sb, &src, &flags);
                if !r.ok() {
                    return Err(format!("sopx encrypt: {}", r.describe()));
                }
                let enc_text = r.stdout_str();
                let v: Value = serde_json::from_str(&enc_text)
                    .map_err(|e| format!("not JSON: {e}\n{enc_text}"))?;
                let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
                if keys != ["data", "sops"] {
                    return Err(format!("top-level keys {keys:?}"));
                }
                let data = v["data"].as_str().unwrap_or("?");
                if bytes.is_empty() != data.is_empty() || !(data.is_empty() || is_enc(data)) {
                    return Err(format!("data is {data:?}"));
                }
                if v["sops"].get("unencrypted_suffix").is_some() {
                    return Err("sops 3.11 writes no unencrypted_suffix for binary files".into());
                }
                if let Ok(sops_text) = std::fs::read_to_string(sops_binary_dir().join(name)) {
                    let (a, b) = (
                        mask_binary_wrapper(&sops_text),
                        mask_binary_wrapper(&enc_text),
                    );
                    if a != b {
                        return Err(format!(
                            "layout differs from sops's:\n{}",
                            first_difference(a.as_bytes(), b.as_bytes())
                        ));
                    }
                }
                let enc = sb.write(&format!("enc/{name}"), &r.stdout);
                let d = sopx_decrypt(&sb, &enc);
                if !d.ok() {
                    return Err(format!("sopx decrypt: {}", d.describe()));
                }
                bytes_eq("round trip", bytes, &d.stdout)
            })(),
        );
    }
    f.finish("binary round trip");
}

/// Both directions against the real sops, for every binary file and a
/// 1 MiB random file.
#[test]
fn binary_interop_with_sops() {
    let Some(sops) = require_sops() else { return };
    let sb = Sandbox::new();
    let mut f = Failures::default();
    let mut cases: Vec<(String, Vec<u8>)> = binary_corpus()
        .iter()
        .map(|p| (name_of(p), std::fs::read(p).unwrap()))
        .collect();
    cases.push(("random_1mib.bin".into(), random_mib()));
    for (name, bytes) in &cases {
        let src = sb.write(&format!("plain/{name}"), bytes);
        let flags: Vec<String> = if name.ends_with(".toml") {
            vec!["--input-type".into(), "binary".into()]
        } else {
            vec![]
        };
        f.check(
            &format!("{name}: sopx encrypt -> sops decrypt"),
            (|| {
                let r = sopx_encrypt(&sb, &src, &flags);
                if !r.ok() {
                    return Err(format!("sopx encrypt: {}", r.describe()));
                }
                let enc = sb.write(&format!("by-sopx/{name}"), &r.stdout);
                let d = run(sb.sops(&sops).arg("decrypt").arg(&enc));
                if !d.ok() {
                    return Err(format!("sops decrypt: {}", d.describe()));
                }
                bytes_eq("sops decrypt", bytes, &d.stdout)
            })(),
        );
        f.check(
            &format!("{name}: sops encrypt -> sopx decrypt"),
            (|| {
                let r = run(sb
                    .sops(&sops)
                    .arg("encrypt")
                    .arg("--age")
                    .arg(pub1())
                    .arg(&src));
                if !r.ok() {
                    return Err(format!("sops encrypt: {}", r.describe()));
                }
                let enc = sb.write(&format!("by-sops/{name}"), &r.stdout);
                // `.toml` files sops wrote are recognised without --input-type.
                let d = sopx_decrypt(&sb, &enc);
                if !d.ok() {
                    return Err(format!("sopx decrypt: {}", d.describe()));
                }
                bytes_eq("sopx decrypt", bytes, &d.stdout)
            })(),
        );
    }
    // A TOML file sops 3.11 encrypted (as binary, being .toml) decrypts with sopx.
    for c in toml_corpus().iter().take(5) {
        f.check(
            &format!(
                "corpus-toml/{}: sops 3.11 encrypt (binary) -> sopx decrypt",
                c.name
            ),
            (|| {
                let r = run(sb
                    .sops(&sops)
                    .arg("encrypt")
                    .arg("--age")
                    .arg(pub1())
                    .arg(&c.path));
                if !r.ok() {
                    return Err(format!("sops encrypt: {}", r.describe()));
                }
                let enc = sb.write(&format!("toml-by-sops/{}", c.name), &r.stdout);
                let d = sopx_decrypt(&sb, &enc);
                if !d.ok() {
                    return Err(format!("sopx decrypt: {}", d.describe()));
                }
                bytes_eq("sopx decrypt", &std::fs::read(&c.path).unwrap(), &d.stdout)
            })(),
        );
    }
    f.finish("binary interop with sops");
}

/// sops 3.11 ignores the selection rules for binary files; sopx never leaves
/// the data in the clear because of them.
#[test]
fn binary_selection_rules_never_leave_data_clear() {
    let sb = Sandbox::new();
    let src = sb.write("plain/secret.bin", b"top secret bytes");
    for flags in [
        vec!["--encrypted-regex", "^nothing$"],
        vec!["--unencrypted-suffix", "ta"],
        vec!["--unencrypted-regex", "data"],
    ] {
        let flags: Vec<String> = flags.into_iter().map(String::from).collect();
        let r = sopx_encrypt(&sb, &src, &flags);
        assert!(
            !String::from_utf8_lossy(&r.stdout).contains("top secret"),
            "{flags:?}: plaintext in the output"
        );
        if r.ok() {
            let v: Value = serde_json::from_slice(&r.stdout).unwrap();
            assert!(is_enc(v["data"].as_str().unwrap()), "{flags:?}");
        }
    }
}

/// `--output-type binary` prints the `data` string, as sops does; `set` is
/// refused on a binary file.
#[test]
fn binary_output_type_and_set() {
    let sb = Sandbox::new();
    let json = sb.write("plain/wrapped.json", br#"{"data": "line1\nline2", "n": 1}"#);
    let r = sopx_encrypt(&sb, &json, &[]);
    r.assert_ok("encrypt json");
    let enc = sb.write("enc/wrapped.json", &r.stdout);
    let d = run(sb
        .sopx()
        .arg("decrypt")
        .arg("--output-type")
        .arg("binary")
        .arg(&enc));
    d.assert_ok("decrypt --output-type binary");
    assert_eq!(d.stdout, b"line1\nline2");

    let bin = sb.write("plain/x.bin", b"abc");
    let r = sopx_encrypt(&sb, &bin, &[]);
    r.assert_ok("encrypt bin");
    let enc = sb.write("enc/x.bin", &r.stdout);
    let before = std::fs::read(&enc).unwrap();
    let s = run(sb
        .sopx()
        .arg("set")
        .arg(&enc)
        .arg(r#"["data"]"#)
        .arg(r#""x""#));
    assert!(!s.ok(), "set on a binary file must fail");
    assert_eq!(std::fs::read(&enc).unwrap(), before, "file changed");
}

// ---------------------------------------------------------------------------
// TOML

/// Every corpus file: encrypted output is valid TOML with a `[sops]` table,
/// values and comments are encrypted (unless the rules say otherwise), and
/// decryption gives the file back byte for byte (same data for EXCEPTIONS).
#[test]
fn toml_corpus_roundtrip() {
    let sb = Sandbox::new();
    let mut f = Failures::default();
    let mut exact = 0;
    for c in toml_corpus() {
        f.check(
            &c.name,
            (|| {
                let src = sb.copy_in(&c.path);
                let original = std::fs::read(&c.path).unwrap();
                let r = sopx_encrypt(&sb, &src, &c.flags);
                if !r.ok() {
                    return Err(format!("sopx encrypt: {}", r.describe()));
                }
                let enc_text = r.stdout_str();
                let data = toml_data(&r.stdout)
                    .map_err(|e| format!("encrypted file is not valid TOML: {e}\n{enc_text}"))?;
                let sops = data.get("sops").ok_or("no [sops] table")?;
                for k in ["lastmodified", "mac", "version"] {
                    if !sops.get(k).is_some_and(Value::is_string) {
                        return Err(format!("[sops] has no string {k}: {sops}"));
                    }
                }
                if !is_enc(sops["mac"].as_str().unwrap()) {
                    return Err("mac is not a token".into());
                }
                let age = &sops["age"][0];
                if age["recipient"] != Value::String(pub1())
                    || !age["enc"]
                        .as_str()
                        .unwrap_or("")
                        .starts_with("-----BEGIN AGE ENCRYPTED FILE-----\n")
                {
                    return Err(format!("bad [[sops.age]]: {age}"));
                }
                if c.flags.is_empty() {
                    let mut bad = Vec::new();
                    let mut body = data.clone();
                    body.as_object_mut().unwrap().remove("sops");
                    unencrypted_scalars(&body, &mut Vec::new(), &default_clear, &mut bad);
                    if !bad.is_empty() {
                        return Err(format!("values left in the clear: {bad:?}"));
                    }
                    let clear = clear_comment_lines(&enc_text);
                    if !clear.is_empty() {
                        return Err(format!("comments left in the clear: {clear:?}"));
                    }
                }
                let enc = sb.write(&format!("enc/{}", c.name), &r.stdout);
                let d = sopx_decrypt(&sb, &enc);
                if !d.ok() {
                    return Err(format!("sopx decrypt: {}", d.describe()));
                }
                match &c.exception {
                    None => {
                        exact += 1;
                        bytes_eq("round trip", &original, &d.stdout)
                    }
                    Some(_) => {
                        if d.stdout == original {
                            return Err("listed in EXCEPTIONS but round-trips exactly: remove it from the list".into());
                        }
                        let (a, b) = (toml_data(&original)?, toml_data(&d.stdout)?);
                        if a != b {
                            return Err(format!("data differs:\n  want {a}\n  got  {b}"));
                        }
                        Ok(())
                    }
                }
            })(),
        );
    }
    f.finish("TOML corpus round trip");
    assert!(exact >= 20, "only {exact} byte-exact TOML files");
}

/// The layout of an encrypted TOML file: tokens in the original quote style,
/// `# ENC[...]` comments, and the `[sops]` table at the end.
#[test]
fn toml_encrypted_layout() {
    let sb = Sandbox::new();
    let src = sb.write(
        "layout.toml",
        "# head\nbasic = \"b\"\nlit = 'l'\nml = \"\"\"\nm\"\"\"\nmll = '''x'''\nn = 1\nf = 1.5\nt = true\nodt = 1979-05-27 07:32:00Z\nld = 1979-05-27\narr = [1, \"two\"] #tail\n\n[tbl]\nk_unencrypted = \"clear\"\n",
    );
    let r = sopx_encrypt(&sb, &src, &[]);
    r.assert_ok("encrypt");
    let text = r.stdout_str();
    let lines: Vec<&str> = text.lines().collect();
    let starts = |i: usize, p: &str| {
        assert!(
            lines[i].starts_with(p),
            "line {i}: {:?} should start with {p:?}\n{text}",
            lines[i]
        );
    };
    starts(0, "# ENC[AES256_GCM,");
    starts(1, "basic = \"ENC[AES256_GCM,");
    starts(2, "lit = 'ENC[AES256_GCM,");
    starts(3, "ml = \"\"\"");
    starts(4, "ENC[AES256_GCM,");
    assert!(lines[4].ends_with("type:str]\"\"\""), "{}", lines[4]);
    starts(5, "mll = '''ENC[AES256_GCM,");
    assert!(lines[6].ends_with("type:int]\""), "{}", lines[6]);
    assert!(lines[7].ends_with("type:float]\""), "{}", lines[7]);
    assert!(lines[8].ends_with("type:bool]\""), "{}", lines[8]);
    // a date-time written with a space: single quotes mark it
    starts(9, "odt = 'ENC[AES256_GCM,");
    assert!(lines[9].ends_with("type:time]'"), "{}", lines[9]);
    assert!(lines[10].ends_with("type:time]\""), "{}", lines[10]);
    starts(11, "arr = [\"ENC[AES256_GCM,");
    assert!(lines[11].contains("] #ENC[AES256_GCM,"), "{}", lines[11]);
    assert_eq!(lines[14], "k_unencrypted = \"clear\"");
    assert_eq!(lines[15], "", "blank line before [sops]");
    assert_eq!(lines[16], "[sops]");
    starts(17, "lastmodified = \"");
    starts(18, "mac = \"ENC[AES256_GCM,");
    assert_eq!(lines[19], "unencrypted_suffix = \"_unencrypted\"");
    // `1979-05-27 07:32:00Z` is stored in RFC 3339 form: the layout hint
    // brings the space back on decryption.
    starts(20, "sopx_layout = \"ENC[AES256_GCM,");
    starts(21, "version = \"");
    assert_eq!(lines[22], "");
    assert_eq!(lines[23], "[[sops.age]]");
    assert_eq!(lines[24], format!("recipient = \"{}\"", pub1()));
    assert_eq!(lines[25], "enc = \"\"\"");
    assert_eq!(lines[26], "-----BEGIN AGE ENCRYPTED FILE-----");
    assert_eq!(*lines.last().unwrap(), "\"\"\"");
    assert!(text.ends_with("-----END AGE ENCRYPTED FILE-----\n\"\"\"\n"));
}

/// Selection rules work on TOML paths (table keys joined; arrays add nothing)
/// and comments, as for the other formats.
#[test]
fn toml_selection_rules() {
    let sb = Sandbox::new();
    let enc_data = |name: &str| -> (Value, String) {
        let c = toml_corpus().into_iter().find(|c| c.name == name).unwrap();
        let src = sb.copy_in(&c.path);
        let r = sopx_encrypt(&sb, &src, &c.flags);
        r.assert_ok(name);
        (toml_data(&r.stdout).unwrap(), r.stdout_str())
    };
    let (v, _) = enc_data("selective_encrypted_regex.toml");
    assert!(is_enc(v["service"]["password"].as_str().unwrap()));
    assert!(is_enc(v["cache"]["password"].as_str().unwrap()));
    assert_eq!(v["service"]["name"], "web");
    assert_eq!(v["service"]["replicas"], 3);
    assert_eq!(v["cache"]["host"], "redis");
    assert_eq!(v["sops"]["encrypted_regex"], "^password$");

    let (v, text) = enc_data("selective_encrypted_comment_regex.toml");
    assert!(is_enc(v["api_token"].as_str().unwrap()));
    assert!(is_enc(v["db"]["password"].as_str().unwrap()));
    assert_eq!(v["public_url"], "https://example.com");
    assert_eq!(v["db"]["host"], "db");
    assert_eq!(v["db"]["user"], "clear");
    assert_eq!(text.matches("# sops:enc").count(), 2, "{text}");

    let (v, _) = enc_data("selective_unencrypted_regex.toml");
    assert_eq!(v["public_name"], "visible");
    assert_eq!(v["public_section"]["x"], 1);
    assert!(is_enc(v["secret"].as_str().unwrap()));

    // mac_only_encrypted: clear values may change without breaking the MAC.
    let (_, text) = enc_data("mac_only_encrypted.toml");
    let changed = text.replace(
        "note_unencrypted = \"may change without breaking the MAC\"",
        "note_unencrypted = \"changed\"",
    );
    assert_ne!(changed, text);
    let enc = sb.write("mac_only/mac_only_encrypted.toml", changed);
    let d = sopx_decrypt(&sb, &enc);
    d.assert_ok("decrypt after changing a clear value (mac_only_encrypted)");
    assert!(d.stdout_str().contains("note_unencrypted = \"changed\""));
}

/// Changes outside sopx make decryption fail the MAC check (exit 51).
#[test]
fn toml_tampering_fails_the_mac() {
    let sb = Sandbox::new();
    let c = toml_corpus()
        .into_iter()
        .find(|c| c.name == "app_secrets.toml")
        .unwrap();
    let src = sb.copy_in(&c.path);
    let r = sopx_encrypt(&sb, &src, &[]);
    r.assert_ok("encrypt");
    let text = r.stdout_str();

    // a clear value changed
    let t1 = text.replace("\"production\"", "\"staging\"");
    assert_ne!(t1, text);
    let p = sb.write("t1/app_secrets.toml", &t1);
    sopx_decrypt(&sb, &p).assert_code(51, "changed clear value");
    run(sb.sopx().arg("decrypt").arg("--ignore-mac").arg(&p)).assert_ok("--ignore-mac");

    // an encrypted value removed
    let t2: String = text
        .lines()
        .filter(|l| !l.starts_with("pool_size"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(t2, text);
    let p = sb.write("t2/app_secrets.toml", &t2);
    sopx_decrypt(&sb, &p).assert_code(51, "removed value");

    // an encrypted value's key renamed: its path is the additional data
    let t3 = text.replace("pool_size", "pool_size2");
    assert_ne!(t3, text);
    let p = sb.write("t3/app_secrets.toml", &t3);
    sopx_decrypt(&sb, &p).assert_code(25, "renamed key of an encrypted value");
}

/// Invalid TOML is refused with exit 2 and its line number; `-i` leaves the
/// file untouched.
#[test]
fn toml_invalid_input_is_refused_with_a_line_number() {
    let sb = Sandbox::new();
    let cases: &[(&str, &[u8], usize)] = &[
        ("duplicate_key.toml", b"a = 1\nb = 2\na = 3\n", 3),
        ("duplicate_table.toml", b"[t]\nx = 1\n\n[t]\ny = 2\n", 4),
        ("unterminated.toml", b"ok = 1\nname = \"no end\n", 2),
        ("bad_value.toml", b"a = 1\n\nb = nope\n", 3),
        ("unclosed_array.toml", b"a = [1,\n2\n", 2),
        ("bad_key.toml", b"[t]\nthis is = 1\n", 2),
        ("dotted_conflict.toml", b"a = 1\na.b = 2\n", 2),
        ("invalid_utf8.toml", b"a = \"ok\"\nb = \"\xff\"\n", 2),
    ];
    let mut f = Failures::default();
    for (name, bytes, line) in cases {
        f.check(
            name,
            (|| {
                let p = sb.write(&format!("bad/{name}"), bytes);
                let r = run(sb
                    .sopx()
                    .arg("encrypt")
                    .arg("-i")
                    .arg("--age")
                    .arg(pub1())
                    .arg(&p));
                if r.code != Some(2) {
                    return Err(format!("encrypt -i: expected exit 2, {}", r.describe()));
                }
                if !r.stderr.contains("TOML") || !r.stderr.contains(&format!("line {line}")) {
                    return Err(format!(
                        "message should name TOML and line {line}: {}",
                        r.stderr
                    ));
                }
                if std::fs::read(&p).unwrap() != *bytes {
                    return Err("the file was changed".into());
                }
                let d = sopx_decrypt(&sb, &p);
                if d.code != Some(2) || !d.stderr.contains(&format!("line {line}")) {
                    return Err(format!(
                        "decrypt: expected exit 2 with the line, {}",
                        d.describe()
                    ));
                }
                Ok(())
            })(),
        );
    }
    f.finish("invalid TOML");
}

/// `set` and `unset` change only what they must, keep the rest of the file
/// (and the other tokens) as they were.
#[test]
fn toml_set_and_unset() {
    let sb = Sandbox::new();
    let c = toml_corpus()
        .into_iter()
        .find(|c| c.name == "app_secrets.toml")
        .unwrap();
    let original = std::fs::read_to_string(&c.path).unwrap();
    let src = sb.copy_in(&c.path);
    let r = sopx_encrypt(&sb, &src, &[]);
    r.assert_ok("encrypt");
    let enc = sb.write("enc/app_secrets.toml", &r.stdout);
    let before = r.stdout_str();

    run(sb
        .sopx()
        .arg("set")
        .arg(&enc)
        .arg(r#"["smtp"]["password"]"#)
        .arg(r#""n3w""#))
    .assert_ok("set existing");
    run(sb
        .sopx()
        .arg("set")
        .arg(&enc)
        .arg(r#"["database"]["timeout"]"#)
        .arg("30"))
    .assert_ok("set new key");
    run(sb.sopx().arg("unset").arg(&enc).arg(r#"["api"]["key"]"#)).assert_ok("unset");
    let after = std::fs::read_to_string(&enc).unwrap();
    // unchanged values keep their tokens
    let kept = enc_tokens(&before)
        .iter()
        .filter(|t| after.contains(t.as_str()))
        .count();
    assert!(
        kept + 4 >= enc_tokens(&before).len(),
        "too many tokens changed: kept {kept} of {}",
        enc_tokens(&before).len()
    );
    let d = sopx_decrypt(&sb, &enc);
    d.assert_ok("decrypt");
    let want = original
        .replace("password = 'p@ss\"word'", "password = 'n3w'")
        .replace("ssl = true\n", "ssl = true\ntimeout = 30\n")
        .replace("key = \"sk_live_0123456789abcdef\"\n", "");
    assert_eq!(d.stdout_str(), want);
}

/// Conversions: TOML to JSON and YAML/JSON to TOML hold the same data.
#[test]
fn toml_output_type_conversions() {
    let sb = Sandbox::new();
    let c = toml_corpus()
        .into_iter()
        .find(|c| c.name == "cargo_manifest.toml")
        .unwrap();
    let src = sb.copy_in(&c.path);
    let r = sopx_encrypt(&sb, &src, &[]);
    r.assert_ok("encrypt");
    let enc = sb.write("enc/cargo_manifest.toml", &r.stdout);
    let j = run(sb
        .sopx()
        .arg("decrypt")
        .arg("--output-type")
        .arg("json")
        .arg(&enc));
    j.assert_ok("decrypt --output-type json");
    let got: Value = serde_json::from_slice(&j.stdout).unwrap();
    let want = toml_data(&std::fs::read(&c.path).unwrap()).unwrap();
    assert_eq!(sort_keys(got), want);

    let json = sb.write(
        "plain/conf.json",
        br#"{"name": "svc", "port": 8080, "ratio": 0.5, "on": true, "tags": ["a", "b"], "db": {"user": "u", "pass": "p"}, "hosts": [{"h": "x"}, {"h": "y"}]}"#,
    );
    let r = sopx_encrypt(&sb, &json, &[]);
    r.assert_ok("encrypt json");
    let enc = sb.write("enc/conf.json", &r.stdout);
    let t = run(sb
        .sopx()
        .arg("decrypt")
        .arg("--output-type")
        .arg("toml")
        .arg(&enc));
    t.assert_ok("decrypt --output-type toml");
    let got = toml_data(&t.stdout).unwrap();
    assert_eq!(got["db"]["pass"], "p");
    assert_eq!(got["hosts"][1]["h"], "y");
    assert_eq!(got["port"], 8080);
    assert_eq!(got["ratio"], 0.5);
    assert_eq!(got["on"], true);
}

/// `--input-type toml` reads TOML whatever the file is called, and a file
/// that is not encrypted is reported as such.
#[test]
fn toml_input_type_and_plain_file() {
    let sb = Sandbox::new();
    let p = sb.write("plain/config.conf", "[a]\nb = \"secret\"\n");
    let r = sopx_encrypt(&sb, &p, &["--input-type".into(), "toml".into()]);
    r.assert_ok("encrypt --input-type toml");
    assert!(toml_data(&r.stdout).unwrap()["sops"].is_object());
    let enc = sb.write("enc/config.conf", &r.stdout);
    let d = run(sb
        .sopx()
        .arg("decrypt")
        .arg("--input-type")
        .arg("toml")
        .arg(&enc));
    d.assert_ok("decrypt --input-type toml");
    assert_eq!(d.stdout, b"[a]\nb = \"secret\"\n");
    let plain = sb.write("plain/x.toml", "a = 1\n");
    let d = sopx_decrypt(&sb, &plain);
    assert!(!d.ok(), "decrypting a plain file must fail");
    assert!(d.stderr.contains("metadata not found"), "{}", d.stderr);
}
