"""GET /v1/resources: shape, ordering, paging, filters, parameter validation."""

import datetime as dt
import time
import urllib.parse

import pytest

from depot_helpers import codes_of, race, assert_error, assert_ok, assert_resource_shape


def ids(listing):
    return [it["id"] for it in listing["items"]]


def key(it):
    return (it["created_at"], it["id"])


@pytest.fixture
def seven(client):
    """Seven resources in a fresh account, created in sequence."""
    out = []
    for i in range(7):
        out.append(client.create(name=f"item{i}", directory_path="/seven",
                                 content=f"c{i}".encode()))
    return client, out


def test_list_empty_account(client):
    r = client.get("/v1/resources")
    assert_ok(r)
    body = r.json()
    assert {k: body[k] for k in ("items", "total", "page", "page_size")} == \
        {"items": [], "total": 0, "page": 1, "page_size": 20}
    assert body.get("next_cursor") is None


def test_list_shape_and_defaults(seven):
    client, made = seven
    listing = client.list()
    assert set(listing) >= {"items", "total", "page", "page_size"}
    assert listing["total"] == 7
    assert listing["page"] == 1
    assert listing["page_size"] == 20
    assert len(listing["items"]) == 7
    for it in listing["items"]:
        assert_resource_shape(it)
        assert it["account_id"] == client.account
    by_id = {m["id"]: m for m in made}
    for it in listing["items"]:
        assert it == by_id[it["id"]]


def test_list_default_sort_is_newest_first(seven):
    client, made = seven
    items = client.list()["items"]
    assert [key(i) for i in items] == sorted((key(i) for i in items), reverse=True)
    # created sequentially: newest is the last one created
    assert items[0]["id"] == made[-1]["id"]
    assert items[-1]["id"] == made[0]["id"]


def test_list_sort_desc_explicit(seven):
    client, _ = seven
    assert ids(client.list(sort="desc")) == ids(client.list())


def test_list_sort_asc_is_oldest_first(seven):
    client, made = seven
    items = client.list(sort="asc")["items"]
    assert [key(i) for i in items] == sorted(key(i) for i in items)
    assert [i["id"] for i in items] == [m["id"] for m in made]


def test_list_ties_broken_by_id(server):
    """Creates racing in threads may share a timestamp; order must still be total."""
    c = server.client()
    codes = codes_of(race(10, lambda i: c.create_raw(name=f"tie{i}", content=b"t")))
    assert codes == [200] * 10, codes
    desc = c.list(page_size=100)["items"]
    asc = c.list(page_size=100, sort="asc")["items"]
    assert len(desc) == 10
    assert [key(i) for i in desc] == sorted((key(i) for i in desc), reverse=True)
    assert [key(i) for i in asc] == sorted(key(i) for i in asc)
    assert [i["id"] for i in asc] == [i["id"] for i in reversed(desc)]


@pytest.mark.parametrize("sort", ["desc", "asc"])
def test_list_paging_covers_everything_once(seven, sort):
    client, made = seven
    full = ids(client.list(sort=sort, page_size=100))
    pages = []
    for page in (1, 2, 3):
        lst = client.list(sort=sort, page=page, page_size=3)
        assert lst["total"] == 7
        assert lst["page"] == page
        assert lst["page_size"] == 3
        pages.append(ids(lst))
    assert [len(p) for p in pages] == [3, 3, 1]
    flat = [i for p in pages for i in p]
    assert flat == full
    assert len(set(flat)) == 7
    assert set(flat) == {m["id"] for m in made}


def test_list_page_past_end_is_empty(seven):
    client, _ = seven
    lst = client.list(page=4, page_size=3)
    assert lst["items"] == []
    assert lst["total"] == 7
    assert lst["page"] == 4
    lst = client.list(page=1000)
    assert lst["items"] == [] and lst["total"] == 7


def test_list_page_size_bounds(seven):
    client, _ = seven
    assert len(client.list(page_size=1)["items"]) == 1
    assert client.list(page_size=100)["page_size"] == 100


def test_list_filters_by_tags_requiring_all(client):
    r1 = client.create(tags=["a", "b"])
    r2 = client.create(tags=["a"])
    r3 = client.create(tags=["b", "c"])
    client.create()
    assert set(ids(client.list(tags="a"))) == {r1["id"], r2["id"]}
    assert set(ids(client.list(tags="b"))) == {r1["id"], r3["id"]}
    assert set(ids(client.list(tags="a,b"))) == {r1["id"]}
    assert set(ids(client.list(tags="b,a"))) == {r1["id"]}
    assert ids(client.list(tags="a,c")) == []
    assert ids(client.list(tags="zzz")) == []
    lst = client.list(tags="a")
    assert lst["total"] == 2


def test_list_tag_filter_is_exact_not_prefix(client):
    r = client.create(tags=["alpha"])
    client.create(tags=["alphabet"])
    assert ids(client.list(tags="alpha")) == [r["id"]]
    assert ids(client.list(tags="alp")) == []


def test_list_tag_filter_non_ascii(client):
    r = client.create(tags=["\u00fcber", "\u65e5"])
    client.create(tags=["uber"])
    assert ids(client.list(tags="\u00fcber,\u65e5")) == [r["id"]]


def test_list_directory_prefix_is_plain_byte_prefix(client):
    made = {}
    for d in ["/docs", "/docs/a", "/docsx", "/other", "/", "/doc"]:
        made[d] = client.create(directory_path=d)["id"]
    got = set(ids(client.list(directory_prefix="/docs")))
    assert got == {made["/docs"], made["/docs/a"], made["/docsx"]}
    got = set(ids(client.list(directory_prefix="/docs/")))
    assert got == {made["/docs/a"]}
    assert set(ids(client.list(directory_prefix="/"))) == set(made.values())
    assert ids(client.list(directory_prefix="/nothing")) == []


def test_list_directory_prefix_underscore_is_literal(client):
    a_ = client.create(directory_path="/a_")["id"]
    client.create(directory_path="/ab")
    client.create(directory_path="/aX/y")
    assert ids(client.list(directory_prefix="/a_")) == [a_]


def test_list_directory_prefix_percent_is_literal(client):
    pct = client.create(directory_path="/100%")["id"]
    pct2 = client.create(directory_path="/100%/x")["id"]
    client.create(directory_path="/1000")
    client.create(directory_path="/100abc")
    assert set(ids(client.list(directory_prefix="/100%"))) == {pct, pct2}
    assert ids(client.list(directory_prefix="%")) == []


def test_list_directory_prefix_not_normalised(client):
    client.create(directory_path="/docs")
    assert ids(client.list(directory_prefix="docs")) == []


def test_list_combines_filters_and_total(client):
    want = []
    for i in range(5):
        want.append(client.create(directory_path="/combo", tags=["k"])["id"])
    client.create(directory_path="/combo", tags=["other"])
    client.create(directory_path="/elsewhere", tags=["k"])
    lst = client.list(directory_prefix="/combo", tags="k", page_size=2, page=2)
    assert lst["total"] == 5
    assert len(lst["items"]) == 2
    assert set(ids(lst)) <= set(want)


# ---------------------------------------------------------------- time bounds

@pytest.fixture
def three_in_time(client):
    out = []
    for i in range(3):
        out.append(client.create(name=f"t{i}"))
        time.sleep(0.02)
    assert out[0]["created_at"] < out[1]["created_at"] < out[2]["created_at"]
    return client, out


def _parse(ts):
    return dt.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)


def _with_offset(ts, hours=1):
    d = _parse(ts).astimezone(dt.timezone(dt.timedelta(hours=hours)))
    return d.isoformat(timespec="microseconds")


def test_list_created_after_is_exclusive(three_in_time):
    client, (a, b, c) = three_in_time
    assert set(ids(client.list(created_after=a["created_at"]))) == {b["id"], c["id"]}
    assert ids(client.list(created_after=c["created_at"])) == []


def test_list_created_before_is_exclusive(three_in_time):
    client, (a, b, c) = three_in_time
    assert set(ids(client.list(created_before=c["created_at"]))) == {a["id"], b["id"]}
    assert ids(client.list(created_before=a["created_at"])) == []


def test_list_created_between(three_in_time):
    client, (a, b, c) = three_in_time
    lst = client.list(created_after=a["created_at"], created_before=c["created_at"])
    assert ids(lst) == [b["id"]]
    assert lst["total"] == 1


def test_list_created_after_with_positive_offset(three_in_time):
    client, (a, b, c) = three_in_time
    after = _with_offset(a["created_at"], 1)
    assert after.endswith("+01:00")
    assert set(ids(client.list(created_after=after))) == {b["id"], c["id"]}
    before = _with_offset(c["created_at"], 1)
    assert set(ids(client.list(created_before=before))) == {a["id"], b["id"]}


def test_list_created_after_with_negative_offset(three_in_time):
    client, (a, b, c) = three_in_time
    after = _with_offset(a["created_at"], -5)
    assert after.endswith("-05:00")
    assert set(ids(client.list(created_after=after))) == {b["id"], c["id"]}


def test_list_created_after_unencoded_plus_means_space(three_in_time):
    client, (a, b, c) = three_in_time
    after = _with_offset(a["created_at"], 1)  # raw '+' in the URL, decoded as space
    r = client.get("/v1/resources?created_after=" + after)
    assert_ok(r)
    assert set(ids(r.json())) == {b["id"], c["id"]}


def test_list_created_after_without_fraction(three_in_time):
    client, (a, b, c) = three_in_time
    past = "2000-01-01T00:00:00Z"
    future = "2999-01-01T00:00:00Z"
    assert len(ids(client.list(created_after=past))) == 3
    assert ids(client.list(created_after=future)) == []
    assert len(ids(client.list(created_before=future))) == 3
    assert ids(client.list(created_before=past)) == []


def test_list_created_after_with_short_fraction(three_in_time):
    client, (a, b, c) = three_in_time
    # truncate to whole seconds then add .5 style fraction in the past
    d = _parse(a["created_at"]) - dt.timedelta(seconds=2)
    s = d.strftime("%Y-%m-%dT%H:%M:%S") + ".5Z"
    assert len(ids(client.list(created_after=s))) == 3


# ---------------------------------------------------------------- bad parameters

@pytest.mark.parametrize("params", [
    {"sort": "up"}, {"sort": "ASCENDING"}, {"sort": ""},
    {"page": "0"}, {"page": "-1"}, {"page": "abc"}, {"page": "1.5"}, {"page": ""},
    {"page": "99999999999999999999999"},
    {"page_size": "0"}, {"page_size": "101"}, {"page_size": "-5"}, {"page_size": "x"},
    {"created_after": "garbage"}, {"created_after": "2026-01-01T00:00:00"},
    {"created_before": "2026-01-01"}, {"created_before": "yesterday"},
    {"created_after": "2026-13-01T00:00:00Z"}, {"created_after": "2026-01-01T25:00:00Z"},
    {"tags": "a,,b"}, {"tags": ","}, {"tags": "a,"}, {"tags": "x" * 65},
    {"tags": ",".join(f"t{i}" for i in range(51))},
], ids=lambda p: urllib.parse.urlencode(p)[:40])
def test_list_rejects_bad_parameter(client, params):
    r = client.get("/v1/resources", params=params)
    assert_error(r, 400)


def test_list_ignores_unknown_parameters(client):
    client.create()
    lst = client.list(frobnicate="yes")
    assert lst["total"] == 1


def test_list_accepts_50_tags_filter(client):
    tags = [f"t{i}" for i in range(50)]
    r = client.create(tags=tags)
    assert ids(client.list(tags=",".join(tags))) == [r["id"]]
