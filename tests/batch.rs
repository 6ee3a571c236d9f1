//! Whole-repository batch: `-r DIR` and several files for encrypt -i,
//! decrypt --output-dir, rotate -i, updatekeys -y, check and filestatus,
//! on a generated tree (nested directories, a .gitignore'd directory, a
//! hidden file, files no rule covers, a broken file).

mod common;

use std::path::{Path, PathBuf};

use common::*;

fn plain(i: usize) -> String {
    format!(
        "# file {i}\ndb:\n  user: app{i}\n  password: secret-{i}\nport: {}\n",
        5000 + i
    )
}

const COVERED: &[&str] = &[
    "secrets/a.yaml",
    "secrets/nested/b.yaml",
    "secrets/nested/deep/c.yaml",
    "secrets/d.json",
];

/// The tree; returns the covered files that encrypt.
fn tree(sb: &Sandbox) {
    sb.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - path_regex: ^secrets/.*\\.(yaml|json)$\n    age: {}\n",
            pub1()
        ),
    );
    for (i, f) in COVERED.iter().enumerate() {
        if f.ends_with(".json") {
            sb.write(f, format!("{{\"password\": \"secret-{i}\", \"n\": {i}}}\n"));
        } else {
            sb.write(f, plain(i));
        }
    }
    sb.write(".gitignore", "secrets/ignored/\n");
    sb.write("secrets/ignored/x.yaml", plain(90));
    sb.write("secrets/.hidden.yaml", plain(91));
    sb.write("other/plain.yaml", plain(92));
    sb.write("README.md", "# not a secret\n");
}

fn read(sb: &Sandbox, f: &str) -> String {
    std::fs::read_to_string(sb.work().join(f)).unwrap()
}

fn encrypted(text: &str) -> bool {
    text.contains("ENC[AES256_GCM") && text.contains("mac")
}

fn untouched(sb: &Sandbox) {
    assert_eq!(
        read(sb, "secrets/ignored/x.yaml"),
        plain(90),
        "gitignored file changed"
    );
    assert_eq!(
        read(sb, "secrets/.hidden.yaml"),
        plain(91),
        "hidden file changed"
    );
    assert_eq!(
        read(sb, "other/plain.yaml"),
        plain(92),
        "uncovered file changed"
    );
}

fn encrypt_all(sb: &Sandbox) {
    run(sb.sopx().args(["encrypt", "-i", "-r", "."])).assert_ok("encrypt -i -r");
    for f in COVERED {
        assert!(encrypted(&read(sb, f)), "{f} not encrypted");
    }
}

#[test]
fn encrypt_r_picks_covered_files_and_isolates_a_broken_one() {
    let sb = Sandbox::new();
    tree(&sb);
    let broken = "secrets/nested/broken.yaml";
    sb.write(broken, "a: [unclosed\n  b: {\n");
    let r = run(sb.sopx().args(["encrypt", "-i", "-r", "."]));
    r.assert_code(1, "encrypt -i -r with a broken file");
    assert!(
        r.stderr.contains("5 file(s): 4 done, 0 skipped, 1 failed"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&format!("failed: ./{broken}:")),
        "{}",
        r.stderr
    );
    assert_eq!(
        read(&sb, broken),
        "a: [unclosed\n  b: {\n",
        "broken file changed"
    );
    for f in COVERED {
        assert!(encrypted(&read(&sb, f)), "{f} not encrypted");
    }
    untouched(&sb);
    // Again, without the broken file: everything is already encrypted.
    std::fs::remove_file(sb.work().join(broken)).unwrap();
    let before: Vec<String> = COVERED.iter().map(|f| read(&sb, f)).collect();
    let r = run(sb.sopx().args(["encrypt", "-i", "-r", "."]));
    r.assert_ok("encrypt -i -r again");
    assert!(
        r.stderr.contains("0 done, 4 skipped, 0 failed"),
        "{}",
        r.stderr
    );
    let after: Vec<String> = COVERED.iter().map(|f| read(&sb, f)).collect();
    assert_eq!(before, after);
}

#[test]
fn several_files_without_r_encrypt_each_in_place() {
    let sb = Sandbox::new();
    tree(&sb);
    run(sb
        .sopx()
        .args(["encrypt", "-i", "secrets/a.yaml", "secrets/nested/b.yaml"]))
    .assert_ok("encrypt -i a b");
    assert!(encrypted(&read(&sb, "secrets/a.yaml")));
    assert!(encrypted(&read(&sb, "secrets/nested/b.yaml")));
    assert_eq!(read(&sb, "secrets/nested/deep/c.yaml"), plain(2));
}

#[test]
fn batch_needs_its_flags() {
    let sb = Sandbox::new();
    tree(&sb);
    run(sb.sopx().args(["encrypt", "-r", "."])).assert_code(8, "encrypt -r without -i");
    run(sb.sopx().args(["decrypt", "-r", "."])).assert_code(8, "decrypt -r without --output-dir");
    run(sb.sopx().args(["rotate", "-r", "."])).assert_code(8, "rotate -r without -i");
    run(sb.sopx().args(["updatekeys", "-r", "."])).assert_code(8, "updatekeys -r without -y");
    run(sb
        .sopx()
        .args(["decrypt", "--output", "x", "a.yaml", "b.yaml"]))
    .assert_code(8, "decrypt --output with two files");
    untouched(&sb);
    assert_eq!(read(&sb, "secrets/a.yaml"), plain(0));
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn decrypt_r_mirrors_the_tree_into_output_dir_0600_and_sops_agrees() {
    let sb = Sandbox::new();
    tree(&sb);
    encrypt_all(&sb);
    let out: PathBuf = sb.root().join("out");
    let r = run(sb
        .sopx()
        .args(["decrypt", "-r", "."])
        .arg("--output-dir")
        .arg(&out));
    r.assert_ok("decrypt -r --output-dir");
    assert!(
        r.stderr.contains("4 done, 0 skipped, 0 failed"),
        "{}",
        r.stderr
    );
    for (i, f) in COVERED.iter().enumerate() {
        let got = std::fs::read_to_string(out.join(f)).unwrap();
        if f.ends_with(".yaml") {
            assert_eq!(got, plain(i), "{f}");
        } else {
            assert!(got.contains(&format!("secret-{i}")), "{f}");
        }
        #[cfg(unix)]
        assert_eq!(mode(&out.join(f)), 0o600, "{f}");
    }
    #[cfg(unix)]
    assert_eq!(
        mode(&out.join("secrets/nested")) & 0o077,
        0,
        "directory mode"
    );
    assert!(!out.join("other").exists(), "a plaintext file was copied");
    assert!(!out.join("secrets/ignored").exists());
    // Several files, named.
    let out2 = sb.root().join("out2");
    run(sb
        .sopx()
        .args([
            "decrypt",
            "secrets/a.yaml",
            "secrets/nested/deep/c.yaml",
            "--output-dir",
        ])
        .arg(&out2))
    .assert_ok("decrypt a c --output-dir");
    assert_eq!(
        std::fs::read_to_string(out2.join("secrets/a.yaml")).unwrap(),
        plain(0)
    );
    assert_eq!(
        std::fs::read_to_string(out2.join("secrets/nested/deep/c.yaml")).unwrap(),
        plain(2)
    );
    // The real sops opens what the batch wrote.
    let Some(sops) = require_sops() else { return };
    for (i, f) in COVERED.iter().enumerate() {
        let r = run(sb.sops(&sops).arg("decrypt").arg(f));
        r.assert_ok(&format!("sops decrypt {f}"));
        assert!(r.stdout_str().contains(&format!("secret-{i}")), "{f}");
    }
}

#[test]
fn a_file_that_fails_to_decrypt_does_not_stop_the_others() {
    let sb = Sandbox::new();
    tree(&sb);
    encrypt_all(&sb);
    // Tamper with one file's ciphertext: its MAC no longer matches.
    let f = "secrets/nested/b.yaml";
    let text = read(&sb, f);
    let at = "password: ENC[AES256_GCM,data:";
    let i = text.find(at).unwrap() + at.len();
    let mut bytes = text.into_bytes();
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    std::fs::write(sb.work().join(f), &bytes).unwrap();
    let out = sb.root().join("out");
    let r = run(sb
        .sopx()
        .args(["decrypt", "-r", "secrets", "--output-dir"])
        .arg(&out));
    r.assert_code(1, "decrypt -r with a damaged file");
    assert!(
        r.stderr.contains("3 done, 0 skipped, 1 failed"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains(&format!("failed: {f}:")), "{}", r.stderr);
    assert!(!out.join(f).exists(), "a damaged file's output was written");
    assert_eq!(
        std::fs::read_to_string(out.join("secrets/a.yaml")).unwrap(),
        plain(0)
    );
}

#[test]
fn rotate_r_gives_every_file_a_new_data_key() {
    let sb = Sandbox::new();
    tree(&sb);
    encrypt_all(&sb);
    let before: Vec<String> = COVERED.iter().map(|f| read(&sb, f)).collect();
    run(sb.sopx().args(["rotate", "-i", "-r", "."])).assert_ok("rotate -i -r");
    for (i, f) in COVERED.iter().enumerate() {
        let after = read(&sb, f);
        assert!(encrypted(&after));
        assert_ne!(after, before[i], "{f} not rotated");
        let r = run(sb.sopx().arg("decrypt").arg(f));
        r.assert_ok("decrypt after rotate");
        assert!(r.stdout_str().contains(&format!("secret-{i}")));
    }
    untouched(&sb);
}

#[test]
fn updatekeys_r_and_check_r_follow_a_config_change() {
    let sb = Sandbox::new();
    tree(&sb);
    encrypt_all(&sb);
    run(sb.sopx().args(["check", "-r", "."])).assert_ok("check -r on a clean tree");
    // A plaintext file a rule covers, in the tree: check finds it.
    sb.write("secrets/new.yaml", plain(7));
    let r = run(sb.sopx().args(["check", "-r", "."]));
    r.assert_code(1, "check -r with a plaintext file");
    assert!(
        r.stderr.contains("./secrets/new.yaml:1: not encrypted"),
        "{}",
        r.stderr
    );
    std::fs::remove_file(sb.work().join("secrets/new.yaml")).unwrap();
    // A second recipient in .sops.yaml: stale until updatekeys.
    sb.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - path_regex: ^secrets/.*\\.(yaml|json)$\n    age: {},{}\n",
            pub1(),
            pub2()
        ),
    );
    let r = run(sb.sopx().args(["check", "-r", "."]));
    r.assert_code(1, "check -r, stale recipients");
    assert_eq!(
        r.stderr.matches("recipients differ").count(),
        4,
        "{}",
        r.stderr
    );
    let r = run(sb.sopx().args(["updatekeys", "-y", "-r", "."]));
    r.assert_ok("updatekeys -y -r");
    assert!(
        r.stderr.contains("4 done, 0 skipped, 0 failed"),
        "{}",
        r.stderr
    );
    for f in COVERED {
        assert!(
            read(&sb, f).contains(&pub2()),
            "{f} lacks the new recipient"
        );
    }
    run(sb.sopx().args(["check", "-r", "."])).assert_ok("check -r after updatekeys");
    let r = run(sb.sopx().args(["updatekeys", "-y", "-r", "."]));
    r.assert_ok("updatekeys again");
    assert!(r.stderr.contains("0 done, 4 skipped"), "{}", r.stderr);
}

#[test]
fn filestatus_r_prints_one_line_per_file() {
    let sb = Sandbox::new();
    tree(&sb);
    run(sb
        .sopx()
        .args(["encrypt", "-i", "secrets/a.yaml", "secrets/d.json"]))
    .assert_ok("encrypt two");
    let r = run(sb.sopx().args(["filestatus", "-r", "."]));
    r.assert_ok("filestatus -r");
    let lines: Vec<serde_json::Value> = r
        .stdout_str()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "{}", r.stdout_str());
    for v in &lines {
        let f = v["file"].as_str().unwrap();
        let want = f.ends_with("a.yaml") || f.ends_with("d.json");
        assert_eq!(v["encrypted"], want, "{f}");
    }
    // One file: sops's own output, unchanged.
    let r = run(sb.sopx().args(["filestatus", "secrets/a.yaml"]));
    assert_eq!(r.stdout_str().trim(), r#"{"encrypted":true}"#);
}

#[test]
fn encrypt_r_in_a_git_repository_reuses_head_for_minimal_diffs() {
    let sb = Sandbox::new();
    tree(&sb);
    let git = |args: &[&str]| {
        run(sb
            .cmd("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args))
        .assert_ok(&format!("git {args:?}"));
    };
    git(&["init", "-q"]);
    encrypt_all(&sb);
    git(&["add", "-A"]);
    git(&["commit", "-qm", "encrypted"]);
    let f = "secrets/nested/b.yaml";
    let before = read(&sb, f);
    run(sb.sopx().args(["decrypt", "-i", f])).assert_ok("decrypt -i");
    let edited = read(&sb, f).replace("secret-1", "changed-1");
    std::fs::write(sb.work().join(f), edited).unwrap();
    let r = run(sb.sopx().args(["encrypt", "-i", "-r", "."]));
    r.assert_ok("encrypt -i -r after an edit");
    assert!(r.stderr.contains("1 done, 3 skipped"), "{}", r.stderr);
    let after = read(&sb, f);
    let changed: Vec<(&str, &str)> = before
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(before.lines().count(), after.lines().count());
    for (a, _) in &changed {
        assert!(
            a.contains("password:") || a.contains("mac:") || a.contains("lastmodified:"),
            "unexpected change: {a}"
        );
    }
    assert!(changed.iter().any(|(a, _)| a.contains("password:")));
}

#[test]
fn output_dir_inside_the_walked_tree_is_refused() {
    let sb = Sandbox::new();
    tree(&sb);
    encrypt_all(&sb);
    let inside = sb.work().join("plain-out");
    let r = run(sb
        .sopx()
        .args(["decrypt", "-r", "."])
        .arg("--output-dir")
        .arg(&inside));
    r.assert_code(8, "an output dir inside the tree");
    assert!(r.stderr.contains("inside"), "{}", r.stderr);
    assert!(!inside.exists(), "nothing is written");
}
