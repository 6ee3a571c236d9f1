//! Hostile input that must be refused quickly and cleanly, in every
//! command that reads it: YAML alias bombs, nesting deep enough to
//! overflow a recursive walk, and a deep `.sops.yaml` (issue 8, items 5
//! and 6).

mod common;

use std::path::{Path, PathBuf};

use common::*;

/// 393 bytes that expand to 9^9 strings.
fn alias_bomb() -> String {
    let names = "abcdefghi".as_bytes();
    let mut s = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for i in 1..9 {
        let (n, p) = (names[i] as char, names[i - 1] as char);
        let refs = vec![format!("*{p}"); 9].join(",");
        s.push_str(&format!("{n}: &{n} [{refs}]\n"));
    }
    s
}

/// `levels` mappings, each inside the previous one, in block style.
fn deep_yaml(levels: usize) -> String {
    let mut s = String::new();
    for i in 0..levels - 1 {
        s.push_str(&" ".repeat(i));
        s.push_str(&format!("k{i}:\n"));
    }
    s.push_str(&" ".repeat(levels - 1));
    s.push_str("v: secret\n");
    s
}

/// A fake `sops` block, so that decrypt gets past "not encrypted".
const FAKE_SOPS: &str =
    "sops:\n  mac: x\n  lastmodified: \"2024-01-01T00:00:00Z\"\n  age: []\n  version: 3.11.0\n";

/// Runs `args` on `file` (with `.sops.yaml` where `check` needs one) and
/// requires a refusal within 60 s whose message contains `want`.
fn refused(sb: &Sandbox, args: &[&str], file: &Path, want: &str) {
    let r = run_timeout(sb.sopx().args(args).arg(file), 60)
        .unwrap_or_else(|| panic!("sopx {args:?} did not finish in 60 s"));
    assert!(
        !r.ok() && r.code.is_some(),
        "sopx {args:?} was not refused cleanly: {}",
        r.describe()
    );
    assert!(
        r.stderr.contains(want),
        "sopx {args:?}: expected {want:?} in: {}",
        r.stderr
    );
}

/// Every command that reads a file refuses it with `want`, `edit`
/// included (the editor writes it) without leaving its plaintext behind.
fn every_command_refuses(body: &str, want: &str) {
    let sb = Sandbox::new();
    std::fs::write(
        sb.work().join(".sops.yaml"),
        format!(
            "creation_rules:\n  - path_regex: \\.yaml$\n    age: {}\n",
            pub1()
        ),
    )
    .unwrap();
    let plain = sb.write("plain.yaml", body);
    let fake = sb.write("fake.yaml", format!("{body}{FAKE_SOPS}"));
    refused(&sb, &["encrypt", "--age", &pub1()], &plain, want);
    refused(&sb, &["decrypt"], &fake, want);
    refused(&sb, &["filestatus"], &plain, want);
    refused(&sb, &["filestatus"], &fake, want);
    refused(&sb, &["check"], &plain, want);
    refused(&sb, &["check"], &fake, want);
    refused(&sb, &["edit"], &fake, want);

    // The editor writes the hostile text into a good file's plaintext.
    let good = sb.write("good.yaml", "password: hunter2\n");
    run(sb.sopx().args(["encrypt", "-i"]).arg(&good)).assert_ok("encrypt -i");
    let payload = sb.root().join("payload.yaml");
    std::fs::write(&payload, body).unwrap();
    let script = sb.root().join("editor.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\ncp '{}' \"$1\"\n", payload.display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let r = run_timeout(sb.sopx().env("EDITOR", &script).arg("edit").arg(&good), 60)
        .expect("edit did not finish in 60 s");
    assert!(
        !r.ok() && r.code.is_some() && r.stderr.contains(want),
        "edit: {}",
        r.describe()
    );
    let left: Vec<PathBuf> = std::fs::read_dir(sb.tmp())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(left.is_empty(), "edit left {left:?} behind");
}

#[test]
fn yaml_alias_bomb_is_refused_by_every_command() {
    let bomb = alias_bomb();
    assert!(bomb.len() < 400);
    every_command_refuses(&bomb, "excessive aliasing");
}

/// Ordinary use of aliases stays allowed, and fast: a few thousand values
/// from aliases in a document of a few thousand nodes.
#[test]
fn moderate_aliases_still_work() {
    let sb = Sandbox::new();
    let mut text: String = (0..2000).map(|i| format!("f{i}: v\n")).collect();
    text.push_str("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
    for i in 1..4 {
        let refs = vec![format!("*a{}", i - 1); 9].join(", ");
        text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    let f = sb.write("ok.yaml", &text);
    let r = run_timeout(
        sb.sopx().args(["encrypt", "-i", "--age", &pub1()]).arg(&f),
        60,
    )
    .expect("encrypt took over 60 s");
    r.assert_ok("encrypt with aliases");
    let d = run_timeout(sb.sopx().arg("decrypt").arg(&f), 60).expect("decrypt took over 60 s");
    d.assert_ok("decrypt");
    assert_eq!(d.stdout_str(), text);
}

#[test]
fn deep_yaml_is_refused_by_every_command_naming_the_line() {
    every_command_refuses(&deep_yaml(1001), "line 1001");
    // 30,000 block sequences on one line (`- - - … x`).
    every_command_refuses(&format!("k:\n{}x\n", "- ".repeat(30_000)), "too deep");
}

/// The limit itself is usable: 1,000 levels round-trip in YAML and JSON,
/// and convert between them.
#[test]
fn nesting_up_to_the_limit_works() {
    let sb = Sandbox::new();
    let yaml = deep_yaml(1000);
    let json = format!("{{\"a\": {}\"s\"{}}}\n", "[".repeat(999), "]".repeat(999));
    for (name, text) in [("d.yaml", &yaml), ("d.json", &json)] {
        let f = sb.write(name, text);
        run(sb.sopx().args(["encrypt", "-i", "--age", &pub1()]).arg(&f)).assert_ok(name);
        let d = run(sb.sopx().arg("decrypt").arg(&f));
        d.assert_ok(name);
        assert_eq!(&d.stdout_str(), text, "{name}");
        for to in ["json", "yaml"] {
            run(sb.sopx().args(["decrypt", "--output-type", to]).arg(&f)).assert_ok(to);
        }
        run(sb.sopx().arg("filestatus").arg(&f)).assert_ok(name);
    }
    let deeper = format!("{{\"a\": {}\"s\"{}}}\n", "[".repeat(1000), "]".repeat(1000));
    let f = sb.write("e.json", deeper);
    refused(&sb, &["encrypt", "--age", &pub1()], &f, "too deep");
}

/// A `.sops.yaml` nested 100,000 levels is refused at once (the YAML
/// library takes quadratic time on it).
#[test]
fn deep_sops_yaml_is_refused_quickly() {
    let sb = Sandbox::new();
    let f = sb.write("x.yaml", "a: b\n");
    for nested in [
        format!("{}1{}", "{a: ".repeat(100_000), "}".repeat(100_000)),
        format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
        format!(
            "\n{}",
            (0..1500)
                .map(|i| format!("{}k:\n", " ".repeat(i + 6)))
                .collect::<String>()
        ),
    ] {
        std::fs::write(
            sb.work().join(".sops.yaml"),
            format!("creation_rules:\n  - age: {}\n    x: {nested}\n", pub1()),
        )
        .unwrap();
        let t = std::time::Instant::now();
        refused(&sb, &["encrypt"], &f, "too deep");
        assert!(t.elapsed().as_secs() < 10, "took {:?}", t.elapsed());
    }
}
