//! Lines from standard input, read straight from fd 0 with our own small
//! buffer: the shell without a terminal, the y/N and credential prompts,
//! and `fg` (which waits on stdin and the log streams at once, so nothing
//! may sit unseen in a library's buffer).

use std::fs::OpenOptions;
use std::io::{self, Read, Write};

use crate::sys;

use super::error::{CallError, Raised};
use crate::sys::EchoOff;

pub const STDIN: i32 = 0;

#[derive(Debug, Default)]
pub struct Input {
    pending: Vec<u8>,
    eof: bool,
}

impl Input {
    /// The next line without its newline; at end of input, the partial
    /// line if any, then None.
    pub fn read_line(&mut self) -> io::Result<Option<String>> {
        loop {
            if let Some(line) = self.next_line() {
                return Ok(Some(line));
            }
            if self.take_eof() {
                return Ok(self.rest());
            }
            self.fill()?;
        }
    }

    /// A complete line already read, if any.
    pub fn next_line(&mut self) -> Option<String> {
        let end = self.pending.iter().position(|&b| b == b'\n')?;
        let line: Vec<u8> = self.pending.drain(..=end).collect();
        Some(String::from_utf8_lossy(&line[..end]).into_owned())
    }

    /// What is left after the last newline, once input has ended.
    pub fn rest(&mut self) -> Option<String> {
        if self.pending.is_empty() {
            return None;
        }
        let rest = std::mem::take(&mut self.pending);
        Some(String::from_utf8_lossy(&rest).into_owned())
    }

    /// Whether input ended (Ctrl-D on a terminal, which may be typed
    /// again later, so this is reported once).
    pub fn take_eof(&mut self) -> bool {
        std::mem::take(&mut self.eof)
    }

    /// Reads what stdin has (blocking until something comes).
    pub fn fill(&mut self) -> io::Result<()> {
        let mut buf = [0u8; 4096];
        let n = sys::read_fd(STDIN, &mut buf)?;
        if n == 0 {
            self.eof = true;
        }
        self.pending.extend_from_slice(&buf[..n]);
        Ok(())
    }

    /// Python's `getpass`: the prompt and the answer go through the
    /// terminal with echo off; without a terminal, through stderr and
    /// stdin, with a warning.
    pub fn password(&mut self, prompt: &str) -> Result<String, Raised> {
        let Ok(mut tty) = OpenOptions::new().read(true).write(true).open("/dev/tty") else {
            let mut err = io::stderr().lock();
            let _ = write!(err, "Warning: Password input may be echoed.\n{prompt}");
            let _ = err.flush();
            return match self.read_line() {
                Ok(Some(line)) => Ok(line),
                Ok(None) => Err(Raised::new("EOFError", "")),
                Err(e) => Err(CallError::Os(e).into()),
            };
        };
        let _ = tty.write_all(prompt.as_bytes());
        let _ = tty.flush();
        let answer = {
            let _quiet = EchoOff::on(&tty);
            read_tty_line(&mut tty)
        };
        let _ = tty.write_all(b"\n");
        match answer {
            Ok(Some(line)) => Ok(line),
            Ok(None) => Err(Raised::new("EOFError", "")),
            Err(e) => Err(CallError::Os(e).into()),
        }
    }
}

fn read_tty_line(tty: &mut std::fs::File) -> io::Result<Option<String>> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        match tty.read(&mut byte) {
            Ok(0) if line.is_empty() => return Ok(None),
            Ok(0) => break,
            Ok(_) if byte[0] == b'\n' => break,
            Ok(_) => line.push(byte[0]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(Some(String::from_utf8_lossy(&line).into_owned()))
}
