"""Durability across a clean restart, and content deduplication within an account."""

import pytest

from depot_helpers import (assert_error, assert_ok, blob_keys, on_s3, png_bytes, s3_bucket_of,
                           s3_request, sha, uniq)


def test_restart_keeps_everything(server_factory):
    s1 = server_factory()
    data_dir = s1.data_dir
    a, b = s1.client(account="acct-restart-a"), s1.client(account="acct-restart-b")
    made = []
    made.append((a, a.create(name="one.txt", directory_path="/docs", content=b"one",
                             tags=["x", "y"], metadata={"n": 1, "nested": {"l": [1, 2]}})))
    made.append((a, a.create(name="two.png", directory_path="/img/2024",
                             content=png_bytes(), mime="application/octet-stream")))
    made.append((a, a.create(name="\u00e9t\u00e9.txt", directory_path="/",
                             content=b"same", tags=["\u00fc"])))
    made.append((a, a.create(name="copy.txt", directory_path="/", content=b"same")))
    made.append((b, b.create(name="one.txt", directory_path="/docs", content=b"b-one",
                             metadata=None)))
    gone = a.create(name="deleted.txt", content=b"deleted")
    assert a.delete(f"/v1/resources/{gone['id']}").status_code == 204
    updated = a.patch(f"/v1/resources/{made[0][1]['id']}", {"metadata": {"n": 2}})
    assert_ok(updated)
    made[0] = (a, updated.json())

    before = {}
    for c, res in made:
        g = c.get(f"/v1/resources/{res['id']}")
        assert_ok(g)
        body = c.get(f"/v1/resources/{res['id']}/content")
        assert_ok(body)
        before[res["id"]] = (g.json(), body.content, body.headers.get("ETag"))
    lists_before = {c.account: c.list(page_size=100, sort="asc") for c in (a, b)}

    s1.stop()

    s2 = server_factory(data_dir=data_dir)
    a2, b2 = s2.client(account="acct-restart-a"), s2.client(account="acct-restart-b")
    by_acct = {a.account: a2, b.account: b2}
    for rid, (js, content, etag) in before.items():
        c = by_acct[js["account_id"]]
        g = c.get(f"/v1/resources/{rid}")
        assert_ok(g)
        assert g.json() == js
        body = c.get(f"/v1/resources/{rid}/content")
        assert_ok(body)
        assert body.content == content
        assert sha(body.content) == js["sha256"]
        assert body.headers.get("ETag") == etag
    for acct, lst in lists_before.items():
        assert by_acct[acct].list(page_size=100, sort="asc") == lst
    assert_error(a2.get(f"/v1/resources/{gone['id']}"), 404)
    # names are still taken after the restart
    assert_error(a2.create_raw(name="one.txt", directory_path="/docs"), 409)
    # and the restarted server accepts new writes
    a2.create(name="after-restart.txt")
    s2.stop()


def test_restart_twice_and_new_writes_persist(server_factory):
    s1 = server_factory()
    c = s1.client(account="acct-r2")
    r1 = c.create(name="first", content=b"first")
    s1.stop()
    s2 = server_factory(data_dir=s1.data_dir)
    c2 = s2.client(account="acct-r2")
    r2 = c2.create(name="second", content=b"second")
    s2.stop()
    s3 = server_factory(data_dir=s1.data_dir)
    c3 = s3.client(account="acct-r2")
    assert c3.list()["total"] == 2
    assert c3.get(f"/v1/resources/{r1['id']}/content").content == b"first"
    assert c3.get(f"/v1/resources/{r2['id']}/content").content == b"second"


def _blobs_named(server, digest):
    return [k for k in blob_keys(server) if k.endswith("/" + digest)]


def test_identical_bytes_share_storage_and_survive_partial_delete(server_factory):
    s = server_factory()
    c = s.client()
    content = ("dedup me " + uniq()).encode()
    r1 = c.create(name="d1", content=content)
    r2 = c.create(name="d2", directory_path="/other", content=content)
    assert r1["sha256"] == r2["sha256"] == sha(content)
    assert r1["storage_key"] == r2["storage_key"]
    blobs = _blobs_named(s, r1["sha256"])
    assert len(blobs) <= 1, f"identical bytes stored more than once: {blobs}"

    assert c.delete(f"/v1/resources/{r1['id']}").status_code == 204
    got = c.get(f"/v1/resources/{r2['id']}/content")
    assert_ok(got)
    assert got.content == content

    assert c.delete(f"/v1/resources/{r2['id']}").status_code == 204
    assert_error(c.get(f"/v1/resources/{r2['id']}/content"), 404)
    if blobs:
        # the blob file is named after its sha256 (as documented): it must be gone now
        assert _blobs_named(s, r1["sha256"]) == []

    r3 = c.create(name="d3", content=content)
    got = c.get(f"/v1/resources/{r3['id']}/content")
    assert_ok(got)
    assert got.content == content


def test_dedup_on_default_server(client):
    content = ("dedup default " + uniq()).encode()
    r1 = client.create(name="x1", content=content)
    r2 = client.create(name="x2", content=content)
    assert r1["storage_key"] == r2["storage_key"]
    assert client.delete(f"/v1/resources/{r2['id']}").status_code == 204
    assert client.get(f"/v1/resources/{r1['id']}/content").content == content
    assert client.delete(f"/v1/resources/{r1['id']}").status_code == 204
    r3 = client.create(name="x3", content=content)
    assert client.get(f"/v1/resources/{r3['id']}/content").content == content


def test_concurrent_dedup_creates_and_deletes_keep_content(server):
    import threading
    c = server.client()
    content = ("contended " + uniq()).encode()
    keep = c.create(name="keeper", content=content)
    errors = []

    def churn(i):
        try:
            for j in range(5):
                r = c.create_raw(name=f"churn-{i}-{j}", content=content)
                if r.status_code != 200:
                    errors.append(r.text)
                    continue
                d = c.delete(f"/v1/resources/{r.json()['id']}")
                if d.status_code != 204:
                    errors.append(d.text)
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))

    ts = [threading.Thread(target=churn, args=(i,)) for i in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=60)
    assert errors == []
    got = c.get(f"/v1/resources/{keep['id']}/content")
    assert_ok(got)
    assert got.content == content
    assert c.list()["total"] == 1


def test_restart_removes_orphan_blobs(server_factory):
    """Blobs without a row are removed at start: files under the data folder, or objects of
    the bucket (those older than DEPOT_S3_SWEEP_GRACE, here 0)."""
    env = {"DEPOT_S3_SWEEP_GRACE": "0"}
    s1 = server_factory(env=env)
    c = s1.client(account="acct-orphan")
    kept = b"kept bytes " * 2000  # over the inline threshold: a blob of its own
    res = c.create(name="kept", content=kept)
    s1.stop()
    fake_sha = sha(b"orphan bytes " + uniq().encode())
    orphan = res["storage_key"].rsplit("/", 1)[0] + "/" + fake_sha
    if on_s3(s1):
        status, _, _ = s3_request("PUT", f"/{s3_bucket_of(s1.data_dir)}/{orphan}", data=b"orphan")
        assert status == 200
    else:
        blob = s1.data_dir / res["storage_key"]
        if not blob.is_file():
            pytest.skip("storage_key is not a path under the data directory")
        (s1.data_dir / orphan).write_bytes(b"orphan")
    assert orphan in blob_keys(s1)
    s2 = server_factory(data_dir=s1.data_dir, env=env)
    c2 = s2.client(account="acct-orphan")
    assert c2.get(f"/v1/resources/{res['id']}/content").content == kept
    keys = blob_keys(s2)
    assert orphan not in keys, "orphan blob survived a restart"
    assert res["storage_key"] in keys
