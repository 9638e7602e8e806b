//! Pure converters from configuration text to typed values, one per value
//! syntax the reference accepts (its `datatypes.py`). Each returns a message
//! on failure; the caller adds file, line, section and option.

use std::path::Path;

pub type Result<T> = std::result::Result<T, String>;

/// Python's `int(text)`: surrounding whitespace, a sign, and `_` between
/// digits are accepted.
pub fn integer(text: &str) -> Result<i64> {
    parse_int(text, 10).ok_or_else(|| format!("{text:?} is not a valid integer"))
}

/// Like [`integer`] but in another base, without the `0x`-style prefixes
/// except `0o` for base 8 (what Python's `int(text, 8)` accepts).
fn parse_int(text: &str, radix: u32) -> Option<i64> {
    let t = text.trim();
    let (negative, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let t = if radix == 8 {
        t.strip_prefix("0o")
            .or_else(|| t.strip_prefix("0O"))
            .unwrap_or(t)
    } else {
        t
    };
    if t.is_empty() || t.starts_with('_') || t.ends_with('_') || t.contains("__") {
        return None;
    }
    let digits: String = t.chars().filter(|&c| c != '_').collect();
    let magnitude = i64::from_str_radix(&digits, radix).ok()?;
    if digits.starts_with('+') || digits.starts_with('-') {
        return None;
    }
    Some(if negative { -magnitude } else { magnitude })
}

const TRUTHY: [&str; 4] = ["yes", "true", "on", "1"];
const FALSY: [&str; 4] = ["no", "false", "off", "0"];

pub fn boolean(text: &str) -> Result<bool> {
    let lower = text.to_lowercase();
    if TRUTHY.contains(&lower.as_str()) {
        Ok(true)
    } else if FALSY.contains(&lower.as_str()) {
        Ok(false)
    } else {
        Err(format!(
            "{text:?} is not a valid boolean value (true/false, yes/no, on/off, 1/0)"
        ))
    }
}

/// `50MB`, `1kb`, `1GB` or a plain number of bytes.
pub fn byte_size(text: &str) -> Result<i64> {
    let lower = text.to_lowercase();
    let bad = || format!("{text:?} is not a valid byte size (e.g. 1024, 10KB, 50MB, 1GB)");
    for (suffix, factor) in [("kb", 1i64 << 10), ("mb", 1 << 20), ("gb", 1 << 30)] {
        if let Some(number) = lower.strip_suffix(suffix) {
            let n = parse_int(number, 10).ok_or_else(bad)?;
            return n.checked_mul(factor).ok_or_else(bad);
        }
    }
    parse_int(&lower, 10).ok_or_else(bad)
}

/// An octal number such as a umask (`022`, `0o22`).
pub fn octal(text: &str) -> Result<u32> {
    parse_int(text, 8)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| format!("{text:?} can not be converted to an octal type"))
}

/// Signal names and numbers as the reference's `signal` module knows them.
const SIGNALS: &[(&str, i32)] = &[
    ("HUP", 1),
    ("INT", 2),
    ("QUIT", 3),
    ("ILL", 4),
    ("TRAP", 5),
    ("ABRT", 6),
    ("IOT", 6),
    ("BUS", 7),
    ("FPE", 8),
    ("KILL", 9),
    ("USR1", 10),
    ("SEGV", 11),
    ("USR2", 12),
    ("PIPE", 13),
    ("ALRM", 14),
    ("TERM", 15),
    ("STKFLT", 16),
    ("CHLD", 17),
    ("CLD", 17),
    ("CONT", 18),
    ("STOP", 19),
    ("TSTP", 20),
    ("TTIN", 21),
    ("TTOU", 22),
    ("URG", 23),
    ("XCPU", 24),
    ("XFSZ", 25),
    ("VTALRM", 26),
    ("PROF", 27),
    ("WINCH", 28),
    ("POLL", 29),
    ("IO", 29),
    ("PWR", 30),
    ("SYS", 31),
    ("RTMIN", 34),
    ("RTMAX", 64),
    // Python's signal module also has these constants starting with SIG,
    // so the reference accepts them as signal names.
    ("_DFL", 0),
    ("_IGN", 1),
    ("_BLOCK", 0),
    ("_UNBLOCK", 1),
    ("_SETMASK", 2),
];

/// `TERM`, `SIGTERM`, `sigterm` or `15`.
pub fn signal_number(text: &str) -> Result<i32> {
    if let Some(n) = parse_int(text, 10) {
        return if SIGNALS.iter().any(|&(_, num)| i64::from(num) == n) {
            Ok(n as i32)
        } else {
            Err(format!("{text:?} is not a valid signal number"))
        };
    }
    let upper = text.trim().to_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    SIGNALS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|&(_, num)| num)
        .ok_or_else(|| format!("{text:?} is not a valid signal name"))
}

/// The conventional name of a signal number (`SIGTERM`), for messages.
pub fn signal_name(num: i32) -> String {
    SIGNALS
        .iter()
        .find(|&&(n, v)| v == num && !n.starts_with('_'))
        .map(|(n, _)| format!("SIG{n}"))
        .unwrap_or_else(|| format!("signal {num}"))
}

/// `0,2` — exit codes between 0 and 255.
pub fn exitcodes(text: &str) -> Result<Vec<i32>> {
    let bad = || format!("{text:?} is not a valid list of exit codes (0-255, comma separated)");
    if text.is_empty() {
        return Ok(Vec::new());
    }
    text.split(',')
        .map(|part| match parse_int(part, 10) {
            Some(n @ 0..=255) => Ok(n as i32),
            _ => Err(bad()),
        })
        .collect()
}

/// `a, b ,c` → `["a", "b", "c"]`; empty text is an empty list.
pub fn list_of_strings(text: &str) -> Vec<String> {
    if text.is_empty() {
        return Vec::new();
    }
    text.split(',').map(|s| s.trim().to_string()).collect()
}

/// `autorestart=` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoRestart {
    Never,
    Unexpected,
    Always,
}

impl AutoRestart {
    pub fn as_str(self) -> &'static str {
        match self {
            AutoRestart::Never => "false",
            AutoRestart::Unexpected => "unexpected",
            AutoRestart::Always => "true",
        }
    }
}

pub fn auto_restart(text: &str) -> Result<AutoRestart> {
    let lower = text.to_lowercase();
    if TRUTHY.contains(&lower.as_str()) {
        Ok(AutoRestart::Always)
    } else if FALSY.contains(&lower.as_str()) {
        Ok(AutoRestart::Never)
    } else if lower == "unexpected" {
        Ok(AutoRestart::Unexpected)
    } else {
        Err(format!(
            "invalid 'autorestart' value {text:?} (true, false or unexpected)"
        ))
    }
}

/// Log level names and the numbers the reference uses.
pub const LOG_LEVELS: &[(&str, u8)] = &[
    ("critical", 50),
    ("error", 40),
    ("warn", 30),
    ("info", 20),
    ("debug", 10),
    ("trace", 5),
    ("blather", 3),
];

pub fn logging_level(text: &str) -> Result<u8> {
    let lower = text.to_lowercase();
    LOG_LEVELS
        .iter()
        .find(|(n, _)| *n == lower)
        .map(|&(_, v)| v)
        .ok_or_else(|| {
            format!(
                "bad logging level name {text:?} (critical, error, warn, info, debug, trace, blather)"
            )
        })
}

/// A program, group or process name: no space, colon or slash.
pub fn process_or_group_name(text: &str) -> Result<String> {
    let s = text.trim();
    for c in [' ', ':', '/'] {
        if s.contains(c) {
            return Err(format!("invalid name {text:?} because of character {c:?}"));
        }
    }
    Ok(s.to_string())
}

/// Where a process's stdout or stderr goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogFile {
    None,
    Auto,
    /// The deprecated `syslog` file name (rewritten to `*_syslog=true`).
    Syslog,
    Path(String),
}

pub fn logfile_name(text: &str) -> Result<LogFile> {
    match text.to_lowercase().as_str() {
        "none" | "off" => Ok(LogFile::None),
        "auto" => Ok(LogFile::Auto),
        "syslog" => Ok(LogFile::Syslog),
        _ => existing_dirpath(text).map(LogFile::Path),
    }
}

/// `~` at the start of a path, as Python's `os.path.expanduser` does it.
pub fn expand_user(path: &str) -> String {
    let Some(rest) = path.strip_prefix('~') else {
        return path.to_string();
    };
    let (user, tail) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let home = if user.is_empty() {
        std::env::var("HOME")
            .ok()
            .or_else(|| crate::sys::user_by_uid(crate::sys::getuid()).map(|u| u.home))
    } else {
        crate::sys::user_by_name(user).map(|u| u.home)
    };
    match home {
        Some(h) => {
            let h = if h.len() > 1 {
                h.trim_end_matches('/')
            } else {
                &h
            };
            format!("{h}{tail}")
        }
        None => path.to_string(),
    }
}

/// A directory that must exist now.
pub fn existing_directory(text: &str) -> Result<String> {
    let path = expand_user(text);
    if Path::new(&path).is_dir() {
        Ok(path)
    } else {
        Err(format!("{text} is not an existing directory"))
    }
}

/// A file path whose directory must exist now.
pub fn existing_dirpath(text: &str) -> Result<String> {
    let path = expand_user(text);
    match path.rfind('/') {
        None => Ok(path),
        Some(i) => {
            let dir = &path[..i];
            if dir.is_empty() || Path::new(dir).is_dir() {
                Ok(path)
            } else {
                Err(format!(
                    "the directory named as part of the path {text} does not exist"
                ))
            }
        }
    }
}

/// Python's `os.path.normpath(os.path.abspath(expanduser(p)))`.
pub fn normalize_path(text: &str) -> String {
    let expanded = expand_user(text);
    let absolute = if expanded.starts_with('/') {
        expanded
    } else {
        let cwd = std::env::current_dir()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_else(|_| "/".to_string());
        format!("{cwd}/{expanded}")
    };
    normpath(&absolute)
}

/// Lexical normalization of an absolute path (`a/./b/../c` → `a/c`).
pub fn normpath(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    // POSIX keeps exactly two leading slashes; Python does too.
    let lead = if path.starts_with("//") && !path.starts_with("///") {
        "//"
    } else {
        "/"
    };
    format!("{lead}{}", parts.join("/"))
}

/// `host:port`, `*:port`, `:port` or `port` → (host, port); host "" = any.
pub fn inet_address(text: &str) -> Result<(String, u16)> {
    let port_number = |p: &str| -> Result<u16> {
        match parse_int(p, 10) {
            Some(n @ 1..=65535) => Ok(n as u16),
            Some(n) => Err(format!("port {n} is out of range (1-65535)")),
            None => Err(format!("{p:?} is not a valid port number")),
        }
    };
    let (host, port) = match text.rsplit_once(':') {
        Some((host, port)) => {
            if port.is_empty() {
                return Err(format!("no port number specified in {text:?}"));
            }
            (host.to_lowercase(), port_number(port)?)
        }
        None => (String::new(), port_number(text)?),
    };
    let host = if host == "*" { String::new() } else { host };
    Ok((host, port))
}

/// A user name or numeric uid that exists on this system.
pub fn name_to_uid(text: &str) -> Result<u32> {
    match parse_int(text, 10) {
        Some(n) => u32::try_from(n)
            .ok()
            .filter(|&uid| crate::sys::user_by_uid(uid).is_some())
            .ok_or_else(|| format!("invalid user id {text}")),
        None => crate::sys::user_by_name(text)
            .map(|u| u.uid)
            .ok_or_else(|| format!("invalid user name {text}")),
    }
}

/// A group name or numeric gid that exists on this system.
pub fn name_to_gid(text: &str) -> Result<u32> {
    match parse_int(text, 10) {
        Some(n) => u32::try_from(n)
            .ok()
            .filter(|&gid| crate::sys::group_by_gid(gid))
            .ok_or_else(|| format!("invalid group id {text}")),
        None => crate::sys::group_by_name(text).ok_or_else(|| format!("invalid group name {text}")),
    }
}

/// `user` or `user:group` → (uid, gid), gid -1 when not given.
pub fn colon_separated_user_group(text: &str) -> Result<(u32, i64)> {
    let bad = |why: String| format!("invalid user:group definition {text} ({why})");
    match text.split_once(':') {
        None => Ok((name_to_uid(text).map_err(bad)?, -1)),
        Some((u, g)) => Ok((
            name_to_uid(u).map_err(bad)?,
            i64::from(name_to_gid(g).map_err(bad)?),
        )),
    }
}

/// A URL as `urlparse` sees it: a scheme and a location or path.
pub fn url(text: &str) -> Result<String> {
    let bad = || format!("value {text:?} is not a URL");
    let (scheme, rest) = text.split_once(':').ok_or_else(bad)?;
    let scheme_ok = scheme
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if scheme_ok && !rest.is_empty() && rest != "//" {
        Ok(text.to_string())
    } else {
        Err(bad())
    }
}

/// `environment=` values: `KEY="val",KEY2=val2`.
///
/// The reference tokenizes with Python's non-POSIX `shlex` (word characters
/// are ASCII letters, digits, `_` and `/.+-():`; quotes stay part of the
/// token; `#` starts a comment to the end of the line), then takes tokens
/// three at a time as `key = value` and skips one separator token. We do the
/// same, so every value that works there means the same here.
pub fn dict_of_key_value_pairs(text: &str) -> Result<Vec<(String, String)>> {
    let tokens =
        python_shlex_tokens(text).map_err(|why| format!("{why} in key/value pairs {text:?}"))?;
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let triple = &tokens[i..tokens.len().min(i + 3)];
        if triple.len() != 3 || triple[1] != "=" {
            return Err(format!(
                "unexpected end of key/value pairs in value {text:?}"
            ));
        }
        let key = triple[0].clone();
        let value = triple[2].trim_matches(['\'', '"']).to_string();
        match pairs.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => pairs.push((key, value)),
        }
        i += 4;
    }
    Ok(pairs)
}

fn python_shlex_tokens(text: &str) -> Result<Vec<String>> {
    let is_word = |c: char| c.is_ascii_alphanumeric() || "_/.+-():".contains(c);
    let is_space = |c: char| " \t\r\n".contains(c);
    let is_quote = |c: char| c == '\'' || c == '"';
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    let skip_line = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
        for c in chars.by_ref() {
            if c == '\n' {
                break;
            }
        }
    };
    // Whitespace state: find the start of the next token.
    while let Some(c) = chars.next() {
        if is_space(c) {
            continue;
        }
        if c == '#' {
            skip_line(&mut chars);
            continue;
        }
        let mut token = String::from(c);
        if is_quote(c) {
            loop {
                match chars.next() {
                    None => return Err("no closing quotation".into()),
                    Some(q) if q == c => {
                        token.push(q);
                        break;
                    }
                    Some(other) => token.push(other),
                }
            }
        } else if is_word(c) {
            while let Some(&n) = chars.peek() {
                if n == '#' {
                    // In a word, the reference drops the rest of the line
                    // and carries on with the same word.
                    chars.next();
                    skip_line(&mut chars);
                } else if is_word(n) || is_quote(n) {
                    token.push(n);
                    chars.next();
                } else {
                    break;
                }
            }
        }
        tokens.push(token);
    }
    Ok(tokens)
}

/// Python's `repr()` of a string (`'x'`), as the reference's `%r` shows it.
pub fn python_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::from(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            // Python escapes what is not printable: C0 and C1 controls,
            // DEL and the soft hyphen (other non-printables are rare in
            // names and commands and shown as they are).
            c if (c as u32) < 0x20 || (0x7f..0xa0).contains(&(c as u32)) || c == '\u{ad}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python's `repr()` of a bytes value (`b'...'`), as the reference shows
/// output that is not UTF-8.
pub fn bytes_repr(data: &[u8]) -> String {
    let mut out = String::from("b'");
    for &b in data {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\'' => out.push_str("\\'"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('\'');
    out
}

/// `command=` split into argv like Python's `shlex.split` (POSIX rules:
/// quotes group, backslash escapes outside single quotes, and inside double
/// quotes only before `"` or `\`).
pub fn split_command(text: &str) -> Result<Vec<String>> {
    let mut words = Vec::new();
    let mut chars = text.chars();
    let mut word = String::new();
    let mut in_word = false;
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\r' | '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        None => return Err("no closing quotation".into()),
                        Some('\'') => break,
                        Some(q) => word.push(q),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        None => return Err("no closing quotation".into()),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            None => return Err("no escaped character".into()),
                            Some(e @ ('"' | '\\')) => word.push(e),
                            Some(e) => {
                                word.push('\\');
                                word.push(e);
                            }
                        },
                        Some(q) => word.push(q),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    None => return Err("no escaped character".into()),
                    Some(e) => word.push(e),
                }
            }
            other => {
                in_word = true;
                word.push(other);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn integers_like_python() {
        assert_eq!(integer(" 12 "), Ok(12));
        assert_eq!(integer("+5"), Ok(5));
        assert_eq!(integer("-1_000"), Ok(-1000));
        assert!(integer("1.5").is_err());
        assert!(integer("0x10").is_err());
        assert!(integer("").is_err());
        assert!(integer("1__0").is_err());
        assert!(integer("--1").is_err());
    }

    #[test]
    fn sizes_and_octals() {
        assert_eq!(byte_size("50MB"), Ok(50 << 20));
        assert_eq!(byte_size("1kb"), Ok(1024));
        assert_eq!(byte_size("2GB"), Ok(2 << 30));
        assert_eq!(byte_size("100"), Ok(100));
        assert_eq!(byte_size("0"), Ok(0));
        assert!(byte_size("1.5MB").is_err());
        assert!(byte_size("10XB").is_err());
        assert_eq!(octal("022"), Ok(0o22));
        assert_eq!(octal("0o77"), Ok(0o77));
        assert!(octal("089").is_err());
    }

    #[test]
    fn booleans_and_restarts() {
        for t in ["yes", "TRUE", "On", "1"] {
            assert_eq!(boolean(t), Ok(true));
        }
        for f in ["no", "False", "OFF", "0"] {
            assert_eq!(boolean(f), Ok(false));
        }
        assert!(boolean("maybe").is_err());
        assert_eq!(auto_restart("unexpected"), Ok(AutoRestart::Unexpected));
        assert_eq!(auto_restart("yes"), Ok(AutoRestart::Always));
        assert!(auto_restart("sometimes").is_err());
    }

    #[test]
    fn signals() {
        assert_eq!(signal_number("TERM"), Ok(15));
        assert_eq!(signal_number("sigkill"), Ok(9));
        assert_eq!(signal_number(" usr2 "), Ok(12));
        assert_eq!(signal_number("1"), Ok(1));
        assert!(signal_number("FOO").is_err());
        assert!(signal_number("99").is_err());
        assert_eq!(signal_name(15), "SIGTERM");
        // Aliases are named as the reference names them.
        assert_eq!(signal_name(6), "SIGABRT");
        assert_eq!(signal_name(17), "SIGCHLD");
        assert_eq!(signal_name(29), "SIGPOLL");
        assert_eq!(signal_name(99), "signal 99");
    }

    #[test]
    fn exit_codes() {
        assert_eq!(exitcodes("0,2"), Ok(vec![0, 2]));
        assert_eq!(exitcodes(" 1 , 3"), Ok(vec![1, 3]));
        assert!(exitcodes("256").is_err());
        assert!(exitcodes("0,,1").is_err());
    }

    #[test]
    fn environment_pairs_like_the_reference() {
        assert_eq!(
            dict_of_key_value_pairs(r#"A="1",B="x,y", C=/usr/bin:/bin"#),
            Ok(pairs(&[("A", "1"), ("B", "x,y"), ("C", "/usr/bin:/bin")]))
        );
        assert_eq!(
            dict_of_key_value_pairs("A='it s',B=2"),
            Ok(pairs(&[("A", "it s"), ("B", "2")]))
        );
        // Unquoted words after the value are taken as the separator.
        assert_eq!(
            dict_of_key_value_pairs("A=hello world"),
            Ok(pairs(&[("A", "hello")]))
        );
        assert_eq!(dict_of_key_value_pairs(""), Ok(vec![]));
        assert!(dict_of_key_value_pairs("A=$B").is_ok());
        assert!(dict_of_key_value_pairs("A").is_err());
        assert!(dict_of_key_value_pairs("A=\"x").is_err());
    }

    #[test]
    fn commands_split_like_shlex() {
        assert_eq!(
            split_command(r#"/bin/sh -c "echo 'a b' \"q\" \x""#),
            Ok(vec![
                "/bin/sh".to_string(),
                "-c".to_string(),
                r#"echo 'a b' "q" \x"#.to_string()
            ])
        );
        assert_eq!(
            split_command(r"a\ b '' c#d"),
            Ok(vec!["a b".to_string(), String::new(), "c#d".to_string()])
        );
        assert!(split_command("'open").is_err());
        assert_eq!(split_command("   "), Ok(vec![]));
    }

    #[test]
    fn addresses_and_paths() {
        assert_eq!(
            inet_address("127.0.0.1:9001"),
            Ok(("127.0.0.1".into(), 9001))
        );
        assert_eq!(inet_address("*:80"), Ok((String::new(), 80)));
        assert_eq!(inet_address(":80"), Ok((String::new(), 80)));
        assert_eq!(inet_address("9001"), Ok((String::new(), 9001)));
        assert!(inet_address("host:").is_err());
        assert!(inet_address("host:70000").is_err());
        assert_eq!(normpath("/a/./b/../c//d/"), "/a/c/d");
        assert_eq!(process_or_group_name(" ok "), Ok("ok".into()));
        assert!(process_or_group_name("a b").is_err());
        assert!(url("unix:///tmp/s.sock").is_ok());
        assert!(url("http://localhost:9001").is_ok());
        assert!(url("nourl").is_err());
    }
}
