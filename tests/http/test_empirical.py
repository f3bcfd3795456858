"""The empirical.run dialect (seed 003, docs/API.md "The empirical.run dialect"): every curl
example of the seed replayed as written (base URL and token aside), every documented response
field checked, and the create → upload → confirm flow on /api/resources."""

import os
import re
import urllib.parse

import requests

from depot_helpers import TIMEOUT, assert_error, assert_ok, token, uniq

# The fields of seed 003's resource, exactly.
SEED_FIELDS = {"id", "project_id", "name", "description", "status", "mime_type", "size_bytes",
               "created_by", "created_at", "updated_at"}
ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def raw(server, method, path, tok, data, headers):
    """A request with exactly these headers and body bytes (as curl would send them)."""
    h = dict(headers)
    if tok is not None:
        h["Authorization"] = f"Bearer {tok}"
    return requests.request(method, server.url(path), data=data, headers=h, timeout=TIMEOUT,
                            allow_redirects=False)


def check_resource(res, **want):
    """Every field of seed 003's resource, with the seed's types; want pins values."""
    assert set(res) == SEED_FIELDS, set(res) ^ SEED_FIELDS
    assert isinstance(res["id"], int) and not isinstance(res["id"], bool) and res["id"] > 0
    assert isinstance(res["project_id"], int) and res["project_id"] > 0
    assert isinstance(res["name"], str)
    assert res["description"] is None or isinstance(res["description"], str)
    assert res["status"] in ("pending", "uploaded")
    assert isinstance(res["mime_type"], str)
    assert isinstance(res["size_bytes"], int) and res["size_bytes"] >= 0
    assert res["created_by"] is None or isinstance(res["created_by"], str)
    for f in ("created_at", "updated_at"):
        assert ISO_RE.match(res[f]), res[f]
    for k, v in want.items():
        assert res[k] == v, (k, res[k], v)


def envelope(resp):
    """The resource of a {"data": {"resource": ...}} answer."""
    assert_ok(resp)
    body = resp.json()
    assert set(body) == {"data"} and set(body["data"]) == {"resource"}, body
    return body["data"]["resource"]


def create(client, name=None, **extra):
    body = {"name": name or uniq("e") + ".docx"}
    body.update(extra)
    r = client.post("/api/resources", body)
    res = envelope(r)
    assert set(res) == SEED_FIELDS | {"upload_url"}
    return res


def upload(res, data, ctype=None):
    return requests.put(res["upload_url"], data=data, timeout=TIMEOUT,
                        headers={"Content-Type": ctype} if ctype else {})


def uploaded(client, data=b"PK\x03\x04 not really a docx", **extra):
    res = create(client, mime_type=DOCX, **extra)
    assert_ok(upload(res, data))
    return res


# ---------------------------------------------------------------- the seed's examples


def test_seed_003_confirm_upload_example_as_written(server):
    """Create (step 1), PUT the bytes (step 2), then the seed's `Confirm upload` curl."""
    client = server.client(sub="user-id")
    data = os.urandom(245000)
    res = create(client, name="checkout-flow.docx", mime_type=DOCX, size_bytes=245000)
    check_resource({k: v for k, v in res.items() if k != "upload_url"}, name="checkout-flow.docx",
                   status="pending", description=None, mime_type=DOCX, size_bytes=0,
                   created_by="user-id")
    assert res["upload_url"].startswith(server.base + f"/api/resources/{res['id']}/upload?")
    up = envelope(upload(res, data))
    check_resource(up, id=res["id"], status="pending", size_bytes=245000, mime_type=DOCX)
    # curl -X PATCH https://dash.empirical.run/api/resources/1 \
    #   -H "Content-Type: application/json" -H "Authorization: Bearer $EMPIRICALRUN_KEY" \
    #   -d '{"status": "uploaded"}'
    r = raw(server, "PATCH", f"/api/resources/{res['id']}", client.tok, b'{"status": "uploaded"}',
            {"Content-Type": "application/json"})
    done = envelope(r)
    check_resource(done, id=res["id"], project_id=res["project_id"], name="checkout-flow.docx",
                   description=None, status="uploaded", mime_type=DOCX, size_bytes=245000,
                   created_by="user-id", created_at=res["created_at"])
    assert done["updated_at"] > done["created_at"]
    # The same resource through /v1: its bytes, its numeric id.
    v1 = client.list(status="uploaded", owner="me")["items"]
    mine = [x for x in v1 if x["numeric_id"] == res["id"]]
    assert len(mine) == 1 and mine[0]["status"] == "uploaded" and mine[0]["size_bytes"] == 245000
    got = client.get(f"/v1/resources/{mine[0]['id']}/content")
    assert_ok(got)
    assert got.content == data


def test_seed_003_rename_example_as_written(server):
    client = server.client(sub="user-id")
    res = uploaded(client, name="checkout-flow.docx" + uniq("-"))
    # curl -X PATCH https://dash.empirical.run/api/resources/1 -H "Content-Type: application/json" \
    #   -H "Authorization: Bearer $EMPIRICALRUN_KEY" -d '{"name": "checkout-flow-v2.docx"}'
    r = raw(server, "PATCH", f"/api/resources/{res['id']}", client.tok,
            b'{"name": "checkout-flow-v2.docx"}', {"Content-Type": "application/json"})
    out = envelope(r)
    check_resource(out, id=res["id"], name="checkout-flow-v2.docx", status="pending")
    assert envelope(client.get(f"/api/resources/{res['id']}"))["name"] == "checkout-flow-v2.docx"


def test_seed_003_update_template_with_its_fields_filled(server):
    """The seed's first curl, `--header 'Authorization: <authorization>'` and the three fields,
    with each <placeholder> filled the way its table says (status: "uploaded")."""
    client = server.client(sub="user-id")
    res = uploaded(client)
    body = ('\n{\n  "name": "renamed-%s.docx",\n  "description": "Checkout flow, annotated",\n'
            '  "status": "uploaded"\n}\n' % res["id"]).encode()
    r = requests.request("PATCH", server.url(f"/api/resources/{res['id']}"), data=body,
                         headers={"Authorization": f"Bearer {client.tok}",
                                  "Content-Type": "application/json"}, timeout=TIMEOUT)
    out = envelope(r)
    check_resource(out, id=res["id"], name=f"renamed-{res['id']}.docx",
                   description="Checkout flow, annotated", status="uploaded", created_by="user-id")


def test_seed_003_template_literal_placeholders(server):
    """As written, "<string>" is a fine name and description, but not a status: 400, nothing
    changes."""
    client = server.client()
    res = uploaded(client)
    body = b'\n{\n  "name": "<string>",\n  "description": "<string>",\n  "status": "<string>"\n}\n'
    r = raw(server, "PATCH", f"/api/resources/{res['id']}", client.tok, body,
            {"Content-Type": "application/json"})
    assert "status" in assert_error(r, 400)["error"]
    still = envelope(client.get(f"/api/resources/{res['id']}"))
    assert still["name"] == res["name"] and still["description"] is None
    r = raw(server, "PATCH", f"/api/resources/{res['id']}", client.tok,
            b'{"name": "<string>", "description": "<string>"}', {"Content-Type": "application/json"})
    check_resource(envelope(r), name="<string>", description="<string>", status="pending")


# ---------------------------------------------------------------- the flow's rules


def test_confirm_before_the_bytes_is_409_and_status_only_uploaded(client):
    res = create(client)
    r = client.patch(f"/api/resources/{res['id']}", {"status": "uploaded"})
    assert_error(r, 409)
    for bad in ("pending", "done", 1, None):
        assert_error(client.patch(f"/api/resources/{res['id']}", {"status": bad}), 400)
    assert envelope(client.get(f"/api/resources/{res['id']}"))["status"] == "pending"


def test_upload_url_is_single_use_signed_and_bound_to_its_path(client):
    res = create(client)
    u = urllib.parse.urlsplit(res["upload_url"])
    q = dict(urllib.parse.parse_qsl(u.query))
    assert set(q) == {"acct", "expires", "sig"}
    flipped = q["sig"][:-1] + ("0" if q["sig"][-1] != "0" else "1")
    bad = res["upload_url"].replace("sig=" + q["sig"], "sig=" + flipped)
    assert_error(requests.put(bad, data=b"x", timeout=TIMEOUT), 403)
    other = create(client)
    moved = res["upload_url"].replace(f"/api/resources/{res['id']}/", f"/api/resources/{other['id']}/")
    assert_error(requests.put(moved, data=b"x", timeout=TIMEOUT), 403)
    # a JWT is no signature
    r = requests.put(res["upload_url"].split("?")[0], data=b"x", timeout=TIMEOUT,
                     headers={"Authorization": f"Bearer {client.tok}"})
    assert_error(r, 403)
    assert_ok(upload(res, b"first"))
    assert_error(upload(res, b"second"), 409)
    assert envelope(client.get(f"/api/resources/{res['id']}"))["size_bytes"] == len(b"first")


def test_get_answers_a_working_download_url(client):
    data = b"the bytes of a resource\n"
    res = create(client, mime_type="text/plain")
    pending = client.get(f"/api/resources/{res['id']}")
    assert_ok(pending)
    p = pending.json()["data"]["resource"]
    assert set(p) == SEED_FIELDS | {"url"} and p["url"] is None
    assert_ok(upload(res, data))
    assert_ok(client.patch(f"/api/resources/{res['id']}", {"status": "uploaded"}))
    got = client.get(f"/api/resources/{res['id']}").json()["data"]["resource"]
    check_resource({k: v for k, v in got.items() if k != "url"}, status="uploaded",
                   size_bytes=len(data), mime_type="text/plain")
    assert got["url"].startswith(client.server.base + "/v1/signed/")
    dl = requests.get(got["url"], timeout=TIMEOUT)
    assert_ok(dl)
    assert dl.content == data
    h = client.head(f"/api/resources/{res['id']}")
    assert h.status_code == 200 and h.content == b""


def test_description_set_and_cleared(client):
    res = uploaded(client)
    out = envelope(client.patch(f"/api/resources/{res['id']}", {"description": "first words"}))
    assert out["description"] == "first words"
    assert out["status"] == "pending"
    out = envelope(client.patch(f"/api/resources/{res['id']}", {"description": None}))
    assert out["description"] is None
    assert_error(client.patch(f"/api/resources/{res['id']}", {"description": 5}), 400)


def test_unknown_fields_are_ignored_and_v1_fields_are_not_empirical(client):
    res = uploaded(client)
    out = envelope(client.patch(f"/api/resources/{res['id']}",
                                {"directory_path": "/elsewhere", "tags": ["x"], "foo": 1}))
    check_resource(out, name=res["name"])
    v1 = [x for x in client.list(status="pending")["items"] if x["numeric_id"] == res["id"]][0]
    assert v1["directory_path"] == "/" and v1["tags"] == []


def test_create_rules(client):
    assert_error(client.post("/api/resources", {}), 400)
    assert_error(client.post("/api/resources", {"name": ""}), 400)
    assert_error(client.post("/api/resources", {"name": "a/b"}), 400)
    assert_error(client.post("/api/resources", {"name": uniq(), "size_bytes": -1}), 400)
    assert_error(client.post("/api/resources", {"name": uniq(), "mime_type": "nonsense"}), 400)
    r = client.post("/api/resources", {"name": uniq(), "url": "https://docs.google.com/x"})
    assert "url" in assert_error(r, 400)["error"]
    name = uniq("dup") + ".docx"
    create(client, name=name, description="declared")
    assert_error(client.post("/api/resources", {"name": name}), 409)
    res = create(client, description="with words")
    assert res["description"] == "with words"


def test_ids_are_numeric_and_scoped(server, client):
    res = uploaded(client)
    for bad in ("abc", "0", "01", "-1", "1.0", "9" * 19, res["id"] and "x%d" % res["id"]):
        assert_error(client.get(f"/api/resources/{bad}"), 404)
        assert_error(client.patch(f"/api/resources/{bad}", {"name": "n"}), 404)
    assert_error(client.get("/api/resources/999999999999"), 404)
    other = server.client()
    assert_error(other.get(f"/api/resources/{res['id']}"), 404)
    assert_error(other.patch(f"/api/resources/{res['id']}", {"name": "stolen"}), 404)
    assert envelope(client.get(f"/api/resources/{res['id']}"))["name"] == res["name"]


def test_auth_and_scopes(server, client):
    res = uploaded(client)
    r = server.request("GET", f"/api/resources/{res['id']}")
    assert_error(r, 401)
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert_error(server.request("GET", f"/api/resources/{res['id']}", tok="not.a.jwt"), 401)
    ro = token(client.account, scope="resources:read")
    assert_ok(server.request("GET", f"/api/resources/{res['id']}", tok=ro))
    assert_error(server.request("PATCH", f"/api/resources/{res['id']}", tok=ro,
                                json_body={"name": "x"}), 403)
    assert_error(server.request("POST", "/api/resources", tok=ro, json_body={"name": "x"}), 403)
    r = server.request("DELETE", f"/api/resources/{res['id']}", tok=client.tok)
    assert_error(r, 405)
    assert set(x.strip() for x in r.headers["Allow"].split(",")) == {"GET", "HEAD", "PATCH"}
