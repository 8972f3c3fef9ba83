"""The one place both front ends run an operation: policy, then arguments, then the handler.

Order matters and is the same for the CLI and MCP: a write with writes disabled is refused before
any argument is looked at; then every argument is checked against its ``Param`` (unknown names,
missing required ones, types, choices, bounds) and coerced; only then does the handler run, with
every declared parameter passed (``None`` when absent and without a default).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ctk_core.errors import UsageError
from ctk_core.parsing import FALSE_WORDS, TRUE_WORDS, split_list
from ctk_core.plugin import Operation, Param, Resource
from ctk_core.policy import Policy


def invoke(
    ctx: Any,
    resource: Resource,
    operation: Operation | str,
    arguments: Mapping[str, Any] | None,
    policy: Policy,
) -> Any:
    """Run ``operation`` of ``resource`` with ``arguments`` under ``policy``; return its result."""
    op = resource.operation(operation) if isinstance(operation, str) else operation
    policy.check(resource, op)
    values = coerce_arguments(resource, op, arguments or {})
    return op.run(ctx, **values)


def coerce_arguments(
    resource: Resource, op: Operation, arguments: Mapping[str, Any]
) -> dict[str, Any]:
    """Check and coerce ``arguments`` against the operation's parameters (UsageError if bad)."""
    params = {p.name: p for p in op.all_params}
    where = f"{resource.name} {op.cli_name}"
    for name in arguments:
        if name not in params:
            known = ", ".join(params) or "none"
            raise UsageError(f"Unknown argument {name!r} for {where} (arguments: {known}).")
    values: dict[str, Any] = {}
    for name, param in params.items():
        value = arguments.get(name)
        if value is None or (param.type == "list" and value == []):
            value = None
        else:
            value = coerce_value(param, value, where)
        if value is None:
            if param.required:
                raise UsageError(f"Missing required argument {name!r} for {where}.")
            value = param.default
            if isinstance(value, (list, tuple)):
                value = list(value)
        values[name] = value
    return values


def coerce_value(param: Param, value: Any, where: str = "") -> Any:
    """One value, coerced to the parameter's type and checked; UsageError naming it if bad."""
    name = param.name
    kind = param.type

    def bad(expected: str) -> UsageError:
        shown = (
            repr(value)
            if not isinstance(value, str) or len(value) < 60
            else repr(value[:57] + "...")
        )
        return UsageError(f"Argument {name!r} must be {expected}, got {shown}.")

    if kind == "str":
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise bad("a string")
        text = str(value)
        if param.required and not text.strip():
            raise UsageError(f"Argument {name!r} must not be empty.")
        result: Any = text
    elif kind == "int":
        if isinstance(value, bool):
            raise bad("an integer")
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                raise bad("an integer") from None
        if not isinstance(value, int):
            raise bad("an integer")
        result = value
    elif kind == "float":
        if isinstance(value, bool):
            raise bad("a number")
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                raise bad("a number") from None
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            raise bad("a number")
        result = value
    elif kind == "bool":
        if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
            value = value.strip().lower() in TRUE_WORDS
        if not isinstance(value, bool):
            raise bad("true or false")
        result = value
    elif kind == "list":
        items = split_list(value) if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)):
            raise bad("a list of strings")
        out: list[str] = []
        for item in items:
            if isinstance(item, bool) or not isinstance(item, (str, int)):
                raise bad("a list of strings")
            out.extend(split_list(str(item)))
        result = out
    else:  # validate_resource makes this unreachable
        raise UsageError(f"Argument {name!r} has an unknown type {kind!r}.")

    if param.choices is not None:
        for item in result if kind == "list" else [result]:
            if item not in param.choices:
                raise UsageError(
                    f"Argument {name!r} must be one of {', '.join(param.choices)}; got {item!r}."
                )
    if kind in ("int", "float"):
        if param.minimum is not None and result < param.minimum:
            raise UsageError(f"Argument {name!r} must be at least {param.minimum}, got {result}.")
        if param.maximum is not None and result > param.maximum:
            raise UsageError(f"Argument {name!r} must be at most {param.maximum}, got {result}.")
    return result


__all__ = ["coerce_arguments", "coerce_value", "invoke", "split_list"]
