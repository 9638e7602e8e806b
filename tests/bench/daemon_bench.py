#!/usr/bin/env python3
"""Daemon benchmarks (`make bench`): our supervisord against the reference
Supervisor 4.3.0, both measured in the same run on the same machine.

Without an RPC server yet, both daemons are observed from outside only:
their main log files, /proc (RSS, context switches, children) and the pids
of their children. Measured, for each daemon:

1. daemon RSS with 1, 100, 300 and 1000 programs all RUNNING;
2. context switches (and CPU time) of an idle daemon holding 100 RUNNING
   programs over a 20 s window (10 s with --quick);
3. respawn latency: SIGKILL a RUNNING child (startsecs=0, autorestart=true),
   poll /proc until the daemon has a new child; p50/p99 over the kills;
4. time from daemon start until 100/300/1000 children exist (and until the
   log says all are RUNNING), time from SIGTERM to the daemon's exit with
   them running, and as the yardstick the same numbers of /bin/sleep
   started with os.posix_spawn and killed/reaped from this script alone.

Every process started carries BENCH_MARKER=<uuid> in its environment (the
daemons pass it on to their children); on exit, even on error, every
daemon is stopped and /proc is scanned until no process with the marker is
left. The results go to stdout and to the "Daemon (issue 3)" section of
BENCHMARKS.md at the project root (other sections of that file are kept).
"""

import argparse
import os
import random
import re
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402
from benchlib import (  # noqa: E402,F401
    BenchError, children, cpu_seconds, default_tmpdir, fmt_mib, fmt_ms, fstype, loadavg,
    machine, marked_pids, now, pct, ratio, rss_anon_bytes, rss_bytes, text_table,
    threads, verdict, wait_until)

MARKER_VAR = "BENCH_MARKER"
MIB = 1024 * 1024
PROJECT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SECTION = "Daemon (issue 3)"
SLEEP_ARGV = ["/bin/sleep", "100000"]


# ---------------------------------------------------------------- /proc


def ctxt_switches(pid):
    """Voluntary + nonvoluntary context switches summed over all threads."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        total += int(line.split(":")[1])
        except FileNotFoundError:
            pass
    return total


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def main_thread_children(pid):
    """Fast path for polling: children of the main thread only (both daemons
    are checked to be single-threaded before this is used)."""
    with open(f"/proc/{pid}/task/{pid}/children", "rb") as f:
        return set(int(p) for p in f.read().split())


# ---------------------------------------------------------------- daemons


class LogTail:
    """Follows a daemon's main log and counts the lines we care about."""

    PATTERNS = {
        "spawned": re.compile(rb" INFO spawned: '"),
        "success": re.compile(rb" INFO success: \S+ entered RUNNING state"),
        "exited": re.compile(rb" exited: "),
        "stopped": re.compile(rb" stopped: "),
        "gave up": re.compile(rb" gave up: "),
        "spawnerr": re.compile(rb" (spawnerr|couldn't|Too many|too many)"),
        "CRIT": re.compile(rb"^\S+ \S+ CRIT "),
        "ERRO": re.compile(rb"^\S+ \S+ ERRO "),
    }

    def __init__(self, path):
        self.path = path
        self.file = None
        self.pending = b""
        self.lines = []
        self.counts = dict.fromkeys(self.PATTERNS, 0)

    def poll(self):
        if self.file is None:
            try:
                self.file = open(self.path, "rb")
            except FileNotFoundError:
                return self.counts
        data = self.file.read()
        if data:
            parts = (self.pending + data).split(b"\n")
            self.pending = parts.pop()
            for line in parts:
                self.lines.append(line)
                for key, pattern in self.PATTERNS.items():
                    if pattern.search(line):
                        self.counts[key] += 1
        return self.counts

    def close(self):
        if self.file is not None:
            self.file.close()
            self.file = None


class Daemon(bl.DaemonProcess):
    """One supervisord (ours or the reference) on a generated config."""

    def __init__(self, bench, kind, workdir, nprocs):
        self.bench = bench
        self.kind = kind
        self.nprocs = nprocs
        self.dir = workdir
        os.makedirs(os.path.join(workdir, "childlogs"), exist_ok=True)
        self.conf = os.path.join(workdir, "supervisord.conf")
        self.logfile = os.path.join(workdir, "supervisord.log")
        self.proc = None
        self.pidfd = None
        self.t_start = None
        self.log = LogTail(self.logfile)
        self.write_config()

    def write_config(self):
        n = self.nprocs
        # Per child the reference holds 3 pipe ends and 2 AUTO log files.
        minfds = max(1024, 6 * n + 256)
        minprocs = max(200, 2 * n + 100)
        text = f"""\
[supervisord]
logfile={self.logfile}
logfile_maxbytes=0
pidfile={self.dir}/supervisord.pid
childlogdir={self.dir}/childlogs
loglevel=info
nodaemon=true
minfds={minfds}
minprocs={minprocs}

[program:p]
command={' '.join(SLEEP_ARGV)}
process_name=%(program_name)s_%(process_num)04d
numprocs={n}
startsecs=0
autorestart=true
stopwaitsecs=10
"""
        with open(self.conf, "w") as f:
            f.write(text)

    def argv(self):
        if self.kind == "ours":
            return [self.bench.ours, "supervisord", "-c", self.conf, "-n"]
        return [self.bench.python, "-m", "supervisor.supervisord", "-c", self.conf, "-n"]

    def start(self):
        env = dict(os.environ)
        env[MARKER_VAR] = self.bench.marker
        out = open(os.path.join(self.dir, "stdout.txt"), "wb")
        try:
            self.t_start = now()
            self.proc = subprocess.Popen(
                self.argv(),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.dir,
                start_new_session=True,
            )
        finally:
            out.close()
        self.bench.daemons.append(self)
        self.pidfd = os.pidfd_open(self.proc.pid)
        return self.proc.pid

    def wait_started(self, timeout):
        """Polls until all programs have a child and the log says they are
        RUNNING. Returns (t_first_child, t_all_children, t_all_running),
        counted from just before the daemon was started."""
        n = self.nprocs
        t0 = self.t_start
        first = all_children = all_running = None
        deadline = now() + timeout
        while all_children is None or all_running is None:
            kids = len(children(self.pid))
            t = now()
            if first is None and kids >= 1:
                first = t - t0
            if all_children is None and kids >= n:
                all_children = t - t0
            if all_running is None and self.log.poll()["success"] >= n:
                all_running = t - t0
            self.check_alive()
            if t > deadline:
                raise BenchError(
                    f"{self.kind}: timed out after {timeout} s waiting for {n} RUNNING "
                    f"programs ({kids} children, {self.log.counts['success']} success lines)"
                )
            time.sleep(0.0005)
        return first, all_children, all_running

    def single_threaded(self):
        try:
            return threads(self.pid) == 1
        except FileNotFoundError:
            return False

    def stop(self, timeout=60.0):
        """SIGTERM; returns the time until the daemon has exited."""
        return self.wait_exit(timeout)

    def close(self):
        super().close()
        self.log.close()


# ---------------------------------------------------------------- bench


class Bench:
    def __init__(self, args):
        self.ours = args.ours
        self.python = args.python
        self.quick = args.quick
        self.poll_interval = args.poll_interval
        self.marker = uuid.uuid4().hex
        self.daemons = []
        self.yardstick_pids = []
        self.tmp = tempfile.mkdtemp(prefix="supervisor-bench-", dir=args.tmpdir)
        self.fstype = fstype(self.tmp)
        self.runs = 0
        self.notes = []

    def daemon(self, kind, nprocs):
        self.runs += 1
        d = Daemon(self, kind, os.path.join(self.tmp, f"{self.runs:02d}-{kind}-{nprocs}"), nprocs)
        d.start()
        return d

    def finish(self, d, timeout=60.0):
        """Stops a daemon that should be healthy; returns the stop time."""
        elapsed = d.stop(timeout)
        d.close()
        return elapsed

    # -- 1 and 4: start, RSS, stop

    def scale_run(self, kind, n):
        d = self.daemon(kind, n)
        try:
            first, all_children, all_running = d.wait_started(timeout=60 + n * 0.05)
            result = {
                "first": first,
                "children": all_children,
                "running": all_running,
                "rss": rss_bytes(d.pid),
                "rss_anon": rss_anon_bytes(d.pid),
                "threads": threads(d.pid),
                "fds": fd_count(d.pid),
            }
            counts = d.log.poll()
            if counts["spawned"] != n or counts["success"] != n:
                self.note(f"{kind}, {n} programs: log has {counts['spawned']} 'spawned' and "
                          f"{counts['success']} 'success' lines, expected {n} each")
            result["stop"] = self.finish(d)
            counts = d.log.poll()
            if counts["stopped"] != n:
                self.note(f"{kind}, {n} programs: log has {counts['stopped']} 'stopped' lines "
                          f"after SIGTERM, expected {n}")
            self.check_log(kind, d)
            return result
        finally:
            d.close()

    # -- 2 and 3: idle, then respawn latency

    def idle_and_respawn(self, kind, n, window, kills):
        d = self.daemon(kind, n)
        try:
            d.wait_started(timeout=60)
            if not d.single_threaded():
                self.note(f"{kind}: daemon has {threads(d.pid)} threads")
            result = {"rss_after_idle": None}
            c0, cpu0, t0 = ctxt_switches(d.pid), cpu_seconds(d.pid), now()
            time.sleep(window)
            c1, cpu1, t1 = ctxt_switches(d.pid), cpu_seconds(d.pid), now()
            result["ctxt_per_s"] = (c1 - c0) / (t1 - t0)
            result["ctxt_total"] = c1 - c0
            result["cpu_ms_per_s"] = (cpu1 - cpu0) * 1000 / (t1 - t0)
            result["window"] = t1 - t0
            result["rss_after_idle"] = rss_bytes(d.pid)

            originals = sorted(children(d.pid))
            if len(originals) < kills:
                raise BenchError(f"{kind}: only {len(originals)} children to kill")
            rng = random.Random(1)
            # A random pause before each kill samples every phase of the
            # daemon's own clock (the reference wakes once a second).
            max_pause = 1.0 if kind == "reference" else 0.02
            latencies, reaps, exits = [], [], []
            path = f"/proc/{d.pid}/task/{d.pid}/children"
            for victim in originals[:kills]:
                time.sleep(rng.uniform(0, max_pause))
                before = main_thread_children(d.pid)
                if victim not in before:
                    raise BenchError(f"{kind}: child {victim} vanished before being killed")
                # The victim's pidfd turns readable when it has exited (before
                # the daemon reaps it): that separates the kernel's teardown
                # of the victim from the daemon's own reaction.
                pidfd = os.pidfd_open(victim)
                try:
                    exited_poll = select.poll()
                    exited_poll.register(pidfd, select.POLLIN)
                    t_kill = now()
                    os.kill(victim, signal.SIGKILL)
                    deadline = t_kill + 10
                    exited = reaped = None
                    while True:
                        with open(path, "rb") as f:
                            kids = set(int(p) for p in f.read().split())
                        t = now()
                        if exited is None and exited_poll.poll(0):
                            exited = t - t_kill
                        if reaped is None and victim not in kids:
                            reaped = t - t_kill
                        if kids - before:
                            if exited is None:
                                exited = reaped if reaped is not None else t - t_kill
                            latencies.append(t - t_kill)
                            reaps.append(reaped if reaped is not None else t - t_kill)
                            exits.append(exited)
                            break
                        if t > deadline:
                            d.check_alive()
                            raise BenchError(f"{kind}: no respawn within 10 s of killing {victim}")
                        if self.poll_interval:
                            time.sleep(self.poll_interval)
                finally:
                    os.close(pidfd)
            result["respawn"] = latencies
            result["reap"] = reaps
            result["exit"] = exits
            # The daemon's own share: from the child's exit to the new child.
            result["respawn_after_exit"] = [l - e for l, e in zip(latencies, exits)]
            # Let the log catch up with the last respawn before checking it.
            wait_until(lambda: d.log.poll()["spawned"] >= n + kills, 5,
                       f"{kind}: {n + kills} 'spawned' lines", alive=d.check_alive)
            counts = d.log.poll()
            if counts["exited"] != kills:
                self.note(f"{kind}: {counts['exited']} 'exited' lines for {kills} kills")
            result["stop"] = self.finish(d)
            self.check_log(kind, d)
            return result
        finally:
            d.close()

    def check_log(self, kind, d):
        counts = d.log.poll()
        for key in ("gave up", "spawnerr", "ERRO"):
            if counts[key]:
                self.note(f"{kind}: {counts[key]} '{key}' lines in {d.logfile}")
        crit = [l for l in d.log.lines if b" CRIT " in l and b"running as root" not in l]
        if crit:
            self.note(f"{kind}: CRIT lines: {crit[0].decode(errors='replace')}")

    # -- yardstick

    def yardstick(self, n):
        env = dict(os.environ)
        env[MARKER_VAR] = self.marker
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
            (os.POSIX_SPAWN_OPEN, 2, "/dev/null", os.O_WRONLY, 0),
        ]
        t0 = now()
        pids = self.yardstick_pids
        for _ in range(n):
            pids.append(os.posix_spawn(SLEEP_ARGV[0], SLEEP_ARGV, env,
                                       file_actions=actions, setpgroup=0))
        start = now() - t0
        t0 = now()
        for pid in pids:
            os.kill(pid, signal.SIGTERM)
        for pid in pids:
            os.waitpid(pid, 0)
        stop = now() - t0
        pids.clear()
        return {"start": start, "stop": stop}

    def note(self, text):
        print(f"  NOTE: {text}", flush=True)
        self.notes.append(text)

    # -- cleanup

    def cleanup(self):
        bl.stop_all(self.daemons)
        for pid in self.yardstick_pids:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except OSError:
                pass
        return bl.sweep(self.marker, self.tmp)


# ---------------------------------------------------------------- report


def build_rows(res):
    """(metric, ours, reference, ratio ref/ours, target, met) rows."""
    o, r = res["ours"], res["reference"]
    rows = []
    for n in res["sizes"]:
        ro, rr = o["scale"][n]["rss"], r["scale"][n]["rss"]
        target, met = "", ""
        if n in (1, 100, 1000):
            target, met = "≥10x smaller", verdict(rr / ro >= 10)
        if n == 1000:
            target += ", ≤ 10 MiB"
            met = verdict(rr / ro >= 10 and ro <= 10 * MIB)
        rows.append((f"daemon RSS, {n} RUNNING", fmt_mib(ro), fmt_mib(rr), ratio(rr, ro), target, met))
    for n in res["sizes"]:
        ao, ar = o["scale"][n]["rss_anon"], r["scale"][n]["rss_anon"]
        rows.append((f"daemon RssAnon (heap, stack), {n} RUNNING", fmt_mib(ao), fmt_mib(ar),
                     ratio(ar, ao), "", ""))
    top = res["sizes"][-1]
    rows.append((f"daemon threads / open fds, {top} programs",
                 f"{o['scale'][top]['threads']} / {o['scale'][top]['fds']}",
                 f"{r['scale'][top]['threads']} / {r['scale'][top]['fds']}", "", "1 thread",
                 verdict(o["scale"][top]["threads"] == 1)))
    io, ir = o["idle"], r["idle"]
    w = io["window"]
    rows.append((f"idle ctx switches/s, 100 RUNNING ({w:.0f} s)",
                 f"{io['ctxt_per_s']:.2f} ({io['ctxt_total']})",
                 f"{ir['ctxt_per_s']:.2f} ({ir['ctxt_total']})",
                 ratio(ir["ctxt_per_s"], io["ctxt_per_s"]), "< 1/s (0 ideal)",
                 verdict(io["ctxt_per_s"] < 1)))
    rows.append(("idle daemon CPU, 100 RUNNING", f"{io['cpu_ms_per_s']:.2f} ms/s",
                 f"{ir['cpu_ms_per_s']:.2f} ms/s", ratio(ir["cpu_ms_per_s"], io["cpu_ms_per_s"]), "", ""))
    rows.append(("daemon RSS, 100 RUNNING, after idle window", fmt_mib(io["rss_after_idle"]),
                 fmt_mib(ir["rss_after_idle"]), ratio(ir["rss_after_idle"], io["rss_after_idle"]),
                 "≥10x smaller", verdict(ir["rss_after_idle"] / io["rss_after_idle"] >= 10)))
    lo, lr = io["respawn"], ir["respawn"]
    rows.append((f"respawn after SIGKILL, p50 (ours n={len(lo)}, ref n={len(lr)})",
                 fmt_ms(pct(lo, 50)), fmt_ms(pct(lr, 50)), ratio(pct(lr, 50), pct(lo, 50)), "", ""))
    rows.append(("respawn after SIGKILL, p99", fmt_ms(pct(lo, 99)), fmt_ms(pct(lr, 99)),
                 ratio(pct(lr, 99), pct(lo, 99)), "< 5 ms", verdict(pct(lo, 99) < 0.005)))
    rows.append(("respawn after SIGKILL, max", fmt_ms(max(lo)), fmt_ms(max(lr)),
                 ratio(max(lr), max(lo)), "", ""))
    ao, ar = io["respawn_after_exit"], ir["respawn_after_exit"]
    rows.append(("child's exit → new child, p50 (daemon's share)", fmt_ms(pct(ao, 50)),
                 fmt_ms(pct(ar, 50)), ratio(pct(ar, 50), pct(ao, 50)), "", ""))
    rows.append(("child's exit → new child, p99", fmt_ms(pct(ao, 99)), fmt_ms(pct(ar, 99)),
                 ratio(pct(ar, 99), pct(ao, 99)), "< 5 ms", verdict(pct(ao, 99) < 0.005)))
    rows.append(("SIGKILL → child exited, p50 (kernel, for scale)", fmt_ms(pct(io["exit"], 50)),
                 fmt_ms(pct(ir["exit"], 50)), "", "", ""))
    rows.append(("SIGKILL → child reaped, p50", fmt_ms(pct(io["reap"], 50)),
                 fmt_ms(pct(ir["reap"], 50)), ratio(pct(ir["reap"], 50), pct(io["reap"], 50)), "", ""))
    rows.append(("stop 100 RUNNING (SIGTERM → daemon exit)", fmt_ms(io["stop"]), fmt_ms(ir["stop"]),
                 ratio(ir["stop"], io["stop"]), "", ""))
    ys = res["yardstick"]
    for n in res["sizes"]:
        if n == 1:
            continue
        so, sr = o["scale"][n], r["scale"][n]
        y = ys[n]
        rows.append((f"start {n}: daemon start → first child", fmt_ms(so["first"]),
                     fmt_ms(sr["first"]), ratio(sr["first"], so["first"]), "", ""))
        rows.append((f"start {n}: daemon start → {n} children exist", fmt_ms(so["children"]),
                     fmt_ms(sr["children"]), ratio(sr["children"], so["children"]),
                     f"yardstick {fmt_ms(y['start'])}", ""))
        rows.append((f"start {n}: per program", f"{so['children'] / n * 1e6:.0f} µs",
                     f"{sr['children'] / n * 1e6:.0f} µs", "",
                     f"yardstick {y['start'] / n * 1e6:.0f} µs", ""))
        target, met = "", ""
        if n == 100:
            target, met = "≤ 50 ms", verdict(so["running"] <= 0.05)
        rows.append((f"start {n}: daemon start → all RUNNING (log)", fmt_ms(so["running"]),
                     fmt_ms(sr["running"]), ratio(sr["running"], so["running"]), target, met))
        rows.append((f"stop {n}: SIGTERM → daemon exit", fmt_ms(so["stop"]), fmt_ms(sr["stop"]),
                     ratio(sr["stop"], so["stop"]), f"yardstick {fmt_ms(y['stop'])}", ""))
    # Linearity: the marginal cost per program over each step of sizes
    # (100→300, 300→1000); linear growth keeps it flat.
    sizes = [n for n in res["sizes"] if n > 1]
    steps = list(zip(sizes, sizes[1:]))

    def marginals(get):
        return [(get(b) - get(a)) / (b - a) for a, b in steps]

    def us_list(values):
        return " / ".join(f"{v * 1e6:.0f}" for v in values) + " µs"

    label = " / ".join(f"{a}→{b}" for a, b in steps)
    for key, ykey, what in (("children", "start", "start"), ("stop", "stop", "stop")):
        mo = marginals(lambda n: o["scale"][n][key])
        mr = marginals(lambda n: r["scale"][n][key])
        my = marginals(lambda n: ys[n][ykey])
        rows.append((f"{what}: marginal cost per program, {label}", us_list(mo), us_list(mr),
                     ratio(mr[-1], mo[-1]), f"yardstick {us_list(my)}; linear",
                     verdict(linear(mo))))
    return rows


def linear(marginal_costs):
    """Growth is at most linear if the marginal cost per program of the last
    step is not much above that of the first (2x for noise, with a 50 µs
    floor for tiny per-program costs)."""
    return marginal_costs[-1] <= 2 * max(marginal_costs[0], 50e-6)


def markdown_section(rows, res):
    m = res["machine"]
    out = [
        f"## {SECTION}",
        "",
        f"Measured {m['date']} by `make bench` (`tests/bench/daemon_bench.py`) on {m['nproc']} CPU(s), "
        f"{m['model']}, Linux {m['kernel']}; reference: Supervisor 4.3.0 on Python {res['ref_python']}; "
        f"ours: `{res['ours_version']}` (release build). Both daemons run in the foreground on the same "
        "generated configuration (`[program:p]` with `numprocs=N`, `command=/bin/sleep 100000`, "
        "`startsecs=0`, `autorestart=true`, AUTO child logs), one after the other, observed through "
        "/proc and their main logs only. RSS is VmRSS of the daemon process alone (RssAnon: its "
        "anonymous part, without the pages of the executable and shared libraries that VmRSS also "
        "counts); \"children exist\" "
        "counts the daemon's children in /proc; \"RUNNING\" waits for the log's `success:` lines. "
        "The yardstick is the same number of `/bin/sleep` started by `os.posix_spawn` (and killed and "
        "reaped) from the benchmark itself. "
        f"Work directory (configs, logs, AUTO child logs) on {res['fstype']}. "
        f"Load average at start {m['load_start']}, at end {m['load_end']} (the machine is shared: "
        "other load shows up in the start/stop times and the yardstick, not in RSS or context "
        "switches)."
        + (" Quick mode (`--quick`): shorter idle window, no repeats." if res["quick"] else
           " Start/stop times are the best of 3 runs (the reference's 300 and 1000: 1 run), RSS "
           "the median."),
        "",
        "| metric | ours | reference | ref/ours | target / yardstick | met |",
        "|---|---:|---:|---:|---|---|",
    ]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    if res["notes"]:
        out += ["", "Notes from the run:", ""]
        out += [f"- {n}" for n in res["notes"]]
    return "\n".join(out) + "\n"


def write_benchmarks(path, section_text):
    """Replaces (or appends) the daemon section, keeping other sections."""
    bl.write_benchmarks(path, SECTION, section_text)


# ---------------------------------------------------------------- main


TIME_KEYS = ("first", "children", "running", "stop", "start")


def combine(runs):
    """Times: the best of the repeats (other load on a shared machine only
    ever adds to them); everything else (RSS, fds): the median."""
    return {k: (min if k in TIME_KEYS else statistics.median)([r[k] for r in runs])
            for k in runs[0]}


def run(bench, args):
    sizes = [1, 100, 300, 1000]
    window = 10.0 if args.quick else 20.0
    res = {"sizes": sizes, "quick": args.quick, "machine": machine(), "notes": bench.notes,
           "fstype": bench.fstype}
    res["ours_version"] = subprocess.run([bench.ours, "--version"], capture_output=True,
                                         text=True).stdout.strip() or "?"
    res["ref_python"] = subprocess.run(
        [bench.python, "-c", "import platform; print(platform.python_version())"],
        capture_output=True, text=True).stdout.strip()
    m = res["machine"]
    print(f"machine: {m['nproc']} CPU(s), {m['model']}, Linux {m['kernel']}, {m['date']}, "
          f"load average {m['load_start']}", flush=True)
    print(f"marker: {MARKER_VAR}={bench.marker}; workdir {bench.tmp} ({bench.fstype})", flush=True)

    for kind in ("ours", "reference"):
        res[kind] = {"scale": {}}
    repeats = 1 if args.quick else 3
    res["yardstick"] = {}
    for n in sizes:
        if n > 1:
            # Measured next to the daemons' runs of the same size, so both
            # see the same machine load.
            ys = [bench.yardstick(n) for _ in range(repeats)]
            res["yardstick"][n] = combine(ys)
            y = res["yardstick"][n]
            print(f"[yardstick] {n} x posix_spawn: {fmt_ms(y['start'])}, kill+reap {fmt_ms(y['stop'])}",
                  flush=True)
        for kind in ("ours", "reference"):
            # Repeat the cheap runs (the reference's big ones take seconds).
            reps = repeats if (kind == "ours" or n <= 100) else 1
            runs = []
            for _ in range(reps):
                print(f"[{kind}] {n} programs: start, RSS, stop ...", flush=True)
                runs.append(bench.scale_run(kind, n))
            res[kind]["scale"][n] = combine(runs)
            s = res[kind]["scale"][n]
            print(f"    first child after {fmt_ms(s['first'])}, all children after {fmt_ms(s['children'])}, "
                  f"RUNNING after {fmt_ms(s['running'])}, RSS {fmt_mib(s['rss'])}, stop {fmt_ms(s['stop'])}",
                  flush=True)
    for kind in ("ours", "reference"):
        kills = args.kills if kind == "ours" else args.ref_kills
        print(f"[{kind}] 100 programs: idle {window:.0f} s, then {kills} kills ...", flush=True)
        res[kind]["idle"] = bench.idle_and_respawn(kind, 100, window, kills)
        i = res[kind]["idle"]
        print(f"    {i['ctxt_per_s']:.2f} ctx switches/s, respawn p50 {fmt_ms(pct(i['respawn'], 50))} "
              f"p99 {fmt_ms(pct(i['respawn'], 99))}", flush=True)
    res["machine"]["load_end"] = loadavg()
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ours", required=True, help="our release binary (target/release/supervisor)")
    ap.add_argument("--python", required=True, help="python with supervisor 4.3.0 installed")
    ap.add_argument("--quick", action="store_true", help="10 s idle window, no repeats")
    ap.add_argument("--kills", type=int, default=50, help="respawn samples for ours")
    ap.add_argument("--ref-kills", type=int, default=10, help="respawn samples for the reference")
    ap.add_argument("--output", default=os.path.join(PROJECT, "BENCHMARKS.md"),
                    help="Markdown file whose daemon section is (re)written")
    ap.add_argument("--no-write", action="store_true", help="print only")
    ap.add_argument("--poll-interval", type=float, default=0.0002,
                    help="seconds between /proc polls while waiting for a respawn (0: busy)")
    ap.add_argument("--tmpdir", default=default_tmpdir(),
                    help="where the work directory goes (default: /dev/shm if tmpfs, else $TMPDIR)")
    args = ap.parse_args()

    bench = Bench(args)
    prev_term = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = now()
    status = 0
    try:
        res = run(bench, args)
    except BenchError as e:
        print(f"bench failed: {e}", file=sys.stderr)
        status = 1
    finally:
        left = bench.cleanup()
        signal.signal(signal.SIGTERM, prev_term)
        if left:
            print(f"bench: processes with the marker survived cleanup: {left}", file=sys.stderr)
            status = 1
        else:
            print(f"cleanup: no process with {MARKER_VAR}={bench.marker} left", flush=True)
    if status:
        return status
    rows = build_rows(res)
    m = res["machine"]
    print(f"\n{SECTION}: {m['nproc']} CPU(s), {m['model']}, Linux {m['kernel']}, {m['date']}, "
          f"load average {m['load_start']} → {m['load_end']}, work dir on {res['fstype']}")
    print(text_table(rows))
    if bench.notes:
        print("\nnotes:")
        for n in bench.notes:
            print(f"- {n}")
    print(f"\n(bench took {now() - started:.0f} s)")
    if not args.no_write:
        write_benchmarks(args.output, markdown_section(rows, res))
        print(f"wrote section '{SECTION}' of {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
