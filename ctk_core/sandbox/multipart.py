"""A small streaming ``multipart/form-data`` parser (``cgi`` is gone from Python 3.13).

File parts are written to files in a spool folder in chunks, hashed on the way; other parts
are kept in memory (up to a limit). Headers are parsed with the ``email`` package, so
``filename*=UTF-8''...`` (RFC 2231) works as well as plain ``filename="..."``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from email.parser import HeaderParser
from pathlib import Path
from typing import IO

CHUNK = 1 << 20
MAX_HEADER_BYTES = 16 * 1024
MAX_FIELD_BYTES = 1 << 20


class MultipartError(ValueError):
    """The body is not valid multipart/form-data."""


@dataclass
class Part:
    name: str
    filename: str | None
    content_type: str | None
    data: bytes = b""  # non-file parts
    path: Path | None = None  # file parts: the spooled bytes
    size: int = 0
    sha256: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", "replace")


def boundary_of(content_type: str | None) -> bytes:
    """The boundary of a ``multipart/form-data`` Content-Type; MultipartError otherwise."""
    msg = Message()
    msg["content-type"] = content_type or ""
    if msg.get_content_type() != "multipart/form-data":
        raise MultipartError("the body must be multipart/form-data")
    boundary = msg.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise MultipartError("the multipart/form-data Content-Type has no boundary")
    return boundary.encode("latin-1")


class _Reader:
    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.buf = b""

    def fill(self) -> bool:
        data = self.stream.read(CHUNK)
        if not data:
            return False
        self.buf += data
        return True

    def copy_until(self, marker: bytes, write: Callable[[bytes], object]) -> bool:
        """Pass everything before ``marker`` to ``write``; consume the marker."""
        keep = len(marker) - 1
        while True:
            idx = self.buf.find(marker)
            if idx >= 0:
                if idx:
                    write(self.buf[:idx])
                self.buf = self.buf[idx + len(marker) :]
                return True
            if len(self.buf) > keep:
                write(self.buf[: len(self.buf) - keep])
                self.buf = self.buf[len(self.buf) - keep :]
            if not self.fill():
                return False

    def take(self, n: int) -> bytes:
        while len(self.buf) < n and self.fill():
            pass
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


def parse(stream: IO[bytes], boundary: bytes, spool_dir: Path) -> list[Part]:
    """All parts of the body; file parts (those with a filename) spooled into ``spool_dir``."""
    delimiter = b"--" + boundary
    reader = _Reader(stream)
    if not reader.copy_until(delimiter, lambda _: None):
        raise MultipartError("the multipart boundary was not found in the body")
    parts: list[Part] = []
    try:
        while True:
            after = reader.take(2)
            if after == b"--":
                return parts
            if after != b"\r\n":
                raise MultipartError("malformed multipart delimiter")
            parts.append(_read_part(reader, delimiter, spool_dir))
    except BaseException:
        for part in parts:
            if part.path is not None:
                part.path.unlink(missing_ok=True)
        raise


def _read_part(reader: _Reader, delimiter: bytes, spool_dir: Path) -> Part:
    # Headers end with an empty line; a part may start directly with it (no headers).
    while len(reader.buf) < 2 and reader.fill():
        pass
    if reader.buf[:2] == b"\r\n":
        reader.buf = reader.buf[2:]
        msg = Message()
    else:
        collected = bytearray()

        def collect(chunk: bytes) -> None:
            collected.extend(chunk)
            if len(collected) > MAX_HEADER_BYTES:
                raise MultipartError("multipart part headers are too long")

        if not reader.copy_until(b"\r\n\r\n", collect):
            raise MultipartError("unterminated multipart part headers")
        msg = HeaderParser().parsestr(collected.decode("utf-8", "replace"))
    name = msg.get_param("name", header="content-disposition")
    filename = msg.get_filename()
    part = Part(
        name=str(name or ""),
        filename=_basename(filename) if filename is not None else None,
        content_type=msg.get("content-type"),
        headers={k.lower(): str(v) for k, v in msg.items()},
    )
    end = b"\r\n" + delimiter
    if part.filename is None:
        data = bytearray()

        def keep(chunk: bytes) -> None:
            data.extend(chunk)
            if len(data) > MAX_FIELD_BYTES:
                raise MultipartError(f"the form field {part.name!r} is too large")

        if not reader.copy_until(end, keep):
            raise MultipartError("unterminated multipart body")
        part.data = bytes(data)
        part.size = len(data)
        return part
    spool_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".upload-", suffix=".part", dir=spool_dir)
    part.path = Path(tmp)
    digest = hashlib.sha256()
    with os.fdopen(fd, "wb") as fh:

        def spool(chunk: bytes) -> None:
            digest.update(chunk)
            fh.write(chunk)
            part.size += len(chunk)

        ok = reader.copy_until(end, spool)
    if not ok:
        part.path.unlink(missing_ok=True)
        raise MultipartError("unterminated multipart body")
    part.sha256 = digest.hexdigest()
    return part


def _basename(filename: str) -> str:
    """Browsers used to send full client paths; keep the last component only."""
    return filename.replace("\\", "/").rsplit("/", 1)[-1]
