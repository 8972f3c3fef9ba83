"""The context every operation handler receives as its first argument (annotate it ``Context``).

``ctx.client`` is the HTTP client (built on first use, so that listing commands or tools never
imports requests); ``ctx.space_id(value)`` turns a space key or id into an id; ``ctx.files`` is the
file capability the front end grants (what may be read and where downloads go); ``ctx.progress``
reports long work (a no-op unless the front end shows progress); ``ctx.cache`` keeps what the next
page of a listing needs. Nothing here says which front end is calling: a handler behaves the same
for both.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import IO, Any, Protocol

from ctk_core.errors import NotFound, UsageError, shown
from ctk_core.file_access import AgentFiles, FileAccess
from ctk_core.inline import inline_kind

#: Space key -> id, per wiki base URL, for the life of the process.
_space_ids: dict[tuple[str, str], str] = {}
_space_lock = threading.Lock()


@dataclass(frozen=True)
class ProgressState:
    """What a progress display shows: ``done`` of ``total`` units (None: unknown), a label, a
    note about the wait (e.g. pacing for the rate limit), and whether the work is over."""

    label: str = ""
    done: int = 0
    total: int | None = None
    note: str = ""
    finished: bool = False


class Progress:
    """Progress of long work: the one reporter every front end uses.

    Handlers call ``start(label, total)``, ``advance(n)``, ``update(done, total)`` (the form
    download callbacks use; it is also ``progress(done, total)``), ``note(text)`` and
    ``finish()``. The reporter keeps the count and calls ``show(state)`` with a
    :class:`ProgressState`, at most every ``min_interval`` seconds (start, notes and finish are
    always shown). The front end decides what showing means: a terminal line for the CLI, a
    progress notification for MCP, nothing at all without ``show``.
    """

    def __init__(
        self,
        show: Callable[[ProgressState], None] | None = None,
        min_interval: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._show = show
        self._min_interval = min_interval
        self._clock = clock
        self._last = float("-inf")
        self.state = ProgressState()

    def start(self, label: str = "", total: int | None = None) -> None:
        """Begin a unit of long work."""
        self._set(ProgressState(label=label, total=total), force=True)

    def advance(self, n: int = 1) -> None:
        """``n`` more units are done."""
        self._set(replace(self.state, done=self.state.done + n, note=""))

    def update(self, done: int, total: int | None = None) -> None:
        """``done`` units are done (of ``total`` when known)."""
        total = self.state.total if total is None else total
        self._set(replace(self.state, done=done, total=total, note=""))

    def note(self, text: str) -> None:
        """A short status message (for instance, waiting for the rate limiter)."""
        self._set(replace(self.state, note=text), force=True)

    def finish(self) -> None:
        """The work is over."""
        self._set(replace(self.state, note="", finished=True), force=True)

    def __call__(self, done: int, total: int | None = None) -> None:
        self.update(done, total)

    def _set(self, state: ProgressState, force: bool = False) -> None:
        self.state = state
        if self._show is None:
            return
        now = self._clock()
        if not force and now - self._last < self._min_interval:
            return
        self._last = now
        self._show(state)


class ConfluenceClient(Protocol):
    """What handlers may call on ``ctx.client`` (``ctk_core.client.Client`` provides it).

    Paths are relative to the site's ``/wiki`` (``/api/v2/pages``, ``/rest/api/content``).
    Answers are the decoded JSON; errors are raised as ``ctk_core`` errors.
    """

    wiki_base: str
    web_url: str

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any: ...

    def post(
        self,
        path: str,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        files: Any = None,
        headers: Mapping[str, str] | None = None,
        data: Any = None,
    ) -> Any: ...

    def put(
        self,
        path: str,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        files: Any = None,
        headers: Mapping[str, str] | None = None,
        data: Any = None,
    ) -> Any: ...

    def delete(self, path: str, params: Mapping[str, Any] | None = None) -> None: ...

    def page(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        limit: int = 25,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        """One page of a list: ``{"results": [...], "next_cursor": str | None}``."""
        ...

    def iterate(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        limit: int = 250,
        on_wait: Callable[[str], None] | None = None,
    ) -> Iterator[Any]:
        """Every item of a list, following the next links (pacing for the rate limit)."""
        ...

    def download(
        self,
        path_or_url: str,
        fileobj: IO[bytes],
        progress: Callable[[int, int | None], None] | None = None,
        chunk_size: int = ...,
        *,
        expected_bytes: int | None = None,
        media_type: str | None = None,
    ) -> int:
        """Stream a file into ``fileobj``; return the number of bytes. Given the file's recorded
        size and media type, an answer that is not that file raises ``Unavailable``."""
        ...

    def absolute(self, webui_or_path: str | None) -> str:
        """A link from an answer (``_links.webui``...) as an absolute URL."""
        ...

    def reserve(self, requests: int) -> AbstractContextManager[None]:
        """``with ctx.client.reserve(k):`` takes the rate-limit tokens of the ``k`` requests an
        operation is about to send, all at once, or raises ``RateLimited`` (saying how long to
        wait) before anything is sent; the requests inside the block take no further token and
        unused ones go back. Use it around an operation that sends several requests, above all
        several writes, so the limiter never cuts it in half."""
        ...


class Context:
    """What a handler may use: the client, space resolution, the file capability, progress.

    A front end builds one per call or per process and chooses ``files``: the CLI grants a
    person's own access, the MCP server an agent's confined access. Without ``files`` the
    confined one applies.
    """

    def __init__(
        self,
        files: FileAccess | None = None,
        environ: Mapping[str, str] | None = None,
        client: ConfluenceClient | None = None,
        progress: Progress | None = None,
        withheld_types: frozenset[str] = frozenset(),
        inline_max_bytes: int = 0,
    ) -> None:
        self.environ = environ
        #: Content types of disabled tools (``comment``...), which results must not show.
        self.withheld_types = withheld_types
        #: The largest file the front end shows as content (``ctk_core.Inline``); 0: none.
        self.inline_max_bytes = inline_max_bytes
        self.files: FileAccess = files if files is not None else AgentFiles(environ)
        self.progress = progress or Progress()
        self._client = client
        #: What a handler keeps for the next page of the same listing (the space tree keeps the
        #: space's root pages). One CLI command keeps one context for all the pages of --all; an
        #: MCP server may keep one for many calls, so key entries by what a cursor refers to, use
        #: them only when continuing from a cursor, and keep them small.
        self.cache: dict[Any, Any] = {}
        #: The policy and words of the call running (``dispatch.invoke`` sets them), which
        #: :meth:`call` applies to the operations a handler runs in turn.
        self.policy: Any = None
        self.words: Any = None

    def call(self, resource: str, operation: str, **arguments: Any) -> Any:
        """Run another resource's operation (``ctx.call("pages", "create", ...)``) the way its
        own tool runs it: checked against the same policy (its tool disabled, or writes off,
        refuses it) and its declared parameters. Returns its result."""
        from ctk_core import dispatch
        from ctk_core.policy import Policy
        from ctk_core.registry import load_catalog

        try:
            target = load_catalog().resource(resource)
        except KeyError:
            raise UsageError(f"No resource {shown(resource)} is loaded.") from None
        policy = self.policy or Policy.from_environ(self.environ)
        return dispatch.invoke(
            self, target, operation, arguments, policy, self.words or dispatch.MCP_WORDS
        )

    @property
    def client(self) -> ConfluenceClient:
        """The Confluence client (``ctk_core.client.Client``), created on first use."""
        if self._client is None:
            # Imported here: it imports requests, which `ctk --help` must not pay for.
            from ctk_core.client import client_from_environment

            self._client = client_from_environment(self.environ)
        return self._client

    def wants_inline(self, media_type: str | None, size: int | None) -> bool:
        """Whether the front end shows a file of this type and size (bytes) as content: an
        image or a text within ``inline_max_bytes``. Ask before fetching the bytes."""
        return (
            size is not None
            and 0 <= size <= self.inline_max_bytes
            and inline_kind(media_type) is not None
        )

    def space_id(self, value: str | int) -> str:
        """A space id from an id (all digits) or a key (resolved once per process)."""
        text = str(value).strip()
        if not text:
            raise UsageError("A space id or key is required.")
        if text.isdigit():
            return text
        client = self.client
        cache_key = (str(getattr(client, "wiki_base", "")), text)
        with _space_lock:
            cached = _space_ids.get(cache_key)
        if cached is not None:
            return cached
        data = client.get("/api/v2/spaces", params={"keys": text, "limit": 1})
        results = (data or {}).get("results") or []
        match = next((s for s in results if str(s.get("key")) == text), None)
        if match is None:
            raise NotFound(
                f"No space with key {shown(text)} (or it is not visible to you).",
                hint="Check the key with `spaces list`.",
            )
        space_id = str(match["id"])
        with _space_lock:
            _space_ids[cache_key] = space_id
        return space_id


def forget_space_ids() -> None:
    """Clear the key -> id cache (tests; a space deleted and re-created)."""
    with _space_lock:
        _space_ids.clear()


__all__ = ["ConfluenceClient", "Context", "Progress", "ProgressState", "forget_space_ids"]
