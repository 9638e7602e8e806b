"""Helpers every interop suite shares: a free TCP port, polling with a
deadline (never a bare sleep), the /proc scan for processes carrying a test's
marker, and the reference's unix-socket XML-RPC transport with a timeout.
"""
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
import xmlrpc.client
from pathlib import Path

import pytest

from supervisor.xmlrpc import SupervisorTransport, UnixStreamHTTPConnection

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 30  # socket timeout of every client: no test can hang forever

# What a polled predicate may raise while the daemon is not there yet.
POLL_ERRORS = (OSError, ValueError, xmlrpc.client.Fault, xmlrpc.client.ProtocolError,
               http.client.HTTPException)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=10.0, what='condition', interval=0.02, errors=POLL_ERRORS):
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    end = time.monotonic() + timeout
    last = None
    while True:
        try:
            value = predicate()
        except errors as e:
            value, last = None, e
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError('timed out after %ss waiting for %s (last error: %r)'
                                 % (timeout, what, last))
        time.sleep(interval)


def _state(pid):
    with open('/proc/%d/stat' % pid) as f:
        return f.read().rsplit(')', 1)[1].split()[0]


def marked_pids(var, marker):
    """Live (non-zombie) processes, other than this one, whose environment
    carries `var`=`marker`."""
    needle = ('%s=%s' % (var, marker)).encode()
    pids = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open('/proc/%s/environ' % entry, 'rb') as f:
                env = f.read()
            alive = _state(int(entry)) != 'Z'
        except OSError:
            continue
        if alive and needle in env.split(b'\0'):
            pids.append(int(entry))
    return pids


def cmdline(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return f.read().replace(b'\0', b' ').decode(errors='replace').strip()
    except OSError:
        return '?'


def proc_alive(pid):
    """True when pid exists and is not a zombie."""
    try:
        return _state(pid) != 'Z'
    except OSError:
        return False


class UnixConnection(UnixStreamHTTPConnection):
    """The reference's unix-socket HTTP connection, with a socket timeout."""

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.socketfile)
        self.sock = sock


def unix_connection(path, timeout=TIMEOUT):
    conn = UnixConnection('localhost', timeout=timeout)
    conn.socketfile = path
    return conn


class UnixTransport(SupervisorTransport):
    """supervisor's own unix-socket transport, with a socket timeout."""

    def __init__(self, path, username=None, password=None, timeout=TIMEOUT):
        SupervisorTransport.__init__(self, username, password, 'unix://' + path)
        self._get_connection = lambda: unix_connection(path, timeout)


def kill_survivors(var, marker, timeout=3):
    """Waits up to `timeout` seconds for the processes carrying the marker
    to go; kills those left and returns them as problems."""
    try:
        wait_for(lambda: not marked_pids(var, marker), timeout, 'children to go')
        return []
    except AssertionError:
        problems = []
        for pid in marked_pids(var, marker):
            problems.append('survivor: %d %s' % (pid, cmdline(pid)))
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        return problems


def stop_daemon(proc, var, marker, reference=False, settle=3):
    """Stops a daemon under test; returns a list of problems (a daemon that
    did not exit in time, marked processes that survived it; those are
    killed now).

    Ours gets SIGTERM and must stop every child and exit within 20 s: that
    is checked. The reference is not under test, and on SIGTERM it stops one
    group per main-loop turn (up to 1 s each), which would dominate a
    suite's time: it is killed outright, its children with it.
    """
    problems = []
    if proc is not None and proc.poll() is None:
        if reference:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            problems.append('the daemon did not exit within 20 s of SIGTERM')
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    if proc is not None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the daemon's own group, if any left
        except OSError:
            pass
    if reference:
        # (repeatedly: a child caught in the middle of its exec may be missed once)
        def all_killed():
            pids = marked_pids(var, marker)
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            return not pids
        try:
            wait_for(all_killed, 3, 'the reference children to be killed')
        except AssertionError:
            pass
    return problems + kill_survivors(var, marker, settle)


def daemon_command(conf, reference):
    """The command line of a foreground supervisord on `conf`: the
    reference under this Python, or ours (SUPERVISOR_BIN, else the debug
    build)."""
    if reference:
        return [sys.executable, '-m', 'supervisor.supervisord', '-c', str(conf), '-n']
    binary = os.environ.get('SUPERVISOR_BIN') or str(REPO / 'target' / 'debug' / 'supervisor')
    if not os.access(binary, os.X_OK):
        pytest.fail('our binary %r is missing: run `cargo build` or set SUPERVISOR_BIN'
                    % binary, pytrace=False)
    return [binary, 'supervisord', '-c', str(conf), '-n']
