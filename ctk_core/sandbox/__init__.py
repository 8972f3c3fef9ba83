"""The offline Confluence Cloud sandbox (see server.py for the route contract)."""

from ctk_core.sandbox.server import SandboxServer

__all__ = ["SandboxServer"]
