//! A bounded, stable-toolchain stand-in for the cargo-fuzz targets in
//! `fuzz/` (which need nightly): every parser gets mutations of the
//! fixtures for a few seconds, with the same tree walks as the fuzz
//! targets. Errors are fine; a panic or a stack overflow fails the test.
//! `SOPX_FUZZ_SECS` sets the seconds per target (default 3).

use std::path::Path;
use std::time::{Duration, Instant};

use sopx_core::stores::Format;

/// xorshift64*: deterministic, so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes that mean something to one of the formats.
const SPECIAL: &[&[u8]] = &[
    b"&a ",
    b"*a",
    b"<<: ",
    b"- ",
    b"? ",
    b": ",
    b"[",
    b"]",
    b"{",
    b"}",
    b",",
    b"#",
    b"\n",
    b"\n  ",
    b"\"",
    b"'",
    b"\\",
    b"|-\n",
    b">\n",
    b"---\n",
    b"...\n",
    b"!!binary ",
    b"=",
    b"[s]\n",
    b"\"\"\"",
    b"'''",
    b"\\u0000",
    b"\r\n",
    b"\t",
    b"\xff",
    b"ENC[AES256_GCM,data:",
    b",iv:",
    b",tag:",
    b",type:str]",
    b"sops",
    b"\"sops\": {}",
    b"sops:\n  mac: x\n",
    b"0x",
    b"1e999",
    b"__map_",
    b"__list_0",
    b"export ",
    b"\\\n",
];

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(8) {
        let at = rng.below(v.len() + 1);
        match rng.below(6) {
            0 if !v.is_empty() => {
                let end = (at + 1 + rng.below(16)).min(v.len());
                v.drain(at.min(end)..end);
            }
            1 => {
                let s = SPECIAL[rng.below(SPECIAL.len())];
                v.splice(at..at, s.iter().copied());
            }
            2 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] = rng.next() as u8;
            }
            3 if !v.is_empty() => {
                // Copy a piece of the input elsewhere (nesting, repetition).
                let from = rng.below(v.len());
                let to = (from + 1 + rng.below(64)).min(v.len());
                let piece = v[from..to].to_vec();
                v.splice(at..at, piece);
            }
            4 => v.truncate(at),
            _ => {
                let s = SPECIAL[rng.below(SPECIAL.len())].repeat(1 + rng.below(40));
                v.splice(at..at, s);
            }
        }
    }
    v
}

fn secs() -> Duration {
    Duration::from_secs(
        std::env::var("SOPX_FUZZ_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(3),
    )
}

fn seeds(dirs: &[&str], ext: Option<&str>) -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out = Vec::new();
    for d in dirs {
        let Ok(rd) = std::fs::read_dir(root.join(d)) else {
            continue;
        };
        let mut files: Vec<_> = rd.map(|e| e.unwrap().path()).collect();
        files.sort();
        for f in files {
            if f.is_file() && ext.is_none_or(|e| f.extension().is_some_and(|x| x == e)) {
                out.push(std::fs::read(&f).unwrap());
            }
        }
    }
    assert!(!out.is_empty(), "no seeds in {dirs:?}");
    out
}

/// Feeds mutations of `seeds` to `f` for the time budget; returns the
/// number of executions.
fn fuzz(name: &str, seeds: &[Vec<u8>], f: impl Fn(&[u8])) -> u64 {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ name.len() as u64);
    let start = Instant::now();
    let mut n = 0u64;
    for s in seeds {
        f(s);
        n += 1;
    }
    while start.elapsed() < secs() {
        let seed = &seeds[rng.below(seeds.len())];
        let input = mutate(&mut rng, seed);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&input)));
        if r.is_err() {
            let path = std::env::temp_dir().join(format!("sopx-fuzz-{name}.crash"));
            std::fs::write(&path, &input).unwrap();
            panic!("{name}: panic on the input saved in {}", path.display());
        }
        n += 1;
    }
    eprintln!("{name}: {n} executions");
    n
}

/// The same walks as the cargo-fuzz targets: one source for both.
#[path = "../fuzz/src/lib.rs"]
mod walks;
use walks::store;

#[test]
fn fuzz_yaml() {
    let s = seeds(&["corpus", "sops", "realworld/yaml"], Some("yaml"));
    fuzz("yaml", &s, |d| store(Format::Yaml, d));
}

/// The fast YAML scanner against saphyr on mutated fixtures: where the
/// fast scanner reads a text, both must read the same tree.
#[test]
fn fuzz_yaml_fast_scanner_against_saphyr() {
    let mut s = seeds(&["corpus", "sops", "realworld/yaml"], Some("yaml"));
    s.extend(seeds(&["realworld/yaml"], Some("yml")));
    let fast = std::cell::Cell::new(0u64);
    let n = fuzz("yaml_fast", &s, |d| {
        let Ok(text) = std::str::from_utf8(d) else {
            return;
        };
        match sopx_core::stores::yaml::fast_agrees(text) {
            Some(Err(e)) => panic!("fast scanner disagrees with saphyr: {e}"),
            Some(Ok(())) => fast.set(fast.get() + 1),
            None => {}
        }
    });
    eprintln!("yaml_fast: {} of {n} read by the fast scanner", fast.get());
    // The mutations must reach the fast scanner, or this tests nothing.
    assert!(fast.get() * 10 > n, "{} of {n}", fast.get());
}

#[test]
fn fuzz_json() {
    let s = seeds(&["corpus", "sops", "realworld/json"], Some("json"));
    fuzz("json", &s, |d| store(Format::Json, d));
}

#[test]
fn fuzz_dotenv() {
    let s = seeds(&["corpus-dotenv", "sops-dotenv"], None);
    fuzz("dotenv", &s, |d| store(Format::Dotenv, d));
}

#[test]
fn fuzz_ini() {
    let s = seeds(&["corpus-ini", "sops-ini"], None);
    fuzz("ini", &s, |d| store(Format::Ini, d));
}

#[test]
fn fuzz_toml() {
    let s = seeds(&["corpus-toml", "realworld/toml"], None);
    fuzz("toml", &s, |d| store(Format::Toml, d));
}

#[test]
fn fuzz_binary() {
    let s = seeds(&["corpus-binary", "sops-binary"], None);
    fuzz("binary", &s, |d| store(Format::Binary, d));
}

#[test]
fn fuzz_enc_token_and_metadata() {
    let files = seeds(&["sops"], Some("json"));
    let key = sopx_core::cipher::DataKey::from_slice(&[7u8; 32]).unwrap();
    let mut tokens = Vec::new();
    let mut metas = Vec::new();
    for f in &files {
        let v: serde_json::Value = serde_json::from_slice(f).unwrap();
        if let Some(m) = v.get("sops") {
            metas.push(serde_json::to_vec(m).unwrap());
            if let Some(t) = m.get("mac").and_then(|t| t.as_str()) {
                tokens.push(t.as_bytes().to_vec());
            }
        }
    }
    fuzz("enc_token", &tokens, |d| {
        if let Ok(s) = std::str::from_utf8(d) {
            let _ = sopx_core::cipher::decrypt(s, &key, "a:");
        }
    });
    fuzz("metadata", &metas, |d| {
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(d)
            && let Ok(m) = sopx_core::metadata::Metadata::from_value(&v)
        {
            let _ = m.rules();
            let _ = m.to_value();
        }
    });
}

#[test]
fn fuzz_sops_yaml() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut s = vec![std::fs::read(root.join("examples/.sops.yaml")).unwrap()];
    s.push(
        b"creation_rules:\n  - path_regex: prod/.*\n    key_groups:\n      - age: [age1cjw0fpmk6v645m4zfqq093j8fjftqmxq538j5xnl3n29h9pcmenqws6xat]\n    shamir_threshold: 1\n    encrypted_regex: ^(data)$\n"
            .to_vec(),
    );
    fuzz("sops_yaml", &s, |d| {
        if let Ok(t) = std::str::from_utf8(d) {
            let _ = sopx_core::config::parse_rules(t, ".sops.yaml");
        }
    });
}
