"""Inline Markdown tokens to storage: text, emphasis, code, breaks, links (plain, and ctk's
forms for pages, attachments, people, spaces and statuses), images, emoticons and raw inline
markup."""

from __future__ import annotations

from typing import Any

from markdown_it.token import Token

from ctk_core.convert import dialect
from ctk_core.convert.storage_writer import Writer

__all__ = ["InlineRenderer", "plain_text"]


def _attachment(ref: dialect.CtkLink) -> tuple[str, list[tuple[str, str]] | None]:
    """An attachment link's file name, and the ``ri:page`` attributes of the page it is on
    (None: the page being written)."""
    title, filename = dialect.split_attachment_path(ref.path)
    if title is None:
        return filename, None
    page = [("ri:content-title", title)]
    if ref.space is not None:
        page.append(("ri:space-key", ref.space))
    return filename, page


def plain_text(tokens: list[Token]) -> str | None:
    """The text of inline tokens when they are plain text only."""
    out = []
    for t in tokens:
        if t.type in ("text", "text_special"):
            out.append(t.content)
        elif t.type == "softbreak":
            out.append(" ")
        else:
            return None
    return "".join(out)


def _text_of(tokens: list[Token]) -> str:
    out = []
    for t in tokens:
        if t.type in ("text", "text_special", "code_inline"):
            out.append(t.content)
        elif t.type in ("softbreak", "hardbreak"):
            out.append(" ")
        elif t.type == "image" and t.children:
            out.append(_text_of(t.children))
        elif t.type == "ctk_emoticon":
            out.append(f":{t.meta['name']}:")
    return "".join(out)


class InlineRenderer:
    """Writes inline tokens through a ``Writer``; ``BlockRenderer`` builds on it."""

    def __init__(self, writer: Writer) -> None:
        self.w = writer

    def macro(self, name: str, params: list[tuple[str, str]], body: str | None = None) -> None:
        w = self.w
        w.open("ac:structured-macro", [("ac:name", name), ("ac:schema-version", "1")])
        for key, value in params:
            w.open("ac:parameter", [("ac:name", key)])
            w.text(value)
            w.close("ac:parameter")
        if body is not None:
            w.open("ac:plain-text-body")
            w.cdata(body)
            w.close("ac:plain-text-body")

    def inline(self, tokens: list[Token]) -> None:
        w = self.w
        i = 0
        n = len(tokens)
        while i < n:
            tok = tokens[i]
            typ = tok.type
            if typ in ("text", "text_special"):
                w.text(tok.content)
            elif typ == "softbreak":
                w.text(" ")
            elif typ == "hardbreak":
                w.void("br")
            elif typ == "code_inline":
                w.open("code")
                w.text(tok.content)
                w.close("code")
            elif typ in ("strong_open", "em_open", "s_open"):
                w.open(typ[:-5] if typ != "s_open" else "s")
            elif typ in ("strong_close", "em_close", "s_close"):
                w.close(typ[:-6] if typ != "s_close" else "s")
            elif typ == "html_inline":
                w.raw(tok.content)
            elif typ == "image":
                self.image(tok)
            elif typ == "ctk_emoticon":
                w.void("ac:emoticon", [("ac:name", tok.meta["name"])])
            elif typ == "link_open":
                depth = 1
                j = i + 1
                while j < n:
                    if tokens[j].type == "link_open":
                        depth += 1
                    elif tokens[j].type == "link_close":
                        depth -= 1
                        if depth == 0:
                            break
                    j += 1
                self.link(tok, tokens[i + 1 : j])
                i = j
            i += 1

    def link(self, tok: Token, inner: list[Token]) -> None:
        w = self.w
        href = str(tok.attrGet("href") or "")
        ref = dialect.parse_url(href)
        if ref is not None and tok.markup == "autolink":
            inner = []  # <confluence-page:Title> shows what Confluence shows
        if ref is None and href.startswith("#") and len(href) > 1:
            self.ac_link([("ac:anchor", href[1:])], None, inner, href[1:])
            return
        if ref is None:
            title = tok.attrGet("title")
            attrs: list[tuple[str, Any]] = [("href", href)]
            if title is not None:
                attrs.append(("title", title))
            w.open("a", attrs)
            self.inline(inner)
            w.close("a")
            return
        link_attrs = [(k, v) for k, v in ref.query if k.startswith("ac:") and k != "ac:anchor"]
        target_attrs = [(k, v) for k, v in ref.query if k.startswith("ri:")]
        if ref.anchor is not None:
            link_attrs.insert(0, ("ac:anchor", ref.anchor))
        path = dialect.decode(ref.path)
        if ref.scheme == dialect.STATUS:
            params = []
            if path:
                params.append(("colour", path))
            title = _text_of(inner)
            if title:
                params.append(("title", title))
            params.extend((k, v) for k, v in ref.query if k not in ("colour", "title"))
            self.macro("status", params)
            w.close("ac:structured-macro")
            return
        if ref.scheme == dialect.PAGE:
            attrs = [("ri:content-title", path)]
            if ref.space is not None:
                attrs.append(("ri:space-key", ref.space))
            self.ac_link(link_attrs, ("ri:page", attrs + target_attrs, None), inner, path)
        elif ref.scheme == dialect.ATTACHMENT:
            filename, page = _attachment(ref)
            self.ac_link(
                link_attrs,
                ("ri:attachment", [("ri:filename", filename), *target_attrs], page),
                inner,
                filename,
            )
        elif ref.scheme == dialect.USER:
            self.ac_link(
                link_attrs,
                ("ri:user", [("ri:account-id", path), *target_attrs], None),
                inner,
                "@" + path,
                mention=True,
            )
        else:
            self.ac_link(
                link_attrs, ("ri:space", [("ri:space-key", path), *target_attrs], None), inner, path
            )

    def ac_link(
        self,
        attrs: list,
        target: tuple | None,
        inner: list[Token],
        default: str,
        mention: bool = False,
    ) -> None:
        """An ``ac:link``; its text becomes a body unless it is what Confluence shows without
        one (for a mention: any plain text starting with ``@``, the person's name or id)."""
        w = self.w
        w.open("ac:link", attrs)
        if target is not None:
            self.resource(target)
        plain = plain_text(inner)
        if plain is not None:
            if plain and plain != default and not (mention and plain.startswith("@")):
                w.open("ac:plain-text-link-body")
                w.cdata(plain)
                w.close("ac:plain-text-link-body")
        else:
            w.open("ac:link-body")
            self.inline(inner)
            w.close("ac:link-body")
        w.close("ac:link")

    def resource(self, target: tuple) -> None:
        name, attrs, page = target
        if page is None:
            self.w.void(name, attrs)
        else:
            self.w.open(name, attrs)
            self.w.void("ri:page", page)
            self.w.close(name)

    def image(self, tok: Token) -> None:
        src = str(tok.attrGet("src") or "")
        alt = _text_of(tok.children or [])
        title = tok.attrGet("title")
        ref = dialect.parse_url(src)
        attrs: list[tuple[str, Any]] = []
        if alt:
            attrs.append(("ac:alt", alt))
        if title is not None:
            attrs.append(("ac:title", title))
        if ref is not None and ref.scheme == dialect.ATTACHMENT:
            names = {k for k, _ in attrs}
            for k, v in ref.query:
                if k.startswith("ac:") and k not in names:
                    names.add(k)
                    attrs.append((k, v))
            filename, page = _attachment(ref)
            target_attrs = [("ri:filename", filename)]
            target_attrs += [
                (k, v) for k, v in ref.query if k.startswith("ri:") and k != "ri:filename"
            ]
            self.w.open("ac:image", attrs)
            self.resource(("ri:attachment", target_attrs, page))
            self.w.close("ac:image")
            return
        self.w.open("ac:image", attrs)
        self.w.void("ri:url", [("ri:value", src)])
        self.w.close("ac:image")
