"""Shared helpers of the `make bench` benchmarks (tests/bench/*_bench.py).

Every benchmark compares our release binary ("ours") with the reference
Supervisor 4.3.0 in the same run on the same machine, and rewrites only its
own section of BENCHMARKS.md. What is shared here:

- /proc readings (CPU time, RSS, children) and the marker scan: every process
  a benchmark starts carries BENCH_MARKER=<uuid> in its environment (daemons
  pass it on to their children); on exit, even on error, every daemon is
  stopped and /proc is scanned until no process with the marker is left;
- `Daemon`: either supervisord on a generated configuration with a unix
  socket and a TCP port, driven over XML-RPC (xmlrpc.client with the
  reference's own SupervisorTransport);
- `Session`: the work directory (on tmpfs when /dev/shm is one), the
  daemons and helper processes started, notes, and the cleanup;
- the report: machine header, number formats, ratios, the text table and the
  Markdown section, and the rewrite of one section of BENCHMARKS.md.
"""

import argparse
import datetime
import os
import platform
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import xmlrpc.client

MARKER_VAR = "BENCH_MARKER"
MIB = 1024 * 1024
PROJECT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
KINDS = ("ours", "reference")


class BenchError(Exception):
    pass


def now():
    return time.perf_counter()


# ---------------------------------------------------------------- /proc


def proc_status(pid):
    """The fields of /proc/PID/status as a dict of strings."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            out[key] = value.strip()
    return out


def rss_bytes(pid):
    return int(proc_status(pid)["VmRSS"].split()[0]) * 1024


def rss_anon_bytes(pid):
    """RssAnon: the private heap and stack, without the shared library and
    executable pages that VmRSS also counts."""
    return int(proc_status(pid)["RssAnon"].split()[0]) * 1024


def threads(pid):
    return int(proc_status(pid)["Threads"])


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """utime + stime of the process (all threads), in seconds (the kernel
    counts in ticks of 1/CLK_TCK s: windows must be long enough)."""
    with open(f"/proc/{pid}/stat") as f:
        data = f.read()
    fields = data[data.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def cpu_ns(pid):
    """CPU time of the process in nanoseconds from schedstat (sum over its
    threads): far finer than the ticks of /proc/PID/stat. None when the
    kernel has no schedstat."""
    total = 0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    total += int(f.read().split()[0])
            except (FileNotFoundError, ProcessLookupError):
                pass
    except FileNotFoundError:
        return None
    return total


class CpuMeter:
    """The CPU time a process spends over a window: schedstat (ns) when the
    kernel has it, else utime+stime (ticks)."""

    def __init__(self, pid):
        self.pid = pid
        self.fine = cpu_ns(pid) is not None

    def read(self):
        if self.fine:
            return cpu_ns(self.pid) / 1e9
        return cpu_seconds(self.pid)


def children(pid):
    """Pids of the children of every thread of `pid` (zombies included)."""
    out = set()
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out.update(int(p) for p in f.read().split())
        except (FileNotFoundError, ProcessLookupError):
            pass
    return out


def marked_pids(marker):
    """Every live process whose environment carries our marker (never this
    process itself)."""
    needle = f"{MARKER_VAR}={marker}".encode()
    me = os.getpid()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as f:
                env = f.read()
        except OSError:
            continue
        if needle in env.split(b"\0"):
            found.append(int(name))
    return found


def wait_until(predicate, timeout, what, interval=0.0005, alive=None):
    """Polls `predicate` until it returns something true; raises after
    `timeout` seconds, or at once if `alive()` raises (the daemon died)."""
    deadline = now() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if alive is not None:
            alive()
        if now() > deadline:
            raise BenchError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def free_tcp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- daemons


def rpc_proxy(url):
    """An XML-RPC proxy over the reference's SupervisorTransport: one
    persistent (keep-alive) connection, unix:// or http:// alike."""
    from supervisor.xmlrpc import SupervisorTransport

    return xmlrpc.client.ServerProxy(
        "http://127.0.0.1", transport=SupervisorTransport(None, None, url), allow_none=True)


class DaemonProcess:
    """What every benchmark's daemon has: its process (`proc`, a pidfd),
    its directory (`dir`, with the daemon's output in stdout.txt) and a
    `kind` ("ours" or "reference"). Subclasses write the config and start
    it."""

    proc = None
    pidfd = None

    @property
    def pid(self):
        return self.proc.pid

    def check_alive(self):
        if self.proc.poll() is not None:
            raise BenchError(
                f"{self.kind} daemon exited with status {self.proc.returncode}:\n" + self.tail())

    def tail(self, n=15):
        try:
            with open(os.path.join(self.dir, "stdout.txt"), "rb") as f:
                lines = f.read().decode(errors="replace").splitlines()
        except OSError:
            lines = []
        return "\n".join(lines[-n:])

    def wait_exit(self, timeout=60.0):
        """SIGTERM; returns the time until the daemon has exited."""
        t0 = now()
        os.kill(self.pid, signal.SIGTERM)
        p = select.poll()
        p.register(self.pidfd, select.POLLIN)
        if not p.poll(timeout * 1000):
            raise BenchError(f"{self.kind} daemon did not exit within {timeout} s of SIGTERM")
        elapsed = now() - t0
        self.proc.wait()
        return elapsed

    def close(self):
        """Best-effort teardown (the marker scan catches the rest)."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None


class Daemon(DaemonProcess):
    """One supervisord, ours or the reference, in the foreground on a
    generated configuration: [unix_http_server] and [inet_http_server]
    (127.0.0.1, a free port) plus the `programs` text given."""

    def __init__(self, session, kind, name, programs, nprocs=1, loglevel="info", extra=""):
        self.session = session
        self.kind = kind
        self.dir = os.path.join(session.tmp, name)
        os.makedirs(os.path.join(self.dir, "childlogs"), exist_ok=True)
        self.conf = os.path.join(self.dir, "supervisord.conf")
        self.logfile = os.path.join(self.dir, "supervisord.log")
        self.sock = os.path.join(self.dir, "supervisor.sock")
        self.port = free_tcp_port()
        self.unix_url = f"unix://{self.sock}"
        self.tcp_url = f"http://127.0.0.1:{self.port}"
        self.proc = None
        self.pidfd = None
        # Per child the reference holds 3 pipe ends and 2 AUTO log files.
        minfds = max(1024, 6 * nprocs + 256)
        minprocs = max(200, 2 * nprocs + 100)
        text = f"""\
[unix_http_server]
file={self.sock}

[inet_http_server]
port=127.0.0.1:{self.port}

[supervisord]
logfile={self.logfile}
logfile_maxbytes=0
pidfile={self.dir}/supervisord.pid
childlogdir={self.dir}/childlogs
loglevel={loglevel}
nodaemon=true
minfds={minfds}
minprocs={minprocs}
{extra}
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl={self.unix_url}

{programs}"""
        with open(self.conf, "w") as f:
            f.write(text)

    def argv(self):
        if self.kind == "ours":
            return [self.session.ours, "supervisord", "-c", self.conf, "-n"]
        return [self.session.python, "-m", "supervisor.supervisord", "-c", self.conf, "-n"]

    def start(self, timeout=60.0):
        """Starts the daemon and waits until it answers getState."""
        out = open(os.path.join(self.dir, "stdout.txt"), "wb")
        try:
            self.proc = subprocess.Popen(
                self.argv(), env=self.session.env(), stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, cwd=self.dir, start_new_session=True)
        finally:
            out.close()
        self.session.daemons.append(self)
        self.pidfd = os.pidfd_open(self.proc.pid)
        rpc = self.rpc()

        def answers():
            try:
                return rpc.supervisor.getState()["statename"] == "RUNNING"
            except (OSError, xmlrpc.client.ProtocolError):
                rpc("close")()
                return False

        wait_until(answers, timeout, f"{self.kind} daemon to answer getState", interval=0.005,
                   alive=self.check_alive)
        rpc("close")()
        return self

    def rpc(self, url=None):
        return rpc_proxy(url or self.unix_url)

    def log_lines(self):
        try:
            with open(self.logfile, "rb") as f:
                return f.read().decode(errors="replace").splitlines()
        except OSError:
            return []

    def wait_states(self, want, count, timeout, rpc=None):
        """Polls getAllProcessInfo until `count` processes are in a state of
        `want` (a set of state names); returns the infos."""
        own = rpc is None
        rpc = rpc or self.rpc()
        try:
            def enough():
                infos = rpc.supervisor.getAllProcessInfo()
                return infos if sum(i["statename"] in want for i in infos) >= count else None

            return wait_until(enough, timeout, f"{self.kind}: {count} processes in {sorted(want)}",
                              interval=0.02, alive=self.check_alive)
        finally:
            if own:
                rpc("close")()

    def stop(self, timeout=60.0):
        """SIGTERM; returns the time until the daemon has exited."""
        elapsed = self.wait_exit(timeout)
        self.close()
        return elapsed


def stop_all(daemons):
    """Teardown of every daemon a run started: SIGTERM, a few seconds,
    then `close` (which kills what is left)."""
    for d in daemons:
        if d.proc is not None and d.proc.poll() is None:
            try:
                os.kill(d.pid, signal.SIGTERM)
                d.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        d.close()


class Session:
    """One benchmark run: the work directory, what it started, its notes."""

    def __init__(self, args):
        self.ours = args.ours
        self.python = args.python
        self.quick = args.quick
        self.marker = uuid.uuid4().hex
        self.daemons = []
        self.procs = []
        self.notes = []
        self.tmp = tempfile.mkdtemp(prefix="supervisor-bench-", dir=args.tmpdir)
        self.fstype = fstype(self.tmp)
        self.runs = 0

    def env(self, **extra):
        env = dict(os.environ)
        env[MARKER_VAR] = self.marker
        env.update(extra)
        return env

    def daemon(self, kind, tag, programs, **kw):
        """A started daemon in a fresh directory of the work directory."""
        self.runs += 1
        d = Daemon(self, kind, f"{self.runs:02d}-{kind}-{tag}", programs, **kw)
        return d.start()

    def popen(self, argv, **kw):
        """A helper process carrying the marker (killed by the cleanup)."""
        kw.setdefault("env", self.env())
        p = subprocess.Popen(argv, **kw)
        self.procs.append(p)
        return p

    def note(self, text):
        print(f"  NOTE: {text}", flush=True)
        self.notes.append(text)

    def cleanup(self):
        stop_all(self.daemons)
        for p in self.procs:
            if p.poll() is None:
                try:
                    p.kill()
                    p.wait(timeout=5)
                except (OSError, subprocess.TimeoutExpired):
                    pass
        return sweep(self.marker, self.tmp)


def sweep(marker, tmp):
    """SIGKILLs whatever still carries `marker` (for up to 10 s), removes
    `tmp`, and returns the pids that survived."""
    deadline = now() + 10
    left = marked_pids(marker)
    while left and now() < deadline:
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.05)
        left = marked_pids(marker)
    shutil.rmtree(tmp, ignore_errors=True)
    return left


# ---------------------------------------------------------------- machine


def fstype(path):
    """The file system type of the mount holding `path` (from /proc/mounts)."""
    path = os.path.realpath(path)
    best, kind = "", "?"
    try:
        with open("/proc/mounts") as f:
            for line in f:
                parts = line.split()
                mnt = parts[1].replace("\\040", " ")
                if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best):
                    best, kind = mnt, parts[2]
    except OSError:
        pass
    return kind


def default_tmpdir():
    """/dev/shm when it is a writable tmpfs: the benchmarks measure the
    daemons, not the disk."""
    if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) and fstype("/dev/shm") == "tmpfs":
        return "/dev/shm"
    return None


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "model": model,
        "kernel": platform.release(),
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "python": platform.python_version(),
        "load_start": loadavg(),
    }


def versions(session):
    ours = subprocess.run([session.ours, "--version"], capture_output=True,
                          text=True).stdout.strip() or "?"
    ref_python = subprocess.run(
        [session.python, "-c", "import platform; print(platform.python_version())"],
        capture_output=True, text=True).stdout.strip()
    return ours, ref_python


def machine_sentence(res, script):
    """The opening sentence of a section: when, where, what was compared."""
    m = res["machine"]
    return (f"Measured {m['date']} by `make bench` (`tests/bench/{script}`) on {m['nproc']} CPU(s), "
            f"{m['model']}, Linux {m['kernel']}; reference: Supervisor 4.3.0 on Python "
            f"{res['ref_python']}; ours: `{res['ours_version']}` (release build). "
            f"Load average at start {m['load_start']}, at end {m['load_end']}"
            + (f" (on {m['nproc']} CPUs the machine was busy with other work: wall-clock figures "
               "are noisy, CPU-time figures much less so)" if busy(m) else "")
            + ".")


def busy(m):
    """True when the load average at start or end exceeded half the CPUs."""
    try:
        loads = [float(m["load_start"].split()[0]), float(m.get("load_end", "0").split()[0])]
    except (ValueError, IndexError):
        return False
    return max(loads) > m["nproc"] / 2


# ---------------------------------------------------------------- report


def fmt_ms(seconds):
    if seconds is None:
        return "—"
    ms = seconds * 1000
    if ms < 10:
        return f"{ms:.2f} ms"
    if ms < 100:
        return f"{ms:.1f} ms"
    return f"{ms:.0f} ms"


def fmt_us(seconds):
    if seconds is None:
        return "—"
    us = seconds * 1e6
    if us < 10:
        return f"{us:.2f} µs"
    if us < 1000:
        return f"{us:.1f} µs" if us < 100 else f"{us:.0f} µs"
    return fmt_ms(seconds)


def fmt_mib(b):
    return f"{b / MIB:.2f} MiB" if b < 10 * MIB else f"{b / MIB:.1f} MiB"


def fmt_num(x, unit=""):
    if x is None:
        return "—"
    if x >= 100:
        s = f"{x:,.0f}"
    elif x >= 10:
        s = f"{x:.1f}"
    else:
        s = f"{x:.2f}"
    return s + (f" {unit}" if unit else "")


def ratio(ref, ours):
    if ours is None or ref is None:
        return "—"
    if ours <= 0:
        return "∞" if ref > 0 else "—"
    r = ref / ours
    if r >= 100:
        return f"{r:.0f}x"
    return f"{r:.1f}x" if r >= 20 else f"{r:.2f}x"


def pct(values, p):
    v = sorted(values)
    if not v:
        return None
    k = (len(v) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def verdict(ok):
    return "yes" if ok else "**NO**"


HEAD = ("metric", "ours", "reference", "ref/ours", "target / yardstick", "met")


def text_table(rows, head=HEAD):
    all_rows = [head] + [tuple(str(c) for c in r) for r in rows]
    widths = [max(len(r[i]) for r in all_rows) for i in range(len(head))]
    lines = []
    for i, r in enumerate(all_rows):
        lines.append("  ".join(c.ljust(widths[j]) for j, c in enumerate(r)).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(rows, head=HEAD):
    aligns = ["---"] + ["---:"] * 3 + ["---"] * (len(head) - 4)
    out = ["| " + " | ".join(head) + " |", "|" + "|".join(aligns) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return out


def markdown_section(section, intro, rows, notes, head=HEAD):
    out = [f"## {section}", "", intro, ""] + markdown_table(rows, head)
    if notes:
        out += ["", "Notes from the run:", ""]
        out += [f"- {n}" for n in notes]
    return "\n".join(out) + "\n"


def write_benchmarks(path, section, section_text):
    """Replaces (or appends) one `## section` of BENCHMARKS.md, keeping the
    others."""
    header = (
        "# Benchmarks\n\n"
        "Produced by `make bench` (`tests/bench/`): every section compares this implementation "
        "(\"ours\") with the reference Supervisor 4.3.0, measured in the same run on the same "
        "machine. Targets are those of SPEC.md section 9. Ratios are reference/ours (higher is "
        "better for us).\n"
    )
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        text = header
    sections = re.split(r"(?m)^(?=## )", text)
    title = f"## {section}"
    replaced = False
    for i, s in enumerate(sections):
        if s.startswith(title + "\n"):
            sections[i] = section_text + "\n"
            replaced = True
    if not replaced:
        if not sections[-1].endswith("\n\n"):
            sections[-1] = sections[-1].rstrip("\n") + "\n\n"
        sections.append(section_text + "\n")
    new = "".join(sections).rstrip("\n") + "\n"
    with open(path, "w") as f:
        f.write(new)


# ---------------------------------------------------------------- main


def arg_parser(doc):
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--ours", required=True, help="our release binary (target/release/supervisor)")
    ap.add_argument("--python", required=True, help="python with supervisor 4.3.0 installed")
    ap.add_argument("--quick", action="store_true", help="shorter windows, fewer repeats")
    ap.add_argument("--output", default=os.path.join(PROJECT, "BENCHMARKS.md"),
                    help="Markdown file whose section is (re)written")
    ap.add_argument("--no-write", action="store_true", help="print only")
    ap.add_argument("--tmpdir", default=default_tmpdir(),
                    help="where the work directory goes (default: /dev/shm if tmpfs, else $TMPDIR)")
    return ap


def run_main(args, section, run, build_rows, intro):
    """The frame of every benchmark: header, run (with the cleanup in a
    finally), table, notes, BENCHMARKS.md. `run(session, res)` fills `res`;
    `build_rows(res)` gives the table; `intro(res)` the section's text."""
    session = Session(args)
    prev_term = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = now()
    status = 0
    res = {"quick": args.quick, "machine": machine(), "notes": session.notes,
           "fstype": session.fstype, "tmp": session.tmp}
    res["ours_version"], res["ref_python"] = versions(session)
    m = res["machine"]
    print(f"{section}: {m['nproc']} CPU(s), {m['model']}, Linux {m['kernel']}, {m['date']}, "
          f"load average {m['load_start']}", flush=True)
    print(f"marker: {MARKER_VAR}={session.marker}; workdir {session.tmp} ({session.fstype})",
          flush=True)
    try:
        run(session, res)
        res["machine"]["load_end"] = loadavg()
    except BenchError as e:
        print(f"bench failed: {e}", file=sys.stderr)
        status = 1
    finally:
        left = session.cleanup()
        signal.signal(signal.SIGTERM, prev_term)
        if left:
            print(f"bench: processes with the marker survived cleanup: {left}", file=sys.stderr)
            status = 1
        else:
            print(f"cleanup: no process with {MARKER_VAR}={session.marker} left", flush=True)
    if status:
        return status
    rows = build_rows(res)
    print(f"\n{section}: {m['nproc']} CPU(s), {m['model']}, Linux {m['kernel']}, {m['date']}, "
          f"load average {m['load_start']} → {m['load_end']}, work dir on {res['fstype']}")
    print(text_table(rows))
    if session.notes:
        print("\nnotes:")
        for n in session.notes:
            print(f"- {n}")
    print(f"\n(bench took {now() - started:.0f} s)")
    if not args.no_write:
        write_benchmarks(args.output, section,
                         markdown_section(section, intro(res), rows, session.notes))
        print(f"wrote section '{section}' of {args.output}")
    return 0
