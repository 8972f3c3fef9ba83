"""Streamable HTTP for the MCP server: DNS-rebinding protection, the bearer token, uvicorn.

A non-loopback host is refused without a bearer token (``CTK_MCP_TOKEN``); the SDK and uvicorn
are imported only when serving.
"""

from __future__ import annotations

import hmac
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ctk_core import settings
from ctk_core.credentials import is_loopback_host as is_loopback
from ctk_core.errors import PolicyError
from ctk_core.parsing import split_list

if TYPE_CHECKING:  # pragma: no cover
    from mcp.server import Server


def _host_pattern(host: str) -> str:
    bare = host.strip("[]")
    return f"[{bare}]" if ":" in bare else bare


def _local_names() -> list[str]:
    """This machine's names and addresses (for a server bound to 0.0.0.0 or ::)."""
    import socket

    names = {socket.gethostname(), socket.getfqdn()}
    for name in list(names):
        try:
            names.update(socket.gethostbyname_ex(name)[2])
        except OSError:
            pass
    return sorted(n for n in names if n)


def transport_security(host: str, environ: Mapping[str, str] | None = None) -> Any:
    """DNS-rebinding protection, always on.

    Allowed Host/Origin: the loopback names, plus ``host`` when it is another name, plus this
    machine's names when ``host`` is a wildcard address, plus ``CTK_MCP_ALLOWED_HOSTS``
    (comma-separated, e.g. the name a reverse proxy forwards).
    """
    from mcp.server.transport_security import TransportSecuritySettings

    env = settings.environ(environ)
    hosts = ["127.0.0.1", "localhost", "[::1]"]
    extra = [host]
    if host.strip("[]") in ("0.0.0.0", "::"):  # noqa: S104 - detects a wildcard, binds nothing
        extra += _local_names()
    extra += split_list(env.get("CTK_MCP_ALLOWED_HOSTS") or "")
    for name in extra:
        if name and _host_pattern(name) not in hosts:
            hosts.append(_host_pattern(name))
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[f"{h}:*" for h in hosts] + hosts,
        allowed_origins=[
            f"{scheme}://{h}{port}"
            for h in hosts
            for scheme in ("http", "https")
            for port in (":*", "")
        ],
    )


class BearerTokenMiddleware:
    """ASGI middleware: every HTTP request must carry ``Authorization: Bearer <token>``.

    The token is compared in constant time (``hmac.compare_digest``); lifespan events pass.
    """

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self._token = token.encode("utf-8")

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = b""
        for key, value in scope.get("headers") or []:
            if key.lower() == b"authorization":
                given = value
                break
        scheme, _, token = given.partition(b" ")
        if scheme.lower() == b"bearer" and hmac.compare_digest(token.strip(), self._token):
            await self.app(scope, receive, send)
            return
        body = b'{"error":"invalid_token","error_description":"Missing or wrong bearer token"}'
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", b'Bearer error="invalid_token"'),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def check_http_exposure(host: str, token: str | None) -> None:
    """Refuse a non-loopback host without a bearer token (PolicyError, exit code 4)."""
    if not is_loopback(host) and not token:
        raise PolicyError(
            f"Refusing to serve MCP on non-loopback host {host} without a bearer token.",
            hint="Set CTK_MCP_TOKEN to a long random secret (clients send it as "
            "'Authorization: Bearer <token>'), or use --host 127.0.0.1.",
        )


def http_app(
    server: Server,
    host: str = "127.0.0.1",
    token: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Any:
    """The streamable-HTTP ASGI app (path ``/mcp``), with the bearer check when ``token``."""
    check_http_exposure(host, token)
    app = server.streamable_http_app(
        host=host, transport_security=transport_security(host, environ)
    )
    return BearerTokenMiddleware(app, token) if token else app


def serve_http(
    server: Server,
    host: str = "127.0.0.1",
    port: int = 8765,
    token: str | None = None,
    log_level: str = "warning",
) -> None:
    """Serve streamable HTTP with uvicorn until interrupted."""
    import uvicorn

    app = http_app(server, host, token)
    shown = f"[{host}]" if ":" in host else host
    print(
        f"ctk MCP server on http://{shown}:{port}/mcp{' (bearer token required)' if token else ''}",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(app, host=host, port=port, log_level=log_level)
