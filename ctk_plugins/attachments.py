"""Attachments: ``ctk attachments ...`` and the MCP tool ``manage_attachments``.

Reads use the v2 API. Uploads use v1 ``PUT /rest/api/content/{id}/child/attachment`` (v2 has no
upload), which creates the attachment or adds a version when the file name exists already.
Downloads stream to a temporary file that is renamed into place only when complete.
"""

from __future__ import annotations

import io
import mimetypes
from typing import Any

from ctk_core import (
    Context,
    CtkError,
    Inline,
    NotFound,
    Operation,
    Param,
    Resource,
    Unavailable,
    UsageError,
    hookimpl,
    shown,
)
from ctk_core.helpers import partial_failure, require_id
from ctk_core.multipart import MultipartBody


def _download_link(raw: dict[str, Any]) -> str | None:
    return raw.get("downloadLink") or (raw.get("_links") or {}).get("download")


def flatten_attachment(raw: dict[str, Any], client: Any) -> dict[str, Any]:
    """A v2 attachment in the shape the tools return."""
    links = raw.get("_links") or {}
    version = raw.get("version") or {}
    download = _download_link(raw)
    webui = raw.get("webuiLink") or links.get("webui")
    return {
        "id": str(raw["id"]) if raw.get("id") is not None else None,
        "title": raw.get("title"),
        "page_id": raw.get("pageId") or raw.get("blogPostId"),
        "media_type": raw.get("mediaType"),
        "file_size": raw.get("fileSize"),
        "comment": raw.get("comment") or "",
        "version": version.get("number"),
        "created_at": raw.get("createdAt"),
        "download_url": client.absolute(download) if download else None,
        "web_url": client.absolute(webui) if webui else None,
    }


def _attachment_id(value: Any) -> str:
    text = str(value or "").strip()
    if not (text.isdigit() or (text.startswith("att") and text[3:].isdigit())):
        raise UsageError(
            f"Invalid value for `attachment_id`: {shown(value)} is not an attachment "
            "id (e.g. att123456).",
            hint="Find ids with `list`.",
        )
    return text


def _metadata(ctx: Context, attachment_id: str) -> dict[str, Any]:
    return ctx.client.get(f"/api/v2/attachments/{_attachment_id(attachment_id)}")


def list_attachments(
    ctx: Context,
    page_id: str,
    filename: str | None = None,
    media_type: str | None = None,
    limit: int = 25,
    cursor: str | None = None,
) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if filename:
        params["filename"] = filename
    if media_type:
        params["mediaType"] = media_type
    client = ctx.client
    path = f"/api/v2/pages/{require_id('page_id', page_id)}/attachments"
    page = client.page(path, params=params, limit=limit, cursor=cursor)
    return {
        "results": [flatten_attachment(a, client) for a in page["results"]],
        "next_cursor": page.get("next_cursor"),
    }


def get_attachment(ctx: Context, attachment_id: str) -> dict[str, Any]:
    return flatten_attachment(_metadata(ctx, attachment_id), ctx.client)


class _Capped(io.BytesIO):
    """The bytes of a file in memory, never more than ``limit``."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def write(self, data: Any, /) -> int:
        if self.tell() + len(data) > self.limit:
            raise Unavailable(
                f"The download gave more than the attachment's {self.limit} bytes; "
                "nothing was shown.",
                hint="Try again, or use `download`.",
            )
        return super().write(data)


def show_attachment(ctx: Context, attachment_id: str) -> dict[str, Any]:
    """The metadata; and, when the front end shows files (``ctx.wants_inline``), a small image
    or text file's content under ``content``: one more request, for the bytes."""
    client = ctx.client
    if not ctx.inline_max_bytes:  # the CLI: the record alone, one request
        return get_attachment(ctx, attachment_id)
    # The record, then perhaps the bytes: both tokens first, so that the rate limiter never
    # answers the record and refuses the bytes (again on every retry). An unused one goes back.
    with client.reserve(2):
        raw = _metadata(ctx, attachment_id)
        out = flatten_attachment(raw, client)
        size, media = _size_of(raw), raw.get("mediaType")
        link = _download_link(raw)
        if link and size is not None and ctx.wants_inline(media, size):
            buffer = _Capped(size)
            client.download(link, buffer, expected_bytes=size, media_type=media)
            out["content"] = Inline(str(media), buffer.getvalue())
        else:  # say why, so that "not shown" is not read as "nothing there"
            out["content"] = (
                f"not shown ({size if size is not None else '?'} B of {media or 'unknown type'}; "
                f"shown: images and text up to {ctx.inline_max_bytes} B): use download"
            )
    return out


def _size_of(raw: dict[str, Any]) -> int | None:
    size = raw.get("fileSize")
    return size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None


def download_attachment(
    ctx: Context, attachment_id: str, output: str | None = None, overwrite: bool = False
) -> dict[str, Any]:
    client = ctx.client
    raw = _metadata(ctx, attachment_id)
    link = _download_link(raw)
    if not link:
        raise NotFound(f"Attachment {attachment_id} has no download link.")
    dest = ctx.files.download_target(raw.get("title") or "attachment", output, overwrite)
    ctx.progress.start(f"Downloading {dest.name}", raw.get("fileSize"))
    try:
        with ctx.files.writer(dest, overwrite=overwrite) as fh:
            size = client.download(
                link,
                fh,
                progress=ctx.progress,
                expected_bytes=_size_of(raw),
                media_type=raw.get("mediaType"),
            )
    finally:
        ctx.progress.finish()
    return {
        "id": str(raw["id"]) if raw.get("id") is not None else None,
        "title": raw.get("title"),
        "path": str(dest),
        "bytes": size,
        "media_type": raw.get("mediaType"),
    }


def upload_attachment(
    ctx: Context,
    page_id: str,
    file_path: str,
    comment: str | None = None,
    filename: str | None = None,
    minor_edit: bool = False,
) -> dict[str, Any]:
    page_id = require_id("page_id", page_id)
    client = ctx.client
    fh, real = ctx.files.open_for_upload(file_path)
    name = filename or real.name
    media = mimetypes.guess_type(name)[0] or "application/octet-stream"
    body = MultipartBody()  # streamed: a large file never sits in memory
    body.add_file("file", name, fh, media)
    body.add_field("minorEdit", "true" if minor_edit else "false", None)
    if comment:
        body.add_field("comment", comment)
    body.close()
    # The upload, then a read of its v2 details: both tokens first, so the rate limiter never
    # lets the upload through and then fails the command.
    path = f"/rest/api/content/{page_id}/child/attachment"
    with client.reserve(2), fh:
        data = client.put(
            path,
            data=body,
            headers={"X-Atlassian-Token": "nocheck", "Content-Type": body.content_type},
        )
        results = data.get("results") if isinstance(data, dict) else None
        uploaded = results[0] if isinstance(results, list) and results else None
        new_id = uploaded.get("id") if isinstance(uploaded, dict) else None
        if new_id is None or not str(new_id).strip():
            # Schema-valid (results may be empty), but it does not say which attachment it is.
            raise Unavailable(
                f"Confluence's answer to PUT /wiki{path} names no attachment: {name} may have "
                f"been uploaded to page {page_id}.",
                hint="Check with `list` before uploading again.",
            )
        try:
            return get_attachment(ctx, str(new_id))
        except CtkError as exc:
            raise partial_failure(
                exc,
                f"Uploaded {name} to page {page_id} (attachment {new_id}), "
                "but its details could not be read",
            ) from None


def delete_attachment(ctx: Context, attachment_id: str, purge: bool = False) -> dict[str, Any]:
    params = {"purge": "true"} if purge else None
    attachment_id = _attachment_id(attachment_id)
    ctx.client.delete(f"/api/v2/attachments/{attachment_id}", params=params)
    return {"id": attachment_id, "status": "purged" if purge else "trashed"}


_ATTACHMENT_ID = Param("attachment_id", "str", "e.g. att123", required=True, positional=True)

ATTACHMENTS = Resource(
    name="attachments",
    summary="Files attached to pages: list, download, upload, delete.",
    content_types=("attachment",),
    instructions=(
        "Attachment downloads are saved in the server's download folder; the result gives the "
        "path. get also shows a small image or text file itself."
    ),
    operations=[
        Operation(
            "list",
            "A page's attachments.",
            list_attachments,
            params=[
                Param("page_id", "str", "", required=True, positional=True),
                Param("filename", "str", ""),
                Param("media_type", "str", "e.g. image/png"),
            ],
            paged=True,
            columns=("id", "title", "media_type", "file_size", "version"),
        ),
        Operation("get", "Metadata and download URL.", show_attachment, params=[_ATTACHMENT_ID]),
        Operation(
            "download",
            "Save to a file; returns its path.",
            download_attachment,
            params=[
                _ATTACHMENT_ID,
                Param("output", "str", "File or folder to save to.", cli_only=True),
                Param("overwrite", "bool", "Replace an existing file.", default=False),
            ],
        ),
        Operation(
            "upload",
            "Upload a file to a page (a new version if the name exists).",
            upload_attachment,
            params=[
                Param("page_id", "str", "Page id.", required=True, positional=True),
                Param(
                    "file_path",
                    "str",
                    "File to upload (over MCP: inside CTK_UPLOAD_ROOTS).",
                    required=True,
                    positional=True,
                ),
                Param("comment", "str", "Version comment."),
                Param("filename", "str", "Name to store it under (default: the file's name)."),
                Param("minor_edit", "bool", "Do not notify watchers.", default=False),
            ],
            write=True,
        ),
        Operation(
            "delete",
            "Delete an attachment (to the trash; purge removes a trashed one).",
            delete_attachment,
            params=[
                _ATTACHMENT_ID,
                Param("purge", "bool", "Remove a trashed attachment for good.", default=False),
            ],
            write=True,
            destructive=True,
        ),
    ],
)


@hookimpl
def ctk_register_resources(register: Any) -> None:
    register(ATTACHMENTS)
