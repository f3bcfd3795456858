"""Scale-out: several depotd processes behind one PostgreSQL database and one S3 bucket.

Runs in the pass of scripts/test.sh that provides both (DEPOT_TEST_PG_ADMIN and
DEPOT_TEST_S3_ENDPOINT); two servers given the same data_dir share the database and the bucket
that backend_env() derives from it.
"""

import os
import random

import pytest

from depot_helpers import codes_of, data_url, race, sha, uniq

pytestmark = pytest.mark.skipif(
    not (os.environ.get("DEPOT_TEST_PG_ADMIN") and os.environ.get("DEPOT_TEST_S3_ENDPOINT")),
    reason="needs the PostgreSQL + S3 pass of scripts/test.sh")


@pytest.fixture
def pair(server_factory, tmp_path):
    shared = tmp_path / "shared"
    a = server_factory(data_dir=shared)
    b = server_factory(data_dir=shared)
    return a, b


def test_200_racing_creates_over_two_processes_one_winner_per_name(pair):
    a, b = pair
    account = uniq("scale")
    ca, cb = a.client(account=account), b.client(account=account)
    jobs = [(f"name-{n:02d}.bin", k) for n in range(50) for k in range(4)]
    random.Random(7).shuffle(jobs)
    # Bodies over the inline limit, so every create uploads an object to the bucket.
    bodies = {job: (f"{job[0]} try {job[1]} ".encode() * 2000) for job in jobs}

    def create(i):
        name, k = jobs[i]
        c = ca if i % 2 == 0 else cb
        return c.post("/v1/resources", {"name": name, "directory_path": "/race",
                                        "content": data_url(bodies[jobs[i]])})

    results = race(len(jobs), create, timeout=120)
    codes = codes_of(results)
    assert set(codes) <= {200, 409}, codes
    winners = {}
    for job, r in zip(jobs, results):
        if r.status_code == 200:
            assert job[0] not in winners, f"two creates of {job[0]} succeeded"
            winners[job[0]] = (r.json(), bodies[job])
        else:
            assert "already exists" in r.json()["error"]
    assert len(winners) == 50, f"{len(winners)} names won, expected 50"
    for name, (res, body) in winners.items():
        assert res["sha256"] == sha(body)
        for c in (ca, cb):
            got = c.get(f"/v1/resources/{res['id']}/content")
            assert got.status_code == 200 and got.content == body, name
    for c in (ca, cb):
        assert c.list(directory_prefix="/race", page_size=1)["total"] == 50


def test_write_through_one_process_is_seen_by_the_other(pair):
    a, b = pair
    account = uniq("scale")
    ca, cb = a.client(account=account), b.client(account=account)
    made = ca.create(name="shared.txt", directory_path="/x", content=b"v1" * 20000)
    assert made["storage_bucket"] != "local"
    r = cb.put(f"/v1/resources/{made['id']}/content", data=b"v2" * 30000,
               headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 200
    got = ca.get(f"/v1/resources/{made['id']}/content")
    assert got.content == b"v2" * 30000
    assert cb.patch(f"/v1/resources/{made['id']}", {"name": "renamed.txt"}).status_code == 200
    assert ca.get(f"/v1/resources/{made['id']}").json()["name"] == "renamed.txt"
    assert ca.delete(f"/v1/resources/{made['id']}").status_code == 204
    assert cb.get(f"/v1/resources/{made['id']}").status_code == 404
    assert cb.list(directory_prefix="/x")["total"] == 0
