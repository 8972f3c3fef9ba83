"""``manage_pages get_restrictions`` / ``ctk pages restrictions`` through both front ends,
against the sandbox's demo site (Security Review: read restricted to Priya and the group
engineering, edit to Priya; its child Incident Runbook inherits the read restriction)."""

from __future__ import annotations

import pytest
from resource_support import assert_refused, cli_json

from ctk_core.sandbox.seed import PRIYA

NOBODY = {"users": [], "groups": []}
PRIYA_USER = {"name": "Priya Natarajan", "account_id": PRIYA}


@pytest.fixture
def ids(confluence_sandbox):
    confluence_sandbox.requests.clear()
    return {
        "secret": confluence_sandbox.page_id("Security Review"),
        "child": confluence_sandbox.page_id("Incident Runbook"),
        "home": confluence_sandbox.state.space_by_key("DEMO")["homepageId"],
    }


def sent(sandbox):
    return [(e["path"].split("/wiki", 1)[1], e["query"]) for e in sandbox.requests.entries()]


def test_restricted_page(ctk_cli, ctk_mcp, confluence_sandbox, ids):
    cli = cli_json(ctk_cli, "pages", "restrictions", ids["secret"])
    assert cli == {
        "id": ids["secret"],
        "read": {"users": [PRIYA_USER], "groups": ["engineering"]},
        "edit": {"users": [PRIYA_USER], "groups": []},
        "inherited_read": [],
    }
    home = ids["home"]
    assert sent(confluence_sandbox) == [
        (
            f"/rest/api/content/{ids['secret']}/restriction",
            {"expand": ["restrictions.user,restrictions.group"]},
        ),
        (f"/api/v2/pages/{ids['secret']}/ancestors", {"limit": ["250"]}),
        (
            "/rest/api/content/search",
            {
                "cql": [f"id in ({home})"],
                "expand": [
                    "restrictions.read.restrictions.user,restrictions.read.restrictions.group"
                ],
                "limit": ["1"],
            },
        ),
    ]
    mcp = ctk_mcp().call_json(
        "manage_pages", {"action": "get_restrictions", "page_id": ids["secret"]}
    )
    assert mcp == cli


def test_child_inherits_read_restriction(ctk_cli, ctk_mcp, confluence_sandbox, ids):
    out = ctk_mcp().call_json(
        "manage_pages", {"action": "get_restrictions", "page_id": ids["child"]}
    )
    assert out["read"] == NOBODY
    assert out["edit"] == NOBODY  # edit restrictions are not inherited
    assert out["inherited_read"] == [
        {
            "id": ids["secret"],
            "title": "Security Review",
            "users": [PRIYA_USER],
            "groups": ["engineering"],
        }
    ]
    assert len(confluence_sandbox.requests.entries()) == 3  # own, ancestors, their restrictions
    text = ctk_cli("pages", "restrictions", ids["child"])
    assert text.exit_code == 0, text
    lines = text.stdout.splitlines()
    assert lines[1].split(None, 1) == ["read", "anyone with space access"]
    assert lines[3] == (
        f"read via {ids['secret']}  Security Review: Priya Natarajan ({PRIYA}), group engineering"
    )


def test_unrestricted_page_without_ancestors_costs_two_requests(ctk_cli, confluence_sandbox, ids):
    out = cli_json(ctk_cli, "pages", "restrictions", ids["home"])
    assert out == {"id": ids["home"], "read": NOBODY, "edit": NOBODY, "inherited_read": []}
    assert len(confluence_sandbox.requests.entries()) == 2


def test_deep_page_asks_once_for_all_ancestors(ctk_cli, confluence_sandbox, ids):
    linux = confluence_sandbox.page_id("Installing on Linux")
    out = cli_json(ctk_cli, "pages", "restrictions", linux)
    assert out["inherited_read"] == []
    searches = [q for p, q in sent(confluence_sandbox) if p == "/rest/api/content/search"]
    assert len(searches) == 1
    assert searches[0]["cql"][0].count(",") == 2  # home, Getting Started, Installation
    assert len(confluence_sandbox.requests.entries()) == 3


def test_missing_and_bad_page_ids(ctk_cli, ctk_mcp, confluence_sandbox, ids):
    assert_refused(ctk_cli("pages", "restrictions", "999999999"), 5, "999999999")
    assert len(confluence_sandbox.requests.entries()) == 1
    confluence_sandbox.requests.clear()
    assert_refused(ctk_cli("pages", "restrictions", "abc"), 2, "not a Confluence id")
    assert "not a Confluence id" in ctk_mcp().error(
        "manage_pages", {"action": "get_restrictions", "page_id": "abc"}
    )
    assert confluence_sandbox.requests.entries() == []


def test_read_only(ctk_mcp):
    """The action is served with writes off, and the tool stays read-only."""
    tool = ctk_mcp().tool("manage_pages")
    assert "get_restrictions" in tool.input_schema["properties"]["action"]["enum"]
    assert tool.annotations.read_only_hint is True


def test_a_site_that_caps_page_size_still_shows_every_inherited_restriction(
    ctk_cli, confluence_sandbox, ids
):
    # a permission answer must not lose an ancestor because the search came in short pages
    state = confluence_sandbox.state
    with state.lock:
        deep = state.create_page(
            confluence_sandbox.space_id("DEMO"), "Runbook appendix", "<p>x</p>", ids["child"]
        )
    confluence_sandbox.server.max_page_size = 1
    out = cli_json(ctk_cli, "pages", "restrictions", deep["id"])
    assert [a["id"] for a in out["inherited_read"]] == [ids["secret"]]
