"""Keyset pagination (docs/API.md, "Lists at any depth"): next_cursor / cursor."""

import base64

import pytest

from depot_helpers import assert_error, assert_ok, uniq

N = 45


def key(it):
    return (it["created_at"], it["id"])


def list_raw(client, **params):
    return client.get("/v1/resources", params=params)


def page(client, **params):
    r = list_raw(client, **params)
    assert_ok(r)
    body = r.json()
    assert "next_cursor" in body, body.keys()
    nc = body["next_cursor"]
    assert nc is None or (isinstance(nc, str) and nc), nc
    return body


def walk(client, sort, page_size=10, between=None):
    """Follow next_cursor to the end; returns (ids in order, page lengths)."""
    seen, lengths = [], []
    body = page(client, sort=sort, page_size=page_size)
    n = 0
    while True:
        seen += [i["id"] for i in body["items"]]
        lengths.append(len(body["items"]))
        if body["next_cursor"] is None:
            return seen, lengths
        if between:
            between(n, seen)
        n += 1
        assert n < 100, "cursor walk does not end"
        body = page(client, sort=sort, page_size=page_size, cursor=body["next_cursor"])


@pytest.fixture(scope="module")
def forty_five(server):
    c = server.client()
    made = [c.create(name=f"r{i:02d}", directory_path="/cur", content=f"c{i}".encode())
            for i in range(N)]
    full = c.list(page_size=100, sort="asc")["items"]
    assert [i["id"] for i in full] == [m["id"] for m in made]
    return c, [i["id"] for i in full]


def test_next_cursor_present_on_first_page(forty_five):
    c, _ = forty_five
    body = page(c, page_size=10)
    assert isinstance(body["next_cursor"], str)
    assert body["total"] == N
    assert body["page"] == 1 and body["page_size"] == 10


def test_walk_desc_yields_all_once_in_order(forty_five):
    c, asc_ids = forty_five
    seen, lengths = walk(c, "desc")
    assert seen == list(reversed(asc_ids))
    assert lengths == [10, 10, 10, 10, 5]


def test_walk_asc_yields_all_once_in_order(forty_five):
    c, asc_ids = forty_five
    seen, lengths = walk(c, "asc")
    assert seen == asc_ids
    assert lengths == [10, 10, 10, 10, 5]


def test_walk_default_sort_is_desc(forty_five):
    c, asc_ids = forty_five
    seen = []
    body = page(c, page_size=7)
    while True:
        seen += [i["id"] for i in body["items"]]
        if body["next_cursor"] is None:
            break
        body = page(c, page_size=7, cursor=body["next_cursor"])
    assert seen == list(reversed(asc_ids))


def test_cursor_pages_match_offset_pages(forty_five):
    c, _ = forty_five
    body = page(c, page_size=10, sort="asc")
    for p in range(2, 6):
        by_cursor = page(c, page_size=10, sort="asc", cursor=body["next_cursor"])
        by_page = page(c, page_size=10, sort="asc", page=p)
        assert by_cursor["items"] == by_page["items"]
        body = by_cursor
    assert body["next_cursor"] is None


def test_page_one_with_cursor_is_allowed(forty_five):
    c, asc_ids = forty_five
    first = page(c, page_size=10, sort="asc")
    r = list_raw(c, page_size=10, sort="asc", page=1, cursor=first["next_cursor"])
    assert_ok(r)
    assert [i["id"] for i in r.json()["items"]] == asc_ids[10:20]


def test_last_page_next_cursor_null(forty_five):
    c, _ = forty_five
    assert page(c, page_size=100)["next_cursor"] is None
    assert page(c, page_size=45)["next_cursor"] is None or \
        page(c, page_size=45, cursor=page(c, page_size=45)["next_cursor"])["items"] == []


def test_empty_account_next_cursor_null(client):
    body = page(client)
    assert body["items"] == [] and body["next_cursor"] is None


def test_small_account_single_page_next_cursor_null(client):
    for _ in range(3):
        client.create()
    body = page(client, page_size=10)
    assert len(body["items"]) == 3
    assert body["next_cursor"] is None


def test_cursor_stable_under_creates_and_deletes_desc(server):
    c = server.client()
    made = [c.create(name=f"d{i:02d}", content=f"d{i}".encode())["id"] for i in range(30)]
    desc = list(reversed(made))
    deleted = set()
    created = []

    def between(n, seen):
        # new ones are newer than anything seen: in desc order they sort before the cursor
        for _ in range(2):
            created.append(c.create(name=uniq("new"))["id"])
        # delete two not yet seen
        unseen = [i for i in desc if i not in seen and i not in deleted]
        for rid in unseen[1:3]:
            assert c.delete(f"/v1/resources/{rid}").status_code == 204
            deleted.add(rid)

    seen, _ = walk(c, "desc", page_size=7, between=between)
    assert len(seen) == len(set(seen)), "an item was repeated"
    assert deleted
    assert seen == [i for i in desc if i not in deleted]
    assert not set(created) & set(seen)


def test_cursor_stable_under_creates_and_deletes_asc(server):
    c = server.client()
    made = [c.create(name=f"a{i:02d}", content=f"a{i}".encode())["id"] for i in range(30)]
    deleted = set()
    created = []

    def between(n, seen):
        if n < 2:
            for _ in range(2):
                created.append(c.create(name=uniq("new"))["id"])
        unseen = [i for i in made + created if i not in seen and i not in deleted]
        for rid in unseen[:1] + unseen[3:4]:
            assert c.delete(f"/v1/resources/{rid}").status_code == 204
            deleted.add(rid)

    seen, _ = walk(c, "asc", page_size=7, between=between)
    assert len(seen) == len(set(seen)), "an item was repeated"
    assert deleted
    # in asc order the new ones come after everything older: they are all seen
    assert seen == [i for i in made + created if i not in deleted]


def test_cursor_deleting_the_last_seen_item(server):
    """The cursor names a position, not a row: deleting its item must not break the walk."""
    c = server.client()
    made = [c.create(name=f"x{i}")["id"] for i in range(12)]
    first = page(c, page_size=5, sort="asc")
    ids = [i["id"] for i in first["items"]]
    assert ids == made[:5]
    assert c.delete(f"/v1/resources/{ids[-1]}").status_code == 204
    second = page(c, page_size=5, sort="asc", cursor=first["next_cursor"])
    assert [i["id"] for i in second["items"]] == made[5:10]


@pytest.mark.parametrize("bad", ["abc", "!!!", "0", base64.urlsafe_b64encode(b"junk").decode(),
                                 "x" * 300, "%00"])
def test_malformed_cursor_is_400(forty_five, bad):
    c, _ = forty_five
    assert_error(list_raw(c, cursor=bad), 400)


def test_tampered_cursor_is_400(forty_five):
    c, _ = forty_five
    nc = page(c, page_size=10)["next_cursor"]
    for bad in (nc[:-1], nc + "A", nc[: len(nc) // 2]):
        r = list_raw(c, page_size=10, cursor=bad)
        assert r.status_code in (200, 400), r.status_code
        if r.status_code == 200:
            # if it happens to decode, it still must be a valid listing
            assert isinstance(r.json()["items"], list)


def test_desc_cursor_with_asc_is_400(forty_five):
    c, _ = forty_five
    nc = page(c, page_size=10, sort="desc")["next_cursor"]
    assert_error(list_raw(c, page_size=10, sort="asc", cursor=nc), 400)
    nc = page(c, page_size=10, sort="asc")["next_cursor"]
    assert_error(list_raw(c, page_size=10, sort="desc", cursor=nc), 400)
    assert_error(list_raw(c, page_size=10, cursor=nc), 400)  # default sort is desc


def test_page_two_with_cursor_is_400(forty_five):
    c, _ = forty_five
    nc = page(c, page_size=10)["next_cursor"]
    assert_error(list_raw(c, page_size=10, page=2, cursor=nc), 400)


def test_cursor_with_filters(server):
    c = server.client()
    tagged = []
    for i in range(15):
        r = c.create(name=f"f{i}", tags=["keep"] if i % 2 == 0 else ["drop"])
        if i % 2 == 0:
            tagged.append(r["id"])
    seen = []
    body = page(c, page_size=3, sort="asc", tags="keep")
    while True:
        seen += [i["id"] for i in body["items"]]
        if body["next_cursor"] is None:
            break
        body = page(c, page_size=3, sort="asc", tags="keep", cursor=body["next_cursor"])
    assert seen == tagged
