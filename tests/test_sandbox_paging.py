"""Cursor pagination over real HTTP: opaque cursors, _links.next, Link header, limits."""

from __future__ import annotations

import re

import pytest

from ctk_core.sandbox.paging import decode_cursor, encode_cursor

V2 = "/wiki/api/v2"


@pytest.fixture
def big_space(confluence_sandbox):
    """A space holding 600 pages (plus its home page), made through the state helpers."""
    state = confluence_sandbox.state
    with state.lock:
        space = state.create_space("BIG", "Big space")
        for i in range(600):
            state.create_page(space["id"], f"Page {i:03d}", f"<p>{i}</p>", root=True)
    return space


def walk(sandbox, first_path, follow="body"):
    """All results of a listing, following _links.next (or the Link header)."""
    seen, pages = [], 0
    path = first_path
    with sandbox.session() as session:
        while path:
            resp = session.get(sandbox.url + path)
            assert resp.status_code == 200, resp.text
            body = resp.json()
            seen.extend(item["id"] for item in body["results"])
            pages += 1
            assert body["_links"]["base"] == sandbox.wiki_url
            if follow == "body":
                path = body["_links"].get("next")
                assert ('rel="next"' in resp.headers["Link"]) == bool(path)
            else:
                match = re.search(r'<([^>]+)>; rel="next"', resp.headers["Link"])
                path = match.group(1) if match else None
                assert ("next" in body["_links"]) == bool(path)
            if path:
                assert path.startswith("/wiki/api/v2/")
    return seen, pages


@pytest.mark.parametrize("follow", ["body", "link"])
def test_walk_600_items_with_limit_250_sees_each_once(confluence_sandbox, big_space, follow):
    path = f"{V2}/spaces/{big_space['id']}/pages?depth=root&limit=250"
    seen, pages = walk(confluence_sandbox, path, follow)
    expected = {
        p["id"]
        for p in confluence_sandbox.state.pages.values()
        if p["spaceId"] == big_space["id"] and not p.get("parentId")
    }
    assert len(expected) == 601  # 600 + the home page
    assert len(seen) == len(set(seen)) == 601
    assert set(seen) == expected
    assert pages == 3


def test_next_link_keeps_the_filters(confluence_sandbox, big_space):
    path = f"{V2}/pages?space-id={big_space['id']}&sort=-title&limit=100&body-format=storage"
    with confluence_sandbox.session() as session:
        body = session.get(confluence_sandbox.url + path).json()
    nxt = body["_links"]["next"]
    assert "space-id=" + big_space["id"] in nxt
    assert "sort=-title" in nxt
    assert "body-format=storage" in nxt
    assert "limit=100" in nxt
    titles = [p["title"] for p in body["results"]]
    assert titles == sorted(titles, reverse=True)
    assert all(p["body"]["storage"]["value"] for p in body["results"])


def test_default_limit_is_25_and_last_page_has_no_next(confluence_sandbox, big_space):
    with confluence_sandbox.session() as session:
        first = session.get(f"{confluence_sandbox.url}{V2}/spaces/{big_space['id']}/pages")
        assert len(first.json()["results"]) == 25
        last = session.get(
            f"{confluence_sandbox.url}{V2}/spaces/{big_space['id']}/pages",
            params={"limit": 1, "cursor": encode_cursor(600)},
        )
    assert len(last.json()["results"]) == 1
    assert "next" not in last.json()["_links"]
    assert 'rel="next"' not in last.headers["Link"]
    assert 'rel="base"' in last.headers["Link"]


@pytest.mark.parametrize(
    "params", [{"limit": 251}, {"limit": 0}, {"limit": "ten"}, {"cursor": "not-a-cursor"}]
)
def test_bad_limit_or_cursor_answers_400(confluence_sandbox, params):
    with confluence_sandbox.session() as session:
        resp = session.get(f"{confluence_sandbox.url}{V2}/pages", params=params)
    assert resp.status_code == 400
    error = resp.json()["errors"][0]
    assert error["status"] == 400
    assert error["code"] == "INVALID_REQUEST_PARAMETER"
    assert error["title"]


def test_limit_250_is_allowed(confluence_sandbox, big_space):
    with confluence_sandbox.session() as session:
        resp = session.get(f"{confluence_sandbox.url}{V2}/pages", params={"limit": 250})
    assert resp.status_code == 200
    assert len(resp.json()["results"]) == 250


def test_cursor_round_trip():
    assert decode_cursor(encode_cursor(0)) == 0
    assert decode_cursor(encode_cursor(12345)) == 12345
    assert "12345" not in encode_cursor(12345)  # opaque, not the plain offset


def test_gateway_listing_keeps_site_relative_next(confluence_sandbox, big_space):
    url = f"{confluence_sandbox.gateway_url}{V2}/spaces/{big_space['id']}/pages?limit=250"
    with confluence_sandbox.session() as session:
        body = session.get(url).json()
        assert body["_links"]["base"] == confluence_sandbox.gateway_url + "/wiki"
        assert body["_links"]["next"].startswith("/wiki/api/v2/")
        second = session.get(confluence_sandbox.gateway_url + body["_links"]["next"])
    assert second.status_code == 200
    assert len(second.json()["results"]) == 250
