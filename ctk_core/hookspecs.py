"""The hooks a ctk plugin may implement. Plugins import ``hookimpl`` from ``ctk_core``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import click

    from ctk_core.plugin import Resource
    from ctk_core.sandbox.router import Router

hookspec = pluggy.HookspecMarker("ctk")
hookimpl = pluggy.HookimplMarker("ctk")


@hookspec
def ctk_register_resources(register: Callable[[Resource], None]) -> None:
    """Call ``register(resource)`` once for each ``ctk_core.Resource`` this plugin provides."""


@hookspec
def ctk_register_commands(cli: click.Group) -> None:
    """Add CLI-only commands (things that make no sense as agent tools) to the root Click group."""


@hookspec
def ctk_sandbox_routes(router: Router) -> None:
    """Teach the offline sandbox this plugin's endpoints: ``router.route(method, pattern)``."""
