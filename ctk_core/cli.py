"""The ``ctk`` command line: a root Click group generated from the plugin catalog.

``ctk --help`` stays cheap: core commands are imported only when run (their one-line help is
written in ``ctk_core.commands.CORE_COMMANDS``), resource groups are built from the plugins'
declarations (plain data), and requests/mcp are imported only when a command needs them.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Mapping
from typing import Any

import click

from ctk_core import settings
from ctk_core._version import DISTRIBUTION, __version__
from ctk_core.cli_run import catalog, current_policy, run_operation
from ctk_core.commands import CORE_COMMANDS
from ctk_core.errors import CtkError, PolicyError, shown
from ctk_core.parsing import split_list
from ctk_core.plugin import Operation, Param, Resource
from ctk_core.policy import Policy
from ctk_core.textfile import read_utf8
from ctk_core.words import CLI_WORDS

CONTEXT_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class RootOptions:
    """Root options, shared by every subcommand through ``ctx.find_root().obj``."""

    def __init__(self) -> None:
        self.json = False
        self.debug = settings.flag("CTK_DEBUG")
        self.sandbox = False


def _settings(ctx: click.Context) -> RootOptions:
    root = ctx.find_root()
    if not isinstance(root.obj, RootOptions):
        root.obj = RootOptions()
    return root.obj


# -- parameters -----------------------------------------------------------------------------


class ListType(click.ParamType):
    """A list parameter: repeatable, and each value may itself be comma-separated."""

    name = "list"

    def __init__(self, choices: tuple[str, ...] | None = None) -> None:
        self.choices = choices

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "[" + "|".join(self.choices) + "],..." if self.choices else "TEXT,..."

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> list[str]:
        if isinstance(value, list):
            return value
        items = split_list(str(value))
        if not items:
            choices = f": one or more of {', '.join(self.choices)}" if self.choices else ""
            self.fail(f"an empty value is not a value{choices}.", param, ctx)
        if self.choices:
            for item in items:
                if item not in self.choices:
                    self.fail(f"{shown(item)} is not one of {', '.join(self.choices)}.", param, ctx)
        return items

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[Any]:
        from click.shell_completion import CompletionItem

        head, _, last = incomplete.rpartition(",")
        prefix = head + "," if head else ""
        return [CompletionItem(prefix + c) for c in self.choices or () if c.startswith(last)]


def _click_type(param: Param) -> Any:
    if param.type == "list":
        return ListType(param.choices)
    if param.choices:
        return click.Choice(param.choices)
    if param.type == "int":
        if param.minimum is not None or param.maximum is not None:
            return click.IntRange(param.minimum, param.maximum)
        return click.INT
    if param.type == "float":
        if param.minimum is not None or param.maximum is not None:
            return click.FloatRange(param.minimum, param.maximum)
        return click.FLOAT
    return click.STRING


def _help_of(param: Param) -> str:
    if param.required and param.from_file:
        return f"{param.help} [required, or {param.cli_file_flag}]".strip()
    return param.help


def click_parameter(param: Param) -> click.Parameter:
    """The Click argument or option for one declared parameter."""
    # Click tells "no default" from default=None, so a default is passed only when declared.
    extra: dict[str, Any] = {} if param.default is None else {"default": param.default}
    if param.positional:
        return click.Argument(
            [param.name],
            type=_click_type(param),
            required=param.required,
            nargs=-1 if param.type == "list" else 1,
            metavar=param.name.upper() + ("..." if param.type == "list" else ""),
            **extra,
        )
    flag = param.cli_flag
    if param.type == "bool":
        return click.Option(
            [f"{flag}/--no-{flag[2:]}", param.name],
            default=param.default,
            help=param.help,
            show_default=param.default is not None,
        )
    return click.Option(
        [flag, param.name],
        type=_click_type(param),
        required=param.required and not param.from_file,
        multiple=param.type == "list",
        help=_help_of(param),
        show_default=param.default not in (None, [], ()),
        **extra,
    )


# -- commands generated from operations -----------------------------------------------------


class OperationCommand(click.Command):
    """``ctk <resource> <operation>``; refuses at once (before parsing) when the policy says no."""

    def __init__(
        self, resource: Resource, operation: Operation, refusal: str | None = None, **kwargs: Any
    ) -> None:
        self.resource = resource
        self.operation = operation
        self.refusal = refusal
        super().__init__(**kwargs)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if self.refusal and not any(a in ctx.help_option_names for a in args):
            raise PolicyError(self.refusal)
        return super().parse_args(ctx, args)


def _operation_help(resource: Resource, op: Operation) -> str:
    lines = [op.summary]
    positional = [p for p in op.all_params if p.positional]
    if positional:
        lines += ["", "\b", "Arguments:"]
        width = max(len(p.name.upper()) for p in positional)
        for p in positional:
            lines.append(f"  {p.name.upper().ljust(width)}  {p.help}".rstrip())
    if op.write:
        what = "deletes or overwrites data" if op.destructive else "changes Confluence"
        lines += ["", f"Write operation ({what}): needs CTK_ENABLE_WRITES=true."]
    lines += ["", f"MCP: tool {resource.tool_name}, action {op.name}."]
    return "\n".join(lines)


def build_operation_command(resource: Resource, op: Operation, policy: Policy) -> OperationCommand:
    params: list[click.Parameter] = [click_parameter(p) for p in op.all_params]
    taken = {f for p in params for f in getattr(p, "opts", []) + getattr(p, "secondary_opts", [])}
    if op.paged and "--all" not in taken:
        params.append(
            click.Option(
                ["--all", "ctk_all"],
                is_flag=True,
                default=False,
                help="Fetch every page (--json streams them as they come).",
            )
        )
    if "--json" not in taken:
        params.append(
            click.Option(
                ["--json", "ctk_json"],
                is_flag=True,
                default=False,
                help="Print the result as JSON (same as ctk --json).",
            )
        )
    # CLI-only conveniences: --X-file for parameters declared from_file, --yes for destructive
    # operations (see _confirm), and the declared shortcuts.
    from_file = [p for p in op.all_params if p.from_file and p.cli_file_flag not in taken]
    for param in from_file:
        params.append(
            click.Option(
                [param.cli_file_flag, f"ctk_file_{param.name}"],
                metavar="PATH",
                help=f"Read {param.cli_flag[2:]} from a UTF-8 file ('-' for stdin).",
            )
        )
    for short, sets in op.cli_shortcuts.items():
        flag = "--" + short.replace("_", "-")
        if flag not in taken:
            meaning = " ".join(
                f"{next(p.cli_flag for p in op.all_params if p.name == k)} "
                f"{'VALUE' if v == '{}' else v}"
                for k, v in sets.items()
            )
            params.append(
                click.Option(
                    [flag, f"ctk_shortcut_{short}"], metavar="VALUE", help=f"Same as {meaning}."
                )
            )
    if op.destructive and "--yes" not in taken:
        params.append(
            click.Option(
                ["--yes", "-y", "ctk_yes"],
                is_flag=True,
                default=False,
                help="Do not ask for confirmation.",
            )
        )
    refusal = policy.refusal(resource, op, CLI_WORDS)

    def callback(**kwargs: Any) -> None:
        ctx = click.get_current_context()
        settings = _settings(ctx)
        as_json = settings.json or bool(kwargs.pop("ctk_json", False))
        fetch_all = bool(kwargs.pop("ctk_all", False))
        file_values = {p.name: kwargs.pop(f"ctk_file_{p.name}", None) for p in from_file}
        confirmed = bool(kwargs.pop("ctk_yes", False))
        shortcuts = {k: kwargs.pop(f"ctk_shortcut_{k}", None) for k in op.cli_shortcuts}
        arguments = _arguments(op, kwargs)
        for short, value in shortcuts.items():
            if value is None:
                continue
            for name, template in op.cli_shortcuts[short].items():
                if name in arguments:
                    raise click.UsageError(
                        f"--{short.replace('_', '-')} sets {name}: give one or the other."
                    )
                arguments[name] = value if template == "{}" else template
        for param in from_file:
            path = file_values[param.name]
            if path is None:
                if param.required and param.name not in arguments:
                    raise click.UsageError(
                        f"Missing option '{param.cli_flag}' (or '{param.cli_file_flag}')."
                    )
                continue
            if param.name in arguments:
                raise click.UsageError(f"Give {param.cli_flag} or {param.cli_file_flag}, not both.")
            arguments[param.name] = read_utf8(path)
        if op.destructive and not confirmed:
            _confirm(resource, op, arguments)
        run_operation(ctx, resource, op, arguments, as_json, fetch_all)

    return OperationCommand(
        resource,
        op,
        refusal=refusal,
        name=op.cli_name,
        params=params,
        callback=callback,
        help=_operation_help(resource, op),
        short_help=op.summary,
        hidden=refusal is not None,
        context_settings=CONTEXT_SETTINGS,
    )


def _confirm(resource: Resource, op: Operation, arguments: Mapping[str, Any]) -> None:
    """Ask before a destructive operation when a person is at a terminal (``--yes`` skips)."""
    try:
        interactive = sys.stdin.isatty()
    except (AttributeError, ValueError):
        interactive = False
    if interactive:
        shown = " ".join(f"{k}={v}" for k, v in arguments.items())
        click.confirm(
            f"{resource.name} {op.cli_name} {shown}: {op.summary} Continue?", abort=True, err=True
        )


def _arguments(op: Operation, values: Mapping[str, Any]) -> dict[str, Any]:
    """Click's values -> the argument dict dispatch takes (absent ones left out)."""
    arguments: dict[str, Any] = {}
    for param in op.all_params:
        value = values.get(param.name)
        if param.type == "list" and value is not None:
            flat: list[str] = []
            for item in value if isinstance(value, (list, tuple)) else [value]:
                flat.extend(item if isinstance(item, list) else [item])
            value = flat or None
        if value is not None:
            arguments[param.name] = value
    return arguments


# -- resource groups --------------------------------------------------------------------------


class ResourceGroup(click.Group):
    """``ctk <resource>``: its operations, with write commands hidden when writes are off."""

    def __init__(self, resource: Resource, policy: Policy, **kwargs: Any) -> None:
        self.resource = resource
        self.hidden_writes = [op.cli_name for op in policy.hidden_operations(resource)]
        super().__init__(**kwargs)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)  # declaration order, not alphabetical

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        default = self.resource.default_command
        if default and args and args[0] not in self.commands:
            target = self._operation_for(args[0], default)
            command = self.commands.get(target.cli_name)
            if command is not None:
                return command.name, command, args
        return super().resolve_command(ctx, args)

    def _operation_for(self, first: str, default: str) -> Operation:
        """The operation an argument list without a command name means."""
        if first.startswith("-"):
            flag = first.split("=", 1)[0]
            for op in self.resource.operations:
                if any(p.cli_flag == flag for p in op.all_params if not p.positional):
                    return op
        return self.resource.operation(default)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        default = self.resource.default_command
        if default:
            name = self.resource.name.replace("_", "-")
            formatter.write_paragraph()
            formatter.write_text(
                f"Without a command name, 'ctk {name} ...' runs "
                f"'{self.resource.operation(default).cli_name}', or the command whose option "
                "comes first."
            )
        if self.hidden_writes:
            formatter.write_paragraph()
            formatter.write_text(
                f"Write commands hidden ({', '.join(self.hidden_writes)}): writes are disabled; "
                "set CTK_ENABLE_WRITES=true to enable them."
            )


class DisabledCommand(click.Command):
    """Stands in for the group of a tool named in CTK_DISABLED_TOOLS: hidden, and says why."""

    def __init__(self, resource: Resource, refusal: str) -> None:
        self.message = refusal
        super().__init__(
            name=resource.name.replace("_", "-"),
            hidden=True,
            add_help_option=False,
            short_help=resource.summary,
            context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
        )

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        raise PolicyError(self.message)


def build_resource_group(resource: Resource, policy: Policy) -> click.Command:
    refusal = policy.refusal(resource, words=CLI_WORDS)
    if refusal is not None:
        return DisabledCommand(resource, refusal)
    settings = dict(CONTEXT_SETTINGS)
    if resource.default_command:
        # Options of the default command reach it instead of failing as unknown group options.
        settings["ignore_unknown_options"] = True
    group = ResourceGroup(
        resource,
        policy,
        name=resource.name.replace("_", "-"),
        help=resource.description or resource.summary,
        short_help=resource.summary,
        no_args_is_help=True,
        context_settings=settings,
    )
    for op in resource.operations:
        group.add_command(build_operation_command(resource, op, policy))
    return group


# -- the root group ------------------------------------------------------------------------------


def _import_command(spec: str) -> click.Command:
    import importlib

    module_name, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module_name), attr)  # type: ignore[no-any-return]


def plugin_commands(catalog: Any) -> dict[str, click.Command]:
    """Commands plugins add through ``ctk_register_commands(cli)``, once per catalog."""
    if catalog.commands is None:
        from ctk_core.registry import call_per_plugin

        collector = click.Group("ctk")
        call_per_plugin(catalog, "ctk_register_commands", cli=collector)
        taken = set(CORE_COMMANDS) | {r.name.replace("_", "-") for r in catalog.resources}
        commands: dict[str, click.Command] = {}
        for name, command in collector.commands.items():
            if name in taken:
                click.echo(
                    f"ctk: a plugin's command {name!r} was ignored: the name is taken by "
                    "a core command or a resource.",
                    err=True,
                )
            else:
                commands[name] = command
        catalog.commands = commands
    return catalog.commands  # type: ignore[no-any-return]


class RootGroup(click.Group):
    """The ``ctk`` group: lazy core commands, resource groups, plugin commands; error edges."""

    def _resource_names(self) -> dict[str, Resource]:
        return {r.name.replace("_", "-"): r for r in catalog().resources}

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = set(CORE_COMMANDS) | set(self._resource_names())
        names |= set(plugin_commands(catalog()))
        return sorted(names)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in CORE_COMMANDS:
            return _import_command(CORE_COMMANDS[cmd_name][0])
        resource = self._resource_names().get(cmd_name)
        if resource is not None:
            return build_resource_group(resource, current_policy(ctx))
        return plugin_commands(catalog()).get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Core commands' help comes from CORE_COMMANDS so that listing them imports nothing.
        policy = current_policy(ctx)
        resources = [
            (name, r.summary)
            for name, r in sorted(self._resource_names().items())
            if policy.tool_enabled(r)
        ]
        commands = [(name, help_text) for name, (_, help_text) in CORE_COMMANDS.items()]
        for name, cmd in plugin_commands(catalog()).items():
            if not cmd.hidden:
                commands.append((name, cmd.get_short_help_str(limit=80)))
        if resources:
            with formatter.section("Resources"):
                formatter.write_dl(resources)
        with formatter.section("Commands"):
            formatter.write_dl(sorted(commands))

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        policy = current_policy(ctx)
        if any(policy.hidden_operations(r) for r in catalog().resources if policy.tool_enabled(r)):
            formatter.write_paragraph()
            formatter.write_text(
                "Write commands are hidden: writes are disabled; set "
                "CTK_ENABLE_WRITES=true to enable them."
            )

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.exceptions.NoArgsIsHelpError:
            raise  # a group without its command: its help, as it is
        except click.UsageError as exc:
            raise OneLineUsageError(exc) from exc

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CtkError as exc:
            raise CtkClickError(exc) from exc
        except click.exceptions.NoArgsIsHelpError:
            raise  # a group without its command: its help, as it is
        except click.UsageError as exc:
            raise OneLineUsageError(exc) from exc
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except BrokenPipeError:
            _silence_stdout()
            raise click.exceptions.Exit(1) from None
        except KeyboardInterrupt:  # Ctrl-C: the shell's convention, 128 + SIGINT
            click.echo("\nctk: interrupted.", err=True)
            raise click.exceptions.Exit(130) from None
        except Exception as exc:
            if _settings(ctx).debug:
                traceback.print_exc(file=sys.stderr)
            raise UnexpectedError(exc) from exc


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


class CtkClickError(click.ClickException):
    """A CtkError at the CLI edge: ``Error: <one line>`` on stderr, the error's exit code."""

    def __init__(self, error: CtkError) -> None:
        super().__init__(one_line(str(error)))
        self.exit_code = error.exit_code  # type: ignore[misc]


def one_line(message: str) -> str:
    """An error message as one terminal line: every line break (``\\r`` and the Unicode ones
    too) a space, other control characters shown as ``\\xNN`` (a value quoted from the caller
    or from Confluence cannot move the cursor or recolour the terminal)."""
    from ctk_core.output import printable

    return printable(" ".join(message.splitlines()), keep_lines=False)


class OneLineUsageError(click.UsageError):
    """A usage error of Click's in one line, like every other error: ``Error: <what>`` and where
    help is (instead of Click's usage block); exit code 2."""

    def __init__(self, error: click.UsageError) -> None:
        super().__init__(error.format_message(), error.ctx)

    def show(self, file: Any = None) -> None:
        # Click quotes the caller's word (a bad value, command or option) in full: cut long ones.
        words = self.format_message().split()
        if self.ctx is not None:
            words[-1] = words[-1].rstrip(".")
            words.append(f"(see '{self.ctx.command_path} -h').")
        message = " ".join(w if len(w) <= 80 else w[:60] + "..." for w in words)
        click.echo(f"Error: {message}", err=True)


class UnexpectedError(click.ClickException):
    exit_code = 1

    def __init__(self, error: BaseException) -> None:
        text = " ".join(str(error).split()) or "(no message)"
        text = text if len(text) <= 300 else text[:300] + "..."
        super().__init__(
            f"unexpected {type(error).__name__}: {text} "
            "(run with --debug or CTK_DEBUG=1 for the traceback)"
        )


def installed_version() -> str:
    """The version of the installed distribution, or of the source tree when not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return f"{__version__} (not installed)"


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"ctk {installed_version()}")
        ctx.exit()


@click.group(cls=RootGroup, context_settings=CONTEXT_SETTINGS)
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON (what MCP returns).")
@click.option(
    "--sandbox",
    is_flag=True,
    help="Run against the offline sandbox (data kept in $XDG_DATA_HOME/ctk); also CTK_SANDBOX=1.",
)
@click.option("--debug", is_flag=True, help="Log requests and show tracebacks (CTK_DEBUG=1).")
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the installed version and exit.",
)
@click.pass_context
def main(ctx: click.Context, as_json: bool, sandbox: bool, debug: bool) -> None:
    """ctk: Confluence Cloud from the shell, and as tools for AI assistants (ctk mcp).

    Reads are always allowed; writes need CTK_ENABLE_WRITES=true. Try: ctk --sandbox spaces list
    """
    settings.reset()
    ctx.call_on_close(settings.reset)
    options = _settings(ctx)
    options.json = as_json
    if debug:
        options.debug = True
        settings.override("CTK_DEBUG", "1")
    if sandbox or settings.flag("CTK_SANDBOX"):
        from ctk_core.commands.sandbox import start_embedded

        options.sandbox = True
        server = start_embedded()
        ctx.call_on_close(server.stop)


__all__ = ["main"]


if __name__ == "__main__":  # python -m ctk_core.cli: run the one canonical module's group
    from ctk_core.cli import main as _main

    _main(prog_name="ctk")
