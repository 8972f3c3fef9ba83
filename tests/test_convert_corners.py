"""Markdown at the corners of CommonMark: every input must convert to well-formed storage,
reach the canonical Markdown in one round trip and then stay there (as in
test_convert_properties.py).

The inputs were collected while ctk had a second Markdown parser and its output was compared
with markdown-it-py's: they are the places where two CommonMark readers part (emphasis next
to punctuation, tabs among container markers, lazy lines, code spans over line ends, table
headers, escapes and entities in link targets...), which makes them a good corpus for the
converter on its own too.
"""

from __future__ import annotations

import pytest
from convert_support import check_markdown

PLAIN = [
    "# Title\n\nA paragraph with **bold**, _em_, *em*, ***both*** and `code`.\n",
    "Setext\n======\n\nSub\n---\n",
    "line one  \nline two\nline three\n",
    "- a\n- b\n  - c\n    - d\n- e\n",
    "- a\n\n- b\n\n  second paragraph\n",
    "- a\n  ```\n  x\n  ```\n  b\n- c\n",
    "3. three\n4. four\n\n1) other\n",
    "0. zero\n",
    "- [ ] todo\n- [x] done\n  - [ ] nested\n- plain\n",
    "- [ ]\n",
    "> quoted\n> > nested\n",
    "> [!NOTE]\n> body\n\n> [!warning]  \n> hard\n\n> [!TIP] not alone\n",
    "```python\nprint(1)\n\n   indented\n```\n",
    '```js title="a b"   linenumbers=true\nx\n```\n',
    "```noformat\nraw\n```\n\n    indented code\n",
    "```\n```\n",
    "| a | b | c |\n| :-- | --: | :-: |\n| 1 | **2** | `3` |\n| 4 |\n",
    "| | |\n| - | - |\n| x | y |\n",
    "|a|b|\n|-|-|\n",
    '[link](https://example.com/a_b "title") and https://example.com/x.\n',
    "[page](<confluence-page:A page>) [p2](confluence-page://DEV/Title) "
    "[@acc](confluence-user:557058:abc) [Done](confluence-status:Green)\n",
    "[file](confluence-attachment:Page/report%25.pdf?ri:version-at-save=2)\n",
    '![alt *em* `c`](confluence-attachment:a.png?ac:width=300 "t")\n',
    "![](https://example.com/i.png)\n![two](https://example.com/j.png)\n",
    "![a](x.png)\n\n![b](y.png)\n",
    "[![img](x.png)](https://example.com)\n",
    "smile :smile: and :thumbs-up: and :nope:\n",
    "[https://example.com/in-link](https://example.com)\n",
    "---\n\n___\n\n----\n",
    "#\n\n# #\n\n###### six\n\n####### seven\n",
    "a_b_c and *a*b and __strong__ and **a**b**c**\n",
    "[not a link] and [x](<>) and [](https://e.example)\n",
    "text with é, 日本 and 🎉, **é** _日_ **x** 🎉.\n",
    "- a\n\n  > quote in item\n\n  | t |\n  | - |\n  | 1 |\n",
    "1. a\n   1. b\n      1. c\n",
    "para\n# heading right after\n- list right after\n> quote right after\n",
    "x\n\n\n\ny\n",
    "",
    "\n\n",
    "plain",
    "R\\&D \\[note\\] a \\< b, C:\\\\path, \\~home \\|x\\| 1\\. &amp; &copy; &nbsp;\n",
    "a < b and <https://example.com/x> and <mailto:a@b.example>\n",
    "line\\\nbreak\n",
    '[x](https://example.com/a\\_b "t \\"q\\"") ![a\\[b\\]](x.png)\n',
    '```py\\_x title="a"\ncode \\* &amp;\n```\n',
    "`code \\with \\* and &amp;`\n",
    "```py&copy;x\ncode\n```\n",
    "| a \\| b | c |\n| - | - |\n| 1 | 2 |\n",
]

# Raw storage, ctk's own rules, escapes and what readers of CommonMark 0.29 and 0.31 differ on
CORNERS = [
    "<u>underline</u>\n",
    '<ac:structured-macro ac:name="x"/>\n',
    "<details>\n<summary>t</summary>\n\nbody\n\n</details>\n",
    "a <!-- comment -->\n",
    "escaped \\*star\\*\n",
    "https\\://example.com\n",
    "&amp; :smile:\n",
    "\\[x] not a task\n",
    "- \\[ ] not a task\n",
    "&#35; &#x23;\n",  # numeric references (invalid ones are read differently)
    "| a |\n| - |\n| `x\\|y` |\n",
    "\\\\<b>x</b>\n",
    "~~strike~~\n",
    "[TOC]\n",
    "[x][ref]\n\n[ref]: https://example.com\n",
    ">" * 60 + " deep\n",
    "- " * 30 + "deep\n",
    "*🎉*\n",
    "- [x]  \n  after a hard break\n",
    "- [ ] \n  after a space\n",
    "no\u00a0break\n",
    "| a |\n| - |\nbar\n",
    '[x](javascript:alert(1) "t")\n' + "<b>x</b>",
    "[a](<https://example.com/a b>)\n",
    "[a](https://example.com/%7E)\n",  # ... and cannot tell it from ~
    "![a](<x y.png>)\n",
    "[a](https://bücher.example)\n",
    "**a **b** c**\n",
    "****foo****\n",
    "**:**0**0**\n",
    "__a **b** c__\n",
    "- **a **b** c**\n",
    "* **x**\n",
    "***\n\n**x**\n",
    "a\n:-\n",
    "a\n|-|\n",
    "> a\n> :-\n",
    "- a\n  -:\n",
    "a\n---|\n",  # GFM: tables
    "*:***0**[0](https://example.com/a_b)**:**\n",  # CommonMark 0.31 pairs all of these
    "2 * 3\n",
    "x_ y\n",
    "-   \n  \n\n- 0\n",  # an empty item then a blank line
    "1\t\n1\n",  # a tab ending a line
    "> \n\t> x\n",  # a tab before a quote marker
    "\t- tab indented\n",
    " 1.  item\n    # x\n",
    ">\n    >\n",  # indented four, but not into the item
    "```\n  \t",  # blanks on a last line without a line end
    "`` `0` `0`\n",  # a backtick run left as text
    "- \\\n a\n",  # a hard break opening a paragraph
    "<ac:A>\n",
    "<ri:x>\n",  # storage, not autolinks
    "a `code\n   more` b\n",  # a code span over a line end
]

# Found by two reviews that hunted for inputs on which two CommonMark readers part
REVIEWED = [
    "**a **b** c** [x](&ast;&ast;&ast;&ast;)\n",  # lost-strong
    "a&NewLine;b\n",  # newline-entity
    '[a](x "b&NewLine;c")\n',  # newline-entity-title
    "![a\tb](x)\n",  # tab-alt
    '[a](x "a\tb")\n',  # tab-title
    '```py title="a\tb"\nx\n```\n',  # tab-info
    "<mailto:a&amp;b>\n",  # autolink-entity
    "see ``foo\n   bar`` here\n",  # code-across-lines
    '](<em title="x">a](</em>\n',  # raw-after-](
    '](<img src="x"/>\n',  # raw-img-after-](
    "](<!-- c -->\n",  # comment-after-](
    "](<o.>\n",  # raw-tag-dot
    "](<confluence-page:Home>\n",  # ctk-autolink-after-](
    "<_>_\n",  # underscore-tag
    "- first line\\\n continued\n",  # hardbreak-lazy
    "> a\\\n b\n",  # hardbreak-lazy-quote
    " 1.  item\n    # x\n",  # lazy-indented
    ">>=\n    1. x\n",  # lazy-indented2
    ">\n    >\n",  # empty-quote-indented
    "0.   - y\n    - z\n",  # nested-list-lazy
    ">>\t\ta\n",  # tabs-nested-quote
    ">>- \tT\n",  # tabs-quote-list
    "```\n ",  # eof-blank
    "```\\&lt;\n",  # info-escape-entity
    "[](\\&amp;)\n",  # dest-escape-entity
    '[a](b "\\&amp;")\n',  # title-escape-entity
    "[x](confluence-page:a\\&amp;b)\n",  # ctk-dest-escape-entity
    "a[](\\\nb)\n",  # dest-backslash-newline
    "[](( )\n",  # dest-paren-space
    "1. + ---\n\n\t;\n",  # hr-nested-item
    "> a|b\n-|-\n",  # table-quote-header
    "- a | b\n  --|--\n",  # table-list-header
    "```|\n-|\n",  # table-fence-header
    "| a |\n| - |\n|\n",  # table-lone-pipe-row
    "|\n-|\n-|\n",  # table-para-pipe
    "x*⹒y*\n",  # unicode-punct
    "x*؝y*\n",  # unicode-punct2
    "`` `a`-`a`\n",  # backtick-bug
    "- ```\n  code\n\n- next\n",  # unclosed-fence-tight
    "[see [a](b) and [1]](c)\n",  # nested-link
    "# a | b\n--|--\n",  # table-heading-header
    "| a | b |\n| - |\n| - |\n",  # table-delim-as-header
    "[a](( 'x')\n",  # dest-unbalanced-paren
    "[a](<\t>)\n",  # angle-dest-tab (the second parser read [a](< >) as an empty target)
    "- 1. ```\n\n  x\n",  # unclosed-fence-nested
    "**a **b** c** <https://x/a_b> <https://x/a_b> <https://x/a_b> <https://x/a_b>\n",
    "__ _\n\n**a **b** c**\n" + "<https://x/a_b> " * 7 + "\n",
    "- a\n  ___\n\n  b\n",
    "- a\n  ***\n\n  b\n",
    " 1.  item\nfoo\n    # x\n",
    " 1.  item\n     foo\n    # x\n",
    "- a\n    >\n      >\n",
    ">-)\n    >\n",
    ">***\n     >\n",
    "a |\n---\n",
    "|a|\n---\n",
    "a|\n--\n",
    "|\\\n--",
    "]|\n--",
    "* |\n--\n",
    "- ```\n\n- c\n```\n",
    "1. ```\n   a\n\n2. b\n   ```\n",
    "> - ```\n    >```\n",
    "a\n    ```\n 0. ```\n",
    "``` a ``` `x\n   ```y` ```z```\n",
]


@pytest.mark.parametrize("md", PLAIN + CORNERS + REVIEWED)
def test_corner_cases_round_trip(md: str) -> None:
    check_markdown(md)
