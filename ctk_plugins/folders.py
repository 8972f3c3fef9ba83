"""manage_folders / ``ctk folders``: Confluence folders (v2), listed per space through CQL.

The API has no endpoint to update, rename or move a folder, so neither does this resource.
"""

from __future__ import annotations

from typing import Any

from ctk_core import Context, Operation, Param, Resource, UsageError, hookimpl
from ctk_core.helpers import (
    cql_string,
    require_id,
    run_cql,
    space_key,
    titled_ancestors,
    web_url,
    webui_space_key,
)


def flatten_folder(ctx: Context, raw: dict[str, Any]) -> dict[str, Any]:
    version = raw.get("version") or {}
    return {
        "id": raw.get("id"),
        "type": raw.get("type") or "folder",
        "title": raw.get("title"),
        "status": raw.get("status"),
        "space_id": raw.get("spaceId"),
        "space_key": webui_space_key((raw.get("_links") or {}).get("webui")),
        "parent_id": raw.get("parentId"),
        "parent_type": raw.get("parentType"),
        "position": raw.get("position"),
        "author_id": raw.get("authorId"),
        "owner_id": raw.get("ownerId"),
        "created_at": raw.get("createdAt"),
        "version": version.get("number"),
        "web_url": web_url(ctx.client, raw),
    }


def _node(raw: dict[str, Any]) -> dict[str, Any]:
    out = {
        "id": raw.get("id"),
        "type": raw.get("type"),
        "title": raw.get("title"),
        "status": raw.get("status"),
    }
    if "depth" in raw:
        out["depth"] = raw.get("depth")
        out["parent_id"] = raw.get("parentId")
    if "spaceId" in raw:
        out["space_id"] = raw.get("spaceId")
    out["position"] = raw.get("childPosition")
    return out


# ------------------------------------------------------------------------------ handlers


def get_folder(ctx: Context, folder_id: str) -> dict[str, Any]:
    fid = require_id("folder_id", folder_id)
    return flatten_folder(ctx, ctx.client.get(f"/api/v2/folders/{fid}"))


def get_children(
    ctx: Context, folder_id: str, limit: int = 25, cursor: str | None = None
) -> dict[str, Any]:
    fid = require_id("folder_id", folder_id)
    page = ctx.client.page(
        f"/api/v2/folders/{fid}/direct-children", limit=limit, cursor=cursor or None
    )
    return {
        "results": [_node(r) for r in page.get("results") or []],
        "next_cursor": page.get("next_cursor"),
    }


def get_descendants(
    ctx: Context,
    folder_id: str,
    depth: int | None = None,
    limit: int = 25,
    cursor: str | None = None,
) -> dict[str, Any]:
    fid = require_id("folder_id", folder_id)
    params = {"depth": depth} if depth else None
    page = ctx.client.page(
        f"/api/v2/folders/{fid}/descendants", params=params, limit=limit, cursor=cursor or None
    )
    return {
        "results": [_node(r) for r in page.get("results") or []],
        "next_cursor": page.get("next_cursor"),
    }


def get_ancestors(ctx: Context, folder_id: str) -> dict[str, Any]:
    fid = require_id("folder_id", folder_id)
    data = ctx.client.get(f"/api/v2/folders/{fid}/ancestors", params={"limit": 250})
    return {"results": titled_ancestors(ctx, data.get("results") or [])}


def list_folders(
    ctx: Context, space_id: str, limit: int = 25, cursor: str | None = None
) -> dict[str, Any]:
    key = space_key(ctx, space_id)
    cql = f"type = folder AND space = {cql_string(key)} ORDER BY title"
    result = run_cql(ctx, cql, limit=limit, cursor=cursor, excerpt="none")
    for hit in result["results"]:
        hit.pop("excerpt", None)
    return result


def create_folder(
    ctx: Context, space_id: str, title: str, parent_id: str | None = None
) -> dict[str, Any]:
    if not (title or "").strip():
        raise UsageError("Missing argument `title`: a folder needs a title.")
    body: dict[str, Any] = {"spaceId": ctx.space_id(space_id), "title": title.strip()}
    if parent_id:
        body["parentId"] = require_id("parent_id", parent_id)
    return flatten_folder(ctx, ctx.client.post("/api/v2/folders", json=body))


def delete_folder(ctx: Context, folder_id: str) -> dict[str, Any]:
    fid = require_id("folder_id", folder_id)
    ctx.client.delete(f"/api/v2/folders/{fid}")
    return {"id": fid, "deleted": True}


# ------------------------------------------------------------------------------ declaration

_FOLDER = Param("folder_id", "str", "", required=True, positional=True)
_NODE_COLUMNS = ("id", "type", "title", "status")

RESOURCE = Resource(
    name="folders",
    summary="Confluence folders: get, browse, list, create, delete (the API has no update).",
    content_types=("folder",),
    instructions="space_id takes a space key or id.",
    operations=[
        Operation(name="get", summary="Metadata and web URL.", run=get_folder, params=(_FOLDER,)),
        Operation(
            name="get_children",
            command="children",
            summary="Direct children, in tree order.",
            run=get_children,
            params=(_FOLDER,),
            paged=True,
            columns=("id", "type", "title", "position"),
        ),
        Operation(
            name="get_descendants",
            command="tree",
            summary="Everything below, top-down.",
            run=get_descendants,
            params=(_FOLDER, Param("depth", "int", "Levels (default 2).", minimum=1, maximum=10)),
            paged=True,
            columns=("id", "type", "depth", "parent_id", "title"),
        ),
        Operation(
            name="get_ancestors",
            command="ancestors",
            summary="Breadcrumb from the root.",
            run=get_ancestors,
            params=(_FOLDER,),
            columns=("id", "type", "title"),
        ),
        Operation(
            name="list",
            summary="Folders of a space.",
            run=list_folders,
            params=(Param("space_id", "str", "", required=True, flag="space"),),
            paged=True,
            columns=("id", "title", "space_key", "last_modified"),
        ),
        Operation(
            name="create",
            summary="Create a folder (the API cannot update, rename or move one).",
            run=create_folder,
            write=True,
            params=(
                Param("space_id", "str", "Space key or id.", required=True, flag="space"),
                Param("title", "str", "Folder title.", required=True),
                Param(
                    "parent_id", "str", "Parent page or folder (default: home page).", flag="parent"
                ),
            ),
        ),
        Operation(
            name="delete",
            summary="Delete a folder.",
            run=delete_folder,
            write=True,
            destructive=True,
            params=(_FOLDER,),
        ),
    ],
)


@hookimpl
def ctk_register_resources(register: Any) -> None:
    register(RESOURCE)
