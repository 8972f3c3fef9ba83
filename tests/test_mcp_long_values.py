"""A huge argument is never echoed back: every error quotes at most a short prefix of a value.

An agent that pastes a 1 MB text into the wrong argument must get a short error, not its text
back (issue 11). Every string argument of every action of every built-in tool (and the tool
name and the action themselves) gets a 1 MB value in turn, with valid values for the other
required arguments, against the sandbox with writes on; each ``isError`` text stays under 2 KB
and quotes no more than a short prefix of the value.
"""

from __future__ import annotations

import pytest

from ctk_core.errors import UsageError, shown
from ctk_core.registry import load_catalog
from ctk_core.sandbox.seed import demo_ids

pytestmark = pytest.mark.anyio

BIG = "x" * (1 << 20)
#: Longer than any prefix a message may quote (60 characters and "...").
ECHO = "x" * 100
MAX_ERROR = 2048

CATALOG = load_catalog(reload=True)
IDS = demo_ids()
USER = IDS["user:Alex Morgan"]


def _valid(name: str, upload: str) -> object:
    """A good value for a required argument of the built-in tools."""
    return {
        "page_id": IDS["page:Architecture"],
        "space_id": "DEMO",
        "comment_id": IDS["comment:Should we mention the"],
        "attachment_id": IDS["attachment:notes.txt"],
        "folder_id": IDS["folder:Meeting Notes"],
        "template_id": IDS["template:Meeting notes"],
        "file_path": upload,
        "title": "Long values",
        "body": "Some text.",
        "selection": "three parts",
        "heading": "Components",
        "label": ["guide"],
        "cql": "type = page",
        "query": "install",
        "key": "LONGV",
        "name": "Long values",
        "account_id": [USER],
        "version": 1,
    }[name]


def _combinations() -> list[tuple[str, str, str]]:
    out = []
    for resource in CATALOG.resources:
        for op in resource.operations:
            for param in op.all_params:
                if param.type in ("str", "list") and not param.cli_only:
                    out.append((resource.tool_name, op.name, param.name))
    return out


COMBINATIONS = _combinations()


def _check(text: str, where: str) -> None:
    assert len(text.encode("utf-8")) < MAX_ERROR, (where, len(text), text[:300])
    assert ECHO not in text, (where, text[:300])


def test_every_string_argument(ctk_mcp, tmp_path):
    assert len(COMBINATIONS) > 100
    upload = tmp_path / "upload.txt"
    upload.write_text("to upload")
    mcp = ctk_mcp({"CTK_ENABLE_WRITES": "true", "CTK_UPLOAD_ROOTS": str(tmp_path)})
    tools = {r.tool_name: r for r in CATALOG.resources}
    errors = 0
    for tool, action, name in COMBINATIONS:
        op = tools[tool].operation(action)
        args: dict[str, object] = {"action": action}
        for param in op.all_params:
            if param.required and param.name != name:
                args[param.name] = _valid(param.name, str(upload))
        param = next(p for p in op.all_params if p.name == name)
        args[name] = [BIG] if param.type == "list" else BIG
        result = mcp.call(tool, args)
        text = mcp.text(result)
        if result.is_error:
            errors += 1
            _check(text, f"{tool}.{action}.{name}")
        else:  # a long title or body may be fine; the answer still stays within the cap
            assert len(text.encode("utf-8")) <= 40000, (tool, action, name)
    assert errors > len(COMBINATIONS) // 2


def test_a_huge_action_or_unknown_argument(ctk_mcp):
    mcp = ctk_mcp()
    for tool in [r.tool_name for r in CATALOG.resources]:
        _check(mcp.error(tool, {"action": BIG}), f"{tool} action")
        _check(mcp.error(tool, {"action": "list", BIG: 1}), f"{tool} argument name")
        _check(mcp.error(tool, {"action": "get", "limit": BIG}), f"{tool} limit")


def test_a_huge_tool_name(ctk_mcp):
    from mcp.shared.exceptions import MCPError

    mcp = ctk_mcp()
    with pytest.raises(MCPError) as caught:
        mcp.call(BIG, {"action": "list"})
    _check(str(caught.value), "tool name")


def test_shown_quotes_a_short_prefix():
    assert shown("abc") == "'abc'"
    assert shown("y" * 61) == repr("y" * 60) + "..."
    assert shown("y" * 60) == repr("y" * 60)
    assert len(shown(BIG)) < 70
    assert len(shown([BIG, BIG])) < 140
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    assert len(shown(deep)) < 140  # no RecursionError either
    assert len(shown({BIG: BIG})) < 140
    assert str(UsageError(f"Bad {shown(BIG)}.")).startswith("Bad 'xxx")


def test_shown_path_cuts_and_escapes():
    from ctk_core.errors import shown_path

    assert shown_path("/home/é/notes.txt") == "/home/é/notes.txt"
    assert shown_path("a\x00b\x1b[31m\r") == "a\\x00b\\x1b[31m\\r"
    assert shown_path("/x" * 100) == ("/x" * 40) + "..."


def test_an_unexpected_error_is_cut_short():
    from ctk_core.cli import UnexpectedError

    message = UnexpectedError(RuntimeError("y" * 5000)).message
    assert len(message) < 400
    assert "y" * 300 + "..." in message


@pytest.mark.parametrize("bad", ["6" * 5000, "6" * 20, "\uff16\uff15\uff15\uff13\uff19", "\u00b2"])
def test_an_id_that_no_page_can_have_is_refused_before_any_request(
    ctk_mcp, confluence_sandbox, bad
):
    confluence_sandbox.requests.clear()
    error = ctk_mcp().error("manage_pages", {"action": "get_restrictions", "page_id": bad})
    assert "is not a Confluence id" in error
    assert len(error) < 300
    assert confluence_sandbox.requests.entries() == []


def test_a_not_found_answer_quotes_a_short_path(ctk_mcp):
    error = ctk_mcp().error("manage_pages", {"action": "get", "page_id": "6" * 19})
    assert "404" in error
    assert len(error) < 400
