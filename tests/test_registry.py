"""Plugin loading: entry points, allow-list, tracing, failure isolation, duplicates."""

from __future__ import annotations

import pytest
from plugin_support import resource_source

from ctk_core import registry
from ctk_core.registry import load_catalog

BUILTINS = {"spaces", "users"}


def test_builtins_load_through_the_ctk_entry_point_group():
    catalog = load_catalog(reload=True)
    names = {r.name for r in catalog.resources}
    assert names >= BUILTINS
    for name in BUILTINS:
        info = catalog.plugin_of(name)
        assert info is not None
        assert info.status == "loaded"
        assert info.dist == "ctk-confluence"
        assert info.builtin
        assert info.version
        assert info.tools == [f"manage_{name}"]
        assert catalog.plugin_of(f"manage_{name}") is info
    assert catalog.resource("manage_spaces").name == "spaces"
    with pytest.raises(KeyError):
        catalog.resource("nope")


def test_catalog_is_cached_per_process():
    first = load_catalog()
    assert load_catalog() is first
    assert registry.plugin_manager() is first.pm
    assert load_catalog(reload=True) is not first


def test_load_plugins_allow_list(monkeypatch, capsys):
    monkeypatch.setenv("CTK_LOAD_PLUGINS", " users , nosuch")
    catalog = load_catalog(reload=True)
    assert [r.name for r in catalog.resources] == ["users"]
    skipped = [p for p in catalog.plugins if p.status == "skipped"]
    assert "spaces" in {p.name for p in skipped}
    assert all("CTK_LOAD_PLUGINS" in p.error for p in skipped)
    err = capsys.readouterr().err
    assert "CTK_LOAD_PLUGINS names 'nosuch'" in err
    assert err.count("\n") == 1


def test_empty_allow_list_loads_nothing(monkeypatch):
    monkeypatch.setenv("CTK_LOAD_PLUGINS", "")
    assert load_catalog(reload=True).resources == []


def test_third_party_plugin_is_loaded_with_its_distribution(plugins):
    plugins.install("notes", resource_source("notes"), dist="ctk-notes", version="2.3")
    catalog = load_catalog(reload=True)
    info = catalog.plugin_of("notes")
    assert (info.name, info.dist, info.version, info.status) == (
        "notes",
        "ctk-notes",
        "2.3",
        "loaded",
    )
    assert not info.builtin
    assert info.tools == ["manage_notes"]
    assert {"spaces", "users", "notes"} <= {r.name for r in catalog.resources}


def test_plugin_raising_on_import_is_skipped_with_one_line(plugins, capsys):
    plugins.install("broken", "raise RuntimeError('kaboom\\nsecond line')", dist="ctk-broken")
    plugins.install("notes", resource_source("notes"))
    catalog = load_catalog(reload=True)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line]
    assert len(lines) == 1
    assert "'broken' (ctk-broken 1.0)" in lines[0]
    assert "RuntimeError: kaboom" in lines[0]
    broken = next(p for p in catalog.plugins if p.name == "broken")
    assert broken.status == "failed"
    assert "kaboom" in broken.error
    assert {"spaces", "users", "notes"} <= {r.name for r in catalog.resources}


def test_missing_module_is_reported(plugins, capsys):
    plugins.install("ghost", None, module="ctk_no_such_module_xyz")
    catalog = load_catalog(reload=True)
    ghost = next(p for p in catalog.plugins if p.name == "ghost")
    assert ghost.status == "failed"
    assert "ModuleNotFoundError" in ghost.error
    assert "'ghost'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("register(Resource('Bad Name', 'x', [Operation('get', 'Get.', run)]))", "snake_case"),
        ("register(Resource('things', 'x', []))", "no operations"),
        ("register('not a resource')", "expected a ctk_core.Resource"),
        (
            "register(Resource('things', 'x', [Operation('get', 'Get.', run, "
            "params=[Param('n', 'dict')])]))",
            "type",
        ),
        ("raise ValueError('plugin bug')", "ctk_register_resources raised ValueError: plugin bug"),
    ],
)
def test_malformed_registration_fails_only_that_plugin(
    plugins,
    capsys,
    body,
    fragment,
):
    source = f"""
from ctk_core import Operation, Param, Resource, hookimpl

def run(ctx):
    return None

@hookimpl
def ctk_register_resources(register):
    register(Resource('fine', 'Fine.', [Operation('get', 'Get.', run)]))
    {body}
"""
    plugins.install("bad", source, dist="ctk-bad")
    catalog = load_catalog(reload=True)
    bad = next(p for p in catalog.plugins if p.name == "bad")
    assert bad.status == "failed"
    assert fragment in bad.error
    assert bad.resources == []
    assert bad.tools == []
    assert "fine" not in {r.name for r in catalog.resources}  # none of a failed plugin's
    assert {r.name for r in catalog.resources} >= BUILTINS
    assert catalog.pm.get_plugin("bad") is None  # unregistered: its other hooks never run
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "'bad' (ctk-bad 1.0)" in err


def test_duplicate_resource_names_both_plugins(plugins, capsys):
    plugins.install(
        "myspaces", resource_source("spaces", tool="manage_my_spaces"), dist="ctk-myspaces"
    )
    catalog = load_catalog(reload=True)
    info = next(p for p in catalog.plugins if p.name == "myspaces")
    assert info.status == "failed"
    assert "duplicate resource 'spaces'" in info.error
    assert "'spaces' (ctk-confluence " in info.error
    assert "'myspaces' (ctk-myspaces 1.0)" in info.error
    assert catalog.plugin_of("spaces").name == "spaces"  # the built-in keeps it
    assert "duplicate resource 'spaces'" in capsys.readouterr().err


def test_duplicate_tool_names_both_plugins(plugins):
    plugins.install("a", resource_source("alpha", tool="manage_shared"), dist="ctk-a")
    plugins.install("b", resource_source("beta", tool="manage_shared"), dist="ctk-b")
    catalog = load_catalog(reload=True)
    a = next(p for p in catalog.plugins if p.name == "a")
    b = next(p for p in catalog.plugins if p.name == "b")
    assert a.status == "loaded"
    assert b.status == "failed"
    assert "duplicate tool 'manage_shared'" in b.error
    assert "'a' (ctk-a 1.0)" in b.error
    assert "'b' (ctk-b 1.0)" in b.error
    assert [r.name for r in catalog.resources if r.tool_name == "manage_shared"] == ["alpha"]


def test_entry_point_name_clash(plugins):
    plugins.install("users", resource_source("people"), dist="ctk-people")
    catalog = load_catalog(reload=True)
    clash = next(p for p in catalog.plugins if p.dist == "ctk-people")
    assert clash.status == "failed"
    assert "'users' (ctk-confluence " in clash.error
    assert catalog.plugin_of("users").builtin


def test_resource_cannot_take_a_core_command_name(plugins):
    plugins.install("sb", resource_source("sandbox"))
    info = next(p for p in load_catalog(reload=True).plugins if p.name == "sb")
    assert info.status == "failed"
    assert "core command 'ctk sandbox'" in info.error


def test_misspelt_hook_fails_the_plugin(plugins):
    plugins.install(
        "typo",
        """
from ctk_core import hookimpl

@hookimpl
def ctk_register_resource(register):
    pass
""",
    )
    info = next(p for p in load_catalog(reload=True).plugins if p.name == "typo")
    assert info.status == "failed"
    assert "unknown hook 'ctk_register_resource'" in info.error


def test_trace_plugins_prints_hook_calls(monkeypatch, capsys):
    monkeypatch.setenv("CTK_TRACE_PLUGINS", "1")
    load_catalog(reload=True)
    err = capsys.readouterr().err
    assert "trace: ctk_register_resources(register) -> spaces" in err
    assert "trace: ctk_register_resources ok" in err


def test_no_trace_by_default(capsys):
    load_catalog(reload=True)
    assert "trace" not in capsys.readouterr().err


def test_call_per_plugin_isolates_failures(plugins, capsys):
    plugins.install(
        "cmds",
        """
from ctk_core import hookimpl

@hookimpl
def ctk_register_commands(cli):
    raise RuntimeError("no commands today")
""",
        dist="ctk-cmds",
    )
    plugins.install(
        "good",
        """
from ctk_core import hookimpl
import click

@hookimpl
def ctk_register_commands(cli):
    @cli.command()
    def hello():
        "Say hello."
""",
    )
    catalog = load_catalog(reload=True)
    import click

    group = click.Group("x")
    seen = []
    registry.call_per_plugin(
        catalog,
        "ctk_register_commands",
        on_error=lambda info, exc: seen.append(info.name),
        cli=group,
    )
    assert "hello" in group.commands
    assert seen == ["cmds"]
    assert "'cmds' (ctk-cmds 1.0) failed in ctk_register_commands" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("handler", "params", "fragment"),
    [
        ("def run(ctx, titel=None): pass", "[Param('title')]", "parameter 'title' is declared"),
        ("def run(ctx, title, extra): pass", "[Param('title')]", "requires argument 'extra'"),
        ("def run(*, title=None): pass", "[Param('title')]", "must take ctx first"),
    ],
)
def test_handler_that_does_not_fit_its_declaration_is_refused_at_load(
    plugins, capsys, handler, params, fragment
):
    source = f"""
from ctk_core import Operation, Param, Resource, hookimpl

{handler}

@hookimpl
def ctk_register_resources(register):
    register(Resource('notes', 'Notes.', [Operation('get', 'Get.', run, params={params})]))
"""
    plugins.install("misfit", source, dist="ctk-misfit")
    catalog = load_catalog(reload=True)
    misfit = next(p for p in catalog.plugins if p.name == "misfit")
    assert misfit.status == "failed"
    assert fragment in misfit.error
    assert "notes.get" in misfit.error  # the operation
    line = next(x for x in capsys.readouterr().err.splitlines() if "misfit" in x)
    assert "'misfit'" in line  # the plugin, in one line
    assert fragment in line
    assert "notes" not in {r.name for r in catalog.resources}


def test_handler_taking_keywords_or_defaults_fits(plugins):
    source = """
from ctk_core import Operation, Param, Resource, hookimpl

def one(ctx, **values):
    return values

def two(ctx, title=None, unused=1):
    return title

@hookimpl
def ctk_register_resources(register):
    register(Resource('notes', 'Notes.', [
        Operation('one', 'One.', one, params=[Param('title')]),
        Operation('two', 'Two.', two, params=[Param('title')]),
    ]))
"""
    plugins.install("fits", source, dist="ctk-fits")
    catalog = load_catalog(reload=True)
    assert next(p for p in catalog.plugins if p.name == "fits").status == "loaded"
