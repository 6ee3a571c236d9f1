//! The library's front door, used as a Rust service would: keys passed in,
//! files as bytes.

use serde_json::json;
use sopx_core::{Error, Format, KeyRing, Recipients, SopsFile};

const IDENTITY: &str = include_str!("../../../tests/fixtures/keys/age-test.txt");
const RECIPIENT: &str = "age1cjw0fpmk6v645m4zfqq093j8fjftqmxq538j5xnl3n29h9pcmenqws6xat";
/// A key that opens nothing here.
const OTHER: &str = "AGE-SECRET-KEY-1Z2MFA0XGFAPLGGTEV3R9U4ZPUKG2LDEXV4X4JG5WYD3WCA75XQWSZAVS0Q";

const PLAIN: &[u8] =
    b"# service settings\ndb:\n  user: app   # kept\n  password: 's3cret'\nports: [80, 443]\n";

fn ring() -> KeyRing {
    KeyRing::new().with_age_identities(IDENTITY).unwrap()
}

fn sealed() -> Vec<u8> {
    let to = Recipients::new().age(RECIPIENT).unwrap();
    sopx_core::encrypt(PLAIN, Format::Yaml, &to).unwrap()
}

#[test]
fn encrypt_then_open_is_byte_exact() {
    let bytes = sealed();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(!text.contains("s3cret") && !text.contains("service settings"));
    let file = SopsFile::open(&bytes, Format::Yaml, &ring()).unwrap();
    assert_eq!(&file.plaintext().unwrap()[..], PLAIN);
    assert_eq!(
        file.documents(),
        vec![json!({"db": {"user": "app", "password": "s3cret"}, "ports": [80, 443]})]
    );
    assert_eq!(file.get(r#"["ports"][1]"#).unwrap(), json!(443));
    assert_eq!(
        file.recipients(),
        vec![format!("age recipient {RECIPIENT}")]
    );
}

#[test]
fn set_changes_only_that_value() {
    let bytes = sealed();
    let file = SopsFile::open(&bytes, Format::Yaml, &ring()).unwrap();
    let changed = file.set(r#"["db"]["password"]"#, &json!("n3w")).unwrap();
    let before = String::from_utf8(bytes).unwrap();
    let after = String::from_utf8(changed.clone()).unwrap();
    let differing: Vec<(&str, &str)> = before
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .collect();
    // The value, the MAC and the modification time (unless the second
    // did not change).
    assert!(matches!(differing.len(), 2 | 3), "{differing:#?}");
    assert!(differing[0].0.trim_start().starts_with("password:"));
    assert!(differing.iter().skip(1).all(|(a, _)| {
        let a = a.trim_start();
        a.starts_with("mac:") || a.starts_with("lastmodified:")
    }));
    let again = SopsFile::open(&changed, Format::Yaml, &ring()).unwrap();
    assert_eq!(again.get(r#"["db"]["password"]"#).unwrap(), json!("n3w"));
}

#[test]
fn an_explicit_ring_uses_only_its_keys() {
    let bytes = sealed();
    let wrong = KeyRing::new().with_age_identities(OTHER).unwrap();
    let err = SopsFile::open(&bytes, Format::Yaml, &wrong).unwrap_err();
    assert!(matches!(err, Error::Key(_)), "{err}");
    assert_eq!(err.exit_code(), 128);
    // An empty ring has nothing to try.
    let err = SopsFile::open(&bytes, Format::Yaml, &KeyRing::new()).unwrap_err();
    assert!(err.to_string().contains("no age identity"), "{err}");
}

#[test]
fn bad_input_is_a_typed_error() {
    assert!(matches!(
        Recipients::new().age("age1notakey"),
        Err(Error::Recipient(_))
    ));
    assert!(matches!(
        Recipients::new().pgp("--output=/tmp/x"),
        Err(Error::Recipient(_))
    ));
    assert!(matches!(
        KeyRing::new().with_age_identities("AGE-SECRET-KEY-1NOPE"),
        Err(Error::Key(_))
    ));
    let err = SopsFile::open_path("/nonexistent/secrets.enc.yaml", &ring()).unwrap_err();
    assert!(matches!(err, Error::Read { .. }));
    assert_eq!(err.exit_code(), 2);
    let err = SopsFile::open(PLAIN, Format::Yaml, &ring()).unwrap_err();
    assert!(matches!(err, Error::MetadataNotFound));
}

#[test]
fn a_tampered_value_fails_the_mac() {
    let bytes = sealed();
    let file = SopsFile::open(&bytes, Format::Yaml, &ring()).unwrap();
    let other = file.set(r#"["db"]["user"]"#, &json!("root")).unwrap();
    // Move the new `user` token into the old file: each token is valid,
    // the MAC is not.
    let token = |b: &[u8]| {
        let t = String::from_utf8(b.to_vec()).unwrap();
        t.lines()
            .find(|l| l.trim_start().starts_with("user:"))
            .unwrap()
            .to_string()
    };
    let forged = String::from_utf8(bytes.clone())
        .unwrap()
        .replace(&token(&bytes), &token(&other));
    let err = SopsFile::open(forged.as_bytes(), Format::Yaml, &ring()).unwrap_err();
    assert!(matches!(err, Error::MacMismatch), "{err}");
}

#[test]
fn debug_output_holds_no_secret() {
    let file = SopsFile::open(&sealed(), Format::Yaml, &ring()).unwrap();
    let shown = format!("{file:?} {:?}", ring());
    assert!(
        !shown.contains("s3cret") && !shown.contains("AGE-SECRET-KEY"),
        "{shown}"
    );
}

#[test]
fn a_ring_reads_the_variables_it_is_given() {
    let bytes = sealed();
    let key_file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/keys/age-test.txt"
    );
    let vars =
        move |name: &str| (name == "SOPS_AGE_KEY_FILE").then(|| std::ffi::OsString::from(key_file));
    let ring = KeyRing::new().with_env(vars);
    let file = SopsFile::open(&bytes, Format::Yaml, &ring).unwrap();
    assert_eq!(&file.plaintext().unwrap()[..], PLAIN);
    // The same ring without the variable finds nothing.
    let none = KeyRing::new().with_env(|_: &str| None);
    assert!(SopsFile::open(&bytes, Format::Yaml, &none).is_err());
}
