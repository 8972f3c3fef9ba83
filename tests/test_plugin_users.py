"""The users plugin through the CLI, against the sandbox over real HTTP."""

from __future__ import annotations

import json

import pytest

# Module-scoped on purpose: these fixtures wrap the CLI and MCP fixtures with a token-leak check.


def _users(sandbox):
    return {u["accountId"]: u for u in sandbox.state.users.values()}


def test_get_current_is_the_authenticated_user(ctk_cli, confluence_sandbox):
    result = ctk_cli("--json", "users", "get-current")
    assert result.exit_code == 0, result
    me = result.json()
    user = _users(confluence_sandbox)[confluence_sandbox.state.current_user]
    assert me == {
        "account_id": user["accountId"],
        "display_name": user["displayName"],
        "account_type": "atlassian",
        "email": user["email"],
    }
    text = ctk_cli("users", "get-current")
    assert any(
        line.split()[:1] == ["display_name"] and user["displayName"] in line
        for line in text.stdout.splitlines()
    )


def test_search_matches_word_prefixes(ctk_cli, confluence_sandbox):
    users = _users(confluence_sandbox)
    target = next(u for u in users.values() if u["displayName"].startswith("Priya"))
    for query in ("Priya", "pri", "priya nat", "NATARAJAN"):
        result = ctk_cli("--json", "users", "search", query)
        assert result.exit_code == 0, result
        data = result.json()
        assert [u["account_id"] for u in data["results"]] == [target["accountId"]], query
        assert data["results"][0]["display_name"] == target["displayName"]
        assert data["results"][0]["email"] == target["email"]
        assert data["next_cursor"] is None


def test_search_quotes_are_escaped(ctk_cli, confluence_sandbox):
    result = ctk_cli("--json", "users", "search", 'o"connor')
    assert result.exit_code == 0, result  # a valid CQL string, even with a quote inside
    cql = confluence_sandbox.requests.find("GET", "/search/user")[-1]["query"]["cql"][0]
    assert cql == 'user.fullname~"o\\"connor*"'


def test_search_pages(ctk_cli, confluence_sandbox):
    everyone = ctk_cli("--json", "users", "search", "a*", "--all").json()["results"]
    first = ctk_cli("--json", "users", "search", "a*", "--limit", "1").json()
    if len(everyone) > 1:
        assert first["next_cursor"]
        second = ctk_cli(
            "--json", "users", "search", "a*", "--limit", "1", "--cursor", first["next_cursor"]
        ).json()
        assert second["results"][0] == everyone[1]
    assert first["results"][0] == everyone[0]


def test_search_nothing_found(ctk_cli):
    result = ctk_cli("--json", "users", "search", "zzzyx")
    assert result.exit_code == 0
    assert result.json() == {"results": [], "next_cursor": None}
    text = ctk_cli("users", "search", "zzzyx")
    assert text.exit_code == 0
    assert text.stdout == ""
    assert "No results." in text.stderr


def test_get_one_and_several(ctk_cli, confluence_sandbox):
    ids = list(_users(confluence_sandbox))[:3]
    one = ctk_cli("--json", "users", "get", ids[0])
    assert one.exit_code == 0, one
    assert one.json()["account_id"] == ids[0]
    several = ctk_cli("--json", "users", "get", ids[1], ids[2])
    assert [u["account_id"] for u in several.json()["results"]] == [ids[1], ids[2]]
    commas = ctk_cli("--json", "users", "get", f"{ids[1]},{ids[2]}")
    assert commas.json() == several.json()
    bulk = confluence_sandbox.requests.find("POST", "/api/v2/users-bulk")[-1]
    assert json.loads(bulk["body"]) == {"accountIds": [ids[1], ids[2]]}
    table = ctk_cli("users", "get", ids[1], ids[2])
    assert table.stdout.splitlines()[0].split() == ["account_id", "display_name", "email"]


def test_get_reports_the_ids_not_found(ctk_cli, confluence_sandbox):
    known = next(iter(_users(confluence_sandbox)))
    result = ctk_cli("--json", "users", "get", known, "nobody-1")
    assert result.exit_code == 0
    assert result.json()["not_found"] == ["nobody-1"]
    assert [u["account_id"] for u in result.json()["results"]] == [known]


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["users", "get"], 2, "Missing argument 'ACCOUNT_ID...'"),
        (["users", "get", "nobody-1"], 5, "No user with account id 'nobody-1'"),
        (["users", "search"], 2, "Missing argument 'QUERY'"),
        (["users", "search", "  "], 2, "QUERY must not be empty"),
        (["users", "search", "x", "--limit", "many"], 2, "'many' is not a valid integer"),
        (["users", "get-current", "extra"], 2, "unexpected extra argument"),
    ],
)
def test_bad_inputs(ctk_cli, args, code, fragment):
    result = ctk_cli(*args)
    assert result.exit_code == code, result
    assert fragment.lower() in result.stderr.lower()
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


def test_wrong_credentials_exit_3(ctk_cli):
    result = ctk_cli("users", "get-current", env={"CONFLUENCE_API_TOKEN": "wrong"})
    assert result.exit_code == 3, result
    assert result.stderr.startswith("Error: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "wrong" not in result.stderr


def test_no_credentials_exit_3(ctk_cli):
    result = ctk_cli(
        "users", "get-current", env={"CONFLUENCE_API_TOKEN": None, "CONFLUENCE_EMAIL": None}
    )
    assert result.exit_code == 3, result
    assert "CONFLUENCE_EMAIL" in result.stderr or "ctk auth" in result.stderr


# -- the same operations through MCP ------------------------------------------------------------


def test_mcp_matches_the_cli(ctk_mcp, ctk_cli, confluence_sandbox):
    session = ctk_mcp()
    me = session.call_json("manage_users", {"action": "get_current"})
    assert me == ctk_cli("--json", "users", "get-current").json()
    found = session.call_json("manage_users", {"action": "search", "query": "pri"})
    assert found == ctk_cli("--json", "users", "search", "pri").json()
    ids = list(_users(confluence_sandbox))[:2]
    one = session.call_json("manage_users", {"action": "get", "account_id": [ids[0]]})
    assert one["account_id"] == ids[0]
    both = session.call_json("manage_users", {"action": "get", "account_id": ids})
    assert [u["account_id"] for u in both["results"]] == ids


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        ({"action": "search"}, "query"),
        ({"action": "get"}, "account_id"),  # missing argument
        ({"action": "get", "account_id": ["nobody-1"]}, "No user with account id 'nobody-1'"),
        ({"action": "get", "account_id": 42}, "account_id"),
        ({"action": "search", "query": "x", "limit": 0}, "limit"),
    ],
)
def test_mcp_bad_inputs(ctk_mcp, arguments, fragment):
    assert fragment in ctk_mcp().error("manage_users", arguments)
