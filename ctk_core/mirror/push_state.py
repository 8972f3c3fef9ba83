"""The state file of ``ctk push``: ``.ctk-push.json`` in the folder pushed.

It records, per site and space pushed to (a folder may be pushed to several)::

    {"format": 1, "targets": {"<site> <SPACE>": {
        "site": "...", "space": "DEV", "space_id": "65539",
        "pages": {"guide.md": {"id": "123", "version": 4, "hash": "<title and storage>",
                               "storage_hash": "<storage>", "title": "Guide",
                               "parent_id": "99", "labels": ["docs"]}},
        "folders": {"notes": {"id": "77", "title": "Notes"}},
        "attachments": {"123/diagram.png": {"hash": "<sha256 of the file>",
                                            "file": "img/diagram.png"}}}}}

A created page is recorded right after Confluence answers, and the file is written atomically
(:mod:`ctk_core.mirror.fsio`), so an interrupted push leaves a state that names exactly what
was done.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ctk_core.errors import UsageError, shown_path
from ctk_core.mirror import fsio
from ctk_core.mirror.state import read_state_file

__all__ = ["FORMAT", "STATE_NAME", "PushTarget", "load_target", "save_target"]

STATE_NAME = ".ctk-push.json"
FORMAT = 1


@dataclass
class PushTarget:
    """What earlier pushes of this folder did in one space of one site.

    ``pages``: file -> ``{"id", "version", "hash", "storage_hash", "title", "parent_id",
    "labels"}``; ``folders``: directory -> ``{"id", "title"}``; ``attachments``: ``<page
    id>/<name>`` -> ``{"hash", "file"}``."""

    site: str
    space: str
    space_id: str = ""
    pages: dict[str, dict[str, Any]] = field(default_factory=dict)
    folders: dict[str, dict[str, Any]] = field(default_factory=dict)
    attachments: dict[str, dict[str, Any]] = field(default_factory=dict)
    others: dict[str, Any] = field(default_factory=dict)  # the other targets, kept as they are

    @property
    def key(self) -> str:
        return f"{self.site} {self.space}"

    def to_json(self) -> dict[str, Any]:
        targets = dict(self.others)
        targets[self.key] = {
            "site": self.site,
            "space": self.space,
            "space_id": self.space_id,
            "pages": dict(sorted(self.pages.items())),
            "folders": dict(sorted(self.folders.items())),
            "attachments": dict(sorted(self.attachments.items())),
        }
        return {"format": FORMAT, "targets": dict(sorted(targets.items()))}


def load_target(folder: str | Path, site: str, space: str) -> PushTarget:
    """The record of pushes to ``space`` on ``site`` (empty when there was none)."""
    path = Path(folder) / STATE_NAME
    target = PushTarget(site=site, space=space)
    hint = "Remove that file to start afresh (pages are then matched by id and title)."
    data = read_state_file(path, "push", FORMAT, hint)
    if data is None:
        return target
    if not isinstance(data.get("targets"), dict):
        raise UsageError(f"{shown_path(path)} is not a ctk push state file", hint=hint)
    targets = {str(k): v for k, v in data["targets"].items() if isinstance(v, dict)}
    mine = targets.pop(target.key, None) or {}

    def table(name: str) -> dict[str, dict[str, Any]]:
        value = mine.get(name)
        if not isinstance(value, dict):
            return {}
        return {str(k): v for k, v in value.items() if isinstance(v, dict) and v.get("id", 1)}

    target.space_id = str(mine.get("space_id") or "")
    target.pages = table("pages")
    target.folders = table("folders")
    target.attachments = table("attachments")
    target.others = targets
    return target


def save_target(folder: str | Path, target: PushTarget) -> None:
    """Write the state file atomically (complete or not at all)."""
    text = json.dumps(target.to_json(), indent=1, ensure_ascii=False) + "\n"
    fsio.write_text(Path(folder), STATE_NAME, text)
