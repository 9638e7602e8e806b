#!/usr/bin/env python3
"""supervisorctl benchmarks (`make bench`): our supervisorctl against the
reference's (Supervisor 4.3.0), both talking to the same daemon (ours), in
the same run.

The daemon runs 100 programs (`/bin/sleep`, all RUNNING). Timed, each as a
fresh process started with posix_spawn and reaped with wait4 (which also
gives its peak RSS and its CPU time, as /usr/bin/time -v would):

1. `supervisorctl status` (100 lines);
2. `supervisorctl stop p_0000` then `supervisorctl start p_0000`, in turn
   (startsecs=0: start returns once the process is RUNNING, stop once it
   has exited on SIGTERM).

Repeated runs, hyperfine-style: best and median wall time, median CPU time
and peak RSS. The yardstick is `/bin/true` spawned and reaped the same way.
Both clients' outputs are compared.

Every process started carries BENCH_MARKER=<uuid> (see benchlib.py) and is
gone when the benchmark ends, even on error. Results go to stdout and to the
"supervisorctl (issue 6)" section of BENCHMARKS.md.
"""

import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

SECTION = "supervisorctl (issue 6)"
N = 100


def programs(n):
    return f"""\
[program:p]
command=/bin/sleep 100000
process_name=%(program_name)s_%(process_num)04d
numprocs={n}
startsecs=0
autorestart=false
stopwaitsecs=10
"""


def timed(session, argv, out_path):
    """One run: wall time from posix_spawn to wait4, CPU time, peak RSS,
    exit status."""
    env = session.env()
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
        (os.POSIX_SPAWN_DUP2, 1, 2),
    ]
    t0 = bl.now()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=actions)
    _, status, ru = os.wait4(pid, 0)
    wall = bl.now() - t0
    return {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime,
            "status": os.waitstatus_to_exitcode(status)}


TIME = "/usr/bin/time"


def peak_rss(session, argv, out_path, runs=3):
    """Peak RSS of the client, through GNU time (its `%M`): a process
    started by posix_spawn (vfork) or fork from this Python inherits the
    high-water mark of our own memory into its ru_maxrss, a tiny C parent
    does not. None without /usr/bin/time."""
    if not os.access(TIME, os.X_OK):
        return None
    rss_file = out_path + ".rss"
    peaks = []
    for _ in range(runs):
        r = timed(session, [TIME, "-f", "%M", "-o", rss_file, *argv], out_path)
        if r["status"] != 0:
            raise bl.BenchError(f"{' '.join(argv)} under {TIME} exited {r['status']}")
        with open(rss_file) as f:
            peaks.append(int(f.read().split()[-1]) * 1024)
    return max(peaks)


def summary(runs):
    walls = [r["wall"] for r in runs]
    return {"best": min(walls), "median": statistics.median(walls),
            "cpu": statistics.median(r["cpu"] for r in runs), "n": len(runs)}


def fmt_rss(b):
    return bl.fmt_mib(b) if b else "—"


def ctl_argv(session, kind, conf, *words):
    if kind == "ours":
        return [session.ours, "supervisorctl", "-c", conf, *words]
    return [session.python, "-m", "supervisor.supervisorctl", "-c", conf, *words]


def run(session, res):
    quick = session.quick
    reps = {"ours": 10 if quick else 40, "reference": 5 if quick else 15}
    res["reps"] = reps
    out = os.path.join(session.tmp, "ctl.out")
    print(f"[daemon] ours with {N} programs ...", flush=True)
    d = session.daemon("ours", f"ctl-{N}", programs(N), nprocs=N)
    try:
        d.wait_states({"RUNNING"}, N, timeout=60)
        y = [timed(session, ["/bin/true"], out) for _ in range(reps["ours"])]
        res["yardstick"] = summary(y)
        print(f"[yardstick] /bin/true: best {bl.fmt_ms(res['yardstick']['best'])}", flush=True)
        outputs = {}
        for kind in bl.KINDS:
            res[kind] = {}
            argv = ctl_argv(session, kind, d.conf, "status")
            runs = []
            for i in range(reps[kind]):
                r = timed(session, argv, out)
                if r["status"] != 0:
                    raise bl.BenchError(f"{kind} supervisorctl status exited {r['status']}: "
                                        + open(out).read()[-500:])
                runs.append(r)
            with open(out) as f:
                outputs[kind] = f.read()
            res[kind]["status"] = summary(runs)
            res[kind]["status"]["rss"] = peak_rss(session, argv, out)
            lines = outputs[kind].count("\n")
            if lines != N or outputs[kind].count("RUNNING") != N:
                session.note(f"{kind} supervisorctl status printed {lines} lines, "
                             f"{outputs[kind].count('RUNNING')} RUNNING, for {N} processes")
            s = res[kind]["status"]
            print(f"[{kind}] status: best {bl.fmt_ms(s['best'])}, median {bl.fmt_ms(s['median'])}, "
                  f"CPU {bl.fmt_ms(s['cpu'])}, peak RSS {fmt_rss(s['rss'])}", flush=True)
            for word in ("stop", "start"):
                res[kind][word] = []
            for i in range(reps[kind]):
                for word, state in (("stop", "STOPPED"), ("start", "RUNNING")):
                    r = timed(session, ctl_argv(session, kind, d.conf, word, "p:p_0000"), out)
                    text = open(out).read()
                    if r["status"] != 0 or (state == "STOPPED" and "stopped" not in text) or \
                            (state == "RUNNING" and "started" not in text):
                        raise bl.BenchError(f"{kind} supervisorctl {word} p:p_0000: exit "
                                            f"{r['status']}: {text[-300:]}")
                    res[kind][word].append(r)
            for word in ("stop", "start"):
                res[kind][word] = summary(res[kind][word])
                argv = ctl_argv(session, kind, d.conf, word, "p:p_0000")
                res[kind][word]["rss"] = peak_rss(session, argv, out, runs=1)
                s = res[kind][word]
                print(f"[{kind}] {word} p:p_0000: best {bl.fmt_ms(s['best'])}, median "
                      f"{bl.fmt_ms(s['median'])}, CPU {bl.fmt_ms(s['cpu'])}, peak RSS "
                      f"{fmt_rss(s['rss'])}", flush=True)
        # The two clients' `status`, back to back (uptimes may tick over).
        texts = {}
        for kind in bl.KINDS:
            timed(session, ctl_argv(session, kind, d.conf, "status"), out)
            with open(out) as f:
                texts[kind] = [l.split("uptime")[0].rstrip() for l in f.read().splitlines()]
        a, b = texts["ours"], texts["reference"]
        if a == b:
            res["same_output"] = "same lines (uptimes aside)"
        else:
            diff = next((f"{x!r} vs {y!r}" for x, y in zip(a, b) if x != y),
                        f"{len(a)} vs {len(b)} lines")
            session.note(f"`status` output differs between the two clients: {diff}")
        d.stop()
    finally:
        d.close()


def build_rows(res):
    o, r, y = res["ours"], res["reference"], res["yardstick"]
    rows = []
    for word, label, tgt in (("status", f"`status`, {N} processes", "≤ 5 ms, ≥ 20x"),
                             ("stop", "`stop p:p_0000`", "≥ 20x"),
                             ("start", "`start p:p_0000`", "≥ 20x")):
        so, sr = o[word], r[word]
        ok = sr["median"] >= 20 * so["median"]
        if word == "status":
            ok = ok and so["median"] <= 0.005
        rows.append((f"{label}: wall time, best", bl.fmt_ms(so["best"]), bl.fmt_ms(sr["best"]),
                     bl.ratio(sr["best"], so["best"]), f"/bin/true {bl.fmt_ms(y['best'])}", ""))
        rows.append((f"{label}: wall time, median", bl.fmt_ms(so["median"]),
                     bl.fmt_ms(sr["median"]), bl.ratio(sr["median"], so["median"]),
                     f"{tgt}; /bin/true {bl.fmt_ms(y['median'])}", bl.verdict(ok)))
        rows.append((f"{label}: CPU time (user+sys), median", bl.fmt_ms(so["cpu"]),
                     bl.fmt_ms(sr["cpu"]), bl.ratio(sr["cpu"], so["cpu"]), "", ""))
        target, met = "", ""
        if word == "status" and so["rss"]:
            target, met = "≤ 3 MiB", bl.verdict(so["rss"] <= 3 * bl.MIB)
        rows.append((f"{label}: peak RSS of the client", fmt_rss(so["rss"]), fmt_rss(sr["rss"]),
                     bl.ratio(sr["rss"], so["rss"]), target, met))
    if res.get("same_output"):
        rows.append(("`status` output of the two clients", res["same_output"], "", "", "", ""))
    return rows


def intro(res):
    reps = res["reps"]
    return (
        bl.machine_sentence(res, "ctl_bench.py") + " "
        f"Both clients talk to the same daemon (ours, {N} programs `/bin/sleep`, all RUNNING) over "
        "its unix socket, named by `serverurl` in the same configuration file; the reference is "
        "`python -m supervisor.supervisorctl`. Every run is a fresh process started with "
        "`posix_spawn` and reaped with `wait4`: wall time from spawn to reap, CPU time from its "
        "rusage; output to a file on tmpfs. Peak RSS is GNU time's `%M` (max of 3 runs for "
        "`status`, 1 for stop/start), since a client spawned straight from the benchmark's Python "
        "inherits Python's high-water mark into its `ru_maxrss`. "
        f"Runs: ours {reps['ours']}, reference {reps['reference']} (stop and start alternate on "
        "one process). Ratios of wall time use the medians; CPU time is the client's own."
    )


def main():
    args = bl.arg_parser(__doc__).parse_args()
    return bl.run_main(args, SECTION, run, build_rows, intro)


if __name__ == "__main__":
    sys.exit(main())
