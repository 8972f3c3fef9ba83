"""dispatch.invoke: policy first, then every argument check, then the handler."""

from __future__ import annotations

import pytest

from ctk_core import dispatch
from ctk_core.context import Context
from ctk_core.errors import PolicyError, UsageError
from ctk_core.plugin import Operation, Param, Resource
from ctk_core.policy import WRITES_DISABLED_MESSAGE, Policy

CALLS: list[dict] = []


def _record(ctx, **kw):
    CALLS.append(kw)
    return kw


SEARCH = Operation(
    "search",
    "Search.",
    _record,
    paged=True,
    params=[
        Param("query", "str", "Text.", required=True, positional=True),
        Param("kind", "str", "Kind.", choices=("page", "folder"), default="page"),
        Param("labels", "list", "Labels.", choices=("a", "b", "c")),
        Param("ids", "list", "Ids."),
        Param("depth", "int", "Depth.", minimum=1, maximum=5),
        Param("ratio", "float", "Ratio."),
        Param("exact", "bool", "Exact.", default=False),
    ],
)
CREATE = Operation(
    "create",
    "Create.",
    _record,
    write=True,
    params=[Param("title", "str", "Title.", required=True)],
)
THINGS = Resource("things", "Things.", [SEARCH, CREATE])
READS = Policy()
WRITES = Policy(writes_enabled=True)


@pytest.fixture(autouse=True)
def _clear():
    CALLS.clear()


def call(op, args, policy=READS):
    return dispatch.invoke(Context(), THINGS, op, args, policy)


def test_defaults_are_filled_and_every_param_is_passed():
    result = call("search", {"query": "x"})
    assert result == {
        "query": "x",
        "kind": "page",
        "labels": None,
        "ids": None,
        "depth": None,
        "ratio": None,
        "exact": False,
        "limit": 25,
        "cursor": None,
    }


def test_coercion_of_strings_from_any_front_end():
    result = call(
        SEARCH,
        {
            "query": 12,
            "depth": "3",
            "ratio": "0.5",
            "exact": "yes",
            "labels": "a, b",
            "ids": ["1,2", 3],
            "limit": 10.0,
        },
    )
    assert result["query"] == "12"
    assert result["depth"] == 3
    assert result["ratio"] == 0.5
    assert result["exact"] is True
    assert result["labels"] == ["a", "b"]
    assert result["ids"] == ["1", "2", "3"]
    assert result["limit"] == 10
    assert isinstance(result["limit"], int)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ({}, "Missing required argument 'query'"),
        ({"query": "  "}, "'query' must not be empty"),
        ({"query": "x", "nope": 1}, "Unknown argument 'nope'"),
        ({"query": "x", "kind": "blog"}, "'kind' must be one of page, folder; got 'blog'"),
        ({"query": "x", "labels": ["a", "z"]}, "'labels' must be one of a, b, c; got 'z'"),
        ({"query": "x", "depth": "deep"}, "'depth' must be an integer, got 'deep'"),
        ({"query": "x", "depth": 2.5}, "'depth' must be an integer"),
        ({"query": "x", "depth": True}, "'depth' must be an integer"),
        ({"query": "x", "depth": 0}, "'depth' must be at least 1, got 0"),
        ({"query": "x", "depth": 6}, "'depth' must be at most 5, got 6"),
        ({"query": "x", "limit": 251}, "'limit' must be at most 250"),
        ({"query": "x", "ratio": "lots"}, "'ratio' must be a number"),
        ({"query": "x", "ratio": float("nan")}, "'ratio' must be a number"),
        ({"query": "x", "exact": "perhaps"}, "'exact' must be true or false"),
        ({"query": "x", "exact": 1}, "'exact' must be true or false"),
        ({"query": ["x"]}, "'query' must be a string"),
        ({"query": True}, "'query' must be a string"),
        ({"query": "x", "ids": {"a": 1}}, "'ids' must be a list of strings"),
        ({"query": "x", "ids": [None]}, "'ids' must be a list of strings"),
    ],
)
def test_bad_arguments_are_usage_errors_naming_the_argument(args, fragment):
    with pytest.raises(UsageError) as info:
        call("search", args)
    assert fragment in str(info.value)
    assert info.value.exit_code == 2
    assert CALLS == []


def test_policy_is_checked_before_arguments():
    with pytest.raises(PolicyError) as info:
        call("create", {"bogus": object()})
    assert str(info.value) == WRITES_DISABLED_MESSAGE
    assert CALLS == []


def test_writes_run_when_enabled():
    assert call("create", {"title": "T"}, WRITES) == {"title": "T"}


def test_disabled_tool_refuses_reads():
    policy = Policy(disabled_tools=frozenset({"manage_things"}))
    with pytest.raises(PolicyError, match="CTK_DISABLED_TOOLS"):
        call("search", {"query": "x"}, policy)


def test_unknown_operation_name():
    with pytest.raises(KeyError):
        call("explode", {})


@pytest.mark.parametrize(
    ("text", "items"), [("a,b", ["a", "b"]), (" a , ,b ", ["a", "b"]), ("", []), ("one", ["one"])]
)
def test_split_list(text, items):
    assert dispatch.split_list(text) == items


@pytest.mark.parametrize("value", ["", " , "])
def test_an_empty_list_value_is_not_a_choice(ctk_cli, value):
    result = ctk_cli("pages", "list", "--space", "DEMO", "--status", value)
    assert result.exit_code == 2, result
    assert "one or more of current" in result.stderr
    assert result.stdout == ""


VERBOSE_PLUGIN = """
from ctk_core import Context, Operation, Param, Resource, hookimpl

def go(ctx: Context, name, verbose=False, depth=3):
    return {"name": name, "verbose": verbose, "depth": depth}

@hookimpl
def ctk_register_resources(register):
    register(Resource("gadgets", "Gadgets.", [
        Operation("go", "Go.", go, params=[
            Param("name", required=True, positional=True),
            Param("verbose", "bool", "Say more.", default=False, cli_only=True),
            Param("depth", "int", "How deep.", default=3, cli_only=True),
        ]),
    ]))
"""


def test_cli_only_parameters_with_defaults(plugins, ctk_cli, ctk_mcp):
    from ctk_core.registry import load_catalog

    plugins.install("gadgets", VERBOSE_PLUGIN, dist="ctk-gadgets")
    load_catalog(reload=True)
    session = ctk_mcp()
    assert "verbose" not in session.tool("manage_gadgets").input_schema["properties"]
    answer = session.call_json("manage_gadgets", {"action": "go", "name": "x"})
    assert answer == {"name": "x", "verbose": False, "depth": 3}
    refused = session.error("manage_gadgets", {"action": "go", "name": "x", "verbose": True})
    assert "Unknown argument 'verbose'" in refused
    result = ctk_cli("--json", "gadgets", "go", "x", "--verbose", "--depth", "5")
    assert result.exit_code == 0, result.stderr
    assert result.json() == {"name": "x", "verbose": True, "depth": 5}
