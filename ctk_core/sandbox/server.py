"""The sandbox HTTP server: a stateful, offline Confluence Cloud on loopback.

Router contract (for route modules, ours and plugins')
------------------------------------------------------
A route module defines ``register(router)`` and declares handlers with path patterns::

    from ctk_core.sandbox.server import HttpError, json_response, paginate

    def register(router):
        @router.route("GET", "/wiki/api/v2/pages/{id}/labels")
        def page_labels(req, id):
            page = req.state.pages.get(id) or raise_404()
            return paginate(req, labels_of(page), serialize=label_json)

- Patterns are site-relative and start ``/wiki/...``; ``{name}`` matches one path segment and is
  passed URL-decoded as a keyword argument (``{page-id}`` arrives as ``page_id``). Every route is
  also served under the scoped-token gateway form ``/ex/confluence/<cloudId>/wiki/...``.
- ``req`` (a ``Request``): ``method``, ``path`` (site-relative, gateway prefix removed), ``query``
  (``dict[str, list[str]]``), ``headers`` (lower-case names), ``body`` (bytes), ``json()``
  (parsed, or 400), ``state`` (the ``State``), ``base`` (site base URL as the client used it:
  ``http://127.0.0.1:PORT`` or ``http://127.0.0.1:PORT/ex/confluence/<cloudId>``), ``wiki_base``
  (``base + "/wiki"``), ``user`` (account id of the caller), plus ``arg``/``args``/``int_arg``/
  ``bool_arg``/``choice_arg`` helpers that answer 400 on bad values.
- A handler returns a ``Response``: ``json_response(obj, status=200, headers=None)``,
  ``empty_response(204)``, ``v2_error(status, code, title, detail=None)``,
  ``v1_error(status, message, reason=None)``, ``paginate(req, items, serialize,
  default_limit=25, max_limit=250)`` (opaque cursor, ``_links.next`` starting ``/wiki/``,
  ``_links.base``, ``Link`` header; 400 over the maximum), or ``Response(stream=..., headers=
  {"Content-Length": ...})`` for large downloads. For errors, raise ``HttpError(status, title)``:
  it renders in the v2 shape under ``/wiki/api/v2`` and the v1 shape elsewhere.
- Each request is one transaction on the state (``state.py``), with ``req.state.lock`` held: a
  GET sees the site as it was when it started; a POST/PUT/DELETE/PATCH waits its turn among
  every process sharing the database, and what its handler changed is kept when it answers
  below 400 and dropped otherwise (or when it raises). Handlers should not change the state on
  a GET: such a change is not written until this process's next write.

Plugins teach the sandbox their endpoints through the ``ctk_sandbox_routes(router)`` hook.

Admin endpoints (loopback only, no auth): ``/__sandbox__/faults`` (GET lists, POST adds one fault
or a list, DELETE clears; see ``faults.py``), ``/__sandbox__/requests`` (GET lists the requests
received, DELETE clears), ``POST /__sandbox__/reset`` (``{"seed": "demo"|"empty"}``),
``GET /__sandbox__/info``.
"""

from __future__ import annotations

import base64
import binascii
import collections
import importlib
import ipaddress
import json
import socket
import sqlite3
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ctk_core.sandbox.faults import Faults
from ctk_core.sandbox.paging import decode_cursor, encode_cursor, page_window, paginate
from ctk_core.sandbox.responses import (
    JSON_TYPE,
    HttpError,
    Response,
    empty_response,
    json_response,
    reason_phrase,
    v1_error,
    v2_error,
)
from ctk_core.sandbox.router import Request, Router
from ctk_core.sandbox.seed import seed as seed_state
from ctk_core.sandbox.state import State

__all__ = [
    "HttpError",
    "Request",
    "RequestLog",
    "Response",
    "Router",
    "SandboxServer",
    "build_router",
    "decode_cursor",
    "empty_response",
    "encode_cursor",
    "json_response",
    "page_window",
    "paginate",
    "v1_error",
    "v2_error",
]

#: The sandbox's own route modules (each exposes ``register(router)``).
ROUTE_MODULES = (
    "routes_spaces",
    "routes_pages",
    "routes_folders",
    "routes_comments",
    "routes_labels",
    "routes_attachments",
    "routes_users",
    "routes_search",
    "routes_templates",
    "routes_restrictions",
)

GATEWAY_PREFIX = "/ex/confluence/"
ADMIN_PREFIX = "/__sandbox__/"
_LOG_BODY_LIMIT = 64 * 1024
_WRITE_METHODS = ("POST", "PUT", "DELETE", "PATCH")


def build_router(plugins: bool = True) -> Router:
    """A router with the sandbox's own route modules and, if asked, the plugins' routes."""
    router = Router()
    for name in ROUTE_MODULES:
        importlib.import_module(f"ctk_core.sandbox.{name}").register(router)
    if plugins:
        _plugin_routes(router)
    return router


def _plugin_routes(router: Router) -> None:
    """Routes of loaded plugins (``ctk_sandbox_routes``), one plugin at a time so that one
    failing plugin leaves the others' routes in place."""
    try:
        from ctk_core.registry import call_per_plugin, load_catalog

        call_per_plugin(load_catalog(), "ctk_sandbox_routes", router=router)
    except Exception as exc:  # a broken plugin system must not take the sandbox down
        print(f"ctk sandbox: plugin routes failed: {exc}", file=sys.stderr)


def _is_loopback_peer(address: str) -> bool:
    """Whether a peer address (as the socket reports it: an IP, never a name) is this machine:
    127.0.0.0/8, ``::1`` or an IPv4-mapped loopback. The sandbox's own check, on purpose: it
    takes nothing from the client it exists to test."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return (mapped or ip).is_loopback


def _busy(req: Request, exc: Exception) -> Response:
    """503 with a Retry-After when the database stayed locked (or failed) for this request."""
    resp = HttpError(503, f"Sandbox database unavailable: {exc}").render(req.is_v1)
    resp.headers["Retry-After"] = "1"
    return resp


class RequestLog:
    """The requests received (newest last), without the Authorization header."""

    def __init__(self, maxlen: int = 10000) -> None:
        self._entries: collections.deque[dict[str, Any]] = collections.deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def add(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def find(self, method: str | None = None, path: str | None = None) -> list[dict[str, Any]]:
        """Entries with this method and whose path contains ``path``."""
        return [
            e
            for e in self.entries()
            if (method is None or e["method"] == method.upper())
            and (path is None or path in e["path"])
        ]

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.entries())


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sandbox: SandboxServer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.open_connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up (a timeout, an interrupted command) is no error of the sandbox's.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        """Drop open keep-alive connections, so a stopped sandbox answers nothing more."""
        with self.connections_lock:
            conns = list(self.open_connections)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ctk-sandbox"
    disable_nagle_algorithm = True
    server: _HTTPServer

    #: Idle keep-alive connections are closed after this many seconds.
    timeout = 300

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.open_connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.open_connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET

    # -- reading -------------------------------------------------------------------------------
    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            while True:
                size_line = self.rfile.readline().split(b";")[0].strip()
                size = int(size_line or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    # -- writing -------------------------------------------------------------------------------
    def _head(self, status: int, headers: dict[str, str], length: int) -> bytes:
        lines = [f"HTTP/1.1 {status} {reason_phrase(status)}", "Server: ctk-sandbox"]
        for name, value in headers.items():
            if name.lower() != "content-length":
                lines.append(f"{name}: {value}")
        lines.append(f"Content-Length: {length}")
        if self.close_connection:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _send(self, resp: Response) -> None:
        head_only = self.command == "HEAD"
        if resp.stream is not None:
            length = int(resp.headers.get("Content-Length", "0"))
            self.wfile.write(self._head(resp.status, resp.headers, length))
            if not head_only:
                for chunk in resp.stream:
                    self.wfile.write(chunk)
            return
        body = b"" if head_only else resp.body
        self.wfile.write(self._head(resp.status, resp.headers, len(resp.body)) + body)

    def _send_partial_and_close(self, resp: Response) -> None:
        """Headers promising the whole body, half of it, then a dropped connection."""
        body = resp.body or b'{"results":[],"_links":{}}'
        length = len(body)
        if resp.stream is not None:
            body = next(iter(resp.stream), b"") or b"\0"
            length = max(int(resp.headers.get("Content-Length", "0")), len(body) + 1)
        self.wfile.write(self._head(resp.status, resp.headers, length))
        self.wfile.write(body[: max(1, min(len(body), length // 2))])
        self.wfile.flush()
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- dispatch ------------------------------------------------------------------------------
    def _dispatch(self) -> None:
        sandbox = self.server.sandbox
        body = self._read_body()
        split = urlsplit(self.path)
        raw_path = split.path or "/"
        query = parse_qs(split.query, keep_blank_values=True)
        if raw_path.startswith(ADMIN_PREFIX):
            self._send(sandbox.admin(self, raw_path, query, body))
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        entry: dict[str, Any] = {
            "time": time.time(),
            "method": self.command,
            "path": raw_path,
            "query": query,
            "headers": {k: v for k, v in headers.items() if k != "authorization"},
            "body": body[:_LOG_BODY_LIMIT].decode("utf-8", "replace"),
            "body_size": len(body),
            "status": None,
        }
        sandbox.requests.add(entry)
        resp, close = sandbox.handle(self.command, raw_path, query, headers, body)
        entry["status"] = resp.status
        if close:
            self._send_partial_and_close(resp)
        else:
            self._send(resp)


class SandboxServer:
    """A running sandbox: ``SandboxServer(seed="demo").start()``; ``.url``; ``.stop()``."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: str = "demo",
        data: str | None = None,
        email: str | None = None,
        token: str | None = None,
        faults: list[str | dict[str, Any]] | None = None,
        plugins: bool = True,
        max_page_size: int | None = None,
    ) -> None:
        self.seed = seed
        #: Cut every list's ``limit`` to this (a site that caps page size); None: no cap.
        self.max_page_size = max_page_size
        self.email = email
        self.token = token
        self.state = State(data)
        self.state.initialize(lambda state: seed_state(state, seed))
        self.faults = Faults(faults)
        self.requests = RequestLog()
        self.router = build_router(plugins=plugins)
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.sandbox = self
        self._thread: threading.Thread | None = None
        bound_host, bound_port = self._httpd.server_address[:2]
        shown = bound_host if isinstance(bound_host, str) else bound_host.decode()
        if ":" in shown:
            shown = f"[{shown}]"
        self.url = f"http://{shown}:{bound_port}"

    @property
    def cloud_id(self) -> str:
        return self.state.cloud_id

    @property
    def gateway_url(self) -> str:
        """The scoped-token base URL form (``.../ex/confluence/<cloudId>``)."""
        return f"{self.url}{GATEWAY_PREFIX}{self.cloud_id}"

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> SandboxServer:
        # A short poll interval: stop() (shutdown) waits up to one interval.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="ctk-sandbox", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until ``request_shutdown()`` (e.g. from a signal)."""
        self._httpd.serve_forever()

    def request_shutdown(self) -> None:
        """Make ``serve_forever`` return soon; safe to call from a signal handler."""
        threading.Thread(target=self._httpd.shutdown, daemon=True).start()

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()
        self._httpd.close_connections()
        self.state.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self, seed: str | None = None) -> None:
        """Forget everything and seed again (the cloud id stays); faults and log are cleared."""
        self.state.refill(lambda state: seed_state(state, seed or self.seed))
        self.faults.clear()
        self.requests.clear()

    # -- request handling ----------------------------------------------------------------------
    def handle(
        self,
        method: str,
        raw_path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
    ) -> tuple[Response, bool]:
        """Answer one request: (response, drop the connection mid-body)."""
        host = headers.get("host")
        base = f"http://{host}" if host else self.url
        path = raw_path
        if path.startswith(GATEWAY_PREFIX):
            cloud_id, _, rest = path[len(GATEWAY_PREFIX) :].partition("/")
            if cloud_id != self.cloud_id or not rest.startswith("wiki/"):
                return json_response({"code": 404, "message": "Not Found"}, 404), False
            base = f"{base}{GATEWAY_PREFIX}{cloud_id}"
            path = "/" + rest
        v1 = not path.startswith("/wiki/api/v2")
        delay, fault = self.faults.pick(method, path)
        if delay:
            time.sleep(delay)
        if fault is not None and fault["kind"] != "close":
            return self._fault_response(fault, v1), False
        req = Request(method, path, query, headers, body, self.state, base=base)
        req.max_page_size = self.max_page_size
        resp = self._route(req)
        return resp, fault is not None

    def _route(self, req: Request) -> Response:
        if req.path == "/_edge/tenant_info" and req.method in ("GET", "HEAD"):
            return json_response({"cloudId": self.cloud_id})
        if not req.path.startswith("/wiki/"):
            return v2_error(404, "NOT_FOUND", f"No route for {req.path}")
        denied = self._authenticate(req)
        if denied is not None:
            return denied
        method = "GET" if req.method == "HEAD" else req.method
        route, params, known = self.router.match(method, req.path)
        if route is None:
            if known:
                return HttpError(405, f"Method {req.method} not allowed here").render(req.is_v1)
            return HttpError(404, f"No such endpoint: {req.method} {req.path}").render(req.is_v1)
        state = self.state
        try:
            state.begin(write=req.method in _WRITE_METHODS)
        except sqlite3.OperationalError as exc:  # another process held the database too long
            return _busy(req, exc)
        try:
            resp = route.handler(req, **params)
        except HttpError as err:
            state.rollback()
            return err.render(req.is_v1)
        except Exception as exc:
            state.rollback()
            traceback.print_exc(file=sys.stderr)
            return HttpError(500, f"Sandbox error: {exc!r}").render(req.is_v1)
        try:
            if resp.status < 400:
                state.commit()
            else:
                state.rollback()
        except sqlite3.OperationalError as exc:
            return _busy(req, exc)
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            return HttpError(500, f"Sandbox error: {exc!r}").render(req.is_v1)
        return resp

    def _authenticate(self, req: Request) -> Response | None:
        """Basic ``email:token`` (or a Bearer token); fixed credentials when configured."""
        scheme, _, credential = req.headers.get("authorization", "").partition(" ")
        scheme, credential = scheme.lower(), credential.strip()
        email: str | None = None
        ok = False
        if scheme == "basic":
            try:
                email, sep, token = base64.b64decode(credential).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                email, sep, token = None, "", ""
            ok = (
                bool(sep)
                and (self.email is None or email == self.email)
                and (self.token is None or token == self.token)
            )
        elif scheme == "bearer" and credential:
            ok = self.token is None or credential == self.token
        if not ok:
            resp = HttpError(401, "Unauthorized: valid Basic credentials are required.").render(
                req.is_v1
            )
            resp.headers["WWW-Authenticate"] = 'Basic realm="ctk sandbox"'
            return resp
        req.user = self._user_for(email)
        return None

    def _user_for(self, email: str | None) -> str | None:
        with self.state.lock:
            if email:
                for user in self.state.users.values():
                    if user.get("email") == email:
                        return str(user["accountId"])
            return self.state.current_user

    def _fault_response(self, fault: dict[str, Any], v1: bool) -> Response:
        kind = fault["kind"]
        if kind == "malformed":
            body = b'{"results":[{"id":"1","title":"trunc'
            return Response(fault.get("status") or 200, body, {"Content-Type": JSON_TYPE})
        if kind == "html":
            status = fault.get("status") or 503
            page = (
                f"<!DOCTYPE html><html><head><title>{status} {reason_phrase(status)}"
                f"</title></head><body><h1>{reason_phrase(status)}</h1><p>The server is "
                f"temporarily unable to service your request.</p></body></html>"
            )
            return Response(status, page.encode(), {"Content-Type": "text/html;charset=UTF-8"})
        status = int(kind)
        titles = {
            429: "Rate limit exceeded.",
            500: "Internal server error (injected).",
            502: "Bad gateway (injected).",
            503: "Service unavailable (injected).",
        }
        resp = HttpError(status, titles[status]).render(v1)
        if fault.get("retry_after") is not None:
            value = fault["retry_after"]
            resp.headers["Retry-After"] = str(int(value)) if value == int(value) else str(value)
        return resp

    # -- admin ---------------------------------------------------------------------------------
    def admin(
        self, handler: _Handler, path: str, query: dict[str, list[str]], body: bytes
    ) -> Response:
        if not _is_loopback_peer(handler.client_address[0]):
            return json_response({"message": "admin endpoints are loopback only"}, 403)
        method = handler.command
        name = path[len(ADMIN_PREFIX) :].strip("/")
        try:
            payload = json.loads(body) if body else None
        except ValueError:
            return json_response({"message": "invalid JSON"}, 400)
        if name == "faults":
            if method == "GET":
                return json_response({"faults": self.faults.active()})
            if method == "DELETE":
                self.faults.clear()
                return empty_response(204)
            if method in ("POST", "PUT"):
                if isinstance(payload, dict) and "faults" in payload:
                    payload = payload["faults"]
                elif isinstance(payload, dict) and "spec" in payload:
                    payload = payload["spec"]
                items: list[Any] = payload if isinstance(payload, list) else [payload]
                try:
                    if method == "PUT":
                        self.faults.replace(items)
                    else:
                        for item in items:
                            self.faults.add(item)
                except (ValueError, TypeError, AttributeError) as exc:
                    return json_response({"message": str(exc)}, 400)
                return json_response({"faults": self.faults.active()})
        elif name == "requests":
            if method == "GET":
                return json_response({"requests": self.requests.entries()})
            if method == "DELETE":
                self.requests.clear()
                return empty_response(204)
        elif name == "reset" and method == "POST":
            seed = (payload or {}).get("seed") if isinstance(payload, dict) else None
            try:
                self.reset(seed)
            except ValueError as exc:
                return json_response({"message": str(exc)}, 400)
            return json_response({"seed": seed or self.seed})
        elif name == "info" and method == "GET":
            return json_response(
                {
                    "url": self.url,
                    "cloudId": self.cloud_id,
                    "seed": self.seed,
                    "routes": [f"{r.method} {r.pattern}" for r in self.router.routes],
                }
            )
        return json_response({"message": f"no admin endpoint {method} {path}"}, 404)
