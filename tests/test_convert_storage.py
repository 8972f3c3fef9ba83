"""Storage format -> Markdown: each construct's documented form, and robustness to garbage."""

from __future__ import annotations

import pytest
from convert_support import assert_well_formed

from ctk_core.convert import markdown_to_storage, semantic_diff, storage_to_markdown
from ctk_core.convert.to_markdown import MAX_DEPTH


def md(storage: str) -> str:
    return storage_to_markdown(storage)


def round_trip(storage: str) -> str:
    """Convert to Markdown and back; check well-formedness, equality and canonical form."""
    text = md(storage)
    back = markdown_to_storage(text)
    assert_well_formed(back)
    assert semantic_diff(storage, back) is None, (text, back)
    assert md(back) == text
    return back


# ---------------------------------------------------------------------------------------------
# Blocks and inline formatting
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("storage", "expected"),
    [
        ("<h1>One</h1><h2>Two</h2><h6>Six</h6>", "# One\n\n## Two\n\n###### Six\n"),
        ("<p>a</p><p>b</p>", "a\n\nb\n"),
        ("<p>one<br/>two</p>", "one\\\ntwo\n"),
        ("<hr/>", "---\n"),
        (
            "<p><strong>b</strong> <em>i</em> <strong><em>bi</em></strong> <s>s</s></p>",
            "**b** _i_ **_bi_** ~~s~~\n",
        ),
        ("<p><u>u</u> x<sup>2</sup> H<sub>2</sub>O</p>", "<u>u</u> x<sup>2</sup> H<sub>2</sub>O\n"),
        (
            '<p><span style="color: rgb(255,0,0);">red</span></p>',
            '<span style="color: rgb(255,0,0);">red</span>\n',
        ),
        ("<p><code>a_b</code></p>", "`a_b`\n"),
        ("<blockquote><p>q</p></blockquote>", "> q\n"),
        ("<p>&nbsp;&amp;&lt;&copy;&#x41;&#66; &lt; 2</p>", "&nbsp;&\\<©AB < 2\n"),
    ],
)
def test_basic_forms(storage: str, expected: str) -> None:
    assert md(storage) == expected
    round_trip(storage)


def test_text_is_escaped_so_it_stays_text() -> None:
    storage = (
        "<p># h *s* _u_ `c` [l](x) &lt;b&gt; a|b ~~t~~ \\ &amp;amp; "
        "https://example.com :smile: 1. 2) - + &gt; !</p>"
    )
    text = md(storage)
    assert "https\\://" in text
    assert "\\:smile:" in text
    assert "\\*s\\*" in text
    back = round_trip(storage)
    assert "<a " not in back
    assert "<ac:emoticon" not in back
    assert "<strong>" not in back


def test_escaped_line_starts_after_hard_breaks() -> None:
    storage = "<p>a<br/># h<br/>- l<br/>1. n<br/>&gt; q<br/>= e<br/>+ p</p>"
    assert md(storage) == "a\\\n\\# h\\\n\\- l\\\n1\\. n\\\n\\> q\\\n\\= e\\\n\\+ p\n"
    round_trip(storage)


def test_whitespace_is_normalised_like_html() -> None:
    assert md("<p>  a \n\t b  </p>") == "a b\n"
    assert md("<p><strong>bold </strong>next</p>") == "**bold** next\n"
    assert md("<p>x<strong></strong>y</p>") == "xy\n"


def test_emphasis_that_markdown_cannot_delimit_stays_html() -> None:
    text = md('<p>a<strong>"b"</strong>c</p>')
    assert text == '<p>a<strong>"b"</strong>c</p>\n' or "<strong>" in text
    round_trip('<p>a<strong>"b"</strong>c</p>')
    round_trip("<p><em>a<em>b</em>c</em> <strong>x</strong><strong>y</strong></p>")


def test_intraword_emphasis() -> None:
    assert md("<p>in<strong>side</strong>out</p>") == "in**side**out\n"
    assert md("<p>in<em>side</em>out</p>") == "in<em>side</em>out\n"


def test_headings_escape_a_trailing_hash() -> None:
    assert md("<h2>C#</h2>") == "## C\\#\n"
    assert md("<h3></h3>") == "###\n"
    round_trip("<h2>C#</h2><h3></h3>")


# ---------------------------------------------------------------------------------------------
# Lists and tasks
# ---------------------------------------------------------------------------------------------


def test_nested_and_mixed_lists() -> None:
    storage = "<ul><li>a<ol><li>one</li><li>two<ul><li>deep</li></ul></li></ol></li><li>b</li></ul>"
    assert md(storage) == "- a\n  1. one\n  2. two\n     - deep\n- b\n"
    round_trip(storage)


def test_numbered_list_starting_at_n_and_loose_items() -> None:
    storage = (
        '<ol start="7"><li><p>p1</p><p>p2</p></li><li>x<ac:structured-macro '
        'ac:name="code"><ac:plain-text-body><![CDATA[code]]></ac:plain-text-body>'
        "</ac:structured-macro></li></ol>"
    )
    assert md(storage) == "7. p1\n\n   p2\n8. x\n\n   ```\n   code\n   ```\n"
    round_trip(storage)


def test_adjacent_lists_stay_separate() -> None:
    storage = "<ul><li>a</li></ul><ul><li>b</li></ul><ul><li>c</li></ul><ol><li>d</li></ol>"
    assert md(storage) == "- a\n\n* b\n\n- c\n\n1. d\n"
    back = round_trip(storage)
    assert back.count("<ul>") == 3


def test_cloud_style_list_items_with_paragraphs_are_tight() -> None:
    assert (
        md("<ul><li><p>a</p></li><li><p>b</p><ul><li><p>c</p></li></ul></li></ul>")
        == "- a\n- b\n  - c\n"
    )


def test_task_lists() -> None:
    storage = (
        "<ac:task-list><ac:task><ac:task-id>1</ac:task-id><ac:task-status>complete"
        "</ac:task-status><ac:task-body>done</ac:task-body></ac:task><ac:task>"
        "<ac:task-id>2</ac:task-id><ac:task-status>incomplete</ac:task-status>"
        "<ac:task-body>todo</ac:task-body></ac:task><ac:task-list><ac:task><ac:task-id>3"
        "</ac:task-id><ac:task-status>incomplete</ac:task-status><ac:task-body>sub"
        "</ac:task-body></ac:task></ac:task-list></ac:task-list>"
    )
    assert md(storage) == "- [x] done\n- [ ] todo\n  - [ ] sub\n"
    back = round_trip(storage)
    assert back.count("<ac:task-list>") == 2


# ---------------------------------------------------------------------------------------------
# Code
# ---------------------------------------------------------------------------------------------

CODE_BODY = 'if a < b && c:\n\n\tprint("x")   \n    ]]> done\n```\n'


def _code(body: str, language: str | None = "python") -> str:
    lang = f'<ac:parameter ac:name="language">{language}</ac:parameter>' if language else ""
    cdata = body.replace("]]>", "]]]]><![CDATA[>")
    return (
        f'<ac:structured-macro ac:name="code" ac:schema-version="1">{lang}'
        f"<ac:plain-text-body><![CDATA[{cdata}]]></ac:plain-text-body>"
        "</ac:structured-macro>"
    )


def test_code_bodies_are_kept_byte_for_byte() -> None:
    text = md(_code(CODE_BODY))
    assert text == "````python\n" + CODE_BODY + "\n````\n"
    back = round_trip(_code(CODE_BODY))
    assert "<![CDATA[" + CODE_BODY.replace("]]>", "]]]]><![CDATA[>") + "]]>" in back


@pytest.mark.parametrize("body", ["", "\n", "x", "x\n\n", "   ", "\t\n\t", "a\n\n\n\nb", "~~~"])
def test_code_body_edge_cases(body: str) -> None:
    back = round_trip(_code(body, None))
    from ctk_core.convert import xhtml

    el = xhtml.parse(back).children[0]
    assert isinstance(el, xhtml.Element)
    assert xhtml.text_content(el) == body


def test_code_parameters_go_in_the_info_string() -> None:
    storage = (
        '<ac:structured-macro ac:name="code"><ac:parameter ac:name="language">js'
        '</ac:parameter><ac:parameter ac:name="title">My file.js</ac:parameter>'
        '<ac:parameter ac:name="linenumbers">true</ac:parameter><ac:plain-text-body>'
        "<![CDATA[x]]></ac:plain-text-body></ac:structured-macro>"
    )
    assert md(storage) == '```js title="My file.js" linenumbers=true\nx\n```\n'
    round_trip(storage)


def test_noformat_and_pre() -> None:
    storage = (
        '<ac:structured-macro ac:name="noformat"><ac:plain-text-body><![CDATA[a  b]]>'
        "</ac:plain-text-body></ac:structured-macro><pre>  pre\n text</pre>"
    )
    assert md(storage) == "```noformat\na  b\n```\n\n```\n  pre\n text\n```\n"
    round_trip(storage)


def test_code_inside_a_list_and_a_quote() -> None:
    round_trip(
        f"<ul><li>item{_code(CODE_BODY)}</li></ul><blockquote>{_code(CODE_BODY)}</blockquote>"
    )


def test_inline_code_with_backticks() -> None:
    assert md("<p><code>a`b</code> <code>``</code></p>") == "``a`b`` ` `` `\n"
    round_trip("<p><code>a`b</code><code>x</code> <code>`` ` </code></p>")


# ---------------------------------------------------------------------------------------------
# Links, images, mentions, macros
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("storage", "expected"),
    [
        ('<p><a href="https://a.example/x">t</a></p>', "[t](https://a.example/x)\n"),
        ('<p><a href="https://a.example/x">https://a.example/x</a></p>', "<https://a.example/x>\n"),
        (
            '<p><ac:link><ri:page ri:content-title="Page"/></ac:link></p>',
            "[Page](confluence-page:Page)\n",
        ),
        (
            '<p><ac:link><ri:page ri:space-key="DEV" ri:content-title="A page"/>'
            "<ac:plain-text-link-body><![CDATA[text]]></ac:plain-text-link-body></ac:link></p>",
            "[text](<confluence-page://DEV/A page>)\n",
        ),
        (
            '<p><ac:link ac:anchor="sec"><ri:page ri:content-title="P"/></ac:link></p>',
            "[P](confluence-page:P#sec)\n",
        ),
        (
            '<p><ac:link ac:anchor="sec"><ac:plain-text-link-body><![CDATA[see]]>'
            "</ac:plain-text-link-body></ac:link></p>",
            "[see](#sec)\n",
        ),
        (
            '<p><ac:link><ri:attachment ri:filename="f.pdf"/></ac:link></p>',
            "[f.pdf](confluence-attachment:f.pdf)\n",
        ),
        (
            '<p><ac:link><ri:attachment ri:filename="a/b.txt"><ri:page ri:content-title="T/U" '
            'ri:space-key="S"/></ri:attachment></ac:link></p>',
            "[a/b.txt](confluence-attachment://S/T/U/a%2Fb.txt)\n",
        ),
        (
            '<p><ac:link><ri:user ri:account-id="557058:abc-1"/></ac:link></p>',
            "[@557058:abc-1](confluence-user:557058:abc-1)\n",
        ),
        (
            '<p><ac:link><ri:space ri:space-key="ENG"/></ac:link></p>',
            "[ENG](confluence-space:ENG)\n",
        ),
        (
            '<p><ac:image ac:alt="d" ac:width="300"><ri:attachment ri:filename="d.png"/></ac:image>'
            "</p>",
            "![d](confluence-attachment:d.png?ac:width=300)\n",
        ),
        (
            '<p><ac:image><ri:url ri:value="https://x.example/i.png"/></ac:image></p>',
            "![](https://x.example/i.png)\n",
        ),
        ('<p><ac:emoticon ac:name="tick"/></p>', ":tick:\n"),
        (
            '<p><ac:structured-macro ac:name="status"><ac:parameter ac:name="colour">Red'
            '</ac:parameter><ac:parameter ac:name="title">Late</ac:parameter></ac:structured-macro>'
            "</p>",
            "[Late](confluence-status:Red)\n",
        ),
        (
            '<ac:structured-macro ac:name="toc"><ac:parameter ac:name="maxLevel">2</ac:parameter>'
            "</ac:structured-macro>",
            "[TOC maxLevel=2]\n",
        ),
    ],
)
def test_documented_forms(storage: str, expected: str) -> None:
    assert md(storage) == expected
    round_trip(storage)


def test_mention_round_trips_the_account_id() -> None:
    back = round_trip(
        '<p>Hi <ac:link><ri:user ri:account-id="5b10ac8d82e05b22cc7d4ef5"/></ac:link></p>'
    )
    assert 'ri:account-id="5b10ac8d82e05b22cc7d4ef5"' in back


@pytest.mark.parametrize(
    ("macro", "alert"),
    [
        ("info", "NOTE"),
        ("tip", "TIP"),
        ("note", "IMPORTANT"),
        ("warning", "WARNING"),
    ],
)
def test_panels_become_gfm_alerts(macro: str, alert: str) -> None:
    storage = (
        f'<ac:structured-macro ac:name="{macro}"><ac:rich-text-body><p>body</p>'
        "</ac:rich-text-body></ac:structured-macro>"
    )
    assert md(storage) == f"> [!{alert}]\n> body\n"
    back = round_trip(storage)
    assert f'ac:name="{macro}"' in back


def test_expand_becomes_details() -> None:
    storage = (
        '<ac:structured-macro ac:name="expand"><ac:parameter ac:name="title">More &amp; '
        "more</ac:parameter><ac:rich-text-body><p>hidden</p></ac:rich-text-body>"
        "</ac:structured-macro>"
    )
    assert md(storage) == "<details>\n<summary>More &amp; more</summary>\n\nhidden\n\n</details>\n"
    round_trip(storage)


def test_placeholders_are_dropped() -> None:
    assert md("<p>a<ac:placeholder>type here</ac:placeholder>b</p>") == "ab\n"
    assert md("<p><ac:placeholder>type here</ac:placeholder></p>") == ""


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------


def test_gfm_table_with_alignment_and_formatting() -> None:
    storage = (
        '<table><tbody><tr><th>a</th><th style="text-align: right;">b</th></tr>'
        '<tr><td><strong>x|y</strong></td><td style="text-align: right;"><p>1</p></td>'
        "</tr></tbody></table>"
    )
    assert md(storage) == "| a | b |\n| --- | ---: |\n| **x\\|y** | 1 |\n"
    round_trip(storage)


@pytest.mark.parametrize(
    "storage",
    [
        '<table><tbody><tr><th colspan="2">merged</th></tr><tr><td>a</td><td>b</td></tr></tbody>'
        "</table>",
        "<table><tbody><tr><th>h</th></tr><tr><td><ul><li>list</li></ul></td></tr></tbody></table>",
        "<table><tbody><tr><th>h</th><th>i</th></tr><tr><td>only one</td></tr></tbody></table>",
        "<table><tbody><tr><td>a</td></tr><tr><th>h in body</th></tr></tbody></table>",
    ],
)
def test_tables_gfm_cannot_express_stay_html_unchanged(storage: str) -> None:
    assert md(storage) == storage + "\n"
    assert markdown_to_storage(md(storage)) == storage


def test_table_without_header_row_uses_an_empty_header() -> None:
    storage = "<table><tbody><tr><td>a</td><td>b</td></tr></tbody></table>"
    assert md(storage) == "| | |\n| --- | --- |\n| a | b |\n"
    assert "<th>" not in round_trip(storage)


# ---------------------------------------------------------------------------------------------
# Unknown markup is kept byte for byte
# ---------------------------------------------------------------------------------------------

UNKNOWN_BLOCK = (
    '<ac:structured-macro ac:name="jira" ac:schema-version="1" '
    'ac:macro-id="x-1"><ac:parameter ac:name="key">ABC-1</ac:parameter>'
    "</ac:structured-macro>"
)
UNKNOWN_INLINE = '<ac:inline-comment-marker ac:ref="r1">commented *text*</ac:inline-comment-marker>'


def test_unknown_macros_and_elements_are_kept_byte_for_byte() -> None:
    storage = f"<p>Above.</p>{UNKNOWN_BLOCK}<p>Text {UNKNOWN_INLINE} after.</p>"
    text = md(storage)
    assert UNKNOWN_BLOCK in text
    assert UNKNOWN_INLINE in text
    assert markdown_to_storage(text) == storage


def test_editing_around_unknown_markup_keeps_it() -> None:
    storage = f"<p>Above.</p>{UNKNOWN_BLOCK}<p>Text {UNKNOWN_INLINE} after.</p>"
    edited = md(storage).replace("Above.", "Above, **edited**.")
    back = markdown_to_storage(edited)
    assert UNKNOWN_BLOCK in back
    assert UNKNOWN_INLINE in back
    assert "<strong>edited</strong>" in back


def test_layouts_keep_their_tags_around_markdown() -> None:
    storage = (
        '<ac:layout><ac:layout-section ac:type="two_equal"><ac:layout-cell><p>left</p>'
        "</ac:layout-cell><ac:layout-cell><h2>right</h2></ac:layout-cell>"
        "</ac:layout-section></ac:layout>"
    )
    assert md(storage) == (
        '<ac:layout><ac:layout-section ac:type="two_equal"><ac:layout-cell>\n\nleft\n\n'
        "</ac:layout-cell><ac:layout-cell>\n\n## right\n\n"
        "</ac:layout-cell></ac:layout-section></ac:layout>\n"
    )
    assert markdown_to_storage(md(storage)) == storage


def test_unknown_macro_with_rich_body_has_a_markdown_body() -> None:
    storage = (
        '<ac:structured-macro ac:name="panel"><ac:parameter ac:name="bgColor">#fff'
        "</ac:parameter><ac:rich-text-body><p>in <em>panel</em></p></ac:rich-text-body>"
        "</ac:structured-macro>"
    )
    assert "in _panel_" in md(storage)
    assert markdown_to_storage(md(storage)) == storage


def test_unknown_markup_with_blank_lines_survives() -> None:
    storage = (
        '<ac:structured-macro ac:name="html"><ac:plain-text-body><![CDATA[<div>\n\n'
        "  x\n\n</div>]]></ac:plain-text-body></ac:structured-macro>"
        '<ac:structured-macro ac:name="w"><ac:parameter ac:name="a">1\n\n2'
        "</ac:parameter></ac:structured-macro>"
    )
    back = round_trip(storage)
    assert "<![CDATA[<div>\n\n  x\n\n</div>]]>" in back


def test_named_entities_in_unknown_markup_become_character_references() -> None:
    storage = (
        '<ac:structured-macro ac:name="x"><ac:parameter ac:name="a">&nbsp;&copy;'
        "</ac:parameter></ac:structured-macro>"
    )
    back = round_trip(storage)
    assert "&nbsp;" not in back
    assert "&copy;" not in back


# ---------------------------------------------------------------------------------------------
# Garbage: never crash, preserve the text, stay linear
# ---------------------------------------------------------------------------------------------

GARBAGE = [
    "",
    "   ",
    "plain text, no markup",
    "<p>unclosed <strong>tags <em>everywhere",
    "</p></div>stray end tags</ul>",
    "text ]]> stray terminator <![CDATA[ unclosed cdata",
    "<p>a\x00b\x01c\x1fd\x7f</p>",
    "<p>lone \ud800 surrogate \udfff</p>",
    "<<<>>>&&&;;;<!-- <!-- <? <!DOCTYPE x> <![CDATA[",
    '<a href="x" href="y" bad"attr>dup</a><p =x>q</p>',
    "<foo:bar>undeclared prefix</foo:bar><xmlns:x>y</xmlns:x>",
    '<ac:structured-macro ac:name="code"><ac:plain-text-body><![CDATA[x',
    "<table><tr><td>no tbody<td>second",
    "<br><hr><img src=x>void elements</br>",
    "&bogus; &#0; &#xD800; &#99999999; &amp",
    "<p>\r\nwindows\rlines\r\n</p>",
    "<P>Upper <STRONG>case</STRONG></P>",
    "<ul><li>1<li>2</ul>",
    "<!-- comment -- with -- dashes --->",
    "<?xml version='1.0'?><p>pi</p>",
]


@pytest.mark.parametrize("storage", GARBAGE)
def test_garbage_never_crashes_and_converts_back_well_formed(storage: str) -> None:
    text = md(storage)
    back = markdown_to_storage(text)
    assert_well_formed(back)
    assert md(back) == md(markdown_to_storage(md(back)))


def test_garbage_keeps_its_text() -> None:
    for storage, words in [
        ("<p>unclosed <strong>tags <em>everywhere", ["unclosed", "tags", "everywhere"]),
        ("</p></div>stray end tags</ul>", ["stray end tags"]),
        ("<foo:bar>undeclared prefix</foo:bar>", ["undeclared prefix"]),
        ("<p>a\x00b</p>", ["a\ufffdb"]),
    ]:
        text = md(storage)
        for word in words:
            assert word in text


def test_deep_nesting_does_not_exhaust_the_stack() -> None:
    depth = 10_000
    for open_tag, close_tag in [
        ("<ul><li>", "</li></ul>"),
        ("<div>", "</div>"),
        ("<blockquote>", "</blockquote>"),
        ("<strong>", "</strong>"),
        ("<span>", "</span>"),
        (
            '<ac:structured-macro ac:name="x"><ac:rich-text-body>',
            "</ac:rich-text-body></ac:structured-macro>",
        ),
    ]:
        storage = open_tag * depth + "core" + close_tag * depth
        text = md(storage)
        assert "core" in text
        back = markdown_to_storage(text)
        assert_well_formed(back)
        assert "core" in back
    # unclosed as well
    text = md("<ul><li>" * depth + "core")
    assert "core" in text
    assert_well_formed(markdown_to_storage(text))


def test_nesting_deeper_than_the_limit_stays_storage() -> None:
    storage = "<blockquote>" * (MAX_DEPTH + 5) + "<p>x</p>" + "</blockquote>" * (MAX_DEPTH + 5)
    back = round_trip(storage)
    assert back.count("<blockquote>") == MAX_DEPTH + 5


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "unit",
    [
        "<!--",
        "<![CDATA[",
        "<a ",
        "<",
        "<a b='",
        "&",
        "]]>",
        "<p>",
        "</p>",
        "<ac:x>",
        "<?",
        "<!x",
        "**",
        "`",
        "[",
        "<ul><li>",
        "<strong>",
        "\n\n<div>",
    ],
)
def test_pathological_repetition_is_not_quadratic(unit: str) -> None:
    # 60,000 repetitions: a quadratic algorithm would need hours; linear ones take well under
    # a second. (No timing assertion: the timeout only stops a runaway test.)
    storage = unit * 60_000
    text = md(storage)
    assert_well_formed(markdown_to_storage(text))
