"""Users: v1 current user, user by account id, user search (CQL), and v2 ``users-bulk``."""

from __future__ import annotations

from typing import Any

from ctk_core.sandbox import cql
from ctk_core.sandbox.paging import decode_cursor
from ctk_core.sandbox.responses import HttpError, Response, json_response
from ctk_core.sandbox.router import Request
from ctk_core.sandbox.state import State

MAX_BULK = 250


def user_v1_json(req: Request, account_id: str | None) -> dict[str, Any]:
    """A v1 ``User``; an ``unknown`` user for ids the site does not know."""
    user = req.state.users.get(account_id or "")
    if user is None:
        return {
            "type": "unknown",
            "accountId": account_id,
            "accountType": "",
            "publicName": "Unknown user",
            "displayName": "Unknown user",
            "_links": {"self": f"{req.wiki_base}/rest/api/user?accountId={account_id}"},
        }
    picture = user.get("profilePicture") or {}
    return {
        "type": "known",
        "accountId": user["accountId"],
        "accountType": user.get("accountType")
        if user.get("accountType") in ("atlassian", "app")
        else "",
        "email": user.get("email") or "",
        "publicName": user.get("publicName") or user["displayName"],
        "profilePicture": {
            "path": picture.get("path", "/wiki/aa-avatar/default.png"),
            "width": picture.get("width", 48),
            "height": picture.get("height", 48),
            "isDefault": bool(picture.get("isDefault", True)),
        },
        "displayName": user["displayName"],
        "timeZone": user.get("timeZone"),
        "isExternalCollaborator": False,
        "externalCollaborator": False,
        "_expandable": {"operations": "", "personalSpace": ""},
        "_links": {
            "self": f"{req.wiki_base}/rest/api/user?accountId={user['accountId']}",
            "base": req.wiki_base,
            "context": "/wiki",
        },
    }


def user_v2_json(user: dict[str, Any]) -> dict[str, Any]:
    """A v2 ``User`` (users-bulk)."""
    picture = user.get("profilePicture") or {}
    out = {
        "accountId": user["accountId"],
        "accountType": user.get("accountType", "atlassian"),
        "accountStatus": user.get("accountStatus", "active"),
        "displayName": user["displayName"],
        "publicName": user.get("publicName") or user["displayName"],
        "email": user.get("email") or "",
        "timeZone": user.get("timeZone") or "UTC",
        "isExternalCollaborator": False,
        "profilePicture": {
            "path": picture.get("path", "/wiki/aa-avatar/default.png"),
            "isDefault": bool(picture.get("isDefault", True)),
        },
    }
    if user.get("personalSpaceId"):
        out["personalSpaceId"] = user["personalSpaceId"]
    return out


def user_item(user: dict[str, Any]) -> dict[str, Any]:
    """A user as user-search CQL sees it."""
    return {
        "type": "user",
        "id": user["accountId"],
        "user.accountid": user["accountId"],
        "user.fullname": user["displayName"],
    }


def _lookup(state: State, account_id: str | None) -> dict[str, Any]:
    if not account_id:
        raise HttpError(400, "The 'accountId' query parameter is required.")
    user = state.users.get(account_id)
    if user is None:
        raise HttpError(404, f"No user with accountId {account_id}.")
    return user


def register(router: Any) -> None:
    @router.route("GET", "/wiki/rest/api/user/current")
    def current_user(req: Request) -> Response:
        return json_response(user_v1_json(req, req.user or req.state.current_user))

    @router.route("GET", "/wiki/rest/api/user")
    def user_by_id(req: Request) -> Response:
        user = _lookup(req.state, req.arg("accountId"))
        return json_response(user_v1_json(req, user["accountId"]))

    @router.route("GET", "/wiki/rest/api/user/bulk")
    def users_bulk_v1(req: Request) -> Response:
        ids = req.args("accountId")
        if not ids:
            raise HttpError(400, "The 'accountId' query parameter is required.")
        results = [user_v1_json(req, i) for i in ids if i in req.state.users]
        return json_response(
            {
                "results": results,
                "start": 0,
                "limit": len(ids),
                "size": len(results),
                "_links": {"base": req.wiki_base},
            }
        )

    @router.route("GET", "/wiki/rest/api/search/user")
    def search_users(req: Request) -> Response:
        source = req.arg("cql")
        try:
            query = cql.parse(source or "", fields=cql.USER_FIELDS)
        except cql.CqlError as exc:
            raise HttpError(400, f"Could not parse cql : {source} ({exc})") from None
        ctx = cql.EvalContext(current_user=req.user)
        users = [u for u in req.state.users.values() if query.matches(user_item(u), ctx)]
        users.sort(key=lambda u: u["displayName"].lower())
        start = req.int_arg("start", 0, minimum=0) or 0
        cursor = req.arg("cursor")
        if cursor:
            start = decode_cursor(cursor)
        limit = req.int_arg("limit", 25, minimum=1) or 25
        window = users[start : start + limit]
        results = [_user_result(req, u) for u in window]
        return json_response(
            {
                "results": results,
                "start": start,
                "limit": limit,
                "size": len(results),
                "totalSize": len(users),
                "cqlQuery": source,
                "searchDuration": 1,
                "_links": {
                    "base": req.wiki_base,
                    "context": "/wiki",
                    "self": f"{req.wiki_base}/rest/api/search/user",
                },
            }
        )

    @router.route("POST", "/wiki/api/v2/users-bulk")
    def users_bulk(req: Request) -> Response:
        data = req.json_object()
        ids = data.get("accountIds")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise HttpError(400, "'accountIds' must be a non-empty list of account ids.")
        if len(ids) > MAX_BULK:
            raise HttpError(400, f"At most {MAX_BULK} accountIds can be asked for at once.")
        seen: list[str] = []
        for account_id in ids:
            if account_id not in seen and account_id in req.state.users:
                seen.append(account_id)
        results = [user_v2_json(req.state.users[i]) for i in seen]
        return json_response({"results": results, "_links": {"base": req.wiki_base}})


def _user_result(req: Request, user: dict[str, Any]) -> dict[str, Any]:
    return {
        "user": user_v1_json(req, user["accountId"]),
        "title": user["displayName"],
        "excerpt": "",
        "url": f"/people/{user['accountId']}",
        "breadcrumbs": [],
        "entityType": "user",
        "iconCssClass": "aui-icon content-type-profile",
        "lastModified": user.get("createdAt") or "2024-01-08T09:00:00.000Z",
        "score": 1.0,
    }
