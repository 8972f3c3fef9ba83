"""The security policy, value by value, and its hints over the catalog."""

from __future__ import annotations

import pytest

from ctk_core.errors import PolicyError
from ctk_core.plugin import Operation, Resource
from ctk_core.policy import WRITES_DISABLED_MESSAGE, Policy
from ctk_core.registry import load_catalog


def _run(ctx, **kw):
    return kw


READ = Operation("get", "Get.", _run, idempotent=True)
LIST = Operation("list", "List.", _run, paged=True)
CREATE = Operation("create", "Create.", _run, write=True)
UPDATE = Operation("update", "Update.", _run, write=True, destructive=True, idempotent=True)
DELETE = Operation("delete", "Delete.", _run, write=True, destructive=True, idempotent=True)
THINGS = Resource("things", "Things.", [READ, LIST, CREATE, UPDATE, DELETE])


@pytest.mark.parametrize("value", ["true", "TRUE", "True", "1", "yes", "YES", "on", "On", " true "])
def test_writes_on(value):
    policy = Policy.from_environ({"CTK_ENABLE_WRITES": value}, known_tools=[])
    assert policy.writes_enabled
    assert policy.warnings == []


@pytest.mark.parametrize("value", ["false", "FALSE", "0", "no", "No", "off", "OFF", ""])
def test_writes_off_quietly(value):
    policy = Policy.from_environ({"CTK_ENABLE_WRITES": value}, known_tools=[])
    assert not policy.writes_enabled
    assert policy.warnings == []


def test_writes_off_when_unset():
    policy = Policy.from_environ({}, known_tools=[])
    assert not policy.writes_enabled
    assert policy.warnings == []
    assert not policy.disabled_tools


@pytest.mark.parametrize("value", ["enable", "2", "y", "truee", "-1", "enabled"])
def test_other_values_mean_off_with_one_warning(value):
    policy = Policy.from_environ({"CTK_ENABLE_WRITES": value}, known_tools=[])
    assert not policy.writes_enabled
    assert len(policy.warnings) == 1
    assert repr(value) in policy.warnings[0]
    assert "CTK_ENABLE_WRITES" in policy.warnings[0]


def test_disabled_tools_are_trimmed_and_unknown_names_warn():
    policy = Policy.from_environ(
        {"CTK_DISABLED_TOOLS": " manage_things , manage_thigns,,manage_users "},
        known_tools=["manage_things", "manage_users"],
    )
    assert policy.disabled_tools == {"manage_things", "manage_thigns", "manage_users"}
    assert len(policy.warnings) == 1
    assert "'manage_thigns'" in policy.warnings[0]
    assert "typo" in policy.warnings[0]


def test_unknown_tool_names_checked_against_the_catalog_by_default():
    policy = Policy.from_environ({"CTK_DISABLED_TOOLS": "manage_spaces,manage_nope"})
    assert [w for w in policy.warnings if "manage_nope" in w]
    assert not [w for w in policy.warnings if "'manage_spaces'" in w]


def test_writes_off_hides_write_operations_and_refuses_them_first():
    policy = Policy.from_environ({}, known_tools=["manage_things"])
    assert policy.enabled_operations(THINGS) == [READ, LIST]
    assert policy.hidden_operations(THINGS) == [CREATE, UPDATE, DELETE]
    for op in (CREATE, UPDATE, DELETE):
        with pytest.raises(PolicyError) as info:
            policy.check(THINGS, op)
        assert str(info.value) == WRITES_DISABLED_MESSAGE
        assert info.value.exit_code == 4
    policy.check(THINGS, READ)


def test_writes_on_offers_everything():
    policy = Policy.from_environ({"CTK_ENABLE_WRITES": "true"}, known_tools=[])
    assert policy.enabled_operations(THINGS) == THINGS.operations
    for op in THINGS.operations:
        policy.check(THINGS, op)


def test_disabled_tool_is_refused_even_for_reads():
    policy = Policy.from_environ(
        {"CTK_DISABLED_TOOLS": "manage_things", "CTK_ENABLE_WRITES": "1"},
        known_tools=["manage_things"],
    )
    assert not policy.tool_enabled(THINGS)
    with pytest.raises(PolicyError, match="manage_things tool is disabled by CTK_DISABLED_TOOLS"):
        policy.check(THINGS, READ)


def test_message_is_the_shared_one():
    assert (
        WRITES_DISABLED_MESSAGE == "Writes are disabled: set CTK_ENABLE_WRITES=true to enable them."
    )


@pytest.mark.parametrize(
    ("ops", "writes", "expected"),
    [
        ([READ, LIST], False, (True, False, True)),
        ([READ, LIST], True, (True, False, True)),
        ([READ, CREATE], False, (True, False, True)),
        ([READ, CREATE], True, (False, False, False)),
        ([READ, UPDATE], True, (False, True, True)),
        ([READ, CREATE, DELETE], True, (False, True, False)),
        ([READ, DELETE], False, (True, False, True)),
    ],
)
def test_annotations_follow_enabled_operations(ops, writes, expected):
    policy = Policy(writes_enabled=writes)
    hints = policy.annotations(Resource("things", "T.", ops))
    assert set(hints) == {"readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"}
    assert all(isinstance(v, bool) for v in hints.values())
    assert (hints["readOnlyHint"], hints["destructiveHint"], hints["idempotentHint"]) == expected
    assert hints["openWorldHint"] is True


def _catalog_cases():
    return [(r, w) for r in load_catalog().resources for w in (False, True)]


@pytest.mark.parametrize(
    ("resource", "writes"), _catalog_cases(), ids=lambda v: getattr(v, "name", str(v))
)
def test_every_catalog_resource_under_both_settings(resource, writes):
    policy = Policy(writes_enabled=writes)
    enabled = policy.enabled_operations(resource)
    hints = policy.annotations(resource)
    if not writes:
        assert not [op for op in enabled if op.write]
        assert hints["readOnlyHint"]
        assert not hints["destructiveHint"]
        for op in resource.operations:
            if op.write:
                with pytest.raises(PolicyError, match="CTK_ENABLE_WRITES=true"):
                    policy.check(resource, op)
    else:
        assert enabled == list(resource.operations)
        assert hints["readOnlyHint"] == (not any(op.write for op in resource.operations))
        assert hints["destructiveHint"] == any(op.destructive for op in resource.operations)


def test_disabled_tools_match_without_regard_to_case(ctk_mcp, ctk_cli):
    policy = Policy.from_environ(
        {"CTK_DISABLED_TOOLS": "MANAGE_THINGS, Manage_Nope"}, known_tools=["manage_things"]
    )
    assert not policy.tool_enabled(THINGS)
    assert len(policy.warnings) == 1
    assert "'manage_nope'" in policy.warnings[0]
    env = {"CTK_DISABLED_TOOLS": "MANAGE_ATTACHMENTS"}
    assert "manage_attachments" not in ctk_mcp(env).tool_names()
    refused = ctk_cli("attachments", "list", "1", env=env)
    assert refused.exit_code == 4
    assert "warning" not in refused.stderr
