//! Installs the main log for the daemon's run (a stand-in until the main
//! log writer lands: the reference's line format to the log file and, in
//! the foreground, to stdout).

use std::fs::File;
use std::io::Write;
use std::sync::Mutex;

use crate::config::ServerSettings;

struct MainLog {
    level: u8,
    file: Option<File>,
    path: String,
    echo: bool,
}

static STATE: Mutex<Option<MainLog>> = Mutex::new(None);

fn level_of(target: &str) -> (u8, &'static str) {
    match target {
        "CRIT" => (50, "CRIT"),
        "ERRO" => (40, "ERRO"),
        "WARN" => (30, "WARN"),
        "INFO" => (20, "INFO"),
        "DEBG" => (10, "DEBG"),
        "TRAC" => (5, "TRAC"),
        _ => (3, "BLAT"),
    }
}

struct Facade;

impl log::Log for Facade {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        let (num, name) = level_of(record.target());
        let Ok(mut guard) = STATE.lock() else { return };
        let Some(state) = guard.as_mut() else { return };
        if num < state.level {
            return;
        }
        let line = format!("{} {name} {}\n", timestamp(), record.args());
        if let Some(f) = &mut state.file {
            let _ = f.write_all(line.as_bytes());
        }
        if state.echo {
            let _ = std::io::stdout().write_all(line.as_bytes());
        }
    }

    fn flush(&self) {}
}

/// `YYYY-MM-DD HH:MM:SS,mmm` in local time.
fn timestamp() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as libc::time_t;
    // SAFETY: tm is plain data; localtime_r fills it from a valid time_t.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the call.
    unsafe { libc::localtime_r(&secs, &mut tm) };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02},{:03}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        now.subsec_millis()
    )
}

fn open(path: &str) -> Option<File> {
    if path == "syslog" {
        return None;
    }
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .ok()
}

/// Opens the main log for these settings (again after a restart).
pub fn install(settings: &ServerSettings) {
    let state = MainLog {
        level: settings.loglevel,
        file: open(&settings.logfile),
        path: settings.logfile.clone(),
        echo: settings.nodaemon && !settings.silent,
    };
    if let Ok(mut guard) = STATE.lock() {
        *guard = Some(state);
    }
    if log::set_logger(&Facade).is_ok() {
        log::set_max_level(log::LevelFilter::Trace);
    }
}

/// Reopens the log file (SIGUSR2).
pub fn reopen() {
    if let Ok(mut guard) = STATE.lock() {
        if let Some(state) = guard.as_mut() {
            state.file = open(&state.path);
        }
    }
}
