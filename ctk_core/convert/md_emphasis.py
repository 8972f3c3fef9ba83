"""Emphasis delimiters in the Markdown ``storage_to_markdown`` writes.

``**``, ``_`` and ``~~`` are first written as :class:`Delim` placeholders; once a paragraph is
complete, :func:`resolve_delims` checks each pair against CommonMark's flanking rules (with
markdown-it's own character classes) and writes the ones markdown-it would not recognise where
they stand as ``<strong>``/``<em>``/``<s>`` inline HTML instead.
"""

from __future__ import annotations

from markdown_it.common.utils import isMdAsciiPunct, isPunctChar, isWhiteSpace

__all__ = ["DELIMS", "Delim", "last_char", "resolve_delims"]

DELIMS = {
    "strong": ("**", "<strong>", "</strong>"),
    "em": ("_", "<em>", "</em>"),
    "s": ("~~", "<s>", "</s>"),
}


def _is_ws(ch: str) -> bool:
    return isWhiteSpace(ord(ch))


def _is_punct(ch: str) -> bool:
    return isMdAsciiPunct(ord(ch)) or isPunctChar(ch)


def _left_flanking(prev: str, nxt: str) -> bool:
    return not (_is_ws(nxt) or (_is_punct(nxt) and not (_is_ws(prev) or _is_punct(prev))))


def _right_flanking(prev: str, nxt: str) -> bool:
    return not (_is_ws(prev) or (_is_punct(prev) and not (_is_ws(nxt) or _is_punct(nxt))))


class Delim:
    __slots__ = ("html", "index", "is_open", "kind", "mark", "partner")

    def __init__(self, kind: str, is_open: bool, index: int) -> None:
        self.kind = kind
        self.mark = DELIMS[kind][0]
        self.is_open = is_open
        self.partner: Delim | None = None
        self.index = index
        self.html = False


def _first_char(x: str | Delim) -> str:
    return x.mark[0] if isinstance(x, Delim) else x[0]


def last_char(x: str | Delim) -> str:
    return x.mark[0] if isinstance(x, Delim) else x[-1]


def resolve_delims(out: list, delims: bool = True) -> str:
    if not delims:
        return _join_parts(out)
    n = len(out)
    enclosing: list[Delim] = []  # open delimiters around the current position
    for i, x in enumerate(out):
        if not isinstance(x, Delim):
            continue
        if not x.is_open:
            enclosing.pop()
            continue
        close = x.partner
        assert close is not None
        j = close.index
        mark = x.mark[0]
        p = last_char(out[i - 1]) if i > 0 else " "
        q = _first_char(out[i + 1])
        r = last_char(out[j - 1])
        s = _first_char(out[j + 1]) if j + 1 < n else " "
        # an inner run of the same character could close the outer one early
        ok = mark not in (p, q, r, s) and not any(
            e.mark[0] == mark and not e.html for e in enclosing
        )
        if ok:
            lf, rf = _left_flanking(p, q), _right_flanking(p, q)
            can_open = lf and (mark != "_" or not rf or _is_punct(p))
            lf2, rf2 = _left_flanking(r, s), _right_flanking(r, s)
            can_close = rf2 and (mark != "_" or not lf2 or _is_punct(s))
            ok = can_open and can_close
        if not ok:
            x.html = close.html = True
        enclosing.append(x)
    parts = []
    for x in out:
        if isinstance(x, Delim):
            tags = DELIMS[x.kind]
            parts.append((tags[1] if x.is_open else tags[2]) if x.html else x.mark)
        else:
            parts.append(x)
    return _join_parts(parts)


def _join_parts(parts: list[str]) -> str:
    for k in range(len(parts) - 1):
        # "!" before a link would make it an image
        if parts[k].endswith("!") and parts[k + 1].startswith("["):
            part = parts[k]
            slashes = len(part) - 1 - len(part[:-1].rstrip("\\"))
            if slashes % 2 == 0:
                parts[k] = part[:-1] + "\\!"
    return "".join(parts)
