//! The minimal reproductions of the data-integrity issue, each from a real
//! file. Every case sops accepts must encrypt, decrypt back to the exact
//! input bytes, and open with the real sops with the same data as sops's own
//! encryption gives. Cases sops refuses must be refused cleanly.

mod common;

use common::*;

/// (name, input). The name's extension picks the format.
const ACCEPTED: &[(&str, &str)] = &[
    // 1. indented block scalars followed by siblings, blank lines, comments
    ("block_then_sibling.yaml", "x:\n  b: |\n    echo\n  c: y\n"),
    (
        "block_then_block.yaml",
        "w:\n  a: |\n    x\n  b: |\n    y\n",
    ),
    (
        "block_blank_then_map.yaml",
        "w:\n  a: |\n    x\n\n  b: {}\n",
    ),
    (
        "block_blank_comment_key.yaml",
        "w:\n  a: |\n    x\n\n  # a comment\n  b: 1\n",
    ),
    (
        "k8s_secret.yaml",
        "apiVersion: v1\nkind: Secret\nstringData:\n  tls.key: |\n    -----BEGIN-----\n    abc\n    -----END-----\n  # database\n  db_password: hunter2\n",
    ),
    (
        "block_keep_then_sibling.yaml",
        "a:\n  b: |+\n    x\n\n  c: 1\n",
    ),
    (
        "block_indicator.yaml",
        "a:\n  b: |2\n      indented\n    less\n  c: 1\n",
    ),
    ("block_in_list.yaml", "a:\n  - |\n    x\n  - y\n"),
    (
        "workflow_run.yaml",
        "jobs:\n  t:\n    steps:\n      - run: |\n          echo a\n          echo b\n      - name: next\n        run: >-\n          folded\n          text\n    env:\n      X: 1\n",
    ),
    // 2. flow collection closed at the key's indentation
    (
        "flow_close_at_key.yaml",
        "a: 1\nb: [\n  \"x\"\n]\nc: {\n  d: 1\n}\n",
    ),
    // 3. implicit mapping in a flow sequence; JSON written as YAML
    ("flow_seq_implicit_map.yaml", "a: [k: v]\n"),
    ("top_level_flow_map.yaml", "{\"a\": 2, \"b\": \"ba\"}\n"),
    // 4. quotes inside flow collections
    ("flow_single_quotes.yaml", "a: ['yes', 'on']\n"),
    // 5. block scalar at the end of a file with no final newline
    ("block_no_final_newline.yaml", "a: |\n  x\n  y"),
    ("folded_no_final_newline.yaml", "a: >\n  x\n  y"),
    // 6. comments that sops encrypts
    ("comment_after_empty_block.yaml", "a: 1\nb: |\n\n# secret\n"),
    ("comment_only_document.yaml", "---\n# hello\n"),
    // 7. explicit key
    ("explicit_key.yaml", "? k\n: v\nb: 2\n"),
    // Found by fuzzing the fast YAML scanner against saphyr: block content
    // that starts like a tag (`!!x`) was read as the scalar's properties.
    (
        "block_content_like_a_tag.yaml",
        "e: |\n  !!x |\n  y\nz: 2\n",
    ),
    (
        "block_content_like_a_tag_slow.yaml",
        "x: &a 1\ne: |\n  !!x |\n  y\nz: *a\n",
    ),
    // 9. multi-line scalars, aliases and merge keys
    (
        "multiline_scalars.yaml",
        "a: this is\n  multi line\nb: \"quoted\n  multi\"\n",
    ),
    (
        "aliases_merge.yaml",
        "base: &base\n  x: 1\n  y: two\nd:\n  <<: *base\n  z: 3\ne: *base\n",
    ),
    // 10. repeated INI keys (systemd units): sops keeps the last value
    (
        "systemd_duplicate_keys.ini",
        "[Unit]\nDescription=x\n[Service]\n# env\nEnvironment=A=1\nEnvironment=B=2 ; two\nExecStart=/bin/true\n",
    ),
    // systemd units continue values with `\` (go-ini joins the lines)
    (
        "continuation.ini",
        "[Service]\nExecStart=/bin/sh -c \"a \\\n    b \\\n  c\"\nOther=1\n",
    ),
    ("duplicate_key.ini", "[a]\nk = 1\nj = 2\nk = 3\n"),
    // sops keeps both lines of a repeated dotenv variable
    ("duplicate.env", "A=1\nB=2\nA=3\n"),
    ("duplicate_export.env", "export A=1\nA=2\n"),
    // 11. escapes and continuations
    (
        "escapes.json",
        "{\"a\": \"caf\\u00e9\", \"b\": \"x\\/y\"}\n",
    ),
    ("continuation.toml", "a = \"\"\"\\\n  one \\\n  two\"\"\"\n"),
];

fn input_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("json") => "json",
        Some("toml") => "toml",
        Some("ini") => "ini",
        Some("env") => "dotenv",
        _ => "yaml",
    }
}

#[test]
fn minimal_reproductions_round_trip_byte_for_byte() {
    let sb = Sandbox::new();
    let mut f = Failures::default();
    for (name, input) in ACCEPTED {
        let src = sb.write(name, input);
        let enc = run(sb.sopx().arg("encrypt").arg("--age").arg(pub1()).arg(&src));
        if !enc.ok() {
            f.check(name, Err(format!("encrypt failed: {}", enc.describe())));
            continue;
        }
        let encrypted = sb.write(&format!("enc/{name}"), &enc.stdout);
        let text = enc.stdout_str();
        if !enc_tokens(&text).iter().any(|t| t.contains("type:")) {
            f.check(name, Err("no value was encrypted".into()));
        }
        let dec = run(sb.sopx().arg("decrypt").arg(&encrypted));
        let res = if !dec.ok() {
            Err(format!("decrypt failed: {}", dec.describe()))
        } else if dec.stdout != input.as_bytes() {
            Err(first_difference(input.as_bytes(), &dec.stdout))
        } else {
            Ok(())
        };
        f.check(name, res);
    }
    f.finish("minimal reproductions (sopx round trip)");
}

#[test]
fn minimal_reproductions_open_with_sops_with_sops_data() {
    let Some(sops) = require_sops() else { return };
    let sb = Sandbox::new();
    let mut f = Failures::default();
    for (name, input) in ACCEPTED {
        let t = input_type(name);
        if t == "toml" {
            continue; // sops 3.11 has no TOML store
        }
        let src = sb.write(name, input);
        let enc = run(sb.sopx().arg("encrypt").arg("--age").arg(pub1()).arg(&src));
        if !enc.ok() {
            f.check(
                name,
                Err(format!("sopx encrypt failed: {}", enc.describe())),
            );
            continue;
        }
        let ours = sb.write(&format!("ours/{name}"), &enc.stdout);
        let theirs = run(sb.sops(&sops).args(["encrypt", "--age", &pub1()]).arg(&src));
        if !theirs.ok() {
            // sops refuses it (a file of comments only): sopx may do more.
            continue;
        }
        let theirs = sb.write(&format!("theirs/{name}"), &theirs.stdout);
        let json = |p: &std::path::Path| {
            run(sb
                .sops(&sops)
                .args(["decrypt", "--input-type", t, "--output-type", "json"])
                .arg(p))
        };
        let (a, b) = (json(&ours), json(&theirs));
        let res = if !a.ok() {
            Err(format!("sops cannot open sopx's file: {}", a.describe()))
        } else if a.stdout != b.stdout {
            Err(format!(
                "sops reads other data: {}",
                first_difference(&b.stdout, &a.stdout)
            ))
        } else if a.stderr.contains("unencrypted comment") {
            Err("sops finds a comment it cannot decrypt".into())
        } else {
            Ok(())
        };
        f.check(name, res);
        // And sopx reads sops's file with the same data.
        let mine = run(sb
            .sopx()
            .args(["decrypt", "--output-type", "json"])
            .arg(&theirs));
        let res = if !mine.ok() {
            Err(format!("sopx cannot open sops's file: {}", mine.describe()))
        } else {
            same_data(Format::Json, &b.stdout_str(), &mine.stdout_str())
        };
        f.check(&format!("{name} (sops's file)"), res);
    }
    f.finish("minimal reproductions (interop with sops)");
}

#[test]
fn comments_sops_encrypts_are_not_left_in_clear() {
    let sb = Sandbox::new();
    for (name, input, secret) in [
        ("c1.yaml", "a: 1\nb: |\n\n# secret-one\n", "secret-one"),
        ("c2.yaml", "---\n# secret-two\n", "secret-two"),
        (
            "c3.yaml",
            "w:\n  a: |\n    x\n\n  # secret-three\n  b: 1\n",
            "secret-three",
        ),
    ] {
        let src = sb.write(name, input);
        let enc = run(sb.sopx().arg("encrypt").arg("--age").arg(pub1()).arg(&src));
        enc.assert_ok(name);
        assert!(
            !enc.stdout_str().contains(secret),
            "{name}: comment left in clear"
        );
    }
}

#[test]
fn sops_comment_lists_decrypt_to_empty_lists() {
    // sops writes `a: []  # note` as a list holding one encrypted comment.
    let Some(sops) = require_sops() else { return };
    let sb = Sandbox::new();
    let src = sb.write("l.yaml", "a: []  # note\nb: 1\n");
    let enc = run(sb.sops(&sops).args(["encrypt", "--age", &pub1()]).arg(&src));
    enc.assert_ok("sops encrypt");
    let enc = sb.write("l.enc.yaml", &enc.stdout);
    let d = run(sb
        .sopx()
        .args(["decrypt", "--output-type", "json"])
        .arg(&enc));
    d.assert_ok("sopx decrypt --output-type json");
    same_data(Format::Json, "{\"a\": [], \"b\": 1}", &d.stdout_str()).unwrap();
    let d = run(sb.sopx().arg("decrypt").arg(&enc));
    d.assert_ok("sopx decrypt");
    assert!(d.stdout_str().starts_with("a: []"), "{}", d.stdout_str());
    assert!(d.stdout_str().contains("# note"));
}

#[test]
fn non_string_keys_are_refused_and_nothing_is_written() {
    let sb = Sandbox::new();
    let src = sb.write("k.yaml", "a: {{x}}\n");
    let r = run(sb
        .sopx()
        .args(["encrypt", "-i", "--age", &pub1()])
        .arg(&src));
    r.assert_code(2, "non-string key");
    assert!(r.stderr.contains("not a string"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&src).unwrap(), "a: {{x}}\n");
}

#[test]
fn layout_hint_is_ignored_when_it_does_not_fit() {
    // A hint from another file (or a forged one) never changes the data:
    // the output falls back to the encrypted file's own layout.
    let sb = Sandbox::new();
    let a = sb.write("a.yaml", "base: &b\n  x: 1\nc: *b\n");
    let b = sb.write("b.yaml", "base: &b\n  x: 2\nc: *b\n");
    let ea = run(sb.sopx().arg("encrypt").arg("--age").arg(pub1()).arg(&a));
    let eb = run(sb.sopx().arg("encrypt").arg("--age").arg(pub1()).arg(&b));
    ea.assert_ok("encrypt a");
    eb.assert_ok("encrypt b");
    let hint = |t: &str| {
        t.lines()
            .find(|l| l.trim_start().starts_with("sopx_layout:"))
            .map(str::to_string)
            .expect("a file with aliases carries a layout hint")
    };
    let (ta, tb) = (ea.stdout_str(), eb.stdout_str());
    // b's hint in a: it decrypts (same key? no: another data key) or not;
    // either way a's data must come out.
    let forged = ta.replace(&hint(&ta), &hint(&tb));
    let f = sb.write("forged.yaml", &forged);
    let d = run(sb.sopx().arg("decrypt").arg(&f));
    d.assert_ok("decrypt with a foreign hint");
    let out = d.stdout_str();
    assert!(out.contains("x: 1") && !out.contains("x: 2"), "{out}");
    assert!(d.stderr.contains("sopx_layout"), "{}", d.stderr);
}
