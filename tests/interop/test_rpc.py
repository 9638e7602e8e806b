"""XML-RPC API interop tests: every method of system.listMethods(), its happy path and its
faults, over the unix socket and over TCP; authentication; log tails over HTTP.

Runs against our daemon (default) or the reference (RPC_DAEMON=reference); see rpc_fixtures.py.
"""
import os
import stat
import threading
import time
import xmlrpc.client

import pytest

from rpc_fixtures import (  # noqa: F401  (fixtures are used by name)
    ABNORMAL_TERMINATION, ALREADY_ADDED, ALREADY_STARTED, BAD_ARGUMENTS, BAD_NAME, BAD_SIGNAL,
    CANT_REREAD, INCORRECT_PARAMETERS, NO_FILE, NOT_EXECUTABLE, NOT_RUNNING, RUNNING_STATES,
    SHUTDOWN_STATE, SIGNATURE_UNSUPPORTED, SPAWN_ERROR, STILL_RUNNING, SUCCESS, UNKNOWN_METHOD,
    GROUP_OF, TIMEOUT, assert_fault, daemon, http_connection, http_request, lexical_order,
    localtime_desc, make_daemon, namespec, priority_order, proc_alive, raw_rpc, raw_socket, rpc,
    basic_auth, expect_faults, running_desc, sha1_hex, small, transport, wait_for, xml_call,
)

# system.methodSignature of every method, as the reference derives it from its docstrings
SIGNATURES = {
    'supervisor.addProcessGroup': ['boolean', 'string'],
    'supervisor.clearAllProcessLogs': ['array'],
    'supervisor.clearLog': ['boolean'],
    'supervisor.clearProcessLog': ['boolean', 'string'],
    'supervisor.clearProcessLogs': ['boolean', 'string'],
    'supervisor.getAPIVersion': ['string'],
    'supervisor.getAllConfigInfo': ['array'],
    'supervisor.getAllProcessInfo': ['array'],
    'supervisor.getIdentification': ['string'],
    'supervisor.getPID': ['int'],
    'supervisor.getProcessInfo': ['struct', 'string'],
    'supervisor.getState': ['struct'],
    'supervisor.getSupervisorVersion': ['string'],
    'supervisor.getVersion': ['string'],
    'supervisor.readLog': ['string', 'int', 'int'],
    'supervisor.readMainLog': ['string', 'int', 'int'],
    'supervisor.readProcessLog': ['string', 'string', 'int', 'int'],
    'supervisor.readProcessStderrLog': ['string', 'string', 'int', 'int'],
    'supervisor.readProcessStdoutLog': ['string', 'string', 'int', 'int'],
    'supervisor.reloadConfig': ['array'],
    'supervisor.removeProcessGroup': ['boolean', 'string'],
    'supervisor.restart': ['boolean'],
    'supervisor.sendProcessStdin': ['boolean', 'string', 'string'],
    'supervisor.sendRemoteCommEvent': ['boolean', 'string', 'string'],
    'supervisor.shutdown': ['boolean'],
    'supervisor.signalAllProcesses': ['array', 'string'],
    'supervisor.signalProcess': ['boolean', 'string', 'string'],
    'supervisor.signalProcessGroup': ['array', 'string', 'string'],
    'supervisor.startAllProcesses': ['array', 'boolean'],
    'supervisor.startProcess': ['boolean', 'string', 'boolean'],
    'supervisor.startProcessGroup': ['array', 'string', 'boolean'],
    'supervisor.stopAllProcesses': ['array', 'boolean'],
    'supervisor.stopProcess': ['boolean', 'string', 'boolean'],
    'supervisor.stopProcessGroup': ['array', 'string', 'boolean'],
    'supervisor.tailProcessLog': ['array', 'string', 'int', 'int'],
    'supervisor.tailProcessStderrLog': ['array', 'string', 'int', 'int'],
    'supervisor.tailProcessStdoutLog': ['array', 'string', 'int', 'int'],
    'system.listMethods': ['array'],
    'system.methodHelp': ['string', 'string'],
    'system.methodSignature': ['array', 'string'],
    'system.multicall': ['array', 'array'],
}

INFO_KEYS = {'name', 'group', 'start', 'stop', 'now', 'state', 'statename', 'spawnerr',
             'exitstatus', 'logfile', 'stdout_logfile', 'stderr_logfile', 'pid', 'description'}
INFO_INTS = ('start', 'stop', 'now', 'state', 'exitstatus', 'pid')

CONFIG_TYPES = {
    'autostart': bool, 'inuse': bool, 'killasgroup': bool, 'redirect_stderr': bool,
    'stdout_events_enabled': bool, 'stdout_syslog': bool, 'stderr_events_enabled': bool,
    'stderr_syslog': bool,
    'group_prio': int, 'process_prio': int, 'startretries': int, 'startsecs': int,
    'stdout_capture_maxbytes': int, 'stdout_logfile_backups': int,
    'stdout_logfile_maxbytes': int, 'stopsignal': int, 'stopwaitsecs': int,
    'stderr_capture_maxbytes': int, 'stderr_logfile_backups': int,
    'stderr_logfile_maxbytes': int,
    'command': str, 'group': str, 'name': str, 'stdout_logfile': str, 'stderr_logfile': str,
    'serverurl': str, 'directory': str, 'uid': str,
    'exitcodes': list,
}

STATE_CODES = {'STOPPED': 0, 'STARTING': 10, 'RUNNING': 20, 'BACKOFF': 30, 'STOPPING': 40,
               'EXITED': 100, 'FATAL': 200, 'UNKNOWN': 1000}


def ok(name):
    return {'name': name, 'group': GROUP_OF.get(name, name), 'status': SUCCESS,
            'description': 'OK'}


def by_name(results):
    return sorted(results, key=lambda r: (r['group'], r['name']))


def running_names(daemon):
    return [i['name'] for i in daemon.proxy().supervisor.getAllProcessInfo()
            if i['statename'] in RUNNING_STATES]


def term_ignored(pid, cmd):
    """The process has exec'd `cmd` and ignores SIGTERM (its trap is in place)."""
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            if f.read().split(b'\0')[0] != cmd:
                return False
        with open('/proc/%d/status' % pid) as f:
            sigign = [ln for ln in f if ln.startswith('SigIgn:')][0].split()[1]
    except (OSError, IndexError):
        return False
    return bool(int(sigign, 16) & (1 << 14))


def start_stubborn(daemon, rpc):
    assert rpc.supervisor.startProcess('stubborn') is True
    pid = daemon.info('stubborn')['pid']
    wait_for(lambda: term_ignored(pid, b'sleep'), 10, 'stubborn to ignore SIGTERM')
    return pid


# --------------------------------------------------------------------------- identity

def test_versions_and_identification(rpc):
    assert rpc.supervisor.getAPIVersion() == '3.0'
    assert rpc.supervisor.getVersion() == '3.0'
    assert rpc.supervisor.getSupervisorVersion() == '4.3.0'
    assert rpc.supervisor.getIdentification() == 'rpctest-ident'


def test_get_state(rpc):
    state = rpc.supervisor.getState()
    assert state == {'statecode': 1, 'statename': 'RUNNING'}
    assert type(state['statecode']) is int


def test_get_pid(rpc, daemon):
    pid = rpc.supervisor.getPID()
    assert type(pid) is int
    assert pid == daemon.proc.pid


def test_list_methods(rpc):
    methods = rpc.system.listMethods()
    assert methods == sorted(SIGNATURES)
    assert len(methods) == 41


def test_method_signature(rpc):
    for name, sig in SIGNATURES.items():
        assert rpc.system.methodSignature(name) == sig, name
    assert_fault(SIGNATURE_UNSUPPORTED, rpc.system.methodSignature, 'supervisor.nosuch',
                 text='SIGNATURE_UNSUPPORTED')


def test_method_help(rpc):
    for name in SIGNATURES:
        text = rpc.system.methodHelp(name)
        assert isinstance(text, str) and text.strip(), name
    assert_fault(SIGNATURE_UNSUPPORTED, rpc.system.methodHelp, 'supervisor.nosuch',
                 text='SIGNATURE_UNSUPPORTED')


def test_unknown_method(rpc):
    expect_faults([(UNKNOWN_METHOD, 'UNKNOWN_METHOD', getattr(rpc, method)) for method in [
        'supervisor.nosuch', 'nosuch.getState', 'getState', 'supervisor._update',
        'supervisor.getState.x', 'system._listMethods', 'supervisor.', 'system.nosuch']])


def test_wrong_argument_count(rpc):
    expect_faults([(INCORRECT_PARAMETERS, 'INCORRECT_PARAMETERS', getattr(rpc, m), *args)
                   for m, args in [
                       ('supervisor.getState', (1,)),
                       ('supervisor.getProcessInfo', ()),
                       ('supervisor.startProcess', ('idle', True, 1)),
                       ('supervisor.readLog', (0,)),
                       ('supervisor.readProcessStdoutLog', ('echo', 0)),
                       ('supervisor.signalProcess', ('sleeper',)),
                       ('system.listMethods', ('x',)),
                       ('system.multicall', ()),
                   ]])


# --------------------------------------------------------------------------- main log

def test_read_log(rpc, daemon):
    data = daemon.logfile.read_bytes()
    whole = rpc.supervisor.readLog(0, 0)
    assert 'supervisord started with pid %d' % daemon.proc.pid in whole
    assert daemon.logfile.read_bytes().startswith(whole.encode())
    assert rpc.supervisor.readLog(0, 10) == data[:10].decode()
    assert rpc.supervisor.readLog(5, 10) == data[5:15].decode()
    assert rpc.supervisor.readMainLog(5, 10) == data[5:15].decode()

    def stable_tail():
        before = daemon.logfile.read_bytes()
        got = rpc.supervisor.readLog(-20, 0)
        after = daemon.logfile.read_bytes()
        return before == after and (got, after)
    got, after = wait_for(stable_tail, 5, 'a quiet main log')
    assert got == after[-20:].decode()
    assert rpc.supervisor.readLog(-10 ** 7, 0).encode() == daemon.logfile.read_bytes()
    assert rpc.supervisor.readLog(10 ** 7, 0) == ''
    assert rpc.supervisor.readLog(10 ** 7, 5) == ''
    assert_fault(BAD_ARGUMENTS, rpc.supervisor.readLog, -10, 5, text='BAD_ARGUMENTS')
    assert_fault(BAD_ARGUMENTS, rpc.supervisor.readLog, 0, -1, text='BAD_ARGUMENTS')


def test_clear_log(rpc, daemon):
    assert 'supervisord started' in rpc.supervisor.readLog(0, 0)
    assert rpc.supervisor.clearLog() is True
    assert 'supervisord started' not in rpc.supervisor.readLog(0, 0)
    # the log is reopened: new lines go to the new file
    assert rpc.supervisor.stopProcess('sleeper') is True
    wait_for(lambda: 'stopped: sleeper' in rpc.supervisor.readLog(0, 0), 5,
             'the stop to be logged in the new main log')
    assert 'supervisord started' not in daemon.logfile.read_text()


# --------------------------------------------------------------------------- process info

def check_info_shape(info):
    assert set(info) == INFO_KEYS
    for key in INFO_INTS:
        assert type(info[key]) is int, (key, info[key])
    for key in INFO_KEYS - set(INFO_INTS):
        assert type(info[key]) is str, (key, info[key])
    assert info['statename'] == info['statename'].upper()
    assert STATE_CODES[info['statename']] == info['state']
    assert info['logfile'] == info['stdout_logfile']


def test_get_process_info_running(rpc, daemon):
    info = rpc.supervisor.getProcessInfo('sleeper')
    check_info_shape(info)
    assert info['name'] == 'sleeper' and info['group'] == 'sleeper'
    assert info['statename'] == 'RUNNING' and info['state'] == 20
    assert info['pid'] > 0 and proc_alive(info['pid'])
    assert 0 < info['start'] <= info['now'] <= time.time() + 1
    assert abs(info['now'] - time.time()) < 5
    assert info['stop'] == 0
    assert info['spawnerr'] == '' and info['exitstatus'] == 0
    assert info['stdout_logfile'] == str(daemon.logpath('sleeper'))
    assert info['stderr_logfile'] == str(daemon.logpath('sleeper', 'stderr'))
    assert info['description'] == running_desc(info)
    ga = rpc.supervisor.getProcessInfo('g:ga')
    check_info_shape(ga)
    assert (ga['name'], ga['group'], ga['statename']) == ('ga', 'g', 'RUNNING')


def test_get_process_info_not_started_and_fatal(rpc, daemon):
    idle = rpc.supervisor.getProcessInfo('idle')
    check_info_shape(idle)
    assert (idle['statename'], idle['state'], idle['pid']) == ('STOPPED', 0, 0)
    assert (idle['start'], idle['stop']) == (0, 0)
    assert idle['description'] == 'Not started'

    quick = rpc.supervisor.getProcessInfo('quickexit')
    check_info_shape(quick)
    assert (quick['statename'], quick['state'], quick['pid']) == ('FATAL', 200, 0)
    assert quick['spawnerr'] == 'Exited too quickly (process log may have details)'
    assert quick['description'] == quick['spawnerr']
    assert quick['exitstatus'] == 0
    assert quick['start'] > 0 and quick['stop'] >= quick['start']

    missing = rpc.supervisor.getProcessInfo('missing')
    check_info_shape(missing)
    assert missing['statename'] == 'FATAL'
    assert missing['spawnerr'] == "can't find command '/nonexistent/prog'"
    assert missing['description'] == missing['spawnerr']

    nolog = rpc.supervisor.getProcessInfo('nolog')
    assert (nolog['logfile'], nolog['stdout_logfile'], nolog['stderr_logfile']) == ('', '', '')


def test_get_process_info_stopped_and_exited(rpc, daemon):
    assert rpc.supervisor.stopProcess('sleeper') is True
    info = rpc.supervisor.getProcessInfo('sleeper')
    check_info_shape(info)
    assert (info['statename'], info['pid']) == ('STOPPED', 0)
    assert info['stop'] >= info['start'] > 0
    assert info['exitstatus'] == -1  # killed by a signal
    assert info['description'] == localtime_desc(info['stop'])

    try:
        rpc.supervisor.startProcess('exiter', False)
    except xmlrpc.client.Fault as f:  # it may already have exited: 'Bad exit code 3'
        assert f.faultCode == SPAWN_ERROR, f
    info = daemon.wait_state('exiter', 'EXITED')
    check_info_shape(info)
    assert info['exitstatus'] == 3
    assert info['spawnerr'] == 'Bad exit code 3'
    assert info['pid'] == 0
    assert info['description'] == localtime_desc(info['stop'])


def test_get_process_info_bad_name(rpc):
    expect_faults([(BAD_NAME, 'BAD_NAME: ' + name, rpc.supervisor.getProcessInfo, name)
                   for name in ['nosuch', 'g:nosuch', 'nosuch:x', 'g', 'g:*', 'sleeper:x', '',
                                'ga']])


def test_get_all_process_info(rpc, daemon):
    infos = rpc.supervisor.getAllProcessInfo()
    names = [i['name'] for i in infos]
    assert names == lexical_order(daemon.progs)  # lexical by group, then name
    for info in infos:
        check_info_shape(info)
        single = rpc.supervisor.getProcessInfo(namespec(info['name']))
        for key in INFO_KEYS - {'now', 'description'}:
            assert single[key] == info[key], (info['name'], key)


def test_get_all_config_info(rpc, daemon):
    infos = rpc.supervisor.getAllConfigInfo()
    assert [i['name'] for i in infos] == sorted(daemon.progs)
    for info in infos:
        assert set(info) == set(CONFIG_TYPES), info['name']
        for key, typ in CONFIG_TYPES.items():
            assert type(info[key]) is typ, (info['name'], key, info[key])
        assert all(type(c) is int for c in info['exitcodes'])
        assert info['inuse'] is True
    cfg = {i['name']: i for i in infos}
    s = cfg['sleeper']
    assert s['command'] == "/bin/sh -c 'exec sleep 1000'"
    assert (s['group'], s['group_prio'], s['process_prio']) == ('sleeper', 300, 300)
    assert s['exitcodes'] == [0]
    assert (s['stopsignal'], s['stopwaitsecs'], s['startsecs'], s['startretries']) == (15, 5, 0, 3)
    assert s['autostart'] is True and s['killasgroup'] is False
    assert s['redirect_stderr'] is False
    assert s['stdout_logfile'] == str(daemon.logpath('sleeper'))
    assert s['stdout_logfile_maxbytes'] == 50 * 1024 * 1024
    assert s['stdout_logfile_backups'] == 10
    assert (s['stdout_capture_maxbytes'], s['stdout_events_enabled'], s['stdout_syslog']) == (
        0, False, False)
    assert (s['directory'], s['uid'], s['serverurl']) == ('none', 'none', 'none')
    ga = cfg['ga']
    assert (ga['group'], ga['group_prio'], ga['process_prio']) == ('g', 50, 20)
    assert cfg['idle']['autostart'] is False
    assert cfg['trapper']['killasgroup'] is True
    assert cfg['nolog']['stdout_logfile'] == 'none'
    assert cfg['nolog']['stderr_logfile'] == 'none'
    assert cfg['stubborn']['stopwaitsecs'] == 1


# --------------------------------------------------------------------------- start

def test_start_process_wait(rpc, daemon):
    t0 = time.monotonic()
    assert rpc.supervisor.startProcess('slow') is True
    assert time.monotonic() - t0 >= 0.9  # startsecs=1
    info = rpc.supervisor.getProcessInfo('slow')
    assert info['statename'] == 'RUNNING' and proc_alive(info['pid'])
    # startsecs=0: RUNNING at once
    assert rpc.supervisor.startProcess('idle', True) is True
    assert rpc.supervisor.getProcessInfo('idle')['statename'] == 'RUNNING'


def test_start_process_nowait(rpc, daemon):
    assert rpc.supervisor.startProcess('slow', False) is True
    info = rpc.supervisor.getProcessInfo('slow')
    assert info['statename'] == 'STARTING'
    assert info['description'] == ''
    assert info['pid'] > 0
    daemon.wait_state('slow', 'RUNNING')


def test_start_process_wait_sent_as_int(daemon, transport):
    body = xml_call('supervisor.startProcess', '<value><string>slow</string></value>',
                    '<value><int>1</int></value>')
    assert raw_rpc(daemon, transport, body) is True
    assert daemon.info('slow')['statename'] == 'RUNNING'
    body = xml_call('supervisor.stopProcess', '<value>slow</value>', '<value><int>1</int></value>')
    assert raw_rpc(daemon, transport, body) is True
    assert daemon.info('slow')['statename'] == 'STOPPED'
    body = xml_call('supervisor.startProcess', '<value>slow</value>', '<value><int>0</int></value>')
    assert raw_rpc(daemon, transport, body) is True
    assert daemon.info('slow')['statename'] == 'STARTING'
    body = xml_call('supervisor.startProcess', '<value>idle</value>',
                    '<value><boolean>1</boolean></value>')
    assert raw_rpc(daemon, transport, body) is True
    assert daemon.info('idle')['statename'] == 'RUNNING'


def test_untyped_value_is_a_string(daemon, transport):
    body = xml_call('supervisor.getProcessInfo', '<value>sleeper</value>')
    assert raw_rpc(daemon, transport, body)['name'] == 'sleeper'
    # no <params> at all for a method without parameters
    body = (b'<?xml version="1.0"?><methodCall><methodName>supervisor.getAPIVersion'
            b'</methodName></methodCall>')
    assert raw_rpc(daemon, transport, body) == '3.0'


def test_response_ints_are_xmlrpc_int(daemon, transport):
    import re
    status, _, data = http_request(daemon, transport, 'POST', '/RPC2',
                                   xml_call('supervisor.getProcessInfo', '<value>sleeper</value>'))
    assert status == 200
    text = data.decode()
    for key in INFO_INTS:
        assert re.search(r'<name>%s</name>\s*<value>\s*<(int|i4)>-?\d+</(int|i4)>' % key,
                         text), (key, text)
    assert '<i8>' not in text and '<double>' not in text


def test_rpc_response_headers(daemon, transport):
    status, headers, data = http_request(daemon, transport, 'POST', '/RPC2',
                                         xml_call('supervisor.getAPIVersion'))
    assert status == 200
    assert headers['content-type'] == 'text/xml'
    assert int(headers['content-length']) == len(data)
    assert xmlrpc.client.loads(data)[0] == ('3.0',)


def test_http10_request(daemon, transport):
    """An HTTP/1.0 client without keep-alive gets its answer, then the connection closes."""
    body = xml_call('supervisor.getState')
    sock = raw_socket(daemon, transport)
    try:
        sock.sendall(b'POST /RPC2 HTTP/1.0\r\nContent-Type: text/xml\r\n'
                     b'Content-Length: %d\r\n\r\n' % len(body) + body)
        data = b''
        while True:  # until the server closes (the socket timeout bounds this)
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        sock.close()
    head, _, payload = data.partition(b'\r\n\r\n')
    assert head.split(b' ')[1] == b'200', head
    assert xmlrpc.client.loads(payload)[0] == ({'statecode': 1, 'statename': 'RUNNING'},)


def test_start_already_started(rpc):
    assert_fault(ALREADY_STARTED, rpc.supervisor.startProcess, 'sleeper',
                 text='ALREADY_STARTED: sleeper')
    assert_fault(ALREADY_STARTED, rpc.supervisor.startProcess, 'g:ga', False,
                 text='ALREADY_STARTED: g:ga')


def test_start_bad_name(rpc):
    expect_faults([(BAD_NAME, 'BAD_NAME: ' + name, rpc.supervisor.startProcess, name)
                   for name in ['nosuch', 'g:nosuch', 'nosuch:*', 'nosuch:x', 'g']])


def test_start_no_file(rpc):
    assert_fault(NO_FILE, rpc.supervisor.startProcess, 'missing',
                 text="NO_FILE: can't find command '/nonexistent/prog'")


def test_start_not_executable(rpc, daemon):
    assert_fault(NOT_EXECUTABLE, rpc.supervisor.startProcess, 'noexec',
                 text="NOT_EXECUTABLE: command at '%s' is not executable"
                 % (daemon.dir / 'noexec.sh'))


@pytest.mark.parametrize('wait', [True, False])
def test_start_dies_while_starting(rpc, daemon, wait):
    # /bin/false with startsecs=1: it exits before it counts as started
    try:
        result = rpc.supervisor.startProcess('quickexit', wait)
    except xmlrpc.client.Fault as f:
        assert (f.faultCode, f.faultString) in (
            (SPAWN_ERROR, 'SPAWN_ERROR: quickexit'),
            (ABNORMAL_TERMINATION, 'ABNORMAL_TERMINATION: quickexit')), f
    else:
        assert not wait and result is True  # wait=False may return before it exits
    info = daemon.wait_state('quickexit', 'FATAL')
    assert info['spawnerr'] == 'Exited too quickly (process log may have details)'


def test_start_abnormal_termination(daemon, transport):
    """A start that waits, cut short by a stop from another client."""
    result = {}

    def starter():
        try:
            result['value'] = daemon.proxy(transport).supervisor.startProcess('slow', True)
        except xmlrpc.client.Fault as f:
            result['fault'] = f
    thread = threading.Thread(target=starter)
    thread.start()
    try:
        daemon.wait_state('slow', 'STARTING')
        assert daemon.proxy(transport).supervisor.stopProcess('slow') is True
    finally:
        thread.join(TIMEOUT)
    fault = result.get('fault')
    assert fault is not None, result
    assert (fault.faultCode, fault.faultString) == (ABNORMAL_TERMINATION,
                                                     'ABNORMAL_TERMINATION: slow')


def test_start_process_group(rpc, daemon):
    assert rpc.supervisor.startProcessGroup('g') == []  # all running already
    assert rpc.supervisor.stopProcessGroup('g', True)
    assert rpc.supervisor.startProcessGroup('g', True) == [ok('gb'), ok('ga')]  # priority
    assert daemon.info('ga')['statename'] == 'RUNNING'
    assert daemon.info('gb')['statename'] == 'RUNNING'
    assert rpc.supervisor.stopProcessGroup('g', True)
    assert rpc.supervisor.startProcess('g:*', False) == [ok('gb'), ok('ga')]
    daemon.wait_state('ga', 'RUNNING')
    assert rpc.supervisor.startProcess('g:*') == []
    assert_fault(BAD_NAME, rpc.supervisor.startProcessGroup, 'nosuch', text='BAD_NAME: nosuch')
    assert_fault(BAD_NAME, rpc.supervisor.startProcessGroup, 'ga', text='BAD_NAME: ga')


def check_start_all(daemon, results, wait):
    progs = daemon.progs
    stopped = [n for n in progs if n not in ('cat', 'echo', 'sleeper', 'trapper', 'ga', 'gb')]
    assert sorted(r['name'] for r in results) == sorted(stopped)
    byname = {r['name']: r for r in results}
    for r in results:
        assert set(r) == {'name', 'group', 'status', 'description'}
        assert r['group'] == GROUP_OF.get(r['name'], r['name'])
    for name in ('idle', 'slow', 'stubborn', 'nolog', 'noinput'):
        assert byname[name] == ok(name)
    assert (byname['flappy']['status'], byname['flappy']['description']) in [
        (SPAWN_ERROR, 'SPAWN_ERROR: flappy'), (SUCCESS, 'OK')]
    assert byname['missing']['status'] == NO_FILE
    assert byname['missing']['description'] == "NO_FILE: can't find command '/nonexistent/prog'"
    assert byname['noexec']['status'] == NOT_EXECUTABLE
    assert byname['noexec']['description'] == (
        "NOT_EXECUTABLE: command at '%s' is not executable" % (daemon.dir / 'noexec.sh'))
    quick = byname['quickexit']
    allowed = [(SPAWN_ERROR, 'SPAWN_ERROR: quickexit'),
               (ABNORMAL_TERMINATION, 'ABNORMAL_TERMINATION: quickexit')]
    if not wait:
        allowed.append((SUCCESS, 'OK'))
    assert (quick['status'], quick['description']) in allowed
    exiter = byname['exiter']
    assert (exiter['status'], exiter['description']) in [
        (SPAWN_ERROR, 'SPAWN_ERROR: exiter'), (SUCCESS, 'OK')]
    return stopped


def test_start_all_processes_wait(rpc, daemon):
    results = rpc.supervisor.startAllProcesses()
    check_start_all(daemon, results, True)
    for name in ('idle', 'slow', 'stubborn', 'nolog', 'noinput'):
        assert daemon.info(name)['statename'] == 'RUNNING', name


def test_start_all_processes_nowait(rpc, daemon):
    results = rpc.supervisor.startAllProcesses(False)
    stopped = check_start_all(daemon, results, False)
    # without waiting, results come in priority order
    assert [r['name'] for r in results] == priority_order(stopped, daemon.progs)
    assert daemon.info('slow')['statename'] == 'STARTING'
    daemon.wait_state('slow', 'RUNNING')


# --------------------------------------------------------------------------- stop

def test_stop_process_wait(rpc, daemon):
    pid = start_stubborn(daemon, rpc)
    t0 = time.monotonic()
    assert rpc.supervisor.stopProcess('stubborn') is True  # waits through SIGKILL
    assert time.monotonic() - t0 >= 0.9  # stopwaitsecs=1
    info = rpc.supervisor.getProcessInfo('stubborn')
    assert info['statename'] == 'STOPPED' and info['pid'] == 0
    assert not proc_alive(pid)
    # an ordinary process stops at once
    assert rpc.supervisor.stopProcess('g:ga', True) is True
    assert rpc.supervisor.getProcessInfo('g:ga')['statename'] == 'STOPPED'


def test_stop_process_nowait(rpc, daemon):
    start_stubborn(daemon, rpc)
    t0 = time.monotonic()
    assert rpc.supervisor.stopProcess('stubborn', False) is True
    assert time.monotonic() - t0 < 0.8
    info = rpc.supervisor.getProcessInfo('stubborn')
    assert info['statename'] == 'STOPPING'
    assert info['description'] == ''
    daemon.wait_state('stubborn', 'STOPPED')


def test_backoff(rpc, daemon):
    """/bin/false with startsecs=1 and startretries=5: BACKOFF between its retries."""
    try:
        rpc.supervisor.startProcess('flappy', False)
    except xmlrpc.client.Fault as f:
        assert (f.faultCode, f.faultString) == (SPAWN_ERROR, 'SPAWN_ERROR: flappy')
    info = daemon.wait_state('flappy', 'BACKOFF')
    assert info['spawnerr'] == 'Exited too quickly (process log may have details)'
    assert info['description'] == info['spawnerr']
    assert info['pid'] == 0
    # BACKOFF counts as running for start, and it can be stopped
    assert_fault(ALREADY_STARTED, rpc.supervisor.startProcess, 'flappy',
                 text='ALREADY_STARTED: flappy')
    assert_fault(NOT_RUNNING, rpc.supervisor.signalProcess, 'flappy', 'HUP',
                 text='NOT_RUNNING: flappy')
    assert rpc.supervisor.stopProcess('flappy') is True
    assert rpc.supervisor.getProcessInfo('flappy')['statename'] == 'STOPPED'


def test_stop_process_errors(rpc):
    assert_fault(NOT_RUNNING, rpc.supervisor.stopProcess, 'idle', text='NOT_RUNNING: idle')
    assert_fault(NOT_RUNNING, rpc.supervisor.stopProcess, 'quickexit',
                 text='NOT_RUNNING: quickexit')
    assert_fault(BAD_NAME, rpc.supervisor.stopProcess, 'nosuch', text='BAD_NAME: nosuch')
    assert_fault(BAD_NAME, rpc.supervisor.stopProcess, 'g:nosuch', text='BAD_NAME: g:nosuch')
    assert_fault(BAD_NAME, rpc.supervisor.stopProcessGroup, 'nosuch', text='BAD_NAME: nosuch')


def test_stop_process_group(rpc, daemon):
    results = rpc.supervisor.stopProcessGroup('g')
    assert by_name(results) == [ok('ga'), ok('gb')]
    assert daemon.info('ga')['statename'] == 'STOPPED'
    assert daemon.info('gb')['statename'] == 'STOPPED'
    assert rpc.supervisor.stopProcessGroup('g') == []
    assert rpc.supervisor.stopProcess('g:*') == []
    assert rpc.supervisor.startProcessGroup('g')
    assert by_name(rpc.supervisor.stopProcess('g:*', True)) == [ok('ga'), ok('gb')]


def test_stop_all_processes_nowait(rpc, daemon):
    running = running_names(daemon)
    results = rpc.supervisor.stopAllProcesses(False)
    assert results == [ok(n) for n in priority_order(running, daemon.progs)]
    wait_for(lambda: not running_names(daemon), 10, 'every process to stop')
    assert rpc.supervisor.stopAllProcesses() == []


def test_stop_all_processes_wait(rpc, daemon):
    running = running_names(daemon)
    results = rpc.supervisor.stopAllProcesses()
    assert by_name(results) == by_name([ok(n) for n in running])
    infos = rpc.supervisor.getAllProcessInfo()
    assert [i['name'] for i in infos if i['statename'] not in
            ('STOPPED', 'FATAL', 'EXITED')] == []


# --------------------------------------------------------------------------- signals

def test_signal_process_forms(rpc, daemon):
    daemon.wait_log('trapper', 'ready')
    pid = daemon.info('trapper')['pid']
    for count, sig in enumerate(['USR1', 'SIGUSR1', 'usr1', '10', 10], 1):
        assert rpc.supervisor.signalProcess('trapper', sig) is True, sig
        daemon.wait_log('trapper', 'got-usr1', count=count)
    info = daemon.info('trapper')
    assert (info['statename'], info['pid']) == ('RUNNING', pid)


def test_signal_process_errors(rpc):
    assert_fault(BAD_SIGNAL, rpc.supervisor.signalProcess, 'sleeper', 'FOO',
                 text='BAD_SIGNAL: FOO')
    assert_fault(BAD_SIGNAL, rpc.supervisor.signalProcess, 'sleeper', '999',
                 text='BAD_SIGNAL: 999')
    assert_fault(BAD_SIGNAL, rpc.supervisor.signalProcess, 'idle', 'FOO',
                 text='BAD_SIGNAL: FOO')  # the signal is checked first
    assert_fault(NOT_RUNNING, rpc.supervisor.signalProcess, 'idle', 'HUP',
                 text='NOT_RUNNING: idle')
    assert_fault(NOT_RUNNING, rpc.supervisor.signalProcess, 'quickexit', 'HUP',
                 text='NOT_RUNNING: quickexit')
    assert_fault(BAD_NAME, rpc.supervisor.signalProcess, 'nosuch', 'HUP',
                 text='BAD_NAME: nosuch')
    assert_fault(BAD_NAME, rpc.supervisor.signalProcessGroup, 'nosuch', 'HUP',
                 text='BAD_NAME: nosuch')


def test_signal_process_group(rpc, daemon):
    pids = {n: daemon.info(n)['pid'] for n in ('ga', 'gb')}
    assert rpc.supervisor.signalProcessGroup('g', 'WINCH') == [ok('gb'), ok('ga')]
    assert rpc.supervisor.signalProcess('g:*', 'SIGWINCH') == [ok('gb'), ok('ga')]
    assert rpc.supervisor.signalProcess('g:*', 28) == [ok('gb'), ok('ga')]
    bad = rpc.supervisor.signalProcessGroup('g', 'FOO')
    assert bad == [dict(ok(n), status=BAD_SIGNAL, description='BAD_SIGNAL: FOO')
                   for n in ('gb', 'ga')]
    for n, pid in pids.items():
        assert daemon.info(n)['pid'] == pid and proc_alive(pid)
    assert rpc.supervisor.stopProcess('g:ga')
    assert rpc.supervisor.signalProcessGroup('g', 'WINCH') == [ok('gb')]


def test_signal_all_processes(rpc, daemon):
    running = running_names(daemon)
    results = rpc.supervisor.signalAllProcesses('WINCH')
    assert results == [ok(n) for n in priority_order(running, daemon.progs)]
    assert running_names(daemon) == running
    bad = rpc.supervisor.signalAllProcesses('NOSIG')
    assert by_name(bad) == by_name([dict(ok(n), status=BAD_SIGNAL,
                                         description='BAD_SIGNAL: NOSIG') for n in running])


# --------------------------------------------------------------------------- process logs

def test_read_process_logs(rpc, daemon):
    daemon.wait_log('echo', 'out-text')
    daemon.wait_log('echo', 'err-text', 'stderr')
    out, err = 'out-text\n', 'err-text\n'
    r = rpc.supervisor
    assert r.readProcessStdoutLog('echo', 0, 0) == out
    assert r.readProcessLog('echo', 0, 0) == out
    assert r.readProcessStderrLog('echo', 0, 0) == err
    assert r.readProcessStdoutLog('echo', 4, 0) == out[4:]
    assert r.readProcessStdoutLog('echo', 4, 2) == out[4:6]
    assert r.readProcessStderrLog('echo', 0, 3) == err[:3]
    assert r.readProcessStdoutLog('echo', -5, 0) == out[-5:]
    assert r.readProcessStdoutLog('echo', -100, 0) == out
    assert r.readProcessStdoutLog('echo', 100, 0) == ''
    assert r.readProcessStdoutLog('echo', 9, 5) == ''
    assert r.readProcessStdoutLog('g:ga', 0, 0) == ''


def test_read_process_log_errors(rpc, daemon):
    r = rpc.supervisor
    daemon.wait_log('echo', 'out-text')
    assert_fault(BAD_ARGUMENTS, r.readProcessStdoutLog, 'echo', -5, 2, text='BAD_ARGUMENTS')
    assert_fault(BAD_ARGUMENTS, r.readProcessStderrLog, 'echo', 0, -1, text='BAD_ARGUMENTS')
    assert_fault(BAD_NAME, r.readProcessStdoutLog, 'nosuch', 0, 0, text='BAD_NAME: nosuch')
    assert_fault(BAD_NAME, r.readProcessStderrLog, 'g', 0, 0, text='BAD_NAME: g')
    assert_fault(NO_FILE, r.readProcessStdoutLog, 'nolog', 0, 0, prefix='NO_FILE')
    assert_fault(NO_FILE, r.readProcessStderrLog, 'nolog', 0, 0, prefix='NO_FILE')


def test_read_log_of_never_started_process_is_no_file(rpc, daemon):
    # the reference creates a process's log files when it first spawns it
    path = daemon.logpath('idle')
    assert_fault(NO_FILE, rpc.supervisor.readProcessStdoutLog, 'idle', 0, 0,
                 text='NO_FILE: %s' % path)
    assert rpc.supervisor.tailProcessStdoutLog('idle', 0, 10) == ['', 0, False]
    assert rpc.supervisor.startProcess('idle')
    assert rpc.supervisor.readProcessStdoutLog('idle', 0, 0) == ''


def test_tail_process_logs(rpc, daemon):
    daemon.wait_log('echo', 'out-text')
    daemon.wait_log('echo', 'err-text', 'stderr')
    r = rpc.supervisor
    # 'out-text\n' is 9 bytes
    assert r.tailProcessStdoutLog('echo', 0, 100) == ['out-text\n', 9, False]
    assert r.tailProcessLog('echo', 0, 100) == ['out-text\n', 9, False]
    assert r.tailProcessStderrLog('echo', 0, 100) == ['err-text\n', 9, False]
    assert r.tailProcessStdoutLog('echo', 0, 5) == ['text\n', 9, True]
    assert r.tailProcessStdoutLog('echo', 3, 2) == ['t\n', 9, True]
    assert r.tailProcessStdoutLog('echo', 4, 5) == ['text\n', 9, False]
    assert r.tailProcessStdoutLog('echo', 9, 100) == ['', 9, False]
    assert r.tailProcessStdoutLog('echo', 50, 100) == ['', 9, False]
    assert r.tailProcessStdoutLog('echo', 0, 0) == ['', 9, True]
    assert r.tailProcessStdoutLog('echo', -5, 10) == ['out-text\n', 9, True]
    assert r.tailProcessStdoutLog('echo', 0, -5) == ['', 9, True]
    assert r.tailProcessStdoutLog('nolog', 0, 100) == ['', 0, False]
    assert r.tailProcessStderrLog('nolog', 7, 100) == ['', 0, False]
    assert_fault(BAD_NAME, r.tailProcessStdoutLog, 'nosuch', 0, 10, text='BAD_NAME: nosuch')
    assert_fault(BAD_NAME, r.tailProcessStderrLog, 'g', 0, 10, text='BAD_NAME: g')


def test_clear_process_logs(rpc, daemon):
    daemon.wait_log('echo', 'out-text')
    daemon.wait_log('echo', 'err-text', 'stderr')
    assert rpc.supervisor.clearProcessLogs('echo') is True
    assert rpc.supervisor.readProcessStdoutLog('echo', 0, 0) == ''
    assert rpc.supervisor.readProcessStderrLog('echo', 0, 0) == ''
    # the logs are reopened: new output goes to the new files
    assert rpc.supervisor.sendProcessStdin('cat', 'before\n')
    daemon.wait_log('cat', 'before')
    assert rpc.supervisor.clearProcessLog('cat') is True
    assert rpc.supervisor.sendProcessStdin('cat', 'after\n')
    daemon.wait_log('cat', 'after')
    assert rpc.supervisor.readProcessStdoutLog('cat', 0, 0) == 'after\n'
    assert_fault(BAD_NAME, rpc.supervisor.clearProcessLogs, 'nosuch', text='BAD_NAME: nosuch')
    assert_fault(BAD_NAME, rpc.supervisor.clearProcessLogs, 'g', text='BAD_NAME: g')


def test_clear_all_process_logs(small, transport):
    daemon, rpc = small, small.proxy(transport)
    daemon.wait_log('echo', 'out-text')
    results = rpc.supervisor.clearAllProcessLogs()
    assert results == [ok(n) for n in priority_order(daemon.progs, daemon.progs)]
    assert rpc.supervisor.readProcessStdoutLog('echo', 0, 0) == ''
    assert rpc.supervisor.readProcessStderrLog('echo', 0, 0) == ''


# --------------------------------------------------------------------------- stdin, events

def test_send_process_stdin(rpc, daemon):
    assert rpc.supervisor.sendProcessStdin('cat', '') is True
    assert rpc.supervisor.sendProcessStdin('cat', 'hello\n') is True
    daemon.wait_log('cat', 'hello')
    assert rpc.supervisor.sendProcessStdin('cat', 'h\u00e9llo \u2603\n') is True
    daemon.wait_log('cat', '\u2603')
    assert daemon.logpath('cat').read_bytes() == 'hello\nh\u00e9llo \u2603\n'.encode()
    assert_fault(NOT_RUNNING, rpc.supervisor.sendProcessStdin, 'idle', 'x',
                 text='NOT_RUNNING: idle')
    assert_fault(BAD_NAME, rpc.supervisor.sendProcessStdin, 'nosuch', 'x',
                 text='BAD_NAME: nosuch')
    assert_fault(INCORRECT_PARAMETERS, rpc.supervisor.sendProcessStdin, 'cat', 5,
                 prefix='INCORRECT_PARAMETERS')


def test_send_process_stdin_closed_is_no_file(rpc, daemon):
    assert rpc.supervisor.startProcess('noinput')
    pid = daemon.info('noinput')['pid']

    def stdin_closed():
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            if f.read().split(b'\0')[0] != b'sleep':
                return False
        return not os.path.exists('/proc/%d/fd/0' % pid)
    wait_for(stdin_closed, 10, 'noinput to close its stdin')
    assert_fault(NO_FILE, rpc.supervisor.sendProcessStdin, 'noinput', 'x\n',
                 text='NO_FILE: noinput')
    assert daemon.info('noinput')['statename'] == 'RUNNING'


def test_send_remote_comm_event(rpc):
    assert rpc.supervisor.sendRemoteCommEvent('mytype', 'some data') is True
    assert rpc.supervisor.sendRemoteCommEvent('t\u00e9', '\u2603') is True


# --------------------------------------------------------------------------- multicall

def call(name, *params):
    return {'methodName': name, 'params': list(params)}


def fault(code, text):
    return {'faultCode': code, 'faultString': text}


def test_multicall(rpc, daemon):
    results = rpc.system.multicall([
        call('supervisor.getAPIVersion'),
        call('supervisor.nosuch'),
        call('supervisor.getProcessInfo', 'nosuch'),
        call('supervisor.getState'),
        call('supervisor.getState', 1),
        call('system.multicall', []),
        {'params': []},
        call('supervisor.getPID'),
    ])
    assert results == [
        '3.0',
        fault(UNKNOWN_METHOD, 'UNKNOWN_METHOD'),
        fault(BAD_NAME, 'BAD_NAME: nosuch'),
        {'statecode': 1, 'statename': 'RUNNING'},
        fault(INCORRECT_PARAMETERS, 'INCORRECT_PARAMETERS'),
        fault(INCORRECT_PARAMETERS, 'INCORRECT_PARAMETERS: Recursive system.multicall forbidden'),
        fault(INCORRECT_PARAMETERS, 'INCORRECT_PARAMETERS: No methodName'),
        daemon.proc.pid,
    ]
    assert rpc.system.multicall([]) == []


def test_multicall_deferred(rpc, daemon):
    t0 = time.monotonic()
    results = rpc.system.multicall([
        call('supervisor.startProcess', 'slow'),            # deferred: waits startsecs
        call('supervisor.getProcessInfo', 'slow'),          # runs after it completed
        call('supervisor.startProcess', 'quickexit', True),  # fails while starting
        call('supervisor.stopProcessGroup', 'g'),           # deferred, returns an array
        call('supervisor.getState'),
    ])
    assert time.monotonic() - t0 >= 0.9
    assert len(results) == 5
    assert results[0] is True
    assert results[1]['statename'] == 'RUNNING' and results[1]['name'] == 'slow'
    assert results[2] in (fault(SPAWN_ERROR, 'SPAWN_ERROR: quickexit'),
                          fault(ABNORMAL_TERMINATION, 'ABNORMAL_TERMINATION: quickexit'))
    assert by_name(results[3]) == [ok('ga'), ok('gb')]
    assert results[4] == {'statecode': 1, 'statename': 'RUNNING'}


# --------------------------------------------------------------------------- lifecycle

def test_shutdown(small, transport):
    daemon, rpc = small, small.proxy(transport)
    assert rpc.supervisor.shutdown() is True
    daemon.proc.wait(timeout=20)
    assert daemon.proc.returncode == 0
    with pytest.raises(OSError):
        daemon.proxy('inet').supervisor.getState()


def test_shutdown_state_in_multicall(small, transport):
    daemon, rpc = small, small.proxy(transport)
    results = rpc.system.multicall([
        call('supervisor.shutdown'),
        call('supervisor.getState'),
        call('supervisor.getAPIVersion'),
        call('system.listMethods'),  # system.* and sendRemoteCommEvent are not gated
        call('supervisor.sendRemoteCommEvent', 'a', 'b'),
    ])
    assert results[:3] == [True, fault(SHUTDOWN_STATE, 'SHUTDOWN_STATE'),
                           fault(SHUTDOWN_STATE, 'SHUTDOWN_STATE')]
    assert results[3] == sorted(SIGNATURES)
    assert results[4] is True
    daemon.proc.wait(timeout=20)


def test_shutdown_state_while_stopping(rpc, daemon, transport):
    start_stubborn(daemon, rpc)  # takes stopwaitsecs=1 to die: the daemon stays up meanwhile
    assert rpc.supervisor.shutdown() is True
    fresh = daemon.proxy(transport)
    assert_fault(SHUTDOWN_STATE, fresh.supervisor.getState, text='SHUTDOWN_STATE')
    assert_fault(SHUTDOWN_STATE, fresh.supervisor.startProcess, 'idle', text='SHUTDOWN_STATE')
    daemon.proc.wait(timeout=20)
    assert daemon.proc.returncode == 0


def test_restart(small, transport):
    daemon, rpc = small, small.proxy(transport)
    pid = daemon.proc.pid
    old = daemon.info('sleeper')['pid']
    assert rpc.supervisor.restart() is True

    def back():
        fresh = daemon.proxy(transport)
        return (fresh.supervisor.getState()['statename'] == 'RUNNING'
                and fresh.supervisor.getProcessInfo('sleeper')['pid'] not in (0, old))
    wait_for(back, 20, 'the daemon to come back RUNNING with a new sleeper')
    assert daemon.proc.poll() is None
    assert daemon.proxy(transport).supervisor.getPID() == pid
    daemon.wait_settled()


# --------------------------------------------------------------------------- reload

def edited_programs(daemon):
    progs = dict(daemon.progs)
    progs['newprog'] = dict(command="/bin/sh -c 'exec sleep 1000'", startsecs=0, priority=990)
    progs['sleeper'] = dict(progs['sleeper'], command="/bin/sh -c 'exec sleep 999'")
    del progs['idle']
    return progs


def test_reload_config(rpc, daemon):
    assert rpc.supervisor.reloadConfig() == [[[], [], []]]
    daemon.write_config(progs=edited_programs(daemon))
    assert rpc.supervisor.reloadConfig() == [[['newprog'], ['sleeper'], ['idle']]]
    # nothing is applied by reloadConfig itself
    assert daemon.info('sleeper')['statename'] == 'RUNNING'
    assert 'newprog' not in [i['name'] for i in rpc.supervisor.getAllProcessInfo()]
    cfg = {i['name']: i for i in rpc.supervisor.getAllConfigInfo()}
    assert 'idle' not in cfg
    assert cfg['newprog']['inuse'] is False
    assert cfg['sleeper']['command'] == "/bin/sh -c 'exec sleep 999'"
    assert cfg['sleeper']['inuse'] is True


def test_add_and_remove_process_group(rpc, daemon):
    daemon.write_config(progs=edited_programs(daemon))
    assert rpc.supervisor.reloadConfig() == [[['newprog'], ['sleeper'], ['idle']]]
    r = rpc.supervisor
    assert_fault(ALREADY_ADDED, r.addProcessGroup, 'sleeper',  # changed, but still active
                 text='ALREADY_ADDED: sleeper')
    assert r.addProcessGroup('newprog') is True
    daemon.wait_state('newprog', 'RUNNING')  # autostart
    assert_fault(ALREADY_ADDED, r.addProcessGroup, 'newprog', text='ALREADY_ADDED: newprog')
    assert_fault(BAD_NAME, r.addProcessGroup, 'nosuch', text='BAD_NAME: nosuch')
    assert_fault(BAD_NAME, r.addProcessGroup, 'idle', text='BAD_NAME: idle')  # not in config
    assert_fault(STILL_RUNNING, r.removeProcessGroup, 'sleeper', text='STILL_RUNNING: sleeper')
    assert_fault(STILL_RUNNING, r.removeProcessGroup, 'g', text='STILL_RUNNING: g')
    assert_fault(BAD_NAME, r.removeProcessGroup, 'nosuch', text='BAD_NAME: nosuch')
    assert r.removeProcessGroup('idle') is True  # stopped: can go
    assert_fault(BAD_NAME, r.getProcessInfo, 'idle', text='BAD_NAME: idle')
    assert_fault(BAD_NAME, r.removeProcessGroup, 'idle', text='BAD_NAME: idle')
    assert r.stopProcess('sleeper') is True
    assert r.removeProcessGroup('sleeper') is True
    assert r.addProcessGroup('sleeper') is True
    info = daemon.wait_state('sleeper', 'RUNNING')

    def cmd():
        with open('/proc/%d/cmdline' % info['pid'], 'rb') as f:
            return f.read() == b'sleep\x00999\x00'  # once sh has exec'd it
    wait_for(cmd, 10, 'the new sleeper command')
    assert r.reloadConfig() == [[[], [], []]]


def test_reload_config_cant_reread(rpc, daemon):
    good = daemon.conf.read_text()
    daemon.conf.write_text(good + '\n[program:broken]\nautostart=true\n')  # no command=
    assert_fault(CANT_REREAD, rpc.supervisor.reloadConfig, prefix='CANT_REREAD: ')
    daemon.conf.write_text(good + '\n[program:broken]\ncommand=/bin/true\nstartsecs=abc\n')
    assert_fault(CANT_REREAD, rpc.supervisor.reloadConfig, prefix='CANT_REREAD: ')
    assert rpc.supervisor.getState()['statename'] == 'RUNNING'
    daemon.conf.write_text(good)
    assert rpc.supervisor.reloadConfig() == [[[], [], []]]


# --------------------------------------------------------------------------- sockets, auth

def test_unix_socket_default_mode(daemon):
    mode = os.stat(daemon.sock_path).st_mode
    assert stat.S_ISSOCK(mode)
    assert stat.S_IMODE(mode) == 0o700


@pytest.fixture(params=['plain', 'sha'])
def auth_daemon(request):
    stored = 'secret' if request.param == 'plain' else '{SHA}' + sha1_hex('secret')
    return make_daemon(request, auth=('user', stored, 'secret'), chmod='0760')


AUTH_PATHS = [('POST', '/RPC2'), ('GET', '/'), ('GET', '/logtail/sleeper'),
              ('GET', '/mainlogtail'), ('GET', '/index.html')]


def check_401(auth_daemon, transport, headers):
    for method, path in AUTH_PATHS:
        body = xml_call('supervisor.getState') if method == 'POST' else None
        status, hdrs, _ = http_request(auth_daemon, transport, method, path, body, headers)
        assert status == 401, (method, path, status)
        assert hdrs.get('www-authenticate', '').startswith('Basic realm='), (path, hdrs)


def test_auth_required(auth_daemon, transport):
    check_401(auth_daemon, transport, {})


def test_auth_wrong_credentials(auth_daemon, transport):
    for user, password in [('user', 'wrong'), ('other', 'secret'), ('user', ''),
                           ('user', '{SHA}' + sha1_hex('secret')), ('user', sha1_hex('secret'))]:
        check_401(auth_daemon, transport, {'Authorization': basic_auth(user, password)})
    check_401(auth_daemon, transport, {'Authorization': 'Bearer secret'})
    # undecodable credentials: the reference answers 400 (no challenge); 401 denies as well
    status, _, _ = http_request(auth_daemon, transport, 'POST', '/RPC2',
                                xml_call('supervisor.getState'),
                                {'Authorization': 'Basic !!!notbase64'})
    assert status in (400, 401)
    proxy = auth_daemon.proxy(transport, 'user', 'wrong')
    with pytest.raises(xmlrpc.client.ProtocolError) as info:
        proxy.supervisor.getState()
    assert info.value.errcode == 401


def test_auth_right_credentials(auth_daemon, transport):
    proxy = auth_daemon.proxy(transport)
    assert proxy.supervisor.getState() == {'statecode': 1, 'statename': 'RUNNING'}
    assert proxy.system.listMethods() == sorted(SIGNATURES)
    good = {'Authorization': basic_auth('user', 'secret')}
    status, _, _ = http_request(auth_daemon, transport, 'GET', '/', headers=good)
    assert status == 200  # the web UI
    conn = http_connection(auth_daemon, transport, 10)
    try:
        conn.request('GET', '/mainlogtail', headers=good)
        resp = conn.getresponse()
        assert resp.status == 200
        assert auth_daemon.proxy(transport).supervisor.stopProcess('sleeper')
        read_until(resp, b'stopped: sleeper')
    finally:
        conn.close()


def test_auth_socket_chmod(auth_daemon):
    assert stat.S_IMODE(os.stat(auth_daemon.sock_path).st_mode) == 0o760


# --------------------------------------------------------------------------- log tails over HTTP

def read_until(resp, needle, timeout=10, buf=b''):
    end = time.monotonic() + timeout
    while needle not in buf:
        assert time.monotonic() < end, 'timed out waiting for %r in stream (got %r)' % (
            needle, buf[-300:])
        chunk = resp.read1(65536)
        assert chunk, 'stream closed before %r (got %r)' % (needle, buf[-300:])
        buf += chunk
    return buf


def open_stream(daemon, transport, path):
    conn = http_connection(daemon, transport, 10)
    conn.request('GET', path, headers={'Host': 'localhost'})
    resp = conn.getresponse()
    return conn, resp


def test_logtail_streams(rpc, daemon, transport):
    assert rpc.supervisor.sendProcessStdin('cat', 'first line\n')
    daemon.wait_log('cat', 'first line')
    conn, resp = open_stream(daemon, transport, '/logtail/cat')
    try:
        assert resp.status == 200
        assert resp.getheader('Content-Type') == 'text/plain;charset=utf-8'
        assert resp.getheader('X-Accel-Buffering') == 'no'  # for proxies like nginx
        buf = read_until(resp, b'first line\n')
        assert rpc.supervisor.sendProcessStdin('cat', 'second line\n')
        buf = read_until(resp, b'second line\n', buf=buf)
        assert buf == b'first line\nsecond line\n'
    finally:
        conn.close()
    daemon.alive()


def test_logtail_channels(daemon, transport):
    daemon.wait_log('echo', 'out-text')
    daemon.wait_log('echo', 'err-text', 'stderr')
    for path, text in [('/logtail/echo', b'out-text\n'), ('/logtail/echo/stdout', b'out-text\n'),
                       ('/logtail/echo/stderr', b'err-text\n'),
                       ('/logtail/echo:echo/stderr', b'err-text\n')]:
        conn, resp = open_stream(daemon, transport, path)
        try:
            assert resp.status == 200, path
            assert read_until(resp, text) == text, path
        finally:
            conn.close()


def test_mainlogtail_streams(rpc, daemon, transport):
    conn, resp = open_stream(daemon, transport, '/mainlogtail')
    try:
        assert resp.status == 200
        first = resp.read1(65536)
        assert first and first in daemon.logfile.read_bytes()
        assert rpc.supervisor.stopProcess('sleeper')
        read_until(resp, b'stopped: sleeper', buf=first)
    finally:
        conn.close()


def test_logtail_not_found(daemon, transport):
    wrong = []
    for path in ['/logtail/nosuch', '/logtail/g:nosuch', '/logtail/nolog',
                 '/logtail/nolog/stderr', '/logtail/sleeper/nochannel', '/logtail/g']:
        conn, resp = open_stream(daemon, transport, path)
        try:
            if resp.status != 404:
                wrong.append((path, resp.status))
        finally:
            conn.close()
    assert not wrong, wrong
    daemon.alive()


def test_logtail_of_never_started_process_is_not_found(daemon, transport):
    # the reference creates a process's log files when it first spawns it
    conn, resp = open_stream(daemon, transport, '/logtail/idle')
    try:
        assert resp.status == 404
    finally:
        conn.close()
