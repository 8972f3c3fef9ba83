"""CQL search: v1 ``GET /wiki/rest/api/search`` and ``GET /wiki/rest/api/content/search``.

Every page, folder, comment and attachment is turned into a plain mapping (``index_item``) that
``cql.Query`` evaluates. Results page with an opaque cursor; ``/search`` reports ``size`` and
``totalSize`` and builds excerpts with Confluence's ``@@@hl@@@word@@@endhl@@@`` markers.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

from ctk_core.sandbox import cql
from ctk_core.sandbox.paging import decode_cursor, encode_cursor
from ctk_core.sandbox.responses import HttpError, Response, json_response
from ctk_core.sandbox.router import Request
from ctk_core.sandbox.routes_attachments import webui_link
from ctk_core.sandbox.routes_labels import label_names, label_v1_json, labels_of
from ctk_core.sandbox.routes_restrictions import restrictions_json
from ctk_core.sandbox.routes_spaces import v1_space
from ctk_core.sandbox.routes_users import user_v1_json
from ctk_core.sandbox.state import State
from ctk_core.sandbox.tree import ancestors
from ctk_core.sandbox.views import folder_webui, page_webui, tiny_link

EXCERPTS = ("highlight", "indexed", "none", "highlight_unescaped", "indexed_unescaped")
DEFAULT_LIMIT = 25
MAX_LIMIT = 250
EXCERPT_CHARS = 240
HL_START, HL_END = "@@@hl@@@", "@@@endhl@@@"
#: Reported as ``searchDuration``: a constant, so that two identical searches answer alike.
SEARCH_DURATION_MS = 1
ICONS = {
    "page": "aui-icon content-type-page",
    "folder": "aui-icon content-type-folder",
    "comment": "aui-icon content-type-comment",
    "attachment": "aui-icon content-type-attachment",
}


_PARAMETER = re.compile(r"<ac:parameter\b[^>]*>.*?</ac:parameter>", re.S)
_CDATA = re.compile(r"<!\[CDATA\[(.*?)\]\]>", re.S)
_INLINE_TAG = re.compile(
    r"</?(?:strong|b|em|i|u|s|code|span|sub|sup|a|ac:inline-comment-marker)"
    r"\b[^>]*>",
    re.I,
)
_TAG = re.compile(r"<[^>]*>")
_BARE_LINK = re.compile(
    r"<ac:link\b[^>]*>\s*<ri:(?:page|attachment)\b[^>]*?"
    r'ri:(?:content-title|filename)="([^"]*)"[^>]*/>\s*</ac:link>'
)


@functools.lru_cache(maxsize=4096)
def _plain(storage: str) -> str:
    """The words of a storage body as a reader sees them (macro parameters left out)."""
    text = _BARE_LINK.sub(lambda m: " " + m.group(1) + " ", storage)
    text = _PARAMETER.sub(" ", text)
    text = _CDATA.sub(lambda m: " " + html.escape(m.group(1), quote=False) + " ", text)
    text = _TAG.sub(" ", _INLINE_TAG.sub("", text))
    return " ".join(html.unescape(text).split())


# ------------------------------------------------------------------------------ the index


class Hit:
    """One searchable thing: the CQL view (``item``) and the record behind it."""

    __slots__ = ("body_text", "item", "kind", "page", "record", "space")

    def __init__(
        self,
        kind: str,
        record: dict[str, Any],
        item: dict[str, Any],
        space: dict[str, Any],
        body_text: str,
        page: dict[str, Any] | None,
    ) -> None:
        self.kind, self.record, self.item = kind, record, item
        self.space, self.body_text, self.page = space, body_text, page


def _contributors(record: dict[str, Any]) -> list[str]:
    authors = [v.get("authorId") for v in record.get("versions") or []]
    authors.append((record.get("version") or {}).get("authorId"))
    return sorted({a for a in authors if a})


def _creator(record: dict[str, Any]) -> str:
    versions = record.get("versions") or []
    first = versions[0] if versions else record.get("version") or {}
    return str(first.get("authorId") or record.get("authorId") or "")


def _base_item(
    kind: str, record: dict[str, Any], space: dict[str, Any], title: str, text: str
) -> dict[str, Any]:
    return {
        "type": kind,
        "id": record["id"],
        "space.key": space["key"],
        "space.id": space["id"],
        "title": title,
        "text": f"{title}\n{text}",
        "labels": [],
        "ancestors": [],
        "parent": None,
        "container": None,
        "creator": _creator(record),
        "contributors": _contributors(record),
        "created": record.get("createdAt"),
        "lastModified": (record.get("version") or {}).get("createdAt") or record.get("createdAt"),
    }


def index(state: State, archived: bool = False) -> Iterator[Hit]:
    """Everything CQL can find: current content in current (or, if asked, archived) spaces."""

    def space_ok(space: dict[str, Any] | None) -> bool:
        return space is not None and (space.get("status", "current") == "current" or archived)

    for kind, coll in (("page", state.pages), ("folder", state.folders)):
        for node in coll.values():
            space = state.spaces.get(node["spaceId"])
            if node["status"] != "current" or not space_ok(space):
                continue
            assert space is not None
            text = _plain(node.get("body") or "") if kind == "page" else ""
            item = _base_item(kind, node, space, node["title"], text)
            item.update(
                labels=label_names(state, node["id"]),
                parent=node.get("parentId"),
                ancestors=[a["id"] for a in ancestors(state, node)],
            )
            yield Hit(kind, node, item, space, text, None)
    for kind, coll in (("comment", state.comments), ("attachment", state.attachments)):
        for record in coll.values():
            page = state.pages.get(record["pageId"])
            if record["status"] != "current" or page is None or page["status"] != "current":
                continue
            space = state.spaces.get(page["spaceId"])
            if not space_ok(space):
                continue
            assert space is not None
            if kind == "comment":
                text = _plain(record["body"])
            else:
                text = f"{record['title']} {record.get('comment') or ''}".strip()
            item = _base_item(kind, record, space, record["title"], text)
            if kind == "comment":  # a comment's title ("Re: <page>") is not its text
                item["text"] = text
            item.update(container=page["id"], labels=label_names(state, record["id"]))
            yield Hit(kind, record, item, space, text, page)


# ------------------------------------------------------------------------------ excerpts


def _word_pattern(words: list[tuple[str, bool]]) -> re.Pattern[str] | None:
    if not words:
        return None
    alts = sorted(
        {re.escape(w) + (r"\w*" if prefix else "") for w, prefix in words}, key=len, reverse=True
    )
    return re.compile(r"\b(?:" + "|".join(alts) + r")\b", re.I)


def highlight(text: str, pattern: re.Pattern[str] | None, mode: str) -> str:
    """Mark matches (``highlight*`` modes) and HTML-escape (the escaped modes)."""
    escape = (lambda s: s) if mode.endswith("_unescaped") else html.escape
    if pattern is None or not mode.startswith("highlight"):
        return escape(text)
    out, pos = [], 0
    for m in pattern.finditer(text):
        out.append(escape(text[pos : m.start()]))
        out.append(HL_START + escape(m.group(0)) + HL_END)
        pos = m.end()
    out.append(escape(text[pos:]))
    return "".join(out)


def excerpt(text: str, pattern: re.Pattern[str] | None, mode: str) -> str:
    """About ``EXCERPT_CHARS`` characters of ``text`` around the first match."""
    if mode == "none" or not text:
        return ""
    start = 0
    first = pattern.search(text) if pattern else None
    if first and first.start() > EXCERPT_CHARS // 3:
        start = text.rfind(" ", 0, first.start() - EXCERPT_CHARS // 4) + 1
    window = text[start : start + EXCERPT_CHARS]
    if start + EXCERPT_CHARS < len(text) and " " in window:
        window = window[: window.rfind(" ")]
    snippet = highlight(window, pattern, mode)
    if start > 0:
        snippet = "..." + snippet
    if start + len(window) < len(text):
        snippet += "..."
    return snippet


def _score(hit: Hit, pattern: re.Pattern[str] | None) -> float:
    if pattern is None:
        return 1.0
    title = len(pattern.findall(hit.item["title"]))
    body = len(pattern.findall(hit.body_text))
    return round(1.0 + 2.0 * title + body, 3)


# ------------------------------------------------------------------------------ JSON


def _webui(req: Request, hit: Hit) -> str:
    record = hit.record
    if hit.kind == "page":
        return page_webui(req, record)
    if hit.kind == "folder":
        return folder_webui(req, record)
    assert hit.page is not None
    if hit.kind == "comment":
        return f"{page_webui(req, hit.page)}?focusedCommentId={record['id']}#comment-{record['id']}"
    return webui_link(record)


def _v1_version(req: Request, record: dict[str, Any]) -> dict[str, Any]:
    version = record.get("version") or {}
    return {
        "by": user_v1_json(req, version.get("authorId")),
        "when": version.get("createdAt"),
        "friendlyWhen": _friendly(version.get("createdAt")),
        "message": version.get("message") or "",
        "number": version.get("number", 1),
        "minorEdit": bool(version.get("minorEdit")),
        "contentTypeModified": False,
        "_expandable": {"collaborators": "", "content": f"/rest/api/content/{record['id']}"},
    }


def _brief(req: Request, node: dict[str, Any]) -> dict[str, Any]:
    kind = node.get("type") or "page"
    return {
        "id": node["id"],
        "type": kind,
        "status": node["status"],
        "title": node["title"],
        "_links": {"self": f"{req.wiki_base}/rest/api/content/{node['id']}"},
    }


def _parent_comments(state: State, comment: dict[str, Any]) -> list[dict[str, Any]]:
    chain: list[dict[str, Any]] = []
    parent = state.comments.get(comment.get("parentCommentId") or "")
    while parent is not None and len(chain) < 100:
        chain.append(parent)
        parent = state.comments.get(parent.get("parentCommentId") or "")
    return chain[::-1]


def content_json(req: Request, hit: Hit, expand: set[str]) -> dict[str, Any]:
    """A v1 ``Content`` for a hit; ``expand`` names (space, version, body.storage, ...)."""
    record = hit.record
    rid = record["id"]
    out: dict[str, Any] = {
        "id": rid,
        "type": hit.kind,
        "status": record["status"],
        "title": record["title"],
        "childTypes": {},
        "macroRenderedOutput": {},
        "restrictions": {},
    }
    expandable = {
        "container": "",
        "metadata": "",
        "extensions": "",
        "operations": "",
        "children": "",
        "history": f"/rest/api/content/{rid}/history",
        "ancestors": "",
        "body": "",
        "version": "",
        "descendants": "",
        "space": f"/rest/api/space/{hit.space['key']}",
    }
    if "space" in expand:
        out["space"] = v1_space(req, hit.space)
        expandable.pop("space")
    if "version" in expand:
        out["version"] = _v1_version(req, record)
        expandable.pop("version")
    if "history" in expand:
        out["history"] = {
            "latest": True,
            "createdBy": user_v1_json(req, _creator(record)),
            "createdDate": record.get("createdAt"),
        }
        expandable.pop("history")
    if "ancestors" in expand:
        if hit.kind in ("page", "folder"):
            out["ancestors"] = [_brief(req, a) for a in ancestors(req.state, record)]
        elif hit.kind == "comment":  # a reply's parent comments, top-most first
            out["ancestors"] = [_brief(req, c) for c in _parent_comments(req.state, record)]
        else:
            out["ancestors"] = []
        expandable.pop("ancestors")
    if any(name.startswith("restrictions.") for name in expand):
        out["restrictions"] = restrictions_json(req, rid, expand)
    if "container" in expand:
        out["container"] = _brief(req, hit.page) if hit.page else v1_space(req, hit.space)
        expandable.pop("container")
    if "body.storage" in expand or "body" in expand:
        value = record.get("body") or "" if hit.kind in ("page", "comment") else ""
        out["body"] = {
            "storage": {
                "value": value,
                "representation": "storage",
                "embeddedContent": [],
                "_expandable": {"content": ""},
            },
            "_expandable": {
                "view": "",
                "export_view": "",
                "styled_view": "",
                "editor": "",
                "atlas_doc_format": "",
            },
        }
        expandable.pop("body")
    if "metadata.labels" in expand or "metadata" in expand:
        out["metadata"] = _metadata_labels(req, rid)
        expandable.pop("metadata")
    if hit.kind == "attachment":
        out["extensions"] = {
            "mediaType": record["mediaType"],
            "fileSize": record["fileSize"],
            "comment": record.get("comment") or "",
            "fileId": record["fileId"],
        }
        expandable.pop("extensions")
    elif hit.kind == "comment":
        out["extensions"] = {"location": record["kind"]}
        if record["kind"] == "inline":
            out["extensions"]["resolution"] = {"status": record["resolutionStatus"]}
        expandable.pop("extensions")
    out["_expandable"] = expandable
    out["_links"] = {
        "webui": _webui(req, hit),
        "self": f"{req.wiki_base}/rest/api/content/{rid}",
        "tinyui": tiny_link(rid.removeprefix("att")),
    }
    return out


def _metadata_labels(req: Request, rid: str) -> dict[str, Any]:
    """``metadata`` with its ``labels`` (a v1 ``LabelArray``), as ``expand=metadata.labels``
    gives it; Confluence lists up to 200 labels there."""
    labels = [label_v1_json(lb) for lb in labels_of(req.state, rid)][:200]
    return {
        "labels": {
            "results": labels,
            "start": 0,
            "limit": 200,
            "size": len(labels),
            "_links": {"self": f"{req.wiki_base}/rest/api/content/{rid}/label"},
        },
        "_expandable": {"currentuser": "", "properties": "", "frontend": ""},
    }


def _friendly(when: str | None) -> str:
    if not when:
        return ""
    try:
        moment = datetime.fromisoformat(when.replace("Z", "+00:00"))
    except ValueError:
        return when
    days = (datetime.now(timezone.utc) - moment).days
    if days < 1:
        return "today"
    if days < 7:
        return f"{days} day{'s' if days > 1 else ''} ago"
    return moment.strftime("%b %d, %Y")


def result_json(
    req: Request, hit: Hit, pattern: re.Pattern[str] | None, mode: str, expand: set[str]
) -> dict[str, Any]:
    """A v1 ``SearchResult``."""
    last = hit.item["lastModified"]
    out: dict[str, Any] = {
        "content": content_json(req, hit, expand),
        "title": highlight(hit.record["title"], pattern, mode)
        if mode != "none"
        else hit.record["title"],
        "excerpt": excerpt(hit.body_text, pattern, mode),
        "url": _webui(req, hit),
        "resultGlobalContainer": {
            "title": hit.space["name"],
            "displayUrl": f"/spaces/{hit.space['key']}",
        },
        "breadcrumbs": [],
        "entityType": "content",
        "iconCssClass": ICONS[hit.kind],
        "lastModified": last,
        "friendlyLastModified": _friendly(last),
        "score": _score(hit, pattern),
    }
    if hit.page is not None:
        out["resultParentContainer"] = {
            "title": hit.page["title"],
            "displayUrl": page_webui(req, hit.page),
        }
    return out


# ------------------------------------------------------------------------------ searching


def run(req: Request) -> tuple[str, list[Hit], re.Pattern[str] | None]:
    """Parse, evaluate and order; 400 (v1 shape) for bad or unsupported CQL."""
    source = req.arg("cql")
    if source is None or not source.strip():
        raise HttpError(400, "The 'cql' query parameter is required.")
    try:
        query = cql.parse(source)
    except cql.CqlError as exc:
        raise HttpError(400, f"Could not parse cql : {source} ({exc})") from None
    ctx = cql.EvalContext(current_user=req.user or req.state.current_user)
    archived = req.bool_arg("includeArchivedSpaces")
    hits = [h for h in index(req.state, archived) if query.matches(h.item, ctx)]
    pattern = _word_pattern(query.search_words())
    if query.order:
        hits.sort(key=lambda h: query.sort_key(h.item))
    else:  # relevance, then newest first
        hits.sort(key=lambda h: query.sort_key(h.item))
        hits.sort(key=lambda h: h.item["lastModified"] or "", reverse=True)
        hits.sort(key=lambda h: _score(h, pattern), reverse=True)
    return source, hits, pattern


def _window(req: Request, total: int) -> tuple[int, int]:
    limit = req.int_arg("limit", DEFAULT_LIMIT, minimum=1) or DEFAULT_LIMIT
    limit = min(limit, MAX_LIMIT, req.max_page_size or MAX_LIMIT)
    cursor = req.arg("cursor")
    start = decode_cursor(cursor) if cursor else (req.int_arg("start", 0, minimum=0) or 0)
    return min(start, total), limit


def _links(req: Request, start: int, limit: int, total: int) -> dict[str, str]:
    """v1 links are relative to the wiki base (``/rest/api/...``)."""
    path = req.path.removeprefix("/wiki")
    keep = [
        (k, v)
        for k, values in req.query.items()
        if k not in ("cursor", "limit", "start", "next", "prev")
        for v in values
    ]
    links = {
        "base": req.wiki_base,
        "context": "/wiki",
        "self": req.wiki_base + path + ("?" + urlencode(keep) if keep else ""),
    }
    if start + limit < total:
        links["next"] = (
            path
            + "?"
            + urlencode(
                [
                    ("next", "true"),
                    ("cursor", encode_cursor(start + limit)),
                    ("limit", str(limit)),
                    *keep,
                ]
            )
        )
    if start > 0:
        links["prev"] = (
            path
            + "?"
            + urlencode(
                [
                    ("prev", "true"),
                    ("cursor", encode_cursor(max(0, start - limit))),
                    ("limit", str(limit)),
                    *keep,
                ]
            )
        )
    return links


def _expand(req: Request, prefix: str = "") -> set[str]:
    names = set()
    for value in req.args("expand"):
        value = value.strip()
        if prefix and value.startswith(prefix):
            names.add(value[len(prefix) :])
        elif not prefix:
            names.add(value)
    return names


def register(router: Any) -> None:
    @router.route("GET", "/wiki/rest/api/search")
    def search(req: Request) -> Response:
        mode = req.choice_arg("excerpt", EXCERPTS, "highlight") or "highlight"
        source, hits, pattern = run(req)
        start, limit = _window(req, len(hits))
        expand = _expand(req, "content.")
        page = hits[start : start + limit]
        results = [result_json(req, h, pattern, mode, expand) for h in page]
        return json_response(
            {
                "results": results,
                "start": start,
                "limit": limit,
                "size": len(results),
                "totalSize": len(hits),
                "cqlQuery": source,
                "searchDuration": SEARCH_DURATION_MS,
                "archivedResultCount": 0,
                "_links": _links(req, start, limit, len(hits)),
            }
        )

    @router.route("GET", "/wiki/rest/api/content/search")
    def content_search(req: Request) -> Response:
        _, hits, _ = run(req)
        start, limit = _window(req, len(hits))
        expand = _expand(req)
        page = hits[start : start + limit]
        results = [content_json(req, h, expand) for h in page]
        return json_response(
            {
                "results": results,
                "start": start,
                "limit": limit,
                "size": len(results),
                "_links": _links(req, start, limit, len(hits)),
            }
        )
