"""The labels plugin (``ctk labels`` / ``manage_labels``) through both front ends, against the
sandbox over real HTTP."""

from __future__ import annotations

import json

import pytest
from resource_support import assert_refused, cli_json

from ctk_core.policy import WRITES_DISABLED_MESSAGE

WRITES = {"CTK_ENABLE_WRITES": "true"}


def names_on(sandbox, page_id):
    state = sandbox.state
    return [state.labels[i]["name"] for i in state.content_labels.get(page_id, [])]


@pytest.fixture
def pages(confluence_sandbox):
    return {
        title: confluence_sandbox.page_id(title)
        for title in ("Getting Started", "Installation", "Data Model", "Team Goals", "API Design")
    }


def test_list_same_in_both_front_ends(ctk_cli, ctk_mcp, pages):
    cli = cli_json(ctk_cli, "labels", "list", pages["Getting Started"])
    mcp = ctk_mcp().call_json(
        "manage_labels", {"action": "list", "page_id": pages["Getting Started"]}
    )
    assert cli == mcp
    assert [(lb["name"], lb["prefix"]) for lb in cli["results"]] == [
        ("getting-started", "global"),
        ("guide", "global"),
    ]
    assert all(lb["id"].isdigit() for lb in cli["results"])
    assert cli["next_cursor"] is None
    table = ctk_cli("labels", "list", pages["Getting Started"])
    assert table.stdout.splitlines()[0].split() == ["id", "name", "prefix"]


def test_list_prefix_filter_and_paging(ctk_cli, ctk_mcp, confluence_sandbox, pages):
    from ctk_core.sandbox.routes_labels import add_label

    add_label(confluence_sandbox.state, pages["API Design"], "mine", prefix="my")
    add_label(confluence_sandbox.state, pages["API Design"], "shared")
    only_my = cli_json(ctk_cli, "labels", "list", pages["API Design"], "--prefix", "my")
    assert [lb["name"] for lb in only_my["results"]] == ["mine"]
    assert confluence_sandbox.requests.entries()[-1]["query"]["prefix"] == ["my"]
    first = ctk_mcp().call_json(
        "manage_labels", {"action": "list", "page_id": pages["API Design"], "limit": 1}
    )
    assert len(first["results"]) == 1
    assert first["next_cursor"]
    everything = cli_json(ctk_cli, "labels", "list", pages["API Design"], "--limit", "1", "--all")
    assert [lb["name"] for lb in everything["results"]] == ["mine", "shared"]


def test_empty_list_is_empty(ctk_cli, pages):
    assert cli_json(ctk_cli, "labels", "list", pages["API Design"]) == {
        "results": [],
        "next_cursor": None,
    }


def test_add_several_in_one_call(ctk_cli, ctk_mcp, confluence_sandbox, pages):
    pid = pages["API Design"]
    out = cli_json(ctk_cli, "labels", "add", pid, "rest", "http,json", env=WRITES)
    assert out["page_id"] == pid
    assert out["added"] == ["rest", "http", "json"]
    assert [lb["name"] for lb in out["results"]] == ["rest", "http", "json"]
    assert names_on(confluence_sandbox, pid) == ["rest", "http", "json"]
    posts = confluence_sandbox.requests.find("POST", "/label")
    assert len(posts) == 1
    assert posts[0]["path"] == f"/wiki/rest/api/content/{pid}/label"
    assert json.loads(posts[0]["body"]) == [
        {"prefix": "global", "name": n} for n in ("rest", "http", "json")
    ]
    mcp = ctk_mcp(WRITES).call_json(
        "manage_labels", {"action": "add", "page_id": pid, "label": ["grpc", "rest"]}
    )
    assert mcp["added"] == ["grpc", "rest"]
    assert names_on(confluence_sandbox, pid) == ["rest", "http", "json", "grpc"]


def test_remove_one_or_several(ctk_cli, ctk_mcp, confluence_sandbox, pages):
    pid = pages["Getting Started"]
    out = cli_json(ctk_cli, "labels", "remove", pid, "guide", env=WRITES)
    assert out == {"page_id": pid, "removed": ["guide"]}
    assert names_on(confluence_sandbox, pid) == ["getting-started"]
    deleted = confluence_sandbox.requests.find("DELETE")
    assert deleted[-1]["path"] == f"/wiki/rest/api/content/{pid}/label"
    assert deleted[-1]["query"] == {"name": ["guide"]}
    ctk_mcp(WRITES).call_json(
        "manage_labels",
        {"action": "remove", "page_id": pages["Installation"], "label": ["guide", "install"]},
    )
    assert names_on(confluence_sandbox, pages["Installation"]) == []


def test_pages_with_label(ctk_cli, ctk_mcp, confluence_sandbox, pages):
    cli = cli_json(ctk_cli, "labels", "pages", "guide")
    mcp = ctk_mcp().call_json("manage_labels", {"action": "pages_with_label", "label": "guide"})
    assert cli == mcp
    assert [p["title"] for p in cli["results"]] == [
        "Configuration",
        "Getting Started",
        "Installation",
    ]
    assert all(p["type"] == "page" and p["space_key"] == "DEMO" for p in cli["results"])
    assert "excerpt" not in cli["results"][0]
    cql = confluence_sandbox.requests.find("GET", "/rest/api/search")[-1]["query"]["cql"][0]
    assert cql == 'type = page AND label = "guide" ORDER BY title'
    team = cli_json(ctk_cli, "labels", "pages", "team", "--space", "TEAM")
    assert [p["title"] for p in team["results"]] == ["Team Goals"]
    none_in_demo = ctk_mcp().call_json(
        "manage_labels",
        {
            "action": "pages_with_label",
            "label": "team",
            "space_id": confluence_sandbox.space_id("DEMO"),
        },
    )
    assert none_in_demo == {"results": [], "next_cursor": None}
    first = cli_json(ctk_cli, "labels", "pages", "guide", "--limit", "2")
    assert len(first["results"]) == 2
    assert first["next_cursor"]
    table = ctk_cli("labels", "pages", "guide")
    assert table.stdout.splitlines()[0].split() == ["id", "title", "space_key", "last_modified"]


def test_writes_refused_when_off(ctk_cli, ctk_mcp, confluence_sandbox, pages):
    for args in (
        ["labels", "add", pages["API Design"], "x"],
        ["labels", "remove", pages["Getting Started"], "guide"],
    ):
        result = ctk_cli(*args)
        assert result.exit_code == 4, result
        assert WRITES_DISABLED_MESSAGE in result.stderr, result
    for action in ("add", "remove"):
        assert WRITES_DISABLED_MESSAGE in ctk_mcp().error("manage_labels", {"action": action})
    assert names_on(confluence_sandbox, pages["Getting Started"]) == ["getting-started", "guide"]
    assert not [r for r in confluence_sandbox.requests.entries() if r["method"] != "GET"]


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["labels", "list"], 2, "Missing argument 'PAGE_ID'"),
        (["labels", "list", "999999"], 5, "not found"),
        (["labels", "list", "page-1"], 2, "'page_id'"),
        (["labels", "list", "1", "--prefix", "ours"], 2, "'ours' is not one of"),
        (["labels", "pages"], 2, "Missing argument 'LABEL'"),
        (["labels", "pages", "two words"], 2, "cannot contain spaces"),
        (["labels", "pages", "guide", "--space", "NOPE"], 5, "No space with key 'NOPE'"),
    ],
)
def test_bad_inputs_cli(ctk_cli, args, code, fragment):
    assert_refused(ctk_cli(*args), code, fragment)


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["labels", "add", "PID"], 2, "Missing argument 'LABEL...'"),
        (["labels", "add", "PID", "two words"], 2, "cannot contain spaces"),
        (["labels", "add", "PID", "a#b"], 2, "invalid characters"),
        (["labels", "add", "999999", "x"], 5, "not found"),
        (["labels", "add", "12x", "x"], 2, "'page_id'"),
        (["labels", "remove", "PID"], 2, "Missing argument 'LABEL...'"),
        (["labels", "remove", "999999", "x"], 5, "not found"),
    ],
)
def test_bad_inputs_writes_cli(ctk_cli, confluence_sandbox, pages, args, code, fragment):
    args = [pages["API Design"] if a == "PID" else a for a in args]
    result = ctk_cli(*args, env=WRITES)
    assert result.exit_code == code, result
    assert fragment.lower() in result.stderr.lower(), result
    assert "Traceback" not in result.stderr
    assert names_on(confluence_sandbox, pages["API Design"]) == []


def test_bad_inputs_mcp(ctk_mcp, pages):
    mcp = ctk_mcp(WRITES)
    assert "page_id" in mcp.error("manage_labels", {"action": "list"})
    assert "label" in mcp.error("manage_labels", {"action": "add", "page_id": pages["API Design"]})
    assert "label" in mcp.error(
        "manage_labels", {"action": "add", "page_id": pages["API Design"], "label": []}
    )
    assert "label" in mcp.error(
        "manage_labels", {"action": "add", "page_id": pages["API Design"], "label": 7}
    )
    assert "spaces" in mcp.error(
        "manage_labels", {"action": "add", "page_id": pages["API Design"], "label": ["a b"]}
    )
    assert (
        "not found" in mcp.error("manage_labels", {"action": "list", "page_id": "999999"}).lower()
    )
    assert "prefix" in mcp.error(
        "manage_labels", {"action": "list", "page_id": "1", "prefix": "ours"}
    )
    assert mcp.call_json("manage_labels", {"action": "list", "page_id": pages["Data Model"]})
