"""Read a text file a person named on the command line (``-`` is stdin), as UTF-8 or not at all."""

from __future__ import annotations

import sys

from ctk_core.errors import UsageError


def read_utf8(path: str) -> str:
    """The file's text (a UTF-8 byte-order mark is dropped); UsageError saying what is wrong."""
    where = "stdin" if path == "-" else path
    try:
        if path == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(path, "rb") as fh:
                data = fh.read()
    except OSError as exc:
        raise UsageError(f"Cannot read {where}: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"{where} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})."
        ) from None


__all__ = ["read_utf8"]
