"""The S3 blob store (DEPOT_BLOBS=s3://...), against the s3rver that scripts/test.sh starts for
its "s3" pass (DEPOT_TEST_S3_ENDPOINT); skipped without one. The objects are checked through the
S3 API directly (the curl command's --aws-sigv4), never through depotd."""

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest
import requests

from depot_helpers import (REPO_ROOT, ServerError, assert_error, assert_ok, blob_keys,
                           depotd_path, s3_bucket_of, s3_credentials, s3_endpoint, s3_list,
                           s3_make_bucket, s3_request, sha, staged_files, uniq)

pytestmark = pytest.mark.skipif(s3_endpoint() is None, reason="DEPOT_TEST_S3_ENDPOINT is unset")

MiB = 1024 * 1024
UNDER_ASAN = "asan" in str(depotd_path())
BIG = b"over the inline threshold " * 1000  # ~26 KiB: an object of its own


def vmhwm_bytes(server):
    with open(f"/proc/{server.proc.pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM line")


def raw_put(client, rid, data):
    return client.req("PUT", f"/v1/resources/{rid}/content", data=data,
                      headers={"Content-Type": "application/octet-stream"}, timeout=120)


def s3_object(server, key):
    status, body, _ = s3_request("GET", f"/{s3_bucket_of(server.data_dir)}/{key}")
    assert status == 200, f"GET {key} from S3: {status} {body[:200]!r}"
    return body


# ------------------------------------------------------------------ 1. what the row names

def test_storage_bucket_and_key_name_the_real_object(server):
    c = server.client()
    data = BIG + uniq().encode()
    res = c.create(content=data)
    assert res["storage_bucket"] == s3_bucket_of(server.data_dir)
    assert res["storage_key"].startswith("blobs/") and res["storage_key"].endswith(sha(data))
    assert s3_object(server, res["storage_key"]) == data


# ------------------------------------------------------------------ 2. multipart, ranges, memory

def test_large_put_goes_multipart_streams_back_and_ranges_with_bounded_memory(server_factory):
    s = server_factory(env={"DEPOT_S3_MULTIPART_THRESHOLD": str(8 * MiB),
                            "DEPOT_S3_PART_SIZE": str(5 * MiB),
                            "DEPOT_MAX_UPLOAD_BYTES": str(64 * MiB)})
    c = s.client()
    rid = c.create(content=b"small first")["id"]
    data = os.urandom(40 * MiB)
    r = raw_put(c, rid, data)
    assert_ok(r)
    res = r.json()
    assert res["size_bytes"] == len(data) and res["sha256"] == sha(data)
    # 40 MiB in 5 MiB parts: eight UploadPart requests, then one object
    assert f"s3: uploaded {res['storage_key']} in 8 parts" in s.log_text(limit=10 ** 6)
    assert hashlib.sha256(s3_object(s, res["storage_key"])).hexdigest() == sha(data)

    g = c.get(f"/v1/resources/{rid}/content", stream=True, timeout=120)
    assert_ok(g)
    assert g.headers["Content-Length"] == str(len(data))
    h = hashlib.sha256()
    for chunk in g.iter_content(MiB):
        h.update(chunk)
    assert h.hexdigest() == sha(data)

    for rng, lo, hi in (("bytes=12345678-23456789", 12345678, 23456790),
                        ("bytes=-1000", len(data) - 1000, len(data)),
                        ("bytes=41000000-", 41000000, len(data))):
        p = c.get(f"/v1/resources/{rid}/content", headers={"Range": rng})
        assert p.status_code == 206, (rng, p.status_code, p.text[:200])
        assert p.headers["Content-Range"] == f"bytes {lo}-{hi - 1}/{len(data)}"
        assert p.content == data[lo:hi], rng

    # a client that goes away mid-download leaves the server serving
    g = c.get(f"/v1/resources/{rid}/content", stream=True, timeout=60)
    next(g.iter_content(MiB))
    g.close()
    assert c.get(f"/v1/resources/{rid}/content", headers={"Range": "bytes=0-9"}).content \
        == data[:10]
    if not UNDER_ASAN:
        # the same bound as the local-file RSS tests: neither the upload nor the downloads
        # held the content
        hwm = vmhwm_bytes(s)
        assert hwm < 64 * MiB, f"VmHWM {hwm / MiB:.1f} MiB after a 40 MiB upload and reads"
    assert staged_files(s) == []


# ------------------------------------------------------------------ 3. S3 goes away

class PrivateS3:
    """An s3rver of this test's own (scripts/s3.sh), so stopping it disturbs no other test."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="depot-s3-own-")
        self.endpoint = None

    def start(self):
        out = subprocess.run([str(REPO_ROOT / "scripts/s3.sh"), "start", self.dir],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        endpoint = out.stdout.strip().splitlines()[-1]
        assert self.endpoint in (None, endpoint), "s3rver came back on another port"
        self.endpoint = endpoint

    def stop(self):
        subprocess.run([str(REPO_ROOT / "scripts/s3.sh"), "stop", self.dir], timeout=60)

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def private_s3():
    p = PrivateS3()
    p.start()
    yield p
    p.close()


SECRET_KEY = "never-in-a-log-0123456789"  # s3rver checks the access key id, not signatures


def s3_env(endpoint, bucket, **extra):
    key, _ = s3_credentials()
    env = {"DEPOT_BLOBS": f"s3://{bucket}?endpoint={endpoint}&region=us-east-1",
           "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
           "DEPOT_S3_CONNECT_TIMEOUT": "2", "DEPOT_S3_STALL_TIMEOUT": "5"}
    env.update(extra)
    return env


@pytest.mark.alarm(120)
def test_s3_down_fails_requests_cleanly_and_recovers(server_factory, private_s3):
    bucket = "t-" + uniq("outage")[:20]
    s3_make_bucket(bucket, private_s3.endpoint)
    s = server_factory(env=s3_env(private_s3.endpoint, bucket))
    c = s.client()
    kept = c.create(name="kept", content=BIG + b"kept")
    private_s3.stop()

    # creates: 503 with a JSON error, and no row
    for _ in range(2):
        t0 = time.time()
        r = c.create_raw(name="lost", content=BIG + b"lost")
        body = assert_error(r, 503)
        assert "unavailable" in body["error"]
        assert time.time() - t0 < 10
    r = c.req("POST", "/v1/resources", files={"file": ("f.bin", BIG, "application/pdf")},
              data={"directory_path": "/m"})
    assert_error(r, 503)
    assert c.list()["total"] == 1
    # replacing content fails the same way and keeps the old bytes' row
    assert_error(raw_put(c, kept["id"], BIG + b"new"), 503)
    # reads of stored bytes: a JSON 503 before any header (the object is opened first)
    assert_error(c.get(f"/v1/resources/{kept['id']}/content"), 503)
    assert c.head(f"/v1/resources/{kept['id']}/content").status_code == 503
    # what needs no blob still works
    assert_ok(c.get(f"/v1/resources/{kept['id']}"))
    assert c.get(f"/v1/resources/{kept['id']}").json()["version"] == 1
    assert_ok(s.request("GET", "/healthz"))
    small = c.create(name="small", content=b"inline bytes need no S3")
    assert c.get(f"/v1/resources/{small['id']}/content").content == b"inline bytes need no S3"

    log = s.log_text(limit=10 ** 6)
    # the create's first S3 call (is the object there already?) is the one that failed
    assert re.search(r"POST /v1/resources: S3 existence check of blobs/\S+ failed", log)
    assert SECRET_KEY not in log

    private_s3.start()  # same folder, same port, same objects
    assert c.get(f"/v1/resources/{kept['id']}/content").content == BIG + b"kept"
    again = c.create(name="lost", content=BIG + b"lost")
    assert c.get(f"/v1/resources/{again['id']}/content").content == BIG + b"lost"
    assert c.list()["total"] == 3


@pytest.mark.alarm(120)
def test_s3_dying_mid_download_cuts_the_connection_short(server_factory, private_s3):
    """Once the status line is out, a failure can only be told by closing the connection
    before Content-Length bytes: the client sees an incomplete body, never wrong bytes."""
    bucket = "t-" + uniq("middl")[:20]
    s3_make_bucket(bucket, private_s3.endpoint)
    s = server_factory(env=s3_env(private_s3.endpoint, bucket))
    c = s.client()
    rid = c.create(content=b"x")["id"]
    data = os.urandom(40 * MiB)
    assert_ok(raw_put(c, rid, data))
    g = c.get(f"/v1/resources/{rid}/content", stream=True, timeout=30)
    assert g.status_code == 200 and g.headers["Content-Length"] == str(len(data))
    chunks = g.iter_content(64 * 1024)
    got = next(chunks)
    private_s3.stop()
    try:
        for chunk in chunks:
            got += chunk
    except requests.exceptions.RequestException:
        pass  # urllib3 2 raises on a short body; 1.26 (Debian 12) just ends it
    assert len(got) < len(data) and data.startswith(got)
    assert "s3: S3 download of blobs/" in s.log_text(limit=10 ** 6)
    assert_ok(s.request("GET", "/healthz"))
    private_s3.start()
    g = c.get(f"/v1/resources/{rid}/content", timeout=60)
    assert_ok(g)
    assert g.content == data


def test_access_denied_at_start_is_a_clear_error_without_the_secret(server_factory,
                                                                    private_s3):
    bucket = "t-" + uniq("denied")[:20]
    s3_make_bucket(bucket, private_s3.endpoint)
    s = server_factory(env=s3_env(private_s3.endpoint, bucket, AWS_ACCESS_KEY_ID="NOT-A-KEY"),
                       start=False)
    with pytest.raises(ServerError):
        s.start()
    log = s.log_text()
    assert "access denied" in log and "403" in log
    assert SECRET_KEY not in log and "NOT-A-KEY" not in log


def test_missing_bucket_at_start_is_a_clear_error(server_factory, private_s3):
    s = server_factory(env=s3_env(private_s3.endpoint, "no-such-bucket-here"), start=False)
    with pytest.raises(ServerError):
        s.start()
    assert "NoSuchBucket" in s.log_text()


# ------------------------------------------------------------------ 4. delete and sharing

def test_delete_removes_the_object_only_when_no_resource_refers_to_it(server):
    c = server.client()
    data = BIG + uniq().encode()
    r1 = c.create(name="one", content=data)
    r2 = c.create(name="two", directory_path="/else", content=data)
    key = r1["storage_key"]
    assert r2["storage_key"] == key
    assert key in blob_keys(server)
    assert c.delete(f"/v1/resources/{r1['id']}").status_code == 204
    assert key in blob_keys(server), "the object went while another resource refers to it"
    assert c.get(f"/v1/resources/{r2['id']}/content").content == data
    assert c.delete(f"/v1/resources/{r2['id']}").status_code == 204
    assert key not in blob_keys(server)
    status, _, _ = s3_request("HEAD", f"/{s3_bucket_of(server.data_dir)}/{key}")
    assert status == 404


def test_replaced_content_removes_the_old_object(server):
    c = server.client()
    old, new = BIG + b"old " + uniq().encode(), BIG + b"new " + uniq().encode()
    res = c.create(content=old)
    assert_ok(raw_put(c, res["id"], new))
    keys = blob_keys(server)
    assert res["storage_key"] not in keys
    assert res["storage_key"].rsplit("/", 1)[0] + "/" + sha(new) in keys


# ------------------------------------------------------------------ start-up sweep

def test_sweep_spares_young_unreferenced_objects(server_factory):
    """Several depotd may share a bucket: an object without a row younger than the grace
    period may be another one's create in flight, so the start-up sweep keeps it."""
    s1 = server_factory()
    c = s1.client()
    res = c.create(content=BIG + uniq().encode())
    s1.stop()
    young = res["storage_key"].rsplit("/", 1)[0] + "/" + sha(uniq().encode())
    status, _, _ = s3_request("PUT", f"/{s3_bucket_of(s1.data_dir)}/{young}", data=b"young")
    assert status == 200
    s2 = server_factory(data_dir=s1.data_dir)  # default grace: an hour
    assert young in blob_keys(s2)
    s2.stop()
    s3 = server_factory(data_dir=s1.data_dir, env={"DEPOT_S3_SWEEP_GRACE": "0"})
    keys = blob_keys(s3)
    assert young not in keys and res["storage_key"] in keys
    assert "1 orphan blobs" in s3.log_text()


def s3_put_many(bucket, keys, data):
    """PUTs data to every key with one curl process (one connection, a config file of URLs)."""
    key, secret = s3_credentials()
    with tempfile.TemporaryDirectory(prefix="depot-s3-many-") as tmp:
        src, cfg = os.path.join(tmp, "data"), os.path.join(tmp, "urls")
        with open(src, "wb") as f:
            f.write(data)
        with open(cfg, "w") as f:
            for k in keys:
                f.write(f'url = "{s3_endpoint()}/{bucket}/{k}"\nupload-file = "{src}"\n'
                        f'output = "/dev/null"\n')
        out = subprocess.run(["curl", "-s", "-S", "--fail", "--aws-sigv4",
                              "aws:amz:us-east-1:s3", "-u", f"{key}:{secret}",
                              "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", "-K", cfg],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr[-500:]


@pytest.mark.alarm(150)
def test_sweep_reads_every_page_of_a_listing(server_factory):
    """ListObjectsV2 answers at most 1000 keys a page: the sweep follows the continuation
    token (objects put straight into the bucket, 1001 of them, one not a key depot makes)."""
    s1 = server_factory()
    s1.stop()
    bucket = s3_bucket_of(s1.data_dir)
    acct = "blobs/" + "a" * 32 + "/"
    s3_put_many(bucket, [acct + hashlib.sha256(str(i).encode()).hexdigest()
                         for i in range(1000)] + [acct + "not-a-sha256"], b"x")
    assert len(s3_list(bucket)) == 1001
    s2 = server_factory(data_dir=s1.data_dir, env={"DEPOT_S3_SWEEP_GRACE": "0"})
    assert s3_list(bucket) == {acct + "not-a-sha256": 1}  # not depot's shape: left alone
    assert "1000 orphan blobs" in s2.log_text()
