//! A Rust service that keeps its settings in a sops-encrypted file and reads
//! them at start-up, in process: no `sops` program, no plaintext on disk.
//!
//! ```sh
//! SOPS_AGE_KEY_FILE=examples/demo-age-key.txt \
//!   cargo run -p sopx-core --example service_config -- examples/secrets.enc.yaml
//! ```
//!
//! With `--key FILE` the age identity comes from that file only, as a
//! service would get it from its secret store; otherwise the keys are found
//! the way `sops` finds them (`SOPS_AGE_KEY_FILE`, `~/.config/sops/age/`,
//! GnuPG...).

use serde::Deserialize;
use sopx_core::{KeyRing, SopsFile};

/// The part of the settings this service needs; the rest is ignored.
#[derive(Deserialize)]
struct Settings {
    database: Database,
}

#[derive(Deserialize)]
struct Database {
    host: String,
    port: u16,
    user: String,
    password: String,
}

fn main() {
    // Errors as sentences (their Display), not as Debug structures.
    if let Err(e) = run() {
        eprintln!("service_config: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut path = None;
    let mut ring = KeyRing::from_env();
    while let Some(a) = args.next() {
        if a == "--key" {
            let file = args.next().ok_or("--key needs a file")?;
            ring = KeyRing::new().with_age_identities(&std::fs::read_to_string(file)?)?;
        } else {
            path = Some(a);
        }
    }
    let path = path.ok_or("usage: service_config [--key AGE_KEY_FILE] FILE")?;

    let file = SopsFile::open_path(&path, &ring)?;
    let settings: Settings = serde_json::from_value(
        file.documents()
            .into_iter()
            .next()
            .ok_or("the file is empty")?,
    )?;
    let db = &settings.database;
    // A real service would connect here; the password is never printed.
    println!(
        "connecting to {}:{} as {} (password: {} characters)",
        db.host,
        db.port,
        db.user,
        db.password.chars().count()
    );
    Ok(())
}
