"""ctk_core.pagetext: storage checks, outlines, section splicing and diffs (pure functions)."""

from __future__ import annotations

import difflib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctk_core import NotFound, UsageError
from ctk_core import pagetext as pt
from ctk_core.convert import storage_to_markdown

UNKNOWN_MACRO = (
    '<ac:structured-macro ac:name="roadmap" ac:schema-version="1" ac:macro-id="abc">'
    '<ac:parameter ac:name="x">1 &gt; 0</ac:parameter><ac:plain-text-body><![CDATA[<h1>not a '
    "heading</h1> & <b>]]></ac:plain-text-body></ac:structured-macro>"
)

PAGE = (
    "<p>Intro &nbsp; text</p>"
    "<h1>Overview &amp; <em>goals</em></h1><p>one</p>\n"
    + UNKNOWN_MACRO
    + "<h2>Details</h2><p>two<br>lines</p><!-- <h2>commented</h2> -->"
    "<h2>Details</h2><p>again</p>"
    "<h1>Next</h1><p>three</p>  \n"
)


def test_outline_finds_top_level_headings_only():
    sections = pt.outline(PAGE)
    assert [(s.id, s.level, s.text) for s in sections] == [
        ("overview-goals", 1, "Overview & goals"),
        ("details", 2, "Details"),
        ("details-2", 2, "Details"),
        ("next", 1, "Next"),
    ]


def test_section_ranges_stop_at_same_or_higher_level():
    sections = {s.id: s for s in pt.outline(PAGE)}
    overview = pt.section_storage(PAGE, sections["overview-goals"])
    assert overview.startswith("<h1>Overview")
    assert UNKNOWN_MACRO in overview
    assert overview.endswith("<p>again</p>")
    assert pt.section_storage(PAGE, sections["details"]).endswith("<!-- <h2>commented</h2> -->")
    # trailing whitespace stays outside the last section
    assert pt.section_storage(PAGE, sections["next"]) == "<h1>Next</h1><p>three</p>"


def test_layout_cells_are_containers():
    body = (
        '<ac:layout><ac:layout-section ac:type="two_equal"><ac:layout-cell><h2>Left</h2>'
        "<p>l</p></ac:layout-cell><ac:layout-cell><h2>Right</h2><p>r</p><table><tr><td>"
        "<h1>in a table</h1></td></tr></table></ac:layout-cell></ac:layout-section>"
        "</ac:layout>"
    )
    sections = pt.outline(body)
    assert [s.text for s in sections] == ["Left", "Right"]
    assert pt.section_storage(body, sections[0]) == "<h2>Left</h2><p>l</p>"
    assert pt.section_storage(body, sections[1]).endswith("</table>")


def test_find_section_by_id_text_and_case():
    sections = pt.outline(PAGE)
    assert pt.find_section(sections, "next").text == "Next"
    assert pt.find_section(sections, "Overview & goals").id == "overview-goals"
    assert pt.find_section(sections, "## overview &  GOALS").id == "overview-goals"
    assert pt.find_section(sections, "details-2").start > pt.find_section(sections, "details").start


def test_find_section_errors():
    sections = pt.outline(PAGE)
    with pytest.raises(UsageError, match="details, details-2"):
        pt.find_section(sections, "Details")
    with pytest.raises(NotFound, match="overview-goals"):
        pt.find_section(sections, "Nope", page_id="7")
    with pytest.raises(NotFound, match="no headings"):
        pt.find_section([], "x")


def test_splice_keeps_every_other_byte():
    sections = pt.outline(PAGE)
    section = pt.find_section(sections, "details-2")
    out = pt.splice(PAGE, section, "<p>new</p>", keep_heading=True)
    assert out == PAGE.replace("<h2>Details</h2><p>again</p>", "<h2>Details</h2><p>new</p>")
    out = pt.splice(PAGE, section, "<h3>Renamed</h3>", keep_heading=False)
    assert out == PAGE.replace("<h2>Details</h2><p>again</p>", "<h3>Renamed</h3>")
    assert UNKNOWN_MACRO in out


def test_starts_with_heading():
    assert pt.starts_with_heading("<!-- c --><h2>x</h2><p/>")
    assert not pt.starts_with_heading("<p>x</p><h2>y</h2>")
    assert not pt.starts_with_heading("plain text")


def test_a_stray_end_tag_is_dropped_as_the_converter_drops_it():
    # </H2> closes nothing: end tags match by exact name, so the h2 runs on to the end of the
    # body and holds the rest, and Markdown shows one heading (the old outline matched </H2>
    # with <h2> and found two sections)
    body = "<h2>A</H2><p>x</p><h2>B</h2>"
    assert storage_to_markdown(body).startswith("## A")
    assert storage_to_markdown(body).count("## ") == 1
    sections = pt.outline(body)
    assert [(s.id, s.text) for s in sections] == [("axb", "AxB")]
    assert pt.section_storage(body, sections[0]) == body
    # a stray end tag before the first element is dropped too
    assert pt.starts_with_heading("</p><h2>x</h2>")
    assert not pt.starts_with_heading("</h2><p>x</p>")


def test_an_end_tag_further_out_closes_the_layout_cell_it_skips():
    body = (
        "<ac:layout><ac:layout-section><ac:layout-cell><h2>L</h2><p>x</p>"
        "</ac:layout-section><h2>Top</h2></ac:layout>"
    )
    sections = pt.outline(body)
    assert [s.text for s in sections] == ["L", "Top"]
    assert pt.section_storage(body, sections[0]) == "<h2>L</h2><p>x</p>"
    assert pt.section_storage(body, sections[1]) == "<h2>Top</h2>"


def test_a_heading_left_open_runs_to_the_end_of_the_body():
    body = "<p>a</p><h1>Open <em>heading</em>"
    sections = pt.outline(body)
    assert [(s.text, pt.section_storage(body, s)) for s in sections] == [
        ("Open heading", "<h1>Open <em>heading</em>")
    ]


@pytest.mark.parametrize(
    "good",
    [
        "",
        "<p>a&nbsp;b &amp; &#169; &copy;</p>",
        UNKNOWN_MACRO,
        "<p>x</p><br/>",
        '<ac:image><ri:attachment ri:filename="a.png" /></ac:image>',
    ],
)
def test_check_storage_accepts(good):
    pt.check_storage(good)


@pytest.mark.parametrize(
    ("bad", "where"),
    [
        ("<p>a", "end of the body"),
        ("<p>a</b>", "line 1"),
        ("<p>ok</p>\n<p>x</q>", "line 2"),
        ("<p>&bogus;</p>", "line 1"),
        ("<x:y>1</x:y>", "line 1"),
        ('<!DOCTYPE x [<!ENTITY a "b">]><p>&a;</p>', "DOCTYPE"),
    ],
)
def test_check_storage_refuses(bad, where):
    with pytest.raises(UsageError, match=where):
        pt.check_storage(bad)


def test_unified_diff_has_line_numbers_and_counts():
    old = "# T\n\na\nb\nc\nd\ne\nf\ng\nh\n"
    new = "# T\n\na\nB\nc\nd\ne\nf\ng\nh\nnew\n"
    text, added, removed = pt.unified_diff(old, new, from_label="v1", to_label="v2", context=1)
    assert text.splitlines()[:2] == ["--- v1", "+++ v2"]
    assert "@@ -3,3 +3,3 @@" in text
    assert "@@ -10 +10,2 @@" in text
    assert (added, removed) == (2, 1)
    assert pt.unified_diff("same\n", "same\n", from_label="a", to_label="b") == ("", 0, 0)


@given(
    st.lists(st.sampled_from(["a", "b", "c", "+x", "-y", "---", "+++"]), max_size=12),
    st.lists(st.sampled_from(["a", "b", "c", "+x", "-y", "---", "+++"]), max_size=12),
)
def test_unified_diff_applies_back(old_lines, new_lines):
    old, new = "\n".join(old_lines), "\n".join(new_lines)
    text, added, removed = pt.unified_diff(old, new, from_label="a", to_label="b", context=0)
    ops = [op for op in difflib.SequenceMatcher(None, old_lines, new_lines).get_opcodes()]
    assert added == sum(j2 - j1 for tag, _i1, _i2, j1, j2 in ops if tag != "equal")
    assert removed == sum(i2 - i1 for tag, i1, i2, _j1, _j2 in ops if tag != "equal")
    # rebuild the new text from the old one and the hunks
    lines = text.splitlines()[2:]
    result: list[str] = []
    pos = 0
    i = 0
    while i < len(lines):
        header = lines[i]
        assert header.startswith("@@ -")
        start = int(header.split()[1][1:].split(",")[0])
        count = header.split()[1][1:].split(",")
        start = start if len(count) == 1 or count[1] != "0" else start + 1
        result += old_lines[pos : start - 1]
        pos = start - 1
        i += 1
        while i < len(lines) and not lines[i].startswith("@@ -"):
            if lines[i].startswith("-"):
                pos += 1
            elif lines[i].startswith("+"):
                result.append(lines[i][1:])
            i += 1
    result += old_lines[pos:]
    assert result == new_lines


_blocks = st.sampled_from(
    [
        "<p>t</p>",
        "<h1>A</h1>",
        "<h2>B</h2>",
        "<h3>C</h3>",
        UNKNOWN_MACRO,
        "\n",
        "<ac:layout><ac:layout-section><ac:layout-cell><h2>L</h2><p>x</p></ac:layout-cell>"
        "</ac:layout-section></ac:layout>",
        "<ul><li><h2>nested</h2></li></ul>",
    ]
)


@given(st.lists(_blocks, max_size=10), st.data())
def test_any_section_splice_changes_only_its_range(blocks, data):
    storage = "".join(blocks)
    sections = pt.outline(storage)
    assert all(storage[s.start : s.heading_end].startswith("<h") for s in sections)
    assert all(s.start < s.heading_end <= s.end for s in sections)
    assert len({s.id for s in sections}) == len(sections)
    if not sections:
        return
    section = data.draw(st.sampled_from(sections))
    out = pt.splice(storage, section, "<p>NEW</p>", keep_heading=True)
    assert out[: section.heading_end] == storage[: section.heading_end]
    assert out[section.heading_end : section.heading_end + 10] == "<p>NEW</p>"
    assert out[section.heading_end + 10 :] == storage[section.end :]
    pt.check_storage(out)
