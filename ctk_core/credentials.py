"""Credentials: the private file, the environment, the site.

The file is ``$XDG_CONFIG_HOME/ctk/credentials.json`` (default ``~/.config/ctk``;
``CTK_CONFIG_DIR`` replaces the folder). Its folder is 0700 and the file 0600; it is written
atomically (a temp file created 0600 in the same folder, then renamed over the old one), so the
token is never readable by anyone else, not even for a moment. A file that group or others can
access is refused, as ssh refuses a private key.

``CONFLUENCE_DOMAIN``, ``CONFLUENCE_EMAIL``, ``CONFLUENCE_API_TOKEN``, ``CONFLUENCE_TOKEN_TYPE``
and ``CONFLUENCE_CLOUD_ID`` override the file field by field.

Where requests go:

* classic token: ``https://<domain>.atlassian.net``;
* scoped token: the gateway ``https://api.atlassian.com/ex/confluence/<cloudId>``;
* ``CTK_BASE_URL``: any Confluence-compatible base (sandbox, proxy); ``http://`` only for
  loopback hosts. The domain is then not required.

For tests only, ``CTK_SITE_URL`` and ``CTK_GATEWAY_URL`` replace ``https://<domain>.atlassian.net``
and ``https://api.atlassian.com``; they accept loopback URLs only (the sandbox serves both
``/_edge/tenant_info`` and ``/ex/confluence/<cloudId>/...``).

Only the standard library is imported here, and of ctk the errors and ``files.py`` (which owns
the config folder and the atomic writes; it imports nothing from this module).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from ctk_core import settings
from ctk_core.errors import AuthError, UsageError, shown
from ctk_core.files import atomic_writer, config_dir

FILE_NAME = "credentials.json"
TOKEN_TYPES = ("classic", "scoped")
FIELDS = ("domain", "email", "api_token", "token_type", "cloud_id", "created_at")
ENV_VARS = {
    "domain": "CONFLUENCE_DOMAIN",
    "email": "CONFLUENCE_EMAIL",
    "api_token": "CONFLUENCE_API_TOKEN",
    "token_type": "CONFLUENCE_TOKEN_TYPE",
    "cloud_id": "CONFLUENCE_CLOUD_ID",
}
GATEWAY_URL = "https://api.atlassian.com"
SITE_SUFFIX = ".atlassian.net"

_LABEL_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_CLOUD_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")


# --------------------------------------------------------------------------- folders and file


def credentials_path(environ: Mapping[str, str] | None = None) -> Path:
    return config_dir(environ) / FILE_NAME


def _check_config_dir(folder: Path) -> os.stat_result | None:
    """Refuse a config folder that is a link, not a folder, or another user's (AuthError);
    its stat, or None when it does not exist. Credentials are neither read nor written there."""
    if folder.is_symlink():
        raise AuthError(
            f"The config folder {folder} is a symbolic link; ctk does not read or store "
            "credentials through links.",
            hint="Remove the link or set CTK_CONFIG_DIR to a private folder.",
        )
    try:
        info = os.stat(folder)
    except FileNotFoundError:
        return None
    if not stat.S_ISDIR(info.st_mode):
        raise AuthError(f"{folder} exists and is not a folder.")
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise AuthError(
            f"The config folder {folder} belongs to another user.",
            hint="Set CTK_CONFIG_DIR to a folder of your own.",
        )
    return info


def _ensure_private_dir(folder: Path) -> None:
    """Create ``folder`` 0700 (parents with the default mode) and tighten it if it is ours."""
    _check_config_dir(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.mkdir(folder, 0o700)
    info = _check_config_dir(folder)
    if info is not None and stat.S_IMODE(info.st_mode) != 0o700:
        os.chmod(folder, 0o700)


def check_file_permissions(path: Path) -> None:
    """Refuse a credentials file that group or others can access (like ssh with keys)."""
    info = os.stat(path)
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        raise AuthError(
            f"Refusing to use {path}: it is accessible by group or others (mode {mode:04o}).",
            hint=f"Fix it with: chmod 600 {path}",
        )


def read_file(path: Path | None = None) -> dict[str, str]:
    """The stored fields (empty when there is no file). Checks permissions first."""
    path = credentials_path() if path is None else path
    if _check_config_dir(path.parent) is None:
        return {}
    try:
        check_file_permissions(path)
    except FileNotFoundError:
        return {}
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        raise AuthError(
            f"Cannot read the credentials file {path} ({type(exc).__name__}).",
            hint="Run `ctk auth` to write it again.",
        ) from None
    if not isinstance(data, dict):
        raise AuthError(
            f"The credentials file {path} is not a JSON object.",
            hint="Run `ctk auth` to write it again.",
        )
    return {k: str(v) for k, v in data.items() if k in FIELDS and v not in (None, "")}


def write_file(fields: Mapping[str, str | None], path: Path | None = None) -> Path:
    """Write the credentials atomically: 0700 folder, temp file created 0600, then renamed."""
    path = credentials_path() if path is None else path
    _ensure_private_dir(path.parent)
    data = {k: fields[k] for k in FIELDS if fields.get(k) not in (None, "")}
    payload = (json.dumps(data, indent=2, sort_keys=False) + "\n").encode("utf-8")
    with atomic_writer(path, overwrite=True) as handle:
        handle.write(payload)
    return path


def delete_file(path: Path | None = None) -> bool:
    """Remove the credentials file. Returns whether there was one."""
    path = credentials_path() if path is None else path
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    return True


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# --------------------------------------------------------------------------- domain and URLs


def normalize_domain(value: str) -> str:
    """``acme``, ``acme.atlassian.net`` and ``https://acme.atlassian.net/wiki/x`` all mean ``acme``.

    The result must be a valid DNS label (letters, digits, hyphens; 1 to 63 characters; no
    leading or trailing hyphen). Anything else raises :class:`UsageError` before any request.
    """
    original = value
    text = (value or "").strip()
    if not text:
        raise UsageError("The Confluence domain is empty.", hint=_DOMAIN_HINT)
    if any(ch.isspace() for ch in text) or any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise UsageError(f"Invalid Confluence domain {shown(original)}.", hint=_DOMAIN_HINT)
    if "://" not in text and any(ch in text for ch in "/?#@:"):
        text = "https://" + text  # a pasted host with a path, e.g. acme.atlassian.net/wiki
    host = text
    if "://" in text:
        try:
            parts = urlsplit(text)
            port = parts.port
        except ValueError:
            raise UsageError(
                f"Invalid Confluence domain {shown(original)}.", hint=_DOMAIN_HINT
            ) from None
        if parts.scheme.lower() not in ("http", "https") or parts.username or parts.password:
            raise UsageError(f"Invalid Confluence domain {shown(original)}.", hint=_DOMAIN_HINT)
        if port not in (None, 443):
            raise UsageError(f"Invalid Confluence domain {shown(original)}.", hint=_DOMAIN_HINT)
        host = parts.hostname or ""
    host = host.lower()
    if host.endswith("."):
        host = host[:-1]
    if host.endswith(SITE_SUFFIX):
        label = host[: -len(SITE_SUFFIX)]
    elif "." in host:
        raise UsageError(
            f"Invalid Confluence domain {shown(original)}: only <name>.atlassian.net sites are "
            "supported.",
            hint="For another Confluence-compatible server set CTK_BASE_URL.",
        )
    else:
        label = host
    if not _LABEL_RE.match(label):
        raise UsageError(f"Invalid Confluence domain {shown(original)}.", hint=_DOMAIN_HINT)
    return label


_DOMAIN_HINT = (
    "Give the site name, e.g. acme (for https://acme.atlassian.net): letters, digits and "
    "hyphens only."
)


def is_loopback_host(host: str | None) -> bool:
    """Whether a host name or address is this machine: ``localhost`` (and ``*.localhost``),
    127.0.0.0/8, ``::1`` (bracketed or not) or an IPv4-mapped loopback (``::ffff:127.0.0.1``)."""
    if not host:
        return False
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool((mapped or address).is_loopback)


def shown_url(value: str) -> str:
    """A URL for a message: user name, password, query and fragment (where secrets sit)
    replaced by ``***``, at most 100 characters."""
    text = (value or "").strip()
    try:
        parts = urlsplit(text)
        netloc = parts.netloc
        if "@" in netloc:
            netloc = "***@" + netloc.rsplit("@", 1)[1]
        query = "?***" if parts.query else ""
        fragment = "#***" if parts.fragment else ""
        text = f"{parts.scheme}://{netloc}{parts.path}{query}{fragment}" if parts.scheme else text
    except ValueError:
        text = text.split("?", 1)[0].split("#", 1)[0]
    return repr(text if len(text) <= 100 else text[:97] + "...")


def check_sendable(creds: Credentials) -> None:
    """Refuse an email or token that cannot travel in an HTTP Basic header (AuthError, exit 3),
    quoting no part of it: requests would fail on every call with the character in view."""
    for name, value in (("api_token", creds.api_token), ("email", creds.email)):
        if value and not value.isascii():
            source = creds.sources.get(name, "file")
            where = str(creds.path) if source == "file" else source.removeprefix("env ")
            raise AuthError(
                f"The {_LABELS[name]} (from {where}) has a character that is not plain ASCII, "
                "so it cannot be sent to Confluence.",
                hint="Copy it again from your Atlassian account (tokens are ASCII), "
                "then run `ctk auth`.",
            )


def validate_base_url(
    value: str, variable: str = "CTK_BASE_URL", *, loopback_only: bool = False
) -> str:
    """Check a base URL (https, or http for loopback hosts) and return it without a trailing
    slash (and without a trailing ``/wiki``: the base is the site root)."""
    text = (value or "").strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise UsageError(f"{variable}={shown_url(value)} is not a valid URL.") from None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in ("http", "https") or not host:
        raise UsageError(
            f"{variable}={shown_url(value)} is not a valid URL.",
            hint="Use https://host[/path] (http:// only for 127.0.0.1, ::1 or localhost).",
        )
    if parts.username or parts.password:
        raise UsageError(f"{variable} must not contain user names or passwords.")
    if parts.query or parts.fragment:
        raise UsageError(f"{variable}={shown_url(value)} must not have a query or fragment.")
    loopback = is_loopback_host(host)
    if loopback_only and not loopback:
        raise UsageError(
            f"{variable} accepts loopback URLs only (127.0.0.1, ::1, localhost); it is meant "
            "for tests.",
        )
    if scheme == "http" and not loopback:
        raise UsageError(
            f"{variable}={shown_url(value)} uses plain http for a non-loopback host.",
            hint="Use https://, or http:// only for 127.0.0.1, ::1 or localhost.",
        )
    path = parts.path.rstrip("/")
    if path.endswith("/wiki"):
        path = path[: -len("/wiki")]
    return f"{scheme}://{parts.netloc}{path}"


def site_url(domain: str, environ: Mapping[str, str] | None = None) -> str:
    """The site root for a domain (``CTK_SITE_URL`` replaces it in tests, loopback only)."""
    env = settings.environ(environ)
    override = env.get("CTK_SITE_URL")
    if override:
        return validate_base_url(override, "CTK_SITE_URL", loopback_only=True)
    return f"https://{domain}{SITE_SUFFIX}"


def gateway_root(environ: Mapping[str, str] | None = None) -> str:
    """``https://api.atlassian.com`` (``CTK_GATEWAY_URL`` replaces it in tests, loopback only)."""
    env = settings.environ(environ)
    override = env.get("CTK_GATEWAY_URL")
    if override:
        return validate_base_url(override, "CTK_GATEWAY_URL", loopback_only=True)
    return GATEWAY_URL


def gateway_url(cloud_id: str, environ: Mapping[str, str] | None = None) -> str:
    if not _CLOUD_ID_RE.match(cloud_id or ""):
        raise UsageError(f"Invalid cloud id {shown(cloud_id)}.", hint="Run `ctk auth` again.")
    return f"{gateway_root(environ)}/ex/confluence/{cloud_id}"


# --------------------------------------------------------------------------- merge


@dataclass
class Credentials:
    """The merged view of file and environment, with where each field came from."""

    domain: str | None = None
    email: str | None = None
    api_token: str | None = None
    token_type: str = "classic"
    cloud_id: str | None = None
    created_at: str | None = None
    base_url_override: str | None = None
    path: Path | None = None
    sources: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:  # never show the token, not even in a debugger or traceback
        return (
            f"Credentials(domain={self.domain!r}, email={self.email!r}, api_token="
            f"{mask_token(self.api_token)!r}, token_type={self.token_type!r}, "
            f"cloud_id={self.cloud_id!r}, base_url_override={self.base_url_override!r})"
        )

    __str__ = __repr__

    def missing(self) -> list[str]:
        """Required fields that are still missing."""
        needed = ["email", "api_token"]
        if not self.base_url_override:
            needed.insert(0, "domain")
            if self.token_type == "scoped":
                needed.append("cloud_id")
        return [name for name in needed if not getattr(self, name)]

    def require(self) -> Credentials:
        missing = self.missing()
        if missing:
            name = missing[0]
            env = ENV_VARS[name]
            others = ", ".join(_LABELS[m] for m in missing[1:])
            more = f" (also missing: {others})" if others else ""
            more_env = ", ".join(ENV_VARS[m] for m in missing[1:])
            also = f" (and {more_env})" if more_env else ""
            raise AuthError(
                f"No Confluence {_LABELS[name]} configured{more}.",
                hint=f"Run `ctk auth`, or set {env}{also} in the environment.",
            )
        return self

    def base_url(self, environ: Mapping[str, str] | None = None) -> str:
        """Where API requests go: CTK_BASE_URL, the gateway (scoped) or the site (classic)."""
        if self.base_url_override:
            return self.base_url_override
        self.require()
        assert self.domain is not None
        if self.token_type == "scoped":
            assert self.cloud_id is not None
            return gateway_url(self.cloud_id, environ)
        return site_url(self.domain, environ)

    def web_url(self, environ: Mapping[str, str] | None = None) -> str:
        """The site root people open in a browser (for web links)."""
        if self.base_url_override:
            return self.base_url_override
        if self.domain:
            return site_url(self.domain, environ)
        return self.base_url(environ)


_LABELS = {
    "domain": "domain",
    "email": "email",
    "api_token": "API token",
    "token_type": "token type",
    "cloud_id": "cloud id (needed for a scoped token)",
}


def mask_token(token: str | None) -> str:
    """First 4 and last 4 characters; short tokens are hidden completely."""
    if not token:
        return ""
    if len(token) < 16:
        return "****"
    return f"{token[:4]}…{token[-4:]}"


def load(environ: Mapping[str, str] | None = None, *, require: bool = True) -> Credentials:
    """Merge the file and the environment (environment wins, field by field).

    With ``require`` a missing field raises :class:`AuthError` naming it and both ways to provide
    it. The domain is normalised and checked wherever it came from.
    """
    env = settings.environ(environ)
    path = credentials_path(env)
    stored = read_file(path)
    creds = Credentials(path=path)
    for name in FIELDS:
        env_name = ENV_VARS.get(name)
        env_value = env.get(env_name, "").strip() if env_name else ""
        if env_value:
            value: str | None = env_value
            creds.sources[name] = f"env {env_name}"
        elif stored.get(name):
            value = stored[name]
            creds.sources[name] = "file"
        else:
            continue
        if name == "token_type":
            assert value is not None
            value = value.lower()
            if value not in TOKEN_TYPES:
                where = env_name if creds.sources[name].startswith("env") else str(path)
                raise UsageError(
                    f"Unknown token type {shown(value)} (from {where}).",
                    hint="Use classic or scoped.",
                )
        setattr(creds, name, value)
    if creds.domain:
        try:
            creds.domain = normalize_domain(creds.domain)
        except UsageError as exc:
            where = "CONFLUENCE_DOMAIN" if creds.sources["domain"].startswith("env") else str(path)
            raise UsageError(f"{exc.message} (from {where})", hint=exc.hint) from None
    base = env.get("CTK_BASE_URL", "").strip()
    if base:
        creds.base_url_override = validate_base_url(base)
        creds.sources["base_url"] = "env CTK_BASE_URL"
    check_sendable(creds)
    if require:
        creds.require()
    return creds


__all__ = [
    "ENV_VARS",
    "FIELDS",
    "Credentials",
    "check_file_permissions",
    "config_dir",
    "credentials_path",
    "delete_file",
    "gateway_root",
    "gateway_url",
    "is_loopback_host",
    "load",
    "mask_token",
    "normalize_domain",
    "read_file",
    "site_url",
    "validate_base_url",
    "write_file",
]
