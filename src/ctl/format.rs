//! The reference's output layouts, and the few Python spellings they use
//! (`repr()` of a string, `int()` of an argument, namespecs).

use super::reply::{ConfigInfo, ProcessInfo};

/// `group:name`, or just `name` when the process has its group's name.
/// A missing process name prints as Python's `None`, as in the reference
/// (`clear grp:*` reports `grp:None`).
pub fn namespec(group: &str, name: Option<&str>) -> String {
    match name {
        Some(n) if n == group => n.to_string(),
        Some(n) => format!("{group}:{n}"),
        None => format!("{group}:None"),
    }
}

/// Splits `group:name`, `group:*` / `group:` (the whole group, name None)
/// and `name` (a process in the group of the same name).
pub fn split_namespec(spec: &str) -> (&str, Option<&str>) {
    match spec.split_once(':') {
        Some((group, "" | "*")) => (group, None),
        Some((group, name)) => (group, Some(name)),
        None => (spec, Some(spec)),
    }
}

/// The `status` table: name column at least 33 wide (3 more than the
/// longest name), then the state in 10, then the description.
pub fn status_lines(infos: &[ProcessInfo]) -> Vec<String> {
    let names: Vec<String> = infos
        .iter()
        .map(|i| namespec(&i.group, Some(&i.name)))
        .collect();
    let widest = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    let width = widest.max(30) + 3;
    infos
        .iter()
        .zip(&names)
        .map(|(info, name)| format!("{name:<width$}{:<10}{}", info.statename, info.description))
        .collect()
}

/// One `avail` line: name, in use or not, autostart, priorities.
pub fn avail_line(c: &ConfigInfo) -> String {
    let name = namespec(&c.group, Some(&c.name));
    let inuse = if c.inuse { "in use" } else { "avail" };
    let auto = if c.autostart { "auto" } else { "manual" };
    format!(
        "{name:<32} {inuse:<9} {auto:<9} {}:{}",
        c.group_prio, c.process_prio
    )
}

/// Python's `int()` of a command argument: optional sign, ASCII digits,
/// single underscores between digits. Values beyond `i64` saturate (they
/// fail later as too big for XML-RPC, as in the reference).
pub fn py_int(text: &str) -> Option<i64> {
    let t = text.trim();
    let (negative, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let valid_shape = !digits.is_empty()
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__")
        && digits.chars().all(|c| c.is_ascii_digit() || c == '_');
    if !valid_shape {
        return None;
    }
    let mut value: i64 = 0;
    for d in digits.bytes().filter(u8::is_ascii_digit) {
        value = value.saturating_mul(10).saturating_add(i64::from(d - b'0'));
    }
    Some(if negative { -value } else { value })
}

/// Python's `int(x, 16)` as the chunked-transfer reader uses it on the
/// first word of a chunk-size line.
pub fn hex_size(line: &str) -> Option<usize> {
    let word = line.split([';', ' ', '\t']).next()?.trim();
    usize::from_str_radix(word, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespecs() {
        assert_eq!(namespec("cat", Some("cat")), "cat");
        assert_eq!(namespec("grp", Some("cat")), "grp:cat");
        assert_eq!(namespec("grp", None), "grp:None");
        for (spec, want) in [
            ("cat", ("cat", Some("cat"))),
            ("grp:cat", ("grp", Some("cat"))),
            ("grp:*", ("grp", None)),
            ("grp:", ("grp", None)),
            (":cat", ("", Some("cat"))),
            ("a:b:c", ("a", Some("b:c"))),
        ] {
            assert_eq!(split_namespec(spec), want, "{spec}");
        }
    }

    #[test]
    fn reprs_as_python() {
        for (text, want) in [
            ("bogus", "'bogus'"),
            ("it's", "\"it's\""),
            ("say \"it's\"", "'say \"it\\'s\"'"),
            ("a\tb\nc\\", "'a\\tb\\nc\\\\'"),
            ("\u{1b}[0m", "'\\x1b[0m'"),
            ("héllo", "'héllo'"),
        ] {
            assert_eq!(crate::config::values::python_repr(text), want, "{text}");
        }
    }

    #[test]
    fn ints_as_python() {
        for (text, want) in [
            ("100", Some(100)),
            ("-5", Some(-5)),
            ("+7", Some(7)),
            ("1_000", Some(1000)),
            ("", None),
            ("f", None),
            ("1__0", None),
            ("_1", None),
            ("1.5", None),
            ("99999999999999999999999", Some(i64::MAX)),
        ] {
            assert_eq!(py_int(text), want, "{text}");
        }
    }

    #[test]
    fn status_columns() {
        let info = |group: &str, name: &str, state: &str, desc: &str| ProcessInfo {
            group: group.into(),
            name: name.into(),
            statename: state.into(),
            state: 0,
            description: desc.into(),
        };
        let lines = status_lines(&[
            info("cat", "cat", "RUNNING", "pid 12, uptime 0:00:03"),
            info("grp", "x", "STOPPED", "Not started"),
        ]);
        assert_eq!(
            lines,
            [
                format!("cat{}RUNNING   pid 12, uptime 0:00:03", " ".repeat(30)),
                format!("grp:x{}STOPPED   Not started", " ".repeat(28)),
            ]
        );
        let long = "g".repeat(40);
        let lines = status_lines(&[info(&long, &long, "FATAL", "")]);
        assert_eq!(lines, [format!("{long}   FATAL     ")]);
    }
}
