"""manage_comments / ``ctk comments``: footer and inline comments of pages (v2).

Bodies are Markdown both ways by default (the converter in ctk_core.convert, imported lazily);
``body_format=storage`` reads and ``content_format=storage`` writes raw storage XHTML.
"""

from __future__ import annotations

import re
from typing import Any

from ctk_core import Context, NotFound, Operation, Param, Resource, UsageError, hookimpl, shown
from ctk_core.helpers import require_id, storage_of, web_url

DESCRIPTION = """\
Footer and inline comments of pages."""

KINDS = ("footer", "inline")
FORMATS = ("markdown", "storage")


# ------------------------------------------------------------------------------ bodies


def _read_body(raw: dict[str, Any], body_format: str) -> str:
    value = storage_of(raw)
    if body_format == "storage" or not value:
        return value
    from ctk_core.convert import storage_to_markdown

    return storage_to_markdown(value).strip()


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


def flatten_comment(
    ctx: Context, raw: dict[str, Any], kind: str, body_format: str = "markdown"
) -> dict[str, Any]:
    version = raw.get("version") or {}
    out: dict[str, Any] = {
        "id": raw.get("id"),
        "type": kind,
        "page_id": raw.get("pageId"),
        "parent_comment_id": raw.get("parentCommentId"),
        "status": raw.get("status"),
        "author_id": version.get("authorId"),
        "updated_at": version.get("createdAt"),
        "version": version.get("number"),
    }
    if kind == "inline":
        props = raw.get("properties") or {}
        out["resolution_status"] = raw.get("resolutionStatus")
        out["selected_text"] = props.get("inlineOriginalSelection")
    out["body"] = _read_body(raw, body_format)
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
) -> dict[str, Any]:
    params = dict(params, **{"body-format": "storage"})
    page = ctx.client.page(path, params=params, limit=limit, cursor=cursor or None)
    return {
        "results": [flatten_comment(ctx, r, kind, body_format) for r in page.get("results") or []],
        "next_cursor": page.get("next_cursor"),
    }


# ------------------------------------------------------------------------------ handlers


def list_footer(
    ctx: Context,
    page_id: str,
    body_format: str = "markdown",
    sort: str | None = None,
    limit: int = 25,
    cursor: str | None = None,
) -> dict[str, Any]:
    pid = require_id("page_id", page_id)
    params = {"sort": sort} if sort else {}
    return _paged(
        ctx, f"/api/v2/pages/{pid}/footer-comments", "footer", params, body_format, limit, cursor
    )


def list_inline(
    ctx: Context,
    page_id: str,
    resolved: bool | None = None,
    body_format: str = "markdown",
    sort: str | None = None,
    limit: int = 25,
    cursor: str | None = None,
) -> dict[str, Any]:
    pid = require_id("page_id", page_id)
    params: dict[str, Any] = {"sort": sort} if sort else {}
    if resolved is True:
        params["resolution-status"] = ["resolved"]
    elif resolved is False:
        params["resolution-status"] = ["open", "reopened"]
    return _paged(
        ctx, f"/api/v2/pages/{pid}/inline-comments", "inline", params, body_format, limit, cursor
    )


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
_LIST_COLUMNS = ("id", "updated_at", "body")

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
            params=(_PAGE, _BODY_FORMAT, _SORT),
            paged=True,
            columns=_LIST_COLUMNS,
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
            ),
            paged=True,
            columns=("id", "resolution_status", "selected_text", "body"),
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
