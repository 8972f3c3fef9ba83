"""Carrying out a push plan (:mod:`ctk_core.mirror.push`).

Every write goes through the plugins' own operations by :func:`ctk_core.dispatch.invoke`, under
the policy of the invocation: ``pages`` create, update, move and delete, ``folders`` create,
``labels`` add, remove (and list, to learn a page's labels when no push recorded them),
``attachments`` upload. An update sends the version the plan expects (the one recorded + 1), so
a page changed in Confluence after the plan is Confluence's own 409: a conflict, not an
overwrite.

Resuming: each created or updated page and each created folder is recorded in
``.ctk-push.json`` (written atomically) right after Confluence answers, before its move, labels
or attachments, and the state is saved after every page or folder the push changed and on the
way out (Ctrl-C included); a rerun after an
interruption adopts a page it finds under the same title and parent instead of creating it
twice.

When DIR holds an export of the same site and space, the push also records in its
``.ctk-export.json`` what it left each page at (the file, its hash, the version, title, parent,
labels) and the attachments it uploaded from a page's ``.assets`` folder, so that the next
export knows those files as they are: no conflict, no second copy, nothing fetched again.
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

from ctk_core.errors import Conflict, shown
from ctk_core.mirror import layout, slugs
from ctk_core.mirror import state as export_state
from ctk_core.mirror.push import Plan, Step, broken_links, save_target
from ctk_core.policy import Policy
from ctk_core.words import CLI_WORDS, Words

__all__ = ["conflict_error", "needed_operations", "run_push"]


def needed_operations(plan: Plan, prune: bool = False) -> list[tuple[str, str]]:
    """(resource, operation) of every write the plan may send, to check the policy first."""
    ops: set[tuple[str, str]] = set()
    for step in plan.steps:
        if step.node.kind == "folder":
            if step.action == "create":
                ops.add(("folders", "create"))
            continue
        if step.action == "create":
            ops.add(("pages", "create"))
        elif step.action == "update":
            ops.add(("pages", "update"))
        if step.move:
            ops.add(("pages", "move"))
        if step.labels_change:
            ops.update({("labels", "add"), ("labels", "remove")})
        if step.uploads:
            ops.add(("attachments", "upload"))
    if prune and plan.deletions:
        ops.add(("pages", "delete"))
    return sorted(ops)


def run_push(
    ctx: Any,
    plan: Plan,
    policy: Policy,
    *,
    prune: bool = False,
    words: Words = CLI_WORDS,
) -> dict[str, Any]:
    """Carry out ``plan``; return the summary. Conflicts are pushed for no page and listed in
    ``conflicts``; the caller turns them into the exit code."""
    from ctk_core.registry import load_catalog

    catalog = load_catalog()
    for resource, op in needed_operations(plan, prune):
        res = catalog.resource(resource)
        policy.check(res, res.operation(op), words)
    # ctx.call runs each write the way its own tool does, under this policy and these words.
    ctx.policy, ctx.words = policy, words
    write = ctx.call
    root, target = plan.folder, plan.target
    ids: dict[str, str | None] = {s.node.key: s.page_id for s in plan.steps}
    counts = dict.fromkeys(
        ("created", "updated", "moved", "folders_created", "uploaded", "labelled", "deleted"), 0
    )
    work = [s for s in plan.steps if _has_work(s)]
    progress = ctx.progress
    progress.start("push:", total=len(work) + (len(plan.deletions) if prune else 0))
    try:
        for step in plan.steps:
            node = step.node
            parent = ids.get(node.parent) if node.parent is not None else plan.parent_id
            if node.kind == "folder":
                if step.action == "create":
                    progress.note(node.title)
                    made = write(
                        "folders",
                        "create",
                        space_id=plan.space_id,
                        title=node.title,
                        parent_id=parent or plan.homepage_id,
                    )
                    ids[node.key] = step.page_id = str(made["id"])
                    counts["folders_created"] += 1
                    progress.advance()
                if step.page_id:
                    target.folders[node.key] = {"id": step.page_id, "title": node.title}
                    if step.action == "create":  # made: recorded at once
                        save_target(root, target)
                continue
            if step.action == "conflict":
                continue  # nothing pushed, nothing recorded: the next push sees it again
            busy = _has_work(step)
            if busy:
                progress.note(node.title)
            entry = _push_page(write, plan, step, parent, counts)
            ids[node.key] = step.page_id
            if step.old_key and step.old_key in target.pages:
                del target.pages[step.old_key]
            target.pages[node.key] = entry
            if busy:  # a page left as it is is saved with the rest, on the way out
                save_target(root, target)
            _record_export(plan, step, entry, ids)
            _push_assets(write, root, plan, step, counts)
            if busy:
                progress.advance()
        if prune:
            for file, pid in sorted(plan.deletions, key=lambda d: -d[0].count("/")):
                write("pages", "delete", page_id=pid)
                target.pages.pop(file, None)
                if plan.exported is not None:
                    plan.exported.pages.pop(pid, None)
                counts["deleted"] += 1
                save_target(root, target)
                progress.advance()
    finally:
        save_target(root, target)
        if plan.exported is not None:
            export_state.save(root, plan.exported)
        progress.finish()
    return _summary(plan, counts, prune)


def _has_work(step: Step) -> bool:
    return (
        step.action in ("create", "update")
        or step.move
        or bool(step.uploads)
        or (step.node.kind == "page" and step.labels_change)
    )


def _push_page(
    write: Any, plan: Plan, step: Step, parent: str | None, counts: dict[str, int]
) -> dict[str, Any]:
    node = step.node
    target = plan.target
    old = target.pages.get(step.old_key or node.key) or {}
    entry: dict[str, Any] = {
        "id": step.page_id,
        "version": step.base_version,
        "hash": node.content_hash,
        "storage_hash": node.storage_hash,
        "title": node.title,
        "parent_id": step.record_parent if step.remote else parent,
    }
    # "kept" (changed in Confluence only) keeps the version last in step, so that a later
    # local change is a conflict rather than an overwrite.
    if step.action == "create":
        made = write(
            "pages",
            "create",
            space_id=plan.space_id,
            title=node.title,
            body=node.storage,
            content_format="storage",
            parent_id=parent or plan.homepage_id,
        )
        step.page_id = str(made["id"])
        entry.update(id=step.page_id, version=made.get("version"), parent_id=made.get("parent_id"))
        # Recorded at once: a push interrupted now does not make this page twice.
        _record(plan, step, dict(entry, labels=[]))
        counts["created"] += 1
    elif step.action == "update":
        assert step.remote is not None
        assert step.page_id is not None
        base = step.remote.version if step.forced else (step.base_version or step.remote.version)
        done = write(
            "pages",
            "update",
            page_id=step.page_id,
            title=node.title,
            body=node.storage,
            content_format="storage",
            version=base + 1,
        )
        entry["version"] = done.get("version")
        # Recorded at once: a move or labels failing now does not make this a false conflict.
        labels_now = step.labels_now if step.labels_now is not None else old.get("labels")
        _record(plan, step, dict(entry, labels=labels_now))
        counts["updated"] += 1
    elif step.action == "unchanged" and step.remote is not None:
        entry["version"] = step.remote.version
    if step.move and step.page_id is not None:
        in_step = step.action in ("create", "update") or (
            step.remote is not None and entry["version"] == step.remote.version
        )
        moved = write(
            "pages", "move", page_id=step.page_id, target_parent_id=parent or plan.homepage_id
        )
        if in_step:
            entry["version"] = moved.get("version")
        entry["parent_id"] = moved.get("parent_id") or parent
        counts["moved"] += 1
    labels = step.labels_now
    if step.action != "create" and labels is None and isinstance(old.get("labels"), list):
        labels = list(old["labels"])
    if node.labels is not None and step.page_id is not None and labels != node.labels:
        if labels is None:
            listed = write("labels", "list", page_id=step.page_id, limit=200)
            labels = sorted(str(r.get("name")) for r in listed.get("results") or [])
        add = [x for x in node.labels if x not in labels]
        remove = [x for x in labels if x not in node.labels]
        if add:
            write("labels", "add", page_id=step.page_id, label=add)
        if remove:
            write("labels", "remove", page_id=step.page_id, label=remove)
        if add or remove:
            counts["labelled"] += 1
        labels = list(node.labels)
    entry["labels"] = labels if labels is not None else old.get("labels")
    return entry


def _record(plan: Plan, step: Step, entry: dict[str, Any]) -> None:
    """Record the page's entry (under its file's new name when renamed) and save the state."""
    target = plan.target
    if step.old_key and step.old_key != step.node.key:
        target.pages.pop(step.old_key, None)
    target.pages[step.node.key] = entry
    save_target(plan.folder, target)


def _record_export(
    plan: Plan, step: Step, entry: dict[str, Any], ids: dict[str, str | None]
) -> None:
    """Record in the export state the page as this push left it: its file as it is now, at
    the version Confluence has (or, for a page changed in Confluence only, the version the file
    is in step with, so that the next export fetches the newer one). For the export of a page
    tree, only the pages of that tree: the export would take any other for a page deleted
    there."""
    st = plan.exported
    if st is None or step.page_id is None or entry.get("version") is None:
        return
    if st.root is not None:
        key: str | None = step.node.key
        while key is not None and ids.get(key) != st.root:
            key = plan.tree.nodes[key].parent if key in plan.tree.nodes else None
        if key is None:
            return
    node = step.node
    old = st.pages.get(step.page_id) or {}
    record: dict[str, Any] = {
        "version": entry.get("version"),
        "file": node.key,
        "title": node.title,
        "slug": _slug(node.key) or old.get("slug") or slugs.slugify(node.title),
        "parent_id": entry.get("parent_id"),
        "hash": node.file_hash,
    }
    if isinstance(entry.get("labels"), list):
        record["labels"] = list(entry["labels"])
    st.pages[step.page_id] = record


def _slug(file: str) -> str:
    """The name a page's file gives it among its siblings: ``a/b.md`` -> ``b``, ``a/index.md``
    -> ``a`` ('' for DIR's own index)."""
    folder, _sep, name = file.rpartition("/")
    stem = name[:-3] if name.lower().endswith(".md") else name
    if name in ("index.md", "README.md", "readme.md"):
        return folder.rpartition("/")[2]
    return stem


def _export_attachment(
    plan: Plan, pid: str, name: str, file: str, digest: str, made: dict[str, Any] | None
) -> None:
    """Record an attachment of the page's own ``.assets`` folder in the export state: one just
    uploaded (``made``, at its new version), or one as exported whose page's file moved."""
    st = plan.exported
    if st is None or posixpath.dirname(file) != layout.assets_dir(_page_file(plan, pid)):
        return
    key = next(
        (
            k
            for k, e in st.attachments.items()
            if str(e.get("page_id")) == pid and e.get("title") == name
        ),
        None,
    )
    if made is None:
        if key is not None and st.attachments[key].get("hash") == digest:
            st.attachments[key]["file"] = file
        return
    if made.get("version") is None:
        return
    key = key or str(made.get("id") or "")
    if key:
        st.attachments[key] = {
            "page_id": pid,
            "version": made.get("version"),
            "file": file,
            "title": name,
            "size": made.get("file_size"),
            "hash": digest,
        }


def _page_file(plan: Plan, pid: str) -> str:
    st = plan.exported
    return str(((st.pages.get(pid) if st else None) or {}).get("file") or "")


def _push_assets(write: Any, root: Path, plan: Plan, step: Step, counts: dict[str, int]) -> None:
    target = plan.target
    pid = step.page_id
    if pid is None:
        return
    for name, (file, digest) in step.unchanged_assets.items():
        target.attachments[f"{pid}/{name}"] = {"hash": digest, "file": file}
        _export_attachment(plan, pid, name, file, digest, None)
    for name, (file, digest) in step.uploads.items():
        made = write(
            "attachments", "upload", page_id=pid, file_path=str(root / file), filename=name
        )
        target.attachments[f"{pid}/{name}"] = {"hash": digest, "file": file}
        _export_attachment(plan, pid, name, file, digest, made if isinstance(made, dict) else {})
        counts["uploaded"] += 1
        save_target(root, target)


def _summary(plan: Plan, counts: dict[str, int], prune: bool) -> dict[str, Any]:
    conflicts = [
        {
            "file": s.node.key,
            "page_id": s.page_id,
            "title": s.node.title,
            "reason": s.reason,
            "pushed_version": s.base_version,
            "current_version": s.remote.version if s.remote else None,
        }
        for s in plan.page_steps("conflict")
    ]
    stale = plan.stale_deletions
    return {
        "folder": str(plan.folder),
        "space": plan.space,
        "pages": len(plan.page_steps()),
        **counts,
        "unchanged": len(plan.page_steps("unchanged")),
        "kept": [s.node.key for s in plan.page_steps("kept")],
        "conflicts": conflicts + (stale if prune else []),
        "not_deleted": []
        if prune
        else [f for f, _i in plan.deletions] + [c["file"] for c in stale],
        "exported_gone": [f for f, _i in plan.untracked],
        "broken_links": broken_links(plan.tree),
    }


def conflict_error(conflicts: list[dict[str, Any]]) -> Conflict:
    """The error of a push that refused pages changed both here and in Confluence."""
    first = conflicts[0]
    more = f" and {len(conflicts) - 1} more" if len(conflicts) > 1 else ""
    what = {
        "deleted": "deleted here, ",
        "place": "moved here and in Confluence, ",
    }.get(first.get("reason", ""), "")
    return Conflict(
        f"{len(conflicts)} page(s) changed both here and in Confluence since the last push, "
        f"not pushed: {first['file']} ({what}page {first['page_id']} {shown(first['title'])}, "
        f"now version {first['current_version']}, last pushed {first['pushed_version']}){more}. "
        "Nothing was pushed for these pages.",
        hint="To keep both: move the file out of DIR, export again to get the Confluence "
        "version (ctk pages diff shows what changed), merge your edits into it and push; or "
        "push with --force to overwrite Confluence.",
    )
