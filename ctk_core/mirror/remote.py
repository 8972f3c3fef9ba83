"""What ``ctk export`` and ``ctk push`` read from Confluence the same way: CQL listings, page
bodies in bulk, and a parent from a CQL result's ancestors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ctk_core.helpers import storage_of

__all__ = ["BODY_BATCH", "cql_listing", "page_bodies", "parent_of", "storage_of"]

PAGES = "/api/v2/pages"
SEARCH = "/rest/api/content/search"
#: Ids per bulk body request (the most ``GET /pages?id=`` takes).
BODY_BATCH = 250


def page_bodies(client: Any, ids: list[str]) -> Iterator[tuple[list[str], dict[str, Any]]]:
    """The pages ``ids`` with their storage bodies, ``BODY_BATCH`` ids a request (``GET
    /api/v2/pages?id=...&body-format=storage``): for each batch, its ids and id -> the page as
    answered (a page deleted or hidden meanwhile is missing)."""
    for start in range(0, len(ids), BODY_BATCH):
        batch = ids[start : start + BODY_BATCH]
        pages = client.iterate(
            PAGES, params={"id": batch, "body-format": "storage"}, limit=BODY_BATCH
        )
        yield batch, {str(p.get("id")): p for p in pages}


def cql_listing(client: Any, cql: str, expand: str) -> Iterator[dict[str, Any]]:
    """Every result of a CQL search (v1 content, with ``expand``), 250 a request."""
    yield from client.iterate(SEARCH, params={"cql": cql, "expand": expand}, limit=250)


def parent_of(raw: dict[str, Any]) -> str | None:
    """The parent id of a CQL (v1 content) result: the last of its ``ancestors``."""
    ancestors = [a for a in raw.get("ancestors") or [] if isinstance(a, dict)]
    return str(ancestors[-1]["id"]) if ancestors and ancestors[-1].get("id") else None
