//! Events the daemon emits, as data. Delivery to event listeners belongs
//! to the events layer; here they are only produced and queued.

use crate::model::output::Channel;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// PROCESS_LOG_STDOUT / PROCESS_LOG_STDERR (`*_events_enabled`).
    ProcessLog {
        channel: Channel,
        process: String,
        group: String,
        pid: i32,
        data: Vec<u8>,
    },
    /// PROCESS_COMMUNICATION_STDOUT / _STDERR (capture mode).
    ProcessCommunication {
        channel: Channel,
        process: String,
        group: String,
        pid: i32,
        data: Vec<u8>,
    },
}

impl Event {
    /// The reference's event type name.
    pub fn name(&self) -> &'static str {
        match self {
            Event::ProcessLog {
                channel: Channel::Stdout,
                ..
            } => "PROCESS_LOG_STDOUT",
            Event::ProcessLog {
                channel: Channel::Stderr,
                ..
            } => "PROCESS_LOG_STDERR",
            Event::ProcessCommunication {
                channel: Channel::Stdout,
                ..
            } => "PROCESS_COMMUNICATION_STDOUT",
            Event::ProcessCommunication {
                channel: Channel::Stderr,
                ..
            } => "PROCESS_COMMUNICATION_STDERR",
        }
    }
}
