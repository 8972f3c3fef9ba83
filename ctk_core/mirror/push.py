"""Planning ``ctk push DIR --space KEY``: what a folder of Markdown changes in a space.

The plan costs only reads, and few (docs/export-and-push.md):

1. the space: ``GET /api/v2/spaces?keys=KEY`` (its id; its home page, ``GET
   /api/v2/spaces/{id}``, only when a page or folder is created or moved);
2. the bulk listing of its pages, without bodies: ``GET /api/v2/spaces/{id}/pages``, 250 a
   request, which gives every page's title, parent and version: what proves a page unchanged;
3. only when the folder has a directory without a page of its own that no earlier push
   recorded: one CQL listing of the space's folders (to adopt a folder created by an interrupted
   push rather than make it twice);
4. only for pages whose history ctk does not know (named by a front matter ``id`` without a
   version ctk recorded, or adopted by title): their bodies, 250 a request, to compare.

Each page is then one of: create, update (changed here, not in Confluence), unchanged, kept
(changed in Confluence only: left alone), conflict (changed in both: refused unless forced),
plus a move when its place in the tree changed here (moved in Confluence only: left there; moved
on both sides: a conflict), and delete for a page an earlier push made whose file is gone (done
only with ``--prune``; a conflict when the page changed in Confluence since). Two files of one
title, or a file titled like a page of the space the folder does not push, are refused before
anything is sent. :mod:`ctk_core.mirror.push_apply` carries it out.

The state file ``.ctk-push.json`` records, per site and space pushed to, each file's page id,
the version the push left and a hash of what it sent (title and converted storage), each
folder's id, and each attachment's hash. A folder ``ctk export`` made carries the same facts in
its front matter and ``.ctk-export.json``, so its first push needs no state of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ctk_core.errors import UsageError, shown, shown_path
from ctk_core.helpers import cql_string
from ctk_core.mirror import fsio
from ctk_core.mirror import state as export_state
from ctk_core.mirror.push_scan import LocalNode, LocalTree, render, scan
from ctk_core.mirror.push_state import STATE_NAME, PushTarget, load_target, save_target
from ctk_core.mirror.remote import cql_listing, page_bodies, parent_of, storage_of

__all__ = ["STATE_NAME", "Plan", "PushTarget", "Step", "load_target", "plan_push", "save_target"]

LISTING_LIMIT = 250


# ------------------------------------------------------------------------------ the plan


@dataclass
class Remote:
    id: str
    title: str
    parent_id: str | None
    version: int


@dataclass
class Step:
    """What the push does with one page or folder of the folder."""

    node: LocalNode
    action: str  # create, update, unchanged, kept, conflict (pages); create, unchanged (folders)
    page_id: str | None = None
    origin: str = ""  # state, renamed, export, id, adopted ('' for a new page)
    base_version: int | None = None  # the version the local file was last in step with
    remote: Remote | None = None
    move: bool = False
    forced: bool = False
    #: the parent the page had when last in step with the file (None: not known)
    base_parent: str | None = None
    base_parent_known: bool = False
    #: the parent to record when the page is not moved
    record_parent: str | None = None
    #: what a conflict is about: "content" (changed on both sides) or "place" (moved on both)
    reason: str = "content"
    #: labels the page has now when known (None: read them before changing them)
    labels_now: list[str] | None = None
    #: attachment name -> (file, sha256) to upload; and those unchanged (recorded without request)
    uploads: dict[str, tuple[str, str]] = field(default_factory=dict)
    unchanged_assets: dict[str, tuple[str, str]] = field(default_factory=dict)
    old_key: str | None = None  # a renamed file's previous name

    @property
    def labels_change(self) -> bool:
        wanted = self.node.labels
        return wanted is not None and (self.labels_now is None or wanted != self.labels_now)


@dataclass
class Plan:
    folder: Path
    tree: LocalTree
    target: PushTarget
    space: str
    space_id: str
    homepage_id: str | None
    parent_id: str | None
    steps: list[Step]
    deletions: list[tuple[str, str]]  # (file, page id) recorded by a push, file gone
    #: pages whose file is gone but that changed in Confluence since: conflicts for --prune
    stale_deletions: list[dict[str, Any]] = field(default_factory=list)
    #: (file, page id) of pages an export wrote here whose file is gone but that no push from
    #: here recorded: never deleted, only listed
    untracked: list[tuple[str, str]] = field(default_factory=list)
    #: the export state of DIR when it is an export of this site and space: the push records
    #: there what it leaves each page and attachment at (:func:`push_apply.run_push`)
    exported: export_state.ExportState | None = None

    def page_steps(self, *actions: str) -> list[Step]:
        return [
            s for s in self.steps if s.node.kind == "page" and (not actions or s.action in actions)
        ]

    def to_json(self) -> dict[str, Any]:
        def files(*actions: str) -> list[str]:
            return [s.node.key for s in self.page_steps(*actions)]

        return {
            "folder": str(self.folder),
            "space": self.space,
            "pages": len(self.page_steps()),
            "create": files("create"),
            "update": files("update"),
            "move": [s.node.key for s in self.steps if s.move],
            "unchanged": files("unchanged"),
            "kept": files("kept"),
            "conflict": [
                {
                    "file": s.node.key,
                    "page_id": s.page_id,
                    "reason": s.reason,
                    "pushed_version": s.base_version,
                    "current_version": s.remote.version if s.remote else None,
                }
                for s in self.page_steps("conflict")
            ],
            "folders": [
                s.node.key for s in self.steps if s.node.kind == "folder" and s.action == "create"
            ],
            "attachments": sorted({f for s in self.steps for f, _h in s.uploads.values()}),
            "labels": [s.node.key for s in self.page_steps() if s.labels_change],
            "delete": [file for file, _pid in self.deletions],
            "delete_conflict": [
                {k: v for k, v in c.items() if k != "title"} for c in self.stale_deletions
            ],
            "exported_gone": [file for file, _pid in self.untracked],
            "broken_links": broken_links(self.tree),
        }


def broken_links(tree: LocalTree) -> list[dict[str, str]]:
    """The relative links of the folder's pages that lead to no page or file of it."""
    return [{"file": n.key, "link": link} for n in tree.pages() for link in n.broken_links]


class _Home:
    """The space's home page, read (``GET /api/v2/spaces/{id}``) only when first asked."""

    def __init__(self, client: Any, space_id: str) -> None:
        self.client = client
        self.space_id = space_id
        self.read = False
        self.id: str | None = None

    def __call__(self) -> str | None:
        if not self.read:
            data = self.client.get(f"/api/v2/spaces/{self.space_id}") or {}
            home = data.get("homepageId")
            self.id, self.read = (str(home) if home else None), True
        return self.id


def _listing(client: Any, space_id: str) -> dict[str, Remote]:
    out: dict[str, Remote] = {}
    for raw in client.iterate(f"/api/v2/spaces/{space_id}/pages", limit=LISTING_LIMIT):
        if raw.get("id") is None or raw.get("status", "current") != "current":
            continue
        parent = raw.get("parentId")
        out[str(raw["id"])] = Remote(
            id=str(raw["id"]),
            title=str(raw.get("title") or ""),
            parent_id=str(parent) if parent else None,
            version=int((raw.get("version") or {}).get("number") or 0),
        )
    return out


def _folders(client: Any, space: str) -> list[tuple[str, str, str | None]]:
    """(id, title, parent id) of every folder of the space: one CQL listing."""
    cql = f"type = folder and space = {cql_string(space)} order by id"
    out = []
    for raw in cql_listing(client, cql, "ancestors"):
        out.append((str(raw.get("id")), str(raw.get("title") or ""), parent_of(raw)))
    return out


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def plan_push(
    ctx: Any,
    folder: str | Path,
    space: str,
    parent_id: str | None = None,
    force: bool = False,
) -> Plan:
    """Read the folder, list the space and decide what to do: only reads are sent."""
    from ctk_core.convert.compare import semantically_equal

    root = Path(folder)
    tree = scan(root)
    if not tree.pages():
        raise UsageError(f"{shown_path(root)} holds no Markdown file (*.md) to push")
    client = ctx.client
    site = export_state.site_key(client)
    exported = export_state.load(root)
    same_export = exported is not None and exported.site == site and exported.space == space
    names = {
        str(e.get("file")): str(e.get("title"))
        for e in (exported.attachments if exported else {}).values()
        if e.get("file") and e.get("title")
    }
    render(tree, names)
    target = load_target(root, site, space)
    exported_pages = exported.pages if same_export and exported is not None else {}
    exported_files = exported.files() if same_export and exported is not None else {}

    space_id = ctx.space_id(space)
    home = _Home(client, space_id)
    target.space_id = space_id
    remote = _listing(client, space_id)

    steps: dict[str, Step] = {}
    claimed: set[str] = set()
    ids: dict[str, str | None] = {}  # node key -> id (None: created by this push)
    nodes = list(tree.nodes.values())

    # Files a push recorded whose file is gone: renamed or moved when a new file is the same
    # page (the same id in its front matter, or the same body).
    gone = {k: e for k, e in target.pages.items() if k not in tree.nodes}
    renamed: dict[str, str] = {}
    for node in nodes:
        if node.kind != "page" or node.key in target.pages:
            continue
        match = [k for k, e in gone.items() if node.page_id and str(e.get("id")) == node.page_id]
        if not match and gone:
            digest = node.storage_hash
            match = [k for k, e in gone.items() if e.get("storage_hash") == digest]
        if len(match) == 1 and match[0] not in renamed.values():
            renamed[node.key] = match[0]

    folder_listing: list[tuple[str, str, str | None]] | None = None
    unknown: list[Step] = []
    for node in nodes:
        parent_known = node.parent is None or ids.get(node.parent) is not None
        wanted_parent = ids.get(node.parent) if node.parent is not None else parent_id
        if node.kind == "folder":
            entry = target.folders.get(node.key)
            fid = str(entry["id"]) if entry and entry.get("id") else None
            if fid is None and same_export and exported is not None:
                fid = next(
                    (i for i, e in exported.folders.items() if e.get("dir") == node.key), None
                )
                if fid is not None and exported.folders[fid].get("title"):
                    node.title = str(exported.folders[fid]["title"])
            elif entry and entry.get("title"):
                node.title = str(entry["title"])
            if fid is None and exported is not None:
                title = next(
                    (e.get("title") for e in exported.folders.values() if e.get("dir") == node.key),
                    None,
                )
                if title:
                    node.title = str(title)
            if fid is None and parent_known:
                if folder_listing is None:
                    folder_listing = _folders(client, space)
                home_or = wanted_parent or home()
                fid = next(
                    (
                        i
                        for i, t, p in folder_listing
                        if t == node.title and (p is None or p == home_or)
                    ),
                    None,
                )
            ids[node.key] = fid
            steps[node.key] = Step(node, "unchanged" if fid else "create", page_id=fid)
            continue

        step = Step(node, "create")
        local_changed = True
        entry = target.pages.get(node.key)
        if entry is None and node.key in renamed:
            entry = target.pages[renamed[node.key]]
            step.old_key = renamed[node.key]
        pid: str | None = None
        exp_id = node.page_id or exported_files.get(node.key)
        if entry is not None and str(entry.get("id")) not in claimed:
            pid = str(entry.get("id"))
            exp = exported_pages.get(pid)
            if exp is not None and (_int(exp.get("version")) or 0) > (
                _int(entry.get("version")) or 0
            ):
                # An export since the last push wrote the page at a newer version: the file
                # is in step with that one.
                step.origin = "export"
                _from_export(step, exp, node, remote.get(pid))
                local_changed = exp.get("hash") != node.file_hash
            else:
                step.origin = "renamed" if step.old_key else "state"
                step.base_version = _int(entry.get("version"))
                _base_parent(step, entry)
                if pid in remote:
                    local_changed = entry.get("hash") != node.content_hash
                    recorded = entry.get("labels")
                    step.labels_now = list(recorded) if isinstance(recorded, list) else None
        elif exp_id and exp_id in remote and exp_id not in claimed:
            pid = exp_id
            exp = exported_pages.get(pid)
            if exp is not None:
                step.origin = "export"
                _from_export(step, exp, node, remote.get(pid))
                local_changed = exp.get("hash") != node.file_hash
            else:
                step.origin = "id"
                step.base_version = _int(node.meta.get("version"))
                _base_parent(step, node.meta)
        elif parent_known:
            top = node.parent is None and parent_id is None
            under = None if top else wanted_parent or home()
            pid = next(
                (
                    r.id
                    for r in remote.values()
                    if r.title == node.title
                    and r.id not in claimed
                    and (top or r.parent_id == under)
                ),
                None,
            )
            if pid is not None:
                step.origin = "adopted"
        if pid is not None and pid in remote:
            claimed.add(pid)
            step.page_id = pid
            step.remote = remote[pid]
            if step.origin in ("id", "adopted"):
                unknown.append(step)
            else:
                _decide(step, local_changed, force)
        elif pid is not None:
            step.origin = ""  # recorded, but deleted in Confluence since: made again
        if step.action == "create":
            step.labels_now = []
        ids[node.key] = step.page_id
        if step.remote is not None:
            step.record_parent = step.remote.parent_id
            if node.parent is not None or parent_id is not None:
                _place(step, wanted_parent, force)
        steps[node.key] = step
    _check_titles(steps.values(), remote, claimed, space)

    # Pages whose history is unknown: compare their bodies (250 a request).
    by_id = {str(s.page_id): s for s in unknown}
    for batch, bodies in page_bodies(client, list(by_id)):
        for step in (by_id[i] for i in batch):
            raw = bodies.get(str(step.page_id)) or {}
            storage = storage_of(raw)
            same = str(raw.get("title") or "") == step.node.title and semantically_equal(
                storage, step.node.storage
            )
            if same:
                assert step.remote is not None
                step.base_version = step.remote.version
            _decide(step, not same, force)

    # Attachments: upload what is new or changed since it was last pushed (or exported).
    for step in steps.values():
        for name, file in step.node.assets.items():
            digest = fsio.sha256_of(root / file)
            recorded = target.attachments.get(f"{step.page_id}/{name}") if step.page_id else None
            if step.action != "create" and recorded and recorded.get("hash") == digest:
                step.unchanged_assets[name] = (file, digest)
                continue
            if (
                step.action != "create"
                and step.page_id
                and exported is not None
                and same_export
                and _exported_unchanged(exported, step.page_id, name, digest)
            ):
                step.unchanged_assets[name] = (file, digest)
                continue
            step.uploads[name] = (file, digest)

    matched_old = {s.old_key for s in steps.values() if s.old_key}
    deletions: list[tuple[str, str]] = []
    stale: list[dict[str, Any]] = []
    for k, e in sorted(gone.items()):
        pid = str(e.get("id"))
        if k in matched_old or pid not in remote or pid in claimed:
            continue
        if force or _int(e.get("version")) == remote[pid].version:
            deletions.append((k, pid))
        else:  # changed in Confluence since the last push: not trashed unless forced
            stale.append(
                {
                    "file": k,
                    "page_id": pid,
                    "title": remote[pid].title,
                    "reason": "deleted",
                    "pushed_version": _int(e.get("version")),
                    "current_version": remote[pid].version,
                }
            )
    # Pages an export wrote here whose file is gone, that no push from here recorded: a push
    # deletes only what a push made, so these are listed, never deleted.
    recorded_ids = {str(e.get("id")) for e in target.pages.values()}
    untracked = sorted(
        (str(e.get("file")), pid)
        for pid, e in exported_pages.items()
        if e.get("file")
        and str(e.get("file")) not in tree.nodes
        and pid in remote
        and pid not in claimed
        and pid not in recorded_ids
    )
    needs_home = any(s.action == "create" or s.move for s in steps.values())
    return Plan(
        folder=root,
        tree=tree,
        target=target,
        space=space,
        space_id=space_id,
        homepage_id=home() if needs_home else home.id,
        parent_id=parent_id,
        steps=list(steps.values()),
        deletions=deletions,
        stale_deletions=stale,
        untracked=untracked,
        exported=exported if same_export else None,
    )


def _from_export(step: Step, exp: dict[str, Any], node: LocalNode, now: Remote | None) -> None:
    """Take the version, parent and labels the export state records for the page. Its labels
    are the page's labels now when the file is as exported (then the front matter's), or when
    the export recorded them at the version Confluence still has."""
    step.base_version = _int(exp.get("version"))
    _base_parent(step, exp)
    if exp.get("hash") == node.file_hash:
        step.labels_now = node.labels
    elif (
        isinstance(exp.get("labels"), list) and now is not None and step.base_version == now.version
    ):
        step.labels_now = sorted(str(x) for x in exp["labels"])


def _base_parent(step: Step, record: dict[str, Any]) -> None:
    """The parent a record (push state, export state, front matter) says the page had."""
    if "parent_id" in record:
        value = record.get("parent_id")
        step.base_parent = str(value) if value not in (None, "") else None
        step.base_parent_known = True


def _place(step: Step, wanted: str | None, force: bool) -> None:
    """Whether to move the page: only when its place changed here (``wanted``, None for a
    parent this push creates, differs from the recorded parent). Moved in Confluence only: left
    there. Moved on both sides to different places: a conflict unless ``force``."""
    assert step.remote is not None
    now = step.remote.parent_id
    if wanted is not None and now == wanted:
        return
    if not step.base_parent_known or step.origin == "adopted":
        step.move = True
        return
    if wanted is not None and wanted == step.base_parent:
        step.record_parent = step.base_parent  # moved in Confluence only: stays there
        return
    if now == step.base_parent or force:
        step.move = True
    else:
        step.action = "conflict"
        step.reason = "place"


def _check_titles(steps: Any, remote: dict[str, Remote], claimed: set[str], space: str) -> None:
    """Refuse, before any write, what Confluence would refuse half-way: two files of one title,
    or a file titled like a page of the space that this folder does not push."""
    seen: dict[str, str] = {}
    pages = [s for s in steps if s.node.kind == "page"]
    for step in pages:
        other = seen.setdefault(step.node.title, step.node.key)
        if other != step.node.key:
            raise UsageError(
                f"{shown_path(other)} and {shown_path(step.node.key)} have the same title "
                f"{shown(step.node.title)}: page titles must be unique in a space",
                hint="Set another title in the front matter of one of them.",
            )
    others = {r.title: r.id for r in remote.values() if r.id not in claimed}
    for step in pages:
        pid = others.get(step.node.title)
        if pid is not None and step.action in ("create", "update"):
            raise UsageError(
                f"{shown_path(step.node.key)}: space {shown(space)} already has a page titled "
                f"{shown(step.node.title)} (page {pid}) that this folder does not push",
                hint="Set another title in its front matter, or `id: " + pid + "` to push "
                "to that page.",
            )


def _decide(step: Step, local_changed: bool, force: bool) -> None:
    assert step.remote is not None
    if step.reason == "place":
        return  # already a conflict: moved both here and in Confluence
    remote_changed = step.base_version is None or step.remote.version != step.base_version
    if not local_changed:
        step.action = "kept" if remote_changed else "unchanged"
    elif not remote_changed:
        step.action = "update"
    elif force:
        step.action = "update"
        step.forced = True
    else:
        step.action = "conflict"


def _exported_unchanged(
    exported: export_state.ExportState, page_id: str, name: str, digest: str
) -> bool:
    """An attachment ``ctk export`` wrote (or a push recorded there) that is still as it was:
    the file's SHA-256 is the one recorded."""
    for entry in exported.attachments.values():
        if str(entry.get("page_id")) == page_id and entry.get("title") == name:
            return bool(entry.get("hash")) and entry.get("hash") == digest
    return False
