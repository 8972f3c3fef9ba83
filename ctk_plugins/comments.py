"""manage_comments / ``ctk comments``: footer and inline comments of pages (v2).

Bodies are Markdown both ways by default (the converter in ctk_core.convert, imported lazily);
``body_format=storage`` reads and ``content_format=storage`` writes raw storage XHTML. Authors and
mentioned people get their display names (ctk_core.helpers.display_names: one users-bulk
request for a listing, none for names the process knows).

Threads (``include_replies``): v2 lists only a page's top-level comments and has no bulk way to
their replies (``/children`` is one request per comment, replies of replies included), so the
replies come from one CQL content search of the page's comments (v1
``/rest/api/content/search``, ``type = comment and container = <page>``, 250 a request), whose
``ancestors`` place each reply and whose ``version.by`` names the authors for free.
"""

from __future__ import annotations

import re
from typing import Any

from ctk_core import (
    Context,
    CtkError,
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
    remember_names,
    require_id,
    storage_of,
    web_url,
)

DESCRIPTION = """\
Footer and inline comments of pages."""

KINDS = ("footer", "inline")
FORMATS = ("markdown", "storage")


# ------------------------------------------------------------------------------ bodies


def _read_body(raw: dict[str, Any], body_format: str, names: dict[str, str] | None = None) -> str:
    value = storage_of(raw)
    if body_format == "storage" or not value:
        return value
    from ctk_core.convert import storage_to_markdown

    return storage_to_markdown(value, names).strip()


def _write_body(body: str | None, content_format: str) -> dict[str, str]:
    text = body if body is not None else ""
    if not text.strip():
        raise UsageError("Missing argument `body`: the comment text is empty.")
    if content_format == "storage":
        value = text
    else:
        from ctk_core.convert import markdown_to_storage

        value = markdown_to_storage(text)
    return {"representation": "storage", "value": value}


def _author(raw: dict[str, Any]) -> Any:
    return (raw.get("version") or {}).get("authorId")


def _names(
    ctx: Context, raws: list[dict[str, Any]], body_format: str, fetch: bool = True
) -> dict[str, str]:
    """Display names of the comments' authors and of the people their bodies mention: one
    request at most (none with ``fetch=False``: the names this process knows)."""
    ids = [_author(r) for r in raws]
    if body_format != "storage":
        ids += [i for r in raws for i in mention_ids(storage_of(r))]
    return display_names(ctx, ids, fetch=fetch)


def flatten_comment(
    ctx: Context,
    raw: dict[str, Any],
    kind: str,
    body_format: str = "markdown",
    names: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A v2 comment as ctk shows it; ``names`` (account id -> display name) gives the author's
    name and the mentions' (default: the names this process already knows, no request)."""
    if names is None:
        names = _names(ctx, [raw], body_format, fetch=False)
    version = raw.get("version") or {}
    out: dict[str, Any] = {
        "id": raw.get("id"),
        "type": kind,
        "page_id": raw.get("pageId"),
        "parent_comment_id": raw.get("parentCommentId"),
        "status": raw.get("status"),
        "author_id": version.get("authorId"),
        "author_name": names.get(str(version.get("authorId"))),
        "updated_at": version.get("createdAt"),
        "version": version.get("number"),
    }
    if kind == "inline":
        props = raw.get("properties") or {}
        out["resolution_status"] = raw.get("resolutionStatus")
        out["selected_text"] = props.get("inlineOriginalSelection")
    out["body"] = _read_body(raw, body_format, names)
    out["web_url"] = web_url(ctx.client, raw)
    return out


# ------------------------------------------------------------------------------ page text

_BLOCKS = frozenset(
    {
        "p",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "li",
        "td",
        "th",
        "tr",
        "br",
        "div",
        "pre",
        "blockquote",
        "table",
        "ul",
        "ol",
        "hr",
        "ac:task",
        "ac:layout-cell",
    }
)
_HIDDEN = frozenset({"ac:parameter", "ri:attachment", "ri:page", "ri:user", "ri:url"})


def _text_parser() -> Any:
    """A parser collecting the visible text of storage XHTML, one line per block element.

    html.parser is imported here, on first use: plugin modules load on every ``ctk --help``.
    """
    from html.parser import HTMLParser

    class TextOf(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []
            self.hidden = 0

        def handle_starttag(self, tag: str, attrs: Any) -> None:
            if tag in _HIDDEN:
                self.hidden += 1
            elif tag in _BLOCKS:
                self.parts.append("\n")

        def handle_startendtag(self, tag: str, attrs: Any) -> None:
            if tag in _BLOCKS:
                self.parts.append("\n")

        def handle_endtag(self, tag: str) -> None:
            if tag in _HIDDEN:
                self.hidden = max(0, self.hidden - 1)
            elif tag in _BLOCKS:
                self.parts.append("\n")

        def handle_data(self, data: str) -> None:
            if not self.hidden:
                self.parts.append(data.replace("\n", " "))

    return TextOf()


_CDATA = re.compile(r"<!\[CDATA\[(.*?)\]\]>", re.S)


def _squash(text: str) -> str:
    return " ".join(text.split())


def page_text_lines(storage: str) -> list[str]:
    import html

    parser = _text_parser()
    # CDATA (code macro bodies) becomes escaped text: HTMLParser's CDATA handling varies.
    parser.feed(_CDATA.sub(lambda m: html.escape(m.group(1), quote=False), storage))
    parser.close()
    return [line for line in (_squash(x) for x in "".join(parser.parts).split("\n")) if line]


def count_matches(storage: str, selection: str) -> int:
    """How many times ``selection`` occurs in the visible text (never across blocks)."""
    return sum(line.count(selection) for line in page_text_lines(storage))


# ------------------------------------------------------------------------------ lookups


def _locate(ctx: Context, comment_id: str, body_format: str | None = None) -> tuple[str, dict]:
    """(kind, raw comment): footer or inline, decided by asking Confluence."""
    cid = require_id("comment_id", comment_id)
    params = {"body-format": "storage"} if body_format else None
    for kind in KINDS:
        try:
            return kind, ctx.client.get(f"/api/v2/{kind}-comments/{cid}", params=params)
        except NotFound:
            continue
    raise NotFound(
        f"Comment {cid} not found (neither a footer nor an inline comment), or not visible to you."
    )


def _paged(
    ctx: Context,
    path: str,
    kind: str,
    params: dict[str, Any],
    body_format: str,
    limit: int,
    cursor: str | None,
    replies_of_page: str | None = None,
) -> dict[str, Any]:
    """One page of a comment list, named; with ``replies_of_page``, each comment carries its
    thread (``replies``, nested), from one more request per 250 comments of that page."""
    params = dict(params, **{"body-format": "storage"})
    page = ctx.client.page(path, params=params, limit=limit, cursor=cursor or None)
    raws = [r for r in page.get("results") or [] if isinstance(r, dict)]
    thread: dict[str, list[dict[str, Any]]] | None = None
    unavailable = None
    if replies_of_page and raws:
        # The page's whole discussion is one search: the next pages of this listing (--all, a
        # cursor) reuse it instead of searching again.
        key = ("comment-threads", replies_of_page, kind)
        thread = ctx.cache.get(key) if cursor else None
        if thread is None:
            try:
                thread = ctx.cache[key] = _threads(ctx, replies_of_page, kind)
            except CtkError as exc:  # the comments are still worth showing
                unavailable = exc.message
    everyone = raws + [r for replies in (thread or {}).values() for r in replies]
    names = _names(ctx, everyone, body_format)
    results = [flatten_comment(ctx, r, kind, body_format, names) for r in raws]
    if thread is not None:
        for item in results:
            item["replies"] = _nest(ctx, thread, str(item["id"]), body_format, names)
    out: dict[str, Any] = {"results": results, "next_cursor": page.get("next_cursor")}
    if unavailable:
        out["replies_unavailable"] = unavailable
    return out


# ------------------------------------------------------------------------------ threads

THREAD_PATH = "/rest/api/content/search"
THREAD_EXPAND = "body.storage,version,ancestors,extensions"
THREAD_PAGES = 20  # at most 20 requests (5000 comments) for one page's discussion


def _threads(ctx: Context, page_id: str, kind: str) -> dict[str, list[dict[str, Any]]]:
    """parent comment id -> its replies (v1 content, in the v2 comment shape), oldest first,
    for the comments of ``kind`` on a page: one CQL content search (a request per 250)."""
    params = {
        "cql": f"type = comment and container = {page_id} order by created asc",
        "expand": THREAD_EXPAND,
    }
    found: list[dict[str, Any]] = []
    cursor = None
    for _ in range(THREAD_PAGES):
        page = ctx.client.page(THREAD_PATH, params=params, limit=250, cursor=cursor)
        found += [c for c in page.get("results") or [] if isinstance(c, dict)]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    learnt = {}
    for c in found:
        by = (c.get("version") or {}).get("by") or {}
        if by.get("accountId") and by.get("type") != "unknown":
            learnt[str(by["accountId"])] = by.get("displayName") or by.get("publicName")
    remember_names(ctx, learnt)
    ours = [c for c in found if ((c.get("extensions") or {}).get("location") or kind) == kind]
    chains = {str(c.get("id")): _comment_ancestors(c) for c in ours}
    thread: dict[str, list[dict[str, Any]]] = {}
    for c in ours:
        above = chains[str(c.get("id"))]
        if not above:
            continue  # a top-level comment
        # The direct parent is the ancestor deepest in the thread (whatever the list's order).
        parent = max(reversed(above), key=lambda a: len(chains.get(a, ())))
        thread.setdefault(parent, []).append(_as_v2(c, parent))
    return thread


def _comment_ancestors(content: dict[str, Any]) -> list[str]:
    return [
        str(a.get("id"))
        for a in content.get("ancestors") or []
        if isinstance(a, dict) and a.get("type") == "comment"
    ]


def _as_v2(content: dict[str, Any], parent: str) -> dict[str, Any]:
    """A v1 comment (content search) as the v2 fields flatten_comment reads."""
    version = content.get("version") or {}
    return {
        "id": content.get("id"),
        "status": content.get("status"),
        "parentCommentId": parent,
        "version": {
            "authorId": (version.get("by") or {}).get("accountId"),
            "createdAt": version.get("when"),
            "number": version.get("number"),
        },
        "body": content.get("body") or {},
        "_links": content.get("_links") or {},
    }


def _nest(
    ctx: Context,
    thread: dict[str, list[dict[str, Any]]],
    comment_id: str,
    body_format: str,
    names: dict[str, str],
    depth: int = 0,
) -> list[dict[str, Any]]:
    """The replies to a comment, each with its own replies (a thread is not deeper than 50)."""
    out = []
    for raw in thread.get(comment_id, []) if depth < 50 else []:
        item = flatten_comment(ctx, raw, "reply", body_format, names)
        # What the thread already says, and a link per reply (the comment's own link leads there).
        for key in ("type", "page_id", "parent_comment_id", "status", "web_url"):
            item.pop(key, None)
        item["replies"] = _nest(ctx, thread, str(raw.get("id")), body_format, names, depth + 1)
        out.append(item)
    return out


def render_threads(result: dict[str, Any]) -> Any:
    """The CLI's table of a listing: replies as rows under their comment, one ``↳`` a level."""
    rows: list[dict[str, Any]] = []

    def add(item: dict[str, Any], depth: int) -> None:
        row = {k: v for k, v in item.items() if k != "replies"}
        row["id"] = ("↳" * depth + " " if depth else "") + str(item.get("id"))
        rows.append(row)
        for reply_item in item.get("replies") or []:
            add(reply_item, depth + 1)

    for item in result.get("results") or []:
        add(item, 0)
    return {**result, "results": rows}


# ------------------------------------------------------------------------------ handlers


def list_footer(
    ctx: Context,
    page_id: str,
    body_format: str = "markdown",
    sort: str | None = None,
    include_replies: bool = True,
    limit: int = 25,
    cursor: str | None = None,
) -> dict[str, Any]:
    pid = require_id("page_id", page_id)
    params = {"sort": sort} if sort else {}
    path = f"/api/v2/pages/{pid}/footer-comments"
    thread = pid if include_replies else None
    return _paged(ctx, path, "footer", params, body_format, limit, cursor, thread)


def list_inline(
    ctx: Context,
    page_id: str,
    resolved: bool | None = None,
    body_format: str = "markdown",
    sort: str | None = None,
    include_replies: bool = True,
    limit: int = 25,
    cursor: str | None = None,
) -> dict[str, Any]:
    pid = require_id("page_id", page_id)
    params: dict[str, Any] = {"sort": sort} if sort else {}
    if resolved is True:
        params["resolution-status"] = ["resolved"]
    elif resolved is False:
        params["resolution-status"] = ["open", "reopened"]
    path = f"/api/v2/pages/{pid}/inline-comments"
    thread = pid if include_replies else None
    return _paged(ctx, path, "inline", params, body_format, limit, cursor, thread)


def get_replies(
    ctx: Context,
    comment_id: str,
    body_format: str = "markdown",
    limit: int = 25,
    cursor: str | None = None,
) -> dict[str, Any]:
    kind, raw = _locate(ctx, comment_id)
    result = _paged(
        ctx,
        f"/api/v2/{kind}-comments/{raw.get('id') or comment_id}/children",
        kind,
        {},
        body_format,
        limit,
        cursor,
    )
    for reply_item in result["results"]:  # the children models leave out the page
        if reply_item["page_id"] is None:
            reply_item["page_id"] = raw.get("pageId")
    return result


def add_footer(ctx: Context, page_id: str, body: str, content_format: str = "markdown") -> dict:
    pid = require_id("page_id", page_id)
    payload = {"pageId": pid, "body": _write_body(body, content_format)}
    raw = ctx.client.post("/api/v2/footer-comments", json=payload) or {}
    return flatten_comment(ctx, raw, "footer", content_format)


def reply(ctx: Context, comment_id: str, body: str, content_format: str = "markdown") -> dict:
    storage = _write_body(body, content_format)
    with ctx.client.reserve(2):  # look the comment up, then write
        kind, parent = _locate(ctx, comment_id)
        payload = {"parentCommentId": str(parent.get("id") or comment_id), "body": storage}
        raw = ctx.client.post(f"/api/v2/{kind}-comments", json=payload) or {}
    return flatten_comment(ctx, raw, kind, content_format)


def add_inline(
    ctx: Context,
    page_id: str,
    selection: str,
    body: str,
    match_index: int = 0,
    content_format: str = "markdown",
) -> dict:
    pid = require_id("page_id", page_id)
    wanted = _squash(selection or "")
    if not wanted:
        raise UsageError("Missing argument `selection`: quote the page text the comment is about.")
    if match_index is None:
        match_index = 0
    if match_index < 0:
        raise UsageError("Invalid value for `match_index`: it must be 0 or more.")
    if not (body or "").strip():
        raise UsageError("Missing argument `body`: the comment text is empty.")
    with ctx.client.reserve(2):  # read the page, then write
        return _add_inline(ctx, pid, wanted, body, match_index, content_format)


def _add_inline(
    ctx: Context, pid: str, wanted: str, body: str, match_index: int, content_format: str
) -> dict:
    page = ctx.client.get(f"/api/v2/pages/{pid}", params={"body-format": "storage"})
    count = count_matches(storage_of(page), wanted)
    if count == 0:
        raise UsageError(
            f"The selection {shown(wanted)} was not found in the text of page {pid}: "
            "quote the text exactly as the page shows it (within one paragraph)."
        )
    if match_index >= count:
        raise UsageError(
            f"Invalid value for `match_index`: {match_index}; the selection occurs "
            f"{count} time(s) on page {pid} (use 0 to {count - 1})."
        )
    payload = {
        "pageId": pid,
        "body": _write_body(body, content_format),
        "inlineCommentProperties": {
            "textSelection": wanted,
            "textSelectionMatchCount": count,
            "textSelectionMatchIndex": match_index,
        },
    }
    raw = ctx.client.post("/api/v2/inline-comments", json=payload) or {}
    return flatten_comment(ctx, raw, "inline", content_format)


def _set_resolved(ctx: Context, comment_id: str, resolved: bool) -> dict:
    cid = require_id("comment_id", comment_id)
    with ctx.client.reserve(2):  # read, then write
        return _set_resolved_of(ctx, cid, resolved)


def _set_resolved_of(ctx: Context, cid: str, resolved: bool) -> dict:
    try:
        raw = ctx.client.get(f"/api/v2/inline-comments/{cid}", params={"body-format": "storage"})
    except NotFound:
        try:
            ctx.client.get(f"/api/v2/footer-comments/{cid}")
        except NotFound:
            raise NotFound(f"Inline comment {cid} not found, or not visible to you.") from None
        raise UsageError(
            f"Comment {cid} is a footer comment: only inline comments can be resolved or reopened."
        ) from None
    if raw.get("parentCommentId"):
        raise UsageError(
            f"Comment {cid} is a reply: resolve or reopen its top-level comment "
            f"{raw['parentCommentId']} instead."
        )
    status = raw.get("resolutionStatus")
    if status == "dangling":
        raise UsageError(
            f"Inline comment {cid} is dangling (its text was removed from the "
            "page): Confluence cannot resolve or reopen it."
        )
    if (status == "resolved") == resolved:
        return flatten_comment(ctx, raw, "inline")
    version = int((raw.get("version") or {}).get("number") or 1)
    payload = {
        "version": {"number": version + 1},
        "body": {"representation": "storage", "value": storage_of(raw)},
        "resolved": resolved,
    }
    updated = ctx.client.put(f"/api/v2/inline-comments/{cid}", json=payload) or {}
    return flatten_comment(ctx, updated, "inline")


def resolve(ctx: Context, comment_id: str) -> dict:
    return _set_resolved(ctx, comment_id, True)


def reopen(ctx: Context, comment_id: str) -> dict:
    return _set_resolved(ctx, comment_id, False)


def delete_comment(ctx: Context, comment_id: str) -> dict:
    with ctx.client.reserve(2):  # look the comment up, then write
        kind, raw = _locate(ctx, comment_id)
        cid = str(raw.get("id") or comment_id)
        ctx.client.delete(f"/api/v2/{kind}-comments/{cid}")
    return {"id": cid, "type": kind, "deleted": True}


# ------------------------------------------------------------------------------ declaration

_PAGE = Param("page_id", "str", "", required=True, positional=True)
_COMMENT = Param("comment_id", "str", "", required=True, positional=True)
_BODY = Param("body", "str", "Comment text.", required=True, from_file=True)
_CONTENT_FORMAT = Param(
    "content_format", "str", "Format of body.", default="markdown", choices=FORMATS
)
_BODY_FORMAT = Param("body_format", "str", "", default="markdown", choices=FORMATS)
_SORT = Param(
    "sort", "str", "", choices=("created-date", "-created-date", "modified-date", "-modified-date")
)
_LIST_COLUMNS = ("id", "updated_at", "author_name", "body")
_REPLIES = Param("include_replies", "bool", "Nest each comment's replies.", default=True)

RESOURCE = Resource(
    name="comments",
    summary="Footer and inline comments of pages: list, reply, add, resolve, delete.",
    content_types=("comment",),
    instructions=(
        "Bodies are Markdown; body_format=storage returns raw storage XHTML "
        "(content_format=storage sends it)."
    ),
    description=DESCRIPTION,
    operations=[
        Operation(
            name="list_footer",
            command="list",
            summary="Footer comments of a page.",
            run=list_footer,
            params=(_PAGE, _BODY_FORMAT, _SORT, _REPLIES),
            paged=True,
            columns=_LIST_COLUMNS,
            render=render_threads,
        ),
        Operation(
            name="list_inline",
            command="list-inline",
            summary="Inline comments of a page.",
            run=list_inline,
            params=(
                _PAGE,
                Param("resolved", "bool", "Resolved (true) or open (false)."),
                _BODY_FORMAT,
                _SORT,
                _REPLIES,
            ),
            paged=True,
            columns=("id", "resolution_status", "selected_text", "author_name", "body"),
            render=render_threads,
        ),
        Operation(
            name="get_replies",
            command="replies",
            summary="Replies to a comment.",
            run=get_replies,
            params=(_COMMENT, _BODY_FORMAT),
            paged=True,
            columns=_LIST_COLUMNS,
        ),
        Operation(
            name="add_footer",
            command="add",
            summary="Add a footer comment to a page.",
            run=add_footer,
            write=True,
            params=(_PAGE, _BODY, _CONTENT_FORMAT),
        ),
        Operation(
            name="reply",
            summary="Reply to a footer or inline comment.",
            run=reply,
            write=True,
            params=(_COMMENT, _BODY, _CONTENT_FORMAT),
        ),
        Operation(
            name="add_inline",
            summary="Comment on page text (quoted exactly; match_index: which one, 0 = first).",
            run=add_inline,
            write=True,
            params=(
                _PAGE,
                Param("selection", "str", "Page text to comment on.", required=True),
                _BODY,
                Param("match_index", "int", "Occurrence of the selection.", default=0, minimum=0),
                _CONTENT_FORMAT,
            ),
        ),
        Operation(
            name="resolve",
            summary="Resolve an inline comment.",
            run=resolve,
            write=True,
            idempotent=True,
            params=(_COMMENT,),
        ),
        Operation(
            name="reopen",
            summary="Reopen a resolved inline comment.",
            run=reopen,
            write=True,
            idempotent=True,
            params=(_COMMENT,),
        ),
        Operation(
            name="delete",
            summary="Delete a comment (footer or inline).",
            run=delete_comment,
            write=True,
            destructive=True,
            params=(_COMMENT,),
        ),
    ],
)


@hookimpl
def ctk_register_resources(register: Any) -> None:
    register(RESOURCE)
