"""The pending-upload flow (docs/API.md, "The pending-upload flow"): create with
"upload": "pending", PUT the bytes to the signed upload_url without a JWT, confirm with
PATCH {"status": "uploaded"}."""

import time
import urllib.parse

import pytest
import requests

from depot_helpers import (TIMEOUT, UUID_RE, assert_error, assert_ok, assert_resource_shape,
                           png_bytes, sha, staged_files, uniq)


def create_pending(client, name=None, directory_path="/pending", **extra):
    body = {"name": name or uniq("p"), "directory_path": directory_path, "upload": "pending"}
    body.update(extra)
    r = client.post("/v1/resources", body)
    assert_ok(r)
    return r.json()


def put_upload(url, data, headers=None):
    return requests.put(url, data=data, headers=headers or {}, timeout=TIMEOUT,
                        allow_redirects=False)


def confirm(client, rid, **kw):
    return client.patch(f"/v1/resources/{rid}", {"status": "uploaded"}, **kw)


def with_query(url, **changes):
    u = urllib.parse.urlsplit(url)
    q = urllib.parse.parse_qs(u.query, keep_blank_values=True)
    for k, v in changes.items():
        q[k] = [v]
    return urllib.parse.urlunsplit(u._replace(query=urllib.parse.urlencode(q, doseq=True)))


def with_path(url, path):
    return urllib.parse.urlunsplit(urllib.parse.urlsplit(url)._replace(path=path))


def query(url):
    return {k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).items()}


def staging_files_empty(server):
    return staged_files(server) == []


def flip(s):
    return s[:-1] + ("0" if s[-1] != "0" else "1")


def test_pending_full_flow(client):
    server = client.server
    res = create_pending(client, name="later.png", tags=["b", "a"], metadata={"k": 1})
    rid = res["id"]
    assert UUID_RE.match(rid)
    assert res["status"] == "pending"
    assert res["sha256"] is None
    assert res["storage_key"] is None
    assert res["size_bytes"] == 0
    assert res["version"] == 1
    assert res["name"] == "later.png" and res["directory_path"] == "/pending"
    assert res["tags"] == ["a", "b"] and res["metadata"] == {"k": 1}
    assert res["account_id"] == client.account
    url = res["upload_url"]
    assert isinstance(url, str)
    assert url.startswith(server.base + f"/v1/uploads/{rid}?"), url
    q = query(url)
    assert set(q) >= {"acct", "expires", "sig"}
    assert int(q["expires"]) > time.time()

    # GET of the resource shows it pending
    g = client.get(f"/v1/resources/{rid}")
    assert_ok(g)
    assert g.json()["status"] == "pending" and g.json()["sha256"] is None

    # lists
    done = client.create(name="done.txt", directory_path="/pending")
    default_ids = [i["id"] for i in client.list()["items"]]
    assert rid not in default_ids and done["id"] in default_ids
    assert client.list()["total"] == 1
    pend = client.list(status="pending")
    assert [i["id"] for i in pend["items"]] == [rid]
    assert pend["total"] == 1
    assert [i["id"] for i in client.list(status="uploaded")["items"]] == [done["id"]]

    # content route while pending: 409
    assert_error(client.get(f"/v1/resources/{rid}/content"), 409)
    # confirming before the bytes arrived: 409
    assert_error(confirm(client, rid), 409)
    assert client.get(f"/v1/resources/{rid}").json()["version"] == 1

    # upload, no Authorization at all
    data = png_bytes()
    r = put_upload(url, data)
    assert_ok(r)
    up = r.json()
    assert up["id"] == rid
    assert up["status"] == "pending"
    assert up["sha256"] == sha(data)
    assert up["size_bytes"] == len(data)
    assert "Authorization" not in r.request.headers

    # only one PUT
    assert_error(put_upload(url, b"second"), 409)
    still = client.get(f"/v1/resources/{rid}").json()
    assert still["sha256"] == sha(data) and still["status"] == "pending"
    assert rid not in [i["id"] for i in client.list()["items"]]

    # confirm
    r = confirm(client, rid)
    assert_ok(r)
    fin = r.json()
    assert_resource_shape(fin)
    assert fin["status"] == "uploaded"
    assert fin["sha256"] == sha(data)
    assert fin["size_bytes"] == len(data)
    assert fin["mime_type"] == "image/png"
    assert fin["storage_key"]
    assert fin["version"] == still["version"] + 1
    assert "upload_url" not in fin or fin["upload_url"] is None

    # served and listed normally
    c = client.get(f"/v1/resources/{rid}/content")
    assert_ok(c)
    assert c.content == data
    assert c.headers["ETag"] == f'"{sha(data)}"'
    assert rid in [i["id"] for i in client.list()["items"]]
    assert client.list(status="pending")["items"] == []

    # confirming again changes nothing
    r = confirm(client, rid)
    assert_ok(r)
    assert r.json()["version"] == fin["version"]
    assert r.json()["status"] == "uploaded"
    # and the upload URL is spent
    assert_error(put_upload(url, b"late"), 409)


def test_pending_create_with_mime_type(client):
    res = create_pending(client, mime_type="text/plain")
    r = put_upload(res["upload_url"], b"plain words")
    assert_ok(r)
    r = confirm(client, res["id"])
    assert_ok(r)
    assert r.json()["mime_type"] == "text/plain"
    assert r.json()["status"] == "uploaded"


def test_pending_zero_byte_upload(client):
    res = create_pending(client)
    assert_ok(put_upload(res["upload_url"], b""))
    r = confirm(client, res["id"])
    assert_ok(r)
    assert r.json()["size_bytes"] == 0 and r.json()["sha256"] == sha(b"")


@pytest.mark.parametrize("what", ["sig", "acct", "expires", "path"])
def test_pending_tampered_upload_url_is_403(client, what):
    res = create_pending(client)
    url = res["upload_url"]
    q = query(url)
    if what == "sig":
        bad = with_query(url, sig=flip(q["sig"]))
    elif what == "acct":
        bad = with_query(url, acct=q["acct"] + "x")
    elif what == "expires":
        bad = with_query(url, expires=str(int(q["expires"]) + 100))
    else:
        other = create_pending(client)
        bad = with_path(url, f"/v1/uploads/{other['id']}")
    assert bad != url
    assert_error(put_upload(bad, b"evil"), 403)
    got = client.get(f"/v1/resources/{res['id']}").json()
    assert got["sha256"] is None and got["size_bytes"] == 0
    # the genuine URL still works afterwards
    assert_ok(put_upload(url, b"good"))


def test_pending_other_resources_signature_is_403(client):
    a = create_pending(client)
    b = create_pending(client)
    qa = query(a["upload_url"])
    forged = with_query(b["upload_url"], sig=qa["sig"], expires=qa["expires"], acct=qa["acct"])
    assert_error(put_upload(forged, b"x"), 403)
    assert client.get(f"/v1/resources/{b['id']}").json()["sha256"] is None


def test_pending_missing_signature_is_rejected(client):
    res = create_pending(client)
    u = urllib.parse.urlsplit(res["upload_url"])
    bare = urllib.parse.urlunsplit(u._replace(query=""))
    r = put_upload(bare, b"x")
    assert r.status_code in (400, 403), r.status_code


def test_pending_expired_upload_url_is_403(server_factory):
    s = server_factory(env={"DEPOT_UPLOAD_URL_TTL": "1"})
    c = s.client()
    res = create_pending(c)
    assert int(query(res["upload_url"])["expires"]) <= time.time() + 2
    time.sleep(2.5)
    assert_error(put_upload(res["upload_url"], b"too late"), 403)
    assert c.get(f"/v1/resources/{res['id']}").json()["sha256"] is None


def test_pending_url_from_another_server_key_is_403(server_factory):
    s1 = server_factory(env={"DEPOT_URL_SECRET": "url-secret-one-0123456789abcdef"})
    s2 = server_factory(env={"DEPOT_URL_SECRET": "url-secret-two-0123456789abcdef"})
    c1 = s1.client()
    res = create_pending(c1)
    assert_ok(put_upload(res["upload_url"], b"fine"))
    # same query under another server with a different key: the path names no resource there,
    # but the signature is checked as well; either way it must not be accepted
    other = res["upload_url"].replace(s1.base, s2.base)
    assert put_upload(other, b"x").status_code in (403, 404)


@pytest.mark.parametrize("value", ["uploaded", "later", "", "PENDING", True, 1])
def test_pending_bad_upload_value_is_400(client, value):
    body = {"name": uniq(), "directory_path": "/", "upload": value}
    r = client.post("/v1/resources", body)
    assert_error(r, 400)
    assert client.list(status="pending")["total"] == 0
    assert client.list()["total"] == 0


@pytest.mark.parametrize("value", ["pending", "foo", "", None, 1, True])
def test_pending_bad_status_value_is_400(client, value):
    res = create_pending(client)
    assert_ok(put_upload(res["upload_url"], b"bytes"))
    r = client.patch(f"/v1/resources/{res['id']}", {"status": value})
    assert_error(r, 400)
    assert client.get(f"/v1/resources/{res['id']}").json()["status"] == "pending"


def test_status_on_uploaded_resource(client):
    res = client.create()
    assert res["status"] == "uploaded"
    assert_error(client.patch(f"/v1/resources/{res['id']}", {"status": "pending"}), 400)
    r = client.patch(f"/v1/resources/{res['id']}", {"status": "uploaded"})
    assert_ok(r)
    assert r.json()["version"] == res["version"]


def test_list_bad_status_is_400(client):
    for v in ("foo", "", "PENDING", "all"):
        assert_error(client.get("/v1/resources", params={"status": v}), 400)


def test_deleted_resource_upload_url_is_404(client):
    res = create_pending(client)
    r = client.delete(f"/v1/resources/{res['id']}")
    assert r.status_code == 204
    assert_error(put_upload(res["upload_url"], b"orphan"), 404)


def test_pending_resource_of_other_account_cannot_be_confirmed(server):
    a = server.client()
    b = server.client()
    res = create_pending(a)
    assert_ok(put_upload(res["upload_url"], b"x"))
    assert_error(confirm(b, res["id"]), 404)
    assert b.list(status="pending")["total"] == 0


def test_pending_public_url_prefix(server_factory):
    s = server_factory(env={"DEPOT_PUBLIC_URL": "https://depot.example.com"})
    c = s.client()
    res = create_pending(c)
    assert res["upload_url"].startswith(f"https://depot.example.com/v1/uploads/{res['id']}?")
    # the same path and query work against the real server
    u = urllib.parse.urlsplit(res["upload_url"])
    assert_ok(put_upload(s.base + u.path + "?" + u.query, b"via public url"))


def test_pending_upload_url_over_limit_is_413(server_factory):
    s = server_factory(env={"DEPOT_MAX_UPLOAD_BYTES": "100"})
    c = s.client()
    res = create_pending(c)
    assert_error(put_upload(res["upload_url"], b"x" * 101), 413)
    assert c.get(f"/v1/resources/{res['id']}").json()["sha256"] is None
    assert staging_files_empty(s)
