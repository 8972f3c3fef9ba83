"""The HTTP client's debug log: with ``CTK_DEBUG=1``, one line per request.

Each line says the method, the path (without the query string), the outcome (a status code or
the kind of failure) and the duration, and goes to stderr and to a private (0600) file
``http-<time>-<random>.log`` in the log folder (``files.log_dir()``). Headers, query strings,
bodies and credentials are never logged. The logger is ``ctk.http``; its handlers are installed
once per process, on the first client created with debugging on.

Standard library only (and ``files.py``): cheap to import.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Mapping

from ctk_core import files, settings
from ctk_core.parsing import env_flag

log = logging.getLogger("ctk.http")


class _StderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is at the time (test runners swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:  # pragma: no cover - never let logging break a request
            self.handleError(record)


class _LogFolderHandler(logging.Handler):
    """Appends lines to one private (0600) file per log folder, created with O_EXCL."""

    def __init__(self) -> None:
        super().__init__()
        self._paths: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        try:
            folder = str(files.log_dir())
            path = self._paths.get(folder)
            if path is None:
                stamp = time.strftime("%Y%m%d-%H%M%S")
                fd, created = files.create_private_file(folder, f"http-{stamp}-", ".log")
                os.close(fd)
                path = self._paths[folder] = str(created)
            flags = os.O_WRONLY | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0)
            fd = os.open(path, flags)
            try:
                os.write(fd, (self.format(record) + "\n").encode("utf-8", "replace"))
            finally:
                os.close(fd)
        except Exception:  # noqa: S110  # pragma: no cover - a log problem must not break a request
            pass


_debug_lock = threading.Lock()
_debug_installed = False


def enable_debug_logging() -> None:
    """Send ``ctk.http`` lines to stderr and to a private file in the log folder (once)."""
    global _debug_installed
    with _debug_lock:
        if _debug_installed:
            return
        log.setLevel(logging.DEBUG)
        formatter = logging.Formatter("%(asctime)s ctk http: %(message)s")
        for handler in (_StderrHandler(), _LogFolderHandler()):
            handler.setFormatter(formatter)
            log.addHandler(handler)
        log.propagate = False
        _debug_installed = True


def debug_enabled(environ: Mapping[str, str] | None = None) -> bool:
    env = settings.environ(environ)
    return env_flag(env.get("CTK_DEBUG"))


def log_request(method: str, path: str, outcome: str, seconds: float) -> None:
    """One line for one request: ``GET /api/v2/pages -> 200 (12 ms)``."""
    log.debug("%s %s -> %s (%.0f ms)", method, path, outcome, seconds * 1000)


__all__ = ["debug_enabled", "enable_debug_logging", "log", "log_request"]
