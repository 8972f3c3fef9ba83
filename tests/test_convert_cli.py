"""``ctk convert --to markdown|storage [FILE]``."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner
from convert_support import DATA

from ctk_core.commands.convert import command

STORAGE = '<h1>T</h1><p>Hi <strong>there</strong> <ac:emoticon ac:name="smile"/> 🎉</p>'
MARKDOWN = "# T\n\nHi **there** :smile: 🎉\n"


def run(*args: str, input: bytes | str | None = None):
    return CliRunner().invoke(command, list(args), input=input)


def test_storage_to_markdown_from_stdin() -> None:
    result = run("--to", "markdown", input=STORAGE)
    assert result.exit_code == 0, result.output
    assert result.stdout == MARKDOWN


def test_markdown_to_storage_from_a_file(tmp_path) -> None:
    path = tmp_path / "page.md"
    path.write_text(MARKDOWN, encoding="utf-8")
    result = run("--to", "storage", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout == STORAGE + "\n"


def test_dash_means_stdin_and_a_bom_is_ignored() -> None:
    result = run("--to", "markdown", "-", input="\ufeff" + STORAGE)
    assert result.stdout == MARKDOWN


def test_fixture_file_converts() -> None:
    result = run("--to", "markdown", str(DATA / "01_space_home.xml"))
    assert result.exit_code == 0
    assert result.stdout == (DATA / "01_space_home.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "data", "message"),
    [
        (["--to", "markdown", "/nonexistent/file.xml"], None, "Cannot read /nonexistent/file.xml"),
        (["--to", "storage"], b"\xff\xfeabc", "stdin is not UTF-8 text (byte 0xff at offset 0)"),
        (["--to", "html"], b"", "Invalid value for '--to'"),
        ([], b"", "Missing option '--to'"),
    ],
)
def test_clear_one_line_errors(args, data, message) -> None:
    result = run(*args, input=data)
    assert result.exit_code == 2
    assert message in result.output
    if "--to" in args and "html" not in args:
        assert result.output.count("\n") == 1  # one line: "Error: ..."


def test_through_the_ctk_entry_point() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from ctk_core.cli import main; main(prog_name='ctk')",
            "convert",
            "--to",
            "storage",
        ],
        input=MARKDOWN.encode(),
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode("utf-8") == STORAGE + "\n"


def test_importing_the_command_does_not_import_a_markdown_parser() -> None:
    code = (
        "import sys, ctk_core.commands.convert, ctk_core.convert\n"
        "print(sorted(m for m in sys.modules if m.startswith('markdown_it')))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
