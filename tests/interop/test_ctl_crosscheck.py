"""Differential test of supervisorctl: the reference's and ours, same commands, same output.

Each case runs one supervisorctl command line with the reference's supervisorctl
(`python -m supervisor.supervisorctl`, the Python running pytest) and with ours
(`$SUPERVISOR_BIN ctl`, default target/debug/supervisor), and requires identical stdout,
stderr and exit status, once pids, uptimes, dates, temp paths and the source location in
"error: <class ...>" lines are masked. Help texts are ours in our own words: where a command
prints its help, only the command syntax (text before the first tab) and the error lines
are compared.

The daemon is the reference supervisord by default; CTL_DAEMON=ours runs the same cases
against ours (`$SUPERVISOR_BIN supervisord`), which needs our XML-RPC server and is expected
to fail until then.

- Read-only cases run both supervisorctls back to back against one daemon.
- Stateful cases replay one scenario on two fresh daemons started from the same config (one
  driven by each supervisorctl), step by step, comparing every step.
- Daemon-down cases need no daemon (a missing unix socket, a refused TCP port).
- tail -f, fg, the shell's prompts and Ctrl-C / Ctrl-D run in a pseudo-terminal (pexpect).

Every process a daemon starts inherits CTL_CROSSCHECK_MARKER=<token>; each daemon's
finalizer stops it, then scans /proc for the marker, kills and reports any survivor.
Synchronisation is by polling with deadlines, never a bare sleep.
"""
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xmlrpc.client
from pathlib import Path

import pexpect
import pytest
from interop_common import free_port, marked_pids
from supervisor.xmlrpc import SupervisorTransport

REPO = Path(__file__).resolve().parents[2]
BIN = os.path.abspath(os.environ.get('SUPERVISOR_BIN', REPO / 'target' / 'debug' / 'supervisor'))
MARKER_VAR = 'CTL_CROSSCHECK_MARKER'
DEADLINE = 20  # seconds any wait may take
TRANSITIONAL = {'STARTING', 'BACKOFF', 'STOPPING'}

REF_CTL = [sys.executable, '-m', 'supervisor.supervisorctl']
OUR_CTL = [BIN, 'ctl']

# Both daemons: the reference proves the expectations, ours must match.
DAEMON_KINDS = ['reference', 'ours']

CONFIG = """\
[unix_http_server]
file={dir}/s.sock

[inet_http_server]
port=127.0.0.1:{port}
username=alice
password=secret

[supervisord]
logfile={dir}/supervisord.log
pidfile={dir}/supervisord.pid
childlogdir={dir}
loglevel=info
environment={marker_var}="{marker}"

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://{dir}/s.sock

[program:hello]
command=/bin/sh -c 'trap "" USR1 HUP; echo hello; echo oops >&2; exec sleep 1000'
startsecs=0
autorestart=false
stdout_logfile={dir}/hello.out
stderr_logfile={dir}/hello.err

[program:ticker]
command=/bin/sh -c 'while true; do echo tick; sleep 0.2; done'
startsecs=0
autorestart=false

[program:cat]
command=/bin/cat
startsecs=0
autorestart=false

[program:idle]
command=/bin/sleep 1000
startsecs=0
autostart=false
autorestart=false

[program:quick]
command=/bin/true
startsecs=1
startretries=0
autostart=false
autorestart=false

[program:missing]
command=/nonexistent/program
autostart=false

[program:notexec]
command={dir}/notexec
autostart=false

[group:grp]
programs=one,two

[program:one]
command=/bin/sleep 1000
startsecs=0
autorestart=false

[program:two]
command=/bin/sleep 1000
startsecs=0
autorestart=false
"""

# Applied to both daemons' configs in the middle of the stateful scenario.
CONFIG_EDIT = [
    ('[program:idle]\ncommand=/bin/sleep 1000\nstartsecs=0\nautostart=false\nautorestart=false\n',
     '[program:newprog]\ncommand=/bin/sleep 1000\nstartsecs=0\nautorestart=false\n'),
    ('[program:two]\ncommand=/bin/sleep 1000', '[program:two]\ncommand=/bin/sleep 999'),
]


def wait_for(what, check, timeout=DEADLINE):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError('timed out waiting for ' + what)
        time.sleep(0.02)


class Daemon:
    """A supervisord (reference or ours) in its own short temp dir."""

    def __init__(self, kind):
        self.kind = kind
        self.dir = tempfile.mkdtemp(prefix='ctlx-', dir='/tmp')
        self.marker = secrets.token_hex(8)
        self.port = free_port()
        self.conf = os.path.join(self.dir, 'supervisord.conf')
        self.sock = os.path.join(self.dir, 's.sock')
        with open(self.conf, 'w') as f:
            f.write(CONFIG.format(dir=self.dir, port=self.port, marker=self.marker,
                                  marker_var=MARKER_VAR))
        with open(os.path.join(self.dir, 'notexec'), 'w') as f:
            f.write('#!/bin/sh\n')
        self.proc = None

    def start(self):
        if self.kind == 'reference':
            cmd = [sys.executable, '-m', 'supervisor.supervisord']
        else:
            cmd = [BIN, 'supervisord']
        env = dict(os.environ, **{MARKER_VAR: self.marker})
        self.log = open(os.path.join(self.dir, 'daemon.out'), 'w')
        self.proc = subprocess.Popen(cmd + ['-c', self.conf, '-n'], cwd=self.dir, env=env,
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        wait_for('the daemon to answer', self._answers)
        self.settle()
        return self

    def rpc(self):
        transport = SupervisorTransport(None, None, 'unix://' + self.sock)
        return xmlrpc.client.ServerProxy('http://127.0.0.1', transport=transport)

    def _answers(self):
        if self.proc.poll() is not None:
            raise AssertionError('the daemon exited:\n' + self.output())
        try:
            return self.rpc().supervisor.getState()['statename'] == 'RUNNING'
        except (OSError, xmlrpc.client.Error):
            return False

    def settle(self):
        """Waits until no process is starting, backing off or stopping."""
        def settled():
            if self.proc.poll() is not None:
                return True
            try:
                infos = self.rpc().supervisor.getAllProcessInfo()
            except (OSError, xmlrpc.client.Error):
                return True  # shutting down: nothing to settle
            return all(i['statename'] not in TRANSITIONAL for i in infos)
        wait_for('processes to settle', settled)

    def edit_config(self):
        with open(self.conf) as f:
            text = f.read()
        for old, new in CONFIG_EDIT:
            assert old in text
            text = text.replace(old, new)
        with open(self.conf, 'w') as f:
            f.write(text)

    def output(self):
        try:
            with open(os.path.join(self.dir, 'daemon.out')) as f:
                return f.read()
        except OSError:
            return ''

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=DEADLINE)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.proc is not None:
            self.log.close()
        # A grandchild (ticker's `sleep 0.2`) may take a moment to finish once orphaned.
        deadline = time.monotonic() + 5
        while marked_pids(MARKER_VAR, self.marker) and time.monotonic() < deadline:
            time.sleep(0.02)
        survivors = marked_pids(MARKER_VAR, self.marker)
        for pid in survivors:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)
        assert not survivors, 'processes outlived the %s daemon: %r' % (self.kind, survivors)


@pytest.fixture(params=DAEMON_KINDS, scope='module')
def shared_daemon(request):
    """One daemon for the read-only cases."""
    d = Daemon(request.param)
    try:
        yield d.start()
    finally:
        d.stop()


@pytest.fixture(params=DAEMON_KINDS)
def daemon_pair(request):
    """Two fresh daemons from the same config: one per supervisorctl."""
    pair = [Daemon(request.param), Daemon(request.param)]
    try:
        for d in pair:
            d.start()
        yield pair
    finally:
        for d in pair:
            d.stop()


@pytest.fixture(params=DAEMON_KINDS)
def daemon(request):
    d = Daemon(request.param)
    try:
        yield d.start()
    finally:
        d.stop()


# --- running and comparing -----------------------------------------------------------------

MASKS = [
    (re.compile(r'pid \d+, uptime [^\n]*'), 'pid N, uptime U'),
    (re.compile(r'^\d+$', re.M), 'N'),
    (re.compile(r'[A-Z][a-z]{2} \d\d \d\d:\d\d [AP]M'), 'DATE'),
    (re.compile(r'file: \S+ line: \d+'), 'file: F line: L'),
]


def mask(text, dirs):
    for d in dirs:
        text = text.replace(d, '<DIR>')
    for pattern, replacement in MASKS:
        text = pattern.sub(replacement, text)
    return text


def help_shape(text):
    """Where help is printed, our words differ: keep each line's command syntax (the text
    before its first tab), error lines whole, and only the first word of other prose."""
    shaped = []
    for line in text.split('\n'):
        if '\t' in line:
            shaped.append(line.split('\t', 1)[0] + '\t...')
        elif line.startswith(('Error:', 'ERROR:', '***')) or not line:
            shaped.append(line)
        else:
            shaped.append(line.split()[0] + ' ...')
    return '\n'.join(shaped)


def run_ctl(ctl, conf, args):
    r = subprocess.run(ctl + ['-c', conf] + args, capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=DEADLINE * 2)
    return r.returncode, r.stdout, r.stderr


def sorted_lines(text):
    return '\n'.join(sorted(text.split('\n')))


def compare(ref_result, our_result, dirs, helps=False, unordered=False):
    """`unordered`: for calls on several processes, whose results the reference itself
    reports in varying order (e.g. `stop all`, in the order processes exit)."""
    shape = help_shape if helps else sorted_lines if unordered else (lambda t: t)
    ref = tuple(shape(mask(x, dirs)) if isinstance(x, str) else x for x in ref_result)
    ours = tuple(shape(mask(x, dirs)) if isinstance(x, str) else x for x in our_result)
    assert ours == ref, 'exit status, stdout, stderr differ (reference first)'


def case_id(args):
    return ' '.join(args) or '<empty line>'


# Commands that print their help (after a usage error, or `help X`).
HELP_CASES = [
    ['help', 'status'], ['help', 'help'], ['help', 'tail'], ['help', 'maintail'],
    ['help', 'restart'], ['help', 'signal'], ['help', 'update'], ['help', 'fg'],
    ['help', 'open'], ['help', 'pid'], ['help', 'clear'], ['help', 'exit'],
    ['start'], ['stop'], ['restart'], ['clear'], ['signal'], ['signal', 'HUP'], ['tail'],
    ['tail', 'a', 'b', 'c', 'd'], ['maintail', 'a', 'b'], ['fg'], ['avail', 'x'],
    ['reread', 'x'], ['version', 'x'], ['shutdown', 'x'], ['reload', 'x'],
]

READ_ONLY_CASES = [
    ['status'], ['status', 'all'], ['status', 'hello'], ['status', 'grp:*'],
    ['status', 'grp:one', 'hello'], ['status', 'idle'], ['status', 'nosuch'],
    ['status', 'nog:*'], ['status', 'nosuch', 'idle', 'hello'], ['status:hello'],
    ['pid'], ['pid', 'hello'], ['pid', 'idle'], ['pid', 'all'], ['pid', 'nosuch'],
    ['tail', 'hello'], ['tail', '-3', 'hello'], ['tail', 'hello', 'stderr'],
    ['tail', '-2', 'hello', 'STDERR'], ['tail', 'hello', 'bogus'], ['tail', '-x', 'hello'],
    ['tail', '-f'], ['tail', 'nosuch'], ['tail', '-99999999999', 'hello'],
    ['maintail', '-0'], ['maintail', '-200'], ['maintail', 'x'], ['maintail', '-x'],
    ['avail'], ['reread'], ['version'], ['help'], ['help', 'nosuch'], ['help', 'EOF'],
    ['nosuch'], ['!ls'], ['?'], [''], ['EOF'], ['quit'], ['exit'],
    ['signal', 'USR1', 'hello'], ['signal USR1', 'hello'], ['status hello'],
    ['signal', 'USR1', 'grp:nosuch'], ['signal', 'USR1', 'nog:*'], ['signal', 'BAD', 'hello'],
    ['signal', 'HUP', 'idle'], ['clear', 'nosuch'], ['clear', 'grp:*'],
    ['start', 'hello'], ['start', 'nosuch'], ['start', 'nog:*'], ['stop', 'idle'],
    ['stop', 'nosuch'], ['stop', 'nog:*'], ['add', 'hello'], ['add', 'nosuch'],
    ['remove', 'hello'], ['remove', 'nosuch'], ['update', 'nosuch'],
    ['fg', 'nosuch'], ['fg', 'idle'], ['fg', 'a', 'b'], ['open', 'ftp://x'], ['open'],
]


@pytest.mark.parametrize('args', READ_ONLY_CASES, ids=case_id)
def test_read_only_command(shared_daemon, args):
    d = shared_daemon
    ref = run_ctl(REF_CTL, d.conf, args)
    ours = run_ctl(OUR_CTL, d.conf, args)
    compare(ref, ours, [d.dir])


@pytest.mark.parametrize('args', HELP_CASES, ids=case_id)
def test_help_syntax(shared_daemon, args):
    d = shared_daemon
    compare(run_ctl(REF_CTL, d.conf, args), run_ctl(OUR_CTL, d.conf, args), [d.dir],
            helps=True)


def test_authentication(shared_daemon):
    d = shared_daemon
    url = 'http://127.0.0.1:%d' % d.port
    for args in (['-s', url, 'status'], ['-s', url, '-u', 'alice', '-p', 'wrong', 'avail'],
                 ['-s', url, '-u', 'alice', '-p', 'secret', 'status', 'hello'],
                 ['-s', url, '-u', 'alice', '-p', 'secret', 'tail', '-3', 'hello']):
        compare(run_ctl(REF_CTL, d.conf, args), run_ctl(OUR_CTL, d.conf, args), [d.dir])


# Each step: command-line words, or an action on both daemons.
EDIT = 'edit the config'
STATEFUL_STEPS = [
    ['status'], ['start', 'idle'], ['start', 'idle'], ['status', 'idle'], ['pid', 'idle'],
    ['stop', 'idle'], ['stop', 'idle'], ['status', 'idle'], ['start', 'grp:*'],
    ['stop', 'grp:*'], ['status', 'grp:*'], ['start', 'grp:one'], ['restart', 'grp:one'],
    ['restart', 'grp:*'], ['restart', 'hello', 'idle'], ['start', 'missing'],
    ['start', 'notexec'], ['start', 'quick'], ['status', 'quick'], ['status'],
    ['signal', 'HUP', 'nosuch', 'grp:*'], ['signal', 'TERM', 'grp:two'], ['status', 'grp:*'],
    ['clear', 'hello'], ['clear', 'hello', 'nosuch'], ['clear', 'all'], ['tail', 'hello'],
    ['stop', 'all'], ['start', 'all'], ['status'], ['signal', 'KILL', 'all'], ['status'],
    ['start', 'all'], ['reread'], [EDIT], ['reread'], ['avail'], ['update', 'nog'],
    ['update', 'grp'], ['status'], ['update'], ['status'], ['add', 'newprog'],
    ['remove', 'hello'], ['stop', 'hello'], ['remove', 'hello'], ['add', 'hello'],
    ['avail'], ['update', 'all'], ['reload'], ['status'], ['shutdown'],
]


def test_stateful_scenario(daemon_pair):
    ref_daemon, our_daemon = daemon_pair
    dirs = [ref_daemon.dir, our_daemon.dir]
    for step in STATEFUL_STEPS:
        if step == [EDIT]:
            for d in daemon_pair:
                d.edit_config()
            continue
        results = []
        for ctl, d in ((REF_CTL, ref_daemon), (OUR_CTL, our_daemon)):
            results.append(run_ctl(ctl, d.conf, step))
            if step == ['reload']:
                wait_for('the daemon to answer again', d._answers)
            d.settle()
        unordered = any(word == 'all' or word.endswith(':*') for word in step)
        try:
            compare(results[0], results[1], dirs, unordered=unordered)
        except AssertionError:
            raise AssertionError('step %r: reference %r, ours %r' % (step, *results))
    for d in daemon_pair:
        wait_for('the daemon to shut down', lambda: d.proc.poll() is not None)
    after = [run_ctl(ctl, d.conf, ['status']) for ctl, d in zip((REF_CTL, OUR_CTL), daemon_pair)]
    compare(after[0], after[1], dirs)


# --- without a daemon ------------------------------------------------------------------------

DOWN_CASES = [
    ['status'], ['status', 'x'], ['start', 'x'], ['stop', 'x'], ['restart', 'x'],
    ['signal', 'HUP', 'x'], ['pid'], ['pid', 'x'], ['tail', 'x'], ['tail', '-f', 'x'],
    ['maintail'], ['maintail', '-f'], ['clear', 'x'], ['fg', 'x'], ['version'], ['avail'],
    ['reread'], ['update'], ['add', 'x'], ['remove', 'x'], ['shutdown'], ['reload'],
    ['open', 'unix:///nonexistent.sock'], ['help'],
]


@pytest.fixture(scope='module')
def down_configs():
    d = tempfile.mkdtemp(prefix='ctlx-', dir='/tmp')
    port = free_port()  # nothing listens on it once the probe socket is closed
    confs = {}
    for name, url in (('unix', 'unix://%s/nonexistent.sock' % d),
                      ('tcp', 'http://127.0.0.1:%d' % port),
                      ('other', 'ftp://example')):
        confs[name] = os.path.join(d, name + '.conf')
        with open(confs[name], 'w') as f:
            f.write('[supervisorctl]\nserverurl=%s\n' % url)
    yield d, confs
    shutil.rmtree(d, ignore_errors=True)


@pytest.mark.parametrize('transport', ['unix', 'tcp', 'other'])
@pytest.mark.parametrize('args', DOWN_CASES, ids=case_id)
def test_daemon_down(down_configs, transport, args):
    d, confs = down_configs
    conf = confs[transport]
    compare(run_ctl(REF_CTL, conf, args), run_ctl(OUR_CTL, conf, args), [d])


# --- in a terminal ---------------------------------------------------------------------------

PROMPT = 'supervisor> '


def spawn(ctl, conf, *args):
    return pexpect.spawn(ctl[0], ctl[1:] + ['-c', conf] + list(args), encoding='utf-8',
                         timeout=DEADLINE, dimensions=(24, 200))


def finish(child):
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus


@pytest.mark.parametrize('ctl', [REF_CTL, OUR_CTL], ids=['reference', 'ours'])
def test_shell_tail_f_then_quit(daemon, ctl):
    child = spawn(ctl, daemon.conf)
    try:
        child.expect('hello +RUNNING +pid \\d+, uptime')
        child.expect(PROMPT)
        child.sendline('tail -f ticker')
        child.expect('==> Press Ctrl-C to exit <==')
        child.expect('tick\r\n')
        child.sendintr()
        child.expect(PROMPT)
        child.sendline('status nosuch')
        child.expect('nosuch: ERROR \\(no such process\\)')
        child.expect(PROMPT)
        child.sendline('shutdown')
        child.expect('Really shut the remote supervisord process down y/N\\? ')
        child.sendline('n')
        child.expect(PROMPT)
        child.sendline('quit')
        assert finish(child) == 0
    finally:
        child.close(force=True)


@pytest.mark.parametrize('ctl', [REF_CTL, OUR_CTL], ids=['reference', 'ours'])
def test_shell_fg(daemon, ctl):
    # (The reference's shell cannot exit after fg until its output threads see data, so
    # this test ends at the prompt.)
    child = spawn(ctl, daemon.conf)
    try:
        child.expect(PROMPT)
        child.sendline('fg cat')
        child.expect('==> Press Ctrl-C to exit <==')
        child.sendline('ping from fg')
        child.expect('ping from fg\r\n(.*\r\n)?ping from fg')  # the echo, then cat's output
        child.sendintr()
        # The reference's Ctrl-C may land on its output thread while its main
        # thread sits in input(): it only notices at the next line typed.
        if child.expect(['Exiting foreground', pexpect.TIMEOUT], timeout=3) == 1:
            child.sendline('')
            child.expect('Exiting foreground')
        child.expect(PROMPT)
        child.sendline('fg idle')
        child.expect('ERROR: process not running')
        child.expect(PROMPT)
    finally:
        child.close(force=True)


@pytest.mark.parametrize('ctl', [REF_CTL, OUR_CTL], ids=['reference', 'ours'])
def test_one_shot_tail_f_ends_on_ctrl_c(daemon, ctl):
    child = spawn(ctl, daemon.conf, 'tail', '-f', 'ticker')
    try:
        child.expect('==> Press Ctrl-C to exit <==')
        child.expect('tick\r\n')
        child.sendintr()
        assert finish(child) == 0
    finally:
        child.close(force=True)


@pytest.mark.parametrize('ctl', [REF_CTL, OUR_CTL], ids=['reference', 'ours'])
def test_shell_ends_on_ctrl_d(daemon, ctl):
    child = spawn(ctl, daemon.conf)
    try:
        child.expect(PROMPT)
        child.sendeof()
        assert finish(child) == 0
    finally:
        child.close(force=True)


@pytest.mark.parametrize('ctl', [REF_CTL, OUR_CTL], ids=['reference', 'ours'])
def test_shell_asks_for_credentials(daemon, ctl):
    child = spawn(ctl, daemon.conf, '-s', 'http://127.0.0.1:%d' % daemon.port)
    try:
        child.expect('Server requires authentication')
        child.expect('Username:')
        child.sendline('alice')
        child.expect('Password:')
        child.sendline('secret')
        child.expect('hello +RUNNING')
        child.expect(PROMPT)
        child.sendline('version')
        child.expect('4.3.0')
        child.expect(PROMPT)
        child.sendeof()
        assert finish(child) == 0
    finally:
        child.close(force=True)


@pytest.mark.parametrize('ctl', [REF_CTL, OUR_CTL], ids=['reference', 'ours'])
def test_shell_without_a_terminal(daemon, ctl):
    r = subprocess.run(ctl + ['-c', daemon.conf], input='status hello\nversion\nbogus\n',
                       capture_output=True, text=True, timeout=DEADLINE)
    assert r.returncode == 0
    assert mask(r.stdout, [daemon.dir]).endswith(
        'supervisor> %-33sRUNNING   pid N, uptime U\n' % 'hello' +
        'supervisor> 4.3.0\n'
        'supervisor> *** Unknown syntax: bogus\n'
        'supervisor> \n')


@pytest.mark.parametrize('ctl', [REF_CTL, OUR_CTL], ids=['reference', 'ours'])
def test_shell_completes_and_keeps_history(daemon, ctl):
    # history_file= in the config (the reference ignores -r: it stores it under another name).
    history = os.path.join(daemon.dir, 'history')
    conf = os.path.join(daemon.dir, 'ctl.conf')
    with open(conf, 'w') as f:
        f.write('[supervisorctl]\nserverurl=unix://%s\nhistory_file=%s\n' % (daemon.sock, history))
    child = spawn(ctl, conf)
    try:
        child.expect(PROMPT)
        child.send('versi\t')
        child.expect('version ')
        child.send('\r')
        child.expect('4.3.0')
        child.expect(PROMPT)
        child.send('status hel\t')
        child.expect('hello ')
        child.send('\r')
        child.expect('hello +RUNNING')
        child.expect(PROMPT)
        child.sendline('quit')
        assert finish(child) == 0
    finally:
        child.close(force=True)
    with open(history) as f:
        assert f.read() == 'version \nstatus hello \nquit\n'
    child = spawn(ctl, conf)
    try:
        child.expect(PROMPT)
        child.send('\x1b[A\x1b[A\r')  # up, up: the "status hello" line
        child.expect('hello +RUNNING')
        child.expect(PROMPT)
        child.sendeof()
        assert finish(child) == 0
    finally:
        child.close(force=True)
