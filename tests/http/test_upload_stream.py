"""Streaming uploads (docs/API.md, "Streaming, pending uploads and HTTP semantics" / Uploads):
JSON creates decoded as they arrive, raw PUT .../content, multipart/form-data creates, the
upload size limit (413, also before the body is read), Expect: 100-continue, bounded memory,
and clean-up after a client disconnects mid-upload."""

import base64
import hashlib
import json
import os
import socket
import time

import pytest

from depot_helpers import (race, PDF_BYTES, assert_error, assert_ok, assert_resource_shape,
                           blob_keys, data_url, depotd_path, on_s3, png_bytes, sha, staged_files,
                           token, uniq)

MiB = 1024 * 1024
GiB = 1024 * MiB

UNDER_ASAN = "asan" in str(depotd_path())
skip_rss_under_asan = pytest.mark.skipif(UNDER_ASAN, reason="ASan inflates RSS")
BIG = os.environ.get("DEPOT_TEST_BIG", "1") != "0"


# ------------------------------------------------------------------ helpers

def vmhwm_bytes(server):
    """Peak resident set size of the depotd process (VmHWM)."""
    with open(f"/proc/{server.proc.pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                parts = line.split()
                assert parts[2] == "kB", line
                return int(parts[1]) * 1024
    raise AssertionError("no VmHWM line")


def staging_files(server):
    """Staging files (local blobs) or open spool files (S3): see depot_helpers.staged_files."""
    return staged_files(server)


def blob_files(server):
    return blob_keys(server)


def wait_staging_empty(server, settle=1.0, limit=10.0):
    time.sleep(settle)
    deadline = time.time() + limit
    while True:
        left = staging_files(server)
        if not left:
            return
        if time.time() > deadline:
            raise AssertionError(f"staging files left behind: {left}")
        time.sleep(0.1)


class Raw:
    """One HTTP/1.1 connection over a plain socket, for what requests cannot do."""

    def __init__(self, server, timeout=10):
        self.server = server
        self.sock = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
        self.buf = b""

    def send_head(self, method, path, headers):
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.server.port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed by depotd")
        self.buf += chunk

    def read_head(self):
        """(status, headers with lower-case names) of the next response head."""
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        assert lines[0].startswith("HTTP/1."), lines[0]
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
        return status, headers

    def read_body(self, headers):
        if headers.get("transfer-encoding", "").lower() == "chunked":
            out = b""
            while True:
                while b"\r\n" not in self.buf:
                    self._fill()
                line, self.buf = self.buf.split(b"\r\n", 1)
                n = int(line.split(b";")[0], 16)
                while len(self.buf) < n + 2:
                    self._fill()
                out += self.buf[:n]
                self.buf = self.buf[n + 2:]
                if n == 0:
                    return out
        n = int(headers.get("content-length", "0"))
        while len(self.buf) < n:
            self._fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return body

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def auth(client):
    return {"Authorization": f"Bearer {client.tok}"}


def put_content(client, rid, data, headers=None, **kw):
    return client.req("PUT", f"/v1/resources/{rid}/content", data=data, headers=headers, **kw)


def multipart_create(client, files, data=None, **kw):
    return client.server.request("POST", "/v1/resources", tok=client.tok, data=data,
                                 files=files, **kw)


def get_res(client, rid):
    r = client.get(f"/v1/resources/{rid}")
    assert_ok(r)
    return r.json()


def content_of(client, rid):
    r = client.get(f"/v1/resources/{rid}/content")
    assert_ok(r)
    return r.content


# ------------------------------------------------------------------ JSON escapes

def test_json_create_honours_escaped_slashes_in_base64(client):
    content = bytes(range(256)) * 4 + b"\xff\xfe\xfd" * 100  # plenty of '/' and '+' in base64
    b64 = base64.b64encode(content).decode()
    assert "/" in b64
    body = {"name": uniq("esc"), "directory_path": "/esc/x",
            "content": f"data:application/x-test;base64,{b64}"}
    raw = json.dumps(body).replace("/", "\\/")
    assert "\\/" in raw
    r = client.req("POST", "/v1/resources", data=raw.encode(),
                   headers={"Content-Type": "application/json"})
    assert_ok(r)
    res = r.json()
    assert_resource_shape(res)
    assert res["sha256"] == sha(content)
    assert res["size_bytes"] == len(content)
    assert res["mime_type"] == "application/x-test"
    assert res["directory_path"] == "/esc/x"
    assert content_of(client, res["id"]) == content


def test_json_create_honours_unicode_escapes_in_content(client):
    content = b"AAAAAAAAA" * 50
    b64 = base64.b64encode(content).decode()
    # every 'Q' of the base64 written as \u0051
    raw = ('{"name": "%s", "directory_path": "/", "content": "data:text/plain;base64,%s"}'
           % (uniq("u"), b64.replace("Q", "\\u0051")))
    assert "\\u0051" in raw
    r = client.req("POST", "/v1/resources", data=raw.encode(),
                   headers={"Content-Type": "application/json"})
    assert_ok(r)
    res = r.json()
    assert res["sha256"] == sha(content)
    assert res["size_bytes"] == len(content)


def test_json_create_content_before_name_fields(client):
    """content is not required to be the last member of the object."""
    content = b"content first"
    raw = json.dumps({"content": data_url(content, "text/plain"), "tags": ["t"],
                      "name": "first.txt", "directory_path": "/order"})
    r = client.req("POST", "/v1/resources", data=raw.encode(),
                   headers={"Content-Type": "application/json"})
    assert_ok(r)
    res = r.json()
    assert res["name"] == "first.txt" and res["directory_path"] == "/order"
    assert res["tags"] == ["t"]
    assert res["sha256"] == sha(content)


# ------------------------------------------------------------------ 1 GiB raw PUT

def _block_stream(total, seed, hasher):
    base = hashlib.sha256(seed).digest() * (MiB // 32)
    sent = 0
    i = 0
    while sent < total:
        n = min(MiB, total - sent)
        blk = i.to_bytes(8, "big") + base[8:n]
        hasher.update(blk)
        yield blk
        sent += n
        i += 1


class _FileLike:
    """A read()-able body with a known length, so requests sends Content-Length."""

    def __init__(self, total, seed, hasher):
        self.total = total
        self.gen = _block_stream(total, seed, hasher)
        self.pending = b""
        self.left = total

    def __len__(self):
        return self.left

    def read(self, n=-1):
        if n is None or n < 0:
            n = self.left
        while len(self.pending) < n:
            try:
                self.pending += next(self.gen)
            except StopIteration:
                break
        out, self.pending = self.pending[:n], self.pending[n:]
        self.left -= len(out)
        return out


@pytest.mark.skipif(not BIG, reason="DEPOT_TEST_BIG=0")
@pytest.mark.alarm(240)  # against S3 (s3rver stores ~100 MB/s) it takes about a minute
def test_put_content_1gib_streams_with_bounded_memory(server_factory):
    s = server_factory(env={"DEPOT_MAX_UPLOAD_BYTES": str(2 * GiB)})
    c = s.client()
    res = c.create(content=b"small start", mime="text/plain")
    rid = res["id"]
    t0 = time.time()

    # chunked (generator body)
    h1 = hashlib.sha256()
    r = put_content(c, rid, _block_stream(GiB, b"one", h1),
                    headers={"Content-Type": "application/octet-stream"}, timeout=120)
    assert_ok(r)
    body = r.json()
    assert body["sha256"] == h1.hexdigest()
    assert body["size_bytes"] == GiB
    assert body["version"] == 2
    got = get_res(c, rid)
    assert got["sha256"] == h1.hexdigest() and got["size_bytes"] == GiB
    if not UNDER_ASAN:
        hwm = vmhwm_bytes(s)
        assert hwm < 64 * MiB, f"VmHWM {hwm / MiB:.1f} MiB after a chunked 1 GiB PUT"

    # Content-Length (file-like body)
    h2 = hashlib.sha256()
    fl = _FileLike(GiB, b"two", h2)
    r = put_content(c, rid, fl, headers={"Content-Type": "application/octet-stream"},
                    timeout=120)
    assert_ok(r)
    assert r.request.headers.get("Content-Length") == str(GiB)
    assert "Transfer-Encoding" not in r.request.headers
    body = r.json()
    assert body["sha256"] == h2.hexdigest() != h1.hexdigest()
    assert body["size_bytes"] == GiB
    assert body["version"] == 3
    h = c.head(f"/v1/resources/{rid}/content")
    assert_ok(h)
    assert h.headers["Content-Length"] == str(GiB)
    assert h.headers["ETag"] == f'"{h2.hexdigest()}"'
    # the served bytes are the uploaded ones
    g = c.get(f"/v1/resources/{rid}/content", stream=True, timeout=120)
    assert_ok(g)
    hg = hashlib.sha256()
    n = 0
    for chunk in g.iter_content(4 * MiB):
        hg.update(chunk)
        n += len(chunk)
    assert n == GiB and hg.hexdigest() == h2.hexdigest()
    if not UNDER_ASAN:
        hwm = vmhwm_bytes(s)
        assert hwm < 64 * MiB, f"VmHWM {hwm / MiB:.1f} MiB after a Content-Length 1 GiB PUT"
    if not on_s3(s):  # with S3 the time is the S3 server's
        assert time.time() - t0 < 80
    assert staging_files(s) == []


@skip_rss_under_asan
def test_ten_concurrent_50mib_json_creates_bounded_memory(server_factory):
    s = server_factory()
    c = s.client()
    size = 50 * MiB
    base = os.urandom(size)
    bodies, digests = [], []
    for i in range(10):
        content = i.to_bytes(4, "big") + base[4:]
        digests.append(sha(content))
        bodies.append(json.dumps({
            "name": f"big{i}.bin", "directory_path": "/big",
            "content": "data:application/octet-stream;base64,"
                       + base64.b64encode(content).decode()}).encode())
    del base
    results = race(10, lambda i: c.req("POST", "/v1/resources", data=bodies[i],
                                       headers={"Content-Type": "application/json"}, timeout=120),
                   timeout=120)
    for i, r in enumerate(results):
        assert not isinstance(r, Exception), r
        assert_ok(r)
        assert r.json()["sha256"] == digests[i]
        assert r.json()["size_bytes"] == size
    hwm = vmhwm_bytes(s)
    assert hwm < 128 * MiB, f"VmHWM {hwm / MiB:.1f} MiB after 10 concurrent 50 MiB creates"


# ------------------------------------------------------------------ upload limit (413)

LIMIT = 1000


@pytest.fixture(scope="module")
def small(module_server_factory):
    return module_server_factory(env={"DEPOT_MAX_UPLOAD_BYTES": str(LIMIT)})


def test_limit_json_create_at_limit_ok_over_413(small):
    c = small.client()
    r = c.create_raw(content=b"a" * LIMIT, mime="text/plain")
    assert_ok(r)
    assert r.json()["size_bytes"] == LIMIT
    r = c.create_raw(content=b"a" * (LIMIT + 1), mime="text/plain")
    assert_error(r, 413)
    r = c.create_raw(content=os.urandom(200_000), mime="application/octet-stream")
    assert_error(r, 413)
    assert c.list()["total"] == 1
    assert staging_files(small) == []


def test_limit_raw_put_over_413(small):
    c = small.client()
    res = c.create(content=b"keep me", mime="text/plain")
    rid = res["id"]
    # chunked: the limit is crossed while bytes arrive
    r = put_content(c, rid, iter([b"x" * 600, b"y" * 401]))
    assert_error(r, 413)
    # Content-Length just over
    r = put_content(c, rid, b"z" * (LIMIT + 1))
    assert_error(r, 413)
    got = get_res(c, rid)
    assert got["sha256"] == res["sha256"] and got["version"] == 1
    assert content_of(c, rid) == b"keep me"
    # at the limit is fine
    r = put_content(c, rid, iter([b"x" * 600, b"y" * 400]))
    assert_ok(r)
    assert r.json()["size_bytes"] == LIMIT
    assert staging_files(small) == []


def test_limit_multipart_over_413(small):
    c = small.client()
    r = multipart_create(c, files={"file": ("big.bin", b"q" * (LIMIT + 1), "text/plain")},
                         data={"directory_path": "/mp"})
    assert_error(r, 413)
    r = multipart_create(c, files={"file": ("ok.bin", b"q" * LIMIT, "text/plain")},
                         data={"directory_path": "/mp"})
    assert_ok(r)
    assert r.json()["size_bytes"] == LIMIT
    assert c.list()["total"] == 1
    assert staging_files(small) == []


def _huge_length_413_promptly(server, method, path, headers):
    raw = Raw(server, timeout=5)
    try:
        t0 = time.time()
        h = dict(headers)
        h["Content-Length"] = str(10 ** 12)
        raw.send_head(method, path, h)
        status, rh = raw.read_head()  # no body sent: must not wait for it
        assert status == 413, (status, rh)
        assert time.time() - t0 < 5
        body = raw.read_body(rh)
        assert isinstance(json.loads(body).get("error"), str)
    finally:
        raw.close()


def test_huge_content_length_put_is_413_before_body(small):
    c = small.client()
    rid = c.create()["id"]
    _huge_length_413_promptly(small, "PUT", f"/v1/resources/{rid}/content",
                              {**auth(c), "Content-Type": "application/octet-stream"})
    assert get_res(c, rid)["version"] == 1


def test_huge_content_length_json_create_is_413_before_body(small):
    c = small.client()
    _huge_length_413_promptly(small, "POST", "/v1/resources",
                              {**auth(c), "Content-Type": "application/json"})
    assert c.list()["total"] == 0


def test_huge_content_length_multipart_create_is_413_before_body(small):
    c = small.client()
    _huge_length_413_promptly(small, "POST", "/v1/resources",
                              {**auth(c), "Content-Type": "multipart/form-data; boundary=XyZ"})
    assert c.list()["total"] == 0


def _chunk(data):
    return b"%x\r\n" % len(data) + data + b"\r\n"


def _413_while_sending(server, method, path, headers, first, more):
    """Send `first`, then keep sending `more` (never finishing the body); a 413 must arrive
    although the request is incomplete."""
    raw = Raw(server, timeout=10)
    try:
        raw.send_head(method, path, headers)
        chunked = headers.get("Transfer-Encoding") == "chunked"
        raw.send(_chunk(first) if chunked else first)
        budget = None if chunked else int(headers["Content-Length"]) - len(first) - 1
        t0 = time.time()
        raw.sock.settimeout(0.2)
        while True:
            try:
                status, rh = raw.read_head()
                break
            except socket.timeout:
                pass
            except EOFError:
                raise AssertionError("connection closed without a response")
            assert time.time() - t0 < 8, "no answer while the body is still arriving"
            if budget is not None:
                if budget < len(more):
                    continue  # never complete the body
                budget -= len(more)
            try:
                raw.send(_chunk(more) if chunked else more)
            except (BrokenPipeError, ConnectionResetError):
                raw.sock.settimeout(5)
                status, rh = raw.read_head()
                break
        assert status == 413, (status, rh)
    finally:
        raw.close()


JSON_PREFIX = ('{"name": "x", "directory_path": "/", '
               '"content": "data:application/octet-stream;base64,').encode()


def test_json_create_413_as_soon_as_limit_crossed_chunked(small):
    c = small.client()
    prefix = JSON_PREFIX
    more = base64.b64encode(b"\0" * 24000)
    _413_while_sending(small, "POST", "/v1/resources",
                       {**auth(c), "Content-Type": "application/json",
                        "Transfer-Encoding": "chunked"}, prefix + more, more)
    assert c.list()["total"] == 0
    wait_staging_empty(small, settle=0.2)


def test_json_create_413_as_soon_as_limit_crossed_content_length(small):
    c = small.client()
    prefix = JSON_PREFIX
    more = base64.b64encode(b"\0" * 24000)
    # Content-Length within the body limit, but the decoded bytes cross the upload limit
    _413_while_sending(small, "POST", "/v1/resources",
                       {**auth(c), "Content-Type": "application/json",
                        "Content-Length": "1000000"}, prefix + more, more)
    assert c.list()["total"] == 0
    wait_staging_empty(small, settle=0.2)


def _413_before_body_end(server, method, path, headers, first, total):
    """Send a chunked body fast, up to `total` bytes, never terminating it: the 413 must
    arrive before then (depotd need not wait for the whole body)."""
    raw = Raw(server, timeout=10)
    try:
        raw.send_head(method, path, headers)
        raw.send(_chunk(first))
        block = _chunk(b"b" * (256 * 1024))
        sent = len(first)
        raw.sock.settimeout(0.005)
        status = None
        while sent < total:
            try:
                status, rh = raw.read_head()
                break
            except socket.timeout:
                pass
            try:
                raw.send(block)
                sent += 256 * 1024
            except (BrokenPipeError, ConnectionResetError):
                break
        if status is None:
            raw.sock.settimeout(5)
            status, rh = raw.read_head()
        assert status == 413, (status, rh)
        return sent
    finally:
        raw.close()


def test_raw_put_413_before_an_endless_body_ends(small):
    c = small.client()
    rid = c.create(content=b"orig")["id"]
    _413_before_body_end(small, "PUT", f"/v1/resources/{rid}/content",
                         {**auth(c), "Content-Type": "application/octet-stream",
                          "Transfer-Encoding": "chunked"}, b"a" * 3000, 256 * MiB)
    assert content_of(c, rid) == b"orig"
    wait_staging_empty(small, settle=0.2)


def test_json_create_413_before_an_endless_body_ends(small):
    c = small.client()
    _413_before_body_end(small, "POST", "/v1/resources",
                         {**auth(c), "Content-Type": "application/json",
                          "Transfer-Encoding": "chunked"},
                         JSON_PREFIX + base64.b64encode(b"\0" * 3000), 256 * MiB)
    assert c.list()["total"] == 0
    wait_staging_empty(small, settle=0.2)


def test_raw_put_413_as_soon_as_limit_crossed(small):
    c = small.client()
    rid = c.create(content=b"orig")["id"]
    _413_while_sending(small, "PUT", f"/v1/resources/{rid}/content",
                       {**auth(c), "Content-Type": "application/octet-stream",
                        "Transfer-Encoding": "chunked"}, b"a" * 3000, b"b" * 32000)
    assert content_of(c, rid) == b"orig"
    wait_staging_empty(small, settle=0.2)


def test_multipart_413_as_soon_as_limit_crossed(small):
    c = small.client()
    b = "----depotboundary413"
    head = (f"--{b}\r\nContent-Disposition: form-data; name=\"directory_path\"\r\n\r\n/x\r\n"
            f"--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f.bin\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode()
    _413_while_sending(small, "POST", "/v1/resources",
                       {**auth(c), "Content-Type": f"multipart/form-data; boundary={b}",
                        "Transfer-Encoding": "chunked"}, head + b"m" * 3000, b"m" * 32000)
    assert c.list()["total"] == 0
    wait_staging_empty(small, settle=0.2)


def test_json_rest_over_max_json_bytes_is_413(server_factory):
    s = server_factory(env={"DEPOT_MAX_JSON_BYTES": "4096"})
    c = s.client()
    # large content is not counted against the JSON limit
    big = os.urandom(100_000)
    r = c.create_raw(content=big, mime="application/x-big", metadata={"k": "v"})
    assert_ok(r)
    assert r.json()["sha256"] == sha(big)
    # the rest of the object over the limit (metadata well under its own 64 KiB limit)
    r = c.create_raw(content=b"small", metadata={"pad": "p" * 8000})
    assert_error(r, 413)
    assert c.list()["total"] == 1


def test_huge_content_length_on_default_limit_is_413(client):
    rid = client.create()["id"]
    _huge_length_413_promptly(client.server, "PUT", f"/v1/resources/{rid}/content",
                              {**auth(client), "Content-Type": "application/octet-stream"})


# ------------------------------------------------------------------ Expect: 100-continue

def test_expect_continue_acceptable_put_gets_100_then_200(client):
    rid = client.create(content=b"before")["id"]
    body = b"after 100"
    raw = Raw(client.server)
    try:
        raw.send_head("PUT", f"/v1/resources/{rid}/content",
                      {**auth(client), "Content-Type": "text/plain",
                       "Content-Length": str(len(body)), "Expect": "100-continue"})
        status, _ = raw.read_head()
        assert status == 100
        raw.send(body)
        status, h = raw.read_head()
        assert status == 200
        res = json.loads(raw.read_body(h))
        assert res["sha256"] == sha(body) and res["size_bytes"] == len(body)
    finally:
        raw.close()
    assert content_of(client, rid) == body


def test_expect_continue_json_create_gets_100_then_200(client):
    content = b"expect create"
    body = json.dumps({"name": uniq(), "directory_path": "/",
                       "content": data_url(content, "text/plain")}).encode()
    raw = Raw(client.server)
    try:
        raw.send_head("POST", "/v1/resources",
                      {**auth(client), "Content-Type": "application/json",
                       "Content-Length": str(len(body)), "Expect": "100-continue"})
        status, _ = raw.read_head()
        assert status == 100
        raw.send(body)
        status, h = raw.read_head()
        assert status == 200
        assert json.loads(raw.read_body(h))["sha256"] == sha(content)
    finally:
        raw.close()


def _expect_refused(server, method, path, headers, want):
    raw = Raw(server, timeout=5)
    try:
        h = dict(headers)
        h.setdefault("Content-Length", "10")
        h["Expect"] = "100-continue"
        raw.send_head(method, path, h)
        status, rh = raw.read_head()  # body never sent
        assert status == want, f"expected {want} without a 100 first, got {status}"
        return status, rh
    finally:
        raw.close()


def test_expect_continue_unauthorized_gets_401_without_100(client):
    rid = client.create()["id"]
    _, h = _expect_refused(client.server, "PUT", f"/v1/resources/{rid}/content",
                           {"Content-Type": "text/plain"}, 401)
    assert h.get("www-authenticate", "").startswith("Bearer")
    _expect_refused(client.server, "POST", "/v1/resources",
                    {"Content-Type": "application/json"}, 401)
    _expect_refused(client.server, "PUT", f"/v1/resources/{rid}/content",
                    {"Content-Type": "text/plain", "Authorization": "Bearer not.a.jwt"}, 401)
    assert get_res(client, rid)["version"] == 1


def test_expect_continue_missing_scope_gets_403_without_100(server):
    writer = server.client()
    rid = writer.create()["id"]
    reader_tok = token(writer.account, scope="resources:read")
    _expect_refused(server, "PUT", f"/v1/resources/{rid}/content",
                    {"Content-Type": "text/plain", "Authorization": f"Bearer {reader_tok}"},
                    403)


def test_expect_continue_on_upload_url(client):
    r = client.post("/v1/resources", {"name": uniq(), "directory_path": "/",
                                      "upload": "pending"})
    assert_ok(r)
    url = r.json()["upload_url"]
    path = url.split(f"127.0.0.1:{client.server.port}", 1)[1]
    assert path.startswith("/v1/uploads/")
    bad = path[:-1] + ("0" if path[-1] != "0" else "1")
    _expect_refused(client.server, "PUT", bad, {"Content-Type": "text/plain"}, 403)
    raw = Raw(client.server)
    try:
        raw.send_head("PUT", path, {"Content-Type": "text/plain", "Content-Length": "5",
                                    "Expect": "100-continue"})
        status, _ = raw.read_head()
        assert status == 100
        raw.send(b"hello")
        status, h = raw.read_head()
        assert status == 200
        assert json.loads(raw.read_body(h))["sha256"] == sha(b"hello")
    finally:
        raw.close()


def test_expect_continue_unknown_resource_gets_404_without_100(client):
    _expect_refused(client.server, "PUT",
                    "/v1/resources/00000000-0000-4000-8000-000000000000/content",
                    {**auth(client), "Content-Type": "text/plain"}, 404)


def test_expect_continue_too_large_gets_413_without_100(small):
    c = small.client()
    rid = c.create()["id"]
    _expect_refused(small, "PUT", f"/v1/resources/{rid}/content",
                    {**auth(c), "Content-Type": "text/plain",
                     "Content-Length": str(LIMIT + 1)}, 413)


# ------------------------------------------------------------------ multipart creates

def test_multipart_create_all_fields(client):
    content = b"a,b\n1,2\n"
    r = multipart_create(client,
                         files={"file": ("data.csv", content, "text/csv")},
                         data={"name": "table.csv", "directory_path": "/mp/one/",
                               "tags": ["zeta", "beta,alpha"],
                               "metadata": json.dumps({"k": "v", "n": 2})})
    assert_ok(r)
    res = r.json()
    assert_resource_shape(res)
    assert res["name"] == "table.csv"
    assert res["directory_path"] == "/mp/one"
    assert res["tags"] == ["alpha", "beta", "zeta"]
    assert res["metadata"] == {"k": "v", "n": 2}
    assert res["mime_type"] == "text/csv"
    assert res["sha256"] == sha(content)
    assert res["size_bytes"] == len(content)
    assert res["status"] == "uploaded"
    assert res["version"] == 1
    assert res["account_id"] == client.account
    assert res["created_by"] == "user1"
    assert content_of(client, res["id"]) == content
    assert get_res(client, res["id"]) == res


def test_multipart_filename_is_default_name(client):
    r = multipart_create(client, files={"file": ("report 1.txt", b"hi", "text/plain")},
                         data={"directory_path": "/mp"})
    assert_ok(r)
    res = r.json()
    assert res["name"] == "report 1.txt"
    assert res["tags"] == [] and res["metadata"] is None


def test_multipart_octet_stream_part_is_sniffed(client):
    r = multipart_create(client,
                         files={"file": ("pic", png_bytes(), "application/octet-stream")},
                         data={"directory_path": "/mp"})
    assert_ok(r)
    assert r.json()["mime_type"] == "image/png"
    # a part without Content-Type is sniffed as well
    r = multipart_create(client, files={"file": ("doc", PDF_BYTES)},
                         data={"directory_path": "/mp"})
    assert_ok(r)
    assert r.json()["mime_type"] == "application/pdf"


def test_multipart_unknown_parts_ignored(client):
    r = multipart_create(client, files={"file": ("u.txt", b"u", "text/plain")},
                         data={"directory_path": "/mp", "colour": "blue"})
    assert_ok(r)
    assert r.json()["name"] == "u.txt"


def test_multipart_missing_file_part_is_400(client):
    r = multipart_create(client, files={"other": ("x.txt", b"x", "text/plain")},
                         data={"name": "x.txt", "directory_path": "/mp"})
    assert_error(r, 400)
    assert client.list()["total"] == 0


def test_multipart_bad_metadata_is_400(client):
    for bad in ("{not json", "[1, 2]", '"str"'):
        r = multipart_create(client, files={"file": ("m.txt", b"m", "text/plain")},
                             data={"directory_path": "/mp", "metadata": bad})
        assert_error(r, 400)
    assert client.list()["total"] == 0


def test_multipart_missing_directory_path_is_400(client):
    r = multipart_create(client, files={"file": ("m.txt", b"m", "text/plain")},
                         data={"name": "m.txt"})
    assert_error(r, 400)


def test_multipart_name_conflict_is_409(client):
    files = {"file": ("same.txt", b"1", "text/plain")}
    assert_ok(multipart_create(client, files=files, data={"directory_path": "/c"}))
    files = {"file": ("same.txt", b"2", "text/plain")}
    assert_error(multipart_create(client, files=files, data={"directory_path": "/c"}), 409)


# ------------------------------------------------------------------ PUT content

def _blob_paths_with(server, digest):
    return [k for k in blob_keys(server) if k.endswith("/" + digest)]


def test_put_content_replaces_bytes_sha_mime_and_version(client):
    old = b"old bytes " + uniq().encode() + b"." * 20000  # over the inline threshold: a file
    res = client.create(content=old, mime="text/plain")
    rid = res["id"]
    assert res["version"] == 1
    assert _blob_paths_with(client.server, sha(old))
    r = put_content(client, rid, PDF_BYTES, headers={"Content-Type": "application/octet-stream"})
    assert_ok(r)
    new = r.json()
    assert_resource_shape(new)
    assert new["id"] == rid
    assert new["sha256"] == sha(PDF_BYTES)
    assert new["size_bytes"] == len(PDF_BYTES)
    assert new["mime_type"] == "application/pdf"
    assert new["version"] == 2
    assert new["name"] == res["name"] and new["created_at"] == res["created_at"]
    assert new["updated_at"] >= res["updated_at"]
    assert get_res(client, rid) == new
    g = client.get(f"/v1/resources/{rid}/content")
    assert_ok(g)
    assert g.content == PDF_BYTES
    assert g.headers["ETag"] == f'"{sha(PDF_BYTES)}"'
    assert g.headers["Content-Type"] == "application/pdf"
    # old blob released (nothing else in this account refers to it)
    assert _blob_paths_with(client.server, sha(old)) == []

    # Content-Type of the request becomes the mime_type
    r = put_content(client, rid, b"x,y\n", headers={"Content-Type": "text/csv"})
    assert_ok(r)
    assert r.json()["mime_type"] == "text/csv"
    assert r.json()["version"] == 3
    # no Content-Type: sniffed
    r = put_content(client, rid, png_bytes())
    assert_ok(r)
    assert r.json()["mime_type"] == "image/png"
    assert r.json()["version"] == 4
    assert content_of(client, rid) == png_bytes()


def test_put_content_keeps_shared_blob(client):
    shared = b"shared " + uniq().encode() + b"." * 20000  # a file, not inline
    a = client.create(content=shared)
    b = client.create(content=shared)
    assert_ok(put_content(client, a["id"], b"different"))
    assert _blob_paths_with(client.server, sha(shared))
    assert content_of(client, b["id"]) == shared


def test_put_content_zero_bytes(client):
    rid = client.create(content=b"nonempty")["id"]
    r = put_content(client, rid, b"", headers={"Content-Type": "text/plain"})
    assert_ok(r)
    assert r.json()["size_bytes"] == 0
    assert r.json()["sha256"] == sha(b"")
    assert content_of(client, rid) == b""


def test_put_content_unknown_other_account_and_scope(server):
    a = server.client()
    b = server.client()
    rid = a.create(content=b"mine")["id"]
    assert_error(put_content(b, rid, b"theirs"), 404)
    assert_error(put_content(a, "00000000-0000-4000-8000-000000000000", b"x"), 404)
    reader = server.client(account=a.account, scope="resources:read")
    assert_error(put_content(reader, rid, b"x"), 403)
    r = server.request("PUT", f"/v1/resources/{rid}/content", data=b"x")
    assert_error(r, 401)
    assert content_of(a, rid) == b"mine"


# ------------------------------------------------------------------ disconnect mid-upload

def _disconnect_after(server, method, path, headers, first_bytes):
    raw = Raw(server)
    h = dict(headers)
    h["Content-Length"] = str(10 * 1000 * 1000)
    raw.send_head(method, path, h)
    raw.send(first_bytes)
    # the bytes stream to the blob store: a staging file exists while they arrive
    deadline = time.time() + 3
    while not staging_files(server) and time.time() < deadline:
        time.sleep(0.05)
    assert staging_files(server), "no staging file while an upload is in progress"
    time.sleep(0.3)
    raw.close()


def test_disconnect_mid_json_create_leaves_nothing(server_factory):
    s = server_factory()
    c = s.client()
    before = blob_files(s)
    prefix = ('{"name": "dc.bin", "directory_path": "/", '
              '"content": "data:application/octet-stream;base64,').encode()
    _disconnect_after(s, "POST", "/v1/resources",
                      {**auth(c), "Content-Type": "application/json"},
                      prefix + base64.b64encode(os.urandom(MiB)))
    wait_staging_empty(s)
    assert c.list()["total"] == 0
    assert blob_files(s) == before
    # the name is still free
    assert_ok(c.create_raw(name="dc.bin", directory_path="/"))


def test_disconnect_mid_multipart_create_leaves_nothing(server_factory):
    s = server_factory()
    c = s.client()
    before = blob_files(s)
    b = "----depotboundary7"
    head = (f"--{b}\r\nContent-Disposition: form-data; name=\"directory_path\"\r\n\r\n/dc\r\n"
            f"--{b}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\ndc.bin\r\n"
            f"--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"dc.bin\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode()
    _disconnect_after(s, "POST", "/v1/resources",
                      {**auth(c), "Content-Type": f"multipart/form-data; boundary={b}"},
                      head + os.urandom(MiB))
    wait_staging_empty(s)
    assert c.list()["total"] == 0
    assert blob_files(s) == before


def test_disconnect_mid_put_content_keeps_old_content(server_factory):
    s = server_factory()
    c = s.client()
    res = c.create(content=b"the old content", mime="text/plain")
    before = blob_files(s)
    _disconnect_after(s, "PUT", f"/v1/resources/{res['id']}/content",
                      {**auth(c), "Content-Type": "application/octet-stream"},
                      os.urandom(MiB))
    wait_staging_empty(s)
    assert get_res(c, res["id"]) == res
    assert content_of(c, res["id"]) == b"the old content"
    assert blob_files(s) == before
    assert c.list()["total"] == 1


def test_put_content_with_unusable_content_type_is_sniffed(client):
    rid = client.create(content=b"old")["id"]
    r = put_content(client, rid, png_bytes(), headers={"Content-Type": 'image/"png"'})
    assert_ok(r)
    assert r.json()["mime_type"] == "image/png"
    g = client.get(f"/v1/resources/{rid}/content")
    assert g.headers["Content-Type"] == "image/png"
