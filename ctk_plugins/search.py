"""manage_search / ``ctk search``: CQL search through the v1 search endpoint.

v2 has no search, so both actions call ``GET /rest/api/search`` (a v1 endpoint Atlassian keeps).
``quick`` builds a safe CQL query from plain words so that callers need not know CQL.

The helpers at the bottom (``cql_string``, ``space_key``, ``run_cql``, ``flatten_hit``,
``require_id``) are shared with the folders and labels plugins, which list through CQL too.
"""

from __future__ import annotations

import re
from typing import Any

from ctk_core import Operation, Param, Resource, UsageError, hookimpl

SEARCH_PATH = "/rest/api/search"

EXCERPTS = ("highlight", "indexed", "none")
QUICK_TYPES = ("page", "blogpost", "folder", "attachment", "comment")

DESCRIPTION = """\
CQL examples:

  type = page AND space = "DEMO" AND title ~ "onboarding"

  siteSearch ~ "release notes" AND type IN (page, blogpost)

  label = "howto" ORDER BY lastmodified DESC

  ancestor = 123456 AND lastmodified > now("-30d")

Double-quote strings (escape \\" and \\\\). No user fields."""


# ------------------------------------------------------------------------------ shared helpers


def require_id(name: str, value: Any) -> str:
    """A Confluence content id (a string of digits), or a UsageError naming the argument."""
    text = str(value).strip() if value is not None else ""
    if not text:
        raise UsageError(f"Missing argument '{name}'.")
    if not text.isdigit():
        raise UsageError(f"Invalid value for '{name}': {value!r} is not a Confluence id "
                         "(ids are numbers, e.g. 123456).")
    return text


def cql_string(value: str) -> str:
    """``value`` as a double-quoted CQL string: backslashes and quotes escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def space_key(ctx: Any, value: Any) -> str:
    """The key of a space given by key or id (CQL wants keys). Unknown spaces raise NotFound."""
    text = str(value or "").strip()
    if not text:
        raise UsageError("Missing argument 'space_id'.")
    if text.isdigit():
        data = ctx.client.get(f"/api/v2/spaces/{text}")
        return str(data.get("key") or text)
    ctx.space_id(text)  # checks that the space exists (cached per process)
    return text


_SPACE_PATH = re.compile(r"/(?:rest/api/space|spaces)/([^/?#]+)")
_HIGHLIGHT = re.compile(r"@@@hl@@@(.*?)@@@endhl@@@", re.S)


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


def run_cql(ctx: Any, cql: str, *, limit: int = 25, cursor: str | None = None,
            excerpt: str = "highlight", include_archived_spaces: bool = False) -> dict[str, Any]:
    """Run one page of a CQL search; flattened hits and the next cursor."""
    params: dict[str, Any] = {"cql": cql, "excerpt": excerpt, "expand": "content.space"}
    if include_archived_spaces:
        params["includeArchivedSpaces"] = "true"
    page = ctx.client.page(SEARCH_PATH, params=params, limit=limit, cursor=cursor or None)
    results = [flatten_hit(ctx.client, raw) for raw in page.get("results") or []]
    return {"results": results, "next_cursor": page.get("next_cursor")}


# ------------------------------------------------------------------------------ handlers


def search_cql(ctx: Any, cql: str, excerpt: str = "highlight",
               include_archived_spaces: bool = False, limit: int = 25,
               cursor: str | None = None) -> dict[str, Any]:
    query = (cql or "").strip()
    if not query:
        raise UsageError("Missing argument 'cql': give a CQL query, e.g. "
                         'type = page AND title ~ "plan".')
    return run_cql(ctx, query, limit=limit, cursor=cursor, excerpt=excerpt,
                   include_archived_spaces=include_archived_spaces)


def build_quick_cql(words: str, space: str | None = None, kind: str | None = None) -> str:
    """The CQL that ``quick`` runs: a site search for the words, optionally narrowed."""
    parts = [f"siteSearch ~ {cql_string(words)}"]
    if space:
        parts.append(f"space = {cql_string(space)}")
    if kind:
        parts.append(f"type = {kind}")
    return " AND ".join(parts)


def plain_words(text: str) -> str:
    """The words of ``text`` for a site search: blanks squashed, ``*`` kept only where CQL
    allows a wildcard (at the end of a word, for a prefix search)."""
    out = []
    for token in (text or "").split():
        core = token.replace("*", "")
        if token.endswith("*") and core and core[-1].isalnum():
            core += "*"
        if core:
            out.append(core)
    return " ".join(out)


def search_quick(ctx: Any, query: str, space_id: str | None = None, type: str | None = None,
                 excerpt: str = "highlight", include_archived_spaces: bool = False,
                 limit: int = 25, cursor: str | None = None) -> dict[str, Any]:
    words = plain_words(query)
    if not words:
        raise UsageError("Missing argument 'query': give the words to search for.")
    if not re.search(r"\w", words):
        raise UsageError(f"Invalid value for 'query': {query!r} has no words to search for.")
    if type is not None and type not in QUICK_TYPES:
        raise UsageError(f"Invalid value for 'type': {type!r}; choose from "
                         f"{', '.join(QUICK_TYPES)}.")
    key = space_key(ctx, space_id) if space_id else None
    cql = build_quick_cql(words, key, type)
    result = run_cql(ctx, cql, limit=limit, cursor=cursor, excerpt=excerpt,
                     include_archived_spaces=include_archived_spaces)
    result["cql"] = cql
    return result


# ------------------------------------------------------------------------------ declaration

_EXCERPT = Param("excerpt", "str", "", default="highlight", choices=EXCERPTS)
_ARCHIVED = Param("include_archived_spaces", "bool", "", default=False)
_COLUMNS = ("id", "type", "space_key", "title", "excerpt")

RESOURCE = Resource(
    name="search",
    summary="Search Confluence with CQL or plain words.",
    description=DESCRIPTION,
    operations=[
        Operation(
            name="cql",
            summary="Run a CQL query.",
            run=search_cql,
            params=(
                Param("cql", "str", "", required=True, positional=True),
                _EXCERPT,
                _ARCHIVED,
            ),
            paged=True,
            columns=_COLUMNS,
        ),
        Operation(
            name="quick",
            summary="Search for words (no CQL).",
            run=search_quick,
            params=(
                Param("query", "str", "Words to find (quoted for you).", required=True,
                      flag="text"),
                Param("space_id", "str", "", flag="space"),
                Param("type", "str", "", choices=QUICK_TYPES),
                _EXCERPT,
                _ARCHIVED,
            ),
            paged=True,
            columns=_COLUMNS,
        ),
    ],
)


@hookimpl
def ctk_register_resources(register: Any) -> None:
    register(RESOURCE)
