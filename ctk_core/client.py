"""The one HTTP client of ctk. Handlers reach Confluence only through it.

Paths are relative to the wiki root and start with ``/api/v2/``, ``/rest/api/`` or
``/download/``::

    client.get("/api/v2/spaces", params={"keys": ["DEMO"]})
    client.page("/api/v2/pages", limit=25, cursor=None)   # {"results", "next_cursor", "base"}
    for page in client.iterate("/api/v2/pages"): ...        # every page, paced by the limiter

What it does for every request:

- one ``requests.Session`` per process (keep-alive), ``Accept: application/json``,
  ``User-Agent: ctk/<version>``, HTTP Basic auth (email, API token), timeouts of 10 s to connect
  and 30 s per read (downloads time out per chunk, not per file);
- takes a token from the process-wide rate limiter (fails fast when empty; ``iterate`` and
  retries wait instead);
- GET only: retries 429 and 503, honouring ``Retry-After`` (else 5 s doubling to 30 s with
  jitter 0.7-1.3), at most 3 retries and 60 s in all; writes are never retried;
- translates failures into :mod:`ctk_core.errors` classes with one-line messages that include
  Confluence's own message (v2 ``errors[].title``, v1 ``message``) and never an HTML page, a
  header or the token;
- with ``CTK_DEBUG=1`` logs one line per request (method, path, status, duration) to stderr and
  to a private file in the log folder; never headers, query strings or credentials.

``requests`` is imported on first use, never at module import (``ctk --help`` stays cheap).
"""

from __future__ import annotations

import html
import logging
import os
import random
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import parse_qs, urljoin, urlsplit

from ctk_core._version import __version__
from ctk_core.credentials import is_loopback_host
from ctk_core.errors import (
    AuthError,
    Conflict,
    CtkError,
    NotFound,
    PermissionDenied,
    RateLimited,
    Unavailable,
    UsageError,
)
from ctk_core.parsing import env_flag
from ctk_core.ratelimit import TokenBucket

if TYPE_CHECKING:  # pragma: no cover
    import requests

USER_AGENT = f"ctk/{__version__}"
DEFAULT_TIMEOUT = (10.0, 30.0)
DEFAULT_CHUNK = 64 * 1024
MAX_RETRIES = 3
RETRY_BUDGET = 60.0
BACKOFF_START = 5.0
BACKOFF_CAP = 30.0
JITTER = (0.7, 1.3)
MAX_REDIRECTS = 5
RETRY_STATUSES = frozenset({429, 503})
IDEMPOTENT = frozenset({"GET", "HEAD"})

log = logging.getLogger("ctk.http")

_UNSET: Any = object()


# --------------------------------------------------------------------------- the shared session

_session_lock = threading.Lock()
_session: requests.Session | None = None


def shared_session() -> requests.Session:
    """The process-wide ``requests.Session`` (created on first use)."""
    global _session
    with _session_lock:
        if _session is None:
            import requests

            session = requests.Session()
            session.headers["User-Agent"] = USER_AGENT
            _session = session
        return _session


# --------------------------------------------------------------------------- debug log


class _StderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is at the time (test runners swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:  # pragma: no cover - never let logging break a request
            self.handleError(record)


class _LogFolderHandler(logging.Handler):
    """Appends lines to one private (0600) file per log folder, created with O_EXCL."""

    def __init__(self) -> None:
        super().__init__()
        self._paths: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        try:
            from ctk_core import files

            folder = str(files.log_dir())
            path = self._paths.get(folder)
            if path is None:
                stamp = time.strftime("%Y%m%d-%H%M%S")
                fd, created = files.create_private_file(folder, f"http-{stamp}-", ".log")
                os.close(fd)
                path = self._paths[folder] = str(created)
            flags = os.O_WRONLY | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0)
            fd = os.open(path, flags)
            try:
                os.write(fd, (self.format(record) + "\n").encode("utf-8", "replace"))
            finally:
                os.close(fd)
        except Exception:  # noqa: S110  # pragma: no cover - a log problem must not break a request
            pass


_debug_lock = threading.Lock()
_debug_installed = False


def enable_debug_logging() -> None:
    """Send ``ctk.http`` lines to stderr and to a private file in the log folder (once)."""
    global _debug_installed
    with _debug_lock:
        if _debug_installed:
            return
        log.setLevel(logging.DEBUG)
        formatter = logging.Formatter("%(asctime)s ctk http: %(message)s")
        for handler in (_StderrHandler(), _LogFolderHandler()):
            handler.setFormatter(formatter)
            log.addHandler(handler)
        log.propagate = False
        _debug_installed = True


def debug_enabled(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return env_flag(env.get("CTK_DEBUG"))


# --------------------------------------------------------------------------- error text


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


def _looks_like_html(content_type: str, text: str) -> bool:
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
    if _looks_like_html(content_type, text):
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
    where = f"{method} {path}"
    said = f": {detail}" if detail else ""
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


def _query_params(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Drop None values; booleans as ``true``/``false``; lists become repeated parameters."""
    if not params:
        return None

    def one(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple, set, frozenset)):
            out[key] = [one(v) for v in value if v is not None]
        else:
            out[key] = one(value)
    return out


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port
    if port is None:
        port = 443 if parts.scheme == "https" else 80 if parts.scheme == "http" else None
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def cursor_of(link: str | None) -> str | None:
    """The ``cursor`` query value of a next link."""
    if not link:
        return None
    values = parse_qs(urlsplit(link).query).get("cursor")
    return values[0] if values else None


# --------------------------------------------------------------------------- the client


class Client:
    """Talks to one Confluence site (or the sandbox). See the module docstring."""

    def __init__(
        self,
        base_url: str,
        email: str | None,
        api_token: str | None,
        *,
        web_url: str | None = None,
        token_type: str = "classic",
        limiter: TokenBucket | None = None,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        debug: bool | None = None,
        max_retries: int = MAX_RETRIES,
        retry_budget: float = RETRY_BUDGET,
        on_wait: Callable[[str], None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.wiki_base = self.base_url + "/wiki"
        self.web_url = (web_url or self.base_url).rstrip("/")
        self.token_type = token_type
        self.limiter = limiter
        self._session = session
        self.timeout = timeout
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 - retry jitter, not a secret
        self.debug = debug_enabled() if debug is None else debug
        if self.debug:
            enable_debug_logging()
        self.max_retries = max_retries
        self.retry_budget = retry_budget
        self.on_wait = on_wait
        self._email = email
        self._token = api_token
        self._auth_obj: Any = None
        self._base_path = urlsplit(self.base_url).path.rstrip("/")
        self._origin = _origin(self.base_url)

    def __repr__(self) -> str:
        return f"Client(base_url={self.base_url!r}, token_type={self.token_type!r})"

    # -- plumbing ---------------------------------------------------------------------------

    @property
    def session(self) -> requests.Session:
        if self._session is None:
            self._session = shared_session()
        return self._session

    def _auth(self) -> Any:
        if self._auth_obj is None and self._email is not None and self._token is not None:
            from requests.auth import HTTPBasicAuth

            self._auth_obj = HTTPBasicAuth(self._email, self._token)
        return self._auth_obj

    def _redact(self, text: str) -> str:
        token = self._token
        if token and len(token) >= 4 and token in text:
            text = text.replace(token, "[redacted]")
        return text

    def _notify(self, message: str, on_wait: Callable[[str], None] | None = None) -> None:
        callback = on_wait or self.on_wait
        if callback is not None:
            callback(message)

    def same_origin(self, url: str) -> bool:
        return _origin(url) == self._origin

    def url(self, path: str) -> str:
        """The absolute URL for a wiki-relative path (or a same-site absolute URL)."""
        if path.startswith(("http://", "https://")):
            if not self.same_origin(path):
                raise UsageError(
                    f"Refusing to send credentials to {urlsplit(path).netloc}: it is not the "
                    "Confluence site ctk is configured for."
                )
            return path
        if not path.startswith("/"):
            path = "/" + path
        if path == "/wiki" or path.startswith("/wiki/"):
            path = path[len("/wiki") :]
        return self.wiki_base + path

    def _display_path(self, url: str) -> str:
        path = urlsplit(url).path or "/"
        if self.same_origin(url) and self._base_path and path.startswith(self._base_path + "/"):
            path = path[len(self._base_path) :]
        return path

    def absolute(self, webui_or_path: str | None) -> str:
        """An absolute web URL for a ``_links.webui`` (wiki-relative) or ``/wiki/...`` path."""
        if not webui_or_path:
            return ""
        if webui_or_path.startswith(("http://", "https://")):
            return webui_or_path
        path = webui_or_path if webui_or_path.startswith("/") else "/" + webui_or_path
        if path == "/wiki" or path.startswith("/wiki/"):
            return self.web_url + path
        return self.web_url + "/wiki" + path

    def _take_token(self, wait: bool, on_wait: Callable[[str], None] | None = None) -> None:
        if self.limiter is None:
            return
        if wait:
            self.limiter.acquire_wait(
                on_wait=lambda s: self._notify(f"waiting {s:.1f} s for the rate limiter", on_wait)
            )
        else:
            self.limiter.try_acquire()

    def _backoff(self, attempt: int) -> float:
        base = min(BACKOFF_CAP, BACKOFF_START * (2**attempt))
        return base * self._rng.uniform(*JITTER)

    def _log(self, method: str, url: str, status: str, seconds: float) -> None:
        if self.debug:
            log.debug(
                "%s %s -> %s (%.0f ms)", method, self._display_path(url), status, seconds * 1000
            )

    def _once(
        self,
        method: str,
        url: str,
        *,
        auth: bool,
        stream: bool,
        allow_redirects: bool,
        **kwargs: Any,
    ) -> requests.Response:
        import requests

        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if kwargs.get("headers"):
            headers.update(kwargs.pop("headers"))
        else:
            kwargs.pop("headers", None)
        started = time.monotonic()
        where = f"{method} {self._display_path(url)}"
        host = urlsplit(url).netloc
        write = method not in IDEMPOTENT
        maybe = " The change may or may not have been applied." if write else ""
        if _is_loopback_url(url):
            # The sandbox or a local test server: never through an HTTP(S)_PROXY.
            kwargs["proxies"] = {"http": None, "https": None, "all": None}
        try:
            resp = self.session.request(
                method,
                url,
                headers=headers,
                auth=self._auth() if auth else None,
                timeout=self.timeout,
                stream=stream,
                allow_redirects=allow_redirects,
                **kwargs,
            )
        except requests.exceptions.ConnectTimeout:
            self._log(method, url, "connect timeout", time.monotonic() - started)
            raise Unavailable(
                f"Could not connect to {host} within {self.timeout[0]:g} s ({where}).",
                hint="Check the network and the site address.",
            ) from None
        except requests.exceptions.ReadTimeout:
            self._log(method, url, "read timeout", time.monotonic() - started)
            raise Unavailable(
                f"Confluence did not answer within {self.timeout[1]:g} s ({where}).{maybe}",
                hint="Try again later.",
            ) from None
        except requests.exceptions.SSLError:
            self._log(method, url, "TLS error", time.monotonic() - started)
            raise Unavailable(
                f"TLS error talking to {host} ({where}).",
                hint="Check the site address and any proxy between you and Confluence.",
            ) from None
        except requests.exceptions.ConnectionError as exc:
            self._log(method, url, "connection error", time.monotonic() - started)
            raise Unavailable(
                f"Connection to {host} failed: {_connection_reason(exc)} ({where}).{maybe}",
                hint="Check the network and try again.",
            ) from None
        except (
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
        ) as exc:
            self._log(method, url, "cut off", time.monotonic() - started)
            raise Unavailable(
                f"The connection to {host} broke while reading the answer "
                f"({_connection_reason(exc)}) ({where}).{maybe}",
                hint="Try again.",
            ) from None
        except requests.exceptions.RequestException as exc:
            self._log(method, url, type(exc).__name__, time.monotonic() - started)
            raise Unavailable(
                f"Request failed ({type(exc).__name__}) for {where}.{maybe}"
            ) from None
        self._log(method, url, str(resp.status_code), time.monotonic() - started)
        return resp

    def _error(self, resp: requests.Response, method: str, url: str, retries: int = 0) -> CtkError:
        body = b""
        try:
            if getattr(resp, "_content", False) is not False:  # already read (not streamed)
                body = resp.content or b""
            else:
                body = next(resp.iter_content(chunk_size=65536), b"")
        except Exception:  # a broken body still gets a clear error from the status
            body = b""
        finally:
            resp.close()
        detail = self._redact(
            confluence_message(resp.status_code, resp.headers.get("Content-Type", ""), body)
        )
        category = resp.headers.get("X-Failure-Category", "")
        if "SCOPE" in category.upper() and "scope" not in detail.lower():
            detail = f"{detail} (scope check failed)".strip()
        retry_after = parse_retry_after(resp.headers.get("Retry-After"))
        return error_for_status(
            resp.status_code, method, self._display_path(url), detail, retry_after, retries
        )

    def send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        files: Any = None,
        headers: Mapping[str, str] | None = None,
        data: Any = None,
        stream: bool = False,
        pace: bool = False,
        auth: bool = True,
        limited: bool = True,
        allow_redirects: bool = True,
        on_wait: Callable[[str], None] | None = None,
    ) -> requests.Response:
        """One logical request: limiter token, retries (GET), error mapping. Returns the
        response (status < 400, or a redirect when ``allow_redirects`` is false)."""
        method = method.upper()
        kwargs: dict[str, Any] = {"params": _query_params(params)}
        if json is not None:
            kwargs["json"] = json
        if files is not None:
            kwargs["files"] = files
        if data is not None:
            kwargs["data"] = data
        if headers:
            kwargs["headers"] = dict(headers)
        started = self._clock()
        slept = 0.0
        attempt = 0
        while True:
            if limited:
                self._take_token(pace or attempt > 0, on_wait)
            resp = self._once(
                method,
                url,
                auth=auth,
                stream=stream,
                allow_redirects=allow_redirects,
                **dict(kwargs),
            )
            status = resp.status_code
            if status in RETRY_STATUSES and method in IDEMPOTENT:
                hinted = parse_retry_after(resp.headers.get("Retry-After"))
                delay = hinted if hinted is not None else self._backoff(attempt)
                # Time spent so far: the clock, or the sleeps when the clock is a test's fake.
                elapsed = max(self._clock() - started, slept)
                if attempt < self.max_retries and elapsed + delay <= self.retry_budget:
                    resp.close()
                    self._notify(
                        f"Confluence answered {status}; retrying in {delay:.1f} s "
                        f"(retry {attempt + 1} of {self.max_retries})",
                        on_wait,
                    )
                    self._sleep(delay)
                    slept += delay
                    attempt += 1
                    continue
            if status >= 400:
                raise self._error(resp, method, url, attempt)
            return resp

    def _parse(self, resp: requests.Response, method: str, url: str) -> Any:
        import json as jsonlib

        try:
            body = resp.content
        except Exception as exc:  # the connection broke while reading the body
            raise Unavailable(
                f"The answer to {method} {self._display_path(url)} was cut off "
                f"({type(exc).__name__}).",
                hint="Try again.",
            ) from None
        finally:
            resp.close()
        if resp.status_code == 204 or not body.strip():
            return None
        try:
            return jsonlib.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            pass
        content_type = resp.headers.get("Content-Type", "").lower()
        maybe = " The change may have been applied." if method not in IDEMPOTENT else ""
        what = (
            "an HTML page instead of JSON (a proxy or login page?)"
            if _looks_like_html(content_type, body[:200].decode("utf-8", "replace"))
            else "a malformed JSON answer"
        )
        raise Unavailable(
            f"Confluence sent {what} (status {resp.status_code}) for {method} "
            f"{self._display_path(url)}.{maybe}",
            hint="Try again; if it persists, check CTK_BASE_URL or the site address.",
        )

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Any method; returns parsed JSON (or None for an empty answer)."""
        url = self.url(path)
        resp = self.send(method, url, **kwargs)
        return self._parse(resp, method.upper(), url)

    # -- the contract ----------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params)

    def post(
        self,
        path: str,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        files: Any = None,
        headers: Mapping[str, str] | None = None,
        data: Any = None,
    ) -> Any:
        return self.request(
            "POST", path, json=json, params=params, files=files, headers=headers, data=data
        )

    def put(
        self,
        path: str,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        files: Any = None,
        headers: Mapping[str, str] | None = None,
        data: Any = None,
    ) -> Any:
        return self.request(
            "PUT", path, json=json, params=params, files=files, headers=headers, data=data
        )

    def delete(self, path: str, params: Mapping[str, Any] | None = None) -> None:
        self.request("DELETE", path, params=params)
        return None

    def next_link(self, body: Any, resp: requests.Response | None = None) -> str | None:
        """``_links.next`` of a list answer, else the ``Link: <...>; rel="next"`` header."""
        if isinstance(body, dict):
            links = body.get("_links")
            if isinstance(links, dict) and isinstance(links.get("next"), str) and links["next"]:
                return links["next"]
        if resp is not None:
            nxt = resp.links.get("next", {}).get("url")
            if nxt:
                return nxt
        return None

    def rebase(self, link: str) -> str:
        """Turn a next link (site-relative, wiki-relative, gateway form or absolute) into a URL
        on this client's own base, so scoped tokens keep going through the gateway and nothing
        is ever sent to another host."""
        parts = urlsplit(link)
        path = parts.path or "/"
        if self._base_path and path.startswith(self._base_path + "/"):
            path = path[len(self._base_path) :]
        elif path.startswith("/ex/confluence/"):
            rest = path[len("/ex/confluence/") :]
            path = "/" + rest.split("/", 1)[1] if "/" in rest else "/"
        if path == "/wiki" or path.startswith("/wiki/"):
            path = path[len("/wiki") :]
        query = f"?{parts.query}" if parts.query else ""
        return self.wiki_base + path + query

    @staticmethod
    def _results(body: Any) -> list[Any]:
        if isinstance(body, dict):
            results = body.get("results")
            return list(results) if isinstance(results, list) else []
        if isinstance(body, list):
            return body
        return []

    def _base_of(self, body: Any) -> str:
        if isinstance(body, dict):
            links = body.get("_links")
            if isinstance(links, dict) and isinstance(links.get("base"), str) and links["base"]:
                return str(links["base"]).rstrip("/")
        return self.web_url + "/wiki"

    def page(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        limit: int = 25,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        """One page of a list: ``{"results", "next_cursor" (str or None), "base"}``."""
        query = dict(params or {})
        query["limit"] = limit
        if cursor:
            query["cursor"] = cursor
        url = self.url(path)
        resp = self.send("GET", url, params=query)
        body = self._parse(resp, "GET", url)
        return {
            "results": self._results(body),
            "next_cursor": cursor_of(self.next_link(body, resp)),
            "base": self._base_of(body),
        }

    def iterate(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        limit: int = 250,
        on_wait: Callable[[str], None] | None = None,
    ) -> Iterator[Any]:
        """Every item of every page, following next links; waits for the limiter (paced)."""
        query: dict[str, Any] | None = dict(params or {})
        assert query is not None
        query.setdefault("limit", limit)
        url = self.url(path)
        seen: set[str] = set()
        while True:
            resp = self.send("GET", url, params=query, pace=True, on_wait=on_wait)
            body = self._parse(resp, "GET", url)
            yield from self._results(body)
            nxt = self.next_link(body, resp)
            if not nxt:
                return
            url = self.rebase(nxt)
            if url in seen:
                raise Unavailable(
                    f"Confluence returned the same next page twice for GET "
                    f"{self._display_path(url)}; stopping.",
                )
            seen.add(url)
            query = None

    def download(
        self,
        path_or_url: str,
        fileobj: IO[bytes],
        progress: Callable[[int, int | None], None] | None = None,
        chunk_size: int = DEFAULT_CHUNK,
    ) -> int:
        """Stream a file into ``fileobj`` with constant memory; returns the bytes written.

        Follows redirects itself: credentials go only to this client's own host. The read
        timeout applies to each chunk, not to the whole file.
        """
        import requests

        if path_or_url.startswith(("http://", "https://")):
            url = path_or_url
        else:
            url = self.url(path_or_url)
        headers = {"Accept": "*/*", "Accept-Encoding": "identity"}
        resp = self.send(
            "GET",
            url,
            headers=headers,
            stream=True,
            allow_redirects=False,
            auth=self.same_origin(url),
        )
        hops = 0
        while resp.is_redirect:
            location = resp.headers.get("Location", "")
            resp.close()
            hops += 1
            if hops > MAX_REDIRECTS:
                raise Unavailable(f"Too many redirects downloading {self._display_path(url)}.")
            target = urljoin(url, location)
            scheme, host, _port = _origin(target)
            if scheme not in ("http", "https") or (scheme == "http" and not is_loopback_host(host)):
                raise Unavailable(
                    f"Refusing a download redirect to a non-https address ({host or target})."
                )
            url = target
            resp = self.send(
                "GET",
                url,
                headers=headers,
                stream=True,
                allow_redirects=False,
                auth=self.same_origin(url),
                limited=False,
            )
        length = resp.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        written = 0
        try:
            for chunk in resp.iter_content(chunk_size=chunk_size):
                if not chunk:
                    continue
                fileobj.write(chunk)
                written += len(chunk)
                if progress is not None:
                    progress(written, total)
        except requests.exceptions.RequestException as exc:
            reason = (
                "no data within the read timeout"
                if "timed out" in str(exc).lower() or "timeout" in type(exc).__name__.lower()
                else type(exc).__name__
            )
            raise Unavailable(
                f"Download of {self._display_path(url)} interrupted after {written} bytes "
                f"({reason}).",
                hint="Try again.",
            ) from None
        finally:
            resp.close()
        if total is not None and written != total and not resp.headers.get("Content-Encoding"):
            raise Unavailable(
                f"Download of {self._display_path(url)} incomplete: {written} of {total} bytes.",
                hint="Try again.",
            )
        return written


def _is_loopback_url(url: str) -> bool:
    return is_loopback_host(urlsplit(url).hostname)


def _connection_reason(exc: BaseException) -> str:
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


def client_from_environment(
    environ: Mapping[str, str] | None = None,
    *,
    limiter: TokenBucket | None = _UNSET,
    **kwargs: Any,
) -> Client:
    """A client for the configured site: credentials file + environment (see credentials.py),
    the process-wide limiter from ``CTK_RATE_LIMIT``, ``CTK_DEBUG`` for request logging."""
    from ctk_core import credentials
    from ctk_core.ratelimit import limiter_from_environment

    env = os.environ if environ is None else environ
    creds = credentials.load(env)
    base = creds.base_url(env)
    if limiter is _UNSET:
        limiter = limiter_from_environment(env)
    kwargs.setdefault("debug", debug_enabled(env))
    return Client(
        base,
        creds.email,
        creds.api_token,
        web_url=creds.web_url(env),
        token_type=creds.token_type,
        limiter=limiter,
        **kwargs,
    )


__all__ = [
    "USER_AGENT",
    "Client",
    "client_from_environment",
    "confluence_message",
    "cursor_of",
    "enable_debug_logging",
    "error_for_status",
    "parse_retry_after",
    "shared_session",
]
