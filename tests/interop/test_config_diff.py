"""Differential configuration test: our `supervisord --dump-config` against the reference.

Run with the reference's Python (it imports supervisor), e.g.:
    SUPERVISOR_BIN=target/debug/supervisor /tmp/refvenv/bin/python -m pytest tests/interop

Every good config must be accepted by both with equal dumps (see DUMP_SCHEMA.md); every bad
config must be rejected by both with exit 2.  The first line of a bad config is
    ; expect: [stricter] key=value ...
Each value must appear in our stderr (by convention section=... and option=...).  `stricter`
marks configs that only we reject (the reference accepts them); for those only our
rejection is checked.
"""
import difflib
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import supervisor.tests

HERE = Path(__file__).resolve().parent
CONFIGS = HERE.parent / 'configs'
GOOD = sorted((CONFIGS / 'good').glob('*.conf'))
BAD = sorted((CONFIGS / 'bad').glob('*.conf'))
REF_FIXTURES = sorted((Path(supervisor.tests.__file__).parent / 'fixtures').glob('*.conf'))
REFDUMP = HERE / 'refdump.py'


@pytest.fixture(scope='session')
def supervisor_bin():
    path = os.environ.get('SUPERVISOR_BIN')
    if not path:
        pytest.fail('SUPERVISOR_BIN is not set: point it at our `supervisor` binary', pytrace=False)
    if not os.access(path, os.X_OK):
        pytest.fail('SUPERVISOR_BIN=%r is not an executable file' % path, pytrace=False)
    return os.path.abspath(path)


@pytest.fixture
def env(tmp_path):
    """The environment both sides run with: HOME (for ~) is the temp cwd, no TMPDIR."""
    e = {k: v for k, v in os.environ.items() if k not in ('TMPDIR', 'TEMP', 'TMP')}
    e.update(HOME=str(tmp_path),
             SUPERVISOR_TEST_VAR='hello',
             SUPERVISOR_TEST_DIR=str(tmp_path),
             SUPERVISOR_TEST_INCDIR=str(CONFIGS / 'good' / 'inc' / 'env'))
    return e


def run(cmd, cwd, env):
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)


def run_both(supervisor_bin, args, cwd, env):
    ref = run([sys.executable, str(REFDUMP)] + args, cwd, env)
    ours = run([supervisor_bin, 'supervisord', '--dump-config'] + args, cwd, env)
    return ref, ours


def pretty(obj):
    return json.dumps(obj, sort_keys=True, indent=1).splitlines(keepends=True)


def assert_same_dump(supervisor_bin, args, cwd, env, reference_may_reject=False):
    ref, ours = run_both(supervisor_bin, args, cwd, env)
    if ref.returncode != 0:
        assert reference_may_reject, 'reference rejected %s:\n%s' % (args, ref.stderr)
        assert ref.returncode == 2, ref.stderr
        assert ours.returncode == 2, 'reference rejects %s (%s) but ours exited %d:\n%s' % (
            args, ref.stderr.strip(), ours.returncode, ours.stdout + ours.stderr)
        return
    assert ours.returncode == 0, 'ours exited %d on %s:\n%s' % (ours.returncode, args, ours.stderr)
    expected = json.loads(ref.stdout)
    try:
        actual = json.loads(ours.stdout)
    except ValueError as e:
        pytest.fail('ours printed invalid JSON (%s):\n%s' % (e, ours.stdout), pytrace=False)
    if expected != actual:
        diff = ''.join(difflib.unified_diff(pretty(expected), pretty(actual),
                                            'reference', 'ours'))
        pytest.fail('dumps differ for %s:\n%s' % (' '.join(args), diff), pytrace=False)


@pytest.mark.parametrize('conf', GOOD, ids=lambda p: p.name)
def test_good_config(supervisor_bin, conf, tmp_path, env):
    assert_same_dump(supervisor_bin, ['-c', str(conf)], tmp_path, env)


@pytest.mark.parametrize('conf', REF_FIXTURES, ids=lambda p: p.name)
def test_reference_fixture(supervisor_bin, conf, tmp_path, env):
    assert_same_dump(supervisor_bin, ['-c', str(conf)], tmp_path, env, reference_may_reject=True)


@pytest.mark.parametrize('side', ['reference', 'ours'])
def test_echo_supervisord_conf(supervisor_bin, side, tmp_path, env):
    if side == 'reference':
        cmd = [sys.executable, '-c', 'from supervisor import confecho; confecho.main()']
    else:
        cmd = [supervisor_bin, 'echo_supervisord_conf']
    echoed = run(cmd, tmp_path, env)
    assert echoed.returncode == 0, echoed.stderr
    conf = tmp_path / ('%s-sample.conf' % side)
    conf.write_text(echoed.stdout)
    assert_same_dump(supervisor_bin, ['-c', str(conf)], tmp_path, env)


def parse_expect(conf):
    first = conf.read_text().splitlines()[0]
    prefix = '; expect:'
    assert first.startswith(prefix), '%s: first line must be "%s ..."' % (conf.name, prefix)
    words = shlex.split(first[len(prefix):])
    expected = dict(w.split('=', 1) for w in words if '=' in w)
    return 'stricter' in words, expected


@pytest.mark.parametrize('conf', BAD, ids=lambda p: p.name)
def test_bad_config(supervisor_bin, conf, tmp_path, env):
    stricter, expected = parse_expect(conf)
    ref, ours = run_both(supervisor_bin, ['-c', str(conf)], tmp_path, env)
    assert ours.returncode == 2, 'ours exited %d (expected 2):\n%s' % (
        ours.returncode, ours.stdout + ours.stderr)
    if stricter:
        return
    assert ref.returncode == 2, 'reference exited %d (expected 2):\n%s' % (
        ref.returncode, ref.stdout + ref.stderr)
    missing = [v for v in expected.values() if v not in ours.stderr]
    assert not missing, 'our error message lacks %s:\n%s' % (missing, ours.stderr)


# (id, good config, extra command-line options, extra environment)
OPTION_CASES = [
    ('nodaemon', '05_program_defaults.conf', ['-n'], {}),
    ('nodaemon_long', '05_program_defaults.conf', ['--nodaemon'], {}),
    ('combined_flags', '05_program_defaults.conf', ['-nkts'], {}),
    ('logfile', '05_program_defaults.conf', ['-l', 'cli.log'], {}),
    ('logfile_syslog', '05_program_defaults.conf', ['--logfile=syslog'], {}),
    ('loglevel', '05_program_defaults.conf', ['-e', 'debug'], {}),
    ('loglevel_upper', '05_program_defaults.conf', ['--loglevel', 'WARN'], {}),
    ('identifier', '05_program_defaults.conf', ['-i', 'ident'], {}),
    ('childlogdir_relative', '05_program_defaults.conf', ['-q', '.'], {}),
    ('childlogdir_long', '05_program_defaults.conf', ['--childlogdir=/tmp'], {}),
    ('nocleanup_strip_ansi', '05_program_defaults.conf', ['-k', '-t'], {}),
    ('umask', '05_program_defaults.conf', ['-m', '077'], {}),
    ('rotation', '05_program_defaults.conf', ['-y', '1MB', '-z', '3'], {}),
    ('pidfile', '05_program_defaults.conf', ['-j', 'cli.pid'], {}),
    ('user_name', '05_program_defaults.conf', ['-u', 'root'], {}),
    ('user_uid', '05_program_defaults.conf', ['--user=0'], {}),
    ('directory', '05_program_defaults.conf', ['-d', '.'], {}),
    ('minfds_minprocs', '05_program_defaults.conf', ['-a', '4096', '--minprocs=500'], {}),
    ('silent', '05_program_defaults.conf', ['-s'], {}),
    ('override_config_values', '02_supervisord_all_keys.conf',
     ['-e', 'info', '-i', 'cli', '-m', '0', '-l', 'cli.log', '-j', 'cli.pid', '-q', '/tmp',
      '-y', '5KB', '-z', '1', '-u', '0', '-d', '/'], {}),
    ('default_relative_paths', '01_minimal.conf', [], {}),
    ('tmpdir_sets_childlogdir', '01_minimal.conf', [], {'TMPDIR': '{tmp}'}),
]


@pytest.mark.parametrize('name,conf,args,extra_env', OPTION_CASES,
                         ids=[c[0] for c in OPTION_CASES])
def test_command_line_options(supervisor_bin, name, conf, args, extra_env, tmp_path, env):
    env.update({k: v.format(tmp=tmp_path) for k, v in extra_env.items()})
    assert_same_dump(supervisor_bin, ['-c', str(CONFIGS / 'good' / conf)] + args, tmp_path, env)


def test_relative_config_path(supervisor_bin, tmp_path, env):
    conf = os.path.relpath(CONFIGS / 'good' / '12_include.conf', tmp_path)
    assert_same_dump(supervisor_bin, ['-c', conf], tmp_path, env)


BAD_OPTION_CASES = [
    ('conflicting_flag', ['-n', '-n']),
    ('bad_octal_umask', ['-m', '8']),
    ('bad_loglevel', ['-e', 'loud']),
    ('missing_childlogdir', ['-q', '/nonexistent/supervisor-test-dir']),
    ('missing_logfile_dir', ['-l', '/nonexistent/supervisor-test-dir/x.log']),
    ('unknown_user', ['-u', 'no_such_user_xyz']),
    ('bad_byte_size', ['-y', '1XB']),
    ('positional_argument', ['extra']),
    ('unknown_option', ['--no-such-option']),
    ('second_config', ['-c', 'other.conf']),
]


@pytest.mark.parametrize('name,args', BAD_OPTION_CASES, ids=[c[0] for c in BAD_OPTION_CASES])
def test_bad_command_line_options(supervisor_bin, name, args, tmp_path, env):
    full = ['-c', str(CONFIGS / 'good' / '05_program_defaults.conf')] + args
    ref, ours = run_both(supervisor_bin, full, tmp_path, env)
    assert ref.returncode == 2, ref.stdout + ref.stderr
    assert ours.returncode == 2, 'ours exited %d (expected 2):\n%s' % (
        ours.returncode, ours.stdout + ours.stderr)


def test_missing_config_file(supervisor_bin, tmp_path, env):
    ref, ours = run_both(supervisor_bin, ['-c', str(tmp_path / 'missing.conf')], tmp_path, env)
    assert ref.returncode == 2, ref.stdout + ref.stderr
    assert ours.returncode == 2, ours.stdout + ours.stderr
