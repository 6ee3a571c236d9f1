//! Encryption and decryption in pieces (large YAML files) against the
//! whole-file paths: on every YAML fixture that can be cut, cut at every
//! place it may be, the encryption opens as one file to the exact input
//! bytes and is the whole-file path's output but for the random
//! ciphertexts; decryption in pieces gives what the whole-file path gives,
//! on sopx's files and on sops's.

mod common;

use common::{RECIPIENT, root, yaml_files};

use sopx_core::ops::EncryptOptions;
use sopx_core::{Format, KeyRing, Recipients, SopsFile};

fn ring() -> KeyRing {
    let id = std::fs::read_to_string(root().join("tests/fixtures/keys/age-test.txt")).unwrap();
    KeyRing::new().with_age_identities(&id).unwrap()
}

fn opts() -> EncryptOptions {
    EncryptOptions {
        key_groups: vec![vec![sopx_core::metadata::MasterKey::Age {
            recipient: RECIPIENT.into(),
            enc: String::new(),
        }]],
        ..EncryptOptions::default()
    }
}

fn open_opts() -> sopx_core::ops::OpenOptions {
    sopx_core::ops::OpenOptions {
        ignore_mac: false,
        decryption_order: Vec::new(),
        keys: ring(),
    }
}

/// The text with each token reduced to its type and the `sops` block (and
/// its random wrapped keys) left out.
fn shape(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("ENC[") {
        out.push_str(&rest[..i]);
        let end = rest[i..].find(']').map_or(rest.len(), |e| i + e + 1);
        let tok = &rest[i..end];
        out.push_str("ENC[");
        out.push_str(tok.rsplit(',').next().unwrap_or(""));
        rest = &rest[end..];
    }
    out.push_str(rest);
    let mut lines = Vec::new();
    let mut in_block = false;
    for l in out.lines() {
        if l == "sops:" {
            in_block = true;
            continue;
        }
        if in_block && (l.starts_with(' ') || l.is_empty()) {
            continue;
        }
        in_block = false;
        lines.push(l);
    }
    lines.join("\n")
}

/// Encrypts `src` cut into pieces as small as may be; `None` if it is not
/// one to cut.
fn in_pieces(src: &[u8]) -> Option<Vec<u8>> {
    let mut spool = tempfile::tempfile().unwrap();
    if !sopx_core::pieces::encrypt(src, &opts(), Some(1), &mut spool).unwrap() {
        assert_eq!(
            spool.metadata().unwrap().len(),
            0,
            "a refusal leaves the spool empty"
        );
        return None;
    }
    use std::io::{Read, Seek};
    spool.rewind().unwrap();
    let mut out = Vec::new();
    spool.read_to_end(&mut out).unwrap();
    Some(out)
}

#[test]
fn every_fixture_that_can_be_cut_encrypts_in_pieces_as_a_whole() {
    let mut files = Vec::new();
    yaml_files(&root().join("tests/fixtures"), &mut files);
    files.sort();
    let ring = ring();
    let to = Recipients::new().age(RECIPIENT).unwrap();
    let (mut cut, mut whole) = (0, 0);
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        if text.contains("sops:") || text.contains("ENC[") {
            continue;
        }
        let Ok(reference) = sopx_core::encrypt(text.as_bytes(), Format::Yaml, &to) else {
            continue;
        };
        let Some(out) = in_pieces(text.as_bytes()) else {
            whole += 1;
            continue;
        };
        cut += 1;
        let name = f.display();
        let opened = SopsFile::open(&out, Format::Yaml, &ring)
            .unwrap_or_else(|e| panic!("{name}: the file encrypted in pieces does not open: {e}"));
        assert!(
            opened.plaintext().unwrap()[..] == *text.as_bytes(),
            "{name}: decrypts to other bytes"
        );
        let by_pieces = sopx_core::pieces::decrypt(&out, &open_opts(), Some(1))
            .unwrap_or_else(|e| panic!("{name}: decryption in pieces fails: {e}"))
            .unwrap_or_else(|| panic!("{name}: not decrypted in pieces"));
        assert!(
            by_pieces[..] == *text.as_bytes(),
            "{name}: decrypts in pieces to other bytes"
        );
        let (a, b) = (
            shape(&String::from_utf8(out).unwrap()),
            shape(&String::from_utf8(reference).unwrap()),
        );
        assert!(
            a == b,
            "{name}: differs from the whole-file encryption:\n{a}\n---\n{b}"
        );
    }
    eprintln!("{cut} fixtures cut into pieces, {whole} not cut");
    assert!(cut >= 100, "only {cut} fixtures were cut into pieces");
}

#[test]
fn a_file_needing_a_layout_hint_is_left_to_the_whole_file_path() {
    // `0x1F` reads back as 31: the lossless splice needs a hint, which only
    // the whole-file path writes.
    assert!(in_pieces(b"a: 1\nb: 0x1F\nc: 3\n").is_none());
    assert!(in_pieces(b"a: 1\nb: 2\nc: 3\n").is_some());
}

#[test]
fn the_mac_covers_every_piece() {
    let src = b"a: 1\nb: two\nc:\n  - 3\n  - four\n";
    let out = in_pieces(src).unwrap();
    let text = String::from_utf8(out).unwrap();
    // Swapping two pieces' tokens breaks the MAC (or the additional data).
    let toks: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_once(": ENC["))
        .map(|(_, t)| t)
        .collect();
    let swapped = text
        .replacen(toks[0], "X", 1)
        .replacen(toks[1], toks[0], 1)
        .replacen("X", toks[1], 1);
    assert!(SopsFile::open(swapped.as_bytes(), Format::Yaml, &ring()).is_err());
    assert!(SopsFile::open(text.as_bytes(), Format::Yaml, &ring()).is_ok());
}

#[test]
fn files_sops_encrypted_decrypt_in_pieces_as_a_whole() {
    let mut files = Vec::new();
    yaml_files(&root().join("tests/fixtures/sops"), &mut files);
    files.sort();
    let opts = open_opts();
    let mut cut = 0;
    for f in &files {
        let src = std::fs::read(f).unwrap();
        let Ok(whole) = sopx_core::ops::open(&src, Format::Yaml, &opts).and_then(|o| o.plaintext())
        else {
            continue;
        };
        if let Some(p) = sopx_core::pieces::decrypt(&src, &opts, Some(1)).unwrap() {
            cut += 1;
            assert!(
                p[..] == whole[..],
                "{}: decrypts in pieces to other bytes",
                f.display()
            );
        }
    }
    eprintln!(
        "{cut} of {} files sops encrypted decrypted in pieces",
        files.len()
    );
    assert!(cut >= 10, "only {cut} sops files were decrypted in pieces");
}

#[test]
fn decryption_in_pieces_checks_the_mac_over_every_piece() {
    let mut opts = opts();
    opts.rules.unencrypted_suffix = Some("_clear".into());
    let mut spool = tempfile::tempfile().unwrap();
    let src = b"a: 1\nb_clear: two\nc: 3\n";
    assert!(sopx_core::pieces::encrypt(src, &opts, Some(1), &mut spool).unwrap());
    use std::io::{Read, Seek};
    spool.rewind().unwrap();
    let mut out = String::new();
    spool.read_to_string(&mut out).unwrap();
    let plain = sopx_core::pieces::decrypt(out.as_bytes(), &open_opts(), Some(1))
        .unwrap()
        .unwrap();
    assert_eq!(&plain[..], src);
    let changed = out.replace("b_clear: two", "b_clear: three");
    let e = sopx_core::pieces::decrypt(changed.as_bytes(), &open_opts(), Some(1)).unwrap_err();
    assert!(matches!(e, sopx_core::Error::MacMismatch), "{e}");
}
