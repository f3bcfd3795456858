"""Create from `uri`: fetched from a local origin on 127.0.0.1, with the server started
with DEPOT_FETCH_ALLOW_PRIVATE=1 (loopback is otherwise refused; see test_ssrf.py)."""

import pytest

from depot_helpers import (PDF_BYTES, Origin, assert_error, assert_ok, assert_resource_shape,
                           free_port, png_bytes, sha, uniq)


@pytest.fixture(scope="module")
def fetch_server(module_server_factory):
    return module_server_factory(env={"DEPOT_FETCH_ALLOW_PRIVATE": "1"})


@pytest.fixture(scope="module")
def limits_server(module_server_factory):
    return module_server_factory(env={"DEPOT_FETCH_ALLOW_PRIVATE": "1",
                                      "DEPOT_FETCH_TIMEOUT": "1",
                                      "DEPOT_MAX_UPLOAD_BYTES": "1000"})


def fetch(client, uri, **extra):
    body = {"name": uniq("fetched"), "directory_path": "/fetched", "uri": uri}
    body.update(extra)
    return client.post("/v1/resources", body)


@pytest.fixture
def fclient(fetch_server):
    return fetch_server.client()


def test_fetch_stores_bytes_sha_size_mime_and_original_uri(fclient, origin):
    content = b"fetched over http\n" * 10
    origin.routes["/doc.txt"] = ("bytes", content, "text/plain;charset=utf-8")
    uri = origin.url("/doc.txt")
    r = fetch(fclient, uri, tags=["f"], metadata={"src": "origin"})
    assert_ok(r)
    res = r.json()
    assert_resource_shape(res)
    assert res["sha256"] == sha(content)
    assert res["size_bytes"] == len(content)
    assert res["mime_type"] == "text/plain;charset=utf-8"
    assert res["original_uri"] == uri
    assert res["tags"] == ["f"]
    assert res["metadata"] == {"src": "origin"}
    assert res["account_id"] == fclient.account
    got = fclient.get(f"/v1/resources/{res['id']}/content")
    assert_ok(got)
    assert got.content == content
    assert fclient.get(f"/v1/resources/{res['id']}").json() == res
    assert origin.hits.get("/doc.txt", 0) >= 1


def test_fetch_keeps_content_type_parameters(fclient, origin):
    origin.routes["/data.csv"] = ("bytes", b"a,b\n1,2\n", "text/csv; charset=utf-8")
    r = fetch(fclient, origin.url("/data.csv"))
    assert_ok(r)
    mt = r.json()["mime_type"]
    assert mt.startswith("text/csv") and "charset=utf-8" in mt


def test_fetch_sniffs_mime_for_octet_stream(fclient, origin):
    origin.routes["/img"] = ("bytes", png_bytes(), "application/octet-stream")
    r = fetch(fclient, origin.url("/img"))
    assert_ok(r)
    assert r.json()["mime_type"] == "image/png"


def test_fetch_sniffs_mime_when_content_type_absent(fclient, origin):
    origin.routes["/doc"] = ("bytes", PDF_BYTES, None)
    r = fetch(fclient, origin.url("/doc"))
    assert_ok(r)
    assert r.json()["mime_type"] == "application/pdf"
    assert r.json()["sha256"] == sha(PDF_BYTES)


def test_fetch_keeps_query_string_in_original_uri(fclient, origin):
    origin.routes["/q"] = ("bytes", b"query", "text/plain")
    uri = origin.url("/q") + "?a=1&b=two"
    r = fetch(fclient, uri)
    assert_ok(r)
    assert r.json()["original_uri"] == uri


def test_fetch_keeps_signatures_out_of_original_uri(fclient, origin):
    """An Azure-shaped uri on an origin that is not a configured Azure endpoint (here loopback;
    in production a custom domain or a host with a trailing dot) is fetched as a plain uri: the
    fetch sends the whole SAS, but original_uri, the row and every answer go without its
    signature. A refresh of such a resource is a 409 that says why."""
    path = "/acct/container/blob.txt"
    origin.routes[path] = ("bytes", b"signed bytes", "text/plain")
    kept = "sv=2022-11-02&se=2030-01-01T00%3A00%3A00Z&sr=b&sp=r"
    secret = "SeCrEtSiG%2Bab%3D"
    r = fetch(fclient, origin.url(path) + f"?{kept}&sig={secret}")
    assert_ok(r)
    assert r.json()["original_uri"] == origin.url(path) + "?" + kept
    assert origin.queries[path] == f"{kept}&sig={secret}"
    rid = r.json()["id"]
    for answer in (r, fclient.get(f"/v1/resources/{rid}"), fclient.get("/v1/resources")):
        assert "SeCrEtSiG" not in answer.text
    assert fclient.get(f"/v1/resources/{rid}/content").content == b"signed bytes"
    for body in (None, {"uri": origin.url(path) + f"?{kept}&sig={secret}"}):
        err = assert_error(fclient.post(f"/v1/resources/{rid}/refresh", body), 409)["error"]
        assert "not refreshed" in err and "SeCrEtSiG" not in err
    assert fclient.get(f"/v1/resources/{rid}").json()["version"] == 1


def test_fetch_keeps_presigned_credentials_and_user_info_out_of_original_uri(fclient, origin):
    path = "/bucket/key.bin"
    origin.routes[path] = ("bytes", b"presigned", "application/x-test")
    query = ("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20260101"
             "&X-Amz-Date=20260101T000000Z&X-Amz-Expires=60&X-Amz-Security-Token=TOKENxyz"
             "&X-Amz-SignedHeaders=host&X-Amz-Signature=deadbeefcafe")
    uri = origin.url(path).replace("http://", "http://user:pa55word@") + "?" + query
    r = fetch(fclient, uri)
    assert_ok(r)
    assert r.json()["original_uri"] == origin.url(path) + (
        "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20260101T000000Z&X-Amz-Expires=60"
        "&X-Amz-SignedHeaders=host")
    assert origin.queries[path] == query
    for word in ("AKIAEXAMPLE", "TOKENxyz", "deadbeefcafe", "pa55word"):
        assert word not in fclient.get(f"/v1/resources/{r.json()['id']}").text


def test_fetch_zero_byte_body(fclient, origin):
    origin.routes["/empty"] = ("bytes", b"", "text/plain")
    r = fetch(fclient, origin.url("/empty"))
    assert_ok(r)
    assert r.json()["size_bytes"] == 0
    assert r.json()["sha256"] == sha(b"")


def test_fetch_body_without_content_length(fclient, origin):
    content = bytes(range(256)) * 64
    origin.routes["/stream"] = ("nolength", content, "application/x-stream")
    r = fetch(fclient, origin.url("/stream"))
    assert_ok(r)
    assert r.json()["size_bytes"] == len(content)
    assert fclient.get(f"/v1/resources/{r.json()['id']}/content").content == content


def test_fetch_follows_redirect_chain_of_five(fclient, origin):
    uri = origin.url("/chain/5")
    r = fetch(fclient, uri)
    assert_ok(r)
    assert r.json()["sha256"] == sha(Origin.CHAIN_BODY)
    assert r.json()["original_uri"] == uri
    assert origin.hits.get("/chain/0") == 1


def test_fetch_refuses_six_redirects(fclient, origin):
    assert_error(fetch(fclient, origin.url("/chain/6")), 400)
    assert origin.hits.get("/chain/0", 0) == 0


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_fetch_follows_absolute_redirect(fclient, origin, code):
    origin.routes["/target"] = ("bytes", b"target body", "text/plain")
    origin.routes["/moved"] = ("redirect", code, origin.url("/target"))
    r = fetch(fclient, origin.url("/moved"))
    assert_ok(r)
    assert r.json()["sha256"] == sha(b"target body")
    assert r.json()["original_uri"] == origin.url("/moved")


@pytest.mark.parametrize("code", [400, 401, 403, 404, 410])
def test_fetch_upstream_4xx_is_400(fclient, origin, code):
    origin.routes["/x"] = ("status", code)
    body = assert_error(fetch(fclient, origin.url("/x")), 400)
    assert str(code) in body["error"]


@pytest.mark.parametrize("code", [500, 502, 503])
def test_fetch_upstream_5xx_is_502(fclient, origin, code):
    origin.routes["/x"] = ("status", code)
    body = assert_error(fetch(fclient, origin.url("/x")), 502)
    assert "Traceback" not in body["error"]


def test_fetch_missing_path_is_400(fclient, origin):
    assert_error(fetch(fclient, origin.url("/does-not-exist")), 400)


def test_fetch_connection_refused_is_502(fclient):
    port = free_port()  # bound then closed: nothing listens
    assert_error(fetch(fclient, f"http://127.0.0.1:{port}/x"), 502)


def test_fetch_failure_creates_nothing(fclient, origin):
    origin.routes["/x"] = ("status", 500)
    fetch(fclient, origin.url("/x"), name="never.txt")
    assert fclient.list()["total"] == 0


@pytest.mark.parametrize("uri", [
    "ftp://127.0.0.1/file",
    "file:///etc/passwd",
    "gopher://127.0.0.1:70/",
    "dict://127.0.0.1:11211/stat",
    "javascript:alert(1)",
    "http://",
    "http:///path",
    "not a uri",
    "//127.0.0.1/x",
    "",
    "http://127.0.0.1:99999/x",
    "HTTP\x01://127.0.0.1/",
])
def test_fetch_refuses_bad_uri(fclient, uri):
    assert_error(fetch(fclient, uri), 400)


def test_fetch_refuses_uri_over_2048_bytes(fclient, origin):
    origin.routes["/long"] = ("bytes", b"long", "text/plain")
    base = origin.url("/long") + "?q="
    uri = base + "a" * (2049 - len(base))
    assert len(uri) == 2049
    assert_error(fetch(fclient, uri), 400)
    assert origin.total_hits() == 0


def test_fetch_accepts_uri_of_2048_bytes(fclient, origin):
    origin.routes["/long"] = ("bytes", b"long", "text/plain")
    base = origin.url("/long") + "?q="
    uri = base + "a" * (2048 - len(base))
    r = fetch(fclient, uri)
    assert_ok(r)
    assert r.json()["original_uri"] == uri


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://127.0.0.1:21/x",
                                    "gopher://127.0.0.1:70/x", "dict://127.0.0.1:2628/x"])
def test_fetch_refuses_redirect_to_other_scheme(fclient, origin, target):
    origin.routes["/r"] = ("redirect", 302, target)
    assert_error(fetch(fclient, origin.url("/r")), 400)
    assert fclient.list()["total"] == 0


# ---------------------------------------------------------------- limits

def test_fetch_accepts_body_at_upload_limit(limits_server, origin):
    c = limits_server.client()
    origin.routes["/k"] = ("nolength", b"k" * 1000, "text/plain")
    r = fetch(c, origin.url("/k"))
    assert_ok(r)
    assert r.json()["size_bytes"] == 1000


def test_fetch_body_without_length_over_limit_is_413(limits_server, origin):
    c = limits_server.client()
    origin.routes["/big"] = ("nolength", b"B" * 50000, "text/plain")
    assert_error(fetch(c, origin.url("/big")), 413)
    assert c.list()["total"] == 0


def test_fetch_body_just_over_limit_is_413(limits_server, origin):
    c = limits_server.client()
    origin.routes["/big"] = ("nolength", b"B" * 1001, "text/plain")
    assert_error(fetch(c, origin.url("/big")), 413)


def test_fetch_body_with_length_over_limit_is_413(limits_server, origin):
    c = limits_server.client()
    origin.routes["/big"] = ("bytes", b"B" * 50000, "text/plain")
    assert_error(fetch(c, origin.url("/big")), 413)


def test_fetch_slow_source_times_out_with_504(limits_server, origin):
    c = limits_server.client()
    origin.routes["/slow"] = ("slow", 40, 0.25)
    assert_error(fetch(c, origin.url("/slow")), 504)
    assert c.list()["total"] == 0
    # the server is still responsive afterwards
    assert_ok(c.get("/v1/resources"))


def test_fetch_configured_redirect_limit(module_server_factory, origin):
    s = module_server_factory(env={"DEPOT_FETCH_ALLOW_PRIVATE": "1",
                                   "DEPOT_FETCH_MAX_REDIRECTS": "1"})
    c = s.client()
    assert_ok(fetch(c, origin.url("/chain/1")))
    assert_error(fetch(c, origin.url("/chain/2")), 400)
