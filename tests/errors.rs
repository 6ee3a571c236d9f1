//! Failure modes and their exit codes. Every expected code below was measured
//! on the real sops 3.11.0 (see the comment on each test); where sopx must
//! match sops the test also runs sops on the same input when it is available.

mod common;

use common::*;
use std::path::{Path, PathBuf};

/// A sopx-encrypted copy of `default_unencrypted_suffix.yaml` in the sandbox
/// (has encrypted values `password`, `config.api_key` and clear `*_unencrypted`).
fn encrypted_fixture(sb: &Sandbox) -> (PathBuf, String) {
    let c = corpus_file("default_unencrypted_suffix.yaml");
    let p = sb.sopx_encrypt_to_work(&c.path, &[]);
    let text = std::fs::read_to_string(&p).unwrap();
    (p, text)
}

/// Flip one base64 character of the `data:` field right after `anchor`.
fn flip_data_char(text: &str, anchor: &str) -> String {
    let i = text
        .find(anchor)
        .unwrap_or_else(|| panic!("{anchor:?} not in file"));
    let j = i + text[i..].find("data:").unwrap() + "data:".len();
    let c = text.as_bytes()[j];
    let repl = if c == b'A' { "B" } else { "A" };
    format!("{}{}{}", &text[..j], repl, &text[j + 1..])
}

/// Run the same decrypt with sops (when present) and check its exit code: keeps
/// these expectations honest if sops's behaviour changes.
fn sops_agrees(sb: &Sandbox, file: &Path, extra: &[&str], code: i32) {
    if let Some(sops) = find_sops() {
        let r = run(sb.sops(&sops).arg("decrypt").args(extra).arg(file));
        r.assert_code(code, "real sops on the same file");
    }
}

/// sops: exit 25 "Error decrypting tree ... Could not decrypt value".
/// sopx must also name the path of the value.
#[test]
fn tampered_ciphertext_exits_25_and_names_the_path() {
    let sb = Sandbox::new();
    let (_, text) = encrypted_fixture(&sb);
    let bad = sb.write("flip.yaml", flip_data_char(&text, "api_key:"));
    let r = run(sb.sopx().arg("decrypt").arg(&bad));
    r.assert_code(25, "decrypt with a flipped ciphertext char");
    assert!(
        r.stderr.contains("api_key"),
        "stderr should name the value's path (config/api_key): {}",
        r.stderr
    );
    sops_agrees(&sb, &bad, &[], 25);

    // the same on a sops-written file
    let text = std::fs::read_to_string(sops_fixtures_dir().join("default_unencrypted_suffix.yaml"))
        .unwrap();
    let bad = sb.write("flip-sops.yaml", flip_data_char(&text, "password:"));
    run(sb.sopx().arg("decrypt").arg(&bad)).assert_code(25, "flipped char in a sops file");
}

/// Swapping two ciphertexts between keys: the path is part of the AAD, so
/// both tools fail to decrypt (sops: 25).
#[test]
fn swapped_ciphertexts_exit_25() {
    let sb = Sandbox::new();
    let (_, text) = encrypted_fixture(&sb);
    let token_after = |anchor: &str| {
        let i = text.find(anchor).unwrap();
        let s = i + text[i..].find("ENC[").unwrap();
        let e = s + text[s..].find(']').unwrap() + 1;
        text[s..e].to_string()
    };
    let (a, b) = (token_after("password:"), token_after("api_key:"));
    let swapped = text
        .replace(&a, "@@A@@")
        .replace(&b, &a)
        .replace("@@A@@", &b);
    let bad = sb.write("swap.yaml", swapped);
    run(sb.sopx().arg("decrypt").arg(&bad)).assert_code(25, "swapped ciphertexts");
    sops_agrees(&sb, &bad, &[], 25);
}

/// A malformed ENC token (truncated): sops exits 25.
#[test]
fn truncated_enc_token_exits_25() {
    let sb = Sandbox::new();
    let (_, text) = encrypted_fixture(&sb);
    let i = text.find("password: ENC[").unwrap() + "password: ".len();
    let e = i + text[i..].find('\n').unwrap();
    let truncated = format!("{}{}{}", &text[..i], &text[i..i + 40], &text[e..]);
    let bad = sb.write("trunc.yaml", truncated);
    run(sb.sopx().arg("decrypt").arg(&bad)).assert_code(25, "truncated ENC token");
    sops_agrees(&sb, &bad, &[], 25);
}

/// A changed clear-text value: MAC mismatch, 51 (sops: 51). --ignore-mac
/// decrypts it anyway and shows the changed value.
#[test]
fn changed_unencrypted_value_exits_51_and_ignore_mac_decrypts() {
    let sb = Sandbox::new();
    let (_, text) = encrypted_fixture(&sb);
    assert!(text.contains("name_unencrypted: my-service"));
    let bad = sb.write(
        "unenc.yaml",
        text.replace(
            "name_unencrypted: my-service",
            "name_unencrypted: my-servicX",
        ),
    );
    let r = run(sb.sopx().arg("decrypt").arg(&bad));
    r.assert_code(51, "changed unencrypted value");
    assert!(
        r.stderr.to_lowercase().contains("mac"),
        "stderr should say MAC mismatch: {}",
        r.stderr
    );
    sops_agrees(&sb, &bad, &[], 51);

    let r = run(sb.sopx().arg("decrypt").arg("--ignore-mac").arg(&bad));
    r.assert_ok("--ignore-mac");
    let expected = corpus_file("default_unencrypted_suffix.yaml")
        .text()
        .replace("my-service", "my-servicX");
    assert_eq!(r.stdout_str(), expected, "--ignore-mac output");
    sops_agrees(&sb, &bad, &["--ignore-mac"], 0);

    // removing a clear value entirely, and adding one, also break the MAC
    let removed = text
        .lines()
        .filter(|l| !l.contains("name_unencrypted"))
        .map(|l| format!("{l}\n"))
        .collect::<String>();
    let bad = sb.write("removed.yaml", removed);
    run(sb.sopx().arg("decrypt").arg(&bad)).assert_code(51, "removed clear value");
    sops_agrees(&sb, &bad, &[], 51);
}

/// With --mac-only-encrypted, clear values are outside the MAC: changing
/// one still decrypts (sops: exit 0); changing ciphertext still fails.
#[test]
fn mac_only_encrypted_tolerates_clear_edits() {
    let sb = Sandbox::new();
    let c = corpus_file("mac_only_encrypted.yaml");
    let p = sb.sopx_encrypt_to_work(&c.path, &c.flags);
    let text = std::fs::read_to_string(&p).unwrap();
    let edited = sb.write(
        "edited.yaml",
        text.replace("free to edit without breaking the MAC", "EDITED"),
    );
    let r = run(sb.sopx().arg("decrypt").arg(&edited));
    r.assert_ok("mac-only-encrypted file with an edited clear value");
    assert!(r.stdout_str().contains("description_unencrypted: EDITED"));
    sops_agrees(&sb, &edited, &[], 0);
    // and the sops-written one
    let stext =
        std::fs::read_to_string(sops_fixtures_dir().join("mac_only_encrypted.yaml")).unwrap();
    let sedited = sb.write(
        "sedited.yaml",
        stext.replace("timeout_unencrypted: 30", "timeout_unencrypted: 31"),
    );
    run(sb.sopx().arg("decrypt").arg(&sedited))
        .assert_ok("sops mac-only file with an edited clear value");
}

/// No `mac` line: sops 3.11 exits 51 ("MAC mismatch. File has no MAC"), not
/// 52; sopx matches it. --ignore-mac decrypts.
#[test]
fn missing_mac_exits_like_sops() {
    let sb = Sandbox::new();
    let (_, text) = encrypted_fixture(&sb);
    let nomac: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("mac:"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(nomac, text);
    let bad = sb.write("nomac.yaml", nomac);
    run(sb.sopx().arg("decrypt").arg(&bad)).assert_code(51, "missing mac");
    sops_agrees(&sb, &bad, &[], 51);
    let r = run(sb.sopx().arg("decrypt").arg("--ignore-mac").arg(&bad));
    r.assert_ok("--ignore-mac with no mac");
    assert_eq!(
        r.stdout,
        corpus_file("default_unencrypted_suffix.yaml").bytes()
    );
}

/// An altered mac ciphertext: sops 3.11 exits 51 ("Cannot decrypt MAC"), not
/// 24; so does a changed `lastmodified` (the MAC's AAD) and a mac that is no
/// ENC token at all.
#[test]
fn altered_mac_exits_like_sops() {
    let sb = Sandbox::new();
    let (_, text) = encrypted_fixture(&sb);
    let bad = sb.write("altmac.yaml", flip_data_char(&text, "mac: ENC["));
    run(sb.sopx().arg("decrypt").arg(&bad)).assert_code(51, "altered mac");
    sops_agrees(&sb, &bad, &[], 51);
    run(sb.sopx().arg("decrypt").arg("--ignore-mac").arg(&bad))
        .assert_ok("--ignore-mac with an altered mac");

    let lm_line = text
        .lines()
        .find(|l| l.trim_start().starts_with("lastmodified:"))
        .unwrap();
    let lm_value = lm_line
        .trim_start()
        .trim_start_matches("lastmodified:")
        .trim()
        .trim_matches(['"', '\'']);
    let year = lm_value[..4].to_string();
    let bad = sb.write(
        "lastmod.yaml",
        text.replace(lm_line, &lm_line.replacen(&year, "1999", 1)),
    );
    run(sb.sopx().arg("decrypt").arg(&bad)).assert_code(51, "changed lastmodified");
    sops_agrees(&sb, &bad, &[], 51);

    let mac_line = text
        .lines()
        .find(|l| l.trim_start().starts_with("mac:"))
        .unwrap();
    let indent = &mac_line[..mac_line.len() - mac_line.trim_start().len()];
    let bad = sb.write(
        "plainmac.yaml",
        text.replace(mac_line, &format!("{indent}mac: hello")),
    );
    run(sb.sopx().arg("decrypt").arg(&bad)).assert_code(51, "mac not an ENC token");
    sops_agrees(&sb, &bad, &[], 51);
}

/// Malformed input: exit 2 (sops: 2, "Error unmarshalling file: yaml: line N: ..."),
/// and stderr names a line number near the error.
#[test]
fn malformed_input_exits_2_with_line_number() {
    let cases: &[(&str, &str, std::ops::RangeInclusive<usize>)] = &[
        ("bad_indent.yaml", "a: 1\nb:\n  c: 2\n d: 3\ne: 5\n", 3..=4),
        ("unclosed_quote.yaml", "a: 1\nb: \"unclosed\nc: 2\n", 2..=4),
        ("unclosed_single.yaml", "a: 1\nb: 'unclosed\n", 2..=3),
        ("mapping_in_scalar.yaml", "a: 1\n  b: 2\n", 2..=2),
        ("tab_indent.yaml", "a:\n\tb: 1\n", 2..=2),
        ("bad.json", "{\"a\": 1,\n \"b\": }\n", 2..=2),
        ("trailing_comma.json", "{\n  \"a\": 1,\n}\n", 2..=3),
    ];
    let sb = Sandbox::new();
    let mut f = Failures::default();
    for (name, text, lines) in cases {
        let p = sb.write(name, text);
        f.check(
            name,
            (|| {
                let r = run(sb.sopx().arg("encrypt").arg("--age").arg(pub1()).arg(&p));
                if r.code != Some(2) {
                    return Err(format!("expected exit 2, {}", r.describe()));
                }
                let lower = r.stderr.to_lowercase();
                let found: Vec<usize> = lower
                    .match_indices("line ")
                    .filter_map(|(i, _)| {
                        let digits: String = lower[i + 5..]
                            .chars()
                            .take_while(|c| c.is_ascii_digit())
                            .collect();
                        digits.parse().ok()
                    })
                    .collect();
                if !found.iter().any(|n| lines.contains(n)) {
                    return Err(format!(
                        "stderr should name line {lines:?} (found line numbers {found:?}): {}",
                        r.stderr.trim()
                    ));
                }
                if let Some(sops) = find_sops() {
                    let s = run(sb
                        .sops(&sops)
                        .arg("encrypt")
                        .arg("--age")
                        .arg(pub1())
                        .arg(&p));
                    if s.code != Some(2) {
                        return Err(format!("real sops: expected exit 2, {}", s.describe()));
                    }
                }
                Ok(())
            })(),
        );
    }
    f.finish("malformed input");
}

/// `encrypt -i` of a malformed file and `decrypt -i` with the wrong key leave
/// the file byte-identical (sops: exits 2 and 128, files untouched).
#[test]
fn failed_in_place_operations_leave_the_file_untouched() {
    let sb = Sandbox::new();
    let bad_text = "a: 1\nb: \"unclosed\nc: 2\n";
    let p = sb.write("bad.yaml", bad_text);
    let r = run(sb
        .sopx()
        .arg("encrypt")
        .arg("--age")
        .arg(pub1())
        .arg("-i")
        .arg(&p));
    assert!(!r.ok(), "encrypt -i of a malformed file must fail");
    r.assert_code(2, "encrypt -i of a malformed file");
    assert_eq!(
        std::fs::read(&p).unwrap(),
        bad_text.as_bytes(),
        "malformed file was modified"
    );

    let (enc, text) = encrypted_fixture(&sb);
    let r = run(sb
        .sopx()
        .env("SOPS_AGE_KEY_FILE", key2())
        .arg("decrypt")
        .arg("-i")
        .arg(&enc));
    r.assert_code(128, "decrypt -i with the wrong key");
    assert_eq!(
        std::fs::read_to_string(&enc).unwrap(),
        text,
        "encrypted file was modified"
    );

    // tampered file, in place: untouched too
    let bad = sb.write("tampered.yaml", flip_data_char(&text, "password:"));
    let before = std::fs::read(&bad).unwrap();
    let r = run(sb.sopx().arg("decrypt").arg("-i").arg(&bad));
    r.assert_code(25, "decrypt -i of a tampered file");
    assert_eq!(
        std::fs::read(&bad).unwrap(),
        before,
        "tampered file was modified"
    );

    // no stray temp files next to them
    let mut names: Vec<String> = std::fs::read_dir(sb.work())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            "bad.yaml",
            "default_unencrypted_suffix.yaml",
            "tampered.yaml"
        ],
        "unexpected files left in the working directory"
    );
}

/// Wrong identity and no identity at all: 128 (sops: 128 "Failed to get the
/// data key required to decrypt the SOPS file").
#[test]
fn wrong_or_missing_key_exits_128() {
    let sb = Sandbox::new();
    let (enc, _) = encrypted_fixture(&sb);
    let r = run(sb
        .sopx()
        .env("SOPS_AGE_KEY_FILE", key2())
        .arg("decrypt")
        .arg(&enc));
    r.assert_code(128, "wrong key");
    assert!(r.stdout.is_empty(), "no output on failure");
    let r = run(sb
        .sopx()
        .env("SOPS_AGE_KEY_FILE", sb.root().join("nonexistent.txt"))
        .arg("decrypt")
        .arg(&enc));
    r.assert_code(128, "key file does not exist");
    let r = run(sb
        .sopx()
        .env_remove("SOPS_AGE_KEY_FILE")
        .arg("decrypt")
        .arg(&enc));
    r.assert_code(128, "no identity configured");
    // also for a sops-written file
    let r = run(sb
        .sopx()
        .env("SOPS_AGE_KEY_FILE", key2())
        .arg("decrypt")
        .arg(sops_fixtures_dir().join("indent2.json")));
    r.assert_code(128, "wrong key, sops JSON file");
    if let Some(sops) = find_sops() {
        run(sb
            .sops(&sops)
            .env("SOPS_AGE_KEY_FILE", key2())
            .arg("decrypt")
            .arg(&enc))
        .assert_code(128, "real sops, wrong key");
    }
}

/// Encrypting an already encrypted file: 203 (sops: 203).
#[test]
fn encrypting_an_encrypted_file_exits_203() {
    let sb = Sandbox::new();
    let (enc, text) = encrypted_fixture(&sb);
    run(sb.sopx().arg("encrypt").arg("--age").arg(pub1()).arg(&enc)).assert_code(203, "sopx file");
    run(sb
        .sopx()
        .arg("encrypt")
        .arg("--age")
        .arg(pub1())
        .arg("-i")
        .arg(&enc))
    .assert_code(203, "sopx file, -i");
    assert_eq!(std::fs::read_to_string(&enc).unwrap(), text);
    for name in ["indent2.yaml", "indent2.json"] {
        let p = sops_fixtures_dir().join(name);
        run(sb.sopx().arg("encrypt").arg("--age").arg(pub1()).arg(&p)).assert_code(203, name);
    }
    if let Some(sops) = find_sops() {
        run(sb
            .sops(&sops)
            .arg("encrypt")
            .arg("--age")
            .arg(pub1())
            .arg(&enc))
        .assert_code(203, "real sops");
    }
}

/// A file that does not exist: sops 3.11 exits 100 ("cannot operate on
/// non-existent file") for encrypt and decrypt.
#[test]
fn missing_file_exits_like_sops() {
    let sb = Sandbox::new();
    let missing = sb.work().join("nothere.yaml");
    let r = run(sb.sopx().arg("decrypt").arg(&missing));
    r.assert_code(100, "decrypt of a missing file");
    assert!(
        r.stderr.contains("nothere.yaml"),
        "stderr should name the file: {}",
        r.stderr
    );
    run(sb
        .sopx()
        .arg("encrypt")
        .arg("--age")
        .arg(pub1())
        .arg(&missing))
    .assert_code(100, "encrypt of a missing file");
    if let Some(sops) = find_sops() {
        run(sb.sops(&sops).arg("decrypt").arg(&missing)).assert_code(100, "real sops");
    }
}

/// Decrypting a plaintext file: sops exits 1 "sops metadata not found".
#[test]
fn decrypting_plaintext_exits_1() {
    let sb = Sandbox::new();
    for name in ["indent2.yaml", "indent2.json"] {
        let r = run(sb.sopx().arg("decrypt").arg(corpus_dir().join(name)));
        r.assert_code(1, name);
        assert!(
            r.stderr.to_lowercase().contains("metadata not found"),
            "stderr should say the sops metadata was not found: {}",
            r.stderr
        );
    }
}

/// No recipient from flags, env or config: sops 3.11 exits 1 ("config file not
/// found, or has no creation rules, and no keys provided through command line
/// options"), and 1 when .sops.yaml has no matching rule — not 111.
#[test]
fn no_recipient_exits_like_sops() {
    let sb = Sandbox::new();
    let c = corpus_file("indent2.yaml");
    let r = run(sb.sopx().arg("encrypt").arg(&c.path));
    r.assert_code(1, "encrypt without any recipient");
    assert!(r.stdout.is_empty());
    sb.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - path_regex: \\.json$\n    age: {}\n",
            pub1()
        ),
    );
    let p = sb.write("indent2.yaml", c.bytes());
    run(sb.sopx().arg("encrypt").arg(&p)).assert_code(1, "no matching creation rule");
    if let Some(sops) = find_sops() {
        run(sb.sops(&sops).arg("encrypt").arg(&p)).assert_code(1, "real sops, no matching rule");
    }
}

/// `filestatus`: {"encrypted":true} for sopx and sops files, false for plaintext.
#[test]
fn filestatus_reports_encryption() {
    let sb = Sandbox::new();
    let (enc, _) = encrypted_fixture(&sb);
    for p in [enc, sops_fixtures_dir().join("indent2.json")] {
        let r = run(sb.sopx().arg("filestatus").arg(&p));
        r.assert_ok("filestatus");
        assert_eq!(
            r.stdout_str().trim(),
            r#"{"encrypted":true}"#,
            "{}",
            p.display()
        );
    }
    for name in ["indent2.yaml", "indent2.json"] {
        let r = run(sb.sopx().arg("filestatus").arg(corpus_dir().join(name)));
        r.assert_ok("filestatus");
        assert_eq!(r.stdout_str().trim(), r#"{"encrypted":false}"#, "{name}");
    }
}
