//! The daemon's main log (`[supervisord] logfile=`), as the reference's
//! `options.make_logger` builds it, behind the `log` facade.
//!
//! # Lines
//!
//! Every record becomes `YYYY-MM-DD HH:MM:SS,mmm LEVEL message\n` in local
//! time (the process's `TZ`, read once, as Python's `time.localtime`),
//! with the reference's seven level names (see [`Level`]). The timestamp is
//! computed as the reference computes it from Python's float `time.time()`
//! (so `…,001` can print as `…,000`: see [`Timestamp::from_system_time`]).
//! A message containing newlines is written as is (one record, several
//! lines), except to syslog.
//!
//! # Sinks, in the reference's order
//!
//! 1. the console, when running in the foreground and not silent
//!    (`nodaemon and not silent`): **stdout**, as the reference's
//!    `handle_stdout`;
//! 2. the log file, a [`RotatingFile`] with `logfile_maxbytes` /
//!    `logfile_backups` (`maxbytes <= 0`: never rotated), or, for
//!    `logfile=syslog`, the system log: ident `supervisord`, facility
//!    `LOG_USER`, priority `LOG_INFO` whatever the level, one syslog message
//!    per line of the record, each formatted as a full line (timestamp and
//!    level included, trailing newline too) as the reference's
//!    `SyslogHandler` does.
//!
//! Records below `loglevel` go nowhere. A failing log file write is
//! reported once on stderr (until a write succeeds again) and never stops
//! the daemon; the reference prints a traceback each time.
//!
//! # Before the log file is open
//!
//! Records logged before [`open`] (configuration warnings, "Set uid to user
//! … succeeded", …) are kept in memory and written when it is opened,
//! stamped with the time of opening, filtered by `loglevel`, in the
//! reference's order: it keeps them in three lists and logs all criticals,
//! then all warnings, then all infos (`options.make_logger`); we do the
//! same by sorting the buffer by decreasing level, keeping the order of
//! arrival within a level. The buffer holds at most 2 MiB of messages;
//! later ones are counted and a WARN line says how many were dropped.
//! [`close`] (before a SIGHUP restart) goes back to buffering.
//!
//! # Using it
//!
//! [`install`] once at start-up, then `log::error!`, `log::warn!`,
//! `log::info!`, `log::debug!`, `log::trace!` from anywhere in the crate,
//! plus [`crit!`](crate::crit) and [`blather!`](crate::blather) for the two
//! levels `log` lacks, or [`log_at`] with a [`Level`]. [`open`] with the
//! settings once the configuration is loaded and privileges dropped;
//! [`reopen`] on SIGUSR2; [`clear`] for the `clearLog` RPC; [`close`] before
//! a restart. Records from other crates (`mio` logs at trace level) are
//! ignored: only targets inside this crate and level names are kept.
//!
//! The `log` crate has five levels and the reference seven; the level
//! travels in the record's target when that target is one of the
//! reference's level names (`CRIT`, `ERRO`, `WARN`, `INFO`, `DEBG`, `TRAC`,
//! `BLAT`), which then wins over the record's `log` level: `crit!` logs at
//! `log::Level::Error` with target [`CRIT_TARGET`] (`"CRIT"`), `blather!`
//! at `log::Level::Trace` with target [`BLATHER_TARGET`] (`"BLAT"`). Any
//! other target of this crate keeps its `log` level (error → ERRO, warn →
//! WARN, info → INFO, debug → DEBG, trace → TRAC).
//!
//! `readLog` is [`read_range`](super::logfile::read_range) on the
//! configured `logfile` path (after the reference's existence check, which
//! `read_range` includes); with `logfile=syslog` that path is the relative
//! name `syslog`, as in the reference.
//!
//! The state is one `static Mutex<MainLog>` (the daemon has one thread; the
//! mutex only makes the static safe). [`MainLog`] itself is a plain value,
//! which is what the unit tests exercise.

use std::ffi::CString;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, Once, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use super::logfile::{ReadError, RotatingFile};

/// `log` target that marks a record as CRIT (with `log::Level::Error`).
pub const CRIT_TARGET: &str = "CRIT";
/// `log` target that marks a record as BLAT (with `log::Level::Trace`).
pub const BLATHER_TARGET: &str = "BLAT";

/// Messages buffered before the log file is open, at most (bytes).
const PENDING_MAX_BYTES: usize = 1 << 21;

/// Logs at the reference's CRIT level (50) through the `log` facade.
#[macro_export]
macro_rules! crit {
    ($($arg:tt)+) => {
        ::log::error!(target: $crate::runtime::mainlog::CRIT_TARGET, $($arg)+)
    };
}

/// Logs at the reference's BLAT level (3) through the `log` facade.
#[macro_export]
macro_rules! blather {
    ($($arg:tt)+) => {
        ::log::trace!(target: $crate::runtime::mainlog::BLATHER_TARGET, $($arg)+)
    };
}

/// The reference's log levels (`loggers.LevelsByName`), most severe first.
/// They compare by their numbers: `Level::Critical > Level::Blather`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// `CRIT` 50: probably requires immediate user attention.
    Critical,
    /// `ERRO` 40.
    Error,
    /// `WARN` 30.
    Warn,
    /// `INFO` 20 (the default `loglevel`).
    Info,
    /// `DEBG` 10.
    Debug,
    /// `TRAC` 5.
    Trace,
    /// `BLAT` 3: for developers debugging supervisor itself.
    Blather,
}

impl Level {
    /// All levels, most severe first.
    pub const ALL: [Level; 7] = [
        Level::Critical,
        Level::Error,
        Level::Warn,
        Level::Info,
        Level::Debug,
        Level::Trace,
        Level::Blather,
    ];

    /// The reference's number (`loglevel` as configured is one of these).
    pub fn number(self) -> u8 {
        match self {
            Level::Critical => 50,
            Level::Error => 40,
            Level::Warn => 30,
            Level::Info => 20,
            Level::Debug => 10,
            Level::Trace => 5,
            Level::Blather => 3,
        }
    }

    /// The level with this number, if it is one of the seven.
    pub fn from_number(number: u8) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.number() == number)
    }

    /// The four-letter name written in each line (`LevelsByName`).
    pub fn name(self) -> &'static str {
        match self {
            Level::Critical => "CRIT",
            Level::Error => "ERRO",
            Level::Warn => "WARN",
            Level::Info => "INFO",
            Level::Debug => "DEBG",
            Level::Trace => "TRAC",
            Level::Blather => "BLAT",
        }
    }

    /// The configuration name (`LevelsByDescription`): `critical`, `error`,
    /// `warn`, `info`, `debug`, `trace`, `blather`.
    pub fn description(self) -> &'static str {
        match self {
            Level::Critical => "critical",
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
            Level::Trace => "trace",
            Level::Blather => "blather",
        }
    }

    /// The level named `description` (exact, lower-case, as the
    /// reference's `getLevelNumByDescription`).
    pub fn from_description(description: &str) -> Option<Level> {
        Level::ALL
            .into_iter()
            .find(|l| l.description() == description)
    }

    /// The level named `name` (`CRIT` .. `BLAT`).
    pub fn from_name(name: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.name() == name)
    }

    /// The level a `log` record stands for: the target's, when the target
    /// is a level name, else the record's `log` level.
    pub fn of_record(level: log::Level, target: &str) -> Level {
        if let Some(level) = Level::from_name(target) {
            return level;
        }
        match level {
            log::Level::Error => Level::Error,
            log::Level::Warn => Level::Warn,
            log::Level::Info => Level::Info,
            log::Level::Debug => Level::Debug,
            log::Level::Trace => Level::Trace,
        }
    }

    /// The `log` max-level filter that lets every record at or above this
    /// threshold through (the facade's cheap pre-filter).
    fn log_filter(self) -> log::LevelFilter {
        match self {
            Level::Critical | Level::Error => log::LevelFilter::Error,
            Level::Warn => log::LevelFilter::Warn,
            Level::Info => log::LevelFilter::Info,
            Level::Debug => log::LevelFilter::Debug,
            Level::Trace | Level::Blather => log::LevelFilter::Trace,
        }
    }
}

impl PartialOrd for Level {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Level {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.number().cmp(&other.number())
    }
}

/// A broken-down local time with milliseconds, as a log line shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp {
    pub year: i32,
    /// 1..=12
    pub month: u32,
    /// 1..=31
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// 0..=999
    pub millis: u32,
}

impl Timestamp {
    /// The local time of `t`, exactly as the reference's `LogRecord`
    /// derives it from `now = time.time()`: Python's float seconds
    /// (`nanoseconds / 1e9` in double precision), `localtime(floor(now))`
    /// and milliseconds `int((now - int(now)) * 1000)`. Float rounding
    /// makes some values differ from the exact time: `.001` s prints as
    /// `000`, and `.999999999` s rounds up to the next second. If the C
    /// library cannot convert the time, UTC is used.
    pub fn from_system_time(t: SystemTime) -> Timestamp {
        let (seconds, millis) = python_seconds_and_millis(nanos_since_epoch(t));
        let mut ts = match os::localtime(seconds) {
            Some(tm) => tm,
            None => utc(seconds),
        };
        ts.millis = millis;
        ts
    }

    /// `YYYY-MM-DD HH:MM:SS,mmm`, the reference's `asctime`.
    pub fn asctime(&self) -> String {
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02},{:03}",
            self.year, self.month, self.day, self.hour, self.minute, self.second, self.millis
        )
    }
}

/// One log line: `asctime LEVEL message\n`, with `wall_time` in local time.
pub fn format_line(level: Level, wall_time: SystemTime, message: &str) -> String {
    format_line_at(level, &Timestamp::from_system_time(wall_time), message)
}

/// [`format_line`] with the time already broken down (pure).
pub fn format_line_at(level: Level, time: &Timestamp, message: &str) -> String {
    format!("{} {} {}\n", time.asctime(), level.name(), message)
}

/// The syslog messages for one record, as the reference's `SyslogHandler`
/// builds them: trailing newlines dropped, then one full line per line.
fn syslog_lines(level: Level, time: &Timestamp, message: &str) -> Vec<String> {
    message
        .trim_end_matches('\n')
        .split('\n')
        .map(|line| format_line_at(level, time, line))
        .collect()
}

/// Sends one message to the system log as the reference's Python does
/// (`syslog.syslog(msg)`: priority `LOG_INFO`, facility `LOG_USER`, ident
/// `supervisord`, opened on first use). NUL bytes, which C strings cannot
/// carry, are removed. For the children's `stdout_syslog` too.
pub fn send_to_syslog(message: &str) {
    static OPENED: Once = Once::new();
    OPENED.call_once(os::open_syslog);
    let text = match CString::new(message) {
        Ok(text) => text,
        Err(e) => {
            let mut bytes = e.into_vec();
            bytes.retain(|&b| b != 0);
            match CString::new(bytes) {
                Ok(text) => text,
                Err(_) => return,
            }
        }
    };
    os::syslog_info(&text);
}

/// What [`open`] needs from the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `logfile`: a path, or the literal `syslog`.
    pub logfile: String,
    /// `logfile_maxbytes`; `<= 0` never rotates.
    pub maxbytes: i64,
    /// `logfile_backups`; `<= 0` truncates instead of keeping backups.
    pub backups: i64,
    /// `loglevel`.
    pub level: Level,
    /// Also write to stdout: `nodaemon && !silent`.
    pub console: bool,
}

impl Settings {
    /// From the `[supervisord]` values as the configuration holds them; an
    /// unknown `loglevel` number means `info`.
    pub fn new(
        logfile: &str,
        maxbytes: i64,
        backups: i64,
        loglevel: u8,
        nodaemon: bool,
        silent: bool,
    ) -> Settings {
        Settings {
            logfile: logfile.to_string(),
            maxbytes,
            backups,
            level: Level::from_number(loglevel).unwrap_or(Level::Info),
            console: nodaemon && !silent,
        }
    }
}

enum Target {
    File(RotatingFile),
    Syslog,
}

struct Sinks {
    level: Level,
    console: Option<Box<dyn Write + Send>>,
    target: Target,
    /// The last log file write failed and that was reported on stderr.
    failing: bool,
}

impl Sinks {
    fn emit(&mut self, level: Level, message: &str, now: SystemTime) {
        if level < self.level {
            return;
        }
        let time = Timestamp::from_system_time(now);
        let line = format_line_at(level, &time, message);
        if let Some(console) = self.console.as_mut() {
            // As the reference, ignore a closed stdout (EPIPE).
            let _ = console.write_all(line.as_bytes());
            let _ = console.flush();
        }
        match &mut self.target {
            Target::File(file) => match file.write_all(line.as_bytes()) {
                Ok(()) => self.failing = false,
                Err(e) => {
                    if !self.failing {
                        self.failing = true;
                        let _ = writeln!(
                            io::stderr(),
                            "supervisord: cannot write the log file {}: {e}",
                            file.path().display()
                        );
                    }
                }
            },
            Target::Syslog => {
                for line in syslog_lines(level, &time, message) {
                    send_to_syslog(&line);
                }
            }
        }
    }
}

enum State {
    Buffering {
        pending: Vec<(Level, String)>,
        bytes: usize,
        dropped: usize,
    },
    Open(Sinks),
}

/// The main log's state: buffering until opened, then writing to its
/// sinks. The process-wide instance sits behind the free functions of this
/// module; tests make their own.
pub struct MainLog {
    state: State,
}

impl Default for MainLog {
    fn default() -> Self {
        MainLog::new()
    }
}

impl MainLog {
    /// A main log that buffers until [`open`](Self::open).
    pub const fn new() -> MainLog {
        MainLog {
            state: State::Buffering {
                pending: Vec::new(),
                bytes: 0,
                dropped: 0,
            },
        }
    }

    /// Opens the sinks `settings` describe (stdout as the console) and
    /// writes what was buffered. On error (the log file cannot be opened)
    /// nothing changes: the buffer is kept.
    pub fn open(&mut self, settings: &Settings, now: SystemTime) -> io::Result<()> {
        let console: Option<Box<dyn Write + Send>> = if settings.console {
            Some(Box::new(io::stdout()))
        } else {
            None
        };
        self.open_with_console(settings, console, now)
    }

    /// [`open`](Self::open) with the console written to `console` instead
    /// of stdout (`settings.console` is then ignored).
    pub fn open_with_console(
        &mut self,
        settings: &Settings,
        console: Option<Box<dyn Write + Send>>,
        now: SystemTime,
    ) -> io::Result<()> {
        let target = if settings.logfile == "syslog" {
            Target::Syslog
        } else {
            Target::File(RotatingFile::open(
                &settings.logfile,
                u64::try_from(settings.maxbytes).unwrap_or(0),
                u32::try_from(settings.backups.max(0)).unwrap_or(u32::MAX),
            )?)
        };
        let sinks = Sinks {
            level: settings.level,
            console,
            target,
            failing: false,
        };
        let previous = std::mem::replace(&mut self.state, State::Open(sinks));
        if let State::Buffering {
            mut pending,
            dropped,
            ..
        } = previous
        {
            // Stable: arrival order is kept within a level.
            pending.sort_by_key(|(level, _)| std::cmp::Reverse(*level));
            for (level, message) in pending {
                self.log(level, &message, now);
            }
            if dropped > 0 {
                let message = format!(
                    "{dropped} messages logged before the log file was opened were dropped"
                );
                self.log(Level::Warn, &message, now);
            }
        }
        Ok(())
    }

    /// Whether a record at `level` would be written (always true while
    /// buffering: the threshold is applied when the buffer is written).
    pub fn enabled(&self, level: Level) -> bool {
        match &self.state {
            State::Buffering { .. } => true,
            State::Open(sinks) => level >= sinks.level,
        }
    }

    /// The threshold, once open.
    pub fn level(&self) -> Option<Level> {
        match &self.state {
            State::Buffering { .. } => None,
            State::Open(sinks) => Some(sinks.level),
        }
    }

    /// Changes the threshold (no effect while buffering).
    pub fn set_level(&mut self, level: Level) {
        if let State::Open(sinks) = &mut self.state {
            sinks.level = level;
        }
    }

    /// Logs one record at `now`.
    pub fn log(&mut self, level: Level, message: &str, now: SystemTime) {
        match &mut self.state {
            State::Buffering {
                pending,
                bytes,
                dropped,
            } => {
                if *bytes + message.len() <= PENDING_MAX_BYTES {
                    *bytes += message.len();
                    pending.push((level, message.to_string()));
                } else {
                    *dropped += 1;
                }
            }
            State::Open(sinks) => sinks.emit(level, message, now),
        }
    }

    /// The log file's path (None while buffering or for syslog).
    pub fn logfile(&self) -> Option<&Path> {
        match &self.state {
            State::Open(Sinks {
                target: Target::File(file),
                ..
            }) => Some(file.path()),
            _ => None,
        }
    }

    /// SIGUSR2, as the reference's `options.reopenlogs`: logs
    /// `supervisord logreopen` at INFO (into the old file), then re-opens
    /// the log file at its path. On error the file stays closed and the
    /// next line retries opening it.
    pub fn reopen(&mut self, now: SystemTime) -> io::Result<()> {
        self.log(Level::Info, "supervisord logreopen", now);
        self.reopen_file()
    }

    fn reopen_file(&mut self) -> io::Result<()> {
        if let State::Open(sinks) = &mut self.state {
            sinks.failing = false;
            if let Target::File(file) = &mut sinks.target {
                return file.reopen();
            }
        }
        Ok(())
    }

    /// The `clearLog` RPC, as the reference does it: `NoFile` unless the
    /// log file exists; delete it (backups are kept; failure: `Failed`);
    /// then, once per sink that can be re-opened (the console, then the
    /// file), log `reopening log file` at INFO and re-open that sink. So
    /// the new file starts empty and the console shows the line once or
    /// twice. A re-open failure is `Failed`. With `logfile=syslog` the
    /// answer is `NoFile` (the reference would look for, and delete, a file
    /// named `syslog` in its working directory).
    pub fn clear(&mut self, now: SystemTime) -> Result<(), ReadError> {
        let State::Open(sinks) = &self.state else {
            return Err(ReadError::NoFile);
        };
        let Target::File(file) = &sinks.target else {
            return Err(ReadError::NoFile);
        };
        let path = file.path().to_path_buf();
        let with_console = sinks.console.is_some();
        if !path.exists() {
            return Err(ReadError::NoFile);
        }
        fs::remove_file(&path).map_err(|_| ReadError::Failed)?;
        if with_console {
            self.log(Level::Info, "reopening log file", now);
        }
        self.log(Level::Info, "reopening log file", now);
        self.reopen_file().map_err(|_| ReadError::Failed)
    }

    /// Closes the sinks and goes back to buffering (before a restart).
    pub fn close(&mut self) {
        self.state = State::Buffering {
            pending: Vec::new(),
            bytes: 0,
            dropped: 0,
        };
    }
}

// ---------------------------------------------------------------------------
// The process-wide main log and its `log` facade.

static MAIN: Mutex<MainLog> = Mutex::new(MainLog::new());

struct Facade;

static FACADE: Facade = Facade;

fn main_log() -> MutexGuard<'static, MainLog> {
    MAIN.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Records from this crate (module paths `supervisor::…`) and those whose
/// target is a level name; other crates' records are ignored.
fn ours(target: &str) -> bool {
    Level::from_name(target).is_some()
        || target == "supervisor"
        || target.starts_with("supervisor::")
}

impl log::Log for Facade {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        ours(metadata.target())
            && main_log().enabled(Level::of_record(metadata.level(), metadata.target()))
    }

    fn log(&self, record: &log::Record) {
        if !ours(record.target()) {
            return;
        }
        let level = Level::of_record(record.level(), record.target());
        // Formatted before taking the lock; a failing Display is not a panic.
        let mut message = String::new();
        let _ = std::fmt::write(&mut message, *record.args());
        main_log().log(level, &message, SystemTime::now());
    }

    fn flush(&self) {}
}

fn update_max_level(log: &MainLog) {
    log::set_max_level(match log.level() {
        Some(level) => level.log_filter(),
        None => log::LevelFilter::Trace,
    });
}

/// Makes the main log the `log` facade's logger; once per process (an
/// error the second time). Records are buffered until [`open`].
pub fn install() -> Result<(), log::SetLoggerError> {
    log::set_logger(&FACADE)?;
    update_max_level(&main_log());
    Ok(())
}

/// Opens the main log's sinks and writes what was buffered (see
/// [`MainLog::open`]).
pub fn open(settings: &Settings) -> io::Result<()> {
    let mut log = main_log();
    let result = log.open(settings, SystemTime::now());
    update_max_level(&log);
    result
}

/// SIGUSR2: see [`MainLog::reopen`].
pub fn reopen() -> io::Result<()> {
    main_log().reopen(SystemTime::now())
}

/// The `clearLog` RPC: see [`MainLog::clear`].
pub fn clear() -> Result<(), ReadError> {
    main_log().clear(SystemTime::now())
}

/// Closes the sinks and buffers again (before a SIGHUP restart).
pub fn close() {
    let mut log = main_log();
    log.close();
    update_max_level(&log);
}

/// Changes the threshold of the open main log.
pub fn set_level(level: Level) {
    let mut log = main_log();
    log.set_level(level);
    update_max_level(&log);
}

/// Logs `message` at `level` now (without going through the facade).
pub fn log_at(level: Level, message: &str) {
    main_log().log(level, message, SystemTime::now());
}

/// Whether a record at `level` would be written now.
pub fn enabled(level: Level) -> bool {
    main_log().enabled(level)
}

/// The open log file's path (None while buffering or for syslog).
pub fn logfile() -> Option<PathBuf> {
    main_log().logfile().map(Path::to_path_buf)
}

// ---------------------------------------------------------------------------
// Time arithmetic.

/// Nanoseconds since the epoch (negative before it), saturating.
fn nanos_since_epoch(t: SystemTime) -> i64 {
    let nanos = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i128::try_from(d.as_nanos()).unwrap_or(i128::MAX),
        Err(e) => -i128::try_from(e.duration().as_nanos()).unwrap_or(i128::MAX),
    };
    i64::try_from(nanos).unwrap_or(if nanos < 0 { i64::MIN } else { i64::MAX })
}

/// Python's `now = time.time()` from nanoseconds
/// (`_PyTime_AsSecondsDouble`), then the reference's
/// `(floor(now), int((now - int(now)) * 1000))`, milliseconds kept in 0..=999.
fn python_seconds_and_millis(nanos: i64) -> (i64, u32) {
    let now = if nanos % 1_000_000_000 == 0 {
        (nanos / 1_000_000_000) as f64
    } else {
        nanos as f64 / 1e9
    };
    let seconds = now.floor() as i64;
    let millis = ((now - now.trunc()) * 1000.0) as i64;
    (seconds, u32::try_from(millis.clamp(0, 999)).unwrap_or(0))
}

/// UTC broken-down time (the fallback when `localtime_r` fails).
fn utc(seconds: i64) -> Timestamp {
    let days = seconds.div_euclid(86_400);
    let rem = seconds.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Timestamp {
        year: i32::try_from(year).unwrap_or(if year < 0 { i32::MIN } else { i32::MAX }),
        month: month as u32,
        day: day as u32,
        hour: (rem / 3600) as u32,
        minute: (rem % 3600 / 60) as u32,
        second: (rem % 60) as u32,
        millis: 0,
    }
}

/// The C-library services the main log needs, through `crate::sys`
/// (where the crate keeps its `unsafe`).
mod os {
    use super::Timestamp;
    use std::ffi::CStr;

    /// Local time of a Unix time (the process's `TZ`).
    pub fn localtime(seconds: i64) -> Option<Timestamp> {
        let tm = crate::sys::localtime(seconds)?;
        Some(Timestamp {
            year: tm.tm_year.checked_add(1900)?,
            month: u32::try_from(tm.tm_mon + 1).ok()?,
            day: u32::try_from(tm.tm_mday).ok()?,
            hour: u32::try_from(tm.tm_hour).ok()?,
            minute: u32::try_from(tm.tm_min).ok()?,
            second: u32::try_from(tm.tm_sec).ok()?,
            millis: 0,
        })
    }

    /// `openlog("supervisord", 0, LOG_USER)`, as Python's first
    /// `syslog.syslog()` does with the program's name.
    pub fn open_syslog() {
        crate::sys::open_syslog(c"supervisord");
    }

    /// `syslog(LOG_INFO, "%s", message)`.
    pub fn syslog_info(message: &CStr) {
        crate::sys::syslog_info_c(message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    fn at(nanos: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_nanos(nanos)
    }

    #[test]
    fn levels_are_the_references() {
        let table = [
            (Level::Critical, 50, "CRIT", "critical"),
            (Level::Error, 40, "ERRO", "error"),
            (Level::Warn, 30, "WARN", "warn"),
            (Level::Info, 20, "INFO", "info"),
            (Level::Debug, 10, "DEBG", "debug"),
            (Level::Trace, 5, "TRAC", "trace"),
            (Level::Blather, 3, "BLAT", "blather"),
        ];
        for (level, number, name, description) in table {
            assert_eq!(level.number(), number);
            assert_eq!(level.name(), name);
            assert_eq!(level.description(), description);
            assert_eq!(Level::from_number(number), Some(level));
            assert_eq!(Level::from_description(description), Some(level));
            assert_eq!(Level::from_name(name), Some(level));
        }
        for n in [0, 1, 4, 11, 51, 255] {
            assert_eq!(Level::from_number(n), None);
        }
        assert_eq!(Level::from_description("INFO"), None);
        assert!(Level::Critical > Level::Error);
        assert!(Level::Trace > Level::Blather);
        let mut sorted = Level::ALL;
        sorted.sort();
        sorted.reverse();
        assert_eq!(sorted, Level::ALL);
    }

    #[test]
    fn records_map_to_levels() {
        use log::Level as L;
        let table = [
            (L::Error, "CRIT", Level::Critical),
            (L::Info, "CRIT", Level::Critical),
            (L::Trace, "ERRO", Level::Error),
            (L::Error, "DEBG", Level::Debug),
            (L::Error, "crit", Level::Error),
            (L::Error, "supervisor::x", Level::Error),
            (L::Warn, "supervisor::x", Level::Warn),
            (L::Info, "supervisor", Level::Info),
            (L::Debug, "supervisor::x", Level::Debug),
            (L::Trace, "supervisor::x", Level::Trace),
            (L::Trace, "BLAT", Level::Blather),
            (L::Trace, "TRAC", Level::Trace),
        ];
        for (level, target, want) in table {
            assert_eq!(Level::of_record(level, target), want, "{level} {target}");
        }
        assert!(ours("supervisor::runtime::spawn"));
        assert!(Level::ALL.iter().all(|l| ours(l.name())));
        assert!(ours("supervisor"));
        assert!(!ours("mio::poll") && !ours("supervisorx") && !ours("crit"));
    }

    #[test]
    fn lines_are_formatted_as_the_reference() {
        let t = Timestamp {
            year: 2023,
            month: 1,
            day: 2,
            hour: 3,
            minute: 4,
            second: 5,
            millis: 7,
        };
        assert_eq!(
            format_line_at(Level::Warn, &t, "hello"),
            "2023-01-02 03:04:05,007 WARN hello\n"
        );
        assert_eq!(
            format_line_at(Level::Blather, &t, "two\nlines"),
            "2023-01-02 03:04:05,007 BLAT two\nlines\n"
        );
        assert_eq!(
            format_line_at(Level::Critical, &t, ""),
            "2023-01-02 03:04:05,007 CRIT \n"
        );
        assert_eq!(
            syslog_lines(Level::Info, &t, "a\nb\n\n"),
            [
                "2023-01-02 03:04:05,007 INFO a\n",
                "2023-01-02 03:04:05,007 INFO b\n"
            ]
        );
        assert_eq!(syslog_lines(Level::Info, &t, "").len(), 1);
    }

    /// (nanoseconds, floor seconds, milliseconds) as the reference's
    /// `LogRecord.asdict` prints them (checked with Supervisor 4.3.0 by
    /// feeding it `time.time = lambda: float(ns) / 1e9`).
    #[test]
    fn milliseconds_follow_pythons_float_arithmetic() {
        let table = [
            (0, 0, 0),
            (1_700_000_000_000_000_000, 1_700_000_000, 0),
            (1_700_000_000_123_000_000, 1_700_000_000, 123),
            (1_700_000_000_001_000_000, 1_700_000_000, 0),
            (1_700_000_000_999_999_999, 1_700_000_001, 0),
            (1_234_567_890_500_000_000, 1_234_567_890, 500),
            (1_700_000_000_999_999_900, 1_700_000_001, 0),
        ];
        for (nanos, seconds, millis) in table {
            assert_eq!(
                python_seconds_and_millis(nanos),
                (seconds, millis),
                "{nanos}"
            );
        }
        assert_eq!(nanos_since_epoch(at(5)), 5);
        assert_eq!(nanos_since_epoch(UNIX_EPOCH - Duration::from_nanos(5)), -5);
    }

    #[test]
    fn utc_fallback() {
        let t = |y, mo, d, h, mi, s| Timestamp {
            year: y,
            month: mo,
            day: d,
            hour: h,
            minute: mi,
            second: s,
            millis: 0,
        };
        assert_eq!(utc(0), t(1970, 1, 1, 0, 0, 0));
        assert_eq!(utc(1_700_000_000), t(2023, 11, 14, 22, 13, 20));
        assert_eq!(utc(951_782_400), t(2000, 2, 29, 0, 0, 0));
        assert_eq!(utc(-1), t(1969, 12, 31, 23, 59, 59));
    }

    /// Local time under a given `TZ`: runs this same test in a child
    /// process with `TZ` set (POSIX TZ strings, no tzdata needed). The
    /// expected lines are the reference's output under the same `TZ`.
    #[test]
    fn local_time_follows_tz() {
        let cases: [(&str, [&str; 4]); 3] = [
            (
                "UTC0",
                [
                    "1970-01-01 00:00:00,000 BLAT hello 1\n",
                    "2023-11-14 22:13:20,123 BLAT hello 1\n",
                    "2023-11-14 22:13:21,000 BLAT hello 1\n",
                    "2009-02-13 23:31:30,500 BLAT hello 1\n",
                ],
            ),
            (
                "ABC-5:30",
                [
                    "1970-01-01 05:30:00,000 BLAT hello 1\n",
                    "2023-11-15 03:43:20,123 BLAT hello 1\n",
                    "2023-11-15 03:43:21,000 BLAT hello 1\n",
                    "2009-02-14 05:01:30,500 BLAT hello 1\n",
                ],
            ),
            (
                "XYZ+10",
                [
                    "1969-12-31 14:00:00,000 BLAT hello 1\n",
                    "2023-11-14 12:13:20,123 BLAT hello 1\n",
                    "2023-11-14 12:13:21,000 BLAT hello 1\n",
                    "2009-02-13 13:31:30,500 BLAT hello 1\n",
                ],
            ),
        ];
        let times = [
            0,
            1_700_000_000_123_000_000,
            1_700_000_000_999_999_999,
            1_234_567_890_500_000_000,
        ];
        if let Ok(tz) = std::env::var("MAINLOG_TEST_TZ") {
            let (_, want) = cases.iter().find(|(name, _)| *name == tz).unwrap();
            for (nanos, line) in times.iter().zip(want) {
                assert_eq!(format_line(Level::Blather, at(*nanos), "hello 1"), *line);
            }
            return;
        }
        for (tz, _) in cases {
            let out = std::process::Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "runtime::mainlog::tests::local_time_follows_tz",
                    "--test-threads=1",
                ])
                .env("TZ", tz)
                .env("MAINLOG_TEST_TZ", tz)
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success(), "TZ={tz}: {stdout}");
            assert!(stdout.contains("1 passed"), "TZ={tz}: {stdout}");
        }
    }

    /// A console that tests can read back.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    fn dir() -> tempfile::TempDir {
        tempfile::Builder::new()
            .prefix("mainlog-test")
            .tempdir_in(std::env::temp_dir())
            .unwrap()
    }

    fn settings(path: &Path, level: Level) -> Settings {
        Settings {
            logfile: path.to_string_lossy().into_owned(),
            maxbytes: 0,
            backups: 0,
            level,
            console: false,
        }
    }

    /// The lines of `text` without their timestamps.
    fn bodies(text: &str) -> Vec<String> {
        text.lines().map(|l| l[24..].to_string()).collect()
    }

    const NOW: u64 = 1_700_000_000_123_000_000;

    #[test]
    fn buffered_records_come_out_in_the_references_order() {
        let d = dir();
        let path = d.path().join("supervisord.log");
        let mut log = MainLog::new();
        assert!(log.enabled(Level::Blather));
        assert_eq!(log.logfile(), None);
        log.log(Level::Info, "included a", at(1));
        log.log(Level::Warn, "no file matches", at(2));
        log.log(Level::Critical, "running as root", at(3));
        log.log(Level::Debug, "dropped by loglevel", at(4));
        log.log(Level::Info, "set uid", at(5));
        log.log(Level::Warn, "second warning", at(6));
        let console = Captured::default();
        log.open_with_console(
            &settings(&path, Level::Info),
            Some(Box::new(console.clone())),
            at(NOW),
        )
        .unwrap();
        let want = [
            "CRIT running as root",
            "WARN no file matches",
            "WARN second warning",
            "INFO included a",
            "INFO set uid",
        ];
        let file = fs::read_to_string(&path).unwrap();
        assert_eq!(bodies(&file), want);
        assert_eq!(console.text(), file);
        // Stamped with the time of opening.
        assert!(file
            .lines()
            .all(|l| l.starts_with(&format_line(Level::Info, at(NOW), "")[..23])));
        assert_eq!(log.logfile(), Some(path.as_path()));
    }

    #[test]
    fn threshold_and_level_changes() {
        let d = dir();
        let path = d.path().join("log");
        let mut log = MainLog::new();
        log.open(&settings(&path, Level::Warn), at(NOW)).unwrap();
        assert_eq!(log.level(), Some(Level::Warn));
        for level in Level::ALL {
            log.log(level, level.description(), at(NOW));
        }
        assert!(!log.enabled(Level::Info) && log.enabled(Level::Warn));
        log.set_level(Level::Blather);
        log.log(Level::Blather, "now visible", at(NOW));
        assert_eq!(
            bodies(&fs::read_to_string(&path).unwrap()),
            [
                "CRIT critical",
                "ERRO error",
                "WARN warn",
                "BLAT now visible"
            ]
        );
        assert_eq!(
            fs::read_to_string(&path).unwrap().lines().next().unwrap(),
            format_line(Level::Critical, at(NOW), "critical").trim_end()
        );
    }

    #[test]
    fn buffer_is_bounded() {
        let d = dir();
        let path = d.path().join("log");
        let mut log = MainLog::new();
        let big = "x".repeat(PENDING_MAX_BYTES / 2);
        for _ in 0..5 {
            log.log(Level::Info, &big, at(1));
        }
        log.open(&settings(&path, Level::Info), at(NOW)).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 3);
        assert!(
            text.ends_with("WARN 3 messages logged before the log file was opened were dropped\n")
        );
    }

    #[test]
    fn failed_open_keeps_the_buffer() {
        let d = dir();
        let mut log = MainLog::new();
        log.log(Level::Warn, "early", at(1));
        let bad = d.path().join("missing-dir").join("log");
        assert!(log.open(&settings(&bad, Level::Info), at(NOW)).is_err());
        assert_eq!(log.level(), None);
        let good = d.path().join("log");
        log.open(&settings(&good, Level::Info), at(NOW)).unwrap();
        assert_eq!(bodies(&fs::read_to_string(&good).unwrap()), ["WARN early"]);
    }

    #[test]
    fn rotates_with_maxbytes_and_backups() {
        let d = dir();
        let path = d.path().join("log");
        let mut log = MainLog::new();
        let s = Settings {
            maxbytes: 100,
            backups: 2,
            ..settings(&path, Level::Info)
        };
        log.open(&s, at(NOW)).unwrap();
        // Each line is 24 + 5 + 10 + 1 = 40 bytes: rotation after every third.
        for i in 0..10 {
            log.log(Level::Info, &format!("message {i:02}"), at(NOW));
        }
        let read = |p: &str| bodies(&fs::read_to_string(d.path().join(p)).unwrap());
        assert_eq!(
            read("log.2"),
            ["INFO message 03", "INFO message 04", "INFO message 05"]
        );
        assert_eq!(
            read("log.1"),
            ["INFO message 06", "INFO message 07", "INFO message 08"]
        );
        assert_eq!(read("log"), ["INFO message 09"]);
        assert!(!d.path().join("log.3").exists());
    }

    #[test]
    fn reopen_logs_then_reopens() {
        let d = dir();
        let path = d.path().join("log");
        let moved = d.path().join("log.old");
        let mut log = MainLog::new();
        log.open(&settings(&path, Level::Info), at(NOW)).unwrap();
        log.log(Level::Info, "before", at(NOW));
        fs::rename(&path, &moved).unwrap();
        log.reopen(at(NOW)).unwrap();
        log.log(Level::Info, "after", at(NOW));
        assert_eq!(
            bodies(&fs::read_to_string(&moved).unwrap()),
            ["INFO before", "INFO supervisord logreopen"]
        );
        assert_eq!(bodies(&fs::read_to_string(&path).unwrap()), ["INFO after"]);
    }

    #[test]
    fn clear_as_the_reference() {
        let d = dir();
        let path = d.path().join("log");
        let mut log = MainLog::new();
        assert_eq!(log.clear(at(NOW)), Err(ReadError::NoFile));
        let console = Captured::default();
        log.open_with_console(
            &settings(&path, Level::Info),
            Some(Box::new(console.clone())),
            at(NOW),
        )
        .unwrap();
        log.log(Level::Info, "old", at(NOW));
        fs::write(d.path().join("log.1"), b"backup").unwrap();
        assert_eq!(log.clear(at(NOW)), Ok(()));
        assert_eq!(fs::read(&path).unwrap(), b"");
        assert_eq!(fs::read(d.path().join("log.1")).unwrap(), b"backup");
        assert_eq!(
            bodies(&console.text()),
            [
                "INFO old",
                "INFO reopening log file",
                "INFO reopening log file"
            ]
        );
        log.log(Level::Info, "new", at(NOW));
        assert_eq!(bodies(&fs::read_to_string(&path).unwrap()), ["INFO new"]);
        fs::remove_file(&path).unwrap();
        assert_eq!(log.clear(at(NOW)), Err(ReadError::NoFile));

        // Without a console: one "reopening" line, into the deleted file.
        let path2 = d.path().join("other");
        let mut log = MainLog::new();
        log.open(&settings(&path2, Level::Info), at(NOW)).unwrap();
        log.log(Level::Info, "x", at(NOW));
        assert_eq!(log.clear(at(NOW)), Ok(()));
        assert_eq!(fs::read(&path2).unwrap(), b"");
    }

    #[test]
    fn syslog_target_has_no_file() {
        let mut log = MainLog::new();
        let s = Settings {
            logfile: "syslog".into(),
            maxbytes: 1,
            backups: 1,
            level: Level::Critical,
            console: false,
        };
        log.open(&s, at(NOW)).unwrap();
        assert_eq!(log.logfile(), None);
        assert_eq!(log.clear(at(NOW)), Err(ReadError::NoFile));
        log.reopen(at(NOW)).unwrap();
        log.close();
        assert_eq!(log.level(), None);
    }

    #[test]
    fn settings_from_configuration_values() {
        let s = Settings::new("/x/log", 50, 10, 5, true, false);
        assert_eq!(s.level, Level::Trace);
        assert!(s.console);
        assert!(!Settings::new("/x", 0, 0, 20, true, true).console);
        assert!(!Settings::new("/x", 0, 0, 20, false, false).console);
        assert_eq!(
            Settings::new("/x", 0, 0, 99, false, false).level,
            Level::Info
        );
    }

    /// The only test touching the process-wide logger.
    #[test]
    fn facade_end_to_end() {
        let d = dir();
        let path = d.path().join("main.log");
        install().unwrap();
        assert!(install().is_err());
        crate::crit!("early {}", 1);
        log::info!("early info");
        log::log!(target: "WARN", log::Level::Error, "as warn");
        open(&settings(&path, Level::Debug)).unwrap();
        assert_eq!(log::max_level(), log::LevelFilter::Debug);
        crate::blather!("hidden");
        log::debug!("shown");
        log::trace!(target: "mio::poll", "not ours");
        log::error!(target: "mio::poll", "not ours either");
        set_level(Level::Blather);
        assert!(enabled(Level::Blather));
        crate::blather!("blather {}", "now");
        log_at(Level::Warn, "direct");
        assert_eq!(logfile(), Some(path.clone()));
        reopen().unwrap();
        // Other tests of the crate may log meanwhile: keep only our lines.
        let text = fs::read_to_string(&path).unwrap();
        let mine: Vec<String> = bodies(&text)
            .into_iter()
            .filter(|l| {
                [
                    "early 1",
                    "early info",
                    "as warn",
                    "shown",
                    "hidden",
                    "blather now",
                    "direct",
                ]
                .iter()
                .any(|m| l.ends_with(m))
                    || l == "INFO supervisord logreopen"
            })
            .collect();
        assert_eq!(
            mine,
            [
                "CRIT early 1",
                "WARN as warn",
                "INFO early info",
                "DEBG shown",
                "BLAT blather now",
                "WARN direct",
                "INFO supervisord logreopen"
            ]
        );
        assert_eq!(clear(), Ok(()));
        close();
        assert_eq!(logfile(), None);
        assert_eq!(log::max_level(), log::LevelFilter::Trace);
    }
}
