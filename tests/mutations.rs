//! Robustness of the lossless stores on inputs nobody wrote on purpose:
//! every corpus file with each line removed, doubled or indented in turn. Whatever parses must
//! survive encrypt → decrypt with its data intact (same MAC over the
//! plaintext tree), the encrypted text must parse again, and nothing may
//! panic.

use std::path::Path;

use sopx_core::cipher::{DataKey, Stash};
use sopx_core::metadata::{RuleStrings, Rules};
use sopx_core::stores::{self, Format};
use sopx_core::tree;

fn check(format: Format, src: &[u8], name: &str) {
    if std::env::var_os("MUTATION_TRACE").is_some() {
        eprintln!("checking {name}");
    }
    let Ok(doc) = stores::parse(format, src) else {
        return; // not valid input: nothing to check
    };
    if doc.metadata().is_some() {
        return;
    }
    let rules = Rules::compile(&RuleStrings::default()).unwrap();
    let key = DataKey::generate();
    let enc = tree::encrypt(doc.tree(), &rules, &key, &Stash::default()).unwrap();
    let meta = serde_json::json!({"lastmodified": "2024-01-01T00:00:00Z", "mac": "", "age": [{"recipient": "age1x", "enc": "x"}], "version": "3.11.0"});
    let Ok(out) = doc.emit_encrypted(&enc.tokens, &meta) else {
        return; // e.g. no document at all: refused, as sops refuses it
    };
    let edoc = stores::parse(format, &out).unwrap_or_else(|e| {
        panic!(
            "{name}: encrypted output does not parse: {e}\n{}",
            String::from_utf8_lossy(&out)
        )
    });
    assert!(
        edoc.metadata().is_some(),
        "{name}: no sops block in the output"
    );
    let dec = tree::decrypt(edoc.tree(), &rules, &key, &mut Stash::default())
        .unwrap_or_else(|e| panic!("{name}: decrypt failed: {e}"));
    assert_eq!(dec.mac, enc.mac, "{name}: data changed through encryption");
    let plain = edoc.emit_plain(&dec.plains).unwrap();
    let pdoc = stores::parse(format, &plain).unwrap_or_else(|e| {
        panic!(
            "{name}: decrypted output does not parse: {e}\n{}",
            String::from_utf8_lossy(&plain)
        )
    });
    let again = tree::encrypt(pdoc.tree(), &rules, &key, &Stash::default()).unwrap();
    assert_eq!(
        again.mac,
        enc.mac,
        "{name}: decrypted output holds other data:\n{}",
        String::from_utf8_lossy(&plain)
    );
}

fn mutate_all(dir: &Path, ext: &str, format: Format) -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some(ext) {
            continue;
        }
        let src = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        check(format, &src, &name);
        let lines: Vec<&[u8]> = src.split_inclusive(|b| *b == b'\n').collect();
        for i in 0..lines.len() {
            let with = |f: &dyn Fn(&[u8]) -> Vec<u8>| -> Vec<u8> {
                let mut out = Vec::with_capacity(src.len() + 8);
                for (j, l) in lines.iter().enumerate() {
                    if j == i {
                        out.extend(f(l));
                    } else {
                        out.extend_from_slice(l);
                    }
                }
                out
            };
            let line = i + 1;
            check(
                format,
                &with(&|_| Vec::new()),
                &format!("{name} without line {line}"),
            );
            check(
                format,
                &with(&|l| [l, l].concat()),
                &format!("{name} with line {line} twice"),
            );
            check(
                format,
                &with(&|l| [&b" "[..], l].concat()),
                &format!("{name} with line {line} indented"),
            );
            n += 3;
        }
    }
    n
}

#[test]
fn yaml_mutants_keep_their_data() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let n = mutate_all(&root.join("corpus"), "yaml", Format::Yaml)
        + mutate_all(&root.join("sops-decrypted"), "yaml", Format::Yaml);
    assert!(n > 1500, "only {n} mutants");
}

#[test]
fn json_mutants_keep_their_data() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let n = mutate_all(&root.join("corpus"), "json", Format::Json)
        + mutate_all(&root.join("sops-decrypted"), "json", Format::Json);
    assert!(n > 300, "only {n} mutants");
}
