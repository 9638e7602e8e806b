"""Shared helpers for the event-listener suites (test_events.py, test_superlance.py).

The same tests run against our daemon (default; binary from SUPERVISOR_BIN, else
target/debug/supervisor) and against the reference Supervisor 4.3.0
(EVENTS_DAEMON=reference; started as `python -m supervisor.supervisord` with the Python
running pytest).  Passing against the reference is what shows the tests themselves are right.

Every test gets a fresh daemon in a short temporary directory with a unix socket (so that
listeners get SUPERVISOR_SERVER_URL and supervisor.childutils.getRPCInterface works).  Every
process the daemon starts carries EVTEST_MARKER=<token> (set through [supervisord]
environment= and in the daemon's own environment); the finalizer stops the daemon, scans
/proc for that marker, kills survivors and fails the test if there were any.

Listener programs (tests/interop/listeners/recorder.py) write one JSON line per event they
receive (raw header line, parsed headers, payload) to a file in the daemon's directory; the
tests poll those files with deadlines (`wait_for`), never with a bare sleep.

EVENTS_KEEP=1 keeps every daemon's directory (config, main log, records) for a post-mortem.
"""
import json
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import xmlrpc.client
from pathlib import Path

import pytest
from interop_common import UnixTransport, daemon_command, stop_daemon, wait_for

KIND = os.environ.get('EVENTS_DAEMON', 'ours')
assert KIND in ('ours', 'reference'), 'EVENTS_DAEMON must be "ours" or "reference"'
REFERENCE = KIND == 'reference'
REPO = Path(__file__).resolve().parents[2]
LISTENERS = Path(__file__).resolve().parent / 'listeners'
PYTHON = sys.executable
VENV_BIN = Path(sys.executable).parent
MARKER_VAR = 'EVTEST_MARKER'
IDENT = 'evtest-ident'

HEADER_KEYS = ['ver', 'server', 'serial', 'pool', 'poolserial', 'eventname', 'len']


def py(script, *args):
    """A command= line running one of our helper scripts with the venv's Python."""
    return ' '.join(shlex.quote(str(a)) for a in (PYTHON, LISTENERS / script) + args)


def venv_script(name):
    return str(VENV_BIN / name)


# --------------------------------------------------------------------------- records

class Records:
    """The JSON lines a recorder listener wrote (events and its start lines)."""

    def __init__(self, path):
        self.path = Path(path)

    def lines(self):
        try:
            text = self.path.read_text(encoding='utf-8')
        except FileNotFoundError:
            return []
        out = []
        for line in text.splitlines():
            if line.strip():
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass  # a line being written right now
        return out

    def events(self, eventname=None, prefix=None):
        evs = [r for r in self.lines() if r.get('kind') == 'event']
        if eventname is not None:
            evs = [e for e in evs if e['headers'].get('eventname') == eventname]
        if prefix is not None:
            evs = [e for e in evs if e['headers'].get('eventname', '').startswith(prefix)]
        return evs

    def starts(self):
        return [r for r in self.lines() if r.get('kind') == 'start']

    def wait_events(self, count, timeout=10, what=None, **kw):
        def enough():
            evs = self.events(**kw)
            return evs if len(evs) >= count else None
        return wait_for(enough, timeout, what or '%d event(s) %s in %s' % (count, kw, self.path))

    def wait_match(self, pred, timeout=10, what='a matching event'):
        def found():
            for e in self.events():
                if pred(e):
                    return e
            return None
        return wait_for(found, timeout, '%s in %s' % (what, self.path))


def state_fields(payload):
    """A PROCESS_STATE payload as a dict (it is one line of `key:value` pairs)."""
    return dict(item.split(':', 1) for item in payload.split())


# --------------------------------------------------------------------------- daemon

class EvDaemon:
    """A supervisord (ours or the reference) in a temp dir with given sections.

    `sections` is a list of (header, {option: value}) pairs, e.g.
    ('eventlistener:rec', {'command': ..., 'events': 'PROCESS_STATE'}).
    """

    def __init__(self, sections=(), extra_env=None, unix=True, inet=None):
        self.unix = unix  # a [unix_http_server] (else only the inet one: `inet` is required)
        self.inet = inet  # port= of an [inet_http_server], e.g. '127.0.0.1:9001' or ':9001'
        self.dir = Path(tempfile.mkdtemp(prefix='evt', dir='/tmp'))
        self.sock_path = str(self.dir / 'sv.sock')
        self.conf = self.dir / 'supervisord.conf'
        self.logfile = self.dir / 'supervisord.log'
        self.marker = secrets.token_hex(8)
        self.sections = list(sections)
        self.extra_env = dict(extra_env or {})
        self.proc = None
        self.out = None

    def path(self, name):
        return self.dir / name

    def records(self, name):
        return Records(self.dir / name)

    def config_text(self, sections=None):
        sections = self.sections if sections is None else sections
        env = ['%s="%s"' % (MARKER_VAR, self.marker)]
        env += ['%s="%s"' % kv for kv in self.extra_env.items()]
        out = []
        if self.unix:
            out += ['[unix_http_server]\nfile=%s\n' % self.sock_path,
                    '[supervisorctl]\nserverurl=unix://%s\n' % self.sock_path]
        if self.inet:
            out += ['[inet_http_server]\nport=%s\n' % self.inet]
        out += [
            '[supervisord]\nlogfile=%s\npidfile=%s\nchildlogdir=%s\nloglevel=debug\n'
            'identifier=%s\nnodaemon=true\nenvironment=%s\n'
            % (self.logfile, self.dir / 'supervisord.pid', self.dir, IDENT, ','.join(env)),
            '[rpcinterface:supervisor]\n'
            'supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n',
        ]
        for header, opts in sections:
            opts = dict(opts)
            kind = header.split(':', 1)[0]
            name = header.split(':', 1)[1] if ':' in header else header
            if kind in ('program', 'eventlistener'):
                opts.setdefault('stderr_logfile', self.dir / ('%s.err' % name))
                opts.setdefault('stopwaitsecs', 5)
                if kind == 'program':
                    opts.setdefault('stdout_logfile', self.dir / ('%s.out' % name))
                else:
                    opts.setdefault('stdout_logfile', 'NONE')
            body = ''.join('%s=%s\n' % (k, v) for k, v in opts.items())
            out.append('[%s]\n%s' % (header, body))
        return '\n'.join(out)

    def write_config(self, sections=None):
        self.conf.write_text(self.config_text(sections))

    def command(self):
        return daemon_command(self.conf, REFERENCE)

    def start(self):
        self.write_config()
        env = dict(os.environ)
        env[MARKER_VAR] = self.marker
        for k in list(env):
            if k.startswith('SUPERVISOR_'):
                del env[k]
        self.out = open(self.dir / 'daemon.out', 'wb')
        self.proc = subprocess.Popen(self.command(), cwd=str(self.dir), env=env,
                                     stdin=subprocess.DEVNULL, stdout=self.out,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_ready()

    def output(self):
        try:
            return (self.dir / 'daemon.out').read_text(errors='replace')[-4000:]
        except OSError:
            return ''

    def mainlog(self):
        try:
            return self.logfile.read_text(errors='replace')
        except OSError:
            return ''

    def wait_ready(self, timeout=20):
        def ready():
            if self.proc.poll() is not None:
                pytest.fail('daemon exited with %s:\n%s' % (self.proc.returncode, self.output()))
            return self.rpc().supervisor.getState()['statename'] == 'RUNNING'
        wait_for(ready, timeout, 'the daemon to answer getState')

    def rpc(self):
        if not self.unix:
            return xmlrpc.client.ServerProxy('http://127.0.0.1:%s/RPC2'
                                             % self.inet.rsplit(':', 1)[1])
        return xmlrpc.client.ServerProxy('http://127.0.0.1',
                                         transport=UnixTransport(self.sock_path))

    def info(self, namespec):
        return self.rpc().supervisor.getProcessInfo(namespec)

    def wait_state(self, namespec, states, timeout=10):
        if isinstance(states, str):
            states = (states,)

        def check():
            info = self.info(namespec)
            return info if info['statename'] in states else None
        return wait_for(check, timeout, '%s to be %s' % (namespec, '/'.join(states)))

    def wait_mainlog(self, needle, count=1, timeout=10):
        wait_for(lambda: self.mainlog().count(needle) >= count, timeout,
                 '%r x%d in the main log' % (needle, count))

    def start_nowait(self, namespec):
        """startProcess(name, wait=False) for a program that fails or exits at once.

        The reference reaps right after spawning, inside the call: when the child is already
        gone it answers SPAWN_ERROR (50) instead of True. Either is accepted.
        """
        try:
            return self.rpc().supervisor.startProcess(namespec, False)
        except xmlrpc.client.Fault as e:
            assert e.faultCode == 50, e
            return None

    def send_remote(self, typ, data):
        return self.rpc().supervisor.sendRemoteCommEvent(typ, data)

    def terminate(self, timeout=30):
        """SIGTERM the daemon (a clean shutdown, on both kinds) and wait for it to exit."""
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=timeout)

    def stop(self):
        """Stop the daemon; return a list of problems (see interop_common.stop_daemon)."""
        problems = stop_daemon(self.proc, MARKER_VAR, self.marker, REFERENCE, settle=5)
        if self.out is not None:
            self.out.close()
        return problems

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def make_daemon(request, sections, start=True, **kw):
    """A daemon for one test; the finalizer stops it and checks nothing survived."""
    d = EvDaemon(sections, **kw)

    def finalize():
        problems = d.stop()
        if not problems and not os.environ.get('EVENTS_KEEP'):
            d.cleanup()  # EVENTS_KEEP=1 keeps every daemon's directory for a post-mortem
        assert not problems, 'teardown: %s\ndaemon dir %s' % (problems, d.dir)
    request.addfinalizer(finalize)
    # the config is written before the daemon starts so a test can prepare files first
    d.write_config()
    if start:
        d.start()
    return d


def recorder(out, *flags, **opts):
    """An [eventlistener:x] section body running listeners/recorder.py.

    startsecs=0 unless given: the listener is RUNNING before it can say READY, so a test does
    not depend on how events queued while a listener is STARTING are handled (that has its
    own tests, with the default startsecs=1).
    """
    body = {'command': py('recorder.py', out, *flags), 'startsecs': 0}
    body.update(opts)
    return body
