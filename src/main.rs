//! One binary, three programs: the argv[0] basename picks the mode
//! (`supervisord`, `supervisorctl`, `echo_supervisord_conf`); under any
//! other name the first argument does (`supervisor ctl status`).

use std::io::Write;

use supervisor::{confecho, ctl, supervisord, OUR_VERSION, SUPERVISOR_VERSION};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Daemon,
    Ctl,
    EchoConf,
}

fn mode_named(name: &str) -> Option<Mode> {
    match name {
        "supervisord" | "daemon" => Some(Mode::Daemon),
        "supervisorctl" | "ctl" => Some(Mode::Ctl),
        "echo_supervisord_conf" | "echo-conf" => Some(Mode::EchoConf),
        _ => None,
    }
}

const MULTICALL_USAGE: &str = "\
usage: supervisor <mode> [arguments]

modes:
  daemon, supervisord                  run the process supervisor (supervisord)
  ctl, supervisorctl                   control a running supervisor (supervisorctl)
  echo-conf, echo_supervisord_conf     print a sample configuration file

Installed as (or linked to) supervisord, supervisorctl or echo_supervisord_conf,
the binary runs that mode directly. 'supervisor <mode> -h' describes each mode.
";

fn main() {
    let mut args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let argv0 = if args.is_empty() {
        "supervisor".to_string()
    } else {
        args.remove(0)
    };
    let basename = argv0.rsplit('/').next().unwrap_or(&argv0).to_string();
    let (mode, progname, rest) = match mode_named(&basename) {
        Some(mode) => (mode, basename, args),
        None => match args.first().map(String::as_str) {
            Some(word) if mode_named(word).is_some() => {
                let mode = mode_named(word).unwrap_or(Mode::Daemon);
                let progname = format!("{basename} {word}");
                (mode, progname, args[1..].to_vec())
            }
            Some("-h" | "--help") => exit_with(MULTICALL_USAGE, 0),
            Some("-v" | "--version") => exit_with(
                &format!("supervisor {OUR_VERSION} (Supervisor {SUPERVISOR_VERSION} compatible)\n"),
                0,
            ),
            _ => {
                let _ = std::io::stderr().write_all(MULTICALL_USAGE.as_bytes());
                std::process::exit(2);
            }
        },
    };
    let status = match mode {
        Mode::Daemon => supervisord::main(&argv0, &progname, &rest),
        Mode::Ctl => ctl::main(&argv0, &progname, &rest),
        Mode::EchoConf => confecho::main(&progname, &rest),
    };
    std::process::exit(status);
}

fn exit_with(text: &str, status: i32) -> ! {
    let _ = std::io::stdout().write_all(text.as_bytes());
    std::process::exit(status);
}
