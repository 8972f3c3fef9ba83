"""Fault injection: latency, 429, 5xx, dropped connections, malformed and HTML bodies.

A fault is a dict (or a ``--fault`` string ``KIND[,key=value...]``):

- ``kind``: ``latency``, ``429``, ``500``, ``502``, ``503``, ``close``, ``malformed``, ``html``
- ``path``: only requests whose site path (``/wiki/...``, gateway prefix removed) starts with it
- ``method``: only this HTTP method
- ``every``: fire on every Nth matching request (default 1: each one)
- ``probability``: fire with this probability (default 1.0)
- ``count``: fire this many times, then remove the fault (default: unlimited)
- ``retry_after``: seconds for the ``Retry-After`` header of ``429``/``503`` (default 1 for 429)
- ``ms``: added latency in milliseconds (``latency`` only)
- ``status``: the status of an ``html`` page (default 503) or a ``malformed`` body (default 200)

``latency`` faults delay and then let the request proceed; the first other matching fault that
fires answers instead of the handler. Example: ``--fault 429,count=1`` answers the next request
with 429 and then behaves normally.
"""

from __future__ import annotations

import random
import threading
from typing import Any

KINDS = ("latency", "429", "500", "502", "503", "close", "malformed", "html")
_INT_KEYS = ("every", "count", "status")
_FLOAT_KEYS = ("probability", "retry_after", "ms")


def parse_fault(spec: str) -> dict[str, Any]:
    """``"429,every=3,path=/wiki/api/v2/pages"`` -> a fault dict (ValueError when malformed)."""
    parts = [p.strip() for p in spec.split(",") if p.strip()]
    if not parts:
        raise ValueError("empty fault spec")
    fault: dict[str, Any] = {"kind": parts[0]}
    for part in parts[1:]:
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"fault option {part!r} must be key=value")
        fault[key.strip()] = value.strip()
    return normalize_fault(fault)


def normalize_fault(raw: dict[str, Any]) -> dict[str, Any]:
    fault = dict(raw)
    kind = str(fault.get("kind", ""))
    if kind not in KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; expected one of {', '.join(KINDS)}")
    fault["kind"] = kind
    known = {"kind", "path", "method", *_INT_KEYS, *_FLOAT_KEYS}
    unknown = set(fault) - known
    if unknown:
        raise ValueError(f"unknown fault option(s): {', '.join(sorted(unknown))}")
    try:
        for key in _INT_KEYS:
            if fault.get(key) is not None:
                fault[key] = int(fault[key])
        for key in _FLOAT_KEYS:
            if fault.get(key) is not None:
                fault[key] = float(fault[key])
    except (TypeError, ValueError):
        raise ValueError(f"bad number in fault {raw!r}") from None
    if fault.get("method"):
        fault["method"] = str(fault["method"]).upper()
    fault.setdefault("every", 1)
    if fault["every"] < 1:
        raise ValueError("every must be >= 1")
    if fault.get("count") is not None and fault["count"] < 1:
        raise ValueError("count must be >= 1")
    fault.setdefault("probability", 1.0)
    if kind == "latency":
        fault.setdefault("ms", 100.0)
    if kind == "429":
        fault.setdefault("retry_after", 1.0)
    return fault


class Faults:
    """The active faults of one server, safe to change while requests are served."""

    def __init__(self, specs: list[str | dict[str, Any]] | None = None) -> None:
        self._lock = threading.Lock()
        self._faults: list[dict[str, Any]] = []
        self._seen: list[int] = []
        for spec in specs or []:
            self.add(spec)

    def add(self, spec: str | dict[str, Any]) -> dict[str, Any]:
        fault = parse_fault(spec) if isinstance(spec, str) else normalize_fault(spec)
        with self._lock:
            self._faults.append(fault)
            self._seen.append(0)
        return fault

    def replace(self, specs: list[str | dict[str, Any]]) -> None:
        """Replace every fault (validating all first)."""
        faults = [parse_fault(s) if isinstance(s, str) else normalize_fault(s) for s in specs]
        with self._lock:
            self._faults = faults
            self._seen = [0] * len(faults)

    def clear(self) -> None:
        with self._lock:
            self._faults = []
            self._seen = []

    def active(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(f) for f in self._faults]

    def __bool__(self) -> bool:
        return bool(self._faults)

    def pick(self, method: str, path: str) -> tuple[float, dict[str, Any] | None]:
        """For one request: (latency in seconds, the answering fault or None)."""
        if not self._faults:
            return 0.0, None
        delay = 0.0
        chosen = None
        with self._lock:
            for i, fault in enumerate(list(self._faults)):
                if fault.get("path") and not path.startswith(fault["path"]):
                    continue
                if fault.get("method") and fault["method"] != method:
                    continue
                if fault["kind"] != "latency" and chosen is not None:
                    continue
                self._seen[i] += 1
                if self._seen[i] % fault["every"] != 0:
                    continue
                if fault["probability"] < 1.0 and random.random() >= fault["probability"]:  # noqa: S311
                    continue
                if fault.get("count") is not None:
                    fault["count"] -= 1
                if fault["kind"] == "latency":
                    delay += fault["ms"] / 1000.0
                else:
                    chosen = dict(fault)
            keep = [
                i for i, f in enumerate(self._faults) if f.get("count") is None or f["count"] > 0
            ]
            self._faults = [self._faults[i] for i in keep]
            self._seen = [self._seen[i] for i in keep]
        return delay, chosen
