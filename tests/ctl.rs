//! supervisorctl end to end: the real binary against a fake supervisord (a
//! unix socket answering canned XML-RPC and log streams), and with no daemon
//! at all. The same commands against the reference are checked byte for
//! byte by tests/interop/test_ctl_crosscheck.py; these pin the shapes that
//! scripts depend on without needing Python.

mod common;

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use common::{Run, Sandbox, BIN};
use supervisor::rpc::xmlrpc::{write_fault, write_response, Fault, Value};

/// One request the fake daemon received.
#[derive(Debug, Clone)]
struct Request {
    /// `POST /RPC2` or `GET /logtail/...`.
    line: String,
    method: String,
    body: String,
    authorization: Option<String>,
}

/// What the fake daemon answers.
enum Answer {
    Value(Value),
    Fault(i32, &'static str),
    Status(u16, &'static str),
    /// Raw bytes, sent as they are, then the connection is closed.
    Raw(Vec<u8>),
}

type Answerer = dyn Fn(&Request) -> Answer + Send + Sync;

/// A fake supervisord on a unix socket in the sandbox. It serves until the
/// test process ends.
struct FakeDaemon {
    socket: PathBuf,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl FakeDaemon {
    fn start(sb: &Sandbox, answer: impl Fn(&Request) -> Answer + Send + Sync + 'static) -> Self {
        let socket = sb.path().join("fake.sock");
        let listener = UnixListener::bind(&socket).expect("bind the fake daemon's socket");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        let answer: Arc<Answerer> = Arc::new(answer);
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                serve(conn, &*answer, &seen);
            }
        });
        FakeDaemon { socket, requests }
    }

    fn url(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    fn requests(&self) -> Vec<Request> {
        self.requests.lock().expect("lock").clone()
    }

    fn methods(&self) -> Vec<String> {
        self.requests().into_iter().map(|r| r.method).collect()
    }
}

fn serve(mut conn: UnixStream, answer: &Answerer, seen: &Mutex<Vec<Request>>) {
    let Some(request) = read_request(&mut conn) else {
        return;
    };
    seen.lock().expect("lock").push(request.clone());
    let reply = match answer(&request) {
        Answer::Value(v) => http(200, "OK", &write_response(&v)),
        Answer::Fault(code, text) => http(200, "OK", &write_fault(&Fault::new(code, text))),
        Answer::Status(code, reason) => http(code, reason, b""),
        Answer::Raw(bytes) => bytes,
    };
    let _ = conn.write_all(&reply);
}

fn http(status: u16, reason: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

fn read_request(conn: &mut UnixStream) -> Option<Request> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        let n = conn.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let header = |name: &str| {
        head.lines()
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
    };
    let length: usize = header("Content-Length:")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while data.len() < head_end + length {
        let n = conn.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buf[..n]);
    }
    let body = String::from_utf8_lossy(&data[head_end..]).into_owned();
    let method = between(&body, "<methodName>", "</methodName>").unwrap_or_default();
    Some(Request {
        line: head.lines().next().unwrap_or("").to_string(),
        method,
        body,
        authorization: header("Authorization:"),
    })
}

fn between(text: &str, open: &str, close: &str) -> Option<String> {
    let start = text.find(open)? + open.len();
    let end = text[start..].find(close)? + start;
    Some(text[start..end].to_string())
}

fn process(group: &str, name: &str, state: i32, statename: &str, desc: &str) -> Value {
    Value::structure([
        ("group", Value::from(group)),
        ("name", Value::from(name)),
        ("state", Value::Int(state)),
        ("statename", Value::from(statename)),
        ("description", Value::from(desc)),
        ("pid", Value::Int(if state == 20 { 4242 } else { 0 })),
    ])
}

fn result(group: &str, name: &str, status: i32) -> Value {
    Value::structure([
        ("group", Value::from(group)),
        ("name", Value::from(name)),
        ("status", Value::Int(status)),
        ("description", Value::from("")),
    ])
}

fn all_processes() -> Value {
    Value::Array(vec![
        process("cat", "cat", 20, "RUNNING", "pid 4242, uptime 0:01:02"),
        process("grp", "one", 0, "STOPPED", "Not started"),
        process(
            "web",
            "web",
            200,
            "FATAL",
            "Exited too quickly (process log may have details)",
        ),
    ])
}

/// A daemon that knows `cat`, `grp:one` and `web`, and answers every call
/// the way the reference does for them.
fn typical(r: &Request) -> Answer {
    let arg = between(&r.body, "<string>", "</string>").unwrap_or_default();
    match (r.method.as_str(), arg.as_str()) {
        ("supervisor.getVersion", _) => Answer::Value("3.0".into()),
        ("supervisor.getAllProcessInfo", _) => Answer::Value(all_processes()),
        ("supervisor.getSupervisorVersion", _) => Answer::Value("4.3.0".into()),
        ("supervisor.getPID", _) => Answer::Value(Value::Int(99)),
        ("supervisor.startProcess", "cat") => Answer::Fault(60, "cat"),
        ("supervisor.startProcess", "web") => Answer::Fault(50, "web"),
        ("supervisor.startProcess", "grp:one") => Answer::Value(true.into()),
        ("supervisor.stopProcess", "grp:one") => Answer::Fault(70, "grp:one"),
        ("supervisor.startProcess" | "supervisor.stopProcess", _) => Answer::Fault(10, "nosuch"),
        ("supervisor.startProcessGroup", "grp") => Answer::Value(Value::Array(vec![
            result("grp", "one", 80),
            result("grp", "two", 50),
        ])),
        ("supervisor.startProcessGroup", _) => Answer::Fault(10, "nog"),
        ("supervisor.signalProcess", _) => Answer::Value(true.into()),
        ("supervisor.readProcessStdoutLog", _) => Answer::Value("line one\nline two\n".into()),
        _ => Answer::Fault(1, "UNKNOWN_METHOD"),
    }
}

fn conf(sb: &Sandbox, url: &str) -> PathBuf {
    sb.write("ctl.conf", &format!("[supervisorctl]\nserverurl={url}\n"))
}

/// Runs `supervisorctl -c CONF ARGS` with `stdin` as its input.
fn ctl_with_input(sb: &Sandbox, conf: &Path, args: &[&str], stdin: &str) -> Run {
    let mut child = Command::new(BIN)
        .arg("ctl")
        .arg("-c")
        .arg(conf)
        .args(args)
        .current_dir(sb.path())
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", sb.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run supervisorctl");
    if let Some(mut input) = child.stdin.take() {
        let _ = input.write_all(stdin.as_bytes());
    }
    let out = child.wait_with_output().expect("wait for supervisorctl");
    Run {
        status: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn ctl(sb: &Sandbox, conf: &Path, args: &[&str]) -> Run {
    ctl_with_input(sb, conf, args, "")
}

/// Asserts the exit status and stdout of a run, showing it all on failure.
fn check(run: &Run, status: i32, stdout: &str) {
    assert_eq!(
        (run.status, run.stdout.as_str()),
        (Some(status), stdout),
        "{run:?}"
    );
}

/// `error: <class 'X'>, MESSAGE: file: F line: N` with the location cut.
fn error_line(run: &Run) -> String {
    let line = run.stdout.lines().last().unwrap_or("");
    line.split(": file: ").next().unwrap_or("").to_string()
}

#[test]
fn status_columns_and_exit_codes() {
    let sb = Sandbox::new();
    let fake = FakeDaemon::start(&sb, typical);
    let c = conf(&sb, &fake.url());
    let pad = |name: &str| format!("{name:<33}");
    let table = format!(
        "{}RUNNING   pid 4242, uptime 0:01:02\n{}STOPPED   Not started\n\
         {}FATAL     Exited too quickly (process log may have details)\n",
        pad("cat"),
        pad("grp:one"),
        pad("web")
    );
    check(&ctl(&sb, &c, &["status"]), 3, &table);
    check(&ctl(&sb, &c, &["status", "all"]), 3, &table);
    let cat = format!("{}RUNNING   pid 4242, uptime 0:01:02\n", pad("cat"));
    check(&ctl(&sb, &c, &["status", "cat"]), 0, &cat);
    check(
        &ctl(&sb, &c, &["status", "grp:*"]),
        3,
        &format!("{}STOPPED   Not started\n", pad("grp:one")),
    );
    check(
        &ctl(&sb, &c, &["status", "nosuch", "nog:*", "cat"]),
        4,
        &format!("nosuch: ERROR (no such process)\nnog: ERROR (no such group)\n{cat}"),
    );
    // A stopped process named with an unknown one: 3 wins, as in the reference.
    let run = ctl(&sb, &c, &["status", "nosuch", "grp:one"]);
    assert_eq!(run.status, Some(3), "{run:?}");
}

#[test]
fn start_messages_and_exit_codes() {
    let sb = Sandbox::new();
    let fake = FakeDaemon::start(&sb, typical);
    let c = conf(&sb, &fake.url());
    check(
        &ctl(&sb, &c, &["start", "cat"]),
        0,
        "cat: ERROR (already started)\n",
    );
    check(
        &ctl(&sb, &c, &["start", "web"]),
        7,
        "web: ERROR (spawn error)\n",
    );
    check(
        &ctl(&sb, &c, &["start", "nosuch"]),
        1,
        "nosuch: ERROR (no such process)\n",
    );
    check(
        &ctl(&sb, &c, &["start", "grp:one"]),
        0,
        "grp:one: started\n",
    );
    check(
        &ctl(&sb, &c, &["start", "grp:*"]),
        7,
        "grp:one: started\ngrp:two: ERROR (spawn error)\n",
    );
    check(
        &ctl(&sb, &c, &["start", "nog:*"]),
        2,
        "nog: ERROR (no such group)\n",
    );
    check(
        &ctl(&sb, &c, &["stop", "grp:one"]),
        0,
        "grp:one: ERROR (not running)\n",
    );
    let run = ctl(&sb, &c, &["start"]);
    assert_eq!(run.status, Some(2), "{run:?}");
    assert!(run
        .stdout
        .starts_with("Error: start requires a process name\nstart <name>\t\t"));
}

#[test]
fn arguments_are_joined_and_parsed_again() {
    let sb = Sandbox::new();
    let fake = FakeDaemon::start(&sb, typical);
    let c = conf(&sb, &fake.url());
    check(
        &ctl(&sb, &c, &["signal USR1", "cat"]),
        0,
        "cat: signalled\n",
    );
    let call = fake
        .requests()
        .into_iter()
        .find(|r| r.method == "supervisor.signalProcess");
    let body = call.expect("a signalProcess call").body;
    assert!(body.contains("<string>cat</string>") && body.contains("<string>USR1</string>"));
    check(
        &ctl(&sb, &c, &["status cat", "grp:one"]),
        3,
        &ctl(&sb, &c, &["status", "cat", "grp:one"]).stdout,
    );
}

#[test]
fn every_command_checks_the_api_version_first() {
    let sb = Sandbox::new();
    let fake = FakeDaemon::start(&sb, typical);
    let c = conf(&sb, &fake.url());
    check(&ctl(&sb, &c, &["version"]), 0, "4.3.0\n");
    assert_eq!(
        fake.methods(),
        ["supervisor.getVersion", "supervisor.getSupervisorVersion"]
    );
    check(&ctl(&sb, &c, &["pid"]), 0, "99\n");
    check(&ctl(&sb, &c, &["pid", "all"]), 0, "4242\n0\n0\n");
}

#[test]
fn another_api_version_or_no_supervisor_namespace() {
    let sb = Sandbox::new();
    let fake = FakeDaemon::start(&sb, |r| match r.method.as_str() {
        "supervisor.getVersion" => Answer::Value("2.0".into()),
        _ => Answer::Value(true.into()),
    });
    let c = conf(&sb, &fake.url());
    check(
        &ctl(&sb, &c, &["status"]),
        4,
        "Sorry, this version of supervisorctl expects to talk to a server with API version 3.0, \
         but the remote version is 2.0.\n",
    );
    check(
        &ctl(&sb, &c, &["start", "x"]),
        5,
        "Sorry, this version of supervisorctl expects to talk to a server with API version 3.0, \
         but the remote version is 2.0.\n",
    );
    let sb = Sandbox::new();
    let fake = FakeDaemon::start(&sb, |_| Answer::Fault(1, "UNKNOWN_METHOD"));
    let c = conf(&sb, &fake.url());
    let run = ctl(&sb, &c, &["version"]);
    assert_eq!(run.status, Some(3), "{run:?}");
    assert!(
        run.stdout
            .contains("[rpcinterface:supervisor] section is enabled"),
        "{run:?}"
    );
}

#[test]
fn credentials_go_as_basic_auth() {
    let sb = Sandbox::new();
    let fake = FakeDaemon::start(&sb, typical);
    let c = conf(&sb, &fake.url());
    check(
        &ctl(&sb, &c, &["-u", "alice", "-p", "secret", "version"]),
        0,
        "4.3.0\n",
    );
    let auth = fake.requests()[0].authorization.clone();
    assert_eq!(auth.as_deref(), Some("Basic YWxpY2U6c2VjcmV0"));
    // A user name without a password sends nothing, as the reference.
    ctl(&sb, &c, &["-u", "alice", "version"]);
    assert_eq!(fake.requests()[2].authorization, None);
}

#[test]
fn a_401_without_a_terminal_says_so_and_fails() {
    let sb = Sandbox::new();
    let fake = FakeDaemon::start(&sb, |_| Answer::Status(401, "Unauthorized"));
    let c = conf(&sb, &fake.url());
    for args in [&["status"][..], &["avail"], &["shutdown"]] {
        let run = ctl(&sb, &c, args);
        assert_eq!(run.status, Some(1), "{run:?}");
        assert!(
            run.stdout.starts_with("Server requires authentication\n"),
            "{run:?}"
        );
        assert_eq!(
            error_line(&run),
            "error: <class 'xmlrpc.client.ProtocolError'>, \
             <ProtocolError for 127.0.0.1/RPC2: 401 Unauthorized>"
        );
    }
}

#[test]
fn bad_replies_are_errors_not_panics() {
    let answers: Vec<Answer> = vec![
        Answer::Raw(b"garbage\r\n\r\n".to_vec()),
        Answer::Raw(Vec::new()),
        Answer::Raw(http(200, "OK", b"<methodResponse><params>")),
        Answer::Raw(http(200, "OK", b"not xml at all")),
        Answer::Raw(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort".to_vec()),
        Answer::Raw(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".to_vec()),
        Answer::Status(500, "Internal Server Error"),
        Answer::Value(Value::Int(3)),
    ];
    for (i, answer) in answers.into_iter().enumerate() {
        let sb = Sandbox::new();
        let answer = Mutex::new(Some(answer));
        let fake = FakeDaemon::start(&sb, move |r| match r.method.as_str() {
            "supervisor.getVersion" => Answer::Value("3.0".into()),
            _ => answer
                .lock()
                .expect("lock")
                .take()
                .unwrap_or(Answer::Status(500, "x")),
        });
        let c = conf(&sb, &fake.url());
        let run = ctl(&sb, &c, &["status"]);
        assert_eq!(run.status, Some(1), "answer {i}: {run:?}");
        assert!(
            run.stdout.starts_with("error: <class '"),
            "answer {i}: {run:?}"
        );
        assert!(run.stderr.is_empty(), "answer {i}: {run:?}");
    }
}

#[test]
fn tail_reads_the_last_bytes() {
    let sb = Sandbox::new();
    let fake = FakeDaemon::start(&sb, typical);
    let c = conf(&sb, &fake.url());
    check(
        &ctl(&sb, &c, &["tail", "-100", "cat"]),
        0,
        "line one\nline two\n\n",
    );
    let read = fake
        .requests()
        .into_iter()
        .find(|r| r.method.contains("Stdout"));
    let body = read.expect("a readProcessStdoutLog call").body;
    assert!(
        body.contains("<int>-100</int>") && body.contains("<int>0</int>"),
        "{body}"
    );
    check(
        &ctl(&sb, &c, &["tail", "cat", "bogus"]),
        1,
        "Error: bad channel 'bogus'\n",
    );
    check(
        &ctl(&sb, &c, &["tail", "-x", "cat"]),
        1,
        "Error: bad argument -x\n",
    );
    let huge = ctl(&sb, &c, &["tail", "-99999999999", "cat"]);
    assert_eq!(
        error_line(&huge),
        "error: <class 'OverflowError'>, int exceeds XML-RPC limits"
    );
}

#[test]
fn tail_f_streams_until_the_daemon_closes() {
    let sb = Sandbox::new();
    let fake = FakeDaemon::start(&sb, |r| {
        if r.line.starts_with("GET /logtail/cat/stdout") {
            Answer::Raw(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello\n\r\n5\r\nworld\r\n0\r\n\r\n"
                    .to_vec(),
            )
        } else if r.line.starts_with("GET ") {
            Answer::Status(404, "Not Found")
        } else {
            typical(r)
        }
    });
    let c = conf(&sb, &fake.url());
    check(
        &ctl(&sb, &c, &["tail", "-f", "cat"]),
        0,
        "==> Press Ctrl-C to exit <==\nhello\nworld",
    );
    let run = ctl(&sb, &c, &["tail", "-f", "nosuch", "stderr"]);
    check(&run, 0, "==> Press Ctrl-C to exit <==\n");
    assert_eq!(
        run.stderr,
        format!(
            "{}/logtail/nosuch/stderr Cannot read, status code 404\n",
            fake.url()
        )
    );
}

#[test]
fn shell_without_a_terminal() {
    let sb = Sandbox::new();
    let fake = FakeDaemon::start(&sb, typical);
    let c = conf(&sb, &fake.url());
    let run = ctl_with_input(&sb, &c, &[], "version\n\nbogus\n?version\nquit\nversion\n");
    let status = ctl(&sb, &c, &["status"]).stdout;
    check(
        &run,
        0,
        &format!(
            "{status}supervisor> 4.3.0\nsupervisor> supervisor> *** Unknown syntax: bogus\n\
             supervisor> version\t\t\tShow the version of supervisord\nsupervisor> \n"
        ),
    );
    let run = ctl_with_input(&sb, &c, &["-i", "shutdown"], "n\n");
    check(
        &run,
        0,
        "Really shut the remote supervisord process down y/N? ",
    );
}

#[test]
fn messages_when_the_daemon_is_down() {
    let sb = Sandbox::new();
    let sock = sb.path().join("nonexistent.sock");
    let url = format!("unix://{}", sock.display());
    let c = conf(&sb, &url);
    check(
        &ctl(&sb, &c, &["status"]),
        4,
        &format!("{url} no such file\n"),
    );
    for args in [
        &["start", "x"][..],
        &["version"],
        &["tail", "-f", "x"],
        &["pid"],
    ] {
        check(&ctl(&sb, &c, args), 7, &format!("{url} no such file\n"));
    }
    let run = ctl(&sb, &c, &["avail"]);
    assert_eq!(run.status, Some(1), "{run:?}");
    assert_eq!(
        error_line(&run),
        "error: <class 'FileNotFoundError'>, [Errno 2] No such file or directory"
    );
    check(
        &ctl(&sb, &c, &["shutdown"]),
        1,
        &format!("ERROR: {url} no such file (already shut down?)\n"),
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let c = conf(&sb, &url);
    check(
        &ctl(&sb, &c, &["status"]),
        4,
        &format!("{url} refused connection\n"),
    );
    check(
        &ctl(&sb, &c, &["stop", "x"]),
        4,
        &format!("{url} refused connection\n"),
    );
    let run = ctl(&sb, &c, &["reread"]);
    assert_eq!(
        error_line(&run),
        "error: <class 'ConnectionRefusedError'>, [Errno 111] Connection refused"
    );
    check(
        &ctl(&sb, &c, &["shutdown"]),
        1,
        &format!("ERROR: {url} refused connection (already shut down?)\n"),
    );
    // -s wins over the config file.
    let run = ctl(&sb, &c, &["-s", "unix:///nonexistent/s.sock", "status"]);
    check(&run, 4, "unix:///nonexistent/s.sock no such file\n");
}

#[test]
fn help_needs_no_daemon() {
    let sb = Sandbox::new();
    let c = conf(&sb, "unix:///nonexistent.sock");
    check(
        &ctl(&sb, &c, &["help"]),
        0,
        "\ndefault commands (type help <topic>):\n=====================================\n\
         add    exit      open  reload  restart   start   tail   \n\
         avail  fg        pid   remove  shutdown  status  update \n\
         clear  maintail  quit  reread  signal    stop    version\n\n",
    );
    let run = ctl(&sb, &c, &["help", "status"]);
    let syntax: Vec<&str> = run
        .stdout
        .lines()
        .map(|l| l.split('\t').next().unwrap_or(""))
        .collect();
    assert_eq!(
        syntax,
        [
            "status <name>",
            "status <gname>:*",
            "status <name> <name>",
            "status"
        ]
    );
    check(
        &ctl(&sb, &c, &["help", "nosuch"]),
        0,
        "*** No help on nosuch\n",
    );
    check(&ctl(&sb, &c, &["bogus"]), 1, "*** Unknown syntax: bogus\n");
    check(&ctl(&sb, &c, &["!ls"]), 1, "*** Unknown syntax: !ls\n");
    check(&ctl(&sb, &c, &[""]), 0, "");
    check(&ctl(&sb, &c, &["quit"]), 0, "\n");
    check(
        &ctl(&sb, &c, &["open", "ftp://x"]),
        1,
        "ERROR: url must be http:// or unix://\n",
    );
    check(&ctl(&sb, &c, &["avail", "x"]), 1, "Error: avail accepts no arguments\navail\t\t\tList every configured process, whether active or not\n");
}

#[test]
fn command_line_errors() {
    let sb = Sandbox::new();
    let c = conf(&sb, "unix:///nonexistent.sock");
    let c = c.to_str().expect("utf-8 path");
    let run = sb.run("supervisorctl", &["-c", c, "--bogus", "status"]);
    assert_eq!(run.status, Some(2), "{run:?}");
    assert!(
        run.stderr
            .starts_with("Error: option --bogus not recognized\n"),
        "{run:?}"
    );
    let run = sb.run("supervisorctl", &["-c", c, "-s", "nourl", "status"]);
    assert_eq!(run.status, Some(2), "{run:?}");
    assert!(
        run.stderr
            .starts_with("Error: invalid value for -s 'nourl': value 'nourl' is not a URL\n"),
        "{run:?}"
    );
    sb.write("noctl.conf", "[supervisord]\n");
    let run = sb.run("supervisorctl", &["-c", "noctl.conf", "status"]);
    assert_eq!(run.status, Some(2), "{run:?}");
    let run = sb.run("supervisorctl", &["-c", "missing.conf", "status"]);
    assert_eq!(run.status, Some(2), "{run:?}");
    // Without -c and without a config file anywhere: the default URL.
    let system_wide = ["/etc/supervisord.conf", "/etc/supervisor/supervisord.conf"];
    if system_wide.iter().any(|p| Path::new(p).exists()) {
        return;
    }
    let run = sb.run(
        "supervisorctl",
        &["-s", "unix:///nonexistent.sock", "status"],
    );
    check(&run, 4, "unix:///nonexistent.sock no such file\n");
}

#[test]
fn prompt_from_the_config() {
    let sb = Sandbox::new();
    let fake = FakeDaemon::start(&sb, typical);
    let c = sb.write(
        "ctl.conf",
        &format!("[supervisorctl]\nserverurl={}\nprompt=web1\n", fake.url()),
    );
    let run = ctl_with_input(&sb, &c, &[], "version\n");
    assert!(run.stdout.ends_with("web1> 4.3.0\nweb1> \n"), "{run:?}");
}
