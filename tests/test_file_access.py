"""The file capability (``ctx.files``): a third-party plugin that reads and writes files gets
the confinement of docs/security.md over MCP without asking who calls it, and a person's own
access on the CLI."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ctk_core.registry import load_catalog

NOTES_PLUGIN = """
from ctk_core import Context, Operation, Param, Resource, hookimpl

def measure(ctx: Context, path):
    fh, real = ctx.files.open_for_upload(path)
    with fh:
        return {"bytes": len(fh.read()), "real": str(real)}

def save(ctx: Context, name, text, output=None):
    dest = ctx.files.download_target(name, output)
    with ctx.files.writer(dest) as fh:
        fh.write(text.encode())
    return {"path": str(dest)}

@hookimpl
def ctk_register_resources(register):
    register(Resource("notes", "Local notes.", [
        Operation("measure", "Size of a local file.", measure,
                  params=[Param("path", required=True, positional=True)]),
        Operation("save", "Save a note.", save,
                  params=[Param("name", required=True, positional=True),
                          Param("text", required=True),
                          Param("output")]),
    ]))
"""


@pytest.fixture
def notes_plugin(plugins):
    plugins.install("notes", NOTES_PLUGIN, dist="ctk-notes")
    load_catalog(reload=True)
    return plugins


@pytest.fixture
def outside(tmp_path_factory):
    folder = tmp_path_factory.mktemp("outside")
    secret = folder / "private.txt"
    secret.write_text("not for agents")
    return secret


def test_agent_reads_are_confined_to_the_upload_roots(notes_plugin, ctk_mcp, tmp_path, outside):
    inside = tmp_path / "roots" / "ok.txt"
    inside.parent.mkdir()
    inside.write_text("hello")
    session = ctk_mcp({"CTK_UPLOAD_ROOTS": str(inside.parent)})
    assert session.call_json("manage_notes", {"action": "measure", "path": str(inside)}) == {
        "bytes": 5,
        "real": str(inside.resolve()),
    }
    refused = session.error("manage_notes", {"action": "measure", "path": str(outside)})
    assert "outside the allowed upload roots" in refused
    link = inside.parent / "link.txt"
    os.symlink(outside, link)
    refused = session.error("manage_notes", {"action": "measure", "path": str(link)})
    assert "outside the allowed upload roots" in refused


def test_agent_never_reads_the_config_folder(notes_plugin, ctk_mcp, private_environment):
    config = private_environment / ".config" / "ctk"
    config.mkdir(parents=True, exist_ok=True)
    (config / "credentials.json").write_text("{}")
    session = ctk_mcp({"CTK_UPLOAD_ROOTS": str(private_environment)})
    refused = session.error(
        "manage_notes", {"action": "measure", "path": str(config / "credentials.json")}
    )
    assert "never uploaded" in refused


def test_agent_writes_only_to_the_download_folder(notes_plugin, ctk_mcp, private_environment):
    session = ctk_mcp()
    saved = session.call_json("manage_notes", {"action": "save", "name": "../x.md", "text": "hi"})
    downloads = private_environment / "downloads"
    assert os.path.dirname(saved["path"]) == str(downloads)
    assert Path(saved["path"]).read_text() == "hi"
    assert oct(os.stat(saved["path"]).st_mode & 0o777) == "0o600"
    elsewhere = private_environment / "elsewhere"
    refused = session.error(
        "manage_notes", {"action": "save", "name": "x.md", "text": "hi", "output": str(elsewhere)}
    )
    assert "download folder" in refused
    assert not elsewhere.exists()


def test_person_reads_and_writes_their_own_files(notes_plugin, ctk_cli, tmp_path, outside):
    measured = ctk_cli("--json", "notes", "measure", str(outside))
    assert measured.exit_code == 0, measured
    assert json.loads(measured.stdout)["bytes"] == len("not for agents")
    target = tmp_path / "mine"
    target.mkdir()
    saved = ctk_cli("--json", "notes", "save", "n.md", "--text", "hi", "--output", str(target))
    assert saved.exit_code == 0, saved
    assert (target / "n.md").read_text() == "hi"


@pytest.mark.parametrize(
    ("path", "said"),
    [("x" * 5000, "Cannot use xxx"), ("a\x00b", "NUL character"), ("a\x00b/c", "NUL character")],
)
def test_a_path_no_file_can_have_is_a_usage_error(path, said, tmp_path, monkeypatch):
    # a name longer than the system allows, or one holding NUL: one usage error, not an
    # OSError or ValueError (found by tests/test_sweep_input.py)
    from ctk_core.errors import UsageError
    from ctk_core.file_access import PersonFiles

    monkeypatch.chdir(tmp_path)
    files = PersonFiles()
    with pytest.raises(UsageError, match=said) as err:
        files.open_for_upload(path)
    assert len(err.value.message) < 200
    with pytest.raises(UsageError, match=said):
        files.download_target("notes.txt", path)
    assert list(tmp_path.iterdir()) == []
