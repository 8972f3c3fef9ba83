"""Helpers that resource plugins share: ``from ctk_core.helpers import require_id, run_cql``.

- checking arguments: :func:`require_id` (a content id), :func:`space_key` (a key from a key or
  id);
- CQL: :func:`cql_string` quotes a value, :func:`run_cql` runs one page of a search through
  ``GET /rest/api/search`` (v2 has no search) and flattens the hits (:func:`flatten_hit`);
- raw answers: :func:`web_url` (``_links.webui`` made absolute), :func:`webui_space_key`,
  :func:`storage_of` (a storage body), :func:`titled_ancestors` (an ``/ancestors`` answer with
  titles);
- writes of several requests: :func:`partial_failure` (an error saying what was and was not
  applied);
- people: :func:`display_names` (account id -> display name: one ``users-bulk`` request for the
  ids this process has not seen yet, never an error), :func:`remember_names`,
  :func:`mention_ids` (the account ids a storage body mentions).

Standard library only: plugin modules import this on every ``ctk --help``.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from ctk_core.errors import CtkError, NotFound, UsageError, shown

SEARCH_PATH = "/rest/api/search"

_SPACE_PATH = re.compile(r"/(?:rest/api/space|spaces)/([^/?#]+)")
_HIGHLIGHT = re.compile(r"@@@hl@@@(.*?)@@@endhl@@@", re.S)


# ------------------------------------------------------------------------------ arguments


def require_id(name: str, value: Any) -> str:
    """A Confluence content id (a string of digits), or a UsageError naming the argument."""
    text = str(value).strip() if value is not None else ""
    if not text:
        raise UsageError(f"Missing argument `{name}`.")
    if not (text.isascii() and text.isdigit() and len(text) <= 19):  # an int64, as Confluence's
        raise UsageError(
            f"Invalid value for '{name}': {shown(value)} is not a Confluence id "
            "(ids are numbers, e.g. 123456)."
        )
    return text


def space_key(ctx: Any, value: Any) -> str:
    """The key of a space given by key or id (CQL wants keys). Unknown spaces raise NotFound."""
    text = str(value or "").strip()
    if not text:
        raise UsageError("Missing argument `space_id`.")
    if text.isdigit():
        data = ctx.client.get(f"/api/v2/spaces/{text}") or {}
        return str(data.get("key") or text)
    ctx.space_id(text)  # checks that the space exists (cached per process)
    return text


# ------------------------------------------------------------------------------ raw answers


def web_url(client: Any, raw: dict[str, Any]) -> str | None:
    """The absolute web address of an object from its ``_links.webui`` (None without one)."""
    webui = (raw.get("_links") or {}).get("webui")
    return str(client.absolute(webui)) if webui else None


def webui_space_key(webui: str | None) -> str | None:
    """The space key in a web UI link (``/spaces/KEY/pages/...``): free, no request."""
    if webui and webui.startswith("/spaces/"):
        return webui.split("/")[2] or None
    return None


def storage_of(raw: dict[str, Any]) -> str:
    """The storage-format body of a page or comment fetched with ``body-format=storage``."""
    return str(((raw.get("body") or {}).get("storage") or {}).get("value") or "")


def titled_ancestors(ctx: Any, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``{id, type, title}`` for each item of an ``/ancestors`` answer, top-most first.

    Page titles come from one bulk request; folder titles one by one (there is no bulk endpoint
    for folders). A title that cannot be read stays None.
    """
    ancestors: list[dict[str, Any]] = [
        {"id": str(a.get("id")), "type": a.get("type") or "page", "title": None} for a in results
    ]
    titles: dict[str, Any] = {}
    page_ids = [a["id"] for a in ancestors if a["type"] == "page"]
    if page_ids:
        bulk = ctx.client.get("/api/v2/pages", params={"id": page_ids, "limit": 250})
        titles.update({str(r.get("id")): r.get("title") for r in bulk.get("results") or []})
    for a in ancestors:
        if a["type"] == "folder":
            try:
                titles[a["id"]] = ctx.client.get(f"/api/v2/folders/{a['id']}").get("title")
            except NotFound:
                pass
        a["title"] = titles.get(a["id"])
    return ancestors


# ------------------------------------------------------------------------------ CQL search


def cql_string(value: str) -> str:
    """``value`` as a double-quoted CQL string: backslashes and quotes escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _space_key_of(raw: dict[str, Any], content: dict[str, Any]) -> str | None:
    for space in (content.get("space"), raw.get("space")):
        if isinstance(space, dict) and space.get("key"):
            return str(space["key"])
    candidates = [
        (content.get("_expandable") or {}).get("space"),
        (raw.get("resultGlobalContainer") or {}).get("displayUrl"),
        (content.get("_links") or {}).get("webui"),
        raw.get("url"),
    ]
    for text in candidates:
        if isinstance(text, str) and (m := _SPACE_PATH.search(text)):
            return m.group(1)
    return None


def clean_excerpt(text: Any) -> str:
    """One line of readable text: highlight markers become **bold**, entities unescaped."""
    if not text:
        return ""
    import html

    text = _HIGHLIGHT.sub(lambda m: f"**{m.group(1)}**", str(text))
    text = text.replace("@@@hl@@@", "").replace("@@@endhl@@@", "")
    return " ".join(html.unescape(text).split())


def flatten_hit(client: Any, raw: dict[str, Any]) -> dict[str, Any]:
    """One v1 search result as ctk shows it."""
    content = raw.get("content") or {}
    space = raw.get("space") or {}
    if content:
        kind = content.get("type") or raw.get("entityType")
        item_id = content.get("id")
        title = content.get("title") or raw.get("title")
        status = content.get("status")
    elif space:
        kind, item_id, title = "space", space.get("id"), space.get("name") or raw.get("title")
        status = space.get("status")
    else:
        kind, item_id, title = raw.get("entityType"), None, raw.get("title")
        status = None
    url = raw.get("url") or (content.get("_links") or {}).get("webui")
    return {
        "id": str(item_id) if item_id is not None else None,
        "type": kind,
        "title": clean_excerpt(title).replace("**", ""),
        "status": status,
        "space_key": _space_key_of(raw, content),
        "space_name": (raw.get("resultGlobalContainer") or {}).get("title"),
        "excerpt": clean_excerpt(raw.get("excerpt")),
        "last_modified": raw.get("lastModified"),
        "web_url": client.absolute(url) if url else None,
    }


def run_cql(
    ctx: Any,
    cql: str,
    *,
    limit: int = 25,
    cursor: str | None = None,
    excerpt: str = "highlight",
    include_archived_spaces: bool = False,
) -> dict[str, Any]:
    """Run one page of a CQL search; flattened hits and the next cursor. Hits of a content type
    the context withholds (a disabled tool's) are left out, so a page may hold fewer than
    ``limit``."""
    params: dict[str, Any] = {"cql": cql, "excerpt": excerpt, "expand": "content.space"}
    if include_archived_spaces:
        params["includeArchivedSpaces"] = "true"
    page = ctx.client.page(SEARCH_PATH, params=params, limit=limit, cursor=cursor or None)
    results = [flatten_hit(ctx.client, raw) for raw in page.get("results") or []]
    withheld = getattr(ctx, "withheld_types", ())
    if withheld:  # content of a disabled tool is not shown through search either
        results = [hit for hit in results if hit.get("type") not in withheld]
    return {"results": results, "next_cursor": page.get("next_cursor")}


def partial_failure(error: CtkError, applied: str) -> CtkError:
    """``error`` (same class, exit code and hint) saying first what an operation of several
    writes did and did not apply before it failed::

        raise partial_failure(exc, "Removed a, b from page 1; not removed: c, d") from None

    gives ``Removed a, b from page 1; not removed: c, d: <the error's own message>``.
    """
    said = copy.copy(error)
    CtkError.__init__(said, f"{applied}: {error.message}", hint=error.hint)
    return said


# ------------------------------------------------------------------------------ people

USERS_BULK_PATH = "/api/v2/users-bulk"
#: users-bulk accepts at most this many account ids per request.
USERS_BULK_MAX = 250
_NAMES_MAX = 20000  # the cache starts afresh past this many people

_MENTION = re.compile(r"""<ri:user\b[^>]*?\bri:account-id\s*=\s*("[^"]*"|'[^']*')""")
#: (site, account id) -> display name, or None for an id Confluence did not return.
_names: dict[tuple[str, str], str | None] = {}
_names_lock = threading.Lock()


def mention_ids(storage: str) -> list[str]:
    """The account ids a storage body mentions (``<ri:user ri:account-id=...>``), in order,
    without repeats. Free: no request."""
    import html

    ids = (html.unescape(m.group(1)[1:-1]) for m in _MENTION.finditer(storage or ""))
    return list(dict.fromkeys(i for i in ids if i))


def _site(ctx: Any) -> str:
    return str(getattr(ctx.client, "wiki_base", ""))


def remember_names(ctx: Any, names: Mapping[str, str | None]) -> None:
    """Keep display names learnt for free (a v1 answer's ``version.by``) for this process."""
    site = _site(ctx)
    _keep({(site, i): n for i, n in names.items() if i and n})


def _keep(names: Mapping[tuple[str, str], str | None]) -> None:
    """Add to the names kept for the process (None: Confluence names nobody by that id)."""
    with _names_lock:
        if len(_names) + len(names) > _NAMES_MAX:
            _names.clear()
        _names.update(names)


def display_names(ctx: Any, account_ids: Iterable[Any], fetch: bool = True) -> dict[str, str]:
    """``{account id: display name}`` for the given ids that Confluence names.

    Names are kept for the process, per site: ids not seen before cost one request,
    ``POST /api/v2/users-bulk`` (one per 250 ids), however many there are; ids seen before cost
    nothing, and so does the whole call with ``fetch=False`` (known names only). A lookup that
    fails or is refused (any ctk error, the rate limiter's included) leaves those ids without a
    name and raises nothing: callers show the id instead.
    """
    wanted = list(dict.fromkeys(str(i) for i in account_ids if i))
    if not wanted:
        return {}
    site = _site(ctx)
    with _names_lock:
        missing = [i for i in wanted if (site, i) not in _names] if fetch else []
    for start in range(0, len(missing), USERS_BULK_MAX):
        chunk = missing[start : start + USERS_BULK_MAX]
        try:
            data = ctx.client.post(USERS_BULK_PATH, json={"accountIds": chunk}) or {}
        except CtkError:
            break
        found = {
            str(u.get("accountId")): str(u.get("displayName") or u.get("publicName") or "")
            for u in data.get("results") or []
            if isinstance(u, dict)
        }
        _keep({(site, i): found.get(i) or None for i in chunk})
    with _names_lock:
        known = {i: _names.get((site, i)) for i in wanted}
    return {i: n for i, n in known.items() if n}


def forget_display_names() -> None:
    """Clear the names kept for the process (tests; each CLI run starts without them)."""
    with _names_lock:
        _names.clear()


__all__ = [
    "SEARCH_PATH",
    "USERS_BULK_MAX",
    "USERS_BULK_PATH",
    "clean_excerpt",
    "cql_string",
    "display_names",
    "flatten_hit",
    "forget_display_names",
    "mention_ids",
    "partial_failure",
    "remember_names",
    "require_id",
    "run_cql",
    "space_key",
    "storage_of",
    "titled_ancestors",
    "web_url",
    "webui_space_key",
]
