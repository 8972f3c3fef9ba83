"""Every malformed stdio request that carries an id gets its JSON-RPC error, with that id.

The real ``ctk mcp`` process, against the test's sandbox, gets raw lines: params that are no
object, a lone surrogate, arguments 5,000 deep, batches, no JSON, ids that are no ids (issue 11).
Each line must be answered within a few seconds (a missing answer fails the test), and a good
call afterwards must still work: the server stays alive.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading

import pytest

#: Seconds to wait for an answer; the server answers in milliseconds.
ANSWER_TIMEOUT = 5


def ctk_command() -> list[str]:
    exe = shutil.which("ctk", path=os.path.dirname(sys.executable))
    return [exe] if exe else [sys.executable, "-c", "from ctk_core.cli import main; main()"]


class StdioServer:
    """``ctk mcp`` as a subprocess, initialized; ``send`` a raw line, ``answer`` reads one."""

    def __init__(self, sandbox) -> None:
        self.proc = subprocess.Popen(
            [*ctk_command(), "mcp"],
            env={**os.environ, **sandbox.client_env},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self.send(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "malformed-test", "version": "0"},
                },
            }
        )
        assert self.answer(timeout=60)["result"]["serverInfo"]["name"] == "ctk"
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)

    def send(self, message: object) -> None:
        self.proc.stdin.write((message if isinstance(message, str) else json.dumps(message)) + "\n")
        self.proc.stdin.flush()

    def answer(self, timeout: float = ANSWER_TIMEOUT):
        """The next line the server writes, parsed; fails if none comes in time."""
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no answer within {timeout} s") from None
        return json.loads(line)

    def error(self, line: str, rid: object) -> dict:
        """Send a line and return the error of its answer, checking the answer's id."""
        self.send(line)
        answer = self.answer()
        assert answer["jsonrpc"] == "2.0"
        assert answer["id"] == rid
        assert "result" not in answer
        return answer["error"]

    def still_serves(self) -> None:
        """A good call right after still works."""
        self.send(
            {
                "jsonrpc": "2.0",
                "id": "good",
                "method": "tools/call",
                "params": {"name": "manage_spaces", "arguments": {"action": "list"}},
            }
        )
        answer = self.answer(timeout=30)
        assert answer["id"] == "good"
        assert not answer["result"].get("isError")
        assert "DEMO" in [s["key"] for s in answer["result"]["structuredContent"]["results"]]
        assert self.proc.poll() is None


@pytest.fixture
def stdio(confluence_sandbox):
    server = StdioServer(confluence_sandbox)
    yield server
    server.proc.stdin.close()
    assert server.proc.wait(timeout=20) == 0
    assert server.lines.empty()  # nothing answered twice
    stderr = server.proc.stderr.read()
    assert "Traceback" not in stderr
    assert "RecursionError" not in stderr


def call(rid: object, params: str) -> str:
    return f'{{"jsonrpc":"2.0","id":{json.dumps(rid)},"method":"tools/call","params":{params}}}'


def test_params_that_are_no_object_are_invalid_params(stdio):
    assert stdio.error(call(7, '["a"]'), 7)["code"] == -32602
    stdio.still_serves()
    assert stdio.error(call("seven", '"manage_spaces"'), "seven")["code"] == -32602
    stdio.still_serves()
    tools_list = '{"jsonrpc":"2.0","id":8,"method":"tools/list","params":[]}'
    assert stdio.error(tools_list, 8)["code"] == -32602
    stdio.still_serves()


def test_a_lone_surrogate_is_invalid_params(stdio):
    for rid, arguments in [
        (7, r'{"action":"list","type":"\ud800"}'),
        (8, r'{"action":"\udfff"}'),
        (9, r'{"action":"list","x\ud800":1}'),
    ]:
        params = f'{{"name":"manage_spaces","arguments":{arguments}}}'
        error = stdio.error(call(rid, params), rid)
        assert error["code"] == -32602
        assert "surrogate" in error["message"]
        stdio.still_serves()


def test_a_surrogate_pair_is_text(stdio):
    # The control case: a valid pair is an emoji, and the tool itself answers.
    stdio.send(call(7, r'{"name":"manage_spaces","arguments":{"action":"\ud83d\ude00"}}'))
    answer = stdio.answer()
    assert answer["id"] == 7
    assert answer["result"]["isError"] is True
    assert "\U0001f600" in answer["result"]["content"][0]["text"]
    # ... and a lone surrogate right after it is refused.
    lone = call(8, r'{"name":"manage_spaces","arguments":{"action":"\ud83d"}}')
    assert stdio.error(lone, 8)["code"] == -32602
    stdio.still_serves()


@pytest.mark.parametrize("depth", [5000, 300_000])
def test_deeply_nested_arguments_are_invalid_params(stdio, depth):
    deep = "[" * depth + "]" * depth
    params = f'{{"name":"manage_spaces","arguments":{{"a":{deep}}}}}'
    error = stdio.error(call(7, params), 7)
    assert error["code"] == -32602
    assert "deep" in error["message"]
    stdio.still_serves()
    # Nested objects, and a string id.
    deep = '{"a":' * depth + "1" + "}" * depth
    params = f'{{"name":"manage_spaces","arguments":{deep}}}'
    assert stdio.error(call("deep", params), "deep")["code"] == -32602
    stdio.still_serves()


def test_a_batch_is_answered_with_an_error_per_request(stdio):
    # JSON-RPC 2.0 answers each request of a batch (not its notifications) with its own id; MCP
    # dropped batches and allows only single messages on stdout: one -32600 line per request.
    batch = [
        {"jsonrpc": "2.0", "id": 10, "method": "tools/list"},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": "eleven", "method": "tools/call", "params": ["a"]},
        5,
    ]
    stdio.send(json.dumps(batch))
    answers = [stdio.answer() for _ in range(3)]
    assert [a["id"] for a in answers] == [10, "eleven", None]
    assert [a["error"]["code"] for a in answers] == [-32600] * 3
    assert "batch" in answers[0]["error"]["message"].lower()
    stdio.still_serves()
    # An empty array is one -32600 with id null (the JSON-RPC 2.0 spec's own example).
    assert stdio.error("[]", None)["code"] == -32600
    stdio.still_serves()


def test_a_line_that_is_no_json_is_a_parse_error(stdio):
    for line in ['{"jsonrpc":"2.0","id":12,', "not json {{{", '{"jsonrpc":"2.0","id":NaN}']:
        assert stdio.error(line, None)["code"] == -32700
        stdio.still_serves()
    # The SDK's own answer to an unknown method still comes, with its id.
    assert stdio.error('{"jsonrpc":"2.0","id":13,"method":"no/such"}', 13)["code"] == -32601
    stdio.still_serves()


def test_requests_that_are_no_requests_are_invalid(stdio):
    for line, rid in [
        ('{"id":14,"method":"tools/list"}', 14),  # no "jsonrpc"
        ('{"jsonrpc":"1.0","id":15,"method":"tools/list"}', 15),
        ('{"jsonrpc":"2.0","id":16,"method":5}', 16),
        ('{"jsonrpc":"2.0","id":17}', 17),
        ('{"jsonrpc":"2.0","id":true,"method":"tools/list"}', None),  # ids that are no id
        ('{"jsonrpc":"2.0","id":null,"method":"tools/list"}', None),
        ('{"jsonrpc":"2.0","id":1.5,"method":"tools/list"}', None),
        ('{"jsonrpc":"2.0","id":{"a":1},"method":"tools/list"}', None),
        ('"tools/list"', None),
    ]:
        assert stdio.error(line, rid)["code"] == -32600, line
        stdio.still_serves()
    # Malformed notifications have no id to answer: nothing comes, the next call is answered.
    stdio.send('{"jsonrpc":"2.0","method":"notifications/initialized","params":[1]}')
    stdio.send('{"jsonrpc":"2.0","method":"notifications/x","params":{"a":"\\ud800"}}')
    stdio.send("")
    stdio.still_serves()
