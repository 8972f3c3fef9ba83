"""Planning and running ``ctk export``: a space or a page tree into a folder of Markdown.

The requests, for N pages, F folders and A attachments (docs/export-and-push.md):

1. one CQL listing of everything exported, with what a rerun must compare: ``GET
   /rest/api/content/search`` with ``expand=version,ancestors,history,metadata.labels`` (pages,
   folders and, for a space, attachments in the same listing; a page tree lists its attachments
   in a second CQL query by ``container``): ceil((N+F+A)/page size) requests; a space listing
   that comes back empty is followed by ``GET /api/v2/spaces?keys=KEY`` (an unknown key is
   NotFound);
2. the bodies of the pages that are new or changed, 250 ids a request: ``GET /api/v2/pages?id=...
   &body-format=storage`` (ceil(changed/page size));
3. the names of the people the fetched bodies mention, one ``users-bulk`` request per batch (none
   when the names are known, from the listing or the state file);
4. one download per new or changed attachment (``/download/attachments/<page id>/<file>``, the
   ``_links.download`` form, which answers the bytes without a redirect through the v1 API).

Nothing else: an unchanged rerun costs only step 1.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from ctk_core.errors import Conflict, UsageError, shown, shown_path
from ctk_core.helpers import (
    cql_string,
    display_names,
    mention_ids,
    remember_names,
    require_id,
    web_url,
)
from ctk_core.mirror import frontmatter, fsio, layout, links, slugs
from ctk_core.mirror.remote import BODY_BATCH, cql_listing, page_bodies, parent_of, storage_of
from ctk_core.mirror.state import STATE_NAME, ExportState, load, save, site_key, usable_name

__all__ = ["BODY_BATCH", "Plan", "conflict_error", "plan_export", "run_export"]

EXPAND = "version,ancestors,history,metadata.labels,container"


@dataclass
class Item:
    """A page, folder or attachment as the listing gives it."""

    id: str
    kind: str
    title: str
    version: int
    parent_id: str | None = None
    labels: list[str] = field(default_factory=list)
    author: str | None = None
    modified: str | None = None
    url: str = ""
    space: str = ""
    size: int | None = None
    media_type: str | None = None


@dataclass
class Plan:
    """What an export will do; ``to_json`` is the ``--dry-run --json`` answer."""

    folder: Path
    state: ExportState
    items: dict[str, Item]
    placed: dict[str, layout.Placed]
    fetch: list[str]  # pages to (re)write
    moves: list[tuple[str, str, str]]  # (page id, old file, new file) of unchanged pages
    attachments: dict[str, tuple[str, str]]  # attachment id -> (page id, file)
    download: list[str]
    attachment_moves: list[tuple[str, str, str]]
    gone: list[str]  # files of pages and attachments no longer exported
    #: attachments left out of this run (their tool is disabled): none listed, downloaded, moved
    #: or pruned; what earlier runs downloaded stays as it is
    skip_attachments: bool = False
    #: files the run would overwrite that were edited here or not written by an export, and
    #: with ``prune`` edited files of pages and attachments deleted in Confluence: kept
    conflicts: list[str] = field(default_factory=list)
    #: pages and attachments not written nor moved in this run (their files conflict)
    held: set[str] = field(default_factory=set)
    prune: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "pages": sum(1 for i in self.items.values() if i.kind == "page"),
            "fetch": [self.placed[i].path for i in self.fetch],
            "move": [{"from": old, "to": new} for _i, old, new in self.moves],
            "attachments": len(self.attachments),
            "download": [self.attachments[a][1] for a in self.download],
            "deleted": list(self.gone),
            "conflict": list(self.conflicts),
            "attachments_skipped": self.skip_attachments,
        }


def _item(raw: dict[str, Any], client: Any, people: dict[str, Any]) -> Item:
    version = raw.get("version") or {}
    by = version.get("by") or {}
    creator = ((raw.get("history") or {}).get("createdBy")) or {}
    names = {
        str(u.get("accountId")): u.get("displayName")
        for u in (by, creator)
        if u.get("accountId") and u.get("type") != "unknown"
    }
    people.update(names)
    parent = parent_of(raw)
    kind = str(raw.get("type") or "page")
    if kind == "attachment":
        parent = str((raw.get("container") or {}).get("id") or "") or None
    labels = ((raw.get("metadata") or {}).get("labels") or {}).get("results") or []
    ext = raw.get("extensions") or {}
    return Item(
        id=str(raw.get("id")),
        kind=kind,
        title=str(raw.get("title") or ""),
        version=int(version.get("number") or 1),
        parent_id=parent,
        labels=sorted(str(lb.get("name")) for lb in labels if isinstance(lb, dict)),
        author=creator.get("displayName") or creator.get("publicName"),
        modified=version.get("when"),
        url=web_url(client, raw) or "",
        size=ext.get("fileSize") if isinstance(ext.get("fileSize"), int) else None,
        media_type=ext.get("mediaType"),
        space=str((raw.get("space") or {}).get("key") or ""),
    )


def _list_items(
    ctx: Any,
    space: str | None,
    page_id: str | None,
    people: dict[str, Any],
    with_attachments: bool = True,
) -> dict[str, Item]:
    client = ctx.client
    items: dict[str, Item] = {}
    if space is not None:
        kinds = "page, folder, attachment" if with_attachments else "page, folder"
        cql = f"space = {cql_string(space)} and type in ({kinds}) order by id"
        for raw in cql_listing(client, cql, EXPAND):
            item = _item(raw, client, people)
            items[item.id] = item
        if not items:  # an unknown key lists nothing too: NotFound (exit 5), bound to nothing
            ctx.space_id(space)
        return items
    assert page_id is not None
    cql = f"(id = {page_id} or ancestor = {page_id}) and type in (page, folder) order by id"
    for raw in cql_listing(client, cql, EXPAND + ",space"):
        item = _item(raw, client, people)
        items[item.id] = item
    if page_id not in items:
        from ctk_core.errors import NotFound

        raise NotFound(f"Page {shown(page_id)} not found (or not visible to you).")
    if not with_attachments:
        return items
    page_ids = sorted((i for i, it in items.items() if it.kind == "page"), key=slugs.id_order)
    for start in range(0, len(page_ids), 100):
        chunk = ", ".join(page_ids[start : start + 100])
        cql = f"type = attachment and container in ({chunk}) order by id"
        for raw in cql_listing(client, cql, EXPAND):
            item = _item(raw, client, people)
            items[item.id] = item
    return items


def plan_export(
    ctx: Any,
    folder: str | Path,
    space: str | None = None,
    page_id: str | None = None,
    with_attachments: bool = True,
    prune: bool = False,
) -> Plan:
    """List what is exported and compare it with the folder's state: no file is written.
    ``with_attachments=False`` leaves attachments out (see :attr:`Plan.skip_attachments`);
    ``prune`` makes the edited files of deleted pages conflicts (they are kept)."""
    root = Path(folder)
    if (space is None) == (page_id is None):
        raise UsageError("name either a PAGE_ID or `--space` KEY to export, not both")
    if page_id is not None:
        page_id = require_id("PAGE_ID", page_id)
    _check_folder(root)
    old = load(root) if root.is_dir() else None
    site = site_key(ctx.client)
    if old is not None and old.site and old.site != site:
        raise UsageError(
            f"{shown_path(root)} holds an export of the site {shown(old.site)}, not of "
            f"{shown(site)}",
            hint="Export into another folder.",
        )
    if old is not None and (old.root != page_id or (space and old.space != space)):
        was = f"page {old.root}" if old.root else f"space {old.space}"
        raise UsageError(
            f"{root} holds an export of {was}",
            hint="Export into another folder, or rerun the same export there.",
        )
    if old is None and root.is_dir() and any(root.iterdir()):
        raise UsageError(
            f"{root} is not empty and holds no {STATE_NAME}",
            hint="Export into a new or empty folder.",
        )
    people: dict[str, Any] = {}
    items = _list_items(ctx, space, page_id, people, with_attachments)
    st = old or ExportState(site=site, root=page_id)
    remember_names(ctx, people)
    nodes = [
        layout.Node(i.id, i.kind, i.title, i.parent_id)
        for i in items.values()
        if i.kind in ("page", "folder")
    ]
    placed = layout.place(nodes, st.slugs(), st.kept_names({n.id: n.title for n in nodes}))
    pages = [i for i in nodes if i.kind == "page"]
    if space is None and items:
        spaces = {it.space for it in items.values() if it.space}
        space = spaces.pop() if len(spaces) == 1 else st.space
    st.space = space or st.space
    fetch, moves = [], []
    rewritten: list[tuple[str, dict[str, Any]]] = []  # (id, entry) of files written again
    for node in sorted(pages, key=lambda n: slugs.id_order(n.id)):
        entry = st.pages.get(node.id)
        path = placed[node.id].path
        if (
            entry is None
            or entry.get("version") != items[node.id].version
            or not (root / str(entry.get("file"))).is_file()
        ):
            fetch.append(node.id)
            if entry is not None:
                rewritten.append((node.id, entry))
        elif entry.get("file") != path:
            moves.append((node.id, str(entry["file"]), path))
    attachments: dict[str, tuple[str, str]] = {}
    if not with_attachments:  # left out: those of earlier runs stay as they are
        attachments = {
            a: (str(e.get("page_id")), str(e.get("file")))
            for a, e in st.attachments.items()
            if e.get("file")
        }
    download, att_moves = [], []
    by_page: dict[str, list[Item]] = {}
    for it in items.values():
        if it.kind == "attachment" and it.parent_id in placed:
            by_page.setdefault(str(it.parent_id), []).append(it)
    for pid, atts in by_page.items():
        assets = layout.assets_dir(placed[pid].path)
        taken: list[str] = []
        for att in sorted(atts, key=lambda a: slugs.id_order(a.id)):
            prev = st.attachments.get(att.id, {})
            prev_name = str(prev.get("file") or "").rpartition("/")[2]
            name = slugs.file_name(att.title, taken)
            if (
                prev_name
                and (
                    slugs.file_name(att.title) == _unnumbered(prev_name)
                    or (prev.get("title") == att.title and usable_name(prev_name))
                )  # a name given here (and pushed) stays while the title is the one recorded
                and slugs.name_key(prev_name) not in {slugs.name_key(t) for t in taken}
            ):
                name = prev_name
            taken.append(name)
            file = f"{assets}/{name}"
            attachments[att.id] = (pid, file)
            if (
                not prev
                or prev.get("version") != att.version
                or not (root / str(prev.get("file"))).is_file()
            ):
                download.append(att.id)
                if prev:
                    rewritten.append((att.id, prev))
            elif prev.get("file") != file:
                att_moves.append((att.id, str(prev["file"]), file))
    # Files a current page or attachment uses are not gone, even when a deleted one used them.
    used = {p.path for p in placed.values() if p.kind == "page"}
    used |= {file for _pid, file in attachments.values()}
    gone = [str(e.get("file")) for i, e in st.pages.items() if i not in placed]
    gone += [str(e.get("file")) for i, e in st.attachments.items() if i not in attachments]
    gone = [f for f in dict.fromkeys(gone) if f not in used]
    plan = Plan(root, st, items, placed, fetch, moves, attachments, download, att_moves, gone)
    plan.skip_attachments = not with_attachments
    plan.prune = prune
    targets = [(i, placed[i].path) for i in fetch] + [(i, new) for i, _old, new in moves]
    targets += [(a, attachments[a][1]) for a in download]
    targets += [(a, new) for a, _old, new in att_moves]
    versions = {i: it.version for i, it in items.items()}
    digests: dict[str, str] = {}  # file -> its sha256: each file read once for the plan
    pushed = _PushedAsIs(root, st, site, versions, digests)

    # A page or attachment whose file conflicts is held back (not written, not moved), and with
    # it what would land on the file it then does not leave, until nothing more is held.
    held: set[str] = set()
    conflicts: dict[str, str] = {}
    while True:
        now = {i: f for i, f in targets if i not in held}
        leaving = {old for i, old, _new in moves + att_moves if i not in held}
        leaving |= {
            str(e.get("file")) for i, e in rewritten if i not in held and e.get("file") != now[i]
        }
        found = _conflicts(
            root,
            st,
            [r for r in rewritten if r[0] not in held],
            list(now.items()),
            leaving,
            pushed,
            digests,
        )
        conflicts.update((f, i) for f, i in found.items() if f not in conflicts)
        more = set(found.values()) | {a for a, (pid, _f) in attachments.items() if pid in held}
        if more <= held:
            break
        held |= more
    plan.held = held
    plan.conflicts = list(conflicts)
    if prune:  # a file of a page or attachment deleted in Confluence that was edited here stays
        _check_prune(plan)
        plan.conflicts += [f for f in _edited_gone(plan, digests) if f not in conflicts]
    return plan


def _check_folder(root: Path) -> None:
    """DIR is a folder, or can be made one: no file stands at its place or at one of its
    parents' (a :class:`UsageError` before any request)."""
    here = root
    while True:
        if here.exists() or here.is_symlink():
            if not here.is_dir():
                raise UsageError(
                    f"{shown_path(root)} is not a folder"
                    + ("" if here == root else f": {shown_path(here)} is a file"),
                    hint="Export into a new or empty folder.",
                )
            return
        if here.parent == here:
            return
        here = here.parent


def _conflicts(
    root: Path,
    st: ExportState,
    rewritten: list[tuple[str, dict[str, Any]]],
    targets: list[tuple[str, str]],
    leaving: set[str],
    pushed: Callable[[dict[str, str]], set[str]],
    digests: dict[str, str],
) -> dict[str, str]:
    """The files a run would overwrite or replace that are not as the last export left them
    (file -> the page or attachment that would): the file of a page or attachment written
    again that was edited here (its hash is not the one recorded), and any file at a place
    written or moved onto that the state does not record (made here), or records with another
    hash. A file a current page or attachment moves away from in this run is its own concern (it
    goes with it, or is its edited file). An edited file that ``ctk push`` sent as it is now is
    no conflict (``pushed``)."""
    edited = {str(e.get("file")): i for i, e in rewritten if _edited_here(root, e, digests)}
    sent = pushed(edited) if edited else set()
    out = {file: i for file, i in edited.items() if file not in sent}
    if not targets:
        return out
    records: dict[str, list[dict[str, Any]]] = {}
    for table in (st.pages, st.attachments):
        for entry in table.values():
            records.setdefault(str(entry.get("file") or ""), []).append(entry)
    for ident, file in targets:
        if file in edited or file in leaving or not os.path.lexists(root / file):
            continue
        known = records.get(file)
        if not known or any(_edited_here(root, e, digests) for e in known):
            out.setdefault(file, ident)
    return out


class _PushedAsIs:
    """Of the ``edited`` files (file -> page or attachment id), those ``ctk push`` sent to this
    site and space as they are now (``.ctk-push.json``): a page whose file still gives what the
    push sent and which Confluence still has at the version that push left, an attachment whose
    bytes are those pushed. Overwriting them loses nothing (the export -> edit -> push -> export
    round trip).

    One per plan: the push state is read, and the folder scanned and rendered as a push sees
    it, the first time they are needed and not again; files are hashed through ``digests``."""

    def __init__(
        self,
        root: Path,
        st: ExportState,
        site: str,
        versions: dict[str, int],
        digests: dict[str, str],
    ) -> None:
        self.root, self.st, self.site = root, st, site
        self.versions, self.digests = versions, digests
        self._target: Any = _UNREAD
        self._tree: Any = _UNREAD

    def target(self) -> Any:
        """The push state of this site and space (None: none, or unreadable)."""
        if self._target is _UNREAD:
            from ctk_core.errors import CtkError
            from ctk_core.mirror.push_state import STATE_NAME as PUSH_STATE
            from ctk_core.mirror.push_state import load_target

            self._target = None
            if self.st.space and (self.root / PUSH_STATE).is_file():
                try:
                    self._target = load_target(self.root, self.site, self.st.space)
                except CtkError:
                    pass
        return self._target

    def tree(self) -> Any:
        """The folder as a push would send it (None when it cannot be read so)."""
        if self._tree is _UNREAD:
            from ctk_core.errors import CtkError
            from ctk_core.mirror.push_scan import render, scan

            names = {
                str(e.get("file")): str(e.get("title"))
                for e in self.st.attachments.values()
                if e.get("file") and e.get("title")
            }
            try:
                tree = scan(self.root)
                render(tree, names)
            except CtkError:
                tree = None
            self._tree = tree
        return self._tree

    def __call__(self, edited: dict[str, str]) -> set[str]:
        st, root = self.st, self.root
        target = self.target()
        if target is None:
            return set()
        out: set[str] = set()
        pages: dict[str, str] = {}  # file -> the content hash the push recorded
        for file, ident in edited.items():
            if ident in st.attachments:
                att = st.attachments[ident]
                rec = target.attachments.get(f"{att.get('page_id')}/{att.get('title')}") or {}
                if rec.get("hash") and rec.get("hash") == _digest(root, file, self.digests):
                    out.add(file)
                continue
            rec = target.pages.get(file) or {}
            if str(rec.get("id")) == ident and rec.get("version") == self.versions.get(ident):
                pages[file] = str(rec.get("hash") or "")
        if pages:
            tree = self.tree()
            if tree is None:
                return out
            for file, recorded in pages.items():
                node = tree.nodes.get(file)
                if node is not None and recorded and node.content_hash == recorded:
                    out.add(file)
        return out


_UNREAD = object()


def _digest(root: Path, file: str, digests: dict[str, str]) -> str:
    """The sha256 of the file ``root / file``, read once for all who ask (``digests`` keeps
    them: one for a plan, while no file changes)."""
    digest = digests.get(file)
    if digest is None:
        digest = digests[file] = fsio.sha256_of(root / file)
    return digest


def _edited_here(root: Path, entry: dict[str, Any], digests: dict[str, str]) -> bool:
    """Whether the file of a page or attachment differs from what the last export wrote (its
    recorded hash; an entry without one is taken as unedited). Hashed through ``digests``
    (see :func:`_digest`)."""
    recorded = entry.get("hash")
    file = str(entry.get("file"))
    if not recorded or not (root / file).is_file():
        return False
    return _digest(root, file, digests) != recorded


class _Hashing:
    """A binary file that also hashes what is written through it."""

    def __init__(self, fh: IO[bytes]) -> None:
        self.fh = fh
        self.digest = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return self.fh.write(data)


def _unnumbered(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    base = stem.rsplit("-", 1)
    if len(base) == 2 and base[1].isdigit():
        stem = base[0]
    return stem + (f".{ext}" if ext else "")


def run_export(ctx: Any, plan: Plan, prune: bool = False, force: bool = False) -> dict[str, Any]:
    """Carry out a plan: move, fetch and write, download, prune. The state file is saved after
    every batch and on the way out (Ctrl-C included); it names only complete files.

    A file edited here whose page or attachment also changed in Confluence (or, with ``prune``,
    was deleted there), or a file the export did not write at a place it would write, is never
    overwritten or removed silently: unless ``force``, it is left as it is, its page or
    attachment not written nor moved, everything else exported, and the summary lists it under
    ``conflicts`` (see :func:`conflict_error`)."""
    root, st, placed, items = plan.folder, plan.state, plan.placed, plan.items
    if prune:
        _check_prune(plan)
        if not plan.prune:
            plan.conflicts += [f for f in _edited_gone(plan, {}) if f not in plan.conflicts]
    held = set() if force else plan.held
    keep = set() if force else set(plan.conflicts)
    root.mkdir(parents=True, exist_ok=True)
    index = links.LinkIndex(st.space, ctx.client.web_url)
    for pid, place in placed.items():
        if place.kind == "page":
            path = place.path
            if pid in held and st.pages.get(pid, {}).get("file"):
                path = str(st.pages[pid]["file"])  # not moved in this run
            index.pages[pid] = (items[pid].title, path)
    for aid, (pid, file) in plan.attachments.items():
        title = items[aid].title if aid in items else str(st.attachments[aid].get("title") or "")
        if aid in held and st.attachments.get(aid, {}).get("file"):
            file = str(st.attachments[aid]["file"])
        index.attachments[(pid, title)] = file
    index.reindex()
    progress = ctx.progress
    fetch = [i for i in plan.fetch if i not in held]
    download = [a for a in plan.download if a not in held]
    total = len(fetch) + len(download)
    progress.start("export:", total=total)
    st.folders = {
        i: {"dir": p.path, "title": items[i].title, "slug": p.slug, "parent_id": items[i].parent_id}
        for i, p in placed.items()
        if p.kind == "folder"
    }
    moved = written = downloaded = pruned = 0
    used = {p.path for p in placed.values() if p.kind == "page"}
    att_files = {file for _pid, file in plan.attachments.values()}
    left: list[str] = []  # .assets folders of moved pages still holding files
    try:
        for pid, old, new in _ordered_moves([m for m in plan.moves if m[0] not in held]):
            _move_page(root, old, new, left)
            st.pages[pid].update(file=new, slug=placed[pid].slug, title=items[pid].title)
            moved += 1
        att_moves = [m for m in plan.attachment_moves if m[0] not in held]
        for aid, old, new in _ordered_moves(att_moves):
            # those whose folder moved are there already
            if fsio.move(root, old, new) or (root / new).is_file():
                st.attachments[aid]["file"] = new
        for batch, bodies in page_bodies(ctx.client, fetch):
            storages = {i: storage_of(b) for i, b in bodies.items()}
            names = display_names(ctx, [m for s in storages.values() for m in mention_ids(s)])
            old_files = {i: str(st.pages.get(i, {}).get("file") or "") for i in batch}
            for pid in batch:
                if pid not in bodies:
                    continue  # deleted since the listing: the next run reports it
                progress.note(items[pid].title)
                _write_page(ctx, root, st, items[pid], placed[pid], storages[pid], names, index)
                _leave(root, old_files.get(pid), placed[pid].path, used, left)
                written += 1
                progress.advance()
            save(root, st)
        for n, aid in enumerate(download, start=1):
            pid, file = plan.attachments[aid]
            att = items[aid]
            progress.note(att.title)
            with fsio.open_atomic(root, file) as raw:
                fh = _Hashing(raw)
                ctx.client.download(
                    f"/download/attachments/{pid}/{quote(att.title, safe='')}"
                    f"?version={att.version}&api=v2",
                    fh,
                    expected_bytes=att.size,
                    media_type=att.media_type,
                )
            old_file = st.attachments.get(aid, {}).get("file")
            st.attachments[aid] = {
                "page_id": pid,
                "version": att.version,
                "file": file,
                "title": att.title,
                "size": att.size,
                "hash": fh.digest.hexdigest(),
            }
            if old_file and old_file != file and old_file not in att_files:
                fsio.remove(root, str(old_file))
            downloaded += 1
            progress.advance()
            if n % 25 == 0:
                save(root, st)
        if prune:  # only the files the export recorded; an edited one (keep) stays, recorded
            for file in plan.gone:
                if file and file not in keep and fsio.remove(root, file):
                    pruned += 1
            for aid in [a for a in st.attachments if a not in plan.attachments]:
                if str(st.attachments[aid].get("file")) not in keep:
                    del st.attachments[aid]
            for pid in [i for i in st.pages if i not in placed]:
                file = str(st.pages[pid].get("file") or "")
                if file in keep:
                    continue
                assets = layout.assets_dir(file)
                if file not in used and (root / assets).is_dir():
                    fsio.prune_empty(root, assets)  # what is left there is not the export's
                    if (root / assets).is_dir():
                        left.append(assets)
                del st.pages[pid]
    finally:
        save(root, st)
        progress.finish()
    pages = sum(1 for p in placed.values() if p.kind == "page")
    return {
        "folder": str(root),
        "pages": pages,
        "written": written,
        "unchanged": pages - written - sum(1 for i in plan.fetch if i in held),
        "moved": moved,
        "attachments": len(plan.attachments),
        "downloaded": downloaded,
        "deleted": [] if prune else list(plan.gone),
        "pruned": pruned,
        "left": sorted(set(left)),
        "attachments_skipped": plan.skip_attachments,
        "conflicts": sorted(keep, key=plan.conflicts.index),
    }


def conflict_error(files: list[str]) -> Conflict:
    """The error an export ends with when it left ``files`` as they are (its summary said the
    rest)."""
    listed = ", ".join(files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")
    return Conflict(
        f"{len(files)} file(s) left as they are, edited here since the last export or not "
        f"written by it, while Confluence changed or deleted their page or attachment: "
        f"{listed}; everything else was exported.",
        hint="Move your file aside and rerun with --force to get Confluence's version (or, "
        "for a deleted page, to remove the file), then merge your edits into it.",
    )


def _edited_gone(plan: Plan, digests: dict[str, str]) -> list[str]:
    """The files of pages and attachments deleted in Confluence that were edited here (hashed
    through ``digests``)."""
    st, root = plan.state, plan.folder
    deleted = [e for i, e in st.pages.items() if i not in plan.placed]
    deleted += [e for i, e in st.attachments.items() if i not in plan.attachments]
    edited = {str(e.get("file")) for e in deleted if _edited_here(root, e, digests)}
    return [f for f in plan.gone if f in edited]


def _check_prune(plan: Plan) -> None:
    """``--prune`` never removes a whole export because a listing came back without a page."""
    if plan.state.pages and not any(p.kind == "page" for p in plan.placed.values()):
        raise UsageError(
            f"Confluence listed no page of this export while {shown_path(plan.folder)} holds "
            f"{len(plan.state.pages)}: refusing to prune them all",
            hint="Check the space (or page) in Confluence; without --prune the files stay.",
        )


def _ordered_moves(moves: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """Moves in an order where no file lands on one still to move away (a cycle goes through a
    name aside)."""
    pending = list(moves)
    out = []
    while pending:
        sources = {old for _p, old, _n in pending}
        free = [m for m in pending if m[2] not in sources]
        if not free:  # a cycle: take one aside
            pid, old, new = pending.pop(0)
            aside = f".ctk-moving-{pid}-{old.rpartition('/')[2]}"
            out.append((pid, old, aside))
            pending.append((pid, aside, new))
            continue
        for m in free:
            pending.remove(m)
            out.append(m)
    return out


def _move_page(root: Path, old: str, new: str, left: list[str]) -> None:
    fsio.move(root, old, new)
    _move_assets(root, old, new, left)


def _move_assets(root: Path, old: str, new: str, left: list[str]) -> None:
    """Move the ``.assets`` folder of a page's file ``old`` to that of ``new``: merged into one
    there already (its attachments moved first); a file whose name is taken there stays, and
    its folder is reported in ``left``."""
    old_assets = layout.assets_dir(old)
    if (root / old_assets).is_dir():
        fsio.move(root, old_assets, layout.assets_dir(new))
        if (root / old_assets).exists():
            left.append(old_assets)


def _leave(
    root: Path,
    old: str | None,
    new: str,
    used: set[str],
    left: list[str],
) -> None:
    """After a page was written to ``new``: remove its previous file ``old`` and move its
    ``.assets``, unless another page of this export now uses that file (a title swap)."""
    if not old or old == new or old in used:
        return
    if (root / old).is_file():
        fsio.remove(root, old)
    _move_assets(root, old, new, left)


def _write_page(
    ctx: Any,
    root: Path,
    st: ExportState,
    item: Item,
    place: layout.Placed,
    storage: str,
    names: dict[str, str],
    index: links.LinkIndex,
) -> None:
    from ctk_core.convert import storage_to_markdown

    body = links.to_relative(storage_to_markdown(storage, names), place.path, item.id, index)
    meta = {
        "id": item.id,
        "title": item.title,
        "space": st.space,
        "parent_id": item.parent_id,
        "version": item.version,
        "labels": item.labels,
        "author": item.author,
        "last_modified": item.modified,
        "url": item.url,
    }
    text = frontmatter.render(meta, body)
    fsio.write_text(root, place.path, text)
    st.pages[item.id] = {
        "version": item.version,
        "file": place.path,
        "title": item.title,
        "slug": place.slug,
        "parent_id": item.parent_id,
        "labels": list(item.labels),
        "hash": hashlib.sha256(text.encode("utf-8")).hexdigest(),
    }


def budget(pages: int, attachments: int) -> int:
    """The most requests a first full export of ``pages`` and ``attachments`` may cost."""
    return math.ceil(2 * pages / 25) + math.ceil(attachments / 25) + attachments + 5
