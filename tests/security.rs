//! Security properties of the CLI that are not about one key source:
//! writing files (symbolic and hard links, owner and mode, read-only
//! directories), the plaintext of `edit` (private temporary directory,
//! removed on signals), and error messages that never quote a secret.
//! (Hostile key addresses are tested in `remote_keys.rs` and `pgp.rs`.)

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use common::*;

const PLAIN: &str = "user: admin\npassword: hunter2\n";

fn encrypt_in_place(sb: &Sandbox, file: &Path) -> Run {
    run(sb
        .sopx()
        .args(["encrypt", "-i", "--age", &pub1()])
        .arg(file))
}

fn is_encrypted(text: &str) -> bool {
    text.contains("ENC[AES256_GCM,") && text.contains("\nsops:") && !text.contains("hunter2")
}

/// The names in `dir` other than `keep` (leftover temporary files).
fn others(dir: &Path, keep: &[&str]) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !keep.contains(&n.as_str()))
        .collect()
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

// ---------------------------------------------------------------------------
// writing files

#[test]
fn in_place_and_output_write_through_symlinks() {
    let sb = Sandbox::new();
    let real_dir = sb.root().join("real");
    std::fs::create_dir(&real_dir).unwrap();
    let real = real_dir.join("secrets.yaml");
    std::fs::write(&real, PLAIN).unwrap();
    // A relative link in another directory, and a link to that link.
    let link = sb.work().join("link.yaml");
    std::os::unix::fs::symlink("../real/secrets.yaml", &link).unwrap();
    let link2 = sb.work().join("link2.yaml");
    std::os::unix::fs::symlink("link.yaml", &link2).unwrap();

    encrypt_in_place(&sb, &link2).assert_ok("encrypt -i through two links");
    for l in [&link, &link2] {
        assert!(
            std::fs::symlink_metadata(l)
                .unwrap()
                .file_type()
                .is_symlink(),
            "{} is still a link",
            l.display()
        );
    }
    let text = std::fs::read_to_string(&real).unwrap();
    assert!(
        is_encrypted(&text),
        "the link's target was written:\n{text}"
    );
    assert_eq!(others(&real_dir, &["secrets.yaml"]), Vec::<String>::new());

    // --output through a link whose target does not exist yet.
    let out_link = sb.work().join("out.yaml");
    std::os::unix::fs::symlink("../real/plain.yaml", &out_link).unwrap();
    run(sb
        .sopx()
        .arg("decrypt")
        .arg(&link)
        .arg("--output")
        .arg(&out_link))
    .assert_ok("decrypt --output through a dangling link");
    assert!(
        std::fs::symlink_metadata(&out_link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        std::fs::read_to_string(real_dir.join("plain.yaml")).unwrap(),
        PLAIN
    );
}

#[test]
fn in_place_keeps_mode_owner_and_group() {
    let sb = Sandbox::new();
    let f = sb.write("secrets.yaml", PLAIN);
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o640)).unwrap();
    let owner = if running_as_root() {
        std::os::unix::fs::chown(&f, Some(4321), Some(4322)).unwrap();
        (4321, 4322)
    } else {
        let m = std::fs::metadata(&f).unwrap();
        (m.uid(), m.gid())
    };
    let ino = std::fs::metadata(&f).unwrap().ino();
    encrypt_in_place(&sb, &f).assert_ok("encrypt -i");
    let m = std::fs::metadata(&f).unwrap();
    assert_eq!(m.permissions().mode() & 0o7777, 0o640, "mode kept");
    assert_eq!((m.uid(), m.gid()), owner, "owner and group kept");
    assert!(is_encrypted(&std::fs::read_to_string(&f).unwrap()));
    if !running_as_root() {
        // A regular user's own file: replaced atomically (a new inode).
        assert_ne!(m.ino(), ino);
    }
    assert_eq!(others(&sb.work(), &["secrets.yaml"]), Vec::<String>::new());
}

/// A file with several hard links is rewritten in place: every name sees
/// the new contents (a rename would leave the others with the plaintext).
#[test]
fn in_place_with_hard_links_updates_every_name() {
    let sb = Sandbox::new();
    let a = sb.write("a.yaml", PLAIN);
    let b = sb.work().join("b.yaml");
    std::fs::hard_link(&a, &b).unwrap();
    let ino = std::fs::metadata(&a).unwrap().ino();
    encrypt_in_place(&sb, &a).assert_ok("encrypt -i with a hard link");
    assert_eq!(std::fs::metadata(&a).unwrap().ino(), ino, "same inode");
    assert_eq!(std::fs::metadata(&a).unwrap().nlink(), 2);
    let text = std::fs::read_to_string(&b).unwrap();
    assert!(is_encrypted(&text), "the other name:\n{text}");
    assert_eq!(std::fs::read_to_string(&a).unwrap(), text);
    assert_eq!(
        others(&sb.work(), &["a.yaml", "b.yaml"]),
        Vec::<String>::new(),
        "the staged copy is removed"
    );
    // And back, shorter: the file is cut to its new length.
    run(sb.sopx().args(["decrypt", "-i"]).arg(&b)).assert_ok("decrypt -i");
    assert_eq!(std::fs::read_to_string(&a).unwrap(), PLAIN);
}

/// `-i` on a writable file in a directory where no new file can be made:
/// the file is rewritten in place.
#[test]
fn in_place_in_a_read_only_directory() {
    let sb = Sandbox::new();
    let dir = sb.root().join("ro");
    std::fs::create_dir(&dir).unwrap();
    let f = dir.join("secrets.yaml");
    std::fs::write(&f, PLAIN).unwrap();
    let mut cmd = sb.sopx();
    if running_as_root() {
        // Root ignores directory permissions: run sopx as nobody, who may
        // write the file but not the directory.
        let Some(setpriv) = ["/usr/bin/setpriv", "/bin/setpriv"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
        else {
            eprintln!("setpriv not found: skipping the read-only directory test as root");
            return;
        };
        for p in [sb.root(), sb.work().as_path(), sb.home().as_path()] {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        std::os::unix::fs::chown(&f, Some(65534), Some(65534)).unwrap();
        let mut c = sb.cmd(setpriv);
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(sopx_bin());
        cmd = c;
    }
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    let ino = std::fs::metadata(&f).unwrap().ino();
    let r = run(cmd.args(["encrypt", "-i", "--age", &pub1()]).arg(&f));
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    r.assert_ok("encrypt -i in a read-only directory");
    assert!(is_encrypted(&std::fs::read_to_string(&f).unwrap()));
    assert_eq!(
        std::fs::metadata(&f).unwrap().ino(),
        ino,
        "rewritten in place"
    );
    assert_eq!(others(&dir, &["secrets.yaml"]), Vec::<String>::new());
}

// ---------------------------------------------------------------------------
// edit: the plaintext's directory

/// Waits up to 10 s for `cond`.
fn wait_for(mut cond: impl FnMut() -> bool) -> bool {
    for _ in 0..200 {
        if cond() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    false
}

/// Is process `pid` gone (or a zombie waiting for its parent)?
fn gone(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z') || rest.starts_with('X')),
    }
}

/// `sopx edit` keeps the plaintext in a 0700 directory (the file 0600), and
/// removes it, killing the editor, when sopx gets SIGTERM, SIGINT or SIGHUP.
#[test]
fn edit_plaintext_is_private_and_removed_on_signals() {
    for sig in ["TERM", "INT", "HUP"] {
        let sb = Sandbox::new();
        let f = sb.write("secrets.yaml", PLAIN);
        encrypt_in_place(&sb, &f).assert_ok("encrypt -i");
        let before = std::fs::read(&f).unwrap();
        // The editor records the file it got and its pid, then waits.
        let mark = sb.root().join("editor-started");
        let editor = sb.root().join("slow-editor.sh");
        std::fs::write(
            &editor,
            format!(
                "#!/bin/sh\necho \"$$ $1\" > {}.tmp && mv {0}.tmp {0}\nexec sleep 60\n",
                mark.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut child = sb
            .sopx()
            .env("EDITOR", &editor)
            .arg("edit")
            .arg(&f)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        assert!(
            wait_for(|| mark.exists()),
            "SIG{sig}: the editor did not start"
        );
        let line = std::fs::read_to_string(&mark).unwrap();
        let (editor_pid, tmp) = line.trim().split_once(' ').unwrap();
        let tmp = PathBuf::from(tmp);
        let dir = tmp.parent().unwrap().to_path_buf();
        assert!(dir.starts_with(sb.tmp()), "{}", dir.display());
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700, "the directory is private");
        assert_eq!(mode(&tmp), 0o600, "the plaintext file is private");
        assert_eq!(std::fs::read_to_string(&tmp).unwrap(), PLAIN);

        let r = std::process::Command::new("kill")
            .args([&format!("-{sig}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(r.success());
        let mut status = None;
        assert!(
            wait_for(|| {
                status = child.try_wait().unwrap();
                status.is_some()
            }),
            "SIG{sig}: sopx did not end"
        );
        assert!(!status.unwrap().success());
        assert!(
            !dir.exists(),
            "SIG{sig}: the plaintext directory was left behind"
        );
        assert_eq!(others(&sb.tmp(), &[]), Vec::<String>::new());
        assert!(
            wait_for(|| gone(editor_pid)),
            "SIG{sig}: the editor still runs"
        );
        assert_eq!(std::fs::read(&f).unwrap(), before, "the file is unchanged");
    }
}

// ---------------------------------------------------------------------------
// messages

/// The longest run of hexadecimal digits in `s`.
fn longest_hex_run(s: &str) -> usize {
    s.split(|c: char| !c.is_ascii_hexdigit())
        .map(str::len)
        .max()
        .unwrap_or(0)
}

/// No parse error, in any format, quotes a value's text: not the value, not
/// the character where parsing stopped. They give a line and column.
#[test]
fn parse_errors_never_quote_values() {
    // Each secret holds `§` (a character no message has of its own) and
    // the word `hunter2`.
    let cases: &[(&str, &str)] = &[
        ("a.json", "{\"db_password\": hunter2§SECRET}"),
        ("b.json", "{\"db_password\": §hunter2}"),
        ("c.json", "{\"pin\": 1e99999§hunter2}"),
        ("d.json", "{\"pin\": 1e99999}"),
        ("e.json", "{\"pw\": \"hunter2\\§x\"}"),
        ("f.json", "{\"pw\": \"hunter2\u{1}§\"}"),
        ("g.json", "{\"pw\": \"hunter2§\" \"x\": 1}"),
        ("h.json", "{\"pw\": \"hunter2§\"} §hunter2"),
        ("a.yaml", "pw: \"hunter2§\n"),
        ("b.yaml", "pw: [hunter2§\n"),
        ("c.yaml", "pw: hunter2§: x: y\n"),
        ("d.yaml", "pw: `hunter2§\n"),
        ("e.yaml", "pw: @hunter2§\n"),
        ("f.yaml", "pw: \"hunter2§\\q\"\n"),
        ("g.yaml", "pw: hunter2§\n  - x\n"),
        ("h.yaml", "pw: !!int hunter2§\n"),
        ("a.env", "PW=hunter2§\nhunter2§ no equals\n"),
        ("b.env", "PW=\"hunter2§\n"),
        ("a.ini", "[s]\npw = hunter2§\nhunter2§ no delimiter\n"),
        ("b.ini", "[s]\npw = \"hunter2§\n"),
        ("c.ini", "[s\npw = hunter2§\n"),
        ("a.toml", "pw = hunter2§\n"),
        ("b.toml", "pw = \"hunter2§\n"),
        ("c.toml", "pw = 'hunter2§' x\n"),
        ("d.toml", "pw = [\"hunter2§\",\n"),
        ("e.toml", "pw = 1979-05-27Thunter2§\n"),
        ("f.toml", "pw = \"hunter2§\\q\"\n"),
    ];
    let sb = Sandbox::new();
    let mut bad = Vec::new();
    for (name, text) in cases {
        let f = sb.write(name, text);
        let r = run(sb.sopx().args(["encrypt", "--age", &pub1()]).arg(&f));
        if r.ok() {
            continue; // accepted as valid (a plain string): nothing to report
        }
        if r.stderr.contains("hunter2")
            || r.stderr.contains('§')
            || r.stderr.contains("99999")
            || !r.stderr.contains("line")
        {
            bad.push(format!("{name}: {}", r.stderr.trim()));
        }
    }
    assert!(
        bad.is_empty(),
        "messages quoting secrets:\n{}",
        bad.join("\n")
    );
}

/// A MAC mismatch is reported without the stored MAC or the computed one.
#[test]
fn mac_mismatch_quotes_neither_mac() {
    let sb = Sandbox::new();
    let f = sb.write("s.yaml", "password: hunter2\nnote_unencrypted: hello\n");
    encrypt_in_place(&sb, &f).assert_ok("encrypt -i");
    let text = std::fs::read_to_string(&f).unwrap();
    std::fs::write(
        &f,
        text.replace("note_unencrypted: hello", "note_unencrypted: hallo"),
    )
    .unwrap();
    let r = run(sb.sopx().arg("decrypt").arg(&f));
    r.assert_code(51, "decrypt after tampering");
    assert!(r.stderr.contains("MAC mismatch"), "{}", r.stderr);
    assert!(
        longest_hex_run(&r.stderr) < 32,
        "a MAC is quoted: {}",
        r.stderr
    );
}

// ---------------------------------------------------------------------------
// silent acceptance (issue 8, items 11 and 12)

/// Encrypts `text` as `name` in `sb` and returns the path and encrypted text.
fn encrypted(sb: &Sandbox, name: &str, text: &str, flags: &[&str]) -> (PathBuf, String) {
    let f = sb.write(name, text);
    run(sb
        .sopx()
        .args(["encrypt", "-i", "--age", &pub1()])
        .args(flags)
        .arg(&f))
    .assert_ok("encrypt -i");
    let t = std::fs::read_to_string(&f).unwrap();
    (f, t)
}

/// A changed encrypted comment is reported on stderr as tampering, with its
/// line (the MAC does not cover comments; sops only warns too).
#[test]
fn corrupted_encrypted_comment_is_reported_with_its_line() {
    let sb = Sandbox::new();
    let (f, text) = encrypted(
        &sb,
        "c.yaml",
        "password: hunter2\n# the admin account\nuser: admin\n",
        &[],
    );
    let line = text.lines().nth(1).unwrap();
    assert!(line.starts_with("#ENC[AES256_GCM,data:"), "{text}");
    // Flip the first character of the data itself (not of the prefix).
    let at = "#ENC[AES256_GCM,data:".len();
    let flipped = if line[at..].starts_with('A') {
        "B"
    } else {
        "A"
    };
    let bad = format!("{}{flipped}{}", &line[..at], &line[at + 1..]);
    std::fs::write(&f, text.replacen(line, &bad, 1)).unwrap();
    let r = run(sb.sopx().arg("decrypt").arg(&f));
    r.assert_ok("decrypt (like sops, the values still decrypt)");
    assert!(
        r.stderr.contains("line 2") && r.stderr.contains("tampering"),
        "no warning naming line 2: {}",
        r.stderr
    );
}

/// A token with a field twice is refused, not read with the last one
/// winning.
#[test]
fn token_with_a_duplicated_field_is_refused() {
    let sb = Sandbox::new();
    let (f, text) = encrypted(&sb, "d.yaml", PLAIN, &[]);
    let tok = enc_tokens(&text)
        .into_iter()
        .find(|t| t.ends_with("type:str]"))
        .unwrap();
    let iv = tok.split(",iv:").nth(1).unwrap().split(',').next().unwrap();
    let doubled = tok.replace(",type:str]", &format!(",iv:{iv},type:str]"));
    std::fs::write(&f, text.replacen(&tok, &doubled, 1)).unwrap();
    let r = run(sb.sopx().arg("decrypt").arg(&f));
    assert!(!r.ok(), "accepted: {}", r.describe());
    assert!(r.stderr.contains("twice"), "{}", r.stderr);
}

/// A plaintext file with a fake `sops: {mac: x}` block is not an encrypted
/// file: `filestatus` fails (as sops's does) and `check` flags it.
#[test]
fn fake_sops_block_is_not_an_encrypted_file() {
    let sb = Sandbox::new();
    std::fs::write(
        sb.work().join(".sops.yaml"),
        format!(
            "creation_rules:\n  - path_regex: \\.yaml$\n    age: {}\n",
            pub1()
        ),
    )
    .unwrap();
    let fakes = [
        sb.write("f1.yaml", "password: hunter2\nsops:\n  mac: x\n"),
        sb.write(
            "f2.yaml",
            "password: hunter2\nsops:\n  mac: x\n  lastmodified: \"2024-01-01T00:00:00Z\"\n  age:\n    - recipient: age1x\n      enc: x\n",
        ),
    ];
    for f in &fakes {
        let r = run(sb.sopx().arg("filestatus").arg(f));
        assert!(!r.ok(), "filestatus accepted {f:?}: {}", r.describe());
        let r = run(sb.sopx().arg("check").arg(f));
        assert!(!r.ok(), "check accepted {f:?}: {}", r.describe());
        assert!(r.stderr.contains("invalid sops metadata"), "{}", r.stderr);
    }
    let (good, _) = encrypted(&sb, "good.yaml", PLAIN, &[]);
    run(sb.sopx().arg("check").arg(&good)).assert_ok("check of a real encrypted file");
}

/// JSON: a second top-level `sops` key (an empty one before the real one)
/// is refused, in every command that reads the file.
#[test]
fn json_with_two_sops_keys_is_refused() {
    let sb = Sandbox::new();
    let (f, text) = encrypted(&sb, "s.json", "{\"password\": \"hunter2\"}\n", &[]);
    assert!(text.starts_with('{'), "{text}");
    std::fs::write(&f, text.replacen('{', "{\"sops\": {}, ", 1)).unwrap();
    for cmd in ["decrypt", "filestatus"] {
        let r = run(sb.sopx().arg(cmd).arg(&f));
        assert!(!r.ok(), "{cmd} accepted it: {}", r.describe());
        assert!(r.stderr.contains("`sops` twice"), "{cmd}: {}", r.stderr);
    }
}

/// Encrypting a file in which no value ends up encrypted warns, and
/// `check` flags the result.
#[test]
fn nothing_encrypted_warns_and_check_flags_it() {
    let sb = Sandbox::new();
    let f = sb.write("n.yaml", PLAIN);
    let r = run(sb
        .sopx()
        .args([
            "encrypt",
            "-i",
            "--age",
            &pub1(),
            "--encrypted-regex",
            "^nomatch$",
        ])
        .arg(&f));
    r.assert_ok("encrypt");
    assert!(r.stderr.contains("no value was encrypted"), "{}", r.stderr);
    std::fs::write(
        sb.work().join(".sops.yaml"),
        format!(
            "creation_rules:\n  - path_regex: \\.yaml$\n    age: {}\n",
            pub1()
        ),
    )
    .unwrap();
    let r = run(sb.sopx().arg("check").arg(&f));
    assert!(!r.ok(), "check passed a file with every value in clear");
    assert!(r.stderr.contains("none of its 2 value"), "{}", r.stderr);
    // A normal encryption says nothing of the kind.
    let g = sb.write("g.yaml", PLAIN);
    let r = run(sb.sopx().args(["encrypt", "-i", "--age", &pub1()]).arg(&g));
    assert!(!r.stderr.contains("no value was encrypted"), "{}", r.stderr);
}
