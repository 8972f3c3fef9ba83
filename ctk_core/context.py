"""The context every operation handler receives as its first argument (annotate it ``Context``).

``ctx.client`` is the HTTP client (built on first use, so that listing commands or tools never
imports requests); ``ctx.space_id(value)`` turns a space key or id into an id; ``ctx.files`` is the
file capability the front end grants (what may be read and where downloads go); ``ctx.progress``
reports long work (a no-op unless the front end shows progress). Nothing here says which front end
is calling: a handler behaves the same for both.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any, Protocol

from ctk_core.errors import NotFound, UsageError
from ctk_core.file_access import AgentFiles, FileAccess

#: Space key -> id, per wiki base URL, for the life of the process.
_space_ids: dict[tuple[str, str], str] = {}
_space_lock = threading.Lock()


class Progress:
    """Progress of long work. This base class shows nothing; front ends subclass it.

    ``start(label, total)`` begins (``total`` may be unknown), ``advance(n)`` adds done units,
    ``update(done, total)`` sets them (the form download callbacks use), ``note(text)`` says
    something about the wait (e.g. pacing for the rate limit), ``finish()`` ends.
    """

    def start(self, label: str = "", total: int | None = None) -> None:
        """Begin a unit of long work."""

    def advance(self, n: int = 1) -> None:
        """``n`` more units are done."""

    def update(self, done: int, total: int | None = None) -> None:
        """``done`` units are done (of ``total`` when known)."""

    def note(self, text: str) -> None:
        """A short status message (for instance, waiting for the rate limiter)."""

    def finish(self) -> None:
        """The work is over."""

    def __call__(self, done: int, total: int | None = None) -> None:
        self.update(done, total)


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
    ) -> int:
        """Stream a file into ``fileobj``; return the number of bytes."""
        ...

    def absolute(self, webui_or_path: str | None) -> str:
        """A link from an answer (``_links.webui``...) as an absolute URL."""
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
        *,
        frontend: str | None = None,  # transitional: callers are moving to ``files``
    ) -> None:
        if files is None and frontend == "cli":
            from ctk_core.file_access import PersonFiles

            files = PersonFiles()
        self.environ = environ
        self.files: FileAccess = files if files is not None else AgentFiles(environ)
        self.progress = progress or Progress()
        self._client = client

    @property
    def client(self) -> ConfluenceClient:
        """The Confluence client (``ctk_core.client.Client``), created on first use."""
        if self._client is None:
            # Imported here: it imports requests, which `ctk --help` must not pay for.
            from ctk_core.client import client_from_environment

            self._client = client_from_environment(self.environ)
        return self._client

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
                f"No space with key {text!r} (or it is not visible to you).",
                hint="Check the key with 'ctk spaces list'.",
            )
        space_id = str(match["id"])
        with _space_lock:
            _space_ids[cache_key] = space_id
        return space_id


def forget_space_ids() -> None:
    """Clear the key -> id cache (tests; a space deleted and re-created)."""
    with _space_lock:
        _space_ids.clear()


__all__ = ["ConfluenceClient", "Context", "Progress", "forget_space_ids"]
