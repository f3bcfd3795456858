#!/usr/bin/env python3
"""depot benchmark harness: `make bench` (full sizes) and `make bench-quick` (--quick, < 2 min).

Starts build/depotd (release build) on fresh data folders and, on another loopback port, an
nginx with the harness's own config (scripts/bench/nginx.conf.in), runs every workload against
depotd and its reference alternately (A B A B, medians over the rounds), and writes
BENCHMARKS.md. Everything runs on 127.0.0.1, every command has a timeout, every process it
starts is stopped at the end (also on Ctrl-C and errors) and its temp dir is removed.

  scripts/bench.py [--quick] [--rounds N] [--only get,create,list,upload,b64]
                   [--tmpdir DIR] [--out FILE] [--keep-tmp]

Benchmarks are never part of `make test`.
"""

import sys

sys.dont_write_bytecode = True  # no __pycache__ in scripts/bench

import argparse
import datetime
import http.client
import json
import os
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "scripts", "bench")
sys.path.insert(0, BENCH)
import gen  # noqa: E402  (scripts/bench/gen.py)

DEPOTD = os.environ.get("BENCH_DEPOTD") or os.path.join(ROOT, "build", "depotd")
DEPOT = os.path.join(ROOT, "build", "depot")
SECRET = "depot-bench-fixed-secret-0123456789"  # a fixed HS256 key, bench only
MiB = 1 << 20
MB = 1e6

FULL = dict(
    list_sizes=[10_000, 100_000, 1_000_000], import_chunk=250_000,
    upload=1 << 30, b64=50 * MiB, b64_count=10,
    d_get=10, d_create=10, d_list=10, d_growth=5,
    deep_pairs=100, deep_walk_budget=300, deep_round_budget=45, dd_count=1000,
    min_free=8 << 30)
QUICK = dict(
    list_sizes=[1_000, 3_000, 10_000], import_chunk=250_000,
    upload=64 * MiB, b64=5 * MiB, b64_count=10,
    d_get=3, d_create=3, d_list=2, d_growth=2,
    deep_pairs=30, deep_walk_budget=60, deep_round_budget=10, dd_count=300,
    min_free=1 << 30)

LIST_QUERY = "directory_prefix=/d/3&tags=common"   # 10 % of the resources
DEEP_QUERY = "directory_prefix=/d/&tags=common"    # all of them: page 5,000 of 10,000 at 1M


class BenchError(Exception):
    pass


class NoCompletion(BenchError):
    """wrk finished without a single completed request: the server is slower than the run."""


def log(msg):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=20):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise BenchError("process exited with %s before listening on %d" % (proc.returncode, port))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise BenchError("nothing listens on 127.0.0.1:%d after %ds" % (port, timeout))


def proc_status(pid):
    """VmRSS and VmHWM of pid, in bytes."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                k, v = line.split(":", 1)
                out[k] = int(v.split()[0]) * 1024
    return out


def children_of(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def fmt_bytes(n):
    return "%.1f MiB" % (n / MiB)


# --------------------------------------------------------------------------- processes

class Child:
    """A server started by the harness: stopped by pid (and its own workers) at the end."""
    registry = []

    def __init__(self, name, argv, env, logpath, stop_signal=signal.SIGTERM):
        self.name = name
        self.logpath = logpath
        self.stop_signal = stop_signal
        self.logf = open(logpath, "ab")
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=self.logf,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.pid = self.proc.pid
        self.workers = []
        Child.registry.append(self)

    def stop(self):
        if self.proc.poll() is None:
            self.workers = children_of(self.pid)
            try:
                self.proc.send_signal(self.stop_signal)
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                log("%s (pid %d) did not stop in 15 s: SIGKILL" % (self.name, self.pid))
                self.proc.kill()
                self.proc.wait(timeout=10)
        for w in self.workers:  # nginx workers, should the master have died abruptly
            if alive(w):
                try:
                    os.kill(w, signal.SIGKILL)
                except OSError:
                    pass
        self.logf.close()
        if self in Child.registry:
            Child.registry.remove(self)

    def tail(self, n=15):
        try:
            with open(self.logpath, "rb") as f:
                f.seek(0, 2)
                f.seek(max(0, f.tell() - 4096))
                return "\n".join(f.read().decode("utf-8", "replace").splitlines()[-n:])
        except OSError:
            return ""

    @classmethod
    def stop_all(cls):
        for c in list(cls.registry):
            try:
                c.stop()
            except Exception as e:  # keep stopping the others
                log("stopping %s: %s" % (c.name, e))


class RssSampler(threading.Thread):
    def __init__(self, pid, every=0.2):
        super().__init__(daemon=True)
        self.pid, self.every, self.max_rss = pid, every, 0
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            try:
                self.max_rss = max(self.max_rss, proc_status(self.pid).get("VmRSS", 0))
            except OSError:
                return
            self.halt.wait(self.every)

    def stop(self):
        self.halt.set()
        self.join(5)
        return self.max_rss


# --------------------------------------------------------------------------- the harness

class Bench:
    def __init__(self, args):
        self.args = args
        self.notes = []       # anything odd seen on the way
        self.cfg = dict(QUICK if args.quick else FULL)
        for kv in args.set:
            k, _, v = kv.partition("=")
            if k not in self.cfg:
                raise SystemExit("--set: unknown key %s (one of %s)" % (k, ", ".join(sorted(self.cfg))))
            self.cfg[k] = [int(x) for x in v.split(",")] if k == "list_sizes" else int(v)
            self.notes.append("setting overridden for this run: %s=%s" % (k, v))
        self.rounds = args.rounds
        self.threads = max(1, os.cpu_count() or 1)
        self.rows = []        # the results table
        self.imports = []     # bulk import timings
        self.raw = []         # per-round figures
        self.commands = {}    # label -> command (first use), for BENCHMARKS.md
        self.errors = 0
        self.tmp = None
        self.ports = {}
        self.token = None
        self.nginx_bin = shutil.which("nginx") or "/usr/sbin/nginx"
        self.machine = {}

    # ---- recording
    def placeholders(self, s):
        if self.token:
            s = s.replace(self.token, "$TOKEN")
        if self.tmp:
            s = s.replace(self.tmp, "$TMP")
        s = s.replace(ROOT + "/", "")
        for port, name in self.ports.items():
            s = s.replace("127.0.0.1:%d" % port, "127.0.0.1:$" + name)
        return s

    def show(self, argv):
        """A command as it can be pasted: $TOKEN, $TMP, $DEPOT, $NGINX in place of the values."""
        if isinstance(argv, str):
            return self.placeholders(argv)
        out = []
        for a in argv:
            b = self.placeholders(a)
            if b == a or re.fullmatch(r"[\w@%+=:,./$-]+", b):
                out.append(shlex.quote(b) if b == a else b)
            else:  # double quotes so that the placeholders expand
                out.append('"' + re.sub(r'([\\"`])', r"\\\1", b) + '"')
        return " ".join(out)

    def cmd(self, label, argv):
        if label not in self.commands:
            self.commands[label] = self.show(argv)

    def row(self, workload, depot, ref, ratio, target, result, note=""):
        self.rows.append(dict(workload=workload, depot=depot, ref=ref, ratio=ratio, target=target,
                              result=result, note=note))

    def error_row(self, workload, err):
        self.errors += 1
        self.row(workload, "—", "—", "—", "—", "ERROR", str(err).replace("|", "/")[:300])

    # ---- commands
    def run(self, argv, timeout, check=True, **kw):
        try:
            p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               timeout=timeout, **kw)
        except subprocess.TimeoutExpired:
            raise BenchError("timed out after %ds: %s" % (timeout, self.show(argv)))
        if check and p.returncode != 0:
            raise BenchError("exit %d: %s\n%s" % (p.returncode, self.show(argv),
                                                  (p.stderr or p.stdout)[-2000:]))
        return p

    def wrk(self, label, url, conns, dur, headers=(), script=None, script_args=(), timeout=10):
        argv = ["wrk", "-t", str(min(self.threads, conns)), "-c", str(conns), "-d", "%ds" % dur,
                "--timeout", "%ds" % timeout, "--latency"]
        for h in headers:
            argv += ["-H", h]
        if script:
            argv += ["-s", script]
        argv.append(url)
        if script_args:
            argv += ["--"] + list(script_args)
        self.cmd(label, argv)
        out = self.run(argv, timeout=dur + timeout + 60).stdout
        return self.parse_wrk(out)

    @staticmethod
    def parse_wrk(out):
        def ms(v, unit):
            return float(v) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]
        m = re.search(r"Requests/sec:\s+([\d.]+)", out)
        if not m:
            raise BenchError("cannot parse wrk output:\n" + out[-1500:])
        r = dict(rps=float(m.group(1)), lat={})
        for m in re.finditer(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M):
            r["lat"][int(m.group(1))] = ms(m.group(2), m.group(3))
        m = re.search(r"(\d+) requests in", out)
        r["requests"] = int(m.group(1)) if m else 0
        m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        r["non2xx"] = int(m.group(1)) if m else 0
        m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
        r["sockerr"] = sum(int(x) for x in m.groups()) if m else 0
        r["p50"], r["p99"] = r["lat"].get(50), r["lat"].get(99)
        return r

    def check_wrk(self, what, r):
        if not r["requests"] or r["p50"] is None or r["p99"] is None:
            raise NoCompletion("%s: no request completed within the run (%d socket errors/timeouts)"
                               % (what, r["sockerr"]))
        if r["non2xx"]:
            raise BenchError("%s: %d of %d responses were not 2xx" % (what, r["non2xx"], r["requests"]))
        if r["sockerr"]:
            self.notes.append("%s: wrk reported %d socket errors (of %d requests)"
                              % (what, r["sockerr"], r["requests"]))

    def curl(self, label, argv, timeout):
        """curl with -w; returns (http_code, time_total, size_upload, size_download)."""
        argv = ["curl", "-sS", "--max-time", str(timeout), "-w",
                "%{http_code} %{time_total} %{size_upload} %{size_download}"] + argv
        self.cmd(label, argv)
        out = self.run(argv, timeout=timeout + 30).stdout.strip().split()
        code, t, up, down = int(out[0]), float(out[1]), float(out[2]), float(out[3])
        return code, t, up, down

    # ---- servers
    def start_depotd(self, name, data):
        os.makedirs(data, exist_ok=True)
        port = free_port()
        self.ports[port] = "DEPOT"
        env = {k: v for k, v in os.environ.items() if not k.startswith("DEPOT_")}
        settings = dict(DEPOT_JWT_SECRET=SECRET, DEPOT_LISTEN="127.0.0.1:%d" % port,
                        DEPOT_DATA=data, DEPOT_MAX_UPLOAD_BYTES=str(max(2 << 30, 2 * self.cfg["upload"])))
        settings.update(self.args.env_overrides)
        env.update(settings)
        self.cmd("depotd (%s)" % name, "env " + " ".join("%s=%s" % kv for kv in sorted(settings.items()))
                 + " build/depotd")
        d = Child(name, [DEPOTD], env, os.path.join(self.tmp, name + ".log"))
        d.port = port
        d.base = "http://127.0.0.1:%d" % port
        try:
            wait_port(port, d.proc)
            end = time.monotonic() + 20
            while True:
                st, _ = self.api(d, "GET", "/v1/resources?page_size=1")
                if st == 200:
                    break
                if time.monotonic() > end:
                    raise BenchError("depotd answers %d to a list" % st)
                time.sleep(0.1)
        except Exception:
            log("depotd log:\n" + d.tail())
            d.stop()
            raise
        return d

    def start_nginx(self, json_body="{}", files="/nonexistent"):
        port = free_port()
        self.ports[port] = "NGINX"
        body = json_body.replace("\\", "/").replace("'", '"').replace("$", "S")
        with open(os.path.join(BENCH, "nginx.conf.in")) as f:
            conf = f.read()
        conf = (conf.replace("@USER@", "user root;" if os.geteuid() == 0 else "")
                .replace("@TMP@", self.tmp).replace("@PORT@", str(port))
                .replace("@FILES@", files).replace("@JSON@", body))
        path = os.path.join(self.tmp, "nginx.conf")
        with open(path, "w") as f:
            f.write(conf)
        argv = [self.nginx_bin, "-p", self.tmp + "/", "-e", os.path.join(self.tmp, "nginx-error.log"),
                "-c", path]
        self.cmd("nginx", argv)
        n = Child("nginx", argv, dict(os.environ), os.path.join(self.tmp, "nginx.out"),
                  stop_signal=signal.SIGQUIT)
        n.port = port
        n.base = "http://127.0.0.1:%d" % port
        try:
            wait_port(port, n.proc)
        except Exception:
            log("nginx error log:\n" + open(os.path.join(self.tmp, "nginx-error.log"), errors="replace").read()[-2000:])
            n.stop()
            raise
        return n

    def api(self, server, method, path, body=None, headers=None, timeout=120):
        h = {"Authorization": "Bearer " + self.token}
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def create_small(self, d, name, directory, extra=None):
        body = dict(name=name, directory_path=directory, content=gen.SMALL_CONTENT)
        body.update(extra or {})
        st, out = self.api(d, "POST", "/v1/resources", body)
        if st != 200:
            raise BenchError("create %s: %d %s" % (name, st, out[:300]))
        return json.loads(out)

    def settle(self, d, limit=120):
        """Wait until depotd stops burning CPU: wrk abandons the requests still in flight when a
        run ends, and a slow server would otherwise carry them into the next run."""
        def cpu():
            with open("/proc/%d/stat" % d.pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])  # utime + stime, clock ticks
        end = time.monotonic() + limit
        t0 = time.monotonic()
        prev = cpu()
        while time.monotonic() < end:
            time.sleep(0.3)
            now = cpu()
            if now - prev <= 2:
                waited = time.monotonic() - t0
                if waited > 2:
                    log("depotd busy for %.1fs after the previous run" % waited)
                return
            prev = now
        self.notes.append("depotd still busy %ds after a run" % limit)

    def rss(self, d):
        s = proc_status(d.pid)
        return s.get("VmRSS", 0), s.get("VmHWM", 0)

    # ---- setup
    def ensure_tools(self):
        def installed(pkg):
            p = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True,
                               text=True, timeout=30)
            return "install ok installed" in p.stdout
        missing = []
        for pkg, binary in (("wrk", "wrk"), ("curl", "curl")):
            if not installed(pkg) or not shutil.which(binary):
                missing.append(pkg)
        if not any(installed(p) for p in ("nginx-light", "nginx", "nginx-core", "nginx-full",
                                          "nginx-extras")) or not os.path.exists(self.nginx_bin):
            missing.append("nginx-light")
        if missing:
            log("installing " + " ".join(missing))
            sudo = [] if os.geteuid() == 0 else ["sudo"]
            env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
            self.run(sudo + ["apt-get", "update", "-qq"], timeout=600, env=env)
            self.run(sudo + ["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + missing,
                     timeout=1200, env=env)
            self.nginx_bin = shutil.which("nginx") or "/usr/sbin/nginx"
        for b in (DEPOTD, DEPOT):
            if not os.access(b, os.X_OK):
                raise BenchError("%s is missing: run `make` first (make bench builds it)" % b)

    def describe_machine(self):
        m = self.machine
        model = ""
        try:
            out = self.run(["lscpu"], timeout=10, check=False).stdout
            mm = re.search(r"^Model name:\s*(.+)$", out, re.M)
            model = mm.group(1).strip() if mm else ""
        except Exception:
            pass
        if not model:
            with open("/proc/cpuinfo") as f:
                mm = re.search(r"^model name\s*:\s*(.+)$", f.read(), re.M)
                model = mm.group(1).strip() if mm else "?"
        m["cpu"] = model
        m["cores"] = "%d online, %d usable by this process" % (os.cpu_count() or 0,
                                                             len(os.sched_getaffinity(0)))
        u = os.uname()
        m["kernel"] = "%s %s %s" % (u.sysname, u.release, u.machine)
        with open("/proc/meminfo") as f:
            mm = re.search(r"MemTotal:\s+(\d+) kB", f.read())
            m["memory"] = "%.1f GiB" % (int(mm.group(1)) / (1 << 20)) if mm else "?"
        df = self.run(["df", "-hT", self.tmp], timeout=10, check=False).stdout.strip().splitlines()
        if len(df) > 1:
            f = df[-1].split()
            m["disk"] = "%s (%s, %s, %s free) mounted on %s" % (os.path.dirname(self.tmp), f[0], f[1], f[4], f[6])
        m["load"] = "%.2f %.2f %.2f" % os.getloadavg()
        try:
            with open("/etc/debian_version") as f:
                m["os"] = "Debian " + f.read().strip()
        except OSError:
            m["os"] = "?"
        vers = []
        for argv in (["wrk", "-v"], [self.nginx_bin, "-v"], ["curl", "--version"]):
            p = self.run(argv, timeout=10, check=False)
            line = (p.stdout + p.stderr).strip().splitlines()
            vers.append(line[0].strip() if line else argv[0])
        m["tools"] = "; ".join(re.sub(r"\s+(Copyright|\(x86|\().*", "", v) for v in vers)
        try:
            rev = self.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], timeout=10).stdout.strip()
            dirty = self.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                             timeout=30).stdout.strip()
            m["rev"] = rev + (" with uncommitted changes" if dirty else "")
        except Exception:
            m["rev"] = "?"

    def fsync_rate(self):
        n = self.cfg["dd_count"]
        path = os.path.join(self.tmp, "dd.test")
        argv = ["dd", "if=/dev/zero", "of=" + path, "bs=4k", "count=%d" % n, "oflag=dsync"]
        self.cmd("fsync rate", argv)
        t0 = time.monotonic()
        self.run(argv, timeout=300)
        dt = time.monotonic() - t0
        os.unlink(path)
        return n / dt

    # ------------------------------------------------------------------ workloads

    def phase_get_create(self):
        tmp = self.tmp
        d = self.start_depotd("depotd-get", os.path.join(tmp, "data-get"))
        n = None
        try:
            res = self.create_small(d, "get-target.txt", "/bench/get",
                                    dict(tags=["bench", "get"], metadata={"owner": "bench", "note": "GET by id"}))
            path = "/v1/resources/" + res["id"]
            st, body = self.api(d, "GET", path)
            if st != 200:
                raise BenchError("GET %s: %d" % (path, st))
            n = self.start_nginx(json_body=body.decode())
            c = http.client.HTTPConnection("127.0.0.1", n.port, timeout=10)
            c.request("GET", "/json")
            nb = c.getresponse().read()
            c.close()
            if len(nb) != len(body):
                raise BenchError("nginx body %d bytes, depotd's %d" % (len(nb), len(body)))
            auth = "Authorization: Bearer " + self.token
            res_get = {32: ([], []), 256: ([], [])}
            sampler = RssSampler(d.pid)
            sampler.start()
            log("GET by id (%d-byte JSON), c=32 and c=256, %d rounds of %ds, depotd then nginx"
                % (len(body), self.rounds, self.cfg["d_get"]))
            for r in range(self.rounds):
                for conns in (32, 256):
                    a = self.wrk("GET by id (depotd)", d.base + path, conns, self.cfg["d_get"], [auth])
                    self.check_wrk("GET c=%d depotd" % conns, a)
                    b = self.wrk("GET by id (nginx)", n.base + "/json", conns, self.cfg["d_get"], [auth])
                    self.check_wrk("GET c=%d nginx" % conns, b)
                    res_get[conns][0].append(a)
                    res_get[conns][1].append(b)
                    self.raw.append("GET c=%d round %d: depotd %.0f req/s p99 %.2f ms | nginx %.0f req/s p99 %.2f ms"
                                    % (conns, r + 1, a["rps"], a["p99"], b["rps"], b["p99"]))
                    log(self.raw[-1])
            loaded_max = sampler.stop()
            rss, hwm = self.rss(d)
            for conns in (32, 256):
                A, B = res_get[conns]
                ar, br = median(x["rps"] for x in A), median(x["rps"] for x in B)
                ap, bp = median(x["p99"] for x in A), median(x["p99"] for x in B)
                self.row("`GET /v1/resources/{id}` c=%d: req/s" % conns, "%.0f" % ar,
                         "%.0f (nginx `return 200`)" % br, "%.2f" % (ar / br), "≥ 0.5",
                         "PASS" if ar >= 0.5 * br else "MISS")
                self.row("`GET /v1/resources/{id}` c=%d: p99" % conns, "%.2f ms" % ap, "%.2f ms" % bp,
                         "%.2f" % (ap / bp), "≤ 2", "PASS" if ap <= 2 * bp else "MISS")
            self.row("depotd RSS under the GET load (peak, VmHWM)", fmt_bytes(hwm), "—", "—",
                     "≤ 64 MiB", "PASS" if hwm <= 64 * MiB else "MISS",
                     "VmRSS sampled max %s, after %s" % (fmt_bytes(loaded_max), fmt_bytes(rss)))
            n.stop()
            n = None

            # creates: every one durable (fsynced blob + fsynced dir + synchronous=FULL commit)
            try:
                rate = self.fsync_rate()
                log("disk fsync rate (dd oflag=dsync, 4 KiB): %.0f/s" % rate)
                self.machine["fsync"] = "%.0f synchronous 4 KiB writes/s (`dd oflag=dsync`)" % rate
                script = os.path.join(BENCH, "create.lua")
                got = []
                log("create 1 KiB via JSON data URL, c=32, %d rounds of %ds" % (self.rounds, self.cfg["d_create"]))
                for r in range(self.rounds):
                    prefix = "r%d" % r
                    a = self.wrk("create 1 KiB (depotd)", d.base, 32, self.cfg["d_create"],
                                 script=script, script_args=[self.token, prefix])
                    self.check_wrk("create", a)
                    st, out = self.api(d, "GET", "/v1/resources?page_size=1&directory_prefix=/c/" + prefix)
                    total = json.loads(out)["total"] if st == 200 else -1
                    if total < a["requests"]:
                        self.notes.append("create round %d: wrk counted %d responses but %d resources are listed"
                                          % (r + 1, a["requests"], total))
                    got.append(a)
                    self.raw.append("create round %d: %.0f creates/s, p50 %.2f ms, p99 %.2f ms (%d stored)"
                                    % (r + 1, a["rps"], a["p50"], a["p99"], total))
                    log(self.raw[-1])
                cr = median(x["rps"] for x in got)
                self.row("create 1 KiB via JSON data URL, c=32: creates/s", "%.0f" % cr,
                         "disk: %.0f fsyncs/s (dd oflag=dsync)" % rate, "—", "≥ 3,000/s",
                         "PASS" if cr >= 3000 else "MISS",
                         "p99 %.1f ms" % median(x["p99"] for x in got))
            except Exception as e:
                log("create: %s" % e)
                self.error_row("create 1 KiB via JSON data URL, c=32", e)
        finally:
            if n:
                n.stop()
            d.stop()
            shutil.rmtree(os.path.join(tmp, "data-get"), ignore_errors=True)

    def import_rows(self, d, start, end):
        """Bulk-import resources start..end-1 in requests of at most import_chunk lines."""
        total_t, total_bytes = 0.0, 0
        pos = start
        while pos < end:
            stop = min(end, pos + self.cfg["import_chunk"])
            path = os.path.join(self.tmp, "import.ndjson")
            total_bytes += gen.write_ndjson(path, pos, stop)
            try:
                resp = os.path.join(self.tmp, "import.out")
                code, t, _, _ = self.curl("bulk import", [
                    "-X", "POST", "-H", "Authorization: Bearer " + self.token,
                    "-H", "Content-Type: application/x-ndjson", "-T", path, "-o", resp,
                    d.base + "/v1/resources/import"], timeout=3600)
                body = open(resp, "rb").read()
                if code != 200:
                    raise BenchError("import answered %d: %s" % (code, body[:300]))
                out = json.loads(body)
                if out.get("created") != stop - pos or out.get("failed"):
                    raise BenchError("import of %d lines: %s" % (stop - pos, body[:500]))
            finally:
                if os.path.exists(path):
                    os.unlink(path)
            total_t += t
            pos = stop
        return total_t, total_bytes

    def phase_list(self):
        tmp = self.tmp
        d = self.start_depotd("depotd-list", os.path.join(tmp, "data-list"))
        auth = "Authorization: Bearer " + self.token
        sizes = self.cfg["list_sizes"]
        growth = []
        try:
            have = 0
            for size in sizes:
                log("bulk import: %d -> %d resources" % (have, size))
                t, nbytes = self.import_rows(d, have, size)
                rows = size - have
                self.imports.append((have, size, rows, nbytes, t))
                log("imported %d rows (%.1f MB NDJSON) in %.2fs: %.0f rows/s" % (rows, nbytes / MB, t, rows / t))
                have = size
                st, out = self.api(d, "GET", "/v1/resources?page_size=1&" + LIST_QUERY)
                total = json.loads(out)["total"]
                if total != size // 10:
                    self.notes.append("list filter at %d resources matched %d, expected %d" % (size, total, size // 10))
                url = d.base + "/v1/resources?" + LIST_QUERY + "&page_size=20"
                got = []
                try:
                    failed = []
                    for r in range(self.rounds):
                        self.settle(d)
                        a = self.wrk("list page_size=20 (uncached)", url, 32, self.cfg["d_growth"], [auth],
                                     script=os.path.join(BENCH, "list_uncached.lua"), timeout=30)
                        try:
                            self.check_wrk("list page_size=20 at %d" % size, a)
                        except NoCompletion as e:
                            failed.append(r + 1)
                            self.raw.append("list page_size=20 at %d resources round %d: %s" % (size, r + 1, e))
                            log(self.raw[-1])
                            continue
                        got.append(a)
                        self.raw.append("list page_size=20 at %d resources round %d: %.0f req/s, p50 %.2f ms, p99 %.2f ms"
                                        % (size, r + 1, a["rps"], a["p50"], a["p99"]))
                        log(self.raw[-1])
                    if not got:
                        growth.append((size, None, None, "no request completed in any %d s round" % self.cfg["d_growth"]))
                    else:
                        if failed:
                            self.notes.append("list page_size=20 at %d: no request completed in round(s) %s; "
                                              "median of the others" % (size, failed))
                        growth.append((size, median(x["p50"] for x in got), median(x["p99"] for x in got),
                                       median(x["rps"] for x in got)))
                except BenchError as e:
                    log(str(e))
                    self.error_row("list page_size=20 (c=32) at %s resources" % "{:,}".format(size), e)
            base = growth[0] if growth and growth[0][1] else None
            for size, p50, p99, rps in growth:
                last = size == sizes[-1]
                if p50 is None or base is None:
                    self.row("list page_size=20 (c=32, uncached) at %s resources: p50 latency" % "{:,}".format(size),
                             "> %d s" % self.cfg["d_growth"] if p50 is None else "%.2f ms" % p50, "—", "—",
                             "≤ 1.5" if last else "—", "MISS" if last else "info",
                             rps if p50 is None else "no reference")
                    continue
                ratio = p50 / base[1]
                self.row("list page_size=20 (c=32, uncached) at %s resources: p50 latency" % "{:,}".format(size),
                         "%.2f ms" % p50, "%.2f ms (itself at %s)" % (base[1], "{:,}".format(base[0])),
                         "%.2f" % ratio, "≤ 1.5" if last else "—",
                         ("PASS" if ratio <= 1.5 else "MISS") if last else "info",
                         "p99 %.2f ms, %.0f req/s" % (p99, rps))
            for (lo, hi, rows, nbytes, t) in self.imports:
                self.row("bulk import %s → %s (NDJSON, one request per %s lines): rows/s"
                         % ("{:,}".format(lo), "{:,}".format(hi), "{:,}".format(self.cfg["import_chunk"])),
                         "%.0f" % (rows / t), "—", "—", "—", "info", "%.1f MB in %.1f s" % (nbytes / MB, t))

            # the list workload at the largest size
            size = sizes[-1]
            url = d.base + "/v1/resources?" + LIST_QUERY + "&page_size=100"
            log("list page_size=100 at %d resources, c=32, %d rounds of %ds" % (size, self.rounds, self.cfg["d_list"]))
            try:
                self.list_rounds(d, url, size, auth)
            except NoCompletion as e:
                log(str(e))
                self.row("list `%s&page_size=100` at %s, c=32: req/s" % (LIST_QUERY, "{:,}".format(size)),
                         "< %.2f" % (1 / self.cfg["d_list"]), "—", "—", "≥ 5,000", "MISS", str(e))
            except BenchError as e:
                log(str(e))
                self.error_row("list `%s&page_size=100` at %s, c=32" % (LIST_QUERY, "{:,}".format(size)), e)
            try:
                self.deep_pages(d, size)
            except BenchError as e:
                log(str(e))
                self.error_row("list deep page by cursor vs page 1", e)
        finally:
            d.stop()
            shutil.rmtree(os.path.join(tmp, "data-list"), ignore_errors=True)

    def list_rounds(self, d, url, size, auth):
        """The same query repeated (served from depotd's answer cache after the first), and
        alternately a distinct created_before per request (never cached): both figures."""
        kinds = (("repeated", None, "the same query: depotd's cached answer"),
                 ("uncached", os.path.join(BENCH, "list_uncached.lua"),
                  "an ignored `bust` parameter distinct per request: no cached answer"))
        got = {k: [] for k, _, _ in kinds}
        for r in range(self.rounds):
            for kind, script, _ in kinds:
                self.settle(d)
                label = "list page_size=100 (%s)" % kind
                a = self.wrk(label, url, 32, self.cfg["d_list"], [auth], script=script, timeout=30)
                self.check_wrk(label, a)
                got[kind].append(a)
                self.raw.append("list page_size=100 %s at %d round %d: %.0f req/s, p50 %.2f ms, p99 %.2f ms"
                                % (kind, size, r + 1, a["rps"], a["p50"], a["p99"]))
                log(self.raw[-1])
        for kind, _, what in kinds:
            lr = median(x["rps"] for x in got[kind])
            self.row("list `%s&page_size=100` at %s, c=32, %s: req/s"
                     % (LIST_QUERY, "{:,}".format(size), kind),
                     "%.0f" % lr, "—", "—", "≥ 5,000", "PASS" if lr >= 5000 else "MISS",
                     "%s; p50 %.2f ms, p99 %.2f ms" % (what, median(x["p50"] for x in got[kind]),
                                                       median(x["p99"] for x in got[kind])))

    def deep_pages(self, d, size):
        """Page 1 against page size/200 (5,000 at 1M) reached by cursor, alternately."""
        want = max(2, size // 200)
        q = "/v1/resources?" + DEEP_QUERY + "&page_size=100"
        c = http.client.HTTPConnection("127.0.0.1", d.port, timeout=120)
        h = {"Authorization": "Bearer " + self.token}

        def get(path):
            for attempt in range(5):
                t0 = time.perf_counter()
                c.request("GET", path, headers=h)
                r = c.getresponse()
                body = r.read()
                dt = time.perf_counter() - t0
                if r.status == 503 and attempt < 4:
                    self.notes.append("a sequential list request was answered 503 (%s); retried"
                                      % body[:80].decode(errors="replace"))
                    time.sleep(1)
                    continue
                if r.status != 200:
                    raise BenchError("GET %s: %d %s" % (path, r.status, body[:200]))
                return dt, body

        self.settle(d)
        try:
            log("walking to page %d by cursor (%s)" % (want, DEEP_QUERY))
            self.cmd("deep page", "GET $DEPOT" + q + "&cursor=<next_cursor>  (Python http.client, keep-alive)")
            t0 = time.monotonic()
            _, body = get(q)
            page, cursor, deep_path = 1, json.loads(body)["next_cursor"], None
            while page < want and cursor:
                if time.monotonic() - t0 > self.cfg["deep_walk_budget"]:
                    self.notes.append("cursor walk stopped at page %d after %ds (budget)" % (page, self.cfg["deep_walk_budget"]))
                    break
                deep_path = q + "&cursor=" + urllib.parse.quote(cursor, safe="")
                _, body = get(deep_path)
                page += 1
                cursor = json.loads(body)["next_cursor"]
            walk = time.monotonic() - t0
            log("reached page %d in %.1fs (%.1f ms/page)" % (page, walk, 1000 * walk / page))
            if deep_path is None:
                raise BenchError("no second page")
            firsts, deeps = [], []
            n = 0
            for r in range(self.rounds):
                a, b = [], []
                end = time.monotonic() + self.cfg["deep_round_budget"]
                for _ in range(self.cfg["deep_pairs"]):
                    n += 1  # an ignored parameter, distinct each time: no cached answer
                    bound = "&bust=%d" % n
                    a.append(get(q + bound)[0])
                    b.append(get(deep_path + bound)[0])
                    if time.monotonic() > end:
                        break
                firsts.append(statistics.median(a))
                deeps.append(statistics.median(b))
                self.raw.append("page 1 vs page %d (page_size=100, %s) round %d: %.2f ms vs %.2f ms (median of %d each)"
                                % (page, DEEP_QUERY, r + 1, 1000 * firsts[-1], 1000 * deeps[-1], len(a)))
                log(self.raw[-1])
            f, dp = median(firsts) * 1000, median(deeps) * 1000
            ratio = dp / f
            self.row("list page %s by cursor vs page 1 (`%s&page_size=100`, %s resources): latency"
                     % ("{:,}".format(page), DEEP_QUERY, "{:,}".format(size)),
                     "%.2f ms" % dp, "%.2f ms (page 1)" % f, "%.2f" % ratio, "within 20 %",
                     "PASS" if max(ratio, 1 / ratio) <= 1.2 else "MISS",
                     "sequential keep-alive requests, alternating, none served from the answer cache; walk %.1f ms/page" % (1000 * walk / page))
        finally:
            c.close()

    def phase_upload(self):
        tmp = self.tmp
        size = self.cfg["upload"]
        src, dst = os.path.join(tmp, "upload.bin"), os.path.join(tmp, "upload.copy")
        log("writing a %s file" % fmt_bytes(size))
        gen.write_random(src, size)
        d = self.start_depotd("depotd-upload", os.path.join(tmp, "data-upload"))
        n = None
        try:
            res = self.create_small(d, "big.bin", "/bench/upload")
            rid = res["id"]
            A, B = [], []
            log("raw upload of %s, %d rounds, depotd PUT then cat+sync" % (fmt_bytes(size), self.rounds))
            for r in range(self.rounds):
                gen.stamp(src, r + 1)  # new bytes each round: a new blob, never a dedup hit
                code, t, up, _ = self.curl("raw upload (depotd)", [
                    "-X", "PUT", "-H", "Authorization: Bearer " + self.token,
                    "-H", "Content-Type: application/octet-stream", "-T", src, "-o", "/dev/null",
                    d.base + "/v1/resources/%s/content" % rid], timeout=1800)
                if code != 200 or int(up) != size:
                    raise BenchError("upload answered %d after %d bytes" % (code, up))
                if os.path.exists(dst):
                    os.unlink(dst)
                argv = ["sh", "-c", 'cat "$0" > "$1" && sync "$1"', src, dst]
                self.cmd("raw upload (reference)", argv)
                t0 = time.monotonic()
                self.run(argv, timeout=1800)
                tr = time.monotonic() - t0
                A.append(size / t / MB)
                B.append(size / tr / MB)
                self.raw.append("upload round %d: depotd %.0f MB/s (%.2fs) | cat+sync %.0f MB/s (%.2fs)"
                                % (r + 1, A[-1], t, B[-1], tr))
                log(self.raw[-1])
            os.unlink(dst)
            rss, hwm = self.rss(d)
            a, b = median(A), median(B)
            self.row("raw upload of %s (`PUT /v1/resources/{id}/content`): MB/s" % fmt_bytes(size),
                     "%.0f" % a, "%.0f (`cat f > f2 && sync f2`)" % b, "%.2f" % (a / b), "≥ 0.7",
                     "PASS" if a >= 0.7 * b else "MISS")
            self.row("depotd peak RSS after the uploads (fresh depotd, VmHWM)", fmt_bytes(hwm), "—", "—",
                     "≤ 32 MiB", "PASS" if hwm <= 32 * MiB else "MISS", "VmRSS after: %s" % fmt_bytes(rss))

            # download: the same blob through depotd and through nginx (sendfile)
            st, out = self.api(d, "GET", "/v1/resources/" + rid)
            key = json.loads(out)["storage_key"]
            n = self.start_nginx(files=os.path.join(tmp, "data-upload"))
            A, B = [], []
            log("download of %s, %d rounds, depotd then nginx" % (fmt_bytes(size), self.rounds))
            for r in range(self.rounds):
                code, t, _, down = self.curl("download (depotd)", [
                    "-H", "Authorization: Bearer " + self.token, "-o", "/dev/null",
                    d.base + "/v1/resources/%s/content" % rid], timeout=1800)
                if code != 200 or int(down) != size:
                    raise BenchError("depotd download answered %d with %d bytes" % (code, down))
                code, tr, _, down = self.curl("download (nginx)", [
                    "-H", "Authorization: Bearer " + self.token, "-o", "/dev/null",
                    n.base + "/file/" + key], timeout=1800)
                if code != 200 or int(down) != size:
                    raise BenchError("nginx download answered %d with %d bytes" % (code, down))
                A.append(size / t / MB)
                B.append(size / tr / MB)
                self.raw.append("download round %d: depotd %.0f MB/s (%.3fs) | nginx %.0f MB/s (%.3fs)"
                                % (r + 1, A[-1], t, B[-1], tr))
                log(self.raw[-1])
            a, b = median(A), median(B)
            self.row("download of %s (`GET /v1/resources/{id}/content`): MB/s" % fmt_bytes(size),
                     "%.0f" % a, "%.0f (nginx, sendfile)" % b, "%.2f" % (a / b), "≥ 0.9",
                     "PASS" if a >= 0.9 * b else "MISS")
        finally:
            if n:
                n.stop()
            d.stop()
            for p in (src, dst):
                if os.path.exists(p):
                    os.unlink(p)
            shutil.rmtree(os.path.join(tmp, "data-upload"), ignore_errors=True)

    def phase_b64(self):
        tmp = self.tmp
        size, count = self.cfg["b64"], self.cfg["b64_count"]
        folder = os.path.join(tmp, "b64")
        os.makedirs(folder)
        d = self.start_depotd("depotd-b64", os.path.join(tmp, "data-b64"))
        try:
            # idle: a fresh depotd that answered one list and one create, then rests
            self.create_small(d, "idle.txt", "/bench/idle")
            self.api(d, "GET", "/v1/resources?page_size=20")
            time.sleep(2)
            rss, hwm = self.rss(d)
            self.row("depotd RSS idle (fresh, after one create and one list)", fmt_bytes(rss), "—", "—",
                     "≤ 16 MiB", "PASS" if rss <= 16 * MiB else "MISS", "VmHWM %s" % fmt_bytes(hwm))
            log("idle RSS %s (HWM %s)" % (fmt_bytes(rss), fmt_bytes(hwm)))

            log("writing %d bodies with a %s base64 data URL" % (count, fmt_bytes(size)))
            text, bodies = gen.write_b64(folder, size, count)
            A, B = [], []
            log("%d concurrent creates of a %s base64 data URL, %d rounds, depotd then base64 -d"
                % (count, fmt_bytes(size), self.rounds))
            for r in range(self.rounds):
                for k, b in enumerate(bodies):
                    gen.b64_name(b, "b64-r%d-k%d" % (r, k))
                procs = []
                t0 = time.monotonic()
                for k, b in enumerate(bodies):
                    argv = ["curl", "-sS", "--max-time", "900", "-o", "/dev/null", "-w", "%{http_code}",
                            "-X", "POST", "-H", "Authorization: Bearer " + self.token,
                            "-H", "Content-Type: application/json", "-T", b, d.base + "/v1/resources"]
                    self.cmd("10 concurrent base64 creates (depotd, each of)", argv)
                    procs.append(subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                                  stdin=subprocess.DEVNULL, text=True))
                codes = self.wait_all(procs, 960)
                ta = time.monotonic() - t0
                if any(c != "200" for c in codes):
                    raise BenchError("base64 creates answered %s" % codes)
                procs = []
                argv = ["sh", "-c", 'base64 -d < "$0" > /dev/null', text]
                self.cmd("10 concurrent base64 creates (reference, each of)", argv)
                t0 = time.monotonic()
                for k in range(count):
                    procs.append(subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                                  stdin=subprocess.DEVNULL, text=True))
                self.wait_all(procs, 900)
                tb = time.monotonic() - t0
                A.append(count * size / ta / MB)
                B.append(count * size / tb / MB)
                self.raw.append("%d× base64 round %d: depotd %.0f MB/s (%.2fs) | base64 -d %.0f MB/s (%.2fs)"
                                % (count, r + 1, A[-1], ta, B[-1], tb))
                log(self.raw[-1])
            rss, hwm = self.rss(d)
            a, b = median(A), median(B)
            self.row("%d concurrent creates of a %s base64 data URL: decoded MB/s" % (count, fmt_bytes(size)),
                     "%.0f" % a, "%.0f (%d concurrent `base64 -d`)" % (b, count), "%.2f" % (a / b), "≥ 0.5",
                     "PASS" if a >= 0.5 * b else "MISS")
            self.row("depotd peak RSS after the base64 creates (fresh depotd, VmHWM)", fmt_bytes(hwm), "—", "—",
                     "≤ 128 MiB", "PASS" if hwm <= 128 * MiB else "MISS", "VmRSS after: %s" % fmt_bytes(rss))
        finally:
            d.stop()
            shutil.rmtree(folder, ignore_errors=True)
            shutil.rmtree(os.path.join(tmp, "data-b64"), ignore_errors=True)

    def wait_all(self, procs, timeout):
        end = time.monotonic() + timeout
        outs = []
        try:
            for p in procs:
                out, err = p.communicate(timeout=max(1, end - time.monotonic()))
                if p.returncode != 0:
                    raise BenchError("exit %d: %s" % (p.returncode, (err or out)[-500:]))
                outs.append(out.strip())
        except subprocess.TimeoutExpired:
            raise BenchError("timed out after %ds" % timeout)
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        return outs

    # ------------------------------------------------------------------ report

    def write_report(self, started, elapsed):
        q = self.args.quick
        c = self.cfg
        out = []
        w = out.append
        w("# depot benchmarks")
        w("")
        w("Generated by `scripts/bench.py` (`make %s`) on %s in %.0f s; depot %s."
          % ("bench-quick" if q else "bench", started, elapsed, self.machine.get("rev", "?")))
        if q:
            w("")
            w("**Quick run**: reduced sizes (%s resources instead of 1,000,000, %s instead of 1 GiB, "
              "%s base64 instead of 50 MiB, %d s wrk runs); the targets are those of the full run and "
              "are only indicative here. `make bench` gives the real figures."
              % ("{:,}".format(c["list_sizes"][-1]), fmt_bytes(c["upload"]), fmt_bytes(c["b64"]), c["d_get"]))
        w("")
        w("## Machine")
        w("")
        m = self.machine
        for k, label in (("cpu", "CPU"), ("cores", "Cores"), ("kernel", "Kernel"), ("os", "OS"),
                         ("memory", "Memory"), ("disk", "Disk (data folders and temp files)"),
                         ("fsync", "Disk fsync rate"), ("load", "Load average at start"),
                         ("tools", "Tools")):
            if k in m:
                w("- %s: %s" % (label, m[k]))
        w("")
        w("The machine is shared and noisy: every workload runs against depotd and its reference "
          "alternately in the same run (A B A B …, %d rounds) and the table shows medians." % self.rounds)
        w("")
        w("## Results")
        w("")
        w("| workload | depot | reference | ratio | target | result | notes |")
        w("| --- | --- | --- | --- | --- | --- | --- |")
        for r in self.rows:
            w("| %s | %s | %s | %s | %s | %s | %s |" % (r["workload"], r["depot"], r["ref"], r["ratio"],
                                                       r["target"], r["result"], r["note"]))
        w("")
        w("Ratios are depot ÷ reference (for latencies, lower is better). `info` rows have no target.")
        w("")
        w("## How it is measured")
        w("")
        w("- depotd: `build/depotd` (release build, default settings: SQLite, one event loop per core and 8 blocking threads), a fresh data "
          "folder per group of workloads, `DEPOT_MAX_UPLOAD_BYTES` raised for the big upload, a fixed "
          "`DEPOT_JWT_SECRET`; tokens from `build/depot token --account bench --user b`. "
          "Loopback only (127.0.0.1), one depotd and at most one nginx at a time.")
        w("- nginx: `scripts/bench/nginx.conf.in` rendered into the temp dir, run in the foreground "
          "with its own prefix, pid, temp and log paths; `worker_processes auto`, access log on "
          "(depotd logs every request too), `keepalive_requests` unlimited.")
        w("- GET by id: wrk `-t%d --latency`, %d s per run, the same `Authorization` header on both; "
          "the nginx body is depotd's resource JSON (same size). RSS under load is depotd's VmHWM "
          "after all GET runs (VmRSS also sampled every 200 ms)." % (self.threads, c["d_get"]))
        w("- Creates: `scripts/bench/create.lua`, a unique name per request (round, wrk thread, counter) "
          "and the same 1 KiB random payload, %d s per round; each create is answered only once durable. "
          "The disk's fsync rate is `dd bs=4k count=%d oflag=dsync`." % (c["d_create"], c["dd_count"]))
        w("- Lists: resources are loaded with `POST /v1/resources/import` (NDJSON from "
          "`scripts/bench/gen.py`, streamed with `curl -T`): resource i has directory `/d/<i%%100>` "
          "(two digits), tags `t<i%%10>` and `common`, metadata `{\"i\": i}`, the same small content. "
          "The data folder grows %s in one depotd; after each step the page_size=20 list "
          "(`%s`, 10 %% of the resources) runs for %d s per round at c=32. At the last size the "
          "page_size=100 list runs %d s per round, then page 1 and the deepest page (size ÷ 200, "
          "reached by following `next_cursor` over `%s`) are timed alternately, %d sequential requests "
          "each per round on one keep-alive connection. depotd keeps whole list answers per "
          "account until the account's next write (SQLite); so that the targets measure the query "
          "itself, every list request but the `repeated` row adds a parameter depot ignores, "
          "`bust`, with a value distinct per request (`scripts/bench/list_uncached.lua`): the "
          "answer cache, keyed by the query string, never hits, while the filters and their cached "
          "total stay the same; the `repeated` row shows what a cached answer costs."
          % (" → ".join("{:,}".format(s) for s in c["list_sizes"]), LIST_QUERY, c["d_growth"],
             c["d_list"], DEEP_QUERY, c["deep_pairs"]))
        w("- Upload: a %s random file (its first 8 bytes change each round, so every upload is a new "
          "blob), `curl -T` to `PUT /v1/resources/{id}/content` on a fresh depotd, against "
          "`cat f > f2 && sync f2` on the same disk. Download: the resulting blob through depotd and "
          "through nginx (`sendfile on`, the blob file itself), `curl -o /dev/null`. MB = 10^6 bytes."
          % fmt_bytes(c["upload"]))
        w("- Base64: %d JSON bodies carrying the same %s data URL (names rewritten each round), "
          "posted at once with `curl -T` to a fresh depotd; wall time from the first start to the "
          "last answer, against %d concurrent `base64 -d` of the same text into /dev/null. "
          "Idle RSS is that fresh depotd's VmRSS after one create and one list, before the uploads."
          % (c["b64_count"], fmt_bytes(c["b64"]), c["b64_count"]))
        if self.notes:
            w("")
            w("### Notes from this run")
            w("")
            for n in dict.fromkeys(self.notes):
                w("- " + n)
        w("")
        w("## Per-round figures")
        w("")
        w("```")
        out.extend(self.raw)
        w("```")
        w("")
        w("## Commands")
        w("")
        w("`$TMP` is the run's temp dir, `$DEPOT`/`$NGINX` the loopback ports, `$TOKEN` the bench token.")
        w("")
        w("```sh")
        w("make %s    # = /usr/bin/python3 scripts/bench.py%s" % ("bench-quick" if q else "bench", " --quick" if q else ""))
        w("TOKEN=$(DEPOT_JWT_SECRET=%s build/depot token --account bench --user b --ttl 86400)" % SECRET)
        for label, s in self.commands.items():
            w("# %s" % label)
            w(s)
        w("```")
        w("")
        w(self.where_the_time_goes())
        path = self.args.out
        with open(path + ".tmp", "w") as f:
            f.write("\n".join(out).rstrip() + "\n")
        os.replace(path + ".tmp", path)
        log("wrote " + path)

    def where_the_time_goes(self):
        """Keep the lead's profile notes when the file is regenerated."""
        head = "## Where the time goes"
        try:
            with open(self.args.out) as f:
                old = f.read()
            i = old.find("\n" + head)
            if i >= 0:
                return old[i + 1:].rstrip()
        except OSError:
            pass
        return head + "\n\n(profile notes: see below)"

    # ------------------------------------------------------------------ main

    def main(self):
        started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        t_start = time.monotonic()
        self.ensure_tools()
        base = self.args.tmpdir or os.environ.get("BENCH_TMPDIR") or "/var/tmp"
        free = shutil.disk_usage(base).free
        if free < self.cfg["min_free"]:
            raise BenchError("%s has %s free, the %s run needs %s" % (
                base, fmt_bytes(free), "quick" if self.args.quick else "full", fmt_bytes(self.cfg["min_free"])))
        self.tmp = tempfile.mkdtemp(prefix="depot-bench-", dir=base)
        log("temp dir %s (%s free)" % (self.tmp, fmt_bytes(free)))
        try:
            env = dict(os.environ, DEPOT_JWT_SECRET=SECRET)
            self.token = self.run([DEPOT, "token", "--account", "bench", "--user", "b", "--ttl", "86400"],
                                  timeout=30, env=env).stdout.strip()
            self.describe_machine()
            only = set(self.args.only.split(",")) if self.args.only else None
            phases = [("b64", self.phase_b64, "base64 creates and idle RSS"),
                      ("upload", self.phase_upload, "upload and download"),
                      ("get", self.phase_get_create, "GET by id and creates"),
                      ("list", self.phase_list, "bulk import and lists")]
            for key, fn, what in phases:
                if only and key not in only and not (key == "get" and "create" in only):
                    continue
                log("== " + what)
                try:
                    fn()
                except BenchError as e:
                    log("%s failed: %s" % (what, e))
                    self.error_row(what, e)
            self.write_report(started, time.monotonic() - t_start)
        finally:
            Child.stop_all()
            if self.args.keep_tmp:
                log("kept " + self.tmp)
            else:
                shutil.rmtree(self.tmp, ignore_errors=True)
        for r in self.rows:
            log("%-95s %12s | %-28s %6s %-12s %s" % (r["workload"][:95], r["depot"], r["ref"][:28],
                                                  r["ratio"], r["target"], r["result"]))
        return 1 if self.errors else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes and shorter runs (< 2 min)")
    ap.add_argument("--rounds", type=int, default=3, help="A/B rounds per workload (default 3)")
    ap.add_argument("--only", help="comma list of: get, create, list, upload, b64 (development)")
    ap.add_argument("--tmpdir", help="where the temp dir goes (default $BENCH_TMPDIR or /var/tmp)")
    ap.add_argument("--out", default=os.path.join(ROOT, "BENCHMARKS.md"))
    ap.add_argument("--keep-tmp", action="store_true", help="leave the temp dir (debugging)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=INT",
                    help="override a size or duration (development), e.g. --set b64=52428800")
    ap.add_argument("--env", action="append", default=[], metavar="DEPOT_KEY=VALUE",
                    help="a depotd setting for every depotd started (development), e.g. --env DEPOT_THREADS=4")
    args = ap.parse_args()
    args.env_overrides = {}
    for kv in args.env:
        k, sep, v = kv.partition("=")
        if not sep or not k.startswith("DEPOT_"):
            ap.error("--env wants DEPOT_KEY=VALUE, not %r" % kv)
        args.env_overrides[k] = v
    if args.rounds < 1:
        ap.error("--rounds must be >= 1")

    def on_term(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    b = Bench(args)
    try:
        return b.main()
    except KeyboardInterrupt:
        log("interrupted: servers stopped, temp files removed")
        return 130
    except BenchError as e:
        log("error: %s" % e)
        return 1
    finally:
        Child.stop_all()


if __name__ == "__main__":
    sys.exit(main())
