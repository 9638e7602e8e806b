//! Command lines of the three modes.
//!
//! Users call us with the reference's getopt-style options (`-cFILE`,
//! `-nk`, `--configuration=FILE`, `--logfile_maxbytes 1MB`, unique long
//! prefixes such as `--config`). [`normalize`] rewrites such a command line
//! into the one canonical form `argh` parses (`--long-name value`, then `--`
//! and the positional arguments), with the reference's error messages.
//! Values are kept as text here and validated by the config layer's
//! converters so messages match the reference's.

use argh::FromArgs;

/// One option of a getopt-style command line.
pub struct OptSpec {
    pub short: Option<char>,
    /// The reference's long name (may contain `_`).
    pub long: &'static str,
    pub takes_value: bool,
}

const fn opt(short: Option<char>, long: &'static str, takes_value: bool) -> OptSpec {
    OptSpec {
        short,
        long,
        takes_value,
    }
}

pub const SUPERVISORD_OPTIONS: &[OptSpec] = &[
    opt(Some('c'), "configuration", true),
    opt(Some('n'), "nodaemon", false),
    opt(Some('s'), "silent", false),
    opt(Some('h'), "help", false),
    opt(Some('?'), "help", false),
    opt(Some('v'), "version", false),
    opt(Some('u'), "user", true),
    opt(Some('m'), "umask", true),
    opt(Some('d'), "directory", true),
    opt(Some('l'), "logfile", true),
    opt(Some('y'), "logfile_maxbytes", true),
    opt(Some('z'), "logfile_backups", true),
    opt(Some('e'), "loglevel", true),
    opt(Some('j'), "pidfile", true),
    opt(Some('i'), "identifier", true),
    opt(Some('q'), "childlogdir", true),
    opt(Some('k'), "nocleanup", false),
    opt(Some('a'), "minfds", true),
    opt(Some('t'), "strip_ansi", false),
    opt(None, "minprocs", true),
    opt(None, "profile_options", true),
    opt(None, "dump-config", false),
];

pub const SUPERVISORCTL_OPTIONS: &[OptSpec] = &[
    opt(Some('c'), "configuration", true),
    opt(Some('h'), "help", false),
    opt(Some('?'), "help", false),
    opt(Some('v'), "version", false),
    opt(Some('i'), "interactive", false),
    opt(Some('s'), "serverurl", true),
    opt(Some('u'), "username", true),
    opt(Some('p'), "password", true),
    opt(Some('r'), "history_file", true),
];

/// Rewrites getopt-style `args` into canonical `--long-name [value]` form,
/// then `--` and the positional arguments (getopt stops at the first
/// argument that is not an option). Errors read like Python's getopt.
pub fn normalize(args: &[String], specs: &[OptSpec]) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut seen: Vec<&'static str> = Vec::new();
    let mut i = 0;
    let mut emit = |spec: &OptSpec, value: Option<String>, shown: String| -> Result<(), String> {
        if spec.long != "help" && spec.long != "version" {
            if seen.contains(&spec.long) {
                return Err(format!("conflicting command line option '{shown}'"));
            }
            seen.push(spec.long);
        }
        out.push(format!("--{}", spec.long.replace('_', "-")));
        out.extend(value);
        Ok(())
    };
    while i < args.len() {
        let arg = &args[i];
        if arg == "--" {
            i += 1;
            break;
        }
        if !arg.starts_with('-') || arg == "-" {
            break;
        }
        if let Some(body) = arg.strip_prefix("--") {
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (body, None),
            };
            let matches: Vec<&OptSpec> =
                specs.iter().filter(|s| s.long.starts_with(name)).collect();
            let spec = match matches.iter().find(|s| s.long == name) {
                Some(exact) => *exact,
                None => match matches.as_slice() {
                    [] => return Err(format!("option --{name} not recognized")),
                    [one] => *one,
                    [first, rest @ ..] if rest.iter().all(|s| s.long == first.long) => *first,
                    _ => return Err(format!("option --{name} not a unique prefix")),
                },
            };
            let value =
                if spec.takes_value {
                    match inline {
                        Some(v) => Some(v),
                        None => {
                            i += 1;
                            Some(args.get(i).cloned().ok_or_else(|| {
                                format!("option --{} requires argument", spec.long)
                            })?)
                        }
                    }
                } else if inline.is_some() {
                    return Err(format!("option --{} must not have an argument", spec.long));
                } else {
                    None
                };
            emit(spec, value, format!("--{}", spec.long))?;
            i += 1;
            continue;
        }
        for (pos, c) in arg[1..].char_indices() {
            let spec = specs
                .iter()
                .find(|s| s.short == Some(c))
                .ok_or_else(|| format!("option -{c} not recognized"))?;
            if spec.takes_value {
                let rest = &arg[1 + pos + c.len_utf8()..];
                let value = if rest.is_empty() {
                    i += 1;
                    args.get(i)
                        .cloned()
                        .ok_or_else(|| format!("option -{c} requires argument"))?
                } else {
                    rest.to_string()
                };
                emit(spec, Some(value), format!("-{c}"))?;
                break;
            }
            emit(spec, None, format!("-{c}"))?;
        }
        i += 1;
    }
    if i < args.len() {
        out.push("--".to_string());
        out.extend(args[i..].iter().cloned());
    }
    Ok(out)
}

/// The `-h` text of a mode, in the reference's layout (`-x/--long ARG --
/// what it does`), which scripts and the reference's tests look for.
fn usage_text(progname: &str) -> Option<&'static str> {
    let mode = progname.rsplit(' ').next().unwrap_or(progname);
    match mode {
        "supervisord" | "daemon" => Some(SUPERVISORD_USAGE),
        "supervisorctl" | "ctl" => Some(SUPERVISORCTL_USAGE),
        _ => None,
    }
}

const SUPERVISORD_USAGE: &str = "\
supervisord -- run a set of applications as daemons, restarting them as configured.

Usage: %s [options]

Options:
-c/--configuration FILENAME -- the configuration file (searched for if not given)
-n/--nodaemon -- stay in the foreground (like nodaemon=true)
-s/--silent -- do not echo the log to stdout (like silent=true)
-h/--help -- show this text and exit
-v/--version -- show the Supervisor version this implements and exit
-u/--user USER -- run as this user (a name or a numeric uid)
-m/--umask UMASK -- the umask of the daemon process (default 022)
-d/--directory DIRECTORY -- change to this directory when daemonized
-l/--logfile FILENAME -- use FILENAME as the main log file
-y/--logfile_maxbytes BYTES -- rotate the main log when it reaches BYTES
-z/--logfile_backups NUM -- keep NUM rotated main logs
-e/--loglevel LEVEL -- log level (critical, error, warn, info, debug, trace, blather)
-j/--pidfile FILENAME -- write the daemon's pid to FILENAME
-i/--identifier STR -- the identifier of this supervisord instance
-q/--childlogdir DIRECTORY -- the directory for AUTO child log files
-k/--nocleanup -- keep old AUTO child log files at start-up
-a/--minfds NUM -- the minimum number of file descriptors needed to start
-t/--strip_ansi -- remove ANSI escape sequences from child output
--minprocs NUM -- the minimum number of processes needed to start
--profile_options OPTIONS -- accepted for compatibility, ignored
";

const SUPERVISORCTL_USAGE: &str = "\
supervisorctl -- control applications run by supervisord, from the command line.

Usage: %s [options] [action [arguments]]

Options:
-c/--configuration FILENAME -- the configuration file (searched for if not given)
-h/--help -- show this text and exit
-i/--interactive -- start an interactive shell after running the action
-s/--serverurl URL -- where supervisord listens (default \"http://localhost:9001\")
-u/--username USERNAME -- user name for the server's authentication
-p/--password PASSWORD -- password for the server's authentication
-r/--history-file -- keep the shell's command history in this file

action [arguments] -- a command such as \"status\" or \"tail web\"; without one,
an interactive shell starts. \"help\" lists the actions.
";

/// supervisord -- run a set of programs as daemons and keep them running.
#[derive(FromArgs, Debug, Default, PartialEq)]
pub struct SupervisordArgs {
    /// configuration file path (searched for if not given)
    #[argh(option, short = 'c')]
    pub configuration: Option<String>,
    /// run in the foreground (same as nodaemon=true in the config file)
    #[argh(switch, short = 'n')]
    pub nodaemon: bool,
    /// no logs to stdout (same as silent=true in the config file)
    #[argh(switch, short = 's')]
    pub silent: bool,
    /// print the version number and exit
    #[argh(switch, short = 'v')]
    pub version: bool,
    /// run supervisord as this user (or numeric uid)
    #[argh(option, short = 'u')]
    pub user: Option<String>,
    /// umask for the daemon process (default 022)
    #[argh(option, short = 'm')]
    pub umask: Option<String>,
    /// directory to chdir to when daemonized
    #[argh(option, short = 'd')]
    pub directory: Option<String>,
    /// main log file path
    #[argh(option, short = 'l')]
    pub logfile: Option<String>,
    /// rotate the main log when it reaches this size (e.g. 50MB)
    #[argh(option, short = 'y')]
    pub logfile_maxbytes: Option<String>,
    /// number of rotated main logs to keep
    #[argh(option, short = 'z')]
    pub logfile_backups: Option<String>,
    /// log level: critical, error, warn, info, debug, trace or blather
    #[argh(option, short = 'e')]
    pub loglevel: Option<String>,
    /// pid file path
    #[argh(option, short = 'j')]
    pub pidfile: Option<String>,
    /// identifier of this supervisord instance
    #[argh(option, short = 'i')]
    pub identifier: Option<String>,
    /// directory for AUTO child log files
    #[argh(option, short = 'q')]
    pub childlogdir: Option<String>,
    /// do not remove old AUTO child log files at start-up
    #[argh(switch, short = 'k')]
    pub nocleanup: bool,
    /// minimum number of file descriptors needed to start
    #[argh(option, short = 'a')]
    pub minfds: Option<String>,
    /// strip ANSI escape sequences from child output
    #[argh(switch, short = 't')]
    pub strip_ansi: bool,
    /// minimum number of processes needed to start
    #[argh(option)]
    pub minprocs: Option<String>,
    /// accepted for compatibility; profiling is not supported
    #[argh(option)]
    pub profile_options: Option<String>,
    /// print the resolved configuration as JSON and exit
    #[argh(switch, hidden_help)]
    pub dump_config: bool,
}

/// supervisorctl -- control the programs run by supervisord.
#[derive(FromArgs, Debug, Default, PartialEq)]
pub struct SupervisorctlArgs {
    /// configuration file path (searched for if not given)
    #[argh(option, short = 'c')]
    pub configuration: Option<String>,
    /// start an interactive shell after running the command
    #[argh(switch, short = 'i')]
    pub interactive: bool,
    /// print the version number and exit
    #[argh(switch, short = 'v')]
    pub version: bool,
    /// URL supervisord listens on (default http://localhost:9001)
    #[argh(option, short = 's')]
    pub serverurl: Option<String>,
    /// user name for authentication
    #[argh(option, short = 'u')]
    pub username: Option<String>,
    /// password for authentication
    #[argh(option, short = 'p')]
    pub password: Option<String>,
    /// keep a command history in this file
    #[argh(option, short = 'r')]
    pub history_file: Option<String>,
    /// the command to run and its arguments
    #[argh(positional, greedy)]
    pub command: Vec<String>,
}

/// echo_supervisord_conf -- print a sample configuration file.
#[derive(FromArgs, Debug, Default, PartialEq)]
pub struct EchoConfArgs {
    /// print the version number and exit
    #[argh(switch, short = 'v')]
    pub version: bool,
}

/// What a command line asks for: the parsed arguments, or an early exit
/// (help text on stdout with status 0, or an error with status 2).
pub enum Parsed<T> {
    Run(T),
    Exit { output: String, status: i32 },
}

/// Parses a mode's arguments: getopt-style normalization, then argh.
pub fn parse<T: FromArgs>(
    progname: &str,
    args: &[String],
    specs: &[OptSpec],
    positional_allowed: bool,
) -> Parsed<T> {
    let usage_error = |msg: String| Parsed::Exit {
        output: format!("Error: {msg}\nFor help, use {progname} -h\n"),
        status: 2,
    };
    let canonical = match normalize(args, specs) {
        Ok(c) => c,
        Err(msg) => return usage_error(msg),
    };
    let options = canonical.split(|a| a == "--").next().unwrap_or(&[]);
    if options.iter().any(|a| a == "--help") {
        if let Some(text) = usage_text(progname) {
            return Parsed::Exit {
                output: text.replace("%s", progname),
                status: 0,
            };
        }
    }
    if let Some(split) = canonical.iter().position(|a| a == "--") {
        if !positional_allowed {
            let rest: Vec<String> = canonical[split + 1..]
                .iter()
                .map(|a| format!("'{a}'"))
                .collect();
            return usage_error(format!(
                "positional arguments are not supported: [{}]",
                rest.join(", ")
            ));
        }
    }
    let refs: Vec<&str> = canonical.iter().map(String::as_str).collect();
    match T::from_args(&[progname], &refs) {
        Ok(parsed) => Parsed::Run(parsed),
        Err(early) => match early.status {
            Ok(()) => Parsed::Exit {
                output: early.output,
                status: 0,
            },
            Err(()) => usage_error(early.output.trim_end().to_string()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(args: &[&str], specs: &[OptSpec]) -> Result<Vec<String>, String> {
        let owned: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        normalize(&owned, specs)
    }

    #[test]
    fn getopt_forms_become_canonical() {
        assert_eq!(
            norm(
                &["-cFILE", "-nk", "--logfile_maxbytes=1MB", "--config", "x"],
                SUPERVISORD_OPTIONS
            )
            .unwrap_err(),
            "conflicting command line option '--configuration'"
        );
        assert_eq!(
            norm(
                &["-cFILE", "-nk", "--logfile_maxbytes=1MB", "-e", "debug"],
                SUPERVISORD_OPTIONS
            ),
            Ok(vec![
                "--configuration",
                "FILE",
                "--nodaemon",
                "--nocleanup",
                "--logfile-maxbytes",
                "1MB",
                "--loglevel",
                "debug"
            ]
            .into_iter()
            .map(String::from)
            .collect())
        );
        assert_eq!(
            norm(&["--ident", "x", "--minp=5"], SUPERVISORD_OPTIONS),
            Ok(vec!["--identifier", "x", "--minprocs", "5"]
                .into_iter()
                .map(String::from)
                .collect())
        );
    }

    #[test]
    fn getopt_errors() {
        assert_eq!(
            norm(&["-x"], SUPERVISORD_OPTIONS).unwrap_err(),
            "option -x not recognized"
        );
        assert_eq!(
            norm(&["-c"], SUPERVISORD_OPTIONS).unwrap_err(),
            "option -c requires argument"
        );
        assert_eq!(
            norm(&["--logfile"], SUPERVISORD_OPTIONS).unwrap_err(),
            "option --logfile requires argument"
        );
        assert_eq!(
            norm(&["--log", "x"], SUPERVISORD_OPTIONS).unwrap_err(),
            "option --log not a unique prefix"
        );
        assert_eq!(
            norm(&["--nodaemon=1"], SUPERVISORD_OPTIONS).unwrap_err(),
            "option --nodaemon must not have an argument"
        );
        assert_eq!(
            norm(&["-n", "-n"], SUPERVISORD_OPTIONS).unwrap_err(),
            "conflicting command line option '-n'"
        );
    }

    #[test]
    fn ctl_stops_at_the_first_command_word() {
        assert_eq!(
            norm(
                &["-s", "unix:///x", "signal USR1", "-f", "web"],
                SUPERVISORCTL_OPTIONS
            ),
            Ok(
                vec!["--serverurl", "unix:///x", "--", "signal USR1", "-f", "web"]
                    .into_iter()
                    .map(String::from)
                    .collect()
            )
        );
        let parsed: Parsed<SupervisorctlArgs> = parse(
            "supervisorctl",
            &[
                "-c".to_string(),
                "f".to_string(),
                "tail".to_string(),
                "-f".to_string(),
                "x".to_string(),
            ],
            SUPERVISORCTL_OPTIONS,
            true,
        );
        match parsed {
            Parsed::Run(a) => {
                assert_eq!(a.configuration.as_deref(), Some("f"));
                assert_eq!(a.command, vec!["tail", "-f", "x"]);
            }
            Parsed::Exit { output, .. } => panic!("unexpected exit: {output}"),
        }
    }

    #[test]
    fn help_exits_zero_and_errors_exit_two() {
        let help: Parsed<SupervisordArgs> = parse(
            "supervisord",
            &["-h".to_string()],
            SUPERVISORD_OPTIONS,
            false,
        );
        assert!(
            matches!(help, Parsed::Exit { status: 0, ref output } if output.contains("--nodaemon"))
        );
        let bad: Parsed<SupervisordArgs> = parse(
            "supervisord",
            &["-x".to_string()],
            SUPERVISORD_OPTIONS,
            false,
        );
        assert!(matches!(bad, Parsed::Exit { status: 2, ref output }
            if output == "Error: option -x not recognized\nFor help, use supervisord -h\n"));
        let positional: Parsed<SupervisordArgs> = parse(
            "supervisord",
            &["extra".to_string()],
            SUPERVISORD_OPTIONS,
            false,
        );
        assert!(matches!(positional, Parsed::Exit { status: 2, ref output }
            if output.starts_with("Error: positional arguments are not supported: ['extra']")));
    }
}
