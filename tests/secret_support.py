"""The check behind the ``token_never_leaks`` fixtures of the credential and HTTP tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def assert_secret_absent(secret: str, capfd: Any, caplog: Any, home: Path) -> None:
    """``secret`` is in no captured output, no log record and no file ctk wrote under the
    private environment's log and download folders (``home``: the ``private_environment``)."""
    out, err = capfd.readouterr()
    assert secret not in out
    assert secret not in err
    assert secret not in caplog.text
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

    @property
    def env(self) -> Any:
        return self._cli.env

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


# Fixtures for plugin tests against the sandbox: a test module imports these three names, and
# every CLI run and MCP result in it is checked for the sandbox's token.


@pytest.fixture
def ctk_cli(ctk_cli, confluence_sandbox):
    """The plugin fixture, checking that no run prints the sandbox's token."""
    return LeakCheckingCli(ctk_cli, confluence_sandbox.token)


@pytest.fixture
def ctk_mcp(ctk_mcp, confluence_sandbox):
    """The plugin fixture, checking that no tool result contains the sandbox's token."""
    return leak_checking_mcp(ctk_mcp, confluence_sandbox.token)


@pytest.fixture(autouse=True)
def token_never_leaks(confluence_sandbox, capfd, caplog, private_environment):
    """Whatever a test does, the token is in no output, no log record, no log or download file."""
    yield
    assert_secret_absent(confluence_sandbox.token, capfd, caplog, private_environment)
