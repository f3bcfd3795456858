"""Versions and optimistic concurrency (docs/API.md, "Optimistic concurrency")."""

import pytest

from depot_helpers import codes_of, race, assert_error, assert_ok, sha, uniq

CHANGED = "resource has changed (If-Match)"


def get(client, rid):
    r = client.get(f"/v1/resources/{rid}")
    assert_ok(r)
    return r.json()


def put_content(client, rid, data, **kw):
    h = {"Content-Type": "text/plain"}
    h.update(kw.pop("headers", {}))
    return client.req("PUT", f"/v1/resources/{rid}/content", data=data, headers=h, **kw)


def im(value):
    return {"If-Match": value}


def assert_412(r):
    body = assert_error(r, 412)
    assert body["error"] == CHANGED


def test_version_starts_at_one_and_increments(client):
    res = client.create(content=b"v1")
    rid = res["id"]
    assert res["version"] == 1
    r = client.patch(f"/v1/resources/{rid}", {"tags": ["a"]})
    assert_ok(r)
    assert r.json()["version"] == 2
    r = client.put(f"/v1/resources/{rid}", {"name": uniq("renamed")})
    assert_ok(r)
    assert r.json()["version"] == 3
    r = put_content(client, rid, b"new bytes")
    assert_ok(r)
    assert r.json()["version"] == 4
    r = client.patch(f"/v1/resource/{rid}", {"metadata": {"x": 1}})
    assert_ok(r)
    assert r.json()["version"] == 5
    assert get(client, rid)["version"] == 5
    assert [i["version"] for i in client.list()["items"]] == [5]


def test_failed_update_does_not_bump_version(client):
    res = client.create()
    rid = res["id"]
    other = client.create()
    assert_error(client.patch(f"/v1/resources/{rid}", {"name": other["name"]}), 409)
    assert_error(client.patch(f"/v1/resources/{rid}", {"name": "a/b"}), 400)
    assert get(client, rid)["version"] == 1


@pytest.mark.parametrize("form", ['"{v}"', "{v}", 'W/"{v}"'])
def test_if_match_current_version_forms_succeed(client, form):
    res = client.create()
    rid = res["id"]
    assert_ok(client.patch(f"/v1/resources/{rid}", {"tags": ["x"]}))  # version 2
    r = client.patch(f"/v1/resources/{rid}", {"tags": ["y"]}, headers=im(form.format(v=2)))
    assert_ok(r)
    assert r.json()["version"] == 3
    assert r.json()["tags"] == ["y"]
    r = client.put(f"/v1/resources/{rid}", {"metadata": {"m": 1}},
                   headers=im(form.format(v=3)))
    assert_ok(r)
    assert r.json()["version"] == 4
    r = put_content(client, rid, b"fresh", headers=im(form.format(v=4)))
    assert_ok(r)
    assert r.json()["version"] == 5
    assert r.json()["sha256"] == sha(b"fresh")


def test_if_match_etag_and_star_succeed(client):
    content = b"etag me"
    res = client.create(content=content)
    rid = res["id"]
    r = client.patch(f"/v1/resources/{rid}", {"tags": ["e"]}, headers=im(f'"{sha(content)}"'))
    assert_ok(r)
    assert r.json()["version"] == 2
    r = client.patch(f"/v1/resources/{rid}", {"tags": ["s"]}, headers=im("*"))
    assert_ok(r)
    assert r.json()["version"] == 3
    r = put_content(client, rid, b"second", headers=im(f'"{sha(content)}"'))
    assert_ok(r)
    assert r.json()["version"] == 4
    # the ETag is now the new bytes' one
    assert_412(put_content(client, rid, b"third", headers=im(f'"{sha(content)}"')))
    r = put_content(client, rid, b"third", headers=im(f'"{sha(b"second")}"'))
    assert_ok(r)
    assert r.json()["version"] == 5


@pytest.mark.parametrize("stale", ['"1"', "1", 'W/"1"', '"7"', f'"{sha(b"not it")}"', '"abc"'])
def test_if_match_stale_is_412_and_nothing_changes(client, stale):
    content = b"stable " + uniq().encode()
    res = client.create(content=content, tags=["orig"])
    rid = res["id"]
    assert_ok(client.patch(f"/v1/resources/{rid}", {"metadata": {"v": 2}}))
    before = get(client, rid)
    assert before["version"] == 2

    assert_412(client.patch(f"/v1/resources/{rid}", {"tags": ["new"]}, headers=im(stale)))
    assert_412(client.put(f"/v1/resources/{rid}", {"name": "new-name"}, headers=im(stale)))
    assert_412(client.put(f"/v1/resource/{rid}", {"name": "new-name"}, headers=im(stale)))
    assert_412(put_content(client, rid, b"replacement", headers=im(stale)))
    assert_412(client.delete(f"/v1/resources/{rid}", headers=im(stale)))
    assert_412(client.delete(f"/v1/resource/{rid}", headers=im(stale)))
    assert get(client, rid) == before
    c = client.get(f"/v1/resources/{rid}/content")
    assert_ok(c)
    assert c.content == content


def test_delete_if_match(client):
    res = client.create()
    rid = res["id"]
    assert_ok(client.patch(f"/v1/resources/{rid}", {"tags": ["t"]}))
    assert_412(client.delete(f"/v1/resources/{rid}", headers=im('"1"')))
    assert client.get(f"/v1/resources/{rid}").status_code == 200
    r = client.delete(f"/v1/resources/{rid}", headers=im('"2"'))
    assert r.status_code == 204
    assert r.content == b""
    assert_error(client.get(f"/v1/resources/{rid}"), 404)


def test_delete_if_match_etag_and_star(client):
    a = client.create(content=b"del a " + uniq().encode())
    r = client.delete(f"/v1/resources/{a['id']}", headers=im(f'"{a["sha256"]}"'))
    assert r.status_code == 204
    b = client.create()
    r = client.delete(f"/v1/resource/{b['id']}", headers=im("*"))
    assert r.status_code == 204


def test_if_match_on_unknown_resource_is_404(client):
    rid = "00000000-0000-4000-8000-000000000000"
    assert_error(client.patch(f"/v1/resources/{rid}", {"tags": []}, headers=im("*")), 404)


def test_if_match_race_exactly_one_wins(server):
    client = server.client()
    res = client.create()
    rid = res["id"]
    n = 10
    results = race(n, lambda i: client.patch(f"/v1/resources/{rid}", {"metadata": {"winner": i}},
                                             headers=im('"1"')))
    for r in results:
        assert not isinstance(r, Exception), r
    codes = sorted(r.status_code for r in results)
    assert codes == [200] + [412] * (n - 1), codes
    winner = next(i for i, r in enumerate(results) if r.status_code == 200)
    for r in results:
        if r.status_code == 412:
            assert r.json()["error"] == CHANGED
    final = get(client, rid)
    assert final["version"] == 2
    assert final["metadata"] == {"winner": winner}


def test_if_match_race_on_content_put(server):
    client = server.client()
    rid = client.create(content=b"start")["id"]
    n = 6
    results = race(n, lambda i: put_content(client, rid, f"writer {i}".encode(), headers=im("1")))
    codes = sorted(codes_of(results), key=str)
    assert codes == [200] + [412] * (n - 1), codes
    winner = next(i for i, r in enumerate(results) if r.status_code == 200)
    final = get(client, rid)
    assert final["version"] == 2
    assert final["sha256"] == sha(f"writer {winner}".encode())
    assert client.get(f"/v1/resources/{rid}/content").content == f"writer {winner}".encode()
