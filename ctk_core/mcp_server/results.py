"""What a tool call answers: compact JSON within the response cap, or one error message.

A result over ``CTK_MAX_RESPONSE_BYTES`` is shortened so that it stays valid JSON (list items
dropped from the end, long strings cut at a line end) and gains a ``truncated`` field saying what
was cut and where the full result was saved (under the log folder). A list that lost items gets a
continuation cursor as its ``next_cursor`` (:class:`PageAt`), so that following it shows the
dropped items next.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ctk_core import files
from ctk_core.errors import AuthError, CtkError, UsageError
from ctk_core.inline import Inline, bare_type
from ctk_core.plugin import LIMIT, Operation, Resource

log = logging.getLogger("ctk.mcp")

DEFAULT_MAX_RESPONSE_BYTES = 40000
#: CTK_MCP_INLINE_MAX_BYTES: the largest file a result shows as an image or text block (1 MiB).
DEFAULT_INLINE_MAX_BYTES = 1048576


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def _size(value: Any) -> int:
    return len(dumps(value).encode("utf-8"))


def _walk(value: Any, path: str = ""):
    """Yield (path, container, key, child) for every list and string inside ``value``."""
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for key, child in items:
        if isinstance(value, dict):
            child_path = f"{path}.{key}" if path else str(key)
        else:
            child_path = f"{path}[{key}]"
        if isinstance(child, (list, str)):
            yield child_path, value, key, child
        if isinstance(child, (dict, list)):
            yield from _walk(child, child_path)


def _cut_text(text: str, keep: int) -> str:
    """Cut ``text`` to at most ``keep`` characters, at a line end when one is near."""
    if keep <= 0:
        return ""
    head = text[:keep]
    newline = head.rfind("\n")
    if newline >= keep // 2:
        head = head[:newline]
    return head


def shorten(value: Any, cap: int) -> tuple[Any, list[str]]:
    """Shrink a JSON value to at most ``cap`` bytes (serialised), keeping it valid JSON.

    Lists lose items from the end; long strings are cut at a line. The biggest offender goes
    first. Returns ``(shortened copy, notes on what was cut)``; the caller adds the notes.
    """
    value = copy.deepcopy(value)
    notes: list[str] = []
    for _ in range(200):
        excess = _size(value) - cap
        if excess <= 0:
            break
        candidates = [
            c
            for c in _walk(value)
            if (isinstance(c[3], list) and len(c[3]) > 1)
            or (isinstance(c[3], str) and len(c[3]) > 80)
        ]
        if not candidates:
            break
        path, container, key, child = max(candidates, key=lambda c: _size(c[3]))
        if isinstance(child, list):
            total = len(child)
            lo, hi = 1, total - 1  # keep at least one item, drop at least one
            while lo < hi:  # largest kept count that fits
                mid = (lo + hi + 1) // 2
                container[key] = child[:mid]
                if _size(value) <= cap:
                    lo = mid
                else:
                    hi = mid - 1
            container[key] = child[:lo]
            notes.append(f"{path}: kept {lo} of {total} items")
        else:
            total = len(child)
            keep = max(0, total - excess - 40)
            cut = _cut_text(child, keep)
            container[key] = cut + "\n[...]"
            notes.append(f"{path}: cut to {len(cut)} of {total} characters")
    return value, _squash(notes)


def _squash(notes: list[str]) -> list[str]:
    """Merge repeated notes about one path (a list cut twice keeps the last count)."""
    seen: dict[str, str] = {}
    for note in notes:
        path = note.split(": ", 1)[0]
        if path in seen:
            total = seen[path].rsplit(" of ", 1)[1]
            note = note.rsplit(" of ", 1)[0] + " of " + total
        seen[path] = note
    return list(seen.values())


# --- continuation cursors ----------------------------------------------------------------------

CONTINUATION = "ctk1."  # how a continuation cursor starts; no Confluence cursor does


@dataclass(frozen=True)
class PageAt:
    """Where a list call starts: the page that ``cursor`` (None: the first page) fetches with
    ``limit`` items, from its item ``skip``.

    A list result cut to fit the cap cannot keep the handler's ``next_cursor``: it starts after
    all the fetched items, the dropped ones too. Its ``next_cursor`` becomes this position
    instead, encoded (:meth:`encode`, opaque to the caller); a call with it fetches the same page
    again, one request, and skips the items already delivered (:func:`continue_page`).
    """

    cursor: str | None
    limit: int
    skip: int = 0
    #: The call it belongs to (:func:`scope_of`): a cursor is refused by any other call.
    scope: str = ""

    def encode(self) -> str:
        raw = json.dumps([self.cursor, self.limit, self.skip, self.scope], separators=(",", ":"))
        return CONTINUATION + base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def of(cls, values: Mapping[str, Any], scope: str = "") -> PageAt:
        """Where a paged call with these (checked) arguments starts. A continuation cursor that
        is not one ctk made, or that another call (``scope``) made, is a UsageError; any other
        cursor is the handler's."""
        cursor = values.get("cursor") or None
        if cursor is None or not cursor.startswith(CONTINUATION):
            return cls(cursor, values["limit"], 0, scope)
        body = cursor[len(CONTINUATION) :]
        try:
            raw = base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_", validate=True)
            inner, limit, skip, made_for = json.loads(raw)
        except (ValueError, TypeError):  # bad base64, UTF-8 or JSON, or not four values
            inner, limit, skip, made_for = "", 0, 0, None
        inner_ok = inner is None or (
            isinstance(inner, str) and inner != "" and not inner.startswith(CONTINUATION)
        )
        limit_ok = type(limit) is int and (LIMIT.minimum or 1) <= limit <= (LIMIT.maximum or limit)
        if not (inner_ok and limit_ok and type(skip) is int and skip >= 1):
            raise UsageError("Invalid cursor: pass back a result's next_cursor unchanged.")
        if made_for != scope:
            raise UsageError(
                "Invalid cursor: it belongs to another call; pass next_cursor back to the action "
                "that gave it, with the same arguments."
            )
        return cls(inner, limit, skip, scope)


def scope_of(tool: str, action: str, values: Mapping[str, Any]) -> str:
    """A short fingerprint of a call (tool, action, every argument but the paging ones)."""
    rest = {k: v for k, v in values.items() if k not in ("cursor", "limit")}
    text = json.dumps([tool, action, rest], sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def continue_page(result: Any, at: PageAt, limit: int) -> Any:
    """What a call from ``at`` answers, given the page its cursor fetched (``result``): at most
    ``limit`` items from item ``at.skip``; when the page has more, ``next_cursor`` goes on
    after them, else it is the page's own."""
    if not at.skip or not isinstance(result, dict) or not isinstance(result.get("results"), list):
        return result
    items = result["results"]
    end = at.skip + limit
    out = {**result, "results": items[at.skip : end]}
    if end < len(items):
        out["next_cursor"] = PageAt(at.cursor, at.limit, end, at.scope).encode()
    return out


def cap_result(
    result: Any, cap: int, environ: Mapping[str, str] | None = None, page: PageAt | None = None
) -> tuple[str, Any]:
    """Serialise ``result`` compactly; past ``cap`` bytes, shorten it and save the full text.

    Returns ``(text, structured)``. A shortened result carries ``truncated``: what was cut, the
    path of the full result under the log folder, and a hint. ``page`` is where a list result
    starts: when its ``results`` lose items, its ``next_cursor`` continues at the first dropped
    one.
    """
    if isinstance(result, str):
        text = result
        if len(text.encode("utf-8")) <= cap:
            return text, None
        path = files.save_full_result(text, environ)
        tail = f"\n[truncated: {len(text)} characters in all; full text saved at {path}]"
        room = max(0, cap - len(tail.encode("utf-8")))
        head = text.encode("utf-8")[:room].decode("utf-8", "ignore")
        return _cut_text(head, len(head)) + tail, None

    text = dumps(result)
    if len(text.encode("utf-8")) <= cap:
        return text, result
    path = files.save_full_result(text, environ)
    wrapped = result if isinstance(result, dict) else {"result": result}
    hint = (
        "Ask for less (limit, cursor, a narrower query), or read the full result from the saved "
        "file."
    )
    note: dict[str, Any] = {"cut": [], "full_result": path, "hint": hint}
    budget = cap - _size({"truncated": note}) - 200
    shortened: Any = wrapped
    notes: list[str] = []
    for _ in range(6):
        shortened, notes = shorten(wrapped, max(budget, 0))
        note["cut"] = notes
        kept = _kept(wrapped, shortened) if page is not None else None
        if page is not None and kept is not None:  # go on at the first item left out
            at = PageAt(page.cursor, page.limit, page.skip + kept, page.scope)
            shortened["next_cursor"] = at.encode()
            note["hint"] = "next_cursor continues with the first item left out. " + hint
        nested = [n.split(":", 1)[0] for n in notes if n.startswith("results[")]
        if nested:  # e.g. a comment's replies: paging the listing does not bring them back
            note["hint"] = (
                f"{', '.join(nested[:3])} cut: next_cursor does not continue a nested list; "
                "read it with the tool's action for it (a comment's replies: get_replies). "
                + note["hint"]
            )
        if _size({**shortened, "truncated": note}) <= cap:
            break
        budget -= max(200, _size({**shortened, "truncated": note}) - cap)
    out = {**shortened, "truncated": note}
    if _size(out) > cap:  # nothing left to shorten: only say where the result is
        note["cut"] = ["the whole result (too large to shorten)"]
        note["hint"] = hint
        out = {"truncated": note}
    return dumps(out), out


@dataclass(frozen=True)
class Block:
    """A content block beside a result's JSON: an image (``data`` in base64) or a text."""

    kind: str  # "image" or "text"
    data: str
    media_type: str


def inline_blocks(
    result: Any, cap: int, inline_cap: int, environ: Mapping[str, str] | None = None
) -> tuple[Any, list[Block]]:
    """The blocks of the :class:`ctk_core.inline.Inline` values of a dict result, and the result
    with each such value replaced by a note naming its block (the JSON is block 1).

    An image is not counted against ``cap`` (the JSON's cap), only against ``inline_cap``; a
    text is its own block, held to ``cap`` like a text result (cut at a line, the full text
    saved in the log folder). A value over ``inline_cap``, or a text that is not UTF-8, is
    dropped with its key: the result is then what it would be without it.
    """
    if not isinstance(result, dict) or not any(isinstance(v, Inline) for v in result.values()):
        return result, []
    out: dict[str, Any] = {}
    blocks: list[Block] = []
    for key, value in result.items():
        if not isinstance(value, Inline):
            out[key] = value
            continue
        media = bare_type(value.media_type)
        if len(value.data) > inline_cap:
            continue
        if value.kind == "image":
            data = base64.b64encode(value.data).decode("ascii")
            blocks.append(Block("image", data, media))
        else:
            text = value.text()
            if text is None:
                continue
            blocks.append(Block("text", cap_result(text, cap, environ)[0], media))
        out[key] = f"{blocks[-1].kind} in content block {len(blocks) + 1}"
    return out, blocks


def _kept(full: Any, shortened: Any) -> int | None:
    """How many items the top-level ``results`` kept, when it lost some (else None)."""
    before, after = full.get("results"), shortened.get("results")
    if isinstance(before, list) and isinstance(after, list) and len(after) < len(before):
        return len(after)
    return None


def max_response_bytes(environ: Mapping[str, str]) -> int:
    """CTK_MAX_RESPONSE_BYTES: a whole number >= 1000; else the default."""
    return _whole_number(environ, "CTK_MAX_RESPONSE_BYTES", 1000, DEFAULT_MAX_RESPONSE_BYTES)


def inline_max_bytes(environ: Mapping[str, str]) -> int:
    """CTK_MCP_INLINE_MAX_BYTES: a whole number >= 0 (0: no file shown); else the default."""
    return _whole_number(environ, "CTK_MCP_INLINE_MAX_BYTES", 0, DEFAULT_INLINE_MAX_BYTES)


def _whole_number(environ: Mapping[str, str], name: str, minimum: int, default: int) -> int:
    raw = environ.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
        if value < minimum:
            raise ValueError
    except ValueError:
        log.warning(
            "ctk: warning: %s=%r is not a whole number >= %d; using %d", name, raw, minimum, default
        )
        return default
    return value


def error_text(
    err: BaseException, resource: Resource | None = None, op: Operation | None = None
) -> str:
    """One message an agent can act on."""
    if isinstance(err, AuthError) and "ctk auth" not in str(err):
        return (
            f"{err} Check the credentials: run `ctk auth`, or set CONFLUENCE_DOMAIN, "
            "CONFLUENCE_EMAIL and CONFLUENCE_API_TOKEN, then restart the MCP server."
        )
    if isinstance(err, CtkError):
        return str(err)
    where = f"{resource.tool_name}.{op.name}" if resource and op else "the tool"
    first = (str(err).strip().splitlines() or [""])[0][:300]
    return (
        f"Internal error in {where}: {type(err).__name__}"
        f"{': ' + first if first else ''}. The server is still running; details are in "
        "its stderr log."
    )
