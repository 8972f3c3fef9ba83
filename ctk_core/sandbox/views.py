"""JSON views of stored spaces, pages and folders, shaped like the v2 (and v1) responses.

Route modules of other resources use these too (e.g. ``GET /labels/{id}/pages`` answers
``page_json`` items). ``req`` only supplies ``wiki_base`` and ``state``.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote_plus

from ctk_core.sandbox.bodies import render_body
from ctk_core.sandbox.router import Request


def _space_key(req: Request, space_id: str) -> str:
    space = req.state.spaces.get(space_id)
    return space["key"] if space else "UNKNOWN"


def page_webui(req: Request, page: dict[str, Any]) -> str:
    """``/spaces/KEY/pages/ID/Title+Words`` (relative to the wiki base), as the real API."""
    key = _space_key(req, page["spaceId"])
    return f"/spaces/{key}/pages/{page['id']}/{quote_plus(page['title'])}"


def tiny_link(content_id: str) -> str:
    raw = int(content_id).to_bytes(8, "little").rstrip(b"\0") or b"\0"
    return "/x/" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def space_webui(space: dict[str, Any]) -> str:
    return f"/spaces/{space['key']}"


def folder_webui(req: Request, folder: dict[str, Any]) -> str:
    return f"/spaces/{_space_key(req, folder['spaceId'])}/folder/{folder['id']}"


def version_json(version: dict[str, Any]) -> dict[str, Any]:
    return {
        "createdAt": version["createdAt"],
        "message": version.get("message") or "",
        "number": version["number"],
        "minorEdit": bool(version.get("minorEdit")),
        "authorId": version.get("authorId") or "",
    }


def _parent_fields(node: dict[str, Any], out: dict[str, Any]) -> None:
    # The spec types parentId/parentType as non-nullable strings: leave them out at the root.
    if node.get("parentId"):
        out["parentId"] = node["parentId"]
        out["parentType"] = node.get("parentType") or "page"


def page_json(
    req: Request,
    page: dict[str, Any],
    body_format: str | None = None,
    *,
    single: bool = False,
    historic: dict[str, Any] | None = None,
    include_version: bool = True,
) -> dict[str, Any]:
    """PageBulk (or PageSingle with ``single``); ``historic`` is an entry of ``versions``."""
    src = historic or page
    out: dict[str, Any] = {
        "id": page["id"],
        "status": "historical" if historic else page["status"],
        "title": src["title"],
        "spaceId": page["spaceId"],
    }
    _parent_fields(page, out)
    out.update(
        {
            "position": page.get("position"),
            "authorId": page.get("authorId") or "",
            "ownerId": page.get("ownerId"),
            "lastOwnerId": page.get("lastOwnerId"),
            "createdAt": page["createdAt"],
        }
    )
    if include_version:
        out["version"] = version_json(historic or page["version"])
    out["body"] = render_body(src.get("body") or "", body_format)
    links = {
        "webui": page_webui(req, page),
        "editui": f"/pages/resumedraft.action?draftId={page['id']}",
        "tinyui": tiny_link(page["id"]),
    }
    if single:
        links["base"] = req.wiki_base
    out["_links"] = links
    return out


def space_json(
    req: Request,
    space: dict[str, Any],
    description_format: str | None = None,
    include_icon: bool = False,
    single: bool = False,
) -> dict[str, Any]:
    """SpaceBulk (SpaceSingle with ``single``)."""
    out: dict[str, Any] = {
        "id": space["id"],
        "key": space["key"],
        "name": space["name"],
        "type": space.get("type") or "global",
        "status": space.get("status") or "current",
        "authorId": space.get("authorId") or "",
        "createdAt": space["createdAt"],
        "homepageId": space.get("homepageId") or "",
        "currentActiveAlias": space["key"],
    }
    if single:
        del out["currentActiveAlias"]
    if description_format:
        text = space.get("description") or ""
        value = text if description_format == "plain" else f"<p>{_escape(text)}</p>"
        out["description"] = {
            description_format: {"representation": description_format, "value": value}
        }
    if include_icon:
        out["icon"] = {
            "path": "/images/logo/default-space-logo.svg",
            "apiDownloadLink": f"/download/space-icon/{space['key']}",
        }
    links = {"webui": space_webui(space)}
    if single:
        links["base"] = req.wiki_base
    out["_links"] = links
    return out


def folder_json(req: Request, folder: dict[str, Any], single: bool = True) -> dict[str, Any]:
    """FolderSingle."""
    out: dict[str, Any] = {
        "id": folder["id"],
        "type": "folder",
        "status": folder["status"],
        "title": folder["title"],
    }
    _parent_fields(folder, out)
    out.update(
        {
            "position": folder.get("position"),
            "authorId": folder.get("authorId") or "",
            "ownerId": folder.get("ownerId") or folder.get("authorId") or "",
            "createdAt": folder["createdAt"],
            "spaceId": folder["spaceId"],
            "version": version_json(folder["version"]),
        }
    )
    links = {"webui": folder_webui(req, folder)}
    if single:
        links["base"] = req.wiki_base
    out["_links"] = links
    return out


def child_json(node: dict[str, Any], with_type: bool = True) -> dict[str, Any]:
    """ChildrenResponse (``with_type``) or ChildPage."""
    out: dict[str, Any] = {"id": node["id"], "status": node["status"], "title": node["title"]}
    if with_type:
        out["type"] = node.get("type") or "page"
    out["spaceId"] = node["spaceId"]
    out["childPosition"] = node.get("position")
    return out


def descendant_json(node: dict[str, Any], depth: int) -> dict[str, Any]:
    """DescendantsResponse."""
    return {
        "id": node["id"],
        "status": node["status"],
        "title": node["title"],
        "type": node.get("type") or "page",
        "parentId": node.get("parentId") or "",
        "depth": depth,
        "childPosition": node.get("position"),
    }


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
