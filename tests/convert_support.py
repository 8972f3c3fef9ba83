"""Shared helpers for the converter tests: the XML well-formedness check and generators."""

from __future__ import annotations

import xml.parsers.expat
from pathlib import Path

from hypothesis import strategies as st

from ctk_core.convert import markdown_to_storage, semantic_diff, storage_to_markdown

DATA = Path(__file__).parent / "data" / "convert"

WRAPPER_OPEN = (
    '<root xmlns:ac="http://atlassian.com/content" '
    'xmlns:ri="http://atlassian.com/resource/identifier">'
)


def assert_well_formed(storage: str) -> None:
    """Parse storage with expat (namespace-aware) inside a root declaring ac and ri."""
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    try:
        parser.Parse(WRAPPER_OPEN + storage + "</root>", True)
    except xml.parsers.expat.ExpatError as exc:  # pragma: no cover - failure path
        line = (WRAPPER_OPEN + storage).splitlines()[exc.lineno - 1] if exc.lineno else ""
        near = line[max(0, exc.offset - 40) : exc.offset + 40]
        raise AssertionError(f"not well-formed: {exc}: ...{near!r}") from None


def check_markdown(md: str) -> None:
    """Markdown converts to well-formed storage, one round trip reaches the canonical Markdown,
    a second one changes nothing, and the two storage documents say the same thing."""
    storage = markdown_to_storage(md)
    assert_well_formed(storage)
    canonical = storage_to_markdown(storage)
    storage2 = markdown_to_storage(canonical)
    assert_well_formed(storage2)
    assert storage_to_markdown(storage2) == canonical
    assert semantic_diff(storage, storage2) is None


def fixture_names() -> list[str]:
    return sorted(p.stem for p in DATA.glob("*.xml") if not p.stem.endswith(".back"))


# ---------------------------------------------------------------------------------------------
# Markdown generators
# ---------------------------------------------------------------------------------------------

_WORD_CHARS = (
    "abcdefghijklmnopqrstuvwxyzABCXYZ0123456789 *_~`[]()<>&#!|:-+=.\\\"'/@?;{}$%^é日🎉\u00a0\u200b"
)
words = st.text(alphabet=_WORD_CHARS, min_size=1, max_size=12)
plain_words = (
    st.text(alphabet="abcdefghij klmnop", min_size=1, max_size=10).map(str.strip).filter(bool)
)


def _inline(leaf):
    return st.one_of(
        leaf,
        leaf.map(lambda s: f"**{s}**"),
        leaf.map(lambda s: f"_{s}_"),
        leaf.map(lambda s: f"*{s}*"),
        leaf.map(lambda s: f"~~{s}~~"),
        leaf.map(lambda s: f"`{s}`"),
        leaf.map(lambda s: f"[{s}](https://example.com/{len(s)})"),
        leaf.map(lambda s: f"<u>{s}</u>"),
        leaf.map(lambda s: f'<span style="color: red;">{s}</span>'),
    )


_atoms = st.sampled_from(
    [
        "[Page](confluence-page://DEV/Some Page)",
        "[x](<confluence-page:Title with spaces>)",
        "[file](confluence-attachment:report.pdf)",
        "[@557058:abc](confluence-user:557058:abc)",
        "[Done](confluence-status:Green)",
        "[](confluence-status:Red?subtle=true)",
        "![alt](confluence-attachment:a.png?ac:width=300)",
        "![](https://example.com/i.png)",
        ":smile:",
        ":thumbs-up:",
        "https://example.com/a_b",
        "<https://example.com>",
        "&amp;",
        "&nbsp;",
        "&#35;",
        "&copy;",
        "\\*",
        "\\_",
        "<br/>",
        "[anchor](#Section)",
        '<ac:structured-macro ac:name="jira"><ac:parameter ac:name="key">X-1</ac:parameter>'
        "</ac:structured-macro>",
        '<ac:emoticon ac:name="blue-star" ac:emoji-id="1f680"/>',
        '<time datetime="2024-01-01"/>',
        "<confluence-page:Design>",
        "<x:y>z</x:y>",
        "<mailto:a@b.example>",
        "<urn:x>",
        "[`]:`](https://e.example)",
        "<ac:link>",
        "</ac:link>",
        "<span\u00a0x>",
    ]
)

inline_md = st.lists(st.one_of(_inline(words), _atoms, st.just(" ")), min_size=1, max_size=6).map(
    " ".join
)


def blocks(inline, children, *, fence: str, code_chars: str, cells, extra):
    """One Markdown block: a paragraph, heading, list, task list, quote, alert, code block or
    table made of ``inline`` and ``children``, or one of ``extra``."""
    return st.one_of(
        inline,
        st.tuples(st.integers(1, 6), inline).map(lambda t: "#" * t[0] + " " + t[1]),
        st.lists(children, min_size=1, max_size=3).map(
            lambda items: "\n".join("- " + i.replace("\n", "\n  ") for i in items)
        ),
        st.lists(children, min_size=1, max_size=3).map(
            lambda items: "\n".join(
                f"{n}. " + i.replace("\n", "\n   ") for n, i in enumerate(items, 3)
            )
        ),
        st.lists(st.tuples(st.booleans(), inline), min_size=1, max_size=3).map(
            lambda items: "\n".join(f"- [{'x' if done else ' '}] {t}" for done, t in items)
        ),
        children.map(lambda b: "> " + b.replace("\n", "\n> ")),
        st.tuples(
            st.sampled_from(["NOTE", "TIP", "IMPORTANT", "WARNING", "CAUTION"]), children
        ).map(lambda t: f"> [!{t[0]}]\n> " + t[1].replace("\n", "\n> ")),
        st.tuples(
            st.sampled_from(["", "python", "noformat", 'js title="a b"']),
            st.text(alphabet=code_chars, max_size=30),
        ).map(lambda t: f"{fence}{t[0]}\n{t[1]}\n{fence}"),
        st.lists(st.lists(cells, min_size=2, max_size=2), min_size=1, max_size=3).map(
            lambda rows: (
                "| a | b |\n| :-- | --: |\n" + "\n".join("| " + " | ".join(r) + " |" for r in rows)
            )
        ),
        *extra,
    )


def _block(children):
    return blocks(
        inline_md,
        children,
        fence="````",
        code_chars="ab \n\t<&]>`~x",
        cells=words.map(lambda s: s.replace("|", "\\|").replace("\n", " ")),
        extra=[
            st.tuples(plain_words, children).map(
                lambda t: f"<details>\n<summary>{t[0]}</summary>\n\n{t[1]}\n\n</details>"
            ),
            st.sampled_from(
                [
                    "---",
                    "[TOC]",
                    "[TOC maxLevel=2]",
                    '<ac:structured-macro ac:name="children"><ac:parameter ac:name="all">true'
                    "</ac:parameter></ac:structured-macro>",
                    '<ac:layout><ac:layout-section ac:type="single"><ac:layout-cell>\n\ncell '
                    "text\n\n</ac:layout-cell></ac:layout-section></ac:layout>",
                    "<div>\n\ninside div\n\n</div>",
                    "<!-- comment -->",
                    "<p>raw <b>p</b></p>",
                    "<div><p>unclosed",
                    "</ac:layout-cell>",
                    "<ul><li>x",
                    "<table><tr><td>1",
                    "    indented code",
                    "Setext\n===",
                    "<![CDATA[ x ]]>",
                ]
            ),
        ],
    )


markdown_docs = st.recursive(_block(inline_md), _block, max_leaves=8).flatmap(
    lambda first: st.lists(st.recursive(_block(inline_md), _block, max_leaves=6), max_size=4).map(
        lambda rest: "\n\n".join([first, *rest]) + "\n"
    )
)

any_text = st.text(max_size=200)
markdown_ish_text = st.text(alphabet=_WORD_CHARS + "\n\t>-+#0123456789)", max_size=200)


# ---------------------------------------------------------------------------------------------
# Storage generators
# ---------------------------------------------------------------------------------------------


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(s: str) -> str:
    return _esc(s).replace('"', "&quot;")


text_xml = st.text(alphabet=_WORD_CHARS + "\n", min_size=1, max_size=15).map(_esc)
titles = st.text(alphabet="abcdef XYZ/?#%&()[]_*-:é", min_size=1, max_size=12)


def _inline_xml(leaf):
    return st.one_of(
        leaf,
        leaf.map(lambda s: f"<strong>{s}</strong>"),
        leaf.map(lambda s: f"<em>{s}</em>"),
        leaf.map(lambda s: f"<s>{s}</s>"),
        leaf.map(lambda s: f"<u>{s}</u>"),
        leaf.map(lambda s: f"<sup>{s}</sup>"),
        leaf.map(lambda s: f'<span style="color: rgb(1,2,3);">{s}</span>'),
        leaf.map(lambda s: f'<a href="https://example.com/?q={len(s)}&amp;x">{s}</a>'),
    )


_leaf_xml = st.one_of(
    text_xml,
    text_xml.map(lambda s: f"<code>{s}</code>"),
    titles.map(
        lambda t: f'<ac:link><ri:page ri:content-title="{_attr(t)}" ri:space-key="DEV"/></ac:link>'
    ),
    st.tuples(titles, text_xml).map(
        lambda t: (
            f'<ac:link><ri:page ri:content-title="{_attr(t[0])}"/>'
            f"<ac:plain-text-link-body><![CDATA[{t[1]}]]></ac:plain-text-link-body>"
            "</ac:link>"
        )
    ),
    titles.map(lambda t: f'<ac:link><ri:attachment ri:filename="{_attr(t)}"/></ac:link>'),
    st.just('<ac:link><ri:user ri:account-id="557058:0a1b"/></ac:link>'),
    titles.map(
        lambda t: f'<ac:image ac:width="200"><ri:attachment ri:filename="{_attr(t)}"/></ac:image>'
    ),
    st.tuples(st.sampled_from(["Green", "Red", ""]), text_xml).map(
        lambda t: (
            '<ac:structured-macro ac:name="status">'
            + (f'<ac:parameter ac:name="colour">{t[0]}</ac:parameter>' if t[0] else "")
            + f'<ac:parameter ac:name="title">{t[1]}</ac:parameter></ac:structured-macro>'
        )
    ),
    st.sampled_from(
        [
            '<ac:emoticon ac:name="smile"/>',
            "<br/>",
            '<time datetime="2024-01-02"/>',
            '<ac:structured-macro ac:name="jira"><ac:parameter ac:name="key">A-1'
            "</ac:parameter></ac:structured-macro>",
        ]
    ),
)

hrefs = st.text(alphabet="ab:/?#&=%()[]<> \\\"'*_`~é", min_size=0, max_size=12)
_leaf_xml = st.one_of(
    _leaf_xml,
    st.sampled_from(
        [
            " ",
            "&nbsp;",
            "&amp;lt;",
            " lead",
            "trail ",
            '<a name="anchor"></a>',
            "<span></span>",
            "<code>`x`</code>",
            "<strong> </strong>",
            '<ac:inline-comment-marker ac:ref="r">c *d*</ac:inline-comment-marker>',
            "!",
            "#",
            "1.",
            "- ",
            "https://x.example/a",
            "www.x.example",
        ]
    ),
    st.tuples(hrefs, text_xml).map(lambda t: f'<a href="{_attr(t[0])}">{t[1]}</a>'),
    st.tuples(hrefs, titles).map(
        lambda t: (
            f'<ac:link ac:anchor="{_attr(t[1])}"><ri:page ri:content-title="{_attr(t[0])}"'
            f' ri:space-key="{_attr(t[1])}"/></ac:link>'
        )
    ),
    st.tuples(hrefs, titles).map(
        lambda t: (
            f'<ac:link><ri:attachment ri:filename="{_attr(t[0])}"><ri:page '
            f'ri:content-title="{_attr(t[1])}"/></ri:attachment></ac:link>'
        )
    ),
    hrefs.map(lambda h: f'<ac:link><ri:user ri:account-id="{_attr(h)}"/></ac:link>'),
    st.tuples(hrefs, hrefs).map(
        lambda t: (
            f'<ac:structured-macro ac:name="status"><ac:parameter ac:name="colour">'
            f'{_esc(t[0])}</ac:parameter><ac:parameter ac:name="title">{_esc(t[1])}'
            "</ac:parameter></ac:structured-macro>"
        )
    ),
    st.tuples(hrefs, titles).map(
        lambda t: f'<ac:image ac:alt="{_attr(t[1])}"><ri:url ri:value="{_attr(t[0])}"/></ac:image>'
    ),
)
inline_xml = st.recursive(
    _leaf_xml,
    lambda inner: st.lists(_inline_xml(inner), min_size=1, max_size=4).map("".join),
    max_leaves=10,
)
code_bodies = st.text(alphabet="ab \n\t<&]>`~x#*", max_size=40)


def _block_xml(children):
    cells = inline_xml.map(lambda s: f"<td>{s}</td>")
    return st.one_of(
        inline_xml.map(lambda s: f"<p>{s}</p>"),
        st.tuples(st.integers(1, 6), inline_xml).map(lambda t: f"<h{t[0]}>{t[1]}</h{t[0]}>"),
        st.lists(st.one_of(inline_xml, children), min_size=1, max_size=3).map(
            lambda items: "<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"
        ),
        st.lists(children, min_size=1, max_size=3).map(
            lambda items: '<ol start="2">' + "".join(f"<li>{i}</li>" for i in items) + "</ol>"
        ),
        st.tuples(st.sampled_from(["python", ""]), code_bodies).map(
            lambda t: (
                '<ac:structured-macro ac:name="code">'
                + (f'<ac:parameter ac:name="language">{t[0]}</ac:parameter>' if t[0] else "")
                + "<ac:plain-text-body><![CDATA["
                + t[1].replace("]]>", "]]]]><![CDATA[>")
                + "]]></ac:plain-text-body>"
                "</ac:structured-macro>"
            )
        ),
        st.tuples(
            st.sampled_from(["info", "note", "warning", "tip", "panel", "expand"]), children
        ).map(
            lambda t: (
                f'<ac:structured-macro ac:name="{t[0]}"><ac:rich-text-body>{t[1]}'
                "</ac:rich-text-body></ac:structured-macro>"
            )
        ),
        children.map(lambda b: f"<blockquote>{b}</blockquote>"),
        st.lists(st.lists(cells, min_size=2, max_size=2).map("".join), min_size=1, max_size=3).map(
            lambda rows: (
                "<table><tbody><tr><th>h1</th><th>h2</th></tr>"
                + "".join(f"<tr>{r}</tr>" for r in rows)
                + "</tbody></table>"
            )
        ),
        st.lists(st.tuples(st.booleans(), inline_xml), min_size=1, max_size=3).map(
            lambda items: (
                "<ac:task-list>"
                + "".join(
                    f"<ac:task><ac:task-id>{n}</ac:task-id><ac:task-status>"
                    f"{'complete' if done else 'incomplete'}</ac:task-status><ac:task-body>{t}"
                    "</ac:task-body></ac:task>"
                    for n, (done, t) in enumerate(items)
                )
                + "</ac:task-list>"
            )
        ),
        children.map(
            lambda b: (
                '<ac:layout><ac:layout-section ac:type="single"><ac:layout-cell>'
                f"{b}</ac:layout-cell></ac:layout-section></ac:layout>"
            )
        ),
        st.sampled_from(
            [
                "<hr/>",
                "<p/>",
                '<ac:structured-macro ac:name="toc"/>',
                '<ac:structured-macro ac:name="unknown-thing"><ac:parameter ac:name="x">1'
                "</ac:parameter><ac:plain-text-body><![CDATA[a\n\nb]]></ac:plain-text-body>"
                "</ac:structured-macro>",
                '<table><tbody><tr><td colspan="2">merged</td></tr></tbody></table>',
                "<pre>pre\n  text</pre>",
                '<p style="text-align: center;">centred</p>',
            ]
        ),
    )


storage_docs = st.lists(
    st.recursive(_block_xml(inline_xml.map(lambda s: f"<p>{s}</p>")), _block_xml, max_leaves=6),
    min_size=1,
    max_size=4,
).map("".join)
