"""Programs the event tests supervise (not listeners).

    talker.py log                 writes `out-line` to stdout and `err-line` to stderr, waits
    talker.py comm                writes a PROCESS_COMMUNICATION block on stdout and stderr
    talker.py stopper FILE NEEDLE on SIGTERM, waits (at most 15 s) until FILE contains NEEDLE
    talker.py hog MB              holds MB megabytes of touched memory, waits

Each one then waits for a signal (the default SIGTERM action ends it).
"""
import os
import signal
import sys
import time

BEGIN = b'<!--XSUPERVISOR:BEGIN-->'
END = b'<!--XSUPERVISOR:END-->'


def write(fd, data):
    while data:
        n = os.write(fd, data)
        data = data[n:]


def main(argv):
    mode = argv[1]
    keep = None
    if mode == 'log':
        write(1, b'out-line\n')
        write(2, b'err-line\n')
    elif mode == 'comm':
        write(1, b'before\n' + BEGIN + b'hello comm' + END + b'after\n')
        write(2, BEGIN + b'hello err comm' + END)
    elif mode == 'stopper':
        path, needle = argv[2], argv[3]

        def on_term(signum, frame):
            end = time.monotonic() + 15
            while time.monotonic() < end:
                try:
                    with open(path) as f:
                        if needle in f.read():
                            break
                except OSError:
                    pass
                time.sleep(0.02)
            os._exit(0)
        signal.signal(signal.SIGTERM, on_term)
    elif mode == 'hog':
        keep = bytearray(int(argv[2]) * 1024 * 1024)
        for i in range(0, len(keep), 4096):
            keep[i] = 1
    else:
        sys.exit('unknown mode %r' % mode)
    write(1, b'')
    while True:
        signal.pause()


if __name__ == '__main__':
    main(sys.argv)
