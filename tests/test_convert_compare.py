"""The semantic comparison used to prove round trips: it must accept what does not matter and
detect every difference that does."""

from __future__ import annotations

import pytest

from ctk_core.convert import semantic_diff, semantically_equal
from ctk_core.convert.compare import canonical

BASE = (
    '<h1>Title</h1><p>Some <strong>bold</strong> text and a <a href="https://x.example/a">link'
    '</a>.</p><ac:structured-macro ac:name="code" ac:schema-version="1"><ac:parameter '
    'ac:name="language">python</ac:parameter><ac:plain-text-body><![CDATA[x = 1  \n\ny = 2]]>'
    "</ac:plain-text-body></ac:structured-macro><table><tbody><tr><th>a</th><th>b</th></tr><tr>"
    "<td>1</td><td>2</td></tr></tbody></table><ul><li>one</li><li>two</li></ul><p><ac:link>"
    '<ri:page ri:content-title="Target" ri:space-key="DEV"/></ac:link></p>'
    '<ac:structured-macro ac:name="jira" ac:schema-version="1" ac:macro-id="m1"><ac:parameter '
    'ac:name="key">ABC-1</ac:parameter></ac:structured-macro>'
    '<ac:layout><ac:layout-section ac:type="single"><ac:layout-cell><p>cell</p>'
    "</ac:layout-cell></ac:layout-section></ac:layout>"
)


def test_identical_documents_are_equal() -> None:
    assert semantic_diff(BASE, BASE) is None
    assert semantically_equal(BASE, BASE)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        # whitespace between blocks and inside text runs
        ("<h1>Title</h1><p>", "<h1>Title</h1>\n\n  <p>  "),
        ("Some <strong>", "Some\n   <strong>"),
        # attribute order
        (
            'ri:content-title="Target" ri:space-key="DEV"',
            'ri:space-key="DEV" ri:content-title="Target"',
        ),
        # entities, character references and CDATA are just ways to write characters
        ("text and", "te&#120;t and"),
        ("<td>1</td>", "<td><![CDATA[1]]></td>"),
        # equivalent element names
        ("<strong>bold</strong>", "<b>bold</b>"),
        # an implicit paragraph
        ("<li>one</li>", "<li><p>one</p></li>"),
        # spaces just inside formatting
        ("Some <strong>bold</strong> text", "Some<strong> bold </strong>text"),
        # ids Confluence assigns itself
        (' ac:macro-id="m1"', ""),
        (' ac:schema-version="1" ac:macro-id="m1"', ' ac:schema-version="2"'),
        # table grouping and column widths
        (
            "<table><tbody>",
            '<table data-layout="wide"><colgroup><col style="width: 50px;"/></colgroup><tbody>',
        ),
        # a page link without a body shows the page title
        (
            'ri:space-key="DEV"/></ac:link>',
            'ri:space-key="DEV"/><ac:plain-text-link-body>'
            "<![CDATA[Target]]></ac:plain-text-link-body></ac:link>",
        ),
    ],
)
def test_differences_that_do_not_matter(old: str, new: str) -> None:
    assert old in BASE
    assert semantic_diff(BASE, BASE.replace(old, new, 1)) is None


@pytest.mark.parametrize(
    ("old", "new", "why"),
    [
        ("Some <strong>bold</strong> text", "Some <strong>bold</strong> test", "text"),
        ("Some <strong>bold</strong> text", "Some bold text", "formatting"),
        ("Some <strong>bold</strong>", "Some <em>bold</em>", "formatting kind"),
        ("x = 1  \n\ny = 2", "x = 1\n\ny = 2", "trailing spaces in code"),
        ("x = 1  \n\ny = 2", "x = 1  \ny = 2", "blank line in code"),
        ('ac:name="language">python', 'ac:name="language">java', "macro parameter"),
        ('<ac:parameter ac:name="language">python</ac:parameter>', "", "missing parameter"),
        ('ac:name="key">ABC-1', 'ac:name="key">ABC-2', "unknown macro parameter"),
        ('ac:name="jira"', 'ac:name="jira2"', "macro name"),
        ("https://x.example/a", "https://x.example/b", "link target"),
        ('ri:content-title="Target"', 'ri:content-title="Target2"', "page link target"),
        ('ri:space-key="DEV"', 'ri:space-key="OPS"', "page link space"),
        ("<td>1</td><td>2</td>", "<td>1</td>", "table shape"),
        ("<th>a</th>", "<td>a</td>", "header cell"),
        ("<td>1</td>", '<td colspan="2">1</td>', "merged cell"),
        ("<li>two</li>", "", "list item"),
        ("<ul>", "<ol>", "list kind"),
        ('ac:type="single"', 'ac:type="two_equal"', "unknown markup attribute"),
        ("<ac:layout-cell><p>cell</p>", "<ac:layout-cell><p>cell</p><p>more</p>", "extra block"),
        ("<h1>Title</h1>", "<h2>Title</h2>", "heading level"),
        ("<h1>Title</h1>", "", "missing block"),
        ("</ul>", "</ul><hr/>", "added rule"),
    ],
)
def test_differences_that_matter_are_detected(old: str, new: str, why: str) -> None:
    assert old in BASE, why
    diff = semantic_diff(BASE, BASE.replace(old, new, 1))
    assert diff is not None, why
    assert diff.startswith("body"), diff


def test_the_diff_says_where() -> None:
    diff = semantic_diff(
        "<p>a</p><ul><li>x</li><li>y</li></ul>", "<p>a</p><ul><li>x</li><li>z</li></ul>"
    )
    assert diff == "body/body[1]/ul[1]/li[0]/p[0]: 'y' != 'z'"


def test_code_bodies_compare_exactly_but_text_collapses_whitespace() -> None:
    pre_a = "<pre>a  b</pre>"
    pre_b = "<pre>a b</pre>"
    assert semantic_diff(pre_a, pre_b) is not None
    assert semantic_diff("<p>a  b</p>", "<p>a b</p>") is None


def test_pre_equals_a_code_macro_without_parameters() -> None:
    macro = (
        '<ac:structured-macro ac:name="code"><ac:plain-text-body><![CDATA[x\n y]]>'
        "</ac:plain-text-body></ac:structured-macro>"
    )
    assert semantic_diff("<pre>x\n y</pre>", macro) is None
    assert semantic_diff("<pre>x\n  y</pre>", macro) is not None


def test_canonical_form_is_deep_and_iterative_enough() -> None:
    deep = "<div>" * 3000 + "x" + "</div>" * 3000
    form = canonical(deep)
    assert form[0] == "body"
    assert semantic_diff(deep, deep) is None
    assert semantic_diff(deep, deep.replace("x", "y")) is not None
