#!/usr/bin/env python3
"""Event benchmarks (`make bench`): how fast our supervisord delivers
PROCESS_LOG_STDOUT events to an event listener, against the reference
Supervisor 4.3.0 in the same run.

One listener (`[eventlistener:l]`, `events=PROCESS_LOG_STDOUT`, default
buffer_size=10) speaks the raw READY / RESULT protocol in a few lines of
Python, acknowledges every event at once (`RESULT 2\\nOK` and the next
`READY` in one write), and records every event it gets (header and payload)
in a file the benchmark reads. The chatty children write numbered lines to
their stdout (`stdout_events_enabled=true`), one write per line:

1. closed loop: the child keeps 4 lines in flight (fewer than buffer_size,
   so nothing may be dropped): it writes the next line each time the
   listener reports one delivered (through a FIFO). This gives the highest
   rate at which events are delivered without loss, one line per event; over
   a window: events per second and the daemon's CPU time per event; after,
   every line must have arrived, in order.
2. open loop (overload): the child writes lines as fast as it can; the
   daemon must drop events (the buffer overflows, as in the reference). Over
   a window: events and lines delivered per second, the daemon's CPU, the
   drops; the daemon must keep answering.
3. paced: N lines at a rate both daemons sustain; every line must arrive,
   in order, each exactly once.

Every process started carries BENCH_MARKER=<uuid> (see benchlib.py) and is
gone when the benchmark ends, even on error. Results go to stdout and to the
"Events (issue 7)" section of BENCHMARKS.md.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

SECTION = "Events (issue 7)"
IN_FLIGHT = 4
PACED_RATE = 1000  # lines per second

LISTENER_PY = r"""
import os, sys
rec = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
fifo = os.open(sys.argv[2], os.O_RDWR)
stdin = sys.stdin.buffer
os.write(1, b"READY\n")
while True:
    header = stdin.readline()
    if not header:
        break
    n = int(header[header.rindex(b"len:") + 4:])
    payload = stdin.read(n)
    os.write(rec, header + payload)
    os.write(1, b"RESULT 2\nOKREADY\n")
    lines = payload.count(b"\n") - 1
    if lines > 0 and b"processname:closed " in payload[:80]:
        os.write(fifo, b"x" * lines)
"""

CHILD_PY = r"""
import os, sys, time
mode, seconds, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
write = os.write
i = 0
end = time.monotonic() + seconds
if mode == "closed":
    fifo = os.open(sys.argv[4], os.O_RDWR)
    credit = int(sys.argv[5])
    while True:
        for _ in range(credit):
            i += 1
            write(1, b"%d chatty line\n" % i)
        if time.monotonic() > end:
            break
        credit = len(os.read(fifo, 4096))
elif mode == "open":
    while time.monotonic() < end:
        for _ in range(100):
            i += 1
            write(1, b"%d chatty line\n" % i)
elif mode == "paced":
    rate = float(sys.argv[4])
    t = time.monotonic()
    n = int(seconds * rate)
    for _ in range(n):
        i += 1
        write(1, b"%d chatty line\n" % i)
        t += 1 / rate
        d = t - time.monotonic()
        if d > 0:
            time.sleep(d)
with open(out, "w") as f:
    f.write(str(i))
"""


class Recording:
    """Reads the listener's record of events incrementally: per process
    name, the number of events and the line numbers they carried."""

    def __init__(self, path):
        self.path = path
        self.f = None
        self.buf = b""
        self.counts = {}
        self.numbers = {}

    def poll(self):
        if self.f is None:
            try:
                self.f = open(self.path, "rb")
            except FileNotFoundError:
                return
        self.buf += self.f.read()
        pos = 0
        buf = self.buf
        while True:
            nl = buf.find(b"\n", pos)
            if nl < 0:
                break
            n = int(buf[buf.rindex(b"len:", pos, nl) + 4:nl])
            if len(buf) < nl + 1 + n:
                break
            payload = buf[nl + 1:nl + 1 + n]
            pos = nl + 1 + n
            phead, _, data = payload.partition(b"\n")
            name = phead.split(b" ", 1)[0].split(b":", 1)[1].decode()
            self.counts[name] = self.counts.get(name, 0) + 1
            nums = self.numbers.setdefault(name, [])
            for line in data.split(b"\n"):
                if line:
                    nums.append(int(line.split(b" ", 1)[0]))
        self.buf = buf[pos:]

    def count(self, name):
        self.poll()
        return self.counts.get(name, 0)

    def lines(self, name):
        """The line numbers the events of `name` carried, in order."""
        return self.numbers.get(name, [])

    def close(self):
        if self.f is not None:
            self.f.close()


def programs(session, workdir):
    listener = os.path.join(workdir, "listener.py")
    child = os.path.join(workdir, "child.py")
    with open(listener, "w") as f:
        f.write(LISTENER_PY)
    with open(child, "w") as f:
        f.write(CHILD_PY)
    fifo = os.path.join(workdir, "credits.fifo")
    os.mkfifo(fifo)
    rec = os.path.join(workdir, "events.rec")
    return fifo, rec, child, listener


def config(py, fifo, rec, child, listener, workdir, window):
    run = window + 1.0
    progs = ""
    for name, extra in (("closed", f"{fifo} {IN_FLIGHT}"), ("open", ""),
                        ("paced", f"{PACED_RATE}")):
        seconds = run
        progs += f"""\
[program:{name}]
command={py} {child} {name} {seconds} {workdir}/{name}.count {extra}
autostart=false
autorestart=false
startsecs=0
stdout_events_enabled=true

"""
    progs += f"""\
[eventlistener:l]
command={py} {listener} {rec} {fifo}
events=PROCESS_LOG_STDOUT
autorestart=true
startsecs=0
"""
    return progs


def check_lines(got, total):
    """None, or how the delivered line numbers differ from 1..total."""
    if got == list(range(1, total + 1)):
        return None
    seen = set(got)
    missing = total - len(seen & set(range(1, total + 1)))
    dups = len(got) - len(seen)
    order = any(b < a for a, b in zip(got, got[1:]))
    return f"{missing} of {total} lines missing, {dups} duplicated, " + \
        ("out of order" if order else "in order")


def run_kind(session, kind, window):
    workdir = os.path.join(session.tmp, f"events-{kind}")
    os.makedirs(workdir)
    fifo, rec_path, child, listener = programs(session, workdir)
    d = session.daemon(kind, "events",
                       config(session.python, fifo, rec_path, child, listener, workdir, window))
    rpc = d.rpc()
    rec = Recording(rec_path)
    res = {}
    try:
        meter = bl.CpuMeter(d.pid)
        d.wait_states({"RUNNING"}, 1, timeout=30, rpc=rpc)  # the listener
        for mode in ("closed", "paced", "open"):
            rpc.supervisor.startProcess(mode, False)
            base = rec.count(mode)
            bl.wait_until(lambda: rec.count(mode) > base, 10, f"{kind}: first {mode} event",
                          alive=d.check_alive)
            time.sleep(0.5)  # not measured: warm-up
            e0, c0, t0 = rec.count(mode), meter.read(), bl.now()
            time.sleep(window)  # the measurement window
            e1, c1, t1 = rec.count(mode), meter.read(), bl.now()
            # The daemon must still answer while (or right after) it is flooded.
            a0 = bl.now()
            rpc.supervisor.getState()
            answer = bl.now() - a0
            wait_exited(d, rpc, mode)
            total = int(open(os.path.join(workdir, f"{mode}.count")).read())
            drain(rec, mode, total, d)
            got = rec.lines(mode)
            events = e1 - e0
            span = t1 - t0
            r = {"events_per_s": events / span, "cpu_per_event": (c1 - c0) / max(events, 1),
                 "cpu_share": (c1 - c0) / span, "total": total, "got": len(got),
                 "problem": check_lines(got, total) if mode != "open" else None,
                 "lines_per_event": len(got) / max(1, rec.count(mode)),
                 "getstate": answer}
            r["events"] = rec.count(mode)
            r["lines_per_s"] = r["events_per_s"] * r["lines_per_event"]
            res[mode] = r
            print(f"    [{kind}] {mode}: {r['events_per_s']:,.0f} events/s, "
                  f"{r['lines_per_event']:.2f} lines/event, daemon CPU "
                  f"{bl.fmt_us(r['cpu_per_event'])}/event ({r['cpu_share'] * 100:.0f}% of a CPU); "
                  f"{len(got):,} of {total:,} lines delivered"
                  + (f"; {r['problem']}" if r["problem"] else "")
                  + f"; getState after {bl.fmt_ms(answer)}", flush=True)
            if r["problem"]:
                session.note(f"{kind}, {mode} ({IN_FLIGHT} lines in flight / {PACED_RATE} lines/s, "
                             f"buffer_size 10): {r['problem']}")
        overflow = [l for l in d.log_lines() if "overflowed" in l]
        res["overflow_lines"] = len(overflow)
        other = [l for l in d.log_lines() if (" ERRO " in l or " CRIT " in l)
                 and "overflowed" not in l and "running as root" not in l
                 and "CRIT Server" not in l]
        if other:
            session.note(f"{kind}: main log: {other[0]}")
        rpc("close")()
        d.stop()
    finally:
        rec.close()
        d.close()
    return res


def drain(rec, name, total, d, quiet=0.3, timeout=10):
    """Reads the record until it holds `total` lines of `name`, or nothing
    new has come for `quiet` seconds (events were dropped)."""
    deadline = bl.now() + timeout
    last, last_t = -1, bl.now()
    while bl.now() < deadline:
        rec.poll()
        n = len(rec.lines(name))
        if n >= total:
            return
        if n != last:
            last, last_t = n, bl.now()
        elif bl.now() - last_t > quiet:
            return
        d.check_alive()
        time.sleep(0.01)


def wait_exited(d, rpc, name, timeout=30):
    def exited():
        info = rpc.supervisor.getProcessInfo(name)
        return info["statename"] in ("EXITED", "FATAL", "BACKOFF")

    bl.wait_until(exited, timeout, f"{d.kind}: {name} to exit", interval=0.02,
                  alive=d.check_alive)
    info = rpc.supervisor.getProcessInfo(name)
    if info["statename"] != "EXITED" or info["exitstatus"] != 0:
        raise bl.BenchError(f"{d.kind}: {name} ended {info['statename']} "
                            f"(exit status {info['exitstatus']})")


def run(session, res):
    window = 1.5 if session.quick else 3.0
    res["window"] = window
    for kind in bl.KINDS:
        print(f"[{kind}] one listener, chatty children ...", flush=True)
        res[kind] = run_kind(session, kind, window)
    o, r = res["ours"]["open"], res["reference"]["open"]
    if o["lines_per_s"] < r["lines_per_s"]:
        session.note(
            f"under a flood, ours delivered {o['lines_per_s'] / r['lines_per_s'] * 100:.0f}% of the "
            f"lines per second the reference delivered ({o['got'] / o['total'] * 100:.1f}% of what "
            f"its child wrote, against {r['got'] / r['total'] * 100:.1f}%), and logged "
            f"{res['ours']['overflow_lines']:,} 'buffer overflowed' lines against "
            f"{res['reference']['overflow_lines']:,}: it reads the flooding pipe in many small "
            "reads per loop pass, each a PROCESS_LOG event, while the listener gets at most one "
            "event per pass")


def build_rows(res):
    o, r = res["ours"], res["reference"]
    rows = []
    oc, rc = o["closed"], r["closed"]
    rows.append((f"events/s to one listener, closed loop ({IN_FLIGHT} lines in flight)",
                 bl.fmt_num(oc["events_per_s"], "/s"), bl.fmt_num(rc["events_per_s"], "/s"),
                 bl.ratio(oc["events_per_s"], rc["events_per_s"]), "≥ 10x",
                 bl.verdict(oc["events_per_s"] >= 10 * rc["events_per_s"])))
    rows.append(("closed loop: lines per event", f"{oc['lines_per_event']:.2f}",
                 f"{rc['lines_per_event']:.2f}", "", "", ""))
    rows.append(("closed loop: daemon CPU per event", bl.fmt_us(oc["cpu_per_event"]),
                 bl.fmt_us(rc["cpu_per_event"]), bl.ratio(rc["cpu_per_event"], oc["cpu_per_event"]),
                 "", ""))
    rows.append(("closed loop: daemon-bound ceiling (1 / CPU per event)",
                 bl.fmt_num(1 / oc["cpu_per_event"], "/s"), bl.fmt_num(1 / rc["cpu_per_event"], "/s"),
                 bl.ratio(rc["cpu_per_event"], oc["cpu_per_event"]), "≥ 10x",
                 bl.verdict(rc["cpu_per_event"] >= 10 * oc["cpu_per_event"])))
    rows.append(("closed loop: daemon CPU use", f"{oc['cpu_share'] * 100:.0f}%",
                 f"{rc['cpu_share'] * 100:.0f}%", "", "", ""))
    rows.append(("closed loop: every line delivered, in order (below buffer_size)",
                 "yes" if not oc["problem"] else "**NO**", "yes" if not rc["problem"] else "**NO**",
                 "", f"ours: {oc['got']:,} lines", bl.verdict(not oc["problem"])))
    oo, ro = o["open"], r["open"]
    rows.append(("events/s, open loop (child floods; buffer overflows)",
                 bl.fmt_num(oo["events_per_s"], "/s"), bl.fmt_num(ro["events_per_s"], "/s"),
                 bl.ratio(oo["events_per_s"], ro["events_per_s"]), "", ""))
    rows.append(("open loop: lines delivered per second", bl.fmt_num(oo["lines_per_s"], "/s"),
                 bl.fmt_num(ro["lines_per_s"], "/s"), bl.ratio(oo["lines_per_s"], ro["lines_per_s"]),
                 "", ""))
    rows.append(("open loop: lines per event", f"{oo['lines_per_event']:.1f}",
                 f"{ro['lines_per_event']:.1f}", "", "", ""))
    rows.append(("open loop: daemon CPU per delivered event", bl.fmt_us(oo["cpu_per_event"]),
                 bl.fmt_us(ro["cpu_per_event"]), bl.ratio(ro["cpu_per_event"], oo["cpu_per_event"]),
                 "", ""))
    rows.append(("open loop: daemon CPU use", f"{oo['cpu_share'] * 100:.0f}%",
                 f"{ro['cpu_share'] * 100:.0f}%", "", "", ""))
    rows.append(("open loop: lines delivered / written",
                 f"{oo['got']:,} / {oo['total']:,}", f"{ro['got']:,} / {ro['total']:,}", "",
                 "drops expected", ""))
    rows.append(("open loop: 'buffer overflowed' lines in the main log",
                 f"{o['overflow_lines']:,}", f"{r['overflow_lines']:,}", "", "", ""))
    rows.append(("getState right after the flood", bl.fmt_ms(oo["getstate"]),
                 bl.fmt_ms(ro["getstate"]), bl.ratio(ro["getstate"], oo["getstate"]), "", ""))
    op, rp = o["paced"], r["paced"]
    rows.append((f"paced {PACED_RATE} lines/s: lines delivered, in order",
                 f"{op['got']:,} / {op['total']:,}", f"{rp['got']:,} / {rp['total']:,}", "",
                 "no event lost", bl.verdict(not op["problem"])))
    rows.append(("paced: lines per event", f"{op['lines_per_event']:.2f}",
                 f"{rp['lines_per_event']:.2f}", "", "", ""))
    rows.append(("paced: daemon CPU per event", bl.fmt_us(op["cpu_per_event"]),
                 bl.fmt_us(rp["cpu_per_event"]), bl.ratio(rp["cpu_per_event"], op["cpu_per_event"]),
                 "", ""))
    rows.append(("paced: daemon CPU use", f"{op['cpu_share'] * 100:.1f}%",
                 f"{rp['cpu_share'] * 100:.1f}%", "", "", ""))
    return rows


def intro(res):
    return (
        bl.machine_sentence(res, "events_bench.py") + " "
        "One `[eventlistener:l]` (`events=PROCESS_LOG_STDOUT`, buffer_size 10) written in raw "
        "READY/RESULT protocol in Python, acknowledging each event at once and recording it; "
        "chatty children in Python with `stdout_events_enabled=true`, one `write` per numbered "
        "line. Closed loop: the child keeps 4 lines in flight, writing the next when the listener "
        "reports one delivered (through a FIFO), the lossless maximum rate of the whole chain "
        "(child → daemon → listener), which the daemon's speed bounds; open loop: the child "
        "writes as fast as it can, the daemon drops the oldest events when the pool's buffer is "
        "full (as the reference does), and the rate is what reaches the listener; paced: "
        f"{PACED_RATE} lines/s, every one must arrive. Windows of {res['window']:g} s after "
        "0.5 s of warm-up; daemon CPU is schedstat CPU time over the window divided by the events "
        "delivered in it. Both daemons run the same listener and children. The closed loop's "
        "rate is bound by the whole chain (two Python processes and the daemon sharing the "
        "machine's CPUs), so the daemon's own cost shows in its CPU per event and in the ceiling "
        "1 / (CPU per event). The ratio column is the advantage of ours: ours/reference for "
        "rates, reference/ours for costs."
    )


def main():
    args = bl.arg_parser(__doc__).parse_args()
    return bl.run_main(args, SECTION, run, build_rows, intro)


if __name__ == "__main__":
    sys.exit(main())
