"""The one place storage output is produced: ``Writer`` keeps it well-formed XML whatever raw
markup the Markdown holds. Balanced raw markup is copied byte for byte; anything else is
repaired (unclosed elements are closed, stray end tags dropped, bad tokens re-serialised)."""

from __future__ import annotations

from ctk_core.convert import xhtml

__all__ = ["Writer"]


def _attrs(attrs) -> str:
    return "".join(f' {k}="{xhtml.escape_attr(v)}"' for k, v in attrs)


class Writer:
    """Collects storage output. Elements the converter generates are always balanced; raw
    markup from the Markdown may not be, so its elements are tracked in "segments" (the raw
    elements opened inside the innermost generated element) and repaired as needed."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.stack: list[tuple[str, bool]] = []  # (name, generated)
        self.counts: list[dict[str, int]] = [{}]

    def open(self, name: str, attrs=()) -> None:
        self.parts.append(f"<{name}{_attrs(attrs)}>")
        self.stack.append((name, True))
        self.counts.append({})

    def close(self, name: str) -> None:
        while self.stack and not self.stack[-1][1]:
            self.parts.append(f"</{self.stack.pop()[0]}>")
        self.stack.pop()
        self.counts.pop()
        self.parts.append(f"</{name}>")

    def void(self, name: str, attrs=()) -> None:
        self.parts.append(f"<{name}{_attrs(attrs)}/>")

    def text(self, text: str) -> None:
        if text:
            text = xhtml.escape_text(text)
            if "\xa0" in text:  # keep no-break spaces visible, as Confluence does
                text = text.replace("\xa0", "&#160;")
            self.parts.append(text)

    def cdata(self, text: str) -> None:
        self.parts.append(xhtml.cdata_section(text))

    def raw(self, piece: str) -> None:
        """Raw storage from the Markdown, kept byte for byte where it is well-formed."""
        parts = self.parts
        for tok in xhtml.tokenize(piece):
            kind, start, end = tok[0], tok[1], tok[2]
            if kind == xhtml.TEXT:
                parts.append(piece[start:end] if tok[5] else xhtml.escape_text(tok[3]))
            elif kind == xhtml.CDATA:
                parts.append(piece[start:end] if tok[5] else xhtml.cdata_section(tok[3]))
            elif kind == xhtml.COMMENT:
                parts.append(piece[start:end] if tok[5] else xhtml.comment(tok[3]))
            elif kind == xhtml.START:
                name = tok[3]
                if not xhtml._prefix_ok(name):
                    continue
                attrs, self_closing = tok[4]
                void = self_closing or name.lower() in xhtml.VOID_ELEMENTS
                if tok[5] and (self_closing or not void):
                    parts.append(piece[start:end])
                else:
                    parts.append(f"<{name}{_clean_attrs(attrs)}{'/>' if void else '>'}")
                if not void:
                    self.stack.append((name, False))
                    seg = self.counts[-1]
                    seg[name] = seg.get(name, 0) + 1
            elif kind == xhtml.END:
                name = tok[3]
                seg = self.counts[-1]
                if not seg.get(name):
                    continue  # nothing to close here: dropped
                while True:
                    top = self.stack.pop()[0]
                    seg[top] -= 1
                    if top == name:
                        parts.append(piece[start:end])
                        break
                    parts.append(f"</{top}>")

    def finish(self) -> str:
        while self.stack:
            self.parts.append(f"</{self.stack.pop()[0]}>")
        return "".join(self.parts)


def _clean_attrs(attrs: list[tuple[str, str]]) -> str:
    seen: set[str] = set()
    out = []
    for name, value in attrs:
        if name in seen or not xhtml.valid_attr_name(name):
            continue
        seen.add(name)
        out.append((name, value))
    return _attrs(out)
