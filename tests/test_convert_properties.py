"""Property-based tests of the converters (hypothesis; the "ci" profile runs 60 examples).

For generated Markdown and generated storage trees:

1. ``markdown_to_storage`` returns well-formed XML (expat, with ``ac``/``ri`` declared);
2. one round trip reaches the canonical Markdown and a second one changes nothing;
3. storage -> Markdown -> storage is semantically equal to the input.
"""

from __future__ import annotations

import pytest
from convert_support import (
    any_text,
    assert_well_formed,
    check_markdown,
    markdown_docs,
    markdown_ish_text,
    storage_docs,
)
from hypothesis import example, given

from ctk_core.convert import markdown_to_storage, semantic_diff, storage_to_markdown

# the generators are built from many small strategies; their repr is long, and that is fine
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")


@given(markdown_docs)
@example("- a\n\n  b\n- c\n")
@example("> [!NOTE]\n> - item\n")
@example("<details>\n<summary>t</summary>\n\nbody\n")
def test_generated_markdown_round_trips(md: str) -> None:
    check_markdown(md)


@given(markdown_ish_text)
def test_markdown_shaped_text_round_trips(md: str) -> None:
    check_markdown(md)


@given(any_text)
def test_arbitrary_text_round_trips(md: str) -> None:
    check_markdown(md)


@given(storage_docs)
def test_generated_storage_round_trips(storage: str) -> None:
    md = storage_to_markdown(storage)
    back = markdown_to_storage(md)
    assert_well_formed(back)
    assert semantic_diff(storage, back) is None, (md, back)
    assert storage_to_markdown(back) == md


@given(any_text)
def test_arbitrary_text_as_storage_never_crashes(text: str) -> None:
    md = storage_to_markdown(text)
    assert isinstance(md, str)
    back = markdown_to_storage(md)
    assert_well_formed(back)
    assert storage_to_markdown(back) == storage_to_markdown(
        markdown_to_storage(storage_to_markdown(back))
    )
