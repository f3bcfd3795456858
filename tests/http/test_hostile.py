"""Hostile clients, over raw sockets: ambiguous HTTP framing and request smuggling, oversized
heads, slow clients (slowloris, 1 byte/s tricklers) and log hygiene. RELIABILITY.md, "Hostile
clients", says what each test proves.

Every framing test asserts the exact status, that the connection is closed where RFC 9112 says
it must be, and that one request never gets two responses (a request hidden in a body is never
answered)."""

import re
import resource
import socket
import sqlite3
import threading
import time

import pytest
import requests

from depot_helpers import SECRET, TIMEOUT, backend_env, data_url, token, uniq

HOST = b"Host: 127.0.0.1\r\n"


# --------------------------------------------------------------------------
# raw HTTP

def exchange(port, data, quiet=1.0, limit=10.0):
    """Sends data, then reads until the server closes the connection or stays quiet for
    `quiet` seconds. Returns (bytes received, whether the server closed)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    try:
        s.sendall(data)
        return read_until_close(s, quiet, limit)
    finally:
        s.close()


def read_until_close(s, quiet=1.0, limit=10.0):
    out = b""
    end = time.time() + limit
    s.settimeout(quiet)
    while time.time() < end:
        try:
            d = s.recv(65536)
        except socket.timeout:
            return out, False
        except ConnectionResetError:
            return out, True
        if not d:
            return out, True
        out += d
    return out, False


def split_responses(data):
    """The responses in data, each framed by its Content-Length (every answer of depotd and of
    libmicrohttpd has one): [(status, {header: value}, body)], and the bytes left over."""
    out = []
    while data.startswith(b"HTTP/1."):
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            break
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(b":")
            headers[k.strip().lower().decode()] = v.strip().decode()
        n = int(headers.get("content-length", "0"))
        out.append((status, headers, rest[:n]))
        data = rest[n:]
    return out, data


def one_answer(port, data, status, closed=True, json_body=True):
    """Asserts that data gets exactly one response, with status, and that the connection is
    then closed (or kept, with closed=False). Returns (headers, body)."""
    raw, was_closed = exchange(port, data)
    responses, rest = split_responses(raw)
    assert len(responses) == 1, f"{len(responses)} responses: {raw[:600]!r}"
    assert not rest.startswith(b"HTTP/"), f"a second response follows: {raw[:600]!r}"
    got, headers, body = responses[0]
    assert got == status, f"expected {status}, got {got}: {raw[:600]!r}"
    assert was_closed == closed, f"connection {'kept' if was_closed is False else 'closed'}"
    if json_body:
        assert headers.get("content-type") == "application/json", headers
        assert body.startswith(b'{"error": "') or body.startswith(b'{"error":"'), body
    return headers, body


def post_head(tok, extra):
    return (b"POST /v1/resources HTTP/1.1\r\n" + HOST + b"Authorization: Bearer " + tok.encode()
            + b"\r\nContent-Type: application/json\r\n" + extra + b"\r\n")


def create_body(name):
    return (b'{"name":"' + name.encode() + b'","directory_path":"/hostile","content":"'
            + data_url(b"x").encode() + b'"}')


def chunked(body):
    return b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n"


@pytest.fixture
def victim(client):
    """A resource that a smuggled request would delete, and the raw request that would."""
    r = client.create(name=uniq("victim"), directory_path="/hostile")
    hidden = (b"DELETE /v1/resources/" + r["id"].encode() + b" HTTP/1.1\r\n" + HOST
              + b"Authorization: Bearer " + client.tok.encode() + b"\r\n\r\n")
    yield r["id"], hidden
    assert client.get(f"/v1/resources/{r['id']}").status_code == 200, \
        "the smuggled DELETE was executed"


# --------------------------------------------------------------------------
# framing (RFC 9112 sections 6.1, 6.3, 5.1, 3.2)

def test_content_length_with_transfer_encoding_is_400_and_closed(server, client, victim):
    _, hidden = victim
    body = create_body(uniq("cl-te"))
    req = post_head(client.tok, b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n"
                    % len(body)) + chunked(body) + hidden
    _, msg = one_answer(server.port, req, 400)
    assert b"Content-Length and Transfer-Encoding" in msg
    assert client.list(directory_prefix="/hostile", page_size=100)["total"] == 1


@pytest.mark.parametrize("te, status", [
    (b"gzip, chunked", 501),
    (b"chunked, gzip", 400),
    (b"identity", 400),
    (b"chunked, chunked", 400),
])
def test_transfer_encoding_other_than_a_final_chunked_is_refused(server, client, victim, te,
                                                                  status):
    """libmicrohttpd alone reads such a body until the connection ends (the hidden request
    inside it then gets no answer at all, and the connection hangs to the idle timeout)."""
    _, hidden = victim
    one_answer(server.port, post_head(client.tok, b"Transfer-Encoding: " + te + b"\r\n")
               + chunked(create_body(uniq("te"))) + hidden, status)


def test_transfer_encoding_twice_is_400(server, client, victim):
    _, hidden = victim
    one_answer(server.port, post_head(client.tok, b"Transfer-Encoding: chunked\r\n"
                                      b"Transfer-Encoding: gzip\r\n") + hidden, 400)


def test_transfer_encoding_in_http_1_0_is_400(server, client, victim):
    _, hidden = victim
    req = (b"POST /v1/resources HTTP/1.0\r\n" + HOST + b"Authorization: Bearer "
           + client.tok.encode() + b"\r\nTransfer-Encoding: chunked\r\n\r\n"
           + chunked(create_body(uniq("te10"))) + hidden)
    one_answer(server.port, req, 400)


def test_chunked_body_alone_is_read_and_pipelining_works(server, client):
    """The control case: a chunked create, then a pipelined GET on the same connection, get one
    answer each, in order, and the connection stays open."""
    body = create_body(uniq("chunked"))
    req = (post_head(client.tok, b"Transfer-Encoding: chunked\r\n") + chunked(body)
           + b"GET /healthz HTTP/1.1\r\n" + HOST + b"\r\n")
    raw, closed = exchange(server.port, req)
    responses, rest = split_responses(raw)
    assert [r[0] for r in responses] == [200, 200] and rest == b"" and not closed, raw[:600]
    assert responses[1][2] == b'{"status":"ok"}'


def test_identical_duplicate_content_length_is_one_length(server, client):
    """RFC 9110 8.6 allows reading repeated identical values as one."""
    body = create_body(uniq("dup-cl"))
    req = post_head(client.tok, b"Content-Length: %d\r\nContent-Length: %d\r\n"
                    % (len(body), len(body))) + body
    one_answer(server.port, req, 200, closed=False, json_body=False)


def test_conflicting_content_lengths_are_400_and_nothing_is_smuggled(server, client, victim):
    """libmicrohttpd alone takes the first value: the rest of the body became a second request,
    which was answered (two responses to one request)."""
    _, hidden = victim
    body = create_body(uniq("cl-cl"))
    req = post_head(client.tok, b"Content-Length: %d\r\nContent-Length: %d\r\n"
                    % (len(body), len(body) + len(hidden))) + body + hidden
    _, msg = one_answer(server.port, req, 400)
    assert b"disagree" in msg


@pytest.mark.parametrize("value", [b"2, 2", b"-5", b"+2", b"0x10", b"abc", b""])
def test_malformed_content_length_is_400_and_closed(server, client, value):
    """Answered by libmicrohttpd before depotd sees the request, with an HTML page. Its 0.9.75
    writes that page's header block twice (the copy falls inside the declared body), but there
    is one status line, one response as framed by its Content-Length, and the connection
    closes."""
    one_answer(server.port, post_head(client.tok, b"Content-Length: " + value + b"\r\n")
               + b"{}", 400, json_body=False)


def test_content_length_past_uint64_is_413(server, client):
    one_answer(server.port, post_head(client.tok, b"Content-Length: 99999999999999999999999\r\n"),
               413, json_body=False)


def test_content_length_over_the_body_limit_is_413_before_the_body(server, client):
    headers, _ = one_answer(server.port, post_head(
        client.tok, b"Content-Length: 999999999999\r\n"), 413)


@pytest.mark.parametrize("size, status", [
    (b"zz", 400),                   # not hex
    (b"-5", 400),                   # negative
    (b"fffffffffffffffffff", 413),  # past 64 bits
    (b"5", 400),                    # shorter than the data that follows
])
def test_bad_chunk_sizes_are_refused_and_closed(server, client, victim, size, status):
    """libmicrohttpd's answers (HTML bodies), mid-body: the streaming create is released."""
    _, hidden = victim
    body = create_body(uniq("chunk"))
    req = (post_head(client.tok, b"Transfer-Encoding: chunked\r\n") + size + b"\r\n" + body
           + b"\r\n0\r\n\r\n" + hidden)
    one_answer(server.port, req, status, json_body=False)


@pytest.mark.parametrize("header", [
    b"Transfer-Encoding : chunked",
    b"Content-Length\t: 5",
    b"X-Anything : x",
])
def test_whitespace_before_a_header_colon_is_400(server, client, victim, header):
    """A proxy may read "Transfer-Encoding : chunked" as the framing header libmicrohttpd
    ignores (RFC 9112 5.1: MUST reject)."""
    _, hidden = victim
    body = create_body(uniq("ws"))
    req = post_head(client.tok, header + b"\r\nContent-Length: %d\r\n" % len(body)) + body + hidden
    one_answer(server.port, req, 400)


def test_missing_or_repeated_host_is_400(server):
    one_answer(server.port, b"GET /healthz HTTP/1.1\r\n\r\n", 400)
    one_answer(server.port, b"GET /healthz HTTP/1.1\r\n" + HOST + HOST + b"\r\n", 400)
    # HTTP/1.0 has no Host requirement, and closes after its answer
    one_answer(server.port, b"GET /healthz HTTP/1.0\r\n\r\n", 200, json_body=False)


def test_request_hidden_in_a_get_body_is_not_answered(server, victim):
    """A GET with a body: the body is read and dropped with the connection, never run."""
    _, hidden = victim
    req = b"GET /healthz HTTP/1.1\r\n" + HOST + b"Content-Length: %d\r\n\r\n" % len(hidden) + hidden
    one_answer(server.port, req, 200, json_body=False)


def test_request_hidden_in_a_refused_upload_is_not_answered(server, victim):
    """An upload refused at its headers (no token): its body is never parsed as requests."""
    _, hidden = victim
    req = (b"POST /v1/resources HTTP/1.1\r\n" + HOST + b"Content-Length: %d\r\n\r\n" % len(hidden)
           + hidden)
    one_answer(server.port, req, 401)


# --------------------------------------------------------------------------
# oversized heads

def test_oversized_header_line_is_431_and_closed(server):
    """The request head must fit libmicrohttpd's per-connection buffer,
    DEPOT_CONNECTION_MEMORY (32 KiB by default)."""
    req = b"GET /healthz HTTP/1.1\r\n" + HOST + b"X-Big: " + b"a" * 40000 + b"\r\n\r\n"
    one_answer(server.port, req, 431, json_body=False)
    many = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 60) for i in range(600))
    one_answer(server.port, b"GET /healthz HTTP/1.1\r\n" + HOST + many + b"\r\n", 431,
               json_body=False)


def test_header_limit_follows_connection_memory(server_factory):
    srv = server_factory(env={"DEPOT_CONNECTION_MEMORY": "131072"})
    req = b"GET /healthz HTTP/1.1\r\n" + HOST + b"X-Big: " + b"a" * 40000 + b"\r\n\r\n"
    one_answer(srv.port, req, 200, closed=False, json_body=False)
    small = server_factory(env={"DEPOT_CONNECTION_MEMORY": "16384"})
    req = b"GET /healthz HTTP/1.1\r\n" + HOST + b"X-Big: " + b"a" * 20000 + b"\r\n\r\n"
    one_answer(small.port, req, 431, json_body=False)


def test_oversized_uri_is_414_and_closed(server):
    one_answer(server.port, b"GET /healthz?" + b"a" * 40000 + b" HTTP/1.1\r\n" + HOST + b"\r\n",
               414, json_body=False)
    # a long URI that fits is an ordinary request
    one_answer(server.port, b"GET /" + b"a" * 8000 + b" HTTP/1.1\r\n" + HOST + b"\r\n", 404,
               closed=False)


# --------------------------------------------------------------------------
# slow clients

def raise_fd_limit(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        target = need if hard == resource.RLIM_INFINITY else min(hard, need)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    assert soft >= need, f"open-files limit {soft} (hard {hard}) is under {need}"


def cut_off_after(s, data_tail, interval=1.0, limit=20.0):
    """Trickles data_tail one byte per interval on socket s until the server closes it.
    Returns (seconds until the close was seen, bytes received)."""
    t0 = time.time()
    out = b""
    s.settimeout(interval)
    for i in range(10 ** 6):
        if time.time() - t0 > limit:
            return None, out
        try:
            if i < len(data_tail) and not out:  # once answered, only read
                s.send(data_tail[i:i + 1])
            d = s.recv(4096)
            if not d:
                return time.time() - t0, out
            out += d
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return time.time() - t0, out
    return None, out


def assert_timeout_answer(out):
    responses, _ = split_responses(out)
    assert len(responses) == 1 and responses[0][0] == 408, out[:300]
    assert responses[0][2] == b'{"error": "the request did not arrive in time"}\n'


def test_header_trickler_is_cut_off_after_the_request_timeout(server_factory):
    srv = server_factory(env={"DEPOT_REQUEST_TIMEOUT": "2"})
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT)
    t0 = time.time()
    s.sendall(b"GET /healthz HTTP/1.1\r\n" + HOST)
    took, out = cut_off_after(s, b"X-Slow: " + b"a" * 100 + b"\r\n\r\n")
    took = time.time() - t0 if took is not None else None
    s.close()
    assert took is not None and 1.8 <= took <= 4.5, f"closed after {took}s"
    assert_timeout_answer(out)
    time.sleep(0.2)
    assert "408 0" in srv.log_text() and "request headers not in after 2s" in srv.log_text()


def test_body_trickler_is_cut_off_and_its_upload_released(server_factory):
    srv = server_factory(env={"DEPOT_REQUEST_TIMEOUT": "2", "DEPOT_MIN_BODY_RATE": "100"})
    tok = token("acct-" + uniq())
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT)
    s.sendall(post_head(tok, b"Content-Length: 100000\r\n")
              + b'{"name":"slow.bin","directory_path":"/","content":"data:;base64,')
    t0 = time.time()
    took, out = cut_off_after(s, b"QUJD" * 1000)
    s.close()
    took = time.time() - t0 if took is not None else None
    assert took is not None and 1.8 <= took <= 4.5, f"closed after {took}s"
    assert_timeout_answer(out)
    time.sleep(0.3)
    assert re.search(r"POST /v1/resources 408 .*\(body too slow\)", srv.log_text())
    staging = srv.data_dir / "staging"
    assert not staging.exists() or list(staging.iterdir()) == [], "the upload left a file"
    r = requests.get(srv.url("/v1/resources"), headers={"Authorization": f"Bearer {tok}"},
                     timeout=TIMEOUT)
    assert r.json()["total"] == 0


def test_body_at_the_minimum_rate_is_not_cut_off(server_factory):
    """The body deadline grows with what arrives: 400 KB over ~3 s, beyond a 2 s head start,
    at 4x the minimum rate, is a normal create."""
    srv = server_factory(env={"DEPOT_REQUEST_TIMEOUT": "2", "DEPOT_MIN_BODY_RATE": "30000"})
    tok = token("acct-" + uniq())
    payload = data_url(b"z" * 300000).encode()
    body = b'{"name":"paced.bin","directory_path":"/","content":"' + payload + b'"}'
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT)
    s.sendall(post_head(tok, b"Content-Length: %d\r\n" % len(body)))
    t0 = time.time()
    for i in range(0, len(body), 40000):
        s.sendall(body[i:i + 40000])
        time.sleep(0.3)
    out, _ = read_until_close(s, quiet=3.0)
    s.close()
    assert time.time() - t0 > 2.5
    responses, _ = split_responses(out)
    assert [r[0] for r in responses] == [200], out[:300]


def test_a_slow_handler_is_not_cut_off(server_factory, origin):
    """The deadlines are the client's: once the request is in, a create whose uri fetch takes
    3 s is answered 200 though DEPOT_REQUEST_TIMEOUT is 1 s."""
    origin.routes["/slow"] = ("slow", 6, 0.5)
    srv = server_factory(env={"DEPOT_REQUEST_TIMEOUT": "1", "DEPOT_FETCH_ALLOW_PRIVATE": "1"})
    tok = token("acct-" + uniq())
    t0 = time.time()
    r = requests.post(srv.url("/v1/resources"), headers={"Authorization": f"Bearer {tok}"},
                      timeout=TIMEOUT, json={"name": "slow.txt", "directory_path": "/",
                                             "uri": origin.url("/slow")})
    assert r.status_code == 200, r.text
    assert r.json()["size_bytes"] == 6 and time.time() - t0 > 2.5


def test_a_slow_handler_of_a_bodyless_request_is_not_cut_off(server_factory):
    """The same for a request without a body, whose handler runs as soon as its headers are
    in: a DELETE that waits 3 s for SQLite's write lock (held by another connection) is
    answered 204 though DEPOT_REQUEST_TIMEOUT is 1 s (it was cut with a 408 as a slow body)."""
    srv = server_factory(env={"DEPOT_REQUEST_TIMEOUT": "1"})
    if "DEPOT_DB" in backend_env(srv.data_dir):
        pytest.skip("holds SQLite's write lock")
    h = {"Authorization": f"Bearer {token('acct-' + uniq())}"}
    r = requests.post(srv.url("/v1/resources"), headers=h, timeout=TIMEOUT,
                      json={"name": "b.txt", "directory_path": "/", "content": data_url(b"x")})
    assert r.status_code == 200, r.text
    db = sqlite3.connect(str(srv.data_dir / "depot.db"), timeout=10, check_same_thread=False)
    db.execute("BEGIN IMMEDIATE")
    release = threading.Timer(3, db.rollback)
    release.start()
    try:
        t0 = time.time()
        d = requests.delete(srv.url(f"/v1/resources/{r.json()['id']}"), headers=h,
                            timeout=TIMEOUT)
        assert d.status_code == 204, d.text
        assert time.time() - t0 > 2.5
    finally:
        release.join()
        db.close()


def test_idle_keep_alive_connection_is_closed_quietly(server_factory):
    """After an answer, a connection that sends nothing more is closed at the deadline without
    a 408 (no request had begun)."""
    srv = server_factory(env={"DEPOT_REQUEST_TIMEOUT": "2"})
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT)
    s.sendall(b"GET /healthz HTTP/1.1\r\n" + HOST + b"\r\n")
    t0 = time.time()
    out, closed = read_until_close(s, quiet=6.0)
    s.close()
    assert closed and 1.8 <= time.time() - t0 <= 4.5
    responses, rest = split_responses(out)
    assert [r[0] for r in responses] == [200] and rest == b""


SLOW = 1000


def test_thousand_slow_clients_do_not_starve_a_normal_one(server_factory):
    """1,000 connections trickle headers (800) and bodies (200) one byte a second each; a normal
    client's requests are still each answered within 2 s; at the request timeout every slow
    connection is answered 408 and closed (proof that depotd had accepted all 1,000)."""
    raise_fd_limit(2 * SLOW + 200)
    timeout_s = 8
    srv = server_factory(env={"DEPOT_REQUEST_TIMEOUT": str(timeout_s),
                              "DEPOT_MIN_BODY_RATE": "1000"})
    tok = token("acct-" + uniq())
    socks = []
    for i in range(SLOW):
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT)
        if i % 5 == 0:
            s.sendall(post_head(tok, b"Content-Length: 1000000\r\n") + b'{"name":"')
        else:
            s.sendall(b"GET /healthz HTTP/1.1\r\n" + HOST)
        s.setblocking(False)
        socks.append(s)
    opened = time.time()
    stop = threading.Event()
    answers = {}

    def trickle():
        while not stop.is_set():
            for i, s in enumerate(socks):
                if i in answers:
                    continue
                try:
                    d = s.recv(4096)
                    if d:
                        answers[i] = d
                        continue
                    answers[i] = b"(closed without an answer)"
                    continue
                except BlockingIOError:
                    pass
                except OSError as e:
                    answers[i] = repr(e).encode()
                    continue
                try:
                    s.send(b"a" if i % 5 == 0 else b"X")
                except (BlockingIOError, OSError):
                    pass
            stop.wait(1.0)

    t = threading.Thread(target=trickle)
    t.start()
    try:
        h = {"Authorization": f"Bearer {tok}"}
        times = []

        def timed(method, path, **kw):
            t0 = time.time()
            r = requests.request(method, srv.url(path), timeout=TIMEOUT, **kw)
            times.append(time.time() - t0)
            assert r.status_code == 200, r.text
            return r

        while time.time() - opened < timeout_s - 2:
            timed("GET", "/healthz")
            timed("POST", "/v1/resources", headers=h, json={
                "name": uniq("ok"), "directory_path": "/", "content": data_url(b"served")})
            timed("GET", "/v1/resources?page_size=1", headers=h)
        assert len(times) >= 9 and max(times) < 2.0, \
            f"slowest of {len(times)} requests took {max(times):.2f}s"
        times.sort()
        print(f"normal client: {len(times)} requests, median {times[len(times) // 2]:.3f}s, "
              f"slowest {times[-1]:.3f}s")
        deadline = time.time() + timeout_s + 10
        while len(answers) < SLOW and time.time() < deadline:
            time.sleep(0.2)
    finally:
        stop.set()
        t.join(10)
        for s in socks:
            s.close()
    print(f"all {SLOW} slow connections answered {time.time() - opened:.1f}s after opening")
    assert len(answers) == SLOW, f"{SLOW - len(answers)} slow connections never answered"
    bad = {i: a for i, a in answers.items() if not a.startswith(b"HTTP/1.1 408 ")}
    assert not bad, f"{len(bad)} slow connections got {list(bad.values())[:3]}"
    assert requests.get(srv.url("/healthz"), timeout=TIMEOUT).status_code == 200


# --------------------------------------------------------------------------
# log hygiene

def test_log_escapes_control_characters_and_never_holds_a_token(server_factory):
    srv = server_factory()
    good = token("acct-log", sub="logger")
    expired = token("acct-log", exp_delta=-60)
    forged = good.rsplit(".", 1)[0] + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    wrong_key = token("acct-log", key="another-secret-0123456789abcdef0123")
    for tok in (good, expired, forged, wrong_key, "not-a-jwt", good + "x"):
        for path in ("/v1/resources", "/v1/resources/nope/\x1b[2J"):
            exchange(srv.port, b"GET " + path.encode() + b" HTTP/1.1\r\n" + HOST
                     + b"Authorization: Bearer " + tok.encode() + b"\r\n"
                     + b"User-Agent: evil\x1b[31m\x07\r\n\r\n", quiet=0.3)
        requests.get(srv.url("/v1/resources?access_token=" + tok), timeout=TIMEOUT)
    # control characters in the path, raw and percent-encoded, and a framing error
    exchange(srv.port, b"GET /x\x1b]0;pwned\x07/%0a%0d2026-01-01T00:00:00.000Z%20info%20forged"
             b" HTTP/1.1\r\n" + HOST + b"\r\n", quiet=0.3)
    exchange(srv.port, b"GET /healthz HTTP/1.1\r\n" + HOST + b"X-A : \x1b\r\n\r\n", quiet=0.3)
    time.sleep(0.3)
    log = srv.log_text(10 ** 7)
    for tok in (good, expired, forged, wrong_key):
        header, claims, sig = tok.split(".")
        assert tok not in log and sig not in log and claims not in log, "a token is in the log"
    assert SECRET not in log
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", log), "a raw control character"
    for line in log.splitlines():
        assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (debug|info|warn|error) ",
                        line), f"a line not written by depotd's logger: {line!r}"
    assert "\\x1b]0;pwned\\x07/\\x0a\\x0d2026-01-01T00:00:00.000Z info forged" in log
    assert "\\x1b[2J" in log
    assert "evil" not in log, "a header value was logged"


def test_past_the_connection_limit_a_client_waits_for_the_deadline_not_forever(server_factory):
    """DEPOT_MAX_CONNECTIONS slow connections fill depotd; one more waits in the listen backlog
    until the request deadline frees a place, then is answered."""
    srv = server_factory(env={"DEPOT_MAX_CONNECTIONS": "16", "DEPOT_REQUEST_TIMEOUT": "2"})
    socks = [socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT)
             for _ in range(16)]
    try:
        for s in socks:
            s.sendall(b"GET /healthz HTTP/1.1\r\n" + HOST)
        time.sleep(0.3)
        t0 = time.time()
        r = requests.get(srv.url("/healthz"), timeout=TIMEOUT)
        waited = time.time() - t0
        assert r.status_code == 200
        assert 1.0 <= waited <= 4.0, f"answered after {waited:.2f}s"
    finally:
        for s in socks:
            s.close()


def test_a_burst_past_the_connection_limit_waits_rather_than_being_closed(server_factory):
    """Many connections at once against a small DEPOT_MAX_CONNECTIONS: every one is answered.
    libmicrohttpd queues an added connection for its worker and checks the worker's limit only
    when the worker takes it up, closing it then; MHD_add_connection has already said yes."""
    srv = server_factory(env={"DEPOT_MAX_CONNECTIONS": "16", "DEPOT_THREADS": "2"})
    for _ in range(3):
        socks = [socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT)
                 for _ in range(64)]
        try:
            for s in socks:
                s.sendall(b"GET /healthz HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n")
            for i, s in enumerate(socks):
                try:
                    got, closed = read_until_close(s, quiet=TIMEOUT, limit=TIMEOUT)
                except ConnectionResetError:
                    got = b"(reset)"
                assert got.startswith(b"HTTP/1.1 200"), f"connection {i}: {got[:40]!r}"
        finally:
            for s in socks:
                s.close()
