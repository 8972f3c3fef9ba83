"""`ctk auth`, `ctk status`, `ctk logout` through the real CLI, against the sandbox."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest
from click.testing import CliRunner

from ctk_core import credentials
from ctk_core.cli import main
from ctk_core.commands.auth import READ_SCOPES, WRITE_SCOPES
from ctk_core.testing import running_sandbox

TOKEN = "ATATT3xFfGF0-auth-cli-token-7d1c9e5a3b2f"

ISSUE_READ = (
    "read:space:confluence, read:page:confluence, read:folder:confluence, "
    "read:hierarchical-content:confluence, read:comment:confluence, read:label:confluence, "
    "read:attachment:confluence, read:user:confluence, search:confluence"
)
ISSUE_WRITE = (
    "write:page:confluence, write:folder:confluence, write:comment:confluence, "
    "write:label:confluence, write:attachment:confluence, write:space:confluence, "
    "delete:page:confluence, delete:folder:confluence, delete:attachment:confluence"
)


@pytest.fixture(scope="module")
def shared_sandbox():
    with running_sandbox(token=TOKEN) as handle:
        yield handle


@pytest.fixture
def sandbox(shared_sandbox, monkeypatch):
    """The sandbox stands in for https://acme.atlassian.net and https://api.atlassian.com."""
    shared_sandbox.faults.clear()
    shared_sandbox.requests.clear()
    monkeypatch.setenv("CTK_SITE_URL", shared_sandbox.url)
    monkeypatch.setenv("CTK_GATEWAY_URL", shared_sandbox.url)
    yield shared_sandbox
    shared_sandbox.faults.clear()


#: Checked after every test by the suite's token_never_leaks (tests/secret_support.py).
SECRETS = [TOKEN]


def ctk(*args: str, input: str | None = None):
    result = CliRunner().invoke(main, list(args), input=input)
    assert TOKEN not in result.stdout
    assert TOKEN not in result.stderr
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def mode_of(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def auth_stdin(sandbox, *extra: str, token: str = TOKEN, domain: str = "acme"):
    return ctk(
        "auth",
        "--domain",
        domain,
        "--email",
        sandbox.email,
        "--token-stdin",
        *extra,
        input=token + "\n",
    )


# --- ctk auth ---------------------------------------------------------------------------------


def test_auth_non_interactive_saves_private_file(sandbox):
    result = auth_stdin(sandbox)
    assert result.exit_code == 0, result.output
    assert "Authenticated as Alex Morgan" in result.stdout
    assert "a classic token" in result.stdout
    path = credentials.credentials_path()
    assert f"Saved to {path}" in result.stdout
    assert mode_of(path.parent) == 0o700
    assert mode_of(path) == 0o600
    data = json.loads(path.read_text())
    assert data["domain"] == "acme"
    assert data["email"] == sandbox.email
    assert data["api_token"] == TOKEN
    assert data["token_type"] == "classic"
    assert "cloud_id" not in data
    assert data["created_at"].endswith("Z")
    # verified with one request, on the site
    assert [e["path"] for e in sandbox.requests.entries()] == ["/wiki/rest/api/user/current"]


def test_auth_prints_the_scope_lists_of_the_issue(sandbox):
    result = auth_stdin(sandbox)
    assert f"read-only: {ISSUE_READ}" in result.stdout
    assert f"for writes add: {WRITE_SCOPES[0]}" in result.stdout
    assert f"for writes add: {ISSUE_WRITE}" in result.stdout
    assert ", ".join(READ_SCOPES) == ISSUE_READ


def test_auth_interactive_prompts_and_hides_the_token(sandbox):
    result = ctk(
        "auth", input=f"https://acme.atlassian.net/wiki/spaces/X\n{sandbox.email}\n{TOKEN}\n"
    )
    assert result.exit_code == 0, result.output
    assert "Confluence site" in result.output
    assert "API token" in result.output
    assert "id.atlassian.com" in result.output
    assert ISSUE_READ in result.output
    assert json.loads(credentials.credentials_path().read_text())["domain"] == "acme"


def test_auth_interactive_asks_again_after_a_bad_domain(sandbox):
    result = ctk("auth", input=f"evil.com/\nacme\nnot-an-email\n{sandbox.email}\n{TOKEN}\n")
    assert result.exit_code == 0, result.output
    assert "Invalid Confluence domain 'evil.com/'" in result.output
    assert "does not look like an email" in result.output
    assert sandbox.requests.entries()[0]["path"] == "/wiki/rest/api/user/current"


def test_auth_detects_a_scoped_token(sandbox):
    # the site refuses the token once (as Atlassian does for scoped tokens), the gateway takes it
    sandbox.fault(
        {"kind": "html", "status": 401, "path": "/wiki/rest/api/user/current", "count": 1}
    )
    result = auth_stdin(sandbox)
    assert result.exit_code == 0, result.output
    assert "a scoped token through the gateway" in result.stdout
    data = json.loads(credentials.credentials_path().read_text())
    assert data["token_type"] == "scoped"
    assert data["cloud_id"] == sandbox.cloud_id
    paths = [e["path"] for e in sandbox.requests.entries()]
    assert paths == [
        "/wiki/rest/api/user/current",
        "/_edge/tenant_info",
        f"/ex/confluence/{sandbox.cloud_id}/wiki/rest/api/user/current",
    ]
    status = ctk("status", "--check")
    assert status.exit_code == 0, status.output
    assert f"/ex/confluence/{sandbox.cloud_id}" in status.stdout
    assert "OK, authenticated as Alex Morgan" in status.stdout


def test_scoped_token_without_the_profile_scope_is_verified_another_way(
    confluence_sandbox_factory, monkeypatch
):
    """Atlassian answers 401 "scope does not match" when a scoped token lacks the scope of
    /rest/api/user/current; ctk then verifies with GET /api/v2/spaces?limit=1."""
    from ctk_core.sandbox.responses import json_response

    box = confluence_sandbox_factory(token=TOKEN)
    monkeypatch.setenv("CTK_SITE_URL", box.url)
    monkeypatch.setenv("CTK_GATEWAY_URL", box.url)

    def scope_check(req):
        if "/ex/confluence/" in req.base:
            return json_response(
                {"code": 401, "message": "Unauthorized; scope does not match"},
                401,
                {"X-Failure-Category": "FAILURE_CLIENT_SCOPE_CHECK"},
            )
        return json_response({"message": "Unauthorized"}, 401)

    box.server.router.add("GET", "/wiki/rest/api/user/current", scope_check)
    result = auth_stdin(box)
    assert result.exit_code == 0, result.output
    assert "a scoped token through the gateway" in result.stdout
    assert "may not read profiles" in result.stdout
    paths = [e["path"] for e in box.requests.entries()]
    assert paths[-1] == f"/ex/confluence/{box.cloud_id}/wiki/api/v2/spaces"
    assert json.loads(credentials.credentials_path().read_text())["token_type"] == "scoped"


def test_auth_with_a_known_token_type_skips_detection(sandbox):
    result = auth_stdin(sandbox, "--token-type", "scoped")
    assert result.exit_code == 0, result.output
    paths = [e["path"] for e in sandbox.requests.entries()]
    assert paths == [
        "/_edge/tenant_info",
        f"/ex/confluence/{sandbox.cloud_id}/wiki/rest/api/user/current",
    ]


def test_auth_with_a_wrong_token_fails_and_saves_nothing(sandbox):
    result = auth_stdin(sandbox, token="wrong-token-" + "x" * 20)
    assert result.exit_code == 3
    assert (
        "refused for acme.atlassian.net, both as a classic token and as a scoped token"
        in result.stderr
    )
    assert len(result.stderr.strip().splitlines()) == 1
    assert not credentials.credentials_path().exists()


def test_auth_refuses_a_bad_domain_before_any_request(sandbox):
    for bad in ("evil.com/", "a b", "acme.atlassian.net.evil.com"):
        result = auth_stdin(sandbox, domain=bad)
        assert result.exit_code == 2, result.output
        assert "Invalid Confluence domain" in result.stderr
    assert sandbox.requests.entries() == []
    assert not credentials.credentials_path().exists()


def test_auth_token_stdin_needs_domain_and_email(sandbox):
    result = ctk("auth", "--token-stdin", input=TOKEN)
    assert result.exit_code == 2
    assert "--domain and --email" in result.stderr
    result = auth_stdin(sandbox, token="")
    assert result.exit_code == 2
    assert "No API token" in result.stderr


def test_auth_site_override_must_be_loopback(sandbox, monkeypatch):
    monkeypatch.setenv("CTK_SITE_URL", "https://attacker.example.com")
    result = auth_stdin(sandbox)
    assert result.exit_code == 2
    assert "loopback" in result.stderr
    assert not credentials.credentials_path().exists()


def test_auth_verifies_against_ctk_base_url_when_set(sandbox, monkeypatch):
    monkeypatch.setenv("CTK_BASE_URL", sandbox.gateway_url)
    result = auth_stdin(sandbox)
    assert result.exit_code == 0, result.output
    assert [e["path"] for e in sandbox.requests.entries()] == [
        f"/ex/confluence/{sandbox.cloud_id}/wiki/rest/api/user/current"
    ]
    assert json.loads(credentials.credentials_path().read_text())["domain"] == "acme"


def test_auth_warns_when_env_vars_override_the_file(sandbox, monkeypatch):
    monkeypatch.setenv("CONFLUENCE_EMAIL", sandbox.email)
    result = auth_stdin(sandbox)
    assert result.exit_code == 0
    assert "CONFLUENCE_EMAIL" in result.stderr
    assert "override" in result.stderr


def test_auth_debug_logs_requests_but_not_the_token(sandbox, monkeypatch, private_environment):
    monkeypatch.setenv("CTK_DEBUG", "1")
    result = auth_stdin(sandbox)
    assert result.exit_code == 0
    assert "GET /wiki/rest/api/user/current -> 200" in result.stderr
    logs = list((private_environment / "logs").glob("http-*.log"))
    assert logs
    assert "user/current -> 200" in logs[0].read_text()


def test_auth_in_a_subprocess_with_an_open_umask(shared_sandbox, private_environment):
    env = {k: v for k, v in os.environ.items()}
    env.update(CTK_SITE_URL=shared_sandbox.url, CTK_GATEWAY_URL=shared_sandbox.url)
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os; os.umask(0); from ctk_core.cli import main; main()",
            "auth",
            "--domain",
            "acme.atlassian.net",
            "--email",
            shared_sandbox.email,
            "--token-stdin",
        ],
        input=TOKEN + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert TOKEN not in proc.stdout
    assert TOKEN not in proc.stderr
    path = credentials.credentials_path()
    assert mode_of(path.parent) == 0o700
    assert mode_of(path) == 0o600


# --- ctk status ---------------------------------------------------------------------------------


def test_status_after_auth_shows_sources_and_the_masked_token(sandbox):
    auth_stdin(sandbox)
    result = ctk("status")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "acme  [file]" in out
    assert f"{sandbox.email}  [file]" in out
    assert f"{TOKEN[:4]}…{TOKEN[-4:]}  [file]" in out
    assert "classic  [file]" in out
    assert str(credentials.credentials_path()) in out
    assert "stored at" in out
    assert "Z" in out


def test_status_names_env_sources_field_by_field(sandbox, monkeypatch):
    auth_stdin(sandbox)
    monkeypatch.setenv("CONFLUENCE_EMAIL", "someone@example.com")
    result = ctk("status")
    assert "someone@example.com  [env CONFLUENCE_EMAIL]" in result.stdout
    assert "acme  [file]" in result.stdout


def test_status_check_reports_the_identity(sandbox):
    auth_stdin(sandbox)
    sandbox.requests.clear()
    result = ctk("status", "--check")
    assert result.exit_code == 0, result.output
    assert "OK, authenticated as Alex Morgan" in result.stdout
    assert len(sandbox.requests.entries()) == 1  # one live request


def test_status_check_with_ctk_base_url(shared_sandbox, monkeypatch):
    for name, value in shared_sandbox.client_env.items():
        monkeypatch.setenv(name, value)
    result = ctk("status", "--check")
    assert result.exit_code == 0, result.output
    assert "[env CTK_BASE_URL]" in result.stdout
    assert "(not set)" in result.stdout  # no domain needed
    assert "OK, authenticated as" in result.stdout


def test_status_check_with_a_revoked_token(sandbox, monkeypatch):
    auth_stdin(sandbox)
    monkeypatch.setenv("CONFLUENCE_API_TOKEN", "revoked-token-000000000000")
    result = ctk("status", "--check")
    assert result.exit_code == 3
    assert "Authentication failed (401)" in result.stderr


def test_status_json(sandbox):
    auth_stdin(sandbox)
    result = ctk("--json", "status")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["domain"] == "acme"
    assert report["token_source"] == "file"
    assert report["token"] == f"{TOKEN[:4]}…{TOKEN[-4:]}"
    assert report["missing"] == []


def test_status_without_credentials_names_what_is_missing():
    result = ctk("status")
    assert result.exit_code == 3
    assert "(not set)" in result.stdout
    assert "CONFLUENCE_DOMAIN" in result.stderr
    assert "ctk auth" in result.stderr
    assert "does not exist" in result.stdout


def test_status_refuses_a_group_readable_file(sandbox):
    auth_stdin(sandbox)
    path = credentials.credentials_path()
    os.chmod(path, 0o640)
    result = ctk("status")
    assert result.exit_code == 3
    assert f"chmod 600 {path}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    with_client = ctk("status", "--check")
    assert with_client.exit_code == 3


# --- ctk logout ---------------------------------------------------------------------------------


def test_logout_removes_the_file_and_says_so(sandbox):
    auth_stdin(sandbox)
    path = credentials.credentials_path()
    result = ctk("logout")
    assert result.exit_code == 0
    assert f"Removed {path}." in result.stdout
    assert not path.exists()
    again = ctk("logout")
    assert again.exit_code == 0
    assert "nothing to remove" in again.stdout


def test_logout_leaves_env_vars_alone_and_says_so(sandbox, monkeypatch):
    auth_stdin(sandbox)
    monkeypatch.setenv("CONFLUENCE_API_TOKEN", TOKEN)
    result = ctk("logout")
    assert result.exit_code == 0
    assert "CONFLUENCE_API_TOKEN" in result.stdout
    assert "not changed" in result.stdout
    assert os.environ["CONFLUENCE_API_TOKEN"] == TOKEN
    status = ctk("status")
    assert f"{TOKEN[:4]}…{TOKEN[-4:]}  [env CONFLUENCE_API_TOKEN]" in status.stdout


def test_auth_refuses_a_token_that_cannot_be_sent_without_quoting_it(sandbox):
    token = "ATATT3xFfGF0-café-token-" + "x" * 20
    result = auth_stdin(sandbox, token=token)
    assert result.exit_code == 3, result.output
    assert result.stderr.startswith("Error: The API token (from standard input) has a character")
    assert "é" not in result.stderr
    assert "café" not in result.stderr
    assert "ATATT" not in result.stderr
    assert sandbox.requests.entries() == []
    assert not credentials.credentials_path().exists()
