//! What happens to the bytes a child writes on one channel, before they
//! reach a log: ANSI escapes stripped (`strip_ansi`), and capture mode
//! (`*_capture_maxbytes`): output between `<!--XSUPERVISOR:BEGIN-->` and
//! `<!--XSUPERVISOR:END-->` is taken out of the log and becomes the body of
//! a PROCESS_COMMUNICATION event. Pure: bytes in, pieces out.

/// A child's output channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    Stdout,
    Stderr,
}

impl Channel {
    pub fn name(self) -> &'static str {
        match self {
            Channel::Stdout => "stdout",
            Channel::Stderr => "stderr",
        }
    }
}

pub const BEGIN_TOKEN: &[u8] = b"<!--XSUPERVISOR:BEGIN-->";
pub const END_TOKEN: &[u8] = b"<!--XSUPERVISOR:END-->";

/// One piece of output, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Ordinary output: to the channel's log (and PROCESS_LOG events).
    Log(Vec<u8>),
    /// Output inside a capture: not logged, but still a PROCESS_LOG event
    /// when those are enabled (as the reference).
    Captured(Vec<u8>),
    /// A capture ended: the body of a PROCESS_COMMUNICATION event (its last
    /// `capture_maxbytes` bytes at most).
    Communication(Vec<u8>),
}

/// The reference's ANSI escape sequence terminators.
const ANSI_TERMINATORS: &[u8] = b"HfABCDRsuJKhlpm";

/// Removes `ESC [ ... terminator` sequences, also when one is split
/// across reads (the reference forgets a half-read sequence; we do not).
#[derive(Debug, Default, Clone)]
pub struct AnsiStripper {
    /// Inside a sequence (after `ESC [`).
    inside: bool,
    /// Saw a lone ESC at the end of the previous chunk.
    pending_escape: bool,
}

impl AnsiStripper {
    pub fn strip(&mut self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len());
        let mut i = 0;
        if self.pending_escape {
            self.pending_escape = false;
            if data.first() == Some(&b'[') {
                self.inside = true;
                i = 1;
            } else {
                out.push(0x1b);
            }
        }
        while i < data.len() {
            let b = data[i];
            if self.inside {
                if ANSI_TERMINATORS.contains(&b) {
                    self.inside = false;
                }
            } else if b == 0x1b {
                match data.get(i + 1) {
                    Some(b'[') => {
                        self.inside = true;
                        i += 1;
                    }
                    Some(_) => out.push(b),
                    None => self.pending_escape = true,
                }
            } else {
                out.push(b);
            }
            i += 1;
        }
        out
    }
}

/// The per-channel state of capture mode.
#[derive(Debug, Clone)]
pub struct Capture {
    maxbytes: usize,
    capturing: bool,
    /// Bytes that may be the start of a token, held back.
    held: Vec<u8>,
    /// The capture so far (bounded like the reference's BoundIO).
    body: Vec<u8>,
}

/// Length of the longest suffix of `data` that is a proper prefix of `token`.
fn prefix_at_end(data: &[u8], token: &[u8]) -> usize {
    let max = token.len().saturating_sub(1).min(data.len());
    (1..=max)
        .rev()
        .find(|&n| data.ends_with(&token[..n]))
        .unwrap_or(0)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

impl Capture {
    pub fn new(maxbytes: usize) -> Capture {
        Capture {
            maxbytes,
            capturing: false,
            held: Vec::new(),
            body: Vec::new(),
        }
    }

    fn keep(&mut self, data: &[u8]) {
        // The reference's BoundIO: drop from the front as much as is added
        // once the limit would be passed.
        if self.body.len() + data.len() > self.maxbytes {
            let drop = data.len().min(self.body.len());
            self.body.drain(..drop);
        }
        self.body.extend_from_slice(data);
    }

    fn emit(&mut self, data: &[u8], out: &mut Vec<Piece>) {
        if data.is_empty() {
            return;
        }
        if self.capturing {
            self.keep(data);
            out.push(Piece::Captured(data.to_vec()));
        } else {
            out.push(Piece::Log(data.to_vec()));
        }
    }

    /// Splits new output into pieces; tokens split across reads are found.
    pub fn feed(&mut self, data: &[u8]) -> Vec<Piece> {
        let mut out = Vec::new();
        let mut buf = std::mem::take(&mut self.held);
        buf.extend_from_slice(data);
        let mut rest: &[u8] = &buf;
        loop {
            let token = if self.capturing {
                END_TOKEN
            } else {
                BEGIN_TOKEN
            };
            match find(rest, token) {
                Some(at) => {
                    let (before, after) = (&rest[..at], &rest[at + token.len()..]);
                    self.emit(before, &mut out);
                    if self.capturing {
                        out.push(Piece::Communication(std::mem::take(&mut self.body)));
                    }
                    self.capturing = !self.capturing;
                    rest = after;
                }
                None => {
                    let hold = prefix_at_end(rest, token);
                    let (now, later) = rest.split_at(rest.len() - hold);
                    self.emit(now, &mut out);
                    self.held = later.to_vec();
                    break;
                }
            }
        }
        out
    }

    /// At end of output: whatever was held back is ordinary output.
    pub fn finish(&mut self) -> Vec<Piece> {
        let held = std::mem::take(&mut self.held);
        let mut out = Vec::new();
        self.emit(&held, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(s: &str) -> Piece {
        Piece::Log(s.as_bytes().to_vec())
    }
    fn cap(s: &str) -> Piece {
        Piece::Captured(s.as_bytes().to_vec())
    }
    fn comm(s: &str) -> Piece {
        Piece::Communication(s.as_bytes().to_vec())
    }

    #[test]
    fn captures_between_tokens() {
        let mut c = Capture::new(1000);
        assert_eq!(
            c.feed(b"before<!--XSUPERVISOR:BEGIN-->secret<!--XSUPERVISOR:END-->after"),
            vec![log("before"), cap("secret"), comm("secret"), log("after")]
        );
    }

    #[test]
    fn tokens_split_across_reads_at_every_position() {
        let whole = b"a<!--XSUPERVISOR:BEGIN-->body<!--XSUPERVISOR:END-->z";
        for split in 1..whole.len() {
            let mut c = Capture::new(1000);
            let mut pieces = c.feed(&whole[..split]);
            pieces.extend(c.feed(&whole[split..]));
            pieces.extend(c.finish());
            let logged: Vec<u8> = pieces
                .iter()
                .filter_map(|p| match p {
                    Piece::Log(d) => Some(d.clone()),
                    _ => None,
                })
                .flatten()
                .collect();
            let comms: Vec<&Piece> = pieces
                .iter()
                .filter(|p| matches!(p, Piece::Communication(_)))
                .collect();
            assert_eq!(logged, b"az", "split at {split}");
            assert_eq!(comms, vec![&comm("body")], "split at {split}");
        }
    }

    #[test]
    fn a_held_back_prefix_is_released_when_it_is_not_a_token() {
        let mut c = Capture::new(1000);
        assert_eq!(c.feed(b"x<!--XSUP"), vec![log("x")]);
        assert_eq!(c.feed(b"ER nope"), vec![log("<!--XSUPER nope")]);
        assert_eq!(c.feed(b"<!--"), vec![]);
        assert_eq!(c.finish(), vec![log("<!--")]);
    }

    #[test]
    fn capture_is_bounded_like_the_reference() {
        let mut c = Capture::new(5);
        let pieces = c.feed(b"<!--XSUPERVISOR:BEGIN-->abc");
        assert_eq!(pieces, vec![cap("abc")]);
        let pieces = c.feed(b"defg<!--XSUPERVISOR:END-->");
        // 3 + 4 > 5: four bytes dropped from the front of "abc" (all of it).
        assert_eq!(pieces, vec![cap("defg"), comm("defg")]);
    }

    #[test]
    fn ansi_escapes_are_stripped_even_when_split() {
        let mut s = AnsiStripper::default();
        assert_eq!(s.strip(b"\x1b[31mred\x1b[0m plain"), b"red plain");
        let mut s = AnsiStripper::default();
        let mut out = s.strip(b"a\x1b");
        out.extend(s.strip(b"[1;32"));
        out.extend(s.strip(b"mb"));
        assert_eq!(out, b"ab");
        let mut s = AnsiStripper::default();
        assert_eq!(s.strip(b"\x1bx"), b"\x1bx");
    }
}
