"""Lookups (404/400 on bad ids) and the page/folder hierarchy of a space."""

from __future__ import annotations

from typing import Any

from ctk_core.sandbox.responses import HttpError
from ctk_core.sandbox.state import State

#: Statuses that are part of the visible tree (children, descendants, default listings).
LISTED = ("current", "archived")


def check_id(value: str, what: str = "id") -> str:
    if not value.isdigit():
        raise HttpError(400, f"Invalid {what}: {value!r} is not a valid ID.")
    return value


def _lookup(records: dict[str, dict[str, Any]], record_id: str, what: str) -> dict[str, Any]:
    """The record with this id: 400 when the id is not numeric, 404 when there is none."""
    check_id(record_id)
    record = records.get(record_id)
    if record is None:
        raise HttpError(404, f"{what} {record_id} not found or not visible to you.")
    return record


def get_space(state: State, space_id: str) -> dict[str, Any]:
    return _lookup(state.spaces, space_id, "Space")


def get_page(state: State, page_id: str) -> dict[str, Any]:
    return _lookup(state.pages, page_id, "Page")


def get_folder(state: State, folder_id: str) -> dict[str, Any]:
    return _lookup(state.folders, folder_id, "Folder")


def get_node(state: State, node_id: str) -> dict[str, Any] | None:
    """A page or a folder (the two kinds of tree node)."""
    return state.pages.get(node_id) or state.folders.get(node_id)


def listed_children(state: State, parent_id: str) -> list[dict[str, Any]]:
    return [c for c in state.children_of(parent_id) if c["status"] in LISTED]


def descendants(state: State, node_id: str, max_depth: int) -> list[tuple[dict[str, Any], int]]:
    """(node, depth) pairs in tree order (depth 1 = direct child), down to ``max_depth``."""
    out: list[tuple[dict[str, Any], int]] = []

    def walk(parent: str, depth: int) -> None:
        if depth > max_depth:
            return
        for child in listed_children(state, parent):
            out.append((child, depth))
            walk(child["id"], depth + 1)

    walk(node_id, 1)
    return out


def ancestors(state: State, node: dict[str, Any]) -> list[dict[str, Any]]:
    """The chain of pages/folders above a node, top-most first."""
    chain: list[dict[str, Any]] = []
    seen = {node["id"]}
    parent_id = node.get("parentId")
    while parent_id and parent_id not in seen:
        parent = get_node(state, parent_id)
        if parent is None:
            break
        chain.append(parent)
        seen.add(parent_id)
        parent_id = parent.get("parentId")
    chain.reverse()
    return chain


def is_within(state: State, node_id: str, ancestor_id: str) -> bool:
    """Whether ``node_id`` is ``ancestor_id`` or lies below it."""
    node = get_node(state, node_id)
    if node is None:
        return False
    return node_id == ancestor_id or any(a["id"] == ancestor_id for a in ancestors(state, node))


def title_taken(
    state: State, space_id: str, title: str, exclude_id: str | None = None
) -> dict[str, Any] | None:
    """The live page of this space with this title, other than ``exclude_id``."""
    for page in state.pages.values():
        if (
            page["spaceId"] == space_id
            and page["title"] == title
            and page["id"] != exclude_id
            and page["status"] in LISTED
        ):
            return page
    return None


def duplicate_title_error(state: State, space_id: str, title: str) -> HttpError:
    key = state.spaces[space_id]["key"]
    return HttpError(
        400,
        "A page with this title already exists: A page already exists with "
        f"the title {title} in the space with key {key}",
    )


def renumber(
    state: State, parent_id: str | None, space_id: str, ordered: list[dict[str, Any]]
) -> None:
    """Give the children of a parent consecutive positions in the given order."""
    for index, node in enumerate(ordered):
        node["position"] = index + 1
        node["parentId"] = parent_id
        node["parentType"] = state.parent_type(parent_id)
        node["spaceId"] = space_id


def detach(state: State, node: dict[str, Any]) -> None:
    """Before trashing a node: its children move up to its parent, as Confluence does."""
    parent_id = node.get("parentId")
    kids = state.children_of(node["id"])
    if not kids:
        return
    siblings = (
        [c for c in state.children_of(parent_id) if c["id"] != node["id"]] if parent_id else []
    )
    renumber(state, parent_id, node["spaceId"], siblings + kids)
