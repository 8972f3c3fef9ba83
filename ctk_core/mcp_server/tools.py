"""What MCP clients see of the catalog: tool schemas, descriptions, annotations, the server's
instructions, and the tool reference of docs/mcp.md. Pure functions of the declarations and the
policy: no SDK, cheap to import (the CLI/MCP parity tests use them).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from ctk_core.plugin import CURSOR, LIMIT, PARAM_TYPES, Operation, Param, Resource
from ctk_core.policy import Policy

#: What every tool shares, said once instead of in each tool (the served resources add their own
#: lines, see :func:`server_instructions`).
SHARED_INSTRUCTIONS = (
    "Confluence Cloud tools. Each tool takes `action` plus that action's arguments. A tool's "
    "description lists its actions as action(required,optional?): the main arguments; more "
    "optional ones (filters, formats) are in its input schema. Ids are strings. List actions "
    "take limit (1-250, default 25) and return {results, next_cursor}: pass next_cursor as "
    "cursor for the next page. Errors say what to fix. Oversized results are shortened (see "
    "their `truncated` field)."
)
WRITES_OFF_NOTE = "Write actions are disabled (the user can set CTK_ENABLE_WRITES=true)."


def server_instructions(resources: list[Resource], policy: Policy) -> str:
    """The server's instructions: the shared conventions, then the lines of the served
    ``resources`` (a line several of them declare is said once), then the writes-off note."""
    lines = [SHARED_INSTRUCTIONS]
    for resource in resources:
        lines += [line.strip() for line in resource.instructions.splitlines() if line.strip()]
    if not policy.writes_enabled:
        lines.append(WRITES_OFF_NOTE)
    return "\n".join(dict.fromkeys(lines))


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

    The per-action rules (exact type, bounds, choices) are checked by dispatch.
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


def tool_schema(resource: Resource, policy: Policy) -> dict[str, Any]:
    """The input schema of ``resource``'s tool under ``policy``.

    ``{"type": "object", "properties": {"action": {"enum": [...]}, ...}, "required":
    ["action"], "additionalProperties": false}``: the properties are the union of the
    parameters of the enabled actions. The core ``limit`` gets just its type (the instructions
    state its range and default once). The schema is what clients see; the server checks each
    call against the chosen action's own parameters, bounds included
    (:func:`ctk_core.dispatch.coerce_arguments`).
    """
    ops = policy.enabled_operations(resource)
    props: dict[str, Any] = {"action": {"type": "string", "enum": [op.name for op in ops]}}
    for op in ops:
        for param in op.mcp_params:
            schema = param_schema(param)
            if param == LIMIT:
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
    with their descriptions; the shared instructions say so once instead of every tool repeating
    them.
    """
    names = [
        p.name + ("" if p.required else "?") for p in op.mcp_params if p.required or p.positional
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


# --- the tool reference of docs/mcp.md ----------------------------------------------------------


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
            params = op.mcp_params
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
