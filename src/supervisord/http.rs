//! HTTP listeners and connections inside the loop.
//!
//! Each connection derives what it waits for from its own state: reading a
//! request, waiting for a deferred RPC reply (`wait=true`), writing a
//! response, or streaming a log tail. Nothing blocks: a client that sends
//! half a request and stalls only holds its own buffer until its idle
//! deadline closes it.

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use mio::{Interest, Registry, Token};

use super::api::{Deferred, Reply};
use super::emit;
use super::event_loop::{Daemon, Owner};
use super::web::WebDone;
use crate::config::{HttpServerConfig, Listen};
use crate::rpc::http::{self as wire, Credentials, HttpError, Request};
use crate::rpc::xmlrpc::{self, Fault};
use crate::states::level;

/// How long a connection may sit idle (or half-sent) before it is closed.
const IDLE: Duration = Duration::from_secs(60);
/// Connections beyond this are refused.
const MAX_CONNECTIONS: usize = 1024;
/// How much of a log a new tail starts with, as the reference.
const TAIL_HEAD: u64 = 1024;

enum ListenSocket {
    Tcp(TcpListener),
    Unix(UnixListener),
}

/// One configured HTTP server socket.
pub(super) struct Listener {
    socket: ListenSocket,
    pub(super) config: HttpServerConfig,
}

impl Listener {
    pub(super) fn register(&mut self, registry: &Registry, token: Token) -> io::Result<()> {
        match &mut self.socket {
            ListenSocket::Tcp(l) => registry.register(l, token, Interest::READABLE),
            ListenSocket::Unix(l) => registry.register(l, token, Interest::READABLE),
        }
    }

    fn credentials(&self) -> Option<Credentials> {
        match (&self.config.username, &self.config.password) {
            (Some(u), Some(p)) => Some(Credentials {
                username: u.clone(),
                password: p.clone(),
            }),
            _ => None,
        }
    }
}

const IN_USE: &str = "Another program is already listening on a port that one of our HTTP servers \
                      is configured to use.  Shut this program down first before starting supervisord.";

/// Opens every configured server socket (before daemonizing, so errors
/// reach the terminal). A unix socket file left by a dead daemon is
/// replaced; one that answers means another daemon is running.
pub(super) fn open_listeners(servers: &[HttpServerConfig]) -> Result<Vec<Listener>, String> {
    let mut out = Vec::new();
    for config in servers {
        let socket = match &config.listen {
            Listen::Inet { host, port } => {
                let host = if host.is_empty() {
                    "0.0.0.0"
                } else {
                    host.as_str()
                };
                let addr = std::net::ToSocketAddrs::to_socket_addrs(&(host, *port))
                    .map_err(|e| format!("Cannot open an HTTP server: {host}:{port}: {e}"))?
                    .next()
                    .ok_or_else(|| {
                        format!("Cannot open an HTTP server: {host}:{port} does not resolve")
                    })?;
                let std_listener =
                    std::net::TcpListener::bind(addr).map_err(|e| match e.kind() {
                        io::ErrorKind::AddrInUse => IN_USE.to_string(),
                        _ => format!("Cannot open an HTTP server: socket.error reported {e}"),
                    })?;
                std_listener
                    .set_nonblocking(true)
                    .map_err(|e| format!("Cannot open an HTTP server: {e}"))?;
                ListenSocket::Tcp(TcpListener::from_std(std_listener))
            }
            Listen::Unix { file, chmod, chown } => {
                if std::path::Path::new(file).exists() {
                    if std::os::unix::net::UnixStream::connect(file).is_ok() {
                        return Err(IN_USE.to_string());
                    }
                    let _ = std::fs::remove_file(file);
                }
                let std_listener = std::os::unix::net::UnixListener::bind(file)
                    .map_err(|e| format!("Cannot open an HTTP server: {file}: {e}"))?;
                std_listener
                    .set_nonblocking(true)
                    .map_err(|e| format!("Cannot open an HTTP server: {e}"))?;
                if chown.0 != -1 || chown.1 != -1 {
                    let uid = u32::try_from(chown.0).ok();
                    let gid = u32::try_from(chown.1).ok();
                    std::os::unix::fs::chown(file, uid, gid)
                        .map_err(|e| format!("Could not change ownership of socket file: {e}"))?;
                }
                std::fs::set_permissions(file, std::fs::Permissions::from_mode(*chmod))
                    .map_err(|e| format!("Could not change permissions of socket file: {e}"))?;
                ListenSocket::Unix(UnixListener::from_std(std_listener))
            }
        };
        out.push(Listener {
            socket,
            config: config.clone(),
        });
    }
    Ok(out)
}

/// Removes the unix socket files we created (at exit).
pub(super) fn remove_socket_files(listeners: &[Listener]) {
    for l in listeners {
        if let Listen::Unix { file, .. } = &l.config.listen {
            let _ = std::fs::remove_file(file);
        }
    }
}

enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }

    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }

    fn register(&mut self, registry: &Registry, token: Token) -> io::Result<()> {
        let interest = Interest::READABLE | Interest::WRITABLE;
        match self {
            Stream::Tcp(s) => registry.register(s, token, interest),
            Stream::Unix(s) => registry.register(s, token, interest),
        }
    }

    fn deregister(&mut self, registry: &Registry) {
        let _ = match self {
            Stream::Tcp(s) => registry.deregister(s),
            Stream::Unix(s) => registry.deregister(s),
        };
    }
}

/// A log being followed for a streaming client.
pub(super) struct Tail {
    path: String,
    offset: u64,
    ino: u64,
}

impl Tail {
    fn open(path: &str) -> Option<Tail> {
        let meta = std::fs::metadata(path).ok()?;
        Some(Tail {
            path: path.to_string(),
            offset: meta.len().saturating_sub(TAIL_HEAD),
            ino: meta.ino(),
        })
    }

    /// New bytes since the last call (a rotated or truncated file starts
    /// over from its beginning).
    fn more(&mut self) -> Vec<u8> {
        let Ok(meta) = std::fs::metadata(&self.path) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if meta.ino() != self.ino {
            self.ino = meta.ino();
            self.offset = 0;
        } else if meta.len() < self.offset {
            self.offset = 0;
            out.extend_from_slice(b"==> File truncated <==\n");
        }
        if meta.len() > self.offset {
            let want = (meta.len() - self.offset).min(1 << 20);
            if let Ok(mut f) = std::fs::File::open(&self.path) {
                let mut data = Vec::new();
                if f.seek(SeekFrom::Start(self.offset)).is_ok()
                    && f.take(want).read_to_end(&mut data).is_ok()
                {
                    self.offset += data.len() as u64;
                    out.extend_from_slice(&data);
                }
            }
        }
        out
    }
}

enum ConnState {
    /// Reading requests (and writing responses already queued).
    Reading,
    /// A deferred RPC reply; the request asked to keep the connection.
    Waiting {
        deferred: Deferred,
        keep_alive: bool,
    },
    /// A web page action in progress; answered with a redirect to the
    /// status page showing its message.
    WaitingWeb {
        deferred: Deferred,
        done: WebDone,
        keep_alive: bool,
    },
    /// Streaming a log tail until the client goes away.
    Streaming { tail: Tail, minor: u8 },
    /// Flush what is queued, then close.
    Closing,
}

pub(super) struct Conn {
    stream: Stream,
    /// Index of the listener it came from (for its credentials).
    server: usize,
    inbuf: Vec<u8>,
    outbuf: OutBuf,
    state: ConnState,
    deadline: Instant,
}

/// Bytes queued for a connection, written from the front. What is written
/// is skipped, not moved: a large reply going out in many partial writes
/// is never shifted down (that would cost the square of its size).
#[derive(Default)]
struct OutBuf {
    bytes: Vec<u8>,
    written: usize,
}

impl OutBuf {
    fn is_empty(&self) -> bool {
        self.written == self.bytes.len()
    }

    fn pending(&self) -> &[u8] {
        &self.bytes[self.written..]
    }

    fn push(&mut self, bytes: Vec<u8>) {
        if self.is_empty() {
            // Moved, not copied: the common case of one reply at a time.
            self.bytes = bytes;
            self.written = 0;
        } else {
            self.bytes.extend_from_slice(&bytes);
        }
    }

    fn consume(&mut self, n: usize) {
        self.written = (self.written + n).min(self.bytes.len());
        if self.is_empty() {
            self.bytes.clear();
            self.written = 0;
        }
    }
}

impl Daemon {
    pub(super) fn accept(&mut self, li: usize) {
        loop {
            let accepted = match &self.listeners[li].socket {
                ListenSocket::Tcp(l) => l.accept().map(|(s, _)| {
                    let _ = s.set_nodelay(true);
                    Stream::Tcp(s)
                }),
                ListenSocket::Unix(l) => l.accept().map(|(s, _)| Stream::Unix(s)),
            };
            let mut stream = match accepted {
                Ok(s) => s,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    emit(
                        level::WARN,
                        &format!(
                            "accept failed on {}: {e}",
                            self.listeners[li].config.section
                        ),
                    );
                    return;
                }
            };
            if self.conns.len() >= MAX_CONNECTIONS {
                continue; // dropped: closes at once
            }
            let token = self.token();
            if stream.register(self.poll.registry(), token).is_err() {
                continue;
            }
            self.owners.insert(token, Owner::Conn);
            self.conns.insert(
                token,
                Conn {
                    stream,
                    server: li,
                    inbuf: Vec::new(),
                    outbuf: OutBuf::default(),
                    state: ConnState::Reading,
                    deadline: Instant::now() + IDLE,
                },
            );
        }
    }

    fn close_conn(&mut self, token: Token) {
        if let Some(mut conn) = self.conns.remove(&token) {
            conn.stream.deregister(self.poll.registry());
        }
        self.owners.remove(&token);
    }

    /// A connection's socket is readable and/or writable.
    pub(super) fn conn_ready(&mut self, token: Token) {
        let Some(conn) = self.conns.get_mut(&token) else {
            return;
        };
        conn.deadline = Instant::now() + IDLE;
        // Read everything available (bounded by the request limits).
        let mut eof = false;
        if matches!(conn.state, ConnState::Reading)
            || matches!(conn.state, ConnState::Streaming { .. })
        {
            let mut buf = [0u8; 16 * 1024];
            loop {
                match conn.stream.read(&mut buf) {
                    Ok(0) => {
                        eof = true;
                        break;
                    }
                    Ok(n) => {
                        if matches!(conn.state, ConnState::Reading) {
                            conn.inbuf.extend_from_slice(&buf[..n]);
                            if conn.inbuf.len() > wire::MAX_HEAD + wire::MAX_BODY + 1024 {
                                break;
                            }
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => {
                        eof = true;
                        break;
                    }
                }
            }
        }
        if eof
            && conn.outbuf.is_empty()
            && !matches!(
                conn.state,
                ConnState::Waiting { .. } | ConnState::WaitingWeb { .. }
            )
        {
            self.close_conn(token);
            return;
        }
        self.serve_requests(token);
        self.flush(token);
    }

    /// Handles every complete request buffered on a connection.
    fn serve_requests(&mut self, token: Token) {
        loop {
            let Some(conn) = self.conns.get_mut(&token) else {
                return;
            };
            if !matches!(conn.state, ConnState::Reading) {
                return;
            }
            match wire::parse_request(&conn.inbuf) {
                Ok(None) => return,
                Ok(Some((request, used))) => {
                    conn.inbuf.drain(..used);
                    self.handle(token, request);
                }
                Err(e) => {
                    let status = e.status();
                    if let HttpError::BadRequest(why) = &e {
                        emit(level::DEBG, &format!("bad HTTP request: {why}"));
                    }
                    conn.outbuf.push(wire::error_response(status, false, &[]));
                    conn.inbuf.clear();
                    conn.state = ConnState::Closing;
                    return;
                }
            }
        }
    }

    fn queue(&mut self, token: Token, bytes: Vec<u8>, keep_alive: bool) {
        if let Some(conn) = self.conns.get_mut(&token) {
            conn.outbuf.push(bytes);
            if !keep_alive {
                conn.state = ConnState::Closing;
            }
        }
    }

    /// Routes one request.
    fn handle(&mut self, token: Token, request: Request) {
        let Some(conn) = self.conns.get(&token) else {
            return;
        };
        let keep_alive = request.keep_alive();
        if let Some(creds) = self.listeners[conn.server].credentials() {
            if !wire::authorized(request.header("authorization"), &creds) {
                let challenge = [("WWW-Authenticate", "Basic realm=\"default\"")];
                self.queue(
                    token,
                    wire::error_response(401, keep_alive, &challenge),
                    keep_alive,
                );
                return;
            }
        }
        let path = request.path();
        if path.starts_with("/RPC2") {
            if request.method != "POST" {
                self.queue(
                    token,
                    wire::error_response(400, keep_alive, &[]),
                    keep_alive,
                );
                return;
            }
            if request.header("content-length").is_none() {
                self.queue(
                    token,
                    wire::error_response(411, keep_alive, &[]),
                    keep_alive,
                );
                return;
            }
            self.handle_rpc(token, &request, keep_alive);
        } else if let Some(rest) = path.strip_prefix("/logtail/") {
            let (name, channel) = match rest.split_once('/') {
                Some((n, c)) => (n.to_string(), c.to_string()),
                None => (rest.to_string(), "stdout".to_string()),
            };
            let file = self.process_log_path(&name, &channel);
            self.start_stream(token, &request, file);
        } else if path == "/" || path == "/index.html" {
            self.web_index(token, &request, keep_alive);
        } else if path == "/tail.html" {
            self.web_tail(token, &request, keep_alive);
        } else if path.starts_with("/mainlogtail") {
            let file = Some(self.config.settings.logfile.clone()).filter(|f| f != "syslog");
            self.start_stream(token, &request, file);
        } else {
            self.queue(
                token,
                wire::error_response(404, keep_alive, &[]),
                keep_alive,
            );
        }
    }

    fn handle_rpc(&mut self, token: Token, request: &Request, keep_alive: bool) {
        let (method, params) = match xmlrpc::parse_call(&request.body) {
            Ok(call) => call,
            Err(e) => {
                emit(
                    level::ERRO,
                    &format!("XML-RPC request data is invalid: {e}"),
                );
                self.queue(
                    token,
                    wire::error_response(400, keep_alive, &[]),
                    keep_alive,
                );
                return;
            }
        };
        emit(level::TRAC, &format!("XML-RPC method called: {method}()"));
        match self.rpc(&method, &params) {
            Reply::Done(result) => self.reply(token, result, keep_alive),
            Reply::Later(deferred) => {
                if let Some(conn) = self.conns.get_mut(&token) {
                    conn.state = ConnState::Waiting {
                        deferred,
                        keep_alive,
                    };
                }
                // It may already be done (e.g. nothing to wait for).
                self.changed = true;
            }
        }
    }

    fn reply(&mut self, token: Token, result: Result<xmlrpc::Value, Fault>, keep_alive: bool) {
        let body = match &result {
            Ok(value) => xmlrpc::write_response(value),
            Err(fault) => xmlrpc::write_fault(fault),
        };
        self.queue(
            token,
            wire::response(200, "text/xml", &body, keep_alive, &[]),
            keep_alive,
        );
    }

    /// The log file behind `/logtail/NAME[/CHANNEL]`, if it exists.
    fn process_log_path(&self, namespec: &str, channel: &str) -> Option<String> {
        let proc = self.find_process(namespec)?;
        let cfg = &self.slots[proc].cfg;
        let log = match channel {
            "stdout" => &cfg.stdout.logfile,
            "stderr" => &cfg.stderr.logfile,
            _ => return None,
        };
        match log {
            crate::config::LogFile::Path(p) if std::path::Path::new(p).exists() => Some(p.clone()),
            _ => None,
        }
    }

    fn start_stream(&mut self, token: Token, request: &Request, file: Option<String>) {
        let keep_alive = request.keep_alive();
        if request.method != "GET" {
            self.queue(
                token,
                wire::error_response(400, keep_alive, &[]),
                keep_alive,
            );
            return;
        }
        let Some(tail) = file.as_deref().and_then(Tail::open) else {
            self.queue(
                token,
                wire::error_response(404, keep_alive, &[]),
                keep_alive,
            );
            return;
        };
        let minor = request.minor;
        self.queue(
            token,
            wire::stream_head(minor, "text/plain;charset=utf-8"),
            true,
        );
        if let Some(conn) = self.conns.get_mut(&token) {
            conn.state = ConnState::Streaming { tail, minor };
        }
        self.pump_stream(token);
    }

    fn pump_stream(&mut self, token: Token) {
        let Some(conn) = self.conns.get_mut(&token) else {
            return;
        };
        if let ConnState::Streaming { tail, minor } = &mut conn.state {
            let data = tail.more();
            if !data.is_empty() {
                let chunk = wire::stream_chunk(*minor, &data);
                conn.outbuf.push(chunk);
            }
        }
    }

    /// Sends new log bytes to every streaming client.
    pub(super) fn pump_streams(&mut self) {
        let streaming: Vec<Token> = self
            .conns
            .iter()
            .filter(|(_, c)| matches!(c.state, ConnState::Streaming { .. }))
            .map(|(t, _)| *t)
            .collect();
        for token in streaming {
            self.pump_stream(token);
            self.flush(token);
        }
    }

    /// Re-checks every deferred reply (a process changed state).
    pub(super) fn poll_waiting(&mut self) {
        let waiting: Vec<Token> = self
            .conns
            .iter()
            .filter(|(_, c)| {
                matches!(
                    c.state,
                    ConnState::Waiting { .. } | ConnState::WaitingWeb { .. }
                )
            })
            .map(|(t, _)| *t)
            .collect();
        for token in waiting {
            let Some(conn) = self.conns.get_mut(&token) else {
                continue;
            };
            let (mut deferred, keep_alive, web) =
                match std::mem::replace(&mut conn.state, ConnState::Reading) {
                    ConnState::Waiting {
                        deferred,
                        keep_alive,
                    } => (deferred, keep_alive, None),
                    ConnState::WaitingWeb {
                        deferred,
                        done,
                        keep_alive,
                    } => (deferred, keep_alive, Some(done)),
                    other => {
                        conn.state = other;
                        continue;
                    }
                };
            match (self.poll_deferred(&mut deferred), web) {
                (Some(result), None) => self.reply(token, result, keep_alive),
                (Some(result), Some(done)) => {
                    let message = done.message(result);
                    self.web_redirect(token, &message, keep_alive);
                }
                (None, web) => {
                    if let Some(conn) = self.conns.get_mut(&token) {
                        conn.state = match web {
                            None => ConnState::Waiting {
                                deferred,
                                keep_alive,
                            },
                            Some(done) => ConnState::WaitingWeb {
                                deferred,
                                done,
                                keep_alive,
                            },
                        };
                    }
                    continue;
                }
            }
            self.serve_requests(token);
            self.flush(token);
        }
    }

    /// Holds a web action's reply until its processes have settled.
    pub(super) fn wait_web(
        &mut self,
        token: Token,
        deferred: Deferred,
        done: WebDone,
        keep_alive: bool,
    ) {
        if let Some(conn) = self.conns.get_mut(&token) {
            conn.state = ConnState::WaitingWeb {
                deferred,
                done,
                keep_alive,
            };
        }
        self.changed = true;
    }

    /// Queues a complete response.
    pub(super) fn respond(&mut self, token: Token, bytes: Vec<u8>, keep_alive: bool) {
        self.queue(token, bytes, keep_alive);
    }

    /// Writes what is queued; closes when done and asked to.
    fn flush(&mut self, token: Token) {
        let Some(conn) = self.conns.get_mut(&token) else {
            return;
        };
        while !conn.outbuf.is_empty() {
            match conn.stream.write(conn.outbuf.pending()) {
                Ok(0) => {
                    self.close_conn(token);
                    return;
                }
                Ok(n) => {
                    conn.outbuf.consume(n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    self.close_conn(token);
                    return;
                }
            }
        }
        if matches!(conn.state, ConnState::Closing) {
            self.close_conn(token);
        }
    }

    /// Closes connections idle past their deadline (streams and waiting
    /// replies are not idle).
    pub(super) fn expire_conns(&mut self) {
        let now = Instant::now();
        let expired: Vec<Token> = self
            .conns
            .iter()
            .filter(|(_, c)| {
                matches!(c.state, ConnState::Reading | ConnState::Closing) && c.deadline <= now
            })
            .map(|(t, _)| *t)
            .collect();
        for token in expired {
            self.close_conn(token);
        }
    }

    pub(super) fn next_conn_deadline(&self) -> Option<Instant> {
        self.conns
            .values()
            .filter(|c| matches!(c.state, ConnState::Reading | ConnState::Closing))
            .map(|c| c.deadline)
            .min()
    }

    /// Streams have no end: they must not count as waiting for ever in
    /// tests of shutdown; they close when the daemon exits.
    pub(super) fn close_all_conns(&mut self) {
        let tokens: Vec<Token> = self.conns.keys().copied().collect();
        for token in tokens {
            self.flush(token);
            self.close_conn(token);
        }
    }
}
