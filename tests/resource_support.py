"""What the tests of the resource plugins share: running ``ctk`` against the sandbox (through the
``ctk_cli`` fixture) and checking how it refuses bad input."""

from __future__ import annotations

from typing import Any


def cli_json(
    ctk_cli: Any, *args: str, env: dict[str, Any] | None = None, input: str | None = None
) -> Any:
    """``ctk --json <args>``, which must succeed; its parsed output."""
    result = ctk_cli("--json", *args, env=env, input=input)
    assert result.exit_code == 0, result
    return result.json()


def assert_refused(result: Any, code: int, fragment: str) -> None:
    """A ``ctk`` run that failed cleanly: exit ``code``, ``fragment`` in stderr (any case),
    nothing on stdout, no traceback."""
    assert result.exit_code == code, result
    assert fragment.lower() in result.stderr.lower(), result
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
