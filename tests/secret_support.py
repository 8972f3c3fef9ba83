"""The one secrets check of the test suite (a pytest plugin, loaded by conftest.py).

After every test, ``token_never_leaks`` looks for the test's secrets in everything it captured:
stdout and stderr, log records, and the files ctk wrote in the log and download folders (saved
MCP truncations, request logs). The secrets are the sandbox's token and its Basic-auth encoding
when the test uses the sandbox, and a module's ``SECRETS`` (tests with credentials of their own).
The ``ctk_cli`` and ``ctk_mcp`` fixtures are wrapped so that every CLI run and MCP result is
checked as it happens.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def assert_secret_absent(secret: str, captured: list[str], home: Path) -> None:
    """``secret`` is in none of the ``captured`` texts and in no file ctk wrote under the
    private environment's log and download folders (``home``: the ``private_environment``)."""
    for text in captured:
        assert secret not in text
    for folder in ("logs", "downloads"):
        root = home / folder
        if root.is_dir():
            for path in root.rglob("*"):
                if path.is_file():
                    assert secret.encode() not in path.read_bytes(), path


class LeakCheckingCli:
    """Wraps the ``ctk_cli`` fixture: every run's stdout and stderr must be free of ``secret``."""

    def __init__(self, cli: Any, secret: str) -> None:
        self._cli = cli
        self._secret = secret

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cli, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        result = self._cli(*args, **kwargs)
        assert self._secret not in result.stdout, result
        assert self._secret not in result.stderr, result
        return result


def leak_checking_mcp(connect: Any, secret: str) -> Any:
    """Wraps the ``ctk_mcp`` fixture: no tool result (text or structured) contains ``secret``."""
    import json

    def checked_connect(*args: Any, **kwargs: Any) -> Any:
        session = connect(*args, **kwargs)
        call = session.call

        def checked_call(tool: str, arguments: Any = None) -> Any:
            result = call(tool, arguments)
            assert secret not in session.text(result)
            assert secret not in json.dumps(result.structured_content, default=str)
            return result

        session.call = checked_call  # call_json() and error() go through it too
        return session

    return checked_connect


def basic_auth(email: str, token: str) -> str:
    """The Authorization header value a client sends for these credentials."""
    import base64

    return base64.b64encode(f"{email}:{token}".encode()).decode()


@pytest.fixture
def ctk_cli(ctk_cli, confluence_sandbox):
    """The plugin fixture, checking that no run prints the sandbox's token."""
    return LeakCheckingCli(ctk_cli, confluence_sandbox.token)


@pytest.fixture
def ctk_mcp(ctk_mcp, confluence_sandbox):
    """The plugin fixture, checking that no tool result contains the sandbox's token."""
    return leak_checking_mcp(ctk_mcp, confluence_sandbox.token)


@pytest.fixture(autouse=True)
def token_never_leaks(request, caplog, private_environment):
    """Whatever a test does, its secrets are in no output, no log record, no log or download
    file (stdout and stderr are checked unless the test captures them itself with capsys)."""
    capfd = None if "capsys" in request.fixturenames else request.getfixturevalue("capfd")
    secrets = list(getattr(request.module, "SECRETS", ()))
    if "confluence_sandbox" in request.fixturenames:
        sandbox = request.getfixturevalue("confluence_sandbox")
        email = sandbox.client_env.get("CONFLUENCE_EMAIL") or ""
        secrets += [sandbox.token, basic_auth(email, sandbox.token)]
    yield
    captured = [caplog.text, *(capfd.readouterr() if capfd is not None else ())]
    for secret in secrets:
        assert_secret_absent(secret, captured, private_environment)
