//! Every message a user reads, checked as files a reviewer can read:
//! `tests/cmd/*.trycmd` hold the command lines with their exact output and
//! exit code (`tests/cmd/help.trycmd` the `--help` texts,
//! `tests/cmd/errors.trycmd` the errors). After an intended change,
//! `TRYCMD=overwrite cargo test --test cli_snapshots` rewrites them; the diff
//! is the review.

#[test]
fn messages_and_help() {
    trycmd::TestCases::new()
        .default_bin_path(env!("CARGO_BIN_EXE_sopx"))
        // A clean environment: no user keys, no config from the machine.
        .env("HOME", "/nonexistent-home")
        .env("XDG_CONFIG_HOME", "/nonexistent-home/.config")
        .env("SOPS_AGE_KEY_FILE", "key.txt")
        .env("NO_COLOR", "1")
        .case("tests/cmd/*.trycmd");
}
