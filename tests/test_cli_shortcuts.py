"""CLI conveniences declared by plugins: a resource's default command and option shortcuts."""

from __future__ import annotations

import pytest

from ctk_core.plugin import Operation, Param, Resource, validate_resource

WRITES = {"CTK_ENABLE_WRITES": "true"}


def test_search_without_a_command_name_runs_cql(ctk_cli):
    plain = ctk_cli("--json", "search", 'title ~ "release"')
    explicit = ctk_cli("--json", "search", "cql", 'title ~ "release"')
    assert plain.exit_code == explicit.exit_code == 0, plain
    assert plain.json() == explicit.json()
    assert {hit["title"] for hit in plain.json()["results"]} >= {"Release 1.0", "Release 1.1"}


def test_an_option_of_another_command_picks_that_command(ctk_cli, confluence_sandbox):
    short = ctk_cli("--json", "search", "--query", "sync agent")
    long = ctk_cli("--json", "search", "quick", "--query", "sync agent")
    assert short.exit_code == 0, short
    assert short.json() == long.json()
    assert short.json()["results"]
    sent = confluence_sandbox.requests.entries()[-1]["query"]["cql"][0]
    assert sent.startswith('siteSearch ~ "sync agent"')


def test_unknown_option_still_fails_as_usage(ctk_cli):
    result = ctk_cli("search", "--bogus", "x")
    assert result.exit_code == 2
    assert "--bogus" in result.stderr
    assert "runs 'cql'" in ctk_cli("search", "--help").stdout


def test_move_before_and_after_shortcuts(ctk_cli, confluence_sandbox):
    first = confluence_sandbox.page_id("Release 1.0")
    second = confluence_sandbox.page_id("Release 1.1")
    moved = ctk_cli("--json", "pages", "move", second, "--before", first, env=WRITES)
    assert moved.exit_code == 0, moved
    assert moved.json()["position"] == "before"
    assert moved.json()["target_id"] == first
    order = [
        c["title"]
        for c in confluence_sandbox.state.children_of(confluence_sandbox.page_id("Release Notes"))
    ]
    assert order.index("Release 1.1") < order.index("Release 1.0")
    back = ctk_cli("--json", "pages", "move", second, "--after", first, env=WRITES)
    assert back.exit_code == 0, back
    order = [
        c["title"]
        for c in confluence_sandbox.state.children_of(confluence_sandbox.page_id("Release Notes"))
    ]
    assert order.index("Release 1.1") > order.index("Release 1.0")
    clash = ctk_cli("pages", "move", second, "--before", first, "--target", first, env=WRITES)
    assert clash.exit_code == 2
    assert "give one or the other" in clash.stderr
    assert "--before VALUE" in ctk_cli("pages", "move", "--help", env=WRITES).stdout


def _noop(ctx, **params):
    return params


@pytest.mark.parametrize(
    ("resource", "fragment"),
    [
        (
            Resource(
                "things", "Things.", [Operation("get", "Get.", _noop)], default_command="list"
            ),
            "default_command",
        ),
        (
            Resource(
                "things",
                "Things.",
                [
                    Operation(
                        "get",
                        "Get.",
                        _noop,
                        params=[Param("a")],
                        cli_shortcuts={"quick": {"b": "{}"}},
                    )
                ],
            ),
            "shortcut",
        ),
    ],
)
def test_malformed_conveniences_are_refused(resource, fragment):
    with pytest.raises(ValueError, match=fragment):
        validate_resource(resource)
