"""The depot command: `depot token` (checked with PyJWT, independently of depot's JWT code) and
`depot import` against a running depotd."""

import json
import os
import subprocess
import time

import jwt
import requests

from depot_helpers import REPO_ROOT, SECRET, TIMEOUT, data_url, token

DEPOT = str(REPO_ROOT / "build" / "depot")


def run(args, env_extra=None, stdin=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEPOT_")}
    env.update(env_extra or {})
    return subprocess.run([DEPOT] + args, env=env, input=stdin, capture_output=True,
                          timeout=60)


def test_token_is_hs256_with_the_claims_asked_for():
    p = run(["token", "--account", "acme", "--user", "alice", "--scope", "resources:read",
             "--ttl", "120"], {"DEPOT_JWT_SECRET": SECRET})
    assert p.returncode == 0, p.stderr
    tok = p.stdout.decode().strip()
    assert jwt.get_unverified_header(tok)["alg"] == "HS256"
    claims = jwt.decode(tok, SECRET, algorithms=["HS256"])
    assert claims["account_id"] == "acme" and claims["sub"] == "alice"
    assert claims["scope"] == "resources:read"
    assert 110 <= claims["exp"] - int(time.time()) <= 121


def test_token_refuses_without_secret_or_account():
    assert run(["token", "--account", "a"]).returncode == 2
    assert run(["token"], {"DEPOT_JWT_SECRET": SECRET}).returncode == 2
    assert run(["token", "--account", "a", "--ttl", "-5"],
               {"DEPOT_JWT_SECRET": SECRET}).returncode == 2


def test_import_streams_a_file_and_reports(server, tmp_path):
    lines = [json.dumps({"name": f"cli{i}.txt", "directory_path": "/cli",
                         "content": data_url(f"line {i}".encode(), "text/plain")})
             for i in range(25)]
    lines.append("{broken")
    f = tmp_path / "in.ndjson"
    f.write_text("\n".join(lines) + "\n")
    env = {"DEPOT_JWT_SECRET": SECRET, "DEPOT_URL": server.base}
    p = run(["import", "--account", "acct-cli", str(f)], env)
    assert p.returncode == 1, p.stderr  # one line failed
    out = json.loads(p.stdout)
    assert out["created"] == 25 and out["failed"] == 1
    assert out["errors"][0]["line"] == 26 and out["errors"][0]["status"] == 400
    r = requests.get(server.url("/v1/resources"), params={"directory_prefix": "/cli"},
                     headers={"Authorization": f"Bearer {token('acct-cli')}"}, timeout=TIMEOUT)
    assert r.json()["total"] == 25
    # from standard input, with an explicit token; all good → exit 0
    tok = token("acct-cli2")
    p = run(["import", "--url", server.base, "--token", tok, "-"],
            stdin="\n".join(lines[:3]).encode())
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["created"] == 3


def test_import_usage_errors():
    assert run(["import"]).returncode == 2
    assert run(["import", "--account", "a", "/nonexistent"],
               {"DEPOT_JWT_SECRET": SECRET}).returncode == 2
