"""The web interface (`/`, `index.html`, `tail.html`) of our daemon.

Two halves:

* plain HTTP (http.client, over the unix socket and over TCP): every action URL answers
  303 with `Location: index.html?message=...` worded as the reference words it, the
  action really happened, and the page it points to shows the message; 401 with a
  `WWW-Authenticate` challenge without credentials or with wrong ones (and the action is
  then not done); escaping of the message and of log text;
* a real headless browser (Debian's chromium driven by Selenium through
  /usr/bin/chromedriver, nothing downloaded): load the page, click Stop / Start / Restart /
  Clear Log / Tail / Refresh / Stop All / Restart All and watch the rows and the message
  change, check the page fits a phone's width, and keep screenshots in tests/artifacts/
  (web-status.png, web-status-phone.png, web-tail.png).

Only for our daemon: the reference's markup and redirects (301 to an absolute URL) differ
by design.  Each test gets a fresh daemon in a temporary directory; every process it starts
carries WEBTEST_MARKER=<token>, and the finalizer stops the daemon, then scans /proc for the
marker and fails the test if anything survived (after killing it).  Synchronisation is by
polling with deadlines, never by a bare sleep.
"""
import base64
import html.parser
import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import urllib.parse
import xmlrpc.client
from pathlib import Path

import pytest
from interop_common import free_port, kill_survivors, wait_for

pytestmark = pytest.mark.skipif(os.environ.get('RPC_DAEMON') == 'reference',
                                reason='the web UI markup is ours, not the reference\'s')

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get('WEB_ARTIFACTS') or REPO / 'tests' / 'artifacts')
CHROMIUM = os.environ.get('CHROMIUM') or '/usr/bin/chromium'
CHROMEDRIVER = os.environ.get('CHROMEDRIVER') or '/usr/bin/chromedriver'
MARKER_VAR = 'WEBTEST_MARKER'
TIMEOUT = 20
USER, PASSWORD = 'webuser', 'pa ss:w0rd'
TAIL_TEXT = 'hello-from-web <tag> & co'
CHROMIUM_FLAGS = ('--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
                  '--no-first-run', '--disable-background-networking',
                  '--disable-component-update', '--disable-sync', '--hide-scrollbars',
                  '--window-size=1280,900')

SLEEP = "/bin/sh -c 'exec sleep 1000'"
PROGRAMS = {
    'web': dict(command='/bin/sh -c \'echo "%s"; exec sleep 1000\'' % TAIL_TEXT, startsecs=0),
    'idle': dict(command=SLEEP, startsecs=0, autostart='false',
                 stdout_logfile='NONE', stderr_logfile='NONE'),
    'broken': dict(command='/bin/false', startsecs=1, startretries=0),
    'missing': dict(command='/nonexistent/prog', startsecs=0, autostart='false'),
    'ga': dict(command=SLEEP, startsecs=0),
    'gb': dict(command=SLEEP, startsecs=0),
}
GROUPS = {'grp': 'ga,gb'}
SETTLED = {'web': 'RUNNING', 'idle': 'STOPPED', 'broken': 'FATAL', 'missing': 'STOPPED',
           'grp:ga': 'RUNNING', 'grp:gb': 'RUNNING'}
RUNNING_STATES = ('RUNNING', 'STARTING', 'BACKOFF')


def basic(user, password):
    return 'Basic ' + base64.b64encode(('%s:%s' % (user, password)).encode()).decode()


# --------------------------------------------------------------------------- daemon

class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=TIMEOUT):
        super().__init__('localhost', timeout=timeout)
        self.path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.path)
        self.sock = sock


class Daemon:
    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix='webt', dir='/tmp'))
        self.sock_path = str(self.dir / 'sv.sock')
        self.port = free_port()
        self.conf = self.dir / 'supervisord.conf'
        self.marker = secrets.token_hex(8)
        self.proc = None
        self.out = None

    def config_text(self):
        auth = 'username=%s\npassword=%s\n' % (USER, PASSWORD)
        out = [
            '[unix_http_server]\nfile=%s\n%s' % (self.sock_path, auth),
            '[inet_http_server]\nport=127.0.0.1:%d\n%s' % (self.port, auth),
            '[supervisord]\nlogfile=%s\npidfile=%s\nchildlogdir=%s\nloglevel=info\n'
            'identifier=webtest\nnodaemon=true\nenvironment=%s="%s"\n'
            % (self.dir / 'supervisord.log', self.dir / 'supervisord.pid', self.dir,
               MARKER_VAR, self.marker),
            '[rpcinterface:supervisor]\n'
            'supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n',
        ]
        for name, opts in PROGRAMS.items():
            opts = dict(opts)
            opts.setdefault('stdout_logfile', self.dir / ('%s.out' % name))
            opts.setdefault('stderr_logfile', self.dir / ('%s.err' % name))
            opts.setdefault('stopwaitsecs', 5)
            out.append('[program:%s]\n%s' % (name, ''.join('%s=%s\n' % kv for kv in opts.items())))
        for name, progs in GROUPS.items():
            out.append('[group:%s]\nprograms=%s\n' % (name, progs))
        return '\n'.join(out)

    def start(self):
        binary = os.environ.get('SUPERVISOR_BIN') or str(REPO / 'target' / 'debug' / 'supervisor')
        if not os.access(binary, os.X_OK):
            pytest.fail('our binary %r is missing: run `cargo build` or set SUPERVISOR_BIN'
                        % binary, pytrace=False)
        self.conf.write_text(self.config_text())
        env = dict(os.environ)
        env[MARKER_VAR] = self.marker
        env.pop('SUPERVISOR_ENABLED', None)
        self.out = open(self.dir / 'daemon.out', 'wb')
        self.proc = subprocess.Popen([binary, 'supervisord', '-c', str(self.conf), '-n'],
                                     cwd=str(self.dir), env=env, stdin=subprocess.DEVNULL,
                                     stdout=self.out, stderr=subprocess.STDOUT,
                                     start_new_session=True)

        def ready():
            if self.proc.poll() is not None:
                pytest.fail('daemon exited with %s:\n%s' % (
                    self.proc.returncode, (self.dir / 'daemon.out').read_text(errors='replace')))
            return self.rpc().supervisor.getState()['statename'] == 'RUNNING'
        wait_for(ready, 20, 'the daemon to answer getState',
                 errors=(OSError, xmlrpc.client.Error, http.client.HTTPException))
        wait_for(lambda: self.states() == SETTLED, 15, 'autostarted programs to settle',
                 errors=(OSError, xmlrpc.client.Error))

    def rpc(self):
        return xmlrpc.client.ServerProxy('http://%s:%s@127.0.0.1:%d/RPC2' % (
            urllib.parse.quote(USER), urllib.parse.quote(PASSWORD), self.port))

    def states(self):
        return {('%s:%s' % (i['group'], i['name']) if i['group'] != i['name'] else i['name']):
                i['statename'] for i in self.rpc().supervisor.getAllProcessInfo()}

    def info(self, namespec):
        return self.rpc().supervisor.getProcessInfo(namespec)

    def url(self, path='/', creds=True):
        if creds:
            return 'http://%s:%s@127.0.0.1:%d%s' % (
                urllib.parse.quote(USER, safe=''), urllib.parse.quote(PASSWORD, safe=''),
                self.port, path)
        return 'http://127.0.0.1:%d%s' % (self.port, path)

    def get(self, transport, path, auth=(USER, PASSWORD), header=None):
        """GET `path`; returns (status, headers with lower-case names, body text)."""
        if transport == 'unix':
            conn = UnixHTTPConnection(self.sock_path)
        else:
            conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=TIMEOUT)
        headers = {}
        if header is not None:
            headers['Authorization'] = header
        elif auth is not None:
            headers['Authorization'] = basic(*auth)
        try:
            conn.request('GET', path, headers=headers)
            resp = conn.getresponse()
            body = resp.read().decode('utf-8', errors='replace')
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
        finally:
            conn.close()

    def stop(self):
        """Stop the daemon; return the marked processes that survived it (killed now)."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                rpc = self.rpc()
                rpc.supervisor.stopAllProcesses(True)
                rpc.supervisor.shutdown()
                self.proc.wait(timeout=10)
            except Exception:
                pass
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            self.proc.wait()
        survivors = kill_survivors(MARKER_VAR, self.marker)
        if self.out is not None:
            self.out.close()
        return survivors


@pytest.fixture
def daemon(request):
    d = Daemon()

    def finalize():
        survivors = d.stop()
        if not survivors:
            shutil.rmtree(d.dir, ignore_errors=True)
        assert not survivors, 'processes survived the daemon (killed now): %s; dir %s' % (
            survivors, d.dir)
    request.addfinalizer(finalize)
    d.start()
    return d


# --------------------------------------------------------------------------- page parsing

class Page(html.parser.HTMLParser):
    """What the tests read from a page: the text of elements by id, each row's state and
    description (rows are `tr[data-name]`, the state is `.state`, the description
    `.description`), each row's action links by class, and the title."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.ids, self.rows, self.links, self.title = {}, {}, {}, None
        self._open = []  # (tag, id or None, capture key or None)
        self._row = None
        self._buf = {}
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = (a.get('class') or '').split()
        key = None
        if tag == 'tr' and 'data-name' in a:
            self._row = a['data-name']
            self.rows[self._row] = {}
            self.links[self._row] = {}
        if self._row is not None and 'state' in classes:
            key = ('row', self._row, 'state')
        elif self._row is not None and 'description' in classes:
            key = ('row', self._row, 'description')
        elif a.get('id'):
            key = ('id', a['id'])
        elif tag == 'title':
            key = ('title',)
        if tag == 'a' and self._row is not None:
            for c in classes:
                self.links[self._row][c] = a.get('href')
        if key is not None:
            self._buf[key] = ''
        if tag not in ('meta', 'br', 'img', 'link', 'input'):
            self._open.append((tag, key))

    def handle_endtag(self, tag):
        while self._open:
            t, key = self._open.pop()
            if key is not None:
                text = self._buf.pop(key)
                if key[0] == 'row':
                    self.rows[key[1]][key[2]] = text.strip()
                elif key[0] == 'id':
                    self.ids[key[1]] = text
                else:
                    self.title = text
            if t == tag:
                break
        if tag == 'tr':
            self._row = None

    def handle_data(self, data):
        for key in self._buf:
            self._buf[key] += data


def check_page(body):
    """What every page must be: self-contained HTML, no script, nothing external."""
    assert body.lstrip().lower().startswith('<!doctype html>'), body[:200]
    assert '<script' not in body.lower()
    assert not re.search(r'''(src|href)\s*=\s*["']?(https?:)?//''', body, re.I), \
        'external reference in page'
    assert 'name="viewport"' in body
    return Page(body)


# --------------------------------------------------------------------------- plain HTTP

@pytest.fixture(params=['unix', 'inet'])
def transport(request):
    return request.param


PROTECTED = ['/', '/index.html', '/index.html?message=hi', '/tail.html?processname=web',
             '/tail.html', '/index.html?processname=web&action=stop',
             '/index.html?action=stopall', '/?action=restartall']
BAD_AUTH = [dict(auth=None), dict(auth=(USER, 'wrong')), dict(auth=('nobody', PASSWORD)),
            dict(auth=(USER, '')), dict(header='Basic !!!not-base64'),
            dict(header='Bearer ' + basic(USER, PASSWORD)[6:])]


def test_http_requires_credentials(daemon, transport):
    pid = daemon.info('web')['pid']
    for path in PROTECTED:
        for kw in BAD_AUTH:
            status, headers, body = daemon.get(transport, path, **kw)
            assert status == 401, (path, kw, status, body[:200])
            assert headers.get('www-authenticate', '').startswith('Basic realm='), (
                path, kw, headers)
    # nothing was done by the refused actions
    info = daemon.info('web')
    assert (info['statename'], info['pid']) == ('RUNNING', pid)
    assert daemon.states() == SETTLED
    status, _, body = daemon.get(transport, '/')
    assert status == 200, body[:300]


def act(daemon, transport, query, expected, exact=True):
    """GET index.html?QUERY: a 303 to index.html?message=M (M == expected, or starts with
    it), then that page shows M in #message; returns (M, the page)."""
    status, headers, body = daemon.get(transport, '/index.html?' + query)
    assert status == 303, (query, status, body[:300])
    location = headers.get('location', '')
    parts = urllib.parse.urlsplit(location)
    assert parts.path == 'index.html' and not parts.netloc, location
    message = urllib.parse.parse_qs(parts.query).get('message', [''])[0]
    if exact:
        assert message == expected, (query, location)
    else:
        assert message.startswith(expected), (query, location)
    assert headers.get('cache-control') == 'no-cache'
    status, headers, body = daemon.get(transport, '/' + location)
    assert status == 200, body[:300]
    assert headers.get('content-type', '').startswith('text/html')
    page = check_page(body)
    assert page.ids.get('message') == message, page.ids
    return message, page


def test_http_every_action(daemon, transport):
    for path in ('/', '/index.html'):
        status, headers, body = daemon.get(transport, path)
        assert status == 200, body[:300]
        page = check_page(body)
        assert 'message' not in page.ids
        assert {n: r['state'] for n, r in page.rows.items()} == SETTLED
        assert page.title == 'Supervisor Status'
        pid = daemon.info('web')['pid']
        assert page.rows['web']['description'].startswith('pid %d, uptime ' % pid)
        assert page.rows['idle']['description'] == 'Not started'
        assert set(page.links['web']) >= {'stop', 'restart', 'clearlog', 'tail'}
        assert 'start' not in page.links['web']
        assert 'start' in page.links['idle'] and 'stop' not in page.links['idle']
        assert page.links['grp:ga']['stop'] == 'index.html?processname=grp%3Aga&action=stop'
        assert page.links['web']['tail'] == 'tail.html?processname=web'

    act(daemon, transport, 'action=refresh', 'Page refreshed at ', exact=False)

    _, page = act(daemon, transport, 'processname=web&action=stop', 'Process web stopped')
    assert daemon.info('web')['statename'] == 'STOPPED'
    assert page.rows['web']['state'] == 'STOPPED'
    assert 'start' in page.links['web']
    act(daemon, transport, 'processname=web&action=stop',
        'unexpected rpc fault [70] NOT_RUNNING: web')

    _, page = act(daemon, transport, 'processname=web&action=start', 'Process web started')
    info = daemon.info('web')
    assert info['statename'] == 'RUNNING'
    assert page.rows['web']['state'] == 'RUNNING'
    act(daemon, transport, 'processname=web&action=start', 'ERROR: Process web: already started')

    _, page = act(daemon, transport, 'processname=web&action=restart', 'Process web restarted')
    after = daemon.info('web')
    assert after['statename'] == 'RUNNING' and after['pid'] != info['pid'], (info, after)

    logfile = daemon.dir / 'web.out'
    wait_for(lambda: logfile.read_text().count(TAIL_TEXT) == 3, 5,
             'the output of three starts of web in its log')
    act(daemon, transport, 'processname=web&action=clearlog', 'Log for web cleared')
    assert logfile.read_text() == ''

    # the group member, by namespec (URL-encoded or not)
    _, page = act(daemon, transport, 'processname=grp%3Aga&action=stop', 'Process grp:ga stopped')
    assert daemon.info('grp:ga')['statename'] == 'STOPPED'
    assert page.rows['grp:ga']['state'] == 'STOPPED'
    assert page.rows['grp:gb']['state'] == 'RUNNING'
    act(daemon, transport, 'processname=grp:ga&action=start', 'Process grp:ga started')
    assert daemon.info('grp:ga')['statename'] == 'RUNNING'

    # failures, worded as the reference words them
    act(daemon, transport, 'processname=nope&action=start', 'No such process named nope')
    act(daemon, transport, 'processname=nope&action=stop', 'No such process named nope')
    act(daemon, transport, 'processname=missing&action=start',
        'ERROR: Process missing: no such file')
    act(daemon, transport, 'processname=broken&action=start',
        'ERROR: Process broken: spawn error')  # "Exited too quickly" sets spawnerr
    assert daemon.info('broken')['statename'] == 'FATAL'

    _, page = act(daemon, transport, 'action=stopall', 'All stopped at ', exact=False)
    states = daemon.states()
    assert not [n for n, s in states.items() if s in RUNNING_STATES], states
    assert not [n for n, r in page.rows.items() if r['state'] in RUNNING_STATES], page.rows

    _, page = act(daemon, transport, 'action=restartall', 'All restarted at ', exact=False)
    states = daemon.states()
    for name in ('web', 'idle', 'grp:ga', 'grp:gb'):
        assert states[name] == 'RUNNING', states
        assert page.rows[name]['state'] == 'RUNNING', page.rows

    # no (known) action: just the page
    for query in ('action=start', 'action=explode&processname=web', 'processname=web'):
        status, _, body = daemon.get(transport, '/index.html?' + query)
        assert status == 200, (query, status)
        assert 'message' not in check_page(body).ids
    assert daemon.info('web')['statename'] == 'RUNNING'


def test_http_escaping_and_tail(daemon, transport):
    evil = '<script>alert("x")</script> & <b>'
    status, _, body = daemon.get(transport, '/index.html?message=' + urllib.parse.quote(evil))
    assert status == 200
    assert check_page(body).ids['message'] == evil
    assert '&lt;script&gt;' in body

    wait_for(lambda: TAIL_TEXT in (daemon.dir / 'web.out').read_text(), 5, 'web output')
    status, headers, body = daemon.get(transport, '/tail.html?processname=web')
    assert status == 200, body[:300]
    assert headers.get('content-type', '').startswith('text/html')
    page = check_page(body)
    assert page.title == 'Supervisor tail of process web'
    assert page.ids['tail'] == TAIL_TEXT + '\n'
    assert '&lt;tag&gt; &amp; co' in body
    for path, text in [
            ('/tail.html', 'No process name found'),
            ('/tail.html?processname=', 'No process name found'),
            ('/tail.html?processname=nope', 'ERROR: unexpected rpc fault [10] BAD_NAME: nope'),
            ('/tail.html?processname=idle', 'No file for idle'),
            ('/tail.html?processname=grp%3Aga', ''),
            ('/tail.html?processname=web&limit=5', TAIL_TEXT + '\n')]:
        status, _, body = daemon.get(transport, path)
        assert status == 200, (path, status)
        assert check_page(body).ids.get('tail', '') == text, path

    # only the end of a long log (1024 bytes by default)
    long_text = ''.join('line %05d\n' % i for i in range(1000))
    (daemon.dir / 'web.out').write_text(long_text)
    status, _, body = daemon.get(transport, '/tail.html?processname=web')
    assert check_page(body).ids['tail'] == long_text[-1024:]
    status, _, body = daemon.get(transport, '/tail.html?processname=web&limit=3000')
    assert check_page(body).ids['tail'] == long_text[-3000:]


# --------------------------------------------------------------------------- the browser

@pytest.fixture
def browser(daemon):
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail('selenium is missing: `make venv` installs tests/requirements.txt',
                    pytrace=False)
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            pytest.fail('%s is missing: `make browser` (as root) installs chromium and '
                        'chromium-driver' % path, pytrace=False)
    os.environ['SE_OFFLINE'] = 'true'  # selenium-manager must not download anything
    profile = daemon.dir / 'chromium-profile'
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument('--user-data-dir=%s' % profile)
    service = Service(executable_path=CHROMEDRIVER,
                      log_output=str(daemon.dir / 'chromedriver.log'))
    driver = webdriver.Chrome(service=service, options=options)
    try:
        driver.set_page_load_timeout(TIMEOUT)
        # Basic auth on every request the browser makes (navigations, redirects, links).
        driver.execute_cdp_cmd('Network.enable', {})
        driver.execute_cdp_cmd('Network.setExtraHTTPHeaders',
                               {'headers': {'Authorization': basic(USER, PASSWORD)}})
        yield driver
    finally:
        driver.quit()


class Browser:
    """The status page as the browser shows it."""

    def __init__(self, driver, daemon):
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.common.by import By
        self.d, self.daemon, self.By, self.errors = driver, daemon, By, (WebDriverException,)

    def css(self, selector, root=None):
        return (root or self.d).find_element(self.By.CSS_SELECTOR, selector)

    def row(self, name):
        return self.css('tr[data-name="%s"]' % name)

    def state(self, name):
        return self.css('.state', self.row(name)).text.strip()

    def message(self):
        found = self.d.find_elements(self.By.ID, 'message')
        return found[0].text.strip() if found else None

    def wait(self, predicate, what, timeout=TIMEOUT):
        return wait_for(predicate, timeout, what, errors=self.errors)

    def click(self, name, action):
        """Click the `action` link of row `name`, or of the top bar when name is None."""
        if name is None:
            link = self.css('nav.bar a[href="index.html?action=%s"]' % action)
        else:
            link = self.css('a.%s' % action, self.row(name))
        assert link.is_displayed(), (name, action)
        link.click()

    def expect(self, message, states=None, prefix=False):
        """Wait until the page shows `message` and every row in `states` its state."""
        def ok():
            m = self.message()
            if m is None or not (m.startswith(message) if prefix else m == message):
                return None
            return all(self.state(n) == s for n, s in (states or {}).items()) and m
        return self.wait(ok, 'message %r and states %r (page shows %r)' % (
            message, states, self.safe_message()))

    def safe_message(self):
        try:
            return self.message()
        except self.errors:
            return None

    def pid(self, name):
        text = self.css('.description', self.row(name)).text
        m = re.match(r'pid (\d+), uptime ', text)
        assert m, text
        return int(m.group(1))

    def screenshot(self, filename):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / filename
        assert self.d.save_screenshot(str(path)), path
        assert path.stat().st_size > 1000
        return path


def test_browser(daemon, browser):
    b = Browser(browser, daemon)
    browser.get(daemon.url('/', creds=False))
    b.wait(lambda: browser.title == 'Supervisor Status', 'the status page')
    assert {n: b.state(n) for n in SETTLED} == SETTLED
    assert b.message() is None
    # badges are coloured by state class
    colours = {n: b.css('.state', b.row(n)).value_of_css_property('background-color')
               for n in ('web', 'idle', 'broken')}
    assert len(set(colours.values())) == 3, colours

    pid = b.pid('web')
    b.click('web', 'stop')
    b.expect('Process web stopped', {'web': 'STOPPED'})
    assert daemon.info('web')['statename'] == 'STOPPED'
    assert 'message=' in browser.current_url

    b.click('web', 'start')
    b.expect('Process web started', {'web': 'RUNNING'})
    started = b.pid('web')
    assert started != pid and daemon.info('web')['pid'] == started

    b.click('web', 'restart')
    b.expect('Process web restarted', {'web': 'RUNNING'})
    restarted = b.pid('web')
    assert restarted != started and daemon.info('web')['pid'] == restarted

    # the group member (its namespec has a colon, URL-encoded in the link)
    b.click('grp:ga', 'stop')
    b.expect('Process grp:ga stopped', {'grp:ga': 'STOPPED', 'grp:gb': 'RUNNING'})

    # the screenshots: desktop, then a phone's viewport (the page must not scroll sideways)
    shot = b.screenshot('web-status.png')
    browser.execute_cdp_cmd('Emulation.setDeviceMetricsOverride', {
        'width': 390, 'height': 844, 'deviceScaleFactor': 2, 'mobile': True})
    try:
        browser.refresh()
        b.wait(lambda: b.message() == 'Process grp:ga stopped', 'the page at phone size')
        widths = browser.execute_script(
            'return [document.documentElement.scrollWidth, window.innerWidth]')
        assert widths[0] <= widths[1], 'the page scrolls sideways on a phone: %r' % widths
        # nothing is cut off either (a container with overflow: hidden would not scroll)
        cut = browser.execute_script('''
            const main = document.querySelector('main'), st = getComputedStyle(main);
            const box = main.getBoundingClientRect();
            const lo = box.left + parseFloat(st.paddingLeft);
            const hi = box.right - parseFloat(st.paddingRight);
            return Array.from(main.querySelectorAll('a, span, td, div, pre'))
              .filter(e => { const r = e.getBoundingClientRect();
                             return r.width > 0 && (r.left < lo - 0.5 || r.right > hi + 0.5); })
              .map(e => [e.textContent.trim().slice(0, 40), e.getBoundingClientRect().right]);''')
        assert not cut, 'cut off on a phone (%dpx wide): %r' % (widths[1], cut)
        for n in SETTLED:
            assert b.css('a.tail', b.row(n)).is_displayed()
        b.screenshot('web-status-phone.png')
    finally:
        browser.execute_cdp_cmd('Emulation.clearDeviceMetricsOverride', {})

    # the tail, from the row's Tail link
    wait_for(lambda: (daemon.dir / 'web.out').read_text().count(TAIL_TEXT) >= 3, 5,
             'three starts of web in its log')
    b.click('web', 'tail')
    b.wait(lambda: browser.title == 'Supervisor tail of process web', 'the tail page')
    b.wait(lambda: b.css('#tail').text.count(TAIL_TEXT) == 3, 'the output of web in the tail')
    b.screenshot('web-tail.png')
    b.css('nav.bar a[href="index.html"]').click()
    b.wait(lambda: browser.title == 'Supervisor Status', 'back on the status page')

    b.click('web', 'clearlog')
    b.expect('Log for web cleared', {'web': 'RUNNING'})
    assert (daemon.dir / 'web.out').read_text() == ''
    b.click('web', 'tail')
    b.wait(lambda: browser.title == 'Supervisor tail of process web', 'the tail page')
    assert b.css('#tail').text == ''
    browser.back()
    b.wait(lambda: browser.title == 'Supervisor Status', 'back on the status page')

    b.click('idle', 'start')
    b.expect('Process idle started', {'idle': 'RUNNING'})

    b.click(None, 'refresh')
    b.expect('Page refreshed at ', prefix=True)

    b.click(None, 'stopall')
    b.expect('All stopped at ', {n: 'STOPPED' for n in ('web', 'idle', 'grp:ga', 'grp:gb')},
             prefix=True)
    assert not [n for n, s in daemon.states().items() if s in RUNNING_STATES]

    b.click(None, 'restartall')
    b.expect('All restarted at ', {n: 'RUNNING' for n in ('web', 'idle', 'grp:ga', 'grp:gb')},
             prefix=True)
    assert b.state('broken') == 'FATAL'
    assert shot.exists()
