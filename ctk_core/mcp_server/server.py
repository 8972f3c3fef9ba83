"""The MCP server: one tool per served resource, each call checked, run and answered.

The SDK's low-level ``Server`` takes the generated schemas as they are. A call goes through
:class:`ToolRunner`: the policy's write refusal first, then the action and the arguments, checked
against the action's declared parameters by the same code as the CLI's
(:func:`ctk_core.dispatch.coerce_arguments`, with JSON's exact types), then the (synchronous)
handler in a worker thread through :func:`ctk_core.dispatch.invoke`. Every failure is an
``isError`` result and the server keeps serving.

The SDK is imported inside the functions that need it: it costs about a second, and the rest of
the package (schemas, results) serves tests and docs without it.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ctk_core import dispatch, settings
from ctk_core._version import __version__
from ctk_core.context import Context, Progress, ProgressState
from ctk_core.errors import AuthError, CtkError, UsageError, shown
from ctk_core.file_access import AgentFiles
from ctk_core.mcp_server.results import (
    Block,
    PageAt,
    cap_result,
    continue_page,
    error_text,
    inline_blocks,
    inline_max_bytes,
    max_response_bytes,
    scope_of,
)
from ctk_core.mcp_server.tools import enabled_resources, server_instructions, tools_payload
from ctk_core.plugin import Operation, Resource
from ctk_core.policy import Policy
from ctk_core.registry import load_catalog

if TYPE_CHECKING:  # pragma: no cover
    from mcp.server import Server

log = logging.getLogger("ctk.mcp")

NO_AUTH_MESSAGE = (
    "ctk is serving without credentials (--no-auth), so this call was not run. To use the tools, "
    "authenticate with `ctk auth` (or set CONFLUENCE_DOMAIN, CONFLUENCE_EMAIL and "
    "CONFLUENCE_API_TOKEN) and restart the MCP server without --no-auth."
)


class ToolRunner:
    """Everything a ``tools/call`` needs, independent of the SDK (testable on its own)."""

    def __init__(
        self,
        resources: list[Resource],
        policy: Policy,
        all_resources: list[Resource],
        environ: Mapping[str, str],
        no_auth: bool = False,
        context: Any = None,
    ) -> None:
        self.policy = policy
        self.environ = environ
        self.no_auth = no_auth
        self.cap = max_response_bytes(environ)
        self.inline_cap = inline_max_bytes(environ)
        self.resources = {r.tool_name: r for r in resources}
        self.disabled = {r.tool_name: r for r in all_resources if r.tool_name not in self.resources}
        self.withheld = self.policy.withheld_content_types(self.disabled.values())
        self._context = context

    @property
    def context(self) -> Any:
        if self._context is None:
            # (what the policy and settings decide comes with each call: see run)
            self._context = Context(files=AgentFiles(self.environ), environ=self.environ)
        return self._context

    def prepare(
        self, name: str, arguments: Mapping[str, Any] | None
    ) -> tuple[Resource, Operation, dict[str, Any]]:
        """Every check before running, in order; raises CtkError with the message to return.

        Returns the resource, the operation and the checked values of all its parameters.
        """
        resource = self._served_resource(name)
        args = dict(arguments or {})
        action = args.pop("action", None)
        # A write action with writes off is refused before any other check.
        for op in resource.operations:
            if op.name == action:
                self.policy.check(resource, op)
        op = self._enabled_operation(resource, action)
        # (null means "not given": coerce_arguments reads it so, as agents send it for the other
        # actions' arguments.)
        values = dispatch.coerce_arguments(resource, op, args, from_json=True)
        if op.paged:  # a continuation cursor ctk did not make, or made for another call: refused
            self._page_at(resource, op, values)
        if self.no_auth:
            raise AuthError(NO_AUTH_MESSAGE, hint=None)
        return resource, op, values

    @staticmethod
    def _page_at(resource: Resource, op: Operation, values: Mapping[str, Any]) -> PageAt:
        """Where a paged call starts (a continuation cursor checked against this call)."""
        return PageAt.of(values, scope_of(resource.tool_name, op.name, values))

    def _served_resource(self, name: str) -> Resource:
        resource = self.resources.get(name)
        if resource is not None:
            return resource
        if name in self.disabled:
            resource = self.disabled[name]
            # disabled, or a tool with only write actions while writes are off
            self.policy.check(resource, resource.operations[0])
        raise UsageError(f"Unknown tool {shown(name)}; available: {', '.join(self.resources)}.")

    def _enabled_operation(self, resource: Resource, action: Any) -> Operation:
        enabled = self.policy.enabled_operations(resource)
        names = ", ".join(op.name for op in enabled)
        if action is None:
            raise UsageError(
                f"Missing required argument 'action' for {resource.tool_name}; one of: {names}."
            )
        if not isinstance(action, str):
            raise UsageError(
                f"Argument 'action' must be a string, one of: {names}; got "
                f"{json.dumps(action, default=repr)[:60]}."
            )
        for op in enabled:
            if op.name == action:
                return op
        raise UsageError(
            f"Unknown action {shown(action)} for {resource.tool_name}; use one of: {names}."
        )

    def run(
        self, resource: Resource, op: Operation, values: dict[str, Any], progress: Any = None
    ) -> Any:
        """Run the operation (in a worker thread); ``progress`` reports to the caller.

        ``values`` come from :meth:`prepare`; dispatch checks them again, which changes nothing.
        A continuation cursor (see :class:`PageAt`) fetches its page again and skips the items
        already delivered.
        """
        # The call's own progress, and what this server's policy and settings decide (a context
        # given to build_server, as `ctk mcp` gives one, knows neither).
        shared = self.context
        ctx = CallContext(shared, progress or shared.progress, self.inline_cap, self.withheld)
        if not op.paged:
            return dispatch.invoke(ctx, resource, op, values, self.policy)
        at = self._page_at(resource, op, values)
        fetch = {**values, "cursor": at.cursor, "limit": at.limit}
        return continue_page(
            dispatch.invoke(ctx, resource, op, fetch, self.policy), at, values["limit"]
        )

    def render(
        self,
        result: Any,
        op: Operation | None = None,
        values: dict[str, Any] | None = None,
        resource: Resource | None = None,
    ) -> tuple[str, Any, list[Block]]:
        """The result's text and structured content within the cap, and the content blocks of
        the files it shows (:func:`inline_blocks`: not counted against the cap). Given the call's
        paged ``op`` and ``values``, a list cut to fit gets a ``next_cursor`` that goes on at the
        first item left out."""
        page = None
        if op is not None and op.paged and values is not None and resource is not None:
            page = self._page_at(resource, op, values)
        result, blocks = inline_blocks(result, self.cap, self.inline_cap, self.environ)
        return (*cap_result(result, self.cap, self.environ, page), blocks)


class CallContext(Context):
    """The context of one tool call: its own progress and the files the server shows; the
    server's files, (lazy) client and caches."""

    def __init__(
        self,
        shared: Context,
        progress: Progress,
        inline_max_bytes: int,
        withheld_types: frozenset[str],
    ) -> None:
        super().__init__(
            files=shared.files,
            environ=shared.environ,
            progress=progress,
            withheld_types=withheld_types,
            inline_max_bytes=inline_max_bytes,
        )
        self._shared = shared
        self.cache = shared.cache  # the next page of a listing needs what the first one kept

    @property
    def client(self) -> Any:
        return self._shared.client


def mcp_progress(session: Any, min_interval: float = 0.25) -> Progress:
    """A :class:`ctk_core.context.Progress` that sends MCP progress notifications.

    Called from the worker thread; throttled; a no-op when the caller sent no progress token.
    """
    import anyio.from_thread

    def send(state: ProgressState) -> None:
        try:
            anyio.from_thread.run(
                session.report_progress,
                float(state.done),
                None if state.total is None else float(state.total),
                state.note or state.label or None,
            )
        except Exception:  # progress is best effort: never fail the call for it
            log.debug("progress notification failed", exc_info=True)

    return Progress(send, min_interval=min_interval)


def build_server(
    catalog: Any = None,
    policy: Policy | None = None,
    environ: Mapping[str, str] | None = None,
    no_auth: bool = False,
    context: Any = None,
) -> Server:
    """The MCP server for ``catalog`` (default: the loaded plugins) under ``policy``.

    ``policy`` defaults to ``Policy.from_environ(environ)``; ``environ`` (default
    ``os.environ``) also gives ``CTK_MAX_RESPONSE_BYTES`` and the log folder. ``context`` is the
    handlers' :class:`ctk_core.context.Context` (default: one built from the environment on the
    first call). With ``no_auth`` the tools are listed but every call answers how to
    authenticate.
    """
    import anyio.to_thread
    from mcp.server import Server
    from mcp.types import (
        CallToolResult,
        ImageContent,
        ListToolsResult,
        TextContent,
        Tool,
        ToolAnnotations,
    )

    env: Mapping[str, str] = settings.environ(environ)
    if catalog is None:
        catalog = load_catalog(environ=env)
    if policy is None:
        policy = Policy.from_environ(env, known_tools=[r.tool_name for r in catalog.resources])
        for warning in policy.warnings:
            log.warning("ctk: warning: %s", warning)
    served = enabled_resources(catalog, policy)
    runner = ToolRunner(served, policy, list(catalog.resources), env, no_auth, context)

    tools = []
    for entry in tools_payload(catalog, policy):
        ann = entry["annotations"]
        tools.append(
            Tool(
                name=entry["name"],
                title=entry["title"],
                description=entry["description"],
                input_schema=entry["inputSchema"],
                annotations=ToolAnnotations(
                    read_only_hint=ann["readOnlyHint"],
                    destructive_hint=ann["destructiveHint"],
                    idempotent_hint=ann["idempotentHint"],
                    open_world_hint=ann["openWorldHint"],
                ),
            )
        )

    def failure(message: str) -> CallToolResult:
        return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)

    async def list_tools(ctx: Any, params: Any) -> ListToolsResult:
        return ListToolsResult(tools=tools)

    async def call_tool(ctx: Any, params: Any) -> CallToolResult:
        name = params.name
        resource = op = None
        if name not in runner.resources and name not in runner.disabled:
            from mcp.shared.exceptions import MCPError
            from mcp.types import INVALID_PARAMS

            # The specification lists an unknown tool as a protocol error, not a tool result.
            served = ", ".join(runner.resources) or "none"
            raise MCPError(INVALID_PARAMS, f"Unknown tool {shown(name)}; available: {served}.")
        try:
            resource, op, args = runner.prepare(name, params.arguments)
            progress = mcp_progress(ctx.session) if getattr(ctx, "session", None) else None
            result = await anyio.to_thread.run_sync(
                functools.partial(runner.run, resource, op, args, progress)
            )
            text, structured, blocks = runner.render(result, op, args, resource)
        except CtkError as err:
            log.info("%s: %s", name, err)
            return failure(error_text(err, resource, op))
        except Exception as err:  # the server survives any bad call
            log.exception("unexpected error in %s", name)
            return failure(error_text(err, resource, op))
        content: list[Any] = [TextContent(type="text", text=text)]
        for block in blocks:  # a file the result shows: an image, or its text
            if block.kind == "image":
                content.append(
                    ImageContent(type="image", data=block.data, mime_type=block.media_type)
                )
            else:
                content.append(TextContent(type="text", text=block.data))
        if isinstance(structured, dict):
            return CallToolResult(content=content, structured_content=structured)
        return CallToolResult(content=content)

    instructions = server_instructions(served, policy)
    server: Server = Server(
        "ctk",
        version=__version__,
        instructions=instructions,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )
    server.ctk_runner = runner  # type: ignore[attr-defined]
    return server
