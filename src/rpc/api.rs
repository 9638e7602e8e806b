//! The XML-RPC API's shape, without the daemon: the method table (names,
//! signatures, help), namespecs, argument checking, and the text the
//! reference derives from process data (descriptions, uptime).

use crate::rpc::xmlrpc::{faults, Fault, Value};
use crate::states::ProcessState;

/// `supervisor.getAPIVersion`.
pub const API_VERSION: &str = "3.0";

/// Every method: name, signature (return type first), one-line help.
pub const METHODS: &[(&str, &[&str], &str)] = &[
    (
        "supervisor.addProcessGroup",
        &["boolean", "string"],
        "Start the processes of a group that is in the configuration but not running yet.",
    ),
    (
        "supervisor.clearAllProcessLogs",
        &["array"],
        "Empty the log files of every process; one result struct per process.",
    ),
    (
        "supervisor.clearLog",
        &["boolean"],
        "Empty the main log file.",
    ),
    (
        "supervisor.clearProcessLog",
        &["boolean", "string"],
        "Alias of clearProcessLogs.",
    ),
    (
        "supervisor.clearProcessLogs",
        &["boolean", "string"],
        "Empty the stdout and stderr log files of one process.",
    ),
    (
        "supervisor.getAPIVersion",
        &["string"],
        "The version of this API (3.0).",
    ),
    (
        "supervisor.getAllConfigInfo",
        &["array"],
        "The configuration of every process, one struct each.",
    ),
    (
        "supervisor.getAllProcessInfo",
        &["array"],
        "The state of every process, one struct each, sorted by name.",
    ),
    (
        "supervisor.getIdentification",
        &["string"],
        "The identifier of this supervisord ([supervisord] identifier).",
    ),
    (
        "supervisor.getPID",
        &["int"],
        "The process id of supervisord.",
    ),
    (
        "supervisor.getProcessInfo",
        &["struct", "string"],
        "The state of one process, named as name or group:name.",
    ),
    (
        "supervisor.getState",
        &["struct"],
        "The state of supervisord: statecode and statename.",
    ),
    (
        "supervisor.getSupervisorVersion",
        &["string"],
        "The Supervisor version this daemon is compatible with.",
    ),
    (
        "supervisor.getVersion",
        &["string"],
        "Alias of getAPIVersion.",
    ),
    (
        "supervisor.readLog",
        &["string", "int", "int"],
        "Read length bytes of the main log from offset (negative offsets count from the end).",
    ),
    (
        "supervisor.readMainLog",
        &["string", "int", "int"],
        "Alias of readLog.",
    ),
    (
        "supervisor.readProcessLog",
        &["string", "string", "int", "int"],
        "Alias of readProcessStdoutLog.",
    ),
    (
        "supervisor.readProcessStderrLog",
        &["string", "string", "int", "int"],
        "Read length bytes of a process's stderr log from offset.",
    ),
    (
        "supervisor.readProcessStdoutLog",
        &["string", "string", "int", "int"],
        "Read length bytes of a process's stdout log from offset.",
    ),
    (
        "supervisor.reloadConfig",
        &["array"],
        "Re-read the configuration; returns [[added, changed, removed]] group names.",
    ),
    (
        "supervisor.removeProcessGroup",
        &["boolean", "string"],
        "Forget a stopped group (after it left the configuration).",
    ),
    (
        "supervisor.restart",
        &["boolean"],
        "Stop everything and start again from the configuration file.",
    ),
    (
        "supervisor.sendProcessStdin",
        &["boolean", "string", "string"],
        "Write characters to a process's stdin.",
    ),
    (
        "supervisor.sendRemoteCommEvent",
        &["boolean", "string", "string"],
        "Emit a REMOTE_COMMUNICATION event of this type with this data.",
    ),
    (
        "supervisor.shutdown",
        &["boolean"],
        "Stop every process, then supervisord itself.",
    ),
    (
        "supervisor.signalAllProcesses",
        &["array", "string"],
        "Send a signal to every running process; one result struct each.",
    ),
    (
        "supervisor.signalProcess",
        &["boolean", "string", "string"],
        "Send a signal (name or number) to one process.",
    ),
    (
        "supervisor.signalProcessGroup",
        &["array", "string", "string"],
        "Send a signal to every running process of a group.",
    ),
    (
        "supervisor.startAllProcesses",
        &["array", "boolean"],
        "Start every process that is not running.",
    ),
    (
        "supervisor.startProcess",
        &["boolean", "string", "boolean"],
        "Start a process (or group:*); with wait, answer once it is RUNNING.",
    ),
    (
        "supervisor.startProcessGroup",
        &["array", "string", "boolean"],
        "Start every process of a group.",
    ),
    (
        "supervisor.stopAllProcesses",
        &["array", "boolean"],
        "Stop every running process.",
    ),
    (
        "supervisor.stopProcess",
        &["boolean", "string", "boolean"],
        "Stop a process (or group:*); with wait, answer once it has stopped.",
    ),
    (
        "supervisor.stopProcessGroup",
        &["array", "string", "boolean"],
        "Stop every process of a group.",
    ),
    (
        "supervisor.tailProcessLog",
        &["array", "string", "int", "int"],
        "Alias of tailProcessStdoutLog.",
    ),
    (
        "supervisor.tailProcessStderrLog",
        &["array", "string", "int", "int"],
        "The end of a process's stderr log: [bytes, offset, overflow].",
    ),
    (
        "supervisor.tailProcessStdoutLog",
        &["array", "string", "int", "int"],
        "The end of a process's stdout log: [bytes, offset, overflow].",
    ),
    (
        "system.listMethods",
        &["array"],
        "The names of every method.",
    ),
    (
        "system.methodHelp",
        &["string", "string"],
        "What a method does.",
    ),
    (
        "system.methodSignature",
        &["array", "string"],
        "A method's return and parameter types.",
    ),
    (
        "system.multicall",
        &["array", "array"],
        "Call several methods in one request; results in order.",
    ),
];

pub fn method(
    name: &str,
) -> Option<&'static (&'static str, &'static [&'static str], &'static str)> {
    METHODS.iter().find(|(n, _, _)| *n == name)
}

/// `group:name`, `group:*`, `group:` or `name` → (group, process or None
/// for the whole group), as the reference splits namespecs.
pub fn split_namespec(spec: &str) -> (&str, Option<&str>) {
    match spec.split_once(':') {
        Some((group, process)) if process.is_empty() || process == "*" => (group, None),
        Some((group, process)) => (group, Some(process)),
        None => (spec, Some(spec)),
    }
}

/// The reference's short name: `name` when group and process share it.
pub fn make_namespec(group: &str, process: &str) -> String {
    if group == process {
        process.to_string()
    } else {
        format!("{group}:{process}")
    }
}

/// Checks the argument count: `required` plus up to `optional` more.
pub fn arity(params: &[Value], required: usize, optional: usize) -> Result<(), Fault> {
    if params.len() < required || params.len() > required + optional {
        Err(Fault::bare(faults::INCORRECT_PARAMETERS))
    } else {
        Ok(())
    }
}

/// A string parameter (anything but a string is an error).
pub fn string_arg(params: &[Value], i: usize) -> Result<&str, Fault> {
    params
        .get(i)
        .and_then(Value::as_str)
        .ok_or_else(|| Fault::bare(faults::INCORRECT_PARAMETERS))
}

/// An int parameter (ints, booleans, or numeric strings, as Python's
/// `int()` would take them).
pub fn int_arg(params: &[Value], i: usize) -> Result<i64, Fault> {
    let bad = || Fault::bare(faults::INCORRECT_PARAMETERS);
    match params.get(i) {
        Some(Value::String(s)) => s.trim().parse::<i64>().map_err(|_| bad()),
        Some(v) => v.as_int().map(i64::from).ok_or_else(bad),
        None => Err(bad()),
    }
}

/// A boolean parameter, defaulting when absent (`wait`); `<int>` works.
pub fn bool_arg(params: &[Value], i: usize, default: bool) -> Result<bool, Fault> {
    match params.get(i) {
        None => Ok(default),
        Some(v) => v
            .as_bool()
            .ok_or_else(|| Fault::bare(faults::INCORRECT_PARAMETERS)),
    }
}

/// A time as the API shows it: whole seconds, capped to a 32-bit int.
pub fn capped_int(t: f64) -> i32 {
    if t >= f64::from(i32::MAX) {
        i32::MAX
    } else if t <= f64::from(i32::MIN) {
        i32::MIN
    } else {
        t as i32
    }
}

/// Python's `str(timedelta(seconds=n))`: `H:MM:SS`, or `N day(s), H:MM:SS`.
pub fn format_uptime(seconds: i64) -> String {
    let seconds = seconds.max(0);
    let days = seconds / 86400;
    let rest = seconds % 86400;
    let hms = format!("{}:{:02}:{:02}", rest / 3600, (rest % 3600) / 60, rest % 60);
    match days {
        0 => hms,
        1 => format!("1 day, {hms}"),
        d => format!("{d} days, {hms}"),
    }
}

/// What the description field says about a process, as the reference
/// writes it (`pid N, uptime H:MM:SS`, a stop time, a spawn error...).
pub fn describe(
    state: ProcessState,
    pid: i32,
    start: i32,
    stop: i32,
    now: i32,
    spawnerr: &str,
    name: &str,
) -> String {
    match state {
        ProcessState::Running => {
            format!(
                "pid {pid}, uptime {}",
                format_uptime(i64::from(now) - i64::from(start))
            )
        }
        ProcessState::Fatal | ProcessState::Backoff => {
            if spawnerr.is_empty() {
                format!("unknown error (try \"tail {name}\")")
            } else {
                spawnerr.to_string()
            }
        }
        ProcessState::Stopped | ProcessState::Exited => {
            if start != 0 {
                crate::sys::strftime_local("%b %d %I:%M %p", i64::from(stop))
            } else {
                "Not started".to_string()
            }
        }
        ProcessState::Starting | ProcessState::Stopping | ProcessState::Unknown => String::new(),
    }
}

/// A `{name, group, status, description}` result of a group operation.
pub fn status_struct(name: &str, group: &str, status: i32, description: &str) -> Value {
    Value::structure([
        ("name", Value::from(name)),
        ("group", Value::from(group)),
        ("status", Value::Int(status)),
        ("description", Value::from(description)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespecs() {
        assert_eq!(split_namespec("web"), ("web", Some("web")));
        assert_eq!(split_namespec("g:web"), ("g", Some("web")));
        assert_eq!(split_namespec("g:*"), ("g", None));
        assert_eq!(split_namespec("g:"), ("g", None));
        assert_eq!(make_namespec("web", "web"), "web");
        assert_eq!(make_namespec("g", "web"), "g:web");
    }

    #[test]
    fn uptimes_like_python_timedelta() {
        assert_eq!(format_uptime(0), "0:00:00");
        assert_eq!(format_uptime(3725), "1:02:05");
        assert_eq!(format_uptime(86400 + 5), "1 day, 0:00:05");
        assert_eq!(format_uptime(3 * 86400 + 7200), "3 days, 2:00:00");
        assert_eq!(format_uptime(-5), "0:00:00");
    }

    #[test]
    fn descriptions() {
        assert_eq!(
            describe(ProcessState::Running, 42, 100, 0, 165, "", "w"),
            "pid 42, uptime 0:01:05"
        );
        assert_eq!(
            describe(ProcessState::Fatal, 0, 1, 1, 1, "", "w"),
            "unknown error (try \"tail w\")"
        );
        assert_eq!(
            describe(ProcessState::Backoff, 0, 1, 1, 1, "Exited too quickly", "w"),
            "Exited too quickly"
        );
        assert_eq!(
            describe(ProcessState::Stopped, 0, 0, 0, 1, "", "w"),
            "Not started"
        );
        assert_eq!(describe(ProcessState::Starting, 5, 1, 0, 1, "", "w"), "");
    }

    #[test]
    fn arguments() {
        let p = vec![Value::from("x"), Value::Int(1), Value::from("7")];
        assert!(arity(&p, 1, 2).is_ok());
        assert!(arity(&p, 1, 1).is_err());
        assert_eq!(string_arg(&p, 0), Ok("x"));
        assert!(string_arg(&p, 1).is_err());
        assert_eq!(int_arg(&p, 2), Ok(7));
        assert_eq!(bool_arg(&p, 1, false), Ok(true));
        assert_eq!(bool_arg(&p, 9, true), Ok(true));
        assert_eq!(capped_int(3e10), i32::MAX);
    }
}
