//! The `supervisor.*` and `system.*` XML-RPC methods, on the daemon's
//! state. A reply is either done now or deferred (`wait=true`): a deferred
//! reply is data held by the connection and re-checked whenever a process
//! changes state; nothing polls.

use std::collections::VecDeque;
use std::path::Path;

use super::event_loop::Daemon;
use crate::config::{values, LogFile};
use crate::model::process::Input;
use crate::rpc::api::{
    self, bool_arg, int_arg, make_namespec, split_namespec, status_struct, string_arg,
};
use crate::rpc::xmlrpc::{faults, Fault, Value, XmlOut};
use crate::runtime::logfile::{self, ReadError};
use crate::runtime::spawn;
use crate::states::{level, ProcessState, SupervisorState};

pub(super) enum Reply {
    Done(Result<Value, Fault>),
    Later(Deferred),
}

/// A reply that waits for processes to reach a state.
pub(super) enum Deferred {
    /// startProcess(wait): until RUNNING, or a fault if it fails.
    Start { proc: usize, name: String },
    /// stopProcess(wait): until stopped.
    Stop { proc: usize },
    /// Group/all start or stop: one result struct per process, in the order
    /// they complete (as the reference).
    Each {
        pending: Vec<(usize, Deferred)>,
        results: Vec<Value>,
    },
    /// system.multicall with a deferred call in progress.
    Multi {
        remaining: VecDeque<Value>,
        current: Option<Box<Deferred>>,
        results: Vec<Value>,
    },
}

/// A log file's path as getProcessInfo shows it ("" when there is none).
fn shown_logfile(l: &LogFile) -> &str {
    match l {
        LogFile::Path(p) => p,
        LogFile::None | LogFile::Auto | LogFile::Syslog => "",
    }
}

/// About the size of one process's getProcessInfo struct in XML.
const PROCESS_INFO_BYTES: usize = 1400;

fn fault(code: i32, detail: impl std::fmt::Display) -> Fault {
    Fault::new(code, detail)
}

fn done(v: impl Into<Value>) -> Reply {
    Reply::Done(Ok(v.into()))
}

fn failed(f: Fault) -> Reply {
    Reply::Done(Err(f))
}

impl From<Result<Value, Fault>> for Reply {
    fn from(r: Result<Value, Fault>) -> Reply {
        Reply::Done(r)
    }
}

fn read_error(e: ReadError, what: &str) -> Fault {
    match e {
        ReadError::NoFile => fault(faults::NO_FILE, what),
        ReadError::BadArguments => Fault::bare(faults::BAD_ARGUMENTS),
        ReadError::Failed => Fault::bare(faults::FAILED),
    }
}

/// Log bytes as an XML-RPC string (the reference decodes them as UTF-8).
fn text(bytes: Vec<u8>) -> Value {
    Value::String(String::from_utf8_lossy(&bytes).into_owned())
}

impl Daemon {
    /// The slot of a process namespec (`name` or `group:name`).
    pub(super) fn find_process(&self, namespec: &str) -> Option<usize> {
        let (group, process) = split_namespec(namespec);
        let g = self.groups.iter().find(|g| g.config.name == group)?;
        let process = process?;
        g.procs
            .iter()
            .copied()
            .find(|&p| self.slots[p].cfg.name == process)
    }

    fn group_index(&self, name: &str) -> Option<usize> {
        self.groups.iter().position(|g| g.config.name == name)
    }

    /// (group, Some(process)) or (group, None) for `group:*`; BAD_NAME else.
    fn lookup(&self, namespec: &str) -> Result<(usize, Option<usize>), Fault> {
        let (group, process) = split_namespec(namespec);
        let g = self
            .group_index(group)
            .ok_or_else(|| fault(faults::BAD_NAME, namespec))?;
        match process {
            None => Ok((g, None)),
            Some(name) => {
                let p = self.groups[g]
                    .procs
                    .iter()
                    .copied()
                    .find(|&p| self.slots[p].cfg.name == name)
                    .ok_or_else(|| fault(faults::BAD_NAME, namespec))?;
                Ok((g, Some(p)))
            }
        }
    }

    fn namespec_of(&self, proc: usize) -> String {
        let slot = &self.slots[proc];
        make_namespec(&self.groups[slot.group].config.name, &slot.cfg.name)
    }

    /// Processes in priority order (groups, then processes in each).
    fn all_by_priority(&self) -> Vec<usize> {
        let mut groups: Vec<usize> = (0..self.groups.len()).collect();
        groups.sort_by(|&a, &b| {
            let (ga, gb) = (&self.groups[a].config, &self.groups[b].config);
            ga.priority
                .cmp(&gb.priority)
                .then_with(|| ga.name.cmp(&gb.name))
        });
        groups
            .into_iter()
            .flat_map(|g| self.group_by_priority(g))
            .collect()
    }

    fn group_by_priority(&self, g: usize) -> Vec<usize> {
        let mut procs = self.groups[g].procs.clone();
        procs.sort_by(|&a, &b| {
            let (ca, cb) = (&self.slots[a].cfg, &self.slots[b].cfg);
            ca.priority
                .cmp(&cb.priority)
                .then_with(|| ca.name.cmp(&cb.name))
        });
        procs
    }

    /// Processes sorted by group name, then process name.
    fn all_lexical(&self) -> Vec<usize> {
        let mut groups: Vec<usize> = (0..self.groups.len()).collect();
        groups.sort_by(|&a, &b| self.groups[a].config.name.cmp(&self.groups[b].config.name));
        groups
            .into_iter()
            .flat_map(|g| {
                let mut procs = self.groups[g].procs.clone();
                procs.sort_by(|&a, &b| self.slots[a].cfg.name.cmp(&self.slots[b].cfg.name));
                procs
            })
            .collect()
    }

    /// Calls one method.
    pub(super) fn rpc(&mut self, method: &str, params: &[Value]) -> Reply {
        match self.call(method, params) {
            Ok(reply) => reply,
            Err(f) => failed(f),
        }
    }

    fn call(&mut self, method: &str, params: &[Value]) -> Result<Reply, Fault> {
        let Some(&(name, signature, _)) = api::method(method) else {
            return Err(Fault::bare(faults::UNKNOWN_METHOD));
        };
        if let Some(short) = name.strip_prefix("system.") {
            return self.system(short, params);
        }
        let short = &name["supervisor.".len()..];
        let optional = usize::from(matches!(
            short,
            "startProcess"
                | "startProcessGroup"
                | "startAllProcesses"
                | "stopProcess"
                | "stopProcessGroup"
                | "stopAllProcesses"
        ));
        let required = signature.len() - 1 - optional;
        api::arity(params, required, optional)?;
        if short != "sendRemoteCommEvent" && self.mood < SupervisorState::Running {
            return Err(Fault::bare(faults::SHUTDOWN_STATE));
        }
        Ok(match short {
            "getAPIVersion" | "getVersion" => done(api::API_VERSION),
            "getSupervisorVersion" => done(crate::SUPERVISOR_VERSION),
            "getIdentification" => done(self.config.settings.identifier.as_str()),
            "getState" => done(Value::structure([
                ("statecode", Value::Int(self.mood.code())),
                ("statename", Value::from(self.mood.name())),
            ])),
            "getPID" => done(crate::sys::getpid()),
            "readLog" | "readMainLog" => {
                let (offset, length) = (int_arg(params, 0)?, int_arg(params, 1)?);
                let path = self.config.settings.logfile.clone();
                logfile::read_range(Path::new(&path), offset, length)
                    .map(text)
                    .map_err(|e| read_error(e, &path))
                    .into()
            }
            "clearLog" => self.clear_main_log().into(),
            "shutdown" => {
                self.set_mood(SupervisorState::Shutdown);
                done(true)
            }
            "restart" => {
                self.set_mood(SupervisorState::Restarting);
                done(true)
            }
            "reloadConfig" => self.reload_config().into(),
            "addProcessGroup" => self.add_process_group(string_arg(params, 0)?).into(),
            "removeProcessGroup" => self.remove_process_group(string_arg(params, 0)?).into(),
            "startProcess" => {
                self.start_process(string_arg(params, 0)?, bool_arg(params, 1, true)?)?
            }
            "startProcessGroup" => {
                let g = self.named_group(string_arg(params, 0)?)?;
                let procs = self.group_by_priority(g);
                self.start_each(procs, bool_arg(params, 1, true)?)
            }
            "startAllProcesses" => {
                let procs = self.all_by_priority();
                self.start_each(procs, bool_arg(params, 0, true)?)
            }
            "stopProcess" => {
                self.stop_process(string_arg(params, 0)?, bool_arg(params, 1, true)?)?
            }
            "stopProcessGroup" => {
                let g = self.named_group(string_arg(params, 0)?)?;
                let procs = self.group_by_priority(g);
                self.stop_each(procs, bool_arg(params, 1, true)?)
            }
            "stopAllProcesses" => {
                let procs = self.all_by_priority();
                self.stop_each(procs, bool_arg(params, 0, true)?)
            }
            "signalProcess" => {
                self.signal_process(string_arg(params, 0)?, signal_param(params, 1)?)?
            }
            "signalProcessGroup" => {
                let g = self.named_group(string_arg(params, 0)?)?;
                let procs = self.group_by_priority(g);
                done(self.signal_each(procs, &signal_param(params, 1)?))
            }
            "signalAllProcesses" => {
                let procs = self.all_by_priority();
                done(self.signal_each(procs, &signal_param(params, 0)?))
            }
            "getAllConfigInfo" => done(self.all_config_info()),
            "getProcessInfo" => {
                let name = string_arg(params, 0)?;
                let (_, proc) = self.lookup(name)?;
                let proc = proc.ok_or_else(|| fault(faults::BAD_NAME, name))?;
                let now = api::capped_int(super::event_loop::now().wall);
                let mut out = XmlOut::with_capacity(PROCESS_INFO_BYTES);
                self.write_process_info(&mut out, proc, now);
                done(out.into_value())
            }
            "getAllProcessInfo" => {
                let all = self.all_lexical();
                let now = api::capped_int(super::event_loop::now().wall);
                let mut out = XmlOut::with_capacity(PROCESS_INFO_BYTES * all.len() + 64);
                out.begin_array();
                for p in all {
                    self.write_process_info(&mut out, p, now);
                }
                out.end_array();
                done(out.into_value())
            }
            "readProcessStdoutLog" | "readProcessLog" | "readProcessStderrLog" => {
                let channel = if short == "readProcessStderrLog" {
                    "stderr"
                } else {
                    "stdout"
                };
                let name = string_arg(params, 0)?;
                let (offset, length) = (int_arg(params, 1)?, int_arg(params, 2)?);
                let path = self.log_path(name, channel)?;
                let shown = path.clone().unwrap_or_else(|| "None".to_string());
                let Some(path) = path else {
                    return Err(fault(faults::NO_FILE, shown));
                };
                logfile::read_range(Path::new(&path), offset, length)
                    .map(text)
                    .map_err(|e| read_error(e, &path))
                    .into()
            }
            "tailProcessStdoutLog" | "tailProcessLog" | "tailProcessStderrLog" => {
                let channel = if short == "tailProcessStderrLog" {
                    "stderr"
                } else {
                    "stdout"
                };
                let name = string_arg(params, 0)?;
                let (offset, length) = (int_arg(params, 1)?, int_arg(params, 2)?);
                let empty =
                    || Value::Array(vec![Value::from(""), Value::Int(0), Value::Bool(false)]);
                match self.log_path(name, channel)? {
                    Some(path) if Path::new(&path).exists() => {
                        match logfile::tail(Path::new(&path), offset, length) {
                            Ok((data, offset, overflow)) => done(Value::Array(vec![
                                text(data),
                                Value::Int(api::capped_int(offset as f64)),
                                Value::Bool(overflow),
                            ])),
                            Err(_) => done(empty()),
                        }
                    }
                    _ => done(empty()),
                }
            }
            "clearProcessLogs" | "clearProcessLog" => {
                let name = string_arg(params, 0)?;
                let (_, proc) = self.lookup(name)?;
                let proc = proc.ok_or_else(|| fault(faults::BAD_NAME, name))?;
                self.clear_process_logs(proc)
                    .map_err(|_| fault(faults::FAILED, name))?;
                done(true)
            }
            "clearAllProcessLogs" => {
                let mut results = Vec::new();
                for proc in self.all_by_priority() {
                    let slot = &self.slots[proc];
                    let (name, group) = (
                        slot.cfg.name.clone(),
                        self.groups[slot.group].config.name.clone(),
                    );
                    let r = match self.clear_process_logs(proc) {
                        Ok(()) => status_struct(&name, &group, faults::SUCCESS, "OK"),
                        Err(_) => {
                            let f = fault(faults::FAILED, make_namespec(&group, &name));
                            status_struct(&name, &group, f.code, &f.string)
                        }
                    };
                    results.push(r);
                }
                done(Value::Array(results))
            }
            "sendProcessStdin" => {
                let name = string_arg(params, 0)?;
                let chars = string_arg(params, 1)?.to_string();
                self.send_stdin(name, chars.as_bytes())?
            }
            "sendRemoteCommEvent" => {
                let (kind, data) = (
                    string_arg(params, 0)?.to_string(),
                    string_arg(params, 1)?.to_string(),
                );
                self.remote_event(&kind, &data);
                done(true)
            }
            _ => return Err(Fault::bare(faults::UNKNOWN_METHOD)),
        })
    }

    fn system(&mut self, method: &str, params: &[Value]) -> Result<Reply, Fault> {
        match method {
            "listMethods" => {
                api::arity(params, 0, 0)?;
                Ok(done(Value::Array(
                    api::METHODS
                        .iter()
                        .map(|(n, _, _)| Value::from(*n))
                        .collect(),
                )))
            }
            "methodHelp" | "methodSignature" => {
                api::arity(params, 1, 0)?;
                let name = string_arg(params, 0)?;
                let &(_, signature, help) =
                    api::method(name).ok_or_else(|| Fault::bare(faults::SIGNATURE_UNSUPPORTED))?;
                Ok(done(if method == "methodHelp" {
                    Value::from(help)
                } else {
                    Value::Array(signature.iter().map(|t| Value::from(*t)).collect())
                }))
            }
            "multicall" => {
                api::arity(params, 1, 0)?;
                let calls = params[0]
                    .as_array()
                    .ok_or_else(|| Fault::bare(faults::INCORRECT_PARAMETERS))?;
                let mut d = Deferred::Multi {
                    remaining: calls.iter().cloned().collect(),
                    current: None,
                    results: Vec::new(),
                };
                Ok(match self.poll_deferred(&mut d) {
                    Some(r) => Reply::Done(r),
                    None => Reply::Later(d),
                })
            }
            _ => Err(Fault::bare(faults::UNKNOWN_METHOD)),
        }
    }

    fn named_group(&self, name: &str) -> Result<usize, Fault> {
        self.group_index(name)
            .ok_or_else(|| fault(faults::BAD_NAME, name))
    }

    fn start_process(&mut self, name: &str, wait: bool) -> Result<Reply, Fault> {
        let (g, proc) = self.lookup(name)?;
        let Some(proc) = proc else {
            let procs = self.group_by_priority(g);
            return Ok(self.start_each(procs, wait));
        };
        self.start_one(proc, name, wait)
    }

    /// Starts one process; Ok(None) when done already.
    fn start_one(&mut self, proc: usize, name: &str, wait: bool) -> Result<Reply, Fault> {
        if let Err(why) = spawn::resolve_command(&self.slots[proc].cfg) {
            let code = if why.starts_with("can't find command") {
                faults::NO_FILE
            } else {
                faults::NOT_EXECUTABLE
            };
            return Err(fault(code, why));
        }
        let state = self.slots[proc].proc.state();
        if state.is_running() {
            return Err(fault(faults::ALREADY_STARTED, name));
        }
        if state == ProcessState::Unknown {
            return Err(fault(
                faults::FAILED,
                format!("{name} is in an unknown process state"),
            ));
        }
        self.feed(proc, Input::Start);
        self.reap();
        if self.slots[proc].proc.spawnerr.is_some() {
            return Err(fault(faults::SPAWN_ERROR, name));
        }
        if wait && self.slots[proc].proc.state() != ProcessState::Running {
            return Ok(Reply::Later(Deferred::Start {
                proc,
                name: name.to_string(),
            }));
        }
        Ok(done(true))
    }

    fn stop_process(&mut self, name: &str, wait: bool) -> Result<Reply, Fault> {
        let (g, proc) = self.lookup(name)?;
        let Some(proc) = proc else {
            let procs = self.group_by_priority(g);
            return Ok(self.stop_each(procs, wait));
        };
        self.stop_one(proc, name, wait)
    }

    fn stop_one(&mut self, proc: usize, name: &str, wait: bool) -> Result<Reply, Fault> {
        if !self.slots[proc].proc.state().is_running() {
            return Err(fault(faults::NOT_RUNNING, name));
        }
        self.feed(proc, Input::Stop);
        self.reap();
        if wait && !self.slots[proc].proc.state().is_stopped() {
            return Ok(Reply::Later(Deferred::Stop { proc }));
        }
        Ok(done(true))
    }

    /// The reference's `make_allfunc` for start/stop: errors and immediate
    /// successes now, deferred ones as they complete.
    fn each(&mut self, procs: Vec<usize>, start: bool, wait: bool) -> Reply {
        let mut results = Vec::new();
        let mut pending = Vec::new();
        for proc in procs {
            let state = self.slots[proc].proc.state();
            let wanted = if start {
                !state.is_running()
            } else {
                state.is_running()
            };
            if !wanted {
                continue;
            }
            let name = self.namespec_of(proc);
            let outcome = if start {
                self.start_one(proc, &name, wait)
            } else {
                self.stop_one(proc, &name, wait)
            };
            match outcome {
                Err(f) => results.push(self.result_struct(proc, f.code, &f.string)),
                Ok(Reply::Later(d)) => pending.push((proc, d)),
                Ok(Reply::Done(_)) => results.push(self.result_struct(proc, faults::SUCCESS, "OK")),
            }
        }
        let mut d = Deferred::Each { pending, results };
        match self.poll_deferred(&mut d) {
            Some(r) => Reply::Done(r),
            None => Reply::Later(d),
        }
    }

    fn start_each(&mut self, procs: Vec<usize>, wait: bool) -> Reply {
        self.each(procs, true, wait)
    }

    fn stop_each(&mut self, procs: Vec<usize>, wait: bool) -> Reply {
        self.each(procs, false, wait)
    }

    fn result_struct(&self, proc: usize, status: i32, description: &str) -> Value {
        let slot = &self.slots[proc];
        status_struct(
            &slot.cfg.name,
            &self.groups[slot.group].config.name,
            status,
            description,
        )
    }

    fn signal_process(&mut self, name: &str, signal: String) -> Result<Reply, Fault> {
        let (g, proc) = self.lookup(name)?;
        let Some(proc) = proc else {
            let procs = self.group_by_priority(g);
            return Ok(done(self.signal_each(procs, &signal)));
        };
        let sig = values::signal_number(&signal).map_err(|_| fault(faults::BAD_SIGNAL, &signal))?;
        let slot = &self.slots[proc];
        if !slot.proc.state().is_signallable() {
            return Err(fault(faults::NOT_RUNNING, name));
        }
        super::emit(
            level::DEBG,
            &format!(
                "sending {} (pid {}) sig {}",
                slot.cfg.name,
                slot.proc.pid,
                values::signal_name(sig)
            ),
        );
        match crate::sys::kill(slot.proc.pid, sig) {
            Ok(()) => Ok(done(true)),
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => Ok(done(true)),
            Err(e) => Err(fault(faults::FAILED, e)),
        }
    }

    fn signal_each(&mut self, procs: Vec<usize>, signal: &str) -> Value {
        let mut results = Vec::new();
        for proc in procs {
            if !self.slots[proc].proc.state().is_signallable() {
                continue;
            }
            let name = self.namespec_of(proc);
            let r = match self.signal_process(&name, signal.to_string()) {
                Ok(_) => self.result_struct(proc, faults::SUCCESS, "OK"),
                Err(f) => self.result_struct(proc, f.code, &f.string),
            };
            results.push(r);
        }
        Value::Array(results)
    }

    /// Re-checks a deferred reply: Some(result) when it is done.
    pub(super) fn poll_deferred(&mut self, d: &mut Deferred) -> Option<Result<Value, Fault>> {
        match d {
            Deferred::Start { proc, name } => {
                let p = &self.slots[*proc].proc;
                if p.spawnerr.is_some() {
                    return Some(Err(fault(faults::SPAWN_ERROR, &*name)));
                }
                match p.state() {
                    ProcessState::Running => Some(Ok(Value::Bool(true))),
                    ProcessState::Starting => None,
                    _ => Some(Err(fault(faults::ABNORMAL_TERMINATION, &*name))),
                }
            }
            Deferred::Stop { proc } => self.slots[*proc]
                .proc
                .state()
                .is_stopped()
                .then_some(Ok(Value::Bool(true))),
            Deferred::Each { pending, results } => {
                let mut still = Vec::new();
                for (proc, mut inner) in std::mem::take(pending) {
                    match self.poll_deferred(&mut inner) {
                        None => still.push((proc, inner)),
                        Some(Ok(_)) => {
                            results.push(self.result_struct(proc, faults::SUCCESS, "OK"))
                        }
                        Some(Err(f)) => results.push(self.result_struct(proc, f.code, &f.string)),
                    }
                }
                *pending = still;
                pending
                    .is_empty()
                    .then(|| Ok(Value::Array(std::mem::take(results))))
            }
            Deferred::Multi {
                remaining,
                current,
                results,
            } => {
                if let Some(inner) = current {
                    match self.poll_deferred(inner) {
                        None => return None,
                        Some(r) => {
                            results.push(r.unwrap_or_else(|f| f.to_value()));
                            *current = None;
                        }
                    }
                }
                while let Some(call) = remaining.pop_front() {
                    let name = call
                        .get("methodName")
                        .and_then(Value::as_str)
                        .map(str::to_string);
                    let params = call
                        .get("params")
                        .and_then(Value::as_array)
                        .map(<[Value]>::to_vec)
                        .unwrap_or_default();
                    let reply = match name.as_deref() {
                        None => failed(fault(faults::INCORRECT_PARAMETERS, "No methodName")),
                        Some("system.multicall") => failed(fault(
                            faults::INCORRECT_PARAMETERS,
                            "Recursive system.multicall forbidden",
                        )),
                        Some(m) => self.rpc(m, &params),
                    };
                    match reply {
                        Reply::Done(r) => results.push(r.unwrap_or_else(|f| f.to_value())),
                        Reply::Later(inner) => {
                            *current = Some(Box::new(inner));
                            return None;
                        }
                    }
                }
                Some(Ok(Value::Array(std::mem::take(results))))
            }
        }
    }

    /// The path of a process's log for a channel (None when it has none);
    /// BAD_NAME for unknown processes.
    fn log_path(&self, name: &str, channel: &str) -> Result<Option<String>, Fault> {
        let (_, proc) = self.lookup(name)?;
        let proc = proc.ok_or_else(|| fault(faults::BAD_NAME, name))?;
        let cfg = &self.slots[proc].cfg;
        let log = if channel == "stderr" {
            &cfg.stderr.logfile
        } else {
            &cfg.stdout.logfile
        };
        Ok(match log {
            LogFile::Path(p) => Some(p.clone()),
            LogFile::None | LogFile::Auto | LogFile::Syslog => None,
        })
    }

    /// getProcessInfo's struct, written straight as XML (a reply of every
    /// process is large: no tree of values first); `now` is the wall clock,
    /// read once per call.
    fn write_process_info(&self, out: &mut XmlOut, proc: usize, now: i32) {
        let slot = &self.slots[proc];
        let p = &slot.proc;
        let start = api::capped_int(p.laststart_wall);
        let stop = api::capped_int(p.laststop_wall);
        let state = p.state();
        let spawnerr = p.spawnerr.as_deref().unwrap_or("");
        let stdout_logfile = shown_logfile(&slot.cfg.stdout.logfile);
        let description = api::describe(state, p.pid, start, stop, now, spawnerr, &slot.cfg.name);
        out.begin_struct();
        out.member_str("name", &slot.cfg.name);
        out.member_str("group", &self.groups[slot.group].config.name);
        out.member_int("start", start);
        out.member_int("stop", stop);
        out.member_int("now", now);
        out.member_int("state", state.code());
        out.member_str("statename", state.name());
        out.member_str("spawnerr", spawnerr);
        out.member_int("exitstatus", p.exitstatus.unwrap_or(0));
        out.member_str("logfile", stdout_logfile);
        out.member_str("stdout_logfile", stdout_logfile);
        out.member_str("stderr_logfile", shown_logfile(&slot.cfg.stderr.logfile));
        out.member_int("pid", p.pid);
        out.member_str("description", &description);
        out.end_struct();
    }

    fn all_config_info(&self) -> Value {
        let mut infos = Vec::new();
        for group in &self.config.groups {
            let inuse = self.group_index(&group.name).is_some();
            for p in &group.processes {
                let logfile = |l: &LogFile| match l {
                    LogFile::Path(p) => Value::from(p.as_str()),
                    LogFile::Auto => Value::from("auto"),
                    LogFile::None | LogFile::Syslog => Value::from("none"),
                };
                let opt = |s: &Option<String>| {
                    Value::from(s.clone().unwrap_or_else(|| "none".to_string()))
                };
                let int = |n: i64| Value::Int(i32::try_from(n).unwrap_or(i32::MAX));
                infos.push((
                    p.name.clone(),
                    Value::structure([
                        ("autostart", Value::Bool(p.autostart)),
                        ("directory", opt(&p.directory)),
                        (
                            "uid",
                            p.uid
                                .map(|u| Value::Int(u as i32))
                                .unwrap_or_else(|| Value::from("none")),
                        ),
                        ("command", Value::from(p.command.as_str())),
                        (
                            "exitcodes",
                            Value::Array(p.exitcodes.iter().map(|&c| Value::Int(c)).collect()),
                        ),
                        ("group", Value::from(group.name.as_str())),
                        ("group_prio", int(group.priority)),
                        ("inuse", Value::Bool(inuse)),
                        ("killasgroup", Value::Bool(p.killasgroup)),
                        ("name", Value::from(p.name.as_str())),
                        ("process_prio", int(p.priority)),
                        ("redirect_stderr", Value::Bool(p.redirect_stderr)),
                        ("startretries", int(p.startretries)),
                        ("startsecs", int(p.startsecs)),
                        ("stdout_capture_maxbytes", int(p.stdout.capture_maxbytes)),
                        (
                            "stdout_events_enabled",
                            Value::Bool(p.stdout.events_enabled),
                        ),
                        ("stdout_logfile", logfile(&p.stdout.logfile)),
                        ("stdout_logfile_backups", int(p.stdout.backups)),
                        ("stdout_logfile_maxbytes", int(p.stdout.maxbytes)),
                        ("stdout_syslog", Value::Bool(p.stdout.syslog)),
                        ("stopsignal", Value::Int(p.stopsignal)),
                        ("stopwaitsecs", int(p.stopwaitsecs)),
                        ("stderr_capture_maxbytes", int(p.stderr.capture_maxbytes)),
                        (
                            "stderr_events_enabled",
                            Value::Bool(p.stderr.events_enabled),
                        ),
                        ("stderr_logfile", logfile(&p.stderr.logfile)),
                        ("stderr_logfile_backups", int(p.stderr.backups)),
                        ("stderr_logfile_maxbytes", int(p.stderr.maxbytes)),
                        ("stderr_syslog", Value::Bool(p.stderr.syslog)),
                        ("serverurl", opt(&p.serverurl)),
                    ]),
                ));
            }
        }
        infos.sort_by(|a, b| a.0.cmp(&b.0));
        Value::Array(infos.into_iter().map(|(_, v)| v).collect())
    }

    fn clear_main_log(&mut self) -> Result<Value, Fault> {
        match crate::runtime::mainlog::clear() {
            Ok(()) => Ok(Value::Bool(true)),
            Err(ReadError::NoFile) => Err(Fault::bare(faults::NO_FILE)),
            Err(_) => Err(Fault::bare(faults::FAILED)),
        }
    }

    fn clear_process_logs(&mut self, proc: usize) -> std::io::Result<()> {
        let slot = &mut self.slots[proc];
        slot.stdout.log.clear()?;
        slot.stderr.log.clear()
    }

    fn send_stdin(&mut self, name: &str, data: &[u8]) -> Result<Reply, Fault> {
        let (_, proc) = self.lookup(name)?;
        let proc = proc.ok_or_else(|| fault(faults::BAD_NAME, name))?;
        let slot = &self.slots[proc];
        if slot.proc.pid == 0 || slot.proc.state() == ProcessState::Stopping {
            return Err(fault(faults::NOT_RUNNING, name));
        }
        if slot.pipes.is_none() {
            return Err(fault(faults::NOT_RUNNING, name));
        }
        match self.write_stdin(proc, data) {
            Ok(()) => {}
            Err(e)
                if e.raw_os_error() == Some(libc::EPIPE)
                    || e.kind() == std::io::ErrorKind::BrokenPipe =>
            {
                return Err(fault(faults::NO_FILE, name))
            }
            Err(e) => return Err(fault(faults::FAILED, e)),
        }
        Ok(done(true))
    }

    /// `reloadConfig`: re-read the file and compare with what runs.
    fn reload_config(&mut self) -> Result<Value, Fault> {
        let (added, changed, removed) = self.diff_config()?;
        let names = |v: Vec<String>| Value::Array(v.into_iter().map(Value::from).collect());
        Ok(Value::Array(vec![Value::Array(vec![
            names(added),
            names(changed),
            names(removed),
        ])]))
    }

    fn add_process_group(&mut self, name: &str) -> Result<Value, Fault> {
        let config = self
            .config
            .groups
            .iter()
            .find(|g| g.name == name)
            .cloned()
            .ok_or_else(|| fault(faults::BAD_NAME, name))?;
        if self.group_index(name).is_some() {
            return Err(fault(faults::ALREADY_ADDED, name));
        }
        let first = self.slots.len();
        self.add_group(config);
        for proc in first..self.slots.len() {
            self.feed(proc, Input::Tick);
        }
        Ok(Value::Bool(true))
    }

    fn remove_process_group(&mut self, name: &str) -> Result<Value, Fault> {
        let g = self
            .group_index(name)
            .ok_or_else(|| fault(faults::BAD_NAME, name))?;
        if !self.unstopped(g).is_empty() {
            return Err(fault(faults::STILL_RUNNING, name));
        }
        self.remove_group(g);
        Ok(Value::Bool(true))
    }
}

/// The signal argument of signalProcess*: a name, or a number sent as an
/// int or a string.
fn signal_param(params: &[Value], i: usize) -> Result<String, Fault> {
    match params.get(i) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Int(n)) => Ok(n.to_string()),
        _ => Err(Fault::bare(faults::INCORRECT_PARAMETERS)),
    }
}
