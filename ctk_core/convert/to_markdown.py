"""Confluence storage format to Markdown, in the ctk dialect (docs/markdown.md).

The storage is parsed into a tree (ctk_core.convert.xhtml) and rendered block by block
(md_blocks), each run of inline content as one paragraph (md_inline). What Markdown can say is
converted; everything else (unknown macros, layouts, attributes Markdown has no syntax for) is
written as raw storage markup (md_raw) that ``markdown_to_storage`` emits unchanged. The
output is the *canonical* Markdown: converting it to storage and back gives it again.

Block containers nested deeper than ``MAX_DEPTH`` stay raw storage; inline content is flattened
iteratively, so no input can exhaust the recursion limit.
"""

from __future__ import annotations

from collections.abc import Mapping

from ctk_core.convert import xhtml
from ctk_core.convert.md_blocks import Converter, join_blocks
from ctk_core.convert.md_nodes import MAX_DEPTH

__all__ = ["MAX_DEPTH", "storage_to_markdown"]


def storage_to_markdown(xhtml_text: str, names: Mapping[str, str] | None = None) -> str:
    """Convert Confluence storage format (XHTML) to Markdown. Never raises on bad input.

    ``names`` maps account ids to display names: a mention of a known id reads
    ``[@Display Name](confluence-user:<id>)`` instead of ``[@<id>](...)``."""
    if not isinstance(xhtml_text, str):
        raise TypeError("storage_to_markdown expects a str")
    with xhtml.no_gc():
        src = xhtml.clean_chars(xhtml_text)
        root = xhtml.parse(src)
        text = join_blocks(Converter(src, names).blocks(root.children, 0))
    return text + "\n" if text else ""
