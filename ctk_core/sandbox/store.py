"""The sandbox's database: one SQLite file (standard library ``sqlite3``, WAL mode) that any
number of sandbox processes share, or a private in-memory database.

Tables:

- ``site``, one row: ``gen`` (bumped by every write transaction that changed a record),
  ``reset_gen`` (the ``gen`` of the last time every record was forgotten), ``next_id`` (where
  new ids come from), ``cloud_id`` and ``initialized`` (seeded or imported once).
- ``records``: one row per record, ``(coll, id)`` to the record's JSON and the ``gen`` of the
  write that last changed it. An update keeps the row's ``seq``, so ``seq`` order is creation
  order.
- ``tombstones``: ``(coll, id)`` of a deleted record and the ``gen`` that deleted it, so that a
  process can catch up with another's writes without reading everything again.

Files are private: the folder is made 0700 and the database 0600 before SQLite opens it (SQLite
gives its ``-wal`` and ``-shm`` files the database's mode). Nothing here comes from the client's
side of ctk (``ctk_core.files``): the sandbox has its own small helpers, on purpose.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

#: The first id a new site hands out.
FIRST_ID = 65537

#: How long a process waits for another's write transaction before giving up (seconds).
BUSY_TIMEOUT = 30.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS site (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    gen INTEGER NOT NULL,
    reset_gen INTEGER NOT NULL,
    next_id INTEGER NOT NULL,
    cloud_id TEXT NOT NULL,
    initialized INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY,
    coll TEXT NOT NULL,
    id TEXT NOT NULL,
    gen INTEGER NOT NULL,
    data TEXT NOT NULL,
    UNIQUE (coll, id)
);
CREATE INDEX IF NOT EXISTS records_gen ON records (gen);
CREATE TABLE IF NOT EXISTS tombstones (
    coll TEXT NOT NULL,
    id TEXT NOT NULL,
    gen INTEGER NOT NULL,
    PRIMARY KEY (coll, id)
);
CREATE INDEX IF NOT EXISTS tombstones_gen ON tombstones (gen);
"""

UPSERT = (
    "INSERT INTO records (coll, id, gen, data) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (coll, id) DO UPDATE SET gen = excluded.gen, data = excluded.data"
)
DELETE = "DELETE FROM records WHERE coll = ? AND id = ?"
TOMBSTONE = (
    "INSERT INTO tombstones (coll, id, gen) VALUES (?, ?, ?) "
    "ON CONFLICT (coll, id) DO UPDATE SET gen = excluded.gen"
)


def database_path(path: str | os.PathLike[str]) -> Path:
    """The database file for a ``--data`` path: a ``.json`` name (the old format's) becomes the
    ``.db`` beside it, so that the JSON it names is imported (see ``legacy_path``)."""
    path = Path(path)
    return path.with_suffix(".db") if path.suffix == ".json" else path


def legacy_path(database: Path) -> Path:
    """Where a JSON state of the old format would sit beside ``database``: same name, ``.json``."""
    return database.with_suffix(".json")


def blob_folder(database: Path) -> Path:
    """Attachment bytes of a file-backed site: ``<database>.blobs/`` beside it."""
    return database.with_name(database.name + ".blobs")


def private_folder(folder: Path) -> None:
    """Create ``folder`` (and its parents) 0700; tighten it to 0700 when it is ours."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if folder.stat().st_uid == os.getuid() and folder.stat().st_mode & 0o777 != 0o700:
        os.chmod(folder, 0o700)


def private_file(path: Path) -> None:
    """Create ``path`` empty and 0600 unless it exists (never through a symlink); an existing
    file of ours is tightened to 0600."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        os.close(os.open(path, flags | getattr(os, "O_CLOEXEC", 0), 0o600))
    except FileExistsError:
        info = path.stat()
        if info.st_uid == os.getuid() and info.st_mode & 0o777 != 0o600:
            os.chmod(path, 0o600)


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to a private temporary file beside ``path`` and rename it into place."""
    private_folder(path.parent)
    fd, tmp = tempfile.mkstemp(prefix="." + path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def connect(database: Path | None) -> sqlite3.Connection:
    """Open (creating when missing) the database: a private file in WAL mode, or ``:memory:``
    when ``database`` is None. Transactions are explicit (``BEGIN``/``COMMIT``)."""
    if database is None:
        conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
    else:
        private_folder(database.parent)
        private_file(database)
        conn = sqlite3.connect(
            str(database), timeout=BUSY_TIMEOUT, check_same_thread=False, isolation_level=None
        )
        try:
            _retry(lambda: conn.execute("PRAGMA journal_mode=WAL").fetchone())
            conn.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise ValueError(f"{database} is not a sandbox database: {exc}") from None
    try:
        _retry(lambda: _create(conn))
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise ValueError(f"{database} is not a sandbox database: {exc}") from None
    return conn


def _create(conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute(
            "INSERT OR IGNORE INTO site (one, gen, reset_gen, next_id, cloud_id, initialized) "
            "VALUES (1, 0, 0, ?, ?, 0)",
            (FIRST_ID, str(uuid.uuid4())),
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _retry(action: Callable[[], T], attempts: int = 50) -> T:
    """Run ``action()``, retrying while another process holds a lock SQLite does not wait for
    (switching a new file to WAL)."""
    for attempt in range(attempts):
        try:
            return action()
        except sqlite3.OperationalError as exc:
            locked = "locked" in str(exc) or "busy" in str(exc)
            if not locked or attempt == attempts - 1:
                raise
            time.sleep(0.02 * (attempt + 1))
    raise AssertionError("unreachable")
