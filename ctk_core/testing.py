"""pytest plugin for ctk and its plugin authors (registered through the ``pytest11`` entry point).

Only standard-library imports at the top: pytest loads this module for every test session.
Fixtures are added below by the pieces they exercise (sandbox, CLI, MCP).
"""

from __future__ import annotations
