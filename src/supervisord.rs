//! The daemon mode: command line, configuration, then the supervisor loop.

use std::io::Write;
use std::path::PathBuf;

use crate::cli::{self, Parsed, SupervisordArgs};
use crate::config::load::ServerOverrides;
use crate::config::{self, dump, values};

/// Prints a usage error the way the reference does and returns status 2.
fn usage(progname: &str, message: &str) -> i32 {
    let _ = writeln!(
        std::io::stderr(),
        "Error: {message}\nFor help, use {progname} -h"
    );
    2
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
    let _ = writeln!(
        std::io::stderr(),
        "Error: configuration {} is valid, but the supervisor loop is not built yet",
        configfile.display()
    );
    1
}
