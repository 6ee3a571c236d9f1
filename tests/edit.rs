//! `sopx edit` with scripted editors (EDITOR / SOPS_EDITOR), no TTY.
//! Reference behaviour measured on sops 3.11: an edit re-encrypts only the
//! changed value (all other ENC tokens, comments included, stay byte-identical;
//! `lastmodified` and `mac` change); no change → exit 200, file untouched; the
//! editor failing → exit 201, file untouched; the plaintext temp file is mode
//! 0600 in a private temp dir and removed afterwards.

mod common;

use common::*;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Write an executable editor script that first records the path it was given
/// and that file's mode into `record`, then runs `body` (with "$1" the file).
fn editor(sb: &Sandbox, name: &str, body: &str) -> (PathBuf, PathBuf) {
    let record = sb.root().join(format!("{name}.record"));
    let script = sb.root().join(format!("{name}.sh"));
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$1\" > '{rec}'\nstat -c %a \"$1\" >> '{rec}'\n{body}\n",
            rec = record.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (script, record)
}

/// (path given to the editor, its mode as printed by `stat -c %a`)
fn recorded(record: &Path) -> (PathBuf, String) {
    let text = std::fs::read_to_string(record).expect("the editor was not run");
    let mut lines = text.lines();
    (
        PathBuf::from(lines.next().unwrap()),
        lines.next().unwrap_or("").to_string(),
    )
}

/// Line numbers (1-based) where two texts differ; panics if the line counts differ.
fn changed_lines(before: &str, after: &str) -> Vec<(usize, String)> {
    let (b, a): (Vec<&str>, Vec<&str>) = (before.lines().collect(), after.lines().collect());
    assert_eq!(
        b.len(),
        a.len(),
        "the encrypted file changed its number of lines\nbefore:\n{before}\nafter:\n{after}"
    );
    b.iter()
        .zip(&a)
        .enumerate()
        .filter(|(_, (x, y))| x != y)
        .map(|(i, (_, y))| (i + 1, y.to_string()))
        .collect()
}

/// Assert the diff of an encrypted file is exactly: the line of `key`, plus
/// the `lastmodified` and `mac` lines.
fn assert_only_value_mac_lastmodified_changed(before: &str, after: &str, key: &str) {
    let changed = changed_lines(before, after);
    let kinds: Vec<&str> = changed
        .iter()
        .map(|(_, l)| {
            let t = l.trim_start().trim_start_matches('"');
            if t.starts_with("mac") {
                "mac"
            } else if t.starts_with("lastmodified") {
                "lastmodified"
            } else if t.starts_with(key) {
                "value"
            } else {
                "OTHER"
            }
        })
        .collect();
    // `lastmodified` has one-second resolution: it may be unchanged when the
    // edit happens within the second of the encryption.
    let mut sorted: Vec<&str> = kinds.into_iter().filter(|k| *k != "lastmodified").collect();
    sorted.sort();
    assert_eq!(
        sorted,
        vec!["mac", "value"],
        "after the edit, exactly the edited value's line, `mac` (and `lastmodified`) must differ; changed lines: {changed:#?}"
    );
}

fn edited_tempfile_checks(sb: &Sandbox, record: &Path, file: &Path) {
    let (tmp_path, mode) = recorded(record);
    assert_eq!(
        mode.trim(),
        "600",
        "the plaintext temp file {} had mode {mode}",
        tmp_path.display()
    );
    assert!(
        !tmp_path.exists(),
        "the plaintext temp file {} still exists",
        tmp_path.display()
    );
    let dir = tmp_path.parent().unwrap();
    let file_dir = file.parent().unwrap();
    assert!(
        !dir.starts_with(file_dir),
        "the plaintext temp file {} was inside the edited file's directory {}",
        tmp_path.display(),
        file_dir.display()
    );
    assert!(
        !dir.starts_with(manifest_dir()),
        "the plaintext temp file {} was inside the repository",
        tmp_path.display()
    );
    // nothing left behind in TMPDIR either
    let leftovers: Vec<_> = walk(&sb.tmp());
    assert!(
        leftovers.is_empty(),
        "files left in TMPDIR after edit: {leftovers:?}"
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// (1) + (4): change one value. Exit 0; decrypt shows the change byte-exact;
/// only that line, `mac` and `lastmodified` changed in the encrypted file
/// (every other ENC token, comments included, kept); the temp file was 0600,
/// outside the file's directory and the repo, and is gone.
#[test]
fn edit_changes_one_value_and_keeps_other_ciphertexts() {
    let sb = Sandbox::new();
    for (name, old, new, key) in [
        (
            "comments_in_lists_of_maps.yaml",
            "staging-token",
            "rotated-token",
            "token:",
        ),
        (
            "default_unencrypted_suffix.yaml",
            "default-suffix-password",
            "NEW-PASSWORD",
            "password:",
        ),
        (
            "indent2.json",
            "json-indent2-password",
            "new-json-password",
            "password",
        ),
    ] {
        let c = corpus_file(name);
        let enc = sb.sopx_encrypt_to_work(&c.path, &c.flags);
        let before = std::fs::read_to_string(&enc).unwrap();
        let (script, record) = editor(&sb, "change", &format!("sed -i 's/{old}/{new}/' \"$1\""));
        let r = run(sb.sopx().env("EDITOR", &script).arg("edit").arg(&enc));
        r.assert_ok(&format!("sopx edit {name}"));
        let after = std::fs::read_to_string(&enc).unwrap();
        assert!(
            !after.contains(new),
            "{name}: the new value is visible in clear"
        );
        assert_only_value_mac_lastmodified_changed(&before, &after, key);
        let d = run(sb.sopx().arg("decrypt").arg(&enc));
        d.assert_ok("decrypt after edit");
        assert_eq!(
            d.stdout_str(),
            c.text().replace(old, new),
            "{name}: decrypted edited file"
        );
        edited_tempfile_checks(&sb, &record, &enc);
        if let Some(sops) = find_sops() {
            let s = run(sb.sops(&sops).arg("decrypt").arg(&enc));
            s.assert_ok("real sops decrypts the edited file");
            same_data(c.format, &c.text().replace(old, new), &s.stdout_str()).unwrap();
        }
    }
}

/// Editing a file written by the real sops keeps its other ciphertexts too.
#[test]
fn edit_of_a_sops_file_keeps_other_ciphertexts() {
    let sb = Sandbox::new();
    let enc = sb.copy_in(&sops_fixtures_dir().join("comments_head_foot.yaml"));
    let before = std::fs::read_to_string(&enc).unwrap();
    let (script, record) = editor(
        &sb,
        "change",
        "sed -i 's/s3cr3t-db-pass/rotated-db-pass/' \"$1\"",
    );
    let r = run(sb.sopx().env("EDITOR", &script).arg("edit").arg(&enc));
    r.assert_ok("sopx edit of a sops file");
    let after = std::fs::read_to_string(&enc).unwrap();
    assert_only_value_mac_lastmodified_changed(&before, &after, "password:");
    let d = run(sb.sopx().arg("decrypt").arg(&enc));
    d.assert_ok("decrypt");
    let expected = std::fs::read_to_string(sops_decrypted_dir().join("comments_head_foot.yaml"))
        .unwrap()
        .replace("s3cr3t-db-pass", "rotated-db-pass");
    same_data(Format::Yaml, &expected, &d.stdout_str()).unwrap();
    edited_tempfile_checks(&sb, &record, &enc);
}

/// (2) The editor changes nothing (only touches the file): exit 200 and the
/// encrypted file is byte-identical (sops: 200 "File has not changed").
#[test]
fn edit_without_change_exits_200() {
    let sb = Sandbox::new();
    let c = corpus_file("comments_head_foot.yaml");
    let enc = sb.sopx_encrypt_to_work(&c.path, &[]);
    let before = std::fs::read(&enc).unwrap();
    let (script, record) = editor(&sb, "touch", "sleep 1; touch \"$1\"");
    let r = run(sb.sopx().env("EDITOR", &script).arg("edit").arg(&enc));
    r.assert_code(200, "edit without change");
    assert_eq!(
        std::fs::read(&enc).unwrap(),
        before,
        "file changed although nothing was edited"
    );
    edited_tempfile_checks(&sb, &record, &enc);
}

/// (3) The editor writes invalid YAML and there is no TTY: sopx must not
/// hang (sops 3.11 does: it waits for a key press), exits non-zero, and the
/// original file is byte-identical. The message may say where the edited
/// plaintext was kept or that it was discarded.
#[test]
fn edit_to_invalid_yaml_without_tty_fails_and_keeps_file() {
    let sb = Sandbox::new();
    let c = corpus_file("indent2.yaml");
    let enc = sb.sopx_encrypt_to_work(&c.path, &[]);
    let before = std::fs::read(&enc).unwrap();
    let (script, _record) = editor(
        &sb,
        "invalid",
        "printf 'broken: [unclosed\\n  - x: \"\\n' >> \"$1\"",
    );
    let r = run_timeout(sb.sopx().env("EDITOR", &script).arg("edit").arg(&enc), 60)
        .expect("sopx edit hung (waiting for input without a TTY?)");
    assert!(!r.ok(), "edit to invalid YAML must fail; {}", r.describe());
    assert_eq!(
        std::fs::read(&enc).unwrap(),
        before,
        "original file modified"
    );
    // either "discarded", or the path where the edited plaintext was kept
    let lower = r.stderr.to_lowercase();
    let kept_at: Vec<&str> = r
        .stderr
        .split(|c: char| c.is_whitespace() || c == '\'' || c == '"' || c == '`')
        .map(|w| w.trim_end_matches([':', ',', '.', ';', ')']))
        .filter(|w| w.starts_with('/') && Path::new(w).is_file() && Path::new(w) != enc)
        .collect();
    assert!(
        lower.contains("discard") || !kept_at.is_empty(),
        "the message should say the edit was discarded or where it was kept: {}",
        r.stderr
    );
    eprintln!("sopx's message for an invalid edit: {}", r.stderr.trim());
}

/// The editor exits non-zero: sops exits 201 ("Could not run editor") and
/// leaves the file alone, even if the editor changed the plaintext.
#[test]
fn failing_editor_exits_201_and_keeps_file() {
    let sb = Sandbox::new();
    let c = corpus_file("indent2.yaml");
    let enc = sb.sopx_encrypt_to_work(&c.path, &[]);
    let before = std::fs::read(&enc).unwrap();
    let (script, record) = editor(&sb, "fail", "sed -i 's/web/changed/' \"$1\"; exit 3");
    let r = run(sb.sopx().env("EDITOR", &script).arg("edit").arg(&enc));
    r.assert_code(201, "failing editor");
    assert_eq!(
        std::fs::read(&enc).unwrap(),
        before,
        "file modified although the editor failed"
    );
    edited_tempfile_checks(&sb, &record, &enc);
}

/// `sopx FILE` is `sopx edit FILE`; SOPS_EDITOR wins over EDITOR; an editor
/// command with arguments ("sh script") is split like sops does.
#[test]
fn editor_selection() {
    let sb = Sandbox::new();
    let c = corpus_file("indent2.yaml");
    let enc = sb.sopx_encrypt_to_work(&c.path, &[]);

    let (script, _) = editor(
        &sb,
        "one",
        "sed -i 's/LOG_LEVEL: info/LOG_LEVEL: warn/' \"$1\"",
    );
    run(sb.sopx().env("EDITOR", &script).arg(&enc)).assert_ok("sopx FILE (implicit edit)");
    let d = run(sb.sopx().arg("decrypt").arg(&enc));
    assert_eq!(
        d.stdout_str(),
        c.text().replace("LOG_LEVEL: info", "LOG_LEVEL: warn")
    );

    let (script, _) = editor(
        &sb,
        "two",
        "sed -i 's/LOG_LEVEL: warn/LOG_LEVEL: error/' \"$1\"",
    );
    run(sb
        .sopx()
        .env("SOPS_EDITOR", &script)
        .env("EDITOR", "/bin/false")
        .arg("edit")
        .arg(&enc))
    .assert_ok("SOPS_EDITOR over EDITOR");
    let d = run(sb.sopx().arg("decrypt").arg(&enc));
    assert_eq!(
        d.stdout_str(),
        c.text().replace("LOG_LEVEL: info", "LOG_LEVEL: error")
    );

    let (script, _) = editor(&sb, "three", "sed -i 's/replicas: 3/replicas: 5/' \"$1\"");
    run(sb
        .sopx()
        .env("EDITOR", format!("sh {}", script.display()))
        .arg("edit")
        .arg(&enc))
    .assert_ok("EDITOR with arguments");
    let d = run(sb.sopx().arg("decrypt").arg(&enc));
    assert_eq!(
        d.stdout_str(),
        c.text()
            .replace("LOG_LEVEL: info", "LOG_LEVEL: error")
            .replace("replicas: 3", "replicas: 5")
    );
}

/// Adding a key in the editor: the new value is encrypted, every existing
/// line is kept (sops: one inserted line, plus `lastmodified`/`mac`).
#[test]
fn edit_adding_a_key_encrypts_it() {
    let sb = Sandbox::new();
    let c = corpus_file("default_unencrypted_suffix.yaml");
    let enc = sb.sopx_encrypt_to_work(&c.path, &[]);
    let before = std::fs::read_to_string(&enc).unwrap();
    let (script, _) = editor(
        &sb,
        "add",
        "printf 'new_key: brand-new-secret\\n' >> \"$1\"",
    );
    run(sb.sopx().env("EDITOR", &script).arg("edit").arg(&enc)).assert_ok("edit adding a key");
    let after = std::fs::read_to_string(&enc).unwrap();
    assert!(
        !after.contains("brand-new-secret"),
        "new value not encrypted"
    );
    assert!(
        after.contains("new_key: ENC[AES256_GCM,"),
        "new key missing or not encrypted:\n{after}"
    );
    let kept = before
        .lines()
        .filter(|l| {
            let t = l.trim_start();
            !t.starts_with("mac:") && !t.starts_with("lastmodified:")
        })
        .filter(|l| !after.lines().any(|a| a == *l))
        .collect::<Vec<_>>();
    assert!(
        kept.is_empty(),
        "lines of the encrypted file lost by the edit: {kept:#?}"
    );
    let d = run(sb.sopx().arg("decrypt").arg(&enc));
    d.assert_ok("decrypt");
    assert_eq!(
        d.stdout_str(),
        format!("{}new_key: brand-new-secret\n", c.text())
    );
}

/// `edit` of a file that does not exist starts from a template in the
/// file's own format, for every format.
#[test]
fn edit_creates_a_new_file_in_every_format() {
    let sb = Sandbox::new();
    let (ed, _) = editor(&sb, "noop", "true");
    for name in [
        "new.yaml", "new.json", "new.env", "new.ini", "new.toml", "new.bin",
    ] {
        let path = sb.root().join(name);
        let r = run(sb
            .sopx()
            .env("EDITOR", &ed)
            .args(["edit", "--age", &pub1()])
            .arg(&path));
        assert!(r.ok(), "{name}: {}", r.stderr);
        let d = run(sb.sopx().arg("decrypt").arg(&path));
        assert!(d.ok(), "{name}: {}", d.stderr);
        let text = String::from_utf8_lossy(&d.stdout);
        assert!(
            text.contains("example") || text.contains("New file"),
            "{name}: {text}"
        );
    }
}
