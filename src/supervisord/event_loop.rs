//! The loop and the state it owns: processes, their pipes, listeners and
//! connections. One `mio::Poll`; fixed tokens for the signalfd and the
//! listeners, a never-reused counter for everything else.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::os::fd::{AsRawFd, OwnedFd};
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

use super::emit;
use super::events::{ListenerSlot, Ticks};
use super::http::{Conn, Listener};
use crate::config::load::ServerOverrides;
use crate::config::{
    values, ChannelConfig, FcgiSocket, GroupConfig, GroupKind, LogFile, ProcessConfig, ServerConfig,
};
use crate::model::events::Event;
use crate::model::listener::Pool;
use crate::model::output::{AnsiStripper, Capture, Channel, Piece};
use crate::model::process::{Action, Input, Now, Process};
use crate::runtime::childlog::ChannelLog;
use crate::runtime::daemon;
use crate::runtime::spawn::{self, SpawnContext};
use crate::states::{level, ProcessState, SupervisorState};
use crate::sys;

pub(super) const SIGNAL_TOKEN: Token = Token(0);
/// Listeners take tokens 1..=N.
pub(super) const FIRST_LISTENER_TOKEN: usize = 1;
const FIRST_DYNAMIC_TOKEN: usize = 1024;
/// Not an fd: in the backlog, it says children are left to reap.
const REAP_TOKEN: Token = Token(FIRST_DYNAMIC_TOKEN - 1);
/// Children reaped (and so, with autorestart, respawned) per loop pass:
/// when a hundred die at once, requests are still served between batches.
const REAP_BUDGET: usize = 16;
/// Bytes read from one pipe per wakeup before others get their turn.
const READ_BUDGET: usize = 64 * 1024;

/// Bytes drained from an exited child's pipes before they are closed.
const DRAIN_LIMIT: usize = 4 * 1024 * 1024;

/// The main-log line echoing child output at debug level, as the reference
/// writes it.
fn output_line(name: &str, channel: Channel, data: &[u8]) -> String {
    let text = match std::str::from_utf8(data) {
        Ok(t) => t.to_string(),
        Err(_) => format!("Undecodable: {}", values::bytes_repr(data)),
    };
    format!(
        "{} {} output:\n{text}",
        values::python_repr(name),
        channel.name()
    )
}

/// What a token belongs to.
#[derive(Debug, Clone, Copy)]
pub(super) enum Owner {
    Pipe {
        proc: usize,
        channel: Channel,
    },
    /// A process's log stream, waited on while it has pending bytes.
    Stream {
        proc: usize,
        channel: Channel,
    },
    /// A process's stdin, waited on while bytes for it are pending.
    Stdin {
        proc: usize,
    },
    Conn,
}

/// One output channel of a process: its log, capture mode, ANSI
/// stripping, and whether the child is paused because the log is blocked.
pub(super) struct Output {
    pub(super) log: ChannelLog,
    capture: Option<Capture>,
    strip: Option<AnsiStripper>,
    events_enabled: bool,
    /// Registered for writability while its stream has pending bytes.
    stream_token: Option<Token>,
    /// Not read while its log stream is full.
    paused: bool,
}

impl Output {
    fn new(cfg: &ChannelConfig, name: &str, strip_ansi: bool) -> (Output, Option<String>) {
        let syslog = cfg.syslog.then_some(name);
        let log = ChannelLog::new(&cfg.logfile, cfg.maxbytes, cfg.backups, syslog);
        let error = None;
        let capture = usize::try_from(cfg.capture_maxbytes)
            .ok()
            .filter(|&n| n > 0)
            .map(Capture::new);
        let output = Output {
            log,
            capture,
            strip: strip_ansi.then(AnsiStripper::default),
            events_enabled: cfg.events_enabled,
            stream_token: None,
            paused: false,
        };
        (output, error)
    }
}

/// A live child's pipes, with the tokens they are registered under.
pub(super) struct Pipes {
    /// Held open so the child's stdin never reads end-of-file, as with the
    /// reference (sendProcessStdin writes to it).
    pub(super) stdin: OwnedFd,
    stdout: Option<(OwnedFd, Token)>,
    stderr: Option<(OwnedFd, Token)>,
}

/// One process: its configuration, its automaton, its fds.
pub(super) struct Slot {
    /// Shared with its group's configuration, unless AUTO log names were
    /// resolved into a copy of its own.
    pub(super) cfg: Rc<ProcessConfig>,
    pub(super) group: usize,
    pub(super) proc: Process,
    pub(super) pipes: Option<Pipes>,
    pub(super) stdout: Output,
    pub(super) stderr: Output,
    /// False once its group was removed (slots are never reused).
    pub(super) live: bool,
    /// The protocol side, for event listener processes.
    pub(super) listener: Option<ListenerSlot>,
    /// Bytes for the child's stdin it has not taken yet.
    pub(super) stdin_pending: Vec<u8>,
    /// A listener's partial output line, for the debug echo.
    pub(super) echo: Vec<u8>,
    pub(super) stdin_token: Option<Token>,
}

pub(super) struct Group {
    pub(super) config: GroupConfig,
    pub(super) procs: Vec<usize>,
    /// The event queue of an event listener pool.
    pub(super) pool: Option<Pool>,
    /// The socket of an fcgi-program group, open while it is in use.
    pub(super) fcgi: Option<(FcgiSocket, Option<OwnedFd>)>,
}

pub(super) struct Daemon {
    pub(super) config: ServerConfig,
    /// Command-line values, applied again when the file is re-read.
    pub(super) overrides: ServerOverrides,
    pub(super) poll: Poll,
    signals: OwnedFd,
    pub(super) mood: SupervisorState,
    pub(super) groups: Vec<Group>,
    pub(super) slots: Vec<Slot>,
    pids: HashMap<i32, usize>,
    pub(super) owners: HashMap<Token, Owner>,
    pub(super) next_token: usize,
    pub(super) listeners: Vec<Listener>,
    pub(super) conns: HashMap<Token, Conn>,
    /// The next global event serial.
    pub(super) next_serial: u64,
    /// Set when an event was queued or a listener may have become ready.
    pub(super) dispatch_needed: bool,
    /// TICK state, only while a pool subscribes to ticks.
    pub(super) ticks: Option<Ticks>,
    /// Set when a process changed state: waiting RPC replies are re-checked.
    pub(super) changed: bool,
    /// Reused buffer for reading children's output.
    scratch: Vec<u8>,
    /// Deadlines (lazy: an entry is live only if it equals the process's).
    timers: BinaryHeap<Reverse<(Instant, usize)>>,
    /// Pipes that hit their read budget and still have data.
    backlog: VecDeque<Token>,
    /// Groups still to stop during shutdown, lowest priority first.
    stop_groups: Option<Vec<usize>>,
    next_shutdown_report: Option<Instant>,
}

pub(super) fn now() -> Now {
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
    pub(super) fn new(
        config: ServerConfig,
        overrides: ServerOverrides,
        listeners: Vec<Listener>,
    ) -> std::io::Result<Daemon> {
        let poll = Poll::new()?;
        let signals = sys::signalfd_for_handled_signals()?;
        poll.registry().register(
            &mut SourceFd(&signals.as_raw_fd()),
            SIGNAL_TOKEN,
            Interest::READABLE,
        )?;
        let mut d = Daemon {
            config,
            overrides,
            poll,
            signals,
            mood: SupervisorState::Running,
            groups: Vec::new(),
            slots: Vec::new(),
            pids: HashMap::new(),
            owners: HashMap::new(),
            next_token: FIRST_DYNAMIC_TOKEN,
            listeners,
            conns: HashMap::new(),
            next_serial: 0,
            dispatch_needed: false,
            ticks: None,
            changed: false,
            scratch: Vec::new(),
            timers: BinaryHeap::new(),
            backlog: VecDeque::new(),
            stop_groups: None,
            next_shutdown_report: None,
        };
        for (i, l) in d.listeners.iter_mut().enumerate() {
            l.register(d.poll.registry(), Token(FIRST_LISTENER_TOKEN + i))?;
        }
        // Before the AUTO log files: a child copies every fd below these.
        sys::reserve_spawn_fds();
        for group in d.config.groups.clone() {
            d.add_group(group);
        }
        Ok(d)
    }

    pub(super) fn add_group(&mut self, config: GroupConfig) {
        let gi = self.groups.len();
        let mut procs = Vec::new();
        self.slots.reserve(config.processes.len());
        for cfg in &config.processes {
            let mut cfg = Rc::clone(cfg);
            // AUTO files of a program about to start stay open for its
            // first spawn; the others are reopened if it ever starts.
            let mut created = [None, None];
            for channel in [Channel::Stdout, Channel::Stderr] {
                let auto = match channel {
                    Channel::Stdout => cfg.stdout.logfile == LogFile::Auto,
                    Channel::Stderr => cfg.stderr.logfile == LogFile::Auto,
                };
                if !auto {
                    continue;
                }
                let s = &self.config.settings;
                let name = channel.name();
                let logfile =
                    match daemon::create_auto_log(&s.childlogdir, &cfg.name, name, &s.identifier) {
                        Ok((path, file)) => {
                            if cfg.autostart {
                                created[channel as usize] = Some(file);
                            }
                            LogFile::Path(path)
                        }
                        Err(e) => {
                            emit(
                                level::ERRO,
                                &format!(
                                    "could not create an AUTO {name} log for {}: {e}",
                                    cfg.name
                                ),
                            );
                            LogFile::None
                        }
                    };
                // The resolved names make this process's copy its own.
                let owned = Rc::make_mut(&mut cfg);
                match channel {
                    Channel::Stdout => owned.stdout.logfile = logfile,
                    Channel::Stderr => owned.stderr.logfile = logfile,
                }
            }
            let strip = self.config.settings.strip_ansi;
            let (mut stdout, e1) = Output::new(&cfg.stdout, &cfg.name, strip);
            let (mut stderr, e2) = Output::new(&cfg.stderr, &cfg.name, strip);
            let [out_file, err_file] = created;
            if let Some(file) = out_file {
                stdout.log.adopt_new(file);
            }
            if let Some(file) = err_file {
                stderr.log.adopt_new(file);
            }
            for e in [e1, e2].into_iter().flatten() {
                emit(level::ERRO, &e);
            }
            procs.push(self.slots.len());
            self.slots.push(Slot {
                cfg,
                group: gi,
                proc: Process::new(),
                pipes: None,
                stdout,
                stderr,
                live: true,
                listener: matches!(config.kind, GroupKind::EventListener { .. })
                    .then(ListenerSlot::default),
                stdin_pending: Vec::new(),
                echo: Vec::new(),
                stdin_token: None,
            });
        }
        let pool = match &config.kind {
            GroupKind::EventListener {
                buffer_size,
                events,
                ..
            } => Some(Pool::new(
                &config.name,
                events,
                usize::try_from(*buffer_size).unwrap_or(1),
            )),
            GroupKind::Program | GroupKind::FastCgi { .. } => None,
        };
        let fcgi = match &config.kind {
            GroupKind::FastCgi { socket } => Some((socket.clone(), None)),
            GroupKind::Program | GroupKind::EventListener { .. } => None,
        };
        let name = config.name.clone();
        self.groups.push(Group {
            config,
            procs,
            pool,
            fcgi,
        });
        self.notify(Event::group_added(&name));
    }

    pub(super) fn token(&mut self) -> Token {
        let t = Token(self.next_token);
        self.next_token += 1;
        t
    }

    /// Feeds one input to a process and performs what it asks for,
    /// including the inputs those actions produce.
    /// The fd of a group's fcgi socket, created on first use.
    fn fcgi_socket(&mut self, g: usize) -> Result<Option<i32>, String> {
        let Some((socket, fd)) = &mut self.groups[g].fcgi else {
            return Ok(None);
        };
        if fd.is_none() {
            emit(
                level::INFO,
                &format!("Creating socket {}", socket.endpoint.url()),
            );
            *fd = Some(crate::runtime::fcgi::open(socket)?);
        }
        Ok(fd.as_ref().map(|f| f.as_raw_fd()))
    }

    /// Closes a group's fcgi socket once none of its processes runs or is
    /// about to run again (it stays open across restarts).
    fn release_fcgi_socket(&mut self, g: usize) {
        let all_stopped = self.groups[g]
            .procs
            .iter()
            .all(|&p| self.slots[p].proc.state().is_stopped());
        let Some((socket, fd)) = &mut self.groups[g].fcgi else {
            return;
        };
        if all_stopped && fd.is_some() {
            emit(
                level::INFO,
                &format!("Closing socket {}", socket.endpoint.url()),
            );
            *fd = None;
            crate::runtime::fcgi::remove_file(socket);
        }
    }

    pub(super) fn feed(&mut self, proc: usize, input: Input) {
        let mut queue = VecDeque::from([input]);
        while let Some(input) = queue.pop_front() {
            let t = now();
            let slot = &mut self.slots[proc];
            let before = slot.proc.state();
            let actions = slot.proc.step(input, t, &slot.cfg, self.mood);
            let changed = slot.proc.state() != before;
            self.changed |= changed;
            // A listener that became RUNNING may take queued events.
            self.dispatch_needed |= changed && slot.listener.is_some();
            if let Some(deadline) = slot.proc.deadline(&slot.cfg, self.mood) {
                self.timers.push(Reverse((deadline, proc)));
            }
            for action in actions {
                if let Some(next) = self.perform(proc, action) {
                    queue.push_back(next);
                }
            }
        }
        let g = self.slots[proc].group;
        if self.slots[proc].live && g < self.groups.len() {
            self.release_fcgi_socket(g);
        }
    }

    fn perform(&mut self, proc: usize, action: Action) -> Option<Input> {
        match action {
            Action::Log { level, message } => {
                emit(level, &message);
                None
            }
            Action::Changed {
                from,
                to,
                expected,
                pid,
                tries,
            } => {
                self.notify_state(proc, from, to, expected, pid, tries);
                None
            }
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
        let slot = &mut self.slots[proc];
        for out in [&mut slot.stdout, &mut slot.stderr] {
            if let Some(e) = out.log.ensure_open() {
                emit(level::ERRO, &e);
            }
        }
        let g = self.slots[proc].group;
        let group_name = self.groups[g].config.name.clone();
        let stdin_fd = match self.fcgi_socket(g) {
            Ok(fd) => fd,
            Err(error) => return Input::SpawnFailed { error },
        };
        let ctx = SpawnContext {
            group: &group_name,
            serverurl: self.config.serverurl.as_deref(),
            stdin_fd,
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
                self.slots[proc].stdin_pending.clear();
                self.slots[proc].stdin_token = None;
                self.pids.insert(child.pid, proc);
                self.listener_spawned(proc);
                Input::Spawned { pid: child.pid }
            }
        }
    }

    fn output(&mut self, proc: usize, channel: Channel) -> &mut Output {
        let slot = &mut self.slots[proc];
        match channel {
            Channel::Stdout => &mut slot.stdout,
            Channel::Stderr => &mut slot.stderr,
        }
    }

    /// Reads up to `budget` bytes from a pipe into its log. Returns true
    /// when the pipe may still have data (budget used up).
    fn read_pipe(&mut self, proc: usize, channel: Channel, budget: usize) -> bool {
        // Everything read in this pass is handled as one piece of output
        // (one write to the log, at most one PROCESS_LOG event), as the
        // reference handles one read per pass: many tiny reads of a
        // flooding child must not become many events.
        let mut data = std::mem::take(&mut self.scratch);
        let (used, more, eof) = self.fill(proc, channel, budget, &mut data);
        if used > 0 {
            self.record_output(proc, channel, &data[..used]);
        }
        // Keep the buffer for the next read, unless a drain made it large.
        if data.len() <= 256 * 1024 {
            self.scratch = data;
        }
        if eof {
            self.end_of_output(proc, channel);
            self.close_pipe(proc, channel);
        }
        more
    }

    /// Reads from a pipe into `data` until it is empty, closed, or `budget`
    /// bytes were read. `data` only grows (zeroed once, never again per
    /// read). Returns (bytes read, may have more, reached end of file).
    fn fill(
        &mut self,
        proc: usize,
        channel: Channel,
        budget: usize,
        data: &mut Vec<u8>,
    ) -> (usize, bool, bool) {
        const CHUNK: usize = 64 * 1024;
        if self.output(proc, channel).paused {
            return (0, false, false);
        }
        let Some(pipes) = &self.slots[proc].pipes else {
            return (0, false, false);
        };
        let fd = match channel {
            Channel::Stdout => pipes.stdout.as_ref(),
            Channel::Stderr => pipes.stderr.as_ref(),
        };
        let Some((fd, _)) = fd else {
            return (0, false, false);
        };
        let fd = fd.as_raw_fd();
        let mut used = 0;
        loop {
            if data.len() < used + CHUNK {
                data.resize(used + CHUNK, 0);
            }
            match sys::read_fd(fd, &mut data[used..used + CHUNK]) {
                Ok(0) => return (used, false, true),
                // A short read from a pipe means it is empty now; a new
                // write will wake us (edge-triggered) without another read.
                Ok(n) if n < CHUNK => return (used + n, false, false),
                Ok(n) if used + n >= budget => return (used + n, true, false),
                Ok(n) => used += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    return (used, false, false)
                }
                Err(_) => return (used, false, true),
            }
        }
    }

    /// What a child wrote: stripped, split by capture mode, logged, echoed
    /// to the main log at debug level, and queued as events.
    fn record_output(&mut self, proc: usize, channel: Channel, data: &[u8]) {
        let debug = self.config.settings.loglevel <= level::DEBG;
        if channel == Channel::Stdout && self.slots[proc].listener.is_some() {
            // A listener's stdout is its protocol: logged, then read. The
            // debug echo goes a line at a time, so a result body and the
            // READY after it read as one line (`OKREADY`), as the
            // reference's log shows them.
            let slot = &mut self.slots[proc];
            if debug {
                slot.echo.extend_from_slice(data);
                if let Some(end) = slot.echo.iter().rposition(|&b| b == b'\n') {
                    let lines: Vec<u8> = slot.echo.drain(..=end).collect();
                    emit(level::DEBG, &output_line(&slot.cfg.name, channel, &lines));
                }
            }
            let data = match &mut slot.stdout.strip {
                Some(s) => Cow::Owned(s.strip(data)),
                None => Cow::Borrowed(data),
            };
            if let Some(err) = slot.stdout.log.write(&data) {
                emit(level::ERRO, &err);
            }
            self.watch_stream(proc, channel);
            self.listener_output(proc, &data);
            return;
        }
        let out = self.output(proc, channel);
        let data = match &mut out.strip {
            Some(s) => Cow::Owned(s.strip(data)),
            None => Cow::Borrowed(data),
        };
        match &mut out.capture {
            Some(c) => {
                let pieces = c.feed(&data);
                self.record_pieces(proc, channel, pieces);
            }
            // The common case: no copy of what was read.
            None => {
                self.record_log(proc, channel, &data, false);
                self.watch_stream(proc, channel);
            }
        }
    }

    fn end_of_output(&mut self, proc: usize, channel: Channel) {
        let pieces = match &mut self.output(proc, channel).capture {
            Some(c) => c.finish(),
            None => Vec::new(),
        };
        self.record_pieces(proc, channel, pieces);
    }

    fn record_pieces(&mut self, proc: usize, channel: Channel, pieces: Vec<Piece>) {
        for piece in pieces {
            match piece {
                Piece::Log(data) => self.record_log(proc, channel, &data, false),
                Piece::Captured(data) => self.record_log(proc, channel, &data, true),
                Piece::Communication(data) => {
                    let slot = &self.slots[proc];
                    emit(
                        level::DEBG,
                        &format!(
                            "{} {} emitted a comm event",
                            values::python_repr(&slot.cfg.name),
                            channel.name()
                        ),
                    );
                    let event =
                        Event::process_communication(self.who(proc), channel, slot.proc.pid, &data);
                    self.notify(event);
                }
            }
        }
        self.watch_stream(proc, channel);
    }

    /// One piece of ordinary output: to the log (unless it was captured),
    /// echoed at debug level, and a PROCESS_LOG event if enabled.
    fn record_log(&mut self, proc: usize, channel: Channel, data: &[u8], captured: bool) {
        let debug = self.config.settings.loglevel <= level::DEBG;
        let slot = &mut self.slots[proc];
        let out = match channel {
            Channel::Stdout => &mut slot.stdout,
            Channel::Stderr => &mut slot.stderr,
        };
        // Captured output goes to the capture, not the log.
        if !captured {
            if let Some(err) = out.log.write(data) {
                emit(level::ERRO, &err);
            }
        }
        if debug {
            emit(level::DEBG, &output_line(&slot.cfg.name, channel, data));
        }
        if out.events_enabled {
            let pid = slot.proc.pid;
            let event = Event::process_log(self.who(proc), channel, pid, data);
            self.notify(event);
        }
    }

    /// After writing: wait for the log stream to drain if it has pending
    /// bytes, and pause the child while it is full.
    fn watch_stream(&mut self, proc: usize, channel: Channel) {
        let registry = self.poll.registry();
        let out = match channel {
            Channel::Stdout => &mut self.slots[proc].stdout,
            Channel::Stderr => &mut self.slots[proc].stderr,
        };
        out.paused = out.log.blocked();
        match (out.log.has_pending(), out.stream_token, out.log.stream_fd()) {
            (true, None, Some(fd)) => {
                let token = Token(self.next_token);
                self.next_token += 1;
                if registry
                    .register(&mut SourceFd(&fd), token, Interest::WRITABLE)
                    .is_ok()
                {
                    out.stream_token = Some(token);
                    self.owners.insert(token, Owner::Stream { proc, channel });
                }
            }
            (false, Some(token), Some(fd)) => {
                let _ = registry.deregister(&mut SourceFd(&fd));
                out.stream_token = None;
                self.owners.remove(&token);
            }
            _ => {}
        }
    }

    /// A log stream became writable: flush it, resume its child.
    fn stream_ready(&mut self, proc: usize, channel: Channel) {
        let was_paused = self.output(proc, channel).paused;
        if let Err(e) = self.output(proc, channel).log.flush() {
            emit(
                level::ERRO,
                &format!(
                    "cannot write the output of {}: {e}",
                    self.slots[proc].cfg.name
                ),
            );
        }
        self.watch_stream(proc, channel);
        if was_paused && !self.output(proc, channel).paused {
            let token = self.slots[proc].pipes.as_ref().and_then(|p| match channel {
                Channel::Stdout => p.stdout.as_ref().map(|(_, t)| *t),
                Channel::Stderr => p.stderr.as_ref().map(|(_, t)| *t),
            });
            if let Some(token) = token {
                self.backlog.push_back(token);
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
            // Drain even past a full stream: the child is gone, nothing
            // else can wait for it.
            self.output(proc, channel).paused = false;
            self.read_pipe(proc, channel, DRAIN_LIMIT);
            self.end_of_output(proc, channel);
            self.close_pipe(proc, channel);
            self.watch_stream(proc, channel);
        }
        if let Some(token) = self.slots[proc].stdin_token.take() {
            self.owners.remove(&token);
        }
        self.slots[proc].stdin_pending.clear();
        self.slots[proc].pipes = None;
        self.feed(proc, Input::Exited { status });
        self.reject_inflight(proc);
    }

    pub(super) fn reap(&mut self) {
        while self.reap_one() {}
    }

    /// Reaps at most `budget` children; true if there may be more.
    fn reap_some(&mut self, budget: usize) -> bool {
        (0..budget).all(|_| self.reap_one())
    }

    /// Reaps one child if one has exited; false if none had.
    fn reap_one(&mut self) -> bool {
        let Some((pid, status)) = sys::reap_any() else {
            return false;
        };
        match self.pids.remove(&pid) {
            Some(proc) => self.child_exited(proc, status),
            None => {
                let (_, msg) = crate::model::process::decode_wait_status(status);
                emit(level::INFO, &format!("reaped unknown pid {pid} ({msg})"));
            }
        }
        true
    }

    /// Reaps a batch of children; the rest, if any, on the next pass.
    fn reap_batch(&mut self) {
        if self.reap_some(REAP_BUDGET) && !self.backlog.contains(&REAP_TOKEN) {
            self.backlog.push_back(REAP_TOKEN);
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
                    self.reap_batch();
                }
                libc::SIGUSR2 => {
                    emit(
                        level::INFO,
                        &format!("received {name} indicating log reopen request"),
                    );
                    if let Err(e) = crate::runtime::mainlog::reopen() {
                        emit(level::ERRO, &format!("cannot reopen the main log: {e}"));
                    }
                    for slot in &mut self.slots {
                        for out in [&mut slot.stdout, &mut slot.stderr] {
                            if let Some(e) = out.log.reopen() {
                                emit(level::ERRO, &e);
                            }
                        }
                    }
                }
                _ => emit(level::BLAT, &format!("received {name} indicating nothing")),
            }
        }
    }

    pub(super) fn set_mood(&mut self, mood: SupervisorState) {
        self.mood = mood;
    }

    /// Processes in groups of stopping order that are not yet stopped.
    pub(super) fn unstopped(&self, group: usize) -> Vec<usize> {
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
            self.supervisor_event(crate::model::events::Kind::SupervisorStopping);
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
        [
            timer,
            report,
            self.next_conn_deadline(),
            self.tick_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
        .map(|at| at.saturating_duration_since(t))
    }

    /// The loop; returns the mood it ended in (SHUTDOWN or RESTARTING).
    pub(super) fn run_forever(&mut self) -> SupervisorState {
        emit(level::DEBG, "supervisor loop started");
        self.supervisor_event(crate::model::events::Kind::SupervisorRunning);
        self.tick();
        for proc in 0..self.slots.len() {
            self.feed(proc, Input::Tick);
        }
        let mut events = Events::with_capacity(256);
        let mut trimmed = false;
        loop {
            if self.mood < SupervisorState::Running && self.shutdown_step() {
                return self.mood;
            }
            let timeout = self.timeout();
            if !trimmed && timeout.is_none_or(|t| t >= Duration::from_secs(1)) {
                // Start-up is over (nothing to do for a while): let go of
                // the code and the heap it used and no longer needs.
                trimmed = true;
                sys::trim_code_pages();
                sys::trim_heap();
            }
            if let Err(e) = self.poll.poll(&mut events, timeout) {
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
                if token == REAP_TOKEN {
                    self.reap_batch();
                    continue;
                }
                if token.0 >= FIRST_LISTENER_TOKEN
                    && token.0 < FIRST_LISTENER_TOKEN + self.listeners.len()
                {
                    self.accept(token.0 - FIRST_LISTENER_TOKEN);
                    continue;
                }
                match self.owners.get(&token).copied() {
                    Some(Owner::Pipe { proc, channel })
                        if self.read_pipe(proc, channel, READ_BUDGET) =>
                    {
                        self.backlog.push_back(token);
                    }
                    Some(Owner::Pipe { .. }) => {}
                    Some(Owner::Stream { proc, channel }) => self.stream_ready(proc, channel),
                    Some(Owner::Stdin { proc }) => self.stdin_ready(proc),
                    Some(Owner::Conn) => self.conn_ready(token),
                    None => {}
                }
            }
            self.fire_timers();
            self.tick();
            self.dispatch();
            self.expire_conns();
            if std::mem::take(&mut self.changed) {
                self.poll_waiting();
            }
            self.pump_streams();
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

/// Group names (added, changed, removed) by a re-read configuration.
pub(super) type GroupDiff = (Vec<String>, Vec<String>, Vec<String>);

impl Daemon {
    /// Re-reads the configuration file; returns the names of groups added,
    /// changed and removed compared with what runs (the reference's
    /// `diff_to_active`), and keeps the new group configs for
    /// addProcessGroup.
    pub(super) fn diff_config(&mut self) -> Result<GroupDiff, crate::rpc::xmlrpc::Fault> {
        use crate::rpc::xmlrpc::{faults, Fault};
        let new = crate::config::load_server(&self.config.configfile, &self.overrides)
            .map_err(|e| Fault::new(faults::CANT_REREAD, e))?;
        let running = |name: &str| {
            self.groups
                .iter()
                .find(|g| g.config.name == name)
                .map(|g| &g.config)
        };
        let added: Vec<String> = new
            .groups
            .iter()
            .filter(|g| running(&g.name).is_none())
            .map(|g| g.name.clone())
            .collect();
        let changed: Vec<String> = new
            .groups
            .iter()
            .filter(|g| running(&g.name).is_some_and(|cur| cur != *g))
            .map(|g| g.name.clone())
            .collect();
        let removed: Vec<String> = self
            .groups
            .iter()
            .filter(|g| !new.groups.iter().any(|n| n.name == g.config.name))
            .map(|g| g.config.name.clone())
            .collect();
        self.config.groups = new.groups;
        Ok((added, changed, removed))
    }

    /// Forgets a group whose processes are all stopped.
    pub(super) fn remove_group(&mut self, g: usize) {
        let group = self.groups.remove(g);
        self.notify(Event::group_removed(&group.config.name));
        for proc in group.procs {
            self.slots[proc].live = false;
        }
        for slot in &mut self.slots {
            if slot.live && slot.group > g {
                slot.group -= 1;
            }
        }
    }
}
