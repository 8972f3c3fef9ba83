"""Spaces: ``ctk spaces ...`` and the MCP tool ``manage_spaces``.

Reads use the v2 API; creating a space uses v1 ``POST /rest/api/space`` (v2 space creation exists
only on tenants with role-based access control).
"""

from __future__ import annotations

import re
from typing import Any

from ctk_core import (
    Conflict,
    Context,
    NotFound,
    Operation,
    Param,
    Resource,
    UsageError,
    hookimpl,
    shown,
)
from ctk_core.helpers import web_url

SPACE_TYPES = (
    "global",
    "collaboration",
    "knowledge_base",
    "personal",
    "system",
    "onboarding",
    "xflow_sample_space",
)
SPACE_STATUSES = ("current", "archived")
_KEY = re.compile(r"^[A-Za-z0-9]{1,255}$")


def flatten_space(raw: dict[str, Any], client: Any) -> dict[str, Any]:
    """A v2 space (or the v1 one ``POST /space`` returns) in the shape the tools return."""
    description = raw.get("description") or {}
    plain = description.get("plain") if isinstance(description, dict) else None
    homepage = raw.get("homepageId")
    if homepage is None and isinstance(raw.get("homepage"), dict):
        homepage = raw["homepage"].get("id")
    return {
        "id": str(raw["id"]) if raw.get("id") is not None else None,
        "key": raw.get("key"),
        "name": raw.get("name"),
        "type": raw.get("type"),
        "status": raw.get("status"),
        "homepage_id": str(homepage) if homepage is not None else None,
        "description": (plain or {}).get("value") or None,
        "web_url": web_url(client, raw),
    }


def list_spaces(ctx: Context, type=None, status=None, keys=None, limit=25, cursor=None):
    params: dict[str, Any] = {"description-format": "plain"}
    if type:
        params["type"] = type
    if status:
        params["status"] = status
    if keys:
        params["keys"] = list(keys)
    client = ctx.client
    page = client.page("/api/v2/spaces", params=params, limit=limit, cursor=cursor)
    return {
        "results": [flatten_space(s, client) for s in page["results"]],
        "next_cursor": page.get("next_cursor"),
    }


def get_space(ctx: Context, space_id):
    client = ctx.client
    resolved = ctx.space_id(space_id)
    raw = client.get(f"/api/v2/spaces/{resolved}", params={"description-format": "plain"})
    return flatten_space(raw, client)


def get_space_by_key(ctx: Context, key):
    client = ctx.client
    data = client.get("/api/v2/spaces", params={"keys": [key], "description-format": "plain"})
    for raw in (data or {}).get("results") or []:
        if raw.get("key") == key:
            return flatten_space(raw, client)
    raise NotFound(
        f"No space with key {shown(key)} (or it is not visible to you).",
        hint="Check the key with `list`.",
    )


def create_space(ctx: Context, key, name, description=None):
    if not _KEY.match(key):
        raise UsageError(
            f"Space key {shown(key)} must be letters and digits only (for example DOCS)."
        )
    body: dict[str, Any] = {"key": key, "name": name}
    if description:
        body["description"] = {"plain": {"value": description, "representation": "plain"}}
    client = ctx.client
    try:
        raw = client.post("/rest/api/space", json=body) or {}
    except UsageError:
        # Confluence answers a duplicate key with 400; it is a conflict, and the key says which.
        existing = client.get("/api/v2/spaces", params={"keys": [key]}).get("results") or []
        if any(s.get("key") == key for s in existing):
            raise Conflict(
                f"A space with key {shown(key)} already exists.",
                hint="Choose another key, or read that space with `get_by_key`.",
            ) from None
        raise
    if raw.get("id") is None:
        return flatten_space(raw, client)
    # v1's answer leaves out the home page Confluence made with the space: read it as `get` does.
    created = client.get(f"/api/v2/spaces/{raw['id']}", params={"description-format": "plain"})
    return flatten_space(created, client)


SPACES = Resource(
    name="spaces",
    summary="Confluence spaces: list, look up, create.",
    instructions="space_id takes a space key or id.",
    operations=[
        Operation(
            "list",
            "List spaces.",
            list_spaces,
            params=[
                Param("type", "str", "Only this type.", choices=SPACE_TYPES),
                Param("status", "str", "Only this status.", choices=SPACE_STATUSES),
                Param("keys", "list", "Only these keys."),
            ],
            paged=True,
            columns=("id", "key", "name", "type", "status"),
        ),
        Operation(
            "get",
            "One space, by key or id.",
            get_space,
            params=[Param("space_id", "str", "Id or key.", required=True, positional=True)],
        ),
        Operation(
            "get_by_key",
            "One space by key.",
            get_space_by_key,
            params=[Param("key", "str", "e.g. DOCS", required=True, positional=True)],
        ),
        Operation(
            "create",
            "Create a space.",
            create_space,
            params=[
                Param(
                    "key",
                    "str",
                    "Space key: letters and digits, e.g. DOCS.",
                    required=True,
                    positional=True,
                ),
                Param("name", "str", "Space name.", required=True),
                Param("description", "str", "Plain-text description."),
            ],
            write=True,
        ),
    ],
)


@hookimpl
def ctk_register_resources(register):
    register(SPACES)
