"""Fault injection: every kind, scoping by path/method/count/every/probability, and the
runtime admin endpoint."""

from __future__ import annotations

import json

import pytest
import requests

from ctk_core.sandbox.faults import Faults, parse_fault

V2 = "/wiki/api/v2"


def get_spaces(sandbox, session=None):
    getter = session.get if session else requests.get
    return getter(f"{sandbox.url}{V2}/spaces", auth=sandbox.auth)


def test_429_once_then_success(confluence_sandbox):
    confluence_sandbox.fault("429,count=1,retry_after=2")
    first = get_spaces(confluence_sandbox)
    assert first.status_code == 429
    assert first.headers["Retry-After"] == "2"
    assert first.json()["errors"][0]["code"] == "TOO_MANY_REQUESTS"
    assert get_spaces(confluence_sandbox).status_code == 200
    assert confluence_sandbox.faults.active() == []


def test_429_every_third_request(confluence_sandbox):
    confluence_sandbox.fault({"kind": "429", "every": 3})
    codes = [get_spaces(confluence_sandbox).status_code for _ in range(7)]
    assert codes == [200, 200, 429, 200, 200, 429, 200]


@pytest.mark.parametrize(("probability", "expected"), [(1.0, 429), (0.0, 200)])
def test_429_with_probability(confluence_sandbox, probability, expected):
    confluence_sandbox.fault({"kind": "429", "probability": probability})
    assert {get_spaces(confluence_sandbox).status_code for _ in range(5)} == {expected}


@pytest.mark.parametrize("kind", ["500", "502", "503"])
def test_server_errors(confluence_sandbox, kind):
    confluence_sandbox.fault(f"{kind},count=2")
    first = get_spaces(confluence_sandbox)
    assert first.status_code == int(kind)
    assert first.json()["errors"][0]["status"] == int(kind)
    assert get_spaces(confluence_sandbox).status_code == int(kind)
    assert get_spaces(confluence_sandbox).status_code == 200


def test_503_with_retry_after_in_v1_shape(confluence_sandbox):
    confluence_sandbox.fault("503,retry_after=7,count=1")
    resp = requests.get(
        f"{confluence_sandbox.url}/wiki/rest/api/user/current", auth=confluence_sandbox.auth
    )
    assert resp.status_code == 503
    assert resp.headers["Retry-After"] == "7"
    assert resp.json()["statusCode"] == 503


def test_close_connection_mid_response(confluence_sandbox):
    confluence_sandbox.fault("close,count=1")
    # a truncated body surfaces as ChunkedEncodingError or ConnectionError in requests
    dropped = (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)
    with pytest.raises(dropped):
        get_spaces(confluence_sandbox)
    assert get_spaces(confluence_sandbox).status_code == 200


def test_close_on_a_keep_alive_session_then_recover(confluence_sandbox):
    with confluence_sandbox.session() as session:
        assert get_spaces(confluence_sandbox, session).status_code == 200
        confluence_sandbox.fault("close,count=1")
        with pytest.raises(
            (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)
        ):
            get_spaces(confluence_sandbox, session)
        assert get_spaces(confluence_sandbox, session).status_code == 200


def test_malformed_json_body(confluence_sandbox):
    confluence_sandbox.fault("malformed,count=1")
    resp = get_spaces(confluence_sandbox)
    assert resp.status_code == 200
    assert "json" in resp.headers["Content-Type"]
    assert int(resp.headers["Content-Length"]) == len(resp.content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(resp.content)


def test_html_error_page(confluence_sandbox):
    confluence_sandbox.fault({"kind": "html", "status": 502, "count": 1})
    resp = get_spaces(confluence_sandbox)
    assert resp.status_code == 502
    assert resp.headers["Content-Type"].startswith("text/html")
    assert resp.text.lstrip().startswith("<!DOCTYPE html>")


def test_latency_fault_delays_then_answers(confluence_sandbox):
    confluence_sandbox.fault("latency,ms=30,count=2")
    assert get_spaces(confluence_sandbox).status_code == 200
    assert confluence_sandbox.faults.active()[0]["count"] == 1
    assert get_spaces(confluence_sandbox).status_code == 200
    assert confluence_sandbox.faults.active() == []


def test_latency_combines_with_an_answering_fault(confluence_sandbox):
    confluence_sandbox.fault("latency,ms=10")
    confluence_sandbox.fault("500,count=1")
    assert get_spaces(confluence_sandbox).status_code == 500
    assert get_spaces(confluence_sandbox).status_code == 200
    assert [f["kind"] for f in confluence_sandbox.faults.active()] == ["latency"]


def test_faults_scoped_by_path_and_method(confluence_sandbox):
    confluence_sandbox.fault({"kind": "503", "path": f"{V2}/pages", "method": "POST"})
    with confluence_sandbox.session() as session:
        assert session.get(f"{confluence_sandbox.url}{V2}/pages").status_code == 200
        assert get_spaces(confluence_sandbox, session).status_code == 200
        posted = session.post(f"{confluence_sandbox.url}{V2}/pages", json={"title": "x"})
        assert posted.status_code == 503
        gated = session.post(f"{confluence_sandbox.gateway_url}{V2}/pages", json={"title": "x"})
        assert gated.status_code == 503  # the path is matched without the gateway prefix


def test_fault_applies_before_auth(confluence_sandbox):
    confluence_sandbox.fault("429,count=1")
    assert requests.get(f"{confluence_sandbox.url}{V2}/spaces").status_code == 429


def test_runtime_admin_endpoint(confluence_sandbox):
    admin = f"{confluence_sandbox.url}/__sandbox__/faults"
    added = requests.post(admin, json={"kind": "502", "count": 1, "path": V2})
    assert added.status_code == 200
    assert added.json()["faults"][0]["kind"] == "502"
    listed = requests.get(admin).json()["faults"]
    assert listed == [{"kind": "502", "count": 1, "path": V2, "every": 1, "probability": 1.0}]
    assert get_spaces(confluence_sandbox).status_code == 502
    assert requests.get(admin).json()["faults"] == []
    requests.post(admin, json={"faults": ["429", {"kind": "latency", "ms": 1}]})
    assert len(requests.get(admin).json()["faults"]) == 2
    assert requests.put(admin, json=["500,count=1"]).status_code == 200
    assert [f["kind"] for f in requests.get(admin).json()["faults"]] == ["500"]
    assert requests.delete(admin).status_code == 204
    assert requests.get(admin).json()["faults"] == []
    assert requests.post(admin, json={"kind": "teapot"}).status_code == 400
    assert requests.post(admin, json={"spec": "429,every=0"}).status_code == 400
    assert get_spaces(confluence_sandbox).status_code == 200


def test_admin_requests_are_not_faulted_or_logged(confluence_sandbox):
    confluence_sandbox.fault("500")
    assert requests.get(f"{confluence_sandbox.url}/__sandbox__/faults").status_code == 200
    assert requests.get(f"{confluence_sandbox.url}/__sandbox__/requests").json() == {"requests": []}


def test_faults_given_at_start(confluence_sandbox_factory):
    sandbox = confluence_sandbox_factory(faults=["503,count=1"])
    assert get_spaces(sandbox).status_code == 503
    assert get_spaces(sandbox).status_code == 200


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("teapot", "unknown fault kind"),
        ("429,every", "key=value"),
        ("429,every=0", "every"),
        ("429,count=0", "count"),
        ("500,colour=red", "unknown fault option"),
        ("latency,ms=slow", "bad number"),
        ("", "empty"),
    ],
)
def test_bad_fault_specs(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_fault(spec)


def test_parse_fault_fills_defaults():
    assert parse_fault("429") == {"kind": "429", "every": 1, "probability": 1.0, "retry_after": 1.0}
    assert parse_fault("latency,path=/wiki/,method=get")["method"] == "GET"
    faults = Faults(["500,count=1"])
    assert faults.pick("GET", "/wiki/x")[1]["kind"] == "500"
    assert faults.pick("GET", "/wiki/x") == (0.0, None)


def test_close_during_a_streamed_download(confluence_sandbox):
    attachment = next(iter(confluence_sandbox.state.attachments.values()))
    with confluence_sandbox.session() as session:
        listed = session.get(f"{confluence_sandbox.url}{V2}/attachments/{attachment['id']}")
        url = confluence_sandbox.wiki_url + listed.json()["downloadLink"]
        full = session.get(url).content
        confluence_sandbox.fault({"kind": "close", "count": 1, "path": "/wiki/download/"})
        with pytest.raises(
            (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)
        ):
            session.get(url)
        assert session.get(url).content == full


def test_a_client_that_hangs_up_is_no_error_of_the_sandbox(confluence_sandbox, capfd):
    # the client gives up while the sandbox waits (a timeout, Ctrl-C); the answer then meets a
    # closed connection: nothing is printed, and the sandbox goes on answering
    import socket
    import time
    from urllib.parse import urlsplit

    big = "x" * 2_000_000
    space = confluence_sandbox.space_id("DEMO")
    with confluence_sandbox.state.lock:
        page = confluence_sandbox.state.create_page(space, "Big page", f"<p>{big}</p>")
        confluence_sandbox.state.save()
    confluence_sandbox.fault({"kind": "latency", "ms": 300, "path": "/wiki/api/v2/pages/"})
    where = urlsplit(confluence_sandbox.url)
    for _ in range(3):
        with socket.create_connection((where.hostname, where.port)) as conn:
            conn.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
            conn.sendall(
                f"GET /wiki/api/v2/pages/{page['id']}?body-format=storage HTTP/1.1\r\n"
                f"Host: {where.netloc}\r\nAuthorization: Basic eDp5\r\n\r\n".encode()
            )
    time.sleep(0.8)
    confluence_sandbox.faults.clear()
    assert get_spaces(confluence_sandbox).status_code == 200
    assert "Traceback" not in capfd.readouterr().err
