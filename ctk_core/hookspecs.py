"""The hooks a ctk plugin may implement. Plugins import ``hookimpl`` from ``ctk_core``."""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("ctk")
hookimpl = pluggy.HookimplMarker("ctk")


@hookspec
def ctk_register_resources(register):
    """Call ``register(resource)`` once for each ``ctk_core.Resource`` this plugin provides."""


@hookspec
def ctk_register_commands(cli):
    """Add CLI-only commands (things that make no sense as agent tools) to the root Click group."""


@hookspec
def ctk_sandbox_routes(router):
    """Teach the offline sandbox this plugin's endpoints: ``router.route(method, pattern)``."""
