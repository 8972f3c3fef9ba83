import inspect

import pytest

import ctk_core
from ctk_core import context, errors, file_access, hookspecs, inline, plugin
from ctk_core.plugin import Operation, Param, Resource, validate_resource

#: What a plugin may import from ``ctk_core``, and where each name comes from. Adding a name is
#: a decision (docs/plugins.md documents each); removing one breaks plugins.
PUBLIC = {
    "AuthError": errors.AuthError,
    "ConfluenceClient": context.ConfluenceClient,
    "Conflict": errors.Conflict,
    "Context": context.Context,
    "CtkError": errors.CtkError,
    "FileAccess": file_access.FileAccess,
    "Inline": inline.Inline,
    "NotFound": errors.NotFound,
    "Operation": plugin.Operation,
    "Param": plugin.Param,
    "ParamType": plugin.ParamType,
    "PermissionDenied": errors.PermissionDenied,
    "PolicyError": errors.PolicyError,
    "Progress": context.Progress,
    "RateLimited": errors.RateLimited,
    "Resource": plugin.Resource,
    "Unavailable": errors.Unavailable,
    "UsageError": errors.UsageError,
    "__version__": ctk_core._version.__version__,
    "hookimpl": hookspecs.hookimpl,
    "shown": errors.shown,
}


def _noop(ctx, **params):
    return params


def test_public_surface_is_exactly_what_plugins_are_promised():
    assert sorted(ctk_core.__all__) == sorted(PUBLIC)
    for name, expected in PUBLIC.items():
        assert getattr(ctk_core, name) is expected, name
    exported = {n for n, v in vars(ctk_core).items() if not n.startswith("_")}
    modules = {n for n, v in vars(ctk_core).items() if inspect.ismodule(v)}
    assert exported - modules == set(PUBLIC) - {"__version__"}


def test_paged_operation_gets_limit_and_cursor():
    op = Operation("list", "List things.", _noop, paged=True)
    assert [p.name for p in op.all_params] == ["limit", "cursor"]


@pytest.mark.parametrize(
    ("resource", "fragment"),
    [
        (Resource("Bad", "x", [Operation("get", "Get.", _noop)]), "snake_case"),
        (Resource("things", "x", []), "no operations"),
        (Resource("things", "x", [Operation("get", "", _noop)]), "summary"),
        (Resource("things", "x", [Operation("rm", "Remove.", _noop, destructive=True)]), "write"),
        (
            Resource("things", "x", [Operation("get", "Get.", _noop, params=[Param("x", "dict")])]),
            "type",
        ),
        (
            Resource("things", "x", [Operation("get", "Get.", _noop, params=[Param("action")])]),
            "reserved",
        ),
        (
            Resource(
                "things",
                "x",
                [
                    Operation(
                        "get", "Get.", _noop, params=[Param("to", required=True, cli_only=True)]
                    )
                ],
            ),
            "cli_only",
        ),
        (
            Resource(
                "things", "x", [Operation("get", "Get.", _noop), Operation("get", "Get.", _noop)]
            ),
            "unique",
        ),
    ],
)
def test_malformed_resources_are_named(resource, fragment):
    with pytest.raises(ValueError, match=fragment):
        validate_resource(resource)


def test_valid_resource_passes():
    validate_resource(
        Resource(
            "things", "Things.", [Operation("get", "Get one.", _noop, params=[Param("thing_id")])]
        )
    )
