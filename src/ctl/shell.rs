//! The interactive shell: `status` first, then a `supervisor> ` prompt
//! until `quit`, `exit`, end of input (Ctrl-D) or Ctrl-C. On a terminal,
//! lines are edited with rustyline (arrow-key history, tab completion of
//! commands, groups and process names, as the reference's readline
//! completer offers them); the history file is kept in GNU readline's plain
//! format, one line per entry, so it is shared with the reference's
//! supervisorctl. Without a terminal, the prompt is printed and lines are
//! read as they come, as the reference does.

use std::cell::RefCell;
use std::io::{self, IsTerminal, Write};

use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::MemHistory;
use rustyline::validate::Validator;
use rustyline::{CompletionType, Config, Context, Editor, Helper};

use crate::rpc::xmlrpc::Value;

use super::client::Server;
use super::controller::{Ctl, Flow, COMMAND_WORDS};
use super::reply::ProcessInfo;

/// How many lines of history the shell keeps (GNU readline keeps all).
const HISTORY_MAX: usize = 10_000;

/// Runs the shell until the user leaves it.
pub fn run(ctl: &mut Ctl, prompt: &str, history_file: Option<&str>) {
    if ctl.onecmd("status") == Flow::Stop {
        return;
    }
    let prompt = format!("{prompt}> ");
    if io::stdin().is_terminal() && io::stdout().is_terminal() {
        if let Ok(editor) = new_editor(&ctl.server) {
            return edit_loop(ctl, editor, &prompt, history_file);
        }
    }
    plain_loop(ctl, &prompt);
}

fn plain_loop(ctl: &mut Ctl, prompt: &str) {
    loop {
        let mut out = io::stdout().lock();
        let _ = out.write_all(prompt.as_bytes());
        let _ = out.flush();
        drop(out);
        let line = match ctl.input.read_line() {
            Ok(Some(line)) => line,
            Ok(None) => "EOF".to_string(),
            Err(_) => {
                ctl.say("");
                return;
            }
        };
        if ctl.onecmd(&line) == Flow::Stop {
            return;
        }
    }
}

type LineEditor = Editor<Completion, MemHistory>;

fn new_editor(server: &Server) -> rustyline::Result<LineEditor> {
    let config = Config::builder()
        .completion_type(CompletionType::List)
        .auto_add_history(false)
        .max_history_size(HISTORY_MAX)?
        .history_ignore_dups(false)?
        .build();
    let mut editor = LineEditor::with_config(config)?;
    editor.set_helper(Some(Completion::new(server.clone())));
    Ok(editor)
}

fn edit_loop(ctl: &mut Ctl, mut editor: LineEditor, prompt: &str, history_file: Option<&str>) {
    if let Some(file) = history_file {
        load_history(&mut editor, file);
    }
    loop {
        if let Some(helper) = editor.helper_mut() {
            *helper = Completion::new(ctl.server.clone());
        }
        match editor.readline(prompt) {
            Ok(line) => {
                if !line.is_empty() {
                    let _ = editor.add_history_entry(line.as_str());
                }
                if ctl.onecmd(&line) == Flow::Stop {
                    break;
                }
            }
            // rustyline has already ended the line, which is all the
            // reference's `EOF` command and Ctrl-C handler print.
            Err(ReadlineError::Eof | ReadlineError::Interrupted) => break,
            Err(_) => {
                ctl.say("");
                break;
            }
        }
    }
    if let Some(file) = history_file {
        save_history(&editor, file);
    }
}

/// Reads a plain history file (a missing or unreadable one is no error).
fn load_history(editor: &mut LineEditor, file: &str) {
    let Ok(text) = std::fs::read(file) else {
        return;
    };
    for line in String::from_utf8_lossy(&text).lines() {
        let _ = editor.add_history_entry(line);
    }
}

fn save_history(editor: &LineEditor, file: &str) {
    let mut text = String::new();
    for entry in editor.history() {
        text.push_str(entry);
        text.push('\n');
    }
    let _ = std::fs::write(file, text);
}

/// Tab completion as the reference's: command words first, then group or
/// process names depending on the command. Names are fetched once per
/// prompt.
pub struct Completion {
    server: Server,
    processes: RefCell<Option<Vec<(String, String)>>>,
}

/// Characters that end a word for completion: GNU readline's defaults less
/// `:`, `*` and `-` (so `group:name`, `group:*` and `a-b` are one word).
const WORD_BREAKS: &str = " \t\n`~!@#$%^&()=+[{]}\\|;'\",<>/?";

impl Completion {
    fn new(server: Server) -> Completion {
        Completion {
            server,
            processes: RefCell::new(None),
        }
    }

    /// `(group, name)` of every process; empty when the daemon does not
    /// answer.
    fn processes(&self) -> Vec<(String, String)> {
        let mut cache = self.processes.borrow_mut();
        cache
            .get_or_insert_with(|| {
                let infos = self.server.call("supervisor.getAllProcessInfo", &[]);
                let infos = infos.and_then(|v: Value| ProcessInfo::list(&v));
                infos
                    .map(|list| list.into_iter().map(|i| (i.group, i.name)).collect())
                    .unwrap_or_default()
            })
            .clone()
    }

    /// The completions of `text` (the word at the cursor) within `line`.
    pub fn matches(&self, line: &str, text: &str) -> Vec<String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let candidates = match words.as_slice() {
            [] => commands(),
            [_] if !line.ends_with(char::is_whitespace) => commands(),
            // As the reference (`action in ('help')` tests for a substring).
            [action, ..] if "help".contains(action) => commands(),
            ["add" | "remove" | "update", ..] => self.groups(),
            ["clear" | "fg" | "pid" | "restart" | "signal" | "start" | "status" | "stop"
            | "tail", ..] => self.process_names(text),
            _ => Vec::new(),
        };
        let mut matches: Vec<String> = Vec::new();
        for c in candidates {
            if c.starts_with(text) && !matches.contains(&c) {
                matches.push(c);
            }
        }
        matches.into_iter().map(|m| format!("{m} ")).collect()
    }

    fn groups(&self) -> Vec<String> {
        let mut groups: Vec<String> = Vec::new();
        for (group, _) in self.processes() {
            if !groups.contains(&group) {
                groups.push(group);
            }
        }
        groups
    }

    /// `name` for a process alone in its group, else `group:name` and
    /// `group:*` (always the long forms once the word has a `:`).
    fn process_names(&self, text: &str) -> Vec<String> {
        let mut names = Vec::new();
        for (group, name) in self.processes() {
            if text.contains(':') || name != group {
                names.push(format!("{group}:{name}"));
                let all = format!("{group}:*");
                if !names.contains(&all) {
                    names.push(all);
                }
            } else {
                names.push(name);
            }
        }
        names
    }
}

fn commands() -> Vec<String> {
    COMMAND_WORDS.iter().map(|w| w.to_string()).collect()
}

impl Completer for Completion {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = line.get(..pos).unwrap_or(line);
        let start = before
            .rfind(|c| WORD_BREAKS.contains(c))
            .map_or(0, |i| i + 1);
        let text = before.get(start..).unwrap_or("");
        let pairs = self
            .matches(line, text)
            .into_iter()
            .map(|m| Pair {
                display: m.trim_end().to_string(),
                replacement: m,
            })
            .collect();
        Ok((start, pairs))
    }
}

impl Hinter for Completion {
    type Hint = String;
}

impl Highlighter for Completion {}

impl Validator for Completion {}

impl Helper for Completion {}

#[cfg(test)]
mod tests {
    use super::*;

    fn offline() -> Completion {
        let c = Completion::new(Server::default());
        *c.processes.borrow_mut() = Some(vec![
            ("cat".into(), "cat".into()),
            ("grp".into(), "a".into()),
            ("grp".into(), "b".into()),
        ]);
        c
    }

    #[test]
    fn completes_as_the_reference() {
        let c = offline();
        assert_eq!(
            c.matches("", ""),
            commands()
                .iter()
                .map(|w| format!("{w} "))
                .collect::<Vec<_>>()
        );
        assert_eq!(c.matches("sta", "sta"), ["start ", "status "]);
        assert_eq!(c.matches("help st", "st"), ["start ", "status ", "stop "]);
        assert_eq!(
            c.matches("start ", ""),
            ["cat ", "grp:a ", "grp:* ", "grp:b "]
        );
        assert_eq!(
            c.matches("stop grp:", "grp:"),
            ["grp:a ", "grp:* ", "grp:b "]
        );
        assert_eq!(c.matches("stop c", "c"), ["cat "]);
        assert_eq!(c.matches("update ", ""), ["cat ", "grp "]);
        assert_eq!(c.matches("version ", ""), Vec::<String>::new());
    }
}
