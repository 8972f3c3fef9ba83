"""Credentials: the private file, env overrides, missing fields, domains, CTK_BASE_URL."""

from __future__ import annotations

import json
import os
import stat

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctk_core import credentials
from ctk_core.errors import AuthError, UsageError

TOKEN = "ATATT3xFfGF0-unit-test-token-0123456789abcdef"


#: Checked after every test by the suite's token_never_leaks (tests/secret_support.py).
SECRETS = [TOKEN]


def mode_of(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def stored(**extra):
    fields = {
        "domain": "acme",
        "email": "me@example.com",
        "api_token": TOKEN,
        "token_type": "classic",
        "created_at": "2026-01-02T03:04:05Z",
    }
    fields.update(extra)
    return fields


# --- where the file lives ---------------------------------------------------------------------


def test_default_folder_is_xdg_config(private_environment):
    assert credentials.config_dir() == private_environment / ".config" / "ctk"
    assert credentials.credentials_path().name == "credentials.json"


def test_ctk_config_dir_overrides(tmp_path):
    env = {"CTK_CONFIG_DIR": str(tmp_path / "elsewhere"), "XDG_CONFIG_HOME": "/nowhere"}
    assert credentials.credentials_path(env) == tmp_path / "elsewhere" / "credentials.json"


def test_home_fallback_without_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert credentials.config_dir() == tmp_path / ".config" / "ctk"


# --- writing: 0700 folder, 0600 file, atomic -----------------------------------------------------


def test_write_creates_private_folder_and_file_whatever_the_umask():
    old = os.umask(0)
    try:
        path = credentials.write_file(stored())
    finally:
        os.umask(old)
    assert mode_of(path.parent) == 0o700
    assert mode_of(path) == 0o600
    assert json.loads(path.read_text())["api_token"] == TOKEN
    assert [p.name for p in path.parent.iterdir()] == ["credentials.json"]  # no temp left


def test_write_tightens_an_existing_open_folder(tmp_path):
    folder = tmp_path / "cfg"
    folder.mkdir()
    os.chmod(folder, 0o755)
    path = credentials.write_file(stored(), folder / "credentials.json")
    assert mode_of(folder) == 0o700
    assert mode_of(path) == 0o600


def test_rewrite_replaces_atomically_and_keeps_0600():
    path = credentials.write_file(stored())
    inode_before = os.stat(path).st_ino
    credentials.write_file(stored(email="other@example.com"))
    assert json.loads(path.read_text())["email"] == "other@example.com"
    assert os.stat(path).st_ino != inode_before  # a new file renamed into place
    assert mode_of(path) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["credentials.json"]


def test_write_refuses_a_symlinked_folder(tmp_path):
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    link = tmp_path / "link"
    link.symlink_to(real)
    with pytest.raises(AuthError) as info:
        credentials.write_file(stored(), link / "credentials.json")
    assert "symbolic link" in str(info.value)
    assert not (real / "credentials.json").exists()


def test_a_symlinked_config_folder_is_not_read(tmp_path, monkeypatch, ctk_cli):
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    credentials.write_file(stored(), real / "credentials.json")
    link = tmp_path / "link"
    link.symlink_to(real)
    monkeypatch.setenv("CTK_CONFIG_DIR", str(link))
    with pytest.raises(AuthError, match="symbolic link"):
        credentials.read_file()
    status = ctk_cli("status", env={"CTK_CONFIG_DIR": str(link), "CTK_BASE_URL": None})
    assert status.exit_code == 3, status
    assert "symbolic link" in status.stderr
    assert "acme" not in status.stdout


def test_empty_fields_are_not_written():
    path = credentials.write_file(stored(cloud_id=None))
    assert "cloud_id" not in json.loads(path.read_text())


def test_delete_file():
    path = credentials.write_file(stored())
    assert credentials.delete_file() is True
    assert not path.exists()
    assert credentials.delete_file() is False


# --- reading: permissions ----------------------------------------------------------------------


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660, 0o606])
def test_group_or_other_accessible_file_is_refused(mode):
    path = credentials.write_file(stored())
    os.chmod(path, mode)
    with pytest.raises(AuthError) as info:
        credentials.load()
    message = str(info.value)
    assert str(path) in message
    assert f"chmod 600 {path}" in message
    assert info.value.exit_code == 3
    assert TOKEN not in message


def test_private_file_is_accepted_and_read():
    credentials.write_file(stored())
    creds = credentials.load()
    assert (creds.domain, creds.email, creds.api_token) == ("acme", "me@example.com", TOKEN)
    assert creds.sources["api_token"] == "file"
    assert creds.base_url() == "https://acme.atlassian.net"


def test_corrupt_file_is_a_clear_error():
    path = credentials.write_file(stored())
    path.write_text("{not json")
    with pytest.raises(AuthError) as info:
        credentials.load()
    assert str(path) in str(info.value)
    assert "ctk auth" in str(info.value)


# --- env over file, field by field ------------------------------------------------------------


def test_env_overrides_file_field_by_field(monkeypatch):
    credentials.write_file(stored())
    monkeypatch.setenv("CONFLUENCE_EMAIL", "env@example.com")
    creds = credentials.load()
    assert creds.email == "env@example.com"
    assert creds.sources["email"] == "env CONFLUENCE_EMAIL"
    assert creds.domain == "acme"
    assert creds.sources["domain"] == "file"
    assert creds.api_token == TOKEN
    assert creds.sources["api_token"] == "file"

    monkeypatch.setenv("CONFLUENCE_DOMAIN", "https://beta.atlassian.net/wiki/home")
    monkeypatch.setenv("CONFLUENCE_API_TOKEN", "env-token-value-0000000000")
    creds = credentials.load()
    assert creds.domain == "beta"
    assert creds.sources["domain"] == "env CONFLUENCE_DOMAIN"
    assert creds.api_token == "env-token-value-0000000000"
    assert creds.email == "env@example.com"
    assert creds.created_at == "2026-01-02T03:04:05Z"


def test_env_only_without_a_file(monkeypatch):
    monkeypatch.setenv("CONFLUENCE_DOMAIN", "acme")
    monkeypatch.setenv("CONFLUENCE_EMAIL", "me@example.com")
    monkeypatch.setenv("CONFLUENCE_API_TOKEN", TOKEN)
    creds = credentials.load()
    assert creds.base_url() == "https://acme.atlassian.net"
    assert creds.token_type == "classic"


def test_scoped_token_uses_the_gateway(monkeypatch):
    credentials.write_file(stored(token_type="scoped", cloud_id="0f3b-cloud-1234"))
    creds = credentials.load()
    assert creds.base_url() == "https://api.atlassian.com/ex/confluence/0f3b-cloud-1234"
    assert creds.web_url() == "https://acme.atlassian.net"
    monkeypatch.setenv("CONFLUENCE_CLOUD_ID", "other-cloud")
    assert credentials.load().base_url().endswith("/ex/confluence/other-cloud")
    monkeypatch.setenv("CONFLUENCE_TOKEN_TYPE", "CLASSIC")
    assert credentials.load().base_url() == "https://acme.atlassian.net"


@pytest.mark.parametrize(
    ("missing", "env_name"),
    [
        ("domain", "CONFLUENCE_DOMAIN"),
        ("email", "CONFLUENCE_EMAIL"),
        ("api_token", "CONFLUENCE_API_TOKEN"),
    ],
)
def test_missing_field_is_named_with_both_ways_to_provide_it(monkeypatch, missing, env_name):
    fields = stored()
    del fields[missing]
    credentials.write_file(fields)
    with pytest.raises(AuthError) as info:
        credentials.load()
    message = str(info.value)
    assert env_name in message
    assert "ctk auth" in message
    assert credentials._LABELS[missing] in message
    assert info.value.exit_code == 3
    assert TOKEN not in message


def test_scoped_without_cloud_id_names_it():
    credentials.write_file(stored(token_type="scoped"))
    with pytest.raises(AuthError) as info:
        credentials.load()
    assert "CONFLUENCE_CLOUD_ID" in str(info.value)
    assert "cloud id" in str(info.value)


def test_nothing_configured_names_the_domain_first():
    with pytest.raises(AuthError) as info:
        credentials.load()
    assert "CONFLUENCE_DOMAIN" in str(info.value)
    assert "also missing: email, API token" in str(info.value)
    assert "CONFLUENCE_DOMAIN (and CONFLUENCE_EMAIL, CONFLUENCE_API_TOKEN)" in str(info.value)
    creds = credentials.load(require=False)
    assert creds.missing() == ["domain", "email", "api_token"]


def test_unknown_token_type_is_refused(monkeypatch):
    credentials.write_file(stored())
    monkeypatch.setenv("CONFLUENCE_TOKEN_TYPE", "oauth")
    with pytest.raises(UsageError) as info:
        credentials.load()
    assert "CONFLUENCE_TOKEN_TYPE" in str(info.value)


def test_bad_domain_in_env_names_the_variable(monkeypatch):
    credentials.write_file(stored())
    monkeypatch.setenv("CONFLUENCE_DOMAIN", "evil.com/")
    with pytest.raises(UsageError) as info:
        credentials.load()
    assert "CONFLUENCE_DOMAIN" in str(info.value)


def test_repr_never_shows_the_token():
    credentials.write_file(stored())
    creds = credentials.load()
    assert TOKEN not in repr(creds)
    assert TOKEN not in str(creds)


# --- domain normalisation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("acme", "acme"),
        ("ACME", "acme"),
        ("  acme  ", "acme"),
        ("acme.atlassian.net", "acme"),
        ("acme.atlassian.net.", "acme"),
        ("https://acme.atlassian.net", "acme"),
        ("https://acme.atlassian.net/", "acme"),
        ("https://acme.atlassian.net/wiki/x", "acme"),
        ("https://acme.atlassian.net/wiki/spaces/X", "acme"),
        ("https://ACME.atlassian.net:443/wiki/spaces/X/pages/1?focus=2#c", "acme"),
        ("acme.atlassian.net/wiki/home", "acme"),
        ("my-team-2", "my-team-2"),
        ("xn--bcher-kva", "xn--bcher-kva"),
        ("a" * 63, "a" * 63),
    ],
)
def test_domain_normalised(value, expected):
    assert credentials.normalize_domain(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "evil.com/",
        "a b",
        "acme.atlassian.net.evil.com",
        "https://acme.atlassian.net.evil.com/wiki",
        "evil.com",
        "https://evil.com/acme.atlassian.net",
        "acme.atlassian.net@evil.com",
        "https://user:pw@acme.atlassian.net",
        "https://acme.atlassian.net:8443",
        "ftp://acme.atlassian.net",
        "-acme",
        "acme-",
        "ac_me",
        "a" * 64,
        "",
        "   ",
        "äcme",
        "ac\nme",
        "sub.acme.atlassian.net",
        "javascript:alert(1)",
        "https://",
    ],
)
def test_domain_rejected(value):
    with pytest.raises(UsageError) as info:
        credentials.normalize_domain(value)
    assert info.value.exit_code == 2


@given(st.text(max_size=80))
def test_domain_normalisation_never_crashes_and_yields_a_dns_label(value):
    try:
        label = credentials.normalize_domain(value)
    except UsageError:
        return
    assert credentials._LABEL_RE.match(label)
    assert "." not in label
    assert "/" not in label


# --- CTK_BASE_URL and the test overrides ---------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://127.9.9.9:1/", "http://127.9.9.9:1"),
        ("http://localhost:5000/wiki", "http://localhost:5000"),
        ("http://[::1]:9000", "http://[::1]:9000"),
        ("https://confluence.example.com/", "https://confluence.example.com"),
        ("https://proxy.example.com/confluence/wiki/", "https://proxy.example.com/confluence"),
        ("http://127.0.0.1:9/ex/confluence/abc", "http://127.0.0.1:9/ex/confluence/abc"),
    ],
)
def test_base_url_accepted(value, expected):
    assert credentials.validate_base_url(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "http://example.com",
        "http://10.0.0.1:8080",
        "http://127.0.0.1.evil.com",
        "http://localhost.evil.com",
        "ftp://127.0.0.1",
        "https://user:pw@example.com",
        "https://example.com/?x=1",
        "not a url",
        "https://",
        "http://127.0.0.1:99999",
    ],
)
def test_base_url_refused(value):
    with pytest.raises(UsageError):
        credentials.validate_base_url(value)


def test_base_url_makes_the_domain_optional(monkeypatch):
    monkeypatch.setenv("CTK_BASE_URL", "http://127.0.0.1:8123/")
    monkeypatch.setenv("CONFLUENCE_EMAIL", "me@example.com")
    monkeypatch.setenv("CONFLUENCE_API_TOKEN", TOKEN)
    creds = credentials.load()
    assert creds.domain is None
    assert creds.base_url() == "http://127.0.0.1:8123"
    monkeypatch.delenv("CONFLUENCE_API_TOKEN")
    with pytest.raises(AuthError) as info:
        credentials.load()
    assert "CONFLUENCE_API_TOKEN" in str(info.value)


def test_base_url_must_be_https_elsewhere(monkeypatch):
    monkeypatch.setenv("CTK_BASE_URL", "http://confluence.example.com")
    with pytest.raises(UsageError) as info:
        credentials.load(require=False)
    assert "http" in str(info.value)
    assert "loopback" in str(info.value)


def test_site_and_gateway_overrides_are_loopback_only():
    env = {"CTK_SITE_URL": "http://127.0.0.1:7000", "CTK_GATEWAY_URL": "http://localhost:7001"}
    assert credentials.site_url("acme", env) == "http://127.0.0.1:7000"
    assert credentials.gateway_url("c1", env) == "http://localhost:7001/ex/confluence/c1"
    with pytest.raises(UsageError):
        credentials.site_url("acme", {"CTK_SITE_URL": "https://evil.example.com"})
    with pytest.raises(UsageError):
        credentials.gateway_root({"CTK_GATEWAY_URL": "https://api.evil.example.com"})
    assert credentials.site_url("acme", {}) == "https://acme.atlassian.net"
    assert credentials.gateway_root({}) == "https://api.atlassian.com"


def test_cloud_id_is_checked():
    with pytest.raises(UsageError):
        credentials.gateway_url("../../evil", {})


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.1.2.3",
        "::1",
        "[::1]",
        "localhost",
        "LOCALHOST",
        "app.localhost",
        "::ffff:127.0.0.1",
    ],
)
def test_loopback_hosts(host):
    assert credentials.is_loopback_host(host)


@pytest.mark.parametrize(
    "host",
    [
        "10.0.0.1",
        "example.com",
        "localhost.example.com",
        "",
        None,
        "0.0.0.0",
        "::",
        "::ffff:10.0.0.1",
    ],
)
def test_not_loopback_hosts(host):
    assert not credentials.is_loopback_host(host)


# --- masking


def test_mask_token():
    assert credentials.mask_token(TOKEN) == "ATAT…cdef"
    assert TOKEN not in credentials.mask_token(TOKEN)
    assert credentials.mask_token("short-secret") == "****"
    assert credentials.mask_token(None) == ""


@pytest.mark.parametrize("variable", ["CONFLUENCE_API_TOKEN", "CONFLUENCE_EMAIL"])
def test_credentials_that_cannot_be_sent_are_refused_up_front(monkeypatch, variable, ctk_cli):
    values = {
        "CONFLUENCE_DOMAIN": "acme",
        "CONFLUENCE_EMAIL": "me@example.com",
        "CONFLUENCE_API_TOKEN": TOKEN,
    }
    values[variable] += "\u0100\u2603"
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(AuthError, match=f"from {variable}\\) has a character") as refused:
        credentials.load()
    assert "\u2603" not in str(refused.value)
    result = ctk_cli("spaces", "list", env={**values, "CTK_BASE_URL": None})
    assert result.exit_code == 3, result
    assert "\u2603" not in result.stderr


def test_a_refused_base_url_hides_its_query_and_fragment():
    with pytest.raises(UsageError) as refused:
        credentials.validate_base_url("https://example.com/wiki?token=s3cret#frag-s3cret")
    assert "s3cret" not in str(refused.value)
    assert "https://example.com/wiki?***#***" in str(refused.value)
    with pytest.raises(UsageError) as plain:
        credentials.validate_base_url("http://example.com/?key=s3cret")
    assert "s3cret" not in str(plain.value)
