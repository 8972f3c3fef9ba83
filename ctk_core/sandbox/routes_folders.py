"""Folders: create, get, delete (to trash), and their part of the tree."""

from __future__ import annotations

from ctk_core.sandbox.responses import HttpError, Response, empty_response, json_response
from ctk_core.sandbox.router import Request, Router
from ctk_core.sandbox.routes_pages import (
    ancestors_response,
    children_response,
    descendants_response,
)
from ctk_core.sandbox.tree import LISTED, detach, get_folder, get_node, get_space
from ctk_core.sandbox.views import folder_json


def create_folder(req: Request) -> Response:
    req.check_create_size()
    data = req.json_object()
    space_id = data.get("spaceId")
    if not isinstance(space_id, str | int) or not str(space_id).isdigit():
        raise HttpError(400, "spaceId is required and must be a space ID.")
    space = get_space(req.state, str(space_id))
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        raise HttpError(400, "A folder title is required.")
    parent_id = data.get("parentId")
    if parent_id is not None:
        parent = get_node(req.state, str(parent_id))
        if parent is None or parent["status"] not in LISTED:
            raise HttpError(404, f"Parent {parent_id} not found or not visible to you.")
        if parent["spaceId"] != space["id"]:
            raise HttpError(400, "The parent must be in the same space as the folder.")
        parent_id = parent["id"]
    folder = req.state.create_folder(space["id"], title, parent_id=parent_id, author=req.user)
    return json_response(folder_json(req, folder))


def get_one(req: Request, id: str) -> Response:
    return json_response(folder_json(req, get_folder(req.state, id)))


def delete_folder(req: Request, id: str) -> Response:
    folder = get_folder(req.state, id)
    if folder["status"] not in LISTED:
        raise HttpError(404, f"Folder {id} not found or not visible to you.")
    detach(req.state, folder)
    folder["status"] = "trashed"
    return empty_response(204)


def register(router: Router) -> None:
    v2 = "/wiki/api/v2"
    router.add("POST", f"{v2}/folders", create_folder)
    router.add("GET", f"{v2}/folders/{{id}}", get_one)
    router.add("DELETE", f"{v2}/folders/{{id}}", delete_folder)

    @router.route("GET", f"{v2}/folders/{{id}}/direct-children")
    def direct_children(req: Request, id: str) -> Response:
        get_folder(req.state, id)
        return children_response(req, id, with_type=True)

    @router.route("GET", f"{v2}/folders/{{id}}/descendants")
    def folder_descendants(req: Request, id: str) -> Response:
        get_folder(req.state, id)
        return descendants_response(req, id)

    @router.route("GET", f"{v2}/folders/{{id}}/ancestors")
    def folder_ancestors(req: Request, id: str) -> Response:
        return ancestors_response(req, get_folder(req.state, id))
