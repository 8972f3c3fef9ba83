"""Block Markdown tokens to storage: paragraphs, headings, lists and task lists, quotes and
alerts (panels), code, ``<details>`` (expand), tables, ``[TOC]`` and raw storage blocks."""

from __future__ import annotations

import re

from markdown_it.common.utils import unescapeAll
from markdown_it.token import Token

from ctk_core.convert import dialect, xhtml
from ctk_core.convert.markdown_parser import Node
from ctk_core.convert.storage_inline import InlineRenderer, plain_text
from ctk_core.convert.storage_writer import Writer

__all__ = ["BlockRenderer"]

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


class BlockRenderer(InlineRenderer):
    """Writes the block tree of a Markdown document through a ``Writer``."""

    def __init__(self, writer: Writer) -> None:
        super().__init__(writer)
        self.task_id = 0
        self.expand_depth = 0

    def blocks(self, nodes: list[Node]) -> None:
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
    def _details_pairs(nodes: list[Node]) -> dict[int, tuple[int, str | None]]:
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

    def paragraph(self, node: Node, bare_ok: bool = True) -> bool:
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

    def inline_node(self, node: Node) -> None:
        if node.children and node.children[0].tok is not None:
            self.inline(node.children[0].tok.children or [])

    def code(self, tok: Token) -> None:
        body = tok.content[:-1] if tok.content.endswith("\n") else tok.content
        if tok.type == "fence":
            name, params = _parse_info(unescapeAll(tok.info).strip())
        else:
            name, params = "code", []
        self.macro(name, params, body)
        self.w.close("ac:structured-macro")

    def expand(self, title: str | None, body: list[Node]) -> None:
        self.macro("expand", [] if title is None else [("title", title)])
        self.w.open("ac:rich-text-body")
        self.blocks(body)
        self.w.close("ac:rich-text-body")
        self.w.close("ac:structured-macro")

    def quote(self, node: Node) -> None:
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
                head = plain_text(toks[:k])
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

    def list_block(self, node: Node) -> None:
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
        runs: list[tuple[bool, list[tuple[Node, str | None]]]] = []
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

    def list_item(self, item: Node) -> None:
        self.w.open("li")
        self.blocks(item.children)
        self.w.close("li")

    def _task_status(self, item: Node) -> str | None:
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

    def task_list(self, run: list[tuple[Node, str | None]]) -> None:
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
            nested: list[Node] = []
            body: list[Node] = []
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

    def table(self, node: Node) -> None:
        rows: list[list[Node]] = []
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
    def _cell_empty(cell: Node) -> bool:
        if not cell.children or cell.children[0].tok is None:
            return True
        return not (cell.children[0].tok.children or [])
