"""``--data FILE``: the sandbox keeps its state in a SQLite file, commits each change and comes
back with it after a restart (attachment bytes included). Concurrent processes sharing one file,
and the import of the old JSON format: tests/test_sandbox_store.py."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
from contextlib import closing

import requests

from ctk_core.sandbox.state import State

V2 = "/wiki/api/v2"
V1 = "/wiki/rest/api"


def stored(path, coll, key=None):
    """What the database file holds (read by a separate connection, as another process would)."""
    with closing(sqlite3.connect(path)) as db:
        if key is None:
            return {k for (k,) in db.execute("SELECT id FROM records WHERE coll = ?", (coll,))}
        row = db.execute("SELECT data FROM records WHERE coll = ? AND id = ?", (coll, key))
        found = row.fetchone()
    return None if found is None else json.loads(found[0])


def test_state_survives_a_restart(tmp_path, confluence_sandbox_factory):
    data = tmp_path / "site.db"
    first = confluence_sandbox_factory(data=str(data))
    cloud_id = first.cloud_id
    with first.session() as session:
        space = session.post(f"{first.url}{V1}/space", json={"key": "KEEP", "name": "Kept"})
        space_id = str(space.json()["id"])
        page = session.post(
            f"{first.url}{V2}/pages",
            json={
                "spaceId": space_id,
                "title": "Remember me",
                "body": {"representation": "storage", "value": "<p>v1</p>"},
            },
        ).json()
        session.put(
            f"{first.url}{V2}/pages/{page['id']}",
            json={
                "id": page["id"],
                "status": "current",
                "title": "Remember me",
                "body": {"representation": "storage", "value": "<p>v2</p>"},
                "version": {"number": 2},
            },
        ).raise_for_status()
        folder = session.post(
            f"{first.url}{V2}/folders", json={"spaceId": space_id, "title": "Kept folder"}
        ).json()
        upload = session.post(
            f"{first.url}{V1}/content/{page['id']}/child/attachment",
            files={"file": ("notes.bin", bytes(range(256)) * 4)},
            data={"minorEdit": "false"},
            headers={"X-Atlassian-Token": "nocheck"},
        )
        assert upload.status_code == 200, upload.text
    first.server.stop()
    with closing(sqlite3.connect(data)) as db:
        assert db.execute("SELECT cloud_id FROM site").fetchone() == (cloud_id,)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert {p.stat().st_mode & 0o777 for p in tmp_path.glob("site.db*") if p.is_file()} == {0o600}
    blobs = first.state.blob_dir
    assert blobs is not None
    assert blobs.stat().st_mode & 0o777 == 0o700
    assert {p.stat().st_mode & 0o777 for p in blobs.iterdir()} == {0o600}

    second = confluence_sandbox_factory(data=str(data), seed="empty")  # the file wins
    assert second.cloud_id == cloud_id
    with second.session() as session:
        got = session.get(
            f"{second.url}{V2}/pages/{page['id']}", params={"body-format": "storage"}
        ).json()
        assert got["title"] == "Remember me"
        assert got["body"]["storage"]["value"] == "<p>v2</p>"
        assert got["version"]["number"] == 2
        old = session.get(
            f"{second.url}{V2}/pages/{page['id']}", params={"body-format": "storage", "version": 1}
        ).json()
        assert old["body"]["storage"]["value"] == "<p>v1</p>"
        assert session.get(f"{second.url}{V2}/folders/{folder['id']}").status_code == 200
        keys = [s["key"] for s in session.get(f"{second.url}{V2}/spaces").json()["results"]]
        assert "KEEP" in keys
        assert "DEMO" in keys
        attachments = session.get(f"{second.url}{V2}/pages/{page['id']}/attachments").json()
        link = attachments["results"][0]["downloadLink"]
        download = session.get(second.wiki_url + link)
        assert download.status_code == 200
        assert download.content == bytes(range(256)) * 4
        # new ids do not collide with the restored ones
        restored = (
            set(second.state.pages)
            | set(second.state.folders)
            | set(second.state.spaces)
            | set(second.state.comments)
            | set(second.state.labels)
        )
        fresh = session.post(
            f"{second.url}{V2}/pages", json={"spaceId": space_id, "title": "After restart"}
        ).json()
    assert fresh["id"] not in restored


def test_every_change_is_written(tmp_path, confluence_sandbox_factory):
    data = tmp_path / "site.db"
    sandbox = confluence_sandbox_factory(data=str(data))
    space = sandbox.state.space_by_key("DEMO")
    with sandbox.session() as session:
        page = session.post(
            f"{sandbox.url}{V2}/pages", json={"spaceId": space["id"], "title": "Written"}
        ).json()
        assert page["id"] in stored(data, "pages")
        session.delete(f"{sandbox.url}{V2}/pages/{page['id']}").raise_for_status()
        assert stored(data, "pages", page["id"])["status"] == "trashed"
        generation = sandbox.state.generation
        session.get(f"{sandbox.url}{V2}/pages/{page['id']}").raise_for_status()
        assert session.delete(f"{sandbox.url}{V2}/pages/1").status_code == 404
        assert sandbox.state.generation == generation  # neither wrote anything


def test_in_memory_by_default(tmp_path, confluence_sandbox):
    assert confluence_sandbox.state.data_path is None
    confluence_sandbox.state.save()  # a no-op without a data file
    assert list(tmp_path.iterdir()) == []


def test_state_round_trip_and_atomic_save(tmp_path):
    state = State(tmp_path / "s.db")
    user = state.create_user("Kim Lee", "kim@example.com")
    space = state.create_space("RT", "Round trip")
    page = state.create_page(space["id"], "P", "<p>x</p>")
    state.update_page(page, body="<p>y</p>", message="edit")
    key = state.store_blob(b"blob bytes")
    state.save()
    assert {"s.db", "s.db.blobs"} <= {p.name for p in tmp_path.iterdir()}
    again = State(tmp_path / "s.db")
    assert again.load()
    assert again.pages[page["id"]]["versions"][0]["body"] == "<p>x</p>"
    assert again.current_user == user["accountId"]
    assert again.cloud_id == state.cloud_id
    assert again.read_blob(key) == b"blob bytes"
    assert again.blob_size(key) == 10
    assert int(again.new_id()) > max(int(i) for i in again.pages)
    assert not State(tmp_path / "missing.db").load()


def test_module_with_data_file_survives_restart(tmp_path):
    data = tmp_path / "cli.db"

    def run_once(action):
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ctk_core.sandbox",
                "--port",
                "0",
                "--data",
                str(data),
                "--no-plugins",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert proc.stdout is not None
            return action(proc.stdout.readline().strip())
        finally:
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=10) == 0

    def create(url):
        resp = requests.post(
            f"{url}{V1}/space", json={"key": "CLI", "name": "From CLI"}, auth=("a@example.com", "t")
        )
        assert resp.status_code == 200

    def read(url):
        resp = requests.get(
            f"{url}{V2}/spaces", params={"keys": "CLI"}, auth=("a@example.com", "t")
        )
        return [s["name"] for s in resp.json()["results"]]

    run_once(create)
    assert run_once(read) == ["From CLI"]
