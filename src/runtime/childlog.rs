//! Where one channel of one child's output goes: a rotating log file, a
//! stream that must never block the daemon (`/dev/stdout`, a FIFO, a tty),
//! and/or syslog.
//!
//! A stream is written only as far as it accepts without blocking (poll
//! for POLLOUT, then at most PIPE_BUF bytes, which a pipe then takes
//! whole); what it does not accept stays pending, and the caller stops
//! reading the child until the stream drains: back-pressure on that child,
//! no unbounded buffer, no byte dropped, and the loop keeps serving
//! everyone else. The file descriptor's flags are never changed (fd 1 may
//! be shared with whoever started us).

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use crate::config::LogFile;
use crate::runtime::logfile::RotatingFile;
use crate::sys;

/// At most this much may wait for a blocked stream before the child is
/// paused.
pub const PENDING_LIMIT: usize = 64 * 1024;

enum Target {
    None,
    File(RotatingFile),
    Stream { fd: OwnedFd, pending: Vec<u8> },
}

pub struct ChannelLog {
    target: Target,
    /// `NAME` prefix for syslog lines when `*_syslog=true`.
    syslog: Option<String>,
    path: Option<String>,
    maxbytes: u64,
    backups: u32,
    /// The last write error, reported once until writes succeed again.
    failing: bool,
}

/// Our own stdout/stderr under the names users give them.
fn std_stream(path: &str) -> Option<RawFd> {
    match path {
        "/dev/stdout" | "/dev/fd/1" | "/proc/self/fd/1" => Some(1),
        "/dev/stderr" | "/dev/fd/2" | "/proc/self/fd/2" => Some(2),
        _ => None,
    }
}

fn is_regular_or_missing(path: &str) -> bool {
    match std::fs::metadata(path) {
        Ok(m) => m.is_file(),
        Err(_) => true,
    }
}

impl ChannelLog {
    /// A channel that logs nowhere.
    pub fn none() -> ChannelLog {
        ChannelLog {
            target: Target::None,
            syslog: None,
            path: None,
            maxbytes: 0,
            backups: 0,
            failing: false,
        }
    }

    /// A channel for this target, opened at the first spawn (as the
    /// reference creates a process's log files when it first starts it).
    pub fn new(
        logfile: &LogFile,
        maxbytes: i64,
        backups: i64,
        syslog_name: Option<&str>,
    ) -> ChannelLog {
        let mut log = ChannelLog::none();
        log.syslog = syslog_name.map(str::to_string);
        log.maxbytes = u64::try_from(maxbytes).unwrap_or(0);
        log.backups = u32::try_from(backups).unwrap_or(0);
        if let LogFile::Path(p) = logfile {
            log.path = Some(p.clone());
        }
        log
    }

    /// Takes `file`, the AUTO log just created empty at this channel's
    /// path, as the open target: the first spawn need not open it again.
    pub fn adopt_new(&mut self, file: std::fs::File) {
        if let (Some(path), Target::None) = (&self.path, &self.target) {
            self.target = Target::File(RotatingFile::adopt_new(
                path,
                file,
                self.maxbytes,
                self.backups,
            ));
        }
    }

    /// Opens the target if it is not open yet; an error leaves the channel
    /// logging nowhere but syslog, and says why (for the main log).
    pub fn ensure_open(&mut self) -> Option<String> {
        if self.path.is_none() || !matches!(self.target, Target::None) {
            return None;
        }
        self.open_target().err()
    }

    fn open_target(&mut self) -> Result<(), String> {
        let Some(path) = self.path.clone() else {
            self.target = Target::None;
            return Ok(());
        };
        if let Some(fd) = std_stream(&path) {
            let fd = sys::dup_cloexec(fd).map_err(|e| format!("cannot use {path}: {e}"))?;
            self.target = Target::Stream {
                fd,
                pending: Vec::new(),
            };
            return Ok(());
        }
        if is_regular_or_missing(&path) {
            let file = RotatingFile::open(&path, self.maxbytes, self.backups)
                .map_err(|e| format!("cannot open {path}: {e}"))?;
            self.target = Target::File(file);
        } else {
            let fd = sys::open_append(&path).map_err(|e| format!("cannot open {path}: {e}"))?;
            self.target = Target::Stream {
                fd,
                pending: Vec::new(),
            };
        }
        Ok(())
    }

    /// Writes what the child said. Returns an error text to report (once
    /// per failure spell). A blocked stream keeps the bytes pending: check
    /// [`blocked`](Self::blocked).
    pub fn write(&mut self, data: &[u8]) -> Option<String> {
        if let Some(name) = &self.syslog {
            let text = String::from_utf8_lossy(data);
            for line in text.trim_end_matches('\n').split('\n') {
                sys::syslog_info(&format!("{name} {line}"));
            }
        }
        if let Some(e) = self.ensure_open() {
            return (!std::mem::replace(&mut self.failing, true)).then_some(e);
        }
        let result = match &mut self.target {
            Target::None => Ok(()),
            Target::File(f) => f.write_all(data),
            Target::Stream { pending, .. } => {
                pending.extend_from_slice(data);
                Ok(())
            }
        };
        let result = result.and_then(|()| self.flush().map(|_| ()));
        self.report(result)
    }

    fn report(&mut self, result: io::Result<()>) -> Option<String> {
        match result {
            Ok(()) => {
                self.failing = false;
                None
            }
            Err(e) if !self.failing => {
                self.failing = true;
                Some(format!(
                    "cannot write to log file {}: {e}",
                    self.path.as_deref().unwrap_or("?")
                ))
            }
            Err(_) => None,
        }
    }

    /// Writes pending stream bytes as far as the stream accepts them
    /// without blocking. Ok(true) when nothing is left pending.
    pub fn flush(&mut self) -> io::Result<bool> {
        let Target::Stream { fd, pending } = &mut self.target else {
            return Ok(true);
        };
        while !pending.is_empty() {
            if !sys::poll_writable(fd.as_raw_fd())? {
                return Ok(false);
            }
            let n = pending.len().min(libc::PIPE_BUF);
            match sys::write_fd(fd.as_raw_fd(), &pending[..n]) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    pending.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) => {
                    pending.clear();
                    return Err(e);
                }
            }
        }
        Ok(true)
    }

    /// Whether the child must wait: its stream has too much pending.
    pub fn blocked(&self) -> bool {
        matches!(&self.target, Target::Stream { pending, .. } if pending.len() >= PENDING_LIMIT)
    }

    /// Whether anything waits for the stream.
    pub fn has_pending(&self) -> bool {
        matches!(&self.target, Target::Stream { pending, .. } if !pending.is_empty())
    }

    /// The stream's fd, to wait for it to become writable.
    pub fn stream_fd(&self) -> Option<RawFd> {
        match &self.target {
            Target::Stream { fd, .. } => Some(fd.as_raw_fd()),
            Target::None | Target::File(_) => None,
        }
    }

    /// SIGUSR2: reopen the file (after logrotate moved it).
    pub fn reopen(&mut self) -> Option<String> {
        match &mut self.target {
            Target::File(f) => {
                let r = f.reopen();
                self.report(r)
            }
            Target::None | Target::Stream { .. } => None,
        }
    }

    /// clearProcessLogs: empty the file (backups are kept, as the reference).
    pub fn clear(&mut self) -> io::Result<()> {
        match &mut self.target {
            Target::File(f) => f.clear(),
            Target::None | Target::Stream { .. } => Ok(()),
        }
    }
}
