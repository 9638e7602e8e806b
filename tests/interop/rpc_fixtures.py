"""Shared fixtures and helpers for the XML-RPC interop suite (test_rpc*.py).

The same tests run against our daemon (default; binary from SUPERVISOR_BIN, else
target/debug/supervisor) and against the reference Supervisor 4.3.0
(RPC_DAEMON=reference; started as `python -m supervisor.supervisord` with the Python running
pytest).  Passing against the reference is what shows the tests themselves are right.

Every test gets a fresh daemon in a short temporary directory (unix socket paths are limited
to ~108 bytes) with a unix socket and an inet server on 127.0.0.1:<free port>.  Every process
the daemon starts carries RPCTEST_MARKER=<token> (set through [supervisord] environment= and
in the daemon's own environment).  The finalizer stops the daemon (ours: SIGTERM, and it must
exit within 20 s; the reference: SIGKILL, see Daemon.stop), kills its process group, then
scans /proc for the marker: any survivor is killed and fails the test.

Run:  SUPERVISOR_BIN=target/debug/supervisor .venv/bin/python -m pytest tests/interop/test_rpc*.py
      RPC_DAEMON=reference .venv/bin/python -m pytest tests/interop/test_rpc*.py

Synchronisation is by polling with deadlines (`wait_for`), never by a bare sleep.
"""
import datetime
import hashlib
import http.client
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import xmlrpc.client
from pathlib import Path

import pytest
# Re-exported to the test modules (they import * from here).
from interop_common import (TIMEOUT, UnixTransport, daemon_command, free_port,  # noqa: F401
                            proc_alive, stop_daemon, unix_connection, wait_for)

KIND = os.environ.get('RPC_DAEMON', 'ours')
assert KIND in ('ours', 'reference'), 'RPC_DAEMON must be "ours" or "reference"'
REFERENCE = KIND == 'reference'
REPO = Path(__file__).resolve().parents[2]
MARKER_VAR = 'RPCTEST_MARKER'

# Fault codes (supervisor.xmlrpc.Faults)
UNKNOWN_METHOD = 1
INCORRECT_PARAMETERS = 2
BAD_ARGUMENTS = 3
SIGNATURE_UNSUPPORTED = 4
SHUTDOWN_STATE = 6
BAD_NAME = 10
BAD_SIGNAL = 11
NO_FILE = 20
NOT_EXECUTABLE = 21
FAILED = 30
ABNORMAL_TERMINATION = 40
SPAWN_ERROR = 50
ALREADY_STARTED = 60
NOT_RUNNING = 70
SUCCESS = 80
ALREADY_ADDED = 90
STILL_RUNNING = 91
CANT_REREAD = 92

RUNNING_STATES = ('RUNNING', 'BACKOFF', 'STARTING')
STOPPED_STATES = ('STOPPED', 'EXITED', 'FATAL', 'UNKNOWN')


def reference_skip(reason):
    """Skip a test for the reference daemon only (it would hang or crash there)."""
    return pytest.mark.skipif(REFERENCE, reason='reference: ' + reason)


def sha1_hex(text):
    return hashlib.sha1(text.encode()).hexdigest()


# --------------------------------------------------------------------------- clients

class TcpTransport(xmlrpc.client.Transport):
    """Plain xmlrpc.client transport (http://127.0.0.1:PORT/RPC2), with a socket timeout."""

    def __init__(self, timeout=TIMEOUT):
        super().__init__()
        self._timeout = timeout

    def make_connection(self, host):
        conn = super().make_connection(host)
        conn.timeout = self._timeout
        return conn


def http_connection(daemon, transport, timeout=TIMEOUT):
    """A raw http.client connection to the daemon over `transport` ('unix' or 'inet')."""
    if transport == 'unix':
        return unix_connection(daemon.sock_path, timeout)
    return http.client.HTTPConnection('127.0.0.1', daemon.port, timeout=timeout)


def raw_socket(daemon, transport, timeout=10):
    if transport == 'unix':
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(daemon.sock_path)
    else:
        s = socket.create_connection(('127.0.0.1', daemon.port), timeout=timeout)
    return s


def basic_auth(user, password):
    import base64
    return 'Basic ' + base64.b64encode(('%s:%s' % (user, password)).encode()).decode()


def http_request(daemon, transport, method, path, body=None, headers=None, timeout=TIMEOUT):
    """One request; returns (status, headers dict (lower-case keys), body bytes)."""
    conn = http_connection(daemon, transport, timeout)
    try:
        hdrs = {'Host': 'localhost'}
        if body is not None:
            hdrs['Content-Type'] = 'text/xml'
        hdrs.update(headers or {})
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    finally:
        conn.close()


def xml_call(method, *raw_params):
    """A methodCall body whose params are given as raw <value> XML (to send <int>1 etc.)."""
    params = ''.join('<param>%s</param>' % p for p in raw_params)
    return ('<?xml version="1.0"?><methodCall><methodName>%s</methodName>'
            '<params>%s</params></methodCall>' % (method, params)).encode()


def raw_rpc(daemon, transport, body, headers=None):
    """POST a raw body to /RPC2; returns the unmarshalled result (raises Fault)."""
    status, _, data = http_request(daemon, transport, 'POST', '/RPC2', body, headers)
    assert status == 200, 'HTTP %s: %r' % (status, data[:300])
    result, _ = xmlrpc.client.loads(data)
    return result[0]


def assert_fault(code, func, *args, text=None, prefix=None):
    """Call func(*args); it must raise a Fault with `code` (and exact `text` / `prefix`)."""
    try:
        result = func(*args)
    except xmlrpc.client.Fault as f:
        fault = f
    else:
        pytest.fail('expected fault %s (%s), got result %r' % (code, text or prefix, result))
    assert fault.faultCode == code, 'expected fault %s, got %s %r' % (
        code, fault.faultCode, fault.faultString)
    if text is not None:
        assert fault.faultString == text, 'expected %r, got %r' % (text, fault.faultString)
    if prefix is not None:
        assert fault.faultString.startswith(prefix), fault.faultString
    return fault


def expect_faults(cases):
    """Check several calls at once; fail listing every mismatch (not just the first).

    `cases`: (code, text, callable, args...) tuples; text None means any text."""
    problems = []
    for code, text, func, *args in cases:
        label = '%s%r' % (getattr(func, '_Method__name', func), tuple(args))
        try:
            result = func(*args)
        except xmlrpc.client.Fault as f:
            if f.faultCode != code or (text is not None and f.faultString != text):
                problems.append('%s: expected fault %s %r, got %s %r'
                                % (label, code, text, f.faultCode, f.faultString))
        except Exception as e:  # noqa: BLE001 - reported
            problems.append('%s: expected fault %s %r, got %r' % (label, code, text, e))
        else:
            problems.append('%s: expected fault %s %r, got result %r'
                            % (label, code, text, result))
    assert not problems, '\n'.join(problems)


# --------------------------------------------------------------------------- programs

def programs(d):
    """The programs of the standard test config, keyed by name; `d` is the daemon dir.

    Priorities are all distinct and chosen so that priority order differs from lexical order.
    """
    sleep = "/bin/sh -c 'exec sleep 1000'"
    return {
        'cat': dict(command='/bin/cat', startsecs=0, priority=100),
        'echo': dict(command='/bin/sh -c "echo out-text; echo err-text 1>&2; exec sleep 1000"',
                     startsecs=0, priority=200),
        'sleeper': dict(command=sleep, startsecs=0, priority=300),
        'trapper': dict(command='/bin/sh -c "trap \'echo got-usr1\' USR1; echo ready; '
                        'while true; do sleep 1 & wait $!; done"',
                        startsecs=0, priority=400, stopasgroup='true', killasgroup='true'),
        'idle': dict(command=sleep, startsecs=0, autostart='false', priority=600),
        'slow': dict(command=sleep, startsecs=1, autostart='false', priority=700),
        'stubborn': dict(command='/bin/sh -c "trap \'\' TERM; exec sleep 1000"', startsecs=0,
                         autostart='false', stopwaitsecs=1, priority=800),
        'nolog': dict(command=sleep, startsecs=0, autostart='false', priority=900,
                      stdout_logfile='NONE', stderr_logfile='NONE'),
        'quickexit': dict(command='/bin/false', startsecs=1, startretries=0, priority=950),
        'missing': dict(command='/nonexistent/prog', startsecs=0, startretries=0, priority=960),
        'noexec': dict(command=str(d / 'noexec.sh'), startsecs=0, autostart='false',
                       priority=970),
        'noinput': dict(command='/bin/sh -c "exec 0<&-; exec sleep 1000"', startsecs=0,
                        autostart='false', priority=975),
        'flappy': dict(command='/bin/false', startsecs=1, startretries=5, autostart='false',
                       priority=985),
        'exiter': dict(command="/bin/sh -c 'exit 3'", startsecs=0, autostart='false',
                       autorestart='false', priority=980),
        # group g: priority 50 (first), gb before ga inside it
        'ga': dict(command=sleep, startsecs=0, priority=20),
        'gb': dict(command=sleep, startsecs=0, priority=10),
    }


GROUPS = {'g': dict(programs='ga,gb', priority=50)}
# name -> group
GROUP_OF = {'ga': 'g', 'gb': 'g'}
# autostarted programs and the state each settles in
SETTLED = {'cat': 'RUNNING', 'echo': 'RUNNING', 'sleeper': 'RUNNING', 'trapper': 'RUNNING',
           'ga': 'RUNNING', 'gb': 'RUNNING', 'quickexit': 'FATAL', 'missing': 'FATAL'}


def namespec(name):
    group = GROUP_OF.get(name, name)
    return name if group == name else '%s:%s' % (group, name)


def lexical_order(progs):
    return sorted(progs, key=lambda n: (GROUP_OF.get(n, n), n))


def priority_order(progs, all_progs):
    def key(n):
        g = GROUP_OF.get(n)
        gprio = GROUPS[g]['priority'] if g else all_progs[n]['priority']
        return (gprio, all_progs[n]['priority'])
    return sorted(progs, key=key)


# --------------------------------------------------------------------------- daemon

class Daemon:
    def __init__(self, auth=None, chmod=None, only=None, settle=True):
        self.dir = Path(tempfile.mkdtemp(prefix='rpct', dir='/tmp'))
        self.sock_path = str(self.dir / 'sv.sock')
        self.port = free_port()
        self.conf = self.dir / 'supervisord.conf'
        self.logfile = self.dir / 'supervisord.log'
        self.marker = secrets.token_hex(8)
        self.auth = auth  # (username, password-as-configured, password-to-send)
        self.chmod = chmod
        self.progs = programs(self.dir)
        self.groups = dict(GROUPS)
        if only is not None:  # a smaller config: these programs (and their groups) only
            self.progs = {n: p for n, p in self.progs.items() if n in only}
            self.groups = {g: o for g, o in self.groups.items()
                           if any(GROUP_OF.get(n) == g for n in self.progs)}
        self.settle = settle
        self.proc = None
        (self.dir / 'noexec.sh').write_text('#!/bin/sh\nexit 0\n')
        os.chmod(self.dir / 'noexec.sh', 0o644)

    # -- config
    def logpath(self, name, channel='stdout'):
        prog = self.progs[name]
        value = prog.get('%s_logfile' % channel)
        if value is None:
            return self.dir / ('%s.%s' % (name, 'out' if channel == 'stdout' else 'err'))
        return None if value == 'NONE' else Path(value)

    def config_text(self, progs=None, groups=None, extra=''):
        progs = self.progs if progs is None else progs
        groups = self.groups if groups is None else groups
        auth = ''
        if self.auth:
            auth = 'username=%s\npassword=%s\n' % (self.auth[0], self.auth[1])
        chmod = 'chmod=%s\n' % self.chmod if self.chmod else ''
        out = [
            '[unix_http_server]\nfile=%s\n%s%s' % (self.sock_path, chmod, auth),
            '[inet_http_server]\nport=127.0.0.1:%d\n%s' % (self.port, auth),
            '[supervisord]\nlogfile=%s\npidfile=%s\nchildlogdir=%s\nloglevel=info\n'
            'identifier=rpctest-ident\nnodaemon=true\nenvironment=%s="%s"\n'
            % (self.logfile, self.dir / 'supervisord.pid', self.dir, MARKER_VAR, self.marker),
            '[rpcinterface:supervisor]\n'
            'supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n',
        ]
        for name, opts in progs.items():
            opts = dict(opts)
            opts.setdefault('stdout_logfile', self.dir / ('%s.out' % name))
            opts.setdefault('stderr_logfile', self.dir / ('%s.err' % name))
            opts.setdefault('stopwaitsecs', 5)
            body = ''.join('%s=%s\n' % (k, v) for k, v in opts.items())
            out.append('[program:%s]\n%s' % (name, body))
        for name, opts in groups.items():
            body = ''.join('%s=%s\n' % (k, v) for k, v in opts.items())
            out.append('[group:%s]\n%s' % (name, body))
        return '\n'.join(out) + extra

    def write_config(self, **kw):
        self.conf.write_text(self.config_text(**kw))

    # -- lifecycle
    def command(self):
        return daemon_command(self.conf, REFERENCE)

    def start(self):
        self.write_config()
        env = dict(os.environ)
        env[MARKER_VAR] = self.marker
        env.pop('SUPERVISOR_ENABLED', None)
        self.out = open(self.dir / 'daemon.out', 'wb')
        self.proc = subprocess.Popen(self.command(), cwd=str(self.dir), env=env,
                                     stdin=subprocess.DEVNULL, stdout=self.out,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_ready()
        if self.settle:
            self.wait_settled()

    def output(self):
        try:
            return (self.dir / 'daemon.out').read_text(errors='replace')[-4000:]
        except OSError:
            return ''

    def wait_ready(self, timeout=20):
        def ready():
            if self.proc.poll() is not None:
                pytest.fail('daemon exited with %s:\n%s' % (self.proc.returncode, self.output()))
            return self.proxy('unix').supervisor.getState()['statename'] == 'RUNNING'
        wait_for(ready, timeout, 'the daemon to answer getState')

    def wait_settled(self, timeout=15):
        rpc = self.proxy('unix')

        def settled():
            states = {i['name']: i['statename'] for i in rpc.supervisor.getAllProcessInfo()}
            return all(states.get(n) == s for n, s in SETTLED.items() if n in self.progs)
        wait_for(settled, timeout, 'autostarted programs to settle')

    def proxy(self, transport='unix', user=None, password=None):
        if self.auth and user is None:
            user, password = self.auth[0], self.auth[2]
        if transport == 'unix':
            return xmlrpc.client.ServerProxy(
                'http://127.0.0.1', transport=UnixTransport(self.sock_path, user, password))
        creds = '%s:%s@' % (user, password) if user is not None else ''
        return xmlrpc.client.ServerProxy('http://%s127.0.0.1:%d/RPC2' % (creds, self.port),
                                         transport=TcpTransport())

    def alive(self):
        """The daemon still answers a well-formed getState, on both sockets."""
        for t in ('unix', 'inet'):
            state = self.proxy(t).supervisor.getState()
            assert state == {'statecode': 1, 'statename': 'RUNNING'}, state
        assert self.proc.poll() is None

    def stop(self):
        """Stop the daemon; return a list of problems (see interop_common.stop_daemon)."""
        problems = stop_daemon(self.proc, MARKER_VAR, self.marker, REFERENCE)
        self.out.close()
        return problems

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- helpers
    def info(self, name, transport='unix'):
        return self.proxy(transport).supervisor.getProcessInfo(namespec(name))

    def wait_state(self, name, states, timeout=10):
        if isinstance(states, str):
            states = (states,)
        def check():
            info = self.info(name)
            return info if info['statename'] in states else None
        return wait_for(check, timeout, '%s to be %s' % (name, '/'.join(states)))

    def wait_log(self, name, needle, channel='stdout', count=1, timeout=10):
        path = self.logpath(name, channel)

        def found():
            try:
                return path.read_text().count(needle) >= count
            except OSError:
                return False
        wait_for(found, timeout, '%r in %s' % (needle, path))


def make_daemon(request, **kw):
    d = Daemon(**kw)

    def finalize():
        problems = d.stop()
        if not problems:
            d.cleanup()
        assert not problems, 'teardown: %s\ndaemon dir %s' % (problems, d.dir)
    request.addfinalizer(finalize)
    d.start()
    return d


@pytest.fixture
def daemon(request):
    """A fresh daemon running the standard config, settled."""
    return make_daemon(request)


# A smaller config, for tests whose cost on the reference grows with the number of programs
# (it serves deferred replies and stops groups at most once per 1 s main-loop iteration).
SMALL = ('cat', 'echo', 'sleeper', 'idle', 'ga', 'gb')


@pytest.fixture
def small(request):
    return make_daemon(request, only=SMALL)


@pytest.fixture(params=['unix', 'inet'])
def transport(request):
    return request.param


@pytest.fixture
def rpc(daemon, transport):
    """A ServerProxy to the fresh daemon, over the unix socket and over TCP (parametrized)."""
    return daemon.proxy(transport)


def localtime_desc(stop):
    """The reference's description of a STOPPED/EXITED process that was started once."""
    return datetime.datetime(*time.localtime(stop)[:7]).strftime('%b %d %I:%M %p')


def running_desc(info):
    start = datetime.datetime(*time.gmtime(info['start'])[:6])
    now = datetime.datetime(*time.gmtime(info['now'])[:6])
    uptime = max(now - start, datetime.timedelta(0))
    return 'pid %s, uptime %s' % (info['pid'], uptime)
