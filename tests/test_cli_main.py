"""The root command: cheap --help, global options, disabled tools, errors, plugin commands."""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys

import pytest
from plugin_support import resource_source

from ctk_core import __version__
from ctk_core.commands import CORE_COMMANDS
from ctk_core.registry import load_catalog
from ctk_core.testing import CtkCli

HEAVY = ("requests", "mcp", "markdown_it", "jsonschema", "urllib3", "tabulate")


@pytest.fixture
def cli(tmp_path):
    return CtkCli(None, str(tmp_path / "config"))


@pytest.mark.parametrize(
    "args", [["--help"], ["spaces", "--help"], ["users", "search", "--help"], ["--version"]]
)
def test_help_imports_nothing_heavy(args):
    code = (
        "import sys\n"
        "from ctk_core.cli import main\n"
        "try:\n"
        f"    main({args!r}, prog_name='ctk')\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code\n"
        f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY=\n" in proc.stdout, proc.stdout[-300:]
    assert "Usage: ctk" in proc.stdout or __version__ in proc.stdout


def test_version_is_the_installed_distributions(cli):
    installed = importlib.metadata.version("ctk-confluence")
    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout == f"ctk {installed}\n"
    assert installed == __version__  # the source tree and its metadata agree


def test_root_help_lists_resources_and_core_commands(cli):
    result = cli("--help")
    assert result.exit_code == 0
    for name, (_, help_text) in CORE_COMMANDS.items():
        assert f"  {name} " in result.stdout
        assert help_text in " ".join(result.stdout.split())
    for resource in load_catalog().resources:
        assert resource.summary in " ".join(result.stdout.split())
    assert result.stderr == ""


def test_lazy_core_commands_resolve(cli):
    import importlib

    for name, (spec, _) in CORE_COMMANDS.items():
        module, _, attr = spec.partition(":")
        try:
            command = getattr(importlib.import_module(module), attr)
        except ModuleNotFoundError as exc:  # a piece another issue delivers
            pytest.fail(f"ctk {name}: {exc}")
        assert command.name == name or name in ("status", "logout", "auth"), name
        result = cli(name, "--help")
        assert result.exit_code == 0, result


def test_disabled_tool_is_hidden_and_explains_itself(cli):
    env = {"CTK_DISABLED_TOOLS": "manage_users"}
    root = cli("--help", env=env)
    assert root.exit_code == 0
    assert "  users " not in root.stdout
    assert "  spaces " in root.stdout
    for args in (
        ["users", "get-current"],
        ["users"],
        ["users", "--help"],
        ["users", "search", "--bogus"],
    ):
        result = cli(*args, env=env)
        assert result.exit_code == 4, result
        assert result.stderr.startswith("Error: 'ctk users' is disabled by CTK_DISABLED_TOOLS")
        assert "remove manage_users from CTK_DISABLED_TOOLS" in result.stderr


def test_unknown_disabled_tool_warns_once(cli):
    result = cli("--help", env={"CTK_DISABLED_TOOLS": "manage_userz, manage_spaces"})
    assert result.exit_code == 0
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1
    assert "'manage_userz'" in warnings[0]
    assert "  spaces " not in result.stdout


def test_bad_enable_writes_value_warns(cli):
    result = cli("spaces", "--help", env={"CTK_ENABLE_WRITES": "sure"})
    assert result.exit_code == 0
    assert "ctk: warning: CTK_ENABLE_WRITES='sure'" in result.stderr
    assert "Write commands hidden (create)" in " ".join(result.stdout.split())


def test_unknown_command_is_a_usage_error(cli):
    result = cli("nonsense")
    assert result.exit_code == 2
    assert "No such command 'nonsense'" in result.stderr


def test_connection_failure_is_one_line_exit_8(cli):
    # Nothing listens on port 9 of loopback: a connection error, classified, no traceback.
    result = cli(
        "spaces",
        "list",
        env={
            "CTK_BASE_URL": "http://127.0.0.1:9",
            "CONFLUENCE_EMAIL": "a@b.c",
            "CONFLUENCE_API_TOKEN": "secret-token-123",
        },
    )
    assert result.exit_code == 8, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Error: ")
    assert "secret-token-123" not in result.stderr


def test_missing_credentials_exit_3(cli):
    result = cli("spaces", "list")
    assert result.exit_code == 3, result
    assert result.stderr.startswith("Error: ")
    assert "ctk auth" in result.stderr


def _crash_plugin(plugins):
    plugins.install(
        "crash",
        """
from ctk_core import Operation, Resource, hookimpl

def boom(ctx):
    raise RuntimeError("handler bug\\nsecond line")

@hookimpl
def ctk_register_resources(register):
    register(Resource("crash", "Crashes.", [Operation("now", "Crash now.", boom)]))
""",
    )
    load_catalog(reload=True)


def test_unexpected_error_is_one_line_without_debug(cli, plugins):
    _crash_plugin(plugins)
    result = cli("crash", "now")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: unexpected RuntimeError: handler bug second line "
        "(run with --debug or CTK_DEBUG=1 for the traceback)\n"
    )


@pytest.mark.parametrize("how", [["--debug"], "CTK_DEBUG"])
def test_traceback_with_debug(cli, plugins, how):
    _crash_plugin(plugins)
    if how == "CTK_DEBUG":
        result = cli("crash", "now", env={"CTK_DEBUG": "1"})
    else:
        result = cli(*how, "crash", "now")
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "RuntimeError: handler bug" in result.stderr


def test_plugin_commands_are_added(cli, plugins):
    plugins.install(
        "hello",
        """
import click
from ctk_core import hookimpl

@hookimpl
def ctk_register_commands(cli):
    @cli.command()
    @click.argument("name")
    def hello(name):
        "Greet someone."
        click.echo(f"hello {name}")

    @cli.command(name="auth")
    def not_really_auth():
        "Tries to replace a core command."
""",
    )
    load_catalog(reload=True)
    result = cli("hello", "you")
    assert result.exit_code == 0
    assert result.stdout == "hello you\n"
    assert "a plugin's command 'auth' was ignored" in result.stderr
    helped = cli("--help")
    assert "Greet someone." in helped.stdout
    assert cli("auth", "--help").stdout.count("Save credentials") == 1


def test_plugins_command_lists_builtins_and_failures(cli, plugins):
    plugins.install("broken", "import no_such_module_zz", dist="ctk-broken", version="0.3")
    plugins.install("notes", resource_source("notes"), dist="ctk-notes", version="2.0")
    load_catalog(reload=True)
    result = cli("--json", "plugins")
    assert result.exit_code == 0, result
    rows = {r["name"]: r for r in result.json()["results"]}
    assert rows["spaces"]["distribution"] == "ctk-confluence"
    assert rows["spaces"]["status"] == "loaded"
    assert rows["spaces"]["tools"] == ["manage_spaces"]
    assert rows["notes"] == {
        "name": "notes",
        "module": "ctk_test_notes",
        "distribution": "ctk-notes",
        "version": "2.0",
        "resources": ["notes"],
        "tools": ["manage_notes"],
        "status": "loaded",
        "error": None,
    }
    assert rows["broken"]["status"] == "failed"
    assert "ModuleNotFoundError" in rows["broken"]["error"]
    table = cli("plugins")
    assert table.exit_code == 0
    assert table.stdout.splitlines()[0].split() == [
        "name",
        "distribution",
        "version",
        "resources",
        "tools",
        "status",
    ]
    assert "broken: import failed: ModuleNotFoundError" in table.stdout


def test_broken_plugin_never_breaks_help_in_a_real_process(plugins):
    plugins.install("broken", "raise SystemError('bad plugin')", dist="ctk-broken")
    import os

    env = dict(os.environ, PYTHONPATH=plugins.pythonpath)
    proc = subprocess.run(
        [sys.executable, "-c", "from ctk_core.cli import main; main(['--help'], prog_name='ctk')"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0
    assert "Resources:" in proc.stdout
    assert "spaces" in proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "'broken' (ctk-broken 1.0)" in lines[0]
    assert "SystemError: bad plugin" in lines[0]


def test_json_flag_before_or_after(ctk_cli):
    before = ctk_cli("--json", "spaces", "list")
    after = ctk_cli("spaces", "list", "--json")
    assert before.exit_code == after.exit_code == 0
    assert json.loads(before.stdout) == json.loads(after.stdout)


def test_subprocess_run_against_the_sandbox(ctk_cli):
    result = ctk_cli("--json", "spaces", "get", "DEMO", subprocess=True)
    assert result.exit_code == 0, result
    assert result.json()["key"] == "DEMO"
    refused = ctk_cli("spaces", "create", "X", subprocess=True)
    assert refused.exit_code == 4
    assert "CTK_ENABLE_WRITES=true" in refused.stderr


def test_shell_completion(cli):
    result = cli(env={"_CTK_COMPLETE": "bash_complete", "COMP_WORDS": "ctk sp", "COMP_CWORD": "1"})
    assert "plain,spaces" in result.stdout.split()
    result = cli(
        env={
            "_CTK_COMPLETE": "bash_complete",
            "COMP_WORDS": "ctk spaces list --type g",
            "COMP_CWORD": "4",
        }
    )
    assert "plain,global" in result.stdout.split()


@pytest.mark.parametrize(
    ("shell", "marker"),
    [("bash", "complete -o nosort -F"), ("zsh", "compdef"), ("fish", "complete --no-files")],
)
def test_completion_prints_the_script_for_ctk(cli, shell, marker):
    result = cli("completion", shell)
    assert result.exit_code == 0, result.stderr
    assert marker in result.stdout
    assert "_CTK_COMPLETE=" in result.stdout
    assert f"{shell}_complete" in result.stdout
    assert " ctk" in result.stdout  # the script completes the command named ctk


def test_completion_script_drives_real_completion(tmp_path):
    exe = shutil.which("ctk", path=os.path.dirname(sys.executable))
    assert exe, "the ctk console script is installed beside this Python"
    script = subprocess.run(
        [exe, "completion", "bash"], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    bash = shutil.which("bash")
    assert bash
    probe = (
        f"{script}\n"
        "COMP_WORDS=(ctk pages g); COMP_CWORD=2; _ctk_completion ctk\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    env = {**os.environ, "PATH": os.path.dirname(exe) + os.pathsep + os.environ["PATH"]}
    proc = subprocess.run(
        [bash, "--norc", "-c", probe], capture_output=True, text=True, timeout=60, env=env
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["get", "get-by-title"]


def test_completion_refuses_an_unknown_shell(cli):
    result = cli("completion", "tcsh")
    assert result.exit_code == 2
    assert "'tcsh' is not one of 'bash', 'zsh', 'fish'" in result.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--bogus"], "Error: No such option '--bogus' (see 'ctk -h').\n"),
        (
            ["pages", "get", "--bogus"],
            "Error: No such option '--bogus' (see 'ctk pages get -h').\n",
        ),
        (
            ["pages", "lst"],
            "Error: No such command 'lst'. Did you mean 'list'? (see 'ctk pages -h').\n",
        ),
        (["pages", "list", "--limit", "x"], None),
    ],
)
def test_usage_errors_are_one_line(ctk_cli, args, expected):
    result = ctk_cli(*args)
    assert result.exit_code == 2, result
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("Error: ")
    assert "Usage:" not in result.stderr
    if expected is not None:
        assert result.stderr == expected


@pytest.mark.parametrize(
    "args",
    [
        ["pages", "list", "--limit", "7" * 5000],
        ["x" * 5000],
        ["pages", "list", "--" + "x" * 5000],
        ["pages", "get", "x" * 5000],
    ],
)
def test_usage_errors_quote_a_short_prefix_of_a_long_word(ctk_cli, args):
    result = ctk_cli(*args)
    assert result.exit_code == 2, result
    assert len(result.stderr) < 300, result.stderr[:400]
    assert "..." in result.stderr
    assert result.stderr.rstrip().endswith("-h').") or "Confluence id" in result.stderr


def test_a_group_without_its_command_shows_its_help(ctk_cli):
    result = ctk_cli("pages")
    assert result.exit_code == 2, result
    assert result.stderr.startswith("Usage: ctk pages")
    assert "Error:" not in result.stderr
    assert len(result.stderr.splitlines()) > 5
