"""/healthz, /openapi.json, unknown paths (404), wrong methods (405 + Allow), robustness."""

import json
import socket
import time

import pytest

from depot_helpers import codes_of, race, TIMEOUT, assert_error, assert_ok, token


def test_healthz_is_ok_without_auth(server):
    r = server.request("GET", "/healthz")
    assert_ok(r)
    assert r.json() == {"status": "ok"}
    assert r.headers.get("Content-Type", "").startswith("application/json")


def test_healthz_head_is_answered(server):
    r = server.request("HEAD", "/healthz")
    assert_ok(r)
    assert r.content == b""


def test_openapi_json_is_openapi_3_1(server):
    r = server.request("GET", "/openapi.json")
    assert_ok(r)
    doc = json.loads(r.content)
    assert isinstance(doc, dict)
    assert isinstance(doc.get("openapi"), str) and doc["openapi"].startswith("3.1")
    paths = doc.get("paths", {})
    assert "/v1/resources" in paths
    assert any("{id}" in p for p in paths)


@pytest.mark.parametrize("path", ["/", "/nope", "/v1", "/v1/", "/v1/nope", "/v2/resources",
                                  "/v1/resources/6f1c1d7e-1111-4222-8333-944455556666/extra",
                                  "/v1/resourcesx", "/healthz/x", "/openapi.yaml"])
def test_unknown_path_is_404_json(server, path):
    r = server.request("GET", path, tok=token("acct-misc"))
    assert_error(r, 404)
    assert r.headers.get("Content-Type", "").startswith("application/json")


@pytest.mark.parametrize("method,path,must_allow", [
    ("DELETE", "/v1/resources", {"GET", "POST"}),
    ("PUT", "/v1/resources", {"GET", "POST"}),
    ("PATCH", "/v1/resources", {"GET", "POST"}),
    ("POST", "/v1/resources/6f1c1d7e-1111-4222-8333-944455556666",
     {"GET", "PUT", "PATCH", "DELETE"}),
    ("POST", "/v1/resource/6f1c1d7e-1111-4222-8333-944455556666",
     {"GET", "PUT", "PATCH", "DELETE"}),
    ("POST", "/v1/resources/6f1c1d7e-1111-4222-8333-944455556666/content", {"GET"}),
    ("DELETE", "/v1/resources/6f1c1d7e-1111-4222-8333-944455556666/content", {"GET"}),
    ("POST", "/healthz", {"GET"}),
    ("DELETE", "/openapi.json", {"GET"}),
])
def test_wrong_method_is_405_with_allow(server, method, path, must_allow):
    r = server.request(method, path, tok=token("acct-misc"))
    assert_error(r, 405)
    allow = r.headers.get("Allow")
    assert allow is not None, "405 without Allow header"
    allowed = {m.strip().upper() for m in allow.split(",")}
    assert must_allow <= allowed, allow
    assert method not in allowed


def test_error_bodies_are_json_objects(server):
    r = server.request("GET", "/v1/resources")
    body = assert_error(r, 401)
    assert set(body) >= {"error"}


def test_server_survives_garbage_request_line(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as s:
        s.sendall(b"THIS IS NOT HTTP\r\n\r\n")
        s.settimeout(5)
        try:
            s.recv(4096)
        except OSError:
            pass
    assert_ok(server.request("GET", "/healthz"))


def _abandon_upload(port, tok):
    """Send headers and part of a JSON body, then hang up."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as s:
        s.sendall(b"POST /v1/resources HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Authorization: Bearer " + tok.encode() +
                  b"\r\nContent-Length: 1000\r\n\r\n{\"name\":")


def test_server_survives_truncated_body(server_factory):
    s = server_factory()
    _abandon_upload(s.port, token("acct-trunc"))
    assert_ok(s.request("GET", "/healthz"))
    assert s.client(account="acct-trunc").list()["total"] == 0


def test_sigterm_exits_promptly_after_clients_abandon_uploads(server_factory):
    """Clients that hang up mid-body must not hold up shutdown (exit 0 within 10 s)."""
    s = server_factory()
    for _ in range(50):
        _abandon_upload(s.port, token("acct-trunc"))
    time.sleep(0.5)
    s.stop()  # raises when depotd does not exit 0 within 10 s of SIGTERM


def test_sigterm_exits_promptly_with_idle_keepalive_connection(server_factory):
    import requests
    s = server_factory()
    with requests.Session() as sess:
        assert sess.get(s.url("/healthz"), timeout=TIMEOUT).status_code == 200
        s.stop()


def test_server_handles_keep_alive_sequence(server):
    import requests
    tok = token("acct-keepalive")
    with requests.Session() as sess:
        for _ in range(5):
            r = sess.get(server.url("/v1/resources"), headers={"Authorization": f"Bearer {tok}"},
                         timeout=TIMEOUT)
            assert r.status_code == 200
            r = sess.get(server.url("/healthz"), timeout=TIMEOUT)
            assert r.status_code == 200


def test_5xx_and_4xx_bodies_do_not_leak_paths(server, client):
    r = client.get("/v1/resources/6f1c1d7e-1111-4222-8333-944455556666")
    assert_error(r, 404)
    assert str(server.data_dir) not in r.text


def test_head_list_is_answered(server, client):
    client.create()
    r = client.head("/v1/resources")
    assert_ok(r)
    assert r.content == b""


def test_error_responses_are_json_content_type(server, client):
    for r in (server.request("GET", "/v1/resources"),
              client.get("/v1/resources/nope"),
              client.get("/nope"),
              client.post("/v1/resources", {"name": ""}),
              server.request("DELETE", "/v1/resources", tok=client.tok)):
        assert r.status_code >= 400
        assert r.headers.get("Content-Type", "").startswith("application/json"), \
            (r.status_code, r.headers.get("Content-Type"))


def test_deeply_nested_json_does_not_crash(client):
    depth = 100000
    raw = ('{"name":"deep","directory_path":"/","content":"data:text/plain;base64,eA==",'
           '"x":' + "[" * depth + "]" * depth + "}").encode()
    r = client.req("POST", "/v1/resources", data=raw,
                   headers={"Content-Type": "application/json"})
    assert r.status_code < 500, r.text[:200]
    nested = "{" + '"a":{' * 3000 + "}" * 3000 + "}"
    raw = ('{"name":"deep2","directory_path":"/","content":"data:text/plain;base64,eA==",'
           '"metadata":' + nested + "}").encode()
    r = client.req("POST", "/v1/resources", data=raw,
                   headers={"Content-Type": "application/json"})
    assert r.status_code < 500, r.text[:200]
    assert_ok(client.get("/v1/resources"))


def test_very_long_query_string_is_refused_cleanly(client):
    r = client.get("/v1/resources", params={"tags": "a" * 200000})
    assert 400 <= r.status_code < 500, r.status_code
    assert_ok(client.get("/v1/resources"))


def test_concurrent_deletes_of_one_resource_exactly_one_wins(server):
    c = server.client()
    res = c.create(content=b"delete race")
    twin = c.create(content=b"delete race")
    n = 10
    codes = codes_of(race(n, lambda i: c.delete(f"/v1/resources/{res['id']}")))
    assert sorted(codes, key=str) == sorted([204] + [404] * (n - 1), key=str), codes
    got = c.get(f"/v1/resources/{twin['id']}/content")
    assert_ok(got)
    assert got.content == b"delete race"
