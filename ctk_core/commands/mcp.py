"""``ctk mcp``: serve the tools to AI assistants over MCP (stdio, or streamable HTTP with --port).

The SDK (about a second to import) is imported only inside the command, when serving.
"""

from __future__ import annotations

import logging
import sys

import click

from ctk_core import settings
from ctk_core.errors import AuthError, UsageError


class _Formatter(logging.Formatter):
    """``ctk: warning: message`` (messages that already start with ``ctk:`` as they are)."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if text.startswith("ctk:"):
            return text
        return f"ctk: {record.levelname.lower()}: {text}"


def _setup_logging() -> None:
    """Diagnostics go to stderr, never stdout (stdout carries the protocol)."""
    debug = settings.flag("CTK_DEBUG")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter("%(message)s"))
    root = logging.getLogger("ctk")
    if not any(getattr(h, "_ctk_mcp", False) for h in root.handlers):
        handler._ctk_mcp = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.WARNING)
    root.propagate = False


@click.command("mcp", short_help="Serve the tools to AI assistants over MCP (stdio or HTTP).")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Serve streamable HTTP on this port (path /mcp) instead of stdio.",
)
@click.option(
    "--host",
    default=None,
    metavar="HOST",
    help="Address for --port (default 127.0.0.1). Any non-loopback address needs CTK_MCP_TOKEN.",
)
@click.option(
    "--no-auth",
    is_flag=True,
    help="Serve without credentials (to inspect the tools); every call then says how "
    "to authenticate.",
)
def command(port: int | None, host: str | None, no_auth: bool) -> None:
    """Serve ctk's tools over the Model Context Protocol.

    Without options the server speaks MCP on stdin/stdout: configure your MCP client to run
    `ctk mcp`. With --port it serves streamable HTTP on http://127.0.0.1:PORT/mcp; when
    CTK_MCP_TOKEN is set, clients must send it as a bearer token (mandatory for a
    non-loopback --host). Writes stay off unless CTK_ENABLE_WRITES=true; CTK_DISABLED_TOOLS
    hides tools.
    """
    _setup_logging()
    if host is not None and port is None:
        raise UsageError("--host needs --port (without --port the server uses stdio).")
    host = host or "127.0.0.1"
    token = (settings.environ().get("CTK_MCP_TOKEN") or "").strip() or None
    if port is not None and token is not None and len(token) < 16:
        logging.getLogger("ctk.mcp").warning(
            "CTK_MCP_TOKEN is short (%d characters): use a long random secret, for example "
            "the output of `openssl rand -hex 32`.",
            len(token),
        )

    from ctk_core import mcp_server

    if port is not None:  # refuse an unsafe exposure before touching credentials
        mcp_server.check_http_exposure(host, token)

    context = None
    if not no_auth:
        from ctk_core.context import Context
        from ctk_core.file_access import AgentFiles

        try:
            from ctk_core.client import client_from_environment

            client = client_from_environment()
        except AuthError as err:
            raise AuthError(
                f"{err.message} The MCP server needs credentials.",
                hint="Run `ctk auth` (or set CONFLUENCE_DOMAIN, CONFLUENCE_EMAIL and "
                "CONFLUENCE_API_TOKEN), try it offline with `ctk --sandbox mcp`, or pass "
                "--no-auth to only inspect the tools.",
            ) from None
        context = Context(files=AgentFiles(), client=client)

    server = mcp_server.build_server(no_auth=no_auth, context=context)
    try:
        if port is None:
            mcp_server.serve_stdio(server)
        else:
            mcp_server.serve_http(server, host, port, token)
    except KeyboardInterrupt:  # Ctrl-C in a terminal: a normal way to stop serving
        pass
