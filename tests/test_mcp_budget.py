"""The tools/list answer stays small and says only what is enabled.

The size is measured the way bench/run.py reports it (compact JSON of ``{"tools": [...]}``); the
budget is 9 KB with writes off (docs/architecture.md, "Performance budget"). bench/run.py prints
the figure for the real server.
"""

from __future__ import annotations

import json
import re

import pytest

from ctk_core import mcp_server
from ctk_core.plugin import Operation, Resource
from ctk_core.policy import Policy
from ctk_core.registry import load_catalog

BUDGET_BYTES = 9216  # docs/architecture.md, Performance budget: writes off, all 9 tools
INSTRUCTIONS_BUDGET_BYTES = 900  # sent once per session; about 750 B today (docs/mcp.md)
OFF, ON = Policy(writes_enabled=False), Policy(writes_enabled=True)
CATALOG = load_catalog(reload=True)


def _size(policy: Policy) -> int:
    payload = mcp_server.tools_payload(CATALOG, policy)
    return len(json.dumps({"tools": payload}, separators=(",", ":")))


def named_write_actions(resource: Resource, text: str) -> list[str]:
    """The resource's write actions whose name appears in ``text`` as a word."""
    return [
        op.name
        for op in resource.operations
        if op.write and re.search(rf"(?<![\w-]){re.escape(op.name)}(?![\w-])", text)
    ]


def _noop(ctx, **kw):
    return kw


def test_the_check_finds_a_named_write_action():
    res = Resource(
        name="notes",
        summary="Notes",
        description="List notes; delete old ones.",
        operations=[
            Operation("list", "List notes.", _noop),
            Operation("delete", "Delete a note.", _noop, write=True, destructive=True),
            Operation("add", "Add a note.", _noop, write=True),
        ],
    )
    assert named_write_actions(res, mcp_server.tool_description(res, OFF)) == ["delete"]
    assert named_write_actions(res, "undeleted, address, add_more, created-date") == []


@pytest.mark.parametrize("resource", CATALOG.resources, ids=lambda r: r.tool_name)
def test_no_write_action_named_when_writes_are_off(resource):
    text = mcp_server.tool_description(resource, OFF) + "\n" + mcp_server.tool_title(resource)
    assert named_write_actions(resource, text) == [], (
        f"{resource.tool_name}'s description names write actions with writes off: put write "
        "guidance in the write operations' summaries, not in Resource.description"
    )


@pytest.mark.parametrize("resource", CATALOG.resources, ids=lambda r: r.tool_name)
def test_every_enabled_action_listed_with_its_required_arguments(resource):
    for policy in (OFF, ON):
        lines = mcp_server.tool_description(resource, policy).splitlines()
        schema = mcp_server.tool_schema(resource, policy)
        for op in policy.enabled_operations(resource):
            line = next((x for x in lines if x.startswith(f"{op.name}(")), None)
            assert line is not None, op.name
            shown = line[len(op.name) + 1 : line.index(")")].split(",")
            for param in op.all_params:
                if param.cli_only:
                    assert param.name not in schema["properties"], (op.name, param.name)
                    continue
                assert param.name in schema["properties"], (op.name, param.name)
                if param.required:
                    assert param.name in shown, (op.name, param.name)
                if param.choices:
                    prop = schema["properties"][param.name]
                    assert "enum" in prop or "enum" in prop.get("items", {}), param.name


def test_tools_list_within_budget():
    size = _size(OFF)
    assert size <= BUDGET_BYTES, (
        f"tools/list with writes off is {size} bytes, over the {BUDGET_BYTES}-byte budget "
        "(docs/architecture.md, Performance budget): shorten descriptions, summaries or "
        "parameter help"
    )
    assert _size(ON) > size  # the write actions do add to it when enabled


def test_instructions_within_budget():
    for policy in (OFF, ON):
        text = mcp_server.server_instructions(mcp_server.enabled_resources(CATALOG, policy), policy)
        size = len(text.encode("utf-8"))
        assert size <= INSTRUCTIONS_BUDGET_BYTES, (
            f"the server instructions are {size} bytes, over {INSTRUCTIONS_BUDGET_BYTES}: keep "
            "the shared conventions and each Resource.instructions terse"
        )
