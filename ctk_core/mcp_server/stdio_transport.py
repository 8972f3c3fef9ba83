"""stdio for the MCP server: what MCP clients start. Only protocol goes to stdout."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from mcp.server import Server


def serve_stdio(server: Server) -> None:
    """Serve over stdin/stdout until the client closes stdin."""
    import anyio
    from mcp.server.stdio import stdio_server

    async def main() -> None:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())

    anyio.run(main)
