//! sops's command-line grammar on top of clap: global flags may come before
//! the subcommand, the last of a repeated flag wins, `h` means `help`, and
//! the version names sops when sopx is installed as `sops`.

use std::ffi::{OsStr, OsString};
use std::path::Path;

use clap::{Arg, Command};

/// The sops version sopx's command line and file format match.
pub const SOPS_COMPAT_VERSION: &str = "3.11.0";

/// Whether the program was started under the name `sops` (a symlink, a
/// copy, `sops.exe`).
pub fn invoked_as_sops(argv0: Option<&OsStr>) -> bool {
    argv0
        .and_then(|a| Path::new(a).file_stem().map(|s| s.to_owned()))
        .is_some_and(|s| s == "sops")
}

/// What `--version` prints: sops's first line when installed as `sops`
/// (version parsers such as Ansible's `^sops (\d+)\.(\d+)\.(\d+)` read
/// it), sopx's own name otherwise.
pub fn version_line(as_sops: bool) -> String {
    let own = env!("CARGO_PKG_VERSION");
    if as_sops {
        format!("sops {SOPS_COMPAT_VERSION} (sopx {own})")
    } else {
        format!("sopx {own} (sops {SOPS_COMPAT_VERSION} compatible)")
    }
}

/// Repeated flags: the last one wins, as with sops (urfave/cli), in every
/// subcommand. Flags that collect values (`groups add --age`) still collect.
pub fn last_flag_wins(cmd: Command) -> Command {
    cmd.args_override_self(true).mut_subcommands(last_flag_wins)
}

fn find_long<'a>(cmd: &'a Command, name: &str) -> Option<&'a Arg> {
    cmd.get_arguments().find(|a| {
        a.get_long() == Some(name) || a.get_all_aliases().is_some_and(|al| al.contains(&name))
    })
}

fn find_short(cmd: &Command, c: char) -> Option<&Arg> {
    cmd.get_arguments().find(|a| a.get_short() == Some(c))
}

fn takes_value(a: &Arg) -> bool {
    a.get_action().takes_values()
}

/// Moves the global flags written before a subcommand (`sops --config
/// c.yaml decrypt f`) to after it, where clap expects them. Other flags
/// there are dropped with a warning, as sops ignores them. Anything else
/// is left as it is. Returns the new arguments and the warnings.
pub fn reorder(cmd: &Command, argv: Vec<OsString>) -> (Vec<OsString>, Vec<String>) {
    let mut warnings = Vec::new();
    let mut groups: Vec<(String, &Arg, Vec<OsString>)> = Vec::new();
    let mut i = 1;
    while i < argv.len() {
        let Some(tok) = argv[i].to_str() else { break };
        if tok == "-" || tok == "--" || !tok.starts_with('-') {
            break;
        }
        let (arg, inline) = if let Some(long) = tok.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, _)) => (n, true),
                None => (long, false),
            };
            (find_long(cmd, name), inline)
        } else {
            let mut chars = tok[1..].chars();
            let c = chars.next();
            let rest = chars.as_str();
            (c.and_then(|c| find_short(cmd, c)), !rest.is_empty())
        };
        let Some(arg) = arg else { break };
        let mut toks = vec![argv[i].clone()];
        if takes_value(arg) && !inline && i + 1 < argv.len() {
            toks.push(argv[i + 1].clone());
            i += 1;
        }
        groups.push((tok.split('=').next().unwrap_or(tok).to_string(), arg, toks));
        i += 1;
    }
    let Some(word) = argv.get(i).and_then(|w| w.to_str()) else {
        return (argv, warnings);
    };
    let word = if word == "h" { "help" } else { word };
    if groups.is_empty() {
        let mut out = argv.clone();
        out[i] = word.into();
        return (out, warnings);
    }
    if cmd.find_subcommand(word).is_none() {
        return (argv, warnings);
    }
    let mut out = vec![argv[0].clone(), word.into()];
    for (flag, arg, toks) in groups {
        // sops reads only its global flags (--config, --verbose, …) when
        // they come before a subcommand; the subcommand's own flags given
        // there are ignored (`sops --in-place encrypt f` prints to stdout).
        if arg.is_global_set() {
            out.extend(toks);
        } else {
            warnings.push(format!(
                "{flag} before `{word}` is ignored, as sops ignores it there; give it after `{word}`"
            ));
        }
    }
    out.extend(argv[i + 1..].iter().cloned());
    (out, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(v: &[OsString]) -> Vec<&str> {
        v.iter().map(|w| w.to_str().unwrap()).collect()
    }

    fn re(args: &[&str]) -> (Vec<String>, Vec<String>) {
        let cmd = crate::cli::command();
        let argv = std::iter::once("sops")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect();
        let (out, w) = reorder(&cmd, argv);
        (words(&out)[1..].iter().map(|s| s.to_string()).collect(), w)
    }

    #[test]
    fn global_flags_move_after_the_subcommand() {
        assert_eq!(
            re(&["--config", "c.yaml", "--verbose", "decrypt", "f"]).0,
            ["decrypt", "--config", "c.yaml", "--verbose", "f"]
        );
        assert_eq!(
            re(&["--input-type=yaml", "decrypt", "f"]).0,
            ["decrypt", "f"]
        );
        let (out, w) = re(&["--age", "x", "decrypt", "f"]);
        assert_eq!(out, ["decrypt", "f"]);
        assert_eq!(w.len(), 1);
        assert_eq!(re(&["-d", "f.yaml"]).0, ["-d", "f.yaml"]);
        assert_eq!(re(&["h"]).0, ["help"]);
    }

    #[test]
    fn version_lines() {
        assert!(version_line(true).starts_with("sops 3.11.0 (sopx "));
        assert!(version_line(false).starts_with("sopx "));
        assert!(invoked_as_sops(Some(OsStr::new("/usr/bin/sops"))));
        assert!(!invoked_as_sops(Some(OsStr::new("/usr/bin/sopx"))));
    }
}
