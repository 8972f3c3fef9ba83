"""The MCP front end with the real plugins against the sandbox, through the ``ctk_mcp`` fixture.

Policy tests are generated from the loaded catalog, so every plugin that registers is covered.
"""

from __future__ import annotations

import json
import os
import re

import pytest

from ctk_core import mcp_server
from ctk_core.policy import WRITES_DISABLED_MESSAGE, Policy
from ctk_core.registry import load_catalog

CATALOG = load_catalog(reload=True)
RESOURCES = CATALOG.resources
WRITE_OPS = [(r, op) for r in RESOURCES for op in r.operations if op.write]


def action_lines(description: str) -> list[str]:
    """The ``action(args): summary`` lines of a tool description."""
    return [line for line in description.splitlines() if re.match(r"[a-z0-9_]+\(", line)]


@pytest.fixture(params=["auto", "legacy"])
def mode(request):
    return request.param


def test_read_calls_against_the_sandbox(ctk_mcp, mode, confluence_sandbox):
    mcp = ctk_mcp(mode=mode)
    data = mcp.call_json("manage_spaces", {"action": "list", "limit": 10})
    keys = [s["key"] for s in data["results"]]
    assert "DEMO" in keys
    assert "next_cursor" in data
    demo = mcp.call_json("manage_spaces", {"action": "get", "space_id": "DEMO"})
    assert demo["id"] == confluence_sandbox.space_id("DEMO")
    me = mcp.call_json("manage_users", {"action": "get_current"})
    assert me["account_id"] == confluence_sandbox.state.current_user
    # the text block is the same data as compact JSON
    result = mcp.call("manage_spaces", {"action": "get", "space_id": "DEMO"})
    text = mcp.text(result)
    assert text == json.dumps(result.structured_content, separators=(",", ":"), ensure_ascii=False)


def test_confluence_errors_are_actionable(ctk_mcp, mode):
    mcp = ctk_mcp(mode=mode)
    msg = mcp.error("manage_spaces", {"action": "get", "space_id": "NOPE"})
    assert "NOPE" in msg
    assert "manage_spaces action 'list'" in msg
    assert "ctk " not in msg
    msg = mcp.error("manage_spaces", {"action": "list", "limit": 0})
    assert "'limit'" in msg
    msg = mcp.error("manage_spaces", {"action": "list", "type": "weird"})
    assert "'type'" in msg
    msg = mcp.error("manage_users", {"action": "get"})
    assert "'account_id'" in msg
    # and the session still works
    assert mcp.call_json("manage_users", {"action": "get_current"})["account_id"]


def test_bad_credentials_answer_how_to_fix(ctk_mcp):
    mcp = ctk_mcp({"CONFLUENCE_API_TOKEN": "wrong"})
    msg = mcp.error("manage_spaces", {"action": "list"})
    assert "ctk auth" in msg or "CONFLUENCE_API_TOKEN" in msg
    assert "wrong" not in msg  # the token never appears


def test_no_auth_mode(ctk_mcp):
    mcp = ctk_mcp(sandbox=False, no_auth=True)
    assert set(mcp.tool_names()) == {r.tool_name for r in RESOURCES}
    msg = mcp.error("manage_spaces", {"action": "list"})
    assert "--no-auth" in msg
    assert "ctk auth" in msg


# --- policy, generated from the catalog -------------------------------------------------------


def test_writes_off_hides_and_refuses_every_write_action(ctk_mcp, confluence_sandbox):
    before = len(confluence_sandbox.requests.entries())
    mcp = ctk_mcp({"CTK_ENABLE_WRITES": "maybe"})  # not understood: stays off
    tools = {t.name: t for t in mcp.list_tools()}
    for resource, op in WRITE_OPS:
        tool = tools.get(resource.tool_name)
        if tool is not None:
            assert op.name not in tool.input_schema["properties"]["action"]["enum"]
            assert not any(
                line.startswith(f"{op.name}(") for line in action_lines(tool.description)
            )
        args = {"action": op.name, **{p.name: "1" for p in op.all_params if p.required}}
        assert mcp.error(resource.tool_name, args) == WRITES_DISABLED_MESSAGE
    for resource in RESOURCES:
        tool = tools[resource.tool_name]
        assert tool.annotations.read_only_hint is True
        assert tool.annotations.destructive_hint is False
        assert tool.annotations.open_world_hint is True
    assert len(confluence_sandbox.requests.entries()) == before  # nothing reached Confluence
    assert "CTK_ENABLE_WRITES" in (mcp.instructions or "")


def test_writes_on_offers_every_action(ctk_mcp, mode):
    mcp = ctk_mcp({"CTK_ENABLE_WRITES": "ON"}, mode=mode)
    tools = {t.name: t for t in mcp.list_tools()}
    policy = Policy(writes_enabled=True)
    for resource in RESOURCES:
        tool = tools[resource.tool_name]
        assert tool.input_schema == mcp_server.tool_schema(resource, policy)
        assert tool.input_schema["properties"]["action"]["enum"] == [
            op.name for op in resource.operations
        ]
        assert len(action_lines(tool.description)) == len(resource.operations)
        expected = policy.annotations(resource)
        ann = tool.annotations
        assert (
            ann.read_only_hint,
            ann.destructive_hint,
            ann.idempotent_hint,
            ann.open_world_hint,
        ) == (
            expected["readOnlyHint"],
            expected["destructiveHint"],
            expected["idempotentHint"],
            expected["openWorldHint"],
        )


def test_write_through_mcp_when_enabled(ctk_mcp, confluence_sandbox):
    mcp = ctk_mcp({"CTK_ENABLE_WRITES": "true"})
    made = mcp.call_json("manage_spaces", {"action": "create", "key": "MCPX", "name": "From MCP"})
    assert made["key"] == "MCPX"
    assert confluence_sandbox.state.space_by_key("MCPX")["name"] == "From MCP"


@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: r.tool_name)
def test_disabled_tool_is_absent(ctk_mcp, resource):
    mcp = ctk_mcp({"CTK_DISABLED_TOOLS": f"{resource.tool_name}, manage_typo"})
    names = mcp.tool_names()
    assert resource.tool_name not in names
    assert names == [r.tool_name for r in RESOURCES if r is not resource]
    read = next(op for op in resource.operations if not op.write)
    msg = mcp.error(resource.tool_name, {"action": read.name})
    assert "CTK_DISABLED_TOOLS" in msg


def test_instructions_say_only_the_served_tools_conventions(ctk_mcp):
    everything = ctk_mcp(sandbox=False, no_auth=True).instructions
    assert everything.startswith(mcp_server.SHARED_INSTRUCTIONS)
    declared = [line for r in RESOURCES for line in r.instructions.splitlines() if line]
    assert declared
    for line in declared:
        assert everything.count(line) == 1, line
    assert "download" in everything
    without = ctk_mcp(
        {"CTK_DISABLED_TOOLS": "manage_attachments"}, sandbox=False, no_auth=True
    ).instructions
    assert "download" not in without.lower()
    assert "space_id" in without


@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: r.tool_name)
def test_a_disabled_tools_own_lines_leave_the_instructions(resource):
    policy = Policy(disabled_tools=frozenset({resource.tool_name}))
    served = mcp_server.enabled_resources(CATALOG, policy)
    text = mcp_server.server_instructions(served, policy)
    others = {line for r in served for line in r.instructions.splitlines()}
    for line in resource.instructions.splitlines():
        assert (line in text) == (line in others), line


def test_every_schema_is_valid_and_every_action_documented():
    import jsonschema

    for writes in (False, True):
        policy = Policy(writes_enabled=writes)
        for entry in mcp_server.tools_payload(CATALOG, policy):
            jsonschema.Draft202012Validator.check_schema(entry["inputSchema"])
            assert entry["inputSchema"]["type"] == "object"
            assert re.fullmatch(r"[a-z0-9_]{1,64}", entry["name"])


# --- the response cap with real data ----------------------------------------------------------


def test_truncated_list_is_valid_json_with_saved_file(ctk_mcp, confluence_sandbox, tmp_path):
    state = confluence_sandbox.state
    with state.lock:
        for i in range(40):
            state.create_space(f"BULK{i}", f"Bulk space {i}", description="x" * 200)
    logs = tmp_path / "mcp-logs"
    mcp = ctk_mcp({"CTK_MAX_RESPONSE_BYTES": "2500", "CTK_LOG_DIR": str(logs)})
    result = mcp.call("manage_spaces", {"action": "list", "limit": 50})
    assert not result.is_error
    text = mcp.text(result)
    assert len(text.encode()) <= 2500
    data = json.loads(text)
    assert data == result.structured_content
    note = data["truncated"]
    kept = len(data["results"])
    assert note["cut"] == [f"results: kept {kept} of 42 items"]
    assert os.path.dirname(note["full_result"]) == str(logs)
    with open(note["full_result"], encoding="utf-8") as fh:
        full = json.load(fh)
    assert len(full["results"]) == 42
    assert full["results"][:kept] == data["results"]
