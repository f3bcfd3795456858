"""/healthz, /openapi.json, unknown paths (404), wrong methods (405 + Allow), robustness."""

import json
import socket

import pytest

from depot_helpers import TIMEOUT, assert_error, assert_ok, token


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


def test_server_survives_truncated_body(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as s:
        s.sendall(b"POST /v1/resources HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Authorization: Bearer " + token("acct-trunc").encode() +
                  b"\r\nContent-Length: 1000\r\n\r\n{\"name\":")
    assert_ok(server.request("GET", "/healthz"))


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
