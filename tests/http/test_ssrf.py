"""SSRF refusals: the default server (no DEPOT_FETCH_ALLOW_PRIVATE) must refuse every
spelling of a loopback/unspecified address, and never connect to the canary origin.
With DEPOT_FETCH_ALLOW_ADDRS the exception is exact and every redirect hop is checked."""

import pytest

from depot_helpers import assert_error, assert_ok, sha, uniq

# every one of these reaches (or would reach) this machine
HOSTS = [
    "127.0.0.1", "127.1", "2130706433", "0x7f000001", "0x7f.0.0.1", "0177.0.0.1",
    "017700000001", "127.0.0.2", "127.255.255.254", "[::1]", "[0:0:0:0:0:0:0:1]",
    "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "0.0.0.0", "0", "[::]", "localhost",
]  # (no names that could trigger a DNS query off the machine)


def fetch(client, uri):
    return client.post("/v1/resources", {"name": uniq("ssrf"), "directory_path": "/ssrf",
                                         "uri": uri})


@pytest.mark.parametrize("host", HOSTS)
def test_default_server_refuses_loopback_spelling(server, module_origin, host):
    module_origin.reset()
    module_origin.routes["/canary"] = ("bytes", b"canary", "text/plain")
    c = server.client()
    r = fetch(c, f"http://{host}:{module_origin.port}/canary")
    assert_error(r, 400)
    assert module_origin.total_hits() == 0, f"canary was reached via {host}"
    assert c.list()["total"] == 0


def test_default_server_refusal_names_forbidden_address(server, module_origin):
    module_origin.reset()
    c = server.client()
    body = assert_error(fetch(c, f"http://127.0.0.1:{module_origin.port}/canary"), 400)
    assert "forbidden" in body["error"]
    assert module_origin.total_hits() == 0


def test_default_server_refuses_https_to_loopback(server, module_origin):
    module_origin.reset()
    c = server.client()
    assert_error(fetch(c, f"https://127.0.0.1:{module_origin.port}/canary"), 400)
    assert module_origin.total_hits() == 0


def test_default_server_refuses_userinfo_trick(server, module_origin):
    module_origin.reset()
    c = server.client()
    r = fetch(c, f"http://user:pass@127.0.0.1:{module_origin.port}/canary")
    assert_error(r, 400)
    assert module_origin.total_hits() == 0


# ---------------------------------------------------------------- allow-list + redirects

@pytest.fixture(scope="module")
def redirector(module_origin):
    return module_origin  # the host we allow


@pytest.fixture(scope="module")
def canary():
    from depot_helpers import Origin
    o = Origin()
    o.routes["/"] = ("bytes", b"secret canary", "text/plain")
    yield o
    o.close()


@pytest.fixture(scope="module")
def allow_server(module_server_factory, redirector):
    return module_server_factory(env={
        "DEPOT_FETCH_ALLOW_ADDRS": f"127.0.0.1:{redirector.port}"})


def test_allow_addrs_permits_the_listed_address(allow_server, redirector):
    redirector.routes["/ok"] = ("bytes", b"allowed bytes", "text/plain")
    c = allow_server.client()
    r = fetch(c, redirector.url("/ok"))
    assert_ok(r)
    assert r.json()["sha256"] == sha(b"allowed bytes")


def test_allow_addrs_redirect_to_unlisted_loopback_is_refused(allow_server, redirector,
                                                               canary):
    canary.reset()
    redirector.routes["/hop"] = ("redirect", 302, f"http://127.0.0.1:{canary.port}/")
    c = allow_server.client()
    assert_error(fetch(c, redirector.url("/hop")), 400)
    assert canary.total_hits() == 0
    assert c.list()["total"] == 0


@pytest.mark.parametrize("host", ["localhost", "0.0.0.0", "[::1]", "2130706433", "127.0.0.2"])
def test_allow_addrs_redirect_to_other_loopback_spellings_is_refused(allow_server, redirector,
                                                                    canary, host):
    canary.reset()
    redirector.routes["/hopx"] = ("redirect", 302, f"http://{host}:{canary.port}/")
    c = allow_server.client()
    assert_error(fetch(c, redirector.url("/hopx")), 400)
    assert canary.total_hits() == 0


def test_allow_addrs_second_hop_redirect_is_checked(allow_server, redirector, canary):
    canary.reset()
    redirector.routes["/hop1"] = ("redirect", 301, redirector.url("/hop2"))
    redirector.routes["/hop2"] = ("redirect", 307, f"http://[::ffff:127.0.0.1]:{canary.port}/")
    c = allow_server.client()
    assert_error(fetch(c, redirector.url("/hop1")), 400)
    assert canary.total_hits() == 0


def test_allow_addrs_does_not_allow_other_port_same_host(allow_server, canary):
    canary.reset()
    c = allow_server.client()
    assert_error(fetch(c, f"http://127.0.0.1:{canary.port}/"), 400)
    assert canary.total_hits() == 0


def test_allow_addrs_redirect_within_allowed_address_works(allow_server, redirector):
    redirector.routes["/a"] = ("redirect", 302, "/b")
    redirector.routes["/b"] = ("bytes", b"bee", "text/plain")
    c = allow_server.client()
    r = fetch(c, redirector.url("/a"))
    assert_ok(r)
    assert r.json()["sha256"] == sha(b"bee")
