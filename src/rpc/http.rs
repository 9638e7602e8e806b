//! HTTP/1.0 and 1.1 on the server side, without I/O: parse a request from
//! bytes received so far, build response bytes, check Basic credentials.
//! The connection state machine in `supervisord::http` feeds it.

use base64::Engine;

/// Largest request head we accept (request line + headers).
pub const MAX_HEAD: usize = 16 * 1024;
/// Largest request body we accept (XML-RPC calls are small; the largest
/// legitimate one is sendProcessStdin).
pub const MAX_BODY: usize = 4 * 1024 * 1024;
const MAX_HEADERS: usize = 64;

/// One parsed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// The request target as sent (path and query).
    pub target: String,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor: u8,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The first header of this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the client wants the connection kept open afterwards.
    pub fn keep_alive(&self) -> bool {
        let connection = self.header("connection").map(str::to_ascii_lowercase);
        match self.minor {
            0 => connection.as_deref() == Some("keep-alive"),
            _ => connection.as_deref() != Some("close"),
        }
    }

    /// The path without the query string, percent-decoded.
    pub fn path(&self) -> String {
        let raw = self.target.split(['?', '#']).next().unwrap_or("");
        percent_decode(raw)
    }

    /// The query parameters (`a=1&b=x`), decoded.
    pub fn query(&self) -> Vec<(String, String)> {
        let Some((_, q)) = self.target.split_once('?') else {
            return Vec::new();
        };
        let q = q.split('#').next().unwrap_or("");
        q.split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (form_decode(k), form_decode(v))
            })
            .collect()
    }
}

/// Why a request cannot be served; each maps to a status code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// Malformed request line or headers.
    BadRequest(String),
    /// Head larger than MAX_HEAD.
    HeadTooLarge,
    /// Body larger than MAX_BODY.
    BodyTooLarge,
    /// A body without Content-Length (or with a transfer coding).
    LengthRequired,
}

impl HttpError {
    pub fn status(&self) -> u16 {
        match self {
            HttpError::BadRequest(_) => 400,
            HttpError::HeadTooLarge => 431,
            HttpError::BodyTooLarge => 413,
            HttpError::LengthRequired => 411,
        }
    }
}

/// Parses one request from the front of `buf`. Ok(None) means more bytes
/// are needed; Ok(Some((request, used))) consumed `used` bytes.
pub fn parse_request(buf: &[u8]) -> Result<Option<(Request, usize)>, HttpError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let head_len = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => {
            return if buf.len() > MAX_HEAD {
                Err(HttpError::HeadTooLarge)
            } else {
                Ok(None)
            }
        }
        Err(httparse::Error::TooManyHeaders) => return Err(HttpError::HeadTooLarge),
        Err(e) => return Err(HttpError::BadRequest(e.to_string())),
    };
    if head_len > MAX_HEAD {
        return Err(HttpError::HeadTooLarge);
    }
    let method = req.method.unwrap_or("").to_string();
    let target = req.path.unwrap_or("").to_string();
    let minor = req.version.unwrap_or(0);
    let headers: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_string(),
                String::from_utf8_lossy(h.value).trim().to_string(),
            )
        })
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    if header("transfer-encoding").is_some() {
        return Err(HttpError::LengthRequired);
    }
    let length = match header("content-length") {
        None => 0,
        Some(v) => v
            .parse::<usize>()
            .map_err(|_| HttpError::BadRequest(format!("bad Content-Length {v:?}")))?,
    };
    if length > MAX_BODY {
        return Err(HttpError::BodyTooLarge);
    }
    if buf.len() < head_len + length {
        return Ok(None);
    }
    let body = buf[head_len..head_len + length].to_vec();
    Ok(Some((
        Request {
            method,
            target,
            minor,
            headers,
            body,
        },
        head_len + length,
    )))
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        303 => "See Other",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// A complete response with a body.
pub fn response(
    status: u16,
    content_type: &str,
    body: &[u8],
    keep_alive: bool,
    extra: &[(&str, &str)],
) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status} {}\r\nServer: supervisor\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n",
        reason(status),
        body.len()
    );
    for (k, v) in extra {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(if keep_alive {
        "Connection: keep-alive\r\n\r\n"
    } else {
        "Connection: close\r\n\r\n"
    });
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// A small HTML error page.
pub fn error_response(status: u16, keep_alive: bool, extra: &[(&str, &str)]) -> Vec<u8> {
    let text = reason(status);
    let body = format!(
        "<html><head><title>{status} {text}</title></head><body><h1>{status} {text}</h1></body></html>\n"
    );
    response(status, "text/html", body.as_bytes(), keep_alive, extra)
}

/// The head of a streamed response (a log tail): chunked for HTTP/1.1,
/// until the connection closes for HTTP/1.0.
pub fn stream_head(minor: u8, content_type: &str) -> Vec<u8> {
    let framing = if minor >= 1 {
        "Transfer-Encoding: chunked\r\n"
    } else {
        ""
    };
    format!(
        "HTTP/1.{minor} 200 OK\r\nServer: supervisor\r\nContent-Type: {content_type}\r\n\
         X-Accel-Buffering: no\r\nCache-Control: no-cache\r\n{framing}Connection: close\r\n\r\n"
    )
    .into_bytes()
}

/// One piece of a streamed response body.
pub fn stream_chunk(minor: u8, data: &[u8]) -> Vec<u8> {
    if minor == 0 {
        return data.to_vec();
    }
    let mut out = format!("{:x}\r\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
    out
}

/// Credentials a server requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    /// Plain, or `{SHA}` followed by the hex SHA-1 of the password.
    pub password: String,
}

/// Compares without stopping at the first difference.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether an `Authorization` header satisfies `creds` (HTTP Basic).
pub fn authorized(header: Option<&str>, creds: &Credentials) -> bool {
    let Some(value) = header else { return false };
    let Some((scheme, token)) = value.trim().split_once(' ') else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return false;
    }
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(token.trim()) else {
        return false;
    };
    let Some(colon) = decoded.iter().position(|&b| b == b':') else {
        return false;
    };
    let (user, pass) = (&decoded[..colon], &decoded[colon + 1..]);
    let user_ok = constant_time_eq(user, creds.username.as_bytes());
    let pass_ok = match creds.password.strip_prefix("{SHA}") {
        Some(hex) => {
            let digest = sha1_smol::Sha1::from(pass).digest().to_string();
            constant_time_eq(digest.as_bytes(), hex.to_ascii_lowercase().as_bytes())
        }
        None => constant_time_eq(pass, creds.password.as_bytes()),
    };
    user_ok & pass_ok
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// `%XX` decoding (lossy for invalid UTF-8).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex_value(bytes[i + 1]), hex_value(bytes[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Form decoding: `+` is a space, then `%XX`.
pub fn form_decode(s: &str) -> String {
    percent_decode(&s.replace('+', " "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_requests_incrementally() {
        let raw = b"POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhelloGET /";
        assert_eq!(parse_request(&raw[..10]), Ok(None));
        assert_eq!(parse_request(&raw[..60]), Ok(None), "body incomplete");
        let (req, used) = parse_request(raw).expect("ok").expect("complete");
        assert_eq!(
            (req.method.as_str(), req.target.as_str(), req.minor),
            ("POST", "/RPC2", 1)
        );
        assert_eq!(req.body, b"hello");
        assert_eq!(&raw[used..], b"GET /");
        assert!(req.keep_alive());
        assert_eq!(req.header("HOST"), Some("localhost"));
    }

    #[test]
    fn keep_alive_rules() {
        let parse = |raw: &[u8]| parse_request(raw).expect("ok").expect("complete").0;
        assert!(!parse(b"GET / HTTP/1.0\r\n\r\n").keep_alive());
        assert!(parse(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive());
        assert!(!parse(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n").keep_alive());
    }

    #[test]
    fn bad_requests_are_errors() {
        assert!(matches!(
            parse_request(b"\x00\x01garbage\r\n\r\n"),
            Err(HttpError::BadRequest(_))
        ));
        assert_eq!(
            parse_request(b"POST / HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n"),
            Err(HttpError::BodyTooLarge)
        );
        assert_eq!(
            parse_request(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Err(HttpError::LengthRequired)
        );
        let huge = vec![b'a'; MAX_HEAD + 10];
        let mut req = b"GET / HTTP/1.1\r\nX: ".to_vec();
        req.extend_from_slice(&huge);
        assert_eq!(parse_request(&req), Err(HttpError::HeadTooLarge));
        assert!(matches!(
            parse_request(b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n"),
            Err(HttpError::BadRequest(_))
        ));
    }

    #[test]
    fn paths_and_queries() {
        let req =
            parse_request(b"GET /index.html?processname=a%3Ab&action=start&x=1+2 HTTP/1.1\r\n\r\n")
                .expect("ok")
                .expect("complete")
                .0;
        assert_eq!(req.path(), "/index.html");
        assert_eq!(
            req.query(),
            vec![
                ("processname".to_string(), "a:b".to_string()),
                ("action".to_string(), "start".to_string()),
                ("x".to_string(), "1 2".to_string())
            ]
        );
        assert_eq!(
            percent_decode("/logtail/g%3Ap/stderr"),
            "/logtail/g:p/stderr"
        );
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }

    #[test]
    fn basic_auth_plain_and_sha() {
        let b64 = |s: &str| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(s)
            )
        };
        let plain = Credentials {
            username: "user".into(),
            password: "123".into(),
        };
        assert!(authorized(Some(&b64("user:123")), &plain));
        assert!(!authorized(Some(&b64("user:124")), &plain));
        assert!(!authorized(Some(&b64("other:123")), &plain));
        assert!(!authorized(None, &plain));
        assert!(!authorized(Some("Bearer x"), &plain));
        assert!(!authorized(Some("Basic !!!"), &plain));
        // {SHA} of "thepassword"
        let sha = Credentials {
            username: "user".into(),
            password: "{SHA}82ab876d1387bfafe46cc1c8a2ef074eae50cb1d".into(),
        };
        assert!(authorized(Some(&b64("user:thepassword")), &sha));
        assert!(!authorized(Some(&b64("user:wrong")), &sha));
    }

    #[test]
    fn responses_and_chunks() {
        let r = response(200, "text/xml", b"abc", true, &[]);
        let text = String::from_utf8(r).expect("utf-8");
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(text.contains("Content-Length: 3\r\n"));
        assert!(text.ends_with("\r\n\r\nabc"));
        assert_eq!(stream_chunk(1, b"hello"), b"5\r\nhello\r\n");
        assert_eq!(stream_chunk(0, b"hello"), b"hello");
        let e = String::from_utf8(error_response(
            401,
            false,
            &[("WWW-Authenticate", "Basic realm=\"default\"")],
        ))
        .expect("utf-8");
        assert!(e.contains("WWW-Authenticate: Basic realm=\"default\"\r\n"));
    }
}
