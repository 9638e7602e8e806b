//! The integration-test harness: a sandbox directory, the real binary run
//! under any of its names with a cleared environment, and its output.
#![allow(dead_code)] // each test file uses a different part

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_supervisor");

pub struct Sandbox {
    dir: tempfile::TempDir,
}

/// What one run of the binary printed and how it exited.
pub struct Run {
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(out: Output) -> Run {
        Run {
            status: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit status {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::Builder::new()
                .prefix("supervisor-test-")
                .tempdir()
                .expect("create a temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `text` to `name` inside the sandbox (creating directories).
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create dirs");
        }
        std::fs::write(&path, text).expect("write file");
        path
    }

    /// Runs the binary as `argv0` (e.g. "supervisord") with `args`, in the
    /// sandbox, with a minimal environment.
    pub fn run(&self, argv0: &str, args: &[&str]) -> Run {
        let out = Command::new(BIN)
            .arg0(argv0)
            .args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", self.dir.path())
            .stdin(Stdio::null())
            .output()
            .expect("run the binary");
        Run::from(out)
    }
}

/// Polls `check` until it returns Some or `secs` pass.
pub fn wait_for<T>(secs: f64, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs_f64(secs);
    loop {
        if let Some(v) = check() {
            return Some(v);
        }
        if std::time::Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Live processes whose environment carries `marker` (every process a
/// test daemon starts inherits it).
pub fn processes_with_marker(marker: &str) -> Vec<i32> {
    let needle = format!("SUPERVISOR_TEST_SANDBOX={marker}");
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) else {
            continue;
        };
        let hit = env.split(|&b| b == 0).any(|var| var == needle.as_bytes());
        let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| {
                s.rsplit(')')
                    .next()
                    .is_some_and(|rest| rest.trim_start().starts_with('Z'))
            })
            .unwrap_or(false);
        if hit && !zombie {
            found.push(pid);
        }
    }
    found
}

/// A daemon started by a test in its sandbox, in the foreground.
pub struct Daemon {
    pub child: Option<std::process::Child>,
    pub dir: PathBuf,
    pub conf: PathBuf,
}

impl Sandbox {
    /// Writes a config: a [supervisord] section pointing every path into
    /// the sandbox (plus `extra_supervisord` lines), then `body`.
    pub fn config(&self, extra_supervisord: &str, body: &str) -> PathBuf {
        let d = self.path().display();
        let text = format!(
            "[supervisord]\nlogfile={d}/main.log\npidfile={d}/supervisord.pid\nchildlogdir={d}\n\
             nodaemon=true\nloglevel=debug\nenvironment=SUPERVISOR_TEST_SANDBOX=\"{d}\"\n\
             {extra_supervisord}\n{body}\n"
        );
        self.write("supervisord.conf", &text)
    }

    /// Starts the daemon on `conf` in the foreground.
    pub fn start(&self, conf: &Path) -> Daemon {
        let child = Command::new(BIN)
            .arg0("supervisord")
            .arg("-c")
            .arg(conf)
            .current_dir(self.path())
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", self.path())
            .env("SUPERVISOR_TEST_SANDBOX", self.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(
                std::fs::File::create(self.path().join("daemon.stderr"))
                    .map(Stdio::from)
                    .unwrap_or_else(|_| Stdio::null()),
            )
            .spawn()
            .expect("start the daemon");
        Daemon {
            child: Some(child),
            dir: self.path().to_path_buf(),
            conf: conf.to_path_buf(),
        }
    }
}

impl Daemon {
    pub fn pid(&self) -> i32 {
        self.child.as_ref().map(|c| c.id() as i32).unwrap_or(0)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("main.log")).unwrap_or_default()
    }

    /// The main log, plus what the daemon wrote on stderr (a config error
    /// shows up there).
    pub fn context(&self) -> String {
        let stderr = std::fs::read_to_string(self.dir.join("daemon.stderr")).unwrap_or_default();
        format!("{}\n--- daemon stderr\n{stderr}", self.log())
    }

    /// Waits until the main log contains `needle` `count` times.
    pub fn wait_log_n(&self, needle: &str, count: usize, secs: f64) {
        let found = wait_for(secs, || {
            (self.log().matches(needle).count() >= count).then_some(())
        });
        assert!(
            found.is_some(),
            "main log never had {count} x {needle:?} within {secs} s; log:\n{}",
            self.context()
        );
    }

    pub fn wait_log(&self, needle: &str, secs: f64) {
        self.wait_log_n(needle, 1, secs);
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY-free: kill(2) through the libc crate.
        unsafe { libc::kill(self.pid(), sig) };
    }

    /// SIGTERM, then waits for the daemon to exit; returns its status.
    pub fn stop(&mut self) -> Option<i32> {
        self.signal(libc::SIGTERM);
        let mut child = self.child.take()?;
        let status = wait_for(20.0, || child.try_wait().ok().flatten());
        match status {
            Some(s) => s.code(),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "the daemon did not exit within 20 s of SIGTERM; log:\n{}",
                    self.log()
                );
            }
        }
    }

    /// The pid of a child of the daemon whose command line contains `needle`.
    pub fn child_pid(&self, needle: &str) -> Option<i32> {
        let daemon = self.pid();
        std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
            let pid: i32 = e.file_name().to_string_lossy().parse().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let ppid: i32 = stat
                .rsplit(')')
                .next()?
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            (ppid == daemon && cmd.contains(needle)).then_some(pid)
        })
    }
}

impl Drop for Daemon {
    /// Stops the daemon if the test did not, then makes sure no process
    /// it started outlives the test.
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SAFETY-free: kill(2) through the libc crate.
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
            if wait_for(20.0, || child.try_wait().ok().flatten()).is_none() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        let marker = self.dir.display().to_string();
        let survivors = wait_for(5.0, || {
            let left = processes_with_marker(&marker);
            left.is_empty().then_some(())
        });
        if survivors.is_none() {
            let left = processes_with_marker(&marker);
            for pid in &left {
                // SAFETY-free: kill(2) through the libc crate.
                unsafe { libc::kill(*pid, libc::SIGKILL) };
            }
            if !std::thread::panicking() {
                panic!(
                    "processes outlived the test: {left:?}; log:\n{}",
                    self.log()
                );
            }
        }
    }
}

/// Calls an XML-RPC method on a daemon's unix socket (one request per
/// connection, as simple as possible for tests).
pub fn rpc(
    socket: &Path,
    method: &str,
    params: &[supervisor::rpc::xmlrpc::Value],
) -> Result<supervisor::rpc::xmlrpc::Value, supervisor::rpc::xmlrpc::Fault> {
    use std::io::{Read, Write};
    let body = supervisor::rpc::xmlrpc::write_call(method, params);
    let mut stream =
        std::os::unix::net::UnixStream::connect(socket).expect("connect to the daemon");
    let head = format!(
        "POST /RPC2 HTTP/1.0\r\nHost: localhost\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("send");
    stream.write_all(&body).expect("send");
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).expect("receive");
    let split = reply
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head")
        + 4;
    supervisor::rpc::xmlrpc::parse_response(&reply[split..]).expect("a well-formed response")
}

impl Daemon {
    /// The unix socket of a daemon configured with `[unix_http_server]
    /// file=DIR/s.sock`.
    pub fn socket(&self) -> PathBuf {
        self.dir.join("s.sock")
    }

    /// Waits until the RPC socket answers.
    pub fn wait_rpc(&self) {
        let sock = self.socket();
        wait_for(5.0, || {
            std::os::unix::net::UnixStream::connect(&sock)
                .ok()
                .map(|_| ())
        })
        .unwrap_or_else(|| panic!("the RPC socket never answered; log:\n{}", self.context()));
    }

    pub fn call(
        &self,
        method: &str,
        params: &[supervisor::rpc::xmlrpc::Value],
    ) -> Result<supervisor::rpc::xmlrpc::Value, supervisor::rpc::xmlrpc::Fault> {
        rpc(&self.socket(), method, params)
    }

    /// The pid of a process by namespec, through getProcessInfo.
    pub fn pid_of(&self, name: &str) -> i32 {
        let info = self
            .call("supervisor.getProcessInfo", &[name.into()])
            .unwrap_or_else(|f| panic!("getProcessInfo({name}): {f}"));
        info.get("pid").and_then(|v| v.as_int()).unwrap_or(0)
    }

    pub fn state_of(&self, name: &str) -> String {
        self.call("supervisor.getProcessInfo", &[name.into()])
            .ok()
            .and_then(|i| {
                i.get("statename")
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            })
            .unwrap_or_default()
    }
}
