"""Spaces, pages and folders over real HTTP: create-then-read, version conflicts, trash and
purge, move, restore, the tree endpoints."""

from __future__ import annotations

import pytest

V2 = "/wiki/api/v2"
V1 = "/wiki/rest/api"


class Api:
    """A tiny client over the sandbox for arranging and checking things in tests."""

    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.session = sandbox.session()

    def call(self, method, path, expect=None, **kwargs):
        resp = self.session.request(method, self.sandbox.url + path, **kwargs)
        if expect is not None:
            assert resp.status_code == expect, resp.text
        return resp

    def get(self, path, **params):
        return self.call("GET", path, 200, params=params).json()

    def create_page(self, space_id, title, body="<p>x</p>", parent_id=None, expect=200, **query):
        data = {
            "spaceId": space_id,
            "status": "current",
            "title": title,
            "body": {"representation": "storage", "value": body},
        }
        if parent_id:
            data["parentId"] = parent_id
        return self.call("POST", f"{V2}/pages", expect, json=data, params=query)

    def update_page(self, page, expect=200, **changes):
        data = {
            "id": page["id"],
            "status": "current",
            "title": page["title"],
            "body": {"representation": "storage", "value": "<p>updated</p>"},
            "version": {"number": page["version"]["number"] + 1},
        }
        data.update(changes)
        return self.call("PUT", f"{V2}/pages/{page['id']}", expect, json=data)


@pytest.fixture
def api(confluence_sandbox):
    client = Api(confluence_sandbox)
    yield client
    client.session.close()


@pytest.fixture
def demo(confluence_sandbox):
    space = confluence_sandbox.state.space_by_key("DEMO")
    return {"space": space["id"], "home": space["homepageId"]}


def test_create_then_read_page(api, demo, confluence_sandbox):
    created = api.create_page(demo["space"], "Fresh page", "<h1>Hi</h1><p>there</p>").json()
    assert created["parentId"] == demo["home"]
    assert created["parentType"] == "page"
    assert created["version"]["number"] == 1
    assert created["_links"]["webui"] == f"/spaces/DEMO/pages/{created['id']}/Fresh+page"
    assert created["_links"]["base"] == confluence_sandbox.wiki_url
    read = api.get(f"{V2}/pages/{created['id']}", **{"body-format": "storage"})
    assert read["title"] == "Fresh page"
    assert read["body"]["storage"]["value"] == "<h1>Hi</h1><p>there</p>"
    view = api.get(f"{V2}/pages/{created['id']}", **{"body-format": "view"})
    assert "there" in view["body"]["view"]["value"]
    adf = api.get(f"{V2}/pages/{created['id']}", **{"body-format": "atlas_doc_format"})
    assert '"type": "doc"' in adf["body"]["atlas_doc_format"]["value"]
    plain = api.get(f"{V2}/pages/{created['id']}")
    assert plain["body"] == {}
    listed = api.get(f"{V2}/pages", title="Fresh page")["results"]
    assert [p["id"] for p in listed] == [created["id"]]


def test_create_with_adf_and_wiki_bodies(api, demo):
    adf = (
        '{"type":"doc","version":1,"content":[{"type":"paragraph","content":'
        '[{"type":"text","text":"from adf"}]}]}'
    )
    page = api.call(
        "POST",
        f"{V2}/pages",
        200,
        json={
            "spaceId": demo["space"],
            "title": "ADF page",
            "body": {"atlas_doc_format": {"representation": "atlas_doc_format", "value": adf}},
        },
    ).json()
    body = api.get(f"{V2}/pages/{page['id']}", **{"body-format": "storage"})["body"]
    assert body["storage"]["value"] == "<p>from adf</p>"
    bad = api.call(
        "POST",
        f"{V2}/pages",
        400,
        json={
            "spaceId": demo["space"],
            "title": "Bad",
            "body": {"representation": "nope", "value": "x"},
        },
    )
    assert "representation" in bad.json()["errors"][0]["title"]


def test_duplicate_title_is_refused_with_the_real_message(api, demo):
    resp = api.create_page(demo["space"], "Getting Started", expect=400)
    assert resp.json()["errors"][0]["title"] == (
        "A page with this title already exists: A page already exists with the title "
        "Getting Started in the space with key DEMO"
    )


def test_create_over_5_mb_answers_413(api, demo):
    resp = api.create_page(
        demo["space"], "Huge", "<p>" + "x" * (5 * 1024 * 1024) + "</p>", expect=413
    )
    assert resp.json()["errors"][0]["status"] == 413


def test_create_checks_space_and_parent(api, demo, confluence_sandbox):
    api.create_page("999999", "Nowhere", expect=404)
    team_home = confluence_sandbox.state.space_by_key("TEAM")["homepageId"]
    resp = api.create_page(demo["space"], "Cross", parent_id=team_home, expect=400)
    assert "same space" in resp.json()["errors"][0]["title"]
    root = api.create_page(demo["space"], "Root level", **{"root-level": "true"}).json()
    assert "parentId" not in root


def test_update_and_version_conflict(api, demo):
    page = api.create_page(demo["space"], "Versioned").json()
    updated = api.update_page(
        page, title="Versioned v2", version={"number": 2, "message": "second"}
    ).json()
    assert updated["version"]["number"] == 2
    assert updated["title"] == "Versioned v2"
    assert updated["version"]["message"] == "second"
    stale = api.update_page(page, expect=409)  # sends number 2 again: current is 2
    error = stale.json()["errors"][0]
    assert error["status"] == 409
    assert error["code"] == "CONFLICT"
    assert error["title"] == (
        "Version must be incremented when updating a page. "
        "Current Version: [2]. Provided version: [2]"
    )
    skipped = api.update_page(updated, version={"number": 5}, expect=409)
    assert "Provided version: [5]" in skipped.json()["errors"][0]["title"]
    missing = api.call(
        "PUT", f"{V2}/pages/{page['id']}", 400, json={"id": page["id"], "title": "x"}
    )
    assert "version" in missing.json()["errors"][0]["title"]


def test_versions_history_and_historic_read(api, demo):
    page = api.create_page(demo["space"], "History", "<p>one</p>").json()
    page = api.update_page(
        page,
        body={"representation": "storage", "value": "<p>two</p>"},
        version={"number": 2, "message": "m2"},
    ).json()
    api.update_page(
        page,
        title="History 3",
        body={"representation": "storage", "value": "<p>three</p>"},
        version={"number": 3, "message": "m3"},
    )
    versions = api.get(f"{V2}/pages/{page['id']}/versions", **{"body-format": "storage"})
    assert [v["number"] for v in versions["results"]] == [3, 2, 1]
    assert [v["page"]["body"]["storage"]["value"] for v in versions["results"]] == [
        "<p>three</p>",
        "<p>two</p>",
        "<p>one</p>",
    ]
    oldest = api.get(f"{V2}/pages/{page['id']}/versions", sort="modified-date")
    assert [v["number"] for v in oldest["results"]] == [1, 2, 3]
    v1 = api.get(f"{V2}/pages/{page['id']}", version=1, **{"body-format": "storage"})
    assert v1["title"] == "History"
    assert v1["body"]["storage"]["value"] == "<p>one</p>"
    assert v1["version"]["number"] == 1
    detail = api.get(f"{V2}/pages/{page['id']}/versions/2")
    assert detail["number"] == 2
    assert detail["message"] == "m2"
    assert detail["prevVersion"] == 1
    assert detail["nextVersion"] == 3
    api.call("GET", f"{V2}/pages/{page['id']}/versions/9", 404)
    api.call("GET", f"{V2}/pages/{page['id']}", 404, params={"version": 9})
    with_versions = api.get(f"{V2}/pages/{page['id']}", **{"include-versions": "true"})
    assert [v["number"] for v in with_versions["versions"]["results"]] == [3, 2, 1]


def test_restore_an_old_version_through_v1(api, demo):
    page = api.create_page(demo["space"], "Restorable", "<p>original</p>").json()
    api.update_page(
        page,
        title="Restorable renamed",
        body={"representation": "storage", "value": "<p>changed</p>"},
    )
    restored = api.call(
        "POST",
        f"{V1}/content/{page['id']}/version",
        200,
        json={
            "operationKey": "restore",
            "params": {"versionNumber": 1, "message": "undo", "restoreTitle": True},
        },
    ).json()
    assert restored["number"] == 3
    assert restored["message"] == "undo"
    now = api.get(f"{V2}/pages/{page['id']}", **{"body-format": "storage"})
    assert now["title"] == "Restorable"
    assert now["body"]["storage"]["value"] == "<p>original</p>"
    assert now["version"]["number"] == 3
    current = api.call(
        "POST",
        f"{V1}/content/{page['id']}/version",
        400,
        json={"operationKey": "restore", "params": {"versionNumber": 3, "message": "x"}},
    )
    assert current.json()["statusCode"] == 400


def test_rename_through_title_endpoint(api, demo):
    page = api.create_page(demo["space"], "Old name", "<p>keep</p>").json()
    renamed = api.call(
        "PUT",
        f"{V2}/pages/{page['id']}/title",
        200,
        json={"status": "current", "title": "New name"},
    ).json()
    assert renamed["title"] == "New name"
    assert renamed["version"]["number"] == 2
    body = api.get(f"{V2}/pages/{page['id']}", **{"body-format": "storage"})["body"]
    assert body["storage"]["value"] == "<p>keep</p>"
    api.call(
        "PUT",
        f"{V2}/pages/{page['id']}/title",
        400,
        json={"status": "current", "title": "Getting Started"},
    )


def test_trash_purge_and_restore(api, demo, confluence_sandbox):
    parent = api.create_page(demo["space"], "Doomed").json()
    child = api.create_page(demo["space"], "Orphan", parent_id=parent["id"]).json()
    api.call("DELETE", f"{V2}/pages/{parent['id']}", 400, params={"purge": "true"})
    api.call("DELETE", f"{V2}/pages/{parent['id']}", 204)
    trashed = api.get(f"{V2}/pages/{parent['id']}")
    assert trashed["status"] == "trashed"
    assert parent["id"] not in [p["id"] for p in api.get(f"{V2}/pages", limit=250)["results"]]
    assert parent["id"] in [
        p["id"] for p in api.get(f"{V2}/pages", status="trashed", limit=250)["results"]
    ]
    moved_up = api.get(f"{V2}/pages/{child['id']}")
    assert moved_up["parentId"] == demo["home"]
    # a trashed page's title is free again, and restoring it then is refused
    again = api.create_page(demo["space"], "Doomed").json()
    restore = {
        "id": parent["id"],
        "status": "current",
        "title": "Doomed",
        "body": {"representation": "storage", "value": ""},
        "version": {"number": 2},
    }
    api.call("PUT", f"{V2}/pages/{parent['id']}", 400, json=restore)
    api.call("DELETE", f"{V2}/pages/{again['id']}", 204)
    back = api.call("PUT", f"{V2}/pages/{parent['id']}", 200, json=restore).json()
    assert back["status"] == "current"
    api.call("DELETE", f"{V2}/pages/{again['id']}", 204, params={"purge": "true"})
    api.call("GET", f"{V2}/pages/{again['id']}", 404)
    assert again["id"] not in confluence_sandbox.state.pages


def test_tree_children_descendants_ancestors(api, demo):
    a = api.create_page(demo["space"], "Tree A").json()
    b = api.create_page(demo["space"], "Tree B", parent_id=a["id"]).json()
    c = api.create_page(demo["space"], "Tree C", parent_id=b["id"]).json()
    folder = api.call(
        "POST",
        f"{V2}/folders",
        200,
        json={"spaceId": demo["space"], "title": "Tree folder", "parentId": a["id"]},
    ).json()
    d = api.create_page(demo["space"], "Tree D", parent_id=folder["id"]).json()
    assert d["parentType"] == "folder"
    direct = api.get(f"{V2}/pages/{a['id']}/direct-children")["results"]
    assert [(x["title"], x["type"]) for x in direct] == [
        ("Tree B", "page"),
        ("Tree folder", "folder"),
    ]
    pages_only = api.get(f"{V2}/pages/{a['id']}/children")["results"]
    assert [x["title"] for x in pages_only] == ["Tree B"]
    desc = api.get(f"{V2}/pages/{a['id']}/descendants", depth=5)["results"]
    assert [(x["title"], x["depth"]) for x in desc] == [
        ("Tree B", 1),
        ("Tree C", 2),
        ("Tree folder", 1),
        ("Tree D", 2),
    ]
    shallow = api.get(f"{V2}/pages/{a['id']}/descendants", depth=1)["results"]
    assert [x["title"] for x in shallow] == ["Tree B", "Tree folder"]
    api.call("GET", f"{V2}/pages/{a['id']}/descendants", 400, params={"depth": 11})
    chain = api.get(f"{V2}/pages/{c['id']}/ancestors")["results"]
    assert [x["id"] for x in chain] == [demo["home"], a["id"], b["id"]]
    nearest = api.get(f"{V2}/pages/{c['id']}/ancestors", limit=1)["results"]
    assert [x["id"] for x in nearest] == [b["id"]]
    via_folder = api.get(f"{V2}/pages/{d['id']}/ancestors")["results"]
    assert via_folder[-1] == {"id": folder["id"], "type": "folder"}


def test_move_before_after_append_and_loops(api, demo):
    parent = api.create_page(demo["space"], "Move parent").json()
    one = api.create_page(demo["space"], "Move one", parent_id=parent["id"]).json()
    two = api.create_page(demo["space"], "Move two", parent_id=parent["id"]).json()
    loose = api.create_page(demo["space"], "Move loose").json()

    def order():
        return [
            x["title"] for x in api.get(f"{V2}/pages/{parent['id']}/direct-children")["results"]
        ]

    assert order() == ["Move one", "Move two"]
    moved = api.call("PUT", f"{V1}/content/{loose['id']}/move/before/{two['id']}", 200).json()
    assert moved == {"pageId": loose["id"]}
    assert order() == ["Move one", "Move loose", "Move two"]
    api.call("PUT", f"{V1}/content/{one['id']}/move/after/{two['id']}", 200)
    assert order() == ["Move loose", "Move two", "Move one"]
    api.call("PUT", f"{V1}/content/{two['id']}/move/append/{one['id']}", 200)
    assert order() == ["Move loose", "Move one"]
    assert api.get(f"{V2}/pages/{two['id']}")["parentId"] == one["id"]
    loop = api.call("PUT", f"{V1}/content/{parent['id']}/move/append/{two['id']}", 400)
    assert loop.json()["statusCode"] == 400
    assert "loop" in loop.json()["message"]
    api.call("PUT", f"{V1}/content/{one['id']}/move/sideways/{two['id']}", 400)
    api.call("PUT", f"{V1}/content/{one['id']}/move/append/999999", 404)


def test_move_to_another_space_takes_the_subtree(api, demo, confluence_sandbox):
    team = confluence_sandbox.state.space_by_key("TEAM")
    top = api.create_page(demo["space"], "Travelling").json()
    below = api.create_page(demo["space"], "Travelling child", parent_id=top["id"]).json()
    api.call("PUT", f"{V1}/content/{top['id']}/move/append/{team['homepageId']}", 200)
    assert api.get(f"{V2}/pages/{top['id']}")["spaceId"] == team["id"]
    assert api.get(f"{V2}/pages/{below['id']}")["spaceId"] == team["id"]
    assert api.get(f"{V2}/pages/{below['id']}")["_links"]["webui"].startswith("/spaces/TEAM/")


def test_update_parent_moves_within_space_only(api, demo, confluence_sandbox):
    a = api.create_page(demo["space"], "Parent A").json()
    b = api.create_page(demo["space"], "Parent B").json()
    moved = api.update_page(b, parentId=a["id"]).json()
    assert moved["parentId"] == a["id"]
    team_home = confluence_sandbox.state.space_by_key("TEAM")["homepageId"]
    api.update_page(moved, parentId=team_home, expect=400)
    api.update_page(moved, spaceId=confluence_sandbox.state.space_by_key("TEAM")["id"], expect=400)
    api.update_page(api.get(f"{V2}/pages/{a['id']}"), parentId=b["id"], expect=400)  # loop


def test_folders_create_read_delete(api, demo):
    folder = api.call(
        "POST", f"{V2}/folders", 200, json={"spaceId": demo["space"], "title": "Plans"}
    ).json()
    assert folder["type"] == "folder"
    assert folder["parentId"] == demo["home"]
    assert folder["_links"]["webui"] == f"/spaces/DEMO/folder/{folder['id']}"
    inner = api.call(
        "POST",
        f"{V2}/folders",
        200,
        json={"spaceId": demo["space"], "title": "Inner", "parentId": folder["id"]},
    ).json()
    page = api.create_page(demo["space"], "In folder", parent_id=inner["id"]).json()
    assert api.get(f"{V2}/folders/{folder['id']}")["title"] == "Plans"
    kids = api.get(f"{V2}/folders/{folder['id']}/direct-children")["results"]
    assert [(k["title"], k["type"]) for k in kids] == [("Inner", "folder")]
    desc = api.get(f"{V2}/folders/{folder['id']}/descendants", depth=3)["results"]
    assert [d["title"] for d in desc] == ["Inner", "In folder"]
    anc = api.get(f"{V2}/folders/{inner['id']}/ancestors")["results"]
    assert anc == [{"id": demo["home"], "type": "page"}, {"id": folder["id"], "type": "folder"}]
    api.call("DELETE", f"{V2}/folders/{inner['id']}", 204)
    assert api.get(f"{V2}/pages/{page['id']}")["parentId"] == folder["id"]
    api.call("DELETE", f"{V2}/folders/{inner['id']}", 404)
    api.call("GET", f"{V2}/folders/abc", 400)
    api.call("POST", f"{V2}/folders", 400, json={"spaceId": demo["space"]})


def test_spaces_list_get_create(api, confluence_sandbox):
    listed = api.get(f"{V2}/spaces", keys="DEMO,TEAM", sort="-key")["results"]
    assert [s["key"] for s in listed] == ["TEAM", "DEMO"]
    demo = api.get(f"{V2}/spaces/{listed[1]['id']}", **{"description-format": "plain"})
    assert demo["description"]["plain"]["value"]
    assert demo["_links"]["webui"] == "/spaces/DEMO"
    created = api.call(
        "POST",
        f"{V1}/space",
        200,
        json={
            "key": "OPS",
            "name": "Operations",
            "description": {"plain": {"value": "Runbooks", "representation": "plain"}},
        },
    ).json()
    assert created["key"] == "OPS"
    assert created["description"]["plain"]["value"] == "Runbooks"
    got = api.get(f"{V2}/spaces", keys="OPS")["results"][0]
    assert got["id"] == str(created["id"])
    assert got["homepageId"]
    home = api.get(f"{V2}/pages/{got['homepageId']}")
    assert home["title"] == "Operations"
    assert "parentId" not in home
    dup = api.call("POST", f"{V1}/space", 400, json={"key": "OPS", "name": "Again"})
    assert dup.json()["statusCode"] == 400
    assert "OPS" in dup.json()["message"]
    api.call("POST", f"{V1}/space", 400, json={"key": "bad key!", "name": "x"})
    api.call("GET", f"{V2}/spaces/424242", 404)
    root = api.get(f"{V2}/spaces/{got['id']}/pages", depth="root")["results"]
    assert [p["id"] for p in root] == [got["homepageId"]]


def test_page_filters(api, demo, confluence_sandbox):
    team = confluence_sandbox.state.space_by_key("TEAM")
    only_team = api.get(f"{V2}/pages", **{"space-id": team["id"], "limit": 250})["results"]
    assert only_team
    assert {p["spaceId"] for p in only_team} == {team["id"]}
    ids = [p["id"] for p in only_team][:2]
    by_id = api.get(f"{V2}/pages", id=",".join(ids))["results"]
    assert sorted(p["id"] for p in by_id) == sorted(ids)
    api.call("GET", f"{V2}/pages", 400, params={"sort": "sideways"})
    api.call("GET", f"{V2}/pages", 400, params={"body-format": "view"})
    api.call("GET", f"{V2}/pages/not-a-number", 400)


def test_space_list_filters_ids_type_status(api, confluence_sandbox):
    state = confluence_sandbox.state
    demo, team = state.space_by_key("DEMO"), state.space_by_key("TEAM")
    by_ids = api.get(f"{V2}/spaces", ids=team["id"])["results"]
    assert [s["key"] for s in by_ids] == ["TEAM"]
    with state.lock:
        team["type"], team["status"] = "personal", "archived"
    personal = api.get(f"{V2}/spaces", type="personal")["results"]
    assert [s["key"] for s in personal] == ["TEAM"]
    assert [s["key"] for s in api.get(f"{V2}/spaces", status="archived")["results"]] == ["TEAM"]
    current = [s["key"] for s in api.get(f"{V2}/spaces", status="current")["results"]]
    assert "DEMO" in current
    assert "TEAM" not in current
    both = api.get(f"{V2}/spaces", ids=f"{demo['id']},{team['id']}", sort="-id")["results"]
    assert [s["id"] for s in both] == sorted([demo["id"], team["id"]], key=int, reverse=True)
    api.call("GET", f"{V2}/spaces", 400, params={"type": "odd"})
    api.call("GET", f"{V2}/spaces", 400, params={"status": "gone"})
    api.call("GET", f"{V2}/spaces", 400, params={"ids": "abc"})


def test_space_pages_filters(api, demo):
    parent = api.create_page(demo["space"], "Filter parent").json()
    api.create_page(demo["space"], "Filter child", "<p>kid</p>", parent_id=parent["id"])
    path = f"{V2}/spaces/{demo['space']}/pages"
    titled = api.get(path, title="Filter child", **{"body-format": "storage"})["results"]
    assert [p["title"] for p in titled] == ["Filter child"]
    assert titled[0]["body"]["storage"]["value"] == "<p>kid</p>"
    api.call("DELETE", f"{V2}/pages/{parent['id']}", 204)
    trashed = api.get(path, status="trashed")["results"]
    assert [p["title"] for p in trashed] == ["Filter parent"]
    listed = [p["title"] for p in api.get(path, sort="-title", limit=250)["results"]]
    assert listed == sorted(listed, key=str.lower, reverse=True)
    assert "Filter parent" not in listed
    roots = api.get(path, depth="root")["results"]
    assert [p["id"] for p in roots] == [demo["home"]]
    api.call("GET", path, 400, params={"depth": "some"})


def test_get_page_include_version_can_be_turned_off(api, demo):
    page = api.create_page(demo["space"], "Versionless view").json()
    assert api.get(f"{V2}/pages/{page['id']}")["version"]["number"] == 1
    bare = api.get(f"{V2}/pages/{page['id']}", **{"include-version": "false"})
    assert "version" not in bare
    assert bare["title"] == "Versionless view"
