//! The resolved configuration as JSON, for `supervisord --dump-config` and
//! the differential test against the reference (tests/interop/DUMP_SCHEMA.md).

use serde_json::{json, Map, Value};

use super::values::{split_command, LogFile};
use super::*;

fn env_object(pairs: &[(String, String)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect::<Map<_, _>>(),
    )
}

fn logfile(l: &LogFile) -> Value {
    match l {
        LogFile::None | LogFile::Syslog => Value::Null,
        LogFile::Auto => json!("AUTO"),
        LogFile::Path(p) => json!(p),
    }
}

fn process(p: &ProcessConfig) -> Value {
    let mut m = Map::new();
    for (ch, c) in [("stdout", &p.stdout), ("stderr", &p.stderr)] {
        m.insert(format!("{ch}_logfile"), logfile(&c.logfile));
        m.insert(format!("{ch}_capture_maxbytes"), json!(c.capture_maxbytes));
        m.insert(format!("{ch}_events_enabled"), json!(c.events_enabled));
        m.insert(format!("{ch}_syslog"), json!(c.syslog));
        m.insert(format!("{ch}_logfile_backups"), json!(c.backups));
        m.insert(format!("{ch}_logfile_maxbytes"), json!(c.maxbytes));
    }
    let rest = json!({
        "name": p.name,
        "command": p.command,
        "argv": split_command(&p.command).ok(),
        "directory": p.directory,
        "umask": p.umask,
        "priority": p.priority,
        "autostart": p.autostart,
        "autorestart": p.autorestart.as_str(),
        "startsecs": p.startsecs,
        "startretries": p.startretries,
        "uid": p.uid,
        "stopsignal": p.stopsignal,
        "stopwaitsecs": p.stopwaitsecs,
        "stopasgroup": p.stopasgroup,
        "killasgroup": p.killasgroup,
        "exitcodes": p.exitcodes,
        "redirect_stderr": p.redirect_stderr,
        "environment": env_object(&p.environment),
        "serverurl": p.serverurl,
    });
    if let Value::Object(r) = rest {
        m.extend(r);
    }
    Value::Object(m)
}

fn group(g: &GroupConfig) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(g.name));
    m.insert("priority".into(), json!(g.priority));
    m.insert(
        "processes".into(),
        Value::Array(g.processes.iter().map(|p| process(p)).collect()),
    );
    match &g.kind {
        GroupKind::Program => {
            m.insert("type".into(), json!("program"));
        }
        GroupKind::EventListener {
            buffer_size,
            events,
            result_handler,
        } => {
            m.insert("type".into(), json!("eventlistener"));
            m.insert("buffer_size".into(), json!(buffer_size));
            m.insert("events".into(), json!(events));
            m.insert("result_handler".into(), json!(result_handler));
        }
        GroupKind::FastCgi { socket } => {
            m.insert("type".into(), json!("fcgi"));
            m.insert("socket".into(), json!(socket.endpoint.url()));
            m.insert("socket_backlog".into(), json!(socket.backlog));
            let (owner, mode) = match &socket.endpoint {
                SocketEndpoint::Unix { owner, mode, .. } => {
                    (owner.map(|(u, g)| json!([u, g])), Some(*mode))
                }
                SocketEndpoint::Tcp { .. } => (None, None),
            };
            m.insert("socket_owner".into(), owner.unwrap_or(Value::Null));
            m.insert("socket_mode".into(), json!(mode));
        }
    }
    Value::Object(m)
}

fn server(s: &HttpServerConfig) -> Value {
    let mut v = json!({
        "name": s.name,
        "section": s.section,
        "username": s.username,
        "password": s.password,
    });
    let extra = match &s.listen {
        Listen::Inet { host, port } => json!({"family": "inet", "host": host, "port": port}),
        Listen::Unix { file, chmod, chown } => json!({
            "family": "unix", "file": file, "chmod": chmod, "chown": [chown.0, chown.1],
        }),
    };
    if let (Value::Object(m), Value::Object(e)) = (&mut v, extra) {
        m.extend(e);
    }
    v
}

/// The whole object of DUMP_SCHEMA.md.
pub fn to_json(config: &ServerConfig, ctl: Option<&CtlConfig>) -> Value {
    let s = &config.settings;
    json!({
        "supervisord": {
            "logfile": s.logfile,
            "logfile_maxbytes": s.logfile_maxbytes,
            "logfile_backups": s.logfile_backups,
            "loglevel": s.loglevel,
            "pidfile": s.pidfile,
            "umask": s.umask,
            "nodaemon": s.nodaemon,
            "silent": s.silent,
            "minfds": s.minfds,
            "minprocs": s.minprocs,
            "nocleanup": s.nocleanup,
            "strip_ansi": s.strip_ansi,
            "childlogdir": s.childlogdir,
            "identifier": s.identifier,
            "directory": s.directory,
            "user": s.user,
            "uid": s.uid,
            "environment": env_object(&s.environment),
        },
        "serverurl": config.serverurl,
        "server_configs": config.servers.iter().map(server).collect::<Vec<_>>(),
        "rpcinterfaces": config.rpcinterfaces.iter()
            .map(|r| json!({"name": r.name, "factory": r.factory}))
            .collect::<Vec<_>>(),
        "groups": config.groups.iter().map(group).collect::<Vec<_>>(),
        "supervisorctl": ctl.map(|c| json!({
            "serverurl": c.serverurl,
            "prompt": c.prompt,
            "username": c.username,
            "password": c.password,
            "history_file": c.history_file,
        })),
    })
}
