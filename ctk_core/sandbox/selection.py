"""Inline-comment selections: find text in a storage body the way a reader sees the page, and
wrap one occurrence in an ``<ac:inline-comment-marker>``.

The page text is split into blocks (paragraphs, headings, list items, cells, code bodies...);
a selection never spans two blocks. Inside a block, runs of white space count as one space.
Macro parameters and task metadata are not visible text. Occurrences do not overlap.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"<!\[CDATA\[(?P<cdata>.*?)\]\]>|<!--.*?-->|<(?P<close>/?)"
    r"(?P<name>[A-Za-z][\w:.-]*)[^>]*?(?P<self>/?)>",
    re.S,
)
BLOCKS = frozenset(
    {
        "p",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "li",
        "td",
        "th",
        "tr",
        "br",
        "div",
        "pre",
        "blockquote",
        "table",
        "ul",
        "ol",
        "hr",
        "ac:task",
        "ac:task-body",
        "ac:layout-cell",
        "ac:structured-macro",
        "ac:rich-text-body",
        "ac:plain-text-body",
        "ac:image",
    }
)
HIDDEN = frozenset({"ac:parameter", "ac:task-id", "ac:task-status", "ac:task-uuid"})


@dataclass
class Run:
    """A stretch of visible text: where it sits in the storage and what it reads."""

    start: int
    end: int
    text: str  # unescaped
    block: int
    markable: bool  # False inside CDATA (a marker cannot go there)


def runs(storage: str) -> list[Run]:
    out: list[Run] = []
    block = 0
    hidden = 0
    pos = 0

    def text_until(end: int) -> None:
        if end > pos and not hidden:
            out.append(Run(pos, end, html.unescape(storage[pos:end]), block, True))

    for m in _TOKEN.finditer(storage):
        text_until(m.start())
        pos = m.end()
        if m.group("cdata") is not None:
            block += 1
            if not hidden:
                out.append(Run(m.start(), m.end(), m.group("cdata"), block, False))
            block += 1
            continue
        name = (m.group("name") or "").lower()
        if name in HIDDEN and not m.group("self"):
            hidden = max(0, hidden - 1) if m.group("close") else hidden + 1
        if name in BLOCKS:
            block += 1
    text_until(len(storage))
    return out


def squash(text: str) -> str:
    return " ".join(text.split())


@dataclass
class _Line:
    text: str  # squashed
    origin: list[tuple[int, int]]  # per character: (run index, offset in the run's text)


def _lines(all_runs: list[Run]) -> list[_Line]:
    lines: list[_Line] = []
    current: list[tuple[str, tuple[int, int]]] = []
    last_block = None
    for index, run in enumerate(all_runs):
        if run.block != last_block and current:
            lines.append(_squash_line(current))
            current = []
        last_block = run.block
        current.extend((ch, (index, offset)) for offset, ch in enumerate(run.text))
    if current:
        lines.append(_squash_line(current))
    return lines


def _squash_line(chars: list[tuple[str, tuple[int, int]]]) -> _Line:
    text: list[str] = []
    origin: list[tuple[int, int]] = []
    pending_space: tuple[int, int] | None = None
    for ch, where in chars:
        if ch.isspace():
            if text and pending_space is None:
                pending_space = where
            continue
        if pending_space is not None:
            text.append(" ")
            origin.append(pending_space)
            pending_space = None
        text.append(ch)
        origin.append(where)
    return _Line("".join(text), origin)


def _find_all(text: str, needle: str) -> list[int]:
    found, start = [], text.find(needle)
    while start != -1:
        found.append(start)
        start = text.find(needle, start + len(needle))
    return found


def count(storage: str, selection: str) -> int:
    wanted = squash(selection)
    if not wanted:
        return 0
    return sum(len(_find_all(line.text, wanted)) for line in _lines(runs(storage)))


def mark(storage: str, selection: str, index: int, ref: str) -> tuple[str, int]:
    """Wrap occurrence ``index`` of ``selection`` in a marker with ``ref``.

    Returns (new storage, number of occurrences). The storage is unchanged when the index is
    out of range, or when the occurrence crosses markup or sits in a code body (Confluence
    then keeps the comment without a highlight).
    """
    wanted = squash(selection)
    all_runs = runs(storage)
    hits = (
        [(line, at) for line in _lines(all_runs) for at in _find_all(line.text, wanted)]
        if wanted
        else []
    )
    if index >= len(hits):
        return storage, len(hits)
    line, at = hits[index]
    (first_run, first_off) = line.origin[at]
    (last_run, last_off) = line.origin[at + len(wanted) - 1]
    run = all_runs[first_run]
    if first_run != last_run or not run.markable:
        return storage, len(hits)
    before, chosen, after = (
        run.text[:first_off],
        run.text[first_off : last_off + 1],
        run.text[last_off + 1 :],
    )
    marked = (
        html.escape(before, quote=False)
        + f'<ac:inline-comment-marker ac:ref="{ref}">'
        + html.escape(chosen, quote=False)
        + "</ac:inline-comment-marker>"
        + html.escape(after, quote=False)
    )
    return storage[: run.start] + marked + storage[run.end :], len(hits)


def unmark(storage: str, ref: str) -> str:
    """Remove the marker with this ref, keeping its text."""
    pattern = re.compile(
        r'<ac:inline-comment-marker ac:ref="' + re.escape(ref) + r'">(.*?)'
        r"</ac:inline-comment-marker>",
        re.S,
    )
    return pattern.sub(lambda m: m.group(1), storage)
