"""The one place both front ends run an operation: policy, then arguments, then the handler.

Order matters and is the same for the CLI and MCP: a write with writes disabled is refused before
any argument is looked at; then every argument is checked against its ``Param`` (unknown names,
missing required ones, types, choices, bounds) and coerced; only then does the handler run, with
every declared parameter passed (``None`` when absent and without a default).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from ctk_core.errors import CtkError, UsageError, shown
from ctk_core.parsing import FALSE_WORDS, TRUE_WORDS, split_list
from ctk_core.plugin import Operation, Param, Resource
from ctk_core.policy import Policy
from ctk_core.words import MCP_WORDS, Words


def invoke(
    ctx: Any,
    resource: Resource,
    operation: Operation | str,
    arguments: Mapping[str, Any] | None,
    policy: Policy,
    words: Words = MCP_WORDS,
) -> Any:
    """Run ``operation`` of ``resource`` with ``arguments`` under ``policy``; return its result.

    Messages name things in ``words``, the calling front end's: the handler's usage errors too.
    """
    op = resource.operation(operation) if isinstance(operation, str) else operation
    policy.check(resource, op, words)
    values = coerce_arguments(resource, op, arguments or {}, words=words)
    for param in op.all_params:  # the CLI-only ones, over MCP: their defaults
        values.setdefault(param.name, param.default)
    if hasattr(ctx, "policy"):  # what ctx.call() applies to the operations the handler runs
        ctx.policy, ctx.words = policy, words
    try:
        return op.run(ctx, **values)
    except CtkError as err:
        hint = err.hint and words.rephrase(resource, op, err.hint)
        err.reword(words.rephrase(resource, op, err.message), hint)
        raise


def coerce_arguments(
    resource: Resource,
    op: Operation,
    arguments: Mapping[str, Any],
    *,
    from_json: bool = False,
    words: Words = MCP_WORDS,
) -> dict[str, Any]:
    """Check and coerce ``arguments`` against the parameters the front end offers (all of them
    on the CLI; over MCP all but the ``cli_only`` ones); return each of those (its default when
    absent; ``None`` counts as absent).

    The one argument check of both front ends. Every problem is reported in one UsageError:
    unknown names (with the names the operation takes), missing required ones (with their help),
    then each bad value. ``from_json`` is for arguments that arrived as JSON (MCP): JSON carries
    types, so a value must have the declared type exactly (``"5"`` is not an integer, ``"a,b"``
    not a list). Otherwise a string may stand for a number, a yes/no word or a comma-separated
    list, as on a command line. Messages name the operation and parameters in ``words``.
    """
    offered = op.all_params if words.front == "cli" else op.mcp_params
    params = {p.name: p for p in offered}
    where = words.operation(resource, op)
    problems: list[str] = []
    unknown = [
        name for name, value in arguments.items() if name not in params and value is not None
    ]
    if unknown:
        takes = ", ".join(words.param(p, quoted=False) for p in params.values())
        problems.append(
            f"Unknown argument{_plural(unknown)} {_quoted(unknown)} for {where}; "
            f"it takes: {takes or 'no arguments'}."
        )
    missing: list[Param] = []
    bad_values: list[str] = []
    values: dict[str, Any] = {}
    for name, param in params.items():
        value = arguments.get(name)
        if value is None or (param.type == "list" and value == []):
            value = None
        else:
            try:
                value = coerce_value(param, value, from_json=from_json, words=words)
            except UsageError as err:
                bad_values.append(err.message)
                continue
        if value is None:
            if param.required:
                missing.append(param)
            value = param.default
            if isinstance(value, (list, tuple)):
                value = list(value)
        values[name] = value
    if missing:
        names = [words.param(p) for p in missing]
        helps = "; ".join(f"{words.param(p, quoted=False)}: {p.help}" for p in missing if p.help)
        problems.append(
            f"Missing required argument{_plural(names)} {', '.join(names)} for {where}"
            f"{f' ({helps})' if helps else ''}."
        )
    problems += bad_values
    if problems:
        raise UsageError(" ".join(problems))
    return values


def coerce_value(
    param: Param, value: Any, *, from_json: bool = False, words: Words = MCP_WORDS
) -> Any:
    """One value, coerced to the parameter's type and checked; UsageError naming it (in
    ``words``) if bad.

    ``from_json``: the type must match exactly (see :func:`coerce_arguments`).
    """
    name = words.param(param)
    kind = param.type
    exact = from_json  # JSON carries types: no reading numbers, words or lists from strings

    def bad(expected: str) -> UsageError:
        return UsageError(f"Argument {name} must be {expected}, got {_shown(value, from_json)}.")

    if kind == "str":
        if isinstance(value, bool) or not isinstance(value, str if exact else (str, int)):
            raise bad("a string")
        text = str(value)
        if param.required and not text.strip():
            raise UsageError(f"Argument {name} must not be empty.")
        result: Any = text
    elif kind == "int":
        if isinstance(value, bool):
            raise bad("an integer")
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, str) and not exact:
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
        if isinstance(value, str) and not exact:
            try:
                value = float(value.strip())
            except ValueError:
                raise bad("a number") from None
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            raise bad("a number")
        result = value
    elif kind == "bool":
        if (
            isinstance(value, str)
            and not exact
            and value.strip().lower() in TRUE_WORDS | FALSE_WORDS
        ):
            value = value.strip().lower() in TRUE_WORDS
        if not isinstance(value, bool):
            raise bad("true or false")
        result = value
    elif kind == "list":
        items = split_list(value) if isinstance(value, str) and not exact else value
        if not isinstance(items, (list, tuple)):
            raise bad("a list of strings")
        out: list[str] = []
        for item in items:
            if isinstance(item, bool) or not isinstance(item, str if exact else (str, int)):
                raise bad("a list of strings")
            out.extend(split_list(str(item)))
        result = out
    else:  # validate_resource makes this unreachable
        raise UsageError(f"Argument {name} has an unknown type {kind!r}.")

    if param.choices is not None:
        for item in result if kind == "list" else [result]:
            if item not in param.choices:
                raise UsageError(
                    f"Argument {name} must be one of {', '.join(param.choices)}; got {shown(item)}."
                )
    if kind in ("int", "float"):
        if param.minimum is not None and result < param.minimum:
            raise UsageError(f"Argument {name} must be at least {param.minimum}, got {result}.")
        if param.maximum is not None and result > param.maximum:
            raise UsageError(f"Argument {name} must be at most {param.maximum}, got {result}.")
    return result


_JSON_KINDS = {
    str: "a string",
    bool: "a boolean",
    int: "a number",
    float: "a number",
    list: "an array",
    dict: "an object",
}


def _shown(value: Any, from_json: bool) -> str:
    """A bad value for a message: its repr, or for JSON its JSON text and JSON type."""
    if not from_json:
        return shown(value)
    try:
        text = json.dumps(value, ensure_ascii=False, default=repr)
    except (RecursionError, ValueError):  # nested too deep, or an integer too long to write
        text = shown(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({_JSON_KINDS.get(type(value), type(value).__name__)})"


def _plural(names: list[str]) -> str:
    return "s" if len(names) > 1 else ""


def _quoted(names: list[str]) -> str:
    quoted = ", ".join(shown(name) for name in names[:5])
    return quoted + (f" and {len(names) - 5} more" if len(names) > 5 else "")


__all__ = ["coerce_arguments", "coerce_value", "invoke", "split_list"]
