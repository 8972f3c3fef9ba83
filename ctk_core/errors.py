"""The one error vocabulary of ctk. Each error carries its exit code.

The table of codes: docs/architecture.md, "Errors and exit codes".

Errors are raised anywhere and translated only at the edges: the CLI prints ``str(err)`` on one
line and exits with ``err.exit_code``; the MCP server returns it as an ``isError`` result.
"""

from __future__ import annotations

import os
import reprlib
from typing import Any

#: How many characters of a value a message quotes at most (then "...").
SHOWN_CHARACTERS = 60


def shown(value: Any, limit: int = SHOWN_CHARACTERS) -> str:
    """A value as an error message quotes it: its ``repr``, cut to a short prefix.

    A string longer than ``limit`` characters shows its first ``limit`` and ``...``; another
    value (a list, a dict, however long or deep) at most about twice that. Every message that
    quotes a caller's value goes through here, so that a 1 MB argument never comes back in full.
    """
    if isinstance(value, str):
        return repr(value) if len(value) <= limit else repr(value[:limit]) + "..."
    short = reprlib.Repr()
    short.maxlevel = 3
    short.maxstring = short.maxother = limit
    short.maxlist = short.maxtuple = short.maxdict = short.maxset = 4
    try:
        text = short.repr(value)
    except ValueError:  # an integer too long to write out (Python refuses past 4300 digits)
        text = f"<an integer of {value.bit_length()} bits>" if isinstance(value, int) else "<?>"
    return text if len(text) <= 2 * limit else text[: 2 * limit] + "..."


def shown_path(path: str | os.PathLike[str], limit: int = 80) -> str:
    """A path as a message shows it: without quotes, cut to ``limit`` characters, control
    characters written as escapes (``\\x1b``)."""
    text = os.fspath(path)
    cut = text if len(text) <= limit else text[:limit] + "..."
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in cut)


class CtkError(Exception):
    """Base class: any other error (exit code 1)."""

    exit_code = 1
    code = "error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.reword(message, hint)

    def reword(self, message: str, hint: str | None = None) -> None:
        """Say the same thing in other words (a front end's names for what the message names)."""
        self.message = message
        self.hint = hint
        self.args = (message if not hint else f"{message} {hint}",)


class UsageError(CtkError):
    """Bad input from the caller (exit code 2)."""

    exit_code = 2
    code = "usage"


class AuthError(CtkError):
    """Authentication failed or no credentials (401, exit code 3)."""

    exit_code = 3
    code = "auth"


class PermissionDenied(CtkError):
    """Confluence answered 403 (exit code 4)."""

    exit_code = 4
    code = "forbidden"


class PolicyError(PermissionDenied):
    """Refused by ctk's own security policy (exit code 4)."""

    code = "policy"


class NotFound(CtkError):
    """Not found, or not visible to you (404, exit code 5)."""

    exit_code = 5
    code = "not_found"


class Conflict(CtkError):
    """Stale version or duplicate title (409, exit code 6)."""

    exit_code = 6
    code = "conflict"


class RateLimited(CtkError):
    """Client-side limiter or Confluence 429 (exit code 7)."""

    exit_code = 7
    code = "rate_limited"

    def __init__(
        self, message: str, *, retry_after: float | None = None, hint: str | None = None
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, hint=hint)


class Unavailable(CtkError):
    """Confluence or the network is unavailable: 5xx, timeout, connection (exit code 8)."""

    exit_code = 8
    code = "unavailable"


__all__ = [
    "AuthError",
    "Conflict",
    "CtkError",
    "NotFound",
    "PermissionDenied",
    "PolicyError",
    "RateLimited",
    "Unavailable",
    "UsageError",
    "shown",
    "shown_path",
]
