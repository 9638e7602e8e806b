//! The command interpreter: one line in, the reference's output and exit
//! status out. `onecmd` splits a line as Python's `cmd.Cmd` does, runs the
//! command, asks for credentials on a 401 in the shell, and prints what a
//! command did not handle as the reference prints an uncaught exception.

use std::io::{self, Write};

use crate::rpc::xmlrpc::{faults, Value};

use super::client::Server;
use super::error::{CallError, Raised};
use super::input::Input;
use super::reply::python_str;
use super::{admin, help, logs, processes};

/// `LSBInitExitStatuses` and `LSBStatusExitStatuses` of the reference.
pub mod exit {
    pub const SUCCESS: i32 = 0;
    pub const GENERIC: i32 = 1;
    pub const INVALID_ARGS: i32 = 2;
    pub const UNIMPLEMENTED_FEATURE: i32 = 3;
    pub const INSUFFICIENT_PRIVILEGES: i32 = 4;
    pub const NOT_INSTALLED: i32 = 5;
    pub const NOT_RUNNING: i32 = 7;
    /// `status`: a named process is not running.
    pub const STATUS_NOT_RUNNING: i32 = 3;
    /// `status`: an unknown name, or the daemon cannot be reached.
    pub const STATUS_UNKNOWN: i32 = 4;
}

/// The XML-RPC API version this client speaks (`getVersion`).
const API_VERSION: &str = "3.0";

/// Whether the shell goes on after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Stop,
}

pub type Outcome = Result<Flow, Raised>;

/// The commands, by the names users type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Add,
    Avail,
    Clear,
    Eof,
    Exit,
    Fg,
    Help,
    Maintail,
    Open,
    Pid,
    Quit,
    Reload,
    Remove,
    Reread,
    Restart,
    Shutdown,
    Signal,
    Start,
    Status,
    Stop,
    Tail,
    Update,
    Version,
}

impl Command {
    pub fn named(word: &str) -> Option<Command> {
        use Command::*;
        Some(match word {
            "add" => Add,
            "avail" => Avail,
            "clear" => Clear,
            "EOF" => Eof,
            "exit" => Exit,
            "fg" => Fg,
            "help" => Help,
            "maintail" => Maintail,
            "open" => Open,
            "pid" => Pid,
            "quit" => Quit,
            "reload" => Reload,
            "remove" => Remove,
            "reread" => Reread,
            "restart" => Restart,
            "shutdown" => Shutdown,
            "signal" => Signal,
            "start" => Start,
            "status" => Status,
            "stop" => Stop,
            "tail" => Tail,
            "update" => Update,
            "version" => Version,
            _ => return None,
        })
    }
}

/// The words the shell completes as commands (the reference's `vocab`).
pub const COMMAND_WORDS: &[&str] = &[
    "help", "add", "avail", "clear", "exit", "fg", "maintail", "open", "pid", "quit", "reload",
    "remove", "reread", "restart", "shutdown", "signal", "start", "status", "stop", "tail",
    "update", "version",
];

/// The client's state across commands.
pub struct Ctl {
    pub server: Server,
    /// Set for the shell (and by `-i`): `shutdown` and `reload` ask for
    /// confirmation, a 401 asks for credentials.
    pub interactive: bool,
    pub exit_status: i32,
    pub input: Input,
}

impl Ctl {
    pub fn new(server: Server, interactive: bool) -> Ctl {
        Ctl {
            server,
            interactive,
            exit_status: exit::SUCCESS,
            input: Input::default(),
        }
    }

    /// One line of output.
    pub fn say(&self, text: &str) {
        let mut out = io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.write_all(b"\n");
        let _ = out.flush();
    }

    pub fn call(&self, method: &str, params: &[Value]) -> Result<Value, CallError> {
        self.server.call(method, params)
    }

    /// Runs one line; returns whether the shell should stop.
    pub fn onecmd(&mut self, line: &str) -> Flow {
        let (word, arg, line) = parse_line(line);
        if line.is_empty() {
            return Flow::Continue;
        }
        let Some(command) = word.as_deref().and_then(Command::named) else {
            self.say(&format!("*** Unknown syntax: {line}"));
            self.exit_status = exit::GENERIC;
            return Flow::Continue;
        };
        match self.run(command, &arg) {
            Ok(flow) => flow,
            Err(e) if e.http_status() == Some(401) => {
                self.authenticate_and_retry(command, &arg, &line)
            }
            Err(e) => self.report(&e),
        }
    }

    fn report(&mut self, e: &Raised) -> Flow {
        self.say(&e.to_string());
        self.exit_status = exit::GENERIC;
        Flow::Continue
    }

    /// On a 401: in the shell, ask for credentials and run the line again;
    /// otherwise say so (and, as the reference, try once more, which
    /// reports the refusal in full).
    fn authenticate_and_retry(&mut self, command: Command, arg: &str, line: &str) -> Flow {
        self.say("Server requires authentication");
        if !self.interactive {
            self.exit_status = exit::GENERIC;
            return match self.run(command, arg) {
                Ok(_) => Flow::Continue,
                Err(e) => self.report(&e),
            };
        }
        let credentials = self
            .ask("Username:")
            .and_then(|user| Ok((user, self.input.password("Password:")?)));
        match credentials {
            Ok((user, pass)) => {
                self.say("");
                self.server.username = Some(user);
                self.server.password = Some(pass);
                self.onecmd(line)
            }
            Err(e) => self.report(&e),
        }
    }

    fn run(&mut self, command: Command, arg: &str) -> Outcome {
        use Command::*;
        match command {
            Add => admin::add(self, arg),
            Avail => admin::avail(self, arg),
            Clear => processes::clear(self, arg),
            Eof | Exit | Quit => Ok(self.eof()),
            Fg => logs::fg(self, arg),
            Help => help::help(self, arg),
            Maintail => logs::maintail(self, arg),
            Open => admin::open(self, arg),
            Pid => processes::pid(self, arg),
            Reload => admin::reload(self, arg),
            Remove => admin::remove(self, arg),
            Reread => admin::reread(self, arg),
            Restart => processes::restart(self, arg),
            Shutdown => admin::shutdown(self, arg),
            Signal => processes::signal(self, arg),
            Start => processes::start(self, arg),
            Status => processes::status(self, arg),
            Stop => processes::stop(self, arg),
            Tail => logs::tail(self, arg),
            Update => admin::update(self, arg),
            Version => admin::version(self, arg),
        }
    }

    fn eof(&self) -> Flow {
        self.say("");
        Flow::Stop
    }

    /// Prints `prompt` and reads one line (Python's `raw_input`).
    pub fn ask(&mut self, prompt: &str) -> Result<String, Raised> {
        let mut out = io::stdout().lock();
        let _ = out.write_all(prompt.as_bytes());
        let _ = out.flush();
        drop(out);
        match self.input.read_line() {
            Ok(Some(line)) => Ok(line),
            Ok(None) => Err(Raised::new("EOFError", "EOF when reading a line")),
            Err(e) => Err(CallError::Os(e).into()),
        }
    }

    /// Checks that supervisord answers and speaks our API. False (with the
    /// reference's message and exit status) when it is not running, refuses
    /// the connection or is not a supervisord we can talk to.
    pub fn upcheck(&mut self) -> Result<bool, Raised> {
        let error = match self.call("supervisor.getVersion", &[]) {
            Ok(Value::String(v)) if v == API_VERSION => return Ok(true),
            Ok(other) => {
                self.say(&format!(
                    "Sorry, this version of supervisorctl expects to talk to a server with API \
                     version {API_VERSION}, but the remote version is {}.",
                    python_str(&other)
                ));
                self.exit_status = exit::NOT_INSTALLED;
                return Ok(false);
            }
            Err(e) => e,
        };
        if error.fault_code() == Some(faults::UNKNOWN_METHOD) {
            self.say(
                "Sorry, supervisord responded but did not recognize the supervisor namespace \
                 commands that supervisorctl uses to control it.  Please check that the \
                 [rpcinterface:supervisor] section is enabled in the configuration file (see \
                 sample.conf).",
            );
            self.exit_status = exit::UNIMPLEMENTED_FEATURE;
            return Ok(false);
        }
        match error.errno() {
            Some(libc::ECONNREFUSED) => {
                self.say(&format!("{} refused connection", self.server.url));
                self.exit_status = exit::INSUFFICIENT_PRIVILEGES;
                Ok(false)
            }
            Some(libc::ENOENT) => {
                self.say(&format!("{} no such file", self.server.url));
                self.exit_status = exit::NOT_RUNNING;
                Ok(false)
            }
            // Anything else is raised; `onecmd` reports it with status 1.
            _ => Err(error.into()),
        }
    }

    /// The reference's `set_exitstatus_from_xmlrpc_fault`: success (and
    /// the one code a command tolerates) leave the status alone; a process
    /// that died or is not running gives 7; anything else 1.
    pub fn status_from_code(&mut self, code: i32, tolerated: Option<i32>) {
        if code == faults::SUCCESS || Some(code) == tolerated {
            return;
        }
        self.exit_status = match code {
            faults::SPAWN_ERROR | faults::ABNORMAL_TERMINATION | faults::NOT_RUNNING => {
                exit::NOT_RUNNING
            }
            _ => exit::GENERIC,
        };
    }
}

/// Splits a line as `cmd.Cmd.parseline`: the command word (letters, digits,
/// `_`), the rest trimmed, and the whole trimmed line. `?x` means `help x`;
/// a line starting with `!` (a shell escape, which we do not have) has no
/// command word.
pub fn parse_line(line: &str) -> (Option<String>, String, String) {
    let mut line = line.trim().to_string();
    if line.is_empty() {
        return (None, String::new(), line);
    }
    if let Some(rest) = line.strip_prefix('?') {
        line = format!("help {rest}");
    } else if line.starts_with('!') {
        return (None, String::new(), line);
    }
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(line.len());
    let word = line[..end].to_string();
    let arg = line[end..].trim().to_string();
    (Some(word), arg, line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_as_cmd_does() {
        let p = |l: &str| {
            let (w, a, l) = parse_line(l);
            (w.unwrap_or_else(|| "None".into()), a, l)
        };
        let s = |w: &str, a: &str, l: &str| (w.to_string(), a.to_string(), l.to_string());
        assert_eq!(p("  status  cat "), s("status", "cat", "status  cat"));
        assert_eq!(p("?status"), s("help", "status", "help status"));
        assert_eq!(p("?"), s("help", "", "help "));
        assert_eq!(p("!ls"), s("None", "", "!ls"));
        assert_eq!(p("status:cat"), s("status", ":cat", "status:cat"));
        assert_eq!(p("-x"), s("", "-x", "-x"));
        assert_eq!(p("   "), s("None", "", ""));
    }

    #[test]
    fn every_command_word_is_a_command() {
        for word in COMMAND_WORDS {
            assert!(Command::named(word).is_some(), "{word}");
        }
        assert_eq!(Command::named("EOF"), Some(Command::Eof));
        assert_eq!(Command::named("Status"), None);
    }
}
