//! The daemon's own lifecycle: resource limits, privilege drop,
//! daemonizing, the pid file, and the AUTO child log directory.

use std::io::{self, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

use crate::config::ServerSettings;
use crate::sys;

/// Raises RLIMIT_NOFILE / RLIMIT_NPROC to `minfds` / `minprocs` when they
/// are lower, as the reference does. Returns info lines to log, or the
/// reference's message when the limit cannot be raised.
pub fn set_rlimits(settings: &ServerSettings) -> Result<Vec<String>, String> {
    let limits = [
        (
            libc::RLIMIT_NOFILE,
            "RLIMIT_NOFILE",
            settings.minfds,
            "The minimum number of file descriptors required to run this process is {min} as per \
             the \"minfds\" command-line argument or config file setting. The current environment \
             will only allow you to open {hard} file descriptors.  Either raise the number of \
             usable file descriptors in your environment or lower the minfds setting in the config \
             file to allow the process to start.",
        ),
        (
            libc::RLIMIT_NPROC,
            "RLIMIT_NPROC",
            settings.minprocs,
            "The minimum number of available processes required to run this program is {min} as \
             per the \"minprocs\" command-line argument or config file setting. The current \
             environment will only allow you to open {hard} processes.  Either raise the number \
             of usable processes in your environment or lower the minprocs setting in the config \
             file to allow the program to start.",
        ),
    ];
    let mut infos = Vec::new();
    for (resource, name, min, message) in limits {
        let Ok(min) = u64::try_from(min) else {
            continue;
        };
        let (soft, hard) =
            sys::getrlimit(resource).map_err(|e| format!("getrlimit {name}: {e}"))?;
        let unlimited = libc::RLIM_INFINITY;
        if soft != unlimited && soft < min {
            let new_hard = if hard != unlimited && hard < min {
                min
            } else {
                hard
            };
            match sys::setrlimit(resource, min, new_hard) {
                Ok(()) => infos.push(format!("Increased {name} limit to {min}")),
                Err(_) => {
                    return Err(message
                        .replace("{min}", &min.to_string())
                        .replace("{hard}", &hard.to_string()))
                }
            }
        }
    }
    Ok(infos)
}

/// The daemon's `user=`: drop to it (root only), as the reference does.
/// Ok(Some(info)) when privileges were dropped.
pub fn drop_privileges(settings: &ServerSettings) -> Result<Option<String>, String> {
    let Some(uid) = settings.uid else {
        return Ok(None);
    };
    let user = sys::user_by_uid(uid).ok_or_else(|| format!("Can't find uid {uid}"))?;
    let current = sys::getuid();
    if current == uid {
        return Ok(Some(format!("Set uid to user {uid} succeeded")));
    }
    if current != 0 {
        return Err("Can't drop privilege as nonroot user".into());
    }
    let groups = sys::user_groups(&user.name, user.gid);
    sys::drop_privileges(uid, user.gid, &groups)?;
    Ok(Some(format!("Set uid to user {uid} succeeded")))
}

/// The write end of the pipe on which a daemonized supervisord tells the
/// process that started it that it is up.
pub struct ReadyNotifier(Option<OwnedFd>);

impl ReadyNotifier {
    /// Nothing waits (foreground mode).
    pub fn none() -> Self {
        ReadyNotifier(None)
    }

    /// Tells the waiting parent we are up; it exits 0.
    pub fn ready(&mut self) {
        if let Some(fd) = self.0.take() {
            let _ = sys::write_fd(fd.as_raw_fd(), b"1");
        }
    }
}

/// Detaches into the background: fork (the original process waits until
/// the daemon reports ready, then exits 0, or 1 if it died first), setsid,
/// fork again so the daemon can never reacquire a terminal, chdir to
/// `directory`, stdio on /dev/null, umask. Returns in the daemon only.
pub fn daemonize(settings: &ServerSettings) -> io::Result<ReadyNotifier> {
    let (ready_read, ready_write) = sys::pipe_cloexec()?;
    let pid = sys::fork_process()?;
    if pid != 0 {
        drop(ready_write);
        let mut byte = [0u8; 1];
        let status = match sys::read_fd(ready_read.as_raw_fd(), &mut byte) {
            Ok(1) => 0,
            _ => 1,
        };
        sys::reap_pid(pid);
        sys::exit_now(status);
    }
    drop(ready_read);
    sys::setsid()?;
    let pid = sys::fork_process()?;
    if pid != 0 {
        sys::exit_now(0);
    }
    if let Some(dir) = &settings.directory {
        std::env::set_current_dir(dir)?;
    }
    sys::std_fds_to_devnull()?;
    sys::umask(settings.umask);
    Ok(ReadyNotifier(Some(ready_write)))
}

/// Reads the pid in a pid file, if it holds one.
pub fn read_pidfile(path: &str) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Writes our pid atomically (temporary file, then rename).
pub fn write_pidfile(path: &str) -> io::Result<()> {
    let tmp = format!("{path}.{}.tmp", sys::getpid());
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        writeln!(f, "{}", sys::getpid())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Removes the pid file if it still names us.
pub fn remove_pidfile(path: &str) {
    if read_pidfile(path) == Some(sys::getpid()) {
        let _ = std::fs::remove_file(path);
    }
}

/// Whether `name` is an AUTO child log of this `identifier` (the
/// reference's pattern `.+?---IDENT-\S+\.log\.{0,1}\d{0,4}`, anchored at the
/// start only).
pub fn is_auto_log_name(name: &str, identifier: &str) -> bool {
    let marker = format!("---{identifier}-");
    let mut from = 1;
    while let Some(pos) = name.get(from..).and_then(|s| s.find(&marker)) {
        let rest = &name[from + pos + marker.len()..];
        if let Some(p) = rest.find(".log") {
            if p >= 1 && !rest[..p].contains(char::is_whitespace) {
                return true;
            }
        }
        from += pos + 1;
    }
    false
}

/// Removes old AUTO child logs (unless `nocleanup`); returns warnings.
pub fn clear_auto_child_logs(settings: &ServerSettings) -> Vec<String> {
    let dir = Path::new(&settings.childlogdir);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return vec!["Could not clear childlog dir".to_string()];
    };
    let mut warnings = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if is_auto_log_name(name, &settings.identifier) {
            let path = entry.path();
            if std::fs::remove_file(&path).is_err() {
                warnings.push(format!("Failed to clean up '{}'", path.display()));
            }
        }
    }
    warnings
}

/// Creates an AUTO log file for a process channel, named like the
/// reference's (`name-stdout---identifier-XXXXXXXX.log`), and returns its
/// path and the new, empty file, open for appending (the channel's log may
/// adopt it rather than open it again).
pub fn create_auto_log(
    childlogdir: &str,
    name: &str,
    channel: &str,
    identifier: &str,
) -> io::Result<(String, std::fs::File)> {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789_";
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
        ^ (u64::from(sys::getpid() as u32) << 32);
    for _ in 0..100 {
        let mut suffix = String::with_capacity(8);
        for _ in 0..8 {
            // xorshift: unpredictability is not needed, uniqueness is
            // guaranteed by O_EXCL below.
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            suffix.push(CHARS[(seed % CHARS.len() as u64) as usize] as char);
        }
        let path = format!("{childlogdir}/{name}-{channel}---{identifier}-{suffix}.log");
        match crate::runtime::logfile::create_new_for_append(std::path::Path::new(&path)) {
            Ok(file) => return Ok((path, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other(
        "could not create a unique AUTO log file name",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_log_names() {
        for yes in [
            "web-stdout---supervisor-abc123_x.log",
            "web-stderr---supervisor-k2.log.1",
            "a---supervisor-b.log.12345",
        ] {
            assert!(is_auto_log_name(yes, "supervisor"), "{yes}");
        }
        for no in [
            "---supervisor-x.log",
            "web-stdout---other-abc.log",
            "web-stdout---supervisor-.log",
            "web.log",
        ] {
            assert!(!is_auto_log_name(no, "supervisor"), "{no}");
        }
    }

    #[test]
    fn auto_logs_are_created_and_cleaned() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path().to_str().expect("utf-8");
        let (a, mut file) = create_auto_log(d, "web", "stdout", "supervisor").expect("create");
        let (b, _) = create_auto_log(d, "web", "stdout", "supervisor").expect("create");
        assert_ne!(a, b);
        // The file comes back open for appending.
        std::io::Write::write_all(&mut file, b"x").expect("write");
        assert_eq!(std::fs::read(&a).expect("read"), b"x");
        assert!(is_auto_log_name(
            Path::new(&a)
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or(""),
            "supervisor"
        ));
        std::fs::write(dir.path().join("keep.log"), "x").expect("write");
        let mut settings = ServerSettings::defaults();
        settings.childlogdir = d.to_string();
        assert!(clear_auto_child_logs(&settings).is_empty());
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .expect("read")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left, vec!["keep.log".to_string()]);
    }

    #[test]
    fn pidfiles_are_written_atomically_and_removed_only_if_ours() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.pid");
        let p = path.to_str().expect("utf-8");
        write_pidfile(p).expect("write");
        assert_eq!(read_pidfile(p), Some(sys::getpid()));
        remove_pidfile(p);
        assert!(!path.exists());
        std::fs::write(&path, "1\n").expect("write");
        remove_pidfile(p);
        assert!(path.exists(), "a pid file naming another process stays");
    }
}
