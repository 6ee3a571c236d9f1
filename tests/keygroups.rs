//! Key management: Shamir key groups (interop with the real sops both ways),
//! `rotate`, `updatekeys` and `groups`.

mod common;

use std::path::{Path, PathBuf};

use common::*;

const PLAIN: &str =
    "# head\ndb:\n  user: app\n  password: s3cret # inline\ntoken: abc123\nport: 5432\n";

fn key3() -> PathBuf {
    fixtures_dir().join("keys/age-test3.txt")
}

/// An identity file holding the given keys.
fn identities(sb: &Sandbox, name: &str, keys: &[PathBuf]) -> PathBuf {
    let text: String = keys
        .iter()
        .map(|k| std::fs::read_to_string(k).unwrap())
        .collect();
    sb.write(name, text)
}

/// A .sops.yaml with three single-recipient groups, any two of which open
/// the file.
fn two_of_three_config(sb: &Sandbox) -> PathBuf {
    let cfg = format!(
        "creation_rules:\n  - path_regex: .*\n    shamir_threshold: 2\n    key_groups:\n      - age: [{}]\n      - age: [{}]\n      - age: [{}]\n",
        pub1(),
        pub2(),
        age_pubkey(&key3())
    );
    sb.write(".sops.yaml", cfg)
}

fn decrypt_with(sb: &Sandbox, tool: &mut std::process::Command, ids: &Path, file: &Path) -> Run {
    let _ = sb;
    run(tool.env("SOPS_AGE_KEY_FILE", ids).arg("decrypt").arg(file))
}

fn tokens_of(path: &Path) -> Vec<String> {
    enc_tokens(&std::fs::read_to_string(path).unwrap())
}

#[test]
fn shamir_two_of_three_written_by_sops_opens_with_two_groups() {
    let Some(sops) = require_sops() else { return };
    let sb = Sandbox::new();
    two_of_three_config(&sb);
    let plain = sb.write("secrets.yaml", PLAIN);
    let enc = run(sb.sops(&sops).arg("encrypt").arg(&plain));
    enc.assert_ok("sops encrypt 2-of-3");
    let file = sb.write("by-sops.enc.yaml", &enc.stdout);
    let text = String::from_utf8_lossy(&enc.stdout);
    assert!(text.contains("shamir_threshold: 2"), "{text}");
    assert!(text.contains("key_groups:"), "{text}");

    for (a, b) in [(key1(), key2()), (key1(), key3()), (key2(), key3())] {
        let ids = identities(&sb, "two.txt", &[a, b]);
        let out = decrypt_with(&sb, &mut sb.sopx(), &ids, &file);
        out.assert_ok("sopx decrypt with two of three groups");
        same_data(Format::Yaml, PLAIN, &out.stdout_str()).unwrap();
    }
    let one = identities(&sb, "one.txt", &[key2()]);
    let out = decrypt_with(&sb, &mut sb.sopx(), &one, &file);
    out.assert_code(128, "sopx decrypt with one group of three");
    let err = &out.stderr;
    assert!(err.contains("needs 2 of 3 key groups"), "{err}");
}

#[test]
fn shamir_two_of_three_written_by_sopx_opens_with_sops() {
    let Some(sops) = require_sops() else { return };
    let sb = Sandbox::new();
    two_of_three_config(&sb);
    let plain = sb.write("secrets.yaml", PLAIN);
    let enc = run(sb.sopx().arg("encrypt").arg(&plain));
    enc.assert_ok("sopx encrypt 2-of-3");
    let file = sb.write("by-sopx.enc.yaml", &enc.stdout);
    let text = String::from_utf8_lossy(&enc.stdout);
    assert!(text.contains("shamir_threshold: 2"), "{text}");

    for (a, b) in [(key1(), key3()), (key2(), key3())] {
        let ids = identities(&sb, "two.txt", &[a, b]);
        let out = decrypt_with(&sb, &mut sb.sops(&sops), &ids, &file);
        out.assert_ok("sops decrypt of sopx's 2-of-3 file with two groups");
        same_data(Format::Yaml, PLAIN, &out.stdout_str()).unwrap();
        let out = decrypt_with(&sb, &mut sb.sopx(), &ids, &file);
        assert_eq!(out.stdout_str(), PLAIN, "sopx round trip is lossless");
    }
    let one = identities(&sb, "one.txt", &[key1()]);
    decrypt_with(&sb, &mut sb.sops(&sops), &one, &file).assert_code(128, "sops with one group");
}

#[test]
fn rotate_changes_the_data_key_and_every_ciphertext() {
    let Some(sops) = require_sops() else { return };
    let sb = Sandbox::new();
    let plain = sb.write("s.yaml", PLAIN);
    let enc = run(sb
        .sopx()
        .arg("encrypt")
        .arg("--age")
        .arg(pub1())
        .arg(&plain));
    enc.assert_ok("encrypt");
    let file = sb.write("s.enc.yaml", &enc.stdout);
    let before = std::fs::read_to_string(&file).unwrap();
    let old_tokens = tokens_of(&file);

    run(sb
        .sopx()
        .args(["rotate", "-i", "--add-age"])
        .arg(pub2())
        .arg(&file))
    .assert_ok("rotate --add-age");
    let after = std::fs::read_to_string(&file).unwrap();
    let new_tokens = tokens_of(&file);
    assert_eq!(old_tokens.len(), new_tokens.len());
    for t in &new_tokens {
        assert!(!old_tokens.contains(t), "token kept after rotate: {t}");
    }
    assert!(after.contains(&pub2()), "new recipient listed");
    // The old wrapped key is gone: a new data key.
    let old_enc = before
        .split("enc: |")
        .nth(1)
        .unwrap()
        .lines()
        .nth(2) // the first base64 line, after the armor header
        .unwrap()
        .trim()
        .to_string();
    assert!(old_enc.len() > 40, "{old_enc}");
    assert!(!after.contains(&old_enc));
    // Both recipients, and the real sops, open it; the layout is kept.
    for k in [key1(), key2()] {
        let out = run(sb
            .sopx()
            .env("SOPS_AGE_KEY_FILE", &k)
            .arg("decrypt")
            .arg(&file));
        assert_eq!(out.stdout_str(), PLAIN);
    }
    decrypt_with(&sb, &mut sb.sops(&sops), &key2(), &file).assert_ok("sops opens the rotated file");

    run(sb
        .sopx()
        .args(["rotate", "-i", "--rm-age"])
        .arg(pub1())
        .arg(&file))
    .assert_ok("rotate --rm-age");
    let after = std::fs::read_to_string(&file).unwrap();
    assert!(!after.contains(&pub1()), "removed recipient still listed");
    run(sb
        .sopx()
        .env("SOPS_AGE_KEY_FILE", key1())
        .arg("decrypt")
        .arg(&file))
    .assert_code(128, "removed recipient can no longer decrypt");
}

#[test]
fn failed_rotate_and_updatekeys_leave_the_file_untouched() {
    let sb = Sandbox::new();
    let plain = sb.write("s.yaml", PLAIN);
    let enc = run(sb
        .sopx()
        .arg("encrypt")
        .arg("--age")
        .arg(pub1())
        .arg(&plain));
    let file = sb.write("s.enc.yaml", &enc.stdout);
    sb.write(
        ".sops.yaml",
        format!("creation_rules:\n  - age: {}\n", pub2()),
    );
    let before = std::fs::read(&file).unwrap();
    // No identity that opens the file.
    run(sb
        .sopx()
        .env("SOPS_AGE_KEY_FILE", key2())
        .args(["rotate", "-i"])
        .arg(&file))
    .assert_code(128, "rotate without a key");
    run(sb
        .sopx()
        .env("SOPS_AGE_KEY_FILE", key2())
        .args(["updatekeys", "-y"])
        .arg(&file))
    .assert_code(128, "updatekeys without a key");
    // A recipient that cannot be encrypted to.
    run(sb
        .sopx()
        .args(["rotate", "-i", "--add-age", "age1notarecipient"])
        .arg(&file))
    .assert_code(1, "rotate to a bad recipient");
    assert_eq!(
        std::fs::read(&file).unwrap(),
        before,
        "file changed by a failed command"
    );
}

#[test]
fn updatekeys_keeps_the_data_key_and_every_value_ciphertext() {
    let Some(sops) = require_sops() else { return };
    let sb = Sandbox::new();
    sb.write(
        ".sops.yaml",
        format!("creation_rules:\n  - age: {}\n", pub1()),
    );
    let plain = sb.write("s.yaml", PLAIN);
    let enc = run(sb.sopx().arg("encrypt").arg(&plain));
    enc.assert_ok("encrypt from config");
    let file = sb.write("s.enc.yaml", &enc.stdout);
    let before = std::fs::read_to_string(&file).unwrap();

    // Nothing to do: the file is left as it is.
    run(sb.sopx().args(["updatekeys", "-y"]).arg(&file)).assert_ok("updatekeys, no change");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), before);

    // A second recipient in the config.
    sb.write(
        ".sops.yaml",
        format!("creation_rules:\n  - age: {},{}\n", pub1(), pub2()),
    );
    // Without -y and without a "y" on stdin, nothing changes.
    run(sb.sopx().args(["updatekeys"]).arg(&file)).assert_ok("updatekeys declined");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), before);
    let r = run_stdin(sb.sopx().args(["updatekeys"]).arg(&file), b"y\n");
    r.assert_ok("updatekeys confirmed on stdin");
    let err = &r.stderr;
    assert!(
        err.contains(&format!("+++ group 0: age recipient {}", pub2())),
        "{err}"
    );
    let after = std::fs::read_to_string(&file).unwrap();

    // Every value keeps its ciphertext; only the key list changed (and the
    // existing recipient keeps its wrapped key).
    assert_eq!(tokens_of(&file), enc_tokens(&before));
    let changed: Vec<_> = diff_lines(&before, &after);
    assert!(
        changed.iter().all(|l| !l.contains("ENC[")),
        "values changed: {changed:?}"
    );
    assert!(after.contains(&pub2()));
    for k in [key1(), key2()] {
        let out = run(sb
            .sopx()
            .env("SOPS_AGE_KEY_FILE", &k)
            .arg("decrypt")
            .arg(&file));
        assert_eq!(out.stdout_str(), PLAIN);
    }
    decrypt_with(&sb, &mut sb.sops(&sops), &key2(), &file)
        .assert_ok("sops opens it with the new key");

    // Removing the first recipient from the config removes it from the file.
    sb.write(
        ".sops.yaml",
        format!("creation_rules:\n  - age: {}\n", pub2()),
    );
    run(sb
        .sopx()
        .env("SOPS_AGE_KEY_FILE", key2())
        .args(["updatekeys", "-y"])
        .arg(&file))
    .assert_ok("updatekeys removing a key");
    let after2 = std::fs::read_to_string(&file).unwrap();
    assert!(!after2.contains(&pub1()));
    assert_eq!(tokens_of(&file), enc_tokens(&before));
}

#[test]
fn updatekeys_handles_many_files_at_once() {
    let sb = Sandbox::new();
    let mut files = Vec::new();
    for i in 0..5 {
        let p = sb.write(&format!("f{i}.yaml"), format!("n: {i}\nsecret: v{i}\n"));
        let e = run(sb.sopx().arg("encrypt").arg("--age").arg(pub1()).arg(&p));
        files.push(sb.write(&format!("f{i}.enc.yaml"), &e.stdout));
    }
    sb.write(
        ".sops.yaml",
        format!("creation_rules:\n  - age: {},{}\n", pub1(), pub2()),
    );
    run(sb.sopx().args(["updatekeys", "-y"]).args(&files)).assert_ok("updatekeys on five files");
    for (i, f) in files.iter().enumerate() {
        let out = run(sb
            .sopx()
            .env("SOPS_AGE_KEY_FILE", key2())
            .arg("decrypt")
            .arg(f));
        assert_eq!(out.stdout_str(), format!("n: {i}\nsecret: v{i}\n"));
    }
}

#[test]
fn groups_add_and_delete() {
    let Some(sops) = require_sops() else { return };
    let sb = Sandbox::new();
    let plain = sb.write("s.yaml", PLAIN);
    let enc = run(sb
        .sopx()
        .arg("encrypt")
        .arg("--age")
        .arg(pub1())
        .arg(&plain));
    let file = sb.write("s.enc.yaml", &enc.stdout);
    let tokens = tokens_of(&file);

    run(sb
        .sopx()
        .args(["groups", "add", "-i", "--file"])
        .arg(&file)
        .arg("--age")
        .arg(pub2()))
    .assert_ok("groups add");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("key_groups:") && text.contains("shamir_threshold: 2"),
        "{text}"
    );
    assert_eq!(tokens_of(&file), tokens, "values keep their ciphertext");
    // Both groups are needed now.
    run(sb
        .sopx()
        .env("SOPS_AGE_KEY_FILE", key1())
        .arg("decrypt")
        .arg(&file))
    .assert_code(128, "one of two required groups");
    let both = identities(&sb, "both.txt", &[key1(), key2()]);
    let out = decrypt_with(&sb, &mut sb.sopx(), &both, &file);
    assert_eq!(out.stdout_str(), PLAIN);
    decrypt_with(&sb, &mut sb.sops(&sops), &both, &file).assert_ok("sops opens the two-group file");

    run(sb
        .sopx()
        .env("SOPS_AGE_KEY_FILE", &both)
        .args(["groups", "delete", "-i", "--file"])
        .arg(&file)
        .arg("0"))
    .assert_ok("groups delete 0");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        !text.contains("key_groups:") && !text.contains(&pub1()),
        "{text}"
    );
    let out = run(sb
        .sopx()
        .env("SOPS_AGE_KEY_FILE", key2())
        .arg("decrypt")
        .arg(&file));
    assert_eq!(out.stdout_str(), PLAIN);
    run(sb
        .sopx()
        .env("SOPS_AGE_KEY_FILE", key2())
        .args(["groups", "delete", "--file"])
        .arg(&file)
        .arg("3"))
    .assert_code(1, "deleting a group that does not exist");
}

#[test]
fn decryption_order_is_validated() {
    let sb = Sandbox::new();
    let plain = sb.write("s.yaml", PLAIN);
    let enc = run(sb
        .sopx()
        .arg("encrypt")
        .arg("--age")
        .arg(pub1())
        .arg(&plain));
    let file = sb.write("s.enc.yaml", &enc.stdout);
    let out = run(sb
        .sopx()
        .args(["decrypt", "--decryption-order", "pgp,age"])
        .arg(&file));
    assert_eq!(out.stdout_str(), PLAIN);
    run(sb
        .sopx()
        .args(["decrypt", "--decryption-order", "nope"])
        .arg(&file))
    .assert_code(1, "unknown kind");
}

/// Lines of `b` that are not in `a`, and the other way round.
fn diff_lines(a: &str, b: &str) -> Vec<String> {
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    la.iter()
        .filter(|l| !lb.contains(l))
        .chain(lb.iter().filter(|l| !la.contains(l)))
        .map(|l| l.to_string())
        .collect()
}

#[test]
fn check_refuses_plaintext_files_that_rules_cover() {
    let sb = Sandbox::new();
    sb.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - path_regex: secrets/.*\\.yaml$\n    age: {}\n  - age: {}\n",
            pub1(),
            pub1()
        ),
    );
    let plain = sb.write("secrets/db.yaml", PLAIN);
    let other = sb.write("values.yaml", PLAIN);
    let out = run(sb.sopx().arg("check").arg(&plain).arg(&other));
    out.assert_code(1, "check with a plaintext secret");
    assert!(
        out.stderr.contains("secrets/db.yaml:1: not encrypted"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("values.yaml: not"),
        "catch-all rules do not require encryption"
    );
    run(sb.sopx().args(["encrypt", "-i"]).arg(&plain)).assert_ok("encrypt in place");
    run(sb.sopx().arg("check").arg(&plain).arg(&other)).assert_ok("check after encrypting");
}
