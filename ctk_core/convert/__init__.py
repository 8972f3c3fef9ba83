"""Confluence storage format <-> Markdown, both ways, without losing content.

    from ctk_core.convert import markdown_to_storage, storage_to_markdown

``storage_to_markdown(xhtml)`` reads a page body (storage format) and returns Markdown in the
ctk dialect (docs/markdown.md); ``markdown_to_storage(md)`` goes the other way and always
returns well-formed XHTML. Unknown storage markup survives the trip unchanged.
``semantic_diff``/``semantically_equal`` (ctk_core.convert.compare) tell whether two storage
documents say the same thing.

Importing this package is cheap: the converters (and markdown-it) load on first use.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["markdown_to_storage", "semantic_diff", "semantically_equal", "storage_to_markdown"]


def storage_to_markdown(xhtml: str, names: Mapping[str, str] | None = None) -> str:
    """Convert Confluence storage format (XHTML) to Markdown; ``names`` (account id -> display
    name) lets mentions show who they are: ``[@Priya Natarajan](confluence-user:<id>)``."""
    from ctk_core.convert.to_markdown import storage_to_markdown as convert

    return convert(xhtml, names)


def markdown_to_storage(markdown: str) -> str:
    """Convert Markdown to Confluence storage format (always well-formed XHTML)."""
    from ctk_core.convert.to_storage import markdown_to_storage as convert

    return convert(markdown)


def semantic_diff(a: str, b: str) -> str | None:
    """None when two storage documents are semantically equal, else the first difference."""
    from ctk_core.convert.compare import semantic_diff as diff

    return diff(a, b)


def semantically_equal(a: str, b: str) -> bool:
    """Whether two storage documents are semantically equal (see compare.py)."""
    return semantic_diff(a, b) is None
