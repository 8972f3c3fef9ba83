"""pytest plugin for ctk and its plugin authors (registered through the ``pytest11`` entry point).

Only standard-library imports at the top: pytest loads this module for every test session.
Fixtures are added below by the pieces they exercise (sandbox, CLI, MCP).
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest

# ------------------------------------------------------------------------------------- sandbox


class SandboxHandle:
    """A running sandbox as tests see it (the ``confluence_sandbox`` fixture).

    ``url`` (site base, no trailing slash), ``wiki_url``, ``gateway_url`` (the scoped-token form),
    ``cloud_id``, ``state`` (the live ``State``: assert on it, or arrange data with its
    ``create_*`` helpers), ``faults`` (``add(spec)``, ``clear()``), ``requests`` (the request
    log: ``entries()``, ``find(method, path)``, ``clear()``), ``email``/``token``/``auth``, and
    ``client_env``: the environment that points ctk at this sandbox.
    """

    def __init__(self, server: Any, email: str | None, token: str | None) -> None:
        self.server = server
        self.url: str = server.url
        self.wiki_url = self.url + "/wiki"
        self.cloud_id: str = server.cloud_id
        self.gateway_url: str = server.gateway_url
        self.state = server.state
        self.faults = server.faults
        self.requests = server.requests
        self.email: str = email or self.state.current_email()
        self.token: str = token or "sandbox-token"
        self.auth = (self.email, self.token)
        self.client_env: dict[str, str] = {
            "CTK_BASE_URL": self.url,
            "CONFLUENCE_EMAIL": self.email,
            "CONFLUENCE_API_TOKEN": self.token,
            "CONFLUENCE_TOKEN_TYPE": "classic",
        }

    def fault(self, spec: str | dict[str, Any]) -> dict[str, Any]:
        """Add one fault: ``"429,count=1"`` or ``{"kind": "503", "path": "/wiki/api/v2"}``."""
        return self.faults.add(spec)  # type: ignore[no-any-return]

    def reset(self, seed: str | None = None) -> None:
        """Seed afresh (demo unless told), clearing faults and the request log."""
        self.server.reset(seed)

    def session(self) -> Any:
        """A ``requests.Session`` authenticated for this sandbox, asking for JSON."""
        import requests

        session = requests.Session()
        session.auth = self.auth
        session.headers["Accept"] = "application/json"
        return session

    def space_id(self, key: str) -> str:
        space = self.state.space_by_key(key)
        if space is None:
            raise KeyError(f"no space with key {key!r}")
        return str(space["id"])

    def page_id(self, title: str, space_key: str | None = None) -> str:
        for page in self.state.pages.values():
            if (
                page["title"] == title
                and page["status"] == "current"
                and (space_key is None or self.state.spaces[page["spaceId"]]["key"] == space_key)
            ):
                return str(page["id"])
        raise KeyError(f"no current page titled {title!r}")


@contextlib.contextmanager
def running_sandbox(
    seed: str = "demo",
    data: str | None = None,
    email: str | None = None,
    token: str | None = None,
    faults: list[Any] | None = None,
    fixed_credentials: bool = True,
) -> Iterator[SandboxHandle]:
    """Start a sandbox on 127.0.0.1 for the duration of a ``with`` block.

    With ``fixed_credentials`` (the default) only the handle's email and token are accepted, so
    a test notices when ctk sends other credentials.
    """
    from ctk_core.helpers import forget_display_names
    from ctk_core.sandbox import SandboxServer

    forget_display_names()  # a new site, maybe on a port an earlier one had
    if fixed_credentials and token is None:
        token = "sandbox-" + secrets.token_hex(8)
    server = SandboxServer(
        host="127.0.0.1", port=0, seed=seed, data=data, email=email, token=token, faults=faults
    )
    if fixed_credentials and email is None:
        email = server.email = server.state.current_email()
    server.start()
    try:
        yield SandboxHandle(server, email, token)
    finally:
        server.stop()


@pytest.fixture
def confluence_sandbox() -> Iterator[SandboxHandle]:
    """A running sandbox with the demo data, fresh for each test (see ``SandboxHandle``)."""
    with running_sandbox() as handle:
        yield handle


@pytest.fixture
def confluence_sandbox_factory() -> Iterator[Callable[..., SandboxHandle]]:
    """Start sandboxes with options (``seed``, ``data``, ``email``, ``token``, ``faults``,
    ``fixed_credentials``); all are stopped at the end of the test."""
    with contextlib.ExitStack() as stack:

        def start(**options: Any) -> SandboxHandle:
            return stack.enter_context(running_sandbox(**options))

        yield start


# ------------------------------------------------------------------------------------- CLI


class CliResult:
    """What one ``ctk`` run produced: ``exit_code``, ``stdout``, ``stderr``; ``json()`` parses
    stdout."""

    def __init__(self, args: list[str], exit_code: int, stdout: str, stderr: str) -> None:
        self.args = args
        self.exit_code = exit_code
        self.stdout = stdout
        self.stderr = stderr

    def json(self) -> Any:
        import json

        return json.loads(self.stdout)

    def __repr__(self) -> str:
        return (
            f"CliResult(args={self.args!r}, exit_code={self.exit_code}, "
            f"stdout={self.stdout[-400:]!r}, stderr={self.stderr[-400:]!r})"
        )


class CtkCli:
    """Runs ``ctk`` against a sandbox (the ``ctk_cli`` fixture).

    ``ctk_cli("spaces", "list")`` runs in-process through Click's ``CliRunner``;
    ``ctk_cli(..., subprocess=True)`` runs a real ``ctk`` process. ``env`` (per call, or the
    ``env`` attribute for every call) adds variables such as ``CTK_ENABLE_WRITES``; a value of
    ``None`` removes one. The sandbox's URL and credentials, ``CTK_RATE_LIMIT=off`` and a private
    empty ``CTK_CONFIG_DIR`` are set by default.
    """

    def __init__(self, sandbox: SandboxHandle | None, config_dir: str) -> None:
        self.sandbox = sandbox
        self.env: dict[str, str | None] = {"CTK_RATE_LIMIT": "off", "CTK_CONFIG_DIR": config_dir}
        if sandbox is not None:
            self.env.update(sandbox.client_env)

    def __call__(
        self,
        *args: str,
        env: dict[str, str | None] | None = None,
        input: str | None = None,
        subprocess: bool = False,
        timeout: float = 60,
    ) -> CliResult:
        merged = {**self.env, **(env or {})}
        argv = [str(a) for a in args]
        if subprocess:
            return self._subprocess(argv, merged, input, timeout)
        return self._in_process(argv, merged, input)

    def _in_process(
        self, argv: list[str], env: dict[str, str | None], input: str | None
    ) -> CliResult:
        import os

        from click.testing import CliRunner

        from ctk_core.cli import main
        from ctk_core.context import forget_space_ids
        from ctk_core.helpers import forget_display_names

        saved = dict(os.environ)
        forget_space_ids()
        forget_display_names()  # a CLI run is a process of its own
        try:
            # CliRunner restores only the variables it set; ctk --sandbox sets more, so the
            # whole environment is put back afterwards.
            result = CliRunner().invoke(
                main, argv, input=input, env=env, prog_name="ctk", catch_exceptions=False
            )
        finally:
            os.environ.clear()
            os.environ.update(saved)
        return CliResult(argv, result.exit_code, result.stdout, result.stderr)

    def _subprocess(
        self, argv: list[str], env: dict[str, str | None], input: str | None, timeout: float
    ) -> CliResult:
        import os
        import subprocess
        import sys

        full = dict(os.environ)
        for key, value in env.items():
            if value is None:
                full.pop(key, None)
            else:
                full[key] = value
        code = "import sys; from ctk_core.cli import main; sys.exit(main(prog_name='ctk'))"
        proc = subprocess.run(  # noqa: S603 - this Python, fixed code, the test's own argv
            [sys.executable, "-c", code, *argv],
            input=input,
            env=full,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return CliResult(argv, proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def ctk_cli(confluence_sandbox: SandboxHandle, tmp_path_factory: Any) -> CtkCli:
    """Run ``ctk`` commands against the ``confluence_sandbox`` (see ``CtkCli``)."""
    return CtkCli(confluence_sandbox, str(tmp_path_factory.mktemp("ctk-config")))


# ----------------------------------------------------------------------------------------- mcp


class McpSession:
    """An MCP client connected in-process to a ctk server (what ``ctk_mcp(...)`` returns).

    A synchronous front to the SDK's ``mcp.Client``: ``list_tools()`` (the SDK ``Tool``
    objects), ``tool_names()``, ``tool(name)``, ``call(tool, arguments)`` (the SDK
    ``CallToolResult``: ``.is_error``, ``.content``, ``.structured_content``),
    ``call_json(tool, arguments)`` (the parsed result; fails the test on ``isError``),
    ``error(tool, arguments)`` (the ``isError`` text; fails the test on success),
    ``instructions``, ``server`` (the SDK server) and ``env`` (the environment it was built from).
    """

    def __init__(self, portal: Any, client: Any, server: Any, env: dict[str, str]) -> None:
        self._portal = portal
        self._client = client
        self.server = server
        self.env = env

    @property
    def instructions(self) -> str | None:
        return self._client.instructions  # type: ignore[no-any-return]

    def list_tools(self) -> list[Any]:
        result = self._portal.call(self._client.list_tools)
        return list(result.tools)

    def tool_names(self) -> list[str]:
        return [tool.name for tool in self.list_tools()]

    def tool(self, name: str) -> Any:
        for tool in self.list_tools():
            if tool.name == name:
                return tool
        raise KeyError(f"no tool {name!r}; served: {', '.join(self.tool_names())}")

    def call(self, tool: str, arguments: dict[str, Any] | None = None) -> Any:
        return self._portal.call(self._client.call_tool, tool, arguments)

    @staticmethod
    def text(result: Any) -> str:
        return "".join(getattr(block, "text", "") for block in result.content)

    def call_json(self, tool: str, arguments: dict[str, Any] | None = None) -> Any:
        import json

        result = self.call(tool, arguments)
        if result.is_error:
            raise AssertionError(f"{tool} {arguments!r} answered isError: {self.text(result)}")
        if result.structured_content is not None:
            return result.structured_content
        text = self.text(result)
        try:
            return json.loads(text)
        except ValueError:
            return text

    def error(self, tool: str, arguments: dict[str, Any] | None = None) -> str:
        result = self.call(tool, arguments)
        if not result.is_error:
            raise AssertionError(f"{tool} {arguments!r} succeeded: {self.text(result)[:300]}")
        return self.text(result)


@pytest.fixture
def ctk_mcp(request: pytest.FixtureRequest) -> Iterator[Callable[..., McpSession]]:
    """Connect in-process MCP client sessions to ctk servers built from an environment.

    ``ctk_mcp(env=None, *, mode="auto", sandbox=True, catalog=None, no_auth=False)``:
    ``env`` adds to the test's environment (``CTK_ENABLE_WRITES``, ``CTK_DISABLED_TOOLS``,
    ``CTK_MAX_RESPONSE_BYTES``...); ``sandbox=True`` points the server at the test's
    ``confluence_sandbox`` (or pass a ``SandboxHandle``; ``False`` for none); ``mode`` is the
    protocol era (``"auto"`` for 2026-07-28 where the server offers it, ``"legacy"`` for the
    initialize handshake); ``catalog`` defaults to the loaded plugins. Sessions close at the
    end of the test.
    """
    import os

    with contextlib.ExitStack() as stack:

        def connect(
            env: dict[str, str] | None = None,
            *,
            mode: str = "auto",
            sandbox: Any = True,
            catalog: Any = None,
            no_auth: bool = False,
        ) -> McpSession:
            from anyio.from_thread import start_blocking_portal
            from mcp import Client

            from ctk_core.mcp_server import build_server

            environ = dict(os.environ)
            if sandbox is True:
                sandbox = request.getfixturevalue("confluence_sandbox")
            if sandbox:
                environ.update(sandbox.client_env)
            environ.update(env or {})
            server = build_server(catalog, None, environ, no_auth=no_auth)
            portal = stack.enter_context(start_blocking_portal())
            client = stack.enter_context(
                portal.wrap_async_context_manager(Client(server, mode=mode))
            )
            return McpSession(portal, client, server, environ)

        yield connect
