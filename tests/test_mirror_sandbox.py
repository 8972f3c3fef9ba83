"""``ctk --sandbox export`` and ``ctk --sandbox push``: the embedded sandbox listens on a new
port every run, yet the state files of both carry over from one run to the next."""

from __future__ import annotations

import json

import pytest

from ctk_core.testing import CtkCli


@pytest.fixture
def cli(tmp_path):
    return CtkCli(None, str(tmp_path / "config"))


def _run(cli, *args, env=None):
    result = cli("--sandbox", *[str(a) for a in args], "--json", env=env)
    assert result.exit_code == 0, result
    return result.json()


def test_export_state_carries_over_between_sandbox_runs(cli, tmp_path):
    out = tmp_path / "out"
    first = _run(cli, "export", "--space", "DEMO", out)
    assert first["written"] == first["pages"]
    site = json.loads((out / ".ctk-export.json").read_text())["site"]
    assert site.startswith("ctk-sandbox:")
    again = _run(cli, "export", "--space", "DEMO", out)
    assert again["written"] == again["downloaded"] == 0
    assert json.loads((out / ".ctk-export.json").read_text())["site"] == site


def test_push_state_carries_over_between_sandbox_runs(cli, tmp_path):
    writes = {"CTK_ENABLE_WRITES": "true"}
    _run(cli, "spaces", "create", "MINE", "--name", "Mine", env=writes)
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "guide.md").write_text("---\nlabels: [docs]\n---\n# Guide\n\n![d](d.png)\n")
    (folder / "d.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 64)
    first = _run(cli, "push", folder, "--space", "MINE", env=writes)
    assert first["created"] == first["uploaded"] == first["labelled"] == 1
    again = _run(cli, "push", folder, "--space", "MINE", env=writes)
    assert again["created"] == again["uploaded"] == again["labelled"] == again["updated"] == 0
    targets = json.loads((folder / ".ctk-push.json").read_text())["targets"]
    assert list(targets) == [f"{targets[next(iter(targets))]['site']} MINE"]
    assert next(iter(targets)).startswith("ctk-sandbox:")


def test_page_bodies_and_parents_as_export_and_push_read_them(confluence_sandbox, tmp_path):
    from ctk_core.client import client_from_environment
    from ctk_core.mirror.remote import BODY_BATCH, page_bodies, parent_of, storage_of

    env = {**confluence_sandbox.client_env, "CTK_RATE_LIMIT": "off"}
    env["CTK_CONFIG_DIR"] = str(tmp_path)
    client = client_from_environment(env)
    state = confluence_sandbox.state
    demo = confluence_sandbox.space_id("DEMO")
    with state.lock:
        made = [state.create_page(demo, f"Bulk {n}", f"<p>{n}</p>", None)["id"] for n in range(260)]
        state.save()
    confluence_sandbox.requests.clear()
    batches = list(page_bodies(client, [*made, "999999999"]))
    assert [len(ids) for ids, _b in batches] == [BODY_BATCH, 261 - BODY_BATCH]
    got = {i: storage_of(b) for _ids, bodies in batches for i, b in bodies.items()}
    assert got == {i: f"<p>{n}</p>" for n, i in enumerate(made)}  # the unknown id is missing
    sent = confluence_sandbox.requests.entries()
    assert [e["query"]["body-format"] for e in sent] == [["storage"], ["storage"]]
    arch = confluence_sandbox.page_id("Architecture")
    model = confluence_sandbox.page_id("Data Model")
    cql = f"id = {model}"
    found = next(
        client.iterate("/rest/api/content/search", params={"cql": cql, "expand": "ancestors"})
    )
    assert parent_of(found) == arch
    assert parent_of({"ancestors": []}) is None
