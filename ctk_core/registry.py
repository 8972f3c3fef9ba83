"""Plugin loading and the operation catalog.

Every plugin, built-in or third-party, is a module named by an entry point of group ``ctk``. This
module loads them into one pluggy ``PluginManager``, asks each one for its resources through
``ctk_register_resources(register)`` and builds the :class:`Catalog` both front ends are generated
from. A plugin that fails (import error, malformed declaration, a resource or tool name another
plugin already provides) is skipped, reported on one stderr line and listed as failed by
``ctk plugins``; everything else keeps working.

Environment (read each time the catalog is built, never at import):

- ``CTK_LOAD_PLUGINS``: comma-separated entry-point names; only those plugins load (empty: none).
- ``CTK_TRACE_PLUGINS=1``: print every hook call, its implementations and outcome to stderr.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pluggy

from ctk_core import hookspecs, settings
from ctk_core._version import DISTRIBUTION
from ctk_core.parsing import env_flag, split_list
from ctk_core.plugin import Resource, validate_resource
from ctk_core.reserved import CORE_COMMAND_NAMES

GROUP = "ctk"
#: The distribution whose entry points are the built-in plugins.
BUILTIN_DIST = DISTRIBUTION


@dataclass
class PluginInfo:
    """One entry point of group ``ctk`` and what became of it."""

    name: str
    module: str
    dist: str | None = None
    version: str | None = None
    resources: list[str] = field(default_factory=list)
    tools: list[str] = field(default_factory=list)
    status: str = "loaded"  # loaded | failed | skipped
    error: str | None = None

    @property
    def builtin(self) -> bool:
        return self.dist == BUILTIN_DIST

    @property
    def label(self) -> str:
        """How messages name the plugin: ``'pages' (ctk 0.1.0)``."""
        where = " ".join(x for x in (self.dist, self.version) if x)
        return f"{self.name!r} ({where})" if where else repr(self.name)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "module": self.module,
            "distribution": self.dist,
            "version": self.version,
            "resources": list(self.resources),
            "tools": list(self.tools),
            "status": self.status,
            "error": self.error,
        }


@dataclass
class Catalog:
    """The loaded plugins and the resources they declared (validated, free of duplicates)."""

    resources: list[Resource]
    plugins: list[PluginInfo]
    pm: pluggy.PluginManager
    #: Filled by the CLI: commands added through ``ctk_register_commands``, by name.
    commands: dict[str, Any] | None = None

    def resource(self, name: str) -> Resource:
        """A resource by name, CLI group name or tool name; KeyError when absent."""
        for res in self.resources:
            if name in (res.name, res.name.replace("_", "-"), res.tool_name):
                return res
        raise KeyError(name)

    def plugin_of(self, resource_name: str) -> PluginInfo | None:
        """The plugin that declared a resource (by resource or tool name)."""
        for info in self.plugins:
            if info.status == "loaded" and (
                resource_name in info.resources or resource_name in info.tools
            ):
                return info
        return None

    @property
    def failed(self) -> list[PluginInfo]:
        return [p for p in self.plugins if p.status == "failed"]

    @property
    def tool_names(self) -> list[str]:
        return [r.tool_name for r in self.resources]


class PluginFailure(Exception):
    """A plugin broke a rule while registering; the message names the plugin and the rule."""


_cache: dict[tuple[str | None, bool], Catalog] = {}


def load_catalog(reload: bool = False, environ: Mapping[str, str] | None = None) -> Catalog:
    """The catalog for this process, built once per ``CTK_LOAD_PLUGINS`` value.

    ``reload=True`` builds it afresh (tests installing a plugin on the fly use it).
    """
    env = settings.environ(environ)
    key = (env.get("CTK_LOAD_PLUGINS"), env_flag(env.get("CTK_TRACE_PLUGINS")))
    if reload or key not in _cache:
        _cache[key] = _build(allow=key[0], trace=key[1])
    return _cache[key]


def plugin_manager() -> pluggy.PluginManager:
    """The plugin manager of the current catalog (loaded plugins only)."""
    return load_catalog().pm


def _warn(message: str) -> None:
    # Looked up at call time so that a captured stderr (CliRunner, pytest) receives it.
    sys.stderr.write(f"ctk: {message}\n")
    sys.stderr.flush()


def _fail(info: PluginInfo, message: str) -> None:
    info.status = "failed"
    info.error = message
    info.resources.clear()
    info.tools.clear()
    _warn(f"plugin {info.label} was skipped: {message}")


def _entry_points() -> list[Any]:
    from importlib.metadata import entry_points

    eps = list(entry_points(group=GROUP))

    def order(ep: Any) -> tuple[int, str, str]:
        dist = dist_name(ep)
        return (0 if dist == BUILTIN_DIST else 1, dist or "", ep.name)

    # Built-ins first (in setup.cfg order: sorted() is stable), then third-party plugins by
    # distribution, so a third-party plugin can never displace a built-in resource.
    return sorted(eps, key=order)


def dist_name(ep: Any) -> str | None:
    """The normalised name (PEP 503) of the distribution that ships ``ep``."""
    dist = getattr(ep, "dist", None)
    if dist is None:
        return None
    return re.sub(r"[-_.]+", "-", dist.name).lower()


def _install_tracer(pm: pluggy.PluginManager) -> None:
    def before(hook_name: str, impls: Any, kwargs: Mapping[str, object]) -> None:
        names = ", ".join(impl.plugin_name for impl in impls) or "no implementations"
        _warn(f"trace: {hook_name}({', '.join(kwargs)}) -> {names}")

    def after(outcome: Any, hook_name: str, impls: Any, kwargs: Mapping[str, object]) -> None:
        exc = outcome.exception
        result = f"raised {type(exc).__name__}: {exc}" if exc else "ok"
        _warn(f"trace: {hook_name} {result}")

    pm.add_hookcall_monitoring(before, after)


def _build(allow: str | None, trace: bool) -> Catalog:
    pm = pluggy.PluginManager(GROUP)
    pm.add_hookspecs(hookspecs)
    if trace:
        _install_tracer(pm)
    allowed = None if allow is None else set(split_list(allow))

    infos: list[PluginInfo] = []
    loaded: list[tuple[PluginInfo, Any]] = []
    owners: dict[str, PluginInfo] = {}  # entry-point name -> plugin
    for ep in _entry_points():
        dist = getattr(ep, "dist", None)
        info = PluginInfo(
            name=ep.name,
            module=ep.value,
            dist=dist_name(ep),
            version=dist.version if dist is not None else None,
        )
        infos.append(info)
        if allowed is not None and ep.name not in allowed:
            info.status = "skipped"
            info.error = "not named in CTK_LOAD_PLUGINS"
            continue
        if ep.name in owners:
            _fail(info, f"its entry-point name is already used by plugin {owners[ep.name].label}")
            continue
        try:
            module = ep.load()
        except Exception as exc:  # any error in a third-party import must not break ctk
            _fail(info, f"import failed: {type(exc).__name__}: {_one_line(exc)}")
            continue
        try:
            pm.register(module, name=ep.name)
        except Exception as exc:
            _fail(info, f"{type(exc).__name__}: {_one_line(exc)}")
            continue
        owners[ep.name] = info
        loaded.append((info, module))

    if allowed is not None:
        for name in sorted(allowed - {i.name for i in infos}):
            _warn(f"CTK_LOAD_PLUGINS names {name!r}, which no installed plugin provides.")

    # A hook implementation with a misspelt name (no such hookspec) fails its plugin.
    while True:
        try:
            pm.check_pending()
            break
        except pluggy.PluginValidationError as exc:
            info = next(i for i, m in loaded if m is exc.plugin)
            pm.unregister(exc.plugin)
            loaded = [(i, m) for i, m in loaded if m is not exc.plugin]
            _fail(info, str(exc).replace(f" in plugin {exc.plugin!r}", ""))

    resources: list[Resource] = []
    names: dict[str, PluginInfo] = {}
    tools: dict[str, PluginInfo] = {}
    for info, module in loaded:
        try:
            declared = _resources_of(pm, module)
            for res in declared:
                _check_unique(res, info, names, tools, declared)
        except Exception as exc:
            pm.unregister(module)
            _fail(
                info,
                str(exc)
                if isinstance(exc, PluginFailure)
                else f"ctk_register_resources raised {type(exc).__name__}: {_one_line(exc)}",
            )
            continue
        for res in declared:
            names[res.name] = info
            tools[res.tool_name] = info
            info.resources.append(res.name)
            info.tools.append(res.tool_name)
        resources.extend(declared)
    return Catalog(resources=resources, plugins=infos, pm=pm)


def _resources_of(pm: pluggy.PluginManager, module: Any) -> list[Resource]:
    """Call one plugin's ``ctk_register_resources`` and validate what it registers."""
    others = [p for p in pm.get_plugins() if p is not module]
    caller = pm.subset_hook_caller("ctk_register_resources", remove_plugins=others)
    declared: list[Resource] = []

    def register(resource: Resource) -> None:
        try:
            validate_resource(resource)
        except ValueError as exc:
            raise PluginFailure(f"malformed resource: {exc}") from exc
        declared.append(resource)

    caller(register=register)
    return declared


def _check_unique(
    res: Resource,
    info: PluginInfo,
    names: dict[str, PluginInfo],
    tools: dict[str, PluginInfo],
    declared: list[Resource],
) -> None:
    cli_name = res.name.replace("_", "-")
    if res.name in CORE_COMMAND_NAMES or cli_name in CORE_COMMAND_NAMES:
        raise PluginFailure(
            f"resource name {res.name!r} is taken by the core command 'ctk {cli_name}'"
        )
    if res.name in names:
        raise PluginFailure(
            f"duplicate resource {res.name!r}: plugin {names[res.name].label} "
            f"already provides it, so plugin {info.label} is refused"
        )
    if res.tool_name in tools:
        raise PluginFailure(
            f"duplicate tool {res.tool_name!r}: plugin "
            f"{tools[res.tool_name].label} already provides it, so plugin "
            f"{info.label} is refused"
        )
    same = [r for r in declared if r.name == res.name or r.tool_name == res.tool_name]
    if len(same) > 1:
        raise PluginFailure(
            f"plugin {info.label} registers resource {res.name!r} (tool {res.tool_name!r}) twice"
        )


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else ""


def call_per_plugin(
    catalog: Catalog,
    hook: str,
    on_error: Callable[[PluginInfo, Exception], None] | None = None,
    **kwargs: Any,
) -> None:
    """Call ``hook`` plugin by plugin, so that one failing plugin does not stop the others.

    A plugin that raises is reported on one stderr line (and to ``on_error`` when given).
    """
    pm = catalog.pm
    plugins = pm.list_name_plugin()
    for name, module in plugins:
        others = [p for n, p in plugins if p is not module]
        caller = pm.subset_hook_caller(hook, remove_plugins=others)
        try:
            caller(**kwargs)
        except Exception as exc:
            info = next((i for i in catalog.plugins if i.name == name), None)
            label = info.label if info else repr(name)
            _warn(f"plugin {label} failed in {hook}: {type(exc).__name__}: {_one_line(exc)}")
            if on_error is not None and info is not None:
                on_error(info, exc)


__all__ = [
    "Catalog",
    "PluginFailure",
    "PluginInfo",
    "call_per_plugin",
    "load_catalog",
    "plugin_manager",
]
