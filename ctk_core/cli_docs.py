"""Generate docs/cli.md from the commands' own ``--help``: ``python -m ctk_core.cli_docs``.

The reference shows every command of the built-in plugins with writes enabled (so write commands
appear) at a fixed width of 100 columns. ``--check`` exits 1 when the file differs from what would
be generated (tests/test_cli_docs.py runs the same comparison).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

WIDTH = 100
DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "docs" / "cli.md"

HEADER = """# ctk command reference

Generated from the commands' own `--help` by `python -m ctk_core.cli_docs`; do not edit by hand
(a test fails when this file and the help drift apart). Shown with writes enabled
(`CTK_ENABLE_WRITES=true`), so write commands appear; with writes off they are hidden from
`--help` and refuse to run (exit code 4). Only the built-in plugins are shown: `ctk plugins` lists
what is installed, and `ctk <resource> --help` shows any plugin's commands.
"""


def builtin_plugin_names() -> list[str]:
    from importlib.metadata import entry_points

    from ctk_core.registry import BUILTIN_DIST, GROUP, dist_name

    return [ep.name for ep in entry_points(group=GROUP) if dist_name(ep) == BUILTIN_DIST]


@contextmanager
def _documentation_environment() -> Iterator[None]:
    saved = dict(os.environ)
    for name in list(os.environ):
        if name.startswith("CTK_"):
            del os.environ[name]
    os.environ["CTK_ENABLE_WRITES"] = "true"
    os.environ["CTK_LOAD_PLUGINS"] = ",".join(builtin_plugin_names())
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _walk(command: click.Command, ctx: click.Context) -> Iterator[tuple[str, str]]:
    yield ctx.command_path, command.get_help(ctx)
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            try:
                sub = command.get_command(ctx, name)
            except ImportError as exc:
                yield f"{ctx.command_path} {name}", f"(not available in this build: {exc})"
                continue
            if sub is None or sub.hidden:
                continue
            sub_ctx = sub.make_context(
                name,
                [],
                parent=ctx,
                resilient_parsing=True,
                terminal_width=WIDTH,
                max_content_width=WIDTH,
            )
            yield from _walk(sub, sub_ctx)


def generate() -> str:
    from ctk_core.cli import main

    with _documentation_environment():
        ctx = main.make_context(
            "ctk", [], resilient_parsing=True, terminal_width=WIDTH, max_content_width=WIDTH
        )
        sections = list(_walk(main, ctx))
    parts = [HEADER]
    for path, text in sections:
        parts.append(f"## `{path}`\n\n```text\n{text.rstrip()}\n```\n")
    return "\n".join(parts)


@click.command()
@click.option("--check", is_flag=True, help="Exit 1 if the file is out of date.")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_OUTPUT,
    show_default=True,
)
def cli(check: bool, output: Path) -> None:
    """Write (or check) the CLI reference."""
    text = generate()
    if check:
        current = output.read_text(encoding="utf-8") if output.exists() else ""
        if current != text:
            click.echo(f"{output} is out of date: run python -m ctk_core.cli_docs", err=True)
            sys.exit(1)
        click.echo(f"{output} is up to date.")
        return
    output.write_text(text, encoding="utf-8")
    click.echo(f"Wrote {output}.")


if __name__ == "__main__":
    cli()
