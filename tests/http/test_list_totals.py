"""List totals are cached per account and filter until the account's next write: every kind of
write must show up in the very next list, and another account's writes must not."""

import requests

from depot_helpers import TIMEOUT, assert_ok, data_url


def total(c, **params):
    return c.list(**params)["total"]


def test_every_write_changes_the_next_total(server, client):
    q = {"directory_prefix": "/cache", "tags": "keep"}
    assert total(client, **q) == 0
    a = client.create(directory_path="/cache/a", tags=["keep"])
    assert total(client, **q) == 1
    b = client.create(directory_path="/cache/b", tags=["keep", "x"])
    assert total(client, **q) == 2
    assert total(client, **q) == 2  # the cached answer is the same
    # tags replaced: b leaves the filter
    assert_ok(client.patch(f"/v1/resources/{b['id']}", {"tags": ["x"]}))
    assert total(client, **q) == 1
    # moved out of the prefix
    assert_ok(client.patch(f"/v1/resources/{a['id']}", {"directory_path": "/elsewhere"}))
    assert total(client, **q) == 0
    assert_ok(client.patch(f"/v1/resources/{a['id']}", {"directory_path": "/cache/a2"}))
    assert total(client, **q) == 1
    # deleted
    assert client.delete(f"/v1/resources/{a['id']}").status_code == 204
    assert total(client, **q) == 0
    # imported
    body = "\n".join(
        '{"name":"i%d","directory_path":"/cache/i","tags":["keep"],"content":"%s"}'
        % (i, data_url(b"imported", "text/plain")) for i in range(5))
    r = requests.post(server.url("/v1/resources/import"), data=body, timeout=TIMEOUT,
                      headers={"Authorization": f"Bearer {client.tok}",
                               "Content-Type": "application/x-ndjson"})
    assert_ok(r)
    assert total(client, **q) == 5
    # pending resources count only under status=pending, and move on confirmation
    p = client.post("/v1/resources", {"name": "p", "directory_path": "/cache/p",
                                      "tags": ["keep"], "upload": "pending"}).json()
    assert total(client, **q) == 5
    assert total(client, status="pending", **q) == 1
    assert requests.put(p["upload_url"], data=b"bytes", timeout=TIMEOUT).status_code == 200
    assert_ok(client.patch(f"/v1/resources/{p['id']}", {"status": "uploaded"}))
    assert total(client, **q) == 6
    assert total(client, status="pending", **q) == 0


def test_other_accounts_writes_do_not_leak_into_totals(server):
    a = server.client()
    b = server.client()
    a.create(directory_path="/iso")
    assert total(a, directory_prefix="/iso") == 1
    for _ in range(3):
        b.create(directory_path="/iso")
    assert total(a, directory_prefix="/iso") == 1
    assert total(b, directory_prefix="/iso") == 3


def test_every_write_changes_the_next_page(server, client):
    """Whole list answers are kept too (SQLite): each kind of write shows in the next one."""
    q = {"directory_prefix": "/pagecache", "page_size": 5}

    def items():
        first, again = client.list(**q), client.list(**q)
        assert first == again  # the kept answer is the same answer
        return first["items"]

    assert items() == []
    a = client.create(directory_path="/pagecache/a", tags=["t"])
    assert [i["id"] for i in items()] == [a["id"]]
    assert_ok(client.patch(f"/v1/resources/{a['id']}", {"tags": ["u"], "metadata": {"k": 1}}))
    assert items()[0]["tags"] == ["u"] and items()[0]["metadata"] == {"k": 1}
    r = requests.put(server.url(f"/v1/resources/{a['id']}/content"), data=b"new bytes",
                     headers={"Authorization": f"Bearer {client.tok}",
                              "Content-Type": "application/octet-stream"}, timeout=TIMEOUT)
    assert_ok(r)
    assert items()[0]["size_bytes"] == len(b"new bytes")
    assert items()[0]["folder_id"] is None
    f = client.post("/v1/folders", {"directory_path": "/pagecache/a"}).json()
    assert items()[0]["folder_id"] == f["id"]
    b = client.create(directory_path="/pagecache/b")
    assert [i["id"] for i in items()] == [b["id"], a["id"]]
    assert client.delete(f"/v1/resources/{b['id']}").status_code == 204
    assert [i["id"] for i in items()] == [a["id"]]
