import pytest

import ctk_core
from ctk_core.plugin import Operation, Param, Resource, validate_resource


def _noop(ctx, **params):
    return params


def test_public_api_names_are_importable():
    for name in ctk_core.__all__:
        assert getattr(ctk_core, name) is not None


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
