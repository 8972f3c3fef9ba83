"""Where each page of the tree goes: relative POSIX paths inside the export folder.

The rule:

- a page without children is ``<slug>.md``;
- a page with children is ``<slug>/index.md``, its children beside that ``index.md``;
- a native folder is the directory ``<slug>/`` (no file of its own);
- a page's attachments are in ``<file without .md>.assets/`` beside its file: ``<slug>.assets/``
  for ``<slug>.md``, ``<slug>/index.assets/`` for ``<slug>/index.md``. Slugs hold no dot, so
  no page or folder can take that name;
- nodes whose parent is not in the export (the space's top pages, the page exported) sit at
  the top of the folder.

Slugs come from :mod:`ctk_core.mirror.slugs`, unique among siblings.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ctk_core.mirror import slugs

__all__ = ["Node", "Placed", "assets_dir", "place"]


@dataclass(frozen=True)
class Node:
    """A page or folder of the tree: ``kind`` is ``"page"`` or ``"folder"``."""

    id: str
    kind: str
    title: str
    parent_id: str | None = None


@dataclass(frozen=True)
class Placed:
    """Where a node goes: ``path`` is the page's ``.md`` file or the folder's directory;
    ``slug`` its name among its siblings; ``dir`` the directory its children go in (None for
    a page without children)."""

    id: str
    kind: str
    slug: str
    path: str
    dir: str | None


def assets_dir(page_file: str) -> str:
    """``a/b.md`` -> ``a/b.assets``; ``a/index.md`` -> ``a/index.assets``."""
    stem = page_file[:-3] if page_file.endswith(".md") else page_file
    return stem + ".assets"


def place(
    nodes: Iterable[Node],
    previous: Mapping[str, str] | None = None,
    kept: Mapping[str, str] | None = None,
) -> dict[str, Placed]:
    """Place every node. ``previous`` maps ids to the slugs of the last run (kept when still
    right, so that a new sibling of the same title never renames an existing file); ``kept``
    to names given here that stay whatever the title's slug (:func:`slugs.assign`)."""
    by_id = {n.id: n for n in nodes}
    children: dict[str | None, list[Node]] = {}
    for node in by_id.values():
        parent = node.parent_id if node.parent_id in by_id else None
        children.setdefault(parent, []).append(node)
    out: dict[str, Placed] = {}
    pending: list[tuple[str | None, str]] = [(None, "")]
    seen: set[str | None] = set()
    while pending:
        parent, folder = pending.pop()
        if parent in seen:  # a cycle in the data: each node once
            continue
        seen.add(parent)
        kids = children.get(parent, [])
        names = slugs.assign(
            [(k.id, slugs.slugify(k.title, f"{k.kind}-{k.id}")) for k in kids], previous, kept=kept
        )
        for kid in kids:
            slug = names[kid.id]
            base = posixpath.join(folder, slug) if folder else slug
            if kid.kind == "folder":
                out[kid.id] = Placed(kid.id, "folder", slug, base, base)
                pending.append((kid.id, base))
            elif kid.id in children:
                out[kid.id] = Placed(kid.id, "page", slug, base + "/index.md", base)
                pending.append((kid.id, base))
            else:
                out[kid.id] = Placed(kid.id, "page", slug, base + ".md", None)
    return out
