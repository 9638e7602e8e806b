//! Events, as data: every event type of the reference with its name, its
//! place in the type hierarchy (for subscriptions to parent types such as
//! PROCESS_STATE or EVENT), and its payload text, rendered when the event
//! happens (as the reference renders state events eagerly).

use crate::model::output::Channel;
use crate::states::ProcessState;

/// A concrete event type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    ProcessState(ProcessState),
    ProcessLog(Channel),
    ProcessCommunication(Channel),
    RemoteCommunication,
    SupervisorRunning,
    SupervisorStopping,
    Tick(u32),
    ProcessGroupAdded,
    ProcessGroupRemoved,
}

impl Kind {
    /// The reference's event name (`eventname:` in the header).
    pub fn name(self) -> &'static str {
        match self {
            Kind::ProcessState(s) => match s {
                ProcessState::Stopped => "PROCESS_STATE_STOPPED",
                ProcessState::Starting => "PROCESS_STATE_STARTING",
                ProcessState::Running => "PROCESS_STATE_RUNNING",
                ProcessState::Backoff => "PROCESS_STATE_BACKOFF",
                ProcessState::Stopping => "PROCESS_STATE_STOPPING",
                ProcessState::Exited => "PROCESS_STATE_EXITED",
                ProcessState::Fatal => "PROCESS_STATE_FATAL",
                ProcessState::Unknown => "PROCESS_STATE_UNKNOWN",
            },
            Kind::ProcessLog(Channel::Stdout) => "PROCESS_LOG_STDOUT",
            Kind::ProcessLog(Channel::Stderr) => "PROCESS_LOG_STDERR",
            Kind::ProcessCommunication(Channel::Stdout) => "PROCESS_COMMUNICATION_STDOUT",
            Kind::ProcessCommunication(Channel::Stderr) => "PROCESS_COMMUNICATION_STDERR",
            Kind::RemoteCommunication => "REMOTE_COMMUNICATION",
            Kind::SupervisorRunning => "SUPERVISOR_STATE_CHANGE_RUNNING",
            Kind::SupervisorStopping => "SUPERVISOR_STATE_CHANGE_STOPPING",
            Kind::Tick(5) => "TICK_5",
            Kind::Tick(60) => "TICK_60",
            Kind::Tick(_) => "TICK_3600",
            Kind::ProcessGroupAdded => "PROCESS_GROUP_ADDED",
            Kind::ProcessGroupRemoved => "PROCESS_GROUP_REMOVED",
        }
    }

    /// The abstract parent type, if any (`EVENT` is everyone's root).
    fn parent(self) -> Option<&'static str> {
        match self {
            Kind::ProcessState(_) => Some("PROCESS_STATE"),
            Kind::ProcessLog(_) => Some("PROCESS_LOG"),
            Kind::ProcessCommunication(_) => Some("PROCESS_COMMUNICATION"),
            Kind::SupervisorRunning | Kind::SupervisorStopping => Some("SUPERVISOR_STATE_CHANGE"),
            Kind::Tick(_) => Some("TICK"),
            Kind::ProcessGroupAdded | Kind::ProcessGroupRemoved => Some("PROCESS_GROUP"),
            Kind::RemoteCommunication => None,
        }
    }

    /// Whether a subscription to `name` (a type or a parent type) covers it.
    pub fn matches(self, name: &str) -> bool {
        name == "EVENT" || name == self.name() || self.parent() == Some(name)
    }
}

/// One event, payload already rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub kind: Kind,
    pub payload: Vec<u8>,
}

/// Output bytes as the reference puts them in a payload: UTF-8 text, or
/// `Undecodable: b'...'`.
fn data_text(data: &[u8]) -> String {
    match std::str::from_utf8(data) {
        Ok(t) => t.to_string(),
        Err(_) => format!("Undecodable: {}", crate::config::values::bytes_repr(data)),
    }
}

/// Who a process event is about.
#[derive(Debug, Clone, Copy)]
pub struct Who<'a> {
    pub process: &'a str,
    pub group: &'a str,
}

impl Event {
    /// PROCESS_STATE_*: `processname:x groupname:g from_state:S` plus the
    /// state's extra fields (tries, expected, pid).
    pub fn process_state(
        who: Who<'_>,
        from: ProcessState,
        to: ProcessState,
        expected: bool,
        pid: i32,
        tries: u32,
    ) -> Event {
        let mut s = format!(
            "processname:{} groupname:{} from_state:{}",
            who.process,
            who.group,
            from.name()
        );
        match to {
            ProcessState::Starting | ProcessState::Backoff => {
                s.push_str(&format!(" tries:{tries}"))
            }
            ProcessState::Exited => {
                s.push_str(&format!(" expected:{} pid:{pid}", i32::from(expected)))
            }
            ProcessState::Running | ProcessState::Stopping | ProcessState::Stopped => {
                s.push_str(&format!(" pid:{pid}"))
            }
            ProcessState::Fatal | ProcessState::Unknown => {}
        }
        Event {
            kind: Kind::ProcessState(to),
            payload: s.into_bytes(),
        }
    }

    /// PROCESS_LOG_*: `processname:x groupname:g pid:N channel:c` then the data.
    pub fn process_log(who: Who<'_>, channel: Channel, pid: i32, data: &[u8]) -> Event {
        // Built by hand, not with format!: this is the hot path of a chatty
        // child, one event per read of its pipe.
        let mut payload = Vec::with_capacity(64 + who.process.len() + who.group.len() + data.len());
        payload.extend_from_slice(b"processname:");
        payload.extend_from_slice(who.process.as_bytes());
        payload.extend_from_slice(b" groupname:");
        payload.extend_from_slice(who.group.as_bytes());
        payload.extend_from_slice(b" pid:");
        push_decimal(&mut payload, i64::from(pid));
        payload.extend_from_slice(b" channel:");
        payload.extend_from_slice(channel.name().as_bytes());
        payload.push(b'\n');
        push_data_text(&mut payload, data);
        Event {
            kind: Kind::ProcessLog(channel),
            payload,
        }
    }

    /// PROCESS_COMMUNICATION_*: `processname:x groupname:g pid:N` then the data.
    pub fn process_communication(who: Who<'_>, channel: Channel, pid: i32, data: &[u8]) -> Event {
        let s = format!(
            "processname:{} groupname:{} pid:{pid}\n{}",
            who.process,
            who.group,
            data_text(data)
        );
        Event {
            kind: Kind::ProcessCommunication(channel),
            payload: s.into_bytes(),
        }
    }

    /// REMOTE_COMMUNICATION: `type:T` then the data.
    pub fn remote(kind: &str, data: &str) -> Event {
        Event {
            kind: Kind::RemoteCommunication,
            payload: format!("type:{kind}\n{data}").into_bytes(),
        }
    }

    pub fn supervisor_running() -> Event {
        Event {
            kind: Kind::SupervisorRunning,
            payload: Vec::new(),
        }
    }

    pub fn supervisor_stopping() -> Event {
        Event {
            kind: Kind::SupervisorStopping,
            payload: Vec::new(),
        }
    }

    /// TICK_N: `when:T` (the start of the period, Unix seconds).
    pub fn tick(period: u32, when: i64) -> Event {
        Event {
            kind: Kind::Tick(period),
            payload: format!("when:{when}").into_bytes(),
        }
    }

    pub fn group_added(group: &str) -> Event {
        Event {
            kind: Kind::ProcessGroupAdded,
            payload: format!("groupname:{group}\n").into_bytes(),
        }
    }

    pub fn group_removed(group: &str) -> Event {
        Event {
            kind: Kind::ProcessGroupRemoved,
            payload: format!("groupname:{group}\n").into_bytes(),
        }
    }

    /// The header and payload a listener reads.
    pub fn envelope(&self, server: &str, serial: u64, pool: &str, pool_serial: u64) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_envelope(&mut out, server, serial, pool, pool_serial);
        out
    }

    /// Appends the envelope to `out` (no allocation once `out` is large
    /// enough).
    pub fn write_envelope(
        &self,
        out: &mut Vec<u8>,
        server: &str,
        serial: u64,
        pool: &str,
        pool_serial: u64,
    ) {
        // The reference counts characters of the (text) payload.
        let chars = if self.payload.is_ascii() {
            self.payload.len()
        } else {
            String::from_utf8_lossy(&self.payload).chars().count()
        };
        out.reserve(120 + server.len() + pool.len() + self.payload.len());
        out.extend_from_slice(b"ver:3.0 server:");
        out.extend_from_slice(server.as_bytes());
        out.extend_from_slice(b" serial:");
        push_decimal(out, serial as i64);
        out.extend_from_slice(b" pool:");
        out.extend_from_slice(pool.as_bytes());
        out.extend_from_slice(b" poolserial:");
        push_decimal(out, pool_serial as i64);
        out.extend_from_slice(b" eventname:");
        out.extend_from_slice(self.kind.name().as_bytes());
        out.extend_from_slice(b" len:");
        push_decimal(out, chars as i64);
        out.push(b'\n');
        out.extend_from_slice(&self.payload);
    }
}

/// Appends `n` in decimal.
fn push_decimal(out: &mut Vec<u8>, n: i64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut m = n.unsigned_abs();
    loop {
        i -= 1;
        digits[i] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    if n < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[i..]);
}

/// Appends output bytes as [`data_text`] renders them, without a copy when
/// they are UTF-8.
fn push_data_text(out: &mut Vec<u8>, data: &[u8]) {
    if std::str::from_utf8(data).is_ok() {
        out.extend_from_slice(data);
    } else {
        out.extend_from_slice(data_text(data).as_bytes());
    }
}

/// The periods of the TICK events.
pub const TICK_PERIODS: [u32; 3] = [5, 60, 3600];

/// The reference's `timeslice`: the start of the period containing `now`.
pub fn timeslice(period: u32, now: i64) -> i64 {
    now - now.rem_euclid(i64::from(period))
}

#[cfg(test)]
mod tests {
    use super::*;

    const WHO: Who<'static> = Who {
        process: "web",
        group: "g",
    };

    #[test]
    fn state_payloads_like_the_reference() {
        let cases = [
            (
                ProcessState::Starting,
                "processname:web groupname:g from_state:STOPPED tries:0",
            ),
            (
                ProcessState::Backoff,
                "processname:web groupname:g from_state:STOPPED tries:0",
            ),
            (
                ProcessState::Running,
                "processname:web groupname:g from_state:STOPPED pid:42",
            ),
            (
                ProcessState::Exited,
                "processname:web groupname:g from_state:STOPPED expected:1 pid:42",
            ),
            (
                ProcessState::Fatal,
                "processname:web groupname:g from_state:STOPPED",
            ),
        ];
        for (to, payload) in cases {
            let e = Event::process_state(WHO, ProcessState::Stopped, to, true, 42, 0);
            assert_eq!(String::from_utf8_lossy(&e.payload), payload);
        }
    }

    #[test]
    fn envelopes_and_other_payloads() {
        let e = Event::process_log(WHO, Channel::Stdout, 7, b"hi\n");
        assert_eq!(
            String::from_utf8_lossy(&e.envelope("supervisor", 3, "listener", 1)),
            "ver:3.0 server:supervisor serial:3 pool:listener poolserial:1 eventname:PROCESS_LOG_STDOUT len:52\n\
             processname:web groupname:g pid:7 channel:stdout\nhi\n"
        );
        assert_eq!(Event::remote("t", "d").payload, b"type:t\nd");
        let accented = Event::remote("t", "é€");
        assert!(String::from_utf8_lossy(&accented.envelope("s", 0, "p", 0)).contains(" len:9\n"));
        assert_eq!(Event::tick(5, 100).payload, b"when:100");
        assert_eq!(Event::group_added("g").payload, b"groupname:g\n");
        let bad = Event::process_communication(WHO, Channel::Stderr, 1, b"\xff");
        assert_eq!(
            bad.payload,
            b"processname:web groupname:g pid:1\nUndecodable: b'\\xff'"
        );
    }

    #[test]
    fn hand_built_payloads_match_format() {
        for (pid, data) in [
            (0, &b""[..]),
            (-1, b"x"),
            (i32::MAX, b"\xff\n"),
            (1234567, "é\n".as_bytes()),
        ] {
            let e = Event::process_log(WHO, Channel::Stderr, pid, data);
            let want = format!(
                "processname:web groupname:g pid:{pid} channel:stderr\n{}",
                data_text(data)
            );
            assert_eq!(e.payload, want.as_bytes());
            for serial in [0, 9, 10, u64::from(u32::MAX)] {
                let text = String::from_utf8_lossy(&e.payload).to_string();
                let want = format!(
                    "ver:3.0 server:s serial:{serial} pool:p poolserial:{} eventname:PROCESS_LOG_STDERR len:{}\n{text}",
                    serial + 1,
                    text.chars().count()
                );
                assert_eq!(e.envelope("s", serial, "p", serial + 1), want.as_bytes());
            }
        }
    }

    #[test]
    fn subscriptions_match_parent_types() {
        let k = Kind::ProcessState(ProcessState::Exited);
        assert!(k.matches("PROCESS_STATE_EXITED"));
        assert!(k.matches("PROCESS_STATE"));
        assert!(k.matches("EVENT"));
        assert!(!k.matches("PROCESS_STATE_RUNNING"));
        assert!(Kind::Tick(60).matches("TICK"));
        assert!(!Kind::RemoteCommunication.matches("PROCESS_GROUP"));
        assert!(Kind::ProcessGroupRemoved.matches("PROCESS_GROUP"));
    }

    #[test]
    fn timeslices() {
        assert_eq!(timeslice(5, 1003), 1000);
        assert_eq!(timeslice(60, 1003), 960);
        assert_eq!(timeslice(3600, 7199), 3600);
    }
}
