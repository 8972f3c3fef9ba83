"""CQL in the sandbox: the parser and evaluator as units, then real searches over HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctk_core.sandbox import cql
from ctk_core.sandbox import seed as demo
from ctk_core.sandbox.cql import CqlError, EvalContext, parse, text_matches
from ctk_core.testing import running_sandbox

NOW = datetime(2024, 3, 15, 12, 0, tzinfo=timezone.utc)

ITEMS = [
    {
        "id": "1",
        "type": "page",
        "space.key": "DEMO",
        "space.id": "10",
        "title": "Getting Started",
        "text": "Getting Started. Install the tool with pip and run it.",
        "labels": ["guide"],
        "ancestors": [],
        "parent": None,
        "creator": "u1",
        "contributors": ["u1", "u2"],
        "created": NOW - timedelta(days=30),
        "lastModified": NOW - timedelta(days=2),
    },
    {
        "id": "2",
        "type": "page",
        "space.key": "DEMO",
        "space.id": "10",
        "title": "Release Notes",
        "text": "Release Notes. Version 2.0 brings faster search.",
        "labels": ["release", "guide"],
        "ancestors": ["1"],
        "parent": "1",
        "creator": "u2",
        "contributors": ["u2"],
        "created": datetime(2024, 1, 31, 10, 0, tzinfo=timezone.utc),
        "lastModified": NOW - timedelta(days=10),
    },
    {
        "id": "3",
        "type": "comment",
        "space.key": "TEAM",
        "space.id": "20",
        "title": "Re: Plan",
        "text": "Looks good to me",
        "labels": [],
        "container": "2",
        "creator": "u1",
        "contributors": ["u1"],
        "created": "2024-02-01T08:00:00Z",
        "lastModified": "2024-02-01T08:00:00Z",
    },
    {
        "id": "att4",
        "type": "attachment",
        "space.key": "DEMO",
        "space.id": "10",
        "title": "diagram.png",
        "text": "diagram.png architecture diagram",
        "labels": [],
        "container": "1",
        "creator": "u3",
        "contributors": ["u3"],
        "created": NOW - timedelta(hours=1),
        "lastModified": NOW - timedelta(hours=1),
    },
]


def ids(query: str, user: str = "u1") -> list[str]:
    q = parse(query)
    ctx = EvalContext(now=NOW, current_user=user)
    return [i["id"] for i in sorted((i for i in ITEMS if q.matches(i, ctx)), key=q.sort_key)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("type = page", ["1", "2"]),
        ("TYPE = PAGE", ["1", "2"]),
        ("type in (comment, attachment)", ["3", "att4"]),
        ("type not in (page)", ["3", "att4"]),
        ("space = DEMO and type = page", ["1", "2"]),
        ("space.id = 20", ["3"]),
        ("title = 'release notes'", ["2"]),
        ('title != "Release Notes"', ["1", "3", "att4"]),
        ("title ~ start*", ["1"]),
        ("title !~ release", ["1", "3", "att4"]),
        ('text ~ "pip install"', ["1"]),
        ("text ~ '\"install the tool\"'", ["1"]),
        ("text ~ '\"tool install\"'", []),
        ("siteSearch ~ diagram", ["att4"]),
        ("label = guide", ["1", "2"]),
        ("label in (release, nothing)", ["2"]),
        ("label != guide", ["3", "att4"]),
        ("ancestor = 1", ["2"]),
        ("parent = 1", ["2"]),
        ("container = 1", ["att4"]),
        ("id = att4 or id = 3", ["3", "att4"]),
        ("creator = currentUser()", ["1", "3"]),
        ("contributor = u2", ["1", "2"]),
        ("created = 2024-01-31", ["2"]),
        ("created = '2024/01/31 10:00'", ["2"]),
        ("created > '2024-01-31'", ["1", "3", "att4"]),
        ("created >= '2024-01-31'", ["1", "2", "3", "att4"]),
        ("created < 2024-02-01", ["2"]),
        ("created <= 2024-02-01", ["2", "3"]),
        ("lastModified > now('-7d')", ["1", "att4"]),
        ('lastModified < now("-1w")', ["2", "3"]),
        ("created > startOfDay()", ["att4"]),
        ("created < now('+1w')", ["1", "2", "3", "att4"]),
        ("not type = page", ["3", "att4"]),
        ("type = page and not (label = release or title ~ started)", []),
        ("type = page or type = comment and space = DEMO", ["1", "2"]),
        ("(type = page or type = comment) and space = TEAM", ["3"]),
        ("space = demo", ["1", "2", "att4"]),
    ],
)
def test_query_answers(query, expected):
    assert ids(query) == expected


def test_order_by_several_fields():
    assert ids("space in (DEMO, TEAM) order by title desc") == ["2", "3", "1", "att4"]
    assert ids("id != 0 ORDER BY space ASC, created DESC") == ["att4", "1", "2", "3"]
    assert ids("id != 0 order by lastModified") == ["3", "2", "1", "att4"]


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("", "empty"),
        ("favourite = currentUser()", "'favourite'"),
        ("label ~ foo", "operator '~'"),
        ("title > 5", "operator '>'"),
        ("type = page order by label", "ORDER BY label"),
        ('title = "unterminated', "unterminated string"),
        ("type = page and", "field name"),
        ("(type = page", "')'"),
        ("created > yesterday", "invalid date"),
        ("created > now('-7x')", "invalid date offset"),
        ("space = currentSpace()", "currentSpace()"),
        ("type = widget", "'widget'"),
        ("type = page order by", "field name"),
        ("type = page type = blogpost", "unexpected 'type'"),
        ("title ~ '*foo'", "leading wildcard"),
        ("order by title", "no condition"),
        ("title ! foo", "unexpected character"),
        ("label not label", "expected IN"),
        ("creator = now()", "cannot be used"),
    ],
)
def test_invalid_queries_name_the_problem(query, fragment):
    with pytest.raises(CqlError) as info:
        parse(query)
    assert fragment in str(info.value)


def test_tokenizer_handles_escapes_and_both_quotes():
    toks = cql.tokenize('title = "say \\"hi\\"" and label = \'it\\\'s\'')
    strings = [t.text for t in toks if t.kind == "string"]
    assert strings == ['say "hi"', "it's"]


def test_text_matching_rules():
    assert text_matches("install pip", "Run pip to INSTALL it")
    assert not text_matches("install npm", "Run pip to install it")
    assert text_matches("instal*", "installation guide")
    assert not text_matches("stall", "installation guide")
    assert text_matches('"quick brown"', "the quick brown fox")
    assert not text_matches('"brown quick"', "the quick brown fox")
    assert text_matches('"quick bro*"', "the quick brown fox")


def test_dates_and_offsets():
    start, end = cql.parse_date("2024-01-31")
    assert (end - start) == timedelta(days=1)
    start, end = cql.parse_date("2024/01/31 10:00")
    assert start.hour == 10
    assert (end - start) == timedelta(minutes=1)
    assert cql.parse_offset("-7d") == timedelta(days=-7)
    assert cql.parse_offset("+1w") == timedelta(days=7)
    assert cql.parse_offset("-1w 2d") == timedelta(days=-9)
    assert cql.parse_offset("-3h") == timedelta(hours=-3)


def test_search_words_skip_negated_clauses():
    q = parse('text ~ "alpha beta*" and not title ~ gamma and title !~ delta')
    assert q.search_words() == [("alpha", False), ("beta", True)]
    q2 = parse("not text !~ omega")
    assert q2.search_words() == [("omega", False)]


_PIECES = [
    *"ab =~!<>()\",'*-:.",
    "AND ",
    "OR ",
    "NOT ",
    "IN ",
    "title",
    "label",
    "created",
    "now(",
    "ORDER BY ",
    "2024-01-31",
    "\\",
]


@given(st.lists(st.sampled_from(_PIECES), max_size=20).map("".join))
def test_parser_fails_only_with_cql_errors(source):
    try:
        query = parse(source)
    except CqlError:
        return
    for item in ITEMS:  # whatever parses also evaluates and sorts
        query.matches(item, EvalContext(now=NOW, current_user="u1"))
        query.sort_key(item)


def test_user_fields_table():
    q = parse('user.fullname ~ "ann"', fields=cql.USER_FIELDS)
    assert q.matches({"user.fullname": "Ann Example"})
    assert not q.matches({"user.fullname": "Bob Builder"})
    with pytest.raises(CqlError, match="'space'"):
        parse("space = DEMO", fields=cql.USER_FIELDS)


# ------------------------------------------------------------------------------ over HTTP


@pytest.fixture(scope="module")
def site():
    """One demo sandbox for the read-only searches of this module."""
    with running_sandbox() as handle:
        yield handle


def search(site, cql: str, **params):
    with site.session() as session:
        return session.get(
            site.url + "/wiki/rest/api/search", params={"cql": cql, "limit": 250, **params}
        )


def titles(site, cql: str, **params) -> list[str]:
    resp = search(site, cql, **params)
    assert resp.status_code == 200, resp.text
    return [r["content"]["title"] for r in resp.json()["results"]]


def known(name: str) -> str:
    return demo.demo_ids()[name]


GUIDES = ["Getting Started", "Installation", "Configuration"]
DEMO_PAGES = [
    "Demo Space",
    "Getting Started",
    "Installation",
    "Installing on Linux",
    "Installing on macOS",
    "Configuration",
    "Environment Variables",
    "Architecture",
    "Data Model",
    "API Design",
    "Release Notes",
    "Release 1.0",
    "Release 1.1",
    "2024-01-15 Planning",
    "2024-02-12 Retrospective",
    "Team Handbook",
    "Code Review Guidelines",
    "On-call Rotation",
    "Security Review",
    "Incident Runbook",
]

# (CQL, expected titles in any order); ids are filled in from the demo seed.
KNOWN_ANSWERS = [
    ("type = page AND space = DEMO", DEMO_PAGES),
    ('type = page AND space = "TEAM"', ["Team Space", "Team Goals", "Onboarding Checklist"]),
    ("type = folder", ["Meeting Notes"]),
    ("type = attachment", ["diagram.png", "notes.txt"]),
    ("type = comment AND container = {page:Data Model}", ["Re: Data Model"] * 3),
    ("label = guide", GUIDES),
    (
        "label IN (architecture, release-notes)",
        ["Architecture", "Data Model", "Release 1.0", "Release 1.1"],
    ),
    (
        "label = meeting-notes AND parent = {folder:Meeting Notes}",
        ["2024-01-15 Planning", "2024-02-12 Retrospective"],
    ),
    (
        "ancestor = {page:Getting Started}",
        [
            "Installation",
            "Installing on Linux",
            "Installing on macOS",
            "Configuration",
            "Environment Variables",
        ],
    ),
    ("parent = {page:Architecture}", ["Data Model", "API Design"]),
    ('title ~ "install*"', ["Installation", "Installing on Linux", "Installing on macOS"]),
    ('title = "Release 1.0"', ["Release 1.0"]),
    ('ancestor = {page:Release Notes} AND title !~ "1.1"', ["Release 1.0"]),
    ('title != "Release Notes" AND label = release-notes', ["Release 1.0", "Release 1.1"]),
    ('text ~ "garbage collected"', ["Data Model"]),
    ('text ~ "homebrew"', ["Installing on macOS"]),
    ("siteSearch ~ diagram", ["Architecture", "diagram.png", "Re: Architecture"]),
    ("type = attachment AND text ~ checklist", ["notes.txt"]),
    (
        "creator = {user:Sam O'Connor} AND type = page",
        [
            "Installing on Linux",
            "Installing on macOS",
            "Release 1.1",
            "Code Review Guidelines",
            "Onboarding Checklist",
        ],
    ),
    ("contributor = currentUser() AND label = architecture", ["Architecture"]),
    ('created < "2024-01-10" AND type = page', ["Demo Space", "Getting Started"]),
    (
        "created >= 2024/01/22 AND created < 2024/01/25 AND type = page",
        ["On-call Rotation", "Team Space", "Team Goals"],
    ),
    ('created = "2024-01-15"', ["Meeting Notes", "2024-01-15 Planning"]),
    ('lastModified > now("-7d")', ["Architecture", "Release 1.1"]),
    (
        'lastModified < now("-1w") AND space = TEAM',
        ["Team Space", "Team Goals", "Onboarding Checklist"],
    ),
    ("space.id = {space:TEAM} AND title ~ team", ["Team Space", "Team Goals"]),
    (
        "id IN ({page:API Design}, {folder:Meeting Notes}, {attachment:notes.txt})",
        ["API Design", "Meeting Notes", "notes.txt"],
    ),
    (
        "type = page AND NOT label = guide AND ancestor = {page:Getting Started}",
        ["Installing on Linux", "Installing on macOS", "Environment Variables"],
    ),
    ("(label = guide OR label = team) AND space IN (DEMO, TEAM)", [*GUIDES, "Team Goals"]),
    ("space NOT IN (DEMO) AND type = page", ["Team Space", "Team Goals", "Onboarding Checklist"]),
    (
        'type = page AND space = DEMO AND lastModified > startOfYear("-100y") AND title ~ rotation',
        ["On-call Rotation"],
    ),
]


def _fill(cql_text: str) -> str:
    ids = demo.demo_ids()
    for key, value in ids.items():
        cql_text = cql_text.replace("{" + key + "}", value)
    return cql_text


@pytest.mark.parametrize(("query", "expected"), KNOWN_ANSWERS, ids=[q for q, _ in KNOWN_ANSWERS])
def test_search_known_answers(site, query, expected):
    assert sorted(titles(site, _fill(query))) == sorted(expected)


def test_at_least_25_distinct_queries():
    assert len({q for q, _ in KNOWN_ANSWERS}) >= 25


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "type = page AND space = TEAM ORDER BY created DESC",
            ["Onboarding Checklist", "Team Goals", "Team Space"],
        ),
        (
            'title ~ "release" AND type = page ORDER BY title',
            ["Release 1.0", "Release 1.1", "Release Notes"],
        ),
        (
            "label = guide ORDER BY lastModified DESC, title ASC",
            ["Configuration", "Installation", "Getting Started"],
        ),
    ],
)
def test_search_order_by(site, query, expected):
    assert titles(site, query) == expected


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("frobnicate = 3", "'frobnicate'"),
        ("title > 3", "operator '>'"),
        ("type = page AND", "field name"),
        ("label ~ guide", "operator '~'"),
        ('created > "yesterday"', "invalid date"),
        ("space = currentSpace()", "currentSpace()"),
        ("order by title", "no condition"),
        ('user.fullname ~ "alex"', "'user.fullname'"),
    ],
)
def test_invalid_cql_answers_400(site, query, fragment):
    for path in ("/wiki/rest/api/search", "/wiki/rest/api/content/search"):
        with site.session() as session:
            resp = session.get(site.url + path, params={"cql": query})
        assert resp.status_code == 400, resp.text
        body = resp.json()
        assert body["statusCode"] == 400
        assert fragment in body["message"]


def test_missing_cql_answers_400(site):
    with site.session() as session:
        resp = session.get(site.url + "/wiki/rest/api/search")
    assert resp.status_code == 400
    assert "cql" in resp.json()["message"]


def test_search_paging_walks_every_hit_once(site):
    seen: list[str] = []
    params = {"cql": "type = page ORDER BY title", "limit": 4}
    with site.session() as session:
        url = site.url + "/wiki/rest/api/search"
        while True:
            data = session.get(url, params=params).json()
            assert data["totalSize"] == len(DEMO_PAGES) + 3
            assert data["size"] == len(data["results"]) <= 4
            seen += [r["content"]["id"] for r in data["results"]]
            nxt = data["_links"].get("next")
            if not nxt:
                break
            assert nxt.startswith("/rest/api/search?")
            # the client contract: follow the cursor of _links.next
            params["cursor"] = parse_qs(urlsplit(nxt).query)["cursor"][0]
    assert len(seen) == len(set(seen)) == len(DEMO_PAGES) + 3


def test_search_result_shape_and_highlighting(site):
    resp = search(site, "text ~ homebrew", expand="content.space")
    hit = resp.json()["results"][0]
    assert "@@@hl@@@Homebrew@@@endhl@@@" in hit["excerpt"]
    assert hit["content"]["space"]["key"] == "DEMO"
    assert hit["resultGlobalContainer"] == {"title": "Demo Space", "displayUrl": "/spaces/DEMO"}
    assert hit["url"].startswith("/spaces/DEMO/pages/")
    assert hit["lastModified"].endswith("Z")
    plain = search(site, "text ~ homebrew", excerpt="indexed").json()["results"][0]
    assert "@@@hl@@@" not in plain["excerpt"]
    assert "Homebrew" in plain["excerpt"]
    none = search(site, "text ~ homebrew", excerpt="none").json()["results"][0]
    assert none["excerpt"] == ""
    no_space = search(site, "text ~ homebrew").json()["results"][0]
    assert "space" not in no_space["content"]


def test_content_search_expands_body_and_space(site):
    with site.session() as session:
        resp = session.get(
            site.url + "/wiki/rest/api/content/search",
            params={
                "cql": 'title = "Installation"',
                "expand": "body.storage,space,version,ancestors",
            },
        )
    data = resp.json()
    assert data["size"] == 1
    content = data["results"][0]
    assert 'ac:name="code"' in content["body"]["storage"]["value"]
    assert content["space"]["key"] == "DEMO"
    assert content["version"]["number"] == 1
    assert [a["title"] for a in content["ancestors"]] == ["Demo Space", "Getting Started"]


def test_search_through_the_gateway(site):
    with site.session() as session:
        resp = session.get(
            site.gateway_url + "/wiki/rest/api/search", params={"cql": "label = guide", "limit": 1}
        )
    data = resp.json()
    assert data["totalSize"] == 3
    assert data["_links"]["base"] == site.gateway_url + "/wiki"


def test_archived_spaces_only_when_asked(confluence_sandbox):
    state = confluence_sandbox.state
    with state.lock:
        state.spaces[confluence_sandbox.space_id("TEAM")]["status"] = "archived"
    assert titles(confluence_sandbox, "space = TEAM") == []
    assert len(titles(confluence_sandbox, "space = TEAM", includeArchivedSpaces="true")) == 3


def test_search_sees_new_content(confluence_sandbox):
    sandbox = confluence_sandbox
    with sandbox.session() as session:
        created = session.post(
            sandbox.url + "/wiki/api/v2/pages",
            json={
                "spaceId": sandbox.space_id("TEAM"),
                "title": "Quarterly zeppelin review",
                "body": {"representation": "storage", "value": "<p>Zeppelins are back.</p>"},
            },
        )
        assert created.status_code == 200, created.text
        session.post(
            sandbox.url + f"/wiki/rest/api/content/{created.json()['id']}/label",
            json={"prefix": "global", "name": "airships"},
        )
    assert titles(sandbox, "text ~ zeppelin*") == ["Quarterly zeppelin review"]
    assert titles(sandbox, "label = airships AND creator = currentUser()") == [
        "Quarterly zeppelin review"
    ]
    assert titles(sandbox, "lastModified >= startOfDay() AND space = TEAM") == [
        "Quarterly zeppelin review"
    ]
