//! sopx in git: stable re-encryption (`encrypt --reuse`, git:HEAD by
//! default for `-i` on tracked files), `sopx diff`, and `sopx decrypt` as a
//! git textconv driver, all against a real git repository.

mod common;

use std::path::Path;

use common::*;

fn git(sb: &Sandbox, args: &[&str]) -> Run {
    let r = run(sb
        .cmd("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args));
    r.assert_ok(&format!("git {args:?}"));
    r
}

/// A repository in `work/` with `secrets.yaml` encrypted and committed.
fn repo(sb: &Sandbox, plain: &str) -> std::path::PathBuf {
    git(sb, &["init", "-q", "-b", "main"]);
    let f = sb.write("secrets.yaml", plain);
    run(sb.sopx().args(["encrypt", "-i", "--age", &pub1()]).arg(&f)).assert_ok("encrypt -i");
    git(sb, &["add", "secrets.yaml"]);
    git(sb, &["commit", "-q", "-m", "secrets"]);
    f
}

/// Lines that differ between two texts (the longer side of a line diff).
fn changed(a: &str, b: &str) -> Vec<String> {
    let a: Vec<&str> = a.lines().collect();
    let b: Vec<&str> = b.lines().collect();
    let removed: Vec<String> = a
        .iter()
        .filter(|l| !b.contains(l))
        .map(|l| l.to_string())
        .collect();
    let added: Vec<String> = b
        .iter()
        .filter(|l| !a.contains(l))
        .map(|l| l.to_string())
        .collect();
    if removed.len() >= added.len() {
        removed
    } else {
        added
    }
}

const PLAIN: &str = "# database\ndb:\n  user: app\n  password: hunter2\n  port: 5432\napi:\n  token: abc123 # rotate monthly\n  tags: [a, b]\n";

#[test]
fn decrypt_edit_encrypt_in_place_changes_only_the_edited_value() {
    let sb = Sandbox::new();
    let f = repo(&sb, PLAIN);
    let committed = std::fs::read_to_string(&f).unwrap();
    run(sb.sopx().args(["decrypt", "-i"]).arg(&f)).assert_ok("decrypt -i");
    let edited = std::fs::read_to_string(&f)
        .unwrap()
        .replace("password: hunter2", "password: correct-horse");
    std::fs::write(&f, edited).unwrap();
    let e = run(sb.sopx().args(["encrypt", "-i"]).arg(&f));
    e.assert_ok("encrypt -i (reuse git:HEAD by default)");
    assert!(e.stderr.contains("git:HEAD"), "{}", e.stderr);
    let after = std::fs::read_to_string(&f).unwrap();
    let lines = changed(&committed, &after);
    assert!(
        lines.iter().all(|l| l.trim_start().starts_with("password:")
            || l.trim_start().starts_with("mac:")
            || l.trim_start().starts_with("lastmodified:")),
        "more than the value, mac and lastmodified changed: {lines:#?}"
    );
    assert!(lines.iter().any(|l| l.contains("password:")), "{lines:#?}");
    // It still opens, with the real sops too.
    let d = run(sb.sopx().arg("decrypt").arg(&f));
    d.assert_ok("decrypt");
    assert_eq!(d.stdout_str(), PLAIN.replace("hunter2", "correct-horse"));
    if let Some(sops) = require_sops() {
        run(sb.sops(&sops).arg("decrypt").arg(&f)).assert_ok("sops decrypt");
    }
    // --no-reuse encrypts afresh: every value changes.
    run(sb.sopx().args(["decrypt", "-i"]).arg(&f)).assert_ok("decrypt -i");
    run(sb
        .sopx()
        .args(["encrypt", "-i", "--no-reuse", "--age", &pub1()])
        .arg(&f))
    .assert_ok("encrypt --no-reuse");
    let fresh = std::fs::read_to_string(&f).unwrap();
    assert!(changed(&committed, &fresh).len() > 5);
}

#[test]
fn reuse_takes_a_path_or_a_revision() {
    let sb = Sandbox::new();
    let f = repo(&sb, PLAIN);
    let committed = std::fs::read_to_string(&f).unwrap();
    let old = sb.write("old.yaml", &committed);
    let p = sb.write("new.yaml", PLAIN.replace("5432", "5433"));
    let r = run(sb.sopx().args(["encrypt", "--reuse"]).arg(&old).arg(&p));
    r.assert_ok("encrypt --reuse PATH");
    let lines = changed(&committed, &r.stdout_str());
    assert!(lines.iter().any(|l| l.contains("port:")), "{lines:#?}");
    assert!(lines.len() <= 3, "{lines:#?}");
    // git:REV names this file at that revision.
    std::fs::write(&f, PLAIN.replace("abc123", "xyz789")).unwrap();
    let r = run(sb.sopx().args(["encrypt", "--reuse", "git:HEAD"]).arg(&f));
    r.assert_ok("encrypt --reuse git:HEAD");
    assert!(changed(&committed, &r.stdout_str()).len() <= 3);
    // A revision that looks like an option never reaches git as one.
    let trap = sb.tmp().join("written-by-git");
    let r = run(sb
        .sopx()
        .arg("encrypt")
        .arg("--reuse")
        .arg(format!("git:--output={}", trap.display()))
        .arg(&f));
    assert!(!r.ok());
    assert!(r.stderr.contains("not a git revision"), "{}", r.stderr);
    assert!(!Path::new(&trap).exists());
}

#[test]
fn diff_shows_plaintext_changes_and_textconv_works_in_git() {
    let sb = Sandbox::new();
    let f = repo(&sb, PLAIN);
    let committed = std::fs::read_to_string(&f).unwrap();
    let old = sb.write("old.yaml", &committed);
    let out = run(sb
        .sopx()
        .args(["set"])
        .arg(&f)
        .arg(r#"["db"]["port"]"#)
        .arg("6543"));
    out.assert_ok("set");
    let d = run(sb.sopx().arg("diff").arg(&old).arg(&f));
    assert_eq!(d.code, Some(1), "diff exits 1 when files differ");
    let text = d.stdout_str();
    assert!(text.contains("-  port: 5432\n+  port: 6543\n"), "{text}");
    assert!(!text.contains("ENC["), "{text}");
    let same = run(sb.sopx().arg("diff").arg(&old).arg(&old));
    same.assert_ok("no difference");
    assert!(same.stdout.is_empty());
    // REV:PATH
    let d = run(sb.sopx().arg("diff").arg("HEAD:secrets.yaml").arg(&f));
    assert!(d.stdout_str().contains("+  port: 6543"), "{}", d.describe());

    // git diff through the textconv driver.
    std::fs::write(sb.work().join(".gitattributes"), "*.yaml diff=sopx\n").unwrap();
    let conv = format!("{} decrypt", sopx_bin().display());
    git(&sb, &["config", "diff.sopx.textconv", &conv]);
    let g = git(&sb, &["diff"]);
    let text = g.stdout_str();
    assert!(text.contains("-  port: 5432"), "{text}");
    assert!(text.contains("+  port: 6543"), "{text}");
    git(&sb, &["commit", "-q", "-am", "port"]);
    let log = git(&sb, &["log", "-p", "-1"]);
    assert!(log.stdout_str().contains("+  port: 6543"));
}

/// git with the built sopx first on PATH (for the driver and textconv).
fn git_sopx(sb: &Sandbox, args: &[&str]) -> Run {
    let dir = sopx_bin().parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    run(sb
        .cmd("git")
        .env("PATH", path)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args))
}

/// A repository set up with `sopx git setup`, `secrets.yaml` committed on
/// main, and a branch `other` from there.
fn merge_repo(sb: &Sandbox) -> std::path::PathBuf {
    let f = repo(sb, PLAIN);
    let s = git_sopx(sb, &["status"]);
    s.assert_ok("status");
    let setup = run(sb
        .sopx()
        .env(
            "PATH",
            format!(
                "{}:{}",
                sopx_bin().parent().unwrap().display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .args(["git", "setup"]));
    setup.assert_ok("sopx git setup");
    assert!(
        setup.stdout_str().contains("merge.sopx.driver"),
        "{}",
        setup.stdout_str()
    );
    assert!(
        setup
            .stdout_str()
            .contains("/secrets.yaml diff=sopx merge=sopx")
    );
    // Idempotent: a second run changes nothing.
    let again = run(sb.sopx().args(["git", "setup"]));
    again.assert_ok("setup again");
    assert!(again.stdout.is_empty(), "{}", again.stdout_str());
    git(sb, &["add", ".gitattributes"]);
    git(sb, &["commit", "-q", "-m", "attributes"]);
    git(sb, &["branch", "other"]);
    f
}

fn set(sb: &Sandbox, f: &Path, path: &str, value: &str) {
    run(sb.sopx().arg("set").arg(f).arg(path).arg(value)).assert_ok("set");
}

#[test]
fn merge_driver_merges_separate_changes_cleanly() {
    let sb = Sandbox::new();
    let f = merge_repo(&sb);
    set(&sb, &f, r#"["db"]["port"]"#, "6543");
    git(&sb, &["commit", "-q", "-am", "port"]);
    let ours = std::fs::read_to_string(&f).unwrap();
    git(&sb, &["checkout", "-q", "other"]);
    set(&sb, &f, r#"["api"]["token"]"#, "\"new-token\"");
    git(&sb, &["commit", "-q", "-am", "token"]);
    let theirs = std::fs::read_to_string(&f).unwrap();
    git(&sb, &["checkout", "-q", "main"]);
    let m = git_sopx(&sb, &["merge", "-q", "--no-edit", "other"]);
    m.assert_ok("git merge with the sopx driver");
    let merged = std::fs::read_to_string(&f).unwrap();
    let d = run(sb.sopx().arg("decrypt").arg(&f));
    d.assert_ok("decrypt merged");
    assert_eq!(
        d.stdout_str(),
        PLAIN.replace("5432", "6543").replace("abc123", "new-token")
    );
    if let Some(sops) = require_sops() {
        run(sb.sops(&sops).arg("decrypt").arg(&f)).assert_ok("sops decrypt merged");
    }
    // Against each parent only the other side's value, mac and
    // lastmodified changed; everything else keeps its ciphertext.
    for (parent, value) in [(&ours, "token:"), (&theirs, "port:")] {
        let lines = changed(parent, &merged);
        assert!(
            lines.iter().all(|l| l.contains(value)
                || l.trim_start().starts_with("mac:")
                || l.trim_start().starts_with("lastmodified:")),
            "{lines:#?}"
        );
    }
}

#[test]
fn merge_driver_reports_conflicts_and_leaves_a_file_that_decrypts() {
    let sb = Sandbox::new();
    let f = merge_repo(&sb);
    set(&sb, &f, r#"["db"]["password"]"#, "\"ours-pw\"");
    git(&sb, &["commit", "-q", "-am", "ours"]);
    git(&sb, &["checkout", "-q", "other"]);
    set(&sb, &f, r#"["db"]["password"]"#, "\"theirs-pw\"");
    git(&sb, &["commit", "-q", "-am", "theirs"]);
    git(&sb, &["checkout", "-q", "main"]);
    let m = git_sopx(&sb, &["merge", "-q", "--no-edit", "other"]);
    assert!(!m.ok(), "a conflict must fail the merge");
    assert!(
        m.stderr.contains(r#"conflict at ["db"]["password"]"#),
        "{}",
        m.stderr
    );
    let text = std::fs::read_to_string(&f).unwrap();
    assert!(
        !text.contains("ours-pw") && !text.contains("theirs-pw"),
        "plaintext in the working tree"
    );
    let d = run(sb.sopx().arg("decrypt").arg(&f));
    d.assert_ok("the conflicted file still decrypts");
    let out = d.stdout_str();
    assert!(out.contains("password: ours-pw"), "{out}");
    assert!(
        out.contains("theirs: ") && out.contains("theirs-pw"),
        "{out}"
    );
}

#[test]
fn merge_driver_keeps_a_recipient_added_on_one_side() {
    let sb = Sandbox::new();
    let f = merge_repo(&sb);
    set(&sb, &f, r#"["db"]["port"]"#, "7000");
    git(&sb, &["commit", "-q", "-am", "value"]);
    git(&sb, &["checkout", "-q", "other"]);
    run(sb
        .sopx()
        .args(["rotate", "-i", "--add-age", &pub2()])
        .arg(&f))
    .assert_ok("add a recipient");
    // rotate gives a new data key: a real conflict of keys, refused cleanly.
    git(&sb, &["commit", "-q", "-am", "rotate"]);
    git(&sb, &["checkout", "-q", "main"]);
    let m = git_sopx(&sb, &["merge", "-q", "--no-edit", "other"]);
    assert!(!m.ok());
    assert!(m.stderr.contains("different data keys"), "{}", m.stderr);
    git(&sb, &["merge", "--abort"]);

    // updatekeys-style re-keying (same data key) merges.
    git(&sb, &["checkout", "-q", "-b", "rekey", "main~1"]);
    let cfg = format!(
        "creation_rules:\n  - path_regex: secrets\\.yaml$\n    age: {},{}\n",
        pub1(),
        pub2()
    );
    sb.write(".sops.yaml", cfg);
    run(sb.sopx().args(["updatekeys", "-y"]).arg(&f)).assert_ok("updatekeys");
    git(&sb, &["commit", "-q", "-am", "recipient"]);
    git(&sb, &["checkout", "-q", "main"]);
    let m = git_sopx(&sb, &["merge", "-q", "--no-edit", "rekey"]);
    m.assert_ok("merge a recipient change with a value change");
    let text = std::fs::read_to_string(&f).unwrap();
    assert!(text.contains(&pub2()), "the added recipient is kept");
    let d = run(sb.sopx().arg("decrypt").arg(&f));
    d.assert_ok("decrypt");
    assert!(d.stdout_str().contains("port: 7000"));
    // The new recipient opens it.
    let d2 = run(sb
        .sopx()
        .env("SOPS_AGE_KEY_FILE", key2())
        .arg("decrypt")
        .arg(&f));
    d2.assert_ok("decrypt with the added recipient's key");
}
