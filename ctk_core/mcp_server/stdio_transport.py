"""stdio for the MCP server: what MCP clients start. Only protocol goes to stdout.

One JSON-RPC message a line, both ways. The SDK's own stdio transport drops every line it cannot
read, so a malformed request that carries an id would never be answered and its client would wait
for its own timeout. This reader answers those lines itself, with the JSON-RPC error they deserve
and the request's id when it can be read, and hands every readable message to the SDK:

- not JSON (or NaN, Infinity): -32700, id null;
- not a request object (no ``"jsonrpc": "2.0"``, a method that is no string, an id that is no
  string or integer): -32600, with the id if it is one, else null;
- params that are no object, that hold a lone surrogate (``"\\ud800"``, no Unicode text), or that
  nest more than ``MAX_DEPTH`` levels deep: -32602 with the id;
- a batch (an array; MCP dropped batching in 2025-06-18): JSON-RPC 2.0 answers each request of a
  batch (not its notifications), here with -32600 and the request's id; as MCP allows only single
  messages on stdout, each answer is a line of its own. ``[]`` is one -32600, id null.

Notifications (no id) and responses are never answered: a line of those the SDK cannot read is
dropped, as before. Unknown methods are the SDK's (-32601).
"""

from __future__ import annotations

import json
import os
import re
import sys
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from mcp.server import Server
    from mcp.shared.message import SessionMessage

#: A line the SDK cannot read that nests deeper than this (the message itself is level 1) is
#: refused as too deep, its id read from the top level alone. The SDK's parser stops about there.
MAX_DEPTH = 200

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
INVALID_PARAMS = -32602
_BATCH = "Batches are not supported (MCP 2025-06-18); send one request a line."

_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]|[^"\[\]{}]+', re.DOTALL)
_SURROGATE = re.compile("[\ud800-\udfff]")


def serve_stdio(server: Server) -> None:
    """Serve over stdin/stdout until the client closes stdin."""
    import anyio

    wire_in, wire_out = _take_the_wire()
    anyio.run(_serve, server, wire_in, wire_out)


def _take_the_wire() -> tuple[IO[bytes], IO[bytes]]:
    """Private copies of stdin and stdout carry the protocol; fd 0 then reads the null device and
    fd 1 writes to stderr, so a stray read or print (of a handler or a child) misses the wire."""
    sys.stdout.flush()
    wire_in = os.fdopen(os.dup(0), "rb")
    wire_out = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    return wire_in, wire_out


async def _serve(server: Server, wire_in: IO[bytes], wire_out: IO[bytes]) -> None:
    import io

    import anyio
    from mcp.shared.message import SessionMessage

    lines = anyio.wrap_file(io.TextIOWrapper(wire_in, encoding="utf-8", errors="replace"))
    out = anyio.wrap_file(io.TextIOWrapper(wire_out, encoding="utf-8"))
    to_server, from_client = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    to_client, from_server = anyio.create_memory_object_stream[SessionMessage](0)
    lock = anyio.Lock()

    async def write(text: str) -> None:
        async with lock:
            await out.write(text + "\n")
            await out.flush()

    async def read_lines() -> None:
        async with to_server:
            async for line in lines:
                message, answers = read_message(line)
                if message is not None:
                    await to_server.send(message)
                for answer in answers:
                    await write(json.dumps(answer))

    async def write_messages() -> None:
        async with from_server:
            async for item in from_server:
                await write(item.message.model_dump_json(by_alias=True, exclude_unset=True))

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(read_lines)
        tasks.start_soon(write_messages)
        await server.run(from_client, to_client, server.create_initialization_options())
        await to_client.aclose()  # the writer ends once it has written the last answers


def read_message(line: str) -> tuple[SessionMessage | None, list[dict[str, Any]]]:
    """One line from the client: the message for the SDK, or else the answers to write back
    (none for a notification or a response)."""
    import mcp_types as types
    from mcp.shared.message import SessionMessage
    from pydantic import ValidationError

    if not line.strip():
        return None, []
    try:
        message = types.jsonrpc_message_adapter.validate_json(line, by_name=False)
    except ValidationError:
        return None, _refusal(line)
    if isinstance(message, types.JSONRPCNotification) and '"id"' in line:
        data = json.loads(line)  # the SDK read a request whose id is no id as a notification
        if isinstance(data, dict) and "id" in data:
            return None, [_error(None, INVALID_REQUEST, "The id must be a string or an integer.")]
    return SessionMessage(message), []


def _refusal(line: str) -> list[dict[str, Any]]:
    """The answers to a line the SDK cannot read."""
    deepest, shallow = _shallow(line)
    try:
        data = json.loads(shallow if deepest > MAX_DEPTH else line, parse_constant=_not_json)
    except ValueError:
        return [_error(None, PARSE_ERROR, "Parse error: the line is not JSON.")]
    if isinstance(data, list):
        if not data:
            return [_error(None, INVALID_REQUEST, "An empty batch is no request.")]
        return [_error(_id_of(e), INVALID_REQUEST, _BATCH) for e in data if not _unanswered(e)]
    if _unanswered(data):
        return []
    rid = _id_of(data)
    if not isinstance(data, dict) or "id" not in data:
        return [_error(None, INVALID_REQUEST, "A request is an object with a method and an id.")]
    if rid is None:
        return [_error(None, INVALID_REQUEST, "The id must be a string or an integer.")]
    if data.get("jsonrpc") != "2.0" or not _is_text(data.get("method")):
        return [_error(rid, INVALID_REQUEST, 'A request needs "jsonrpc": "2.0" and a method name.')]
    params = data.get("params")
    if deepest > MAX_DEPTH:  # in the params: the only member of a request that holds containers
        return [_error(rid, INVALID_PARAMS, f"Invalid params: more than {MAX_DEPTH} levels deep.")]
    if not isinstance(params, dict):
        return [_error(rid, INVALID_PARAMS, "Invalid params: params must be an object.")]
    if _SURROGATE.search(json.dumps(params, ensure_ascii=False)):
        return [_error(rid, INVALID_PARAMS, "Invalid params: a lone surrogate is no Unicode text.")]
    return [_error(rid, INVALID_PARAMS, "Invalid params.")]


def _shallow(text: str) -> tuple[int, str]:
    """How deep the JSON text nests, and the text with every container below the top level
    replaced by null: json.loads reads that however deep the original is."""
    depth = deepest = 0
    kept = []
    for token in _TOKENS.findall(text):
        opening = token in ("[", "{")
        if opening:
            depth += 1
            deepest = max(deepest, depth)
        if depth <= 1:
            kept.append(token)
        elif opening and depth == 2:
            kept.append("null")
        if token in ("]", "}"):
            depth -= 1
    return deepest, "".join(kept)


def _unanswered(data: Any) -> bool:
    """A notification (a method, no id) or a response (a result or an error, no method)."""
    if not isinstance(data, dict):
        return False
    if "method" in data:
        return "id" not in data
    return "result" in data or "error" in data


def _id_of(data: Any) -> Any:
    """The request's id, or None when it has none that is a string or an integer."""
    rid = data.get("id") if isinstance(data, dict) else None
    return rid if _is_text(rid) or (isinstance(rid, int) and not isinstance(rid, bool)) else None


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and not _SURROGATE.search(value)


def _error(rid: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": rid, "error": {"code": code, "message": message}}
