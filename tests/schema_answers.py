"""Schema-valid but unusual answers, made from Atlassian's OpenAPI files, and a server giving them.

``answer(specs, method, path, variant)`` makes the body of a success answer for one request, an
instance of the response schema the spec declares, in one of the ``VARIANTS``:

- ``full``: every property (to a depth), lists with one item: the ordinary answer;
- ``minimal``: only the required properties, lists empty (unless a minimum says otherwise);
- ``sparse``: only the required properties, lists with one item (items with no optional field);
- ``empty``: every property, every list empty (``results: []`` everywhere);
- ``nulls``: every property, the nullable ones null, lists with one item;
- ``blank``: every property, lists with one item, strings empty, numbers at their minimum or 0.

Deterministic: the same schema and variant always give the same instance. Strings are plausible
for their names (ids are digits, dates are ISO dates, a ``value`` is a small storage document
with a heading, so section and selection operations find something to work on); ``next``
links are never made, so listings end.

``AnswerServer(specs, variant)`` is a real HTTP server on 127.0.0.1 answering every request that
way (downloads get a few bytes); ``.log`` keeps ``(method, path, status)`` of each request.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

VARIANTS = ("full", "minimal", "sparse", "empty", "nulls", "blank")
#: Below this depth every property is made; deeper, only the required ones; deeper still, none.
ALL_PROPERTIES_DEPTH = 5
MAX_DEPTH = 9
#: Never made: they would send a listing after pages that do not exist.
SKIPPED = {"next"}
STORAGE = "<h2>Components</h2><p>Hello world, the Components section.</p>"
DOWNLOAD_BYTES = b"downloaded bytes"


def answer(specs: Any, method: str, path: str, variant: str) -> tuple[int, Any]:
    """(status, body) of a success answer; body None means no body. ``(404, None)`` when the
    spec has no such operation."""
    op = specs.find(method, path)
    if op is None:
        return 404, None
    codes = sorted(int(c) for c in op.raw.get("responses", {}) if str(c).isdigit())
    success = [c for c in codes if 200 <= c < 300] or [200]
    for code in success:
        schema = op.response_schema(code)
        if schema is not None:
            return code, Generator(op.spec, variant).make(schema, "", 0)
    return success[0], None


class Generator:
    """Makes instances of one spec file's schemas in one variant."""

    def __init__(self, spec: Any, variant: str) -> None:
        if variant not in VARIANTS:
            raise ValueError(f"unknown variant {variant!r}")
        self.spec = spec
        self.variant = variant

    def make(self, schema: dict[str, Any], name: str, depth: int) -> Any:
        schema = self.spec.deref(schema)
        if self.variant == "nulls" and schema.get("nullable") is True:
            return None
        if "allOf" in schema:
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                value = self.make(part, name, depth)
                if isinstance(value, dict):
                    merged.update(value)
            return merged
        for key in ("oneOf", "anyOf"):
            if schema.get(key):
                options = [self.spec.deref(o) for o in schema[key]]
                if self.variant == "nulls":
                    for option in options:
                        if option.get("type") == "null" or option.get("nullable") is True:
                            return None
                return self.make(options[0], name, depth)
        if schema.get("enum"):
            choices = [v for v in schema["enum"] if v is not None]
            return choices[0] if choices else None
        kind = schema.get("type")
        if kind is None:
            kind = "object" if "properties" in schema else "string"
        if kind == "object":
            return self._object(schema, depth)
        if kind == "array":
            return self._array(schema, name, depth)
        low = 0 if self.variant == "blank" else 1
        if kind == "integer":
            return int(schema.get("minimum", low))
        if kind == "number":
            return float(schema.get("minimum", low))
        if kind == "boolean":
            return False
        if self.variant == "blank":
            return "x" * int(schema.get("minLength", 0))
        return self._string(schema, name)

    def _object(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        props: dict[str, Any] = schema.get("properties") or {}
        required = set(schema.get("required") or [])
        if depth >= MAX_DEPTH:
            names = []
        elif self.variant in ("minimal", "sparse") or depth >= ALL_PROPERTIES_DEPTH:
            names = [n for n in props if n in required]
        else:
            names = list(props)
        return {
            name: self.make(props[name], name, depth + 1)
            for name in names
            if name not in SKIPPED or name in required
        }

    def _array(self, schema: dict[str, Any], name: str, depth: int) -> list[Any]:
        count = int(schema.get("minItems", 0))
        if self.variant in ("full", "sparse", "nulls", "blank") and depth < ALL_PROPERTIES_DEPTH:
            count = max(count, 1)
        items = schema.get("items") or {"type": "string"}
        return [self.make(items, name, depth + 1) for _ in range(count)]

    def _string(self, schema: dict[str, Any], name: str) -> str:
        fmt = schema.get("format", "")
        lowered = name.lower()
        if fmt == "date-time" or lowered.endswith(("at", "date", "when")):
            return "2024-01-15T10:00:00.000Z"
        if lowered == "id" or lowered.endswith("id") or fmt in ("int64", "int32"):
            return "101"
        if lowered == "value":
            return STORAGE
        if lowered in ("download", "downloadlink"):
            return "/download/attachments/101/text.txt?version=1"
        if lowered in ("webui", "editui", "tinyui", "self"):
            return "/spaces/KEY/pages/101"
        if lowered == "base":
            return ""
        if lowered == "key":
            return "KEY"
        if lowered in ("mediatype", "mimetype"):
            return "text/plain"
        return "text"


class AnswerServer:
    """A real HTTP server on 127.0.0.1 giving ``variant`` answers (see the module docstring)."""

    def __init__(self, specs: Any, variant: str) -> None:
        self.specs = specs
        self.variant = variant
        self.log: list[tuple[str, str, int]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                path = urlsplit(self.path).path
                if "/wiki/download/" in path or path.endswith("/download"):
                    status, body, kind = 200, DOWNLOAD_BYTES, "application/octet-stream"
                else:
                    status, data = answer(owner.specs, self.command, path, owner.variant)
                    body = b"" if data is None else json.dumps(data).encode()
                    kind = "application/json"
                    if status == 404:
                        body = json.dumps({"message": f"no spec operation for {path}"}).encode()
                owner.log.append((self.command, path, status))
                self.send_response(status)
                if status != 204:
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status != 204:
                    self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> AnswerServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
