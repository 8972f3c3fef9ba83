"""Every environment variable ctk reads, in one table: name, kind, default and meaning.

:func:`environ` is what the rest of ctk reads settings from: the process environment with, on
top, the values the CLI's global options set (``--debug``, ``--sandbox``) through
:func:`override`; nothing in ctk writes ``os.environ``. A function given an explicit mapping
(the MCP server built for a given environment, tests) reads that mapping instead.

The table is the reference the README's configuration table is checked against, and every
``CTK_*``/``CONFLUENCE_*`` name in the code must be in it (tests/test_settings.py).
Standard library only: the CLI imports it at start-up.
"""

from __future__ import annotations

import os
from collections import ChainMap
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Literal

from ctk_core.parsing import env_flag

Kind = Literal["flag", "text", "secret", "list", "path", "paths", "url", "rate", "int", "seconds"]


@dataclass(frozen=True)
class Setting:
    """One environment variable: its ``kind`` says how its value is read."""

    name: str
    kind: Kind
    default: str | None
    doc: str


SETTINGS: tuple[Setting, ...] = (
    Setting("CONFLUENCE_DOMAIN", "text", None, "The site: acme for https://acme.atlassian.net."),
    Setting("CONFLUENCE_EMAIL", "text", None, "The Atlassian account's email."),
    Setting("CONFLUENCE_API_TOKEN", "secret", None, "The API token (never printed or logged)."),
    Setting("CONFLUENCE_TOKEN_TYPE", "text", None, "classic or scoped (ctk auth detects it)."),
    Setting("CONFLUENCE_CLOUD_ID", "text", None, "The site's cloud id, for scoped tokens."),
    Setting("CTK_ENABLE_WRITES", "flag", "false", "true/1/yes/on turns write operations on."),
    Setting("CTK_DISABLED_TOOLS", "list", "", "Tool names neither front end offers."),
    Setting("CTK_CONFIG_DIR", "path", "$XDG_CONFIG_HOME/ctk", "Folder of credentials.json."),
    Setting("CTK_BASE_URL", "url", None, "Another Confluence-compatible base URL."),
    Setting("CTK_SANDBOX", "flag", "false", "Like the global --sandbox option."),
    Setting("CTK_RATE_LIMIT", "rate", "20/60", "Client-side limit <requests>/<seconds>, or off."),
    Setting("CTK_TIMEOUT", "seconds", "30", "Seconds to wait for each read of an answer."),
    Setting("CTK_MAX_RESPONSE_BYTES", "int", "40000", "The cap on one MCP result."),
    Setting("CTK_MCP_INLINE_MAX_BYTES", "int", "1048576", "Largest file MCP shows; 0: none."),
    Setting("CTK_LOG_DIR", "path", "/tmp/ctk-logs", "Log folder (truncated MCP results)."),  # noqa: S108
    Setting("CTK_DOWNLOAD_DIR", "path", "/tmp/ctk-downloads", "Where MCP downloads go."),  # noqa: S108
    Setting("CTK_UPLOAD_ROOTS", "paths", ".", "Folders MCP uploads may read from."),
    Setting("CTK_MCP_TOKEN", "secret", None, "Bearer token of ctk mcp --port off loopback."),
    Setting("CTK_MCP_ALLOWED_HOSTS", "list", "", "Extra Host names the HTTP server accepts."),
    Setting("CTK_LOAD_PLUGINS", "list", "", "Load only these plugins (entry-point names)."),
    Setting("CTK_TRACE_PLUGINS", "flag", "false", "Trace plugin hook calls on stderr."),
    Setting("CTK_DEBUG", "flag", "false", "Tracebacks, and one log line per request."),
    Setting("CTK_SITE_URL", "url", None, "Loopback stand-in for the site (tests of ctk auth)."),
    Setting("CTK_GATEWAY_URL", "url", None, "Loopback stand-in for the API gateway (tests)."),
)
NAMES = frozenset(s.name for s in SETTINGS)

_overrides: dict[str, str] = {}


def environ(explicit: Mapping[str, str] | None = None) -> Mapping[str, str]:
    """The mapping to read settings from: ``explicit`` when given, else the process's."""
    if explicit is not None:
        return explicit
    return ChainMap(_overrides, os.environ)  # type: ignore[arg-type]


def overrides() -> MutableMapping[str, str]:
    """Where the global options put what they set (it takes precedence over the environment)."""
    return _overrides


def override(name: str, value: str) -> None:
    """Set one setting for the rest of this process (a global option of the CLI)."""
    if name not in NAMES:
        raise KeyError(f"{name} is not a setting of ctk")
    _overrides[name] = value


def reset() -> None:
    """Forget what the global options set (each CLI command starts afresh)."""
    _overrides.clear()


def flag(name: str, explicit: Mapping[str, str] | None = None) -> bool:
    """A flag setting: true for true/1/yes/on (any case)."""
    return env_flag(environ(explicit).get(name))


__all__ = ["NAMES", "SETTINGS", "Setting", "environ", "flag", "override", "overrides", "reset"]
