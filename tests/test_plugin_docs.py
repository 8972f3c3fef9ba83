"""docs/plugins.md documents every hook with its exact signature and every declaration field."""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path

import pytest

from ctk_core import hookspecs
from ctk_core.plugin import Operation, Param, Resource

DOC = (Path(__file__).resolve().parents[1] / "docs" / "plugins.md").read_text(encoding="utf-8")
HOOKS = [
    name
    for name, fn in vars(hookspecs).items()
    if name.startswith("ctk_") and inspect.isfunction(fn)
]


def test_there_are_hooks():
    assert set(HOOKS) == {"ctk_register_resources", "ctk_register_commands", "ctk_sandbox_routes"}


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_heading_with_its_signature(hook):
    args = ", ".join(inspect.signature(getattr(hookspecs, hook)).parameters)
    assert f"### `{hook}({args})`" in DOC


@pytest.mark.parametrize("cls", [Resource, Operation, Param])
def test_every_declaration_field_is_documented(cls):
    heading = next(line for line in DOC.splitlines() if line.startswith(f"### `{cls.__name__}("))
    for field in dataclasses.fields(cls):
        assert field.name in heading, (cls.__name__, field.name)
        rows = [line for line in DOC.splitlines() if line.startswith("| `")]
        assert any(f"`{field.name}`" in row.split(" | ")[0] for row in rows), (
            cls.__name__,
            field.name,
        )
