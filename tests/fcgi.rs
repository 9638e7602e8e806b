//! `[fcgi-program:x]`: the daemon owns the socket, every process gets it
//! as fd 0, and it survives the processes' restarts.

mod common;
use common::{wait_for, Sandbox};

fn fd0_of(pid: i32) -> Option<String> {
    std::fs::read_link(format!("/proc/{pid}/fd/0"))
        .ok()
        .map(|p| p.to_string_lossy().into_owned())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

#[test]
fn processes_share_one_socket_that_survives_restarts() {
    let sb = Sandbox::new();
    let port = free_port();
    let conf = sb.config(
        "",
        &format!(
            "[fcgi-program:app]\nsocket=tcp://127.0.0.1:{port}\nnumprocs=2\nprocess_name=%(program_name)s_%(process_num)d\n\
             command=/bin/sh -c 'exec sleep 1000'\nstartsecs=0\nautorestart=true\n"
        ),
    );
    let d = sb.start(&conf);
    d.wait_log_n("entered RUNNING state", 2, 5.0);
    d.wait_log(&format!("Creating socket tcp://127.0.0.1:{port}"), 5.0);
    let pids = || -> Vec<i32> {
        let marker = sb.path().display().to_string();
        common::processes_with_marker(&marker)
    };
    let sockets = wait_for(5.0, || {
        let s: Vec<String> = pids()
            .into_iter()
            .filter_map(fd0_of)
            .filter(|l| l.starts_with("socket:"))
            .collect();
        (s.len() == 2).then_some(s)
    })
    .unwrap_or_else(|| panic!("two children with a socket as fd 0; log:\n{}", d.context()));
    assert_eq!(
        sockets[0], sockets[1],
        "one socket shared by both processes"
    );
    // The socket listens: connections are queued for the processes.
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    // Kill one process: it is restarted with the same socket.
    let victim = d.child_pid("sleep 1000").expect("a child");
    // SAFETY-free: kill(2) through the libc crate.
    unsafe { libc::kill(victim, libc::SIGKILL) };
    d.wait_log("exited: app_", 5.0);
    d.wait_log_n("entered RUNNING state", 3, 5.0);
    let after = wait_for(5.0, || {
        let s: Vec<String> = pids()
            .into_iter()
            .filter(|&p| p != victim)
            .filter_map(fd0_of)
            .filter(|l| l.starts_with("socket:"))
            .collect();
        (s.len() == 2).then_some(s)
    })
    .expect("two children again");
    assert_eq!(after, sockets, "the same socket after the restart");
    assert!(!d.log().contains("Closing socket"), "{}", d.log());
}

#[test]
fn a_unix_fcgi_socket_gets_its_mode_and_is_removed_when_stopped() {
    let sb = Sandbox::new();
    let d0 = sb.path().display();
    let conf = sb.config(
        "",
        &format!(
            "[unix_http_server]\nfile={d0}/s.sock\n\
             [fcgi-program:app]\nsocket=unix://{d0}/app.sock\nsocket_mode=0660\n\
             command=/bin/sh -c 'exec sleep 1000'\nstartsecs=0\n"
        ),
    );
    let mut d = sb.start(&conf);
    d.wait_log("success: app entered RUNNING state", 5.0);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(sb.path().join("app.sock"))
        .expect("socket file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o660);
    d.stop();
    assert!(
        d.log()
            .contains(&format!("Closing socket unix://{d0}/app.sock")),
        "{}",
        d.log()
    );
    assert!(!sb.path().join("app.sock").exists());
}
