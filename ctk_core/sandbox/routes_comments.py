"""Footer and inline comments (v2): lists, create, reply, read, update, resolve, delete.

A comment record in ``state.comments``::

    {id, type: "comment", kind: "footer"|"inline", status, title, pageId, parentCommentId,
     body (storage), authorId, createdAt, version, versions: [previous versions],
     # inline only:
     resolutionStatus, resolutionLastModifierId, resolutionLastModifiedAt,
     inlineMarkerRef, inlineOriginalSelection}
"""

from __future__ import annotations

import uuid
from typing import Any

from ctk_core.sandbox import selection as selection_marker
from ctk_core.sandbox.bodies import body_from_write, render_body
from ctk_core.sandbox.paging import paginate
from ctk_core.sandbox.responses import HttpError, Response, empty_response, json_response
from ctk_core.sandbox.router import Request
from ctk_core.sandbox.state import State, make_version
from ctk_core.sandbox.views import page_webui, version_json

KINDS = ("footer", "inline")
LIST_FORMATS = ("storage", "atlas_doc_format")
SINGLE_FORMATS = (
    "storage",
    "atlas_doc_format",
    "view",
    "export_view",
    "anonymous_export_view",
    "styled_view",
    "editor",
)
SORTS = ("created-date", "-created-date", "modified-date", "-modified-date")
RESOLUTIONS = ("open", "reopened", "resolved", "dangling")


# ------------------------------------------------------------------------------ model


def create_comment(
    state: State,
    kind: str,
    *,
    body: str,
    page_id: str | None = None,
    parent_id: str | None = None,
    author: str | None = None,
    created_at: str | None = None,
    marker_ref: str | None = None,
    selection: str | None = None,
) -> dict[str, Any]:
    """A footer or inline comment on a page, or a reply (``parent_id``). No validation."""
    parent = state.comments[parent_id] if parent_id else None
    if parent is not None:
        page_id = parent["pageId"]
    assert page_id is not None
    page = state.pages[page_id]
    created_at = created_at or state.now()
    author = author or state.current_user or ""
    comment: dict[str, Any] = {
        "id": state.new_id(),
        "type": "comment",
        "kind": kind,
        "status": "current",
        "title": f"Re: {page['title']}",
        "pageId": page_id,
        "parentCommentId": parent_id,
        "body": body,
        "authorId": author,
        "createdAt": created_at,
        "version": make_version(1, author, created_at),
        "versions": [],
    }
    if kind == "inline":
        comment.update(
            {
                "resolutionStatus": "open",
                "resolutionLastModifierId": None,
                "resolutionLastModifiedAt": None,
                "inlineMarkerRef": parent["inlineMarkerRef"] if parent else marker_ref,
                "inlineOriginalSelection": parent["inlineOriginalSelection"]
                if parent
                else selection,
            }
        )
    state.comments[comment["id"]] = comment
    return comment


def comments_of(state: State, page_id: str, kind: str) -> list[dict[str, Any]]:
    """Top-level comments of one kind on a page, oldest first."""
    return [
        c
        for c in state.comments.values()
        if c["pageId"] == page_id and c["kind"] == kind and not c["parentCommentId"]
    ]


def replies_of(state: State, comment_id: str) -> list[dict[str, Any]]:
    return [c for c in state.comments.values() if c["parentCommentId"] == comment_id]


# ------------------------------------------------------------------------------ serialization


def comment_json(
    req: Request,
    comment: dict[str, Any],
    body_format: str | None,
    shape: str = "single",
    version: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One comment in the shape of a v2 model.

    ``shape``: ``single`` (FooterCommentModel / InlineCommentModel, with ``_links.base``),
    ``all`` (the same models in a site-wide list), ``page`` (PageCommentModel /
    PageInlineCommentModel), ``child`` (children models).
    """
    state = req.state
    page = state.pages.get(comment["pageId"]) or {
        "id": comment["pageId"],
        "title": "",
        "spaceId": "",
    }
    single = shape in ("single", "all")
    current = version or comment["version"]
    body = version["body"] if version else comment["body"]
    out: dict[str, Any] = {
        "id": comment["id"],
        "status": comment["status"],
        "title": comment["title"],
    }
    if shape != "child":
        out["pageId"] = comment["pageId"]
    if shape != "page" and comment["parentCommentId"]:
        out["parentCommentId"] = comment["parentCommentId"]
    out["version"] = version_json(current)
    out["body"] = render_body(body, body_format)
    if comment["kind"] == "inline":
        out["resolutionStatus"] = comment["resolutionStatus"]
        props = {
            "inlineMarkerRef": comment.get("inlineMarkerRef") or "",
            "inlineOriginalSelection": comment.get("inlineOriginalSelection") or "",
        }
        out["properties"] = props
        if single:
            if comment.get("resolutionLastModifierId"):
                out["resolutionLastModifierId"] = comment["resolutionLastModifierId"]
            if comment.get("resolutionLastModifiedAt"):
                out["resolutionLastModifiedAt"] = comment["resolutionLastModifiedAt"]
    links: dict[str, str] = {"webui": f"{page_webui(req, page)}?focusedCommentId={comment['id']}"}
    if shape == "single":
        links["base"] = req.wiki_base
    out["_links"] = links
    return out


def _sorted(comments: list[dict[str, Any]], sort: str | None) -> list[dict[str, Any]]:
    field = (sort or "created-date").lstrip("-")
    if field == "modified-date":
        ordered = sorted(comments, key=lambda c: (c["version"]["createdAt"], int(c["id"])))
    else:
        ordered = sorted(comments, key=lambda c: (c["createdAt"], int(c["id"])))
    return list(reversed(ordered)) if sort and sort.startswith("-") else ordered


# ------------------------------------------------------------------------------ helpers


def _page_or_404(state: State, page_id: Any) -> dict[str, Any]:
    page = state.pages.get(str(page_id)) if page_id is not None else None
    if page is None or page.get("status") in ("deleted", "trashed"):
        raise HttpError(404, f"Page {page_id} not found.")
    return page


def _comment_or_404(state: State, comment_id: str, kind: str) -> dict[str, Any]:
    comment = state.comments.get(comment_id)
    if comment is None or comment["kind"] != kind:
        raise HttpError(404, f"{kind.capitalize()} comment {comment_id} not found.")
    return comment


def _body_of(data: dict[str, Any], required: bool = True) -> str | None:
    if "body" not in data or data["body"] is None:
        if required:
            raise HttpError(400, "The comment body is required.")
        return None
    try:
        storage = body_from_write(data["body"])
    except ValueError as exc:
        raise HttpError(400, f"Invalid comment body: {exc}") from None
    if not storage.strip():
        raise HttpError(400, "The comment body cannot be empty.")
    return storage


def _statuses(req: Request) -> set[str]:
    return set(req.args("status")) or {"current"}


def _list(req: Request, comments: list[dict[str, Any]], shape: str) -> Response:
    fmt = req.choice_arg("body-format", LIST_FORMATS)
    sort = req.choice_arg("sort", SORTS)
    wanted = _statuses(req)
    chosen = _sorted([c for c in comments if c["status"] in wanted], sort)
    return paginate(req, chosen, lambda c: comment_json(req, c, fmt, shape))


def _create(req: Request, kind: str) -> Response:
    state = req.state
    data = req.json_object()
    for other in ("blogPostId", "attachmentId", "customContentId"):
        if data.get(other):
            raise HttpError(400, f"'{other}' is not supported by the sandbox: use pageId.")
    page_id, parent_id = data.get("pageId"), data.get("parentCommentId")
    if bool(page_id) == bool(parent_id):
        raise HttpError(
            400, "Give exactly one of 'pageId' (a new comment) or 'parentCommentId' (a reply)."
        )
    body = _body_of(data)
    assert body is not None
    if parent_id:
        parent = _comment_or_404(state, str(parent_id), kind)
        _page_or_404(state, parent["pageId"])
        comment = create_comment(state, kind, body=body, parent_id=parent["id"], author=req.user)
    elif kind == "footer":
        page = _page_or_404(state, page_id)
        comment = create_comment(state, kind, body=body, page_id=page["id"], author=req.user)
    else:
        comment = _create_inline(req, _page_or_404(state, page_id), data, body)
    return json_response(comment_json(req, comment, "storage"), 201)


def _create_inline(
    req: Request, page: dict[str, Any], data: dict[str, Any], body: str
) -> dict[str, Any]:
    props = data.get("inlineCommentProperties")
    if not isinstance(props, dict) or not props.get("textSelection"):
        raise HttpError(
            400, "inlineCommentProperties.textSelection is required for a new inline comment."
        )
    selection = selection_marker.squash(str(props["textSelection"]))
    index = props.get("textSelectionMatchIndex", 0)
    count = props.get("textSelectionMatchCount")
    if not isinstance(index, int) or index < 0:
        raise HttpError(400, "textSelectionMatchIndex must be a non-negative integer.")
    ref = str(uuid.uuid4())
    storage, found = selection_marker.mark(page["body"], selection, index, ref)
    if found == 0:
        raise HttpError(400, f"The text selection {selection!r} was not found on the page.")
    if count is not None and count != found:
        raise HttpError(
            400,
            f"textSelectionMatchCount is {count} but the selection occurs "
            f"{found} time(s) on the page.",
        )
    if index >= found:
        raise HttpError(
            400,
            f"textSelectionMatchIndex {index} is out of range: the selection "
            f"occurs {found} time(s).",
        )
    page["body"] = storage
    return create_comment(
        req.state,
        "inline",
        body=body,
        page_id=page["id"],
        author=req.user,
        marker_ref=ref,
        selection=selection,
    )


def _update(req: Request, comment: dict[str, Any]) -> Response:
    """PUT: ``version.number`` must be current + 1; ``body`` replaces the body; ``resolved``
    (inline comments) resolves or reopens. Everything is checked before anything changes."""
    state = req.state
    data = req.json_object()
    body = _body_of(data, required=False)
    resolved = data.get("resolved")
    version = data.get("version")
    if not isinstance(version, dict) or not isinstance(version.get("number"), int):
        raise HttpError(400, "'version.number' is required to update a comment.")
    current = comment["version"]["number"]
    if version["number"] != current + 1:
        raise HttpError(
            409,
            "Version must be incremented when updating a comment. "
            f"Current Version: [{current}]. Provided version: "
            f"[{version['number']}]",
            code="CONFLICT",
        )
    if resolved is not None:
        _check_resolvable(comment, resolved)
    comment["versions"].append(dict(comment["version"], body=comment["body"]))
    if body is not None:
        comment["body"] = body
    comment["version"] = make_version(
        current + 1, req.user, state.now(), str(version.get("message") or "")
    )
    if resolved is not None and resolved != (comment["resolutionStatus"] == "resolved"):
        comment["resolutionStatus"] = "resolved" if resolved else "reopened"
        comment["resolutionLastModifierId"] = req.user or ""
        comment["resolutionLastModifiedAt"] = state.now()
    return json_response(comment_json(req, comment, "storage"))


def _check_resolvable(comment: dict[str, Any], resolved: Any) -> None:
    if comment["kind"] != "inline":
        raise HttpError(400, "Only inline comments can be resolved.")
    if not isinstance(resolved, bool):
        raise HttpError(400, "'resolved' must be true or false.")
    if comment["parentCommentId"]:
        raise HttpError(400, "Replies cannot be resolved: resolve the top-level comment.")
    if comment["resolutionStatus"] == "dangling":
        raise HttpError(400, "A dangling comment cannot be updated.")


def _delete(req: Request, comment: dict[str, Any]) -> Response:
    state = req.state
    doomed = [comment["id"]]
    i = 0
    while i < len(doomed):
        doomed.extend(c["id"] for c in replies_of(state, doomed[i]))
        i += 1
    if comment["kind"] == "inline" and not comment["parentCommentId"]:
        page = state.pages.get(comment["pageId"])
        if page is not None and comment.get("inlineMarkerRef"):
            page["body"] = selection_marker.unmark(page["body"], comment["inlineMarkerRef"])
    for cid in doomed:
        state.comments.pop(cid, None)
    return empty_response(204)


def _single(req: Request, comment: dict[str, Any]) -> Response:
    fmt = req.choice_arg("body-format", SINGLE_FORMATS)
    number = req.int_arg("version", minimum=1)
    version = None
    if number is not None and number != comment["version"]["number"]:
        version = next((v for v in comment["versions"] if v["number"] == number), None)
        if version is None:
            raise HttpError(404, f"Version {number} of comment {comment['id']} not found.")
    out = comment_json(req, comment, fmt, "single", version)
    if req.bool_arg("include-versions"):
        history = [comment["version"], *reversed(comment["versions"])]
        out["versions"] = {
            "results": [version_json(v) for v in history[:50]],
            "meta": {"hasMore": len(history) > 50, "cursor": ""},
        }
    if not req.bool_arg("include-version", True):
        out.pop("version", None)
    return json_response(out)


# ------------------------------------------------------------------------------ routes


def register(router: Any) -> None:
    for kind in KINDS:
        _register_kind(router, kind)

    @router.route("GET", "/wiki/api/v2/pages/{id}/footer-comments")
    def page_footer_comments(req: Request, id: str) -> Response:
        _page_or_404(req.state, id)
        return _list(req, comments_of(req.state, id, "footer"), "page")

    @router.route("GET", "/wiki/api/v2/pages/{id}/inline-comments")
    def page_inline_comments(req: Request, id: str) -> Response:
        _page_or_404(req.state, id)
        wanted = req.args("resolution-status")
        bad = [w for w in wanted if w not in RESOLUTIONS]
        if bad:
            raise HttpError(
                400,
                f"Invalid value for parameter 'resolution-status': {bad[0]!r}; "
                f"expected one of {', '.join(RESOLUTIONS)}.",
            )
        comments = [
            c
            for c in comments_of(req.state, id, "inline")
            if not wanted or c["resolutionStatus"] in wanted
        ]
        return _list(req, comments, "page")


def _register_kind(router: Any, kind: str) -> None:
    base = f"/wiki/api/v2/{kind}-comments"

    def list_all(req: Request) -> Response:
        comments = [
            c
            for c in req.state.comments.values()
            if c["kind"] == kind and c["pageId"] in req.state.pages
        ]
        return _list(req, comments, "all")

    def create(req: Request) -> Response:
        return _create(req, kind)

    def get_one(req: Request, comment_id: str) -> Response:
        return _single(req, _comment_or_404(req.state, comment_id, kind))

    def update(req: Request, comment_id: str) -> Response:
        return _update(req, _comment_or_404(req.state, comment_id, kind))

    def delete(req: Request, comment_id: str) -> Response:
        return _delete(req, _comment_or_404(req.state, comment_id, kind))

    def children(req: Request, id: str) -> Response:
        _comment_or_404(req.state, id, kind)
        return _list(req, replies_of(req.state, id), "child")

    router.add("GET", base, list_all)
    router.add("POST", base, create)
    router.add("GET", base + "/{comment-id}", get_one)
    router.add("PUT", base + "/{comment-id}", update)
    router.add("DELETE", base + "/{comment-id}", delete)
    router.add("GET", base + "/{id}/children", children)
