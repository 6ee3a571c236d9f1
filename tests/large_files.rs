//! Large YAML files, which `encrypt` writes in pieces through a temporary
//! file (see `sopx_core::pieces`): the real sops opens what sopx writes,
//! sopx gives back the exact bytes, `-i` keeps the file's mode, and sopx
//! opens what sops writes.

mod common;

use common::*;

/// A deterministic file of about `groups` × 2.3 KB with what real files
/// hold: comments at column 0 and indented, blank lines, block scalars,
/// lists, quoted and plain strings, numbers, booleans, nulls, non-ASCII.
/// (No folded scalar: its decryption needs a layout hint, which only the
/// whole-file path writes.)
fn big_yaml(groups: usize) -> String {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut s = String::from("# generated: a large values file\n\n");
    for g in 0..groups {
        if g % 3 == 0 {
            s.push_str(&format!("# service {g}\n"));
        }
        s.push_str(&format!("service_{g}:\n"));
        s.push_str(&format!(
            "  image: \"registry.example.com/app-{g}:1.{}\"\n",
            next() % 100
        ));
        s.push_str("  # the replicas\n");
        s.push_str(&format!("  replicas: {}\n", next() % 9));
        s.push_str(&format!("  ratio: {}.{}\n", next() % 10, next() % 1000));
        s.push_str(&format!("  enabled: {}\n", next() % 2 == 0));
        s.push_str("  empty:\n");
        s.push_str(&format!("  password: '{:016x}'  # secret\n", next()));
        s.push_str(&format!("  name: café-{g}\n"));
        s.push_str("  config: |\n    line one\n    line two\n");
        s.push_str("  hosts:\n");
        for h in 0..3 {
            s.push_str(&format!("    - host-{g}-{h}.internal\n"));
        }
        s.push_str("  env:\n");
        for e in 0..20 {
            s.push_str(&format!("    VAR_{e}: \"{:x}\"\n", next()));
        }
        s.push_str("  list_of_maps:\n");
        for m in 0..4 {
            s.push_str(&format!(
                "    - key: k{m}\n      value: {}\n",
                next() % 1000
            ));
        }
        s.push_str("  tags: []\n");
        if g % 7 == 0 {
            s.push('\n');
        }
    }
    s.push_str("# end of file\n");
    s
}

/// sopx's encryption of `plain` (stdout), written to `work/name`.
fn sopx_encrypt(sb: &Sandbox, plain: &std::path::Path, name: &str) -> std::path::PathBuf {
    let r = run(sb.sopx().args(["encrypt", "--age", &pub1()]).arg(plain));
    r.assert_ok("sopx encrypt");
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    sb.write(name, &r.stdout)
}

/// `sopx decrypt enc` gives back exactly `text`.
fn assert_sopx_decrypts_to(sb: &Sandbox, enc: &std::path::Path, text: &str) {
    let r = run(sb.sopx().arg("decrypt").arg(enc));
    r.assert_ok("sopx decrypt");
    assert!(
        r.stdout == text.as_bytes(),
        "{}",
        first_difference(text.as_bytes(), &r.stdout)
    );
}

fn yaml_data(bytes: &[u8]) -> serde_yaml_ng::Value {
    serde_yaml_ng::from_slice(bytes).expect("valid YAML")
}

#[test]
fn a_large_file_is_encrypted_in_pieces() {
    let text = big_yaml(300);
    assert!(text.len() >= sopx_core::pieces::MIN_BYTES, "{}", text.len());
    let opts = sopx_core::ops::EncryptOptions {
        key_groups: vec![vec![sopx_core::metadata::MasterKey::Age {
            recipient: pub1(),
            enc: String::new(),
        }]],
        ..Default::default()
    };
    let mut spool = tempfile::tempfile().unwrap();
    assert!(sopx_core::pieces::encrypt(text.as_bytes(), &opts, None, &mut spool).unwrap());
}

#[test]
fn sops_opens_a_large_file_sopx_encrypted_and_sopx_gives_back_its_bytes() {
    let Some(sops) = require_sops() else { return };
    let sb = Sandbox::new();
    let text = big_yaml(300);
    let plain = sb.write("big.yaml", &text);
    let enc = sopx_encrypt(&sb, &plain, "big.enc.yaml");

    let r = run(sb
        .sops(&sops)
        .args(["decrypt", "--input-type", "yaml", "--output-type", "yaml"])
        .arg(&enc));
    r.assert_ok("sops decrypt");
    assert_eq!(yaml_data(&r.stdout), yaml_data(text.as_bytes()));

    assert_sopx_decrypts_to(&sb, &enc, &text);
    // Only the spool (already gone) was used: nothing left in TMPDIR.
    assert_eq!(std::fs::read_dir(sb.tmp()).unwrap().count(), 0);
}

#[cfg(unix)]
#[test]
fn in_place_encryption_of_a_large_file_keeps_its_mode() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new();
    let text = big_yaml(300);
    let f = sb.write("big.yaml", &text);
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o640)).unwrap();
    run(sb.sopx().args(["encrypt", "-i", "--age", &pub1()]).arg(&f)).assert_ok("sopx encrypt -i");
    assert_eq!(
        std::fs::metadata(&f).unwrap().permissions().mode() & 0o777,
        0o640
    );
    let enc = std::fs::read(&f).unwrap();
    assert!(!String::from_utf8_lossy(&enc).contains("line one"));
    assert_sopx_decrypts_to(&sb, &f, &text);
    let names: Vec<_> = std::fs::read_dir(sb.work())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[test]
fn sopx_opens_a_large_file_sops_encrypted() {
    let Some(sops) = require_sops() else { return };
    let sb = Sandbox::new();
    let text = big_yaml(300);
    let plain = sb.write("big.yaml", &text);
    let r = run(sb
        .sops(&sops)
        .args(["encrypt", "--age", &pub1()])
        .arg(&plain));
    r.assert_ok("sops encrypt");
    let enc = sb.write("big.enc.yaml", &r.stdout);
    let r = run(sb.sopx().arg("decrypt").arg(&enc));
    r.assert_ok("sopx decrypt");
    assert_eq!(yaml_data(&r.stdout), yaml_data(text.as_bytes()));
}

#[test]
fn a_large_file_with_a_broken_mac_is_refused() {
    let sb = Sandbox::new();
    let text = big_yaml(300);
    let plain = sb.write("big.yaml", &text);
    let a = sopx_encrypt(&sb, &plain, "a.enc.yaml");
    let b = sopx_encrypt(&sb, &plain, "b.enc.yaml");
    let mac_line = |p: &std::path::Path| {
        std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .find(|l| l.trim_start().starts_with("mac: "))
            .unwrap()
            .to_string()
    };
    let forged = std::fs::read_to_string(&a)
        .unwrap()
        .replace(&mac_line(&a), &mac_line(&b));
    let f = sb.write("forged.enc.yaml", forged);
    let r = run(sb.sopx().arg("decrypt").arg(&f));
    assert_eq!(r.code, Some(51), "{}", r.stderr);
    assert!(r.stdout.is_empty());
    assert!(r.stderr.contains("forged.enc.yaml"), "{}", r.stderr);
}

#[test]
fn a_large_file_with_a_key_twice_is_refused_as_a_small_one() {
    let sb = Sandbox::new();
    // The repeated key sits far from the first: in another piece.
    let text = format!("{}service_0: again\n", big_yaml(300));
    let f = sb.write("big.yaml", &text);
    let r = run(sb.sopx().args(["encrypt", "--age", &pub1()]).arg(&f));
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(
        r.stderr.contains("duplicate key \"service_0\""),
        "{}",
        r.stderr
    );
    assert!(r.stdout.is_empty());
}

#[test]
fn a_large_file_encrypts_where_no_temporary_file_can_be_made() {
    let sb = Sandbox::new();
    let text = big_yaml(300);
    let f = sb.write("big.yaml", &text);
    let missing = sb.root().join("no-such-dir");
    let r = run(sb
        .sopx()
        .env("TMPDIR", &missing)
        .args(["encrypt", "--age", &pub1()])
        .arg(&f));
    r.assert_ok("sopx encrypt with TMPDIR missing");
    let enc = sb.write("big.enc.yaml", &r.stdout);
    assert_sopx_decrypts_to(&sb, &enc, &text);
}

#[test]
fn a_large_file_that_needs_a_layout_hint_takes_the_whole_file_path() {
    let Some(sops) = require_sops() else { return };
    let sb = Sandbox::new();
    // A folded scalar reads back unfolded: only the whole-file path writes
    // the hint that gives back its bytes.
    let text = format!("{}folded: >-\n  some folded\n  text\n", big_yaml(300));
    let f = sb.write("big.yaml", &text);
    let enc = sopx_encrypt(&sb, &f, "big.enc.yaml");
    assert!(
        std::fs::read_to_string(&enc)
            .unwrap()
            .contains("sopx_layout")
    );
    assert_sopx_decrypts_to(&sb, &enc, &text);
    let r = run(sb.sops(&sops).arg("decrypt").arg(&enc));
    r.assert_ok("sops decrypt");
    assert_eq!(yaml_data(&r.stdout), yaml_data(text.as_bytes()));
}
