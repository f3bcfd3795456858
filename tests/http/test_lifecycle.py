"""depotd as a process: graceful stop with requests in flight, the access log, --help and
--check-config."""

import os
import signal
import subprocess
import threading
import time

import requests

from depot_helpers import SECRET, TIMEOUT, Origin, data_url, depotd_path, token, uniq


def test_sigterm_finishes_an_in_flight_request(server_factory):
    """A create whose uri fetch takes ~2 s is still answered 200 when SIGTERM arrives after
    0.5 s, and the process then exits 0."""
    origin = Origin()
    try:
        origin.routes["/slow"] = ("slow", 8, 0.25)
        srv = server_factory(env={"DEPOT_FETCH_ALLOW_PRIVATE": "1"})
        tok = token("acct-" + uniq())
        result = {}

        def create():
            result["r"] = requests.post(
                srv.url("/v1/resources"), timeout=TIMEOUT,
                headers={"Authorization": f"Bearer {tok}"},
                json={"name": "slow.txt", "directory_path": "/",
                      "uri": f"http://127.0.0.1:{origin.port}/slow"})

        t = threading.Thread(target=create)
        t.start()
        time.sleep(0.5)
        srv.proc.send_signal(signal.SIGTERM)
        t.join(TIMEOUT)
        assert result["r"].status_code == 200, result["r"].text
        assert result["r"].json()["size_bytes"] == 8
        assert srv.proc.wait(10) == 0
        srv.proc = None
    finally:
        origin.close()


def test_access_log_has_one_line_per_request_and_no_secrets(server_factory):
    srv = server_factory()
    tok = token("acct-log", sub="logger")
    secret_bytes = b"top-secret-file-content-1234"
    h = {"Authorization": f"Bearer {tok}"}
    r = requests.post(srv.url("/v1/resources"), headers=h, timeout=TIMEOUT,
                      json={"name": "s.txt", "directory_path": "/logs",
                            "content": data_url(secret_bytes, "text/plain")})
    assert r.status_code == 200
    rid = r.json()["id"]
    assert requests.get(srv.url(f"/v1/resources/{rid}/content"), headers=h,
                        timeout=TIMEOUT).content == secret_bytes
    assert requests.get(srv.url("/v1/resources?tags=x"), headers=h, timeout=TIMEOUT).ok
    assert requests.get(srv.url("/v1/resources"), timeout=TIMEOUT).status_code == 401
    # a control character in the path is escaped, not written raw
    requests.get(srv.url("/v1/%0a%1bforged"), timeout=TIMEOUT)
    time.sleep(0.2)
    log = srv.log_text(200000)
    assert tok not in log and tok.split(".")[2] not in log
    assert "top-secret" not in log and data_url(secret_bytes, "text/plain") not in log
    assert SECRET not in log
    lines = [l for l in log.splitlines() if " info " in l and "ms account=" in l]
    assert any("POST /v1/resources 200" in l and "account=acct-log" in l for l in lines)
    assert any(f"GET /v1/resources/{rid}/content 200" in l for l in lines)
    assert any("GET /v1/resources 401" in l and "account=-" in l for l in lines)
    assert not any("tags=x" in l for l in lines), "query strings are not logged"
    assert "\x1b" not in log and "\\x0a\\x1bforged" in log


def run_depotd(args, env_extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEPOT_")}
    env.update(env_extra or {})
    return subprocess.run([str(depotd_path())] + args, env=env, capture_output=True,
                          text=True, timeout=30)


def test_help_lists_every_setting():
    p = run_depotd(["--help"])
    assert p.returncode == 0
    for var in ("DEPOT_LISTEN", "DEPOT_DATA", "DEPOT_JWT_SECRET", "DEPOT_JWT_PUBLIC_KEY",
                "DEPOT_MAX_UPLOAD_BYTES", "DEPOT_FETCH_TIMEOUT", "DEPOT_MAX_PAGE_SIZE",
                "DEPOT_FETCH_ALLOW_PRIVATE", "DEPOT_URL_SECRET", "DEPOT_PUBLIC_URL"):
        assert var in p.stdout, var


def test_check_config_validates_and_exits(tmp_path):
    ok = run_depotd(["--check-config", "--data", str(tmp_path / "d")],
                    {"DEPOT_JWT_SECRET": SECRET})
    assert ok.returncode == 0, ok.stderr
    assert "configuration ok" in ok.stdout
    bad = run_depotd(["--check-config"], {"DEPOT_JWT_SECRET": SECRET,
                                          "DEPOT_MAX_PAGE_SIZE": "zero"})
    assert bad.returncode == 2 and "DEPOT_MAX_PAGE_SIZE" in bad.stderr
    nokey = run_depotd(["--check-config"])
    assert nokey.returncode == 2 and "JWT" in nokey.stderr


def test_unknown_flag_is_refused():
    p = run_depotd(["--no-such-flag"], {"DEPOT_JWT_SECRET": SECRET})
    assert p.returncode == 2 and "--no-such-flag" in p.stderr


def test_shutdown_grace_bounds_the_wait_for_a_stalled_upload(server_factory):
    """A client that keeps an upload open (and silent) holds shutdown only for
    DEPOT_SHUTDOWN_GRACE seconds; depotd still exits 0."""
    import socket
    srv = server_factory(env={"DEPOT_SHUTDOWN_GRACE": "1"})
    tok = token("acct-grace")
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT)
    try:
        s.sendall(b"POST /v1/resources HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Authorization: Bearer " + tok.encode() +
                  b"\r\nContent-Length: 100000\r\n\r\n{\"name\":\"a\"")
        time.sleep(0.3)
        t0 = time.time()
        srv.proc.send_signal(signal.SIGTERM)
        assert srv.proc.wait(10) == 0
        assert time.time() - t0 < 5
        srv.proc = None
    finally:
        s.close()
