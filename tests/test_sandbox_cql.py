"""CQL in the sandbox: the parser and evaluator as units, then real searches over HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ctk_core.sandbox import cql
from ctk_core.sandbox.cql import CqlError, EvalContext, parse, text_matches

NOW = datetime(2024, 3, 15, 12, 0, tzinfo=timezone.utc)

ITEMS = [
    {"id": "1", "type": "page", "space.key": "DEMO", "space.id": "10", "title": "Getting Started",
     "text": "Getting Started. Install the tool with pip and run it.", "labels": ["guide"],
     "ancestors": [], "parent": None, "creator": "u1", "contributors": ["u1", "u2"],
     "created": NOW - timedelta(days=30), "lastModified": NOW - timedelta(days=2)},
    {"id": "2", "type": "page", "space.key": "DEMO", "space.id": "10", "title": "Release Notes",
     "text": "Release Notes. Version 2.0 brings faster search.", "labels": ["release", "guide"],
     "ancestors": ["1"], "parent": "1", "creator": "u2", "contributors": ["u2"],
     "created": datetime(2024, 1, 31, 10, 0, tzinfo=timezone.utc),
     "lastModified": NOW - timedelta(days=10)},
    {"id": "3", "type": "comment", "space.key": "TEAM", "space.id": "20", "title": "Re: Plan",
     "text": "Looks good to me", "labels": [], "container": "2", "creator": "u1",
     "contributors": ["u1"], "created": "2024-02-01T08:00:00Z",
     "lastModified": "2024-02-01T08:00:00Z"},
    {"id": "att4", "type": "attachment", "space.key": "DEMO", "space.id": "10",
     "title": "diagram.png", "text": "diagram.png architecture diagram", "labels": [],
     "container": "1", "creator": "u3", "contributors": ["u3"],
     "created": NOW - timedelta(hours=1), "lastModified": NOW - timedelta(hours=1)},
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
        ("title != \"Release Notes\"", ["1", "3", "att4"]),
        ("title ~ start*", ["1"]),
        ("title !~ release", ["1", "3", "att4"]),
        ("text ~ \"pip install\"", ["1"]),
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
        ("lastModified < now(\"-1w\")", ["2", "3"]),
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
        ("title = \"unterminated", "unterminated string"),
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
    toks = cql.tokenize("title = \"say \\\"hi\\\"\" and label = 'it\\'s'")
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
    assert start.hour == 10 and (end - start) == timedelta(minutes=1)
    assert cql.parse_offset("-7d") == timedelta(days=-7)
    assert cql.parse_offset("+1w") == timedelta(days=7)
    assert cql.parse_offset("-1w 2d") == timedelta(days=-9)
    assert cql.parse_offset("-3h") == timedelta(hours=-3)


def test_search_words_skip_negated_clauses():
    q = parse("text ~ \"alpha beta*\" and not title ~ gamma and title !~ delta")
    assert q.search_words() == [("alpha", False), ("beta", True)]
    q2 = parse("not text !~ omega")
    assert q2.search_words() == [("omega", False)]


def test_user_fields_table():
    q = parse('user.fullname ~ "ann"', fields=cql.USER_FIELDS)
    assert q.matches({"user.fullname": "Ann Example"})
    assert not q.matches({"user.fullname": "Bob Builder"})
    with pytest.raises(CqlError, match="'space'"):
        parse("space = DEMO", fields=cql.USER_FIELDS)
