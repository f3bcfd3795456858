"""depotd with its metadata in PostgreSQL (DEPOT_DB): several processes on one database, the
database restarting under load, and simultaneous first starts. Run by scripts/test.sh's
"postgres" pass, which sets DEPOT_TEST_PG_ADMIN (the cluster's admin URL) and DEPOT_TEST_PG_DIR
(its scripts/pg.sh folder); skipped without them."""

import os
import subprocess
import threading
import time
import urllib.parse

import pytest
import requests

from depot_helpers import (REPO_ROOT, TIMEOUT, assert_error, backend_env, codes_of,
                           pg_database_url, psql, race, uniq)

ADMIN = os.environ.get("DEPOT_TEST_PG_ADMIN")
PG_DIR = os.environ.get("DEPOT_TEST_PG_DIR")

pytestmark = pytest.mark.skipif(not ADMIN or not PG_DIR,
                                reason="needs DEPOT_TEST_PG_ADMIN and DEPOT_TEST_PG_DIR "
                                       "(the postgres pass of scripts/test.sh)")


def pg_sh(*args):
    subprocess.run([str(REPO_ROOT / "scripts" / "pg.sh"), *args, PG_DIR], check=True,
                   timeout=90, capture_output=True)


def password():
    return urllib.parse.urlsplit(ADMIN).password


def shared_pair(server_factory):
    """Two depotd (own data folders) on the database of the first."""
    s1 = server_factory()
    s2 = server_factory(env={"DEPOT_DB": backend_env(s1.data_dir)["DEPOT_DB"]})
    return s1, s2


def test_racing_creates_through_two_processes_exactly_one_wins(server_factory):
    s1, s2 = shared_pair(server_factory)
    acct = uniq("acct")
    c1, c2 = s1.client(acct), s2.client(acct)
    name = uniq("race")
    n = 20
    results = race(n, lambda i: (c1 if i % 2 else c2).create_raw(
        name=name, directory_path="/race", content=f"racer {i}".encode()))
    codes = codes_of(results)
    assert codes.count(200) == 1, codes
    assert codes.count(409) == n - 1, codes
    winner = next(r for r in results if r.status_code == 200).json()
    for c in (c1, c2):
        listing = c.list(directory_prefix="/race")
        assert listing["total"] == 1
        assert listing["items"][0]["id"] == winner["id"]
        got = c.get(f"/v1/resources/{winner['id']}/content")
        assert got.status_code == 200 and got.content.startswith(b"racer ")


def test_delete_in_one_process_never_takes_bytes_a_create_in_the_other_needs(server_factory):
    """Identical small content shares one inline copy: a delete of its last user in one
    process racing a create of the same bytes in the other leaves the new resource whole."""
    s1, s2 = shared_pair(server_factory)
    acct = uniq("acct")
    c1, c2 = s1.client(acct), s2.client(acct)
    for round_ in range(8):
        data = f"shared bytes {round_}".encode()
        old = c1.create(content=data)
        results = race(2, lambda i: c2.delete(f"/v1/resources/{old['id']}") if i == 0
                       else c1.create_raw(content=data))
        assert codes_of(results) == [204, 200]
        new = results[1].json()
        for c in (c1, c2):
            got = c.get(f"/v1/resources/{new['id']}/content")
            assert got.status_code == 200 and got.content == data, round_


def test_postgres_restart_is_503_then_recovers_with_nothing_lost(server_factory):
    s = server_factory()
    c = s.client()
    acked = {}  # id -> bytes, every create answered 200
    for i in range(5):
        data = f"before {i}".encode()
        acked[c.create(content=data)["id"]] = data
    codes, lock, stop = [], threading.Lock(), threading.Event()
    unanswered = set()  # bytes of creates answered 503: their outcome is unknown

    def load(worker):
        i = 0
        while not stop.is_set():
            data = f"during {worker}-{i}".encode()
            i += 1
            try:
                r = c.create_raw(content=data)
            except requests.RequestException as e:  # never expected: depotd answers
                r = e
            with lock:
                codes.append(r.status_code if hasattr(r, "status_code") else repr(r))
                if getattr(r, "status_code", None) == 200:
                    acked[r.json()["id"]] = data
                elif getattr(r, "status_code", None) == 503:
                    assert_error(r, 503)
                    unanswered.add(data)
            time.sleep(0.02)

    workers = [threading.Thread(target=load, args=(w,)) for w in range(3)]
    for w in workers:
        w.start()
    halted = False
    try:
        time.sleep(0.5)
        pg_sh("halt")
        halted = True
        time.sleep(1.5)  # requests meanwhile: 503
        down = c.get("/v1/resources")
        assert_error(down, 503)
        assert down.json()["error"] == "service temporarily unavailable, try again"
        pg_sh("start")
        halted = False
        deadline = time.time() + 30
        while time.time() < deadline and c.get("/v1/resources").status_code != 200:
            time.sleep(0.1)
        time.sleep(0.5)
    finally:
        stop.set()
        for w in workers:
            w.join(TIMEOUT)
        if halted:  # the rest of the suite needs the server
            pg_sh("start")
    assert set(codes) <= {200, 503}, codes
    assert 503 in codes and codes[-1] == 200, codes
    # Reconnected by itself, and everything acknowledged is there. A create whose commit reached
    # the disk just as the server went down was answered 503 (depotd cannot know the outcome),
    # so it may be there too; nothing else is.
    listed, page = [], 1
    while True:
        listing = c.list(page_size=100, page=page)
        listed += [it["id"] for it in listing["items"]]
        if len(listing["items"]) < 100:
            break
        page += 1
    assert listing["total"] == len(listed) and set(acked) <= set(listed)
    for rid in listed:
        got = c.get(f"/v1/resources/{rid}/content")
        assert got.status_code == 200
        assert got.content == acked[rid] if rid in acked else got.content in unanswered
    log = s.log_text(10 ** 7)
    assert "metadata store unavailable" in log
    assert password() not in log


def test_two_depotd_started_at_once_on_a_fresh_database_both_migrate_and_serve(server_factory):
    name = "t_fresh_" + uniq("db").replace("-", "_")
    psql(ADMIN, f"CREATE DATABASE {name}")
    url = pg_database_url(ADMIN, name)
    servers = [server_factory(env={"DEPOT_DB": url}, start=False) for _ in range(3)]
    errors = []

    def start(s):
        try:
            s.start()
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=start, args=(s,)) for s in servers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert psql(url, "SELECT string_agg(version::text, ',') FROM schema_migrations").strip() == "1,2,3"
    acct = uniq("acct")
    made = [s.client(acct).create(name=f"from-{i}") for i, s in enumerate(servers)]
    for s in servers:
        assert s.client(acct).list()["total"] == len(made)
    again = servers[0].client(acct).create_raw(name="from-2")
    assert_error(again, 409)
