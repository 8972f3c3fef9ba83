"""The MCP front end: one tool per resource, generated from the catalog and the policy.

See docs/architecture.md, "The MCP server". The modules, by concern:

- ``tools``: what clients see (schemas, descriptions, annotations, instructions) and the tool
  reference of docs/mcp.md;
- ``results``: compact JSON results within the response cap, error messages;
- ``server``: the SDK server, its call path (``ToolRunner``) and progress notifications;
- ``http_transport`` and ``stdio_transport``: the two ways to serve it.

Nothing here imports the MCP SDK until a server is built or served; the package is imported only
by ``ctk mcp``, the ``ctk_mcp`` test fixture and the tests. Nothing but protocol goes to stdout;
diagnostics go to stderr through :mod:`logging` (logger ``ctk.mcp``).
"""

from __future__ import annotations

from ctk_core.mcp_server.http_transport import (
    BearerTokenMiddleware,
    check_http_exposure,
    http_app,
    is_loopback,
    serve_http,
    transport_security,
)
from ctk_core.mcp_server.results import (
    DEFAULT_INLINE_MAX_BYTES,
    DEFAULT_MAX_RESPONSE_BYTES,
    cap_result,
    error_text,
    inline_max_bytes,
    max_response_bytes,
    shorten,
)
from ctk_core.mcp_server.server import (
    NO_AUTH_MESSAGE,
    CallContext,
    ToolRunner,
    build_server,
    mcp_progress,
)
from ctk_core.mcp_server.stdio_transport import serve_stdio
from ctk_core.mcp_server.tools import (
    SHARED_INSTRUCTIONS,
    WRITES_OFF_NOTE,
    enabled_resources,
    param_schema,
    server_instructions,
    tool_annotations,
    tool_description,
    tool_schema,
    tool_title,
    tools_markdown,
    tools_payload,
)

__all__ = [
    "DEFAULT_INLINE_MAX_BYTES",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "NO_AUTH_MESSAGE",
    "SHARED_INSTRUCTIONS",
    "WRITES_OFF_NOTE",
    "BearerTokenMiddleware",
    "CallContext",
    "ToolRunner",
    "build_server",
    "cap_result",
    "check_http_exposure",
    "enabled_resources",
    "error_text",
    "http_app",
    "inline_max_bytes",
    "is_loopback",
    "max_response_bytes",
    "mcp_progress",
    "param_schema",
    "serve_http",
    "serve_stdio",
    "server_instructions",
    "shorten",
    "tool_annotations",
    "tool_description",
    "tool_schema",
    "tool_title",
    "tools_markdown",
    "tools_payload",
    "transport_security",
]
