//! The remote key sources' flags, made from the registry
//! (`keys::registry::SOURCES`) rather than written out per source: each
//! source's `--<long>` (with its environment variable) for new files,
//! `--add-<long>`/`--rm-<long>` for `rotate`, and a repeatable `--<long>`
//! for `groups add`. The values are kept per source, comma-separated.

use std::sync::OnceLock;

use clap::{Arg, ArgAction, ArgMatches, Args, Command, FromArgMatches};

use sopx_core::keys::registry::{KeySource, SOURCES};

/// Comma-separated ids per source (only the sources given).
pub type Ids = Vec<(&'static dyn KeySource, String)>;

/// `rotate`'s flag names and help per source, made once so that clap can
/// keep `&'static str`s.
struct RotateNames {
    add: String,
    rm: String,
    add_help: String,
    rm_help: String,
}

fn rotate_names() -> &'static [RotateNames] {
    static NAMES: OnceLock<Vec<RotateNames>> = OnceLock::new();
    NAMES.get_or_init(|| {
        SOURCES
            .iter()
            .map(|s| {
                let f = s.flags();
                RotateNames {
                    add: format!("add-{}", f.long),
                    rm: format!("rm-{}", f.long),
                    add_help: format!("{} to add", f.noun),
                    rm_help: format!("{} to remove", f.noun),
                }
            })
            .collect()
    })
}

fn single(id: &'static str, value_name: &'static str, help: &'static str) -> Arg {
    Arg::new(id)
        .long(id)
        .value_name(value_name)
        .help(help)
        .action(ArgAction::Set)
        .value_parser(clap::value_parser!(String))
}

fn get(m: &ArgMatches, id: &str) -> Option<String> {
    m.try_get_one::<String>(id).ok().flatten().cloned()
}

/// `--<long>` for the recipients of new files.
#[derive(Debug, Default, Clone)]
pub struct New(pub Ids);

impl Args for New {
    fn augment_args(mut cmd: Command) -> Command {
        for s in SOURCES {
            let f = s.flags();
            let mut arg = single(f.long, f.value_name, f.help).env(f.env);
            if let Some(c) = f.short {
                arg = arg.short(c);
            }
            cmd = cmd.arg(arg);
        }
        cmd
    }
    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl FromArgMatches for New {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        Ok(New(SOURCES
            .iter()
            .filter_map(|s| get(m, s.flags().long).map(|v| (*s, v)))
            .collect()))
    }
    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

/// `--add-<long>` and `--rm-<long>` for `rotate`.
#[derive(Debug, Default, Clone)]
pub struct Rotate {
    pub add: Ids,
    pub rm: Ids,
}

impl Args for Rotate {
    fn augment_args(mut cmd: Command) -> Command {
        for (s, n) in SOURCES.iter().zip(rotate_names()) {
            let v = s.flags().value_name;
            cmd = cmd
                .arg(single(&n.add, v, &n.add_help))
                .arg(single(&n.rm, v, &n.rm_help));
        }
        cmd
    }
    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl FromArgMatches for Rotate {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        let mut out = Rotate::default();
        for (s, n) in SOURCES.iter().zip(rotate_names()) {
            out.add.extend(get(m, &n.add).map(|v| (*s, v)));
            out.rm.extend(get(m, &n.rm).map(|v| (*s, v)));
        }
        Ok(out)
    }
    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

/// A repeatable `--<long>` for `groups add`.
#[derive(Debug, Default, Clone)]
pub struct Group(pub Ids);

impl Args for Group {
    fn augment_args(mut cmd: Command) -> Command {
        for s in SOURCES {
            let f = s.flags();
            cmd = cmd.arg(
                Arg::new(f.long)
                    .long(f.long)
                    .value_name(f.one)
                    .help(f.group_help)
                    .action(ArgAction::Append)
                    .value_parser(clap::value_parser!(String)),
            );
        }
        cmd
    }
    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl FromArgMatches for Group {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        let mut out = Vec::new();
        for s in SOURCES {
            let values: Vec<String> = m
                .try_get_many::<String>(s.flags().long)
                .ok()
                .flatten()
                .map(|v| v.cloned().collect())
                .unwrap_or_default();
            if !values.is_empty() {
                out.push((*s, values.join(",")));
            }
        }
        Ok(Group(out))
    }
    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}
