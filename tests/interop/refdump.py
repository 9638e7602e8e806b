#!/usr/bin/env python3
"""Dump the configuration realized by the reference Supervisor as JSON.

Usage: python refdump.py -c FILE [other supervisord options]

Prints the object described in DUMP_SCHEMA.md (beside this file) and exits 0,
or, on a configuration error, lets the reference print its message on stderr
and exits 2 (the reference's usage() exit code).
"""
import json
import shlex
import sys

from supervisor import datatypes, events, options as sopts


class RecordingServerOptions(sopts.ServerOptions):
    """ServerOptions that remembers the [rpcinterface:x] factory specs as the
    reference read them (after expansion), since the realized factories are
    plain functions."""

    rpcinterface_specs = ()

    def get_plugins(self, parser, factory_key, section_prefix):
        factories = sopts.ServerOptions.get_plugins(
            self, parser, factory_key, section_prefix)
        if section_prefix == 'rpcinterface:':
            self.rpcinterface_specs = [
                {'name': section.split(':', 1)[1],
                 'factory': parser.saneget(section, factory_key)}
                for section in parser.sections()
                if section.startswith(section_prefix)]
        return factories


def logfile(value):
    if value is None:
        return None
    if value is datatypes.Automatic:
        return 'AUTO'
    return str(value)


AUTORESTART = {
    datatypes.RestartUnconditionally: 'true',
    False: 'false',
    datatypes.RestartWhenExitUnexpected: 'unexpected',
}


def argv_of(command):
    try:
        return shlex.split(command)
    except ValueError:
        return None


def process(pc):
    d = {
        'name': pc.name,
        'command': pc.command,
        'argv': argv_of(pc.command),
        'directory': pc.directory,
        'umask': pc.umask,
        'priority': pc.priority,
        'autostart': bool(pc.autostart),
        'autorestart': AUTORESTART[pc.autorestart],
        'startsecs': pc.startsecs,
        'startretries': pc.startretries,
        'uid': pc.uid,
        'stopsignal': pc.stopsignal,
        'stopwaitsecs': pc.stopwaitsecs,
        'stopasgroup': bool(pc.stopasgroup),
        'killasgroup': bool(pc.killasgroup),
        'exitcodes': list(pc.exitcodes),
        'redirect_stderr': bool(pc.redirect_stderr),
        'environment': dict(pc.environment or {}),
        'serverurl': pc.serverurl,
    }
    for ch in ('stdout', 'stderr'):
        d[ch + '_logfile'] = logfile(getattr(pc, ch + '_logfile'))
        for key in ('capture_maxbytes', 'logfile_backups', 'logfile_maxbytes'):
            d['%s_%s' % (ch, key)] = getattr(pc, '%s_%s' % (ch, key))
        for key in ('events_enabled', 'syslog'):
            d['%s_%s' % (ch, key)] = bool(getattr(pc, '%s_%s' % (ch, key)))
    return d


def group(gc):
    d = {'name': gc.name, 'priority': gc.priority,
         'processes': [process(pc) for pc in gc.process_configs]}
    if isinstance(gc, sopts.EventListenerPoolConfig):
        d['type'] = 'eventlistener'
        d['buffer_size'] = gc.buffer_size
        d['events'] = sorted(events.getEventNameByType(e) for e in gc.pool_events)
        h = gc.result_handler
        d['result_handler'] = '%s:%s' % (h.__module__, h.__name__)
    elif isinstance(gc, sopts.FastCGIGroupConfig):
        sc = gc.socket_config
        is_unix = isinstance(sc, datatypes.UnixStreamSocketConfig)
        owner = sc.get_owner() if is_unix else None
        d['type'] = 'fcgi'
        d['socket'] = sc.url
        d['socket_owner'] = list(owner) if owner is not None else None
        d['socket_mode'] = sc.get_mode() if is_unix else None
        d['socket_backlog'] = sc.get_backlog()
    else:
        d['type'] = 'program'
    return d


def server_config(c):
    d = {'name': c['name'], 'section': c['section'],
         'username': c['username'], 'password': c['password']}
    if c['family'] == sopts.socket.AF_INET:
        d.update(family='inet', host=c['host'], port=c['port'])
    else:
        d.update(family='unix', file=c['file'], chmod=c['chmod'],
                 chown=list(c['chown']))
    return d


def supervisorctl(configfile):
    parser = sopts.UnhosedConfigParser()
    with open(configfile) as f:
        parser.read_file(f)
    if not parser.has_section('supervisorctl'):
        return None
    co = sopts.ClientOptions()
    co.realize(args=['-c', configfile], progname='supervisorctl')
    return {'serverurl': co.serverurl, 'prompt': co.prompt,
            'username': co.username, 'password': co.password,
            'history_file': co.history_file}


def dump(argv):
    o = RecordingServerOptions()
    o.realize(args=argv, progname='supervisord')
    section = o.configroot.supervisord
    return {
        'supervisord': {
            'logfile': o.logfile,
            'logfile_maxbytes': o.logfile_maxbytes,
            'logfile_backups': o.logfile_backups,
            'loglevel': o.loglevel,
            'pidfile': o.pidfile,
            'umask': o.umask,
            'nodaemon': bool(o.nodaemon),
            'silent': bool(o.silent),
            'minfds': o.minfds,
            'minprocs': o.minprocs,
            'nocleanup': bool(o.nocleanup),
            'strip_ansi': bool(o.strip_ansi),
            'childlogdir': o.childlogdir,
            'identifier': o.identifier,
            'directory': o.directory,
            'user': o.user,
            'uid': o.uid,
            'environment': dict(section.environment),
        },
        'serverurl': o.serverurl,
        'server_configs': [server_config(c) for c in o.server_configs],
        'rpcinterfaces': list(o.rpcinterface_specs),
        'groups': [group(gc) for gc in o.process_group_configs],
        'supervisorctl': supervisorctl(o.configfile),
    }


def main(argv):
    try:
        obj = dump(argv)
    except SystemExit as e:  # the reference's usage(): message already on stderr
        return e.code if isinstance(e.code, int) else 2
    print(json.dumps(obj, sort_keys=True, indent=1))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
