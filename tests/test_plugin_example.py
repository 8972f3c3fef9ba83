"""The third-party example plugin (tests/example_plugin), installed through a real entry point.

Its distribution metadata and entry points come from its own pyproject.toml, written to a
``.dist-info`` folder on sys.path: ``importlib.metadata`` finds it exactly as it finds a
pip-installed plugin. Then both front ends are driven against a sandbox that serves the plugin's
own routes (``ctk_sandbox_routes``).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

import pytest

from ctk_core._version import DISTRIBUTION
from ctk_core.policy import WRITES_DISABLED_MESSAGE
from ctk_core.registry import load_catalog
from ctk_core.testing import running_sandbox

EXAMPLE = Path(__file__).resolve().parent / "example_plugin"


def _project() -> dict:
    with (EXAMPLE / "pyproject.toml").open("rb") as fh:
        return tomllib.load(fh)["project"]


def _pyproject() -> tuple[str, str, dict[str, str]]:
    project = _project()
    return project["name"], project["version"], project["entry-points"]["ctk"]


def test_example_plugin_depends_on_the_ctk_confluence_distribution():
    # "ctk" on the package index is an unrelated project: a plugin must name ours.
    names = [re.split(r"[\s<>=!~;\[]", req, maxsplit=1)[0] for req in _project()["dependencies"]]
    assert names == [DISTRIBUTION] == ["ctk-confluence"]


@pytest.fixture
def example_plugin(plugins):
    dist, version, eps = _pyproject()
    for name, module in eps.items():
        plugins.install(name, None, module=module, dist=dist, version=version, package_dir=EXAMPLE)
    load_catalog(reload=True)
    return plugins


@pytest.fixture
def confluence_sandbox(example_plugin):
    """The sandbox, started after the plugin is installed so that it serves the plugin's routes.

    (A plugin author's package is installed before pytest starts; this override is only needed
    because this test installs the plugin on the fly.)
    """
    with running_sandbox() as handle:
        yield handle


def test_registered_through_its_entry_point(ctk_cli):
    rows = {r["name"]: r for r in ctk_cli("--json", "plugins").json()["results"]}
    assert rows["tasks"]["distribution"] == "ctk-example-tasks"
    assert rows["tasks"]["version"] == "0.1.0"
    assert rows["tasks"]["status"] == "loaded"
    assert rows["tasks"]["tools"] == ["manage_tasks"]
    assert "tasks" in ctk_cli("--help").stdout


def test_list_filter_and_page(ctk_cli, confluence_sandbox):
    everything = ctk_cli("--json", "tasks", "list")
    assert everything.exit_code == 0, everything
    tasks = everything.json()["results"]
    assert len(tasks) == 3
    assert all(t["text"].startswith("Review ") for t in tasks)
    open_ = ctk_cli("--json", "tasks", "list", "--status", "incomplete").json()["results"]
    assert [t["id"] for t in open_] == [t["id"] for t in tasks if t["status"] == "incomplete"]
    demo_id = confluence_sandbox.space_id("DEMO")
    in_demo = ctk_cli("--json", "tasks", "list", "--space", "DEMO").json()["results"]
    assert in_demo == [t for t in tasks if t["space_id"] == demo_id]
    paged = ctk_cli("--json", "tasks", "list", "--limit", "1", "--all").json()
    assert paged == {"results": tasks, "next_cursor": None}
    table = ctk_cli("tasks", "list")
    assert table.stdout.splitlines()[0].split() == ["id", "status", "text", "page_id"]


def test_get_and_bad_inputs(ctk_cli):
    first = ctk_cli("--json", "tasks", "list").json()["results"][0]
    got = ctk_cli("--json", "tasks", "get", first["id"])
    assert got.exit_code == 0
    assert got.json() == first
    assert ctk_cli("tasks", "get", "424242").exit_code == 5
    assert ctk_cli("tasks", "get").exit_code == 2
    assert ctk_cli("tasks", "list", "--status", "done").exit_code == 2


def test_complete_follows_the_policy(ctk_cli):
    task = next(
        t
        for t in ctk_cli("--json", "tasks", "list").json()["results"]
        if t["status"] == "incomplete"
    )
    refused = ctk_cli("tasks", "complete", task["id"])
    assert refused.exit_code == 4
    assert refused.stderr == f"Error: {WRITES_DISABLED_MESSAGE}\n"
    done = ctk_cli("--json", "tasks", "complete", task["id"], env={"CTK_ENABLE_WRITES": "true"})
    assert done.exit_code == 0, done
    assert done.json()["status"] == "complete"
    assert ctk_cli("--json", "tasks", "get", task["id"]).json()["status"] == "complete"


def test_in_a_real_process(ctk_cli, example_plugin):
    result = ctk_cli(
        "--json", "tasks", "list", subprocess=True, env={"PYTHONPATH": example_plugin.pythonpath}
    )
    assert result.exit_code == 0, result
    assert len(result.json()["results"]) == 3


def test_through_mcp(ctk_mcp):
    session = ctk_mcp()
    assert "manage_tasks" in session.tool_names()
    tool = session.tool("manage_tasks")
    assert tool.input_schema["properties"]["action"]["enum"] == ["list", "get"]
    listed = session.call_json("manage_tasks", {"action": "list", "status": "incomplete"})
    assert len(listed["results"]) == 2
    refused = session.error(
        "manage_tasks", {"action": "complete", "task_id": listed["results"][0]["id"]}
    )
    assert WRITES_DISABLED_MESSAGE in refused
    writer = ctk_mcp({"CTK_ENABLE_WRITES": "true"})
    done = writer.call_json(
        "manage_tasks", {"action": "complete", "task_id": listed["results"][0]["id"]}
    )
    assert done["status"] == "complete"
