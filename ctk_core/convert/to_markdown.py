"""Confluence storage format to Markdown, in the ctk dialect (docs/markdown.md).

The storage is parsed into a tree (ctk_core.convert.xhtml) and rendered block by block. What
Markdown can say is converted; everything else (unknown macros, layouts, attributes Markdown has
no syntax for) is written as raw storage markup that ``markdown_to_storage`` emits unchanged.
The output is the *canonical* Markdown: converting it to storage and back gives it again.

Block containers nested deeper than ``MAX_DEPTH`` stay raw storage; inline content is flattened
iteratively, so no input can exhaust the recursion limit.
"""

from __future__ import annotations

import re

from markdown_it.common.html_blocks import block_names
from markdown_it.common.html_re import HTML_OPEN_CLOSE_TAG_STR
from markdown_it.common.utils import isMdAsciiPunct, isPunctChar, isWhiteSpace

from ctk_core.convert import dialect, xhtml
from ctk_core.convert.xhtml import CData, Comment, Element, Node, Text

__all__ = ["MAX_DEPTH", "storage_to_markdown"]

#: Containers (lists, quotes, panels, layouts...) nested deeper than this stay raw storage.
MAX_DEPTH = 24

_EDGE_SPACE = (" ", "\t", "\n", "\f", "\r")
_WS = re.compile(r"[ \t\n\f]{2,}|[\t\n\f]")  # what whitespace collapsing changes
_MD_SPACE_CHARS = "\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\u2028\u2029"
_MD_ESCAPE_ANY = (
    r"|<(?=[^\s\d=]|\Z)"
    r"|&(?=[A-Za-z#]|\Z)"
    r"|(?i:https?)(?=://)"
    r"|"
    + dialect.EMOTICON_RE.pattern.replace(":(", ":(?=(", 1).replace("):", "):)", 1)
    + r"|["
    + _MD_SPACE_CHARS
    + "]"
)
_MD_ESCAPE = re.compile(r"[\\`*\[\]~|_]" + _MD_ESCAPE_ANY)
# In table cells pipes are escaped afterwards, all at once (see _Converter.cell).
_MD_ESCAPE_CELL = re.compile(r"[\\`*\[\]~_]" + _MD_ESCAPE_ANY)
# A quick test: text without any of these needs no escaping at all.
_MAYBE_SPECIAL = re.compile(r"[\\`*\[\]~|_<&:" + _MD_SPACE_CHARS + "]")
_ORDERED_START = re.compile(r"[0-9]{1,9}[.)]")
_HTML_BLOCK_START = re.compile(
    r"<(?:(?i:script|pre|style|textarea)(?:\s|>|$)|!--|\?|![A-Za-z]|!\[CDATA\[|/?(?i:"
    + "|".join(block_names)
    + r")(?:\s|/?>|$))"
)
_REF_DEF = re.compile(r"\[(?:[^\]\\]|\\.)*\]:")
_HTML_BLOCK_7 = re.compile(HTML_OPEN_CLOSE_TAG_STR + r"\s*$")
_AUTOLINK = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]{1,31}:[^<>\x00-\x20]*\Z")
_BACKTICKS = re.compile(r"`+")
_DEST_ANGLE = re.compile(r"[\x00- \x7f]")
_ENTITY_LIKE = re.compile(r"&(?=[A-Za-z#][A-Za-z0-9]{0,31};)")
_INFO_BARE = re.compile(r"""[^\s"'`=\\&<>\]]+\Z""")
_INFO_QUOTABLE = re.compile(r"""[^"`\n\]]*\Z""")
_PARAM_NAME = re.compile(r"[A-Za-z_][\w.\-]*\Z")
_TEXT_ALIGN = re.compile(r"\s*text-align:\s*(left|center|right)\s*;?\s*\Z", re.IGNORECASE)

# Inline item codes (see _Inline)
_T, _O, _C, _A, _BR, _CODE = range(6)
_DELIMS = {
    "strong": ("**", "<strong>", "</strong>"),
    "em": ("_", "<em>", "</em>"),
    "s": ("~~", "<s>", "</s>"),
}
_EMPHASIS = {
    "strong": "strong",
    "b": "strong",
    "em": "em",
    "i": "em",
    "s": "s",
    "del": "s",
    "strike": "s",
}
# Classification of children of a block container
_BLOCK, _INLINE, _SPACE, _EITHER = range(4)
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
        "tasks-report-macro",
        "contentbylabel",
        "recently-updated",
        "livesearch",
        "include",
        "excerpt-include",
        "attachments",
        "table-of-contents",
        "roadmap",
        "gallery",
        "widget",
        "html",
    }
)
_INLINE_MACROS = frozenset({"status"})
_BLOCK_PREFIXED = frozenset(
    {
        "ac:layout",
        "ac:layout-section",
        "ac:layout-cell",
        "ac:task-list",
        "ac:rich-text-body",
        "ac:adf-extension",
    }
)
# Storage elements written as raw tags around Markdown content
_WRAPPERS = frozenset({"ac:layout", "ac:layout-section", "ac:layout-cell", "ac:rich-text-body"})
_INLINE_PREFIXED = frozenset(
    {
        "ac:link",
        "ac:image",
        "ac:emoticon",
        "ac:placeholder",
        "ac:inline-comment-marker",
        "ac:inline-comment",
    }
)


def storage_to_markdown(xhtml_text: str) -> str:
    """Convert Confluence storage format (XHTML) to Markdown. Never raises on bad input."""
    if not isinstance(xhtml_text, str):
        raise TypeError("storage_to_markdown expects a str")
    with xhtml.no_gc():
        src = xhtml.clean_chars(xhtml_text)
        root = xhtml.parse(src)
        text = _join(_Converter(src).blocks(root.children, 0))
    return text + "\n" if text else ""


class _Block:
    __slots__ = ("alt", "interrupts", "kind", "list_kind", "text")

    def __init__(
        self,
        text: str,
        kind: str,
        list_kind: str | None = None,
        alt: bool = False,
        interrupts: bool = False,
    ) -> None:
        self.text = text
        self.kind = kind  # "para", "list", "frag" (a raw wrapper tag line) or "other"
        self.list_kind = list_kind
        self.alt = alt  # written with the other marker (``*``, ``1)``)
        # a list that may follow a paragraph line directly (CommonMark: it starts at 1 and its
        # first item is not empty)
        self.interrupts = interrupts


def _join(blocks: list[_Block], in_item: bool = False) -> str:
    out: list[str] = []
    prev: _Block | None = None
    for b in blocks:
        if prev is None:
            out.append(b.text)
        elif prev.kind == "frag" and b.kind == "frag":
            out.append(b.text)  # e.g. </ac:layout-cell><ac:layout-cell>
        elif in_item and prev.kind == "para" and b.interrupts:
            out.append("\n" + b.text)
        else:
            out.append("\n\n" + b.text)
        prev = b
    return "".join(out)


def _indent(text: str, first: str, rest: str) -> str:
    lines = text.split("\n")
    out = [first + lines[0]]
    out.extend(rest + line if line else "" for line in lines[1:])
    return "\n".join(out)


def _quote(text: str) -> str:
    if not text:
        return ">"
    return "\n".join("> " + line if line else ">" for line in text.split("\n"))


def _is_space(node: Node) -> bool:
    return isinstance(node, Text) and not node.data.strip(" \t\n\f")


def _starts_html_block(line: str) -> bool:
    """Would markdown-it (with ctk's rules) read this paragraph's first line as the start of an
    HTML block (or, for a "[" with a "]" in a code span, as a link reference definition)?"""
    if line.startswith("["):
        return bool(_REF_DEF.match(line))
    if not line.startswith("<"):
        return False
    first = line.split("\n", 1)[0]
    return bool(
        _HTML_BLOCK_START.match(first)
        or _HTML_BLOCK_7.match(first)
        or dialect.raw_block_start(first)
    )


# --------------------------------------------------------------------------------------------
# Markdown escaping
# --------------------------------------------------------------------------------------------


def _escape_one(m: re.Match[str]) -> str:
    s = m.group(0)
    if s == "_":
        t, i = m.string, m.start()
        if 0 < i < len(t) - 1 and t[i - 1].isalnum() and t[i + 1].isalnum():
            return s
        return "\\_"
    if len(s) > 1:  # an URL scheme: escape the colon that follows
        return s + "\\"
    if s == "\u00a0":
        return "&nbsp;"
    if s in "\u1680\u202f\u205f\u3000\u2028\u2029" or "\u2000" <= s <= "\u200a":
        return f"&#x{ord(s):X};"
    return "\\" + s


def escape_md(text: str, pipes: bool = True) -> str:
    """Escape text so that markdown-it (with ctk's rules) reads it back literally."""
    if not _MAYBE_SPECIAL.search(text):
        return text
    return (_MD_ESCAPE if pipes else _MD_ESCAPE_CELL).sub(_escape_one, text)


def _escape_line_start(s: str) -> str:
    if s[0] in "#>-+=":
        return "\\" + s
    m = _ORDERED_START.match(s)
    if m:
        return s[: m.end() - 1] + "\\" + s[m.end() - 1 :]
    return s


def _dest(url: str) -> str:
    """A link destination that markdown-it reads back as exactly ``url``."""
    url = url.replace("\\", "\\\\")
    url = _ENTITY_LIKE.sub("\\\\&", url)
    if _DEST_ANGLE.search(url) or url.startswith("<"):
        return "<" + url.replace("<", "\\<").replace(">", "\\>") + ">"
    return url.replace("(", "\\(").replace(")", "\\)")


def _title(title: str) -> str:
    t = title.replace("\\", "\\\\").replace('"', '\\"')
    return ' "' + _ENTITY_LIKE.sub("\\\\&", t) + '"'


def _code_span(text: str) -> str | None:
    runs = {len(r) for r in _BACKTICKS.findall(text)}
    n = 1
    while n in runs:
        n += 1
    if n >= 3:
        return None
    fence = "`" * n
    if (
        text[0] == "`"
        or text[-1] == "`"
        or (text[0] == " " and text[-1] == " " and text.strip(" "))
    ):
        text = " " + text + " "
    return fence + text + fence


def _fence(body: str, info: str) -> str:
    runs = [len(r) for r in _BACKTICKS.findall(body)]
    fence = "`" * max(3, max(runs, default=0) + 1)
    if not body:
        return f"{fence}{info}\n{fence}"
    return f"{fence}{info}\n{body}\n{fence}"


def _info_value(value: str) -> str | None:
    if _INFO_BARE.match(value):
        return value
    if _INFO_QUOTABLE.match(value):
        return '"' + value.replace("\\", "\\\\").replace("&", "\\&") + '"'
    return None


def _param_text(el: Element) -> str | None:
    """The text of an ``ac:parameter`` when it holds text only."""
    for child in el.children:
        if not isinstance(child, (Text, CData)):
            return None
    return xhtml.text_content(el)


# --------------------------------------------------------------------------------------------
# Flanking rules (CommonMark emphasis), using markdown-it's own character classes
# --------------------------------------------------------------------------------------------


def _is_ws(ch: str) -> bool:
    return isWhiteSpace(ord(ch))


def _is_punct(ch: str) -> bool:
    return isMdAsciiPunct(ord(ch)) or isPunctChar(ch)


def _left_flanking(prev: str, nxt: str) -> bool:
    return not (_is_ws(nxt) or (_is_punct(nxt) and not (_is_ws(prev) or _is_punct(prev))))


def _right_flanking(prev: str, nxt: str) -> bool:
    return not (_is_ws(prev) or (_is_punct(prev) and not (_is_ws(nxt) or _is_punct(nxt))))


class _Delim:
    __slots__ = ("html", "index", "is_open", "kind", "mark", "partner")

    def __init__(self, kind: str, is_open: bool, index: int) -> None:
        self.kind = kind
        self.mark = _DELIMS[kind][0]
        self.is_open = is_open
        self.partner: _Delim | None = None
        self.index = index
        self.html = False


def _first_char(x: str | _Delim) -> str:
    return x.mark[0] if isinstance(x, _Delim) else x[0]


def _last_char(x: str | _Delim) -> str:
    return x.mark[0] if isinstance(x, _Delim) else x[-1]


def _resolve_delims(out: list, delims: bool = True) -> str:
    if not delims:
        return _join_parts(out)
    n = len(out)
    enclosing: list[_Delim] = []  # open delimiters around the current position
    for i, x in enumerate(out):
        if not isinstance(x, _Delim):
            continue
        if not x.is_open:
            enclosing.pop()
            continue
        close = x.partner
        assert close is not None
        j = close.index
        mark = x.mark[0]
        p = _last_char(out[i - 1]) if i > 0 else " "
        q = _first_char(out[i + 1])
        r = _last_char(out[j - 1])
        s = _first_char(out[j + 1]) if j + 1 < n else " "
        # an inner run of the same character could close the outer one early
        ok = mark not in (p, q, r, s) and not any(
            e.mark[0] == mark and not e.html for e in enclosing
        )
        if ok:
            lf, rf = _left_flanking(p, q), _right_flanking(p, q)
            can_open = lf and (mark != "_" or not rf or _is_punct(p))
            lf2, rf2 = _left_flanking(r, s), _right_flanking(r, s)
            can_close = rf2 and (mark != "_" or not lf2 or _is_punct(s))
            ok = can_open and can_close
        if not ok:
            x.html = close.html = True
        enclosing.append(x)
    parts = []
    for x in out:
        if isinstance(x, _Delim):
            tags = _DELIMS[x.kind]
            parts.append((tags[1] if x.is_open else tags[2]) if x.html else x.mark)
        else:
            parts.append(x)
    return _join_parts(parts)


def _join_parts(parts: list[str]) -> str:
    for k in range(len(parts) - 1):
        # "!" before a link would make it an image
        if parts[k].endswith("!") and parts[k + 1].startswith("["):
            part = parts[k]
            slashes = len(part) - 1 - len(part[:-1].rstrip("\\"))
            if slashes % 2 == 0:
                parts[k] = part[:-1] + "\\!"
    return "".join(parts)


class _Open:
    __slots__ = ("delim", "emitted", "info", "kind", "safe")

    def __init__(self, kind: str, info, safe: bool) -> None:
        self.kind = kind
        self.info = info
        self.emitted = False
        self.delim: _Delim | None = None
        self.safe = safe  # may it start a line after a hard break?


# --------------------------------------------------------------------------------------------
# The converter
# --------------------------------------------------------------------------------------------


class _Converter:
    def __init__(self, src: str) -> None:
        self.src = src
        self.newlines = xhtml.NewlineIndex(src)

    # ---- raw storage -----------------------------------------------------------------------

    def raw(self, node: Node | list[Node], mode: str) -> str:
        return xhtml.serialize(node, self.src, mode, self.newlines)

    def raw_block(self, node: Node | list[Node]) -> _Block:
        return _Block(self.raw(node, "block"), "other")

    def open_tag(self, el: Element) -> str:
        stag = self.src[el.start : el.stag_end]
        if el.stag_clean and "\n" not in stag:
            return stag
        return xhtml.start_tag(el)

    def close_tag(self, el: Element) -> str:
        etag = self.src[el.etag_start : el.end]
        if etag and "\n" not in etag and el.end > el.etag_start:
            return etag
        return f"</{el.name}>"

    # ---- block level -------------------------------------------------------------------------

    def _expand(self, nodes: list[Node]) -> list[Node]:
        """Children with elements of undeclared prefixes replaced by their content."""
        if not any(
            isinstance(n, Element) and ":" in n.name and not xhtml._prefix_ok(n.name) for n in nodes
        ):
            return nodes
        out: list[Node] = []
        stack = list(reversed(nodes))
        while stack:
            n = stack.pop()
            if isinstance(n, Element) and ":" in n.name and not xhtml._prefix_ok(n.name):
                stack.extend(reversed(n.children))
            else:
                out.append(n)
        return out

    def _classify(self, node: Node) -> int:
        if isinstance(node, Text):
            return _SPACE if not node.data.strip(" \t\n\f") else _INLINE
        if isinstance(node, CData):
            return _INLINE
        if isinstance(node, Comment):
            return _EITHER
        assert isinstance(node, Element)
        key = node.key
        if ":" not in key:
            return _INLINE if key in dialect.INLINE_HTML else _BLOCK
        if key in ("ac:structured-macro", "ac:macro"):
            name = (node.get("ac:name") or "").lower()
            if name in _BLOCK_MACROS:
                return _BLOCK
            if name in _INLINE_MACROS:
                return _INLINE
            return _EITHER
        if key in _BLOCK_PREFIXED:
            return _BLOCK
        if key in _INLINE_PREFIXED:
            return _INLINE
        return _EITHER  # unknown macros and elements

    def _partition(self, nodes: list[Node]) -> list[tuple[bool, list[Node]]]:
        """Split container children into (is_block, nodes) groups."""
        nodes = self._expand(nodes)
        kinds = [self._classify(n) for n in nodes]
        n = len(nodes)
        # an ambiguous node (unknown macro, comment) is inline when next to inline content
        prev_kind = [_SPACE] * n
        last = _SPACE
        for i in range(n):
            prev_kind[i] = last
            if kinds[i] != _SPACE:
                last = kinds[i]
        last = _SPACE
        for i in range(n - 1, -1, -1):
            if kinds[i] == _EITHER:
                kinds[i] = _INLINE if _INLINE in (prev_kind[i], last) else _BLOCK
            if kinds[i] != _SPACE:
                last = kinds[i]
        groups: list[tuple[bool, list[Node]]] = []
        run: list[Node] = []
        for node, kind in zip(nodes, kinds, strict=True):
            if kind == _BLOCK:
                if run:
                    groups.append((False, run))
                    run = []
                groups.append((True, [node]))
            else:
                run.append(node)
        if run:
            groups.append((False, run))
        return groups

    def blocks(self, nodes: list[Node], depth: int) -> list[_Block]:
        out: list[_Block] = []
        for is_block, group in self._partition(nodes):
            if is_block:
                el = group[0]
                if not isinstance(el, Element):
                    out.append(self.raw_block(el))
                    continue
                prev = out[-1] if out else None
                result = self.block(el, depth, prev)
                if isinstance(result, list):
                    out.extend(result)
                elif result is not None:
                    out.append(result)
            else:
                b = self.inline_run(group, depth)
                if b is not None:
                    out.append(b)
        return out

    def inline_run(self, nodes: list[Node], depth: int) -> _Block | None:
        start, end = 0, len(nodes)
        while start < end and _is_space(nodes[start]):
            start += 1
        while end > start and _is_space(nodes[end - 1]):
            end -= 1
        nodes = nodes[start:end]
        if not nodes:
            return None
        md = self.inline(nodes, depth, "block")
        if not md:
            if all(isinstance(n, Element) and n.key == "ac:placeholder" for n in nodes):
                return None
            return _Block("<p>" + self.raw(nodes, "block") + "</p>", "other")
        if _starts_html_block(md):
            return _Block("<p>" + self.raw(nodes, "block") + "</p>", "other")
        return _Block(md, "para")

    def block(self, el: Element, depth: int, prev: _Block | None):
        if depth > MAX_DEPTH:
            return self.raw_block(el)
        key = el.key
        if key == "p":
            return self.paragraph(el, depth)
        if len(key) == 2 and key[0] == "h" and key[1] in "123456":
            return self.heading(el, depth)
        if key in ("ul", "ol"):
            return self.list_block(el, depth, prev)
        if key == "blockquote":
            if el.attrs:
                return self.raw_block(el)
            return _Block(_quote(_join(self.blocks(el.children, depth + 1))), "other")
        if key == "hr":
            if el.attrs or el.children:
                return self.raw_block(el)
            return _Block("---", "other")
        if key == "table":
            return self.table(el, depth) or self.raw_block(el)
        if key == "pre":
            return self.pre(el) or self.raw_block(el)
        if key == "ac:structured-macro":
            return self.macro(el, depth)
        if key == "ac:task-list":
            return self.task_list(el, depth, prev) or self.raw_block(el)
        return self.wrapper(el, depth)

    def paragraph(self, el: Element, depth: int) -> _Block | None:
        if el.attrs:
            return self.raw_block(el)
        md = self.inline(el.children, depth, "block")
        if (
            not md
            and el.children
            and all(
                _is_space(n) or (isinstance(n, Element) and n.key == "ac:placeholder")
                for n in el.children
            )
            and not all(_is_space(n) for n in el.children)
        ):
            return None  # a paragraph holding only an editor placeholder
        if not md or _starts_html_block(md):
            return self.raw_block(el)
        return _Block(md, "para")

    def heading(self, el: Element, depth: int) -> _Block:
        if el.attrs:
            return self.raw_block(el)
        md = self.inline(el.children, depth, "heading")
        if md.endswith("#"):
            k = len(md) - 1
            while k > 0 and md[k - 1] == "\\":
                k -= 1
            if (len(md) - 1 - k) % 2 == 0:
                md = md[:-1] + "\\#"
        hashes = "#" * int(el.key[1])
        return _Block(f"{hashes} {md}" if md else hashes, "other")

    def list_block(self, el: Element, depth: int, prev: _Block | None) -> _Block:
        ordered = el.key == "ol"
        start = 1
        for name, value in el.attrs:
            if ordered and name == "start" and value.isdigit() and len(value) <= 9:
                start = int(value)
            else:
                return self.raw_block(el)
        items: list[Element] = []
        for child in el.children:
            if _is_space(child):
                continue
            if isinstance(child, Element) and child.key == "li" and not child.attrs:
                items.append(child)
            else:
                return self.raw_block(el)
        if not items:
            return self.raw_block(el)
        list_kind = "ordered" if ordered else "bullet"
        # two lists in a row need different markers, or Markdown would read one list
        alt = (
            prev is not None
            and prev.kind == "list"
            and prev.list_kind == list_kind
            and not prev.alt
        )
        lines = []
        number = start
        for li in items:
            if ordered:
                marker = f"{number}{')' if alt else '.'}"
                number += 1
            else:
                marker = "*" if alt else "-"
            body = _join(self.blocks(li.children, depth + 1), in_item=True)
            lines.append(_item(marker, body))
        first_line = lines[0].split("\n", 1)[0]  # "-" alone: an empty first item
        return _Block("\n".join(lines), "list", list_kind, alt, start == 1 and " " in first_line)

    def task_list(self, el: Element, depth: int, prev: _Block | None) -> _Block | None:
        if el.attrs:
            return None
        alt = (
            prev is not None and prev.kind == "list" and prev.list_kind == "bullet" and not prev.alt
        )
        marker = "*" if alt else "-"
        items: list[tuple[str, list[_Block]]] = []
        for child in el.children:
            if _is_space(child):
                continue
            if not isinstance(child, Element):
                return None
            if child.key == "ac:task-list":
                if not items:
                    return None
                nested = self.task_list(child, depth + 1, None)
                if nested is None:
                    return None
                items[-1][1].append(nested)
                continue
            if child.key != "ac:task" or child.attrs:
                return None
            status = None
            body: Element | None = None
            for part in child.children:
                if _is_space(part):
                    continue
                if not isinstance(part, Element) or part.attrs:
                    return None
                if part.key in ("ac:task-id", "ac:task-uuid"):
                    continue
                if part.key == "ac:task-status":
                    status = xhtml.text_content(part).strip()
                elif part.key == "ac:task-body" and body is None:
                    body = part
                else:
                    return None
            if status not in ("complete", "incomplete"):
                return None
            blocks = self.blocks(body.children, depth + 1) if body is not None else []
            if blocks and blocks[0].kind != "para":
                return None
            items.append(("[x]" if status == "complete" else "[ ]", blocks))
        if not items:
            return None
        lines = []
        for box, blocks in items:
            body_text = _join(blocks, in_item=True)
            lines.append(_item(marker, box + (" " + body_text if body_text else "")))
        return _Block("\n".join(lines), "list", "bullet", alt, True)

    # ---- tables ------------------------------------------------------------------------------

    def table(self, el: Element, depth: int) -> _Block | None:
        rows: list[Element] = []
        stack = list(reversed(el.children))
        while stack:
            child = stack.pop()
            if _is_space(child):
                continue
            if not isinstance(child, Element):
                return None
            if child.key == "colgroup":
                continue
            if child.key in ("thead", "tbody", "tfoot") and not child.attrs:
                stack.extend(reversed(child.children))
            elif child.key == "tr" and not child.attrs:
                rows.append(child)
            else:
                return None
        if not rows:
            return None
        grid: list[list[tuple[str, str | None]]] = []
        kinds: list[set[str]] = []
        for tr in rows:
            cells = []
            row_kinds = set()
            for cell in tr.children:
                if _is_space(cell):
                    continue
                if not isinstance(cell, Element) or cell.key not in ("th", "td"):
                    return None
                parsed = self.cell(cell, depth)
                if parsed is None:
                    return None
                cells.append(parsed)
                row_kinds.add(cell.key)
            if not cells:
                return None
            grid.append(cells)
            kinds.append(row_kinds)
        width = len(grid[0])
        if any(len(r) != width for r in grid):
            return None
        if kinds[0] == {"th"}:
            header = grid[0]
            body = grid[1:]
            if all(not text for text, _ in header):
                return None  # reserved for tables without a header row
            if any(k != {"td"} for k in kinds[1:]):
                return None
        elif all(k == {"td"} for k in kinds):
            header = [("", None)] * width
            body = grid
        else:
            return None
        aligns: list[str | None] = []
        for col in range(width):
            values = {row[col][1] for row in grid}
            if len(values) != 1:
                return None
            aligns.append(values.pop())
        delim = {None: "---", "left": ":---", "center": ":---:", "right": "---:"}
        lines = [_row([t for t, _ in header]), _row([delim[a] for a in aligns])]
        lines.extend(_row([t for t, _ in row]) for row in body)
        return _Block("\n".join(lines), "other")

    def cell(self, cell: Element, depth: int) -> tuple[str, str | None] | None:
        align = None
        for name, value in cell.attrs:
            if name in ("colspan", "rowspan") and value.strip() == "1":
                continue
            m = _TEXT_ALIGN.match(value) if name == "style" else None
            if m is None:
                return None
            align = m.group(1).lower()
        content = cell.children
        solid = [n for n in content if not _is_space(n)]
        if len(solid) == 1 and isinstance(solid[0], Element) and solid[0].key == "p":
            if solid[0].attrs:
                return None
            content = solid[0].children
        for n in content:
            if self._classify(n) == _BLOCK:
                return None
        md = self.inline(content, depth + 1, "cell")
        if "\n" in md:
            return None
        return md.replace("|", "\\|"), align

    # ---- code --------------------------------------------------------------------------------

    def pre(self, el: Element) -> _Block | None:
        if el.attrs or any(not isinstance(c, (Text, CData)) for c in el.children):
            return None
        return _Block(_fence(xhtml.text_content(el), ""), "other")

    def code_macro(self, el: Element, name: str) -> _Block | None:
        params: list[tuple[str, str]] = []
        body = None
        for child in el.children:
            if _is_space(child):
                continue
            if not isinstance(child, Element) or (child.attrs and child.key != "ac:parameter"):
                return None
            if child.key == "ac:parameter" and body is None:
                pname = child.get("ac:name")
                value = _param_text(child)
                if pname is None or value is None or len(child.attrs) != 1:
                    return None
                params.append((pname, value))
            elif child.key == "ac:plain-text-body" and body is None:
                if any(not isinstance(c, (Text, CData)) for c in child.children):
                    return None
                body = xhtml.text_content(child)
            else:
                return None
        parts = ["noformat"] if name == "noformat" else []
        if name == "code":
            for i, (pname, value) in enumerate(params):
                if (
                    pname == "language"
                    and _INFO_BARE.match(value)
                    and value != "noformat"
                    and "=" not in value
                ):
                    parts.append(value)
                    params = params[:i] + params[i + 1 :]
                    break
        for pname, value in params:
            encoded = _info_value(value)
            if encoded is None or not _PARAM_NAME.match(pname):
                return None
            parts.append(f"{pname}={encoded}")
        return _Block(_fence(body or "", " ".join(parts)), "other")

    # ---- macros ------------------------------------------------------------------------------

    def macro(self, el: Element, depth: int):
        name = (el.get("ac:name") or "").lower()
        if all(k in dialect.IGNORED_MACRO_ATTRS for k, _ in el.attrs):
            result: _Block | list[_Block] | None = None
            if name in ("code", "noformat"):
                result = self.code_macro(el, name)
            elif name in dialect.ALERT_OF_PANEL:
                result = self.alert(el, name, depth)
            elif name == "expand":
                result = self.expand(el, depth)
            elif name == "toc":
                result = self.toc(el)
            if result is not None:
                return result
        return self.macro_wrapper(el, depth)

    def _macro_parts(self, el: Element) -> tuple[dict[str, str], Element | None] | None:
        """Text parameters and the rich-text body of a macro, or None if it holds more."""
        params: dict[str, str] = {}
        body = None
        for child in el.children:
            if _is_space(child):
                continue
            if not isinstance(child, Element):
                return None
            if child.key == "ac:parameter" and body is None:
                pname = child.get("ac:name")
                value = _param_text(child)
                if pname is None or value is None or len(child.attrs) != 1 or pname in params:
                    return None
                params[pname] = value
            elif child.key == "ac:rich-text-body" and body is None and not child.attrs:
                body = child
            else:
                return None
        return params, body

    def alert(self, el: Element, name: str, depth: int) -> _Block | None:
        parts = self._macro_parts(el)
        if parts is None or parts[0] or parts[1] is None:
            return None
        blocks = self.blocks(parts[1].children, depth + 1)
        head = f"[!{dialect.ALERT_OF_PANEL[name]}]"
        text = _join(blocks)
        if text:
            text = head + ("\n" if blocks[0].kind == "para" else "\n\n") + text
        else:
            text = head
        return _Block(_quote(text), "other")

    def expand(self, el: Element, depth: int) -> list[_Block] | None:
        parts = self._macro_parts(el)
        if parts is None or parts[1] is None or set(parts[0]) - {"title"}:
            return None
        params, body = parts
        assert body is not None
        head = "<details>"
        if "title" in params:
            title = xhtml.escape_text(params["title"]).replace("\n", "&#10;")
            head += f"\n<summary>{title}</summary>"
        return [
            _Block(head, "other"),
            *self.blocks(body.children, depth + 1),
            _Block("</details>", "other"),
        ]

    def toc(self, el: Element) -> _Block | None:
        parts = self._macro_parts(el)
        if parts is None or parts[1] is not None:
            return None
        words = ["[TOC"]
        for pname, value in parts[0].items():
            if not _PARAM_NAME.match(pname):
                return None
            if _INFO_BARE.match(value):
                words.append(f"{pname}={value}")
            elif '"' not in value and "]" not in value and "\n" not in value:
                words.append(f'{pname}="{value}"')
            else:
                return None
        return _Block(" ".join(words) + "]", "other")

    def macro_wrapper(self, el: Element, depth: int):
        """An unknown macro: raw storage, with its rich-text body as Markdown when possible."""
        body = None
        for child in el.children:
            if isinstance(child, Element) and child.key == "ac:rich-text-body":
                if body is not None:
                    return self.raw_block(el)
                body = child
            elif body is not None and not _is_space(child):
                return self.raw_block(el)
        if (
            body is None
            or body.attrs
            or not el.stag_clean
            or not body.stag_clean
            or not self._all_blocks(body.children, runs_ok=True)
        ):
            return self.raw_block(el)
        i = el.children.index(body)
        head = self.open_tag(el) + self.raw(el.children[:i], "block") + self.open_tag(body)
        tail = self.close_tag(body) + self.raw(el.children[i + 1 :], "block") + self.close_tag(el)
        if "\n" in head or "\n" in tail:
            return self.raw_block(el)
        return [
            _Block(head, "other"),
            *self.blocks(body.children, depth + 1),
            _Block(tail, "other"),
        ]

    def _all_blocks(self, nodes: list[Node], runs_ok: bool = False) -> bool:
        """Whether nodes are block content (or, with runs_ok, inline runs read as paragraphs,
        as in Confluence's own containers)."""
        groups = self._partition(nodes)
        if not groups:
            return False
        if runs_ok:
            return any(
                is_block or not all(_is_space(n) for n in group) for is_block, group in groups
            )
        for is_block, group in groups:
            if not is_block and not all(_is_space(n) for n in group):
                return False
        return True

    def wrapper(self, el: Element, depth: int):
        """Any other block element: raw tags around Markdown content (layouts, ``<div>``...)
        when it holds blocks only, else raw as a whole."""
        if (
            el.void
            or not el.stag_clean
            or (":" in el.key and el.key not in _WRAPPERS)
            or el.key == "details"
            or not self._all_blocks(el.children, runs_ok=":" in el.key)
        ):
            return self.raw_block(el)
        return [
            _Block(self.open_tag(el), "frag"),
            *self.blocks(el.children, depth + 1),
            _Block(self.close_tag(el), "frag"),
        ]

    # ---- inline ------------------------------------------------------------------------------

    def inline(self, nodes: list[Node], depth: int, mode: str) -> str:
        return _Inline(self, depth, mode).render(nodes)

    def link_target(self, el: Element) -> tuple[str, str] | None:
        """(url, default text) of an ``ac:link``, or None when Markdown cannot say it."""
        anchor = None
        query: list[tuple[str, str]] = []
        for name, value in el.attrs:
            if name == "ac:anchor" and anchor is None:
                anchor = value
            elif name.startswith("ac:"):
                query.append((name, value))
            else:
                return None
        target = None
        for child in el.children:
            if _is_space(child):
                continue
            if not isinstance(child, Element):
                return None
            if child.key.startswith("ri:") and target is None:
                target = child
            elif child.key not in ("ac:plain-text-link-body", "ac:link-body"):
                return None
        if target is None:
            if anchor is None or query:
                return None
            return "#" + anchor, anchor
        return self.resource_url(target, query, anchor)

    def resource_url(
        self, target: Element, query: list[tuple[str, str]], anchor: str | None
    ) -> tuple[str, str] | None:
        key = target.key
        attrs = dict(target.attrs)
        if len(attrs) != len(target.attrs):
            return None
        extra = [(k, v) for k, v in target.attrs if k.startswith("ri:")]
        if len(extra) != len(target.attrs):
            return None
        if key == "ri:page":
            title = attrs.get("ri:content-title")
            if title is None or any(not _is_space(c) for c in target.children):
                return None
            space = attrs.get("ri:space-key")
            rest = [(k, v) for k, v in extra if k not in ("ri:content-title", "ri:space-key")]
            url = dialect.build_url(
                dialect.PAGE,
                dialect.encode(title),
                None if space is None else dialect.encode(space, False),
                query + rest,
                anchor,
            )
            return url, title
        if key == "ri:attachment":
            filename = attrs.get("ri:filename")
            if filename is None:
                return None
            page = None
            for c in target.children:
                if _is_space(c):
                    continue
                if page is not None or not isinstance(c, Element) or c.key != "ri:page":
                    return None
                page = c
            path = dialect.encode(filename, False)
            space = None
            if page is not None:
                pattrs = dict(page.attrs)
                ptitle = pattrs.pop("ri:content-title", None)
                space = pattrs.pop("ri:space-key", None)
                if ptitle is None or pattrs or page.children:
                    return None
                path = dialect.encode(ptitle) + "/" + path
                if space is not None:
                    space = dialect.encode(space, False)
            rest = [(k, v) for k, v in extra if k != "ri:filename"]
            return dialect.build_url(
                dialect.ATTACHMENT, path, space, query + rest, anchor
            ), filename
        if key in ("ri:user", "ri:space"):
            ident = "ri:account-id" if key == "ri:user" else "ri:space-key"
            value = attrs.get(ident)
            if value is None or target.children:
                return None
            rest = [(k, v) for k, v in extra if k != ident]
            scheme = dialect.USER if key == "ri:user" else dialect.SPACE
            url = dialect.build_url(
                scheme, dialect.encode(value, False), None, query + rest, anchor
            )
            return url, ("@" + value if key == "ri:user" else value)
        return None


def _row(cells: list[str]) -> str:
    return "|" + "|".join(f" {c} " if c else " " for c in cells) + "|"


def _item(marker: str, body: str) -> str:
    if not body:
        return marker
    if marker == "-" and (body == "---" or body.startswith("---\n")):
        body = "***" + body[3:]
    return _indent(body, marker + " ", " " * (len(marker) + 1))


class _Inline:
    """Renders a run of inline nodes as one Markdown paragraph (or heading, cell, link text).

    The nodes are first flattened (iteratively) into items: text, opening and closing marks,
    atoms (ready-made Markdown such as images, links to Confluence resources, raw storage),
    hard breaks and code. Items are then written out with CommonMark's whitespace and
    emphasis rules in mind: spaces move outside emphasis, empty emphasis disappears, and an
    emphasis whose delimiters would not be recognised where it stands is written as
    ``<strong>``/``<em>``/``<s>`` inline HTML instead.
    """

    def __init__(self, conv: _Converter, depth: int, mode: str, pipes: bool | None = None) -> None:
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
        target = self.conv.link_target(el)
        if target is None:
            return None
        url, default = target
        text = None
        for child in el.children:
            if isinstance(child, Element) and child.key == "ac:plain-text-link-body":
                if child.attrs or any(not isinstance(c, (Text, CData)) for c in child.children):
                    return None
                text = self.esc(_WS.sub(" ", xhtml.text_content(child)))
            elif isinstance(child, Element) and child.key == "ac:link-body":
                if child.attrs:
                    return None
                text = _Inline(self.conv, self.depth + 1, "link", self.pipes).render(child.children)
        if not text:
            text = self.esc(default)
        if "\n" in text and self.mode in ("heading", "cell"):
            return None
        return f"[{text}]({_dest(url)})"

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
            if _is_space(child):
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
            resolved = self.conv.resource_url(target, query, None)
            if resolved is None:
                return None
            url = resolved[0]
        else:
            return None
        return f"![{self.esc(alt)}]({_dest(url)}{_title(title) if title is not None else ''})"

    def status(self, el: Element) -> str | None:
        if (el.get("ac:name") or "").lower() != "status" or any(
            k not in dialect.IGNORED_MACRO_ATTRS for k, _ in el.attrs
        ):
            return None
        parts = self.conv._macro_parts(el)
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
        return f"[{self.esc(title)}]({_dest(url)})"

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
        return f"![{self.esc(alt)}]({_dest(src)}{_title(title) if title is not None else ''})"

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
                if rec.kind in _DELIMS:
                    d = _Delim(rec.kind, True, len(out))
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
                        esc = _escape_line_start(esc)
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
                    if rec.kind in _DELIMS:
                        pend_open.pop()
                        continue
                    flush(True)
                if rec.kind in _DELIMS:
                    d = _Delim(rec.kind, False, len(out))
                    assert rec.delim is not None
                    rec.delim.partner = d  # (one way only: no reference cycles)
                    out.append(d)
                elif rec.kind == "link":
                    href, title = rec.info
                    out.append(f"]({_dest(href)}{_title(title) if title is not None else ''})")
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
                span = _code_span(text)
                flush(True)
                if span is None or (out and _last_char(out[-1]) == "`"):
                    span = "<code>" + escape_md(text, pipes) + "</code>"
                out.append(span)
                line_start = False
        if pend_br:
            out.append("<br/>" * pend_br)
        return _resolve_delims(out, bool(opens_seen))
