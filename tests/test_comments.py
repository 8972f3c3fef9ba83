"""The comments plugin (``ctk comments`` / ``manage_comments``) through both front ends, against
the sandbox over real HTTP."""

from __future__ import annotations

import json

import pytest
from resource_support import assert_refused, cli_json

from ctk_core.policy import WRITES_DISABLED_MESSAGE
from ctk_plugins.comments import count_matches, page_text_lines

WRITES = {"CTK_ENABLE_WRITES": "true"}
FOOTER_FIELDS = [
    "id",
    "type",
    "page_id",
    "parent_comment_id",
    "status",
    "author_id",
    "author_name",
    "updated_at",
    "version",
    "body",
    "web_url",
    "replies",
]
INLINE_FIELDS = [
    *FOOTER_FIELDS[:-3],
    "resolution_status",
    "selected_text",
    "body",
    "web_url",
    "replies",
]


@pytest.fixture
def demo(confluence_sandbox):
    """Ids of the demo comments: the footer question with two replies, the open inline comment
    with one reply, the resolved inline comment, and a page whose text repeats a word."""
    state = confluence_sandbox.state
    by_body = {c["body"]: c for c in state.comments.values()}

    def find(start):
        return next(c["id"] for body, c in by_body.items() if body.startswith(start))

    repeats = state.create_page(
        confluence_sandbox.space_id("DEMO"),
        "Repeats",
        "<p>alpha beta alpha</p><p>gamma <strong>alpha</strong></p>"
        '<ac:structured-macro ac:name="info"><ac:parameter '
        'ac:name="title">alpha</ac:parameter></ac:structured-macro>',
    )
    return {
        "getting": confluence_sandbox.page_id("Getting Started"),
        "data_model": confluence_sandbox.page_id("Data Model"),
        "api": confluence_sandbox.page_id("API Design"),
        "repeats": repeats["id"],
        "question": find("<p>Should we mention"),
        "open": find("<p>Are revisions really"),
        "open_reply": find("<p>Yes: a change"),
        "resolved": find("<p>Is 90 days"),
    }


def test_list_footer_same_in_both_front_ends(ctk_cli, ctk_mcp, confluence_sandbox, demo):
    cli = cli_json(ctk_cli, "comments", "list", demo["getting"])
    mcp = ctk_mcp().call_json(
        "manage_comments", {"action": "list_footer", "page_id": demo["getting"]}
    )
    assert cli == mcp
    assert cli["next_cursor"] is None
    assert len(cli["results"]) == 1
    comment = cli["results"][0]
    assert list(comment) == FOOTER_FIELDS
    assert comment["id"] == demo["question"]
    assert comment["type"] == "footer"
    assert comment["page_id"] == demo["getting"]
    assert comment["parent_comment_id"] is None
    assert comment["body"] == "Should we mention the Windows installer here?"
    assert comment["version"] == 1
    assert comment["author_id"]
    assert comment["web_url"].startswith(confluence_sandbox.url + "/wiki/spaces/DEMO/pages/")
    raw = cli_json(ctk_cli, "comments", "list", demo["getting"], "--body-format", "storage")
    assert raw["results"][0]["body"] == "<p>Should we mention the Windows installer here?</p>"
    table = ctk_cli("comments", "list", demo["getting"])
    assert table.stdout.splitlines()[0].split() == ["id", "updated_at", "author_name", "body"]


def test_list_footer_paging_and_sort(ctk_cli, ctk_mcp, confluence_sandbox, demo):
    from ctk_core.sandbox.routes_comments import create_comment

    for n in range(3):
        create_comment(
            confluence_sandbox.state,
            "footer",
            page_id=demo["api"],
            body=f"<p>note {n}</p>",
            created_at=f"2024-03-0{n + 1}T09:00:00.000Z",
        )
    first = cli_json(ctk_cli, "comments", "list", demo["api"], "--limit", "2")
    assert [c["body"] for c in first["results"]] == ["note 0", "note 1"]
    assert first["next_cursor"]
    rest = ctk_mcp().call_json(
        "manage_comments",
        {
            "action": "list_footer",
            "page_id": demo["api"],
            "limit": 2,
            "cursor": first["next_cursor"],
        },
    )
    assert [c["body"] for c in rest["results"]] == ["note 2"]
    assert rest["next_cursor"] is None
    newest = cli_json(
        ctk_cli, "comments", "list", demo["api"], "--sort", "-created-date", "--all", "--limit", "1"
    )
    assert [c["body"] for c in newest["results"]] == ["note 2", "note 1", "note 0"]


def test_list_inline_with_resolution_filter(ctk_cli, ctk_mcp, confluence_sandbox, demo):
    everything = cli_json(ctk_cli, "comments", "list-inline", demo["data_model"])
    assert [c["id"] for c in everything["results"]] == [demo["open"], demo["resolved"]]
    first = everything["results"][0]
    assert list(first) == INLINE_FIELDS
    assert first["type"] == "inline"
    assert first["resolution_status"] == "open"
    assert first["selected_text"] == "immutable revisions"
    assert first["body"] == "Are revisions really immutable once the hash is computed?"
    mcp = ctk_mcp()
    resolved = mcp.call_json(
        "manage_comments",
        {"action": "list_inline", "page_id": demo["data_model"], "resolved": True},
    )
    assert [c["id"] for c in resolved["results"]] == [demo["resolved"]]
    assert resolved["results"][0]["selected_text"] == "garbage collected"
    sent = confluence_sandbox.requests.find("GET", "/inline-comments")[-1]["query"]
    assert sent["resolution-status"] == ["resolved"]
    still_open = cli_json(ctk_cli, "comments", "list-inline", demo["data_model"], "--no-resolved")
    assert [c["id"] for c in still_open["results"]] == [demo["open"]]
    listed = confluence_sandbox.requests.find("GET", "/inline-comments")[-1]
    assert listed["query"]["resolution-status"] == [
        "open",
        "reopened",
    ]
    assert cli_json(ctk_cli, "comments", "list-inline", demo["getting"]) == {
        "results": [],
        "next_cursor": None,
    }


def test_get_replies_of_either_kind(ctk_cli, ctk_mcp, demo):
    footer = cli_json(ctk_cli, "comments", "replies", demo["question"])
    assert [c["body"] for c in footer["results"]] == [
        "Yes, once it is out of beta. I will add a section.",
        "I can write it: I built the installer.",
    ]
    assert all(
        c["type"] == "footer" and c["parent_comment_id"] == demo["question"]
        for c in footer["results"]
    )
    assert all(c["page_id"] == demo["getting"] for c in footer["results"])
    inline = ctk_mcp().call_json(
        "manage_comments", {"action": "get_replies", "comment_id": demo["open"]}
    )
    assert [(c["type"], c["body"]) for c in inline["results"]] == [
        ("inline", "Yes: a change always makes a new revision.")
    ]
    assert inline["results"][0]["selected_text"] == "immutable revisions"
    none = cli_json(ctk_cli, "comments", "replies", demo["resolved"])
    assert none == {"results": [], "next_cursor": None}


def test_add_footer_markdown_and_storage(ctk_cli, ctk_mcp, confluence_sandbox, demo):
    state = confluence_sandbox.state
    made = cli_json(
        ctk_cli,
        "comments",
        "add",
        demo["api"],
        "--body",
        "Looks **good**, see `GET /documents`",
        env=WRITES,
    )
    assert made["type"] == "footer"
    assert made["page_id"] == demo["api"]
    stored = state.comments[made["id"]]["body"]
    assert "<strong>good</strong>" in stored
    assert "<code>GET /documents</code>" in stored
    assert made["body"] == "Looks **good**, see `GET /documents`"
    raw = ctk_mcp(WRITES).call_json(
        "manage_comments",
        {
            "action": "add_footer",
            "page_id": demo["api"],
            "body": "<p>raw <em>xhtml</em></p>",
            "content_format": "storage",
        },
    )
    assert state.comments[raw["id"]]["body"] == "<p>raw <em>xhtml</em></p>"
    assert raw["body"] == "<p>raw <em>xhtml</em></p>"
    post = confluence_sandbox.requests.find("POST", "/wiki/api/v2/footer-comments")[-1]
    assert json.loads(post["body"]) == {
        "pageId": demo["api"],
        "body": {"representation": "storage", "value": "<p>raw <em>xhtml</em></p>"},
    }


def test_reply_to_footer_and_inline(ctk_cli, ctk_mcp, confluence_sandbox, demo):
    state = confluence_sandbox.state
    footer = cli_json(
        ctk_cli, "comments", "reply", demo["question"], "--body", "Done *now*.", env=WRITES
    )
    assert footer["type"] == "footer"
    assert footer["parent_comment_id"] == demo["question"]
    assert state.comments[footer["id"]]["kind"] == "footer"
    assert "<em>now</em>" in state.comments[footer["id"]]["body"]
    inline = ctk_mcp(WRITES).call_json(
        "manage_comments", {"action": "reply", "comment_id": demo["open"], "body": "Agreed."}
    )
    assert inline["type"] == "inline"
    assert inline["parent_comment_id"] == demo["open"]
    assert state.comments[inline["id"]]["kind"] == "inline"
    posts = [r["path"] for r in confluence_sandbox.requests.find("POST")]
    assert posts == ["/wiki/api/v2/footer-comments", "/wiki/api/v2/inline-comments"]


def test_add_inline_with_match_index(ctk_cli, ctk_mcp, confluence_sandbox, demo):
    state = confluence_sandbox.state
    made = cli_json(
        ctk_cli,
        "comments",
        "add-inline",
        demo["repeats"],
        "--selection",
        "alpha",
        "--match-index",
        "2",
        "--body",
        "Why *alpha*?",
        env=WRITES,
    )
    assert made["type"] == "inline"
    assert made["selected_text"] == "alpha"
    assert made["resolution_status"] == "open"
    post = confluence_sandbox.requests.find("POST", "/wiki/api/v2/inline-comments")[-1]
    assert json.loads(post["body"])["inlineCommentProperties"] == {
        "textSelection": "alpha",
        "textSelectionMatchCount": 3,
        "textSelectionMatchIndex": 2,
    }
    body = state.pages[demo["repeats"]]["body"]
    ref = state.comments[made["id"]]["inlineMarkerRef"]
    assert f'<strong><ac:inline-comment-marker ac:ref="{ref}">alpha' in body
    first = ctk_mcp(WRITES).call_json(
        "manage_comments",
        {
            "action": "add_inline",
            "page_id": demo["data_model"],
            "selection": "Content hash",
            "body": "<p>SHA-256?</p>",
            "content_format": "storage",
        },
    )
    assert first["selected_text"] == "Content hash"
    assert state.comments[first["id"]]["body"] == "<p>SHA-256?</p>"


def test_add_inline_selection_errors(ctk_cli, ctk_mcp, confluence_sandbox, demo):
    missing = ctk_cli(
        "comments", "add-inline", demo["repeats"], "--selection", "delta", "--body", "x", env=WRITES
    )
    assert missing.exit_code == 2, missing
    assert "'delta' was not found" in missing.stderr
    across = ctk_cli(
        "comments",
        "add-inline",
        demo["repeats"],
        "--selection",
        "alpha gamma",
        "--body",
        "x",
        env=WRITES,
    )
    assert across.exit_code == 2
    assert "not found" in across.stderr
    too_far = ctk_mcp(WRITES).error(
        "manage_comments",
        {
            "action": "add_inline",
            "page_id": demo["repeats"],
            "selection": "alpha",
            "match_index": 3,
            "body": "x",
        },
    )
    assert "occurs 3 time(s)" in too_far
    assert "'match_index'" in too_far
    negative = ctk_cli(
        "comments",
        "add-inline",
        demo["repeats"],
        "--selection",
        "alpha",
        "--match-index",
        "-1",
        "--body",
        "x",
        env=WRITES,
    )
    assert negative.exit_code == 2
    assert not confluence_sandbox.requests.find("POST")


def test_resolve_and_reopen(ctk_cli, ctk_mcp, confluence_sandbox, demo):
    state = confluence_sandbox.state
    done = cli_json(ctk_cli, "comments", "resolve", demo["open"], env=WRITES)
    assert done["resolution_status"] == "resolved"
    assert done["version"] == 2
    assert done["body"] == "Are revisions really immutable once the hash is computed?"
    assert state.comments[demo["open"]]["resolutionStatus"] == "resolved"
    put = confluence_sandbox.requests.find("PUT")[-1]
    assert json.loads(put["body"])["resolved"] is True
    again = cli_json(ctk_cli, "comments", "resolve", demo["open"], env=WRITES)
    assert again["resolution_status"] == "resolved"
    assert len(confluence_sandbox.requests.find("PUT")) == 1  # nothing to change
    reopened = ctk_mcp(WRITES).call_json(
        "manage_comments", {"action": "reopen", "comment_id": demo["open"]}
    )
    assert reopened["resolution_status"] == "reopened"
    assert state.comments[demo["open"]]["resolutionStatus"] == "reopened"


def test_resolve_refuses_what_cannot_be_resolved(ctk_cli, ctk_mcp, confluence_sandbox, demo):
    footer = ctk_cli("comments", "resolve", demo["question"], env=WRITES)
    assert footer.exit_code == 2, footer
    assert "is a footer comment" in footer.stderr, footer
    reply = ctk_mcp(WRITES).error(
        "manage_comments", {"action": "resolve", "comment_id": demo["open_reply"]}
    )
    assert "is a reply" in reply
    assert demo["open"] in reply
    confluence_sandbox.state.comments[demo["resolved"]]["resolutionStatus"] = "dangling"
    dangling = ctk_cli("comments", "reopen", demo["resolved"], env=WRITES)
    assert dangling.exit_code == 2
    assert "dangling" in dangling.stderr
    unknown = ctk_cli("comments", "resolve", "999999", env=WRITES)
    assert unknown.exit_code == 5
    assert "999999" in unknown.stderr
    assert not confluence_sandbox.requests.find("PUT")


def test_delete_either_kind(ctk_cli, ctk_mcp, confluence_sandbox, demo):
    state = confluence_sandbox.state
    out = cli_json(ctk_cli, "comments", "delete", demo["question"], env=WRITES)
    assert out == {"id": demo["question"], "type": "footer", "deleted": True}
    assert demo["question"] not in state.comments
    mcp = ctk_mcp(WRITES).call_json(
        "manage_comments", {"action": "delete", "comment_id": demo["resolved"]}
    )
    assert mcp == {"id": demo["resolved"], "type": "inline", "deleted": True}
    assert demo["resolved"] not in state.comments
    deletes = [r["path"] for r in confluence_sandbox.requests.find("DELETE")]
    assert deletes == [
        f"/wiki/api/v2/footer-comments/{demo['question']}",
        f"/wiki/api/v2/inline-comments/{demo['resolved']}",
    ]
    again = ctk_cli("comments", "delete", demo["question"], env=WRITES)
    assert again.exit_code == 5
    assert "neither a footer nor an inline comment" in again.stderr


def test_writes_refused_when_off(ctk_cli, ctk_mcp, confluence_sandbox, demo):
    before = {k: dict(v) for k, v in confluence_sandbox.state.comments.items()}
    for args in (
        ["comments", "add", demo["api"], "--body", "x"],
        ["comments", "reply", demo["question"], "--body", "x"],
        ["comments", "add-inline", demo["repeats"], "--selection", "alpha", "--body", "x"],
        ["comments", "resolve", demo["open"]],
        ["comments", "reopen", demo["open"]],
        ["comments", "delete", demo["question"]],
    ):
        result = ctk_cli(*args)
        assert result.exit_code == 4, result
        assert WRITES_DISABLED_MESSAGE in result.stderr, result
    mcp = ctk_mcp()
    for action in ("add_footer", "reply", "add_inline", "resolve", "reopen", "delete"):
        assert WRITES_DISABLED_MESSAGE in mcp.error("manage_comments", {"action": action})
    assert confluence_sandbox.state.comments == before
    assert not [r for r in confluence_sandbox.requests.entries() if r["method"] != "GET"]


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["comments", "list"], 2, "Missing argument 'PAGE_ID'"),
        (["comments", "list", "999999"], 5, "not found"),
        (["comments", "list", "one"], 2, "'page_id'"),
        (["comments", "list", "1", "--body-format", "html"], 2, "'html' is not one of"),
        (["comments", "list-inline", "999999"], 5, "not found"),
        (["comments", "list-inline", "1", "--limit", "x"], 2, "'x' is not a valid integer"),
        (["comments", "replies"], 2, "Missing argument 'COMMENT_ID'"),
        (["comments", "replies", "999999"], 5, "neither a footer nor an inline comment"),
        (["comments", "replies", "c1"], 2, "'comment_id'"),
    ],
)
def test_bad_inputs_cli(ctk_cli, args, code, fragment):
    assert_refused(ctk_cli(*args), code, fragment)


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["comments", "add", "API"], 2, "--body"),
        (["comments", "add", "API", "--body", "   "], 2, "--body-file) must not be empty"),
        (["comments", "add", "999999", "--body", "x"], 5, "not found"),
        (["comments", "add", "API", "--body", "x", "--content-format", "wiki"], 2, "'wiki'"),
        (["comments", "reply", "999999", "--body", "x"], 5, "neither a footer nor an inline"),
        (["comments", "add-inline", "API", "--body", "x"], 2, "--selection"),
        (
            [
                "comments",
                "add-inline",
                "API",
                "--selection",
                "x",
                "--body",
                "x",
                "--match-index",
                "one",
            ],
            2,
            "'one' is not a valid integer",
        ),
        (["comments", "add-inline", "999999", "--selection", "x", "--body", "x"], 5, "not found"),
        (["comments", "delete", "999999"], 5, "not found"),
        (["comments", "delete", "-5"], 2, None),
    ],
)
def test_bad_inputs_writes_cli(ctk_cli, confluence_sandbox, demo, args, code, fragment):
    before = {k: dict(v) for k, v in confluence_sandbox.state.comments.items()}
    args = [demo["api"] if a == "API" else a for a in args]
    result = ctk_cli(*args, env=WRITES)
    assert result.exit_code == code, result
    if fragment:
        assert fragment.lower() in result.stderr.lower(), result
    assert "Traceback" not in result.stderr
    assert confluence_sandbox.state.comments == before


def test_bad_inputs_mcp(ctk_mcp, demo):
    mcp = ctk_mcp(WRITES)
    assert "page_id" in mcp.error("manage_comments", {"action": "list_footer"})
    assert "resolved" in mcp.error(
        "manage_comments",
        {"action": "list_inline", "page_id": demo["data_model"], "resolved": "maybe"},
    )
    assert "body" in mcp.error("manage_comments", {"action": "add_footer", "page_id": demo["api"]})
    assert "match_index" in mcp.error(
        "manage_comments",
        {
            "action": "add_inline",
            "page_id": demo["api"],
            "selection": "x",
            "body": "x",
            "match_index": "first",
        },
    )
    assert "was not found" in mcp.error(
        "manage_comments",
        {"action": "add_inline", "page_id": demo["api"], "selection": "no such words", "body": "x"},
    )
    assert "not found" in mcp.error(
        "manage_comments", {"action": "get_replies", "comment_id": "999999"}
    )
    assert mcp.call_json("manage_comments", {"action": "list_footer", "page_id": demo["getting"]})[
        "results"
    ]


# -- the page text that selections are matched against --------------------------------------------


def test_page_text_lines_and_counts():
    storage = (
        "<h1>T&amp;C</h1><p>one <em>two</em>\n three</p>"
        '<ac:structured-macro ac:name="code"><ac:parameter ac:name="language">two'
        "</ac:parameter><ac:plain-text-body><![CDATA[two < three]]></ac:plain-text-body>"
        "</ac:structured-macro><ul><li>two</li><li>three</li></ul>"
    )
    assert page_text_lines(storage) == ["T&C", "one two three", "two < three", "two", "three"]
    assert count_matches(storage, "two") == 3
    assert count_matches(storage, "two three") == 1
    assert count_matches(storage, "T&C") == 1
    assert count_matches(storage, "language") == 0
