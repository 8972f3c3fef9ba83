"""Escaping for the Markdown that ``storage_to_markdown`` writes: text that must stay text,
link destinations and titles, code spans and fences, info-string values, and the check for a
paragraph that markdown-it would read as an HTML block.

Every function here answers "what do I write so that markdown-it (with ctk's rules) reads back
exactly this?".
"""

from __future__ import annotations

import re

from markdown_it.common.html_blocks import block_names
from markdown_it.common.html_re import HTML_OPEN_CLOSE_TAG_STR

from ctk_core.convert import dialect

__all__ = [
    "INFO_BARE",
    "code_fence",
    "code_span",
    "escape_line_start",
    "escape_md",
    "info_value",
    "link_destination",
    "link_title",
    "starts_html_block",
]

_MD_SPACE_CHARS = "\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\u2028\u2029"
_MD_ESCAPE_ANY = (
    r"|<(?=[^\s\d=]|\Z)"
    r"|&(?=[A-Za-z#]|\Z)"
    r"|(?i:https?)(?=://)"
    r"|"
    + dialect.EMOTICON_RE.pattern.replace(":(", ":(?=(", 1).replace("):", "):)", 1)
    + r"|["
    + _MD_SPACE_CHARS
    + "]"
)
_MD_ESCAPE = re.compile(r"[\\`*\[\]~|_]" + _MD_ESCAPE_ANY)
# In table cells pipes are escaped afterwards, all at once (see md_blocks.Converter.cell).
_MD_ESCAPE_CELL = re.compile(r"[\\`*\[\]~_]" + _MD_ESCAPE_ANY)
# A quick test: text without any of these needs no escaping at all.
_MAYBE_SPECIAL = re.compile(r"[\\`*\[\]~|_<&:" + _MD_SPACE_CHARS + "]")
_ORDERED_START = re.compile(r"[0-9]{1,9}[.)]")
_HTML_BLOCK_START = re.compile(
    r"<(?:(?i:script|pre|style|textarea)(?:\s|>|$)|!--|\?|![A-Za-z]|!\[CDATA\[|/?(?i:"
    + "|".join(block_names)
    + r")(?:\s|/?>|$))"
)
_REF_DEF = re.compile(r"\[(?:[^\]\\]|\\.)*\]:")
_HTML_BLOCK_7 = re.compile(HTML_OPEN_CLOSE_TAG_STR + r"\s*$")
_BACKTICKS = re.compile(r"`+")
_DEST_ANGLE = re.compile(r"[\x00- \x7f]")
_ENTITY_LIKE = re.compile(r"&(?=[A-Za-z#][A-Za-z0-9]{0,31};)")
INFO_BARE = re.compile(r"""[^\s"'`=\\&<>\]]+\Z""")
_INFO_QUOTABLE = re.compile(r"""[^"`\n\]]*\Z""")


def starts_html_block(line: str) -> bool:
    """Would markdown-it (with ctk's rules) read this paragraph's first line as the start of an
    HTML block (or, for a "[" with a "]" in a code span, as a link reference definition)?"""
    if line.startswith("["):
        return bool(_REF_DEF.match(line))
    if not line.startswith("<"):
        return False
    first = line.split("\n", 1)[0]
    return bool(
        _HTML_BLOCK_START.match(first)
        or _HTML_BLOCK_7.match(first)
        or dialect.raw_block_start(first)
    )


def _escape_one(m: re.Match[str]) -> str:
    s = m.group(0)
    if s == "_":
        t, i = m.string, m.start()
        if 0 < i < len(t) - 1 and t[i - 1].isalnum() and t[i + 1].isalnum():
            return s
        return "\\_"
    if len(s) > 1:  # an URL scheme: escape the colon that follows
        return s + "\\"
    if s == "\u00a0":
        return "&nbsp;"
    if s in "\u1680\u202f\u205f\u3000\u2028\u2029" or "\u2000" <= s <= "\u200a":
        return f"&#x{ord(s):X};"
    return "\\" + s


def escape_md(text: str, pipes: bool = True) -> str:
    """Escape text so that markdown-it (with ctk's rules) reads it back literally."""
    if not _MAYBE_SPECIAL.search(text):
        return text
    return (_MD_ESCAPE if pipes else _MD_ESCAPE_CELL).sub(_escape_one, text)


def escape_line_start(s: str) -> str:
    if s[0] in "#>-+=":
        return "\\" + s
    m = _ORDERED_START.match(s)
    if m:
        return s[: m.end() - 1] + "\\" + s[m.end() - 1 :]
    return s


def link_destination(url: str) -> str:
    """A link destination that markdown-it reads back as exactly ``url``."""
    url = url.replace("\\", "\\\\")
    url = _ENTITY_LIKE.sub("\\\\&", url)
    if _DEST_ANGLE.search(url) or url.startswith("<"):
        return "<" + url.replace("<", "\\<").replace(">", "\\>") + ">"
    return url.replace("(", "\\(").replace(")", "\\)")


def link_title(title: str) -> str:
    t = title.replace("\\", "\\\\").replace('"', '\\"')
    return ' "' + _ENTITY_LIKE.sub("\\\\&", t) + '"'


def code_span(text: str) -> str | None:
    runs = {len(r) for r in _BACKTICKS.findall(text)}
    n = 1
    while n in runs:
        n += 1
    if n >= 3:
        return None
    fence = "`" * n
    if (
        text[0] == "`"
        or text[-1] == "`"
        or (text[0] == " " and text[-1] == " " and text.strip(" "))
    ):
        text = " " + text + " "
    return fence + text + fence


def code_fence(body: str, info: str) -> str:
    runs = [len(r) for r in _BACKTICKS.findall(body)]
    fence = "`" * max(3, max(runs, default=0) + 1)
    if not body:
        return f"{fence}{info}\n{fence}"
    return f"{fence}{info}\n{body}\n{fence}"


def info_value(value: str) -> str | None:
    if INFO_BARE.match(value):
        return value
    if _INFO_QUOTABLE.match(value):
        return '"' + value.replace("\\", "\\\\").replace("&", "\\&") + '"'
    return None
