//! The daemon mode: command line, configuration, then the supervisor loop.
//!
//! The loop is one `mio::Poll` on one thread. Fixed tokens: the signalfd.
//! Every other source (child pipes, later connections) gets a token from a
//! counter that is never reused. Each pass: wait for an fd or the earliest
//! deadline, handle fd events (signals: reap, shut down, reopen; pipes:
//! copy output to logs), then feed due deadlines to the process automata
//! and perform the actions they return. Nothing sleeps and nothing ticks.

mod api;
mod event_loop;
mod events;
mod http;
mod web;

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::{self, Parsed, SupervisordArgs};
use crate::config::load::ServerOverrides;
use crate::config::{self, dump, values, ServerConfig};
use crate::runtime::daemon::{self, ReadyNotifier};
use crate::runtime::mainlog;
use crate::states::{level, SupervisorState};
use crate::sys;
use event_loop::Daemon;

/// Prints a usage error the way the reference does and returns status 2.
fn usage(progname: &str, message: &str) -> i32 {
    let _ = writeln!(
        std::io::stderr(),
        "Error: {message}\nFor help, use {progname} -h"
    );
    2
}

/// Writes one main-log line at a reference level number.
pub fn emit(level: u8, message: &str) {
    let lvl = match level {
        level::CRIT | level::ERRO => log::Level::Error,
        level::WARN => log::Level::Warn,
        level::INFO => log::Level::Info,
        level::DEBG => log::Level::Debug,
        _ => log::Level::Trace,
    };
    log::log!(target: level_target(level), lvl, "{message}");
}

/// The `log` target that carries the reference level through the facade
/// (the facade has five levels, the reference seven).
fn level_target(level: u8) -> &'static str {
    match level {
        level::CRIT => "CRIT",
        level::ERRO => "ERRO",
        level::WARN => "WARN",
        level::INFO => "INFO",
        level::DEBG => "DEBG",
        level::TRAC => "TRAC",
        _ => "BLAT",
    }
}

/// Validates each command-line value with the converter the reference uses
/// for that option.
fn overrides(a: &SupervisordArgs) -> Result<ServerOverrides, String> {
    fn check<T>(
        option: &str,
        value: &Option<String>,
        convert: impl Fn(&str) -> values::Result<T>,
    ) -> Result<Option<T>, String> {
        value
            .as_deref()
            .map(|v| convert(v).map_err(|m| format!("invalid value for --{option} {v:?}: {m}")))
            .transpose()
    }
    Ok(ServerOverrides {
        nodaemon: a.nodaemon,
        silent: a.silent,
        nocleanup: a.nocleanup,
        strip_ansi: a.strip_ansi,
        user: a.user.clone(),
        umask: check("umask", &a.umask, values::octal)?,
        directory: check("directory", &a.directory, values::existing_directory)?,
        logfile: check("logfile", &a.logfile, values::existing_dirpath)?,
        logfile_maxbytes: check("logfile_maxbytes", &a.logfile_maxbytes, values::byte_size)?,
        logfile_backups: check("logfile_backups", &a.logfile_backups, values::integer)?,
        loglevel: check("loglevel", &a.loglevel, values::logging_level)?,
        pidfile: check("pidfile", &a.pidfile, values::existing_dirpath)?,
        identifier: a.identifier.clone(),
        childlogdir: check("childlogdir", &a.childlogdir, values::existing_directory)?,
        minfds: check("minfds", &a.minfds, values::integer)?,
        minprocs: check("minprocs", &a.minprocs, values::integer)?,
    })
}

pub fn main(argv0: &str, progname: &str, args: &[String]) -> i32 {
    let parsed: Parsed<SupervisordArgs> =
        cli::parse(progname, args, cli::SUPERVISORD_OPTIONS, false);
    let a = match parsed {
        Parsed::Exit { output, status } => return crate::early_exit(&output, status),
        Parsed::Run(a) => a,
    };
    if a.version {
        return crate::early_exit(&format!("{}\n", crate::SUPERVISOR_VERSION), 0);
    }
    let overrides = match overrides(&a) {
        Ok(o) => o,
        Err(m) => return usage(progname, &m),
    };
    let configfile = match &a.configuration {
        Some(c) => PathBuf::from(c),
        None => match config::find_config_file(argv0) {
            Ok(p) => p,
            Err(m) => return usage(progname, &m),
        },
    };
    let server = match config::load_server(&configfile, &overrides) {
        Ok(c) => c,
        Err(e) => return usage(progname, &e.to_string()),
    };
    if a.dump_config {
        let ctl = match config::load::load_ctl_section(&configfile) {
            Ok(c) => c,
            Err(e) => return usage(progname, &e.to_string()),
        };
        let json = dump::to_json(&server, ctl.as_ref());
        let text = serde_json::to_string_pretty(&json).unwrap_or_default();
        return match writeln!(std::io::stdout(), "{text}") {
            Ok(()) => 0,
            Err(_) => 1,
        };
    }
    if a.profile_options.is_some() {
        let _ = writeln!(
            std::io::stderr(),
            "supervisord: --profile_options is accepted but ignored"
        );
    }
    run(progname, server, &configfile, &overrides)
}

/// Start-up, then the loop; again from the re-read file after SIGHUP.
fn run(
    progname: &str,
    mut server: ServerConfig,
    configfile: &Path,
    overrides: &ServerOverrides,
) -> i32 {
    sys::ensure_std_fds();
    let mut first = true;
    let mut ready = ReadyNotifier::none();
    loop {
        let mut criticals = Vec::new();
        let mut infos = Vec::new();
        if first {
            match daemon::drop_privileges(&server.settings) {
                Ok(Some(info)) => infos.push(info),
                Ok(None) if sys::getuid() == 0 => criticals.push(
                    "Supervisor is running as root.  Privileges were not dropped because no user is \
                     specified in the config file.  If you intend to run as root, you can set \
                     user=root in the config file to avoid this message."
                        .to_string(),
                ),
                Ok(None) => {}
                Err(m) => return usage(progname, &m),
            }
            match daemon::set_rlimits(&server.settings) {
                Ok(lines) => infos.extend(lines),
                Err(m) => return usage(progname, &m),
            }
            if let Err(m) = check_not_running(&server) {
                return usage(progname, &m);
            }
        }
        let _ = mainlog::install();
        let s = &server.settings;
        let log_settings = mainlog::Settings::new(
            &s.logfile,
            s.logfile_maxbytes,
            s.logfile_backups,
            s.loglevel,
            s.nodaemon,
            s.silent,
        );
        if let Err(e) = mainlog::open(&log_settings) {
            let _ = writeln!(
                std::io::stderr(),
                "Error: cannot open the log file {}: {e}",
                s.logfile
            );
        }
        for m in &criticals {
            emit(level::CRIT, m);
        }
        for m in &server.warnings {
            emit(level::WARN, m);
        }
        for m in server.infos.iter().chain(&infos) {
            emit(level::INFO, m);
        }
        if !server.settings.nocleanup {
            for w in daemon::clear_auto_child_logs(&server.settings) {
                emit(level::WARN, &w);
            }
        }
        let listeners = match http::open_listeners(&server.servers) {
            Ok(l) => l,
            Err(m) if first => return usage(progname, &m),
            Err(m) => {
                emit(level::CRIT, &m);
                return 1;
            }
        };
        for rpc in &server.rpcinterfaces {
            if rpc.factory == config::MAIN_RPC_FACTORY {
                emit(
                    level::INFO,
                    &format!(
                        "RPC interface {} initialized",
                        values::python_repr(&rpc.name)
                    ),
                );
            }
        }
        for l in &listeners {
            if l.config.username.is_none() {
                emit(
                    level::CRIT,
                    &format!(
                        "Server {} running without any HTTP authentication checking",
                        values::python_repr(&l.config.section)
                    ),
                );
            }
        }
        if first && !server.settings.nodaemon {
            emit(level::INFO, "daemonizing the supervisord process");
            match daemon::daemonize(&server.settings) {
                Ok(r) => ready = r,
                Err(e) => {
                    emit(level::CRIT, &format!("could not daemonize: {e}"));
                    return 1;
                }
            }
            if let Some(dir) = &server.settings.directory {
                emit(
                    level::INFO,
                    &format!("set current directory: {}", values::python_repr(dir)),
                );
            }
        }
        // After daemonizing: an epoll set watching a signalfd keeps waking
        // only the process that registered it, so both are made here.
        let mut d = match Daemon::new(server.clone(), overrides.clone(), listeners) {
            Ok(d) => d,
            Err(e) => {
                emit(
                    level::CRIT,
                    &format!("cannot start the supervisor loop: {e}"),
                );
                return 1;
            }
        };
        match daemon::write_pidfile(&server.settings.pidfile) {
            Ok(()) => emit(
                level::INFO,
                &format!("supervisord started with pid {}", sys::getpid()),
            ),
            Err(_) => emit(
                level::CRIT,
                &format!("could not write pidfile {}", server.settings.pidfile),
            ),
        }
        if let Err(e) = sys::become_subreaper() {
            emit(
                level::WARN,
                &format!("could not become a child subreaper: {e}"),
            );
        }
        ready.ready();
        let mood = d.run_forever();
        d.close_all_conns();
        http::remove_socket_files(&d.listeners);
        daemon::remove_pidfile(&server.settings.pidfile);
        drop(d);
        if mood != SupervisorState::Restarting {
            mainlog::close();
            return 0;
        }
        mainlog::close();
        first = false;
        match config::load_server(configfile, overrides) {
            Ok(new) => server = new,
            Err(e) => emit(
                level::CRIT,
                &format!(
                    "could not re-read the configuration ({e}); restarting with the previous one"
                ),
            ),
        }
    }
}

/// Refuses to start while another supervisord holds our pid file.
fn check_not_running(server: &ServerConfig) -> Result<(), String> {
    let Some(pid) = daemon::read_pidfile(&server.settings.pidfile) else {
        return Ok(());
    };
    if pid == sys::getpid() || !sys::pid_alive(pid) {
        return Ok(());
    }
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let looks_like_us = String::from_utf8_lossy(&cmdline).contains("supervisor");
    let socket_live = server.servers.iter().any(|s| match &s.listen {
        config::Listen::Unix { file, .. } => std::os::unix::net::UnixStream::connect(file).is_ok(),
        config::Listen::Inet { .. } => false,
    });
    if looks_like_us || socket_live {
        return Err(format!(
            "Another supervisord (pid {pid}) is already running with pid file {}. Shut it down \
             first before starting supervisord.",
            server.settings.pidfile
        ));
    }
    Ok(())
}
