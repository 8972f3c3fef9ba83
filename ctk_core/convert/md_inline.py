"""Inline content to Markdown: a run of inline storage nodes becomes one paragraph (or
heading, table cell, link text)."""

from __future__ import annotations

import re

from ctk_core.convert import dialect, xhtml
from ctk_core.convert.md_emphasis import DELIMS, Delim, last_char, resolve_delims
from ctk_core.convert.md_escape import (
    code_span,
    escape_line_start,
    escape_md,
    link_destination,
    link_title,
)
from ctk_core.convert.md_links import link_target, resource_url
from ctk_core.convert.md_nodes import MAX_DEPTH, is_space, macro_parts
from ctk_core.convert.md_raw import RawStorage
from ctk_core.convert.xhtml import CData, Comment, Element, Node, Text

__all__ = ["Inline"]

_EDGE_SPACE = (" ", "\t", "\n", "\f", "\r")
_WS = re.compile(r"[ \t\n\f]{2,}|[\t\n\f]")  # what whitespace collapsing changes
_AUTOLINK = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]{1,31}:[^<>\x00-\x20]*\Z")

# Inline item codes (see Inline)
_T, _O, _C, _A, _BR, _CODE = range(6)
_EMPHASIS = {
    "strong": "strong",
    "b": "strong",
    "em": "em",
    "i": "em",
    "s": "s",
    "del": "s",
    "strike": "s",
}


def _mentioned(el: Element) -> str | None:
    """The account id an ``ac:link`` mentions (its ``ri:user``), or None."""
    for child in el.children:
        if isinstance(child, Element) and child.key == "ri:user":
            return child.get("ri:account-id")
    return None


class _Open:
    __slots__ = ("delim", "emitted", "info", "kind", "safe")

    def __init__(self, kind: str, info, safe: bool) -> None:
        self.kind = kind
        self.info = info
        self.emitted = False
        self.delim: Delim | None = None
        self.safe = safe  # may it start a line after a hard break?


class Inline:
    """Renders a run of inline nodes as one Markdown paragraph (or heading, cell, link text).

    The nodes are first flattened (iteratively) into items: text, opening and closing marks,
    atoms (ready-made Markdown such as images, links to Confluence resources, raw storage),
    hard breaks and code. Items are then written out with CommonMark's whitespace and
    emphasis rules in mind: spaces move outside emphasis, empty emphasis disappears, and an
    emphasis whose delimiters would not be recognised where it stands is written as
    ``<strong>``/``<em>``/``<s>`` inline HTML instead.
    """

    def __init__(self, conv: RawStorage, depth: int, mode: str, pipes: bool | None = None) -> None:
        self.conv = conv
        self.depth = depth
        self.mode = mode  # "block", "heading", "cell" or "link"
        # escape "|"? Not in table cells, where all pipes are escaped at once afterwards
        self.pipes = mode != "cell" if pipes is None else pipes

    def esc(self, text: str) -> str:
        return escape_md(text, self.pipes)

    # ---- flattening ------------------------------------------------------------------------

    def flatten(self, nodes: list[Node]) -> list[tuple]:
        conv = self.conv
        items: list[tuple] = []
        add = items.append
        in_link = 1 if self.mode == "link" else 0
        stack: list = list(reversed(nodes))
        while stack:
            node = stack.pop()
            if isinstance(node, tuple):
                if node[1] == "link":
                    in_link -= 1
                add(node)
                continue
            if isinstance(node, (Text, CData)):
                add((_T, node.data))
                continue
            if isinstance(node, Comment):
                add((_A, conv.raw(node, "inline"), False))
                continue
            assert isinstance(node, Element)
            key = node.key
            if ":" in key:
                if not xhtml._prefix_ok(node.name):
                    stack.extend(reversed(node.children))
                    continue
                if key == "ac:placeholder":
                    continue
                md = None
                if key == "ac:link" and not in_link:
                    md = self.ac_link(node)
                elif key == "ac:image":
                    md = self.ac_image(node)
                elif key == "ac:emoticon":
                    name = node.get("ac:name")
                    if len(node.attrs) == 1 and name in dialect.EMOTICONS and not node.children:
                        md = f":{name}:"
                elif key == "ac:structured-macro" and not in_link:
                    md = self.status(node)
                if md is not None:
                    if key == "ac:link":  # spaces at the edges of a link body go outside it
                        body = xhtml.text_content(node)
                        if body[:1] in _EDGE_SPACE:
                            add((_T, " "))
                        add((_A, md, True))
                        if body[-1:] in _EDGE_SPACE:
                            add((_T, " "))
                    else:
                        add((_A, md, True))
                else:
                    add((_A, conv.raw(node, "inline"), False))
                continue
            emph = _EMPHASIS.get(key)
            if emph is not None and not node.attrs:
                add((_O, emph, None))
                stack.append((_C, emph))
                stack.extend(reversed(node.children))
                continue
            if key == "br" and node.void:
                add((_BR,))
                continue
            if (
                key == "code"
                and not node.attrs
                and all(isinstance(c, (Text, CData)) for c in node.children)
            ):
                add((_CODE, xhtml.text_content(node)))
                continue
            if key == "a" and not in_link:
                link = self.html_link(node)
                if isinstance(link, str):
                    add((_A, link, True))
                    continue
                if link is not None:
                    in_link += 1
                    add((_O, "link", link))
                    stack.append((_C, "link"))
                    stack.extend(reversed(node.children))
                    continue
            if key == "img" and node.void:
                md = self.html_image(node)
                if md is not None:
                    add((_A, md, True))
                    continue
            if node.void or not node.children:
                add((_A, conv.raw(node, "inline"), False))
                continue
            add((_O, "wrap", (conv.open_tag(node), conv.close_tag(node))))
            stack.append((_C, "wrap"))
            stack.extend(reversed(node.children))
        return items

    # ---- atoms -------------------------------------------------------------------------------

    def ac_link(self, el: Element) -> str | None:
        if self.depth > MAX_DEPTH:
            return None
        target = link_target(el)
        if target is None:
            return None
        url, default = target
        user = _mentioned(el)
        text = None
        for child in el.children:
            if isinstance(child, Element) and child.key == "ac:plain-text-link-body":
                if child.attrs or any(not isinstance(c, (Text, CData)) for c in child.children):
                    return None
                body = _WS.sub(" ", xhtml.text_content(child))
                if user is not None and body.startswith("@") and body != default:
                    return None  # would read back as a bare mention: kept raw
                text = self.esc(body)
            elif isinstance(child, Element) and child.key == "ac:link-body":
                if child.attrs:
                    return None
                if user is not None and xhtml.text_content(child).startswith("@"):
                    return None
                text = Inline(self.conv, self.depth + 1, "link", self.pipes).render(child.children)
        if not text:
            name = " ".join(self.conv.names.get(user, "").split()) if user is not None else ""
            text = self.esc("@" + name if name else default)
        if "\n" in text and self.mode in ("heading", "cell"):
            return None
        return f"[{text}]({link_destination(url)})"

    def ac_image(self, el: Element) -> str | None:
        alt = ""
        title = None
        query: list[tuple[str, str]] = []
        for name, value in el.attrs:
            if name == "ac:alt" and value == " ".join(value.split()):
                alt = value
            elif name == "ac:title" and title is None:
                title = value
            elif name.startswith("ac:"):
                query.append((name, value))
            else:
                return None
        target = None
        for child in el.children:
            if is_space(child):
                continue
            if target is not None or not isinstance(child, Element):
                return None
            target = child
        if target is None:
            return None
        if target.key == "ri:url":
            url = target.get("ri:value")
            if url is None or len(target.attrs) != 1 or target.children or query:
                return None
            if dialect.parse_url(url) is not None:
                return None
        elif target.key == "ri:attachment":
            resolved = resource_url(target, query, None)
            if resolved is None:
                return None
            url = resolved[0]
        else:
            return None
        titled = link_title(title) if title is not None else ""
        return f"![{self.esc(alt)}]({link_destination(url)}{titled})"

    def status(self, el: Element) -> str | None:
        if (el.get("ac:name") or "").lower() != "status" or any(
            k not in dialect.IGNORED_MACRO_ATTRS for k, _ in el.attrs
        ):
            return None
        parts = macro_parts(el)
        if parts is None or parts[1] is not None:
            return None
        params = dict(parts[0])
        title = params.pop("title", "")
        colour = params.pop("colour", "")
        if "\n" in title:
            return None
        url = dialect.build_url(
            dialect.STATUS, dialect.encode(colour, False), None, list(params.items())
        )
        return f"[{self.esc(title)}]({link_destination(url)})"

    def html_link(self, el: Element) -> str | tuple[str, str | None] | None:
        href = el.get("href")
        names = {k for k, _ in el.attrs}
        if href is None or not names <= {"href", "title"} or len(names) != len(el.attrs):
            return None
        title = el.get("title")
        if dialect.parse_url(href) is not None:
            return None  # a plain link that looks like ctk's own form stays HTML
        if href.startswith("#") and not xhtml.text_content(el).strip():
            return None  # "[](#x)" would read as a same-page link showing "x"
        if (
            title is None
            and len(el.children) == 1
            and isinstance(el.children[0], Text)
            and el.children[0].data == href
            and _AUTOLINK.match(href)
        ):
            return f"<{href}>"
        return href, title

    def html_image(self, el: Element) -> str | None:
        names = [k for k, _ in el.attrs]
        src = el.get("src")
        if (
            src is None
            or not set(names) <= {"src", "alt", "title"}
            or len(set(names)) != len(names)
            or dialect.parse_url(src) is not None
        ):
            return None
        alt = el.get("alt") or ""
        if alt != " ".join(alt.split()):
            return None
        title = el.get("title")
        titled = link_title(title) if title is not None else ""
        return f"![{self.esc(alt)}]({link_destination(src)}{titled})"

    # ---- writing -----------------------------------------------------------------------------

    def render(self, nodes: list[Node]) -> str:
        items = self.flatten(nodes)
        mode = self.mode
        breaks_ok = mode in ("block", "link")
        pipes = self.pipes
        out: list = []
        pend_space = False
        pend_br = 0
        pend_open: list[_Open] = []
        opens: list[_Open] = []
        line_start = mode == "block"
        opens_seen = False

        def flush(safe: bool) -> None:
            nonlocal pend_space, pend_br, line_start
            if pend_open:
                safe = pend_open[0].safe
            if pend_br:
                if out and breaks_ok and safe:
                    out.append("<br/>" * (pend_br - 1) + "\\\n")
                    line_start = True
                else:
                    out.append("<br/>" * pend_br)
                    line_start = False
                pend_br = 0
                pend_space = False
            elif pend_space:
                if out and not line_start:
                    out.append(" ")
                pend_space = False
            for rec in pend_open:
                rec.emitted = True
                if rec.kind in DELIMS:
                    d = Delim(rec.kind, True, len(out))
                    rec.delim = d
                    out.append(d)
                elif rec.kind == "link":
                    out.append("[")
                else:
                    out.append(rec.info[0])
                line_start = False
            pend_open.clear()

        for item in items:
            code = item[0]
            if code == _T:
                text = item[1]
                if "  " in text or "\n" in text or "\t" in text or "\f" in text:
                    text = _WS.sub(" ", text)
                if not text:
                    continue
                if text[0] == " ":
                    pend_space = True
                core = text.strip(" ")
                if core:
                    flush(True)
                    esc = escape_md(core, pipes)
                    if line_start:
                        esc = escape_line_start(esc)
                    out.append(esc)
                    line_start = False
                    if text[-1] == " ":
                        pend_space = True
            elif code == _O:
                kind = item[1]
                opens_seen = True
                rec = _Open(kind, item[2], kind != "wrap")
                opens.append(rec)
                pend_open.append(rec)
            elif code == _C:
                rec = opens.pop()
                if not rec.emitted:
                    if rec.kind in DELIMS:
                        pend_open.pop()
                        continue
                    flush(True)
                if rec.kind in DELIMS:
                    d = Delim(rec.kind, False, len(out))
                    assert rec.delim is not None
                    rec.delim.partner = d  # (one way only: no reference cycles)
                    out.append(d)
                elif rec.kind == "link":
                    href, title = rec.info
                    titled = link_title(title) if title is not None else ""
                    out.append(f"]({link_destination(href)}{titled})")
                else:
                    out.append(rec.info[1])
            elif code == _A:
                if item[1]:
                    flush(item[2])
                    out.append(item[1])
                    line_start = False
            elif code == _BR:
                pend_space = False
                pend_br += 1
            else:  # _CODE
                text = item[1].replace("\n", " ")
                if not text:
                    continue
                span = code_span(text)
                flush(True)
                if span is None or (out and last_char(out[-1]) == "`"):
                    span = "<code>" + escape_md(text, pipes) + "</code>"
                out.append(span)
                line_start = False
        if pend_br:
            out.append("<br/>" * pend_br)
        return resolve_delims(out, bool(opens_seen))
