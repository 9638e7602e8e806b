#!/usr/bin/env python3
"""Logging benchmarks (`make bench`): how fast our supervisord moves child
output into log files, against the reference Supervisor 4.3.0 in the same
run, and against a plain pipe-to-file copy on the same machine.

1. Throughput: one child (`yes LINE | head -c 256M`) writes 256 MiB to its
   stdout; the daemon logs it to a file, without rotation
   (`stdout_logfile_maxbytes=0`) and with rotation (50 MB, 10 backups).
   Timed from the startProcess call until the log files hold every byte;
   the daemon's CPU time over the same span gives its CPU per MB. Then the
   files (backups oldest first, then the live one) are compared byte for
   byte with what the child wrote. The yardstick: the same producer piped
   into `cat > FILE`, timed the same way (and cat's own CPU time).
2. Chatty children: 100 children each write a numbered line every 10 ms
   (perl, on a fixed schedule); over a window in the middle of their run,
   the daemon's CPU time (per second, per line, per MB); afterwards, every
   child's log must hold every number in order, once.

Logs go to a tmpfs (/dev/shm) to measure the daemons, not the disk. Every
process started carries BENCH_MARKER=<uuid> (see benchlib.py) and is gone
when the benchmark ends, even on error. Results go to stdout and to the
"Logging (issue 4)" section of BENCHMARKS.md.
"""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

SECTION = "Logging (issue 4)"
LINE = ("2026-01-01 12:00:00,000 INFO worker[42]: handled request id=0123456789abcdef "
        "path=/api/v1/items status=200 in 12 ms")
TOTAL = 256 * bl.MIB
ROTATE_MAXBYTES = 50 * 1000 * 1000
ROTATE_BACKUPS = 10
CHATTY = 100
PERIOD = 0.01
PAD = "x" * 40

CHATTY_PL = r"""
use strict;
use Time::HiRes qw(time sleep);
$| = 1;
my ($n, $name) = @ARGV;
my $pad = "PAD";
my $t = time;
for my $i (1 .. $n) {
    print "$name $i $pad\n";
    $t += PERIOD;
    my $d = $t - time;
    sleep($d) if $d > 0;
}
""".replace("PAD", PAD).replace("PERIOD", str(PERIOD))


def producer_cmd(total):
    return f"yes '{LINE}' | head -c {total}"


# ---------------------------------------------------------------- checks


def log_files(path):
    """The log and its backups, oldest first."""
    d, base = os.path.split(path)
    backups = []
    for name in os.listdir(d):
        if name.startswith(base + "."):
            suffix = name[len(base) + 1:]
            if suffix.isdigit():
                backups.append(int(suffix))
    files = [f"{path}.{i}" for i in sorted(backups, reverse=True)]
    if os.path.exists(path):
        files.append(path)
    return files


def total_size(path):
    n = 0
    for f in log_files(path):
        try:
            n += os.stat(f).st_size
        except FileNotFoundError:
            pass
    return n


def check_stream(files, total):
    """Compares the concatenation of `files` with the producer's stream
    (LINE\\n repeated, cut at `total` bytes). Returns None or what differs."""
    unit = (LINE + "\n").encode()
    period = len(unit)
    chunk = 1 << 20
    pattern = unit * (chunk // period + 2)
    offset = 0
    for path in files:
        with open(path, "rb") as f:
            while True:
                data = f.read(chunk)
                if not data:
                    break
                k = offset % period
                if data != pattern[k:k + len(data)]:
                    for i, (a, b) in enumerate(zip(data, pattern[k:k + len(data)])):
                        if a != b:
                            break
                    return f"content differs at byte {offset + i} (in {os.path.basename(path)})"
                offset += len(data)
    if offset != total:
        return f"{offset} bytes logged, {total} written"
    return None


def check_numbered(path, name, n):
    """Every number 1..n once, in order, each line intact. Returns None or
    a description of the first problem."""
    expected = 1
    with open(path, "rb") as f:
        for line in f:
            parts = line.rstrip(b"\n").split(b" ")
            if (len(parts) != 3 or parts[0] != name.encode() or parts[2] != PAD.encode()
                    or not line.endswith(b"\n")):
                return f"malformed line {line[:60]!r} after {expected - 1}"
            i = int(parts[1])
            if i != expected:
                return f"line {i} where {expected} was expected"
            expected += 1
    if expected != n + 1:
        return f"{expected - 1} lines of {n}"
    return None


# ---------------------------------------------------------------- yardstick


def yardstick(session, total):
    """The producer piped into `cat > FILE`: wall time until cat exits, and
    cat's own CPU time (rusage)."""
    path = os.path.join(session.tmp, "copy.out")
    out = open(path, "wb")
    try:
        t0 = bl.now()
        prod = session.popen(["/bin/sh", "-c", producer_cmd(total)], stdout=subprocess.PIPE)
        cat = session.popen(["cat"], stdin=prod.stdout, stdout=out)
        prod.stdout.close()
        _, status, ru = os.wait4(cat.pid, 0)
        elapsed = bl.now() - t0
        cat.returncode = os.waitstatus_to_exitcode(status)
        prod.wait()
    finally:
        out.close()
    size = os.stat(path).st_size
    os.unlink(path)
    if size != total:
        raise bl.BenchError(f"yardstick copied {size} bytes of {total}")
    return {"time": elapsed, "cpu": ru.ru_utime + ru.ru_stime}


# ---------------------------------------------------------------- throughput


def writer_programs(log, rotate, total):
    maxbytes, backups = (ROTATE_MAXBYTES, ROTATE_BACKUPS) if rotate else (0, 0)
    return f"""\
[program:w]
command=/bin/sh -c "{producer_cmd(total)}"
autostart=false
autorestart=false
startsecs=0
stdout_logfile={log}
stdout_logfile_maxbytes={maxbytes}
stdout_logfile_backups={backups}
stderr_logfile=NONE
"""


def throughput_runs(session, kind, rotate, runs, total):
    tag = "rotate" if rotate else "plain"
    out = []
    log_dir = os.path.join(session.tmp, f"logs-{kind}-{tag}")
    os.makedirs(log_dir)
    log = os.path.join(log_dir, "w.log")
    d = session.daemon(kind, f"tput-{tag}", writer_programs(log, rotate, total))
    rpc = d.rpc()
    try:
        meter = bl.CpuMeter(d.pid)
        for i in range(runs):
            if i > 0:
                # Empty the live log through the API (ours holds it open),
                # then delete the backups. The reference's clearProcessLogs
                # does nothing on a process that is not running (it has no
                # dispatchers then), but it opens the log anew at each
                # spawn: there the file can simply go.
                rpc.supervisor.clearProcessLogs("w")
                for f in log_files(log)[:-1]:
                    os.unlink(f)
                if kind == "reference" and total_size(log):
                    os.unlink(log)
            if total_size(log):
                raise bl.BenchError(f"{kind}: {log} not empty before run {i + 1}")
            c0 = meter.read()
            t0 = bl.now()
            rpc.supervisor.startProcess("w", False)
            deadline = t0 + 120
            while total_size(log) < total:
                if bl.now() > deadline:
                    raise bl.BenchError(f"{kind}: {total_size(log)} of {total} bytes logged after "
                                        "120 s")
                d.check_alive()
                time.sleep(0.002)
            elapsed = bl.now() - t0
            c1 = meter.read()
            d.wait_states({"EXITED"}, 1, timeout=30, rpc=rpc)
            time.sleep(0.05)  # a last write after the exit would show in the check
            files = log_files(log)
            problem = check_stream(files, total)
            if problem:
                session.note(f"{kind}, {tag}: {problem}")
            if rotate:
                sizes = [os.stat(f).st_size for f in files]
                if len(files) != -(-total // ROTATE_MAXBYTES) or any(
                        s < ROTATE_MAXBYTES for s in sizes[:-1]):
                    session.note(f"{kind}, {tag}: {len(files)} files, sizes {sizes}")
            r = {"time": elapsed, "cpu": c1 - c0, "ok": problem is None, "files": len(files)}
            out.append(r)
            print(f"    [{kind}] {tag} run {i + 1}: {total / bl.MIB / elapsed:.0f} MiB/s, daemon CPU "
                  f"{(c1 - c0) * 1000 / (total / bl.MIB):.2f} ms/MiB, {len(files)} file(s), "
                  f"{'bytes intact' if problem is None else problem}", flush=True)
        rpc("close")()
        d.stop()
    finally:
        d.close()
    return out


# ---------------------------------------------------------------- chatty


def chatty_programs(script, log_dir, n_lines):
    return f"""\
[program:c]
command=/usr/bin/perl {script} {n_lines} %(process_num)03d
process_name=%(program_name)s_%(process_num)03d
numprocs={CHATTY}
autostart=false
autorestart=false
startsecs=0
stdout_logfile={log_dir}/c_%(process_num)03d.log
stderr_logfile=NONE
"""


def chatty_run(session, kind, window):
    script = os.path.join(session.tmp, "chatty.pl")
    if not os.path.exists(script):
        with open(script, "w") as f:
            f.write(CHATTY_PL)
    log_dir = os.path.join(session.tmp, f"chatty-{kind}")
    os.makedirs(log_dir)
    # 1 s to get going, the window, then 2 s of margin before they end.
    n_lines = int((window + 3) / PERIOD)
    d = session.daemon(kind, "chatty", chatty_programs(script, log_dir, n_lines), nprocs=CHATTY)
    rpc = d.rpc()
    logs = [os.path.join(log_dir, f"c_{i:03d}.log") for i in range(CHATTY)]
    try:
        meter = bl.CpuMeter(d.pid)
        rpc.supervisor.startAllProcesses(False)
        d.wait_states({"RUNNING"}, CHATTY, timeout=30, rpc=rpc)
        time.sleep(1.0)  # not measured: the children settle into their schedule
        s0 = [os.stat(p).st_size for p in logs]
        c0, t0 = meter.read(), bl.now()
        ctx0 = bl.proc_status(d.pid)
        time.sleep(window)  # the measurement window: nothing else touches the daemon
        c1, t1 = meter.read(), bl.now()
        ctx1 = bl.proc_status(d.pid)
        s1 = [os.stat(p).st_size for p in logs]
        d.wait_states({"EXITED"}, CHATTY, timeout=window + 60, rpc=rpc)
        time.sleep(0.05)
        problems = []
        for i, p in enumerate(logs):
            problem = check_numbered(p, f"{i:03d}", n_lines)
            if problem:
                problems.append(f"c_{i:03d}: {problem}")
        if problems:
            session.note(f"{kind}, chatty children: {len(problems)} of {CHATTY} logs incomplete "
                         f"or out of order, e.g. {problems[0]}")
        unexpected = [l for l in d.log_lines()
                      if (" ERRO " in l or " CRIT " in l or " WARN " in l)
                      and "running as root" not in l and "CRIT Server" not in l]
        if unexpected:
            session.note(f"{kind}, chatty children: main log: {unexpected[0]}")
        span = t1 - t0
        line_bytes = sum(s1) - sum(s0)
        lines = 0  # the lines logged in the window
        for p, a, b in zip(logs, s0, s1):
            with open(p, "rb") as f:
                f.seek(a)
                lines += f.read(b - a).count(b"\n")

        def ctxsw(s):
            return int(s["voluntary_ctxt_switches"]) + int(s["nonvoluntary_ctxt_switches"])

        r = {"cpu_per_s": (c1 - c0) / span, "cpu_per_mb": (c1 - c0) / (line_bytes / 1e6),
             "cpu_per_line": (c1 - c0) / lines, "lines_per_s": lines / span,
             "ctx_per_s": (ctxsw(ctx1) - ctxsw(ctx0)) / span, "ok": not problems,
             "bad": len(problems), "n_lines": n_lines, "window": span,
             "kb_per_s": line_bytes / 1e3 / span}
        print(f"    [{kind}] chatty: daemon CPU {r['cpu_per_s'] * 1000:.1f} ms/s, "
              f"{r['cpu_per_line'] * 1e6:.1f} µs/line, {r['cpu_per_mb'] * 1000:.0f} ms/MB, "
              f"{r['ctx_per_s']:.0f} ctx switches/s, {r['lines_per_s']:.0f} lines/s; "
              f"{CHATTY - len(problems)}/{CHATTY} logs complete ({n_lines} lines each)", flush=True)
        rpc("close")()
        d.stop()
        return r
    finally:
        d.close()


# ---------------------------------------------------------------- run


def run(session, res):
    quick = session.quick
    runs = {"ours": 1 if quick else 3, "reference": 1 if quick else 2}
    res["runs"] = runs
    res["total"] = TOTAL
    res["window"] = 5.0 if quick else 10.0
    ys = []
    for _ in range(1 if quick else 3):
        ys.append(yardstick(session, TOTAL))
        print(f"[yardstick] yes | head -c 256M | cat > file: {TOTAL / bl.MIB / ys[-1]['time']:.0f} "
              f"MiB/s, cat CPU {ys[-1]['cpu'] * 1000 / (TOTAL / bl.MIB):.2f} ms/MiB", flush=True)
    res["yardstick"] = {"time": min(y["time"] for y in ys), "cpu": min(y["cpu"] for y in ys)}
    for kind in bl.KINDS:
        res[kind] = {}
        for rotate in (False, True):
            tag = "rotate" if rotate else "plain"
            print(f"[{kind}] 256 MiB through one child, {tag} ...", flush=True)
            rs = throughput_runs(session, kind, rotate, runs[kind], TOTAL)
            res[kind][tag] = {"time": min(r["time"] for r in rs),
                              "cpu": min(r["cpu"] for r in rs),
                              "ok": all(r["ok"] for r in rs)}
            # A yardstick run next to each daemon's, so both see the same load.
            y = yardstick(session, TOTAL)
            res["yardstick"]["time"] = min(res["yardstick"]["time"], y["time"])
            res["yardstick"]["cpu"] = min(res["yardstick"]["cpu"], y["cpu"])
    for kind in bl.KINDS:
        print(f"[{kind}] {CHATTY} chatty children, {res['window']:.0f} s window ...", flush=True)
        res[kind]["chatty"] = chatty_run(session, kind, res["window"])


# ---------------------------------------------------------------- report


def build_rows(res):
    mib = res["total"] / bl.MIB
    y = res["yardstick"]
    y_rate = mib / y["time"]
    o, r = res["ours"], res["reference"]
    rows = [("pipe-to-file copy (yardstick): `yes | head -c 256M | cat > file`",
             f"{y_rate:,.0f} MiB/s", "", "", f"cat's CPU {y['cpu'] * 1000 / mib:.2f} ms/MiB", "")]
    for tag, what in (("plain", "no rotation"), ("rotate", "rotating 50 MB × 10")):
        ro, rr = mib / o[tag]["time"], mib / r[tag]["time"]
        frac = ro / y_rate
        rows.append((f"256 MiB from one child, {what}: throughput", f"{ro:,.0f} MiB/s",
                     f"{rr:,.0f} MiB/s", bl.ratio(ro, rr), "", ""))
        rows.append((f"256 MiB, {what}: fraction of the copy", f"{frac:.2f}",
                     f"{rr / y_rate:.2f}", "", "≥ 0.8", bl.verdict(frac >= 0.8)))
        co, cr = o[tag]["cpu"] / mib, r[tag]["cpu"] / mib
        rows.append((f"256 MiB, {what}: daemon CPU per MiB", f"{co * 1000:.2f} ms",
                     f"{cr * 1000:.2f} ms", bl.ratio(cr, co),
                     f"cat: {y['cpu'] * 1000 / mib:.2f} ms", ""))
        rows.append((f"256 MiB, {what}: every byte logged, in order",
                     "yes" if o[tag]["ok"] else "**NO**", "yes" if r[tag]["ok"] else "**NO**",
                     "", "no byte lost", bl.verdict(o[tag]["ok"])))
    co, cr = o["chatty"], r["chatty"]
    w = co["window"]
    rows.append((f"{CHATTY} children × 1 line / 10 ms: daemon CPU ({w:.0f} s window)",
                 f"{co['cpu_per_s'] * 1000:.1f} ms/s", f"{cr['cpu_per_s'] * 1000:.1f} ms/s",
                 bl.ratio(cr["cpu_per_s"], co["cpu_per_s"]),
                 f"{co['lines_per_s']:,.0f} lines/s, {co['kb_per_s']:.0f} kB/s", ""))
    rows.append((f"{CHATTY} chatty children: daemon CPU per line", bl.fmt_us(co["cpu_per_line"]),
                 bl.fmt_us(cr["cpu_per_line"]), bl.ratio(cr["cpu_per_line"], co["cpu_per_line"]),
                 "", ""))
    rows.append((f"{CHATTY} chatty children: daemon CPU per MB",
                 f"{co['cpu_per_mb'] * 1000:.0f} ms", f"{cr['cpu_per_mb'] * 1000:.0f} ms",
                 bl.ratio(cr["cpu_per_mb"], co["cpu_per_mb"]), "≤ 150 ms",
                 bl.verdict(co["cpu_per_mb"] <= 0.150)))
    rows.append((f"{CHATTY} chatty children: daemon context switches",
                 f"{co['ctx_per_s']:,.0f}/s", f"{cr['ctx_per_s']:,.0f}/s",
                 bl.ratio(cr["ctx_per_s"], co["ctx_per_s"]), "", ""))
    rows.append((f"{CHATTY} chatty children: every line logged, in order",
                 f"{CHATTY - co['bad']}/{CHATTY} logs", f"{CHATTY - cr['bad']}/{CHATTY} logs", "",
                 f"{co['n_lines']:,} lines each", bl.verdict(co["ok"])))
    return rows


def intro(res):
    runs = res["runs"]
    return (
        bl.machine_sentence(res, "logging_bench.py") + " "
        f"Log files, configs and the yardstick's output on {res['fstype']} (/dev/shm), so that the "
        "daemons are measured, not the disk. One child (`/bin/sh -c \"yes LINE | head -c "
        "268435456\"`, lines of 115 bytes) is started over XML-RPC; timed from `startProcess` until "
        "the log files hold all 256 MiB; then checked byte for byte (rotated backups oldest "
        "first). The yardstick is the same producer piped into `cat > file`. Daemon CPU is its "
        "schedstat CPU time over the same span (utime+stime at nanosecond grain). "
        f"Throughput: best of {runs['ours']} runs for ours, {runs['reference']} for the reference "
        "(the yardstick: best of its runs, one taken next to each daemon's). Chatty children: "
        "`perl` writing `NNN i xxx…` lines (about 50 bytes) on a fixed 10 ms schedule to "
        "`stdout_logfile` (default rotation); the daemon's CPU over a window in the middle of "
        "their run, nothing else talking to it; then every log checked for lines 1..n in order. "
        "The ratio column is the advantage of ours: ours/reference for throughput, "
        "reference/ours for CPU."
    )


def main():
    args = bl.arg_parser(__doc__).parse_args()
    return bl.run_main(args, SECTION, run, build_rows, intro)


if __name__ == "__main__":
    sys.exit(main())
