"""The YAML front matter that starts every exported file.

``render(meta, body)`` writes ``---``, the fields in :data:`FIELDS` order (then any others in
the order given), ``---``, a blank line and the body; ``parse(text)`` reads it back. Values are
written with PyYAML's ``safe_dump`` and read with ``safe_load``: plain data only, no tags.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ctk_core.errors import UsageError, shown_path

__all__ = ["FIELDS", "parse", "render"]

#: The fields of an exported page, in the order they are written.
FIELDS = (
    "id",
    "title",
    "space",
    "parent_id",
    "version",
    "labels",
    "author",
    "last_modified",
    "url",
)
_FENCE = "---"


def render(meta: Mapping[str, Any], body: str) -> str:
    """Front matter plus body; the fields of :data:`FIELDS` first, in that order."""
    import yaml

    ordered = {k: meta[k] for k in FIELDS if k in meta}
    ordered.update((k, v) for k, v in meta.items() if k not in ordered)
    text = yaml.safe_dump(
        ordered, sort_keys=False, allow_unicode=True, default_flow_style=False, width=4096
    )
    body = body.rstrip("\n")
    return f"{_FENCE}\n{text}{_FENCE}\n" + (f"\n{body}\n" if body else "")


def parse(text: str, where: str = "the file") -> tuple[dict[str, Any], str]:
    """``(front matter, body)``; a text without front matter is ``({}, text)``.

    Front matter that is not YAML, or not a mapping, is a :class:`UsageError` naming ``where``.
    """
    import yaml

    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip("\r\n") != _FENCE:
        return {}, text
    for n, line in enumerate(lines[1:], start=1):
        if line.rstrip("\r\n") in (_FENCE, "..."):
            head = "".join(lines[1:n])
            body = "".join(lines[n + 1 :])
            break
    else:
        raise UsageError(f"{shown_path(where)}: front matter opened by '---' is never closed")
    try:
        meta = yaml.safe_load(head) if head.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 2})" if mark is not None else ""
        raise UsageError(f"{shown_path(where)}: front matter is not valid YAML{at}") from None
    if not isinstance(meta, dict):
        raise UsageError(f"{shown_path(where)}: front matter must be a mapping of fields")
    if body.startswith("\r\n"):
        body = body[2:]
    elif body.startswith("\n"):
        body = body[1:]
    return {str(k): v for k, v in meta.items()}, body
