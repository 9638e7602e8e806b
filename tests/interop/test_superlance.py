"""superlance's listeners (crashmail, fatalmailbatch, memmon, httpok), unchanged, under our
daemon (default) or the reference (EVENTS_DAEMON=reference). They talk back to the daemon
through childutils.getRPCInterface(os.environ), i.e. SUPERVISOR_SERVER_URL on the unix socket.

Mail goes to stand-ins: listeners/fake_sendmail.sh (crashmail) appends to a file, and
listeners/fake_smtp.py (fatalmailbatch speaks SMTP) is supervised like any program.
"""
import re
import shlex
import urllib.request

import pytest

from interop_common import free_port
from events_fixtures import (LISTENERS, make_daemon, py, venv_script, wait_for)

pytest.importorskip('superlance', reason='superlance is in tests/requirements.txt')


def cmd(*args):
    return ' '.join(shlex.quote(str(a)) for a in args)


def read(path):
    try:
        return path.read_text(errors='replace')
    except FileNotFoundError:
        return ''


def test_crashmail_mails_about_a_crashing_program(request):
    d = make_daemon(request, [], start=False)
    mail = d.path('mail.txt')
    sendmail = cmd('/bin/sh', LISTENERS / 'fake_sendmail.sh', mail)
    d.sections = [
        ('eventlistener:crashmail', dict(
            command=cmd(venv_script('crashmail'), '-p', 'crasher', '-p', 'grp:member',
                        '-m', 'someone@example.com', '-s', sendmail),
            events='PROCESS_STATE_EXITED')),
        ('program:crasher', dict(command='/bin/sh -c "exit 3"', autostart='false',
                                 startsecs=0, autorestart='false')),
        ('program:fine', dict(command='/bin/sh -c "exit 0"', autostart='false', startsecs=0,
                              autorestart='false')),
        ('program:member', dict(command='/bin/sh -c "exit 4"', autostart='false',
                                startsecs=0, autorestart='false')),
        ('group:grp', dict(programs='member')),
    ]
    d.start()
    d.wait_state('crashmail', 'RUNNING')
    d.start_nowait('fine')
    d.wait_state('fine', 'EXITED')
    for name in ('crasher', 'grp:member'):
        d.start_nowait(name)
        d.wait_state(name, 'EXITED')
    wait_for(lambda: read(mail).count('--end--') >= 2, 15, 'two mails in %s' % mail)
    text = read(mail)
    mails = [m.strip('\n') for m in text.split('--end--') if m.strip()]
    assert len(mails) == 2, text
    for m, proc, group in ((mails[0], 'crasher', 'crasher'), (mails[1], 'member', 'grp')):
        lines = m.split('\n')
        assert lines[0] == 'To: someone@example.com'
        assert re.fullmatch(r'Subject:  %s crashed at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}'
                            % proc, lines[1]), lines[1]
        assert lines[2] == ''
        assert re.fullmatch(r'Process %s in group %s exited unexpectedly \(pid \d+\) from '
                            r'state RUNNING' % (proc, group), lines[3]), lines[3]
    assert 'fine' not in text  # an expected exit is not mailed
    assert d.info('crashmail')['statename'] == 'RUNNING'


def test_fatalmailbatch_reports_a_fatal_program(request):
    port = free_port()
    d = make_daemon(request, [], start=False)
    box = d.path('smtp.txt')
    d.sections = [
        ('program:smtp', dict(command=py('fake_smtp.py', port, box), startsecs=0,
                              priority=1)),
        ('eventlistener:fatalmailbatch', dict(
            command=cmd(venv_script('fatalmailbatch'), '--toEmail=ops@example.com',
                        '--fromEmail=supervisor@example.com',
                        '--smtpHost=127.0.0.1:%d' % port, '--interval=0.01',
                        '--tickEvent=TICK_5'),
            events='PROCESS_STATE,TICK_5')),
        ('program:doomed', dict(command='/bin/false', autostart='false', startsecs=1,
                                startretries=0)),
    ]
    d.start()
    d.wait_state('fatalmailbatch', 'RUNNING')
    d.wait_state('smtp', 'RUNNING')
    d.start_nowait('doomed')
    d.wait_state('doomed', 'FATAL')
    # batched until the next TICK_5, then sent over SMTP
    wait_for(lambda: read(box).count('\n.\n') >= 1, 15, 'a mail in %s' % box)
    text = read(box)
    assert 'mail from:<supervisor@example.com>' in text.lower()
    assert 'rcpt to:<ops@example.com>' in text.lower()
    assert 'Subject: Fatal start alert from supervisord' in text
    assert re.search(r'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} -- Process doomed:doomed failed '
                     r'to start too many times', text), text
    assert text.count('\n.\n') == 1
    wait_for(lambda: 'Sending notification email' in read(d.path('fatalmailbatch.err')), 5,
             'fatalmailbatch to log the mail')


def test_memmon_restarts_a_program_above_its_memory_limit(request):
    d = make_daemon(request, [
        ('eventlistener:memmon', dict(
            command=cmd(venv_script('memmon'), '-p', 'hog=30MB', '-p', 'slim=30MB'),
            events='TICK_5')),
        ('program:hog', dict(command=py('talker.py', 'hog', 80), startsecs=0)),
        ('program:slim', dict(command=py('talker.py', 'hog', 1), startsecs=0)),
    ])
    d.wait_state('memmon', 'RUNNING')
    hog = d.wait_state('hog', 'RUNNING')['pid']
    slim = d.wait_state('slim', 'RUNNING')['pid']

    def restarted():
        info = d.info('hog')
        return info['statename'] == 'RUNNING' and info['pid'] not in (0, hog)
    wait_for(restarted, 15, 'memmon to restart hog (pid %d)' % hog)
    err = d.path('memmon.err')
    wait_for(lambda: 'Restarting hog:hog' in read(err), 5, 'memmon to log the restart')
    assert re.search(r'RSS of hog:hog is \d+', read(err))
    wait_for(lambda: re.search(r'RSS of slim:slim is \d+', read(err)), 10,
             'memmon to measure slim')
    assert 'Restarting slim' not in read(err)
    assert d.info('slim')['pid'] == slim
    assert d.info('memmon')['statename'] == 'RUNNING'


def test_httpok_restarts_a_program_whose_url_stops_answering(request):
    port = free_port()
    d = make_daemon(request, [], start=False)
    hang = d.path('hang')
    url = 'http://127.0.0.1:%d/' % port
    d.sections = [
        ('eventlistener:httpok', dict(
            command=cmd(venv_script('httpok'), '-p', 'web', '-t', '1', url),
            events='TICK_5')),
        ('program:web', dict(command=py('web.py', port, hang), startsecs=0)),
    ]
    d.start()
    d.wait_state('httpok', 'RUNNING')
    web = d.wait_state('web', 'RUNNING')['pid']

    def answers():
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200 and r.read() == b'ok'
    wait_for(answers, 10, '%s to answer' % url)
    hang.touch()

    def restarted():
        info = d.info('web')
        return info['statename'] == 'RUNNING' and info['pid'] not in (0, web)
    wait_for(restarted, 15, 'httpok to restart web (pid %d)' % web)
    wait_for(answers, 10, 'the restarted web to answer')
    err = d.path('httpok.err')
    wait_for(lambda: 'web restarted' in read(err), 5, 'httpok to log the restart')
    log = read(err)
    assert 'Restarting selected processes' in log
    assert 'web is in RUNNING state, restarting' in log
    assert d.info('httpok')['statename'] == 'RUNNING'
