"""docs/mcp.md stays true: its tool reference is generated from the catalog.

Regenerate with ``python tests/test_mcp_docs.py`` after changing a plugin's declarations.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "mcp.md"
BEGIN, END = "<!-- BEGIN GENERATED TOOLS -->", "<!-- END GENERATED TOOLS -->"


def generated() -> str:
    from ctk_core.mcp_server import tools_markdown
    from ctk_core.registry import load_catalog

    return tools_markdown(load_catalog(reload=True))


def current_section(text: str) -> str:
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[start:end].strip("\n") + "\n"


def test_tool_reference_matches_the_catalog():
    expected = generated()
    assert current_section(DOC.read_text(encoding="utf-8")) == expected, (
        "docs/mcp.md is out of date: run `python tests/test_mcp_docs.py` to regenerate it"
    )


def test_every_tool_and_action_is_documented():
    from ctk_core.registry import load_catalog

    text = DOC.read_text(encoding="utf-8")
    for resource in load_catalog(reload=True).resources:
        assert f"### `{resource.tool_name}`" in text
        for op in resource.operations:
            assert re.search(rf"\| `{op.name}` \| (read|write)", text), op.name


def test_documented_variables_exist_in_the_code():
    text = DOC.read_text(encoding="utf-8")
    source = "".join(
        p.read_text(encoding="utf-8") for p in (DOC.parents[1] / "ctk_core").rglob("*.py")
    )
    for name in set(re.findall(r"\bCTK_[A-Z_]+\b", text)):
        assert name in source, f"docs/mcp.md mentions {name}, which no code reads"


if __name__ == "__main__":
    text = DOC.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{BEGIN}\n{generated()}{END}{tail}", encoding="utf-8")
    print(f"updated {DOC}", file=sys.stderr)
