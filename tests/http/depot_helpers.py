"""Shared helpers for the depot black-box HTTP tests.

Everything here talks to a real depotd process over loopback HTTP. Tokens are
minted with PyJWT (or by hand for the deliberately broken ones), independent of
depot's own JWT code.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
SECRET = "depot-test-secret-0123456789abcdef0123456789abcdef"
TIMEOUT = 30  # every HTTP call made by the tests
START_TIMEOUT = 20  # seconds to wait for /healthz after spawning
STOP_TIMEOUT = 10  # seconds to wait for exit after SIGTERM

SANITIZER_MARKERS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "WARNING: ThreadSanitizer",
    "runtime error:",
)

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
SHA_RE = re.compile(r"^[0-9a-f]{64}$")

RESOURCE_FIELDS = {
    "id", "account_id", "name", "directory_path", "mime_type", "sha256",
    "size_bytes", "original_uri", "external_id", "external_storage_type",
    "storage_bucket", "storage_key", "tags", "metadata", "created_by",
    "created_at", "updated_at",
}


def depotd_path():
    p = Path(os.environ.get("DEPOTD", "build/depotd"))
    if not p.is_absolute():
        p = REPO_ROOT / p
    return p


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# --------------------------------------------------------------------------
# tokens

def token(account, sub="user1", scope=None, exp_delta=3600, alg="HS256", key=SECRET,
          **extra_claims):
    """Mint a JWT. scope=None / sub=None / exp_delta=None omit that claim.
    account=None omits account_id."""
    now = int(time.time())
    claims = {"iat": now}
    if account is not None:
        claims["account_id"] = account
    if sub is not None:
        claims["sub"] = sub
    if scope is not None:
        claims["scope"] = scope
    if exp_delta is not None:
        claims["exp"] = now + exp_delta
    claims.update(extra_claims)
    return jwt.encode(claims, key, algorithm=alg)


def b64url(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def manual_token(header, claims, key=None):
    """Build a JWT by hand. With key, sign HS256 with those raw key bytes
    (PyJWT refuses PEM keys as HMAC secrets, which is exactly the attack)."""
    h = b64url(json.dumps(header, separators=(",", ":")))
    c = b64url(json.dumps(claims, separators=(",", ":")))
    signing_input = f"{h}.{c}".encode()
    if key is None:
        return f"{h}.{c}."
    if isinstance(key, str):
        key = key.encode()
    sig = hmac.new(key, signing_input, hashlib.sha256).digest()
    return f"{h}.{c}.{b64url(sig)}"


def std_claims(account="acct-x", **extra):
    now = int(time.time())
    c = {"account_id": account, "sub": "user1", "iat": now, "exp": now + 3600}
    c.update(extra)
    return c


# --------------------------------------------------------------------------
# content helpers

def data_url(data, mime="application/octet-stream"):
    if isinstance(data, str):
        data = data.encode()
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def sha(data):
    return hashlib.sha256(data).hexdigest()


def png_bytes():
    """A valid 1x1 PNG."""
    def chunk(kind, payload):
        c = struct.pack(">I", len(payload)) + kind + payload
        return c + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    raw = b"\x00\xff\x00\x00"
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


PDF_BYTES = (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
             b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
             b"trailer\n<< /Root 1 0 R >>\n%%EOF\n")


def uniq(prefix="n"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def assert_error(resp, status):
    """Assert an error response: given status, JSON object with string 'error'."""
    assert resp.status_code == status, (
        f"expected {status}, got {resp.status_code}: {resp.text[:500]}")
    try:
        body = resp.json()
    except ValueError:
        raise AssertionError(f"error body is not JSON: {resp.text[:500]!r}")
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], (
        f"error body lacks a string 'error': {body!r}")
    return body


def assert_ok(resp, status=200):
    assert resp.status_code == status, (
        f"expected {status}, got {resp.status_code}: {resp.text[:500]}")
    return resp


def assert_resource_shape(r):
    assert isinstance(r, dict), r
    missing = RESOURCE_FIELDS - set(r)
    assert not missing, f"Resource lacks fields {missing}: {r}"
    assert isinstance(r["id"], str) and UUID_RE.match(r["id"]), r["id"]
    assert isinstance(r["account_id"], str)
    assert isinstance(r["name"], str)
    assert isinstance(r["directory_path"], str) and r["directory_path"].startswith("/")
    assert isinstance(r["mime_type"], str)
    assert isinstance(r["sha256"], str) and SHA_RE.match(r["sha256"]), r["sha256"]
    assert isinstance(r["size_bytes"], int) and not isinstance(r["size_bytes"], bool)
    assert isinstance(r["storage_bucket"], str) and r["storage_bucket"]
    assert isinstance(r["storage_key"], str) and r["storage_key"]
    assert isinstance(r["tags"], list) and all(isinstance(t, str) for t in r["tags"])
    assert r["metadata"] is None or isinstance(r["metadata"], dict)
    assert r["created_by"] is None or isinstance(r["created_by"], str)
    for f in ("created_at", "updated_at"):
        assert isinstance(r[f], str) and TS_RE.match(r[f]), f"{f}={r[f]!r}"


# --------------------------------------------------------------------------
# server process management

_RUNNING = []  # DepotServer instances currently alive (for per-test crash checks)


class ServerError(AssertionError):
    pass


def _socket_states(port):
    """TCP sockets on a port, from /proc/net/tcp{,6} (diagnostics for a hung shutdown)."""
    states = {"01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1",
              "05": "FIN_WAIT2", "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT",
              "09": "LAST_ACK", "0A": "LISTEN", "0B": "CLOSING"}
    out = []
    for fn in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(fn).read().splitlines()[1:]
        except OSError:
            continue
        for ln in lines:
            f = ln.split()
            lport = int(f[1].split(":")[1], 16)
            rport = int(f[2].split(":")[1], 16)
            if port in (lport, rport) and f[3] != "06":  # skip TIME_WAIT
                out.append(f"{lport}->{rport}:{states.get(f[3], f[3])}")
    if not out:
        return "none"
    counts = {}
    for o in out:
        st = o.rsplit(":", 1)[1]
        counts[st] = counts.get(st, 0) + 1
    summary = ", ".join(f"{n} {st}" for st, n in sorted(counts.items()))
    return summary + " [" + ", ".join(out[:6]) + (", ..." if len(out) > 6 else "") + "]"


def _thread_stacks(pid):
    """Backtraces of a hung depotd (diagnostics only; empty when gdb is unavailable)."""
    gdb = "/usr/bin/gdb"
    if not os.path.exists(gdb):
        return ""
    try:
        out = subprocess.run([gdb, "-p", str(pid), "-batch", "-nx", "-ex",
                              "thread apply all bt 12"], capture_output=True, text=True,
                             timeout=30).stdout
    except (subprocess.SubprocessError, OSError):
        return ""
    keep = [ln for ln in out.splitlines() if ln.startswith(("Thread ", "#"))]
    return "--- thread stacks at timeout ---\n" + "\n".join(keep)[:6000]


# --------------------------------------------------------------------------
# the S3 blob store (scripts/test.sh's "s3" pass sets DEPOT_TEST_S3_ENDPOINT)

S3_REGION = "us-east-1"
_S3_BUCKETS_MADE = set()


def s3_endpoint():
    return os.environ.get("DEPOT_TEST_S3_ENDPOINT") or None


def s3_credentials():
    return (os.environ.get("DEPOT_TEST_S3_KEY", "S3RVER"),
            os.environ.get("DEPOT_TEST_S3_SECRET", "S3RVER"))


def s3_bucket_of(data_dir):
    """The bucket of a data folder: named after it, so a restart finds its objects again."""
    return "t-" + hashlib.sha1(str(data_dir).encode()).hexdigest()[:16]


def s3_request(method, path, endpoint=None, query="", data=None, headers=None, timeout=30):
    """One signed request to the S3 server with the curl command (its --aws-sigv4, not depot's
    code). Returns (status, body bytes, {lowercase header: value})."""
    endpoint = endpoint or s3_endpoint()
    key, secret = s3_credentials()
    with tempfile.TemporaryDirectory(prefix="depot-s3-") as tmp:
        body_f, head_f = os.path.join(tmp, "body"), os.path.join(tmp, "head")
        verb = ["-I"] if method == "HEAD" else ["-X", method]
        cmd = ["curl", "-s", "-S", "--max-time", str(timeout)] + verb + [
               "--aws-sigv4", f"aws:amz:{S3_REGION}:s3", "-u", f"{key}:{secret}",
               "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", "-o", body_f, "-D", head_f,
               "-w", "%{http_code}"]
        for k, v in (headers or {}).items():
            cmd += ["-H", f"{k}: {v}"]
        if data is not None:
            src = os.path.join(tmp, "up")
            with open(src, "wb") as f:
                f.write(data)
            cmd += ["--data-binary", f"@{src}"]
        url = endpoint + path + (("?" + query) if query else "")
        out = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=timeout + 10)
        status = int(out.stdout.strip() or 0)
        body = open(body_f, "rb").read() if os.path.exists(body_f) else b""
        hdrs = {}
        if os.path.exists(head_f):
            for ln in open(head_f, errors="replace").read().splitlines():
                if ":" in ln:
                    k, v = ln.split(":", 1)
                    hdrs[k.strip().lower()] = v.strip()
        return status, body, hdrs


def s3_make_bucket(bucket, endpoint=None):
    status, body, _ = s3_request("PUT", f"/{bucket}", endpoint=endpoint)
    assert status in (200, 409), f"cannot create bucket {bucket}: {status} {body[:300]!r}"


def s3_list(bucket, prefix="blobs/", endpoint=None):
    """{key: size} of the objects under prefix (every page of ListObjectsV2)."""
    out, token = {}, None
    while True:
        q = "list-type=2&prefix=" + urllib.parse.quote(prefix, safe="")
        if token:
            q += "&continuation-token=" + urllib.parse.quote(token, safe="")
        status, body, _ = s3_request("GET", f"/{bucket}", endpoint=endpoint, query=q)
        assert status == 200, f"list of {bucket}: {status} {body[:300]!r}"
        root = ET.fromstring(body)
        ns = {"s": root.tag.split("}")[0].strip("{")} if root.tag.startswith("{") else None
        find = (lambda e, t: e.find(f"s:{t}", ns)) if ns else (lambda e, t: e.find(t))
        items = root.findall("s:Contents", ns) if ns else root.findall("Contents")
        for c in items:
            out[find(c, "Key").text] = int(find(c, "Size").text)
        trunc = find(root, "IsTruncated")
        if trunc is None or trunc.text != "true":
            return out
        token = find(root, "NextContinuationToken").text


def _s3_env(data_dir):
    endpoint = s3_endpoint()
    if endpoint is None:
        return {}
    bucket = s3_bucket_of(data_dir)
    if (endpoint, bucket) not in _S3_BUCKETS_MADE:
        s3_make_bucket(bucket, endpoint)
        _S3_BUCKETS_MADE.add((endpoint, bucket))
    key, secret = s3_credentials()
    return {"DEPOT_BLOBS": f"s3://{bucket}?endpoint={endpoint}&region={S3_REGION}",
            "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret}


def backend_env(data_dir):
    """Extra environment selecting the storage backends the suite runs against.

    Default (nothing set): SQLite + local files under data_dir. scripts/test.sh sets
    DEPOT_TEST_PG_ADMIN (a PostgreSQL URL to an admin database) and/or DEPOT_TEST_S3_ENDPOINT
    (an S3 server on loopback) for its other passes; each data_dir then gets a database and a
    bucket of its own, named after it, so a restarted server finds its state again.
    """
    env = {}
    env.update(_pg_env(data_dir))
    env.update(_s3_env(data_dir))
    return env


def on_s3(server):
    """True when server keeps its blobs in S3."""
    if "DEPOT_BLOBS" in server.env_overrides:
        return bool(server.env_overrides["DEPOT_BLOBS"])
    return s3_endpoint() is not None


def blob_bucket(server):
    """What storage_bucket names for a blob of server (not inline content)."""
    return s3_bucket_of(server.data_dir) if on_s3(server) else "local"


def blob_keys(server):
    """The keys of every stored blob, "blobs/<account hash>/<sha256>": files under the data
    folder, or the objects of the server's bucket."""
    if on_s3(server):
        return set(s3_list(s3_bucket_of(server.data_dir)))
    d = server.data_dir / "blobs"
    if not d.exists():
        return set()
    return {str(p.relative_to(server.data_dir)) for p in d.rglob("*") if p.is_file()}


def blob_bytes(server, key):
    """The stored bytes of a blob, read from the disk or from S3 directly (not via depotd)."""
    if on_s3(server):
        status, body, _ = s3_request("GET", f"/{s3_bucket_of(server.data_dir)}/{key}")
        assert status == 200, f"GET {key} from S3: {status} {body[:300]!r}"
        return body
    return (server.data_dir / key).read_bytes()


def staged_files(server):
    """Bytes being staged: files in the data folder's staging/ (local files), or spool files
    depotd holds open (S3: they are unlinked from birth, so /proc/PID/fd shows them)."""
    if not on_s3(server):
        d = server.data_dir / "staging"
        return sorted(p.name for p in d.iterdir()) if d.exists() else []
    spool = str(server.data_dir / "spool") + "/"
    out = []
    if server.proc is None:
        return out
    fd_dir = f"/proc/{server.proc.pid}/fd"
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        if target.startswith(spool):
            out.append(target)
    return sorted(out)


_PG_CREATED = set()  # databases this test process made (or found) already


def pg_database_url(admin_url, name):
    """The admin URL with its database replaced by name."""
    parts = urllib.parse.urlsplit(admin_url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


def psql(url, sql):
    """Runs sql (psql's input: several statements, \\gexec) with Debian's psql; returns its
    output (unaligned, tuples only)."""
    p = subprocess.run(["/usr/bin/psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", url],
                       input=sql, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise ServerError(f"psql failed: {p.stderr.strip()}")
    return p.stdout


def _pg_env(data_dir):
    """DEPOT_DB for data_dir when DEPOT_TEST_PG_ADMIN is set: a database of its own, named
    after the folder and created on first use, so a restart with the same folder finds it."""
    admin = os.environ.get("DEPOT_TEST_PG_ADMIN")
    if not admin:
        return {}
    name = "t_" + hashlib.sha1(str(data_dir).encode()).hexdigest()[:16]
    if name not in _PG_CREATED:
        psql(admin, f"SELECT 'CREATE DATABASE {name}' WHERE NOT EXISTS"
                    f" (SELECT 1 FROM pg_database WHERE datname = '{name}') \\gexec")
        _PG_CREATED.add(name)
    return {"DEPOT_DB": pg_database_url(admin, name)}


class DepotServer:
    def __init__(self, env=None, data_dir=None, tmp_root=None, secret=SECRET):
        self.tmp = Path(tempfile.mkdtemp(prefix="depot-test-", dir=tmp_root))
        self.data_dir = Path(data_dir) if data_dir else self.tmp / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.tmp / "depotd.stderr.log"
        self.env_overrides = dict(env or {})
        self.secret = secret
        self.proc = None
        self.port = None
        self._log = None

    # -- lifecycle
    def start(self):
        binary = depotd_path()
        if not binary.exists():
            raise ServerError(f"depotd binary not found at {binary} (set DEPOTD or build it)")
        env = dict(os.environ)
        for k in list(env):
            if k.startswith("DEPOT_"):
                del env[k]
        if self.secret is not None:
            env["DEPOT_JWT_SECRET"] = self.secret
        env.update(backend_env(self.data_dir))
        for k, v in self.env_overrides.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = str(v)
        self.port = free_port()
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [str(binary), "--listen", f"127.0.0.1:{self.port}", "--data", str(self.data_dir)],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log, env=env,
            cwd=str(self.tmp))
        deadline = time.time() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                rc = self.proc.returncode
                self.proc = None
                self._close_log()
                raise ServerError(f"depotd exited with {rc} during start\n{self.log_text()}")
            try:
                r = requests.get(self.url("/healthz"), timeout=2)
                if r.status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.time() > deadline:
                self._kill()
                raise ServerError(f"depotd did not answer /healthz within {START_TIMEOUT}s\n"
                                  f"{self.log_text()}")
            time.sleep(0.05)
        _RUNNING.append(self)
        return self

    def stop(self):
        """SIGTERM; assert clean exit 0 within STOP_TIMEOUT and no sanitizer report."""
        if self.proc is None:
            return
        if self in _RUNNING:
            _RUNNING.remove(self)
        proc, self.proc = self.proc, None
        problems = []
        if proc.poll() is not None:
            problems.append(f"depotd had already exited with {proc.returncode} before SIGTERM")
        else:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                conns = _socket_states(self.port)
                stacks = _thread_stacks(proc.pid)
                proc.kill()
                proc.wait(timeout=10)
                problems.append(f"depotd did not exit within {STOP_TIMEOUT}s of SIGTERM "
                                f"(sockets on its port then: {conns})\n{stacks}")
            else:
                if proc.returncode != 0:
                    problems.append(f"depotd exited with {proc.returncode} after SIGTERM")
        self._close_log()
        bad = self.sanitizer_report()
        if bad:
            problems.append("sanitizer report in depotd stderr")
        if problems:
            raise ServerError("; ".join(problems) + "\n--- depotd stderr ---\n" + self.log_text())

    def _kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None
        self._close_log()

    def _close_log(self):
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_text(self, limit=20000):
        try:
            t = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return t[-limit:]

    def sanitizer_report(self):
        t = self.log_text(limit=10 ** 7)
        return any(m in t for m in SANITIZER_MARKERS)

    def health_problem(self):
        """None when fine, else a description (used after every test)."""
        if self.proc is not None and self.proc.poll() is not None:
            return f"depotd (port {self.port}) died with exit code {self.proc.returncode}"
        if self.sanitizer_report():
            return f"sanitizer report in depotd (port {self.port}) stderr"
        return None

    # -- http
    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def url(self, path):
        return self.base + path

    def request(self, method, path, tok=None, json_body=None, data=None, headers=None,
                **kw):
        h = dict(headers or {})
        if tok is not None:
            h["Authorization"] = f"Bearer {tok}"
        if json_body is not None:
            data = json.dumps(json_body, ensure_ascii=False).encode()
            h.setdefault("Content-Type", "application/json")
        kw.setdefault("timeout", TIMEOUT)
        kw.setdefault("allow_redirects", False)
        return requests.request(method, self.url(path), data=data, headers=h, **kw)

    def client(self, account=None, **token_kwargs):
        return Client(self, account or uniq("acct"), **token_kwargs)


class Client:
    """Requests on behalf of one account."""

    def __init__(self, server, account, **token_kwargs):
        self.server = server
        self.account = account
        self.token_kwargs = token_kwargs
        self.tok = token(account, **token_kwargs)

    def req(self, method, path, json_body=None, **kw):
        return self.server.request(method, path, tok=self.tok, json_body=json_body, **kw)

    def get(self, path, **kw):
        return self.req("GET", path, **kw)

    def head(self, path, **kw):
        return self.req("HEAD", path, **kw)

    def post(self, path, body=None, **kw):
        return self.req("POST", path, json_body=body, **kw)

    def put(self, path, body=None, **kw):
        return self.req("PUT", path, json_body=body, **kw)

    def patch(self, path, body=None, **kw):
        return self.req("PATCH", path, json_body=body, **kw)

    def delete(self, path, **kw):
        return self.req("DELETE", path, **kw)

    # -- conveniences
    def create_raw(self, name=None, directory_path="/", content=b"hello", mime="text/plain",
                   **fields):
        body = {"name": name if name is not None else uniq("file"),
                "directory_path": directory_path}
        if content is not None:
            body["content"] = data_url(content, mime)
        body.update(fields)
        return self.post("/v1/resources", body)

    def create(self, name=None, directory_path="/", content=b"hello", mime="text/plain",
               **fields):
        r = self.create_raw(name, directory_path, content, mime, **fields)
        assert r.status_code == 200, f"create failed: {r.status_code} {r.text[:500]}"
        body = r.json()
        assert_resource_shape(body)
        return body

    def list(self, **params):
        r = self.get("/v1/resources", params=params)
        assert r.status_code == 200, f"list failed: {r.status_code} {r.text[:500]}"
        return r.json()


# --------------------------------------------------------------------------
# a small local HTTP origin for uri fetch / SSRF tests

class Origin:
    """http.server on 127.0.0.1:<port 0> with programmable routes and hit counts.

    Route specs (values of self.routes[path]):
      ("bytes", body, content_type_or_None)       Content-Length set
      ("nolength", body, content_type_or_None)    no Content-Length, close-delimited
      ("redirect", code, location)
      ("status", code)
      ("slow", total_bytes, interval_seconds)     dribbles one byte per interval
    Paths "/chain/<n>" redirect (302) to "/chain/<n-1>"; "/chain/0" serves CHAIN_BODY.
    """

    CHAIN_BODY = b"end of the redirect chain\n"

    def __init__(self):
        self.routes = {}
        self.hits = {}
        self.queries = {}  # path -> the query string of its last request
        self.lock = threading.Lock()
        origin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *a):
                pass

            def _serve(self, head_only=False):
                path, _, query = self.path.partition("?")
                with origin.lock:
                    origin.hits[path] = origin.hits.get(path, 0) + 1
                    origin.queries[path] = query
                spec = origin.routes.get(path)
                if spec is None and path.startswith("/chain/"):
                    try:
                        n = int(path[len("/chain/"):])
                    except ValueError:
                        n = -1
                    if n > 0:
                        spec = ("redirect", 302, f"/chain/{n - 1}")
                    elif n == 0:
                        spec = ("bytes", origin.CHAIN_BODY, "text/plain")
                if spec is None:
                    spec = ("status", 404)
                kind = spec[0]
                try:
                    if kind == "bytes":
                        _, body, ctype = spec
                        self.send_response(200)
                        if ctype:
                            self.send_header("Content-Type", ctype)
                        self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        if not head_only:
                            self.wfile.write(body)
                    elif kind == "nolength":
                        _, body, ctype = spec
                        self.send_response(200)
                        if ctype:
                            self.send_header("Content-Type", ctype)
                        self.send_header("Connection", "close")
                        self.end_headers()
                        if not head_only:
                            for i in range(0, len(body), 4096):
                                self.wfile.write(body[i:i + 4096])
                        self.close_connection = True
                    elif kind == "redirect":
                        _, code, loc = spec
                        self.send_response(code)
                        self.send_header("Location", loc)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                    elif kind == "status":
                        code = spec[1]
                        body = f"status {code}\n".encode()
                        self.send_response(code)
                        self.send_header("Content-Type", "text/plain")
                        self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        if not head_only:
                            self.wfile.write(body)
                    elif kind == "slow":
                        _, total, interval = spec
                        self.send_response(200)
                        self.send_header("Content-Type", "text/plain")
                        self.send_header("Content-Length", str(total))
                        self.end_headers()
                        self.wfile.flush()
                        for _ in range(total):
                            if origin.closing.is_set():
                                break
                            self.wfile.write(b"x")
                            self.wfile.flush()
                            time.sleep(interval)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_GET(self):
                self._serve()

            def do_HEAD(self):
                self._serve(head_only=True)

        self.closing = threading.Event()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def total_hits(self):
        with self.lock:
            return sum(self.hits.values())

    def reset(self):
        with self.lock:
            self.hits.clear()

    def close(self):
        self.closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()


# --------------------------------------------------------------------------
# races

def race(n, fn, timeout=TIMEOUT):
    """Runs fn(i) for i in range(n), each in its own thread, all released at once by a barrier.
    Returns the n results in order; an exception raised by fn stands in its place."""
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        try:
            barrier.wait(timeout=timeout)
            results[i] = fn(i)
        except Exception as e:  # noqa: BLE001
            results[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout + 30)
    assert not any(t.is_alive() for t in threads), "a racer did not finish"
    return results


def codes_of(results):
    """The status code of each response of a race, or repr() of what was raised instead."""
    return [r.status_code if hasattr(r, "status_code") else repr(r) for r in results]
