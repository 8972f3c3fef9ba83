"""Markdown (the ctk dialect, docs/markdown.md) to Confluence storage format.

Markdown is parsed by markdown-it-py with ctk's rules (markdown_parser); the token tree is
rendered block by block (storage_blocks, storage_inline) through the ``Writer``
(storage_writer), which keeps the output well-formed XML whatever raw markup the Markdown
holds.
"""

from __future__ import annotations

from ctk_core.convert import xhtml
from ctk_core.convert.markdown_parser import parser, tree
from ctk_core.convert.storage_blocks import BlockRenderer
from ctk_core.convert.storage_writer import Writer

__all__ = ["markdown_to_storage"]


def markdown_to_storage(markdown: str) -> str:
    """Convert Markdown to Confluence storage format. The result is always well-formed XML
    (once wrapped in an element declaring the ``ac`` and ``ri`` namespaces)."""
    if not isinstance(markdown, str):
        raise TypeError("markdown_to_storage expects a str")
    with xhtml.no_gc():
        nodes = tree(parser().parse(xhtml.clean_chars(markdown), {})).children
        writer = Writer()
        BlockRenderer(writer).blocks(nodes)
        return xhtml.clean_chars(writer.finish())
