//! What can go wrong talking to supervisord, and how the reference reports
//! what it does not handle: it catches the Python exception and prints
//! `error: <class 'NAME'>, MESSAGE: file: FILE line: LINE`. We print the same
//! class names and messages (scripts match on them), with our own source
//! location where the reference names a Python file.

use std::fmt;
use std::io;
use std::panic::Location;

use crate::rpc::xmlrpc::Fault;

use crate::config::values::python_repr as py_repr;

/// A failed XML-RPC call (or log stream request).
#[derive(Debug)]
pub enum CallError {
    /// The daemon answered with a fault.
    Fault(Fault),
    /// The daemon answered with an HTTP status other than 200.
    Http { status: u16, reason: String },
    /// A socket error: connecting, sending or receiving.
    Os(io::Error),
    /// The host name of an `http://` server URL did not resolve.
    Resolve(String),
    /// The daemon closed the connection before answering.
    Disconnected,
    /// The answer was not HTTP or not XML-RPC.
    BadReply(String),
    /// The server URL is neither `unix://` nor `http://` (or has a bad port).
    BadUrl(String),
}

impl CallError {
    pub fn errno(&self) -> Option<i32> {
        match self {
            CallError::Os(e) => e.raw_os_error(),
            _ => None,
        }
    }

    pub fn fault_code(&self) -> Option<i32> {
        match self {
            CallError::Fault(f) => Some(f.code),
            _ => None,
        }
    }

    /// The Python exception class the reference would see.
    fn class(&self) -> String {
        match self {
            CallError::Fault(_) => "xmlrpc.client.Fault".into(),
            CallError::Http { .. } => "xmlrpc.client.ProtocolError".into(),
            CallError::Os(e) => os_error_class(e.raw_os_error()).into(),
            CallError::Resolve(_) => "socket.gaierror".into(),
            CallError::Disconnected => "http.client.RemoteDisconnected".into(),
            CallError::BadReply(_) => "xml.parsers.expat.ExpatError".into(),
            CallError::BadUrl(_) => "ValueError".into(),
        }
    }
}

impl fmt::Display for CallError {
    /// The exception's `str()`, as the reference prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Fault(fault) => {
                write!(f, "<Fault {}: {}>", fault.code, py_repr(&fault.string))
            }
            CallError::Http { status, reason } => {
                write!(f, "<ProtocolError for 127.0.0.1/RPC2: {status} {reason}>")
            }
            CallError::Os(e) => write!(f, "{}", os_error_text(e)),
            CallError::Resolve(m) => write!(f, "[Errno {}] {m}", gai_code(m)),
            CallError::Disconnected => {
                write!(f, "Remote end closed connection without response")
            }
            CallError::BadReply(m) | CallError::BadUrl(m) => write!(f, "{m}"),
        }
    }
}

/// `[Errno N] strerror`, as Python's `OSError.__str__`.
pub fn os_error_text(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => {
            let text = e.to_string();
            let text = text.split(" (os error").next().unwrap_or(&text).to_string();
            format!("[Errno {code}] {text}")
        }
        None => e.to_string(),
    }
}

/// The `OSError` subclass Python raises for an errno.
pub fn os_error_class(errno: Option<i32>) -> &'static str {
    match errno {
        Some(libc::ECONNREFUSED) => "ConnectionRefusedError",
        Some(libc::ENOENT) => "FileNotFoundError",
        Some(libc::EACCES | libc::EPERM) => "PermissionError",
        Some(libc::ECONNRESET) => "ConnectionResetError",
        Some(libc::ECONNABORTED) => "ConnectionAbortedError",
        Some(libc::EPIPE) => "BrokenPipeError",
        Some(libc::ETIMEDOUT) => "TimeoutError",
        Some(libc::ENOTDIR) => "NotADirectoryError",
        _ => "OSError",
    }
}

/// The `EAI_*` code Python shows for a resolver message.
fn gai_code(message: &str) -> i32 {
    if message.contains("Temporary failure") {
        -3
    } else if message.contains("No address associated") {
        -5
    } else {
        -2
    }
}

/// An error a command does not handle itself: the shell prints it as the
/// reference prints an uncaught exception, and the exit status becomes 1.
#[derive(Debug)]
pub struct Raised {
    class: String,
    message: String,
    pub call: Option<CallError>,
    at: &'static Location<'static>,
}

impl Raised {
    #[track_caller]
    pub fn new(class: &str, message: impl Into<String>) -> Raised {
        Raised {
            class: class.to_string(),
            message: message.into(),
            call: None,
            at: Location::caller(),
        }
    }

    /// Python's `ValueError` (an unexpected result code, a bad reply).
    #[track_caller]
    pub fn value_error(message: impl Into<String>) -> Raised {
        Raised::new("ValueError", message)
    }

    /// The HTTP status when the daemon refused the call (401: credentials).
    pub fn http_status(&self) -> Option<u16> {
        match &self.call {
            Some(CallError::Http { status, .. }) => Some(*status),
            _ => None,
        }
    }
}

impl From<CallError> for Raised {
    #[track_caller]
    fn from(e: CallError) -> Raised {
        Raised {
            class: e.class(),
            message: e.to_string(),
            call: Some(e),
            at: Location::caller(),
        }
    }
}

impl fmt::Display for Raised {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "error: <class '{}'>, {}: file: {} line: {}",
            self.class,
            self.message,
            self.at.file(),
            self.at.line()
        )
    }
}
