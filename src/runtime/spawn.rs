//! Spawning a configured process: resolve the command as the reference
//! does, prepare argv, environment, directory and user before the fork,
//! then fork/exec with the child's failures reported through a
//! close-on-exec pipe, so a failed start says exactly why.

use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;

use crate::config::values::{python_repr, split_command};
use crate::config::ProcessConfig;
use crate::sys;

/// The parent's ends of a child's pipes (non-blocking, close-on-exec).
#[derive(Debug)]
pub struct ChildPipes {
    pub stdin: OwnedFd,
    pub stdout: OwnedFd,
    /// None when stderr is redirected to stdout.
    pub stderr: Option<OwnedFd>,
}

/// A started child.
#[derive(Debug)]
pub struct Spawned {
    pub pid: i32,
    pub pipes: ChildPipes,
}

/// What the daemon adds to every child's environment.
#[derive(Debug, Clone)]
pub struct SpawnContext<'a> {
    pub group: &'a str,
    /// The daemon's own URL (used when the program sets no `serverurl`).
    pub serverurl: Option<&'a str>,
    /// An fd to become the child's stdin (the fcgi socket), if any.
    pub stdin_fd: Option<i32>,
}

/// The PATH a command is searched on: the program's own `PATH=` if its
/// environment sets one, else the daemon's, else the reference's default.
fn search_path(cfg: &ProcessConfig) -> Vec<String> {
    let from_env = cfg
        .environment
        .iter()
        .rev()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.clone())
        .or_else(|| std::env::var("PATH").ok());
    match from_env {
        Some(p) => p.split(':').map(String::from).collect(),
        None => vec!["/bin".into(), "/usr/bin".into(), "/usr/local/bin".into()],
    }
}

/// Splits and resolves the command, with the reference's checks and
/// messages (`can't find command 'x'`, `command at 'x' is a directory`...).
pub fn resolve_command(cfg: &ProcessConfig) -> Result<(String, Vec<String>), String> {
    let argv = split_command(&cfg.command)
        .map_err(|why| format!("can't parse command {}: {why}", python_repr(&cfg.command)))?;
    let Some(program) = argv.first() else {
        return Err("command is empty".to_string());
    };
    let (filename, meta) = if program.contains('/') {
        (program.clone(), std::fs::metadata(program).ok())
    } else {
        search_path(cfg)
            .iter()
            .map(|dir| format!("{dir}/{program}"))
            .find_map(|candidate| {
                std::fs::metadata(&candidate)
                    .ok()
                    .map(|m| (candidate, Some(m)))
            })
            .unwrap_or_else(|| (program.clone(), None))
    };
    let shown = python_repr(&filename);
    let Some(meta) = meta else {
        return Err(format!("can't find command {shown}"));
    };
    if meta.is_dir() {
        return Err(format!("command at {shown} is a directory"));
    }
    if meta.permissions().mode() & 0o111 == 0 {
        return Err(format!("command at {shown} is not executable"));
    }
    let cpath = CString::new(filename.clone())
        .map_err(|_| format!("command at {shown} contains a NUL byte"))?;
    if !sys::can_execute(&cpath) {
        return Err(format!("no permission to run command {shown}"));
    }
    Ok((filename, argv))
}

fn cstring(s: impl Into<Vec<u8>>, what: &str) -> Result<CString, String> {
    CString::new(s).map_err(|_| format!("{what} contains a NUL byte"))
}

/// The child's environment: the daemon's, the SUPERVISOR_* variables, then
/// the program's `environment=` (which wins), as the reference builds it.
pub fn child_environment(cfg: &ProcessConfig, ctx: &SpawnContext<'_>) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    let mut set = |k: &str, v: &str| match env.iter_mut().find(|(ek, _)| ek == k) {
        Some(slot) => slot.1 = v.to_string(),
        None => env.push((k.to_string(), v.to_string())),
    };
    set("SUPERVISOR_ENABLED", "1");
    let serverurl = cfg
        .serverurl
        .as_deref()
        .filter(|s| !s.is_empty())
        .or(ctx.serverurl);
    if let Some(url) = serverurl {
        set("SUPERVISOR_SERVER_URL", url);
    }
    set("SUPERVISOR_PROCESS_NAME", &cfg.name);
    set("SUPERVISOR_GROUP_NAME", ctx.group);
    for (k, v) in &cfg.environment {
        set(k, v);
    }
    env
}

/// The user to switch to, or why we cannot (the reference's messages).
fn child_user(cfg: &ProcessConfig) -> Result<Option<(u32, u32, Vec<u32>)>, String> {
    let Some(uid) = cfg.uid else {
        return Ok(None);
    };
    let prefix = format!("couldn't setuid to {uid}");
    let user = sys::user_by_uid(uid).ok_or_else(|| format!("{prefix}: Can't find uid {uid}"))?;
    let current = sys::getuid();
    if current == uid {
        return Ok(None);
    }
    if current != 0 {
        return Err(format!("{prefix}: Can't drop privilege as nonroot user"));
    }
    let groups = sys::user_groups(&user.name, user.gid);
    Ok(Some((uid, user.gid, groups)))
}

/// Starts the process. On failure the text is the spawn error shown to
/// users (`spawnerr`); nothing is left behind (fds closed, child reaped).
pub fn spawn(cfg: &ProcessConfig, ctx: &SpawnContext<'_>) -> Result<Spawned, String> {
    let (filename, argv) = resolve_command(cfg)?;
    let user = child_user(cfg)?;
    let program = cstring(filename.clone(), "command")?;
    let argv_c = argv
        .iter()
        .map(|a| cstring(a.as_str(), "an argument"))
        .collect::<Result<Vec<_>, _>>()?;
    let envp = child_environment(cfg, ctx)
        .into_iter()
        .map(|(k, v)| cstring(format!("{k}={v}"), "the environment"))
        .collect::<Result<Vec<_>, _>>()?;
    let cwd = cfg
        .directory
        .as_deref()
        .map(|d| cstring(d, "directory"))
        .transpose()?;

    let pipes_err = |e: std::io::Error| {
        if e.raw_os_error() == Some(libc::EMFILE) {
            format!("too many open files to spawn '{}'", cfg.name)
        } else {
            format!(
                "unknown error making dispatchers for '{}': {}",
                cfg.name,
                sys::errno_name(e.raw_os_error().unwrap_or(0))
            )
        }
    };
    let (stdin_child, stdin_parent) = sys::pipe_cloexec().map_err(pipes_err)?;
    let (stdout_parent, stdout_child) = sys::pipe_cloexec().map_err(pipes_err)?;
    let stderr = if cfg.redirect_stderr {
        None
    } else {
        Some(sys::pipe_cloexec().map_err(pipes_err)?)
    };
    let (report_read, report_write) = sys::pipe_cloexec().map_err(pipes_err)?;
    let stdin_fd = ctx.stdin_fd.unwrap_or(stdin_child.as_raw_fd());
    let stderr_fd = match &stderr {
        Some((_, child)) => child.as_raw_fd(),
        None => stdout_child.as_raw_fd(),
    };
    let plan = sys::ExecPlan {
        program,
        argv: argv_c,
        envp,
        cwd,
        umask: cfg.umask,
        user,
        stdio: [stdin_fd, stdout_child.as_raw_fd(), stderr_fd],
    };
    let pid = sys::fork_exec(&plan, &report_write).map_err(|e| {
        if e.raw_os_error() == Some(libc::EAGAIN) {
            format!(
                "Too many processes in process table to spawn '{}'",
                cfg.name
            )
        } else {
            format!("unknown error during fork for '{}': {e}", cfg.name)
        }
    })?;
    drop(report_write);
    drop(stdin_child);
    drop(stdout_child);
    let stderr_parent = stderr.map(|(parent, _child)| parent);

    // Blocks only until the child execs (EOF) or reports a failure.
    let mut report = [0u8; 5];
    let mut got = 0;
    while got < report.len() {
        match sys::read_fd(report_read.as_raw_fd(), &mut report[got..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    if got == report.len() {
        sys::reap_pid(pid);
        let errno = i32::from_le_bytes([report[1], report[2], report[3], report[4]]);
        let code = sys::errno_name(errno);
        return Err(match report[0] {
            sys::STAGE_SETUID => format!("couldn't setuid to {}: {code}", cfg.uid.unwrap_or(0)),
            sys::STAGE_CHDIR => format!(
                "couldn't chdir to {}: {code}",
                cfg.directory.as_deref().unwrap_or("")
            ),
            _ => format!("couldn't exec {filename}: {code}"),
        });
    }
    for fd in [&stdin_parent, &stdout_parent] {
        let _ = sys::set_nonblocking(fd);
    }
    if let Some(fd) = &stderr_parent {
        let _ = sys::set_nonblocking(fd);
    }
    Ok(Spawned {
        pid,
        pipes: ChildPipes {
            stdin: stdin_parent,
            stdout: stdout_parent,
            stderr: stderr_parent,
        },
    })
}
