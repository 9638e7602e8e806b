//! The daemon with real processes: every transition, spawning details,
//! reaping, signals, restart and daemon mode, observed through the main
//! log, the children's files and /proc. Each test's harness checks that no
//! process it started outlives it.

mod common;
use common::{wait_for, Sandbox};

/// A command that records its pid then stays up until signalled.
fn sleeper() -> &'static str {
    "command=/bin/sh -c 'exec sleep 1000'"
}

#[test]
fn a_program_runs_after_startsecs_and_sigterm_stops_it() {
    let sb = Sandbox::new();
    let conf = sb.config("", &format!("[program:web]\n{}\nstartsecs=1\n", sleeper()));
    let mut d = sb.start(&conf);
    d.wait_log("spawned: 'web' with pid", 5.0);
    d.wait_log(
        "success: web entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)",
        5.0,
    );
    let pidfile = sb.path().join("supervisord.pid");
    let written = std::fs::read_to_string(&pidfile).expect("pid file");
    assert_eq!(written.trim(), d.pid().to_string());
    assert_eq!(d.stop(), Some(0));
    let log = d.log();
    assert!(
        log.contains("received SIGTERM indicating exit request"),
        "{log}"
    );
    assert!(log.contains("waiting for web to die"), "{log}");
    assert!(
        log.contains("stopped: web (terminated by SIGTERM)"),
        "{log}"
    );
    assert!(!pidfile.exists(), "the pid file is removed at exit");
}

#[test]
fn exits_are_reported_with_expected_or_not_and_autorestart_decides() {
    let sb = Sandbox::new();
    let conf = sb.config(
        "",
        "[program:ok]\ncommand=/bin/sh -c 'sleep 0.2; exit 0'\nstartsecs=0\nautorestart=unexpected\n\
         [program:bad]\ncommand=/bin/sh -c 'sleep 0.2; exit 3'\nstartsecs=0\nautorestart=false\n\
         [program:always]\ncommand=/bin/sh -c 'sleep 0.2; exit 0'\nstartsecs=0\nautorestart=true\n\
         [program:coded]\ncommand=/bin/sh -c 'sleep 0.2; exit 7'\nstartsecs=0\nexitcodes=0,7\n",
    );
    let mut d = sb.start(&conf);
    d.wait_log("exited: ok (exit status 0; expected)", 5.0);
    d.wait_log("exited: bad (exit status 3; not expected)", 5.0);
    d.wait_log("exited: coded (exit status 7; expected)", 5.0);
    d.wait_log_n("spawned: 'always'", 3, 5.0);
    d.stop();
    let log = d.log();
    assert_eq!(log.matches("spawned: 'ok'").count(), 1, "{log}");
    assert_eq!(log.matches("spawned: 'bad'").count(), 1, "{log}");
    assert_eq!(log.matches("spawned: 'coded'").count(), 1, "{log}");
}

#[test]
fn quick_exits_back_off_then_go_fatal() {
    let sb = Sandbox::new();
    let conf = sb.config(
        "",
        "[program:flaky]\ncommand=/bin/false\nstartsecs=1\nstartretries=2\n",
    );
    let d = sb.start(&conf);
    d.wait_log(
        "gave up: flaky entered FATAL state, too many start retries too quickly",
        10.0,
    );
    let log = d.log();
    assert_eq!(log.matches("spawned: 'flaky'").count(), 3, "{log}");
    assert_eq!(
        log.matches("exited: flaky (exit status 1; not expected)")
            .count(),
        3,
        "{log}"
    );
}

#[test]
fn spawn_errors_say_exactly_why() {
    let sb = Sandbox::new();
    sb.write("notexec.sh", "#!/bin/sh\nexit 0\n");
    let d0 = sb.path().display();
    let conf = sb.config(
        "",
        &format!(
            "[program:missing]\ncommand=/no/such/program\nstartretries=0\n\
             [program:onpath]\ncommand=no-such-program-on-path\nstartretries=0\n\
             [program:notexec]\ncommand={d0}/notexec.sh\nstartretries=0\n\
             [program:isdir]\ncommand=/tmp\nstartretries=0\n\
             [program:baddir]\ncommand=/bin/true\ndirectory=/no/such/dir\nstartretries=0\n\
             [program:unparsable]\ncommand=/bin/echo 'open\nstartretries=0\n"
        ),
    );
    let d = sb.start(&conf);
    for line in [
        "spawnerr: can't find command '/no/such/program'".to_string(),
        "spawnerr: can't find command 'no-such-program-on-path'".to_string(),
        format!("spawnerr: command at '{d0}/notexec.sh' is not executable"),
        "spawnerr: command at '/tmp' is a directory".to_string(),
        "spawnerr: couldn't chdir to /no/such/dir: ENOENT".to_string(),
        "spawnerr: can't parse command \"/bin/echo 'open\": no closing quotation".to_string(),
    ] {
        d.wait_log(&line, 5.0);
    }
    d.wait_log_n("entered FATAL state", 6, 5.0);
}

#[test]
fn a_program_that_ignores_sigterm_is_killed_after_stopwaitsecs() {
    let sb = Sandbox::new();
    let conf = sb.config(
        "",
        "[program:stubborn]\ncommand=/bin/sh -c \"trap '' TERM; echo ready; while :; do sleep 0.05; done\"\n\
         startsecs=0\nstopwaitsecs=1\nstopasgroup=true\n",
    );
    let mut d = sb.start(&conf);
    d.wait_log("success: stubborn entered RUNNING state", 5.0);
    let started = std::time::Instant::now();
    assert_eq!(d.stop(), Some(0));
    let log = d.log();
    assert!(log.contains("killing 'stubborn' ("), "{log}");
    assert!(log.contains(") with SIGKILL"), "{log}");
    assert!(
        log.contains("stopped: stubborn (terminated by SIGKILL)"),
        "{log}"
    );
    assert!(started.elapsed() >= std::time::Duration::from_millis(900));
}

#[test]
fn stopasgroup_takes_the_grandchildren_too() {
    let sb = Sandbox::new();
    let conf = sb.config(
        "",
        "[program:parent]\ncommand=/bin/sh -c 'sleep 1000 & sleep 1000 & wait'\nstartsecs=0\n\
         stopasgroup=true\n",
    );
    let mut d = sb.start(&conf);
    d.wait_log("success: parent entered RUNNING state", 5.0);
    let marker = sb.path().display().to_string();
    assert!(
        wait_for(5.0, || (common::processes_with_marker(&marker).len() >= 4)
            .then_some(()))
        .is_some()
    );
    assert_eq!(d.stop(), Some(0));
    // The harness (Drop) fails the test if any grandchild survived.
}

#[test]
fn orphans_are_reaped_and_no_zombie_is_left() {
    let sb = Sandbox::new();
    let conf = sb.config(
        "",
        "[program:forker]\ncommand=/bin/sh -c '(sleep 0.1 &) && exec sleep 1000'\nstartsecs=0\n",
    );
    let d = sb.start(&conf);
    d.wait_log("reaped unknown pid", 5.0);
    // No child of the daemon is a zombie.
    let daemon = d.pid();
    let zombies = std::fs::read_dir("/proc")
        .expect("/proc")
        .flatten()
        .filter_map(|e| {
            let pid: i32 = e.file_name().to_string_lossy().parse().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let rest = stat.rsplit(')').next()?.to_string();
            let mut f = rest.split_whitespace();
            let state = f.next()?.to_string();
            let ppid: i32 = f.next()?.parse().ok()?;
            (ppid == daemon && state == "Z").then_some(pid)
        })
        .count();
    assert_eq!(zombies, 0);
}

#[test]
fn children_get_only_stdio_their_environment_and_their_own_process_group() {
    let sb = Sandbox::new();
    let d0 = sb.path().display();
    let conf = sb.config(
        "",
        &format!(
            "[program:probe]\ncommand=/bin/sh -c 'ls /proc/self/fd > {d0}/fds; env > {d0}/env; \
             ps -o pgid= -p $$ > {d0}/pgid; exec sleep 1000'\n\
             environment=FOO=\"bar baz\",PATH=\"/usr/bin:/bin\"\ndirectory={d0}\numask=077\nstartsecs=0\n"
        ),
    );
    let d = sb.start(&conf);
    d.wait_log("success: probe entered RUNNING state", 5.0);
    let read = |name: &str| {
        wait_for(5.0, || {
            std::fs::read_to_string(sb.path().join(name))
                .ok()
                .filter(|s| !s.is_empty())
        })
    };
    let fds = read("fds").expect("fds");
    // ls opens one fd for the directory it lists.
    let fds: Vec<&str> = fds.split_whitespace().collect();
    assert_eq!(fds.len(), 4, "only 0, 1, 2 (and ls's own): {fds:?}");
    assert_eq!(&fds[..3], &["0", "1", "2"]);
    let env = read("env").expect("env");
    for var in [
        "SUPERVISOR_ENABLED=1",
        "SUPERVISOR_PROCESS_NAME=probe",
        "SUPERVISOR_GROUP_NAME=probe",
        "FOO=bar baz",
    ] {
        assert!(env.lines().any(|l| l == var), "{var} missing from:\n{env}");
    }
    let pgid = read("pgid").expect("pgid");
    let child = d.child_pid("sleep 1000").expect("child");
    assert_eq!(
        pgid.trim(),
        child.to_string(),
        "the child leads its own process group"
    );
    let meta = std::fs::metadata(sb.path().join("fds")).expect("fds file");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        meta.permissions().mode() & 0o777,
        0o600,
        "umask=077 applies"
    );
}

#[test]
fn priorities_order_start_and_reverse_order_stop() {
    let sb = Sandbox::new();
    let conf = sb.config(
        "",
        "[program:late]\ncommand=/bin/sh -c 'exec sleep 1000'\npriority=300\nstartsecs=0\n\
         [program:early]\ncommand=/bin/sh -c 'exec sleep 1000'\npriority=100\nstartsecs=0\n\
         [program:middle]\ncommand=/bin/sh -c 'exec sleep 1000'\npriority=200\nstartsecs=0\n",
    );
    let mut d = sb.start(&conf);
    d.wait_log_n("entered RUNNING state", 3, 5.0);
    d.stop();
    let log = d.log();
    let pos = |needle: &str| {
        log.find(needle)
            .unwrap_or_else(|| panic!("{needle} missing:\n{log}"))
    };
    assert!(pos("spawned: 'early'") < pos("spawned: 'middle'"));
    assert!(pos("spawned: 'middle'") < pos("spawned: 'late'"));
    assert!(pos("stopped: late") < pos("stopped: middle"));
    assert!(pos("stopped: middle") < pos("stopped: early"));
}

#[test]
fn sighup_restarts_with_the_edited_config_keeping_the_pid() {
    let sb = Sandbox::new();
    let conf = sb.config(
        "",
        "[program:one]\ncommand=/bin/sh -c 'exec sleep 1000'\nstartsecs=0\n",
    );
    let d = sb.start(&conf);
    d.wait_log("success: one entered RUNNING state", 5.0);
    sb.config(
        "",
        "[program:one]\ncommand=/bin/sh -c 'exec sleep 1000'\nstartsecs=0\n\
         [program:two]\ncommand=/bin/sh -c 'exec sleep 1000'\nstartsecs=0\n",
    );
    d.signal(libc::SIGHUP);
    d.wait_log("received SIGHUP indicating restart request", 5.0);
    d.wait_log("success: two entered RUNNING state", 5.0);
    d.wait_log_n("success: one entered RUNNING state", 2, 5.0);
    let log = d.log();
    assert!(
        log.contains("stopped: one (terminated by SIGTERM)"),
        "{log}"
    );
    assert_eq!(
        log.matches("supervisord started with pid").count(),
        2,
        "{log}"
    );
    let pids: Vec<&str> = log
        .lines()
        .filter_map(|l| l.split("supervisord started with pid ").nth(1))
        .collect();
    assert_eq!(pids, vec![d.pid().to_string(), d.pid().to_string()]);
}

#[test]
fn daemon_mode_detaches_writes_and_removes_the_pid_file() {
    let sb = Sandbox::new();
    let d0 = sb.path().display();
    let conf = sb.write(
        "d.conf",
        &format!(
            "[supervisord]\nlogfile={d0}/main.log\npidfile={d0}/d.pid\nchildlogdir={d0}\n\
             environment=SUPERVISOR_TEST_SANDBOX=\"{d0}\"\n\
             [program:bg]\ncommand=/bin/sh -c 'exec sleep 1000'\nstartsecs=0\n"
        ),
    );
    let r = sb.run("supervisord", &["-c", conf.to_str().expect("utf-8")]);
    assert_eq!(
        r.status,
        Some(0),
        "the parent exits 0 once the daemon is up: {r:?}"
    );
    let pidfile = sb.path().join("d.pid");
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .expect("pid file written before the parent exits")
        .trim()
        .parse()
        .expect("a pid");
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ours = std::fs::read_to_string("/proc/self/stat").expect("stat");
    let our_fields: Vec<&str> = ours
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    // Fields after the name: state ppid pgrp session tty_nr ...
    assert_ne!(
        fields.get(3),
        our_fields.get(3),
        "the daemon is in a session of its own"
    );
    assert_eq!(
        fields.get(4),
        Some(&"0"),
        "the daemon has no controlling terminal"
    );
    let log = || std::fs::read_to_string(sb.path().join("main.log")).unwrap_or_default();
    wait_for(5.0, || {
        log()
            .contains("success: bg entered RUNNING state")
            .then_some(())
    })
    .unwrap_or_else(|| panic!("bg never ran:\n{}", log()));
    // A second daemon on the same pid file refuses to start.
    let again = sb.run("supervisord", &["-c", conf.to_str().expect("utf-8"), "-n"]);
    assert_eq!(again.status, Some(2), "{again:?}");
    assert!(again.stderr.contains("is already running"), "{again:?}");
    // SAFETY-free: kill(2) through the libc crate.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    wait_for(10.0, || (!pidfile.exists()).then_some(())).expect("pid file removed at exit");
    let marker = sb.path().display().to_string();
    wait_for(5.0, || {
        common::processes_with_marker(&marker)
            .is_empty()
            .then_some(())
    })
    .expect("nothing left behind");
}

#[test]
fn user_switches_the_child_to_that_user_and_its_groups() {
    let sb = Sandbox::new();
    let d0 = sb.path().display();
    // The child (as nobody) must be able to write its answer here.
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir(sb.path().join("out")).expect("mkdir");
    std::fs::set_permissions(
        sb.path().join("out"),
        std::fs::Permissions::from_mode(0o777),
    )
    .expect("chmod");
    let conf = sb.config(
        "",
        &format!(
            "[program:who]\ncommand=/bin/sh -c 'id -u > {d0}/out/uid; id -g > {d0}/out/gid; exec sleep 1000'\n\
             user=nobody\nstartsecs=0\n"
        ),
    );
    let d = sb.start(&conf);
    d.wait_log("success: who entered RUNNING state", 5.0);
    let read = |n: &str| {
        wait_for(5.0, || {
            std::fs::read_to_string(sb.path().join("out").join(n))
                .ok()
                .filter(|s| !s.is_empty())
        })
        .unwrap_or_else(|| panic!("no {n}; log:\n{}", d.context()))
    };
    let nobody = supervisor::sys::user_by_name("nobody").expect("nobody exists");
    assert_eq!(read("uid").trim(), nobody.uid.to_string());
    assert_eq!(read("gid").trim(), nobody.gid.to_string());
}

#[test]
fn minfds_raises_the_open_file_limit() {
    let sb = Sandbox::new();
    let d0 = sb.path().display();
    let conf = sb.config(
        "minfds=4096",
        &format!("[program:lim]\ncommand=/bin/sh -c 'ulimit -n > {d0}/nofile; exec sleep 1000'\nstartsecs=0\n"),
    );
    let d = sb.start(&conf);
    d.wait_log("success: lim entered RUNNING state", 5.0);
    let n: u64 = wait_for(5.0, || {
        std::fs::read_to_string(sb.path().join("nofile"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
    })
    .expect("the child's limit");
    assert!(n >= 4096, "RLIMIT_NOFILE is {n}");
}

#[test]
fn a_mass_death_is_reaped_in_batches_and_every_program_comes_back() {
    // More children than one loop pass reaps: the rest are reaped on the
    // next passes (no SIGCHLD is left to announce them), and requests are
    // answered meanwhile.
    const N: usize = 60;
    let sb = Sandbox::new();
    let d = sb.path().display();
    let conf = sb.config(
        "",
        &format!(
            "[unix_http_server]\nfile={d}/s.sock\n\
             [rpcinterface:supervisor]\n\
             supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\
             [program:p]\n{}\nnumprocs={N}\nprocess_name=%(program_name)s_%(process_num)02d\n\
             startsecs=0\nautorestart=true\n",
            sleeper()
        ),
    );
    let mut daemon = sb.start(&conf);
    daemon.wait_rpc();
    daemon.wait_log_n("success: p_", N, 10.0);
    let names: Vec<String> = (0..N).map(|i| format!("p:p_{i:02}")).collect();
    let before: Vec<i32> = names.iter().map(|n| daemon.pid_of(n)).collect();
    assert!(before.iter().all(|&pid| pid > 0), "{before:?}");
    for &pid in &before {
        // SAFETY: kill(2) on a child of the daemon under test.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    let state = daemon.call("supervisor.getState", &[]);
    assert!(state.is_ok(), "getState during the mass death: {state:?}");
    daemon.wait_log_n("spawned: 'p_", 2 * N, 10.0);
    let back = wait_for(10.0, || {
        let after: Vec<i32> = names.iter().map(|n| daemon.pid_of(n)).collect();
        let all_new = after.iter().zip(&before).all(|(a, b)| *a > 0 && a != b);
        let running = names.iter().all(|n| daemon.state_of(n) == "RUNNING");
        (all_new && running).then_some(after)
    });
    assert!(
        back.is_some(),
        "not every program came back:\n{}",
        daemon.context()
    );
    let log = daemon.log();
    assert_eq!(log.matches("exited: p_").count(), N, "{log}");
    assert_eq!(daemon.stop(), Some(0));
}
