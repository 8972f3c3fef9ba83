"""Users: ``ctk users ...`` and the MCP tool ``manage_users``.

v2 has no "current user" and no user search, so those two use v1 (``/rest/api/user/current`` and
``/rest/api/search/user``); fetching users by account id uses v2 ``POST /api/v2/users-bulk``.
"""

from __future__ import annotations

from typing import Any

from ctk_core import Context, NotFound, Operation, Param, Resource, UsageError, hookimpl, shown
from ctk_core.helpers import USERS_BULK_MAX, USERS_BULK_PATH, cql_string


def flatten_user(raw: dict[str, Any]) -> dict[str, Any]:
    """A v1 or v2 user in the shape the tools return; ``email`` only when it is visible."""
    user = {
        "account_id": raw.get("accountId"),
        "display_name": raw.get("displayName") or raw.get("publicName"),
        "account_type": raw.get("accountType"),
    }
    if raw.get("email"):
        user["email"] = raw["email"]
    return user


def get_current(ctx: Context):
    return flatten_user(ctx.client.get("/rest/api/user/current") or {})


def search_users(ctx: Context, query, limit=25, cursor=None):
    # Each word matches as a prefix: "pri nat" finds "Priya Natarajan".
    words = [w if w.endswith("*") else w + "*" for w in query.split()]
    if not words:
        raise UsageError("Argument `query` must not be empty.")
    cql = f"user.fullname~{cql_string(' '.join(words))}"
    page = ctx.client.page("/rest/api/search/user", params={"cql": cql}, limit=limit, cursor=cursor)
    results = []
    for item in page["results"]:
        raw = item.get("user") if isinstance(item.get("user"), dict) else item
        results.append(flatten_user(raw))
    return {"results": results, "next_cursor": page.get("next_cursor")}


def get_users(ctx: Context, account_id):
    ids = list(dict.fromkeys(account_id))  # keep order, drop repeats
    if len(ids) > USERS_BULK_MAX:
        raise UsageError(f"At most {USERS_BULK_MAX} account ids at a time (got {len(ids)}).")
    data = ctx.client.post(USERS_BULK_PATH, json={"accountIds": ids}) or {}
    found = {u.get("accountId"): flatten_user(u) for u in data.get("results") or []}
    missing = [i for i in ids if i not in found]
    if len(ids) == 1:
        if missing:
            raise NotFound(
                f"No user with account id {shown(ids[0])} (or it is not visible to you).",
                hint="Find account ids with `search`.",
            )
        return found[ids[0]]
    result: dict[str, Any] = {"results": [found[i] for i in ids if i in found], "next_cursor": None}
    if missing:
        result["not_found"] = missing
    return result


USERS = Resource(
    name="users",
    summary="Confluence users: who am I, search by name, look up by account id.",
    operations=[
        Operation("get_current", "The authenticated user.", get_current),
        Operation(
            "search",
            "Search users by name.",
            search_users,
            params=[
                Param(
                    "query", "str", "Start of any word of the name.", required=True, positional=True
                )
            ],
            paged=True,
            columns=("account_id", "display_name", "email"),
        ),
        Operation(
            "get",
            "Users by account ids.",
            get_users,
            params=[
                Param(
                    "account_id", "list", "One or more account ids.", required=True, positional=True
                )
            ],
            columns=("account_id", "display_name", "email"),
        ),
    ],
)


@hookimpl
def ctk_register_resources(register):
    register(USERS)
