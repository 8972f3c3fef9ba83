"""`ctk mcp` as a real process: stdio (SDK client and raw junk) and streamable HTTP (token, hosts).

The server processes talk to the test's sandbox over loopback HTTP.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from ctk_core.policy import WRITES_DISABLED_MESSAGE


@pytest.fixture
def anyio_backend():
    return "asyncio"


def ctk_command() -> list[str]:
    exe = shutil.which("ctk", path=os.path.dirname(sys.executable))
    return [exe] if exe else [sys.executable, "-c", "from ctk_core.cli import main; main()"]


def server_env(sandbox, **extra) -> dict[str, str]:
    env = dict(os.environ)
    env.update(sandbox.client_env)
    env.update(extra)
    return env


# --- stdio ------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_stdio_subprocess_with_the_sdk_client(confluence_sandbox):
    from mcp import Client, StdioServerParameters

    command = ctk_command()
    params = StdioServerParameters(
        command=command[0], args=[*command[1:], "mcp"], env=server_env(confluence_sandbox)
    )
    async with Client(params) as client:
        names = [t.name for t in (await client.list_tools()).tools]
        assert "manage_spaces" in names
        assert "manage_users" in names
        result = await client.call_tool("manage_spaces", {"action": "list"})
        assert not result.is_error
        keys = [s["key"] for s in json.loads(result.content[0].text)["results"]]
        assert "DEMO" in keys
        result = await client.call_tool(
            "manage_spaces", {"action": "create", "key": "X", "name": "x"}
        )
        assert result.is_error
        assert result.content[0].text == WRITES_DISABLED_MESSAGE


@pytest.mark.anyio
async def test_stdio_search_leaves_out_a_disabled_tools_content(confluence_sandbox):
    # `ctk mcp` builds the server with a context of its own: the policy still decides
    from mcp import Client, StdioServerParameters

    command = ctk_command()
    env = server_env(confluence_sandbox, CTK_DISABLED_TOOLS="manage_comments,manage_attachments")
    params = StdioServerParameters(command=command[0], args=[*command[1:], "mcp"], env=env)
    query = "type IN (page, folder, comment, attachment)"
    async with Client(params) as client:
        result = await client.call_tool(
            "manage_search", {"action": "cql", "cql": query, "limit": 100}
        )
        assert not result.is_error
        types = {hit["type"] for hit in json.loads(result.content[0].text)["results"]}
        assert types == {"page", "folder"}


def _rpc(proc, message) -> None:
    proc.stdin.write((message if isinstance(message, str) else json.dumps(message)) + "\n")
    proc.stdin.flush()


def _read_answer(proc, want_id):
    while True:
        line = proc.stdout.readline()
        assert line, "the server closed stdout"
        data = json.loads(line)  # every stdout line is a JSON-RPC message
        assert data.get("jsonrpc") == "2.0"
        if data.get("id") == want_id:
            return data


def test_stdio_survives_junk_and_malformed_requests(confluence_sandbox):
    proc = subprocess.Popen(
        [*ctk_command(), "mcp"],
        env=server_env(confluence_sandbox),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _rpc(proc, "this is not json {{{")
        _rpc(
            proc,
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "junk-test", "version": "0"},
                },
            },
        )
        assert _read_answer(proc, 1)["result"]["serverInfo"]["name"] == "ctk"
        _rpc(proc, {"jsonrpc": "2.0", "method": "notifications/initialized"})
        _rpc(proc, "[1, 2, 3]")
        _rpc(proc, {"jsonrpc": "2.0", "id": 2, "method": "no/such/method"})
        assert _read_answer(proc, 2)["error"]["code"] == -32601
        _rpc(
            proc,
            {
                "jsonrpc": "2.0",
                "id": 3,
                "method": "tools/call",
                "params": {"name": "manage_spaces", "arguments": {"action": 5, "x": None}},
            },
        )
        answer = _read_answer(proc, 3)["result"]
        assert answer["isError"] is True
        assert "'action'" in answer["content"][0]["text"]
        _rpc(
            proc,
            {
                "jsonrpc": "2.0",
                "id": 4,
                "method": "tools/call",
                "params": {"name": "manage_spaces", "arguments": "not an object"},
            },
        )
        assert _read_answer(proc, 4)["error"]["code"] == -32602  # a protocol error, no crash
        _rpc(proc, {"jsonrpc": "2.0", "id": 41, "method": "tools/call"})
        assert _read_answer(proc, 41)["error"]["code"] == -32602
        _rpc(
            proc,
            {
                "jsonrpc": "2.0",
                "id": 5,
                "method": "tools/call",
                "params": {
                    "name": "manage_spaces",
                    "arguments": {"action": "list", "limit": "many"},
                },
            },
        )
        answer = _read_answer(proc, 5)["result"]
        assert answer["isError"] is True
        assert "'limit'" in answer["content"][0]["text"]
        _rpc(
            proc,
            {
                "jsonrpc": "2.0",
                "id": 6,
                "method": "tools/call",
                "params": {"name": "manage_spaces", "arguments": {"action": "list"}},
            },
        )
        answer = _read_answer(proc, 6)["result"]
        assert not answer.get("isError")
        assert answer["structuredContent"]["results"]
        assert proc.poll() is None  # still serving
    finally:
        proc.stdin.close()
        proc.wait(timeout=20)
    assert proc.returncode == 0
    stderr = proc.stderr.read()
    assert confluence_sandbox.token not in stderr


def test_stdio_with_the_global_sandbox_flag():
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFLUENCE_")}
    proc = subprocess.Popen(
        [*ctk_command(), "--sandbox", "mcp"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _rpc(
            proc,
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {},
                    "clientInfo": {"name": "sandbox-test", "version": "0"},
                },
            },
        )
        _read_answer(proc, 1)
        _rpc(proc, {"jsonrpc": "2.0", "method": "notifications/initialized"})
        _rpc(
            proc,
            {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "tools/call",
                "params": {"name": "manage_spaces", "arguments": {"action": "list"}},
            },
        )
        answer = _read_answer(proc, 2)["result"]
        assert "DEMO" in [s["key"] for s in answer["structuredContent"]["results"]]
    finally:
        proc.stdin.close()
        proc.wait(timeout=20)
    assert proc.returncode == 0


def test_stdio_without_credentials_refuses_to_start():
    proc = subprocess.run(
        [*ctk_command(), "mcp"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 3
    assert proc.stdout == ""
    assert "ctk auth" in proc.stderr
    assert "--no-auth" in proc.stderr


# --- streamable HTTP --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def http_server(confluence_sandbox):
    procs = []

    def start(*args: str, **env: str):
        port = free_port()
        proc = subprocess.Popen(
            [*ctk_command(), "mcp", "--port", str(port), *args],
            env=server_env(confluence_sandbox, **env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        procs.append(proc)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(f"server exited: {proc.stderr.read()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        return f"http://127.0.0.1:{port}/mcp"

    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        assert proc.stdout.read() == ""  # nothing but protocol: and HTTP serving prints nothing


def post(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "0"},
            },
        }
    ).encode()
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
            **(headers or {}),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def _client(url: str, token: str | None = None):
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return Client(streamable_http_client(url, http_client=httpx2.AsyncClient(headers=headers)))


@pytest.mark.anyio
async def test_http_with_bearer_token(http_server):
    token = "s3cret-" + "x" * 20
    url = http_server(CTK_MCP_TOKEN=token)
    status, headers, body = post(url)
    assert status == 401
    assert "bearer" in headers.get("www-authenticate", "").lower()
    assert json.loads(body)["error"] == "invalid_token"
    assert post(url, {"Authorization": "Bearer wrong"})[0] == 401
    assert post(url, {"Authorization": f"Basic {token}"})[0] == 401
    assert post(url, {"Authorization": f"Bearer {token}"})[0] == 200
    # DNS rebinding: a right token with a foreign Host is still refused
    assert post(url, {"Authorization": f"Bearer {token}", "Host": "evil.example:80"})[0] == 421
    async with _client(url, token) as client:
        names = [t.name for t in (await client.list_tools()).tools]
        assert "manage_spaces" in names
        result = await client.call_tool("manage_users", {"action": "get_current"})
        assert not result.is_error
        assert result.structured_content["account_id"]


@pytest.mark.anyio
async def test_http_loopback_without_token(http_server):
    url = http_server()
    assert post(url)[0] == 200
    assert post(url, {"Host": "evil.example"})[0] == 421
    assert post(url, {"Origin": "http://evil.example"})[0] == 403
    assert post(url, {"Origin": "http://localhost:3000"})[0] == 200
    async with _client(url) as client:
        result = await client.call_tool("manage_spaces", {"action": "get", "space_id": "DEMO"})
        assert result.structured_content["key"] == "DEMO"


def test_http_non_loopback_without_token_refused(confluence_sandbox):
    proc = subprocess.run(
        [*ctk_command(), "mcp", "--port", str(free_port()), "--host", "0.0.0.0"],
        env=server_env(confluence_sandbox),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 4
    assert "CTK_MCP_TOKEN" in proc.stderr
    assert "0.0.0.0" in proc.stderr


def test_host_needs_port(confluence_sandbox):
    proc = subprocess.run(
        [*ctk_command(), "mcp", "--host", "127.0.0.1"],
        env=server_env(confluence_sandbox),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 2
    assert "--port" in proc.stderr


async def _load(url: str, sessions: int, calls: int) -> list[bool]:
    """``sessions`` HTTP sessions at once, each with ``calls`` concurrent tool calls; whether
    each call succeeded."""
    import anyio

    outcomes: list[bool] = []

    async def session() -> None:
        async with _client(url) as client:

            async def call() -> None:
                result = await client.call_tool("manage_spaces", {"action": "list", "limit": 5})
                assert result.is_error or result.structured_content["results"]
                assert not result.is_error or "rate limit" in client_text(result).lower()
                outcomes.append(not result.is_error)

            async with anyio.create_task_group() as calls_group:
                for _ in range(calls):
                    calls_group.start_soon(call)

    async with anyio.create_task_group() as group:
        for _ in range(sessions):
            group.start_soon(session)
    return outcomes


def client_text(result) -> str:
    return "".join(getattr(block, "text", "") for block in result.content)


@pytest.mark.anyio
async def test_http_under_load_all_calls_succeed(http_server, confluence_sandbox):
    url = http_server(CTK_RATE_LIMIT="off")
    outcomes = await _load(url, sessions=5, calls=10)
    assert outcomes == [True] * 50
    assert len(confluence_sandbox.requests.find("GET", "/wiki/api/v2/spaces")) == 50


@pytest.mark.anyio
async def test_http_under_load_the_bucket_hands_out_exactly_its_budget(
    http_server, confluence_sandbox
):
    url = http_server(CTK_RATE_LIMIT="30/3600")
    outcomes = await _load(url, sessions=5, calls=10)
    assert len(outcomes) == 50
    assert outcomes.count(True) == 30
    assert len(confluence_sandbox.requests.find("GET", "/wiki/api/v2/spaces")) == 30
