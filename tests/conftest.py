"""Shared test set-up: every test runs with a clean, private environment."""

from __future__ import annotations

import os

import mcp.client.stdio  # noqa: F401
import pytest
from hypothesis import HealthCheck, settings

#: Shared fixtures reach every test module from here: ``plugins`` (install a throwaway plugin),
#: and the one secrets check with the leak-checking ``ctk_cli`` and ``ctk_mcp``.
pytest_plugins = ["plugin_support", "secret_support"]

# Imported above, at collection, on purpose: the SDK's stdio client binds sys.stderr as the
# default errlog of its spawned servers when first imported. Imported inside a test, that would
# be the test's captured stream, closed when the test ends, and every later stdio test would fail.

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(autouse=True)
def private_environment(tmp_path_factory, monkeypatch):
    """No test sees the developer's credentials, config, data or CTK_* settings, except
    CTK_SPEC_DIR (tests/spec_support.py: the folder of the OpenAPI files to test against)."""
    for name in list(os.environ):
        if name.startswith(("CTK_", "CONFLUENCE_")) and name != "CTK_SPEC_DIR":
            monkeypatch.delenv(name)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    # The shared rate-limit buckets (ctk_core.ratelimit) live in the runtime or cache folder.
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("CTK_LOG_DIR", str(home / "logs"))
    monkeypatch.setenv("CTK_DOWNLOAD_DIR", str(home / "downloads"))
    monkeypatch.setenv("CTK_RATE_LIMIT", "off")
    return home
