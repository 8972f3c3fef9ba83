"""The attachments plugin through the CLI and MCP, against the sandbox over real HTTP."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from memory_support import run_ctk_measured

from ctk_core.policy import WRITES_DISABLED_MESSAGE
from ctk_core.sandbox.routes_attachments import adopt_file, blob_file, new_attachment

WRITES = {"CTK_ENABLE_WRITES": "true"}


def _attachment(sandbox, title: str) -> dict:
    return next(a for a in sandbox.state.attachments.values() if a["title"] == title)


def _bytes_of(sandbox, att: dict) -> bytes:
    path = blob_file(sandbox.state, att["blob"])
    return path.read_bytes() if path else sandbox.state.read_blob(att["blob"])


def _add_attachment(sandbox, title: str, data: bytes, page_title: str = "Architecture") -> dict:
    page_id = sandbox.page_id(page_title)
    with sandbox.state.lock:
        return new_attachment(
            sandbox.state,
            page_id,
            title,
            sandbox.state.store_blob(data),
            len(data),
            media_type="application/octet-stream",
        )


def test_list_filters_and_get(ctk_cli, confluence_sandbox):
    png = _attachment(confluence_sandbox, "diagram.png")
    listed = ctk_cli("--json", "attachments", "list", png["pageId"])
    assert listed.exit_code == 0, listed
    data = listed.json()
    assert data["next_cursor"] is None
    assert [a["title"] for a in data["results"]] == ["diagram.png"]
    by_type = ctk_cli(
        "--json", "attachments", "list", png["pageId"], "--media-type", "text/plain"
    ).json()
    assert by_type["results"] == []
    got = ctk_cli("--json", "attachments", "get", png["id"]).json()
    assert got == data["results"][0]
    assert got["media_type"] == "image/png"
    assert got["file_size"] == png["fileSize"]
    assert got["download_url"].startswith(confluence_sandbox.wiki_url + "/download/attachments/")
    table = ctk_cli("attachments", "list", png["pageId"])
    assert table.exit_code == 0
    assert "diagram.png" in table.stdout


def test_unknown_and_missing_ids(ctk_cli):
    missing = ctk_cli("attachments", "get", "att999999")
    assert missing.exit_code == 5
    assert "not found" in missing.stderr.lower()
    usage = ctk_cli("attachments", "get")
    assert usage.exit_code == 2
    for bad in ("../pages/1", "att12x", ""):
        wrong = ctk_cli("attachments", "get", bad)
        assert wrong.exit_code == 2, (bad, wrong)
        assert "ATTACHMENT_ID" in wrong.stderr, (bad, wrong)
        assert bad == "" or "Find ids with 'ctk attachments list'." in wrong.stderr
    page = ctk_cli("attachments", "list", "12/../34")
    assert page.exit_code == 2
    assert "page_id" in page.stderr
    assert not [r for r in ctk_cli.sandbox.requests.entries() if ".." in r["path"]]


def test_cli_download_to_folder_is_byte_identical_and_never_overwrites(
    ctk_cli, confluence_sandbox, tmp_path
):
    png = _attachment(confluence_sandbox, "diagram.png")
    first = ctk_cli("--json", "attachments", "download", png["id"], "--output", str(tmp_path))
    assert first.exit_code == 0, first
    saved = Path(first.json()["path"])
    assert saved == tmp_path / "diagram.png"
    assert saved.read_bytes() == _bytes_of(confluence_sandbox, png)
    second = ctk_cli("--json", "attachments", "download", png["id"], "--output", str(tmp_path))
    assert Path(second.json()["path"]) == tmp_path / "diagram-1.png"
    explicit = tmp_path / "copy.png"
    explicit.write_bytes(b"keep me")
    refused = ctk_cli("attachments", "download", png["id"], "--output", str(explicit))
    assert refused.exit_code == 2
    assert "already exists" in refused.stderr
    assert explicit.read_bytes() == b"keep me"
    forced = ctk_cli("attachments", "download", png["id"], "--output", str(explicit), "--overwrite")
    assert forced.exit_code == 0
    assert explicit.read_bytes() == _bytes_of(confluence_sandbox, png)
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".part")]


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("a/b.txt", "a_b.txt"),
        ("../../etc/passwd", "_._etc_passwd"),
        ("nul\x00name.txt", "nul_name.txt"),
        ("...hidden", "hidden"),
        ("x" * 300 + ".txt", None),
    ],
)
def test_download_names_are_safe_inside_destination(
    ctk_cli, confluence_sandbox, tmp_path, title, expected
):
    att = _add_attachment(confluence_sandbox, title, b"payload")
    result = ctk_cli("--json", "attachments", "download", att["id"], "--output", str(tmp_path))
    assert result.exit_code == 0, result
    saved = Path(result.json()["path"])
    assert saved.parent == tmp_path
    assert saved.read_bytes() == b"payload"
    assert not saved.name.startswith(".")
    assert "/" not in saved.name
    assert "\x00" not in saved.name
    assert len(saved.name.encode()) <= 255
    if expected:
        assert saved.name == expected
    else:
        assert saved.name.endswith(".txt")


def test_interrupted_download_leaves_nothing(ctk_cli, confluence_sandbox, tmp_path):
    att = _add_attachment(confluence_sandbox, "big.bin", os.urandom(3 * 1024 * 1024))
    confluence_sandbox.fault({"kind": "close", "path": "/wiki/download/", "count": 1})
    result = ctk_cli("attachments", "download", att["id"], "--output", str(tmp_path))
    assert result.exit_code == 8, result
    assert "interrupted" in result.stderr or "incomplete" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert os.listdir(tmp_path) == []


def test_upload_and_reupload_make_versions(ctk_cli, confluence_sandbox, tmp_path):
    page_id = confluence_sandbox.page_id("Architecture")
    source = tmp_path / "report.csv"
    source.write_bytes(b"a,b\n1,2\n")
    refused = ctk_cli("attachments", "upload", page_id, str(source))
    assert refused.exit_code == 4
    assert WRITES_DISABLED_MESSAGE in refused.stderr
    first = ctk_cli(
        "--json",
        "attachments",
        "upload",
        page_id,
        str(source),
        "--comment",
        "first cut",
        env=WRITES,
    )
    assert first.exit_code == 0, first
    made = first.json()
    assert made["title"] == "report.csv"
    assert made["version"] == 1
    assert made["comment"] == "first cut"
    source.write_bytes(b"a,b\n1,2\n3,4\n")
    second = ctk_cli("--json", "attachments", "upload", page_id, str(source), env=WRITES).json()
    assert second["id"] == made["id"]
    assert second["version"] == 2
    att = confluence_sandbox.state.attachments[made["id"]]
    assert _bytes_of(confluence_sandbox, att) == source.read_bytes()
    back = ctk_cli(
        "--json", "attachments", "download", made["id"], "--output", str(tmp_path / "back.csv")
    )
    assert (tmp_path / "back.csv").read_bytes() == source.read_bytes(), back
    missing = ctk_cli("attachments", "upload", page_id, str(tmp_path / "nope"), env=WRITES)
    assert missing.exit_code == 2
    assert "No such file" in missing.stderr


def test_upload_sends_the_xsrf_header(ctk_cli, confluence_sandbox, tmp_path):
    source = tmp_path / "x.txt"
    source.write_text("x")
    page_id = confluence_sandbox.page_id("Architecture")
    assert ctk_cli("attachments", "upload", page_id, str(source), env=WRITES).exit_code == 0
    sent = [r for r in confluence_sandbox.requests.entries() if r["method"] == "PUT"]
    headers = {k.lower(): v for k, v in sent[-1]["headers"].items()}
    assert headers["x-atlassian-token"] == "nocheck"


def test_delete_to_trash_then_purge(ctk_cli, confluence_sandbox):
    att = _add_attachment(confluence_sandbox, "old.txt", b"old")
    assert ctk_cli("attachments", "delete", att["id"], "--yes").exit_code == 4
    trashed = ctk_cli("--json", "attachments", "delete", att["id"], "--yes", env=WRITES)
    assert trashed.exit_code == 0, trashed
    assert confluence_sandbox.state.attachments[att["id"]]["status"] == "trashed"
    purged = ctk_cli("attachments", "delete", att["id"], "--purge", "--yes", env=WRITES)
    assert purged.exit_code == 0, purged
    assert att["id"] not in confluence_sandbox.state.attachments


def test_mcp_download_goes_to_the_download_folder(ctk_mcp, confluence_sandbox):
    png = _attachment(confluence_sandbox, "diagram.png")
    session = ctk_mcp()
    result = session.call_json(
        "manage_attachments", {"action": "download", "attachment_id": png["id"]}
    )
    saved = Path(result["path"])
    assert saved.parent == Path(os.environ["CTK_DOWNLOAD_DIR"]).resolve() or saved.parent == Path(
        os.environ["CTK_DOWNLOAD_DIR"]
    )
    assert saved.read_bytes() == _bytes_of(confluence_sandbox, png)
    assert oct(saved.stat().st_mode & 0o777) == "0o600"
    refused = session.error(
        "manage_attachments",
        {"action": "download", "attachment_id": png["id"], "output": "/tmp/elsewhere"},
    )
    assert "Unknown argument 'output'" in refused  # a CLI-only parameter
    schema = session.tool("manage_attachments").input_schema
    assert "output" not in schema["properties"]
    assert "overwrite" in schema["properties"]


def test_mcp_upload_is_confined_to_upload_roots(ctk_mcp, confluence_sandbox, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    inside = root / "ok.txt"
    inside.write_text("fine")
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    (root / "link.txt").symlink_to(outside)
    config = tmp_path / "config"
    config.mkdir()
    creds = config / "credentials.json"
    creds.write_text("{}")
    creds.chmod(0o600)
    (root / "creds-link.json").symlink_to(creds)
    env = {
        **WRITES,
        "CTK_UPLOAD_ROOTS": f"{root}{os.pathsep}{config}",
        "CTK_CONFIG_DIR": str(config),
    }
    session = ctk_mcp(env)
    page_id = confluence_sandbox.page_id("Architecture")

    def upload(path: str):
        return {"action": "upload", "page_id": page_id, "file_path": path}

    for bad in (
        str(root / ".." / "secret.txt"),
        str(outside),
        str(root / "link.txt"),
        str(creds),
        str(root / "creds-link.json"),
    ):
        message = session.error("manage_attachments", upload(bad))
        assert "Refused" in message, (bad, message)
    made = session.call_json("manage_attachments", upload(str(inside)))
    assert made["title"] == "ok.txt"
    assert made["version"] == 1
    titles = {a["title"] for a in confluence_sandbox.state.attachments.values()}
    assert "secret.txt" not in titles
    assert "credentials.json" not in titles


def test_mcp_write_actions_absent_when_writes_are_off(ctk_mcp):
    tool = ctk_mcp().tool("manage_attachments")
    actions = tool.input_schema["properties"]["action"]["enum"]
    assert set(actions) == {"list", "get", "download"}
    assert tool.annotations.read_only_hint is True


def test_large_download_is_streamed_with_bounded_memory(ctk_cli, confluence_sandbox, tmp_path):
    size = 200 * 1024 * 1024
    source = tmp_path / "source.bin"
    digest = hashlib.sha256()
    block = os.urandom(1024 * 1024)
    with source.open("wb") as fh:
        for i in range(size // len(block)):
            chunk = block[:-4] + i.to_bytes(4, "big")
            digest.update(chunk)
            fh.write(chunk)
    page_id = confluence_sandbox.page_id("Architecture")
    with confluence_sandbox.state.lock:
        blob = adopt_file(confluence_sandbox.state, source, digest.hexdigest())
        att = new_attachment(
            confluence_sandbox.state,
            page_id,
            "huge.bin",
            blob,
            size,
            media_type="application/octet-stream",
        )
    out = tmp_path / "out"
    out.mkdir()
    env = {**os.environ, **ctk_cli.env}
    proc, peak_kib = run_ctk_measured(
        ["attachments", "download", att["id"], "--output", str(out)], env
    )
    assert proc.returncode == 0, proc.stderr
    saved = out / "huge.bin"
    check = hashlib.sha256()
    with saved.open("rb") as fh:
        while chunk := fh.read(1024 * 1024):
            check.update(chunk)
    assert saved.stat().st_size == size
    assert check.hexdigest() == digest.hexdigest()
    assert peak_kib < 150 * 1024, f"peak RSS {peak_kib} KiB: the download is not streamed"


def test_mcp_list_get_delete_and_bad_inputs(ctk_mcp, ctk_cli, confluence_sandbox):
    png = _attachment(confluence_sandbox, "diagram.png")
    session = ctk_mcp(WRITES)
    listed = session.call_json("manage_attachments", {"action": "list", "page_id": png["pageId"]})
    assert listed == ctk_cli("--json", "attachments", "list", png["pageId"]).json()
    assert [a["title"] for a in listed["results"]] == ["diagram.png"]
    by_name = session.call_json(
        "manage_attachments",
        {"action": "list", "page_id": png["pageId"], "filename": "other.png", "limit": 5},
    )
    assert by_name == {"results": [], "next_cursor": None}
    by_type = session.call_json(
        "manage_attachments",
        {"action": "list", "page_id": png["pageId"], "media_type": "image/png"},
    )
    assert [a["id"] for a in by_type["results"]] == [png["id"]]
    got = session.call_json("manage_attachments", {"action": "get", "attachment_id": png["id"]})
    assert got.pop("content") == "image in content block 2"  # tests/test_attachment_inline.py
    assert got == listed["results"][0]
    assert got["download_url"].startswith(confluence_sandbox.wiki_url + "/download/")
    assert got["web_url"].startswith(confluence_sandbox.wiki_url + "/")
    for args, fragment in (
        ({"action": "get", "attachment_id": "../pages/1"}, "attachment_id"),
        ({"action": "get", "attachment_id": "att999999"}, "not found"),
        ({"action": "get"}, "attachment_id"),
        ({"action": "list", "page_id": "12/../34"}, "page_id"),
        ({"action": "list", "page_id": png["pageId"], "limit": 0}, "limit"),
        ({"action": "delete", "attachment_id": "att12x"}, "attachment_id"),
        ({"action": "rename", "attachment_id": png["id"]}, "rename"),
    ):
        message = session.error("manage_attachments", args)
        assert fragment in message.lower() or fragment in message, (args, message)
    assert not [r for r in confluence_sandbox.requests.entries() if ".." in r["path"]]
    old = _add_attachment(confluence_sandbox, "old.txt", b"old")
    early_purge = session.error(
        "manage_attachments", {"action": "delete", "attachment_id": old["id"], "purge": True}
    )
    assert "trash" in early_purge
    assert confluence_sandbox.state.attachments[old["id"]]["status"] == "current"
    trashed = session.call_json(
        "manage_attachments", {"action": "delete", "attachment_id": old["id"]}
    )
    assert trashed == {"id": old["id"], "status": "trashed"}
    assert confluence_sandbox.state.attachments[old["id"]]["status"] == "trashed"
    purged = session.call_json(
        "manage_attachments", {"action": "delete", "attachment_id": old["id"], "purge": True}
    )
    assert purged == {"id": old["id"], "status": "purged"}
    assert old["id"] not in confluence_sandbox.state.attachments


def test_download_reports_progress(confluence_sandbox, tmp_path):
    from ctk_core import dispatch
    from ctk_core.context import Context, Progress
    from ctk_core.file_access import PersonFiles
    from ctk_core.policy import Policy
    from ctk_core.registry import load_catalog
    from ctk_core.words import CLI_WORDS

    class Recorder(Progress):
        def __init__(self) -> None:
            self.events: list[tuple] = []

        def start(self, label: str = "", total: int | None = None) -> None:
            self.events.append(("start", label, total))

        def update(self, done: int, total: int | None = None) -> None:
            self.events.append(("update", done, total))

        def finish(self) -> None:
            self.events.append(("finish",))

    data = os.urandom(3 * 1024 * 1024 + 17)
    att = _add_attachment(confluence_sandbox, "progress.bin", data)
    resource = next(r for r in load_catalog().resources if r.name == "attachments")
    recorder = Recorder()
    ctx = Context(
        PersonFiles(), environ={**os.environ, **confluence_sandbox.client_env}, progress=recorder
    )
    result = dispatch.invoke(
        ctx,
        resource,
        resource.operation("download"),
        {"attachment_id": att["id"], "output": str(tmp_path)},
        Policy.from_environ({}),
        CLI_WORDS,
    )
    assert Path(result["path"]).read_bytes() == data
    assert result["bytes"] == len(data)
    assert recorder.events[0] == ("start", "Downloading progress.bin", len(data))
    assert recorder.events[-1] == ("finish",)
    done = [e[1] for e in recorder.events if e[0] == "update"]
    assert len(done) > 1
    assert done == sorted(done)
    assert done[-1] == len(data)


def test_an_html_page_instead_of_the_file_is_not_saved(
    ctk_cli, ctk_mcp, confluence_sandbox, tmp_path, private_environment
):
    png = _attachment(confluence_sandbox, "diagram.png")
    confluence_sandbox.fault({"kind": "html", "status": 200, "path": "/wiki/download/"})
    result = ctk_cli("attachments", "download", png["id"], "--output", str(tmp_path))
    assert result.exit_code == 8, result
    assert (
        "answered an HTML page instead of the file (image/png); nothing was saved" in result.stderr
    )
    assert os.listdir(tmp_path) == []
    error = ctk_mcp().error(
        "manage_attachments", {"action": "download", "attachment_id": png["id"]}
    )
    assert "HTML page instead of the file" in error
    downloads = private_environment / "downloads"
    assert not downloads.exists() or os.listdir(downloads) == []


def test_a_download_of_another_length_than_recorded_is_not_saved(
    ctk_cli, confluence_sandbox, tmp_path
):
    data = b"0123456789" * 10
    att = _add_attachment(confluence_sandbox, "numbers.bin", data)
    with confluence_sandbox.state.lock:
        confluence_sandbox.state.attachments[att["id"]]["fileSize"] = len(data) + 50
    result = ctk_cli("attachments", "download", att["id"], "--output", str(tmp_path))
    assert result.exit_code == 8, result
    assert f"gave {len(data)} bytes, but the file has {len(data) + 50}" in result.stderr
    assert os.listdir(tmp_path) == []
