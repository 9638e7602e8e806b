//! Changing the configuration at runtime: reloadConfig's added / changed /
//! removed, addProcessGroup / removeProcessGroup and their faults, and the
//! processes of unchanged groups keeping their pids.

mod common;
use common::{wait_for, Sandbox};
use supervisor::rpc::xmlrpc::{faults, Value};

fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or(&[])
        .iter()
        .filter_map(|n| n.as_str().map(str::to_string))
        .collect()
}

const BASE: &str = "[program:keep]\ncommand=/bin/sh -c 'exec sleep 1000'\nstartsecs=0\n\
                    [program:change]\ncommand=/bin/sh -c 'exec sleep 1000'\nstartsecs=0\n\
                    [program:gone]\ncommand=/bin/sh -c 'exec sleep 1000'\nstartsecs=0\n";

fn socket_section(sb: &Sandbox) -> String {
    format!("[unix_http_server]\nfile={}/s.sock\n", sb.path().display())
}

#[test]
fn reread_and_update_keep_unchanged_processes_running() {
    let sb = Sandbox::new();
    let conf = sb.config("", &format!("{}{BASE}", socket_section(&sb)));
    let d = sb.start(&conf);
    d.wait_rpc();
    d.wait_log_n("entered RUNNING state", 3, 5.0);
    let keep_pid = d.pid_of("keep");

    // Edit: change a command, remove one, add one and a numprocs group.
    sb.config(
        "",
        &format!(
            "{}[program:keep]\ncommand=/bin/sh -c 'exec sleep 1000'\nstartsecs=0\n\
             [program:change]\ncommand=/bin/sh -c 'exec sleep 1001'\nstartsecs=0\n\
             [program:new]\ncommand=/bin/sh -c 'exec sleep 1000'\nstartsecs=0\nnumprocs=2\n\
             process_name=%(program_name)s_%(process_num)d\n",
            socket_section(&sb)
        ),
    );
    let diff = d
        .call("supervisor.reloadConfig", &[])
        .expect("reloadConfig");
    let inner = diff
        .as_array()
        .and_then(|a| a.first())
        .expect("[[added, changed, removed]]");
    let parts = inner.as_array().expect("three lists");
    assert_eq!(names(&parts[0]), vec!["new"]);
    assert_eq!(names(&parts[1]), vec!["change"]);
    assert_eq!(names(&parts[2]), vec!["gone"]);

    // What `supervisorctl update` does with that diff.
    d.call("supervisor.stopProcessGroup", &["gone".into()])
        .expect("stop gone");
    d.call("supervisor.removeProcessGroup", &["gone".into()])
        .expect("remove gone");
    d.call("supervisor.stopProcessGroup", &["change".into()])
        .expect("stop change");
    d.call("supervisor.removeProcessGroup", &["change".into()])
        .expect("remove change");
    d.call("supervisor.addProcessGroup", &["change".into()])
        .expect("add change");
    d.call("supervisor.addProcessGroup", &["new".into()])
        .expect("add new");
    wait_for(5.0, || {
        (d.state_of("new:new_1") == "RUNNING" && d.state_of("change") == "RUNNING").then_some(())
    })
    .unwrap_or_else(|| panic!("new processes did not start; log:\n{}", d.context()));
    assert_eq!(
        d.pid_of("keep"),
        keep_pid,
        "an unchanged program keeps its pid"
    );
    let fault = d
        .call("supervisor.getProcessInfo", &["gone".into()])
        .expect_err("gone is gone");
    assert_eq!(fault.code, faults::BAD_NAME);
    assert!(
        d.child_pid("sleep 1001").is_some(),
        "the changed command runs"
    );
}

#[test]
fn group_operations_fault_as_the_reference() {
    let sb = Sandbox::new();
    let conf = sb.config("", &format!("{}{BASE}", socket_section(&sb)));
    let d = sb.start(&conf);
    d.wait_rpc();
    d.wait_log_n("entered RUNNING state", 3, 5.0);
    let code = |method: &str, name: &str| {
        d.call(method, &[name.into()])
            .map(|_| 0)
            .unwrap_or_else(|f| f.code)
    };
    assert_eq!(
        code("supervisor.removeProcessGroup", "keep"),
        faults::STILL_RUNNING
    );
    assert_eq!(
        code("supervisor.removeProcessGroup", "nope"),
        faults::BAD_NAME
    );
    assert_eq!(
        code("supervisor.addProcessGroup", "keep"),
        faults::ALREADY_ADDED
    );
    assert_eq!(code("supervisor.addProcessGroup", "nope"), faults::BAD_NAME);
}

#[test]
fn a_broken_config_on_reread_changes_nothing() {
    let sb = Sandbox::new();
    let conf = sb.config("", &format!("{}{BASE}", socket_section(&sb)));
    let d = sb.start(&conf);
    d.wait_rpc();
    d.wait_log_n("entered RUNNING state", 3, 5.0);
    let before = d.pid_of("keep");
    sb.config(
        "",
        &format!(
            "{}{BASE}[program:bad]\ncommand=/bin/true\nstartsecs=never\n",
            socket_section(&sb)
        ),
    );
    let fault = d.call("supervisor.reloadConfig", &[]).expect_err("refused");
    assert_eq!(fault.code, faults::CANT_REREAD);
    assert!(fault.string.contains("startsecs"), "{}", fault.string);
    assert_eq!(d.pid_of("keep"), before);
    assert_eq!(
        d.call("supervisor.getState", &[]).ok().and_then(|s| s
            .get("statename")
            .and_then(|v| v.as_str())
            .map(str::to_string)),
        Some("RUNNING".to_string())
    );
}

#[test]
fn restart_over_rpc_rereads_the_file_and_keeps_the_daemon_pid() {
    let sb = Sandbox::new();
    let conf = sb.config("", &format!("{}{BASE}", socket_section(&sb)));
    let d = sb.start(&conf);
    d.wait_rpc();
    d.wait_log_n("entered RUNNING state", 3, 5.0);
    let daemon_pid = d
        .call("supervisor.getPID", &[])
        .ok()
        .and_then(|v| v.as_int());
    sb.config(
        "",
        &format!(
            "{}[program:only]\ncommand=/bin/sh -c 'exec sleep 1000'\nstartsecs=0\n",
            socket_section(&sb)
        ),
    );
    d.call("supervisor.restart", &[]).expect("restart");
    d.wait_log("success: only entered RUNNING state", 10.0);
    d.wait_rpc();
    assert_eq!(
        d.call("supervisor.getPID", &[])
            .ok()
            .and_then(|v| v.as_int()),
        daemon_pid
    );
    assert_eq!(
        d.call("supervisor.getProcessInfo", &["keep".into()])
            .map(|_| ())
            .unwrap_err()
            .code,
        faults::BAD_NAME
    );
}
