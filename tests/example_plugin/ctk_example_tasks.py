"""ctk-example-tasks: a complete third-party ctk plugin (Confluence tasks, the v2 /tasks API).

It adds ``ctk tasks list|get|complete`` and the MCP tool ``manage_tasks`` from one declaration,
and teaches the offline sandbox the three endpoints it uses, so its tests run with no account.
docs/plugins.md walks through it; tests/test_plugin_example.py installs it through a real entry
point and tests it through both front ends.

Only ``ctk_core`` is imported at the top: ``ctk --help`` loads every plugin module.
"""

from __future__ import annotations

import re
from typing import Any

from ctk_core import Context, NotFound, Operation, Param, Resource, hookimpl

_TAG = re.compile(r"<[^>]+>")


def flatten_task(raw: dict[str, Any]) -> dict[str, Any]:
    storage = ((raw.get("body") or {}).get("storage") or {}).get("value") or ""
    return {
        "id": raw.get("id"),
        "status": raw.get("status"),
        "text": " ".join(_TAG.sub(" ", storage).split()),
        "page_id": raw.get("pageId"),
        "space_id": raw.get("spaceId"),
        "assigned_to": raw.get("assignedTo"),
        "due_at": raw.get("dueAt"),
    }


def list_tasks(ctx: Context, status=None, space=None, limit=25, cursor=None):
    params: dict[str, Any] = {"body-format": "storage"}
    if status:
        params["status"] = status
    if space:
        params["space-id"] = ctx.space_id(space)  # accepts a key or an id
    page = ctx.client.page("/api/v2/tasks", params=params, limit=limit, cursor=cursor)
    return {
        "results": [flatten_task(t) for t in page["results"]],
        "next_cursor": page["next_cursor"],
    }


def get_task(ctx: Context, task_id):
    raw = ctx.client.get(f"/api/v2/tasks/{task_id}", params={"body-format": "storage"})
    return flatten_task(raw)


def complete_task(ctx: Context, task_id):
    current = ctx.client.get(f"/api/v2/tasks/{task_id}")
    if current is None:
        raise NotFound(f"No task {task_id}.")
    body = {
        "id": task_id,
        "status": "complete",
        "spaceId": current.get("spaceId"),
        "pageId": current.get("pageId"),
        "localId": current.get("localId"),
    }
    raw = ctx.client.put(f"/api/v2/tasks/{task_id}", json=body, params={"body-format": "storage"})
    return flatten_task(raw)


TASKS = Resource(
    name="tasks",
    summary="Confluence tasks (checkbox items on pages): list, show, complete.",
    operations=[
        Operation(
            "list",
            "List tasks, optionally by status or space.",
            list_tasks,
            params=[
                Param(
                    "status", "str", "complete or incomplete.", choices=("complete", "incomplete")
                ),
                Param("space", "str", "Space key or id."),
            ],
            paged=True,
            columns=("id", "status", "text", "page_id"),
        ),
        Operation(
            "get",
            "Show one task.",
            get_task,
            params=[Param("task_id", "str", "Task id.", required=True, positional=True)],
        ),
        Operation(
            "complete",
            "Mark a task complete.",
            complete_task,
            write=True,
            idempotent=True,
            params=[Param("task_id", "str", "Task id.", required=True, positional=True)],
        ),
    ],
)


@hookimpl
def ctk_register_resources(register):
    register(TASKS)


# -- the sandbox side: only imported when a sandbox starts -----------------------------------


def _tasks(state: Any) -> dict[str, dict[str, Any]]:
    """This plugin's data in the sandbox state (created from the demo pages on first use)."""
    tasks = state.meta.get("example_tasks")
    if tasks is None:
        tasks = {}
        pages = [p for p in state.pages.values() if p.get("status") == "current"][:3]
        for n, page in enumerate(pages, start=1):
            task_id = str(9000 + n)
            tasks[task_id] = {
                "id": task_id,
                "localId": str(n),
                "spaceId": page["spaceId"],
                "pageId": page["id"],
                "status": "complete" if n == 1 else "incomplete",
                "body": {
                    "storage": {
                        "representation": "storage",
                        "value": f"<p>Review <em>{page['title']}</em></p>",
                    }
                },
                "createdBy": state.current_user,
                "assignedTo": state.current_user,
                "createdAt": "2024-01-08T09:00:00.000Z",
                "dueAt": None,
            }
        state.meta["example_tasks"] = tasks
    return tasks


@hookimpl
def ctk_sandbox_routes(router):
    from ctk_core.sandbox.server import HttpError, json_response, paginate

    @router.route("GET", "/wiki/api/v2/tasks")
    def list_route(req):
        items = list(_tasks(req.state).values())
        status = req.arg("status")
        if status is not None:
            if status not in ("complete", "incomplete"):
                raise HttpError(400, f"Invalid status {status!r}.")
            items = [t for t in items if t["status"] == status]
        spaces = req.args("space-id")
        if spaces:
            items = [t for t in items if t["spaceId"] in spaces]
        return paginate(req, items)

    @router.route("GET", "/wiki/api/v2/tasks/{id}")
    def get_route(req, id):
        task = _tasks(req.state).get(id)
        if task is None:
            raise HttpError(404, f"No task with id {id}.")
        return json_response(task)

    @router.route("PUT", "/wiki/api/v2/tasks/{id}")
    def put_route(req, id):
        task = _tasks(req.state).get(id)
        if task is None:
            raise HttpError(404, f"No task with id {id}.")
        status = req.json_object().get("status")
        if status not in ("complete", "incomplete"):
            raise HttpError(400, "status must be complete or incomplete.")
        task["status"] = status
        return json_response(task)
