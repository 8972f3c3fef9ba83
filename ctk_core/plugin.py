"""The declaration types a plugin uses: a Resource holds Operations, an Operation holds Params.

One Operation yields both a Click command (``ctk <resource> <command>``) and an action of the MCP
tool ``manage_<resource>``. Everything here is plain data, cheap to import.
"""

from __future__ import annotations

import inspect
import keyword
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

#: The closed set of parameter types.
ParamType = Literal["str", "int", "float", "bool", "list"]

#: Each parameter type with its JSON Schema form.
PARAM_TYPES: dict[str, dict[str, Any]] = {
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "list": {"type": "array", "items": {"type": "string"}},
}

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Param:
    """One argument of an operation.

    ``positional`` makes it a CLI positional argument (required scalars, or one trailing list);
    otherwise it is a ``--kebab-case`` option, named ``flag`` when given (e.g. ``space`` for
    ``space_id``). ``minimum``/``maximum`` bound integers in both front ends. ``from_file`` marks
    a text that may be long (a page body): the CLI also offers ``--<name>-file PATH`` (``-`` for
    stdin) to read it from a UTF-8 file; over MCP it is an ordinary string. ``cli_only`` keeps
    the parameter out of the MCP tool (schema, description, reference): only the CLI offers it,
    and an MCP call that gives it is refused as an unknown argument (the handler gets the
    default).
    """

    name: str
    type: ParamType = "str"
    help: str = ""
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] | None = None
    positional: bool = False
    flag: str | None = None
    minimum: int | None = None
    maximum: int | None = None
    from_file: bool = False
    cli_only: bool = False

    @property
    def cli_flag(self) -> str:
        return "--" + (self.flag or self.name).replace("_", "-")

    @property
    def cli_file_flag(self) -> str:
        """The CLI option that reads this parameter from a file (when ``from_file``)."""
        return self.cli_flag + "-file"


#: Parameters every paged operation gets, in both front ends.
LIMIT = Param("limit", "int", "Items per page (1-250).", default=25, minimum=1, maximum=250)
CURSOR = Param("cursor", "str", "Cursor from a previous result's next_cursor.")


@dataclass(frozen=True)
class Operation:
    """One thing a resource can do.

    ``run(ctx, **params)`` returns plain data. A ``paged`` operation gets ``limit`` and ``cursor``
    and returns ``{"results": [...], "next_cursor": str | None}``. ``columns`` picks the table
    columns the CLI shows for list results; ``render`` (optional) turns the result into CLI text,
    or into a simpler result the CLI shows as usual.
    ``cli_shortcuts`` adds CLI-only options that set several parameters at once: ``{"before":
    {"position": "before", "target_id": "{}"}}`` makes ``--before X`` mean ``--position before
    --target X`` (``"{}"`` stands for the option's value).
    """

    name: str
    summary: str
    run: Callable[..., Any]
    params: Sequence[Param] = ()
    write: bool = False
    destructive: bool = False
    idempotent: bool = False
    paged: bool = False
    command: str | None = None
    columns: Sequence[str] = ()
    render: Callable[[Any], Any] | None = None
    cli_shortcuts: Mapping[str, Mapping[str, str]] = field(
        default_factory=dict, hash=False, compare=False
    )

    @property
    def cli_name(self) -> str:
        return self.command or self.name.replace("_", "-")

    @property
    def all_params(self) -> tuple[Param, ...]:
        params = tuple(self.params)
        if self.paged:
            names = {p.name for p in params}
            params += tuple(p for p in (LIMIT, CURSOR) if p.name not in names)
        return params

    @property
    def mcp_params(self) -> tuple[Param, ...]:
        """The parameters an MCP call may give: all of them but the ``cli_only`` ones."""
        return tuple(p for p in self.all_params if not p.cli_only)


@dataclass
class Resource:
    """A Confluence resource: a CLI group ``ctk <name>`` and an MCP tool ``manage_<name>``.

    ``default_command`` (an operation name) lets the CLI skip the command name: ``ctk search
    CQL`` runs it, and an option that only one operation has (``ctk search --query W``) picks
    that operation. ``instructions`` are lines the MCP server adds to its instructions while the
    tool is served: conventions its actions share, said once (a line that several resources
    declare is said once too). ``content_types`` are the Confluence content types (CQL ``type``
    values) the tool is the way to: while it is disabled, search leaves them out.
    """

    name: str
    summary: str
    operations: list[Operation] = field(default_factory=list)
    tool: str | None = None
    description: str = ""
    default_command: str | None = None
    instructions: str = ""
    content_types: tuple[str, ...] = ()

    @property
    def tool_name(self) -> str:
        return self.tool or f"manage_{self.name}"

    def operation(self, name: str) -> Operation:
        for op in self.operations:
            if op.name == name:
                return op
        raise KeyError(name)


def validate_resource(resource: Any) -> None:
    """Raise ValueError naming what is malformed in a resource declaration."""
    if not isinstance(resource, Resource):
        raise ValueError(f"expected a ctk_core.Resource, got {type(resource).__name__}")
    if not _NAME.match(resource.name):
        raise ValueError(f"resource name {resource.name!r} must be lower snake_case")
    if not re.match(r"^[a-z0-9_]{1,64}$", resource.tool_name):
        raise ValueError(f"tool name {resource.tool_name!r} must match [a-z0-9_]{{1,64}}")
    if not resource.operations:
        raise ValueError(f"resource {resource.name!r} declares no operations")
    if resource.default_command is not None and resource.default_command not in {
        getattr(op, "name", None) for op in resource.operations
    }:
        raise ValueError(
            f"resource {resource.name!r}: default_command "
            f"{resource.default_command!r} is not one of its operations"
        )
    seen: set[str] = set()
    commands: set[str] = set()
    for op in resource.operations:
        where = f"{resource.name}.{getattr(op, 'name', op)!s}"
        if not isinstance(op, Operation):
            raise ValueError(f"{where}: expected a ctk_core.Operation")
        if not _NAME.match(op.name) or op.name in seen:
            raise ValueError(f"{where}: operation name must be unique lower snake_case")
        if op.cli_name in commands:
            raise ValueError(f"{where}: CLI command {op.cli_name!r} is declared twice")
        seen.add(op.name)
        commands.add(op.cli_name)
        if not callable(op.run):
            raise ValueError(f"{where}: run is not callable")
        if not op.summary or "\n" in op.summary:
            raise ValueError(f"{where}: summary must be one non-empty line")
        if op.destructive and not op.write:
            raise ValueError(f"{where}: a destructive operation must also be a write")
        declared = {p.name for p in op.all_params}
        for short, sets in op.cli_shortcuts.items():
            if not _NAME.match(short) or not sets or not set(sets) <= declared:
                raise ValueError(f"{where}: CLI shortcut {short!r} must set declared parameters")
        names: set[str] = set()
        for p in op.all_params:
            if not isinstance(p, Param):
                raise ValueError(f"{where}: parameters must be ctk_core.Param")
            if not _NAME.match(p.name) or keyword.iskeyword(p.name) or p.name in names:
                raise ValueError(f"{where}: bad or repeated parameter name {p.name!r}")
            if p.name == "action":
                raise ValueError(f"{where}: 'action' is reserved for the MCP tool")
            names.add(p.name)
            if p.type not in PARAM_TYPES:
                raise ValueError(f"{where}.{p.name}: type {p.type!r} not in {sorted(PARAM_TYPES)}")
            if p.choices is not None and p.type != "str" and p.type != "list":
                raise ValueError(f"{where}.{p.name}: choices need type str or list")
            if (
                p.default is not None
                and p.choices
                and p.type == "str"
                and p.default not in p.choices
            ):
                raise ValueError(f"{where}.{p.name}: default {p.default!r} not in choices")
            if p.from_file and (p.type != "str" or p.positional):
                raise ValueError(f"{where}.{p.name}: from_file needs a str option (not positional)")
            if p.cli_only and p.required:
                raise ValueError(f"{where}.{p.name}: a cli_only parameter cannot be required")
        _check_handler(where, op)


def _check_handler(where: str, op: Operation) -> None:
    """The handler must accept ``ctx`` and, by keyword, every declared parameter (and nothing
    else without a default): dispatch calls ``run(ctx, **values)`` with all of them."""
    try:
        signature = inspect.signature(op.run)
    except (TypeError, ValueError):
        return  # a builtin or C callable: nothing to compare
    params = list(signature.parameters.values())
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if not params or params[0].kind not in (*positional, inspect.Parameter.VAR_POSITIONAL):
        raise ValueError(f"{where}: handler {_handler_name(op)} must take ctx first")
    rest = params[1:] if params[0].kind != inspect.Parameter.VAR_POSITIONAL else params
    takes_any = any(p.kind == inspect.Parameter.VAR_KEYWORD for p in rest)
    accepted = {
        p.name
        for p in rest
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    }
    declared = [p.name for p in op.all_params]
    for name in declared:
        if name not in accepted and not takes_any:
            raise ValueError(
                f"{where}: parameter {name!r} is declared but handler {_handler_name(op)} "
                "has no argument of that name"
            )
    for p in rest:
        needs_value = p.default is inspect.Parameter.empty and p.kind in (
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            inspect.Parameter.KEYWORD_ONLY,
        )
        if needs_value and p.name not in declared:
            raise ValueError(
                f"{where}: handler {_handler_name(op)} requires argument {p.name!r}, "
                "which is not a declared parameter"
            )


def _handler_name(op: Operation) -> str:
    return getattr(op.run, "__qualname__", None) or repr(op.run)
