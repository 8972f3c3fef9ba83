"""The folders plugin (``ctk folders`` / ``manage_folders``) through both front ends, against
the sandbox over real HTTP."""

from __future__ import annotations

import pytest
from resource_support import assert_refused, cli_json

from ctk_core.policy import WRITES_DISABLED_MESSAGE

WRITES = {"CTK_ENABLE_WRITES": "true"}
FOLDER_FIELDS = [
    "id",
    "type",
    "title",
    "status",
    "space_id",
    "space_key",
    "parent_id",
    "parent_type",
    "position",
    "author_id",
    "owner_id",
    "created_at",
    "version",
    "web_url",
]


@pytest.fixture
def tree(confluence_sandbox):
    """Meeting Notes (demo folder) > Archive (folder) > Old Minutes (page) > Older (page)."""
    state = confluence_sandbox.state
    demo = confluence_sandbox.space_id("DEMO")
    notes = next(f for f in state.folders.values() if f["title"] == "Meeting Notes")
    archive = state.create_folder(demo, "Archive", parent_id=notes["id"])
    old = state.create_page(demo, "Old Minutes", "<p>old</p>", parent_id=archive["id"])
    older = state.create_page(demo, "Older", "<p>older</p>", parent_id=old["id"])
    return {
        "notes": notes["id"],
        "archive": archive["id"],
        "old": old["id"],
        "older": older["id"],
        "home": state.spaces[demo]["homepageId"],
        "demo": demo,
    }


def test_get_same_in_both_front_ends(ctk_cli, ctk_mcp, confluence_sandbox, tree):
    cli = cli_json(ctk_cli, "folders", "get", tree["archive"])
    mcp = ctk_mcp().call_json("manage_folders", {"action": "get", "folder_id": tree["archive"]})
    assert cli == mcp
    assert list(cli) == FOLDER_FIELDS
    assert cli["id"] == tree["archive"]
    assert cli["title"] == "Archive"
    assert cli["type"] == "folder"
    assert cli["space_key"] == "DEMO"
    assert cli["space_id"] == tree["demo"]
    assert cli["parent_id"] == tree["notes"]
    assert cli["parent_type"] == "folder"
    assert cli["version"] == 1
    assert cli["web_url"] == f"{confluence_sandbox.url}/wiki/spaces/DEMO/folder/{tree['archive']}"


def test_get_key_value_view(ctk_cli, tree):
    result = ctk_cli("folders", "get", tree["notes"])
    assert result.exit_code == 0, result
    assert any(
        line.split()[:3] == ["title", "Meeting", "Notes"] for line in result.stdout.splitlines()
    )


def test_children_lists_pages_and_folders_with_type(ctk_cli, ctk_mcp, tree):
    cli = cli_json(ctk_cli, "folders", "children", tree["notes"])
    mcp = ctk_mcp().call_json(
        "manage_folders", {"action": "get_children", "folder_id": tree["notes"]}
    )
    assert cli == mcp
    kinds = {c["title"]: c["type"] for c in cli["results"]}
    assert kinds == {
        "2024-01-15 Planning": "page",
        "2024-02-12 Retrospective": "page",
        "Archive": "folder",
    }
    assert cli["next_cursor"] is None
    table = ctk_cli("folders", "children", tree["notes"])
    assert table.stdout.splitlines()[0].split() == ["id", "type", "title", "position"]


def test_children_paging_and_sort(ctk_cli, ctk_mcp, confluence_sandbox, tree):
    first = cli_json(ctk_cli, "folders", "children", tree["notes"], "--limit", "1")
    assert len(first["results"]) == 1
    assert first["next_cursor"]
    second = ctk_mcp().call_json(
        "manage_folders",
        {
            "action": "get_children",
            "folder_id": tree["notes"],
            "limit": 1,
            "cursor": first["next_cursor"],
        },
    )
    assert second["results"][0]["id"] != first["results"][0]["id"]
    everything = cli_json(ctk_cli, "folders", "children", tree["notes"], "--limit", "1", "--all")
    assert len(everything["results"]) == 3
    assert everything["next_cursor"] is None
    assert [c["position"] for c in everything["results"]] == [1, 2, 3]


def test_descendants_with_depth(ctk_cli, ctk_mcp, tree):
    deep = cli_json(ctk_cli, "folders", "tree", tree["notes"], "--depth", "5")
    rows = {r["title"]: r for r in deep["results"]}
    assert set(rows) == {
        "2024-01-15 Planning",
        "2024-02-12 Retrospective",
        "Archive",
        "Old Minutes",
        "Older",
    }
    assert rows["Archive"]["depth"] == 1
    assert rows["Old Minutes"]["depth"] == 2
    assert rows["Older"]["parent_id"] == tree["old"]
    assert rows["Older"]["depth"] == 3
    shallow = ctk_mcp().call_json(
        "manage_folders", {"action": "get_descendants", "folder_id": tree["notes"], "depth": 1}
    )
    assert {r["title"] for r in shallow["results"]} == {
        "2024-01-15 Planning",
        "2024-02-12 Retrospective",
        "Archive",
    }


def test_ancestors_have_titles_and_types(ctk_cli, ctk_mcp, tree):
    cli = cli_json(ctk_cli, "folders", "ancestors", tree["archive"])
    mcp = ctk_mcp().call_json(
        "manage_folders", {"action": "get_ancestors", "folder_id": tree["archive"]}
    )
    assert cli == mcp
    assert cli["results"] == [
        {"id": tree["home"], "type": "page", "title": "Demo Space"},
        {"id": tree["notes"], "type": "folder", "title": "Meeting Notes"},
    ]


def test_list_folders_of_a_space_by_key_or_id(ctk_cli, ctk_mcp, confluence_sandbox, tree):
    team = confluence_sandbox.space_id("TEAM")
    confluence_sandbox.state.create_folder(team, "Team Folder")
    by_key = cli_json(ctk_cli, "folders", "list", "--space", "DEMO")
    by_id = ctk_mcp().call_json("manage_folders", {"action": "list", "space_id": tree["demo"]})
    assert by_key == by_id
    assert [f["title"] for f in by_key["results"]] == ["Archive", "Meeting Notes"]
    assert all(f["type"] == "folder" and f["space_key"] == "DEMO" for f in by_key["results"])
    assert by_key["results"][1]["web_url"].endswith(f"/wiki/spaces/DEMO/folder/{tree['notes']}")
    cql = confluence_sandbox.requests.find("GET", "/rest/api/search")[-1]["query"]["cql"][0]
    assert "type = folder" in cql
    assert "ORDER BY title" in cql
    team_list = cli_json(ctk_cli, "folders", "list", "--space", "TEAM")
    assert [f["title"] for f in team_list["results"]] == ["Team Folder"]
    paged = cli_json(ctk_cli, "folders", "list", "--space", "DEMO", "--limit", "1")
    assert len(paged["results"]) == 1
    assert paged["next_cursor"]
    rest = cli_json(ctk_cli, "folders", "list", "--space", "DEMO", "--cursor", paged["next_cursor"])
    assert [f["title"] for f in rest["results"]] == ["Meeting Notes"]


def test_create_through_both_front_ends(ctk_cli, ctk_mcp, confluence_sandbox, tree):
    state = confluence_sandbox.state
    made = cli_json(ctk_cli, "folders", "create", "--space", "DEMO", "--title", "Specs", env=WRITES)
    assert made["title"] == "Specs"
    assert made["space_id"] == tree["demo"]
    assert state.folders[made["id"]]["parentId"] == tree["home"]
    under_page = ctk_mcp(WRITES).call_json(
        "manage_folders",
        {"action": "create", "space_id": tree["demo"], "title": "Drafts", "parent_id": tree["old"]},
    )
    assert under_page["parent_id"] == tree["old"]
    assert under_page["parent_type"] == "page"
    under_folder = cli_json(
        ctk_cli,
        "folders",
        "create",
        "--space",
        "DEMO",
        "--title",
        "Deep",
        "--parent",
        made["id"],
        env=WRITES,
    )
    assert state.folders[under_folder["id"]]["parentId"] == made["id"]
    post = confluence_sandbox.requests.find("POST", "/wiki/api/v2/folders")[-1]
    assert post["body"] == (
        f'{{"spaceId": "{tree["demo"]}", "title": "Deep", "parentId": "{made["id"]}"}}'
    )


def test_delete_through_both_front_ends(ctk_cli, ctk_mcp, confluence_sandbox, tree):
    state = confluence_sandbox.state
    extra = state.create_folder(tree["demo"], "Doomed")
    out = cli_json(ctk_cli, "folders", "delete", extra["id"], env=WRITES)
    assert out == {"id": extra["id"], "deleted": True}
    assert extra["id"] not in state.folders or state.folders[extra["id"]]["status"] != "current"
    mcp = ctk_mcp(WRITES).call_json(
        "manage_folders", {"action": "delete", "folder_id": tree["archive"]}
    )
    assert mcp == {"id": tree["archive"], "deleted": True}
    trashed = cli_json(ctk_cli, "folders", "get", tree["archive"])
    assert trashed["status"] == "trashed"


def test_writes_refused_when_off(ctk_cli, ctk_mcp, confluence_sandbox, tree):
    before = dict(confluence_sandbox.state.folders)
    for args in (
        ["folders", "create", "--space", "DEMO", "--title", "X"],
        ["folders", "delete", tree["archive"]],
        ["folders", "create"],
    ):
        result = ctk_cli(*args)
        assert result.exit_code == 4, result
        assert WRITES_DISABLED_MESSAGE in result.stderr
    mcp = ctk_mcp()
    for action in ("create", "delete"):
        assert WRITES_DISABLED_MESSAGE in mcp.error("manage_folders", {"action": action})
    assert confluence_sandbox.state.folders == before
    assert not [r for r in confluence_sandbox.requests.entries() if r["method"] != "GET"]


def test_help_says_there_is_no_update(ctk_cli, ctk_mcp):
    result = ctk_cli("folders", "--help")
    assert result.exit_code == 0
    assert "the API has no update" in " ".join(result.stdout.split())
    assert "update" not in [
        line.split()[0]
        for line in result.stdout.splitlines()
        if line.startswith("  ") and line.split()
    ]
    # MCP: said where it matters, on the write action (absent, like it, when writes are off)
    tool = ctk_mcp({"CTK_ENABLE_WRITES": "true"}).tool("manage_folders")
    assert "cannot update, rename or move" in " ".join(tool.description.split())
    assert ctk_cli("folders", "update", "1").exit_code == 2


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["folders", "get"], 2, "Missing argument 'FOLDER_ID'"),
        (["folders", "get", "999999"], 5, "not found"),
        (["folders", "get", "abc"], 2, "'folder_id'"),
        (["folders", "children", "999999"], 5, "not found"),
        (["folders", "tree", "1", "--depth", "11"], 2, "11"),
        (["folders", "tree", "1", "--depth", "x"], 2, "'x' is not a valid integer"),
        (["folders", "ancestors", "12a"], 2, "not a confluence id"),
        (["folders", "list"], 2, "--space"),
        (["folders", "list", "--space", "NOPE"], 5, "No space with key 'NOPE'"),
        (["folders", "list", "--space", "999999"], 5, "not found"),
        (["folders", "children", "1", "--sort", "title"], 2, "No such option"),
    ],
)
def test_bad_inputs_cli(ctk_cli, args, code, fragment):
    assert_refused(ctk_cli(*args), code, fragment)


def test_bad_inputs_writes_cli(ctk_cli, confluence_sandbox):
    blank = ctk_cli("folders", "create", "--space", "DEMO", "--title", "  ", env=WRITES)
    assert blank.exit_code == 2
    assert "title" in blank.stderr
    parent = ctk_cli(
        "folders", "create", "--space", "DEMO", "--title", "T", "--parent", "p1", env=WRITES
    )
    assert parent.exit_code == 2
    assert "'parent_id'" in parent.stderr
    missing = ctk_cli("folders", "delete", "999999", env=WRITES)
    assert missing.exit_code == 5, missing


def test_bad_inputs_mcp(ctk_mcp, tree):
    mcp = ctk_mcp()
    assert "folder_id" in mcp.error("manage_folders", {"action": "get"})
    assert (
        "not found" in mcp.error("manage_folders", {"action": "get", "folder_id": "999999"}).lower()
    )
    assert "'folder_id'" in mcp.error("manage_folders", {"action": "get", "folder_id": "x1"})
    assert "depth" in mcp.error(
        "manage_folders", {"action": "get_descendants", "folder_id": tree["notes"], "depth": "deep"}
    )
    assert "NOPE" in mcp.error("manage_folders", {"action": "list", "space_id": "NOPE"})
    assert "update" in mcp.error("manage_folders", {"action": "update", "folder_id": "1"})
    # the session survives the bad calls
    assert mcp.call_json("manage_folders", {"action": "get", "folder_id": tree["notes"]})
