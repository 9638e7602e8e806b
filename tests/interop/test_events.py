"""Event listeners against a real daemon: ours by default, the reference with
EVENTS_DAEMON=reference (the same tests must pass on both).

Listeners are tests/interop/listeners/recorder.py (supervisor.childutils); they write what
they receive to JSON-lines files that the tests poll with deadlines. Payload formats are those
of the reference's supervisor/events.py; the envelope is
`ver:3.0 server:IDENT serial:N pool:P poolserial:N eventname:E len:L\\n` + payload.

Not covered: PROCESS_STATE_UNKNOWN (no reachable transition leads to it in the reference),
TICK_60 / TICK_3600 deliveries (too slow: only their subscription is checked).
"""
import re
import time

import pytest

from interop_common import free_port
from events_fixtures import (IDENT, make_daemon, py, recorder, state_fields,
                             wait_for)

HEADER_RE = re.compile(
    r'^ver:3\.0 server:(?P<server>\S+) serial:(?P<serial>\d+) pool:(?P<pool>\S+) '
    r'poolserial:(?P<poolserial>\d+) eventname:(?P<eventname>[A-Z0-9_]+) '
    r'len:(?P<len>\d+)\n$')


def check_envelope(ev, pool):
    """The raw header line has the reference's keys in the reference's order."""
    m = HEADER_RE.match(ev['line'])
    assert m, 'bad header line %r' % ev['line']
    assert m.group('server') == IDENT
    assert m.group('pool') == pool
    assert int(m.group('len')) == len(ev['payload']), ev
    return m


def remote_payload(typ, data):
    """REMOTE_COMMUNICATION payload for sendRemoteCommEvent(typ, data)."""
    return 'type:%s\n%s' % (typ, data)


def names(events):
    return [e['headers']['eventname'] for e in events]


# --------------------------------------------------------------------------- envelope

def test_envelope_serials_and_listener_environment(request):
    d = make_daemon(request, [
        ('eventlistener:rec', recorder('rec.jsonl', '--rpc', events='REMOTE_COMMUNICATION')),
    ])
    rec = d.records('rec.jsonl')
    d.wait_state('rec:rec', 'RUNNING')
    assert d.send_remote('alpha', 'hello') is True
    assert d.send_remote('beta', 'two\nlines') is True
    evs = rec.wait_events(2)
    assert len(evs) == 2
    for i, (ev, typ, data) in enumerate(zip(evs, ('alpha', 'beta'), ('hello', 'two\nlines'))):
        m = check_envelope(ev, 'rec')
        assert m.group('eventname') == 'REMOTE_COMMUNICATION'
        # serials count the events some pool accepted (none before these), from 0
        assert int(m.group('serial')) == i
        assert int(m.group('poolserial')) == i
        assert ev['payload'] == remote_payload(typ, data)
        assert ev['headers']['ver'] == '3.0'
    start = rec.starts()[0]
    env = start['env']
    assert env['SUPERVISOR_ENABLED'] == '1'
    assert env['SUPERVISOR_PROCESS_NAME'] == 'rec'
    assert env['SUPERVISOR_GROUP_NAME'] == 'rec'
    assert env['SUPERVISOR_SERVER_URL'] == 'unix://' + d.sock_path
    # childutils.getRPCInterface(os.environ) worked from inside the listener
    assert start['state'] == {'statecode': 1, 'statename': 'RUNNING'}


@pytest.mark.parametrize('host', ['127.0.0.1', ''])
def test_server_url_of_an_inet_only_daemon(request, host):
    port = free_port()
    d = make_daemon(request, [
        ('eventlistener:rec', recorder('rec.jsonl', '--rpc', events='REMOTE_COMMUNICATION')),
        ('eventlistener:explicit', recorder('explicit.jsonl', events='REMOTE_COMMUNICATION',
                                            serverurl='http://example.invalid:1')),
    ], unix=False, inet='%s:%d' % (host, port))
    start = wait_for(lambda: d.records('rec.jsonl').starts(), 10, 'rec to start')[0]
    assert start['env']['SUPERVISOR_SERVER_URL'] == 'http://%s:%d' % (host or 'localhost', port)
    assert start['state'] == {'statecode': 1, 'statename': 'RUNNING'}
    explicit = wait_for(lambda: d.records('explicit.jsonl').starts(), 10, 'explicit')[0]
    assert explicit['env']['SUPERVISOR_SERVER_URL'] == 'http://example.invalid:1'


def test_two_pools_share_the_global_serial(request):
    d = make_daemon(request, [
        ('eventlistener:first', recorder('a.jsonl', events='REMOTE_COMMUNICATION')),
        ('eventlistener:second', recorder('b.jsonl', events='REMOTE_COMMUNICATION,TICK_60')),
        ('eventlistener:third', recorder('c.jsonl', events='PROCESS_STATE_RUNNING')),
    ])
    for n in ('first', 'second', 'third'):
        d.wait_state('%s:%s' % (n, n), 'RUNNING')
    d.send_remote('t', 'one')
    d.send_remote('t', 'two')
    a = d.records('a.jsonl').wait_events(2)
    b = d.records('b.jsonl').wait_events(2)
    for evs, pool in ((a, 'first'), (b, 'second')):
        for ev in evs:
            check_envelope(ev, pool)
        assert [e['payload'] for e in evs] == [remote_payload('t', 'one'),
                                               remote_payload('t', 'two')]
        assert [e['headers']['poolserial'] for e in evs] == ['0', '1']
    # one event, one serial, whichever pool it is delivered to
    assert [e['headers']['serial'] for e in a] == [e['headers']['serial'] for e in b]
    assert int(a[1]['headers']['serial']) == int(a[0]['headers']['serial']) + 1
    # the third pool numbers its own events from 0
    c = d.records('c.jsonl').wait_events(3, eventname='PROCESS_STATE_RUNNING')
    assert sorted(state_fields(e['payload'])['processname'] for e in c[:3]) == \
        ['first', 'second', 'third']
    assert [e['headers']['poolserial'] for e in c[:3]] == ['0', '1', '2']
    for e in c:
        check_envelope(e, 'third')


# --------------------------------------------------------------------------- PROCESS_STATE

def test_process_state_events_and_payloads(request):
    sleep = '/bin/sleep 1000'
    d = make_daemon(request, [
        ('eventlistener:rec', recorder('rec.jsonl', events='PROCESS_STATE', buffer_size=100)),
        ('program:sleeper', dict(command=sleep, autostart='false', startsecs=0)),
        ('program:exit0', dict(command='/bin/sh -c "exit 0"', autostart='false', startsecs=0,
                               autorestart='false')),
        ('program:exit3', dict(command='/bin/sh -c "exit 3"', autostart='false', startsecs=0,
                               autorestart='false')),
        ('program:flaky', dict(command='/bin/false', autostart='false', startsecs=10,
                               startretries=1)),
        ('program:member', dict(command=sleep, autostart='false', startsecs=0)),
        ('group:grp', dict(programs='member')),
    ])
    rec = d.records('rec.jsonl')
    d.wait_state('rec:rec', 'RUNNING')
    rpc = d.rpc()
    assert rpc.supervisor.startProcess('sleeper') is True
    pid = d.info('sleeper')['pid']
    assert rpc.supervisor.stopProcess('sleeper') is True
    d.start_nowait('exit0')
    d.wait_state('exit0', 'EXITED')
    d.start_nowait('exit3')
    d.wait_state('exit3', 'EXITED')
    d.start_nowait('flaky')
    d.wait_state('flaky', 'FATAL', timeout=15)
    assert rpc.supervisor.startProcess('grp:member') is True
    mpid = d.info('grp:member')['pid']

    def of(name, count):
        def got():
            evs = [e for e in rec.events(prefix='PROCESS_STATE_')
                   if state_fields(e['payload']).get('processname') == name]
            return evs if len(evs) >= count else None
        evs = wait_for(got, 10, '%d state events of %s' % (count, name))
        for e in evs:
            check_envelope(e, 'rec')
        return [(e['headers']['eventname'], e['payload']) for e in evs]

    assert of('sleeper', 4) == [
        ('PROCESS_STATE_STARTING',
         'processname:sleeper groupname:sleeper from_state:STOPPED tries:0'),
        ('PROCESS_STATE_RUNNING',
         'processname:sleeper groupname:sleeper from_state:STARTING pid:%d' % pid),
        ('PROCESS_STATE_STOPPING',
         'processname:sleeper groupname:sleeper from_state:RUNNING pid:%d' % pid),
        ('PROCESS_STATE_STOPPED',
         'processname:sleeper groupname:sleeper from_state:STOPPING pid:%d' % pid),
    ]
    for name, expected in (('exit0', 1), ('exit3', 0)):
        evs = of(name, 3)
        assert [n for n, _ in evs] == ['PROCESS_STATE_STARTING', 'PROCESS_STATE_RUNNING',
                                       'PROCESS_STATE_EXITED']
        assert evs[0][1] == 'processname:%s groupname:%s from_state:STOPPED tries:0' % (
            name, name)
        run = re.fullmatch(r'processname:%s groupname:%s from_state:STARTING pid:(\d+)'
                           % (name, name), evs[1][1])
        assert run, evs[1][1]
        assert evs[2][1] == ('processname:%s groupname:%s from_state:RUNNING expected:%d '
                             'pid:%s' % (name, name, expected, run.group(1)))
        assert int(run.group(1)) > 0
    assert of('flaky', 5) == [
        ('PROCESS_STATE_STARTING', 'processname:flaky groupname:flaky from_state:STOPPED tries:0'),
        ('PROCESS_STATE_BACKOFF', 'processname:flaky groupname:flaky from_state:STARTING tries:1'),
        ('PROCESS_STATE_STARTING', 'processname:flaky groupname:flaky from_state:BACKOFF tries:1'),
        ('PROCESS_STATE_BACKOFF', 'processname:flaky groupname:flaky from_state:STARTING tries:2'),
        ('PROCESS_STATE_FATAL', 'processname:flaky groupname:flaky from_state:BACKOFF'),
    ]
    assert of('member', 2) == [
        ('PROCESS_STATE_STARTING', 'processname:member groupname:grp from_state:STOPPED tries:0'),
        ('PROCESS_STATE_RUNNING',
         'processname:member groupname:grp from_state:STARTING pid:%d' % mpid),
    ]
    # the listener's own transitions reach it too (they were queued before it was READY)
    own = of('rec', 2)
    assert own[0] == ('PROCESS_STATE_STARTING',
                      'processname:rec groupname:rec from_state:STOPPED tries:0')
    assert own[1][0] == 'PROCESS_STATE_RUNNING'
    # pool serials: consecutive, from 0, in delivery order
    evs = rec.events()
    assert [int(e['headers']['poolserial']) for e in evs] == list(range(len(evs)))
    serials = [int(e['headers']['serial']) for e in evs]
    assert serials == sorted(serials) and len(set(serials)) == len(serials)


# --------------------------------------------------------------------------- PROCESS_LOG

def test_process_log_events(request):
    d = make_daemon(request, [
        ('eventlistener:rec', recorder('rec.jsonl', events='PROCESS_LOG')),
        ('program:talker', dict(command=py('talker.py', 'log'), startsecs=0,
                                stdout_events_enabled='true', stderr_events_enabled='true')),
        ('program:quiet', dict(command=py('talker.py', 'log'), startsecs=0)),
        ('program:member', dict(command=py('talker.py', 'log'), startsecs=0,
                                stdout_events_enabled='true')),
        ('group:grp', dict(programs='member')),
    ])
    rec = d.records('rec.jsonl')
    pid = d.wait_state('talker', 'RUNNING')['pid']
    mpid = d.wait_state('grp:member', 'RUNNING')['pid']
    out = rec.wait_match(lambda e: e['headers']['eventname'] == 'PROCESS_LOG_STDOUT'
                         and 'processname:talker ' in e['payload'])
    err = rec.wait_match(lambda e: e['headers']['eventname'] == 'PROCESS_LOG_STDERR')
    mem = rec.wait_match(lambda e: 'processname:member ' in e['payload'])
    check_envelope(out, 'rec')
    check_envelope(err, 'rec')
    assert out['payload'] == 'processname:talker groupname:talker pid:%d channel:stdout\n' \
        'out-line\n' % pid
    assert err['payload'] == 'processname:talker groupname:talker pid:%d channel:stderr\n' \
        'err-line\n' % pid
    assert mem['headers']['eventname'] == 'PROCESS_LOG_STDOUT'
    assert mem['payload'] == 'processname:member groupname:grp pid:%d channel:stdout\n' \
        'out-line\n' % mpid
    # the quiet program logs but emits no events; members emit only what they enable
    d.wait_state('quiet', 'RUNNING')
    wait_for(lambda: 'out-line' in d.path('quiet.out').read_text(), 5, 'quiet to log')
    d.send_remote('x', 'y')  # not subscribed: the pool never sees it
    assert all('processname:quiet ' not in e['payload'] for e in rec.events())
    assert not [e for e in rec.events() if 'processname:member ' in e['payload']
                and e['headers']['eventname'] == 'PROCESS_LOG_STDERR']
    assert {e['headers']['eventname'] for e in rec.events()} <= {
        'PROCESS_LOG_STDOUT', 'PROCESS_LOG_STDERR'}


def test_event_len_counts_characters_of_non_ascii_data(request):
    """`len` is the length of the payload as the reference's str (characters, not bytes):
    childutils reads stdin in text mode, so that is what frames the next event correctly.
    Output that is not UTF-8 becomes `Undecodable: b'...'`."""
    prog = "/bin/sh -c \"printf 'h\\303\\251llo \\342\\202\\254\\n'; exec sleep 1000\""
    bad = "/bin/sh -c \"printf 'a\\377\\n'; exec sleep 1000\""
    d = make_daemon(request, [
        ('eventlistener:rec', recorder('rec.jsonl', events='PROCESS_LOG_STDOUT')),
        ('program:utf', dict(command=prog, startsecs=0, stdout_events_enabled='true')),
        ('program:bad', dict(command=bad, startsecs=0, autostart='false',
                             stdout_events_enabled='true')),
        ('program:after', dict(command=py('talker.py', 'log'), startsecs=0, autostart='false',
                               stdout_events_enabled='true')),
    ])
    rec = d.records('rec.jsonl')
    pid = d.wait_state('utf', 'RUNNING')['pid']
    ev = rec.wait_events(1)[0]
    assert ev['payload'] == 'processname:utf groupname:utf pid:%d channel:stdout\n' \
        'h\u00e9llo \u20ac\n' % pid
    check_envelope(ev, 'rec')  # len == number of characters
    # the next events are framed correctly after it
    rpc = d.rpc()
    rpc.supervisor.startProcess('bad')
    bpid = d.info('bad')['pid']
    ev = rec.wait_match(lambda e: 'processname:bad ' in e['payload'])
    assert ev['payload'] == 'processname:bad groupname:bad pid:%d channel:stdout\n' \
        "Undecodable: b'a\\xff\\n'" % bpid
    check_envelope(ev, 'rec')
    rpc.supervisor.startProcess('after')
    ev = rec.wait_match(lambda e: 'processname:after ' in e['payload'])
    assert ev['payload'].endswith('channel:stdout\nout-line\n')
    check_envelope(ev, 'rec')


# --------------------------------------------------------------------------- PROCESS_COMMUNICATION

def test_process_communication_events(request):
    d = make_daemon(request, [
        ('eventlistener:rec', recorder('rec.jsonl', events='PROCESS_COMMUNICATION')),
        ('program:comm', dict(command=py('talker.py', 'comm'), startsecs=0,
                              stdout_capture_maxbytes='1MB', stderr_capture_maxbytes='1MB')),
    ])
    rec = d.records('rec.jsonl')
    pid = d.wait_state('comm', 'RUNNING')['pid']
    out = rec.wait_match(lambda e: e['headers']['eventname'] == 'PROCESS_COMMUNICATION_STDOUT')
    err = rec.wait_match(lambda e: e['headers']['eventname'] == 'PROCESS_COMMUNICATION_STDERR')
    check_envelope(out, 'rec')
    check_envelope(err, 'rec')
    assert out['payload'] == 'processname:comm groupname:comm pid:%d\nhello comm' % pid
    assert err['payload'] == 'processname:comm groupname:comm pid:%d\nhello err comm' % pid
    # the text before the block goes to the log; the block itself does not (the reference
    # holds back the text after it while it is shorter than a token, so that is not checked)
    wait_for(lambda: 'before' in d.path('comm.out').read_text(), 5, 'the log to fill')
    assert d.path('comm.out').read_text().startswith('before\n')
    assert 'hello' not in d.path('comm.out').read_text()
    assert len(rec.events()) == 2


# --------------------------------------------------------------------------- SUPERVISOR_STATE_CHANGE

def test_supervisor_state_change_running_and_stopping(request):
    d = make_daemon(request, [
        ('eventlistener:rec', recorder('rec.jsonl', events='SUPERVISOR_STATE_CHANGE')),
        # stops only once the listener has recorded SUPERVISOR_STATE_CHANGE_STOPPING, so the
        # daemon is still shutting down (and dispatching) when that event is queued
        ('program:slowstop', dict(command=py('talker.py', 'stopper', 'rec.jsonl',
                                             'SUPERVISOR_STATE_CHANGE_STOPPING'),
                                  startsecs=0, stopwaitsecs=20)),
    ])
    rec = d.records('rec.jsonl')
    running = rec.wait_events(1)[0]
    check_envelope(running, 'rec')
    assert running['headers']['eventname'] == 'SUPERVISOR_STATE_CHANGE_RUNNING'
    assert running['payload'] == ''
    assert running['headers']['len'] == '0'
    d.wait_state('slowstop', 'RUNNING')
    d.terminate(timeout=40)
    evs = rec.events()
    assert names(evs) == ['SUPERVISOR_STATE_CHANGE_RUNNING', 'SUPERVISOR_STATE_CHANGE_STOPPING']
    check_envelope(evs[1], 'rec')
    assert evs[1]['payload'] == ''
    assert evs[1]['headers']['poolserial'] == '1'


# --------------------------------------------------------------------------- PROCESS_GROUP

def test_process_group_added_and_removed(request):
    sections = [
        ('eventlistener:rec', recorder('rec.jsonl', events='PROCESS_GROUP')),
        ('program:prog', dict(command='/bin/sleep 1000', startsecs=0)),
    ]
    d = make_daemon(request, sections)
    rec = d.records('rec.jsonl')
    # at start-up: every group, in priority order (the listener's pool first, priority -1;
    # it is subscribed before its own ADDED event is sent)
    start = rec.wait_events(2)
    assert [(e['headers']['eventname'], e['payload']) for e in start] == [
        ('PROCESS_GROUP_ADDED', 'groupname:rec\n'),
        ('PROCESS_GROUP_ADDED', 'groupname:prog\n'),
    ]
    d.write_config(sections + [('program:newprog', dict(command='/bin/sleep 1000',
                                                        startsecs=0))])
    rpc = d.rpc()
    assert rpc.supervisor.reloadConfig() == [[['newprog'], [], []]]
    assert rpc.supervisor.addProcessGroup('newprog') is True
    d.wait_state('newprog', 'RUNNING')
    rpc.supervisor.stopProcessGroup('newprog')
    assert rpc.supervisor.removeProcessGroup('newprog') is True
    evs = rec.wait_events(4)
    assert [(e['headers']['eventname'], e['payload']) for e in evs[2:]] == [
        ('PROCESS_GROUP_ADDED', 'groupname:newprog\n'),
        ('PROCESS_GROUP_REMOVED', 'groupname:newprog\n'),
    ]
    for e in evs:
        check_envelope(e, 'rec')
    assert [e['headers']['poolserial'] for e in evs] == ['0', '1', '2', '3']


# --------------------------------------------------------------------------- TICK and parents

def test_parent_type_subscriptions_and_ticks(request):
    d = make_daemon(request, [
        ('eventlistener:all', recorder('all.jsonl', events='EVENT', buffer_size=100)),
        ('eventlistener:state', recorder('state.jsonl', events='PROCESS_STATE',
                                                   buffer_size=100)),
        ('eventlistener:running', recorder('running.jsonl',
                                                       events='PROCESS_STATE_RUNNING')),
        ('eventlistener:remote', recorder('remote.jsonl', events='REMOTE_COMMUNICATION')),
        ('eventlistener:tick', recorder('tick.jsonl', events='TICK')),
        ('eventlistener:slowtick', recorder('slowtick.jsonl', events='TICK_60,TICK_3600')),
        ('eventlistener:log', recorder('log.jsonl', events='PROCESS_LOG,PROCESS_COMMUNICATION')),
        ('program:prog', dict(command=py('talker.py', 'log'), startsecs=0, autostart='false',
                              stdout_events_enabled='true')),
    ])
    for n in ('all', 'state', 'running', 'remote', 'tick', 'slowtick', 'log'):
        d.wait_state('%s:%s' % (n, n), 'RUNNING')
    d.rpc().supervisor.startProcess('prog')
    d.send_remote('kind', 'payload')
    # TICK (parent) gets TICK_5 within one period
    t0 = time.time()
    tick = d.records('tick.jsonl').wait_events(1, timeout=7)[0]
    check_envelope(tick, 'tick')
    assert tick['headers']['eventname'] == 'TICK_5'
    when = int(re.fullmatch(r'when:(\d+)', tick['payload']).group(1))
    assert when % 5 == 0
    assert t0 - 6 <= when <= time.time() + 1
    # EVENT gets every kind, the TICK_5 included
    all_ = d.records('all.jsonl')
    all_.wait_events(1, eventname='TICK_5', timeout=7)
    all_.wait_events(1, eventname='REMOTE_COMMUNICATION')
    all_.wait_events(1, eventname='PROCESS_LOG_STDOUT')
    all_.wait_events(1, eventname='SUPERVISOR_STATE_CHANGE_RUNNING')
    all_.wait_events(1, eventname='PROCESS_GROUP_ADDED')
    all_.wait_match(lambda e: e['headers']['eventname'] == 'PROCESS_STATE_RUNNING'
                    and 'processname:prog ' in e['payload'])
    # PROCESS_STATE: only PROCESS_STATE_*
    state = d.records('state.jsonl')
    state.wait_match(lambda e: e['headers']['eventname'] == 'PROCESS_STATE_RUNNING'
                     and 'processname:prog ' in e['payload'])
    assert {n for n in names(state.events()) if not n.startswith('PROCESS_STATE_')} == set()
    assert {'PROCESS_STATE_STARTING', 'PROCESS_STATE_RUNNING'} <= set(names(state.events()))
    # PROCESS_STATE_RUNNING: that type only
    running = d.records('running.jsonl')
    running.wait_match(lambda e: 'processname:prog ' in e['payload'])
    assert set(names(running.events())) == {'PROCESS_STATE_RUNNING'}
    # REMOTE_COMMUNICATION only
    remote = d.records('remote.jsonl').wait_events(1)
    assert names(remote) == ['REMOTE_COMMUNICATION']
    # PROCESS_LOG,PROCESS_COMMUNICATION: the log event only
    log = d.records('log.jsonl').wait_events(1)
    assert names(log) == ['PROCESS_LOG_STDOUT']
    # TICK_60,TICK_3600: accepted, and no TICK_5 delivered to it
    assert not [n for n in names(d.records('slowtick.jsonl').events()) if n == 'TICK_5']
    assert set(names(d.records('tick.jsonl').events())) <= {'TICK_5', 'TICK_60', 'TICK_3600'}


# --------------------------------------------------------------------------- protocol

def test_buffer_overflow_drops_the_oldest(request):
    d = make_daemon(request, [
        ('eventlistener:rec', recorder('rec.jsonl', '--hold-ready', 'release',
                                       events='REMOTE_COMMUNICATION', buffer_size=3)),
    ])
    d.wait_state('rec:rec', 'RUNNING')
    for i in range(6):
        d.send_remote('n', 'e%d' % i)
    for i in range(3):
        d.wait_mainlog('pool rec event buffer overflowed, discarding event %d\n' % i)
    assert 'discarding event 3' not in d.mainlog()
    d.path('release').touch()
    rec = d.records('rec.jsonl')
    rec.wait_events(3)
    d.send_remote('n', 'e6')
    evs = rec.wait_events(4)
    assert [e['payload'] for e in evs] == [remote_payload('n', 'e%d' % i) for i in (3, 4, 5, 6)]
    assert [e['headers']['serial'] for e in evs] == ['3', '4', '5', '6']
    assert [e['headers']['poolserial'] for e in evs] == ['3', '4', '5', '6']
    for e in evs:
        check_envelope(e, 'rec')
    assert len(rec.events()) == 4


def test_result_fail_is_redelivered(request):
    d = make_daemon(request, [
        ('eventlistener:rec', recorder('rec.jsonl', '--fail-first',
                                       events='REMOTE_COMMUNICATION')),
    ])
    d.wait_state('rec:rec', 'RUNNING')
    d.send_remote('n', 'e0')
    d.send_remote('n', 'e1')
    rec = d.records('rec.jsonl')
    evs = rec.wait_events(4)
    assert [(e['payload'], e['result']) for e in evs] == [
        (remote_payload('n', 'e0'), 'FAIL'), (remote_payload('n', 'e0'), 'OK'),
        (remote_payload('n', 'e1'), 'FAIL'), (remote_payload('n', 'e1'), 'OK')]
    # a re-delivered event is the same event: same serial, same pool serial
    assert evs[0]['line'] == evs[1]['line']
    assert evs[2]['line'] == evs[3]['line']
    assert [e['headers']['poolserial'] for e in evs] == ['0', '0', '1', '1']
    d.wait_mainlog('rec: event was rejected', count=2)
    assert len({e['pid'] for e in evs}) == 1
    d.send_remote('n', 'e2')
    rec.wait_events(6)


@pytest.mark.parametrize('startsecs', [0, 1])
def test_listener_dying_mid_event_gets_it_again(request, startsecs):
    """With startsecs=1 the restarted listener says READY while still STARTING: the event
    goes to it once it is RUNNING."""
    d = make_daemon(request, [
        ('eventlistener:rec', recorder('rec.jsonl', '--die-once', 'died', startsecs=startsecs,
                                       events='REMOTE_COMMUNICATION')),
    ])
    first = d.wait_state('rec:rec', 'RUNNING')['pid']
    rec = d.records('rec.jsonl')
    wait_for(rec.starts, 10, 'the listener to start')
    d.send_remote('n', 'e0')
    evs = rec.wait_events(2, timeout=10)
    assert evs[0]['result'] == 'died' and evs[0]['pid'] == first
    assert evs[1]['result'] == 'OK' and evs[1]['pid'] != first
    assert evs[0]['line'] == evs[1]['line']
    assert evs[1]['payload'] == remote_payload('n', 'e0')
    d.send_remote('n', 'e1')
    evs = rec.wait_events(3)
    assert evs[2]['payload'] == remote_payload('n', 'e1')
    assert evs[2]['headers']['poolserial'] == '1'
    assert len(rec.starts()) == 2


def test_events_queued_while_the_listener_is_starting(request):
    """Default startsecs=1: the listener says READY while STARTING; what was queued by then
    (SUPERVISOR_STATE_CHANGE_RUNNING, PROCESS_GROUP_ADDED, a program's output) is delivered
    as soon as it is RUNNING, with nothing else happening afterwards."""
    d = make_daemon(request, [
        ('eventlistener:rec', recorder('rec.jsonl', startsecs=1,
                                       events='SUPERVISOR_STATE_CHANGE,PROCESS_GROUP,'
                                              'PROCESS_LOG')),
        ('program:talker', dict(command=py('talker.py', 'log'), startsecs=0,
                                stdout_events_enabled='true')),
    ])
    rec = d.records('rec.jsonl')
    pid = d.wait_state('talker', 'RUNNING')['pid']
    evs = rec.wait_events(4, timeout=5)
    assert [(e['headers']['eventname'], e['payload']) for e in evs] == [
        ('PROCESS_GROUP_ADDED', 'groupname:rec\n'),
        ('PROCESS_GROUP_ADDED', 'groupname:talker\n'),
        ('SUPERVISOR_STATE_CHANGE_RUNNING', ''),
        ('PROCESS_LOG_STDOUT',
         'processname:talker groupname:talker pid:%d channel:stdout\nout-line\n' % pid),
    ]
    for e in evs:
        check_envelope(e, 'rec')
    assert [e['headers']['serial'] for e in evs] == ['0', '1', '2', '3']


def test_pool_of_three_listeners(request):
    d = make_daemon(request, [
        ('eventlistener:rec', recorder('rec.jsonl', '--hold', 'release',
                                       events='REMOTE_COMMUNICATION', numprocs=3,
                                       process_name='%(program_name)s_%(process_num)s')),
    ])
    for i in range(3):
        d.wait_state('rec:rec_%d' % i, 'RUNNING')
    rec = d.records('rec.jsonl')
    wait_for(lambda: len(rec.starts()) == 3, 10, 'three listeners to start')
    for i in range(3):
        d.send_remote('n', 'e%d' % i)
    # a busy listener gets nothing more: three events, three different listeners
    evs = rec.wait_events(3)
    assert sorted(e['name'] for e in evs) == ['rec_0', 'rec_1', 'rec_2']
    assert len({e['pid'] for e in evs}) == 3
    assert {e['group'] for e in evs} == {'rec'}
    d.send_remote('n', 'e3')  # queued: everybody is busy
    d.path('release').touch()
    for i in range(4, 9):
        d.send_remote('n', 'e%d' % i)
    evs = rec.wait_events(9)
    assert sorted(e['payload'] for e in evs) == sorted(remote_payload('n', 'e%d' % i)
                                                      for i in range(9))
    assert sorted(int(e['headers']['poolserial']) for e in evs) == list(range(9))
    for e in evs:
        check_envelope(e, 'rec')
    assert len(rec.events()) == 9


def test_protocol_violation_puts_the_listener_in_unknown_state(request):
    """A listener that writes something other than READY\\n gets no event any more."""
    bad = "/bin/sh -c \"printf 'HELLO\\\\n'; exec sleep 1000\""
    d = make_daemon(request, [
        ('eventlistener:bad', dict(command=bad, events='REMOTE_COMMUNICATION')),
        ('eventlistener:rec', recorder('rec.jsonl', events='REMOTE_COMMUNICATION')),
    ])
    d.wait_mainlog('bad: has entered the UNKNOWN state and will no longer receive events, '
                   'this usually indicates the process violated the eventlistener protocol')
    d.wait_state('rec:rec', 'RUNNING')
    for i in range(3):
        d.send_remote('n', 'e%d' % i)
    evs = d.records('rec.jsonl').wait_events(3)
    assert [e['payload'] for e in evs] == [remote_payload('n', 'e%d' % i) for i in range(3)]
    d.wait_state('bad:bad', 'RUNNING')  # the daemon keeps it running all the same


def test_bad_result_line_rejects_the_event_to_another_listener(request):
    """`RESULT x` (no length): the listener enters UNKNOWN for good, and its event is rejected
    and re-queued, so the other listener of the pool gets it."""
    d = make_daemon(request, [
        ('eventlistener:rec', recorder('rec.jsonl', '--bad-result-once', 'bad',
                                       events='REMOTE_COMMUNICATION', numprocs=2,
                                       process_name='%(program_name)s_%(process_num)s')),
    ])
    for i in range(2):
        d.wait_state('rec:rec_%d' % i, 'RUNNING')
    rec = d.records('rec.jsonl')
    wait_for(lambda: len(rec.starts()) == 2, 10, 'two listeners to start')
    d.send_remote('n', 'e0')
    evs = rec.wait_events(2)
    assert [e['result'] for e in evs] == ['bad', 'OK']
    assert evs[0]['name'] != evs[1]['name']
    assert evs[0]['line'] == evs[1]['line']
    culprit, good = evs[0]['name'], evs[1]['name']
    d.wait_mainlog("%s: bad result line: 'RESULT x'" % culprit)
    d.wait_mainlog('%s: has entered the UNKNOWN state and will no longer receive events'
                   % culprit)
    for i in (1, 2, 3):
        d.send_remote('n', 'e%d' % i)
    evs = rec.wait_events(5)
    assert [e['name'] for e in evs[2:]] == [good] * 3
    assert [e['payload'] for e in evs[2:]] == [remote_payload('n', 'e%d' % i) for i in (1, 2, 3)]
    assert d.info('rec:' + culprit)['statename'] == 'RUNNING'


def test_listener_protocol_output_goes_to_its_stdout_log(request):
    d = make_daemon(request, [
        ('eventlistener:rec', recorder('rec.jsonl', '--fail-first', events='REMOTE_COMMUNICATION',
                                       stdout_logfile='%(here)s/rec.out')),
    ])
    d.wait_state('rec:rec', 'RUNNING')
    d.send_remote('n', 'e0')
    d.records('rec.jsonl').wait_events(2)
    log = d.path('rec.out')
    wait_for(lambda: log.read_text().count('READY\n') == 3, 5, 'three READY in %s' % log)
    assert log.read_text() == 'READY\nRESULT 4\nFAILREADY\nRESULT 2\nOKREADY\n'
