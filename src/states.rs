//! Process and supervisor states with the reference's numbers and names
//! (`states.py`), and the main log's level numbers. A leaf: depends on
//! nothing.

/// A process's state, as RPC clients and event listeners see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProcessState {
    Stopped,
    Starting,
    Running,
    Backoff,
    Stopping,
    Exited,
    Fatal,
    Unknown,
}

impl ProcessState {
    pub const ALL: [ProcessState; 8] = [
        ProcessState::Stopped,
        ProcessState::Starting,
        ProcessState::Running,
        ProcessState::Backoff,
        ProcessState::Stopping,
        ProcessState::Exited,
        ProcessState::Fatal,
        ProcessState::Unknown,
    ];

    pub fn code(self) -> i32 {
        match self {
            ProcessState::Stopped => 0,
            ProcessState::Starting => 10,
            ProcessState::Running => 20,
            ProcessState::Backoff => 30,
            ProcessState::Stopping => 40,
            ProcessState::Exited => 100,
            ProcessState::Fatal => 200,
            ProcessState::Unknown => 1000,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ProcessState::Stopped => "STOPPED",
            ProcessState::Starting => "STARTING",
            ProcessState::Running => "RUNNING",
            ProcessState::Backoff => "BACKOFF",
            ProcessState::Stopping => "STOPPING",
            ProcessState::Exited => "EXITED",
            ProcessState::Fatal => "FATAL",
            ProcessState::Unknown => "UNKNOWN",
        }
    }

    /// The reference's `STOPPED_STATES`: nothing is running.
    pub fn is_stopped(self) -> bool {
        matches!(
            self,
            ProcessState::Stopped
                | ProcessState::Exited
                | ProcessState::Fatal
                | ProcessState::Unknown
        )
    }

    /// The reference's `RUNNING_STATES`: started or trying to start.
    pub fn is_running(self) -> bool {
        matches!(
            self,
            ProcessState::Running | ProcessState::Backoff | ProcessState::Starting
        )
    }

    /// The reference's `SIGNALLABLE_STATES`: a live child exists.
    pub fn is_signallable(self) -> bool {
        matches!(
            self,
            ProcessState::Running | ProcessState::Starting | ProcessState::Stopping
        )
    }
}

/// The daemon's own state ("mood").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SupervisorState {
    Shutdown,
    Restarting,
    Running,
    Fatal,
}

impl SupervisorState {
    pub fn code(self) -> i32 {
        match self {
            SupervisorState::Fatal => 2,
            SupervisorState::Running => 1,
            SupervisorState::Restarting => 0,
            SupervisorState::Shutdown => -1,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            SupervisorState::Fatal => "FATAL",
            SupervisorState::Running => "RUNNING",
            SupervisorState::Restarting => "RESTARTING",
            SupervisorState::Shutdown => "SHUTDOWN",
        }
    }

    /// Processes may be started only while running (the reference: mood
    /// greater than RESTARTING).
    pub fn may_spawn(self) -> bool {
        self > SupervisorState::Restarting
    }
}

/// The main log's level numbers, as the reference numbers them.
pub mod level {
    pub const CRIT: u8 = 50;
    pub const ERRO: u8 = 40;
    pub const WARN: u8 = 30;
    pub const INFO: u8 = 20;
    pub const DEBG: u8 = 10;
    pub const TRAC: u8 = 5;
    pub const BLAT: u8 = 3;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_names_match_the_reference() {
        let table: Vec<(i32, &str)> = ProcessState::ALL
            .iter()
            .map(|s| (s.code(), s.name()))
            .collect();
        assert_eq!(
            table,
            vec![
                (0, "STOPPED"),
                (10, "STARTING"),
                (20, "RUNNING"),
                (30, "BACKOFF"),
                (40, "STOPPING"),
                (100, "EXITED"),
                (200, "FATAL"),
                (1000, "UNKNOWN")
            ]
        );
        assert_eq!(SupervisorState::Restarting.code(), 0);
        assert!(SupervisorState::Running.may_spawn());
        assert!(!SupervisorState::Restarting.may_spawn());
        assert!(!SupervisorState::Shutdown.may_spawn());
    }
}
