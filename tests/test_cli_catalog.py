"""Generic tests over the whole catalog: every operation of every loaded plugin.

- the CLI command and the MCP action take the same parameters (names, types, defaults, choices,
  bounds, required, help);
- with writes off, every write command is hidden from help (with the footer) and refused with
  exit code 4 and the policy message before any argument check; with writes on, it is offered;
- every command's --help works.
"""

from __future__ import annotations

import click
import pytest

from ctk_core.cli import ListType, build_resource_group
from ctk_core.mcp_server import param_schema, tool_description, tool_schema
from ctk_core.plugin import CURSOR, LIMIT
from ctk_core.policy import WRITES_DISABLED_MESSAGE, Policy
from ctk_core.registry import load_catalog
from ctk_core.testing import CtkCli

#: CLI-only conveniences (--all, --json, --yes, --body-file...) are named ctk_*.
CLI_ONLY_PREFIX = "ctk_"
WRITES_ON = Policy(writes_enabled=True)
WRITES_OFF = Policy()


def _operations():
    return [(r, op) for r in load_catalog().resources for op in r.operations]


def _id(value):
    return getattr(value, "name", None)


OPERATIONS = _operations()
WRITE_OPERATIONS = [(r, op) for r, op in OPERATIONS if op.write]


@pytest.fixture
def cli(tmp_path):
    return CtkCli(None, str(tmp_path / "config"))


def test_the_catalog_has_the_builtins():
    names = {r.name for r in load_catalog().resources}
    assert {"spaces", "users"} <= names
    assert WRITE_OPERATIONS, "at least one write operation to test the policy with"


def _json_type(click_param: click.Parameter) -> str:
    if isinstance(click_param.type, ListType):
        return "array"
    if getattr(click_param, "is_bool_flag", False):
        return "boolean"
    kind = click_param.type
    if isinstance(kind, (click.IntRange,)) or kind is click.INT:
        return "integer"
    if isinstance(kind, click.FloatRange) or kind is click.FLOAT:
        return "number"
    return "string"


def _choices(click_param: click.Parameter):
    kind = click_param.type
    if isinstance(kind, ListType):
        return list(kind.choices) if kind.choices else None
    if isinstance(kind, click.Choice):
        return list(kind.choices)
    return None


@pytest.mark.parametrize(("resource", "op"), OPERATIONS, ids=_id)
def test_cli_and_mcp_parity(resource, op):
    group = build_resource_group(resource, WRITES_ON)
    command = group.commands[op.cli_name]
    cli_params = {
        p.name: p
        for p in command.params
        if p.name != "help" and not p.name.startswith(CLI_ONLY_PREFIX)
    }
    declared = {p.name: p for p in op.all_params}
    assert set(cli_params) == set(declared)
    cli_flags = {flag for p in command.params for flag in getattr(p, "opts", [])}

    schema = tool_schema(resource, WRITES_ON)
    assert op.name in schema["properties"]["action"]["enum"]
    description = tool_description(resource, WRITES_ON)
    signature = next(line for line in description.splitlines() if line.startswith(f"{op.name}("))
    mcp_names = signature[len(f"{op.name}(") : signature.index(")")].split(",")
    # the signature shows the required and the positional parameters; the schema has them all
    assert [n.rstrip("?") for n in mcp_names if n] == [
        p.name for p in op.all_params if p.required or p.positional
    ]

    for name, param in declared.items():
        cp = cli_params[name]
        mcp = param_schema(param)
        assert (name in schema["properties"]) == (not param.cli_only), name
        where = f"{resource.name}.{op.name}.{name}"
        # type
        assert _json_type(cp) == mcp["type"], where
        # required (MCP marks optional parameters with '?'); a required text that the CLI can
        # also read from a file is checked by dispatch, not by Click
        assert cp.required == (param.required and not param.from_file), where
        if param.from_file:
            assert param.cli_file_flag in cli_flags, where
        assert (name in mcp_names) == param.required, where
        # default
        cli_default = (
            cp.default
            if cp.default not in ((), []) and getattr(cp.default, "name", None) != "UNSET"
            else None
        )
        if isinstance(cli_default, tuple):
            cli_default = list(cli_default)
        assert cli_default == mcp.get("default"), where
        # choices
        mcp_choices = mcp.get("enum") or mcp.get("items", {}).get("enum")
        assert _choices(cp) == mcp_choices, where
        # bounds
        if isinstance(cp.type, (click.IntRange, click.FloatRange)):
            assert (cp.type.min, cp.type.max) == (mcp.get("minimum"), mcp.get("maximum")), where
        else:
            assert "minimum" not in mcp, where
            assert "maximum" not in mcp, where
        # help: the option's help is the declared help; MCP carries it except for limit/cursor,
        # which the server instructions explain once
        if isinstance(cp, click.Option):
            assert (cp.help or "").startswith(param.help), where
        else:
            assert param.help in command.help, where
        if param in (LIMIT, CURSOR):
            assert "description" not in mcp
        elif param.help:
            assert mcp["description"] == param.help, where


@pytest.mark.parametrize(("resource", "op"), OPERATIONS, ids=_id)
def test_every_operation_help_works(cli, resource, op):
    group_name = resource.name.replace("_", "-")
    result = cli(group_name, op.cli_name, "--help", env={"CTK_ENABLE_WRITES": "true"})
    assert result.exit_code == 0, result
    flat = " ".join(result.stdout.split())
    assert " ".join(op.summary.split()) in flat
    assert f"action {op.name}" in flat


@pytest.mark.parametrize("resource", load_catalog().resources, ids=_id)
def test_every_resource_help_lists_its_commands(cli, resource):
    group_name = resource.name.replace("_", "-")
    off = cli(group_name, "--help")
    on = cli(group_name, "--help", env={"CTK_ENABLE_WRITES": "yes"})
    assert off.exit_code == on.exit_code == 0
    listed_off = _listed_commands(off.stdout)
    listed_on = _listed_commands(on.stdout)
    assert listed_on == [op.cli_name for op in resource.operations]
    assert listed_off == [op.cli_name for op in resource.operations if not op.write]
    writes = [op.cli_name for op in resource.operations if op.write]
    footer = f"Write commands hidden ({', '.join(writes)})"
    if writes:
        assert footer in " ".join(off.stdout.split())
        assert "CTK_ENABLE_WRITES=true" in off.stdout
    assert "Write commands hidden" not in on.stdout


def _listed_commands(help_text: str) -> list[str]:
    lines = help_text.split("Commands:\n", 1)[1].splitlines()
    names = []
    for line in lines:
        if not line.startswith("  ") or line.startswith("   "):
            if line.strip() == "":
                break
            continue
        names.append(line.split()[0])
    return names


@pytest.mark.parametrize(("resource", "op"), WRITE_OPERATIONS, ids=_id)
def test_write_refused_before_any_argument_check(cli, resource, op):
    group_name = resource.name.replace("_", "-")
    for args in ([], ["--no-such-option", "x", "y", "z"]):
        result = cli(group_name, op.cli_name, *args)
        assert result.exit_code == 4, result
        assert result.stderr == f"Error: {WRITES_DISABLED_MESSAGE}\n"
        assert result.stdout == ""
    for value in ("false", "0", "off", "maybe"):
        result = cli(group_name, op.cli_name, env={"CTK_ENABLE_WRITES": value})
        assert result.exit_code == 4, result


@pytest.mark.parametrize(("resource", "op"), WRITE_OPERATIONS, ids=_id)
def test_write_absent_from_mcp_tool_when_off(resource, op):
    schema = tool_schema(resource, WRITES_OFF)
    assert op.name not in schema["properties"]["action"]["enum"]
    assert f"\n{op.name}(" not in "\n" + tool_description(resource, WRITES_OFF)
    assert WRITES_OFF.annotations(resource)["readOnlyHint"] is True


@pytest.mark.parametrize(("resource", "op"), WRITE_OPERATIONS, ids=_id)
def test_write_offered_when_on(cli, resource, op):
    group_name = resource.name.replace("_", "-")
    result = cli(group_name, op.cli_name, env={"CTK_ENABLE_WRITES": "on"})
    # Past the policy: what remains is Click's own argument check (or a missing-credentials
    # error for commands without required arguments), never the policy refusal.
    assert result.exit_code != 4, result
    assert WRITES_DISABLED_MESSAGE not in result.stderr


def test_root_help_footer_only_when_writes_are_off(cli):
    off = cli("--help")
    on = cli("--help", env={"CTK_ENABLE_WRITES": "true"})
    assert "Write commands are hidden" in off.stdout
    assert "CTK_ENABLE_WRITES=true" in off.stdout
    assert "Write commands are hidden" not in on.stdout
    for resource in load_catalog().resources:
        assert f"  {resource.name.replace('_', '-')} " in off.stdout
