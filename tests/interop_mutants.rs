//! Tree semantics against the real sops on inputs nobody wrote on purpose:
//! every YAML corpus file with each line removed in turn. Whatever sopx
//! encrypts, sops must open (its MAC matching sopx's means both tools built
//! the same tree) and decrypt to the same data as sopx.

mod common;

use std::path::PathBuf;

use common::*;

#[test]
fn sops_opens_sopx_encrypted_mutants() {
    let Some(sops) = require_sops() else { return };
    let sb = Sandbox::new();
    let mut cases: Vec<(String, PathBuf)> = Vec::new();
    for c in corpus()
        .into_iter()
        .filter(|c| c.format == Format::Yaml && c.flags.is_empty())
    {
        let bytes = c.bytes();
        let lines: Vec<&[u8]> = bytes.split_inclusive(|b| *b == b'\n').collect();
        for i in 0..lines.len() {
            let mutant: Vec<u8> = lines
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .flat_map(|(_, l)| l.iter().copied())
                .collect();
            let name = format!("{}-{}.yaml", c.name.trim_end_matches(".yaml"), i + 1);
            cases.push((
                format!("{} without line {}", c.name, i + 1),
                sb.write(&name, &mutant),
            ));
        }
    }
    let checked = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Failures::default());
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(4);
    let chunk = cases.len().div_ceil(workers);
    std::thread::scope(|s| {
        for part in cases.chunks(chunk) {
            let (sb, sops, checked, failures) = (&sb, &sops, &checked, &failures);
            s.spawn(move || {
                for (case, path) in part {
                    let enc = run(sb.sopx().arg("encrypt").arg("--age").arg(pub1()).arg(path));
                    if !enc.ok() {
                        continue; // sopx refused the input (invalid YAML): nothing to compare
                    }
                    checked.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let enc_path = path.with_extension("enc.yaml");
                    std::fs::write(&enc_path, &enc.stdout).unwrap();
                    let by_sops = run(sb.sops(sops).arg("decrypt").arg(&enc_path));
                    let by_sopx = run(sb.sopx().arg("decrypt").arg(&enc_path));
                    let result = if !by_sops.ok() {
                        Err(format!("sops decrypt failed: {}", by_sops.describe()))
                    } else if !by_sopx.ok() {
                        Err(format!("sopx decrypt failed: {}", by_sopx.describe()))
                    } else {
                        same_data(Format::Yaml, &by_sops.stdout_str(), &by_sopx.stdout_str())
                    };
                    failures.lock().unwrap().check(case, result);
                }
            });
        }
    });
    let checked = checked.into_inner();
    eprintln!(
        "{checked} of {} mutants encrypted by sopx and checked with sops",
        cases.len()
    );
    assert!(checked > 300, "only {checked} mutants checked");
    failures
        .into_inner()
        .unwrap()
        .finish("sops decrypt of sopx-encrypted mutants");
}
