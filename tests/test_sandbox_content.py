"""Sandbox content over real HTTP: labels, comments, attachments, users; the demo seed; the
multipart parser."""

from __future__ import annotations

import io
import os
import re
import struct
import zlib
from pathlib import Path
from urllib.parse import quote

import pytest
from spec_support import load_specs

from ctk_core.sandbox import multipart, seed, selection
from ctk_core.sandbox.routes_attachments import blob_file, create_attachment
from ctk_core.sandbox.state import State

V2 = "/wiki/api/v2"
V1 = "/wiki/rest/api"
NOCHECK = {"X-Atlassian-Token": "nocheck"}


@pytest.fixture
def site(confluence_sandbox):
    """The sandbox plus an authenticated session; ``site.http`` is the session."""
    with confluence_sandbox.session() as session:
        confluence_sandbox.http = session
        yield confluence_sandbox


def call(site, method: str, path: str, **kwargs):
    return site.http.request(method, site.url + path, **kwargs)


def conforms(method: str, path: str, resp) -> None:
    """Check an answer against the OpenAPI schema (tests/spec, or $CTK_SPEC_DIR)."""
    load_specs().validate_response(method, path, resp.status_code, resp.json())


def storage(text: str) -> dict[str, str]:
    return {"representation": "storage", "value": f"<p>{text}</p>"}


# ------------------------------------------------------------------------------ labels


def test_label_add_is_idempotent_and_remove_too(site):
    pid = site.page_id("Release Notes")
    path = f"{V1}/content/{pid}/label"
    first = call(site, "POST", path, json={"prefix": "global", "name": "Roadmap"})
    assert first.status_code == 200
    conforms("POST", path, first)
    assert [lb["name"] for lb in first.json()["results"]] == ["roadmap"]
    again = call(
        site,
        "POST",
        path,
        json=[{"prefix": "global", "name": "roadmap"}, {"prefix": "global", "name": "q3"}],
    )
    assert [lb["name"] for lb in again.json()["results"]] == ["roadmap", "q3"]
    listed = call(site, "GET", f"{V2}/pages/{pid}/labels").json()["results"]
    assert sorted(lb["name"] for lb in listed) == ["q3", "roadmap"]

    for _ in range(2):  # removing twice is fine
        assert call(site, "DELETE", f"{path}/roadmap").status_code == 204
    assert call(site, "DELETE", path, params={"name": "q3"}).status_code == 204
    assert call(site, "DELETE", path, params={"name": "q3"}).status_code == 204
    assert call(site, "GET", f"{V2}/pages/{pid}/labels").json()["results"] == []
    assert site.state.content_labels[pid] == []


def test_label_lookups(site):
    pid = site.page_id("Team Goals")
    call(site, "POST", f"{V1}/content/{pid}/label", json={"prefix": "team", "name": "okr"})
    all_labels = call(site, "GET", f"{V2}/labels", params={"limit": 250}).json()["results"]
    okr = next(lb for lb in all_labels if lb["name"] == "okr")
    assert okr["prefix"] == "team"
    pages = call(
        site, "GET", f"{V2}/labels/{okr['id']}/pages", params={"body-format": "storage"}
    ).json()["results"]
    assert [p["title"] for p in pages] == ["Team Goals"]
    assert pages[0]["body"]["storage"]["value"].startswith("<h1>Team Goals")
    only_team = call(site, "GET", f"{V2}/pages/{pid}/labels", params={"prefix": "team"})
    assert [lb["name"] for lb in only_team.json()["results"]] == ["okr"]
    only_global = call(site, "GET", f"{V2}/pages/{pid}/labels", params={"prefix": "global"})
    assert [lb["name"] for lb in only_global.json()["results"]] == ["team"]
    guide = next(lb for lb in all_labels if lb["name"] == "guide")
    in_space = call(
        site, "GET", f"{V2}/labels/{guide['id']}/pages", params={"space-id": site.space_id("TEAM")}
    ).json()["results"]
    assert in_space == []


def test_label_errors(site):
    pid = site.page_id("Release Notes")
    bad = call(site, "POST", f"{V1}/content/{pid}/label", json={"name": "two words"})
    assert bad.status_code == 400
    assert bad.json()["statusCode"] == 400
    assert call(site, "POST", f"{V1}/content/999999/label", json={"name": "x"}).status_code == 404
    assert call(site, "GET", f"{V2}/pages/999999/labels").status_code == 404
    assert call(site, "GET", f"{V2}/labels/999999/pages").status_code == 404
    assert call(site, "DELETE", f"{V1}/content/{pid}/label").status_code == 400
    # nothing was half-applied by the refused request
    assert "two" not in [lb["name"] for lb in site.state.labels.values()]


def test_labels_on_attachments(site):
    att = seed.demo_ids()["attachment:diagram.png"]
    resp = call(site, "POST", f"{V1}/content/{att}/label", json={"name": "image"})
    assert [lb["name"] for lb in resp.json()["results"]] == ["image"]
    single = call(site, "GET", f"{V2}/attachments/{att}", params={"include-labels": "true"})
    assert [lb["name"] for lb in single.json()["labels"]["results"]] == ["image"]


# ------------------------------------------------------------------------------ comments


def test_footer_comment_create_reply_update_delete(site):
    pid = site.page_id("Release 1.0")
    created = call(
        site, "POST", f"{V2}/footer-comments", json={"pageId": pid, "body": storage("Ship it")}
    )
    assert created.status_code == 201
    conforms("POST", f"{V2}/footer-comments", created)
    comment = created.json()
    assert comment["pageId"] == pid
    assert comment["version"]["number"] == 1
    assert comment["version"]["authorId"] == site.state.current_user

    read = call(
        site, "GET", f"{V2}/footer-comments/{comment['id']}", params={"body-format": "storage"}
    )
    assert read.json()["body"]["storage"]["value"] == "<p>Ship it</p>"

    reply = call(
        site,
        "POST",
        f"{V2}/footer-comments",
        json={"parentCommentId": comment["id"], "body": {"storage": storage("Shipped")}},
    )
    assert reply.status_code == 201
    assert reply.json()["parentCommentId"] == comment["id"]
    kids = call(
        site,
        "GET",
        f"{V2}/footer-comments/{comment['id']}/children",
        params={"body-format": "storage"},
    ).json()["results"]
    assert [k["body"]["storage"]["value"] for k in kids] == ["<p>Shipped</p>"]
    top = call(site, "GET", f"{V2}/pages/{pid}/footer-comments").json()["results"]
    assert [c["id"] for c in top] == [comment["id"]]  # replies are not top-level

    edited = call(
        site,
        "PUT",
        f"{V2}/footer-comments/{comment['id']}",
        json={"version": {"number": 2, "message": "typo"}, "body": storage("Ship it now")},
    )
    assert edited.status_code == 200
    assert edited.json()["version"]["number"] == 2
    stale = call(
        site,
        "PUT",
        f"{V2}/footer-comments/{comment['id']}",
        json={"version": {"number": 2}, "body": storage("again")},
    )
    assert stale.status_code == 409
    assert "Current Version: [2]. Provided version: [2]" in stale.json()["errors"][0]["title"]
    old = call(
        site,
        "GET",
        f"{V2}/footer-comments/{comment['id']}",
        params={"body-format": "storage", "version": 1},
    )
    assert old.json()["body"]["storage"]["value"] == "<p>Ship it</p>"
    adf = call(
        site,
        "GET",
        f"{V2}/footer-comments/{comment['id']}",
        params={"body-format": "atlas_doc_format"},
    ).json()["body"]
    assert "Ship it now" in adf["atlas_doc_format"]["value"]

    assert call(site, "DELETE", f"{V2}/footer-comments/{comment['id']}").status_code == 204
    assert call(site, "GET", f"{V2}/footer-comments/{comment['id']}").status_code == 404
    assert call(site, "GET", f"{V2}/footer-comments/{reply.json()['id']}").status_code == 404


def test_footer_comment_errors(site):
    pid = site.page_id("Release 1.0")
    both = call(
        site,
        "POST",
        f"{V2}/footer-comments",
        json={"pageId": pid, "parentCommentId": "1", "body": storage("x")},
    )
    assert both.status_code == 400
    assert both.json()["errors"][0]["status"] == 400
    assert (
        call(
            site, "POST", f"{V2}/footer-comments", json={"pageId": "999999", "body": storage("x")}
        ).status_code
        == 404
    )
    assert call(site, "POST", f"{V2}/footer-comments", json={"pageId": pid}).status_code == 400
    assert (
        call(
            site,
            "POST",
            f"{V2}/footer-comments",
            json={"pageId": pid, "body": {"representation": "html", "value": "x"}},
        ).status_code
        == 400
    )
    inline_id = seed.demo_ids()["comment:Are revisions really immutable"]
    assert call(site, "GET", f"{V2}/footer-comments/{inline_id}").status_code == 404


def test_demo_inline_comments_and_resolution_filter(site):
    pid = site.page_id("Data Model")
    path = f"{V2}/pages/{pid}/inline-comments"
    everything = call(site, "GET", path, params={"body-format": "storage"})
    conforms("GET", path, everything)
    statuses = sorted(c["resolutionStatus"] for c in everything.json()["results"])
    assert statuses == ["open", "resolved"]
    open_only = call(site, "GET", path, params={"resolution-status": "open"}).json()["results"]
    assert [c["properties"]["inlineOriginalSelection"] for c in open_only] == [
        "immutable revisions"
    ]
    marker = open_only[0]["properties"]["inlineMarkerRef"]
    assert f'ac:ref="{marker}"' in site.state.pages[pid]["body"]
    replies = call(site, "GET", f"{V2}/inline-comments/{open_only[0]['id']}/children")
    assert len(replies.json()["results"]) == 1
    assert call(site, "GET", path, params={"resolution-status": "bogus"}).status_code == 400


def test_inline_comment_create_resolve_reopen_delete(site):
    pid = site.page_id("Installing on macOS")
    created = call(
        site,
        "POST",
        f"{V2}/inline-comments",
        json={
            "pageId": pid,
            "body": storage("Which Homebrew tap?"),
            "inlineCommentProperties": {
                "textSelection": "Homebrew",
                "textSelectionMatchCount": 1,
                "textSelectionMatchIndex": 0,
            },
        },
    )
    assert created.status_code == 201, created.text
    conforms("POST", f"{V2}/inline-comments", created)
    comment = created.json()
    ref = comment["properties"]["inlineMarkerRef"]
    body = site.state.pages[pid]["body"]
    assert f'<ac:inline-comment-marker ac:ref="{ref}">Homebrew</ac:inline-comment-marker>' in body

    cid = comment["id"]
    no_version = call(site, "PUT", f"{V2}/inline-comments/{cid}", json={"resolved": True})
    assert no_version.status_code == 400
    stale = call(
        site,
        "PUT",
        f"{V2}/inline-comments/{cid}",
        json={"version": {"number": 1}, "resolved": True},
    )
    assert stale.status_code == 409
    assert site.state.comments[cid]["resolutionStatus"] == "open"  # nothing half-done
    resolved = call(
        site,
        "PUT",
        f"{V2}/inline-comments/{cid}",
        json={"version": {"number": 2}, "resolved": True},
    )
    assert resolved.json()["resolutionStatus"] == "resolved"
    assert site.state.comments[cid]["body"] == "<p>Which Homebrew tap?</p>"
    assert resolved.json()["resolutionLastModifierId"] == site.state.current_user
    listed = call(
        site, "GET", f"{V2}/pages/{pid}/inline-comments", params={"resolution-status": "resolved"}
    ).json()["results"]
    assert [c["id"] for c in listed] == [cid]
    reopened = call(
        site,
        "PUT",
        f"{V2}/inline-comments/{cid}",
        json={"version": {"number": 3}, "body": storage("Reopening"), "resolved": False},
    )
    assert reopened.json()["resolutionStatus"] == "reopened"
    assert reopened.json()["version"]["number"] == 3
    assert (
        call(
            site,
            "GET",
            f"{V2}/pages/{pid}/inline-comments",
            params={"resolution-status": "resolved"},
        ).json()["results"]
        == []
    )

    reply = call(
        site,
        "POST",
        f"{V2}/inline-comments",
        json={"parentCommentId": cid, "body": storage("The default one")},
    )
    assert reply.status_code == 201
    assert reply.json()["properties"]["inlineMarkerRef"] == ref
    refused = call(
        site,
        "PUT",
        f"{V2}/inline-comments/{reply.json()['id']}",
        json={"version": {"number": 2}, "resolved": True},
    )
    assert refused.status_code == 400
    assert "Replies" in refused.json()["errors"][0]["title"]
    footer_id = seed.demo_ids()["comment:Should we mention the"]
    assert (
        call(
            site,
            "PUT",
            f"{V2}/footer-comments/{footer_id}",
            json={"version": {"number": 2}, "resolved": True},
        ).status_code
        == 400
    )

    assert call(site, "DELETE", f"{V2}/inline-comments/{cid}").status_code == 204
    assert "inline-comment-marker" not in site.state.pages[pid]["body"]
    assert "Homebrew" in site.state.pages[pid]["body"]
    assert reply.json()["id"] not in site.state.comments


@pytest.mark.parametrize(
    ("props", "fragment"),
    [
        ({"textSelection": "not on this page at all"}, "not found"),
        ({"textSelection": "macOS", "textSelectionMatchIndex": 5}, "out of range"),
        ({"textSelection": "macOS", "textSelectionMatchCount": 1}, "occurs 3 time"),
        ({}, "textSelection"),
    ],
)
def test_inline_comment_selection_errors(site, props, fragment):
    pid = site.page_id("Installing on macOS")
    before = site.state.pages[pid]["body"]
    resp = call(
        site,
        "POST",
        f"{V2}/inline-comments",
        json={"pageId": pid, "body": storage("?"), "inlineCommentProperties": props},
    )
    assert resp.status_code == 400
    assert fragment in resp.json()["errors"][0]["title"]
    assert site.state.pages[pid]["body"] == before


def test_inline_selection_picks_the_asked_occurrence(site):
    pid = site.page_id("Installing on macOS")
    resp = call(
        site,
        "POST",
        f"{V2}/inline-comments",
        json={
            "pageId": pid,
            "body": storage("second"),
            "inlineCommentProperties": {
                "textSelection": "macOS",
                "textSelectionMatchCount": 3,
                "textSelectionMatchIndex": 1,
            },
        },
    )
    assert resp.status_code == 201
    body = site.state.pages[pid]["body"]
    ref = resp.json()["properties"]["inlineMarkerRef"]
    marked = body.index(f'ac:ref="{ref}"')
    assert body.count("macOS", 0, marked) == 1  # the first one stays unmarked


# ------------------------------------------------------------------------------ attachments


def upload(
    site,
    page_id: str,
    name: str,
    data: bytes,
    method: str = "POST",
    comment: str | None = None,
    mime: str = "application/octet-stream",
    headers: dict[str, str] | None = None,
):
    fields = {"minorEdit": "false"}
    if comment is not None:
        fields["comment"] = comment
    return call(
        site,
        method,
        f"{V1}/content/{page_id}/child/attachment",
        files={"file": (name, data, mime)},
        data=fields,
        headers=NOCHECK if headers is None else headers,
    )


def download(site, att: dict) -> bytes:
    resp = call(site, "GET", "/wiki" + att["downloadLink"])
    assert resp.status_code == 200
    assert resp.headers["Content-Length"] == str(len(resp.content))
    assert resp.headers["Content-Type"] == att["mediaType"]
    return resp.content


def test_upload_reupload_download_byte_for_byte(site):
    pid = site.page_id("API Design")
    first_bytes = os.urandom(3 * 1024 * 1024 + 17)  # several chunks, odd size
    up = upload(site, pid, "dump.bin", first_bytes, comment="first cut")
    assert up.status_code == 200, up.text
    conforms("POST", f"{V1}/content/{pid}/child/attachment", up)
    att_id = up.json()["results"][0]["id"]
    assert att_id.startswith("att")

    att = call(site, "GET", f"{V2}/attachments/{att_id}").json()
    assert (att["title"], att["fileSize"], att["comment"]) == (
        "dump.bin",
        len(first_bytes),
        "first cut",
    )
    assert att["version"]["number"] == 1
    assert download(site, att) == first_bytes
    # the bytes live in a file, not in the JSON state
    assert blob_file(site.state, site.state.attachments[att_id]["blob"]) is not None

    dup = upload(site, pid, "dump.bin", b"other")
    assert dup.status_code == 400
    assert "same file name" in dup.json()["message"]

    second_bytes = b"version two\n" * 1000
    again = upload(site, pid, "dump.bin", second_bytes, method="PUT", comment="second")
    assert again.status_code == 200
    assert again.json()["results"][0]["id"] == att_id
    assert again.json()["results"][0]["version"]["number"] == 2
    att2 = call(site, "GET", f"{V2}/attachments/{att_id}").json()
    assert att2["version"]["number"] == 2
    assert att2["fileSize"] == len(second_bytes)
    assert download(site, att2) == second_bytes
    old = call(site, "GET", f"{V2}/attachments/{att_id}", params={"version": 1}).json()
    assert old["fileSize"] == len(first_bytes)
    assert download(site, old) == first_bytes
    listed = call(site, "GET", f"{V2}/pages/{pid}/attachments").json()["results"]
    assert [a["id"] for a in listed] == [att_id]


def test_put_creates_when_the_name_is_new_and_names_round_trip(site):
    pid = site.page_id("API Design")
    name = "résumé 2024 (final).txt"
    resp = upload(site, pid, name, b"Bonjour\n", method="PUT", mime="text/plain")
    assert resp.status_code == 200
    att = resp.json()["results"][0]
    assert att["title"] == name
    assert att["version"]["number"] == 1
    v2 = call(site, "GET", f"{V2}/attachments/{att['id']}").json()
    assert quote(name) in v2["downloadLink"]
    assert download(site, v2) == b"Bonjour\n"


def test_upload_without_xsrf_token_is_refused(site):
    pid = site.page_id("API Design")
    for method in ("POST", "PUT"):
        resp = upload(site, pid, "sneaky.txt", b"x", method=method, headers={})
        assert resp.status_code == 403
        assert resp.json()["message"] == "XSRF check failed"
    assert not [a for a in site.state.attachments.values() if a["title"] == "sneaky.txt"]


def test_upload_errors(site):
    assert upload(site, "999999", "a.txt", b"x").status_code == 404
    pid = site.page_id("API Design")
    not_multipart = call(
        site, "POST", f"{V1}/content/{pid}/child/attachment", json={"file": "x"}, headers=NOCHECK
    )
    assert not_multipart.status_code == 400
    no_file = call(
        site,
        "POST",
        f"{V1}/content/{pid}/child/attachment",
        files={"comment": (None, "just a comment")},
        headers=NOCHECK,
    )
    assert no_file.status_code == 400


def test_demo_attachments_and_filters(site):
    arch = site.page_id("Architecture")
    path = f"{V2}/pages/{arch}/attachments"
    listed = call(site, "GET", path)
    conforms("GET", path, listed)
    (png,) = listed.json()["results"]
    assert (png["title"], png["mediaType"]) == ("diagram.png", "image/png")
    data = download(site, png)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    getting = site.page_id("Getting Started")
    upload(site, getting, "extra.png", data, mime="image/png")

    def names(**q):
        answer = call(site, "GET", f"{V2}/pages/{getting}/attachments", params=q)
        return [a["title"] for a in answer.json()["results"]]

    assert names() == ["notes.txt", "extra.png"]
    assert names(mediaType="image/png") == ["extra.png"]
    assert names(filename="notes.txt") == ["notes.txt"]
    assert names(sort="-created-date") == ["extra.png", "notes.txt"]
    assert call(site, "GET", f"{V2}/pages/999999/attachments").status_code == 404


def test_attachment_list_pages_with_default_limit_50(site):
    pid = site.page_id("Team Handbook")
    with site.state.lock:
        for i in range(55):
            create_attachment(site.state, pid, f"file{i:02}.txt", b"x", media_type="text/plain")
    first = call(site, "GET", f"{V2}/pages/{pid}/attachments").json()
    assert len(first["results"]) == 50
    assert "next" in first["_links"]
    rest = call(site, "GET", first["_links"]["next"]).json()
    assert len(rest["results"]) == 5
    assert "next" not in rest["_links"]
    assert (
        call(site, "GET", f"{V2}/pages/{pid}/attachments", params={"limit": 251}).status_code == 400
    )


def test_attachment_delete_trash_and_purge(site):
    att_id = seed.demo_ids()["attachment:notes.txt"]
    pid = site.page_id("Getting Started")
    assert call(site, "DELETE", f"{V2}/attachments/{att_id}").status_code == 204
    assert call(site, "GET", f"{V2}/pages/{pid}/attachments").json()["results"] == []
    trashed = call(site, "GET", f"{V2}/pages/{pid}/attachments", params={"status": "trashed"})
    assert [a["id"] for a in trashed.json()["results"]] == [att_id]
    assert call(site, "GET", f"/wiki/download/attachments/{pid}/notes.txt").status_code == 404
    assert (
        call(site, "DELETE", f"{V2}/attachments/{att_id}", params={"purge": "true"}).status_code
        == 204
    )
    assert call(site, "GET", f"{V2}/attachments/{att_id}").status_code == 404
    assert att_id not in site.state.attachments


def test_v1_download_redirects_to_the_download_link(site):
    att_id = seed.demo_ids()["attachment:notes.txt"]
    pid = site.page_id("Getting Started")
    resp = call(
        site, "GET", f"{V1}/content/{pid}/child/attachment/{att_id}/download", allow_redirects=False
    )
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith(site.url + f"/wiki/download/attachments/{pid}/")
    followed = call(site, "GET", f"{V1}/content/{pid}/child/attachment/{att_id}/download")
    assert followed.content == seed.NOTES_TXT


def test_attachments_survive_a_restart(confluence_sandbox_factory, tmp_path):
    data_file = str(tmp_path / "site.json")
    payload = os.urandom(200_000)
    first = confluence_sandbox_factory(data=data_file)
    with first.session() as session:
        pid = first.page_id("API Design")
        resp = session.post(
            first.url + f"{V1}/content/{pid}/child/attachment",
            files={"file": ("keep.bin", payload)},
            data={"minorEdit": "true"},
            headers=NOCHECK,
        )
        att_id = resp.json()["results"][0]["id"]
    first.server.stop()
    second = confluence_sandbox_factory(data=data_file)
    with second.session() as session:
        att = session.get(second.url + f"{V2}/attachments/{att_id}").json()
        assert session.get(second.url + "/wiki" + att["downloadLink"]).content == payload
        png = session.get(second.url + f"{V2}/pages/{pid}/attachments").json()
        assert [a["title"] for a in png["results"]] == ["keep.bin"]
    assert blob_file(second.state, second.state.attachments[att_id]["blob"]) is not None


# ------------------------------------------------------------------------------ users


def test_users_endpoints(site):
    me = call(site, "GET", f"{V1}/user/current")
    conforms("GET", f"{V1}/user/current", me)
    assert me.json()["accountId"] == site.state.current_user == seed.CURRENT_USER
    assert me.json()["displayName"] == "Alex Morgan"

    priya = call(site, "GET", f"{V1}/user", params={"accountId": seed.PRIYA})
    assert priya.json()["displayName"] == "Priya Natarajan"
    assert call(site, "GET", f"{V1}/user", params={"accountId": "nobody"}).status_code == 404
    assert call(site, "GET", f"{V1}/user").status_code == 400

    found = call(site, "GET", f"{V1}/search/user", params={"cql": 'user.fullname ~ "priya"'})
    conforms("GET", f"{V1}/search/user", found)
    assert [r["user"]["accountId"] for r in found.json()["results"]] == [seed.PRIYA]
    assert found.json()["totalSize"] == 1
    everyone = call(site, "GET", f"{V1}/search/user", params={"cql": "type = user"}).json()
    assert everyone["totalSize"] == 3
    assert call(site, "GET", f"{V1}/search/user", params={"cql": "space = DEMO"}).status_code == 400

    bulk = call(
        site,
        "POST",
        f"{V2}/users-bulk",
        json={"accountIds": [seed.SAM, "unknown-id", seed.CURRENT_USER]},
    )
    conforms("POST", f"{V2}/users-bulk", bulk)
    assert [u["displayName"] for u in bulk.json()["results"]] == ["Sam O'Connor", "Alex Morgan"]
    assert call(site, "POST", f"{V2}/users-bulk", json={"accountIds": []}).status_code == 400


def test_current_user_follows_the_login_email(site):
    import requests

    resp = requests.get(site.url + f"{V1}/user/current", auth=("priya@example.com", "any-token"))
    # the fixture's sandbox accepts only its own credentials
    assert resp.status_code == 401
    with site.session() as session:
        assert session.get(site.url + f"{V1}/user/current").json()["email"] == site.email


# ------------------------------------------------------------------------------ the seed


def test_demo_seed_has_what_the_issue_asks_for():
    state = State()
    seed.seed(state, "demo")
    demo = state.space_by_key("DEMO")
    assert demo is not None
    assert state.space_by_key("TEAM") is not None
    pages = [p for p in state.pages.values() if p["spaceId"] == demo["id"]]
    assert len(pages) >= 13  # home + at least 12

    def depth(node) -> int:
        n = 0
        while node.get("parentId"):
            node = state.pages.get(node["parentId"]) or state.folders[node["parentId"]]
            n += 1
        return n

    assert max(depth(p) for p in pages) >= 3
    folder = next(iter(state.folders.values()))
    assert len([p for p in pages if p["parentId"] == folder["id"]]) >= 2
    bodies = "".join(p["body"] for p in pages)
    for needle in (
        "<h1>",
        "<ol>",
        "<ul><li>",
        "<th>",
        'ac:name="code"',
        'ac:name="language"',
        "<![CDATA[",
        'ac:name="info"',
        'ac:name="note"',
        'ac:name="warning"',
        "<ri:page ri:content-title=",
        "<ac:image",
        'ri:filename="diagram.png"',
        "<ri:user ri:account-id=",
        'ac:name="jira"',
        "<ac:inline-comment-marker ac:ref=",
    ):
        assert needle in bodies, needle
    assert re.search(r"<li>[^<]*<ol><li>", bodies)  # a numbered list inside a list item
    assert re.search(r"<li>[^<]*(?:<[^>]+>[^<]*)*?<ul><li>", bodies)  # a nested bullet list
    assert max(p["version"]["number"] for p in pages) >= 4
    assert len({lb for ids in state.content_labels.values() for lb in ids}) >= 5
    kinds = [(c["kind"], bool(c["parentCommentId"])) for c in state.comments.values()]
    assert ("footer", True) in kinds
    assert ("footer", False) in kinds
    inline = [
        c for c in state.comments.values() if c["kind"] == "inline" and not c["parentCommentId"]
    ]
    assert sorted(c["resolutionStatus"] for c in inline) == ["open", "resolved"]
    assert sorted(a["mediaType"] for a in state.attachments.values()) == ["image/png", "text/plain"]
    assert len(state.users) == 3
    assert state.current_user == seed.CURRENT_USER


def test_demo_png_is_a_valid_png():
    data = seed.png_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        tag, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(tag + body) & 0xFFFFFFFF == crc
        chunks[tag] = body
        pos += 12 + length
    width, height = struct.unpack(">II", chunks[b"IHDR"][:8])
    assert len(zlib.decompress(chunks[b"IDAT"])) == height * (1 + 3 * width)
    assert b"IEND" in chunks


def test_empty_seed_and_stable_ids():
    empty = State()
    seed.seed(empty, "empty")
    assert empty.spaces == {}
    assert empty.pages == {}
    assert empty.current_user == seed.CURRENT_USER
    with pytest.raises(ValueError, match="unknown seed"):
        seed.seed(State(), "lots")
    again = State()
    seed.seed(again, "demo")
    ids = seed.demo_ids()
    assert seed.page_id(again, "Data Model") == ids["page:Data Model"]
    assert seed.space_id(again, "TEAM") == ids["space:TEAM"]
    assert ids["attachment:diagram.png"].startswith("att")


def test_empty_seed_over_http(confluence_sandbox_factory):
    site = confluence_sandbox_factory(seed="empty")
    with site.session() as session:
        found = session.get(site.url + f"{V1}/search", params={"cql": "type = page"}).json()
        assert found["totalSize"] == 0
        assert found["results"] == []
        assert session.get(site.url + f"{V1}/user/current").status_code == 200


# ------------------------------------------------------------------------------ multipart


def _body(boundary: str, parts: list[tuple[str, bytes]]) -> bytes:
    out = b""
    for headers, data in parts:
        out += f"--{boundary}\r\n{headers}\r\n\r\n".encode() + data + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


@pytest.mark.parametrize("chunk", [1, 7, 64, 1 << 20])
def test_multipart_parser_across_chunk_sizes(monkeypatch, tmp_path: Path, chunk):
    monkeypatch.setattr(multipart, "CHUNK", chunk)
    payload = b"--not-the-boundary\r\n" + bytes(range(256)) * 3 + b"\r\n--b0und"
    body = _body(
        "b0undary",
        [
            (
                "Content-Disposition: form-data; name=\"file\"; filename*=UTF-8''na%C3%AFve.bin\r\n"
                "Content-Type: application/octet-stream",
                payload,
            ),
            ('Content-Disposition: form-data; name="comment"', "héllo".encode()),
            ('Content-Disposition: form-data; name="file"; filename="C:\\\\tmp\\\\empty.txt"', b""),
        ],
    )
    parts = multipart.parse(io.BytesIO(body), b"b0undary", tmp_path)
    assert [p.name for p in parts] == ["file", "comment", "file"]
    assert parts[0].filename == "naïve.bin"
    assert parts[0].path is not None
    assert parts[0].path.read_bytes() == payload
    assert parts[0].size == len(payload)
    assert parts[1].text == "héllo"
    assert parts[1].path is None
    assert parts[2].filename == "empty.txt"
    assert parts[2].size == 0


def test_multipart_errors(tmp_path: Path):
    with pytest.raises(multipart.MultipartError, match="boundary"):
        multipart.boundary_of("multipart/form-data")
    with pytest.raises(multipart.MultipartError, match="multipart/form-data"):
        multipart.boundary_of("application/json")
    assert multipart.boundary_of('multipart/form-data; boundary="abc"') == b"abc"
    truncated = b'--xx\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nabc'
    with pytest.raises(multipart.MultipartError, match="unterminated"):
        multipart.parse(io.BytesIO(truncated), b"xx", tmp_path)
    assert list(tmp_path.iterdir()) == []  # the spooled part was removed
    with pytest.raises(multipart.MultipartError, match="not found"):
        multipart.parse(io.BytesIO(b"no parts here"), b"xx", tmp_path)


def test_attach_file_streams_a_file_into_the_store(site, tmp_path: Path):
    from ctk_core.sandbox.routes_attachments import attach_file

    source = tmp_path / "big.bin"
    with source.open("wb") as fh:
        for _ in range(5):
            fh.write(os.urandom(1 << 20))
    pid = site.page_id("API Design")
    with site.state.lock:
        att = attach_file(site.state, pid, source)
        again = attach_file(site.state, pid, source, comment="same bytes, new version")
    assert att["id"] == again["id"]
    assert again["version"]["number"] == 2
    meta = call(site, "GET", f"{V2}/attachments/{att['id']}").json()
    assert meta["fileSize"] == 5 << 20
    assert meta["mediaType"] == "application/octet-stream"
    with call(site, "GET", "/wiki" + meta["downloadLink"], stream=True) as resp:
        received = b"".join(resp.iter_content(1 << 16))
    assert received == source.read_bytes()


# ------------------------------------------------------------------------------ selections

REPEATS = (
    "<p>alpha beta alpha</p><p>gamma <strong>alpha</strong></p>"
    '<ac:structured-macro ac:name="info"><ac:parameter ac:name="title">alpha'
    "</ac:parameter><ac:rich-text-body><p>T&amp;C\n   apply</p></ac:rich-text-body>"
    '</ac:structured-macro><ac:structured-macro ac:name="code"><ac:plain-text-body>'
    "<![CDATA[alpha < omega]]></ac:plain-text-body></ac:structured-macro>"
)


def test_selection_counts_visible_text_by_block():
    assert selection.count(REPEATS, "alpha") == 4  # 3 in paragraphs, 1 in the code body
    assert selection.count(REPEATS, "alpha gamma") == 0  # never across blocks
    assert selection.count(REPEATS, "T&C apply") == 1  # entities and white space as read
    assert selection.count(REPEATS, "alpha < omega") == 1
    assert selection.count("<p>aaaa</p>", "aa") == 2  # occurrences do not overlap


def test_selection_marks_the_asked_occurrence():
    body, found = selection.mark(REPEATS, "alpha", 2, "r1")
    assert found == 4
    assert (
        '<strong><ac:inline-comment-marker ac:ref="r1">alpha</ac:inline-comment-marker>'
        "</strong>" in body
    )
    body, _ = selection.mark(REPEATS, "T&C apply", 0, "r2")
    assert (
        '<ac:inline-comment-marker ac:ref="r2">T&amp;C\n   apply</ac:inline-comment-marker>' in body
    )
    assert selection.unmark(body, "r2") == REPEATS
    unchanged, found = selection.mark(REPEATS, "alpha", 3, "r3")  # inside CDATA
    assert (unchanged, found) == (REPEATS, 4)
    unchanged, found = selection.mark(REPEATS, "alpha", 9, "r4")
    assert (unchanged, found) == (REPEATS, 4)
