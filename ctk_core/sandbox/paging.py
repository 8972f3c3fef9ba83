"""Cursor pagination as the real API does it: opaque cursor, ``_links.next``, ``Link`` header."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from ctk_core.sandbox.responses import HttpError, Response, json_response
from ctk_core.sandbox.router import Request


def encode_cursor(offset: int) -> str:
    raw = json.dumps({"o": offset}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        offset = json.loads(base64.urlsafe_b64decode(padded.encode()))["o"]
        if not isinstance(offset, int) or offset < 0:
            raise ValueError(cursor)
        return offset
    except (ValueError, KeyError, TypeError):
        raise HttpError(400, f"Invalid cursor: {cursor!r}") from None


def page_window(
    req: Request, items: Sequence[Any], default_limit: int = 25, max_limit: int = 250
) -> tuple[list[Any], str | None, int, int]:
    """Slice ``items`` for this request: (page items, next link or None, offset, limit).

    The next link is relative to the site (``/wiki/...``) and repeats every query parameter of
    the request with the new cursor. Limit over ``max_limit`` (or below 1) answers 400.
    """
    limit = req.int_arg("limit", default_limit)
    assert limit is not None
    if limit < 1 or limit > max_limit:
        raise HttpError(
            400,
            f"Invalid value for parameter 'limit': {limit}; it must be between 1 and {max_limit}.",
        )
    if req.max_page_size:
        limit = min(limit, req.max_page_size)
    cursor = req.arg("cursor")
    offset = decode_cursor(cursor) if cursor else 0
    window = list(items[offset : offset + limit])
    next_link = None
    if offset + limit < len(items):
        next_link = next_path(req, {"cursor": encode_cursor(offset + limit), "limit": str(limit)})
    return window, next_link, offset, limit


def next_path(req: Request, replace: dict[str, str]) -> str:
    """The request's site-relative path with some query parameters replaced."""
    pairs = [(k, v) for k, values in req.query.items() if k not in replace for v in values]
    pairs.extend(replace.items())
    return quote(req.path) + "?" + urlencode(pairs)


def link_header(req: Request, next_link: str | None) -> dict[str, str]:
    links = []
    if next_link:
        links.append(f'<{next_link}>; rel="next"')
    links.append(f'<{req.wiki_base}>; rel="base"')
    return {"Link": ", ".join(links)}


def paginate(
    req: Request,
    items: Sequence[Any],
    serialize: Callable[[Any], Any] | None = None,
    default_limit: int = 25,
    max_limit: int = 250,
    extra: dict[str, Any] | None = None,
) -> Response:
    """A v2 list answer: ``{"results": [...], "_links": {"next"?, "base"}}`` plus ``Link``."""
    window, next_link, _, _ = page_window(req, items, default_limit, max_limit)
    results = [serialize(item) for item in window] if serialize else window
    links: dict[str, str] = {"base": req.wiki_base}
    if next_link:
        links["next"] = next_link
    body: dict[str, Any] = {"results": results}
    if extra:
        body.update(extra)
    body["_links"] = links
    return json_response(body, headers=link_header(req, next_link))
