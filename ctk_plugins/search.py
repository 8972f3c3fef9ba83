"""manage_search / ``ctk search``: CQL search through the v1 search endpoint.

v2 has no search, so both actions call ``GET /rest/api/search`` (a v1 endpoint Atlassian keeps)
through ``ctk_core.helpers.run_cql``, which the folders and labels plugins list with too.
``quick`` builds a safe CQL query from plain words so that callers need not know CQL.
"""

from __future__ import annotations

import re
from typing import Any

from ctk_core import Context, Operation, Param, PolicyError, Resource, UsageError, hookimpl, shown
from ctk_core.helpers import cql_string, run_cql, space_key

EXCERPTS = ("highlight", "indexed", "none")
QUICK_TYPES = ("page", "blogpost", "folder", "attachment", "comment")

DESCRIPTION = """\
CQL examples:

  type = page AND space = "DEMO" AND title ~ "onboarding"

  siteSearch ~ "release notes" AND type IN (page, blogpost)

  label = "howto" ORDER BY lastmodified DESC

  ancestor = 123456 AND lastmodified > now("-30d")

Double-quote strings (escape \\" and \\\\). No user fields."""


# ------------------------------------------------------------------------------ handlers


def search_cql(
    ctx: Context,
    cql: str,
    excerpt: str = "highlight",
    include_archived_spaces: bool = False,
    limit: int = 25,
    cursor: str | None = None,
) -> dict[str, Any]:
    query = (cql or "").strip()
    if not query:
        raise UsageError(
            'Missing argument `cql`: give a CQL query, e.g. type = page AND title ~ "plan".'
        )
    return run_cql(
        ctx,
        query,
        limit=limit,
        cursor=cursor,
        excerpt=excerpt,
        include_archived_spaces=include_archived_spaces,
    )


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


def search_quick(
    ctx: Context,
    query: str,
    space_id: str | None = None,
    type: str | None = None,
    excerpt: str = "highlight",
    include_archived_spaces: bool = False,
    limit: int = 25,
    cursor: str | None = None,
) -> dict[str, Any]:
    words = plain_words(query)
    if not words:
        raise UsageError("Missing argument `query`: give the words to search for.")
    if not re.search(r"\w", words):
        raise UsageError(f"Invalid value for `query`: {shown(query)} has no words to search for.")
    if type is not None and type not in QUICK_TYPES:
        raise UsageError(
            f"Invalid value for `type`: {shown(type)}; choose from {', '.join(QUICK_TYPES)}."
        )
    if type in ctx.withheld_types:
        raise PolicyError(
            f"Search of {type} content is off: its tool is disabled by CTK_DISABLED_TOOLS."
        )
    key = space_key(ctx, space_id) if space_id else None
    cql = build_quick_cql(words, key, type)
    result = run_cql(
        ctx,
        cql,
        limit=limit,
        cursor=cursor,
        excerpt=excerpt,
        include_archived_spaces=include_archived_spaces,
    )
    result["cql"] = cql
    return result


# ------------------------------------------------------------------------------ declaration

_EXCERPT = Param("excerpt", "str", "", default="highlight", choices=EXCERPTS)
_ARCHIVED = Param("include_archived_spaces", "bool", "", default=False)
_COLUMNS = ("id", "type", "space_key", "title", "excerpt")

RESOURCE = Resource(
    name="search",
    summary="Search Confluence with CQL or plain words.",
    instructions="space_id takes a space key or id.",
    description=DESCRIPTION,
    default_command="cql",
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
                Param("query", "str", "Words to find (quoted for you).", required=True),
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
