//! Losslessness: for every corpus file, `sopx decrypt (sopx encrypt x)` is
//! byte-identical to x (files in EXCEPTIONS: same data). Plus the shape of the
//! encrypted output, fresh IVs, no plaintext leaks, and the I/O options
//! (--output, -i, stdin, SOPS_AGE_KEY).

mod common;

use common::*;

/// The central property: decrypt(encrypt(x)) == x, byte for byte.
#[test]
fn corpus_round_trips_byte_exact() {
    let sb = Sandbox::new();
    let mut f = Failures::default();
    let mut exact = 0;
    for c in corpus() {
        f.check(
            &c.name,
            (|| {
                let r = run(sb
                    .sopx()
                    .arg("encrypt")
                    .arg("--age")
                    .arg(pub1())
                    .args(&c.flags)
                    .arg(&c.path));
                if !r.ok() {
                    return Err(format!("sopx encrypt failed: {}", r.describe()));
                }
                let enc_text = r.stdout_str();
                check_sops_block(c.format, &enc_text, &[pub1()])
                    .map_err(|e| format!("encrypted output: {e}"))?;
                let data_tokens = load(c.format, &enc_text)?
                    .iter()
                    .map(|d| format!("{:?}", d.without_sops()))
                    .filter(|d| d.contains("ENC[AES256_GCM,"))
                    .count();
                if data_tokens == 0 {
                    return Err("encrypted output has no encrypted value".into());
                }
                let enc = sb.write(&c.name, &r.stdout);
                let d = run(sb.sopx().arg("decrypt").arg(&enc));
                if !d.ok() {
                    return Err(format!("sopx decrypt failed: {}", d.describe()));
                }
                if d.stdout == c.bytes() {
                    exact += 1;
                    return Ok(());
                }
                match &c.exception {
                    Some(_) => same_data(c.format, &c.text(), &d.stdout_str())
                        .map_err(|e| format!("(exception file) data differs: {e}")),
                    None => Err(format!(
                        "not byte-identical; {}",
                        first_difference(&c.bytes(), &d.stdout)
                    )),
                }
            })(),
        );
    }
    eprintln!("{exact} corpus files round-tripped byte-exact");
    f.finish("sopx round trip");
}

/// Encrypting twice gives different ciphertext everywhere (fresh data key and
/// IVs), and both decrypt to the same bytes.
#[test]
fn encrypting_twice_gives_fresh_ciphertext() {
    let sb = Sandbox::new();
    for name in ["indent2.yaml", "indent2.json", "comments_head_foot.yaml"] {
        let c = corpus_file(name);
        let a = run(sb
            .sopx()
            .arg("encrypt")
            .arg("--age")
            .arg(pub1())
            .arg(&c.path));
        let b = run(sb
            .sopx()
            .arg("encrypt")
            .arg("--age")
            .arg(pub1())
            .arg(&c.path));
        a.assert_ok(name);
        b.assert_ok(name);
        assert_ne!(a.stdout, b.stdout, "{name}: two encryptions are identical");
        let (ta, tb) = (enc_tokens(&a.stdout_str()), enc_tokens(&b.stdout_str()));
        assert_eq!(ta.len(), tb.len(), "{name}: different number of ENC tokens");
        assert!(!ta.is_empty());
        for (x, y) in ta.iter().zip(&tb) {
            assert_ne!(x, y, "{name}: an ENC token repeated across encryptions");
        }
        let ivs: Vec<&str> = ta
            .iter()
            .map(|t| t.split("iv:").nth(1).unwrap().split(',').next().unwrap())
            .collect();
        let mut uniq = ivs.clone();
        uniq.sort();
        uniq.dedup();
        assert_eq!(
            uniq.len(),
            ivs.len(),
            "{name}: an IV is reused within one file"
        );
        for (i, out) in [a, b].iter().enumerate() {
            let enc = sb.write(&format!("{i}-{name}"), &out.stdout);
            let d = run(sb.sopx().arg("decrypt").arg(&enc));
            d.assert_ok(name);
            assert_eq!(
                d.stdout,
                c.bytes(),
                "{name}: encryption {i} does not round-trip"
            );
        }
    }
}

/// Known secrets never appear in the encrypted output; values the rules leave
/// in clear do.
#[test]
fn no_plaintext_of_encrypted_values() {
    let cases: &[(&str, &[&str], &[&str])] = &[
        (
            "comments_head_foot.yaml",
            &[
                "s3cr3t-db-pass",
                "db.internal",
                "Maintained by the platform team",
            ],
            &[],
        ),
        (
            "default_unencrypted_suffix.yaml",
            &["default-suffix-password", "default-suffix-api-key"],
            &["my-service", "https://api.example.com"],
        ),
        (
            "k8s_secret.yaml",
            &["YWRtaW4=", "czNjcjN0LXBhc3N3b3Jk", "s3cr3t-password"],
            &["db-credentials", "production", "Opaque"],
        ),
        (
            "selective_unencrypted_suffix.yaml",
            &["suffix-secret-pw", "suffix-secret-token"],
            &[
                "db.example.com",
                "eu-west-1",
                "stays-clear-because-parent-key-matches",
            ],
        ),
        (
            "selective_encrypted_suffix.yaml",
            &[
                "encsuffix-pw",
                "encsuffix-token",
                "encrypted-because-parent-matches",
            ],
            &["db.example.com", "admin"],
        ),
        (
            "selective_unencrypted_regex.yaml",
            &["unencregex-private-key", "unencregex-secret"],
            &["api.example.com", "clear text note"],
        ),
        (
            "selective_encrypted_comment_regex.yaml",
            &["enccomment-password", "enccomment-token"],
            &["stays-clear", "example.com"],
        ),
        (
            "selective_unencrypted_comment_regex.yaml",
            &["unenccomment-password", "unenccomment-token"],
            &["eu-central-1", "example.com"],
        ),
        (
            "mac_only_encrypted.yaml",
            &["maconly-password", "maconly-token"],
            &["free to edit without breaking the MAC"],
        ),
        ("multidoc.yaml", &["first-secret", "second-secret"], &[]),
        (
            "block_literal.yaml",
            &[
                "MIIBszCCAVmgAwIBAgIUQ2VydGlmaWNhdGUgZm9yIHRlc3RzMAoGCCqGSM49BAMC",
                "keeps trailing newlines",
            ],
            &[],
        ),
        (
            "unicode.yaml",
            &["こんにちは世界", "crème brûlée", "🔐"],
            &[],
        ),
        (
            "long_strings.yaml",
            &["xxxxxxxxxxxxxxxxxxxx", "lorem ipsum"],
            &[],
        ),
        (
            "unencrypted_suffix.json",
            &["json-suffix-password", "json-suffix-token"],
            &["svc-123", "team-a"],
        ),
        (
            "encrypted_regex.json",
            &["json-regex-db-password", "json-regex-api-key"],
            &["https://example.com", "\"app\""],
        ),
        ("deep_nesting.json", &["json-deep-secret"], &[]),
        ("minified.json", &["json-min-secret"], &[]),
        ("escapes.json", &["line1", "C:\\\\Users"], &[]),
    ];
    let sb = Sandbox::new();
    let mut f = Failures::default();
    for (name, secret, clear) in cases {
        let c = corpus_file(name);
        f.check(
            name,
            (|| {
                let r = run(sb
                    .sopx()
                    .arg("encrypt")
                    .arg("--age")
                    .arg(pub1())
                    .args(&c.flags)
                    .arg(&c.path));
                if !r.ok() {
                    return Err(format!("sopx encrypt failed: {}", r.describe()));
                }
                let out = r.stdout_str();
                for s in *secret {
                    if out.contains(s) {
                        return Err(format!("plaintext {s:?} visible in the encrypted file"));
                    }
                }
                for s in *clear {
                    if !out.contains(s) {
                        return Err(format!(
                            "{s:?} should stay in clear text but is not visible"
                        ));
                    }
                }
                Ok(())
            })(),
        );
    }
    f.finish("plaintext leaks");
}

/// Generic leak check against sops: every string value and comment of the
/// plaintext (6+ chars) that sops's encrypted file hides must be hidden in
/// sopx's too.
#[test]
fn nothing_sops_hides_leaks_from_sopx() {
    fn strings(c: &Canon, out: &mut Vec<String>) {
        match c {
            Canon::Str(s) => out.push(s.clone()),
            Canon::Seq(v) => v.iter().for_each(|x| strings(x, out)),
            Canon::Map(m) => m.iter().for_each(|(_, x)| strings(x, out)),
            _ => {}
        }
    }
    let sb = Sandbox::new();
    let mut f = Failures::default();
    for c in corpus() {
        let sops_text = std::fs::read_to_string(sops_fixtures_dir().join(&c.name)).unwrap();
        let mut probes = Vec::new();
        for d in load(c.format, &c.text()).unwrap() {
            strings(&d, &mut probes);
        }
        if c.format == Format::Yaml {
            probes.extend(
                c.text()
                    .lines()
                    .filter_map(|l| l.trim_start().strip_prefix('#'))
                    .map(|s| s.trim().to_string()),
            );
        }
        // only plain single-line text: escaping may differ between emitters
        probes.retain(|p| {
            p.chars().count() >= 6
                && !p.contains(['\n', '"', '\\', '\'', '\t'])
                && !p.starts_with(' ')
                && !p.ends_with(' ')
                && !sops_text.contains(p.as_str())
        });
        f.check(
            &c.name,
            (|| {
                let r = run(sb
                    .sopx()
                    .arg("encrypt")
                    .arg("--age")
                    .arg(pub1())
                    .args(&c.flags)
                    .arg(&c.path));
                if !r.ok() {
                    return Err(format!("sopx encrypt failed: {}", r.describe()));
                }
                let out = r.stdout_str();
                let leaked: Vec<&String> =
                    probes.iter().filter(|p| out.contains(p.as_str())).collect();
                if leaked.is_empty() {
                    Ok(())
                } else {
                    Err(format!(
                        "text that sops encrypts is in clear in sopx's output: {leaked:?}"
                    ))
                }
            })(),
        );
    }
    f.finish("leaks relative to sops");
}

/// `--output FILE`, `-i`, stdin (`-`) and an inline SOPS_AGE_KEY.
#[test]
fn io_options() {
    let sb = Sandbox::new();
    let c = corpus_file("comments_inline.yaml");

    // encrypt --output, decrypt --output
    let enc = sb.work().join("out.enc.yaml");
    let r = run(sb
        .sopx()
        .arg("encrypt")
        .arg("--age")
        .arg(pub1())
        .arg("--output")
        .arg(&enc)
        .arg(&c.path));
    r.assert_ok("encrypt --output");
    assert!(
        r.stdout.is_empty(),
        "encrypt --output must not also print the file"
    );
    let enc_text = std::fs::read_to_string(&enc).expect("--output file written");
    check_sops_block(Format::Yaml, &enc_text, &[pub1()]).unwrap();
    let dec = sb.work().join("out.dec.yaml");
    run(sb.sopx().arg("decrypt").arg("--output").arg(&dec).arg(&enc)).assert_ok("decrypt --output");
    assert_eq!(
        std::fs::read(&dec).unwrap(),
        c.bytes(),
        "decrypt --output content"
    );

    // in place, both ways
    let f = sb.write("inplace.yaml", c.bytes());
    let r = run(sb
        .sopx()
        .arg("encrypt")
        .arg("--age")
        .arg(pub1())
        .arg("-i")
        .arg(&f));
    r.assert_ok("encrypt -i");
    let now = std::fs::read_to_string(&f).unwrap();
    check_sops_block(Format::Yaml, &now, &[pub1()]).unwrap();
    assert!(!now.contains("value1"), "encrypt -i left plaintext");
    let r = run(sb.sopx().arg("decrypt").arg("--in-place").arg(&f));
    r.assert_ok("decrypt --in-place");
    assert_eq!(std::fs::read(&f).unwrap(), c.bytes(), "decrypt -i content");

    // stdin, with explicit types
    let r = run_stdin(
        sb.sopx()
            .arg("encrypt")
            .arg("--age")
            .arg(pub1())
            .arg("--input-type")
            .arg("yaml")
            .arg("--output-type")
            .arg("yaml")
            .arg("-"),
        &c.bytes(),
    );
    r.assert_ok("encrypt from stdin");
    let d = run_stdin(
        sb.sopx()
            .arg("decrypt")
            .arg("--input-type")
            .arg("yaml")
            .arg("--output-type")
            .arg("yaml")
            .arg("-"),
        &r.stdout,
    );
    d.assert_ok("decrypt from stdin");
    assert_eq!(d.stdout, c.bytes(), "stdin round trip");

    // SOPS_AGE_KEY holding the identity inline
    let key_text = std::fs::read_to_string(key1()).unwrap();
    let d = run(sb
        .sopx()
        .env_remove("SOPS_AGE_KEY_FILE")
        .env("SOPS_AGE_KEY", key_text)
        .arg("decrypt")
        .arg(&enc));
    d.assert_ok("decrypt with SOPS_AGE_KEY");
    assert_eq!(d.stdout, c.bytes(), "SOPS_AGE_KEY decrypt content");

    // JSON through stdin
    let j = corpus_file("tabs.json");
    let r = run_stdin(
        sb.sopx()
            .arg("encrypt")
            .arg("--age")
            .arg(pub1())
            .arg("--input-type")
            .arg("json")
            .arg("-"),
        &j.bytes(),
    );
    r.assert_ok("encrypt JSON from stdin");
    let d = run_stdin(
        sb.sopx()
            .arg("decrypt")
            .arg("--input-type")
            .arg("json")
            .arg("-"),
        &r.stdout,
    );
    d.assert_ok("decrypt JSON from stdin");
    assert_eq!(d.stdout, j.bytes(), "JSON stdin round trip");
}

/// Decrypt then re-encrypt then decrypt is stable (no drift through cycles).
#[test]
fn repeated_cycles_are_stable() {
    let sb = Sandbox::new();
    for name in [
        "helm_values.yaml",
        "comments_odd_indent.yaml",
        "whitespace_odd.json",
        "multidoc.yaml",
    ] {
        let c = corpus_file(name);
        let mut plain = c.bytes();
        for i in 0..3 {
            let p = sb.write(&format!("cycle-{i}-{name}"), &plain);
            let r = run(sb
                .sopx()
                .arg("encrypt")
                .arg("--age")
                .arg(pub1())
                .args(&c.flags)
                .arg(&p));
            r.assert_ok(&format!("{name} cycle {i} encrypt"));
            let e = sb.write(&format!("cycle-{i}-enc-{name}"), &r.stdout);
            let d = run(sb.sopx().arg("decrypt").arg(&e));
            d.assert_ok(&format!("{name} cycle {i} decrypt"));
            assert_eq!(
                d.stdout,
                c.bytes(),
                "{name}: cycle {i} drifted: {}",
                first_difference(&c.bytes(), &d.stdout)
            );
            plain = d.stdout;
        }
    }
}
