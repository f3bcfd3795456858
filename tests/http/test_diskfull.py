"""Disk full for real: depotd on a small tmpfs data folder.

Creates answer 507 with an error, nothing half-written remains, deletes still work on the full
disk (writes stop at a free-space watermark, DEPOT_MIN_FREE_BYTES, that leaves the metadata
store room for them), and creates work again once space is freed, without a restart. Needs root (to mount the
tmpfs), which CI has; elsewhere the test is skipped and says why.
"""

import os
import subprocess

import pytest

from depot_helpers import assert_error, backend_env, data_url, sha, uniq

TMPFS_BYTES = 12 * 1024 * 1024
BLOB = 512 * 1024


@pytest.fixture
def tmpfs(tmp_path):
    mnt = tmp_path / "small"
    mnt.mkdir()
    if backend_env(mnt):
        pytest.skip("the disk-full test is about the local data folder (SQLite + files)")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_BYTES}", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {r.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def staging_files(data):
    d = data / "staging"
    return sorted(os.listdir(d)) if d.exists() else []


def fill(c, size, limit=200):
    """Creates resources of size bytes until one is refused; returns (created, refusal)."""
    made = []
    for _ in range(limit):
        body = os.urandom(size)
        r = c.post("/v1/resources", {"name": uniq("fill"), "directory_path": "/full",
                                     "content": data_url(body)})
        if r.status_code != 200:
            return made, r
        made.append((r.json()["id"], sha(body)))
    pytest.fail(f"{limit} creates of {size} bytes fit in a {TMPFS_BYTES}-byte tmpfs")


def assert_intact(c, made, data):
    """Everything acknowledged is listed once and its bytes hash right; nothing is staged."""
    assert c.list(directory_prefix="/full", page_size=1)["total"] == len(made)
    for rid, digest in made:
        got = c.get(f"/v1/resources/{rid}/content")
        assert got.status_code == 200
        assert sha(got.content) == digest
    assert staging_files(data) == [], "a refused write left its staging file"


def assert_full(resp):
    assert_error(resp, 507)
    assert "the disk is full" in resp.json()["error"]


def test_disk_full_answers_507_and_recovers_without_restart(server_factory, tmpfs):
    data = tmpfs / "data"
    s = server_factory(data_dir=data, env={"DEPOT_MIN_FREE_BYTES": 2 * 1024 * 1024})
    c = s.client()
    made, refused = fill(c, BLOB)
    assert made, "not even one create fitted"
    assert_full(refused)
    assert "2097152 bytes free" in refused.json()["error"]

    # Raw content uploads and small (inline) creates are refused the same way, and a refused
    # content replace leaves the old bytes.
    r = c.put(f"/v1/resources/{made[0][0]}/content", data=os.urandom(BLOB),
              headers={"Content-Type": "application/octet-stream"})
    assert_full(r)
    small, refused_small = fill(c, 2000)
    assert_full(refused_small)
    made += small
    assert_intact(c, made, data)

    # Deleting works on the full disk, and frees the space: creates succeed again.
    for rid, _ in made[: len(made) // 2]:
        assert c.delete(f"/v1/resources/{rid}").status_code == 204
    body = os.urandom(BLOB)
    r = c.post("/v1/resources", {"name": uniq("after"), "directory_path": "/full",
                                 "content": data_url(body)})
    assert r.status_code == 200, r.text
    got = c.get(f"/v1/resources/{r.json()['id']}/content")
    assert sha(got.content) == sha(body)
    assert s.proc.poll() is None, "depotd exited on a full disk"


def test_disk_full_without_watermark_refuses_cleanly(server_factory, tmpfs):
    """With the watermark off, writes run into ENOSPC itself: still a 507, nothing half-written,
    everything acknowledged intact, the server up."""
    data = tmpfs / "data"
    s = server_factory(data_dir=data, env={"DEPOT_MIN_FREE_BYTES": 0})
    c = s.client()
    made, refused = fill(c, BLOB)
    assert_full(refused)
    small, refused_small = fill(c, 3000, limit=2000)
    assert_full(refused_small)
    assert_intact(c, made + small, data)
    assert s.proc.poll() is None
