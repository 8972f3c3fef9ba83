"""``ctk push DIR --space KEY [--parent ID]``: publish a folder of Markdown as a page tree.

A thin front: the work is ``ctk_core.mirror.push`` (the plan) and ``ctk_core.mirror.push_apply``
(the writes), imported inside the command so that ``ctk --help`` loads neither.
"""

from __future__ import annotations

import json
from typing import Any

import click


@click.command("push")
@click.argument("folder", metavar="DIR", type=click.Path(file_okay=False))
@click.option("--space", "space", metavar="KEY", required=True, help="Space to publish into.")
@click.option(
    "--parent",
    "parent",
    metavar="ID",
    help="Page or folder the top of DIR goes under (default: the space's home page).",
)
@click.option("--prune", is_flag=True, help="Delete pages a push made whose file is gone.")
@click.option("--force", is_flag=True, help="Overwrite pages changed both here and in Confluence.")
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing, send only reads.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary (or plan) as JSON.")
def command(
    folder: str,
    space: str,
    parent: str | None,
    prune: bool,
    force: bool,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Publish DIR into space KEY as a page tree, changing only what changed.

    A directory's index.md (or README.md) is the directory's page, the other .md files its
    children; a directory without one becomes a folder. Front matter may set title, labels and
    id. Files the Markdown links to or shows are uploaded as attachments. A page changed both
    here and in Confluence since the last push is refused (exit 6) unless --force. A state
    file, .ctk-push.json, remembers what was pushed. Write command: needs
    CTK_ENABLE_WRITES=true (--dry-run needs only reads). See docs/export-and-push.md.
    """
    from ctk_core.cli_run import (
        catalog,
        current_policy,
        echo_list,
        pace,
        root_json,
        terminal_progress,
    )
    from ctk_core.context import Context
    from ctk_core.errors import UsageError
    from ctk_core.file_access import PersonFiles
    from ctk_core.helpers import require_id
    from ctk_core.words import CLI_WORDS

    as_json = as_json or root_json()
    if not folder.strip():
        raise UsageError("DIR must name a folder (an empty path is not one)")
    policy = current_policy()
    pages = catalog().resource("pages")
    # Before any request: a push is a page write (a dry run only reads, but not through a
    # disabled tool).
    if dry_run:
        policy.check(pages, None, CLI_WORDS)
    else:
        policy.check(pages, pages.operation("create"), CLI_WORDS)
    if not space.strip():
        raise UsageError("--space must name a space key")
    if parent is not None:
        parent = require_id("--parent", parent)

    from ctk_core.mirror.push import plan_push
    from ctk_core.mirror.push_apply import conflict_error, needed_operations, run_push

    context = Context(PersonFiles(), progress=terminal_progress())
    pace(context, context.progress, "push")
    plan = plan_push(context, folder, space.strip(), parent_id=parent, force=force)
    if dry_run:
        # A plan that would upload files (or label, or make folders) is refused when that
        # tool is disabled, as the push itself is before its first write.
        for resource in sorted({r for r, _op in needed_operations(plan, prune)}):
            policy.check(catalog().resource(resource), None, CLI_WORDS)
        shown_plan = plan.to_json()
        _print_plan(shown_plan, as_json)
        _warn(shown_plan)
        return
    summary = run_push(context, plan, policy, prune=prune, words=CLI_WORDS)
    _warn(summary)
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False))
    else:
        click.echo(_summary_line(summary))
        if summary["not_deleted"]:
            echo_list(
                f"{len(summary['not_deleted'])} page(s) a push made have no file any more "
                "(--prune deletes them):",
                summary["not_deleted"],
            )
        if summary["kept"]:
            click.echo(
                f"{len(summary['kept'])} page(s) changed in Confluence only were left as they "
                "are (export them to bring the changes here).",
                err=True,
            )
    if summary["conflicts"]:
        raise conflict_error(summary["conflicts"])


def _warn(report: dict[str, Any]) -> None:
    """On stderr: links that lead nowhere, and exported files deleted here that push leaves."""
    from ctk_core.cli_run import echo_list

    if report["broken_links"]:
        echo_list(
            f"warning: {len(report['broken_links'])} relative link(s) lead to no page or file "
            "of the folder and are sent as written (broken in Confluence):",
            [f"{b['file']}: {b['link']}" for b in report["broken_links"]],
        )
    if report["exported_gone"]:
        echo_list(
            f"{len(report['exported_gone'])} exported page(s) have no file any more and were "
            "not deleted (never pushed from here: delete them in Confluence with ctk pages "
            "delete, or the next export brings the file back):",
            report["exported_gone"],
        )


def _summary_line(s: dict[str, Any]) -> str:
    return (
        f"Pushed {s['folder']} to space {s['space']}: {s['pages']} page(s), {s['created']} "
        f"created, {s['updated']} updated, {s['moved']} moved, {s['unchanged']} unchanged, "
        f"{len(s['kept'])} changed in Confluence only, {len(s['conflicts'])} conflict(s); "
        f"{s['folders_created']} folder(s) created, {s['uploaded']} attachment(s) uploaded"
        + (f", {s['deleted']} page(s) deleted" if s["deleted"] else "")
        + "."
    )


def _print_plan(plan: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(plan, ensure_ascii=False))
        return
    click.echo(
        f"Plan for {plan['folder']} -> space {plan['space']}: {plan['pages']} page(s), "
        f"{len(plan['create'])} to create, {len(plan['update'])} to update, {len(plan['move'])} "
        f"to move, {len(plan['unchanged'])} unchanged, {len(plan['kept'])} changed in "
        f"Confluence only, {len(plan['conflict'])} conflict(s), {len(plan['delete'])} to delete "
        "with --prune. Nothing changed (--dry-run)."
    )
    rows = [("create", f) for f in plan["create"]]
    rows += [("update", f) for f in plan["update"]]
    rows += [("move", f) for f in plan["move"]]
    rows += [("conflict", c["file"]) for c in plan["conflict"]]
    rows += [
        ("conflict", f"{c['file']} (deleted here, changed in Confluence: kept by --prune)")
        for c in plan["delete_conflict"]
    ]
    rows += [("kept", f) for f in plan["kept"]]
    rows += [("folder", f) for f in plan["folders"]]
    rows += [("upload", f) for f in plan["attachments"]]
    rows += [("labels", f) for f in plan["labels"]]
    rows += [("delete", f) for f in plan["delete"]]
    rows += [("gone", f"{f} (not deleted: never pushed from here)") for f in plan["exported_gone"]]
    rows += [("link", f"{b['file']}: {b['link']} (leads nowhere)") for b in plan["broken_links"]]
    for what, file in rows:
        click.echo(f"{what:<9} {file}")
