//! Event listeners: the READY / RESULT protocol a listener speaks on its
//! stdout, and the pool queue its events wait in. Pure: bytes and events
//! in, decisions out.

use std::collections::VecDeque;
use std::rc::Rc;

use crate::model::events::{Event, Kind};
use crate::states::level;

/// A listener's protocol state (the reference's numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenerState {
    Ready,
    Busy,
    Acknowledged,
    Unknown,
}

impl ListenerState {
    pub fn name(self) -> &'static str {
        match self {
            ListenerState::Ready => "READY",
            ListenerState::Busy => "BUSY",
            ListenerState::Acknowledged => "ACKNOWLEDGED",
            ListenerState::Unknown => "UNKNOWN",
        }
    }
}

const READY_TOKEN: &[u8] = b"READY\n";
const RESULT_TOKEN: &[u8] = b"RESULT ";

/// What the listener's output means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Said {
    /// A main-log line (level, text).
    Log(u8, String),
    /// Its state changed (from, to): a debug line in the main log, which
    /// the caller formats only when it will be written.
    Changed(ListenerState, ListenerState),
    /// It finished the event it was sent, with this result body.
    Result(Vec<u8>),
    /// It broke the protocol while busy: the event is rejected.
    Rejected,
}

/// The protocol side of one listener process.
#[derive(Debug, Clone)]
pub struct Protocol {
    pub state: ListenerState,
    buf: Vec<u8>,
    result_len: Option<usize>,
    result: Vec<u8>,
}

impl Default for Protocol {
    fn default() -> Self {
        Protocol::new()
    }
}

impl Protocol {
    /// A freshly spawned listener: ACKNOWLEDGED until it says READY.
    pub fn new() -> Protocol {
        Protocol {
            state: ListenerState::Acknowledged,
            buf: Vec::new(),
            result_len: None,
            result: Vec::new(),
        }
    }

    pub fn change(&mut self, name: &str, to: ListenerState, out: &mut Vec<Said>) {
        out.push(Said::Changed(self.state, to));
        self.state = to;
        if to == ListenerState::Unknown {
            out.push(Said::Log(
                level::WARN,
                format!(
                    "{name}: has entered the UNKNOWN state and will no longer receive events, this \
                     usually indicates the process violated the eventlistener protocol"
                ),
            ));
        }
    }

    /// The daemon sent it an event.
    pub fn sent(&mut self) {
        self.state = ListenerState::Busy;
    }

    /// Feeds what the listener wrote on stdout.
    pub fn feed(&mut self, name: &str, data: &[u8]) -> Vec<Said> {
        let mut out = Vec::new();
        self.feed_into(name, data, &mut out);
        out
    }

    /// Feeds what the listener wrote on stdout; what it means is appended
    /// to `out` (the caller reuses it).
    pub fn feed_into(&mut self, name: &str, data: &[u8], out: &mut Vec<Said>) {
        self.buf.extend_from_slice(data);
        loop {
            if self.buf.is_empty() {
                break;
            }
            match self.state {
                ListenerState::Unknown => {
                    self.buf.clear();
                    break;
                }
                ListenerState::Acknowledged => {
                    if self.buf.len() < READY_TOKEN.len() {
                        break;
                    }
                    if self.buf.starts_with(READY_TOKEN) {
                        self.buf.drain(..READY_TOKEN.len());
                        self.change(name, ListenerState::Ready, out);
                    } else {
                        self.buf.clear();
                        self.change(name, ListenerState::Unknown, out);
                        break;
                    }
                }
                ListenerState::Ready => {
                    // Anything while waiting for an event is a violation.
                    self.buf.clear();
                    self.change(name, ListenerState::Unknown, out);
                    break;
                }
                ListenerState::Busy => {
                    if self.result_len.is_none() {
                        let Some(pos) = self.buf.iter().position(|&b| b == b'\n') else {
                            break;
                        };
                        let line = &self.buf[..pos];
                        let len = line
                            .strip_prefix(RESULT_TOKEN)
                            .and_then(|n| std::str::from_utf8(n).ok())
                            .and_then(|n| n.trim().parse::<usize>().ok());
                        match len {
                            Some(n) => {
                                self.result_len = Some(n);
                                self.buf.drain(..=pos);
                            }
                            None => {
                                let shown = match std::str::from_utf8(line) {
                                    Ok(t) => t.to_string(),
                                    Err(_) => format!("Undecodable: {line:?}"),
                                };
                                out.push(Said::Log(
                                    level::WARN,
                                    format!("{name}: bad result line: '{shown}'"),
                                ));
                                self.buf.clear();
                                self.change(name, ListenerState::Unknown, out);
                                out.push(Said::Rejected);
                                break;
                            }
                        }
                    }
                    let need = self.result_len.unwrap_or(0) - self.result.len();
                    let take = need.min(self.buf.len());
                    self.result.extend(self.buf.drain(..take));
                    if self.result.len() < self.result_len.unwrap_or(0) {
                        break;
                    }
                    self.result_len = None;
                    // The caller applies the result handler; the listener is
                    // no longer busy either way.
                    self.change(name, ListenerState::Acknowledged, out);
                    out.push(Said::Result(std::mem::take(&mut self.result)));
                }
            }
        }
    }
}

/// An event waiting in a pool, with its serials.
#[derive(Debug, Clone)]
pub struct Queued {
    pub event: Rc<Event>,
    pub serial: u64,
    pub pool_serial: u64,
}

/// A listener pool's queue (`buffer_size`), shared by its processes.
#[derive(Debug)]
pub struct Pool {
    pub name: String,
    pub subscriptions: Vec<String>,
    pub buffer_size: usize,
    pub queue: VecDeque<Queued>,
    next_serial: u64,
}

impl Pool {
    pub fn new(name: &str, subscriptions: &[String], buffer_size: usize) -> Pool {
        Pool {
            name: name.to_string(),
            subscriptions: subscriptions.to_vec(),
            buffer_size: buffer_size.max(1),
            queue: VecDeque::new(),
            next_serial: 0,
        }
    }

    pub fn wants(&self, event: &Event) -> bool {
        self.wants_kind(event.kind)
    }

    /// Whether it subscribes to events of this type.
    pub fn wants_kind(&self, kind: Kind) -> bool {
        self.subscriptions.iter().any(|s| kind.matches(s))
    }

    /// Queues a new event; when full, the oldest is dropped with the
    /// reference's error line (returned).
    pub fn accept(&mut self, event: Rc<Event>, serial: u64) -> Option<String> {
        let pool_serial = self.next_serial;
        self.next_serial += 1;
        self.push(
            Queued {
                event,
                serial,
                pool_serial,
            },
            false,
        )
    }

    /// Puts an event back at the head (rejected or its listener died).
    pub fn rebuffer(&mut self, queued: Queued) -> Option<String> {
        self.push(queued, true)
    }

    fn push(&mut self, queued: Queued, head: bool) -> Option<String> {
        let mut dropped = None;
        if self.queue.len() >= self.buffer_size {
            if let Some(old) = self.queue.pop_front() {
                dropped = Some(format!(
                    "pool {} event buffer overflowed, discarding event {}",
                    self.name, old.serial
                ));
            }
        }
        if head {
            self.queue.push_front(queued);
        } else {
            self.queue.push_back(queued);
        }
        dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_then_result_ok() {
        let mut p = Protocol::new();
        assert!(p
            .feed("l", b"REA")
            .iter()
            .all(|s| matches!(s, Said::Log(..))));
        assert_eq!(p.state, ListenerState::Acknowledged);
        p.feed("l", b"DY\n");
        assert_eq!(p.state, ListenerState::Ready);
        p.sent();
        let said = p.feed("l", b"RESULT 2\nO");
        assert!(!said.iter().any(|s| matches!(s, Said::Result(_))));
        let said = p.feed("l", b"KREADY\n");
        assert!(said.contains(&Said::Result(b"OK".to_vec())));
        assert_eq!(
            p.state,
            ListenerState::Ready,
            "READY right after the result"
        );
    }

    #[test]
    fn protocol_violations_mean_unknown() {
        let mut p = Protocol::new();
        p.feed("l", b"hello world\n");
        assert_eq!(p.state, ListenerState::Unknown);
        let mut p = Protocol::new();
        p.feed("l", b"READY\n");
        p.feed("l", b"chatter");
        assert_eq!(p.state, ListenerState::Unknown);
        let mut p = Protocol::new();
        p.feed("l", b"READY\n");
        p.sent();
        let said = p.feed("l", b"RESULT x\n");
        assert!(said.contains(&Said::Rejected));
        assert!(said.contains(&Said::Log(
            level::WARN,
            "l: bad result line: 'RESULT x'".into()
        )));
        assert_eq!(p.state, ListenerState::Unknown);
    }

    #[test]
    fn pools_overflow_dropping_the_oldest() {
        let mut pool = Pool::new("p", &["EVENT".to_string()], 2);
        let e = Rc::new(Event::remote("t", "d"));
        assert_eq!(pool.accept(e.clone(), 0), None);
        assert_eq!(pool.accept(e.clone(), 1), None);
        assert_eq!(
            pool.accept(e.clone(), 2).as_deref(),
            Some("pool p event buffer overflowed, discarding event 0")
        );
        let serials: Vec<u64> = pool.queue.iter().map(|q| q.pool_serial).collect();
        assert_eq!(serials, vec![1, 2]);
        let q = pool.queue.pop_back().expect("queued");
        pool.rebuffer(q);
        assert_eq!(pool.queue.front().map(|q| q.serial), Some(2));
    }
}
