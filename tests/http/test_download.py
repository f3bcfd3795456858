"""Downloads (docs/API.md, "Downloads"): HEAD, conditional GET, byte ranges, signed URLs,
Content-Disposition."""

import datetime as dt
import email.utils
import re
import time
import urllib.parse

import pytest
import requests

from depot_helpers import TIMEOUT, assert_error, assert_ok, sha

BODY = b"0123456789abcdefghij"  # 20 bytes
SIZE = len(BODY)

HEADERS = ("Content-Type", "Content-Length", "ETag", "Accept-Ranges", "Content-Disposition",
           "Last-Modified")


@pytest.fixture
def res(client):
    r = client.create(name="twenty.txt", content=BODY, mime="text/plain")
    return client, r


def content_path(rid):
    return f"/v1/resources/{rid}/content"


def etag(data):
    return f'"{sha(data)}"'


def ranged(client, rid, rng, **extra):
    h = {"Range": rng}
    h.update(extra)
    return client.get(content_path(rid), headers=h)


def parse_ts(s):
    return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)


# ------------------------------------------------------------------ GET / HEAD headers

def test_get_content_headers(res):
    client, r0 = res
    r = client.get(content_path(r0["id"]))
    assert_ok(r)
    assert r.content == BODY
    assert r.headers["Content-Type"] == "text/plain"
    assert r.headers["Content-Length"] == str(SIZE)
    assert r.headers["ETag"] == etag(BODY)
    assert r.headers["Accept-Ranges"] == "bytes"
    assert r.headers["Content-Disposition"].startswith("attachment")
    lm = r.headers["Last-Modified"]
    assert lm.endswith(" GMT"), lm
    when = email.utils.parsedate_to_datetime(lm)
    created = parse_ts(r0["created_at"])
    assert created - dt.timedelta(seconds=2) <= when <= dt.datetime.now(dt.timezone.utc) \
        + dt.timedelta(seconds=2)


def test_head_content_equals_get_headers(res):
    client, r0 = res
    g = client.get(content_path(r0["id"]))
    h = client.head(content_path(r0["id"]))
    assert_ok(g)
    assert_ok(h)
    assert h.content == b""
    for name in HEADERS:
        assert h.headers.get(name) == g.headers.get(name), name
    # the connection stays usable (no stray body after HEAD)
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {client.tok}"
    url = client.server.url(content_path(r0["id"]))
    assert s.head(url, timeout=TIMEOUT).content == b""
    assert s.get(url, timeout=TIMEOUT).content == BODY


# ------------------------------------------------------------------ If-None-Match

@pytest.mark.parametrize("inm", [etag(BODY), "*", f'"nope", {etag(BODY)}',
                                 f'{etag(BODY)}, "other"'])
def test_if_none_match_hit_is_304(res, inm):
    client, r0 = res
    r = client.get(content_path(r0["id"]), headers={"If-None-Match": inm})
    assert r.status_code == 304, r.status_code
    assert r.content == b""
    assert r.headers["ETag"] == etag(BODY)
    h = client.head(content_path(r0["id"]), headers={"If-None-Match": inm})
    assert h.status_code == 304


@pytest.mark.parametrize("inm", ['"nope"', f'"{sha(b"other")}"', sha(BODY)[:10]])
def test_if_none_match_miss_is_200(res, inm):
    client, r0 = res
    r = client.get(content_path(r0["id"]), headers={"If-None-Match": inm})
    assert_ok(r)
    assert r.content == BODY


# ------------------------------------------------------------------ Range

@pytest.mark.parametrize("rng,first,last", [
    ("bytes=0-0", 0, 0),
    ("bytes=0-9", 0, 9),
    ("bytes=10-", 10, 19),
    ("bytes=-5", 15, 19),
    ("bytes=19-19", 19, 19),
    ("bytes=19-", 19, 19),
    ("bytes=0-19", 0, 19),
    ("bytes=0-", 0, 19),
    ("bytes=5-1000", 5, 19),
    ("bytes=-1000", 0, 19),
])
def test_range_206(res, rng, first, last):
    client, r0 = res
    r = ranged(client, r0["id"], rng)
    assert r.status_code == 206, (r.status_code, r.text)
    assert r.content == BODY[first:last + 1]
    assert r.headers["Content-Range"] == f"bytes {first}-{last}/{SIZE}"
    assert r.headers["Content-Length"] == str(last - first + 1)
    assert r.headers["ETag"] == etag(BODY)
    h = client.head(content_path(r0["id"]), headers={"Range": rng})
    assert h.status_code == 206
    assert h.content == b""
    assert h.headers["Content-Range"] == f"bytes {first}-{last}/{SIZE}"


@pytest.mark.parametrize("rng", ["bytes=20-", "bytes=20-25", "bytes=100-200", "bytes=-0"])
def test_range_unsatisfiable_416(res, rng):
    client, r0 = res
    r = ranged(client, r0["id"], rng)
    assert r.status_code == 416, (r.status_code, r.text)
    assert r.headers["Content-Range"] == f"bytes */{SIZE}"


@pytest.mark.parametrize("rng", ["bytes=abc", "items=0-1", "bytes=5-2", "bytes=0-1,5-6",
                                 "bytes=0-0, -1", "bytes=", "bytes=--1", "bytes=1-2-3"])
def test_range_malformed_or_multi_is_full_200(res, rng):
    client, r0 = res
    r = ranged(client, r0["id"], rng)
    assert r.status_code == 200, (r.status_code, r.text)
    assert r.content == BODY
    assert "Content-Range" not in r.headers
    assert r.headers["Content-Length"] == str(SIZE)


def test_if_range_with_etag_gives_206(res):
    client, r0 = res
    r = ranged(client, r0["id"], "bytes=2-4", **{"If-Range": etag(BODY)})
    assert r.status_code == 206
    assert r.content == BODY[2:5]
    assert r.headers["Content-Range"] == f"bytes 2-4/{SIZE}"


@pytest.mark.parametrize("ir", ['"other"', f'"{sha(b"x")}"', sha(BODY)])
def test_if_range_other_value_gives_full_200(res, ir):
    client, r0 = res
    r = ranged(client, r0["id"], "bytes=2-4", **{"If-Range": ir})
    assert r.status_code == 200
    assert r.content == BODY


def test_zero_byte_resource_range_is_416(client):
    r0 = client.create(content=b"", mime="text/plain")
    for rng in ("bytes=0-0", "bytes=0-"):
        r = ranged(client, r0["id"], rng)
        assert r.status_code == 416, (rng, r.status_code)
        assert r.headers["Content-Range"] == "bytes */0"
    r = client.get(content_path(r0["id"]))
    assert_ok(r)
    assert r.content == b""
    assert r.headers["Content-Length"] == "0"


def test_range_on_larger_content(client):
    data = bytes(range(256)) * 1000  # 256000 bytes, beyond one sendfile chunk boundary
    r0 = client.create(content=data, mime="application/x-bin")
    r = ranged(client, r0["id"], "bytes=100000-200000")
    assert r.status_code == 206
    assert r.content == data[100000:200001]
    assert r.headers["Content-Range"] == f"bytes 100000-200000/{len(data)}"
    r = ranged(client, r0["id"], "bytes=-70000")
    assert r.status_code == 206
    assert r.content == data[-70000:]


# ------------------------------------------------------------------ signed URLs

def mint(client, rid, expires_in=None):
    params = {} if expires_in is None else {"expires_in": expires_in}
    return client.get(f"/v1/resources/{rid}/url", params=params)


def plain_get(url, method="GET", headers=None):
    return requests.request(method, url, headers=headers or {}, timeout=TIMEOUT,
                            allow_redirects=False)


def q_of(url):
    return {k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).items()}


def with_query(url, **changes):
    u = urllib.parse.urlsplit(url)
    q = urllib.parse.parse_qs(u.query, keep_blank_values=True)
    for k, v in changes.items():
        q[k] = [v]
    return urllib.parse.urlunsplit(u._replace(query=urllib.parse.urlencode(q, doseq=True)))


def test_signed_url_serves_without_jwt(res):
    client, r0 = res
    rid = r0["id"]
    t0 = time.time()
    r = mint(client, rid, 60)
    assert_ok(r)
    body = r.json()
    assert set(body) >= {"url", "expires_at"}
    url = body["url"]
    assert url.startswith(client.server.base + f"/v1/signed/{rid}/content?"), url
    assert set(q_of(url)) >= {"acct", "expires", "sig"}
    exp = parse_ts(body["expires_at"]) if "." in body["expires_at"] else \
        dt.datetime.strptime(body["expires_at"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=dt.timezone.utc)
    assert abs(exp.timestamp() - (t0 + 60)) < 5

    g = plain_get(url)
    assert_ok(g)
    assert g.content == BODY
    assert g.headers["ETag"] == etag(BODY)
    assert g.headers["Content-Type"] == "text/plain"
    assert g.headers["Accept-Ranges"] == "bytes"
    assert "Authorization" not in g.request.headers

    h = plain_get(url, "HEAD")
    assert_ok(h)
    assert h.content == b""
    assert h.headers["Content-Length"] == str(SIZE)
    assert h.headers["ETag"] == etag(BODY)

    p = plain_get(url, headers={"Range": "bytes=3-6"})
    assert p.status_code == 206
    assert p.content == BODY[3:7]
    assert p.headers["Content-Range"] == f"bytes 3-6/{SIZE}"

    n = plain_get(url, headers={"If-None-Match": etag(BODY)})
    assert n.status_code == 304
    assert n.content == b""


def test_signed_url_default_expiry_is_an_hour(res):
    client, r0 = res
    t0 = time.time()
    r = mint(client, r0["id"])
    assert_ok(r)
    exp = int(q_of(r.json()["url"])["expires"])
    assert abs(exp - (t0 + 3600)) < 5
    assert_ok(plain_get(r.json()["url"]))


def test_signed_url_max_expiry_accepted(res):
    client, r0 = res
    r = mint(client, r0["id"], 604800)
    assert_ok(r)
    assert_ok(plain_get(r.json()["url"]))


def test_signed_url_expired_is_403(res):
    client, r0 = res
    r = mint(client, r0["id"], 1)
    assert_ok(r)
    url = r.json()["url"]
    time.sleep(2.5)
    assert_error(plain_get(url), 403)
    assert plain_get(url, "HEAD").status_code == 403


@pytest.mark.parametrize("what", ["sig", "acct", "expires", "path"])
def test_signed_url_tampered_is_403(res, what):
    client, r0 = res
    url = mint(client, r0["id"], 60).json()["url"]
    q = q_of(url)
    if what == "sig":
        s = q["sig"]
        bad = with_query(url, sig=s[:-1] + ("0" if s[-1] != "0" else "1"))
    elif what == "acct":
        bad = with_query(url, acct=q["acct"] + "x")
    elif what == "expires":
        bad = with_query(url, expires=str(int(q["expires"]) + 1000))
    else:
        other = client.create(content=b"other file")
        u = urllib.parse.urlsplit(url)
        bad = urllib.parse.urlunsplit(u._replace(path=f"/v1/signed/{other['id']}/content"))
    assert bad != url
    assert_error(plain_get(bad), 403)


@pytest.mark.parametrize("value", ["0", "604801", "abc", "-1", "1.5"])
def test_signed_url_bad_expires_in_is_400(res, value):
    client, r0 = res
    assert_error(mint(client, r0["id"], value), 400)


def test_signed_url_other_account_is_404(server):
    a = server.client()
    b = server.client()
    r0 = a.create(content=b"private")
    assert_error(mint(b, r0["id"], 60), 404)
    assert_error(mint(a, "00000000-0000-4000-8000-000000000000", 60), 404)


def test_signed_url_needs_auth_to_mint(res):
    client, r0 = res
    r = client.server.request("GET", f"/v1/resources/{r0['id']}/url")
    assert_error(r, 401)


def test_signed_url_of_replaced_content_serves_new_bytes(res):
    client, r0 = res
    url = mint(client, r0["id"], 60).json()["url"]
    new = b"replacement bytes"
    r = client.req("PUT", content_path(r0["id"]), data=new,
                   headers={"Content-Type": "text/plain"})
    assert_ok(r)
    g = plain_get(url)
    assert_ok(g)
    assert g.content == new


# ------------------------------------------------------------------ Content-Disposition

ATTR_CHAR = re.compile(r"^(?:[A-Za-z0-9!#$&+\-.^_`|~]|%[0-9A-Fa-f]{2})*$")


def test_content_disposition_non_ascii(client):
    name = "na\u00efve r\u00e9sum\u00e9 \u65e5\u672c \"q\".txt"
    r0 = client.create(name=name, content=b"cv", mime="text/plain")
    for method in ("GET", "HEAD"):
        r = client.req(method, content_path(r0["id"]))
        assert_ok(r)
        cd = r.headers["Content-Disposition"]
        cd.encode("ascii")
        assert cd.startswith("attachment;")
        m = re.search(r"filename\*=UTF-8''([^;\s]*)", cd)
        assert m, cd
        star = m.group(1)
        assert ATTR_CHAR.match(star), star
        assert "%C3%AF" in star.upper()
        assert urllib.parse.unquote(star, encoding="utf-8", errors="strict") == name
        m = re.search(r'filename="([^"]*)"', cd)
        assert m, cd
        plain = m.group(1)
        assert plain.isascii()
        assert plain.startswith("na_") and plain.endswith(" _q_.txt"), plain
        assert "sum" in plain


def test_content_disposition_ascii_name(client):
    r0 = client.create(name="plain-name_1.txt", content=b"x")
    r = client.get(content_path(r0["id"]))
    cd = r.headers["Content-Disposition"]
    assert 'filename="plain-name_1.txt"' in cd
    assert "filename*=UTF-8''plain-name_1.txt" in cd
