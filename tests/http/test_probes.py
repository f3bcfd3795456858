"""Security probes: randomized cross-tenant operations, SSRF payloads and path traversal.

- 600 randomized operations by three accounts on each other's resources: every one answers as
  if the resource did not exist, and the owners' resources are unchanged afterwards.
- 64 SSRF payloads (private, link-local, shared, multicast and mapped address spellings, other
  schemes, redirects to forbidden hops): each refused with a 400, the canary never reached.
- 48 path-traversal names and directory paths, through JSON, multipart and ids: each refused
  or stored as a plain name, and nothing written outside the data folder.
"""

import os
import random

import pytest

from depot_helpers import Origin, assert_error, sha, uniq

# --------------------------------------------------------------------------- cross-tenant


def test_randomized_cross_tenant_operations_leak_nothing(server):
    rng = random.Random(20261123)
    clients = [server.client(account=uniq(f"tenant{i}")) for i in range(3)]
    owned = {}  # id -> (owner index, resource as created)
    for i, c in enumerate(clients):
        for k in range(6):
            body = f"tenant {i} secret {k}".encode()
            r = c.create(name=f"doc{k}.txt", directory_path=f"/t{i}/", content=body,
                         tags=["probe"])
            owned[r["id"]] = (i, r)
    ids = list(owned)
    ops = 0
    for _ in range(600):
        rid = rng.choice(ids)
        owner, _ = owned[rid]
        who = rng.choice([j for j in range(3) if j != owner])
        c = clients[who]
        kind = rng.randrange(8)
        if kind == 0:
            r = c.get(f"/v1/resources/{rid}")
        elif kind == 1:
            r = c.get(f"/v1/resources/{rid}/content")
        elif kind == 2:
            r = c.head(f"/v1/resources/{rid}/content")
        elif kind == 3:
            r = c.patch(f"/v1/resources/{rid}", {"name": uniq("stolen")})
        elif kind == 4:
            r = c.put(f"/v1/resources/{rid}/content", data=b"overwritten",
                      headers={"Content-Type": "application/octet-stream"})
        elif kind == 5:
            r = c.delete(f"/v1/resources/{rid}")
        elif kind == 6:
            r = c.get(f"/v1/resources/{rid}/url")
        else:
            listed = c.list(directory_prefix=f"/t{owner}/", tags="probe")
            assert listed["total"] == 0 and listed["items"] == []
            ops += 1
            continue
        assert r.status_code == 404, f"op {kind} by tenant {who} on {owner}'s {rid}: " \
                                     f"{r.status_code} {r.text[:200]}"
        assert b"secret" not in r.content
        ops += 1
    assert ops == 600
    for rid, (owner, created) in owned.items():
        now = clients[owner].get(f"/v1/resources/{rid}")
        assert now.status_code == 200
        assert {k: now.json()[k] for k in ("name", "sha256", "updated_at")} == \
            {k: created[k] for k in ("name", "sha256", "updated_at")}
    for i, c in enumerate(clients):
        assert c.list(tags="probe")["total"] == 6


# --------------------------------------------------------------------------- SSRF

FORBIDDEN_HOSTS = [
    # private (RFC 1918), in several spellings
    "10.0.0.1", "10.255.255.254", "012.0.0.1", "0x0a000001", "167772161", "172.16.0.1",
    "172.31.255.254", "192.168.0.1", "192.168.255.254", "0xc0a80001",
    # link-local and cloud metadata
    "169.254.169.254", "169.254.0.1", "0xa9fea9fe", "2852039166", "[fe80::1]",
    # shared address space, this-network, benchmarking, IETF, multicast, broadcast
    "100.64.0.1", "0.1.2.3", "198.18.0.1", "192.0.0.1", "224.0.0.1", "239.255.255.250",
    "255.255.255.255",
    # IPv6 unique-local, multicast, and IPv4 inside IPv6
    "[fc00::1]", "[fd12:3456::1]", "[ff02::1]", "[::ffff:10.0.0.1]",
    "[::ffff:169.254.169.254]", "[64:ff9b::7f00:1]", "[64:ff9b::a9fe:a9fe]",
    "[2002:7f00:1::]", "[::ffff:0:7f00:1]", "[::127.0.0.1]", "[64:ff9b:1::a00:1]", "[100::1]",
]

OTHER_SCHEMES = [
    "file:///etc/passwd", "file://localhost/etc/passwd", "gopher://127.0.0.1:6379/_INFO",
    "ftp://127.0.0.1/", "dict://127.0.0.1:11211/stats", "ldap://127.0.0.1/",
    "tftp://127.0.0.1/x", "telnet://127.0.0.1/", "smtp://127.0.0.1/",
    "scp://127.0.0.1/etc/passwd", "javascript:alert(1)", "jar:http://127.0.0.1!/",
]

REDIRECT_TARGETS = [
    "http://127.0.0.1:{p}/", "http://127.1:{p}/", "http://2130706433:{p}/",
    "http://0x7f000001:{p}/", "http://[::1]:{p}/", "http://[::ffff:127.0.0.1]:{p}/",
    "http://localhost:{p}/", "http://0:{p}/", "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/", "file:///etc/passwd", "gopher://127.0.0.1:{p}/_x",
    "ftp://127.0.0.1:{p}/", "http://user@127.0.0.1:{p}/", "https://127.0.0.1:{p}/",
    "http://[fe80::1]/", "dict://127.0.0.1:{p}/", "http://127.0.0.1:{p}#@example.invalid/",
    "http://192.168.0.1/", "http://[::]:{p}/",
]


def fetch(client, uri):
    return client.post("/v1/resources", {"name": uniq("ssrf"), "directory_path": "/probe",
                                         "uri": uri})


@pytest.fixture(scope="module")
def canary():
    o = Origin()
    o.routes["/"] = ("bytes", b"canary", "text/plain")
    yield o
    assert o.total_hits() == 0, "an SSRF payload reached the canary"
    o.close()


@pytest.fixture(scope="module")
def fast_server(module_server_factory):
    return module_server_factory(env={"DEPOT_FETCH_TIMEOUT": 3})


@pytest.mark.parametrize("host", FORBIDDEN_HOSTS)
def test_ssrf_forbidden_address_refused(fast_server, host):
    c = fast_server.client()
    body = assert_error(fetch(c, f"http://{host}/latest/meta-data/"), 400)
    assert "forbidden" in body["error"]
    assert c.list()["total"] == 0


@pytest.mark.parametrize("uri", OTHER_SCHEMES)
def test_ssrf_other_scheme_refused(fast_server, canary, uri):
    c = fast_server.client()
    assert_error(fetch(c, uri), 400)
    assert c.list()["total"] == 0


@pytest.fixture(scope="module")
def redirector():
    o = Origin()
    yield o
    o.close()


@pytest.fixture(scope="module")
def allow_server(module_server_factory, redirector):
    return module_server_factory(env={"DEPOT_FETCH_ALLOW_ADDRS": f"127.0.0.1:{redirector.port}",
                                      "DEPOT_FETCH_TIMEOUT": 3})


@pytest.mark.parametrize("target", REDIRECT_TARGETS)
def test_ssrf_redirect_to_forbidden_hop_refused(allow_server, redirector, canary, target):
    redirector.routes["/r"] = ("redirect", 302, target.format(p=canary.port))
    c = allow_server.client()
    assert_error(fetch(c, redirector.url("/r")), 400)
    assert canary.total_hits() == 0
    assert c.list()["total"] == 0


def test_ssrf_payload_count():
    assert len(FORBIDDEN_HOSTS) + len(OTHER_SCHEMES) + len(REDIRECT_TARGETS) >= 60


# --------------------------------------------------------------------------- path traversal

TRAVERSAL_NAMES = [
    "..", ".", "../x", "../../etc/passwd", "..\\..\\windows\\win.ini", "a/../../b", "/etc/passwd",
    "x/y", "%2e%2e", "%2e%2e%2fetc%2fpasswd", "..%2f..%2fetc", "....//....//etc", "\u2025",
    "..\u2215etc", "name\x00.txt", "..;/x", "~/.ssh/id_rsa", "${HOME}", "$(id)", "`id`",
    "blobs", "staging", "depot.db", "depot.db-wal",
]
TRAVERSAL_DIRS = [
    "/../", "/../../etc/", "/a/../../b/", "/./", "/a/./b/", "/%2e%2e/", "/..\\../",
    "//etc//", "/a//../", "/\x00/", "/blobs/", "/staging/", "/../data/blobs/",
    "/.../", "/..../", "/a/..", "/~root/", "/" + "../" * 20,
]


def tree(root):
    out = set()
    for d, dirs, files in os.walk(root):
        for f in files:
            out.add(os.path.relpath(os.path.join(d, f), root))
    return out


@pytest.fixture
def own_server(server_factory):
    return server_factory()


def test_path_traversal_never_leaves_the_data_folder(own_server):
    s = own_server
    c = s.client()
    outside_before = tree(s.tmp) - {p for p in tree(s.tmp) if p.startswith("data/")}
    tried = 0
    for name in TRAVERSAL_NAMES:
        for path in ("/", "/probe/"):
            r = c.create_raw(name=name, directory_path=path, content=b"traversal " + name.encode())
            tried += 1
            assert r.status_code in (200, 400), (name, r.status_code, r.text)
            if r.status_code == 200:
                got = r.json()
                assert got["name"] == name and got["directory_path"] == (path.rstrip("/") or "/")
                assert got["storage_key"].startswith(("blobs/", "inline/"))
                assert ".." not in got["storage_key"]
    for d in TRAVERSAL_DIRS:
        r = c.create_raw(name=uniq("t"), directory_path=d, content=b"traversal dir")
        tried += 1
        assert r.status_code in (200, 400), (d, r.status_code, r.text)
        if r.status_code == 200:
            assert ".." not in r.json()["directory_path"].split("/")
    # Multipart filenames and ids carrying traversal.
    for fname in ("../../evil.txt", "..\\evil.txt", "/etc/passwd"):
        r = s.request("POST", "/v1/resources", tok=c.tok, files=[
            ("file", (fname, b"multipart traversal", "text/plain")),
            ("directory_path", (None, "/probe/mp"))])
        tried += 1
        assert r.status_code in (200, 400), (fname, r.status_code, r.text)
        if r.status_code == 200:  # (requests escapes a backslash in a filename as two)
            assert r.json()["name"] in (fname, fname.replace("\\", "\\\\"))
    for rid in ("..%2F..%2Fetc%2Fpasswd", "%2e%2e", "../../depot.db"):
        r = c.get(f"/v1/resources/{rid}/content")
        tried += 1
        assert r.status_code in (400, 404)
        assert b"SQLite" not in r.content and b"root:" not in r.content
    assert tried >= 40
    outside_after = tree(s.tmp) - {p for p in tree(s.tmp) if p.startswith("data/")}
    assert outside_after == outside_before, outside_after - outside_before
    inside = {p for p in tree(s.data_dir)}
    allowed = ("blobs/", "staging/", "depot.db")
    assert all(p.startswith(allowed) for p in inside), sorted(inside)
    for p in inside:
        if p.startswith("blobs/"):
            parts = p.split("/")
            assert len(parts) == 4 and len(parts[3]) == 64, p
    # The stored bytes still read back under their odd names.
    listed = c.list(page_size=100)
    for item in listed["items"]:
        got = c.get(f"/v1/resources/{item['id']}/content")
        assert got.status_code == 200 and sha(got.content) == item["sha256"]
