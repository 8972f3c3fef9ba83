"""The embedded sandbox (--sandbox, CTK_SANDBOX=1) and ``ctk sandbox serve|reset``."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import urllib.request

import pytest

from ctk_core.commands.sandbox import data_path
from ctk_core.policy import WRITES_DISABLED_MESSAGE
from ctk_core.testing import CtkCli


@pytest.fixture
def cli(tmp_path):
    return CtkCli(None, str(tmp_path / "config"))


def test_sandbox_flag_needs_no_account_and_keeps_data_private(cli):
    path = data_path()
    assert not path.exists()
    result = cli("--sandbox", "--json", "spaces", "list")
    assert result.exit_code == 0, result
    assert {s["key"] for s in result.json()["results"]} >= {"DEMO"}
    assert path.name == "sandbox.db"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    for beside in path.parent.iterdir():  # -wal and -shm too
        if beside.is_file():
            assert stat.S_IMODE(beside.stat().st_mode) == 0o600, beside
    assert "CTK_BASE_URL" not in os.environ  # the test process is left as it was


def test_sandbox_remembers_between_runs_and_reset_forgets(cli):
    writes = {"CTK_ENABLE_WRITES": "true"}
    created = cli("--sandbox", "--json", "spaces", "create", "KEEP", "--name", "Kept", env=writes)
    assert created.exit_code == 0, created
    again = cli("--sandbox", "--json", "spaces", "get", "KEEP")
    assert again.exit_code == 0, again
    assert again.json()["id"] == created.json()["id"]
    reset = cli("sandbox", "reset")
    assert reset.exit_code == 0
    assert "Removed" in reset.stdout
    assert not data_path().exists()
    gone = cli("--sandbox", "spaces", "get", "KEEP")
    assert gone.exit_code == 5, gone
    assert data_path().exists()  # that run started afresh, from the seed
    assert cli("sandbox", "reset").exit_code == 0
    nothing = cli("sandbox", "reset")
    assert nothing.exit_code == 0
    assert "Nothing to reset" in nothing.stdout


def test_sandbox_by_environment_variable(cli):
    result = cli("--json", "users", "get-current", env={"CTK_SANDBOX": "1"})
    assert result.exit_code == 0, result
    assert result.json()["display_name"]


def test_policy_still_applies_in_the_sandbox(cli):
    result = cli("--sandbox", "spaces", "create", "NOPE", "--name", "No")
    assert result.exit_code == 4
    assert result.stderr == f"Error: {WRITES_DISABLED_MESSAGE}\n"


def test_sandbox_flag_in_a_real_process(cli):
    result = cli("--sandbox", "--json", "spaces", "get", "DEMO", subprocess=True)
    assert result.exit_code == 0, result
    assert result.json()["key"] == "DEMO"
    assert data_path().exists()


def test_serve_prints_its_url_and_answers(tmp_path):
    code = "import sys; from ctk_core.cli import main; sys.exit(main(prog_name='ctk'))"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            code,
            "sandbox",
            "serve",
            "--port",
            "0",
            "--memory",
            "--token",
            "tok",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        request = urllib.request.Request(
            url + "/wiki/api/v2/spaces?keys=DEMO",
            headers={
                "Authorization": "Basic " + __import__("base64").b64encode(b"a@b.c:tok").decode(),
                "Accept": "application/json",
            },
        )
        with urllib.request.urlopen(request, timeout=10) as resp:
            body = json.load(resp)
        assert [s["key"] for s in body["results"]] == ["DEMO"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert "Sandbox serving on" in proc.stderr.read()
    assert not data_path().exists()  # --memory writes nothing


def test_serve_help_and_group_help(cli):
    assert cli("sandbox", "--help").exit_code == 0
    serve = cli("sandbox", "serve", "--help")
    assert serve.exit_code == 0
    assert "--port" in serve.stdout
    assert "--seed" in serve.stdout
