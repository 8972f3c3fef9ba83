"""Reading a folder of Markdown for ``ctk push``: the page tree it describes, each page's
storage body, and the files its pages attach.

The rules (docs/export-and-push.md):

- a directory's ``index.md`` (or ``README.md``) is the directory's page, the other ``.md``
  files beside it are its children; a directory without one is a Confluence folder;
- ``DIR/index.md`` itself, when there is one, is the page everything else goes under;
- front matter may set ``title``, ``labels`` and ``id``; without a title, the file's name
  (``getting-started.md`` -> "Getting started"; a directory's page: the directory's name);
- names starting with ``.`` (the state files) and ``<name>.assets`` folders are no pages; the
  files of ``<page>.assets/`` are attachments of that page, as ``ctk export`` lays them out, and
  so is any other file a page's Markdown links to or shows;
- nothing outside DIR is read: a symbolic link pointing outside DIR is refused, and a link in
  the Markdown to a file outside DIR stays as written.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from typing import Any
from urllib.parse import unquote

from ctk_core.errors import UsageError, shown_path
from ctk_core.mirror import frontmatter, fsio, layout, links, slugs

__all__ = ["INDEX_NAMES", "LocalNode", "LocalTree", "render", "scan"]

#: The names that make a file its directory's page, in order of preference.
INDEX_NAMES = ("index.md", "README.md", "readme.md")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


@dataclass
class LocalNode:
    """A page (``kind == "page"``, ``key`` its file) or a folder (``key`` its directory)."""

    key: str
    kind: str
    title: str
    parent: str | None
    meta: dict[str, Any] = field(default_factory=dict)
    body: str = ""
    file_hash: str = ""  # sha256 of the file's bytes
    storage: str = ""
    #: attachment name -> relative file
    assets: dict[str, str] = field(default_factory=dict)
    #: relative links that lead to no page or file of the folder (sent as written)
    broken_links: list[str] = field(default_factory=list)

    @property
    def labels(self) -> list[str] | None:
        """The front matter's labels (None: the file does not manage labels)."""
        return self.meta.get("labels") if "labels" in self.meta else None

    @property
    def page_id(self) -> str | None:
        value = self.meta.get("id")
        text = str(value).strip() if value is not None else ""
        return text if text.isdigit() else None

    @property
    def storage_hash(self) -> str:
        return hashlib.sha256(self.storage.encode("utf-8")).hexdigest()

    @property
    def content_hash(self) -> str:
        """What a push compares: the title and the converted storage."""
        return hashlib.sha256(f"{self.title}\0{self.storage}".encode()).hexdigest()


@dataclass
class LocalTree:
    root: Path
    nodes: dict[str, LocalNode]  # in tree order: a parent before its children

    def pages(self) -> list[LocalNode]:
        return [n for n in self.nodes.values() if n.kind == "page"]


def _humanize(name: str) -> str:
    text = re.sub(r"[-_]+", " ", name).strip() or name
    return text[:1].upper() + text[1:]


def _check_link(root: Path, path: Path, rel: str) -> bool:
    """For a symbolic link: True when it points inside DIR; UsageError when it points out."""
    if fsio.within(root, path):
        return True
    raise UsageError(
        f"refusing {shown_path(rel)}: it is a symbolic link to "
        f"{shown_path(os.path.realpath(path))}, "
        "outside the folder pushed",
        hint="ctk push reads only files inside DIR; copy the file in instead.",
    )


def _labels(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [v for v in re.split(r"[,\s]+", value) if v]
    if not isinstance(value, list) or not all(
        isinstance(v, (str, int)) and not isinstance(v, bool) for v in value
    ):
        raise UsageError(f"{shown_path(where)}: front matter labels must be a list of names")
    return sorted({str(v).strip().lower() for v in value if str(v).strip()})


def _read_page(root: Path, rel: str) -> tuple[dict[str, Any], str, str]:
    try:
        data = (root / rel).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {shown_path(rel)}: {exc.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{shown_path(rel)} is not UTF-8 text") from None
    meta, body = frontmatter.parse(text, where=rel)
    if "labels" in meta:
        meta["labels"] = _labels(meta["labels"], rel)
    title = meta.get("title")
    if title is not None and (not isinstance(title, (str, int, float)) or not str(title).strip()):
        raise UsageError(f"{shown_path(rel)}: front matter title must be a non-empty text")
    return meta, body, hashlib.sha256(data).hexdigest()


def scan(folder: str | Path) -> LocalTree:
    """Read DIR into its page tree (no conversion yet: see :func:`render`)."""
    root = Path(folder)
    if not root.is_dir():
        raise UsageError(f"{shown_path(folder)} is not a folder")
    nodes: dict[str, LocalNode] = {}

    def add_page(rel: str, parent: str | None, default_title: str) -> str:
        meta, body, digest = _read_page(root, rel)
        title = str(meta.get("title")).strip() if meta.get("title") is not None else default_title
        nodes[rel] = LocalNode(rel, "page", title, parent, meta, body, digest)
        return rel

    def walk(rel_dir: str, parent: str | None) -> bool:
        here = root / rel_dir if rel_dir else root
        try:
            entries = sorted(os.scandir(here), key=lambda e: e.name)
        except OSError as exc:
            raise UsageError(f"cannot read the folder {shown_path(here)}: {exc.strerror}") from None
        files: list[str] = []
        dirs: list[str] = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            rel = posixpath.join(rel_dir, entry.name) if rel_dir else entry.name
            if entry.is_symlink() and not _check_link(root, Path(entry.path), rel):
                continue
            if entry.is_dir():
                if not entry.is_symlink() and not entry.name.endswith(".assets"):
                    dirs.append(entry.name)
            elif entry.is_file() and entry.name.lower().endswith(".md"):
                files.append(entry.name)
        index = next((n for n in INDEX_NAMES if n in files), None)
        own: str | None = parent
        name = posixpath.basename(rel_dir) if rel_dir else root.resolve().name
        folder_node: LocalNode | None = None
        if index is not None:
            own = add_page(
                posixpath.join(rel_dir, index) if rel_dir else index, parent, _humanize(name)
            )
        elif rel_dir:
            folder_node = LocalNode(rel_dir, "folder", _humanize(name), parent)
            nodes[rel_dir] = folder_node
            own = rel_dir
        found = index is not None
        for f in files:
            if f == index:
                continue
            add_page(posixpath.join(rel_dir, f) if rel_dir else f, own, _humanize(f[:-3]))
            found = True
        for d in dirs:
            found = walk(posixpath.join(rel_dir, d) if rel_dir else d, own) or found
        if folder_node is not None and not found:
            del nodes[folder_node.key]  # a folder with no page in it is no folder of the tree
        return found

    walk("", None)
    return LocalTree(root, nodes)


def _inside_file(root: Path, rel: str) -> bool:
    """Whether ``rel`` names a regular file inside DIR that may be uploaded (symbolic links
    followed only when they stay inside; one pointing out is refused). Hidden files and
    folders (``.git/config``, ``.env``, the ``.ctk-*`` state files) never are, nor a path
    with a backslash or a Windows drive."""
    parts = rel.split("/")
    if "\\" in rel or PureWindowsPath(rel).anchor or any(not p or p.startswith(".") for p in parts):
        return False
    path = root / rel
    try:
        inside = fsio.within(root, fsio.inside(root, rel))
    except UsageError:  # through a symbolic link to a folder outside DIR
        inside = False
    if not inside:
        if os.path.lexists(path):
            _check_link(root, path, rel)
        return False
    return path.is_file()


def _assets_of(tree: LocalTree, node: LocalNode, names: dict[str, str]) -> dict[str, str]:
    """The files of ``<page>.assets/``: attachment name -> file."""
    out: dict[str, str] = {}
    rel_dir = layout.assets_dir(node.key)
    here = tree.root / rel_dir
    if not here.is_dir() or here.is_symlink():
        return out
    for entry in sorted(os.scandir(here), key=lambda e: e.name):
        rel = f"{rel_dir}/{entry.name}"
        if entry.name.startswith(".") or not _inside_file(tree.root, rel):
            continue
        out[names.get(rel) or entry.name] = rel
    return out


def render(tree: LocalTree, attachment_names: dict[str, str] | None = None) -> None:
    """Convert every page to storage, its relative links made Confluence targets again, and
    collect its attachments. ``attachment_names`` maps files to the names they had in Confluence
    (from an export's state), so a file exported as ``diagram-one.png`` goes back as
    ``Diagram one.png``."""
    from ctk_core.convert import dialect, markdown_to_storage

    names = attachment_names or {}
    index = links.LinkIndex(space="", site="")
    for node in tree.pages():
        index.pages[node.key] = (node.title, node.key)
        node.assets = _assets_of(tree, node, names)
        for name, file in node.assets.items():
            index.attachments[(node.key, name)] = file
    index.reindex()
    for node in tree.pages():
        here = node.key
        node.broken_links = []

        def target(dest: str, node: LocalNode = node, here: str = here) -> str | None:
            found = links.target_of(dest, here, index)
            if found is not None or not dest or dest.startswith(("#", "/")):
                return found
            if _SCHEME.match(dest):
                return None
            rest, hash_, anchor = dest.partition("#")
            raw, q, query = rest.partition("?")
            rel = posixpath.normpath(posixpath.join(posixpath.dirname(here), unquote(raw)))
            if rel.lower().endswith(".md") or not _inside_file(tree.root, rel):
                if not rel.startswith("../") and rel != "..":  # outside DIR: as documented
                    node.broken_links.append(dest)
                return None
            name = next((n for n, f in node.assets.items() if f == rel), None)
            if name is None:
                name = names.get(rel) or posixpath.basename(rel)
                if name in node.assets:  # another file of this page has that name
                    name = slugs.file_name(name, node.assets)
                node.assets[name] = rel
            url = dialect.build_url(dialect.ATTACHMENT, dialect.encode(name, False))
            return url + q + query + hash_ + anchor

        markdown = links.map_destinations(node.body, target)
        node.storage = str(markdown_to_storage(markdown)) if markdown.strip() else ""
