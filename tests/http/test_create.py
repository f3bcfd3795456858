"""POST /v1/resources from data URLs; GET/HEAD/DELETE of a resource and its content;
name conflicts (409), including racing creates."""

import base64
import json
import urllib.parse

import pytest

from depot_helpers import (codes_of, race, PDF_BYTES, UUID_RE, assert_error, assert_ok,
                           assert_resource_shape, blob_bucket, blob_bytes, data_url, png_bytes,
                           sha, uniq)


# ---------------------------------------------------------------- create basics

def test_create_returns_every_resource_field(client):
    content = b"hello depot\n"
    r = client.create_raw("report.txt", "/docs/2024", content, "text/plain",
                          tags=["b", "a"], metadata={"k": "v", "n": 1})
    assert_ok(r)
    assert r.headers.get("Content-Type", "").startswith("application/json")
    res = r.json()
    assert_resource_shape(res)
    assert UUID_RE.match(res["id"])
    assert res["account_id"] == client.account
    assert res["name"] == "report.txt"
    assert res["directory_path"] == "/docs/2024"
    assert res["mime_type"] == "text/plain"
    assert res["sha256"] == sha(content)
    assert res["size_bytes"] == len(content)
    assert res["original_uri"] is None
    assert res["external_id"] is None
    assert res["external_storage_type"] is None
    assert isinstance(res["storage_bucket"], str) and res["storage_bucket"]
    assert isinstance(res["storage_key"], str) and res["storage_key"]
    assert res["tags"] == ["a", "b"]
    assert res["metadata"] == {"k": "v", "n": 1}
    assert res["created_by"] == "user1"
    assert res["created_at"].endswith("Z") and "." in res["created_at"]
    assert res["updated_at"].endswith("Z") and "." in res["updated_at"]


def test_create_sets_status_uploaded_and_version_1(client):
    res = client.create()
    assert res["status"] == "uploaded"
    assert res["version"] == 1


INLINE_MAX = 16384  # DEPOT_INLINE_MAX_BYTES default


def test_create_small_content_is_stored_inline(client):
    res = client.create(content=b"x" * INLINE_MAX)
    assert res["storage_bucket"] == "inline"
    assert res["storage_key"].startswith("inline/") and res["storage_key"].endswith(res["sha256"])
    assert client.get(f"/v1/resources/{res['id']}/content").content == b"x" * INLINE_MAX


def test_create_larger_content_uses_the_blob_store_bucket(server, client):
    data = b"y" * (INLINE_MAX + 1)
    res = client.create(content=data)
    assert res["storage_bucket"] == blob_bucket(server)  # "local", or the S3 bucket
    assert res["storage_key"].startswith("blobs/")
    assert blob_bytes(server, res["storage_key"]) == data


def test_inline_threshold_is_configurable(server_factory):
    s = server_factory(env={"DEPOT_INLINE_MAX_BYTES": "0"})
    res = s.client().create(content=b"tiny")
    assert res["storage_bucket"] == blob_bucket(s)
    assert blob_bytes(s, res["storage_key"]) == b"tiny"


def test_create_sets_created_by_from_sub(server):
    c = server.client(sub="alice@example")
    assert c.create()["created_by"] == "alice@example"


def test_create_without_sub_sets_created_by_null(server):
    c = server.client(sub=None)
    res = c.create()
    assert "created_by" in res and res["created_by"] is None


def test_create_defaults_tags_empty_and_metadata_null(client):
    res = client.create()
    assert res["tags"] == []
    assert "metadata" in res and res["metadata"] is None


def test_create_keeps_mime_parameters_from_data_url(client):
    res = client.create(content="héllo".encode(), mime="text/plain;charset=utf-8")
    assert res["mime_type"] == "text/plain;charset=utf-8"


def test_create_sniffs_png_when_mime_is_octet_stream(client):
    res = client.create(content=png_bytes(), mime="application/octet-stream")
    assert res["mime_type"] == "image/png"


def test_create_sniffs_png_when_mime_is_empty(client):
    body = {"name": uniq(), "directory_path": "/",
            "content": "data:;base64," + base64.b64encode(png_bytes()).decode()}
    r = client.post("/v1/resources", body)
    assert_ok(r)
    assert r.json()["mime_type"] == "image/png"


def test_create_sniffs_pdf_when_mime_is_octet_stream(client):
    res = client.create(content=PDF_BYTES, mime="application/octet-stream")
    assert res["mime_type"] == "application/pdf"


def test_create_allows_zero_byte_content(client):
    res = client.create(content=b"", mime="text/plain")
    assert res["size_bytes"] == 0
    assert res["sha256"] == sha(b"")
    r = client.get(f"/v1/resources/{res['id']}/content")
    assert_ok(r)
    assert r.content == b""
    assert r.headers.get("Content-Length") == "0"


def test_create_accepts_base64_without_padding(client):
    body = {"name": uniq(), "directory_path": "/", "content": "data:text/plain;base64,aGVsbG8"}
    r = client.post("/v1/resources", body)
    assert_ok(r)
    assert r.json()["sha256"] == sha(b"hello")
    assert client.get(f"/v1/resources/{r.json()['id']}/content").content == b"hello"


def test_create_binary_content_roundtrips(client):
    content = bytes(range(256)) * 40
    res = client.create(content=content, mime="application/x-test-binary")
    assert res["size_bytes"] == len(content)
    assert res["sha256"] == sha(content)
    assert res["mime_type"] == "application/x-test-binary"
    assert client.get(f"/v1/resources/{res['id']}/content").content == content


def test_create_ignores_client_set_fields(client):
    body = {
        "name": uniq(), "directory_path": "/x",
        "content": data_url(b"abc", "text/plain"),
        "id": "00000000-0000-0000-0000-000000000001",
        "account_id": "someone-else",
        "sha256": "0" * 64,
        "size_bytes": 999,
        "storage_bucket": "evil",
        "storage_key": "../../etc/passwd",
        "created_at": "2000-01-01T00:00:00.000000Z",
        "updated_at": "2000-01-01T00:00:00.000000Z",
        "created_by": "mallory",
        "original_uri": "http://example.invalid/x",
        "mime_type": "evil/type",
        "external_id": "ext-1",
        "external_storage_type": "s3",
        "some_unknown_field": {"nested": True},
    }
    r = client.post("/v1/resources", body)
    assert_ok(r)
    res = r.json()
    assert res["id"] != body["id"]
    assert res["account_id"] == client.account
    assert res["sha256"] == sha(b"abc")
    assert res["size_bytes"] == 3
    assert res["storage_bucket"] != "evil"
    assert res["storage_key"] != "../../etc/passwd"
    assert not res["created_at"].startswith("2000-")
    assert not res["updated_at"].startswith("2000-")
    assert res["created_by"] == "user1"
    assert res["original_uri"] is None
    assert res["mime_type"] == "text/plain"
    assert res["external_id"] is None
    assert res["external_storage_type"] is None
    # and the stored row agrees
    got = client.get(f"/v1/resources/{res['id']}").json()
    assert got == res


def test_create_stores_non_ascii_name_sent_as_json_escapes(client):
    name = "caf\u00e9 \U0001F600 \u65e5\u672c.txt"
    raw = json.dumps({"name": name, "directory_path": "/\u00fcber",
                      "content": data_url(b"x", "text/plain")}, ensure_ascii=True)
    r = client.req("POST", "/v1/resources", data=raw.encode(),
                   headers={"Content-Type": "application/json"})
    assert_ok(r)
    assert r.json()["name"] == name
    assert r.json()["directory_path"] == "/\u00fcber"


# ---------------------------------------------------------------- get / content / head / delete

def test_get_returns_same_resource_as_create(client):
    res = client.create(tags=["x"], metadata={"a": [1, 2, {"b": None}]})
    r = client.get(f"/v1/resources/{res['id']}")
    assert_ok(r)
    assert r.json() == res


def test_get_accepts_uppercase_uuid(client):
    res = client.create()
    r = client.get(f"/v1/resources/{res['id'].upper()}")
    assert_ok(r)
    assert r.json()["id"] == res["id"]


def test_get_content_returns_exact_bytes_and_headers(client):
    content = b"line1\nline2\x00\xff\n"
    res = client.create(name="plain.bin", content=content, mime="application/x-custom")
    r = client.get(f"/v1/resources/{res['id']}/content")
    assert_ok(r)
    assert r.content == content
    assert r.headers["Content-Type"] == "application/x-custom"
    assert r.headers["Content-Length"] == str(len(content))
    assert r.headers["ETag"] == '"' + sha(content) + '"'
    cd = r.headers["Content-Disposition"]
    assert cd.startswith("attachment")
    assert 'filename="plain.bin"' in cd
    assert "filename*=UTF-8''plain.bin" in cd


def test_get_content_disposition_encodes_non_ascii_name(client):
    name = "r\u00e9sum\u00e9 \u65e5.txt"
    res = client.create(name=name, content=b"cv")
    r = client.get(f"/v1/resources/{res['id']}/content")
    assert_ok(r)
    # header bytes arrive as latin-1 in requests; the header must be pure ASCII
    cd = r.headers["Content-Disposition"]
    cd.encode("ascii")
    assert cd.startswith("attachment")
    assert "filename*=UTF-8''" in cd
    star = cd.split("filename*=UTF-8''", 1)[1].split(";", 1)[0].strip()
    assert "%" in star
    assert urllib.parse.unquote(star, encoding="utf-8", errors="strict") == name
    plain = cd.split('filename="', 1)[1].split('"', 1)[0]
    assert plain.isascii()
    assert plain.startswith("r_") and plain.endswith(".txt") and "sum" in plain


def test_get_content_disposition_replaces_quotes_in_plain_filename(client):
    name = 'say "hi".txt'
    res = client.create(name=name, content=b"hi")
    r = client.get(f"/v1/resources/{res['id']}/content")
    assert_ok(r)
    cd = r.headers["Content-Disposition"]
    assert 'filename="say _hi_.txt"' in cd
    star = cd.split("filename*=UTF-8''", 1)[1].split(";", 1)[0].strip()
    assert urllib.parse.unquote(star) == name


def test_head_content_returns_headers_without_body(client):
    content = b"head me please"
    res = client.create(content=content, mime="text/plain")
    r = client.head(f"/v1/resources/{res['id']}/content")
    assert_ok(r)
    assert r.content == b""
    assert r.headers["Content-Length"] == str(len(content))
    assert r.headers["ETag"] == '"' + sha(content) + '"'
    assert r.headers["Content-Type"] == "text/plain"
    # connection still usable afterwards (no stray body bytes)
    assert_ok(client.get(f"/v1/resources/{res['id']}"))


def test_head_resource_is_answered(client):
    res = client.create()
    r = client.head(f"/v1/resources/{res['id']}")
    assert_ok(r)
    assert r.content == b""


def test_delete_returns_204_then_get_is_404(client):
    res = client.create()
    r = client.delete(f"/v1/resources/{res['id']}")
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert_error(client.get(f"/v1/resources/{res['id']}"), 404)
    assert_error(client.get(f"/v1/resources/{res['id']}/content"), 404)
    assert_error(client.delete(f"/v1/resources/{res['id']}"), 404)


def test_delete_via_singular_alias(client):
    res = client.create()
    r = client.delete(f"/v1/resource/{res['id']}")
    assert r.status_code == 204, r.text
    assert_error(client.get(f"/v1/resource/{res['id']}"), 404)


def test_get_via_singular_alias(client):
    res = client.create()
    r = client.get(f"/v1/resource/{res['id']}")
    assert_ok(r)
    assert r.json() == res


def test_delete_frees_the_name(client):
    res = client.create(name="reuse.txt", directory_path="/r")
    assert client.delete(f"/v1/resources/{res['id']}").status_code == 204
    again = client.create(name="reuse.txt", directory_path="/r")
    assert again["id"] != res["id"]


@pytest.mark.parametrize("bad_id", [
    "not-a-uuid",
    "12345",
    "00000000-0000-0000-0000-00000000000",     # 35 chars
    "00000000-0000-0000-0000-0000000000000",   # 37 chars
    "0000000g-0000-0000-0000-000000000000",    # non-hex
    "00000000000000000000000000000000",         # no dashes
])
@pytest.mark.parametrize("suffix", ["", "/content"])
def test_get_with_malformed_id_is_404(client, bad_id, suffix):
    assert_error(client.get(f"/v1/resources/{bad_id}{suffix}"), 404)


def test_get_unknown_uuid_is_404(client):
    assert_error(client.get("/v1/resources/2b1f0c1e-9d7a-4c1b-8f5e-0123456789ab"), 404)
    assert_error(client.get("/v1/resources/2b1f0c1e-9d7a-4c1b-8f5e-0123456789ab/content"), 404)


def test_delete_unknown_and_malformed_id_is_404(client):
    assert_error(client.delete("/v1/resources/2b1f0c1e-9d7a-4c1b-8f5e-0123456789ab"), 404)
    assert_error(client.delete("/v1/resources/nope"), 404)


# ---------------------------------------------------------------- conflicts

def test_create_same_name_same_directory_is_409(client):
    client.create(name="dup.txt", directory_path="/d")
    assert_error(client.create_raw(name="dup.txt", directory_path="/d"), 409)


def test_create_conflict_uses_normalised_directory(client):
    client.create(name="dup.txt", directory_path="/d/e")
    assert_error(client.create_raw(name="dup.txt", directory_path="d/e/"), 409)


def test_create_same_name_other_directory_is_ok(client):
    client.create(name="dup.txt", directory_path="/d1")
    client.create(name="dup.txt", directory_path="/d2")
    client.create(name="dup.txt", directory_path="/")


def test_create_same_name_is_case_sensitive(client):
    client.create(name="Dup.txt", directory_path="/d")
    client.create(name="dup.txt", directory_path="/d")


def test_create_same_name_other_account_is_ok(server):
    a, b = server.client(), server.client()
    a.create(name="shared.txt", directory_path="/s")
    b.create(name="shared.txt", directory_path="/s")


def test_concurrent_creates_of_same_name_exactly_one_wins(server):
    c = server.client()
    n = 20
    name = uniq("race")
    results = race(n, lambda i: c.create_raw(name=name, directory_path="/race",
                                             content=f"racer {i}".encode()))
    codes = codes_of(results)
    assert codes.count(200) == 1, codes
    assert codes.count(409) == n - 1, codes
    for r in results:
        if r.status_code == 409:
            assert isinstance(r.json().get("error"), str)
    listing = c.list(directory_prefix="/race")
    assert listing["total"] == 1
    assert listing["items"][0]["name"] == name


def test_concurrent_creates_of_distinct_names_all_succeed(server):
    c = server.client()
    n = 16
    results = codes_of(race(n, lambda i: c.create_raw(name=f"f{i}", directory_path="/many",
                                                      content=b"same bytes for everyone")))
    assert results == [200] * n
    listing = c.list(page_size=100)
    assert listing["total"] == n
    keys = {it["storage_key"] for it in listing["items"]}
    assert len(keys) == 1
    for it in listing["items"]:
        assert client_content(c, it["id"]) == b"same bytes for everyone"


def client_content(c, rid):
    r = c.get(f"/v1/resources/{rid}/content")
    assert_ok(r)
    return r.content


# ---------------------------------------------------------------- JSON body parsing of content

def test_create_honours_json_escapes_in_content(client):
    data = bytes(range(256)) * 3  # base64 of this contains '/' and '+'
    url = data_url(data, "application/x-escapes")
    assert "/" in url.split(",", 1)[1]
    escaped = url.replace("/", "\\/").replace("A", "\\u0041")
    raw = ('{"name": "%s", "directory_path": "/esc", "content": "%s"}'
           % (uniq(), escaped)).encode()
    r = client.req("POST", "/v1/resources", data=raw,
                   headers={"Content-Type": "application/json"})
    assert_ok(r)
    assert r.json()["sha256"] == sha(data)
    assert r.json()["mime_type"] == "application/x-escapes"
    assert client.get(f"/v1/resources/{r.json()['id']}/content").content == data


@pytest.mark.parametrize("order", ["content-first", "content-last"])
def test_create_uses_only_top_level_content(client, order):
    nested = {"content": data_url(b"nested evil", "text/evil"), "uri": "http://127.0.0.1:1/"}
    fields = [("name", uniq()), ("directory_path", "/nest"),
              ("metadata", nested), ("tags", ["content"])]
    top = ("content", data_url(b"the real bytes", "text/plain"))
    fields = [top] + fields if order == "content-first" else fields + [top]
    raw = "{" + ",".join(json.dumps(k) + ":" + json.dumps(v) for k, v in fields) + "}"
    r = client.req("POST", "/v1/resources", data=raw.encode(),
                   headers={"Content-Type": "application/json"})
    assert_ok(r)
    res = r.json()
    assert res["sha256"] == sha(b"the real bytes")
    assert res["mime_type"] == "text/plain"
    assert res["metadata"] == nested
    assert res["tags"] == ["content"]
    assert client.get(f"/v1/resources/{res['id']}/content").content == b"the real bytes"


def test_create_with_content_only_nested_in_metadata_is_400(client):
    body = {"name": uniq(), "directory_path": "/",
            "metadata": {"content": data_url(b"x", "text/plain")}}
    assert_error(client.post("/v1/resources", body), 400)


def test_create_large_content_roundtrips(client):
    import os
    data = os.urandom(4 * 1024 * 1024 + 3)
    res = client.create(content=data, mime="application/x-large")
    assert res["size_bytes"] == len(data)
    assert res["sha256"] == sha(data)
    r = client.get(f"/v1/resources/{res['id']}/content")
    assert_ok(r)
    assert r.content == data


def test_concurrent_renames_onto_same_name_exactly_one_wins(server):
    c = server.client()
    n = 12
    made = [c.create(name=f"src{i}", directory_path="/ren", content=b"r") for i in range(n)]
    results = codes_of(race(n, lambda i: c.patch(f"/v1/resources/{made[i]['id']}",
                                                 {"name": "target.txt"})))
    assert sorted(results, key=str) == sorted([200] + [409] * (n - 1), key=str), results
    names = [it["name"] for it in c.list(page_size=100)["items"]]
    assert names.count("target.txt") == 1
    assert len(names) == n
