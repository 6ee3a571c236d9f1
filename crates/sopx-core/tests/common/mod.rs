//! Helpers shared by the library's integration tests.

use std::path::{Path, PathBuf};

/// The age recipient of `tests/fixtures/keys/age-test.txt`.
pub const RECIPIENT: &str = "age1cjw0fpmk6v645m4zfqq093j8fjftqmxq538j5xnl3n29h9pcmenqws6xat";

/// The repository's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `.yaml`/`.yml` file under `dir`, recursively (none if it is missing).
pub fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            yaml_files(&p, out);
        } else if matches!(p.extension().and_then(|x| x.to_str()), Some("yaml" | "yml")) {
            out.push(p);
        }
    }
}
