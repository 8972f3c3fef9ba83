"""``ctk convert --to markdown|storage [FILE]``: the page-body converters on the command line.

Reads FILE (or stdin) and writes the converted text to stdout. The converters are imported
inside the command so that ``ctk --help`` does not load markdown-it.
"""

from __future__ import annotations

import click


class _InputError(click.ClickException):
    exit_code = 2


def _read(file: str) -> str:
    from ctk_core.errors import UsageError
    from ctk_core.textfile import read_utf8

    try:
        return read_utf8(file)
    except UsageError as exc:
        raise _InputError(exc.message) from None


@click.command("convert")
@click.option(
    "--to",
    "target",
    required=True,
    type=click.Choice(["markdown", "storage"]),
    help="Output format: Markdown (from storage XHTML) or storage (from Markdown).",
)
@click.argument("file", required=False, default="-", metavar="[FILE]")
def command(target: str, file: str) -> None:
    """Convert between Markdown and Confluence storage format (XHTML).

    Reads FILE, or standard input when FILE is omitted or "-", and prints the result.
    The Markdown dialect is described in docs/markdown.md.
    """
    text = _read(file)
    if target == "markdown":
        from ctk_core.convert import storage_to_markdown

        out = storage_to_markdown(text)
    else:
        from ctk_core.convert import markdown_to_storage

        out = markdown_to_storage(text)
        out = out + "\n" if out else ""
    click.echo(out.encode("utf-8"), nl=False)  # UTF-8 whatever the terminal says
