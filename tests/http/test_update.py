"""PUT /v1/resource/{id} (seed path), PUT and PATCH /v1/resources/{id}."""

import time

import pytest

from depot_helpers import assert_error, assert_ok, sha, uniq

UPDATE_ROUTES = [
    ("PUT", "/v1/resource/{}"),
    ("PUT", "/v1/resources/{}"),
    ("PATCH", "/v1/resources/{}"),
    ("PATCH", "/v1/resource/{}"),
]
ROUTE_IDS = ["PUT-singular", "PUT-plural", "PATCH-plural", "PATCH-singular"]


@pytest.fixture(params=UPDATE_ROUTES, ids=ROUTE_IDS)
def update(request, client):
    method, tmpl = request.param

    def do(rid, body, c=None):
        return (c or client).req(method, tmpl.format(rid), json_body=body)
    return do


def _make(client, **kw):
    kw.setdefault("name", uniq("orig"))
    kw.setdefault("directory_path", "/orig")
    kw.setdefault("tags", ["t1", "t2"])
    kw.setdefault("metadata", {"m": 1})
    return client.create(content=b"update me", **kw)


def test_update_name_only_leaves_other_fields(client, update):
    res = _make(client)
    time.sleep(0.01)
    r = update(res["id"], {"name": "renamed.txt"})
    assert_ok(r)
    got = r.json()
    assert got["name"] == "renamed.txt"
    for f in ("id", "account_id", "directory_path", "mime_type", "sha256", "size_bytes",
              "storage_bucket", "storage_key", "tags", "metadata", "created_by",
              "created_at", "original_uri"):
        assert got[f] == res[f], f
    assert got["updated_at"] > res["updated_at"]
    assert client.get(f"/v1/resources/{res['id']}").json() == got


def test_update_directory_path_is_normalised(client, update):
    res = _make(client)
    r = update(res["id"], {"directory_path": "new/place/"})
    assert_ok(r)
    assert r.json()["directory_path"] == "/new/place"
    assert r.json()["name"] == res["name"]


def test_update_directory_path_to_root(client, update):
    res = _make(client)
    r = update(res["id"], {"directory_path": ""})
    assert_ok(r)
    assert r.json()["directory_path"] == "/"


def test_update_metadata_replaces_whole_object(client, update):
    res = _make(client, metadata={"a": 1, "b": 2})
    r = update(res["id"], {"metadata": {"c": 3}})
    assert_ok(r)
    assert r.json()["metadata"] == {"c": 3}
    assert r.json()["tags"] == res["tags"]


def test_update_metadata_null_clears_it(client, update):
    res = _make(client, metadata={"a": 1})
    r = update(res["id"], {"metadata": None})
    assert_ok(r)
    assert r.json()["metadata"] is None
    assert client.get(f"/v1/resources/{res['id']}").json()["metadata"] is None


def test_update_tags_replaces_set(client, update):
    res = _make(client, tags=["old1", "old2"])
    r = update(res["id"], {"tags": ["z", "new", "z"]})
    assert_ok(r)
    assert r.json()["tags"] == ["new", "z"]
    r = update(res["id"], {"tags": []})
    assert_ok(r)
    assert r.json()["tags"] == []
    assert client.get(f"/v1/resources/{res['id']}").json()["tags"] == []


def test_update_all_fields_at_once(client, update):
    res = _make(client)
    r = update(res["id"], {"name": "all.txt", "directory_path": "/all", "tags": ["x"],
                           "metadata": {"y": [1]}})
    assert_ok(r)
    got = r.json()
    assert (got["name"], got["directory_path"], got["tags"], got["metadata"]) == \
        ("all.txt", "/all", ["x"], {"y": [1]})
    assert got["sha256"] == sha(b"update me")
    assert client.get(f"/v1/resources/{res['id']}/content").content == b"update me"


def test_update_empty_body_object_changes_nothing_but_is_ok(client, update):
    res = _make(client)
    r = update(res["id"], {})
    assert_ok(r)
    # a body that sets nothing changes nothing (not even updated_at / version)
    assert r.json() == res
    assert client.get(f"/v1/resources/{res['id']}").json() == res


def test_update_increments_version(client, update):
    res = _make(client)
    assert res["version"] == 1
    r = update(res["id"], {"metadata": {"v": 2}})
    assert_ok(r)
    assert r.json()["version"] == 2
    r = update(res["id"], {"name": "v3.txt", "tags": ["v3"]})
    assert_ok(r)
    assert r.json()["version"] == 3
    assert client.get(f"/v1/resources/{res['id']}").json()["version"] == 3


def test_update_failed_does_not_increment_version(client, update):
    res = _make(client)
    assert_error(update(res["id"], {"name": ""}), 400)
    assert client.get(f"/v1/resources/{res['id']}").json()["version"] == res["version"]


def test_update_ignores_read_only_fields(client, update):
    res = _make(client)
    r = update(res["id"], {"id": "00000000-0000-0000-0000-000000000000",
                           "account_id": "other", "sha256": "0" * 64, "size_bytes": 1,
                           "created_at": "2000-01-01T00:00:00.000000Z",
                           "created_by": "mallory", "mime_type": "evil/x",
                           "storage_key": "x", "unknown": 1})
    assert_ok(r)
    got = r.json()
    for f in ("id", "account_id", "sha256", "size_bytes", "created_at", "created_by",
              "mime_type", "storage_key"):
        assert got[f] == res[f], f


def test_update_advances_updated_at_and_keeps_created_at(client, update):
    res = _make(client)
    time.sleep(0.02)
    r1 = update(res["id"], {"metadata": {"v": 1}})
    assert_ok(r1)
    time.sleep(0.02)
    r2 = update(res["id"], {"metadata": {"v": 2}})
    assert_ok(r2)
    assert res["created_at"] == r1.json()["created_at"] == r2.json()["created_at"]
    assert res["updated_at"] < r1.json()["updated_at"] < r2.json()["updated_at"]


def test_update_rename_onto_taken_name_is_409(client, update):
    a = _make(client, name="a.txt", directory_path="/same")
    b = _make(client, name="b.txt", directory_path="/same")
    assert_error(update(b["id"], {"name": "a.txt"}), 409)
    assert client.get(f"/v1/resources/{b['id']}").json()["name"] == "b.txt"
    assert client.get(f"/v1/resources/{a['id']}").json()["name"] == "a.txt"


def test_update_move_onto_taken_path_is_409(client, update):
    _make(client, name="c.txt", directory_path="/one")
    b = _make(client, name="c.txt", directory_path="/two")
    assert_error(update(b["id"], {"directory_path": "one/"}), 409)
    assert client.get(f"/v1/resources/{b['id']}").json()["directory_path"] == "/two"


def test_update_rename_to_own_name_is_ok(client, update):
    a = _make(client, name="self.txt", directory_path="/s")
    r = update(a["id"], {"name": "self.txt", "directory_path": "/s"})
    assert_ok(r)


def test_update_unknown_id_is_404(client, update):
    assert_error(update("6f1c1d7e-1111-4222-8333-944455556666", {"name": "x"}), 404)


@pytest.mark.parametrize("bad_id", ["nope", "1234", "6f1c1d7e-1111-4222-8333-94445555666z"])
def test_update_malformed_id_is_404(client, update, bad_id):
    assert_error(update(bad_id, {"name": "x"}), 404)


@pytest.mark.parametrize("patch", [
    {"name": ""}, {"name": "a/b"}, {"name": ".."}, {"name": "x\x01"}, {"name": "a" * 256},
    {"name": 5}, {"name": None},
    {"directory_path": "a//b"}, {"directory_path": "../x"}, {"directory_path": 7},
    {"directory_path": None},
    {"tags": [""]}, {"tags": "a"}, {"tags": ["a,b"]}, {"tags": [f"t{i}" for i in range(51)]},
    {"tags": None},
    {"metadata": []}, {"metadata": "s"}, {"metadata": {"k": "x" * 70000}},
], ids=["name-empty", "name-slash", "name-dotdot", "name-ctrl", "name-256", "name-num",
        "name-null", "dir-double-slash", "dir-dotdot", "dir-num", "dir-null", "tag-empty",
        "tags-string", "tag-comma", "tags-51", "tags-null", "meta-array", "meta-string",
        "meta-too-big"])
def test_update_rejects_invalid_values(client, update, patch):
    res = _make(client)
    assert_error(update(res["id"], patch), 400)
    after = client.get(f"/v1/resources/{res['id']}").json()
    assert after == res


@pytest.mark.parametrize("raw", [b"", b"{", b"[]", b'"x"', b"null"],
                         ids=["empty", "broken", "array", "string", "null"])
def test_update_rejects_malformed_body(client, raw):
    res = _make(client)
    for method, path in (("PUT", "/v1/resource/{}"), ("PATCH", "/v1/resources/{}")):
        r = client.req(method, path.format(res["id"]), data=raw,
                       headers={"Content-Type": "application/json"})
        assert_error(r, 400)


def test_update_frees_old_name(client):
    a = _make(client, name="old.txt", directory_path="/f")
    assert_ok(client.put(f"/v1/resource/{a['id']}", {"name": "new.txt"}))
    b = client.create(name="old.txt", directory_path="/f")
    assert b["id"] != a["id"]
