"""The MCP front end: one tool per resource, generated from the catalog and the policy.

See docs/architecture.md, "The MCP server". The SDK's low-level ``Server`` takes the generated
JSON Schemas as they are; this module validates arguments itself, turns every failure into an
``isError`` result, runs the (synchronous) handlers in a worker thread through
:func:`ctk_core.dispatch.invoke`, caps the response size, and serves over stdio or streamable HTTP.

Only this module imports ``mcp`` (lazily, inside functions: :func:`tool_schema` and friends are
pure and cheap, so the CLI/MCP parity tests can use them), and it is imported only when serving.
Nothing but protocol goes to stdout; diagnostics go to stderr through :mod:`logging`.
"""

from __future__ import annotations

import copy
import functools
import hmac
import json
import logging
import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ctk_core._version import __version__
from ctk_core.context import Context
from ctk_core.credentials import is_loopback_host as is_loopback
from ctk_core.errors import AuthError, CtkError, PolicyError, UsageError
from ctk_core.parsing import split_list
from ctk_core.plugin import CURSOR, LIMIT, PARAM_TYPES, Operation, Param, Resource

if TYPE_CHECKING:  # pragma: no cover
    from mcp.server import Server

    from ctk_core.policy import Policy

log = logging.getLogger("ctk.mcp")

DEFAULT_MAX_RESPONSE_BYTES = 40000

INSTRUCTIONS = (
    "Confluence Cloud tools. Each tool takes `action` plus that action's arguments. A tool's "
    "description lists its actions as action(required,optional?): the main arguments; more "
    "optional ones (filters, formats) are in its input schema. Ids are strings; space_id takes "
    "a space key or id. List actions take limit (1-250, default 25) and return {results, "
    "next_cursor}: pass next_cursor as cursor for the next page. Page and comment bodies are "
    "Markdown; body_format=storage returns raw storage XHTML (content_format=storage sends it). "
    "Attachment downloads are saved in the server's download folder; the result gives the path."
)
WRITES_OFF_NOTE = " Write actions are disabled (the user can set CTK_ENABLE_WRITES=true)."

NO_AUTH_MESSAGE = (
    "ctk is serving without credentials (--no-auth), so this call was not run. To use the tools, "
    "authenticate with `ctk auth` (or set CONFLUENCE_DOMAIN, CONFLUENCE_EMAIL and "
    "CONFLUENCE_API_TOKEN) and restart the MCP server without --no-auth."
)


# --- schema and description generation (pure) ------------------------------------------------


def param_schema(param: Param) -> dict[str, Any]:
    """The JSON Schema of one parameter (type, description, default, enum, bounds).

    The core paging parameters (``limit``, ``cursor``) carry no description: the server
    instructions explain them once instead of in every tool.
    """
    schema: dict[str, Any] = copy.deepcopy(PARAM_TYPES[param.type])
    if param.help and param not in (LIMIT, CURSOR):
        schema["description"] = param.help
    if param.choices:
        if param.type == "list":
            schema["items"]["enum"] = list(param.choices)
        else:
            schema["enum"] = list(param.choices)
    if param.minimum is not None:
        schema["minimum"] = param.minimum
    if param.maximum is not None:
        schema["maximum"] = param.maximum
    if param.default is not None:
        schema["default"] = (
            list(param.default) if isinstance(param.default, tuple) else param.default
        )
    return schema


def _merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Merge the schemas of a parameter shared by several actions: the loosest of both.

    The per-action rules (exact type, bounds, choices) are enforced again by dispatch.
    """
    if old == new:
        return old
    merged = dict(old)
    if old.get("type") != new.get("type") or "anyOf" in old:
        branches = old.get("anyOf") or [
            {"type": old["type"], **({"items": old["items"]} if "items" in old else {})}
        ]
        branch = {"type": new["type"], **({"items": new["items"]} if "items" in new else {})}
        if branch not in branches:
            branches = [*branches, branch]
        merged = {k: v for k, v in old.items() if k in ("description",)}
        merged["anyOf"] = branches
        return merged
    for key in ("enum",):
        if key in old and key in new:
            merged[key] = old[key] + [v for v in new[key] if v not in old[key]]
        else:
            merged.pop(key, None)
    if "items" in old and old.get("items") != new.get("items"):
        merged["items"] = {"type": "string"}
    if old.get("default") != new.get("default"):
        merged.pop("default", None)
    for key, pick in (("minimum", min), ("maximum", max)):
        if key in old and key in new:
            merged[key] = pick(old[key], new[key])
        else:
            merged.pop(key, None)
    return merged


def tool_schema(resource: Resource, policy: Policy, strict: bool = False) -> dict[str, Any]:
    """The input schema of ``resource``'s tool under ``policy``.

    ``{"type": "object", "properties": {"action": {"enum": [...]}, ...}, "required":
    ["action"], "additionalProperties": false}``: the properties are the union of the
    parameters of the enabled actions. The schema sent to clients gives the core ``limit``
    just its type (INSTRUCTIONS state its range and default once); the ``strict`` schema the
    server validates with keeps the bounds, so a bad limit is refused before anything runs.
    """
    ops = policy.enabled_operations(resource)
    props: dict[str, Any] = {"action": {"type": "string", "enum": [op.name for op in ops]}}
    for op in ops:
        for param in op.all_params:
            schema = param_schema(param)
            if param == LIMIT and not strict:
                schema = {"type": schema["type"]}
            props[param.name] = _merge(props[param.name], schema) if param.name in props else schema
    return {
        "type": "object",
        "properties": props,
        "required": ["action"],
        "additionalProperties": False,
    }


def _signature(op: Operation) -> str:
    """``name(required,main?)``: the required parameters, and the optional ones the CLI takes as
    positional arguments (the main way to name the target, e.g. ``get(page_id?)``).

    The other optional parameters (filters, formats, paging) appear only in the input schema,
    with their descriptions; INSTRUCTIONS say so once instead of every tool repeating them.
    """
    names = [
        p.name + ("" if p.required else "?") for p in op.all_params if p.required or p.positional
    ]
    return f"{op.name}({','.join(names)})"


def tool_description(resource: Resource, policy: Policy) -> str:
    """The tool description: the resource's description (if any), then one line per action.

    Each line is ``action(param,main?): summary`` (see :func:`_signature`), with
    ``[write]``/``[deletes]`` marks. Write actions are absent when writes are off, so there is
    no fallback to ``resource.summary``, which may name them. Blank lines and indentation are
    dropped (they only cost bytes; the CLI help keeps them).
    """
    lines = [line.strip() for line in resource.description.splitlines() if line.strip()]
    for op in policy.enabled_operations(resource):
        mark = " [deletes]" if op.destructive else " [write]" if op.write else ""
        lines.append(f"{_signature(op)}: {op.summary.rstrip('.')}{mark}")
    return "\n".join(lines)


def tool_title(resource: Resource) -> str:
    """A short title for the UI: the resource's name (``pages`` -> ``"Pages"``).

    Clients show it next to the server's name; the summary is too long for it.
    """
    return resource.name.replace("_", " ").capitalize()


def tool_annotations(resource: Resource, policy: Policy) -> dict[str, Any]:
    """The four MCP hints from the policy, all explicit, plus a title (wire names).

    The server sends the title as the tool's ``title``, not again inside the annotations.
    """
    hints = dict(policy.annotations(resource))
    out: dict[str, Any] = {"title": tool_title(resource)}
    for key in ("readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"):
        out[key] = bool(hints[key])
    return out


def enabled_resources(catalog: Any, policy: Policy) -> list[Resource]:
    """The resources whose tool is served: disabled tools and tools without actions left out."""
    return [r for r in catalog.resources if policy.tool_enabled(r) and policy.enabled_operations(r)]


def tools_payload(catalog: Any, policy: Policy) -> list[dict[str, Any]]:
    """The ``tools/list`` entries as plain JSON (what the server sends), for docs and benches."""
    out = []
    for resource in enabled_resources(catalog, policy):
        annotations = tool_annotations(resource, policy)
        out.append(
            {
                "name": resource.tool_name,
                "title": annotations.pop("title"),
                "description": tool_description(resource, policy),
                "inputSchema": tool_schema(resource, policy),
                "annotations": annotations,
            }
        )
    return out


# --- reference documentation (docs/mcp.md) ---------------------------------------------------


def _md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _param_cell(param: Param) -> str:
    kind = {
        "str": "string",
        "int": "integer",
        "float": "number",
        "bool": "boolean",
        "list": "list of strings",
    }[param.type]
    bits = [kind]
    if param.choices:
        bits.append("one of " + ", ".join(f"`{c}`" for c in param.choices))
    if param.minimum is not None or param.maximum is not None:
        lo = "" if param.minimum is None else param.minimum
        hi = "" if param.maximum is None else param.maximum
        bits.append(f"{lo}..{hi}")
    return "; ".join(bits)


def tools_markdown(catalog: Any) -> str:
    """The tool reference of docs/mcp.md, generated from the catalog (all actions shown)."""
    from ctk_core.policy import Policy

    off, on = Policy(writes_enabled=False), Policy(writes_enabled=True)
    out = []
    for resource in catalog.resources:
        ann_off = tool_annotations(resource, off) if off.enabled_operations(resource) else None
        ann_on = tool_annotations(resource, on)
        out.append(f"### `{resource.tool_name}`: {_md(tool_title(resource))}\n")
        if resource.description:
            out.append(resource.description.strip() + "\n")

        def hints(ann: dict[str, Any] | None) -> str:
            if ann is None:
                return "not served (it has no read action)"
            return ", ".join(
                f"{k}={'true' if ann[k] else 'false'}"
                for k in ("readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint")
            )

        out.append(f"Annotations with writes off: {hints(ann_off)}.  ")
        out.append(f"With writes on: {hints(ann_on)}.\n")
        out.append("| action | kind | what it does |")
        out.append("| --- | --- | --- |")
        for op in resource.operations:
            kind = "write, destructive" if op.destructive else "write" if op.write else "read"
            out.append(f"| `{op.name}` | {kind} | {_md(op.summary)} |")
        out.append("")
        for op in resource.operations:
            params = op.all_params
            if not params:
                out.append(f"`{op.name}` takes no arguments.\n")
                continue
            out.append(f"`{op.name}` arguments:\n")
            out.append("| argument | type | required | default | description |")
            out.append("| --- | --- | --- | --- | --- |")
            for p in params:
                default = "" if p.default is None else f"`{json.dumps(p.default)}`"
                out.append(
                    f"| `{p.name}` | {_param_cell(p)} | {'yes' if p.required else ''} | "
                    f"{default} | {_md(p.help)} |"
                )
            out.append("")
    return "\n".join(out).rstrip() + "\n"


# --- argument checks --------------------------------------------------------------------------

_JSON_TYPES = {
    dict: "object",
    list: "array",
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    type(None): "null",
}


def _json_type(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _format_schema_error(
    err: Any, resource: Resource, arguments: Mapping[str, Any], schema: Mapping[str, Any]
) -> str:
    props = schema.get("properties", {})
    name = str(err.path[0]) if err.path else None
    if err.validator == "additionalProperties":
        extra = sorted(set(arguments) - set(props))
        return (
            f"Unknown argument {', '.join(repr(x) for x in extra)} for {resource.tool_name}; "
            f"it takes: {', '.join(props)}."
        )
    if err.validator == "required":
        return f"Missing required argument 'action'; one of: {', '.join(props['action']['enum'])}."
    if name == "action" and err.validator == "enum":
        return (
            f"Unknown action {err.instance!r} for {resource.tool_name}; use one of: "
            f"{', '.join(props['action']['enum'])}."
        )
    if err.validator == "type":
        want = err.validator_value
        return (
            f"Argument {name!r} must be of type {want}, not {_json_type(err.instance)} "
            f"({json.dumps(err.instance)[:60]})."
        )
    if err.validator == "enum":
        return f"Argument {name!r}: {err.instance!r} is not one of {err.validator_value}."
    where = f"Argument {name!r}" if name else "Arguments"
    return f"{where}: {err.message}."


def check_action_arguments(resource: Resource, op: Operation, arguments: Mapping[str, Any]) -> None:
    """Raise UsageError for arguments the action does not take or required ones missing."""
    params = {p.name: p for p in op.all_params}
    extra = [name for name in arguments if name not in params]
    if extra:
        takes = ", ".join(params) or "no arguments"
        raise UsageError(
            f"Action {op.name!r} of {resource.tool_name} does not take "
            f"{', '.join(repr(x) for x in extra)}; it takes: {takes}."
        )
    missing = [p for p in op.all_params if p.required and p.name not in arguments]
    if missing:
        detail = "; ".join(f"{p.name}: {p.help}" if p.help else p.name for p in missing)
        raise UsageError(
            f"Action {op.name!r} of {resource.tool_name} needs "
            f"{', '.join(repr(p.name) for p in missing)} ({detail})."
        )


# --- results and the response cap ------------------------------------------------------------


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def _size(value: Any) -> int:
    return len(dumps(value).encode("utf-8"))


def _walk(value: Any, path: str = ""):
    """Yield (path, container, key, child) for every list and string inside ``value``."""
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for key, child in items:
        if isinstance(value, dict):
            child_path = f"{path}.{key}" if path else str(key)
        else:
            child_path = f"{path}[{key}]"
        if isinstance(child, (list, str)):
            yield child_path, value, key, child
        if isinstance(child, (dict, list)):
            yield from _walk(child, child_path)


def _cut_text(text: str, keep: int) -> str:
    """Cut ``text`` to at most ``keep`` characters, at a line end when one is near."""
    if keep <= 0:
        return ""
    head = text[:keep]
    newline = head.rfind("\n")
    if newline >= keep // 2:
        head = head[:newline]
    return head


def shorten(value: Any, cap: int) -> tuple[Any, list[str]]:
    """Shrink a JSON value to at most ``cap`` bytes (serialised), keeping it valid JSON.

    Lists lose items from the end; long strings are cut at a line. The biggest offender goes
    first. Returns ``(shortened copy, notes on what was cut)``; the caller adds the notes.
    """
    value = copy.deepcopy(value)
    notes: list[str] = []
    for _ in range(200):
        excess = _size(value) - cap
        if excess <= 0:
            break
        candidates = [
            c
            for c in _walk(value)
            if (isinstance(c[3], list) and len(c[3]) > 1)
            or (isinstance(c[3], str) and len(c[3]) > 80)
        ]
        if not candidates:
            break
        path, container, key, child = max(candidates, key=lambda c: _size(c[3]))
        if isinstance(child, list):
            total = len(child)
            lo, hi = 1, total - 1  # keep at least one item, drop at least one
            while lo < hi:  # largest kept count that fits
                mid = (lo + hi + 1) // 2
                container[key] = child[:mid]
                if _size(value) <= cap:
                    lo = mid
                else:
                    hi = mid - 1
            container[key] = child[:lo]
            notes.append(f"{path}: kept {lo} of {total} items")
        else:
            total = len(child)
            keep = max(0, total - excess - 40)
            cut = _cut_text(child, keep)
            container[key] = cut + "\n[...]"
            notes.append(f"{path}: cut to {len(cut)} of {total} characters")
    return value, _squash(notes)


def _squash(notes: list[str]) -> list[str]:
    """Merge repeated notes about one path (a list cut twice keeps the last count)."""
    seen: dict[str, str] = {}
    for note in notes:
        path = note.split(": ", 1)[0]
        if path in seen:
            total = seen[path].rsplit(" of ", 1)[1]
            note = note.rsplit(" of ", 1)[0] + " of " + total
        seen[path] = note
    return list(seen.values())


def cap_result(result: Any, cap: int, environ: Mapping[str, str] | None = None) -> tuple[str, Any]:
    """Serialise ``result`` compactly; past ``cap`` bytes, shorten it and save the full text.

    Returns ``(text, structured)``. A shortened result carries ``truncated``: what was cut, the
    path of the full result under the log folder, and a hint.
    """
    from ctk_core import files

    if isinstance(result, str):
        text = result
        if len(text.encode("utf-8")) <= cap:
            return text, None
        path = files.save_full_result(text, environ)
        tail = f"\n[truncated: {len(text)} characters in all; full text saved at {path}]"
        room = max(0, cap - len(tail.encode("utf-8")))
        head = text.encode("utf-8")[:room].decode("utf-8", "ignore")
        return _cut_text(head, len(head)) + tail, None

    text = dumps(result)
    if len(text.encode("utf-8")) <= cap:
        return text, result
    path = files.save_full_result(text, environ)
    wrapped = result if isinstance(result, dict) else {"result": result}
    note: dict[str, Any] = {
        "cut": [],
        "full_result": path,
        "hint": "Ask for less (limit, cursor, a narrower query), or read "
        "the full result from the saved file.",
    }
    budget = cap - _size({"truncated": note}) - 200
    shortened: Any = wrapped
    notes: list[str] = []
    for _ in range(6):
        shortened, notes = shorten(wrapped, max(budget, 0))
        note["cut"] = notes
        if _size({**shortened, "truncated": note}) <= cap:
            break
        budget -= max(200, _size({**shortened, "truncated": note}) - cap)
    out = {**shortened, "truncated": note}
    if _size(out) > cap:  # nothing left to shorten: only say where the result is
        note["cut"] = ["the whole result (too large to shorten)"]
        out = {"truncated": note}
    return dumps(out), out


def max_response_bytes(environ: Mapping[str, str]) -> int:
    raw = environ.get("CTK_MAX_RESPONSE_BYTES")
    if not raw:
        return DEFAULT_MAX_RESPONSE_BYTES
    try:
        value = int(raw)
        if value < 1000:
            raise ValueError
    except ValueError:
        log.warning(
            "ctk: warning: CTK_MAX_RESPONSE_BYTES=%r is not a whole number >= 1000; using %d",
            raw,
            DEFAULT_MAX_RESPONSE_BYTES,
        )
        return DEFAULT_MAX_RESPONSE_BYTES
    return value


def error_text(
    err: BaseException, resource: Resource | None = None, op: Operation | None = None
) -> str:
    """One message an agent can act on."""
    if isinstance(err, AuthError) and "ctk auth" not in str(err):
        return (
            f"{err} Check the credentials: run `ctk auth`, or set CONFLUENCE_DOMAIN, "
            "CONFLUENCE_EMAIL and CONFLUENCE_API_TOKEN, then restart the MCP server."
        )
    if isinstance(err, CtkError):
        return str(err)
    where = f"{resource.tool_name}.{op.name}" if resource and op else "the tool"
    first = (str(err).strip().splitlines() or [""])[0][:300]
    return (
        f"Internal error in {where}: {type(err).__name__}"
        f"{': ' + first if first else ''}. The server is still running; details are in "
        "its stderr log."
    )


# --- the server -------------------------------------------------------------------------------


class ToolRunner:
    """Everything a ``tools/call`` needs, independent of the SDK (testable on its own)."""

    def __init__(
        self,
        resources: list[Resource],
        policy: Policy,
        all_resources: list[Resource],
        environ: Mapping[str, str],
        no_auth: bool = False,
        context: Any = None,
    ) -> None:
        import jsonschema

        self.policy = policy
        self.environ = environ
        self.no_auth = no_auth
        self.cap = max_response_bytes(environ)
        self.resources = {r.tool_name: r for r in resources}
        self.disabled = {r.tool_name: r for r in all_resources if r.tool_name not in self.resources}
        self.schemas = {
            name: tool_schema(r, policy, strict=True) for name, r in self.resources.items()
        }
        self.validators = {}
        for name, schema in self.schemas.items():
            jsonschema.Draft202012Validator.check_schema(schema)
            self.validators[name] = jsonschema.Draft202012Validator(schema)
        self._context = context

    @property
    def context(self) -> Any:
        if self._context is None:
            self._context = Context(frontend="mcp", environ=self.environ)
        return self._context

    def prepare(
        self, name: str, arguments: Mapping[str, Any] | None
    ) -> tuple[Resource, Operation, dict[str, Any]]:
        """Every check before running, in order; raises CtkError with the message to return."""
        from ctk_core.policy import WRITES_DISABLED_MESSAGE, tool_disabled_message

        resource = self.resources.get(name)
        if resource is None:
            if name in self.disabled:
                other = self.disabled[name]
                if other.tool_name in self.policy.disabled_tools:
                    raise PolicyError(tool_disabled_message(other))
                raise PolicyError(WRITES_DISABLED_MESSAGE)
            raise UsageError(f"Unknown tool {name!r}; available: {', '.join(self.resources)}.")
        args = dict(arguments or {})
        # A write action with writes off is refused before any other check.
        action = args.get("action")
        if isinstance(action, str) and not self.policy.writes_enabled:
            for op in resource.operations:
                if op.name == action and op.write:
                    raise PolicyError(WRITES_DISABLED_MESSAGE)
        # null means "not given": agents often send it for optional arguments.
        args = {k: v for k, v in args.items() if v is not None}
        schema = self.schemas[name]
        errors = sorted(
            self.validators[name].iter_errors(args),
            key=lambda e: (
                e.validator != "additionalProperties",
                list(e.path) != ["action"],
                str(e.path),
            ),
        )
        if errors:
            msgs = [_format_schema_error(e, resource, args, schema) for e in errors[:3]]
            raise UsageError(" ".join(dict.fromkeys(msgs)))
        op = resource.operation(args.pop("action"))
        check_action_arguments(resource, op, args)
        if self.no_auth:
            raise AuthError(NO_AUTH_MESSAGE, hint=None)
        return resource, op, args

    def run(
        self, resource: Resource, op: Operation, args: dict[str, Any], progress: Any = None
    ) -> Any:
        """Run the operation (in a worker thread); ``progress`` reports to the caller."""
        from ctk_core import dispatch

        ctx = self.context
        if progress is not None:
            ctx = CallContext(ctx, progress)
        return dispatch.invoke(ctx, resource, op, args, self.policy)

    def render(self, result: Any) -> tuple[str, Any]:
        return cap_result(result, self.cap, self.environ)


class CallContext(Context):
    """The context of one tool call: its own progress, the server's (lazy) client and caches."""

    def __init__(self, shared: Any, progress: Any) -> None:
        super().__init__(
            frontend="mcp", environ=getattr(shared, "environ", None), progress=progress
        )
        self._shared = shared

    @property
    def client(self) -> Any:
        return self._shared.client


def mcp_progress(session: Any, min_interval: float = 0.25) -> Any:
    """A :class:`ctk_core.context.Progress` that sends MCP progress notifications.

    Called from the worker thread; throttled; a no-op when the caller sent no progress token.
    """
    import time

    import anyio.from_thread

    from ctk_core.context import Progress

    class McpProgress(Progress):
        def __init__(self) -> None:
            self.label = ""
            self.done = 0
            self.total: int | None = None
            self.last = 0.0

        def _send(self, message: str | None, force: bool = False) -> None:
            now = time.monotonic()
            if not force and now - self.last < min_interval:
                return
            self.last = now
            try:
                anyio.from_thread.run(
                    session.report_progress,
                    float(self.done),
                    None if self.total is None else float(self.total),
                    message or self.label or None,
                )
            except Exception:  # progress is best effort: never fail the call for it
                log.debug("progress notification failed", exc_info=True)

        def start(self, label: str = "", total: int | None = None) -> None:
            self.label, self.total, self.done = label, total, 0
            self._send(None, force=True)

        def advance(self, n: int = 1) -> None:
            self.done += n
            self._send(None)

        def update(self, done: int, total: int | None = None) -> None:
            self.done = done
            if total is not None:
                self.total = total
            self._send(None)

        def note(self, text: str) -> None:
            self._send(text, force=True)

        def finish(self) -> None:
            self._send(None, force=True)

    return McpProgress()


def build_server(
    catalog: Any = None,
    policy: Policy | None = None,
    environ: Mapping[str, str] | None = None,
    no_auth: bool = False,
    context: Any = None,
) -> Server:
    """The MCP server for ``catalog`` (default: the loaded plugins) under ``policy``.

    ``policy`` defaults to ``Policy.from_environ(environ)``; ``environ`` (default
    ``os.environ``) also gives ``CTK_MAX_RESPONSE_BYTES`` and the log folder. ``context`` is the
    handlers' :class:`ctk_core.context.Context` (default: one built from the environment on the
    first call). With ``no_auth`` the tools are listed but every call answers how to
    authenticate.
    """
    import anyio.to_thread
    from mcp.server import Server
    from mcp.types import (
        CallToolResult,
        ListToolsResult,
        TextContent,
        Tool,
        ToolAnnotations,
    )

    from ctk_core.policy import Policy

    env: Mapping[str, str] = os.environ if environ is None else environ
    if catalog is None:
        from ctk_core.registry import load_catalog

        catalog = load_catalog(environ=env)
    if policy is None:
        policy = Policy.from_environ(env, known_tools=[r.tool_name for r in catalog.resources])
        for warning in policy.warnings:
            log.warning("ctk: warning: %s", warning)
    served = enabled_resources(catalog, policy)
    runner = ToolRunner(served, policy, list(catalog.resources), env, no_auth, context)

    tools = []
    for entry in tools_payload(catalog, policy):
        ann = entry["annotations"]
        tools.append(
            Tool(
                name=entry["name"],
                title=entry["title"],
                description=entry["description"],
                input_schema=entry["inputSchema"],
                annotations=ToolAnnotations(
                    read_only_hint=ann["readOnlyHint"],
                    destructive_hint=ann["destructiveHint"],
                    idempotent_hint=ann["idempotentHint"],
                    open_world_hint=ann["openWorldHint"],
                ),
            )
        )

    def failure(message: str) -> CallToolResult:
        return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)

    async def list_tools(ctx: Any, params: Any) -> ListToolsResult:
        return ListToolsResult(tools=tools)

    async def call_tool(ctx: Any, params: Any) -> CallToolResult:
        name = params.name
        resource = op = None
        try:
            resource, op, args = runner.prepare(name, params.arguments)
            progress = mcp_progress(ctx.session) if getattr(ctx, "session", None) else None
            result = await anyio.to_thread.run_sync(
                functools.partial(runner.run, resource, op, args, progress)
            )
            text, structured = runner.render(result)
        except CtkError as err:
            log.info("%s: %s", name, err)
            return failure(error_text(err, resource, op))
        except Exception as err:  # the server survives any bad call
            log.exception("unexpected error in %s", name)
            return failure(error_text(err, resource, op))
        content: list[Any] = [TextContent(type="text", text=text)]
        if isinstance(structured, dict):
            return CallToolResult(content=content, structured_content=structured)
        return CallToolResult(content=content)

    instructions = INSTRUCTIONS + ("" if policy.writes_enabled else WRITES_OFF_NOTE)
    server: Server = Server(
        "ctk",
        version=__version__,
        instructions=instructions,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )
    server.ctk_runner = runner  # type: ignore[attr-defined]
    return server


# --- transports -------------------------------------------------------------------------------


def serve_stdio(server: Server) -> None:
    """Serve over stdin/stdout until the client closes stdin."""
    import anyio
    from mcp.server.stdio import stdio_server

    async def main() -> None:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())

    anyio.run(main)


def _host_pattern(host: str) -> str:
    bare = host.strip("[]")
    return f"[{bare}]" if ":" in bare else bare


def _local_names() -> list[str]:
    """This machine's names and addresses (for a server bound to 0.0.0.0 or ::)."""
    import socket

    names = {socket.gethostname(), socket.getfqdn()}
    for name in list(names):
        try:
            names.update(socket.gethostbyname_ex(name)[2])
        except OSError:
            pass
    return sorted(n for n in names if n)


def transport_security(host: str, environ: Mapping[str, str] | None = None) -> Any:
    """DNS-rebinding protection, always on.

    Allowed Host/Origin: the loopback names, plus ``host`` when it is another name, plus this
    machine's names when ``host`` is a wildcard address, plus ``CTK_MCP_ALLOWED_HOSTS``
    (comma-separated, e.g. the name a reverse proxy forwards).
    """
    from mcp.server.transport_security import TransportSecuritySettings

    env = os.environ if environ is None else environ
    hosts = ["127.0.0.1", "localhost", "[::1]"]
    extra = [host]
    if host.strip("[]") in ("0.0.0.0", "::"):  # noqa: S104 - detects a wildcard, binds nothing
        extra += _local_names()
    extra += split_list(env.get("CTK_MCP_ALLOWED_HOSTS") or "")
    for name in extra:
        if name and _host_pattern(name) not in hosts:
            hosts.append(_host_pattern(name))
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[f"{h}:*" for h in hosts] + hosts,
        allowed_origins=[
            f"{scheme}://{h}{port}"
            for h in hosts
            for scheme in ("http", "https")
            for port in (":*", "")
        ],
    )


class BearerTokenMiddleware:
    """ASGI middleware: every HTTP request must carry ``Authorization: Bearer <token>``.

    The token is compared in constant time (``hmac.compare_digest``); lifespan events pass.
    """

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self._token = token.encode("utf-8")

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = b""
        for key, value in scope.get("headers") or []:
            if key.lower() == b"authorization":
                given = value
                break
        scheme, _, token = given.partition(b" ")
        if scheme.lower() == b"bearer" and hmac.compare_digest(token.strip(), self._token):
            await self.app(scope, receive, send)
            return
        body = b'{"error":"invalid_token","error_description":"Missing or wrong bearer token"}'
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", b'Bearer error="invalid_token"'),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def check_http_exposure(host: str, token: str | None) -> None:
    """Refuse a non-loopback host without a bearer token (PolicyError, exit code 4)."""
    if not is_loopback(host) and not token:
        raise PolicyError(
            f"Refusing to serve MCP on non-loopback host {host} without a bearer token.",
            hint="Set CTK_MCP_TOKEN to a long random secret (clients send it as "
            "'Authorization: Bearer <token>'), or use --host 127.0.0.1.",
        )


def http_app(
    server: Server,
    host: str = "127.0.0.1",
    token: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Any:
    """The streamable-HTTP ASGI app (path ``/mcp``), with the bearer check when ``token``."""
    check_http_exposure(host, token)
    app = server.streamable_http_app(
        host=host, transport_security=transport_security(host, environ)
    )
    return BearerTokenMiddleware(app, token) if token else app


def serve_http(
    server: Server,
    host: str = "127.0.0.1",
    port: int = 8765,
    token: str | None = None,
    log_level: str = "warning",
) -> None:
    """Serve streamable HTTP with uvicorn until interrupted."""
    import uvicorn

    app = http_app(server, host, token)
    shown = f"[{host}]" if ":" in host else host
    print(
        f"ctk MCP server on http://{shown}:{port}/mcp{' (bearer token required)' if token else ''}",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(app, host=host, port=port, log_level=log_level)


__all__ = [
    "BearerTokenMiddleware",
    "ToolRunner",
    "build_server",
    "cap_result",
    "check_http_exposure",
    "http_app",
    "is_loopback",
    "serve_http",
    "serve_stdio",
    "shorten",
    "tool_annotations",
    "tool_description",
    "tool_schema",
    "tools_markdown",
    "tools_payload",
    "transport_security",
]
