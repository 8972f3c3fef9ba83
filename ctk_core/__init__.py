"""ctk core: the public API for plugin authors.

A plugin imports everything it needs from here and never imports pluggy, requests or mcp::

    from ctk_core import Operation, Param, Resource, hookimpl
"""

from ctk_core._version import __version__
from ctk_core.errors import (
    AuthError,
    Conflict,
    CtkError,
    NotFound,
    PermissionDenied,
    PolicyError,
    RateLimited,
    Unavailable,
    UsageError,
)
from ctk_core.hookspecs import hookimpl
from ctk_core.plugin import Operation, Param, Resource

__all__ = [
    "AuthError",
    "Conflict",
    "CtkError",
    "NotFound",
    "Operation",
    "Param",
    "PermissionDenied",
    "PolicyError",
    "RateLimited",
    "Resource",
    "Unavailable",
    "UsageError",
    "__version__",
    "hookimpl",
]
