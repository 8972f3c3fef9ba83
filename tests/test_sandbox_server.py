"""The server itself: auth, tenant_info and the gateway form, unknown routes, admin endpoints,
the request log, keep-alive, and ``python -m ctk_core.sandbox``."""

from __future__ import annotations

import base64
import http.client
import json
import signal
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
import requests

V2 = "/wiki/api/v2"


def test_no_credentials_answers_401_in_both_shapes(confluence_sandbox):
    v2 = requests.get(f"{confluence_sandbox.url}{V2}/spaces")
    assert v2.status_code == 401
    assert v2.json()["errors"][0]["status"] == 401
    assert v2.headers["WWW-Authenticate"].startswith("Basic")
    v1 = requests.get(f"{confluence_sandbox.url}/wiki/rest/api/user/current")
    assert v1.status_code == 401
    assert v1.json()["statusCode"] == 401


def test_fixed_credentials_refuse_others(confluence_sandbox):
    url = f"{confluence_sandbox.url}{V2}/spaces"
    email, token = confluence_sandbox.auth
    assert requests.get(url, auth=(email, token)).status_code == 200
    assert requests.get(url, auth=(email, "wrong")).status_code == 401
    assert requests.get(url, auth=("someone@else.com", token)).status_code == 401
    garbage = requests.get(url, headers={"Authorization": "Basic !!!not-base64"})
    assert garbage.status_code == 401
    bearer = requests.get(url, headers={"Authorization": f"Bearer {token}"})
    assert bearer.status_code == 200


def test_any_credentials_without_fixed_ones(confluence_sandbox_factory):
    sandbox = confluence_sandbox_factory(fixed_credentials=False)
    resp = requests.get(f"{sandbox.url}{V2}/spaces", auth=("anyone@example.com", "anything"))
    assert resp.status_code == 200


def test_caller_is_the_user_with_that_email(confluence_sandbox):
    state = confluence_sandbox.state
    other = next(u for u in state.users.values() if u["accountId"] != state.current_user)
    confluence_sandbox.server.email = None  # accept any email, keep the fixed token
    with requests.Session() as session:
        session.auth = (other["email"], confluence_sandbox.token)
        space = state.space_by_key("DEMO")
        page = session.post(
            f"{confluence_sandbox.url}{V2}/pages",
            json={"spaceId": space["id"], "title": "By another user"},
        ).json()
    assert page["authorId"] == other["accountId"]


def test_tenant_info_and_gateway(confluence_sandbox):
    info = requests.get(f"{confluence_sandbox.url}/_edge/tenant_info")  # no auth needed
    assert info.status_code == 200
    cloud_id = info.json()["cloudId"]
    assert cloud_id == confluence_sandbox.cloud_id
    with confluence_sandbox.session() as session:
        gated = session.get(f"{confluence_sandbox.url}/ex/confluence/{cloud_id}{V2}/spaces")
        assert gated.status_code == 200
        assert gated.json()["_links"]["base"] == (
            f"{confluence_sandbox.url}/ex/confluence/{cloud_id}/wiki"
        )
        v1 = session.get(
            f"{confluence_sandbox.url}/ex/confluence/{cloud_id}/wiki/rest/api/user/current"
        )
        assert v1.status_code == 200
        wrong = session.get(f"{confluence_sandbox.url}/ex/confluence/not-the-id{V2}/spaces")
        assert wrong.status_code == 404
    assert requests.get(f"{confluence_sandbox.gateway_url}{V2}/spaces").status_code == 401


def test_unknown_routes_and_methods(confluence_sandbox):
    with confluence_sandbox.session() as session:
        v2 = session.get(f"{confluence_sandbox.url}{V2}/whiteboards/1")
        assert v2.status_code == 404
        assert v2.json()["errors"][0]["code"] == "NOT_FOUND"
        v1 = session.get(f"{confluence_sandbox.url}/wiki/rest/api/nothing/here")
        assert v1.status_code == 404
        assert v1.json()["statusCode"] == 404
        outside = session.get(f"{confluence_sandbox.url}/favicon.ico")
        assert outside.status_code == 404
        wrong_method = session.patch(f"{confluence_sandbox.url}{V2}/spaces")
        assert wrong_method.status_code == 405
        bad_json = session.post(
            f"{confluence_sandbox.url}{V2}/pages",
            data=b"{nope",
            headers={"Content-Type": "application/json"},
        )
        assert bad_json.status_code == 400
        assert "JSON" in bad_json.json()["errors"][0]["title"]


def test_request_log_lists_requests_without_authorization(confluence_sandbox):
    with confluence_sandbox.session() as session:
        session.get(f"{confluence_sandbox.url}{V2}/pages", params={"limit": 5, "id": "1,2"})
        session.post(f"{confluence_sandbox.url}{V2}/folders", json={"title": "x"})
        log = requests.get(f"{confluence_sandbox.url}/__sandbox__/requests").json()["requests"]
    assert [(e["method"], e["path"]) for e in log] == [
        ("GET", f"{V2}/pages"),
        ("POST", f"{V2}/folders"),
    ]
    assert log[0]["query"] == {"limit": ["5"], "id": ["1,2"]}
    assert log[0]["status"] == 200
    assert log[1]["status"] == 400
    assert json.loads(log[1]["body"]) == {"title": "x"}
    for entry in log:
        assert "authorization" not in {k.lower() for k in entry["headers"]}
        assert confluence_sandbox.token not in json.dumps(entry)
    assert confluence_sandbox.requests.find("POST", "/folders")[0]["status"] == 400
    cleared = requests.delete(f"{confluence_sandbox.url}/__sandbox__/requests")
    assert cleared.status_code == 204
    assert len(confluence_sandbox.requests) == 0


def test_admin_reset_and_info(confluence_sandbox):
    with confluence_sandbox.session() as session:
        space = confluence_sandbox.state.space_by_key("DEMO")
        session.post(
            f"{confluence_sandbox.url}{V2}/pages",
            json={"spaceId": space["id"], "title": "Before reset"},
        )
    assert any(p["title"] == "Before reset" for p in confluence_sandbox.state.pages.values())
    resp = requests.post(f"{confluence_sandbox.url}/__sandbox__/reset", json={"seed": "empty"})
    assert resp.status_code == 200
    assert confluence_sandbox.state.spaces == {}
    requests.post(f"{confluence_sandbox.url}/__sandbox__/reset", json={})
    assert confluence_sandbox.state.space_by_key("DEMO") is not None
    assert not any(p["title"] == "Before reset" for p in confluence_sandbox.state.pages.values())
    assert (
        requests.post(
            f"{confluence_sandbox.url}/__sandbox__/reset", json={"seed": "nope"}
        ).status_code
        == 400
    )
    info = requests.get(f"{confluence_sandbox.url}/__sandbox__/info").json()
    assert info["cloudId"] == confluence_sandbox.cloud_id
    assert f"GET {V2}/pages/{{id}}" in info["routes"]
    assert requests.get(f"{confluence_sandbox.url}/__sandbox__/nothing").status_code == 404


def test_keep_alive_and_content_length(confluence_sandbox):
    host, port = urlsplit(confluence_sandbox.url).netloc.split(":")
    auth = base64.b64encode(":".join(confluence_sandbox.auth).encode()).decode()
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        for _ in range(3):  # three requests on one connection
            conn.request("GET", f"{V2}/spaces", headers={"Authorization": f"Basic {auth}"})
            resp = conn.getresponse()
            body = resp.read()
            assert resp.status == 200
            assert resp.version == 11
            assert int(resp.headers["Content-Length"]) == len(body)
            assert resp.headers.get("Connection", "").lower() != "close"
        sock = conn.sock
        conn.request("DELETE", f"{V2}/pages/999999", headers={"Authorization": f"Basic {auth}"})
        resp = conn.getresponse()
        assert resp.status == 404
        assert resp.read()
        assert conn.sock is sock
    finally:
        conn.close()


def test_chunked_request_body(confluence_sandbox):
    space = confluence_sandbox.state.space_by_key("DEMO")
    payload = json.dumps({"spaceId": space["id"], "title": "Chunked"}).encode()

    def chunks():
        yield payload[:10]
        yield payload[10:]

    with confluence_sandbox.session() as session:
        resp = session.post(
            f"{confluence_sandbox.url}{V2}/pages",
            data=chunks(),
            headers={"Content-Type": "application/json"},
        )
    assert resp.status_code == 200
    assert resp.json()["title"] == "Chunked"


def test_module_prints_its_url_first_and_stops_on_sigterm(tmp_path):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ctk_core.sandbox",
            "--port",
            "0",
            "--seed",
            "empty",
            "--email",
            "me@example.com",
            "--token",
            "t0k",
            "--fault",
            "503,count=1,path=/wiki/api/v2/spaces",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert url.count(":") == 2
        spaces = f"{url}{V2}/spaces"
        assert requests.get(spaces, auth=("me@example.com", "t0k")).status_code == 503
        resp = requests.get(spaces, auth=("me@example.com", "t0k"))
        assert resp.status_code == 200
        assert resp.json()["results"] == []
        assert requests.get(spaces, auth=("me@example.com", "other")).status_code == 401
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


@pytest.mark.parametrize(
    "argv", [["--fault", "teapot"], ["--fault", "429,every=x"], ["--seed", "huge"]]
)
def test_module_rejects_bad_arguments(argv):
    done = subprocess.run(
        [sys.executable, "-m", "ctk_core.sandbox", *argv],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert "error" in done.stderr


def test_head_is_answered_like_get_without_a_body(confluence_sandbox):
    with confluence_sandbox.session() as session:
        got = session.get(f"{confluence_sandbox.url}{V2}/spaces")
        head = session.head(f"{confluence_sandbox.url}{V2}/spaces")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["Content-Length"] == str(len(got.content))


def test_stop_drops_open_keep_alive_connections(confluence_sandbox_factory):
    sandbox = confluence_sandbox_factory()
    with sandbox.session() as session:
        assert session.get(f"{sandbox.url}{V2}/spaces").status_code == 200
        sandbox.server.stop()
        with pytest.raises(requests.exceptions.ConnectionError):
            session.get(f"{sandbox.url}{V2}/spaces")


def test_admin_endpoints_are_loopback_only():
    """The admin check looks at the caller's address. Tests never bind beyond loopback, so a
    foreign caller is represented by a handler whose client address is not loopback."""
    from types import SimpleNamespace

    from ctk_core.sandbox import SandboxServer

    with SandboxServer(host="127.0.0.1", port=0, plugins=False) as server:
        for address in ("192.0.2.7", "10.1.2.3", "::ffff:192.0.2.7"):
            stranger = SimpleNamespace(client_address=(address, 40000))
            for name in ("faults", "requests", "reset", "info"):
                resp = server.admin(stranger, f"/__sandbox__/{name}", {}, b'{"kind": "500"}')
                assert resp.status == 403, (address, name)
                assert b"loopback only" in resp.body, (address, name)
        assert server.faults.active() == []
        assert requests.get(f"{server.url}/__sandbox__/faults").status_code == 200
