"""The names of ctk's core commands, which no plugin's resource may take.

Plain data, so that the catalog (``registry.py``) can refuse a resource named ``auth`` or
``mcp`` without importing the CLI. The CLI's table of these commands, with their modules and
help, is ``ctk_core.commands.CORE_COMMANDS``; a test checks that both list the same names in
the same order.
"""

from __future__ import annotations

CORE_COMMAND_NAMES: tuple[str, ...] = (
    "auth",
    "status",
    "logout",
    "mcp",
    "convert",
    "export",
    "push",
    "plugins",
    "completion",
    "sandbox",
)

__all__ = ["CORE_COMMAND_NAMES"]
