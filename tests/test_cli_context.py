"""The handler context (lazy client, space ids) and the CLI's bulk pacing and progress line."""

from __future__ import annotations

import pytest

from ctk_core.cli_run import terminal_line
from ctk_core.context import Context, Progress, ProgressState, forget_space_ids
from ctk_core.errors import NotFound, UsageError


@pytest.fixture
def ctx(confluence_sandbox):
    forget_space_ids()
    return Context(environ={**confluence_sandbox.client_env, "CTK_RATE_LIMIT": "off"})


def test_client_is_created_on_first_use(ctx, confluence_sandbox):
    assert ctx._client is None
    assert ctx.client.wiki_base == confluence_sandbox.url + "/wiki"
    assert ctx.client is ctx.client


def test_space_ids_from_ids_and_keys_cached_per_process(ctx, confluence_sandbox):
    expected = confluence_sandbox.space_id("DEMO")
    assert ctx.space_id(" 12345 ") == "12345"
    assert ctx.space_id(12345) == "12345"
    assert confluence_sandbox.requests.find("GET", "/api/v2/spaces") == []  # ids need no request
    assert ctx.space_id("DEMO") == expected
    other = Context(environ=ctx.environ)  # a new context in the same process: cached
    assert other.space_id("DEMO") == expected
    lookups = confluence_sandbox.requests.find("GET", "/api/v2/spaces")
    assert len(lookups) == 1
    assert lookups[0]["query"]["keys"] == ["DEMO"]


def test_unknown_key_and_empty_value(ctx):
    with pytest.raises(NotFound, match="No space with key 'NOPE'"):
        ctx.space_id("NOPE")
    with pytest.raises(UsageError):
        ctx.space_id("  ")


def test_bulk_listing_paces_itself_instead_of_failing(ctk_cli, confluence_sandbox):
    for n in range(4):
        confluence_sandbox.state.create_space(f"PACE{n}", f"Pace {n}")
    total = len(confluence_sandbox.state.spaces)
    assert total >= 6
    # 4 requests at once, then one every 0.1 s: without pacing the 5th page would fail (exit 7)
    env = {"CTK_RATE_LIMIT": "4/0.4"}
    single = ctk_cli("spaces", "list", "--limit", "1", env=env, subprocess=True)
    assert single.exit_code == 0, single
    result = ctk_cli("--json", "spaces", "list", "--limit", "1", "--all", env=env, subprocess=True)
    assert result.exit_code == 0, result
    assert len(result.json()["results"]) == total


def test_progress_base_class_is_silent(capsys):
    progress = Progress()
    progress.start("x", 3)
    progress.advance()
    progress(2, 3)
    progress.note("waiting")
    progress.finish()
    assert capsys.readouterr() == ("", "")


def test_terminal_progress_line(capsys):
    progress = Progress(terminal_line)
    progress.start("download", 100)
    progress(50, 100)
    progress.note("waiting 1.0 s for the rate limiter")
    progress.finish()
    err = capsys.readouterr().err
    assert "download [############------------] 50/100" in err
    assert "(waiting 1.0 s for the rate limiter)" in err
    assert err.endswith("\r\033[K")
    unknown = Progress(terminal_line)
    unknown.start("spaces list:")
    unknown.advance(7)
    assert "spaces list: 7" in capsys.readouterr().err


def test_terminal_progress_escapes_titles(capsys):
    progress = Progress(terminal_line)
    progress.start("export \x1b]0;owned\x07 title\nnext", 2)
    err = capsys.readouterr().err
    assert "\x1b]" not in err
    assert "\x07" not in err
    assert "\n" not in err
    assert "export \\x1b]0;owned\\x07 title\\x0anext [" in err


def test_progress_reports_at_most_every_interval():
    shown: list[ProgressState] = []
    now = [0.0]
    progress = Progress(shown.append, min_interval=1.0, clock=lambda: now[0])
    progress.start("pages", 10)
    for _ in range(5):
        progress.advance()  # within the interval: counted, not shown
    now[0] = 1.5
    progress.advance()
    progress.note("waiting 2 s for the rate limiter")  # notes and the end always show
    progress.finish()
    assert [(s.done, s.note, s.finished) for s in shown] == [
        (0, "", False),
        (6, "", False),
        (6, "waiting 2 s for the rate limiter", False),
        (6, "", True),
    ]
    assert progress.state.total == 10


def test_no_progress_when_stderr_is_not_a_terminal(ctk_cli):
    result = ctk_cli("spaces", "list", "--all")
    assert result.exit_code == 0
    assert result.stderr == ""
