//! Log files: the append-only, size-rotated file behind the main log and
//! every child's `stdout_logfile` / `stderr_logfile`, and the two readers
//! the RPC interface uses on them (`readLog` & co., `tail…Log`).
//!
//! Everything here reproduces the reference (`loggers.py`
//! `RotatingFileHandler`, `options.py` `readFile` / `tailFile`) byte for
//! byte; the few places where we deliberately do better (special files,
//! recovery after an error) are documented on the item concerned.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Permission bits of a newly created log file, before the umask: Python's
/// `open()` creates files with 0o666, so with the usual umask 022 they end
/// up 0o644, and with `umask=002` 0o664, exactly as the reference's.
const CREATE_MODE: u32 = 0o666;

/// An append-only log file that rotates by size, as the reference's
/// `RotatingFileHandler` does.
///
/// # The rotation rule (the reference's, exactly)
///
/// Each [`write_all`](Self::write_all) writes the whole chunk first, then
/// checks the file's size: when `maxbytes > 0` and the size is now
/// `>= maxbytes`, the file is rotated at once. So a chunk is never split
/// across two files, a file may end up larger than `maxbytes` (by at most
/// one chunk minus one byte, or more if it was already larger when opened),
/// and after a write that reaches `maxbytes` exactly the current file is
/// empty. A file that is already `>= maxbytes` when opened is rotated after
/// the next write (even an empty one), not at open. Checked against the
/// reference by running its `RotatingFileHandler` on the same writes (see
/// the `rotation_matches_reference` test table).
///
/// Rotation (`doRollover`): close the file; if `backups > 0`, for `i` from
/// `backups - 1` down to 1 rename `name.i` to `name.i+1` when `name.i`
/// exists (removing the target first), then rename `name` to `name.1`
/// (the oldest, `name.backups`, is thereby replaced and lost; a rename whose
/// source vanished meanwhile is ignored, as in the reference); then create
/// `name` afresh, empty. With `backups == 0` the file is simply truncated.
/// `maxbytes == 0` never rotates. Stale backups numbered above `backups`
/// (left by an earlier, larger setting) are left alone, as the reference
/// leaves them.
///
/// # Special files
///
/// A path that is not a regular file once opened (`/dev/stdout`,
/// `/dev/null`, a FIFO, `/dev/fd/N`, a tty) is written in append mode and
/// never rotated, whatever `maxbytes` says (the reference would call
/// `tell()` on it and print a traceback on every write). Opening a FIFO
/// blocks until it has a reader, as in the reference.
///
/// # Writes and errors
///
/// Writes go straight to the file descriptor (no userspace buffer), so
/// nothing acknowledged can be lost by a crash. Errors are returned, never
/// panicked on:
/// - a failed write (disk full, I/O error) returns the error; the bytes the
///   kernel accepted before it are counted in [`size`](Self::size), the rest
///   of the chunk is dropped. If the file's path no longer exists at that
///   point the descriptor is dropped, so that the next write re-creates the
///   file (the reference would keep writing into the unlinked file).
/// - a failed rotation (a rename refused, the directory removed) returns
///   the error after the chunk was written; the file is left closed and the
///   next write re-opens `name` in append mode (never truncating it) and
///   retries the rotation after that write. The reference instead stays
///   stuck on a closed stream until the next `reopen`.
/// - when the file cannot be (re)opened, each later write retries opening
///   it and returns the error if that fails again.
#[derive(Debug)]
pub struct RotatingFile {
    path: PathBuf,
    maxbytes: u64,
    backups: u32,
    /// None after an error closed it; the next write re-opens.
    file: Option<File>,
    /// Bytes in the current file: its length at open plus what we wrote.
    size: u64,
    /// A regular file (rotation allowed); decided at each open.
    regular: bool,
}

impl RotatingFile {
    /// Opens `path` for appending, creating it (mode 0o666 minus the umask,
    /// like the reference) if needed. `maxbytes == 0` disables rotation;
    /// `backups` is how many rotated files to keep (0: truncate instead).
    pub fn open(path: impl AsRef<Path>, maxbytes: u64, backups: u32) -> io::Result<RotatingFile> {
        let mut log = RotatingFile {
            path: path.as_ref().to_path_buf(),
            maxbytes,
            backups,
            file: None,
            size: 0,
            regular: false,
        };
        log.open_file()?;
        Ok(log)
    }

    /// A log on a file just created empty at `path` (an AUTO log) and
    /// opened for appending: no second open, no stat.
    pub fn adopt_new(
        path: impl AsRef<Path>,
        file: File,
        maxbytes: u64,
        backups: u32,
    ) -> RotatingFile {
        RotatingFile {
            path: path.as_ref().to_path_buf(),
            maxbytes,
            backups,
            file: Some(file),
            size: 0,
            regular: true,
        }
    }

    /// The path this file was opened with.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Size of the current file in bytes, tracked without a `stat` per
    /// write: its length when (re)opened plus every byte written since.
    /// For special files (never rotated), the bytes written since opened.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Whether this file can rotate: a regular file and `maxbytes > 0`.
    pub fn rotates(&self) -> bool {
        self.regular && self.maxbytes > 0
    }

    /// Appends all of `data`, then rotates if the file reached `maxbytes`
    /// (see the type's documentation for the exact rule and the error
    /// handling).
    pub fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        if self.file.is_none() {
            self.open_file()?;
        }
        let Some(file) = self.file.as_mut() else {
            return Err(io::Error::other("log file not open"));
        };
        let mut done = 0;
        while done < data.len() {
            match file.write(&data[done..]) {
                Ok(0) => return self.write_failed(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    done += n;
                    self.size += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return self.write_failed(e),
            }
        }
        if self.rotates() && self.size >= self.maxbytes {
            self.rotate()?;
        }
        Ok(())
    }

    /// Closes and re-opens the same path in append mode (SIGUSR2, after
    /// logrotate moved the file away). Everything written before is in the
    /// old file (writes are unbuffered), everything after in the new one.
    /// On error the file stays closed and the next write retries.
    pub fn reopen(&mut self) -> io::Result<()> {
        self.file = None;
        self.open_file()
    }

    /// The reference's `clearProcessLogs` / `clearLog` on this file
    /// (`FileHandler.remove` then `reopen`): closes it, deletes the current
    /// file only (a missing file is fine; backups are kept) and re-opens it,
    /// so an empty file exists afterwards. On error the file stays closed
    /// and the next write re-opens it.
    pub fn clear(&mut self) -> io::Result<()> {
        self.file = None;
        ignore_missing(fs::remove_file(&self.path))?;
        self.open_file()
    }

    /// Closes the file and deletes it and its backups `name.1` ..
    /// `name.backups` (missing ones are fine). The file is re-created by the
    /// next write. Note the reference's clearLog/clearProcessLogs keep the
    /// backups: they are [`clear`](Self::clear).
    pub fn remove_all(&mut self) -> io::Result<()> {
        self.file = None;
        self.size = 0;
        let mut first_error = ignore_missing(fs::remove_file(&self.path)).err();
        for i in 1..=self.backups {
            if let Err(e) = ignore_missing(fs::remove_file(self.numbered(i))) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Opens `path` in append mode and learns its kind and size.
    fn open_file(&mut self) -> io::Result<()> {
        let file = append_open(&self.path)?;
        let meta = file.metadata()?;
        self.regular = meta.file_type().is_file();
        self.size = if self.regular { meta.len() } else { 0 };
        self.file = Some(file);
        Ok(())
    }

    fn write_failed(&mut self, e: io::Error) -> io::Result<()> {
        if matches!(fs::metadata(&self.path), Err(ref m) if m.kind() == io::ErrorKind::NotFound) {
            self.file = None;
        }
        Err(e)
    }

    /// `name.i`, as the reference's `"%s.%d" % (baseFilename, i)`.
    fn numbered(&self, i: u32) -> PathBuf {
        let mut name = OsString::from(self.path.as_os_str());
        name.push(format!(".{i}"));
        PathBuf::from(name)
    }

    /// `doRollover` after its size test.
    fn rotate(&mut self) -> io::Result<()> {
        self.file = None;
        if self.backups > 0 {
            for i in (1..self.backups).rev() {
                let source = self.numbered(i);
                if source.exists() {
                    remove_and_rename(&source, &self.numbered(i + 1))?;
                }
            }
            remove_and_rename(&self.path, &self.numbered(1))?;
        }
        // The reference opens with 'wb': create, or truncate what is there
        // (the file itself when there are no backups). We keep O_APPEND.
        let file = append_open(&self.path)?;
        file.set_len(0)?;
        let meta = file.metadata()?;
        self.regular = meta.file_type().is_file();
        self.size = 0;
        self.file = Some(file);
        Ok(())
    }
}

/// Creates `path`, which must not exist, open for appending (with the mode
/// every log file is created with).
pub fn create_new_for_append(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .append(true)
        .create_new(true)
        .mode(CREATE_MODE)
        .open(path)
}

fn append_open(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(CREATE_MODE)
        .open(path)
}

fn ignore_missing(r: io::Result<()>) -> io::Result<()> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// The reference's `removeAndRename`: remove `target` if it exists (it
/// vanishing meanwhile is fine), then rename (the source vanishing is fine).
fn remove_and_rename(source: &Path, target: &Path) -> io::Result<()> {
    if target.exists() {
        ignore_missing(fs::remove_file(target))?;
    }
    ignore_missing(fs::rename(source, target))
}

/// Why [`read_range`] (or clearing a log) failed; each maps to the
/// reference's XML-RPC fault of the same name (`rpcinterface.py`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadError {
    /// `NO_FILE`: the path does not exist (`os.path.exists` is false; a
    /// dangling symlink counts as missing).
    NoFile,
    /// `BAD_ARGUMENTS`: a negative offset with a non-zero length, or a
    /// negative length with a non-negative offset.
    BadArguments,
    /// `FAILED`: the file exists but could not be opened or read (a
    /// directory, no permission, not seekable).
    Failed,
}

/// `readLog` / `readProcessStdoutLog` / `readProcessStderrLog`: the
/// reference's existence check followed by `options.readFile`.
///
/// - `offset >= 0`: `length` bytes from `offset` (fewer at the end of the
///   file; nothing past it); `length == 0` means to the end of the file;
///   `length < 0` is `BadArguments`.
/// - `offset < 0`: the last `-offset` bytes (the whole file if shorter);
///   `length` must then be 0, else `BadArguments`.
///
/// The file is opened before the arguments are checked, as in the
/// reference, so a directory gives `Failed` even with bad arguments. The
/// result is raw bytes: the reference decodes them as UTF-8 (and fails on a
/// multi-byte character cut by the range); that is the RPC layer's concern.
pub fn read_range(path: &Path, offset: i64, length: i64) -> Result<Vec<u8>, ReadError> {
    if !path.exists() {
        return Err(ReadError::NoFile);
    }
    let mut file = open_for_reading(path).map_err(|_| ReadError::Failed)?;
    let (start, limit) = if offset < 0 {
        if length != 0 {
            return Err(ReadError::BadArguments);
        }
        let size = file.seek(SeekFrom::End(0)).map_err(|_| ReadError::Failed)?;
        let back = offset.unsigned_abs();
        (size.saturating_sub(back), Some(back))
    } else {
        if length < 0 {
            return Err(ReadError::BadArguments);
        }
        let limit = if length == 0 {
            None
        } else {
            Some(length.unsigned_abs())
        };
        (offset.unsigned_abs(), limit)
    };
    read_at(&mut file, start, limit).map_err(|_| ReadError::Failed)
}

/// `tailProcessStdoutLog` / `tailProcessStderrLog`: the reference's
/// `options.tailFile`. Returns `(bytes, new offset, overflow)`:
///
/// with `size` the file's size: if `size > offset + length`, `overflow` is
/// set and `offset` becomes `size - 1`; then if `offset + length > size`,
/// `length` becomes 0 when `offset > size - 1`, and `offset` becomes
/// `size - length`; negative `offset` / `length` are then clamped to 0, and
/// `length` bytes are read from `offset`. The returned offset is always
/// `size`. (So with a log that grew, the caller gets the last `length`
/// bytes and the overflow flag.)
///
/// An `Err` is the reference's `except (OSError, IOError)` branch: the
/// caller must answer `("", offset as given, false)`. The reference's
/// caller answers `("", 0, false)` before calling this when the path does
/// not exist.
pub fn tail(path: &Path, offset: i64, length: i64) -> io::Result<(Vec<u8>, i64, bool)> {
    let mut file = open_for_reading(path)?;
    let size = file.seek(SeekFrom::End(0))?;
    let sz = i128::from(size);
    let mut offset = i128::from(offset);
    let mut length = i128::from(length);
    let mut overflow = false;
    if sz > offset + length {
        overflow = true;
        offset = sz - 1;
    }
    if offset + length > sz {
        if offset > sz - 1 {
            length = 0;
        }
        offset = sz - length;
    }
    let offset = u64::try_from(offset).unwrap_or(0);
    let length = u64::try_from(length).unwrap_or(0);
    let data = if length == 0 {
        Vec::new()
    } else {
        read_at(&mut file, offset, Some(length))?
    };
    Ok((data, i64::try_from(size).unwrap_or(i64::MAX), overflow))
}

/// Opens for reading; a directory is an error, as Python's `open()` makes it.
fn open_for_reading(path: &Path) -> io::Result<File> {
    let file = File::open(path)?;
    if file.metadata()?.is_dir() {
        return Err(io::Error::from_raw_os_error(libc::EISDIR));
    }
    Ok(file)
}

/// Reads from `start`, at most `limit` bytes (None: to the end).
fn read_at(file: &mut File, start: u64, limit: Option<u64>) -> io::Result<Vec<u8>> {
    file.seek(SeekFrom::Start(start))?;
    let mut data = Vec::new();
    match limit {
        Some(n) => file.take(n).read_to_end(&mut data)?,
        None => file.read_to_end(&mut data)?,
    };
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};

    fn dir() -> tempfile::TempDir {
        tempfile::Builder::new()
            .prefix("logfile-test")
            .tempdir_in(std::env::temp_dir())
            .unwrap()
    }

    /// The files of `d`, sorted as `log`, `log.1`, `log.2`, ... with contents.
    fn files(d: &Path) -> Vec<(String, Vec<u8>)> {
        let mut out: Vec<(String, Vec<u8>)> = fs::read_dir(d)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        out.sort_by(|a, b| (a.0.len(), &a.0).cmp(&(b.0.len(), &b.0)));
        out
    }

    const W: &[&[u8]] = &[
        b"abc",
        b"defg",
        b"hij",
        b"k",
        b"lmnopqrstuvwxyz",
        b"12",
        b"3456789",
        b"0",
        b"ABCDEFGHIJ",
        b"x",
    ];

    /// One rotation scenario: (maxbytes, backups, initial content, writes,
    /// expected files). The expectations were produced by the reference's
    /// own `loggers.handle_file(..., rotating=True)` on the same writes
    /// (Supervisor 4.3.0 under /tmp/refvenv).
    struct Scenario {
        maxbytes: u64,
        backups: u32,
        initial: Option<&'static [u8]>,
        writes: &'static [&'static [u8]],
        expected: &'static [(&'static str, &'static [u8])],
    }

    #[test]
    fn rotation_matches_reference() {
        let scenarios = [
            Scenario {
                maxbytes: 10,
                backups: 3,
                initial: None,
                writes: W,
                expected: &[
                    ("log", b"x"),
                    ("log.1", b"ABCDEFGHIJ"),
                    ("log.2", b"1234567890"),
                    ("log.3", b"klmnopqrstuvwxyz"),
                ],
            },
            Scenario {
                maxbytes: 10,
                backups: 1,
                initial: None,
                writes: W,
                expected: &[("log", b"x"), ("log.1", b"ABCDEFGHIJ")],
            },
            Scenario {
                maxbytes: 10,
                backups: 0,
                initial: None,
                writes: W,
                expected: &[("log", b"x")],
            },
            Scenario {
                maxbytes: 0,
                backups: 3,
                initial: None,
                writes: W,
                expected: &[("log", b"abcdefghijklmnopqrstuvwxyz1234567890ABCDEFGHIJx")],
            },
            Scenario {
                maxbytes: 10,
                backups: 2,
                initial: Some(b"0123456789AB"),
                writes: &[b"a", b"b"],
                expected: &[("log", b"b"), ("log.1", b"0123456789ABa")],
            },
            Scenario {
                maxbytes: 10,
                backups: 2,
                initial: Some(b"0123"),
                writes: &[b"abcdef", b"g"],
                expected: &[("log", b"g"), ("log.1", b"0123abcdef")],
            },
            Scenario {
                maxbytes: 5,
                backups: 5,
                initial: None,
                writes: &[b"12345", b"67890", b"abcde", b""],
                expected: &[
                    ("log", b""),
                    ("log.1", b"abcde"),
                    ("log.2", b"67890"),
                    ("log.3", b"12345"),
                ],
            },
        ];
        for (n, s) in scenarios.iter().enumerate() {
            let d = dir();
            let path = d.path().join("log");
            if let Some(initial) = s.initial {
                fs::write(&path, initial).unwrap();
            }
            let mut log = RotatingFile::open(&path, s.maxbytes, s.backups).unwrap();
            for w in s.writes {
                log.write_all(w).unwrap();
                assert_eq!(
                    log.size(),
                    fs::metadata(&path).unwrap().len(),
                    "scenario {n}"
                );
            }
            let want: Vec<(String, Vec<u8>)> = s
                .expected
                .iter()
                .map(|(f, c)| (f.to_string(), c.to_vec()))
                .collect();
            assert_eq!(files(d.path()), want, "scenario {n}");
        }
    }

    /// The main property: with enough backups, backups (oldest first) then
    /// the current file hold exactly what was written, and every file but
    /// the current one reached maxbytes with its last chunk only.
    #[test]
    fn nothing_lost_when_nothing_rotated_away() {
        for maxbytes in [1u64, 2, 7, 64, 1000] {
            let d = dir();
            let path = d.path().join("log");
            let mut log = RotatingFile::open(&path, maxbytes, 1000).unwrap();
            let mut all = Vec::new();
            let mut chunks = Vec::new();
            for i in 0..300u32 {
                let chunk: Vec<u8> = (0..(i * 7919 % 23)).map(|j| (i + j) as u8).collect();
                log.write_all(&chunk).unwrap();
                all.extend_from_slice(&chunk);
                chunks.push(chunk);
            }
            let got = files(d.path());
            let mut joined = Vec::new();
            for (_, content) in got.iter().skip(1).rev() {
                assert!(content.len() as u64 >= maxbytes, "maxbytes {maxbytes}");
                joined.extend_from_slice(content);
            }
            let current = &got[0];
            assert_eq!(current.0, "log");
            assert!((current.1.len() as u64) < maxbytes);
            joined.extend_from_slice(&current.1);
            assert_eq!(joined, all, "maxbytes {maxbytes}");
        }
    }

    #[test]
    fn creates_with_umask_mode_and_appends_to_existing() {
        let d = dir();
        let path = d.path().join("log");
        fs::write(&path, b"old\n").unwrap();
        let mut log = RotatingFile::open(&path, 100, 2).unwrap();
        assert_eq!(log.size(), 4);
        log.write_all(b"new\n").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"old\nnew\n");

        let fresh = d.path().join("fresh");
        let _log = RotatingFile::open(&fresh, 100, 2).unwrap();
        // The umask's effect, seen on a file created with 0o666.
        let probe = d.path().join("probe");
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o666)
            .open(&probe)
            .unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&fresh), mode(&probe));
    }

    #[test]
    fn reopen_after_move_loses_nothing() {
        let d = dir();
        let path = d.path().join("log");
        let moved = d.path().join("log.moved");
        let mut log = RotatingFile::open(&path, 0, 0).unwrap();
        log.write_all(b"before\n").unwrap();
        fs::rename(&path, &moved).unwrap();
        log.write_all(b"still old\n").unwrap();
        log.reopen().unwrap();
        log.write_all(b"after\n").unwrap();
        assert_eq!(fs::read(&moved).unwrap(), b"before\nstill old\n");
        assert_eq!(fs::read(&path).unwrap(), b"after\n");
        assert_eq!(log.size(), 6);
    }

    #[test]
    fn clear_keeps_backups_and_remove_all_does_not() {
        let d = dir();
        let path = d.path().join("log");
        let mut log = RotatingFile::open(&path, 4, 3).unwrap();
        for w in [b"aaaa", b"bbbb", b"cc\n\n"] {
            log.write_all(w).unwrap();
        }
        log.write_all(b"d").unwrap();
        log.clear().unwrap();
        assert_eq!(log.size(), 0);
        let names: Vec<String> = files(d.path()).into_iter().map(|f| f.0).collect();
        assert_eq!(names, ["log", "log.1", "log.2", "log.3"]);
        assert_eq!(fs::read(&path).unwrap(), b"");
        log.write_all(b"e").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"e");

        log.remove_all().unwrap();
        assert!(files(d.path()).is_empty());
        log.write_all(b"f").unwrap();
        assert_eq!(files(d.path()), [("log".to_string(), b"f".to_vec())]);
        // Clearing a file someone already deleted is fine.
        fs::remove_file(&path).unwrap();
        log.clear().unwrap();
        assert!(path.exists());
    }

    #[test]
    fn special_files_never_rotate() {
        let mut null = RotatingFile::open("/dev/null", 1, 1).unwrap();
        assert!(!null.rotates());
        for _ in 0..3 {
            null.write_all(b"xyz").unwrap();
        }
        assert_eq!(null.size(), 9);
        null.reopen().unwrap();
        null.write_all(b"x").unwrap();

        let d = dir();
        let fifo = d.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        assert!(fs::metadata(&fifo).unwrap().file_type().is_fifo());
        let mut reader = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo)
            .unwrap();
        let mut log = RotatingFile::open(&fifo, 2, 1).unwrap();
        log.write_all(b"hello").unwrap();
        log.write_all(b" world").unwrap();
        let mut got = [0u8; 32];
        let n = reader.read(&mut got).unwrap();
        assert_eq!(&got[..n], b"hello world");
        // No backup appeared (list names only: reading a FIFO would block).
        let names: Vec<_> = fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["fifo"]);
    }

    #[test]
    fn recovers_when_the_directory_comes_back() {
        let d = dir();
        let sub = d.path().join("sub");
        fs::create_dir(&sub).unwrap();
        let path = sub.join("log");
        let mut log = RotatingFile::open(&path, 4, 2).unwrap();
        log.write_all(b"ab").unwrap();
        fs::remove_file(&path).unwrap();
        fs::remove_dir(&sub).unwrap();
        // The chunk goes to the unlinked file; the rotation after it fails.
        assert!(log.write_all(b"cd").is_err());
        // While the directory is missing, every write reports the error.
        assert!(log.write_all(b"ef").is_err());
        fs::create_dir(&sub).unwrap();
        log.write_all(b"gh").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"gh");
        assert_eq!(log.size(), 2);
    }

    #[test]
    fn failed_rename_keeps_data_and_retries() {
        let d = dir();
        let path = d.path().join("log");
        // A directory where log.1 should go makes the last rename fail.
        fs::create_dir(d.path().join("log.1")).unwrap();
        fs::write(d.path().join("log.1").join("x"), b"").unwrap();
        let mut log = RotatingFile::open(&path, 3, 1).unwrap();
        assert!(log.write_all(b"abc").is_err());
        assert!(log.write_all(b"d").is_err());
        assert_eq!(fs::read(&path).unwrap(), b"abcd");
        fs::remove_dir_all(d.path().join("log.1")).unwrap();
        log.write_all(b"e").unwrap();
        assert_eq!(fs::read(d.path().join("log.1")).unwrap(), b"abcde");
        assert_eq!(fs::read(&path).unwrap(), b"");
    }

    #[test]
    fn unopenable_path_is_an_error() {
        assert!(RotatingFile::open("/nonexistent-dir/x/log", 10, 1).is_err());
    }

    use ReadError::{BadArguments, Failed};

    type ReadCase = (&'static [u8], i64, i64, Result<&'static [u8], ReadError>);

    /// Computed by running the reference's `supervisor.options.readFile`
    /// (4.3.0) on each (content, offset, length).
    const READ_CASES: &[ReadCase] = &[
        (b"0123456789", 0, 0, Ok(b"0123456789")),
        (b"0123456789", 0, 1, Ok(b"0")),
        (b"0123456789", 0, 3, Ok(b"012")),
        (b"0123456789", 0, 7, Ok(b"0123456")),
        (b"0123456789", 0, 10, Ok(b"0123456789")),
        (b"0123456789", 0, 100, Ok(b"0123456789")),
        (b"0123456789", 0, -1, Err(BadArguments)),
        (b"0123456789", 0, -5, Err(BadArguments)),
        (b"0123456789", 3, 0, Ok(b"3456789")),
        (b"0123456789", 3, 1, Ok(b"3")),
        (b"0123456789", 3, 3, Ok(b"345")),
        (b"0123456789", 3, 7, Ok(b"3456789")),
        (b"0123456789", 3, 10, Ok(b"3456789")),
        (b"0123456789", 3, 100, Ok(b"3456789")),
        (b"0123456789", 3, -1, Err(BadArguments)),
        (b"0123456789", 3, -5, Err(BadArguments)),
        (b"0123456789", 9, 0, Ok(b"9")),
        (b"0123456789", 9, 1, Ok(b"9")),
        (b"0123456789", 9, 3, Ok(b"9")),
        (b"0123456789", 9, 7, Ok(b"9")),
        (b"0123456789", 9, 10, Ok(b"9")),
        (b"0123456789", 9, 100, Ok(b"9")),
        (b"0123456789", 9, -1, Err(BadArguments)),
        (b"0123456789", 9, -5, Err(BadArguments)),
        (b"0123456789", 10, 0, Ok(b"")),
        (b"0123456789", 10, 1, Ok(b"")),
        (b"0123456789", 10, 3, Ok(b"")),
        (b"0123456789", 10, 7, Ok(b"")),
        (b"0123456789", 10, 10, Ok(b"")),
        (b"0123456789", 10, 100, Ok(b"")),
        (b"0123456789", 10, -1, Err(BadArguments)),
        (b"0123456789", 10, -5, Err(BadArguments)),
        (b"0123456789", 11, 0, Ok(b"")),
        (b"0123456789", 11, 1, Ok(b"")),
        (b"0123456789", 11, 3, Ok(b"")),
        (b"0123456789", 11, 7, Ok(b"")),
        (b"0123456789", 11, 10, Ok(b"")),
        (b"0123456789", 11, 100, Ok(b"")),
        (b"0123456789", 11, -1, Err(BadArguments)),
        (b"0123456789", 11, -5, Err(BadArguments)),
        (b"0123456789", 100, 0, Ok(b"")),
        (b"0123456789", 100, 1, Ok(b"")),
        (b"0123456789", 100, 3, Ok(b"")),
        (b"0123456789", 100, 7, Ok(b"")),
        (b"0123456789", 100, 10, Ok(b"")),
        (b"0123456789", 100, 100, Ok(b"")),
        (b"0123456789", 100, -1, Err(BadArguments)),
        (b"0123456789", 100, -5, Err(BadArguments)),
        (b"0123456789", -1, 0, Ok(b"9")),
        (b"0123456789", -1, 1, Err(BadArguments)),
        (b"0123456789", -1, 3, Err(BadArguments)),
        (b"0123456789", -1, 7, Err(BadArguments)),
        (b"0123456789", -1, 10, Err(BadArguments)),
        (b"0123456789", -1, 100, Err(BadArguments)),
        (b"0123456789", -1, -1, Err(BadArguments)),
        (b"0123456789", -1, -5, Err(BadArguments)),
        (b"0123456789", -3, 0, Ok(b"789")),
        (b"0123456789", -3, 1, Err(BadArguments)),
        (b"0123456789", -3, 3, Err(BadArguments)),
        (b"0123456789", -3, 7, Err(BadArguments)),
        (b"0123456789", -3, 10, Err(BadArguments)),
        (b"0123456789", -3, 100, Err(BadArguments)),
        (b"0123456789", -3, -1, Err(BadArguments)),
        (b"0123456789", -3, -5, Err(BadArguments)),
        (b"0123456789", -9, 0, Ok(b"123456789")),
        (b"0123456789", -9, 1, Err(BadArguments)),
        (b"0123456789", -9, 3, Err(BadArguments)),
        (b"0123456789", -9, 7, Err(BadArguments)),
        (b"0123456789", -9, 10, Err(BadArguments)),
        (b"0123456789", -9, 100, Err(BadArguments)),
        (b"0123456789", -9, -1, Err(BadArguments)),
        (b"0123456789", -9, -5, Err(BadArguments)),
        (b"0123456789", -10, 0, Ok(b"0123456789")),
        (b"0123456789", -10, 1, Err(BadArguments)),
        (b"0123456789", -10, 3, Err(BadArguments)),
        (b"0123456789", -10, 7, Err(BadArguments)),
        (b"0123456789", -10, 10, Err(BadArguments)),
        (b"0123456789", -10, 100, Err(BadArguments)),
        (b"0123456789", -10, -1, Err(BadArguments)),
        (b"0123456789", -10, -5, Err(BadArguments)),
        (b"0123456789", -11, 0, Ok(b"0123456789")),
        (b"0123456789", -11, 1, Err(BadArguments)),
        (b"0123456789", -11, 3, Err(BadArguments)),
        (b"0123456789", -11, 7, Err(BadArguments)),
        (b"0123456789", -11, 10, Err(BadArguments)),
        (b"0123456789", -11, 100, Err(BadArguments)),
        (b"0123456789", -11, -1, Err(BadArguments)),
        (b"0123456789", -11, -5, Err(BadArguments)),
        (b"0123456789", -100, 0, Ok(b"0123456789")),
        (b"0123456789", -100, 1, Err(BadArguments)),
        (b"0123456789", -100, 3, Err(BadArguments)),
        (b"0123456789", -100, 7, Err(BadArguments)),
        (b"0123456789", -100, 10, Err(BadArguments)),
        (b"0123456789", -100, 100, Err(BadArguments)),
        (b"0123456789", -100, -1, Err(BadArguments)),
        (b"0123456789", -100, -5, Err(BadArguments)),
        (b"", 0, 0, Ok(b"")),
        (b"", 0, 1, Ok(b"")),
        (b"", 0, 3, Ok(b"")),
        (b"", 0, 7, Ok(b"")),
        (b"", 0, 10, Ok(b"")),
        (b"", 0, 100, Ok(b"")),
        (b"", 0, -1, Err(BadArguments)),
        (b"", 0, -5, Err(BadArguments)),
        (b"", 3, 0, Ok(b"")),
        (b"", 3, 1, Ok(b"")),
        (b"", 3, 3, Ok(b"")),
        (b"", 3, 7, Ok(b"")),
        (b"", 3, 10, Ok(b"")),
        (b"", 3, 100, Ok(b"")),
        (b"", 3, -1, Err(BadArguments)),
        (b"", 3, -5, Err(BadArguments)),
        (b"", 9, 0, Ok(b"")),
        (b"", 9, 1, Ok(b"")),
        (b"", 9, 3, Ok(b"")),
        (b"", 9, 7, Ok(b"")),
        (b"", 9, 10, Ok(b"")),
        (b"", 9, 100, Ok(b"")),
        (b"", 9, -1, Err(BadArguments)),
        (b"", 9, -5, Err(BadArguments)),
        (b"", 10, 0, Ok(b"")),
        (b"", 10, 1, Ok(b"")),
        (b"", 10, 3, Ok(b"")),
        (b"", 10, 7, Ok(b"")),
        (b"", 10, 10, Ok(b"")),
        (b"", 10, 100, Ok(b"")),
        (b"", 10, -1, Err(BadArguments)),
        (b"", 10, -5, Err(BadArguments)),
        (b"", 11, 0, Ok(b"")),
        (b"", 11, 1, Ok(b"")),
        (b"", 11, 3, Ok(b"")),
        (b"", 11, 7, Ok(b"")),
        (b"", 11, 10, Ok(b"")),
        (b"", 11, 100, Ok(b"")),
        (b"", 11, -1, Err(BadArguments)),
        (b"", 11, -5, Err(BadArguments)),
        (b"", 100, 0, Ok(b"")),
        (b"", 100, 1, Ok(b"")),
        (b"", 100, 3, Ok(b"")),
        (b"", 100, 7, Ok(b"")),
        (b"", 100, 10, Ok(b"")),
        (b"", 100, 100, Ok(b"")),
        (b"", 100, -1, Err(BadArguments)),
        (b"", 100, -5, Err(BadArguments)),
        (b"", -1, 0, Ok(b"")),
        (b"", -1, 1, Err(BadArguments)),
        (b"", -1, 3, Err(BadArguments)),
        (b"", -1, 7, Err(BadArguments)),
        (b"", -1, 10, Err(BadArguments)),
        (b"", -1, 100, Err(BadArguments)),
        (b"", -1, -1, Err(BadArguments)),
        (b"", -1, -5, Err(BadArguments)),
        (b"", -3, 0, Ok(b"")),
        (b"", -3, 1, Err(BadArguments)),
        (b"", -3, 3, Err(BadArguments)),
        (b"", -3, 7, Err(BadArguments)),
        (b"", -3, 10, Err(BadArguments)),
        (b"", -3, 100, Err(BadArguments)),
        (b"", -3, -1, Err(BadArguments)),
        (b"", -3, -5, Err(BadArguments)),
        (b"", -9, 0, Ok(b"")),
        (b"", -9, 1, Err(BadArguments)),
        (b"", -9, 3, Err(BadArguments)),
        (b"", -9, 7, Err(BadArguments)),
        (b"", -9, 10, Err(BadArguments)),
        (b"", -9, 100, Err(BadArguments)),
        (b"", -9, -1, Err(BadArguments)),
        (b"", -9, -5, Err(BadArguments)),
        (b"", -10, 0, Ok(b"")),
        (b"", -10, 1, Err(BadArguments)),
        (b"", -10, 3, Err(BadArguments)),
        (b"", -10, 7, Err(BadArguments)),
        (b"", -10, 10, Err(BadArguments)),
        (b"", -10, 100, Err(BadArguments)),
        (b"", -10, -1, Err(BadArguments)),
        (b"", -10, -5, Err(BadArguments)),
        (b"", -11, 0, Ok(b"")),
        (b"", -11, 1, Err(BadArguments)),
        (b"", -11, 3, Err(BadArguments)),
        (b"", -11, 7, Err(BadArguments)),
        (b"", -11, 10, Err(BadArguments)),
        (b"", -11, 100, Err(BadArguments)),
        (b"", -11, -1, Err(BadArguments)),
        (b"", -11, -5, Err(BadArguments)),
        (b"", -100, 0, Ok(b"")),
        (b"", -100, 1, Err(BadArguments)),
        (b"", -100, 3, Err(BadArguments)),
        (b"", -100, 7, Err(BadArguments)),
        (b"", -100, 10, Err(BadArguments)),
        (b"", -100, 100, Err(BadArguments)),
        (b"", -100, -1, Err(BadArguments)),
        (b"", -100, -5, Err(BadArguments)),
    ];

    #[test]
    fn read_range_matches_reference() {
        let d = dir();
        let path = d.path().join("log");
        for &(content, offset, length, expected) in READ_CASES {
            fs::write(&path, content).unwrap();
            let got = read_range(&path, offset, length);
            let want = expected.map(|b| b.to_vec());
            assert_eq!(
                got, want,
                "content {content:?} offset {offset} length {length}"
            );
        }
    }

    #[test]
    fn read_range_faults() {
        let d = dir();
        let missing = d.path().join("missing");
        assert_eq!(read_range(&missing, 0, 0), Err(ReadError::NoFile));
        let dangling = d.path().join("dangling");
        std::os::unix::fs::symlink(&missing, &dangling).unwrap();
        assert_eq!(read_range(&dangling, 0, 0), Err(ReadError::NoFile));
        // The reference opens before checking arguments: a directory is
        // FAILED even with bad arguments.
        assert_eq!(read_range(d.path(), 0, 0), Err(Failed));
        assert_eq!(read_range(d.path(), -1, 5), Err(Failed));
        // Extreme values do not overflow.
        let path = d.path().join("log");
        fs::write(&path, b"abc").unwrap();
        assert_eq!(read_range(&path, i64::MIN, 0), Ok(b"abc".to_vec()));
        // Far past the end: the reference gets EINVAL from the kernel
        // (FAILED) where the filesystem's maximum size is below the offset.
        let far = read_range(&path, i64::MAX, 0);
        assert!(far == Ok(Vec::new()) || far == Err(Failed), "{far:?}");
        assert_eq!(read_range(&path, 1, i64::MAX), Ok(b"bc".to_vec()));
    }

    type TailCase = (&'static [u8], i64, i64, &'static [u8], i64, bool);

    /// Computed by running the reference's `supervisor.options.tailFile`
    /// (4.3.0) on each (content, offset, length).
    const TAIL_CASES: &[TailCase] = &[
        (b"0123456789", 0, 0, b"", 10, true),
        (b"0123456789", 0, 1, b"9", 10, true),
        (b"0123456789", 0, 3, b"789", 10, true),
        (b"0123456789", 0, 5, b"56789", 10, true),
        (b"0123456789", 0, 10, b"0123456789", 10, false),
        (b"0123456789", 0, 11, b"0123456789", 10, false),
        (b"0123456789", 0, 100, b"0123456789", 10, false),
        (b"0123456789", 0, -1, b"", 10, true),
        (b"0123456789", 0, -5, b"", 10, true),
        (b"0123456789", 3, 0, b"", 10, true),
        (b"0123456789", 3, 1, b"9", 10, true),
        (b"0123456789", 3, 3, b"789", 10, true),
        (b"0123456789", 3, 5, b"56789", 10, true),
        (b"0123456789", 3, 10, b"0123456789", 10, false),
        (b"0123456789", 3, 11, b"0123456789", 10, false),
        (b"0123456789", 3, 100, b"0123456789", 10, false),
        (b"0123456789", 3, -1, b"", 10, true),
        (b"0123456789", 3, -5, b"", 10, true),
        (b"0123456789", 5, 0, b"", 10, true),
        (b"0123456789", 5, 1, b"9", 10, true),
        (b"0123456789", 5, 3, b"789", 10, true),
        (b"0123456789", 5, 5, b"56789", 10, false),
        (b"0123456789", 5, 10, b"0123456789", 10, false),
        (b"0123456789", 5, 11, b"0123456789", 10, false),
        (b"0123456789", 5, 100, b"0123456789", 10, false),
        (b"0123456789", 5, -1, b"", 10, true),
        (b"0123456789", 5, -5, b"", 10, true),
        (b"0123456789", 9, 0, b"", 10, true),
        (b"0123456789", 9, 1, b"9", 10, false),
        (b"0123456789", 9, 3, b"789", 10, false),
        (b"0123456789", 9, 5, b"56789", 10, false),
        (b"0123456789", 9, 10, b"0123456789", 10, false),
        (b"0123456789", 9, 11, b"0123456789", 10, false),
        (b"0123456789", 9, 100, b"0123456789", 10, false),
        (b"0123456789", 9, -1, b"", 10, true),
        (b"0123456789", 9, -5, b"", 10, true),
        (b"0123456789", 10, 0, b"", 10, false),
        (b"0123456789", 10, 1, b"", 10, false),
        (b"0123456789", 10, 3, b"", 10, false),
        (b"0123456789", 10, 5, b"", 10, false),
        (b"0123456789", 10, 10, b"", 10, false),
        (b"0123456789", 10, 11, b"", 10, false),
        (b"0123456789", 10, 100, b"", 10, false),
        (b"0123456789", 10, -1, b"", 10, true),
        (b"0123456789", 10, -5, b"", 10, true),
        (b"0123456789", 11, 0, b"", 10, false),
        (b"0123456789", 11, 1, b"", 10, false),
        (b"0123456789", 11, 3, b"", 10, false),
        (b"0123456789", 11, 5, b"", 10, false),
        (b"0123456789", 11, 10, b"", 10, false),
        (b"0123456789", 11, 11, b"", 10, false),
        (b"0123456789", 11, 100, b"", 10, false),
        (b"0123456789", 11, -1, b"", 10, false),
        (b"0123456789", 11, -5, b"", 10, true),
        (b"0123456789", 100, 0, b"", 10, false),
        (b"0123456789", 100, 1, b"", 10, false),
        (b"0123456789", 100, 3, b"", 10, false),
        (b"0123456789", 100, 5, b"", 10, false),
        (b"0123456789", 100, 10, b"", 10, false),
        (b"0123456789", 100, 11, b"", 10, false),
        (b"0123456789", 100, 100, b"", 10, false),
        (b"0123456789", 100, -1, b"", 10, false),
        (b"0123456789", 100, -5, b"", 10, false),
        (b"0123456789", -1, 0, b"", 10, true),
        (b"0123456789", -1, 1, b"9", 10, true),
        (b"0123456789", -1, 3, b"789", 10, true),
        (b"0123456789", -1, 5, b"56789", 10, true),
        (b"0123456789", -1, 10, b"0123456789", 10, true),
        (b"0123456789", -1, 11, b"0123456789", 10, false),
        (b"0123456789", -1, 100, b"0123456789", 10, false),
        (b"0123456789", -1, -1, b"", 10, true),
        (b"0123456789", -1, -5, b"", 10, true),
        (b"0123456789", -5, 0, b"", 10, true),
        (b"0123456789", -5, 1, b"9", 10, true),
        (b"0123456789", -5, 3, b"789", 10, true),
        (b"0123456789", -5, 5, b"56789", 10, true),
        (b"0123456789", -5, 10, b"0123456789", 10, true),
        (b"0123456789", -5, 11, b"0123456789", 10, true),
        (b"0123456789", -5, 100, b"0123456789", 10, false),
        (b"0123456789", -5, -1, b"", 10, true),
        (b"0123456789", -5, -5, b"", 10, true),
        (b"0123456789", -20, 0, b"", 10, true),
        (b"0123456789", -20, 1, b"9", 10, true),
        (b"0123456789", -20, 3, b"789", 10, true),
        (b"0123456789", -20, 5, b"56789", 10, true),
        (b"0123456789", -20, 10, b"0123456789", 10, true),
        (b"0123456789", -20, 11, b"0123456789", 10, true),
        (b"0123456789", -20, 100, b"0123456789", 10, false),
        (b"0123456789", -20, -1, b"", 10, true),
        (b"0123456789", -20, -5, b"", 10, true),
        (b"", 0, 0, b"", 0, false),
        (b"", 0, 1, b"", 0, false),
        (b"", 0, 3, b"", 0, false),
        (b"", 0, 5, b"", 0, false),
        (b"", 0, 10, b"", 0, false),
        (b"", 0, 11, b"", 0, false),
        (b"", 0, 100, b"", 0, false),
        (b"", 0, -1, b"", 0, true),
        (b"", 0, -5, b"", 0, true),
        (b"", 3, 0, b"", 0, false),
        (b"", 3, 1, b"", 0, false),
        (b"", 3, 3, b"", 0, false),
        (b"", 3, 5, b"", 0, false),
        (b"", 3, 10, b"", 0, false),
        (b"", 3, 11, b"", 0, false),
        (b"", 3, 100, b"", 0, false),
        (b"", 3, -1, b"", 0, false),
        (b"", 3, -5, b"", 0, true),
        (b"", 5, 0, b"", 0, false),
        (b"", 5, 1, b"", 0, false),
        (b"", 5, 3, b"", 0, false),
        (b"", 5, 5, b"", 0, false),
        (b"", 5, 10, b"", 0, false),
        (b"", 5, 11, b"", 0, false),
        (b"", 5, 100, b"", 0, false),
        (b"", 5, -1, b"", 0, false),
        (b"", 5, -5, b"", 0, false),
        (b"", 9, 0, b"", 0, false),
        (b"", 9, 1, b"", 0, false),
        (b"", 9, 3, b"", 0, false),
        (b"", 9, 5, b"", 0, false),
        (b"", 9, 10, b"", 0, false),
        (b"", 9, 11, b"", 0, false),
        (b"", 9, 100, b"", 0, false),
        (b"", 9, -1, b"", 0, false),
        (b"", 9, -5, b"", 0, false),
        (b"", 10, 0, b"", 0, false),
        (b"", 10, 1, b"", 0, false),
        (b"", 10, 3, b"", 0, false),
        (b"", 10, 5, b"", 0, false),
        (b"", 10, 10, b"", 0, false),
        (b"", 10, 11, b"", 0, false),
        (b"", 10, 100, b"", 0, false),
        (b"", 10, -1, b"", 0, false),
        (b"", 10, -5, b"", 0, false),
        (b"", 11, 0, b"", 0, false),
        (b"", 11, 1, b"", 0, false),
        (b"", 11, 3, b"", 0, false),
        (b"", 11, 5, b"", 0, false),
        (b"", 11, 10, b"", 0, false),
        (b"", 11, 11, b"", 0, false),
        (b"", 11, 100, b"", 0, false),
        (b"", 11, -1, b"", 0, false),
        (b"", 11, -5, b"", 0, false),
        (b"", 100, 0, b"", 0, false),
        (b"", 100, 1, b"", 0, false),
        (b"", 100, 3, b"", 0, false),
        (b"", 100, 5, b"", 0, false),
        (b"", 100, 10, b"", 0, false),
        (b"", 100, 11, b"", 0, false),
        (b"", 100, 100, b"", 0, false),
        (b"", 100, -1, b"", 0, false),
        (b"", 100, -5, b"", 0, false),
        (b"", -1, 0, b"", 0, true),
        (b"", -1, 1, b"", 0, false),
        (b"", -1, 3, b"", 0, false),
        (b"", -1, 5, b"", 0, false),
        (b"", -1, 10, b"", 0, false),
        (b"", -1, 11, b"", 0, false),
        (b"", -1, 100, b"", 0, false),
        (b"", -1, -1, b"", 0, true),
        (b"", -1, -5, b"", 0, true),
        (b"", -5, 0, b"", 0, true),
        (b"", -5, 1, b"", 0, true),
        (b"", -5, 3, b"", 0, true),
        (b"", -5, 5, b"", 0, false),
        (b"", -5, 10, b"", 0, false),
        (b"", -5, 11, b"", 0, false),
        (b"", -5, 100, b"", 0, false),
        (b"", -5, -1, b"", 0, true),
        (b"", -5, -5, b"", 0, true),
        (b"", -20, 0, b"", 0, true),
        (b"", -20, 1, b"", 0, true),
        (b"", -20, 3, b"", 0, true),
        (b"", -20, 5, b"", 0, true),
        (b"", -20, 10, b"", 0, true),
        (b"", -20, 11, b"", 0, true),
        (b"", -20, 100, b"", 0, false),
        (b"", -20, -1, b"", 0, true),
        (b"", -20, -5, b"", 0, true),
    ];

    #[test]
    fn tail_matches_reference() {
        let d = dir();
        let path = d.path().join("log");
        for &(content, offset, length, data, new_offset, overflow) in TAIL_CASES {
            fs::write(&path, content).unwrap();
            let got = tail(&path, offset, length).unwrap();
            assert_eq!(
                got,
                (data.to_vec(), new_offset, overflow),
                "content {content:?} offset {offset} length {length}"
            );
        }
    }

    #[test]
    fn tail_errors_and_extremes() {
        let d = dir();
        assert!(tail(&d.path().join("missing"), 7, 3).is_err());
        assert!(tail(d.path(), 0, 3).is_err());
        let path = d.path().join("log");
        fs::write(&path, b"abc").unwrap();
        assert_eq!(tail(&path, i64::MAX, i64::MAX).unwrap(), (vec![], 3, false));
        assert_eq!(tail(&path, i64::MIN, i64::MIN).unwrap(), (vec![], 3, true));
        // (The reference raises OverflowError here; we read what there is.)
        assert_eq!(
            tail(&path, 0, i64::MAX).unwrap(),
            (b"abc".to_vec(), 3, false)
        );
    }
}
