"""The check behind the ``token_never_leaks`` fixtures of the credential and HTTP tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def assert_secret_absent(secret: str, capfd: Any, caplog: Any, home: Path) -> None:
    """``secret`` is in no captured output, no log record and no file ctk wrote under the
    private environment's log and download folders (``home``: the ``private_environment``)."""
    out, err = capfd.readouterr()
    assert secret not in out and secret not in err
    assert secret not in caplog.text
    for folder in ("logs", "downloads"):
        root = home / folder
        if root.is_dir():
            for path in root.rglob("*"):
                if path.is_file():
                    assert secret.encode() not in path.read_bytes(), path
