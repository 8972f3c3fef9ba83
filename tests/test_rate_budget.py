"""What the rate budget means for operations: ``--all`` paces instead of giving up (and resolves
the space once), a write of several requests takes its tokens first or is refused whole, a write
cut short says what was and was not applied, and retries say on stderr that they wait.

Against the sandbox over real HTTP; the budgets are explicit ``CTK_RATE_LIMIT`` values.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from ctk_core.ratelimit import limiter_from_environment

WRITES = {"CTK_ENABLE_WRITES": "true"}


def budget(sandbox, spec: str):
    """The user's bucket for the sandbox's site, as every ctk process of this test sees it."""
    limiter = limiter_from_environment({**os.environ, "CTK_RATE_LIMIT": spec}, site=sandbox.url)
    assert limiter is not None
    assert limiter.shared
    return limiter


def labels_on(sandbox, page_id):
    state = sandbox.state
    return [state.labels[i]["name"] for i in state.content_labels.get(page_id, [])]


# --- --all paces, and the space tree lists the space once ---------------------------------------


def test_space_tree_all_resolves_the_space_and_its_roots_once(ctk_cli, confluence_sandbox):
    sandbox = confluence_sandbox
    args = ("--json", "pages", "tree", "--space", "DEMO", "--depth", "10", "--limit", "1", "--all")
    result = ctk_cli(*args)
    assert result.exit_code == 0, result
    items = result.json()["results"]
    assert len(items) >= 15
    sid = sandbox.space_id("DEMO")
    assert len(sandbox.requests.find("GET", "/wiki/api/v2/spaces")) == 2  # key, then roots
    assert len([e for e in sandbox.requests.entries() if e["query"].get("keys")]) == 1
    assert len(sandbox.requests.find("GET", f"/wiki/api/v2/spaces/{sid}/pages")) == 1
    descendants = sandbox.requests.find("GET", "/descendants")
    assert len(descendants) == len(items) - 1  # one request per page of one item after the root
    assert len(sandbox.requests.entries()) == len(items) + 1


def test_paced_all_completes_with_a_small_budget(ctk_cli, confluence_sandbox):
    """The issue's case: 20 requests would run dry after 10 pages; now the command waits, says
    so once on stderr (not a terminal here), and prints the whole tree."""
    args = ("pages", "tree", "--space", "DEMO", "--depth", "10", "--limit", "1", "--all")
    expected = ctk_cli(*args)
    assert expected.exit_code == 0
    confluence_sandbox.requests.clear()
    result = ctk_cli(*args, env={"CTK_RATE_LIMIT": "4/0.4"}, subprocess=True)
    assert result.exit_code == 0, result
    assert result.stdout == expected.stdout
    notes = [line for line in result.stderr.splitlines() if "rate limit" in line]
    assert len(notes) == 1, result.stderr
    assert notes[0].startswith("ctk: waiting ")
    assert "--all goes on at the pace of the rate limit (4 requests per 0.4 s)" in notes[0]
    assert len(confluence_sandbox.requests.entries()) > 4


def test_a_single_call_still_fails_fast(ctk_cli, confluence_sandbox):
    budget(confluence_sandbox, "3/3600").try_acquire(3)
    result = ctk_cli("spaces", "list", env={"CTK_RATE_LIMIT": "3/3600"}, subprocess=True)
    assert result.exit_code == 7
    assert "the next request is possible in" in result.stderr
    assert confluence_sandbox.requests.entries() == []


# --- several requests: all their tokens first, or nothing ----------------------------------------


def test_removing_labels_takes_every_token_first_or_removes_nothing(ctk_cli, confluence_sandbox):
    """The issue's case: after 17 reads, removing five labels sent three DELETEs, then failed."""
    sandbox = confluence_sandbox
    page = sandbox.page_id("Installation")
    env = {**WRITES, "CTK_RATE_LIMIT": "20/3600"}
    five = ["one", "two", "three", "four", "five"]
    assert ctk_cli("labels", "add", page, *five, env={**WRITES}).exit_code == 0
    before = labels_on(sandbox, page)
    for _ in range(17):
        assert ctk_cli("labels", "list", page, env=env).exit_code == 0
    sandbox.requests.clear()
    result = ctk_cli("labels", "remove", page, *five, env=env, subprocess=True)
    assert result.exit_code == 7, result
    assert "needs 5 requests and 3 are available, so nothing was sent" in result.stderr
    assert "all 5 are possible in" in result.stderr
    assert sandbox.requests.entries() == []
    assert labels_on(sandbox, page) == before
    done = ctk_cli("labels", "remove", page, "one", "two", "three", env=env, subprocess=True)
    assert done.exit_code == 0, done
    assert len(sandbox.requests.find("DELETE")) == 3
    assert labels_on(sandbox, page) == [n for n in before if n not in ("one", "two", "three")]


def test_removing_labels_over_mcp_is_refused_whole(ctk_mcp, confluence_sandbox):
    sandbox = confluence_sandbox
    page = sandbox.page_id("Installation")
    session = ctk_mcp({**WRITES, "CTK_RATE_LIMIT": "4/3600"})
    session.call_json("manage_labels", {"action": "add", "page_id": page, "label": ["a", "b"]})
    text = session.error(
        "manage_labels", {"action": "remove", "page_id": page, "label": ["a", "b", "c", "d"]}
    )
    assert "needs 4 requests and 3 are available, so nothing was sent" in text
    assert sandbox.requests.find("DELETE") == []
    too_many = session.error(
        "manage_labels", {"action": "remove", "page_id": page, "label": list("abcde")}
    )
    assert "needs 5 requests, more than the client-side rate limit allows at once" in too_many
    assert sandbox.requests.find("DELETE") == []
    assert {"a", "b"} <= set(labels_on(sandbox, page))


def test_a_removal_cut_short_says_what_was_and_was_not_removed(
    ctk_cli, ctk_mcp, confluence_sandbox
):
    sandbox = confluence_sandbox
    page = sandbox.page_id("Installation")
    names = ["la", "lb", "lc", "ld", "le"]
    assert ctk_cli("labels", "add", page, *names, env=WRITES).exit_code == 0
    sandbox.fault({"kind": "500", "method": "DELETE", "every": 4, "count": 1})
    result = ctk_cli("labels", "remove", page, *names, env=WRITES)
    assert result.exit_code == 8, result
    message = result.stderr.strip()
    assert message.startswith(
        f"Error: Removed la, lb, lc from page {page}; not removed: ld, le: "
    ), message
    assert "500" in message
    assert [n for n in labels_on(sandbox, page) if n in names] == ["ld", "le"]
    # the same words over MCP
    sandbox.fault({"kind": "500", "method": "DELETE", "every": 2, "count": 1})
    text = ctk_mcp(WRITES).error(
        "manage_labels", {"action": "remove", "page_id": page, "label": ["ld", "le"]}
    )
    assert text.startswith(f"Removed ld from page {page}; not removed: le: ")


def test_an_upload_is_refused_whole_rather_than_half_done(ctk_cli, confluence_sandbox, tmp_path):
    sandbox = confluence_sandbox
    page = sandbox.page_id("Installation")
    path = tmp_path / "rate-budget.txt"
    path.write_text("hello\n")
    env = {**WRITES, "CTK_RATE_LIMIT": "6/3600"}
    budget(sandbox, "6/3600").try_acquire(5)  # one token left: the upload needs two
    result = ctk_cli("attachments", "upload", page, str(path), env=env, subprocess=True)
    assert result.exit_code == 7, result
    assert "needs 2 requests and 1 are available, so nothing was sent" in result.stderr
    assert sandbox.requests.entries() == []
    assert not [
        a for a in sandbox.state.attachments.values() if a.get("title") == "rate-budget.txt"
    ]


def test_an_update_that_reads_first_is_refused_before_the_read(ctk_cli, confluence_sandbox):
    sandbox = confluence_sandbox
    page = sandbox.page_id("Installation")
    env = {**WRITES, "CTK_RATE_LIMIT": "6/3600"}
    budget(sandbox, "6/3600").try_acquire(5)
    result = ctk_cli(
        "pages", "update", page, "--title", "Installation (new)", env=env, subprocess=True
    )
    assert result.exit_code == 7, result
    assert "needs 2 requests" in result.stderr
    assert sandbox.requests.entries() == []


def test_reserved_tokens_not_used_go_back(confluence_sandbox):
    from ctk_core.client import client_from_environment

    env = {**os.environ, **confluence_sandbox.client_env, "CTK_RATE_LIMIT": "10/3600"}
    client = client_from_environment(env)
    limiter = client.limiter
    assert limiter is not None
    with client.reserve(4):
        client.get("/api/v2/spaces")
        assert limiter.available() == pytest.approx(6, abs=0.01)
    assert limiter.available() == pytest.approx(9, abs=0.01)  # three unused came back
    with pytest.raises(KeyError), client.reserve(3):
        raise KeyError("a handler failing inside the block")
    assert limiter.available() == pytest.approx(9, abs=0.01)


# --- retries say so on stderr ---------------------------------------------------------------------


def test_a_retried_get_prints_one_line_per_wait(ctk_cli, confluence_sandbox):
    confluence_sandbox.fault(
        {"kind": "503", "path": "/wiki/api/v2/spaces", "count": 2, "retry_after": 0.2}
    )
    result = ctk_cli("--json", "spaces", "list", subprocess=True)
    assert result.exit_code == 0, result
    assert result.json()["results"]
    assert result.stderr.splitlines() == [
        "ctk: Confluence answered 503; retrying in 0.2 s (attempt 2 of 4)",
        "ctk: Confluence answered 503; retrying in 0.2 s (attempt 3 of 4)",
    ]


def test_retry_lines_over_mcp_stdio_stay_off_stdout(confluence_sandbox):
    exe = shutil.which("ctk", path=os.path.dirname(sys.executable))
    command = [exe] if exe else [sys.executable, "-c", "from ctk_core.cli import main; main()"]
    env = {**os.environ, **confluence_sandbox.client_env}
    confluence_sandbox.fault(
        {"kind": "429", "path": "/wiki/api/v2/spaces", "count": 1, "retry_after": 0.2}
    )
    proc = subprocess.Popen(
        [*command, "mcp"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    messages = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "retry-test", "version": "0"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "manage_spaces", "arguments": {"action": "list"}},
        },
    ]
    try:
        for message in messages:
            proc.stdin.write(json.dumps(message) + "\n")
            proc.stdin.flush()
            if "id" not in message:
                continue
            while True:
                line = proc.stdout.readline()
                assert line, "the server closed stdout"
                answer = json.loads(line)  # every stdout line is a JSON-RPC message
                assert answer.get("jsonrpc") == "2.0"
                if answer.get("id") == message["id"]:
                    break
        assert not answer["result"].get("isError")
        assert answer["result"]["structuredContent"]["results"]
    finally:
        proc.stdin.close()
        rest = proc.stdout.read()
        proc.wait(timeout=20)
    assert rest == ""
    stderr = proc.stderr.read()
    assert "ctk: Confluence answered 429; retrying in 0.2 s (attempt 2 of 4)" in stderr


def test_space_tree_pages_over_mcp_list_the_roots_once(ctk_mcp, confluence_sandbox):
    session = ctk_mcp()
    sid = confluence_sandbox.space_id("DEMO")
    args = {"action": "get_descendants", "space_id": sid, "depth": 10, "limit": 1}
    items = []
    while True:
        page = session.call_json("manage_pages", args)
        items += page["results"]
        if not page["next_cursor"]:
            break
        args["cursor"] = page["next_cursor"]
    assert len(items) >= 15
    assert len(confluence_sandbox.requests.find("GET", f"/wiki/api/v2/spaces/{sid}/pages")) == 1
