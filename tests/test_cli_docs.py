"""docs/cli.md is generated from the commands' own --help and must not drift from it."""

from __future__ import annotations

from pathlib import Path

from ctk_core.cli_docs import generate

# The checkout's docs, not the installed package's neighbourhood (tox installs a wheel).
CLI_MD = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


def test_cli_reference_matches_the_help():
    expected = generate()
    current = CLI_MD.read_text(encoding="utf-8") if CLI_MD.exists() else ""
    assert current == expected, (
        "docs/cli.md is out of date with the commands' --help: run python -m ctk_core.cli_docs"
    )


def test_reference_covers_every_command_of_the_builtins():
    from ctk_core.cli_docs import _documentation_environment, builtin_plugin_names
    from ctk_core.registry import load_catalog

    text = generate()
    with _documentation_environment():
        resources = load_catalog().resources
    assert {"spaces", "users"} <= set(builtin_plugin_names())
    for resource in resources:
        group = resource.name.replace("_", "-")
        for op in resource.operations:
            assert f"## `ctk {group} {op.cli_name}`" in text
    for core in ("auth", "status", "logout", "mcp", "plugins", "sandbox", "sandbox serve"):
        assert f"## `ctk {core}`" in text
