//! The ctl mode: command line and configuration of `supervisorctl`.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::{self, Parsed, SupervisorctlArgs};
use crate::config::{self, values, CtlConfig};

fn usage(progname: &str, message: &str) -> i32 {
    let _ = writeln!(
        std::io::stderr(),
        "Error: {message}\nFor help, use {progname} -h"
    );
    2
}

/// The client settings: config file values, then command-line options.
pub fn settings(argv0: &str, a: &SupervisorctlArgs) -> Result<CtlConfig, String> {
    if let Some(url) = &a.serverurl {
        values::url(url).map_err(|m| format!("invalid value for --serverurl {url:?}: {m}"))?;
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
    let parsed: Parsed<SupervisorctlArgs> =
        cli::parse(progname, args, cli::SUPERVISORCTL_OPTIONS, true);
    let a = match parsed {
        Parsed::Exit { output, status } => return crate::early_exit(&output, status),
        Parsed::Run(a) => a,
    };
    if a.version {
        return crate::early_exit(&format!("{}\n", crate::SUPERVISOR_VERSION), 0);
    }
    let settings = match settings(argv0, &a) {
        Ok(s) => s,
        Err(m) => return usage(progname, &m),
    };
    let _ = writeln!(
        std::io::stderr(),
        "Error: cannot reach {}: the supervisorctl commands are not built yet",
        settings.serverurl
    );
    1
}
