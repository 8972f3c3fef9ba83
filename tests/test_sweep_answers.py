"""Every operation of every loaded plugin, against answers Atlassian's schemas allow but ctk may
not expect: only the required fields, empty ``results`` lists, nullable fields null.

A real HTTP server on 127.0.0.1 (tests/schema_answers.py) answers each request with an instance
of the response schema the OpenAPI files (tests/spec) declare for its method and path, in one
variant at a time. Every operation, reads and writes (writes on), runs through dispatch as the
front ends run it, and again through the CLI (``--json`` and tables) to render what it returned.
An outcome is a result or a ctk error (a clear message, naming the endpoint when the answer
lacks something, exit 8); any other exception (an AttributeError, KeyError or TypeError from a
handler) is an internal error and fails the sweep. The operations come from the catalog, so a
plugin added later is swept with no new test (its required parameters need values in ``VALUES``).
"""

from __future__ import annotations

import os
import traceback
from pathlib import Path
from typing import Any

import pytest
from schema_answers import VARIANTS, AnswerServer
from spec_support import load_specs

from ctk_core import CtkError, dispatch
from ctk_core.context import Context, forget_space_ids
from ctk_core.file_access import PersonFiles
from ctk_core.plugin import Operation, Resource
from ctk_core.policy import Policy
from ctk_core.registry import load_catalog
from ctk_core.words import CLI_WORDS

#: A value for each parameter name an operation requires (ids as digits: no lookups needed).
VALUES: dict[str, Any] = {
    "page_id": "101",
    "space_id": "102",
    "folder_id": "103",
    "comment_id": "104",
    "attachment_id": "att105",
    "label": "guide",
    "account_id": "557058:0e1f2a3b",
    "key": "KEY",
    "query": "install",
    "cql": "type = page",
    "title": "Components",
    "heading": "Components",
    "template_id": "106",
    "body": "Hello **there**.",
    "selection": "Hello",
    "name": "Name",
    "version": 1,
}
#: Optional parameters that still say what to read (the operation needs one of a choice).
WHAT_TO_READ = ("page_id",)


def operations() -> list[tuple[Resource, Operation]]:
    return [(r, op) for r in load_catalog().resources for op in r.operations]


def arguments(op: Operation, upload: Path, out: Path) -> dict[str, Any]:
    args: dict[str, Any] = {}
    required = [p for p in op.params if p.required]
    for param in required or [p for p in op.params if p.name in WHAT_TO_READ]:
        if param.name == "file_path":
            value: Any = str(upload)
        elif param.name in VALUES:
            value = VALUES[param.name]
        else:
            raise LookupError(f"no value for parameter {param.name!r}: add one to VALUES")
        args[param.name] = [value] if param.type == "list" else value
    if any(p.name == "output" for p in op.params):
        args["output"] = str(out)
        args["overwrite"] = True
    if op.name == "move":  # needs a target: a parent, or a sibling and a position
        args["target_parent_id"] = "106"
    return args


#: Numbers for the optional integer parameters of the richer run (others get 2).
NUMBERS = {"from_version": 1, "to_version": 2, "version": 1, "match_index": 0}
#: Optional texts the richer run gives.
TEXTS = {"body": "New **text**.", "message": "sweep", "comment": "sweep"}


def richer(op: Operation, args: dict[str, Any]) -> dict[str, Any] | None:
    """The same call with the optional switches on, last choices and some numbers and texts
    (None when it would be the same call): reaches the branches the plain call does not."""
    more = dict(args)
    for param in op.params:
        if param.required or param.name in more or param.name in ("cursor", "limit"):
            continue
        if param.type == "bool":
            more[param.name] = not param.default
        elif param.choices:
            choice = param.choices[-1]
            more[param.name] = [choice] if param.type == "list" else choice
        elif param.type == "int":
            more[param.name] = NUMBERS.get(param.name, 2)
        elif param.name in TEXTS:
            more[param.name] = TEXTS[param.name]
    return more if more != args else None


def strings_in(value: Any) -> set[str]:
    """Every string in a result (``"None"`` among them: a null printed as text)."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*(strings_in(v) for v in value.values()))
    if isinstance(value, (list, tuple)):
        return set().union(*(strings_in(v) for v in value))
    return set()


def where_it_broke(exc: BaseException) -> str:
    """The innermost frame of ctk's own code (plugin or core) in the traceback."""
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if "/ctk_plugins/" in f.filename or "/ctk_core/" in f.filename
    ]
    frame = frames[-1] if frames else traceback.extract_tb(exc.__traceback__)[-1]
    return f"{Path(frame.filename).name}:{frame.lineno} {frame.line}"


def sweep(variant: str, tmp_path: Path) -> tuple[int, list[str], dict[str, str]]:
    """Run every operation against ``variant`` answers: (calls, failures, outcome per op)."""
    upload = tmp_path / "upload.txt"
    upload.write_text("upload\n")
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    failures: list[str] = []
    outcomes: dict[str, str] = {}
    calls = 0
    with AnswerServer(load_specs(), variant) as server:
        environ = {
            **os.environ,
            "CTK_BASE_URL": server.url,
            "CONFLUENCE_EMAIL": "sweep@example.com",
            "CONFLUENCE_API_TOKEN": "sweep-token",
            "CONFLUENCE_TOKEN_TYPE": "classic",
            "CTK_TIMEOUT": "5",
        }
        policy = Policy.from_environ({"CTK_ENABLE_WRITES": "true"})
        for resource, op in operations():
            forget_space_ids()
            ctx = Context(PersonFiles(), environ=environ)
            name = f"{resource.name}.{op.name}"
            try:
                args = arguments(op, upload, out)
            except LookupError as exc:
                failures.append(f"{name}: {exc}")
                continue
            more = richer(op, args)
            for call, label in ((args, name), (more, name + "+")):
                if call is None:
                    continue
                calls += 1
                try:
                    result = dispatch.invoke(ctx, resource, op, call, policy, CLI_WORDS)
                    outcomes[label] = "result"
                    if "None" in strings_in(result):
                        failures.append(f"{label} [{variant}] {call}: 'None' in {result}")
                except CtkError as err:
                    outcomes[label] = f"{type(err).__name__}: {err}"
                except Exception as exc:
                    outcomes[label] = f"internal {type(exc).__name__}"
                    failures.append(
                        f"{label} [{variant}] {call}: {type(exc).__name__}: {exc} "
                        f"at {where_it_broke(exc)}"
                    )
        unknown = sorted({f"{m} {p}" for m, p, status in server.log if status == 404})
        failures += [f"no spec answer for {request}" for request in unknown]
    return calls, failures, outcomes


def cli_argv(resource: Resource, op: Operation, args: dict[str, Any], json: bool) -> list[str]:
    argv = (["--json"] if json else []) + [resource.name.replace("_", "-"), op.cli_name]
    for param in op.params:
        if param.name not in args:
            continue
        value = args[param.name]
        if param.type == "bool":
            argv.append(param.cli_flag if value else f"--no-{param.cli_flag[2:]}")
            continue
        for item in value if isinstance(value, list) else [value]:
            argv += [str(item)] if param.positional else [param.cli_flag, str(item)]
    if op.destructive:
        argv.append("--yes")
    return argv


def cli_sweep(ctk_cli: Any, variant: str, tmp_path: Path) -> tuple[int, list[str]]:
    """Every operation over the CLI, printed as JSON and as tables: (calls, failures)."""
    upload = tmp_path / "upload.txt"
    upload.write_text("upload\n")
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    calls, failures = 0, []
    with AnswerServer(load_specs(), variant) as server:
        env = {"CTK_BASE_URL": server.url, "CTK_ENABLE_WRITES": "true", "CTK_TIMEOUT": "5"}
        for resource, op in operations():
            args = arguments(op, upload, out)
            for call in (args, richer(op, args)):
                if call is None:
                    continue
                for json in (True, False):
                    calls += 1
                    result = ctk_cli(*cli_argv(resource, op, call, json), env=env)
                    if result.exit_code == 1 or "unexpected" in result.stderr:
                        failures.append(
                            f"ctk {' '.join(cli_argv(resource, op, call, json))} [{variant}]: "
                            f"exit {result.exit_code}: {result.stderr.strip()[-300:]}"
                        )
    return calls, failures


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_operation_survives_schema_valid_answers(variant, tmp_path):
    calls, failures, outcomes = sweep(variant, tmp_path)
    print(f"{variant}: {calls} calls, {len(failures)} failures")
    for name, outcome in sorted(outcomes.items()):
        print(f"  {name}: {outcome[:160]}")
    assert calls >= len(operations()) >= 50
    assert not failures, f"{len(failures)} internal errors:\n  " + "\n  ".join(failures)


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_cli_prints_what_schema_valid_answers_give(variant, ctk_cli, tmp_path):
    calls, failures = cli_sweep(ctk_cli, variant, tmp_path)
    print(f"cli {variant}: {calls} calls, {len(failures)} failures")
    assert calls >= 2 * len(operations())
    assert not failures, f"{len(failures)} internal errors:\n  " + "\n  ".join(failures)


@pytest.mark.parametrize("variant", ["minimal", "empty", "nulls", "blank"])
def test_an_upload_answer_naming_no_attachment_is_unavailable(variant, ctk_cli, tmp_path):
    """The v1 upload's answer may hold no result item (or a null one, or one without an id):
    exit 8, naming the endpoint and saying the file may be there; never an internal error."""
    upload = tmp_path / "notes.txt"
    upload.write_text("notes\n")
    with AnswerServer(load_specs(), variant) as server:
        env = {"CTK_BASE_URL": server.url, "CTK_ENABLE_WRITES": "true"}
        result = ctk_cli("attachments", "upload", "101", str(upload), env=env)
        log = list(server.log)
    assert result.exit_code == 8, result
    assert result.stderr.startswith(
        "Error: Confluence's answer to PUT /wiki/rest/api/content/101/child/attachment names no "
        "attachment: notes.txt may have been uploaded to page 101."
    )
    assert [m for m, _, _ in log] == ["PUT"]
