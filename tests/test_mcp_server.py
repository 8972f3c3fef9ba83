"""The MCP server through the SDK's in-process Client, both protocol eras, on a hand-made catalog.

The handlers here need no Confluence: they prove the server's own behaviour (listing, policy,
validation, error handling, truncation, --no-auth). Tests against the sandbox and the real
plugins live in test_mcp_sandbox.py.
"""

from __future__ import annotations

import json
import os
from types import SimpleNamespace

import pytest
from mcp.shared.exceptions import MCPError

from ctk_core import mcp_server
from ctk_core.context import Context
from ctk_core.errors import Conflict, NotFound
from ctk_core.plugin import Operation, Param, Resource
from ctk_core.policy import WRITES_DISABLED_MESSAGE, Policy

pytestmark = pytest.mark.anyio

CALLS: list[tuple[str, dict]] = []


def _record(name):
    def run(ctx, **kw):
        CALLS.append((name, kw))
        return {"action": name, "args": kw, "files": type(ctx.files).__name__}

    return run


def _missing(ctx, widget_id):
    raise NotFound(f"Widget {widget_id} not found.", hint="List widgets with action=list.")


def _conflict(ctx, **kw):
    raise Conflict("Version conflict: widget is at version 7.", hint="Retry with version=8.")


def _boom(ctx, **kw):
    raise RuntimeError("kaboom\nsecond line")


def _big(ctx, n):
    return {
        "results": [{"id": str(i), "title": f"Widget number {i}"} for i in range(n)],
        "next_cursor": None,
    }


def _text(ctx):
    return "plain text result"


def _listing(ctx):
    return [1, 2, 3]


def _slow(ctx):
    ctx.progress.start("Copying", 3)
    for _ in range(3):
        ctx.progress.advance()
    ctx.progress.note("almost there")
    ctx.progress.finish()
    return {"done": 3}


WIDGETS = Resource(
    name="widgets",
    summary="Demo widgets",
    operations=[
        Operation(
            "list",
            "List widgets.",
            _record("list"),
            paged=True,
            params=[
                Param("kind", help="Widget kind.", choices=("small", "large")),
            ],
        ),
        Operation(
            "get",
            "Get a widget.",
            _missing,
            params=[Param("widget_id", help="Widget id.", required=True)],
        ),
        Operation("bump", "Conflict demo.", _conflict),
        Operation("boom", "Always fails.", _boom),
        Operation("big", "A long list.", _big, params=[Param("n", "int", required=True)]),
        Operation("text", "Plain text.", _text),
        Operation("listing", "A bare list.", _listing),
        Operation("slow", "Reports progress.", _slow),
        Operation(
            "create",
            "Create a widget.",
            _record("create"),
            write=True,
            params=[Param("name", help="Name.", required=True)],
        ),
        Operation(
            "delete",
            "Delete a widget.",
            _record("delete"),
            write=True,
            destructive=True,
            idempotent=True,
            params=[Param("widget_id", required=True)],
        ),
    ],
)
GADGETS = Resource(
    name="gadgets",
    summary="Demo gadgets",
    operations=[Operation("list", "List gadgets.", _record("gadgets.list"))],
)
ADMIN = Resource(
    name="admin",
    summary="Write-only tool",
    operations=[Operation("purge", "Purge.", _record("purge"), write=True, destructive=True)],
)
CATALOG = SimpleNamespace(resources=[WIDGETS, GADGETS, ADMIN])


@pytest.fixture(params=["auto", "legacy"])
def mode(request):
    return request.param


@pytest.fixture
def anyio_backend():
    return "asyncio"


def make_server(env=None, no_auth=False):
    env = {**os.environ, **(env or {})}
    policy = Policy.from_environ(env, known_tools=[r.tool_name for r in CATALOG.resources])
    return mcp_server.build_server(
        CATALOG, policy, env, no_auth=no_auth, context=Context(environ=env)
    )


def text_of(result) -> str:
    assert len(result.content) == 1
    return result.content[0].text


async def test_list_tools_writes_off(mode):
    from mcp import Client

    async with Client(make_server(), mode=mode) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert set(tools) == {"manage_widgets", "manage_gadgets"}  # admin: no read action
        w = tools["manage_widgets"]
        enum = w.input_schema["properties"]["action"]["enum"]
        assert enum == ["list", "get", "bump", "boom", "big", "text", "listing", "slow"]
        assert "create" not in w.description
        assert "delete" not in w.description
        assert "name" not in w.input_schema["properties"]
        ann = w.annotations
        assert (
            ann.read_only_hint,
            ann.destructive_hint,
            ann.idempotent_hint,
            ann.open_world_hint,
        ) == (True, False, True, True)
        assert w.title == "Widgets"
        assert ann.title is None
        assert "CTK_ENABLE_WRITES" in client.instructions
        assert client.server_info.name == "ctk"


async def test_list_tools_writes_on(mode):
    from mcp import Client

    async with Client(make_server({"CTK_ENABLE_WRITES": "yes"}), mode=mode) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert set(tools) == {"manage_widgets", "manage_gadgets", "manage_admin"}
        w = tools["manage_widgets"]
        assert w.input_schema["properties"]["action"]["enum"][-2:] == ["create", "delete"]
        assert "\ncreate(name): Create a widget [write]" in w.description
        assert w.annotations.read_only_hint is False
        assert w.annotations.destructive_hint is True
        assert w.annotations.idempotent_hint is False
        g = tools["manage_gadgets"]
        assert g.annotations.read_only_hint is True
        assert "CTK_ENABLE_WRITES" not in (client.instructions or "")


async def test_disabled_tool_absent_and_refused(mode):
    from mcp import Client

    server = make_server({"CTK_DISABLED_TOOLS": " manage_gadgets , manage_nope"})
    async with Client(server, mode=mode) as client:
        names = [t.name for t in (await client.list_tools()).tools]
        assert names == ["manage_widgets"]
        res = await client.call_tool("manage_gadgets", {"action": "list"})
        assert res.is_error
        assert "disabled by CTK_DISABLED_TOOLS" in text_of(res)
        with pytest.raises(MCPError) as unknown:
            await client.call_tool("manage_nope", {})
        assert unknown.value.code == -32602
        assert "Unknown tool 'manage_nope'; available: manage_widgets." in str(unknown.value)
        assert not (await client.call_tool("manage_widgets", {"action": "list"})).is_error


async def test_write_refused_when_writes_off(mode):
    from mcp import Client

    CALLS.clear()
    async with Client(make_server(), mode=mode) as client:
        for args in (
            {"action": "create", "name": "x"},
            {"action": "create"},
            {"action": "delete", "widget_id": 5, "junk": True},
        ):
            res = await client.call_tool("manage_widgets", args)
            assert res.is_error
            assert text_of(res) == WRITES_DISABLED_MESSAGE
        res = await client.call_tool("manage_admin", {"action": "purge"})
        assert res.is_error
        assert text_of(res) == WRITES_DISABLED_MESSAGE
    assert CALLS == []


async def test_write_allowed_when_writes_on(mode):
    from mcp import Client

    CALLS.clear()
    async with Client(make_server({"CTK_ENABLE_WRITES": "true"}), mode=mode) as client:
        res = await client.call_tool("manage_widgets", {"action": "create", "name": "w1"})
        assert not res.is_error
        assert res.structured_content == {
            "action": "create",
            "args": {"name": "w1"},
            "files": "AgentFiles",
        }
    assert CALLS == [("create", {"name": "w1"})]


async def test_read_call_compact_json_and_structured(mode):
    from mcp import Client

    async with Client(make_server(), mode=mode) as client:
        res = await client.call_tool(
            "manage_widgets", {"action": "list", "kind": "large", "limit": 5}
        )
        assert not res.is_error
        text = text_of(res)
        assert text == (
            '{"action":"list","args":{"kind":"large","limit":5,"cursor":null},"files":"AgentFiles"}'
        )
        assert res.structured_content == json.loads(text)
        res = await client.call_tool("manage_widgets", {"action": "text"})
        assert text_of(res) == "plain text result"
        assert res.structured_content is None
        res = await client.call_tool("manage_widgets", {"action": "listing"})
        assert text_of(res) == "[1,2,3]"
        assert not res.is_error


ACTIONS = "list, get, bump, boom, big, text, listing, slow"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            {"action": "list", "bogus": 1},
            "Unknown argument 'bogus' for manage_widgets action 'list'; it takes: kind, limit, "
            "cursor.",
        ),
        ({"action": "list", "limit": "ten"}, "Argument 'limit' must be an integer, got \"ten\""),
        # JSON carries types: a number in a string is refused, as the schema says
        (
            {"action": "list", "limit": "5"},
            "Argument 'limit' must be an integer, got \"5\" (a string).",
        ),
        ({"action": "list", "limit": 999}, "Argument 'limit' must be at most 250, got 999."),
        (
            {"action": "list", "kind": "medium"},
            "Argument 'kind' must be one of small, large; got 'medium'.",
        ),
        (
            {"action": "frobnicate"},
            f"Unknown action 'frobnicate' for manage_widgets; use one of: {ACTIONS}.",
        ),
        ({"action": 42}, f"Argument 'action' must be a string, one of: {ACTIONS}; got 42."),
        ({}, f"Missing required argument 'action' for manage_widgets; one of: {ACTIONS}."),
        (None, "Missing required argument 'action'"),
        (
            {"action": "get"},
            "Missing required argument 'widget_id' for manage_widgets action 'get' "
            "(widget_id: Widget id.).",
        ),
        (
            {"action": "list", "widget_id": "1"},
            "Unknown argument 'widget_id' for manage_widgets action 'list'",
        ),
    ],
)
async def test_bad_arguments_are_is_error_and_server_survives(mode, args, expected):
    from mcp import Client

    async with Client(make_server(), mode=mode) as client:
        res = await client.call_tool("manage_widgets", args)
        assert res.is_error, res
        assert expected in text_of(res)
        ok = await client.call_tool("manage_gadgets", {"action": "list"})
        assert not ok.is_error


async def test_ctk_errors_and_crashes_become_is_error(mode, caplog):
    from mcp import Client

    async with Client(make_server(), mode=mode) as client:
        res = await client.call_tool("manage_widgets", {"action": "get", "widget_id": "9"})
        assert res.is_error
        assert text_of(res) == "Widget 9 not found. List widgets with action=list."
        res = await client.call_tool("manage_widgets", {"action": "bump"})
        assert res.is_error
        assert "Retry with version=8." in text_of(res)
        res = await client.call_tool("manage_widgets", {"action": "boom"})
        assert res.is_error
        msg = text_of(res)
        assert msg.startswith("Internal error in manage_widgets.boom: RuntimeError: kaboom.")
        assert "\n" not in msg
        assert "second line" not in msg
        # and the server still answers
        res = await client.call_tool("manage_gadgets", {"action": "list"})
        assert not res.is_error
    assert "kaboom" in caplog.text  # the traceback went to the log (stderr), not the client


async def test_truncation_through_the_server(mode, tmp_path):
    from mcp import Client

    env = {"CTK_MAX_RESPONSE_BYTES": "3000", "CTK_LOG_DIR": str(tmp_path / "logs")}
    async with Client(make_server(env), mode=mode) as client:
        res = await client.call_tool("manage_widgets", {"action": "big", "n": 1000})
        assert not res.is_error
        text = text_of(res)
        assert len(text.encode()) <= 3000
        data = json.loads(text)
        assert res.structured_content == data
        kept = len(data["results"])
        assert data["truncated"]["cut"] == [f"results: kept {kept} of 1000 items"]
        saved = data["truncated"]["full_result"]
        assert os.path.dirname(saved) == str(tmp_path / "logs")
        assert os.stat(saved).st_mode & 0o777 == 0o600
        with open(saved) as fh:
            assert len(json.load(fh)["results"]) == 1000


async def test_no_auth_serves_tools_but_answers_how_to_authenticate(mode):
    from mcp import Client

    CALLS.clear()
    async with Client(make_server(no_auth=True), mode=mode) as client:
        tools = (await client.list_tools()).tools
        assert {t.name for t in tools} == {"manage_widgets", "manage_gadgets"}
        res = await client.call_tool("manage_gadgets", {"action": "list"})
        assert res.is_error
        assert "ctk auth" in text_of(res)
        assert "CONFLUENCE_API_TOKEN" in text_of(res)
        assert "--no-auth" in text_of(res)
        # policies still apply first
        res = await client.call_tool("manage_widgets", {"action": "create", "name": "x"})
        assert text_of(res) == WRITES_DISABLED_MESSAGE
    assert CALLS == []


async def test_unknown_method_is_a_protocol_error_not_a_crash(mode):
    from mcp import Client, MCPError

    async with Client(make_server(), mode=mode) as client:
        with pytest.raises(MCPError):
            await client.list_prompts()
        assert (await client.list_tools()).tools


async def test_progress_reaches_the_caller(mode):
    from mcp import Client

    seen = []

    async def on_progress(progress, total, message):
        seen.append((progress, total, message))

    async with Client(make_server(), mode=mode) as client:
        res = await client.call_tool(
            "manage_widgets", {"action": "slow"}, progress_callback=on_progress
        )
        assert res.structured_content == {"done": 3}
        # without a callback the same call works and sends nothing
        assert not (await client.call_tool("manage_widgets", {"action": "slow"})).is_error
    assert seen[0] == (0.0, 3.0, "Copying")
    assert (3.0, 3.0, "almost there") in seen
    assert seen[-1] == (3.0, 3.0, "Copying")
