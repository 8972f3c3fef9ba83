"""Labels: v2 reads (page labels, all labels, pages by label) and the v1 label writes.

State: ``state.labels`` (label id -> ``{id, name, prefix}``) and ``state.content_labels``
(content id -> list of label ids, in the order they were added).
"""

from __future__ import annotations

import re
from typing import Any

from ctk_core.sandbox.paging import paginate
from ctk_core.sandbox.responses import HttpError, Response, empty_response, json_response
from ctk_core.sandbox.router import Request
from ctk_core.sandbox.state import State
from ctk_core.sandbox.views import page_json

PREFIXES = ("global", "my", "team", "system")
SORTS = ("created-date", "-created-date", "id", "-id", "name", "-name")
_BAD_CHARS = re.compile(r"[\s:;,.?&\[\]()#^*@!/\\|{}<>\"']")
MAX_LABEL_LENGTH = 255


# ------------------------------------------------------------------------------ model


def labelable(state: State, content_id: str) -> dict[str, Any] | None:
    """Content that can carry labels: a page, folder or attachment (not trashed for writes)."""
    for coll in (state.pages, state.folders, state.attachments):
        if content_id in coll:
            return coll[content_id]
    return None


def check_label_name(name: Any) -> str:
    """The label name as Confluence stores it (lower case); 400 for invalid names."""
    if not isinstance(name, str) or not name.strip():
        raise HttpError(400, "A label name is required.")
    text = name.strip().lower()
    if len(text) > MAX_LABEL_LENGTH:
        raise HttpError(400, f"Label '{name}' is longer than {MAX_LABEL_LENGTH} characters.")
    if _BAD_CHARS.search(text):
        raise HttpError(
            400,
            f"Label '{name}' contains invalid characters: labels cannot "
            "contain spaces or any of :;,.?&[]()#^*@!/\\|{}<>\"'",
        )
    return text


def find_label(state: State, name: str, prefix: str = "global") -> dict[str, Any] | None:
    for label in state.labels.values():
        if label["name"] == name and label["prefix"] == prefix:
            return label
    return None


def add_label(state: State, content_id: str, name: str, prefix: str = "global") -> dict[str, Any]:
    """Put a label on content (idempotent); creates the label the first time it is used."""
    name = check_label_name(name)
    label = find_label(state, name, prefix)
    if label is None:
        label = {"id": state.new_id(), "name": name, "prefix": prefix}
        state.labels[label["id"]] = label
    ids = state.content_labels.setdefault(content_id, [])
    if label["id"] not in ids:
        ids.append(label["id"])
    return label


def remove_label(state: State, content_id: str, name: str) -> bool:
    """Take a label off content (any prefix); whether it was there."""
    wanted = name.strip().lower()
    ids = state.content_labels.get(content_id, [])
    keep = [i for i in ids if state.labels.get(i, {}).get("name") != wanted]
    state.content_labels[content_id] = keep
    return len(keep) != len(ids)


def labels_of(state: State, content_id: str, prefix: str | None = None) -> list[dict[str, Any]]:
    out = [state.labels[i] for i in state.content_labels.get(content_id, []) if i in state.labels]
    if prefix:
        out = [label for label in out if label["prefix"] == prefix]
    return out


def label_names(state: State, content_id: str) -> list[str]:
    return [label["name"] for label in labels_of(state, content_id)]


def label_json(label: dict[str, Any]) -> dict[str, Any]:
    return {"id": label["id"], "name": label["name"], "prefix": label["prefix"]}


def label_v1_json(label: dict[str, Any]) -> dict[str, Any]:
    return {
        "prefix": label["prefix"],
        "name": label["name"],
        "id": label["id"],
        "label": label["name"],
    }


def _sorted_labels(labels: list[dict[str, Any]], sort: str | None) -> list[dict[str, Any]]:
    if not sort:
        return labels
    field = sort.lstrip("-")
    if field == "name":
        keyed = sorted(labels, key=lambda lb: lb["name"])
    else:  # id and created-date both follow creation order (ids grow)
        keyed = sorted(labels, key=lambda lb: int(lb["id"]))
    return list(reversed(keyed)) if sort.startswith("-") else keyed


def _v1_label_array(req: Request, content_id: str) -> Response:
    labels = [label_v1_json(lb) for lb in labels_of(req.state, content_id)]
    return json_response(
        {
            "results": labels,
            "start": 0,
            "limit": 200,
            "size": len(labels),
            "_links": {
                "base": req.wiki_base,
                "context": "/wiki",
                "self": f"{req.wiki_base}/rest/api/content/{content_id}/label",
            },
        }
    )


def _page_or_404(state: State, page_id: str) -> dict[str, Any]:
    page = state.pages.get(page_id)
    if page is None or page.get("status") == "deleted":
        raise HttpError(404, f"Page {page_id} not found.")
    return page


def _content_or_404(state: State, content_id: str) -> dict[str, Any]:
    content = labelable(state, content_id)
    if content is None or content.get("status") in ("deleted", "trashed"):
        raise HttpError(404, f"No content with id {content_id}.")
    return content


# ------------------------------------------------------------------------------ routes


def register(router: Any) -> None:
    @router.route("GET", "/wiki/api/v2/pages/{id}/labels")
    def page_labels(req: Request, id: str) -> Response:
        _page_or_404(req.state, id)
        prefix = req.choice_arg("prefix", PREFIXES)
        sort = req.choice_arg("sort", SORTS)
        labels = _sorted_labels(labels_of(req.state, id, prefix), sort)
        return paginate(req, labels, label_json)

    @router.route("GET", "/wiki/api/v2/labels")
    def all_labels(req: Request) -> Response:
        prefix = req.choice_arg("prefix", PREFIXES)
        wanted = set(req.args("label-id"))
        labels = [
            lb
            for lb in req.state.labels.values()
            if (not prefix or lb["prefix"] == prefix) and (not wanted or lb["id"] in wanted)
        ]
        sort = req.choice_arg("sort", SORTS)
        return paginate(req, _sorted_labels(labels, sort or "id"), label_json)

    @router.route("GET", "/wiki/api/v2/labels/{id}/pages")
    def pages_with_label(req: Request, id: str) -> Response:
        state = req.state
        if id not in state.labels:
            raise HttpError(404, f"Label {id} not found.")
        spaces = set(req.args("space-id"))
        fmt = req.choice_arg("body-format", ("storage", "atlas_doc_format"))
        pages = [
            p
            for p in state.pages.values()
            if id in state.content_labels.get(p["id"], [])
            and p.get("status") == "current"
            and (not spaces or p["spaceId"] in spaces)
        ]
        pages = _sort_pages(
            pages,
            req.choice_arg(
                "sort",
                (
                    "id",
                    "-id",
                    "created-date",
                    "-created-date",
                    "modified-date",
                    "-modified-date",
                    "title",
                    "-title",
                ),
            ),
        )
        serialize = _page_serializer(req, fmt)
        return paginate(req, pages, serialize)

    @router.route("GET", "/wiki/rest/api/content/{id}/label")
    def v1_labels(req: Request, id: str) -> Response:
        _content_or_404(req.state, id)
        return _v1_label_array(req, id)

    @router.route("POST", "/wiki/rest/api/content/{id}/label")
    def v1_add_labels(req: Request, id: str) -> Response:
        _content_or_404(req.state, id)
        data = req.json()
        items = data if isinstance(data, list) else [data]
        if not items:
            raise HttpError(400, "No labels given.")
        wanted: list[tuple[str, str]] = []
        for item in items:
            if not isinstance(item, dict):
                raise HttpError(400, "Each label must be an object with 'prefix' and 'name'.")
            prefix = item.get("prefix") or "global"
            if prefix not in PREFIXES:
                raise HttpError(400, f"Invalid label prefix '{prefix}'.")
            wanted.append((check_label_name(item.get("name")), prefix))
        for name, prefix in wanted:  # validate everything before changing anything
            add_label(req.state, id, name, prefix)
        return _v1_label_array(req, id)

    @router.route("DELETE", "/wiki/rest/api/content/{id}/label")
    def v1_remove_label_by_query(req: Request, id: str) -> Response:
        _content_or_404(req.state, id)
        name = req.arg("name")
        if not name:
            raise HttpError(400, "The 'name' query parameter is required.")
        remove_label(req.state, id, name)
        return empty_response(204)

    @router.route("DELETE", "/wiki/rest/api/content/{id}/label/{label}")
    def v1_remove_label(req: Request, id: str, label: str) -> Response:
        _content_or_404(req.state, id)
        if "/" in label:
            raise HttpError(400, "The label name cannot contain '/': use ?name= instead.")
        remove_label(req.state, id, label)
        return empty_response(204)


def _sort_pages(pages: list[dict[str, Any]], sort: str | None) -> list[dict[str, Any]]:
    field = (sort or "id").lstrip("-")
    keys = {
        "id": lambda p: int(p["id"]),
        "created-date": lambda p: p.get("createdAt") or "",
        "modified-date": lambda p: p["version"]["createdAt"],
        "title": lambda p: p["title"].lower(),
    }
    ordered = sorted(pages, key=keys[field])
    return list(reversed(ordered)) if sort and sort.startswith("-") else ordered


def _page_serializer(req: Request, body_format: str | None) -> Any:
    return lambda page: page_json(req, page, body_format)
