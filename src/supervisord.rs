//! The daemon mode: command line, configuration, then the supervisor loop.
//!
//! The loop is one `mio::Poll` on one thread. Fixed tokens: the signalfd.
//! Every other source (child pipes, later connections) gets a token from a
//! counter that is never reused. Each pass: wait for an fd or the earliest
//! deadline, handle fd events (signals: reap, shut down, reopen; pipes:
//! copy output to logs), then feed due deadlines to the process automata
//! and perform the actions they return. Nothing sleeps and nothing ticks.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

use crate::cli::{self, Parsed, SupervisordArgs};
use crate::config::load::ServerOverrides;
use crate::config::{self, dump, values, GroupConfig, LogFile, ProcessConfig, ServerConfig};
use crate::model::process::{Action, Input, Now, Process};
use crate::runtime::daemon::{self, ReadyNotifier};
use crate::runtime::spawn::{self, SpawnContext};
use crate::states::{level, ProcessState, SupervisorState};
use crate::sys;

/// Prints a usage error the way the reference does and returns status 2.
fn usage(progname: &str, message: &str) -> i32 {
    let _ = writeln!(
        std::io::stderr(),
        "Error: {message}\nFor help, use {progname} -h"
    );
    2
}

/// Writes one main-log line at a reference level number.
pub fn emit(level: u8, message: &str) {
    let lvl = match level {
        level::CRIT | level::ERRO => log::Level::Error,
        level::WARN => log::Level::Warn,
        level::INFO => log::Level::Info,
        level::DEBG => log::Level::Debug,
        _ => log::Level::Trace,
    };
    log::log!(target: level_target(level), lvl, "{message}");
}

/// The `log` target that carries the reference level through the facade
/// (the facade has five levels, the reference seven).
fn level_target(level: u8) -> &'static str {
    match level {
        level::CRIT => "CRIT",
        level::ERRO => "ERRO",
        level::WARN => "WARN",
        level::INFO => "INFO",
        level::DEBG => "DEBG",
        level::TRAC => "TRAC",
        _ => "BLAT",
    }
}

/// Validates each command-line value with the converter the reference uses
/// for that option.
fn overrides(a: &SupervisordArgs) -> Result<ServerOverrides, String> {
    fn check<T>(
        option: &str,
        value: &Option<String>,
        convert: impl Fn(&str) -> values::Result<T>,
    ) -> Result<Option<T>, String> {
        value
            .as_deref()
            .map(|v| convert(v).map_err(|m| format!("invalid value for --{option} {v:?}: {m}")))
            .transpose()
    }
    Ok(ServerOverrides {
        nodaemon: a.nodaemon,
        silent: a.silent,
        nocleanup: a.nocleanup,
        strip_ansi: a.strip_ansi,
        user: a.user.clone(),
        umask: check("umask", &a.umask, values::octal)?,
        directory: check("directory", &a.directory, values::existing_directory)?,
        logfile: check("logfile", &a.logfile, values::existing_dirpath)?,
        logfile_maxbytes: check("logfile_maxbytes", &a.logfile_maxbytes, values::byte_size)?,
        logfile_backups: check("logfile_backups", &a.logfile_backups, values::integer)?,
        loglevel: check("loglevel", &a.loglevel, values::logging_level)?,
        pidfile: check("pidfile", &a.pidfile, values::existing_dirpath)?,
        identifier: a.identifier.clone(),
        childlogdir: check("childlogdir", &a.childlogdir, values::existing_directory)?,
        minfds: check("minfds", &a.minfds, values::integer)?,
        minprocs: check("minprocs", &a.minprocs, values::integer)?,
    })
}

pub fn main(argv0: &str, progname: &str, args: &[String]) -> i32 {
    let parsed: Parsed<SupervisordArgs> =
        cli::parse(progname, args, cli::SUPERVISORD_OPTIONS, false);
    let a = match parsed {
        Parsed::Exit { output, status } => return crate::early_exit(&output, status),
        Parsed::Run(a) => a,
    };
    if a.version {
        return crate::early_exit(&format!("{}\n", crate::SUPERVISOR_VERSION), 0);
    }
    let overrides = match overrides(&a) {
        Ok(o) => o,
        Err(m) => return usage(progname, &m),
    };
    let configfile = match &a.configuration {
        Some(c) => PathBuf::from(c),
        None => match config::find_config_file(argv0) {
            Ok(p) => p,
            Err(m) => return usage(progname, &m),
        },
    };
    let server = match config::load_server(&configfile, &overrides) {
        Ok(c) => c,
        Err(e) => return usage(progname, &e.to_string()),
    };
    if a.dump_config {
        let ctl = match config::load::load_ctl_section(&configfile) {
            Ok(c) => c,
            Err(e) => return usage(progname, &e.to_string()),
        };
        let json = dump::to_json(&server, ctl.as_ref());
        let text = serde_json::to_string_pretty(&json).unwrap_or_default();
        return match writeln!(std::io::stdout(), "{text}") {
            Ok(()) => 0,
            Err(_) => 1,
        };
    }
    if a.profile_options.is_some() {
        let _ = writeln!(
            std::io::stderr(),
            "supervisord: --profile_options is accepted but ignored"
        );
    }
    run(progname, server, &configfile, &overrides)
}

/// Start-up, then the loop; again from the re-read file after SIGHUP.
fn run(
    progname: &str,
    mut server: ServerConfig,
    configfile: &Path,
    overrides: &ServerOverrides,
) -> i32 {
    sys::ensure_std_fds();
    let mut first = true;
    let mut ready = ReadyNotifier::none();
    loop {
        let mut criticals = Vec::new();
        let mut infos = Vec::new();
        if first {
            match daemon::drop_privileges(&server.settings) {
                Ok(Some(info)) => infos.push(info),
                Ok(None) if sys::getuid() == 0 => criticals.push(
                    "Supervisor is running as root.  Privileges were not dropped because no user is \
                     specified in the config file.  If you intend to run as root, you can set \
                     user=root in the config file to avoid this message."
                        .to_string(),
                ),
                Ok(None) => {}
                Err(m) => return usage(progname, &m),
            }
            match daemon::set_rlimits(&server.settings) {
                Ok(lines) => infos.extend(lines),
                Err(m) => return usage(progname, &m),
            }
            if let Err(m) = check_not_running(&server) {
                return usage(progname, &m);
            }
        }
        crate::runtime::logsetup::install(&server.settings);
        for m in &criticals {
            emit(level::CRIT, m);
        }
        for m in &server.warnings {
            emit(level::WARN, m);
        }
        for m in server.infos.iter().chain(&infos) {
            emit(level::INFO, m);
        }
        if !server.settings.nocleanup {
            for w in daemon::clear_auto_child_logs(&server.settings) {
                emit(level::WARN, &w);
            }
        }
        if first && !server.settings.nodaemon {
            emit(level::INFO, "daemonizing the supervisord process");
            match daemon::daemonize(&server.settings) {
                Ok(r) => ready = r,
                Err(e) => {
                    emit(level::CRIT, &format!("could not daemonize: {e}"));
                    return 1;
                }
            }
            if let Some(dir) = &server.settings.directory {
                emit(
                    level::INFO,
                    &format!("set current directory: {}", values::python_repr(dir)),
                );
            }
        }
        // After daemonizing: an epoll set watching a signalfd keeps waking
        // only the process that registered it, so both are made here.
        let mut d = match Daemon::new(server.clone()) {
            Ok(d) => d,
            Err(e) => {
                emit(
                    level::CRIT,
                    &format!("cannot start the supervisor loop: {e}"),
                );
                return 1;
            }
        };
        match daemon::write_pidfile(&server.settings.pidfile) {
            Ok(()) => emit(
                level::INFO,
                &format!("supervisord started with pid {}", sys::getpid()),
            ),
            Err(_) => emit(
                level::CRIT,
                &format!("could not write pidfile {}", server.settings.pidfile),
            ),
        }
        if let Err(e) = sys::become_subreaper() {
            emit(
                level::WARN,
                &format!("could not become a child subreaper: {e}"),
            );
        }
        ready.ready();
        let mood = d.run_forever();
        daemon::remove_pidfile(&server.settings.pidfile);
        drop(d);
        if mood != SupervisorState::Restarting {
            return 0;
        }
        first = false;
        match config::load_server(configfile, overrides) {
            Ok(new) => server = new,
            Err(e) => emit(
                level::CRIT,
                &format!(
                    "could not re-read the configuration ({e}); restarting with the previous one"
                ),
            ),
        }
    }
}

/// Refuses to start while another supervisord holds our pid file.
fn check_not_running(server: &ServerConfig) -> Result<(), String> {
    let Some(pid) = daemon::read_pidfile(&server.settings.pidfile) else {
        return Ok(());
    };
    if pid == sys::getpid() || !sys::pid_alive(pid) {
        return Ok(());
    }
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let looks_like_us = String::from_utf8_lossy(&cmdline).contains("supervisor");
    let socket_live = server.servers.iter().any(|s| match &s.listen {
        config::Listen::Unix { file, .. } => std::os::unix::net::UnixStream::connect(file).is_ok(),
        config::Listen::Inet { .. } => false,
    });
    if looks_like_us || socket_live {
        return Err(format!(
            "Another supervisord (pid {pid}) is already running with pid file {}. Shut it down \
             first before starting supervisord.",
            server.settings.pidfile
        ));
    }
    Ok(())
}

const SIGNAL_TOKEN: Token = Token(0);
const FIRST_DYNAMIC_TOKEN: usize = 1024;
/// Bytes read from one pipe per wakeup before others get their turn.
const READ_BUDGET: usize = 64 * 1024;
/// Bytes drained from an exited child's pipes before they are closed.
const DRAIN_LIMIT: usize = 4 * 1024 * 1024;

/// Which of a process's pipes a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Channel {
    Stdout,
    Stderr,
}

impl Channel {
    fn name(self) -> &'static str {
        match self {
            Channel::Stdout => "stdout",
            Channel::Stderr => "stderr",
        }
    }
}

/// The main-log line echoing child output at debug level, as the reference
/// writes it.
fn output_line(name: &str, channel: Channel, data: &[u8]) -> String {
    let text = match std::str::from_utf8(data) {
        Ok(t) => t.to_string(),
        Err(_) => format!("Undecodable: {}", bytes_repr(data)),
    };
    format!(
        "{} {} output:\n{text}",
        values::python_repr(name),
        channel.name()
    )
}

/// Python's `repr()` of a bytes value (`b'...'`).
fn bytes_repr(data: &[u8]) -> String {
    let mut out = String::from("b'");
    for &b in data {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\'' => out.push_str("\\'"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('\'');
    out
}

/// What a token belongs to.
#[derive(Debug, Clone, Copy)]
enum Owner {
    Pipe { proc: usize, channel: Channel },
}

/// Where a channel's output goes until the log writers land.
struct Sink {
    file: Option<File>,
}

impl Sink {
    fn open(target: &LogFile) -> Sink {
        let file = match target {
            LogFile::Path(p) => std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(p)
                .ok(),
            LogFile::None | LogFile::Auto | LogFile::Syslog => None,
        };
        Sink { file }
    }

    fn write(&mut self, data: &[u8]) {
        if let Some(f) = &mut self.file {
            let _ = f.write_all(data);
        }
    }
}

/// A live child's pipes, with the tokens they are registered under.
struct Pipes {
    /// Held open so the child's stdin never reads end-of-file, as with the
    /// reference (sendProcessStdin writes to it).
    #[allow(dead_code)]
    stdin: OwnedFd,
    stdout: Option<(OwnedFd, Token)>,
    stderr: Option<(OwnedFd, Token)>,
}

/// One process: its configuration, its automaton, its fds.
struct Slot {
    cfg: ProcessConfig,
    group: usize,
    proc: Process,
    pipes: Option<Pipes>,
    stdout: Sink,
    stderr: Sink,
}

struct Group {
    config: GroupConfig,
    procs: Vec<usize>,
}

struct Daemon {
    config: ServerConfig,
    poll: Poll,
    signals: OwnedFd,
    mood: SupervisorState,
    groups: Vec<Group>,
    slots: Vec<Slot>,
    pids: HashMap<i32, usize>,
    owners: HashMap<Token, Owner>,
    next_token: usize,
    /// Deadlines (lazy: an entry is live only if it equals the process's).
    timers: BinaryHeap<Reverse<(Instant, usize)>>,
    /// Pipes that hit their read budget and still have data.
    backlog: VecDeque<Token>,
    /// Groups still to stop during shutdown, lowest priority first.
    stop_groups: Option<Vec<usize>>,
    next_shutdown_report: Option<Instant>,
}

fn now() -> Now {
    let wall = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    Now {
        mono: Instant::now(),
        wall,
    }
}

impl Daemon {
    fn new(config: ServerConfig) -> std::io::Result<Daemon> {
        let poll = Poll::new()?;
        let signals = sys::signalfd_for_handled_signals()?;
        poll.registry().register(
            &mut SourceFd(&signals.as_raw_fd()),
            SIGNAL_TOKEN,
            Interest::READABLE,
        )?;
        let mut d = Daemon {
            config,
            poll,
            signals,
            mood: SupervisorState::Running,
            groups: Vec::new(),
            slots: Vec::new(),
            pids: HashMap::new(),
            owners: HashMap::new(),
            next_token: FIRST_DYNAMIC_TOKEN,
            timers: BinaryHeap::new(),
            backlog: VecDeque::new(),
            stop_groups: None,
            next_shutdown_report: None,
        };
        for group in d.config.groups.clone() {
            d.add_group(group);
        }
        Ok(d)
    }

    fn add_group(&mut self, config: GroupConfig) {
        let gi = self.groups.len();
        let mut procs = Vec::new();
        for cfg in &config.processes {
            let mut cfg = cfg.clone();
            for (channel, log) in [("stdout", &mut cfg.stdout), ("stderr", &mut cfg.stderr)] {
                if log.logfile == LogFile::Auto {
                    let s = &self.config.settings;
                    log.logfile = match daemon::create_auto_log(
                        &s.childlogdir,
                        &cfg.name,
                        channel,
                        &s.identifier,
                    ) {
                        Ok(path) => LogFile::Path(path),
                        Err(e) => {
                            emit(
                                level::ERRO,
                                &format!(
                                    "could not create an AUTO {channel} log for {}: {e}",
                                    cfg.name
                                ),
                            );
                            LogFile::None
                        }
                    };
                }
            }
            let stdout = Sink::open(&cfg.stdout.logfile);
            let stderr = Sink::open(&cfg.stderr.logfile);
            procs.push(self.slots.len());
            self.slots.push(Slot {
                cfg,
                group: gi,
                proc: Process::new(),
                pipes: None,
                stdout,
                stderr,
            });
        }
        self.groups.push(Group { config, procs });
    }

    fn token(&mut self) -> Token {
        let t = Token(self.next_token);
        self.next_token += 1;
        t
    }

    /// Feeds one input to a process and performs what it asks for,
    /// including the inputs those actions produce.
    fn feed(&mut self, proc: usize, input: Input) {
        let mut queue = VecDeque::from([input]);
        while let Some(input) = queue.pop_front() {
            let t = now();
            let slot = &mut self.slots[proc];
            let actions = slot.proc.step(input, t, &slot.cfg, self.mood);
            if let Some(deadline) = slot.proc.deadline(&slot.cfg, self.mood) {
                self.timers.push(Reverse((deadline, proc)));
            }
            for action in actions {
                if let Some(next) = self.perform(proc, action) {
                    queue.push_back(next);
                }
            }
        }
    }

    fn perform(&mut self, proc: usize, action: Action) -> Option<Input> {
        match action {
            Action::Log { level, message } => {
                emit(level, &message);
                None
            }
            Action::Changed { .. } => None,
            Action::Spawn => Some(self.spawn(proc)),
            Action::Kill { pid, signal, group } => {
                let target = if group { -pid } else { pid };
                match sys::kill(target, signal) {
                    Ok(()) => None,
                    Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {
                        emit(
                            level::DEBG,
                            &format!(
                                "unable to signal {} (pid {pid}), it probably just exited on its own: {e}",
                                self.slots[proc].cfg.name
                            ),
                        );
                        None
                    }
                    Err(e) => Some(Input::KillFailed {
                        error: e.to_string(),
                    }),
                }
            }
        }
    }

    fn spawn(&mut self, proc: usize) -> Input {
        let group_name = self.groups[self.slots[proc].group].config.name.clone();
        let ctx = SpawnContext {
            group: &group_name,
            serverurl: self.config.serverurl.as_deref(),
            stdin_fd: None,
        };
        match spawn::spawn(&self.slots[proc].cfg, &ctx) {
            Err(error) => Input::SpawnFailed { error },
            Ok(child) => {
                let stdout_token = self.token();
                let stderr_token = self.token();
                let registry = self.poll.registry();
                let mut pipes = Pipes {
                    stdin: child.pipes.stdin,
                    stdout: None,
                    stderr: None,
                };
                let out = child.pipes.stdout;
                if registry
                    .register(
                        &mut SourceFd(&out.as_raw_fd()),
                        stdout_token,
                        Interest::READABLE,
                    )
                    .is_ok()
                {
                    self.owners.insert(
                        stdout_token,
                        Owner::Pipe {
                            proc,
                            channel: Channel::Stdout,
                        },
                    );
                    pipes.stdout = Some((out, stdout_token));
                }
                if let Some(err) = child.pipes.stderr {
                    if registry
                        .register(
                            &mut SourceFd(&err.as_raw_fd()),
                            stderr_token,
                            Interest::READABLE,
                        )
                        .is_ok()
                    {
                        self.owners.insert(
                            stderr_token,
                            Owner::Pipe {
                                proc,
                                channel: Channel::Stderr,
                            },
                        );
                        pipes.stderr = Some((err, stderr_token));
                    }
                }
                self.slots[proc].pipes = Some(pipes);
                self.pids.insert(child.pid, proc);
                Input::Spawned { pid: child.pid }
            }
        }
    }

    /// Reads up to `budget` bytes from a pipe into its log. Returns true
    /// when the pipe may still have data (budget used up).
    fn read_pipe(&mut self, proc: usize, channel: Channel, budget: usize) -> bool {
        let mut buf = [0u8; 16 * 1024];
        let mut total = 0;
        loop {
            let slot = &mut self.slots[proc];
            let Some(pipes) = &slot.pipes else {
                return false;
            };
            let fd = match channel {
                Channel::Stdout => pipes.stdout.as_ref(),
                Channel::Stderr => pipes.stderr.as_ref(),
            };
            let Some((fd, _)) = fd else { return false };
            match sys::read_fd(fd.as_raw_fd(), &mut buf) {
                Ok(0) => {
                    self.close_pipe(proc, channel);
                    return false;
                }
                Ok(n) => {
                    let sink = match channel {
                        Channel::Stdout => &mut slot.stdout,
                        Channel::Stderr => &mut slot.stderr,
                    };
                    sink.write(&buf[..n]);
                    if self.config.settings.loglevel <= level::DEBG {
                        emit(
                            level::DEBG,
                            &output_line(&slot.cfg.name, channel, &buf[..n]),
                        );
                    }
                    total += n;
                    if total >= budget {
                        return true;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
                Err(_) => {
                    self.close_pipe(proc, channel);
                    return false;
                }
            }
        }
    }

    fn close_pipe(&mut self, proc: usize, channel: Channel) {
        let Some(pipes) = &mut self.slots[proc].pipes else {
            return;
        };
        let taken = match channel {
            Channel::Stdout => pipes.stdout.take(),
            Channel::Stderr => pipes.stderr.take(),
        };
        if let Some((fd, token)) = taken {
            let _ = self
                .poll
                .registry()
                .deregister(&mut SourceFd(&fd.as_raw_fd()));
            self.owners.remove(&token);
        }
    }

    /// A child is gone: drain what it wrote, close its pipes, tell its
    /// automaton.
    fn child_exited(&mut self, proc: usize, status: i32) {
        for channel in [Channel::Stdout, Channel::Stderr] {
            self.read_pipe(proc, channel, DRAIN_LIMIT);
            self.close_pipe(proc, channel);
        }
        self.slots[proc].pipes = None;
        self.feed(proc, Input::Exited { status });
    }

    fn reap(&mut self) {
        while let Some((pid, status)) = sys::reap_any() {
            match self.pids.remove(&pid) {
                Some(proc) => self.child_exited(proc, status),
                None => {
                    let (_, msg) = crate::model::process::decode_wait_status(status);
                    emit(level::INFO, &format!("reaped unknown pid {pid} ({msg})"));
                }
            }
        }
    }

    fn handle_signals(&mut self) {
        loop {
            let sig = match sys::read_signal(&self.signals) {
                Ok(Some(sig)) => sig,
                Ok(None) => return,
                Err(e) => {
                    emit(level::CRIT, &format!("reading signals failed: {e}"));
                    return;
                }
            };
            let name = values::signal_name(sig);
            match sig {
                libc::SIGTERM | libc::SIGINT | libc::SIGQUIT => {
                    emit(
                        level::WARN,
                        &format!("received {name} indicating exit request"),
                    );
                    self.set_mood(SupervisorState::Shutdown);
                }
                libc::SIGHUP => {
                    if self.mood == SupervisorState::Shutdown {
                        emit(
                            level::WARN,
                            &format!(
                                "ignored {name} indicating restart request (shutdown in progress)"
                            ),
                        );
                    } else {
                        emit(
                            level::WARN,
                            &format!("received {name} indicating restart request"),
                        );
                        self.set_mood(SupervisorState::Restarting);
                    }
                }
                libc::SIGCHLD => {
                    emit(
                        level::DEBG,
                        &format!("received {name} indicating a child quit"),
                    );
                    self.reap();
                }
                libc::SIGUSR2 => {
                    emit(
                        level::INFO,
                        &format!("received {name} indicating log reopen request"),
                    );
                    crate::runtime::logsetup::reopen();
                    for slot in &mut self.slots {
                        slot.stdout = Sink::open(&slot.cfg.stdout.logfile);
                        slot.stderr = Sink::open(&slot.cfg.stderr.logfile);
                    }
                }
                _ => emit(level::BLAT, &format!("received {name} indicating nothing")),
            }
        }
    }

    fn set_mood(&mut self, mood: SupervisorState) {
        self.mood = mood;
    }

    /// Processes in groups of stopping order that are not yet stopped.
    fn unstopped(&self, group: usize) -> Vec<usize> {
        self.groups[group]
            .procs
            .iter()
            .copied()
            .filter(|&p| !self.slots[p].proc.state().is_stopped())
            .collect()
    }

    /// Shutdown: stop groups one at a time, highest priority first, each
    /// process of a group in descending priority. Returns true when
    /// everything has stopped.
    fn shutdown_step(&mut self) -> bool {
        if self.stop_groups.is_none() {
            let mut order: Vec<usize> = (0..self.groups.len()).collect();
            order.sort_by(|&a, &b| {
                let (ga, gb) = (&self.groups[a].config, &self.groups[b].config);
                ga.priority
                    .cmp(&gb.priority)
                    .then_with(|| ga.name.cmp(&gb.name))
            });
            self.stop_groups = Some(order);
        }
        while let Some(&group) = self.stop_groups.as_ref().and_then(|g| g.last()) {
            let mut procs = self.groups[group].procs.clone();
            procs.sort_by(|&a, &b| {
                let (ca, cb) = (&self.slots[a].cfg, &self.slots[b].cfg);
                cb.priority
                    .cmp(&ca.priority)
                    .then_with(|| cb.name.cmp(&ca.name))
            });
            for p in procs {
                match self.slots[p].proc.state() {
                    ProcessState::Running | ProcessState::Starting => self.feed(p, Input::Stop),
                    ProcessState::Backoff => self.feed(p, Input::GiveUp),
                    _ => {}
                }
            }
            if !self.unstopped(group).is_empty() {
                break;
            }
            if let Some(g) = self.stop_groups.as_mut() {
                g.pop();
            }
        }
        let unstopped: Vec<usize> = (0..self.groups.len())
            .flat_map(|g| self.unstopped(g))
            .collect();
        if unstopped.is_empty() {
            return true;
        }
        let t = Instant::now();
        if self.next_shutdown_report.is_none_or(|at| t >= at) {
            let names: Vec<&str> = unstopped
                .iter()
                .map(|&p| self.slots[p].cfg.name.as_str())
                .collect();
            emit(
                level::INFO,
                &format!("waiting for {} to die", names.join(", ")),
            );
            for &p in &unstopped {
                emit(
                    level::BLAT,
                    &format!(
                        "{} state: {}",
                        self.slots[p].cfg.name,
                        self.slots[p].proc.state().name()
                    ),
                );
            }
            self.next_shutdown_report = Some(t + Duration::from_secs(3));
        }
        false
    }

    /// Feeds every process whose deadline has come.
    fn fire_timers(&mut self) {
        let t = Instant::now();
        while let Some(&Reverse((at, proc))) = self.timers.peek() {
            if at > t {
                break;
            }
            self.timers.pop();
            let slot = &self.slots[proc];
            if slot.proc.deadline(&slot.cfg, self.mood) == Some(at) {
                self.feed(proc, Input::Tick);
            }
        }
    }

    fn timeout(&self) -> Option<Duration> {
        if !self.backlog.is_empty() {
            return Some(Duration::ZERO);
        }
        let t = Instant::now();
        let timer = self.timers.peek().map(|Reverse((at, _))| *at);
        let report = if self.mood < SupervisorState::Running {
            self.next_shutdown_report
        } else {
            None
        };
        [timer, report]
            .into_iter()
            .flatten()
            .min()
            .map(|at| at.saturating_duration_since(t))
    }

    /// The loop; returns the mood it ended in (SHUTDOWN or RESTARTING).
    fn run_forever(&mut self) -> SupervisorState {
        emit(level::DEBG, "supervisor loop started");
        for proc in 0..self.slots.len() {
            self.feed(proc, Input::Tick);
        }
        let mut events = Events::with_capacity(256);
        loop {
            if self.mood < SupervisorState::Running && self.shutdown_step() {
                return self.mood;
            }
            if let Err(e) = self.poll.poll(&mut events, self.timeout()) {
                if e.kind() != std::io::ErrorKind::Interrupted {
                    emit(level::CRIT, &format!("poll failed: {e}"));
                }
                continue;
            }
            let mut ready: Vec<Token> = events.iter().map(|e| e.token()).collect();
            ready.extend(self.backlog.drain(..));
            for token in ready {
                if token == SIGNAL_TOKEN {
                    self.handle_signals();
                    continue;
                }
                if let Some(Owner::Pipe { proc, channel }) = self.owners.get(&token).copied() {
                    if self.read_pipe(proc, channel, READ_BUDGET) {
                        self.backlog.push_back(token);
                    }
                }
            }
            self.fire_timers();
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // Pipes close with their OwnedFds; make sure no child is left to a
        // reaper that no longer exists.
        self.reap();
    }
}
