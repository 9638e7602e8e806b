//! Child output through the real daemon: rotation byte for byte, AUTO
//! files, capture mode, strip_ansi, SIGUSR2 reopen, streams that block,
//! and odd output (no newline, invalid UTF-8, floods).

mod common;
use common::{wait_for, Sandbox};

fn read(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}

/// The concatenation of `name.N` ... `name.1`, `name`.
fn concatenated(dir: &std::path::Path, name: &str, backups: usize) -> Vec<u8> {
    let mut all = Vec::new();
    for i in (1..=backups).rev() {
        all.extend(read(&dir.join(format!("{name}.{i}"))));
    }
    all.extend(read(&dir.join(name)));
    all
}

#[test]
fn rotated_logs_hold_every_byte_in_order() {
    let sb = Sandbox::new();
    let d0 = sb.path().display();
    // 2000 numbered lines (~40 KB) through a 4 KB log with 20 backups:
    // nothing is rotated away, so backups + current = the output.
    let conf = sb.config(
        "",
        &format!(
            "[program:counter]\ncommand=/bin/sh -c 'i=0; while [ $i -lt 2000 ]; do echo \"line $i of the output\"; \
             i=$((i+1)); done; exec sleep 1000'\nstdout_logfile={d0}/out.log\nstdout_logfile_maxbytes=4KB\n\
             stdout_logfile_backups=20\nstartsecs=0\n"
        ),
    );
    let d = sb.start(&conf);
    let expected: Vec<u8> = (0..2000)
        .flat_map(|i| format!("line {i} of the output\n").into_bytes())
        .collect();
    let got = wait_for(10.0, || {
        let all = concatenated(sb.path(), "out.log", 20);
        (all.len() >= expected.len()).then_some(all)
    })
    .unwrap_or_else(|| panic!("output incomplete; log:\n{}", d.log()));
    assert_eq!(got, expected);
    assert!(sb.path().join("out.log.1").exists(), "rotation happened");
    // A rotated file holds at least maxbytes (a read is never split).
    for i in 1..=20 {
        if let Ok(m) = std::fs::metadata(sb.path().join(format!("out.log.{i}"))) {
            assert!(
                m.len() >= 4096,
                "backup {i} is at least maxbytes ({})",
                m.len()
            );
        }
    }
}

#[test]
fn backups_beyond_the_limit_are_dropped_and_zero_backups_truncates() {
    let sb = Sandbox::new();
    let d0 = sb.path().display();
    let conf = sb.config(
        "",
        &format!(
            "[program:a]\ncommand=/bin/sh -c 'i=0; while [ $i -lt 500 ]; do echo \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa $i\"; \
             i=$((i+1)); [ $((i %% 100)) = 0 ] && sleep 0.05; done; exec sleep 1000'\nstdout_logfile={d0}/a.log\nstdout_logfile_maxbytes=1KB\n\
             stdout_logfile_backups=2\nstartsecs=0\n\
             [program:b]\ncommand=/bin/sh -c 'i=0; while [ $i -lt 500 ]; do echo \"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb $i\"; \
             i=$((i+1)); done; echo last; exec sleep 1000'\nstdout_logfile={d0}/b.log\nstdout_logfile_maxbytes=1KB\n\
             stdout_logfile_backups=0\nstartsecs=0\n"
        ),
    );
    let d = sb.start(&conf);
    // The main log echoes output at debug level: b has written everything.
    d.wait_log("last", 10.0);
    wait_for(10.0, || {
        String::from_utf8_lossy(&concatenated(sb.path(), "a.log", 2))
            .contains("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 499")
            .then_some(())
    })
    .expect("a finished");
    assert!(sb.path().join("a.log.2").exists());
    assert!(!sb.path().join("a.log.3").exists());
    assert!(!sb.path().join("b.log.1").exists());
    assert!(read(&sb.path().join("b.log")).len() < 2048);
}

#[test]
fn auto_logs_are_named_like_the_reference_and_old_ones_cleaned() {
    let sb = Sandbox::new();
    sb.write("web-stdout---supervisor-stale123.log", "old run\n");
    sb.write("web-stdout---supervisor-stale123.log.1", "older run\n");
    sb.write("keepme.log", "not ours\n");
    let conf = sb.config(
        "",
        "[program:web]\ncommand=/bin/sh -c 'echo fresh; exec sleep 1000'\nstartsecs=0\n",
    );
    let d = sb.start(&conf);
    d.wait_log("success: web entered RUNNING state", 5.0);
    let names = || -> Vec<String> {
        std::fs::read_dir(sb.path())
            .expect("dir")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    };
    let found = wait_for(5.0, || {
        names().into_iter().find(|n| {
            n.starts_with("web-stdout---supervisor-")
                && n.ends_with(".log")
                && !n.contains("stale")
                && String::from_utf8_lossy(&read(&sb.path().join(n))).contains("fresh")
        })
    });
    assert!(
        found.is_some(),
        "no AUTO stdout log with the output: {:?}",
        names()
    );
    let all = names();
    assert!(
        !all.iter().any(|n| n.contains("stale123")),
        "old AUTO logs removed: {all:?}"
    );
    assert!(all.contains(&"keepme.log".to_string()));
    assert!(
        all.iter()
            .any(|n| n.starts_with("web-stderr---supervisor-")),
        "{all:?}"
    );
}

#[test]
fn nocleanup_keeps_old_auto_logs() {
    let sb = Sandbox::new();
    sb.write("web-stdout---supervisor-stale123.log", "old run\n");
    let conf = sb.config(
        "nocleanup=true",
        "[program:web]\ncommand=/bin/sh -c 'exec sleep 1000'\nstartsecs=0\n",
    );
    let d = sb.start(&conf);
    d.wait_log("success: web entered RUNNING state", 5.0);
    assert!(sb
        .path()
        .join("web-stdout---supervisor-stale123.log")
        .exists());
}

#[test]
fn capture_mode_takes_tagged_output_out_of_the_log() {
    let sb = Sandbox::new();
    let d0 = sb.path().display();
    let conf = sb.config(
        "",
        &format!(
            "[program:talker]\ncommand=/bin/sh -c 'printf \"before<!--XSUPERVISOR:BEGIN-->secret\"; \
             printf \"stuff<!--XSUPERVISOR:END-->after\\n\"; exec sleep 1000'\n\
             stdout_logfile={d0}/talk.log\nstdout_capture_maxbytes=1KB\nstartsecs=0\n"
        ),
    );
    let d = sb.start(&conf);
    let log = wait_for(5.0, || {
        let t = String::from_utf8_lossy(&read(&sb.path().join("talk.log"))).into_owned();
        t.contains("after").then_some(t)
    })
    .unwrap_or_else(|| panic!("no output; log:\n{}", d.log()));
    assert_eq!(log, "beforeafter\n");
    d.wait_log("'talker' stdout emitted a comm event", 5.0);
}

#[test]
fn strip_ansi_removes_escape_sequences() {
    let sb = Sandbox::new();
    let d0 = sb.path().display();
    let conf = sb.config(
        "strip_ansi=true",
        &format!(
            "[program:color]\ncommand=/bin/sh -c 'printf \"\\033[31mred\\033[0m plain\\n\"; exec sleep 1000'\n\
             stdout_logfile={d0}/color.log\nstartsecs=0\n"
        ),
    );
    let _d = sb.start(&conf);
    let log = wait_for(5.0, || {
        let t = read(&sb.path().join("color.log"));
        (!t.is_empty()).then_some(t)
    })
    .expect("output");
    assert_eq!(log, b"red plain\n");
}

#[test]
fn sigusr2_reopens_logs_moved_away_without_losing_a_byte() {
    let sb = Sandbox::new();
    let d0 = sb.path().display();
    sb.write("go", "");
    let conf = sb.config(
        "",
        &format!(
            "[program:ticker]\ncommand=/bin/sh -c 'i=0; while :; do if [ -e {d0}/go ]; then echo \"tick $i\"; i=$((i+1)); \
             fi; sleep 0.01; done'\nstdout_logfile={d0}/tick.log\nstartsecs=0\nstopasgroup=true\n"
        ),
    );
    let d = sb.start(&conf);
    wait_for(5.0, || {
        (read(&sb.path().join("tick.log")).len() > 50).then_some(())
    })
    .expect("ticking");
    std::fs::rename(sb.path().join("tick.log"), sb.path().join("tick.log.moved")).expect("move");
    d.signal(libc::SIGUSR2);
    d.wait_log("received SIGUSR2 indicating log reopen request", 5.0);
    wait_for(5.0, || {
        (read(&sb.path().join("tick.log")).len() > 50).then_some(())
    })
    .expect("new file written");
    std::fs::remove_file(sb.path().join("go")).expect("stop ticking");
    // Wait until the output stops growing.
    let mut last = 0;
    wait_for(5.0, || {
        let n = read(&sb.path().join("tick.log")).len();
        let stable = n == last;
        last = n;
        std::thread::sleep(std::time::Duration::from_millis(100));
        stable.then_some(())
    });
    let mut all = read(&sb.path().join("tick.log.moved"));
    all.extend(read(&sb.path().join("tick.log")));
    let text = String::from_utf8(all).expect("utf-8");
    let numbers: Vec<u64> = text
        .lines()
        .map(|l| l.trim_start_matches("tick ").parse().expect("a tick line"))
        .collect();
    let expected: Vec<u64> = (0..numbers.len() as u64).collect();
    assert_eq!(numbers, expected, "every tick exactly once, in order");
}

#[test]
fn odd_output_is_logged_as_it_is() {
    let sb = Sandbox::new();
    let d0 = sb.path().display();
    // 3 MB on one line without a newline, then invalid UTF-8.
    let conf = sb.config(
        "",
        &format!(
            "[program:odd]\ncommand=/bin/sh -c 'head -c 3000000 /dev/zero | tr \"\\\\0\" x; printf \"\\377\\376end\"; \
             exec sleep 1000'\nstdout_logfile={d0}/odd.log\nstdout_logfile_maxbytes=0\nstartsecs=0\n"
        ),
    );
    let d = sb.start(&conf);
    let got = wait_for(10.0, || {
        let t = read(&sb.path().join("odd.log"));
        t.ends_with(b"end").then_some(t)
    })
    .unwrap_or_else(|| panic!("incomplete; log:\n{}", d.log()));
    assert_eq!(got.len(), 3_000_000 + 5);
    assert!(got[..3_000_000].iter().all(|&b| b == b'x'));
    assert_eq!(&got[3_000_000..], b"\xff\xfeend");
}

#[test]
fn a_blocked_stream_pauses_its_child_not_the_daemon() {
    let sb = Sandbox::new();
    let d0 = sb.path().display();
    let fifo = sb.path().join("slow.fifo");
    let c = std::ffi::CString::new(fifo.to_str().expect("utf-8")).expect("path");
    // SAFETY-free: mkfifo(3) through the libc crate.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    // Keep a reader open that never reads: the FIFO fills up.
    let reader = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo)
        .expect("reader");
    let conf = sb.config(
        "",
        &format!(
            "[unix_http_server]\nfile={d0}/s.sock\n\
             [program:flood]\ncommand=/bin/sh -c 'exec yes flood'\nstdout_logfile={}\nstdout_logfile_maxbytes=0\nstartsecs=0\n\
             [program:calm]\ncommand=/bin/sh -c 'i=0; while [ $i -lt 100 ]; do echo \"calm $i\"; i=$((i+1)); sleep 0.01; done; \
             exec sleep 1000'\nstdout_logfile={d0}/calm.log\nstartsecs=0\n",
            fifo.display()
        ),
    );
    let d = sb.start(&conf);
    // The calm child's output all arrives although the flood's log is stuck.
    wait_for(10.0, || {
        String::from_utf8_lossy(&read(&sb.path().join("calm.log")))
            .contains("calm 99")
            .then_some(())
    })
    .unwrap_or_else(|| panic!("calm output stalled; log:\n{}", d.log()));
    // The daemon's memory stays bounded while the flood is blocked.
    let rss = || -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", d.pid()))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    let first = rss();
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        rss() < first + 2048,
        "RSS grows while the stream is blocked: {first} -> {}",
        rss()
    );
    drop(reader);
}

use std::os::unix::fs::OpenOptionsExt;

#[test]
fn an_unwritable_log_directory_is_reported_and_the_child_keeps_running() {
    let sb = Sandbox::new();
    let d0 = sb.path().display();
    std::fs::create_dir(sb.path().join("logs")).expect("mkdir");
    let conf = sb.config(
        "",
        &format!(
            "[program:w]\ncommand=/bin/sh -c 'while :; do echo tick; sleep 0.02; done'\n\
             stdout_logfile={d0}/logs/w.log\nstdout_logfile_maxbytes=200\nstdout_logfile_backups=1\nstartsecs=0\n\
             stopasgroup=true\n"
        ),
    );
    let d = sb.start(&conf);
    d.wait_log("success: w entered RUNNING state", 5.0);
    wait_for(5.0, || sb.path().join("logs/w.log").exists().then_some(())).expect("log created");
    std::fs::remove_dir_all(sb.path().join("logs")).expect("rm logs");
    d.wait_log("cannot write to log file", 10.0);
    let log = d.log();
    assert!(
        !log.contains("exited: w"),
        "the child keeps running:\n{log}"
    );
}
