"""ctk core: the public API for plugin authors.

A plugin imports everything it needs from here and never imports pluggy, requests or mcp::

    from ctk_core import Context, Operation, Param, Resource, hookimpl

Handlers take ``ctx: Context`` first: ``ctx.client`` (a :class:`ConfluenceClient`), ``ctx.files``
(a :class:`FileAccess`), ``ctx.progress`` (a :class:`Progress`) and ``ctx.space_id(key_or_id)``.
A result may show a small file as :class:`Inline` content when ``ctx.wants_inline(...)`` says so.
A message that quotes a caller's value quotes ``shown(value)``: a short prefix, never all of it.
"""

from ctk_core._version import __version__
from ctk_core.context import ConfluenceClient, Context, Progress
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
    shown,
)
from ctk_core.file_access import FileAccess
from ctk_core.hookspecs import hookimpl
from ctk_core.inline import Inline
from ctk_core.plugin import Operation, Param, ParamType, Resource

__all__ = [
    "AuthError",
    "Conflict",
    "ConfluenceClient",
    "Context",
    "CtkError",
    "FileAccess",
    "Inline",
    "NotFound",
    "Operation",
    "Param",
    "ParamType",
    "PermissionDenied",
    "PolicyError",
    "Progress",
    "RateLimited",
    "Resource",
    "Unavailable",
    "UsageError",
    "__version__",
    "hookimpl",
    "shown",
]
