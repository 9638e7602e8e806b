//! Commands on processes: status, start, stop, restart, signal, pid, clear.

use crate::rpc::xmlrpc::{faults, Value};

use super::controller::{exit, Ctl, Flow, Outcome};
use super::error::{CallError, Raised};
use super::format::{namespec, split_namespec, status_lines};
use super::help;
use super::reply::{self, ProcessInfo, ProcessResult};

/// The states `status` counts as "not running" (exit status 3).
const STOPPED_STATES: [i32; 4] = [0, 100, 200, 1000];

const DONE: Outcome = Ok(Flow::Continue);

fn words(arg: &str) -> Vec<&str> {
    arg.split_whitespace().collect()
}

/// A fault on one named process, in the shape of a group result.
fn fault_result(group: &str, name: Option<&str>, e: CallError) -> Result<ProcessResult, Raised> {
    match e {
        CallError::Fault(f) => Ok(ProcessResult {
            group: group.to_string(),
            name: name.map(str::to_string),
            status: f.code,
            description: f.string,
        }),
        other => Err(other.into()),
    }
}

fn result_name(r: &ProcessResult) -> String {
    namespec(&r.group, r.name.as_deref())
}

fn unknown_code(r: &ProcessResult) -> Raised {
    Raised::value_error(format!(
        "Unknown result code {} for {}",
        r.status,
        result_name(r)
    ))
}

pub fn status(ctl: &mut Ctl, arg: &str) -> Outcome {
    if !ctl.upcheck()? {
        ctl.exit_status = exit::STATUS_UNKNOWN;
        return DONE;
    }
    let all = ProcessInfo::list(&ctl.call("supervisor.getAllProcessInfo", &[])?)?;
    let names = words(arg);
    let matching = if names.is_empty() || names.contains(&"all") {
        all
    } else {
        select(ctl, &all, &names)
    };
    // One write for the whole table, not one per process.
    let lines = status_lines(&matching);
    if !lines.is_empty() {
        ctl.say(&lines.join("\n"));
    }
    if matching.iter().any(|i| STOPPED_STATES.contains(&i.state)) {
        ctl.exit_status = exit::STATUS_NOT_RUNNING;
    }
    DONE
}

/// The processes `names` designate, in the order asked; an error line
/// (and exit status 4) for each name that matches nothing.
fn select(ctl: &mut Ctl, all: &[ProcessInfo], names: &[&str]) -> Vec<ProcessInfo> {
    let mut matching = Vec::new();
    for name in names {
        let (group, process) = split_namespec(name);
        let found: Vec<ProcessInfo> = all
            .iter()
            .filter(|i| i.group == group && process.is_none_or(|p| i.name == p))
            .cloned()
            .collect();
        if found.is_empty() {
            ctl.say(&match process {
                None => format!("{group}: ERROR (no such group)"),
                Some(_) => format!("{name}: ERROR (no such process)"),
            });
            ctl.exit_status = exit::STATUS_UNKNOWN;
        }
        matching.extend(found);
    }
    matching
}

fn start_line(r: &ProcessResult) -> Result<String, Raised> {
    let name = result_name(r);
    let why = match r.status {
        faults::SUCCESS => return Ok(format!("{name}: started")),
        faults::BAD_NAME => "no such process",
        faults::NO_FILE => "no such file",
        faults::NOT_EXECUTABLE => "file is not executable",
        faults::ALREADY_STARTED => "already started",
        faults::SPAWN_ERROR => "spawn error",
        faults::ABNORMAL_TERMINATION => "abnormal termination",
        _ => return Err(unknown_code(r)),
    };
    Ok(format!("{name}: ERROR ({why})"))
}

fn show_start_results(ctl: &mut Ctl, results: &Value) -> Result<(), Raised> {
    for r in ProcessResult::list(results)? {
        ctl.say(&start_line(&r)?);
        ctl.status_from_code(r.status, Some(faults::ALREADY_STARTED));
    }
    Ok(())
}

pub fn start(ctl: &mut Ctl, arg: &str) -> Outcome {
    if !ctl.upcheck()? {
        return DONE;
    }
    let names = words(arg);
    if names.is_empty() {
        ctl.say("Error: start requires a process name");
        ctl.exit_status = exit::INVALID_ARGS;
        help::show(ctl, "start");
        return DONE;
    }
    if names.contains(&"all") {
        let results = ctl.call("supervisor.startAllProcesses", &[])?;
        show_start_results(ctl, &results)?;
        return DONE;
    }
    for name in names {
        start_one(ctl, name)?;
    }
    DONE
}

fn start_one(ctl: &mut Ctl, name: &str) -> Result<(), Raised> {
    let (group, process) = split_namespec(name);
    let Some(process) = process else {
        match ctl.call("supervisor.startProcessGroup", &[group.into()]) {
            Ok(results) => show_start_results(ctl, &results)?,
            Err(e) if e.fault_code() == Some(faults::BAD_NAME) => {
                ctl.say(&format!("{group}: ERROR (no such group)"));
                ctl.exit_status = exit::INVALID_ARGS;
            }
            Err(e) => {
                ctl.exit_status = exit::GENERIC;
                return Err(e.into());
            }
        }
        return Ok(());
    };
    match ctl.call("supervisor.startProcess", &[name.into()]) {
        Ok(_) => ctl.say(&format!("{}: started", namespec(group, Some(process)))),
        Err(e) => {
            let r = fault_result(group, Some(process), e)?;
            ctl.say(&start_line(&r)?);
            ctl.status_from_code(r.status, Some(faults::ALREADY_STARTED));
        }
    }
    Ok(())
}

/// The line for a signal (or stop) result; `done` is what success is
/// called.
fn signal_line(r: &ProcessResult, done: &str) -> Result<String, Raised> {
    let name = result_name(r);
    let why = match r.status {
        faults::SUCCESS => return Ok(format!("{name}: {done}")),
        faults::FAILED => return Ok(r.description.clone()),
        faults::BAD_NAME => "no such process",
        faults::BAD_SIGNAL => "bad signal name",
        faults::NOT_RUNNING => "not running",
        _ => return Err(unknown_code(r)),
    };
    Ok(format!("{name}: ERROR ({why})"))
}

/// How `stop` and `signal` differ: the calls, the word for success, the
/// code that is not an error, and the exit status for an unknown group.
struct Sender {
    all: &'static str,
    group: &'static str,
    one: &'static str,
    signal: Option<String>,
    done: &'static str,
    tolerated: Option<i32>,
}

impl Sender {
    fn params(&self, name: &str) -> Vec<Value> {
        let mut params = vec![Value::from(name)];
        params.extend(self.signal.iter().map(|s| Value::from(s.as_str())));
        params
    }

    fn show(&self, ctl: &mut Ctl, results: &Value) -> Result<(), Raised> {
        for r in ProcessResult::list(results)? {
            ctl.say(&signal_line(&r, self.done)?);
            ctl.status_from_code(r.status, self.tolerated);
        }
        Ok(())
    }

    fn send(&self, ctl: &mut Ctl, names: &[&str]) -> Result<(), Raised> {
        if names.contains(&"all") {
            let params: Vec<Value> = self.signal.iter().map(|s| s.as_str().into()).collect();
            let results = ctl.call(self.all, &params)?;
            return self.show(ctl, &results);
        }
        for name in names {
            self.send_one(ctl, name)?;
        }
        Ok(())
    }

    fn send_one(&self, ctl: &mut Ctl, name: &str) -> Result<(), Raised> {
        let (group, process) = split_namespec(name);
        let Some(process) = process else {
            match ctl.call(self.group, &self.params(group)) {
                Ok(results) => self.show(ctl, &results)?,
                Err(e) if e.fault_code() == Some(faults::BAD_NAME) => {
                    ctl.say(&format!("{group}: ERROR (no such group)"));
                    ctl.exit_status = exit::GENERIC;
                }
                Err(e) => {
                    ctl.exit_status = exit::GENERIC;
                    return Err(e.into());
                }
            }
            return Ok(());
        };
        match ctl.call(self.one, &self.params(name)) {
            Ok(_) => ctl.say(&format!(
                "{}: {}",
                namespec(group, Some(process)),
                self.done
            )),
            Err(e) => {
                let r = fault_result(group, Some(process), e)?;
                ctl.say(&signal_line(&r, self.done)?);
                ctl.status_from_code(r.status, self.tolerated);
            }
        }
        Ok(())
    }
}

pub fn stop(ctl: &mut Ctl, arg: &str) -> Outcome {
    if !ctl.upcheck()? {
        return DONE;
    }
    let names = words(arg);
    if names.is_empty() {
        ctl.say("Error: stop requires a process name");
        ctl.exit_status = exit::GENERIC;
        help::show(ctl, "stop");
        return DONE;
    }
    let sender = Sender {
        all: "supervisor.stopAllProcesses",
        group: "supervisor.stopProcessGroup",
        one: "supervisor.stopProcess",
        signal: None,
        done: "stopped",
        tolerated: Some(faults::NOT_RUNNING),
    };
    sender.send(ctl, &names)?;
    DONE
}

pub fn signal(ctl: &mut Ctl, arg: &str) -> Outcome {
    if !ctl.upcheck()? {
        return DONE;
    }
    let args = words(arg);
    let [signal, names @ ..] = args.as_slice() else {
        return signal_usage(ctl);
    };
    if names.is_empty() {
        return signal_usage(ctl);
    }
    let sender = Sender {
        all: "supervisor.signalAllProcesses",
        group: "supervisor.signalProcessGroup",
        one: "supervisor.signalProcess",
        signal: Some(signal.to_string()),
        done: "signalled",
        tolerated: None,
    };
    sender.send(ctl, names)?;
    DONE
}

fn signal_usage(ctl: &mut Ctl) -> Outcome {
    ctl.say("Error: signal requires a signal name and a process name");
    help::show(ctl, "signal");
    ctl.exit_status = exit::GENERIC;
    DONE
}

pub fn restart(ctl: &mut Ctl, arg: &str) -> Outcome {
    if !ctl.upcheck()? {
        return DONE;
    }
    if words(arg).is_empty() {
        ctl.say("Error: restart requires a process name");
        ctl.exit_status = exit::GENERIC;
        help::show(ctl, "restart");
        return DONE;
    }
    stop(ctl, arg)?;
    start(ctl, arg)
}

pub fn pid(ctl: &mut Ctl, arg: &str) -> Outcome {
    if !ctl.upcheck()? {
        return DONE;
    }
    let names = words(arg);
    if names.is_empty() {
        let pid = ctl.call("supervisor.getPID", &[])?;
        ctl.say(&reply::python_str(&pid));
    } else if names.contains(&"all") {
        let infos = ctl.call("supervisor.getAllProcessInfo", &[])?;
        for info in reply::array(&infos)? {
            ctl.say(&reply::python_str(reply::member(info, "pid")?));
        }
    } else {
        for name in names {
            pid_of(ctl, name)?;
        }
    }
    DONE
}

fn pid_of(ctl: &mut Ctl, name: &str) -> Result<(), Raised> {
    match ctl.call("supervisor.getProcessInfo", &[name.into()]) {
        Ok(info) => {
            let pid = reply::member(&info, "pid")?;
            ctl.say(&reply::python_str(pid));
            if pid.as_int() == Some(0) {
                ctl.exit_status = exit::NOT_RUNNING;
            }
        }
        Err(e) => {
            ctl.exit_status = exit::GENERIC;
            if e.fault_code() != Some(faults::BAD_NAME) {
                return Err(e.into());
            }
            ctl.say(&format!("No such process {name}"));
        }
    }
    Ok(())
}

fn clear_line(r: &ProcessResult) -> Result<String, Raised> {
    let name = result_name(r);
    match r.status {
        faults::SUCCESS => Ok(format!("{name}: cleared")),
        faults::BAD_NAME => Ok(format!("{name}: ERROR (no such process)")),
        faults::FAILED => Ok(format!("{name}: ERROR (failed)")),
        _ => Err(unknown_code(r)),
    }
}

pub fn clear(ctl: &mut Ctl, arg: &str) -> Outcome {
    if !ctl.upcheck()? {
        return DONE;
    }
    let names = words(arg);
    if names.is_empty() {
        ctl.say("Error: clear requires a process name");
        ctl.exit_status = exit::GENERIC;
        help::show(ctl, "clear");
        return DONE;
    }
    if names.contains(&"all") {
        let results = ctl.call("supervisor.clearAllProcessLogs", &[])?;
        for r in ProcessResult::list(&results)? {
            ctl.say(&clear_line(&r)?);
            ctl.status_from_code(r.status, None);
        }
        return DONE;
    }
    for name in names {
        let (group, process) = split_namespec(name);
        match ctl.call("supervisor.clearProcessLogs", &[name.into()]) {
            Ok(_) => ctl.say(&format!("{}: cleared", namespec(group, process))),
            Err(e) => {
                let r = fault_result(group, process, e)?;
                ctl.say(&clear_line(&r)?);
                ctl.status_from_code(r.status, None);
            }
        }
    }
    DONE
}
