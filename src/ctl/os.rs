//! The three system facilities the ctl needs beyond `crate::sys`: catching
//! Ctrl-C while streaming (`tail -f`, `fg`), waiting on several fds at once,
//! and turning terminal echo off for a password prompt.
//!
//! Every `unsafe` block of the ctl lives here, each with why it is sound.
//! They are thin libc wrappers of the same kind as `crate::sys` and belong
//! there; they sit here only because that module had another owner while
//! the ctl was written.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

fn cvt(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

fn sigint_set() -> libc::sigset_t {
    // SAFETY: sigset_t is plain data; sigemptyset initializes it.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid sigset_t and SIGINT a valid signal number.
    unsafe {
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
    }
    set
}

/// While alive, Ctrl-C (SIGINT) does not kill the process but makes
/// [`CtrlC::fd`] readable. Dropping it discards a pending Ctrl-C and
/// restores the default.
pub struct CtrlC {
    fd: OwnedFd,
    was_blocked: bool,
}

impl CtrlC {
    pub fn catch() -> io::Result<CtrlC> {
        let set = sigint_set();
        // SAFETY: sigset_t is plain data, filled in by sigprocmask.
        let mut old: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: `set` and `old` are valid sigset_t values; the ctl is
        // single-threaded while it streams, so the process mask is ours.
        cvt(unsafe { libc::sigprocmask(libc::SIG_BLOCK, &set, &mut old) })?;
        // SAFETY: `old` was filled in by sigprocmask.
        let was_blocked = unsafe { libc::sigismember(&old, libc::SIGINT) } == 1;
        // SAFETY: `set` is valid; -1 asks for a new fd.
        let fd = unsafe { libc::signalfd(-1, &set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC) };
        let fd = match cvt(fd) {
            Ok(fd) => fd,
            Err(e) => {
                restore(was_blocked);
                return Err(e);
            }
        };
        // SAFETY: signalfd returned a new fd that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(CtrlC { fd, was_blocked })
    }

    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// True when Ctrl-C was pressed (and consumes it).
    pub fn pressed(&self) -> bool {
        let mut pressed = false;
        // SAFETY: signalfd_siginfo is plain data.
        let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
        let size = std::mem::size_of::<libc::signalfd_siginfo>();
        loop {
            // SAFETY: we read at most `size` bytes into `info`, which has
            // that size; the fd is non-blocking.
            let n = unsafe {
                libc::read(
                    self.fd.as_raw_fd(),
                    (&mut info as *mut libc::signalfd_siginfo).cast(),
                    size,
                )
            };
            if n <= 0 {
                return pressed;
            }
            pressed = true;
        }
    }
}

impl Drop for CtrlC {
    fn drop(&mut self) {
        self.pressed();
        restore(self.was_blocked);
    }
}

fn restore(was_blocked: bool) {
    if was_blocked {
        return;
    }
    let set = sigint_set();
    // SAFETY: `set` is a valid sigset_t; the old mask is not needed.
    unsafe { libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut()) };
}

/// Waits until one of `fds` is readable (or closed, or in error), at most
/// `timeout` (forever when None). Returns, for each fd, whether it is.
pub fn wait_readable(fds: &[RawFd], timeout: Option<Duration>) -> io::Result<Vec<bool>> {
    let mut polled: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let ms = timeout.map_or(-1, |t| i32::try_from(t.as_millis()).unwrap_or(i32::MAX));
    loop {
        // SAFETY: `polled` is a valid array of `polled.len()` pollfds that
        // poll may write revents into.
        let rc = unsafe { libc::poll(polled.as_mut_ptr(), polled.len() as libc::nfds_t, ms) };
        match cvt(rc) {
            Ok(_) => return Ok(polled.iter().map(|p| p.revents != 0).collect()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// While alive, what is typed on the terminal `fd` is not echoed.
pub struct EchoOff {
    fd: RawFd,
    saved: libc::termios,
}

impl EchoOff {
    /// Turns echo off on `fd`; an error when `fd` is not a terminal.
    pub fn on(fd: &impl AsRawFd) -> io::Result<EchoOff> {
        let fd = fd.as_raw_fd();
        // SAFETY: termios is plain data, filled in by tcgetattr.
        let mut saved: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: `saved` is a valid termios to write into.
        cvt(unsafe { libc::tcgetattr(fd, &mut saved) })?;
        let mut quiet = saved;
        quiet.c_lflag &= !libc::ECHO;
        // SAFETY: `quiet` is a valid termios derived from the current one.
        cvt(unsafe { libc::tcsetattr(fd, libc::TCSAFLUSH, &quiet) })?;
        Ok(EchoOff { fd, saved })
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        // SAFETY: `saved` is the termios tcgetattr gave for this fd.
        unsafe { libc::tcsetattr(self.fd, libc::TCSAFLUSH, &self.saved) };
    }
}
