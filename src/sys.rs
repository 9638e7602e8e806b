//! Thin, safe wrappers over the few libc calls the upper layers need.
//! Every `unsafe` block of the crate lives here, each with why it is sound.

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

/// A password-database entry, reduced to what we use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: String,
}

/// Size of the scratch buffer for the `get*_r` calls; grown on ERANGE.
const INITIAL_BUF: usize = 1024;
const MAX_BUF: usize = 1 << 20;

fn user_from(pw: &libc::passwd) -> User {
    // SAFETY: on success getpwnam_r/getpwuid_r fill pw_name and pw_dir with
    // NUL-terminated strings inside the buffer we still own.
    let name = unsafe { CStr::from_ptr(pw.pw_name) }
        .to_string_lossy()
        .into_owned();
    // SAFETY: as above.
    let home = unsafe { CStr::from_ptr(pw.pw_dir) }
        .to_string_lossy()
        .into_owned();
    User {
        name,
        uid: pw.pw_uid,
        gid: pw.pw_gid,
        home,
    }
}

/// Runs one reentrant passwd lookup, growing the buffer on ERANGE.
fn passwd_lookup(
    call: impl Fn(&mut libc::passwd, &mut [libc::c_char], &mut *mut libc::passwd) -> libc::c_int,
) -> Option<User> {
    let mut size = INITIAL_BUF;
    loop {
        let mut buf = vec![0 as libc::c_char; size];
        // SAFETY: passwd is a plain C struct for which all-zero is a valid value.
        let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = call(&mut pw, &mut buf, &mut result);
        if rc == libc::ERANGE && size < MAX_BUF {
            size *= 4;
            continue;
        }
        if rc != 0 || result.is_null() {
            return None;
        }
        return Some(user_from(&pw));
    }
}

pub fn user_by_name(name: &str) -> Option<User> {
    let cname = CString::new(name).ok()?;
    passwd_lookup(|pw, buf, result| {
        // SAFETY: all pointers are valid for the duration of the call and buf.len() is its size.
        unsafe { libc::getpwnam_r(cname.as_ptr(), pw, buf.as_mut_ptr(), buf.len(), result) }
    })
}

pub fn user_by_uid(uid: u32) -> Option<User> {
    passwd_lookup(|pw, buf, result| {
        // SAFETY: all pointers are valid for the duration of the call and buf.len() is its size.
        unsafe { libc::getpwuid_r(uid, pw, buf.as_mut_ptr(), buf.len(), result) }
    })
}

/// Runs one reentrant group lookup; returns the gid when found.
fn group_lookup(
    call: impl Fn(&mut libc::group, &mut [libc::c_char], &mut *mut libc::group) -> libc::c_int,
) -> Option<u32> {
    let mut size = INITIAL_BUF;
    loop {
        let mut buf = vec![0 as libc::c_char; size];
        // SAFETY: group is a plain C struct for which all-zero is a valid value.
        let mut gr: libc::group = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::group = std::ptr::null_mut();
        let rc = call(&mut gr, &mut buf, &mut result);
        if rc == libc::ERANGE && size < MAX_BUF {
            size *= 4;
            continue;
        }
        if rc != 0 || result.is_null() {
            return None;
        }
        return Some(gr.gr_gid);
    }
}

pub fn group_by_name(name: &str) -> Option<u32> {
    let cname = CString::new(name).ok()?;
    group_lookup(|gr, buf, result| {
        // SAFETY: all pointers are valid for the duration of the call and buf.len() is its size.
        unsafe { libc::getgrnam_r(cname.as_ptr(), gr, buf.as_mut_ptr(), buf.len(), result) }
    })
}

pub fn group_by_gid(gid: u32) -> bool {
    group_lookup(|gr, buf, result| {
        // SAFETY: all pointers are valid for the duration of the call and buf.len() is its size.
        unsafe { libc::getgrgid_r(gid, gr, buf.as_mut_ptr(), buf.len(), result) }
    })
    .is_some()
}

/// access(path, X_OK): may this process execute the file?
pub fn can_execute(path: &CStr) -> bool {
    // SAFETY: path is a valid NUL-terminated string.
    unsafe { libc::access(path.as_ptr(), libc::X_OK) == 0 }
}

pub fn getuid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}

/// Formats a Unix time in local time with strftime(3) (C locale names).
pub fn strftime_local(format: &str, secs: i64) -> String {
    let Ok(fmt) = CString::new(format) else {
        return String::new();
    };
    let t = secs as libc::time_t;
    // SAFETY: tm is plain data that localtime_r fills from a valid time_t.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the call.
    if unsafe { libc::localtime_r(&t, &mut tm) }.is_null() {
        return String::new();
    }
    let mut buf = [0u8; 128];
    // SAFETY: buf has buf.len() bytes; fmt and tm are valid.
    let n = unsafe { libc::strftime(buf.as_mut_ptr().cast(), buf.len(), fmt.as_ptr(), &tm) };
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// The node name (`uname -n`), as Python's `platform.node()` gives it.
pub fn node_name() -> String {
    // SAFETY: utsname is a plain C struct for which all-zero is a valid value.
    let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: uts is a valid, writable utsname.
    if unsafe { libc::uname(&mut uts) } != 0 {
        return String::new();
    }
    // SAFETY: uname NUL-terminates nodename within the array on success.
    unsafe { CStr::from_ptr(uts.nodename.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

// ---------------------------------------------------------------------------
// Processes, pipes and signals.

fn cvt(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

/// A close-on-exec pipe: (read end, write end).
pub fn pipe_cloexec() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: fds is a valid array of two ints for pipe2 to fill.
    cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    // SAFETY: pipe2 succeeded, so both fds are open and owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

pub fn set_nonblocking(fd: &impl AsRawFd) -> io::Result<()> {
    let on: libc::c_int = 1;
    // SAFETY: FIONBIO reads one c_int from a valid pointer; one syscall
    // where F_GETFL + F_SETFL take two.
    cvt(unsafe { libc::ioctl(fd.as_raw_fd(), libc::FIONBIO, &on) })?;
    Ok(())
}

/// Signals the daemon handles; blocked and read from a signalfd.
pub const HANDLED_SIGNALS: [libc::c_int; 6] = [
    libc::SIGCHLD,
    libc::SIGTERM,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGHUP,
    libc::SIGUSR2,
];

fn sigset_of(signals: &[libc::c_int]) -> libc::sigset_t {
    // SAFETY: sigset_t is plain data; sigemptyset initializes it.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: set is a valid sigset_t.
    unsafe { libc::sigemptyset(&mut set) };
    for &s in signals {
        // SAFETY: set is valid and s is a valid signal number.
        unsafe { libc::sigaddset(&mut set, s) };
    }
    set
}

/// Blocks the handled signals and returns a non-blocking, close-on-exec
/// signalfd that reports them.
pub fn signalfd_for_handled_signals() -> io::Result<OwnedFd> {
    let set = sigset_of(&HANDLED_SIGNALS);
    // SAFETY: set is a valid sigset_t; the old mask is not needed.
    let rc = unsafe { libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    cvt(rc)?;
    // SAFETY: set is valid; -1 asks for a new fd.
    let fd = cvt(unsafe { libc::signalfd(-1, &set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC) })?;
    // SAFETY: signalfd returned a new fd that we now own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Reads one pending signal number from a signalfd, None when drained.
pub fn read_signal(fd: &OwnedFd) -> io::Result<Option<i32>> {
    // SAFETY: signalfd_siginfo is plain data.
    let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
    let size = std::mem::size_of::<libc::signalfd_siginfo>();
    // SAFETY: we read at most `size` bytes into `info`, which has that size.
    let n = unsafe {
        libc::read(
            fd.as_raw_fd(),
            (&mut info as *mut libc::signalfd_siginfo).cast(),
            size,
        )
    };
    if n < 0 {
        let e = io::Error::last_os_error();
        return match e.kind() {
            io::ErrorKind::WouldBlock => Ok(None),
            io::ErrorKind::Interrupted => Ok(None),
            _ => Err(e),
        };
    }
    if n as usize != size {
        return Ok(None);
    }
    Ok(Some(info.ssi_signo as i32))
}

/// Makes this process the reaper of its descendants' orphans.
pub fn become_subreaper() -> io::Result<()> {
    // SAFETY: PR_SET_CHILD_SUBREAPER takes one integer argument.
    cvt(unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong, 0, 0, 0) })?;
    Ok(())
}

/// `waitpid(-1, WNOHANG)`: Some((pid, status)) for a reaped child.
pub fn reap_any() -> Option<(i32, i32)> {
    let mut status: libc::c_int = 0;
    // SAFETY: status is a valid int for waitpid to fill.
    let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
    (pid > 0).then_some((pid, status))
}

/// Blocking `waitpid(pid)` for a child known to be exiting now.
pub fn reap_pid(pid: i32) -> Option<i32> {
    let mut status: libc::c_int = 0;
    loop {
        // SAFETY: status is a valid int for waitpid to fill.
        let rc = unsafe { libc::waitpid(pid, &mut status, 0) };
        if rc == pid {
            return Some(status);
        }
        if rc == -1 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
            continue;
        }
        return None;
    }
}

/// `kill(pid, sig)`; a negative pid signals the process group.
pub fn kill(pid: i32, sig: i32) -> io::Result<()> {
    // SAFETY: kill has no memory effects.
    cvt(unsafe { libc::kill(pid, sig) })?;
    Ok(())
}

pub fn getpid() -> i32 {
    // SAFETY: getpid cannot fail.
    unsafe { libc::getpid() }
}

/// Whether a process with this pid exists (kill 0 succeeds or EPERM).
pub fn pid_alive(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    match kill(pid, 0) {
        Ok(()) => true,
        Err(e) => e.raw_os_error() == Some(libc::EPERM),
    }
}

pub fn umask(mask: u32) -> u32 {
    // SAFETY: umask cannot fail.
    unsafe { libc::umask(mask as libc::mode_t) as u32 }
}

/// (soft, hard) of a resource limit; u64::MAX means unlimited.
pub fn getrlimit(resource: libc::__rlimit_resource_t) -> io::Result<(u64, u64)> {
    // SAFETY: rlimit is plain data.
    let mut r: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: r is a valid rlimit for getrlimit to fill.
    cvt(unsafe { libc::getrlimit(resource, &mut r) })?;
    Ok((r.rlim_cur, r.rlim_max))
}

pub fn setrlimit(resource: libc::__rlimit_resource_t, soft: u64, hard: u64) -> io::Result<()> {
    let r = libc::rlimit {
        rlim_cur: soft,
        rlim_max: hard,
    };
    // SAFETY: r is a valid rlimit.
    cvt(unsafe { libc::setrlimit(resource, &r) })?;
    Ok(())
}

/// Supplementary groups of a user, its primary group first.
pub fn user_groups(name: &str, gid: u32) -> Vec<u32> {
    let Ok(cname) = CString::new(name) else {
        return vec![gid];
    };
    let mut count: libc::c_int = 64;
    loop {
        let mut groups = vec![0 as libc::gid_t; count as usize];
        let mut n = count;
        // SAFETY: groups has room for n entries; getgrouplist updates n.
        let rc = unsafe { libc::getgrouplist(cname.as_ptr(), gid, groups.as_mut_ptr(), &mut n) };
        if rc >= 0 {
            groups.truncate(n as usize);
            let mut out = vec![gid];
            out.extend(groups.into_iter().filter(|&g| g != gid));
            return out;
        }
        if n <= count || count > 65536 {
            return vec![gid];
        }
        count = n;
    }
}

/// Drops this process's privileges to (uid, gid, groups); for the daemon's
/// own `user=`. The reference's messages on failure.
pub fn drop_privileges(uid: u32, gid: u32, groups: &[u32]) -> Result<(), String> {
    // SAFETY: groups is a valid slice of gids.
    if unsafe { libc::setgroups(groups.len(), groups.as_ptr()) } != 0 {
        return Err("Could not set groups of effective user".into());
    }
    // SAFETY: setgid has no memory effects.
    if unsafe { libc::setgid(gid) } != 0 {
        return Err("Could not set group id of effective user".into());
    }
    // SAFETY: setuid has no memory effects.
    if unsafe { libc::setuid(uid) } != 0 {
        return Err("Could not set user id of effective user".into());
    }
    Ok(())
}

/// Makes sure fds 0, 1 and 2 are open (on /dev/null if not), so that no
/// pipe or socket of ours is ever given one of those numbers.
pub fn ensure_std_fds() {
    for fd in 0..3 {
        // SAFETY: F_GETFD on any int is harmless.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1 {
            // SAFETY: the path is a valid C string; open returns the lowest free fd.
            unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) };
        }
    }
}

/// Points fds 0, 1 and 2 at /dev/null (daemon mode).
pub fn std_fds_to_devnull() -> io::Result<()> {
    // SAFETY: the path is a valid C string.
    let fd = cvt(unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) })?;
    for target in 0..3 {
        // SAFETY: both fds are open; dup2 onto 0-2 replaces them.
        cvt(unsafe { libc::dup2(fd, target) })?;
    }
    if fd > 2 {
        // SAFETY: fd is ours and no longer needed.
        unsafe { libc::close(fd) };
    }
    Ok(())
}

/// `fork()`: Ok(0) in the child, Ok(pid) in the parent.
///
/// # Safety
/// The child of a multi-threaded process may only call async-signal-safe
/// functions; this daemon is single-threaded, and callers still restrict the
/// child to raw syscalls until it execs or exits.
pub unsafe fn fork() -> io::Result<i32> {
    cvt(libc::fork())
}

/// `fork()` for a process that keeps running normal code in the child
/// (daemonizing). Ok(0) in the child, Ok(pid) in the parent.
pub fn fork_process() -> io::Result<i32> {
    // SAFETY: this daemon has a single thread, so the child is a complete
    // copy of a consistent process and may run any code.
    unsafe { fork() }
}

pub fn setsid() -> io::Result<()> {
    // SAFETY: setsid has no memory effects.
    cvt(unsafe { libc::setsid() })?;
    Ok(())
}

/// `_exit`: leaves without running destructors or atexit handlers.
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and is async-signal-safe.
    unsafe { libc::_exit(code) }
}

/// Reads into `buf` from a raw fd; Ok(0) is end of file.
pub fn read_fd(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        // SAFETY: buf is valid for buf.len() bytes.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Writes from `buf` to a raw fd; returns how much was written.
pub fn write_fd(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    loop {
        // SAFETY: buf is valid for buf.len() bytes.
        let n = unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Everything a child needs, prepared before the fork so that the child
/// runs only raw syscalls.
pub struct ExecPlan {
    pub program: CString,
    pub argv: Vec<CString>,
    pub envp: Vec<CString>,
    pub cwd: Option<CString>,
    pub umask: Option<u32>,
    /// (uid, gid, supplementary groups) to switch to.
    pub user: Option<(u32, u32, Vec<u32>)>,
    /// Raw fds to become the child's 0, 1 and 2.
    pub stdio: [RawFd; 3],
}

/// Which step of the child's set-up failed (reported with its errno).
pub const STAGE_SETUID: u8 = 1;
pub const STAGE_CHDIR: u8 = 2;
pub const STAGE_EXEC: u8 = 3;

/// Starts a child that runs `plan`. Failures before exec are written as
/// 5 bytes (stage, errno as i32 little-endian) to `report`, whose write end
/// is close-on-exec: the parent reads EOF when exec succeeded.
///
/// The child is made like `posix_spawn` makes it: `clone(CLONE_VM |
/// CLONE_VFORK)` on a stack of its own, so no page table is copied (a
/// `fork` copies them all and makes every heap page the daemon then writes
/// take a fault) and the daemon resumes once the child has exec'd or
/// exited. Sharing the daemon's memory is sound because the daemon is
/// single-threaded and suspended meanwhile, and the child only reads what
/// was prepared here, writes to its own stack, and makes raw syscalls.
///
/// Returns the child's pid.
pub fn fork_exec(plan: &ExecPlan, report: &OwnedFd) -> io::Result<i32> {
    let argv: Vec<*const libc::c_char> = plan
        .argv
        .iter()
        .map(|a| a.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    let envp: Vec<*const libc::c_char> = plan
        .envp
        .iter()
        .map(|a| a.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    // The child gets its fds through low, reserved numbers (see
    // HANDOFF_FDS): it can then leave the daemon's table without copying
    // it, instead of copying every fd of every other child and closing
    // them one by one (a cost that grows with the number of programs).
    let handoff = handoff_fds();
    if let Some(h) = handoff {
        let wanted = [
            plan.stdio[0],
            plan.stdio[1],
            plan.stdio[2],
            report.as_raw_fd(),
        ];
        for (&fd, &slot) in wanted.iter().zip(h.iter()) {
            // SAFETY: dup3 onto a reserved fd of ours, closing only what
            // that fd held before (/dev/null).
            if let Err(e) = cvt(unsafe { libc::dup3(fd, slot, libc::O_CLOEXEC) }) {
                release_handoff(h);
                return Err(e);
            }
        }
    }
    let child = ChildArgs {
        plan,
        argv: argv.as_ptr(),
        envp: envp.as_ptr(),
        report_fd: report.as_raw_fd(),
        handoff,
        empty: sigset_of(&[]),
    };
    let stack = ChildStack::new()?;
    let share_fds = if handoff.is_some() {
        libc::CLONE_FILES
    } else {
        0
    };
    // SAFETY: sigset_t is plain data; sigfillset initializes it.
    let mut all: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    let mut old: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `all` is a valid sigset_t.
    unsafe { libc::sigfillset(&mut all) };
    // Every signal blocked while the child shares our memory: no handler
    // may run in it (the child resets the handlers before unblocking).
    // SAFETY: both sets are valid sigset_t values.
    cvt(unsafe { libc::sigprocmask(libc::SIG_SETMASK, &all, &mut old) })?;
    // SAFETY: `spawn_child` follows the rules above; its stack is a
    // mapping of CHILD_STACK_SIZE bytes of this thread, its top 16-byte
    // aligned, used by nothing else: the previous child is done with it
    // (CLONE_VFORK), and so is this one when clone returns; `child`
    // outlives the call for the same reason.
    let pid = unsafe {
        libc::clone(
            spawn_child,
            stack.top(),
            libc::CLONE_VM | libc::CLONE_VFORK | share_fds | libc::SIGCHLD,
            (&child as *const ChildArgs<'_>).cast_mut().cast(),
        )
    };
    let clone_error = io::Error::last_os_error();
    // SAFETY: `old` is the mask sigprocmask gave above.
    unsafe { libc::sigprocmask(libc::SIG_SETMASK, &old, std::ptr::null_mut()) };
    if let Some(h) = handoff {
        release_handoff(h);
    }
    if pid == -1 {
        return Err(clone_error);
    }
    Ok(pid)
}

/// What the child of [`fork_exec`] reads, prepared before it is made.
struct ChildArgs<'a> {
    plan: &'a ExecPlan,
    argv: *const *const libc::c_char,
    envp: *const *const libc::c_char,
    report_fd: RawFd,
    /// The reserved fds holding stdin, stdout, stderr and the report pipe.
    handoff: Option<[RawFd; 5]>,
    empty: libc::sigset_t,
}

thread_local! {
    /// Five fds reserved at the first spawn, as low as they can be: four
    /// hand a child its stdin, stdout, stderr and report pipe, and point at
    /// the fifth (/dev/null) between spawns. The child is made sharing our
    /// fd table and leaves it with `close_range(lowest above them, ~0,
    /// CLOSE_RANGE_UNSHARE)`, which copies only the fds below.
    static HANDOFF_FDS: std::cell::Cell<Option<[RawFd; 5]>> = const { std::cell::Cell::new(None) };
}

/// Reserves the hand-off fds now, while the lowest fds are free: a child
/// copies every fd below them, so they must come before the log files of
/// hundreds of programs (call before opening those).
pub fn reserve_spawn_fds() {
    let _ = handoff_fds();
}

/// The reserved fds, made on first use; None if they cannot be (the child
/// then copies the whole table as fork does).
fn handoff_fds() -> Option<[RawFd; 5]> {
    if let Some(h) = HANDOFF_FDS.with(|c| c.get()) {
        return Some(h);
    }
    // SAFETY: the path is a valid C string; open returns a new fd.
    let null = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
    if null < 0 {
        return None;
    }
    let mut h = [null; 5];
    for i in 0..4 {
        // SAFETY: F_DUPFD_CLOEXEC returns a new fd (the lowest free >= 3).
        let fd = unsafe { libc::fcntl(null, libc::F_DUPFD_CLOEXEC, 3) };
        if fd < 0 {
            for &made in &h[..i] {
                // SAFETY: closing fds made here that nothing else uses.
                unsafe { libc::close(made) };
            }
            // SAFETY: as above.
            unsafe { libc::close(null) };
            return None;
        }
        h[i] = fd;
    }
    HANDOFF_FDS.with(|c| c.set(Some(h)));
    Some(h)
}

/// Points the four hand-off fds back at /dev/null, so that the daemon holds
/// no extra reference to the child's pipes.
fn release_handoff(h: [RawFd; 5]) {
    for &slot in &h[..4] {
        // SAFETY: dup3 between reserved fds of ours.
        unsafe { libc::dup3(h[4], slot, libc::O_CLOEXEC) };
    }
}

/// Bytes of the stack the child of [`fork_exec`] runs on; it needs a few
/// hundred (glibc's posix_spawn sizes its own from argv, with no guard).
const CHILD_STACK_SIZE: usize = 64 * 1024;

thread_local! {
    /// The stack children are made on, mapped at the first spawn and kept:
    /// a child is done with it when fork_exec returns (CLONE_VFORK), and
    /// keeping it saves a mmap, a munmap and fresh page faults per spawn.
    static CHILD_STACK: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// An anonymous mapping used as the children's stack.
struct ChildStack {
    base: usize,
}

impl ChildStack {
    fn new() -> io::Result<ChildStack> {
        let kept = CHILD_STACK.with(|s| s.get());
        if kept != 0 {
            return Ok(ChildStack { base: kept });
        }
        // SAFETY: a new private anonymous mapping; no existing memory is
        // affected.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                CHILD_STACK_SIZE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        CHILD_STACK.with(|s| s.set(base as usize));
        Ok(ChildStack {
            base: base as usize,
        })
    }

    /// The highest address: stacks grow down.
    fn top(&self) -> *mut libc::c_void {
        (self.base + CHILD_STACK_SIZE) as *mut libc::c_void
    }
}

/// The child of [`fork_exec`]: raw syscalls on the prepared arguments, then
/// exec, or report the failing stage and `_exit(127)`. Never returns.
extern "C" fn spawn_child(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` points to the ChildArgs of fork_exec, which is
    // suspended until this child execs or exits.
    let args = unsafe { &*arg.cast_const().cast::<ChildArgs<'_>>() };
    let plan = args.plan;
    let (stdio, report_fd) = match args.handoff {
        Some(h) => ([h[0], h[1], h[2]], h[3]),
        None => (plan.stdio, args.report_fd),
    };
    let fail = |stage: u8| -> ! {
        // SAFETY: errno location is valid in the child (the parent's
        // thread's, which does not look at it before its next failing call).
        let errno = unsafe { *libc::__errno_location() };
        let mut msg = [0u8; 5];
        msg[0] = stage;
        msg[1..].copy_from_slice(&errno.to_le_bytes());
        // SAFETY: msg is a valid 5-byte buffer on the child's stack.
        unsafe { libc::write(report_fd, msg.as_ptr().cast(), 5) };
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(127) }
    };
    // SAFETY (whole block): raw syscalls on valid, pre-built arguments;
    // nothing here allocates, takes a lock or writes the shared memory
    // (beyond errno).
    unsafe {
        // Handlers would run on the daemon's memory: the only ones are
        // Rust's SIGSEGV/SIGBUS stack-overflow reporters (the daemon has no
        // signal handler of its own). Rust ignores SIGPIPE; children must
        // get the default back.
        let mut dfl: libc::sigaction = std::mem::zeroed();
        dfl.sa_sigaction = libc::SIG_DFL;
        for sig in [libc::SIGSEGV, libc::SIGBUS, libc::SIGPIPE] {
            libc::sigaction(sig, &dfl, std::ptr::null_mut());
        }
        if let Some(h) = args.handoff {
            // Leave the daemon's fd table, keeping only the fds below the
            // hand-off ones' end; kernels before 5.9: copy it whole.
            let end = h[..4].iter().max().map_or(3, |&fd| fd + 1);
            let flags = libc::CLOSE_RANGE_UNSHARE;
            if libc::syscall(
                libc::SYS_close_range,
                end as libc::c_uint,
                libc::c_uint::MAX,
                flags,
            ) != 0
                && libc::unshare(libc::CLONE_FILES) != 0
            {
                fail(STAGE_EXEC);
            }
        }
        libc::setpgid(0, 0);
        for (target, &fd) in stdio.iter().enumerate() {
            if fd == target as RawFd {
                // dup2 onto itself keeps CLOEXEC: clear it instead.
                let flags = libc::fcntl(fd, libc::F_GETFD);
                libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC);
            } else if libc::dup2(fd, target as RawFd) == -1 {
                fail(STAGE_EXEC);
            }
        }
        // Close every other fd (the daemon's are close-on-exec already, but
        // fds inherited from whoever started the daemon may not be), except
        // the report pipe, which closes itself on exec.
        close_fds_from(3, report_fd);
        if let Some((uid, gid, groups)) = &plan.user {
            // Raw syscalls: glibc's wrappers may synchronize the ids over
            // the threads of the (shared) process.
            if libc::syscall(libc::SYS_setgroups, groups.len(), groups.as_ptr()) != 0
                || libc::syscall(libc::SYS_setgid, *gid) != 0
                || libc::syscall(libc::SYS_setuid, *uid) != 0
            {
                fail(STAGE_SETUID);
            }
        }
        if let Some(cwd) = &plan.cwd {
            if libc::chdir(cwd.as_ptr()) != 0 {
                fail(STAGE_CHDIR);
            }
        }
        if let Some(mask) = plan.umask {
            libc::umask(mask as libc::mode_t);
        }
        libc::sigprocmask(libc::SIG_SETMASK, &args.empty, std::ptr::null_mut());
        libc::execve(plan.program.as_ptr(), args.argv, args.envp);
        fail(STAGE_EXEC)
    }
}

/// Closes every fd >= `from` except `keep`; async-signal-safe (for the
/// child between fork and exec).
fn close_fds_from(from: RawFd, keep: RawFd) {
    let close_range = |lo: RawFd, hi: RawFd| -> bool {
        if lo > hi {
            return true;
        }
        // SAFETY: close_range only closes descriptors; no memory is touched.
        unsafe {
            libc::syscall(
                libc::SYS_close_range,
                lo as libc::c_uint,
                hi as libc::c_uint,
                0,
            ) == 0
        }
    };
    let ok = if keep >= from {
        close_range(from, keep - 1) && close_range(keep + 1, RawFd::MAX)
    } else {
        close_range(from, RawFd::MAX)
    };
    if !ok {
        // Kernels before 5.9: close the usual range one by one.
        for fd in from..4096 {
            if fd != keep {
                // SAFETY: closing an fd number has no memory effects.
                unsafe { libc::close(fd) };
            }
        }
    }
}

/// A close-on-exec duplicate of `fd`.
pub fn dup_cloexec(fd: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC on an fd number has no memory effects.
    let new = cvt(unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) })?;
    // SAFETY: fcntl returned a new fd that we now own.
    Ok(unsafe { OwnedFd::from_raw_fd(new) })
}

/// Opens an existing special file (FIFO, device) for non-blocking appends.
pub fn open_append(path: &str) -> io::Result<OwnedFd> {
    let c = CString::new(path).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let flags = libc::O_WRONLY | libc::O_APPEND | libc::O_CLOEXEC | libc::O_NONBLOCK;
    // SAFETY: c is a valid NUL-terminated path.
    let fd = cvt(unsafe { libc::open(c.as_ptr(), flags) })?;
    // SAFETY: open returned a new fd that we now own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Whether `fd` can be written now without blocking.
pub fn poll_writable(fd: RawFd) -> io::Result<bool> {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: p is one valid pollfd; timeout 0 never blocks.
    let n = cvt(unsafe { libc::poll(&mut p, 1, 0) })?;
    if n > 0 && p.revents & (libc::POLLERR | libc::POLLNVAL) != 0 {
        return Err(io::Error::from(io::ErrorKind::BrokenPipe));
    }
    Ok(n > 0 && p.revents & libc::POLLOUT != 0)
}

/// `localtime_r`: the broken-down local time of a Unix time.
pub fn localtime(seconds: i64) -> Option<libc::tm> {
    let t = libc::time_t::try_from(seconds).ok()?;
    // SAFETY: `tm` is a plain C struct for which all-zero is valid.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the call; localtime_r writes only
    // into `tm` and is reentrant.
    let result = unsafe { libc::localtime_r(&t, &mut tm) };
    (!result.is_null()).then_some(tm)
}

/// `openlog(ident, 0, LOG_USER)`.
pub fn open_syslog(ident: &'static CStr) {
    // SAFETY: ident is 'static, so it outlives every later syslog call as
    // openlog requires.
    unsafe { libc::openlog(ident.as_ptr(), 0, libc::LOG_USER) }
}

/// `syslog(LOG_INFO, "%s", message)`.
pub fn syslog_info_c(message: &CStr) {
    // SAFETY: a constant "%s" format with one valid C string argument.
    unsafe { libc::syslog(libc::LOG_INFO, c"%s".as_ptr(), message.as_ptr()) }
}

/// Lets go of the pages of code and read-only data mapped so far (those
/// the code about to run needs are faulted back in) and stops the kernel
/// from reading ahead around each fault (MADV_RANDOM), so that only what
/// the loop actually uses stays resident. Only private, file-backed,
/// read-only mappings none of whose pages were ever written are touched
/// (their `Anonymous:` is 0 in smaps; a RELRO segment relocated at load has
/// written pages and is skipped): their pages are clean copies of files,
/// nothing is lost, a page needed again is simply re-read from the file.
pub fn trim_code_pages() {
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
        return;
    };
    let mut current: Option<(usize, usize)> = None;
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let Some(first) = fields.next() else {
            continue;
        };
        if let Some(kb) = first.strip_prefix("Anonymous:").map(|_| fields.next()) {
            if let (Some((start, len)), Some("0")) = (current.take(), kb) {
                drop_clean_pages(start, len);
            }
            continue;
        }
        if first.ends_with(':') {
            continue;
        }
        // A mapping's header: range, perms, offset, dev, inode, path.
        current = None;
        let Some(perms) = fields.next() else {
            continue;
        };
        let file_backed = fields.nth(3).is_some();
        if !(perms == "r-xp" || perms == "r--p") || !file_backed {
            continue;
        }
        let Some((start, end)) = first.split_once('-') else {
            continue;
        };
        if let (Ok(start), Ok(end)) = (
            usize::from_str_radix(start, 16),
            usize::from_str_radix(end, 16),
        ) {
            current = Some((start, end.saturating_sub(start)));
        }
    }
}

fn drop_clean_pages(start: usize, len: usize) {
    let addr = start as *mut libc::c_void;
    // SAFETY: the range is a whole private, file-backed, read-only mapping
    // of this process with no anonymous (written) page; MADV_RANDOM only
    // changes read-ahead, and MADV_DONTNEED on it drops pages that are
    // re-read from the file on the next access, so no memory content
    // changes.
    unsafe {
        libc::madvise(addr, len, libc::MADV_RANDOM);
        libc::madvise(addr, len, libc::MADV_DONTNEED);
    }
}

/// Gives the free memory inside the heap back to the system
/// (`malloc_trim(0)`): what start-up allocated and freed again (reading the
/// configuration, the first spawns) stays resident otherwise.
pub fn trim_heap() {
    // SAFETY: malloc_trim only releases free memory of the allocator; no
    // live allocation is touched.
    unsafe { libc::malloc_trim(0) };
}

/// `listen(fd, backlog)` (again, to set the backlog of a bound socket).
pub fn listen(fd: RawFd, backlog: i32) -> io::Result<()> {
    // SAFETY: listen on an fd number has no memory effects.
    cvt(unsafe { libc::listen(fd, backlog) })?;
    Ok(())
}

/// One syslog line at LOG_INFO.
pub fn syslog_info(message: &str) {
    let Ok(m) = CString::new(message.replace('\0', "")) else {
        return;
    };
    // SAFETY: the format is a constant "%s" and m a valid C string.
    unsafe { libc::syslog(libc::LOG_INFO, c"%s".as_ptr(), m.as_ptr()) };
}

/// The symbolic name of an errno value (`ENOENT`), as Python's
/// `errno.errorcode` gives it.
pub fn errno_name(errno: i32) -> String {
    let name = match errno {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::ESRCH => "ESRCH",
        libc::EINTR => "EINTR",
        libc::EIO => "EIO",
        libc::ENXIO => "ENXIO",
        libc::E2BIG => "E2BIG",
        libc::ENOEXEC => "ENOEXEC",
        libc::EBADF => "EBADF",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::ENOTDIR => "ENOTDIR",
        libc::EISDIR => "EISDIR",
        libc::EINVAL => "EINVAL",
        libc::ENFILE => "ENFILE",
        libc::EMFILE => "EMFILE",
        libc::ETXTBSY => "ETXTBSY",
        libc::ELOOP => "ELOOP",
        libc::ENAMETOOLONG => "ENAMETOOLONG",
        libc::ELIBBAD => "ELIBBAD",
        _ => return errno.to_string(),
    };
    name.to_string()
}

// ---------------------------------------------------------------------------
// For supervisorctl: Ctrl-C as an fd, waiting on several fds, a password
// prompt without echo.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_exists_everywhere() {
        let root = user_by_uid(0).expect("uid 0");
        assert_eq!(root.uid, 0);
        assert_eq!(user_by_name(&root.name).map(|u| u.uid), Some(0));
        assert!(group_by_gid(0));
        assert!(user_by_name("no-such-user-here").is_none());
        assert!(!node_name().is_empty());
    }
}
