//! The XML-RPC wire format: values, faults, and the four messages (a call and
//! a response, each read and written). Pure: it knows nothing of processes,
//! sockets or HTTP, and is shared by the daemon (`parse_call`,
//! `write_response`, `write_fault`) and `supervisorctl` (`write_call`,
//! `parse_response`).
//!
//! What we write is byte for byte what Python's `xmlrpc.client.dumps` writes
//! (the reference daemon's own output), except that `<base64>` is one line,
//! doubles use Rust's shortest form, a carriage return is written `&#13;` (a
//! raw one would reach the client as `\n`) and characters XML 1.0 cannot carry
//! (C0 controls such as ESC, U+FFFE, U+FFFF) become U+FFFD: the reference
//! writes them raw, and every client then fails on the whole response.
//!
//! What we read is everything Python's `xmlrpc.client` sends and what the
//! reference's own reader (`supervisor_xmlrpc_handler.loads`) accepts from
//! other clients, with these deliberate differences, all in the direction of
//! refusing nonsense the reference silently turns into other values:
//! - an `<int>`, `<i4>` or `<i8>` must fit in 32 bits (the reference keeps
//!   Python's big integers and reads `<i8>` as a *string*);
//! - `<boolean>` is `0`, `1`, `true` or `false` (the reference reads anything
//!   but exactly `1`, including `true`, as false);
//! - unknown type tags, stray text between elements, a second child in a
//!   `<value>` and a wrong root element are errors (the reference ignores
//!   them); nesting deeper than [`MAX_DEPTH`] and a `<!DOCTYPE` (and so
//!   custom entities) are refused.
//!
//! A request that cannot be read is a [`ParseError`], not a [`Fault`]: the
//! reference answers it with HTTP 400 (and 400 again when `<methodName>` is
//! missing or empty), never with a fault body.

use std::fmt;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use std::borrow::Cow;

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;
use quick_xml::reader::Reader;

/// Deepest `<value>` we read: a parameter is depth 1, each array or struct
/// around a value adds one, so at most `MAX_DEPTH - 1` nested arrays or
/// structs. The deepest value Supervisor itself takes, a
/// `system.multicall` argument, reaches depth 4.
pub const MAX_DEPTH: usize = 64;

/// Largest request body `parse_call` reads. The HTTP layer should refuse a
/// larger `Content-Length` before reading the body. (The reference has no
/// limit; `sendProcessStdin` is the one call that may carry a lot of data.
/// Reading takes about 60 ms per MiB of densely structured XML in a release
/// build, well under 10 ms per MiB of plain text.)
pub const MAX_CALL_BYTES: usize = 4 * 1024 * 1024;

/// One XML-RPC value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(i32),
    Bool(bool),
    String(String),
    Double(f64),
    /// `<dateTime.iso8601>` text as sent (trimmed), e.g. `20240102T03:04:05`.
    DateTime(String),
    Base64(Vec<u8>),
    Array(Vec<Value>),
    /// Members in the order they were sent or are to be written.
    Struct(Vec<(String, Value)>),
    /// `<nil/>`, Python's `None` with `allow_none=True`.
    Nil,
    /// A value already written as XML by an [`XmlOut`]: the daemon's large
    /// replies, written straight from its tables. Written verbatim; never
    /// the result of reading.
    Xml(String),
}

impl Value {
    /// A struct built from `(name, value)` pairs, in order.
    pub fn structure<K: Into<String>>(members: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Struct(members.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// An `<int>`, or a `<boolean>` as 0 or 1 (a Python `bool` is an `int`,
    /// so the reference accepts one wherever it wants a number).
    pub fn as_int(&self) -> Option<i32> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Bool(b) => Some(i32::from(*b)),
            _ => None,
        }
    }

    /// A `<boolean>`, or an `<int>` by Python's truth test (non-zero is true):
    /// the reference only ever does `if wait:`, and some clients send `1`.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::Int(i) => Some(*i != 0),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_struct(&self) -> Option<&[(String, Value)]> {
        match self {
            Value::Struct(members) => Some(members),
            _ => None,
        }
    }

    /// A struct member by name; the last one wins when a name repeats, as in
    /// the Python `dict` the reference builds.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.as_struct()?
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

impl From<i32> for Value {
    fn from(i: i32) -> Value {
        Value::Int(i)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<f64> for Value {
    fn from(d: f64) -> Value {
        Value::Double(d)
    }
}

impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Value {
        Value::Array(items)
    }
}

impl From<Vec<(String, Value)>> for Value {
    fn from(members: Vec<(String, Value)>) -> Value {
        Value::Struct(members)
    }
}

/// The reference's fault codes (`supervisor/xmlrpc.py` `Faults`).
pub mod faults {
    pub const UNKNOWN_METHOD: i32 = 1;
    pub const INCORRECT_PARAMETERS: i32 = 2;
    pub const BAD_ARGUMENTS: i32 = 3;
    pub const SIGNATURE_UNSUPPORTED: i32 = 4;
    pub const SHUTDOWN_STATE: i32 = 6;
    pub const BAD_NAME: i32 = 10;
    pub const BAD_SIGNAL: i32 = 11;
    pub const NO_FILE: i32 = 20;
    pub const NOT_EXECUTABLE: i32 = 21;
    pub const FAILED: i32 = 30;
    pub const ABNORMAL_TERMINATION: i32 = 40;
    pub const SPAWN_ERROR: i32 = 50;
    pub const ALREADY_STARTED: i32 = 60;
    pub const NOT_RUNNING: i32 = 70;
    pub const SUCCESS: i32 = 80;
    pub const ALREADY_ADDED: i32 = 90;
    pub const STILL_RUNNING: i32 = 91;
    pub const CANT_REREAD: i32 = 92;

    /// Every code with its name.
    pub const ALL: [(i32, &str); 18] = [
        (UNKNOWN_METHOD, "UNKNOWN_METHOD"),
        (INCORRECT_PARAMETERS, "INCORRECT_PARAMETERS"),
        (BAD_ARGUMENTS, "BAD_ARGUMENTS"),
        (SIGNATURE_UNSUPPORTED, "SIGNATURE_UNSUPPORTED"),
        (SHUTDOWN_STATE, "SHUTDOWN_STATE"),
        (BAD_NAME, "BAD_NAME"),
        (BAD_SIGNAL, "BAD_SIGNAL"),
        (NO_FILE, "NO_FILE"),
        (NOT_EXECUTABLE, "NOT_EXECUTABLE"),
        (FAILED, "FAILED"),
        (ABNORMAL_TERMINATION, "ABNORMAL_TERMINATION"),
        (SPAWN_ERROR, "SPAWN_ERROR"),
        (ALREADY_STARTED, "ALREADY_STARTED"),
        (NOT_RUNNING, "NOT_RUNNING"),
        (SUCCESS, "SUCCESS"),
        (ALREADY_ADDED, "ALREADY_ADDED"),
        (STILL_RUNNING, "STILL_RUNNING"),
        (CANT_REREAD, "CANT_REREAD"),
    ];

    /// The code's name, or `UNKNOWN` (`getFaultDescription`).
    pub fn name(code: i32) -> &'static str {
        ALL.iter()
            .find(|(c, _)| *c == code)
            .map_or("UNKNOWN", |(_, n)| n)
    }
}

/// An XML-RPC fault: `faultCode` and `faultString`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub code: i32,
    pub string: String,
}

impl Fault {
    /// `CODE_NAME: detail`, as the reference's `RPCError(code, extra)`.
    /// An empty detail still gets the `: ` (as in the reference).
    pub fn new(code: i32, detail: impl fmt::Display) -> Fault {
        Fault {
            code,
            string: format!("{}: {}", faults::name(code), detail),
        }
    }

    /// Just `CODE_NAME`, as the reference's `RPCError(code)`.
    pub fn bare(code: i32) -> Fault {
        Fault {
            code,
            string: faults::name(code).to_owned(),
        }
    }

    /// The `{faultCode, faultString}` struct, as `system.multicall` returns
    /// a failed call among its results.
    pub fn to_value(&self) -> Value {
        Value::structure([
            ("faultCode", Value::Int(self.code)),
            ("faultString", Value::String(self.string.clone())),
        ])
    }
}

impl fmt::Display for Fault {
    /// `[code] string`, as the reference logs a fault.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.code, self.string)
    }
}

/// A body that is not a well-formed XML-RPC message. The daemon answers a
/// request that gives this with HTTP 400, as the reference does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub message: String,
}

impl ParseError {
    fn new(message: impl Into<String>) -> ParseError {
        ParseError {
            message: message.into(),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid XML-RPC message: {}", self.message)
    }
}

impl std::error::Error for ParseError {}

// ---------------------------------------------------------------------------
// Reading

/// Reads a `<methodCall>`: the method name and its parameters (none when
/// `<params>` is empty or absent, which the reference allows).
pub fn parse_call(body: &[u8]) -> Result<(String, Vec<Value>), ParseError> {
    if body.len() > MAX_CALL_BYTES {
        return Err(ParseError::new(format!(
            "request body larger than {MAX_CALL_BYTES} bytes"
        )));
    }
    let text = decode(body)?;
    let mut p = Parser::new(&text);
    p.expect_start("methodCall")?;
    let mut method = None;
    let mut params = None;
    loop {
        match p.next_markup()? {
            Tok::Start(name) if name == "methodName" && method.is_none() => {
                method = Some(p.text()?);
            }
            Tok::Start(name) if name == "params" && params.is_none() => {
                params = Some(p.params()?);
            }
            Tok::Start(name) => return Err(unexpected(&name, "in <methodCall>")),
            Tok::End => break,
            Tok::Text(_) | Tok::Eof => return Err(ParseError::new("unterminated <methodCall>")),
        }
    }
    p.expect_eof()?;
    match method {
        Some(m) if !m.is_empty() => Ok((m, params.unwrap_or_default())),
        _ => Err(ParseError::new("no method name")),
    }
}

/// Reads a `<methodResponse>`: its one value, or the fault it carries.
pub fn parse_response(body: &[u8]) -> Result<Result<Value, Fault>, ParseError> {
    let text = decode(body)?;
    let mut p = Parser::new(&text);
    p.expect_start("methodResponse")?;
    let result = match p.next_markup()? {
        Tok::Start(name) if name == "params" => {
            let mut params = p.params()?;
            match params.pop() {
                Some(value) if params.is_empty() => Ok(value),
                _ => {
                    return Err(ParseError::new(
                        "a response must carry exactly one parameter",
                    ))
                }
            }
        }
        Tok::Start(name) if name == "fault" => {
            p.expect_start("value")?;
            let value = p.value(1)?;
            p.expect_end("fault")?;
            Err(fault_from_value(&value)?)
        }
        Tok::Start(name) => return Err(unexpected(&name, "in <methodResponse>")),
        _ => return Err(ParseError::new("empty <methodResponse>")),
    };
    p.expect_end("methodResponse")?;
    p.expect_eof()?;
    Ok(result)
}

fn fault_from_value(value: &Value) -> Result<Fault, ParseError> {
    match (
        value.get("faultCode").and_then(Value::as_int),
        value.get("faultString").and_then(Value::as_str),
    ) {
        (Some(code), Some(string)) => Ok(Fault {
            code,
            string: string.to_owned(),
        }),
        _ => Err(ParseError::new(
            "a fault must be a struct with an int faultCode and a string faultString",
        )),
    }
}

fn unexpected(name: &str, place: &str) -> ParseError {
    ParseError::new(format!("unexpected <{name}> {place}"))
}

fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// What the grammar below sees of the XML: elements by local name (so
/// `<ex:nil/>` and `<ex:i8>` of Apache XML-RPC read as `nil` and `i8`), text
/// with entities, character references and CDATA resolved (possibly in
/// several pieces), and nothing else.
enum Tok<'a> {
    Start(Cow<'static, str>),
    End,
    Text(Cow<'a, str>),
    Eof,
}

/// The element names of XML-RPC, so that reading one allocates nothing.
const TAGS: &[&str] = &[
    "value",
    "member",
    "name",
    "string",
    "int",
    "i4",
    "i8",
    "boolean",
    "double",
    "dateTime.iso8601",
    "base64",
    "nil",
    "array",
    "data",
    "struct",
    "param",
    "params",
    "methodCall",
    "methodName",
    "methodResponse",
    "fault",
];

fn tag_name(local: &str) -> Cow<'static, str> {
    match TAGS.iter().find(|t| **t == local) {
        Some(t) => Cow::Borrowed(t),
        None => Cow::Owned(local.to_owned()),
    }
}

/// The body as text, in the encodings an XML-RPC peer may declare (those
/// expat, the reference's parser, reads: UTF-8, ISO-8859-1 and US-ASCII;
/// UTF-16 is refused with the NUL bytes it carries). Characters XML 1.0
/// forbids (NUL and the C0 controls but tab, line feed and carriage return)
/// are refused here, once, for the whole body.
fn decode(body: &[u8]) -> Result<Cow<'_, str>, ParseError> {
    let body = body.strip_prefix(b"\xef\xbb\xbf").unwrap_or(body);
    if body.contains(&0) {
        return Err(ParseError::new("NUL byte in body"));
    }
    if let Some(at) = body
        .iter()
        .position(|&b| b < b' ' && !matches!(b, b'\t' | b'\n' | b'\r'))
    {
        return Err(ParseError::new(format!(
            "control character {:#04x} at byte {at}",
            body[at]
        )));
    }
    match declared_encoding(body)
        .map(|e| e.to_ascii_lowercase())
        .as_deref()
    {
        None | Some("utf-8" | "utf8") => {
            let text = std::str::from_utf8(body)
                .map_err(|e| ParseError::new(format!("body is not UTF-8: {e}")))?;
            // The two non-characters XML forbids that UTF-8 can encode.
            match text.find(['\u{FFFE}', '\u{FFFF}']) {
                Some(at) => Err(ParseError::new(format!(
                    "character XML cannot carry at byte {at}"
                ))),
                None => Ok(Cow::Borrowed(text)),
            }
        }
        Some("iso-8859-1" | "iso8859-1" | "latin-1" | "latin1" | "l1") => {
            Ok(Cow::Owned(body.iter().map(|&b| char::from(b)).collect()))
        }
        Some("us-ascii" | "ascii") if body.is_ascii() => {
            Ok(Cow::Borrowed(std::str::from_utf8(body).unwrap_or_default()))
        }
        Some("us-ascii" | "ascii") => Err(ParseError::new("body declared US-ASCII is not")),
        Some(other) => Err(ParseError::new(format!("unsupported encoding {other:?}"))),
    }
}

/// The `encoding` of the XML declaration, if the body starts with one.
fn declared_encoding(body: &[u8]) -> Option<String> {
    let decl = body.strip_prefix(b"<?xml")?;
    let decl = &decl[..decl.windows(2).position(|w| w == b"?>")?];
    let at = decl.windows(8).position(|w| w == b"encoding")?;
    let rest = decl[at + 8..].trim_ascii_start().strip_prefix(b"=")?;
    let rest = rest.trim_ascii_start();
    let quote = *rest.first()?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let value = &rest[1..];
    let end = value.iter().position(|&b| b == quote)?;
    Some(String::from_utf8_lossy(&value[..end]).into_owned())
}

struct Parser<'a> {
    reader: Reader<&'a [u8]>,
}

/// A character XML 1.0 can carry (after references are resolved).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | ' '..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Parser<'a> {
        let mut reader = Reader::from_str(text);
        let config = reader.config_mut();
        config.expand_empty_elements = true;
        config.check_end_names = true;
        config.allow_unmatched_ends = false;
        config.allow_dangling_amp = false;
        config.check_comments = true;
        config.trim_text(false);
        Parser { reader }
    }

    fn malformed(&self, e: impl fmt::Display) -> ParseError {
        ParseError::new(format!(
            "malformed XML at byte {}: {e}",
            self.reader.error_position()
        ))
    }

    fn next(&mut self) -> Result<Tok<'a>, ParseError> {
        loop {
            let event = self.reader.read_event().map_err(|e| self.malformed(e))?;
            return Ok(match event {
                Event::Start(e) => {
                    // Attributes mean nothing in XML-RPC, but they must be
                    // well formed.
                    if let Some(Err(err)) = e.attributes().find(Result::is_err) {
                        return Err(self.malformed(err));
                    }
                    Tok::Start(tag_name(e.local_name().into_inner()))
                }
                Event::End(_) => Tok::End,
                Event::Text(t) => Tok::Text(t.xml10_content()),
                Event::CData(t) => Tok::Text(t.xml10_content()),
                Event::GeneralRef(r) => {
                    let resolved = r.resolve_char_ref().map_err(|e| self.malformed(e))?;
                    match resolved {
                        Some(c) if is_xml_char(c) => Tok::Text(Cow::Owned(c.to_string())),
                        Some(c) => {
                            return Err(self.malformed(format!(
                                "reference to character {:#x}, which XML cannot carry",
                                u32::from(c)
                            )))
                        }
                        None => match resolve_predefined_entity(&r) {
                            Some(s) => Tok::Text(Cow::Borrowed(s)),
                            None => {
                                return Err(
                                    self.malformed(format!("unknown entity &{};", r.into_inner()))
                                )
                            }
                        },
                    }
                }
                Event::DocType(_) => {
                    return Err(ParseError::new(
                        "document type declarations are not allowed",
                    ))
                }
                Event::Eof => Tok::Eof,
                // The XML declaration, processing instructions, comments.
                Event::Empty(_) | Event::Decl(_) | Event::PI(_) | Event::Comment(_) => continue,
            });
        }
    }

    /// The next element boundary, skipping whitespace between elements.
    fn next_markup(&mut self) -> Result<Tok<'a>, ParseError> {
        loop {
            match self.next()? {
                Tok::Text(t) if t.chars().all(is_xml_space) => continue,
                Tok::Text(t) => {
                    let mut shown: String = t.chars().take(40).collect();
                    if shown.len() < t.len() {
                        shown.push_str("...");
                    }
                    return Err(ParseError::new(format!(
                        "unexpected text {shown:?} between elements"
                    )));
                }
                tok => return Ok(tok),
            }
        }
    }

    fn expect_start(&mut self, want: &str) -> Result<(), ParseError> {
        match self.next_markup()? {
            Tok::Start(name) if name == want => Ok(()),
            Tok::Start(name) => Err(ParseError::new(format!(
                "expected <{want}>, found <{name}>"
            ))),
            Tok::End => Err(ParseError::new(format!(
                "expected <{want}>, found a closing tag"
            ))),
            _ => Err(ParseError::new(format!(
                "expected <{want}>, found the end of the body"
            ))),
        }
    }

    fn expect_end(&mut self, element: &str) -> Result<(), ParseError> {
        match self.next_markup()? {
            Tok::End => Ok(()),
            Tok::Start(name) => Err(unexpected(&name, &format!("in <{element}>"))),
            _ => Err(ParseError::new(format!("unterminated <{element}>"))),
        }
    }

    fn expect_eof(&mut self) -> Result<(), ParseError> {
        match self.next_markup()? {
            Tok::Eof => Ok(()),
            _ => Err(ParseError::new("content after the root element")),
        }
    }

    /// The text up to the end of the current element, which must hold no
    /// elements.
    fn text(&mut self) -> Result<String, ParseError> {
        let mut text = String::new();
        loop {
            match self.next()? {
                Tok::Text(t) => text.push_str(&t),
                Tok::End => return Ok(text),
                Tok::Start(name) => return Err(unexpected(&name, "where text was expected")),
                Tok::Eof => return Err(ParseError::new("unexpected end of the body")),
            }
        }
    }

    /// The inside of `<params>`: `<param><value>…</value></param>` each.
    fn params(&mut self) -> Result<Vec<Value>, ParseError> {
        let mut params = Vec::new();
        loop {
            match self.next_markup()? {
                Tok::Start(name) if name == "param" => {
                    self.expect_start("value")?;
                    params.push(self.value(1)?);
                    self.expect_end("param")?;
                }
                Tok::Start(name) => return Err(unexpected(&name, "in <params>")),
                Tok::End => return Ok(params),
                _ => return Err(ParseError::new("unterminated <params>")),
            }
        }
    }

    /// The inside of a `<value>` (its start tag already read) at nesting
    /// `depth`: one typed element, or bare text, which is a string.
    fn value(&mut self, depth: usize) -> Result<Value, ParseError> {
        if depth > MAX_DEPTH {
            return Err(ParseError::new(format!(
                "values nested deeper than {MAX_DEPTH}"
            )));
        }
        let mut text = String::new();
        let mut typed = None;
        loop {
            match self.next()? {
                Tok::Text(t) => text.push_str(&t),
                Tok::Start(name) if typed.is_none() => typed = Some(self.typed(&name, depth)?),
                Tok::Start(name) => return Err(unexpected(&name, "after the <value>'s content")),
                Tok::End => break,
                Tok::Eof => return Err(ParseError::new("unterminated <value>")),
            }
        }
        match typed {
            None => Ok(Value::String(text)),
            Some(_) if !text.chars().all(is_xml_space) => Err(ParseError::new(
                "a <value> holds both text and a typed element",
            )),
            Some(value) => Ok(value),
        }
    }

    /// A typed element (its start tag already read) through its end tag.
    fn typed(&mut self, tag: &str, depth: usize) -> Result<Value, ParseError> {
        match tag {
            "int" | "i4" | "i8" => {
                let text = self.text()?;
                let trimmed = text.trim();
                trimmed.parse::<i32>().map(Value::Int).map_err(|_| {
                    ParseError::new(format!("<{tag}> {trimmed:?} is not a 32-bit integer"))
                })
            }
            "boolean" => {
                let text = self.text()?;
                match text.trim() {
                    "1" => Ok(Value::Bool(true)),
                    "0" => Ok(Value::Bool(false)),
                    t if t.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
                    t if t.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
                    t => Err(ParseError::new(format!("<boolean> {t:?} is not 0 or 1"))),
                }
            }
            "string" => Ok(Value::String(self.text()?)),
            "double" => {
                let text = self.text()?;
                let trimmed = text.trim();
                trimmed
                    .parse::<f64>()
                    .map(Value::Double)
                    .map_err(|_| ParseError::new(format!("<double> {trimmed:?} is not a number")))
            }
            "dateTime.iso8601" => Ok(Value::DateTime(self.text()?.trim().to_owned())),
            "base64" => {
                let text = self.text()?;
                let compact: String = text.chars().filter(|c| !is_xml_space(*c)).collect();
                BASE64_LENIENT
                    .decode(compact)
                    .map(Value::Base64)
                    .map_err(|e| ParseError::new(format!("bad <base64>: {e}")))
            }
            "nil" => {
                if self.text()?.chars().all(is_xml_space) {
                    Ok(Value::Nil)
                } else {
                    Err(ParseError::new("<nil> with content"))
                }
            }
            "array" => {
                self.expect_start("data")?;
                let mut items = Vec::new();
                loop {
                    match self.next_markup()? {
                        Tok::Start(name) if name == "value" => items.push(self.value(depth + 1)?),
                        Tok::Start(name) => return Err(unexpected(&name, "in <data>")),
                        Tok::End => break,
                        _ => return Err(ParseError::new("unterminated <data>")),
                    }
                }
                self.expect_end("array")?;
                Ok(Value::Array(items))
            }
            "struct" => {
                let mut members = Vec::new();
                loop {
                    match self.next_markup()? {
                        Tok::Start(name) if name == "member" => members.push(self.member(depth)?),
                        Tok::Start(name) => return Err(unexpected(&name, "in <struct>")),
                        Tok::End => return Ok(Value::Struct(members)),
                        _ => return Err(ParseError::new("unterminated <struct>")),
                    }
                }
            }
            _ => Err(ParseError::new(format!("unknown value type <{tag}>"))),
        }
    }

    /// The inside of a struct's `<member>`: one `<name>` and one `<value>`.
    fn member(&mut self, depth: usize) -> Result<(String, Value), ParseError> {
        let mut name = None;
        let mut value = None;
        loop {
            match self.next_markup()? {
                Tok::Start(tag) if tag == "name" && name.is_none() => name = Some(self.text()?),
                Tok::Start(tag) if tag == "value" && value.is_none() => {
                    value = Some(self.value(depth + 1)?);
                }
                Tok::Start(tag) => return Err(unexpected(&tag, "in <member>")),
                Tok::End => break,
                _ => return Err(ParseError::new("unterminated <member>")),
            }
        }
        match (name, value) {
            (Some(name), Some(value)) => Ok((name, value)),
            _ => Err(ParseError::new("a <member> needs a <name> and a <value>")),
        }
    }
}

/// Standard alphabet; padding optional and trailing bits tolerated, as
/// Python's `base64.decodebytes` is lenient.
const BASE64_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

// ---------------------------------------------------------------------------
// Writing

const DECLARATION: &str = "<?xml version='1.0'?>\n";

/// A successful `<methodResponse>` carrying `value`.
pub fn write_response(value: &Value) -> Vec<u8> {
    let mut out = String::from(DECLARATION);
    out.push_str("<methodResponse>\n<params>\n<param>\n");
    write_value(&mut out, value);
    out.push_str("</param>\n</params>\n</methodResponse>\n");
    out.into_bytes()
}

/// A `<methodResponse>` carrying `fault`.
pub fn write_fault(fault: &Fault) -> Vec<u8> {
    let mut out = String::from(DECLARATION);
    out.push_str("<methodResponse>\n<fault>\n");
    write_value(&mut out, &fault.to_value());
    out.push_str("</fault>\n</methodResponse>\n");
    out.into_bytes()
}

/// A `<methodCall>` of `method` with `params`.
pub fn write_call(method: &str, params: &[Value]) -> Vec<u8> {
    let mut out = String::from(DECLARATION);
    out.push_str("<methodCall>\n<methodName>");
    escape_into(&mut out, method);
    out.push_str("</methodName>\n<params>\n");
    for param in params {
        out.push_str("<param>\n");
        write_value(&mut out, param);
        out.push_str("</param>\n");
    }
    out.push_str("</params>\n</methodCall>\n");
    out.into_bytes()
}

/// One `<value>`, laid out as Python's `xmlrpc.client.Marshaller` does.
fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Int(i) => write_int(out, *i),
        Value::Bool(b) => {
            out.push_str(if *b {
                "<value><boolean>1</boolean></value>\n"
            } else {
                "<value><boolean>0</boolean></value>\n"
            });
        }
        Value::String(s) => write_string(out, s),
        Value::Double(d) => {
            // Debug is the shortest text that reads back as the same
            // number, with an exponent when that is shorter (`1e100`).
            out.push_str("<value><double>");
            out.push_str(&format!("{d:?}"));
            out.push_str("</double></value>\n");
        }
        Value::DateTime(s) => {
            out.push_str("<value><dateTime.iso8601>");
            escape_into(out, s);
            out.push_str("</dateTime.iso8601></value>\n");
        }
        Value::Base64(bytes) => {
            out.push_str("<value><base64>\n");
            out.push_str(&STANDARD.encode(bytes));
            out.push_str("\n</base64></value>\n");
        }
        Value::Array(items) => {
            out.push_str(ARRAY_START);
            for item in items {
                write_value(out, item);
            }
            out.push_str(ARRAY_END);
        }
        Value::Struct(members) => {
            out.push_str(STRUCT_START);
            for (name, member) in members {
                write_member_name(out, name);
                write_value(out, member);
                out.push_str(MEMBER_END);
            }
            out.push_str(STRUCT_END);
        }
        // Python writes no newline after this one.
        Value::Nil => out.push_str("<value><nil/></value>"),
        Value::Xml(xml) => out.push_str(xml),
    }
}

const ARRAY_START: &str = "<value><array><data>\n";
const ARRAY_END: &str = "</data></array></value>\n";
const STRUCT_START: &str = "<value><struct>\n";
const STRUCT_END: &str = "</struct></value>\n";
const MEMBER_END: &str = "</member>\n";

fn write_int(out: &mut String, i: i32) {
    out.push_str("<value><int>");
    out.push_str(itoa::Buffer::new().format(i));
    out.push_str("</int></value>\n");
}

fn write_string(out: &mut String, s: &str) {
    out.push_str("<value><string>");
    escape_into(out, s);
    out.push_str("</string></value>\n");
}

fn write_member_name(out: &mut String, name: &str) {
    out.push_str("<member>\n<name>");
    escape_into(out, name);
    out.push_str("</name>\n");
}

/// Writes arrays and structs of ints and strings straight into XML, for
/// replies too large to build as a [`Value`] tree first
/// (`getAllProcessInfo`); the text is exactly what writing the same
/// [`Value`] gives.
pub struct XmlOut(String);

impl XmlOut {
    pub fn with_capacity(bytes: usize) -> XmlOut {
        XmlOut(String::with_capacity(bytes))
    }

    pub fn begin_array(&mut self) {
        self.0.push_str(ARRAY_START);
    }

    pub fn end_array(&mut self) {
        self.0.push_str(ARRAY_END);
    }

    pub fn begin_struct(&mut self) {
        self.0.push_str(STRUCT_START);
    }

    pub fn end_struct(&mut self) {
        self.0.push_str(STRUCT_END);
    }

    /// A member's name: the caller's constant, which needs no escaping.
    fn member_name(&mut self, name: &'static str) {
        debug_assert!(!name.bytes().any(may_escape));
        self.0.push_str("<member>\n<name>");
        self.0.push_str(name);
        self.0.push_str("</name>\n");
    }

    /// A struct member holding a string.
    pub fn member_str(&mut self, name: &'static str, value: &str) {
        self.member_name(name);
        write_string(&mut self.0, value);
        self.0.push_str(MEMBER_END);
    }

    /// A struct member holding an int.
    pub fn member_int(&mut self, name: &'static str, value: i32) {
        self.member_name(name);
        write_int(&mut self.0, value);
        self.0.push_str(MEMBER_END);
    }

    pub fn into_value(self) -> Value {
        Value::Xml(self.0)
    }
}

/// Character data: `&`, `<`, `>` escaped as Python does; `\r` as `&#13;` so
/// that it survives the reader's line-end normalisation; characters XML 1.0
/// cannot carry at all replaced by U+FFFD.
/// The bytes that may start something `escape_into` replaces.
static MAY_ESCAPE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = b != b'\t' as usize && b != b'\n' as usize;
        b += 1;
    }
    table[b'&' as usize] = true;
    table[b'<' as usize] = true;
    table[b'>' as usize] = true;
    table[0xef] = true;
    table
};

fn may_escape(b: u8) -> bool {
    MAY_ESCAPE[usize::from(b)]
}

fn escape_into(out: &mut String, text: &str) {
    // Copy runs of ordinary bytes whole; most text has none to escape. Only
    // ASCII bytes and the lead byte 0xEF (of U+FFFE and U+FFFF) can start
    // something to replace, so the scan never splits a character.
    let bytes = text.as_bytes();
    // Most text has nothing to escape.
    if !bytes.iter().any(|&b| may_escape(b)) {
        out.push_str(text);
        return;
    }
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let (replacement, width) = match bytes[i] {
            b'&' => ("&amp;", 1),
            b'<' => ("&lt;", 1),
            b'>' => ("&gt;", 1),
            b'\r' => ("&#13;", 1),
            b'\t' | b'\n' => {
                i += 1;
                continue;
            }
            0..=0x1f => ("\u{FFFD}", 1),
            0xef if matches!(bytes.get(i + 1..i + 3), Some([0xbf, 0xbe | 0xbf])) => ("\u{FFFD}", 3),
            _ => {
                i += 1;
                continue;
            }
        };
        out.push_str(&text[copied..i]);
        out.push_str(replacement);
        i += width;
        copied = i;
    }
    out.push_str(&text[copied..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    // ---- vectors written by the reference's Python (3.11 xmlrpc.client) ----

    // xmlrpc.client.dumps((), methodname='supervisor.getState')
    const PY_CALL_NO_PARAMS: &str = "<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.getState</methodName>\n<params>\n</params>\n</methodCall>\n";

    // xmlrpc.client.dumps(('foo:bar', True), methodname='supervisor.startProcess')
    const PY_CALL_START: &str = "<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.startProcess</methodName>\n<params>\n<param>\n<value><string>foo:bar</string></value>\n</param>\n<param>\n<value><boolean>1</boolean></value>\n</param>\n</params>\n</methodCall>\n";

    // xmlrpc.client.dumps(('héllo ☃ 😀', '', -42, 2**31-1, -2**31, 1.5, False, None,
    //     b'\x00\x01binary\xff'*10, DateTime(datetime(2024,1,2,3,4,5)),
    //     [1, ['a', []], {}], {'b': {'c': [1,2]}, 'a & <b>': 'x > y'}),
    //     methodname='system.multicall', allow_none=True)
    const PY_CALL_EVERY_TYPE: &str = "<?xml version='1.0'?>\n<methodCall>\n<methodName>system.multicall</methodName>\n<params>\n<param>\n<value><string>héllo ☃ 😀</string></value>\n</param>\n<param>\n<value><string></string></value>\n</param>\n<param>\n<value><int>-42</int></value>\n</param>\n<param>\n<value><int>2147483647</int></value>\n</param>\n<param>\n<value><int>-2147483648</int></value>\n</param>\n<param>\n<value><double>1.5</double></value>\n</param>\n<param>\n<value><boolean>0</boolean></value>\n</param>\n<param>\n<value><nil/></value></param>\n<param>\n<value><base64>\nAAFiaW5hcnn/AAFiaW5hcnn/AAFiaW5hcnn/AAFiaW5hcnn/AAFiaW5hcnn/AAFiaW5hcnn/AAFi\naW5hcnn/AAFiaW5hcnn/AAFiaW5hcnn/AAFiaW5hcnn/\n</base64></value>\n</param>\n<param>\n<value><dateTime.iso8601>20240102T03:04:05</dateTime.iso8601></value>\n</param>\n<param>\n<value><array><data>\n<value><int>1</int></value>\n<value><array><data>\n<value><string>a</string></value>\n<value><array><data>\n</data></array></value>\n</data></array></value>\n<value><struct>\n</struct></value>\n</data></array></value>\n</param>\n<param>\n<value><struct>\n<member>\n<name>b</name>\n<value><struct>\n<member>\n<name>c</name>\n<value><array><data>\n<value><int>1</int></value>\n<value><int>2</int></value>\n</data></array></value>\n</member>\n</struct></value>\n</member>\n<member>\n<name>a &amp; &lt;b&gt;</name>\n<value><string>x &gt; y</string></value>\n</member>\n</struct></value>\n</param>\n</params>\n</methodCall>\n";

    // xmlrpc.client.dumps(([{'methodName':'supervisor.getState','params':[]},
    //     {'methodName':'supervisor.stopProcess','params':['x', False]}],),
    //     methodname='system.multicall')
    const PY_CALL_MULTICALL: &str = "<?xml version='1.0'?>\n<methodCall>\n<methodName>system.multicall</methodName>\n<params>\n<param>\n<value><array><data>\n<value><struct>\n<member>\n<name>methodName</name>\n<value><string>supervisor.getState</string></value>\n</member>\n<member>\n<name>params</name>\n<value><array><data>\n</data></array></value>\n</member>\n</struct></value>\n<value><struct>\n<member>\n<name>methodName</name>\n<value><string>supervisor.stopProcess</string></value>\n</member>\n<member>\n<name>params</name>\n<value><array><data>\n<value><string>x</string></value>\n<value><boolean>0</boolean></value>\n</data></array></value>\n</member>\n</struct></value>\n</data></array></value>\n</param>\n</params>\n</methodCall>\n";

    // The reference daemon's getProcessInfo answer:
    // xmlrpc.client.dumps(({'name':'cat', ...},), methodresponse=True)
    const PY_RESPONSE_INFO: &str = "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><struct>\n<member>\n<name>name</name>\n<value><string>cat</string></value>\n</member>\n<member>\n<name>group</name>\n<value><string>cat</string></value>\n</member>\n<member>\n<name>start</name>\n<value><int>1700000000</int></value>\n</member>\n<member>\n<name>stop</name>\n<value><int>0</int></value>\n</member>\n<member>\n<name>now</name>\n<value><int>1700000001</int></value>\n</member>\n<member>\n<name>state</name>\n<value><int>20</int></value>\n</member>\n<member>\n<name>statename</name>\n<value><string>RUNNING</string></value>\n</member>\n<member>\n<name>spawnerr</name>\n<value><string></string></value>\n</member>\n<member>\n<name>exitstatus</name>\n<value><int>0</int></value>\n</member>\n<member>\n<name>logfile</name>\n<value><string>/tmp/cat.log</string></value>\n</member>\n<member>\n<name>stdout_logfile</name>\n<value><string>/tmp/cat.log</string></value>\n</member>\n<member>\n<name>stderr_logfile</name>\n<value><string></string></value>\n</member>\n<member>\n<name>pid</name>\n<value><int>1234</int></value>\n</member>\n<member>\n<name>description</name>\n<value><string>pid 1234, uptime 0:00:01</string></value>\n</member>\n</struct></value>\n</param>\n</params>\n</methodResponse>\n";

    // xmlrpc.client.dumps(xmlrpc.client.Fault(10, 'BAD_NAME: foo'))
    const PY_FAULT_BAD_NAME: &str = "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n<value><int>10</int></value>\n</member>\n<member>\n<name>faultString</name>\n<value><string>BAD_NAME: foo</string></value>\n</member>\n</struct></value>\n</fault>\n</methodResponse>\n";

    // xmlrpc.client.dumps(xmlrpc.client.Fault(1, 'UNKNOWN_METHOD'))
    const PY_FAULT_UNKNOWN_METHOD: &str = "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n<value><int>1</int></value>\n</member>\n<member>\n<name>faultString</name>\n<value><string>UNKNOWN_METHOD</string></value>\n</member>\n</struct></value>\n</fault>\n</methodResponse>\n";

    const PY_RESPONSE_TRUE: &str = "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><boolean>1</boolean></value>\n</param>\n</params>\n</methodResponse>\n";
    const PY_RESPONSE_VERSION: &str = "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><string>3.0</string></value>\n</param>\n</params>\n</methodResponse>\n";
    const PY_RESPONSE_EMPTY_ARRAY: &str = "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><array><data>\n</data></array></value>\n</param>\n</params>\n</methodResponse>\n";
    // xmlrpc.client.dumps((None,), methodresponse=True, allow_none=True)
    const PY_RESPONSE_NIL: &str = "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><nil/></value></param>\n</params>\n</methodResponse>\n";

    fn s(text: &str) -> Value {
        Value::from(text)
    }

    fn process_info() -> Value {
        Value::structure([
            ("name", s("cat")),
            ("group", s("cat")),
            ("start", Value::Int(1_700_000_000)),
            ("stop", Value::Int(0)),
            ("now", Value::Int(1_700_000_001)),
            ("state", Value::Int(20)),
            ("statename", s("RUNNING")),
            ("spawnerr", s("")),
            ("exitstatus", Value::Int(0)),
            ("logfile", s("/tmp/cat.log")),
            ("stdout_logfile", s("/tmp/cat.log")),
            ("stderr_logfile", s("")),
            ("pid", Value::Int(1234)),
            ("description", s("pid 1234, uptime 0:00:01")),
        ])
    }

    fn multicall_arg() -> Value {
        Value::Array(vec![
            Value::structure([
                ("methodName", s("supervisor.getState")),
                ("params", Value::Array(vec![])),
            ]),
            Value::structure([
                ("methodName", s("supervisor.stopProcess")),
                ("params", Value::Array(vec![s("x"), Value::Bool(false)])),
            ]),
        ])
    }

    fn every_type() -> Vec<Value> {
        vec![
            s("héllo ☃ 😀"),
            s(""),
            Value::Int(-42),
            Value::Int(i32::MAX),
            Value::Int(i32::MIN),
            Value::Double(1.5),
            Value::Bool(false),
            Value::Nil,
            Value::Base64(b"\x00\x01binary\xff".repeat(10)),
            Value::DateTime("20240102T03:04:05".into()),
            Value::Array(vec![
                Value::Int(1),
                Value::Array(vec![s("a"), Value::Array(vec![])]),
                Value::Struct(vec![]),
            ]),
            Value::structure([
                (
                    "b",
                    Value::structure([("c", Value::Array(vec![Value::Int(1), Value::Int(2)]))]),
                ),
                ("a & <b>", s("x > y")),
            ]),
        ]
    }

    #[test]
    fn reads_what_python_clients_send() {
        let cases: Vec<(&str, &str, Vec<Value>)> = vec![
            (PY_CALL_NO_PARAMS, "supervisor.getState", vec![]),
            (
                PY_CALL_START,
                "supervisor.startProcess",
                vec![s("foo:bar"), Value::Bool(true)],
            ),
            (PY_CALL_EVERY_TYPE, "system.multicall", every_type()),
            (PY_CALL_MULTICALL, "system.multicall", vec![multicall_arg()]),
        ];
        for (body, method, params) in cases {
            let got = parse_call(body.as_bytes());
            assert_eq!(got, Ok((method.to_owned(), params)), "{body}");
        }
    }

    #[test]
    fn reads_what_the_reference_daemon_sends() {
        let cases: Vec<(&str, Result<Value, Fault>)> = vec![
            (PY_RESPONSE_INFO, Ok(process_info())),
            (
                PY_FAULT_BAD_NAME,
                Err(Fault {
                    code: 10,
                    string: "BAD_NAME: foo".into(),
                }),
            ),
            (
                PY_FAULT_UNKNOWN_METHOD,
                Err(Fault::bare(faults::UNKNOWN_METHOD)),
            ),
            (PY_RESPONSE_TRUE, Ok(Value::Bool(true))),
            (PY_RESPONSE_VERSION, Ok(s("3.0"))),
            (PY_RESPONSE_EMPTY_ARRAY, Ok(Value::Array(vec![]))),
            (PY_RESPONSE_NIL, Ok(Value::Nil)),
        ];
        for (body, want) in cases {
            assert_eq!(parse_response(body.as_bytes()), Ok(want), "{body}");
        }
    }

    /// Byte-identical to Python's output wherever Python's is well-formed
    /// (all but base64 line wrapping), so any Python client reads ours.
    #[test]
    fn writes_what_python_writes() {
        let bytes = |b: Vec<u8>| String::from_utf8(b).unwrap();
        assert_eq!(bytes(write_response(&process_info())), PY_RESPONSE_INFO);
        assert_eq!(bytes(write_response(&Value::Bool(true))), PY_RESPONSE_TRUE);
        assert_eq!(bytes(write_response(&s("3.0"))), PY_RESPONSE_VERSION);
        assert_eq!(
            bytes(write_response(&Value::Array(vec![]))),
            PY_RESPONSE_EMPTY_ARRAY
        );
        assert_eq!(bytes(write_response(&Value::Nil)), PY_RESPONSE_NIL);
        assert_eq!(
            bytes(write_fault(&Fault::new(faults::BAD_NAME, "foo"))),
            PY_FAULT_BAD_NAME
        );
        assert_eq!(
            bytes(write_fault(&Fault::bare(faults::UNKNOWN_METHOD))),
            PY_FAULT_UNKNOWN_METHOD
        );
        assert_eq!(
            bytes(write_call("supervisor.getState", &[])),
            PY_CALL_NO_PARAMS
        );
        assert_eq!(
            bytes(write_call(
                "supervisor.startProcess",
                &[s("foo:bar"), Value::Bool(true)]
            )),
            PY_CALL_START
        );
        assert_eq!(
            bytes(write_call("system.multicall", &[multicall_arg()])),
            PY_CALL_MULTICALL
        );
    }

    #[test]
    fn round_trips() {
        let mut values = every_type();
        values.extend([
            process_info(),
            s("a\r\nb\tc & d < e > f ]]> \"quoted\" 'single'"),
            s("  leading and trailing spaces  "),
            s("\n"),
            Value::Double(-0.25),
            Value::Double(1e100),
            Value::Double(1e-300),
            Value::Base64(vec![]),
            Value::Base64((0..=255).collect()),
            Value::structure([("", s("empty name")), ("x&y", Value::Nil)]),
        ]);
        for value in &values {
            let call = write_call("a.b", std::slice::from_ref(value));
            assert_eq!(
                parse_call(&call),
                Ok(("a.b".to_owned(), vec![value.clone()])),
                "{value:?}"
            );
            assert_eq!(
                parse_response(&write_response(value)),
                Ok(Ok(value.clone())),
                "{value:?}"
            );
        }
        assert_eq!(
            parse_call(&write_call("system.multicall", &values)),
            Ok(("system.multicall".to_owned(), values))
        );
        let fault = Fault::new(faults::SPAWN_ERROR, "a <b> & c\r\n");
        assert_eq!(parse_response(&write_fault(&fault)), Ok(Err(fault)));
    }

    #[test]
    fn characters_xml_cannot_carry_become_replacement_characters() {
        // Process output with ANSI colours: the reference writes ESC raw and
        // its clients then fail with "not well-formed (invalid token)".
        let value = s("\u{1b}[31mred\u{1b}[0m \u{0} \u{fffe}\u{ffff}");
        let body = write_response(&value);
        assert!(!body.contains(&0x1b));
        assert_eq!(
            parse_response(&body),
            Ok(Ok(s(
                "\u{fffd}[31mred\u{fffd}[0m \u{fffd} \u{fffd}\u{fffd}"
            )))
        );
        let call = String::from_utf8(write_call("a&b<c>", &[])).unwrap();
        assert!(call.contains("<methodName>a&amp;b&lt;c&gt;</methodName>"));
        assert_eq!(
            parse_call(&write_call("a&b<c>", &[])),
            Ok(("a&b<c>".to_owned(), vec![]))
        );
    }

    /// Forms other clients send (or the XML spec allows) that Python's
    /// `xmlrpc.client` never writes.
    #[test]
    fn reads_other_clients_forms() {
        let call = |params: &str| {
            format!(
                "<methodCall><methodName>a.b</methodName><params>{params}</params></methodCall>"
            )
        };
        let one = |value: &str| call(&format!("<param><value>{value}</value></param>"));
        let cases: Vec<(String, Value)> = vec![
            // a value without a type is a string, whitespace and all
            (one("plain"), s("plain")),
            (one(" two words \n"), s(" two words \n")),
            (one(""), s("")),
            (call("<param><value/></param>"), s("")),
            (one("<string/>"), s("")),
            (one("<string>  </string>"), s("  ")),
            // integers
            (one("<i4>7</i4>"), Value::Int(7)),
            (one("<int> +7 </int>"), Value::Int(7)),
            (one("<i8>-2147483648</i8>"), Value::Int(i32::MIN)),
            (
                one(
                    "<ex:i8 xmlns:ex='http://ws.apache.org/xmlrpc/namespaces/extensions'>5</ex:i8>",
                ),
                Value::Int(5),
            ),
            // booleans: 1/0 and (our addition) true/false; ints for `wait`
            (one("<boolean>true</boolean>"), Value::Bool(true)),
            (one("<boolean> 0 </boolean>"), Value::Bool(false)),
            (one("<int>1</int>"), Value::Int(1)),
            // doubles in every spelling Python's float() reads
            (one("<double>-1.5e3</double>"), Value::Double(-1500.0)),
            (one("<double>.5</double>"), Value::Double(0.5)),
            (one("<double>7</double>"), Value::Double(7.0)),
            // nil, namespaced or not, and with an end tag
            (one("<nil></nil>"), Value::Nil),
            (
                one("<ex:nil xmlns:ex='http://ws.apache.org/xmlrpc/namespaces/extensions'/>"),
                Value::Nil,
            ),
            // base64 without padding, wrapped, or empty
            (one("<base64>aGk</base64>"), Value::Base64(b"hi".to_vec())),
            (
                one("<base64>\n  aGVs\n  bG8=\n</base64>"),
                Value::Base64(b"hello".to_vec()),
            ),
            (one("<base64/>"), Value::Base64(vec![])),
            (
                one("<dateTime.iso8601> 20240102T03:04:05 </dateTime.iso8601>"),
                Value::DateTime("20240102T03:04:05".into()),
            ),
            // entities, character references, CDATA, comments
            (
                one("<string>&lt;&gt;&amp;&quot;&apos;&#233;&#x263A;</string>"),
                s("<>&\"'é☺"),
            ),
            (one("<string><![CDATA[<raw> & ]]></string>"), s("<raw> & ")),
            (one("<string>a<!-- comment -->b</string>"), s("ab")),
            (one("a&#13;b"), s("a\rb")),
            // struct members in either order; the last duplicate wins in get()
            (
                one("<struct><member><value><int>1</int></value><name>k</name></member></struct>"),
                Value::structure([("k", Value::Int(1))]),
            ),
            // whitespace of every kind between elements
            (
                one(
                    " \t\r\n<array>\n <data>\n  <value> <int>1</int> </value>\n </data>\n</array> ",
                ),
                Value::Array(vec![Value::Int(1)]),
            ),
        ];
        for (body, want) in cases {
            assert_eq!(
                parse_call(body.as_bytes()),
                Ok(("a.b".to_owned(), vec![want])),
                "{body}"
            );
        }
        let others: Vec<(&str, &str, usize)> = vec![
            // no <params> at all, and an empty element
            ("<methodCall><methodName>a.b</methodName></methodCall>", "a.b", 0),
            ("<methodCall><methodName>a.b</methodName><params/></methodCall>", "a.b", 0),
            // params before the name, a BOM, a declaration with an encoding
            ("<methodCall><params/><methodName>a.b</methodName></methodCall>", "a.b", 0),
            ("\u{feff}<?xml version=\"1.0\"?><methodCall><methodName>a.b</methodName></methodCall>", "a.b", 0),
            ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<methodCall>\r\n<methodName>a.b</methodName>\r\n</methodCall>\r\n", "a.b", 0),
        ];
        for (body, method, count) in others {
            let got = parse_call(body.as_bytes());
            assert!(
                matches!(&got, Ok((m, p)) if m == method && p.len() == count),
                "{body}: {got:?}"
            );
        }
    }

    #[test]
    fn xml_out_writes_what_values_write() {
        let text = "a & <b> c\r\u{1}\u{FFFE}\u{FFFF}\u{FEFF}é☃";
        let mut out = XmlOut::with_capacity(0);
        out.begin_array();
        for pid in [0, -5, i32::MAX] {
            out.begin_struct();
            out.member_str("name", text);
            out.member_str("empty", "");
            out.member_int("pid", pid);
            out.end_struct();
        }
        out.end_array();
        let tree = Value::Array(
            [0, -5, i32::MAX]
                .into_iter()
                .map(|pid| {
                    Value::structure([
                        ("name", s(text)),
                        ("empty", s("")),
                        ("pid", Value::Int(pid)),
                    ])
                })
                .collect(),
        );
        let written = write_response(&out.into_value());
        assert_eq!(written, write_response(&tree));
        let Ok(Ok(read)) = parse_response(&written) else {
            panic!("{}", String::from_utf8_lossy(&written));
        };
        let shown = "a & <b> c\r\u{FFFD}\u{FFFD}\u{FFFD}\u{FEFF}é☃";
        assert_eq!(
            read.as_array().and_then(|a| a[1].get("name")),
            Some(&s(shown))
        );
    }

    #[test]
    fn latin1_declared_body_is_decoded() {
        let body = b"<?xml version='1.0' encoding='iso-8859-1'?><methodCall><methodName>a.b</methodName><params><param><value>\xe9</value></param></params></methodCall>";
        assert_eq!(parse_call(body), Ok(("a.b".to_owned(), vec![s("é")])));
    }

    #[test]
    fn refuses_malformed_requests() {
        let nested = |n: usize| {
            format!(
                "<methodCall><methodName>a.b</methodName><params><param><value>{}<int>1</int>{}</value></param></params></methodCall>",
                "<array><data><value>".repeat(n),
                "</value></data></array>".repeat(n)
            )
        };
        let struct_nested = |n: usize| {
            format!(
                "<methodCall><methodName>a.b</methodName><params><param><value>{}1{}</value></param></params></methodCall>",
                "<struct><member><name>k</name><value>".repeat(n),
                "</value></member></struct>".repeat(n)
            )
        };
        let call = |params: &str| {
            format!(
                "<methodCall><methodName>a.b</methodName><params>{params}</params></methodCall>"
            )
        };
        let one = |value: &str| call(&format!("<param><value>{value}</value></param>"));
        let mut cases: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"   ".to_vec(),
            b"\xff\xfe\x00garbage\x01\x02".to_vec(),
            b"GET / HTTP/1.1\r\n\r\n".to_vec(),
            b"not xml at all".to_vec(),
            b"<methodCall><methodName>a.b</methodName>\xff\xfe</methodCall>".to_vec(),
            b"<methodCall><methodName>a.\x00b</methodName></methodCall>".to_vec(),
        ];
        let texts: Vec<String> = vec![
            // truncated
            PY_CALL_START[..PY_CALL_START.len() / 2].to_owned(),
            "<methodCall><methodName>a.b</methodName>".to_owned(),
            // wrong root, wrong nesting, mismatched tags, two roots
            "<methodResponse><params/></methodResponse>".to_owned(),
            "<foo><methodName>a.b</methodName></foo>".to_owned(),
            "<methodCall><methodName>a.b</methodName></methodcall>".to_owned(),
            "<methodCall><methodName>a.b</methodName></methodCall><methodCall/>".to_owned(),
            "<methodCall><methodName>a.b</methodName></methodCall>trailing".to_owned(),
            "<methodCall><params><methodName>a.b</methodName></params></methodCall>".to_owned(),
            // no or empty method name, two names
            "<methodCall><params/></methodCall>".to_owned(),
            "<methodCall><methodName></methodName></methodCall>".to_owned(),
            "<methodCall><methodName>a.b</methodName><methodName>c.d</methodName></methodCall>".to_owned(),
            "<methodCall><methodName><b>a.b</b></methodName></methodCall>".to_owned(),
            // stray text or elements
            "<methodCall>text<methodName>a.b</methodName></methodCall>".to_owned(),
            call("<value>1</value>"),
            call("<param>junk<value>1</value></param>"),
            call("<param><value>1</value><value>2</value></param>"),
            call("<param></param>"),
            // bad scalars
            one("<int>abc</int>"),
            one("<int></int>"),
            one("<int>1.0</int>"),
            one("<int>2147483648</int>"),
            one("<i4>-2147483649</i4>"),
            one("<i8>9223372036854775807</i8>"),
            one("<int>99999999999999999999999999999</int>"),
            one("<int><b>1</b></int>"),
            one("<boolean>2</boolean>"),
            one("<boolean>yes</boolean>"),
            one("<boolean></boolean>"),
            one("<double>one</double>"),
            one("<double></double>"),
            one("<base64>!!!!</base64>"),
            one("<base64>a</base64>"),
            one("<nil>x</nil>"),
            one("<float>1</float>"),
            one("<bogus/>"),
            // characters and references XML cannot carry, unknown entities,
            // bad attributes and comments, encodings we do not read
            one("<string>a\u{1}b</string>"),
            one("<string>a&#1;b</string>"),
            one("<string>a&#0;b</string>"),
            one("<string>a&#xFFFE;b</string>"),
            one("<string>a\u{FFFF}b</string>"),
            one("<string>&nbsp;</string>"),
            one("<string>a & b</string>"),
            one("<string>a &amp b</string>"),
            one("<string a=>x</string>"),
            one("<string a='1' a='2'>x</string>"),
            one("<string><!-- a -- b -->x</string>"),
            format!("<?xml version='1.0' encoding='koi8-r'?>{}", one("<string>x</string>")),
            format!("<?xml version='1.0' encoding='us-ascii'?>{}", one("<string>é</string>")),
            // bad compounds
            one("<array/>"),
            one("<array><value>1</value></array>"),
            one("<array><data><int>1</int></data></array>"),
            one("<array><data></data><data></data></array>"),
            one("<struct><value>1</value></struct>"),
            one("<struct><member><name>k</name></member></struct>"),
            one("<struct><member><value>1</value></member></struct>"),
            one("<struct><member><name>k</name><name>j</name><value>1</value></member></struct>"),
            one("<struct><member><name>k</name><value>1</value><value>2</value></member></struct>"),
            one("<string>a</string><string>b</string>"),
            one("text<string>b</string>"),
            // undefined entity; DTD (billion laughs)
            one("<string>&nbsp;</string>"),
            "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]><methodCall><methodName>a.b</methodName><params><param><value>&lol2;</value></param></params></methodCall>".to_owned(),
            // too deep
            nested(MAX_DEPTH),
            nested(10_000),
            struct_nested(MAX_DEPTH),
            struct_nested(10_000),
        ];
        cases.extend(texts.into_iter().map(String::into_bytes));
        cases.push(vec![b' '; MAX_CALL_BYTES + 1]);
        for body in &cases {
            let got = parse_call(body);
            assert!(
                got.is_err(),
                "{:?} was read as {got:?}",
                String::from_utf8_lossy(&body[..body.len().min(300)])
            );
        }
        // The limit is exact: one level less is fine.
        let deepest = |d: usize| {
            let mut v = Value::Int(1);
            for _ in 0..d {
                v = Value::Array(vec![v]);
            }
            v
        };
        assert_eq!(
            parse_call(nested(MAX_DEPTH - 1).as_bytes()),
            Ok(("a.b".to_owned(), vec![deepest(MAX_DEPTH - 1)]))
        );
        assert!(parse_call(struct_nested(MAX_DEPTH - 1).as_bytes()).is_ok());
    }

    #[test]
    fn refuses_malformed_responses() {
        let cases = [
            "",
            "<methodResponse></methodResponse>",
            "<methodResponse><params></params></methodResponse>",
            "<methodResponse><params><param><value>1</value></param><param><value>2</value></param></params></methodResponse>",
            "<methodResponse><fault><value><struct></struct></value></fault></methodResponse>",
            "<methodResponse><fault><value><string>x</string></value></fault></methodResponse>",
            "<methodResponse><fault><value><struct><member><name>faultCode</name><value><string>1</string></value></member><member><name>faultString</name><value>x</value></member></struct></value></fault></methodResponse>",
            "<methodResponse><fault></fault></methodResponse>",
            "<methodResponse><params><param><value>1</value></param></params><fault/></methodResponse>",
            "<methodCall><methodName>a.b</methodName></methodCall>",
            "<html><head><title>Error response</title></head></html>",
        ];
        for body in cases {
            let got = parse_response(body.as_bytes());
            assert!(got.is_err(), "{body} was read as {got:?}");
        }
        // HTTP 500 page the reference sends (medusa's error page) is not XML-RPC.
        let page = "<head>\r\n<title>Error response</title>\r\n</head>\r\n<body>\r\n<h1>Error response</h1>\r\n<p>Error code 500.\r\n<p>Message: Internal Server Error.\r\n</body>";
        assert!(parse_response(page.as_bytes()).is_err());
    }

    /// Every prefix and many single-byte corruptions of real bodies: an
    /// answer, never a panic.
    #[test]
    fn never_panics_on_damaged_bodies() {
        for body in [PY_CALL_EVERY_TYPE, PY_CALL_MULTICALL, PY_FAULT_BAD_NAME] {
            let bytes = body.as_bytes();
            for cut in 0..bytes.len() {
                let _ = parse_call(&bytes[..cut]);
                let _ = parse_response(&bytes[..cut]);
            }
            for at in (0..bytes.len()).step_by(7) {
                for replacement in [b'<', b'>', b'&', b'/', b'x', 0xff, b'"'] {
                    let mut damaged = bytes.to_vec();
                    damaged[at] = replacement;
                    let _ = parse_call(&damaged);
                    let _ = parse_response(&damaged);
                }
            }
        }
    }

    #[test]
    fn fault_strings_are_the_references() {
        assert_eq!(
            Fault::new(faults::BAD_NAME, "foo"),
            Fault {
                code: 10,
                string: "BAD_NAME: foo".into()
            }
        );
        assert_eq!(Fault::bare(faults::SHUTDOWN_STATE).string, "SHUTDOWN_STATE");
        // RPCError(code, '') still gets the colon.
        assert_eq!(Fault::new(faults::FAILED, "").string, "FAILED: ");
        assert_eq!(Fault::bare(5).string, "UNKNOWN");
        assert_eq!(Fault::new(999, "x").string, "UNKNOWN: x");
        let table = [
            (1, "UNKNOWN_METHOD"),
            (2, "INCORRECT_PARAMETERS"),
            (3, "BAD_ARGUMENTS"),
            (4, "SIGNATURE_UNSUPPORTED"),
            (6, "SHUTDOWN_STATE"),
            (10, "BAD_NAME"),
            (11, "BAD_SIGNAL"),
            (20, "NO_FILE"),
            (21, "NOT_EXECUTABLE"),
            (30, "FAILED"),
            (40, "ABNORMAL_TERMINATION"),
            (50, "SPAWN_ERROR"),
            (60, "ALREADY_STARTED"),
            (70, "NOT_RUNNING"),
            (80, "SUCCESS"),
            (90, "ALREADY_ADDED"),
            (91, "STILL_RUNNING"),
            (92, "CANT_REREAD"),
        ];
        assert_eq!(faults::ALL, table);
        for (code, name) in table {
            assert_eq!(faults::name(code), name);
        }
        assert_eq!(
            Fault::new(faults::NOT_RUNNING, "x").to_value(),
            Value::structure([
                ("faultCode", Value::Int(70)),
                ("faultString", s("NOT_RUNNING: x")),
            ])
        );
        assert_eq!(Fault::bare(faults::FAILED).to_string(), "[30] FAILED");
    }

    #[test]
    fn value_helpers() {
        assert_eq!(Value::Bool(true).as_bool(), Some(true));
        assert_eq!(Value::Int(1).as_bool(), Some(true));
        assert_eq!(Value::Int(0).as_bool(), Some(false));
        assert_eq!(Value::Int(2).as_bool(), Some(true));
        assert_eq!(s("1").as_bool(), None);
        assert_eq!(Value::Bool(true).as_int(), Some(1));
        assert_eq!(Value::Int(-5).as_int(), Some(-5));
        assert_eq!(Value::Double(1.0).as_int(), None);
        assert_eq!(s("x").as_str(), Some("x"));
        assert_eq!(Value::Nil.as_str(), None);
        let st = Value::structure([
            ("a", Value::Int(1)),
            ("b", Value::Int(2)),
            ("a", Value::Int(3)),
        ]);
        assert_eq!(st.get("a"), Some(&Value::Int(3)));
        assert_eq!(st.get("c"), None);
        assert_eq!(Value::Int(1).get("a"), None);
        assert_eq!(st.as_struct().map(<[_]>::len), Some(3));
        assert_eq!(
            Value::from(vec![Value::Nil]).as_array(),
            Some(&[Value::Nil][..])
        );
        assert_eq!(Value::from(7), Value::Int(7));
        assert_eq!(Value::from(false), Value::Bool(false));
        assert_eq!(Value::from(String::from("s")), s("s"));
        assert_eq!(Value::from(0.5), Value::Double(0.5));
        assert_eq!(
            Value::from(vec![("k".to_owned(), Value::Nil)]),
            Value::structure([("k", Value::Nil)])
        );
    }
}
