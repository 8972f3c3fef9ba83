"""The ctk Markdown dialect: names and forms shared by both directions (see docs/markdown.md)."""

from __future__ import annotations

import re
from urllib.parse import unquote

from ctk_core.convert import xhtml

#: Confluence's own emoticon names, written ``:name:`` in Markdown.
EMOTICONS = frozenset(
    {
        "smile",
        "sad",
        "cheeky",
        "laugh",
        "wink",
        "thumbs-up",
        "thumbs-down",
        "information",
        "tick",
        "cross",
        "warning",
        "plus",
        "minus",
        "question",
        "light-on",
        "light-off",
        "yellow-star",
        "red-star",
        "green-star",
        "blue-star",
        "heart",
        "broken-heart",
    }
)
EMOTICON_RE = re.compile(r":(" + "|".join(sorted(EMOTICONS, key=len, reverse=True)) + r"):")

#: Panel macros and the GFM alert each becomes (and back). ``[!CAUTION]`` has no panel of its
#: own and becomes a ``warning`` panel.
ALERT_OF_PANEL = {"info": "NOTE", "tip": "TIP", "note": "IMPORTANT", "warning": "WARNING"}
PANEL_OF_ALERT = {
    "NOTE": "info",
    "TIP": "tip",
    "IMPORTANT": "note",
    "WARNING": "warning",
    "CAUTION": "warning",
}

#: Macro attributes that carry no content; they are not kept when a macro becomes Markdown.
IGNORED_MACRO_ATTRS = frozenset({"ac:name", "ac:schema-version", "ac:macro-id"})

#: HTML elements that live inside a paragraph. Any other unprefixed element is block-level.
INLINE_HTML = frozenset(
    {
        "a",
        "abbr",
        "acronym",
        "b",
        "bdi",
        "bdo",
        "big",
        "br",
        "cite",
        "code",
        "data",
        "del",
        "dfn",
        "em",
        "font",
        "i",
        "img",
        "ins",
        "kbd",
        "label",
        "mark",
        "q",
        "s",
        "samp",
        "small",
        "span",
        "strike",
        "strong",
        "sub",
        "sup",
        "time",
        "tt",
        "u",
        "var",
        "wbr",
    }
)

PAGE, ATTACHMENT, USER, SPACE, STATUS = (
    "confluence-page",
    "confluence-attachment",
    "confluence-user",
    "confluence-space",
    "confluence-status",
)
SCHEMES = (PAGE, ATTACHMENT, USER, SPACE, STATUS)

# Characters percent-encoded in the components of ctk's link forms. Spaces stay readable: a
# destination with a space is written in the ``<...>`` form.
_UNSAFE = re.compile(r"[%#?<>\x00-\x1f\x7f\u0085\u00a0\u2028\u2029]")
_UNSAFE_SLASH = re.compile(r"[%#?<>/\x00-\x1f\x7f\u0085\u00a0\u2028\u2029]")
_UNSAFE_QUERY = re.compile(r"[%#?&=<>\x00-\x1f\x7f\u0085\u00a0\u2028\u2029]")


def _pct(match: re.Match[str]) -> str:
    return "".join(f"%{b:02X}" for b in match.group(0).encode("utf-8"))


def encode(value: str, slash: bool = True, query: bool = False) -> str:
    """Percent-encode the few characters that cannot stand in a ctk link component."""
    pattern = _UNSAFE_QUERY if query else (_UNSAFE if slash else _UNSAFE_SLASH)
    return pattern.sub(_pct, value)


def decode(value: str) -> str:
    return unquote(value, errors="replace") if "%" in value else value


def build_url(
    scheme: str,
    path: str,
    space: str | None = None,
    query: list[tuple[str, str]] | None = None,
    anchor: str | None = None,
) -> str:
    """Assemble ``scheme:[//space/]path[?k=v&...][#anchor]`` (components already encoded)."""
    if space is None and path.startswith("/"):
        path = "%2F" + path[1:]  # would read as a space key
    url = scheme + ":" + (f"//{space}/" if space is not None else "") + path
    if query:
        url += "?" + "&".join(f"{encode(k, query=True)}={encode(v, query=True)}" for k, v in query)
    if anchor is not None:
        url += "#" + encode(anchor)
    return url


class CtkLink:
    """A parsed ctk link target."""

    __slots__ = ("anchor", "path", "query", "scheme", "space")

    def __init__(
        self,
        scheme: str,
        space: str | None,
        path: str,
        query: list[tuple[str, str]],
        anchor: str | None,
    ) -> None:
        self.scheme = scheme
        self.space = space
        self.path = path
        self.query = query
        self.anchor = anchor


def parse_url(url: str) -> CtkLink | None:
    """Parse one of ctk's link forms; ``None`` for any other URL."""
    scheme, sep, rest = url.partition(":")
    if not sep or scheme not in SCHEMES:
        return None
    anchor = None
    if "#" in rest:
        rest, _, frag = rest.partition("#")
        anchor = decode(frag)
    query: list[tuple[str, str]] = []
    if "?" in rest:
        rest, _, q = rest.partition("?")
        for item in q.split("&"):
            if not item:
                continue
            k, _, v = item.partition("=")
            query.append((decode(k), decode(v)))
    space = None
    if rest.startswith("//"):
        space, _, rest = rest[2:].partition("/")
        space = decode(space)
    return CtkLink(scheme, space, rest, query, anchor)


def split_attachment_path(path: str) -> tuple[str | None, str]:
    """``Page title/file.png`` -> (title, filename); ``file.png`` -> (None, filename)."""
    if "/" in path:
        title, _, filename = path.rpartition("/")
        return decode(title), decode(filename)
    return None, decode(path)


# --------------------------------------------------------------------------------------------
# Raw storage blocks in Markdown
# --------------------------------------------------------------------------------------------

_TAG_AT_START = re.compile(r"</?(" + xhtml._QNAME + r")")


def raw_block_start(line: str) -> bool:
    """Whether a Markdown line starts one of ctk's raw storage blocks.

    The line must start with a tag that is prefixed (``<ac:...>``, ``</ri:...>``) or a
    block-level HTML element, and hold nothing but complete tags and elements (text only
    inside them). The block then runs to the next blank line outside CDATA and comments.
    """
    m = _TAG_AT_START.match(line)
    if m is None:
        return False
    name = m.group(1)
    if ":" in name:
        if name.split(":", 1)[0] not in xhtml.KNOWN_PREFIXES:
            return False  # <confluence-page:Title> is an autolink, not storage
    elif name.lower() in INLINE_HTML:
        return False
    opened = 0  # elements opened on this line and still open
    first = True
    for tok in xhtml.tokenize(line):
        kind = tok[0]
        if first and kind not in (xhtml.START, xhtml.END):
            return False
        first = False
        if kind == xhtml.START:
            if not tok[4][1] and tok[3].lower() not in xhtml.VOID_ELEMENTS:
                opened += 1
        elif kind == xhtml.END:
            if opened:
                opened -= 1
        elif kind == xhtml.TEXT:
            if not opened and tok[3].strip():
                return False
        elif kind == xhtml.OTHER:
            return False
    return True


_MODES = {"<![CDATA[": "]]>", "<!--": "-->"}
_OPENERS = re.compile(r"<!\[CDATA\[|<!--")


def scan_raw_line(line: str, closer: str | None) -> str | None:
    """Carry the CDATA/comment state across one line of a raw block.

    ``closer`` is the terminator we are inside (``]]>`` or ``-->``) or None; returns the state
    at the end of the line.
    """
    pos = 0
    while True:
        if closer is not None:
            k = line.find(closer, pos)
            if k < 0:
                return closer
            pos = k + len(closer)
            closer = None
        m = _OPENERS.search(line, pos)
        if m is None:
            return None
        closer = _MODES[m.group(0)]
        pos = m.end()
