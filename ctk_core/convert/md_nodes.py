"""Reading the storage tree on the way to Markdown: whitespace, which children of a container
are blocks and which are inline, and a macro's text parameters and rich-text body."""

from __future__ import annotations

from ctk_core.convert import dialect, xhtml
from ctk_core.convert.xhtml import CData, Comment, Element, Node, Text

__all__ = [
    "BLOCK",
    "MAX_DEPTH",
    "all_blocks",
    "classify",
    "is_space",
    "macro_parts",
    "param_text",
    "partition",
]

#: Containers (lists, quotes, panels, layouts...) nested deeper than this stay raw storage.
MAX_DEPTH = 24

# Classification of children of a block container
BLOCK, INLINE, SPACE, EITHER = range(4)
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


def is_space(node: Node) -> bool:
    return isinstance(node, Text) and not node.data.strip(" \t\n\f")


def param_text(el: Element) -> str | None:
    """The text of an ``ac:parameter`` when it holds text only."""
    for child in el.children:
        if not isinstance(child, (Text, CData)):
            return None
    return xhtml.text_content(el)


def _expand_undeclared(nodes: list[Node]) -> list[Node]:
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


def classify(node: Node) -> int:
    if isinstance(node, Text):
        return SPACE if not node.data.strip(" \t\n\f") else INLINE
    if isinstance(node, CData):
        return INLINE
    if isinstance(node, Comment):
        return EITHER
    assert isinstance(node, Element)
    key = node.key
    if ":" not in key:
        return INLINE if key in dialect.INLINE_HTML else BLOCK
    if key in ("ac:structured-macro", "ac:macro"):
        name = (node.get("ac:name") or "").lower()
        if name in _BLOCK_MACROS:
            return BLOCK
        if name in _INLINE_MACROS:
            return INLINE
        return EITHER
    if key in _BLOCK_PREFIXED:
        return BLOCK
    if key in _INLINE_PREFIXED:
        return INLINE
    return EITHER  # unknown macros and elements


def partition(nodes: list[Node]) -> list[tuple[bool, list[Node]]]:
    """Split container children into (is_block, nodes) groups."""
    nodes = _expand_undeclared(nodes)
    kinds = [classify(n) for n in nodes]
    n = len(nodes)
    # an ambiguous node (unknown macro, comment) is inline when next to inline content
    prev_kind = [SPACE] * n
    last = SPACE
    for i in range(n):
        prev_kind[i] = last
        if kinds[i] != SPACE:
            last = kinds[i]
    last = SPACE
    for i in range(n - 1, -1, -1):
        if kinds[i] == EITHER:
            kinds[i] = INLINE if INLINE in (prev_kind[i], last) else BLOCK
        if kinds[i] != SPACE:
            last = kinds[i]
    groups: list[tuple[bool, list[Node]]] = []
    run: list[Node] = []
    for node, kind in zip(nodes, kinds, strict=True):
        if kind == BLOCK:
            if run:
                groups.append((False, run))
                run = []
            groups.append((True, [node]))
        else:
            run.append(node)
    if run:
        groups.append((False, run))
    return groups


def all_blocks(nodes: list[Node], runs_ok: bool = False) -> bool:
    """Whether nodes are block content (or, with runs_ok, inline runs read as paragraphs,
    as in Confluence's own containers)."""
    groups = partition(nodes)
    if not groups:
        return False
    if runs_ok:
        return any(is_block or not all(is_space(n) for n in group) for is_block, group in groups)
    for is_block, group in groups:
        if not is_block and not all(is_space(n) for n in group):
            return False
    return True


def macro_parts(el: Element) -> tuple[dict[str, str], Element | None] | None:
    """Text parameters and the rich-text body of a macro, or None if it holds more."""
    params: dict[str, str] = {}
    body = None
    for child in el.children:
        if is_space(child):
            continue
        if not isinstance(child, Element):
            return None
        if child.key == "ac:parameter" and body is None:
            pname = child.get("ac:name")
            value = param_text(child)
            if pname is None or value is None or len(child.attrs) != 1 or pname in params:
                return None
            params[pname] = value
        elif child.key == "ac:rich-text-body" and body is None and not child.attrs:
            body = child
        else:
            return None
    return params, body
