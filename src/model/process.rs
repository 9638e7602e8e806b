//! The process automaton: one supervised process's state machine, pure.
//!
//! It takes an [`Input`] and the time and returns [`Action`]s for the loop
//! to perform (spawn, signal, log, notify). It never touches the OS, so it is
//! tested with scripts of timed inputs (see the tests below).
//!
//! The transitions are the reference's (`process.py`): `startsecs` decides
//! STARTING→RUNNING; an exit sooner than that is a failed start (BACKOFF,
//! retried after 1 s, 2 s, 3 s ... until `startretries` is exceeded, then
//! FATAL); `autorestart` and `exitcodes` decide what an exit of a RUNNING
//! process leads to; a stop sends `stopsignal`, then SIGKILL every
//! `stopwaitsecs`. Unlike the reference, nothing waits for a periodic tick:
//! each waiting phase carries its deadline, and the loop sleeps until the
//! earliest one.

use std::time::{Duration, Instant};

use crate::config::values::signal_name;
use crate::config::{AutoRestart, ProcessConfig};
use crate::states::{level, ProcessState, SupervisorState};

/// The time as the automaton sees it: a monotonic instant for deadlines,
/// and the wall clock (Unix seconds) for what clients are shown.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Now {
    pub mono: Instant,
    pub wall: f64,
}

/// Where the process is; waiting phases carry their deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Stopped,
    /// Becomes RUNNING at `running_at` unless it exits first.
    Starting {
        running_at: Instant,
    },
    Running,
    /// Spawned again at `retry_at` (if retries are left).
    Backoff {
        retry_at: Instant,
    },
    /// Sent a stop signal; SIGKILL follows at `kill_at`.
    Stopping {
        kill_at: Instant,
    },
    Exited,
    Fatal,
    Unknown,
}

impl Phase {
    pub fn state(self) -> ProcessState {
        match self {
            Phase::Stopped => ProcessState::Stopped,
            Phase::Starting { .. } => ProcessState::Starting,
            Phase::Running => ProcessState::Running,
            Phase::Backoff { .. } => ProcessState::Backoff,
            Phase::Stopping { .. } => ProcessState::Stopping,
            Phase::Exited => ProcessState::Exited,
            Phase::Fatal => ProcessState::Fatal,
            Phase::Unknown => ProcessState::Unknown,
        }
    }
}

/// What happened to the process, or what was asked of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Time has passed: check deadlines, autostart and autorestart.
    Tick,
    /// A client asked for a start (the caller checked it is not running).
    Start,
    /// The spawn requested by [`Action::Spawn`] gave a child with this pid.
    Spawned { pid: i32 },
    /// The spawn failed; the text says why (the reference's `spawnerr`).
    SpawnFailed { error: String },
    /// The child was reaped with this raw wait status.
    Exited { status: i32 },
    /// A client or shutdown asked for a stop.
    Stop,
    /// Shutdown of a process in BACKOFF: give up at once.
    GiveUp,
    /// Sending a signal failed for a reason other than "no such process".
    KillFailed { error: String },
}

/// What the loop must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Fork and exec the process now, then feed back `Spawned` or
    /// `SpawnFailed`.
    Spawn,
    /// Send `signal` to `pid`, or to its process group when `group`.
    Kill { pid: i32, signal: i32, group: bool },
    /// A main-log line at one of the `states::level` numbers.
    Log { level: u8, message: String },
    /// The state changed (for events and waiting RPC requests), with the
    /// pid and the retry count at that moment (what the event reports).
    Changed {
        from: ProcessState,
        to: ProcessState,
        expected: bool,
        pid: i32,
        tries: u32,
    },
}

/// One supervised process: what is (phase, pid, counters), apart from its
/// configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Process {
    pub phase: Phase,
    /// 0 when no child is alive.
    pub pid: i32,
    /// When the last spawn was attempted (monotonic), None if never.
    pub laststart: Option<Instant>,
    /// Wall-clock time of the last spawn attempt; 0 if never.
    pub laststart_wall: f64,
    /// Wall-clock time of the last exit; 0 if never.
    pub laststop_wall: f64,
    /// Failed starts in a row (BACKOFF count).
    pub backoff: u32,
    /// Exit status of the last exit, None when it exited too quickly.
    pub exitstatus: Option<i32>,
    /// Why the last start failed.
    pub spawnerr: Option<String>,
}

impl Default for Process {
    fn default() -> Self {
        Process::new()
    }
}

fn seconds(n: i64) -> Duration {
    Duration::from_secs(u64::try_from(n).unwrap_or(0))
}

/// The reference's `decode_wait_status`: (exit status, description).
pub fn decode_wait_status(status: i32) -> (i32, String) {
    if libc::WIFEXITED(status) {
        let es = libc::WEXITSTATUS(status);
        (es, format!("exit status {es}"))
    } else if libc::WIFSIGNALED(status) {
        let sig = libc::WTERMSIG(status);
        let core = if libc::WCOREDUMP(status) {
            " (core dumped)"
        } else {
            ""
        };
        (-1, format!("terminated by {}{core}", signal_name(sig)))
    } else {
        (-1, format!("unknown termination cause 0x{status:04x}"))
    }
}

/// Collects the actions of one step.
struct Out<'a> {
    name: &'a str,
    actions: Vec<Action>,
}

impl Out<'_> {
    fn log(&mut self, level: u8, message: String) {
        self.actions.push(Action::Log { level, message });
    }
}

impl Process {
    pub fn new() -> Process {
        Process {
            phase: Phase::Stopped,
            pid: 0,
            laststart: None,
            laststart_wall: 0.0,
            laststop_wall: 0.0,
            backoff: 0,
            exitstatus: None,
            spawnerr: None,
        }
    }

    pub fn state(&self) -> ProcessState {
        self.phase.state()
    }

    /// When this process next needs a `Tick`, if ever (given the mood).
    pub fn deadline(&self, cfg: &ProcessConfig, mood: SupervisorState) -> Option<Instant> {
        match self.phase {
            Phase::Starting { running_at } => Some(running_at),
            Phase::Stopping { kill_at } => Some(kill_at),
            Phase::Backoff { retry_at } => {
                let retries_left = i64::from(self.backoff) <= cfg.startretries;
                (retries_left && mood.may_spawn()).then_some(retry_at)
            }
            Phase::Stopped | Phase::Running | Phase::Exited | Phase::Fatal | Phase::Unknown => None,
        }
    }

    /// Feeds one input; returns what the loop must do, in order.
    pub fn step(
        &mut self,
        input: Input,
        now: Now,
        cfg: &ProcessConfig,
        mood: SupervisorState,
    ) -> Vec<Action> {
        let mut out = Out {
            name: &cfg.name,
            actions: Vec::new(),
        };
        self.apply(input, now, cfg, &mut out);
        // Whatever happened, settle: a process that must be spawned, given
        // up or promoted now is, in the same step (the reference waits for
        // its next 1-second pass).
        self.tick(now, cfg, mood, &mut out);
        out.actions
    }

    fn change(&mut self, to: Phase, expected: bool, now: Now, out: &mut Out<'_>) {
        let from = self.phase.state();
        self.phase = to;
        if let Phase::Backoff { .. } = to {
            self.backoff += 1;
            self.phase = Phase::Backoff {
                retry_at: now.mono + seconds(i64::from(self.backoff)),
            };
        }
        if from != to.state() {
            out.actions.push(Action::Changed {
                from,
                to: to.state(),
                expected,
                pid: self.pid,
                tries: self.backoff,
            });
        }
    }

    /// Starts a spawn attempt: STARTING now, the loop forks next.
    fn spawn(&mut self, now: Now, cfg: &ProcessConfig, out: &mut Out<'_>) {
        self.exitstatus = None;
        self.spawnerr = None;
        self.laststart = Some(now.mono);
        self.laststart_wall = now.wall;
        let running_at = now.mono + seconds(cfg.startsecs);
        self.change(Phase::Starting { running_at }, true, now, out);
        out.actions.push(Action::Spawn);
    }

    /// Sends `signal` as part of a stop, entering STOPPING.
    fn kill(&mut self, signal: i32, now: Now, cfg: &ProcessConfig, out: &mut Out<'_>) {
        let group = if self.phase.state() == ProcessState::Stopping {
            cfg.killasgroup
        } else {
            cfg.stopasgroup
        };
        out.log(
            level::DEBG,
            format!(
                "killing {} (pid {}) {}with signal {}",
                out.name,
                self.pid,
                if group { "process group " } else { "" },
                signal_name(signal)
            ),
        );
        let kill_at = now.mono + seconds(cfg.stopwaitsecs);
        self.change(Phase::Stopping { kill_at }, true, now, out);
        out.actions.push(Action::Kill {
            pid: self.pid,
            signal,
            group,
        });
    }

    fn apply(&mut self, input: Input, now: Now, cfg: &ProcessConfig, out: &mut Out<'_>) {
        use Phase::*;
        match (self.phase, input) {
            (_, Input::Tick) => {}

            (Stopped | Exited | Fatal | Unknown, Input::Start) => self.spawn(now, cfg, out),
            (Backoff { .. }, Input::Start) => self.spawn(now, cfg, out),
            (Starting { .. } | Running | Stopping { .. }, Input::Start) => {
                out.log(
                    level::WARN,
                    format!("process '{}' already running", out.name),
                );
            }

            (Starting { .. }, Input::Spawned { pid }) => {
                self.pid = pid;
                out.log(
                    level::INFO,
                    format!("spawned: '{}' with pid {pid}", out.name),
                );
            }
            (Starting { .. }, Input::SpawnFailed { error }) => {
                out.log(level::INFO, format!("spawnerr: {error}"));
                self.spawnerr = Some(error);
                self.change(Backoff { retry_at: now.mono }, true, now, out);
            }
            (phase, Input::Spawned { .. } | Input::SpawnFailed { .. }) => {
                out.log(
                    level::CRIT,
                    format!(
                        "can't happen: spawn result for {} in state {}",
                        out.name,
                        phase.state().name()
                    ),
                );
            }

            (Stopping { .. }, Input::Exited { status }) => {
                let (es, msg) = decode_wait_status(status);
                self.laststop_wall = now.wall;
                self.exitstatus = Some(es);
                let message = format!("stopped: {} ({msg})", out.name);
                out.log(
                    if cfg.exitcodes.contains(&es) {
                        level::INFO
                    } else {
                        level::WARN
                    },
                    message,
                );
                self.change(Stopped, true, now, out);
                self.pid = 0;
            }
            (Starting { .. } | Running | Unknown, Input::Exited { status }) => {
                let (es, msg) = decode_wait_status(status);
                let too_quickly = self.laststart.is_some_and(|start| {
                    now.mono.saturating_duration_since(start) < seconds(cfg.startsecs)
                });
                self.laststop_wall = now.wall;
                if too_quickly && matches!(self.phase, Starting { .. }) {
                    self.exitstatus = None;
                    self.spawnerr =
                        Some("Exited too quickly (process log may have details)".to_string());
                    out.log(
                        level::WARN,
                        format!("exited: {} ({msg}; not expected)", out.name),
                    );
                    self.change(Backoff { retry_at: now.mono }, true, now, out);
                } else {
                    self.backoff = 0;
                    self.exitstatus = Some(es);
                    if matches!(self.phase, Starting { .. }) {
                        // Up at least `startsecs` but not yet promoted.
                        self.change(Running, true, now, out);
                    }
                    let expected = cfg.exitcodes.contains(&es);
                    if expected {
                        out.log(
                            level::INFO,
                            format!("exited: {} ({msg}; expected)", out.name),
                        );
                    } else {
                        self.spawnerr = Some(format!("Bad exit code {es}"));
                        out.log(
                            level::WARN,
                            format!("exited: {} ({msg}; not expected)", out.name),
                        );
                    }
                    self.change(Exited, expected, now, out);
                }
                self.pid = 0;
            }
            (phase @ (Stopped | Backoff { .. } | Exited | Fatal), Input::Exited { .. }) => {
                out.log(
                    level::CRIT,
                    format!(
                        "can't happen: exit of {} in state {}",
                        out.name,
                        phase.state().name()
                    ),
                );
                self.pid = 0;
            }

            (Running | Starting { .. }, Input::Stop) => {
                self.kill(cfg.stopsignal, now, cfg, out);
            }
            (Stopping { .. }, Input::Stop) => {
                // Already stopping: the SIGKILL deadline stands.
                out.log(level::DEBG, format!("{} is already stopping", out.name));
            }
            (Backoff { .. }, Input::Stop) => {
                out.log(
                    level::DEBG,
                    format!("Attempted to kill {}, which is in BACKOFF state.", out.name),
                );
                self.change(Stopped, true, now, out);
            }
            (Stopped | Exited | Fatal | Unknown, Input::Stop) => {
                out.log(
                    level::DEBG,
                    format!(
                        "attempted to kill {} with sig {} but it wasn't running",
                        out.name,
                        signal_name(cfg.stopsignal)
                    ),
                );
            }

            (Backoff { .. }, Input::GiveUp) => {
                self.backoff = 0;
                self.change(Fatal, true, now, out);
            }
            (_, Input::GiveUp) => {}

            (Stopping { .. } | Running | Starting { .. }, Input::KillFailed { error }) => {
                out.log(
                    level::CRIT,
                    format!(
                        "unknown problem killing {} ({}):{error}",
                        out.name, self.pid
                    ),
                );
                self.change(Unknown, true, now, out);
            }
            (_, Input::KillFailed { .. }) => {}
        }
    }

    /// Deadlines, autostart and autorestart (the reference's `transition`).
    fn tick(&mut self, now: Now, cfg: &ProcessConfig, mood: SupervisorState, out: &mut Out<'_>) {
        match self.phase {
            Phase::Stopped if mood.may_spawn() && self.laststart.is_none() && cfg.autostart => {
                self.spawn(now, cfg, out);
            }
            Phase::Exited if mood.may_spawn() => {
                let restart = match cfg.autorestart {
                    AutoRestart::Always => true,
                    AutoRestart::Unexpected => self
                        .exitstatus
                        .is_none_or(|es| !cfg.exitcodes.contains(&es)),
                    AutoRestart::Never => false,
                };
                if restart {
                    self.spawn(now, cfg, out);
                }
            }
            Phase::Backoff { retry_at } => {
                if i64::from(self.backoff) > cfg.startretries {
                    self.backoff = 0;
                    self.change(Phase::Fatal, true, now, out);
                    out.log(
                        level::INFO,
                        format!(
                            "gave up: {} entered FATAL state, too many start retries too quickly",
                            out.name
                        ),
                    );
                } else if mood.may_spawn() && now.mono >= retry_at {
                    self.spawn(now, cfg, out);
                }
            }
            Phase::Starting { running_at } if now.mono >= running_at && self.pid != 0 => {
                self.backoff = 0;
                self.change(Phase::Running, true, now, out);
                out.log(
                    level::INFO,
                    format!(
                        "success: {} entered RUNNING state, process has stayed up for > than {} seconds \
                         (startsecs)",
                        out.name, cfg.startsecs
                    ),
                );
            }
            Phase::Stopping { kill_at } if now.mono >= kill_at => {
                out.log(
                    level::WARN,
                    format!("killing '{}' ({}) with SIGKILL", out.name, self.pid),
                );
                self.kill(libc::SIGKILL, now, cfg, out);
            }
            Phase::Stopped
            | Phase::Exited
            | Phase::Starting { .. }
            | Phase::Running
            | Phase::Stopping { .. }
            | Phase::Fatal
            | Phase::Unknown => {}
        }
    }
}

#[cfg(test)]
mod tests {
    //! Scripts of timed inputs and the states, actions and log lines they
    //! must produce, checked by one `run` function.
    use super::*;
    use crate::states::ProcessState::*;

    /// One scripted step: at `ms` after the start, feed `input`; the process
    /// must then be in `state`, and the actions' summary must equal `expect`
    /// (`spawn`, `kill SIG[ group]`, `LEVEL message` for logs; state changes
    /// are left out: the state column covers them).
    struct Step(u64, Input, ProcessState, &'static [&'static str]);

    fn summary(actions: &[Action]) -> Vec<String> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Spawn => Some("spawn".to_string()),
                Action::Kill { signal, group, .. } => Some(format!(
                    "kill {}{}",
                    signal_name(*signal),
                    if *group { " group" } else { "" }
                )),
                Action::Log { level, message } if *level >= level::INFO => {
                    let l = match *level {
                        level::CRIT => "CRIT",
                        level::ERRO => "ERRO",
                        level::WARN => "WARN",
                        _ => "INFO",
                    };
                    Some(format!("{l} {message}"))
                }
                Action::Log { .. } | Action::Changed { .. } => None,
            })
            .collect()
    }

    fn run(cfg: &ProcessConfig, mood: SupervisorState, script: &[Step]) -> Process {
        let base = Instant::now();
        let mut p = Process::new();
        for (i, Step(ms, input, state, expect)) in script.iter().enumerate() {
            let now = Now {
                mono: base + Duration::from_millis(*ms),
                wall: 1_700_000_000.0 + *ms as f64 / 1000.0,
            };
            let actions = p.step(input.clone(), now, cfg, mood);
            assert_eq!(
                (p.state(), summary(&actions)),
                (
                    *state,
                    expect.iter().map(|s| s.to_string()).collect::<Vec<_>>()
                ),
                "step {i} ({input:?} at {ms} ms)"
            );
        }
        p
    }

    fn exit(code: i32) -> Input {
        Input::Exited { status: code << 8 }
    }

    fn killed(sig: i32) -> Input {
        Input::Exited { status: sig }
    }

    fn spawned(pid: i32) -> Input {
        Input::Spawned { pid }
    }

    const UP: SupervisorState = SupervisorState::Running;

    #[test]
    fn autostart_then_running_after_startsecs() {
        let cfg = ProcessConfig::defaults("web", "/bin/web");
        let p = run(
            &cfg,
            UP,
            &[
                Step(0, Input::Tick, Starting, &["spawn"]),
                Step(0, spawned(42), Starting, &["INFO spawned: 'web' with pid 42"]),
                Step(999, Input::Tick, Starting, &[]),
                Step(
                    1000,
                    Input::Tick,
                    Running,
                    &["INFO success: web entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)"],
                ),
            ],
        );
        assert_eq!((p.pid, p.backoff), (42, 0));
    }

    #[test]
    fn no_autostart_and_no_spawn_while_shutting_down() {
        let mut cfg = ProcessConfig::defaults("web", "/bin/web");
        cfg.autostart = false;
        run(&cfg, UP, &[Step(0, Input::Tick, Stopped, &[])]);
        let cfg = ProcessConfig::defaults("web", "/bin/web");
        run(
            &cfg,
            SupervisorState::Shutdown,
            &[Step(0, Input::Tick, Stopped, &[])],
        );
        run(
            &cfg,
            SupervisorState::Restarting,
            &[Step(0, Input::Tick, Stopped, &[])],
        );
    }

    #[test]
    fn quick_exits_back_off_one_more_second_each_time_then_fatal() {
        let cfg = ProcessConfig::defaults("web", "/bin/web");
        const QUICK: &str = "WARN exited: web (exit status 1; not expected)";
        let p = run(
            &cfg,
            UP,
            &[
                Step(0, Input::Tick, Starting, &["spawn"]),
                Step(0, spawned(1), Starting, &["INFO spawned: 'web' with pid 1"]),
                Step(100, exit(1), Backoff, &[QUICK]),
                Step(1099, Input::Tick, Backoff, &[]),
                Step(1100, Input::Tick, Starting, &["spawn"]),
                Step(
                    1100,
                    spawned(2),
                    Starting,
                    &["INFO spawned: 'web' with pid 2"],
                ),
                Step(1200, exit(1), Backoff, &[QUICK]),
                Step(3199, Input::Tick, Backoff, &[]),
                Step(3200, Input::Tick, Starting, &["spawn"]),
                Step(
                    3200,
                    spawned(3),
                    Starting,
                    &["INFO spawned: 'web' with pid 3"],
                ),
                Step(3300, exit(1), Backoff, &[QUICK]),
                Step(6300, Input::Tick, Starting, &["spawn"]),
                Step(
                    6300,
                    spawned(4),
                    Starting,
                    &["INFO spawned: 'web' with pid 4"],
                ),
                Step(
                    6400,
                    exit(1),
                    Fatal,
                    &[
                        QUICK,
                        "INFO gave up: web entered FATAL state, too many start retries too quickly",
                    ],
                ),
            ],
        );
        assert_eq!(
            p.spawnerr.as_deref(),
            Some("Exited too quickly (process log may have details)")
        );
        assert_eq!(p.exitstatus, None);
    }

    #[test]
    fn spawn_errors_back_off_too() {
        let mut cfg = ProcessConfig::defaults("web", "/no/such");
        cfg.startretries = 0;
        let p = run(
            &cfg,
            UP,
            &[
                Step(0, Input::Tick, Starting, &["spawn"]),
                Step(
                    0,
                    Input::SpawnFailed {
                        error: "can't find command '/no/such'".into(),
                    },
                    Fatal,
                    &[
                        "INFO spawnerr: can't find command '/no/such'",
                        "INFO gave up: web entered FATAL state, too many start retries too quickly",
                    ],
                ),
            ],
        );
        assert_eq!(p.spawnerr.as_deref(), Some("can't find command '/no/such'"));
    }

    #[test]
    fn autorestart_follows_exitcodes() {
        let mut cfg = ProcessConfig::defaults("job", "/bin/job");
        cfg.startsecs = 0;
        cfg.exitcodes = vec![0, 2];
        let start = [
            Step(0, Input::Tick, Starting, &["spawn"][..]),
            Step(0, spawned(7), Running, &[
                "INFO spawned: 'job' with pid 7",
                "INFO success: job entered RUNNING state, process has stayed up for > than 0 seconds (startsecs)",
            ][..]),
        ];
        // unexpected (the default): restart only on an unexpected code.
        let mut script: Vec<Step> = start
            .iter()
            .map(|s| Step(s.0, s.1.clone(), s.2, s.3))
            .collect();
        script.push(Step(
            5000,
            exit(2),
            Exited,
            &["INFO exited: job (exit status 2; expected)"],
        ));
        let p = run(&cfg, UP, &script);
        assert_eq!(p.exitstatus, Some(2));
        let mut script: Vec<Step> = start
            .iter()
            .map(|s| Step(s.0, s.1.clone(), s.2, s.3))
            .collect();
        script.push(Step(
            5000,
            exit(3),
            Starting,
            &["WARN exited: job (exit status 3; not expected)", "spawn"],
        ));
        run(&cfg, UP, &script);
        // true: always; false: never.
        cfg.autorestart = AutoRestart::Always;
        let mut script: Vec<Step> = start
            .iter()
            .map(|s| Step(s.0, s.1.clone(), s.2, s.3))
            .collect();
        script.push(Step(
            5000,
            exit(0),
            Starting,
            &["INFO exited: job (exit status 0; expected)", "spawn"],
        ));
        run(&cfg, UP, &script);
        cfg.autorestart = AutoRestart::Never;
        let mut script: Vec<Step> = start
            .iter()
            .map(|s| Step(s.0, s.1.clone(), s.2, s.3))
            .collect();
        script.push(Step(
            5000,
            killed(libc::SIGSEGV),
            Exited,
            &["WARN exited: job (terminated by SIGSEGV; not expected)"],
        ));
        let p = run(&cfg, UP, &script);
        assert_eq!(p.spawnerr.as_deref(), Some("Bad exit code -1"));
    }

    #[test]
    fn an_exit_after_startsecs_before_promotion_counts_as_running() {
        let cfg = ProcessConfig::defaults("web", "/bin/web");
        run(
            &cfg,
            UP,
            &[
                Step(0, Input::Tick, Starting, &["spawn"]),
                Step(0, spawned(9), Starting, &["INFO spawned: 'web' with pid 9"]),
                Step(
                    1500,
                    exit(0),
                    Exited,
                    &["INFO exited: web (exit status 0; expected)"],
                ),
            ],
        );
    }

    #[test]
    fn stop_sends_stopsignal_then_sigkill_after_stopwaitsecs() {
        let mut cfg = ProcessConfig::defaults("web", "/bin/web");
        cfg.stopwaitsecs = 2;
        cfg.stopsignal = libc::SIGINT;
        cfg.killasgroup = true;
        run(
            &cfg,
            UP,
            &[
                Step(0, Input::Tick, Starting, &["spawn"]),
                Step(0, spawned(5), Starting, &["INFO spawned: 'web' with pid 5"]),
                Step(10, Input::Stop, Stopping, &["kill SIGINT"]),
                Step(1999, Input::Tick, Stopping, &[]),
                Step(
                    2010,
                    Input::Tick,
                    Stopping,
                    &["WARN killing 'web' (5) with SIGKILL", "kill SIGKILL group"],
                ),
                Step(
                    4010,
                    Input::Tick,
                    Stopping,
                    &["WARN killing 'web' (5) with SIGKILL", "kill SIGKILL group"],
                ),
                Step(
                    4020,
                    killed(libc::SIGKILL),
                    Stopped,
                    &["WARN stopped: web (terminated by SIGKILL)"],
                ),
                Step(9000, Input::Tick, Stopped, &[]),
            ],
        );
    }

    #[test]
    fn stop_of_a_clean_exit_is_logged_at_info_and_stopasgroup_signals_the_group() {
        let mut cfg = ProcessConfig::defaults("web", "/bin/web");
        cfg.stopasgroup = true;
        cfg.killasgroup = true;
        cfg.startsecs = 0;
        let p = run(
            &cfg,
            UP,
            &[
                Step(0, Input::Tick, Starting, &["spawn"]),
                Step(0, spawned(5), Running, &[
                    "INFO spawned: 'web' with pid 5",
                    "INFO success: web entered RUNNING state, process has stayed up for > than 0 seconds (startsecs)",
                ]),
                Step(10, Input::Stop, Stopping, &["kill SIGTERM group"]),
                Step(20, exit(0), Stopped, &["INFO stopped: web (exit status 0)"]),
            ],
        );
        assert_eq!((p.pid, p.exitstatus), (0, Some(0)));
    }

    #[test]
    fn stop_in_backoff_stops_at_once_and_start_from_fatal_retries() {
        let mut cfg = ProcessConfig::defaults("web", "/bin/web");
        cfg.startretries = 0;
        run(
            &cfg,
            UP,
            &[
                Step(0, Input::Tick, Starting, &["spawn"]),
                Step(0, spawned(1), Starting, &["INFO spawned: 'web' with pid 1"]),
                Step(1, exit(1), Fatal, &[
                    "WARN exited: web (exit status 1; not expected)",
                    "INFO gave up: web entered FATAL state, too many start retries too quickly",
                ]),
                Step(100, Input::Start, Starting, &["spawn"]),
                Step(100, spawned(2), Starting, &["INFO spawned: 'web' with pid 2"]),
                Step(1200, Input::Tick, Running, &[
                    "INFO success: web entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)",
                ]),
            ],
        );
        cfg.startretries = 3;
        run(
            &cfg,
            UP,
            &[
                Step(0, Input::Tick, Starting, &["spawn"]),
                Step(0, spawned(1), Starting, &["INFO spawned: 'web' with pid 1"]),
                Step(
                    1,
                    exit(1),
                    Backoff,
                    &["WARN exited: web (exit status 1; not expected)"],
                ),
                Step(2, Input::Stop, Stopped, &[]),
                Step(5000, Input::Tick, Stopped, &[]),
            ],
        );
    }

    #[test]
    fn shutdown_gives_up_on_backoff_and_never_respawns() {
        let cfg = ProcessConfig::defaults("web", "/bin/web");
        let base = Instant::now();
        let now = |ms| Now {
            mono: base + Duration::from_millis(ms),
            wall: 0.0,
        };
        let mut p = Process::new();
        p.step(Input::Tick, now(0), &cfg, UP);
        p.step(spawned(3), now(0), &cfg, UP);
        p.step(exit(1), now(10), &cfg, UP);
        assert_eq!(p.state(), Backoff);
        let down = SupervisorState::Shutdown;
        assert_eq!(
            p.deadline(&cfg, down),
            None,
            "no retry deadline while shutting down"
        );
        p.step(Input::Tick, now(5000), &cfg, down);
        assert_eq!(p.state(), Backoff);
        p.step(Input::GiveUp, now(5001), &cfg, down);
        assert_eq!((p.state(), p.backoff), (Fatal, 0));
    }

    #[test]
    fn kill_failure_means_unknown() {
        let cfg = ProcessConfig::defaults("web", "/bin/web");
        let p = run(
            &cfg,
            UP,
            &[
                Step(0, Input::Tick, Starting, &["spawn"]),
                Step(0, spawned(8), Starting, &["INFO spawned: 'web' with pid 8"]),
                Step(5, Input::Stop, Stopping, &["kill SIGTERM"]),
                Step(
                    5,
                    Input::KillFailed {
                        error: "EPERM".into(),
                    },
                    Unknown,
                    &["CRIT unknown problem killing web (8):EPERM"],
                ),
                Step(
                    50,
                    exit(0),
                    Exited,
                    &["INFO exited: web (exit status 0; expected)"],
                ),
            ],
        );
        assert_eq!(p.pid, 0);
    }

    #[test]
    fn impossible_pairs_are_logged_not_fatal() {
        let cfg = ProcessConfig::defaults("web", "/bin/web");
        let mut p = Process::new();
        let now = Now {
            mono: Instant::now(),
            wall: 0.0,
        };
        let actions = p.step(spawned(3), now, &cfg, SupervisorState::Shutdown);
        assert!(summary(&actions)[0].starts_with("CRIT can't happen"));
        let actions = p.step(exit(0), now, &cfg, SupervisorState::Shutdown);
        assert!(summary(&actions)[0].starts_with("CRIT can't happen"));
        assert_eq!(p.state(), Stopped);
    }

    #[test]
    fn wait_statuses_decode_like_the_reference() {
        assert_eq!(decode_wait_status(3 << 8), (3, "exit status 3".to_string()));
        assert_eq!(
            decode_wait_status(15),
            (-1, "terminated by SIGTERM".to_string())
        );
        assert_eq!(
            decode_wait_status(11 | 0x80),
            (-1, "terminated by SIGSEGV (core dumped)".to_string())
        );
    }
}
