"""How results are printed: tables, key/value views, Markdown, JSON, and streamed pages."""

from __future__ import annotations

import io
import json

import pytest

from ctk_core import output

ROWS = [
    {"id": "1", "title": "Home", "nested": {"a": 1}, "body": "line1\nline2"},
    {"id": "22", "title": "A much longer title", "tags": ["x", "y"], "extra": None},
]


def test_inferred_columns_skip_nested_and_multiline():
    assert output.infer_columns(ROWS) == ["id", "title", "extra"]


def test_table_keeps_ids_as_text():
    text = output.table([{"id": "0012", "n": "1.50"}])
    assert "0012" in text
    assert "1.50" in text


def test_table_with_declared_columns_and_cells():
    text = output.table(ROWS, ["id", "tags", "missing"])
    lines = text.splitlines()
    assert lines[0].split() == ["id", "tags", "missing"]
    assert lines[3].split() == ["22", "x,", "y"]


def test_long_cells_are_cut():
    text = output.table([{"t": "x" * 200}])
    assert "x" * (output.MAX_CELL - 1) + "\u2026" in text
    assert "x" * output.MAX_CELL not in text


def test_key_values_aligned_with_body_after():
    text = output.key_values(
        {
            "id": "7",
            "title": "T",
            "ok": True,
            "none": None,
            "labels": ["a", "b"],
            "body": "# Heading\n\nText\n",
        }
    )
    assert text.splitlines() == [
        "id      7",
        "title   T",
        "ok      true",
        "none",
        "labels  a, b",
        "",
        "# Heading",
        "",
        "Text",
    ]


def test_render_shapes():
    assert output.render("# Markdown\n") == "# Markdown"
    assert output.render(None) == ""
    assert output.render([]) == ""
    assert output.render(["a", "b"]) == "a\nb"
    assert output.render({"results": [], "next_cursor": None}) == ""
    assert output.render(42) == "42"


def test_emit_json_is_the_same_structure_and_never_null_lists():
    out, err = io.StringIO(), io.StringIO()
    output.emit({"results": [], "next_cursor": None}, as_json=True, out=out, err=err)
    assert out.getvalue() == '{"results":[],"next_cursor":null}\n'
    assert err.getvalue() == ""


def test_emit_text_hints_at_more_pages():
    out, err = io.StringIO(), io.StringIO()
    output.emit({"results": [{"id": "1"}], "next_cursor": "abc"}, out=out, err=err)
    assert out.getvalue().splitlines()[-1].strip() == "1"
    assert err.getvalue() == "More results: add --cursor abc (or --all for all).\n"


def test_emit_empty_list_says_so_on_stderr():
    out, err = io.StringIO(), io.StringIO()
    output.emit({"results": [], "next_cursor": None}, out=out, err=err)
    assert out.getvalue() == ""
    assert err.getvalue() == "No results.\n"


@pytest.mark.parametrize(
    "pages", [[], [[]], [[{"id": "1"}]], [[{"id": "1"}, {"id": "2"}], [], [{"id": "3", "x": "é"}]]]
)
@pytest.mark.parametrize("pretty", [False, True])
def test_page_stream_json_is_one_valid_document(pages, pretty):
    out = io.StringIO()
    stream = output.PageStream(as_json=True, out=out)
    stream.pretty = pretty
    for page in pages:
        stream.add(page)
    stream.close()
    items = [item for page in pages for item in page]
    assert json.loads(out.getvalue()) == {"results": items, "next_cursor": None}
    assert stream.count == len(items)


def test_page_stream_table_fits_the_longest_cell_of_any_page():
    out = io.StringIO()
    stream = output.PageStream(as_json=False, columns=["id", "name"], out=out)
    stream.add([{"id": "1", "name": "alpha"}, {"id": "22", "name": "b"}])
    stream.add([{"id": "333", "name": "a much longer name from a later page"}, {"id": "4"}])
    stream.close()
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["id", "name"]
    assert len(lines) == 6
    columns = [line.index("alpha") for line in lines[2:3]]
    assert lines[4].index("a much longer") == columns[0]
    dashes = lines[1].split()
    assert len(dashes[1]) == len("a much longer name from a later page")


def test_page_stream_scalars():
    out = io.StringIO()
    stream = output.PageStream(as_json=False, out=out)
    stream.add(["a", "b"])
    stream.add(["c"])
    stream.close()
    assert out.getvalue() == "a\nb\nc\n"


HOSTILE = "Plan \x1b]0;owned\x07 \x1b]52;c;ZXZpbA==\x07 \x9b2J end"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_printable_escapes_control_characters():
    assert output.printable(HOSTILE) == (
        "Plan \\x1b]0;owned\\x07 \\x1b]52;c;ZXZpbA==\\x07 \\x9b2J end"
    )
    assert output.printable("a\tb\nc\rd") == "a\tb\nc\\x0dd"
    assert output.printable("a\tb\nc", keep_lines=False) == "a\\x09b\\x0ac"
    assert output.printable("Ünïcødé ✓ עברית") == "Ünïcødé ✓ עברית"


def test_tables_and_key_values_never_carry_control_characters():
    for text in (output.table([{"title": HOSTILE}]), output.key_values({"title": HOSTILE})):
        assert "\x1b" not in text
        assert "\x07" not in text
        assert "\x9b" not in text
        assert "\\x1b]0;owned\\x07" in text


def test_bodies_are_escaped_on_a_terminal_and_exact_when_piped():
    result = {"id": "1", "body": f"# {HOSTILE}\n\ntext\n"}
    terminal, pipe = Terminal(), io.StringIO()
    output.emit(result, out=terminal)
    output.emit(result, out=pipe)
    assert "\x1b" not in terminal.getvalue()
    assert "# Plan \\x1b]0;owned" in terminal.getvalue()
    assert f"# {HOSTILE}" in pipe.getvalue()
    as_json = io.StringIO()
    output.emit(result, as_json=True, out=as_json)
    assert json.loads(as_json.getvalue()) == result


def test_cli_output_of_a_hostile_title(ctk_cli, confluence_sandbox):
    space = confluence_sandbox.space_id("DEMO")
    page = confluence_sandbox.state.create_page(space, HOSTILE, "<p>x</p>")
    listed = ctk_cli("pages", "list", "--space", "DEMO", "--limit", "250")
    got = ctk_cli("pages", "get", str(page["id"]))
    as_json = ctk_cli("--json", "pages", "get", str(page["id"]))
    for result in (listed, got):
        assert result.exit_code == 0, result
        assert "\x1b" not in result.stdout
        assert "\x07" not in result.stdout
        assert "\\x1b]0;owned\\x07" in result.stdout
    assert as_json.json()["title"] == HOSTILE
