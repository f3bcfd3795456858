"""Input rules on create: names, directory paths, tags, metadata, content, body shape,
upload and body size limits."""

import json
import uuid

import pytest

from depot_helpers import assert_error, assert_ok, data_url, sha, uniq


def body(**over):
    b = {"name": uniq(), "directory_path": "/v", "content": data_url(b"x", "text/plain")}
    for k, v in over.items():
        if v is _DROP:
            b.pop(k, None)
        else:
            b[k] = v
    return b


_DROP = object()


# ---------------------------------------------------------------- names

@pytest.mark.parametrize("name", [
    "", ".", "..", "a/b", "/", "a/", "\x00", "a\x01b", "tab\there", "new\nline", "\x1f",
    "del\x7f", "c1\u0085ctl", "\u009f", "a" * 256, "\u00e9" * 128,
], ids=["empty", "dot", "dotdot", "slash", "only-slash", "trailing-slash", "nul", "ctrl-01",
        "tab", "newline", "ctrl-1f", "del-7f", "c1-0085", "c1-009f", "256-bytes",
        "256-bytes-multibyte"])
def test_create_rejects_bad_name(client, name):
    assert_error(client.post("/v1/resources", body(name=name)), 400)


@pytest.mark.parametrize("name", [
    "a" * 255, "\u00e9" * 127 + "a", "\u65e5\u672c\u8a9e.txt", "with space.txt", "...",
    ".hidden", "a..b", "emoji-\U0001F600", "back\\slash", "quote\"s", "%41_%",
], ids=["255-bytes", "255-bytes-multibyte", "cjk", "space", "three-dots", "dotfile",
        "inner-dots", "emoji", "backslash", "quotes", "percent-underscore"])
def test_create_accepts_valid_name(client, name):
    r = client.post("/v1/resources", body(name=name))
    assert_ok(r)
    assert r.json()["name"] == name


def test_create_rejects_name_invalid_utf8(client):
    raw = b'{"name":"bad\xff\xfename","directory_path":"/","content":"data:text/plain;base64,eA=="}'
    r = client.req("POST", "/v1/resources", data=raw,
                   headers={"Content-Type": "application/json"})
    assert_error(r, 400)


# ---------------------------------------------------------------- directory paths

@pytest.mark.parametrize("given,stored", [
    ("docs/2024", "/docs/2024"),
    ("/docs/2024", "/docs/2024"),
    ("/docs/2024/", "/docs/2024"),
    ("docs/2024/", "/docs/2024"),
    ("", "/"),
    ("/", "/"),
    ("a", "/a"),
    ("/\u00fcber/\u65e5\u672c", "/\u00fcber/\u65e5\u672c"),
    ("/a b/c", "/a b/c"),
    ("/...", "/..."),
])
def test_create_normalises_directory_path(client, given, stored):
    r = client.post("/v1/resources", body(directory_path=given))
    assert_ok(r)
    assert r.json()["directory_path"] == stored


@pytest.mark.parametrize("path", [
    "a//b", "//", "///", "a/./b", "../x", "a/../b", ".", "..", "/a/..", "./a",
    "a/\x01b", "/a\x7f", "/a/\n", "/" + "a" * 1024,
], ids=["double-slash", "only-double-slash", "triple-slash", "dot-segment", "leading-dotdot",
        "inner-dotdot", "dot", "dotdot", "trailing-dotdot", "leading-dot", "ctrl-01",
        "del-7f", "newline", "1025-bytes"])
def test_create_rejects_bad_directory_path(client, path):
    assert_error(client.post("/v1/resources", body(directory_path=path)), 400)


def test_create_accepts_directory_path_of_1024_bytes(client):
    path = "/" + "/".join(["a" * 99] * 10) + "/" + "b" * 23
    assert len(path.encode()) == 1024
    r = client.post("/v1/resources", body(directory_path=path))
    assert_ok(r)
    assert r.json()["directory_path"] == path


def test_create_rejects_directory_path_invalid_utf8(client):
    raw = (b'{"name":"x","directory_path":"/bad\xc3(","content":'
           b'"data:text/plain;base64,eA=="}')
    r = client.req("POST", "/v1/resources", data=raw,
                   headers={"Content-Type": "application/json"})
    assert_error(r, 400)


# ---------------------------------------------------------------- tags

@pytest.mark.parametrize("tags", [
    [""], ["a" * 65], ["a,b"], [1], [None], [["nested"]], [{"k": "v"}], ["ok", 2],
    [f"t{i}" for i in range(51)], ["ctl\x01"], ["\u00e9" * 33],
], ids=["empty-string", "65-bytes", "comma", "number", "null", "array", "object",
        "mixed", "51-distinct", "control-char", "66-bytes-multibyte"])
def test_create_rejects_bad_tags(client, tags):
    assert_error(client.post("/v1/resources", body(tags=tags)), 400)


def test_create_accepts_50_tags(client):
    tags = [f"t{i:02d}" for i in range(50)]
    r = client.post("/v1/resources", body(tags=list(reversed(tags))))
    assert_ok(r)
    assert r.json()["tags"] == sorted(tags)


def test_create_folds_duplicate_tags_before_counting(client):
    tags = [f"t{i:02d}" for i in range(50)] + ["t00", "t01", "t49"]
    r = client.post("/v1/resources", body(tags=tags))
    assert_ok(r)
    assert r.json()["tags"] == sorted(set(tags))


def test_create_sorts_and_dedupes_tags_by_bytes(client):
    r = client.post("/v1/resources", body(tags=["b", "B", "a", "\u00e9", "b", "a", "Z"]))
    assert_ok(r)
    assert r.json()["tags"] == ["B", "Z", "a", "b", "\u00e9"]


def test_create_accepts_64_byte_tag_and_empty_list(client):
    r = client.post("/v1/resources", body(tags=["a" * 64, "\u00e9" * 32]))
    assert_ok(r)
    assert sorted(r.json()["tags"]) == sorted(["a" * 64, "\u00e9" * 32])
    r = client.post("/v1/resources", body(tags=[]))
    assert_ok(r)
    assert r.json()["tags"] == []


# ---------------------------------------------------------------- metadata

@pytest.mark.parametrize("meta", [[], [1, 2], "str", 5, True],
                         ids=["empty-array", "array", "string", "number", "bool"])
def test_create_rejects_non_object_metadata(client, meta):
    assert_error(client.post("/v1/resources", body(metadata=meta)), 400)


def test_create_accepts_object_and_null_metadata(client):
    meta = {"a": 1, "b": [True, None, 2.5], "c": {"d": "\u00e9"}, "e": ""}
    r = client.post("/v1/resources", body(metadata=meta))
    assert_ok(r)
    assert r.json()["metadata"] == meta
    r = client.post("/v1/resources", body(metadata={}))
    assert_ok(r)
    assert r.json()["metadata"] == {}
    r = client.post("/v1/resources", body(metadata=None))
    assert_ok(r)
    assert r.json()["metadata"] is None


def _meta_of_compact_size(n):
    # {"k":"xxx..."} is 8 bytes of framing plus the payload
    m = {"k": "x" * (n - 8)}
    assert len(json.dumps(m, separators=(",", ":"))) == n
    return m


def test_create_accepts_metadata_of_64_kib(client):
    m = _meta_of_compact_size(65536)
    r = client.post("/v1/resources", body(metadata=m))
    assert_ok(r)
    assert r.json()["metadata"] == m


def test_create_rejects_metadata_over_64_kib(client):
    assert_error(client.post("/v1/resources", body(metadata=_meta_of_compact_size(65537))), 400)


def test_create_rejects_much_larger_metadata(client):
    m = {f"k{i}": "v" * 100 for i in range(1000)}
    assert_error(client.post("/v1/resources", body(metadata=m)), 400)


# ---------------------------------------------------------------- content / uri

@pytest.mark.parametrize("content", [
    "hello",
    "data:text/plain,hello",
    "data:text/plain;base64",
    "data:text/plain;base64,@@@@",
    "data:text/plain;base64,aGVs bG8=",
    "data:text/plain;base64,aGVsbG8=\n",
    "data:text/plain;base64,aGVs*G8=",
    "data:text/plain;base64,aGVsbG8=aGVs",
    "text/plain;base64,aGVsbG8=",
    "DATA-text/plain;base64,aGVsbG8=",
    "data:text/plain;base64,a",
], ids=["not-data-url", "no-base64-marker", "no-comma", "invalid-chars", "space",
        "newline", "star", "data-after-padding", "no-scheme", "bad-scheme",
        "impossible-length"])
def test_create_rejects_bad_content(client, content):
    assert_error(client.post("/v1/resources", body(content=content)), 400)


def test_create_rejects_both_content_and_uri(client):
    assert_error(client.post("/v1/resources", body(uri="http://127.0.0.1:9/x")), 400)


def test_create_rejects_neither_content_nor_uri(client):
    assert_error(client.post("/v1/resources", body(content=_DROP)), 400)


@pytest.mark.parametrize("field", ["name", "directory_path"])
def test_create_requires_field(client, field):
    assert_error(client.post("/v1/resources", body(**{field: _DROP})), 400)


@pytest.mark.parametrize("field,value", [
    ("name", 5), ("name", None), ("name", ["a"]), ("name", True),
    ("directory_path", 5), ("directory_path", None), ("directory_path", {}),
    ("tags", "a"), ("tags", {"a": 1}), ("tags", 3),
    ("content", 5), ("content", ["data:text/plain;base64,eA=="]), ("content", None),
    ("uri", 5), ("uri", None),
])
def test_create_rejects_wrong_field_type(client, field, value):
    b = body(**{field: value})
    if field == "uri":
        b.pop("content")
    assert_error(client.post("/v1/resources", b), 400)


@pytest.mark.parametrize("raw", [
    b"", b"{", b'{"name": "x",}', b"[]", b'[{"name":"x"}]', b'"str"', b"null", b"42",
    b"not json at all", b'{"name":"x","directory_path":"/"} trailing',
], ids=["empty", "open-brace", "trailing-comma", "empty-array", "array", "string", "null",
        "number", "garbage", "trailing-garbage"])
def test_create_rejects_malformed_body(client, raw):
    r = client.req("POST", "/v1/resources", data=raw,
                   headers={"Content-Type": "application/json"})
    assert_error(r, 400)


# ---------------------------------------------------------------- size limits

@pytest.fixture(scope="module")
def small_server(module_server_factory):
    return module_server_factory(env={"DEPOT_MAX_UPLOAD_BYTES": "1000",
                                      "DEPOT_MAX_BODY_BYTES": "8192"})


def test_create_accepts_content_at_upload_limit(small_server):
    c = small_server.client()
    content = b"z" * 1000
    res = c.create(content=content, mime="text/plain")
    assert res["size_bytes"] == 1000
    assert res["sha256"] == sha(content)


def test_create_rejects_content_over_upload_limit_with_413(small_server):
    c = small_server.client()
    assert_error(c.create_raw(content=b"z" * 1001, mime="text/plain"), 413)


def test_create_rejects_body_over_body_limit_with_413(small_server):
    c = small_server.client()
    b = body(metadata={"pad": "p" * 20000})
    assert_error(c.post("/v1/resources", b), 413)


def test_server_survives_oversized_body(small_server):
    c = small_server.client()
    b = body(metadata={"pad": "p" * 200000})
    try:
        r = c.post("/v1/resources", b)
    except Exception:  # noqa: BLE001  (server may cut the upload short)
        r = None
    if r is not None:
        assert_error(r, 413)
    assert_ok(c.get("/v1/resources"))


def test_create_rejects_chunked_body_over_body_limit_with_413(small_server):
    c = small_server.client()
    payload = json.dumps(body(metadata={"pad": "p" * 30000})).encode()

    def gen():
        for i in range(0, len(payload), 1000):
            yield payload[i:i + 1000]
    try:
        r = c.req("POST", "/v1/resources", data=gen(),
                  headers={"Content-Type": "application/json"})
    except Exception as e:  # noqa: BLE001
        pytest.fail(f"server dropped the connection instead of answering 413: {e!r}")
    assert_error(r, 413)
    assert_ok(c.get("/v1/resources"))


# ---------------------------------------------------------------- configurable limits

@pytest.fixture(scope="module")
def tight_server(module_server_factory):
    return module_server_factory(env={
        "DEPOT_MAX_NAME_BYTES": "10", "DEPOT_MAX_PATH_BYTES": "8", "DEPOT_MAX_TAG_BYTES": "3",
        "DEPOT_MAX_TAGS": "2", "DEPOT_MAX_METADATA_BYTES": "20", "DEPOT_MAX_PAGE_SIZE": "5"})


def tb(**over):
    """A create body whose name fits the tight server's 10-byte limit."""
    over.setdefault("name", uuid.uuid4().hex[:8])
    over.setdefault("directory_path", "/v")
    return body(**over)


def test_configured_name_limit(tight_server):
    c = tight_server.client()
    assert_ok(c.post("/v1/resources", body(name="a" * 10)))
    assert_error(c.post("/v1/resources", body(name="a" * 11)), 400)


def test_configured_path_limit_applies_to_input(tight_server):
    c = tight_server.client()
    assert_ok(c.post("/v1/resources", tb(directory_path="/abcdefg")))      # 8 bytes
    assert_error(c.post("/v1/resources", tb(directory_path="/abcdefgh")), 400)  # 9
    assert_ok(c.post("/v1/resources", tb(directory_path="/abcdef/")))  # 8 bytes of input


def test_configured_tag_limits(tight_server):
    c = tight_server.client()
    r = c.post("/v1/resources", tb(tags=["abc", "xyz", "abc"]))
    assert_ok(r)
    assert r.json()["tags"] == ["abc", "xyz"]
    assert_error(c.post("/v1/resources", tb(tags=["abcd"])), 400)
    assert_error(c.post("/v1/resources", tb(tags=["a", "b", "c"])), 400)
    assert_error(c.get("/v1/resources", params={"tags": "a,b,c"}), 400)
    assert_error(c.get("/v1/resources", params={"tags": "abcd"}), 400)
    assert_ok(c.get("/v1/resources", params={"tags": "abc,xyz"}))


def test_configured_metadata_limit(tight_server):
    c = tight_server.client()
    assert_ok(c.post("/v1/resources", tb(metadata={"k": "x" * 12})))   # 20 bytes compact
    assert_error(c.post("/v1/resources", tb(metadata={"k": "x" * 13})), 400)


def test_configured_page_size_limit(tight_server):
    c = tight_server.client()
    assert c.list(page_size=5)["page_size"] == 5
    assert_error(c.get("/v1/resources", params={"page_size": "6"}), 400)
    assert c.list()["page_size"] <= 5
