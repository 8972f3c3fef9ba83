"""Install throwaway plugins through real entry points (a temporary ``.dist-info`` on sys.path).

``importlib.metadata`` finds them exactly as it finds a pip-installed plugin, so the tests exercise
the same discovery path as a user's ``pip install ctk-something``.
"""

from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path

import pytest

from ctk_core import registry

REPO = Path(__file__).resolve().parents[1]


class PluginInstaller:
    """``install(name, source)`` writes a module and a dist-info declaring it under group ctk."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.paths: list[str] = []
        self.modules: list[str] = []

    def install(
        self,
        name: str,
        source: str | None = None,
        *,
        module: str | None = None,
        dist: str | None = None,
        version: str = "1.0",
        package_dir: Path | None = None,
    ) -> Path:
        """Install entry point ``name`` -> ``module`` of distribution ``dist``.

        ``source`` is the module's code; or ``package_dir`` is an existing folder to put on
        sys.path (the module is then expected there already).
        """
        module = module or f"ctk_test_{name}"
        dist = dist or f"ctk-test-{name}"
        site = self.root / f"site-{dist}-{len(self.paths)}"
        site.mkdir(parents=True)
        if source is not None:
            (site / f"{module}.py").write_text(textwrap.dedent(source))
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        (info / "entry_points.txt").write_text(f"[ctk]\n{name} = {module}\n")
        for folder in (site, package_dir):
            if folder is not None and str(folder) not in sys.path:
                sys.path.insert(0, str(folder))
                self.paths.append(str(folder))
        self.modules.append(module)
        importlib.invalidate_caches()
        return site

    @property
    def pythonpath(self) -> str:
        """For subprocesses: the folders to put on PYTHONPATH."""
        import os

        return os.pathsep.join(self.paths)

    def cleanup(self) -> None:
        for path in self.paths:
            if path in sys.path:
                sys.path.remove(path)
        for module in self.modules:
            sys.modules.pop(module, None)
        importlib.invalidate_caches()
        registry._cache.clear()


@pytest.fixture
def plugins(tmp_path):
    installer = PluginInstaller(tmp_path / "plugins")
    registry._cache.clear()
    yield installer
    installer.cleanup()


RESOURCE_SOURCE = """
from ctk_core import Operation, Param, Resource, hookimpl

def echo(ctx, text, times=1):
    return {{"text": text * times}}

RES = Resource("{name}", "Test resource {name}.", [
    Operation("echo", "Echo the text.", echo,
              params=[Param("text", "str", "What to echo.", required=True, positional=True),
                      Param("times", "int", "How often.", default=1, minimum=1, maximum=5)]),
    Operation("wipe", "Pretend to delete.", echo, write=True, destructive=True,
              params=[Param("text", "str", "What.", required=True, positional=True)]),
], tool={tool!r})

@hookimpl
def ctk_register_resources(register):
    register(RES)
"""


def resource_source(name: str, tool: str | None = None) -> str:
    """A small valid plugin declaring resource ``name`` (tool ``tool`` or manage_<name>)."""
    return RESOURCE_SOURCE.format(name=name, tool=tool)
