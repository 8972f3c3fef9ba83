"""People by name and comment threads in one call (issue 12): mentions read with display names
(one users-bulk request per page, cached for the process, the id form when the lookup fails),
comment authors and version authors by name, nested replies through ``include_replies``, and
what a read costs in requests, counted with the sandbox's request log."""

from __future__ import annotations

import json

import pytest
from resource_support import cli_json

from ctk_core.sandbox.routes_comments import create_comment
from ctk_core.sandbox.seed import PRIYA, SAM, USERS

WRITES = {"CTK_ENABLE_WRITES": "true"}
NAMES = {account: name for account, name, _ in USERS}
BULK = "/wiki/api/v2/users-bulk"
SEARCH = "/wiki/rest/api/content/search"


def _mention(account_id: str) -> str:
    return f'<ac:link><ri:user ri:account-id="{account_id}" /></ac:link>'


@pytest.fixture
def people(confluence_sandbox):
    """Five people: the three demo users and two more."""
    state = confluence_sandbox.state
    with state.lock:
        extra = [
            state.create_user("Chen Wei", "chen@example.com", account_id="557058:chen-0001"),
            state.create_user("Dana Ruiz", "dana@example.com", account_id="557058:dana-0002"),
        ]
    return {**NAMES, **{u["accountId"]: u["displayName"] for u in extra}}


@pytest.fixture
def mentions_page(confluence_sandbox, people):
    """A page mentioning five people (one of them twice)."""
    body = "<h1>Owners</h1><ul>" + "".join(f"<li>{_mention(a)}</li>" for a in people) + "</ul>"
    body += f"<h2>Next</h2><p>{_mention(SAM)} writes the plan.</p>"
    with confluence_sandbox.state.lock:
        page = confluence_sandbox.state.create_page(
            confluence_sandbox.space_id("DEMO"), "Five people", body
        )
    return page["id"]


@pytest.fixture
def thread_page(confluence_sandbox):
    """A page whose one footer comment has ten replies, three of them replies of replies (one
    two levels down); returns (page id, top comment id)."""
    state = confluence_sandbox.state
    authors = [PRIYA, SAM, USERS[0][0]]
    with state.lock:
        page = state.create_page(confluence_sandbox.space_id("DEMO"), "Busy thread", "<p>x</p>")
        top = create_comment(state, "footer", page_id=page["id"], author=SAM, body="<p>Top</p>")
        parents = [top["id"]] * 7
        replies = []
        for n in range(10):
            parent = parents[n] if n < 7 else replies[n - 7 if n < 9 else 7]["id"]
            replies.append(
                create_comment(
                    state,
                    "footer",
                    parent_id=parent,
                    author=authors[n % 3],
                    body=f"<p>reply {n}</p>",
                    created_at=f"2024-05-01T09:{n:02d}:00.000Z",
                )
            )
    return page["id"], top["id"]


def _count(sandbox, method=None, path=None):
    return len(sandbox.requests.find(method, path))


# ------------------------------------------------------------------------------ mentions


def test_mentions_read_with_names_one_request_cached(
    ctk_cli, ctk_mcp, confluence_sandbox, people, mentions_page
):
    confluence_sandbox.requests.clear()
    session = ctk_mcp()
    page = session.call_json("manage_pages", {"action": "get", "page_id": mentions_page})
    for account, name in people.items():
        assert f"[@{name}](confluence-user:{account})" in page["body"]
    assert "[@557058:" not in page["body"]
    bulk = confluence_sandbox.requests.find("POST", BULK)
    assert len(bulk) == 1  # five people, one request
    assert sorted(json.loads(bulk[0]["body"])["accountIds"]) == sorted(people)
    assert len(confluence_sandbox.requests.entries()) == 2  # the page, the names

    confluence_sandbox.requests.clear()  # the same server again: the names are known
    again = session.call_json("manage_pages", {"action": "get", "page_id": mentions_page})
    assert again["body"] == page["body"]
    assert [e["method"] for e in confluence_sandbox.requests.entries()] == ["GET"]

    cli = cli_json(ctk_cli, "pages", "get", mentions_page)
    assert cli["body"] == page["body"]


def test_mentions_keep_the_id_when_the_lookup_fails(ctk_cli, confluence_sandbox, mentions_page):
    confluence_sandbox.fault({"kind": "500", "path": BULK})
    result = ctk_cli("--json", "pages", "get", mentions_page)
    assert result.exit_code == 0, result.stderr
    body = result.json()["body"]
    assert f"[@{SAM}](confluence-user:{SAM})" in body
    assert "Sam O'Connor" not in body
    confluence_sandbox.faults.clear()
    named = cli_json(ctk_cli, "pages", "get", mentions_page)["body"]
    assert f"[@Sam O'Connor](confluence-user:{SAM})" in named  # a failure is not remembered


def test_a_page_without_mentions_costs_one_request(ctk_cli, confluence_sandbox):
    pid = confluence_sandbox.page_id("Getting Started")
    confluence_sandbox.requests.clear()
    cli_json(ctk_cli, "pages", "get", pid)
    assert len(confluence_sandbox.requests.entries()) == 1


def test_named_mentions_round_trip(ctk_cli, confluence_sandbox, mentions_page):
    from ctk_core.convert import semantic_diff

    before = confluence_sandbox.state.pages[mentions_page]["body"]
    page = cli_json(ctk_cli, "pages", "get", mentions_page)
    assert "[@Priya Natarajan]" in page["body"]
    edited = page["body"].replace("writes the plan.", "writes the plan today.")
    result = ctk_cli(
        "pages",
        "update",
        mentions_page,
        "--body",
        edited,
        env=WRITES,
    )
    assert result.exit_code == 0, result.stderr
    after = confluence_sandbox.state.pages[mentions_page]["body"]
    assert "plain-text-link-body" not in after  # mentions, not links with a text
    assert semantic_diff(before.replace("the plan.", "the plan today."), after) is None


def test_section_diff_and_past_versions_read_names(ctk_cli, ctk_mcp, confluence_sandbox):
    pid = confluence_sandbox.page_id("Architecture")
    owner = f"[@Priya Natarajan](confluence-user:{PRIYA})"
    session = ctk_mcp()
    latest = session.call_json("manage_pages", {"action": "get", "page_id": pid})
    assert latest["version"] == 4
    assert owner in latest["body"]
    first = session.call_json("manage_pages", {"action": "get", "page_id": pid, "version": 1})
    assert first["version"] == 1
    assert first["body"].endswith("Draft: to be written.\n")
    versions = {v["number"]: v for v in cli_json(ctk_cli, "pages", "versions", pid)["results"]}
    old = session.call_json("manage_pages", {"action": "get", "page_id": pid, "version": 3})
    assert old["version"] == 3
    assert old["updated_by"] == versions[3]["author_id"]
    diff = session.call_json("manage_pages", {"action": "diff", "page_id": pid})
    assert "[@557058:" not in diff["diff"]
    planning = confluence_sandbox.page_id("2024-01-15 Planning")
    section = cli_json(ctk_cli, "pages", "section", planning, "Action items")
    assert f"[@Sam O'Connor](confluence-user:{SAM}) drafts the 1.1 scope" in section["body"]


def test_versions_name_their_authors_with_one_request(ctk_cli, confluence_sandbox):
    pid = confluence_sandbox.page_id("Architecture")
    confluence_sandbox.requests.clear()
    listed = cli_json(ctk_cli, "pages", "versions", pid)["results"]
    assert all(v["author_name"] == NAMES[v["author_id"]] for v in listed)
    assert _count(confluence_sandbox, "POST", BULK) == 1
    assert len(confluence_sandbox.requests.entries()) == 2
    table = ctk_cli("pages", "versions", pid).stdout.splitlines()
    assert table[0].split()[:4] == ["number", "created_at", "author_name", "author_id"]


# ------------------------------------------------------------------------------ comments


def test_demo_thread_nested_with_names_in_both_front_ends(ctk_cli, ctk_mcp, confluence_sandbox):
    pid = confluence_sandbox.page_id("Getting Started")
    confluence_sandbox.requests.clear()
    mcp = ctk_mcp().call_json("manage_comments", {"action": "list_footer", "page_id": pid})
    assert len(confluence_sandbox.requests.entries()) == 2  # the comments, their replies
    assert not confluence_sandbox.requests.find("POST", BULK)  # names came with the replies
    cli = cli_json(ctk_cli, "comments", "list", pid)
    assert cli == mcp
    (question,) = mcp["results"]
    assert question["author_name"] == "Priya Natarajan"
    first, second = question["replies"]
    assert (first["author_name"], second["author_name"]) == ("Alex Morgan", "Sam O'Connor")
    (nested,) = first["replies"]
    assert nested["author_name"] == "Priya Natarajan"
    assert f"[@Sam O'Connor](confluence-user:{SAM})" in nested["body"]
    assert nested["replies"] == []
    assert second["replies"] == []
    assert list(nested) == [
        "id",
        "author_id",
        "author_name",
        "updated_at",
        "version",
        "body",
        "replies",
    ]
    table = ctk_cli("comments", "list", pid).stdout.splitlines()
    ids = [line.split()[0] for line in table[2:]]
    assert ids == [question["id"], "↳", "↳↳", "↳"]
    flat = cli_json(ctk_cli, "comments", "list", pid, "--no-include-replies")
    assert "replies" not in flat["results"][0]
    assert flat["results"][0]["author_name"] == "Priya Natarajan"


def test_inline_thread_and_get_replies_named(ctk_mcp, confluence_sandbox):
    pid = confluence_sandbox.page_id("Data Model")
    session = ctk_mcp()
    listed = session.call_json("manage_comments", {"action": "list_inline", "page_id": pid})
    open_comment = listed["results"][0]
    assert open_comment["author_name"] == "Sam O'Connor"
    (reply,) = open_comment["replies"]
    assert reply["author_name"] == "Priya Natarajan"
    assert listed["results"][1]["replies"] == []
    paged = session.call_json(
        "manage_comments", {"action": "get_replies", "comment_id": open_comment["id"]}
    )
    assert [r["author_name"] for r in paged["results"]] == ["Priya Natarajan"]


def test_replies_unavailable_keeps_the_comments(ctk_mcp, confluence_sandbox):
    pid = confluence_sandbox.page_id("Getting Started")
    confluence_sandbox.fault({"kind": "500", "path": SEARCH})
    listed = ctk_mcp().call_json("manage_comments", {"action": "list_footer", "page_id": pid})
    assert listed["results"][0]["body"].startswith("Should we mention")
    assert "replies" not in listed["results"][0]
    assert "500" in listed["replies_unavailable"]


def test_a_long_thread_stays_within_the_response_cap(ctk_mcp, confluence_sandbox):
    state = confluence_sandbox.state
    with state.lock:
        page = state.create_page(confluence_sandbox.space_id("DEMO"), "Long thread", "<p>x</p>")
        top = create_comment(state, "footer", page_id=page["id"], body="<p>Top</p>")
        for n in range(60):
            create_comment(
                state, "footer", parent_id=top["id"], body=f"<p>{n} " + "word " * 80 + "</p>"
            )
    session = ctk_mcp({"CTK_MAX_RESPONSE_BYTES": "8000"})
    listed = session.call_json("manage_comments", {"action": "list_footer", "page_id": page["id"]})
    assert len(json.dumps(listed).encode()) < 9000
    replies = listed["results"][0]["replies"]
    assert 0 < len(replies) < 60
    assert any(".replies: kept" in note for note in listed["truncated"]["cut"])
    hint = listed["truncated"]["hint"]
    assert hint.startswith("results[0].replies cut: next_cursor does not continue")
    assert "get_replies" in hint


# ------------------------------------------------------------------------------ the figures


def test_requests_a_read_costs(ctk_mcp, confluence_sandbox, mentions_page, thread_page):
    """Five mentions and a thread of ten replies: what reading costs (docs/resources/*.md)."""
    pid, top = thread_page
    session = ctk_mcp()
    log = confluence_sandbox.requests

    log.clear()
    session.call_json("manage_pages", {"action": "get", "page_id": mentions_page})
    assert len(log.entries()) == 2  # the page, one users-bulk for five people
    log.clear()
    session.call_json("manage_pages", {"action": "get", "page_id": mentions_page})
    assert len(log.entries()) == 1  # names known to the server

    log.clear()
    listed = session.call_json("manage_comments", {"action": "list_footer", "page_id": pid})
    assert len(log.entries()) == 2  # top-level comments, then every reply in one search

    def count(items):
        return sum(1 + count(i.get("replies") or []) for i in items)

    assert count(listed["results"][0]["replies"]) == 10

    # Without include_replies a caller walks the thread: get_replies on every comment, since
    # nothing says which replies have replies of their own.
    log.clear()
    flat = session.call_json(
        "manage_comments", {"action": "list_footer", "page_id": pid, "include_replies": False}
    )
    walked, todo = 0, [c["id"] for c in flat["results"]]
    while todo:
        got = session.call_json(
            "manage_comments", {"action": "get_replies", "comment_id": todo.pop()}
        )
        walked += len(got["results"])
        todo += [r["id"] for r in got["results"]]
    assert walked == 10
    assert len(log.entries()) == 1 + 11 * 2  # the list, then (locate + children) x 11
    assert top == flat["results"][0]["id"]


def test_the_next_pages_of_a_listing_reuse_the_thread_search(ctk_mcp, confluence_sandbox):
    state = confluence_sandbox.state
    with state.lock:
        page = state.create_page(confluence_sandbox.space_id("DEMO"), "Three topics", "<p>x</p>")
        for n in range(3):
            top = create_comment(state, "footer", page_id=page["id"], body=f"<p>topic {n}</p>")
            create_comment(state, "footer", parent_id=top["id"], body=f"<p>re {n}</p>")
    session = ctk_mcp()
    log = confluence_sandbox.requests
    log.clear()
    args = {"action": "list_footer", "page_id": page["id"], "limit": 1}
    seen = []
    while True:
        got = session.call_json("manage_comments", args)
        seen += [(c["body"], [r["body"] for r in c["replies"]]) for c in got["results"]]
        if not got.get("next_cursor"):
            break
        args = {**args, "cursor": got["next_cursor"]}
    assert len(seen) == 3
    assert all(len(replies) == 1 for _body, replies in seen)
    assert len(log.find("GET", "/wiki/rest/api/content/search")) == 1  # not once a page
