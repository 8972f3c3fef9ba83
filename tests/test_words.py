"""Each front end's messages name flags and commands (CLI) or arguments and actions (MCP)."""

from __future__ import annotations

import pytest

from ctk_core import Operation, Param, Resource
from ctk_core.words import CLI_WORDS, MCP_WORDS

OUTLINE = Operation(
    "get_outline",
    "Outline.",
    lambda ctx, page_id, space_id, body: None,
    params=(
        Param("page_id", "str", positional=True),
        Param("space_id", "str", flag="space"),
        Param("body", "str", from_file=True),
    ),
)
PAGES = Resource("pages", "Pages.", [OUTLINE, Operation("list", "List.", lambda ctx: None)])


@pytest.mark.parametrize(
    ("text", "cli", "mcp"),
    [
        (
            "Give `page_id` or `space_id`.",
            "Give PAGE_ID or --space.",
            "Give 'page_id' or 'space_id'.",
        ),
        ("Missing `body`.", "Missing --body (or --body-file).", "Missing 'body'."),
        ("Try `get_outline`.", "Try 'ctk pages get-outline'.", "Try 'get_outline'."),
        ("See `spaces list`.", "See 'ctk spaces list'.", "See manage_spaces action 'list'."),
        ("Unknown `thing`, 'space_id' as typed.", "Unknown 'thing', 'space_id' as typed.", None),
    ],
)
def test_backticked_names_in_each_front_ends_words(text, cli, mcp):
    assert CLI_WORDS.rephrase(PAGES, OUTLINE, text) == cli
    assert MCP_WORDS.rephrase(PAGES, OUTLINE, text) == (mcp or cli)


def test_argument_errors_name_flags_on_the_cli(ctk_cli):
    missing = ctk_cli("search", "quick", "--space", "DEMO")
    assert missing.exit_code == 2
    assert "--query" in missing.stderr
    empty = ctk_cli("pages", "get", "--space", "DEMO", "--title", " ")
    assert empty.exit_code == 2, empty
    assert "--title" in empty.stderr
    assert "'title'" not in empty.stderr
    both = ctk_cli("pages", "tree", "1", "--space", "DEMO")
    assert both.exit_code == 2, both
    assert "Give either PAGE_ID or --space, not both." in both.stderr
    unknown_key = ctk_cli("pages", "list", "--space", "NOPE")
    assert unknown_key.exit_code == 5
    assert "Check the key with 'ctk spaces list'." in unknown_key.stderr


def test_argument_errors_name_arguments_over_mcp(ctk_mcp):
    session = ctk_mcp()
    both = session.error(
        "manage_pages", {"action": "get_descendants", "page_id": "1", "space_id": "DEMO"}
    )
    assert "Give either 'page_id' or 'space_id', not both." in both
    assert "--" not in both
    unknown_key = session.error("manage_pages", {"action": "list", "space_id": "NOPE"})
    assert "Check the key with manage_spaces action 'list'." in unknown_key
    missing = session.error("manage_search", {"action": "quick"})
    assert "'query'" in missing
    assert "--" not in missing


def test_refusals_in_each_front_ends_words(ctk_cli, ctk_mcp):
    env = {"CTK_DISABLED_TOOLS": "manage_users"}
    cli = ctk_cli("users", "search", "x", env=env)
    assert cli.exit_code == 4
    assert "'ctk users' is disabled by CTK_DISABLED_TOOLS" in cli.stderr
    mcp = ctk_mcp(env).error("manage_users", {"action": "search", "query": "x"})
    assert mcp.startswith("The manage_users tool is disabled by CTK_DISABLED_TOOLS")
    assert "ctk users" not in mcp
