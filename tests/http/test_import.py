"""Bulk import (docs/API.md, "Bulk import"): POST /v1/resources/import with NDJSON create
bodies, parsed as they stream in and committed in batches; bad lines reported by line number
and status without stopping the others."""

import json

import pytest

from depot_helpers import (assert_error, assert_ok, assert_resource_shape, data_url, sha,
                           token, uniq)

IMPORT = "/v1/resources/import"
NDJSON = {"Content-Type": "application/x-ndjson"}


# ------------------------------------------------------------------ helpers

def ln(name, directory_path="/", content=b"hello", mime="text/plain", **fields):
    """One NDJSON line (no newline) of a create body."""
    body = {"name": name, "directory_path": directory_path}
    if content is not None:
        body["content"] = data_url(content, mime)
    body.update(fields)
    return json.dumps(body, ensure_ascii=False)


def post_import(client, body, headers=None, **kw):
    h = dict(NDJSON)
    h.update(headers or {})
    if isinstance(body, str):
        body = body.encode()
    return client.req("POST", IMPORT, data=body, headers=h, **kw)


def do_import(client, body, **kw):
    r = post_import(client, body, **kw)
    assert_ok(r)
    res = r.json()
    assert isinstance(res, dict), res
    assert set(res) >= {"created", "failed", "errors"}, res
    assert isinstance(res["created"], int) and isinstance(res["failed"], int), res
    assert isinstance(res["errors"], list), res
    for e in res["errors"]:
        assert isinstance(e, dict) and set(e) >= {"line", "status", "error"}, e
        assert isinstance(e["line"], int) and e["line"] >= 1, e
        assert isinstance(e["status"], int), e
        assert isinstance(e["error"], str) and e["error"], e
    return res


def errors_by_line(res):
    out = {}
    for e in res["errors"]:
        assert e["line"] not in out, f"line {e['line']} reported twice: {res['errors']}"
        out[e["line"]] = e
    return out


def walk(client, **params):
    """Every listed resource of the client's account, following next_cursor."""
    items = []
    cursor = None
    first_total = None
    while True:
        p = dict(params, page_size=100)
        if cursor:
            p["cursor"] = cursor
        page = client.list(**p)
        if first_total is None:
            first_total = page["total"]
        items.extend(page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return items, first_total


def content_of(client, rid):
    r = client.get(f"/v1/resources/{rid}/content")
    assert_ok(r)
    return r.content


# ------------------------------------------------------------------ the happy path

def test_import_thousand_lines_creates_them_all(client):
    n = 1000
    lines = []
    for i in range(n):
        lines.append(ln(f"file-{i:04d}.txt", "import/batch/", content=f"line {i}\n".encode(),
                        tags=["zeta", "alpha", "zeta"], metadata={"i": i, "nested": {"a": [i]}}))
    res = do_import(client, "\n".join(lines) + "\n")
    assert res == {"created": n, "failed": 0, "errors": []}

    items, total = walk(client)
    assert total == n
    assert len(items) == n
    names = [it["name"] for it in items]
    assert sorted(names) == [f"file-{i:04d}.txt" for i in range(n)]
    by_name = {it["name"]: it for it in items}
    for i in (0, 1, 499, 998, 999):
        it = by_name[f"file-{i:04d}.txt"]
        assert_resource_shape(it)
        data = f"line {i}\n".encode()
        assert it["account_id"] == client.account
        assert it["directory_path"] == "/import/batch"
        assert it["tags"] == ["alpha", "zeta"]
        assert it["metadata"] == {"i": i, "nested": {"a": [i]}}
        assert it["sha256"] == sha(data)
        assert it["size_bytes"] == len(data)
        assert it["mime_type"] == "text/plain"
        assert it["created_by"] == "user1"
        assert it["original_uri"] is None
        assert it.get("status", "uploaded") == "uploaded"
        assert content_of(client, it["id"]) == data
        one = client.get(f"/v1/resources/{it['id']}")
        assert_ok(one)
        assert one.json()["sha256"] == sha(data)

    # The list filters see the imported rows like any others.
    assert client.list(directory_prefix="/import/batch", page_size=1)["total"] == n
    assert client.list(tags="alpha,zeta", page_size=1)["total"] == n


def test_import_identical_bytes_share_storage_and_sniff_mime(client):
    png = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02"
           b"\x00\x00\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01"
           b"\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82")
    body = "\n".join([
        ln("a", content=b"same bytes"),
        ln("b", content=b"same bytes"),
        ln("p.png", content=png, mime="application/octet-stream"),
        ln("q", content=png, mime=""),
        ln("empty", content=b""),
    ]) + "\n"
    res = do_import(client, body)
    assert res == {"created": 5, "failed": 0, "errors": []}
    items = {it["name"]: it for it in walk(client)[0]}
    assert items["a"]["storage_key"] == items["b"]["storage_key"]
    assert items["a"]["sha256"] == sha(b"same bytes")
    assert items["p.png"]["mime_type"] == "image/png"
    assert items["q"]["mime_type"] == "image/png"
    assert items["empty"]["size_bytes"] == 0
    assert items["empty"]["sha256"] == sha(b"")
    assert content_of(client, items["empty"]["id"]) == b""
    assert content_of(client, items["p.png"]["id"]) == png


# ------------------------------------------------------------------ bad lines

@pytest.fixture
def small_server(server_factory):
    return server_factory(env={"DEPOT_MAX_UPLOAD_BYTES": 1000, "DEPOT_MAX_JSON_BYTES": 4096})


def test_import_mixed_bad_lines_are_reported_and_good_ones_created(small_server):
    c = small_server.client()
    c.create(name="taken", directory_path="/x", content=b"already here")
    lines = [
        ln("good-1", "/x", content=b"one"),                                      # 1
        '{"name": "broken", "directory_path": "/x",',                            # 2 malformed
        json.dumps({"directory_path": "/x", "content": data_url(b"n")}),         # 3 no name
        ln("with-uri", "/x", content=None, uri="https://example.com/a"),         # 4 uri
        ln("pending", "/x", content=None, upload="pending"),                     # 5 pending
        json.dumps({"name": "b64", "directory_path": "/x",
                    "content": "data:text/plain;base64,@@@!"}),                  # 6 bad base64
        ln("taken", "/x", content=b"x"),                                         # 7 taken
        ln("dup", "/x", content=b"first dup"),                                   # 8 good
        ln("dup", "/x", content=b"second dup"),                                  # 9 dup in body
        ln("too-big", "/x", content=b"z" * 1001),                                # 10 413
        ln("long-line", "/x", content=b"y", metadata={"pad": "p" * 5000}),       # 11 413
        "",                                                                      # 12 blank
        ln("good-2", "/x", content=b"two"),                                      # 13
        "[1, 2, 3]",                                                             # 14 not obj
        ln("bad-dir", "a//b", content=b"d"),                                     # 15 bad dir
        ln("uri-and-content", "/x", content=b"c", uri="https://example.com/b"),  # 16 both
        json.dumps({"name": "nocontent", "directory_path": "/x", "content": None}),  # 17
        ln("exactly-max", "/x", content=b"m" * 1000),                            # 18 good
        ln("good-last", "/x", content=b"last"),                                  # 19 no \n
    ]
    res = do_import(c, "\n".join(lines))
    want = {2: 400, 3: 400, 4: 400, 5: 400, 6: 400, 7: 409, 9: 409, 10: 413, 11: 413,
            14: 400, 15: 400, 16: 400, 17: 400}
    got = {line: e["status"] for line, e in errors_by_line(res).items()}
    assert got == want, res["errors"]
    assert res["failed"] == len(want)
    assert res["created"] == 5
    errs = errors_by_line(res)
    assert "taken" in errs[7]["error"] and "/x" in errs[7]["error"], errs[7]
    assert "dup" in errs[9]["error"], errs[9]

    items = {it["name"]: it for it in walk(c, directory_prefix="/x")[0]}
    assert set(items) == {"taken", "good-1", "dup", "good-2", "exactly-max", "good-last"}
    assert content_of(c, items["dup"]["id"]) == b"first dup"
    assert content_of(c, items["good-last"]["id"]) == b"last"
    assert items["exactly-max"]["size_bytes"] == 1000
    assert content_of(c, items["taken"]["id"]) == b"already here"


def test_import_blank_lines_count_in_line_numbers(client):
    body = ("\n"                                  # 1
            + ln("a") + "\n"                      # 2
            + "   \n"                             # 3
            + "\t\n"                              # 4
            + "{not json}\n"                      # 5
            + "\n"                                # 6
            + ln("b") + "\n"                      # 7
            + json.dumps({"directory_path": "/"}) + "\n"  # 8
            + ln("c"))                            # 9, no trailing newline
    res = do_import(client, body)
    assert res["created"] == 3
    assert res["failed"] == 2
    assert {line: e["status"] for line, e in errors_by_line(res).items()} == {5: 400, 8: 400}
    names = sorted(it["name"] for it in walk(client)[0])
    assert names == ["a", "b", "c"]


def test_import_last_line_without_newline_is_imported(client):
    res = do_import(client, ln("only", content=b"no newline"))
    assert res == {"created": 1, "failed": 0, "errors": []}
    items = walk(client)[0]
    assert [it["name"] for it in items] == ["only"]
    assert content_of(client, items[0]["id"]) == b"no newline"


def test_import_crlf_line_endings(client):
    body = ln("r1") + "\r\n" + ln("r2") + "\r\n\r\n" + "{bad\r\n" + ln("r3") + "\r\n"
    res = do_import(client, body)
    assert res["created"] == 3, res
    assert {line: e["status"] for line, e in errors_by_line(res).items()} == {4: 400}


def test_import_empty_body(client):
    assert do_import(client, b"") == {"created": 0, "failed": 0, "errors": []}
    assert do_import(client, b"\n\n  \n") == {"created": 0, "failed": 0, "errors": []}


def test_import_errors_capped_at_100_but_failed_counts_all(client):
    lines = []
    for i in range(150):
        lines.append(json.dumps({"directory_path": "/", "content": data_url(b"x")}))
        if i % 30 == 0:
            lines.append(ln(f"ok-{i}"))
    res = do_import(client, "\n".join(lines) + "\n")
    assert res["created"] == 5
    assert res["failed"] == 150
    assert len(res["errors"]) == 100
    bad_lines = [n + 1 for n, text in enumerate(lines) if '"name"' not in text]
    assert sorted(e["line"] for e in res["errors"]) == bad_lines[:100]
    assert all(e["status"] == 400 for e in res["errors"])


def test_import_errors_are_the_first_100_failed_lines_even_with_conflicts(client):
    # Line 1 fails on a taken name (found only when its batch commits); lines 2..151 fail
    # at parse time. The first 100 failed lines are 1..100.
    client.create(name="taken", directory_path="/")
    lines = [ln("taken")] + [json.dumps({"directory_path": "/"}) for _ in range(150)]
    res = do_import(client, "\n".join(lines) + "\n")
    assert res["created"] == 0
    assert res["failed"] == 151
    assert len(res["errors"]) == 100
    got = errors_by_line(res)
    assert sorted(got) == list(range(1, 101)), sorted(got)[:5]
    assert got[1]["status"] == 409


# ------------------------------------------------------------------ batches

def _batch_body():
    """50 lines: good ones, bad ones, and names repeated across and within batches."""
    lines = []
    for i in range(1, 51):
        if i == 20:
            lines.append(ln("n-3", "/b", content=b"repeat of line 3"))  # across batches
        elif i == 9:
            lines.append(ln("n-8", "/b", content=b"repeat of line 8"))  # next line
        elif i % 11 == 0:
            lines.append('{"name": "bad"')
        elif i == 30:
            lines.append("")
        else:
            lines.append(ln(f"n-{i}", "/b", content=f"bytes {i % 6}".encode(), tags=[f"t{i % 3}"]))
    return "\n".join(lines) + "\n"


def _summary(client, res):
    items = walk(client)[0]
    rows = sorted((it["name"], it["directory_path"], it["sha256"], it["size_bytes"],
                   tuple(it["tags"])) for it in items)
    errs = sorted((e["line"], e["status"]) for e in res["errors"])
    return res["created"], res["failed"], errs, rows


def test_import_small_batches_give_the_same_result(server, server_factory):
    small = server_factory(env={"DEPOT_IMPORT_BATCH": 7})
    body = _batch_body()
    a, b = server.client(), small.client()
    ra, rb = do_import(a, body), do_import(b, body)
    sa, sb = _summary(a, ra), _summary(b, rb)
    assert sa == sb
    created, failed, errs, rows = sa
    assert errs == [(9, 409), (11, 400), (20, 409), (22, 400), (33, 400), (44, 400)]
    assert created == 43 and failed == 6
    assert len(rows) == 43
    for name in ("n-3", "n-8"):
        it = next(it for it in walk(b)[0] if it["name"] == name)
        n = int(name[2:])
        assert content_of(b, it["id"]) == f"bytes {n % 6}".encode()


def test_import_batch_of_one(server_factory):
    s = server_factory(env={"DEPOT_IMPORT_BATCH": 1})
    c = s.client()
    body = "\n".join([ln("a"), ln("a"), ln("b"), "x", ln("c")]) + "\n"
    res = do_import(c, body)
    assert res["created"] == 3
    assert {line: e["status"] for line, e in errors_by_line(res).items()} == {2: 409, 4: 400}


# ------------------------------------------------------------------ streaming

def test_import_chunked_body_from_a_generator(client):
    n = 120
    text = "".join(ln(f"g-{i}", "/gen", content=f"generated {i}".encode()) + "\n"
                   for i in range(n)).encode()

    def gen():
        # Odd-sized pieces, so lines and even UTF-8/escapes are split across chunks.
        i, step = 0, 1
        while i < len(text):
            yield text[i:i + step]
            i += step
            step = step * 3 % 997 + 1

    r = post_import(client, gen())
    assert_ok(r)
    res = r.json()
    assert res == {"created": n, "failed": 0, "errors": []}
    items, total = walk(client)
    assert total == n
    it = next(it for it in items if it["name"] == "g-77")
    assert it["directory_path"] == "/gen"
    assert content_of(client, it["id"]) == b"generated 77"


def test_import_chunked_body_with_a_bad_line_in_the_middle(client):
    lines = [ln("c1"), "{oops", ln("c2")]
    text = ("\n".join(lines) + "\n").encode()

    def gen():
        for b in text:
            yield bytes([b])

    r = post_import(client, gen())
    assert_ok(r)
    res = r.json()
    assert res["created"] == 2
    assert {line: e["status"] for line, e in errors_by_line(res).items()} == {2: 400}


# ------------------------------------------------------------------ scope, tenancy, routes

def test_import_needs_write_scope(server):
    acct = uniq("acct")
    ro = token(acct, scope="resources:read")
    r = server.request("POST", IMPORT, tok=ro, data=(ln("x") + "\n").encode(), headers=NDJSON)
    assert_error(r, 403)
    rw = server.client(acct)
    assert walk(rw)[0] == []
    w = token(acct, scope="resources:write")
    r = server.request("POST", IMPORT, tok=w, data=(ln("x") + "\n").encode(), headers=NDJSON)
    assert_ok(r)
    assert r.json()["created"] == 1


def test_import_without_token_is_401(server):
    r = server.request("POST", IMPORT, data=(ln("x") + "\n").encode(), headers=NDJSON)
    assert_error(r, 401)
    assert "Bearer" in r.headers.get("WWW-Authenticate", "")


def test_import_rows_belong_to_the_importing_account_only(server):
    a, b = server.client(), server.client()
    res = do_import(a, "\n".join([ln("mine-1"), ln("mine-2")]) + "\n")
    assert res["created"] == 2
    assert b.list()["total"] == 0
    for it in walk(a)[0]:
        assert it["account_id"] == a.account
        assert_error(b.get(f"/v1/resources/{it['id']}"), 404)
        assert_error(b.get(f"/v1/resources/{it['id']}/content"), 404)
    # b may import the same names: names are per account.
    assert do_import(b, ln("mine-1") + "\n")["created"] == 1


def test_import_path_is_not_a_resource_id(client):
    assert_error(client.get(IMPORT), 404)
    r = client.delete(IMPORT)
    assert r.status_code in (404, 405), r.status_code
    assert_error(r, r.status_code)
    r = client.req("PATCH", IMPORT, json_body={"name": "x"})
    assert r.status_code in (404, 405), r.status_code


# ------------------------------------------------------------------ more edges

def _line_of_length(name, length):
    base = ln(name, "/x", content=b"e", metadata={"pad": ""})
    line = ln(name, "/x", content=b"e", metadata={"pad": "p" * (length - len(base))})
    assert len(line.encode()) == length
    return line


def test_import_line_length_limit_is_exact(small_server):
    c = small_server.client()
    body = "\n".join([_line_of_length("at-limit", 4096), _line_of_length("over", 4097),
                      ln("after", "/x")]) + "\n"
    res = do_import(c, body)
    assert {line: e["status"] for line, e in errors_by_line(res).items()} == {2: 413}
    assert res["created"] == 2
    assert sorted(it["name"] for it in walk(c)[0]) == ["after", "at-limit"]


def test_import_overlong_last_line_without_newline(small_server):
    c = small_server.client()
    body = ln("first", "/x") + "\n" + _line_of_length("over", 9000)
    res = do_import(c, body)
    assert res["created"] == 1
    assert {line: e["status"] for line, e in errors_by_line(res).items()} == {2: 413}


def test_import_overlong_line_streamed_in_pieces_keeps_line_numbers(small_server):
    c = small_server.client()
    text = ("\n".join([ln("s1", "/x"), _line_of_length("huge", 50000), ln("s3", "/x"),
                       "", "{x", ln("s6", "/x")]) + "\n").encode()

    def gen():
        for i in range(0, len(text), 1000):
            yield text[i:i + 1000]

    r = post_import(c, gen())
    assert_ok(r)
    res = r.json()
    assert res["created"] == 3
    assert {line: e["status"] for line, e in errors_by_line(res).items()} == {2: 413, 5: 400}


def test_import_validation_rules_of_create_apply(client):
    lines = [
        ln("t", tags=["a,b"]),                                    # 1 comma in tag
        ln("m", metadata=[1, 2]),                                 # 2 metadata not an object
        ln("a/b"),                                                # 3 slash in name
        ln(".."),                                                 # 4
        ln("n" * 256),                                            # 5 name too long
        ln("d", "../x"),                                          # 6
        json.dumps({"name": "nb64", "directory_path": "/",
                    "content": "data:text/plain,hello"}),         # 7 not base64
        ln("tg", tags=["t"] * 60 + [f"u{i}" for i in range(51)]),  # 8 51 distinct tags
        ln("ok-max", "n" * 0 + "/", tags=["t"] * 60),              # 9 folds to one tag: ok
        json.dumps({"name": 5, "directory_path": "/", "content": data_url(b"x")}),  # 10
        ln("n" * 255),                                            # 11 ok
    ]
    res = do_import(client, "\n".join(lines) + "\n")
    got = {line: e["status"] for line, e in errors_by_line(res).items()}
    assert got == {i: 400 for i in range(1, 11) if i != 9}, res["errors"]
    assert res["created"] == 2
    items = {it["name"]: it for it in walk(client)[0]}
    assert items["ok-max"]["tags"] == ["t"]


def test_import_duplicate_after_directory_normalisation(client):
    body = "\n".join([ln("n", "a/b"), ln("n", "/a/b/"), ln("n", "/a/b"), ln("n", "/a")]) + "\n"
    res = do_import(client, body)
    assert res["created"] == 2
    assert {line: e["status"] for line, e in errors_by_line(res).items()} == {2: 409, 3: 409}
    assert sorted(it["directory_path"] for it in walk(client)[0]) == ["/a", "/a/b"]


def test_import_many_large_lines_over_several_memory_batches(client):
    # About 11 MiB of content: more than one batch's worth of bytes held in memory.
    size = 700 * 1024
    blobs = [bytes([65 + i]) * size + str(i).encode() for i in range(16)]
    body = "\n".join(ln(f"big-{i}", "/big", content=b) for i, b in enumerate(blobs)) + "\n"
    res = do_import(client, body)
    assert res == {"created": 16, "failed": 0, "errors": []}
    items = {it["name"]: it for it in walk(client)[0]}
    assert len(items) == 16
    for i in (0, 7, 11, 15):
        it = items[f"big-{i}"]
        assert it["sha256"] == sha(blobs[i])
        assert content_of(client, it["id"]) == blobs[i]


def test_import_head_on_import_path_is_404(client):
    r = client.head(IMPORT)
    assert r.status_code == 404


def test_import_null_uri_and_metadata_count_as_absent(client):
    # "In a create, content: null or uri: null count as absent"; metadata may be null.
    body = "\n".join([ln("uri-null", content=b"u", uri=None),
                      ln("meta-null", content=b"m", metadata=None)]) + "\n"
    res = do_import(client, body)
    assert res == {"created": 2, "failed": 0, "errors": []}
    items = {it["name"]: it for it in walk(client)[0]}
    assert items["meta-null"]["metadata"] is None
    assert items["uri-null"]["original_uri"] is None
    # The same bodies are accepted by POST /v1/resources.
    assert_ok(client.create_raw(name="uri-null-post", content=b"u", uri=None))
