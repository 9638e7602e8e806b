//! Stage two: typed, validated configuration from the INI sections, with
//! the reference's keys, defaults, order of evaluation and expansions.

use std::path::{Path, PathBuf};

use super::expand::{self, Expansions, Value};
use super::ini::{Ini, Origin};
use super::values::{self, LogFile};
use super::*;

type Result<T> = std::result::Result<T, ConfigError>;

/// The config file search path, relative to `argv0` as the reference does.
pub fn search_paths(argv0: &str) -> Vec<String> {
    let parent = |p: &str| -> String {
        match p.rfind('/') {
            Some(0) => "/".to_string(),
            Some(i) => p[..i].to_string(),
            None => String::new(),
        }
    };
    let here = parent(&parent(argv0));
    let join = |a: &str, b: &str| {
        if a.is_empty() {
            b.to_string()
        } else if a.ends_with('/') {
            format!("{a}{b}")
        } else {
            format!("{a}/{b}")
        }
    };
    vec![
        join(&here, "etc/supervisord.conf"),
        join(&here, "supervisord.conf"),
        "supervisord.conf".to_string(),
        "etc/supervisord.conf".to_string(),
        "/etc/supervisord.conf".to_string(),
        "/etc/supervisor/supervisord.conf".to_string(),
    ]
}

/// The first existing file of the search path, or an error naming them all.
pub fn find_config_file(argv0: &str) -> std::result::Result<PathBuf, String> {
    let paths = search_paths(argv0);
    paths
        .iter()
        .find(|p| Path::new(p).exists())
        .map(PathBuf::from)
        .ok_or_else(|| {
            format!(
                "No config file found at default paths ({}); use the -c option to specify a \
                 config file at a different path",
                paths.join(", ")
            )
        })
}

/// The `ENV_*` expansions of the daemon's own environment.
fn environ_expansions() -> Expansions {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .map(|(k, v)| (format!("ENV_{k}"), Value::Str(v)))
        .collect()
}

fn read_text(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| {
        let what = if path.exists() {
            "could not read"
        } else {
            "could not find"
        };
        ConfigError {
            file: Some(path.to_path_buf()),
            ..ConfigError::new(format!("{what} config file: {e}"))
        }
    })?;
    String::from_utf8(bytes).map_err(|e| ConfigError {
        file: Some(path.to_path_buf()),
        ..ConfigError::new(format!(
            "config file is not valid UTF-8 (byte {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

fn parse_ini(ini: &mut Ini, text: &str, path: &Path) -> Result<Vec<String>> {
    ini.read(text, path).map_err(|e| ConfigError {
        file: Some(e.origin.file),
        line: Some(e.origin.line),
        section: e.section,
        ..ConfigError::new(e.message)
    })
}

fn dirname_abs(path: &Path) -> String {
    let abs = values::normalize_path(&path.to_string_lossy());
    match abs.rfind('/') {
        Some(0) => "/".to_string(),
        Some(i) => abs[..i].to_string(),
        None => abs,
    }
}

/// Reads the values of one section, with expansions and error context.
struct Reader<'a> {
    ini: &'a Ini,
    main_file: &'a Path,
    /// Which file each section came from, for sections of included files.
    section_files: &'a [(String, PathBuf)],
    environ: Expansions,
}

/// One raw value and where it came from.
struct Raw {
    section: String,
    key: String,
    value: String,
    origin: Option<Origin>,
}

impl Raw {
    fn error(&self, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.origin.as_ref().map(|o| o.file.clone()),
            line: self.origin.as_ref().map(|o| o.line),
            section: Some(self.section.clone()),
            option: Some(self.key.clone()),
            message: message.into(),
        }
    }

    fn to<T>(&self, convert: impl FnOnce(&str) -> values::Result<T>) -> Result<T> {
        convert(&self.value).map_err(|m| self.error(m))
    }

    fn expanded(mut self, names: &Expansions) -> Result<Raw> {
        if !self.value.contains('%') {
            return Ok(self);
        }
        self.value =
            expand::expand(&self.value, names).map_err(|e| self.error(e.describe(&self.value)))?;
        Ok(self)
    }
}

impl<'a> Reader<'a> {
    fn section_error(&self, section: &str, message: impl Into<String>) -> ConfigError {
        let origin = self.ini.section(section).map(|s| s.origin.clone());
        ConfigError {
            file: origin
                .as_ref()
                .map(|o| o.file.clone())
                .or_else(|| Some(self.file_of(section))),
            line: origin.map(|o| o.line),
            section: Some(section.to_string()),
            option: None,
            message: message.into(),
        }
    }

    fn file_of(&self, section: &str) -> PathBuf {
        self.section_files
            .iter()
            .find(|(s, _)| s == section)
            .map(|(_, f)| f.clone())
            .unwrap_or_else(|| self.main_file.to_path_buf())
    }

    /// The raw text of `key`, or `default` (unexpanded, like the reference).
    fn raw(&self, section: &str, key: &str, default: Option<&str>) -> Option<Raw> {
        let (value, origin) = match self.ini.get(section, key) {
            Some(e) => (e.value.clone(), Some(e.origin.clone())),
            None => (default?.to_string(), None),
        };
        Some(Raw {
            section: section.to_string(),
            key: key.to_string(),
            value,
            origin: origin.or_else(|| self.ini.section(section).map(|s| s.origin.clone())),
        })
    }

    /// `saneget`: the value with the daemon environment and `extra` names
    /// expanded (extra names win).
    fn get(
        &self,
        section: &str,
        key: &str,
        default: Option<&str>,
        extra: &Expansions,
    ) -> Result<Option<Raw>> {
        let Some(raw) = self.raw(section, key, default) else {
            return Ok(None);
        };
        if !raw.value.contains('%') {
            // Nothing to expand (the common case): `%` formatting would
            // give the text back unchanged.
            return Ok(Some(raw));
        }
        let mut names = self.environ.clone();
        names.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
        raw.expanded(&names).map(Some)
    }

    /// Like [`get`](Self::get) for a key with a default: always a value.
    fn value(&self, section: &str, key: &str, default: &str, extra: &Expansions) -> Result<Raw> {
        self.get(section, key, Some(default), extra).map(|v| {
            v.unwrap_or(Raw {
                section: section.to_string(),
                key: key.to_string(),
                value: default.to_string(),
                origin: None,
            })
        })
    }
}

fn names(pairs: &[(&str, Value)]) -> Expansions {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn s(v: &str) -> Value {
    Value::Str(v.to_string())
}

/// Command-line values that override `[supervisord]` (each already
/// validated by the command-line layer; None when not given).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServerOverrides {
    pub nodaemon: bool,
    pub silent: bool,
    pub nocleanup: bool,
    pub strip_ansi: bool,
    pub user: Option<String>,
    pub umask: Option<u32>,
    pub directory: Option<String>,
    pub logfile: Option<String>,
    pub logfile_maxbytes: Option<i64>,
    pub logfile_backups: Option<i64>,
    pub loglevel: Option<u8>,
    pub pidfile: Option<String>,
    pub identifier: Option<String>,
    pub childlogdir: Option<String>,
    pub minfds: Option<i64>,
    pub minprocs: Option<i64>,
}

/// Loads the daemon's configuration from `path`, applying `overrides`.
pub fn load_server(path: &Path, overrides: &ServerOverrides) -> Result<ServerConfig> {
    load_server_text(&read_text(path)?, path, overrides)
}

/// Like [`load_server`], with the main file's text given (`path` still
/// names it and anchors `%(here)s` and includes).
pub fn load_server_text(
    text: &str,
    path: &Path,
    overrides: &ServerOverrides,
) -> Result<ServerConfig> {
    let here = dirname_abs(path);
    let mut ini = Ini::default();
    parse_ini(&mut ini, text, path)?;
    let mut environ = environ_expansions();
    let node = crate::sys::node_name();
    let mut warnings = Vec::new();
    let mut infos = Vec::new();
    let mut section_files: Vec<(String, PathBuf)> = Vec::new();

    if ini.has_section("include") {
        ini.expand_here(&here);
        let reader = Reader {
            ini: &ini,
            main_file: path,
            section_files: &section_files,
            environ: environ.clone(),
        };
        let files = reader
            .get(
                "include",
                "files",
                None,
                &names(&[("here", s(&here)), ("host_node_name", s(&node))]),
            )?
            .ok_or_else(|| {
                reader.section_error("include", "[include] section has no files= setting")
            })?;
        let base = here.clone();
        for pattern in files.value.split_whitespace() {
            let full = if pattern.starts_with('/') {
                pattern.to_string()
            } else {
                format!("{base}/{pattern}")
            };
            let mut matched = glob_files(&full).map_err(|m| files.error(m))?;
            if matched.is_empty() {
                warnings.push(format!("No file matches via include \"{full}\""));
                continue;
            }
            matched.sort();
            for filename in matched {
                infos.push(format!("Included extra file \"{filename}\" during parsing"));
                let file = PathBuf::from(&filename);
                let mut extra = Ini::default();
                parse_ini(&mut extra, &read_text(&file)?, &file)?;
                if let Some(section) = extra.section("include") {
                    return Err(ConfigError {
                        file: Some(file.clone()),
                        line: Some(section.origin.line),
                        section: Some("include".into()),
                        option: None,
                        message: "an included file cannot itself have an [include] section \
                                  (includes do not nest)"
                            .into(),
                    });
                }
                let created = parse_ini(&mut ini, &read_text(&file)?, &file)?;
                section_files.extend(created.into_iter().map(|s| (s, file.clone())));
                ini.expand_here(&dirname_abs(&file));
            }
        }
    }

    if !ini.has_section("supervisord") {
        return Err(ConfigError {
            file: Some(path.to_path_buf()),
            ..ConfigError::new("the file has no [supervisord] section")
        });
    }

    let mut reader = Reader {
        ini: &ini,
        main_file: path,
        section_files: &section_files,
        environ: environ.clone(),
    };
    let sd = "supervisord";
    let here_names = names(&[("here", s(&here))]);
    let get = |key: &str, default: &str| reader.value(sd, key, default, &here_names);

    let minfds = get("minfds", "1024")?.to(values::integer)?;
    let minprocs = get("minprocs", "200")?.to(values::integer)?;
    let directory = match reader.get(sd, "directory", None, &here_names)? {
        Some(raw) => Some(raw.to(values::existing_directory)?),
        None => None,
    };
    let user = reader.get(sd, "user", None, &here_names)?.map(|r| r.value);
    let umask = get("umask", "022")?.to(values::octal)?;
    let logfile = get("logfile", "supervisord.log")?.to(values::existing_dirpath)?;
    let logfile_maxbytes = get("logfile_maxbytes", "50MB")?.to(values::byte_size)?;
    let logfile_backups = get("logfile_backups", "10")?.to(values::integer)?;
    let loglevel = get("loglevel", "info")?.to(values::logging_level)?;
    let pidfile = get("pidfile", "supervisord.pid")?.to(values::existing_dirpath)?;
    let identifier = get("identifier", "supervisor")?.value;
    let nodaemon = get("nodaemon", "false")?.to(values::boolean)?;
    let silent = get("silent", "false")?.to(values::boolean)?;
    let childlogdir = get("childlogdir", &default_tempdir())?.to(values::existing_directory)?;
    let nocleanup = get("nocleanup", "false")?.to(values::boolean)?;
    let strip_ansi = get("strip_ansi", "false")?.to(values::boolean)?;
    // The reference expands this value twice; so do we.
    let environment = get("environment", "")?
        .expanded(&{
            let mut n = environ.clone();
            n.extend(names(&[("here", s(&here)), ("host_node_name", s(&node))]));
            n
        })?
        .to(values::dict_of_key_value_pairs)?;
    for (k, v) in &environment {
        environ.insert(format!("ENV_{k}"), s(v));
    }
    reader.environ = environ.clone();

    let rpcinterfaces = rpc_interfaces(&reader, &mut warnings)?;
    let mut groups = process_groups(&reader, &here, &node, &mut warnings)?;
    for group in &mut groups {
        for process in &mut group.processes {
            // Not shared yet: make_mut does not copy.
            let process = Rc::make_mut(process);
            let mut merged = environment.clone();
            for (k, v) in std::mem::take(&mut process.environment) {
                match merged.iter_mut().find(|(mk, _)| *mk == k) {
                    Some(slot) => slot.1 = v,
                    None => merged.push((k, v)),
                }
            }
            process.environment = merged;
        }
    }
    check_unique_process_names(&reader, &groups)?;
    let servers = http_servers(&reader, &here)?;

    // Command-line values win over the file.
    let o = overrides;
    let user = o.user.clone().or(user);
    let uid = match &user {
        Some(u) => Some(values::name_to_uid(u).map_err(|m| ConfigError {
            section: Some(sd.into()),
            option: Some("user".into()),
            file: Some(path.to_path_buf()),
            ..ConfigError::new(m)
        })?),
        None => None,
    };
    let logfile = o.logfile.clone().unwrap_or(logfile);
    let logfile = if logfile == "syslog" {
        logfile
    } else {
        values::normalize_path(&logfile)
    };
    let settings = ServerSettings {
        logfile,
        logfile_maxbytes: o.logfile_maxbytes.unwrap_or(logfile_maxbytes),
        logfile_backups: o.logfile_backups.unwrap_or(logfile_backups),
        loglevel: o.loglevel.unwrap_or(loglevel),
        pidfile: values::normalize_path(&o.pidfile.clone().unwrap_or(pidfile)),
        umask: o.umask.unwrap_or(umask),
        nodaemon: o.nodaemon || nodaemon,
        silent: o.silent || silent,
        minfds: o.minfds.unwrap_or(minfds),
        minprocs: o.minprocs.unwrap_or(minprocs),
        nocleanup: o.nocleanup || nocleanup,
        strip_ansi: o.strip_ansi || strip_ansi,
        childlogdir: o.childlogdir.clone().unwrap_or(childlogdir),
        identifier: o.identifier.clone().unwrap_or(identifier),
        directory: o.directory.clone().or(directory),
        user,
        uid,
        environment,
    };
    let serverurl = fallback_serverurl(&servers);
    Ok(ServerConfig {
        configfile: path.to_path_buf(),
        here,
        settings,
        servers,
        serverurl,
        rpcinterfaces,
        groups,
        warnings,
        infos,
    })
}

/// Python's `tempfile.gettempdir()`.
fn default_tempdir() -> String {
    for var in ["TMPDIR", "TEMP", "TMP"] {
        if let Ok(dir) = std::env::var(var) {
            if Path::new(&dir).is_dir() {
                return values::normalize_path(&dir);
            }
        }
    }
    for dir in ["/tmp", "/var/tmp", "/usr/tmp"] {
        if Path::new(dir).is_dir() {
            return dir.to_string();
        }
    }
    values::normalize_path(".")
}

/// Glob like Python's `glob.glob`: no hidden files unless asked for.
fn glob_files(pattern: &str) -> std::result::Result<Vec<String>, String> {
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    };
    let paths = glob::glob_with(pattern, options)
        .map_err(|e| format!("bad include pattern {pattern:?}: {e}"))?;
    Ok(paths
        .filter_map(|p| p.ok())
        .map(|p| p.to_string_lossy().into_owned())
        .collect())
}

/// The URL children get when no program sets `serverurl=`: the first unix
/// socket, else the last inet server (as the reference picks them).
fn fallback_serverurl(servers: &[HttpServerConfig]) -> Option<String> {
    let unix = servers.iter().find_map(|s| match &s.listen {
        Listen::Unix { file, .. } => Some(format!("unix://{file}")),
        Listen::Inet { .. } => None,
    });
    unix.or_else(|| {
        servers.iter().rev().find_map(|s| match &s.listen {
            Listen::Inet { host, port } => {
                let host = if host.is_empty() { "localhost" } else { host };
                Some(format!("http://{host}:{port}"))
            }
            Listen::Unix { .. } => None,
        })
    })
}

fn rpc_interfaces(
    reader: &Reader<'_>,
    warnings: &mut Vec<String>,
) -> Result<Vec<RpcInterfaceConfig>> {
    let mut out = Vec::new();
    let none = Expansions::new();
    for section in reader
        .ini
        .section_names()
        .filter(|s| s.starts_with("rpcinterface:"))
    {
        let name = section["rpcinterface:".len()..].to_string();
        let factory = reader
            .get(section, "supervisor.rpcinterface_factory", None, &none)?
            .ok_or_else(|| {
                reader.section_error(
                    section,
                    "section does not specify a supervisor.rpcinterface_factory",
                )
            })?
            .value;
        for key in reader.ini.keys(section) {
            reader.get(section, key, None, &none)?;
        }
        if factory != MAIN_RPC_FACTORY {
            warnings.push(format!(
                "[{section}] names the Python factory {factory}; only {MAIN_RPC_FACTORY} is \
                 built in, so this interface is ignored"
            ));
        }
        out.push(RpcInterfaceConfig { name, factory });
    }
    Ok(out)
}

fn http_servers(reader: &Reader<'_>, here: &str) -> Result<Vec<HttpServerConfig>> {
    let mut out = Vec::new();
    let none = Expansions::new();
    let name_of = |section: &str| section.split_once(':').map(|(_, n)| n.to_string());
    let auth = |section: &str| -> Result<(Option<String>, Option<String>)> {
        let username = reader
            .get(section, "username", None, &none)?
            .map(|r| r.value);
        let password = reader
            .get(section, "password", None, &none)?
            .map(|r| r.value);
        if username.is_some() != password.is_some() {
            return Err(reader.section_error(
                section,
                "incomplete authentication: if a username or a password is specified, both \
                 must be specified",
            ));
        }
        Ok((username, password))
    };
    for section in reader
        .ini
        .section_names()
        .filter(|s| s.starts_with("inet_http_server"))
    {
        let (username, password) = auth(section)?;
        let port = reader
            .get(section, "port", None, &none)?
            .ok_or_else(|| reader.section_error(section, "section has no port value"))?;
        let (host, port) = port.to(values::inet_address)?;
        out.push(HttpServerConfig {
            name: name_of(section),
            section: section.to_string(),
            listen: Listen::Inet { host, port },
            username,
            password,
        });
    }
    for section in reader
        .ini
        .section_names()
        .filter(|s| s.starts_with("unix_http_server"))
    {
        let file = reader
            .get(section, "file", None, &names(&[("here", s(here))]))?
            .ok_or_else(|| reader.section_error(section, "section has no file value"))?;
        let file = values::normalize_path(file.value.trim());
        let (username, password) = auth(section)?;
        let chown = match reader.get(section, "chown", None, &none)? {
            Some(raw) => {
                let (uid, gid) = raw.to(values::colon_separated_user_group)?;
                (i64::from(uid), gid)
            }
            None => (-1, -1),
        };
        let chmod = match reader.get(section, "chmod", None, &none)? {
            Some(raw) => raw.to(values::octal)?,
            None => 0o700,
        };
        out.push(HttpServerConfig {
            name: name_of(section),
            section: section.to_string(),
            listen: Listen::Unix { file, chmod, chown },
            username,
            password,
        });
    }
    Ok(out)
}

/// Builds every group: heterogeneous `[group:x]` first, then programs,
/// listeners and fcgi programs, then sorts by (priority, name).
fn process_groups(
    reader: &Reader<'_>,
    here: &str,
    node: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<GroupConfig>> {
    let ini = reader.ini;
    let sections: Vec<&str> = ini.section_names().collect();
    let here_names = names(&[("here", s(here))]);
    let mut groups = Vec::new();
    let mut in_groups: Vec<String> = Vec::new();

    for &section in sections.iter().filter(|s| s.starts_with("group:")) {
        let group = values::process_or_group_name(&section["group:".len()..])
            .map_err(|m| reader.section_error(section, m))?;
        let programs = match reader.get(section, "programs", None, &here_names)? {
            Some(raw) => values::list_of_strings(&raw.value),
            None => Vec::new(),
        };
        let priority = reader
            .value(section, "priority", "999", &here_names)?
            .to(values::integer)?;
        let mut processes = Vec::new();
        for program in &programs {
            let plain = format!("program:{program}");
            let fcgi = format!("fcgi-program:{program}");
            let (has_plain, has_fcgi) = (ini.has_section(&plain), ini.has_section(&fcgi));
            let member = match (has_plain, has_fcgi) {
                (true, true) => {
                    return Err(reader.section_error(
                        section,
                        format!(
                            "programs: {program} is ambiguous (exists as program and fcgi-program)"
                        ),
                    ))
                }
                (true, false) => plain,
                (false, true) => fcgi,
                (false, false) => {
                    return Err(ConfigError {
                        option: Some("programs".into()),
                        ..reader.section_error(
                            section,
                            format!("names unknown program or fcgi-program {program}"),
                        )
                    })
                }
            };
            processes.extend(processes_from_section(
                reader, &member, &group, here, node, warnings,
            )?);
            in_groups.push(member);
        }
        groups.push(GroupConfig {
            name: group,
            priority,
            kind: GroupKind::Program,
            processes,
        });
    }

    for &section in sections.iter().filter(|s| s.starts_with("program:")) {
        if in_groups.iter().any(|g| g == section) {
            continue;
        }
        let name = values::process_or_group_name(&section["program:".len()..])
            .map_err(|m| reader.section_error(section, m))?;
        let priority = reader
            .value(section, "priority", "999", &here_names)?
            .to(values::integer)?;
        let processes = processes_from_section(reader, section, &name, here, node, warnings)?;
        groups.push(GroupConfig {
            name,
            priority,
            kind: GroupKind::Program,
            processes,
        });
    }

    for &section in sections.iter().filter(|s| s.starts_with("eventlistener:")) {
        let name = section["eventlistener:".len()..].to_string();
        let get = |key: &str, default: &str| reader.value(section, key, default, &here_names);
        let priority = get("priority", "-1")?.to(values::integer)?;
        let buffer_size_raw = get("buffer_size", "10")?;
        let buffer_size = buffer_size_raw.to(values::integer)?;
        if buffer_size < 1 {
            return Err(buffer_size_raw.error(format!(
                "invalid buffer_size ({buffer_size}); it must be at least 1"
            )));
        }
        let handler = get("result_handler", DEFAULT_RESULT_HANDLER)?;
        if !handler.value.contains(':') {
            return Err(handler.error(format!(
                "{} is not of the form module:function",
                handler.value
            )));
        }
        if handler.value != DEFAULT_RESULT_HANDLER && handler.value != STDOUT_RESULT_HANDLER {
            warnings.push(format!(
                "[{section}] result_handler {} is a Python function; it is ignored and events are \
                 acknowledged as with the default handler",
                handler.value
            ));
        }
        let events_raw = get("events", "")?;
        let mut events: Vec<String> = values::list_of_strings(&events_raw.value)
            .into_iter()
            .map(|e| e.to_uppercase())
            .collect();
        events.sort();
        events.dedup();
        if events.is_empty() {
            return Err(reader.section_error(section, "section requires an \"events\" line"));
        }
        if let Some(bad) = events.iter().find(|e| !EVENT_TYPES.contains(&e.as_str())) {
            return Err(events_raw.error(format!("unknown event type {bad}")));
        }
        let redirect = get("redirect_stderr", "false")?;
        if redirect.to(values::boolean)? {
            return Err(redirect.error(
                "redirect_stderr=true is not allowed for an event listener: it would interfere \
                 with the event listener protocol",
            ));
        }
        let processes = processes_from_section(reader, section, &name, here, node, warnings)?;
        groups.push(GroupConfig {
            name,
            priority,
            kind: GroupKind::EventListener {
                buffer_size,
                events,
                result_handler: handler.value,
            },
            processes,
        });
    }

    for &section in sections.iter().filter(|s| s.starts_with("fcgi-program:")) {
        if in_groups.iter().any(|g| g == section) {
            continue;
        }
        let name = values::process_or_group_name(&section["fcgi-program:".len()..])
            .map_err(|m| reader.section_error(section, m))?;
        let priority = reader
            .value(section, "priority", "999", &here_names)?
            .to(values::integer)?;
        let socket = fcgi_socket(reader, section, &name, here)?;
        let processes = processes_from_section(reader, section, &name, here, node, warnings)?;
        groups.push(GroupConfig {
            name,
            priority,
            kind: GroupKind::FastCgi { socket },
            processes,
        });
    }

    groups.sort_by(|a, b| {
        a.priority
            .cmp(&b.priority)
            .then_with(|| a.name.cmp(&b.name))
    });
    Ok(groups)
}

fn fcgi_socket(
    reader: &Reader<'_>,
    section: &str,
    program: &str,
    here: &str,
) -> Result<FcgiSocket> {
    let here_names = names(&[("here", s(here))]);
    let proc_uid = match reader.get(section, "user", None, &here_names)? {
        Some(raw) => Some(raw.to(values::name_to_uid)?),
        None => None,
    };
    let backlog = match reader.get(section, "socket_backlog", None, &here_names)? {
        Some(raw) => {
            let n = raw.to(values::integer)?;
            if !(1..=65535).contains(&n) {
                return Err(raw.error(format!("invalid socket_backlog value {n} (1-65535)")));
            }
            Some(n)
        }
        None => None,
    };
    let owner = match reader.get(section, "socket_owner", None, &here_names)? {
        Some(raw) => Some(raw.to(values::colon_separated_user_group)?),
        None => None,
    };
    let mode_raw = reader.get(section, "socket_mode", None, &here_names)?;
    let mode = match &mode_raw {
        Some(raw) => Some(raw.to(values::octal)?),
        None => None,
    };
    let mut socket_names = here_names.clone();
    socket_names.insert("program_name".into(), s(program));
    let socket = reader
        .get(section, "socket", None, &socket_names)?
        .filter(|r| !r.value.is_empty())
        .ok_or_else(|| reader.section_error(section, "section requires a \"socket\" line"))?;
    let endpoint = if let Some(path) = socket.value.strip_prefix("unix://") {
        if !path.starts_with('/') {
            return Err(socket.error(format!("unix socket path {path} is not an absolute path")));
        }
        let owner = owner.or_else(|| {
            let uid = proc_uid?;
            if uid == crate::sys::getuid() {
                return None;
            }
            crate::sys::user_by_uid(uid).map(|u| (uid, i64::from(u.gid)))
        });
        SocketEndpoint::Unix {
            path: values::normalize_path(path),
            owner,
            mode: mode.unwrap_or(0o700),
        }
    } else {
        if owner.is_some() || mode.is_some() {
            return Err(socket
                .error("socket_owner and socket_mode can only be used with a unix domain socket"));
        }
        let bad = || {
            socket.error(format!(
                "bad socket format {} (use tcp://host:port or unix:///path)",
                socket.value
            ))
        };
        let rest = socket.value.strip_prefix("tcp://").ok_or_else(bad)?;
        let (host, port) = rest.rsplit_once(':').ok_or_else(bad)?;
        if host.is_empty() || host.contains(':') || host.chars().any(char::is_whitespace) {
            return Err(bad());
        }
        if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let port = match port.parse::<u32>() {
            Ok(p @ 1..=65535) => p as u16,
            _ => return Err(socket.error(format!("port {port} is out of range (1-65535)"))),
        };
        SocketEndpoint::Tcp {
            host: host.to_lowercase(),
            port,
        }
    };
    Ok(FcgiSocket { endpoint, backlog })
}

/// Paths that are another process's stream: never rotated.
fn is_stream_path(path: &str) -> bool {
    matches!(path, "/dev/stdout" | "/dev/stderr" | "/dev/tty")
        || path.starts_with("/dev/fd/")
        || path.starts_with("/proc/self/fd/")
}

fn processes_from_section(
    reader: &Reader<'_>,
    section: &str,
    group: &str,
    here: &str,
    node: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<Rc<ProcessConfig>>> {
    let program = section.split_once(':').map(|(_, p)| p).unwrap_or(section);
    let program =
        values::process_or_group_name(program).map_err(|m| reader.section_error(section, m))?;
    let mut common = names(&[
        ("here", s(here)),
        ("program_name", s(&program)),
        ("host_node_name", s(node)),
        ("group_name", s(group)),
    ]);
    let get =
        |key: &str, default: &str, names: &Expansions| reader.value(section, key, default, names);

    let priority = get("priority", "999", &common)?.to(values::integer)?;
    let autostart = get("autostart", "true", &common)?.to(values::boolean)?;
    let autorestart = get("autorestart", "unexpected", &common)?.to(values::auto_restart)?;
    let startsecs = get("startsecs", "1", &common)?.to(values::integer)?;
    let startretries = get("startretries", "3", &common)?.to(values::integer)?;
    let stopsignal = get("stopsignal", "TERM", &common)?.to(values::signal_number)?;
    let stopwaitsecs = get("stopwaitsecs", "10", &common)?.to(values::integer)?;
    let stopasgroup = get("stopasgroup", "false", &common)?.to(values::boolean)?;
    let killasgroup_raw = get(
        "killasgroup",
        if stopasgroup { "true" } else { "false" },
        &common,
    )?;
    let killasgroup = killasgroup_raw.to(values::boolean)?;
    let exitcodes = get("exitcodes", "0", &common)?.to(values::exitcodes)?;
    let redirect_stderr = get("redirect_stderr", "false", &common)?.to(values::boolean)?;
    let numprocs = get("numprocs", "1", &common)?.to(values::integer)?;
    let numprocs_start = get("numprocs_start", "0", &common)?.to(values::integer)?;
    let environment_raw = reader.raw(section, "environment", Some(""));
    let stdout_capture = get("stdout_capture_maxbytes", "0", &common)?.to(values::byte_size)?;
    let stdout_events = get("stdout_events_enabled", "false", &common)?.to(values::boolean)?;
    let stderr_capture = get("stderr_capture_maxbytes", "0", &common)?.to(values::byte_size)?;
    let stderr_events = get("stderr_events_enabled", "false", &common)?.to(values::boolean)?;
    let serverurl = reader
        .get(section, "serverurl", None, &common)?
        .map(|r| r.value)
        .filter(|v| !v.trim().eq_ignore_ascii_case("auto"));
    let user = reader.get(section, "user", None, &common)?;
    let uid = match &user {
        Some(raw) => Some(raw.to(values::name_to_uid)?),
        None => None,
    };
    let user = user.map(|r| r.value);
    let umask = match reader.get(section, "umask", None, &common)? {
        Some(raw) => Some(raw.to(values::octal)?),
        None => None,
    };
    let name_raw = reader
        .raw(section, "process_name", Some("%(program_name)s"))
        .ok_or_else(|| reader.section_error(section, "process_name"))?;
    let process_name_template = name_raw.to(values::process_or_group_name)?;
    if numprocs > 1 && !process_name_template.contains("%(process_num)") {
        return Err(name_raw.error(format!(
            "%(process_num) must be present within process_name when numprocs > 1 \
             (numprocs={numprocs}, process_name={process_name_template})"
        )));
    }
    if stopasgroup && !killasgroup {
        return Err(killasgroup_raw.error("cannot set stopasgroup=true and killasgroup=false"));
    }

    let mut processes = Vec::new();
    let mut n = numprocs_start;
    while n < numprocs_start.saturating_add(numprocs) {
        common.insert("process_num".into(), Value::Int(n));
        common.insert("numprocs".into(), Value::Int(numprocs));
        for (k, v) in &reader.environ {
            common.insert(k.clone(), v.clone());
        }
        let environment = match &environment_raw {
            Some(raw) => {
                let mut env_names = reader.environ.clone();
                env_names.extend(common.clone());
                let expanded = expand::expand(&raw.value, &env_names)
                    .map_err(|e| raw.error(e.describe(&raw.value)))?;
                values::dict_of_key_value_pairs(&expanded).map_err(|m| raw.error(m))?
            }
            None => Vec::new(),
        };
        for (k, v) in &environment {
            common.insert(format!("ENV_{k}"), s(v));
        }
        let directory = reader
            .get(section, "directory", None, &common)?
            .map(|r| r.value);

        let mut channel = |ch: &str,
                           events_enabled: bool,
                           capture_maxbytes: i64|
         -> Result<ChannelConfig> {
            let lf_key = format!("{ch}_logfile");
            let logfile = match reader.get(section, &lf_key, None, &common)? {
                Some(raw) => raw.expanded(&common)?.to(values::logfile_name)?,
                None => LogFile::Auto,
            };
            let backups =
                get(&format!("{ch}_logfile_backups"), "10", &common)?.to(values::integer)?;
            let maxbytes_raw = get(&format!("{ch}_logfile_maxbytes"), "50MB", &common)?;
            let maxbytes = maxbytes_raw.to(values::byte_size)?;
            let mut syslog = get(&format!("{ch}_syslog"), "false", &common)?.to(values::boolean)?;
            let logfile = match logfile {
                LogFile::Syslog => {
                    warnings.push(format!(
                        "For [{section}], {lf_key}=syslog but this is deprecated and will be removed. \
                         Use {ch}_syslog=true to enable syslog instead."
                    ));
                    syslog = true;
                    LogFile::None
                }
                LogFile::Auto if maxbytes == 0 => {
                    warnings.push(format!(
                        "For [{section}], AUTO logging used for {lf_key} without rollover, set \
                         maxbytes > 0 to avoid filling up filesystem unintentionally"
                    ));
                    LogFile::Auto
                }
                LogFile::Path(p) if maxbytes != 0 && is_stream_path(&p) => {
                    return Err(maxbytes_raw.error(format!(
                        "{ch}_logfile is {p}, which cannot be rotated: set {ch}_logfile_maxbytes=0"
                    )));
                }
                other => other,
            };
            Ok(ChannelConfig {
                logfile,
                maxbytes,
                backups,
                capture_maxbytes,
                events_enabled,
                syslog,
            })
        };
        let stdout = channel("stdout", stdout_events, stdout_capture)?;
        let mut stderr = channel("stderr", stderr_events, stderr_capture)?;
        if redirect_stderr {
            if let LogFile::Path(_) = stderr.logfile {
                warnings.push(format!(
                    "For [{section}], redirect_stderr=true but stderr_logfile has also been set \
                     to a filename, the filename has been ignored"
                ));
            }
            stderr.logfile = LogFile::None;
        }

        let command = reader
            .get(section, "command", None, &common)?
            .ok_or_else(|| {
                reader.section_error(section, "program section does not specify a command")
            })?
            .value;
        let name = expand::expand(&process_name_template, &common)
            .map_err(|e| name_raw.error(e.describe(&process_name_template)))?;
        processes.push(Rc::new(ProcessConfig {
            name,
            group: group.to_string(),
            section: section.to_string(),
            command,
            directory,
            umask,
            priority,
            autostart,
            autorestart,
            startsecs,
            startretries,
            user: user.clone(),
            uid,
            stdout,
            stderr,
            stopsignal,
            stopwaitsecs,
            stopasgroup,
            killasgroup,
            exitcodes: exitcodes.clone(),
            redirect_stderr,
            environment,
            serverurl: serverurl.clone(),
        }));
        n += 1;
    }
    processes.sort_by(|a, b| {
        a.priority
            .cmp(&b.priority)
            .then_with(|| a.name.cmp(&b.name))
    });
    Ok(processes)
}

/// Two processes with the same name in one group, or two groups with the
/// same name, would be unreachable by name. The reference silently keeps
/// one of them; we refuse the file instead.
fn check_unique_process_names(reader: &Reader<'_>, groups: &[GroupConfig]) -> Result<()> {
    for (i, g) in groups.iter().enumerate() {
        if let Some(other) = groups[..i].iter().find(|o| o.name == g.name) {
            let section = g
                .processes
                .first()
                .map(|p| p.section.clone())
                .unwrap_or_default();
            let first = other
                .processes
                .first()
                .map(|p| p.section.clone())
                .unwrap_or_default();
            return Err(reader.section_error(
                &section,
                format!("group name {} is already used by [{first}]", g.name),
            ));
        }
        for (j, p) in g.processes.iter().enumerate() {
            if let Some(other) = g.processes[..j].iter().find(|o| o.name == p.name) {
                return Err(reader.section_error(
                    &p.section,
                    format!(
                        "duplicate process name {} in group {} (also made by [{}])",
                        p.name, g.name, other.section
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Loads the `[supervisorctl]` settings of `path`, as the reference's
/// client does (no includes; the section must be present).
pub fn load_ctl(path: &Path) -> Result<CtlConfig> {
    load_ctl_section(path)?.ok_or_else(|| ConfigError {
        file: Some(path.to_path_buf()),
        ..ConfigError::new("the file has no [supervisorctl] section")
    })
}

/// Like [`load_ctl`], but None when the file has no `[supervisorctl]`.
pub fn load_ctl_section(path: &Path) -> Result<Option<CtlConfig>> {
    let here = dirname_abs(path);
    let mut ini = Ini::default();
    parse_ini(&mut ini, &read_text(path)?, path)?;
    if !ini.has_section("supervisorctl") {
        return Ok(None);
    }
    let reader = Reader {
        ini: &ini,
        main_file: path,
        section_files: &[],
        environ: environ_expansions(),
    };
    let sc = "supervisorctl";
    let here_names = names(&[("here", s(&here))]);
    let none = Expansions::new();
    let defaults = CtlConfig::default();
    let mut serverurl = reader
        .value(sc, "serverurl", &defaults.serverurl, &here_names)?
        .value;
    if let Some(p) = serverurl.strip_prefix("unix://") {
        serverurl = format!("unix://{}", values::normalize_path(p));
    }
    let prompt = reader.value(sc, "prompt", &defaults.prompt, &none)?.value;
    let username = reader.get(sc, "username", None, &none)?.map(|r| r.value);
    let password = reader.get(sc, "password", None, &none)?.map(|r| r.value);
    let history_file = reader
        .get(sc, "history_file", None, &here_names)?
        .map(|r| r.value)
        .filter(|h| !h.is_empty())
        .map(|h| values::normalize_path(&h));
    Ok(Some(CtlConfig {
        serverurl,
        prompt,
        username,
        password,
        history_file,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_path_is_relative_to_argv0() {
        assert_eq!(
            search_paths("/usr/local/bin/supervisord")[..2],
            [
                "/usr/local/etc/supervisord.conf",
                "/usr/local/supervisord.conf"
            ]
        );
        assert_eq!(
            search_paths("supervisord")[..2],
            ["etc/supervisord.conf", "supervisord.conf"]
        );
        assert_eq!(search_paths("/bin/supervisord")[0], "/etc/supervisord.conf");
    }

    #[test]
    fn fallback_url_prefers_unix() {
        let inet = HttpServerConfig {
            name: None,
            section: "inet_http_server".into(),
            listen: Listen::Inet {
                host: String::new(),
                port: 9001,
            },
            username: None,
            password: None,
        };
        assert_eq!(
            fallback_serverurl(std::slice::from_ref(&inet)).as_deref(),
            Some("http://localhost:9001")
        );
        let unix = HttpServerConfig {
            listen: Listen::Unix {
                file: "/tmp/s.sock".into(),
                chmod: 0o700,
                chown: (-1, -1),
            },
            ..inet.clone()
        };
        assert_eq!(
            fallback_serverurl(&[inet, unix]).as_deref(),
            Some("unix:///tmp/s.sock")
        );
    }
}
