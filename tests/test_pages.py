"""The pages plugin (``ctk pages`` / ``manage_pages``) through both front ends, against the
sandbox over real HTTP."""

from __future__ import annotations

import difflib
import json
import os
import re
import sys

import pytest
from resource_support import cli_json

from ctk_core.policy import WRITES_DISABLED_MESSAGE

WRITES = {"CTK_ENABLE_WRITES": "true"}
PAGE_FIELDS = [
    "id",
    "title",
    "status",
    "space_id",
    "space_key",
    "parent_id",
    "parent_type",
    "position",
    "version",
    "version_message",
    "author_id",
    "owner_id",
    "created_at",
    "updated_at",
    "updated_by",
    "web_url",
]


def cli_fails(ctk_cli, code, *args, env=None, input=None):
    result = ctk_cli(*args, env=env, input=input)
    assert result.exit_code == code, result
    assert "Traceback" not in result.stderr
    return result.stderr


@pytest.fixture
def demo(confluence_sandbox):
    sb = confluence_sandbox
    state = sb.state
    folder = next(f for f in state.folders.values() if f["title"] == "Meeting Notes")
    space = sb.space_id("DEMO")
    ids = {"space": space, "home": state.spaces[space]["homepageId"], "folder": folder["id"]}
    for title in (
        "Architecture",
        "Getting Started",
        "Installation",
        "Installing on Linux",
        "Release Notes",
        "Release 1.0",
        "Release 1.1",
        "2024-01-15 Planning",
        "Configuration",
        "Team Handbook",
    ):
        ids[title] = sb.page_id(title, "DEMO")
    return ids


def body_of(sandbox, page_id):
    return sandbox.state.pages[page_id]["body"]


def markdown(storage):
    """What ctk shows: mentions of the demo users read with their names."""
    from ctk_core.convert import storage_to_markdown
    from ctk_core.sandbox.seed import USERS

    return storage_to_markdown(storage, {account: name for account, name, _ in USERS})


# ------------------------------------------------------------------------------ get


def test_get_same_in_both_front_ends(ctk_cli, ctk_mcp, confluence_sandbox, demo):
    pid = demo["Architecture"]
    cli = cli_json(ctk_cli, "pages", "get", pid)
    mcp = ctk_mcp().call_json("manage_pages", {"action": "get", "page_id": pid})
    assert cli == mcp
    assert list(cli) == [*PAGE_FIELDS, "labels", "body_format", "body"]
    assert cli["title"] == "Architecture"
    assert cli["version"] == 4
    assert cli["space_key"] == "DEMO"
    assert cli["space_id"] == demo["space"]
    assert cli["parent_id"] == demo["home"]
    assert cli["parent_type"] == "page"
    assert cli["labels"] == ["architecture", "design"]
    assert cli["web_url"] == f"{confluence_sandbox.url}/wiki/spaces/DEMO/pages/{pid}/Architecture"
    assert cli["body_format"] == "markdown"
    assert cli["body"] == markdown(body_of(confluence_sandbox, pid))
    assert cli["body"].startswith("# Architecture")
    get = confluence_sandbox.requests.find("GET", f"/wiki/api/v2/pages/{pid}")[-1]
    assert get["query"]["body-format"] == ["storage"]


def test_get_formats_versions_and_ancestors(ctk_cli, ctk_mcp, confluence_sandbox, demo):
    pid = demo["Architecture"]
    storage = cli_json(ctk_cli, "pages", "get", pid, "--format", "storage")
    assert storage["body"] == body_of(confluence_sandbox, pid)
    view = ctk_mcp().call_json(
        "manage_pages", {"action": "get", "page_id": pid, "body_format": "view"}
    )
    assert view["body_format"] == "view"
    assert "Architecture" in view["body"]
    assert confluence_sandbox.requests.entries()[-1]["query"]["body-format"] == ["view"]
    old = cli_json(ctk_cli, "pages", "get", pid, "--version", "1", "--format", "storage")
    first = confluence_sandbox.state.pages[pid]["versions"][0]
    assert old["version"] == 1
    assert old["title"] == "Architecture (draft)"
    assert old["body"] == first["body"]
    deep = cli_json(ctk_cli, "pages", "get", demo["Installing on Linux"], "--include-ancestors")
    assert [(a["title"], a["type"]) for a in deep["ancestors"]] == [
        ("Demo Space", "page"),
        ("Getting Started", "page"),
        ("Installation", "page"),
    ]
    text = ctk_cli("pages", "get", demo["Installing on Linux"], "--include-ancestors").stdout
    assert "Demo Space > Getting Started > Installation" in text
    assert "# Installing on Linux" in text


def test_get_by_title_both_ways(ctk_cli, ctk_mcp, demo):
    by_id = cli_json(ctk_cli, "pages", "get", demo["Release 1.0"])
    by_title = cli_json(ctk_cli, "pages", "get", "--space", "DEMO", "--title", "Release 1.0")
    command = cli_json(
        ctk_cli, "pages", "get-by-title", "--space", "DEMO", "--title", "Release 1.0"
    )
    session = ctk_mcp()
    action = session.call_json(
        "manage_pages",
        {"action": "get_by_title", "space_id": demo["space"], "title": "Release 1.0"},
    )
    delegated = session.call_json(
        "manage_pages", {"action": "get", "space_id": "DEMO", "title": "Release 1.0"}
    )
    assert by_id == by_title == command == action == delegated
    err = cli_fails(
        ctk_cli, 5, "pages", "get-by-title", "--space", "DEMO", "--title", "release 1.0"
    )
    assert "No page titled 'release 1.0'" in err
    assert "not visible" in cli_fails(
        ctk_cli, 5, "pages", "get", "--space", "NOPE", "--title", "Release 1.0"
    )
    assert "No page titled" in session.error(
        "manage_pages", {"action": "get_by_title", "space_id": "TEAM", "title": "Release 1.0"}
    )


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("pages", "get"), 2, "Give a PAGE_ID, or --space and --title"),
        (("pages", "get", "--space", "DEMO"), 2, "Give a PAGE_ID, or --space and --title"),
        (("pages", "get", "123", "--title", "x"), 2, "not both"),
        (("pages", "get", "abc"), 2, "not a Confluence id"),
        (("pages", "get", "99999999"), 5, "not found"),
        (("pages", "get", "{Architecture}", "--version", "99"), 5, "Version 99"),
        (("pages", "get", "{Architecture}", "--version", "0"), 2, "0"),
        (("pages", "get", "{Architecture}", "--format", "html"), 2, "html"),
        (("pages", "get-by-title", "--space", "DEMO"), 2, "title"),
    ],
)
def test_get_bad_inputs(ctk_cli, demo, args, code, message):
    args = tuple(demo["Architecture"] if a == "{Architecture}" else a for a in args)
    assert message in cli_fails(ctk_cli, code, *args)


def test_get_bad_inputs_mcp(ctk_mcp, demo):
    session = ctk_mcp()
    assert "page_id" in session.error("manage_pages", {"action": "get"})
    assert "not a Confluence id" in session.error(
        "manage_pages", {"action": "get", "page_id": "x1"}
    )
    assert (
        "not found" in session.error("manage_pages", {"action": "get", "page_id": "424242"}).lower()
    )
    assert session.error(
        "manage_pages", {"action": "get", "page_id": demo["Architecture"], "body_format": "pdf"}
    )
    assert session.error(
        "manage_pages", {"action": "get", "page_id": demo["Architecture"], "colour": "red"}
    )


# ------------------------------------------------------------------------------ list


def test_list_paging_filters_and_sort(ctk_cli, ctk_mcp, confluence_sandbox, demo):
    state = confluence_sandbox.state
    current = sorted(
        p["id"]
        for p in state.pages.values()
        if p["spaceId"] == demo["space"] and p["status"] == "current"
    )
    first = cli_json(ctk_cli, "pages", "list", "--space", "DEMO", "--limit", "5")
    assert len(first["results"]) == 5
    assert first["next_cursor"]
    assert list(first["results"][0]) == PAGE_FIELDS
    second = ctk_mcp().call_json(
        "manage_pages",
        {"action": "list", "space_id": demo["space"], "limit": 5, "cursor": first["next_cursor"]},
    )
    assert not {p["id"] for p in first["results"]} & {p["id"] for p in second["results"]}
    everything = cli_json(ctk_cli, "pages", "list", "--space", "DEMO", "--limit", "4", "--all")
    assert sorted(p["id"] for p in everything["results"]) == current
    assert everything["next_cursor"] is None
    titled = cli_json(ctk_cli, "pages", "list", "--space", "DEMO", "--title", "Release 1.1")
    assert [p["id"] for p in titled["results"]] == [demo["Release 1.1"]]
    by_title = cli_json(
        ctk_cli, "pages", "list", "--space", "DEMO", "--sort", "-title", "--limit", "250"
    )
    titles = [p["title"] for p in by_title["results"]]
    assert titles == sorted(titles, key=str.lower, reverse=True)
    table = ctk_cli("pages", "list", "--space", "DEMO")
    assert table.stdout.splitlines()[0].split() == [
        "id",
        "title",
        "status",
        "version",
        "parent_id",
        "updated_at",
    ]


def test_list_status_and_bad_inputs(ctk_cli, confluence_sandbox, demo):
    confluence_sandbox.state.pages[demo["Release 1.0"]]["status"] = "trashed"
    trashed = cli_json(ctk_cli, "pages", "list", "--space", "DEMO", "--status", "trashed")
    assert [p["id"] for p in trashed["results"]] == [demo["Release 1.0"]]
    assert trashed["results"][0]["status"] == "trashed"
    assert confluence_sandbox.requests.entries()[-1]["query"]["status"] == ["trashed"]
    cli_fails(ctk_cli, 2, "pages", "list", "--status", "gone")
    cli_fails(ctk_cli, 2, "pages", "list", "--sort", "size")
    cli_fails(ctk_cli, 2, "pages", "list", "--limit", "251")
    cli_fails(ctk_cli, 5, "pages", "list", "--space", "NOSUCH")


# ------------------------------------------------------------------------------ hierarchy


def test_children_of_pages_and_folders(ctk_cli, ctk_mcp, demo):
    home = cli_json(ctk_cli, "pages", "children", demo["home"])
    mcp = ctk_mcp().call_json("manage_pages", {"action": "get_children", "page_id": demo["home"]})
    assert home == mcp
    kinds = {c["title"]: c["type"] for c in home["results"]}
    assert kinds == {
        "Getting Started": "page",
        "Architecture": "page",
        "Release Notes": "page",
        "Meeting Notes": "folder",
        "Team Handbook": "page",
        "Security Review": "page",
    }
    in_folder = cli_json(ctk_cli, "pages", "children", demo["folder"])
    assert [c["title"] for c in in_folder["results"]] == [
        "2024-01-15 Planning",
        "2024-02-12 Retrospective",
    ]
    paged = cli_json(ctk_cli, "pages", "children", demo["home"], "--limit", "2", "--sort", "-title")
    assert [c["title"] for c in paged["results"]] == ["Team Handbook", "Security Review"]
    assert paged["next_cursor"]
    assert cli_json(ctk_cli, "pages", "children", demo["Release 1.0"]) == {
        "results": [],
        "next_cursor": None,
    }
    assert "No page or folder with id 777777" in cli_fails(
        ctk_cli, 5, "pages", "children", "777777"
    )
    cli_fails(ctk_cli, 2, "pages", "children", "--sort", "size", demo["home"])


def test_tree_of_a_page(ctk_cli, ctk_mcp, demo):
    tree = cli_json(ctk_cli, "pages", "tree", demo["Getting Started"])
    rows = {r["title"]: r for r in tree["results"]}
    assert set(rows) == {
        "Installation",
        "Installing on Linux",
        "Installing on macOS",
        "Configuration",
        "Environment Variables",
    }
    assert rows["Installing on Linux"]["depth"] == 2
    assert rows["Installing on Linux"]["parent_id"] == demo["Installation"]
    shallow = ctk_mcp().call_json(
        "manage_pages",
        {"action": "get_descendants", "page_id": demo["Getting Started"], "depth": 1},
    )
    assert {r["title"] for r in shallow["results"]} == {"Installation", "Configuration"}
    text = ctk_cli("pages", "tree", demo["Getting Started"]).stdout.splitlines()
    assert text[0] == f"Installation  ({demo['Installation']})"
    assert text[1] == f"  Installing on Linux  ({demo['Installing on Linux']})"
    folder = cli_json(ctk_cli, "pages", "tree", demo["folder"])
    assert {r["title"] for r in folder["results"]} == {
        "2024-01-15 Planning",
        "2024-02-12 Retrospective",
    }


def test_tree_of_a_space(ctk_cli, ctk_mcp, confluence_sandbox, demo):
    whole = cli_json(ctk_cli, "pages", "tree", "--space", "DEMO", "--depth", "10", "--all")
    rows = {r["title"]: r for r in whole["results"]}
    visible = {
        p["title"]
        for p in confluence_sandbox.state.pages.values()
        if p["spaceId"] == demo["space"] and p["status"] == "current"
    }
    assert set(rows) == visible | {"Meeting Notes"}
    assert rows["Demo Space"]["depth"] == 0
    assert {tuple(r) for r in whole["results"]} == {
        ("id", "type", "title", "status", "depth", "parent_id", "position")
    }
    assert rows["Meeting Notes"]["type"] == "folder"
    assert rows["Meeting Notes"]["depth"] == 1
    assert rows["Installing on Linux"]["depth"] == 3
    # paging through the space tree yields the same rows
    session = ctk_mcp()
    seen, cursor = [], None
    for _ in range(40):
        args = {"action": "get_descendants", "space_id": "DEMO", "depth": 10, "limit": 3}
        if cursor:
            args["cursor"] = cursor
        page = session.call_json("manage_pages", args)
        assert len(page["results"]) <= 3
        seen += page["results"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == whole["results"]
    text = ctk_cli("pages", "tree", "--space", "DEMO").stdout.splitlines()
    assert text[0] == f"Demo Space  ({demo['home']})"
    assert f"  [folder] Meeting Notes  ({demo['folder']})" in text
    assert f"    2024-01-15 Planning  ({demo['2024-01-15 Planning']})" in text
    assert not any("Installing on Linux" in line for line in text)  # default depth 2
    drawn = ctk_cli("pages", "tree", "--space", "DEMO", "--all", "--limit", "2").stdout
    assert drawn.splitlines() == text


def test_tree_bad_inputs(ctk_cli, ctk_mcp, demo):
    assert "not both" in cli_fails(ctk_cli, 2, "pages", "tree", demo["home"], "--space", "DEMO")
    assert "or a --space (the whole space)" in cli_fails(ctk_cli, 2, "pages", "tree")
    cli_fails(ctk_cli, 2, "pages", "tree", demo["home"], "--depth", "11")
    assert "Invalid cursor" in ctk_mcp().error(
        "manage_pages", {"action": "get_descendants", "space_id": "DEMO", "cursor": "garbage"}
    )
    cli_fails(ctk_cli, 5, "pages", "tree", "--space", "NOPE")


def test_ancestors_with_titles_and_types(ctk_cli, ctk_mcp, demo):
    cli = cli_json(ctk_cli, "pages", "ancestors", demo["2024-01-15 Planning"])
    mcp = ctk_mcp().call_json(
        "manage_pages", {"action": "get_ancestors", "page_id": demo["2024-01-15 Planning"]}
    )
    assert (
        cli
        == mcp
        == {
            "results": [
                {"id": demo["home"], "type": "page", "title": "Demo Space"},
                {"id": demo["folder"], "type": "folder", "title": "Meeting Notes"},
            ]
        }
    )
    of_folder = cli_json(ctk_cli, "pages", "ancestors", demo["folder"])
    assert of_folder["results"] == [{"id": demo["home"], "type": "page", "title": "Demo Space"}]
    assert cli_json(ctk_cli, "pages", "ancestors", demo["home"]) == {"results": []}
    cli_fails(ctk_cli, 5, "pages", "ancestors", "123456789")


# ------------------------------------------------------------------------------ versions, diff


def test_versions(ctk_cli, ctk_mcp, demo):
    cli = cli_json(ctk_cli, "pages", "versions", demo["Architecture"])
    assert cli == ctk_mcp().call_json(
        "manage_pages", {"action": "list_versions", "page_id": demo["Architecture"]}
    )
    assert sorted(v["number"] for v in cli["results"]) == [1, 2, 3, 4]
    messages = {v["number"]: v["message"] for v in cli["results"]}
    assert messages[2] == "First real content"
    assert messages[4] == "Add the diagram"
    assert list(cli["results"][0]) == [
        "number",
        "author_id",
        "author_name",
        "message",
        "minor_edit",
        "created_at",
    ]
    assert {v["author_name"] for v in cli["results"]} <= {"Alex Morgan", "Priya Natarajan"}
    assert all(v["author_name"] for v in cli["results"])
    two = cli_json(ctk_cli, "pages", "versions", demo["Architecture"], "--limit", "2")
    assert len(two["results"]) == 2
    assert two["next_cursor"]
    cli_fails(ctk_cli, 5, "pages", "versions", "55555555")


def _expected_diff(sandbox, pid, old, new):
    page = sandbox.state.pages[pid]
    bodies = {v["number"]: v["body"] for v in page["versions"]}
    bodies[page["version"]["number"]] = page["body"]
    lines = difflib.unified_diff(
        markdown(bodies[old]).splitlines(),
        markdown(bodies[new]).splitlines(),
        f"{pid} version {old}",
        f"{pid} version {new}",
        lineterm="",
    )
    return "\n".join(lines) + "\n"


def test_diff_default_previous_to_current(ctk_cli, ctk_mcp, confluence_sandbox, demo):
    pid = demo["Architecture"]
    cli = cli_json(ctk_cli, "pages", "diff", pid)
    assert cli == ctk_mcp().call_json("manage_pages", {"action": "diff", "page_id": pid})
    assert (cli["from_version"], cli["to_version"]) == (3, 4)
    assert cli["diff"] == _expected_diff(confluence_sandbox, pid, 3, 4)
    assert re.search(r"^@@ -\d+(,\d+)? \+\d+(,\d+)? @@", cli["diff"], re.M)
    assert cli["lines_added"] == sum(
        1 for line in cli["diff"].splitlines()[2:] if line.startswith("+")
    )
    text = ctk_cli("pages", "diff", pid).stdout
    assert text.startswith(f"--- {pid} version 3\n+++ {pid} version 4\n@@ ")


def test_diff_chosen_versions(ctk_cli, ctk_mcp, confluence_sandbox, demo):
    pid = demo["Architecture"]
    early = cli_json(ctk_cli, "pages", "diff", pid, "--from", "1", "--to", "2")
    assert early["title_changed"] is True
    assert early["diff"] == _expected_diff(confluence_sandbox, pid, 1, 2)
    assert "-Draft: to be written." in early["diff"]
    span = ctk_mcp().call_json(
        "manage_pages", {"action": "diff", "page_id": pid, "from_version": 1, "to_version": 4}
    )
    assert span["diff"] == _expected_diff(confluence_sandbox, pid, 1, 4)
    to3 = cli_json(ctk_cli, "pages", "diff", pid, "--to", "3")
    assert (to3["from_version"], to3["to_version"]) == (2, 3)
    same = cli_json(ctk_cli, "pages", "diff", pid, "--from", "4", "--to", "4")
    assert same["diff"] == ""
    assert same["lines_added"] == same["lines_removed"] == 0
    assert "No differences" in ctk_cli("pages", "diff", pid, "--from", "4", "--to", "4").stdout


def test_diff_bad_inputs(ctk_cli, demo):
    assert "nothing to compare" in cli_fails(ctk_cli, 2, "pages", "diff", demo["Release 1.0"])
    cli_fails(ctk_cli, 5, "pages", "diff", demo["Architecture"], "--from", "9")
    cli_fails(ctk_cli, 2, "pages", "diff", demo["Architecture"], "--from", "0")
    cli_fails(ctk_cli, 2, "pages", "diff", "x")


# ------------------------------------------------------------------------------ sections


def test_outline_and_section(ctk_cli, ctk_mcp, confluence_sandbox, demo):
    pid = demo["Getting Started"]
    outline = cli_json(ctk_cli, "pages", "outline", pid)
    assert outline == ctk_mcp().call_json("manage_pages", {"action": "get_outline", "page_id": pid})
    assert [(h["id"], h["level"], h["text"]) for h in outline["headings"]] == [
        ("getting-started", 1, "Getting Started"),
        ("before-you-begin", 2, "Before you begin"),
        ("next-steps", 2, "Next steps"),
    ]
    assert outline["size"] == len(body_of(confluence_sandbox, pid))
    text = ctk_cli("pages", "outline", pid).stdout
    assert "  ## Before you begin  [before-you-begin, " in text
    storage = body_of(confluence_sandbox, pid)
    raw = cli_json(ctk_cli, "pages", "section", pid, "Before you begin", "--format", "storage")
    start = storage.index("<h2>Before you begin</h2>")
    assert raw["body"] == storage[start : storage.index("<h2>Next steps</h2>")]
    md = ctk_mcp().call_json(
        "manage_pages", {"action": "get_section", "page_id": pid, "heading": "next-steps"}
    )
    assert md["body"].startswith("## Next steps")
    assert md["body"] == markdown(storage[storage.index("<h2>Next steps</h2>") :])
    assert ctk_cli("pages", "section", pid, "next steps").stdout.startswith("## Next steps")


def test_section_errors(ctk_cli, confluence_sandbox, demo):
    state = confluence_sandbox.state
    dup = state.create_page(demo["space"], "Twice", "<h2>Same</h2><p>a</p><h2>Same</h2><p>b</p>")
    err = cli_fails(ctk_cli, 2, "pages", "section", dup["id"], "Same")
    assert "same, same-2" in err
    assert cli_json(ctk_cli, "pages", "section", dup["id"], "same-2")["body"] == "## Same\n\nb\n"
    err = cli_fails(ctk_cli, 5, "pages", "section", demo["Getting Started"], "Nowhere")
    assert "before-you-begin (Before you begin)" in err
    empty = state.create_page(demo["space"], "Flat", "<p>no headings</p>")
    assert "no headings" in cli_fails(ctk_cli, 5, "pages", "section", empty["id"], "x")
    assert cli_json(ctk_cli, "pages", "outline", empty["id"])["headings"] == []


# ------------------------------------------------------------------------------ writes


WRITE_CALLS = [
    ("create", {"space_id": "DEMO", "title": "Nope"}),
    ("update", {"page_id": "{page}", "title": "Nope"}),
    ("update_section", {"page_id": "{page}", "heading": "Fixed", "body": "x"}),
    ("move", {"page_id": "{page}", "target_parent_id": "{home}"}),
    ("delete", {"page_id": "{page}"}),
    ("restore_version", {"page_id": "{page}", "version": 1}),
]


@pytest.mark.parametrize(("action", "args"), WRITE_CALLS, ids=[c[0] for c in WRITE_CALLS])
def test_writes_refused_when_disabled(ctk_cli, ctk_mcp, confluence_sandbox, demo, action, args):
    args = {
        k: (demo["Release 1.1"] if v == "{page}" else demo["home"] if v == "{home}" else v)
        for k, v in args.items()
    }
    before = json.dumps(confluence_sandbox.state.pages, sort_keys=True)
    confluence_sandbox.requests.clear()
    assert WRITES_DISABLED_MESSAGE in ctk_mcp().error("manage_pages", {"action": action, **args})
    from ctk_core.registry import load_catalog

    op = next(r for r in load_catalog().resources if r.name == "pages").operation(action)
    argv = ["pages", op.cli_name]
    for param in op.all_params:
        if param.name in args:
            value = str(args[param.name])
            argv += [value] if param.positional else [param.cli_flag, value]
    assert WRITES_DISABLED_MESSAGE in cli_fails(ctk_cli, 4, *argv)
    assert json.dumps(confluence_sandbox.state.pages, sort_keys=True) == before
    assert not [e for e in confluence_sandbox.requests.entries() if e["method"] != "GET"]


def test_create_markdown_storage_file_and_stdin(
    ctk_cli, ctk_mcp, confluence_sandbox, demo, tmp_path
):
    state = confluence_sandbox.state
    made = cli_json(
        ctk_cli,
        "pages",
        "create",
        "--space",
        "DEMO",
        "--title",
        "Fresh",
        "--body",
        "# Fresh\n\nSome *text*.",
        env=WRITES,
    )
    assert list(made) == PAGE_FIELDS
    assert made["version"] == 1
    assert made["parent_id"] == demo["home"]
    assert made["space_key"] == "DEMO"
    assert "<em>text</em>" in state.pages[made["id"]]["body"]
    source = tmp_path / "body.html"
    source.write_text('<p>raw &nbsp; <ac:emoticon ac:name="smile" /></p>', encoding="utf-8")
    raw = cli_json(
        ctk_cli,
        "pages",
        "create",
        "--space",
        demo["space"],
        "--title",
        "Raw",
        "--body-file",
        str(source),
        "--content-format",
        "storage",
        "--parent",
        demo["folder"],
        env=WRITES,
    )
    assert state.pages[raw["id"]]["body"] == source.read_text(encoding="utf-8")
    assert raw["parent_id"] == demo["folder"]
    assert raw["parent_type"] == "folder"
    piped = cli_json(
        ctk_cli,
        "pages",
        "create",
        "--space",
        "DEMO",
        "--title",
        "Piped",
        "--parent",
        raw["id"],
        "--body-file",
        "-",
        input="piped **in**\n",
        env=WRITES,
    )
    assert "<strong>in</strong>" in state.pages[piped["id"]]["body"]
    empty = ctk_mcp(WRITES).call_json(
        "manage_pages", {"action": "create", "space_id": "TEAM", "title": "Blank"}
    )
    assert state.pages[empty["id"]]["body"] == ""
    assert empty["space_key"] == "TEAM"


def test_create_bad_inputs(ctk_cli, ctk_mcp, confluence_sandbox, demo):
    count = len(confluence_sandbox.state.pages)
    err = cli_fails(
        ctk_cli,
        2,
        "pages",
        "create",
        "--space",
        "DEMO",
        "--title",
        "Bad",
        "--body",
        "<p>open",
        "--content-format",
        "storage",
        env=WRITES,
    )
    assert "not well-formed" in err
    cli_fails(ctk_cli, 2, "pages", "create", "--space", "DEMO", env=WRITES)
    cli_fails(
        ctk_cli,
        2,
        "pages",
        "create",
        "--space",
        "DEMO",
        "--title",
        "X",
        "--body",
        "a",
        "--body-file",
        "-",
        input="b",
        env=WRITES,
    )
    cli_fails(ctk_cli, 5, "pages", "create", "--space", "NOPE", "--title", "X", env=WRITES)
    assert "Architecture" in cli_fails(
        ctk_cli, 6, "pages", "create", "--space", "DEMO", "--title", "Architecture", env=WRITES
    )
    cli_fails(
        ctk_cli,
        2,
        "pages",
        "create",
        "--space",
        "DEMO",
        "--title",
        "X",
        "--parent",
        "p1",
        env=WRITES,
    )
    session = ctk_mcp(WRITES)
    assert "title" in session.error(
        "manage_pages", {"action": "create", "space_id": "DEMO", "title": "  "}
    )
    assert "DOCTYPE" in session.error(
        "manage_pages",
        {
            "action": "create",
            "space_id": "DEMO",
            "title": "Evil",
            "content_format": "storage",
            "body": '<!DOCTYPE x [<!ENTITY a "b">]><p>&a;</p>',
        },
    )
    assert len(confluence_sandbox.state.pages) == count


def test_update_title_only_keeps_body(ctk_cli, confluence_sandbox, demo):
    pid = demo["Release 1.1"]
    page = confluence_sandbox.state.pages[pid]
    body = page["body"]
    out = cli_json(
        ctk_cli,
        "pages",
        "update",
        pid,
        "--title",
        "Release 1.1 (final)",
        "--message",
        "rename",
        env=WRITES,
    )
    assert out["title"] == "Release 1.1 (final)"
    assert out["version"] == 2
    assert page["body"] == body
    assert page["version"]["message"] == "rename"


def test_update_body_and_bad_inputs(ctk_cli, ctk_mcp, confluence_sandbox, demo):
    pid = demo["Release 1.0"]
    session = ctk_mcp(WRITES)
    out = session.call_json(
        "manage_pages", {"action": "update", "page_id": pid, "body": "Just *one* line."}
    )
    page = confluence_sandbox.state.pages[pid]
    assert out["version"] == 2
    assert page["title"] == "Release 1.0"
    assert "<em>one</em>" in page["body"]
    assert "Nothing to update" in session.error(
        "manage_pages", {"action": "update", "page_id": pid}
    )
    assert "not well-formed" in session.error(
        "manage_pages",
        {"action": "update", "page_id": pid, "body": "<b>x", "content_format": "storage"},
    )
    cli_fails(ctk_cli, 5, "pages", "update", "8888888", "--title", "x", env=WRITES)
    cli_fails(ctk_cli, 2, "pages", "update", pid, "--title", " ", env=WRITES)
    assert "already exists" in cli_fails(
        ctk_cli, 6, "pages", "update", pid, "--title", "Architecture", env=WRITES
    )
    assert page["version"]["number"] == 2


def test_conflict_second_update_from_same_base_loses(ctk_cli, confluence_sandbox, demo):
    pid = demo["Configuration"]
    page = confluence_sandbox.state.pages[pid]
    base = page["version"]["number"]
    first = cli_json(
        ctk_cli,
        "pages",
        "update",
        pid,
        "--body",
        "first edit",
        "--version",
        str(base + 1),
        env=WRITES,
    )
    assert first["version"] == base + 1
    kept = page["body"]
    # the second writer read the same base version: refused before anything is sent
    confluence_sandbox.requests.clear()
    err = cli_fails(
        ctk_cli,
        6,
        "pages",
        "update",
        pid,
        "--body",
        "second edit",
        "--version",
        str(base + 1),
        env=WRITES,
    )
    assert f"current version is {base + 1}" in err
    assert "Nothing was overwritten" in err
    assert not confluence_sandbox.requests.find("PUT")
    # with title, body and version all given ctk does not read first: Confluence's 409
    err = cli_fails(
        ctk_cli,
        6,
        "pages",
        "update",
        pid,
        "--title",
        "Configuration",
        "--body",
        "third edit",
        "--version",
        str(base + 1),
        env=WRITES,
    )
    assert f"current version is {base + 1}" in err
    assert [e["status"] for e in confluence_sandbox.requests.find("PUT")] == [409]
    assert page["body"] == kept
    assert "first edit" in kept
    assert page["version"]["number"] == base + 1


def test_update_section_keeps_unknown_macros_byte_for_byte(
    ctk_cli, ctk_mcp, confluence_sandbox, demo
):
    pid = demo["Release 1.1"]
    page = confluence_sandbox.state.pages[pid]
    before = page["body"]
    head = before[: before.index("<h2>Fixed</h2>")]
    assert 'ac:name="roadmap"' in head
    assert 'ac:name="jira"' in head
    out = cli_json(
        ctk_cli,
        "pages",
        "update-section",
        pid,
        "Fixed",
        "--body",
        "- Only one fix",
        "--message",
        "trim",
        env=WRITES,
    )
    assert out["section_id"] == "fixed"
    assert out["heading_replaced"] is False
    assert out["version"] == 2
    assert page["version"]["message"] == "trim"
    assert page["body"].startswith(head + "<h2>Fixed</h2><ul>")
    tail = page["body"][len(head) :]
    assert "Only one fix" in tail
    assert "Uploads" not in tail
    # a body that starts with a heading replaces the heading too
    again = ctk_mcp(WRITES).call_json(
        "manage_pages",
        {
            "action": "update_section",
            "page_id": pid,
            "heading": "fixed",
            "body": "<h2>Fixed bugs</h2><p>none</p>",
            "content_format": "storage",
        },
    )
    assert again["heading_replaced"] is True
    assert page["body"] == head + "<h2>Fixed bugs</h2><p>none</p>"


def test_update_section_in_the_middle(ctk_cli, confluence_sandbox, demo, tmp_path):
    pid = demo["Getting Started"]
    page = confluence_sandbox.state.pages[pid]
    before = page["body"]
    start = before.index("<h2>Before you begin</h2>") + len("<h2>Before you begin</h2>")
    end = before.index("<h2>Next steps</h2>")
    source = tmp_path / "section.md"
    source.write_text("Nothing to prepare.\n", encoding="utf-8")
    cli_json(
        ctk_cli,
        "pages",
        "update-section",
        pid,
        "before-you-begin",
        "--body-file",
        str(source),
        env=WRITES,
    )
    after = page["body"]
    assert after[:start] == before[:start]
    assert after.endswith(before[end:])
    assert "Nothing to prepare." in after[start : len(after) - len(before[end:])]


def test_update_section_bad_inputs(ctk_cli, ctk_mcp, confluence_sandbox, demo):
    pid = demo["Getting Started"]
    before = confluence_sandbox.state.pages[pid]["body"]
    cli_fails(ctk_cli, 5, "pages", "update-section", pid, "Nowhere", "--body", "x", env=WRITES)
    assert "body" in cli_fails(ctk_cli, 2, "pages", "update-section", pid, "next-steps", env=WRITES)
    cli_fails(
        ctk_cli,
        2,
        "pages",
        "update-section",
        pid,
        "next-steps",
        "--body",
        "<p>",
        "--content-format",
        "storage",
        env=WRITES,
    )
    assert "current version is 1" in cli_fails(
        ctk_cli,
        6,
        "pages",
        "update-section",
        pid,
        "next-steps",
        "--body",
        "x",
        "--version",
        "1",
        env=WRITES,
    )
    assert "body" in ctk_mcp(WRITES).error(
        "manage_pages", {"action": "update_section", "page_id": pid, "heading": "next-steps"}
    )
    assert confluence_sandbox.state.pages[pid]["body"] == before


def test_move_parent_and_position(ctk_cli, ctk_mcp, confluence_sandbox, demo):
    state = confluence_sandbox.state
    pid = demo["Team Handbook"]
    body = state.pages[pid]["body"]
    moved = cli_json(ctk_cli, "pages", "move", pid, "--parent", demo["folder"], env=WRITES)
    assert moved["parent_id"] == demo["folder"]
    assert moved["parent_type"] == "folder"
    assert state.pages[pid]["parentId"] == demo["folder"]
    assert state.pages[pid]["body"] == body
    put = confluence_sandbox.requests.find("PUT", f"/wiki/api/v2/pages/{pid}")[-1]
    assert json.loads(put["body"])["parentId"] == demo["folder"]
    session = ctk_mcp(WRITES)
    r10, r11 = demo["Release 1.0"], demo["Release 1.1"]
    out = session.call_json(
        "manage_pages", {"action": "move", "page_id": r11, "position": "before", "target_id": r10}
    )
    assert out == {"id": r11, "moved": True, "position": "before", "target_id": r10}
    order = cli_json(ctk_cli, "pages", "children", demo["Release Notes"])
    assert [c["id"] for c in order["results"]] == [r11, r10]
    assert confluence_sandbox.requests.find(
        "PUT", f"/wiki/rest/api/content/{r11}/move/before/{r10}"
    )
    cli_json(ctk_cli, "pages", "move", r11, "--position", "append", "--target", r10, env=WRITES)
    assert state.pages[r11]["parentId"] == r10


def test_move_bad_inputs(ctk_cli, demo):
    pid = demo["Release 1.0"]
    assert "not both" in cli_fails(
        ctk_cli,
        2,
        "pages",
        "move",
        pid,
        "--parent",
        demo["home"],
        "--position",
        "after",
        "--target",
        demo["home"],
        env=WRITES,
    )
    assert "Say where" in cli_fails(ctk_cli, 2, "pages", "move", pid, env=WRITES)
    cli_fails(ctk_cli, 2, "pages", "move", pid, "--position", "after", env=WRITES)
    cli_fails(ctk_cli, 2, "pages", "move", pid, "--position", "under", "--target", "1", env=WRITES)
    cli_fails(ctk_cli, 2, "pages", "move", pid, "--parent", pid, env=WRITES)
    cli_fails(ctk_cli, 5, "pages", "move", pid, "--parent", "9999999", env=WRITES)


def test_more_bad_inputs_mcp(ctk_mcp, confluence_sandbox, demo):
    """The MCP side of the bad inputs above: each an isError result, nothing changed."""
    state = confluence_sandbox.state
    pid, arch = demo["Release 1.0"], demo["Architecture"]
    before = {
        k: (p["body"], p["version"]["number"], p["parentId"], p["status"])
        for k, p in state.pages.items()
    }
    session = ctk_mcp(WRITES)
    for args, fragment in (
        ({"action": "move", "page_id": pid}, "Say where"),
        ({"action": "move", "page_id": pid, "target_parent_id": pid}, "own parent"),
        (
            {
                "action": "move",
                "page_id": pid,
                "target_parent_id": demo["home"],
                "position": "after",
                "target_id": demo["home"],
            },
            "not both",
        ),
        ({"action": "move", "page_id": pid, "position": "under", "target_id": arch}, "position"),
        ({"action": "move", "page_id": pid, "target_parent_id": "9999999"}, "9999999"),
        ({"action": "restore_version", "page_id": arch}, "version"),
        ({"action": "restore_version", "page_id": arch, "version": 0}, "version"),
        ({"action": "restore_version", "page_id": arch, "version": 99}, "no version 99"),
        ({"action": "delete", "page_id": pid, "purge": True}, "not in the trash"),
        ({"action": "delete", "page_id": "7777777"}, "7777777"),
        ({"action": "diff", "page_id": pid}, "nothing to compare"),
        ({"action": "diff", "page_id": arch, "from_version": 9}, "Version 9"),
        ({"action": "get_section", "page_id": arch, "heading": "Nowhere"}, "No section"),
        ({"action": "get_outline", "page_id": "x"}, "not a Confluence id"),
        ({"action": "list_versions", "page_id": "55555555"}, "not found"),
        ({"action": "get_children", "page_id": "777777"}, "No page or folder"),
        ({"action": "get_ancestors", "page_id": "123456789"}, "123456789"),
        ({"action": "list", "space_id": "NOSUCH"}, "NOSUCH"),
        ({"action": "list", "space_id": "DEMO", "limit": 251}, "limit"),
    ):
        message = session.error("manage_pages", args)
        assert fragment.lower() in message.lower(), (args, message)
    after = {
        k: (p["body"], p["version"]["number"], p["parentId"], p["status"])
        for k, p in state.pages.items()
    }
    assert after == before


def test_delete_trash_then_purge(ctk_cli, ctk_mcp, confluence_sandbox, demo):
    pid = demo["Release 1.0"]
    assert "not in the trash" in cli_fails(
        ctk_cli, 2, "pages", "delete", pid, "--purge", env=WRITES
    )
    assert confluence_sandbox.state.pages[pid]["status"] == "current"
    assert cli_json(ctk_cli, "pages", "delete", pid, env=WRITES) == {"id": pid, "status": "trashed"}
    assert confluence_sandbox.state.pages[pid]["status"] == "trashed"
    out = ctk_mcp(WRITES).call_json(
        "manage_pages", {"action": "delete", "page_id": pid, "purge": True}
    )
    assert out == {"id": pid, "status": "purged"}
    page = confluence_sandbox.state.pages.get(pid)
    assert page is None or page["status"] not in ("current", "trashed")
    cli_fails(ctk_cli, 5, "pages", "delete", "7777777", env=WRITES)


@pytest.mark.skipif(not sys.platform.startswith(("linux", "darwin")), reason="needs a pty")
def test_delete_asks_on_a_terminal(ctk_cli, confluence_sandbox, demo):
    import pty
    import subprocess

    pid = demo["Release 1.0"]
    env = dict(os.environ)
    env.update({k: v for k, v in ctk_cli.env.items() if v is not None}, **WRITES)
    code = "import sys; from ctk_core.cli import main; sys.exit(main(prog_name='ctk'))"

    def run(*extra, answer=b""):
        master, slave = pty.openpty()
        try:
            proc = subprocess.Popen(
                [sys.executable, "-c", code, "pages", "delete", pid, *extra],
                stdin=slave,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
            )
            if answer:
                os.write(master, answer)
            out, err = proc.communicate(timeout=60)
        finally:
            os.close(master)
            os.close(slave)
        return proc.returncode, out.decode(), err.decode()

    code_no, _, err = run(answer=b"n\n")
    assert code_no == 1
    assert "Continue?" in err
    assert f"page_id={pid}" in err
    assert confluence_sandbox.state.pages[pid]["status"] == "current"
    code_yes, out, _ = run("--yes")
    assert code_yes == 0
    assert "trashed" in out
    assert confluence_sandbox.state.pages[pid]["status"] == "trashed"


def test_restore_version(ctk_cli, ctk_mcp, confluence_sandbox, demo):
    pid = demo["Architecture"]
    page = confluence_sandbox.state.pages[pid]
    v2 = next(v for v in page["versions"] if v["number"] == 2)
    out = cli_json(ctk_cli, "pages", "restore", pid, "2", env=WRITES)
    assert out == {"id": pid, "restored_version": 2, "version": 5, "message": "Restored version 2"}
    assert page["body"] == v2["body"]
    assert page["version"]["number"] == 5
    post = confluence_sandbox.requests.find("POST", f"/wiki/rest/api/content/{pid}/version")
    assert json.loads(post[-1]["body"])["params"]["versionNumber"] == 2
    again = ctk_mcp(WRITES).call_json(
        "manage_pages",
        {"action": "restore_version", "page_id": pid, "version": 1, "message": "back to the draft"},
    )
    assert again["version"] == 6
    assert page["version"]["message"] == "back to the draft"
    cli_fails(ctk_cli, 2, "pages", "restore", pid, "0", env=WRITES)
    cli_fails(ctk_cli, 2, "pages", "restore", pid, env=WRITES)
    # v1 answers 400 (not 404) for a page that does not exist
    assert "1234567" in cli_fails(ctk_cli, 2, "pages", "restore", "1234567", "1", env=WRITES)


# ------------------------------------------------------------------------------ contract


def test_every_request_matches_the_spec(ctk_cli, confluence_sandbox, demo):
    """Run every action once and validate each request ctk sent against Atlassian's specs."""
    from spec_support import load_specs

    specs = load_specs()
    a, r10, r11 = demo["Architecture"], demo["Release 1.0"], demo["Release 1.1"]
    runs = [
        ("get", a, "--include-ancestors"),
        ("get", a, "--version", "2", "--format", "view"),
        ("get", "--space", "DEMO", "--title", "Architecture"),
        (
            "list",
            "--space",
            "DEMO",
            "--status",
            "current,archived",
            "--sort",
            "-title",
            "--limit",
            "3",
        ),
        ("children", demo["home"], "--sort", "title"),
        ("children", demo["folder"]),
        ("tree", a, "--depth", "3"),
        ("tree", "--space", "DEMO", "--limit", "4"),
        ("ancestors", demo["2024-01-15 Planning"]),
        ("versions", a, "--sort", "-modified-date"),
        ("diff", a),
        ("outline", a),
        ("section", a, "components"),
        (
            "create",
            "--space",
            "DEMO",
            "--title",
            "Contract",
            "--parent",
            demo["folder"],
            "--body",
            "x",
        ),
        ("update", r10, "--title", "R10", "--message", "m"),
        ("update", r10, "--title", "R10b", "--body", "b", "--version", "3"),
        ("update-section", r11, "Fixed", "--body", "- one"),
        ("move", r10, "--parent", demo["folder"]),
        ("move", r11, "--position", "after", "--target", r10),
        ("restore", a, "2", "--message", "m"),
        ("delete", r10),
        ("delete", r10, "--purge"),
    ]
    confluence_sandbox.requests.clear()
    for args in runs:
        result = ctk_cli("pages", *args, env=WRITES)
        assert result.exit_code == 0, result
    problems = []
    for entry in confluence_sandbox.requests.entries():
        body = json.loads(entry["body"]) if entry["body"] else None
        for problem in specs.request_problems(
            entry["method"],
            entry["path"],
            entry["query"],
            body,
            entry["headers"].get("content-type"),
        ):
            problems.append(f"{entry['method']} {entry['path']}: {problem}")
    assert problems == []
    methods = {e["method"] for e in confluence_sandbox.requests.entries()}
    assert methods == {"GET", "POST", "PUT", "DELETE"}


def test_both_move_forms_take_a_page_to_another_space(ctk_cli, confluence_sandbox, demo):
    """As Confluence's move does; v2's update alone cannot change a page's space."""
    state = confluence_sandbox.state
    team = confluence_sandbox.space_id("TEAM")
    team_home = state.spaces[team]["homepageId"]
    parent, child = demo["Installation"], demo["Installing on Linux"]
    moved = cli_json(ctk_cli, "pages", "move", parent, "--parent", team_home, env=WRITES)
    assert (moved["id"], moved["parent_id"]) == (parent, team_home)
    assert state.pages[parent]["spaceId"] == team
    assert state.pages[child]["spaceId"] == team  # the children go with it
    assert confluence_sandbox.requests.find(
        "PUT", f"/wiki/rest/api/content/{parent}/move/append/{team_home}"
    )
    other = demo["Configuration"]
    cli_json(ctk_cli, "pages", "move", other, "--before", parent, env=WRITES)
    assert state.pages[other]["spaceId"] == team
    assert state.pages[other]["parentId"] == team_home


def test_a_failed_move_in_one_space_is_not_retried_elsewhere(ctk_cli, confluence_sandbox, demo):
    pid = demo["Release 1.0"]
    fails = cli_fails(ctk_cli, 2, "pages", "move", pid, "--parent", pid, env=WRITES)
    assert "own parent" in fails
    child = demo["Release 1.1"]
    cli_fails(ctk_cli, 2, "pages", "move", demo["Release Notes"], "--parent", child, env=WRITES)
    assert not confluence_sandbox.requests.find("PUT", "/move/append/")


@pytest.mark.parametrize(
    "command",
    [
        ["create", "--space", "DEMO", "--title", "Latin-1"],
        ["update", "{page}"],
        ["update-section", "{page}", "next-steps"],
    ],
)
def test_a_body_file_that_is_not_utf8_is_one_line_exit_2(
    ctk_cli, confluence_sandbox, demo, tmp_path, command
):
    source = tmp_path / "latin1.md"
    source.write_bytes(b"caf\xe9 au lait\n")
    pid = demo["Team Handbook"]
    before = dict(confluence_sandbox.state.pages[pid])
    args = [a.replace("{page}", pid) for a in command]
    result = ctk_cli("pages", *args, "--body-file", str(source), env=WRITES)
    assert result.exit_code == 2, result
    assert result.stderr == f"Error: {source} is not UTF-8 text (byte 0xe9 at offset 3).\n"
    assert confluence_sandbox.state.pages[pid]["body"] == before["body"]
    assert not confluence_sandbox.requests.find("POST", "/pages")
