"""The templates plugin (``ctk templates`` / ``manage_templates``) through both front ends,
against the sandbox over real HTTP; request counts from the sandbox's request log."""

from __future__ import annotations

import json

import pytest
from resource_support import assert_refused, cli_json

from ctk_core.context import forget_space_ids
from ctk_core.policy import WRITES_DISABLED_MESSAGE

WRITES = {"CTK_ENABLE_WRITES": "true"}


@pytest.fixture
def templates(confluence_sandbox):
    forget_space_ids()  # key lookups are cached per process: count them from a clean slate
    confluence_sandbox.requests.clear()
    return {t["name"]: t["templateId"] for t in confluence_sandbox.state.meta["templates"].values()}


def paths(sandbox):
    return [(e["method"], e["path"].split("/wiki", 1)[1]) for e in sandbox.requests.entries()]


def test_list_space_and_global_same_in_both_front_ends(
    ctk_cli, ctk_mcp, confluence_sandbox, templates
):
    cli = cli_json(ctk_cli, "templates", "list", "--space", "DEMO")
    assert [(t["name"], t["space_key"]) for t in cli["results"]] == [
        ("How-to article", "DEMO"),
        ("Meeting notes", "DEMO"),
    ]
    assert cli["results"][1] == {
        "id": templates["Meeting notes"],
        "name": "Meeting notes",
        "description": "Date, facilitator, agenda and actions.",
        "space_key": "DEMO",
        "labels": ["meeting-notes"],
    }
    assert cli["next_cursor"] is None
    sent = confluence_sandbox.requests.entries()
    assert len(sent) == 1  # a key goes straight into spaceKey: one request
    assert sent[0]["path"] == "/wiki/rest/api/template/page"
    assert sent[0]["query"] == {"spaceKey": ["DEMO"], "limit": ["25"]}
    assert ctk_mcp().call_json("manage_templates", {"action": "list", "space_id": "DEMO"}) == cli

    confluence_sandbox.requests.clear()
    glob = cli_json(ctk_cli, "templates", "list")
    assert [(t["name"], t["space_key"]) for t in glob["results"]] == [("Decision record", None)]
    assert [e["query"] for e in confluence_sandbox.requests.entries()] == [{"limit": ["25"]}]


def test_list_by_space_id_and_paging(ctk_cli, ctk_mcp, confluence_sandbox, templates):
    sid = confluence_sandbox.space_id("DEMO")
    first = ctk_mcp().call_json("manage_templates", {"action": "list", "space_id": sid, "limit": 1})
    assert [t["name"] for t in first["results"]] == ["How-to article"]
    assert first["next_cursor"] == "1"
    # an id costs one more request, for the key
    assert paths(confluence_sandbox) == [
        ("GET", f"/api/v2/spaces/{sid}"),
        ("GET", "/rest/api/template/page"),
    ]
    confluence_sandbox.requests.clear()
    second = cli_json(
        ctk_cli, "templates", "list", "--space", "DEMO", "--limit", "1", "--cursor", "1"
    )
    assert [t["name"] for t in second["results"]] == ["Meeting notes"]
    assert second["next_cursor"] is None
    assert confluence_sandbox.requests.entries()[0]["query"]["start"] == ["1"]
    everything = cli_json(ctk_cli, "templates", "list", "--space", "DEMO", "--limit", "1", "--all")
    assert [t["name"] for t in everything["results"]] == ["How-to article", "Meeting notes"]
    assert_refused(ctk_cli("templates", "list", "--cursor", "x1"), 2, "invalid cursor")


def test_unknown_space_is_not_found(ctk_cli):
    assert_refused(ctk_cli("templates", "list", "--space", "NOPE"), 5, "NOPE")


def test_get_shows_variables_and_markdown_body(ctk_cli, ctk_mcp, confluence_sandbox, templates):
    tid = templates["Meeting notes"]
    cli = cli_json(ctk_cli, "templates", "get", tid)
    assert cli["variables"] == ["date", "facilitator"]
    assert cli["body_format"] == "markdown"
    assert cli["body"].startswith("## Meeting on {{date}}\n\nFacilitator: {{facilitator}}\n")
    assert "- [ ] Action" in cli["body"]
    assert "at:" not in cli["body"]
    assert paths(confluence_sandbox) == [("GET", f"/rest/api/template/{tid}")]
    assert ctk_mcp().call_json("manage_templates", {"action": "get", "template_id": tid}) == cli
    raw = cli_json(ctk_cli, "templates", "get", tid, "--format", "storage")
    assert raw["body"].startswith("<at:declarations>")
    assert '<at:var at:name="date" />' in raw["body"]
    text = ctk_cli("templates", "get", tid)
    assert "variables    date, facilitator" in text.stdout
    assert text.stdout.rstrip().endswith("- [ ] Action")


def test_bad_template_id(ctk_cli, ctk_mcp, confluence_sandbox, templates):
    missing = ctk_cli("templates", "get", "424242")
    assert_refused(missing, 5, "No template with id 424242")
    assert missing.stderr.count("\n") == 1
    assert len(confluence_sandbox.requests.entries()) == 1
    assert "No template with id 424242" in ctk_mcp().error(
        "manage_templates", {"action": "get", "template_id": "424242"}
    )
    confluence_sandbox.requests.clear()
    assert_refused(ctk_cli("templates", "get", "../spaces"), 2, "not a template id")
    assert confluence_sandbox.requests.entries() == []


def test_create_page_is_a_write(ctk_cli, ctk_mcp, confluence_sandbox, templates):
    tid = templates["Meeting notes"]
    refused = ctk_cli("templates", "create-page", tid, "--space", "DEMO", "--title", "X")
    assert refused.exit_code == 4
    assert refused.stderr == f"Error: {WRITES_DISABLED_MESSAGE}\n"
    session = ctk_mcp()
    assert "create_page" not in json.dumps(session.tool("manage_templates").input_schema)
    assert WRITES_DISABLED_MESSAGE in session.error(
        "manage_templates",
        {"action": "create_page", "template_id": tid, "space_id": "DEMO", "title": "X"},
    )
    assert confluence_sandbox.requests.entries() == []


def test_create_page_fills_variables(ctk_cli, confluence_sandbox, templates):
    tid = templates["Meeting notes"]
    sid = confluence_sandbox.space_id("DEMO")
    parent = confluence_sandbox.page_id("Getting Started")
    values = {"date": "3 May, 2026", "facilitator": "Sam <ops> & co"}
    out = cli_json(
        ctk_cli,
        "templates",
        "create-page",
        tid,
        "--space",
        sid,
        "--title",
        "Weekly sync",
        "--parent",
        parent,
        "--vars",
        json.dumps(values),
        env=WRITES,
    )
    assert out["title"] == "Weekly sync"
    assert out["parent_id"] == parent
    assert out["template_id"] == tid
    assert out["unfilled"] == []
    page = confluence_sandbox.state.pages[out["id"]]
    assert page["body"].startswith(
        "<h2>Meeting on 3 May, 2026</h2><p>Facilitator: Sam &lt;ops&gt; &amp; co</p>"
    )
    assert "at:" not in page["body"]
    # the template, then the page: the same create as pages create (v2 POST /pages)
    assert paths(confluence_sandbox) == [
        ("GET", f"/rest/api/template/{tid}"),
        ("POST", "/api/v2/pages"),
    ]
    sent = json.loads(confluence_sandbox.requests.entries()[1]["body"])
    assert sent["body"]["representation"] == "storage"
    assert sent["spaceId"] == sid


def test_create_page_over_mcp_leaves_unfilled_variables_empty(
    ctk_mcp, confluence_sandbox, templates
):
    tid = templates["Meeting notes"]
    out = ctk_mcp(env=WRITES).call_json(
        "manage_templates",
        {
            "action": "create_page",
            "template_id": tid,
            "space_id": "DEMO",
            "title": "Empty meeting",
            "variables": '{"date": "today"}',
        },
    )
    assert out["unfilled"] == ["facilitator"]
    body = confluence_sandbox.state.pages[out["id"]]["body"]
    assert body.startswith("<h2>Meeting on today</h2><p>Facilitator: </p>")
    home = confluence_sandbox.state.space_by_key("DEMO")["homepageId"]
    assert out["parent_id"] == home
    # the key costs one lookup (once per process), then the template and the page
    assert [m for m, _ in paths(confluence_sandbox)] == ["GET", "GET", "POST"]


def test_template_without_variables(ctk_cli, confluence_sandbox, templates):
    out = cli_json(
        ctk_cli,
        "templates",
        "create-page",
        templates["Decision record"],
        "--space",
        "TEAM",
        "--title",
        "Pick a queue",
        env=WRITES,
    )
    assert out["unfilled"] == []
    assert confluence_sandbox.state.pages[out["id"]]["body"].startswith("<table>")


def test_unknown_variable_is_a_usage_error(ctk_cli, ctk_mcp, confluence_sandbox, templates):
    tid = templates["Meeting notes"]
    before = len(confluence_sandbox.state.pages)
    bad = ctk_cli(
        "templates",
        "create-page",
        tid,
        "--space",
        confluence_sandbox.space_id("DEMO"),
        "--title",
        "X",
        "--vars",
        '{"dat": "x"}',
        env=WRITES,
    )
    assert_refused(bad, 2, "Unknown variable 'dat'")
    assert "its variables: date, facilitator. Nothing was created." in bad.stderr
    assert bad.stderr.count("\n") == 1
    assert [m for m, _ in paths(confluence_sandbox)] == ["GET"]
    assert "Unknown variable 'who'" in ctk_mcp(env=WRITES).error(
        "manage_templates",
        {
            "action": "create_page",
            "template_id": tid,
            "space_id": "DEMO",
            "title": "X",
            "variables": '{"who": "me"}',
        },
    )
    assert len(confluence_sandbox.state.pages) == before


@pytest.mark.parametrize("value", ['["date"]', "date=today", '{"date": null}', "{"])
def test_variables_must_be_a_json_object(ctk_cli, confluence_sandbox, templates, value):
    bad = ctk_cli(
        "templates",
        "create-page",
        templates["Meeting notes"],
        "--space",
        "DEMO",
        "--title",
        "X",
        "--vars",
        value,
        env=WRITES,
    )
    assert_refused(bad, 2, "is not a JSON object")
    assert confluence_sandbox.requests.entries() == []


def test_missing_template_creates_nothing(ctk_cli, confluence_sandbox, templates):
    sid = confluence_sandbox.space_id("DEMO")
    bad = ctk_cli("templates", "create-page", "424242", "--space", sid, "--title", "X", env=WRITES)
    assert_refused(bad, 5, "No template with id 424242")
    assert [m for m, _ in paths(confluence_sandbox)] == ["GET"]


def test_create_page_is_refused_while_manage_pages_is_disabled(
    ctk_cli, ctk_mcp, confluence_sandbox, templates
):
    # a page made from a template is a page write: the pages tool's policy applies to it too
    tid = templates["Meeting notes"]
    sid = confluence_sandbox.space_id("DEMO")
    env = {**WRITES, "CTK_DISABLED_TOOLS": "manage_pages"}
    before = len(confluence_sandbox.state.pages)
    refused = ctk_cli("templates", "create-page", tid, "--space", sid, "--title", "X", env=env)
    assert refused.exit_code == 4, refused
    assert "disabled by CTK_DISABLED_TOOLS" in refused.stderr
    error = ctk_mcp(env).error(
        "manage_templates",
        {"action": "create_page", "template_id": tid, "space_id": sid, "title": "Y"},
    )
    assert "disabled by CTK_DISABLED_TOOLS" in error
    assert len(confluence_sandbox.state.pages) == before
    assert not [m for m, _ in paths(confluence_sandbox) if m != "GET"]
