"""Every request ctk sends is one the Confluence Cloud REST API defines.

Every operation of every built-in plugin is driven against the sandbox (paged ones twice: the
first page and the page its ``next_cursor`` points at); then each request in the sandbox's log is
checked against Atlassian's OpenAPI files (tests/spec): the method and path exist (v2, or one
of the v1 endpoints confluence-api.md section A.3 lists as still needed), the query parameters
are declared with valid values, and a JSON body matches the operation's request schema.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from spec_support import load_specs

from ctk_core import CtkError, dispatch
from ctk_core.context import Context, forget_space_ids
from ctk_core.file_access import PersonFiles
from ctk_core.policy import Policy
from ctk_core.registry import load_catalog
from ctk_core.words import CLI_WORDS

#: The v1 endpoints ctk may still call (confluence-api.md A.3), as the v1 spec names them.
V1_ALLOWED = {
    ("GET", "/wiki/rest/api/search"),
    ("GET", "/wiki/rest/api/content/search"),
    ("POST", "/wiki/rest/api/space"),
    ("POST", "/wiki/rest/api/space/_private"),
    ("PUT", "/wiki/rest/api/space/{spaceKey}"),
    ("DELETE", "/wiki/rest/api/space/{spaceKey}"),
    ("POST", "/wiki/rest/api/content/{id}/child/attachment"),
    ("PUT", "/wiki/rest/api/content/{id}/child/attachment"),
    ("POST", "/wiki/rest/api/content/{id}/child/attachment/{attachmentId}/data"),
    ("GET", "/wiki/rest/api/content/{id}/child/attachment/{attachmentId}/download"),
    ("POST", "/wiki/rest/api/content/{id}/label"),
    ("DELETE", "/wiki/rest/api/content/{id}/label"),
    ("DELETE", "/wiki/rest/api/content/{id}/label/{label}"),
    ("PUT", "/wiki/rest/api/content/{pageId}/move/{position}/{targetId}"),
    ("POST", "/wiki/rest/api/content/{id}/copy"),
    ("POST", "/wiki/rest/api/content/{id}/pagehierarchy/copy"),
    ("GET", "/wiki/rest/api/user/current"),
    ("GET", "/wiki/rest/api/user"),
    ("GET", "/wiki/rest/api/user/bulk"),
    ("GET", "/wiki/rest/api/search/user"),
    ("POST", "/wiki/rest/api/content/{id}/version"),
    ("DELETE", "/wiki/rest/api/content/{id}/version/{versionNumber}"),
}
#: Families of v1 endpoints A.3 lists without naming every path.
V1_ALLOWED_PREFIXES = (
    "/wiki/rest/api/user/watch/",
    "/wiki/rest/api/template",
    "/wiki/rest/api/contentbody/convert/",
)
V1_ALLOWED_PATTERNS = ("/restriction",)

#: Built-in plugins: the ones this test must cover completely.
BUILT_IN = (
    "spaces",
    "users",
    "pages",
    "folders",
    "search",
    "labels",
    "comments",
    "attachments",
    "templates",
)

Args = Callable[[dict[str, str]], dict[str, Any]]
#: (resource, action, arguments from the ids gathered so far, name to save the result's id as)
Step = tuple[str, str, Args, "str | None"]


def steps() -> list[Step]:
    """Every operation with realistic arguments, reads first, deletions last."""

    def s(
        resource: str,
        action: str,
        args: Args | dict[str, Any] | None = None,
        save: str | None = None,
    ) -> Step:
        fn = args if callable(args) else (lambda ids, a=args or {}: dict(a))
        return (resource, action, fn, save)

    return [
        # -- spaces and users
        s("spaces", "list", {"type": "global", "status": "current", "keys": ["DEMO", "TEAM"]}),
        s("spaces", "list"),
        s("spaces", "get", {"space_id": "DEMO"}),
        s("spaces", "get", lambda i: {"space_id": i["demo"]}),
        s("spaces", "get_by_key", {"key": "TEAM"}),
        s("users", "get_current"),
        s("users", "search", {"query": "priya"}),
        s("users", "get", lambda i: {"account_id": [i["me"]]}),
        # -- pages: reads
        s("pages", "get", lambda i: {"page_id": i["arch"]}),
        s(
            "pages",
            "get",
            lambda i: {
                "page_id": i["arch"],
                "version": 2,
                "body_format": "storage",
                "include_ancestors": True,
            },
        ),
        s("pages", "get", {"space_id": "DEMO", "title": "Architecture", "body_format": "view"}),
        s("pages", "get_by_title", {"space_id": "DEMO", "title": "Data Model"}),
        s("pages", "list", {"space_id": "DEMO", "sort": "title", "status": ["current"]}),
        s("pages", "list", {"space_id": "DEMO", "title": "Architecture"}),
        s("pages", "get_children", lambda i: {"page_id": i["getting"], "sort": "title"}),
        s("pages", "get_children", lambda i: {"page_id": i["folder"]}),
        s("pages", "get_descendants", lambda i: {"page_id": i["getting"], "depth": 3}),
        s("pages", "get_descendants", {"space_id": "DEMO"}),
        s("pages", "get_ancestors", lambda i: {"page_id": i["data_model"]}),
        s("pages", "get_restrictions", lambda i: {"page_id": i["runbook"]}),
        s("pages", "list_versions", lambda i: {"page_id": i["arch"]}),
        s("pages", "diff", lambda i: {"page_id": i["arch"], "from_version": 1, "to_version": 3}),
        s("pages", "diff", lambda i: {"page_id": i["arch"]}),
        s("pages", "get_outline", lambda i: {"page_id": i["arch"]}),
        s("pages", "get_section", lambda i: {"page_id": i["arch"], "heading": "Components"}),
        # -- folders: reads
        s("folders", "get", lambda i: {"folder_id": i["folder"]}),
        s("folders", "get_children", lambda i: {"folder_id": i["folder"]}),
        s("folders", "get_descendants", lambda i: {"folder_id": i["folder"], "depth": 3}),
        s("folders", "get_ancestors", lambda i: {"folder_id": i["folder"]}),
        s("folders", "list", {"space_id": "DEMO"}),
        s("folders", "list", lambda i: {"space_id": i["demo"]}),
        # -- search
        s("search", "cql", {"cql": 'type = page AND space = "DEMO"'}),
        s(
            "search",
            "cql",
            {
                "cql": 'siteSearch ~ "storage"',
                "excerpt": "indexed",
                "include_archived_spaces": True,
            },
        ),
        s(
            "search",
            "quick",
            {"query": 'sync "agent" \\', "space_id": "DEMO", "type": "page", "excerpt": "none"},
        ),
        s("search", "quick", lambda i: {"query": "nimbus", "space_id": i["demo"]}),
        # -- templates: reads
        s("templates", "list", {"space_id": "DEMO"}),
        s("templates", "list", lambda i: {"space_id": i["demo"]}),
        s("templates", "list"),
        s("templates", "get", lambda i: {"template_id": i["template"]}),
        s("templates", "get", lambda i: {"template_id": i["template"], "body_format": "storage"}),
        # -- labels: reads
        s("labels", "list", lambda i: {"page_id": i["getting"]}),
        s("labels", "list", lambda i: {"page_id": i["getting"], "prefix": "global"}),
        s("labels", "pages_with_label", {"label": "guide"}),
        s("labels", "pages_with_label", lambda i: {"label": "guide", "space_id": i["demo"]}),
        # -- comments: reads
        s("comments", "list_footer", lambda i: {"page_id": i["getting"], "sort": "created-date"}),
        s("comments", "list_footer", lambda i: {"page_id": i["getting"], "body_format": "storage"}),
        s("comments", "list_inline", lambda i: {"page_id": i["data_model"]}),
        s("comments", "list_inline", lambda i: {"page_id": i["data_model"], "resolved": True}),
        s(
            "comments",
            "list_inline",
            lambda i: {"page_id": i["data_model"], "resolved": False, "sort": "-modified-date"},
        ),
        s("comments", "get_replies", lambda i: {"comment_id": i["question"]}),
        s("comments", "get_replies", lambda i: {"comment_id": i["open"]}),
        # -- attachments: reads
        s("attachments", "list", lambda i: {"page_id": i["arch"]}),
        s(
            "attachments",
            "list",
            lambda i: {"page_id": i["arch"], "filename": "diagram.png", "media_type": "image/png"},
        ),
        s("attachments", "get", lambda i: {"attachment_id": i["att"]}),
        s(
            "attachments",
            "download",
            lambda i: {"attachment_id": i["att"], "output": i["tmp"], "overwrite": True},
        ),
        # -- writes
        s("spaces", "create", {"key": "CONTRACT", "name": "Contract", "description": "d"}),
        s(
            "pages",
            "create",
            lambda i: {
                "space_id": "DEMO",
                "title": "Contract page",
                "body": "# Hello\n\nSome *text*.\n\n## Part\n\nmore",
                "parent_id": i["getting"],
            },
            save="page",
        ),
        s(
            "pages",
            "create",
            lambda i: {
                "space_id": i["demo"],
                "title": "Contract raw",
                "body": "<p>raw</p>",
                "content_format": "storage",
                "parent_id": i["folder"],
            },
            save="page2",
        ),
        s(
            "pages",
            "update_section",
            lambda i: {
                "page_id": i["page"],
                "heading": "Part",
                "body": "- one\n- two",
                "message": "section",
            },
        ),
        s(
            "pages",
            "update",
            lambda i: {"page_id": i["page"], "body": "Changed.", "message": "edit"},
        ),
        s("pages", "update", lambda i: {"page_id": i["page"], "title": "Contract renamed"}),
        s("pages", "move", lambda i: {"page_id": i["page"], "target_parent_id": i["install"]}),
        s(
            "pages",
            "move",
            lambda i: {"page_id": i["page"], "position": "before", "target_id": i["install"]},
        ),
        s(
            "pages",
            "restore_version",
            lambda i: {"page_id": i["page"], "version": 1, "message": "back"},
        ),
        s(
            "templates",
            "create_page",
            lambda i: {
                "template_id": i["template"],
                "space_id": "DEMO",
                "title": "Contract from template",
                "parent_id": i["getting"],
                "variables": '{"date": "3 May, 2026"}',
            },
        ),
        s("folders", "create", {"space_id": "DEMO", "title": "Contract folder"}, save="folder2"),
        s(
            "folders",
            "create",
            lambda i: {"space_id": i["demo"], "title": "Nested", "parent_id": i["folder2"]},
            save="folder3",
        ),
        s("labels", "add", lambda i: {"page_id": i["page"], "label": ["one", "two"]}),
        s("labels", "add", lambda i: {"page_id": i["page"], "label": ["three"]}),
        s("labels", "remove", lambda i: {"page_id": i["page"], "label": ["one", "three"]}),
        s(
            "comments",
            "add_footer",
            lambda i: {"page_id": i["page"], "body": "Nice **work**."},
            save="footer",
        ),
        s(
            "comments",
            "add_footer",
            lambda i: {"page_id": i["page"], "body": "<p>raw</p>", "content_format": "storage"},
        ),
        s("comments", "reply", lambda i: {"comment_id": i["footer"], "body": "Thanks."}),
        s("comments", "reply", lambda i: {"comment_id": i["open"], "body": "Inline reply."}),
        s(
            "comments",
            "add_inline",
            lambda i: {"page_id": i["data_model"], "selection": "Content hash", "body": "SHA?"},
            save="inline",
        ),
        s("comments", "resolve", lambda i: {"comment_id": i["inline"]}),
        s("comments", "reopen", lambda i: {"comment_id": i["inline"]}),
        s(
            "attachments",
            "upload",
            lambda i: {"page_id": i["page"], "file_path": i["upload"], "comment": "first"},
            save="att2",
        ),
        s(
            "attachments",
            "upload",
            lambda i: {
                "page_id": i["page"],
                "file_path": i["upload"],
                "comment": "second",
                "minor_edit": True,
                "filename": "renamed.txt",
            },
        ),
        # -- deletions
        s("comments", "delete", lambda i: {"comment_id": i["footer"]}),
        s("comments", "delete", lambda i: {"comment_id": i["inline"]}),
        s("attachments", "delete", lambda i: {"attachment_id": i["att2"]}),
        s("attachments", "delete", lambda i: {"attachment_id": i["att2"], "purge": True}),
        s("folders", "delete", lambda i: {"folder_id": i["folder3"]}),
        s("pages", "delete", lambda i: {"page_id": i["page2"]}),
        s("pages", "delete", lambda i: {"page_id": i["page2"], "purge": True}),
    ]


def demo_ids(sandbox: Any, tmp_path: Any) -> dict[str, str]:
    state = sandbox.state

    def comment(start: str) -> str:
        return next(c["id"] for c in state.comments.values() if c["body"].startswith(start))

    upload = tmp_path / "contract.txt"
    upload.write_text("contract upload\n")
    return {
        "demo": sandbox.space_id("DEMO"),
        "me": state.current_user,
        "arch": sandbox.page_id("Architecture"),
        "getting": sandbox.page_id("Getting Started"),
        "install": sandbox.page_id("Installation"),
        "data_model": sandbox.page_id("Data Model"),
        "runbook": sandbox.page_id("Incident Runbook"),
        "template": next(
            t["templateId"]
            for t in state.meta["templates"].values()
            if t["name"] == "Meeting notes"
        ),
        "folder": next(f["id"] for f in state.folders.values() if f["title"] == "Meeting Notes"),
        "att": next(a["id"] for a in state.attachments.values() if a["title"] == "diagram.png"),
        "question": comment("<p>Should we mention"),
        "open": comment("<p>Are revisions really"),
        "tmp": str(tmp_path),
        "upload": str(upload),
    }


def drive(sandbox: Any, tmp_path: Any) -> list[str]:
    """Run every step; returns the failures (one line each)."""
    catalog = load_catalog()
    resources = {r.name: r for r in catalog.resources}
    environ = {**os.environ, **sandbox.client_env}
    policy = Policy.from_environ({"CTK_ENABLE_WRITES": "true"})
    ctx = Context(PersonFiles(), environ=environ)
    forget_space_ids()
    ids = demo_ids(sandbox, tmp_path)
    failures = []
    for resource, action, args_of, save in steps():
        op = resources[resource].operation(action)
        args = args_of(ids)
        try:
            if op.paged:
                args.setdefault("limit", 1)
            result = dispatch.invoke(ctx, resources[resource], op, args, policy, CLI_WORDS)
            if op.paged and result.get("next_cursor"):
                dispatch.invoke(
                    ctx,
                    resources[resource],
                    op,
                    {**args, "cursor": result["next_cursor"]},
                    policy,
                    CLI_WORDS,
                )
        except CtkError as exc:
            failures.append(f"{resource}.{action}({args}): {type(exc).__name__}: {exc}")
            continue
        if save:
            ids[save] = str(result["id"])
    return failures


def request_problems(entry: dict[str, Any]) -> list[str]:
    """What is wrong with one logged request (empty when it is a valid API call)."""
    specs = load_specs()
    method, path = entry["method"], entry["path"]
    if "/wiki/download/" in path:  # the attachment download link (v2 downloadLink): not REST
        return [] if method == "GET" else [f"{method} on a download link"]
    op = specs.find(method, path)
    if op is None:
        return [f"no operation {method} {path} in the specs"]
    if not path.split("/wiki/", 1)[1].startswith("api/v2/"):
        allowed = (
            (method, op.template) in V1_ALLOWED
            or op.template.startswith(V1_ALLOWED_PREFIXES)
            or any(p in op.template for p in V1_ALLOWED_PATTERNS)
        )
        if not allowed:
            return [
                f"v1 endpoint {method} {op.template} is not one ctk may use (confluence-api.md A.3)"
            ]
    content_type = (entry.get("headers") or {}).get("content-type")
    body: Any = None
    if entry.get("body"):
        if content_type and "json" in content_type:
            body = json.loads(entry["body"])
        elif content_type is None:
            return ["a request body without a Content-Type"]
    return specs.request_problems(method, path, entry.get("query") or {}, body, content_type)


def test_every_operation_is_driven():
    catalog = load_catalog()
    covered = {(r, a) for r, a, _, _ in steps()}
    missing = [
        f"{r.name}.{op.name}"
        for r in catalog.resources
        if r.name in BUILT_IN
        for op in r.operations
        if (r.name, op.name) not in covered
    ]
    assert not missing, f"operations without a contract step: {', '.join(missing)}"
    names = {r.name for r in catalog.resources}
    assert set(BUILT_IN) <= names, f"built-in plugins not loaded: {set(BUILT_IN) - names}"


def test_every_request_matches_the_spec(confluence_sandbox, tmp_path):
    failures = drive(confluence_sandbox, tmp_path)
    assert not failures, "steps failed:\n  " + "\n  ".join(failures)
    entries = confluence_sandbox.requests.entries()
    assert len(entries) > 100
    problems = []
    for entry in entries:
        for problem in request_problems(entry):
            problems.append(f"{entry['method']} {entry['path']} {entry['query']}: {problem}")
    assert not problems, f"{len(problems)} invalid request(s):\n  " + "\n  ".join(problems)
    used = {(e["method"], e["path"].split("/wiki/", 1)[-1].split("/")[0]) for e in entries}
    assert ("GET", "api") in used
    assert ("GET", "rest") in used
    assert ("POST", "rest") in used


def test_checker_catches_bad_requests():
    """The oracle itself: each of these must be reported."""
    bad = [
        {"method": "GET", "path": "/wiki/api/v2/pages", "query": {"limit": ["300"]}},
        {"method": "GET", "path": "/wiki/api/v2/pages/abc", "query": {}},
        {"method": "GET", "path": "/wiki/api/v2/folders", "query": {}},
        {"method": "GET", "path": "/wiki/api/v2/pages/1/labels", "query": {"name": ["x"]}},
        {
            "method": "GET",
            "path": "/wiki/api/v2/pages/1/inline-comments",
            "query": {"resolution-status": ["closed"]},
        },
        {"method": "GET", "path": "/wiki/rest/api/content/1", "query": {}},
        {"method": "GET", "path": "/wiki/rest/api/search", "query": {"limit": ["5"]}},
        {
            "method": "POST",
            "path": "/wiki/api/v2/folders",
            "query": {},
            "headers": {"content-type": "application/json"},
            "body": '{"title": "no space"}',
        },
        {
            "method": "POST",
            "path": "/wiki/api/v2/inline-comments",
            "query": {},
            "headers": {"content-type": "application/json"},
            "body": '{"pageId": "1", "inlineCommentProperties": {"textSelectionMatchIndex": "0"}}',
        },
        {
            "method": "POST",
            "path": "/wiki/rest/api/content/1/label",
            "query": {},
            "headers": {"content-type": "application/json"},
            "body": '[{"name": "x"}]',
        },
    ]
    for entry in bad:
        assert request_problems(entry), entry
    good = {
        "method": "GET",
        "path": "/ex/confluence/abc/wiki/api/v2/pages/1/labels",
        "query": {"prefix": ["global"], "limit": ["25"]},
    }
    assert request_problems(good) == []
