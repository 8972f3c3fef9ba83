"""The sandbox keeps every write: its state lives in one SQLite database that every process
shares (ctk_core/sandbox/store.py, state.py).

The first tests run real, concurrent ``ctk --sandbox`` processes on one persistent sandbox
(a private XDG_DATA_HOME): parallel writes all survive, parallel creates get distinct ids, and a
running ``ctk --sandbox mcp`` sees what a CLI process wrote. Then the import of the old JSON
state, and the transaction rules, through two ``State`` objects on one file.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from ctk_core.sandbox.seed import seed
from ctk_core.sandbox.state import State

CODE = "import sys; from ctk_core.cli import main; sys.exit(main(prog_name='ctk'))"
TIMEOUT = 120


@pytest.fixture
def site_env(tmp_path) -> dict[str, str]:
    """The environment of a ``ctk --sandbox`` process with its own persistent sandbox."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CTK_", "CONFLUENCE_"))}
    env.update(
        {
            "XDG_DATA_HOME": str(tmp_path / "data"),
            "CTK_CONFIG_DIR": str(tmp_path / "config"),
            "CTK_ENABLE_WRITES": "true",
            "CTK_RATE_LIMIT": "off",
        }
    )
    return env


def database(env: dict[str, str]) -> Path:
    return Path(env["XDG_DATA_HOME"]) / "ctk" / "sandbox.db"


def spawn(env: dict[str, str], *args: str, **popen: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CODE, "--sandbox", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def ctk(env: dict[str, str], *args: str) -> Any:
    """Run one ``ctk --sandbox --json ...`` process; its parsed output (it must succeed)."""
    proc = spawn(env, "--json", *args)
    out, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 0, (args, out, err)
    return json.loads(out)


def together(env: dict[str, str], commands: list[list[str]]) -> list[Any]:
    """Start every command at once, then wait for all; their parsed outputs, in order."""
    procs = [spawn(env, "--json", *argv) for argv in commands]
    results = []
    for argv, proc in zip(commands, procs, strict=True):
        out, err = proc.communicate(timeout=TIMEOUT)
        assert proc.returncode == 0, (argv, out, err)
        results.append(json.loads(out))
    return results


# ----------------------------------------------------------------- concurrent ctk processes


def test_parallel_label_adds_all_survive(site_env):
    home = ctk(site_env, "spaces", "get", "DEMO")["homepage_id"]
    before = {lb["name"] for lb in ctk(site_env, "labels", "list", home)["results"]}
    names = [f"parallel-{i}" for i in range(8)]
    results = together(site_env, [["labels", "add", home, name] for name in names])
    assert [r["added"] for r in results] == [[name] for name in names]
    after = {lb["name"] for lb in ctk(site_env, "labels", "list", home)["results"]}
    assert after == before | set(names)
    label_ids = {
        lb["id"] for lb in ctk(site_env, "labels", "list", home)["results"] if lb["name"] in names
    }
    assert len(label_ids) == 8


def test_parallel_page_creates_get_distinct_ids(site_env):
    titles = [f"Parallel {i}" for i in range(4)]
    created = together(
        site_env, [["pages", "create", "--space", "DEMO", "--title", t] for t in titles]
    )
    ids = [page["id"] for page in created]
    assert len(set(ids)) == 4
    for page_id, title in zip(ids, titles, strict=True):
        assert ctk(site_env, "pages", "get", page_id)["title"] == title


def _rpc(proc: subprocess.Popen[str], message: dict[str, object]) -> None:
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(message) + "\n")
    proc.stdin.flush()


def _answer(proc: subprocess.Popen[str], want_id: int) -> dict[str, Any]:
    assert proc.stdout is not None
    while True:
        line = proc.stdout.readline()
        assert line, "the MCP server closed stdout"
        data = json.loads(line)
        if data.get("id") == want_id:
            return data


def test_a_running_mcp_server_sees_what_the_cli_wrote(site_env):
    server = spawn(site_env, "mcp", stdin=subprocess.PIPE)
    calls = iter(range(2, 100))

    def call(arguments: dict[str, Any]) -> Any:
        number = next(calls)
        _rpc(
            server,
            {
                "jsonrpc": "2.0",
                "id": number,
                "method": "tools/call",
                "params": {"name": "manage_pages", "arguments": arguments},
            },
        )
        result = _answer(server, number)["result"]
        assert isinstance(result, dict)
        assert not result.get("isError"), result
        return json.loads(result["content"][0]["text"])

    try:
        _rpc(
            server,
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "store-test", "version": "0"},
                },
            },
        )
        assert "result" in _answer(server, 1)
        _rpc(server, {"jsonrpc": "2.0", "method": "notifications/initialized"})
        first = call({"action": "create", "space_id": "DEMO", "title": "From MCP, first"})

        from_cli = ctk(site_env, "pages", "create", "--space", "DEMO", "--title", "From the CLI")

        seen = call({"action": "get", "page_id": from_cli["id"]})
        assert seen["title"] == "From the CLI"
        second = call({"action": "create", "space_id": "DEMO", "title": "From MCP, second"})
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(timeout=TIMEOUT)
    ids = [first["id"], from_cli["id"], second["id"]]
    assert len(set(ids)) == 3
    titles = {ctk(site_env, "pages", "get", i)["title"] for i in ids}
    assert titles == {"From MCP, first", "From the CLI", "From MCP, second"}


# ----------------------------------------------------------------- the old JSON state


def _old_state(folder: Path) -> tuple[dict[str, Any], str, str, bytes]:
    """An old-format ``sandbox.json`` (and its blobs folder) in ``folder``: the demo site plus
    one page; returns (the data, the page id, an attachment id, its bytes)."""
    old = State()
    seed(old, "demo")
    space = old.space_by_key("DEMO")
    assert space is not None
    page = old.create_page(space["id"], "Kept from JSON", "<p>old</p>")
    data = old.to_dict()
    folder.mkdir(parents=True, mode=0o700)
    (folder / "sandbox.json").write_text(json.dumps(data), encoding="utf-8")
    blobs = folder / "sandbox.json.blobs"
    blobs.mkdir(mode=0o700)
    attachment = next(iter(old.attachments.values()))
    content = old.read_blob(attachment["blob"])
    (blobs / attachment["blob"]).write_bytes(content)
    return data, page["id"], attachment["id"], content


def test_an_old_json_state_is_imported_once(site_env, tmp_path):
    folder = Path(site_env["XDG_DATA_HOME"]) / "ctk"
    data, page_id, attachment_id, content = _old_state(folder)
    # Four processes start on it at once: one imports, the others find it imported.
    firsts = together(site_env, [["pages", "get", page_id]] * 4)
    assert {page["title"] for page in firsts} == {"Kept from JSON"}
    assert not (folder / "sandbox.json").exists()
    assert (folder / "sandbox.json.imported").is_file()
    assert not (folder / "sandbox.json.blobs").exists()
    with closing(sqlite3.connect(database(site_env))) as db:
        assert db.execute("SELECT cloud_id FROM site").fetchone() == (data["cloudId"],)
        (pages,) = db.execute("SELECT count(*) FROM records WHERE coll = 'pages'").fetchone()
    assert pages == len(data["pages"])

    out = tmp_path / "downloaded"
    ctk(site_env, "attachments", "download", attachment_id, "--output", str(out))
    assert out.read_bytes() == content  # its bytes came along from sandbox.json.blobs/

    # A JSON state that appears later is not imported: the database already holds a site.
    newer = dict(data)
    newer["pages"] = {}
    (folder / "sandbox.json").write_text(json.dumps(newer), encoding="utf-8")
    assert ctk(site_env, "pages", "get", page_id)["title"] == "Kept from JSON"
    assert (folder / "sandbox.json").exists()  # left alone
    created = ctk(site_env, "pages", "create", "--space", "DEMO", "--title", "After import")
    assert int(created["id"]) >= int(data["nextId"])


# ----------------------------------------------------------------- transactions


def test_two_states_on_one_file_share_every_change(tmp_path):
    path = tmp_path / "site.db"
    one, two = State(path), State(path)
    one.initialize(lambda state: seed(state, "demo"))
    assert not two.initialize(lambda state: seed(state, "empty"))  # already filled
    two.load()
    assert two.space_by_key("DEMO") is not None
    space_id = two.space_by_key("DEMO")["id"]

    with one.transaction():
        page = one.create_page(space_id, "Written by one")
    with two.transaction(write=False):
        assert two.pages[page["id"]]["title"] == "Written by one"
    with two.transaction():
        two.update_page(two.pages[page["id"]], title="Renamed by two")
        del two.comments[next(iter(two.comments))]
    with one.transaction(write=False):
        assert one.pages[page["id"]]["title"] == "Renamed by two"
        assert one.pages[page["id"]]["version"]["number"] == 2
        assert len(one.comments) == len(two.comments)

    ids = [one.new_id(), two.new_id(), one.new_id(), two.new_id()]
    assert len(set(ids)) == 4
    assert sorted(ids, key=int) == ids

    one.refill(lambda state: seed(state, "empty"))
    two.load()
    assert two.spaces == {}
    assert two.users.keys() == one.users.keys()
    one.close()
    two.close()


def test_a_failed_write_changes_nothing(tmp_path):
    path = tmp_path / "site.db"
    state = State(path)
    state.initialize(lambda s: seed(s, "demo"))
    space_id = state.space_by_key("DEMO")["id"]
    page_id = next(iter(state.pages))
    title = state.pages[page_id]["title"]
    generation = state.generation

    state.begin(write=True)
    state.pages[page_id]["title"] = "Not kept"
    doomed = state.create_page(space_id, "Not created")
    state.rollback()

    assert state.pages[page_id]["title"] == title
    assert doomed["id"] not in state.pages
    assert state.generation == generation
    other = State(path)
    assert other.pages[page_id]["title"] == title
    assert doomed["id"] not in other.pages
    # The id went back too: the next page takes it.
    with state.transaction():
        again = state.create_page(space_id, "Created")
    assert again["id"] == doomed["id"]


def test_changes_made_outside_a_request_are_kept_by_the_next_write(tmp_path):
    path = tmp_path / "site.db"
    state = State(path)
    state.initialize(lambda s: seed(s, "demo"))
    space_id = state.space_by_key("DEMO")["id"]
    arranged = state.create_page(space_id, "Arranged by a test")  # no request: not written yet
    state.begin(write=True)
    state.rollback()  # a request that fails keeps what was there before it
    assert arranged["id"] in State(path).pages


def test_a_database_is_private(tmp_path):
    folder = tmp_path / "deep" / "ctk"
    state = State(folder / "site.db")
    state.initialize(lambda s: seed(s, "demo"))
    state.store_blob(b"bytes")
    assert folder.stat().st_mode & 0o777 == 0o700
    for item in folder.rglob("*"):
        assert item.stat().st_mode & 0o777 == (0o700 if item.is_dir() else 0o600), item
    state.close()


def test_not_a_database(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("just some text, long enough to be read as a header" * 4)
    with pytest.raises(ValueError, match="not a sandbox database"):
        State(path)
