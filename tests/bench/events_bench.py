#!/usr/bin/env python3
"""Event benchmarks (`make bench`): how fast our supervisord delivers
PROCESS_LOG_STDOUT events to an event listener, against the reference
Supervisor 4.3.0 in the same run.

One listener (`[eventlistener:l]`, `events=PROCESS_LOG_STDOUT`, default
buffer_size=10) speaks the raw READY / RESULT protocol, acknowledges every
event at once (`RESULT 2\\nOK` and the next `READY` in one write), and
records every event it gets (header and payload) in a file the benchmark
reads. The chatty children write numbered lines to their stdout
(`stdout_events_enabled=true`), one write per line. The listener and the
children are native (`events_native.c`, compiled here with `cc -O2` into the
work directory), so that the daemon, not Python, bounds the chain; a second
run with the same programs in Python gives the closed loop as a Python
listener sees it.

1. closed loop: the child keeps a few lines in flight (fewer than
   buffer_size, so nothing may be dropped): it writes the next line each
   time the listener reports one delivered (through a FIFO). This gives the
   highest rate at which events are delivered without loss; over a window:
   events per second and the daemon's CPU time per event; after, every line
   must have arrived, in order.
2. open loop (overload): the child writes lines as fast as it can; the
   daemon must drop events (the buffer overflows, as in the reference). Over
   a window: events and lines delivered per second, the daemon's CPU, the
   drops; the daemon must keep answering.
3. paced: N lines at a rate both daemons sustain; every line must arrive,
   in order, each exactly once.

The yardstick: each event is a round trip between the daemon and the
listener (envelope out, `RESULT`/`READY` back) over two pipes; two C
processes doing only that ping-pong with the same message sizes give the
physical bound of the rate on this machine.

Every process started carries BENCH_MARKER=<uuid> (see benchlib.py) and is
gone when the benchmark ends, even on error. Results go to stdout and to the
"Events (issue 7)" section of BENCHMARKS.md.
"""

import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

SECTION = "Events (issue 7)"
# The closed loop: CHILDREN chatty children, each keeping IN_FLIGHT lines in
# flight; CHILDREN * IN_FLIGHT <= buffer_size (10), so no event may be lost.
CHILDREN = int(os.environ.get("EVENTS_BENCH_CHILDREN", "4"))
IN_FLIGHT = int(os.environ.get("EVENTS_BENCH_IN_FLIGHT", "2"))
PACED_RATE = 1000  # lines per second
NATIVE_SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "events_native.c")
ACK = b"RESULT 2\nOKREADY\n"

LISTENER_PY = r"""
import os, sys
rec = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
fifodir = sys.argv[2]
fifos = {}
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
    if lines > 0 and payload.startswith(b"processname:closed"):
        name = payload[12:payload.index(b" ")].decode()
        if name not in fifos:
            path = os.path.join(fifodir, name + ".fifo")
            try:
                os.mkfifo(path)
            except FileExistsError:
                pass
            fifos[name] = os.open(path, os.O_RDWR)
        os.write(fifos[name], b"x" * lines)
"""

CHILD_PY = r"""
import os, sys, time
mode, seconds, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
write = os.write
i = 0
end = time.monotonic() + seconds
if mode == "closed":
    path = os.path.join(sys.argv[4], os.environ["SUPERVISOR_PROCESS_NAME"] + ".fifo")
    try:
        os.mkfifo(path)
    except FileExistsError:
        pass
    fifo = os.open(path, os.O_RDWR)
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


def compile_native(session):
    """The native listener / child / ping-pong, built into the work
    directory; None (with a note) when there is no C compiler."""
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not cc:
        session.note("no C compiler (cc / gcc): native listener and child skipped")
        return None
    exe = os.path.join(session.tmp, "events_native")
    r = subprocess.run([cc, "-O2", "-o", exe, NATIVE_SRC], capture_output=True, text=True)
    if r.returncode != 0:
        session.note(f"compiling events_native.c failed: {r.stderr.strip()[:300]}")
        return None
    return exe


class Recording:
    """The listener's record of events. `snap()` is cheap (it reads what
    was appended and counts the headers in it), so windows can be timed
    around it; `parse()` later gives, per process name, the number of
    events and the line numbers they carried."""

    TOKEN = b"ver:3.0 "

    def __init__(self, path):
        self.path = path
        self.f = None
        self.raw = bytearray()
        self.events = 0  # headers seen so far, all processes
        self.parsed = 0  # bytes of raw parsed
        self.counts = {}
        self.numbers = {}

    def snap(self):
        """The number of events recorded so far (all processes)."""
        if self.f is None:
            try:
                self.f = open(self.path, "rb")
            except FileNotFoundError:
                return 0
        start = len(self.raw)
        self.raw += self.f.read()
        # A header is 8 bytes: one that starts in the last 7 bytes of what
        # was read before was not counted then.
        self.events += self.raw.count(self.TOKEN, max(0, start - len(self.TOKEN) + 1))
        return self.events

    def parse(self):
        self.snap()
        pos = self.parsed
        buf = self.raw
        while True:
            nl = buf.find(b"\n", pos)
            if nl < 0:
                break
            n = int(buf[buf.rindex(b"len:", pos, nl) + 4:nl])
            if len(buf) < nl + 1 + n:
                break
            payload = bytes(buf[nl + 1:nl + 1 + n])
            pos = nl + 1 + n
            phead, _, data = payload.partition(b"\n")
            name = phead.split(b" ", 1)[0].split(b":", 1)[1].decode()
            self.counts[name] = self.counts.get(name, 0) + 1
            nums = self.numbers.setdefault(name, [])
            for line in data.split(b"\n"):
                if line:
                    nums.append(int(line.split(b" ", 1)[0]))
        self.parsed = pos

    def count(self, name):
        self.parse()
        return self.counts.get(name, 0)

    def lines(self, name):
        """The line numbers the events of `name` carried, in order."""
        return self.numbers.get(name, [])

    def mean_event_bytes(self):
        return len(self.raw) / max(1, self.events)

    def close(self):
        if self.f is not None:
            self.f.close()


def programs(workdir, native, python):
    """The listener's and the child's command lines (without arguments)."""
    if native:
        return f"{native} listener", f"{native} child"
    listener = os.path.join(workdir, "listener.py")
    child = os.path.join(workdir, "child.py")
    with open(listener, "w") as f:
        f.write(LISTENER_PY)
    with open(child, "w") as f:
        f.write(CHILD_PY)
    return f"{python} {listener}", f"{python} {child}"


def config(listener, child, fifodir, rec, workdir, window, modes):
    run = window + 1.0
    progs = ""
    extras = {"closed": f"{fifodir} {IN_FLIGHT}", "open": "", "paced": f"{PACED_RATE}"}
    for name in modes:
        progs += f"""\
[program:{name}]
command={child} {name} {run} {workdir}/%(process_num)d.{name}.count {extras[name]}
process_name=%(program_name)s_%(process_num)d
numprocs={CHILDREN if name == "closed" else 1}
autostart=false
autorestart=false
startsecs=0
stdout_events_enabled=true

"""
    progs += f"""\
[eventlistener:l]
command={listener} {rec} {fifodir}
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


def run_kind(session, kind, window, native, modes, pin=None):
    """One daemon of `kind` with the listener and the children (native, or
    Python when `native` is None), measured in each of `modes`; with `pin`
    (a CPU), the daemon and everything it starts run on that CPU only."""
    tag = ("events-native" if native else "events-python") + ("-pinned" if pin is not None else "")
    workdir = os.path.join(session.tmp, f"{tag}-{kind}")
    os.makedirs(workdir)
    listener, child = programs(workdir, native, session.python)
    rec_path = os.path.join(workdir, "events.rec")
    d = session.daemon(kind, tag, config(listener, child, workdir, rec_path, workdir, window, modes))
    rpc = d.rpc()
    rec = Recording(rec_path)
    res = {}
    label = f"{kind}, {'native' if native else 'Python'}" + (", one CPU" if pin is not None else "")
    try:
        meter = bl.CpuMeter(d.pid)
        d.wait_states({"RUNNING"}, 1, timeout=30, rpc=rpc)  # the listener
        if pin is not None:
            # Children started from now on inherit the daemon's affinity.
            for pid in [d.pid] + sorted(bl.children(d.pid)):
                os.sched_setaffinity(pid, {pin})
        for mode in modes:
            base = rec.snap()
            n = CHILDREN if mode == "closed" else 1
            names = [f"{mode}_{i}" for i in range(n)]
            rpc.supervisor.startProcessGroup(mode, False)
            bl.wait_until(lambda: rec.snap() > base, 10, f"{label}: first {mode} event",
                          alive=d.check_alive)
            time.sleep(0.5)  # not measured: warm-up
            t0, c0, e0 = bl.now(), meter.read(), rec.snap()
            b0 = len(rec.raw)
            time.sleep(window)  # the measurement window
            t1, c1, e1 = bl.now(), meter.read(), rec.snap()
            b1 = len(rec.raw)
            # The daemon must still answer while (or right after) it is flooded.
            a0 = bl.now()
            rpc.supervisor.getState()
            answer = bl.now() - a0
            totals = {}
            for i, name in enumerate(names):
                wait_exited(d, rpc, f"{mode}:{name}")
                with open(os.path.join(workdir, f"{i}.{mode}.count")) as f:
                    totals[name] = int(f.read())
            drain(rec, totals, d)
            got = sum(len(rec.lines(name)) for name in names)
            total = sum(totals.values())
            problems = [f"{name}: {p}" for name in names
                        if (p := check_lines(rec.lines(name), totals[name]))]
            events = e1 - e0
            span = t1 - t0
            r = {"events_per_s": events / span, "cpu_per_event": (c1 - c0) / max(events, 1),
                 "cpu_share": (c1 - c0) / span, "total": total, "got": got,
                 "problem": "; ".join(problems) if mode != "open" and problems else None,
                 "lines_per_event": got / max(1, sum(rec.count(name) for name in names)),
                 "event_bytes": (b1 - b0) / max(events, 1),
                 "getstate": answer}
            r["events"] = sum(rec.count(name) for name in names)
            r["lines_per_s"] = r["events_per_s"] * r["lines_per_event"]
            res[mode] = r
            print(f"    [{label}] {mode}: {r['events_per_s']:,.0f} events/s, "
                  f"{r['lines_per_event']:.2f} lines/event, daemon CPU "
                  f"{bl.fmt_us(r['cpu_per_event'])}/event ({r['cpu_share'] * 100:.0f}% of a CPU); "
                  f"{got:,} of {total:,} lines delivered"
                  + (f"; {r['problem']}" if r["problem"] else "")
                  + f"; getState after {bl.fmt_ms(answer)}", flush=True)
            if r["problem"]:
                session.note(f"{label}, {mode} ({CHILDREN} x {IN_FLIGHT} lines in flight / "
                             f"{PACED_RATE} lines/s, buffer_size 10): {r['problem']}")
        overflow = [l for l in d.log_lines() if "overflowed" in l]
        res["overflow_lines"] = len(overflow)
        other = [l for l in d.log_lines() if (" ERRO " in l or " CRIT " in l)
                 and "overflowed" not in l and "running as root" not in l
                 and "CRIT Server" not in l]
        if other:
            session.note(f"{label}: main log: {other[0]}")
        rpc("close")()
        d.stop()
    finally:
        rec.close()
        d.close()
    return res


def pingpong(native, window, size, split):
    """Round trips per second of the bare protocol between two C processes
    (the best of three runs), and the writer's CPU per round trip; `split`
    pins them to two CPUs."""
    best = None
    for _ in range(3):
        argv = [native, "pingpong", str(window / 3), str(max(2, round(size)))]
        out = subprocess.run(argv + (["split"] if split else []),
                             capture_output=True, text=True, check=True).stdout.split()
        rate, cpu = float(out[0]), float(out[1])
        if best is None or rate > best[0]:
            best = (rate, cpu)
    return best


def drain(rec, totals, d, quiet=0.3, timeout=10):
    """Reads the record until it holds every line of each process in
    `totals` (name -> lines written), or nothing new has come for `quiet`
    seconds (events were dropped)."""
    deadline = bl.now() + timeout
    last, last_t = -1, bl.now()
    while bl.now() < deadline:
        rec.parse()
        n = sum(len(rec.lines(name)) for name in totals)
        if n >= sum(totals.values()):
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
    native = compile_native(session)
    res["native"] = None
    if native:
        res["native"] = {}
        for kind in bl.KINDS:
            print(f"[{kind}] one native listener, native chatty children ...", flush=True)
            res["native"][kind] = run_kind(session, kind, window, native,
                                           ("closed", "paced", "open"))
        size = res["native"]["ours"]["closed"]["event_bytes"]
        print(f"[yardstick] pipe ping-pong of two C processes, {size:.0f} / {len(ACK)} bytes ...",
              flush=True)
        cpu = min(os.sched_getaffinity(0))
        for kind in bl.KINDS:
            print(f"[{kind}] the same closed loop, everything on CPU {cpu} ...", flush=True)
            res["native"][kind]["pinned"] = run_kind(session, kind, window, native, ("closed",),
                                                     pin=cpu)["closed"]
        res["bound"] = {"size": size}
        for where, split in (("one", False), ("split", True)):
            rate, cpu = pingpong(native, window, size, split)
            res["bound"][where] = {"rate": rate, "cpu": cpu}
            print(f"    {'on two CPUs' if split else 'as scheduled'}: {rate:,.0f} round trips/s, "
                  f"{bl.fmt_us(cpu)} of CPU per round trip on the writer's side", flush=True)
    res["python"] = {}
    for kind in bl.KINDS:
        print(f"[{kind}] one Python listener, Python chatty child ...", flush=True)
        res["python"][kind] = run_kind(session, kind, window, None, ("closed",))
    if native:
        o, r = res["native"]["ours"]["open"], res["native"]["reference"]["open"]
        if o["lines_per_s"] < r["lines_per_s"]:
            session.note(
                f"under a flood, ours delivered {o['lines_per_s'] / r['lines_per_s'] * 100:.0f}% "
                f"of the lines per second the reference delivered ({o['got'] / o['total'] * 100:.1f}% "
                f"of what its child wrote, against {r['got'] / r['total'] * 100:.1f}%), and logged "
                f"{res['native']['ours']['overflow_lines']:,} 'buffer overflowed' lines against "
                f"{res['native']['reference']['overflow_lines']:,}: both read a pipe once per "
                "loop pass, one event per read, but ours passes far more often (the listener "
                "acknowledges faster, and every write of the child wakes it), so each read carries "
                f"fewer lines ({o['lines_per_event']:.0f} per event against "
                f"{r['lines_per_event']:.0f}) and more events overflow the 10-event buffer")


def build_rows(res):
    rows = []
    if res["native"]:
        rows += native_rows(res)
    o, r = res["python"]["ours"]["closed"], res["python"]["reference"]["closed"]
    rows.append(("Python listener and children: events/s, closed loop",
                 bl.fmt_num(o["events_per_s"], "/s"), bl.fmt_num(r["events_per_s"], "/s"),
                 bl.ratio(o["events_per_s"], r["events_per_s"]), "", ""))
    rows.append(("Python listener and children: daemon CPU per event", bl.fmt_us(o["cpu_per_event"]),
                 bl.fmt_us(r["cpu_per_event"]), bl.ratio(r["cpu_per_event"], o["cpu_per_event"]),
                 "", ""))
    rows.append(("Python listener and children: every line delivered, in order",
                 "yes" if not o["problem"] else "**NO**", "yes" if not r["problem"] else "**NO**",
                 "", f"ours: {o['got']:,} lines", bl.verdict(not o["problem"])))
    return rows


def native_rows(res):
    o, r = res["native"]["ours"], res["native"]["reference"]
    bound = res["bound"]
    rows = []
    oc, rc = o["closed"], r["closed"]
    rows.append((f"events/s to one listener, closed loop ({CHILDREN} children x {IN_FLIGHT} lines in flight)",
                 bl.fmt_num(oc["events_per_s"], "/s"), bl.fmt_num(rc["events_per_s"], "/s"),
                 bl.ratio(oc["events_per_s"], rc["events_per_s"]), "≥ 10x",
                 bl.verdict(oc["events_per_s"] >= 10 * rc["events_per_s"])))
    one, split = bound["one"], bound["split"]
    rows.append((f"yardstick: pipe ping-pong of two C processes ({bound['size']:.0f} B out, "
                 f"{len(ACK)} B back), as scheduled (one CPU)", "", "", "",
                 bl.fmt_num(one["rate"], "/s") + f", {bl.fmt_us(one['cpu'])} CPU each", ""))
    rows.append(("yardstick: the same ping-pong pinned to two CPUs", "", "", "",
                 bl.fmt_num(split["rate"], "/s") + f", {bl.fmt_us(split['cpu'])} CPU each", ""))
    rows.append(("closed loop: share of the one-CPU ping-pong rate",
                 f"{oc['events_per_s'] / one['rate'] * 100:.0f}%",
                 f"{rc['events_per_s'] / one['rate'] * 100:.0f}%", "",
                 f"10x the reference = {10 * rc['events_per_s'] / one['rate'] * 100:.0f}%",
                 ""))
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
    op1, rp1 = o["pinned"], r["pinned"]
    rows.append(("closed loop, daemon and its children on one CPU: events/s",
                 bl.fmt_num(op1["events_per_s"], "/s"), bl.fmt_num(rp1["events_per_s"], "/s"),
                 bl.ratio(op1["events_per_s"], rp1["events_per_s"]), "≥ 10x",
                 bl.verdict(op1["events_per_s"] >= 10 * rp1["events_per_s"])))
    rows.append(("one CPU: daemon CPU per event", bl.fmt_us(op1["cpu_per_event"]),
                 bl.fmt_us(rp1["cpu_per_event"]),
                 bl.ratio(rp1["cpu_per_event"], op1["cpu_per_event"]),
                 f"ping-pong writer: {bl.fmt_us(one['cpu'])}", ""))
    rows.append(("one CPU: daemon-bound ceiling (1 / CPU per event)",
                 bl.fmt_num(1 / op1["cpu_per_event"], "/s"),
                 bl.fmt_num(1 / rp1["cpu_per_event"], "/s"),
                 bl.ratio(rp1["cpu_per_event"], op1["cpu_per_event"]), "≥ 10x",
                 bl.verdict(rp1["cpu_per_event"] >= 10 * op1["cpu_per_event"])))
    rows.append(("one CPU: every line delivered, in order",
                 "yes" if not op1["problem"] else "**NO**", "yes" if not rp1["problem"] else "**NO**",
                 "", f"ours: {op1['got']:,} lines", bl.verdict(not op1["problem"])))
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
        "One `[eventlistener:l]` (`events=PROCESS_LOG_STDOUT`, buffer_size 10) speaking the raw "
        "READY/RESULT protocol, acknowledging each event at once and recording it; chatty "
        "children with `stdout_events_enabled=true`, one `write` per numbered line. Listener and "
        "children are native (`tests/bench/events_native.c`, built with `cc -O2`), so the "
        "daemon, not Python, bounds the chain; the last rows run the same programs in Python. "
        f"Closed loop: {CHILDREN} children, each keeping {IN_FLIGHT} lines in flight (writing "
        "the next when the listener reports one delivered, through a FIFO; "
        f"{CHILDREN * IN_FLIGHT} ≤ buffer_size, so nothing may be lost): the lossless maximum "
        "rate of the chain children → daemon → listener; open loop: the child writes as fast as it can, the daemon "
        "drops the oldest events when the pool's buffer is full (as the reference does), and "
        "the rate is what reaches the listener; paced: "
        f"{PACED_RATE} lines/s, every one must arrive. Windows of {res['window']:g} s after "
        "0.5 s of warm-up; daemon CPU is schedstat CPU time over the window divided by the events "
        "delivered in it. Both daemons run the same listener and children. The closed loop "
        "runs twice: as the scheduler places the processes, and with the daemon and everything "
        "it starts pinned to one CPU, where no wake-up crosses CPUs and the figures are steadier. "
        "The yardstick: an "
        "event is a round trip between daemon and listener over two pipes (envelope out, "
        "`RESULT 2\\nOKREADY\\n` back), so two C processes doing only that ping-pong, with the "
        "same message sizes and blocking I/O, give the physical bound of the rate on this "
        "machine: left alone the scheduler runs the two on one CPU; pinned to two CPUs, every "
        "wake-up crosses CPUs, which on this virtual machine costs far more. The ratio column is the advantage of ours: ours/reference for rates, "
        "reference/ours for costs."
    )


def main():
    args = bl.arg_parser(__doc__).parse_args()
    return bl.run_main(args, SECTION, run, build_rows, intro)


if __name__ == "__main__":
    sys.exit(main())
