//! `%(name)s` expansions, with the semantics of Python's `str % dict`
//! that the reference applies to configuration values.
//!
//! Supported: `%%`, and `%(name)` followed by optional flags (`#0- +`), a
//! width, a precision, and one of the conversions `s r a d i u x X o c f F`.
//! Values are strings or integers; a string given to a numeric conversion is
//! an error, as in Python.

use std::collections::BTreeMap;

/// A value an expansion can produce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Str(String),
    Int(i64),
}

/// The names available to a value, sorted so error messages list them in
/// the same order as the reference.
pub type Expansions = BTreeMap<String, Value>;

/// Why a string could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpandError {
    /// `%(name)s` where `name` is not available.
    UnknownName {
        name: String,
        available: Vec<String>,
    },
    /// Anything else: a lone `%`, a bad conversion, a type mismatch.
    BadFormat(String),
}

impl ExpandError {
    /// The message, naming the offending string as the reference does.
    pub fn describe(&self, text: &str) -> String {
        match self {
            ExpandError::UnknownName { name, available } => {
                let (env, plain): (Vec<&String>, Vec<&String>) =
                    available.iter().partition(|n| n.starts_with("ENV_"));
                let mut listed: Vec<String> = plain.iter().map(|n| n.to_string()).collect();
                if !env.is_empty() {
                    listed.push(format!(
                        "ENV_<name> for {} environment variables",
                        env.len()
                    ));
                }
                format!(
                    "format string {text:?} contains names ('{name}') which cannot be expanded; \
                     available names: {}",
                    listed.join(", ")
                )
            }
            ExpandError::BadFormat(why) => {
                format!("format string {text:?} is badly formatted: {why}")
            }
        }
    }
}

/// Expands every `%(...)` directive of `text`.
pub fn expand(text: &str, names: &Expansions) -> Result<String, ExpandError> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            None => return Err(ExpandError::BadFormat("incomplete format".into())),
            Some((_, '%')) => out.push('%'),
            Some((_, '(')) => {
                let mut depth = 1;
                let mut key = String::new();
                loop {
                    match chars.next() {
                        None => return Err(ExpandError::BadFormat("incomplete format key".into())),
                        Some((_, '(')) => {
                            depth += 1;
                            key.push('(');
                        }
                        Some((_, ')')) => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                            key.push(')');
                        }
                        Some((_, ch)) => key.push(ch),
                    }
                }
                let spec = read_spec(&mut chars)?;
                let value = names.get(&key).ok_or_else(|| ExpandError::UnknownName {
                    name: key.clone(),
                    available: names.keys().cloned().collect(),
                })?;
                out.push_str(&spec.render(value)?);
            }
            Some((i, other)) => {
                // `%s` and friends without a name take the whole mapping as
                // their argument in Python; nothing useful can come of it.
                return Err(ExpandError::BadFormat(format!(
                    "conversion '%{other}' at index {} has no (name)",
                    i - 1
                )));
            }
        }
    }
    Ok(out)
}

#[derive(Debug, Default)]
struct Spec {
    left: bool,
    zero: bool,
    plus: bool,
    space: bool,
    alt: bool,
    width: usize,
    precision: Option<usize>,
    conversion: char,
}

fn read_spec(
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
) -> Result<Spec, ExpandError> {
    let mut spec = Spec::default();
    while let Some(&(_, c)) = chars.peek() {
        match c {
            '-' => spec.left = true,
            '0' => spec.zero = true,
            '+' => spec.plus = true,
            ' ' => spec.space = true,
            '#' => spec.alt = true,
            _ => break,
        }
        chars.next();
    }
    spec.width = read_number(chars);
    if chars.peek().is_some_and(|&(_, c)| c == '.') {
        chars.next();
        spec.precision = Some(read_number(chars));
    }
    while chars
        .peek()
        .is_some_and(|&(_, c)| matches!(c, 'h' | 'l' | 'L'))
    {
        chars.next();
    }
    match chars.next() {
        None => Err(ExpandError::BadFormat("incomplete format".into())),
        Some((_, c)) if "sradiuxXocfF".contains(c) => {
            spec.conversion = c;
            Ok(spec)
        }
        Some((i, c)) => Err(ExpandError::BadFormat(format!(
            "unsupported format character '{c}' (0x{:x}) at index {i}",
            c as u32
        ))),
    }
}

fn read_number(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>) -> usize {
    let mut n: usize = 0;
    while let Some(&(_, c)) = chars.peek() {
        let Some(d) = c.to_digit(10) else { break };
        n = n.saturating_mul(10).saturating_add(d as usize).min(1 << 16);
        chars.next();
    }
    n
}

impl Spec {
    fn render(&self, value: &Value) -> Result<String, ExpandError> {
        let body = match (self.conversion, value) {
            ('s', v) => {
                let s = match v {
                    Value::Str(s) => s.clone(),
                    Value::Int(i) => i.to_string(),
                };
                truncate(s, self.precision)
            }
            ('r' | 'a', v) => truncate(python_repr(v), self.precision),
            ('c', Value::Int(i)) => u32::try_from(*i)
                .ok()
                .and_then(char::from_u32)
                .map(String::from)
                .ok_or_else(|| ExpandError::BadFormat("%c arg not in range".into()))?,
            ('c', Value::Str(s)) if s.chars().count() == 1 => s.clone(),
            (conv, Value::Int(i)) => return Ok(self.pad_number(*i, conv)),
            (conv, Value::Str(_)) => {
                return Err(ExpandError::BadFormat(format!(
                    "%{conv} format: a real number is required, not str"
                )))
            }
        };
        Ok(self.pad(body))
    }

    fn pad(&self, body: String) -> String {
        let len = body.chars().count();
        if len >= self.width {
            return body;
        }
        let fill = " ".repeat(self.width - len);
        if self.left {
            body + &fill
        } else {
            fill + &body
        }
    }

    fn pad_number(&self, n: i64, conversion: char) -> String {
        let magnitude = n.unsigned_abs();
        let mut digits = match conversion {
            'x' => format!("{magnitude:x}"),
            'X' => format!("{magnitude:X}"),
            'o' => format!("{magnitude:o}"),
            'f' | 'F' => format!("{magnitude}.{}", "0".repeat(self.precision.unwrap_or(6))),
            _ => magnitude.to_string(),
        };
        if let (Some(p), false) = (self.precision, matches!(conversion, 'f' | 'F')) {
            if digits.len() < p {
                digits = "0".repeat(p - digits.len()) + &digits;
            }
        }
        if self.alt {
            match conversion {
                'x' => digits.insert_str(0, "0x"),
                'X' => digits.insert_str(0, "0X"),
                'o' => digits.insert_str(0, "0o"),
                _ => {}
            }
        }
        let sign = if n < 0 {
            "-"
        } else if self.plus {
            "+"
        } else if self.space {
            " "
        } else {
            ""
        };
        let len = sign.len() + digits.len();
        if len >= self.width {
            return format!("{sign}{digits}");
        }
        let fill = self.width - len;
        if self.left {
            format!("{sign}{digits}{}", " ".repeat(fill))
        } else if self.zero {
            format!("{sign}{}{digits}", "0".repeat(fill))
        } else {
            format!("{}{sign}{digits}", " ".repeat(fill))
        }
    }
}

fn truncate(s: String, precision: Option<usize>) -> String {
    match precision {
        Some(p) => s.chars().take(p).collect(),
        None => s,
    }
}

/// Python's `repr()` of a str or int, enough for `%(x)r`.
fn python_repr(v: &Value) -> String {
    match v {
        Value::Int(i) => i.to_string(),
        Value::Str(s) => super::values::python_repr(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Expansions {
        let mut m = Expansions::new();
        m.insert("program_name".into(), Value::Str("web".into()));
        m.insert("process_num".into(), Value::Int(7));
        m.insert("ENV_HOME".into(), Value::Str("/root".into()));
        m
    }

    fn check(text: &str, expected: &str) {
        assert_eq!(expand(text, &names()).as_deref(), Ok(expected), "{text}");
    }

    #[test]
    fn python_formatting() {
        check("%(program_name)s_%(process_num)02d", "web_07");
        check("%(process_num)d%%", "7%");
        check(
            "%(process_num)s|%(process_num)3d|%(process_num)-3d|",
            "7|  7|7  |",
        );
        check(
            "%(process_num)+d %(process_num)x %(process_num)#o",
            "+7 7 0o7",
        );
        check(
            "%(program_name)5s|%(program_name).2s|%(program_name)r",
            "  web|we|'web'",
        );
        check("%(ENV_HOME)s/x", "/root/x");
        check("no directives", "no directives");
        check("%(process_num).3d", "007");
    }

    #[test]
    fn errors() {
        let n = names();
        assert!(matches!(
            expand("%(nope)s", &n),
            Err(ExpandError::UnknownName { ref name, .. }) if name == "nope"
        ));
        assert!(matches!(expand("50%", &n), Err(ExpandError::BadFormat(_))));
        assert!(matches!(expand("%s", &n), Err(ExpandError::BadFormat(_))));
        assert!(matches!(
            expand("%(program_name)d", &n),
            Err(ExpandError::BadFormat(_))
        ));
        assert!(matches!(
            expand("%(process_num)q", &n),
            Err(ExpandError::BadFormat(_))
        ));
        assert!(matches!(
            expand("%(unterminated", &n),
            Err(ExpandError::BadFormat(_))
        ));
    }
}
