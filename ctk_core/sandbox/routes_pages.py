"""Pages: list, get (historic versions too), create, update, rename, trash/purge, the tree
(children, descendants, ancestors), versions, and the v1 move and restore endpoints."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ctk_core.sandbox.bodies import body_from_write, render_body
from ctk_core.sandbox.paging import paginate
from ctk_core.sandbox.responses import HttpError, Response, empty_response, json_response
from ctk_core.sandbox.router import Request, Router
from ctk_core.sandbox.tree import (
    LISTED,
    ancestors,
    check_id,
    descendants,
    detach,
    duplicate_title_error,
    get_node,
    get_page,
    get_space,
    is_within,
    listed_children,
    renumber,
    title_taken,
)
from ctk_core.sandbox.views import (
    child_json,
    descendant_json,
    page_json,
    version_json,
)

PAGE_SORTS = (
    "id",
    "-id",
    "created-date",
    "-created-date",
    "modified-date",
    "-modified-date",
    "title",
    "-title",
)
LIST_BODY_FORMATS = ("storage", "atlas_doc_format")
SINGLE_BODY_FORMATS = (
    "storage",
    "atlas_doc_format",
    "view",
    "export_view",
    "anonymous_export_view",
    "styled_view",
    "editor",
)
PAGE_STATUSES = ("current", "archived", "deleted", "trashed")
CHILD_SORTS = (
    "child-position",
    "-child-position",
    "id",
    "-id",
    "created-date",
    "-created-date",
    "modified-date",
    "-modified-date",
    "title",
    "-title",
)

_SORT_KEYS = {
    "id": lambda n: int(n["id"]),
    "created-date": lambda n: (n["createdAt"], int(n["id"])),
    "modified-date": lambda n: (n["version"]["createdAt"], int(n["id"])),
    "title": lambda n: (n["title"].lower(), int(n["id"])),
    "child-position": lambda n: (n.get("position") or 0, int(n["id"])),
}


def sort_nodes(nodes: Iterable[dict[str, Any]], sort: str) -> list[dict[str, Any]]:
    key = _SORT_KEYS[sort.lstrip("-")]
    return sorted(nodes, key=key, reverse=sort.startswith("-"))  # type: ignore[arg-type]


def statuses_arg(req: Request, default: tuple[str, ...] = LISTED) -> list[str]:
    statuses = req.args("status") or list(default)
    for status in statuses:
        if status not in PAGE_STATUSES:
            raise HttpError(400, f"Invalid value for parameter 'status': {status!r}")
    return statuses


def list_pages(req: Request, pages: Iterable[dict[str, Any]]) -> Response:
    """Filter (status, title), sort and page a page list, as ``/pages`` and
    ``/spaces/{id}/pages`` do."""
    statuses = statuses_arg(req)
    title = req.arg("title")
    sort = req.choice_arg("sort", PAGE_SORTS, "id") or "id"
    fmt = req.choice_arg("body-format", LIST_BODY_FORMATS)
    chosen = [
        p for p in pages if p["status"] in statuses and (title is None or p["title"] == title)
    ]
    return paginate(req, sort_nodes(chosen, sort), lambda p: page_json(req, p, fmt))


def _historic(page: dict[str, Any], number: int) -> dict[str, Any] | None:
    """None for the current version, else the stored entry (404 when there is none)."""
    if number == page["version"]["number"]:
        return None
    for entry in page["versions"]:
        if entry["number"] == number:
            return entry
    raise HttpError(404, f"Version {number} of page {page['id']} not found.")


def _with_includes(req: Request, page: dict[str, Any], out: dict[str, Any]) -> dict[str, Any]:
    state = req.state
    if req.bool_arg("include-labels"):
        ids = state.content_labels.get(page["id"], [])
        labels = [state.labels[i] for i in ids if i in state.labels]
        out["labels"] = {
            "results": [
                {"id": lb["id"], "name": lb["name"], "prefix": lb.get("prefix", "global")}
                for lb in labels
            ],
            "meta": {"hasMore": False, "cursor": ""},
            "_links": {"self": f"/wiki/api/v2/pages/{page['id']}/labels"},
        }
    if req.bool_arg("include-versions"):
        history = [page["version"]] + [
            {k: v for k, v in e.items() if k not in ("title", "body")}
            for e in reversed(page["versions"])
        ]
        out["versions"] = {
            "results": [version_json(v) for v in history[:50]],
            "meta": {"hasMore": len(history) > 50, "cursor": ""},
            "_links": {"self": f"/wiki/api/v2/pages/{page['id']}/versions"},
        }
    return out


def _single(req: Request, page: dict[str, Any], fmt: str | None = "storage") -> Response:
    return json_response(page_json(req, page, fmt, single=True))


def _parent_for(req: Request, space_id: str, parent_id: Any, moving: str | None = None) -> str:
    """Validate a parentId: an existing page or folder in the same space."""
    if not isinstance(parent_id, str) or not parent_id.isdigit():
        raise HttpError(400, f"Invalid parentId: {parent_id!r}")
    parent = get_node(req.state, parent_id)
    if parent is None or parent["status"] not in LISTED:
        raise HttpError(404, f"Parent {parent_id} not found or not visible to you.")
    if parent["spaceId"] != space_id:
        raise HttpError(400, "The parent must be in the same space as the page.")
    if moving is not None and is_within(req.state, parent_id, moving):
        raise HttpError(400, "A page cannot be moved below itself.")
    return parent_id


def _title_of(data: dict[str, Any], required: bool = True) -> str | None:
    title = data.get("title")
    if title is None and not required:
        return None
    if not isinstance(title, str) or not title.strip():
        raise HttpError(400, "A page title is required and must be a non-empty string.")
    if len(title) > 255:
        raise HttpError(400, "Title cannot be longer than 255 characters.")
    return title


def _body_of(data: dict[str, Any]) -> str | None:
    if "body" not in data:
        return None
    try:
        return body_from_write(data["body"])
    except ValueError as exc:
        raise HttpError(400, f"Invalid body: {exc}") from None


def create_page(req: Request) -> Response:
    req.check_create_size()
    data = req.json_object()
    space_id = data.get("spaceId")
    if not isinstance(space_id, str | int) or not str(space_id).isdigit():
        raise HttpError(400, "spaceId is required and must be a space ID.")
    space = get_space(req.state, str(space_id))
    status = data.get("status") or "current"
    if status not in ("current", "draft"):
        raise HttpError(400, f"Invalid status: {status!r}")
    title = _title_of(data, required=status != "draft") or ""
    body = _body_of(data) or ""
    root_level = req.bool_arg("root-level")
    parent_id = data.get("parentId")
    if root_level and parent_id:
        raise HttpError(400, "parentId may not be given with root-level=true.")
    if parent_id is not None:
        parent_id = _parent_for(req, space["id"], str(parent_id))
    if status == "current" and title_taken(req.state, space["id"], title):
        raise duplicate_title_error(req.state, space["id"], title)
    page = req.state.create_page(
        space["id"],
        title,
        body,
        parent_id=parent_id,
        author=req.user,
        status=status,
        root=root_level,
    )
    return _single(req, page)


def update_page(req: Request, id: str) -> Response:
    page = get_page(req.state, id)
    data = req.json_object()
    missing = [f for f in ("id", "status", "title", "body", "version") if f not in data]
    if missing:
        raise HttpError(400, f"Missing required field(s): {', '.join(missing)}")
    if str(data["id"]) != id:
        raise HttpError(400, "The id in the body does not match the page in the path.")
    status = data["status"]
    if status not in ("current", "draft"):
        raise HttpError(400, f"Invalid status: {status!r}")
    if data.get("spaceId") is not None and str(data["spaceId"]) != page["spaceId"]:
        raise HttpError(400, "Moving a page to a different space is not supported.")
    if page["status"] in ("trashed", "deleted") and status == "current":
        return _restore_from_trash(req, page)
    version = data.get("version")
    number = version.get("number") if isinstance(version, dict) else None
    if not isinstance(number, int):
        raise HttpError(400, "version.number is required and must be an integer.")
    current = page["version"]["number"]
    if number != current + 1:
        raise HttpError(
            409,
            "Version must be incremented when updating a page. "
            f"Current Version: [{current}]. Provided version: [{number}]",
        )
    title = _title_of(data)
    assert title is not None
    body = _body_of(data)
    if title_taken(req.state, page["spaceId"], title, exclude_id=id):
        raise duplicate_title_error(req.state, page["spaceId"], title)
    parent_id = data.get("parentId")
    if parent_id is not None and str(parent_id) != page.get("parentId"):
        parent_id = _parent_for(req, page["spaceId"], str(parent_id), moving=id)
        siblings = [c for c in req.state.children_of(parent_id) if c["id"] != id]
        renumber(req.state, parent_id, page["spaceId"], [*siblings, page])
    if data.get("ownerId") and data["ownerId"] != page.get("ownerId"):
        page["lastOwnerId"] = page.get("ownerId")
        page["ownerId"] = str(data["ownerId"])
    assert isinstance(version, dict)
    message = str(version.get("message") or "")
    minor = bool(version.get("minorEdit"))
    req.state.update_page(
        page, title=title, body=body, message=message, minor_edit=minor, author=req.user
    )
    return _single(req, page)


def _restore_from_trash(req: Request, page: dict[str, Any]) -> Response:
    if title_taken(req.state, page["spaceId"], page["title"], exclude_id=page["id"]):
        raise duplicate_title_error(req.state, page["spaceId"], page["title"])
    parent = get_node(req.state, page.get("parentId") or "")
    if page.get("parentId") and (parent is None or parent["status"] not in LISTED):
        home = req.state.spaces[page["spaceId"]].get("homepageId")
        page["parentId"] = home
        page["parentType"] = req.state.parent_type(home)
    page["status"] = "current"
    page.pop("trashedAt", None)
    return _single(req, page)


def update_title(req: Request, id: str) -> Response:
    page = get_page(req.state, id)
    data = req.json_object()
    if data.get("status") not in ("current", "draft"):
        raise HttpError(400, "status is required: current or draft.")
    title = _title_of(data)
    assert title is not None
    if title_taken(req.state, page["spaceId"], title, exclude_id=id):
        raise duplicate_title_error(req.state, page["spaceId"], title)
    if title != page["title"]:
        req.state.update_page(page, title=title, author=req.user)
    return _single(req, page)


def delete_page(req: Request, id: str) -> Response:
    page = get_page(req.state, id)
    if req.bool_arg("purge"):
        if page["status"] != "trashed":
            raise HttpError(400, "Only a trashed page can be purged: delete it first.")
        del req.state.pages[id]
        req.state.content_labels.pop(id, None)
        return empty_response(204)
    if page["status"] not in LISTED and page["status"] != "draft":
        raise HttpError(404, f"Page {id} not found or not visible to you.")
    detach(req.state, page)
    page["status"] = "trashed"
    page["trashedAt"] = req.state.now()
    return empty_response(204)


def get_one(req: Request, id: str) -> Response:
    page = get_page(req.state, id)
    statuses = req.args("status")
    if statuses and page["status"] not in statuses:
        raise HttpError(404, f"Page {id} not found or not visible to you.")
    fmt = req.choice_arg("body-format", SINGLE_BODY_FORMATS)
    number = req.int_arg("version", minimum=1)
    historic = _historic(page, number) if number is not None else None
    out = page_json(
        req,
        page,
        fmt,
        single=True,
        historic=historic,
        include_version=req.bool_arg("include-version", True),
    )
    return json_response(_with_includes(req, page, out))


def direct_children(req: Request, id: str) -> Response:
    get_page(req.state, id)
    return children_response(req, id, with_type=True)


def children_response(
    req: Request, parent_id: str, with_type: bool, pages_only: bool = False
) -> Response:
    sort = req.choice_arg("sort", CHILD_SORTS, "child-position") or "child-position"
    kids = listed_children(req.state, parent_id)
    if pages_only:
        kids = [k for k in kids if k.get("type", "page") == "page"]
    return paginate(req, sort_nodes(kids, sort), lambda n: child_json(n, with_type))


def descendants_response(req: Request, node_id: str) -> Response:
    depth = req.int_arg("depth", 2, minimum=1, maximum=10)
    assert depth is not None
    found = descendants(req.state, node_id, depth)
    return paginate(req, found, lambda pair: descendant_json(pair[0], pair[1]))


def ancestors_response(req: Request, node: dict[str, Any]) -> Response:
    limit = req.int_arg("limit", 25, minimum=1, maximum=250)
    assert limit is not None
    chain = ancestors(req.state, node)[-limit:]
    return json_response(
        {
            "results": [{"id": a["id"], "type": a.get("type") or "page"} for a in chain],
            "_links": {"base": req.wiki_base},
        }
    )


def versions(req: Request, id: str) -> Response:
    page = get_page(req.state, id)
    fmt = req.choice_arg("body-format", LIST_BODY_FORMATS)
    sort = req.choice_arg("sort", ("modified-date", "-modified-date"), "-modified-date")
    current = dict(page["version"], title=page["title"], body=page["body"])
    history = page["versions"] + [current]
    if sort == "-modified-date":
        history = list(reversed(history))

    def view(entry: dict[str, Any]) -> dict[str, Any]:
        out = version_json(entry)
        out["page"] = {
            "id": page["id"],
            "title": entry["title"],
            "body": render_body(entry.get("body") or "", fmt),
        }
        return out

    return paginate(req, history, view)


def version_detail(req: Request, page_id: str, version_number: str) -> Response:
    page = get_page(req.state, page_id)
    check_id(version_number, "version number")
    number = int(version_number)
    entry = _historic(page, number) or page["version"]
    out: dict[str, Any] = version_json(entry)
    out.update({"contentTypeModified": False, "collaborators": [entry.get("authorId") or ""]})
    if number > 1:
        out["prevVersion"] = number - 1
    if number < page["version"]["number"]:
        out["nextVersion"] = number + 1
    return json_response(out)


def move(req: Request, page_id: str, position: str, target_id: str) -> Response:
    """v1 ``PUT /content/{id}/move/{before|after|append}/{targetId}`` (cross-space too)."""
    state = req.state
    page = state.pages.get(page_id)
    target = get_node(state, target_id)
    if position not in ("before", "after", "append"):
        raise HttpError(400, f"Invalid position {position!r}: use before, after or append.")
    if page is None or page["status"] not in LISTED:
        raise HttpError(404, f"No content with id {page_id}.")
    if target is None or target["status"] not in LISTED:
        raise HttpError(404, f"No content with id {target_id}.")
    if is_within(state, target_id, page_id):
        raise HttpError(400, "The move would create a parent-child loop.")
    if position == "append":
        parent_id: str | None = target_id
    else:
        parent_id = target.get("parentId")
    space_id = target["spaceId"]
    moved = [page] + [n for n, _ in descendants(state, page_id, 10_000)]
    if space_id != page["spaceId"]:
        for node in moved:
            if node.get("type", "page") == "page" and title_taken(state, space_id, node["title"]):
                raise HttpError(
                    400,
                    f"A page already exists with the title {node['title']} in the target space.",
                )
    siblings = [c for c in state.children_of(parent_id) if c["id"] != page_id] if parent_id else []
    if position == "append":
        siblings.append(page)
    else:
        index = next(i for i, c in enumerate(siblings) if c["id"] == target_id)
        siblings.insert(index if position == "before" else index + 1, page)
    renumber(state, parent_id, space_id, siblings)
    for node in moved:
        node["spaceId"] = space_id
    return json_response({"pageId": page_id})


def restore_version(req: Request, id: str) -> Response:
    """v1 ``POST /content/{id}/version``: make an old version the current one."""
    page = req.state.pages.get(id)
    if page is None:
        raise HttpError(400, f"There is no content with the given id {id}.")
    data = req.json_object()
    params = data.get("params")
    if data.get("operationKey") != "restore" or not isinstance(params, dict):
        raise HttpError(400, "operationKey must be 'restore' and params must be an object.")
    number = params.get("versionNumber")
    if not isinstance(number, int):
        raise HttpError(400, "params.versionNumber is required and must be an integer.")
    if number == page["version"]["number"]:
        raise HttpError(400, f"Version {number} is the current version.")
    entry = next((e for e in page["versions"] if e["number"] == number), None)
    if entry is None:
        raise HttpError(400, f"There is no version {number} of content {id}.")
    title = entry["title"] if params.get("restoreTitle") else page["title"]
    if title != page["title"] and title_taken(req.state, page["spaceId"], title, exclude_id=id):
        raise duplicate_title_error(req.state, page["spaceId"], title)
    message = params.get("message") or f"Restored from version {number}"
    req.state.update_page(
        page, title=title, body=entry["body"], message=str(message), author=req.user
    )
    return json_response(v1_version(req, page))


def v1_version(req: Request, page: dict[str, Any]) -> dict[str, Any]:
    version = page["version"]
    user = req.state.users.get(version.get("authorId") or "", {})
    by = {
        "type": "known",
        "accountId": version.get("authorId") or "",
        "accountType": "atlassian",
        "email": user.get("email", ""),
        "publicName": user.get("publicName", user.get("displayName", "")),
        "displayName": user.get("displayName", ""),
        "isExternalCollaborator": False,
    }
    return {
        "by": by,
        "when": version["createdAt"],
        "friendlyWhen": "just a moment ago",
        "message": version.get("message") or "",
        "number": version["number"],
        "minorEdit": bool(version.get("minorEdit")),
        "contentTypeModified": False,
        "_expandable": {"content": f"/rest/api/content/{page['id']}"},
        "_links": {
            "self": f"{req.wiki_base}/rest/api/content/{page['id']}/version/{version['number']}"
        },
    }


def register(router: Router) -> None:
    v2 = "/wiki/api/v2"

    @router.route("GET", f"{v2}/pages")
    def pages(req: Request) -> Response:
        ids = req.args("id")
        space_ids = req.args("space-id")
        for value in ids + space_ids:
            check_id(value)
        subtype = req.choice_arg("subtype", ("live", "page"))
        chosen = [
            p
            for p in req.state.pages.values()
            if (not ids or p["id"] in ids)
            and (not space_ids or p["spaceId"] in space_ids)
            and (subtype != "live" or p.get("subtype") == "live")
        ]
        return list_pages(req, chosen)

    router.add("POST", f"{v2}/pages", create_page)
    router.add("GET", f"{v2}/pages/{{id}}", get_one)
    router.add("PUT", f"{v2}/pages/{{id}}", update_page)
    router.add("DELETE", f"{v2}/pages/{{id}}", delete_page)
    router.add("PUT", f"{v2}/pages/{{id}}/title", update_title)
    router.add("GET", f"{v2}/pages/{{id}}/direct-children", direct_children)

    @router.route("GET", f"{v2}/pages/{{id}}/children")
    def children(req: Request, id: str) -> Response:
        get_page(req.state, id)
        return children_response(req, id, with_type=False, pages_only=True)

    @router.route("GET", f"{v2}/pages/{{id}}/descendants")
    def page_descendants(req: Request, id: str) -> Response:
        get_page(req.state, id)
        return descendants_response(req, id)

    @router.route("GET", f"{v2}/pages/{{id}}/ancestors")
    def page_ancestors(req: Request, id: str) -> Response:
        return ancestors_response(req, get_page(req.state, id))

    router.add("GET", f"{v2}/pages/{{id}}/versions", versions)
    router.add("GET", f"{v2}/pages/{{page-id}}/versions/{{version-number}}", version_detail)
    router.add(
        "PUT",
        "/wiki/rest/api/content/{pageId}/move/{position}/{targetId}",
        lambda req, pageId, position, targetId: move(req, pageId, position, targetId),
    )
    router.add("POST", "/wiki/rest/api/content/{id}/version", restore_version)
