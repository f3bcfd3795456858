"""Tenant isolation: another account's resource is 404 everywhere and never listed."""

import pytest

from depot_helpers import assert_error, assert_ok, uniq


@pytest.fixture
def two(server):
    a, b = server.client(), server.client()
    res = a.create(name="private.txt", directory_path="/secret", content=b"A's secret",
                   tags=["shared-tag"], metadata={"owner": "a"})
    return a, b, res


@pytest.mark.parametrize("method,path,body", [
    ("GET", "/v1/resources/{}", None),
    ("HEAD", "/v1/resources/{}", None),
    ("GET", "/v1/resource/{}", None),
    ("GET", "/v1/resources/{}/content", None),
    ("HEAD", "/v1/resources/{}/content", None),
    ("PUT", "/v1/resources/{}", {"name": "stolen.txt"}),
    ("PUT", "/v1/resource/{}", {"metadata": {"owner": "b"}}),
    ("PATCH", "/v1/resources/{}", {"tags": ["pwned"]}),
    ("PATCH", "/v1/resource/{}", {"directory_path": "/b"}),
    ("DELETE", "/v1/resources/{}", None),
    ("DELETE", "/v1/resource/{}", None),
])
def test_other_account_gets_404(two, method, path, body):
    a, b, res = two
    r = b.req(method, path.format(res["id"]), json_body=body)
    assert r.status_code == 404, r.text
    if method != "HEAD":
        assert_error(r, 404)
        assert "A's secret" not in r.text
    # untouched for the owner
    got = a.get(f"/v1/resources/{res['id']}")
    assert_ok(got)
    assert got.json() == res
    assert a.get(f"/v1/resources/{res['id']}/content").content == b"A's secret"


def test_other_account_never_listed(two):
    a, b, res = two
    b.create(name="mine.txt", directory_path="/secret", tags=["shared-tag"])
    for params in ({}, {"tags": "shared-tag"}, {"directory_prefix": "/secret"},
                   {"sort": "asc"}, {"page_size": 100}):
        lst = b.list(**params)
        assert lst["total"] == 1, params
        assert [it["account_id"] for it in lst["items"]] == [b.account]
        assert res["id"] not in [it["id"] for it in lst["items"]]
    lst = a.list()
    assert lst["total"] == 1 and lst["items"][0]["id"] == res["id"]


def test_same_name_and_path_in_two_accounts_are_independent(server):
    a, b = server.client(), server.client()
    ra = a.create(name="same.txt", directory_path="/p", content=b"from a")
    rb = b.create(name="same.txt", directory_path="/p", content=b"from b")
    assert ra["id"] != rb["id"]
    assert a.get(f"/v1/resources/{ra['id']}/content").content == b"from a"
    assert b.get(f"/v1/resources/{rb['id']}/content").content == b"from b"
    # B's rename cannot collide with A's names
    assert_ok(b.put(f"/v1/resource/{rb['id']}", {"name": "other.txt"}))
    assert_ok(b.put(f"/v1/resource/{rb['id']}", {"name": "same.txt"}))


def test_identical_bytes_in_two_accounts_do_not_share_blob(server):
    a, b = server.client(), server.client()
    content = ("shared bytes " + uniq()).encode()
    ra = a.create(content=content)
    rb = b.create(content=content)
    assert ra["sha256"] == rb["sha256"]
    assert ra["storage_key"] != rb["storage_key"]
    assert a.delete(f"/v1/resources/{ra['id']}").status_code == 204
    got = b.get(f"/v1/resources/{rb['id']}/content")
    assert_ok(got)
    assert got.content == content


def test_account_ids_are_compared_exactly(server):
    base = uniq("Acct")
    a = server.client(account=base)
    res = a.create()
    for other in (base.lower(), base.upper(), base + " ", " " + base, base[:-1]):
        if other == base:
            continue
        o = server.client(account=other)
        assert_error(o.get(f"/v1/resources/{res['id']}"), 404)
        assert o.list()["total"] == 0
