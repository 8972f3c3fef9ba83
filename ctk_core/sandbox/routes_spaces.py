"""Spaces: v2 list and get, the pages of a space, and v1 space create."""

from __future__ import annotations

import re
from typing import Any

from ctk_core.sandbox.paging import paginate
from ctk_core.sandbox.responses import HttpError, Response, json_response
from ctk_core.sandbox.router import Request, Router
from ctk_core.sandbox.routes_pages import list_pages
from ctk_core.sandbox.tree import check_id, get_space
from ctk_core.sandbox.views import space_json, space_webui

SPACE_TYPES = (
    "global",
    "collaboration",
    "knowledge_base",
    "personal",
    "system",
    "onboarding",
    "xflow_sample_space",
)
SPACE_SORTS = ("id", "-id", "key", "-key", "name", "-name")
_SPACE_KEY = re.compile(r"^[A-Za-z0-9]{1,255}$")


def _sorted(spaces: list[dict[str, Any]], sort: str) -> list[dict[str, Any]]:
    field = sort.lstrip("-")
    if field == "id":
        return sorted(spaces, key=lambda s: int(s["id"]), reverse=sort.startswith("-"))
    return sorted(
        spaces, key=lambda s: (str(s[field]).lower(), int(s["id"])), reverse=sort.startswith("-")
    )


def list_spaces(req: Request) -> Response:
    ids = req.args("ids")
    for value in ids:
        check_id(value)
    keys = req.args("keys")
    space_type = req.choice_arg("type", SPACE_TYPES)
    status = req.choice_arg("status", ("current", "archived"))
    sort = req.choice_arg("sort", SPACE_SORTS, "id") or "id"
    fmt = req.choice_arg("description-format", ("plain", "view"))
    icon = req.bool_arg("include-icon")
    chosen = [
        s
        for s in req.state.spaces.values()
        if (not ids or s["id"] in ids)
        and (not keys or s["key"] in keys)
        and (space_type is None or s.get("type", "global") == space_type)
        and (status is None or s.get("status", "current") == status)
    ]
    return paginate(req, _sorted(chosen, sort), lambda s: space_json(req, s, fmt, icon))


def get_one(req: Request, id: str) -> Response:
    space = get_space(req.state, id)
    fmt = req.choice_arg("description-format", ("plain", "view"))
    out = space_json(req, space, fmt, req.bool_arg("include-icon"), single=True)
    if req.bool_arg("include-labels"):
        out["labels"] = {
            "results": [],
            "meta": {"hasMore": False, "cursor": ""},
            "_links": {"self": f"/wiki/api/v2/spaces/{id}/labels"},
        }
    return json_response(out)


def space_pages(req: Request, id: str) -> Response:
    space = get_space(req.state, id)
    depth = req.choice_arg("depth", ("all", "root"), "all")
    pages = [
        p
        for p in req.state.pages.values()
        if p["spaceId"] == space["id"] and (depth == "all" or not p.get("parentId"))
    ]
    return list_pages(req, pages)


def create_space_v1(req: Request) -> Response:
    """v1 ``POST /wiki/rest/api/space``: ``{key, name, description: {plain: {value}}}``."""
    req.check_create_size()
    data = req.json_object()
    key, name = data.get("key"), data.get("name")
    if not isinstance(key, str) or not _SPACE_KEY.match(key):
        raise HttpError(400, "Space key is required and may contain only letters and digits.")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise HttpError(400, "Space name is required (at most 200 characters).")
    if req.state.space_by_key(key) is not None:
        raise HttpError(400, f"A space with key {key} already exists.")
    description = ""
    desc = data.get("description")
    if isinstance(desc, dict) and isinstance(desc.get("plain"), dict):
        description = str(desc["plain"].get("value") or "")
    space = req.state.create_space(key, name, description, author=req.user)
    return json_response(v1_space(req, space))


def v1_space(req: Request, space: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": int(space["id"]),
        "key": space["key"],
        "name": space["name"],
        "description": {
            "plain": {
                "value": space.get("description") or "",
                "representation": "plain",
                "embeddedContent": [],
            },
            "_expandable": {"view": ""},
        },
        "type": space.get("type") or "global",
        "status": space.get("status") or "current",
        "_expandable": {
            "settings": f"/rest/api/space/{space['key']}/settings",
            "metadata": "",
            "operations": "",
            "lookAndFeel": "",
            "permissions": "",
            "icon": "",
            "theme": "",
            "history": "",
            "homepage": f"/rest/api/content/{space.get('homepageId')}",
        },
        "_links": {
            "webui": space_webui(space),
            "self": f"{req.wiki_base}/rest/api/space/{space['key']}",
            "base": req.wiki_base,
            "context": "/wiki",
        },
    }


def register(router: Router) -> None:
    v2 = "/wiki/api/v2"
    router.add("GET", f"{v2}/spaces", list_spaces)
    router.add("GET", f"{v2}/spaces/{{id}}", get_one)
    router.add("GET", f"{v2}/spaces/{{id}}/pages", space_pages)
    router.add("POST", "/wiki/rest/api/space", create_space_v1)
