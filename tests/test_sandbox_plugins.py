"""Plugins teach the sandbox their endpoints through the ``ctk_sandbox_routes`` hook."""

from __future__ import annotations

from ctk_core import registry

TASKS_PLUGIN = """
from ctk_core import hookimpl
from ctk_core.sandbox.server import HttpError, json_response, paginate


@hookimpl
def ctk_sandbox_routes(router):
    @router.route("GET", "/wiki/api/v2/tasks")
    def tasks(req):
        items = [{"id": str(i), "status": "incomplete"} for i in range(30)]
        return paginate(req, items)

    @router.route("GET", "/wiki/api/v2/tasks/{id}")
    def task(req, id):
        if id != "1":
            raise HttpError(404, "no such task")
        return json_response({"id": id, "user": req.user})
"""

BROKEN_PLUGIN = """
from ctk_core import hookimpl


@hookimpl
def ctk_sandbox_routes(router):
    raise RuntimeError("this plugin cannot add its routes")
"""


def test_plugin_routes_are_served(plugins, confluence_sandbox_factory, capfd):
    plugins.install("tasks", TASKS_PLUGIN)
    plugins.install("broken", BROKEN_PLUGIN)
    registry.load_catalog(reload=True)
    sandbox = confluence_sandbox_factory()
    with sandbox.session() as session:
        listed = session.get(f"{sandbox.url}/wiki/api/v2/tasks", params={"limit": 20})
        assert listed.status_code == 200
        assert len(listed.json()["results"]) == 20
        assert listed.json()["_links"]["next"].startswith("/wiki/api/v2/tasks?")
        one = session.get(f"{sandbox.gateway_url}/wiki/api/v2/tasks/1").json()
        assert one == {"id": "1", "user": sandbox.state.current_user}
        missing = session.get(f"{sandbox.url}/wiki/api/v2/tasks/2")
        assert missing.status_code == 404
        assert missing.json()["errors"][0]["title"] == "no such task"
    assert "cannot add its routes" in capfd.readouterr().err


def test_without_plugins_the_route_is_unknown(plugins, confluence_sandbox_factory):
    sandbox = confluence_sandbox_factory()
    with sandbox.session() as session:
        assert session.get(f"{sandbox.url}/wiki/api/v2/tasks").status_code == 404
