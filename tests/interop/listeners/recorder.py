"""An event listener that records every event it receives, one JSON line each.

    recorder.py OUTFILE [--rpc] [--fail-first] [--die-once FLAG] [--hold-ready FILE]
                        [--hold FILE]

Each event becomes {"kind": "event", "pid", "name", "group", "line" (the raw header line),
"headers", "payload", "result"}; at start-up one {"kind": "start", "pid", "env"} line is
written (with "state": supervisor.getState() through childutils.getRPCInterface when --rpc).

--fail-first     answer `RESULT 4\\nFAIL` the first time an event serial is seen (then OK)
--die-once FLAG  on the first event, if FLAG does not exist: create it, record the event and
                 exit(1) without answering (the event must be re-delivered to the restarted
                 listener)
--hold-ready F   do not send the first READY until file F exists
--hold F         after recording an event, do not answer until file F exists
--bad-result-once FLAG
                 on the first event, if FLAG does not exist: create it, record the event and
                 answer `RESULT x\n` (a result line without a length: a protocol violation)

It speaks the protocol with supervisor.childutils (listener.ready / ok / fail / send).
"""
import json
import os
import sys
import time

from supervisor import childutils


def wait_file(path):
    while not os.path.exists(path):
        time.sleep(0.02)


def main(argv):
    out = argv[1]
    flags = argv[2:]

    def opt(name):
        if name in flags:
            return flags[flags.index(name) + 1]
        return None

    stdin = sys.stdin
    stdin.reconfigure(encoding='utf-8', newline='\n')
    stdout = sys.stdout
    stdout.reconfigure(encoding='utf-8', newline='\n')

    def record(obj):
        obj['pid'] = os.getpid()
        obj['name'] = os.environ.get('SUPERVISOR_PROCESS_NAME')
        obj['group'] = os.environ.get('SUPERVISOR_GROUP_NAME')
        obj['t'] = time.time()
        with open(out, 'a', encoding='utf-8') as f:
            f.write(json.dumps(obj) + '\n')

    start = {'kind': 'start',
             'env': {k: v for k, v in os.environ.items() if k.startswith('SUPERVISOR_')}}
    if '--rpc' in flags:
        rpc = childutils.getRPCInterface(os.environ)
        start['state'] = rpc.supervisor.getState()
    record(start)

    if opt('--hold-ready'):
        wait_file(opt('--hold-ready'))

    seen = set()
    while True:
        childutils.listener.ready(stdout)
        line = stdin.readline()
        if not line:
            return 0
        headers = childutils.get_headers(line)
        payload = stdin.read(int(headers['len']))
        result = 'OK'
        if '--fail-first' in flags and headers['serial'] not in seen:
            result = 'FAIL'
        seen.add(headers['serial'])
        die = opt('--die-once')
        if die and not os.path.exists(die):
            open(die, 'w').close()
            record({'kind': 'event', 'line': line, 'headers': headers, 'payload': payload,
                    'result': 'died'})
            os._exit(1)
        bad = opt('--bad-result-once')
        if bad and not os.path.exists(bad):
            open(bad, 'w').close()
            record({'kind': 'event', 'line': line, 'headers': headers, 'payload': payload,
                    'result': 'bad'})
            stdout.write('RESULT x\n')
            stdout.flush()
            continue
        record({'kind': 'event', 'line': line, 'headers': headers, 'payload': payload,
                'result': result})
        if opt('--hold'):
            wait_file(opt('--hold'))
        if result == 'OK':
            childutils.listener.ok(stdout)
        else:
            childutils.listener.fail(stdout)


if __name__ == '__main__':
    sys.exit(main(sys.argv))
