"""Core CLI commands, each module imported lazily by ctk_core.cli.

``CORE_COMMANDS`` maps a command name to ``("module:attribute", one-line help)``. The help is
written here so that ``ctk --help`` lists these commands without importing their modules (some of
them import requests or mcp). A test checks that every entry resolves to a Click command.

The names themselves, and their order, are ``ctk_core.reserved.CORE_COMMAND_NAMES``: the catalog
reads them there to refuse a resource named like a core command, without importing the CLI.
"""

from __future__ import annotations

from ctk_core.reserved import CORE_COMMAND_NAMES

_COMMANDS: dict[str, tuple[str, str]] = {
    "auth": (
        "ctk_core.commands.auth:auth_command",
        "Save credentials for a Confluence Cloud site.",
    ),
    "status": (
        "ctk_core.commands.auth:status_command",
        "Show where credentials come from and for which site.",
    ),
    "logout": ("ctk_core.commands.auth:logout_command", "Remove the saved credentials file."),
    "mcp": (
        "ctk_core.commands.mcp:command",
        "Serve the tools to AI assistants over MCP (stdio or HTTP).",
    ),
    "convert": (
        "ctk_core.commands.convert:command",
        "Convert between Markdown and Confluence storage format.",
    ),
    "export": (
        "ctk_core.commands.export:command",
        "Export a space or page tree to a folder of Markdown.",
    ),
    "push": (
        "ctk_core.commands.push:command",
        "Publish a folder of Markdown as a page tree (a write).",
    ),
    "plugins": (
        "ctk_core.commands.plugins:command",
        "List the loaded plugins, their resources and tools.",
    ),
    "completion": (
        "ctk_core.commands.completion:command",
        "Print the shell completion script (bash, zsh or fish).",
    ),
    "sandbox": (
        "ctk_core.commands.sandbox:command",
        "Run or reset the offline Confluence sandbox.",
    ),
}

#: Every core command, in the order of ``ctk --help``. A reserved name without an entry above
#: fails here, at import; an entry without a reserved name is caught by tests/test_layers.py.
CORE_COMMANDS: dict[str, tuple[str, str]] = {name: _COMMANDS[name] for name in CORE_COMMAND_NAMES}
