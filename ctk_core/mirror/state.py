"""The state file of an export, ``.ctk-export.json`` in the export folder.

It records what the folder holds, so that a rerun fetches only what changed and knows which
files to move or prune:

```json
{"format": 1, "site": "https://example.atlassian.net", "space": "DEV", "space_id": "65539",
 "root": null,
 "pages": {"123": {"version": 4, "file": "home/setup.md", "title": "Setup", "slug": "setup",
                   "parent_id": "99", "hash": "<sha256 of the file written>"}},
 "folders": {"77": {"dir": "home/guides", "title": "Guides", "slug": "guides",
                    "parent_id": "99"}},
 "attachments": {"att5": {"page_id": "123", "version": 2, "file": "home/setup.assets/d.png",
                          "title": "d.png", "size": 5120}}}
```

``root`` is the page id of a subtree export (``ctk export PAGE_ID``), null for a whole space.
An entry is added only once its file is completely written, and the file is saved atomically
(:func:`ctk_core.files.atomic_writer`) after each batch, so after an interruption the state
names exactly the files that are there and complete; the rerun does the rest.

``ctk push`` into a folder holding an export records here too what the pages it created,
updated, moved or left unchanged now are in Confluence, in the same entries: ``file`` (where
the file is, under the name the user gave it), ``version`` (the version the push left),
``title``, ``parent_id``, ``slug`` (the file's name without ``.md``; for an ``index.md`` its
directory's name) and ``hash`` (the SHA-256 of the file as it is now); and its uploads in
``attachments``. An export rerun then fetches no page whose version is the one recorded, calls
no file conflicting whose hash is the one recorded, and keeps a file (page or folder) where
and as it is named while the page's title is the one recorded (:func:`kept_names`), so that a
file renamed or made here under a name that is not its title's slug stays as it is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ctk_core.errors import UsageError, shown_path
from ctk_core.mirror import fsio

__all__ = ["FORMAT", "STATE_NAME", "ExportState", "load", "save", "site_key", "usable_name"]

STATE_NAME = ".ctk-export.json"
FORMAT = 1


@dataclass
class ExportState:
    """What an export folder holds. ``pages``, ``folders`` and ``attachments`` map ids to the
    entries shown in the module docstring."""

    site: str = ""
    space: str = ""
    space_id: str = ""
    root: str | None = None
    pages: dict[str, dict[str, Any]] = field(default_factory=dict)
    folders: dict[str, dict[str, Any]] = field(default_factory=dict)
    attachments: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "site": self.site,
            "space": self.space,
            "space_id": self.space_id,
            "root": self.root,
            "pages": dict(sorted(self.pages.items())),
            "folders": dict(sorted(self.folders.items())),
            "attachments": dict(sorted(self.attachments.items())),
        }

    def slugs(self) -> dict[str, str]:
        """Page and folder ids -> their slugs of the last run (for :func:`layout.place`)."""
        out = {i: str(e.get("slug") or "") for i, e in self.folders.items()}
        out.update((i, str(e.get("slug") or "")) for i, e in self.pages.items())
        return {i: s for i, s in out.items() if s}

    def kept_names(self, titles: Mapping[str, str]) -> dict[str, str]:
        """Page and folder ids -> the name their file or directory has (a page's file without
        ``.md``; for an ``index.md`` or ``README.md``, its directory's), for those whose title
        (``titles``: id -> the title now) is the one recorded: a name given here (by a file
        renamed or made here and pushed) stays while the page keeps its title. Names that no
        export could use (hidden, ``*.assets``, a path, the layout's own ``index``) are left
        out."""
        out: dict[str, str] = {}
        entries = [(i, str(e.get("dir") or ""), e) for i, e in self.folders.items()]
        for i, e in self.pages.items():
            file = str(e.get("file") or "")
            if not file.endswith(".md"):
                continue
            stem, _, name = file[:-3].rpartition("/")
            if name.lower() in ("index", "readme"):
                name = stem.rpartition("/")[2]
            entries.append((i, name, e))
        for i, path, e in entries:
            name = path.rpartition("/")[2]
            if titles.get(i) is not None and e.get("title") == titles[i] and usable_name(name):
                out[i] = name
        return out

    def files(self) -> dict[str, str]:
        """Relative file -> page id, for every page recorded."""
        return {str(e["file"]): i for i, e in self.pages.items() if e.get("file")}


def usable_name(name: str) -> bool:
    """Whether a name given here may be kept as the name of a page, folder or attachment file
    in the layout."""
    return bool(
        name
        and not name.startswith(".")
        and not name.lower().endswith(".assets")
        and name.lower() not in ("index", "readme")
        and "\\" not in name
        and all(ch.isprintable() for ch in name)
    )


def site_key(client: Any) -> str:
    """The site the state files of export and push name: the client's web URL, or for the
    embedded sandbox, whose port changes every run, one name for all its runs
    (:func:`ctk_core.ratelimit.stable_site`)."""
    from ctk_core import settings
    from ctk_core.ratelimit import stable_site

    return stable_site(str(getattr(client, "web_url", "") or ""), settings.environ())


def read_state_file(path: Path, kind: str, fmt: int, hint: str) -> dict[str, Any] | None:
    """The JSON object of a ``kind`` state file (export, push) of format ``fmt``; None when there
    is no such file; a :class:`UsageError` (with ``hint``) when it is not one."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UsageError(f"cannot read {shown_path(path)}: {exc.strerror}") from None
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
    if not isinstance(data, dict) or data.get("format") != fmt:
        raise UsageError(
            f"{shown_path(path)} is not a ctk {kind} state file (format {fmt})", hint=hint
        )
    return data


def load(folder: str | Path) -> ExportState | None:
    """The state of an export folder; None when it has none. A state file that is not one
    (not JSON, another format) is a :class:`UsageError`."""
    data = read_state_file(
        Path(folder) / STATE_NAME,
        "export",
        FORMAT,
        "Export into another folder, or remove that file to start afresh.",
    )
    if data is None:
        return None

    def table(name: str) -> dict[str, dict[str, Any]]:
        value = data.get(name)
        if not isinstance(value, dict):
            return {}
        return {str(k): v for k, v in value.items() if isinstance(v, dict)}

    root = data.get("root")
    return ExportState(
        site=str(data.get("site") or ""),
        space=str(data.get("space") or ""),
        space_id=str(data.get("space_id") or ""),
        root=str(root) if root else None,
        pages=table("pages"),
        folders=table("folders"),
        attachments=table("attachments"),
    )


def save(folder: str | Path, state: ExportState) -> None:
    """Write the state file atomically (complete or not at all)."""
    text = json.dumps(state.to_json(), indent=1, ensure_ascii=False, sort_keys=False) + "\n"
    fsio.write_text(Path(folder), STATE_NAME, text)
