"""Semantic comparison of two storage documents.

Two pages are "semantically equal" when they show the same thing: the same text, the same code
bodies (byte for byte), the same link targets, the same table shape, the same macros with the
same parameters, and unknown markup identical. What does not count:

* attribute order, and whitespace between blocks; runs of whitespace in text are one space,
  and whitespace at the edges of a paragraph, next to ``<br/>``, or just inside inline
  formatting may move outside it (browsers render those the same);
* how characters are written: entities, character references and CDATA sections;
* ``<b>``/``<strong>``, ``<i>``/``<em>``, ``<del>``/``<strike>``/``<s>``; ``<pre>`` and a code
  macro without parameters; ``<img src>`` and ``<ac:image>`` with ``<ri:url>``;
  ``<a href="#x">`` and ``<ac:link ac:anchor="x">``;
* a paragraph written as ``<p>`` or left implicit (``<li>text</li>`` and ``<li><p>text</p></li>``);
* empty ``<strong>``/``<em>``/``<s>``, ``<ac:placeholder>``, task ids, ``ac:macro-id`` and
  ``ac:schema-version``, macro parameters with empty values, table ``<colgroup>``, table
  attributes and the ``thead``/``tbody`` grouping;
* a link body equal to what Confluence shows without one (the page title, the file name...).

``semantic_diff(a, b)`` returns None when equal, else a one-line description of the first
difference (with a path), which is what tests print.
"""

from __future__ import annotations

import re

from ctk_core.convert import dialect, xhtml
from ctk_core.convert.xhtml import CData, Comment, Element, Node, Text

__all__ = ["canonical", "semantic_diff", "semantically_equal"]

_MAX_DEPTH = 150
_EDGE_SPACE = (" ", "\t", "\n", "\f", "\r")
_WS = re.compile(r"[ \t\n\f\r]+")
_RENAME = {"b": "strong", "i": "em", "del": "s", "strike": "s"}
_EMPHASIS = {"strong", "em", "s"}
_BLOCK_MACROS = frozenset(
    {
        "code",
        "noformat",
        "info",
        "note",
        "warning",
        "tip",
        "expand",
        "toc",
        "panel",
        "section",
        "column",
        "details",
        "children",
        "pagetree",
    }
)
_BLOCK_PREFIXED = frozenset(
    {"ac:layout", "ac:layout-section", "ac:layout-cell", "ac:task-list", "ac:rich-text-body"}
)
_INLINE_PREFIXED = frozenset(
    {"ac:link", "ac:image", "ac:emoticon", "ac:placeholder", "ac:inline-comment-marker"}
)
_TEXT_ALIGN = re.compile(r"\s*text-align:\s*(left|center|right)\s*;?\s*\Z", re.IGNORECASE)

Canon = tuple  # (tag, attrs, children) or str


def semantically_equal(a: str, b: str) -> bool:
    return semantic_diff(a, b) is None


def semantic_diff(a: str, b: str) -> str | None:
    """None when the two storage documents are semantically equal, else the first difference."""
    return _diff(canonical(a), canonical(b), "body")


def canonical(storage: str) -> Canon:
    """The normal form compared by semantic_diff (nested ``(tag, attrs, children)`` tuples)."""
    src = xhtml.clean_chars(storage)
    root = xhtml.parse(src)
    return ("body", (), _Normaliser(src).container(root.children, 0))


def _diff(a, b, path: str) -> str | None:
    if isinstance(a, str) or isinstance(b, str):
        if a != b:
            return f"{path}: {_show(a)} != {_show(b)}"
        return None
    if a[0] != b[0]:
        return f"{path}: <{a[0]}> != <{b[0]}>"
    here = f"{path}/{a[0]}"
    if a[1] != b[1]:
        return f"{here}: attributes {dict(a[1])} != {dict(b[1])}"
    ca, cb = a[2], b[2]
    for i, (x, y) in enumerate(zip(ca, cb, strict=False)):
        found = _diff(x, y, f"{here}[{i}]")
        if found:
            return found
    if len(ca) != len(cb):
        extra = ca[len(cb)] if len(ca) > len(cb) else cb[len(ca)]
        side = "first" if len(ca) > len(cb) else "second"
        return f"{here}: only the {side} has {_show(extra)} (child {min(len(ca), len(cb))})"
    return None


def _show(x) -> str:
    if isinstance(x, str):
        return repr(x if len(x) <= 60 else x[:57] + "...")
    return f"<{x[0]}>"


def _attrs(pairs) -> tuple:
    return tuple(sorted(pairs))


class _Normaliser:
    def __init__(self, src: str) -> None:
        self.src = src

    # ---- classification (same idea as the converter: inline runs become paragraphs) --------

    def _kind(self, node: Node) -> str:
        if isinstance(node, Text):
            return "space" if not node.data.strip(" \t\n\f\r") else "inline"
        if isinstance(node, CData):
            return "inline"
        if isinstance(node, Comment):
            return "either"
        assert isinstance(node, Element)
        key = node.key
        if ":" not in key:
            return "inline" if key in dialect.INLINE_HTML else "block"
        if key in ("ac:structured-macro", "ac:macro"):
            name = (node.get("ac:name") or "").lower()
            if name in _BLOCK_MACROS:
                return "block"
            return "inline" if name == "status" else "either"
        if key in _BLOCK_PREFIXED:
            return "block"
        if key in _INLINE_PREFIXED:
            return "inline"
        return "either"

    def _expand(self, nodes: list[Node]) -> list[Node]:
        out: list[Node] = []
        stack = list(reversed(nodes))
        while stack:
            n = stack.pop()
            if isinstance(n, Element) and (
                n.key == "ac:placeholder" or not xhtml._prefix_ok(n.name)
            ):
                if n.key != "ac:placeholder":
                    stack.extend(reversed(n.children))
                continue
            out.append(n)
        return out

    def container(self, nodes: list[Node], depth: int) -> tuple:
        """Children of a block container: inline runs become ("p", ...) paragraphs."""
        nodes = self._expand(nodes)
        kinds = [self._kind(n) for n in nodes]
        n = len(kinds)
        prev = ["space"] * n
        last = "space"
        for i in range(n):
            prev[i] = last
            if kinds[i] != "space":
                last = kinds[i]
        last = "space"
        for i in range(n - 1, -1, -1):
            if kinds[i] == "either":
                kinds[i] = "inline" if "inline" in (prev[i], last) else "block"
            if kinds[i] != "space":
                last = kinds[i]
        out: list = []
        run: list[Node] = []

        def end_run() -> None:
            if run:
                inline = self.inline(run, depth)
                if inline:
                    out.append(("p", (), inline))
                run.clear()

        for node, kind in zip(nodes, kinds, strict=True):
            if kind == "block":
                end_run()
                canon = self.block(node, depth)
                if canon != ("p", (), ()):  # an empty paragraph shows nothing
                    out.append(canon)
            else:
                run.append(node)
        end_run()
        return tuple(out)

    # ---- blocks ------------------------------------------------------------------------------

    def block(self, node: Node, depth: int):
        if isinstance(node, Comment):
            return ("#comment", (), (node.data,))
        assert isinstance(node, Element)
        if depth > _MAX_DEPTH:
            return ("#raw", (), (xhtml.serialize(node, self.src),))
        key = _RENAME.get(node.key, node.key)
        d = depth + 1
        if key == "p" and not node.attrs:
            return ("p", (), self.inline(node.children, d))
        if key in ("h1", "h2", "h3", "h4", "h5", "h6") and not node.attrs:
            return (key, (), self.inline(node.children, d))
        if key in ("ul", "ol"):
            attrs = [(k, v) for k, v in node.attrs if not (k == "start" and v.strip() == "1")]
            items = tuple(
                ("li", _attrs(c.attrs), self.container(c.children, d))
                if isinstance(c, Element) and c.key == "li"
                else self.other(c, d)
                for c in node.children
                if not _space(c)
            )
            return (key, _attrs(attrs), items)
        if key == "table":
            return self.table(node, d)
        if (
            key == "pre"
            and not node.attrs
            and all(isinstance(c, (Text, CData)) for c in node.children)
        ):
            return ("macro:code", (), (("plain-text-body", (), (xhtml.text_content(node),)),))
        if key in ("ac:structured-macro", "ac:macro"):
            return self.macro(node, d)
        if key == "ac:task-list":
            return self.tasks(node, d)
        if key == "hr":
            return ("hr", _attrs(node.attrs), ())
        return self.other(node, d)

    def other(self, node: Node, depth: int):
        """Any element not known above: name, attributes and normalised content."""
        if isinstance(node, (Text, CData)):
            text = _WS.sub(" ", node.data).strip()
            return text
        if isinstance(node, Comment):
            return ("#comment", (), (node.data,))
        assert isinstance(node, Element)
        if depth > _MAX_DEPTH:
            return ("#raw", (), (xhtml.serialize(node, self.src),))
        return (node.name, _attrs(node.attrs), self.container(node.children, depth + 1))

    def table(self, el: Element, depth: int):
        rows = []
        stack = list(reversed(el.children))
        while stack:
            child = stack.pop()
            if _space(child) or (isinstance(child, Element) and child.key in ("colgroup", "col")):
                continue
            if isinstance(child, Element) and child.key in ("thead", "tbody", "tfoot"):
                stack.extend(reversed(child.children))
            elif isinstance(child, Element) and child.key == "tr":
                cells = []
                for cell in child.children:
                    if _space(cell):
                        continue
                    if not isinstance(cell, Element) or cell.key not in ("th", "td"):
                        cells.append(self.other(cell, depth))
                        continue
                    attrs = []
                    for k, v in cell.attrs:
                        m = _TEXT_ALIGN.match(v) if k == "style" else None
                        if m:
                            attrs.append(("align", m.group(1).lower()))
                        elif not (k in ("colspan", "rowspan") and v.strip() == "1"):
                            attrs.append((k, v))
                    cells.append((cell.key, _attrs(attrs), self.container(cell.children, depth)))
                rows.append(("tr", _attrs(child.attrs), tuple(cells)))
            else:
                rows.append(self.other(child, depth))
        return ("table", (), tuple(rows))

    def tasks(self, el: Element, depth: int):
        items = []
        for child in el.children:
            if _space(child):
                continue
            if isinstance(child, Element) and child.key == "ac:task":
                status = ""
                body: tuple = ()
                rest = []
                for part in child.children:
                    if _space(part):
                        continue
                    if isinstance(part, Element) and part.key in ("ac:task-id", "ac:task-uuid"):
                        continue
                    if isinstance(part, Element) and part.key == "ac:task-status":
                        status = xhtml.text_content(part).strip()
                    elif isinstance(part, Element) and part.key == "ac:task-body":
                        body = self.container(part.children, depth)
                    else:
                        rest.append(self.other(part, depth))
                items.append(("task", (("status", status),), body + tuple(rest)))
            elif isinstance(child, Element) and child.key == "ac:task-list":
                items.append(self.tasks(child, depth + 1))
            else:
                items.append(self.other(child, depth))
        return ("ac:task-list", _attrs(el.attrs), tuple(items))

    def macro(self, el: Element, depth: int):
        name = el.get("ac:name") or ""
        attrs = [("@" + k, v) for k, v in el.attrs if k not in dialect.IGNORED_MACRO_ATTRS]
        params = []
        children = []
        for child in el.children:
            if _space(child):
                continue
            if isinstance(child, Element) and child.key == "ac:parameter":
                value = xhtml.text_content(child)
                only_text = all(isinstance(c, (Text, CData)) for c in child.children)
                if only_text and len(child.attrs) == 1:
                    if value != "":
                        params.append((child.get("ac:name") or "", value))
                    continue
            if isinstance(child, Element) and child.key == "ac:plain-text-body":
                children.append(
                    ("plain-text-body", _attrs(child.attrs), (xhtml.text_content(child),))
                )
            elif isinstance(child, Element) and child.key == "ac:rich-text-body":
                children.append(
                    ("rich-text-body", _attrs(child.attrs), self.container(child.children, depth))
                )
            else:
                children.append(self.other(child, depth))
        return ("macro:" + name, _attrs(params + attrs), tuple(children))

    # ---- inline ------------------------------------------------------------------------------

    def inline(self, nodes: list[Node], depth: int) -> tuple:
        """Inline content, whitespace-normalised."""
        items = self._inline_items(self._expand(nodes), depth)
        return _tidy(items, edges=True)

    def _inline_items(self, nodes: list[Node], depth: int) -> list:
        out: list = []
        for node in nodes:
            if isinstance(node, (Text, CData)):
                out.append(_WS.sub(" ", node.data))
                continue
            if isinstance(node, Comment):
                out.append(("#comment", (), (node.data,)))
                continue
            assert isinstance(node, Element)
            if depth > _MAX_DEPTH:
                out.append(("#raw", (), (xhtml.serialize(node, self.src),)))
                continue
            d = depth + 1
            key = _RENAME.get(node.key, node.key)
            if key in _EMPHASIS and not node.attrs:
                inner = _tidy(self._inline_items(self._expand(node.children), d))
                out.extend(_lift_spaces(key, (), inner, drop_empty=True))
            elif (
                key == "code"
                and not node.attrs
                and all(isinstance(c, (Text, CData)) for c in node.children)
            ):
                text = xhtml.text_content(node).replace("\n", " ")
                if text:
                    out.append(("code", (), (text,)))
            elif key == "br":
                out.append(("br", _attrs(node.attrs), ()))
            elif (
                key == "a"
                and (node.get("href") or "").startswith("#")
                and {k for k, _ in node.attrs} == {"href"}
                and len(node.get("href") or "") > 1
            ):
                anchor = (node.get("href") or "")[1:]
                text = xhtml.text_content(node)
                body = _tidy(self._inline_items(self._expand(node.children), d), edges=True)
                body = body or _tidy([_WS.sub(" ", anchor)], edges=True)
                if text[:1] in _EDGE_SPACE:
                    out.append(" ")
                out.append(("ac:link", (("ac:anchor", anchor),), (("body", (), body),)))
                if text[-1:] in _EDGE_SPACE:
                    out.append(" ")
            elif (
                key == "img"
                and node.get("src") is not None
                and {k for k, _ in node.attrs} <= {"src", "alt", "title"}
            ):
                attrs = [("ac:alt", " ".join((node.get("alt") or "").split()))]
                if node.get("title") is not None:
                    attrs.append(("ac:title", node.get("title") or ""))
                out.append(
                    (
                        "ac:image",
                        _attrs(a for a in attrs if a[1] or a[0] != "ac:alt"),
                        (("ri:url", (("ri:value", node.get("src") or ""),), ()),),
                    )
                )
            elif key == "ac:link":
                body_text = xhtml.text_content(node)
                if body_text[:1] in _EDGE_SPACE:
                    out.append(" ")
                out.append(self.ac_link(node, d))
                if body_text[-1:] in _EDGE_SPACE:
                    out.append(" ")
            elif key == "ac:image":
                attrs = [(k, " ".join(v.split()) if k == "ac:alt" else v) for k, v in node.attrs]
                kids = tuple(self.other(c, d) for c in node.children if not _space(c))
                out.append(("ac:image", _attrs(a for a in attrs if a[1] or a[0] != "ac:alt"), kids))
            elif key in ("ac:structured-macro", "ac:macro"):
                out.append(self.macro(node, d))
            elif ":" in key:
                out.append(self.other(node, d))
            else:
                inner = _tidy(self._inline_items(self._expand(node.children), d))
                if node.void:
                    out.append((node.name, _attrs(node.attrs), ()))
                else:
                    out.extend(_lift_spaces(node.name, _attrs(node.attrs), inner, drop_empty=False))
        return out

    def ac_link(self, el: Element, depth: int):
        target = None
        body = None
        rest = []
        for child in el.children:
            if _space(child):
                continue
            if isinstance(child, Element) and child.key.startswith("ri:") and target is None:
                target = self.other(child, depth)
            elif isinstance(child, Element) and child.key == "ac:plain-text-link-body":
                body = _tidy([_WS.sub(" ", xhtml.text_content(child))], edges=True)
            elif isinstance(child, Element) and child.key == "ac:link-body":
                body = _tidy(self._inline_items(self._expand(child.children), depth), edges=True)
            else:
                rest.append(self.other(child, depth))
        if not body:
            body = _tidy([_WS.sub(" ", _default_text(el, target))], edges=True)
        kids = ((target,) if target is not None else ()) + (("body", (), body),) + tuple(rest)
        return ("ac:link", _attrs(el.attrs), kids)


def _default_text(el: Element, target) -> str:
    if target is None:
        return el.get("ac:anchor") or ""
    name, attrs = target[0], dict(target[1])
    if name == "ri:page":
        return attrs.get("ri:content-title", "")
    if name == "ri:attachment":
        return attrs.get("ri:filename", "")
    if name == "ri:user":
        return "@" + attrs.get("ri:account-id", "")
    if name == "ri:space":
        return attrs.get("ri:space-key", "")
    return ""


def _space(node: Node) -> bool:
    return isinstance(node, Text) and not node.data.strip(" \t\n\f\r")


def _lift_spaces(name: str, attrs: tuple, inner: tuple, drop_empty: bool) -> list:
    """An inline element, with spaces and line breaks at the edges of its content moved
    outside it (a browser shows those the same)."""
    items = list(inner)
    before: list = []
    after: list = []
    while items:
        first = items[0]
        if isinstance(first, str) and first.startswith(" "):
            items[0] = first[1:]
            before.append(" ")
            if not items[0]:
                items.pop(0)
        elif _is_br(first):
            before.append(items.pop(0))
        else:
            break
    while items:
        last = items[-1]
        if isinstance(last, str) and last.endswith(" "):
            items[-1] = last[:-1]
            after.insert(0, " ")
            if not items[-1]:
                items.pop()
        elif _is_br(last):
            after.insert(0, items.pop())
        else:
            break
    if not items and drop_empty:
        return before + after
    return [*before, (name, attrs, tuple(items)), *after]


def _tidy(items: list, edges: bool = False) -> tuple:
    """Merge adjacent text, collapse spaces, drop spaces next to <br/> (and at the edges)."""
    merged: list = []
    for x in items:
        if isinstance(x, str):
            if not x:
                continue
            if merged and isinstance(merged[-1], str):
                merged[-1] = _WS.sub(" ", merged[-1] + x)
            else:
                merged.append(x)
        else:
            merged.append(x)
    for i, x in enumerate(merged):
        if not isinstance(x, str):
            continue
        if (edges and i == 0) or (i > 0 and _is_br(merged[i - 1])):
            x = x.lstrip(" ")
        if (edges and i == len(merged) - 1) or (i + 1 < len(merged) and _is_br(merged[i + 1])):
            x = x.rstrip(" ")
        merged[i] = x
    return tuple(x for x in merged if x != "")


def _is_br(x) -> bool:
    return not isinstance(x, str) and x[0] == "br"
