"""manage_pages / ``ctk pages``: read, browse, diff, section-edit and write Confluence pages.

Everything goes through the v2 API except the two things v2 cannot do: moving a page before or
after a sibling (v1 ``PUT /rest/api/content/{id}/move/{position}/{target}``) and restoring an old
version (v1 ``POST /rest/api/content/{id}/version``).

Bodies are Markdown by default (converted with ``ctk_core.convert``); ``storage`` passes the
storage-format XHTML through, after a well-formedness check. Sections (outline, get_section,
update_section) are located in the storage XHTML itself (``ctk_core.pagetext``), so that a section
update leaves every other byte of the page as it was, macros ctk does not know included.
"""

from __future__ import annotations

from typing import Any

from ctk_core import (
    Conflict,
    Context,
    NotFound,
    Operation,
    Param,
    Resource,
    UsageError,
    hookimpl,
    shown,
)
from ctk_core.helpers import (
    display_names,
    mention_ids,
    require_id,
    storage_of,
    titled_ancestors,
    web_url,
    webui_space_key,
)

DESCRIPTION = """\
For long pages, read get_outline, then get_section."""

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
CHILD_SORTS = (
    "title",
    "-title",
    "child-position",
    "-child-position",
    "id",
    "-id",
    "created-date",
    "-created-date",
    "modified-date",
    "-modified-date",
)
LIST_STATUSES = ("current", "archived", "deleted", "trashed")
READ_FORMATS = ("markdown", "storage", "view")
WRITE_FORMATS = ("markdown", "storage")
POSITIONS = ("before", "after", "append")


# ------------------------------------------------------------------------------ helpers


def flatten_page(ctx: Context, raw: dict[str, Any]) -> dict[str, Any]:
    """A page as ctk shows it: what a caller acts on, without API noise."""
    version = raw.get("version") or {}
    webui = (raw.get("_links") or {}).get("webui")
    return {
        "id": str(raw.get("id")) if raw.get("id") is not None else None,
        "title": raw.get("title"),
        "status": raw.get("status"),
        "space_id": raw.get("spaceId"),
        "space_key": webui_space_key(webui),
        "parent_id": raw.get("parentId"),
        "parent_type": raw.get("parentType"),
        "position": raw.get("position"),
        "version": version.get("number"),
        "version_message": version.get("message") or None,
        "author_id": raw.get("authorId"),
        "owner_id": raw.get("ownerId"),
        "created_at": raw.get("createdAt"),
        "updated_at": version.get("createdAt"),
        "updated_by": version.get("authorId"),
        "web_url": web_url(ctx.client, raw),
    }


def _node(raw: dict[str, Any]) -> dict[str, Any]:
    """One entry of direct-children / descendants."""
    out: dict[str, Any] = {
        "id": str(raw["id"]) if raw.get("id") is not None else None,
        "type": raw.get("type") or "page",
        "title": raw.get("title"),
        "status": raw.get("status"),
    }
    if "depth" in raw:
        out["depth"] = raw.get("depth")
        out["parent_id"] = raw.get("parentId")
    if raw.get("spaceId") is not None:
        out["space_id"] = raw.get("spaceId")
    out["position"] = raw.get("childPosition")
    return out


def _to_markdown(storage: str, names: dict[str, str] | None = None) -> str:
    from ctk_core.convert import storage_to_markdown

    return str(storage_to_markdown(storage, names))


def _mention_names(ctx: Context, *storages: str) -> dict[str, str]:
    """Display names of the people the bodies mention: at most one request (users-bulk), none
    when nobody is mentioned or the names are known; {} when the lookup fails."""
    return display_names(ctx, [i for storage in storages for i in mention_ids(storage)])


def _to_storage(body: str, content_format: str) -> str:
    """The storage XHTML to send for a body given in ``content_format``; checked well-formed."""
    from ctk_core import pagetext

    if content_format == "storage" or not body.strip():
        storage = body if content_format == "storage" else ""
    else:
        from ctk_core.convert import markdown_to_storage

        storage = str(markdown_to_storage(body))
    pagetext.check_storage(storage)
    return storage


def _fetch(
    ctx: Context,
    page_id: str,
    *,
    body_format: str | None = "storage",
    version: int | None = None,
    labels: bool = False,
    statuses: list[str] | None = None,
) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if body_format:
        params["body-format"] = body_format
    if version is not None:
        params["version"] = version
    if labels:
        params["include-labels"] = "true"
    if statuses:
        params["status"] = statuses
    return dict(ctx.client.get(f"/api/v2/pages/{page_id}", params=params or None) or {})


def _labels(raw: dict[str, Any]) -> list[str]:
    block = raw.get("labels") or {}
    return [str(item.get("name")) for item in block.get("results") or [] if item.get("name")]


def _hierarchy(
    ctx: Context,
    item_id: str,
    what: str,
    params: dict[str, Any] | None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict[str, Any]:
    """One page of ``/pages/{id}/<what>``, or ``/folders/{id}/<what>`` when the id is a folder."""
    last: NotFound | None = None
    for kind in ("pages", "folders"):
        path = f"/api/v2/{kind}/{item_id}/{what}"
        try:
            if limit is None:
                return dict(ctx.client.get(path, params=params) or {})
            return dict(ctx.client.page(path, params=params, limit=limit, cursor=cursor or None))
        except NotFound as exc:
            last = exc
    raise NotFound(f"No page or folder with id {item_id} (or it is not visible to you).") from last


def _ancestors(ctx: Context, item_id: str) -> list[dict[str, Any]]:
    data = _hierarchy(ctx, item_id, "ancestors", {"limit": 250})
    return titled_ancestors(ctx, data.get("results") or [])


# ------------------------------------------------------------------------------ read handlers


def get_page(
    ctx: Context,
    page_id: str | None = None,
    space_id: str | None = None,
    title: str | None = None,
    version: int | None = None,
    body_format: str = "markdown",
    include_ancestors: bool = False,
) -> dict[str, Any]:
    if page_id in (None, ""):
        if space_id and title:
            return get_by_title(
                ctx, space_id, title, body_format=body_format, include_ancestors=include_ancestors
            )
        raise UsageError("Give a `page_id`, or `space_id` and `title` to find the page by title.")
    if space_id or title:
        raise UsageError("Give either `page_id`, or `space_id` and `title`; not both.")
    pid = require_id("page_id", page_id)
    fmt = body_format or "markdown"
    raw = _fetch(
        ctx, pid, body_format="storage" if fmt == "markdown" else fmt, version=version, labels=True
    )
    result = flatten_page(ctx, raw)
    result["labels"] = _labels(raw)
    if include_ancestors:
        result["ancestors"] = _ancestors(ctx, pid)
    result["body_format"] = fmt
    if fmt == "markdown":
        storage = storage_of(raw)
        result["body"] = _to_markdown(storage, _mention_names(ctx, storage))
    else:
        result["body"] = str(((raw.get("body") or {}).get(fmt) or {}).get("value") or "")
    return result


def get_by_title(
    ctx: Context,
    space_id: str,
    title: str,
    body_format: str = "markdown",
    include_ancestors: bool = False,
) -> dict[str, Any]:
    sid = ctx.space_id(space_id)
    wanted = (title or "").strip()
    if not wanted:
        raise UsageError("Missing argument `title`.")
    data = ctx.client.get("/api/v2/pages", params={"space-id": sid, "title": wanted, "limit": 25})
    hits = [r for r in data.get("results") or [] if r.get("title") == wanted]
    if not hits:
        raise NotFound(
            f"No page titled {shown(wanted)} in space {space_id} "
            "(titles are exact and case-sensitive).",
            hint="List the titles with `list` and `space_id`.",
        )
    return get_page(
        ctx, str(hits[0]["id"]), body_format=body_format, include_ancestors=include_ancestors
    )


def list_pages(
    ctx: Context,
    space_id: str | None = None,
    title: str | None = None,
    status: list[str] | None = None,
    sort: str | None = None,
    limit: int = 25,
    cursor: str | None = None,
) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if space_id:
        params["space-id"] = ctx.space_id(space_id)
    if title:
        params["title"] = title
    if status:
        params["status"] = list(status)
    if sort:
        params["sort"] = sort
    page = ctx.client.page(
        "/api/v2/pages", params=params or None, limit=limit, cursor=cursor or None
    )
    return {
        "results": [flatten_page(ctx, raw) for raw in page.get("results") or []],
        "next_cursor": page.get("next_cursor"),
    }


def get_children(
    ctx: Context, page_id: str, sort: str | None = None, limit: int = 25, cursor: str | None = None
) -> dict[str, Any]:
    pid = require_id("page_id", page_id)
    page = _hierarchy(
        ctx, pid, "direct-children", {"sort": sort} if sort else None, limit=limit, cursor=cursor
    )
    return {
        "results": [_node(r) for r in page.get("results") or []],
        "next_cursor": page.get("next_cursor"),
    }


def _space_cursor(cursor: str | None) -> tuple[int, str]:
    """Space-tree cursors are ``s<root index>:<inner>``; inner '' = root not shown yet."""
    if not cursor:
        return 0, ""
    head, sep, inner = cursor.partition(":")
    if not sep or not head.startswith("s") or not head[1:].isdigit():
        raise UsageError(
            f"Invalid cursor {shown(cursor)} for a space tree: pass back next_cursor unchanged."
        )
    return int(head[1:]), inner


def _space_roots(ctx: Context, sid: str, fresh: bool) -> list[dict[str, Any]]:
    """The root pages of a space, in id order. A space-tree cursor counts in this list, so the
    next page of the same listing (``--all`` asks for every page with one context) reuses it
    instead of listing the roots again; a listing from the start always lists them."""
    key = ("pages.space_roots", sid)
    if not fresh and key in ctx.cache:
        return list(ctx.cache[key])
    roots = list(
        ctx.client.iterate(f"/api/v2/spaces/{sid}/pages", params={"depth": "root", "sort": "id"})
    )
    ctx.cache[key] = roots
    return roots


def get_descendants(
    ctx: Context,
    page_id: str | None = None,
    space_id: str | None = None,
    depth: int | None = None,
    limit: int = 25,
    cursor: str | None = None,
) -> dict[str, Any]:
    params = {"depth": depth} if depth else None
    if page_id not in (None, ""):
        if space_id:
            raise UsageError("Give either `page_id` or `space_id`, not both.")
        pid = require_id("page_id", page_id)
        page = _hierarchy(ctx, pid, "descendants", params, limit=limit, cursor=cursor)
        return {
            "results": [_node(r) for r in page.get("results") or []],
            "next_cursor": page.get("next_cursor"),
        }
    if not space_id:
        raise UsageError(
            "Give a `page_id` (subtree of a page or folder) or a `space_id` (the whole space)."
        )
    # A space's tree: its root pages (depth 0), each followed by its descendants.
    sid = ctx.space_id(space_id)
    index, inner = _space_cursor(cursor)
    roots = _space_roots(ctx, sid, fresh=not cursor)
    if index >= len(roots):
        return {"results": [], "next_cursor": None}
    root = roots[index]
    results: list[dict[str, Any]] = []
    if not inner:
        results.append(
            {
                "id": str(root["id"]) if root.get("id") is not None else None,
                "type": "page",
                "title": root.get("title"),
                "status": root.get("status"),
                "depth": 0,
                "parent_id": root.get("parentId"),
                "position": root.get("position"),
            }
        )
        inner = "-"
        if limit == 1:
            return {"results": results, "next_cursor": f"s{index}:-"}
        limit -= 1
    page = ctx.client.page(
        f"/api/v2/pages/{root['id']}/descendants",
        params=params,
        limit=limit,
        cursor=None if inner == "-" else inner,
    )
    results += [_node(r) for r in page.get("results") or []]
    if page.get("next_cursor"):
        next_cursor: str | None = f"s{index}:{page['next_cursor']}"
    elif index + 1 < len(roots):
        next_cursor = f"s{index + 1}:"
    else:
        next_cursor = None
    return {"results": results, "next_cursor": next_cursor}


def get_ancestors(ctx: Context, page_id: str) -> dict[str, Any]:
    pid = require_id("page_id", page_id)
    return {"results": _ancestors(ctx, pid)}


def _who(block: dict[str, Any] | None) -> dict[str, Any]:
    """Users (name, account id) and group names of a v1 ContentRestriction."""
    inner = (block or {}).get("restrictions") or {}
    users = [u for u in (inner.get("user") or {}).get("results") or [] if isinstance(u, dict)]
    groups = [g for g in (inner.get("group") or {}).get("results") or [] if isinstance(g, dict)]
    return {
        "users": [
            {"name": u.get("displayName") or u.get("publicName"), "account_id": u.get("accountId")}
            for u in users
        ],
        "groups": [g.get("name") for g in groups],
    }


def get_restrictions(ctx: Context, page_id: str) -> dict[str, Any]:
    """The page's read and edit restrictions, and the read restrictions it inherits (edit
    restrictions are not inherited): 3 requests, 2 for a page without ancestors."""
    pid = require_id("page_id", page_id)
    expand = {"expand": "restrictions.user,restrictions.group"}
    own = ctx.client.get(f"/rest/api/content/{pid}/restriction", params=expand) or {}
    ops = {r.get("operation"): _who(r) for r in own.get("results") or [] if isinstance(r, dict)}
    up = ctx.client.get(f"/api/v2/pages/{pid}/ancestors", params={"limit": 250}) or {}
    ids = [str(a.get("id")) for a in up.get("results") or [] if isinstance(a, dict)]
    inherited: list[dict[str, Any]] = []
    if ids:
        hits = ctx.client.iterate(  # every page of it: a site may cap how many come at once
            "/rest/api/content/search",
            params={
                "cql": f"id in ({','.join(ids)})",
                "expand": "restrictions.read.restrictions.user,"
                "restrictions.read.restrictions.group",
            },
            limit=len(ids),
        )
        by_id = {str(r.get("id")): r for r in hits if isinstance(r, dict)}
        for aid in ids:
            who = _who((by_id.get(aid, {}).get("restrictions") or {}).get("read"))
            if who["users"] or who["groups"]:
                inherited.append({"id": aid, "title": by_id[aid].get("title"), **who})
    empty: dict[str, Any] = {"users": [], "groups": []}
    return {
        "id": pid,
        "read": ops.get("read", empty),
        "edit": ops.get("update", empty),
        "inherited_read": inherited,
    }


def list_versions(
    ctx: Context, page_id: str, sort: str | None = None, limit: int = 25, cursor: str | None = None
) -> dict[str, Any]:
    pid = require_id("page_id", page_id)
    page = ctx.client.page(
        f"/api/v2/pages/{pid}/versions",
        params={"sort": sort} if sort else None,
        limit=limit,
        cursor=cursor or None,
    )
    versions = page.get("results") or []
    names = display_names(ctx, [v.get("authorId") for v in versions])  # one request at most
    results = [
        {
            "number": v.get("number"),
            "author_id": v.get("authorId"),
            "author_name": names.get(str(v.get("authorId"))),
            "message": v.get("message") or "",
            "minor_edit": bool(v.get("minorEdit")),
            "created_at": v.get("createdAt"),
        }
        for v in versions
    ]
    return {"results": results, "next_cursor": page.get("next_cursor")}


def diff_versions(
    ctx: Context, page_id: str, from_version: int | None = None, to_version: int | None = None
) -> dict[str, Any]:
    from ctk_core import pagetext

    pid = require_id("page_id", page_id)
    target = _fetch(ctx, pid, version=to_version)
    to_number = int((target.get("version") or {}).get("number") or to_version or 0)
    if from_version is None:
        if to_number <= 1:
            raise UsageError(
                f"Page {pid} has no version before version {to_number}: nothing to compare.",
                hint="Pass `from_version` and `to_version`.",
            )
        from_version = to_number - 1
    source = _fetch(ctx, pid, version=from_version)
    from_number = int((source.get("version") or {}).get("number") or from_version)
    names = _mention_names(ctx, storage_of(source), storage_of(target))
    old = _to_markdown(storage_of(source), names)
    new = _to_markdown(storage_of(target), names)
    text, added, removed = pagetext.unified_diff(
        old, new, from_label=f"{pid} version {from_number}", to_label=f"{pid} version {to_number}"
    )
    return {
        "id": pid,
        "title": target.get("title"),
        "from_version": from_number,
        "to_version": to_number,
        "title_changed": source.get("title") != target.get("title"),
        "lines_added": added,
        "lines_removed": removed,
        "diff": text,
    }


def get_outline(ctx: Context, page_id: str, version: int | None = None) -> dict[str, Any]:
    from ctk_core import pagetext

    pid = require_id("page_id", page_id)
    raw = _fetch(ctx, pid, version=version)
    storage = storage_of(raw)
    sections = pagetext.outline(storage)
    return {
        "id": pid,
        "title": raw.get("title"),
        "version": (raw.get("version") or {}).get("number"),
        "size": len(storage),
        "headings": [
            {"id": s.id, "level": s.level, "text": s.text, "size": s.size} for s in sections
        ],
    }


def get_section(
    ctx: Context,
    page_id: str,
    heading: str,
    body_format: str = "markdown",
    version: int | None = None,
) -> dict[str, Any]:
    from ctk_core import pagetext

    pid = require_id("page_id", page_id)
    raw = _fetch(ctx, pid, version=version)
    storage = storage_of(raw)
    section = pagetext.find_section(pagetext.outline(storage), heading, page_id=pid)
    chunk = pagetext.section_storage(storage, section)
    return {
        "id": pid,
        "title": raw.get("title"),
        "version": (raw.get("version") or {}).get("number"),
        "section_id": section.id,
        "heading": section.text,
        "level": section.level,
        "body_format": body_format,
        "body": _to_markdown(chunk, _mention_names(ctx, chunk))
        if body_format == "markdown"
        else chunk,
    }


# ------------------------------------------------------------------------------ write handlers


def create_page(
    ctx: Context,
    space_id: str,
    title: str,
    body: str | None = None,
    content_format: str = "markdown",
    parent_id: str | None = None,
) -> dict[str, Any]:
    name = (title or "").strip()
    if not name:
        raise UsageError("Missing argument `title`: a page needs a title.")
    payload: dict[str, Any] = {
        "spaceId": ctx.space_id(space_id),
        "status": "current",
        "title": name,
        "body": {"representation": "storage", "value": _to_storage(body or "", content_format)},
    }
    if parent_id:
        payload["parentId"] = require_id("parent_id", parent_id)
    try:
        created = ctx.client.post("/api/v2/pages", json=payload) or {}
    except UsageError as exc:
        raise (_title_taken(exc, name) or exc) from None
    return flatten_page(ctx, created)


def _title_taken(exc: UsageError, title: Any) -> Conflict | None:
    """Confluence answers 400 for a title already used in the space; ctk calls it a conflict."""
    if "already exists" not in str(exc).lower():
        return None
    return Conflict(
        f"A page titled {shown(title)} already exists in this space.",
        hint="Choose another title, or update the existing page.",
    )


def _conflict(ctx: Context, pid: str, sent: int, exc: Exception | None = None) -> Conflict:
    """The conflict error, naming the page's current version (re-read when not known)."""
    current: Any = None
    try:
        current = (_fetch(ctx, pid, body_format=None).get("version") or {}).get("number")
    except Exception:
        current = None
    now = (
        f"the current version is {current}"
        if current is not None
        else "the page has a newer version"
    )
    detail = f" ({exc})" if exc is not None and current is None else ""
    return Conflict(
        f"Version conflict on page {pid}: {now}, so version {sent} cannot be "
        f"written{detail}. Nothing was overwritten.",
        hint="Read the page again, reapply your change and retry "
        "(or leave out version to write current + 1).",
    )


def _put(ctx: Context, pid: str, payload: dict[str, Any]) -> dict[str, Any]:
    try:
        return dict(ctx.client.put(f"/api/v2/pages/{pid}", json=payload) or {})
    except Conflict as exc:
        raise _conflict(ctx, pid, payload["version"]["number"], exc) from None
    except UsageError as exc:
        raise (_title_taken(exc, payload.get("title")) or exc) from None


def _next_version(current: dict[str, Any], pid: str, version: int | None) -> int:
    number = int((current.get("version") or {}).get("number") or 0)
    if version is None:
        return number + 1
    if version <= number:
        raise Conflict(
            f"Version conflict on page {pid}: the current version is {number}, so "
            f"version {version} cannot be written. Nothing was overwritten.",
            hint="Read the page again, reapply your change and retry "
            "(or leave out version to write current + 1).",
        )
    return version


def _version_block(number: int, message: str | None) -> dict[str, Any]:
    block: dict[str, Any] = {"number": number}
    if message:
        block["message"] = message
    return block


def update_page(
    ctx: Context,
    page_id: str,
    title: str | None = None,
    body: str | None = None,
    content_format: str = "markdown",
    message: str | None = None,
    version: int | None = None,
) -> dict[str, Any]:
    pid = require_id("page_id", page_id)
    if title is not None and not title.strip():
        raise UsageError("Argument `title` must not be empty.")
    if title is None and body is None:
        raise UsageError("Nothing to update: give a `title`, a `body` or both.")
    storage = _to_storage(body, content_format) if body is not None else None
    payload: dict[str, Any]
    if storage is not None and title is not None and version is not None:
        # Everything is known: no read first, so a stale version is Confluence's own 409.
        payload = {
            "id": pid,
            "status": "current",
            "title": title.strip(),
            "body": {"representation": "storage", "value": storage},
            "version": _version_block(version, message),
        }
        return flatten_page(ctx, _put(ctx, pid, payload))
    with ctx.client.reserve(2):  # read, then write: both tokens first, or neither request
        current = _fetch(ctx, pid)
        payload = {
            "id": pid,
            "status": current.get("status") or "current",
            "title": title.strip() if title is not None else current.get("title"),
            "body": {
                "representation": "storage",
                "value": storage if storage is not None else storage_of(current),
            },
            "version": _version_block(_next_version(current, pid, version), message),
        }
        return flatten_page(ctx, _put(ctx, pid, payload))


def update_section(
    ctx: Context,
    page_id: str,
    heading: str,
    body: str | None = None,
    content_format: str = "markdown",
    message: str | None = None,
    version: int | None = None,
) -> dict[str, Any]:
    from ctk_core import pagetext

    pid = require_id("page_id", page_id)
    if body is None:
        raise UsageError("Missing argument `body`: the new content of the section.")
    replacement = _to_storage(body, content_format)
    with ctx.client.reserve(2):  # read, then write
        current = _fetch(ctx, pid)
        storage = storage_of(current)
        section = pagetext.find_section(pagetext.outline(storage), heading, page_id=pid)
        keep_heading = not pagetext.starts_with_heading(replacement)
        new_storage = pagetext.splice(storage, section, replacement, keep_heading=keep_heading)
        payload = {
            "id": pid,
            "status": current.get("status") or "current",
            "title": current.get("title"),
            "body": {"representation": "storage", "value": new_storage},
            "version": _version_block(_next_version(current, pid, version), message),
        }
        result = flatten_page(ctx, _put(ctx, pid, payload))
    result["section_id"] = section.id
    result["heading_replaced"] = not keep_heading
    return result


def move_page(
    ctx: Context,
    page_id: str,
    target_parent_id: str | None = None,
    position: str | None = None,
    target_id: str | None = None,
    message: str | None = None,
) -> dict[str, Any]:
    pid = require_id("page_id", page_id)
    if target_parent_id and (position or target_id):
        raise UsageError("Give either `target_parent_id`, or `position` and `target_id`; not both.")
    if target_parent_id:
        parent = require_id("target_parent_id", target_parent_id)
        if parent == pid:
            raise UsageError("A page cannot be its own parent.")
        with ctx.client.reserve(2):  # read, then write
            current = _fetch(ctx, pid)
            payload = {
                "id": pid,
                "status": current.get("status") or "current",
                "title": current.get("title"),
                "parentId": parent,
                "body": {"representation": "storage", "value": storage_of(current)},
                "version": _version_block(_next_version(current, pid, None), message),
            }
            try:
                return flatten_page(ctx, _put(ctx, pid, payload))
            except UsageError:
                if not _in_another_space(ctx, parent, current.get("spaceId")):
                    raise
        # v2 cannot change a page's space; Confluence's move can, as --before/--after do.
        ctx.client.put(f"/rest/api/content/{pid}/move/append/{parent}")
        return flatten_page(ctx, _fetch(ctx, pid))
    if not position or not target_id:
        raise UsageError(
            "Say where to move the page: `target_parent_id`, or `position` "
            "(before, after, append) with `target_id`."
        )
    target = require_id("target_id", target_id)
    if target == pid:
        raise UsageError("A page cannot be moved relative to itself.")
    ctx.client.put(f"/rest/api/content/{pid}/move/{position}/{target}")
    return {"id": pid, "moved": True, "position": position, "target_id": target}


def _in_another_space(ctx: Context, page_id: str, space_id: Any) -> bool:
    """Whether page ``page_id`` exists in a space other than ``space_id``."""
    try:
        other = ctx.client.get(f"/api/v2/pages/{page_id}")
    except NotFound:
        return False
    return space_id is not None and str(other.get("spaceId")) != str(space_id)


def delete_page(ctx: Context, page_id: str, purge: bool = False) -> dict[str, Any]:
    pid = require_id("page_id", page_id)
    if not purge:
        ctx.client.delete(f"/api/v2/pages/{pid}")
        return {"id": pid, "status": "trashed"}
    with ctx.client.reserve(2):  # read, then write
        raw = _fetch(ctx, pid, body_format=None, statuses=["current", "archived", "trashed"])
        if raw.get("status") != "trashed":
            raise UsageError(
                f"Page {pid} is not in the trash (status {raw.get('status')}): "
                "purge only removes a trashed page.",
                hint="Delete it without purge first (moves it to the trash).",
            )
        ctx.client.delete(f"/api/v2/pages/{pid}", params={"purge": "true"})
    return {"id": pid, "status": "purged"}


def restore_version(
    ctx: Context, page_id: str, version: int, message: str | None = None
) -> dict[str, Any]:
    pid = require_id("page_id", page_id)
    note = message or f"Restored version {version}"
    payload = {
        "operationKey": "restore",
        "params": {"versionNumber": version, "message": note, "restoreTitle": False},
    }
    data = ctx.client.post(f"/rest/api/content/{pid}/version", json=payload) or {}
    return {
        "id": pid,
        "restored_version": version,
        "version": data.get("number"),
        "message": data.get("message") or note,
    }


# ------------------------------------------------------------------------------ CLI renderers


def render_page(result: dict[str, Any]) -> dict[str, Any]:
    """The page's fields with its ancestors as one path; the body (always multi-line, so shown
    after the fields) last."""
    view = {k: v for k, v in result.items() if k not in ("body", "ancestors")}
    if result.get("ancestors"):
        view["ancestors"] = " > ".join(
            str(a.get("title") or a.get("id")) for a in result["ancestors"]
        )
    body = str(result.get("body") or "").rstrip("\n")
    if body:
        view["body"] = body + "\n"
    return view


def render_tree(result: dict[str, Any]) -> str:
    items = list(result.get("results") or [])
    if not items:
        return ""
    ids = {item["id"] for item in items}
    children: dict[Any, list[dict[str, Any]]] = {}
    roots: list[dict[str, Any]] = []
    for item in items:
        parent = item.get("parent_id")
        if parent in ids:
            children.setdefault(parent, []).append(item)
        else:
            roots.append(item)
    lines: list[str] = []

    def draw(item: dict[str, Any], level: int) -> None:
        kind = "" if item.get("type") == "page" else f"[{item.get('type')}] "
        lines.append(f"{'  ' * level}{kind}{item.get('title')}  ({item['id']})")
        for child in children.get(item["id"], []):
            draw(child, level + 1)

    for root in roots:
        draw(root, 0)
    return "\n".join(lines)


def render_outline(result: dict[str, Any]) -> str:
    lines = [f"{result.get('title')}  (page {result.get('id')}, version {result.get('version')})"]
    for h in result.get("headings") or []:
        lines.append(
            f"{'  ' * (h['level'] - 1)}{'#' * h['level']} {h['text']}  "
            f"[{h['id']}, {h['size']} chars]"
        )
    if len(lines) == 1:
        lines.append("(no headings)")
    return "\n".join(lines)


def render_restrictions(result: dict[str, Any]) -> dict[str, Any]:
    def who(block: dict[str, Any]) -> str:
        people = [f"{u.get('name')} ({u.get('account_id')})" for u in block.get("users") or []]
        groups = [f"group {g}" for g in block.get("groups") or []]
        return ", ".join(people + groups) or "anyone with space access"

    view = {"id": result.get("id"), "read": who(result["read"]), "edit": who(result["edit"])}
    for item in result.get("inherited_read") or []:
        view[f"read via {item.get('id')}"] = f"{item.get('title')}: {who(item)}"
    return view


def render_body(result: dict[str, Any]) -> str:
    return str(result.get("body") or "").rstrip("\n")


def render_diff(result: dict[str, Any]) -> str:
    text = str(result.get("diff") or "").rstrip("\n")
    if not text:
        return (
            f"No differences in the body between versions {result.get('from_version')} "
            f"and {result.get('to_version')}."
        )
    return text


# ------------------------------------------------------------------------------ declaration

_PAGE = Param("page_id", "str", "Page id.", required=True, positional=True)
_NODE = Param("page_id", "str", "Page or folder id.", required=True, positional=True)
_SPACE = Param("space_id", "str", "", flag="space")
_TITLE = Param("title", "str", "Exact title.")
_READ_FORMAT = Param(
    "body_format", "str", "", default="markdown", choices=READ_FORMATS, flag="format"
)
_SECTION_FORMAT = Param(
    "body_format", "str", "", default="markdown", choices=WRITE_FORMATS, flag="format"
)
_WRITE_FORMAT = Param(
    "content_format", "str", "Format of body.", default="markdown", choices=WRITE_FORMATS
)
_MESSAGE = Param("message", "str", "Version message.")
_NEW_VERSION = Param("version", "int", "New version number (default current+1).", minimum=1)
_OLD_VERSION = Param("version", "int", "Default current.", minimum=1)
_HEADING = Param("heading", "str", "Section id or heading text.", required=True, positional=True)
_ANCESTORS = Param("include_ancestors", "bool", "Add ancestor titles.", default=False)
_BODY_HELP = "Markdown, or storage XHTML with content_format=storage."
_NODE_COLUMNS = ("id", "type", "title", "status", "position")
_PAGE_COLUMNS = ("id", "title", "status", "version", "parent_id", "updated_at")

RESOURCE = Resource(
    name="pages",
    summary="Confluence pages: read, browse, diff, edit sections, create, update, move, delete.",
    content_types=("page",),
    instructions=(
        "space_id takes a space key or id.\n"
        "Bodies are Markdown; body_format=storage returns raw storage XHTML "
        "(content_format=storage sends it)."
    ),
    description=DESCRIPTION,
    operations=[
        Operation(
            name="get",
            summary="Page with body and labels (or by space_id+title).",
            run=get_page,
            render=render_page,
            params=(
                Param("page_id", "str", "", positional=True),
                _SPACE,
                _TITLE,
                _OLD_VERSION,
                _READ_FORMAT,
                _ANCESTORS,
            ),
        ),
        Operation(
            name="get_by_title",
            summary="Page by exact title.",
            run=get_by_title,
            render=render_page,
            params=(
                Param("space_id", "str", "Space key or id.", required=True, flag="space"),
                Param("title", "str", "Exact page title.", required=True),
                _READ_FORMAT,
                _ANCESTORS,
            ),
        ),
        Operation(
            name="list",
            summary="Pages of a space.",
            run=list_pages,
            paged=True,
            columns=_PAGE_COLUMNS,
            params=(
                _SPACE,
                _TITLE,
                Param("status", "list", "Default current.", choices=LIST_STATUSES),
                Param("sort", "str", "", choices=PAGE_SORTS),
            ),
        ),
        Operation(
            name="get_children",
            command="children",
            summary="Direct children of a page or folder.",
            run=get_children,
            paged=True,
            columns=_NODE_COLUMNS,
            params=(_NODE, Param("sort", "str", "", choices=CHILD_SORTS)),
        ),
        Operation(
            name="get_descendants",
            command="tree",
            summary="Subtree of a page or folder, or of a space.",
            run=get_descendants,
            paged=True,
            render=render_tree,
            columns=("id", "type", "depth", "parent_id", "title"),
            params=(
                Param("page_id", "str", "Page or folder id (or give space_id).", positional=True),
                _SPACE,
                Param("depth", "int", "Levels (default 2).", minimum=1, maximum=10),
            ),
        ),
        Operation(
            name="get_ancestors",
            command="ancestors",
            summary="Breadcrumb from the root.",
            run=get_ancestors,
            columns=("id", "type", "title"),
            params=(_NODE,),
        ),
        Operation(
            name="get_restrictions",
            command="restrictions",
            summary="Who may read and edit, and read restrictions inherited.",
            run=get_restrictions,
            render=render_restrictions,
            params=(_PAGE,),
        ),
        Operation(
            name="list_versions",
            command="versions",
            summary="Version history.",
            run=list_versions,
            paged=True,
            columns=("number", "created_at", "author_name", "author_id", "minor_edit", "message"),
            params=(_PAGE, Param("sort", "str", "", choices=("modified-date", "-modified-date"))),
        ),
        Operation(
            name="diff",
            summary="Unified diff of two versions.",
            run=diff_versions,
            render=render_diff,
            params=(
                _PAGE,
                Param("from_version", "int", "Default to_version-1.", minimum=1, flag="from"),
                Param("to_version", "int", "Default current.", minimum=1, flag="to"),
            ),
        ),
        Operation(
            name="get_outline",
            command="outline",
            summary="Headings with section ids.",
            run=get_outline,
            render=render_outline,
            params=(_PAGE, _OLD_VERSION),
        ),
        Operation(
            name="get_section",
            command="section",
            summary="One section, to the next heading of its level.",
            run=get_section,
            render=render_body,
            params=(_PAGE, _HEADING, _SECTION_FORMAT, _OLD_VERSION),
        ),
        Operation(
            name="create",
            summary="Create a page; parent_id may be a page or a folder.",
            run=create_page,
            write=True,
            params=(
                Param("space_id", "str", "Space key or id.", required=True, flag="space"),
                Param("title", "str", "Page title.", required=True),
                Param("body", "str", _BODY_HELP + " Default: empty.", from_file=True),
                _WRITE_FORMAT,
                Param(
                    "parent_id",
                    "str",
                    "Parent page or folder id (default: home page).",
                    flag="parent",
                ),
            ),
        ),
        Operation(
            name="update",
            summary="New title and/or body; version is the new number (default "
            "current+1), a stale one is a conflict.",
            run=update_page,
            write=True,
            params=(
                _PAGE,
                Param("title", "str", "New title (default: keep)."),
                Param("body", "str", _BODY_HELP, from_file=True),
                _WRITE_FORMAT,
                _MESSAGE,
                _NEW_VERSION,
            ),
        ),
        Operation(
            name="update_section",
            command="update-section",
            summary="Replace one section's content (a body starting with a heading replaces "
            "the heading too); the rest stays byte-for-byte. version as in update.",
            run=update_section,
            write=True,
            params=(
                _PAGE,
                _HEADING,
                Param("body", "str", "New section (required). " + _BODY_HELP, from_file=True),
                _WRITE_FORMAT,
                _MESSAGE,
                _NEW_VERSION,
            ),
        ),
        Operation(
            name="move",
            summary="Re-parent in the space, or put before/after (or append under) target_id.",
            run=move_page,
            write=True,
            params=(
                _PAGE,
                Param("target_parent_id", "str", "New parent page or folder id.", flag="parent"),
                Param("position", "str", "Where, relative to target_id.", choices=POSITIONS),
                Param("target_id", "str", "Page that position refers to.", flag="target"),
                _MESSAGE,
            ),
            cli_shortcuts={
                "before": {"position": "before", "target_id": "{}"},
                "after": {"position": "after", "target_id": "{}"},
            },
        ),
        Operation(
            name="delete",
            summary="Move a page to the trash; purge=true deletes a trashed page for good.",
            run=delete_page,
            write=True,
            destructive=True,
            params=(_PAGE, Param("purge", "bool", "Purge a trashed page.", default=False)),
        ),
        Operation(
            name="restore_version",
            command="restore",
            summary="Make an old version current again (as a new version).",
            run=restore_version,
            write=True,
            params=(
                _PAGE,
                Param(
                    "version",
                    "int",
                    "Version to restore.",
                    required=True,
                    positional=True,
                    minimum=1,
                ),
                _MESSAGE,
            ),
        ),
    ],
)


@hookimpl
def ctk_register_resources(register: Any) -> None:
    register(RESOURCE)
