"""Bearer JWT authentication (HS256 / RS256 / ES256, iss/aud, leeway) and scopes."""

import time
import uuid

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from depot_helpers import (SECRET, assert_error, assert_ok, b64url, manual_token, std_claims,
                           token, uniq)


def assert_401(resp):
    assert_error(resp, 401)
    www = resp.headers.get("WWW-Authenticate")
    assert www is not None, "401 without WWW-Authenticate"
    assert "Bearer" in www


def get_list(server, tok=None, raw_header=None):
    headers = {}
    if raw_header is not None:
        headers["Authorization"] = raw_header
    return server.request("GET", "/v1/resources", tok=tok, headers=headers)


# ---------------------------------------------------------------- HS256 default server

def test_valid_token_is_accepted(server):
    assert_ok(get_list(server, token(uniq("acct"))))


def test_missing_authorization_is_401_with_www_authenticate(server):
    assert_401(get_list(server))


@pytest.mark.parametrize("method,path", [
    ("GET", "/v1/resources"), ("POST", "/v1/resources"),
    ("GET", "/v1/resources/6f1c1d7e-1111-4222-8333-944455556666"),
    ("PUT", "/v1/resources/6f1c1d7e-1111-4222-8333-944455556666"),
    ("PATCH", "/v1/resources/6f1c1d7e-1111-4222-8333-944455556666"),
    ("DELETE", "/v1/resources/6f1c1d7e-1111-4222-8333-944455556666"),
    ("GET", "/v1/resources/6f1c1d7e-1111-4222-8333-944455556666/content"),
    ("PUT", "/v1/resource/6f1c1d7e-1111-4222-8333-944455556666"),
])
def test_every_v1_route_requires_auth(server, method, path):
    r = server.request(method, path, json_body={"name": "x"} if method != "GET" else None)
    assert_401(r)


@pytest.mark.parametrize("header", [
    "Bearer", "Bearer ", "Bearer garbage", "Bearer a.b.c", "Bearer ...",
    "Basic dXNlcjpwYXNz", "Token abc", "bearer-ish x.y.z",
])
def test_malformed_authorization_is_401(server, header):
    assert_401(get_list(server, raw_header=header))


def test_wrong_secret_is_401(server):
    assert_401(get_list(server, token(uniq("acct"), key="not-the-secret-xxxxxxxxxxxxxxxxxxxxx")))


def test_tampered_payload_is_401(server):
    tok = token("acct-a")
    h, _, s = tok.split(".")
    evil = b64url('{"account_id":"acct-b","exp":%d}' % (time.time() + 3600))
    assert_401(get_list(server, f"{h}.{evil}.{s}"))


def test_expired_token_is_401(server):
    assert_401(get_list(server, token(uniq("acct"), exp_delta=-60)))


def test_token_expired_by_a_few_seconds_is_401(server):
    assert_401(get_list(server, token(uniq("acct"), exp_delta=-3)))


def test_token_without_exp_is_401(server):
    assert_401(get_list(server, token(uniq("acct"), exp_delta=None)))


def test_token_with_string_exp_is_401(server):
    tok = manual_token({"alg": "HS256", "typ": "JWT"},
                       {"account_id": "a", "exp": str(int(time.time()) + 3600)}, SECRET)
    assert_401(get_list(server, tok))


def test_token_with_future_nbf_is_401(server):
    assert_401(get_list(server, token(uniq("acct"), nbf=int(time.time()) + 600)))


def test_token_with_fractional_exp_and_nbf_is_ok(server):
    now = time.time()
    tok = manual_token({"alg": "HS256", "typ": "JWT"},
                       {"account_id": uniq("acct"), "exp": now + 3600.5, "nbf": now - 10.25},
                       SECRET)
    assert_ok(get_list(server, tok))


def test_token_with_fractional_exp_in_the_past_is_401(server):
    tok = manual_token({"alg": "HS256", "typ": "JWT"},
                       {"account_id": uniq("acct"), "exp": time.time() - 30.5}, SECRET)
    assert_401(get_list(server, tok))


def test_scope_with_extra_spaces_still_parsed(server, owned):
    acct, res = owned
    tok = token(acct, scope="  resources:write   resources:read ")
    assert_ok(server.request("GET", f"/v1/resources/{res['id']}", tok=tok))
    assert_ok(server.request("PATCH", f"/v1/resources/{res['id']}", tok=tok,
                             json_body={"metadata": {"x": 1}}))


def test_token_with_past_nbf_is_ok(server):
    assert_ok(get_list(server, token(uniq("acct"), nbf=int(time.time()) - 10)))


def test_token_with_future_iat_is_ok(server):
    # iat is not checked
    assert_ok(get_list(server, token(uniq("acct"), iat=int(time.time()) + 3600)))


def test_alg_none_is_401(server):
    tok = manual_token({"alg": "none", "typ": "JWT"}, std_claims())
    assert_401(get_list(server, tok))
    assert_401(get_list(server, tok.rstrip(".")))
    tok2 = manual_token({"alg": "None", "typ": "JWT"}, std_claims())
    assert_401(get_list(server, tok2))


def test_alg_none_with_valid_looking_signature_is_401(server):
    tok = manual_token({"alg": "none", "typ": "JWT"}, std_claims(), SECRET)
    assert_401(get_list(server, tok))


def test_hs384_and_hs512_tokens_are_401_on_hs256_server(server):
    assert_401(get_list(server, token(uniq("acct"), alg="HS384")))
    assert_401(get_list(server, token(uniq("acct"), alg="HS512")))


def test_missing_account_id_is_401(server):
    assert_401(get_list(server, token(None)))


@pytest.mark.parametrize("account", ["", 12345, None, ["a"], {"x": 1}, "a" * 256],
                         ids=["empty", "number", "null", "array", "object", "256-bytes"])
def test_bad_account_id_is_401(server, account):
    claims = std_claims()
    claims["account_id"] = account
    assert_401(get_list(server, manual_token({"alg": "HS256", "typ": "JWT"}, claims, SECRET)))


def test_account_id_of_255_bytes_is_ok(server):
    acct = "a" * 223 + uuid.uuid4().hex
    assert len(acct) == 255
    c = server.client(account=acct)
    res = c.create()
    assert res["account_id"] == acct


def test_non_string_scope_is_401(server):
    assert_401(get_list(server, token(uniq("acct"), scope=["resources:read"])))
    assert_401(get_list(server, token(uniq("acct"), scope=1)))


def test_token_signed_with_secret_prefix_is_401(server):
    assert_401(get_list(server, token(uniq("acct"), key=SECRET[:-1])))


def test_unauthenticated_routes_need_no_token(server):
    assert_ok(server.request("GET", "/healthz"))
    assert_ok(server.request("GET", "/openapi.json"))


# ---------------------------------------------------------------- scopes

@pytest.fixture
def owned(server):
    """A resource created by a full-scope token, and the account it lives in."""
    acct = uniq("acct")
    c = server.client(account=acct)
    return acct, c.create(name="scoped.txt", content=b"scoped")


def _try_all(server, acct, rid, scope):
    tok = token(acct, scope=scope)
    out = {}
    out["list"] = server.request("GET", "/v1/resources", tok=tok).status_code
    out["get"] = server.request("GET", f"/v1/resources/{rid}", tok=tok).status_code
    out["content"] = server.request("GET", f"/v1/resources/{rid}/content", tok=tok).status_code
    out["post"] = server.request("POST", "/v1/resources", tok=tok, json_body={
        "name": uniq(), "directory_path": "/", "content": "data:text/plain;base64,eA=="
    }).status_code
    out["put"] = server.request("PUT", f"/v1/resource/{rid}", tok=tok,
                                json_body={"metadata": {"s": 1}}).status_code
    out["patch"] = server.request("PATCH", f"/v1/resources/{rid}", tok=tok,
                                  json_body={"metadata": {"s": 2}}).status_code
    out["delete"] = server.request("DELETE", f"/v1/resources/{rid}", tok=tok).status_code
    return out


def test_read_scope_allows_get_forbids_writes(server, owned):
    acct, res = owned
    got = _try_all(server, acct, res["id"], "resources:read")
    assert got == {"list": 200, "get": 200, "content": 200, "post": 403, "put": 403,
                   "patch": 403, "delete": 403}
    # nothing changed
    c = server.client(account=acct)
    assert c.get(f"/v1/resources/{res['id']}").json() == res


def test_forbidden_scope_body_is_json_error(server, owned):
    acct, res = owned
    r = server.request("DELETE", f"/v1/resources/{res['id']}",
                       tok=token(acct, scope="resources:read"))
    assert_error(r, 403)


def test_write_scope_allows_writes_forbids_get(server, owned):
    acct, res = owned
    got = _try_all(server, acct, res["id"], "resources:write")
    assert got == {"list": 403, "get": 403, "content": 403, "post": 200, "put": 200,
                   "patch": 200, "delete": 204}


def test_absent_scope_allows_everything(server, owned):
    acct, res = owned
    got = _try_all(server, acct, res["id"], None)
    assert got == {"list": 200, "get": 200, "content": 200, "post": 200, "put": 200,
                   "patch": 200, "delete": 204}


def test_both_scopes_allow_everything(server, owned):
    acct, res = owned
    got = _try_all(server, acct, res["id"], "openid resources:read resources:write")
    assert got == {"list": 200, "get": 200, "content": 200, "post": 200, "put": 200,
                   "patch": 200, "delete": 204}


@pytest.mark.parametrize("scope", ["foo", "", "resources", "resources:readwrite",
                                   "resources:read:extra", "RESOURCES:READ",
                                   "resources:*"])
def test_unrelated_scope_forbids_everything(server, owned, scope):
    acct, res = owned
    got = _try_all(server, acct, res["id"], scope)
    assert set(got.values()) == {403}, got


def test_other_account_with_full_scope_gets_404(server, owned):
    """A valid token of another account never sees the resource."""
    _, res = owned
    r = server.request("GET", f"/v1/resources/{res['id']}", tok=token(uniq("acct")))
    assert_error(r, 404)


# ---------------------------------------------------------------- RS256 server

@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key():
    return ec.generate_private_key(ec.SECP256R1())


def pub_pem(key):
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.fixture(scope="module")
def rs256_server(module_server_factory, rsa_key, tmp_path_factory):
    pem_path = tmp_path_factory.mktemp("rsa") / "pub.pem"
    pem_path.write_bytes(pub_pem(rsa_key))
    s = module_server_factory(env={"DEPOT_JWT_PUBLIC_KEY": str(pem_path),
                                   "DEPOT_JWT_ALG": "RS256"}, secret=None)
    s.pem = pub_pem(rsa_key)
    return s


@pytest.fixture(scope="module")
def es256_server(module_server_factory, ec_key, tmp_path_factory):
    pem_path = tmp_path_factory.mktemp("ec") / "pub.pem"
    pem_path.write_bytes(pub_pem(ec_key))
    s = module_server_factory(env={"DEPOT_JWT_PUBLIC_KEY": str(pem_path),
                                   "DEPOT_JWT_ALG": "ES256"}, secret=None)
    s.pem = pub_pem(ec_key)
    return s


def test_rs256_valid_token_is_accepted(rs256_server, rsa_key):
    acct = uniq("acct")
    tok = token(acct, alg="RS256", key=rsa_key)
    r = rs256_server.request("POST", "/v1/resources", tok=tok, json_body={
        "name": "rs.txt", "directory_path": "/", "content": "data:text/plain;base64,eA=="})
    assert_ok(r)
    assert r.json()["account_id"] == acct
    assert_ok(rs256_server.request("GET", "/v1/resources", tok=tok))


def test_rs256_server_refuses_hs256_signed_with_public_pem(rs256_server):
    # algorithm confusion: HMAC keyed with the public key PEM bytes
    tok = manual_token({"alg": "HS256", "typ": "JWT"}, std_claims(), rs256_server.pem)
    assert_401(get_list(rs256_server, tok))
    tok = manual_token({"alg": "HS256", "typ": "JWT"}, std_claims(),
                       rs256_server.pem.strip())
    assert_401(get_list(rs256_server, tok))


def test_rs256_server_refuses_hs256_with_default_secret(rs256_server):
    assert_401(get_list(rs256_server, token(uniq("acct"))))


def test_rs256_server_refuses_other_rsa_key(rs256_server):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert_401(get_list(rs256_server, token(uniq("acct"), alg="RS256", key=other)))


def test_rs256_server_refuses_alg_none(rs256_server):
    assert_401(get_list(rs256_server, manual_token({"alg": "none"}, std_claims())))


def test_rs256_server_refuses_expired(rs256_server, rsa_key):
    assert_401(get_list(rs256_server, token(uniq("acct"), alg="RS256", key=rsa_key,
                                            exp_delta=-30)))


def test_rs256_server_refuses_other_rsa_alg(rs256_server, rsa_key):
    assert_401(get_list(rs256_server, token(uniq("acct"), alg="RS512", key=rsa_key)))
    assert_401(get_list(rs256_server, token(uniq("acct"), alg="PS256", key=rsa_key)))


def test_es256_valid_token_is_accepted(es256_server, ec_key):
    tok = token(uniq("acct"), alg="ES256", key=ec_key)
    assert_ok(get_list(es256_server, tok))


def test_es256_server_refuses_rs256(es256_server, rsa_key):
    assert_401(get_list(es256_server, token(uniq("acct"), alg="RS256", key=rsa_key)))


def test_es256_server_refuses_hs256_signed_with_public_pem(es256_server):
    tok = manual_token({"alg": "HS256", "typ": "JWT"}, std_claims(), es256_server.pem)
    assert_401(get_list(es256_server, tok))


def test_es256_server_refuses_hs256_with_default_secret(es256_server):
    assert_401(get_list(es256_server, token(uniq("acct"))))


def test_es256_server_refuses_other_ec_key(es256_server):
    other = ec.generate_private_key(ec.SECP256R1())
    assert_401(get_list(es256_server, token(uniq("acct"), alg="ES256", key=other)))


def test_es256_server_refuses_tampered_signature(es256_server, ec_key):
    tok = token(uniq("acct"), alg="ES256", key=ec_key)
    h, p, s = tok.split(".")
    s = ("A" if s[0] != "A" else "B") + s[1:]
    assert_401(get_list(es256_server, f"{h}.{p}.{s}"))


def test_server_refuses_to_start_without_key(server_factory):
    s = server_factory(secret=None, start=False)
    try:
        s.start()
    except AssertionError:
        # expected: it exited (non-zero) or never became healthy
        assert s.proc is None or s.proc.poll() is not None
        return
    s.stop()
    pytest.fail("depotd started with no JWT key configured")


# ---------------------------------------------------------------- iss / aud / leeway

ISS = "https://issuer.test/depot"
AUD = "depot-api"


@pytest.fixture(scope="module")
def issaud_server(module_server_factory):
    return module_server_factory(env={"DEPOT_JWT_ISSUER": ISS, "DEPOT_JWT_AUDIENCE": AUD})


def test_iss_aud_server_accepts_matching_claims(issaud_server):
    assert_ok(get_list(issaud_server, token(uniq("acct"), iss=ISS, aud=AUD)))


def test_iss_aud_server_accepts_aud_array_containing_value(issaud_server):
    assert_ok(get_list(issaud_server, token(uniq("acct"), iss=ISS, aud=["other", AUD])))


@pytest.mark.parametrize("claims", [
    {"iss": "https://evil.test/depot", "aud": AUD},
    {"aud": AUD},
    {"iss": ISS, "aud": "other"},
    {"iss": ISS},
    {"iss": ISS, "aud": ["other", "x"]},
    {"iss": ISS + "/", "aud": AUD},
    {"iss": ISS, "aud": AUD + "x"},
], ids=["wrong-iss", "missing-iss", "wrong-aud", "missing-aud", "aud-array-without",
        "iss-suffix", "aud-suffix"])
def test_iss_aud_server_refuses_mismatch(issaud_server, claims):
    assert_401(get_list(issaud_server, token(uniq("acct"), **claims)))


@pytest.fixture(scope="module")
def leeway_server(module_server_factory):
    return module_server_factory(env={"DEPOT_JWT_LEEWAY": "120"})


def test_leeway_accepts_recently_expired_token(leeway_server):
    assert_ok(get_list(leeway_server, token(uniq("acct"), exp_delta=-30)))
    assert_ok(get_list(leeway_server, token(uniq("acct"), nbf=int(time.time()) + 30)))


def test_leeway_still_refuses_long_expired_token(leeway_server):
    assert_401(get_list(leeway_server, token(uniq("acct"), exp_delta=-600)))
    assert_401(get_list(leeway_server, token(uniq("acct"), nbf=int(time.time()) + 600)))
