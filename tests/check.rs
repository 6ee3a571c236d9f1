//! `sopx check`, the pre-commit check: one line per problem,
//! `path:line: message`, no keys needed (but for `--verify`).

mod common;

use common::*;

const PLAIN: &str = "db:\n  user: app\n  password: hunter2\nport: 5432\n";

fn setup(sb: &Sandbox, recipients: &str) -> std::path::PathBuf {
    sb.write(
        ".sops.yaml",
        format!("creation_rules:\n  - path_regex: \\.yaml$\n    age: {recipients}\n"),
    );
    let f = sb.write("s.yaml", PLAIN);
    run(sb.sopx().args(["encrypt", "-i"]).arg(&f)).assert_ok("encrypt -i");
    f
}

fn check(sb: &Sandbox, f: &std::path::Path, extra: &[&str]) -> Run {
    run(sb.sopx().arg("check").args(extra).arg(f))
}

#[test]
fn a_good_file_passes() {
    let sb = Sandbox::new();
    let f = setup(&sb, &pub1());
    check(&sb, &f, &[]).assert_ok("check");
    check(&sb, &f, &["--verify"]).assert_ok("check --verify");
}

#[test]
fn a_value_edited_into_the_encrypted_file_in_clear_is_found() {
    let sb = Sandbox::new();
    let f = setup(&sb, &pub1());
    let text = std::fs::read_to_string(&f).unwrap();
    let line = text.lines().position(|l| l.contains("password:")).unwrap() + 1;
    let edited: String = text
        .lines()
        .map(|l| {
            if l.contains("password:") {
                "  password: new-secret-in-clear".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    std::fs::write(&f, edited).unwrap();
    let r = check(&sb, &f, &[]);
    r.assert_code(1, "check");
    let want = format!("s.yaml:{line}: [\"db\"][\"password\"]: value in clear");
    assert!(r.stderr.contains(&want), "{}", r.stderr);
    assert!(
        !r.stderr.contains("new-secret-in-clear"),
        "the value is quoted"
    );
}

#[test]
fn malformed_tokens_and_metadata_are_found() {
    let sb = Sandbox::new();
    let f = setup(&sb, &pub1());
    let text = std::fs::read_to_string(&f).unwrap();
    let bad = text.replacen(",iv:", ",iv:!!", 1);
    std::fs::write(&f, &bad).unwrap();
    let r = check(&sb, &f, &[]);
    r.assert_code(1, "check");
    assert!(
        r.stderr.contains("malformed ENC[...] token"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("s.yaml:2: [\"db\"][\"user\"]: malformed"),
        "{}",
        r.stderr
    );

    // A plaintext file with a fake sops block is not an encrypted file.
    let fake = sb.write("fake.yaml", "password: hunter2\nsops:\n    mac: x\n");
    let r = check(&sb, &fake, &[]);
    r.assert_code(1, "check fake");
    assert!(
        r.stderr.contains("fake.yaml: malformed sops metadata"),
        "{}",
        r.stderr
    );
}

#[test]
fn recipients_that_differ_from_sops_yaml_are_stale() {
    let sb = Sandbox::new();
    let f = setup(&sb, &pub1());
    sb.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - path_regex: \\.yaml$\n    age: {},{}\n",
            pub1(),
            pub2()
        ),
    );
    let r = check(&sb, &f, &[]);
    r.assert_code(1, "check");
    assert!(r.stderr.contains("run `sopx updatekeys"), "{}", r.stderr);
    run(sb.sopx().args(["updatekeys", "-y"]).arg(&f)).assert_ok("updatekeys");
    check(&sb, &f, &[]).assert_ok("check after updatekeys");
}

#[test]
fn verify_checks_the_mac_with_the_keys() {
    let sb = Sandbox::new();
    let f = setup(&sb, &pub1());
    // Swap two values' tokens: each token is well formed, the MAC fails.
    let text = std::fs::read_to_string(&f).unwrap();
    let toks = enc_tokens(&text);
    let swapped = text
        .replacen(&toks[0], "@@", 1)
        .replacen(&toks[1], &toks[0], 1)
        .replacen("@@", &toks[1], 1);
    std::fs::write(&f, swapped).unwrap();
    check(&sb, &f, &[]).assert_ok("without --verify the form is fine");
    let r = check(&sb, &f, &["--verify"]);
    r.assert_code(1, "check --verify");
    assert!(r.stderr.contains("does not verify"), "{}", r.stderr);
}
