//! Interoperability with the real sops 3.11 (and the age CLI):
//! (a) files sopx encrypts open with `sops decrypt` and hold the same data;
//! (b) files sops wrote (tests/fixtures/sops) open with `sopx decrypt` and give
//!     the same data as sops's own decryption;
//! (c) mixed edits: `sops set` on sopx files and `sopx set` on sops files;
//! plus config/env recipients, --extract, --output-type and filestatus parity.

mod common;

use common::*;
use std::path::Path;

/// Sanity of the fixtures and of the comparison itself (needs no binary): the
/// real sops's decryption of every corpus file has the same data as the file.
#[test]
fn sops_fixtures_match_corpus_data() {
    let mut f = Failures::default();
    for c in corpus() {
        let enc = sops_fixtures_dir().join(&c.name);
        let dec = sops_decrypted_dir().join(&c.name);
        f.check(
            &c.name,
            (|| {
                if !enc.is_file() || !dec.is_file() {
                    return Err("missing sops fixture: run scripts/regen-sops-fixtures.sh".into());
                }
                let dec_text = std::fs::read_to_string(&dec).unwrap();
                same_data(c.format, &c.text(), &dec_text)?;
                check_sops_block(c.format, &std::fs::read_to_string(&enc).unwrap(), &[pub1()])
            })(),
        );
    }
    for p in data_files(&sops_fixtures_dir().join("two-recipients")) {
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        let plain = corpus_dir().join(&name);
        let dec = sops_decrypted_dir().join("two-recipients").join(&name);
        f.check(
            &format!("two-recipients/{name}"),
            (|| {
                let fmt = format_of(&p);
                same_data(
                    fmt,
                    &std::fs::read_to_string(&plain).unwrap(),
                    &std::fs::read_to_string(&dec).unwrap(),
                )?;
                check_sops_block(
                    fmt,
                    &std::fs::read_to_string(&p).unwrap(),
                    &[pub1(), pub2()],
                )
            })(),
        );
    }
    f.finish("sops fixtures vs corpus");
}

/// The comparison must not be vacuous: it sees a changed value, a changed
/// type, a missing key and a reordered key.
#[test]
fn semantic_comparison_detects_differences() {
    let base = "a: 1\nb: two\nc: [x, y]\n";
    assert!(same_data(Format::Yaml, base, "a: 1\nb: two\nc:\n  - x\n  - y\n").is_ok());
    assert!(same_data(Format::Yaml, base, "a: 1.0\nb: 'two'\nc: [x, y]\n").is_ok());
    assert!(same_data(Format::Yaml, base, "a: 2\nb: two\nc: [x, y]\n").is_err());
    assert!(same_data(Format::Yaml, base, "a: '1'\nb: two\nc: [x, y]\n").is_err());
    assert!(same_data(Format::Yaml, base, "a: 1\nc: [x, y]\n").is_err());
    assert!(same_data(Format::Yaml, base, "b: two\na: 1\nc: [x, y]\n").is_err());
    assert!(same_data(Format::Yaml, base, "a: 1\nb: two\nc: [x]\n").is_err());
    assert!(same_data(Format::Yaml, "d: 2024-01-01\n", "d: 2024-01-01T00:00:00Z\n").is_ok());
    assert!(same_data(Format::Yaml, "d: 2024-01-01\n", "d: 2024-01-02T00:00:00Z\n").is_err());
    assert!(same_data(Format::Yaml, "t: True\nn: ~\n", "t: true\nn: null\n").is_ok());
    assert!(same_data(Format::Yaml, "t: yes\n", "t: true\n").is_err());
    assert!(same_data(Format::Yaml, "a: 1\n---\nb: 2\n", "a: 1\n").is_err());
    assert!(same_data(Format::Json, r#"{"a": 1.50}"#, r#"{"a": 1.5}"#).is_ok());
    assert!(same_data(Format::Json, r#"{"a": "x"}"#, r#"{"a": "y"}"#).is_err());
    assert_eq!(
        normalize_timestamp("2001-12-14T21:59:43-05:00").as_deref(),
        Some("2001-12-15T02:59:43Z")
    );
    assert_eq!(
        normalize_timestamp("2001-12-14T21:59:43.10Z").as_deref(),
        Some("2001-12-14T21:59:43.1Z")
    );
    assert_eq!(
        normalize_timestamp("2024-1-2").as_deref(),
        Some("2024-01-02T00:00:00Z")
    );
    assert_eq!(normalize_timestamp("1.0"), None);
}

/// (a) sopx encrypts every corpus file; the real sops decrypts it (exit 0)
/// to the same data, and `sops filestatus` sees it as encrypted.
#[test]
fn sops_decrypts_sopx_encrypted_corpus() {
    let Some(sops) = require_sops() else { return };
    let sb = Sandbox::new();
    let mut f = Failures::default();
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
                let enc = sb.write(&c.name, &r.stdout);
                let d = run(sb.sops(&sops).arg("decrypt").arg(&enc));
                if !d.ok() {
                    return Err(format!("sops decrypt failed: {}", d.describe()));
                }
                same_data(c.format, &c.text(), &d.stdout_str())
                    .map_err(|e| format!("sops's decryption differs from the plaintext: {e}"))?;
                let s = run(sb.sops(&sops).arg("filestatus").arg(&enc));
                if s.stdout_str().trim() != r#"{"encrypted":true}"# {
                    return Err(format!(
                        "sops filestatus: {:?} ({})",
                        s.stdout_str(),
                        s.describe()
                    ));
                }
                Ok(())
            })(),
        );
    }
    f.finish("sops decrypt of sopx-encrypted corpus");
}

/// (b) Every file the real sops wrote opens with `sopx decrypt`, with the
/// same data as sops's own decryption. Byte-identical output is counted and
/// reported, not required.
#[test]
fn sopx_decrypts_sops_fixtures() {
    let sb = Sandbox::new();
    let mut f = Failures::default();
    let mut identical = Vec::new();
    let mut differing = Vec::new();
    let mut cases: Vec<(
        String,
        std::path::PathBuf,
        std::path::PathBuf,
        std::path::PathBuf,
    )> = Vec::new();
    for p in data_files(&sops_fixtures_dir()) {
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        cases.push((name.clone(), p, sops_decrypted_dir().join(&name), key1()));
    }
    for p in data_files(&sops_fixtures_dir().join("two-recipients")) {
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        // decrypt two-recipient files with the second identity
        cases.push((
            format!("two-recipients/{name}"),
            p,
            sops_decrypted_dir().join("two-recipients").join(&name),
            key2(),
        ));
    }
    for (name, enc, dec, key) in &cases {
        f.check(
            name,
            (|| {
                let r = run(sb
                    .sopx()
                    .env("SOPS_AGE_KEY_FILE", key)
                    .arg("decrypt")
                    .arg(enc));
                if !r.ok() {
                    return Err(format!("sopx decrypt failed: {}", r.describe()));
                }
                let expected = std::fs::read(dec).unwrap();
                if r.stdout == expected {
                    identical.push(name.clone());
                } else {
                    differing.push(format!(
                        "{name}: {}",
                        first_difference(&expected, &r.stdout).replace('\n', "\n    ")
                    ));
                }
                same_data(
                    format_of(enc),
                    &String::from_utf8_lossy(&expected),
                    &r.stdout_str(),
                )
            })(),
        );
    }
    eprintln!(
        "sopx decrypt of sops fixtures: {} of {} byte-identical to sops's own decryption",
        identical.len(),
        cases.len()
    );
    for d in &differing {
        eprintln!("  not byte-identical: {d}");
    }
    f.finish("sopx decrypt of sops-written fixtures");
}

/// sopx and sops encrypt the same values and leave the same values in clear
/// (same encryption rules), and record the same rule metadata.
#[test]
fn encryption_shape_matches_sops() {
    let sb = Sandbox::new();
    let mut f = Failures::default();
    let mut type_notes = Vec::new();
    const RULE_KEYS: &[&str] = &[
        "unencrypted_suffix",
        "encrypted_suffix",
        "unencrypted_regex",
        "encrypted_regex",
        "unencrypted_comment_regex",
        "encrypted_comment_regex",
        "mac_only_encrypted",
    ];
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
                let ours = load(c.format, &r.stdout_str())?;
                let theirs_text = std::fs::read_to_string(sops_fixtures_dir().join(&c.name)).unwrap();
                let theirs = load(c.format, &theirs_text)?;
                let o: Vec<Canon> = ours.iter().map(|d| d.without_sops().enc_shape()).collect();
                let t: Vec<Canon> = theirs.iter().map(|d| d.without_sops().enc_shape()).collect();
                same_docs(&t, &o).map_err(|e| {
                    format!("which values are encrypted differs from sops (expected = sops, \"ENC\" = encrypted): {e}")
                })?;
                for (i, (od, td)) in ours.iter().zip(&theirs).enumerate() {
                    let (om, tm) = (od.get("sops"), td.get("sops"));
                    for k in RULE_KEYS {
                        let ov = om.and_then(|m| m.get(k));
                        let tv = tm.and_then(|m| m.get(k));
                        let same = match (ov, tv) {
                            (None, None) => true,
                            (Some(a), Some(b)) => diff(b, a, "").is_none(),
                            _ => false,
                        };
                        if !same {
                            return Err(format!(
                                "document {i}: sops metadata `{k}`: sops has {tv:?}, sopx has {ov:?}"
                            ));
                        }
                    }
                }
                let (ot, tt) = (enc_tokens(&r.stdout_str()), enc_tokens(&theirs_text));
                // comments are placed differently (sops moves inline comments
                // onto their own line), so compare the value types only
                let otypes: Vec<&str> = ot.iter().filter_map(|t| enc_type(t)).filter(|t| *t != "comment").collect();
                let ttypes: Vec<&str> = tt.iter().filter_map(|t| enc_type(t)).filter(|t| *t != "comment").collect();
                if otypes != ttypes {
                    type_notes.push(format!("{}: sops {ttypes:?}\n    sopx {otypes:?}", c.name));
                }
                Ok(())
            })(),
        );
    }
    // Type tags may legitimately differ (e.g. int vs float for JSON numbers,
    // comment placement); reported for information only.
    for n in &type_notes {
        eprintln!("note: ENC type tags differ from sops: {n}");
    }
    f.finish("encryption shape vs sops");
}

/// `sopx filestatus` prints exactly what `sops filestatus` prints.
#[test]
fn filestatus_matches_sops() {
    let Some(sops) = require_sops() else { return };
    let sb = Sandbox::new();
    let mut f = Failures::default();
    let mut files = data_files(&sops_fixtures_dir());
    files.extend(corpus().into_iter().take(8).map(|c| c.path));
    for p in files {
        f.check(
            &p.display().to_string(),
            (|| {
                let a = run(sb.sopx().arg("filestatus").arg(&p));
                let b = run(sb.sops(&sops).arg("filestatus").arg(&p));
                if (a.code, a.stdout_str().trim()) != (b.code, b.stdout_str().trim()) {
                    return Err(format!(
                        "sopx {:?} {:?}, sops {:?} {:?}",
                        a.code,
                        a.stdout_str(),
                        b.code,
                        b.stdout_str()
                    ));
                }
                Ok(())
            })(),
        );
    }
    f.finish("filestatus parity");
}

fn decrypt_with_sops(sb: &Sandbox, sops: &Path, file: &Path, key: &Path) -> Run {
    run(sb
        .sops(sops)
        .env("SOPS_AGE_KEY_FILE", key)
        .arg("decrypt")
        .arg(file))
}

/// Two recipients: each identity alone can open sopx's file, with sops and sopx.
#[test]
fn two_recipients_both_can_decrypt() {
    let Some(sops) = require_sops() else { return };
    let sb = Sandbox::new();
    for name in ["indent2.yaml", "multidoc.yaml", "nested_arrays.json"] {
        let c = corpus_file(name);
        let r = run(sb
            .sopx()
            .arg("encrypt")
            .arg("--age")
            .arg(format!("{},{}", pub1(), pub2()))
            .arg(&c.path));
        r.assert_ok(&format!("sopx encrypt {name} to two recipients"));
        let enc = sb.write(name, &r.stdout);
        check_sops_block(c.format, &r.stdout_str(), &[pub1(), pub2()]).unwrap();
        for key in [key1(), key2()] {
            let d = decrypt_with_sops(&sb, &sops, &enc, &key);
            d.assert_ok(&format!("sops decrypt {name} with {}", key.display()));
            same_data(c.format, &c.text(), &d.stdout_str()).unwrap();
            let d = run(sb
                .sopx()
                .env("SOPS_AGE_KEY_FILE", &key)
                .arg("decrypt")
                .arg(&enc));
            d.assert_ok(&format!("sopx decrypt {name} with {}", key.display()));
            assert_eq!(
                d.stdout,
                c.bytes(),
                "{name}: sopx round trip with {}",
                key.display()
            );
        }
    }
}

/// The data key in sopx's `sops.age[].enc` is a standard age file: the age CLI
/// decrypts it with the identity, to 32 bytes (as for sops's own files).
#[test]
fn age_cli_opens_the_data_key() {
    let Some(age) = require_age() else { return };
    let sb = Sandbox::new();
    let c = corpus_file("indent2.yaml");
    let enc = sb.sopx_encrypt_to_work(&c.path, &[]);
    let sops_enc = sops_fixtures_dir().join("indent2.yaml");
    for (who, file) in [("sopx", enc), ("sops", sops_enc)] {
        let md = &sops_metadata(Format::Yaml, &std::fs::read_to_string(&file).unwrap()).unwrap()[0];
        let Some(Canon::Seq(entries)) = md.get("age") else {
            panic!("{who}: no age entries")
        };
        let Some(Canon::Str(armored)) = entries[0].get("enc") else {
            panic!("{who}: no enc")
        };
        let armor_file = sb.write(&format!("{who}.age"), armored);
        let r = run(sb
            .cmd(&age)
            .arg("--decrypt")
            .arg("-i")
            .arg(key1())
            .arg(&armor_file));
        r.assert_ok(&format!("age --decrypt of {who}'s data key"));
        assert_eq!(r.stdout.len(), 32, "{who}: data key must be 32 bytes");
        let w = run(sb
            .cmd(&age)
            .arg("--decrypt")
            .arg("-i")
            .arg(key2())
            .arg(&armor_file));
        assert!(
            !w.ok(),
            "{who}: the wrong identity must not open the data key"
        );
    }
}

/// (c) A sopx-encrypted file edited with `sops set` decrypts with both tools;
/// a sops file edited with `sopx set` decrypts with both tools.
#[test]
fn set_round_trips_between_sops_and_sopx() {
    let Some(sops) = require_sops() else { return };
    let sb = Sandbox::new();
    let c = corpus_file("comments_head_foot.yaml");

    // sopx encrypt -> sops set -> sops decrypt + sopx decrypt
    let enc = sb.sopx_encrypt_to_work(&c.path, &[]);
    run(sb
        .sops(&sops)
        .arg("set")
        .arg(&enc)
        .arg(r#"["database"]["password"]"#)
        .arg(r#""changed-by-sops""#))
    .assert_ok("sops set on a sopx file");
    let expected = c.text().replace("s3cr3t-db-pass", "changed-by-sops");
    let d = decrypt_with_sops(&sb, &sops, &enc, &key1());
    d.assert_ok("sops decrypt after sops set");
    same_data(Format::Yaml, &expected, &d.stdout_str()).unwrap();
    let d = run(sb.sopx().arg("decrypt").arg(&enc));
    d.assert_ok("sopx decrypt after sops set");
    same_data(Format::Yaml, &expected, &d.stdout_str()).unwrap();

    // sops file -> sopx set -> both decrypt
    let sfile = sb.write(
        "from-sops.yaml",
        std::fs::read(sops_fixtures_dir().join("indent2.yaml")).unwrap(),
    );
    run(sb
        .sopx()
        .arg("set")
        .arg(&sfile)
        .arg(r#"["app"]["env"]["LOG_LEVEL"]"#)
        .arg(r#""debug""#))
    .assert_ok("sopx set on a sops file");
    let plain = corpus_file("indent2.yaml")
        .text()
        .replace("LOG_LEVEL: info", "LOG_LEVEL: debug");
    let d = decrypt_with_sops(&sb, &sops, &sfile, &key1());
    d.assert_ok("sops decrypt after sopx set");
    same_data(Format::Yaml, &plain, &d.stdout_str()).unwrap();
    let d = run(sb.sopx().arg("decrypt").arg(&sfile));
    d.assert_ok("sopx decrypt after sopx set");
    same_data(Format::Yaml, &plain, &d.stdout_str()).unwrap();

    // JSON, sopx encrypt -> sops set of a number -> sopx decrypt
    let j = corpus_file("indent2.json");
    let jenc = sb.sopx_encrypt_to_work(&j.path, &[]);
    run(sb
        .sops(&sops)
        .arg("set")
        .arg(&jenc)
        .arg(r#"["port"]"#)
        .arg("9090"))
    .assert_ok("sops set on a sopx JSON file");
    let d = run(sb.sopx().arg("decrypt").arg(&jenc));
    d.assert_ok("sopx decrypt of JSON after sops set");
    same_data(
        Format::Json,
        &j.text().replace("8080", "9090"),
        &d.stdout_str(),
    )
    .unwrap();
}

/// `--extract` prints exactly what sops prints, for scalars and subtrees.
#[test]
fn extract_matches_sops() {
    let Some(sops) = require_sops() else { return };
    let sb = Sandbox::new();
    let cases = [
        ("indent2.yaml", r#"["app"]["name"]"#),
        ("indent2.yaml", r#"["app"]["replicas"]"#),
        ("indent2.yaml", r#"["app"]["env"]"#),
        ("indent4.json", r#"["database"]"#),
        ("indent4.json", r#"["database"]["replicas"][1]"#),
        ("scalar_types.yaml", r#"["bool_title"]"#),
        ("block_literal.yaml", r#"["certificate"]"#),
    ];
    for (name, path) in cases {
        let file = sops_fixtures_dir().join(name);
        let a = run(sb
            .sopx()
            .arg("decrypt")
            .arg("--extract")
            .arg(path)
            .arg(&file));
        let b = run(sb
            .sops(&sops)
            .arg("decrypt")
            .arg("--extract")
            .arg(path)
            .arg(&file));
        b.assert_ok("sops --extract");
        a.assert_ok(&format!("sopx decrypt --extract {path} {name}"));
        // scalars: the exact bytes sops prints; subtrees: the same data
        let fmt = format_of(&file);
        match load(fmt, &b.stdout_str()).ok().as_deref() {
            Some([Canon::Map(_) | Canon::Seq(_)]) => {
                same_data(fmt, &b.stdout_str(), &a.stdout_str())
                    .unwrap_or_else(|e| panic!("sopx decrypt --extract {path} {name}: {e}"))
            }
            _ => assert_eq!(
                a.stdout_str(),
                b.stdout_str(),
                "sopx decrypt --extract {path} {name}: output differs from sops"
            ),
        }
    }
}

/// `--output-type json` of a YAML file gives the same data as sops's.
#[test]
fn output_type_json_matches_sops() {
    let Some(sops) = require_sops() else { return };
    let sb = Sandbox::new();
    for name in ["indent2.yaml", "nested_structures.yaml", "unicode.yaml"] {
        let file = sops_fixtures_dir().join(name);
        let a = run(sb
            .sopx()
            .arg("decrypt")
            .arg("--output-type")
            .arg("json")
            .arg(&file));
        let b = run(sb
            .sops(&sops)
            .arg("decrypt")
            .arg("--output-type")
            .arg("json")
            .arg(&file));
        b.assert_ok("sops --output-type json");
        a.assert_ok(&format!("sopx decrypt --output-type json {name}"));
        same_data(Format::Json, &b.stdout_str(), &a.stdout_str())
            .unwrap_or_else(|e| panic!("{name} as JSON: {e}"));
    }
}

/// Recipients from SOPS_AGE_RECIPIENTS and from .sops.yaml creation rules
/// (with an encrypted_regex): sopx encrypts like sops does.
#[test]
fn recipients_from_env_and_config() {
    let Some(sops) = require_sops() else { return };
    let sb = Sandbox::new();
    let c = corpus_file("indent2.yaml");

    // env
    let r = run(sb
        .sopx()
        .env("SOPS_AGE_RECIPIENTS", pub2())
        .arg("encrypt")
        .arg(&c.path));
    r.assert_ok("sopx encrypt with SOPS_AGE_RECIPIENTS");
    check_sops_block(Format::Yaml, &r.stdout_str(), &[pub2()]).unwrap();
    let enc = sb.write("env.yaml", &r.stdout);
    let d = decrypt_with_sops(&sb, &sops, &enc, &key2());
    d.assert_ok("sops decrypt of the SOPS_AGE_RECIPIENTS file");
    same_data(Format::Yaml, &c.text(), &d.stdout_str()).unwrap();

    // .sops.yaml in the working directory
    sb.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - path_regex: \\.json$\n    age: {}\n  - path_regex: \\.yaml$\n    age: {}\n    encrypted_regex: ^(DATABASE_URL|name)$\n",
            pub2(),
            pub1()
        ),
    );
    let plain = sb.write("cfg.yaml", c.bytes());
    let a = run(sb.sopx().arg("encrypt").arg(&plain));
    a.assert_ok("sopx encrypt with .sops.yaml");
    let b = run(sb.sops(&sops).arg("encrypt").arg(&plain));
    b.assert_ok("sops encrypt with .sops.yaml");
    check_sops_block(Format::Yaml, &a.stdout_str(), &[pub1()]).unwrap();
    let shape = |t: &str| -> Vec<Canon> {
        load(Format::Yaml, t)
            .unwrap()
            .iter()
            .map(|d| d.without_sops().enc_shape())
            .collect()
    };
    same_docs(&shape(&b.stdout_str()), &shape(&a.stdout_str())).unwrap_or_else(|e| {
        panic!("encrypted values differ from sops with the same .sops.yaml: {e}")
    });
    let enc = sb.write("cfg.enc.yaml", &a.stdout);
    let d = decrypt_with_sops(&sb, &sops, &enc, &key1());
    d.assert_ok("sops decrypt of the .sops.yaml-configured file");
    same_data(Format::Yaml, &c.text(), &d.stdout_str()).unwrap();

    // --config pointing elsewhere, and --filename-override choosing the rule
    let cfgdir = sb.root().join("cfg");
    std::fs::create_dir_all(&cfgdir).unwrap();
    std::fs::write(
        cfgdir.join("rules.yaml"),
        format!(
            "creation_rules:\n  - path_regex: special\\.yaml$\n    age: {}\n",
            pub2()
        ),
    )
    .unwrap();
    let a = run(sb
        .sopx()
        .arg("encrypt")
        .arg("--config")
        .arg(cfgdir.join("rules.yaml"))
        .arg("--filename-override")
        .arg("special.yaml")
        .arg(&plain));
    a.assert_ok("sopx encrypt --config --filename-override");
    check_sops_block(Format::Yaml, &a.stdout_str(), &[pub2()]).unwrap();
}
