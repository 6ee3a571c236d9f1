//! `completions/` and `man/` are generated from the clap definition. This
//! test fails when they are stale; `SOPX_UPDATE_ASSETS=1 cargo test --bin
//! sopx assets` rewrites them.

use std::path::{Path, PathBuf};

use clap_complete::Shell;

fn generated() -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        let mut cmd = super::command();
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut cmd, "sopx", &mut buf);
        let name = match shell {
            Shell::Bash => "sopx.bash",
            Shell::Zsh => "_sopx",
            _ => "sopx.fish",
        };
        out.push((PathBuf::from("completions").join(name), buf));
    }
    let cmd = super::command();
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut buf).unwrap();
    out.push((PathBuf::from("man/sopx.1"), buf));
    for sub in cmd.get_subcommands() {
        let name = format!("sopx-{}", sub.get_name());
        let mut buf = Vec::new();
        clap_mangen::Man::new(sub.clone().name(&*name.clone().leak()))
            .render(&mut buf)
            .unwrap();
        out.push((PathBuf::from("man").join(format!("{name}.1")), buf));
    }
    out
}

#[test]
fn completions_and_man_pages_are_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let update = std::env::var_os("SOPX_UPDATE_ASSETS").is_some();
    let mut stale = Vec::new();
    for (rel, data) in generated() {
        let path = root.join(&rel);
        if update {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &data).unwrap();
        } else if std::fs::read(&path).ok().as_deref() != Some(&data[..]) {
            stale.push(rel.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "stale generated files {stale:?}: run `SOPX_UPDATE_ASSETS=1 cargo test --bin sopx assets`"
    );
}
