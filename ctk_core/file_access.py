"""What a handler may read and write on the local machine: a capability the front end grants.

A handler never asks who is calling. It asks ``ctx.files``:

- ``open_for_upload(path)`` opens a file to send to Confluence;
- ``download_target(name, output, overwrite)`` says where a downloaded file goes;
- ``writer(dest, overwrite)`` writes it atomically (nothing is left behind on failure).

The CLI grants :class:`PersonFiles`: a person may read any file they can read and save where they
say. The MCP server grants :class:`AgentFiles`: reads are confined to the upload roots (never the
config folder) and downloads go to the private download folder (see docs/security.md).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO, Protocol

from ctk_core import files
from ctk_core.errors import UsageError, shown_path


class FileAccess(Protocol):
    """The file capability every handler receives as ``ctx.files``."""

    def open_for_upload(self, path: str) -> tuple[IO[bytes], Path]:
        """Open ``path`` for reading in binary mode; return the file and its real path."""
        ...

    def download_target(
        self, name: str, output: str | None = None, overwrite: bool = False
    ) -> Path:
        """Where to save a download called ``name`` (``output``: a folder or file asked for)."""
        ...

    def writer(self, dest: Path, overwrite: bool = False) -> AbstractContextManager[IO[bytes]]:
        """A binary file that becomes ``dest`` only when the ``with`` block succeeds."""
        ...


class _AtomicWrites:
    def writer(self, dest: Path, overwrite: bool = False) -> AbstractContextManager[IO[bytes]]:
        return files.atomic_writer(dest, overwrite=overwrite)


class PersonFiles(_AtomicWrites):
    """A person at a shell: their own files, saved where they ask (default: the working folder)."""

    def open_for_upload(self, path: str) -> tuple[IO[bytes], Path]:
        real = _typed_path(path)
        if not _is(real.is_file, path):
            raise UsageError(f"No such file: {shown_path(path)}")
        try:
            return real.open("rb"), real
        except OSError as exc:
            raise UsageError(f"Cannot read {shown_path(path)}: {exc.strerror or exc}") from None

    def download_target(
        self, name: str, output: str | None = None, overwrite: bool = False
    ) -> Path:
        target = _typed_path(output) if output else Path.cwd()
        if _is(target.is_dir, output):
            return files.unique_destination(target, name, overwrite)
        if not _is(target.parent.is_dir, output):
            raise UsageError(
                f"Folder {shown_path(target.parent)} does not exist.",
                hint="Create it first, or give an existing folder.",
            )
        if target.exists() and not overwrite:
            raise UsageError(
                f"{shown_path(target)} already exists.", hint="Pass --overwrite to replace it."
            )
        return target


def _typed_path(text: str) -> Path:
    """A path a person typed (``~`` expanded); UsageError when no file can have that name."""
    if "\x00" in text:
        raise UsageError(f"No file name holds a NUL character: {shown_path(text)!r}.")
    return Path(os.path.expanduser(text))


def _is(check: Callable[[], bool], text: str | None) -> bool:
    """``check()`` (``is_file``, ``is_dir``), its OSError (a name too long, a folder that may
    not be read) a UsageError naming the path."""
    try:
        return check()
    except OSError as exc:
        raise UsageError(f"Cannot use {shown_path(text or '.')}: {exc.strerror or exc}.") from None


class AgentFiles(_AtomicWrites):
    """An AI assistant: reads only inside the upload roots, writes only to the download folder."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = environ

    def open_for_upload(self, path: str) -> tuple[IO[bytes], Path]:
        return files.open_upload(path, environ=self.environ)

    def download_target(
        self, name: str, output: str | None = None, overwrite: bool = False
    ) -> Path:
        if output:
            raise UsageError(
                "A destination cannot be chosen here: files are saved in the download folder "
                "(CTK_DOWNLOAD_DIR)."
            )
        return files.unique_destination(files.download_dir(self.environ), name, overwrite)


__all__ = ["AgentFiles", "FileAccess", "PersonFiles"]
