"""Markdown (the ctk dialect, docs/markdown.md) to Confluence storage format.

Markdown is parsed by markdown-it-py (CommonMark plus GFM tables and strikethrough) with a few
rules of ctk's own: raw storage blocks and inline elements (``<ac:...>``), ``[TOC]``, bare URLs
and ``:emoticon:`` names. The token stream is turned into a small tree and written out through
``_Writer``, which keeps the output well-formed XML whatever raw markup the Markdown holds:
balanced raw markup is copied byte for byte, anything else is repaired (unclosed elements are
closed, stray end tags dropped, bad tokens re-serialised).
"""

from __future__ import annotations

import re
import threading
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.common.utils import unescapeAll
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from ctk_core.convert import dialect, xhtml

__all__ = ["markdown_to_storage"]

_lock = threading.Lock()
_parser: MarkdownIt | None = None


def markdown_to_storage(markdown: str) -> str:
    """Convert Markdown to Confluence storage format. The result is always well-formed XML
    (once wrapped in an element declaring the ``ac`` and ``ri`` namespaces)."""
    if not isinstance(markdown, str):
        raise TypeError("markdown_to_storage expects a str")
    with xhtml.no_gc():
        nodes = _tree(_md().parse(xhtml.clean_chars(markdown), {})).children
        writer = _Writer()
        _Renderer(writer).blocks(nodes)
        return xhtml.clean_chars(writer.finish())


def _md() -> MarkdownIt:
    global _parser
    with _lock:
        if _parser is None:
            md = MarkdownIt("commonmark", {"html": True, "maxNesting": 100})
            md.enable(["table", "strikethrough"])
            # Link targets are kept byte for byte: no percent-encoding, no scheme filtering
            # (Confluence applies its own); ctk's link forms use custom schemes.
            md.validateLink = lambda url: True  # type: ignore[method-assign]
            md.normalizeLink = lambda url: url  # type: ignore[method-assign,assignment]
            md.normalizeLinkText = lambda link: link  # type: ignore[method-assign]
            md.block.ruler.before("html_block", "ctk_raw_block", _raw_block_rule)
            md.block.ruler.before("paragraph", "ctk_toc", _toc_rule)
            md.inline.ruler.before("autolink", "ctk_raw_inline", _raw_inline_rule)
            md.core.ruler.before("text_join", "ctk_text", _text_rule)
            md.parse("# warm-up: compile the rule chains *x* <u>y</u>\n\n- z\n", {})
            _parser = md
        return _parser


# --------------------------------------------------------------------------------------------
# markdown-it rules
# --------------------------------------------------------------------------------------------


def _raw_block_rule(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """Raw storage markup starting a line (see dialect.raw_block_start)."""
    if state.is_code_block(start):
        return False
    pos = state.bMarks[start] + state.tShift[start]
    maximum = state.eMarks[start]
    if pos >= maximum or state.src[pos] != "<":
        return False
    line = state.src[pos:maximum]
    if not dialect.raw_block_start(line):
        return False
    if silent:
        return True
    closer = dialect.scan_raw_line(line, None)
    nxt = start + 1
    while nxt < end:
        if state.isEmpty(nxt):
            if closer is None:
                break
            nxt += 1
            continue
        if state.sCount[nxt] < state.blkIndent:
            break
        text = state.src[state.bMarks[nxt] + state.tShift[nxt] : state.eMarks[nxt]]
        closer = dialect.scan_raw_line(text, closer)
        nxt += 1
    state.line = nxt
    token = state.push("html_block", "", 0)
    token.map = [start, nxt]
    token.content = state.getLines(start, nxt, state.blkIndent, True)
    return True


_TOC = re.compile(
    r"\[TOC((?:[ \t]+[A-Za-z_][\w.\-]*=(?:\"[^\"\]\n]*\"|[^\s\"\]]+))*)[ \t]*\][ \t]*\Z"
)
_TOC_PARAM = re.compile(r"([A-Za-z_][\w.\-]*)=(?:\"([^\"\]\n]*)\"|([^\s\"\]]+))")


def _toc_rule(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """``[TOC]`` (optionally ``[TOC maxLevel=3 ...]``) alone on a line: the toc macro."""
    if state.is_code_block(start):
        return False
    pos = state.bMarks[start] + state.tShift[start]
    line = state.src[pos : state.eMarks[start]]
    if not line.startswith("[TOC"):
        return False
    m = _TOC.match(line)
    if m is None:
        return False
    if silent:
        return True
    token = state.push("ctk_toc", "", 0)
    token.map = [start, start + 1]
    token.meta = {
        "params": [
            (p.group(1), p.group(2) if p.group(2) is not None else p.group(3))
            for p in _TOC_PARAM.finditer(m.group(1))
        ]
    }
    state.line = start + 1
    return True


def _raw_inline_rule(state: StateInline, silent: bool) -> bool:
    """A storage tag (``<u>``, ``<span ...>``) or a whole prefixed element (``<ac:...>...``)."""
    pos = state.pos
    src = state.src
    if src[pos] != "<":
        return False
    tok = xhtml.tag_at(src, pos)
    if tok is None or (":" in tok[3] and tok[3].split(":", 1)[0] not in xhtml.KNOWN_PREFIXES):
        return False  # not storage: <confluence-page:Title> is an autolink
    end = tok[2]
    if tok[0] == xhtml.START and ":" in tok[3] and not tok[4][1]:
        end = _balanced_ends(state).get(pos, end)
        if end > state.posMax:
            end = tok[2]
    if end > state.posMax:
        return False
    if not silent:
        token = state.push("html_inline", "", 0)
        token.content = src[pos:end]
    state.pos = end
    return True


def _balanced_ends(state: StateInline) -> dict[int, int]:
    """For each prefixed start tag in the inline source, where its element ends (cached)."""
    cache = state.env.setdefault("ctk_balanced", {})
    key = id(state.src)
    hit = cache.get(key)
    if hit is not None and hit[0] is state.src:
        return hit[1]
    ends: dict[int, int] = {}
    stack: list[tuple[str, int]] = []
    counts: dict[str, int] = {}
    for tok in xhtml.tokenize(state.src):
        if tok[0] == xhtml.START and not tok[4][1] and tok[3].lower() not in xhtml.VOID_ELEMENTS:
            stack.append((tok[3], tok[1]))
            counts[tok[3]] = counts.get(tok[3], 0) + 1
        elif tok[0] == xhtml.END and counts.get(tok[3]):
            while stack:
                name, start = stack.pop()
                counts[name] -= 1
                if name == tok[3]:
                    ends[start] = tok[2]
                    break
    cache[key] = (state.src, ends)
    return ends


_BARE_URL = re.compile(r"(?<![^\s(*_~])(?i:https?)://[^\s<]+")
_URL_TRAIL = "?!.,:*_~"
_ENTITY_TAIL = re.compile(r"&[A-Za-z0-9]+;\Z")


def _url_end(text: str, start: int, end: int) -> int:
    while end > start:
        ch = text[end - 1]
        unbalanced = ch == ")" and text.count("(", start, end) < text.count(")", start, end)
        if ch in _URL_TRAIL or unbalanced:
            end -= 1
        elif ch == ";":
            m = _ENTITY_TAIL.search(text, start, end)
            if m is None:
                break
            end = m.start()
        else:
            break
    return end


def _text_rule(state: StateCore) -> None:
    """Bare ``http(s)://`` URLs become links; ``:name:`` (Confluence emoticons) emoticons.

    Runs before markdown-it joins escaped characters into text, so ``https\\://`` and
    ``\\:smile:`` stay literal.
    """
    for block in state.tokens:
        if block.type == "inline" and block.children:
            block.children = _autolink_text(block.children)


def _autolink_text(children: list[Token]) -> list[Token]:
    if not any(c.type == "text" and (":" in c.content) for c in children):
        return children
    out: list[Token] = []
    link_depth = 0
    for tok in children:
        if tok.type == "link_open":
            link_depth += 1
        elif tok.type == "link_close":
            link_depth -= 1
        if tok.type != "text" or ":" not in tok.content:
            out.append(tok)
            continue
        out.extend(_split_text(tok, urls=not link_depth))
    return out


def _split_text(tok: Token, urls: bool) -> list[Token]:
    text = tok.content
    found: list[tuple[int, int, str]] = []
    for m in _BARE_URL.finditer(text) if urls else ():
        end = _url_end(text, m.start(), m.end())
        if end - m.start() > m.group(0).index("://") + 3:
            found.append((m.start(), end, "url"))
    for m in dialect.EMOTICON_RE.finditer(text):
        if not any(s <= m.start() < e for s, e, _ in found):
            found.append((m.start(), m.end(), "emoticon"))
    if not found:
        return [tok]
    found.sort()
    out: list[Token] = []
    pos = 0

    def text_token(content: str) -> None:
        t = Token("text", "", 0)
        t.content = content
        t.level = tok.level
        out.append(t)

    for start, end, kind in found:
        if start < pos:
            continue
        if start > pos:
            text_token(text[pos:start])
        if kind == "url":
            url = text[start:end]
            lo = Token("link_open", "a", 1)
            lo.attrs = {"href": url}
            lo.markup = "linkify"
            lo.info = "auto"
            out.append(lo)
            text_token(url)
            out.append(Token("link_close", "a", -1))
        else:
            em = Token("ctk_emoticon", "", 0)
            em.meta = {"name": text[start + 1 : end - 1]}
            out.append(em)
        pos = end
    if pos < len(text):
        text_token(text[pos:])
    return out


# --------------------------------------------------------------------------------------------
# Writer: the one place output is produced
# --------------------------------------------------------------------------------------------


def _attrs(attrs) -> str:
    return "".join(f' {k}="{xhtml.escape_attr(v)}"' for k, v in attrs)


class _Writer:
    """Collects storage output. Elements the converter generates are always balanced; raw
    markup from the Markdown may not be, so its elements are tracked in "segments" (the raw
    elements opened inside the innermost generated element) and repaired as needed."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.stack: list[tuple[str, bool]] = []  # (name, generated)
        self.counts: list[dict[str, int]] = [{}]

    def open(self, name: str, attrs=()) -> None:
        self.parts.append(f"<{name}{_attrs(attrs)}>")
        self.stack.append((name, True))
        self.counts.append({})

    def close(self, name: str) -> None:
        while self.stack and not self.stack[-1][1]:
            self.parts.append(f"</{self.stack.pop()[0]}>")
        self.stack.pop()
        self.counts.pop()
        self.parts.append(f"</{name}>")

    def void(self, name: str, attrs=()) -> None:
        self.parts.append(f"<{name}{_attrs(attrs)}/>")

    def text(self, text: str) -> None:
        if text:
            text = xhtml.escape_text(text)
            if "\xa0" in text:  # keep no-break spaces visible, as Confluence does
                text = text.replace("\xa0", "&#160;")
            self.parts.append(text)

    def cdata(self, text: str) -> None:
        self.parts.append(xhtml.cdata_section(text))

    def raw(self, piece: str) -> None:
        """Raw storage from the Markdown, kept byte for byte where it is well-formed."""
        parts = self.parts
        for tok in xhtml.tokenize(piece):
            kind, start, end = tok[0], tok[1], tok[2]
            if kind == xhtml.TEXT:
                parts.append(piece[start:end] if tok[5] else xhtml.escape_text(tok[3]))
            elif kind == xhtml.CDATA:
                parts.append(piece[start:end] if tok[5] else xhtml.cdata_section(tok[3]))
            elif kind == xhtml.COMMENT:
                parts.append(piece[start:end] if tok[5] else xhtml.comment(tok[3]))
            elif kind == xhtml.START:
                name = tok[3]
                if not xhtml._prefix_ok(name):
                    continue
                attrs, self_closing = tok[4]
                void = self_closing or name.lower() in xhtml.VOID_ELEMENTS
                if tok[5] and (self_closing or not void):
                    parts.append(piece[start:end])
                else:
                    parts.append(f"<{name}{_clean_attrs(attrs)}{'/>' if void else '>'}")
                if not void:
                    self.stack.append((name, False))
                    seg = self.counts[-1]
                    seg[name] = seg.get(name, 0) + 1
            elif kind == xhtml.END:
                name = tok[3]
                seg = self.counts[-1]
                if not seg.get(name):
                    continue  # nothing to close here: dropped
                while True:
                    top = self.stack.pop()[0]
                    seg[top] -= 1
                    if top == name:
                        parts.append(piece[start:end])
                        break
                    parts.append(f"</{top}>")

    def finish(self) -> str:
        while self.stack:
            self.parts.append(f"</{self.stack.pop()[0]}>")
        return "".join(self.parts)


def _clean_attrs(attrs: list[tuple[str, str]]) -> str:
    seen: set[str] = set()
    out = []
    for name, value in attrs:
        if name in seen or not xhtml.valid_attr_name(name):
            continue
        seen.add(name)
        out.append((name, value))
    return _attrs(out)


# --------------------------------------------------------------------------------------------
# Tree of markdown-it tokens
# --------------------------------------------------------------------------------------------


class _Node:
    """One node of the token tree: an opening or a leaf token and what it holds."""

    __slots__ = ("children", "tok")

    def __init__(self, tok: Token | None) -> None:
        self.tok = tok
        self.children: list[_Node] = []


def _tree(tokens: list[Token]) -> _Node:
    root = _Node(None)
    stack = [root]
    for tok in tokens:
        if tok.nesting == 1:
            node = _Node(tok)
            stack[-1].children.append(node)
            stack.append(node)
        elif tok.nesting == -1:
            if len(stack) > 1:
                stack.pop()
        else:
            stack[-1].children.append(_Node(tok))
    return root


# <details> blocks nested deeper than this stay raw HTML (the Markdown nesting of everything
# else is bounded by markdown-it's maxNesting)
_MAX_EXPAND_DEPTH = 40
_ALERT = re.compile(r"\[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\][ \t]*(?:\n|\Z)", re.IGNORECASE)
_TASK = re.compile(r"\[([ xX])\](?:[ \t]|\Z)")
_INFO_PARAM = re.compile(r"([^\s=\"]+)=(?:\"([^\"]*)\"|(\S*))|(\S+)")


def _parse_info(info: str) -> tuple[str, list[tuple[str, str]]]:
    """``python title="x" linenumbers=true`` -> ("code", [("language", "python"), ...])."""
    macro = "code"
    params: list[tuple[str, str]] = []
    first = True
    for m in _INFO_PARAM.finditer(info):
        word = m.group(4)
        if word is not None:
            if first:
                if word == "noformat":
                    macro = "noformat"
                else:
                    params.append(("language", word))
            first = False
            continue
        first = False
        value = m.group(2) if m.group(2) is not None else m.group(3)
        params.append((m.group(1), value))
    return macro, params


def _attachment(ref: dialect.CtkLink) -> tuple[str, list[tuple[str, str]] | None]:
    """An attachment link's file name, and the ``ri:page`` attributes of the page it is on
    (None: the page being written)."""
    title, filename = dialect.split_attachment_path(ref.path)
    if title is None:
        return filename, None
    page = [("ri:content-title", title)]
    if ref.space is not None:
        page.append(("ri:space-key", ref.space))
    return filename, page


def _plain(tokens: list[Token]) -> str | None:
    """The text of inline tokens when they are plain text only."""
    out = []
    for t in tokens:
        if t.type in ("text", "text_special"):
            out.append(t.content)
        elif t.type == "softbreak":
            out.append(" ")
        else:
            return None
    return "".join(out)


def _text_of(tokens: list[Token]) -> str:
    out = []
    for t in tokens:
        if t.type in ("text", "text_special", "code_inline"):
            out.append(t.content)
        elif t.type in ("softbreak", "hardbreak"):
            out.append(" ")
        elif t.type == "image" and t.children:
            out.append(_text_of(t.children))
        elif t.type == "ctk_emoticon":
            out.append(f":{t.meta['name']}:")
    return "".join(out)


def _details_open(content: str) -> str | bool | None:
    """For an HTML block ``<details>`` [``<summary>title</summary>``]: the title (None when
    there is no summary); False for any other HTML block."""
    toks = list(xhtml.tokenize(content))
    sig = [i for i, t in enumerate(toks) if not (t[0] == xhtml.TEXT and not t[3].strip())]
    if not sig:
        return False
    first = toks[sig[0]]
    if first[0] != xhtml.START or first[3] != "details" or first[4][0] or first[4][1]:
        return False
    if len(sig) == 1:
        return None
    open_s, close_s = toks[sig[1]], toks[sig[-1]]
    if (
        len(sig) < 3
        or open_s[0] != xhtml.START
        or open_s[3] != "summary"
        or open_s[4][0]
        or open_s[4][1]
        or close_s[0] != xhtml.END
        or close_s[3] != "summary"
    ):
        return False
    middle = toks[sig[1] + 1 : sig[-1]]
    if any(t[0] not in (xhtml.TEXT, xhtml.CDATA) for t in middle):
        return False
    return "".join(t[3] for t in middle)


def _details_close(content: str) -> bool:
    toks = [t for t in xhtml.tokenize(content) if not (t[0] == xhtml.TEXT and not t[3].strip())]
    return len(toks) == 1 and toks[0][0] == xhtml.END and toks[0][3] == "details"


# --------------------------------------------------------------------------------------------
# Renderer
# --------------------------------------------------------------------------------------------


class _Renderer:
    def __init__(self, writer: _Writer) -> None:
        self.w = writer
        self.task_id = 0
        self.expand_depth = 0

    # ---- blocks ------------------------------------------------------------------------------

    def blocks(self, nodes: list[_Node]) -> None:
        w = self.w
        i = 0
        n = len(nodes)
        bare_image = False  # did the previous block write a bare (block) image?
        details = self._details_pairs(nodes)
        while i < n:
            node = nodes[i]
            tok = node.tok
            assert tok is not None
            typ = tok.type
            was_bare, bare_image = bare_image, False
            if typ == "paragraph_open":
                bare_image = self.paragraph(node, not was_bare)
            elif typ == "heading_open":
                w.open(tok.tag)
                self.inline_node(node)
                w.close(tok.tag)
            elif typ in ("bullet_list_open", "ordered_list_open"):
                self.list_block(node)
            elif typ == "blockquote_open":
                self.quote(node)
            elif typ in ("fence", "code_block"):
                self.code(tok)
            elif typ == "hr":
                w.void("hr")
            elif typ == "html_block":
                if i in details and self.expand_depth < _MAX_EXPAND_DEPTH:
                    j, title = details[i]
                    self.expand_depth += 1
                    self.expand(title, nodes[i + 1 : j])
                    self.expand_depth -= 1
                    i = j + 1
                    continue
                w.raw(tok.content[:-1] if tok.content.endswith("\n") else tok.content)
            elif typ == "table_open":
                self.table(node)
            elif typ == "ctk_toc":
                self.macro("toc", tok.meta["params"])
                w.close("ac:structured-macro")
            elif typ == "inline":
                self.inline(tok.children or [])
            i += 1

    @staticmethod
    def _details_pairs(nodes: list[_Node]) -> dict[int, tuple[int, str | None]]:
        """Matching ``<details>``/``</details>`` HTML blocks among siblings (one pass)."""
        pairs: dict[int, tuple[int, str | None]] = {}
        stack: list[tuple[int, str | None]] = []
        for j, node in enumerate(nodes):
            tok = node.tok
            if tok is None or tok.type != "html_block" or "details" not in tok.content:
                continue
            title = _details_open(tok.content)
            if title is not False:
                stack.append((j, title))  # type: ignore[arg-type]
            elif stack and _details_close(tok.content):
                start, title = stack.pop()
                pairs[start] = (j, title)
        return pairs

    def paragraph(self, node: _Node, bare_ok: bool = True) -> bool:
        """Write a paragraph; True when it was written as a bare block image."""
        assert node.tok is not None
        inline = node.children[0].tok if node.children else None
        children = (inline.children or []) if inline is not None else []
        if node.tok.hidden:
            self.inline(children)
            return False
        if bare_ok and len(children) == 1 and children[0].type == "image":
            # an image alone is a block image, as Confluence writes it (two in a row would
            # read as one paragraph, so the second keeps its <p>)
            self.image(children[0])
            return True
        self.w.open("p")
        self.inline(children)
        self.w.close("p")
        return False

    def inline_node(self, node: _Node) -> None:
        if node.children and node.children[0].tok is not None:
            self.inline(node.children[0].tok.children or [])

    def macro(self, name: str, params: list[tuple[str, str]], body: str | None = None) -> None:
        w = self.w
        w.open("ac:structured-macro", [("ac:name", name), ("ac:schema-version", "1")])
        for key, value in params:
            w.open("ac:parameter", [("ac:name", key)])
            w.text(value)
            w.close("ac:parameter")
        if body is not None:
            w.open("ac:plain-text-body")
            w.cdata(body)
            w.close("ac:plain-text-body")

    def code(self, tok: Token) -> None:
        body = tok.content[:-1] if tok.content.endswith("\n") else tok.content
        if tok.type == "fence":
            name, params = _parse_info(unescapeAll(tok.info).strip())
        else:
            name, params = "code", []
        self.macro(name, params, body)
        self.w.close("ac:structured-macro")

    def expand(self, title: str | None, body: list[_Node]) -> None:
        self.macro("expand", [] if title is None else [("title", title)])
        self.w.open("ac:rich-text-body")
        self.blocks(body)
        self.w.close("ac:rich-text-body")
        self.w.close("ac:structured-macro")

    def quote(self, node: _Node) -> None:
        children = node.children
        panel = None
        if children and children[0].tok is not None and children[0].tok.type == "paragraph_open":
            inline = children[0].children[0].tok if children[0].children else None
            m = _ALERT.match(inline.content) if inline is not None else None
            if m is not None and inline is not None:
                toks = inline.children or []
                k = 0
                while k < len(toks) and toks[k].type not in ("softbreak", "hardbreak"):
                    k += 1
                head = _plain(toks[:k])
                if head is not None and head.strip().upper() == m.group(0).strip().upper():
                    panel = dialect.PANEL_OF_ALERT[m.group(1).upper()]
                    rest = toks[k + 1 :]
        if panel is None:
            self.w.open("blockquote")
            self.blocks(children)
            self.w.close("blockquote")
            return
        self.macro(panel, [])
        self.w.open("ac:rich-text-body")
        if rest:
            self.w.open("p")
            self.inline(rest)
            self.w.close("p")
        self.blocks(children[1:])
        self.w.close("ac:rich-text-body")
        self.w.close("ac:structured-macro")

    def list_block(self, node: _Node) -> None:
        tok = node.tok
        assert tok is not None
        ordered = tok.type == "ordered_list_open"
        start = 1
        if ordered:
            try:
                start = int(tok.attrGet("start") or 1)
            except (TypeError, ValueError):
                start = 1
        items = [c for c in node.children if c.tok is not None and c.tok.type == "list_item_open"]
        runs: list[tuple[bool, list[tuple[_Node, str | None]]]] = []
        for item in items:
            status = self._task_status(item)
            is_task = status is not None
            if runs and runs[-1][0] == is_task:
                runs[-1][1].append((item, status))
            else:
                runs.append((is_task, [(item, status)]))
        number = start
        for is_task, run in runs:
            if is_task:
                self.task_list(run)
            elif ordered:
                self.w.open("ol", [("start", str(number))] if number != 1 else [])
                for item, _ in run:
                    self.list_item(item)
                self.w.close("ol")
            else:
                self.w.open("ul")
                for item, _ in run:
                    self.list_item(item)
                self.w.close("ul")
            number += len(run)

    def list_item(self, item: _Node) -> None:
        self.w.open("li")
        self.blocks(item.children)
        self.w.close("li")

    def _task_status(self, item: _Node) -> str | None:
        if not item.children:
            return None
        first = item.children[0]
        if first.tok is None or first.tok.type != "paragraph_open" or not first.children:
            return None
        inline = first.children[0].tok
        if inline is None or not inline.children:
            return None
        head = inline.children[0]
        # the marker must be in the source as written, not produced by escapes (\[x\])
        m = _TASK.match(inline.content)
        if m is None or head.type != "text" or not head.content.startswith(m.group(0)[:3]):
            return None
        return "complete" if m.group(1) in "xX" else "incomplete"

    def task_list(self, run: list[tuple[_Node, str | None]]) -> None:
        w = self.w
        w.open("ac:task-list")
        for item, status in run:
            self.task_id += 1
            w.open("ac:task")
            w.open("ac:task-id")
            w.text(str(self.task_id))
            w.close("ac:task-id")
            w.open("ac:task-status")
            w.text(status or "incomplete")
            w.close("ac:task-status")
            w.open("ac:task-body")
            # drop the [ ] marker from the first paragraph
            first = item.children[0]
            inline = first.children[0].tok
            assert inline is not None
            assert inline.children
            head = inline.children[0]
            rest_text = head.content[3:].lstrip(" \t")
            children = list(inline.children[1:])
            if rest_text:
                t = Token("text", "", 0)
                t.content = rest_text
                children.insert(0, t)
            elif children and children[0].type in ("softbreak", "hardbreak"):
                children.pop(0)
            assert first.tok is not None
            if first.tok.hidden:
                self.inline(children)
            elif children:
                w.open("p")
                self.inline(children)
                w.close("p")
            nested: list[_Node] = []
            body: list[_Node] = []
            for child in item.children[1:]:
                if (
                    child.tok is not None
                    and child.tok.type == "bullet_list_open"
                    and child.children
                    and all(self._task_status(c) is not None for c in child.children)
                ):
                    nested.append(child)
                else:
                    body.append(child)
            self.blocks(body)
            w.close("ac:task-body")
            w.close("ac:task")
            for child in nested:
                self.list_block(child)
        w.close("ac:task-list")

    def table(self, node: _Node) -> None:
        rows: list[list[_Node]] = []
        header = True
        for section in node.children:
            for tr in section.children:
                rows.append([c for c in tr.children])
        if rows and all(self._cell_empty(c) for c in rows[0]):
            header = False
            rows = rows[1:]
        w = self.w
        w.open("table")
        w.open("tbody")
        for r, cells in enumerate(rows):
            w.open("tr")
            for cell in cells:
                assert cell.tok is not None
                tag = "th" if header and r == 0 else "td"
                style = str(cell.tok.attrGet("style") or "")
                align = style.partition(":")[2].strip()
                w.open(tag, [("style", f"text-align: {align};")] if align else [])
                self.inline_node(cell)
                w.close(tag)
            w.close("tr")
        w.close("tbody")
        w.close("table")

    @staticmethod
    def _cell_empty(cell: _Node) -> bool:
        if not cell.children or cell.children[0].tok is None:
            return True
        return not (cell.children[0].tok.children or [])

    # ---- inline ------------------------------------------------------------------------------

    def inline(self, tokens: list[Token]) -> None:
        w = self.w
        i = 0
        n = len(tokens)
        while i < n:
            tok = tokens[i]
            typ = tok.type
            if typ in ("text", "text_special"):
                w.text(tok.content)
            elif typ == "softbreak":
                w.text(" ")
            elif typ == "hardbreak":
                w.void("br")
            elif typ == "code_inline":
                w.open("code")
                w.text(tok.content)
                w.close("code")
            elif typ in ("strong_open", "em_open", "s_open"):
                w.open(typ[:-5] if typ != "s_open" else "s")
            elif typ in ("strong_close", "em_close", "s_close"):
                w.close(typ[:-6] if typ != "s_close" else "s")
            elif typ == "html_inline":
                w.raw(tok.content)
            elif typ == "image":
                self.image(tok)
            elif typ == "ctk_emoticon":
                w.void("ac:emoticon", [("ac:name", tok.meta["name"])])
            elif typ == "link_open":
                depth = 1
                j = i + 1
                while j < n:
                    if tokens[j].type == "link_open":
                        depth += 1
                    elif tokens[j].type == "link_close":
                        depth -= 1
                        if depth == 0:
                            break
                    j += 1
                self.link(tok, tokens[i + 1 : j])
                i = j
            i += 1

    def link(self, tok: Token, inner: list[Token]) -> None:
        w = self.w
        href = str(tok.attrGet("href") or "")
        ref = dialect.parse_url(href)
        if ref is not None and tok.markup == "autolink":
            inner = []  # <confluence-page:Title> shows what Confluence shows
        if ref is None and href.startswith("#") and len(href) > 1:
            self.ac_link([("ac:anchor", href[1:])], None, inner, href[1:])
            return
        if ref is None:
            title = tok.attrGet("title")
            attrs: list[tuple[str, Any]] = [("href", href)]
            if title is not None:
                attrs.append(("title", title))
            w.open("a", attrs)
            self.inline(inner)
            w.close("a")
            return
        link_attrs = [(k, v) for k, v in ref.query if k.startswith("ac:") and k != "ac:anchor"]
        target_attrs = [(k, v) for k, v in ref.query if k.startswith("ri:")]
        if ref.anchor is not None:
            link_attrs.insert(0, ("ac:anchor", ref.anchor))
        path = dialect.decode(ref.path)
        if ref.scheme == dialect.STATUS:
            params = []
            if path:
                params.append(("colour", path))
            title = _text_of(inner)
            if title:
                params.append(("title", title))
            params.extend((k, v) for k, v in ref.query if k not in ("colour", "title"))
            self.macro("status", params)
            w.close("ac:structured-macro")
            return
        if ref.scheme == dialect.PAGE:
            attrs = [("ri:content-title", path)]
            if ref.space is not None:
                attrs.append(("ri:space-key", ref.space))
            self.ac_link(link_attrs, ("ri:page", attrs + target_attrs, None), inner, path)
        elif ref.scheme == dialect.ATTACHMENT:
            filename, page = _attachment(ref)
            self.ac_link(
                link_attrs,
                ("ri:attachment", [("ri:filename", filename), *target_attrs], page),
                inner,
                filename,
            )
        elif ref.scheme == dialect.USER:
            self.ac_link(
                link_attrs,
                ("ri:user", [("ri:account-id", path), *target_attrs], None),
                inner,
                "@" + path,
            )
        else:
            self.ac_link(
                link_attrs, ("ri:space", [("ri:space-key", path), *target_attrs], None), inner, path
            )

    def ac_link(self, attrs: list, target: tuple | None, inner: list[Token], default: str) -> None:
        w = self.w
        w.open("ac:link", attrs)
        if target is not None:
            self.resource(target)
        plain = _plain(inner)
        if plain is not None:
            if plain and plain != default:
                w.open("ac:plain-text-link-body")
                w.cdata(plain)
                w.close("ac:plain-text-link-body")
        else:
            w.open("ac:link-body")
            self.inline(inner)
            w.close("ac:link-body")
        w.close("ac:link")

    def resource(self, target: tuple) -> None:
        name, attrs, page = target
        if page is None:
            self.w.void(name, attrs)
        else:
            self.w.open(name, attrs)
            self.w.void("ri:page", page)
            self.w.close(name)

    def image(self, tok: Token) -> None:
        src = str(tok.attrGet("src") or "")
        alt = _text_of(tok.children or [])
        title = tok.attrGet("title")
        ref = dialect.parse_url(src)
        attrs: list[tuple[str, Any]] = []
        if alt:
            attrs.append(("ac:alt", alt))
        if title is not None:
            attrs.append(("ac:title", title))
        if ref is not None and ref.scheme == dialect.ATTACHMENT:
            names = {k for k, _ in attrs}
            for k, v in ref.query:
                if k.startswith("ac:") and k not in names:
                    names.add(k)
                    attrs.append((k, v))
            filename, page = _attachment(ref)
            target_attrs = [("ri:filename", filename)]
            target_attrs += [
                (k, v) for k, v in ref.query if k.startswith("ri:") and k != "ri:filename"
            ]
            self.w.open("ac:image", attrs)
            self.resource(("ri:attachment", target_attrs, page))
            self.w.close("ac:image")
            return
        self.w.open("ac:image", attrs)
        self.w.void("ri:url", [("ri:value", src)])
        self.w.close("ac:image")
