"""Pure text helpers for page bodies: storage well-formedness, sections, outlines and diffs.

Sections are found in the storage XHTML itself, not in a Markdown rendering, so that a section can
be replaced by splicing the original string: everything outside the section's character range
(unknown macros included) stays byte-for-byte as it was. A section is a heading element (``h1`` to
``h6``) at the top level of the body, or directly inside a layout cell (``ac:layout`` >
``ac:layout-section`` > ``ac:layout-cell``), and everything after it until the next such heading of
the same or a higher level in the same container (or the end of that container).

Storage is read with the converter's tokenizer and tree (``ctk_core.convert.xhtml``), so the
outline sees the same elements as ``storage_to_markdown``: end tags match their start tags by
exact name, a stray end tag is dropped, an end tag further out closes the elements it skips, and
elements still open at the end of the body are closed there. Whether a body is well-formed is
the XML parser's verdict (``xml.etree``), since Confluence will parse it as XML.

Standard library only (the converter's tokenizer included): this module is imported by the
pages plugin at call time.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from html.entities import name2codepoint

from ctk_core.convert import xhtml
from ctk_core.errors import NotFound, UsageError, shown

#: Namespaces declared on the wrapper used to check storage XHTML (prefixes Confluence uses).
_NAMESPACES = {
    "ac": "http://atlassian.com/content",
    "ri": "http://atlassian.com/resource/identifier",
    "at": "http://atlassian.com/template",
}
_XML_ENTITIES = {"amp", "lt", "gt", "quot", "apos"}
_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")

#: Layout containers that sections may live inside; they never belong to a section themselves.
_TRANSPARENT = {"ac:layout", "ac:layout-section", "ac:layout-cell"}
_HEADING = re.compile(r"^h([1-6])$")


# -- well-formedness ------------------------------------------------------------------------------


def _numeric_entity(match: re.Match[str]) -> str:
    name = match.group(1)
    if name in _XML_ENTITIES:
        return match.group(0)
    code = name2codepoint.get(name)
    return f"&#{code};" if code is not None else match.group(0)


def check_storage(xhtml: str) -> None:
    """Raise UsageError unless ``xhtml`` is a well-formed storage-format fragment.

    The fragment is wrapped in a root element declaring the ``ac``/``ri``/``at`` namespaces, HTML
    named entities (``&nbsp;``...) become numeric references, and the result is parsed with
    ``xml.etree``. Document type declarations are refused outright (no entity expansion).
    """
    import xml.etree.ElementTree as ET

    if re.search(r"<!DOCTYPE|<!ENTITY", xhtml, re.I):
        raise UsageError("Storage body must not contain a DOCTYPE or ENTITY declaration.")
    declared = " ".join(f'xmlns:{p}="{uri}"' for p, uri in _NAMESPACES.items())
    body = _ENTITY.sub(_numeric_entity, xhtml)
    wrapped = f"<ctk-root {declared}>\n{body}\n</ctk-root>"
    try:
        ET.fromstring(wrapped)  # noqa: S314 - DOCTYPE/ENTITY refused above: nothing expands
    except ET.ParseError as exc:
        line, column = exc.position
        reason = str(exc).split(":")[0]
        where = (
            f"at line {line - 1}, column {column + 1}"
            if 1 < line <= body.count("\n") + 2
            else "at the end of the body"
        )
        raise UsageError(
            f"Storage body is not well-formed XHTML: {reason} {where}.",
            hint="Fix the markup, or send Markdown with content_format=markdown.",
        ) from None


# -- sections -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """One heading and its section, as character offsets into the storage string."""

    id: str
    level: int
    text: str
    start: int  # start of the heading element
    heading_end: int  # just after the heading's end tag
    end: int  # end of the section (trailing whitespace before the next heading excluded)
    container: int  # offset of the enclosing layout cell, -1 for the top level

    @property
    def size(self) -> int:
        return self.end - self.start


def _heading_text(heading: xhtml.Element) -> str:
    return " ".join(xhtml.text_content(heading).split())


def _slug(text: str) -> str:
    slug = re.sub(r"[^\w\s-]", "", text.lower())
    slug = re.sub(r"[\s_-]+", "-", slug).strip("-")
    return slug or "section"


def _headings(storage: str) -> tuple[list[tuple[int, str, int, int, int]], dict[int, int]]:
    """The headings in scope, as (level, text, start, heading_end, container), in document
    order, and where each container's content ends (-1: the top level)."""
    found: list[tuple[int, str, int, int, int]] = []
    container_end: dict[int, int] = {-1: len(storage)}
    # the children still to visit of each container being walked, innermost last
    pending: list[tuple[int, list[xhtml.Node], int]] = [(-1, xhtml.parse(storage).children, 0)]
    while pending:
        container, children, index = pending.pop()
        if index == len(children):
            continue
        pending.append((container, children, index + 1))
        node = children[index]
        if not isinstance(node, xhtml.Element) or node.void:
            continue
        if node.key in _TRANSPARENT:
            container_end[node.start] = node.etag_start
            pending.append((node.start, node.children, 0))
            continue
        heading = _HEADING.match(node.key)
        if heading:
            text = _heading_text(node)
            found.append((int(heading.group(1)), text, node.start, node.end, container))
    return found, container_end


def outline(storage: str) -> list[Section]:
    """The sections of a storage body in document order, with unique slug ids."""
    found, container_end = _headings(storage)
    sections: list[Section] = []
    used: set[str] = set()
    for i, (level, text, start, heading_end, container) in enumerate(found):
        boundary = container_end.get(container, len(storage))
        for level2, _t, start2, _he, container2 in found[i + 1 :]:
            if container2 == container and level2 <= level:
                boundary = start2
                break
        end = boundary
        while end > heading_end and storage[end - 1].isspace():
            end -= 1
        base = _slug(text)
        slug, n = base, 1
        while slug in used:
            n += 1
            slug = f"{base}-{n}"
        used.add(slug)
        sections.append(Section(slug, level, text, start, heading_end, end, container))
    return sections


def _norm(text: str) -> str:
    return " ".join(text.lstrip("#").split()).casefold()


def find_section(sections: list[Section], heading: str, *, page_id: str = "") -> Section:
    """The section named by ``heading``: its id, or its text (exact, then case-insensitive).

    Raises NotFound listing the headings there are, or UsageError when the text is ambiguous.
    """
    wanted = heading.strip()
    for section in sections:
        if section.id == wanted:
            return section
    for matcher in (lambda s: s.text == wanted, lambda s: _norm(s.text) == _norm(wanted)):
        hits = [s for s in sections if matcher(s)]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            ids = ", ".join(s.id for s in hits)
            raise UsageError(
                f"Heading {shown(heading)} occurs {len(hits)} times; name the section "
                f"by its id instead: {ids}."
            )
    where = f" on page {page_id}" if page_id else ""
    if not sections:
        raise NotFound(f"No section {shown(heading)}{where}: the page has no headings.")
    listed = ", ".join(f"{s.id} ({s.text})" for s in sections[:20])
    more = f" and {len(sections) - 20} more" if len(sections) > 20 else ""
    raise NotFound(
        f"No section {shown(heading)}{where}. Sections: {listed}{more}.",
        hint="Use get_outline to list them.",
    )


def starts_with_heading(storage: str) -> bool:
    """True when the first element of a storage fragment is a heading (h1-h6)."""
    for node in xhtml.parse(storage).children:
        if isinstance(node, xhtml.Element):
            return bool(_HEADING.match(node.key))
    return False


def splice(storage: str, section: Section, replacement: str, *, keep_heading: bool) -> str:
    """Replace one section's range with ``replacement``; all other characters are kept as is.

    With ``keep_heading`` the original heading element stays and only the content after it is
    replaced; otherwise the heading is replaced too.
    """
    start = section.heading_end if keep_heading else section.start
    return storage[:start] + replacement + storage[section.end :]


def section_storage(storage: str, section: Section) -> str:
    return storage[section.start : section.end]


# -- diff -----------------------------------------------------------------------------------------


def unified_diff(
    old: str, new: str, *, from_label: str, to_label: str, context: int = 3
) -> tuple[str, int, int]:
    """A unified diff of two texts, with ``@@ -a,b +c,d @@`` hunk headers (line numbers).

    Returns (diff text, lines added, lines removed). difflib works on line lists with a hash map of
    the second text's lines, so memory stays linear in the input size (no LCS table).
    """
    a = old.splitlines()
    b = new.splitlines()
    added = removed = 0
    out: list[str] = []
    lines = difflib.unified_diff(a, b, fromfile=from_label, tofile=to_label, n=context, lineterm="")
    for index, line in enumerate(lines):
        out.append(line)
        if index < 2 or line.startswith("@@"):
            continue  # the ---/+++ file header and hunk headers
        if line.startswith("+"):
            added += 1
        elif line.startswith("-"):
            removed += 1
    return ("\n".join(out) + "\n" if out else ""), added, removed
