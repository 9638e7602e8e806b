#!/usr/bin/env python3
"""RPC benchmarks (`make bench`): XML-RPC latency and throughput of our
supervisord against the reference Supervisor 4.3.0, in the same run.

For each daemon, with 100 and then 1000 programs RUNNING (`/bin/sleep`):
`supervisor.getState` (the floor: no per-process work) and
`supervisor.getAllProcessInfo`, over the unix socket and over TCP
(127.0.0.1), from 1 and from 8 concurrent clients. Each client is its own
Python process (no GIL shared between them) holding one keep-alive HTTP/1.1
connection; it sends the same pre-encoded request (the bytes xmlrpc.client
would send) and reads each response by its Content-Length (or chunks)
without decoding it, so that the client costs as little as possible; its
first response is decoded and checked (the state, the number of processes).
Measured over a fixed window: per-request latency (p50/p99), requests per
second, and the daemon's CPU time per request (schedstat of the daemon,
which other load on the machine does not inflate the way it inflates wall
time). The cost of getAllProcessInfo must grow at most linearly with the
number of processes.

Every process started carries BENCH_MARKER=<uuid> (see benchlib.py) and is
gone when the benchmark ends, even on error. Results go to stdout and to the
"RPC (issue 5)" section of BENCHMARKS.md.
"""

import json
import os
import re
import socket
import subprocess
import sys
import time
import xmlrpc.client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

SECTION = "RPC (issue 5)"
SIZES = (100, 1000)
CONCURRENCY = (1, 8)
TRANSPORTS = ("unix", "tcp")


# ---------------------------------------------------------------- worker


def request_bytes(method):
    body = xmlrpc.client.dumps((), method).encode()
    head = (
        "POST /RPC2 HTTP/1.1\r\n"
        "Host: localhost\r\n"
        "Accept-Encoding: identity\r\n"
        "User-Agent: xmlrpclib.py/1.0.1 (by www.pythonware.com)\r\n"
        "Content-Type: text/xml\r\n"
        "Accept: text/xml\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    return head + body


class RawClient:
    """One keep-alive HTTP connection; reads responses without decoding."""

    def __init__(self, url):
        self.url = url
        self.sock = None
        self.buf = b""
        self.connects = 0

    def connect(self):
        if self.url.startswith("unix://"):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(self.url[len("unix://"):])
        else:
            host, port = self.url[len("http://"):].split(":")
            s = socket.create_connection((host, int(port)))
            # As http.client does: the request goes out in one send anyway.
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = s
        self.buf = b""
        self.connects += 1

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def _fill(self):
        data = self.sock.recv(1 << 16)
        if not data:
            raise ConnectionError("server closed the connection")
        self.buf += data

    def call(self, req):
        if self.sock is None:
            self.connect()
        self.sock.sendall(req)
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            self._fill()
        head = self.buf[:end].decode("latin-1")
        self.buf = self.buf[end + 4:]
        status = head.split(" ", 2)[1]
        if status != "200":
            raise ConnectionError(f"HTTP {status}")
        lower = head.lower()
        m = re.search(r"\ncontent-length:\s*(\d+)", lower)
        if m:
            n = int(m.group(1))
            while len(self.buf) < n:
                self._fill()
            body, self.buf = self.buf[:n], self.buf[n:]
        elif "transfer-encoding: chunked" in lower:
            body = b""
            while True:
                while b"\r\n" not in self.buf:
                    self._fill()
                line, _, self.buf = self.buf.partition(b"\r\n")
                size = int(line.split(b";")[0], 16)
                while len(self.buf) < size + 2:
                    self._fill()
                body += self.buf[:size]
                self.buf = self.buf[size + 2:]
                if size == 0:
                    break
        else:
            # No length: the body ends with the connection.
            try:
                while True:
                    self._fill()
            except ConnectionError:
                pass
            body, self.buf = self.buf, b""
            self.close()
            return body
        if "\nconnection: close" in lower or head.startswith("HTTP/1.0") and \
                "\nconnection: keep-alive" not in lower:
            self.close()
        return body


def worker(url, method, expect):
    """One client process: warm up and check, say ready, wait for `go
    DEADLINE` (time.monotonic), then call until the deadline."""
    req = request_bytes(method)
    client = RawClient(url)
    body = client.call(req)
    (value,), _ = xmlrpc.client.loads(body)
    if method == "supervisor.getState" and value.get("statename") != "RUNNING":
        raise SystemExit(f"getState answered {value!r}")
    if method == "supervisor.getAllProcessInfo":
        running = sum(1 for v in value if v["statename"] == "RUNNING")
        if len(value) != expect or running != expect:
            raise SystemExit(f"getAllProcessInfo: {len(value)} processes, {running} RUNNING, "
                             f"expected {expect}")
    sys.stdout.write(f"ready {len(body)}\n")
    sys.stdout.flush()
    line = sys.stdin.readline().split()
    deadline = float(line[1])
    lat = []
    errors = 0
    clock = time.perf_counter
    connects = client.connects
    while time.monotonic() < deadline:
        t0 = clock()
        try:
            client.call(req)
        except (ConnectionError, OSError):
            errors += 1
            client.close()
            continue
        lat.append(clock() - t0)
    json.dump({"lat": lat, "errors": errors, "reconnects": client.connects - connects,
               "size": len(body)}, sys.stdout)
    sys.stdout.flush()


# ---------------------------------------------------------------- bench


def measure(session, d, url, method, conc, window, expect):
    """`conc` client processes on `url` calling `method` for `window`
    seconds; returns latencies, throughput and daemon CPU per request."""
    procs = []
    try:
        for _ in range(conc):
            procs.append(session.popen(
                [sys.executable, os.path.abspath(__file__), "--worker", url, method, str(expect)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
        size = None
        for p in procs:
            line = p.stdout.readline()
            if not line.startswith("ready"):
                p.wait(timeout=10)
                raise bl.BenchError(f"{d.kind}: {method} client on {url} failed (status "
                                    f"{p.returncode}); daemon says:\n{d.tail()}")
            size = int(line.split()[1])
        meter = bl.CpuMeter(d.pid)
        c0, t0 = meter.read(), time.monotonic()
        deadline = t0 + window
        for p in procs:
            p.stdin.write(f"go {deadline}\n")
            p.stdin.flush()
        results = [json.loads(p.stdout.read()) for p in procs]
        c1, t1 = meter.read(), time.monotonic()
        for p in procs:
            p.wait(timeout=10)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    lat = [x for r in results for x in r["lat"]]
    n = len(lat)
    if n == 0:
        raise bl.BenchError(f"{d.kind}: no {method} answered on {url} in {window} s")
    errors = sum(r["errors"] for r in results)
    reconnects = sum(r["reconnects"] for r in results)
    d.check_alive()
    return {"p50": bl.pct(lat, 50), "p99": bl.pct(lat, 99), "n": n, "rps": n / (t1 - t0),
            "cpu": (c1 - c0) / n, "cpu_share": (c1 - c0) / (t1 - t0), "errors": errors,
            "reconnects": reconnects, "size": size}


def programs(n):
    return f"""\
[program:p]
command=/bin/sleep 100000
process_name=%(program_name)s_%(process_num)04d
numprocs={n}
startsecs=0
autorestart=true
stopwaitsecs=10
"""


def run(session, res):
    quick = session.quick
    res["windows"] = {"ours": 0.5 if quick else 1.5, "reference": 1.0 if quick else 2.0}
    cells = res["cells"] = {}
    for kind in bl.KINDS:
        window = res["windows"][kind]
        for n in SIZES:
            print(f"[{kind}] {n} programs: starting ...", flush=True)
            d = session.daemon(kind, f"{n}", programs(n), nprocs=n)
            try:
                d.wait_states({"RUNNING"}, n, timeout=60 + n * 0.05)
                for transport in TRANSPORTS:
                    url = d.unix_url if transport == "unix" else d.tcp_url
                    methods = ["supervisor.getAllProcessInfo"]
                    if n == SIZES[0]:
                        methods.insert(0, "supervisor.getState")
                    for method in methods:
                        for conc in CONCURRENCY:
                            r = measure(session, d, url, method, conc, window, n)
                            key = (kind, n, transport, method.split(".")[1], conc)
                            cells[key] = r
                            print(f"    {transport:4} {method.split('.')[1]:18} x{conc}: "
                                  f"p50 {bl.fmt_us(r['p50'])}, p99 {bl.fmt_us(r['p99'])}, "
                                  f"{r['rps']:,.0f} req/s, daemon CPU {bl.fmt_us(r['cpu'])}/req "
                                  f"({r['cpu_share'] * 100:.0f}% of a CPU), {r['size']} B, "
                                  f"{r['reconnects']} reconnects, {r['errors']} errors", flush=True)
                            if r["errors"]:
                                session.note(f"{kind}: {r['errors']} failed {method} calls on "
                                             f"{transport} with {conc} clients, {n} programs")
                            if r["reconnects"]:
                                session.note(f"{kind}: the server closed keep-alive connections "
                                             f"{r['reconnects']} times ({method}, {transport}, "
                                             f"{conc} clients)")
                d.stop()
            finally:
                d.close()
    res["stop_all"], res["storm"] = {}, {}
    for kind in bl.KINDS:
        print(f"[{kind}] stopAllProcesses and a crash storm, {SIZES[0]} programs ...", flush=True)
        run_stop_all(session, res, kind, SIZES[0])
        run_storm(session, res, kind, SIZES[0])


def storm_programs(n):
    # Each program runs briefly and dies with an unexpected status, to be
    # restarted at once: a steady storm of about n / 0.2 crashes a second.
    return f"""\
[program:crash]
command=/bin/sh -c "sleep 0.2; exit 3"
process_name=%(program_name)s_%(process_num)04d
numprocs={n}
startsecs=0
autorestart=true
"""


def timed_calls(url, method, window):
    """Calls `method` over one keep-alive connection for `window` seconds;
    returns the latencies."""
    client = RawClient(url)
    req = request_bytes(method)
    lat = []
    try:
        deadline = time.monotonic() + window
        while time.monotonic() < deadline:
            t0 = time.perf_counter()
            client.call(req)
            lat.append(time.perf_counter() - t0)
    finally:
        client.close()
    return lat


def run_stop_all(session, res, kind, n):
    """stopAllProcesses(wait=True) on n programs that exit on SIGTERM: the
    time until the reply, best and median of a few rounds."""
    rounds = 3 if session.quick else 5
    d = session.daemon(kind, f"stopall-{n}", programs(n), nprocs=n)
    times = []
    try:
        rpc = d.rpc()
        try:
            for _ in range(rounds):
                d.wait_states({"RUNNING"}, n, timeout=60 + n * 0.05, rpc=rpc)
                t0 = time.perf_counter()
                result = rpc.supervisor.stopAllProcesses(True)
                times.append(time.perf_counter() - t0)
                if len(result) != n:
                    raise bl.BenchError(f"{kind}: stopAllProcesses answered {len(result)} results")
                rpc.supervisor.startAllProcesses(True)
        finally:
            rpc("close")()
        d.stop()
    finally:
        d.close()
    res["stop_all"][kind] = {"best": min(times), "median": bl.pct(times, 50), "n": len(times)}
    print(f"    stopAllProcesses({n}): best {bl.fmt_ms(min(times))}, "
          f"median {bl.fmt_ms(bl.pct(times, 50))}", flush=True)


def run_storm(session, res, kind, n):
    """getState and getAllProcessInfo latency while n programs crash and
    are restarted continuously."""
    window = 1.5 if session.quick else 3.0
    d = session.daemon(kind, f"storm-{n}", storm_programs(n), nprocs=n)
    cell = res["storm"][kind] = {}
    try:
        # Warm up: every program has been through a few restarts.
        time.sleep(1.0)
        for method in ("supervisor.getState", "supervisor.getAllProcessInfo"):
            before = sum("exited: " in line for line in d.log_lines())
            t0 = time.monotonic()
            lat = timed_calls(d.unix_url, method, window)
            elapsed = time.monotonic() - t0
            crashes = sum("exited: " in line for line in d.log_lines()) - before
            d.check_alive()
            short = method.split(".")[1]
            cell[short] = {"p50": bl.pct(lat, 50), "p99": bl.pct(lat, 99), "max": max(lat),
                           "n": len(lat), "crashes": crashes / elapsed}
            print(f"    storm {short:18}: p50 {bl.fmt_us(bl.pct(lat, 50))}, "
                  f"p99 {bl.fmt_us(bl.pct(lat, 99))}, max {bl.fmt_us(max(lat))}, "
                  f"{crashes / elapsed:,.0f} crashes/s", flush=True)
        d.stop()
    finally:
        d.close()


# ---------------------------------------------------------------- report


def build_rows(res):
    c = res["cells"]
    rows = []
    small, big = SIZES

    def pair(n, transport, method, conc):
        return c[("ours", n, transport, method, conc)], c[("reference", n, transport, method, conc)]

    for transport in TRANSPORTS:
        o, r = pair(small, transport, "getState", 1)
        rows.append((f"getState latency p50 / p99, {transport}, 1 client",
                     f"{bl.fmt_us(o['p50'])} / {bl.fmt_us(o['p99'])}",
                     f"{bl.fmt_us(r['p50'])} / {bl.fmt_us(r['p99'])}",
                     bl.ratio(r["p50"], o["p50"]), "", ""))
    for transport in TRANSPORTS:
        o, r = pair(small, transport, "getState", 8)
        rows.append((f"getState throughput, {transport}, 8 clients", bl.fmt_num(o["rps"], "/s"),
                     bl.fmt_num(r["rps"], "/s"), bl.ratio(o["rps"], r["rps"]), "", ""))
    for transport in TRANSPORTS:
        o, r = pair(small, transport, "getState", 8)
        rows.append((f"getState daemon CPU per call, {transport}, 8 clients", bl.fmt_us(o["cpu"]),
                     bl.fmt_us(r["cpu"]), bl.ratio(r["cpu"], o["cpu"]), "≤ 30 µs",
                     bl.verdict(o["cpu"] <= 30e-6)))
    for n in SIZES:
        for transport in TRANSPORTS:
            o, r = pair(n, transport, "getAllProcessInfo", 1)
            target, met = "", ""
            if n == small:
                target, met = "p50 ≤ 0.5 ms", bl.verdict(o["p50"] <= 0.5e-3)
            rows.append((f"getAllProcessInfo {n} latency p50 / p99, {transport}, 1 client",
                         f"{bl.fmt_us(o['p50'])} / {bl.fmt_us(o['p99'])}",
                         f"{bl.fmt_us(r['p50'])} / {bl.fmt_us(r['p99'])}",
                         bl.ratio(r["p50"], o["p50"]), target, met))
        for transport in TRANSPORTS:
            for conc in CONCURRENCY:
                o, r = pair(n, transport, "getAllProcessInfo", conc)
                rows.append((f"getAllProcessInfo {n} throughput, {transport}, {conc} client"
                             + ("s" if conc > 1 else ""),
                             bl.fmt_num(o["rps"], "/s"), bl.fmt_num(r["rps"], "/s"),
                             bl.ratio(o["rps"], r["rps"]), "≥ 20x",
                             bl.verdict(o["rps"] >= 20 * r["rps"])))
        for transport in TRANSPORTS:
            o, r = pair(n, transport, "getAllProcessInfo", 8)
            rows.append((f"getAllProcessInfo {n} daemon CPU per call, {transport}, 8 clients",
                         bl.fmt_us(o["cpu"]), bl.fmt_us(r["cpu"]), bl.ratio(r["cpu"], o["cpu"]),
                         "≥ 20x", bl.verdict(r["cpu"] >= 20 * o["cpu"])))
        o, r = pair(n, "unix", "getAllProcessInfo", 1)
        rows.append((f"getAllProcessInfo {n} response size", f"{o['size']:,} B",
                     f"{r['size']:,} B", "", "", ""))
    # Linearity: the daemon CPU per call and per process with 1000 programs
    # against that with 100, after taking off the floor (getState); linear
    # growth keeps it flat (2x allowed for noise and caches, as daemon_bench).
    for transport in TRANSPORTS:
        lin = {}
        for kind in bl.KINDS:
            floor = c[(kind, small, transport, "getState", 8)]["cpu"]
            a = c[(kind, small, transport, "getAllProcessInfo", 8)]["cpu"] - floor
            b = c[(kind, big, transport, "getAllProcessInfo", 8)]["cpu"] - floor
            lin[kind] = (a / small, b / big)
        (oa, ob), (ra, rb) = lin["ours"], lin["reference"]
        rows.append((f"getAllProcessInfo daemon CPU per process, {small} / {big}, {transport}",
                     f"{bl.fmt_us(oa)} / {bl.fmt_us(ob)}", f"{bl.fmt_us(ra)} / {bl.fmt_us(rb)}",
                     bl.ratio(rb, ob), "linear (per-process cost grows ≤ 2x)",
                     bl.verdict(ob <= 2 * oa)))
    if res.get("stop_all"):
        o, r = res["stop_all"]["ours"], res["stop_all"]["reference"]
        rows.append((f"stopAllProcesses(wait) of {small} RUNNING, until the reply: best / median",
                     f"{bl.fmt_ms(o['best'])} / {bl.fmt_ms(o['median'])}",
                     f"{bl.fmt_ms(r['best'])} / {bl.fmt_ms(r['median'])}",
                     bl.ratio(r["median"], o["median"]), "≤ 20 ms",
                     bl.verdict(o["median"] <= 20e-3)))
    if res.get("storm"):
        o, r = res["storm"]["ours"], res["storm"]["reference"]
        rows.append((f"crash storm of {small} programs: crashes/s handled",
                     bl.fmt_num(o["getState"]["crashes"], "/s"),
                     bl.fmt_num(r["getState"]["crashes"], "/s"),
                     bl.ratio(o["getState"]["crashes"], r["getState"]["crashes"]), "", ""))
        for method, limit in (("getState", 10e-3), ("getAllProcessInfo", 50e-3)):
            om, rm = o[method], r[method]
            rows.append((f"crash storm: {method} latency p50 / p99 / max, unix",
                         f"{bl.fmt_us(om['p50'])} / {bl.fmt_us(om['p99'])} / "
                         f"{bl.fmt_us(om['max'])}",
                         f"{bl.fmt_us(rm['p50'])} / {bl.fmt_us(rm['p99'])} / "
                         f"{bl.fmt_us(rm['max'])}",
                         bl.ratio(rm["p99"], om["p99"]), f"p99 ≤ {bl.fmt_ms(limit)}",
                         bl.verdict(om["p99"] <= limit)))
    return rows


def intro(res):
    w = res["windows"]
    return (
        bl.machine_sentence(res, "rpc_bench.py") + " "
        "Each daemon runs N programs (`/bin/sleep`, all RUNNING) with a unix socket and a TCP port "
        "on 127.0.0.1. Clients are separate Python processes, each holding one keep-alive "
        "HTTP/1.1 connection (as SupervisorTransport does), sending the request bytes "
        "xmlrpc.client would send and reading the response by its length without decoding it "
        "(each client decodes and checks its first response); TCP clients set TCP_NODELAY, as "
        "http.client does. "
        f"Window per cell: ours {w['ours']:g} s, reference {w['reference']:g} s. Throughput with "
        "1 client is bounded by round trips (and by the client's own CPU), with 8 clients by the "
        "single-threaded daemon or by the machine's CPUs; \"daemon CPU per call\" is the daemon's "
        "schedstat CPU time over the window divided by the calls answered, the figure least "
        "disturbed by other load. The linearity row takes the getState cost off first. "
        "stopAllProcesses: XML-RPC over the unix socket with `wait=True` on N `/bin/sleep` that "
        "exit on SIGTERM, timed until the reply, then all started again for the next round. "
        "Crash storm: N programs `sh -c \"sleep 0.2; exit 3\"` with `startsecs=0` and "
        "`autorestart=true`, each restarted as soon as it dies, one client calling over one "
        "keep-alive connection for the window; crashes/s counts the `exited:` lines of the "
        "main log meanwhile. The ratio "
        "column is the advantage of ours: ours/reference for throughput, reference/ours for "
        "latency and CPU."
    )


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return 0
    ap = bl.arg_parser(__doc__)
    args = ap.parse_args()
    return bl.run_main(args, SECTION, run, build_rows, intro)


if __name__ == "__main__":
    sys.exit(main())
