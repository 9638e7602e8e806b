//! Commands on logs: tail, maintail (both also as `-f` streams) and fg.
//!
//! A stream runs until the daemon ends it or the user presses Ctrl-C, which
//! returns to the shell (or ends `supervisorctl` with status 0). Ctrl-C is
//! read from a signalfd next to the sockets (and, for `fg`, stdin), so
//! everything is one `poll` loop in one thread.

use std::io::{self, Write};

use crate::rpc::xmlrpc::{faults, Value};

use super::client::{LogStream, Pumped};
use super::controller::{exit, Ctl, Flow, Outcome};
use super::error::{os_error_class, CallError, Raised};
use super::format::py_int;
use super::help;
use super::input::STDIN;
use super::reply::{self, ProcessInfo};
use crate::config::values::python_repr as py_repr;
use crate::sys::{wait_readable, CtrlC};

const DONE: Outcome = Ok(Flow::Continue);
const RUNNING: i32 = 20;
const PRESS_CTRL_C: &str = "==> Press Ctrl-C to exit <==";

/// How much of a log `tail` and `maintail` show without `-N`.
const DEFAULT_BYTES: i64 = 1600;

fn error(ctl: &mut Ctl, message: &str) -> Outcome {
    ctl.say(message);
    ctl.exit_status = exit::GENERIC;
    DONE
}

fn usage(ctl: &mut Ctl, message: &str, command: &str) -> Outcome {
    ctl.say(message);
    ctl.exit_status = exit::GENERIC;
    help::show(ctl, command);
    DONE
}

/// What `-N` / `-f` asks for.
enum Amount {
    Bytes(i64),
    Follow,
}

fn amount(modifier: &str) -> Option<Amount> {
    let what = modifier.get(1..).unwrap_or("");
    if what == "f" {
        return Some(Amount::Follow);
    }
    py_int(what).map(Amount::Bytes)
}

/// An offset for `read*Log`: `-bytes`, refused as the reference's XML-RPC
/// marshaller refuses integers beyond 32 bits.
fn offset(bytes: i64) -> Result<Value, Raised> {
    i32::try_from(bytes.saturating_neg())
        .map(Value::Int)
        .map_err(|_| Raised::new("OverflowError", "int exceeds XML-RPC limits"))
}

pub fn tail(ctl: &mut Ctl, arg: &str) -> Outcome {
    if !ctl.upcheck()? {
        return DONE;
    }
    let mut args: Vec<&str> = arg.split_whitespace().collect();
    if args.is_empty() {
        return usage(ctl, "Error: too few arguments", "tail");
    }
    if args.len() > 3 {
        return usage(ctl, "Error: too many arguments", "tail");
    }
    let modifier = args[0].starts_with('-').then(|| args.remove(0));
    let (name, channel) = match args.as_slice() {
        [name] => (*name, "stdout".to_string()),
        [name, .., channel] => (*name, channel.to_lowercase()),
        [] => return error(ctl, "Error: tail requires process name"),
    };
    if channel != "stdout" && channel != "stderr" {
        return error(ctl, &format!("Error: bad channel {}", py_repr(&channel)));
    }
    let bytes = match modifier.map(|m| (m, amount(m))) {
        None => DEFAULT_BYTES,
        Some((_, Some(Amount::Bytes(n)))) => n,
        Some((_, Some(Amount::Follow))) => {
            return follow(ctl, &format!("/logtail/{name}/{channel}"))
        }
        Some((m, None)) => return error(ctl, &format!("Error: bad argument {m}")),
    };
    let method = if channel == "stdout" {
        "supervisor.readProcessStdoutLog"
    } else {
        "supervisor.readProcessStderrLog"
    };
    let params = [name.into(), offset(bytes)?, Value::Int(0)];
    match ctl.call(method, &params) {
        Ok(text) => ctl.say(&reply::python_str(&text)),
        Err(e) => log_error(ctl, name, e, true)?,
    }
    DONE
}

/// The faults reading a log may give, as `NAME: ERROR (why)`.
fn log_error(ctl: &mut Ctl, name: &str, e: CallError, process: bool) -> Result<(), Raised> {
    ctl.exit_status = exit::GENERIC;
    let why = match e.fault_code() {
        Some(faults::NO_FILE) => "no log file",
        Some(faults::FAILED) => "unknown error reading log",
        Some(faults::BAD_NAME) if process => "no such process name",
        _ => return Err(e.into()),
    };
    ctl.say(&format!("{name}: ERROR ({why})"));
    Ok(())
}

pub fn maintail(ctl: &mut Ctl, arg: &str) -> Outcome {
    if !ctl.upcheck()? {
        return DONE;
    }
    let args: Vec<&str> = arg.split_whitespace().collect();
    let bytes = match args.as_slice() {
        [] => DEFAULT_BYTES,
        [one] if one.starts_with('-') => match amount(one) {
            Some(Amount::Follow) => return follow(ctl, "/mainlogtail"),
            Some(Amount::Bytes(n)) => n,
            None => return error(ctl, &format!("Error: bad argument {one}")),
        },
        [one] => return error(ctl, &format!("Error: bad argument {one}")),
        _ => return usage(ctl, "Error: too many arguments", "maintail"),
    };
    match ctl.call("supervisor.readLog", &[offset(bytes)?, Value::Int(0)]) {
        Ok(text) => ctl.say(&reply::python_str(&text)),
        Err(e) => log_error(ctl, "supervisord", e, false)?,
    }
    DONE
}

/// `tail -f` / `maintail -f`: stream `path` until it ends or Ctrl-C.
fn follow(ctl: &mut Ctl, path: &str) -> Outcome {
    let ctrl_c = CtrlC::catch().ok();
    ctl.say(PRESS_CTRL_C);
    let mut streams: Vec<LogStream> = open_stream(ctl, path)?.into_iter().collect();
    while !streams.is_empty() {
        let mut fds: Vec<i32> = ctrl_c.iter().map(CtrlC::fd).collect();
        fds.extend(streams.iter().map(LogStream::fd));
        let ready = wait(&fds)?;
        if ctrl_c.as_ref().is_some_and(CtrlC::pressed) {
            ctl.say("");
            return DONE;
        }
        let first_stream = fds.len() - streams.len();
        pump_ready(&mut streams, &ready[first_stream..]);
    }
    DONE
}

fn wait(fds: &[i32]) -> Result<Vec<bool>, Raised> {
    wait_readable(fds, None).map_err(|e| Raised::from(CallError::Os(e)))
}

/// Opens a log stream as the reference's stream client does: a socket
/// error on a unix socket is raised, on TCP it is reported on stderr (and
/// there is nothing to stream).
fn open_stream(ctl: &Ctl, path: &str) -> Result<Option<LogStream>, Raised> {
    match ctl.server.open_stream(path) {
        Ok(stream) => Ok(Some(stream)),
        Err(CallError::Os(e)) if ctl.server.url.starts_with("unix://") => {
            let errno = e.raw_os_error().unwrap_or(0);
            Err(Raised::new(
                os_error_class(Some(errno)),
                format!("[Errno {errno}] {}", crate::sys::errno_name(errno)),
            ))
        }
        Err(e) => {
            let _ = writeln!(
                io::stderr(),
                "{}{path} Cannot connect, error: {}",
                ctl.server.url,
                super::client::python_pair(&e)
            );
            Ok(None)
        }
    }
}

/// Copies what the ready streams have to stdout; drops the ones that end
/// (saying why on stderr when it is not a normal end).
fn pump_ready(streams: &mut Vec<LogStream>, ready: &[bool]) {
    let mut index = 0;
    streams.retain_mut(|stream| {
        let is_ready = ready.get(index).copied().unwrap_or(false);
        index += 1;
        if !is_ready {
            return true;
        }
        match stream.pump() {
            Pumped::Text(text) => {
                let mut out = io::stdout().lock();
                out.write_all(&text).and_then(|()| out.flush()).is_ok()
            }
            Pumped::Ended(why) => {
                if let Some(why) = why {
                    let _ = writeln!(io::stderr(), "{why}");
                }
                false
            }
        }
    });
}

pub fn fg(ctl: &mut Ctl, arg: &str) -> Outcome {
    if !ctl.upcheck()? {
        return DONE;
    }
    let names: Vec<&str> = arg.split_whitespace().collect();
    let name = match names.as_slice() {
        [] => return usage(ctl, "ERROR: no process name supplied", "fg"),
        [one] => *one,
        _ => return error(ctl, "ERROR: too many process names supplied"),
    };
    let info = match ctl.call("supervisor.getProcessInfo", &[name.into()]) {
        Ok(info) => ProcessInfo::from_value(&info)?,
        Err(CallError::Fault(f)) if f.code == faults::BAD_NAME => {
            return error(ctl, "ERROR: bad process name supplied")
        }
        Err(e @ CallError::Fault(_)) => {
            ctl.say(&format!("ERROR: {e}"));
            return DONE;
        }
        Err(e) => return Err(e.into()),
    };
    if info.state != RUNNING {
        return error(ctl, "ERROR: process not running");
    }
    foreground(ctl, name)
}

/// `fg`'s loop: the process's stdout and stderr to our stdout, our stdin
/// to the process, line by line, until Ctrl-C, end of input or the process
/// stops.
fn foreground(ctl: &mut Ctl, name: &str) -> Outcome {
    let ctrl_c = CtrlC::catch().ok();
    ctl.say(PRESS_CTRL_C);
    let mut streams: Vec<LogStream> = Vec::new();
    for channel in ["stdout", "stderr"] {
        streams.extend(open_stream(ctl, &format!("/logtail/{name}/{channel}"))?);
    }
    loop {
        while let Some(line) = ctl.input.next_line() {
            if !send_line(ctl, name, line)? {
                return DONE;
            }
        }
        if ctl.input.take_eof() {
            if let Some(rest) = ctl.input.rest() {
                if !send_line(ctl, name, rest)? {
                    return DONE;
                }
            }
            ctl.say("Exiting foreground");
            return DONE;
        }
        let mut fds: Vec<i32> = ctrl_c.iter().map(CtrlC::fd).collect();
        fds.push(STDIN);
        fds.extend(streams.iter().map(LogStream::fd));
        let ready = wait(&fds)?;
        if ctrl_c.as_ref().is_some_and(CtrlC::pressed) {
            ctl.say("Exiting foreground");
            return DONE;
        }
        let first_stream = fds.len() - streams.len();
        if ready[first_stream - 1] {
            ctl.input
                .fill()
                .map_err(|e| Raised::from(CallError::Os(e)))?;
        }
        pump_ready(&mut streams, &ready[first_stream..]);
    }
}

/// Sends one line of input to the process; false when `fg` is over.
fn send_line(ctl: &mut Ctl, name: &str, line: String) -> Result<bool, Raised> {
    let sent = ctl.call(
        "supervisor.sendProcessStdin",
        &[name.into(), format!("{line}\n").into()],
    );
    if let Err(e) = sent {
        match e.fault_code() {
            Some(faults::NOT_RUNNING) => ctl.say("Process got killed"),
            Some(_) => ctl.say(&format!("ERROR: {e}")),
            None => return Err(e.into()),
        }
        ctl.say("Exiting foreground");
        return Ok(false);
    }
    let info = ProcessInfo::from_value(&ctl.call("supervisor.getProcessInfo", &[name.into()])?)?;
    if info.state != RUNNING {
        ctl.say("Process got killed");
        ctl.say("Exiting foreground");
        return Ok(false);
    }
    Ok(true)
}
