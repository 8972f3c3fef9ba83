"""A small, tolerant tokenizer and tree for Confluence storage format (XHTML with ``ac:``/``ri:``).

Storage is XML-like but arrives with undeclared ``ac:``/``ri:`` prefixes, HTML named entities
(``&nbsp;``), CDATA sections and, sometimes, plain garbage. The standard library's ``HTMLParser``
changes its CDATA and comment handling between Python patch releases, which would break the
byte-for-byte guarantees of the converter, so this module has its own tokenizer. It follows the
XML rules for tags, comments and CDATA, and recovers from errors the way a browser would:

* a ``<`` that does not start a well-formed token is text;
* an end tag without a matching open element is ignored; an end tag that closes an element
  further down the stack closes the elements above it; elements still open at the end are closed;
* a CDATA section without its ``]]>`` runs to the end of the input.

Every node remembers its source span and whether that span is already well-formed XML
("clean"), so that unknown markup can be copied out byte for byte. The tree is built with an
explicit stack and every walk in this module is iterative: 10,000-deep nesting is no problem.
"""

from __future__ import annotations

import gc
import re
from bisect import bisect_left
from collections.abc import Iterator
from html.entities import html5 as _HTML5

__all__ = [
    "CData",
    "Comment",
    "Element",
    "Text",
    "clean_chars",
    "decode_entities",
    "escape_attr",
    "escape_text",
    "parse",
    "serialize",
    "tokenize",
]

# Characters XML 1.0 cannot hold at all (not even as character references), lone surrogates
# included. They are replaced by U+FFFD on the way in, in both directions.
_INVALID_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

_NCNAME = r"[A-Za-z_][A-Za-z0-9_.\-]*"
_QNAME = rf"{_NCNAME}(?::{_NCNAME})?"
_ATTR_SRC = r"""\s+([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"<]*)"|'([^'<]*)'|([^\s"'<>=`]+)))?"""
_ATTR = re.compile(_ATTR_SRC, re.ASCII)  # XML whitespace is ASCII only
_START_TAG_SRC = rf"({_QNAME})((?:{_ATTR_SRC.replace('(', '(?:').replace('(?:?:', '(?:')})*)\s*(/?)"
# a start tag (groups: name, attributes, "/") or an end tag (group 4: name)
_TAG = re.compile(rf"<(?:{_START_TAG_SRC}|/({_QNAME})\s*)>", re.ASCII)
_VALID_ATTR_NAME = re.compile(rf"{_QNAME}\Z")
_ENTITY = re.compile(r"&(?:#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,7})|([A-Za-z][A-Za-z0-9]{0,31}));")
# An ampersand that does not start one of the references XML knows without a DTD.
_BAD_AMP = re.compile(r"&(?!(?:amp|lt|gt|quot|apos|#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,7});)")
_XML_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}

#: Prefixes the converter's output may use (the wrapper used to check it declares these).
KNOWN_PREFIXES = frozenset({"ac", "ri"})
#: HTML elements that never have content; ``<br>`` is read as ``<br/>``.
VOID_ELEMENTS = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    }
)

# Token kinds produced by tokenize().
START, END, TEXT, CDATA, COMMENT, OTHER = range(6)


def clean_chars(text: str) -> str:
    """XML end-of-line handling plus replacement of characters XML cannot hold."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _INVALID_CHARS.sub("\ufffd", text)


def _char(code: int) -> str | None:
    if code > 0x10FFFF:
        return None
    ch = chr(code)
    if _INVALID_CHARS.match(ch):
        return None
    return ch


def _entity(match: re.Match[str]) -> str:
    dec, hexa, name = match.groups()
    if name is not None:
        ch = _XML_NAMED.get(name) or _HTML5.get(name + ";")
        return ch if ch is not None else match.group(0)
    ch = _char(int(dec) if dec is not None else int(hexa, 16))
    return ch if ch is not None else "\ufffd"


def decode_entities(text: str) -> str:
    """Decode XML and HTML named and numeric character references; leave unknown ones."""
    if "&" not in text:
        return text
    return _ENTITY.sub(_entity, text)


def _refs_clean(text: str) -> bool:
    """True when every ``&`` in text starts a reference XML accepts (no DTD needed)."""
    if "&" not in text:
        return True
    if _BAD_AMP.search(text):
        return False
    if "&#" in text:
        for m in _ENTITY.finditer(text):
            if m.group(3) is None and _entity(m) == "\ufffd":
                return False
    return True


def escape_text(text: str) -> str:
    """Escape character data for XML (``&``, ``<``, ``>``)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def escape_attr(text: str) -> str:
    """Escape an attribute value for a double-quoted XML attribute."""
    text = escape_text(text)
    if '"' in text:
        text = text.replace('"', "&quot;")
    if "\n" in text or "\t" in text:
        text = text.replace("\n", "&#10;").replace("\t", "&#9;")
    if "\xa0" in text:
        text = text.replace("\xa0", "&#160;")
    return text


def _prefix_ok(name: str, attribute: bool = False) -> bool:
    if ":" not in name:
        return not (attribute and name == "xmlns")
    prefix = name.split(":", 1)[0]
    return prefix in KNOWN_PREFIXES or (attribute and prefix == "xml")


# --------------------------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------------------------


def tokenize(src: str) -> Iterator[tuple]:
    """Yield tokens ``(kind, start, end, a, b, clean)`` over ``src``.

    * START: a = name, b = (attrs, self_closing); attrs is a list of (name, decoded value).
    * END: a = name.
    * TEXT: a = decoded text.
    * CDATA: a = content, b = closed (bool).
    * COMMENT: a = content.
    * OTHER: declarations and processing instructions (never kept).

    ``clean`` tells whether the source span is well-formed XML on its own (for a start tag:
    known prefixes, quoted unique attributes, valid references; for text: no stray ``<``,
    ``&`` or ``]]>``).
    """
    n = len(src)
    i = 0
    text_from = 0
    find = src.find
    finder = _Finder(src)
    while True:
        j = find("<", i)
        if j < 0:
            break
        tok = _token_at(src, j, n, finder)
        if tok is None:
            i = j + 1
            continue
        if j > text_from:
            yield _text_token(src, text_from, j)
        yield tok
        i = text_from = tok[2]
    if n > text_from:
        yield _text_token(src, text_from, n)


class _Finder:
    """``str.find`` for terminators, remembering answers so that many unterminated openers
    (``<!--<!--<!--...``) cost linear time, not quadratic."""

    __slots__ = ("memo", "src")

    def __init__(self, src: str) -> None:
        self.src = src
        self.memo: dict[str, int] = {}

    def find(self, term: str, start: int) -> int:
        known = self.memo.get(term)
        if known is not None and (known < 0 or known >= start):
            return known
        found = self.src.find(term, start)
        self.memo[term] = found
        return found


def tag_at(src: str, pos: int) -> tuple | None:
    """The start or end tag token at ``src[pos]`` (which is ``<``), or None."""
    c = src[pos + 1 : pos + 2]
    if c == "/" or (c and c != "!" and c != "?"):
        return _token_at(src, pos, len(src), _Finder(src))
    return None


def valid_attr_name(name: str) -> bool:
    """Whether an attribute name can be written in ctk's output."""
    return bool(_VALID_ATTR_NAME.match(name)) and _prefix_ok(name, True)


def _text_token(src: str, start: int, end: int) -> tuple:
    raw = src[start:end]
    clean = "<" not in raw and "]]>" not in raw and _refs_clean(raw)
    return (TEXT, start, end, decode_entities(raw), None, clean)


def _token_at(src: str, j: int, n: int, finder: _Finder) -> tuple | None:
    m = _TAG.match(src, j)
    if m is not None:  # the common case: a start or end tag
        name, attr_text, slash, end_name = m.groups()
        if end_name is not None:
            return (END, j, m.end(), end_name, None, True)
        return _start_tag(j, m.end(), name, attr_text, slash)
    c = src[j + 1 : j + 2]
    if c == "!":
        if src.startswith("<!--", j):
            k = finder.find("-->", j + 4)
            if k < 0:
                return None
            data = src[j + 4 : k]
            clean = "--" not in data and not data.endswith("-")
            return (COMMENT, j, k + 3, data, None, clean)
        if src.startswith("<![CDATA[", j):
            k = finder.find("]]>", j + 9)
            if k < 0:
                return (CDATA, j, n, src[j + 9 :], False, False)
            return (CDATA, j, k + 3, src[j + 9 : k], True, True)
        k = finder.find(">", j + 2)
        if k < 0:
            return None
        return (OTHER, j, k + 1, None, None, False)
    if c == "?":
        k = finder.find("?>", j + 2)
        if k < 0:
            return None
        return (OTHER, j, k + 2, None, None, False)
    return None


def _start_tag(j: int, end: int, name: str, attr_text: str, slash: str) -> tuple:
    clean = ":" not in name or _prefix_ok(name)
    attrs: list[tuple[str, str]] = []
    if attr_text:
        seen: set[str] = set()
        for am in _ATTR.finditer(attr_text):
            aname, dq, sq, uq = am.groups()
            if dq is not None:
                raw = dq
            elif sq is not None:
                raw = sq
            else:
                raw = uq if uq is not None else aname
                clean = False
            if clean and (
                aname in seen or not _attr_name_ok(aname) or ("&" in raw and not _refs_clean(raw))
            ):
                clean = False
            seen.add(aname)
            value = decode_entities(raw) if "&" in raw else raw
            if "\n" in value or "\t" in value:
                value = value.replace("\n", " ").replace("\t", " ")
            attrs.append((aname, value))
    return (START, j, end, name, (attrs, bool(slash)), clean)


_NAME_OK: dict[str, bool] = {}


def _attr_name_ok(name: str) -> bool:
    ok = _NAME_OK.get(name)
    if ok is None:
        ok = bool(_VALID_ATTR_NAME.match(name)) and _prefix_ok(name, True)
        if len(_NAME_OK) < 10000:
            _NAME_OK[name] = ok
    return ok


# --------------------------------------------------------------------------------------------
# Tree
# --------------------------------------------------------------------------------------------


class Node:
    __slots__ = ("clean", "end", "start")

    start: int
    end: int
    clean: bool


class _Data(Node):
    """A node holding character data: text, a CDATA section or a comment."""

    __slots__ = ("data",)

    def __init__(self, data: str, start: int, end: int, clean: bool) -> None:
        self.data = data
        self.start = start
        self.end = end
        self.clean = clean

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.data!r})"


class Text(_Data):
    __slots__ = ()


class CData(_Data):
    __slots__ = ()


class Comment(_Data):
    __slots__ = ()


class Element(Node):
    """An element. ``key`` is the lower-cased name used to recognise it."""

    __slots__ = ("attrs", "children", "etag_start", "key", "name", "stag_clean", "stag_end", "void")

    def __init__(
        self, name: str, attrs: list[tuple[str, str]], start: int, stag_end: int, stag_clean: bool
    ) -> None:
        self.name = name
        self.key = name.lower()
        self.attrs = attrs
        self.children: list[Node] = []
        self.start = start
        self.stag_end = stag_end
        self.etag_start = stag_end
        self.end = stag_end
        self.stag_clean = stag_clean
        self.clean = stag_clean
        self.void = False

    def get(self, name: str, default: str | None = None) -> str | None:
        for k, v in self.attrs:
            if k == name:
                return v
        return default

    def __repr__(self) -> str:
        return f"Element({self.name!r}, {self.attrs!r}, {len(self.children)} children)"


def parse(src: str) -> Element:
    """Parse storage into a tree rooted at an element named ``#root`` (iteratively)."""
    root = Element("#root", [], 0, 0, True)
    root.end = root.etag_start = len(src)
    stack = [root]
    cur = root
    children = root.children
    open_counts: dict[str, int] = {}
    n = len(src)
    i = text_from = 0
    find = src.find
    finder = _Finder(src)
    # The tokenizer, inlined: this loop is the hot path of storage_to_markdown.
    while True:
        j = find("<", i)
        if j < 0:
            tok = None
        else:
            tok = _token_at(src, j, n, finder)
            if tok is None:
                i = j + 1
                continue
        end_text = n if tok is None else j
        if end_text > text_from:
            raw = src[text_from:end_text]
            if "&" in raw:
                clean = "<" not in raw and "]]>" not in raw and _refs_clean(raw)
                children.append(Text(decode_entities(raw), text_from, end_text, clean))
            else:
                clean = "<" not in raw and "]]>" not in raw
                children.append(Text(raw, text_from, end_text, clean))
            if not clean:
                cur.clean = False
        if tok is None:
            break
        i = text_from = tok[2]
        kind = tok[0]
        if kind == START:
            name = tok[3]
            attrs, self_closing = tok[4]
            el = Element(name, attrs, j, i, tok[5])
            children.append(el)
            if self_closing or el.key in VOID_ELEMENTS:
                el.void = True
                if not self_closing:
                    el.stag_clean = el.clean = False
                if not el.clean:
                    cur.clean = False
            else:
                stack.append(el)
                open_counts[name] = open_counts.get(name, 0) + 1
                cur = el
                children = el.children
        elif kind == END:
            name = tok[3]
            if open_counts.get(name):
                while True:
                    el = stack.pop()
                    open_counts[el.name] -= 1
                    parent = stack[-1]
                    if el.name == name:
                        el.etag_start = j
                        el.end = i
                        if not el.clean:
                            parent.clean = False
                        break
                    # closed implicitly by an end tag further out: not well-formed
                    el.etag_start = el.end = j
                    el.clean = False
                    parent.clean = False
                cur = stack[-1]
                children = cur.children
            else:
                cur.clean = False  # stray end tag: dropped
        elif kind == CDATA:
            children.append(CData(tok[3], j, i, tok[5]))
            if not tok[5]:
                cur.clean = False
        elif kind == COMMENT:
            children.append(Comment(tok[3], j, i, tok[5]))
            if not tok[5]:
                cur.clean = False
        else:
            cur.clean = False  # declarations and processing instructions are dropped
    end = len(src)
    while len(stack) > 1:
        el = stack.pop()
        el.etag_start = el.end = end
        el.clean = False
        stack[-1].clean = False
    return root


# --------------------------------------------------------------------------------------------
# Serialisation
# --------------------------------------------------------------------------------------------

_BLANK_LINE_NL = re.compile(r"\n(?=[ \t]*\n)")


def start_tag(el: Element, self_closing: bool = False) -> str:
    """The canonical start tag of an element (attributes with bad names are dropped)."""
    parts = ["<", el.name]
    seen: set[str] = set()
    for name, value in el.attrs:
        if name in seen or not _VALID_ATTR_NAME.match(name) or not _prefix_ok(name, True):
            continue
        seen.add(name)
        parts.append(f' {name}="{escape_attr(value)}"')
    parts.append("/>" if self_closing else ">")
    return "".join(parts)


def cdata_section(data: str) -> str:
    """A CDATA section holding ``data`` exactly (``]]>`` is split across two sections)."""
    return "<![CDATA[" + data.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def comment(data: str) -> str:
    """A well-formed comment holding data (``--`` cannot appear in an XML comment)."""
    while "--" in data:
        data = data.replace("--", "- -")
    if data.endswith("-"):
        data += " "
    return "<!--" + data + "-->"


class NewlineIndex:
    """Answers "is there a line break between two offsets" in O(log n)."""

    __slots__ = ("positions",)

    def __init__(self, src: str) -> None:
        self.positions = [m.start() for m in re.finditer("\n", src)]

    def between(self, start: int, end: int) -> bool:
        i = bisect_left(self.positions, start)
        return i < len(self.positions) and self.positions[i] < end


def serialize(
    node: Node | list[Node], src: str, mode: str = "xml", newlines: NewlineIndex | None = None
) -> str:
    """Serialise nodes as well-formed XML, copying clean source spans byte for byte.

    ``mode`` adds the constraints of where the markup goes in Markdown:

    * ``"xml"``: none.
    * ``"block"`` (a raw HTML block): no blank line outside CDATA sections and comments and no
      line break inside a tag. Line breaks that would make a blank line become ``&#10;``.
    * ``"inline"`` (inline HTML): no line break at all (``&#10;`` in text; a CDATA section with
      a line break becomes escaped text, which XML treats the same).

    Pass a ``NewlineIndex`` of ``src`` when serialising many fragments of the same source.
    """
    nodes = node if isinstance(node, list) else [node]
    if mode != "xml" and newlines is None:
        newlines = NewlineIndex(src)
    out: list[str] = []
    emit = out.append
    # The stack holds nodes to visit, and strings (end tags) to emit when popped.
    stack: list[Node | str] = list(reversed(nodes))
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            emit(item)
            continue
        if item.clean and (newlines is None or not newlines.between(item.start, item.end)):
            emit(src[item.start : item.end])
            continue
        if isinstance(item, Element):
            _serialize_element(item, src, mode, emit, stack)
        elif isinstance(item, Text):
            text = src[item.start : item.end] if item.clean else escape_text(item.data)
            if "\n" in text:
                if mode == "inline":
                    text = text.replace("\n", "&#10;")
                elif mode == "block":
                    text = _BLANK_LINE_NL.sub("&#10;", text)
            emit(text)
        elif isinstance(item, CData):
            if mode == "inline" and "\n" in item.data:
                emit(escape_text(item.data).replace("\n", "&#10;"))
            elif item.clean:
                emit(src[item.start : item.end])
            else:
                emit(cdata_section(item.data))
        elif isinstance(item, Comment):
            if mode == "inline" and "\n" in item.data:
                emit(comment(item.data.replace("\n", " ")))
            elif item.clean:
                emit(src[item.start : item.end])
            else:
                emit(comment(item.data))
    return "".join(out)


def _serialize_element(el: Element, src: str, mode: str, emit, stack: list) -> None:
    if not _prefix_ok(el.name):
        # an element with an undeclared prefix cannot be written; keep its content
        stack.extend(reversed(el.children))
        return
    stag = src[el.start : el.stag_end]
    stag_ok = el.stag_clean and (mode == "xml" or "\n" not in stag)
    if el.void:
        emit(stag if stag_ok else start_tag(el, self_closing=True))
        return
    emit(stag if stag_ok else start_tag(el))
    etag = src[el.etag_start : el.end]
    if not etag or (mode != "xml" and "\n" in etag):
        etag = f"</{el.name}>"
    stack.append(etag)
    stack.extend(reversed(el.children))


def text_content(node: Node) -> str:
    """All character data under a node (text and CDATA), iteratively."""
    if isinstance(node, (Text, CData)):
        return node.data
    out: list[str] = []
    stack: list[Node] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, (Text, CData)):
            out.append(item.data)
        elif isinstance(item, Element):
            stack.extend(reversed(item.children))
    return "".join(out)


def iter_depth_exceeds(node: Element, limit: int) -> bool:
    """True when the element tree under node is deeper than ``limit`` (iterative)."""
    stack: list[tuple[Element, int]] = [(node, 0)]
    while stack:
        el, depth = stack.pop()
        if depth > limit:
            return True
        for child in el.children:
            if isinstance(child, Element) and child.children:
                stack.append((child, depth + 1))
    return False


class no_gc:
    """Pause the cyclic garbage collector for one conversion.

    The converters allocate hundreds of thousands of small objects that hold no reference
    cycles (reference counting frees them); scanning them in generational collections would
    cost more than the conversion itself on large pages and grow faster than linearly.
    """

    __slots__ = ("was_enabled",)

    def __enter__(self) -> None:
        self.was_enabled = gc.isenabled()
        if self.was_enabled:
            gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self.was_enabled:
            gc.enable()
