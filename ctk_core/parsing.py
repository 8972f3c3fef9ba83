"""How ctk reads yes/no words and comma-separated lists, in the environment and in arguments.

One vocabulary for every flag (``CTK_ENABLE_WRITES``, ``CTK_DEBUG``, ``CTK_SANDBOX``,
``CTK_TRACE_PLUGINS``, boolean arguments) and every list (``CTK_DISABLED_TOOLS``,
``CTK_LOAD_PLUGINS``, list arguments). Standard library only: the CLI imports it at start-up.
"""

from __future__ import annotations

TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "off"})


def env_flag(value: str | None) -> bool:
    """Whether a flag's value means yes: ``true``, ``1``, ``yes`` or ``on`` (any case, trimmed)."""
    return (value or "").strip().lower() in TRUE_WORDS


def split_list(text: str) -> list[str]:
    """``"a, b,,c"`` -> ``["a", "b", "c"]``: how ctk reads every comma-separated list."""
    return [part.strip() for part in text.split(",") if part.strip()]


__all__ = ["FALSE_WORDS", "TRUE_WORDS", "env_flag", "split_list"]
