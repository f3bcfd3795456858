"""The Tines dialect (seed 004, docs/API.md "The Tines dialect"): both sample requests of the seed
replayed as written (tenant and credential aside), every field of its response table checked,
and every parameter of its request table exercised on /api/v1/global_resources."""

import base64
import datetime
import json

import requests

from depot_helpers import PDF_BYTES, TIMEOUT, assert_error, assert_ok, data_url, token, uniq

# The response table of seed 004, every row.
RESPONSE_FIELDS = {"id", "name", "value", "team_id", "folder_id", "user_id", "read_access",
                   "shared_team_slugs", "slug", "created_at", "updated_at", "description",
                   "test_resource_enabled", "test_resource", "referencing_action_ids"}


def raw(server, method, path, tok, data, headers=None):
    h = {"content-type": "application/json", "Authorization": f"Bearer {tok}"}
    h.update(headers or {})
    return requests.request(method, server.url(path), data=data, headers=h, timeout=TIMEOUT)


def iso(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


def check(res, **want):
    """Every field of the response table, with the sample response's types."""
    assert set(res) == RESPONSE_FIELDS, set(res) ^ RESPONSE_FIELDS
    for k in ("id", "team_id"):
        assert isinstance(res[k], int) and not isinstance(res[k], bool) and res[k] > 0, k
    for k in ("folder_id", "user_id"):
        assert res[k] is None or (isinstance(res[k], int) and res[k] > 0), k
    assert isinstance(res["name"], str)
    assert res["read_access"] in ("TEAM", "GLOBAL", "SPECIFIC_TEAMS")
    assert isinstance(res["shared_team_slugs"], list)
    assert isinstance(res["slug"], str)
    assert iso(res["created_at"]) <= iso(res["updated_at"])
    assert isinstance(res["description"], str)
    assert isinstance(res["test_resource_enabled"], bool)
    assert res["test_resource"] is None or set(res["test_resource"]) == {"value"}
    assert res["referencing_action_ids"] == []
    for k, v in want.items():
        assert res[k] == v, (k, res[k], v)
    return res


def create(client, name=None, value="a value", **extra):
    body = {"name": name or uniq("t"), "value": value}
    body.update(extra)
    r = client.post("/api/v1/global_resources", body)
    assert_ok(r)
    return check(r.json())


def put(client, rid, body, **kw):
    return client.put(f"/api/v1/global_resources/{rid}", body, **kw)


def v1_of(client, nid, **params):
    items = client.list(owner="any", status="uploaded", page_size=100, **params)["items"]
    got = [x for x in items if x["numeric_id"] == nid]
    assert len(got) == 1, nid
    return got[0]


# ---------------------------------------------------------------- the seed's samples


def test_seed_004_text_sample_as_written(server):
    client = server.client(sub="user-1")
    made = create(client, name="an array resource", value="first value")
    # curl -X PUT https://<tenant-domain>/api/v1/global_resources/<<resource_id>> \
    #   -H 'content-type: application/json' -H 'Authorization: Bearer <<CREDENTIAL.tines_api_key>>' \
    #   -d '{ "value":"updated resource value" }'
    body = b'{\n        "value":"updated resource value"\n    }'
    r = raw(server, "PUT", f"/api/v1/global_resources/{made['id']}", client.tok, body)
    assert_ok(r)
    res = check(r.json(), id=made["id"], name="an array resource", value="updated resource value",
                team_id=made["team_id"], folder_id=None, user_id=made["user_id"], read_access="TEAM",
                shared_team_slugs=[], slug="an_array_resource", created_at=made["created_at"],
                description="", test_resource_enabled=False, test_resource=None,
                referencing_action_ids=[])
    assert iso(res["updated_at"]) > iso(made["updated_at"])
    v1 = v1_of(client, made["id"])
    assert v1["mime_type"] == "text/plain" and v1["size_bytes"] == len("updated resource value")
    assert client.get(f"/v1/resources/{v1['id']}/content").content == b"updated resource value"


def test_seed_004_file_sample_as_written(server):
    client = server.client()
    made = create(client, name="a file resource")
    body = b'''{
        "value": {
          "name": "updated_document.pdf",
          "contents": "JVBERi0xLjQKJeLjz9MKMSAwIG9iago8PAovQ3...",
          "type": "application/pdf"
        }
    }'''
    r = raw(server, "PUT", f"/api/v1/global_resources/{made['id']}", client.tok, body)
    assert_ok(r)
    res = check(r.json(), id=made["id"], name="a file resource", slug="a_file_resource")
    # The contents decode as Tines decodes them: the shortened sample's "..." is skipped.
    want = base64.b64decode("JVBERi0xLjQKJeLjz9MKMSAwIG9iago8PAovQw==")
    assert want.startswith(b"%PDF-1.4\n")
    assert res["value"] == {"name": "updated_document.pdf", "type": "application/pdf",
                            "contents": base64.b64encode(want).decode()}
    v1 = v1_of(client, made["id"])
    assert v1["mime_type"] == "application/pdf" and v1["size_bytes"] == len(want)
    assert client.get(f"/v1/resources/{v1['id']}/content").content == want
    # typed_value changes nothing for a file
    r = client.get(f"/api/v1/global_resources/{made['id']}", params={"typed_value": "true"})
    assert r.json()["value"] == res["value"]


def test_file_value_round_trips_a_real_pdf(client):
    made = create(client)
    value = {"name": "doc.pdf", "contents": base64.b64encode(PDF_BYTES).decode()}
    res = check(put(client, made["id"], {"value": value}).json())
    assert res["value"]["name"] == "doc.pdf"
    assert res["value"]["type"] == "application/pdf"  # sniffed: no type given
    assert base64.b64decode(res["value"]["contents"]) == PDF_BYTES
    # Tines-style line-wrapped base64 decodes too.
    wrapped = base64.encodebytes(PDF_BYTES).decode()
    assert "\n" in wrapped
    res = check(put(client, made["id"], {"value": {"name": "w.pdf", "contents": wrapped,
                                                   "type": "application/pdf"}}).json())
    assert base64.b64decode(res["value"]["contents"]) == PDF_BYTES
    for bad in ({"contents": "AAAA"}, {"name": "", "contents": "AAAA"}, {"name": "a/b", "contents": ""},
                {"name": "x", "contents": 5}):
        assert_error(put(client, made["id"], {"value": bad}), 400)


# ---------------------------------------------------------------- every request parameter


def test_name_and_slug(client):
    made = create(client)
    res = check(put(client, made["id"], {"name": "Prod API: Key (v2)!"}).json())
    assert res["name"] == "Prod API: Key (v2)!" and res["slug"] == "prod_api__key__v2__"
    res = check(put(client, made["id"], {"name": "Ünïcode näme"}).json())
    assert res["slug"] == "_n_code_n_me"
    assert_error(put(client, made["id"], {"name": ""}), 400)


def test_folder_id_moves_between_a_folder_and_the_root(client):
    made = create(client)
    f = client.post("/v1/folders", {"directory_path": "/" + uniq("folder")})
    assert_ok(f)
    fid = f.json()["id"]
    res = check(put(client, made["id"], {"folder_id": fid}).json(), folder_id=fid)
    assert v1_of(client, made["id"])["directory_path"] == f.json()["directory_path"]
    listed = client.get("/api/v1/global_resources", params={"folder_id": fid}).json()
    assert [x["id"] for x in listed["global_resources"]] == [made["id"]]
    res = check(put(client, made["id"], {"folder_id": ""}).json(), folder_id=None)
    assert v1_of(client, made["id"])["directory_path"] == "/"
    check(put(client, made["id"], {"folder_id": fid}).json(), folder_id=fid)
    check(put(client, made["id"], {"folder_id": None}).json(), folder_id=None)
    assert_error(put(client, made["id"], {"folder_id": 999999999}), 400)
    assert_error(put(client, made["id"], {"folder_id": "x"}), 400)
    made2 = create(client, folder_id=fid)
    assert made2["folder_id"] == fid
    assert res["id"] == made["id"]


def test_read_access_and_shared_team_slugs(server, client):
    made = create(client)
    res = check(put(client, made["id"], {"read_access": "GLOBAL"}).json(), read_access="GLOBAL",
                shared_team_slugs=[])
    res = check(put(client, made["id"], {"read_access": "SPECIFIC_TEAMS",
                                         "shared_team_slugs": ["team-b", "team-a", "team-b"]}).json(),
                read_access="SPECIFIC_TEAMS", shared_team_slugs=["team-a", "team-b"])
    res = check(put(client, made["id"], {"shared_team_slugs": ["team-c"]}).json(),
                read_access="SPECIFIC_TEAMS", shared_team_slugs=["team-c"])
    assert_error(put(client, made["id"], {"shared_team_slugs": []}), 400)
    res = check(put(client, made["id"], {"read_access": "TEAM"}).json(), read_access="TEAM",
                shared_team_slugs=[])
    assert_error(put(client, made["id"], {"read_access": "SPECIFIC_TEAMS"}), 400)
    assert_error(put(client, made["id"], {"shared_team_slugs": ["x"]}), 400)
    assert_error(put(client, made["id"], {"read_access": "EVERYONE"}), 400)
    assert res["id"] == made["id"]


def test_description_default_and_set(client):
    made = create(client)
    assert made["description"] == ""
    check(put(client, made["id"], {"description": "where the key lives"}).json(),
          description="where the key lives")
    check(put(client, made["id"], {"description": ""}).json(), description="")
    made = create(client, description="at creation")
    assert made["description"] == "at creation"


def test_test_resource_enabled_and_is_test(client):
    made = create(client, value="live")
    r = put(client, made["id"], {"value": "test", "is_test": True})
    assert "test_resource_enabled" in assert_error(r, 409)["error"]
    res = check(put(client, made["id"], {"test_resource_enabled": True}).json(),
                test_resource_enabled=True, value="live", test_resource={"value": "live"})
    res = check(put(client, made["id"], {"value": "test value", "is_test": True}).json(),
                test_resource_enabled=True, value="test value",
                test_resource={"value": "test value"})
    res = check(client.get(f"/api/v1/global_resources/{made['id']}").json(), value="live",
                test_resource={"value": "test value"})
    res = check(client.get(f"/api/v1/global_resources/{made['id']}",
                           params={"is_test": "true"}).json(), value="test value")
    # the live value is untouched by test writes, and vice versa
    check(put(client, made["id"], {"value": "live 2"}).json(), value="live 2",
          test_resource={"value": "test value"})
    # is_test as a string, and in the query
    check(put(client, made["id"], {"value": "test 3", "is_test": "true"}).json(), value="test 3")
    check(put(client, made["id"], {"value": "test 4"}, params={"is_test": "true"}).json(),
          value="test 4")
    # both in one request: enable, then write the test value
    other = create(client, value="other live")
    check(put(client, other["id"], {"test_resource_enabled": True, "is_test": True,
                                    "value": "other test"}).json(),
          value="other test", test_resource={"value": "other test"})
    res = check(put(client, made["id"], {"test_resource_enabled": False}).json(),
                test_resource_enabled=False, test_resource=None, value="live 2")


def test_typed_value_and_include_referencing_action_ids(client):
    cases = [("42", 42), ("true", True), ("[1, \"a\"]", [1, "a"]), ('{"fizz":"buzz"}', {"fizz": "buzz"}),
             ("plain words", "plain words"), ('"quoted"', "quoted"), ("3.5", 3.5), ("null", None)]
    for text, typed in cases:
        made = create(client, value=text)
        assert made["value"] == text
        g = client.get(f"/api/v1/global_resources/{made['id']}", params={"typed_value": "true"})
        assert g.json()["value"] == typed, text
        r = put(client, made["id"], {"value": text, "typed_value": True})
        assert r.json()["value"] == typed, text
    made = create(client, value={"fizz": "buzz"})  # Tines' JSON resource
    assert made["value"] == '{"fizz":"buzz"}'
    assert v1_of(client, made["id"])["mime_type"] == "application/json"
    made = create(client, value=[1, 2], typed_value=True)
    assert made["value"] == [1, 2]
    r = client.get(f"/api/v1/global_resources/{made['id']}",
                   params={"include_referencing_action_ids": "false"})
    assert_ok(r)
    assert "referencing_action_ids" not in r.json()
    assert set(r.json()) == RESPONSE_FIELDS - {"referencing_action_ids"}
    r = put(client, made["id"], {"include_referencing_action_ids": False, "name": made["name"]})
    assert set(r.json()) == RESPONSE_FIELDS - {"referencing_action_ids"}
    assert_error(put(client, made["id"], {"typed_value": "yes"}), 400)
    assert_error(client.get(f"/api/v1/global_resources/{made['id']}", params={"typed_value": "maybe"}), 400)


# ---------------------------------------------------------------- create, read, list


def test_create_rules(server, client):
    assert_error(client.post("/api/v1/global_resources", {"name": uniq()}), 400)
    assert_error(client.post("/api/v1/global_resources", {"value": "v"}), 400)
    assert_error(client.post("/api/v1/global_resources", {"name": uniq(), "value": None}), 400)
    r = client.post("/api/v1/global_resources", {"name": uniq(), "value": "v", "live_resource_id": 1})
    assert "live_resource_id" in assert_error(r, 400)["error"]
    made = create(client)
    own_team = made["team_id"]
    create(client, team_id=own_team)
    other = server.client()
    theirs = create(other)
    assert theirs["team_id"] != own_team
    r = client.post("/api/v1/global_resources", {"name": uniq(), "value": "v", "team_id": theirs["team_id"]})
    assert_error(r, 403)
    assert_error(client.post("/api/v1/global_resources", {"name": made["name"], "value": "v"}), 409)
    made = create(client, read_access="SPECIFIC_TEAMS", shared_team_slugs=["x"],
                  test_resource_enabled=True, description="d")
    assert (made["read_access"], made["shared_team_slugs"], made["test_resource"]) == (
        "SPECIFIC_TEAMS", ["x"], {"value": "a value"})


def test_user_and_team_ids_are_stable_numbers(server):
    a1 = server.client(sub="alice")
    a2 = server.client(a1.account, sub="bob")
    r1, r2, r3 = create(a1), create(a2), create(a1)
    assert r1["team_id"] == r2["team_id"] == r3["team_id"]
    assert r1["user_id"] == r3["user_id"] != r2["user_id"]
    nosub = server.client(a1.account, sub=None)
    assert create(nosub)["user_id"] is None
    assert r1["id"] < r2["id"] < r3["id"]


def test_list_pages_with_tines_meta(server_factory):
    server = server_factory()  # its own: the list shows every GLOBAL resource of the server
    client = server.client()
    made = [create(client)["id"] for _ in range(5)]
    r = client.get("/api/v1/global_resources", params={"per_page": 2})
    assert_ok(r)
    body = r.json()
    assert set(body) == {"global_resources", "meta"}
    meta = body["meta"]
    assert meta["count"] == 5 and meta["pages"] == 3 and meta["per_page"] == 2
    assert meta["previous_page"] is None and meta["next_page_number"] == 2
    assert meta["current_page"].startswith(server.base + "/api/v1/global_resources?page=1")
    assert [x["id"] for x in body["global_resources"]] == made[:2]
    for x in body["global_resources"]:
        check(x)
    seen = []
    url = server.base + "/api/v1/global_resources?page=1&per_page=2"
    while url:
        page = requests.get(url, headers={"Authorization": f"Bearer {client.tok}"}, timeout=TIMEOUT).json()
        seen += [x["id"] for x in page["global_resources"]]
        url = page["meta"]["next_page"]
    assert seen == made
    last = client.get("/api/v1/global_resources", params={"per_page": 2, "page": 3}).json()["meta"]
    assert last["next_page"] is None and last["next_page_number"] is None and last["previous_page"]
    big = client.get("/api/v1/global_resources", params={"per_page": 500}).json()["meta"]
    assert big["per_page"] == 100  # DEPOT_MAX_PAGE_SIZE
    for bad in ({"page": 0}, {"per_page": "x"}, {"team_id": "x"}, {"folder_id": "0"}):
        assert_error(client.get("/api/v1/global_resources", params=bad), 400)
    team = client.get("/api/v1/global_resources", params={"team_id": made and check(
        client.get(f"/api/v1/global_resources/{made[0]}").json())["team_id"]}).json()
    assert team["meta"]["count"] == 5


def test_get_head_and_ids(server, client):
    made = create(client)
    r = client.get(f"/api/v1/global_resources/{made['id']}")
    assert_ok(r)
    assert check(r.json()) == made
    h = client.head(f"/api/v1/global_resources/{made['id']}")
    assert h.status_code == 200 and h.content == b""
    for bad in ("x", "0", "007", "1e3"):
        assert_error(client.get(f"/api/v1/global_resources/{bad}"), 404)
    assert_error(server.client().get(f"/api/v1/global_resources/{made['id']}"), 404)
    r = client.delete(f"/api/v1/global_resources/{made['id']}")
    assert_error(r, 405)


def test_x_user_token_is_the_same_jwt(server, client):
    """Tines' other credential header: only a depot JWT, verified the same way."""
    made = create(client)
    r = requests.get(server.url(f"/api/v1/global_resources/{made['id']}"), timeout=TIMEOUT,
                     headers={"x-user-email": "a@example.com", "x-user-token": client.tok})
    assert_ok(r)
    assert r.json()["id"] == made["id"]
    for bad in ("not-a-jwt", token(client.account, key="another-secret-of-enough-length-123456"),
                token(client.account, exp_delta=-60)):
        r = requests.get(server.url(f"/api/v1/global_resources/{made['id']}"), timeout=TIMEOUT,
                         headers={"x-user-token": bad})
        assert_error(r, 401)
    ro = token(client.account, scope="resources:read")
    r = requests.put(server.url(f"/api/v1/global_resources/{made['id']}"), timeout=TIMEOUT,
                     headers={"x-user-token": ro}, data=json.dumps({"name": "x"}))
    assert_error(r, 403)
    # only on the Tines routes
    r = requests.get(server.url("/v1/resources"), headers={"x-user-token": client.tok}, timeout=TIMEOUT)
    assert_error(r, 401)
    assert_error(requests.get(server.url("/api/v1/global_resources"), timeout=TIMEOUT), 401)


def test_v1_resources_read_as_tines_values(client):
    """Content made in /v1 reads as a Tines value: text as a string, other bytes as a file."""
    t = client.create(content=b"plain text", mime="text/plain")
    b = client.create(content=b"\x00\x01\x02binary", mime="application/octet-stream")
    got_t = client.get(f"/api/v1/global_resources/{t['numeric_id']}").json()
    assert got_t["value"] == "plain text"
    got_b = client.get(f"/api/v1/global_resources/{b['numeric_id']}").json()
    assert got_b["value"]["name"] == b["name"]
    assert base64.b64decode(got_b["value"]["contents"]) == b"\x00\x01\x02binary"
    pending = client.post("/v1/resources", {"name": uniq(), "directory_path": "/", "upload": "pending"})
    got_p = client.get(f"/api/v1/global_resources/{pending.json()['numeric_id']}").json()
    assert got_p["value"] is None
    made = client.post("/v1/resources", {"name": uniq(), "directory_path": "/x",
                                         "content": data_url(b"{\"k\": [1]}", "application/json")}).json()
    g = client.get(f"/api/v1/global_resources/{made['numeric_id']}", params={"typed_value": "true"})
    assert g.json()["value"] == {"k": [1]}
