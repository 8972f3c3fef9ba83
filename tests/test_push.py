"""``ctk push`` against the sandbox over HTTP: round trip with export, request economy, renames,
conflicts, an interrupted push, links and images, dry runs and the policy."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ctk_core.mirror import frontmatter
from ctk_core.mirror.push import STATE_NAME
from ctk_core.policy import WRITES_DISABLED_MESSAGE

WRITES = {"CTK_ENABLE_WRITES": "true"}
LISTING_PATHS = ("/wiki/api/v2/spaces",)

#: Front matter fields that name the copy rather than the content: the round trip compares
#: everything else (the body, title, labels, the files and their places, attachment bytes).
COPY_FIELDS = ("id", "parent_id", "space", "version", "author", "last_modified", "url")


def normalised(folder: Path) -> dict[str, object]:
    """The export in ``folder`` without what differs between two copies of one tree: the
    state files, and the front matter fields of :data:`COPY_FIELDS`. Every other byte counts."""
    out: dict[str, object] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if not path.is_file() or rel.startswith(".ctk-"):
            continue
        if rel.endswith(".md"):
            meta, body = frontmatter.parse(path.read_text(encoding="utf-8"))
            out[rel] = ({k: v for k, v in meta.items() if k not in COPY_FIELDS}, body)
        else:
            out[rel] = path.read_bytes()
    return out


def _export(ctk_cli, *args):
    result = ctk_cli("export", *[str(a) for a in args], "--json")
    assert result.exit_code == 0, result.stderr
    return result.json()


def _push(ctk_cli, folder, *args, code=0):
    result = ctk_cli("push", str(folder), *[str(a) for a in args], "--json", env=WRITES)
    assert result.exit_code == code, result.stderr
    return result


def _new_space(sandbox, key="COPY", name="Copy space"):
    with sandbox.state.lock:
        space = sandbox.state.create_space(key, name)
        sandbox.state.save()
    return space


def _pages(sandbox, key):
    sid = sandbox.space_id(key)
    return [
        p for p in sandbox.state.pages.values() if p["spaceId"] == sid and p["status"] == "current"
    ]


def _writes(sandbox):
    return [(e["method"], e["path"]) for e in sandbox.requests.entries() if e["method"] != "GET"]


def _only_listing(sandbox):
    sent = sandbox.requests.entries()
    assert sent, "no request at all"
    assert {e["method"] for e in sent} == {"GET"}
    assert all(e["path"].startswith(LISTING_PATHS) for e in sent), [e["path"] for e in sent]
    return len(sent)


def _write_tree(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def _page(sandbox, key, title):
    return next(p for p in _pages(sandbox, key) if p["title"] == title)


# ------------------------------------------------------------------------------ round trip


def test_round_trip_export_push_export(ctk_cli, confluence_sandbox, tmp_path):
    first = tmp_path / "demo"
    _export(ctk_cli, "--space", "DEMO", first)
    _new_space(confluence_sandbox)
    summary = _push(ctk_cli, first, "--space", "COPY").json()
    demo = _pages(confluence_sandbox, "DEMO")
    assert summary["created"] == summary["pages"] == len(demo)
    assert summary["conflicts"] == []
    copy = _pages(confluence_sandbox, "COPY")
    assert len(copy) == len(demo) + 1  # and the copy space's own home page
    assert len({p["title"] for p in copy}) == len(copy)

    second = tmp_path / "copy"
    _export(ctk_cli, "--space", "COPY", second)
    # The copy's tree hangs under the COPY home page (copy-space/index.md).
    home = second / "copy-space"
    (home / "index.md").unlink()
    before, after = normalised(first), normalised(home)
    assert sorted(after) == sorted(before)
    for rel in before:
        assert after[rel] == before[rel], rel
    assert any(rel.endswith((".png", ".txt", ".pdf")) for rel in before)  # attachments compared


def test_an_exported_folder_pushes_back_to_the_same_pages(ctk_cli, confluence_sandbox, tmp_path):
    out = tmp_path / "demo"
    _export(ctk_cli, "--space", "DEMO", out)
    confluence_sandbox.requests.clear()
    summary = _push(ctk_cli, out, "--space", "DEMO").json()
    assert summary["unchanged"] == summary["pages"] > 0
    assert summary["created"] == summary["updated"] == summary["uploaded"] == 0
    assert _only_listing(confluence_sandbox) == 2  # the space, then one listing of its pages


# ------------------------------------------------------------------------------ economy


def test_unchanged_push_sends_only_the_bulk_listing(ctk_cli, confluence_sandbox, tmp_path):
    out = tmp_path / "demo"
    _export(ctk_cli, "--space", "DEMO", out)
    _new_space(confluence_sandbox)
    _push(ctk_cli, out, "--space", "COPY")
    assert (out / STATE_NAME).is_file()
    confluence_sandbox.requests.clear()
    summary = _push(ctk_cli, out, "--space", "COPY").json()
    assert summary["unchanged"] == summary["pages"]
    assert _only_listing(confluence_sandbox) == 2


def test_editing_one_file_updates_exactly_one_page(ctk_cli, confluence_sandbox, tmp_path):
    out = tmp_path / "demo"
    _export(ctk_cli, "--space", "DEMO", out)
    _new_space(confluence_sandbox)
    _push(ctk_cli, out, "--space", "COPY")
    edited = next(out.rglob("api-design.md"))
    edited.write_text(edited.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    page = _page(confluence_sandbox, "COPY", "API Design")
    version = page["version"]["number"]
    confluence_sandbox.requests.clear()
    summary = _push(ctk_cli, out, "--space", "COPY").json()
    assert summary["updated"] == 1
    assert summary["unchanged"] == summary["pages"] - 1
    assert _writes(confluence_sandbox) == [("PUT", f"/wiki/api/v2/pages/{page['id']}")]
    assert len(confluence_sandbox.requests.entries()) == 3  # space, listing, the PUT
    page = _page(confluence_sandbox, "COPY", "API Design")
    assert page["version"]["number"] == version + 1
    assert "One more line." in page["body"]


def test_edit_of_an_exported_file_pushes_to_the_exported_page(
    ctk_cli, confluence_sandbox, tmp_path
):
    out = tmp_path / "demo"
    _export(ctk_cli, "--space", "DEMO", out)
    edited = next(out.rglob("data-model.md"))
    edited.write_text(edited.read_text(encoding="utf-8") + "\nEdited here.\n", encoding="utf-8")
    pid = frontmatter.parse(edited.read_text(encoding="utf-8"))[0]["id"]
    confluence_sandbox.requests.clear()
    summary = _push(ctk_cli, out, "--space", "DEMO").json()
    assert summary["updated"] == 1
    assert _writes(confluence_sandbox) == [("PUT", f"/wiki/api/v2/pages/{pid}")]
    assert "Edited here." in confluence_sandbox.state.pages[pid]["body"]


# ------------------------------------------------------------------------------ renames, moves


HAND_MADE = {
    "index.md": (
        "---\ntitle: Handbook\nlabels: [docs]\n---\n\nWelcome. See [the guide](guide.md).\n"
    ),
    "guide.md": "# Guide\n\nHow we work.\n",
    "team/index.md": "---\ntitle: Team\n---\n\nThe team.\n",
    "team/on-call.md": "Who is on call.\n",
    "notes/meeting.md": "Minutes of a meeting.\n",
}


def test_a_hand_made_folder_becomes_a_tree(ctk_cli, confluence_sandbox, tmp_path):
    _write_tree(tmp_path / "hb", HAND_MADE)
    _new_space(confluence_sandbox)
    summary = _push(ctk_cli, tmp_path / "hb", "--space", "COPY").json()
    assert summary["created"] == 5
    assert summary["folders_created"] == 1
    state = confluence_sandbox.state
    top = _page(confluence_sandbox, "COPY", "Handbook")
    assert top["parentId"] == state.space_by_key("COPY")["homepageId"]
    assert _page(confluence_sandbox, "COPY", "Guide")["parentId"] == top["id"]
    team = _page(confluence_sandbox, "COPY", "Team")
    assert team["parentId"] == top["id"]
    assert _page(confluence_sandbox, "COPY", "On call")["parentId"] == team["id"]
    folder = next(f for f in state.folders.values() if f["title"] == "Notes")
    assert folder["parentId"] == top["id"]
    assert _page(confluence_sandbox, "COPY", "Meeting")["parentId"] == folder["id"]
    labels = [state.labels[i]["name"] for i in state.content_labels.get(top["id"], [])]
    assert labels == ["docs"]
    assert '<ri:page ri:content-title="Guide"' in top["body"]


def test_a_renamed_file_renames_one_page_and_a_moved_file_moves_one(
    ctk_cli, confluence_sandbox, tmp_path
):
    root = tmp_path / "hb"
    _write_tree(root, HAND_MADE)
    _new_space(confluence_sandbox)
    _push(ctk_cli, root, "--space", "COPY")
    guide = _page(confluence_sandbox, "COPY", "Guide")
    count = len(_pages(confluence_sandbox, "COPY"))

    (root / "guide.md").rename(root / "user-guide.md")  # the title comes from the name
    (root / "index.md").write_text(
        HAND_MADE["index.md"].replace("guide.md", "user-guide.md"), encoding="utf-8"
    )
    confluence_sandbox.requests.clear()
    summary = _push(ctk_cli, root, "--space", "COPY").json()
    assert summary["created"] == 0
    assert summary["updated"] == 2  # the renamed page, and the page whose link names it
    renamed = confluence_sandbox.state.pages[guide["id"]]
    assert renamed["title"] == "User guide"
    assert len(_pages(confluence_sandbox, "COPY")) == count
    assert sorted(_writes(confluence_sandbox)) == sorted(
        [
            ("PUT", f"/wiki/api/v2/pages/{guide['id']}"),
            ("PUT", f"/wiki/api/v2/pages/{_page(confluence_sandbox, 'COPY', 'Handbook')['id']}"),
        ]
    )

    (root / "team" / "user-guide.md").write_bytes((root / "user-guide.md").read_bytes())
    (root / "user-guide.md").unlink()
    (root / "index.md").write_text(
        HAND_MADE["index.md"].replace("guide.md", "team/user-guide.md"), encoding="utf-8"
    )  # the link follows the file: the same target, so that page is unchanged
    confluence_sandbox.requests.clear()
    summary = _push(ctk_cli, root, "--space", "COPY").json()
    assert (summary["moved"], summary["created"]) == (1, 0)
    team = _page(confluence_sandbox, "COPY", "Team")
    assert confluence_sandbox.state.pages[guide["id"]]["parentId"] == team["id"]
    assert _writes(confluence_sandbox) == [("PUT", f"/wiki/api/v2/pages/{guide['id']}")]
    assert len(_pages(confluence_sandbox, "COPY")) == count


def test_prune_deletes_only_when_asked(ctk_cli, confluence_sandbox, tmp_path):
    root = tmp_path / "hb"
    _write_tree(root, HAND_MADE)
    _new_space(confluence_sandbox)
    _push(ctk_cli, root, "--space", "COPY")
    pid = _page(confluence_sandbox, "COPY", "On call")["id"]
    (root / "team" / "on-call.md").unlink()
    summary = _push(ctk_cli, root, "--space", "COPY").json()
    assert summary["not_deleted"] == ["team/on-call.md"]
    assert confluence_sandbox.state.pages[pid]["status"] == "current"
    summary = _push(ctk_cli, root, "--space", "COPY", "--prune").json()
    assert summary["deleted"] == 1
    assert confluence_sandbox.state.pages[pid]["status"] == "trashed"


# ------------------------------------------------------------------------------ conflicts


def test_a_page_changed_on_both_sides_is_refused_then_forced(ctk_cli, confluence_sandbox, tmp_path):
    root = tmp_path / "hb"
    _write_tree(root, HAND_MADE)
    _new_space(confluence_sandbox)
    _push(ctk_cli, root, "--space", "COPY")
    state = confluence_sandbox.state
    guide = _page(confluence_sandbox, "COPY", "Guide")
    with state.lock:
        state.update_page(guide, body="<p>Changed in Confluence.</p>")
        state.save()
    (root / "guide.md").write_text("# Guide\n\nChanged here.\n", encoding="utf-8")
    (root / "team" / "on-call.md").write_text("Who is on call, and when.\n", encoding="utf-8")
    confluence_sandbox.requests.clear()
    result = _push(ctk_cli, root, "--space", "COPY", code=6)
    assert result.stderr.startswith("Error: 1 page(s) changed both here and in Confluence")
    assert "guide.md" in result.stderr
    assert guide["id"] in result.stderr
    assert "--force" in result.stderr
    assert result.json()["conflicts"][0]["file"] == "guide.md"
    assert state.pages[guide["id"]]["body"] == "<p>Changed in Confluence.</p>"
    on_call = _page(confluence_sandbox, "COPY", "On call")
    assert _writes(confluence_sandbox) == [("PUT", f"/wiki/api/v2/pages/{on_call['id']}")]

    again = _push(ctk_cli, root, "--space", "COPY", code=6)  # still refused: nothing recorded
    assert "guide.md" in again.stderr
    forced = _push(ctk_cli, root, "--space", "COPY", "--force").json()
    assert forced["updated"] == 1
    assert "Changed here." in state.pages[guide["id"]]["body"]
    assert _push(ctk_cli, root, "--space", "COPY").json()["unchanged"] == 5


def test_a_page_changed_only_in_confluence_is_left_alone(ctk_cli, confluence_sandbox, tmp_path):
    root = tmp_path / "hb"
    _write_tree(root, HAND_MADE)
    _new_space(confluence_sandbox)
    _push(ctk_cli, root, "--space", "COPY")
    state = confluence_sandbox.state
    guide = _page(confluence_sandbox, "COPY", "Guide")
    with state.lock:
        state.update_page(guide, body="<p>Changed in Confluence.</p>")
        state.save()
    confluence_sandbox.requests.clear()
    summary = _push(ctk_cli, root, "--space", "COPY").json()
    assert summary["kept"] == ["guide.md"]
    assert _writes(confluence_sandbox) == []
    # A later local edit of that page is a conflict, never an overwrite.
    (root / "guide.md").write_text("# Guide\n\nChanged here.\n", encoding="utf-8")
    _push(ctk_cli, root, "--space", "COPY", code=6)
    assert state.pages[guide["id"]]["body"] == "<p>Changed in Confluence.</p>"


def test_an_exported_page_changed_on_both_sides_is_a_conflict(
    ctk_cli, confluence_sandbox, tmp_path
):
    out = tmp_path / "demo"
    _export(ctk_cli, "--space", "DEMO", out)
    state = confluence_sandbox.state
    pid = confluence_sandbox.page_id("Data Model")
    with state.lock:
        state.update_page(state.pages[pid], body="<p>Meanwhile in Confluence.</p>")
        state.save()
    edited = next(out.rglob("data-model.md"))
    edited.write_text(edited.read_text(encoding="utf-8") + "\nEdited here.\n", encoding="utf-8")
    confluence_sandbox.requests.clear()
    result = _push(ctk_cli, out, "--space", "DEMO", code=6)
    assert "data-model.md" in result.stderr
    assert _writes(confluence_sandbox) == []


# ------------------------------------------------------------------------------ interrupted


def test_an_interrupted_push_is_finished_by_the_rerun(ctk_cli, confluence_sandbox, tmp_path):
    out = tmp_path / "demo"
    _export(ctk_cli, "--space", "DEMO", out)
    _new_space(confluence_sandbox)
    # The 6th page creation is made, then its answer is lost (the connection drops).
    confluence_sandbox.fault(
        {"kind": "close", "method": "POST", "path": "/wiki/api/v2/pages", "every": 6, "count": 1}
    )
    result = ctk_cli("push", str(out), "--space", "COPY", env=WRITES)
    assert result.exit_code == 8, result.stderr
    made = len(_pages(confluence_sandbox, "COPY"))
    assert 1 < made < len(_pages(confluence_sandbox, "DEMO"))
    summary = _push(ctk_cli, out, "--space", "COPY").json()
    assert summary["conflicts"] == []
    copy = _pages(confluence_sandbox, "COPY")
    assert len(copy) == len(_pages(confluence_sandbox, "DEMO")) + 1
    assert len({p["title"] for p in copy}) == len(copy)  # no page twice
    assert summary["created"] == len(copy) - made
    # and the result is the tree that was pushed
    again = tmp_path / "copy"
    _export(ctk_cli, "--space", "COPY", again)
    (again / "copy-space" / "index.md").unlink()
    assert normalised(again / "copy-space") == normalised(out)


# ------------------------------------------------------------------------------ links, images


def test_links_and_images_are_rewritten_and_files_uploaded(ctk_cli, confluence_sandbox, tmp_path):
    root = tmp_path / "site"
    site = confluence_sandbox.url
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 64
    _write_tree(
        root,
        {
            "index.md": (
                "Read [the guide](guide.md#Setup) and ![diagram](img/diagram.png).\n\n"
                f"Outside: [team]({site}/wiki/display/TEAM/Team+Home), "
                "[by link](<confluence-page://TEAM/Team Home>), [web](https://example.com/x).\n\n"
                "`[not a link](guide.md)`\n"
            ),
            "guide.md": "Shot: ![shot](guide.assets/shot.png) and [home](index.md).\n",
            "guide.assets/shot.png": png,
            "img/diagram.png": png + b"1",
        },
    )
    _new_space(confluence_sandbox)
    _push(ctk_cli, root, "--space", "COPY")
    state = confluence_sandbox.state
    top = _page(confluence_sandbox, "COPY", "Site")
    guide = _page(confluence_sandbox, "COPY", "Guide")
    body = top["body"]
    assert '<ac:link ac:anchor="Setup"><ri:page ri:content-title="Guide"' in body
    assert '<ri:attachment ri:filename="diagram.png"' in body
    assert f'href="{site}/wiki/display/TEAM/Team+Home"' in body
    assert '<ri:page ri:content-title="Team Home" ri:space-key="TEAM"/>' in body
    assert 'href="https://example.com/x"' in body
    assert "<code>[not a link](guide.md)</code>" in body
    assert '<ri:attachment ri:filename="shot.png"' in guide["body"]
    assert '<ri:page ri:content-title="Site"' in guide["body"]
    attached = {
        (a["pageId"], a["title"]) for a in state.attachments.values() if a["status"] == "current"
    }
    assert (top["id"], "diagram.png") in attached
    assert (guide["id"], "shot.png") in attached

    confluence_sandbox.requests.clear()
    assert _push(ctk_cli, root, "--space", "COPY").json()["uploaded"] == 0
    _only_listing(confluence_sandbox)
    (root / "img" / "diagram.png").write_bytes(png + b"2")
    confluence_sandbox.requests.clear()
    summary = _push(ctk_cli, root, "--space", "COPY").json()
    assert (summary["uploaded"], summary["updated"]) == (1, 0)
    assert _writes(confluence_sandbox) == [
        ("PUT", f"/wiki/rest/api/content/{top['id']}/child/attachment")
    ]


def test_a_symlink_out_of_the_folder_is_refused(ctk_cli, confluence_sandbox, tmp_path):
    root = tmp_path / "site"
    _write_tree(root, {"index.md": "Hello.\n"})
    secret = tmp_path / "secret.md"
    secret.write_text("secret\n", encoding="utf-8")
    os.symlink(secret, root / "leak.md")
    confluence_sandbox.requests.clear()
    result = ctk_cli("push", str(root), "--space", "DEMO", env=WRITES)
    assert result.exit_code == 2
    assert "leak.md" in result.stderr
    assert "symbolic link" in result.stderr
    assert "outside the folder pushed" in result.stderr
    assert confluence_sandbox.requests.entries() == []


# ------------------------------------------------------------------------------ dry run, policy


def test_dry_run_sends_only_reads_and_changes_nothing(ctk_cli, confluence_sandbox, tmp_path):
    out = tmp_path / "demo"
    _export(ctk_cli, "--space", "DEMO", out)
    edited = next(out.rglob("api-design.md"))
    edited.write_text(edited.read_text(encoding="utf-8") + "\nDry.\n", encoding="utf-8")
    _new_space(confluence_sandbox)
    before = json.dumps(
        [confluence_sandbox.state.pages, confluence_sandbox.state.attachments], sort_keys=True
    )
    confluence_sandbox.requests.clear()
    plan = _push(ctk_cli, out, "--space", "DEMO", "--dry-run").json()
    assert [Path(f).name for f in plan["update"]] == ["api-design.md"]
    assert len(plan["unchanged"]) == plan["pages"] - 1
    text = ctk_cli("push", str(out), "--space", "COPY", "--dry-run")  # writes off: a plan reads
    assert text.exit_code == 0, text.stderr
    assert "Nothing changed (--dry-run)" in text.stdout
    assert "create    demo-space/index.md" in text.stdout
    assert {e["method"] for e in confluence_sandbox.requests.entries()} == {"GET"}
    after = json.dumps(
        [confluence_sandbox.state.pages, confluence_sandbox.state.attachments], sort_keys=True
    )
    assert after == before
    assert not (out / STATE_NAME).exists()


def test_writes_off_refuses_before_any_request(ctk_cli, confluence_sandbox, tmp_path):
    _write_tree(tmp_path / "hb", HAND_MADE)
    confluence_sandbox.requests.clear()
    result = ctk_cli("push", str(tmp_path / "hb"), "--space", "DEMO")
    assert result.exit_code == 4
    assert result.stderr == f"Error: {WRITES_DISABLED_MESSAGE}\n"
    assert confluence_sandbox.requests.entries() == []
    disabled = ctk_cli(
        "push",
        str(tmp_path / "hb"),
        "--space",
        "DEMO",
        env={**WRITES, "CTK_DISABLED_TOOLS": "manage_pages"},
    )
    assert disabled.exit_code == 4
    assert "CTK_DISABLED_TOOLS" in disabled.stderr
    assert "manage_pages" in disabled.stderr
    dry = ctk_cli(
        "push",
        str(tmp_path / "hb"),
        "--space",
        "DEMO",
        "--dry-run",
        env={"CTK_DISABLED_TOOLS": "manage_pages"},
    )
    assert dry.exit_code == 4
    assert confluence_sandbox.requests.entries() == []
    assert not (tmp_path / "hb" / STATE_NAME).exists()


def test_hidden_files_and_windows_paths_are_never_uploaded(ctk_cli, confluence_sandbox, tmp_path):
    root = tmp_path / "site"
    _write_tree(
        root,
        {
            "index.md": (
                "[cfg](.git/config) and ![x](.env) and [state](.ctk-push.json) and "
                "[hidden](notes/.secret.txt) and [back](a\\b.txt) and [drive](C:/boot.ini) "
                "and [ok](notes/ok.txt)\n"
            ),
            ".git/config": "[remote]\ntoken = x\n",
            ".env": "PASSWORD=x\n",
            "notes/.secret.txt": "secret\n",
            "a\\b.txt": "backslash\n",
            "notes/ok.txt": "fine\n",
        },
    )
    (root / ".ctk-push.json").write_text('{"format": 1, "targets": {}}\n', encoding="utf-8")
    plan = _push(ctk_cli, root, "--space", "DEMO", "--dry-run").json()
    assert plan["attachments"] == ["notes/ok.txt"]


def test_two_linked_files_with_one_name_get_two_attachment_names(
    ctk_cli, confluence_sandbox, tmp_path
):
    root = tmp_path / "site"
    _write_tree(
        root,
        {
            "index.md": "![a](one/shot.png) ![b](two/shot.png) ![a again](one/shot.png)\n",
            "one/shot.png": b"one",
            "two/shot.png": b"two",
        },
    )
    _new_space(confluence_sandbox)
    summary = _push(ctk_cli, root, "--space", "COPY").json()
    assert summary["uploaded"] == 2
    top = _page(confluence_sandbox, "COPY", "Site")
    attached = sorted(
        a["title"]
        for a in confluence_sandbox.state.attachments.values()
        if a["pageId"] == top["id"] and a["status"] == "current"
    )
    assert attached == ["shot-2.png", "shot.png"]
    assert top["body"].count('ri:filename="shot.png"') == 2
    assert top["body"].count('ri:filename="shot-2.png"') == 1


# ------------------------------------------------------------------------------ review fixes


def test_prune_refuses_a_page_changed_in_confluence_since(ctk_cli, confluence_sandbox, tmp_path):
    root = tmp_path / "hb"
    _write_tree(root, HAND_MADE)
    _new_space(confluence_sandbox)
    _push(ctk_cli, root, "--space", "COPY")
    state = confluence_sandbox.state
    on_call = _page(confluence_sandbox, "COPY", "On call")
    with state.lock:
        state.update_page(on_call, body="<p>A colleague's edit.</p>")
        state.save()
    (root / "team" / "on-call.md").unlink()
    plan = _push(ctk_cli, root, "--space", "COPY", "--dry-run").json()
    assert plan["delete"] == []
    assert [c["file"] for c in plan["delete_conflict"]] == ["team/on-call.md"]
    confluence_sandbox.requests.clear()
    result = _push(ctk_cli, root, "--space", "COPY", "--prune", code=6)
    assert "team/on-call.md (deleted here, page" in result.stderr
    assert _writes(confluence_sandbox) == []
    assert state.pages[on_call["id"]]["status"] == "current"
    assert _push(ctk_cli, root, "--space", "COPY").json()["not_deleted"] == ["team/on-call.md"]
    forced = _push(ctk_cli, root, "--space", "COPY", "--prune", "--force").json()
    assert forced["deleted"] == 1
    assert state.pages[on_call["id"]]["status"] == "trashed"


def test_a_page_moved_in_confluence_stays_there(ctk_cli, confluence_sandbox, tmp_path):
    root = tmp_path / "hb"
    _write_tree(root, HAND_MADE)
    _new_space(confluence_sandbox)
    _push(ctk_cli, root, "--space", "COPY")
    state = confluence_sandbox.state
    home = state.space_by_key("COPY")["homepageId"]
    on_call = _page(confluence_sandbox, "COPY", "On call")
    moved = ctk_cli("pages", "move", on_call["id"], "--parent", home, env=WRITES)
    assert moved.exit_code == 0, moved.stderr
    plan = _push(ctk_cli, root, "--space", "COPY", "--dry-run").json()
    assert plan["move"] == []
    confluence_sandbox.requests.clear()
    summary = _push(ctk_cli, root, "--space", "COPY").json()
    assert summary["moved"] == 0
    assert _writes(confluence_sandbox) == []
    assert state.pages[on_call["id"]]["parentId"] == home
    assert _push(ctk_cli, root, "--space", "COPY").json()["moved"] == 0  # and on every rerun

    # Moved here as well, somewhere else: a conflict, then --force moves it.
    (root / "notes" / "on-call.md").write_bytes((root / "team" / "on-call.md").read_bytes())
    (root / "team" / "on-call.md").unlink()
    confluence_sandbox.requests.clear()
    result = _push(ctk_cli, root, "--space", "COPY", code=6)
    assert "notes/on-call.md (moved here and in Confluence, page" in result.stderr
    assert result.json()["conflicts"][0]["reason"] == "place"
    assert _writes(confluence_sandbox) == []
    assert state.pages[on_call["id"]]["parentId"] == home
    forced = _push(ctk_cli, root, "--space", "COPY", "--force").json()
    assert forced["moved"] == 1
    notes = next(f for f in state.folders.values() if f["title"] == "Notes")
    assert state.pages[on_call["id"]]["parentId"] == notes["id"]


def test_duplicate_titles_are_refused_before_any_write(ctk_cli, confluence_sandbox, tmp_path):
    root = tmp_path / "two"
    _write_tree(root, {"a/overview.md": "A.\n", "b/overview.md": "B.\n"})
    _new_space(confluence_sandbox)
    confluence_sandbox.requests.clear()
    for extra in (("--dry-run",), ()):
        result = _push(ctk_cli, root, "--space", "COPY", *extra, code=2)
        assert "a/overview.md" in result.stderr
        assert "b/overview.md" in result.stderr
        assert "'Overview'" in result.stderr
    assert _writes(confluence_sandbox) == []

    other = tmp_path / "clash"
    _write_tree(other, {"index.md": "Top.\n", "data.md": "---\ntitle: Data Model\n---\n\nMine.\n"})
    confluence_sandbox.requests.clear()
    result = _push(ctk_cli, other, "--space", "DEMO", code=2)
    pid = confluence_sandbox.page_id("Data Model")
    assert f"already has a page titled 'Data Model' (page {pid})" in result.stderr
    assert _writes(confluence_sandbox) == []


def test_an_update_is_recorded_even_when_its_labels_then_fail(
    ctk_cli, confluence_sandbox, tmp_path
):
    root = tmp_path / "hb"
    _write_tree(root, HAND_MADE)
    _new_space(confluence_sandbox)
    _push(ctk_cli, root, "--space", "COPY")
    guide = _page(confluence_sandbox, "COPY", "Guide")
    (root / "guide.md").write_text(
        "---\nlabels: [howto]\n---\n\n# Guide\n\nHow we work now.\n", encoding="utf-8"
    )
    fault = {"kind": "500", "method": "POST", "path": f"/wiki/rest/api/content/{guide['id']}/label"}
    confluence_sandbox.fault(fault)
    result = ctk_cli("push", str(root), "--space", "COPY", env=WRITES)
    assert result.exit_code != 0
    assert "How we work now." in confluence_sandbox.state.pages[guide["id"]]["body"]
    confluence_sandbox.faults.clear()
    summary = _push(ctk_cli, root, "--space", "COPY").json()
    assert summary["conflicts"] == []
    assert (summary["updated"], summary["labelled"]) == (0, 1)


def test_uploads_are_refused_while_attachments_are_disabled(ctk_cli, confluence_sandbox, tmp_path):
    root = tmp_path / "site"
    _write_tree(root, {"index.md": "![a](shot.png)\n", "shot.png": b"png"})
    _new_space(confluence_sandbox)
    off = {"CTK_DISABLED_TOOLS": "manage_attachments"}
    dry = ctk_cli("push", str(root), "--space", "COPY", "--dry-run", env=off)
    assert dry.exit_code == 4
    assert "manage_attachments" in dry.stderr
    confluence_sandbox.requests.clear()
    real = ctk_cli("push", str(root), "--space", "COPY", env={**WRITES, **off})
    assert real.exit_code == 4
    assert "manage_attachments" in real.stderr
    assert _writes(confluence_sandbox) == []
    assert [p["title"] for p in _pages(confluence_sandbox, "COPY")] == ["Copy space"]
    # Without a file to upload, the same push goes ahead.
    (root / "index.md").write_text("No picture.\n", encoding="utf-8")
    assert ctk_cli("push", str(root), "--space", "COPY", env={**WRITES, **off}).exit_code == 0


# ------------------------------------------------------------------------------ push, then export


def _edit(path: Path, extra: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + extra, encoding="utf-8")


def test_export_edit_create_rename_move_push_export_push(ctk_cli, confluence_sandbox, tmp_path):
    out = tmp_path / "demo"
    _export(ctk_cli, "--space", "DEMO", out)
    home = out / "demo-space"
    arch, guide = home / "architecture", home / "getting-started"
    _edit(arch / "data-model.md", "\nEdited here.\n")  # edited
    _write_tree(  # created: one named after its file, one under another title, with a file
        home,
        {
            "team-handbook/notes.md": "Some team notes.\n",
            "architecture/brand-new.md": (
                "---\ntitle: Brand New Page\n---\n\n"
                "See [the sketch](brand-new.assets/sketch.txt).\n"
            ),
            "architecture/brand-new.assets/sketch.txt": "a sketch\n",
        },
    )
    (arch / "api-design.md").rename(arch / "api-design-renamed.md")  # renamed
    index = (arch / "index.md").read_text(encoding="utf-8")
    (arch / "index.md").write_text(index.replace("api-design.md", "api-design-renamed.md"))
    linux = guide / "installation" / "installing-on-linux.md"  # moved
    linux.rename(home / "team-handbook" / "installing-on-linux.md")
    text = (guide / "index.md").read_text(encoding="utf-8")
    (guide / "index.md").write_text(
        text.replace(
            "installation/installing-on-linux.md", "../team-handbook/installing-on-linux.md"
        )
    )
    pushed = _push(ctk_cli, out, "--space", "DEMO").json()
    assert (pushed["created"], pushed["moved"], pushed["uploaded"]) == (2, 1, 1)
    assert pushed["conflicts"] == []
    assert pushed["broken_links"] == []
    files_before = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())

    confluence_sandbox.requests.clear()
    again = _export(ctk_cli, "--space", "DEMO", out)  # no conflict, nothing fetched again
    assert (again["written"], again["downloaded"], again["moved"]) == (0, 0, 0)
    sent = confluence_sandbox.requests.entries()
    assert all(e["path"] == "/wiki/rest/api/content/search" for e in sent), sent
    files_after = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files_after == files_before  # no second copy, the user's names and places kept
    assert "Edited here." in (arch / "data-model.md").read_text(encoding="utf-8")

    confluence_sandbox.requests.clear()
    final = _push(ctk_cli, out, "--space", "DEMO").json()
    assert final["unchanged"] == final["pages"]
    assert _only_listing(confluence_sandbox) == 2


def test_a_page_created_here_then_exported_is_no_conflict(ctk_cli, confluence_sandbox, tmp_path):
    out = tmp_path / "demo"
    _export(ctk_cli, "--space", "DEMO", out)
    notes = out / "demo-space" / "team-handbook" / "notes.md"
    notes.write_text("Some team notes.\n", encoding="utf-8")
    _push(ctk_cli, out, "--space", "DEMO")
    again = _export(ctk_cli, "--space", "DEMO", out)
    assert again["written"] == 0
    assert notes.read_text(encoding="utf-8") == "Some team notes.\n"


def test_an_edited_attachment_of_the_same_size_is_uploaded_after_an_export_rerun(
    ctk_cli, confluence_sandbox, tmp_path
):
    out = tmp_path / "demo"
    _export(ctk_cli, "--space", "DEMO", out)
    notes = out / "demo-space" / "getting-started" / "index.assets" / "notes.txt"
    data = notes.read_bytes()
    notes.write_bytes(data.swapcase())  # the same size
    _export(ctk_cli, "--space", "DEMO", out)  # a rerun saves its state file again
    summary = _push(ctk_cli, out, "--space", "DEMO").json()
    assert summary["uploaded"] == 1


def test_an_edit_after_exporting_a_kept_page_is_no_conflict(ctk_cli, confluence_sandbox, tmp_path):
    out = tmp_path / "demo"
    _export(ctk_cli, "--space", "DEMO", out)
    _push(ctk_cli, out, "--space", "DEMO")  # records every page at its version
    state = confluence_sandbox.state
    pid = confluence_sandbox.page_id("API Design")
    with state.lock:
        state.update_page(state.pages[pid], body="<p>Remote only edit API.</p>")
        state.save()
    assert _push(ctk_cli, out, "--space", "DEMO").json()["kept"] == [
        "demo-space/architecture/api-design.md"
    ]
    _export(ctk_cli, "--space", "DEMO", out)  # brings that version here
    api = out / "demo-space" / "architecture" / "api-design.md"
    assert "Remote only edit API." in api.read_text(encoding="utf-8")
    _edit(api, "\nEdited here after the export.\n")
    summary = _push(ctk_cli, out, "--space", "DEMO").json()
    assert summary["updated"] == 1
    assert summary["conflicts"] == []
    assert "Edited here after the export." in state.pages[pid]["body"]


def test_links_that_lead_nowhere_are_warned_about(ctk_cli, confluence_sandbox, tmp_path):
    root = tmp_path / "hb"
    _write_tree(
        root,
        {
            "index.md": "See [gone](api-design.md), [dir](My%20Dir/) and [ok](guide.md).\n",
            "guide.md": "The guide.\n",
            "My Dir/x.txt": "not a page\n",
        },
    )
    _new_space(confluence_sandbox)
    dry = ctk_cli("push", str(root), "--space", "COPY", "--dry-run", "--json")
    assert dry.exit_code == 0, dry.stderr
    assert dry.json()["broken_links"] == [
        {"file": "index.md", "link": "api-design.md"},
        {"file": "index.md", "link": "My%20Dir/"},
    ]
    assert "lead to no page or file" in dry.stderr
    assert "index.md: api-design.md" in dry.stderr
    result = _push(ctk_cli, root, "--space", "COPY")
    assert "index.md: My%20Dir/" in result.stderr
    assert len(result.json()["broken_links"]) == 2


def test_a_deleted_exported_file_is_listed_not_deleted(ctk_cli, confluence_sandbox, tmp_path):
    out = tmp_path / "demo"
    _export(ctk_cli, "--space", "DEMO", out)
    gone = "demo-space/getting-started/installation/installing-on-macos.md"
    (out / gone).unlink()
    plan = ctk_cli("push", str(out), "--space", "DEMO", "--dry-run", "--json")
    assert plan.json()["exported_gone"] == [gone]
    assert plan.json()["delete"] == []
    pid = confluence_sandbox.page_id("Installing on macOS")
    result = _push(ctk_cli, out, "--space", "DEMO", "--prune")
    assert result.json()["exported_gone"] == [gone]
    assert "never pushed from here" in result.stderr
    assert gone in result.stderr
    assert confluence_sandbox.state.pages[pid]["status"] == "current"


def test_a_prune_with_a_conflict_says_nothing_was_pushed_for_those_pages(
    ctk_cli, confluence_sandbox, tmp_path
):
    root = tmp_path / "hb"
    _write_tree(root, HAND_MADE)
    _new_space(confluence_sandbox)
    _push(ctk_cli, root, "--space", "COPY")
    state = confluence_sandbox.state
    guide = _page(confluence_sandbox, "COPY", "Guide")
    with state.lock:
        state.update_page(guide, body="<p>Changed in Confluence.</p>")
        state.save()
    (root / "guide.md").write_text("# Guide\n\nChanged here.\n", encoding="utf-8")
    (root / "team" / "on-call.md").unlink()
    result = _push(ctk_cli, root, "--space", "COPY", "--prune", code=6)
    assert result.json()["deleted"] == 1
    assert "Nothing was pushed for these pages." in result.stderr
    assert "overwritten or deleted" not in result.stderr


def test_an_empty_dir_is_a_usage_error(ctk_cli, confluence_sandbox, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "page.md").write_text("A page.\n", encoding="utf-8")
    confluence_sandbox.requests.clear()
    result = ctk_cli("push", "", "--space", "DEMO", env=WRITES)
    assert result.exit_code == 2, result.stderr
    assert confluence_sandbox.requests.entries() == []


def test_a_page_pushed_outside_an_exported_tree_is_not_pruned_by_the_export(
    ctk_cli, confluence_sandbox, tmp_path
):
    out = tmp_path / "arch"
    _export(ctk_cli, confluence_sandbox.page_id("Architecture"), out)
    (out / "scratch.md").write_text("Scratch notes.\n", encoding="utf-8")  # beside the tree
    assert _push(ctk_cli, out, "--space", "DEMO").json()["created"] == 1
    _export(ctk_cli, confluence_sandbox.page_id("Architecture"), out, "--prune")
    assert (out / "scratch.md").read_text(encoding="utf-8") == "Scratch notes.\n"


def test_an_edited_file_whose_labels_the_export_state_records_costs_no_labels_request(
    ctk_cli, confluence_sandbox, tmp_path
):
    out = tmp_path / "demo"
    _export(ctk_cli, "--space", "DEMO", out)
    _push(ctk_cli, out, "--space", "DEMO")  # records each page's labels in .ctk-export.json too
    (out / STATE_NAME).unlink()  # the push's own record gone: the export state is what is known
    edited = out / "demo-space" / "architecture" / "data-model.md"
    _edit(edited, "\nOne more line.\n")
    plan = ctk_cli("push", str(out), "--space", "DEMO", "--dry-run", "--json").json()
    assert plan["update"] == ["demo-space/architecture/data-model.md"]
    assert plan["labels"] == []
    confluence_sandbox.requests.clear()
    assert _push(ctk_cli, out, "--space", "DEMO").json()["updated"] == 1
    assert len(confluence_sandbox.requests.entries()) == 3  # space, listing, the PUT


def test_the_first_push_after_an_export_costs_no_labels_request(
    ctk_cli, confluence_sandbox, tmp_path
):
    # the export records each page's labels, so an edited exported file needs no labels read
    out = tmp_path / "demo"
    _export(ctk_cli, "--space", "DEMO", out)
    _edit(out / "demo-space" / "architecture" / "data-model.md", "\nOne more line.\n")
    plan = ctk_cli("push", str(out), "--space", "DEMO", "--dry-run", "--json").json()
    assert plan["update"] == ["demo-space/architecture/data-model.md"]
    assert plan["labels"] == []
    confluence_sandbox.requests.clear()
    assert _push(ctk_cli, out, "--space", "DEMO").json()["updated"] == 1
    assert len(confluence_sandbox.requests.entries()) == 3  # space, listing, the PUT
