"""Fixtures for the depot black-box HTTP suite.

Run:  /usr/bin/python3 -m pytest tests/http        (from the repo root)
Binary: $DEPOTD, default build/depotd relative to the repo root.
"""

import signal
import threading

import pytest

from depot_helpers import DepotServer, Origin, ServerError, _RUNNING

PER_TEST_ALARM = 90  # seconds; a hard stop so a hung test cannot stall the suite


class _Factory:
    def __init__(self, tmp_root):
        self.tmp_root = tmp_root
        self.servers = []

    def __call__(self, env=None, data_dir=None, secret="__default__", start=True):
        kw = {}
        if secret != "__default__":
            kw["secret"] = secret
        s = DepotServer(env=env, data_dir=data_dir, tmp_root=self.tmp_root, **kw)
        self.servers.append(s)
        if start:
            s.start()
        return s

    def close(self):
        errors = []
        for s in self.servers:
            try:
                s.stop()
            except ServerError as e:
                errors.append(str(e))
        self.servers.clear()
        if errors:
            raise ServerError("\n\n".join(errors))


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """The default server: HS256 with SECRET, no extra env."""
    s = DepotServer(tmp_root=tmp_path_factory.mktemp("default"))
    s.start()
    yield s
    s.stop()


@pytest.fixture
def server_factory(tmp_path_factory):
    """Start extra servers with custom env; all stopped (and checked) at test end."""
    f = _Factory(tmp_path_factory.mktemp("fn"))
    yield f
    f.close()


@pytest.fixture(scope="module")
def module_server_factory(tmp_path_factory):
    f = _Factory(tmp_path_factory.mktemp("mod"))
    yield f
    f.close()


@pytest.fixture
def client(server):
    """A client for a fresh, unique account on the default server."""
    return server.client()


@pytest.fixture
def origin():
    o = Origin()
    yield o
    o.close()


@pytest.fixture(scope="module")
def module_origin():
    o = Origin()
    yield o
    o.close()


@pytest.fixture(autouse=True)
def _guard(request):
    """Per-test hard time limit (PER_TEST_ALARM, or the test's alarm marker), and after each
    test: every live depotd is still running and its stderr has no sanitizer report."""
    use_alarm = threading.current_thread() is threading.main_thread()
    marker = request.node.get_closest_marker("alarm")
    limit = marker.args[0] if marker else PER_TEST_ALARM
    if use_alarm:
        def on_alarm(signum, frame):
            raise TimeoutError(f"test exceeded {limit}s")
        old = signal.signal(signal.SIGALRM, on_alarm)
        signal.alarm(limit)
    try:
        yield
    finally:
        if use_alarm:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)
    bad = [(s, s.health_problem()) for s in list(_RUNNING)]
    bad = [(s, p) for s, p in bad if p]
    if bad:
        for s, _ in bad:
            _RUNNING.remove(s)  # report each broken server once
        logs = "\n".join(f"--- stderr of port {s.port} ---\n{s.log_text()}" for s, _ in bad)
        pytest.fail("; ".join(p for _, p in bad) + "\n" + logs, pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failed test, attach the tail of each live depotd's stderr log."""
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call" and rep.failed:
        for s in list(_RUNNING):
            tail = "\n".join(s.log_text(limit=200000).splitlines()[-25:])
            rep.sections.append((f"depotd stderr (port {s.port}, last 25 lines)", tail))
