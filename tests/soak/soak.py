#!/usr/bin/python3
"""Soak: a mixed workload against one depotd for a while, watching for slow leaks.

Workers create (small and 1 MiB), list, read, rename, replace content (raw upload), download
and delete, over several accounts. Every second the checker samples depotd's RSS and open file
descriptors. It fails on any unexpected status (every 5xx is unexpected), on RSS growing more
than --max-growth-mb after the warm-up, or on descriptors growing after it.

Usage: soak.py [--seconds N] [--workers W] [--report FILE]
Binary: $DEPOTD (default build/depotd).
"""

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))
import requests  # noqa: E402

from depot_helpers import DepotServer, data_url, sha, token  # noqa: E402


def proc_sample(pid):
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = 0
        self.by_op = {}
        self.unexpected = []

    def note(self, op, resp, ok):
        with self.lock:
            self.requests += 1
            self.by_op[op] = self.by_op.get(op, 0) + 1
            if resp.status_code not in ok and len(self.unexpected) < 20:
                self.unexpected.append(f"{op}: {resp.status_code} {resp.text[:200]}")


def worker(base, idx, seed, stop, stats):
    rng = random.Random(seed)
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {token(f'soak-{idx % 3}', sub=f'w{idx}')}"
    mine = {}  # id -> sha256 of its content
    n = 0

    def call(op, ok, method, path, **kw):
        r = s.request(method, base + path, timeout=60, **kw)
        stats.note(op, r, ok)
        return r

    while not stop.is_set():
        r = rng.random()
        if r < 0.25 or not mine:
            n += 1
            body = rng.randbytes(rng.choice([10, 3000, 40_000, 1 << 20]))
            resp = call("create", (200,), "POST", "/v1/resources", json={
                "name": f"w{idx}-{n}", "directory_path": f"/soak/w{idx}",
                "tags": ["soak", f"t{n % 5}"], "metadata": {"n": n},
                "content": data_url(body)})
            if resp.status_code == 200:
                mine[resp.json()["id"]] = sha(body)
        elif r < 0.45:
            call("list", (200,), "GET", "/v1/resources",
                 params={"directory_prefix": f"/soak/w{idx}", "tags": f"t{n % 5}",
                         "page_size": 20})
        elif r < 0.6:
            rid = rng.choice(list(mine))
            resp = call("get", (200,), "GET", f"/v1/resources/{rid}")
        elif r < 0.72:
            rid = rng.choice(list(mine))
            resp = call("download", (200,), "GET", f"/v1/resources/{rid}/content")
            if resp.status_code == 200 and sha(resp.content) != mine[rid]:
                stats.note("download-bytes", resp, ())
        elif r < 0.8:
            rid = rng.choice(list(mine))
            n += 1
            call("rename", (200,), "PATCH", f"/v1/resources/{rid}", json={"name": f"w{idx}-{n}"})
        elif r < 0.88:
            rid = rng.choice(list(mine))
            body = rng.randbytes(rng.choice([500, 2 << 20]))
            resp = call("upload", (200,), "PUT", f"/v1/resources/{rid}/content", data=body,
                        headers={"Content-Type": "application/octet-stream"})
            if resp.status_code == 200:
                mine[rid] = sha(body)
        else:
            rid = rng.choice(list(mine))
            if call("delete", (204,), "DELETE", f"/v1/resources/{rid}").status_code == 204:
                del mine[rid]
        if len(mine) > 60:
            rid = next(iter(mine))
            if call("delete", (204,), "DELETE", f"/v1/resources/{rid}").status_code == 204:
                del mine[rid]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--workers", type=int, default=6)
    ap.add_argument("--warmup", type=float, default=None,
                    help="seconds before growth is measured (default: a fifth of the run)")
    ap.add_argument("--max-growth-mb", type=float, default=10)
    ap.add_argument("--report", help="write the figures as JSON here")
    args = ap.parse_args()
    warmup = args.warmup if args.warmup is not None else args.seconds / 5
    tmp = Path(tempfile.mkdtemp(prefix="depot-soak-"))
    srv = DepotServer(data_dir=tmp / "data", tmp_root=tmp).start()
    stats = Stats()
    stop = threading.Event()
    failures = []

    def guarded(i):
        try:
            worker(srv.base, i, 1000 + i, stop, stats)
        except Exception as e:  # noqa: BLE001 - a dropped connection is a failure here
            failures.append(f"worker {i}: {e!r}")
            stop.set()

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(args.workers)]
    started = time.time()
    for t in threads:
        t.start()
    samples = []  # (t, requests, rss, fds)
    while time.time() - started < args.seconds and not stop.is_set():
        time.sleep(1)
        rss, fds = proc_sample(srv.proc.pid)
        samples.append((round(time.time() - started, 1), stats.requests, rss, fds))
    stop.set()
    for t in threads:
        t.join(timeout=120)
    idle_rss, idle_fds = proc_sample(srv.proc.pid)
    srv.stop()

    after = [s for s in samples if s[0] >= warmup] or samples[-1:]
    base_rss, peak_rss = after[0][2], max(s[2] for s in after)
    growth_mb = (peak_rss - base_rss) / 2**20
    fd_base, fd_end = after[0][3], idle_fds
    step = max(1, len(samples) // 10)
    print(f"{'t (s)':>7} {'requests':>9} {'RSS MiB':>8} {'fds':>5}")
    for t, n, rss, fds in samples[::step] + ([samples[-1]] if samples else []):
        print(f"{t:7.1f} {n:9d} {rss / 2**20:8.1f} {fds:5d}")
    figures = {
        "seconds": round(time.time() - started, 1), "workers": args.workers,
        "requests": stats.requests, "by_op": stats.by_op,
        "unexpected": len(stats.unexpected),
        "rss_after_warmup_mib": round(base_rss / 2**20, 1),
        "rss_peak_after_warmup_mib": round(peak_rss / 2**20, 1),
        "rss_growth_mib": round(growth_mb, 1), "fds_after_warmup": fd_base,
        "fds_at_end_idle": fd_end,
    }
    print("soak: " + json.dumps(figures))
    if args.report:
        Path(args.report).write_text(json.dumps(figures, indent=1) + "\n")
    problems = failures + stats.unexpected
    if growth_mb > args.max_growth_mb:
        problems.append(f"RSS grew {growth_mb:.1f} MiB after warm-up (limit "
                        f"{args.max_growth_mb})")
    if fd_end > fd_base:
        problems.append(f"open descriptors grew from {fd_base} to {fd_end}")
    for p in problems:
        print("FAILED: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
