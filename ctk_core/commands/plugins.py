"""``ctk plugins``: the plugins of the ``ctk`` entry-point group and what they provide."""

from __future__ import annotations

import click


@click.command(name="plugins", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def command(as_json: bool) -> None:
    """List the loaded plugins, their resources and tools.

    Failed plugins are listed with the reason; plugins left out by CTK_LOAD_PLUGINS are listed
    as skipped.
    """
    from ctk_core import output
    from ctk_core.registry import load_catalog

    catalog = load_catalog()
    rows = [info.as_dict() for info in catalog.plugins]
    # The root group's settings (global --json) are shared through the root context's obj.
    root_settings = click.get_current_context().find_root().obj
    if as_json or getattr(root_settings, "json", False):
        output.emit({"results": rows, "next_cursor": None}, as_json=True)
        return
    if not rows:
        click.echo("No plugins found (entry-point group 'ctk').", err=True)
        return
    table = [
        {
            "name": r["name"],
            "distribution": r["distribution"],
            "version": r["version"],
            "resources": ", ".join(r["resources"]),
            "tools": ", ".join(r["tools"]),
            "status": r["status"],
        }
        for r in rows
    ]
    click.echo(output.table(table))
    for info in catalog.plugins:
        if info.error and info.status == "failed":
            click.echo(f"{info.name}: {info.error}")
