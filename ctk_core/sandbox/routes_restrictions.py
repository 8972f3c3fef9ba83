"""Content restrictions (read only): v1 ``GET /wiki/rest/api/content/{id}/restriction``.

Restrictions live in ``state.meta["restrictions"]``: page id -> ``{"read": {"users": [account
ids], "groups": [names]}, "update": {...}}``, set by :func:`restrict` (the demo seed). They are
not enforced: the sandbox shows every page to every caller. ``restrictions_json`` is also what
``GET /wiki/rest/api/content/search`` puts in a result's ``restrictions`` when asked with
``expand=restrictions.read.restrictions.user`` (and ``.group``, ``update.``).
"""

from __future__ import annotations

import uuid
from typing import Any

from ctk_core.sandbox.responses import HttpError, Response, json_response
from ctk_core.sandbox.router import Request, Router
from ctk_core.sandbox.routes_users import user_v1_json
from ctk_core.sandbox.state import State

OPERATIONS = ("read", "update")


def restrict(
    state: State,
    content_id: str,
    operation: str,
    users: tuple[str, ...] = (),
    groups: tuple[str, ...] = (),
) -> None:
    """Restrict ``operation`` (read or update) of a page to these account ids and group names."""
    assert operation in OPERATIONS, operation
    table = dict(state.meta.get("restrictions") or {})
    entry = dict(table.get(content_id) or {})
    entry[operation] = {"users": list(users), "groups": list(groups)}
    table[content_id] = entry
    state.meta["restrictions"] = table


def restrictions_of(state: State, content_id: str, operation: str) -> dict[str, list[str]]:
    entry = (state.meta.get("restrictions") or {}).get(content_id) or {}
    found = entry.get(operation) or {}
    return {"users": list(found.get("users") or []), "groups": list(found.get("groups") or [])}


def group_json(req: Request, name: str) -> dict[str, Any]:
    return {
        "type": "group",
        "name": name,
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, "ctk-sandbox-group:" + name)),
        "_links": {"self": f"{req.wiki_base}/rest/api/group/by-name?name={name}"},
    }


def restriction_json(
    req: Request, content_id: str, operation: str, users: bool = True, groups: bool = True
) -> dict[str, Any]:
    """A v1 ``ContentRestriction``; ``users``/``groups`` expand those lists."""
    found = restrictions_of(req.state, content_id, operation)
    inner: dict[str, Any] = {}
    expandable: dict[str, str] = {}
    path = f"/rest/api/content/{content_id}/restriction/byOperation/{operation}"
    for kind, wanted, items in (
        ("user", users, [user_v1_json(req, a) for a in found["users"]]),
        ("group", groups, [group_json(req, g) for g in found["groups"]]),
    ):
        if wanted:
            inner[kind] = {"results": items, "start": 0, "limit": 100, "size": len(items)}
        else:
            expandable[kind] = f"{path}/{kind}"
    if expandable:
        inner["_expandable"] = expandable
    return {
        "operation": operation,
        "restrictions": inner,
        "_expandable": {"content": f"/rest/api/content/{content_id}"},
        "_links": {"self": req.wiki_base + path},
    }


def restrictions_json(req: Request, content_id: str, expand: set[str]) -> dict[str, Any]:
    """A v1 ``Content.restrictions`` for ``expand`` names such as
    ``restrictions.read.restrictions.user``: the operations asked for, the others expandable."""
    out: dict[str, Any] = {}
    expandable: dict[str, str] = {}
    for op in OPERATIONS:
        prefix = f"restrictions.{op}"
        if not any(name == prefix or name.startswith(prefix + ".") for name in expand):
            expandable[op] = f"/rest/api/content/{content_id}/restriction/byOperation/{op}"
            continue
        out[op] = restriction_json(
            req,
            content_id,
            op,
            users=f"{prefix}.restrictions.user" in expand,
            groups=f"{prefix}.restrictions.group" in expand,
        )
    out["_expandable"] = expandable
    return out


def get_restrictions(req: Request, id: str) -> Response:
    record = req.state.content(id)
    if record is None or record.get("status") in ("deleted", "purged"):
        raise HttpError(404, f"No content with id {id} (or it is not visible to you).")
    expand = set(req.args("expand")) or {"restrictions.user", "restrictions.group"}
    users = bool(expand & {"restrictions.user"})
    groups = bool(expand & {"restrictions.group"})
    results = []
    for op in OPERATIONS:
        results.append(
            restriction_json(
                req,
                id,
                op,
                users=users or f"{op}.restrictions.user" in expand,
                groups=groups or f"{op}.restrictions.group" in expand,
            )
        )
    digest = uuid.uuid5(
        uuid.NAMESPACE_URL, repr([restrictions_of(req.state, id, o) for o in OPERATIONS])
    )
    return json_response(
        {
            "results": results,
            "start": 0,
            "limit": 100,
            "size": len(results),
            "restrictionsHash": digest.hex,
            "_links": {
                "base": req.wiki_base,
                "context": "/wiki",
                "self": f"{req.wiki_base}/rest/api/content/{id}/restriction",
            },
        }
    )


def register(router: Router) -> None:
    router.add("GET", "/wiki/rest/api/content/{id}/restriction", get_restrictions)
