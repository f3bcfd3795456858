"""Resources from external object storage: s3://BUCKET/KEY and gs://BUCKET/OBJECT against s3rver
(the gs:// reader pointed at it as its Cloud Storage XML endpoint, with keys of its own), and
Azure Blob URLs with a SAS against Azurite. scripts/test.sh starts both once and passes their
endpoints in DEPOT_TEST_EXT_S3_ENDPOINT and DEPOT_TEST_AZURITE_ENDPOINT; run alone, this file
starts its own (scripts/s3.sh, scripts/azurite.sh) and is skipped only when they cannot be
installed. SAS tokens are minted here with hmac/hashlib over the emulator's well-known key."""

import base64
import hashlib
import hmac
import os
import shutil
import subprocess
import tempfile
import urllib.parse

import pytest
import requests

from depot_helpers import (REPO_ROOT, assert_error, assert_ok, free_port, s3_make_bucket,
                           s3_request, sha, uniq)

AZ_ACCOUNT = "devstoreaccount1"
AZ_KEY = base64.b64decode("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1S"
                          "ZFPTOtr/KBHBeksoGMGw==")
S3_KEY, S3_SECRET = "S3RVER", "S3RVER"  # s3rver's one account
SECRET_MARK = "do-not-echo-this-secret"


def _emulator(env_name, script, label):
    """(endpoint, None) from env_name or one started with script (stopped at the end), or
    (None, why) when it cannot be installed or started."""
    given = os.environ.get(env_name)
    if given:
        yield given.rstrip("/"), None
        return
    d = tempfile.mkdtemp(prefix=f"depot-{label}-")
    p = subprocess.run([str(REPO_ROOT / "scripts" / script), "start", d], capture_output=True,
                       text=True, timeout=600)
    if p.returncode != 0:
        shutil.rmtree(d, ignore_errors=True)
        why = " | ".join(ln.strip() for ln in p.stderr.splitlines() if ln.strip())[:300]
        yield None, f"{label} could not be installed or started (scripts/{script}): {why}"
        return
    try:
        yield p.stdout.strip().splitlines()[-1], None
    finally:
        subprocess.run([str(REPO_ROOT / "scripts" / script), "stop", d], timeout=60)
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def s3rver():
    yield from _emulator("DEPOT_TEST_EXT_S3_ENDPOINT", "s3.sh", "s3rver")


@pytest.fixture(scope="module")
def azurite():
    yield from _emulator("DEPOT_TEST_AZURITE_ENDPOINT", "azurite.sh", "azurite")


@pytest.fixture(scope="module")
def s3ep(s3rver):
    if s3rver[0] is None:
        pytest.skip(s3rver[1])
    return s3rver[0]


@pytest.fixture(scope="module")
def azep(azurite):
    """Azurite's endpoint; the Azure tests skip without it, the others run."""
    if azurite[0] is None:
        pytest.skip(azurite[1])
    return azurite[0]


@pytest.fixture(scope="module")
def az_opt(azurite):
    """Azurite's endpoint for DEPOT_EXTERNAL_AZURE_ENDPOINTS, or "" without one."""
    return azurite[0] or ""


def ext_env(s3ep, azure, **over):
    env = {"DEPOT_EXTERNAL_S3_ENDPOINT": s3ep, "DEPOT_EXTERNAL_S3_REGION": "us-east-1",
           "DEPOT_EXTERNAL_S3_ACCESS_KEY": S3_KEY, "DEPOT_EXTERNAL_S3_SECRET_KEY": S3_SECRET,
           "DEPOT_EXTERNAL_GCS_ENDPOINT": s3ep,
           "DEPOT_EXTERNAL_GCS_ACCESS_KEY": S3_KEY, "DEPOT_EXTERNAL_GCS_SECRET_KEY": S3_SECRET,
           "DEPOT_EXTERNAL_AZURE_ENDPOINTS": azure}
    env.update(over)
    return env


@pytest.fixture(scope="module")
def ext(module_server_factory, s3ep, az_opt):
    return module_server_factory(env=ext_env(s3ep, az_opt))


@pytest.fixture(scope="module")
def bucket(s3ep):
    b = "ext-" + uniq("b").lower()
    s3_make_bucket(b, endpoint=s3ep)
    return b


def s3_put(s3ep, bucket, key, data, ctype="text/plain"):
    path = "/".join(urllib.parse.quote(seg, safe="") for seg in key.split("/"))
    status, body, hdrs = s3_request("PUT", f"/{bucket}/{path}", endpoint=s3ep, data=data,
                                    headers={"Content-Type": ctype})
    assert status == 200, f"PUT {key}: {status} {body[:200]!r}"
    return hdrs["etag"].strip('"')


def create(client, uri, **kw):
    body = {"name": uniq("ext"), "directory_path": "/", "uri": uri, **kw}
    return client.post("/v1/resources", body, timeout=60)


def refresh(client, rid, uri=None, **kw):
    return client.post(f"/v1/resources/{rid}/refresh", None if uri is None else {"uri": uri},
                       timeout=60, **kw)


def content(client, rid):
    r = client.get(f"/v1/resources/{rid}/content")
    assert_ok(r)
    return r.content


# ------------------------------------------------------------------ Azure helpers

def account_sas(perms="r", key=AZ_KEY, expiry="2099-01-01T00:00:00Z"):
    """An account SAS (version 2019-12-12 string-to-sign) for the blob service."""
    sv = "2019-12-12"
    fields = [AZ_ACCOUNT, perms, "b", "sco", "", expiry, "", "http,https", sv, ""]
    sig = base64.b64encode(hmac.new(key, "\n".join(fields).encode(), hashlib.sha256).digest())
    return urllib.parse.urlencode({"sv": sv, "ss": "b", "srt": "sco", "sp": perms,
                                   "se": expiry, "spr": "http,https", "sig": sig.decode()})


def az_url(azep, container, blob=None):
    return f"{azep}/{AZ_ACCOUNT}/{container}" + (f"/{blob}" if blob else "")


@pytest.fixture(scope="module")
def container(azep):
    c = uniq("c").lower()
    r = requests.put(az_url(azep, c) + "?restype=container&" + account_sas("rwdlac"), timeout=30)
    assert r.status_code == 201, r.text
    return c


def az_put(azep, container, blob, data, ctype="text/plain"):
    r = requests.put(az_url(azep, container, blob) + "?" + account_sas("rwdlac"), data=data,
                     headers={"x-ms-blob-type": "BlockBlob", "Content-Type": ctype}, timeout=30)
    assert r.status_code == 201, r.text
    return r.headers["ETag"].strip('"')


def az_uri(azep, container, blob, sas=None):
    return az_url(azep, container, blob) + "?" + (sas or account_sas("r"))


# ------------------------------------------------------------------ s3://

def test_s3_import_records_the_source_and_copies_the_bytes(ext, s3ep, bucket):
    c = ext.client()
    data = b"from an S3 bucket " + uniq().encode()
    etag = s3_put(s3ep, bucket, "docs/report.txt", data)
    uri = f"s3://{bucket}/docs/report.txt"
    r = create(c, uri)
    assert_ok(r)
    res = r.json()
    assert res["external_storage_type"] == "s3"
    assert res["external_id"] == etag
    assert res["original_uri"] == uri
    assert res["sha256"] == sha(data) and res["size_bytes"] == len(data)
    assert res["mime_type"] == "text/plain"
    assert content(c, res["id"]) == data
    assert c.get(f"/v1/resources/{res['id']}").json()["external_id"] == etag


def test_s3_key_with_reserved_characters_is_percent_encoded(ext, s3ep, bucket):
    c = ext.client()
    key = "dir/with space+plus (1)/é.bin"
    data = os.urandom(3000)
    s3_put(s3ep, bucket, key, data, ctype="application/octet-stream")
    uri = f"s3://{bucket}/" + "/".join(urllib.parse.quote(s, safe="") for s in key.split("/"))
    r = create(c, uri)
    assert_ok(r)
    assert r.json()["sha256"] == sha(data)
    assert r.json()["original_uri"] == uri


def test_s3_refresh_copies_only_a_changed_version(ext, s3ep, bucket):
    c = ext.client()
    key = uniq("k")
    v1 = b"version one"
    e1 = s3_put(s3ep, bucket, key, v1)
    res = create(c, f"s3://{bucket}/{key}").json()

    r = refresh(c, res["id"])
    assert_ok(r)
    same = r.json()
    assert same["source_changed"] is False
    assert same["external_id"] == e1 and same["sha256"] == sha(v1)
    assert same["updated_at"] == res["updated_at"]  # nothing was written

    v2 = b"version two, longer"
    e2 = s3_put(s3ep, bucket, key, v2)
    assert e2 != e1
    r = refresh(c, res["id"])
    assert_ok(r)
    new = r.json()
    assert new["source_changed"] is True
    assert new["external_id"] == e2 and new["sha256"] == sha(v2)
    assert new["size_bytes"] == len(v2)
    assert content(c, res["id"]) == v2
    again = refresh(c, res["id"]).json()
    assert again["source_changed"] is False and again["sha256"] == sha(v2)


def test_s3_missing_object_or_bucket_is_404_naming_the_uri(ext, bucket):
    c = ext.client()
    uri = f"s3://{bucket}/no/such/key.txt"
    body = assert_error(create(c, uri), 404)
    assert uri in body["error"] and "NoSuchKey" in body["error"]
    uri = f"s3://no-such-bucket-{uniq('x').lower()}/k"
    body = assert_error(create(c, uri), 404)
    assert uri in body["error"] and "NoSuchBucket" in body["error"]


def test_s3_wrong_key_is_403_and_never_echoes_the_credentials(server_factory, s3ep, az_opt,
                                                               bucket):
    s3_put(s3ep, bucket, "secret.txt", b"x")
    s = server_factory(env=ext_env(s3ep, az_opt, DEPOT_EXTERNAL_S3_ACCESS_KEY="WRONGKEY1",
                                   DEPOT_EXTERNAL_S3_SECRET_KEY=SECRET_MARK))
    c = s.client()
    body = assert_error(create(c, f"s3://{bucket}/secret.txt"), 403)
    assert "refused access" in body["error"] and "InvalidAccessKeyId" in body["error"]
    assert "WRONGKEY1" not in body["error"] and SECRET_MARK not in body["error"]
    # gs:// has keys of its own, still good
    assert_ok(create(c, f"gs://{bucket}/secret.txt"))
    assert SECRET_MARK not in s.log_text(limit=10 ** 6)


def test_s3_keys_default_to_the_aws_pair(server_factory, s3ep, az_opt, bucket):
    """Without DEPOT_EXTERNAL_S3_* keys, s3:// sources are read with AWS_ACCESS_KEY_ID and
    AWS_SECRET_ACCESS_KEY; a wrong pair there is refused by the source (so it was used). The
    blobs stay on local disk here: in the S3 pass the blob store would take the pair too."""
    data = b"read with the AWS pair " + uniq().encode()
    s3_put(s3ep, bucket, "aws-pair.txt", data)
    good = server_factory(env=ext_env(s3ep, az_opt, DEPOT_EXTERNAL_S3_ACCESS_KEY="",
                                      DEPOT_EXTERNAL_S3_SECRET_KEY="", AWS_ACCESS_KEY_ID=S3_KEY,
                                      AWS_SECRET_ACCESS_KEY=S3_SECRET, DEPOT_BLOBS=""))
    r = create(good.client(), f"s3://{bucket}/aws-pair.txt")
    assert_ok(r)
    assert r.json()["sha256"] == sha(data)
    bad = server_factory(env=ext_env(s3ep, az_opt, DEPOT_EXTERNAL_S3_ACCESS_KEY="",
                                     DEPOT_EXTERNAL_S3_SECRET_KEY="", AWS_ACCESS_KEY_ID="WRONGKEY2",
                                     AWS_SECRET_ACCESS_KEY=SECRET_MARK, DEPOT_BLOBS=""))
    body = assert_error(create(bad.client(), f"s3://{bucket}/aws-pair.txt"), 403)
    assert "WRONGKEY2" not in body["error"] and SECRET_MARK not in body["error"]


def test_unreachable_source_is_502(server_factory, s3ep, az_opt, bucket):
    closed = free_port()
    s = server_factory(env=ext_env(s3ep, az_opt,
                                   DEPOT_EXTERNAL_S3_ENDPOINT=f"http://127.0.0.1:{closed}"))
    body = assert_error(create(s.client(), f"s3://{bucket}/k"), 502)
    assert f"s3://{bucket}/k" in body["error"]


def test_endpoint_by_host_name_obeys_the_address_rules(server_factory, s3ep, az_opt, bucket):
    """Only an endpoint given as an IP literal is exempt: a host name resolving to loopback is
    refused on connect, unless DEPOT_FETCH_ALLOW_ADDRS lists the address."""
    port = urllib.parse.urlsplit(s3ep).port
    data = b"behind a name"
    s3_put(s3ep, bucket, "named.txt", data)
    env = ext_env(s3ep, az_opt, DEPOT_EXTERNAL_S3_ENDPOINT=f"http://localhost:{port}")
    s = server_factory(env=env)
    body = assert_error(create(s.client(), f"s3://{bucket}/named.txt"), 400)
    assert "forbidden address" in body["error"]
    s2 = server_factory(env=dict(env, DEPOT_FETCH_ALLOW_ADDRS=f"127.0.0.1:{port}"))
    r = create(s2.client(), f"s3://{bucket}/named.txt")
    assert_ok(r)
    assert r.json()["sha256"] == sha(data)


def test_depots_own_bucket_is_no_source(server_factory, s3ep, az_opt):
    own = "ext-own-" + uniq("b").lower()
    s3_make_bucket(own, endpoint=s3ep)
    s = server_factory(env=ext_env(s3ep, az_opt, DEPOT_BLOBS=f"s3://{own}?endpoint={s3ep}&"
                                   "region=us-east-1", AWS_ACCESS_KEY_ID=S3_KEY,
                                   AWS_SECRET_ACCESS_KEY=S3_SECRET))
    c = s.client()
    stored = c.create(content=b"a blob of depot's own " * 2000)
    body = assert_error(create(c, f"s3://{own}/{stored['storage_key']}"), 403)
    assert "own bucket" in body["error"]
    # nor through another bucket's name and dot segments, which libcurl would collapse
    for uri in (f"s3://other-bucket/x/../../{own}/", f"s3://other-bucket/x/../../{own}/"
                f"{stored['storage_key']}", f"s3://other-bucket/%2e%2e/{own}/",
                f"gs://other-bucket/x/../../{own}/{stored['storage_key']}"):
        body = assert_error(create(c, uri), 400)
        assert "'..' segment" in body["error"], uri


# ------------------------------------------------------------------ gs://

def test_gs_import_and_refresh(ext, s3ep, bucket):
    c = ext.client()
    key = uniq("g") + "/object.json"
    v1 = b'{"v": 1}'
    e1 = s3_put(s3ep, bucket, key, v1, ctype="application/json")
    uri = f"gs://{bucket}/{key}"
    r = create(c, uri)
    assert_ok(r)
    res = r.json()
    assert res["external_storage_type"] == "gcs"
    assert res["external_id"] == e1 and res["original_uri"] == uri
    assert res["sha256"] == sha(v1) and res["mime_type"] == "application/json"
    assert refresh(c, res["id"]).json()["source_changed"] is False
    v2 = b'{"v": 2}'
    e2 = s3_put(s3ep, bucket, key, v2, ctype="application/json")
    new = refresh(c, res["id"]).json()
    assert new["source_changed"] is True
    assert new["external_id"] == e2 and new["sha256"] == sha(v2)
    assert content(c, res["id"]) == v2


def test_gs_missing_object_is_404(ext, bucket):
    uri = f"gs://{bucket}/missing/{uniq()}"
    body = assert_error(create(ext.client(), uri), 404)
    assert uri in body["error"]


def test_gs_wrong_key_is_403(server_factory, s3ep, az_opt, bucket):
    s3_put(s3ep, bucket, "g.txt", b"g")
    s = server_factory(env=ext_env(s3ep, az_opt, DEPOT_EXTERNAL_GCS_ACCESS_KEY="GOOGWRONG",
                                   DEPOT_EXTERNAL_GCS_SECRET_KEY=SECRET_MARK))
    c = s.client()
    body = assert_error(create(c, f"gs://{bucket}/g.txt"), 403)
    assert "GOOGWRONG" not in body["error"] and SECRET_MARK not in body["error"]
    assert_ok(create(c, f"s3://{bucket}/g.txt"))  # s3:// keeps its own keys


# ------------------------------------------------------------------ Azure Blob

def test_azure_import_records_the_uri_without_its_sas(ext, azep, container):
    c = ext.client()
    data = b"an Azure blob " + uniq().encode()
    etag = az_put(azep, container, "dir/a.txt", data)
    sas = account_sas("r")
    sig = urllib.parse.parse_qs(sas)["sig"][0]
    r = create(c, az_uri(azep, container, "dir/a.txt", sas))
    assert_ok(r)
    res = r.json()
    assert res["external_storage_type"] == "azure_blob"
    assert res["external_id"] == etag
    assert res["original_uri"] == az_url(azep, container, "dir/a.txt")
    assert sig not in r.text and "sig=" not in r.text and "se=" not in r.text
    assert res["sha256"] == sha(data) and res["mime_type"] == "text/plain"
    assert content(c, res["id"]) == data
    assert sig not in ext.log_text(limit=10 ** 6)


def test_azure_refresh_takes_a_fresh_sas_and_copies_only_changes(ext, azep, container):
    c = ext.client()
    blob = uniq("b") + ".txt"
    v1 = b"azure one"
    az_put(azep, container, blob, v1)
    res = create(c, az_uri(azep, container, blob)).json()

    # depot keeps no SAS: without one, the source refuses, and the answer says what to do
    body = assert_error(refresh(c, res["id"]), 403)
    assert "SAS" in body["error"] and az_url(azep, container, blob) in body["error"]

    r = refresh(c, res["id"], az_uri(azep, container, blob))
    assert_ok(r)
    assert r.json()["source_changed"] is False and r.json()["sha256"] == sha(v1)

    v2 = b"azure two"
    e2 = az_put(azep, container, blob, v2)
    r = refresh(c, res["id"], az_uri(azep, container, blob))
    assert_ok(r)
    new = r.json()
    assert new["source_changed"] is True
    assert new["external_id"] == e2 and new["sha256"] == sha(v2)
    assert new["original_uri"] == az_url(azep, container, blob)
    assert content(c, res["id"]) == v2

    # the refresh uri must name the same blob
    other = az_uri(azep, container, "other.txt")
    body = assert_error(refresh(c, res["id"], other), 400)
    assert "sig=" not in body["error"]


def test_azure_missing_blob_is_404(ext, azep, container):
    uri = az_uri(azep, container, "no-such-blob.txt")
    body = assert_error(create(ext.client(), uri), 404)
    assert az_url(azep, container, "no-such-blob.txt") in body["error"]
    assert "sig=" not in body["error"]


def test_azure_wrong_signature_is_403_without_echoing_it(ext, azep, container):
    az_put(azep, container, "signed.txt", b"s")
    sas = account_sas("r", key=b"not the account key" * 3)
    body = assert_error(create(ext.client(), az_uri(azep, container, "signed.txt", sas)), 403)
    assert "refused access" in body["error"]
    assert urllib.parse.parse_qs(sas)["sig"][0] not in body["error"]
    assert "sig=" not in body["error"]


def test_azure_uri_on_an_unconfigured_loopback_endpoint_is_refused(ext, server_factory, s3ep,
                                                                    azep, container):
    az_put(azep, container, "ssrf.txt", b"internal")
    port = urllib.parse.urlsplit(azep).port
    path = f"/{AZ_ACCOUNT}/{container}/ssrf.txt?" + account_sas("r")
    # https on the emulator's own address and port: not the configured endpoint (http)
    body = assert_error(create(ext.client(), f"https://127.0.0.1:{port}{path}"), 400)
    assert "forbidden address" in body["error"] and "sig" not in body["error"]
    # a server without the emulator configured refuses the very uri the other one reads
    s = server_factory(env=ext_env(s3ep, azep, DEPOT_EXTERNAL_AZURE_ENDPOINTS=""))
    body = assert_error(create(s.client(), f"http://127.0.0.1:{port}{path}"), 400)
    assert "forbidden address" in body["error"] and "sig" not in body["error"]


# ------------------------------------------------------------------ refresh, in general

def test_refresh_of_a_resource_without_source_is_409(ext):
    c = ext.client()
    rid = c.create(content=b"plain")["id"]
    body = assert_error(refresh(c, rid), 409)
    assert "external" in body["error"]


def test_refresh_is_scoped_to_the_account(ext, s3ep, bucket):
    s3_put(s3ep, bucket, "mine.txt", b"mine")
    rid = create(ext.client(), f"s3://{bucket}/mine.txt").json()["id"]
    assert_error(refresh(ext.client(), rid), 404)


def test_refresh_honours_if_match(ext, s3ep, bucket):
    c = ext.client()
    key = uniq("m")
    s3_put(s3ep, bucket, key, b"one")
    res = create(c, f"s3://{bucket}/{key}").json()
    s3_put(s3ep, bucket, key, b"two")
    assert_error(refresh(c, res["id"], headers={"If-Match": '"999"'}), 412)
    r = refresh(c, res["id"], headers={"If-Match": f'"{res["version"]}"'})
    assert_ok(r)
    assert r.json()["sha256"] == sha(b"two")
