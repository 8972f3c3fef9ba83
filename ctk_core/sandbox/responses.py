"""Responses and the two real Confluence error shapes (v2 ``errors[]`` and v1 ``statusCode``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

JSON_TYPE = "application/json;charset=UTF-8"

#: The v2 ``code`` used when a handler does not name one.
DEFAULT_CODES = {
    400: "INVALID_REQUEST_PARAMETER",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    410: "GONE",
    413: "REQUEST_ENTITY_TOO_LARGE",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_SERVER_ERROR",
    502: "BAD_GATEWAY",
    503: "SERVICE_UNAVAILABLE",
}


def reason_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


@dataclass
class Response:
    """What a handler returns: a status, headers and either ``body`` bytes or a ``stream``.

    A ``stream`` (an iterable of bytes chunks, e.g. a file read in blocks) must come with a
    ``Content-Length`` header; it is written after the state lock is released.
    """

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    stream: Iterable[bytes] | None = None


def json_response(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    all_headers = {"Content-Type": JSON_TYPE}
    if headers:
        all_headers.update(headers)
    return Response(status, body, all_headers)


def empty_response(status: int = 204) -> Response:
    return Response(status, b"", {})


def v2_error(status: int, code: str | None, title: str, detail: str | None = None) -> Response:
    """``{"errors":[{"status","code","title","detail"}]}`` as the v2 API answers."""
    error = {
        "status": status,
        "code": code or DEFAULT_CODES.get(status, "ERROR"),
        "title": title,
        "detail": detail,
    }
    return json_response({"errors": [error]}, status)


def v1_error(status: int, message: str, reason: str | None = None) -> Response:
    """``{"statusCode","data":{...},"message","reason"}`` as the v1 API answers."""
    body = {
        "statusCode": status,
        "data": {
            "authorized": status not in (401, 403),
            "valid": status >= 500 or status == 409,
            "errors": [],
            "successful": False,
        },
        "message": message,
        "reason": reason or reason_phrase(status),
    }
    return json_response(body, status)


class HttpError(Exception):
    """Raise from a handler to answer an error in the shape of the API being called.

    ``HttpError(404, "Page not found")`` renders as the v2 shape under ``/wiki/api/v2`` and as the
    v1 shape elsewhere; pass ``response=`` to answer exactly that response instead.
    """

    def __init__(
        self,
        status: int,
        title: str = "",
        *,
        code: str | None = None,
        detail: str | None = None,
        response: Response | None = None,
    ) -> None:
        super().__init__(title or reason_phrase(status))
        self.status = status
        self.title = title or reason_phrase(status)
        self.code = code
        self.detail = detail
        self.response = response

    def render(self, v1: bool) -> Response:
        if self.response is not None:
            return self.response
        if v1:
            return v1_error(self.status, self.title)
        return v2_error(self.status, self.code, self.title, self.detail)
