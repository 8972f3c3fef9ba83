"""Block content to Markdown: the converter of containers (the page body, list items, quotes,
panels, layouts...) into Markdown blocks.

Block containers nested deeper than ``MAX_DEPTH`` stay raw storage; inline content is handed
to ``md_inline``.
"""

from __future__ import annotations

import re

from ctk_core.convert import dialect, xhtml
from ctk_core.convert.md_escape import INFO_BARE, code_fence, info_value, starts_html_block
from ctk_core.convert.md_inline import Inline
from ctk_core.convert.md_nodes import (
    BLOCK,
    MAX_DEPTH,
    all_blocks,
    classify,
    is_space,
    macro_parts,
    param_text,
    partition,
)
from ctk_core.convert.md_raw import RawStorage
from ctk_core.convert.xhtml import CData, Element, Node, Text

__all__ = ["Block", "Converter", "join_blocks"]

_PARAM_NAME = re.compile(r"[A-Za-z_][\w.\-]*\Z")
_TEXT_ALIGN = re.compile(r"\s*text-align:\s*(left|center|right)\s*;?\s*\Z", re.IGNORECASE)
# Storage elements written as raw tags around Markdown content
_WRAPPERS = frozenset({"ac:layout", "ac:layout-section", "ac:layout-cell", "ac:rich-text-body"})


class Block:
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


def join_blocks(blocks: list[Block], in_item: bool = False) -> str:
    out: list[str] = []
    prev: Block | None = None
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


class Converter(RawStorage):
    """Converts the children of a container into Markdown blocks, recursively (``depth``
    counts the containers around them)."""

    def raw_block(self, node: Node | list[Node]) -> Block:
        return Block(self.raw(node, "block"), "other")

    # ---- block level -------------------------------------------------------------------------

    def blocks(self, nodes: list[Node], depth: int) -> list[Block]:
        out: list[Block] = []
        for is_block, group in partition(nodes):
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

    def inline_run(self, nodes: list[Node], depth: int) -> Block | None:
        start, end = 0, len(nodes)
        while start < end and is_space(nodes[start]):
            start += 1
        while end > start and is_space(nodes[end - 1]):
            end -= 1
        nodes = nodes[start:end]
        if not nodes:
            return None
        md = self.inline(nodes, depth, "block")
        if not md:
            if all(isinstance(n, Element) and n.key == "ac:placeholder" for n in nodes):
                return None
            return Block("<p>" + self.raw(nodes, "block") + "</p>", "other")
        if starts_html_block(md):
            return Block("<p>" + self.raw(nodes, "block") + "</p>", "other")
        return Block(md, "para")

    def block(self, el: Element, depth: int, prev: Block | None):
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
            return Block(_quote(join_blocks(self.blocks(el.children, depth + 1))), "other")
        if key == "hr":
            if el.attrs or el.children:
                return self.raw_block(el)
            return Block("---", "other")
        if key == "table":
            return self.table(el, depth) or self.raw_block(el)
        if key == "pre":
            return self.pre(el) or self.raw_block(el)
        if key == "ac:structured-macro":
            return self.macro(el, depth)
        if key == "ac:task-list":
            return self.task_list(el, depth, prev) or self.raw_block(el)
        return self.wrapper(el, depth)

    def paragraph(self, el: Element, depth: int) -> Block | None:
        if el.attrs:
            return self.raw_block(el)
        md = self.inline(el.children, depth, "block")
        if (
            not md
            and el.children
            and all(
                is_space(n) or (isinstance(n, Element) and n.key == "ac:placeholder")
                for n in el.children
            )
            and not all(is_space(n) for n in el.children)
        ):
            return None  # a paragraph holding only an editor placeholder
        if not md or starts_html_block(md):
            return self.raw_block(el)
        return Block(md, "para")

    def heading(self, el: Element, depth: int) -> Block:
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
        return Block(f"{hashes} {md}" if md else hashes, "other")

    def list_block(self, el: Element, depth: int, prev: Block | None) -> Block:
        ordered = el.key == "ol"
        start = 1
        for name, value in el.attrs:
            if ordered and name == "start" and value.isdigit() and len(value) <= 9:
                start = int(value)
            else:
                return self.raw_block(el)
        items: list[Element] = []
        for child in el.children:
            if is_space(child):
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
            body = join_blocks(self.blocks(li.children, depth + 1), in_item=True)
            lines.append(_item(marker, body))
        first_line = lines[0].split("\n", 1)[0]  # "-" alone: an empty first item
        return Block("\n".join(lines), "list", list_kind, alt, start == 1 and " " in first_line)

    def task_list(self, el: Element, depth: int, prev: Block | None) -> Block | None:
        if el.attrs:
            return None
        alt = (
            prev is not None and prev.kind == "list" and prev.list_kind == "bullet" and not prev.alt
        )
        marker = "*" if alt else "-"
        items: list[tuple[str, list[Block]]] = []
        for child in el.children:
            if is_space(child):
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
                if is_space(part):
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
            body_text = join_blocks(blocks, in_item=True)
            lines.append(_item(marker, box + (" " + body_text if body_text else "")))
        return Block("\n".join(lines), "list", "bullet", alt, True)

    # ---- tables ------------------------------------------------------------------------------

    def table(self, el: Element, depth: int) -> Block | None:
        rows: list[Element] = []
        stack = list(reversed(el.children))
        while stack:
            child = stack.pop()
            if is_space(child):
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
                if is_space(cell):
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
        return Block("\n".join(lines), "other")

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
        solid = [n for n in content if not is_space(n)]
        if len(solid) == 1 and isinstance(solid[0], Element) and solid[0].key == "p":
            if solid[0].attrs:
                return None
            content = solid[0].children
        for n in content:
            if classify(n) == BLOCK:
                return None
        md = self.inline(content, depth + 1, "cell")
        if "\n" in md:
            return None
        return md.replace("|", "\\|"), align

    # ---- code --------------------------------------------------------------------------------

    def pre(self, el: Element) -> Block | None:
        if el.attrs or any(not isinstance(c, (Text, CData)) for c in el.children):
            return None
        return Block(code_fence(xhtml.text_content(el), ""), "other")

    def code_macro(self, el: Element, name: str) -> Block | None:
        params: list[tuple[str, str]] = []
        body = None
        for child in el.children:
            if is_space(child):
                continue
            if not isinstance(child, Element) or (child.attrs and child.key != "ac:parameter"):
                return None
            if child.key == "ac:parameter" and body is None:
                pname = child.get("ac:name")
                value = param_text(child)
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
                    and INFO_BARE.match(value)
                    and value != "noformat"
                    and "=" not in value
                ):
                    parts.append(value)
                    params = params[:i] + params[i + 1 :]
                    break
        for pname, value in params:
            encoded = info_value(value)
            if encoded is None or not _PARAM_NAME.match(pname):
                return None
            parts.append(f"{pname}={encoded}")
        return Block(code_fence(body or "", " ".join(parts)), "other")

    # ---- macros ------------------------------------------------------------------------------

    def macro(self, el: Element, depth: int):
        name = (el.get("ac:name") or "").lower()
        if all(k in dialect.IGNORED_MACRO_ATTRS for k, _ in el.attrs):
            result: Block | list[Block] | None = None
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

    def alert(self, el: Element, name: str, depth: int) -> Block | None:
        parts = macro_parts(el)
        if parts is None or parts[0] or parts[1] is None:
            return None
        blocks = self.blocks(parts[1].children, depth + 1)
        head = f"[!{dialect.ALERT_OF_PANEL[name]}]"
        text = join_blocks(blocks)
        if text:
            text = head + ("\n" if blocks[0].kind == "para" else "\n\n") + text
        else:
            text = head
        return Block(_quote(text), "other")

    def expand(self, el: Element, depth: int) -> list[Block] | None:
        parts = macro_parts(el)
        if parts is None or parts[1] is None or set(parts[0]) - {"title"}:
            return None
        params, body = parts
        assert body is not None
        head = "<details>"
        if "title" in params:
            title = xhtml.escape_text(params["title"]).replace("\n", "&#10;")
            head += f"\n<summary>{title}</summary>"
        return [
            Block(head, "other"),
            *self.blocks(body.children, depth + 1),
            Block("</details>", "other"),
        ]

    def toc(self, el: Element) -> Block | None:
        parts = macro_parts(el)
        if parts is None or parts[1] is not None:
            return None
        words = ["[TOC"]
        for pname, value in parts[0].items():
            if not _PARAM_NAME.match(pname):
                return None
            if INFO_BARE.match(value):
                words.append(f"{pname}={value}")
            elif '"' not in value and "]" not in value and "\n" not in value:
                words.append(f'{pname}="{value}"')
            else:
                return None
        return Block(" ".join(words) + "]", "other")

    def macro_wrapper(self, el: Element, depth: int):
        """An unknown macro: raw storage, with its rich-text body as Markdown when possible."""
        body = None
        for child in el.children:
            if isinstance(child, Element) and child.key == "ac:rich-text-body":
                if body is not None:
                    return self.raw_block(el)
                body = child
            elif body is not None and not is_space(child):
                return self.raw_block(el)
        if (
            body is None
            or body.attrs
            or not el.stag_clean
            or not body.stag_clean
            or not all_blocks(body.children, runs_ok=True)
        ):
            return self.raw_block(el)
        i = el.children.index(body)
        head = self.open_tag(el) + self.raw(el.children[:i], "block") + self.open_tag(body)
        tail = self.close_tag(body) + self.raw(el.children[i + 1 :], "block") + self.close_tag(el)
        if "\n" in head or "\n" in tail:
            return self.raw_block(el)
        return [
            Block(head, "other"),
            *self.blocks(body.children, depth + 1),
            Block(tail, "other"),
        ]

    def wrapper(self, el: Element, depth: int):
        """Any other block element: raw tags around Markdown content (layouts, ``<div>``...)
        when it holds blocks only, else raw as a whole."""
        if (
            el.void
            or not el.stag_clean
            or (":" in el.key and el.key not in _WRAPPERS)
            or el.key == "details"
            or not all_blocks(el.children, runs_ok=":" in el.key)
        ):
            return self.raw_block(el)
        return [
            Block(self.open_tag(el), "frag"),
            *self.blocks(el.children, depth + 1),
            Block(self.close_tag(el), "frag"),
        ]

    # ---- inline ------------------------------------------------------------------------------

    def inline(self, nodes: list[Node], depth: int, mode: str) -> str:
        return Inline(self, depth, mode).render(nodes)


def _row(cells: list[str]) -> str:
    return "|" + "|".join(f" {c} " if c else " " for c in cells) + "|"


def _item(marker: str, body: str) -> str:
    if not body:
        return marker
    if marker == "-" and (body == "---" or body.startswith("---\n")):
        body = "***" + body[3:]
    return _indent(body, marker + " ", " " * (len(marker) + 1))
