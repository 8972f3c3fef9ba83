"""The search plugin (``ctk search`` / ``manage_search``) through both front ends, against the
sandbox over real HTTP; plus the quoting of ``quick`` as a property."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from resource_support import assert_refused, cli_json

from ctk_core.helpers import clean_excerpt, cql_string
from ctk_core.sandbox import cql as sandbox_cql
from ctk_plugins.search import build_quick_cql, plain_words

HIT_FIELDS = [
    "id",
    "type",
    "title",
    "status",
    "space_key",
    "space_name",
    "excerpt",
    "last_modified",
    "web_url",
]


def last_search(sandbox):
    return sandbox.requests.find("GET", "/wiki/rest/api/search")[-1]["query"]


def test_cql_same_in_both_front_ends(ctk_cli, ctk_mcp, confluence_sandbox):
    query = 'type = page AND space = "DEMO" AND title ~ "installing"'
    cli = cli_json(ctk_cli, "search", "cql", query)
    mcp = ctk_mcp().call_json("manage_search", {"action": "cql", "cql": query})
    assert cli == mcp
    assert {h["title"] for h in cli["results"]} == {"Installing on Linux", "Installing on macOS"}
    assert cli["next_cursor"] is None
    for hit in cli["results"]:
        assert list(hit) == HIT_FIELDS
        assert hit["type"] == "page"
        assert hit["space_key"] == "DEMO"
        assert hit["space_name"] == "Demo Space"
        assert hit["status"] == "current"
        assert hit["id"] == confluence_sandbox.page_id(hit["title"])
        assert hit["web_url"].startswith(f"{confluence_sandbox.url}/wiki/spaces/DEMO/pages/")
        assert hit["last_modified"]
    sent = last_search(confluence_sandbox)
    assert sent["cql"] == [query]
    assert sent["excerpt"] == ["highlight"]
    assert "includeArchivedSpaces" not in sent


def test_cql_hits_of_other_types_keep_space_and_title(ctk_cli, confluence_sandbox):
    data = cli_json(
        ctk_cli, "search", "cql", "type IN (folder, comment, attachment)", "--limit", "50"
    )
    kinds = {h["type"] for h in data["results"]}
    assert kinds == {"folder", "comment", "attachment"}
    assert all(h["space_key"] == "DEMO" and h["title"] for h in data["results"])
    assert all(h["web_url"].startswith(confluence_sandbox.url) for h in data["results"])


def test_excerpt_modes(ctk_cli, ctk_mcp):
    query = 'siteSearch ~ "storage" AND title = "API Design"'
    bold = cli_json(ctk_cli, "search", "cql", query)["results"][0]["excerpt"]
    assert "**storage**" in bold
    assert "@@@" not in bold
    plain = ctk_mcp().call_json(
        "manage_search", {"action": "cql", "cql": query, "excerpt": "indexed"}
    )
    assert "storage" in plain["results"][0]["excerpt"]
    assert "**" not in plain["results"][0]["excerpt"]
    none = cli_json(ctk_cli, "search", "cql", query, "--excerpt", "none")
    assert none["results"][0]["excerpt"] == ""


def test_cql_paging_and_all(ctk_cli, ctk_mcp, confluence_sandbox):
    query = 'type = page AND space = "DEMO" ORDER BY title'
    first = cli_json(ctk_cli, "search", "cql", query, "--limit", "3")
    assert len(first["results"]) == 3
    assert first["next_cursor"]
    second = ctk_mcp().call_json(
        "manage_search", {"action": "cql", "cql": query, "limit": 3, "cursor": first["next_cursor"]}
    )
    assert not {h["id"] for h in first["results"]} & {h["id"] for h in second["results"]}
    everything = cli_json(ctk_cli, "search", "cql", query, "--limit", "4", "--all")
    titles = [h["title"] for h in everything["results"]]
    demo_pages = [
        p
        for p in confluence_sandbox.state.pages.values()
        if p["spaceId"] == confluence_sandbox.space_id("DEMO") and p["status"] == "current"
    ]
    assert len(titles) == len(demo_pages)
    assert titles == sorted(titles, key=str.lower)
    assert everything["next_cursor"] is None


def test_archived_spaces_only_when_asked(ctk_cli, ctk_mcp, confluence_sandbox):
    state = confluence_sandbox.state
    old = state.create_space("OLD", "Old Space")
    state.create_page(old["id"], "Zeppelin plans", "<p>zeppelin fleet</p>")
    old["status"] = "archived"
    query = 'siteSearch ~ "zeppelin"'
    assert cli_json(ctk_cli, "search", "cql", query)["results"] == []
    found = cli_json(ctk_cli, "search", "cql", query, "--include-archived-spaces")
    assert [h["title"] for h in found["results"]] == ["Zeppelin plans"]
    assert found["results"][0]["space_key"] == "OLD"
    assert last_search(confluence_sandbox)["includeArchivedSpaces"] == ["true"]
    mcp = ctk_mcp().call_json(
        "manage_search", {"action": "quick", "query": "zeppelin", "include_archived_spaces": True}
    )
    assert [h["title"] for h in mcp["results"]] == ["Zeppelin plans"]


def test_quick_builds_safe_cql(ctk_cli, ctk_mcp, confluence_sandbox):
    data = cli_json(ctk_cli, "search", "quick", "--query", "sync agent")
    assert data["cql"] == 'siteSearch ~ "sync agent"'
    assert "Architecture" in {h["title"] for h in data["results"]}
    scoped = ctk_mcp().call_json(
        "manage_search",
        {"action": "quick", "query": "onboarding", "space_id": "TEAM", "type": "page"},
    )
    assert scoped["cql"] == 'siteSearch ~ "onboarding" AND space = "TEAM" AND type = page'
    assert {h["space_key"] for h in scoped["results"]} == {"TEAM"}
    by_id = cli_json(
        ctk_cli,
        "search",
        "quick",
        "--query",
        "onboarding",
        "--space",
        confluence_sandbox.space_id("TEAM"),
        "--type",
        "page",
    )
    assert by_id["results"] == scoped["results"]
    tricky = 'say "hi" \\ bye'
    weird = cli_json(ctk_cli, "search", "quick", "--query", tricky)
    assert weird["cql"] == 'siteSearch ~ "say \\"hi\\" \\\\ bye"'
    assert last_search(confluence_sandbox)["cql"] == [weird["cql"]]
    assert weird["results"] == []


def test_quick_finds_a_quoted_phrase(ctk_cli, confluence_sandbox):
    state = confluence_sandbox.state
    state.create_page(
        confluence_sandbox.space_id("DEMO"), "Quotes", '<p>the "quoted" word and a back\\slash</p>'
    )
    data = cli_json(ctk_cli, "search", "quick", "--query", '"quoted"')
    assert [h["title"] for h in data["results"]] == ["Quotes"]


def test_table_view(ctk_cli):
    result = ctk_cli("search", "quick", "--query", "installer")
    assert result.exit_code == 0, result
    assert result.stdout.splitlines()[0].split() == ["id", "type", "space_key", "title", "excerpt"]


def test_tool_description_teaches_cql(ctk_mcp):
    tool = ctk_mcp().tool("manage_search")
    assert tool.description.count("AND") >= 4
    assert "siteSearch ~" in tool.description
    assert 'space = "DEMO"' in tool.description
    schema = tool.input_schema
    assert {
        "cql",
        "query",
        "space_id",
        "type",
        "include_archived_spaces",
        "excerpt",
        "limit",
        "cursor",
    } <= set(schema["properties"])


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["search", "cql"], 2, "Missing argument 'CQL'"),
        (["search", "cql", "   "], 2, "CQL must not be empty"),
        (["search", "cql", "type = = page"], 2, "parse"),
        (["search", "cql", "type = page", "--limit", "0"], 2, "0 is not in the range"),
        (["search", "cql", "type = page", "--excerpt", "loud"], 2, "'loud' is not one of"),
        (["search", "cql", "type = page", "--cursor", "garbage!"], 2, "cursor"),
        (["search", "quick"], 2, "--query"),
        (["search", "quick", "--query", ":-) !!"], 2, "no words"),
        (["search", "quick", "--query", "x", "--type", "video"], 2, "'video' is not one of"),
        (["search", "quick", "--query", "x", "--space", "NOPE"], 5, "No space with key 'NOPE'"),
        (["search", "quick", "--query", "x", "--space", "424242"], 5, "not found"),
    ],
)
def test_bad_inputs_cli(ctk_cli, args, code, fragment):
    assert_refused(ctk_cli(*args), code, fragment)


def test_bad_inputs_mcp(ctk_mcp):
    mcp = ctk_mcp()
    assert "cql" in mcp.error("manage_search", {"action": "cql"})
    assert "parse" in mcp.error("manage_search", {"action": "cql", "cql": "title ~"}).lower()
    assert "query" in mcp.error("manage_search", {"action": "quick"})
    assert "query" in mcp.error("manage_search", {"action": "quick", "query": "  "})
    assert "type" in mcp.error("manage_search", {"action": "quick", "query": "x", "type": "video"})
    assert "limit" in mcp.error(
        "manage_search", {"action": "cql", "cql": "type = page", "limit": "many"}
    )
    assert "NOPE" in mcp.error(
        "manage_search", {"action": "quick", "query": "x", "space_id": "NOPE"}
    )
    assert mcp.call_json("manage_search", {"action": "quick", "query": "nimbus"})["results"]


# -- pure helpers ---------------------------------------------------------------------------------


def test_clean_excerpt():
    assert clean_excerpt("a @@@hl@@@b@@@endhl@@@ &amp;\n  c") == "a **b** & c"
    assert clean_excerpt(None) == ""
    assert clean_excerpt("dangling @@@hl@@@x") == "dangling x"


def test_plain_words():
    assert plain_words("  deploy*   the  *thing a*b* ** ") == "deploy* the thing ab*"
    assert plain_words("***") == ""
    assert plain_words("") == ""


@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_quick_cql_round_trips_any_text(text):
    """Whatever the words, the CQL parses and the siteSearch value is exactly the words."""
    words = plain_words(text)
    if not re.search(r"\w", words):
        return  # quick refuses these before any request (see test_bad_inputs_*)
    query = sandbox_cql.parse(build_quick_cql(words, 'DE"MO', "page"))
    clauses = [c for c, _ in query.clauses()]
    assert [c.field.lower() for c in clauses] == ["sitesearch", "space", "type"]
    assert clauses[0].values[0].text == words
    assert clauses[1].values[0].text == 'DE"MO'
    assert cql_string(words).startswith('"')
    assert cql_string(words).endswith('"')


def test_real_process(ctk_cli):
    """One run as a real ``ctk`` process (entry points, environment, exit code)."""
    result = ctk_cli(
        "--json",
        "search",
        "quick",
        "--query",
        "nimbus",
        "--space",
        "DEMO",
        "--limit",
        "2",
        subprocess=True,
    )
    assert result.exit_code == 0, result
    data = result.json()
    assert len(data["results"]) == 2
    assert data["next_cursor"]
    bad = ctk_cli("search", "cql", "type = = page", subprocess=True)
    assert bad.exit_code == 2
    assert "Traceback" not in bad.stderr


def test_search_leaves_out_what_a_disabled_tool_holds(ctk_cli, ctk_mcp):
    env = {"CTK_DISABLED_TOOLS": "manage_comments,manage_attachments"}
    query = "type IN (page, folder, comment, attachment)"
    everything = cli_json(ctk_cli, "search", "cql", query, "--limit", "100")
    assert {"comment", "attachment"} <= {hit["type"] for hit in everything["results"]}
    shown = cli_json(ctk_cli, "search", "cql", query, "--limit", "100", env=env)
    assert {hit["type"] for hit in shown["results"]} == {"page", "folder"}
    refused = ctk_cli("search", "quick", "--query", "x", "--type", "comment", env=env)
    assert refused.exit_code == 4
    assert "disabled by CTK_DISABLED_TOOLS" in refused.stderr
    session = ctk_mcp(env)
    hits = session.call_json("manage_search", {"action": "cql", "cql": query, "limit": 100})
    assert {hit["type"] for hit in hits["results"]} == {"page", "folder"}
    error = session.error("manage_search", {"action": "quick", "query": "x", "type": "attachment"})
    assert "disabled by CTK_DISABLED_TOOLS" in error
