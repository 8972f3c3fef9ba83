"""manage_templates / ``ctk templates``: page templates of a space or of the site, and pages
made from them.

v2 has no templates, so these are the v1 endpoints ``GET /rest/api/template/page`` and
``GET /rest/api/template/{id}``. A template's variables are ``<at:var at:name="x"/>``
placeholders in its storage body, declared in an ``<at:declarations>`` block. ``create_page``
fills them (a variable given no value becomes empty text and is listed as ``unfilled``) and
creates the page through the pages plugin's own create.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from ctk_core import (
    Context,
    NotFound,
    Operation,
    Param,
    PermissionDenied,
    Resource,
    UsageError,
    hookimpl,
    shown,
)
from ctk_core.helpers import require_id, space_key, storage_of

_DECLARATIONS = re.compile(
    r"<at:declarations\b.*?</at:declarations>|<at:declarations\b[^>]*/>", re.S
)
_DECLARED = re.compile(r"<at:(?:string|textarea|list)\b[^>]*?\bat:name=\"([^\"]*)\"")
_VAR = re.compile(r"<at:var\b[^>]*?\bat:name=\"([^\"]*)\"[^>]*?(?:/>|>.*?</at:var>)", re.S)
_TEMPLATE_ID = re.compile(r"[A-Za-z0-9-]{1,64}")


# ------------------------------------------------------------------------------ helpers


def variables_of(storage: str) -> list[str]:
    """The template's variable names, declared or used, in order of first appearance."""
    names = _DECLARED.findall(storage) + _VAR.findall(storage)
    return list(dict.fromkeys(names))


def fill(storage: str, values: dict[str, str]) -> str:
    """The storage body with each placeholder replaced by its value (escaped; empty when not
    given) and the declarations removed."""
    from ctk_core.convert.xhtml import escape_text

    def value(match: re.Match[str]) -> str:
        return escape_text(values.get(match.group(1), "")).replace("\n", "<br />")

    return _VAR.sub(value, _DECLARATIONS.sub("", storage))


def _template_id(value: Any) -> str:
    text = str(value or "").strip()
    if not _TEMPLATE_ID.fullmatch(text):
        raise UsageError(f"Invalid value for 'template_id': {shown(value)} is not a template id.")
    return text


def _fetch(ctx: Context, template_id: str) -> dict[str, Any]:
    tid = _template_id(template_id)
    try:
        return dict(ctx.client.get(f"/rest/api/template/{quote(tid)}") or {})
    except PermissionDenied as exc:  # Confluence's answer for a missing template too
        raise NotFound(
            f"No template with id {tid} (or it is not visible to you).",
            hint="List the ids with `templates list`.",
        ) from exc


def _flatten(raw: dict[str, Any]) -> dict[str, Any]:
    space = raw.get("space") or {}
    return {
        "id": str(raw.get("templateId")),
        "name": raw.get("name"),
        "description": raw.get("description") or "",
        "space_key": space.get("key") or None,
        "labels": [
            str(lb["name"])
            for lb in raw.get("labels") or []
            if isinstance(lb, dict) and lb.get("name")
        ],
    }


def _values(variables: str | None) -> dict[str, str]:
    if not variables:
        return {}
    try:
        data = json.loads(variables)
    except ValueError:
        data = None
    if not isinstance(data, dict) or not all(
        isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in data.values()
    ):
        raise UsageError(
            f"Invalid value for 'variables': {shown(variables)} is not a JSON object of "
            'names to text, e.g. {"date": "3 May"}.'
        )
    return {str(k): str(v) for k, v in data.items()}


# ------------------------------------------------------------------------------ handlers


def list_templates(
    ctx: Context, space_id: str | None = None, limit: int = 25, cursor: str | None = None
) -> dict[str, Any]:
    start = 0
    if cursor:
        if not cursor.isdigit():
            raise UsageError(f"Invalid cursor {shown(cursor)}: pass back next_cursor unchanged.")
        start = int(cursor)
    params: dict[str, Any] = {"limit": limit}
    if start:
        params["start"] = start
    if space_id:
        sid = str(space_id).strip()
        params["spaceKey"] = space_key(ctx, sid) if sid.isdigit() else sid  # a key: no lookup
    data = ctx.client.get("/rest/api/template/page", params=params) or {}
    results = [_flatten(raw) for raw in data.get("results") or [] if isinstance(raw, dict)]
    more = bool((data.get("_links") or {}).get("next")) and bool(results)
    return {"results": results, "next_cursor": str(start + len(results)) if more else None}


def get_template(ctx: Context, template_id: str, body_format: str = "markdown") -> dict[str, Any]:
    raw = _fetch(ctx, template_id)
    storage = storage_of(raw)
    result = _flatten(raw)
    result["variables"] = variables_of(storage)
    result["body_format"] = body_format
    if body_format == "markdown":
        from ctk_core.convert import storage_to_markdown

        shown_vars = {name: "{{" + name + "}}" for name in result["variables"]}
        result["body"] = str(storage_to_markdown(fill(storage, shown_vars)))
    else:
        result["body"] = storage
    return result


def create_from_template(
    ctx: Context,
    template_id: str,
    space_id: str,
    title: str,
    parent_id: str | None = None,
    variables: str | None = None,
) -> dict[str, Any]:
    values = _values(variables)
    if not (title or "").strip():
        raise UsageError("Missing argument `title`: a page needs a title.")
    parent = require_id("parent_id", parent_id) if parent_id else None
    sid = ctx.space_id(space_id)  # before the reservation: a key costs a request once
    with ctx.client.reserve(2):  # the template, then the page
        storage = storage_of(_fetch(ctx, template_id))
        names = variables_of(storage)
        unknown = [name for name in values if name not in names]
        if unknown:
            raise UsageError(
                f"Unknown variable {shown(unknown[0])} for template {template_id}; "
                f"its variables: {', '.join(names) or 'none'}. Nothing was created."
            )
        page = ctx.call(  # as manage_pages create: refused while that tool is disabled
            "pages",
            "create",
            space_id=sid,
            title=title,
            body=fill(storage, values),
            content_format="storage",
            parent_id=parent,
        )
    page["template_id"] = str(template_id).strip()
    page["unfilled"] = [name for name in names if name not in values]
    return page


# ------------------------------------------------------------------------------ declaration

_VARIABLES_HELP = 'A JSON object in a string: \'{"date": "3 May"}\'.'
_TEMPLATE = Param("template_id", "str", "Template id.", required=True, positional=True)

RESOURCE = Resource(
    name="templates",
    summary="Page templates: list, show, create a page from one.",
    instructions="space_id takes a space key or id.",
    operations=[
        Operation(
            name="list",
            summary="Page templates of a space, else the global ones.",
            run=list_templates,
            paged=True,
            columns=("id", "name", "space_key", "description"),
            params=(Param("space_id", "str", "", flag="space"),),
        ),
        Operation(
            name="get",
            summary="Template with its variables and body.",
            run=get_template,
            params=(
                _TEMPLATE,
                Param(
                    "body_format",
                    "str",
                    "",
                    default="markdown",
                    choices=("markdown", "storage"),
                    flag="format",
                ),
            ),
        ),
        Operation(
            name="create_page",
            command="create-page",
            summary="New page from a template; unfilled variables become empty.",
            run=create_from_template,
            write=True,
            params=(
                _TEMPLATE,
                Param("space_id", "str", "Space key or id.", required=True, flag="space"),
                Param("title", "str", "Page title.", required=True),
                Param("parent_id", "str", "Parent page or folder id.", flag="parent"),
                Param("variables", "str", _VARIABLES_HELP, flag="vars"),
            ),
        ),
    ],
)


@hookimpl
def ctk_register_resources(register: Any) -> None:
    register(RESOURCE)
