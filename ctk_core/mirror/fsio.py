"""Writing the export's files: atomically, with the user's own permissions, never outside the
export folder.

Exported pages and attachments are the user's documents, not ctk's secrets: they get the mode
the user's umask gives new files (0644 under the usual 022), like any file the user makes,
while being written through :func:`ctk_core.files.atomic_writer` (a temporary file in the same
folder, renamed into place when complete), so an interruption never leaves half a file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from ctk_core.errors import CtkError, UsageError, shown_path
from ctk_core.files import atomic_writer

__all__ = [
    "inside",
    "move",
    "open_atomic",
    "remove",
    "user_mode",
    "within",
    "write_bytes",
    "write_text",
]

_mode: int | None = None


def user_mode() -> int:
    """The mode a new file gets under the process's umask (read once)."""
    global _mode
    if _mode is None:
        mask = os.umask(0o022)
        os.umask(mask)
        _mode = 0o666 & ~mask
    return _mode


def inside(root: Path, rel: str) -> Path:
    """``root / rel``, refusing a path that leaves ``root`` (``..``, absolute, a symlinked
    folder pointing out)."""
    if not rel or rel.startswith("/") or "\\" in rel or ".." in rel.split("/"):
        raise UsageError(f"refusing the path {shown_path(rel)}: it leaves the export folder")
    path = root / rel
    if not within(root, path.parent):
        raise UsageError(f"refusing the path {shown_path(rel)}: it leaves the export folder")
    return path


def within(root: str | Path, path: str | Path) -> bool:
    """Whether ``path``, symbolic links resolved, is ``root`` or lies inside it."""
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    return real == real_root or real.startswith(real_root + os.sep)


@contextlib.contextmanager
def open_atomic(root: Path, rel: str) -> Iterator[IO[bytes]]:
    """A binary file to write ``root/rel`` through; it appears complete or not at all."""
    path = inside(root, rel)  # before any folder is made: none outside the export folder
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_writer(path, overwrite=True, mode=user_mode()) as fh:
        yield fh


def write_bytes(root: Path, rel: str, data: bytes) -> None:
    with open_atomic(root, rel) as fh:
        fh.write(data)


def write_text(root: Path, rel: str, text: str) -> None:
    write_bytes(root, rel, text.encode("utf-8"))


def move(root: Path, old: str, new: str) -> bool:
    """Move ``old`` to ``new`` (both relative); False when ``old`` is gone.

    A folder moved onto a folder that exists is merged into it entry by entry: what has a
    namesake there stays where it was (the old folder is then left, holding only those)."""
    src = inside(root, old)
    if not os.path.lexists(src):
        return False
    dst = inside(root, new)  # before any folder is made: none outside the export folder
    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
        if _is_dir(src) and _is_dir(dst):
            _merge(src, dst)
            prune_empty(root, old)
        else:
            os.replace(src, dst)
    except OSError as exc:
        raise CtkError(
            f"cannot move {shown_path(old)} to {shown_path(new)}: {exc.strerror or exc}"
        ) from None
    prune_empty(root, posixpath_parent(old))
    return True


def _is_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def _merge(src: Path, dst: Path) -> None:
    for name in sorted(os.listdir(src)):
        here, there = src / name, dst / name
        if not os.path.lexists(there):
            os.replace(here, there)
        elif _is_dir(here) and _is_dir(there):
            _merge(here, there)
            with contextlib.suppress(OSError):
                here.rmdir()


def remove(root: Path, rel: str) -> bool:
    """Remove a file (or an assets folder, recursively); prune the folders it leaves empty."""
    path = inside(root, rel)
    if path.is_dir() and not path.is_symlink():
        import shutil

        shutil.rmtree(path)
    elif os.path.lexists(path):
        path.unlink()
    else:
        return False
    prune_empty(root, posixpath_parent(rel))
    return True


def prune_empty(root: Path, rel_dir: str) -> None:
    """Remove ``rel_dir`` and its parents while they are empty (never ``root``)."""
    while rel_dir:
        with contextlib.suppress(OSError):
            (root / rel_dir).rmdir()
        if (root / rel_dir).exists():
            return
        rel_dir = posixpath_parent(rel_dir)


def posixpath_parent(rel: str) -> str:
    return rel.rpartition("/")[0]


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file's bytes (hex), read in pieces."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()
