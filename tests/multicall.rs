//! One binary, three programs: dispatch on argv[0] or on the first word.

mod common;
use common::Sandbox;

const SAMPLE: &str = include_str!("../conf/sample.conf");

#[test]
fn argv0_picks_the_mode() {
    let sb = Sandbox::new();
    let echo = sb.run("echo_supervisord_conf", &[]);
    assert_eq!(echo.status, Some(0), "{echo:?}");
    assert_eq!(echo.stdout, SAMPLE);
    let echo = sb.run("/usr/local/bin/echo_supervisord_conf", &[]);
    assert_eq!(echo.stdout, SAMPLE);
    for name in ["supervisord", "supervisorctl", "/opt/x/bin/supervisord"] {
        let v = sb.run(name, &["-v"]);
        assert_eq!(
            (v.status, v.stdout.as_str()),
            (Some(0), "4.3.0\n"),
            "{name}: {v:?}"
        );
    }
}

#[test]
fn first_word_picks_the_mode_under_other_names() {
    let sb = Sandbox::new();
    for word in ["echo-conf", "echo_supervisord_conf"] {
        let echo = sb.run("supervisor", &[word]);
        assert_eq!(echo.stdout, SAMPLE, "{word}");
    }
    for word in ["daemon", "supervisord", "ctl", "supervisorctl"] {
        let v = sb.run("supervisor", &[word, "--version"]);
        assert_eq!(v.stdout, "4.3.0\n", "{word}: {v:?}");
    }
    let usage = sb.run("supervisor", &[]);
    assert_eq!(usage.status, Some(2));
    assert!(
        usage.stderr.contains("usage: supervisor <mode>"),
        "{usage:?}"
    );
    let bogus = sb.run("supervisor", &["frobnicate"]);
    assert_eq!(bogus.status, Some(2));
    let help = sb.run("supervisor", &["--help"]);
    assert_eq!(help.status, Some(0));
    assert!(help.stdout.contains("echo_supervisord_conf"));
}

#[test]
fn each_mode_has_help() {
    let sb = Sandbox::new();
    for (name, must) in [
        ("supervisord", "--nodaemon"),
        ("supervisorctl", "--serverurl"),
        ("echo_supervisord_conf", "--version"),
    ] {
        for flag in ["-h", "--help"] {
            let h = sb.run(name, &[flag]);
            assert_eq!(h.status, Some(0), "{name} {flag}: {h:?}");
            assert!(h.stdout.contains(must), "{name} {flag}: {h:?}");
        }
    }
}

#[test]
fn bad_command_lines_are_usage_errors() {
    let sb = Sandbox::new();
    for (name, args, message) in [
        (
            "supervisord",
            &["-x"][..],
            "Error: option -x not recognized",
        ),
        (
            "supervisord",
            &["-c"][..],
            "Error: option -c requires argument",
        ),
        (
            "supervisord",
            &["extra"][..],
            "Error: positional arguments are not supported",
        ),
        ("supervisord", &["-m", "999"][..], "--umask"),
        ("supervisord", &["-e", "loud"][..], "bad logging level name"),
        (
            "supervisord",
            &["-n", "-n"][..],
            "conflicting command line option",
        ),
        ("supervisorctl", &["-s", "nourl"][..], "is not a URL"),
    ] {
        let r = sb.run(name, args);
        assert_eq!(r.status, Some(2), "{name} {args:?}: {r:?}");
        assert!(r.stderr.contains(message), "{name} {args:?}: {r:?}");
        assert!(
            r.stderr.contains(&format!("For help, use {name} -h")),
            "{r:?}"
        );
    }
}

#[test]
fn without_a_config_file_the_search_path_is_named() {
    let sb = Sandbox::new();
    let r = sb.run("/nonexistent/bin/supervisord", &[]);
    assert_eq!(r.status, Some(2), "{r:?}");
    for path in [
        "/nonexistent/etc/supervisord.conf",
        "/nonexistent/supervisord.conf",
        "etc/supervisord.conf",
        "/etc/supervisor/supervisord.conf",
    ] {
        assert!(r.stderr.contains(path), "{path}: {r:?}");
    }
    // Found in the working directory when present there.
    sb.write(
        "supervisord.conf",
        "[supervisord]\n[program:x]\ncommand=/bin/true\n",
    );
    let r = sb.run("/nonexistent/bin/supervisord", &["--dump-config"]);
    assert_eq!(r.status, Some(0), "{r:?}");
    assert!(r.stdout.contains("\"command\": \"/bin/true\""), "{r:?}");
}

#[test]
fn command_line_options_override_the_file() {
    let sb = Sandbox::new();
    let conf = sb.write(
        "s.conf",
        "[supervisord]\nloglevel=warn\nidentifier=fromfile\nnodaemon=false\nlogfile_maxbytes=1KB\n",
    );
    let conf = conf.to_str().expect("utf-8 path");
    let r = sb.run(
        "supervisord",
        &[
            "-c",
            conf,
            "--dump-config",
            "-e",
            "debug",
            "-i",
            "fromcli",
            "-n",
            "--logfile_maxbytes=2KB",
        ],
    );
    assert_eq!(r.status, Some(0), "{r:?}");
    let json: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    let sd = &json["supervisord"];
    assert_eq!(sd["loglevel"], 10);
    assert_eq!(sd["identifier"], "fromcli");
    assert_eq!(sd["nodaemon"], true);
    assert_eq!(sd["logfile_maxbytes"], 2048);
}
