"""Tool schemas, descriptions and annotations generated from declarations (no server, no SDK)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import jsonschema
import pytest

from ctk_core import mcp_server
from ctk_core.errors import UsageError
from ctk_core.plugin import Operation, Param, Resource
from ctk_core.policy import Policy


def _noop(ctx, **kw):
    return kw


WIDGETS = Resource(
    name="widgets",
    summary="Demo widgets",
    description="Widgets of the demo shop: list, read, create, delete.",
    operations=[
        Operation(
            "list",
            "List widgets.",
            _noop,
            paged=True,
            params=[
                Param("kind", help="Widget kind.", choices=("small", "large"), default="small"),
                Param("tags", "list", "Tags to match.", choices=("red", "blue")),
            ],
        ),
        Operation(
            "get",
            "Get one widget.",
            _noop,
            params=[
                Param("widget_id", help="Widget id.", required=True, positional=True),
                Param("verbose", "bool", "Include details.", default=False),
            ],
        ),
        Operation(
            "create",
            "Create a widget.",
            _noop,
            write=True,
            params=[
                Param("name", help="Widget name.", required=True),
                Param("count", "int", "How many.", default=1, minimum=1, maximum=10),
                Param("weight", "float", "Weight in kg."),
            ],
        ),
        Operation(
            "delete",
            "Delete a widget.",
            _noop,
            write=True,
            destructive=True,
            idempotent=True,
            params=[
                Param("widget_id", help="Widget id.", required=True, positional=True),
            ],
        ),
    ],
)

GADGETS = Resource(
    name="gadgets",
    summary="Demo gadgets",
    tool="manage_gadgets",
    operations=[
        Operation("add", "Add a gadget.", _noop, write=True, params=[Param("name", required=True)])
    ],
)

READ = Policy(writes_enabled=False)
WRITE = Policy(writes_enabled=True)


def test_schema_shape_writes_off():
    schema = mcp_server.tool_schema(WIDGETS, READ)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["type"] == "object"
    assert schema["required"] == ["action"]
    assert schema["additionalProperties"] is False
    props = schema["properties"]
    assert props["action"] == {"type": "string", "enum": ["list", "get"]}
    # union of the read actions' params only: the write-only ones are absent
    assert set(props) == {"action", "kind", "tags", "limit", "cursor", "widget_id", "verbose"}
    assert props["kind"] == {
        "type": "string",
        "description": "Widget kind.",
        "enum": ["small", "large"],
        "default": "small",
    }
    assert props["tags"] == {
        "type": "array",
        "items": {"type": "string", "enum": ["red", "blue"]},
        "description": "Tags to match.",
    }
    # the core paging params are explained once, in the server instructions: the schema gives
    # limit only its type (the server still checks its bounds, see the argument tests)
    assert props["limit"] == {"type": "integer"}
    assert props["cursor"] == {"type": "string"}
    assert props["verbose"] == {
        "type": "boolean",
        "description": "Include details.",
        "default": False,
    }


def test_schema_writes_on_adds_write_actions_and_params():
    props = mcp_server.tool_schema(WIDGETS, WRITE)["properties"]
    assert props["action"]["enum"] == ["list", "get", "create", "delete"]
    assert props["count"] == {
        "type": "integer",
        "description": "How many.",
        "minimum": 1,
        "maximum": 10,
        "default": 1,
    }
    assert props["weight"] == {"type": "number", "description": "Weight in kg."}
    assert props["name"]["type"] == "string"


def test_shared_param_with_different_declarations_is_merged_loosely():
    res = Resource(
        name="things",
        summary="Things",
        operations=[
            Operation(
                "a",
                "A.",
                _noop,
                params=[Param("n", "int", "Count.", minimum=1, maximum=5, default=2)],
            ),
            Operation("b", "B.", _noop, params=[Param("n", "int", "Count.", minimum=0, maximum=9)]),
            Operation("c", "C.", _noop, params=[Param("mode", choices=("x",))]),
            Operation("d", "D.", _noop, params=[Param("mode", choices=("y",)), Param("v", "int")]),
            Operation("e", "E.", _noop, params=[Param("v", "str")]),
        ],
    )
    props = mcp_server.tool_schema(res, READ)["properties"]
    assert props["n"] == {"type": "integer", "description": "Count.", "minimum": 0, "maximum": 9}
    assert props["mode"]["enum"] == ["x", "y"]
    assert props["v"] == {"anyOf": [{"type": "integer"}, {"type": "string"}]}
    jsonschema.Draft202012Validator.check_schema(mcp_server.tool_schema(res, READ))


def test_description_lists_enabled_actions_compactly():
    text = mcp_server.tool_description(WIDGETS, READ)
    # required parameters and positional (main) optional ones; other optional ones and paging
    # are in the schema only
    assert text.splitlines() == [
        "Widgets of the demo shop: list, read, create, delete.",
        "list(): List widgets",
        "get(widget_id): Get one widget",
    ]
    assert "create(" not in text
    assert "delete(" not in text
    on = mcp_server.tool_description(WIDGETS, WRITE)
    assert "\ncreate(name): Create a widget [write]" in on
    assert "\ndelete(widget_id): Delete a widget [deletes]" in on
    res = Resource(
        name="docs",
        summary="Docs",
        operations=[
            Operation(
                "get",
                "Get a doc.",
                _noop,
                params=[
                    Param("doc_id", positional=True),
                    Param("title"),
                    Param("n", "int", required=True),
                ],
            )
        ],
    )
    assert mcp_server.tool_description(res, READ) == "get(doc_id?,n): Get a doc"


def test_description_does_not_fall_back_to_summary():
    # the summary may name write actions ("list, create, ..."); the title covers it
    text = mcp_server.tool_description(GADGETS, WRITE)
    assert text == "add(name): Add a gadget [write]"
    lead = Resource(
        name="notes",
        summary="Notes: list, create",
        description="Notes.\n\n  Indented.",
        operations=[Operation("list", "List notes.", _noop)],
    )
    assert mcp_server.tool_description(lead, READ) == "Notes.\nIndented.\nlist(): List notes"


def test_annotations_from_policy():
    off = mcp_server.tool_annotations(WIDGETS, READ)
    assert off == {
        "title": "Widgets",
        "readOnlyHint": True,
        "destructiveHint": False,
        "idempotentHint": True,
        "openWorldHint": True,
    }
    on = mcp_server.tool_annotations(WIDGETS, WRITE)
    assert on["readOnlyHint"] is False
    assert on["destructiveHint"] is True
    assert on["idempotentHint"] is False  # create is not idempotent
    assert set(on) == {
        "title",
        "readOnlyHint",
        "destructiveHint",
        "idempotentHint",
        "openWorldHint",
    }


def test_tools_payload_omits_disabled_and_empty_tools():
    catalog = SimpleNamespace(resources=[WIDGETS, GADGETS])
    names = [t["name"] for t in mcp_server.tools_payload(catalog, READ)]
    assert names == ["manage_widgets"]  # gadgets has only a write action
    names = [t["name"] for t in mcp_server.tools_payload(catalog, WRITE)]
    assert names == ["manage_widgets", "manage_gadgets"]
    policy = Policy(writes_enabled=True, disabled_tools=frozenset({"manage_widgets"}))
    assert [t["name"] for t in mcp_server.tools_payload(catalog, policy)] == ["manage_gadgets"]


def test_instructions_join_shared_conventions_and_the_served_resources_lines():
    def resource(name, instructions):
        ops = [Operation("list", "List.", _noop)]
        return Resource(name=name, summary=name, operations=ops, instructions=instructions)

    alpha = resource("alpha", "Alpha ids look like A-1.\n  Dates are UTC.\n")
    beta = resource("beta", "Dates are UTC.")
    quiet = resource("quiet", "")
    shared = mcp_server.SHARED_INSTRUCTIONS
    text = mcp_server.server_instructions([alpha, quiet, beta], WRITE)
    assert text.splitlines() == [shared, "Alpha ids look like A-1.", "Dates are UTC."]
    text = mcp_server.server_instructions([beta], READ)
    assert text.splitlines() == [shared, "Dates are UTC.", mcp_server.WRITES_OFF_NOTE]


def _refusal(resource, args, policy=READ):
    from ctk_core.errors import UsageError

    runner = mcp_server.ToolRunner([resource], policy, [resource], {}, context=object())
    with pytest.raises(UsageError) as info:
        runner.prepare(resource.tool_name, args)
    return str(info.value)


def test_argument_messages_name_the_argument():
    cases = {
        "bogus": ({"action": "list", "bogus": 1}, "Unknown argument 'bogus'"),
        "type": ({"action": "list", "limit": "ten"}, "Argument 'limit' must be an integer"),
        "min": ({"action": "list", "limit": 0}, "Argument 'limit' must be at least 1, got 0."),
        "enum": ({"action": "list", "kind": "huge"}, "Argument 'kind' must be one of small,"),
        "list": ({"action": "list", "tags": ["red", "pink"]}, "'tags' must be one of red, blue"),
        "action": ({"action": "frob"}, "Unknown action 'frob' for manage_widgets; use one of: "),
        "no action": ({}, "Missing required argument 'action' for manage_widgets; one of: "),
        "extra for action": (
            {"action": "list", "widget_id": "1"},
            "Unknown argument 'widget_id' for manage_widgets action 'list'; it takes: kind, tags,"
            " limit, cursor.",
        ),
        "required": (
            {"action": "get"},
            "Missing required argument 'widget_id' for manage_widgets action 'get' "
            "(widget_id: Widget id.).",
        ),
    }
    for label, (args, expected) in cases.items():
        assert expected in _refusal(WIDGETS, args), label


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("5", '"5" (a string)'),
        (True, "true (a boolean)"),
        (2.5, "2.5 (a number)"),
        ([1], "[1] (an array)"),
        ({"n": 1}, '{"n": 1} (an object)'),
    ],
)
def test_json_types_are_exact(value, shown):
    # the CLI reads "5" as 5; over MCP, JSON says what a value is, and the schema says integer
    message = _refusal(WIDGETS, {"action": "list", "limit": value})
    assert message == f"Argument 'limit' must be an integer, got {shown}."


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"action": "get", "widget_id": 7}, "Argument 'widget_id' must be a string, got 7"),
        ({"action": "get", "widget_id": "7", "verbose": "yes"}, "'verbose' must be true or false"),
        ({"action": "list", "tags": "red,blue"}, "'tags' must be a list of strings"),
        ({"action": "list", "tags": ["red", 1]}, "'tags' must be a list of strings"),
    ],
)
def test_json_types_are_exact_for_every_kind(args, expected):
    assert expected in _refusal(WIDGETS, args)


def test_every_problem_is_reported_at_once():
    message = _refusal(WIDGETS, {"action": "list", "bogus": 1, "limit": 0, "kind": "huge"})
    assert message == (
        "Unknown argument 'bogus' for manage_widgets action 'list'; it takes: kind, tags, limit, "
        "cursor. Argument 'kind' must be one of small, large; got 'huge'. "
        "Argument 'limit' must be at least 1, got 0."
    )


def test_shared_parameter_is_checked_against_the_chosen_action():
    # the schema merges a parameter several actions share (the loosest of them); the server
    # checks the chosen action's own declaration
    res = Resource(
        name="things",
        summary="Things",
        operations=[
            Operation("a", "A.", _noop, params=[Param("n", "int", minimum=1, maximum=5)]),
            Operation("b", "B.", _noop, params=[Param("n", "int", minimum=0, maximum=9)]),
            Operation("c", "C.", _noop, params=[Param("mode", choices=("x",))]),
            Operation("d", "D.", _noop, params=[Param("mode", choices=("y",)), Param("v", "int")]),
            Operation("e", "E.", _noop, params=[Param("v", "str")]),
        ],
    )
    props = mcp_server.tool_schema(res, READ)["properties"]
    assert props["n"]["maximum"] == 9
    assert "Argument 'n' must be at most 5, got 7." in _refusal(res, {"action": "a", "n": 7})
    assert "must be one of x; got 'y'" in _refusal(res, {"action": "c", "mode": "y"})
    assert "Argument 'v' must be an integer, got \"5\"" in _refusal(res, {"action": "d", "v": "5"})
    runner = mcp_server.ToolRunner([res], READ, [res], {}, context=object())
    assert runner.prepare("manage_things", {"action": "b", "n": 7})[2] == {"n": 7}
    assert runner.prepare("manage_things", {"action": "e", "v": "5"})[2] == {"v": "5"}


def test_write_refused_before_any_other_check():
    from ctk_core.errors import PolicyError
    from ctk_core.policy import WRITES_DISABLED_MESSAGE

    runner = mcp_server.ToolRunner([WIDGETS], READ, [WIDGETS], {}, context=object())
    with pytest.raises(PolicyError) as info:
        runner.prepare("manage_widgets", {"action": "create", "bogus": [1], "count": "x"})
    assert str(info.value) == WRITES_DISABLED_MESSAGE


def test_null_arguments_count_as_absent():
    runner = mcp_server.ToolRunner([WIDGETS], READ, [WIDGETS], {}, context=object())
    # null for another action's argument, or for one of this action's: both are "not given"
    _, op, values = runner.prepare(
        "manage_widgets", {"action": "list", "cursor": None, "kind": None, "widget_id": None}
    )
    assert op.name == "list"
    assert values == {"kind": "small", "tags": None, "limit": 25, "cursor": None}
    with pytest.raises(UsageError, match="Missing required argument 'action'"):
        runner.prepare("manage_widgets", {"action": None})


def test_checked_values_are_what_the_handler_gets():
    runner = mcp_server.ToolRunner([WIDGETS], READ, [WIDGETS], {}, context=object())
    _, _, values = runner.prepare(
        "manage_widgets", {"action": "list", "limit": 10.0, "tags": ["red, blue"]}
    )
    assert values == {"kind": "small", "tags": ["red", "blue"], "limit": 10, "cursor": None}
    assert isinstance(values["limit"], int)


# --- the response cap -------------------------------------------------------------------------


def test_small_results_are_compact_json(tmp_path):
    text, structured = mcp_server.cap_result({"a": [1, 2], "b": "x"}, 1000, {})
    assert text == '{"a":[1,2],"b":"x"}'
    assert structured == {"a": [1, 2], "b": "x"}


def test_long_list_truncated_to_valid_json(tmp_path):
    env = {"CTK_LOG_DIR": str(tmp_path / "logs")}
    result = {
        "results": [{"id": str(i), "title": f"Page {i}" * 5} for i in range(500)],
        "next_cursor": "abc",
    }
    text, structured = mcp_server.cap_result(result, 4000, env)
    assert len(text.encode()) <= 4000
    data = json.loads(text)
    assert data == structured
    kept = len(data["results"])
    assert 10 < kept < 500
    assert data["results"] == result["results"][:kept]
    assert data["next_cursor"] == "abc"
    note = data["truncated"]
    assert note["cut"] == [f"results: kept {kept} of 500 items"]
    with open(note["full_result"]) as fh:
        assert json.load(fh) == result
    assert note["full_result"].startswith(str(tmp_path / "logs"))


def test_long_body_cut_at_a_line(tmp_path):
    env = {"CTK_LOG_DIR": str(tmp_path)}
    body = "\n".join(f"line {i} " + "x" * 50 for i in range(2000))
    result = {"id": "1", "title": "Big", "body": body}
    text, _ = mcp_server.cap_result(result, 5000, env)
    data = json.loads(text)
    assert len(text.encode()) <= 5000
    assert data["id"] == "1"
    assert data["title"] == "Big"
    kept = data["body"].removesuffix("\n[...]")
    assert data["body"].endswith("\n[...]")
    assert body.startswith(kept)
    assert body[len(kept)] == "\n"
    assert data["truncated"]["cut"][0].startswith("body: cut to ")


def test_nested_lists_and_bodies(tmp_path):
    env = {"CTK_LOG_DIR": str(tmp_path)}
    result = {"results": [{"id": i, "body": "word " * 3000} for i in range(30)]}
    text, _ = mcp_server.cap_result(result, 8000, env)
    assert len(text.encode()) <= 8000
    data = json.loads(text)
    assert data["results"]
    assert data["truncated"]["full_result"]


def test_list_result_is_wrapped(tmp_path):
    env = {"CTK_LOG_DIR": str(tmp_path)}
    text, _structured = mcp_server.cap_result(list(range(5000)), 2000, env)
    data = json.loads(text)
    assert data["result"] == list(range(len(data["result"])))
    assert "truncated" in data
    assert len(text.encode()) <= 2000


def test_string_result_is_cut_with_a_note(tmp_path):
    text, structured = mcp_server.cap_result("abc\n" * 5000, 1500, {"CTK_LOG_DIR": str(tmp_path)})
    assert structured is None
    assert len(text.encode()) <= 1500
    assert "[truncated: 20000 characters in all; full text saved at " in text


def test_unshrinkable_result_only_points_to_the_file(tmp_path):
    result = {f"k{i}": i for i in range(2000)}
    text, _ = mcp_server.cap_result(result, 1000, {"CTK_LOG_DIR": str(tmp_path)})
    data = json.loads(text)
    assert list(data) == ["truncated"]
    assert len(text.encode()) <= 1000


def test_max_response_bytes_setting(caplog):
    assert mcp_server.max_response_bytes({}) == 40000
    assert mcp_server.max_response_bytes({"CTK_MAX_RESPONSE_BYTES": "5000"}) == 5000
    assert mcp_server.max_response_bytes({"CTK_MAX_RESPONSE_BYTES": "lots"}) == 40000
    assert "CTK_MAX_RESPONSE_BYTES" in caplog.text


# --- HTTP exposure ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("127.0.0.5", True),
        ("0.0.0.0", False),
        ("192.168.1.4", False),
        ("example.com", False),
        ("::", False),
    ],
)
def test_is_loopback(host, loopback):
    assert mcp_server.is_loopback(host) is loopback


def test_non_loopback_needs_token():
    from ctk_core.errors import PolicyError

    with pytest.raises(PolicyError, match="CTK_MCP_TOKEN"):
        mcp_server.check_http_exposure("0.0.0.0", None)
    mcp_server.check_http_exposure("0.0.0.0", "secret")
    mcp_server.check_http_exposure("127.0.0.1", None)


def test_transport_security_hosts():
    sec = mcp_server.transport_security("127.0.0.1", {})
    assert sec.enable_dns_rebinding_protection
    assert "127.0.0.1:*" in sec.allowed_hosts
    assert "localhost:*" in sec.allowed_hosts
    assert not any("example" in h for h in sec.allowed_hosts)
    sec = mcp_server.transport_security("10.1.2.3", {"CTK_MCP_ALLOWED_HOSTS": "mcp.example.org"})
    assert "10.1.2.3:*" in sec.allowed_hosts
    assert "mcp.example.org" in sec.allowed_hosts
    assert "http://10.1.2.3:*" in sec.allowed_origins
