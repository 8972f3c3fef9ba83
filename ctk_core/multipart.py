"""A multipart/form-data request body that streams its file parts instead of loading them.

``requests`` builds a ``files=`` body in memory, so uploading a 2 GB file would cost 2 GB of RAM.
``MultipartBody`` is a file-like object with a known length: requests sends it with a
``Content-Length`` header, reading it in small blocks.
"""

from __future__ import annotations

import os
from typing import IO


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\r", " ").replace("\n", " ")


class MultipartBody:
    """``add_field(name, text)`` and ``add_file(name, filename, fileobj, content_type)``, then
    pass the object as ``data=`` with ``headers={"Content-Type": body.content_type}``."""

    def __init__(self) -> None:
        self.boundary = "ctk-" + os.urandom(16).hex()
        self._parts: list[bytes | IO[bytes]] = []
        self._length = 0
        self._current: bytes | IO[bytes] | None = None
        self._index = 0

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def _head(self, name: str, filename: str | None, content_type: str | None) -> None:
        disposition = f'form-data; name="{_quote(name)}"'
        if filename is not None:
            disposition += f'; filename="{_quote(filename)}"'
        lines = [f"--{self.boundary}", f"Content-Disposition: {disposition}"]
        if content_type:
            lines.append(f"Content-Type: {content_type}")
        self._bytes(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8"))

    def _bytes(self, data: bytes) -> None:
        self._parts.append(data)
        self._length += len(data)

    def add_field(
        self, name: str, value: str, content_type: str | None = "text/plain; charset=utf-8"
    ) -> None:
        self._head(name, None, content_type)
        self._bytes(value.encode("utf-8") + b"\r\n")

    def add_file(
        self,
        name: str,
        filename: str,
        fileobj: IO[bytes],
        content_type: str = "application/octet-stream",
    ) -> None:
        """A file part; ``fileobj`` must be a regular file (its size is read from fstat)."""
        self._head(name, filename, content_type)
        size = os.fstat(fileobj.fileno()).st_size - fileobj.tell()
        self._parts.append(fileobj)
        self._length += size
        self._bytes(b"\r\n")

    def close(self) -> None:
        """Add the closing boundary (call once, after the last part)."""
        self._bytes(f"--{self.boundary}--\r\n".encode())

    def __len__(self) -> int:
        return self._length

    def read(self, size: int = -1) -> bytes:
        out = bytearray()
        while size < 0 or len(out) < size:
            if self._current is None:
                if self._index >= len(self._parts):
                    break
                self._current = self._parts[self._index]
                self._index += 1
            want = -1 if size < 0 else size - len(out)
            if isinstance(self._current, bytes):
                take = self._current if want < 0 else self._current[:want]
                out += take
                rest = self._current[len(take) :]
                self._current = rest or None
            else:
                chunk = self._current.read(want if want > 0 else 1 << 20)
                if chunk:
                    out += chunk
                else:
                    self._current = None
        return bytes(out)
