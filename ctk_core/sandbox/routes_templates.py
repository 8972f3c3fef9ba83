"""Page templates: v1 ``GET /wiki/rest/api/template/page`` (a space's, or the global ones) and
``GET /wiki/rest/api/template/{contentTemplateId}``.

Templates live in ``state.meta["templates"]`` (id -> record), created by :func:`add_template`
(the demo seed). A page made from a template is created through ``POST /wiki/api/v2/pages``
like any other, so nothing else is needed here. As the spec documents, an unknown template id
answers 403 (Confluence does not tell a missing template from a hidden one).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ctk_core.sandbox.paging import next_path
from ctk_core.sandbox.responses import HttpError, Response, json_response
from ctk_core.sandbox.router import Request, Router
from ctk_core.sandbox.state import State

#: Most templates one list answer holds (Confluence's "fixed system limits").
MAX_LIMIT = 250


def add_template(
    state: State,
    name: str,
    body: str,
    space_key: str | None = None,
    description: str = "",
    labels: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A page template of space ``space_key`` (global without one); its storage ``body``."""
    record = {
        "templateId": state.new_id(),
        "name": name,
        "description": description,
        "spaceKey": space_key,
        "labels": list(labels),
        "body": body,
    }
    templates = dict(state.meta.get("templates") or {})
    templates[record["templateId"]] = record
    state.meta["templates"] = templates
    return record


def _templates(state: State) -> dict[str, dict[str, Any]]:
    return dict(state.meta.get("templates") or {})


def template_json(req: Request, record: dict[str, Any], body: bool) -> dict[str, Any]:
    """A v1 ``ContentTemplate``; ``body`` adds the storage body (else it is expandable)."""
    tid = record["templateId"]
    out: dict[str, Any] = {
        "templateId": tid,
        "originalTemplate": {"pluginKey": "", "moduleKey": ""},
        "name": record["name"],
        "description": record.get("description") or "",
        "labels": [
            {"prefix": "global", "name": name, "id": str(1000 + i), "label": name}
            for i, name in enumerate(record.get("labels") or [])
        ],
        "templateType": "page",
        "editorVersion": "v2",
    }
    key = record.get("spaceKey")
    if key:
        space = req.state.space_by_key(key) or {}
        out["space"] = {
            "id": int(space.get("id") or 0),
            "key": key,
            "name": space.get("name") or key,
            "type": "global",
            "status": "current",
            "_links": {"webui": f"/spaces/{key}", "self": f"{req.wiki_base}/rest/api/space/{key}"},
        }
    if body:
        out["body"] = {"storage": {"value": record["body"], "representation": "storage"}}
    else:
        out["_expandable"] = {"body": ""}
    out["_links"] = {
        "base": req.wiki_base,
        "context": "/wiki",
        "self": f"{req.wiki_base}/rest/api/template/{quote(tid)}",
    }
    return out


def list_page_templates(req: Request) -> Response:
    key = req.arg("spaceKey")
    if key and req.state.space_by_key(key) is None:
        raise HttpError(404, f"No space with key : {key}")
    start = req.int_arg("start", 0, minimum=0)
    limit = req.int_arg("limit", 25, minimum=0, maximum=MAX_LIMIT)
    assert start is not None
    assert limit is not None
    with_body = "body" in req.args("expand")
    items = [t for t in _templates(req.state).values() if (t.get("spaceKey") or None) == key]
    items.sort(key=lambda t: (t["name"].lower(), int(t["templateId"])))
    window = items[start : start + limit]
    links: dict[str, str] = {
        "base": req.wiki_base,
        "context": "/wiki",
        "self": req.wiki_base + req.path[len("/wiki") :],
    }
    if start + limit < len(items) and limit:
        links["next"] = next_path(req, {"start": str(start + limit), "limit": str(limit)})
    return json_response(
        {
            "results": [template_json(req, t, with_body) for t in window],
            "start": start,
            "limit": limit,
            "size": len(window),
            "_links": links,
        }
    )


def get_template(req: Request, id: str) -> Response:
    record = _templates(req.state).get(id)
    if record is None:
        raise HttpError(403, f"No content template with id {id}, or it is not visible to you.")
    return json_response(template_json(req, record, body=True))


def register(router: Router) -> None:
    router.add("GET", "/wiki/rest/api/template/page", list_page_templates)
    router.add("GET", "/wiki/rest/api/template/{id}", get_template)
