"""``ctk export`` against the sandbox over HTTP: files, request budgets, reruns, faults."""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from ctk_core.mirror import frontmatter
from ctk_core.mirror.export import budget
from ctk_core.mirror.state import STATE_NAME

PAGES_BULK = "/wiki/api/v2/pages"
SEARCH = "/wiki/rest/api/content/search"


def _counts(sandbox, key="DEMO"):
    state = sandbox.state
    space_id = sandbox.space_id(key)
    pages = [
        p for p in state.pages.values() if p["spaceId"] == space_id and p["status"] == "current"
    ]
    ids = {p["id"] for p in pages}
    atts = [
        a for a in state.attachments.values() if a["pageId"] in ids and a["status"] == "current"
    ]
    return len(pages), len(atts)


def _export(ctk_cli, *args):
    result = ctk_cli("export", *[str(a) for a in args], "--json")
    assert result.exit_code == 0, result.stderr
    return result.json()


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def _meta(folder: Path, rel: str) -> dict:
    return frontmatter.parse((folder / rel).read_text(encoding="utf-8"))[0]


def _state(folder: Path) -> dict:
    return json.loads((folder / STATE_NAME).read_text(encoding="utf-8"))


def _file_of(folder: Path, page_id: str) -> str:
    return _state(folder)["pages"][page_id]["file"]


def test_full_export_within_budget_even_with_pages_of_25(ctk_cli, confluence_sandbox, tmp_path):
    confluence_sandbox.server.max_page_size = 25
    n, a = _counts(confluence_sandbox)
    confluence_sandbox.requests.clear()
    out = tmp_path / "out"
    summary = _export(ctk_cli, "--space", "DEMO", out)
    sent = confluence_sandbox.requests.entries()
    assert len(sent) <= budget(n, a)
    assert {e["method"] for e in sent} <= {"GET", "POST"}
    assert [e["path"] for e in sent if e["method"] == "POST"] in ([], ["/wiki/api/v2/users-bulk"])
    assert summary["pages"] == summary["written"] == n
    assert summary["attachments"] == summary["downloaded"] == a
    bulk = [e for e in sent if e["path"] == PAGES_BULK]
    assert bulk  # the bodies came from the bulk listing
    assert all(e["query"]["body-format"] == ["storage"] for e in bulk)
    home = confluence_sandbox.state.space_by_key("DEMO")["homepageId"]
    meta = _meta(out, _file_of(out, home))
    assert list(meta) == [
        "id",
        "title",
        "space",
        "parent_id",
        "version",
        "labels",
        "author",
        "last_modified",
        "url",
    ]
    assert meta["id"] == home
    assert meta["space"] == "DEMO"
    arch = confluence_sandbox.page_id("Architecture")
    assert _meta(out, _file_of(out, arch))["labels"] == ["architecture", "design"]
    assert (out / "demo-space" / "architecture" / "index.assets" / "diagram.png").is_file()


def test_unchanged_rerun_and_one_edit(ctk_cli, confluence_sandbox, tmp_path):
    out = tmp_path / "out"
    _export(ctk_cli, "--space", "DEMO", out)
    before = {f: (out / f).read_bytes() for f in _files(out)}
    n, _a = _counts(confluence_sandbox)

    confluence_sandbox.requests.clear()
    summary = _export(ctk_cli, "--space", "DEMO", out)
    unchanged = confluence_sandbox.requests.entries()
    assert len(unchanged) <= math.ceil(n / 100) + 4
    assert not confluence_sandbox.requests.find("GET", PAGES_BULK)
    assert summary["written"] == summary["downloaded"] == 0
    assert {f: (out / f).read_bytes() for f in _files(out)} == before

    state = confluence_sandbox.state
    page = state.pages[confluence_sandbox.page_id("Data Model")]
    with state.lock:
        state.update_page(page, body="<p>Rewritten by a test.</p>")
        state.save()
    confluence_sandbox.requests.clear()
    summary = _export(ctk_cli, "--space", "DEMO", out)
    assert len(confluence_sandbox.requests.entries()) == len(unchanged) + 1
    assert summary["written"] == 1
    text = (out / _file_of(out, page["id"])).read_text()
    assert "Rewritten by a test." in text
    assert _meta(out, _file_of(out, page["id"]))["version"] == page["version"]["number"]


def test_dry_run_sends_only_reads_and_writes_nothing(ctk_cli, confluence_sandbox, tmp_path):
    out = tmp_path / "out"
    confluence_sandbox.requests.clear()
    result = ctk_cli("export", "--space", "DEMO", str(out), "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "Nothing written" in result.stdout
    assert "write     demo-space/index.md" in result.stdout
    assert {e["method"] for e in confluence_sandbox.requests.entries()} == {"GET"}
    assert not out.exists()
    _export(ctk_cli, "--space", "DEMO", out)
    files = _files(out)
    stamp = {f: (out / f).stat().st_mtime_ns for f in files}
    confluence_sandbox.requests.clear()
    plan = ctk_cli("--json", "export", "--space", "DEMO", str(out), "--dry-run").json()
    assert plan["fetch"] == []
    assert {e["method"] for e in confluence_sandbox.requests.entries()} == {"GET"}
    assert {f: (out / f).stat().st_mtime_ns for f in _files(out)} == stamp


def test_links_and_images_become_relative_and_outside_links_absolute(
    ctk_cli, confluence_sandbox, tmp_path
):
    state = confluence_sandbox.state
    demo = confluence_sandbox.space_id("DEMO")
    parent = confluence_sandbox.page_id("Data Model")
    body = (
        '<p><ac:link><ri:page ri:content-title="API Design"/></ac:link> and '
        '<ac:link><ri:page ri:content-title="Team Home" ri:space-key="TEAM"/></ac:link> and '
        '<ac:link><ri:page ri:content-title="No such page"/></ac:link></p>'
        '<ac:image><ri:attachment ri:filename="diagram.png">'
        '<ri:page ri:content-title="Architecture"/></ri:attachment></ac:image>'
    )
    with state.lock:
        page = state.create_page(demo, "Linking page", body, parent_id=parent)
        state.save()
    out = tmp_path / "out"
    _export(ctk_cli, "--space", "DEMO", out)
    rel = _file_of(out, page["id"])
    assert rel == "demo-space/architecture/data-model/linking-page.md"
    text = (out / rel).read_text()
    assert "[API Design](../api-design.md)" in text
    assert "](../index.assets/diagram.png)" in text
    site = confluence_sandbox.url
    assert f"[Team Home]({site}/wiki/display/TEAM/Team%20Home)" in text
    assert f"[No such page]({site}/wiki/display/DEMO/No%20such%20page)" in text
    # The relative links lead to files that exist.
    assert (out / rel).parent.joinpath("../api-design.md").resolve().is_file()
    assert (out / rel).parent.joinpath("../index.assets/diagram.png").resolve().is_file()


def test_slug_collisions_are_deterministic(ctk_cli, confluence_sandbox, tmp_path):
    state = confluence_sandbox.state
    demo = confluence_sandbox.space_id("DEMO")
    parent = confluence_sandbox.page_id("Release Notes")
    with state.lock:
        ids = [
            state.create_page(demo, title, "<p>x</p>", parent_id=parent)["id"]
            for title in ("Same title", "SAME TITLE!", "Same-Title", "CON", "Index", "..")
        ]
        state.save()
    first, second = tmp_path / "one", tmp_path / "two"
    _export(ctk_cli, "--space", "DEMO", first)
    _export(ctk_cli, "--space", "DEMO", second)
    assert _files(first) == _files(second)
    names = [_file_of(first, i).rpartition("/")[2] for i in ids]
    assert names == [
        "same-title.md",
        "same-title-2.md",
        "same-title-3.md",
        "_con.md",
        "_index.md",
        f"page-{ids[5]}.md",  # nothing of the title is left: the id names it
    ]
    lowered = [f.lower() for f in _files(first)]
    assert len(set(lowered)) == len(lowered)


def test_rename_move_delete_and_prune(ctk_cli, confluence_sandbox, tmp_path):
    out = tmp_path / "out"
    _export(ctk_cli, "--space", "DEMO", out)
    state = confluence_sandbox.state
    renamed = state.pages[confluence_sandbox.page_id("API Design")]
    moved = state.pages[confluence_sandbox.page_id("On-call Rotation")]
    deleted = state.pages[confluence_sandbox.page_id("Release 1.0")]
    old_moved = _file_of(out, moved["id"])
    old_renamed = _file_of(out, renamed["id"])
    old_deleted = _file_of(out, deleted["id"])
    with state.lock:
        state.update_page(renamed, title="API Reference")
        moved["parentId"] = confluence_sandbox.page_id("Architecture")
        deleted["status"] = "trashed"
        state.save()
    confluence_sandbox.requests.clear()
    summary = _export(ctk_cli, "--space", "DEMO", out)
    assert summary["written"] == 1  # the rename made a new version
    assert summary["moved"] == 1  # the move did not: its file moved, no body fetched
    assert summary["deleted"] == [old_deleted]
    assert _file_of(out, renamed["id"]) == "demo-space/architecture/api-reference.md"
    assert _file_of(out, moved["id"]) == "demo-space/architecture/on-call-rotation.md"
    assert not (out / old_renamed).exists()
    assert not (out / old_moved).exists()
    assert (out / "demo-space/architecture/on-call-rotation.md").is_file()
    assert (out / old_deleted).is_file()  # reported, kept
    summary = _export(ctk_cli, "--space", "DEMO", out, "--prune")
    assert summary["pruned"] == 1
    assert not (out / old_deleted).exists()
    assert deleted["id"] not in _state(out)["pages"]


def test_interrupted_export_leaves_complete_files_and_the_rerun_finishes(
    ctk_cli, confluence_sandbox, tmp_path
):
    arch = confluence_sandbox.page_id("Architecture")
    confluence_sandbox.fault(
        {"kind": "html", "status": 404, "path": f"/wiki/download/attachments/{arch}/"}
    )
    out = tmp_path / "out"
    result = ctk_cli("export", "--space", "DEMO", str(out))
    assert result.exit_code != 0
    assert result.stderr.startswith("Error:")
    st = _state(out)
    for entry in st["pages"].values():  # every page recorded is there, whole
        meta = _meta(out, entry["file"])
        assert meta["version"] == entry["version"]
    for entry in st["attachments"].values():
        assert (out / entry["file"]).stat().st_size == entry["size"]
    assert not any(".part" in f for f in _files(out))
    confluence_sandbox.faults.clear()
    confluence_sandbox.requests.clear()
    summary = _export(ctk_cli, "--space", "DEMO", out)
    assert summary["written"] == 0
    assert summary["downloaded"] >= 1
    assert not confluence_sandbox.requests.find("GET", PAGES_BULK)
    complete = tmp_path / "complete"
    _export(ctk_cli, "--space", "DEMO", complete)
    assert _files(out) == _files(complete)


def test_ctrl_c_leaves_whole_files_and_a_consistent_state(ctk_cli, confluence_sandbox, tmp_path):
    # a real process, stopped with SIGINT while it waits for an attachment download
    arch = confluence_sandbox.page_id("Architecture")
    confluence_sandbox.fault(
        {"kind": "latency", "ms": 5000, "path": f"/wiki/download/attachments/{arch}/"}
    )
    out = tmp_path / "out"
    exe = shutil.which("ctk", path=os.path.dirname(sys.executable))
    command = [exe] if exe else [sys.executable, "-c", "from ctk_core.cli import main; main()"]
    env = {**os.environ, **confluence_sandbox.client_env}
    proc = subprocess.Popen(
        [*command, "export", "--space", "DEMO", str(out)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not confluence_sandbox.requests.find("GET", f"/wiki/download/attachments/{arch}/"):
            assert time.monotonic() < deadline, "the export never reached the download"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr
    assert "Traceback" not in stderr
    st = _state(out)
    assert len(st["pages"]) == _counts(confluence_sandbox)[0]
    for entry in st["pages"].values():
        assert _meta(out, entry["file"])["version"] == entry["version"]
    assert not any(".part" in f for f in _files(out))
    confluence_sandbox.faults.clear()
    summary = _export(ctk_cli, "--space", "DEMO", out)
    assert summary["written"] == 0
    complete = tmp_path / "complete"
    _export(ctk_cli, "--space", "DEMO", complete)
    assert _files(out) == _files(complete)


def test_interrupted_before_the_bodies_then_rerun(ctk_cli, confluence_sandbox, tmp_path):
    confluence_sandbox.fault({"kind": "html", "status": 404, "path": PAGES_BULK, "count": 1})
    out = tmp_path / "out"
    assert ctk_cli("export", "--space", "DEMO", str(out)).exit_code != 0
    assert _state(out)["pages"] == {}
    summary = _export(ctk_cli, "--space", "DEMO", out)
    assert summary["written"] == summary["pages"]


def test_subtree_export(ctk_cli, confluence_sandbox, tmp_path):
    root = confluence_sandbox.page_id("Getting Started")
    out = tmp_path / "out"
    summary = _export(ctk_cli, root, out)
    assert _file_of(out, root) == "getting-started/index.md"
    assert _meta(out, "getting-started/index.md")["space"] == "DEMO"
    assert summary["pages"] == 1 + sum(
        1 for f in _files(out) if f.endswith(".md") and f != "getting-started/index.md"
    )
    assert summary["attachments"] >= 1
    result = ctk_cli("export", "--space", "DEMO", str(out))
    assert result.exit_code == 2
    assert "holds an export of page" in result.stderr


def test_refuses_a_folder_that_is_not_an_export(ctk_cli, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    result = ctk_cli("export", "--space", "DEMO", str(tmp_path))
    assert result.exit_code == 2
    assert "not empty" in result.stderr
    assert ctk_cli("export", str(tmp_path)).exit_code == 2


def test_refused_while_the_pages_tool_is_disabled(ctk_cli, confluence_sandbox, tmp_path):
    confluence_sandbox.requests.clear()
    result = ctk_cli(
        "export",
        "--space",
        "DEMO",
        str(tmp_path / "out"),
        env={"CTK_DISABLED_TOOLS": "manage_pages"},
    )
    assert result.exit_code == 4, result
    assert "disabled by CTK_DISABLED_TOOLS" in result.stderr
    assert confluence_sandbox.requests.entries() == []
    assert not (tmp_path / "out").exists()


def test_a_file_edited_here_is_never_overwritten_silently(ctk_cli, confluence_sandbox, tmp_path):
    out = tmp_path / "out"
    _export(ctk_cli, "--space", "DEMO", out)
    state = confluence_sandbox.state
    model = state.pages[confluence_sandbox.page_id("Data Model")]
    api = state.pages[confluence_sandbox.page_id("API Design")]
    for page in (model, api):
        with state.lock:
            state.update_page(page, body="<p>Changed in Confluence.</p>")
            state.save()
    mine = out / _file_of(out, model["id"])
    mine.write_text(mine.read_text(encoding="utf-8") + "\nMy local note.\n", encoding="utf-8")
    edited = mine.read_bytes()
    api_before = (out / _file_of(out, api["id"])).read_bytes()

    plan = ctk_cli("--json", "export", "--space", "DEMO", str(out), "--dry-run").json()
    assert plan["conflict"] == [_file_of(out, model["id"])]
    # the page changed only in Confluence is written; the edited file is kept and listed
    for _run in range(2):
        refused = ctk_cli("--json", "export", "--space", "DEMO", str(out))
        assert refused.exit_code == 6, refused
        assert refused.json()["conflicts"] == [_file_of(out, model["id"])]
        assert _file_of(out, model["id"]) in refused.stderr
        assert "--force" in refused.stderr
        assert "everything else was exported" in refused.stderr
        assert "push" not in refused.stderr  # push sends you here: no ping-pong
        assert mine.read_bytes() == edited
    assert refused.json()["written"] == 0  # the second run: the rest was there already
    assert (out / _file_of(out, api["id"])).read_bytes() != api_before
    assert "Changed in Confluence." in (out / _file_of(out, api["id"])).read_text()
    assert _meta(out, _file_of(out, api["id"]))["version"] == api["version"]["number"]

    summary = _export(ctk_cli, "--space", "DEMO", out, "--force")
    assert summary["written"] == 1
    assert summary["conflicts"] == []
    assert "Changed in Confluence." in mine.read_text(encoding="utf-8")
    assert "My local note." not in mine.read_text(encoding="utf-8")


def test_a_folder_symlinked_out_gets_no_folder_made_outside(ctk_cli, confluence_sandbox, tmp_path):
    out = tmp_path / "out"
    _export(ctk_cli, "--space", "DEMO", out)
    arch = confluence_sandbox.page_id("Architecture")
    folder = out / _file_of(out, arch).rpartition("/")[0]
    outside = tmp_path / "outside"
    shutil.move(str(folder), str(outside))
    folder.symlink_to(outside, target_is_directory=True)
    before = sorted(str(p.relative_to(outside)) for p in outside.rglob("*"))
    state = confluence_sandbox.state
    demo = confluence_sandbox.space_id("DEMO")
    with state.lock:
        new = state.create_page(demo, "Deep parent", "<p>x</p>", parent_id=arch)
        state.create_page(demo, "Deep child", "<p>y</p>", parent_id=new["id"])
        state.save()
    result = ctk_cli("export", "--space", "DEMO", str(out))
    assert result.exit_code == 2, result
    assert "leaves the export folder" in result.stderr
    assert sorted(str(p.relative_to(outside)) for p in outside.rglob("*")) == before


def test_two_siblings_swapping_titles_keep_both_files(ctk_cli, confluence_sandbox, tmp_path):
    out = tmp_path / "out"
    _export(ctk_cli, "--space", "DEMO", out)
    state = confluence_sandbox.state
    one = state.pages[confluence_sandbox.page_id("Release 1.0")]
    two = state.pages[confluence_sandbox.page_id("Release 1.1")]
    file_one, file_two = _file_of(out, one["id"]), _file_of(out, two["id"])
    with state.lock:
        state.update_page(one, title="Tmp")
        state.update_page(two, title="Release 1.0")
        state.update_page(one, title="Release 1.1")
        state.save()
    summary = _export(ctk_cli, "--space", "DEMO", out)
    assert summary["written"] == 2
    assert _file_of(out, one["id"]) == file_two
    assert _file_of(out, two["id"]) == file_one
    assert _meta(out, file_two)["id"] == one["id"]
    assert _meta(out, file_one)["id"] == two["id"]


def test_a_renamed_page_whose_assets_hold_an_extra_file(ctk_cli, confluence_sandbox, tmp_path):
    out = tmp_path / "out"
    _export(ctk_cli, "--space", "DEMO", out)
    state = confluence_sandbox.state
    page = state.pages[confluence_sandbox.page_id("Getting Started")]
    old = _file_of(out, page["id"])
    old_assets = out / old.replace(".md", ".assets")
    assert (old_assets / "notes.txt").is_file()
    (old_assets / "mine.txt").write_text("my own file")
    with state.lock:
        state.update_page(page, title="First Steps")
        state.save()
    summary = _export(ctk_cli, "--space", "DEMO", out)
    assert summary["written"] == 1
    new_assets = out / _file_of(out, page["id"]).replace(".md", ".assets")
    assert new_assets != old_assets
    assert (new_assets / "notes.txt").is_file()
    assert (new_assets / "mine.txt").read_text() == "my own file"
    assert not old_assets.exists()
    assert summary["left"] == []


def _trash(sandbox, page_id):
    with sandbox.state.lock:
        sandbox.state.pages[page_id]["status"] = "trashed"
        sandbox.state.save()


def test_a_file_made_here_is_never_overwritten_nor_pruned(ctk_cli, confluence_sandbox, tmp_path):
    out = tmp_path / "out"
    _export(ctk_cli, "--space", "DEMO", out)
    state = confluence_sandbox.state
    demo = confluence_sandbox.space_id("DEMO")
    home = state.space_by_key("DEMO")["homepageId"]
    mine = out / "demo-space" / "new-page.md"
    mine.write_text("my notes\n")
    with state.lock:
        first = state.create_page(demo, "New Page", "<p>one</p>", parent_id=home)
        state.save()
    plan = ctk_cli("--json", "export", "--space", "DEMO", str(out), "--dry-run").json()
    assert plan["conflict"] == ["demo-space/new-page.md"]
    refused = ctk_cli("export", "--space", "DEMO", str(out))
    assert refused.exit_code == 6, refused
    assert "demo-space/new-page.md" in refused.stderr
    assert mine.read_text() == "my notes\n"
    summary = _export(ctk_cli, "--space", "DEMO", out, "--force")
    assert summary["written"] == 1
    assert _file_of(out, first["id"]) == "demo-space/new-page.md"

    _trash(confluence_sandbox, first["id"])
    with state.lock:
        second = state.create_page(demo, "New Page", "<p>two</p>", parent_id=home)
        state.save()
    summary = _export(ctk_cli, "--space", "DEMO", out, "--prune")
    assert summary["written"] == 1
    assert summary["pruned"] == 0
    assert "two" in mine.read_text()
    assert _state(out)["pages"][second["id"]]["file"] == "demo-space/new-page.md"
    assert first["id"] not in _state(out)["pages"]


def test_an_attachment_edited_here_is_not_overwritten(ctk_cli, confluence_sandbox, tmp_path):
    from ctk_core.sandbox.routes_attachments import attach_file

    out = tmp_path / "out"
    _export(ctk_cli, "--space", "DEMO", out)
    arch = confluence_sandbox.page_id("Architecture")
    entry = next(e for e in _state(out)["attachments"].values() if e["page_id"] == arch)
    assert entry["hash"]
    local = out / entry["file"]
    local.write_bytes(b"my own drawing")
    source = tmp_path / "diagram.png"
    source.write_bytes(b"\x89PNG\r\n\x1a\n a new version")
    with confluence_sandbox.state.lock:
        attach_file(confluence_sandbox.state, arch, source, filename=entry["title"])
        confluence_sandbox.state.save()
    refused = ctk_cli("export", "--space", "DEMO", str(out))
    assert refused.exit_code == 6, refused
    assert entry["file"] in refused.stderr
    assert local.read_bytes() == b"my own drawing"
    summary = _export(ctk_cli, "--space", "DEMO", out, "--force")
    assert summary["downloaded"] == 1
    assert local.read_bytes() == source.read_bytes()


def test_an_export_of_another_site_is_refused(ctk_cli, confluence_sandbox, tmp_path):
    out = tmp_path / "out"
    _export(ctk_cli, "--space", "DEMO", out)
    saved = _state(out)
    saved["site"] = "https://other.example.net"
    (out / STATE_NAME).write_text(json.dumps(saved))
    result = ctk_cli("export", "--space", "DEMO", str(out))
    assert result.exit_code == 2, result
    assert "https://other.example.net" in result.stderr


def test_export_edit_push_export_round_trip_in_one_folder(ctk_cli, confluence_sandbox, tmp_path):
    out = tmp_path / "out"
    _export(ctk_cli, "--space", "DEMO", out)
    page = confluence_sandbox.page_id("Data Model")
    mine = out / _file_of(out, page)
    mine.write_text(mine.read_text(encoding="utf-8") + "\nAdded here.\n", encoding="utf-8")
    pushed = ctk_cli(
        "push", str(out), "--space", "DEMO", "--json", env={"CTK_ENABLE_WRITES": "true"}
    )
    assert pushed.exit_code == 0, pushed
    assert pushed.json()["updated"] == 1
    summary = _export(ctk_cli, "--space", "DEMO", out)
    assert summary["conflicts"] == []
    assert "Added here." in mine.read_text(encoding="utf-8")
    version = confluence_sandbox.state.pages[page]["version"]["number"]
    assert _state(out)["pages"][page]["version"] == version
    # edited again and changed in Confluence since that push: a conflict again
    mine.write_text(mine.read_text(encoding="utf-8") + "\nMore.\n", encoding="utf-8")
    with confluence_sandbox.state.lock:
        state = confluence_sandbox.state
        state.update_page(state.pages[page], body="<p>Changed in Confluence.</p>")
        state.save()
    assert ctk_cli("export", "--space", "DEMO", str(out)).exit_code == 6


def test_attachments_are_left_out_while_their_tool_is_disabled(
    ctk_cli, confluence_sandbox, tmp_path
):
    off = {"CTK_DISABLED_TOOLS": "manage_attachments"}
    out = tmp_path / "out"
    confluence_sandbox.requests.clear()
    result = ctk_cli("export", "--space", "DEMO", str(out), env=off)
    assert result.exit_code == 0, result
    assert "left out" in result.stdout
    assert "manage_attachments" in result.stdout
    assert not confluence_sandbox.requests.find("GET", "/wiki/download/")
    assert not any(".assets" in f for f in _files(out))
    assert _state(out)["attachments"] == {}
    tree = ctk_cli(
        "--json",
        "export",
        confluence_sandbox.page_id("Getting Started"),
        str(tmp_path / "tree"),
        env=off,
    )
    assert tree.exit_code == 0, tree
    assert tree.json()["downloaded"] == 0
    assert tree.json()["attachments_skipped"]
    # attachments of an earlier run stay as they are, neither reported deleted nor pruned
    _export(ctk_cli, "--space", "DEMO", out)
    kept = [f for f in _files(out) if ".assets" in f]
    assert kept
    summary = ctk_cli("--json", "export", "--space", "DEMO", str(out), "--prune", env=off).json()
    assert summary["deleted"] == []
    assert summary["pruned"] == 0
    assert [f for f in _files(out) if ".assets" in f] == kept


def _record_as_push_does(out: Path, page_id: str, file: str, title: str, version: int, parent):
    """What ``ctk push`` records in the export state for a page it made or left as it is."""
    saved = _state(out)
    name = file[:-3].rpartition("/")[2]
    saved["pages"][page_id] = {
        "version": version,
        "file": file,
        "title": title,
        "slug": name,
        "parent_id": parent,
        "hash": hashlib.sha256((out / file).read_bytes()).hexdigest(),
    }
    (out / STATE_NAME).write_text(json.dumps(saved))


def test_files_renamed_or_made_here_and_pushed_keep_their_names(
    ctk_cli, confluence_sandbox, tmp_path
):
    out = tmp_path / "out"
    _export(ctk_cli, "--space", "DEMO", out)
    state = confluence_sandbox.state
    api = state.pages[confluence_sandbox.page_id("API Design")]
    arch = confluence_sandbox.page_id("Architecture")
    old = _file_of(out, api["id"])
    renamed = old.replace("api-design.md", "api-design-renamed.md")
    (out / old).rename(out / renamed)
    folder = old.rpartition("/")[0]
    made = f"{folder}/brand-new.md"
    (out / made).write_text("---\ntitle: Brand New Page\n---\nMade here.\n")
    with state.lock:
        new = state.create_page(
            confluence_sandbox.space_id("DEMO"), "Brand New Page", "<p>Made here.</p>", arch
        )
        state.save()
    _record_as_push_does(out, api["id"], renamed, "API Design", api["version"]["number"], arch)
    _record_as_push_does(out, new["id"], made, "Brand New Page", 1, arch)
    # an attachment pushed from the page's .assets folder under a name of the user's
    from ctk_core.sandbox.routes_attachments import attach_file

    sketch = out / renamed.replace(".md", ".assets") / "My Sketch.PNG"
    sketch.parent.mkdir()
    sketch.write_bytes(b"\x89PNG\r\n\x1a\n mine")
    with state.lock:
        att = attach_file(state, api["id"], sketch, filename="My Sketch.PNG")
        state.save()
    saved = _state(out)
    saved["attachments"][att["id"]] = {
        "page_id": api["id"],
        "version": att["version"]["number"],
        "file": str(sketch.relative_to(out)),
        "title": "My Sketch.PNG",
        "size": sketch.stat().st_size,
        "hash": hashlib.sha256(sketch.read_bytes()).hexdigest(),
    }
    (out / STATE_NAME).write_text(json.dumps(saved))
    plan = ctk_cli("--json", "export", "--space", "DEMO", str(out), "--dry-run").json()
    assert plan["fetch"] == plan["move"] == plan["conflict"] == plan["download"] == []
    summary = _export(ctk_cli, "--space", "DEMO", out)
    assert summary["written"] == summary["moved"] == summary["downloaded"] == 0
    assert sketch.read_bytes() == b"\x89PNG\r\n\x1a\n mine"
    assert (out / renamed).is_file()
    assert (out / made).read_text().endswith("Made here.\n")
    assert not (out / old).exists()
    assert not (out / f"{folder}/brand-new-page.md").exists()
    # renamed in Confluence: the page's file takes its new title's name
    with state.lock:
        state.update_page(api, title="API Reference")
        state.save()
    _export(ctk_cli, "--space", "DEMO", out)
    assert _file_of(out, api["id"]) == f"{folder}/api-reference.md"
    assert not (out / renamed).exists()


def test_a_dir_that_is_a_file_is_a_usage_error_before_any_request(
    ctk_cli, confluence_sandbox, tmp_path
):
    afile = tmp_path / "afile"
    afile.write_text("hi\n")
    for target in (afile, afile / "sub"):
        for extra in ((), ("--dry-run",)):
            confluence_sandbox.requests.clear()
            result = ctk_cli("export", "--space", "DEMO", str(target), *extra)
            assert result.exit_code == 2, result
            assert "is not a folder" in result.stderr
            assert confluence_sandbox.requests.entries() == []
    assert afile.read_text() == "hi\n"


def test_prune_keeps_edited_files_and_files_of_yours_in_assets(
    ctk_cli, confluence_sandbox, tmp_path
):
    from ctk_core.sandbox.routes_attachments import attach_file

    out = tmp_path / "out"
    release = confluence_sandbox.page_id("Release 1.0")
    model = confluence_sandbox.page_id("Data Model")
    source = tmp_path / "schema.txt"
    source.write_text("the schema\n")
    with confluence_sandbox.state.lock:
        attach_file(confluence_sandbox.state, model, source, filename="schema.txt")
        confluence_sandbox.state.save()
    _export(ctk_cli, "--space", "DEMO", out)
    notes = out / _file_of(out, release)
    notes.write_text(notes.read_text(encoding="utf-8") + "\nIMPORTANT LOCAL WORK\n")
    model_file = _file_of(out, model)
    assets = out / model_file.replace(".md", ".assets")
    exported = [e["file"] for e in _state(out)["attachments"].values() if e["page_id"] == model]
    assert exported
    (assets / "sketch.txt").write_text("mine\n")
    _trash(confluence_sandbox, release)
    _trash(confluence_sandbox, model)
    plan = ctk_cli("--json", "export", "--space", "DEMO", str(out), "--dry-run", "--prune").json()
    assert plan["conflict"] == [_file_of(out, release)]
    result = ctk_cli("--json", "export", "--space", "DEMO", str(out), "--prune")
    assert result.exit_code == 6, result
    assert _file_of(out, release) in result.stderr
    assert result.json()["conflicts"] == [_file_of(out, release)]
    assert "IMPORTANT LOCAL WORK" in notes.read_text()
    assert not (out / model_file).exists()
    assert not any((out / f).exists() for f in exported)
    assert (assets / "sketch.txt").read_text() == "mine\n"
    assert result.json()["left"] == [model_file.replace(".md", ".assets")]
    assert model not in _state(out)["pages"]
    # kept and still listed on the next run; --force removes it
    assert ctk_cli("export", "--space", "DEMO", str(out), "--prune").exit_code == 6
    summary = _export(ctk_cli, "--space", "DEMO", out, "--prune", "--force")
    assert summary["pruned"] == 1
    assert not notes.exists()
    assert release not in _state(out)["pages"]
    assert (assets / "sketch.txt").is_file()


def test_an_unknown_space_is_not_found_and_an_empty_listing_prunes_nothing(
    ctk_cli, confluence_sandbox, tmp_path
):
    nope = tmp_path / "nope"
    result = ctk_cli("export", "--space", "NOPE", str(nope))
    assert result.exit_code == 5, result
    assert "NOPE" in result.stderr
    assert not (nope / STATE_NAME).exists()

    out = tmp_path / "out"
    _export(ctk_cli, "--space", "DEMO", out)
    files = _files(out)
    demo = confluence_sandbox.space_id("DEMO")
    with confluence_sandbox.state.lock:
        for page in confluence_sandbox.state.pages.values():
            if page["spaceId"] == demo:
                page["status"] = "trashed"
        confluence_sandbox.state.save()
    for extra in (("--dry-run",), ()):
        refused = ctk_cli("export", "--space", "DEMO", str(out), "--prune", *extra)
        assert refused.exit_code == 2, refused
        assert "refusing to prune them all" in refused.stderr
    assert _files(out) == files


def test_made_renamed_and_moved_here_then_pushed_then_exported(
    ctk_cli, confluence_sandbox, tmp_path
):
    writes = {"CTK_ENABLE_WRITES": "true"}
    out = tmp_path / "out"
    _export(ctk_cli, "--space", "DEMO", out)
    team = out / "demo-space" / "team-handbook"
    arch = out / "demo-space" / "architecture"
    (team / "notes.md").write_text("Some team notes.\n")
    (arch / "api-design.md").rename(arch / "api-design-renamed.md")
    (arch / "brand-new.md").write_text("---\ntitle: Brand New Page\n---\nNew body.\n")
    assert ctk_cli("push", str(out), "--space", "DEMO", env=writes).exit_code == 0
    (arch / "brand-new.md").rename(team / "brand-new.md")  # moved to another folder
    assert ctk_cli("push", str(out), "--space", "DEMO", env=writes).exit_code == 0
    before = {f: (out / f).read_bytes() for f in _files(out)}
    summary = _export(ctk_cli, "--space", "DEMO", out)
    assert summary["conflicts"] == []
    assert summary["written"] == summary["moved"] == 0
    assert {f: (out / f).read_bytes() for f in _files(out)} == before  # no second copy
    # a change in Confluence is written over the file, under the name given here
    notes = next(i for i, e in _state(out)["pages"].items() if e["file"].endswith("/notes.md"))
    with confluence_sandbox.state.lock:
        state = confluence_sandbox.state
        state.update_page(state.pages[notes], body="<p>Changed remotely.</p>")
        state.save()
    summary = _export(ctk_cli, "--space", "DEMO", out)
    assert summary["written"] == 1
    assert "Changed remotely." in (team / "notes.md").read_text()
    assert sorted(_files(out)) == sorted(before)
