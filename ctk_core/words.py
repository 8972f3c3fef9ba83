"""How each front end names the parts of a declaration in its messages.

A person at the CLI types ``ctk pages outline --space DEMO``; an assistant calls
``manage_pages`` with ``action: "get_outline"`` and ``space_id``. Messages about an operation
(missing or bad arguments, refusals) name things the way the reader types them, generated from
the declaration, so neither reader is told what only the other can type.

A plugin names a parameter or an operation in a message between backticks: `` `space_id` ``,
`` `get_outline` `` (of its own resource), `` `spaces list` `` (another resource's). The CLI shows
``--space``, ``'ctk pages get-outline'``, ``'ctk spaces list'``; MCP shows ``'space_id'``,
``'get_outline'``, ``manage_spaces action 'list'``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from ctk_core.plugin import Operation, Param, Resource


@dataclass(frozen=True)
class Words:
    """The names one front end (``"cli"`` or ``"mcp"``) uses for tools, operations and
    parameters."""

    front: Literal["cli", "mcp"]

    def tool(self, resource: Resource) -> str:
        if self.front == "mcp":
            return f"The {resource.tool_name} tool"
        return f"'ctk {resource.name.replace('_', '-')}'"

    def operation(self, resource: Resource, op: Operation) -> str:
        if self.front == "mcp":
            return f"{resource.tool_name} action {op.name!r}"
        return f"'ctk {resource.name.replace('_', '-')} {op.cli_name}'"

    def param(self, param: Param, *, quoted: bool = True) -> str:
        """The parameter as its reader types it: ``'space_id'`` (``space_id`` in a list, not
        ``quoted``) over MCP; ``--space``, ``PAGE_ID`` or ``--body (or --body-file)`` on the
        CLI."""
        if self.front == "mcp":
            return repr(param.name) if quoted else param.name
        if param.positional:
            return param.name.upper()
        return f"{param.cli_flag} (or {param.cli_file_flag})" if param.from_file else param.cli_flag

    def rephrase(self, resource: Resource, op: Operation, text: str) -> str:
        """A handler's message with its backticked names in this front end's words."""
        params = {p.name: p for p in op.all_params}
        ops = {o.name: o for o in resource.operations}

        def name(match: re.Match[str]) -> str:
            first, second = match.group(1), match.group(2)
            if second is not None:
                if self.front == "mcp":
                    return f"manage_{first} action {second!r}"
                return f"'ctk {first.replace('_', '-')} {second.replace('_', '-')}'"
            if first in params:
                return self.param(params[first])
            if first in ops:
                return repr(first) if self.front == "mcp" else self.operation(resource, ops[first])
            return repr(first)

        return _NAMED.sub(name, text)


_NAMED = re.compile(r"`([a-z][a-z0-9_]*)(?: ([a-z][a-z0-9_]*))?`")

CLI_WORDS = Words("cli")
MCP_WORDS = Words("mcp")

__all__ = ["CLI_WORDS", "MCP_WORDS", "Words"]
