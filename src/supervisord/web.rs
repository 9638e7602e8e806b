//! The web interface on the daemon's state: the status page, its actions
//! (done through the same RPC methods, waiting for them like a `wait=true`
//! call, then redirecting to the page with the reference's message), and
//! the tail page.

use mio::Token;

use super::api::Reply;
use super::event_loop::Daemon;
use crate::rpc::api::{describe, make_namespec};
use crate::rpc::http::{self as wire, Request};
use crate::rpc::web::{self, Action, Row};
use crate::rpc::xmlrpc::{faults, Fault, Value};

/// What a finished web action reports.
pub(super) enum WebDone {
    Start(String),
    Stop(String),
    Restart(String),
    ClearLog(String),
    StopAll,
    RestartAll,
}

/// `time.ctime()`: `Mon Nov 23 23:55:01 2026`.
fn ctime() -> String {
    crate::sys::strftime_local("%a %b %e %H:%M:%S %Y", super::event_loop::now().wall as i64)
}

fn rpc_fault(f: &Fault) -> String {
    format!("unexpected rpc fault [{}] {}", f.code, f.string)
}

impl WebDone {
    /// The message shown on the status page, as the reference words it.
    pub(super) fn message(&self, result: Result<Value, Fault>) -> String {
        match (self, result) {
            (WebDone::Start(n), Ok(_)) => format!("Process {n} started"),
            (WebDone::Start(n), Err(f)) => {
                let why = match f.code {
                    faults::NO_FILE => "no such file".to_string(),
                    faults::NOT_EXECUTABLE => "file not executable".to_string(),
                    faults::ALREADY_STARTED => "already started".to_string(),
                    faults::SPAWN_ERROR => "spawn error".to_string(),
                    faults::ABNORMAL_TERMINATION => "abnormal termination".to_string(),
                    _ => rpc_fault(&f),
                };
                format!("ERROR: Process {n}: {why}")
            }
            (WebDone::Stop(n), Ok(_)) => format!("Process {n} stopped"),
            (WebDone::Restart(n), _) => format!("Process {n} restarted"),
            (WebDone::ClearLog(n), Ok(_)) => format!("Log for {n} cleared"),
            (WebDone::StopAll, _) => format!("All stopped at {}", ctime()),
            (WebDone::RestartAll, _) => format!("All restarted at {}", ctime()),
            (WebDone::Stop(_) | WebDone::ClearLog(_), Err(f)) => rpc_fault(&f),
        }
    }
}

fn call(method: &str, params: &[&str]) -> Value {
    Value::structure([
        ("methodName", Value::from(method)),
        (
            "params",
            Value::Array(params.iter().map(|p| Value::from(*p)).collect()),
        ),
    ])
}

impl Daemon {
    fn rows(&self) -> Vec<Row> {
        let now = crate::rpc::api::capped_int(super::event_loop::now().wall);
        let mut rows: Vec<Row> = self
            .groups
            .iter()
            .flat_map(|g| {
                g.procs.iter().map(move |&p| {
                    let slot = &self.slots[p];
                    let pr = &slot.proc;
                    let start = crate::rpc::api::capped_int(pr.laststart_wall);
                    let stop = crate::rpc::api::capped_int(pr.laststop_wall);
                    let spawnerr = pr.spawnerr.clone().unwrap_or_default();
                    Row {
                        namespec: make_namespec(&g.config.name, &slot.cfg.name),
                        state: pr.state(),
                        description: describe(
                            pr.state(),
                            pr.pid,
                            start,
                            stop,
                            now,
                            &spawnerr,
                            &slot.cfg.name,
                        ),
                    }
                })
            })
            .collect();
        rows.sort_by(|a, b| a.namespec.cmp(&b.namespec));
        rows
    }

    /// `GET /` and `/index.html`, with or without an action.
    pub(super) fn web_index(&mut self, token: Token, request: &Request, keep_alive: bool) {
        let query = request.query();
        let Some(action) = Action::from_query(&query) else {
            let message = query
                .iter()
                .rev()
                .find(|(k, _)| k == "message")
                .map(|(_, v)| v.clone());
            let html = web::index(
                &self.rows(),
                message.as_deref(),
                &self.config.settings.identifier,
            );
            self.respond(token, html_response(&html, keep_alive), keep_alive);
            return;
        };
        if let Action::Refresh = action {
            self.web_redirect(token, &format!("Page refreshed at {}", ctime()), keep_alive);
            return;
        }
        let (reply, done) = match action {
            Action::Refresh => return,
            Action::StopAll => (
                self.rpc("supervisor.stopAllProcesses", &[]),
                WebDone::StopAll,
            ),
            Action::RestartAll => (
                self.rpc(
                    "system.multicall",
                    &[Value::Array(vec![
                        call("supervisor.stopAllProcesses", &[]),
                        call("supervisor.startAllProcesses", &[]),
                    ])],
                ),
                WebDone::RestartAll,
            ),
            Action::Start(n) | Action::Stop(n) | Action::Restart(n) | Action::ClearLog(n)
                if self.find_process(&n).is_none() =>
            {
                self.web_redirect(token, &format!("No such process named {n}"), keep_alive);
                return;
            }
            Action::Start(n) => (
                self.rpc("supervisor.startProcess", &[Value::from(n.as_str())]),
                WebDone::Start(n),
            ),
            Action::Stop(n) => (
                self.rpc("supervisor.stopProcess", &[Value::from(n.as_str())]),
                WebDone::Stop(n),
            ),
            Action::Restart(n) => (
                self.rpc(
                    "system.multicall",
                    &[Value::Array(vec![
                        call("supervisor.stopProcess", &[n.as_str()]),
                        call("supervisor.startProcess", &[n.as_str()]),
                    ])],
                ),
                WebDone::Restart(n),
            ),
            Action::ClearLog(n) => (
                self.rpc("supervisor.clearProcessLogs", &[Value::from(n.as_str())]),
                WebDone::ClearLog(n),
            ),
        };
        match reply {
            Reply::Done(result) => {
                let message = done.message(result);
                self.web_redirect(token, &message, keep_alive);
            }
            Reply::Later(deferred) => self.wait_web(token, deferred, done, keep_alive),
        }
    }

    /// Answers an action with a redirect to the status page and its message.
    pub(super) fn web_redirect(&mut self, token: Token, message: &str, keep_alive: bool) {
        let location = format!("index.html?message={}", web::url_encode(message));
        let body = format!(
            "<a href=\"{}\">{}</a>\n",
            web::escape(&location),
            web::escape(message)
        );
        let bytes = wire::response(
            303,
            "text/html;charset=utf-8",
            body.as_bytes(),
            keep_alive,
            &[("Location", &location), ("Cache-Control", "no-cache")],
        );
        self.respond(token, bytes, keep_alive);
    }

    /// `GET /tail.html?processname=x[&limit=N]`.
    pub(super) fn web_tail(&mut self, token: Token, request: &Request, keep_alive: bool) {
        let query = request.query();
        let get = |k: &str| {
            query
                .iter()
                .rev()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        };
        let name = get("processname").filter(|n| !n.is_empty());
        let limit: u64 = get("limit")
            .and_then(|l| l.parse::<u64>().ok())
            .unwrap_or(1024)
            .max(1024);
        let text = match &name {
            None => "No process name found".to_string(),
            Some(n) => {
                let offset = -i64::try_from(limit).unwrap_or(1024);
                match self.rpc(
                    "supervisor.readProcessStdoutLog",
                    &[
                        Value::from(n.as_str()),
                        Value::Int(offset as i32),
                        Value::Int(0),
                    ],
                ) {
                    Reply::Done(Ok(v)) => v.as_str().unwrap_or("").to_string(),
                    Reply::Done(Err(f)) if f.code == faults::NO_FILE => format!("No file for {n}"),
                    Reply::Done(Err(f)) => {
                        format!("ERROR: unexpected rpc fault [{}] {}", f.code, f.string)
                    }
                    Reply::Later(_) => String::new(),
                }
            }
        };
        let html = web::tail(
            name.as_deref(),
            limit,
            &text,
            &self.config.settings.identifier,
        );
        self.respond(token, html_response(&html, keep_alive), keep_alive);
    }
}

fn html_response(html: &str, keep_alive: bool) -> Vec<u8> {
    wire::response(
        200,
        "text/html;charset=utf-8",
        html.as_bytes(),
        keep_alive,
        &[("Cache-Control", "no-cache"), ("Pragma", "no-cache")],
    )
}
