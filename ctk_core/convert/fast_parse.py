"""The Markdown token tree the storage writer reads, and a fast way to build it.

``to_storage`` writes storage from markdown-it-py's tokens, arranged as a tree of
:class:`Node`. markdown-it-py is pure Python and is most of the cost of a conversion. For
Markdown that uses none of ctk's own rules and nothing on which markdown-it-py and cmark-gfm
(GitHub's C implementation of the same CommonMark and GFM-table grammar, through cmarkgfm)
could disagree, :func:`parse` builds the same tree from cmark-gfm instead: cmark-gfm renders
the Markdown to HTML, which is then read back with the standard library's XML parser. Since
:func:`parse` only accepts input without raw HTML, every element of that HTML is one cmark-gfm
generated, from a short fixed list; anything else sends the input back to markdown-it-py.

Whatever :func:`parse` cannot promise to read exactly as markdown-it-py does, it refuses
(returns ``None``). tests/test_convert_fast_parse.py holds the two paths to the same output.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any
from xml.etree import ElementTree

from ctk_core.convert import dialect, xhtml

__all__ = ["Node", "Token", "parse", "walk"]

# What sends an input to markdown-it-py:
# - a tag, raw storage, a comment or a ctk autolink (``<confluence-page:Title>``): ctk's own
#   rules read those (escapes and entities are refused only where they matter, later:
#   see _check_unescaped);
# - ``~~`` (GFM strikethrough differs), and ``\|`` with backticks (GFM unescapes it in code
#   spans in tables, markdown-it-py does not);
# - ``[TOC`` (ctk's rule), ``]:`` (reference definitions; a rarity not worth the checks) and
#   numeric character references (the two disagree on invalid ones such as ``&#0;``), and a
#   backslash before a space (markdown-it-py reads ``\  `` at a line end differently);
# - a long run of container markers starting a line (markdown-it-py's nesting limit), an
#   empty list item (markdown-it-py ends the list at one followed by a blank line) and a
#   thematic break in a list item (cmark-gfm keeps a list tight across a blank line after
#   one);
# - ``*`` or ``_`` next to a non-ASCII symbol or punctuation (CommonMark 0.31 counts symbols
#   as punctuation for emphasis, and cmark-gfm's tables predate newer punctuation), and
#   Unicode spaces other than ASCII ones (markdown-it-py trims them with ``str.strip``);
# - a table followed by a non-blank line without ``|`` (GFM continues the table there), and a
#   table header the two read differently (see _table_without_pipes);
# - per line (see _lines_refused): a code span that may run over a line end, a tab among
#   container markers, a line indented four columns under a container line, and a code
#   fence left open or whose pairing depends on where its container ends;
# - a tab ending a line (see _odd_tab), and a last line of blanks with no line end
#   (markdown-it-py drops it, even in a code block).
_REFUSED_STRINGS = ("~~", "[TOC", "]:", "&#", "&NewLine;", "\\ ", "\\\t", "]((")
# ``<`` that may open a tag, unless it is ``](<`` or ``\<`` or opens an autolink that ctk's
# rules do not read (``<https://...>``)
_TAG_OPEN = re.compile(
    r"(?:(?<!\]\()(?<!\\)|(?<=\\\\))<(?=[A-Za-z_:/!?])"
    r"(?!(?!confluence-|(?:" + "|".join(sorted(xhtml.KNOWN_PREFIXES)) + r"):)"
    r"[A-Za-z][A-Za-z0-9.+-]{1,31}:[^\s<>&]*>)"
)
# a backslash before an entity: cmark-gfm decodes it in link targets, titles and info strings
_ESCAPED_ENTITY = re.compile(r"\\&[A-Za-z][A-Za-z0-9]*;")
_MARKER = re.compile(r"([-+*]|\d{1,9}[.)])(?=[ \t]|\Z)( *)")
_DEEP_LINE = re.compile(r"\n[ \t>*+\-0-9.)]{40}")
_TABLE_GOES_ON = re.compile(r"\|[^|\n]*\n[ \t]*[^|\s][^|\n]*(?:\n|\Z)")
_UNICODE_SPACE = re.compile(r"[\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")
_NON_ASCII_BY_DELIMITER = re.compile(r"(?<=[*_])[^\x00-\x7f]|[^\x00-\x7f](?=[*_])")
# a line whose container markers are followed by a ``*`` or ``_`` bullet or thematic break
# (the quantifiers over blanks are possessive: each line then costs linear time)
_STAR_LINE = re.compile(
    r"\n[ \t>]*+(?:(?:[-+]|\d{1,9}[.)])[ \t>]++)*+"
    r"(?:[*_](?:[ \t]|\n|\Z)|[*_]{3}|(?:[*_][ \t]*+){3,}(?=\n|\Z))"
)
_EMPTY_ITEM = re.compile(r"\n[ \t>]*+(?:(?:[-+*]|\d{1,9}[.)])(?:[ \t>]++|(?=\n|\Z)))++(?=\n|\Z)")
_BLOCK_STARTS = frozenset("#>-*+`~=")
_DELIMITER_ROW = re.compile(r"\n[ \t>]*+[|:\-][|:\- \t]*+(?=\n|\Z)")
_LINE_PREFIX = re.compile(r"[ \t>]*+(?:(?:[-+*]|\d{1,9}[.)])[ \t>]++)*+")
# a thematic break after indentation or list markers: one may end a list item
_RULE_IN_ITEM = re.compile(
    r"\n(?:[ \t>]*+(?:(?:[-+*]|\d{1,9}[.)])[ \t>]++)++|[ \t>]*?[ \t])[ \t>]*+"
    r"(?:[-*_][ \t]*+){3,}(?=\n|\Z)"
)
_BACKTICKS = re.compile(r"`+")
_AUTOLINK = re.compile(r'<a href="([^"]*)">\1</a>')
_TAB_AT_LINE_END = re.compile(r"\t[ \t]*\n")
# a line break in an attribute value (XML would read it as a space)
_ATTR_LINE_BREAK = re.compile(r'="[^"]*\n')
_MAX_DEPTH = 40  # deeper trees go to markdown-it-py, whose maxNesting (100) applies
_FULL_INFO_STRING = 1 << 16  # CMARK_OPT_FULL_INFO_STRING (cmarkgfm does not name it)

_lock = threading.Lock()
_render: Any = None


class Node:
    """One node of the token tree: an opening or a leaf token and what it holds."""

    __slots__ = ("children", "tok")

    def __init__(self, tok: Any, children: list[Node] | None = None) -> None:
        self.tok = tok
        self.children: list[Node] = children if children is not None else []


class Token:
    """The fields of ``markdown_it.token.Token`` that the storage writer reads (the ones most
    tokens leave alone are class defaults; ``attrs`` cannot be changed in place)."""

    info = ""
    markup = ""
    meta: Mapping[str, Any] = MappingProxyType({})
    children: list | None = None
    hidden = False
    level = 0

    def __init__(
        self,
        type: str,
        tag: str = "",
        content: str = "",
        attrs: Mapping[str, Any] = MappingProxyType({}),
    ) -> None:
        self.type = type
        self.tag = tag
        self.content = content
        self.attrs = attrs

    def attrGet(self, name: str) -> Any:
        return self.attrs.get(name)


class _Refused(Exception):
    pass


def _renderer() -> Any:
    global _render
    with _lock:
        if _render is None:
            import cmarkgfm
            from cmarkgfm.cmark import Options

            options = Options.CMARK_OPT_UNSAFE | _FULL_INFO_STRING

            def render(text: str) -> str:
                return cmarkgfm.markdown_to_html_with_extensions(
                    text, options=options, extensions=["table"]
                )

            _render = render
        return _render


def parse(text: str) -> list[Node] | None:
    """The block nodes ``to_storage`` would build from markdown-it-py's tokens for ``text``,
    or ``None`` when markdown-it-py must parse ``text``."""
    if _refused(text):
        return None
    try:
        html = _renderer()(text)
    except UnicodeEncodeError:  # lone surrogates (markdown_to_storage replaces them first)
        return None
    if (
        ("<strong>" in html and _lost_strong(text, html))
        or _ATTR_LINE_BREAK.search(html)
        or ("<table>" in html and _TABLE_GOES_ON.search(text) is not None)
    ):
        return None
    try:
        # S314: the HTML is cmark-gfm's own output for input without raw HTML: no DOCTYPE/entity.
        nodes = _blocks(ElementTree.fromstring(f"<r>{html.replace(chr(9), '&#9;')}</r>"), 1)  # noqa: S314
        if "\\" in text or "&" in text:
            _check_unescaped(nodes)
        return nodes
    except (_Refused, ElementTree.ParseError):
        return None


def walk(nodes: list[Node]) -> Iterator[Node]:
    """Every node of a tree (depth first, iteratively)."""
    stack = list(nodes)
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.children)


def _check_unescaped(nodes: list[Node]) -> None:
    """markdown-it-py keeps escaped characters and entities (``\\[``, ``&amp;``) apart from
    the text around them, and ctk reads some text in pieces: bare URLs and emoticons are
    looked for in the pieces, a task or alert marker in the paragraph's source, a code
    block's info string is unescaped once more. cmark-gfm's HTML has the text whole; where
    that could read differently, refuse."""
    for node in walk(nodes):
        tok = node.tok
        if tok.type == "inline":
            tokens = tok.children
            if tokens and tokens[0].type == "text" and tokens[0].content.startswith("["):
                raise _Refused
            for t in tokens:
                if t.type == "text" and (
                    "://" in t.content or dialect.EMOTICON_RE.search(t.content)
                ):
                    raise _Refused
        elif tok.type == "fence" and ("\\" in tok.info or "&" in tok.info):
            raise _Refused


def _refused(text: str) -> bool:
    lines = "\n" + text  # the line patterns start at a line end
    return (
        any(s in text for s in _REFUSED_STRINGS)
        or (text.count("<") != text.count("](<") and _TAG_OPEN.search(text) is not None)
        or ("\\|" in text and "`" in text)
        or ("\\&" in text and _ESCAPED_ENTITY.search(text) is not None)
        or _DEEP_LINE.search(lines) is not None
        or _EMPTY_ITEM.search(lines) is not None
        or _RULE_IN_ITEM.search(lines) is not None
        or ("-" in text and _table_without_pipes(lines))
        or (not text.isascii() and _odd_unicode(text))
        or ("\t" in text and _odd_tab(text))
        or _lines_refused(text)
        or (text[-1:] in (" ", "\t") and not text[text.rfind("\n") + 1 :].strip(" \t"))
    )


_QUOTE = -1


def _lines_refused(text: str) -> bool:
    """Line by line: code fences, paired as CommonMark pairs them (a fence whose pairing
    depends on where its container ends is refused); outside fences, a code span that may run
    over a line end (markdown-it-py keeps the next line's indentation in it, cmark-gfm does
    not); a tab among a line's container markers (the two count its columns differently); a
    line indented four columns under a container line but not into its content (cmark-gfm
    may continue a paragraph there where markdown-it-py starts code)."""
    fence: tuple[str, int, int, str] | None = None  # char, length, column, prefix to last >
    container: int | None = None  # content column of the last container line, or _QUOTE
    for line in text.split("\n"):
        if fence is None and line[:1].isalpha() and "`" not in line:
            continue  # a line of text: nothing here changes or breaks the rules above
        if not line.strip(" "):
            container = None
            continue
        indent = len(line) - len(line.lstrip(" "))
        m = _LINE_PREFIX.match(line)
        column = m.end() if m else 0
        if "\t" in line[:column]:
            return True
        body = line[column:]
        quoted = line[: line.rfind(">", 0, column) + 1]
        if fence is not None:
            char, length, opened_at, opened_quoted = fence
            if quoted != opened_quoted:
                return True  # the fence's quote ends here, or a new one starts
            if body.startswith(char * 3):
                run = len(body) - len(body.lstrip(char))
                if column != opened_at:
                    return True
                if run >= length and not body[run:].strip(" "):
                    fence = None
                continue
            if opened_at > len(quoted) and indent + len(quoted) < opened_at:
                return True  # the fence's list item may end here
            continue
        if body.startswith(("```", "~~~")):
            if indent >= 4:
                return True  # a lazy line, code, or a fence deep in a list item?
            char = body[0]
            run = len(body) - len(body.lstrip(char))
            if char == "~" or "`" not in body[run:]:
                fence = (char, run, column, quoted)
                continue
        if indent >= 4 and container is not None and (container == _QUOTE or indent < container):
            return True
        lead = line[indent:]
        if lead[:1] == ">" or _MARKER.match(lead):
            content = _content_column(line)
            container = _QUOTE if content is None else content
        if "`" in body:
            opened = 0
            for run_text in _BACKTICKS.findall(body):
                if not opened:
                    opened = len(run_text)
                elif len(run_text) == opened:
                    opened = 0
            if opened:
                return True
    return fence is not None


def _content_column(line: str) -> int | None:
    """Where the content of a line's innermost list item starts; None when the line's
    innermost container is a quote."""
    col = 0
    content: int | None = None
    n = len(line)
    while True:
        while col < n and line[col] == " ":
            col += 1
        if col < n and line[col] == ">":
            col += 1
            content = None
            continue
        m = _MARKER.match(line, col)
        if m is None:
            return content
        spaces = len(m.group(2))
        col = m.end(1) + (spaces if 1 <= spaces <= 4 else 1)
        content = col
        if spaces > 4 or m.end() >= n:
            return content


def _odd_tab(text: str) -> bool:
    """A tab ending a line (markdown-it-py keeps it in the text, cmark-gfm drops it) or in a
    link target in ``<...>``."""
    return "\t\n" in text or "](<" in text or _TAB_AT_LINE_END.search(text) is not None


def _table_without_pipes(lines: str) -> bool:
    """Whether a table's header may be read differently: cmark-gfm makes a table of ``a``
    then ``:-`` (no ``|``), markdown-it-py a paragraph; markdown-it-py tries a table before a
    heading, quote, list or fence, so ``# a | b`` then ``--|--`` is a table there; a second
    delimiter row or a row of a lone ``|`` are read differently too. ``lines`` is the text
    after a line end."""
    for m in _DELIMITER_ROW.finditer(lines):
        row = m.group(0)
        start = m.start()
        above = lines[lines.rfind("\n", 0, start) + 1 : start]
        if "-" in row and ("|" in row or ":" in row):
            head = above.lstrip(" \t")
            if (
                "|" not in above
                or head[:1] in _BLOCK_STARTS
                or head[:1].isdigit()
                or ("-" in above and _DELIMITER_ROW.fullmatch("\n" + above))
            ):
                return True
        elif row.strip(" \t\n>") == "|":
            return True  # a row of a lone "|"
        elif "-" in row and "|" in above:
            return True  # "a |" then "---": a table there, a heading here
    return False


def _odd_unicode(text: str) -> bool:
    return _UNICODE_SPACE.search(text) is not None or any(
        unicodedata.category(m.group(0))[0] in "SP" for m in _NON_ASCII_BY_DELIMITER.finditer(text)
    )


def _lost_strong(text: str, html: str) -> bool:
    """Whether cmark-gfm's HTML may have dropped a strong element: it writes no tags for a
    strong directly inside another (``**a **b** c**`` becomes one ``<strong>``).

    Every ``*`` and ``_`` of the input is either in the HTML or one of an emphasis's delimiters
    (two for ``<em>``, four for ``<strong>``), once bullets and thematic breaks made of them are
    ruled out; a lost strong leaves four unaccounted for.
    """
    if "&" in text or _STAR_LINE.search("\n" + text) is not None:
        return True  # an entity can stand for a star too
    written = html.count("*") + html.count("_")
    for m in _AUTOLINK.finditer(html):  # an autolink's target is written twice
        written -= m.group(1).count("*") + m.group(1).count("_")
    consumed = text.count("*") + text.count("_") - written
    return consumed != 2 * html.count("<em>") + 4 * html.count("<strong>")


_BLOCK = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "blockquote", "pre", "hr", "table"}
_ALIGN = {"left": "text-align:left", "right": "text-align:right", "center": "text-align:center"}


def _blocks(parent: ElementTree.Element, depth: int) -> list[Node]:
    """The block children of ``parent``; text and inline elements straight inside it (a list
    item of a tight list) make a hidden paragraph, as in markdown-it-py."""
    if depth > _MAX_DEPTH:
        raise _Refused
    out: list[Node] = []
    loose: list[Any] = [parent.text] if parent.text else []
    for el in parent:
        tag = el.tag
        if tag not in _BLOCK:
            loose.append(el)
        else:
            _hidden_paragraph(loose, out, depth)
            loose = []
            if tag == "p":
                out.append(_paragraph(_content(el), depth, hidden=False))
            elif tag[0] == "h" and tag != "hr":
                out.append(Node(Token("heading_open", tag), [_inline_node(_content(el), depth)]))
            elif tag in ("ul", "ol"):
                out.append(_list(el, depth))
            elif tag == "blockquote":
                out.append(Node(Token("blockquote_open", tag), _blocks(el, depth + 1)))
            elif tag == "pre":
                out.append(Node(_code(el)))
            elif tag == "hr":
                out.append(Node(Token("hr", "hr")))
            else:
                out.append(_table(el, depth))
        if el.tail:
            loose.append(el.tail)
    _hidden_paragraph(loose, out, depth)
    return out


def _hidden_paragraph(parts: list[Any], out: list[Node], depth: int) -> None:
    """A paragraph never starts or ends with a line break, so a line end at either edge of
    the run is cmark-gfm's layout around the blocks."""
    if parts and isinstance(parts[0], str):
        parts[0] = parts[0].removeprefix("\n")
    if parts and isinstance(parts[-1], str):
        parts[-1] = parts[-1].removesuffix("\n")
    parts = [p for p in parts if not isinstance(p, str) or p]
    if parts:
        out.append(_paragraph(parts, depth, hidden=True))


def _list(el: ElementTree.Element, depth: int) -> Node:
    tok = Token("bullet_list_open" if el.tag == "ul" else "ordered_list_open", el.tag)
    if "start" in el.attrib:
        tok.attrs = {"start": int(el.attrib["start"])}
    return Node(tok, [Node(Token("list_item_open", "li"), _blocks(li, depth + 2)) for li in el])


def _content(el: ElementTree.Element) -> list[Any]:
    """An element's inline content: its text, then each child and the text after it."""
    parts: list[Any] = [el.text] if el.text else []
    for child in el:
        parts.append(child)
        if child.tail:
            parts.append(child.tail)
    return parts


def _paragraph(parts: list[Any], depth: int, hidden: bool) -> Node:
    tok = Token("paragraph_open", "p")
    tok.hidden = hidden
    return Node(tok, [_inline_node(parts, depth)])


def _code(pre: ElementTree.Element) -> Token:
    code = pre.find("code")
    if len(pre) != 1 or code is None or len(code) or pre.text:
        raise _Refused
    tok = Token("fence", content=code.text or "")
    lang = code.get("class", "")
    if lang:
        if not lang.startswith("language-"):
            raise _Refused
        tok.info = lang[9:]
        meta = code.get("data-meta")
        if meta:
            tok.info += " " + meta
    return tok


def _table(table: ElementTree.Element, depth: int) -> Node:
    sections = []
    for section in table:
        if section.tag not in ("thead", "tbody"):
            raise _Refused
        cell_tag = "th" if section.tag == "thead" else "td"
        rows = []
        for tr in section:
            cells = []
            for cell in tr:
                style = _ALIGN.get(cell.get("align", ""))
                tok = Token(f"{cell_tag}_open", cell_tag)
                if style:
                    tok.attrs = {"style": style}
                cells.append(Node(tok, [_inline_node(_content(cell), depth + 4)]))
            rows.append(Node(Token("tr_open", "tr"), cells))
        sections.append(Node(Token(f"{section.tag}_open", section.tag), rows))
    return Node(Token("table_open", "table"), sections)


def _inline_node(parts: list[Any], depth: int) -> Node:
    tokens: list[Token] = []
    _inline(parts, tokens, depth + 1)
    if tokens and tokens[0].type == "hardbreak":
        raise _Refused  # ``\`` opening a paragraph: the two differ on the next line's indent
    tok = Token("inline")
    tok.children = tokens
    tok.content = _source_like(tokens)
    return Node(tok)


# ``*``, and ``_`` other than inside a word: a delimiter run left as text; a backtick: a code
# span's run left as text (cmark-gfm's CommonMark 0.29 can miss a closing run that 0.31 finds)
_LOOSE_DELIMITER = re.compile(r"[*`]|(?<![^\W_])_|_(?![^\W_])")


def _text(text: str, out: list[Token]) -> None:
    if "](" in text:
        raise _Refused  # not a link after all: what followed "](" (a tag?) was left unread
    if ("*" in text or "_" in text or "`" in text) and _LOOSE_DELIMITER.search(text):
        # cmark-gfm implements CommonMark 0.29's emphasis; 0.31 (markdown-it-py) can pair
        # runs that 0.29 leaves as text (``*:***0**a**:**``). Pairings agree when every
        # run that could be a delimiter was used as one.
        raise _Refused
    if "\n" not in text:
        if out and out[-1].type == "text":
            out[-1].content += text
        else:
            out.append(Token("text", "", text))
        return
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if i:
            out.append(Token("softbreak", "br"))
        if line:
            if out and out[-1].type == "text":
                out[-1].content += line
            else:
                out.append(Token("text", content=line))


def _inline(parts: list[Any], out: list[Token], depth: int, in_link: bool = False) -> None:
    """cmark-gfm's inline HTML -> markdown-it-py's flat inline tokens (``em_open`` ...)."""
    if depth > _MAX_DEPTH:
        raise _Refused
    after_break = False
    for part in parts:
        if isinstance(part, str):
            if after_break and part.startswith("\n"):
                part = part[1:]  # the line end cmark-gfm writes after <br />
                if part[:1] in (" ", "\t"):
                    raise _Refused  # a lazy line after a hard break: indentation differs
            _text(part, out)
            after_break = False
            continue
        tag = part.tag
        after_break = tag == "br"
        if part.attrib and tag not in ("a", "img"):
            raise _Refused  # not an element cmark-gfm writes: raw HTML after all
        if tag in ("em", "strong"):
            out.append(Token(f"{tag}_open", tag))
            _inline(_content(part), out, depth + 1, in_link)
            out.append(Token(f"{tag}_close", tag))
        elif tag == "br":
            out.append(Token("hardbreak", "br"))
        elif tag == "code" and not len(part):
            out.append(Token("code_inline", "code", content=part.text or ""))
        elif tag == "a":
            if in_link:
                raise _Refused  # cmark-gfm nests a link in a link's text; CommonMark does not
            href = part.get("href", "")
            attrs = {"href": _url(href, dialect.SCHEMES)}
            text = part.text
            if text == href and not len(part) and href.partition(":")[0] in dialect.SCHEMES:
                raise _Refused  # <confluence-page:A> or [confluence-page:A](...): unknown
            if part.get("title"):
                attrs["title"] = part.get("title")
            out.append(Token("link_open", "a", attrs=attrs))
            _inline(_content(part), out, depth + 1, True)
            out.append(Token("link_close", "a"))
        elif tag == "img":
            attrs = {"src": _url(part.get("src", ""), (dialect.ATTACHMENT,)), "alt": ""}
            if part.get("title"):
                attrs["title"] = part.get("title")
            tok = Token("image", "img", attrs=attrs)
            alt = part.get("alt", "")
            if ("*" in alt or "_" in alt or "`" in alt) and _LOOSE_DELIMITER.search(alt):
                raise _Refused
            tok.children = [Token("text", content=alt)] if alt else []
            out.append(tok)
        else:
            raise _Refused


def _url(url: str, decoded: tuple[str, ...]) -> str:
    """cmark-gfm percent-encodes link targets; ctk keeps a target as written. The ``decoded``
    link forms are percent-decoded when read, so the encoding does not change them; any other
    target with an escape in it might have been changed."""
    if "%" in url and url.partition(":")[0] not in decoded:
        raise _Refused
    return url


def _source_like(tokens: list[Token]) -> str:
    """Enough of the paragraph's source for the alert and task-marker checks, which read its
    first line: text as written, a hard break as two spaces, anything else as a character no
    marker holds (with escapes or entities in the input, _check_unescaped refuses a first
    line that starts with ``[``).

    Spaces before a line end are not in the tokens, and a task marker alone on its line
    (``[ ]`` then a line end) is one only when a space follows it: left to markdown-it-py.
    """
    parts = []
    for t in tokens:
        if t.type == "text":
            parts.append(t.content)
        elif t.type in ("softbreak", "hardbreak"):
            if len(parts) == 1 and parts[0] in ("[ ]", "[x]", "[X]"):
                raise _Refused
            parts.append("\n\x00" if t.type == "softbreak" else "  \n\x00")
            break  # the checks read no further
        else:
            parts.append("\x00")
    return "".join(parts)
