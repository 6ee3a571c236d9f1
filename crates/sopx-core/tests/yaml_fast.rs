//! The YAML store's fast scanner against saphyr-parser: on every YAML file
//! in the fixtures (the real-world corpus, sops's own encrypted files) and
//! on sopx's encryption of each, the fast scanner either leaves the file
//! to saphyr or reads exactly what saphyr reads.

mod common;

use common::{RECIPIENT, yaml_files};

use sopx_core::stores::yaml::{fast_agrees, fast_unsupported};
use sopx_core::{Format, Recipients};

#[derive(Default)]
struct Tally {
    fast: usize,
    slow: usize,
    wrong: Vec<String>,
    why: std::collections::BTreeMap<String, usize>,
}

impl Tally {
    fn check(&mut self, what: &str, text: &str) {
        match fast_agrees(text) {
            None => {
                self.slow += 1;
                let why = fast_unsupported(text).unwrap_or_default();
                let why = why
                    .split_once(": ")
                    .map_or(why.clone(), |(_, w)| w.to_string());
                *self.why.entry(why).or_default() += 1;
                if std::env::var_os("SOPX_FAST_WHY").is_some() {
                    eprintln!("{what}: {}", fast_unsupported(text).unwrap_or_default());
                }
            }
            Some(Ok(())) => self.fast += 1,
            Some(Err(e)) => self.wrong.push(format!("{what}: {e}")),
        }
    }
}

#[test]
fn fast_scanner_reads_every_fixture_as_saphyr_does() {
    let root = common::root();
    let mut files = Vec::new();
    yaml_files(&root.join("tests/fixtures"), &mut files);
    yaml_files(&root.join("../shared/sops-upstream"), &mut files);
    files.sort();
    let to = Recipients::new().age(RECIPIENT).unwrap();
    let (mut plain, mut sealed) = (Tally::default(), Tally::default());
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        let name = f.strip_prefix(&root).unwrap_or(f).display().to_string();
        plain.check(&name, &text);
        if text.contains("sops:") {
            continue;
        }
        if let Ok(out) = sopx_core::encrypt(text.as_bytes(), Format::Yaml, &to) {
            sealed.check(
                &format!("{name} (encrypted)"),
                &String::from_utf8(out).unwrap(),
            );
        }
    }
    let report = |t: &Tally| format!("{} by the fast scanner, {} left to saphyr", t.fast, t.slow);
    eprintln!("files: {}; encrypted: {}", report(&plain), report(&sealed));
    eprintln!("left to saphyr: {:?} / {:?}", plain.why, sealed.why);
    assert!(
        plain.wrong.is_empty() && sealed.wrong.is_empty(),
        "fast scanner disagrees with saphyr:\n{}",
        [plain.wrong, sealed.wrong].concat().join("\n")
    );
    // The fast scanner must carry most files, or it is not doing its job.
    assert!(
        plain.fast * 2 > plain.fast + plain.slow,
        "{}",
        report(&plain)
    );
    assert!(
        sealed.fast * 2 > sealed.fast + sealed.slow,
        "{}",
        report(&sealed)
    );
}
