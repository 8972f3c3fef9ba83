"""Attachments: v2 list/read/delete, v1 multipart upload (POST adds, PUT adds or updates),
and the ``/wiki/download/attachments/...`` URL that serves the bytes.

Bytes live in files (content-addressed by SHA-256): in the state's blob folder when it is
persisted, otherwise in a temporary folder owned by the state. Small seed files may also sit
in the state's in-memory blobs. Downloads stream files in chunks.

An attachment record in ``state.attachments``::

    {id: "att<n>", type: "attachment", status, title (file name), pageId, mediaType, comment,
     fileId, fileSize, blob, authorId, createdAt, version, versions: [previous versions, each
     with its own blob, fileSize, mediaType, comment and fileId]}
"""

from __future__ import annotations

import hashlib
import io
import mimetypes
import os
import tempfile
import uuid
import weakref
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ctk_core.sandbox import multipart
from ctk_core.sandbox.paging import paginate
from ctk_core.sandbox.responses import HttpError, Response, empty_response, json_response
from ctk_core.sandbox.router import Request
from ctk_core.sandbox.routes_users import user_v1_json
from ctk_core.sandbox.state import State, make_version
from ctk_core.sandbox.views import version_json

CHUNK = 1 << 20
SORTS = ("created-date", "-created-date", "modified-date", "-modified-date")
STATUSES = ("current", "archived", "trashed")
DESCRIPTIONS = {
    "image/png": "PNG Image",
    "image/jpeg": "JPEG Image",
    "image/gif": "GIF Image",
    "image/svg+xml": "SVG Image",
    "text/plain": "Text File",
    "text/csv": "CSV File",
    "text/markdown": "Markdown File",
    "application/pdf": "PDF Document",
    "application/json": "JSON File",
    "application/zip": "Zip Archive",
}
_TOKEN_VALUES = ("nocheck", "no-check")

# Temporary blob folders of in-memory states (removed when the state goes away).
_SPOOLS: weakref.WeakKeyDictionary[State, tempfile.TemporaryDirectory[str]] = (
    weakref.WeakKeyDictionary()
)


# ------------------------------------------------------------------------------ blobs


def blob_folder(state: State) -> Path:
    """Where attachment files go: the persisted blob folder, or the state's temp folder."""
    folder = state.blob_dir
    if folder is None:
        spool = _SPOOLS.get(state)
        if spool is None:
            spool = tempfile.TemporaryDirectory(prefix="ctk-sandbox-blobs-")
            _SPOOLS[state] = spool
        folder = Path(spool.name)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def adopt_file(state: State, path: Path, sha256: str) -> str:
    """Move an uploaded file into the blob folder under its hash; returns the blob key."""
    target = blob_folder(state) / sha256
    if target.exists():
        path.unlink(missing_ok=True)
    else:
        os.replace(path, target)
    return sha256


def blob_file(state: State, key: str) -> Path | None:
    for folder in (state.blob_dir, _SPOOLS[state].name if state in _SPOOLS else None):
        if folder is not None and (Path(folder) / key).is_file():
            return Path(folder) / key
    return None


def open_blob(state: State, key: str) -> tuple[int, Iterator[bytes]]:
    """(size, chunks) of a blob, streamed from its file when it has one."""
    path = blob_file(state, key)
    if path is not None:
        return path.stat().st_size, _file_chunks(path)
    data = state.read_blob(key)
    return len(data), iter([data])


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            yield chunk


# ------------------------------------------------------------------------------ model


def media_type_for(filename: str, declared: str | None = None) -> str:
    declared = (declared or "").split(";")[0].strip().lower()
    if declared and declared != "application/octet-stream":
        return declared
    guessed, _ = mimetypes.guess_type(filename)
    return guessed or declared or "application/octet-stream"


def create_attachment(
    state: State,
    page_id: str,
    filename: str,
    data: bytes,
    *,
    media_type: str | None = None,
    comment: str = "",
    author: str | None = None,
    created_at: str | None = None,
) -> dict[str, Any]:
    """An attachment from bytes (the seed's small files)."""
    return new_attachment(
        state,
        page_id,
        filename,
        state.store_blob(data),
        len(data),
        media_type=media_type_for(filename, media_type),
        comment=comment,
        author=author,
        created_at=created_at,
    )


def attach_file(
    state: State,
    page_id: str,
    source: str | os.PathLike[str],
    *,
    filename: str | None = None,
    media_type: str | None = None,
    comment: str = "",
    author: str | None = None,
) -> dict[str, Any]:
    """An attachment (or a new version of the one with that name) from a file on disk, copied
    in chunks: benchmarks use it to put a 200 MB file on a page without holding it in memory."""
    src = Path(source)
    name = filename or src.name
    folder = blob_folder(state)
    fd, tmp = tempfile.mkstemp(prefix=".copy-", suffix=".part", dir=folder)
    digest = hashlib.sha256()
    size = 0
    with os.fdopen(fd, "wb") as out, src.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
    blob = adopt_file(state, Path(tmp), digest.hexdigest())
    mtype = media_type_for(name, media_type)
    existing = find_by_name(state, page_id, name)
    if existing is not None:
        return add_version(
            state, existing, blob, size, media_type=mtype, comment=comment, author=author
        )
    return new_attachment(
        state, page_id, name, blob, size, media_type=mtype, comment=comment, author=author
    )


def new_attachment(
    state: State,
    page_id: str,
    filename: str,
    blob: str,
    size: int,
    *,
    media_type: str,
    comment: str = "",
    minor_edit: bool = False,
    author: str | None = None,
    created_at: str | None = None,
) -> dict[str, Any]:
    created_at = created_at or state.now()
    author = author or state.current_user or ""
    att: dict[str, Any] = {
        "id": state.new_id("att"),
        "type": "attachment",
        "status": "current",
        "title": filename,
        "pageId": page_id,
        "mediaType": media_type,
        "comment": comment,
        "fileId": str(uuid.uuid4()),
        "fileSize": size,
        "blob": blob,
        "authorId": author,
        "createdAt": created_at,
        "version": make_version(1, author, created_at, "", minor_edit),
        "versions": [],
    }
    state.attachments[att["id"]] = att
    return att


def add_version(
    state: State,
    att: dict[str, Any],
    blob: str,
    size: int,
    *,
    media_type: str,
    comment: str = "",
    minor_edit: bool = False,
    author: str | None = None,
) -> dict[str, Any]:
    """Re-upload: the current bytes become a previous version."""
    old = att["version"]
    att["versions"].append(
        dict(
            old,
            blob=att["blob"],
            fileSize=att["fileSize"],
            mediaType=att["mediaType"],
            comment=att["comment"],
            fileId=att["fileId"],
        )
    )
    att.update(
        {
            "blob": blob,
            "fileSize": size,
            "mediaType": media_type,
            "comment": comment,
            "fileId": str(uuid.uuid4()),
            "status": "current",
        }
    )
    att["version"] = make_version(
        old["number"] + 1, author or state.current_user, state.now(), "", minor_edit
    )
    return att


def attachments_of(
    state: State, page_id: str, statuses: set[str] | None = None
) -> list[dict[str, Any]]:
    wanted = statuses or {"current"}
    return [
        a for a in state.attachments.values() if a["pageId"] == page_id and a["status"] in wanted
    ]


def find_by_name(state: State, page_id: str, filename: str) -> dict[str, Any] | None:
    for att in attachments_of(state, page_id):
        if att["title"] == filename:
            return att
    return None


def _version_of(att: dict[str, Any], number: int | None) -> dict[str, Any]:
    """The attachment fields as of a version (the current one when ``number`` is None)."""
    if number is None or number == att["version"]["number"]:
        return att
    for old in att["versions"]:
        if old["number"] == number:
            return dict(
                att,
                blob=old["blob"],
                fileSize=old["fileSize"],
                mediaType=old["mediaType"],
                comment=old["comment"],
                fileId=old["fileId"],
                version={
                    k: old[k] for k in ("number", "message", "minorEdit", "authorId", "createdAt")
                },
            )
    raise HttpError(404, f"Version {number} of attachment {att['id']} not found.")


# ------------------------------------------------------------------------------ serialization


def download_link(att: dict[str, Any]) -> str:
    """Relative to the wiki base, as the real API gives it."""
    when = att["version"]["createdAt"]
    try:
        millis = int(datetime.fromisoformat(when.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        millis = 0
    return (
        f"/download/attachments/{att['pageId']}/{quote(att['title'], safe='')}"
        f"?version={att['version']['number']}&modificationDate={millis}"
        f"&cacheVersion=1&api=v2"
    )


def webui_link(att: dict[str, Any]) -> str:
    return (
        f"/pages/viewpageattachments.action?pageId={att['pageId']}"
        f"&preview={quote('/' + att['pageId'] + '/' + att['title'], safe='')}"
    )


def attachment_json(req: Request, att: dict[str, Any], single: bool = False) -> dict[str, Any]:
    """A v2 ``AttachmentBulk`` (or ``AttachmentSingle`` with ``_links.base``)."""
    out = {
        "id": att["id"],
        "status": att["status"],
        "title": att["title"],
        "createdAt": att["createdAt"],
        "pageId": att["pageId"],
        "mediaType": att["mediaType"],
        "mediaTypeDescription": DESCRIPTIONS.get(att["mediaType"], "File"),
        "comment": att.get("comment") or "",
        "fileId": att["fileId"],
        "fileSize": att["fileSize"],
        "webuiLink": webui_link(att),
        "downloadLink": download_link(att),
        "version": version_json(att["version"]),
        "_links": {"webui": webui_link(att), "download": download_link(att)},
    }
    if single:
        out["_links"]["base"] = req.wiki_base
    return out


def attachment_v1_json(req: Request, att: dict[str, Any]) -> dict[str, Any]:
    """A v1 ``Content`` of type attachment (the upload answer)."""
    state = req.state
    page = state.pages.get(att["pageId"]) or {}
    version = att["version"]
    description = DESCRIPTIONS.get(att["mediaType"], "File")
    return {
        "id": att["id"],
        "type": "attachment",
        "status": att["status"],
        "title": att["title"],
        "version": {
            "by": user_v1_json(req, version["authorId"]),
            "when": version["createdAt"],
            "friendlyWhen": "just now",
            "message": version.get("message") or "",
            "number": version["number"],
            "minorEdit": bool(version["minorEdit"]),
            "contentTypeModified": False,
            "_expandable": {"collaborators": "", "content": ""},
        },
        "container": {
            "id": att["pageId"],
            "type": "page",
            "status": page.get("status", "current"),
            "title": page.get("title", ""),
            "_links": {"self": f"{req.wiki_base}/rest/api/content/{att['pageId']}"},
        },
        "metadata": {
            "mediaType": att["mediaType"],
            "comment": att.get("comment") or "",
            "mediaTypeDescription": description,
            "_expandable": {"currentuser": "", "properties": "", "frontend": "", "editorHtml": ""},
        },
        "extensions": {
            "mediaType": att["mediaType"],
            "fileSize": att["fileSize"],
            "comment": att.get("comment") or "",
            "mediaTypeDescription": description,
            "fileId": att["fileId"],
        },
        "_expandable": {
            "childTypes": "",
            "operations": "",
            "schedulePublishDate": "",
            "children": "",
            "restrictions": "",
            "history": "",
            "ancestors": "",
            "body": "",
            "descendants": "",
            "space": "",
        },
        "_links": {
            "webui": webui_link(att),
            "download": download_link(att),
            "self": f"{req.wiki_base}/rest/api/content/{att['id']}",
        },
    }


def _sorted(atts: list[dict[str, Any]], sort: str | None) -> list[dict[str, Any]]:
    field = (sort or "created-date").lstrip("-")
    if field == "modified-date":
        ordered = sorted(atts, key=lambda a: (a["version"]["createdAt"], a["id"]))
    else:
        ordered = sorted(atts, key=lambda a: (a["createdAt"], int(a["id"][3:])))
    return list(reversed(ordered)) if sort and sort.startswith("-") else ordered


# ------------------------------------------------------------------------------ upload


def _upload(req: Request, page_id: str, replace: bool) -> Response:
    state = req.state
    token = (req.header("x-atlassian-token") or "").strip().lower()
    if token not in _TOKEN_VALUES:
        raise HttpError(403, "XSRF check failed")
    page = state.pages.get(page_id)
    if page is None or page.get("status") in ("deleted", "trashed"):
        raise HttpError(404, f"No content with id {page_id}.")
    try:
        boundary = multipart.boundary_of(req.header("content-type"))
        parts = multipart.parse(io.BytesIO(req.body), boundary, blob_folder(state))
    except multipart.MultipartError as exc:
        raise HttpError(400, f"Invalid multipart body: {exc}") from None
    try:
        files = [p for p in parts if p.name == "file" and p.filename is not None]
        comments = [p.text for p in parts if p.name == "comment"]
        minor = any(p.text.strip().lower() == "true" for p in parts if p.name == "minorEdit")
        if not files:
            raise HttpError(400, "The multipart body has no 'file' part.")
        if comments and len(comments) != len(files):
            raise HttpError(400, "Give one comment per file, in the same order, or none.")
        for part in files:
            if not part.filename:
                raise HttpError(400, "Every 'file' part needs a file name.")
            if not replace and find_by_name(state, page_id, part.filename):
                raise HttpError(
                    400,
                    "Cannot add a new attachment with same file name as an "
                    f"existing attachment: {part.filename}",
                )
        results = []
        for i, part in enumerate(files):
            assert part.path is not None
            assert part.filename is not None
            blob = adopt_file(state, part.path, part.sha256)
            mtype = media_type_for(part.filename, part.content_type)
            comment = comments[i] if comments else ""
            existing = find_by_name(state, page_id, part.filename) if replace else None
            if existing is not None:
                att = add_version(
                    state,
                    existing,
                    blob,
                    part.size,
                    media_type=mtype,
                    comment=comment or existing.get("comment") or "",
                    minor_edit=minor,
                    author=req.user,
                )
            else:
                att = new_attachment(
                    state,
                    page_id,
                    part.filename,
                    blob,
                    part.size,
                    media_type=mtype,
                    comment=comment,
                    minor_edit=minor,
                    author=req.user,
                )
            results.append(attachment_v1_json(req, att))
    finally:
        for part in parts:
            if part.path is not None and part.path.exists():
                part.path.unlink()
    return json_response(
        {
            "results": results,
            "start": 0,
            "limit": 50,
            "size": len(results),
            "_links": {
                "base": req.wiki_base,
                "context": "/wiki",
                "self": f"{req.wiki_base}/rest/api/content/{page_id}/child/attachment",
            },
        }
    )


def _stream(att: dict[str, Any], state: State) -> Response:
    size, chunks = open_blob(state, att["blob"])
    name = quote(att["title"])
    headers = {
        "Content-Type": att["mediaType"],
        "Content-Length": str(size),
        "Content-Disposition": f"attachment; filename*=UTF-8''{name}",
        "Cache-Control": "private, max-age=0",
    }
    return Response(200, b"", headers, stream=chunks)


# ------------------------------------------------------------------------------ routes


def _att_or_404(state: State, att_id: str, *, trashed_ok: bool = False) -> dict[str, Any]:
    att = state.attachments.get(att_id)
    if att is None or (att["status"] == "trashed" and not trashed_ok):
        raise HttpError(404, f"Attachment {att_id} not found.")
    return att


def register(router: Any) -> None:
    @router.route("GET", "/wiki/api/v2/pages/{id}/attachments")
    def page_attachments(req: Request, id: str) -> Response:
        page = req.state.pages.get(id)
        if page is None or page.get("status") == "deleted":
            raise HttpError(404, f"Page {id} not found.")
        statuses = set(req.args("status")) or {"current"}
        bad = statuses - set(STATUSES)
        if bad:
            raise HttpError(400, f"Invalid value for parameter 'status': {sorted(bad)[0]!r}")
        atts = attachments_of(req.state, id, statuses)
        filename, media = req.arg("filename"), req.arg("mediaType")
        if filename:
            atts = [a for a in atts if a["title"] == filename]
        if media:
            atts = [a for a in atts if a["mediaType"] == media.lower()]
        atts = _sorted(atts, req.choice_arg("sort", SORTS))
        return paginate(req, atts, lambda a: attachment_json(req, a), default_limit=50)

    @router.route("GET", "/wiki/api/v2/attachments/{id}")
    def get_attachment(req: Request, id: str) -> Response:
        att = _att_or_404(req.state, id, trashed_ok=True)
        view = _version_of(att, req.int_arg("version", minimum=1))
        out = attachment_json(req, view, single=True)
        if req.bool_arg("include-versions"):
            history = [att["version"], *reversed(att["versions"])]
            out["versions"] = {
                "results": [version_json(v) for v in history[:50]],
                "meta": {"hasMore": len(history) > 50, "cursor": ""},
            }
        if req.bool_arg("include-labels"):
            from ctk_core.sandbox.routes_labels import label_json, labels_of

            labels = labels_of(req.state, id)
            out["labels"] = {
                "results": [label_json(lb) for lb in labels[:50]],
                "meta": {"hasMore": len(labels) > 50, "cursor": ""},
            }
        if not req.bool_arg("include-version", True):
            out.pop("version", None)
        return json_response(out)

    @router.route("DELETE", "/wiki/api/v2/attachments/{id}")
    def delete_attachment(req: Request, id: str) -> Response:
        att = _att_or_404(req.state, id, trashed_ok=True)
        if req.bool_arg("purge"):
            if att["status"] != "trashed":
                raise HttpError(400, "Only a trashed attachment can be purged.")
            del req.state.attachments[id]
            req.state.content_labels.pop(id, None)
        elif att["status"] == "trashed":
            raise HttpError(404, f"Attachment {id} not found.")
        else:
            att["status"] = "trashed"
        return empty_response(204)

    @router.route("GET", "/wiki/download/attachments/{page_id}/{filename}")
    def download(req: Request, page_id: str, filename: str) -> Response:
        att = find_by_name(req.state, page_id, filename)
        if att is None:
            raise HttpError(404, f"No attachment {filename!r} on content {page_id}.")
        return _stream(_version_of(att, req.int_arg("version", minimum=1)), req.state)

    @router.route("GET", "/wiki/rest/api/content/{id}/child/attachment/{att_id}/download")
    def v1_download(req: Request, id: str, att_id: str) -> Response:
        att = _att_or_404(req.state, att_id)
        if att["pageId"] != id:
            raise HttpError(404, f"Attachment {att_id} is not on content {id}.")
        location = req.wiki_base + download_link(_version_of(att, req.int_arg("version")))
        return Response(302, b"", {"Location": location})

    @router.route("POST", "/wiki/rest/api/content/{id}/child/attachment")
    def v1_upload(req: Request, id: str) -> Response:
        return _upload(req, id, replace=False)

    @router.route("PUT", "/wiki/rest/api/content/{id}/child/attachment")
    def v1_upload_or_update(req: Request, id: str) -> Response:
        return _upload(req, id, replace=True)
