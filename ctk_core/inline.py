"""File content a handler hands to a front end that shows it: :class:`Inline`.

A handler that may show a file (an attachment's image or text) asks ``ctx.wants_inline(media_type,
size)`` first: true only when the front end shows that kind of content and the file is within its
cap (``CTK_MCP_INLINE_MAX_BYTES`` over MCP; never on the CLI, which shows no content). Then it
fetches the bytes and puts ``Inline(media_type, data)`` as the value of one key of its result
dict. The MCP server turns that value into an image or text block beside the JSON (and the key's
value into a short note saying so); a front end that shows no content drops the key. Standard
library only: plain data, like the declarations.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

#: Image types multimodal assistants read; other images (SVG is XML text) are not shown as images.
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
#: application/* subtypes (and +suffixes) that are text.
_TEXT_SUBTYPES = frozenset({"json", "xml", "yaml", "x-yaml", "csv", "toml", "javascript"})
_TEXT_SUFFIXES = ("+json", "+xml", "+yaml")

Kind = Literal["image", "text"]


def bare_type(media_type: str | None) -> str:
    """A media type without its parameters, in lower case."""
    return (media_type or "").split(";", 1)[0].strip().lower()


def inline_kind(media_type: str | None) -> Kind | None:
    """``"image"`` (PNG, JPEG, GIF, WebP), ``"text"`` (text/*, JSON, XML, YAML, CSV...) or None
    for a media type no front end shows inline."""
    bare = bare_type(media_type)
    if bare in IMAGE_TYPES:
        return "image"
    kind, _, sub = bare.partition("/")
    if kind == "text" or (
        kind in ("application", "image") and (sub in _TEXT_SUBTYPES or sub.endswith(_TEXT_SUFFIXES))
    ):
        return "text"
    return None


@dataclass(frozen=True)
class Inline:
    """A file's bytes and media type, for a front end to show as they are (an image, a text)."""

    media_type: str
    data: bytes

    @property
    def kind(self) -> Kind | None:
        return inline_kind(self.media_type)

    def text(self) -> str | None:
        """The content as text: None unless it is a text type and valid UTF-8."""
        if self.kind != "text":
            return None
        try:
            return self.data.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def __repr__(self) -> str:  # never the bytes
        return f"Inline({self.media_type!r}, {len(self.data)} bytes)"


def split_inline(result: Any) -> tuple[Any, dict[str, Inline]]:
    """``result`` without its :class:`Inline` values (top-level keys of a dict), and those
    values by key. Any other result comes back as it is, with none."""
    if not isinstance(result, Mapping):
        return result, {}
    found = {k: v for k, v in result.items() if isinstance(v, Inline)}
    if not found:
        return result, {}
    return {k: v for k, v in result.items() if k not in found}, found


__all__ = ["IMAGE_TYPES", "Inline", "inline_kind", "split_inline"]
