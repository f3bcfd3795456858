"""The S3 blob store against a programmable fake S3 on loopback (no s3rver needed, so this runs
in every pass, ASan included): what depot sends (signed x-amz-content-sha256, Range headers, no
secret), and how it meets what a real S3 can do and s3rver does not — a Range ignored, 403 and
503 mid-run, a redirect, a CompleteMultipartUpload that answers 200 with an <Error>, a stalled
answer."""

import hashlib
import os
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from depot_helpers import assert_error, assert_ok, sha

MiB = 1024 * 1024
KEY_ID = "FAKEKEYID"
SECRET = "fake-secret-never-sent-0123456789"


class FakeS3:
    """Path-style S3 on 127.0.0.1: one bucket "fake", objects in memory. faults maps
    (method, kind) — kind "object", "part", "complete", "list" — to a list of actions taken
    by the next requests of that kind: ("status", code, s3_code), ("redirect",),
    ("stall", seconds), ("error200",)."""

    def __init__(self):
        self.objects = {}
        self.uploads = {}
        self.requests = []   # (method, path, query dict, headers dict)
        self.faults = {}
        self.ignore_range = False
        self.stall_body_after = None  # GET: send this many bytes, then stall
        self.lock = threading.Lock()
        self.closing = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _send(self, code, body=b"", headers=None):
                self.send_response(code)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body and self.command != "HEAD":
                    self.wfile.write(body)

            def _error(self, code, s3_code):
                body = (f"<?xml version=\"1.0\"?><Error><Code>{s3_code}</Code>"
                        f"<Message>fake</Message></Error>").encode()
                self._send(code, body, {"Content-Type": "application/xml"})

            def _handle(self):
                u = urllib.parse.urlsplit(self.path)
                q = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                with fake.lock:
                    fake.requests.append((self.command, u.path, q, dict(self.headers)))
                parts = u.path.lstrip("/").split("/", 1)
                if parts[0] != "fake":
                    return self._error(404, "NoSuchBucket")
                key = parts[1] if len(parts) > 1 else ""
                kind = ("list" if not key else "part" if "partNumber" in q else
                        "complete" if "uploadId" in q and self.command == "POST" else "object")
                with fake.lock:
                    todo = fake.faults.get((self.command, kind))
                    action = todo.pop(0) if todo else None
                if action is not None:
                    if action[0] == "status":
                        return self._error(action[1], action[2])
                    if action[0] == "redirect":
                        return self._send(301, b"", {"Location": "http://127.0.0.1:9/x"})
                    if action[0] == "stall":
                        fake.closing.wait(action[1])
                        return self._error(503, "SlowDown")
                if kind == "list":
                    return self._list()
                if self.command == "PUT" and kind == "part":
                    fake.uploads[q["uploadId"]][int(q["partNumber"])] = body
                    return self._send(200, b"", {"ETag": '"%s"' % hashlib.md5(body).hexdigest()})
                if self.command == "PUT":
                    fake.objects[key] = body
                    return self._send(200, b"", {"ETag": '"x"'})
                if self.command == "POST" and "uploads" in q:
                    uid = "up/%d+id" % len(fake.uploads)  # needs escaping in a query
                    fake.uploads[uid] = {}
                    return self._send(200, (f"<InitiateMultipartUploadResult><UploadId>{uid}"
                                            f"</UploadId></InitiateMultipartUploadResult>")
                                      .encode())
                if self.command == "POST" and kind == "complete":
                    if action is not None and action[0] == "error200":
                        return self._send(200, b"<Error><Code>InternalError</Code></Error>")
                    got = fake.uploads.pop(q["uploadId"])
                    fake.objects[key] = b"".join(got[i] for i in sorted(got))
                    return self._send(200, b"<CompleteMultipartUploadResult/>")
                if self.command == "DELETE":
                    if "uploadId" in q:
                        fake.uploads.pop(q["uploadId"], None)
                    else:
                        fake.objects.pop(key, None)
                    return self._send(204)
                if key not in fake.objects:
                    return self._error(404, "NoSuchKey")
                return self._get(fake.objects[key])

            def _get(self, data):
                rng = self.headers.get("Range")
                if rng and not fake.ignore_range:
                    lo, hi = rng[len("bytes="):].split("-")
                    lo, hi = int(lo), (int(hi) if hi else len(data) - 1)
                    return self._send(206, data[lo:hi + 1],
                                      {"Content-Range": f"bytes {lo}-{hi}/{len(data)}"})
                if fake.stall_body_after is None or self.command == "HEAD":
                    return self._send(200, data)
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[:fake.stall_body_after])
                self.wfile.flush()
                fake.closing.wait(30)
                self.close_connection = True

            def _list(self):
                items = "".join(
                    f"<Contents><Key>{k}</Key><LastModified>2001-01-01T00:00:00.000Z"
                    f"</LastModified><Size>{len(v)}</Size></Contents>"
                    for k, v in sorted(fake.objects.items()))
                return self._send(200, (f"<ListBucketResult><IsTruncated>false</IsTruncated>"
                                        f"{items}</ListBucketResult>").encode())

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def fail(self, method, kind, *actions):
        with self.lock:
            self.faults[(method, kind)] = list(actions)

    def seen(self, method=None, kind_query=None):
        with self.lock:
            return [r for r in self.requests if (method is None or r[0] == method)
                    and (kind_query is None or kind_query in r[2])]

    def close(self):
        self.closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def fake_s3():
    f = FakeS3()
    yield f
    f.close()


def start(server_factory, fake, **env):
    e = {"DEPOT_BLOBS": f"s3://fake?endpoint={fake.endpoint}&region=eu-west-3",
         "AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET,
         "DEPOT_INLINE_MAX_BYTES": "0", "DEPOT_S3_CONNECT_TIMEOUT": "2",
         "DEPOT_S3_STALL_TIMEOUT": "2"}
    e.update({k: str(v) for k, v in env.items()})
    return server_factory(env=e)


def test_every_request_is_signed_with_the_payload_hash_and_never_carries_the_secret(
        server_factory, fake_s3):
    s = start(server_factory, fake_s3)
    c = s.client()
    res = c.create(content=b"signed bytes")
    assert fake_s3.objects[res["storage_key"]] == b"signed bytes"
    assert c.get(f"/v1/resources/{res['id']}/content").content == b"signed bytes"
    assert c.delete(f"/v1/resources/{res['id']}").status_code == 204
    methods = {r[0] for r in fake_s3.requests}
    assert {"GET", "HEAD", "PUT", "DELETE"} <= methods
    for method, path, _, headers in fake_s3.requests:
        auth = headers.get("Authorization", "")
        assert auth.startswith(f"AWS4-HMAC-SHA256 Credential={KEY_ID}/"), (method, auth)
        assert "/eu-west-3/s3/aws4_request" in auth
        signed = auth.split("SignedHeaders=")[1].split(",")[0].split(";")
        assert "x-amz-content-sha256" in signed and "host" in signed, (method, signed)
        assert headers.get("x-amz-content-sha256") == "UNSIGNED-PAYLOAD"
        assert SECRET not in repr(headers)
    assert SECRET not in s.log_text()


def test_a_range_s3_ignores_is_cut_out_of_the_whole_answer(server_factory, fake_s3):
    s = start(server_factory, fake_s3)
    c = s.client()
    data = os.urandom(MiB)
    rid = c.create(content=data)["id"]
    fake_s3.ignore_range = True
    for rng, lo, hi in (("bytes=100-199", 100, 200), ("bytes=-5000", len(data) - 5000,
                                                       len(data)),
                        ("bytes=300000-", 300000, len(data))):  # more than depot buffers
        r = c.get(f"/v1/resources/{rid}/content", headers={"Range": rng})
        assert r.status_code == 206
        assert r.content == data[lo:hi], rng
    asked = [r[3].get("Range") for r in fake_s3.seen("GET") if r[1] != "/fake"]
    assert "bytes=100-199" in asked and f"bytes={len(data) - 5000}-{len(data) - 1}" in asked


@pytest.mark.parametrize("status, s3_code, answer, text", [
    (403, "AccessDenied", 502, "access denied"),
    (503, "SlowDown", 503, "unavailable"),
    (500, "InternalError", 503, "unavailable"),
    (400, "InvalidRequest", 502, "S3 answered 400 InvalidRequest"),
])
def test_a_failed_upload_answers_5xx_and_leaves_no_row(server_factory, fake_s3, status, s3_code,
                                                       answer, text):
    s = start(server_factory, fake_s3)
    c = s.client()
    fake_s3.fail("PUT", "object", ("status", status, s3_code))
    body = assert_error(c.create_raw(name="f", content=b"refused bytes"), answer)
    assert text in body["error"] or text in s.log_text()
    assert c.list()["total"] == 0
    assert fake_s3.objects == {}
    assert_ok(c.create_raw(name="f", content=b"refused bytes"))  # S3 is fine again


def test_reads_map_s3_answers(server_factory, fake_s3):
    s = start(server_factory, fake_s3)
    c = s.client()
    res = c.create(content=b"to be read")
    fake_s3.fail("GET", "object", ("status", 403, "AccessDenied"), ("status", 503, "SlowDown"))
    assert "access denied" in assert_error(c.get(f"/v1/resources/{res['id']}/content"),
                                           502)["error"]
    assert_error(c.get(f"/v1/resources/{res['id']}/content"), 503)
    del fake_s3.objects[res["storage_key"]]
    assert_error(c.get(f"/v1/resources/{res['id']}/content"), 500)  # a row without its blob
    assert "blob of resource" in s.log_text()


def test_redirects_are_not_followed(server_factory, fake_s3):
    s = start(server_factory, fake_s3)
    c = s.client()
    fake_s3.fail("PUT", "object", ("redirect",))
    assert "301" in assert_error(c.create_raw(content=b"moved"), 502)["error"]
    assert c.list()["total"] == 0


def test_multipart_complete_with_an_error_in_a_200_fails_and_aborts(server_factory, fake_s3):
    s = start(server_factory, fake_s3, DEPOT_S3_MULTIPART_THRESHOLD=5 * MiB,
              DEPOT_S3_PART_SIZE=5 * MiB)
    c = s.client()
    data = os.urandom(12 * MiB)
    fake_s3.fail("POST", "complete", ("error200",))
    assert_error(c.create_raw(name="mp", content=data), 503)
    assert c.list()["total"] == 0
    assert len(fake_s3.seen("PUT", "partNumber")) == 3
    aborted = fake_s3.seen("DELETE", "uploadId")
    assert len(aborted) == 1 and aborted[0][2]["uploadId"] == "up/0+id"  # escaped, decoded
    assert fake_s3.uploads == {} and fake_s3.objects == {}
    res = c.create(name="mp", content=data)  # and a clean second try
    assert fake_s3.objects[res["storage_key"]] == data
    assert c.get(f"/v1/resources/{res['id']}/content").content == data


# curl measures speed over its last ~5 seconds: a stall is noticed within that plus the
# stall timeout.
def test_a_stalled_s3_fails_the_request_after_the_stall_timeout(server_factory, fake_s3):
    s = start(server_factory, fake_s3, DEPOT_S3_STALL_TIMEOUT=1)
    c = s.client()
    fake_s3.fail("PUT", "object", ("stall", 60))
    t0 = time.time()
    assert_error(c.create_raw(content=b"stalled"), 503)
    assert time.time() - t0 < 20
    assert "Timeout" in s.log_text() or "timed out" in s.log_text().lower()
    assert c.list()["total"] == 0


def test_a_download_stalled_mid_body_is_cut_after_the_stall_timeout(server_factory, fake_s3):
    s = start(server_factory, fake_s3, DEPOT_S3_STALL_TIMEOUT=1)
    c = s.client()
    data = os.urandom(2 * MiB)
    rid = c.create(content=data)["id"]
    fake_s3.stall_body_after = 100 * 1024
    t0 = time.time()
    got = b""
    try:
        r = c.get(f"/v1/resources/{rid}/content", stream=True, timeout=40)
        assert r.status_code == 200
        for chunk in r.iter_content(64 * 1024):
            got += chunk
    except requests.exceptions.RequestException:
        pass
    assert time.time() - t0 < 20  # the fake would stall for 30 s
    assert len(got) < len(data) and data.startswith(got)
    fake_s3.stall_body_after = None
    assert sha(c.get(f"/v1/resources/{rid}/content").content) == sha(data)
