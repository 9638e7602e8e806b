//! The ctl mode (`supervisorctl`): talks to supervisord over XML-RPC and
//! prints what the reference's `supervisorctl` prints, with the same exit
//! statuses, for one command given on the command line or in a shell.
//!
//! Layers, top down: `mod.rs` (command line, settings) → `shell` (the
//! interactive loop) → `controller` (one line: parse, run, report) → the
//! commands (`processes`, `admin`, `logs`, `help`) → `client` (HTTP over
//! unix or TCP sockets), `reply` (reply shapes), `format` (output layouts),
//! `error` (failures in the reference's words), `input` (stdin lines) and
//! `os` (Ctrl-C, poll, terminal echo). The ctl imports only `config`,
//! `cli`, `rpc::xmlrpc` and `sys` from the rest of the crate.

mod admin;
mod client;
mod controller;
mod error;
mod format;
mod help;
mod input;
mod logs;
mod processes;
mod reply;
mod shell;

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::{self, Parsed, SupervisorctlArgs};
use crate::config::{self, values, CtlConfig};

use crate::config::values::python_repr as py_repr;
use client::Server;
use controller::Ctl;

fn usage(progname: &str, message: &str) -> i32 {
    let _ = writeln!(
        std::io::stderr(),
        "Error: {message}\nFor help, use {progname} -h"
    );
    2
}

/// The client settings: config file values, then command-line options.
pub fn settings(argv0: &str, a: &SupervisorctlArgs) -> Result<CtlConfig, String> {
    settings_as_typed(argv0, a, "-s")
}

/// [`settings`], naming the server URL option as the user typed it.
fn settings_as_typed(
    argv0: &str,
    a: &SupervisorctlArgs,
    url_flag: &str,
) -> Result<CtlConfig, String> {
    if let Some(url) = &a.serverurl {
        values::url(url).map_err(|_| {
            format!(
                "invalid value for {url_flag} {}: value {} is not a URL",
                py_repr(url),
                py_repr(url)
            )
        })?;
    }
    let file: Option<PathBuf> = match &a.configuration {
        Some(c) => Some(PathBuf::from(c)),
        None => config::load::search_paths(argv0)
            .into_iter()
            .map(PathBuf::from)
            .find(|p| Path::new(p).exists()),
    };
    let mut c = match &file {
        Some(f) => config::load_ctl(f).map_err(|e| e.to_string())?,
        None => CtlConfig::default(),
    };
    if let Some(url) = &a.serverurl {
        c.serverurl = url.clone();
    }
    if a.username.is_some() {
        c.username = a.username.clone();
    }
    if a.password.is_some() {
        c.password = a.password.clone();
    }
    if let Some(h) = &a.history_file {
        c.history_file = Some(h.clone());
    }
    Ok(c)
}

pub fn main(argv0: &str, progname: &str, args: &[String]) -> i32 {
    // The pages of code and data mapped while loading (whole large folios
    // of the executable and libc) are let go: the client's peak RSS is
    // then what it runs (about 2.3 MiB against 3.1 for `status`, for some
    // 0.3 ms of CPU).
    crate::sys::trim_code_pages();
    let parsed: Parsed<SupervisorctlArgs> =
        cli::parse(progname, args, cli::SUPERVISORCTL_OPTIONS, true);
    let a = match parsed {
        Parsed::Exit { output, status } => return crate::early_exit(&output, status),
        Parsed::Run(a) => a,
    };
    if a.version {
        return crate::early_exit(&format!("{}\n", crate::SUPERVISOR_VERSION), 0);
    }
    // getopt names a long option in full, however it was abbreviated.
    let url_flag = if args.iter().any(|w| w.starts_with("--s")) {
        "--serverurl"
    } else {
        "-s"
    };
    let settings = match settings_as_typed(argv0, &a, url_flag) {
        Ok(s) => s,
        Err(m) => return usage(progname, &m),
    };
    let server = Server {
        url: settings.serverurl.clone(),
        username: settings.username.clone(),
        password: settings.password.clone(),
    };
    let interactive = a.interactive || a.command.is_empty();
    let mut ctl = Ctl::new(server, interactive);
    if !a.command.is_empty() {
        // As the reference: the words are joined and parsed again, so
        // `supervisorctl "signal HUP" web` works.
        ctl.onecmd(&a.command.join(" "));
        return ctl.exit_status;
    }
    shell::run(&mut ctl, &settings.prompt, settings.history_file.as_deref());
    0
}
