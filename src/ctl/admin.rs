//! Commands on supervisord itself and its configuration: avail, reread,
//! update, add, remove, reload, shutdown, version, open.

use std::collections::BTreeMap;

use crate::rpc::xmlrpc::faults;

use super::controller::{exit, Ctl, Flow, Outcome};
use super::error::CallError;
use super::format::avail_line;
use super::help;
use super::reply::{self, Changes, ConfigInfo, ProcessInfo, ProcessResult};

const DONE: Outcome = Ok(Flow::Continue);

/// For the commands that take no arguments: the error, help and status 1.
fn refuse_arguments(ctl: &mut Ctl, command: &str) -> Outcome {
    ctl.say(&format!("Error: {command} accepts no arguments"));
    ctl.exit_status = exit::GENERIC;
    help::show(ctl, command);
    DONE
}

pub fn avail(ctl: &mut Ctl, arg: &str) -> Outcome {
    if !arg.is_empty() {
        return refuse_arguments(ctl, "avail");
    }
    match ctl.call("supervisor.getAllConfigInfo", &[]) {
        Ok(infos) => {
            for info in reply::array(&infos)? {
                ctl.say(&avail_line(&ConfigInfo::from_value(info)?));
            }
            DONE
        }
        Err(e) => {
            ctl.exit_status = exit::GENERIC;
            if e.fault_code() != Some(faults::SHUTDOWN_STATE) {
                return Err(e.into());
            }
            ctl.say("ERROR: supervisor shutting down");
            DONE
        }
    }
}

pub fn reread(ctl: &mut Ctl, arg: &str) -> Outcome {
    if !arg.is_empty() {
        return refuse_arguments(ctl, "reread");
    }
    match ctl.call("supervisor.reloadConfig", &[]) {
        Ok(result) => {
            show_changes(ctl, &Changes::from_value(&result)?);
            DONE
        }
        Err(CallError::Fault(f)) if f.code == faults::SHUTDOWN_STATE => {
            ctl.exit_status = exit::GENERIC;
            ctl.say("ERROR: supervisor shutting down");
            DONE
        }
        Err(CallError::Fault(f)) if f.code == faults::CANT_REREAD => {
            ctl.exit_status = exit::GENERIC;
            ctl.say(&format!("ERROR: {}", f.string));
            DONE
        }
        Err(e) => {
            ctl.exit_status = exit::GENERIC;
            Err(e.into())
        }
    }
}

/// `name: available|changed|disappeared`, sorted by name.
fn show_changes(ctl: &Ctl, changes: &Changes) {
    let mut by_name: BTreeMap<&str, &str> = BTreeMap::new();
    for (names, what) in [
        (&changes.added, "available"),
        (&changes.changed, "changed"),
        (&changes.removed, "disappeared"),
    ] {
        for name in names {
            by_name.insert(name, what);
        }
    }
    if by_name.is_empty() {
        ctl.say("No config updates to processes");
    }
    for (name, what) in by_name {
        ctl.say(&format!("{name}: {what}"));
    }
}

pub fn add(ctl: &mut Ctl, arg: &str) -> Outcome {
    for name in arg.split_whitespace() {
        match ctl.call("supervisor.addProcessGroup", &[name.into()]) {
            Ok(_) => ctl.say(&format!("{name}: added process group")),
            Err(e) => match e.fault_code() {
                Some(faults::SHUTDOWN_STATE) => {
                    ctl.say("ERROR: shutting down");
                    ctl.exit_status = exit::GENERIC;
                }
                Some(faults::ALREADY_ADDED) => ctl.say("ERROR: process group already active"),
                Some(faults::BAD_NAME) => {
                    ctl.say(&format!("ERROR: no such process/group: {name}"));
                    ctl.exit_status = exit::GENERIC;
                }
                _ => {
                    ctl.exit_status = exit::GENERIC;
                    return Err(e.into());
                }
            },
        }
    }
    DONE
}

pub fn remove(ctl: &mut Ctl, arg: &str) -> Outcome {
    for name in arg.split_whitespace() {
        match ctl.call("supervisor.removeProcessGroup", &[name.into()]) {
            Ok(_) => ctl.say(&format!("{name}: removed process group")),
            Err(e) => {
                ctl.exit_status = exit::GENERIC;
                match e.fault_code() {
                    Some(faults::STILL_RUNNING) => {
                        ctl.say(&format!("ERROR: process/group still running: {name}"))
                    }
                    Some(faults::BAD_NAME) => {
                        ctl.say(&format!("ERROR: no such process/group: {name}"))
                    }
                    _ => return Err(e.into()),
                }
            }
        }
    }
    DONE
}

pub fn update(ctl: &mut Ctl, arg: &str) -> Outcome {
    let changes = match ctl.call("supervisor.reloadConfig", &[]) {
        Ok(result) => Changes::from_value(&result)?,
        Err(e) => {
            ctl.exit_status = exit::GENERIC;
            if e.fault_code() != Some(faults::SHUTDOWN_STATE) {
                return Err(e.into());
            }
            ctl.say("ERROR: already shutting down");
            return DONE;
        }
    };
    let mut wanted: Vec<&str> = Vec::new();
    for name in arg.split_whitespace() {
        if !wanted.contains(&name) {
            wanted.push(name);
        }
    }
    // "all" means the same as no names.
    if wanted.contains(&"all") {
        wanted.clear();
    }
    if !wanted.is_empty() {
        check_groups_exist(ctl, &wanted, &changes.added)?;
    }
    let concerned = |g: &str| wanted.is_empty() || wanted.contains(&g);
    for group in changes.removed.iter().filter(|g| concerned(g)) {
        remove_group(ctl, group)?;
    }
    for group in changes.changed.iter().filter(|g| concerned(g)) {
        ctl.call("supervisor.stopProcessGroup", &[group.as_str().into()])?;
        ctl.say(&format!("{group}: stopped"));
        ctl.call("supervisor.removeProcessGroup", &[group.as_str().into()])?;
        ctl.call("supervisor.addProcessGroup", &[group.as_str().into()])?;
        ctl.say(&format!("{group}: updated process group"));
    }
    for group in changes.added.iter().filter(|g| concerned(g)) {
        ctl.call("supervisor.addProcessGroup", &[group.as_str().into()])?;
        ctl.say(&format!("{group}: added process group"));
    }
    DONE
}

/// `update`'s error for each named group that neither runs nor was added.
fn check_groups_exist(ctl: &mut Ctl, wanted: &[&str], added: &[String]) -> Result<(), CallError> {
    let infos = ProcessInfo::list(&ctl.call("supervisor.getAllProcessInfo", &[])?)?;
    for name in wanted {
        let known = infos.iter().any(|i| i.group == *name) || added.iter().any(|a| a == name);
        if !known {
            ctl.say(&format!("ERROR: no such group: {name}"));
            ctl.exit_status = exit::GENERIC;
        }
    }
    Ok(())
}

fn remove_group(ctl: &mut Ctl, group: &str) -> Result<(), CallError> {
    let results = ctl.call("supervisor.stopProcessGroup", &[group.into()])?;
    ctl.say(&format!("{group}: stopped"));
    let failed = ProcessResult::list(&results)?
        .iter()
        .any(|r| r.status == faults::FAILED);
    if failed {
        ctl.say(&format!("{group}: has problems; not removing"));
        ctl.exit_status = exit::GENERIC;
        return Ok(());
    }
    ctl.call("supervisor.removeProcessGroup", &[group.into()])?;
    ctl.say(&format!("{group}: removed process group"));
    Ok(())
}

/// In the shell, `shutdown` and `reload` ask first.
fn confirmed(ctl: &mut Ctl, question: &str) -> Result<bool, super::error::Raised> {
    if !ctl.interactive {
        return Ok(true);
    }
    let answer = ctl.ask(question)?;
    Ok(answer.to_lowercase().starts_with('y'))
}

pub fn shutdown(ctl: &mut Ctl, arg: &str) -> Outcome {
    if !arg.is_empty() {
        return refuse_arguments(ctl, "shutdown");
    }
    if !confirmed(ctl, "Really shut the remote supervisord process down y/N? ")? {
        return DONE;
    }
    let error = match ctl.call("supervisor.shutdown", &[]) {
        Ok(_) => {
            ctl.say("Shut down");
            return DONE;
        }
        Err(e) => e,
    };
    if error.fault_code() == Some(faults::SHUTDOWN_STATE) {
        ctl.say("ERROR: already shutting down");
        return DONE;
    }
    ctl.exit_status = exit::GENERIC;
    let url = ctl.server.url.clone();
    match error.errno() {
        Some(libc::ECONNREFUSED) => ctl.say(&format!(
            "ERROR: {url} refused connection (already shut down?)"
        )),
        Some(libc::ENOENT) => ctl.say(&format!("ERROR: {url} no such file (already shut down?)")),
        _ => return Err(error.into()),
    }
    DONE
}

pub fn reload(ctl: &mut Ctl, arg: &str) -> Outcome {
    if !arg.is_empty() {
        return refuse_arguments(ctl, "reload");
    }
    if !confirmed(ctl, "Really restart the remote supervisord process y/N? ")? {
        return DONE;
    }
    match ctl.call("supervisor.restart", &[]) {
        Ok(_) => ctl.say("Restarted supervisord"),
        Err(e) => {
            ctl.exit_status = exit::GENERIC;
            if e.fault_code() != Some(faults::SHUTDOWN_STATE) {
                return Err(e.into());
            }
            ctl.say("ERROR: already shutting down");
        }
    }
    DONE
}

pub fn version(ctl: &mut Ctl, arg: &str) -> Outcome {
    if !arg.is_empty() {
        return refuse_arguments(ctl, "version");
    }
    if !ctl.upcheck()? {
        return DONE;
    }
    let version = ctl.call("supervisor.getSupervisorVersion", &[])?;
    ctl.say(&reply::python_str(&version));
    DONE
}

/// `open URL`: talk to another supervisord from now on, and show its
/// status (without that status changing the exit status).
pub fn open(ctl: &mut Ctl, arg: &str) -> Outcome {
    let url = arg.trim();
    if !matches!(url_scheme(url).as_deref(), Some("unix" | "http")) {
        ctl.say("ERROR: url must be http:// or unix://");
        ctl.exit_status = exit::GENERIC;
        return DONE;
    }
    ctl.server.url = url.to_string();
    let before = ctl.exit_status;
    let shown = super::processes::status(ctl, "");
    ctl.exit_status = before;
    shown
}

/// The scheme of a URL as Python's `urlparse` finds it (lower-cased).
fn url_scheme(url: &str) -> Option<String> {
    let (scheme, _) = url.split_once(':')?;
    let mut chars = scheme.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    (first_ok && rest_ok).then(|| scheme.to_ascii_lowercase())
}
