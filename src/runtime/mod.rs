//! The runtime: everything that touches the OS on behalf of the model
//! (spawning, reaping, signals, log files, daemonizing). It owns the file
//! descriptors; the loop in `supervisord` drives it.

pub mod childlog;
pub mod daemon;
pub mod fcgi;
pub mod logfile;
pub mod mainlog;
pub mod spawn;
