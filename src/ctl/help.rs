//! `help` and the help text of each command. The command syntax (the text
//! before the first tab of each line) and the layout are the reference's;
//! the descriptions are in our own words.

use super::controller::{Ctl, Flow, Outcome};

/// `help` without a topic: the commands, laid out as Python's `cmd`
/// module lays them out in 80 columns.
const TOPICS: &str = "
default commands (type help <topic>):
=====================================
add    exit      open  reload  restart   start   tail   
avail  fg        pid   remove  shutdown  status  update 
clear  maintail  quit  reread  signal    stop    version
";

/// The help text of `topic`, one string per line.
pub fn topic(topic: &str) -> Option<&'static [&'static str]> {
    Some(match topic {
        "add" => {
            &["add <name> [...]\tStart managing the named groups of the re-read configuration"]
        }
        "avail" => &["avail\t\t\tList every configured process, whether active or not"],
        "clear" => &[
            "clear <name>\t\tEmpty the log files of one process",
            "clear <name> <name>\tEmpty the log files of several processes",
            "clear all\t\tEmpty the log files of every process",
        ],
        "exit" => &["exit\tLeave the supervisor shell."],
        "fg" => &[
            "fg <process>\tAttach to a process: see its output, type its input",
            "\t\tCtrl-C to detach",
        ],
        "help" => &[
            "help\t\tList the commands",
            "help <action>\tDescribe <action>",
        ],
        "maintail" => &[
            "maintail -f \tFollow supervisord's own log as it grows (Ctrl-C to stop)",
            "maintail -100\tShow the last 100 bytes of supervisord's own log",
            "maintail\tShow the last 1600 bytes of supervisord's own log",
            "",
        ],
        "open" => &[
            "open <url>\tTalk to another supervisord from now on",
            "\t\t(http://host:port, or unix:///path/to/socket)",
        ],
        "pid" => &[
            "pid\t\t\tShow the process id of supervisord itself",
            "pid <name>\t\tShow the process id of one process (0 when not running)",
            "pid all\t\t\tShow the process id of every process, one per line",
        ],
        "quit" => &["quit\tLeave the supervisor shell."],
        "reload" => &["reload \t\tRestart supervisord, which re-reads its configuration"],
        "remove" => &["remove <name> [...]\tStop managing the named groups (stop them first)"],
        "reread" => {
            &["reread \t\t\tRe-read the configuration and show what changed, applying nothing"]
        }
        "restart" => &[
            "restart <name>\t\tStop, then start, one process",
            "restart <gname>:*\tStop, then start, every process of a group",
            "restart <name> <name>\tStop, then start, several processes or groups",
            "restart all\t\tStop, then start, every process",
            "Note: restart uses the configuration as loaded; reread and update apply changes.",
        ],
        "shutdown" => &["shutdown \tStop every process, then supervisord itself"],
        "signal" => &[
            "signal <signal name> <name>\t\tSend a signal to one process",
            "signal <signal name> <gname>:*\t\tSend a signal to every process of a group",
            "signal <signal name> <name> <name>\tSend a signal to several processes or groups",
            "signal <signal name> all\t\tSend a signal to every process",
        ],
        "start" => &[
            "start <name>\t\tStart one process",
            "start <gname>:*\t\tStart every process of a group",
            "start <name> <name>\tStart several processes or groups",
            "start all\t\tStart every process",
        ],
        "status" => &[
            "status <name>\t\tShow the state of one process",
            "status <gname>:*\tShow the state of every process of a group",
            "status <name> <name>\tShow the state of several processes",
            "status\t\t\tShow the state of every process",
        ],
        "stop" => &[
            "stop <name>\t\tStop one process",
            "stop <gname>:*\t\tStop every process of a group",
            "stop <name> <name>\tStop several processes or groups",
            "stop all\t\tStop every process",
        ],
        "tail" => &[
            "tail [-f] <name> [stdout|stderr] (default stdout)",
            "Ex:",
            "tail -f <name>\t\tFollow a process's stdout as it grows",
            "\t\t\t(Ctrl-C to stop)",
            "tail -100 <name>\tShow the last 100 bytes of a process's stdout",
            "tail <name> stderr\tShow the last 1600 bytes of a process's stderr",
        ],
        "update" => &[
            "update\t\t\tApply the re-read configuration: add, remove and restart what changed",
            "update all\t\tThe same as update",
            "update <gname> [...]\tApply it to the named groups only",
        ],
        "version" => &["version\t\t\tShow the version of supervisord"],
        _ => return None,
    })
}

/// Prints the help of `command` (after a usage error).
pub fn show(ctl: &Ctl, command: &str) {
    for line in topic(command).unwrap_or(&[]) {
        ctl.say(line);
    }
}

pub fn help(ctl: &mut Ctl, arg: &str) -> Outcome {
    if arg.is_empty() {
        ctl.say(TOPICS);
    } else if topic(arg).is_some() {
        show(ctl, arg);
    } else {
        ctl.say(&format!("*** No help on {arg}"));
    }
    Ok(Flow::Continue)
}

#[cfg(test)]
mod tests {
    use super::super::controller::{Command, COMMAND_WORDS};
    use super::*;

    #[test]
    fn every_command_has_help_and_is_listed() {
        for word in COMMAND_WORDS {
            assert!(topic(word).is_some(), "{word}");
            assert!(Command::named(word).is_some(), "{word}");
            if *word != "help" {
                assert!(TOPICS.split_whitespace().any(|w| w == *word), "{word}");
            }
        }
    }
}
