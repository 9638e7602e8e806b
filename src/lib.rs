//! A drop-in replacement for Supervisor 4.x: `supervisord`, `supervisorctl`
//! and `echo_supervisord_conf` in one binary. See ARCHITECTURE.md for the
//! map of layers; `main.rs` only dispatches on the program name.

pub mod cli;
pub mod confecho;
pub mod config;
pub mod ctl;
pub mod model;
pub mod rpc;
pub mod runtime;
pub mod states;
pub mod supervisord;
pub mod sys;

use std::io::Write;

/// The Supervisor release whose behaviour and interfaces we reproduce.
pub const SUPERVISOR_VERSION: &str = "4.3.0";
/// This implementation's own version.
pub const OUR_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Writes a command-line layer's early exit (help on stdout, errors on
/// stderr) and returns its status.
pub fn early_exit(output: &str, status: i32) -> i32 {
    let _ = if status == 0 {
        std::io::stdout().write_all(output.as_bytes())
    } else {
        std::io::stderr().write_all(output.as_bytes())
    };
    status
}
