"""Path-pattern routing and the request object handlers receive."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from ctk_core.sandbox.responses import HttpError, Response

Handler = Callable[..., Response]

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_-]*)\}")

#: Limit on create bodies (pages, folders, spaces), as the real API documents.
MAX_CREATE_BYTES = 5 * 1024 * 1024


@dataclass
class Request:
    """One HTTP request as a handler sees it.

    ``path`` is the site-relative path (always starting ``/wiki/...`` or ``/_edge/...``, with the
    gateway prefix removed); ``base`` is the site base URL the client used (the plain
    ``http://127.0.0.1:PORT`` or the gateway form ``http://127.0.0.1:PORT/ex/confluence/<cloudId>``);
    ``wiki_base`` is ``base + "/wiki"``; ``user`` the authenticated account id.
    """

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    state: Any
    base: str = ""
    user: str | None = None
    #: The site's largest page of a list (``SandboxServer.max_page_size``): a bigger ``limit``
    #: is cut to it silently, as Confluence Cloud does on some sites. None: 250.
    max_page_size: int | None = None

    @property
    def wiki_base(self) -> str:
        return self.base + "/wiki"

    @property
    def is_v1(self) -> bool:
        return not self.path.startswith("/wiki/api/v2")

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    # -- body ---------------------------------------------------------------------------------
    def json(self) -> Any:
        """The parsed JSON body; 400 when it is missing or not JSON."""
        if not self.body:
            raise HttpError(400, "A request body is required.")
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise HttpError(400, f"Invalid JSON in request body: {exc}") from None

    def json_object(self) -> dict[str, Any]:
        data = self.json()
        if not isinstance(data, dict):
            raise HttpError(400, "The request body must be a JSON object.")
        return data

    def check_create_size(self) -> None:
        """413 for a create request over 5 MB, as the real API answers."""
        if len(self.body) > MAX_CREATE_BYTES:
            raise HttpError(413, "Request entity too large: the limit is 5 MB.")

    # -- query parameters ---------------------------------------------------------------------
    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def args(self, name: str) -> list[str]:
        """All values of a multi-valued parameter: repeated (``?id=1&id=2``) or comma-separated."""
        out: list[str] = []
        for value in self.query.get(name, []):
            out.extend(v for v in value.split(",") if v != "")
        return out

    def int_arg(
        self,
        name: str,
        default: int | None = None,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int | None:
        raw = self.arg(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise HttpError(400, f"Invalid value for parameter '{name}': {raw!r}") from None
        if minimum is not None and value < minimum:
            raise HttpError(400, f"Parameter '{name}' must be at least {minimum}.")
        if maximum is not None and value > maximum:
            raise HttpError(400, f"Parameter '{name}' must be at most {maximum}.")
        return value

    def bool_arg(self, name: str, default: bool = False) -> bool:
        raw = self.arg(name)
        if raw is None or raw == "":
            return default
        if raw.lower() in ("true", "1"):
            return True
        if raw.lower() in ("false", "0"):
            return False
        raise HttpError(400, f"Invalid boolean for parameter '{name}': {raw!r}")

    def choice_arg(
        self, name: str, choices: tuple[str, ...] | list[str], default: str | None = None
    ) -> str | None:
        raw = self.arg(name)
        if raw is None or raw == "":
            return default
        if raw not in choices:
            raise HttpError(
                400,
                f"Invalid value for parameter '{name}': {raw!r}; "
                f"expected one of {', '.join(choices)}.",
            )
        return raw


@dataclass
class Route:
    method: str
    pattern: str
    regex: re.Pattern[str]
    names: list[str]
    handler: Handler


class Router:
    """Maps (method, path) to a handler. Path parameters ``{id}``/``{page-id}`` become keyword
    arguments ``id``/``page_id`` (hyphens turn into underscores); values are URL-decoded."""

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self._ordered: list[Route] = []
        self._by_key: dict[tuple[str, str], Route] = {}

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        def decorator(func: Handler) -> Handler:
            self.add(method, pattern, func)
            return func

        return decorator

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        method = method.upper()
        names: list[str] = []
        parts = _PARAM.split(pattern)
        regex_src = ""
        for i, part in enumerate(parts):
            if i % 2 == 0:
                regex_src += re.escape(part)
            else:
                names.append(part.replace("-", "_"))
                regex_src += "([^/]+)"
        key = (method, _PARAM.sub("{}", pattern))
        route = Route(method, pattern, re.compile(f"^{regex_src}$"), names, handler)
        if key in self._by_key:
            # A later registration (e.g. a plugin) replaces an earlier one for the same route.
            self.routes.remove(self._by_key[key])
        self._by_key[key] = route
        self.routes.append(route)
        # Literal paths win over templated ones (``/content/search`` before ``/content/{id}``).
        self._ordered = sorted(self.routes, key=lambda r: len(r.names))

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """(route, params, path_known): path_known tells 405 from 404 when no route matched."""
        path_known = False
        for route in self._ordered:
            m = route.regex.match(path)
            if m is None:
                continue
            if route.method != method:
                path_known = True
                continue
            pairs = zip(route.names, m.groups(), strict=True)
            params = {name: unquote(value) for name, value in pairs}
            return route, params, True
        return None, {}, path_known
