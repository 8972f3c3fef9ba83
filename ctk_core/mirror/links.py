"""Links in the exported Markdown: Confluence targets <-> relative paths.

On export (:func:`to_relative`), the converter's ``confluence-page:`` and
``confluence-attachment:`` targets (docs/markdown.md, Links and Images) become relative paths:
to the file of another exported page, to an attachment in an ``.assets`` folder. A query
(``?ac:width=400``) and an anchor (``#Section``) are kept after the path, so nothing the link
said is lost. A target outside the export becomes an absolute URL on the site:
``<site>/wiki/display/<SPACE>/<Title>`` for a page, ``<site>/wiki/download/attachments/<page
id>/<file>`` for an attachment of a known page.

On push, :func:`to_confluence` is the inverse: a relative path to a file or asset of the
export becomes ``confluence-page:<Title>`` or ``confluence-attachment:[<Page title>/]<file>``
again (without a space key, so that a folder pushed into another space links within it).
Only Markdown link and image destinations are touched, never code blocks or code spans.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

from ctk_core.convert import dialect

__all__ = [
    "LinkIndex",
    "map_destinations",
    "relative_of",
    "target_of",
    "to_confluence",
    "to_relative",
]

_SAFE_PATH = "/-._~!$&'*+,;=@"
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_AUTOLINK = re.compile(r"<((?:confluence-page|confluence-attachment):[^\s<>]*)>")


@dataclass
class LinkIndex:
    """What the export holds, for both directions.

    ``space``: the export's space key; ``site``: the site's web address (no ``/wiki``);
    ``pages``: page id -> (title, file); ``attachments``: (page id, attachment title) -> file.
    """

    space: str
    site: str
    pages: dict[str, tuple[str, str]] = field(default_factory=dict)
    attachments: dict[tuple[str, str], str] = field(default_factory=dict)
    known: dict[str, str] = field(default_factory=dict)  # titles of pages outside: title -> id

    def __post_init__(self) -> None:
        self._by_title: dict[str, str] = {}
        self._by_file: dict[str, str] = {}
        self._by_asset: dict[str, tuple[str, str]] = {}
        self.reindex()

    def reindex(self) -> None:
        """Recompute the lookups after changing ``pages`` or ``attachments``."""
        self._by_title = {title: pid for pid, (title, _f) in self.pages.items()}
        self._by_file = {f: pid for pid, (_t, f) in self.pages.items()}
        self._by_asset = {f: key for key, f in self.attachments.items()}

    def page_by_title(self, title: str) -> str | None:
        return self._by_title.get(title)

    def page_by_file(self, file: str) -> str | None:
        return self._by_file.get(file)

    def asset_by_file(self, file: str) -> tuple[str, str] | None:
        return self._by_asset.get(file)

    def display_url(self, space: str, title: str) -> str:
        return f"{self.site}/wiki/display/{quote(space, safe='')}/{quote(title, safe='')}"


# ------------------------------------------------------------------ finding destinations


def map_destinations(markdown: str, fn: Callable[[str], str | None]) -> str:
    """Call ``fn`` on every link and image destination (``[t](dest "title")``, ``<dest>``
    autolinks of ctk's page and attachment forms) outside code; a string it returns replaces the
    destination (written between ``<>`` when it needs them), None keeps it."""
    out: list[str] = []
    fence: str | None = None
    for line in markdown.splitlines(keepends=True):
        match = _FENCE.match(line)
        if fence is not None:
            if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
                fence = None
            out.append(line)
            continue
        if match:
            fence = match.group(1)
            out.append(line)
            continue
        out.append(_map_line(line, fn))
    return "".join(out)


def _code_spans(line: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    i = 0
    while True:
        start = line.find("`", i)
        if start < 0:
            return spans
        end = start
        while end < len(line) and line[end] == "`":
            end += 1
        ticks = line[start:end]
        close = line.find(ticks, end)
        while close >= 0 and close + len(ticks) < len(line) and line[close + len(ticks)] == "`":
            close = line.find(ticks, close + len(ticks) + 1)
        if close < 0:
            i = end
            continue
        spans.append((start, close + len(ticks)))
        i = close + len(ticks)


def _map_line(line: str, fn: Callable[[str], str | None]) -> str:
    if "](" not in line and "<confluence-" not in line:
        return line
    spans = _code_spans(line)

    def in_code(pos: int) -> bool:
        return any(a <= pos < b for a, b in spans)

    out: list[str] = []
    i = 0
    while i < len(line):
        if line.startswith("](", i) and not in_code(i) and (i == 0 or line[i - 1] != "\\"):
            parsed = _destination(line, i + 2)
            if parsed is not None:
                start, end, dest = parsed
                new = fn(dest)
                out.append(line[i:start])
                out.append(_written(new) if new is not None else line[start:end])
                i = end
                continue
        if line.startswith("<confluence-", i) and not in_code(i):
            match = _AUTOLINK.match(line, i)
            if match is not None:
                dest = match.group(1)
                new = fn(dest)
                if new is not None:
                    text = _autolink_text(dest)
                    out.append(f"[{text}]({_written(new)})")
                    i = match.end()
                    continue
        out.append(line[i])
        i += 1
    return "".join(out)


def _destination(line: str, at: int) -> tuple[int, int, str] | None:
    """(start, end, destination) of the destination starting at ``at``."""
    if at < len(line) and line[at] == "<":
        close = at + 1
        while close < len(line) and line[close] not in "<>\n":
            close += 2 if line[close] == "\\" else 1
        if close >= len(line) or line[close] != ">":
            return None
        return at, close + 1, line[at + 1 : close].replace("\\>", ">").replace("\\<", "<")
    depth = 0
    end = at
    while end < len(line):
        ch = line[end]
        if ch == "\\" and end + 1 < len(line):
            end += 2
            continue
        if ch.isspace() or ord(ch) < 0x20:
            break
        if ch == "(":
            depth += 1
        elif ch == ")":
            if depth == 0:
                break
            depth -= 1
        end += 1
    if end == at:
        return None
    return at, end, re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", line[at:end])


def _written(dest: str) -> str:
    if not dest or any(ch.isspace() or ch in "()<>" for ch in dest):
        return "<" + dest.replace("<", "\\<").replace(">", "\\>") + ">"
    return dest


def _autolink_text(dest: str) -> str:
    link = dialect.parse_url(dest)
    if link is None:
        return dest
    if link.scheme == dialect.ATTACHMENT:
        return dialect.split_attachment_path(link.path)[1]
    return dialect.decode(link.path)


def _split(dest: str) -> tuple[str, str, str]:
    """(path, '?query' or '', '#anchor' or '') of a destination, each as written."""
    rest, hash_, anchor = dest.partition("#")
    path, q, query = rest.partition("?")
    return path, (q + query), (hash_ + anchor)


# ------------------------------------------------------------------ export: to relative paths


def relative_of(dest: str, here: str, page_id: str, index: LinkIndex) -> str | None:
    """The destination a Confluence target of page ``page_id`` (file ``here``) becomes in the
    export, or None when ``dest`` is no page or attachment target."""
    link = dialect.parse_url(dest)
    if link is None or link.scheme not in (dialect.PAGE, dialect.ATTACHMENT):
        return None
    _path, query, anchor = _split(dest.partition(":")[2])
    space = link.space or index.space
    if link.scheme == dialect.PAGE:
        title = dialect.decode(link.path)
        target = index.page_by_title(title) if space == index.space else None
        if target is None:
            return index.display_url(space, title)
        return _relative(index.pages[target][1], here) + query + anchor
    page_title, filename = dialect.split_attachment_path(link.path)
    owner: str | None = page_id
    if page_title is not None:
        owner = index.page_by_title(page_title) if space == index.space else None
        if owner is None:
            owner = index.known.get(page_title) if space == index.space else None
            if owner is None:
                return index.display_url(space, page_title)
    assert owner is not None
    file = index.attachments.get((owner, filename))
    if file is None:
        return f"{index.site}/wiki/download/attachments/{owner}/{quote(filename, safe='')}"
    return _relative(file, here) + query + anchor


def _relative(target: str, here: str) -> str:
    rel = posixpath.relpath(target, posixpath.dirname(here) or ".")
    return quote(rel, safe=_SAFE_PATH)


def to_relative(markdown: str, here: str, page_id: str, index: LinkIndex) -> str:
    """Rewrite the page and attachment targets of one exported page (see the module)."""
    return map_destinations(markdown, lambda dest: relative_of(dest, here, page_id, index))


# ------------------------------------------------------------------ push: back to Confluence


def target_of(dest: str, here: str, index: LinkIndex) -> str | None:
    """The Confluence target of a relative destination in the file ``here``: a page of the
    export (its file, or its folder) or one of its attachments; None for anything else (an
    absolute URL, an anchor alone, a file the export does not know)."""
    if not dest or dest.startswith(("#", "/")) or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", dest):
        return None
    raw_path, query, anchor = _split(dest)
    path = posixpath.normpath(posixpath.join(posixpath.dirname(here), unquote(raw_path)))
    if path.startswith("../") or path == "..":
        return None
    page = index.page_by_file(path) or index.page_by_file(posixpath.join(path, "index.md"))
    if page is not None:
        title = index.pages[page][0]
        return dialect.build_url(dialect.PAGE, dialect.encode(title)) + query + anchor
    asset = index.asset_by_file(path)
    if asset is None:
        return None
    owner, filename = asset
    name = dialect.encode(filename, False)
    here_page = index.page_by_file(here)
    if owner != here_page:
        name = dialect.encode(index.pages[owner][0]) + "/" + name
    return dialect.build_url(dialect.ATTACHMENT, name) + query + anchor


def to_confluence(markdown: str, here: str, index: LinkIndex) -> str:
    """Rewrite the relative links of the file ``here`` back to Confluence targets."""
    return map_destinations(markdown, lambda dest: target_of(dest, here, index))
