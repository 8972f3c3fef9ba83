"""The security policy: read from the environment, applied by the core.

Both front ends ask this module, never a plugin, whether something may run:

- writes are off unless ``CTK_ENABLE_WRITES`` is ``true``/``1``/``yes``/``on`` (any case);
- ``CTK_DISABLED_TOOLS`` names MCP tools (``manage_comments,...``) that neither front end offers.

There is deliberately no hook through which a plugin could loosen any of this.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ctk_core import settings
from ctk_core.errors import PolicyError, shown
from ctk_core.parsing import FALSE_WORDS, TRUE_WORDS, split_list
from ctk_core.words import MCP_WORDS, Words

if TYPE_CHECKING:
    from ctk_core.plugin import Operation, Resource

WRITES_DISABLED_MESSAGE = "Writes are disabled: set CTK_ENABLE_WRITES=true to enable them."


def parse_writes(value: str | None) -> tuple[bool, str | None]:
    """``CTK_ENABLE_WRITES`` -> (enabled, warning or None)."""
    if value is None:
        return False, None
    norm = value.strip().lower()
    if norm in TRUE_WORDS:
        return True, None
    if not norm or norm in FALSE_WORDS:
        return False, None
    return False, (
        f"CTK_ENABLE_WRITES={shown(value)} is not understood, so writes stay disabled "
        "(use true, 1, yes or on to enable them; false, 0, no or off to disable them)."
    )


def parse_tool_list(value: str | None) -> frozenset[str]:
    """``CTK_DISABLED_TOOLS`` -> the set of tool names (comma-separated, whitespace trimmed,
    lower case: a name matches a tool without regard to case)."""
    return frozenset(name.lower() for name in split_list(value or ""))


@dataclass(frozen=True)
class Policy:
    """What the environment allows. Build it with :meth:`from_environ`."""

    writes_enabled: bool = False
    disabled_tools: frozenset[str] = frozenset()
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def from_environ(
        cls, environ: Mapping[str, str] | None = None, known_tools: Iterable[str] | None = None
    ) -> Policy:
        """Read the policy from ``environ`` (default ``os.environ``).

        ``known_tools`` are the tool names of the loaded catalog; any name in
        ``CTK_DISABLED_TOOLS`` outside it gets a warning. When omitted, the catalog is loaded.
        """
        env = settings.environ(environ)
        writes, warning = parse_writes(env.get("CTK_ENABLE_WRITES"))
        warnings = [warning] if warning else []
        disabled = parse_tool_list(env.get("CTK_DISABLED_TOOLS"))
        if disabled:
            if known_tools is None:
                from ctk_core.registry import load_catalog

                known_tools = [r.tool_name for r in load_catalog().resources]
            known = {name.lower() for name in known_tools}
            for name in sorted(disabled - known):
                hint = f" (known tools: {', '.join(sorted(known))})" if known else ""
                warnings.append(
                    f"CTK_DISABLED_TOOLS names {shown(name)}, which is not a tool of ctk; "
                    f"is it a typo?{hint}"
                )
        return cls(writes_enabled=writes, disabled_tools=disabled, warnings=warnings)

    # -- questions ------------------------------------------------------------------------------
    def tool_enabled(self, resource: Resource) -> bool:
        return resource.tool_name.lower() not in self.disabled_tools

    def allows(self, operation: Operation) -> bool:
        """Whether the operation may run (ignoring disabled tools)."""
        return self.writes_enabled or not operation.write

    def enabled_operations(self, resource: Resource) -> list[Operation]:
        """The operations a front end offers for this resource, in declaration order."""
        return [op for op in resource.operations if self.allows(op)]

    def hidden_operations(self, resource: Resource) -> list[Operation]:
        """The write operations withheld because writes are off."""
        return [op for op in resource.operations if not self.allows(op)]

    def refusal(
        self, resource: Resource, operation: Operation | None = None, words: Words = MCP_WORDS
    ) -> str | None:
        """Why the resource's tool (or this operation of it) may not run, in the front end's
        ``words``; None when it may. Every refusal of ctk is worded here."""
        if not self.tool_enabled(resource):
            return (
                f"{words.tool(resource)} is disabled by CTK_DISABLED_TOOLS: "
                f"remove {resource.tool_name} from CTK_DISABLED_TOOLS to use it."
            )
        if operation is not None and not self.allows(operation):
            return WRITES_DISABLED_MESSAGE
        return None

    def withheld_content_types(self, resources: Iterable[Resource]) -> frozenset[str]:
        """The content types of disabled tools, which no other tool shows (search)."""
        return frozenset(
            kind for r in resources if not self.tool_enabled(r) for kind in r.content_types
        )

    def check(
        self, resource: Resource, operation: Operation | None = None, words: Words = MCP_WORDS
    ) -> None:
        """Raise PolicyError when the operation (None: any use of the resource's tool) may not
        run; the first check of every call."""
        refusal = self.refusal(resource, operation, words)
        if refusal is not None:
            raise PolicyError(refusal)

    def annotations(self, resource: Resource) -> dict[str, bool]:
        """The four MCP tool hints, computed from the enabled operations, all set explicitly."""
        ops = self.enabled_operations(resource)
        writes = [op for op in ops if op.write]
        return {
            "readOnlyHint": not writes,
            "destructiveHint": any(op.destructive for op in writes),
            "idempotentHint": all(op.idempotent for op in writes),
            "openWorldHint": True,
        }


__all__ = [
    "WRITES_DISABLED_MESSAGE",
    "Policy",
    "parse_tool_list",
    "parse_writes",
]
