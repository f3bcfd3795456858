"""The capabilities of seeds 003 and 004 in /v1 (docs/API.md "Capabilities of seeds 003 and
004"): description, text values, test values (and their blobs), folders, slug and numeric ids;
and one resource read through all three dialects with the same values."""

import base64
import datetime

import pytest
import requests

from depot_helpers import (TIMEOUT, assert_error, assert_ok, blob_keys, data_url, png_bytes, sha,
                           uniq)


def make(client, **body):
    body.setdefault("name", uniq("c"))
    body.setdefault("directory_path", "/caps")
    r = client.post("/v1/resources", body)
    assert_ok(r)
    return r.json()


def value_of(client, rid, **params):
    r = client.get(f"/v1/resources/{rid}/value", params=params)
    assert_ok(r)
    assert set(r.json()) == {"value"}
    return r.json()["value"]


# ---------------------------------------------------------------- description


def test_description_on_create_update_and_clear(client):
    res = make(client, value="v", description="what it is")
    assert res["description"] == "what it is"
    assert make(client, value="v")["description"] is None
    r = client.patch(f"/v1/resources/{res['id']}", {"description": "line one\nline two\ttabbed"})
    assert r.json()["description"] == "line one\nline two\ttabbed"
    assert r.json()["version"] == res["version"] + 1
    r = client.put(f"/v1/resource/{res['id']}", {"description": None})
    assert r.json()["description"] is None
    assert_error(client.patch(f"/v1/resources/{res['id']}", {"description": 1}), 400)
    assert_error(client.patch(f"/v1/resources/{res['id']}", {"description": "x" * 4097}), 400)
    assert_ok(client.patch(f"/v1/resources/{res['id']}", {"description": "\u00e9" * 2048}))
    assert_error(client.patch(f"/v1/resources/{res['id']}", {"description": "a\u0000b"}), 400)
    assert_error(client.post("/v1/resources", {"name": uniq(), "directory_path": "/", "value": "v",
                                               "description": ["no"]}), 400)


def test_description_on_multipart_create(server_factory):
    client = server_factory().client()  # a GLOBAL resource shows in every account's shared list
    r = client.post("/v1/resources", files=[
        ("file", ("f.txt", b"form bytes", "text/plain")), ("directory_path", (None, "/caps")),
        ("description", (None, "from a form")), ("read_access", (None, "GLOBAL"))],
        body=None)
    assert_ok(r)
    assert r.json()["description"] == "from a form" and r.json()["read_access"] == "GLOBAL"
    r = client.post("/v1/resources", files=[
        ("file", ("g.txt", b"x", "text/plain")), ("directory_path", (None, "/caps")),
        ("read_access", (None, "SPECIFIC_TEAMS")), ("shared_team_slugs", (None, "b,a"))], body=None)
    assert_ok(r)
    assert r.json()["shared_team_slugs"] == ["a", "b"]
    r = client.post("/v1/resources", files=[
        ("file", ("h.txt", b"x", "text/plain")), ("directory_path", (None, "/caps")),
        ("read_access", (None, "NOBODY"))], body=None)
    assert_error(r, 400)


# ---------------------------------------------------------------- text values


@pytest.mark.parametrize("text,mime,typed", [
    ("hello world", "text/plain", "hello world"),
    ("42", "application/json", 42),
    ("-1.5e3", "application/json", -1500.0),
    ("true", "application/json", True),
    ("null", "application/json", None),
    ("[1, \"two\"]", "application/json", [1, "two"]),
    ('{"a": {"b": [true]}}', "application/json", {"a": {"b": [True]}}),
    ('"quoted"', "application/json", "quoted"),
    ("{not json", "text/plain", "{not json"),
    ("", "text/plain", ""),
    ("\u00fcnic\u00f6de \u2603", "text/plain", "\u00fcnic\u00f6de \u2603"),
])
def test_text_value_is_stored_as_bytes_and_read_back(client, text, mime, typed):
    res = make(client, value=text)
    assert res["mime_type"] == mime
    assert res["size_bytes"] == len(text.encode()) and res["sha256"] == sha(text.encode())
    assert client.get(f"/v1/resources/{res['id']}/content").content == text.encode()
    assert value_of(client, res["id"]) == text
    assert value_of(client, res["id"], typed_value="true") == typed
    assert value_of(client, res["id"], typed_value="false") == text


def test_value_rules(client):
    base = {"name": uniq(), "directory_path": "/"}
    for extra in ({"value": 5}, {"value": ["a"]}, {"value": "v", "content": data_url(b"x")},
                  {"value": "v", "upload": "pending"}, {"value": "v", "uri": "https://example.com/x"}):
        assert_error(client.post("/v1/resources", dict(base, **extra)), 400)
    res = make(client, value="first")
    r = client.patch(f"/v1/resources/{res['id']}", {"value": "second", "name": "renamed-" + res["name"]})
    assert_ok(r)
    assert r.json()["name"].startswith("renamed-") and r.json()["sha256"] == sha(b"second")
    assert value_of(client, res["id"]) == "second"
    assert_error(client.patch(f"/v1/resources/{res['id']}", {"value": 1}), 400)
    assert_error(client.patch(f"/v1/resources/{res['id']}", {"is_test": True}), 400)
    assert_error(client.get(f"/v1/resources/{res['id']}/value", params={"typed_value": "yes"}), 400)


def test_other_content_reads_as_a_file_value(client):
    png = png_bytes()
    res = client.create(name="pic.png", content=png, mime="image/png")
    v = value_of(client, res["id"])
    assert v == {"name": "pic.png", "type": "image/png", "contents": base64.b64encode(png).decode()}
    bad = client.create(content=b"\xff\xfe not utf-8", mime="text/plain")
    assert base64.b64decode(value_of(client, bad["id"])["contents"]) == b"\xff\xfe not utf-8"
    pending = client.post("/v1/resources", {"name": uniq(), "directory_path": "/", "upload": "pending"})
    assert value_of(client, pending.json()["id"]) is None


def test_value_over_max_json_bytes_has_no_contents(server_factory):
    s = server_factory(env={"DEPOT_MAX_JSON_BYTES": "1024"})
    c = s.client()
    big = c.create(content=b"y" * 5000, mime="text/plain")
    assert value_of(c, big["id"]) == {"name": big["name"], "type": "text/plain", "contents": None}
    small = c.create(content=b"y" * 1000, mime="text/plain")
    assert value_of(c, small["id"]) == "y" * 1000


# ---------------------------------------------------------------- test values


def test_test_value_lifecycle(client):
    res = make(client, value="live")
    assert res["test_resource_enabled"] is False and res["test_resource"] is None
    r = client.put(f"/v1/resources/{res['id']}/content", params={"is_test": "true"}, data=b"t",
                   headers={"Content-Type": "text/plain"})
    assert_error(r, 409)
    on = client.patch(f"/v1/resources/{res['id']}", {"test_resource_enabled": True}).json()
    assert on["test_resource_enabled"] is True
    assert on["test_resource"] == {"sha256": res["sha256"], "size_bytes": 4, "mime_type": "text/plain",
                                   "storage_bucket": res["storage_bucket"], "storage_key": res["storage_key"]}
    r = client.put(f"/v1/resources/{res['id']}/content", params={"is_test": "true"}, data=b"test bytes",
                   headers={"Content-Type": "application/x-test"})
    assert_ok(r)
    t = r.json()
    assert t["sha256"] == res["sha256"] and t["test_resource"]["sha256"] == sha(b"test bytes")
    assert t["test_resource"]["mime_type"] == "application/x-test"
    assert client.get(f"/v1/resources/{res['id']}/content").content == b"live"
    g = client.get(f"/v1/resources/{res['id']}/content", params={"is_test": "true"})
    assert g.content == b"test bytes" and g.headers["Content-Type"] == "application/x-test"
    assert g.headers["ETag"] == '"%s"' % sha(b"test bytes")
    r = client.patch(f"/v1/resources/{res['id']}", {"value": "{\"t\": 1}", "is_test": True})
    assert value_of(client, res["id"], is_test="true", typed_value="true") == {"t": 1}
    assert value_of(client, res["id"]) == "live"
    off = client.patch(f"/v1/resources/{res['id']}", {"test_resource_enabled": False}).json()
    assert off["test_resource"] is None and off["test_resource_enabled"] is False
    # without a test value, is_test reads the live content
    assert client.get(f"/v1/resources/{res['id']}/content", params={"is_test": "1"}).content == b"live"
    assert value_of(client, res["id"], is_test="true") == "live"
    # enabling again starts from the live content, not from the dropped test value
    again = client.patch(f"/v1/resources/{res['id']}", {"test_resource_enabled": True}).json()
    assert again["test_resource"]["sha256"] == res["sha256"]
    created = make(client, value="both", test_resource_enabled=True)
    assert created["test_resource"]["sha256"] == created["sha256"]
    pend = client.post("/v1/resources", {"name": uniq(), "directory_path": "/", "upload": "pending",
                                         "test_resource_enabled": True})
    assert_error(pend, 400)
    pend = client.post("/v1/resources", {"name": uniq(), "directory_path": "/", "upload": "pending"}).json()
    assert_error(client.patch(f"/v1/resources/{pend['id']}", {"test_resource_enabled": True}), 409)
    assert_error(client.get(f"/v1/resources/{res['id']}/content", params={"is_test": "perhaps"}), 400)


def blob_exists(server, key):
    return key in blob_keys(server)  # files, or the objects of the server's bucket


def test_test_value_blobs_are_released_with_the_resource(server_factory):
    """With inline storage off every content is a file: a test value's blob goes when its
    resource is deleted or its test value disabled, and stays while another row refers to it."""
    s = server_factory(env={"DEPOT_INLINE_MAX_BYTES": "0"})
    c = s.client()
    res = make(c, value="the live content")
    assert res["storage_key"].startswith("blobs/") and blob_exists(s, res["storage_key"])
    c.patch(f"/v1/resources/{res['id']}", {"test_resource_enabled": True})
    t = c.patch(f"/v1/resources/{res['id']}", {"value": "the test content", "is_test": True}).json()
    tkey = t["test_resource"]["storage_key"]
    assert tkey != res["storage_key"] and blob_exists(s, tkey)
    # another resource's test value holds the same bytes as this one's live content
    other = make(c, value="other live", test_resource_enabled=True)
    c.patch(f"/v1/resources/{other['id']}", {"value": "the live content", "is_test": True})
    assert c.delete(f"/v1/resources/{res['id']}").status_code == 204
    assert not blob_exists(s, tkey), "the deleted resource's test value blob is still there"
    assert blob_exists(s, res["storage_key"]), "a blob still used as a test value was removed"
    g = c.get(f"/v1/resources/{other['id']}/content", params={"is_test": "true"})
    assert g.content == b"the live content"
    # disabling drops the test value: its blob goes once no row refers to it
    c.patch(f"/v1/resources/{other['id']}", {"test_resource_enabled": False})
    assert not blob_exists(s, res["storage_key"])
    assert blob_exists(s, other["storage_key"])
    # replacing a test value releases the old one
    third = make(c, value="third", test_resource_enabled=True)
    c.patch(f"/v1/resources/{third['id']}", {"value": "t1", "is_test": True})
    k1 = c.get(f"/v1/resources/{third['id']}").json()["test_resource"]["storage_key"]
    c.patch(f"/v1/resources/{third['id']}", {"value": "t2", "is_test": True})
    assert not blob_exists(s, k1)
    # after a restart (its start-up sweep), what rows refer to is all still there
    s.stop()
    s2 = server_factory(env={"DEPOT_INLINE_MAX_BYTES": "0"}, data_dir=s.data_dir)
    c2 = s2.client(c.account)
    assert c2.get(f"/v1/resources/{third['id']}/content", params={"is_test": "true"}).content == b"t2"
    assert c2.get(f"/v1/resources/{third['id']}/content").content == b"third"
    s2.stop()


def test_inline_test_values_are_dropped_with_their_row(client):
    res = make(client, value="inline live", test_resource_enabled=True)
    assert res["storage_bucket"] == "inline"
    client.patch(f"/v1/resources/{res['id']}", {"value": "inline test", "is_test": True})
    twin = make(client, value="x", test_resource_enabled=True)
    client.patch(f"/v1/resources/{twin['id']}", {"value": "inline test", "is_test": True})
    assert client.delete(f"/v1/resources/{res['id']}").status_code == 204
    g = client.get(f"/v1/resources/{twin['id']}/content", params={"is_test": "true"})
    assert_ok(g)
    assert g.content == b"inline test"


# ---------------------------------------------------------------- folders


def test_folders_create_list_get_and_move(server, client):
    path = "/" + uniq("folder") + "/sub"
    r = client.post("/v1/folders", {"directory_path": path[1:] + "/"})
    assert_ok(r)
    f = r.json()
    assert set(f) == {"id", "account_id", "name", "directory_path", "created_at"}
    assert (f["directory_path"], f["name"], f["account_id"]) == (path, "sub", client.account)
    assert_error(client.post("/v1/folders", {"directory_path": path}), 409)
    for bad in ({}, {"directory_path": "/"}, {"directory_path": ""}, {"directory_path": "a//b"},
                {"directory_path": 3}):
        assert_error(client.post("/v1/folders", bad), 400)
    assert client.get(f"/v1/folders/{f['id']}").json() == f
    assert_error(client.get("/v1/folders/999999999"), 404)
    assert_error(client.get("/v1/folders/abc"), 404)
    assert_error(server.client().get(f"/v1/folders/{f['id']}"), 404)
    second = client.post("/v1/folders", {"directory_path": "/a-" + uniq()}).json()
    body = client.get("/v1/folders").json()
    by_path = [x["id"] for x in sorted([f, second], key=lambda x: x["directory_path"])]
    assert body["total"] == 2 and [x["id"] for x in body["items"]] == by_path
    assert client.get("/v1/folders", params={"page_size": 1, "page": 2}).json()["items"][0]["id"] in (
        f["id"], second["id"])
    assert_error(client.get("/v1/folders", params={"page_size": 0}), 400)
    # moving a resource in and out; a resource already at the path is in the folder
    res = make(client, value="v")
    assert res["folder_id"] is None
    moved = client.patch(f"/v1/resources/{res['id']}", {"folder_id": f["id"]}).json()
    assert moved["folder_id"] == f["id"] and moved["directory_path"] == path
    there = make(client, value="v", directory_path=path)
    assert there["folder_id"] == f["id"]
    inside = client.list(folder_id=f["id"], page_size=100)
    assert sorted(x["id"] for x in inside["items"]) == sorted([res["id"], there["id"]])
    below = make(client, value="v", directory_path=path + "/deeper")
    assert below["folder_id"] is None
    assert below["id"] not in [x["id"] for x in client.list(folder_id=f["id"])["items"]]
    back = client.patch(f"/v1/resources/{res['id']}", {"folder_id": None}).json()
    assert back["directory_path"] == "/" and back["folder_id"] is None
    assert_error(client.patch(f"/v1/resources/{res['id']}", {"folder_id": 999999999}), 400)
    assert_error(client.patch(f"/v1/resources/{res['id']}", {"folder_id": f["id"], "directory_path": "/x"}), 400)
    assert_error(client.get("/v1/resources", params={"folder_id": "x"}), 400)
    assert_error(client.get("/v1/resources", params={"folder_id": 999999999}), 400)
    assert_error(client.get("/v1/resources", params={"folder_id": f["id"], "directory_prefix": "/"}), 400)
    # another account's folder id is no folder of this one
    other = server.client()
    assert_error(other.patch(f"/v1/resources/{make(other, value='v')['id']}", {"folder_id": f["id"]}), 400)


# ---------------------------------------------------------------- slug and numeric ids


def test_slug(client):
    for name, slug in (("an array resource", "an_array_resource"), ("Prod-Key.v2", "prod_key_v2"),
                       ("\u00e9t\u00e9 2024", "_t__2024"), ("ABC", "abc"), ("a\u2603b", "a_b")):
        assert make(client, value="v", name=name)["slug"] == slug


def test_numeric_ids_ascend_and_are_never_reused(server_factory):
    s = server_factory()
    c = s.client()
    a = make(c, value="a")
    b = make(c, value="b")
    assert b["numeric_id"] > a["numeric_id"]
    assert c.delete(f"/v1/resources/{b['id']}").status_code == 204
    d = make(c, value="d")
    assert d["numeric_id"] > b["numeric_id"], "the deleted highest id came back"
    s.stop()
    s2 = server_factory(data_dir=s.data_dir)
    c2 = s2.client(c.account)
    e = make(c2, value="e")
    assert e["numeric_id"] > d["numeric_id"]
    assert c2.get(f"/v1/resources/{a['id']}").json()["numeric_id"] == a["numeric_id"]
    assert c2.get(f"/api/v1/global_resources/{b['numeric_id']}").status_code == 404


def test_imported_and_group_committed_rows_get_distinct_ids(client):
    lines = "\n".join('{"name": "imp-%d-%s", "directory_path": "/imp", "content": "%s"}' % (
        i, uniq(), data_url(b"i%d" % i)) for i in range(20)) + "\n"
    r = client.post("/v1/resources/import", data=lines.encode(),
                    headers={"Content-Type": "application/x-ndjson"}, body=None)
    assert_ok(r)
    items = client.list(directory_prefix="/imp", page_size=100)["items"]
    ids = [x["numeric_id"] for x in items]
    assert len(ids) == 20 and len(set(ids)) == 20


# ---------------------------------------------------------------- one resource, three dialects


def ts(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


@pytest.mark.parametrize("made_in", ["v1", "empirical", "tines"])
def test_same_resource_reads_the_same_in_three_dialects(server, made_in):
    c = server.client(sub="consistent-user")
    name = uniq("same") + ".txt"
    text = "the same bytes everywhere"
    if made_in == "v1":
        made = make(c, name=name, directory_path="/", value=text, description="described")
        nid = made["numeric_id"]
    elif made_in == "empirical":
        r = c.post("/api/resources", {"name": name, "mime_type": "text/plain", "description": "described"})
        res = r.json()["data"]["resource"]
        assert_ok(requests.put(res["upload_url"], data=text.encode(), timeout=TIMEOUT))
        assert_ok(c.patch(f"/api/resources/{res['id']}", {"status": "uploaded"}))
        nid = res["id"]
    else:
        nid = c.post("/api/v1/global_resources", {"name": name, "value": text,
                                                  "description": "described"}).json()["id"]
    emp = c.get(f"/api/resources/{nid}").json()["data"]["resource"]
    tin = c.get(f"/api/v1/global_resources/{nid}").json()
    v1 = c.get(f"/v1/resources/{[x for x in c.list(page_size=100)['items'] if x['numeric_id'] == nid][0]['id']}").json()
    assert v1["numeric_id"] == emp["id"] == tin["id"] == nid
    assert v1["name"] == emp["name"] == tin["name"] == name
    assert v1["description"] == emp["description"] == tin["description"] == "described"
    assert v1["status"] == emp["status"] == "uploaded"
    assert v1["mime_type"] == emp["mime_type"] == "text/plain"
    assert v1["size_bytes"] == emp["size_bytes"] == len(text)
    assert v1["created_by"] == emp["created_by"] == "consistent-user"
    assert tin["value"] == text and value_of(c, v1["id"]) == text
    assert emp["project_id"] == tin["team_id"]
    assert v1["slug"] == tin["slug"]
    assert v1["read_access"] == tin["read_access"] and v1["shared_team_slugs"] == tin["shared_team_slugs"]
    assert v1["folder_id"] == tin["folder_id"] is None
    assert v1["test_resource_enabled"] == tin["test_resource_enabled"] is False
    for f in ("created_at", "updated_at"):
        assert ts(v1[f]) == ts(emp[f]) == ts(tin[f]), f
    # a change in one dialect shows in the others
    c.put(f"/api/v1/global_resources/{nid}", {"name": "re-" + name})
    assert c.get(f"/api/resources/{nid}").json()["data"]["resource"]["name"] == "re-" + name
    assert c.get(f"/v1/resources/{v1['id']}").json()["name"] == "re-" + name
