//! sopx installed as `sops`: a symlink named `sops` to the built binary, in
//! a directory put first on PATH, run with the command lines that sops's
//! users and integrations send (helm-secrets, vscode-sops, Ansible's
//! community.sops, the IntelliJ plugin, sops.nvim and mise, git textconv,
//! pre-commit hooks), and with the bits of sops's grammar sopx used to
//! reject. Wherever the output can be compared, the real sops runs the
//! same command line and must agree.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// A sandbox whose PATH starts with a directory holding `sops` -> sopx.
struct DropIn {
    sb: Sandbox,
    bin: PathBuf,
}

impl DropIn {
    fn new() -> DropIn {
        let sb = Sandbox::new();
        let bin = sb.root().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::os::unix::fs::symlink(sopx_bin(), bin.join("sops")).unwrap();
        DropIn { sb, bin }
    }

    fn path_var(&self) -> std::ffi::OsString {
        let mut dirs = vec![self.bin.clone()];
        if let Some(p) = std::env::var_os("PATH") {
            dirs.extend(std::env::split_paths(&p));
        }
        std::env::join_paths(dirs).unwrap()
    }

    /// `sops ARGS` as an integration runs it: found on PATH.
    fn sops(&self, args: &[&str]) -> Command {
        let mut c = self.sb.cmd("sops");
        c.env("PATH", self.path_var()).args(args);
        c
    }

    /// The same command line with the real sops.
    fn real(&self, sops: &Path, args: &[&str]) -> Command {
        let mut c = self.sb.cmd(sops);
        c.args(args);
        c
    }

    fn work(&self) -> PathBuf {
        self.sb.work()
    }

    fn write(&self, name: &str, data: impl AsRef<[u8]>) -> PathBuf {
        self.sb.write(name, data)
    }

    /// `name` (plaintext `plain`) encrypted by sopx for the test key.
    fn encrypted(&self, name: &str, plain: &str) -> PathBuf {
        let p = self.write(name, plain);
        let r = run(&mut self.sops(&["encrypt", "--age", &pub1(), "-i", name]));
        r.assert_ok("encrypt -i");
        p
    }

    /// Whether the sandbox's temporary directory is empty.
    fn tmp_is_empty(&self) -> bool {
        std::fs::read_dir(self.sb.tmp()).unwrap().next().is_none()
    }
}

const PLAIN: &str = "# db\npassword: hunter2\nport: 5432\ntls:\n  key: |-\n    multi\n    line\n";

fn text(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

// ---------------------------------------------------------------------------
// --version

#[test]
fn version_as_sops_and_as_sopx() {
    let d = DropIn::new();
    let re = regex::Regex::new(r"^sops (\d+)\.(\d+)\.(\d+)").unwrap();
    for args in [
        &["--version"][..],
        &["--version", "--disable-version-check"],
        &["-v"],
    ] {
        let r = run(&mut d.sops(args));
        r.assert_ok("sops --version");
        let out = r.stdout_str();
        let caps = re.captures(&out).unwrap_or_else(|| panic!("{out}"));
        // IntelliJ's plugin wants at least 3.10, Ansible picks its syntax from it.
        assert_eq!((&caps[1], &caps[2]), ("3", "11"), "{out}");
        assert!(out.contains("(sopx "), "{out}");
    }
    let r = run(&mut d.sops(&["--version", "--check-for-updates"]));
    r.assert_ok("--check-for-updates");
    assert!(
        r.stderr.contains("never contacts the network"),
        "{}",
        r.stderr
    );
    let r = run(d.sb.sopx().arg("--version"));
    assert!(r.stdout_str().starts_with("sopx "), "{}", r.stdout_str());
}

// ---------------------------------------------------------------------------
// sops's grammar

#[test]
fn global_flags_before_the_subcommand() {
    let d = DropIn::new();
    d.encrypted("s.yaml", PLAIN);
    let cfg = d.write(
        "cfg/.sops.yaml",
        format!("creation_rules:\n  - age: {}\n", pub1()),
    );
    let cfg = cfg.to_str().unwrap();
    let r = run(&mut d.sops(&["--config", cfg, "decrypt", "s.yaml"]));
    r.assert_ok("--config before decrypt");
    assert_eq!(r.stdout_str(), PLAIN);
    d.write("p.yaml", PLAIN);
    let r = run(&mut d.sops(&["--verbose", "--config", cfg, "encrypt", "p.yaml"]));
    r.assert_ok("--verbose before encrypt");
    assert!(r.stdout_str().contains("ENC["));
    if let Some(sops) = require_sops() {
        let r2 = run(&mut d.real(&sops, &["--config", cfg, "decrypt", "s.yaml"]));
        r2.assert_ok("real sops --config before decrypt");
        // sops writes its own layout; the data is the same.
        assert!(r2.stdout_str().contains("password: hunter2"));
    }
}

#[test]
fn subcommand_flags_before_the_subcommand_are_ignored_as_by_sops() {
    let d = DropIn::new();
    d.write("x.yaml", "a: 1\n");
    let args = ["--in-place", "encrypt", "--age", &pub1(), "x.yaml"];
    let r = run(&mut d.sops(&args));
    r.assert_ok("--in-place before encrypt");
    assert!(r.stdout_str().contains("ENC["));
    assert!(
        r.stderr.contains("--in-place before `encrypt` is ignored"),
        "{}",
        r.stderr
    );
    assert_eq!(text(&d.work().join("x.yaml")), "a: 1\n");
    if let Some(sops) = require_sops() {
        let r2 = run(&mut d.real(&sops, &args));
        r2.assert_ok("real sops, --in-place before encrypt");
        assert!(r2.stdout_str().contains("ENC["));
        assert_eq!(text(&d.work().join("x.yaml")), "a: 1\n");
    }
}

#[test]
fn repeated_flags_last_wins_and_config_dev_null_is_empty() {
    let d = DropIn::new();
    d.write("p.yaml", PLAIN);
    let cfg = d.write(
        "c/.sops.yaml",
        format!("creation_rules:\n  - age: {}\n", pub2()),
    );
    let cfg = cfg.to_str().unwrap();
    // vscode-sops's new-file call: two --config flags, the last one wins.
    let r = run(&mut d.sops(&[
        "--config",
        "/dev/null",
        "--config",
        cfg,
        "encrypt",
        "p.yaml",
    ]));
    r.assert_ok("two --config");
    assert!(r.stdout_str().contains(&pub2()) && !r.stdout_str().contains(&pub1()));
    let r = run(&mut d.sops(&["encrypt", "--age", &pub1(), "--age", &pub2(), "p.yaml"]));
    r.assert_ok("two --age");
    assert!(r.stdout_str().contains(&pub2()) && !r.stdout_str().contains(&pub1()));
    // /dev/null: an empty config (no rule), not an error about the file.
    let r = run(&mut d.sops(&["encrypt", "--config", "/dev/null", "p.yaml"]));
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(!r.stderr.contains("regular file"), "{}", r.stderr);
    let r = run(&mut d.sops(&[
        "encrypt",
        "--config",
        "/dev/null",
        "--age",
        &pub1(),
        "p.yaml",
    ]));
    r.assert_ok("--config /dev/null with --age");
    if let Some(sops) = require_sops() {
        let r2 = run(&mut d.real(&sops, &["encrypt", "--config", "/dev/null", "p.yaml"]));
        assert_eq!(r2.code, Some(1), "{}", r2.stderr);
        let r2 = run(&mut d.real(
            &sops,
            &[
                "--config",
                "/dev/null",
                "--config",
                cfg,
                "encrypt",
                "p.yaml",
            ],
        ));
        r2.assert_ok("real sops, two --config");
        assert!(r2.stdout_str().contains(&pub2()));
    }
}

#[test]
fn unknown_type_names_count_as_not_given_as_by_sops() {
    let d = DropIn::new();
    let enc = d.encrypted("s.yaml", PLAIN);
    let enc = enc.to_str().unwrap();
    for args in [
        &["decrypt", "--input-type", "yml", enc][..],
        &["decrypt", "--output-type", "foo", enc][..],
    ] {
        let r = run(&mut d.sops(args));
        r.assert_ok(&format!("{args:?}"));
        assert_eq!(r.stdout_str(), PLAIN, "{args:?}");
        assert!(r.stderr.contains("unknown file type"), "{}", r.stderr);
        if let Some(sops) = require_sops() {
            let r2 = run(&mut d.real(&sops, args));
            r2.assert_ok(&format!("real sops {args:?}"));
            // sops re-indents; the data is what counts.
            assert!(r2.stdout_str().contains("password: hunter2"), "{args:?}");
        }
    }
    // A known name is used: this YAML is not JSON.
    let r = run(&mut d.sops(&["decrypt", "--input-type", "json", enc]));
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    // clap lists the names, for --help and the completions.
    let r = run(&mut d.sops(&["decrypt", "--help"]));
    assert!(
        r.stdout_str()
            .contains("[possible values: yaml, json, dotenv, ini, toml, binary]"),
        "{}",
        r.stdout_str()
    );
}

#[test]
fn groups_add_key_flags_repeat() {
    let d = DropIn::new();
    d.encrypted("s.yaml", PLAIN);
    let r = run(&mut d.sops(&[
        "groups",
        "add",
        "--file",
        "s.yaml",
        "--age",
        &pub1(),
        "--age",
        &pub2(),
        "-i",
    ]));
    r.assert_ok("groups add --age A --age B");
    let t = text(&d.work().join("s.yaml"));
    assert_eq!(t.matches(&pub2()).count(), 1, "{t}");
    assert_eq!(t.matches(&pub1()).count(), 2, "{t}");
}

#[test]
fn stdin_when_no_file_is_given() {
    let d = DropIn::new();
    let enc = d.encrypted("s.yaml", PLAIN);
    let src = std::fs::read(&enc).unwrap();
    let r = run_stdin(
        &mut d.sops(&["decrypt", "--filename-override", "s.yaml"]),
        &src,
    );
    r.assert_ok("decrypt from stdin");
    assert_eq!(r.stdout_str(), PLAIN);
    let r = run_stdin(
        &mut d.sops(&["encrypt", "--filename-override", "x.yaml", "--age", &pub1()]),
        PLAIN.as_bytes(),
    );
    r.assert_ok("encrypt from stdin");
    let back = run_stdin(&mut d.sops(&["-d", "--input-type", "yaml"]), &r.stdout);
    back.assert_ok("legacy -d from stdin");
    assert_eq!(back.stdout_str(), PLAIN);
    // No name for stdin: refused, as sops does (exit 8).
    let r = run_stdin(
        &mut d.sops(&["encrypt", "--age", &pub1()]),
        PLAIN.as_bytes(),
    );
    assert_eq!(r.code, Some(8), "{}", r.stderr);
    assert!(r.stderr.contains("--filename-override"), "{}", r.stderr);
    if let Some(sops) = require_sops() {
        let r2 = run_stdin(
            &mut d.real(&sops, &["decrypt", "--filename-override", "s.yaml"]),
            &src,
        );
        r2.assert_ok("real sops decrypt from stdin");
        let r2 = run_stdin(
            &mut d.real(&sops, &["encrypt", "--age", &pub1()]),
            PLAIN.as_bytes(),
        );
        assert_eq!(r2.code, Some(8), "{}", r2.stderr);
    }
}

#[test]
fn extract_gives_exact_bytes() {
    let d = DropIn::new();
    d.encrypted("s.yaml", PLAIN);
    let r = run(&mut d.sops(&["decrypt", "--extract", r#"["tls"]["key"]"#, "s.yaml"]));
    r.assert_ok("extract");
    assert_eq!(r.stdout, b"multi\nline");
    let out = d.work().join("key.pem");
    let r = run(&mut d.sops(&[
        "decrypt",
        "--extract",
        r#"["tls"]["key"]"#,
        "--output",
        out.to_str().unwrap(),
        "s.yaml",
    ]));
    r.assert_ok("extract --output");
    assert_eq!(std::fs::read(&out).unwrap(), b"multi\nline");
    if let Some(sops) = require_sops() {
        let r2 = run(&mut d.real(
            &sops,
            &["decrypt", "--extract", r#"["tls"]["key"]"#, "s.yaml"],
        ));
        assert_eq!(r2.stdout, b"multi\nline");
    }
}

#[test]
fn legacy_set_rotate_show_master_keys_and_indent() {
    let d = DropIn::new();
    d.encrypted("s.yaml", PLAIN);
    let r = run(&mut d.sops(&["--set", r#"["password"] "aaa""#, "s.yaml"]));
    r.assert_ok("--set");
    let r = run(&mut d.sops(&["-d", "--extract", r#"["password"]"#, "s.yaml"]));
    assert_eq!(r.stdout, b"aaa");
    let before = text(&d.work().join("s.yaml"));
    let r = run(&mut d.sops(&["-r", "-i", "s.yaml"]));
    r.assert_ok("-r -i");
    let after = text(&d.work().join("s.yaml"));
    assert_ne!(before, after);
    let r = run(&mut d.sops(&["-d", "s.yaml"]));
    assert!(r.stdout_str().contains("password: aaa"));
    // -s is accepted (edit mode); a no-op editor leaves the file as it is.
    let r = run(d.sops(&["-s", "s.yaml"]).env("EDITOR", "true"));
    assert_eq!(r.code, Some(200), "{}", r.stderr);
    assert!(r.stderr.contains("--show-master-keys"), "{}", r.stderr);
    // --indent: where sopx writes new layout (here JSON converted from YAML).
    let r = run(&mut d.sops(&["--indent", "2", "-d", "--output-type", "json", "s.yaml"]));
    r.assert_ok("--indent");
    assert!(
        r.stdout_str().contains("\n  \"password\": \"aaa\""),
        "{}",
        r.stdout_str()
    );
    if let Some(sops) = require_sops() {
        let r2 = run(&mut d.real(
            &sops,
            &["--indent", "2", "-d", "--output-type", "json", "s.yaml"],
        ));
        assert_eq!(r2.stdout_str(), r.stdout_str());
    }
    let r = run(&mut d.sops(&["--disable-version-check", "-d", "s.yaml"]));
    r.assert_ok("--disable-version-check");
}

#[test]
fn indent_for_converted_yaml_and_json_matches_sops() {
    let d = DropIn::new();
    d.encrypted(
        "k.json",
        r#"{"z":[[1,[2,3],{"a":[[4]],"b":{"c":[5]}},[],{}]],"m":"x\ny","q":[{"r":[[6,7]]}],"t":{}}"#,
    );
    let Some(sops) = require_sops() else { return };
    // The same data in YAML, for JSON output (JSON to JSON stays lossless).
    let yaml = run(&mut d.sops(&["-d", "--output-type", "yaml", "k.json"]));
    d.encrypted("k.yaml", &yaml.stdout_str());
    for n in ["2", "3", "4", "6"] {
        for (out, file) in [("yaml", "k.json"), ("json", "k.yaml")] {
            let args = ["--indent", n, "-d", "--output-type", out, file];
            let (a, b) = (run(&mut d.sops(&args)), run(&mut d.real(&sops, &args)));
            a.assert_ok("sopx --indent");
            assert_eq!(
                a.stdout_str(),
                b.stdout_str(),
                "--indent {n} --output-type {out}"
            );
        }
    }
    for (out, file) in [("yaml", "k.json"), ("json", "k.yaml")] {
        let args = ["-d", "--output-type", out, file];
        let (a, b) = (run(&mut d.sops(&args)), run(&mut d.real(&sops, &args)));
        assert_eq!(a.stdout_str(), b.stdout_str(), "--output-type {out}");
    }
}

#[test]
fn set_output_type_converts_the_file() {
    let d = DropIn::new();
    d.encrypted("s.json", "{\"a\": \"x\", \"b\": 1}\n");
    let r = run(&mut d.sops(&[
        "set",
        "--output-type",
        "yaml",
        "s.json",
        r#"["a"]"#,
        r#""y""#,
    ]));
    r.assert_ok("set --output-type yaml");
    let t = text(&d.work().join("s.json"));
    assert!(t.starts_with("a: ENC["), "{t}");
    let r = run(&mut d.sops(&[
        "-d",
        "--input-type",
        "yaml",
        "--output-type",
        "json",
        "s.json",
    ]));
    r.assert_ok("decrypt converted");
    assert!(
        r.stdout_str().contains("\"a\": \"y\""),
        "{}",
        r.stdout_str()
    );
    if let Some(sops) = require_sops() {
        let r2 = run(&mut d.real(&sops, &["-d", "--input-type", "yaml", "s.json"]));
        r2.assert_ok("real sops opens the converted file");
    }
}

#[test]
fn unknown_type_names_fall_back_to_the_extension() {
    let d = DropIn::new();
    d.encrypted("s.yaml", PLAIN);
    for (i, o) in [("plaintext", "env"), ("yml", "plaintext")] {
        let args = ["decrypt", "--input-type", i, "--output-type", o, "s.yaml"];
        let r = run(&mut d.sops(&args));
        r.assert_ok("unknown types");
        assert_eq!(r.stdout_str(), PLAIN);
        if let Some(sops) = require_sops() {
            let r2 = run(&mut d.real(&sops, &args));
            r2.assert_ok("real sops, unknown types");
            assert!(r2.stdout_str().contains("password: hunter2"));
        }
    }
}

#[test]
fn command_words_are_never_file_names() {
    let d = DropIn::new();
    for word in [
        "exec-env",
        "exec-file",
        "publish",
        "keyservice",
        "completion",
        "groups",
        "updatekeys",
        "filestatus",
        "rotate",
        "set",
        "unset",
        "edit",
        "encrypt",
        "decrypt",
        "help",
        "h",
    ] {
        let _ = run(d.sops(&[word]).env("EDITOR", "true"));
        let left: Vec<_> = std::fs::read_dir(d.work()).unwrap().collect();
        assert!(left.is_empty(), "`sops {word}` created {left:?}");
    }
}

#[test]
fn only_the_rule_used_is_validated() {
    let d = DropIn::new();
    d.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - path_regex: ^hw/\n    age: age1yubikey1qwertyuiopasdfghjklzxcvbnm\n    pgp: not-a-fingerprint\n  - age: {}\n",
            pub1()
        ),
    );
    d.write("p.yaml", PLAIN);
    let r = run(&mut d.sops(&["encrypt", "p.yaml"]));
    r.assert_ok("encrypt with an exotic rule elsewhere");
    if let Some(sops) = require_sops() {
        let r2 = run(&mut d.real(&sops, &["encrypt", "p.yaml"]));
        r2.assert_ok("real sops, exotic rule elsewhere");
    }
    // The rule that applies is still checked.
    d.write("hw/p.yaml", PLAIN);
    let r = run(&mut d.sops(&["encrypt", "hw/p.yaml"]));
    assert!(!r.ok());
    assert!(r.stderr.contains(".sops.yaml"), "{}", r.stderr);
}

#[test]
fn editor_is_split_with_shell_rules() {
    let d = DropIn::new();
    d.encrypted("s.yaml", PLAIN);
    let dir = d.sb.root().join("my tools");
    std::fs::create_dir_all(&dir).unwrap();
    let ed = dir.join("ed it.sh");
    std::fs::write(&ed, "#!/bin/sh\nsed -i 's/hunter2/changed/' \"$2\"\n").unwrap();
    std::fs::set_permissions(&ed, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    // IntelliJ's escaped spaces, and an argument before the file.
    let escaped = format!("{} --wait", ed.display().to_string().replace(' ', "\\ "));
    let r = run(d.sops(&["edit", "s.yaml"]).env("EDITOR", &escaped));
    r.assert_ok("edit with an escaped-space EDITOR");
    let r = run(&mut d.sops(&["-d", "--extract", r#"["password"]"#, "s.yaml"]));
    assert_eq!(r.stdout, b"changed");
    let quoted = format!("'{}' --wait", ed.display());
    std::fs::write(&ed, "#!/bin/sh\nsed -i 's/changed/again/' \"$2\"\n").unwrap();
    let r = run(d.sops(&["edit", "s.yaml"]).env("SOPS_EDITOR", &quoted));
    r.assert_ok("edit with a quoted SOPS_EDITOR");
    let r = run(&mut d.sops(&["-d", "--extract", r#"["password"]"#, "s.yaml"]));
    assert_eq!(r.stdout, b"again");
}

#[test]
fn config_lookup_starts_at_the_working_directory() {
    let d = DropIn::new();
    d.write(
        "mine/.sops.yaml",
        format!("creation_rules:\n  - age: {}\n", pub1()),
    );
    d.write(
        "theirs/.sops.yaml",
        format!(
            "creation_rules:\n  - encrypted_regex: ^nomatch$\n    age: {}\n",
            pub2()
        ),
    );
    d.write("theirs/secret.yaml", "password: hunter2\n");
    d.write("lonely/x.yaml", "password: hunter2\n");
    let mine = d.work().join("mine");
    let r = run(d
        .sops(&["encrypt", "../theirs/secret.yaml"])
        .current_dir(&mine));
    r.assert_ok("encrypt from mine/");
    assert!(!r.stdout_str().contains("hunter2"), "{}", r.stdout_str());
    assert!(r.stdout_str().contains(&pub1()));
    if let Some(sops) = require_sops() {
        let r2 = run(d
            .real(&sops, &["encrypt", "../theirs/secret.yaml"])
            .current_dir(&mine));
        r2.assert_ok("real sops from mine/");
        assert!(!r2.stdout_str().contains("hunter2"));
        assert!(r2.stdout_str().contains(&pub1()));
    }
    // Nothing above the working directory: the file's directory is next.
    let r = run(d
        .sops(&["encrypt", "theirs/secret.yaml"])
        .current_dir(d.work()));
    r.assert_ok("encrypt from work/");
    assert!(r.stdout_str().contains(&pub2()), "{}", r.stdout_str());
}

// ---------------------------------------------------------------------------
// exec-env, exec-file

#[test]
fn exec_env_passes_secrets_and_the_exit_code() {
    let d = DropIn::new();
    d.encrypted("s.yaml", "A: one\nB: 2\nnested:\n  x: y\n  l: [p, q]\n");
    let r = run(&mut d.sops(&[
        "exec-env",
        "s.yaml",
        "echo \"$A $B $nested_x $nested_l_1\"; exit 7",
    ]));
    assert_eq!(r.code, Some(7), "{}", r.stderr);
    assert_eq!(r.stdout_str(), "one 2 y q\n");
    let r = run(d
        .sops(&["exec-env", "--pristine", "s.yaml", "echo \"[$A][$HOME]\""])
        .env("HOME", "/nowhere"));
    r.assert_ok("--pristine");
    assert_eq!(r.stdout_str(), "[one][]\n");
    if let Some(sops) = require_sops() {
        d.encrypted("flat.yaml", "A: one\nB: 2\nM: |-\n  x\n  y\nT: true\n");
        let args = [
            "exec-env",
            "flat.yaml",
            "printf '[%s][%s][%s][%s]' \"$A\" \"$B\" \"$M\" \"$T\"; exit 3",
        ];
        let (a, b) = (run(&mut d.sops(&args)), run(&mut d.real(&sops, &args)));
        assert_eq!((a.code, a.stdout_str()), (b.code, b.stdout_str()));
    }
}

#[test]
fn exec_env_same_process_background_and_user() {
    let d = DropIn::new();
    d.encrypted("s.yaml", "A: one\n");
    let r = run(&mut d.sops(&["exec-env", "--same-process", "s.yaml", "echo $A; exit 9"]));
    assert_eq!(r.code, Some(9), "{}", r.stderr);
    assert_eq!(r.stdout_str(), "one\n");
    let marker = d.work().join("bg-done");
    let cmd = format!("sleep 0.2; echo $A > {}", marker.display());
    let start = std::time::Instant::now();
    let r = run(&mut d.sops(&["exec-env", "--background", "s.yaml", &cmd]));
    r.assert_ok("--background");
    assert!(start.elapsed() < std::time::Duration::from_millis(2000));
    for _ in 0..100 {
        if marker.exists() && text(&marker) == "one\n" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(text(&marker), "one\n");
    let root = run(Command::new("id").arg("-u")).stdout_str().trim() == "0";
    if root {
        let r = run(&mut d.sops(&["exec-env", "--user", "nobody", "s.yaml", "id -un; echo $A"]));
        r.assert_ok("--user nobody");
        assert_eq!(r.stdout_str(), "nobody\none\n");
    }
    let r = run(&mut d.sops(&["exec-env", "--user", "no-such-user-x", "s.yaml", "true"]));
    assert!(!r.ok() && r.stderr.contains("--user"), "{}", r.stderr);
}

#[test]
fn exec_env_several_files_and_extract() {
    let d = DropIn::new();
    d.encrypted("a.yaml", "A: one\nB: two\n");
    d.encrypted("b.yaml", "B: three\napp:\n  C: four\n");
    let r = run(&mut d.sops(&["exec-env", "a.yaml", "b.yaml", "echo \"$A $B $app_C\""]));
    r.assert_ok("two files");
    assert_eq!(r.stdout_str(), "one three four\n");
    let r = run(&mut d.sops(&[
        "exec-env",
        "--extract",
        r#"["app"]"#,
        "b.yaml",
        "echo \"[$C][$B]\"",
    ]));
    r.assert_ok("--extract");
    assert_eq!(r.stdout_str(), "[four][]\n");
}

#[test]
fn exec_file_fifo_and_temp_file_leave_nothing() {
    let d = DropIn::new();
    d.encrypted("s.yaml", PLAIN);
    // Default: a FIFO, `{}` is its path.
    let r = run(&mut d.sops(&["exec-file", "s.yaml", "test -p {} && cat {}"]));
    r.assert_ok("fifo");
    assert_eq!(r.stdout_str(), PLAIN);
    assert!(d.tmp_is_empty());
    // --no-fifo: a 0600 file, removed after; the exit code passes through.
    let r = run(&mut d.sops(&[
        "exec-file",
        "--no-fifo",
        "--filename",
        "x.yaml",
        "s.yaml",
        "test -f {} && stat -c %a {} && cat {} >/dev/null && exit 4",
    ]));
    assert_eq!(r.code, Some(4), "{}", r.stderr);
    assert_eq!(r.stdout_str(), "600\n");
    assert!(d.tmp_is_empty());
    // The child is killed.
    let r = run(&mut d.sops(&["exec-file", "--no-fifo", "s.yaml", "kill -9 $$"]));
    assert_eq!(r.code, Some(137), "{}", r.stderr);
    assert!(d.tmp_is_empty());
    // The FIFO is never opened.
    let r = run_timeout(&mut d.sops(&["exec-file", "s.yaml", "exit 0"]), 20)
        .expect("exec-file hangs when the FIFO is not read");
    r.assert_ok("fifo never opened");
    assert!(d.tmp_is_empty());
    // --output-type converts.
    let r = run(&mut d.sops(&["exec-file", "--output-type", "json", "s.yaml", "cat {}"]));
    assert!(r.stdout_str().contains("\"password\": \"hunter2\""));
    if let Some(sops) = require_sops() {
        let args = ["exec-file", "--no-fifo", "s.yaml", "cat {}; exit 5"];
        let (a, b) = (run(&mut d.sops(&args)), run(&mut d.real(&sops, &args)));
        assert_eq!(a.code, b.code);
    }
}

// ---------------------------------------------------------------------------
// completion, key services

#[test]
fn completion_scripts() {
    let d = DropIn::new();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let r = run(&mut d.sops(&["completion", shell]));
        r.assert_ok(shell);
        assert!(r.stdout_str().contains("sops"), "{shell}");
    }
}

#[test]
fn key_services_are_refused_without_side_effects() {
    let d = DropIn::new();
    let enc = d.encrypted("s.yaml", PLAIN);
    let before = std::fs::read(&enc).unwrap();
    for args in [
        &["keyservice"][..],
        &["keyservice", "--network", "unix", "--address", "sock"],
        &["publish", "s.yaml"],
        &["--keyservice", "tcp://127.0.0.1:5000", "decrypt", "s.yaml"],
        &["decrypt", "--keyservice", "unix:///x", "s.yaml"],
        &["rotate", "-i", "--keyservice", "tcp://x:1", "s.yaml"],
    ] {
        let r = run(&mut d.sops(args));
        assert_eq!(r.code, Some(69), "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains("not supported by sopx"), "{}", r.stderr);
        assert!(r.stdout.is_empty());
    }
    assert_eq!(std::fs::read(&enc).unwrap(), before);
    assert_eq!(std::fs::read_dir(d.work()).unwrap().count(), 1);
    let r = run(&mut d.sops(&["decrypt", "--enable-local-keyservice", "s.yaml"]));
    r.assert_ok("--enable-local-keyservice");
}

// ---------------------------------------------------------------------------
// Integrations' exact command lines

#[test]
fn helm_secrets() {
    let d = DropIn::new();
    d.write(
        ".sops.yaml",
        format!("creation_rules:\n  - age: {}\n", pub1()),
    );
    d.write("secrets.yaml", PLAIN);
    // helm secrets encrypt (in place)
    run(&mut d.sops(&[
        "--encrypt",
        "--input-type",
        "yaml",
        "--output-type",
        "yaml",
        "--in-place",
        "secrets.yaml",
    ]))
    .assert_ok("--encrypt --in-place");
    let enc = text(&d.work().join("secrets.yaml"));
    assert!(enc.contains("sops:") && !enc.contains("hunter2"));
    // decrypt: stdout, --output, and a literal through /dev/stdin
    let r = run(&mut d.sops(&[
        "--decrypt",
        "--input-type",
        "yaml",
        "--output-type",
        "yaml",
        "secrets.yaml",
    ]));
    assert_eq!(r.stdout_str(), PLAIN);
    run(&mut d.sops(&[
        "--decrypt",
        "--input-type",
        "yaml",
        "--output-type",
        "yaml",
        "--output",
        "secrets.yaml.dec",
        "secrets.yaml",
    ]))
    .assert_ok("--output");
    assert_eq!(text(&d.work().join("secrets.yaml.dec")), PLAIN);
    d.write("lit.json", "{\"k\": \"v\"}");
    let lit = run(&mut d.sops(&["encrypt", "--age", &pub1(), "lit.json"]));
    let r = run_stdin(
        &mut d.sops(&[
            "--decrypt",
            "--input-type",
            "json",
            "--output-type",
            "json",
            "/dev/stdin",
        ]),
        &lit.stdout,
    );
    r.assert_ok("literal via /dev/stdin");
    assert_eq!(r.stdout_str(), "{\"k\": \"v\"}");
    // helm secrets edit
    let r = run(d
        .sops(&[
            "--input-type",
            "yaml",
            "--output-type",
            "yaml",
            "secrets.yaml",
        ])
        .env("EDITOR", "sed -i s/5432/5433/"));
    r.assert_ok("edit");
    let r = run(&mut d.sops(&["-d", "secrets.yaml"]));
    assert!(r.stdout_str().contains("port: 5433"));
}

#[test]
fn vscode_sops() {
    let d = DropIn::new();
    let enc = d.encrypted("s.yaml", PLAIN);
    // The extension copies the file to a temporary name without extension.
    let tmp = d.write("0d9a3f", std::fs::read(&enc).unwrap());
    let tmp = tmp.to_str().unwrap();
    let r = run(&mut d.sops(&[
        "--config",
        "/dev/null",
        "--output-type",
        "yaml",
        "--input-type",
        "yaml",
        "--decrypt",
        tmp,
    ]));
    r.assert_ok("decrypt");
    assert_eq!(r.stdout_str(), PLAIN);
    // Save: EDITOR is a script that copies the edited plaintext over.
    let edited = d.write("edited.yaml", PLAIN.replace("hunter2", "saved"));
    let script = d.write(
        "fake-editor",
        "#!/bin/sh\ncat \"$VSCODE_SOPS_DECRYPTED_FILE_PATH\" > \"$1\"\n",
    );
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let r = run(d
        .sops(&[
            "--config",
            "/dev/null",
            "--output-type",
            "yaml",
            "--input-type",
            "yaml",
            tmp,
        ])
        .env("EDITOR", &script)
        .env("VSCODE_SOPS_DECRYPTED_FILE_PATH", &edited));
    r.assert_ok("save through EDITOR");
    let r = run(&mut d.sops(&["-d", "--input-type", "yaml", tmp]));
    assert_eq!(r.stdout_str(), PLAIN.replace("hunter2", "saved"));
    // New file: the project's .sops.yaml copied to a temp dir, two --config.
    let cfg = d.write(
        "t/.sops.yaml",
        format!(
            "creation_rules:\n  - path_regex: new\\.yaml$\n    age: {}\n",
            pub1()
        ),
    );
    d.write("t/new.yaml", "a: b\n");
    let r = run(&mut d.sops(&[
        "--config",
        "/dev/null",
        "--config",
        cfg.to_str().unwrap(),
        "--output-type",
        "yaml",
        "--input-type",
        "yaml",
        "--encrypt",
        d.work().join("t/new.yaml").to_str().unwrap(),
    ]));
    r.assert_ok("new file");
    assert!(r.stdout_str().contains(&pub1()));
}

#[test]
fn ansible_community_sops() {
    let d = DropIn::new();
    let enc = d.encrypted("group_vars.sops.yaml", PLAIN);
    let r = run(&mut d.sops(&["--version", "--disable-version-check"]));
    r.assert_ok("version probe");
    assert!(
        regex::Regex::new(r"^sops (\d+)\.(\d+)\.(\d+)")
            .unwrap()
            .is_match(&r.stdout_str())
    );
    // Lookup and vars plugins: content on stdin, the name given.
    let src = std::fs::read(&enc).unwrap();
    let r = run_stdin(
        &mut d.sops(&[
            "--enable-local-keyservice",
            "decrypt",
            "--filename-override",
            "group_vars.sops.yaml",
            "/dev/stdin",
        ]),
        &src,
    );
    r.assert_ok("decrypt /dev/stdin");
    assert_eq!(r.stdout_str(), PLAIN);
    let r = run_stdin(
        &mut d.sops(&[
            "--input-type",
            "yaml",
            "--output-type",
            "yaml",
            "--decrypt",
            "/dev/stdin",
        ]),
        &src,
    );
    r.assert_ok("older decrypt /dev/stdin");
    // encrypt (community.sops.sops_encrypt)
    let r = run_stdin(
        &mut d.sops(&[
            "encrypt",
            "--age",
            &pub1(),
            "--filename-override",
            "out.sops.yaml",
            "/dev/stdin",
        ]),
        PLAIN.as_bytes(),
    );
    r.assert_ok("encrypt /dev/stdin");
    d.write("out.sops.yaml", &r.stdout);
    let r = run(&mut d.sops(&["filestatus", "out.sops.yaml"]));
    assert_eq!(r.stdout_str(), "{\"encrypted\":true}\n");
    if let Some(sops) = require_sops() {
        let r2 = run(&mut d.real(&sops, &["filestatus", "out.sops.yaml"]));
        assert_eq!(r2.stdout_str(), r.stdout_str());
    }
}

#[test]
fn intellij_sops_plugin() {
    let d = DropIn::new();
    let enc = d.encrypted("app.sops.yaml", PLAIN);
    let r = run(&mut d.sops(&["--version"]));
    let v = r.stdout_str();
    let minor: u32 = v.split('.').nth(1).unwrap().parse().unwrap();
    assert!(v.starts_with("sops 3.") && minor >= 10, "{v}");
    let r = run_stdin(
        &mut d.sops(&["decrypt", "--filename-override", "app.sops.yaml"]),
        &std::fs::read(&enc).unwrap(),
    );
    r.assert_ok("decrypt, content on stdin");
    assert_eq!(r.stdout_str(), PLAIN);
    d.write(
        ".sops.yaml",
        format!("creation_rules:\n  - age: {}\n", pub1()),
    );
    d.write("new.yaml", PLAIN);
    run(&mut d.sops(&["encrypt", "--in-place", "new.yaml"])).assert_ok("encrypt --in-place");
    assert!(!text(&d.work().join("new.yaml")).contains("hunter2"));
    let dir = d.sb.root().join("Application Support");
    std::fs::create_dir_all(&dir).unwrap();
    let ed = dir.join("idea");
    std::fs::write(&ed, "#!/bin/sh\nsed -i 's/5432/6543/' \"$1\"\n").unwrap();
    std::fs::set_permissions(&ed, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let editor = ed.display().to_string().replace(' ', "\\ ");
    run(d.sops(&["edit", "new.yaml"]).env("EDITOR", editor)).assert_ok("edit");
    let r = run(&mut d.sops(&["decrypt", "new.yaml"]));
    assert!(r.stdout_str().contains("port: 6543"));
}

#[test]
fn sops_nvim_and_mise() {
    let d = DropIn::new();
    let enc = d.encrypted("secrets.json", "{\n  \"k\": \"v\"\n}\n");
    let p = enc.to_str().unwrap();
    let r = run(&mut d.sops(&[
        "--decrypt",
        "--input-type",
        "json",
        "--output-type",
        "json",
        p,
    ]));
    r.assert_ok("sops.nvim decrypt");
    assert_eq!(r.stdout_str(), "{\n  \"k\": \"v\"\n}\n");
    let r = run_stdin(
        &mut d.sops(&[
            "-d",
            "--input-type",
            "json",
            "--output-type",
            "json",
            "/dev/stdin",
        ]),
        &std::fs::read(&enc).unwrap(),
    );
    r.assert_ok("-d /dev/stdin");
    assert_eq!(r.stdout_str(), "{\n  \"k\": \"v\"\n}\n");
    d.encrypted("s.env", "A=1\n");
    let r = run(&mut d.sops(&[
        "-d",
        "--input-type",
        "dotenv",
        "--output-type",
        "json",
        "s.env",
    ]));
    r.assert_ok("mise dotenv as json");
    assert!(
        r.stdout_str().contains("\"A\": \"1\""),
        "{}",
        r.stdout_str()
    );
}

#[test]
fn git_textconv_diff() {
    let d = DropIn::new();
    let git = |args: &[&str]| {
        let r = run(d
            .sb
            .cmd("git")
            .env("PATH", d.path_var())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .args(args));
        r.assert_ok(&format!("git {args:?}"));
        r
    };
    git(&["init", "-q"]);
    git(&["config", "user.email", "t@example.org"]);
    git(&["config", "user.name", "t"]);
    git(&["config", "diff.sopsdiffer.textconv", "sops decrypt"]);
    d.write(".gitattributes", "*.yaml diff=sopsdiffer\n");
    d.encrypted("s.yaml", PLAIN);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "one"]);
    run(&mut d.sops(&["set", "s.yaml", r#"["password"]"#, r#""new""#])).assert_ok("set");
    let r = git(&["diff", "--no-color"]);
    let out = r.stdout_str();
    assert!(
        out.contains("-password: hunter2") && out.contains("+password: new"),
        "{out}"
    );
}

#[test]
fn pre_commit_encrypt_in_place() {
    let d = DropIn::new();
    d.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - path_regex: secrets/.*\n    age: {}\n",
            pub1()
        ),
    );
    d.write("secrets/a.yaml", PLAIN);
    let r = run(&mut d.sops(&[
        "--encrypt",
        "--in-place",
        "--input-type=yaml",
        "secrets/a.yaml",
    ]));
    r.assert_ok("pre-commit hook");
    let r = run(&mut d.sops(&["filestatus", "secrets/a.yaml"]));
    assert_eq!(r.stdout_str(), "{\"encrypted\":true}\n");
    if let Some(sops) = require_sops() {
        let r2 = run(&mut d.real(&sops, &["-d", "secrets/a.yaml"]));
        r2.assert_ok("real sops opens it");
    }
}

// ---------------------------------------------------------------------------
// age as sops 3.10-3.13 does it

/// Builds the toy plugin `age-plugin-sopxtest` into the sandbox's bin
/// directory (on the PATH `sops` runs with); returns its recipient and
/// identity.
fn build_test_plugin(d: &DropIn) -> (String, String) {
    let src = manifest_dir().join("tests/fixtures/age-plugin/age-plugin-sopxtest.rs");
    let bin = d.bin.join("age-plugin-sopxtest");
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let r = run(Command::new(rustc)
        .args(["--edition", "2021", "-o"])
        .arg(&bin)
        .arg(&src));
    r.assert_ok("building age-plugin-sopxtest");
    let r = run(Command::new(&bin).arg("--print"));
    let out = r.stdout_str();
    let mut lines = out.lines();
    (
        lines.next().unwrap().to_string(),
        lines.next().unwrap().to_string(),
    )
}

#[test]
fn age_plugin_recipients_and_identities() {
    let d = DropIn::new();
    let (recipient, identity) = build_test_plugin(&d);
    let log = d.sb.root().join("plugin.log");
    d.write(
        ".sops.yaml",
        format!("creation_rules:\n  - age: {recipient}\n"),
    );
    d.write("p.yaml", PLAIN);
    let with_plugin = |c: &mut Command| {
        c.env_remove("SOPS_AGE_KEY_FILE")
            .env("SOPS_AGE_KEY", &identity)
            .env("SOPS_AGE_RECIPIENTS", "")
            .env("SOPX_TEST_PLUGIN_LOG", &log);
    };
    let mut c = d.sops(&["encrypt", "-i", "p.yaml"]);
    with_plugin(&mut c);
    run(&mut c).assert_ok("encrypt for a plugin recipient");
    assert!(text(&d.work().join("p.yaml")).contains(&recipient));
    let mut c = d.sops(&["decrypt", "p.yaml"]);
    with_plugin(&mut c);
    let r = run(&mut c);
    r.assert_ok("decrypt with a plugin identity");
    assert_eq!(r.stdout_str(), PLAIN);
    let calls = std::fs::read_to_string(&log).unwrap();
    assert!(
        calls.contains("--age-plugin=recipient-v1") && calls.contains("--age-plugin=identity-v1"),
        "{calls}"
    );
    if let Some(sops) = require_sops() {
        // sops drives the same plugin, both ways.
        let mut c = d.real(&sops, &["decrypt", "p.yaml"]);
        with_plugin(&mut c);
        c.env("PATH", d.path_var());
        let r2 = run(&mut c);
        r2.assert_ok("real sops decrypts sopx's plugin file");
        assert!(r2.stdout_str().contains("hunter2"));
        d.write("q.yaml", PLAIN);
        let mut c = d.real(&sops, &["encrypt", "q.yaml"]);
        with_plugin(&mut c);
        c.env("PATH", d.path_var());
        let enc = run(&mut c);
        enc.assert_ok("real sops encrypts for the plugin");
        d.write("q.enc.yaml", &enc.stdout);
        let mut c = d.sops(&["decrypt", "q.enc.yaml"]);
        with_plugin(&mut c);
        let r = run(&mut c);
        r.assert_ok("sopx decrypts sops's plugin file");
        assert!(r.stdout_str().contains("hunter2"));
    }
    // Without the plugin program: a clear error naming it.
    std::fs::remove_file(d.bin.join("age-plugin-sopxtest")).unwrap();
    let mut c = d.sops(&["decrypt", "p.yaml"]);
    with_plugin(&mut c);
    let r = run(&mut c);
    assert_eq!(r.code, Some(128), "{}", r.stderr);
    assert!(r.stderr.contains("age-plugin-sopxtest"), "{}", r.stderr);
    // A missing plugin does not stop the other identities of its source.
    d.encrypted("x.yaml", PLAIN);
    let key1 = std::fs::read_to_string(key1()).unwrap();
    let r = run(d
        .sops(&["decrypt", "x.yaml"])
        .env_remove("SOPS_AGE_KEY_FILE")
        .env("SOPS_AGE_KEY", format!("{identity}\n{key1}")));
    r.assert_ok("x25519 key next to a plugin identity whose plugin is missing");
    assert_eq!(r.stdout_str(), PLAIN);
}

#[test]
fn age_key_several_on_one_line_and_key_cmd_gets_the_recipient() {
    let d = DropIn::new();
    d.encrypted("s.yaml", PLAIN);
    let key1 = std::fs::read_to_string(key1()).unwrap();
    let secret = key1
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .unwrap()
        .to_string();
    let other = std::fs::read_to_string(key2()).unwrap();
    let other = other
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .unwrap()
        .to_string();
    let r = run(d
        .sops(&["decrypt", "s.yaml"])
        .env_remove("SOPS_AGE_KEY_FILE")
        .env("SOPS_AGE_KEY", format!("{other} {secret}")));
    r.assert_ok("two keys on one line");
    assert_eq!(r.stdout_str(), PLAIN);
    // SOPS_AGE_KEY_CMD learns which recipient is wanted.
    let keys = d.sb.root().join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    std::fs::write(keys.join(pub1()), &secret).unwrap();
    let cmd = format!("sh -c 'cat \"{}/$SOPS_AGE_RECIPIENT\"'", keys.display());
    let r = run(d
        .sops(&["decrypt", "s.yaml"])
        .env_remove("SOPS_AGE_KEY_FILE")
        .env("SOPS_AGE_KEY_CMD", &cmd));
    r.assert_ok("SOPS_AGE_KEY_CMD with SOPS_AGE_RECIPIENT");
    assert_eq!(r.stdout_str(), PLAIN);
    if let Some(sops) = require_sops() {
        let r2 = run(d
            .real(&sops, &["decrypt", "s.yaml"])
            .env_remove("SOPS_AGE_KEY_FILE")
            .env("SOPS_AGE_KEY_CMD", &cmd));
        r2.assert_ok("real sops, SOPS_AGE_KEY_CMD with SOPS_AGE_RECIPIENT");
    }
}

#[test]
fn age_ssh_private_key_cmd() {
    let d = DropIn::new();
    let key = d.sb.root().join("id_ed25519");
    let r = run(Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "t", "-f"])
        .arg(&key));
    if !r.ok() {
        eprintln!("ssh-keygen not available: skipping");
        return;
    }
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    d.write("p.yaml", PLAIN);
    run(&mut d.sops(&["encrypt", "-i", "--age", public.trim(), "p.yaml"])).assert_ok("encrypt");
    let r = run(d
        .sops(&["decrypt", "p.yaml"])
        .env_remove("SOPS_AGE_KEY_FILE")
        .env(
            "SOPS_AGE_SSH_PRIVATE_KEY_CMD",
            format!("cat {}", key.display()),
        ));
    r.assert_ok("SOPS_AGE_SSH_PRIVATE_KEY_CMD");
    assert_eq!(r.stdout_str(), PLAIN);
}

#[test]
fn age_passphrase_protected_identity_file_asks_on_the_terminal() {
    use std::io::Write;
    let d = DropIn::new();
    d.encrypted("s.yaml", PLAIN);
    let secret = std::fs::read(key1()).unwrap();
    let pass = age::secrecy::SecretString::from("correct horse".to_string());
    let mut protected = Vec::new();
    {
        let armor =
            age::armor::ArmoredWriter::wrap_output(&mut protected, age::armor::Format::AsciiArmor)
                .unwrap();
        let mut w = age::Encryptor::with_user_passphrase(pass)
            .wrap_output(armor)
            .unwrap();
        w.write_all(&secret).unwrap();
        w.finish().unwrap().finish().unwrap();
    }
    let kf = d.sb.root().join("keys.age");
    std::fs::write(&kf, &protected).unwrap();
    // No terminal: a clear failure, no hang.
    let r = run(d.sops(&["decrypt", "s.yaml"]).env("SOPS_AGE_KEY_FILE", &kf));
    assert_eq!(r.code, Some(128), "{}", r.stderr);
    // A terminal (script(1) gives one): the passphrase is asked for.
    if run(Command::new("script").arg("--version")).ok() {
        let line = format!(
            "sops decrypt --output {} s.yaml",
            d.work().join("out.yaml").display()
        );
        let mut c = d.sb.cmd("sh");
        c.env("PATH", d.path_var())
            .env("SOPS_AGE_KEY_FILE", &kf)
            .arg("-c")
            .arg(format!(
                "(sleep 2; printf 'correct horse\\n') | script -qec '{line}' /dev/null"
            ));
        let r = run_timeout(&mut c, 60).expect("decrypt with a passphrase hangs");
        r.assert_ok("decrypt with a passphrase-protected identity file");
        assert_eq!(text(&d.work().join("out.yaml")), PLAIN);
    }
}
