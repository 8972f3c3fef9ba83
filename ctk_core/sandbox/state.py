"""The sandbox's store: plain dict collections keyed by id, saved atomically as JSON.

Records are plain dicts, close to the API shapes (see the ``create_*`` helpers for the fields).
Attachment bytes are blobs: in memory, or files in a side folder ``<data file>.blobs/`` when the
state is persisted, so they survive restarts without bloating the JSON.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

#: The collections saved to and loaded from the data file, in order.
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
    """Everything the sandbox knows. Handlers run with ``lock`` held."""

    def __init__(self, data_path: str | os.PathLike[str] | None = None) -> None:
        self.lock = threading.RLock()
        self.data_path = Path(data_path) if data_path else None
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
        self.cloud_id = str(uuid.uuid4())
        self._next_id = 65537
        self._blobs: dict[str, bytes] = {}

    # -- ids and time -------------------------------------------------------------------------
    def new_id(self, prefix: str = "") -> str:
        """A fresh numeric id string (attachments pass ``prefix="att"``)."""
        with self.lock:
            value = self._next_id
            self._next_id += 1
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
        return self.data_path.with_name(self.data_path.name + ".blobs") if self.data_path else None

    def store_blob(self, data: bytes) -> str:
        """Keep bytes; returns their key (content-addressed, so re-storing is free)."""
        key = hashlib.sha256(data).hexdigest()
        folder = self.blob_dir
        if folder is None:
            self._blobs[key] = data
            return key
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = folder / key
        if not path.exists():
            _atomic_write(path, data)
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

    # -- persistence ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "format": 1,
            "cloudId": self.cloud_id,
            "nextId": self._next_id,
            "currentUser": self.current_user,
            "meta": self.meta,
        }
        for name in COLLECTIONS:
            data[name] = getattr(self, name)
        return data

    def load_dict(self, data: dict[str, Any]) -> None:
        self.cloud_id = data.get("cloudId") or self.cloud_id
        self._next_id = int(data.get("nextId", self._next_id))
        self.current_user = data.get("currentUser")
        self.meta = data.get("meta") or {}
        for name in COLLECTIONS:
            setattr(self, name, data.get(name) or {})

    def clear(self) -> None:
        """Forget every record (the cloud id and blobs folder stay)."""
        for name in COLLECTIONS:
            setattr(self, name, {})
        self.meta = {}
        self.current_user = None
        self._blobs = {}

    def save(self) -> None:
        """Write the data file atomically (temp file in the same folder, then rename)."""
        if self.data_path is None:
            return
        with self.lock:
            folder = self.blob_dir
            if self._blobs and folder is not None:
                folder.mkdir(mode=0o700, parents=True, exist_ok=True)
                for key, blob in self._blobs.items():
                    if not (folder / key).exists():
                        _atomic_write(folder / key, blob)
                self._blobs = {}
            text = json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))
        _atomic_write(self.data_path, text.encode("utf-8"))

    def load(self) -> bool:
        """Load the data file if it exists; returns whether it did."""
        if self.data_path is None or not self.data_path.exists():
            return False
        with self.data_path.open(encoding="utf-8") as fh:
            self.load_dict(json.load(fh))
        return True


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
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
