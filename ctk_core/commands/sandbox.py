"""``ctk sandbox serve|reset`` and the embedded sandbox behind the global ``--sandbox`` flag.

The persistent sandbox lives in the SQLite database ``$XDG_DATA_HOME/ctk/sandbox.db`` (default
``~/.local/share/ctk/sandbox.db``, attachment bytes in ``sandbox.db.blobs/``), in a folder
created 0700, files 0600, so that ``ctk --sandbox ...`` remembers what you did between runs.
Every process that runs it shares that one site. An old ``sandbox.json`` beside it is imported
once, then renamed ``sandbox.json.imported``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

import click

from ctk_core import settings

SEEDS = ("demo", "empty")


def data_path(environ: Mapping[str, str] | None = None) -> Path:
    """Where the persistent sandbox keeps its data."""
    env = settings.environ(environ)
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "ctk" / "sandbox.db"


def _private_folder(path: Path) -> None:
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder, 0o700)


def start_embedded(environ: MutableMapping[str, str] | None = None, seed: str = "demo") -> Any:
    """Start the persistent sandbox on a free loopback port and point this process at it.

    Sets ``CTK_BASE_URL`` and sandbox credentials in ``environ`` (default: the settings of this
    process), which is what the client reads; the policy is untouched, so writes still need
    CTK_ENABLE_WRITES.
    """
    from ctk_core.sandbox import SandboxServer

    env = settings.overrides() if environ is None else environ
    path = data_path(settings.environ(environ))
    _private_folder(path)
    token = secrets.token_urlsafe(24)
    server = SandboxServer(host="127.0.0.1", port=0, seed=seed, data=str(path), token=token)
    server.start()
    env["CTK_BASE_URL"] = server.url
    env["CONFLUENCE_EMAIL"] = server.state.current_email()
    env["CONFLUENCE_API_TOKEN"] = token
    env["CONFLUENCE_TOKEN_TYPE"] = "classic"
    # Marks the client's settings as the embedded sandbox: the rate limiter is off there unless
    # CTK_RATE_LIMIT is set explicitly (ctk_core.ratelimit.limiter_from_environment).
    env["CTK_SANDBOX"] = "1"
    return server


@click.group(
    name="sandbox", context_settings={"help_option_names": ["-h", "--help"]}, no_args_is_help=True
)
def command() -> None:
    """Run or reset the offline Confluence sandbox.

    Any command runs against it with the global flag: ctk --sandbox spaces list
    """


@command.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (keep it on loopback).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8089,
    show_default=True,
    help="Port to listen on (0 picks a free one).",
)
@click.option(
    "--data",
    type=click.Path(dir_okay=False),
    default=None,
    help="SQLite file the sandbox keeps its data in, shared with every sandbox using it (a .json "
    "name means the .db beside it; an old JSON state there is imported once) [default: the "
    "persistent sandbox of ctk --sandbox].",
)
@click.option("--memory", is_flag=True, help="Keep data in memory only (forgotten on exit).")
@click.option(
    "--seed",
    type=click.Choice(SEEDS),
    default="demo",
    show_default=True,
    help="Content for a new sandbox.",
)
@click.option("--email", default=None, help="Only accept this email (default: any).")
@click.option("--token", default=None, help="Only accept this API token (default: any).")
def serve(
    host: str,
    port: int,
    data: str | None,
    memory: bool,
    seed: str,
    email: str | None,
    token: str | None,
) -> None:
    """Run the sandbox in the foreground and print its URL (Ctrl-C stops it)."""
    from ctk_core.sandbox import SandboxServer
    from ctk_core.sandbox.store import database_path

    path: Path | None = None
    if not memory:
        path = database_path(data) if data else data_path()
        _private_folder(path)
    server = SandboxServer(
        host=host, port=port, seed=seed, data=str(path) if path else None, email=email, token=token
    )
    click.echo(server.url, nl=True)
    click.echo(
        f"Sandbox serving on {server.url} "
        f"({'data in ' + str(path) if path else 'in memory'}). Use it with:",
        err=True,
    )
    click.echo(
        f"  export CTK_BASE_URL={server.url} "
        f"CONFLUENCE_EMAIL={email or server.state.current_email()} "
        f"CONFLUENCE_API_TOKEN={'<your --token>' if token else 'sandbox'}",
        err=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("Sandbox stopped.", err=True)
    finally:
        server.stop()


@command.command()
@click.option(
    "--data",
    type=click.Path(dir_okay=False),
    default=None,
    help="Data file to remove [default: the persistent sandbox].",
)
def reset(data: str | None) -> None:
    """Forget everything the persistent sandbox remembers (it starts afresh next time).

    Removes the database, its attachment files and an old JSON state not yet imported. Stop a
    running ctk --sandbox mcp or ctk sandbox serve first: it keeps the old database open.
    """
    from ctk_core.sandbox.store import blob_folder, database_path, legacy_path

    path = database_path(data) if data else data_path()
    legacy = legacy_path(path)
    candidates = [
        path,
        path.with_name(path.name + "-wal"),
        path.with_name(path.name + "-shm"),
        blob_folder(path),
        legacy,
        legacy.with_name(legacy.name + ".blobs"),
    ]
    removed = []
    for candidate in candidates:
        if candidate.is_file() or candidate.is_symlink():
            candidate.unlink()
            removed.append(candidate)
        elif candidate.is_dir():
            import shutil

            shutil.rmtree(candidate)
            removed.append(candidate)
    if removed:
        click.echo(
            f"Removed {', '.join(str(p) for p in removed)}: the sandbox starts afresh next time."
        )
    else:
        click.echo(f"Nothing to reset: {path} does not exist.")
