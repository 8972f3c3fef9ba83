"""manage_labels / ``ctk labels``: labels of pages.

Reading uses v2; writing uses the v1 label endpoints (v2 has no label write); the pages that carry
a label are found with CQL (v2 cannot look a label up by name).
"""

from __future__ import annotations

from typing import Any

from ctk_core import Context, CtkError, Operation, Param, Resource, UsageError, hookimpl, shown
from ctk_core.helpers import cql_string, partial_failure, require_id, run_cql, space_key

DESCRIPTION = """\
Labels (tags) on pages: lower case, no spaces."""

PREFIXES = ("global", "my", "team", "system")


def _flatten(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(raw.get("id")) if raw.get("id") is not None else None,
        "name": raw.get("name"),
        "prefix": raw.get("prefix"),
    }


def _names(labels: Any) -> list[str]:
    """Label names from a list (items may also be comma-separated); checked for spaces."""
    if isinstance(labels, str):
        labels = [labels]
    names: list[str] = []
    for item in labels or []:
        for part in str(item).split(","):
            name = part.strip()
            if not name:
                continue
            if any(ch.isspace() for ch in name):
                raise UsageError(
                    f"Invalid label {shown(name)}: labels cannot contain spaces "
                    "(use '-' or '_' instead)."
                )
            if name not in names:
                names.append(name)
    if not names:
        raise UsageError("Missing argument `label`: give at least one label name.")
    return names


# ------------------------------------------------------------------------------ handlers


def list_labels(
    ctx: Context,
    page_id: str,
    prefix: str | None = None,
    limit: int = 25,
    cursor: str | None = None,
) -> dict[str, Any]:
    pid = require_id("page_id", page_id)
    params = {"prefix": prefix} if prefix else None
    page = ctx.client.page(
        f"/api/v2/pages/{pid}/labels", params=params, limit=limit, cursor=cursor or None
    )
    return {
        "results": [_flatten(r) for r in page.get("results") or []],
        "next_cursor": page.get("next_cursor"),
    }


def add_labels(ctx: Context, page_id: str, label: list[str]) -> dict[str, Any]:
    pid = require_id("page_id", page_id)
    names = _names(label)
    body = [{"prefix": "global", "name": name} for name in names]
    data = ctx.client.post(f"/rest/api/content/{pid}/label", json=body) or {}
    return {
        "page_id": pid,
        "added": names,
        "results": [_flatten(r) for r in data.get("results") or []],
    }


def remove_labels(ctx: Context, page_id: str, label: list[str]) -> dict[str, Any]:
    """One DELETE per label (v1 has no bulk removal): the rate-limit tokens of all of them are
    taken first, or nothing is removed; a failure half-way says what was and was not removed."""
    pid = require_id("page_id", page_id)
    names = _names(label)
    with ctx.client.reserve(len(names)):
        for done, name in enumerate(names):
            try:
                ctx.client.delete(f"/rest/api/content/{pid}/label", params={"name": name})
            except CtkError as exc:
                if done:
                    raise partial_failure(
                        exc,
                        f"Removed {', '.join(names[:done])} from page {pid}; "
                        f"not removed: {', '.join(names[done:])}",
                    ) from None
                raise
    return {"page_id": pid, "removed": names}


def pages_with_label(
    ctx: Context,
    label: str,
    space_id: str | None = None,
    limit: int = 25,
    cursor: str | None = None,
) -> dict[str, Any]:
    name = _names([label])
    if len(name) != 1:
        raise UsageError("Give exactly one label name as `label`.")
    cql = f"type = page AND label = {cql_string(name[0])}"
    if space_id:
        cql += f" AND space = {cql_string(space_key(ctx, space_id))}"
    result = run_cql(ctx, cql + " ORDER BY title", limit=limit, cursor=cursor, excerpt="none")
    for hit in result["results"]:
        hit.pop("excerpt", None)
    return result


# ------------------------------------------------------------------------------ declaration

_PAGE = Param("page_id", "str", "", required=True, positional=True)
_LABELS = Param("label", "list", "Label name(s).", required=True, positional=True)

RESOURCE = Resource(
    name="labels",
    summary="Labels of Confluence pages: list, add, remove, and the pages with a label.",
    instructions="space_id takes a space key or id.",
    description=DESCRIPTION,
    operations=[
        Operation(
            name="list",
            summary="Labels of a page.",
            run=list_labels,
            params=(_PAGE, Param("prefix", "str", "", choices=PREFIXES)),
            paged=True,
            columns=("id", "name", "prefix"),
        ),
        Operation(
            name="add",
            summary="Add one or several labels to a page in one call.",
            run=add_labels,
            write=True,
            idempotent=True,
            params=(_PAGE, _LABELS),
            columns=("id", "name", "prefix"),
        ),
        Operation(
            name="remove",
            summary="Remove one or several labels from a page.",
            run=remove_labels,
            write=True,
            params=(_PAGE, _LABELS),
        ),
        Operation(
            name="pages_with_label",
            command="pages",
            summary="Pages with a label.",
            run=pages_with_label,
            params=(
                Param("label", "str", "", required=True, positional=True),
                Param("space_id", "str", "", flag="space"),
            ),
            paged=True,
            columns=("id", "title", "space_key", "last_modified"),
        ),
    ],
)


@hookimpl
def ctk_register_resources(register: Any) -> None:
    register(RESOURCE)
