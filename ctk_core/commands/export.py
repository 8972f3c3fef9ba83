"""``ctk export (PAGE_ID | --space KEY) DIR``: a space or a page tree as a folder of Markdown.

A thin front: the work is ``ctk_core.mirror.export`` (imported inside the command, so that
``ctk --help`` loads neither it nor requests).
"""

from __future__ import annotations

import json
from typing import Any

import click


@click.command("export")
@click.argument("targets", nargs=-1, metavar="[PAGE_ID] DIR")
@click.option("--space", "space", metavar="KEY", help="Export this whole space (by key).")
@click.option("--prune", is_flag=True, help="Remove the files of pages deleted since the last run.")
@click.option(
    "--force", is_flag=True, help="Overwrite files edited here whose pages changed in Confluence."
)
@click.option("--dry-run", is_flag=True, help="Print the plan; write nothing, send only reads.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary (or plan) as JSON.")
def command(
    targets: tuple[str, ...],
    space: str | None,
    prune: bool,
    force: bool,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Export a page tree (PAGE_ID) or a whole space (--space KEY) into DIR as Markdown.

    One Markdown file per page, with YAML front matter, in folders that mirror the tree;
    attachments beside their page; links between exported pages made relative. Run it again
    on the same DIR to fetch only what changed (a state file, .ctk-export.json, remembers).
    Waits for the rate limiter instead of failing. See docs/export-and-push.md.
    """
    if len(targets) == 2 and space is None:
        page_id: str | None = targets[0]
        folder = targets[1]
    elif len(targets) == 1 and space is not None:
        page_id, folder = None, targets[0]
    else:
        raise click.UsageError(
            "give PAGE_ID and DIR, or --space KEY and DIR (ctk export 123 out/, "
            "ctk export --space DEV out/)"
        )
    from ctk_core.cli_run import (
        catalog,
        current_policy,
        echo_list,
        pace,
        root_json,
        terminal_progress,
    )
    from ctk_core.context import Context
    from ctk_core.file_access import PersonFiles
    from ctk_core.mirror.export import conflict_error, plan_export, run_export
    from ctk_core.words import CLI_WORDS

    as_json = as_json or root_json()
    policy = current_policy()
    # pages are what an export reads: not while their tool is disabled
    policy.check(catalog().resource("pages"), None, CLI_WORDS)
    # Attachments are left out while their tool is disabled (the summary says so).
    attachments = not policy.refusal(catalog().resource("attachments"), None, CLI_WORDS)
    context = Context(PersonFiles(), progress=terminal_progress())
    pace(context, context.progress, "export")
    plan = plan_export(
        context, folder, space=space, page_id=page_id, with_attachments=attachments, prune=prune
    )
    if dry_run:
        _print_plan(plan.to_json(), as_json)
        return
    summary = run_export(context, plan, prune=prune, force=force)
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False))
        if summary["conflicts"]:
            raise conflict_error(summary["conflicts"])
        return
    click.echo(_summary_line(summary))
    if summary["deleted"]:
        echo_list(
            f"{len(summary['deleted'])} file(s) of pages or attachments deleted in Confluence "
            "are still here (--prune removes them):",
            summary["deleted"],
        )
    if summary["left"]:
        echo_list(
            f"{len(summary['left'])} .assets folder(s) of renamed or deleted pages still hold "
            "files the export did not write there, or whose names are taken at the new place "
            "(left as they are):",
            summary["left"],
        )
    if summary["conflicts"]:
        raise conflict_error(summary["conflicts"])


SKIPPED = "left out (the manage_attachments tool is disabled by CTK_DISABLED_TOOLS)"


def _summary_line(s: dict[str, Any]) -> str:
    atts = (
        SKIPPED
        if s["attachments_skipped"]
        else f"{s['downloaded']} downloaded of {s['attachments']}"
    )
    return (
        f"Exported {s['pages']} page(s) to {s['folder']}: {s['written']} written, "
        f"{s['unchanged']} unchanged, {s['moved']} moved, {len(s['conflicts'])} left as they "
        f"are (conflict); attachments: {atts}; "
        f"{len(s['deleted'])} deleted in Confluence"
        + (f", {s['pruned']} file(s) pruned" if s["pruned"] else "")
        + "."
    )


def _print_plan(plan: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(plan, ensure_ascii=False))
        return
    atts = (
        f"attachments {SKIPPED}"
        if plan["attachments_skipped"]
        else f"{len(plan['download'])} of {plan['attachments']} attachment(s) to download"
    )
    click.echo(
        f"Plan for {plan['folder']}: {plan['pages']} page(s), {len(plan['fetch'])} to write, "
        f"{len(plan['move'])} to move; {atts}; {len(plan['deleted'])} deleted in Confluence. "
        "Nothing written (--dry-run)."
    )
    for file in plan["fetch"]:
        click.echo(f"write     {file}")
    for move in plan["move"]:
        click.echo(f"move      {move['from']} -> {move['to']}")
    for file in plan["download"]:
        click.echo(f"download  {file}")
    for file in plan["deleted"]:
        click.echo(f"deleted   {file}")
    for file in plan["conflict"]:
        click.echo(f"conflict  {file}  (edited here: left as it is; --force overwrites it)")
