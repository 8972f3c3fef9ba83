"""The streamed multipart body of uploads, read back by the sandbox's own multipart parser."""

from __future__ import annotations

import io
import os

from memory_support import run_ctk_measured

from ctk_core.multipart import MultipartBody
from ctk_core.sandbox import multipart as parser


def _body(fh, boundary: str | None = None) -> MultipartBody:
    body = MultipartBody()
    if boundary:
        body.boundary = boundary
    body.add_file("file", 'we"ird name.bin', fh, "application/octet-stream")
    body.add_field("minorEdit", "true", None)
    body.add_field("comment", 'a "quoted" note: ü')
    body.close()
    return body


def test_body_parses_back_with_every_part(tmp_path):
    payload = os.urandom(300_000) + b"\r\n--ctk-not-the-boundary\r\n"
    source = tmp_path / "data.bin"
    source.write_bytes(payload)
    with source.open("rb") as fh:
        body = _body(fh)
        raw = body.read()
    assert len(raw) == len(body)
    spool = tmp_path / "spool"
    spool.mkdir()
    parts = parser.parse(io.BytesIO(raw), parser.boundary_of(body.content_type), spool)
    by_name = {p.name: p for p in parts}
    assert by_name["file"].filename == 'we"ird name.bin'
    assert by_name["file"].path.read_bytes() == payload
    assert by_name["minorEdit"].text == "true"
    assert by_name["comment"].text == 'a "quoted" note: ü'


def test_small_reads_give_the_same_bytes(tmp_path):
    source = tmp_path / "data.bin"
    source.write_bytes(b"x" * 10_000)
    with source.open("rb") as fh:
        whole = _body(fh)
        expected = whole.read()
    with source.open("rb") as fh:
        pieces = _body(fh, whole.boundary)
        out = b""
        while chunk := pieces.read(7):
            assert len(chunk) <= 7
            out += chunk
    assert out == expected
    assert len(out) == len(pieces)


def test_large_upload_is_streamed(ctk_cli, confluence_sandbox, tmp_path):
    size = 100 * 1024 * 1024
    source = tmp_path / "big.bin"
    block = os.urandom(1024 * 1024)
    with source.open("wb") as fh:
        for _ in range(size // len(block)):
            fh.write(block)
    page_id = confluence_sandbox.page_id("Architecture")
    env = {**os.environ, **ctk_cli.env, "CTK_ENABLE_WRITES": "true"}
    proc, peak_kib = run_ctk_measured(["attachments", "upload", page_id, str(source)], env)
    assert proc.returncode == 0, proc.stderr
    att = next(a for a in confluence_sandbox.state.attachments.values() if a["title"] == "big.bin")
    assert att["fileSize"] == size
    assert peak_kib < 90 * 1024, f"peak RSS {peak_kib} KiB: the upload is not streamed"
