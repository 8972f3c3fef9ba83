"""The Markdown parser of the ctk dialect: markdown-it-py (CommonMark plus GFM tables and
strikethrough) with ctk's own rules, and the tree the storage writer reads.

ctk's rules: raw storage blocks and inline elements (``<ac:...>``), ``[TOC]``, bare URLs and
``:emoticon:`` names (docs/markdown.md). Link targets are kept as written.
"""

from __future__ import annotations

import re
import threading

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from ctk_core.convert import dialect, xhtml

__all__ = ["Node", "parser", "tree"]

_lock = threading.Lock()
_parser: MarkdownIt | None = None


def parser() -> MarkdownIt:
    """ctk's markdown-it parser, built once per process (thread-safe)."""
    global _parser
    with _lock:
        if _parser is None:
            md = MarkdownIt("commonmark", {"html": True, "maxNesting": 100})
            md.enable(["table", "strikethrough"])
            # Link targets are kept byte for byte: no percent-encoding, no scheme filtering
            # (Confluence applies its own); ctk's link forms use custom schemes.
            md.validateLink = lambda url: True  # type: ignore[method-assign]
            md.normalizeLink = lambda url: url  # type: ignore[method-assign,assignment]
            md.normalizeLinkText = lambda link: link  # type: ignore[method-assign]
            md.block.ruler.before("html_block", "ctk_raw_block", _raw_block_rule)
            md.block.ruler.before("paragraph", "ctk_toc", _toc_rule)
            md.inline.ruler.before("autolink", "ctk_raw_inline", _raw_inline_rule)
            md.core.ruler.before("text_join", "ctk_text", _text_rule)
            md.parse("# warm-up: compile the rule chains *x* <u>y</u>\n\n- z\n", {})
            _parser = md
        return _parser


# --------------------------------------------------------------------------------------------
# markdown-it rules
# --------------------------------------------------------------------------------------------


def _raw_block_rule(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """Raw storage markup starting a line (see dialect.raw_block_start)."""
    if state.is_code_block(start):
        return False
    pos = state.bMarks[start] + state.tShift[start]
    maximum = state.eMarks[start]
    if pos >= maximum or state.src[pos] != "<":
        return False
    line = state.src[pos:maximum]
    if not dialect.raw_block_start(line):
        return False
    if silent:
        return True
    closer = dialect.scan_raw_line(line, None)
    nxt = start + 1
    while nxt < end:
        if state.isEmpty(nxt):
            if closer is None:
                break
            nxt += 1
            continue
        if state.sCount[nxt] < state.blkIndent:
            break
        text = state.src[state.bMarks[nxt] + state.tShift[nxt] : state.eMarks[nxt]]
        closer = dialect.scan_raw_line(text, closer)
        nxt += 1
    state.line = nxt
    token = state.push("html_block", "", 0)
    token.map = [start, nxt]
    token.content = state.getLines(start, nxt, state.blkIndent, True)
    return True


_TOC = re.compile(
    r"\[TOC((?:[ \t]+[A-Za-z_][\w.\-]*=(?:\"[^\"\]\n]*\"|[^\s\"\]]+))*)[ \t]*\][ \t]*\Z"
)
_TOC_PARAM = re.compile(r"([A-Za-z_][\w.\-]*)=(?:\"([^\"\]\n]*)\"|([^\s\"\]]+))")


def _toc_rule(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """``[TOC]`` (optionally ``[TOC maxLevel=3 ...]``) alone on a line: the toc macro."""
    if state.is_code_block(start):
        return False
    pos = state.bMarks[start] + state.tShift[start]
    line = state.src[pos : state.eMarks[start]]
    if not line.startswith("[TOC"):
        return False
    m = _TOC.match(line)
    if m is None:
        return False
    if silent:
        return True
    token = state.push("ctk_toc", "", 0)
    token.map = [start, start + 1]
    token.meta = {
        "params": [
            (p.group(1), p.group(2) if p.group(2) is not None else p.group(3))
            for p in _TOC_PARAM.finditer(m.group(1))
        ]
    }
    state.line = start + 1
    return True


def _raw_inline_rule(state: StateInline, silent: bool) -> bool:
    """A storage tag (``<u>``, ``<span ...>``) or a whole prefixed element (``<ac:...>...``)."""
    pos = state.pos
    src = state.src
    if src[pos] != "<":
        return False
    tok = xhtml.tag_at(src, pos)
    if tok is None or (":" in tok[3] and tok[3].split(":", 1)[0] not in xhtml.KNOWN_PREFIXES):
        return False  # not storage: <confluence-page:Title> is an autolink
    end = tok[2]
    if tok[0] == xhtml.START and ":" in tok[3] and not tok[4][1]:
        end = _balanced_ends(state).get(pos, end)
        if end > state.posMax:
            end = tok[2]
    if end > state.posMax:
        return False
    if not silent:
        token = state.push("html_inline", "", 0)
        token.content = src[pos:end]
    state.pos = end
    return True


def _balanced_ends(state: StateInline) -> dict[int, int]:
    """For each prefixed start tag in the inline source, where its element ends (cached)."""
    cache = state.env.setdefault("ctk_balanced", {})
    key = id(state.src)
    hit = cache.get(key)
    if hit is not None and hit[0] is state.src:
        return hit[1]
    ends: dict[int, int] = {}
    stack: list[tuple[str, int]] = []
    counts: dict[str, int] = {}
    for tok in xhtml.tokenize(state.src):
        if tok[0] == xhtml.START and not tok[4][1] and tok[3].lower() not in xhtml.VOID_ELEMENTS:
            stack.append((tok[3], tok[1]))
            counts[tok[3]] = counts.get(tok[3], 0) + 1
        elif tok[0] == xhtml.END and counts.get(tok[3]):
            while stack:
                name, start = stack.pop()
                counts[name] -= 1
                if name == tok[3]:
                    ends[start] = tok[2]
                    break
    cache[key] = (state.src, ends)
    return ends


_BARE_URL = re.compile(r"(?<![^\s(*_~])(?i:https?)://[^\s<]+")
_URL_TRAIL = "?!.,:*_~"
_ENTITY_TAIL = re.compile(r"&[A-Za-z0-9]+;\Z")


def _url_end(text: str, start: int, end: int) -> int:
    while end > start:
        ch = text[end - 1]
        unbalanced = ch == ")" and text.count("(", start, end) < text.count(")", start, end)
        if ch in _URL_TRAIL or unbalanced:
            end -= 1
        elif ch == ";":
            m = _ENTITY_TAIL.search(text, start, end)
            if m is None:
                break
            end = m.start()
        else:
            break
    return end


def _text_rule(state: StateCore) -> None:
    """Bare ``http(s)://`` URLs become links; ``:name:`` (Confluence emoticons) emoticons.

    Runs before markdown-it joins escaped characters into text, so ``https\\://`` and
    ``\\:smile:`` stay literal.
    """
    for block in state.tokens:
        if block.type == "inline" and block.children:
            block.children = _autolink_text(block.children)


def _autolink_text(children: list[Token]) -> list[Token]:
    if not any(c.type == "text" and (":" in c.content) for c in children):
        return children
    out: list[Token] = []
    link_depth = 0
    for tok in children:
        if tok.type == "link_open":
            link_depth += 1
        elif tok.type == "link_close":
            link_depth -= 1
        if tok.type != "text" or ":" not in tok.content:
            out.append(tok)
            continue
        out.extend(_split_text(tok, urls=not link_depth))
    return out


def _split_text(tok: Token, urls: bool) -> list[Token]:
    text = tok.content
    found: list[tuple[int, int, str]] = []
    for m in _BARE_URL.finditer(text) if urls else ():
        end = _url_end(text, m.start(), m.end())
        if end - m.start() > m.group(0).index("://") + 3:
            found.append((m.start(), end, "url"))
    for m in dialect.EMOTICON_RE.finditer(text):
        if not any(s <= m.start() < e for s, e, _ in found):
            found.append((m.start(), m.end(), "emoticon"))
    if not found:
        return [tok]
    found.sort()
    out: list[Token] = []
    pos = 0

    def text_token(content: str) -> None:
        t = Token("text", "", 0)
        t.content = content
        t.level = tok.level
        out.append(t)

    for start, end, kind in found:
        if start < pos:
            continue
        if start > pos:
            text_token(text[pos:start])
        if kind == "url":
            url = text[start:end]
            lo = Token("link_open", "a", 1)
            lo.attrs = {"href": url}
            lo.markup = "linkify"
            lo.info = "auto"
            out.append(lo)
            text_token(url)
            out.append(Token("link_close", "a", -1))
        else:
            em = Token("ctk_emoticon", "", 0)
            em.meta = {"name": text[start + 1 : end - 1]}
            out.append(em)
        pos = end
    if pos < len(text):
        text_token(text[pos:])
    return out


class Node:
    """One node of the token tree: an opening or a leaf token and what it holds."""

    __slots__ = ("children", "tok")

    def __init__(self, tok: Token | None) -> None:
        self.tok = tok
        self.children: list[Node] = []


def tree(tokens: list[Token]) -> Node:
    """markdown-it's flat token stream as a tree: each opening token holds what it encloses."""
    root = Node(None)
    stack = [root]
    for tok in tokens:
        if tok.nesting == 1:
            node = Node(tok)
            stack[-1].children.append(node)
            stack.append(node)
        elif tok.nesting == -1:
            if len(stack) > 1:
                stack.pop()
        else:
            stack[-1].children.append(Node(tok))
    return root
