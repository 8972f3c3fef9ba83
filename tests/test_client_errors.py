"""The client's error vocabulary, message extraction, Retry-After, links and URLs (no network)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from ctk_core.client import (
    Client,
    client_from_environment,
    confluence_message,
    cursor_of,
    error_for_status,
    parse_retry_after,
)
from ctk_core.errors import (
    AuthError,
    Conflict,
    CtkError,
    NotFound,
    PermissionDenied,
    RateLimited,
    Unavailable,
    UsageError,
)

TOKEN = "ATATT3xFfGF0-client-unit-token-abcdef123456"


#: Checked after every test by the suite's token_never_leaks (tests/secret_support.py).
SECRETS = [TOKEN]


def v2(title, detail=None, status=400):
    return json.dumps(
        {"errors": [{"status": status, "code": "X", "title": title, "detail": detail}]}
    ).encode()


# --- Confluence's own message ------------------------------------------------------------------


def test_v2_title_and_detail():
    assert (
        confluence_message(409, "application/json", v2("Version must be incremented"))
        == "Version must be incremented"
    )
    assert (
        confluence_message(400, "application/json", v2("Bad limit", "limit > 250"))
        == "Bad limit (limit > 250)"
    )


def test_v1_message():
    body = json.dumps(
        {
            "statusCode": 404,
            "data": {"authorized": True},
            "message": "No content found with id: ContentId{id=1}",
        }
    ).encode()
    assert (
        confluence_message(404, "application/json;charset=UTF-8", body)
        == "No content found with id: ContentId{id=1}"
    )


def test_gateway_scope_message():
    body = b'{"code":401,"message":"Unauthorized; scope does not match"}'
    assert confluence_message(401, "application/json", body) == "Unauthorized; scope does not match"


def test_html_page_reduced_to_one_short_line():
    page = (
        "<!DOCTYPE html><html><head><title>502 Bad\n Gateway</title><style>body{}</style>"
        "</head><body><h1>Bad Gateway</h1>" + "<p>lots of text</p>" * 500 + "</body></html>"
    ).encode()
    text = confluence_message(502, "text/html; charset=utf-8", page)
    assert text == "an HTML error page: 502 Bad Gateway"
    assert "<" not in text
    assert "\n" not in text


def test_html_without_title_and_without_content_type():
    page = b"<html><body><h1>Service &amp; Co down</h1></body></html>"
    assert confluence_message(503, "", page) == "an HTML error page: Service & Co down"
    assert (
        confluence_message(503, "text/html", b"<html><body>x</body></html>") == "an HTML error page"
    )


def test_plain_text_first_line_only():
    assert (
        confluence_message(401, "text/plain", b"\n  Unauthorized  \nsecond line") == "Unauthorized"
    )


def test_empty_and_unhelpful_bodies():
    assert confluence_message(500, "application/json", b"") == ""
    assert confluence_message(500, "application/json", b"[1,2]") == ""
    assert confluence_message(500, "application/json", b'{"other": 1}') == ""


def test_long_messages_are_cut():
    text = confluence_message(400, "application/json", v2("x" * 5000))
    assert len(text) <= 300
    assert text.endswith("…")


# --- status -> error class ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "cls", "words", "exit_code"),
    [
        (400, UsageError, "rejected the request (400)", 2),
        (401, AuthError, "Authentication failed (401)", 3),
        (403, PermissionDenied, "Permission denied (403)", 4),
        (404, NotFound, "Not found or not visible to you (404)", 5),
        (409, Conflict, "Conflict (409)", 6),
        (410, CtkError, "Endpoint retired by Atlassian (410)", 1),
        (413, CtkError, "too large", 1),
        (429, RateLimited, "rate limiting requests (429)", 7),
        (500, Unavailable, "unavailable (500 Internal Server Error)", 8),
        (502, Unavailable, "unavailable (502 Bad Gateway)", 8),
        (503, Unavailable, "unavailable (503 Service Unavailable)", 8),
        (504, Unavailable, "unavailable (504 Gateway Timeout)", 8),
        (418, CtkError, "Unexpected answer 418", 1),
    ],
)
def test_error_for_status(status, cls, words, exit_code):
    err = error_for_status(status, "GET", "/wiki/api/v2/pages/1", "the server said so")
    assert type(err) is cls
    assert err.exit_code == exit_code
    text = str(err)
    assert words in text
    assert "GET /wiki/api/v2/pages/1" in text
    assert "the server said so" in text
    assert "\n" not in text


def test_scope_401_points_at_the_scope_list():
    err = error_for_status(401, "GET", "/x", "Unauthorized; scope does not match")
    assert "scope" in (err.hint or "")
    assert "ctk auth" in (err.hint or "")


def test_429_carries_the_retry_hint():
    err = error_for_status(429, "GET", "/x", "", retry_after=12, retries=3)
    assert isinstance(err, RateLimited)
    assert err.retry_after == 12
    assert "after 3 retries" in str(err)
    assert "retry after 12 s" in str(err)


# --- Retry-After ---------------------------------------------------------------------------------


def test_retry_after_seconds_and_dates():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    later = (now + timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert parse_retry_after(later, now=now) == pytest.approx(30)
    earlier = (now - timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert parse_retry_after(earlier, now=now) == 0.0


# --- links and URLs -------------------------------------------------------------------------------


def client(base="https://acme.atlassian.net", **kw):
    return Client(base, "me@example.com", TOKEN, debug=False, **kw)


def test_cursor_of():
    assert cursor_of("/wiki/api/v2/pages?limit=5&cursor=abc%3D%3D") == "abc=="
    assert cursor_of("/wiki/api/v2/pages?limit=5") is None
    assert cursor_of(None) is None


@pytest.mark.parametrize(
    ("base", "link", "expected"),
    [
        (
            "https://acme.atlassian.net",
            "/wiki/api/v2/pages?cursor=x",
            "https://acme.atlassian.net/wiki/api/v2/pages?cursor=x",
        ),
        # v1 search links are relative to the wiki base
        (
            "https://acme.atlassian.net",
            "/rest/api/search?cql=type%3Dpage&cursor=y",
            "https://acme.atlassian.net/wiki/rest/api/search?cql=type%3Dpage&cursor=y",
        ),
        # scoped tokens: the site-relative next is rebased on the gateway
        (
            "https://api.atlassian.com/ex/confluence/c1",
            "/wiki/api/v2/pages?cursor=x",
            "https://api.atlassian.com/ex/confluence/c1/wiki/api/v2/pages?cursor=x",
        ),
        (
            "https://api.atlassian.com/ex/confluence/c1",
            "https://acme.atlassian.net/wiki/api/v2/pages?cursor=x",
            "https://api.atlassian.com/ex/confluence/c1/wiki/api/v2/pages?cursor=x",
        ),
        (
            "https://api.atlassian.com/ex/confluence/c1",
            "/ex/confluence/c1/wiki/api/v2/pages?cursor=x",
            "https://api.atlassian.com/ex/confluence/c1/wiki/api/v2/pages?cursor=x",
        ),
        # an absolute link to another host never takes the credentials there
        (
            "https://acme.atlassian.net",
            "https://evil.example.com/wiki/api/v2/pages?cursor=z",
            "https://acme.atlassian.net/wiki/api/v2/pages?cursor=z",
        ),
        (
            "https://proxy.example.com/conf",
            "/conf/wiki/api/v2/spaces?cursor=q",
            "https://proxy.example.com/conf/wiki/api/v2/spaces?cursor=q",
        ),
    ],
)
def test_rebase(base, link, expected):
    assert client(base).rebase(link) == expected


def test_url_building_and_foreign_hosts():
    c = client()
    assert c.url("/api/v2/pages") == "https://acme.atlassian.net/wiki/api/v2/pages"
    assert c.url("api/v2/pages") == "https://acme.atlassian.net/wiki/api/v2/pages"
    assert c.url("/wiki/rest/api/search") == "https://acme.atlassian.net/wiki/rest/api/search"
    assert c.url("https://acme.atlassian.net/wiki/x") == "https://acme.atlassian.net/wiki/x"
    with pytest.raises(UsageError) as info:
        c.url("https://evil.example.com/wiki/api/v2/pages")
    assert "evil.example.com" in str(info.value)


def test_absolute_web_urls():
    c = client("https://api.atlassian.com/ex/confluence/c1", web_url="https://acme.atlassian.net")
    assert (
        c.absolute("/spaces/DEMO/pages/1/Home")
        == "https://acme.atlassian.net/wiki/spaces/DEMO/pages/1/Home"
    )
    assert c.absolute("/wiki/spaces/DEMO") == "https://acme.atlassian.net/wiki/spaces/DEMO"
    assert c.absolute("https://x.example.com/a") == "https://x.example.com/a"
    assert c.absolute(None) == ""
    assert c.wiki_base == "https://api.atlassian.com/ex/confluence/c1/wiki"


def test_repr_never_shows_the_token():
    assert TOKEN not in repr(client())


def test_client_from_environment_builds_each_base(monkeypatch):
    monkeypatch.setenv("CONFLUENCE_DOMAIN", "acme")
    monkeypatch.setenv("CONFLUENCE_EMAIL", "me@example.com")
    monkeypatch.setenv("CONFLUENCE_API_TOKEN", TOKEN)
    c = client_from_environment()
    assert c.base_url == "https://acme.atlassian.net"
    assert c.limiter is None  # conftest sets CTK_RATE_LIMIT=off
    monkeypatch.setenv("CONFLUENCE_TOKEN_TYPE", "scoped")
    monkeypatch.setenv("CONFLUENCE_CLOUD_ID", "cloud-9")
    c = client_from_environment()
    assert c.base_url == "https://api.atlassian.com/ex/confluence/cloud-9"
    assert c.web_url == "https://acme.atlassian.net"
    monkeypatch.setenv("CTK_BASE_URL", "http://127.0.0.1:9999")
    monkeypatch.setenv("CTK_RATE_LIMIT", "20/60")
    c = client_from_environment()
    assert c.base_url == "http://127.0.0.1:9999"
    assert c.limiter is not None
    assert c.limiter.capacity == 20


def test_client_from_environment_without_credentials():
    with pytest.raises(AuthError) as info:
        client_from_environment({})
    assert "CONFLUENCE_DOMAIN" in str(info.value)
    assert "ctk auth" in str(info.value)
