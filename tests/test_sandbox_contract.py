"""Contract: every endpoint the sandbox serves answers bodies that validate against Atlassian's
OpenAPI schemas, and the requests in this table are themselves valid for the spec.

The table ``CASES`` has one row (or more) per route; ``test_every_route_has_a_case`` fails when
a route (ours, or one a route module adds) has no row. A row names the route pattern exactly as
registered, maps its path parameters to keys of the demo-site context (``demo_context``), and
gives query, body and expected status. Bodies of 2xx answers are validated against the
operation's response schema; error answers against the real error shapes (v2 ``errors[]``,
v1 ``statusCode``), which the spec does not describe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from spec_support import TRIMMED_DIR, UNDESCRIBED, Specs, load_specs

from ctk_core.sandbox.server import build_router

V2 = "/wiki/api/v2"
V1 = "/wiki/rest/api"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)

V2_ERROR = {
    "type": "object",
    "required": ["errors"],
    "properties": {
        "errors": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["status", "code", "title"],
                "properties": {
                    "status": {"type": "integer"},
                    "code": {"type": "string"},
                    "title": {"type": "string"},
                    "detail": {"type": ["string", "null"]},
                },
            },
        }
    },
}
V1_ERROR = {
    "type": "object",
    "required": ["statusCode", "data", "message"],
    "properties": {
        "statusCode": {"type": "integer"},
        "message": {"type": "string"},
        "reason": {"type": "string"},
        "data": {"type": "object", "required": ["authorized", "valid", "errors", "successful"]},
    },
}


@dataclass
class Case:
    method: str
    pattern: str
    args: dict[str, str] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    body: Any = None  # a JSON value, or a callable(ctx) -> JSON value
    status: int = 200
    files: dict[str, Any] | None = None
    data: dict[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    in_spec: bool = True  # False for routes the spec does not describe (the download URL)
    valid_request: bool = True  # False when the row sends what the spec forbids on purpose
    name: str = ""

    @property
    def id(self) -> str:
        return self.name or f"{self.method} {self.pattern}"


def _page_update(ctx: dict[str, str]) -> dict[str, Any]:
    return {
        "id": ctx["page"],
        "status": "current",
        "title": "Getting Started (edited)",
        "body": {"representation": "storage", "value": "<p>Edited.</p>"},
        "version": {"number": int(ctx["page_version"]) + 1, "message": "contract"},
    }


def _stale_update(ctx: dict[str, str]) -> dict[str, Any]:
    body = _page_update(ctx)
    body["version"]["number"] = int(ctx["page_version"])
    return body


def _storage(text: str) -> dict[str, str]:
    return {"representation": "storage", "value": f"<p>{text}</p>"}


CASES: list[Case] = [
    # spaces
    Case("GET", f"{V2}/spaces"),
    Case(
        "GET",
        f"{V2}/spaces",
        query={
            "keys": "DEMO,TEAM",
            "description-format": "plain",
            "include-icon": "true",
            "sort": "-name",
        },
        name="GET spaces filtered",
    ),
    Case(
        "GET",
        f"{V2}/spaces/{{id}}",
        {"id": "space"},
        query={"description-format": "view", "include-labels": "true"},
    ),
    Case(
        "GET",
        f"{V2}/spaces/{{id}}/pages",
        {"id": "space"},
        query={"depth": "all", "body-format": "storage", "limit": 5},
    ),
    Case(
        "POST",
        f"{V1}/space",
        body={
            "key": "NEWS",
            "name": "News",
            "description": {"plain": {"value": "Company news", "representation": "plain"}},
        },
    ),
    Case(
        "POST",
        f"{V1}/space",
        body={"key": "DEMO", "name": "Again"},
        status=400,
        name="POST space duplicate key",
    ),
    # pages
    Case("GET", f"{V2}/pages"),
    Case(
        "GET",
        f"{V2}/pages",
        query={
            "space-id": "{space}",
            "body-format": "atlas_doc_format",
            "sort": "-modified-date",
            "status": "current",
        },
        name="GET pages adf",
    ),
    Case(
        "GET",
        f"{V2}/pages",
        query={"limit": 300},
        status=400,
        name="GET pages limit>250",
        valid_request=False,
    ),
    Case(
        "POST",
        f"{V2}/pages",
        body=lambda c: {
            "spaceId": c["space"],
            "status": "current",
            "title": "Contract page",
            "body": _storage("Hello"),
        },
    ),
    Case(
        "POST",
        f"{V2}/pages",
        body=lambda c: {"spaceId": c["space"], "title": "Getting Started", "body": _storage("dup")},
        status=400,
        name="POST pages duplicate title",
    ),
    Case(
        "GET",
        f"{V2}/pages/{{id}}",
        {"id": "page"},
        query={"body-format": "storage", "include-labels": "true", "include-versions": "true"},
    ),
    Case(
        "GET",
        f"{V2}/pages/{{id}}",
        {"id": "versioned"},
        query={"body-format": "view", "version": 1},
        name="GET page historic view",
    ),
    Case("GET", f"{V2}/pages/{{id}}", {"id": "missing"}, status=404, name="GET page missing"),
    Case("PUT", f"{V2}/pages/{{id}}", {"id": "page"}, body=_page_update),
    Case(
        "PUT",
        f"{V2}/pages/{{id}}",
        {"id": "page"},
        body=_stale_update,
        status=409,
        name="PUT page stale version",
    ),
    Case("DELETE", f"{V2}/pages/{{id}}", {"id": "leaf"}, status=204),
    Case(
        "PUT",
        f"{V2}/pages/{{id}}/title",
        {"id": "page"},
        body={"status": "current", "title": "Renamed"},
    ),
    Case("GET", f"{V2}/pages/{{id}}/direct-children", {"id": "home"}),
    Case("GET", f"{V2}/pages/{{id}}/children", {"id": "page"}),
    Case("GET", f"{V2}/pages/{{id}}/descendants", {"id": "home"}, query={"depth": 3}),
    Case("GET", f"{V2}/pages/{{id}}/ancestors", {"id": "leaf"}),
    Case(
        "GET", f"{V2}/pages/{{id}}/versions", {"id": "versioned"}, query={"body-format": "storage"}
    ),
    Case(
        "GET",
        f"{V2}/pages/{{page-id}}/versions/{{version-number}}",
        {"page-id": "versioned", "version-number": "2"},
    ),
    Case(
        "PUT",
        f"{V1}/content/{{pageId}}/move/{{position}}/{{targetId}}",
        {"pageId": "leaf", "position": "append", "targetId": "home"},
    ),
    Case(
        "POST",
        f"{V1}/content/{{id}}/version",
        {"id": "versioned"},
        body={
            "operationKey": "restore",
            "params": {"versionNumber": 1, "message": "Back to v1", "restoreTitle": False},
        },
    ),
    Case(
        "POST",
        f"{V1}/content/{{id}}/version",
        {"id": "versioned"},
        body={"operationKey": "restore", "params": {"versionNumber": 99, "message": "no"}},
        status=400,
        name="POST restore missing version",
    ),
    # folders
    Case(
        "POST",
        f"{V2}/folders",
        body=lambda c: {"spaceId": c["space"], "title": "Contract", "parentId": c["home"]},
    ),
    Case("GET", f"{V2}/folders/{{id}}", {"id": "folder"}),
    Case("DELETE", f"{V2}/folders/{{id}}", {"id": "folder"}, status=204),
    Case("GET", f"{V2}/folders/{{id}}/direct-children", {"id": "folder"}),
    Case("GET", f"{V2}/folders/{{id}}/descendants", {"id": "folder"}),
    Case("GET", f"{V2}/folders/{{id}}/ancestors", {"id": "folder"}),
    # labels
    Case("GET", f"{V2}/pages/{{id}}/labels", {"id": "page"}),
    Case("GET", f"{V2}/labels"),
    Case("GET", f"{V2}/labels/{{id}}/pages", {"id": "label"}),
    Case("GET", f"{V1}/content/{{id}}/label", {"id": "page"}),
    Case(
        "POST",
        f"{V1}/content/{{id}}/label",
        {"id": "page"},
        body=[{"prefix": "global", "name": "contract"}],
    ),
    Case(
        "DELETE",
        f"{V1}/content/{{id}}/label",
        {"id": "page"},
        query={"name": "{label_name}"},
        status=204,
    ),
    Case(
        "DELETE",
        f"{V1}/content/{{id}}/label/{{label}}",
        {"id": "page", "label": "label_name"},
        status=204,
    ),
    # comments
    Case("GET", f"{V2}/footer-comments", query={"body-format": "storage"}),
    Case(
        "POST",
        f"{V2}/footer-comments",
        body=lambda c: {"pageId": c["page"], "body": _storage("Nice page")},
        status=201,
    ),
    Case(
        "GET",
        f"{V2}/footer-comments/{{comment-id}}",
        {"comment-id": "footer_comment"},
        query={"body-format": "storage"},
    ),
    Case(
        "PUT",
        f"{V2}/footer-comments/{{comment-id}}",
        {"comment-id": "footer_comment"},
        body={"version": {"number": 2}, "body": _storage("Edited comment")},
    ),
    Case(
        "DELETE",
        f"{V2}/footer-comments/{{comment-id}}",
        {"comment-id": "footer_comment"},
        status=204,
    ),
    Case("GET", f"{V2}/footer-comments/{{id}}/children", {"id": "footer_comment"}),
    Case("GET", f"{V2}/inline-comments", query={"body-format": "storage"}),
    Case(
        "POST",
        f"{V2}/inline-comments",
        body=lambda c: {"parentCommentId": c["inline_comment"], "body": _storage("Agreed")},
        status=201,
    ),
    Case("GET", f"{V2}/inline-comments/{{comment-id}}", {"comment-id": "inline_comment"}),
    Case(
        "PUT",
        f"{V2}/inline-comments/{{comment-id}}",
        {"comment-id": "inline_comment"},
        body={"version": {"number": 2}, "body": _storage("Resolved now"), "resolved": True},
    ),
    Case(
        "DELETE",
        f"{V2}/inline-comments/{{comment-id}}",
        {"comment-id": "inline_comment"},
        status=204,
    ),
    Case("GET", f"{V2}/inline-comments/{{id}}/children", {"id": "inline_comment"}),
    Case("GET", f"{V2}/pages/{{id}}/footer-comments", {"id": "commented"}),
    Case(
        "GET",
        f"{V2}/pages/{{id}}/inline-comments",
        {"id": "inline_page"},
        query={"resolution-status": "open"},
    ),
    # attachments
    Case("GET", f"{V2}/pages/{{id}}/attachments", {"id": "attached"}),
    Case("GET", f"{V2}/attachments/{{id}}", {"id": "attachment"}),
    Case("DELETE", f"{V2}/attachments/{{id}}", {"id": "attachment"}, status=204),
    Case(
        "GET",
        "/wiki/download/attachments/{page_id}/{filename}",
        {"page_id": "attached", "filename": "attachment_name"},
        in_spec=False,
    ),
    Case(
        "GET",
        f"{V1}/content/{{id}}/child/attachment/{{att_id}}/download",
        {"id": "attached", "att_id": "attachment"},
    ),
    Case(
        "POST",
        f"{V1}/content/{{id}}/child/attachment",
        {"id": "page"},
        files={"file": ("pixel.png", PNG, "image/png")},
        data={"comment": "a pixel", "minorEdit": "false"},
        headers={"X-Atlassian-Token": "nocheck"},
    ),
    Case(
        "POST",
        f"{V1}/content/{{id}}/child/attachment",
        {"id": "page"},
        files={"file": ("pixel.png", PNG, "image/png")},
        data={"minorEdit": "false"},
        status=403,
        name="POST attachment without XSRF token",
    ),
    Case(
        "PUT",
        f"{V1}/content/{{id}}/child/attachment",
        {"id": "attached"},
        files={"file": ("{attachment_name}", b"new bytes", "application/octet-stream")},
        data={"comment": "v2", "minorEdit": "true"},
        headers={"X-Atlassian-Token": "nocheck"},
    ),
    # users
    Case("GET", f"{V1}/user/current"),
    Case("GET", f"{V1}/user", query={"accountId": "{user}"}),
    Case("GET", f"{V1}/user/bulk", query={"accountId": "{user}"}),
    Case("GET", f"{V1}/search/user", query={"cql": 'user.fullname ~ "a"'}),
    Case("POST", f"{V2}/users-bulk", body=lambda c: {"accountIds": [c["user"]]}),
    # search
    Case("GET", f"{V1}/search", query={"cql": "space = DEMO AND type = page", "limit": 5}),
    Case(
        "GET",
        f"{V1}/content/search",
        query={"cql": 'label = "{label_name}"', "expand": "space,body.storage,version"},
    ),
    Case(
        "GET",
        f"{V1}/search",
        query={"cql": "frobnicate = 3"},
        status=400,
        name="GET search bad CQL",
    ),
    # templates and restrictions
    Case("GET", f"{V1}/template/page", query={"spaceKey": "DEMO", "limit": 1}),
    Case(
        "GET",
        f"{V1}/template/page",
        query={"expand": "body", "start": 0},
        name="GET global templates with bodies",
    ),
    Case("GET", f"{V1}/template/{{id}}", {"id": "template"}),
    Case(
        "GET", f"{V1}/template/{{id}}", {"id": "missing"}, status=403, name="GET template missing"
    ),
    Case(
        "GET",
        f"{V1}/content/{{id}}/restriction",
        {"id": "restricted"},
        query={"expand": "restrictions.user,restrictions.group"},
    ),
    Case(
        "GET",
        f"{V1}/content/{{id}}/restriction",
        {"id": "missing"},
        status=404,
        name="GET restriction missing page",
    ),
    Case(
        "GET",
        f"{V1}/content/search",
        query={
            "cql": "id in ({restricted},{home})",
            "expand": "restrictions.read.restrictions.user,restrictions.read.restrictions.group",
        },
        name="GET content search with read restrictions",
    ),
    # more shapes of the content endpoints (H-CONTENT)
    Case(
        "POST",
        f"{V2}/inline-comments",
        body=lambda c: {
            "pageId": c["inline_page"],
            "body": _storage("On the selection"),
            "inlineCommentProperties": {
                "textSelection": "chain of",
                "textSelectionMatchCount": 1,
                "textSelectionMatchIndex": 0,
            },
        },
        status=201,
        name="POST inline-comments on a selection",
    ),
    Case(
        "POST",
        f"{V2}/inline-comments",
        body=lambda c: {
            "pageId": c["inline_page"],
            "body": _storage("Nowhere"),
            "inlineCommentProperties": {"textSelection": "no such words on the page"},
        },
        status=400,
        name="POST inline-comments selection not found",
    ),
    Case(
        "GET",
        f"{V2}/pages/{{id}}/footer-comments",
        {"id": "commented"},
        query={"body-format": "atlas_doc_format", "sort": "-created-date", "limit": 1},
        name="GET page footer-comments adf",
    ),
    Case(
        "GET",
        f"{V2}/footer-comments/{{comment-id}}",
        {"comment-id": "footer_comment"},
        query={"body-format": "view", "include-versions": "true"},
        name="GET footer-comment view with versions",
    ),
    Case(
        "GET",
        f"{V2}/inline-comments/{{comment-id}}",
        {"comment-id": "inline_comment"},
        query={"body-format": "atlas_doc_format"},
        name="GET inline-comment adf",
    ),
    Case(
        "PUT",
        f"{V2}/footer-comments/{{comment-id}}",
        {"comment-id": "footer_comment"},
        body={"version": {"number": 1}, "body": _storage("Stale")},
        status=409,
        name="PUT footer-comment stale version",
    ),
    Case(
        "GET",
        f"{V2}/pages/{{id}}/attachments",
        {"id": "attached"},
        query={
            "filename": "{attachment_name}",
            "mediaType": "image/png",
            "sort": "-modified-date",
            "limit": 5,
        },
        name="GET page attachments filtered",
    ),
    Case(
        "GET",
        f"{V2}/attachments/{{id}}",
        {"id": "attachment"},
        query={"include-versions": "true", "include-labels": "true", "version": 1},
        name="GET attachment with versions and labels",
    ),
    Case(
        "GET",
        f"{V2}/attachments/{{id}}",
        {"id": "missing"},
        status=404,
        name="GET attachment missing",
    ),
    Case(
        "POST",
        f"{V1}/content/{{id}}/child/attachment",
        {"id": "attached"},
        files={"file": ("{attachment_name}", PNG, "image/png")},
        data={"minorEdit": "false"},
        headers={"X-Atlassian-Token": "nocheck"},
        status=400,
        name="POST attachment with an existing name",
    ),
    Case(
        "GET",
        f"{V2}/labels",
        query={"prefix": "global", "sort": "-name", "limit": 3},
        name="GET labels by prefix",
    ),
    Case(
        "POST",
        f"{V1}/content/{{id}}/label",
        {"id": "page"},
        body={"prefix": "global", "name": "bad label"},
        status=400,
        name="POST label with a space",
    ),
    Case(
        "GET",
        f"{V1}/user",
        query={"accountId": "nobody-known"},
        status=404,
        name="GET user unknown",
    ),
    Case(
        "GET",
        f"{V1}/search",
        query={
            "cql": 'text ~ "install*" AND type IN (page, comment) ORDER BY title',
            "expand": "content.space,content.version",
            "excerpt": "highlight",
        },
        name="GET search text with excerpts",
    ),
    Case(
        "GET",
        f"{V1}/search",
        query={
            "cql": "type IN (folder, attachment, comment)",
            "limit": 250,
            "includeArchivedSpaces": "true",
        },
        name="GET search other types",
    ),
    Case(
        "GET",
        f"{V1}/content/search",
        query={
            "cql": "type = comment OR type = attachment",
            "expand": "space,version,ancestors,container,history,body.storage",
        },
        name="GET content search comments and attachments",
    ),
    Case(
        "GET",
        f"{V1}/content/search",
        query={"cql": 'title ~ "*x"'},
        status=400,
        name="GET content search bad CQL",
    ),
]


def demo_context(state: Any) -> dict[str, str]:
    """Ids in the demo site that the table's rows refer to, found through the state."""
    demo = state.space_by_key("DEMO")
    pages = [
        p for p in state.pages.values() if p["spaceId"] == demo["id"] and p["status"] == "current"
    ]
    by_title = {p["title"]: p for p in pages}

    def kids(node_id: str) -> list[dict[str, Any]]:
        return [p for p in pages if p.get("parentId") == node_id]

    page = next(p for p in pages if p["id"] != demo["homepageId"] and kids(p["id"]))
    leaf = next(
        p
        for p in pages
        if not kids(p["id"])
        and not state.folders.get(p["parentId"])
        and p.get("parentId") != demo["homepageId"]
        and p["id"] != demo["homepageId"]
    )
    versioned = max(pages, key=lambda p: p["version"]["number"])
    comments = list(state.comments.values())
    footer = next(c for c in comments if c.get("kind") == "footer" and not c.get("parentCommentId"))
    inline = next(c for c in comments if c.get("kind") == "inline" and not c.get("parentCommentId"))
    attachment = next(iter(state.attachments.values()))
    label_ids = state.content_labels.get(page["id"]) or next(
        v for v in state.content_labels.values() if v
    )
    label = state.labels[label_ids[0]]
    ctx = {
        "space": demo["id"],
        "home": demo["homepageId"],
        "page": page["id"],
        "page_version": str(page["version"]["number"]),
        "leaf": leaf["id"],
        "versioned": versioned["id"],
        "missing": "999999999",
        "folder": next(iter(state.folders)),
        "label": label["id"],
        "label_name": label["name"],
        "footer_comment": footer["id"],
        "inline_comment": inline["id"],
        "commented": footer["pageId"],
        "inline_page": inline["pageId"],
        "attachment": attachment["id"],
        "attached": attachment["pageId"],
        "attachment_name": attachment["title"],
        "user": state.current_user,
        "template": next(iter(state.meta["templates"])),
        "restricted": by_title["Security Review"]["id"],
    }
    assert "Getting Started" in by_title
    assert versioned["version"]["number"] >= 2
    return ctx


def _fill(text: str, ctx: dict[str, str]) -> str:
    for key, value in ctx.items():
        text = text.replace("{" + key + "}", value)
    return text


def _path(case: Case, ctx: dict[str, str]) -> str:
    path = case.pattern
    for param, key in case.args.items():  # a context key, or a literal value
        value = ctx.get(key, key)
        path = path.replace("{" + param + "}", requests.utils.quote(value, safe=""))
    return path


def test_every_route_has_a_case():
    covered = {(c.method, c.pattern) for c in CASES}
    routes = {(r.method, r.pattern) for r in build_router(plugins=False).routes}
    missing = sorted(routes - covered)
    assert not missing, f"routes without a contract case (add rows to CASES): {missing}"


def test_trimmed_spec_describes_every_route():
    """tests/spec holds every operation the sandbox serves (add it to tests/spec/operations.txt
    and rerun tests/spec/trim.py when a route is added), whatever CTK_SPEC_DIR says."""
    trimmed = Specs(TRIMMED_DIR)
    routes = build_router(plugins=False).routes
    missing = [
        f"{r.method} {r.pattern}"
        for r in routes
        if not r.pattern.startswith(UNDESCRIBED) and trimmed.find(r.method, r.pattern) is None
    ]
    assert not missing, f"routes the trimmed spec does not describe: {missing}"
    assert len(routes) - len(missing) > 50


def test_cases_name_real_routes():
    routes = {(r.method, r.pattern) for r in build_router(plugins=False).routes}
    unknown = sorted({(c.method, c.pattern) for c in CASES} - routes)
    assert not unknown, f"CASES rows for routes the sandbox does not serve: {unknown}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_contract(case: Case, confluence_sandbox):
    from jsonschema import Draft202012Validator

    specs = load_specs()
    ctx = demo_context(confluence_sandbox.state)
    path = _path(case, ctx)
    query = {k: _fill(str(v), ctx) for k, v in case.query.items()}
    body = case.body(ctx) if callable(case.body) else case.body
    files = None
    if case.files:
        files = {k: (_fill(v[0], ctx), v[1], v[2]) for k, v in case.files.items()}
    if case.in_spec:
        content_type = "multipart/form-data" if files else "application/json"
        problems = specs.request_problems(
            case.method, path, query, body, content_type if (body is not None or files) else None
        )
        assert bool(problems) != case.valid_request, problems
    with confluence_sandbox.session() as session:
        resp = session.request(
            case.method,
            confluence_sandbox.url + path,
            params=query,
            json=body,
            files=files,
            data=case.data,
            headers=case.headers,
        )
    assert resp.status_code == case.status, resp.text[:500]
    if resp.status_code == 204:
        assert resp.content == b""
        return
    if not case.in_spec:
        assert resp.content
        return
    ctype = resp.headers.get("Content-Type", "")
    if resp.status_code >= 400:
        shape = V2_ERROR if path.startswith(V2) else V1_ERROR
        Draft202012Validator(shape).validate(resp.json())
        return
    if "json" not in ctype:
        assert not specs.has_response_schema(case.method, path, resp.status_code), ctype
        return
    specs.validate_response(case.method, path, resp.status_code, resp.json())


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if c.method == "GET" and c.status == 200 and c.in_spec],
    ids=lambda c: c.id,
)
def test_contract_through_gateway(case: Case, confluence_sandbox):
    """The same GETs through the scoped-token gateway form answer the same bodies."""
    specs = load_specs()
    ctx = demo_context(confluence_sandbox.state)
    path = _path(case, ctx)
    query = {k: _fill(str(v), ctx) for k, v in case.query.items()}
    with confluence_sandbox.session() as session:
        plain = session.get(confluence_sandbox.url + path, params=query)
        gated = session.get(confluence_sandbox.gateway_url + path, params=query)
    assert gated.status_code == plain.status_code == 200
    if "json" in gated.headers.get("Content-Type", ""):
        body = gated.json()
        specs.validate_response("GET", path, 200, body)
        base = body.get("_links", {}).get("base") if isinstance(body, dict) else None
        if base is not None:
            assert base == confluence_sandbox.gateway_url + "/wiki"


def test_request_log_entries_can_be_checked_against_the_spec(confluence_sandbox):
    from spec_support import logged_request_problems

    specs = load_specs()
    ctx = demo_context(confluence_sandbox.state)
    with confluence_sandbox.session() as session:
        url = confluence_sandbox.url
        session.get(f"{url}{V2}/pages", params={"space-id": ctx["space"], "limit": 10})
        session.put(f"{url}{V2}/pages/{ctx['page']}", json=_page_update(ctx))
        session.get(f"{confluence_sandbox.gateway_url}{V2}/pages/{ctx['page']}/ancestors")
        session.get(f"{url}/_edge/tenant_info")
        session.get(f"{url}{V2}/pages", params={"colour": "red", "sort": "sideways"})
        session.post(f"{url}{V2}/folders", json={"title": "no space id"})
    problems = [logged_request_problems(specs, e) for e in confluence_sandbox.requests]
    assert problems[:4] == [[], [], [], []]
    assert any("unknown query parameter 'colour'" in p for p in problems[4])
    assert any("sideways" in p for p in problems[4])
    assert any("spaceId" in p for p in problems[5])
