"""The spaces plugin through the CLI, against the sandbox over real HTTP."""

from __future__ import annotations

import pytest

# Module-scoped on purpose: these fixtures wrap the CLI and MCP fixtures with a token-leak check.
from ctk_core.policy import WRITES_DISABLED_MESSAGE

FIELDS = ["id", "key", "name", "type", "status", "homepage_id", "description", "web_url"]


def test_list_returns_flattened_spaces(ctk_cli, confluence_sandbox):
    result = ctk_cli("--json", "spaces", "list")
    assert result.exit_code == 0, result
    data = result.json()
    assert set(data) == {"results", "next_cursor"}
    assert data["next_cursor"] is None
    keys = {s["key"] for s in data["results"]}
    assert keys == {s["key"] for s in confluence_sandbox.state.spaces.values()}
    for space in data["results"]:
        assert list(space) == FIELDS
        raw = confluence_sandbox.state.spaces[space["id"]]
        assert space["name"] == raw["name"]
        assert space["web_url"] == f"{confluence_sandbox.url}/wiki/spaces/{space['key']}"
        assert space["homepage_id"] is None or space["homepage_id"].isdigit()


def test_list_table_for_people(ctk_cli):
    result = ctk_cli("spaces", "list")
    assert result.exit_code == 0, result
    header = result.stdout.splitlines()[0].split()
    assert header == ["id", "key", "name", "type", "status"]
    assert "DEMO" in result.stdout


def test_list_filters_are_sent(ctk_cli, confluence_sandbox):
    result = ctk_cli(
        "--json", "spaces", "list", "--keys", "TEAM", "--type", "global", "--status", "current"
    )
    assert [s["key"] for s in result.json()["results"]] == ["TEAM"]
    request = confluence_sandbox.requests.entries()[-1]
    assert request["query"]["keys"] == ["TEAM"]
    assert request["query"]["type"] == ["global"]
    assert request["query"]["status"] == ["current"]
    both = ctk_cli("--json", "spaces", "list", "--keys", "TEAM,DEMO")
    assert {s["key"] for s in both.json()["results"]} == {"TEAM", "DEMO"}
    repeated = ctk_cli("--json", "spaces", "list", "--keys", "TEAM", "--keys", "DEMO")
    assert repeated.json() == both.json()
    archived = ctk_cli("--json", "spaces", "list", "--status", "archived")
    assert archived.json() == {"results": [], "next_cursor": None}


def test_list_pages_with_limit_cursor_and_all(ctk_cli):
    first = ctk_cli("--json", "spaces", "list", "--limit", "1").json()
    assert len(first["results"]) == 1
    assert first["next_cursor"]
    second = ctk_cli(
        "--json", "spaces", "list", "--limit", "1", "--cursor", first["next_cursor"]
    ).json()
    assert second["results"][0]["key"] != first["results"][0]["key"]
    everything = ctk_cli("--json", "spaces", "list", "--limit", "1", "--all")
    assert everything.exit_code == 0, everything
    data = everything.json()
    assert data["next_cursor"] is None
    assert [s["key"] for s in data["results"][:2]] == [
        first["results"][0]["key"],
        second["results"][0]["key"],
    ]
    assert data == ctk_cli("--json", "spaces", "list", "--limit", "250").json()
    table = ctk_cli("spaces", "list", "--limit", "1", "--all")
    assert table.exit_code == 0
    assert "DEMO" in table.stdout
    assert "TEAM" in table.stdout
    hint = ctk_cli("spaces", "list", "--limit", "1")
    assert f"--cursor {first['next_cursor']}" in hint.stderr


def test_get_by_id_and_by_key_agree(ctk_cli, confluence_sandbox):
    space_id = confluence_sandbox.space_id("DEMO")
    by_id = ctk_cli("--json", "spaces", "get", space_id)
    by_key = ctk_cli("--json", "spaces", "get", "DEMO")
    compat = ctk_cli("--json", "spaces", "get-by-key", "DEMO")
    assert by_id.exit_code == by_key.exit_code == compat.exit_code == 0
    assert by_id.json() == by_key.json() == compat.json()
    assert by_id.json()["id"] == space_id
    assert list(by_id.json()) == FIELDS
    assert by_id.json()["description"] == confluence_sandbox.state.spaces[space_id]["description"]


def test_get_key_value_view(ctk_cli):
    result = ctk_cli("spaces", "get", "DEMO")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["id", lines[0].split()[1]]
    assert any(line.split()[:2] == ["key", "DEMO"] for line in lines)


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["spaces", "get"], 2, "Missing argument 'SPACE_ID'"),
        (["spaces", "get", "NOPE"], 5, "No space with key 'NOPE'"),
        (["spaces", "get", "999999"], 5, "not found"),
        (["spaces", "get-by-key", "NOPE"], 5, "No space with key 'NOPE'"),
        (["spaces", "get-by-key"], 2, "Missing argument 'KEY'"),
        (["spaces", "list", "--limit", "abc"], 2, "'abc' is not a valid integer"),
        (["spaces", "list", "--limit", "0"], 2, "0 is not in the range"),
        (["spaces", "list", "--type", "weird"], 2, "'weird' is not one of"),
        (["spaces", "list", "--bogus"], 2, "No such option '--bogus'"),
        (["spaces", "list", "--cursor", "garbage!"], 2, None),
    ],
)
def test_bad_inputs(ctk_cli, args, code, fragment):
    result = ctk_cli(*args)
    assert result.exit_code == code, result
    assert result.stdout == ""
    if fragment:
        assert fragment.lower() in result.stderr.lower()
    assert "Traceback" not in result.stderr


def test_create_refused_when_writes_are_off(ctk_cli, confluence_sandbox):
    before = len(confluence_sandbox.state.spaces)
    result = ctk_cli("spaces", "create", "NEW", "--name", "New")
    assert result.exit_code == 4
    assert result.stderr.strip() == f"Error: {WRITES_DISABLED_MESSAGE}"
    # refused before any argument check, and before any request
    assert ctk_cli("spaces", "create").exit_code == 4
    assert len(confluence_sandbox.state.spaces) == before
    assert not [r for r in confluence_sandbox.requests.entries() if r["method"] == "POST"]


def test_create_with_writes_on(ctk_cli, confluence_sandbox):
    ctk_cli.env["CTK_ENABLE_WRITES"] = "true"
    result = ctk_cli(
        "--json",
        "spaces",
        "create",
        "NEW",
        "--name",
        "New space",
        "--description",
        "Made by a test.",
    )
    assert result.exit_code == 0, result
    space = result.json()
    assert list(space) == FIELDS
    assert (space["key"], space["name"], space["description"]) == (
        "NEW",
        "New space",
        "Made by a test.",
    )
    assert confluence_sandbox.state.spaces[space["id"]]["key"] == "NEW"
    got = ctk_cli("--json", "spaces", "get", "NEW").json()
    assert got == space  # the home page Confluence made is in the create result too
    assert space["homepage_id"]
    again = ctk_cli("spaces", "create", "NEW", "--name", "Again")
    assert again.exit_code == 6, again  # a duplicate key is a conflict
    assert again.stderr == (
        "Error: A space with key 'NEW' already exists. "
        "Choose another key, or read that space with 'ctk spaces get-by-key'.\n"
    )


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["spaces", "create", "NEW"], 2),  # --name missing
        (["spaces", "create", "bad key!", "--name", "X"], 2),  # key rule, checked locally
    ],
)
def test_create_bad_inputs(ctk_cli, args, code):
    result = ctk_cli(*args, env={"CTK_ENABLE_WRITES": "1"})
    assert result.exit_code == code, result
    assert result.stderr.startswith(("Error:", "Usage:"))


# -- the same operations through MCP ------------------------------------------------------------


def test_mcp_matches_the_cli(ctk_mcp, ctk_cli):
    session = ctk_mcp()
    listed = session.call_json("manage_spaces", {"action": "list"})
    assert listed == ctk_cli("--json", "spaces", "list").json()
    by_key = session.call_json("manage_spaces", {"action": "get", "space_id": "DEMO"})
    assert by_key == ctk_cli("--json", "spaces", "get", "DEMO").json()
    compat = session.call_json("manage_spaces", {"action": "get_by_key", "key": "DEMO"})
    assert compat == by_key
    paged = session.call_json("manage_spaces", {"action": "list", "limit": 1})
    assert len(paged["results"]) == 1
    assert paged["next_cursor"]


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        ({"action": "get"}, "space_id"),  # missing argument
        ({"action": "get", "space_id": "NOPE"}, "No space with key 'NOPE'"),  # unknown key
        ({"action": "list", "limit": "ten"}, "limit"),  # wrong type
        ({"action": "create", "key": "X", "name": "Y"}, WRITES_DISABLED_MESSAGE),
        ({"action": "get_by_key"}, "key"),  # missing argument
        ({"action": "get_by_key", "key": "NOPE"}, "No space with key 'NOPE'"),  # unknown key
        ({"action": "list", "type": "weird"}, "'type' must be one of"),
        ({"action": "list", "keys": 7}, "'keys' must be a list of strings, got 7"),  # wrong type
    ],
)
def test_mcp_bad_inputs(ctk_mcp, arguments, fragment):
    assert fragment in ctk_mcp().error("manage_spaces", arguments)


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        ({"action": "create", "key": "NEW"}, "name"),  # missing argument
        ({"action": "create", "key": "bad key!", "name": "X"}, "letters and digits"),
        ({"action": "create", "key": 5, "name": "X"}, "key"),  # wrong type
    ],
)
def test_mcp_create_bad_inputs(ctk_mcp, confluence_sandbox, arguments, fragment):
    before = len(confluence_sandbox.state.spaces)
    assert fragment in ctk_mcp({"CTK_ENABLE_WRITES": "true"}).error("manage_spaces", arguments)
    assert len(confluence_sandbox.state.spaces) == before


def test_mcp_create_with_writes_on(ctk_mcp, confluence_sandbox):
    session = ctk_mcp({"CTK_ENABLE_WRITES": "true"})
    space = session.call_json(
        "manage_spaces", {"action": "create", "key": "MCP", "name": "From MCP"}
    )
    assert space["key"] == "MCP"
    assert confluence_sandbox.state.spaces[space["id"]]["name"] == "From MCP"


def test_debug_runs_never_show_the_token(ctk_cli, ctk_mcp, confluence_sandbox, private_environment):
    """--debug logs every request to stderr and to a file: still never the token (the wrapped
    fixtures and the autouse check above look at every output and the log folder)."""
    ok = ctk_cli("--debug", "spaces", "list")
    assert ok.exit_code == 0
    assert "GET /wiki/api/v2/spaces" in ok.stderr
    assert ctk_cli("--debug", "spaces", "get", "NOPE").exit_code == 5
    wrong = ctk_cli("--debug", "spaces", "list", env={"CONFLUENCE_API_TOKEN": "wrong-token"})
    assert wrong.exit_code == 3
    real = ctk_cli("--debug", "--json", "spaces", "get", "DEMO", subprocess=True)
    assert real.exit_code == 0, real
    ctk_mcp({"CTK_DEBUG": "1"}).call_json("manage_spaces", {"action": "list"})
    logs = list((private_environment / "logs").glob("http-*.log"))
    assert logs
    assert any("GET /wiki/api/v2/spaces" in p.read_text() for p in logs)
