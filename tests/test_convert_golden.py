"""Golden files: every fixture in tests/data/convert.

``NAME.xml`` is a storage page written to look like what Confluence produces; ``NAME.md`` is the
Markdown ctk must produce for it and ``NAME.back.xml`` the storage that Markdown converts back
to. All three were reviewed by eye. After an intended change, regenerate them with
``CTK_REGEN_GOLDEN=1 pytest tests/test_convert_golden.py`` and review the diff.

For every fixture the test also proves the round-trip properties: the storage written back is
well-formed and semantically equal to the original, and the Markdown is canonical (converting
it to storage and back gives it again).
"""

from __future__ import annotations

import os

import pytest
from convert_support import DATA, assert_well_formed, fixture_names

from ctk_core.convert import markdown_to_storage, semantic_diff, storage_to_markdown

REGEN = os.environ.get("CTK_REGEN_GOLDEN") == "1"
NAMES = fixture_names()


def _read(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def _check_golden(name: str, actual: str) -> None:
    path = DATA / name
    if REGEN:
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"missing golden file {name} (run with CTK_REGEN_GOLDEN=1)"
    assert actual == _read(name), f"{name} differs from the golden file"


def test_there_are_at_least_fifteen_fixtures() -> None:
    assert len(NAMES) >= 15


@pytest.mark.parametrize("name", NAMES)
def test_storage_to_markdown_golden(name: str) -> None:
    _check_golden(f"{name}.md", storage_to_markdown(_read(f"{name}.xml")))


@pytest.mark.parametrize("name", NAMES)
def test_markdown_to_storage_golden(name: str) -> None:
    _check_golden(f"{name}.back.xml", markdown_to_storage(_read(f"{name}.md")))


@pytest.mark.parametrize("name", NAMES)
def test_fixture_round_trips(name: str) -> None:
    original = _read(f"{name}.xml")
    md = storage_to_markdown(original)
    back = markdown_to_storage(md)
    assert_well_formed(back)
    assert semantic_diff(original, back) is None
    # the Markdown is canonical: a second trip changes nothing
    assert storage_to_markdown(back) == md
    assert markdown_to_storage(storage_to_markdown(back)) == back


def _demo_bodies() -> list[tuple[str, str]]:
    from ctk_core.sandbox.seed import seed
    from ctk_core.sandbox.state import State

    state = State()
    seed(state, "demo")
    bodies = []
    for page in state.pages.values():
        bodies.append((f"page {page['title']}", page["body"]))
        for n, version in enumerate(page.get("versions") or []):
            bodies.append((f"page {page['title']} v{n + 1}", version["body"]))
    for comment in state.comments.values():
        bodies.append((f"comment {comment['id']}", comment["body"]))
    return bodies


def test_sandbox_demo_pages_round_trip() -> None:
    bodies = _demo_bodies()
    assert len(bodies) >= 15
    for label, body in bodies:
        md = storage_to_markdown(body)
        back = markdown_to_storage(md)
        assert_well_formed(back)
        assert semantic_diff(body, back) is None, label
        assert storage_to_markdown(back) == md, label
