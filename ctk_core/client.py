"""The one HTTP client of ctk. Handlers reach Confluence only through it.

Paths are relative to the wiki root and start with ``/api/v2/``, ``/rest/api/`` or
``/download/``::

    client.get("/api/v2/spaces", params={"keys": ["DEMO"]})
    client.page("/api/v2/pages", limit=25, cursor=None)   # {"results", "next_cursor", "base"}
    for page in client.iterate("/api/v2/pages"): ...        # every page, paced by the limiter

What it does for every request:

- one ``requests.Session`` per process (keep-alive), ``Accept: application/json``,
  ``User-Agent: ctk/<version>``, HTTP Basic auth (email, API token), timeouts of 10 s to connect
  and 30 s per read (``CTK_TIMEOUT``; downloads time out per chunk, not per file);
- takes a token from the user's rate limiter for this site, shared by every ctk process
  (:mod:`ctk_core.ratelimit`): fails fast when empty, while ``iterate``, retries and a client
  set to ``paced`` (bulk work such as ``--all``) wait instead; ``reserve(n)`` takes the tokens
  of a multi-request operation up front, or refuses it whole;
- GET only: retries 429 and 503, honouring ``Retry-After`` (else 5 s doubling to 30 s with
  jitter 0.7-1.3), at most 3 retries and 60 s in all, saying so on stderr before each wait
  (``ctk: Confluence answered 503; retrying in 4 s (attempt 2 of 4)``); writes are never
  retried;
- turns failures into :mod:`ctk_core.errors` classes with one-line messages
  (:mod:`ctk_core.http_errors`);
- with ``CTK_DEBUG=1`` logs one line per request (:mod:`ctk_core.debug_log`).

``requests`` is imported on first use, never at module import (``ctk --help`` stays cheap).
"""

from __future__ import annotations

import contextlib
import math
import random
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import parse_qs, urljoin, urlsplit

from ctk_core import credentials, settings
from ctk_core._version import __version__
from ctk_core.credentials import is_loopback_host
from ctk_core.debug_log import debug_enabled, enable_debug_logging, log_request
from ctk_core.errors import Unavailable, UsageError
from ctk_core.http_errors import (  # confluence_message, error_for_status: re-exported
    confluence_message,
    download_interrupted,
    error_for_response,
    error_for_status,
    not_json_error,
    parse_retry_after,
    transport_error,
)
from ctk_core.ratelimit import TokenBucket, limiter_from_environment

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
        paced: bool = False,
        notice: Callable[[str], None] | None = None,
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
        #: Bulk work (``--all``): every request waits for the limiter instead of failing fast.
        self.paced = paced
        self.notice = notice if notice is not None else stderr_notice
        self._local = threading.local()  # per thread: tokens reserved and not yet used
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

    def _take_token(
        self,
        wait: bool,
        on_wait: Callable[[str], None] | None = None,
        n: int = 1,
        prepaid: bool = True,
    ) -> None:
        if self.limiter is None:
            return
        if prepaid and n == 1 and getattr(self._local, "reserved", 0) > 0:
            self._local.reserved -= 1  # taken by reserve() already
            return
        if wait or self.paced:
            self.limiter.acquire_wait(
                on_wait=lambda s: self._notify(f"waiting for rate limit: {s:.1f} s", on_wait),
                n=n,
            )
        else:
            self.limiter.try_acquire(n)

    @contextlib.contextmanager
    def reserve(self, requests: int) -> Iterator[None]:
        """Take the tokens of ``requests`` requests now, or refuse the whole operation.

        For an operation that sends several requests (a write followed by more requests, several
        writes): ``with client.reserve(3): ...``. Either the limiter has all of them, and the
        requests sent inside the block (by this thread) take no further token, or it raises
        :class:`~ctk_core.errors.RateLimited` before anything is sent, saying how long to wait.
        A paced client waits for them instead. Tokens not used by the end of the block go back.
        Retries of a GET inside the block take tokens of their own.
        """
        count = max(0, int(requests))
        if self.limiter is None or count == 0:
            yield
            return
        self._take_token(self.paced, n=count, prepaid=False)
        before = getattr(self._local, "reserved", 0)
        self._local.reserved = before + count
        try:
            yield
        finally:
            unused = max(0, self._local.reserved - before)
            self._local.reserved -= unused
            if unused:
                self.limiter.give_back(unused)

    def _backoff(self, attempt: int) -> float:
        base = min(BACKOFF_CAP, BACKOFF_START * (2**attempt))
        return base * self._rng.uniform(*JITTER)

    def _log(self, method: str, url: str, outcome: str, seconds: float) -> None:
        if self.debug:
            log_request(method, self._display_path(url), outcome, seconds)

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
        except requests.exceptions.RequestException as exc:
            outcome, error = transport_error(
                exc, host=host, where=where, timeout=self.timeout, write=write
            )
            self._log(method, url, outcome, time.monotonic() - started)
            raise error from None
        self._log(method, url, str(resp.status_code), time.monotonic() - started)
        return resp

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
                self._take_token(pace or attempt > 0, on_wait, prepaid=attempt == 0)
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
                    line = (
                        f"Confluence answered {status}; retrying in {_seconds(delay)} s "
                        f"(attempt {attempt + 2} of {self.max_retries + 1})"
                    )
                    self.notice(line)
                    self._sleep(delay)
                    slept += delay
                    attempt += 1
                    continue
            if status >= 400:
                raise error_for_response(
                    resp, method, self._display_path(url), retries=attempt, redact=self._redact
                )
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
        raise not_json_error(
            resp.status_code,
            resp.headers.get("Content-Type", ""),
            body,
            f"{method} {self._display_path(url)}",
            write=method not in IDEMPOTENT,
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
        *,
        expected_bytes: int | None = None,
        media_type: str | None = None,
    ) -> int:
        """Stream a file into ``fileobj`` with constant memory; returns the bytes written.

        Follows redirects itself: credentials go only to this client's own host. The read
        timeout applies to each chunk, not to the whole file. With what the file's record says
        (``expected_bytes``, ``media_type``), an answer that is not that file (an HTML page
        where no HTML is expected, another length) raises Unavailable, so that the caller
        (writing atomically) saves nothing.
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
        answered = (resp.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if answered == "text/html" and "html" not in (media_type or "").lower():
            resp.close()
            raise Unavailable(
                f"Download of {self._display_path(url)} answered an HTML page instead of the "
                f"file ({media_type or 'not HTML'}); nothing was saved.",
                hint="Check the site's address and sign-in; then try again.",
            )
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
            raise download_interrupted(exc, self._display_path(url), written) from None
        finally:
            resp.close()
        if total is not None and written != total and not resp.headers.get("Content-Encoding"):
            raise Unavailable(
                f"Download of {self._display_path(url)} incomplete: {written} of {total} bytes.",
                hint="Try again.",
            )
        if expected_bytes is not None and written != expected_bytes:
            raise Unavailable(
                f"Download of {self._display_path(url)} gave {written} bytes, but the file has "
                f"{expected_bytes}; nothing was saved.",
                hint="Try again.",
            )
        return written


def _is_loopback_url(url: str) -> bool:
    return is_loopback_host(urlsplit(url).hostname)


def _seconds(delay: float) -> str:
    """A wait as people read it: ``4``, ``4.4``, ``0.5``."""
    return f"{round(delay, 1):g}"


def stderr_notice(line: str) -> None:
    """One line on stderr, terminal or not (``ctk: <line>``); never on stdout, which belongs to
    the results (and, under ``ctk mcp`` over stdio, to the protocol)."""
    stream = sys.stderr
    if stream is None:  # pragma: no cover - pythonw
        return
    try:
        clear = "\r\033[K" if stream.isatty() else ""  # over a progress line, if any
        stream.write(f"{clear}ctk: {line}\n")
        stream.flush()
    except (OSError, ValueError):  # a closed stderr never fails a request
        pass


def timeout_from_environment(environ: Mapping[str, str]) -> tuple[float, float] | None:
    """The (connect, read) timeouts ``CTK_TIMEOUT`` asks for (None: not set, the defaults).

    Its value is the read timeout in seconds; connecting waits at most the default 10 s, or
    that value when it is lower. Anything but a finite number above 0 is a UsageError.
    """
    raw = (environ.get("CTK_TIMEOUT") or "").strip()
    if not raw:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        seconds = float("nan")
    if not math.isfinite(seconds) or seconds <= 0:
        raise UsageError(
            f"CTK_TIMEOUT must be a number of seconds above 0 (like 30 or 2.5), not {raw[:40]!r}."
        )
    return (min(DEFAULT_TIMEOUT[0], seconds), seconds)


def client_from_environment(
    environ: Mapping[str, str] | None = None,
    *,
    limiter: TokenBucket | None = _UNSET,
    **kwargs: Any,
) -> Client:
    """A client for the configured site: credentials file + environment (see credentials.py),
    the process-wide limiter from ``CTK_RATE_LIMIT``, ``CTK_DEBUG`` for request logging."""
    env = settings.environ(environ)
    creds = credentials.load(env)
    base = creds.base_url(env)
    if limiter is _UNSET:
        limiter = limiter_from_environment(env, site=base)
    kwargs.setdefault("debug", debug_enabled(env))
    timeout = timeout_from_environment(env)
    if timeout is not None:
        kwargs.setdefault("timeout", timeout)
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
    "stderr_notice",
]
