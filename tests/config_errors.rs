//! Every kind of bad configuration: the daemon exits with status 2 before
//! starting anything, with one message naming the file, line, section,
//! option and bad value. Tests as data: (what, config, expected fragments).

mod common;
use common::Sandbox;

const CASES: &[(&str, &str, &[&str])] = &[
    (
        "unknown signal name",
        "[supervisord]\n[program:web]\ncommand=/bin/true\nstopsignal=FOO\n",
        &["line 4", "[program:web] stopsignal", "\"FOO\" is not a valid signal name"],
    ),
    (
        "non-numeric startsecs",
        "[supervisord]\n[program:web]\ncommand=/bin/true\nstartsecs=soon\n",
        &["line 4", "[program:web] startsecs", "\"soon\" is not a valid integer"],
    ),
    (
        "numprocs without process_num",
        "[supervisord]\n[program:web]\ncommand=/bin/true\nnumprocs=2\n",
        &["[program:web] process_name", "%(process_num) must be present"],
    ),
    (
        "missing command",
        "[supervisord]\n[program:web]\nautostart=true\n",
        &["line 2", "[program:web]", "does not specify a command"],
    ),
    (
        "group naming an unknown program",
        "[supervisord]\n[group:g]\nprograms=a,ghost\n[program:a]\ncommand=/bin/true\n",
        &["[group:g] programs", "unknown program or fcgi-program ghost"],
    ),
    (
        "duplicate process names in a group",
        "[supervisord]\n[group:g]\nprograms=a,b\n[program:a]\ncommand=/bin/true\nprocess_name=same\n\
         [program:b]\ncommand=/bin/true\nprocess_name=same\n",
        &["duplicate process name same in group g"],
    ),
    (
        "a program and a listener with the same name",
        "[supervisord]\n[program:x]\ncommand=/bin/true\n[eventlistener:x]\ncommand=/bin/true\nevents=TICK_5\n",
        &["group name x is already used"],
    ),
    (
        "bad boolean",
        "[supervisord]\n[program:web]\ncommand=/bin/true\nautostart=perhaps\n",
        &["line 4", "[program:web] autostart", "\"perhaps\" is not a valid boolean"],
    ),
    (
        "bad byte size",
        "[supervisord]\nlogfile_maxbytes=12XB\n",
        &["line 2", "[supervisord] logfile_maxbytes", "\"12XB\""],
    ),
    (
        "bad umask",
        "[supervisord]\numask=089\n",
        &["[supervisord] umask", "\"089\" can not be converted to an octal type"],
    ),
    (
        "exit code out of range",
        "[supervisord]\n[program:web]\ncommand=/bin/true\nexitcodes=0,256\n",
        &["[program:web] exitcodes", "\"0,256\""],
    ),
    (
        "unknown expansion name",
        "[supervisord]\n[program:web]\ncommand=/bin/echo %(nope)s\n",
        &["line 3", "[program:web] command", "('nope')", "available names"],
    ),
    (
        "bad log level",
        "[supervisord]\nloglevel=loud\n",
        &["[supervisord] loglevel", "bad logging level name \"loud\""],
    ),
    (
        "listener without events",
        "[supervisord]\n[eventlistener:l]\ncommand=/bin/true\n",
        &["[eventlistener:l]", "requires an \"events\" line"],
    ),
    (
        "listener with an unknown event",
        "[supervisord]\n[eventlistener:l]\ncommand=/bin/true\nevents=TICK_5,TOCK\n",
        &["[eventlistener:l] events", "unknown event type TOCK"],
    ),
    (
        "listener with redirect_stderr",
        "[supervisord]\n[eventlistener:l]\ncommand=/bin/true\nevents=TICK_5\nredirect_stderr=true\n",
        &["[eventlistener:l] redirect_stderr", "not allowed"],
    ),
    (
        "incomplete authentication",
        "[supervisord]\n[unix_http_server]\nfile=/tmp/x.sock\nusername=alice\n",
        &["[unix_http_server]", "incomplete authentication"],
    ),
    (
        "port that is not a number",
        "[supervisord]\n[inet_http_server]\nport=127.0.0.1:http\n",
        &["[inet_http_server] port", "\"http\" is not a valid port number"],
    ),
    (
        "no supervisord section",
        "[program:web]\ncommand=/bin/true\n",
        &["has no [supervisord] section"],
    ),
    (
        "a line that is not an option",
        "[supervisord]\nthis is not an option\n",
        &["line 2", "expected 'key = value'"],
    ),
    (
        "no section header",
        "command=/bin/true\n",
        &["line 1", "no section header"],
    ),
    (
        "a name with a space",
        "[supervisord]\n[program:my web]\ncommand=/bin/true\n",
        &["[program:my web]", "invalid name"],
    ),
    (
        "stopasgroup without killasgroup",
        "[supervisord]\n[program:web]\ncommand=/bin/true\nstopasgroup=true\nkillasgroup=false\n",
        &["[program:web] killasgroup", "cannot set stopasgroup=true and killasgroup=false"],
    ),
    (
        "rotating a stream",
        "[supervisord]\n[program:web]\ncommand=/bin/true\nstdout_logfile=/dev/stdout\n",
        &["[program:web] stdout_logfile_maxbytes", "set stdout_logfile_maxbytes=0"],
    ),
    (
        "bad autorestart",
        "[supervisord]\n[program:web]\ncommand=/bin/true\nautorestart=sometimes\n",
        &["[program:web] autorestart", "invalid 'autorestart' value"],
    ),
    (
        "unknown user",
        "[supervisord]\n[program:web]\ncommand=/bin/true\nuser=no-such-user-here\n",
        &["[program:web] user", "invalid user name no-such-user-here"],
    ),
    (
        "log directory that does not exist",
        "[supervisord]\n[program:web]\ncommand=/bin/true\nstdout_logfile=/no/such/dir/out.log\n",
        &["[program:web] stdout_logfile", "/no/such/dir/out.log does not exist"],
    ),
    (
        "badly formatted expansion",
        "[supervisord]\n[program:web]\ncommand=/bin/echo 100%\n",
        &["[program:web] command", "badly formatted"],
    ),
    (
        "buffer_size below one",
        "[supervisord]\n[eventlistener:l]\ncommand=/bin/true\nevents=TICK_5\nbuffer_size=0\n",
        &["[eventlistener:l] buffer_size", "invalid buffer_size (0)"],
    ),
    (
        "fcgi socket in a bad format",
        "[supervisord]\n[fcgi-program:f]\ncommand=/bin/true\nsocket=udp://x:1\n",
        &["[fcgi-program:f] socket", "bad socket format udp://x:1"],
    ),
    (
        "include without files",
        "[supervisord]\n[include]\n",
        &["[include]", "no files= setting"],
    ),
];

#[test]
fn every_bad_config_is_refused_with_a_precise_message() {
    let sb = Sandbox::new();
    let mut failures = Vec::new();
    for (i, (what, text, fragments)) in CASES.iter().enumerate() {
        let conf = sb.write(&format!("case{i}.conf"), text);
        let conf = conf.to_str().expect("utf-8 path");
        let r = sb.run("supervisord", &["-c", conf]);
        let ok = r.status == Some(2)
            && r.stderr.contains(conf)
            && r.stderr.starts_with("Error: ")
            && fragments.iter().all(|f| r.stderr.contains(f));
        if !ok {
            failures.push(format!("{what}: expected {fragments:?}\n{r:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn included_files_cannot_include() {
    let sb = Sandbox::new();
    let main = sb.write(
        "main.conf",
        "[supervisord]\n[include]\nfiles=conf.d/*.conf\n",
    );
    sb.write("conf.d/a.conf", "[program:a]\ncommand=/bin/true\n");
    let nested = sb.write("conf.d/b.conf", "[include]\nfiles=more/*.conf\n");
    let r = sb.run("supervisord", &["-c", main.to_str().expect("utf-8")]);
    assert_eq!(r.status, Some(2), "{r:?}");
    assert!(r.stderr.contains(nested.to_str().expect("utf-8")), "{r:?}");
    assert!(r.stderr.contains("line 1: [include]"), "{r:?}");
}

#[test]
fn errors_in_included_files_name_that_file() {
    let sb = Sandbox::new();
    let main = sb.write(
        "main.conf",
        "[supervisord]\n[include]\nfiles=conf.d/*.conf\n",
    );
    let inc = sb.write(
        "conf.d/a.conf",
        "\n[program:a]\ncommand=/bin/true\nstartretries=many\n",
    );
    let r = sb.run("supervisord", &["-c", main.to_str().expect("utf-8")]);
    assert_eq!(r.status, Some(2), "{r:?}");
    let expected = format!("{}, line 4: [program:a] startretries", inc.display());
    assert!(r.stderr.contains(&expected), "{r:?}");
}

#[test]
fn a_missing_config_file_is_named() {
    let sb = Sandbox::new();
    let r = sb.run("supervisord", &["-c", "/no/such/supervisord.conf"]);
    assert_eq!(r.status, Some(2), "{r:?}");
    assert!(r.stderr.contains("/no/such/supervisord.conf"), "{r:?}");
    assert!(r.stderr.contains("could not find config file"), "{r:?}");
}

#[test]
fn invalid_utf8_is_an_error_not_a_panic() {
    let sb = Sandbox::new();
    let path = sb.path().join("bad.conf");
    std::fs::write(&path, b"[supervisord]\nidentifier=\xff\xfe\n").expect("write");
    let r = sb.run("supervisord", &["-c", path.to_str().expect("utf-8")]);
    assert_eq!(r.status, Some(2), "{r:?}");
    assert!(r.stderr.contains("not valid UTF-8"), "{r:?}");
}
