"""An update that changes fields and the value (/v1 PATCH/PUT with `value`, Tines PUT) is one
write: one new version, If-Match guarding the whole, and a value that fails changes nothing."""

import base64

from depot_helpers import assert_error, assert_ok, sha, uniq


def make(client, value="first", **extra):
    body = {"name": uniq("atomic"), "directory_path": "/atomic", "value": value}
    body.update(extra)
    r = client.post("/v1/resources", body)
    assert_ok(r)
    return r.json()


def current(client, rid):
    r = client.get(f"/v1/resources/{rid}")
    assert_ok(r)
    return r.json()


def assert_unchanged(client, before):
    now = current(client, before["id"])
    for f in ("name", "directory_path", "tags", "metadata", "description", "sha256",
              "size_bytes", "mime_type", "storage_key", "version", "updated_at",
              "test_resource_enabled", "test_resource"):
        assert now[f] == before[f], f
    assert client.get(f"/v1/resources/{before['id']}/value").json()["value"] == "first"


def test_fields_and_value_bump_the_version_once(client):
    res = make(client)
    assert res["version"] == 1
    for method, n in (("PATCH", 2), ("PUT", 3)):
        r = client.req(method, f"/v1/resources/{res['id']}",
                       json_body={"name": f"renamed-{n}", "tags": ["x"], "value": f"value {n}"})
        assert_ok(r)
        got = r.json()
        assert got["version"] == n
        assert got["name"] == f"renamed-{n}" and got["tags"] == ["x"]
        assert got["sha256"] == sha(f"value {n}".encode())
        assert current(client, res["id"]) == got


def test_enabling_and_writing_the_test_value_is_one_version(client):
    res = make(client)
    r = client.patch(f"/v1/resources/{res['id']}",
                     {"test_resource_enabled": True, "value": "the test", "is_test": True,
                      "description": "both"})
    assert_ok(r)
    got = r.json()
    assert got["version"] == 2
    assert got["description"] == "both"
    assert got["sha256"] == res["sha256"]
    assert got["test_resource"]["sha256"] == sha(b"the test")


def test_stale_if_match_changes_neither_fields_nor_value(client):
    res = make(client)
    moved = client.patch(f"/v1/resources/{res['id']}", {"description": "v2"}).json()
    assert moved["version"] == 2
    body = {"name": "should-not-happen", "metadata": {"no": 1}, "value": "should not land"}
    for stale in ('"1"', "1", '"%s"' % sha(b"something else")):
        r = client.patch(f"/v1/resources/{res['id']}", body, headers={"If-Match": stale})
        assert_error(r, 412)
        assert_unchanged(client, moved)
    # the current version lets the whole update through, as one version
    r = client.patch(f"/v1/resources/{res['id']}", body, headers={"If-Match": '"2"'})
    assert_ok(r)
    assert r.json()["version"] == 3
    assert r.json()["name"] == "should-not-happen"
    assert r.json()["sha256"] == sha(b"should not land")


def test_a_refused_value_leaves_the_fields_unchanged(client):
    res = make(client)
    # a test value while test_resource_enabled is false: 409, and the rename is not kept
    r = client.patch(f"/v1/resources/{res['id']}",
                     {"name": "renamed", "tags": ["t"], "value": "t", "is_test": True})
    assert "test_resource_enabled" in assert_error(r, 409)["error"]
    assert_unchanged(client, res)
    # a test value while the same body turns it off
    on = client.patch(f"/v1/resources/{res['id']}", {"test_resource_enabled": True}).json()
    r = client.patch(f"/v1/resources/{res['id']}",
                     {"test_resource_enabled": False, "value": "t", "is_test": True})
    assert_error(r, 409)
    assert_unchanged(client, on)


def test_a_value_over_the_upload_limit_leaves_the_fields_unchanged(server_factory):
    s = server_factory(env={"DEPOT_MAX_UPLOAD_BYTES": "64"})
    c = s.client()
    res = make(c)
    r = c.patch(f"/v1/resources/{res['id']}", {"name": "renamed", "value": "x" * 65})
    assert_error(r, 413)
    assert_unchanged(c, res)
    # Tines: a file value over the limit, with a rename
    tid = res["numeric_id"]
    big = base64.b64encode(b"y" * 65).decode()
    r = c.put(f"/api/v1/global_resources/{tid}",
              {"name": "renamed", "value": {"name": "f.bin", "contents": big}})
    assert_error(r, 413)
    assert_unchanged(c, res)


def test_tines_update_of_fields_and_value_is_one_version(client):
    res = make(client)
    tid = res["numeric_id"]
    r = client.put(f"/api/v1/global_resources/{tid}",
                   {"name": "tines-renamed", "description": "d", "value": {"a": 1}})
    assert_ok(r)
    assert r.json()["name"] == "tines-renamed"
    got = current(client, res["id"])
    assert got["version"] == 2
    assert got["description"] == "d" and got["sha256"] == sha(b'{"a":1}')
    # a refused test value: nothing of the body is kept
    r = client.put(f"/api/v1/global_resources/{tid}",
                   {"name": "tines-again", "value": "t", "is_test": True})
    assert_error(r, 409)
    assert current(client, res["id"]) == got
