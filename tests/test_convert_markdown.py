"""Markdown -> storage format: the dialect's forms, canonical round trips and well-formedness."""

from __future__ import annotations

import pytest
from convert_support import assert_well_formed

from ctk_core.convert import markdown_to_storage, storage_to_markdown


def st(markdown: str) -> str:
    out = markdown_to_storage(markdown)
    assert_well_formed(out)
    return out


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("# H1\n\n###### H6", "<h1>H1</h1><h6>H6</h6>"),
        ("Setext\n===", "<h1>Setext</h1>"),
        ("a\nb", "<p>a b</p>"),
        ("a  \nb\\\nc", "<p>a<br/>b<br/>c</p>"),
        ("***\n\n---", "<hr/><hr/>"),
        (
            "**b** __b__ *i* _i_ ***bi*** ~~s~~",
            "<p><strong>b</strong> <strong>b</strong> <em>i</em> "
            "<em>i</em> <em><strong>bi</strong></em> <s>s</s></p>",
        ),
        ("`a < b`", "<p><code>a &lt; b</code></p>"),
        ("<u>u</u> x<sup>2</sup>", "<p><u>u</u> x<sup>2</sup></p>"),
        ("> quote", "<blockquote><p>quote</p></blockquote>"),
        ("a & b < c > d", "<p>a &amp; b &lt; c &gt; d</p>"),
        ("&copy; &nbsp; &#35;", "<p>© &#160; #</p>"),
    ],
)
def test_basic_forms(markdown: str, expected: str) -> None:
    assert st(markdown) == expected


def test_lists_nested_mixed_and_numbered_from_n() -> None:
    assert st("3. a\n4. b\n   - c\n     1. d\n") == (
        '<ol start="3"><li>a</li><li>b<ul><li>c<ol><li>d</li></ol></li></ul></li></ol>'
    )


def test_loose_list_item_with_paragraphs_and_code() -> None:
    assert st("- p1\n\n  p2\n\n  ```sh\n  ls\n  ```\n") == (
        '<ul><li><p>p1</p><p>p2</p><ac:structured-macro ac:name="code" ac:schema-version="1">'
        '<ac:parameter ac:name="language">sh</ac:parameter><ac:plain-text-body><![CDATA[ls]]>'
        "</ac:plain-text-body></ac:structured-macro></li></ul>"
    )


def test_task_lists() -> None:
    out = st("- [ ] todo\n- [x] done\n  - [X] nested\n- plain\n")
    assert out == (
        "<ac:task-list><ac:task><ac:task-id>1</ac:task-id><ac:task-status>incomplete"
        "</ac:task-status><ac:task-body>todo</ac:task-body></ac:task><ac:task><ac:task-id>2"
        "</ac:task-id><ac:task-status>complete</ac:task-status><ac:task-body>done"
        "</ac:task-body></ac:task><ac:task-list><ac:task><ac:task-id>3</ac:task-id>"
        "<ac:task-status>complete</ac:task-status><ac:task-body>nested</ac:task-body></ac:task>"
        "</ac:task-list></ac:task-list><ul><li>plain</li></ul>"
    )
    assert st("- \\[ ] escaped is text\n") == "<ul><li>[ ] escaped is text</li></ul>"


def test_fenced_code_becomes_the_code_macro_byte_for_byte() -> None:
    body = "a <b> & c\n\n\tindented  \n]]> end"
    out = st(f"```python\n{body}\n```\n")
    assert out == (
        '<ac:structured-macro ac:name="code" ac:schema-version="1"><ac:parameter '
        'ac:name="language">python</ac:parameter><ac:plain-text-body><![CDATA[a <b> & c\n\n'
        "\tindented  \n]]]]><![CDATA[> end]]></ac:plain-text-body></ac:structured-macro>"
    )


def test_code_info_string_parameters_and_noformat() -> None:
    out = st('~~~js title="A b" linenumbers=true\nx\n~~~\n\n```noformat\ny\n```\n\n    z\n')
    assert '<ac:parameter ac:name="title">A b</ac:parameter>' in out
    assert '<ac:parameter ac:name="linenumbers">true</ac:parameter>' in out
    assert (
        '<ac:structured-macro ac:name="noformat" ac:schema-version="1"><ac:plain-text-body>'
        "<![CDATA[y]]>" in out
    )
    assert "<![CDATA[z]]>" in out


@pytest.mark.parametrize(
    ("alert", "macro"),
    [
        ("NOTE", "info"),
        ("TIP", "tip"),
        ("IMPORTANT", "note"),
        ("WARNING", "warning"),
        ("CAUTION", "warning"),
        ("note", "info"),
    ],
)
def test_gfm_alerts_become_panels(alert: str, macro: str) -> None:
    assert st(f"> [!{alert}]\n> text\n>\n> more") == (
        f'<ac:structured-macro ac:name="{macro}" ac:schema-version="1"><ac:rich-text-body>'
        "<p>text</p><p>more</p></ac:rich-text-body></ac:structured-macro>"
    )


def test_details_becomes_expand() -> None:
    out = st("<details>\n<summary>Title &amp; more</summary>\n\nbody\n\n</details>\n")
    assert out == (
        '<ac:structured-macro ac:name="expand" ac:schema-version="1"><ac:parameter '
        'ac:name="title">Title &amp; more</ac:parameter><ac:rich-text-body><p>body</p>'
        "</ac:rich-text-body></ac:structured-macro>"
    )


def test_toc() -> None:
    assert (
        st("[TOC]") == '<ac:structured-macro ac:name="toc" ac:schema-version="1">'
        "</ac:structured-macro>"
    )
    assert st('[TOC maxLevel=2 exclude="a b"]') == (
        '<ac:structured-macro ac:name="toc" ac:schema-version="1"><ac:parameter '
        'ac:name="maxLevel">2</ac:parameter><ac:parameter ac:name="exclude">a b</ac:parameter>'
        "</ac:structured-macro>"
    )
    assert st("\\[TOC\\]") == "<p>[TOC]</p>"


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        (
            '[t](https://x.example/a?b=1&c=2 "T")',
            '<p><a href="https://x.example/a?b=1&amp;c=2" title="T">t</a></p>',
        ),
        (
            "see https://x.example/path. and <https://y.example>",
            '<p>see <a href="https://x.example/path">https://x.example/path</a>. and '
            '<a href="https://y.example">https://y.example</a></p>',
        ),
        ("not https\\://x.example", "<p>not https://x.example</p>"),
        (
            "[Page](confluence-page:Page)",
            '<p><ac:link><ri:page ri:content-title="Page"/></ac:link></p>',
        ),
        (
            "[text](<confluence-page://DEV/A page#sec>)",
            '<p><ac:link ac:anchor="sec"><ri:page ri:content-title="A page" ri:space-key="DEV"/>'
            "<ac:plain-text-link-body><![CDATA[text]]></ac:plain-text-link-body></ac:link></p>",
        ),
        (
            "[**rich**](confluence-page:P)",
            '<p><ac:link><ri:page ri:content-title="P"/><ac:link-body><strong>rich</strong>'
            "</ac:link-body></ac:link></p>",
        ),
        (
            "[here](#Install)",
            '<p><ac:link ac:anchor="Install"><ac:plain-text-link-body><![CDATA[here]]>'
            "</ac:plain-text-link-body></ac:link></p>",
        ),
        (
            "[f](confluence-attachment:f.pdf)",
            '<p><ac:link><ri:attachment ri:filename="f.pdf"/><ac:plain-text-link-body><![CDATA[f]]>'
            "</ac:plain-text-link-body></ac:link></p>",
        ),
        (
            "[x.png](<confluence-attachment://S/Other page/x.png>)",
            '<p><ac:link><ri:attachment ri:filename="x.png"><ri:page ri:content-title="Other page" '
            'ri:space-key="S"/></ri:attachment></ac:link></p>',
        ),
        ("[@abc](confluence-user:abc)", '<p><ac:link><ri:user ri:account-id="abc"/></ac:link></p>'),
        (
            "[Jane](confluence-user:abc)",
            '<p><ac:link><ri:user ri:account-id="abc"/><ac:plain-text-link-body><![CDATA[Jane]]>'
            "</ac:plain-text-link-body></ac:link></p>",
        ),
        ("[ENG](confluence-space:ENG)", '<p><ac:link><ri:space ri:space-key="ENG"/></ac:link></p>'),
        (
            "<confluence-page:Design>",
            '<p><ac:link><ri:page ri:content-title="Design"/></ac:link></p>',
        ),
        (
            "[Done](confluence-status:Green?subtle=true)",
            '<p><ac:structured-macro ac:name="status" ac:schema-version="1"><ac:parameter '
            'ac:name="colour">Green</ac:parameter><ac:parameter ac:name="title">Done</ac:parameter>'
            '<ac:parameter ac:name="subtle">true</ac:parameter></ac:structured-macro></p>',
        ),
        (
            "![d](confluence-attachment:d.png?ac:width=300)",
            '<ac:image ac:alt="d" ac:width="300"><ri:attachment ri:filename="d.png"/></ac:image>',
        ),
        (
            "a ![](https://x.example/i.png)",
            '<p>a <ac:image><ri:url ri:value="https://x.example/i.png"/></ac:image></p>',
        ),
        (":smile: :nope: \\:tick:", '<p><ac:emoticon ac:name="smile"/> :nope: :tick:</p>'),
    ],
)
def test_links_mentions_images_status_emoticons(markdown: str, expected: str) -> None:
    assert st(markdown) == expected


def test_gfm_tables_with_alignment_and_header_less_tables() -> None:
    assert st("| a | b |\n| :-: | --: |\n| `x\\|y` | **z** |\n") == (
        '<table><tbody><tr><th style="text-align: center;">a</th><th style="text-align: '
        'right;">b</th></tr><tr><td style="text-align: center;"><code>x|y</code></td>'
        '<td style="text-align: right;"><strong>z</strong></td></tr></tbody></table>'
    )
    assert (
        st("| | |\n|---|---|\n| a | b |\n")
        == "<table><tbody><tr><td>a</td><td>b</td></tr></tbody></table>"
    )


def test_raw_storage_is_emitted_unchanged() -> None:
    raw = (
        '<ac:structured-macro ac:name="jira" ac:macro-id="1"><ac:parameter ac:name="key">'
        "A-1</ac:parameter></ac:structured-macro>"
    )
    assert st(f"para\n\n{raw}\n\nafter *x* {raw} y") == (
        f"<p>para</p>{raw}<p>after <em>x</em> {raw} y</p>"
    )


def test_raw_wrappers_enclose_markdown() -> None:
    assert st(
        '<ac:layout><ac:layout-section ac:type="single"><ac:layout-cell>\n\n# T\n\n'
        "</ac:layout-cell></ac:layout-section></ac:layout>"
    ) == (
        '<ac:layout><ac:layout-section ac:type="single"><ac:layout-cell><h1>T</h1>'
        "</ac:layout-cell></ac:layout-section></ac:layout>"
    )


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("<div><p>unclosed", "<div><p>unclosed</p></div>"),
        ("</div> stray close", " stray close"),
        ("x <span>open\n\ny</span> z", "<p>x <span>open</span></p><p>y z</p>"),
        ("<br> <img src=x> <hr>", '<p><br/> <img src="x"/> <hr/></p>'),
        ("<p a=1 a=2 b>dup</p>", '<p a="1" b="b">dup</p>'),
        ("<x:y>bad prefix</x:y>", "<p>&lt;x:y&gt;bad prefix&lt;/x:y&gt;</p>"),
        ("<!-- a -- b -->", "<!-- a - - b -->"),
        ("<?php echo 1; ?>", ""),
        ("<!DOCTYPE html>", ""),
        ("a &bogus; b", "<p>a &amp;bogus; b</p>"),
        ("<span title='&nbsp;'>x</span>", '<p><span title="&#160;">x</span></p>'),
        ("<u>**a</u>**", "<p><u><strong>a</strong></u></p>"),
        ("**<u>a**</u>", "<p><strong><u>a</u></strong></p>"),
    ],
)
def test_raw_html_is_repaired_into_well_formed_xml(markdown: str, expected: str) -> None:
    assert st(markdown) == expected


def test_control_characters_and_surrogates_become_replacement_characters() -> None:
    out = st("a\x00b\x01c &#1; \ud800 `\x02`")
    assert "\ufffd" in out
    assert "\x00" not in out
    assert "\x01" not in out
    assert "\x02" not in out


CANONICAL = [
    "# Title\n\nText with **bold**, _italic_ and `code`.\n",
    "- a\n  - b\n- c\n\n1. x\n2. y\n",
    "> [!NOTE]\n> Body.\n",
    "```python\nprint('x')\n```\n",
    "| a | b |\n| --- | :---: |\n| 1 | 2 |\n",
    "[Page](<confluence-page://DEV/My page>) and [@abc](confluence-user:abc)\n",
    "<details>\n<summary>More</summary>\n\nHidden.\n\n</details>\n",
    "- [ ] todo\n- [x] done\n",
    "[TOC maxLevel=2]\n\n---\n\n![x](confluence-attachment:x.png?ac:width=10)\n",
    "a\\\nb <u>c</u> :smile: [Done](confluence-status:Green)\n",
    '<ac:structured-macro ac:name="jira"><ac:parameter ac:name="key">A-1</ac:parameter>'
    "</ac:structured-macro>\n",
]


@pytest.mark.parametrize("markdown", CANONICAL)
def test_canonical_markdown_round_trips_exactly(markdown: str) -> None:
    assert storage_to_markdown(st(markdown)) == markdown


@pytest.mark.parametrize(
    ("markdown", "canonical"),
    [
        ("Title\n=====\n\n* a\n* b\n\n", "# Title\n\n- a\n- b\n"),
        ("*x* __y__\n", "_x_ **y**\n"),
        ("- a\n\n- b\n", "- a\n- b\n"),
        ("    code\n", "```\ncode\n```\n"),
        ("a\nb\n", "a b\n"),
        ("[x][r]\n\n[r]: https://e.example\n", "[x](https://e.example)\n"),
        ("1) a\n", "1. a\n"),
        ("<https://e.example>\n", "<https://e.example>\n"),
    ],
)
def test_other_markdown_reaches_the_canonical_form_in_one_trip(
    markdown: str, canonical: str
) -> None:
    once = storage_to_markdown(st(markdown))
    assert once == canonical
    assert storage_to_markdown(st(once)) == once


def test_empty_input() -> None:
    assert markdown_to_storage("") == ""
    assert storage_to_markdown("") == ""
    assert markdown_to_storage("\n\n  \n") == ""


def test_deeply_nested_markdown_does_not_crash() -> None:
    for text in (
        ">" * 10_000 + " x",
        "- " * 3000 + "x",
        "*" * 10_000 + "x" + "*" * 10_000,
        "[" * 10_000 + "x" + "](y)" * 10_000,
        "<span>" * 10_000 + "x",
        "<details>\n\n" * 5000 + "x\n\n" + "</details>\n\n" * 5000,
    ):
        out = markdown_to_storage(text)
        assert_well_formed(out)
        storage_to_markdown(out)


def test_types_are_checked() -> None:
    with pytest.raises(TypeError):
        markdown_to_storage(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        storage_to_markdown(None)  # type: ignore[arg-type]
