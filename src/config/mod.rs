//! Configuration: INI text (stage one, [`ini`]) turned into typed, validated
//! values (stage two, [`load`]), with the reference's keys, defaults and
//! `%(name)s` expansions. Nothing here starts or opens anything.

pub mod dump;
pub mod expand;
pub mod ini;
pub mod load;
pub mod values;

use std::fmt;
use std::path::PathBuf;
use std::rc::Rc;

pub use load::{find_config_file, load_ctl, load_server};
pub use values::{AutoRestart, LogFile};

/// A configuration error, pointing at the file, line, section and option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: Option<PathBuf>,
    pub line: Option<usize>,
    pub section: Option<String>,
    pub option: Option<String>,
    pub message: String,
}

impl ConfigError {
    pub fn new(message: impl Into<String>) -> Self {
        ConfigError {
            file: None,
            line: None,
            section: None,
            option: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut wrote = false;
        if let Some(file) = &self.file {
            write!(f, "{}", file.display())?;
            if let Some(line) = self.line {
                write!(f, ", line {line}")?;
            }
            wrote = true;
        }
        if let Some(section) = &self.section {
            write!(f, "{}[{section}]", if wrote { ": " } else { "" })?;
            if let Some(option) = &self.option {
                write!(f, " {option}")?;
            }
            wrote = true;
        }
        write!(f, "{}{}", if wrote { ": " } else { "" }, self.message)
    }
}

impl std::error::Error for ConfigError {}

/// `[supervisord]`, after command-line overrides.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerSettings {
    /// Absolute path, or `syslog`.
    pub logfile: String,
    pub logfile_maxbytes: i64,
    pub logfile_backups: i64,
    pub loglevel: u8,
    pub pidfile: String,
    pub umask: u32,
    pub nodaemon: bool,
    pub silent: bool,
    pub minfds: i64,
    pub minprocs: i64,
    pub nocleanup: bool,
    pub strip_ansi: bool,
    pub childlogdir: String,
    pub identifier: String,
    pub directory: Option<String>,
    pub user: Option<String>,
    pub uid: Option<u32>,
    pub environment: Vec<(String, String)>,
}

impl ServerSettings {
    /// The reference's defaults (paths relative to the working directory).
    pub fn defaults() -> Self {
        ServerSettings {
            logfile: values::normalize_path("supervisord.log"),
            logfile_maxbytes: 50 * 1024 * 1024,
            logfile_backups: 10,
            loglevel: 20,
            pidfile: values::normalize_path("supervisord.pid"),
            umask: 0o022,
            nodaemon: false,
            silent: false,
            minfds: 1024,
            minprocs: 200,
            nocleanup: false,
            strip_ansi: false,
            childlogdir: "/tmp".to_string(),
            identifier: "supervisor".to_string(),
            directory: None,
            user: None,
            uid: None,
            environment: Vec::new(),
        }
    }
}

/// One `[inet_http_server]` or `[unix_http_server]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpServerConfig {
    /// The part after `:` in the section name, if any.
    pub name: Option<String>,
    pub section: String,
    pub listen: Listen,
    pub username: Option<String>,
    pub password: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    /// Empty host means every address.
    Inet { host: String, port: u16 },
    Unix {
        file: String,
        chmod: u32,
        /// (uid, gid); -1 leaves that id unchanged.
        chown: (i64, i64),
    },
}

/// `[rpcinterface:name]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcInterfaceConfig {
    pub name: String,
    pub factory: String,
}

/// The one factory we implement natively.
pub const MAIN_RPC_FACTORY: &str = "supervisor.rpcinterface:make_main_rpcinterface";
/// The default (and only natively understood besides one) result handler.
pub const DEFAULT_RESULT_HANDLER: &str = "supervisor.dispatchers:default_handler";
/// `supervisor_stdout`'s handler, emulated natively.
pub const STDOUT_RESULT_HANDLER: &str = "supervisor_stdout:event_handler";

/// Everything the daemon reads from its configuration file.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    pub configfile: PathBuf,
    /// Directory of the main config file (`%(here)s`).
    pub here: String,
    pub settings: ServerSettings,
    pub servers: Vec<HttpServerConfig>,
    /// URL handed to children as SUPERVISOR_SERVER_URL.
    pub serverurl: Option<String>,
    pub rpcinterfaces: Vec<RpcInterfaceConfig>,
    /// Sorted by (priority, name).
    pub groups: Vec<GroupConfig>,
    /// Warnings to log at start-up (the reference's `parse_warnings`).
    pub warnings: Vec<String>,
    /// Informational lines to log at start-up (`parse_infos`).
    pub infos: Vec<String>,
}

/// What kind of group a section made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupKind {
    Program,
    EventListener {
        buffer_size: i64,
        /// Upper-case event type names, sorted.
        events: Vec<String>,
        result_handler: String,
    },
    FastCgi {
        socket: FcgiSocket,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FcgiSocket {
    pub endpoint: SocketEndpoint,
    pub backlog: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketEndpoint {
    Tcp {
        host: String,
        port: u16,
    },
    Unix {
        path: String,
        owner: Option<(u32, i64)>,
        mode: u32,
    },
}

impl SocketEndpoint {
    /// `tcp://host:port` or `unix:///path`, as the reference prints it.
    pub fn url(&self) -> String {
        match self {
            SocketEndpoint::Tcp { host, port } => format!("tcp://{host}:{port}"),
            SocketEndpoint::Unix { path, .. } => format!("unix://{path}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct GroupConfig {
    pub name: String,
    pub priority: i64,
    pub kind: GroupKind,
    /// Sorted by (priority, name). Shared (`Rc`) with the daemon's groups
    /// and processes, so a copy of the configuration costs no more than
    /// its list.
    pub processes: Vec<Rc<ProcessConfig>>,
}

/// One output channel's log settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelConfig {
    pub logfile: LogFile,
    pub maxbytes: i64,
    pub backups: i64,
    pub capture_maxbytes: i64,
    pub events_enabled: bool,
    pub syslog: bool,
}

/// One process, after `numprocs` expansion.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessConfig {
    pub name: String,
    pub group: String,
    /// The section it came from, e.g. `program:web`.
    pub section: String,
    pub command: String,
    pub directory: Option<String>,
    pub umask: Option<u32>,
    pub priority: i64,
    pub autostart: bool,
    pub autorestart: AutoRestart,
    pub startsecs: i64,
    pub startretries: i64,
    pub user: Option<String>,
    pub uid: Option<u32>,
    pub stdout: ChannelConfig,
    pub stderr: ChannelConfig,
    pub stopsignal: i32,
    pub stopwaitsecs: i64,
    pub stopasgroup: bool,
    pub killasgroup: bool,
    pub exitcodes: Vec<i32>,
    pub redirect_stderr: bool,
    /// Merged: `[supervisord] environment=`, then the program's own.
    pub environment: Vec<(String, String)>,
    /// None means the daemon's own URL (`serverurl=AUTO` or unset).
    pub serverurl: Option<String>,
}

impl ChannelConfig {
    /// The reference's defaults for a `*_logfile` channel.
    pub fn defaults() -> Self {
        ChannelConfig {
            logfile: LogFile::Auto,
            maxbytes: 50 * 1024 * 1024,
            backups: 10,
            capture_maxbytes: 0,
            events_enabled: false,
            syslog: false,
        }
    }
}

impl ProcessConfig {
    /// A process of a `[program:NAME]` with only `command` set: every
    /// other setting at the reference's default.
    pub fn defaults(name: &str, command: &str) -> Self {
        ProcessConfig {
            name: name.to_string(),
            group: name.to_string(),
            section: format!("program:{name}"),
            command: command.to_string(),
            directory: None,
            umask: None,
            priority: 999,
            autostart: true,
            autorestart: AutoRestart::Unexpected,
            startsecs: 1,
            startretries: 3,
            user: None,
            uid: None,
            stdout: ChannelConfig::defaults(),
            stderr: ChannelConfig::defaults(),
            stopsignal: libc::SIGTERM,
            stopwaitsecs: 10,
            stopasgroup: false,
            killasgroup: false,
            exitcodes: vec![0],
            redirect_stderr: false,
            environment: Vec::new(),
            serverurl: None,
        }
    }
}

/// `[supervisorctl]` and the ctl's own options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CtlConfig {
    pub serverurl: String,
    pub prompt: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub history_file: Option<String>,
}

impl Default for CtlConfig {
    fn default() -> Self {
        CtlConfig {
            serverurl: "http://localhost:9001".to_string(),
            prompt: "supervisor".to_string(),
            username: None,
            password: None,
            history_file: None,
        }
    }
}

/// Every event type name a listener may subscribe to.
pub const EVENT_TYPES: &[&str] = &[
    "EVENT",
    "PROCESS_COMMUNICATION",
    "PROCESS_COMMUNICATION_STDERR",
    "PROCESS_COMMUNICATION_STDOUT",
    "PROCESS_GROUP",
    "PROCESS_GROUP_ADDED",
    "PROCESS_GROUP_REMOVED",
    "PROCESS_LOG",
    "PROCESS_LOG_STDERR",
    "PROCESS_LOG_STDOUT",
    "PROCESS_STATE",
    "PROCESS_STATE_BACKOFF",
    "PROCESS_STATE_EXITED",
    "PROCESS_STATE_FATAL",
    "PROCESS_STATE_RUNNING",
    "PROCESS_STATE_STARTING",
    "PROCESS_STATE_STOPPED",
    "PROCESS_STATE_STOPPING",
    "PROCESS_STATE_UNKNOWN",
    "REMOTE_COMMUNICATION",
    "SUPERVISOR_STATE_CHANGE",
    "SUPERVISOR_STATE_CHANGE_RUNNING",
    "SUPERVISOR_STATE_CHANGE_STOPPING",
    "TICK",
    "TICK_3600",
    "TICK_5",
    "TICK_60",
];
