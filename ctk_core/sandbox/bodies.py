"""Body representations: the store keeps storage XHTML; these derive the others (roughly).

The real service renders ``view`` HTML and ``atlas_doc_format`` JSON from storage. The sandbox
only needs shapes a client can handle: ``view`` renders code macros as ``<pre>``, drops the
other ``ac:``/``ri:`` markup and keeps its text; ADF is a document of one paragraph per block
with the text.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

_MACRO_TAG = re.compile(r"</?(?:ac|ri):[^>]*>")
_CDATA = re.compile(r"<!\[CDATA\[(.*?)\]\]>", re.S)
_TAG = re.compile(r"<[^>]+>")
_BLOCK_END = re.compile(r"</(?:p|h[1-6]|li|tr|pre|blockquote|div)>", re.I)


_CODE_MACRO = re.compile(
    r"<ac:structured-macro\b[^>]*\bac:name=\"code\"[^>]*>(.*?)</ac:structured-macro>", re.S
)
_LANGUAGE = re.compile(r"<ac:parameter\b[^>]*\bac:name=\"language\"[^>]*>([^<]*)</ac:parameter>")
_PLAIN_BODY = re.compile(r"<ac:plain-text-body>(.*?)</ac:plain-text-body>", re.S)
_LANGUAGE_NAME = re.compile(r"[^A-Za-z0-9_+#.-]")


def _code_view(match: re.Match[str]) -> str:
    """A code macro as ``view`` renders it: ``<pre>`` with the code only, the language as its
    class (``language-python``); the other parameters (title, theme...) are not shown."""
    inner = match.group(1)
    body = _PLAIN_BODY.search(inner)
    code = "".join(_CDATA.findall(body.group(1))) if body else ""
    language = _LANGUAGE.search(inner)
    name = _LANGUAGE_NAME.sub("", html.unescape(language.group(1))) if language else ""
    attrs = f' class="language-{name}"' if name else ""
    return f"<pre{attrs}>{html.escape(code)}</pre>"


def storage_to_view(storage: str) -> str:
    text = _CODE_MACRO.sub(_code_view, storage)
    text = _CDATA.sub(lambda m: html.escape(m.group(1)), text)
    return _MACRO_TAG.sub("", text)


def storage_to_text(storage: str) -> str:
    text = _CDATA.sub(lambda m: m.group(1), storage)
    text = _BLOCK_END.sub("\n", text)
    return html.unescape(_TAG.sub("", text)).strip()


def storage_to_adf(storage: str) -> str:
    paragraphs = [line.strip() for line in storage_to_text(storage).split("\n") if line.strip()]
    content = [{"type": "paragraph", "content": [{"type": "text", "text": p}]} for p in paragraphs]
    return json.dumps({"type": "doc", "version": 1, "content": content})


def _adf_text(node: Any) -> list[str]:
    if isinstance(node, dict):
        if node.get("type") == "text":
            return [str(node.get("text", ""))]
        parts: list[str] = []
        for child in node.get("content") or []:
            parts.extend(_adf_text(child))
        return parts
    return []


def adf_to_storage(adf: str | dict[str, Any]) -> str:
    doc = json.loads(adf) if isinstance(adf, str) else adf
    if not isinstance(doc, dict):
        raise ValueError("not an ADF document")
    blocks = doc.get("content") or []
    return "".join(f"<p>{html.escape(''.join(_adf_text(b)))}</p>" for b in blocks)


def wiki_to_storage(text: str) -> str:
    return "".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines() if line.strip())


def body_from_write(body: Any) -> str:
    """Storage XHTML from a write body: ``{representation, value}`` or ``{storage: {...}}``.

    Raises ValueError with a message for an unusable body.
    """
    if not isinstance(body, dict):
        raise ValueError("body must be an object")
    if "representation" not in body:
        for name in ("storage", "atlas_doc_format", "wiki"):
            if isinstance(body.get(name), dict):
                inner = dict(body[name])
                inner.setdefault("representation", name)
                return body_from_write(inner)
        if not body:
            return ""
        raise ValueError("body needs a representation and a value")
    rep, value = body.get("representation"), body.get("value", "")
    if not isinstance(value, str):
        raise ValueError("body value must be a string")
    if rep == "storage":
        return value
    if rep == "atlas_doc_format":
        try:
            return adf_to_storage(value)
        except (ValueError, AttributeError):
            raise ValueError("atlas_doc_format value is not an ADF JSON document") from None
    if rep == "wiki":
        return wiki_to_storage(value)
    raise ValueError(f"unsupported body representation {rep!r}")


def render_body(storage: str, fmt: str | None) -> dict[str, Any]:
    """The response ``body`` object: empty unless a format was asked for."""
    if not fmt:
        return {}
    if fmt == "storage":
        value = storage
    elif fmt == "atlas_doc_format":
        value = storage_to_adf(storage)
    else:  # view and the other HTML renderings
        value = storage_to_view(storage)
    return {fmt: {"representation": fmt, "value": value}}
