"""The context every operation handler receives as its first argument.

``ctx.client`` is the HTTP client (built on first use, so that listing commands or tools never
imports requests); ``ctx.space_id(value)`` turns a space key or id into an id; ``ctx.frontend`` says
who is calling (``"cli"`` or ``"mcp"``); ``ctx.progress`` reports long work (a no-op unless the
front end shows progress).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from ctk_core.errors import NotFound, UsageError

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


class Context:
    """What a handler may use: the client, space resolution, the front end, progress."""

    def __init__(
        self,
        frontend: str = "cli",
        environ: Mapping[str, str] | None = None,
        client: Any = None,
        progress: Progress | None = None,
    ) -> None:
        self.frontend = frontend
        self.environ = environ
        self.progress = progress or Progress()
        self._client = client

    @property
    def client(self) -> Any:
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


__all__ = ["Context", "Progress", "forget_space_ids"]
