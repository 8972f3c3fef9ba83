"""The ctk link forms of ``ac:link`` targets and attachment images on the way to Markdown:
``confluence-page:``, ``confluence-attachment:``, ``confluence-user:``, ``confluence-space:``
URLs (docs/markdown.md, Links) built from the ``ri:`` resource elements."""

from __future__ import annotations

from ctk_core.convert import dialect
from ctk_core.convert.md_nodes import is_space
from ctk_core.convert.xhtml import Element

__all__ = ["link_target", "resource_url"]


def link_target(el: Element) -> tuple[str, str] | None:
    """(url, default text) of an ``ac:link``, or None when Markdown cannot say it."""
    anchor = None
    query: list[tuple[str, str]] = []
    for name, value in el.attrs:
        if name == "ac:anchor" and anchor is None:
            anchor = value
        elif name.startswith("ac:"):
            query.append((name, value))
        else:
            return None
    target = None
    for child in el.children:
        if is_space(child):
            continue
        if not isinstance(child, Element):
            return None
        if child.key.startswith("ri:") and target is None:
            target = child
        elif child.key not in ("ac:plain-text-link-body", "ac:link-body"):
            return None
    if target is None:
        if anchor is None or query:
            return None
        return "#" + anchor, anchor
    return resource_url(target, query, anchor)


def resource_url(
    target: Element, query: list[tuple[str, str]], anchor: str | None
) -> tuple[str, str] | None:
    key = target.key
    attrs = dict(target.attrs)
    if len(attrs) != len(target.attrs):
        return None
    extra = [(k, v) for k, v in target.attrs if k.startswith("ri:")]
    if len(extra) != len(target.attrs):
        return None
    if key == "ri:page":
        title = attrs.get("ri:content-title")
        if title is None or any(not is_space(c) for c in target.children):
            return None
        space = attrs.get("ri:space-key")
        rest = [(k, v) for k, v in extra if k not in ("ri:content-title", "ri:space-key")]
        url = dialect.build_url(
            dialect.PAGE,
            dialect.encode(title),
            None if space is None else dialect.encode(space, False),
            query + rest,
            anchor,
        )
        return url, title
    if key == "ri:attachment":
        filename = attrs.get("ri:filename")
        if filename is None:
            return None
        page = None
        for c in target.children:
            if is_space(c):
                continue
            if page is not None or not isinstance(c, Element) or c.key != "ri:page":
                return None
            page = c
        path = dialect.encode(filename, False)
        space = None
        if page is not None:
            pattrs = dict(page.attrs)
            ptitle = pattrs.pop("ri:content-title", None)
            space = pattrs.pop("ri:space-key", None)
            if ptitle is None or pattrs or page.children:
                return None
            path = dialect.encode(ptitle) + "/" + path
            if space is not None:
                space = dialect.encode(space, False)
        rest = [(k, v) for k, v in extra if k != "ri:filename"]
        return dialect.build_url(dialect.ATTACHMENT, path, space, query + rest, anchor), filename
    if key in ("ri:user", "ri:space"):
        ident = "ri:account-id" if key == "ri:user" else "ri:space-key"
        value = attrs.get(ident)
        if value is None or target.children:
            return None
        rest = [(k, v) for k, v in extra if k != ident]
        scheme = dialect.USER if key == "ri:user" else dialect.SPACE
        url = dialect.build_url(scheme, dialect.encode(value, False), None, query + rest, anchor)
        return url, ("@" + value if key == "ri:user" else value)
    return None
