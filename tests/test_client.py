"""The HTTP client against the sandbox over real HTTP: retries, faults, errors, paging,
downloads."""

from __future__ import annotations

import io
import random
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from ctk_core.client import Client, client_from_environment, shared_session
from ctk_core.errors import (
    AuthError,
    NotFound,
    RateLimited,
    Unavailable,
    UsageError,
)
from ctk_core.ratelimit import TokenBucket
from ctk_core.testing import running_sandbox

TOKEN = "ATATT3xFfGF0-client-sandbox-token-5f9e2d7c1b"


class FakeClock:
    def __init__(self) -> None:
        self.now = 500.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture(scope="module")
def shared_sandbox():
    with running_sandbox(token=TOKEN) as handle:
        yield handle


@pytest.fixture
def sandbox(shared_sandbox):
    """One sandbox for the module (starting and stopping one per test costs 0.5 s each);
    every test starts with no faults and an empty request log."""
    shared_sandbox.faults.clear()
    shared_sandbox.requests.clear()
    yield shared_sandbox
    shared_sandbox.faults.clear()


@pytest.fixture
def clock():
    return FakeClock()


#: Checked after every test by the suite's token_never_leaks (tests/secret_support.py).
SECRETS = [TOKEN]


def make_client(sandbox, clock=None, *, base=None, limiter=None, **kw) -> Client:
    kw.setdefault("debug", False)
    if clock is not None:
        kw.setdefault("sleep", clock.sleep)
        kw.setdefault("clock", clock)
    return Client(base or sandbox.url, sandbox.email, sandbox.token, limiter=limiter, **kw)


def gets(sandbox, path):
    return [e for e in sandbox.requests.entries() if e["method"] == "GET" and path in e["path"]]


# --- basics ---------------------------------------------------------------------------------------


def test_get_with_headers_and_basic_auth(sandbox):
    client = make_client(sandbox)
    user = client.get("/rest/api/user/current")
    assert user["email"] == sandbox.email
    entry = sandbox.requests.entries()[-1]
    assert entry["headers"]["accept"] == "application/json"
    assert entry["headers"]["user-agent"].startswith("ctk/")
    assert client.session is shared_session()  # one keep-alive session per process


def test_wrong_token_is_an_auth_error_that_never_shows_a_token(sandbox):
    client = Client(sandbox.url, sandbox.email, "wrong-" + TOKEN, debug=False)
    with pytest.raises(AuthError) as info:
        client.get("/api/v2/spaces")
    assert info.value.exit_code == 3
    assert "401" in str(info.value)
    assert "ctk status --check" in str(info.value)
    assert TOKEN not in str(info.value)


def test_client_from_environment_talks_to_the_sandbox(sandbox, monkeypatch):
    for name, value in sandbox.client_env.items():
        monkeypatch.setenv(name, value)
    client = client_from_environment()
    spaces = client.get("/api/v2/spaces", params={"keys": ["DEMO"]})
    assert [s["key"] for s in spaces["results"]] == ["DEMO"]


def test_list_and_bool_params_are_sent_as_confluence_expects(sandbox):
    client = make_client(sandbox)
    pages = client.page("/api/v2/pages", limit=3)["results"]
    ids = [p["id"] for p in pages[:2]]
    got = client.get("/api/v2/pages", params={"id": ids, "include-labels": True, "title": None})
    assert sorted(p["id"] for p in got["results"]) == sorted(ids)
    query = sandbox.requests.entries()[-1]["query"]
    assert query["id"] == ids
    assert query["include-labels"] == ["true"]
    assert "title" not in query


def test_404_says_not_found_or_not_visible_with_confluence_message(sandbox):
    client = make_client(sandbox)
    with pytest.raises(NotFound) as info:
        client.get("/api/v2/pages/99999999")
    text = str(info.value)
    assert "not found or not visible to you" in text.lower()
    assert "99999999" in text
    assert info.value.exit_code == 5


def test_foreign_absolute_url_is_refused_before_any_request(sandbox):
    client = make_client(sandbox)
    with pytest.raises(UsageError):
        client.get("https://evil.example.com/wiki/api/v2/pages")
    assert sandbox.requests.entries() == []


# --- retries: GET only, Retry-After, backoff, budget


def test_429_with_retry_after_then_success_retries_the_get(sandbox, clock):
    limiter = TokenBucket(20, 60, clock=clock, sleep=clock.sleep)
    said: list[str] = []
    client = make_client(sandbox, clock, limiter=limiter, notice=said.append)
    sandbox.fault({"kind": "429", "count": 1, "retry_after": 2})
    spaces = client.get("/api/v2/spaces")
    assert spaces["results"]
    assert clock.slept == [2.0]  # Retry-After honoured, no real sleep
    assert len(gets(sandbox, "/wiki/api/v2/spaces")) == 2
    assert limiter.taken == 2  # the retry took a token too
    assert said == ["Confluence answered 429; retrying in 2 s (attempt 2 of 4)"]


def test_429_gives_up_after_three_retries_with_the_server_hint(sandbox, clock):
    client = make_client(sandbox, clock)
    sandbox.fault({"kind": "429", "retry_after": 1})
    with pytest.raises(RateLimited) as info:
        client.get("/api/v2/spaces")
    assert clock.slept == [1.0, 1.0, 1.0]
    assert len(gets(sandbox, "/wiki/api/v2/spaces")) == 4
    err = info.value
    assert err.exit_code == 7
    assert err.retry_after == 1.0
    assert "after 3 retries" in str(err)
    assert "retry after 1 s" in str(err)
    assert "Rate limit exceeded" in str(err)  # Confluence's own message


def test_503_without_retry_after_backs_off_5_10_20_with_jitter(sandbox, clock):
    client = make_client(sandbox, clock, rng=random.Random(3))
    sandbox.fault({"kind": "503"})
    with pytest.raises(Unavailable) as info:
        client.get("/api/v2/spaces")
    assert len(clock.slept) == 3
    for slept, base in zip(clock.slept, (5, 10, 20), strict=True):
        assert base * 0.7 <= slept <= base * 1.3
    assert len(set(clock.slept)) == 3
    assert info.value.exit_code == 8
    assert "503" in str(info.value)
    assert "after 3 retries" in str(info.value)


def test_backoff_is_capped_at_30_seconds(sandbox):
    client = make_client(sandbox, rng=random.Random(1))
    for attempt in range(3, 8):
        assert 21 <= client._backoff(attempt) <= 39


def test_retries_stop_within_60_seconds_in_all(sandbox, clock):
    client = make_client(sandbox, clock)
    sandbox.fault({"kind": "429", "retry_after": 25})
    with pytest.raises(RateLimited) as info:
        client.get("/api/v2/spaces")
    assert clock.slept == [25.0, 25.0]  # a third wait would pass 60 s
    assert len(gets(sandbox, "/wiki/api/v2/spaces")) == 3
    assert info.value.retry_after == 25.0


def test_retry_after_beyond_the_budget_fails_at_once(sandbox, clock):
    client = make_client(sandbox, clock)
    sandbox.fault({"kind": "429", "retry_after": 120})
    with pytest.raises(RateLimited) as info:
        client.get("/api/v2/spaces")
    assert clock.slept == []
    assert len(gets(sandbox, "/wiki/api/v2/spaces")) == 1
    assert "retry after 120 s" in str(info.value)


@pytest.mark.parametrize("kind", ["429", "503"])
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_writes_are_never_retried(sandbox, clock, kind, method):
    client = make_client(sandbox, clock)
    sandbox.fault({"kind": kind, "method": method, "retry_after": 1})
    page_id = sandbox.page_id("Getting Started") if method != "POST" else None
    call = {
        "POST": lambda: client.post("/api/v2/pages", json={"spaceId": "1", "title": "x"}),
        "PUT": lambda: client.put(f"/api/v2/pages/{page_id}", json={"title": "x"}),
        "DELETE": lambda: client.delete(f"/api/v2/pages/{page_id}"),
    }[method]
    with pytest.raises((RateLimited, Unavailable)):
        call()
    assert clock.slept == []
    assert len([e for e in sandbox.requests.entries() if e["method"] == method]) == 1


@pytest.mark.parametrize(("kind", "status"), [("500", 500), ("502", 502)])
def test_other_5xx_are_unavailable_and_not_retried(sandbox, clock, kind, status):
    client = make_client(sandbox, clock)
    sandbox.fault({"kind": kind, "count": 1})
    with pytest.raises(Unavailable) as info:
        client.get("/api/v2/spaces")
    assert info.value.exit_code == 8
    assert str(status) in str(info.value)
    assert "(injected)" in str(info.value)
    assert clock.slept == []
    assert len(gets(sandbox, "/wiki/api/v2/spaces")) == 1


# --- network faults and bad bodies


def test_read_timeout_is_unavailable(sandbox):
    client = make_client(sandbox, timeout=(2.0, 0.2))
    sandbox.fault({"kind": "latency", "ms": 1000, "count": 1})
    with pytest.raises(Unavailable) as info:
        client.get("/api/v2/spaces")
    assert "did not answer within 0.2 s" in str(info.value)
    assert info.value.exit_code == 8


def test_html_error_page_is_reduced_to_one_line(sandbox):
    client = make_client(sandbox)
    sandbox.fault({"kind": "html", "status": 502, "count": 1})
    with pytest.raises(Unavailable) as info:
        client.get("/api/v2/spaces")
    text = str(info.value)
    assert "HTML error page: 502 Bad Gateway" in text
    assert "<" not in text
    assert "\n" not in text
    assert "temporarily unable" not in text  # the page body never reaches the user


def test_html_401_page_is_an_auth_error(sandbox):
    client = make_client(sandbox)
    sandbox.fault({"kind": "html", "status": 401, "count": 1})
    with pytest.raises(AuthError) as info:
        client.get("/api/v2/spaces")
    assert "<" not in str(info.value)


def test_connection_cut_mid_answer_is_unavailable(sandbox):
    client = make_client(sandbox)
    sandbox.fault({"kind": "close", "count": 1})
    with pytest.raises(Unavailable) as info:
        client.get("/api/v2/spaces")
    assert "broke while reading the answer" in str(info.value)
    assert client.get("/api/v2/spaces")["results"]  # the next request works again


def test_connection_refused_is_unavailable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = Client(f"http://127.0.0.1:{port}", "me@example.com", TOKEN, debug=False)
    with pytest.raises(Unavailable) as info:
        client.get("/api/v2/spaces")
    assert "connection refused" in str(info.value)
    assert f"127.0.0.1:{port}" in str(info.value)


def test_malformed_json_is_a_clear_error(sandbox):
    client = make_client(sandbox)
    sandbox.fault({"kind": "malformed", "count": 1})
    with pytest.raises(Unavailable) as info:
        client.get("/api/v2/spaces")
    assert "malformed JSON" in str(info.value)
    sandbox.fault({"kind": "malformed", "count": 1, "method": "POST"})
    with pytest.raises(Unavailable) as info:
        client.post("/api/v2/pages", json={})
    assert "may have been applied" in str(info.value)


# --- the client-side limiter ----------------------------------------------------------------------


def test_limiter_fails_fast_before_sending(sandbox, clock):
    limiter = TokenBucket(2, 6, clock=clock, sleep=clock.sleep)
    client = make_client(sandbox, clock, limiter=limiter)
    client.get("/api/v2/spaces")
    client.get("/api/v2/spaces")
    with pytest.raises(RateLimited) as info:
        client.get("/api/v2/spaces")
    assert "3.0 s" in str(info.value)
    assert len(gets(sandbox, "/wiki/api/v2/spaces")) == 2  # the third never left
    assert clock.slept == []


def test_iterate_paces_with_the_limiter(sandbox, clock):
    limiter = TokenBucket(2, 6, clock=clock, sleep=clock.sleep)
    said: list[str] = []
    client = make_client(sandbox, clock, limiter=limiter)
    items = list(client.iterate("/api/v2/pages", limit=5, on_wait=said.append))
    requests_made = len(gets(sandbox, "/wiki/api/v2/pages"))
    assert requests_made >= 3
    assert len(items) == len({p["id"] for p in items})
    assert clock.slept == [pytest.approx(3.0)] * (requests_made - 2)
    assert said
    assert all(s == "waiting for rate limit: 3.0 s" for s in said)


# --- pagination


def test_page_and_iterate_agree(sandbox):
    client = make_client(sandbox)
    collected = []
    cursor = None
    for _ in range(100):
        page = client.page("/api/v2/pages", limit=4, cursor=cursor)
        assert page["base"] == sandbox.url + "/wiki"
        collected.extend(p["id"] for p in page["results"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    everything = [p["id"] for p in client.iterate("/api/v2/pages", limit=4)]
    assert collected == everything
    assert len(everything) > 4
    current = [p for p in sandbox.state.pages.values() if p["status"] == "current"]
    assert len(everything) == len(current)


def test_scoped_gateway_paging_stays_on_the_gateway(sandbox):
    client = make_client(sandbox, base=sandbox.gateway_url)
    items = list(client.iterate("/api/v2/pages", limit=3))
    assert len(items) > 3
    paths = [e["path"] for e in sandbox.requests.entries()]
    assert len(paths) >= 2
    assert all(p.startswith(f"/ex/confluence/{sandbox.cloud_id}/wiki/api/v2/pages") for p in paths)


def test_v1_search_pages_with_cursor(sandbox):
    client = make_client(sandbox)
    try:
        first = client.page("/rest/api/search", params={"cql": "type=page"}, limit=2)
    except NotFound:
        pytest.fail("the sandbox does not serve /rest/api/search")
    assert len(first["results"]) == 2
    assert first["next_cursor"]
    everything = list(client.iterate("/rest/api/search", params={"cql": "type=page"}, limit=2))
    assert len(everything) > 2


# --- downloads


def _attachment(sandbox, title):
    for att in sandbox.state.attachments.values():
        if att["title"] == title:
            return att
    raise KeyError(title)


def test_download_streams_an_attachment(sandbox):
    client = make_client(sandbox)
    att = _attachment(sandbox, "notes.txt")
    meta = client.get(f"/api/v2/attachments/{att['id']}")
    buf = io.BytesIO()
    seen: list[tuple[int, int | None]] = []
    size = client.download(meta["downloadLink"], buf, progress=lambda d, t: seen.append((d, t)))
    assert size == len(buf.getvalue()) == meta["fileSize"] > 0
    assert seen[-1] == (size, size)


def test_download_through_the_v1_redirect_keeps_auth_on_the_same_host(sandbox):
    client = make_client(sandbox)
    att = _attachment(sandbox, "notes.txt")
    buf = io.BytesIO()
    size = client.download(
        f"/rest/api/content/{att['pageId']}/child/attachment/{att['id']}/download", buf
    )
    assert size == att["fileSize"]
    hops = [e for e in sandbox.requests.entries() if e["method"] == "GET"]
    assert len(hops) == 2
    assert hops[1]["status"] == 200


def test_download_is_chunked_with_progress(sandbox):
    from ctk_core.sandbox.routes_attachments import create_attachment

    data = bytes(range(256)) * 4096  # 1 MiB
    page_id = sandbox.page_id("Getting Started")
    with sandbox.state.lock:
        att = create_attachment(sandbox.state, page_id, "big.bin", data)
    client = make_client(sandbox)
    meta = client.get(f"/api/v2/attachments/{att['id']}")
    buf = io.BytesIO()
    calls: list[int] = []
    size = client.download(
        meta["downloadLink"], buf, progress=lambda d, t: calls.append(d), chunk_size=64 * 1024
    )
    assert size == len(data)
    assert buf.getvalue() == data
    assert len(calls) >= 16
    assert calls == sorted(calls)


def test_download_of_a_missing_file_is_not_found(sandbox):
    client = make_client(sandbox)
    with pytest.raises(NotFound):
        client.download("/download/attachments/1/nothing-here.txt", io.BytesIO())


class _Recorder(BaseHTTPRequestHandler):
    """A second real server on another port (another origin): records headers, redirects."""

    protocol_version = "HTTP/1.1"
    seen: ClassVar[list[dict[str, str]]] = []
    redirect_to = ""

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        type(self).seen.append({k.lower(): v for k, v in self.headers.items()})
        if self.path.startswith("/bounce") and self.redirect_to:
            self.send_response(302)
            self.send_header("Location", self.redirect_to)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"media-store-bytes"
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def other_origin():
    _Recorder.seen = []
    _Recorder.redirect_to = ""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_download_never_sends_credentials_to_another_host(sandbox, other_origin):
    client = make_client(sandbox)
    from ctk_core.sandbox.responses import Response

    def bounce(req):
        return Response(302, b"", {"Location": other_origin + "/media/file.bin"})

    sandbox.server.router.add("GET", "/wiki/test-bounce", bounce)
    buf = io.BytesIO()
    assert client.download("/test-bounce", buf) == len(b"media-store-bytes")
    assert buf.getvalue() == b"media-store-bytes"
    assert len(_Recorder.seen) == 1
    assert "authorization" not in _Recorder.seen[0]


def test_download_redirect_back_to_the_site_gets_credentials(sandbox, other_origin):
    client = make_client(sandbox)
    att = _attachment(sandbox, "notes.txt")
    meta = client.get(f"/api/v2/attachments/{att['id']}")
    _Recorder.redirect_to = sandbox.url + "/wiki" + meta["downloadLink"]
    buf = io.BytesIO()
    size = client.download(other_origin + "/bounce", buf)
    assert size == att["fileSize"]  # the sandbox demands credentials: they were sent to it
    assert "authorization" not in _Recorder.seen[0]  # ... and not to the other origin


def test_download_refuses_plain_http_redirects_off_loopback(sandbox):
    client = make_client(sandbox)
    from ctk_core.sandbox.responses import Response

    sandbox.server.router.add(
        "GET",
        "/wiki/test-downgrade",
        lambda req: Response(302, b"", {"Location": "http://media.example.com/x"}),
    )
    with pytest.raises(Unavailable) as info:
        client.download("/test-downgrade", io.BytesIO())
    assert "non-https" in str(info.value)


# --- debug log ------------------------------------------------------------------------------------


def test_debug_logs_one_line_per_request_without_secrets(sandbox, capfd, private_environment):
    client = make_client(sandbox, debug=True)
    client.get("/api/v2/spaces", params={"keys": "DEMO"})
    with pytest.raises(NotFound):
        client.get("/api/v2/pages/424242")
    _out, err = capfd.readouterr()
    lines = [line for line in err.splitlines() if "ctk http:" in line]
    assert len(lines) == 2
    assert "GET /wiki/api/v2/spaces -> 200" in lines[0]
    assert " ms)" in lines[0]
    assert "GET /wiki/api/v2/pages/424242 -> 404" in lines[1]
    assert "keys=DEMO" not in err  # no query strings
    assert TOKEN not in err
    assert "Basic " not in err
    assert "uthorization" not in err
    logs = list((private_environment / "logs").glob("http-*.log"))
    assert len(logs) == 1
    text = logs[0].read_text()
    assert "GET /wiki/api/v2/spaces -> 200" in text
    assert TOKEN not in text
    assert (logs[0].stat().st_mode & 0o777) == 0o600
