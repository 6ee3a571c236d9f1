//! `sopx set` / `sopx unset`: the changed value is re-encrypted, every other
//! ciphertext is kept byte-identical, decrypt shows the change byte-exact, and
//! the real sops can decrypt the result. (sops 3.11 behaves the same: `set`
//! changes the value's line plus `lastmodified`/`mac`; `unset` of a missing
//! key exits 1 "Key not found".)

mod common;

use common::*;

fn tokens_except(text: &str, skip_line_containing: &[&str]) -> Vec<String> {
    text.lines()
        .filter(|l| {
            let t = l.trim_start().trim_start_matches('"');
            !t.starts_with("mac") && !skip_line_containing.iter().any(|s| l.contains(s))
        })
        .flat_map(enc_tokens)
        .collect()
}

fn sops_decrypt_matches(sb: &Sandbox, file: &std::path::Path, format: Format, expected: &str) {
    if let Some(sops) = require_sops() {
        let r = run(sb.sops(&sops).arg("decrypt").arg(file));
        r.assert_ok("real sops decrypt after set/unset");
        same_data(format, expected, &r.stdout_str()).unwrap_or_else(|e| panic!("sops's view: {e}"));
    }
}

#[test]
fn set_changes_one_value_and_keeps_other_ciphertexts() {
    let sb = Sandbox::new();
    let c = corpus_file("comments_in_lists_of_maps.yaml");
    let enc = sb.sopx_encrypt_to_work(&c.path, &[]);
    let before = std::fs::read_to_string(&enc).unwrap();
    run(sb
        .sopx()
        .arg("set")
        .arg(&enc)
        .arg(r#"["targets"][1]["token"]"#)
        .arg(r#""rotated-prod-token""#))
    .assert_ok("sopx set");
    let after = std::fs::read_to_string(&enc).unwrap();
    assert!(
        !after.contains("rotated-prod-token"),
        "set value visible in clear"
    );
    let kept_before = tokens_except(&before, &["token:"]);
    let kept_after = tokens_except(&after, &["token:"]);
    assert_eq!(
        kept_before, kept_after,
        "ciphertexts of untouched values changed"
    );
    // the other token (staging) is unchanged too
    let tok = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| l.contains("token:"))
            // the value's token; an inline comment's token may follow it
            .filter_map(|l| enc_tokens(l).into_iter().next())
            .collect()
    };
    assert_eq!(
        tok(&before)[0],
        tok(&after)[0],
        "staging token ciphertext changed"
    );
    assert_ne!(
        tok(&before)[1],
        tok(&after)[1],
        "prod token ciphertext did not change"
    );

    let expected = c
        .text()
        .replace("token: prod-token", "token: rotated-prod-token");
    let d = run(sb.sopx().arg("decrypt").arg(&enc));
    d.assert_ok("decrypt after set");
    assert_eq!(d.stdout_str(), expected, "decrypt after set");
    sops_decrypt_matches(&sb, &enc, Format::Yaml, &expected);
}

#[test]
fn set_adds_keys_and_accepts_json_values() {
    let sb = Sandbox::new();
    let c = corpus_file("indent2.yaml");
    let enc = sb.sopx_encrypt_to_work(&c.path, &[]);
    run(sb
        .sopx()
        .arg("set")
        .arg(&enc)
        .arg(r#"["app"]["replicas"]"#)
        .arg("7"))
    .assert_ok("set int");
    run(sb
        .sopx()
        .arg("set")
        .arg(&enc)
        .arg(r#"["app"]["new_map"]"#)
        .arg(r#"{"a": "x", "b": [1, 2]}"#))
    .assert_ok("set a new subtree");
    let after = std::fs::read_to_string(&enc).unwrap();
    assert!(
        !after.contains("\"x\"") && !after.contains(": x\n"),
        "new values not encrypted:\n{after}"
    );
    let d = run(sb.sopx().arg("decrypt").arg(&enc));
    d.assert_ok("decrypt");
    let expected = "app:\n  name: web\n  env:\n    DATABASE_URL: postgres://user:pw@db:5432/app\n    LOG_LEVEL: info\n  replicas: 7\n  new_map:\n    a: x\n    b:\n      - 1\n      - 2\n";
    same_data(Format::Yaml, expected, &d.stdout_str()).unwrap();
    assert!(
        d.stdout_str().starts_with("app:\n  name: web\n  env:\n"),
        "untouched part not kept byte-exact:\n{}",
        d.stdout_str()
    );
    sops_decrypt_matches(&sb, &enc, Format::Yaml, expected);

    // JSON file
    let j = corpus_file("indent4.json");
    let jenc = sb.sopx_encrypt_to_work(&j.path, &[]);
    run(sb
        .sopx()
        .arg("set")
        .arg(&jenc)
        .arg(r#"["database"]["replicas"][0]"#)
        .arg(r#""r0""#))
    .assert_ok("set in a JSON array");
    let d = run(sb.sopx().arg("decrypt").arg(&jenc));
    d.assert_ok("decrypt JSON");
    let expected = j.text().replace("\"r1\"", "\"r0\"");
    assert_eq!(d.stdout_str(), expected, "JSON set result");
    sops_decrypt_matches(&sb, &jenc, Format::Json, &expected);
}

#[test]
fn unset_removes_a_key() {
    let sb = Sandbox::new();
    let c = corpus_file("default_unencrypted_suffix.yaml");
    let enc = sb.sopx_encrypt_to_work(&c.path, &[]);
    let before = std::fs::read_to_string(&enc).unwrap();
    run(sb
        .sopx()
        .arg("unset")
        .arg(&enc)
        .arg(r#"["config"]["api_key"]"#))
    .assert_ok("unset");
    let after = std::fs::read_to_string(&enc).unwrap();
    assert!(!after.contains("api_key"), "key still present");
    assert_eq!(
        tokens_except(&before, &["api_key"]),
        tokens_except(&after, &[]),
        "other ciphertexts changed"
    );
    let expected: String = c
        .text()
        .lines()
        .filter(|l| !l.contains("api_key"))
        .map(|l| format!("{l}\n"))
        .collect();
    let d = run(sb.sopx().arg("decrypt").arg(&enc));
    d.assert_ok("decrypt after unset");
    assert_eq!(d.stdout_str(), expected);
    sops_decrypt_matches(&sb, &enc, Format::Yaml, &expected);

    // unset of a missing key: sops exits 1 "Key not found"; file untouched
    let r = run(sb.sopx().arg("unset").arg(&enc).arg(r#"["nope"]"#));
    r.assert_code(1, "unset of a missing key");
    assert_eq!(std::fs::read_to_string(&enc).unwrap(), after);
}

#[test]
fn set_with_invalid_path_or_value_fails_and_keeps_file() {
    let sb = Sandbox::new();
    let c = corpus_file("indent2.yaml");
    let enc = sb.sopx_encrypt_to_work(&c.path, &[]);
    let before = std::fs::read(&enc).unwrap();
    let r = run(sb.sopx().arg("set").arg(&enc).arg("app.name").arg(r#""x""#));
    assert!(!r.ok(), "a path not in [\"a\"] form must be rejected");
    let r = run(sb
        .sopx()
        .arg("set")
        .arg(&enc)
        .arg(r#"["app"]["name"]"#)
        .arg("{not json"));
    assert!(!r.ok(), "an invalid JSON value must be rejected");
    let r = run(sb
        .sopx()
        .env("SOPS_AGE_KEY_FILE", key2())
        .arg("set")
        .arg(&enc)
        .arg(r#"["app"]["name"]"#)
        .arg(r#""x""#));
    r.assert_code(128, "set with the wrong key");
    assert_eq!(
        std::fs::read(&enc).unwrap(),
        before,
        "file modified by a failed set"
    );
}
