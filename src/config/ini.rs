//! Stage one of configuration: the INI text itself.
//!
//! This reads INI exactly the way the reference's parser does (Python's
//! `RawConfigParser` with `inline_comment_prefixes=(';', '#')` and
//! `strict=False`), and remembers for every value the file and line it came
//! from so that later errors can point at it. The `configparser` crate cannot
//! report lines or files and strips comments by different rules, so this
//! small reader is ours (see ARCHITECTURE.md).
//!
//! The rules, as users of the reference know them:
//! - `[name]` starts a section; a section seen again continues the first one.
//! - `key = value` or `key: value`; keys are lower-cased, the last one wins.
//! - a line whose first non-blank character is `;` or `#` is a comment; an
//!   inline `;` or `#` is a comment only when whitespace precedes it.
//! - a line indented deeper than its key continues the value (joined with
//!   `\n`); blank lines inside such a value are kept, trailing ones dropped.
//! - `[DEFAULT]` holds values every section inherits.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where a value was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: PathBuf,
    pub line: usize,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, line {}", self.file.display(), self.line)
    }
}

/// One `key = value` entry.
#[derive(Debug, Clone)]
pub struct Entry {
    pub key: String,
    pub value: String,
    pub origin: Origin,
}

/// One section with its entries in file order.
#[derive(Debug, Clone)]
pub struct Section {
    pub name: String,
    pub origin: Origin,
    pub entries: Vec<Entry>,
}

impl Section {
    fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.key == key)
    }

    fn set(&mut self, entry: Entry) {
        match self.entries.iter_mut().find(|e| e.key == entry.key) {
            Some(existing) => *existing = entry,
            None => self.entries.push(entry),
        }
    }
}

/// A syntax error in the INI text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub origin: Origin,
    /// The section the bad line is in, if any.
    pub section: Option<String>,
    pub message: String,
}

/// Every section read so far, in first-seen order, plus `[DEFAULT]`.
#[derive(Debug, Clone, Default)]
pub struct Ini {
    sections: Vec<Section>,
    defaults: Vec<Entry>,
}

const DEFAULT_SECTION: &str = "DEFAULT";

impl Ini {
    /// Reads more INI text into this set of sections, as the reference's
    /// `parser.read(file)` does. Returns the names of sections this text
    /// created (not those it continued).
    pub fn read(&mut self, text: &str, file: &Path) -> Result<Vec<String>, SyntaxError> {
        let mut created = Vec::new();
        // Index of the current section in `self.sections`, or None for
        // [DEFAULT]; `in_section` is false before any header.
        let mut current: Option<usize> = None;
        let mut in_section = false;
        // The key whose value continuation lines extend.
        let mut open_key: Option<String> = None;
        let mut indent_level = usize::MAX;
        // Pending multi-line values: (section index or None, key, lines).
        let mut pending: Vec<(Option<usize>, String, Vec<String>)> = Vec::new();

        for (index, raw_line) in split_lines(text).enumerate() {
            let lineno = index + 1;
            let origin = Origin {
                file: file.to_path_buf(),
                line: lineno,
            };
            let comment_start = comment_start(raw_line);
            let value = raw_line[..comment_start.unwrap_or(raw_line.len())].trim();
            if value.is_empty() {
                // Blank lines stay inside an open value, unless a comment
                // was on the line.
                if comment_start.is_none() && in_section {
                    if let Some(key) = &open_key {
                        if let Some(p) = pending
                            .iter_mut()
                            .rev()
                            .find(|p| p.0 == current && &p.1 == key)
                        {
                            p.2.push(String::new());
                        }
                    }
                }
                continue;
            }
            let cur_indent = raw_line
                .char_indices()
                .find(|(_, c)| !c.is_whitespace())
                .map(|(i, _)| i)
                .unwrap_or(0);
            if in_section && open_key.is_some() && cur_indent > indent_level {
                if let Some(key) = &open_key {
                    if let Some(p) = pending
                        .iter_mut()
                        .rev()
                        .find(|p| p.0 == current && &p.1 == key)
                    {
                        p.2.push(value.to_string());
                    }
                }
                continue;
            }
            indent_level = cur_indent;
            if let Some(name) = section_header(value) {
                open_key = None;
                in_section = true;
                if name == DEFAULT_SECTION {
                    current = None;
                } else if let Some(i) = self.sections.iter().position(|s| s.name == name) {
                    current = Some(i);
                } else {
                    self.sections.push(Section {
                        name: name.to_string(),
                        origin: origin.clone(),
                        entries: Vec::new(),
                    });
                    created.push(name.to_string());
                    current = Some(self.sections.len() - 1);
                }
                continue;
            }
            if !in_section {
                return Err(SyntaxError {
                    origin,
                    section: None,
                    message: format!("no section header before this line: {raw_line:?}"),
                });
            }
            let Some((key, val)) = split_option(value) else {
                let section = match current {
                    Some(i) => self.sections[i].name.clone(),
                    None => DEFAULT_SECTION.to_string(),
                };
                return Err(SyntaxError {
                    origin,
                    section: Some(section),
                    message: format!("expected 'key = value', found {raw_line:?}"),
                });
            };
            let key = key.to_lowercase();
            let entry = Entry {
                key: key.clone(),
                value: String::new(),
                origin,
            };
            self.store(current, entry);
            pending.retain(|p| !(p.0 == current && p.1 == key));
            pending.push((current, key.clone(), vec![val.to_string()]));
            open_key = Some(key);
        }

        for (section, key, lines) in pending {
            let joined = lines.join("\n");
            let joined = joined.trim_end().to_string();
            let slot = match section {
                Some(i) => self.sections[i].entries.iter_mut().find(|e| e.key == key),
                None => self.defaults.iter_mut().find(|e| e.key == key),
            };
            if let Some(entry) = slot {
                entry.value = joined;
            }
        }
        Ok(created)
    }

    fn store(&mut self, section: Option<usize>, entry: Entry) {
        match section {
            Some(i) => self.sections[i].set(entry),
            None => match self.defaults.iter_mut().find(|e| e.key == entry.key) {
                Some(existing) => *existing = entry,
                None => self.defaults.push(entry),
            },
        }
    }

    /// Section names in first-seen order (without `[DEFAULT]`).
    pub fn section_names(&self) -> impl Iterator<Item = &str> {
        self.sections.iter().map(|s| s.name.as_str())
    }

    pub fn has_section(&self, name: &str) -> bool {
        self.sections.iter().any(|s| s.name == name)
    }

    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// A value of a section, falling back to `[DEFAULT]`.
    pub fn get(&self, section: &str, key: &str) -> Option<&Entry> {
        self.section(section)?
            .entry(key)
            .or_else(|| self.defaults.iter().find(|e| e.key == key))
    }

    /// Keys of a section including inherited defaults, section keys first.
    pub fn keys(&self, section: &str) -> Vec<&str> {
        let mut keys: Vec<&str> = Vec::new();
        if let Some(s) = self.section(section) {
            keys.extend(s.entries.iter().map(|e| e.key.as_str()));
        }
        for d in &self.defaults {
            if !keys.contains(&d.key.as_str()) {
                keys.push(d.key.as_str());
            }
        }
        keys
    }

    /// Replaces the literal `%(here)s` in every value of every section
    /// (inherited defaults included) by `here`, as the reference does each
    /// time it has read a file when an `[include]` section is present.
    pub fn expand_here(&mut self, here: &str) {
        const HERE: &str = "%(here)s";
        let defaults = self.defaults.clone();
        for section in &mut self.sections {
            for d in &defaults {
                if section.entry(&d.key).is_none() && d.value.contains(HERE) {
                    let mut e = d.clone();
                    e.value = e.value.replace(HERE, here);
                    section.entries.push(e);
                }
            }
            for e in &mut section.entries {
                if e.value.contains(HERE) {
                    e.value = e.value.replace(HERE, here);
                }
            }
        }
    }
}

/// Splits text into lines the way Python's universal newlines do.
fn split_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = rest.find(['\n', '\r']).unwrap_or(rest.len());
        let line = &rest[..end];
        let mut next = end;
        if rest[end..].starts_with("\r\n") {
            next += 2;
        } else if end < rest.len() {
            next += 1;
        }
        rest = &rest[next..];
        Some(line)
    })
}

/// Byte offset where a comment starts on this line, by the reference's rules.
///
/// Full-line comments start with `;` or `#` after leading blanks. Inline
/// comments need whitespace before the prefix; the reference searches the
/// prefixes in rounds (the n-th occurrence of each in round n) and takes the
/// earliest qualifying one of the first round that has any, which is what we
/// do too, quirk included (`a;b ;c #d` keeps `a;b ;c`).
fn comment_start(line: &str) -> Option<usize> {
    let trimmed = line.trim_start();
    if trimmed.starts_with(';') || trimmed.starts_with('#') {
        return Some(0);
    }
    let bytes = line.as_bytes();
    let mut cursors: Vec<(u8, Option<usize>)> = vec![(b';', None), (b'#', None)];
    while !cursors.is_empty() {
        let mut found: Option<usize> = None;
        let mut next = Vec::new();
        for (prefix, last) in cursors {
            let from = last.map(|i| i + 1).unwrap_or(0);
            let Some(pos) = bytes[from.min(bytes.len())..]
                .iter()
                .position(|&b| b == prefix)
                .map(|p| p + from)
            else {
                continue;
            };
            next.push((prefix, Some(pos)));
            let preceded_by_space = pos == 0
                || line[..pos]
                    .chars()
                    .next_back()
                    .is_some_and(char::is_whitespace);
            if preceded_by_space {
                found = Some(found.map_or(pos, |f: usize| f.min(pos)));
            }
        }
        if found.is_some() {
            return found;
        }
        cursors = next;
    }
    None
}

/// `[name]` at the start of a stripped line; the name runs to the last `]`.
fn section_header(value: &str) -> Option<&str> {
    let rest = value.strip_prefix('[')?;
    let end = rest.rfind(']')?;
    if end == 0 {
        return None;
    }
    Some(&rest[..end])
}

/// Splits `key = value` / `key: value` at the first delimiter.
fn split_option(value: &str) -> Option<(&str, &str)> {
    let pos = value.find(['=', ':'])?;
    let key = value[..pos].trim_end();
    if key.is_empty() {
        return None;
    }
    Some((key, value[pos + 1..].trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Ini {
        let mut ini = Ini::default();
        ini.read(text, Path::new("t.conf")).expect("valid ini");
        ini
    }

    fn value(ini: &Ini, section: &str, key: &str) -> Option<String> {
        ini.get(section, key).map(|e| e.value.clone())
    }

    #[test]
    fn inline_comments_need_whitespace_before_them() {
        let ini = parse("[s]\nk=a;b ;c #d\nk2=a#b ;c\nk3 = x ; y\nk4=;v\n");
        assert_eq!(value(&ini, "s", "k").as_deref(), Some("a;b ;c"));
        assert_eq!(value(&ini, "s", "k2").as_deref(), Some("a#b"));
        assert_eq!(value(&ini, "s", "k3").as_deref(), Some("x"));
        assert_eq!(value(&ini, "s", "k4").as_deref(), Some(";v"));
    }

    #[test]
    fn continuation_lines_keep_inner_blank_lines() {
        let ini = parse("[s]\nk3 = x\n  cont ; c\n\n  more\n\nk4=v\n");
        assert_eq!(value(&ini, "s", "k3").as_deref(), Some("x\ncont\n\nmore"));
        assert_eq!(value(&ini, "s", "k4").as_deref(), Some("v"));
    }

    #[test]
    fn repeated_sections_merge_and_last_key_wins() {
        let ini = parse("[s]\nK=1\n[t]\na=b\n[s]\nk=2\nother: x\n");
        assert_eq!(value(&ini, "s", "k").as_deref(), Some("2"));
        assert_eq!(value(&ini, "s", "other").as_deref(), Some("x"));
        assert_eq!(ini.section_names().collect::<Vec<_>>(), vec!["s", "t"]);
        assert_eq!(ini.get("s", "k").map(|e| e.origin.line), Some(6));
    }

    #[test]
    fn defaults_are_inherited() {
        let ini = parse("[DEFAULT]\nx=1\n[s]\ny=2\n");
        assert_eq!(value(&ini, "s", "x").as_deref(), Some("1"));
        assert_eq!(ini.keys("s"), vec!["y", "x"]);
        assert!(!ini.has_section("DEFAULT"));
    }

    #[test]
    fn errors_name_the_line() {
        let mut ini = Ini::default();
        let err = ini
            .read("[s]\nok=1\nnot an option\n", Path::new("f.conf"))
            .expect_err("bad line");
        assert_eq!(err.origin.line, 3);
        let err = ini
            .read("k=v\n", Path::new("g.conf"))
            .expect_err("no header");
        assert_eq!(err.origin.line, 1);
        let err = ini
            .read("[s]\n=v\n", Path::new("h.conf"))
            .expect_err("no key");
        assert_eq!(err.origin.line, 2);
    }

    #[test]
    fn headers_and_line_endings() {
        let ini = parse("[a]b] trailing\r\nk=v\r\n[c]\rz=1");
        assert_eq!(value(&ini, "a]b", "k").as_deref(), Some("v"));
        assert_eq!(value(&ini, "c", "z").as_deref(), Some("1"));
    }

    #[test]
    fn expand_here_replaces_literal_here() {
        let mut ini = parse("[DEFAULT]\nd=%(here)s/x\n[s]\nk=%(here)s/log %(here)s\n");
        ini.expand_here("/etc");
        assert_eq!(value(&ini, "s", "k").as_deref(), Some("/etc/log /etc"));
        assert_eq!(value(&ini, "s", "d").as_deref(), Some("/etc/x"));
    }
}
