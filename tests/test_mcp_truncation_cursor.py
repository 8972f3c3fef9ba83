"""A list result shortened to fit the response cap gives a ``next_cursor`` that goes on at the
first item it left out, through the real MCP server against the sandbox.

Following ``next_cursor`` from the first call to the end shows every page exactly once, in
order; a continuation costs one request (the page is fetched again and the delivered items
skipped); a forged cursor is a one-line ``isError``, and nothing is sent.
"""

from __future__ import annotations

import base64
import json

import pytest

CAP = 2500
PAGES = 30


@pytest.fixture
def space(confluence_sandbox):
    """A space of ``PAGES`` pages (about 450 bytes each as listed: four fit under ``CAP``)."""
    state = confluence_sandbox.state
    with state.lock:
        sid = state.create_space("TRUNC", "Truncation")["id"]
        for i in range(PAGES):
            state.create_page(sid, f"Page {i:02d}")
    return str(sid)


def expected_ids(ctk_mcp, sid):
    """The ids of the space's pages in listing order, from one call under the default cap."""
    data = ctk_mcp().call_json("manage_pages", {"action": "list", "space_id": sid, "limit": 250})
    assert "truncated" not in data
    assert data["next_cursor"] is None
    ids = [p["id"] for p in data["results"]]
    assert len(ids) == PAGES + 1  # and the home page
    return ids


def listing(mcp, sid, cursor=None, limit=10):
    args = {"action": "list", "space_id": sid, "limit": limit}
    if cursor:
        args["cursor"] = cursor
    result = mcp.call("manage_pages", args)
    assert not result.is_error, mcp.text(result)
    assert len(mcp.text(result).encode()) <= CAP
    return json.loads(mcp.text(result))


@pytest.mark.parametrize("limit", [10, 250])
def test_following_next_cursor_sees_every_page_once_in_order(
    ctk_mcp, confluence_sandbox, space, tmp_path, limit
):
    want = expected_ids(ctk_mcp, space)
    mcp = ctk_mcp({"CTK_MAX_RESPONSE_BYTES": str(CAP), "CTK_LOG_DIR": str(tmp_path)})
    seen: list[str] = []
    cursor = None
    truncated = 0
    for _ in range(100):
        data = listing(mcp, space, cursor, limit)
        seen += [p["id"] for p in data["results"]]
        truncated += "truncated" in data
        cursor = data["next_cursor"]
        if not cursor:
            break
    assert seen == want
    assert truncated >= 3  # the cap did cut, more than once


def test_a_continuation_costs_one_request(ctk_mcp, confluence_sandbox, space, tmp_path):
    mcp = ctk_mcp({"CTK_MAX_RESPONSE_BYTES": str(CAP), "CTK_LOG_DIR": str(tmp_path)})
    first = listing(mcp, space, limit=10)
    kept = len(first["results"])
    assert first["truncated"]["cut"] == [f"results: kept {kept} of 10 items"]
    confluence_sandbox.requests.clear()
    second = listing(mcp, space, first["next_cursor"], limit=10)
    sent = confluence_sandbox.requests.entries()
    assert [(e["method"], e["path"]) for e in sent] == [("GET", "/wiki/api/v2/pages")]
    assert sent[0]["query"]["limit"] == ["10"]
    assert "cursor" not in sent[0]["query"]  # the first page again, its kept items skipped
    want = expected_ids(ctk_mcp, space)
    assert [p["id"] for p in second["results"]] == want[kept : kept + len(second["results"])]


def _ctk_cursor(payload: str) -> str:
    return "ctk1." + base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "ctk1.",
        "ctk1.!!not base64!!",
        _ctk_cursor("not json"),
        _ctk_cursor('{"c": null}'),
        _ctk_cursor("[null, 10, 0]"),  # nothing to skip
        _ctk_cursor('[null, "10", 3]'),
        _ctk_cursor("[5, 10, 3]"),
        _ctk_cursor('["", 10, 3]'),
        _ctk_cursor("[null, 0, 3]"),
        _ctk_cursor('[null, 10, 3, "another call", "more"]'),
        _ctk_cursor('[null, 10, 3, "another call"]'),  # well formed, made for another call
    ],
)
def test_a_forged_cursor_is_a_one_line_error(ctk_mcp, confluence_sandbox, space, cursor):
    mcp = ctk_mcp()
    confluence_sandbox.requests.clear()
    text = mcp.error("manage_pages", {"action": "list", "space_id": space, "cursor": cursor})
    assert "\n" not in text
    assert text.startswith("Invalid cursor"), text
    assert "next_cursor" in text
    assert confluence_sandbox.requests.entries() == []


def test_a_continuation_cursor_serves_only_the_call_that_made_it(
    ctk_mcp, confluence_sandbox, space
):
    mcp = ctk_mcp({"CTK_MAX_RESPONSE_BYTES": "2500"})
    first = mcp.call_json("manage_pages", {"action": "list", "space_id": space, "limit": 10})
    cursor = first["next_cursor"]
    assert cursor.startswith("ctk1.")
    page = first["results"][0]["id"]
    confluence_sandbox.requests.clear()
    for tool, args in [
        ("manage_pages", {"action": "list_versions", "page_id": page}),  # another action
        ("manage_comments", {"action": "list_footer", "page_id": page}),  # another tool
        (
            "manage_pages",
            {"action": "list", "space_id": space, "status": ["trashed"]},
        ),  # other args
    ]:
        text = mcp.error(tool, {**args, "cursor": cursor})
        assert text.startswith("Invalid cursor: it belongs to another call"), text
    assert confluence_sandbox.requests.entries() == []
    again = mcp.call_json(
        "manage_pages", {"action": "list", "space_id": space, "limit": 10, "cursor": cursor}
    )
    assert again["results"]
