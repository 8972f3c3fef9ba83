"""`manage_attachments get` shows a small image or text file as content beside its metadata.

Through the real MCP server (the SDK client) against the sandbox over HTTP: an image within
CTK_MCP_INLINE_MAX_BYTES comes back as an ImageContent block holding its exact bytes, a text file
as a second text block; a larger file, another type, or text that is not UTF-8 keeps the
metadata-only answer. The bytes cost one request beyond the record's; the CLI's `get` is
unchanged and sends the one request it always sent.
"""

from __future__ import annotations

import base64
import random
import struct
import zlib
from pathlib import Path

import pytest

from ctk_core import Context, Inline
from ctk_core.inline import inline_kind
from ctk_core.mcp_server import DEFAULT_INLINE_MAX_BYTES, inline_max_bytes
from ctk_core.sandbox.routes_attachments import blob_file, new_attachment
from ctk_core.sandbox.seed import NOTES_TXT, png_bytes

TOOL = "manage_attachments"


def _attachment(sandbox, title: str) -> dict:
    return next(a for a in sandbox.state.attachments.values() if a["title"] == title)


def _bytes_of(sandbox, att: dict) -> bytes:
    path = blob_file(sandbox.state, att["blob"])
    return path.read_bytes() if path else sandbox.state.read_blob(att["blob"])


def _add(sandbox, title: str, data: bytes, media_type: str, size: int | None = None) -> dict:
    """An attachment of the Architecture page; ``size`` is what its record says (a lie when it
    differs from ``len(data)``)."""
    with sandbox.state.lock:
        return new_attachment(
            sandbox.state,
            sandbox.page_id("Architecture"),
            title,
            sandbox.state.store_blob(data),
            len(data) if size is None else size,
            media_type=media_type,
        )


def _noisy_png(width: int, height: int) -> bytes:
    """A valid PNG of random pixels (it barely compresses: about 3 * width * height bytes)."""
    rng = random.Random(7)
    raw = b"".join(
        b"\x00" + bytes(rng.randrange(256) for _ in range(3 * width)) for _ in range(height)
    )

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def _get(session, sandbox, att_id: str):
    """The MCP result of `get` and the requests it sent (method, path)."""
    sandbox.requests.clear()
    result = session.call(TOOL, {"action": "get", "attachment_id": att_id})
    assert not result.is_error, session.text(result)
    sent = [(e["method"], e["path"]) for e in sandbox.requests.entries()]
    return result, sent


def _metadata_of(ctk_cli, att_id: str) -> dict:
    got = ctk_cli("--json", "attachments", "get", att_id)
    assert got.exit_code == 0, got
    return got.json()


def test_an_image_comes_back_as_image_content_for_one_more_request(
    ctk_mcp, ctk_cli, confluence_sandbox
):
    png = _attachment(confluence_sandbox, "diagram.png")
    data = _bytes_of(confluence_sandbox, png)
    assert data == png_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    result, sent = _get(ctk_mcp(), confluence_sandbox, png["id"])

    assert [block.type for block in result.content] == ["text", "image"]
    image = result.content[1]
    assert image.mime_type == "image/png"
    assert base64.b64decode(image.data, validate=True) == data
    # The JSON is the metadata, the same as the CLI's, plus where the image is.
    meta = _metadata_of(ctk_cli, png["id"])
    assert result.structured_content == {**meta, "content": "image in content block 2"}
    assert '"content":"image in content block 2"' in result.content[0].text
    # One request for the record, one for the bytes.
    assert sent == [
        ("GET", f"/wiki/api/v2/attachments/{png['id']}"),
        ("GET", f"/wiki/download/attachments/{png['pageId']}/diagram.png"),
    ]


def test_the_cli_get_is_unchanged_and_sends_one_request(ctk_cli, confluence_sandbox):
    png = _attachment(confluence_sandbox, "diagram.png")
    listed = ctk_cli("--json", "attachments", "list", png["pageId"]).json()["results"]
    for env in ({}, {"CTK_MCP_INLINE_MAX_BYTES": "99999999"}):
        confluence_sandbox.requests.clear()
        got = ctk_cli("--json", "attachments", "get", png["id"], env=env)
        assert got.exit_code == 0, got
        assert got.json() == listed[0]
        assert "content" not in got.json()
        sent = [(e["method"], e["path"]) for e in confluence_sandbox.requests.entries()]
        assert sent == [("GET", f"/wiki/api/v2/attachments/{png['id']}")]
    table = ctk_cli("attachments", "get", png["id"])
    assert table.exit_code == 0
    assert "diagram.png" in table.stdout
    assert "content" not in table.stdout


@pytest.mark.parametrize(
    ("title", "media_type", "data"),
    [
        ("notes.txt", "text/plain", NOTES_TXT),  # the seed's
        ("entities.csv", "text/csv", b"entity,key\nPage,id\nRevision,hash\n"),
        ("config.json", "application/json", '{"name": "Zoë", "retries": 3}\n'.encode()),
        ("build.yaml", "application/x-yaml", b"steps:\n  - test\n  - release\n"),
    ],
)
def test_a_text_file_comes_back_as_its_text(ctk_mcp, confluence_sandbox, title, media_type, data):
    att = _attachment(confluence_sandbox, title) if title == "notes.txt" else None
    if att is None:
        att = _add(confluence_sandbox, title, data, media_type)
    assert _bytes_of(confluence_sandbox, att) == data
    result, sent = _get(ctk_mcp(), confluence_sandbox, att["id"])
    assert [block.type for block in result.content] == ["text", "text"]
    assert result.content[1].text == data.decode("utf-8")
    assert result.structured_content["content"] == "text in content block 2"
    assert result.structured_content["media_type"] == media_type
    assert len(sent) == 2
    assert sent[1][1].startswith("/wiki/download/attachments/")


def test_files_past_the_cap_or_of_other_types_keep_the_metadata_answer(
    ctk_mcp, ctk_cli, confluence_sandbox
):
    big = b"\x89PNG\r\n\x1a\n" + bytes(DEFAULT_INLINE_MAX_BYTES)  # one MiB and 8 bytes
    cases = [
        _add(confluence_sandbox, "huge.png", big, "image/png"),
        _add(confluence_sandbox, "spec.pdf", b"%PDF-1.4\n%\xe2\xe3\n", "application/pdf"),
        _add(confluence_sandbox, "blob.bin", b"\x00\x01\x02", "application/octet-stream"),
        _add(confluence_sandbox, "drawing.bmp", b"BM" + bytes(60), "image/bmp"),
    ]
    session = ctk_mcp()
    for att in cases:
        result, sent = _get(session, confluence_sandbox, att["id"])
        assert [block.type for block in result.content] == ["text"], att["title"]
        answer = dict(result.structured_content)
        said = answer.pop("content")  # why nothing is shown, so it is not read as "empty"
        assert said.startswith(f"not shown ({att['fileSize']} B of {att['mediaType']};"), said
        assert said.endswith("use download")
        assert answer == _metadata_of(ctk_cli, att["id"])
        assert sent == [("GET", f"/wiki/api/v2/attachments/{att['id']}")], att["title"]


def test_the_cap_is_a_setting_and_zero_turns_it_off(ctk_mcp, confluence_sandbox):
    png = _attachment(confluence_sandbox, "diagram.png")
    size = png["fileSize"]
    at_cap, _ = _get(
        ctk_mcp({"CTK_MCP_INLINE_MAX_BYTES": str(size)}), confluence_sandbox, png["id"]
    )
    assert [block.type for block in at_cap.content] == ["text", "image"]
    for cap in (str(size - 1), "0"):
        over, sent = _get(ctk_mcp({"CTK_MCP_INLINE_MAX_BYTES": cap}), confluence_sandbox, png["id"])
        assert [block.type for block in over.content] == ["text"], cap
        if cap == "0":  # turned off: the record alone, as on the CLI
            assert "content" not in over.structured_content
        else:
            assert over.structured_content["content"].endswith(f"up to {cap} B): use download")
        assert len(sent) == 1, cap


def test_text_that_is_not_utf8_is_treated_as_binary(ctk_mcp, ctk_cli, confluence_sandbox):
    att = _add(confluence_sandbox, "latin1.txt", "café\n".encode("latin-1"), "text/plain")
    result, sent = _get(ctk_mcp(), confluence_sandbox, att["id"])
    assert [block.type for block in result.content] == ["text"]
    assert result.structured_content == _metadata_of(ctk_cli, att["id"])
    assert len(sent) == 2  # the bytes had to be read to find out


def test_the_image_does_not_count_against_the_response_cap(ctk_mcp, confluence_sandbox):
    data = _noisy_png(40, 40)
    assert len(data) > 4000
    att = _add(confluence_sandbox, "noise.png", data, "image/png")
    session = ctk_mcp({"CTK_MAX_RESPONSE_BYTES": "1000"})
    result, _ = _get(session, confluence_sandbox, att["id"])
    assert "truncated" not in result.structured_content
    assert result.structured_content["title"] == "noise.png"
    assert base64.b64decode(result.content[1].data) == data


def test_a_long_text_is_cut_to_the_response_cap_and_saved(ctk_mcp, confluence_sandbox, tmp_path):
    rows = "".join(f"row {i},value {i}\n" for i in range(400)).encode()
    att = _add(confluence_sandbox, "long.csv", rows, "text/csv")
    env = {"CTK_MAX_RESPONSE_BYTES": "1000", "CTK_LOG_DIR": str(tmp_path / "logs")}
    result, _ = _get(ctk_mcp(env), confluence_sandbox, att["id"])
    assert "truncated" not in result.structured_content  # the metadata is whole
    text = result.content[1].text
    assert len(text.encode()) <= 1000
    assert text.startswith("row 0,value 0\nrow 1,value 1\n")
    assert "[truncated:" in text
    assert "full text saved at" in text
    saved = text.rsplit("full text saved at ", 1)[1].rstrip("]")
    assert Path(saved).read_bytes() == rows


def test_an_answer_longer_than_the_record_is_never_read_past_it(ctk_mcp, confluence_sandbox):
    att = _add(confluence_sandbox, "liar.txt", b"x" * 5000, "text/plain", size=10)
    message = ctk_mcp().error(TOOL, {"action": "get", "attachment_id": att["id"]})
    assert "more than the attachment's 10 bytes" in message
    assert "Internal error" not in message


def test_what_counts_as_an_image_or_a_text():
    assert inline_kind("image/png") == inline_kind("IMAGE/JPEG; q=1") == "image"
    for text in ("text/plain", "text/markdown; charset=utf-8", "application/json", "text/csv"):
        assert inline_kind(text) == "text", text
    for text in ("application/xml", "image/svg+xml", "application/vnd.api+json"):
        assert inline_kind(text) == "text", text
    for other in ("image/bmp", "application/pdf", "application/octet-stream", "", None):
        assert inline_kind(other) is None, other
    assert Inline("text/plain", b"\xff").text() is None
    assert Inline("image/png", b"x").text() is None
    assert "bytes" in repr(Inline("image/png", b"\x89PNG" * 1000))


def test_the_context_says_what_the_front_end_shows(caplog):
    assert not Context().wants_inline("image/png", 10)  # no cap: nothing is shown
    ctx = Context(inline_max_bytes=100)
    assert ctx.wants_inline("image/png", 100)
    assert not ctx.wants_inline("image/png", 101)
    assert not ctx.wants_inline("image/png", None)
    assert not ctx.wants_inline("application/pdf", 10)
    assert inline_max_bytes({}) == DEFAULT_INLINE_MAX_BYTES == 1048576
    assert inline_max_bytes({"CTK_MCP_INLINE_MAX_BYTES": "0"}) == 0
    assert inline_max_bytes({"CTK_MCP_INLINE_MAX_BYTES": "lots"}) == DEFAULT_INLINE_MAX_BYTES
    assert "CTK_MCP_INLINE_MAX_BYTES='lots'" in caplog.text


def test_the_record_and_the_bytes_take_their_tokens_together(ctk_mcp, confluence_sandbox):
    png = _attachment(confluence_sandbox, "diagram.png")
    pdf = _add(confluence_sandbox, "spec.pdf", b"%PDF-1.4\n", "application/pdf")
    session = ctk_mcp({"CTK_RATE_LIMIT": "2/3600"})
    _, sent = _get(session, confluence_sandbox, pdf["id"])  # two tokens taken, one given back
    assert len(sent) == 1
    confluence_sandbox.requests.clear()
    refused = session.error(TOOL, {"action": "get", "attachment_id": png["id"]})
    assert "rate limit" in refused.lower()
    assert confluence_sandbox.requests.entries() == []  # refused whole: not the record alone


def test_a_server_given_its_own_context_shows_files_too(confluence_sandbox):
    """`ctk mcp` builds the server with a context of its own (its client): the server's
    CTK_MCP_INLINE_MAX_BYTES still applies to every call."""
    from ctk_core.file_access import AgentFiles
    from ctk_core.mcp_server import build_server

    png = _attachment(confluence_sandbox, "diagram.png")
    env = {**confluence_sandbox.client_env, "CTK_RATE_LIMIT": "off"}
    for cap, shown in (("", True), ("0", False)):
        environ = {**env, "CTK_MCP_INLINE_MAX_BYTES": cap}
        server = build_server(environ=environ, context=Context(AgentFiles(environ), environ))
        runner = server.ctk_runner
        args = {"action": "get", "attachment_id": png["id"]}
        result = runner.run(*runner.prepare(TOOL, args))
        assert isinstance(result.get("content"), Inline) is shown, cap
        if shown:
            assert result["content"].data == _bytes_of(confluence_sandbox, png)
