"""The sandbox's state: dict collections keyed by id, kept in SQLite (``store.py``).

Records are plain dicts, close to the API shapes (see the ``create_*`` helpers for the fields),
and handlers read and change them as dicts. The database is the truth; the dicts are this
process's copy of it, checked against the database at the start of every request:

- ``begin(write)`` starts a request. A read compares the database's generation with the one the
  copy was made at and, when another process has written since, reads what changed (one read
  transaction). A write opens a write transaction (``BEGIN IMMEDIATE``: one writer at a time,
  across processes, the others wait), catches up the same way, then runs the handler.
- ``commit()`` writes the records the handler changed (found by comparing each record with the
  copy taken when it was last read or written) and commits; ``rollback()`` drops the
  transaction and puts the changed records back as they were.
- New ids come from the database (``new_id``), inside the request's transaction, so two
  processes never hand out the same id.

Changes made outside a request (the seed, a test arranging data through ``create_*``) are
written by the next write request, or by ``save()``. A file-backed state shares its file with
every other process that opens it; ``State()`` keeps its database in memory, for one process.
Attachment bytes are blobs: files in ``<database>.blobs/`` beside the database, or in memory.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import sys
import threading
import uuid
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ctk_core.sandbox import store

#: The record collections, each an attribute of ``State`` (id -> record).
COLLECTIONS = (
    "spaces",
    "pages",
    "folders",
    "comments",
    "labels",
    "content_labels",
    "attachments",
    "users",
)

#: The pseudo-collection of the state's single values (``currentUser``, ``meta``).
_SITE = "_site"
_GONE = object()


def iso_now() -> str:
    """The current time as the API writes it: ``2024-05-01T12:00:00.000Z``."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def make_version(
    number: int, author: str | None, created_at: str, message: str = "", minor_edit: bool = False
) -> dict[str, Any]:
    return {
        "number": number,
        "message": message,
        "minorEdit": minor_edit,
        "authorId": author or "",
        "createdAt": created_at,
    }


class State:
    """Everything the sandbox knows. Handlers run with ``lock`` held, inside ``begin``/``commit``.

    ``State(path)`` keeps its records in the SQLite database at ``path`` (a ``.json`` path
    names the ``.db`` beside it), shared with every process that opens it; ``State()`` keeps
    them in a private in-memory database.
    """

    def __init__(self, data_path: str | os.PathLike[str] | None = None) -> None:
        self.lock = threading.RLock()
        self.data_path = store.database_path(data_path) if data_path else None
        self.spaces: dict[str, dict[str, Any]] = {}
        self.pages: dict[str, dict[str, Any]] = {}
        self.folders: dict[str, dict[str, Any]] = {}
        self.comments: dict[str, dict[str, Any]] = {}
        self.labels: dict[str, dict[str, Any]] = {}
        self.content_labels: dict[str, list[str]] = {}
        self.attachments: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        #: Free-form persisted extras for route modules (keys they own).
        self.meta: dict[str, Any] = {}
        self.current_user: str | None = None
        self.cloud_id = ""
        self._blobs: dict[str, bytes] = {}
        # The records as last read from or written to the database, to find what changed.
        self._saved: dict[str, dict[str, Any]] = {name: {} for name in (*COLLECTIONS, _SITE)}
        self._gen = -1  # the database generation the dicts reflect (-1: not read yet)
        self._initialized = False
        self._txn: str | None = None  # None, "read" or "write"
        self._depth = 0
        self._txn_gen = 0
        self._txn_wrote = False
        self._txn_cleared = False
        self._flushed_first = False
        self._conn: sqlite3.Connection | None = self._connect()
        self.load()

    # -- the database -------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = store.connect(self.data_path)
        weakref.finalize(self, conn.close)  # a forgotten state closes its database
        return conn

    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:  # closed by close(); a later use opens it again
            self._conn = self._connect()
        return self._conn

    def close(self) -> None:
        """Close a file-backed state's database (a later use reopens it); an in-memory state
        keeps its database, which is all it has."""
        with self.lock:
            if self.data_path is not None and self._conn is not None and self._txn is None:
                self._conn.close()
                self._conn = None

    @property
    def generation(self) -> int:
        """The database generation this process's copy reflects."""
        return self._gen

    # -- requests: one transaction each -------------------------------------------------------
    def begin(self, write: bool) -> None:
        """Start a request: takes ``lock`` (``commit``/``rollback`` release it) and brings the
        dicts up to date with the database; a write also opens the write transaction."""
        self.lock.acquire()
        if self._depth:
            self._depth += 1
            return
        try:
            if write:
                self._begin_write()
            else:
                self._catch_up_read()
                self._txn = "read"
        except BaseException:
            self.lock.release()
            raise
        self._depth = 1

    def commit(self) -> None:
        """End a request, keeping what it changed."""
        self._end(keep=True)

    def rollback(self) -> None:
        """End a request, forgetting what a write changed (a read changes nothing)."""
        self._end(keep=False)

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[State]:
        """``begin``..``commit`` around a block (``rollback`` when it raises); nested blocks
        join the outer transaction."""
        self.begin(write)
        try:
            yield self
        except BaseException:
            self.rollback()
            raise
        self.commit()

    def _begin_write(self) -> None:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            self._catch_up()
            self._txn_gen = self._gen + 1
            self._txn_wrote = False
            self._txn_cleared = False
            self._flush()  # changes made outside a request are kept, whatever the handler does
            self._flushed_first = self._txn_wrote
            db.execute("SAVEPOINT request")
        except BaseException:
            self._abort()
            raise
        self._txn = "write"

    def _end(self, keep: bool) -> None:
        if self._depth > 1:
            self._depth -= 1
            self.lock.release()
            return
        try:
            if self._txn == "write":
                self._end_write(keep)
        finally:
            self._txn = None
            self._depth = 0
            self.lock.release()

    def _end_write(self, keep: bool) -> None:
        db = self._db
        try:
            if keep:
                db.execute("RELEASE request")
                self._flush()
            else:
                db.execute("ROLLBACK TO request")
                db.execute("RELEASE request")
                self._txn_wrote = self._flushed_first
                if not self._txn_cleared:
                    self._revert(self._changes())
            if self._txn_wrote:
                db.execute("UPDATE site SET gen = ?", (self._txn_gen,))
            db.execute("COMMIT")
        except BaseException:
            self._abort()
            raise
        if self._txn_wrote:
            self._gen = self._txn_gen
        if self._txn_cleared and not keep:
            self._gen = -1  # the dicts were emptied by a clear that did not happen: read again

    def _abort(self) -> None:
        """Roll the database back after a failure and read everything again next time."""
        try:
            self._db.execute("ROLLBACK")
        except sqlite3.Error:
            pass
        self._gen = -1

    # -- catching up with the database --------------------------------------------------------
    def _catch_up_read(self) -> None:
        (gen,) = self._db.execute("SELECT gen FROM site").fetchone()
        if gen == self._gen:
            return
        db = self._db
        db.execute("BEGIN")
        try:
            self._catch_up()
            db.execute("COMMIT")
        except BaseException:
            self._abort()
            raise

    def _catch_up(self) -> None:
        """Make the dicts what the database holds (inside a transaction, or at start)."""
        row = self._db.execute("SELECT gen, reset_gen, cloud_id, initialized FROM site").fetchone()
        gen, reset_gen, self.cloud_id, initialized = row
        self._initialized = bool(initialized)
        if gen == self._gen:
            return
        if self._gen < 0 or reset_gen > self._gen:
            self._read_all()
        else:
            self._read_since(self._gen)
        self._gen = gen

    def _read_all(self) -> None:
        fresh: dict[str, dict[str, Any]] = {name: {} for name in (*COLLECTIONS, _SITE)}
        for coll, key, data in self._db.execute("SELECT coll, id, data FROM records ORDER BY seq"):
            if coll in fresh:
                fresh[coll][key] = json.loads(data)
        for name in COLLECTIONS:
            setattr(self, name, fresh[name])
        self._set_site(fresh[_SITE])
        self._saved = {name: _copy(records) for name, records in fresh.items()}

    def _read_since(self, gen: int) -> None:
        db = self._db
        for coll, key in db.execute("SELECT coll, id FROM tombstones WHERE gen > ?", (gen,)):
            if coll in COLLECTIONS:
                getattr(self, coll).pop(key, None)
            self._saved.get(coll, {}).pop(key, None)
        site: dict[str, Any] = {}
        query = "SELECT coll, id, data FROM records WHERE gen > ? ORDER BY seq"
        for coll, key, data in db.execute(query, (gen,)):
            if coll == _SITE:
                site[key] = json.loads(data)
            elif coll in COLLECTIONS:
                value = json.loads(data)
                getattr(self, coll)[key] = value
                self._saved[coll][key] = _copy(value)
        if site:
            self._set_site({**self._site(), **site})
            self._saved[_SITE].update(_copy(site))

    def _site(self) -> dict[str, Any]:
        return {"currentUser": self.current_user, "meta": self.meta}

    def _set_site(self, values: dict[str, Any]) -> None:
        self.current_user = values.get("currentUser")
        self.meta = values.get("meta") or {}

    # -- writing what changed -----------------------------------------------------------------
    def _changes(self) -> list[tuple[str, str, Any]]:
        """(collection, id, record or _GONE) of every record that differs from its saved copy."""
        out: list[tuple[str, str, Any]] = []
        for name in COLLECTIONS:
            live: dict[str, Any] = getattr(self, name)
            saved = self._saved[name]
            added = 0
            for key, value in live.items():
                old = saved.get(key, _GONE)
                if old is _GONE:
                    added += 1
                    out.append((name, key, value))
                elif old != value:
                    out.append((name, key, value))
            if len(saved) > len(live) - added:
                out.extend((name, key, _GONE) for key in saved.keys() - live.keys())
        saved_site = self._saved[_SITE]
        for key, value in self._site().items():
            if saved_site.get(key, _GONE) != value:
                out.append((_SITE, key, value))
        return out

    def _flush(self) -> None:
        """Write what changed into the open write transaction, and remember it as saved."""
        changes = self._changes()
        if not changes:
            return
        gen = self._txn_gen
        upserts = []
        deletes = []
        for coll, key, value in changes:
            if value is _GONE:
                deletes.append((coll, str(key)))
            else:
                text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
                upserts.append((coll, str(key), gen, text))
        db = self._db
        if deletes:
            db.executemany(store.DELETE, deletes)
            db.executemany(store.TOMBSTONE, [(c, k, gen) for c, k in deletes])
        if upserts:
            db.executemany(store.UPSERT, upserts)
        for coll, key, value in changes:
            if value is _GONE:
                self._saved[coll].pop(key, None)
            else:
                self._saved[coll][key] = _copy(value)
        self._txn_wrote = True

    def _revert(self, changes: list[tuple[str, str, Any]]) -> None:
        """Put changed records back as saved (in place, so references stay valid)."""
        for coll, key, value in changes:
            old = self._saved[coll].get(key, _GONE)
            if coll == _SITE:
                self._set_site({**self._site(), key: _copy(old) if old is not _GONE else None})
                continue
            live: dict[str, Any] = getattr(self, coll)
            if old is _GONE:
                live.pop(key, None)
            elif value is _GONE or type(value) is not type(old):
                live[key] = _copy(old)
            elif isinstance(value, dict):
                value.clear()
                value.update(_copy(old))
            elif isinstance(value, list):
                value[:] = _copy(old)
            else:
                live[key] = old

    # -- ids and time -------------------------------------------------------------------------
    def new_id(self, prefix: str = "") -> str:
        """A fresh numeric id string from the database (attachments pass ``prefix="att"``)."""
        with self.lock:
            db = self._db
            own = self._txn != "write"
            if own:
                db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("UPDATE site SET next_id = next_id + 1")
                (value,) = db.execute("SELECT next_id - 1 FROM site").fetchone()
                if own:
                    db.execute("COMMIT")
            except BaseException:
                if own:
                    db.execute("ROLLBACK")
                raise
        return f"{prefix}{value}"

    def now(self) -> str:
        return iso_now()

    # -- lookups ------------------------------------------------------------------------------
    def space_by_key(self, key: str) -> dict[str, Any] | None:
        for space in self.spaces.values():
            if space["key"] == key:
                return space
        return None

    def content(self, content_id: str) -> dict[str, Any] | None:
        """A page or folder (or comment / attachment) by id, whatever its type."""
        for coll in (self.pages, self.folders, self.comments, self.attachments):
            if content_id in coll:
                return coll[content_id]
        return None

    def children_of(self, parent_id: str) -> list[dict[str, Any]]:
        """Pages and folders directly under a page or folder, in position order."""
        kids = [
            c
            for coll in (self.pages, self.folders)
            for c in coll.values()
            if c.get("parentId") == parent_id
        ]
        kids.sort(key=lambda c: (c.get("position") or 0, int(c["id"])))
        return kids

    def _next_position(self, parent_id: str | None, space_id: str) -> int:
        siblings = [
            c
            for coll in (self.pages, self.folders)
            for c in coll.values()
            if c.get("parentId") == parent_id and c.get("spaceId") == space_id
        ]
        return max((c.get("position") or 0 for c in siblings), default=0) + 1

    def current_email(self) -> str:
        """The email of the current user: what a client of this sandbox logs in with."""
        user = self.users.get(self.current_user or "") or {}
        return str(user.get("email") or "sandbox@example.com")

    def parent_type(self, parent_id: str | None) -> str | None:
        if parent_id is None:
            return None
        return "folder" if parent_id in self.folders else "page"

    # -- creation helpers (used by the seed and the routes) -------------------------------------
    def create_user(
        self,
        display_name: str,
        email: str | None = None,
        account_id: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        account_id = account_id or uuid.uuid4().hex[:24]
        user = {
            "accountId": account_id,
            "accountType": "atlassian",
            "accountStatus": "active",
            "displayName": display_name,
            "publicName": display_name,
            "email": email or f"{display_name.split()[0].lower()}@example.com",
            "timeZone": "UTC",
            "profilePicture": {
                "path": "/wiki/aa-avatar/default.png",
                "width": 48,
                "height": 48,
                "isDefault": True,
            },
        }
        user.update(extra)
        self.users[account_id] = user
        if self.current_user is None:
            self.current_user = account_id
        return user

    def create_space(
        self,
        key: str,
        name: str,
        description: str = "",
        author: str | None = None,
        created_at: str | None = None,
        space_type: str = "global",
        homepage_body: str = "",
    ) -> dict[str, Any]:
        """A space and its home page (titled after the space, as Confluence does)."""
        created_at = created_at or self.now()
        space: dict[str, Any] = {
            "id": self.new_id(),
            "key": key,
            "name": name,
            "type": space_type,
            "status": "current",
            "authorId": author or self.current_user or "",
            "createdAt": created_at,
            "homepageId": None,
            "description": description,
        }
        self.spaces[space["id"]] = space
        home = self.create_page(
            space["id"],
            name,
            homepage_body,
            parent_id=None,
            author=author,
            created_at=created_at,
            root=True,
        )
        space["homepageId"] = home["id"]
        return space

    def create_page(
        self,
        space_id: str,
        title: str,
        body: str = "",
        parent_id: str | None = None,
        author: str | None = None,
        created_at: str | None = None,
        status: str = "current",
        message: str = "",
        root: bool = False,
    ) -> dict[str, Any]:
        """A page. No ``parent_id`` means a child of the space home page (unless ``root``)."""
        if parent_id is None and not root:
            parent_id = self.spaces[space_id].get("homepageId")
        created_at = created_at or self.now()
        author = author or self.current_user or ""
        page: dict[str, Any] = {
            "id": self.new_id(),
            "type": "page",
            "spaceId": space_id,
            "title": title,
            "status": status,
            "parentId": parent_id,
            "parentType": self.parent_type(parent_id),
            "position": self._next_position(parent_id, space_id),
            "authorId": author,
            "ownerId": author,
            "createdAt": created_at,
            "body": body,
            "version": make_version(1, author, created_at, message),
            "versions": [],
        }
        self.pages[page["id"]] = page
        return page

    def update_page(
        self,
        page: dict[str, Any],
        title: str | None = None,
        body: str | None = None,
        message: str = "",
        minor_edit: bool = False,
        author: str | None = None,
        created_at: str | None = None,
    ) -> dict[str, Any]:
        """Store the current version in ``versions`` and make a new one."""
        old = page["version"]
        page["versions"].append(
            {
                "number": old["number"],
                "title": page["title"],
                "body": page["body"],
                "authorId": old["authorId"],
                "createdAt": old["createdAt"],
                "message": old.get("message", ""),
                "minorEdit": old.get("minorEdit", False),
            }
        )
        if title is not None:
            page["title"] = title
        if body is not None:
            page["body"] = body
        page["version"] = make_version(
            old["number"] + 1,
            author or self.current_user,
            created_at or self.now(),
            message,
            minor_edit,
        )
        return page

    def create_folder(
        self,
        space_id: str,
        title: str,
        parent_id: str | None = None,
        author: str | None = None,
        created_at: str | None = None,
    ) -> dict[str, Any]:
        """A folder. No ``parent_id`` means a child of the space home page."""
        if parent_id is None:
            parent_id = self.spaces[space_id].get("homepageId")
        created_at = created_at or self.now()
        author = author or self.current_user or ""
        folder: dict[str, Any] = {
            "id": self.new_id(),
            "type": "folder",
            "spaceId": space_id,
            "title": title,
            "status": "current",
            "parentId": parent_id,
            "parentType": self.parent_type(parent_id),
            "position": self._next_position(parent_id, space_id),
            "authorId": author,
            "ownerId": author,
            "createdAt": created_at,
            "version": make_version(1, author, created_at),
        }
        self.folders[folder["id"]] = folder
        return folder

    # -- blobs (attachment bytes) ---------------------------------------------------------------
    @property
    def blob_dir(self) -> Path | None:
        return store.blob_folder(self.data_path) if self.data_path else None

    def store_blob(self, data: bytes) -> str:
        """Keep bytes; returns their key (content-addressed, so re-storing is free)."""
        key = hashlib.sha256(data).hexdigest()
        folder = self.blob_dir
        if folder is None:
            self._blobs[key] = data
            return key
        path = folder / key
        if not path.exists():
            store.atomic_write(path, data)
        return key

    def blob_path(self, key: str) -> Path | None:
        """The file holding a blob when persisted (for streaming), else None."""
        folder = self.blob_dir
        if folder is None or key in self._blobs:
            return None
        return folder / key

    def read_blob(self, key: str) -> bytes:
        if key in self._blobs:
            return self._blobs[key]
        path = self.blob_path(key)
        if path is None or not path.exists():
            raise KeyError(key)
        return path.read_bytes()

    def blob_size(self, key: str) -> int:
        if key in self._blobs:
            return len(self._blobs[key])
        path = self.blob_path(key)
        if path is None or not path.exists():
            raise KeyError(key)
        return path.stat().st_size

    # -- the whole site -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The site as one JSON-able object (the old data file's format)."""
        with self.lock:
            (next_id,) = self._db.execute("SELECT next_id FROM site").fetchone()
            data: dict[str, Any] = {
                "format": 1,
                "cloudId": self.cloud_id,
                "nextId": next_id,
                "currentUser": self.current_user,
                "meta": self.meta,
            }
            for name in COLLECTIONS:
                data[name] = getattr(self, name)
        return data

    def load_dict(self, data: dict[str, Any]) -> None:
        """Replace every record with those of ``data`` (``to_dict``'s format); its cloud id and
        next id are kept (an id never goes back)."""
        with self.transaction():
            self.current_user = data.get("currentUser")
            self.meta = data.get("meta") or {}
            for name in COLLECTIONS:
                setattr(self, name, data.get(name) or {})
            if data.get("cloudId"):
                self.cloud_id = str(data["cloudId"])
                self._db.execute("UPDATE site SET cloud_id = ?", (self.cloud_id,))
            next_id = int(data.get("nextId") or store.FIRST_ID)
            self._db.execute("UPDATE site SET next_id = max(next_id, ?)", (next_id,))

    def clear(self) -> None:
        """Forget every record, in this process and in the database (the cloud id, the id
        counter and the blobs stay)."""
        with self.transaction():
            self._db.execute("DELETE FROM records")
            self._db.execute("DELETE FROM tombstones")
            self._db.execute("UPDATE site SET reset_gen = ?", (self._txn_gen,))
            self._txn_wrote = True
            self._txn_cleared = True
            for name in COLLECTIONS:
                setattr(self, name, {})
                self._saved[name] = {}
            self._saved[_SITE] = {}
            self.meta = {}
            self.current_user = None
            self._blobs = {}

    def initialize(self, fill: Callable[[State], None]) -> bool:
        """Fill a new site once, whichever process comes first: from the old JSON state beside
        the database when there is one (imported once, then renamed ``.imported``), else with
        ``fill(state)``. Returns whether this call filled it."""
        legacy = store.legacy_path(self.data_path) if self.data_path else None
        with self.transaction():
            if self._initialized:
                return False
            if legacy is not None and legacy.is_file():
                self._import(legacy)
            else:
                legacy = None
                fill(self)
            self._mark_initialized()
        if legacy is not None:
            self._retire(legacy)
        return True

    def refill(self, fill: Callable[[State], None]) -> None:
        """Forget every record and ``fill(state)`` afresh, in one transaction."""
        with self.transaction():
            self.clear()
            fill(self)
            self._mark_initialized()

    def _mark_initialized(self) -> None:
        self._db.execute("UPDATE site SET initialized = 1")
        self._initialized = True
        self._txn_wrote = True

    def _import(self, legacy: Path) -> None:
        """Read an old JSON state into the open transaction; its blobs join ours."""
        with legacy.open(encoding="utf-8") as fh:
            data = json.load(fh)
        self.load_dict(data)
        old_blobs = legacy.with_name(legacy.name + ".blobs")
        folder = self.blob_dir
        if folder is not None and old_blobs.is_dir():
            store.private_folder(folder)
            for blob in old_blobs.iterdir():
                if blob.is_file() and not (folder / blob.name).exists():
                    store.atomic_write(folder / blob.name, blob.read_bytes())

    @staticmethod
    def _retire(legacy: Path) -> None:
        """Rename an imported JSON state so that it is never imported again."""
        try:
            os.replace(legacy, legacy.with_name(legacy.name + ".imported"))
            shutil.rmtree(legacy.with_name(legacy.name + ".blobs"), ignore_errors=True)
        except OSError as exc:  # it stays; the database is initialized, so it is not read again
            print(f"ctk sandbox: could not rename {legacy}: {exc}", file=sys.stderr)

    def save(self) -> None:
        """Write the changes made outside a request (and mark the site as filled)."""
        with self.transaction():
            self._mark_initialized()

    def load(self) -> bool:
        """Bring the dicts up to date with the database; returns whether it holds a site."""
        with self.lock:
            if self._txn is not None:
                return self._initialized
            self._db.execute("BEGIN")
            try:
                self._catch_up()
                self._db.execute("COMMIT")
            except BaseException:
                self._abort()
                raise
        return self._initialized


def _copy(value: Any) -> Any:
    """A copy of JSON-shaped data, sharing the immutable leaves (so comparing is quick)."""
    kind = type(value)
    if kind is dict:
        return {k: _copy(v) for k, v in value.items()}
    if kind is list:
        return [_copy(v) for v in value]
    return value
