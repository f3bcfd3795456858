#!/usr/bin/python3
"""kill -9 checker: the durability promise, tested the hard way.

Workers drive concurrent creates, content replaces, renames and deletes against a real depotd;
at a random instant the server gets SIGKILL. It is restarted on the same data, and the checker
verifies, after every cycle:
  - every acknowledged write is there with its exact bytes (sha256 of the downloaded content);
  - a write in flight at the kill is either wholly there or wholly absent, nothing in between;
  - no row without its blob: every resource's content downloads and hashes to its sha256;
  - no unreferenced blob and no staging file after start-up cleanup;
  - PRAGMA integrity_check of the SQLite database answers ok.

Usage: crashcheck.py [--cycles N] [--seed S] [--workers W] [--report FILE]
Binary: $DEPOTD (default build/depotd). Exit status 0 only when every cycle verified.
"""

import argparse
import hashlib
import json
import random
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))
import requests  # noqa: E402

from depot_helpers import DepotServer, data_url, token  # noqa: E402

SIZES = [0, 100, 5000, 15000, 20000, 100_000, 600_000]  # inline and file-backed content
MAX_LIVE = 120  # per worker; above it, deletes are favoured


class Failure(AssertionError):
    pass


def sha(b):
    return hashlib.sha256(b).hexdigest()


class Worker:
    """One account's share of the load. Its model maps id -> list of possible states; a state
    is None (absent) or (name, sha256). Acknowledged writes leave one state, writes cut by the
    kill leave the old and the new."""

    def __init__(self, idx, seed):
        self.account = f"crash-{idx}"
        self.tok = token(self.account)
        self.rng = random.Random(seed)
        self.model = {}
        self.maybe_created = []  # (name, sha) of creates cut by the kill
        self.acked = 0
        self.cut = 0
        self.n = 0

    def content(self):
        size = self.rng.choice(SIZES)
        return self.rng.randbytes(size)

    def name(self):
        self.n += 1
        return f"f{self.n}-{self.rng.randrange(1 << 30):x}.bin"

    def run(self, base, stop):
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {self.tok}"
        while not stop.is_set():
            try:
                self.one(s, base)
            except requests.RequestException:
                self.cut += 1
                return  # the server is gone; the op was marked uncertain before it was sent

    def live(self):
        return [i for i, st in self.model.items() if st[-1] is not None]

    def one(self, s, base):
        live = self.live()
        r = self.rng.random()
        if not live or (r < 0.4 and len(live) < MAX_LIVE):
            body = self.content()
            name = self.name()
            self.maybe_created.append((name, sha(body)))
            resp = s.post(base + "/v1/resources", json={
                "name": name, "directory_path": "/crash",
                "content": data_url(body)}, timeout=30)
            self.expect(resp, 200)
            self.maybe_created.pop()
            self.model[resp.json()["id"]] = [(name, sha(body))]
        else:
            rid = self.rng.choice(live)
            old = self.model[rid]
            cur = old[-1]
            if r < 0.6:
                body = self.content()
                new = (cur[0], sha(body))
                self.model[rid] = old + [new]
                resp = s.put(base + f"/v1/resources/{rid}/content", data=body, timeout=30,
                             headers={"Content-Type": "application/octet-stream"})
            elif r < 0.75:
                new = (self.name(), cur[1])
                self.model[rid] = old + [new]
                resp = s.patch(base + f"/v1/resources/{rid}", json={"name": new[0]}, timeout=30)
            else:
                new = None
                self.model[rid] = old + [new]
                resp = s.delete(base + f"/v1/resources/{rid}", timeout=30)
            self.expect(resp, 204 if new is None else 200)
            self.model[rid] = [new]
        self.acked += 1

    def expect(self, resp, code):
        if resp.status_code != code:
            raise Failure(f"{self.account}: {resp.request.method} {resp.request.url} -> "
                          f"{resp.status_code} {resp.text[:300]}")

    def verify(self, base):
        """Compares the server with the model; returns the storage keys of every resource."""
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {self.tok}"
        found = {}
        cursor = None
        while True:
            params = {"page_size": 100, "directory_prefix": "/crash"}
            if cursor:
                params["cursor"] = cursor
            page = s.get(base + "/v1/resources", params=params, timeout=30)
            self.expect(page, 200)
            body = page.json()
            for item in body["items"]:
                found[item["id"]] = item
            cursor = body.get("next_cursor")
            if not cursor:
                break
        for rid, states in list(self.model.items()):
            row = found.get(rid)
            actual = None if row is None else (row["name"], row["sha256"])
            if actual not in states:
                raise Failure(f"{self.account}: resource {rid} is {actual}, "
                              f"expected one of {states}")
            self.model[rid] = [actual]
        for rid, row in found.items():
            if rid in self.model:
                continue
            actual = (row["name"], row["sha256"])
            if actual not in self.maybe_created:
                raise Failure(f"{self.account}: unexpected resource {rid} {actual}")
            self.model[rid] = [actual]
        self.maybe_created.clear()
        for rid in [i for i, st in self.model.items() if st == [None]]:
            del self.model[rid]
        keys = set()
        for rid, row in found.items():
            got = s.get(base + f"/v1/resources/{rid}/content", timeout=30)
            self.expect(got, 200)
            if sha(got.content) != row["sha256"] or len(got.content) != row["size_bytes"]:
                raise Failure(f"{self.account}: content of {rid} does not match its row")
            keys.add(row["storage_key"])
        return keys


def check_data_dir(data, keys):
    staging = data / "staging"
    left = list(staging.iterdir()) if staging.exists() else []
    if left:
        raise Failure(f"staging files left after start-up cleanup: {left[:5]}")
    on_disk = set()
    if (data / "blobs").exists():
        for p in (data / "blobs").rglob("*"):
            if p.is_file():
                on_disk.add(str(p.relative_to(data)))
    stray = on_disk - keys
    if stray:
        raise Failure(f"{len(stray)} unreferenced blobs after start-up cleanup: "
                      f"{sorted(stray)[:3]}")
    db = sqlite3.connect(f"file:{data / 'depot.db'}?mode=ro", uri=True)
    try:
        ok = db.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        db.close()
    if ok != "ok":
        raise Failure(f"PRAGMA integrity_check: {ok}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cycles", type=int, default=200)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--max-window", type=float, default=1.0,
                    help="longest run of load before a kill, seconds")
    ap.add_argument("--report", help="write the figures as JSON here")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="depot-crash-"))
    workers = [Worker(i, rng.randrange(1 << 62)) for i in range(args.workers)]
    srv = DepotServer(data_dir=tmp / "data", tmp_root=tmp)
    started = time.time()
    srv.start()
    kills_mid_write = 0
    try:
        for cycle in range(1, args.cycles + 1):
            stop = threading.Event()
            errors = []

            def guard(w):
                try:
                    w.run(srv.base, stop)
                except Exception as e:  # noqa: BLE001 - reported below
                    errors.append(e)
            threads = [threading.Thread(target=guard, args=(w,)) for w in workers]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(0.02, args.max_window))
            cut_before = sum(w.cut for w in workers)
            stop.set()
            srv.proc.kill()  # SIGKILL: no shutdown path runs
            srv.proc.wait(timeout=10)
            srv.proc = None
            srv._close_log()
            for t in threads:
                t.join(timeout=60)
            if errors:
                raise errors[0]
            kills_mid_write += sum(w.cut for w in workers) > cut_before
            srv.start()
            keys = set()
            for w in workers:
                keys |= w.verify(srv.base)
            check_data_dir(srv.data_dir, {k for k in keys if k.startswith("blobs/")})
            if cycle % 25 == 0 or cycle == args.cycles:
                live = sum(len(w.model) for w in workers)
                print(f"cycle {cycle}: ok ({live} resources, "
                      f"{sum(w.acked for w in workers)} acknowledged writes)", flush=True)
    except Failure as f:
        print(f"FAILED in cycle {cycle} (seed {args.seed}): {f}", flush=True)
        print(srv.log_text(4000))
        return 1
    finally:
        srv._kill()
    figures = {
        "cycles": args.cycles, "seed": args.seed, "workers": args.workers,
        "acknowledged_writes": sum(w.acked for w in workers),
        "writes_cut_by_kill": sum(w.cut for w in workers),
        "cycles_with_a_write_cut": kills_mid_write,
        "seconds": round(time.time() - started, 1),
    }
    print("crashcheck: " + json.dumps(figures))
    if args.report:
        Path(args.report).write_text(json.dumps(figures, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
