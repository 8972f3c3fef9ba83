"""The import-linter contracts (pyproject.toml) stay complete and honest.

``tox -e lint`` runs ``lint-imports``, which checks the imports against the contracts. These tests
check the contracts themselves: that none excuses an import, that every module they name exists
(a rename must not silently drop a rule), and that every ctk_core module is either part of the
public surface plugins may import or forbidden to them, so a new module has to be classified.
"""

from __future__ import annotations

import pkgutil
import sys
from pathlib import Path

import ctk_core
import ctk_plugins
from ctk_core.commands import CORE_COMMANDS
from ctk_core.reserved import CORE_COMMAND_NAMES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"

#: What a plugin may import from ctk_core besides ``ctk_core`` itself (docs/architecture.md).
PUBLIC_SURFACE = {"ctk_core.helpers", "ctk_core.convert", "ctk_core.pagetext", "ctk_core.multipart"}


def _config() -> dict:
    with PYPROJECT.open("rb") as fh:
        return tomllib.load(fh)["tool"]["importlinter"]


def _contracts() -> dict[str, dict]:
    return {contract["id"]: contract for contract in _config()["contracts"]}


def _submodules(package) -> set[str]:
    """The modules and packages directly inside ``package``."""
    return {f"{package.__name__}.{info.name}" for info in pkgutil.iter_modules(package.__path__)}


def _all_modules() -> set[str]:
    found = {"ctk_core", "ctk_plugins"}
    for package in (ctk_core, ctk_plugins):
        for info in pkgutil.walk_packages(package.__path__, prefix=package.__name__ + "."):
            found.add(info.name)
    return found


def test_the_contracts_cover_the_layers_of_the_architecture():
    assert set(_contracts()) == {
        "plugins-public-surface",
        "catalog-no-front-end",
        "machinery-no-front-end",
        "sandbox-not-client",
        "no-cycles",
    }


def test_no_contract_excuses_an_import():
    for contract_id, contract in _contracts().items():
        assert "ignore_imports" not in contract, contract_id


def test_every_module_a_contract_names_exists():
    modules = _all_modules()
    for contract_id, contract in _contracts().items():
        for key in ("source_modules", "forbidden_modules", "ancestors"):
            for name in contract.get(key, []):
                if name.split(".")[0] in ("ctk_core", "ctk_plugins"):
                    assert name in modules, f"{contract_id}: {key} names {name}, which is gone"


def test_every_ctk_core_module_is_public_or_forbidden_to_plugins():
    forbidden = set(_contracts()["plugins-public-surface"]["forbidden_modules"])
    assert not forbidden & PUBLIC_SURFACE
    unclassified = _submodules(ctk_core) - forbidden - PUBLIC_SURFACE
    assert not unclassified, (
        f"{sorted(unclassified)}: add each to the forbidden_modules of the contract "
        "'plugins-public-surface' in pyproject.toml, or make it public (PUBLIC_SURFACE here and "
        "docs/architecture.md)"
    )


def test_every_ctk_core_module_is_a_front_end_or_kept_from_them():
    contracts = _contracts()
    front_ends = {
        name
        for name in contracts["catalog-no-front-end"]["forbidden_modules"]
        if name.startswith("ctk_core.")
    }
    kept = set(contracts["catalog-no-front-end"]["source_modules"]) | set(
        contracts["machinery-no-front-end"]["source_modules"]
    )
    assert not front_ends & kept
    unclassified = _submodules(ctk_core) - front_ends - kept
    assert not unclassified, (
        f"{sorted(unclassified)}: add each to the source_modules of 'catalog-no-front-end' or "
        "'machinery-no-front-end' in pyproject.toml, or, for a new front end, to their "
        "forbidden_modules"
    )


def test_the_catalog_and_the_machinery_are_kept_from_the_same_front_ends():
    contracts = _contracts()
    catalog = set(contracts["catalog-no-front-end"]["forbidden_modules"])
    machinery = set(contracts["machinery-no-front-end"]["forbidden_modules"])
    assert catalog == machinery


def test_the_reserved_names_are_the_core_commands_in_order():
    """The registry refuses the names of ctk_core.reserved; the CLI serves ctk_core.commands."""
    from ctk_core import commands

    assert tuple(CORE_COMMANDS) == CORE_COMMAND_NAMES
    assert set(commands._COMMANDS) == set(CORE_COMMAND_NAMES)
