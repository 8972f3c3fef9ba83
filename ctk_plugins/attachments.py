"""Attachments: ``ctk attachments ...`` and the MCP tool ``manage_attachments``.

Reads use the v2 API. Uploads use v1 ``PUT /rest/api/content/{id}/child/attachment`` (v2 has no
upload), which creates the attachment or adds a version when the file name exists already.
Downloads stream to a temporary file that is renamed into place only when complete.
"""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path
from typing import Any

from ctk_core import NotFound, Operation, Param, Resource, UsageError, hookimpl
from ctk_core.helpers import require_id
from ctk_core.multipart import MultipartBody


def flatten_attachment(raw: dict[str, Any], client: Any) -> dict[str, Any]:
    """A v2 attachment in the shape the tools return."""
    links = raw.get("_links") or {}
    version = raw.get("version") or {}
    download = raw.get("downloadLink") or links.get("download")
    webui = raw.get("webuiLink") or links.get("webui")
    return {
        "id": str(raw.get("id")),
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
            f"Invalid value for 'attachment_id': {value!r} is not an attachment "
            "id (e.g. att123456).",
            hint="Find ids with the list action.",
        )
    return text


def _metadata(ctx: Any, attachment_id: str) -> dict[str, Any]:
    return ctx.client.get(f"/api/v2/attachments/{_attachment_id(attachment_id)}")


def list_attachments(
    ctx: Any,
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


def get_attachment(ctx: Any, attachment_id: str) -> dict[str, Any]:
    return flatten_attachment(_metadata(ctx, attachment_id), ctx.client)


def _destination(ctx: Any, title: str, output: str | None, overwrite: bool) -> Path:
    from ctk_core import files

    if ctx.frontend == "mcp":
        if output:
            raise UsageError(
                "output is not accepted over MCP: files are saved in the server's "
                "download folder (CTK_DOWNLOAD_DIR)."
            )
        return files.unique_destination(files.download_dir(ctx.environ), title, overwrite)
    target = Path(os.path.expanduser(output)) if output else Path.cwd()
    if target.is_dir():
        return files.unique_destination(target, title, overwrite)
    if not target.parent.is_dir():
        raise UsageError(
            f"Folder {target.parent} does not exist.",
            hint="Create it first, or give an existing folder.",
        )
    if target.exists() and not overwrite:
        raise UsageError(f"{target} already exists.", hint="Pass --overwrite to replace it.")
    return target


def download_attachment(
    ctx: Any, attachment_id: str, output: str | None = None, overwrite: bool = False
) -> dict[str, Any]:
    from ctk_core import files

    client = ctx.client
    raw = _metadata(ctx, attachment_id)
    link = raw.get("downloadLink") or (raw.get("_links") or {}).get("download")
    if not link:
        raise NotFound(f"Attachment {attachment_id} has no download link.")
    dest = _destination(ctx, raw.get("title") or "attachment", output, overwrite)
    ctx.progress.start(f"Downloading {dest.name}", raw.get("fileSize"))
    try:
        with files.atomic_writer(dest, overwrite=overwrite) as fh:
            size = client.download(link, fh, progress=ctx.progress)
    finally:
        ctx.progress.finish()
    return {
        "id": str(raw.get("id")),
        "title": raw.get("title"),
        "path": str(dest),
        "bytes": size,
        "media_type": raw.get("mediaType"),
    }


def _open_for_upload(ctx: Any, file_path: str) -> tuple[Any, Path]:
    from ctk_core import files

    if ctx.frontend == "mcp":
        return files.open_upload(file_path, environ=ctx.environ)
    path = Path(os.path.expanduser(file_path))
    if not path.is_file():
        raise UsageError(f"No such file: {file_path}")
    try:
        return path.open("rb"), path
    except OSError as exc:
        raise UsageError(f"Cannot read {file_path}: {exc.strerror or exc}") from None


def upload_attachment(
    ctx: Any,
    page_id: str,
    file_path: str,
    comment: str | None = None,
    filename: str | None = None,
    minor_edit: bool = False,
) -> dict[str, Any]:
    page_id = require_id("page_id", page_id)
    client = ctx.client
    fh, real = _open_for_upload(ctx, file_path)
    name = filename or real.name
    media = mimetypes.guess_type(name)[0] or "application/octet-stream"
    body = MultipartBody()  # streamed: a large file never sits in memory
    body.add_file("file", name, fh, media)
    body.add_field("minorEdit", "true" if minor_edit else "false", None)
    if comment:
        body.add_field("comment", comment)
    body.close()
    with fh:
        data = client.put(
            f"/rest/api/content/{page_id}/child/attachment",
            data=body,
            headers={"X-Atlassian-Token": "nocheck", "Content-Type": body.content_type},
        )
    uploaded = ((data or {}).get("results") or [{}])[0]
    return get_attachment(ctx, str(uploaded.get("id")))


def delete_attachment(ctx: Any, attachment_id: str, purge: bool = False) -> dict[str, Any]:
    params = {"purge": "true"} if purge else None
    attachment_id = _attachment_id(attachment_id)
    ctx.client.delete(f"/api/v2/attachments/{attachment_id}", params=params)
    return {"id": attachment_id, "status": "purged" if purge else "trashed"}


_ATTACHMENT_ID = Param("attachment_id", "str", "e.g. att123", required=True, positional=True)

ATTACHMENTS = Resource(
    name="attachments",
    summary="Files attached to pages: list, download, upload, delete.",
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
        Operation("get", "Metadata and download URL.", get_attachment, params=[_ATTACHMENT_ID]),
        Operation(
            "download",
            "Save to a file; returns its path.",
            download_attachment,
            params=[
                _ATTACHMENT_ID,
                Param("output", "str", "CLI only: file or folder."),
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
