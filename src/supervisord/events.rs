//! Events in the loop: producing them, queueing them in the pools that
//! subscribe, sending them to READY listeners, reading the listeners'
//! answers, and TICK events as wall-clock-aligned deadlines (only while a
//! pool subscribes to them: no listener, no wake-up).

use std::io::Write;
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Interest, Token};

use super::emit;
use super::event_loop::{now, Daemon, Owner};
use crate::config::STDOUT_RESULT_HANDLER;
use crate::model::events::{timeslice, Event, Kind, Who, TICK_PERIODS};
use crate::model::listener::{ListenerState, Protocol, Queued, Said};
use crate::states::{level, ProcessState};
use crate::sys;

/// A listener process's side of the protocol and the event it is on.
#[derive(Default)]
pub(super) struct ListenerSlot {
    pub(super) proto: Protocol,
    pub(super) inflight: Option<Queued>,
    /// Reused buffers: what its output meant, the envelope being sent.
    said: Vec<Said>,
    envelope: Vec<u8>,
}

/// The last TICK period start seen, per period.
pub(super) struct Ticks {
    last: [i64; 3],
}

impl Daemon {
    /// Delivers an event to every pool subscribed to its type.
    pub(super) fn notify(&mut self, event: Event) {
        let event = Rc::new(event);
        let mut serial = None;
        let mut next = self.next_serial;
        let mut overflows = Vec::new();
        for group in &mut self.groups {
            let Some(pool) = &mut group.pool else {
                continue;
            };
            if !pool.wants(&event) {
                continue;
            }
            let s = *serial.get_or_insert_with(|| {
                let s = next;
                next += 1;
                s
            });
            overflows.extend(pool.accept(event.clone(), s));
        }
        self.next_serial = next;
        for m in overflows {
            emit(level::ERRO, &m);
        }
        if serial.is_some() {
            self.dispatch_needed = true;
        }
    }

    pub(super) fn notify_state(
        &mut self,
        proc: usize,
        from: ProcessState,
        to: ProcessState,
        expected: bool,
        pid: i32,
        tries: u32,
    ) {
        if !self.has_pools() {
            return;
        }
        let event = Event::process_state(self.who(proc), from, to, expected, pid, tries);
        self.notify(event);
    }

    /// A process and its group, as events name them.
    pub(super) fn who(&self, proc: usize) -> Who<'_> {
        let slot = &self.slots[proc];
        let group = self
            .groups
            .get(slot.group)
            .map(|g| g.config.name.as_str())
            .unwrap_or("");
        Who {
            process: &slot.cfg.name,
            group,
        }
    }

    pub(super) fn has_pools(&self) -> bool {
        self.groups.iter().any(|g| g.pool.is_some())
    }

    /// Sends queued events to READY listeners, oldest first.
    pub(super) fn dispatch(&mut self) {
        if !std::mem::take(&mut self.dispatch_needed) {
            return;
        }
        let debug = self.config.settings.loglevel <= level::DEBG;
        for g in 0..self.groups.len() {
            loop {
                let group = &mut self.groups[g];
                let Some(pool) = &mut group.pool else { break };
                if pool.queue.is_empty() {
                    break;
                }
                let slots = &mut self.slots;
                let ready = group.procs.iter().copied().find(|&p| {
                    let slot = &slots[p];
                    slot.proc.state() == ProcessState::Running
                        && slot
                            .listener
                            .as_ref()
                            .is_some_and(|l| l.proto.state == ListenerState::Ready)
                });
                let Some(proc) = ready else { break };
                let Some(queued) = pool.queue.pop_front() else {
                    break;
                };
                let slot = &mut slots[proc];
                let Some(l) = slot.listener.as_mut() else {
                    break;
                };
                // The envelope goes out in one write, from a buffer the
                // listener keeps.
                let mut envelope = std::mem::take(&mut l.envelope);
                envelope.clear();
                queued.event.write_envelope(
                    &mut envelope,
                    &self.config.settings.identifier,
                    queued.serial,
                    &group.config.name,
                    queued.pool_serial,
                );
                let serial = queued.serial;
                let sent = self.write_stdin(proc, &envelope);
                let slot = &mut self.slots[proc];
                if let Some(l) = slot.listener.as_mut() {
                    l.envelope = envelope;
                }
                match sent {
                    Ok(()) => {
                        if let Some(l) = slot.listener.as_mut() {
                            l.proto.sent();
                            l.inflight = Some(queued);
                        }
                        if debug {
                            emit(
                                level::DEBG,
                                &format!("event {serial} sent to listener {}", slot.cfg.name),
                            );
                        }
                    }
                    Err(_) => {
                        emit(
                            level::DEBG,
                            &format!(
                                "epipe occurred while sending event {serial} to listener {}, listener state unchanged",
                                slot.cfg.name
                            ),
                        );
                        if let Some(pool) = self.groups[g].pool.as_mut() {
                            pool.rebuffer(queued);
                        }
                        break;
                    }
                }
            }
        }
    }

    /// Queues bytes for a child's stdin and writes what it takes now.
    pub(super) fn write_stdin(&mut self, proc: usize, data: &[u8]) -> std::io::Result<()> {
        let slot = &mut self.slots[proc];
        let Some(pipes) = &slot.pipes else {
            return Err(std::io::ErrorKind::BrokenPipe.into());
        };
        let fd = pipes.stdin.as_raw_fd();
        let mut data = data;
        if slot.stdin_pending.is_empty() {
            // Nothing waits before it: write straight from `data`, keep
            // only what the pipe did not take.
            while !data.is_empty() {
                match sys::write_fd(fd, data) {
                    Ok(n) => data = &data[n..],
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) => return Err(e),
                }
            }
            if data.is_empty() {
                if slot.stdin_token.is_some() {
                    self.watch_stdin(proc);
                }
                return Ok(());
            }
        }
        slot.stdin_pending.extend_from_slice(data);
        while !slot.stdin_pending.is_empty() {
            match sys::write_fd(fd, &slot.stdin_pending) {
                Ok(n) => {
                    slot.stdin_pending.drain(..n);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    slot.stdin_pending.clear();
                    return Err(e);
                }
            }
        }
        self.watch_stdin(proc);
        Ok(())
    }

    /// Waits for a child's stdin to drain while bytes are pending.
    fn watch_stdin(&mut self, proc: usize) {
        let token_value = self.next_token;
        let registry = self.poll.registry();
        let slot = &mut self.slots[proc];
        let Some(pipes) = &slot.pipes else { return };
        let fd = pipes.stdin.as_raw_fd();
        match (slot.stdin_pending.is_empty(), slot.stdin_token) {
            (false, None) => {
                let token = Token(token_value);
                if registry
                    .register(&mut SourceFd(&fd), token, Interest::WRITABLE)
                    .is_ok()
                {
                    slot.stdin_token = Some(token);
                    self.next_token += 1;
                    self.owners.insert(token, Owner::Stdin { proc });
                }
            }
            (true, Some(token)) => {
                let _ = registry.deregister(&mut SourceFd(&fd));
                slot.stdin_token = None;
                self.owners.remove(&token);
            }
            _ => {}
        }
    }

    pub(super) fn stdin_ready(&mut self, proc: usize) {
        let _ = self.write_stdin(proc, &[]);
    }

    /// What a listener wrote on stdout: protocol decisions.
    pub(super) fn listener_output(&mut self, proc: usize, data: &[u8]) {
        let slot = &mut self.slots[proc];
        let Some(l) = slot.listener.as_mut() else {
            return;
        };
        let mut said = std::mem::take(&mut l.said);
        l.proto.feed_into(&slot.cfg.name, data, &mut said);
        let debug = self.config.settings.loglevel <= level::DEBG;
        for s in said.drain(..) {
            match s {
                Said::Log(lvl, m) => emit(lvl, &m),
                Said::Changed(from, to) => {
                    if debug {
                        emit(
                            level::DEBG,
                            &format!(
                                "{}: {} -> {}",
                                self.slots[proc].cfg.name,
                                from.name(),
                                to.name()
                            ),
                        );
                    }
                }
                Said::Result(body) => self.handle_result(proc, &body),
                Said::Rejected => self.reject_inflight(proc),
            }
        }
        if let Some(l) = self.slots[proc].listener.as_mut() {
            l.said = said;
        }
        self.dispatch_needed = true;
    }

    fn handle_result(&mut self, proc: usize, body: &[u8]) {
        let group = self.slots[proc].group;
        let stdout_handler = match &self.groups[group].config.kind {
            crate::config::GroupKind::EventListener { result_handler, .. } => {
                result_handler == STDOUT_RESULT_HANDLER
            }
            _ => false,
        };
        let name = &self.slots[proc].cfg.name;
        if stdout_handler || body == b"OK" {
            if stdout_handler {
                print_supervisor_stdout(body);
            }
            if self.config.settings.loglevel <= level::DEBG {
                emit(level::DEBG, &format!("{name}: event was processed"));
            }
            if let Some(l) = self.slots[proc].listener.as_mut() {
                l.inflight = None;
            }
        } else {
            emit(level::WARN, &format!("{name}: event was rejected"));
            self.reject_inflight(proc);
        }
    }

    /// Puts a listener's in-flight event back at the head of its pool.
    pub(super) fn reject_inflight(&mut self, proc: usize) {
        let group = self.slots[proc].group;
        let Some(queued) = self.slots[proc]
            .listener
            .as_mut()
            .and_then(|l| l.inflight.take())
        else {
            return;
        };
        let pool_name = self.groups[group].config.name.clone();
        emit(
            level::DEBG,
            &format!(
                "rebuffering event {} for pool {pool_name} (buf size={}, max={})",
                queued.serial,
                self.groups[group]
                    .pool
                    .as_ref()
                    .map(|p| p.queue.len())
                    .unwrap_or(0),
                self.groups[group]
                    .pool
                    .as_ref()
                    .map(|p| p.buffer_size)
                    .unwrap_or(0)
            ),
        );
        if let Some(m) = self.groups[group]
            .pool
            .as_mut()
            .and_then(|p| p.rebuffer(queued))
        {
            emit(level::ERRO, &m);
        }
        self.dispatch_needed = true;
    }

    /// Whether any pool subscribes to a TICK event (asked every loop
    /// pass: no event is built for it).
    fn wants_ticks(&self) -> bool {
        self.groups.iter().filter_map(|g| g.pool.as_ref()).any(|p| {
            TICK_PERIODS
                .iter()
                .any(|&period| p.wants_kind(Kind::Tick(period)))
        })
    }

    /// Emits TICK events whose period rolled over (the reference's `tick`),
    /// and keeps the tick state only while someone listens.
    pub(super) fn tick(&mut self) {
        if !self.wants_ticks() {
            self.ticks = None;
            return;
        }
        let wall = now().wall as i64;
        let Some(ticks) = &mut self.ticks else {
            self.ticks = Some(Ticks {
                last: TICK_PERIODS.map(|p| timeslice(p, wall)),
            });
            return;
        };
        let mut due = Vec::new();
        for (i, &period) in TICK_PERIODS.iter().enumerate() {
            let this = timeslice(period, wall);
            if this != ticks.last[i] {
                ticks.last[i] = this;
                due.push(Event::tick(period, this));
            }
        }
        for e in due {
            self.notify(e);
        }
    }

    /// When the next TICK period starts, if anyone listens.
    pub(super) fn tick_deadline(&self) -> Option<Instant> {
        let ticks = self.ticks.as_ref()?;
        let t = now();
        let next = TICK_PERIODS
            .iter()
            .zip(ticks.last)
            .map(|(&p, last)| last + i64::from(p))
            .min()?;
        let wait = (next as f64 - t.wall).max(0.0);
        Some(t.mono + Duration::from_secs_f64(wait))
    }

    /// A listener (re)starts: fresh protocol state.
    pub(super) fn listener_spawned(&mut self, proc: usize) {
        if let Some(l) = self.slots[proc].listener.as_mut() {
            l.proto = Protocol::new();
        }
    }

    pub(super) fn remote_event(&mut self, kind: &str, data: &str) {
        self.notify(Event::remote(kind, data));
    }

    pub(super) fn supervisor_event(&mut self, kind: Kind) {
        let e = match kind {
            Kind::SupervisorStopping => Event::supervisor_stopping(),
            _ => Event::supervisor_running(),
        };
        self.notify(e);
    }
}

/// `supervisor_stdout:event_handler`, natively: the listener echoes a
/// PROCESS_LOG event as its result; print each line of its data on our
/// stdout prefixed with `NAME CHANNEL | `.
fn print_supervisor_stdout(body: &[u8]) {
    let text = String::from_utf8_lossy(body);
    let Some((header, data)) = text.split_once('\n') else {
        return;
    };
    let field = |key: &str| {
        header
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix(key).and_then(|v| v.strip_prefix(':')))
            .unwrap_or("")
            .to_string()
    };
    let prefix = format!("{} {} | ", field("processname"), field("channel"));
    let lines: Vec<String> = data.split('\n').map(|l| format!("{prefix}{l}")).collect();
    let _ = writeln!(std::io::stdout(), "{}", lines.join("\n"));
}
