"""One table of settings: every variable the code reads is in it, the README documents exactly
it, and the global options set it without writing the process environment."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from ctk_core import settings
from ctk_core.files import DEFAULT_DOWNLOAD_DIR, DEFAULT_LOG_DIR
from ctk_core.mcp_server.results import DEFAULT_INLINE_MAX_BYTES, DEFAULT_MAX_RESPONSE_BYTES
from ctk_core.ratelimit import DEFAULT_RATE_LIMIT

ROOT = Path(__file__).resolve().parent.parent
NAME = re.compile(r"\b(?:CTK|CONFLUENCE)_[A-Z_]+[A-Z]\b")
#: Not settings: Click's completion switch (_CTK_COMPLETE) and the tests' own spec folder.
NOT_SETTINGS = {"CTK_COMPLETE", "CTK_SPEC_DIR"}


def _names_in_code() -> set[str]:
    names: set[str] = set()
    for package in ("ctk_core", "ctk_plugins"):
        for path in (ROOT / package).rglob("*.py"):
            names |= set(NAME.findall(path.read_text(encoding="utf-8")))
    return names - NOT_SETTINGS


def test_every_variable_the_code_reads_is_in_the_table_and_back():
    assert _names_in_code() == set(settings.NAMES)


def test_the_readme_documents_exactly_the_table():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = [line for line in readme.splitlines() if line.startswith("| `")]
    documented = {name for row in rows for name in NAME.findall(row.split("|")[1])}
    assert documented == set(settings.NAMES)


def test_defaults_in_the_table_are_the_code_defaults():
    default = {s.name: s.default for s in settings.SETTINGS}
    assert default["CTK_RATE_LIMIT"] == DEFAULT_RATE_LIMIT
    assert default["CTK_MAX_RESPONSE_BYTES"] == str(DEFAULT_MAX_RESPONSE_BYTES)
    assert default["CTK_MCP_INLINE_MAX_BYTES"] == str(DEFAULT_INLINE_MAX_BYTES)
    assert default["CTK_LOG_DIR"] == DEFAULT_LOG_DIR
    assert default["CTK_DOWNLOAD_DIR"] == DEFAULT_DOWNLOAD_DIR
    assert all(s.doc.endswith(".") for s in settings.SETTINGS)


def test_overrides_come_first_and_explicit_mappings_win(monkeypatch):
    monkeypatch.setenv("CTK_DEBUG", "0")
    assert not settings.flag("CTK_DEBUG")
    settings.override("CTK_DEBUG", "1")
    try:
        assert settings.flag("CTK_DEBUG")
        assert not settings.flag("CTK_DEBUG", {"CTK_DEBUG": "no"})
        assert os.environ["CTK_DEBUG"] == "0"
    finally:
        settings.reset()
    assert not settings.flag("CTK_DEBUG")


def test_unknown_setting_is_refused():
    with pytest.raises(KeyError, match="CTK_NOPE"):
        settings.override("CTK_NOPE", "1")


def test_global_options_do_not_write_the_environment(ctk_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    result = ctk_cli("--debug", "--sandbox", "--json", "spaces", "list", env={"CTK_BASE_URL": None})
    assert result.exit_code == 0, result
    assert "DEMO" in result.stdout
    for name in ("CTK_DEBUG", "CTK_BASE_URL", "CONFLUENCE_API_TOKEN"):
        assert name not in os.environ
    assert dict(settings.overrides()) == {}
    assert (tmp_path / "data" / "ctk").is_dir()
