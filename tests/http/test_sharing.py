"""Sharing across three accounts (docs/API.md "Sharing"): the owner, an account the resource is
shared with, and one it is not. Who can read (in every dialect), who cannot write (403), and who
never sees it (404, never listed)."""

import pytest
import requests

from depot_helpers import TIMEOUT, assert_error, assert_ok, uniq


@pytest.fixture
def trio(server_factory):
    """owner, reader (named in shared_team_slugs), stranger (not named), on a server of their
    own: GLOBAL resources of other tests would show in their lists."""
    server = server_factory()
    return server.client(), server.client(), server.client()


def share(owner, rid, body):
    r = owner.patch(f"/v1/resources/{rid}", body)
    assert_ok(r)
    return r.json()


def listed(client, rid, **params):
    ids = []
    for owner in ("me", "shared", "any"):
        body = client.list(owner=owner, page_size=100, **params)
        if rid in [x["id"] for x in body["items"]]:
            ids.append(owner)
    return ids


def reads(client, res):
    """The status of every read of res by client, per route and dialect."""
    rid, nid = res["id"], res["numeric_id"]
    out = {
        "get": client.get(f"/v1/resources/{rid}").status_code,
        "alias": client.get(f"/v1/resource/{rid}").status_code,
        "content": client.get(f"/v1/resources/{rid}/content").status_code,
        "value": client.get(f"/v1/resources/{rid}/value").status_code,
        "url": client.get(f"/v1/resources/{rid}/url").status_code,
        "tines": client.get(f"/api/v1/global_resources/{nid}").status_code,
        "empirical": client.get(f"/api/resources/{nid}").status_code,
    }
    return out


def writes(client, res):
    """The status of every write of res by client, per route and dialect."""
    rid, nid = res["id"], res["numeric_id"]
    return {
        "put": client.put(f"/v1/resources/{rid}", {"name": "stolen"}).status_code,
        "patch": client.patch(f"/v1/resource/{rid}", {"description": "stolen"}).status_code,
        "value": client.patch(f"/v1/resources/{rid}", {"value": "stolen"}).status_code,
        "content": client.put(f"/v1/resources/{rid}/content", data=b"stolen",
                              headers={"Content-Type": "text/plain"}).status_code,
        "sharing": client.patch(f"/v1/resources/{rid}", {"read_access": "GLOBAL"}).status_code,
        "tines": client.put(f"/api/v1/global_resources/{nid}", {"value": "stolen"}).status_code,
        "empirical": client.patch(f"/api/resources/{nid}", {"name": "stolen"}).status_code,
        "delete": client.delete(f"/v1/resources/{rid}").status_code,
    }


def all_are(d, code):
    return {k: v for k, v in d.items() if v != code} == {}


def test_specific_teams_reader_reads_stranger_never_sees(trio):
    owner, reader, stranger = trio
    res = owner.create(name=uniq("shared"), content=b"shared bytes", mime="text/plain",
                       description="for the reader")
    before = owner.get(f"/v1/resources/{res['id']}").json()
    out = share(owner, res["id"], {"read_access": "SPECIFIC_TEAMS", "shared_team_slugs": [reader.account]})
    assert out["read_access"] == "SPECIFIC_TEAMS" and out["shared_team_slugs"] == [reader.account]
    assert out["shared"] is False

    # the reader: every read, marked shared, read-only
    assert all_are(reads(reader, res), 200), reads(reader, res)
    got = reader.get(f"/v1/resources/{res['id']}").json()
    assert got["shared"] is True and got["account_id"] == owner.account
    assert got["description"] == "for the reader" and got["sha256"] == res["sha256"]
    assert reader.get(f"/v1/resources/{res['id']}/content").content == b"shared bytes"
    assert reader.get(f"/v1/resources/{res['id']}/value").json() == {"value": "shared bytes"}
    url = reader.get(f"/v1/resources/{res['id']}/url").json()["url"]
    assert requests.get(url, timeout=TIMEOUT).content == b"shared bytes"
    assert listed(reader, res["id"]) == ["shared", "any"]
    assert reader.list()["total"] == 0  # the default list is one's own
    tines = reader.get("/api/v1/global_resources").json()["global_resources"]
    assert [x["id"] for x in tines] == [res["numeric_id"]]
    owners_team = owner.get(f"/api/v1/global_resources/{res['numeric_id']}").json()["team_id"]
    assert tines[0]["team_id"] == owners_team
    assert tines[0]["read_access"] == "SPECIFIC_TEAMS" and tines[0]["value"] == "shared bytes"
    emp = reader.get(f"/api/resources/{res['numeric_id']}").json()["data"]["resource"]
    assert emp["project_id"] == owners_team and emp["url"] is not None

    w = writes(reader, res)
    assert all_are(w, 403), w
    # the stranger: nothing exists, reads and writes alike
    assert all_are(reads(stranger, res), 404), reads(stranger, res)
    assert listed(stranger, res["id"]) == []
    assert stranger.get("/api/v1/global_resources").json()["global_resources"] == []
    assert all_are(writes(stranger, res), 404), writes(stranger, res)
    # nothing changed
    after = owner.get(f"/v1/resources/{res['id']}").json()
    assert (after["version"], after["name"], after["sha256"], after["description"]) == (
        out["version"], before["name"], before["sha256"], before["description"])
    assert listed(owner, res["id"]) == ["me", "any"]


def test_global_then_team_again(trio):
    owner, reader, stranger = trio
    res = owner.create(content=b"for everyone", mime="text/plain")
    share(owner, res["id"], {"read_access": "GLOBAL"})
    for c in (reader, stranger):
        assert all_are(reads(c, res), 200), reads(c, res)
        assert listed(c, res["id"]) == ["shared", "any"]
        assert all_are(writes(c, res), 403)
    out = share(owner, res["id"], {"read_access": "TEAM"})
    assert out["read_access"] == "TEAM" and out["shared_team_slugs"] == []
    for c in (reader, stranger):
        assert all_are(reads(c, res), 404), reads(c, res)
        assert listed(c, res["id"]) == []


def test_leaving_specific_teams_clears_the_accounts(trio):
    owner, reader, _ = trio
    res = owner.create(content=b"x")
    share(owner, res["id"], {"read_access": "SPECIFIC_TEAMS", "shared_team_slugs": [reader.account]})
    out = share(owner, res["id"], {"read_access": "GLOBAL"})
    assert out["shared_team_slugs"] == []
    out = share(owner, res["id"], {"read_access": "TEAM"})
    assert_error(reader.get(f"/v1/resources/{res['id']}"), 404)
    # back to SPECIFIC_TEAMS needs the accounts again
    assert_error(owner.patch(f"/v1/resources/{res['id']}", {"read_access": "SPECIFIC_TEAMS"}), 400)
    assert out["version"] == owner.get(f"/v1/resources/{res['id']}").json()["version"]


def test_sharing_rules_on_create_and_update(trio):
    owner, reader, stranger = trio
    body = {"name": uniq(), "directory_path": "/", "value": "v"}
    assert_error(owner.post("/v1/resources", dict(body, read_access="SPECIFIC_TEAMS")), 400)
    assert_error(owner.post("/v1/resources", dict(body, shared_team_slugs=["a"])), 400)
    assert_error(owner.post("/v1/resources", dict(body, read_access="global")), 400)
    assert_error(owner.post("/v1/resources", dict(body, shared_team_slugs="a")), 400)
    assert_error(owner.post("/v1/resources", dict(body, read_access="SPECIFIC_TEAMS",
                                                  shared_team_slugs=["bad\u0001id"])), 400)
    r = owner.post("/v1/resources", dict(body, read_access="SPECIFIC_TEAMS",
                                         shared_team_slugs=[stranger.account, reader.account, reader.account]))
    assert_ok(r)
    res = r.json()
    assert res["shared_team_slugs"] == sorted([stranger.account, reader.account])
    assert reader.get(f"/v1/resources/{res['id']}").status_code == 200
    # replace the accounts: the stranger stays, the reader goes
    out = share(owner, res["id"], {"shared_team_slugs": [stranger.account]})
    assert out["read_access"] == "SPECIFIC_TEAMS" and out["shared_team_slugs"] == [stranger.account]
    assert_error(reader.get(f"/v1/resources/{res['id']}"), 404)
    assert stranger.get(f"/v1/resources/{res['id']}").status_code == 200
    assert_error(owner.patch(f"/v1/resources/{res['id']}", {"shared_team_slugs": []}), 400)


def test_shared_lists_filter_and_count(trio):
    owner, reader, stranger = trio
    d = "/" + uniq("dir")
    mine = [reader.create(directory_path=d, tags=["t"]) for _ in range(2)]
    theirs = [owner.create(directory_path=d, tags=["t"]) for _ in range(3)]
    for x in theirs[:2]:
        share(owner, x["id"], {"read_access": "SPECIFIC_TEAMS", "shared_team_slugs": [reader.account]})
    share(owner, theirs[2]["id"], {"read_access": "GLOBAL"})
    unshared = owner.create(directory_path=d, tags=["t"])
    for owner_mode, want in (("me", mine), ("shared", theirs), ("any", mine + theirs)):
        for sort in ("asc", "desc"):
            body = reader.list(owner=owner_mode, directory_prefix=d, tags="t", sort=sort, page_size=100)
            got = [x["id"] for x in body["items"]]
            assert sorted(got) == sorted(x["id"] for x in want), owner_mode
            assert body["total"] == len(want)
            times = [x["created_at"] for x in body["items"]]
            assert times == sorted(times, reverse=sort == "desc")
            assert all(x["shared"] == (x["account_id"] != reader.account) for x in body["items"])
        # cursors page through the merged list too
        seen, cursor = [], None
        while True:
            params = dict(owner=owner_mode, directory_prefix=d, page_size=2)
            if cursor:
                params["cursor"] = cursor
            body = reader.list(**params)
            seen += [x["id"] for x in body["items"]]
            cursor = body["next_cursor"]
            if not cursor:
                break
        assert sorted(seen) == sorted(x["id"] for x in want) and len(seen) == len(want)
    assert unshared["id"] not in [x["id"] for x in reader.list(owner="any", directory_prefix=d)["items"]]
    assert stranger.list(owner="shared", directory_prefix=d)["total"] == 1  # the GLOBAL one
    assert_error(reader.get("/v1/resources", params={"owner": "everyone"}), 400)
    # Tines: another team's id lists what that team shares with the caller
    team = owner.get(f"/api/v1/global_resources/{theirs[0]['numeric_id']}").json()["team_id"]
    got = reader.get("/api/v1/global_resources", params={"team_id": team}).json()
    assert sorted(x["id"] for x in got["global_resources"]) == sorted(x["numeric_id"] for x in theirs)


def test_deleting_the_owners_resource_ends_the_share(trio):
    owner, reader, _ = trio
    res = owner.create(content=b"gone soon")
    share(owner, res["id"], {"read_access": "GLOBAL"})
    assert reader.get(f"/v1/resources/{res['id']}").status_code == 200
    assert owner.delete(f"/v1/resources/{res['id']}").status_code == 204
    assert_error(reader.get(f"/v1/resources/{res['id']}"), 404)
    assert_error(reader.get(f"/api/resources/{res['numeric_id']}"), 404)
