"""Running one operation from the command line: dispatch, progress on the terminal, pacing
under the rate limit for ``--all``, and printing the result."""

from __future__ import annotations

import sys
from typing import Any

import click

from ctk_core import settings
from ctk_core.context import Context, Progress, ProgressState
from ctk_core.file_access import PersonFiles
from ctk_core.inline import split_inline
from ctk_core.plugin import Operation, Resource
from ctk_core.policy import Policy
from ctk_core.words import CLI_WORDS


def catalog() -> Any:
    """The plugin catalog (loaded once per process)."""
    from ctk_core.registry import load_catalog

    return load_catalog()


def current_policy(ctx: click.Context | None = None) -> Policy:
    """The policy of this invocation (built once, its warnings printed once, on stderr)."""
    root = (ctx or click.get_current_context()).find_root()
    policy = root.meta.get("ctk.policy")
    if policy is None:
        policy = Policy.from_environ(settings.environ(), known_tools=catalog().tool_names)
        for warning in policy.warnings:
            click.echo(f"ctk: warning: {warning}", err=True)
        root.meta["ctk.policy"] = policy
    return policy


def root_json(ctx: click.Context | None = None) -> bool:
    """Whether ``ctk --json`` (the root option) asked for JSON output."""
    return bool(getattr((ctx or click.get_current_context()).find_root().obj, "json", False))


def terminal_line(state: ProgressState) -> None:
    """Show progress as one line on stderr, redrawn in place and cleared when the work ends."""
    if state.finished:
        sys.stderr.write("\r\033[K")
    else:
        if state.total:
            width = 24
            filled = int(width * min(state.done, state.total) / state.total)
            bar = f"[{'#' * filled}{'-' * (width - filled)}] {state.done}/{state.total}"
        else:
            bar = str(state.done)
        from ctk_core.output import printable

        note = f" ({printable(state.note, keep_lines=False)})" if state.note else ""
        line = f"{printable(state.label, keep_lines=False)} {bar}{note}".rstrip()
        sys.stderr.write(f"\r\033[K{line}")
    sys.stderr.flush()


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def terminal_progress() -> Progress:
    """Progress on a terminal line when stderr is a terminal; nothing extra otherwise."""
    return Progress(terminal_line, min_interval=0.1) if _stderr_is_terminal() else Progress()


def echo_list(header: str, items: list[str], limit: int = 20) -> None:
    """A header and up to ``limit`` indented items on stderr: what a summary asks a person to
    look at (files left, pages not deleted)."""
    click.echo(header, err=True)
    for item in items[:limit]:
        click.echo(f"  {item}", err=True)
    if len(items) > limit:
        click.echo(f"  ... and {len(items) - limit} more", err=True)


def run_operation(
    ctx: click.Context,
    resource: Resource,
    op: Operation,
    arguments: dict[str, Any],
    as_json: bool = False,
    fetch_all: bool = False,
) -> None:
    """Run one operation through dispatch under the invocation's policy and print its result
    (every page of it with ``fetch_all``, pacing itself under the rate limit)."""
    from ctk_core import dispatch, output

    policy = current_policy(ctx)
    withheld = policy.withheld_content_types(catalog().resources)
    context = Context(PersonFiles(), progress=terminal_progress(), withheld_types=withheld)
    if not fetch_all:
        result = dispatch.invoke(context, resource, op, arguments, policy, CLI_WORDS)
        result = split_inline(result)[0]  # the CLI shows no file content (its inline cap is 0)
        if op.render is not None and not as_json:
            _print_view(op, result)
            hint = output.more_hint(result)
            if hint:
                click.echo(hint, err=True)
            return
        output.emit(result, as_json=as_json, columns=op.columns)
        return

    if ctx.get_parameter_source("limit") in (None, click.core.ParameterSource.DEFAULT):
        limit = next((p for p in op.all_params if p.name == "limit"), None)
        if limit is not None and limit.maximum:
            arguments["limit"] = limit.maximum
    stream = output.PageStream(as_json, op.columns)
    # An operation with its own view (a tree) is drawn once, from all the pages.
    collected: list[Any] | None = [] if op.render is not None and not as_json else None
    progress = context.progress
    progress.start(f"{resource.name} {op.cli_name}:")
    pace(context, progress)
    try:
        while True:
            result = dispatch.invoke(context, resource, op, arguments, policy, CLI_WORDS)
            items = result.get("results", []) if isinstance(result, dict) else list(result)
            if collected is not None:
                collected.extend(items)
            else:
                stream.add(items)
            progress.advance(len(items))
            cursor = result.get("next_cursor") if isinstance(result, dict) else None
            if not cursor:
                break
            arguments["cursor"] = cursor
    finally:
        progress.finish()
    if collected is not None:
        _print_view(op, {"results": collected, "next_cursor": None})
        return
    stream.close()


def _print_view(op: Operation, result: Any) -> None:
    """Print an operation's own view of its result: text, or a simpler result to show as usual."""
    from ctk_core import output

    assert op.render is not None
    view = op.render(result)
    text = view if isinstance(view, str) else output.render(view, op.columns)
    if text:
        output.write_text(text.rstrip("\n"))


def pace(context: Context, progress: Progress, doing: str = "--all") -> None:
    """Bulk work (``--all``, an export) waits for the rate limiter instead of failing fast, and
    says so: on the progress line on a terminal, else once on stderr. Every request of the
    command waits, not only the first of each page."""
    client: Any = context.client  # ctk_core.client.Client
    limiter = getattr(client, "limiter", None)
    if limiter is None or not hasattr(client, "paced"):
        return
    told = _stderr_is_terminal()  # a terminal shows the wait on the progress line

    def waiting(message: str) -> None:
        nonlocal told
        progress.note(message)
        if not told:
            told = True
            click.echo(
                f"ctk: {message}; {doing} goes on at the pace of the rate limit "
                f"({limiter.describe()}) instead of failing.",
                err=True,
            )

    client.paced = True
    client.on_wait = waiting


__all__ = [
    "catalog",
    "current_policy",
    "echo_list",
    "pace",
    "run_operation",
    "terminal_line",
    "terminal_progress",
]
