//! Reading the daemon's replies into the few shapes the commands use. A
//! reply of another shape is an error (the reference would fail with a
//! `KeyError` or `TypeError`), never a panic.

use crate::rpc::xmlrpc::Value;

use super::error::CallError;

fn bad(what: &str) -> CallError {
    CallError::BadReply(format!("unexpected reply from supervisord: {what}"))
}

pub fn member<'a>(v: &'a Value, name: &str) -> Result<&'a Value, CallError> {
    v.get(name).ok_or_else(|| bad(&format!("no {name:?}")))
}

pub fn text(v: &Value, name: &str) -> Result<String, CallError> {
    match member(v, name)? {
        Value::String(s) => Ok(s.clone()),
        other => Ok(python_str(other)),
    }
}

pub fn int(v: &Value, name: &str) -> Result<i32, CallError> {
    member(v, name)?
        .as_int()
        .ok_or_else(|| bad(&format!("{name:?} is not an integer")))
}

pub fn flag(v: &Value, name: &str) -> Result<bool, CallError> {
    Ok(python_truth(member(v, name)?))
}

pub fn array(v: &Value) -> Result<&[Value], CallError> {
    v.as_array().ok_or_else(|| bad("not an array"))
}

pub fn strings(v: &Value) -> Result<Vec<String>, CallError> {
    array(v)?
        .iter()
        .map(|s| {
            s.as_str()
                .map(str::to_string)
                .ok_or_else(|| bad("not a name"))
        })
        .collect()
}

/// Python's `str()` of a reply value, for values printed as they come
/// (a pid, a version, a log text).
pub fn python_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Double(d) => format!("{d:?}"),
        Value::Nil => "None".into(),
        Value::DateTime(s) => s.clone(),
        Value::Base64(b) => String::from_utf8_lossy(b).into_owned(),
        Value::Array(_) | Value::Struct(_) | Value::Xml(_) => format!("{v:?}"),
    }
}

/// Python's truth test of a reply value.
pub fn python_truth(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Int(i) => *i != 0,
        Value::String(s) => !s.is_empty(),
        Value::Double(d) => *d != 0.0,
        Value::Nil => false,
        Value::Array(a) => !a.is_empty(),
        Value::Struct(s) => !s.is_empty(),
        Value::DateTime(_) | Value::Base64(_) | Value::Xml(_) => true,
    }
}

/// One entry of `getAllProcessInfo` / `getProcessInfo`.
#[derive(Debug, Clone)]
pub struct ProcessInfo {
    pub group: String,
    pub name: String,
    pub statename: String,
    pub state: i32,
    pub description: String,
}

impl ProcessInfo {
    pub fn from_value(v: &Value) -> Result<ProcessInfo, CallError> {
        Ok(ProcessInfo {
            group: text(v, "group")?,
            name: text(v, "name")?,
            statename: text(v, "statename")?,
            state: int(v, "state")?,
            description: text(v, "description")?,
        })
    }

    pub fn list(v: &Value) -> Result<Vec<ProcessInfo>, CallError> {
        array(v)?.iter().map(ProcessInfo::from_value).collect()
    }
}

/// One result of a call on several processes (`startAllProcesses`,
/// `stopProcessGroup`, ...), or a fault on one process put in that shape.
#[derive(Debug, Clone)]
pub struct ProcessResult {
    pub group: String,
    pub name: Option<String>,
    pub status: i32,
    pub description: String,
}

impl ProcessResult {
    pub fn from_value(v: &Value) -> Result<ProcessResult, CallError> {
        Ok(ProcessResult {
            group: text(v, "group")?,
            name: Some(text(v, "name")?),
            status: int(v, "status")?,
            description: text(v, "description")?,
        })
    }

    pub fn list(v: &Value) -> Result<Vec<ProcessResult>, CallError> {
        array(v)?.iter().map(ProcessResult::from_value).collect()
    }
}

/// One entry of `getAllConfigInfo`, the fields `avail` shows.
#[derive(Debug, Clone)]
pub struct ConfigInfo {
    pub group: String,
    pub name: String,
    pub inuse: bool,
    pub autostart: bool,
    pub group_prio: String,
    pub process_prio: String,
}

impl ConfigInfo {
    pub fn from_value(v: &Value) -> Result<ConfigInfo, CallError> {
        Ok(ConfigInfo {
            group: text(v, "group")?,
            name: text(v, "name")?,
            inuse: flag(v, "inuse")?,
            autostart: flag(v, "autostart")?,
            group_prio: text(v, "group_prio")?,
            process_prio: text(v, "process_prio")?,
        })
    }
}

/// `reloadConfig`'s `[[added, changed, removed]]`.
pub struct Changes {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
}

impl Changes {
    pub fn from_value(v: &Value) -> Result<Changes, CallError> {
        let first = array(v)?.first().ok_or_else(|| bad("no changes"))?;
        match array(first)? {
            [added, changed, removed] => Ok(Changes {
                added: strings(added)?,
                changed: strings(changed)?,
                removed: strings(removed)?,
            }),
            _ => Err(bad("not [added, changed, removed]")),
        }
    }
}
