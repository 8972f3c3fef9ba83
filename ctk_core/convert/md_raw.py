"""Raw storage inside the Markdown: source spans copied byte for byte where they are
well-formed and fit where they go (xhtml.serialize), and the tags of elements written around
Markdown content."""

from __future__ import annotations

from collections.abc import Mapping

from ctk_core.convert import xhtml
from ctk_core.convert.xhtml import Element, Node

__all__ = ["RawStorage"]


class RawStorage:
    """The storage source being converted, and raw markup taken from it; ``names`` maps
    account ids to the display names mentions show."""

    def __init__(self, src: str, names: Mapping[str, str] | None = None) -> None:
        self.src = src
        self.newlines = xhtml.NewlineIndex(src)
        self.names: Mapping[str, str] = names or {}

    def raw(self, node: Node | list[Node], mode: str) -> str:
        return xhtml.serialize(node, self.src, mode, self.newlines)

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
