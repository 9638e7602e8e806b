//! A small blocking HTTP/1.1 client for supervisord, over a unix socket
//! (`unix:///path`) or TCP (`http://host:port`), with Basic auth: XML-RPC
//! calls (`POST /RPC2`, one connection per call) and the log streams of
//! `tail -f` and `fg` (`GET /logtail/...`), read as they come.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::rpc::xmlrpc::{self, Value};

use super::error::CallError;
use super::format::hex_size;

/// Where supervisord listens and the credentials to give it.
#[derive(Debug, Clone, Default)]
pub struct Server {
    pub url: String,
    pub username: Option<String>,
    pub password: Option<String>,
}

/// The largest HTTP head we read before giving up on a reply.
const MAX_HEAD: usize = 64 * 1024;

enum Endpoint {
    Unix(String),
    Tcp { host: String, port: u16 },
}

/// One open connection to the daemon.
pub enum Conn {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Unix(s) => s.read(buf),
            Conn::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Unix(s) => s.write(buf),
            Conn::Tcp(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl AsRawFd for Conn {
    fn as_raw_fd(&self) -> RawFd {
        match self {
            Conn::Unix(s) => s.as_raw_fd(),
            Conn::Tcp(s) => s.as_raw_fd(),
        }
    }
}

impl Server {
    /// Calls `method` and returns its result, or the fault or failure.
    pub fn call(&self, method: &str, params: &[Value]) -> Result<Value, CallError> {
        let body = xmlrpc::write_call(method, params);
        let (mut conn, host) = self.connect()?;
        let mut request = format!(
            "POST /RPC2 HTTP/1.1\r\nHost: {host}\r\nAccept-Encoding: identity\r\n\
             User-Agent: supervisorctl/{}\r\nContent-Type: text/xml\r\nAccept: text/xml\r\n",
            crate::OUR_VERSION
        );
        if let (Some(user), Some(pass)) = (&self.username, &self.password) {
            request.push_str(&basic_auth(user, pass));
        }
        request.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        let mut bytes = request.into_bytes();
        bytes.extend_from_slice(&body);
        conn.write_all(&bytes).map_err(CallError::Os)?;
        let (head, rest) = read_head(&mut conn)?;
        if head.status != 200 {
            return Err(CallError::Http {
                status: head.status,
                reason: head.reason,
            });
        }
        let reply = read_body(&mut conn, head.framing, &rest)?;
        match xmlrpc::parse_response(&reply) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(fault)) => Err(CallError::Fault(fault)),
            Err(e) => Err(CallError::BadReply(e.message)),
        }
    }

    /// Opens `GET path` (a `/logtail/...` or `/mainlogtail` stream).
    pub fn open_stream(&self, path: &str) -> Result<LogStream, CallError> {
        let (mut conn, host) = self.connect()?;
        let mut request = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept-Encoding: chunked\r\n\
             Accept: */*\r\nUser-agent: Supervisor HTTP Client\r\n"
        );
        // As the reference: credentials go along whenever a password is set.
        if let Some(pass) = self.password.as_deref().filter(|p| !p.is_empty()) {
            request.push_str(&basic_auth(
                self.username.as_deref().unwrap_or("None"),
                pass,
            ));
        }
        request.push_str("\r\n");
        conn.write_all(request.as_bytes()).map_err(CallError::Os)?;
        Ok(LogStream {
            conn,
            url: format!("{}{path}", self.url),
            head: Vec::new(),
            body: None,
        })
    }

    fn endpoint(&self) -> Result<Endpoint, CallError> {
        if let Some(path) = self.url.strip_prefix("unix://") {
            return Ok(Endpoint::Unix(path.to_string()));
        }
        match self.url.strip_prefix("http://") {
            Some(rest) => tcp_endpoint(rest),
            None => Err(CallError::BadUrl(format!(
                "Unknown protocol for serverurl {}",
                self.url
            ))),
        }
    }

    /// A new connection and the `Host` header to send on it.
    fn connect(&self) -> Result<(Conn, String), CallError> {
        match self.endpoint()? {
            Endpoint::Unix(path) => {
                let stream = UnixStream::connect(path).map_err(CallError::Os)?;
                Ok((Conn::Unix(stream), "localhost".to_string()))
            }
            Endpoint::Tcp { host, port } => {
                let stream = connect_tcp(&host, port)?;
                let _ = stream.set_nodelay(true);
                let shown = if host.contains(':') {
                    format!("[{host}]")
                } else {
                    host
                };
                let header = if port == 80 {
                    shown
                } else {
                    format!("{shown}:{port}")
                };
                Ok((Conn::Tcp(stream), header))
            }
        }
    }
}

fn basic_auth(user: &str, pass: &str) -> String {
    format!(
        "Authorization: Basic {}\r\n",
        STANDARD.encode(format!("{user}:{pass}"))
    )
}

/// Host and port of `http://` URL text after the scheme, as Python's
/// `urlparse` reads them (user info dropped, host lower-cased, port 80 by
/// default).
fn tcp_endpoint(rest: &str) -> Result<Endpoint, CallError> {
    let netloc = rest.split(['/', '?', '#']).next().unwrap_or("");
    let hostport = netloc.rsplit('@').next().unwrap_or(netloc);
    let (host, port) = match hostport.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((h, p)) => (h, p.strip_prefix(':')),
            None => (v6, None),
        },
        None => match hostport.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        },
    };
    let port = match port.filter(|p| !p.is_empty()) {
        None => 80,
        Some(p) => parse_port(p)?,
    };
    let host = if host.is_empty() {
        "localhost".to_string()
    } else {
        host.to_ascii_lowercase()
    };
    Ok(Endpoint::Tcp { host, port })
}

fn parse_port(text: &str) -> Result<u16, CallError> {
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CallError::BadUrl(format!(
            "Port could not be cast to integer value as {}",
            crate::config::values::python_repr(text)
        )));
    }
    text.parse::<u16>()
        .map_err(|_| CallError::BadUrl("Port out of range 0-65535".to_string()))
}

fn connect_tcp(host: &str, port: u16) -> Result<TcpStream, CallError> {
    let addrs = (host, port).to_socket_addrs().map_err(|e| {
        let text = e.to_string();
        let text = text
            .strip_prefix("failed to lookup address information: ")
            .unwrap_or(&text);
        CallError::Resolve(text.to_string())
    })?;
    let mut first_error = None;
    for addr in addrs {
        match TcpStream::connect(addr) {
            Ok(stream) => return Ok(stream),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(match first_error {
        Some(e) => CallError::Os(e),
        None => CallError::Resolve("Name or service not known".to_string()),
    })
}

/// How a reply's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

struct Head {
    status: u16,
    reason: String,
    framing: Framing,
}

/// Parses an HTTP response head; None while it is incomplete. Returns the
/// head and how many bytes of `bytes` it took.
fn parse_head(bytes: &[u8]) -> Result<Option<(Head, usize)>, CallError> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    let used = match response.parse(bytes) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if bytes.len() > MAX_HEAD => {
            return Err(CallError::BadReply("HTTP reply head too long".into()))
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(CallError::BadReply(format!("bad HTTP reply: {e}"))),
    };
    let mut framing = Framing::UntilClose;
    for h in response.headers.iter() {
        let value = String::from_utf8_lossy(h.value);
        if h.name.eq_ignore_ascii_case("transfer-encoding")
            && value.trim().eq_ignore_ascii_case("chunked")
        {
            framing = Framing::Chunked;
        } else if h.name.eq_ignore_ascii_case("content-length") && framing != Framing::Chunked {
            let length = value.trim().parse::<usize>();
            framing = Framing::Length(
                length.map_err(|_| CallError::BadReply(format!("bad Content-Length {value:?}")))?,
            );
        }
    }
    let head = Head {
        status: response.code.unwrap_or(0),
        reason: response.reason.unwrap_or("").to_string(),
        framing,
    };
    Ok(Some((head, used)))
}

/// Reads until the reply head is complete; returns it and the bytes read
/// after it.
fn read_head(conn: &mut Conn) -> Result<(Head, Vec<u8>), CallError> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = read_some(conn, &mut chunk)?;
        if n == 0 {
            return Err(if buf.is_empty() {
                CallError::Disconnected
            } else {
                CallError::BadReply("incomplete HTTP reply".into())
            });
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some((head, used)) = parse_head(&buf)? {
            return Ok((head, buf[used..].to_vec()));
        }
    }
}

fn read_some(conn: &mut Conn, buf: &mut [u8]) -> Result<usize, CallError> {
    loop {
        match conn.read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CallError::Os(e)),
        }
    }
}

/// Most body bytes reserved up front from a `Content-Length`.
const MAX_RESERVE: usize = 16 * 1024 * 1024;

/// Reads a whole reply body.
fn read_body(conn: &mut Conn, framing: Framing, already: &[u8]) -> Result<Vec<u8>, CallError> {
    let mut decoder = Body::new(framing);
    let mut out = Vec::new();
    if let Framing::Length(n) = framing {
        // Announced sizes are trusted only up to a sane bound.
        out.reserve_exact(n.min(MAX_RESERVE));
    }
    decoder.feed(already, &mut out)?;
    let mut chunk = [0u8; 16384];
    while !decoder.done {
        let n = read_some(conn, &mut chunk)?;
        if n == 0 {
            if decoder.framing == Framing::UntilClose {
                break;
            }
            return Err(CallError::BadReply("incomplete HTTP reply body".into()));
        }
        decoder.feed(&chunk[..n], &mut out)?;
    }
    Ok(out)
}

/// Where a chunked body's reader is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Chunk {
    Size,
    Data(usize),
    DataEnd,
    Trailer,
}

/// Decodes a body as its bytes arrive, whatever its framing.
struct Body {
    framing: Framing,
    remaining: usize,
    chunk: Chunk,
    line: Vec<u8>,
    done: bool,
}

impl Body {
    fn new(framing: Framing) -> Body {
        let remaining = match framing {
            Framing::Length(n) => n,
            _ => 0,
        };
        Body {
            framing,
            remaining,
            chunk: Chunk::Size,
            line: Vec::new(),
            done: framing == Framing::Length(0),
        }
    }

    /// Appends the body bytes found in `input` to `out`.
    fn feed(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> Result<(), CallError> {
        match self.framing {
            Framing::UntilClose => out.extend_from_slice(input),
            Framing::Length(_) => {
                let take = input.len().min(self.remaining);
                out.extend_from_slice(&input[..take]);
                self.remaining -= take;
                self.done = self.remaining == 0;
            }
            Framing::Chunked => {
                while !input.is_empty() && !self.done {
                    input = self.feed_chunked(input, out)?;
                }
            }
        }
        Ok(())
    }

    /// Takes one step of chunked decoding; returns the unread input.
    fn feed_chunked<'a>(
        &mut self,
        input: &'a [u8],
        out: &mut Vec<u8>,
    ) -> Result<&'a [u8], CallError> {
        if let Chunk::Data(left) = self.chunk {
            let take = input.len().min(left);
            out.extend_from_slice(&input[..take]);
            self.chunk = if take == left {
                Chunk::DataEnd
            } else {
                Chunk::Data(left - take)
            };
            return Ok(&input[take..]);
        }
        let Some(end) = input.iter().position(|&b| b == b'\n') else {
            self.line.extend_from_slice(input);
            return Ok(&[]);
        };
        self.line.extend_from_slice(&input[..end]);
        let line = String::from_utf8_lossy(&self.line).trim().to_string();
        self.line.clear();
        self.chunk = match (self.chunk, line.is_empty()) {
            (Chunk::Size, true) | (Chunk::DataEnd, _) => Chunk::Size,
            (Chunk::Size, false) => match hex_size(&line) {
                Some(0) => Chunk::Trailer,
                Some(n) => Chunk::Data(n),
                None => return Err(CallError::BadReply(format!("bad chunk size {line:?}"))),
            },
            (Chunk::Trailer, true) => {
                self.done = true;
                Chunk::Trailer
            }
            (other, _) => other,
        };
        Ok(&input[end + 1..])
    }
}

/// An open log stream: its reply head, then its body as it grows.
pub struct LogStream {
    conn: Conn,
    url: String,
    head: Vec<u8>,
    body: Option<Body>,
}

/// What one read of a log stream gave.
pub enum Pumped {
    /// Log text (possibly empty, e.g. while the head is still arriving).
    Text(Vec<u8>),
    /// The stream is over; the message (for stderr) says why when it is not
    /// a normal end.
    Ended(Option<String>),
}

impl LogStream {
    pub fn fd(&self) -> RawFd {
        self.conn.as_raw_fd()
    }

    /// Reads once (the fd should be readable) and decodes what came.
    pub fn pump(&mut self) -> Pumped {
        let mut chunk = [0u8; 65536];
        let n = match read_some(&mut self.conn, &mut chunk) {
            Ok(0) => return Pumped::Ended(None),
            Ok(n) => n,
            Err(e) => return Pumped::Ended(Some(self.cannot_connect(&e))),
        };
        let mut out = Vec::new();
        let result = match &mut self.body {
            Some(body) => body.feed(&chunk[..n], &mut out).map(|()| body.done),
            None => self.take_head(&chunk[..n], &mut out),
        };
        match result {
            Ok(false) => Pumped::Text(out),
            Ok(true) if out.is_empty() => Pumped::Ended(None),
            Ok(true) => Pumped::Text(out),
            Err(message) => Pumped::Ended(Some(message.to_string())),
        }
    }

    /// Collects the reply head; returns whether the stream is over.
    fn take_head(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<bool, CallError> {
        self.head.extend_from_slice(input);
        let Some((head, used)) = parse_head(&self.head)? else {
            return Ok(false);
        };
        if head.status != 200 {
            return Err(CallError::BadReply(format!(
                "{} Cannot read, status code {}",
                self.url, head.status
            )));
        }
        let mut body = Body::new(head.framing);
        let rest = self.head.split_off(used);
        body.feed(&rest, out)?;
        let done = body.done;
        self.body = Some(body);
        Ok(done)
    }

    fn cannot_connect(&self, e: &CallError) -> String {
        format!("{} Cannot connect, error: {}", self.url, python_pair(e))
    }
}

/// `<class 'X'> (message)`, as the reference's stream client reports a
/// socket error.
pub fn python_pair(e: &CallError) -> String {
    match e {
        CallError::Os(io) => format!(
            "<class '{}'> ({})",
            super::error::os_error_class(io.raw_os_error()),
            super::error::os_error_text(io)
        ),
        other => format!("<class 'OSError'> ({other})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(framing: Framing, pieces: &[&[u8]]) -> (Vec<u8>, bool) {
        let mut body = Body::new(framing);
        let mut out = Vec::new();
        for p in pieces {
            body.feed(p, &mut out).expect("decodes");
        }
        (out, body.done)
    }

    #[test]
    fn chunked_bodies_in_any_pieces() {
        let whole: &[u8] = b"5\r\nhello\r\n7;x=y\r\n, world\r\n0\r\n\r\n";
        assert_eq!(
            decode(Framing::Chunked, &[whole]),
            (b"hello, world".to_vec(), true)
        );
        let pieces: Vec<&[u8]> = whole.chunks(1).collect();
        assert_eq!(
            decode(Framing::Chunked, &pieces),
            (b"hello, world".to_vec(), true)
        );
        assert_eq!(
            decode(Framing::Chunked, &[b"3\r\nabc\r\n"]),
            (b"abc".to_vec(), false)
        );
    }

    #[test]
    fn length_and_close_delimited_bodies() {
        assert_eq!(
            decode(Framing::Length(3), &[b"ab", b"cdef"]),
            (b"abc".to_vec(), true)
        );
        assert_eq!(
            decode(Framing::UntilClose, &[b"ab", b"c"]),
            (b"abc".to_vec(), false)
        );
        assert!(Body::new(Framing::Length(0)).done);
    }

    #[test]
    fn bad_chunk_size_is_an_error_not_a_panic() {
        let mut body = Body::new(Framing::Chunked);
        assert!(body.feed(b"zz\r\n", &mut Vec::new()).is_err());
    }

    #[test]
    fn urls_as_python_reads_them() {
        let ep = |url: &str| match (Server {
            url: url.into(),
            ..Server::default()
        })
        .endpoint()
        {
            Ok(Endpoint::Tcp { host, port }) => format!("{host} {port}"),
            Ok(Endpoint::Unix(p)) => format!("unix {p}"),
            Err(e) => format!("error {e}"),
        };
        assert_eq!(ep("http://localhost:9001"), "localhost 9001");
        assert_eq!(ep("http://LocalHost"), "localhost 80");
        assert_eq!(ep("http://u:p@h:1/RPC2"), "h 1");
        assert_eq!(ep("http://[::1]:9001"), "::1 9001");
        assert_eq!(ep("unix:///tmp/s.sock"), "unix /tmp/s.sock");
        assert_eq!(
            ep("http://h:x"),
            "error Port could not be cast to integer value as 'x'"
        );
        assert_eq!(ep("http://h:70000"), "error Port out of range 0-65535");
        assert_eq!(
            ep("ftp://h"),
            "error Unknown protocol for serverurl ftp://h"
        );
    }
}
