"""How the HTTP client's failures become ctk errors, with one-line messages.

Two kinds of failure, one vocabulary (:mod:`ctk_core.errors`):

- **an error answer** (status >= 400): :func:`error_for_response` reads at most 64 KiB of the
  body, takes Confluence's own explanation from it (:func:`confluence_message`: v2
  ``errors[].title``, v1 and gateway ``message``, an HTML page reduced to its title) and picks
  the class from the status (:func:`error_for_status`: 400 usage, 401 auth, 403 permission, 404
  not found, 409 conflict, 429 rate limited, 5xx unavailable, ...), with ``Retry-After`` read by
  :func:`parse_retry_after`;
- **a success answer that is not JSON** (an HTML login page, malformed JSON):
  :func:`not_json_error`;
- **no answer** (connection refused, timeout, TLS, a body cut off): :func:`transport_error`
  turns a ``requests`` exception into :class:`~ctk_core.errors.Unavailable` with a short reason
  (:func:`connection_reason`), saying for a write that it may have been applied;
  :func:`download_interrupted` does the same for a download's stream.

Messages are printable text on one line. They never contain an HTML page, a header, a query
string or the token (the client passes its own ``redact``). ``requests`` is imported only inside
:func:`transport_error`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from ctk_core.errors import (
    AuthError,
    Conflict,
    CtkError,
    NotFound,
    PermissionDenied,
    RateLimited,
    Unavailable,
    UsageError,
    shown_path,
)

if TYPE_CHECKING:  # pragma: no cover
    import requests

#: How much of an error answer's body is read for its message.
MAX_ERROR_BODY = 65536


_TAG_RE = re.compile(r"<[^>]*>")
_SPACE_RE = re.compile(r"\s+")
_TITLE_RE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_H1_RE = re.compile(r"<h1[^>]*>(.*?)</h1>", re.IGNORECASE | re.DOTALL)


def _one_line(text: str, limit: int = 300) -> str:
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    text = _SPACE_RE.sub(" ", text).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def _strip_html(fragment: str) -> str:
    return _one_line(html.unescape(_TAG_RE.sub(" ", fragment)), 120)


def looks_like_html(content_type: str, text: str) -> bool:
    head = text.lstrip()[:200].lower()
    return "html" in content_type or head.startswith(("<!doctype", "<html", "<head", "<body"))


def confluence_message(status: int, content_type: str, body: bytes) -> str:
    """The server's own explanation, on one short line ('' when there is none).

    v2 ``errors[].title`` (plus ``detail``), v1 and gateway ``message``; an HTML page is reduced to
    its title (never the markup); plain text to its first line.
    """
    content_type = (content_type or "").lower()
    text = body[:65536].decode("utf-8", "replace")
    if not text.strip():
        return ""
    stripped = text.lstrip()
    if "json" in content_type or stripped.startswith(("{", "[")):
        import json

        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict):
            parts: list[str] = []
            errors = data.get("errors")
            if isinstance(errors, list):
                for item in errors[:3]:
                    if isinstance(item, dict):
                        title = item.get("title") or item.get("message") or item.get("code")
                        detail = item.get("detail")
                        piece = str(title) if title else ""
                        if detail and str(detail) != piece:
                            piece = f"{piece} ({detail})" if piece else str(detail)
                        if piece:
                            parts.append(piece)
                    elif isinstance(item, str):
                        parts.append(item)
            for key in ("message", "errorMessage", "title", "detail"):
                value = data.get(key)
                if isinstance(value, str) and value and not parts:
                    parts.append(value)
            messages = data.get("errorMessages")
            if isinstance(messages, list) and not parts:
                parts.extend(str(m) for m in messages[:3])
            if parts:
                return _one_line("; ".join(parts))
            return ""
        if data is not None:
            return ""
    if looks_like_html(content_type, text):
        for pattern in (_TITLE_RE, _H1_RE):
            match = pattern.search(text)
            if match:
                title = _strip_html(match.group(1))
                if title:
                    return f"an HTML error page: {title}"
        return "an HTML error page"
    for line in text.splitlines():
        if line.strip():
            return _one_line(line, 200)
    return ""


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _sentence(text: str) -> str:
    text = text.rstrip()
    return text if text.endswith((".", "!", "?", "…")) else text + "."


def error_for_status(
    status: int,
    method: str,
    path: str,
    detail: str = "",
    retry_after: float | None = None,
    retries: int = 0,
) -> CtkError:
    """The :mod:`ctk_core.errors` class and one-line message for an HTTP error status."""
    where = f"{method} {shown_path(path, 120)}"
    said = f": {detail}" if detail else ""  # confluence_message: one printable line, cut short
    if status == 400:
        return UsageError(_sentence(f"Confluence rejected the request (400) for {where}{said}"))
    if status == 401:
        if "scope" in detail.lower():
            hint = (
                "The token lacks a scope this call needs: run `ctk auth` to see the scope "
                "list, then create a token with them."
            )
        else:
            hint = (
                "Check the email and API token with `ctk status --check`, or run `ctk auth` again."
            )
        return AuthError(_sentence(f"Authentication failed (401) for {where}{said}"), hint=hint)
    if status == 403:
        return PermissionDenied(
            _sentence(f"Permission denied (403) for {where}{said}"),
            hint="Your Confluence permissions (or the token's scopes) do not allow this.",
        )
    if status == 404:
        return NotFound(_sentence(f"Not found or not visible to you (404): {where}{said}"))
    if status == 409:
        return Conflict(
            _sentence(f"Conflict (409) for {where}{said}"),
            hint="Someone changed it meanwhile or the title is taken: fetch it again and retry.",
        )
    if status == 410:
        return CtkError(
            _sentence(f"Endpoint retired by Atlassian (410): {where}{said}"),
            hint="Confluence no longer serves this endpoint; upgrade ctk.",
        )
    if status == 413:
        return CtkError(
            _sentence(f"Request too large for Confluence (413) for {where}{said}"),
            hint="Confluence accepts at most 5 MB per request.",
        )
    tried = f" after {retries} retr{'y' if retries == 1 else 'ies'}" if retries else ""
    if retry_after is not None:
        wait = f"Confluence asks to retry after {retry_after:.0f} s."
    else:
        wait = "Wait a little and try again."
    if status == 429:
        return RateLimited(
            _sentence(f"Confluence is rate limiting requests (429) for {where}{tried}{said}"),
            retry_after=retry_after,
            hint=wait,
        )
    if status >= 500:
        return Unavailable(
            _sentence(
                f"Confluence is unavailable ({status} {_reason(status)}) for {where}{tried}{said}"
            ),
            hint=wait,
        )
    return CtkError(_sentence(f"Unexpected answer {status} {_reason(status)} for {where}{said}"))


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta seconds or HTTP date); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


# --------------------------------------------------------------------------- error answers


def error_for_response(
    resp: requests.Response,
    method: str,
    path: str,
    *,
    retries: int = 0,
    redact: Callable[[str], str] = str,
) -> CtkError:
    """The ctk error for an error answer (status >= 400); closes ``resp``.

    ``path`` is how the message names the request; ``redact`` removes the caller's secrets from
    Confluence's message (which may echo them); ``retries`` says how often it was tried again.
    """
    body = b""
    try:
        if getattr(resp, "_content", False) is not False:  # already read (not streamed)
            body = resp.content or b""
        else:
            body = next(resp.iter_content(chunk_size=MAX_ERROR_BODY), b"")
    except Exception:  # a broken body still gets a clear error from the status
        body = b""
    finally:
        resp.close()
    detail = redact(
        confluence_message(resp.status_code, resp.headers.get("Content-Type", ""), body)
    )
    category = resp.headers.get("X-Failure-Category", "")
    if "SCOPE" in category.upper() and "scope" not in detail.lower():
        detail = f"{detail} (scope check failed)".strip()
    retry_after = parse_retry_after(resp.headers.get("Retry-After"))
    return error_for_status(resp.status_code, method, path, detail, retry_after, retries)


def not_json_error(
    status: int, content_type: str, body: bytes, where: str, *, write: bool
) -> Unavailable:
    """The error for a success answer that is not JSON: an HTML page (a proxy or login page) or
    malformed JSON. ``where`` is ``"METHOD /path"``; for a write, the change may have applied."""
    maybe = " The change may have been applied." if write else ""
    what = (
        "an HTML page instead of JSON (a proxy or login page?)"
        if looks_like_html((content_type or "").lower(), body[:200].decode("utf-8", "replace"))
        else "a malformed JSON answer"
    )
    return Unavailable(
        f"Confluence sent {what} (status {status}) for {where}.{maybe}",
        hint="Try again; if it persists, check CTK_BASE_URL or the site address.",
    )


# --------------------------------------------------------------------------- no answer


def transport_error(
    exc: Exception, *, host: str, where: str, timeout: tuple[float, float], write: bool
) -> tuple[str, CtkError]:
    """The ctk error for a request that got no (complete) answer, and a short label for the
    debug log (``"connect timeout"``, ``"TLS error"``...).

    ``exc`` is a ``requests`` exception; ``host`` and ``where`` (``"GET /path"``) name the
    request, ``timeout`` is the client's (connect, read) pair, and ``write`` adds that the change
    may or may not have been applied.
    """
    import requests

    maybe = " The change may or may not have been applied." if write else ""
    failure = requests.exceptions
    if isinstance(exc, failure.ConnectTimeout):
        return "connect timeout", Unavailable(
            f"Could not connect to {host} within {timeout[0]:g} s ({where}).",
            hint="Check the network and the site address.",
        )
    if isinstance(exc, failure.ReadTimeout):
        return "read timeout", Unavailable(
            f"Confluence did not answer within {timeout[1]:g} s ({where}).{maybe}",
            hint="Try again later.",
        )
    if isinstance(exc, failure.SSLError):
        return "TLS error", Unavailable(
            f"TLS error talking to {host} ({where}).",
            hint="Check the site address and any proxy between you and Confluence.",
        )
    if isinstance(exc, failure.ConnectionError):
        return "connection error", Unavailable(
            f"Connection to {host} failed: {connection_reason(exc)} ({where}).{maybe}",
            hint="Check the network and try again.",
        )
    if isinstance(exc, (failure.ChunkedEncodingError, failure.ContentDecodingError)):
        return "cut off", Unavailable(
            f"The connection to {host} broke while reading the answer "
            f"({connection_reason(exc)}) ({where}).{maybe}",
            hint="Try again.",
        )
    return type(exc).__name__, Unavailable(
        f"Request failed ({type(exc).__name__}) for {where}.{maybe}"
    )


def download_interrupted(exc: Exception, path: str, written: int) -> Unavailable:
    """The error for a download whose stream broke (``exc`` a ``requests`` exception) after
    ``written`` bytes."""
    reason = (
        "no data within the read timeout"
        if "timed out" in str(exc).lower() or "timeout" in type(exc).__name__.lower()
        else type(exc).__name__
    )
    return Unavailable(
        f"Download of {path} interrupted after {written} bytes ({reason}).", hint="Try again."
    )


def connection_reason(exc: BaseException) -> str:
    """A short reason for a connection failure (never the URL or headers)."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    names: list[str] = []
    while stack:
        item = stack.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        names.append(type(item).__name__)
        stack.extend([item.__cause__, item.__context__])
        for arg in getattr(item, "args", ()):
            if isinstance(arg, BaseException):
                stack.append(arg)
        reason = getattr(item, "reason", None)
        if isinstance(reason, BaseException):
            stack.append(reason)
    text = " ".join(names) + " " + str(exc)
    lowered = text.lower()
    if "refused" in lowered:
        return "connection refused"
    if "reset" in lowered:
        return "connection reset"
    if (
        "remotedisconnected" in lowered
        or "closed connection" in lowered
        or "connection aborted" in lowered
    ):
        return "the server closed the connection"
    if (
        "name or service" in lowered
        or "nodename" in lowered
        or "resolve" in lowered
        or "getaddrinfo" in lowered
    ):
        return "the host name does not resolve"
    if "timed out" in lowered:
        return "timed out"
    return "network error"


__all__ = [
    "confluence_message",
    "connection_reason",
    "download_interrupted",
    "error_for_response",
    "error_for_status",
    "looks_like_html",
    "not_json_error",
    "parse_retry_after",
    "transport_error",
]
