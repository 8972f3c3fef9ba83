"""``ctk auth``, ``ctk status`` and ``ctk logout``.

``ctk auth`` asks for the site, the email and the API token (hidden input), or takes
``--domain D --email E --token-stdin`` for scripts. It detects the token type once: classic
first (``GET /wiki/rest/api/user/current`` on ``https://<domain>.atlassian.net``); on 401 it
reads the cloud id from ``/_edge/tenant_info`` and tries the scoped-token gateway
``https://api.atlassian.com/ex/confluence/<cloudId>``. Then it saves the credentials file
atomically (folder 0700, file 0600).

Testing: ``CTK_SITE_URL`` and ``CTK_GATEWAY_URL`` (loopback URLs only) stand in for
``https://<domain>.atlassian.net`` and ``https://api.atlassian.com``, so the whole detection runs
against the sandbox (which serves ``/_edge/tenant_info`` and ``/ex/confluence/<cloudId>/...``).

The token is never printed: ``ctk status`` shows it masked (first 4 and last 4 characters).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any

import click

from ctk_core import credentials, settings
from ctk_core.errors import AuthError, CtkError, UsageError

TOKEN_PAGE = "https://id.atlassian.com/manage-profile/security/api-tokens"
USER_PATH = "/rest/api/user/current"

#: Scopes to choose for a scoped API token (issue 3, section 3).
READ_SCOPES = (
    "read:space:confluence",
    "read:page:confluence",
    "read:folder:confluence",
    "read:hierarchical-content:confluence",
    "read:comment:confluence",
    "read:label:confluence",
    "read:attachment:confluence",
    "read:user:confluence",
    "search:confluence",
)
WRITE_SCOPES = (
    "write:page:confluence",
    "write:folder:confluence",
    "write:comment:confluence",
    "write:label:confluence",
    "write:attachment:confluence",
    "write:space:confluence",
    "delete:page:confluence",
    "delete:folder:confluence",
    "delete:attachment:confluence",
)


def scope_text() -> str:
    lines = [
        "A classic API token works as it is. For a scoped token, choose these scopes:",
        "  read-only: " + ", ".join(READ_SCOPES),
        "  for writes add: " + ", ".join(WRITE_SCOPES),
    ]
    return "\n".join(lines)


def _client(
    base: str,
    email: str,
    token: str,
    environ: Mapping[str, str],
    web_url: str | None = None,
    token_type: str = "classic",
) -> Any:
    from ctk_core.client import Client, debug_enabled
    from ctk_core.ratelimit import limiter_from_environment

    return Client(
        base,
        email,
        token,
        web_url=web_url,
        token_type=token_type,
        limiter=limiter_from_environment(environ, site=base),
        debug=debug_enabled(environ),
    )


def verify(client: Any) -> dict[str, Any] | None:
    """One live request proving the credentials work; the user's profile when readable.

    A scoped token without the scope for ``/rest/api/user/current`` (Atlassian answers 401
    "scope does not match") is verified with ``GET /api/v2/spaces?limit=1`` instead; the
    identity is then unknown (None).
    """
    try:
        user = client.get(USER_PATH)
    except AuthError as exc:
        if "scope" not in exc.message.lower():
            raise
        client.get("/api/v2/spaces", params={"limit": 1})
        return None
    return user if isinstance(user, dict) else {}


def _identity(user: dict[str, Any] | None, email: str) -> str:
    if user is None:
        return f"{email} (the token may not read profiles; its other calls work)"
    name = user.get("displayName") or user.get("publicName") or email
    account = user.get("accountId")
    return f"{name} ({account})" if account else str(name)


def detect(
    domain: str, email: str, token: str, environ: Mapping[str, str], token_type: str = "auto"
) -> dict[str, Any]:
    """Find out how this token works: classic on the site, or scoped through the gateway.

    Returns ``{"token_type", "cloud_id", "base_url", "user"}``; raises AuthError when the token
    is refused both ways.
    """
    override = (environ.get("CTK_BASE_URL") or "").strip()
    if override:
        base = credentials.validate_base_url(override)
        client = _client(base, email, token, environ)
        chosen = "classic" if token_type == "auto" else token_type
        return {
            "token_type": chosen,
            "cloud_id": environ.get("CONFLUENCE_CLOUD_ID") or None,
            "base_url": base,
            "user": verify(client),
        }
    site = credentials.site_url(domain, environ)
    if token_type in ("auto", "classic"):
        client = _client(site, email, token, environ)
        try:
            return {
                "token_type": "classic",
                "cloud_id": None,
                "base_url": site,
                "user": verify(client),
            }
        except AuthError:
            if token_type == "classic":
                raise
    cloud_id = tenant_cloud_id(site, environ)
    gateway = credentials.gateway_url(cloud_id, environ)
    client = _client(gateway, email, token, environ, web_url=site, token_type="scoped")
    try:
        user = verify(client)
    except AuthError:
        how = (
            "both as a classic token and as a scoped token through the gateway"
            if token_type == "auto"
            else "as a scoped token through the gateway"
        )
        raise AuthError(
            f"The email and token were refused for {domain}.atlassian.net, {how}.",
            hint=f"Check the email and token (create one at {TOKEN_PAGE}), then run `ctk auth` "
            "again.",
        ) from None
    return {"token_type": "scoped", "cloud_id": cloud_id, "base_url": gateway, "user": user}


def tenant_cloud_id(site: str, environ: Mapping[str, str]) -> str:
    """The site's cloud id from the unauthenticated ``/_edge/tenant_info``."""
    client = _client(site, "", "", environ)
    try:
        data = client.request("GET", site + "/_edge/tenant_info", auth=False)
    except CtkError as exc:
        raise AuthError(
            f"The token was refused by {site} and its cloud id could not be read ({exc.message})",
            hint="Check the domain, email and token, then run `ctk auth` again.",
        ) from None
    cloud_id = data.get("cloudId") if isinstance(data, dict) else None
    if not isinstance(cloud_id, str) or not cloud_id:
        raise AuthError(f"{site}/_edge/tenant_info did not give a cloud id.")
    return cloud_id


def _read_token_stdin() -> str:
    data = sys.stdin.read()
    for line in data.splitlines():
        if line.strip():
            return line.strip()
    return ""


def _prompt_domain(value: str) -> str:
    try:
        return credentials.normalize_domain(value)
    except UsageError as exc:
        raise click.BadParameter(str(exc)) from None


def _check_email(value: str) -> str:
    value = (value or "").strip()
    if "@" not in value or any(ch.isspace() for ch in value) or len(value) > 254:
        raise UsageError(
            f"{value!r} does not look like an email address.",
            hint="Use the email of your Atlassian account.",
        )
    return value


def _prompt_email(value: str) -> str:
    try:
        return _check_email(value)
    except UsageError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command("auth")
@click.option("--domain", metavar="SITE", help="Your site: acme, acme.atlassian.net or its URL.")
@click.option("--email", metavar="EMAIL", help="The email of your Atlassian account.")
@click.option(
    "--token-stdin", is_flag=True, help="Read the API token from standard input (for scripts)."
)
@click.option(
    "--token-type",
    type=click.Choice(["auto", "classic", "scoped"]),
    default="auto",
    show_default=True,
    help="Skip detection when you know the kind of token.",
)
@click.pass_context
def auth_command(
    ctx: click.Context, domain: str | None, email: str | None, token_stdin: bool, token_type: str
) -> None:
    """Save credentials for a Confluence Cloud site (verified first).

    Prompts for the site, the email and the API token (hidden). For scripts:
    ctk auth --domain acme --email me@example.com --token-stdin < token.txt
    """
    env = settings.environ()
    if token_stdin:
        if not domain or not email:
            raise UsageError("--token-stdin needs --domain and --email too.")
        domain = credentials.normalize_domain(domain)
        email = _check_email(email)
        token = _read_token_stdin()
        if not token:
            raise UsageError("No API token on standard input.")
    else:
        domain = (
            credentials.normalize_domain(domain)
            if domain
            else click.prompt(
                "Confluence site (e.g. acme for acme.atlassian.net)", value_proc=_prompt_domain
            )
        )
        email = _check_email(email) if email else click.prompt("Email", value_proc=_prompt_email)
        click.echo(f"Create an API token at {TOKEN_PAGE}")
        click.echo(scope_text())
        token = click.prompt("API token", hide_input=True).strip()
        if not token:
            raise UsageError("The API token is empty.")
    assert domain is not None
    assert email is not None
    given = "standard input" if token_stdin else "the prompt"
    credentials.check_sendable(
        credentials.Credentials(
            email=email, api_token=token, sources={"api_token": given, "email": "--email"}
        )
    )
    found = detect(domain, email, token, env, token_type)
    fields = {
        "domain": domain,
        "email": email,
        "api_token": token,
        "token_type": found["token_type"],
        "cloud_id": found["cloud_id"] if found["token_type"] == "scoped" else None,
        "created_at": credentials.now_iso(),
    }
    path = credentials.write_file(fields, credentials.credentials_path(env))
    kind = (
        "a scoped token through the gateway"
        if found["token_type"] == "scoped"
        else "a classic token"
    )
    click.echo(
        f"Authenticated as {_identity(found['user'], email)} on {domain}.atlassian.net with {kind}."
    )
    click.echo(f"Saved to {path} (readable only by you).")
    if token_stdin:
        click.echo(scope_text())
    overriding = [name for name in credentials.ENV_VARS.values() if env.get(name)]
    if overriding:
        click.echo(
            "Note: " + ", ".join(overriding) + " set in the environment override the saved values.",
            err=True,
        )


def _source(creds: credentials.Credentials, name: str) -> str:
    return creds.sources.get(name, "missing")


def status_report(environ: Mapping[str, str]) -> tuple[dict[str, Any], credentials.Credentials]:
    creds = credentials.load(environ, require=False)
    path = credentials.credentials_path(environ)
    report: dict[str, Any] = {
        "domain": creds.domain,
        "domain_source": _source(creds, "domain"),
        "email": creds.email,
        "email_source": _source(creds, "email"),
        "token": credentials.mask_token(creds.api_token) or None,
        "token_source": _source(creds, "api_token"),
        "token_type": creds.token_type,
        "token_type_source": _source(creds, "token_type")
        if "token_type" in creds.sources
        else "default",
        "cloud_id": creds.cloud_id,
        "stored_at": creds.created_at,
        "file": str(path),
        "file_exists": path.exists(),
        "base_url": creds.base_url(environ) if not creds.missing() else None,
        "missing": creds.missing(),
    }
    if creds.base_url_override:
        report["base_url_source"] = "env CTK_BASE_URL"
    return report, creds


@click.command("status")
@click.option("--check", is_flag=True, help="Make one live request and report who you are.")
@click.pass_context
def status_command(ctx: click.Context, check: bool) -> None:
    """Show where credentials come from (environment or file) and for which site."""
    env = settings.environ()
    report, creds = status_report(env)
    identity: str | None = None
    if check and not report["missing"]:
        client = _client(
            report["base_url"],
            creds.email or "",
            creds.api_token or "",
            env,
            web_url=creds.web_url(env),
            token_type=creds.token_type,
        )
        user = verify(client)
        identity = _identity(user, creds.email or "")
        report["check"] = {
            "ok": True,
            "identity": identity,
            "account_id": (user or {}).get("accountId"),
        }
    from ctk_core.cli_run import root_json

    if root_json(ctx):
        click.echo(json.dumps(report, ensure_ascii=False))
    else:

        def show(value: Any, source: str) -> str:
            if value in (None, ""):
                return "(not set)"
            return f"{value}  [{source}]"

        rows = [
            ("domain", show(report["domain"], report["domain_source"])),
            ("email", show(report["email"], report["email_source"])),
            ("token", show(report["token"], report["token_source"])),
            ("token type", show(report["token_type"], report["token_type_source"])),
        ]
        if report["cloud_id"]:
            rows.append(("cloud id", show(report["cloud_id"], _source(creds, "cloud_id"))))
        rows.append(("stored at", report["stored_at"] or "(not stored)"))
        rows.append(
            ("file", report["file"] + ("" if report["file_exists"] else "  (does not exist)"))
        )
        if report["base_url"]:
            suffix = "  [env CTK_BASE_URL]" if creds.base_url_override else ""
            rows.append(("requests go to", report["base_url"] + suffix))
        if identity:
            rows.append(("check", f"OK, authenticated as {identity}"))
        width = max(len(k) for k, _ in rows)
        for key, value in rows:
            click.echo(f"{key.ljust(width)}  {value}")
    if report["missing"]:
        creds.require()  # raises AuthError naming the first missing field and how to set it


@click.command("logout")
def logout_command() -> None:
    """Remove the saved credentials file (environment variables are left alone)."""
    env = settings.environ()
    path = credentials.credentials_path(env)
    if credentials.delete_file(path):
        click.echo(f"Removed {path}.")
    else:
        click.echo(f"No credentials file at {path}; nothing to remove.")
    still = [name for name in credentials.ENV_VARS.values() if env.get(name)]
    if still:
        click.echo(
            "Still set in the environment (not changed by ctk logout): "
            + ", ".join(still)
            + ". Unset them to stop using those credentials."
        )


__all__ = [
    "READ_SCOPES",
    "WRITE_SCOPES",
    "auth_command",
    "detect",
    "logout_command",
    "status_command",
    "verify",
]
