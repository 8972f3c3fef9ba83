"""The files ctk writes, and the files an agent may make it read.

- Private folders: the log folder (``CTK_LOG_DIR``, default ``/tmp/ctk-logs``) and the MCP download
  folder (``CTK_DOWNLOAD_DIR``, default ``/tmp/ctk-downloads``) are created 0700. A folder that
  exists but is a symlink, belongs to someone else, or is writable by group or others is not used:
  ctk warns once and falls back to a private temporary folder.
- :func:`config_dir` names the ctk config folder (where ``credentials.py`` keeps the credentials).
- Files are created 0600 with unpredictable names, ``O_EXCL`` and ``O_NOFOLLOW``.
- Downloads go through :func:`atomic_writer`: a temp file in the destination folder, fsync, rename
  on success, removed on failure, so an interrupted download leaves nothing behind.
- :func:`safe_filename` turns an attachment title into a safe base name.
- :func:`resolve_upload_path` confines MCP uploads to the upload roots (``CTK_UPLOAD_ROOTS``) and
  never lets the ctk config folder (credentials) be read.

Standard library only: this module is cheap to import.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import time
import unicodedata
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO

from ctk_core import settings
from ctk_core.errors import PolicyError, UsageError, shown, shown_path

# S108: documented defaults; each folder is created 0700 and refused if not ours or a symlink.
DEFAULT_LOG_DIR = "/tmp/ctk-logs"  # noqa: S108
DEFAULT_DOWNLOAD_DIR = "/tmp/ctk-downloads"  # noqa: S108
MAX_NAME_BYTES = 255

_OPEN_FLAGS = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
)

# Folders already checked in this process (requested path -> folder in use).
_checked: dict[tuple[str, str], Path] = {}


# --- private folders --------------------------------------------------------------------------


def folder_problem(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` is not a safe private folder for us, or None when it is.

    Unsafe: a symlink, not a directory, owned by another user, writable by group or others.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return "it does not exist"
    if stat.S_ISLNK(st.st_mode):
        return "it is a symbolic link"
    if not stat.S_ISDIR(st.st_mode):
        return "it is not a directory"
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        return f"it belongs to another user (uid {st.st_uid})"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"it is writable by group or others (mode {stat.S_IMODE(st.st_mode):o})"
    return None


def private_folder(path: str | os.PathLike[str], purpose: str = "files") -> Path:
    """Return a folder only we can write: ``path`` (created 0700 when missing) or a fallback.

    The fallback is a fresh ``tempfile.mkdtemp`` folder (0700); ctk warns once on stderr naming
    the folder it refused and why. The answer is cached per process.
    """
    wanted = os.path.abspath(os.fspath(path))
    key = (purpose, wanted)
    cached = _checked.get(key)
    if cached is not None and folder_problem(cached) is None:
        return cached
    parent = os.path.dirname(wanted)
    try:
        if parent and not os.path.isdir(parent):
            os.makedirs(parent, mode=0o700, exist_ok=True)
        os.mkdir(wanted, 0o700)
        os.chmod(wanted, 0o700)  # whatever the umask said
    except FileExistsError:
        pass
    except OSError as exc:
        return _fallback(key, f"it cannot be created ({exc.strerror or exc})", purpose)
    problem = folder_problem(wanted)
    if problem is not None:
        return _fallback(key, problem, purpose)
    if stat.S_IMODE(os.lstat(wanted).st_mode) & 0o077:
        os.chmod(wanted, 0o700)  # our own folder, readable by others: made private, as config is
    _checked[key] = Path(wanted)
    return Path(wanted)


def _fallback(key: tuple[str, str], problem: str, purpose: str) -> Path:
    import logging
    import tempfile  # (here, not at the top: `ctk --help` imports this module)

    folder = Path(tempfile.mkdtemp(prefix=f"ctk-{purpose}-"))
    logging.getLogger("ctk.files").warning(
        "ctk: warning: not using %s for %s: %s; using %s instead", key[1], purpose, problem, folder
    )
    _checked[key] = folder
    return folder


def config_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The ctk config folder (it holds the credentials): ``CTK_CONFIG_DIR``, else
    ``$XDG_CONFIG_HOME/ctk``, else ``~/.config/ctk``. Only computed here: ``credentials.py``
    creates it, private, when it writes the credentials file."""
    env = settings.environ(environ)
    explicit = env.get("CTK_CONFIG_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(xdg) / "ctk"


def log_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The log folder (``CTK_LOG_DIR`` or /tmp/ctk-logs), checked and created 0700."""
    env = settings.environ(environ)
    return private_folder(env.get("CTK_LOG_DIR") or DEFAULT_LOG_DIR, "logs")


def download_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The MCP download folder (``CTK_DOWNLOAD_DIR`` or /tmp/ctk-downloads), checked, 0700."""
    env = settings.environ(environ)
    return private_folder(env.get("CTK_DOWNLOAD_DIR") or DEFAULT_DOWNLOAD_DIR, "downloads")


# --- private files ----------------------------------------------------------------------------


def random_suffix() -> str:
    """Sixteen random hex digits for a file name no one can guess."""
    return os.urandom(8).hex()


def create_private_file(
    folder: str | os.PathLike[str], prefix: str = "", suffix: str = ""
) -> tuple[int, Path]:
    """Create a new 0600 file with an unpredictable name in ``folder``: ``(fd, path)``.

    Opened with ``O_CREAT | O_EXCL | O_NOFOLLOW``, so an existing file or planted symlink is
    never reused.
    """
    for _ in range(100):
        path = Path(folder) / f"{prefix}{random_suffix()}{suffix}"
        try:
            fd = os.open(path, _OPEN_FLAGS, 0o600)
        except FileExistsError:
            continue
        return fd, path
    raise OSError(errno.EEXIST, f"could not create a unique file in {folder}")


def save_full_result(
    text: str, environ: Mapping[str, str] | None = None, prefix: str = "result"
) -> str:
    """Save a full (untruncated) result under the log folder; return its path."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    fd, path = create_private_file(log_dir(environ), f"{prefix}-{stamp}-", ".json")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    return str(path)


# --- file names and destinations --------------------------------------------------------------


def safe_filename(title: str | None, default: str = "attachment") -> str:
    """Reduce a title (e.g. an attachment's) to a safe base name.

    No path separators, no ``..``, no control characters or NUL, no leading dots or spaces, at
    most 255 bytes in UTF-8 (the extension is kept when the name is cut); empty -> ``default``.
    """
    text = unicodedata.normalize("NFC", str(title or ""))
    out = []
    for ch in text:
        if ch in "/\\" or ch == "\x00":
            out.append("_")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            continue
        else:
            out.append(ch)
    name = "".join(out).strip()
    while ".." in name:
        name = name.replace("..", ".")
    name = name.lstrip(". ").rstrip(" ")
    if not name:
        return default
    return _cap_name(name)


def _cap_name(name: str, limit: int = MAX_NAME_BYTES) -> str:
    if len(name.encode("utf-8")) <= limit:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or len(ext.encode("utf-8")) > 32:
        stem, ext = name, ""
    tail = ("." + ext) if ext else ""
    budget = limit - len(tail.encode("utf-8"))
    cut = stem.encode("utf-8")[:budget].decode("utf-8", "ignore").rstrip(" .")
    return (cut or "attachment") + tail


def unique_destination(folder: str | os.PathLike[str], name: str, overwrite: bool = False) -> Path:
    """Where to save ``name`` in ``folder`` without clobbering an existing file.

    ``name`` is passed through :func:`safe_filename`. With ``overwrite`` the plain name is
    returned; otherwise ``stem-1.ext``, ``stem-2.ext``... is chosen when the name is taken.
    """
    base = safe_filename(name)
    dest = Path(folder) / base
    if overwrite or not os.path.lexists(dest):
        return dest
    stem, dot, ext = base.rpartition(".")
    if not dot or not stem:
        stem, ext = base, ""
    tail = ("." + ext) if ext else ""
    for n in range(1, 10000):
        candidate = Path(folder) / _cap_name(f"{stem}-{n}{tail}")
        if not os.path.lexists(candidate):
            return candidate
    raise UsageError(
        f"too many files named like {shown(base)} in {folder}",
        hint="Choose another destination or allow overwriting.",
    )


@contextlib.contextmanager
def atomic_writer(
    dest: str | os.PathLike[str], overwrite: bool = False, mode: int = 0o600
) -> Iterator[IO[bytes]]:
    """Write ``dest`` atomically: yield a binary file, rename it into place on success.

    The temp file lives in the destination folder (``.<name>.<random>.part``, created 0600 with
    ``O_EXCL | O_NOFOLLOW``), is fsynced, then renamed; on any exception it is removed and
    ``dest`` is left untouched. Without ``overwrite`` an existing ``dest`` is never replaced
    (a :class:`UsageError` says so).
    """
    dest = Path(dest)
    folder = dest.parent
    if not overwrite and os.path.lexists(dest):
        raise UsageError(f"{shown_path(dest)} already exists", hint="Pass overwrite to replace it.")
    fd, tmp = create_private_file(folder, f".{dest.name[:40]}.", ".part")
    done = False
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        if mode != 0o600:
            os.chmod(tmp, mode)
        _move_into_place(tmp, dest, overwrite)
        done = True
        _fsync_dir(folder)
    finally:
        if not done:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


def _move_into_place(tmp: Path, dest: Path, overwrite: bool) -> None:
    if overwrite:
        os.replace(tmp, dest)
        return
    try:
        os.link(tmp, dest)  # fails if dest appeared meanwhile: never clobbers
    except FileExistsError:
        raise UsageError(
            f"{shown_path(dest)} already exists", hint="Pass overwrite to replace it."
        ) from None
    except OSError:
        # Filesystems without hard links: check, then rename (a narrow race, same user only).
        if os.path.lexists(dest):
            raise UsageError(
                f"{shown_path(dest)} already exists", hint="Pass overwrite to replace it."
            ) from None
        os.replace(tmp, dest)
        return
    os.unlink(tmp)


def _fsync_dir(folder: Path) -> None:
    try:
        dfd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


# --- upload confinement -----------------------------------------------------------------------


def upload_roots(environ: Mapping[str, str] | None = None) -> list[Path]:
    """The folders MCP uploads may read from: ``CTK_UPLOAD_ROOTS`` or the working directory."""
    env = settings.environ(environ)
    raw = env.get("CTK_UPLOAD_ROOTS") or ""
    roots = [Path(p) for p in raw.split(os.pathsep) if p.strip()]
    return roots or [Path(os.getcwd())]


def _inside(path: str, folder: str) -> bool:
    try:
        return os.path.commonpath([path, folder]) == folder
    except ValueError:
        return False


def resolve_upload_path(
    path: str | os.PathLike[str],
    roots: list[str | os.PathLike[str]] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Path:
    """Resolve a file an agent asked to upload, refusing anything outside the upload roots.

    Symlinks are resolved first (``os.path.realpath``), then the real path must lie inside one
    of the (also resolved) roots and must never lie inside the ctk config folder. It must be an
    existing regular file. Raises :class:`PolicyError` (refused) or :class:`UsageError`.
    """
    raw = os.fspath(path)
    if not raw or "\x00" in raw:
        raise UsageError("file_path is empty or contains a NUL character")
    root_list = [Path(r) for r in roots] if roots is not None else upload_roots(environ)
    real = os.path.realpath(raw)
    secret = os.path.realpath(config_dir(environ))
    if _inside(real, secret):
        raise PolicyError(
            f"Refused to read {shown_path(raw)}: files in the ctk config folder ({secret}) "
            "are never uploaded."
        )
    real_roots = [os.path.realpath(r) for r in root_list]
    if not any(_inside(real, r) for r in real_roots):
        raise PolicyError(
            f"Refused to read {shown_path(raw)}: it resolves to {shown_path(real)}, "
            f"outside the allowed upload roots ({os.pathsep.join(real_roots)}).",
            hint="Move the file into an upload root, or set CTK_UPLOAD_ROOTS "
            "(folders separated by ':') when starting the MCP server.",
        )
    try:
        st = os.stat(real)
    except FileNotFoundError:
        raise UsageError(f"No such file: {shown_path(raw)}") from None
    except OSError as exc:
        raise UsageError(f"Cannot read {shown_path(raw)}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise UsageError(f"Not a regular file: {shown_path(raw)}")
    return Path(real)


def open_upload(
    path: str | os.PathLike[str],
    roots: list[str | os.PathLike[str]] | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[IO[bytes], Path]:
    """:func:`resolve_upload_path`, then open the resolved file without following symlinks.

    Returns ``(binary file, real path)``; the opened file is checked to be a regular file, so a
    path swapped for a symlink or device after the check is refused.
    """
    real = resolve_upload_path(path, roots, environ)
    try:
        fd = os.open(real, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise UsageError(f"Cannot read {shown_path(path)}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UsageError(f"Not a regular file: {shown_path(path)}")
    return os.fdopen(fd, "rb"), real


__all__ = [
    "atomic_writer",
    "config_dir",
    "create_private_file",
    "download_dir",
    "folder_problem",
    "log_dir",
    "open_upload",
    "private_folder",
    "resolve_upload_path",
    "safe_filename",
    "save_full_result",
    "unique_destination",
    "upload_roots",
]
