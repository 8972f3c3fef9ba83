"""The input sweep (issue 11): bad input for every operation of every loaded plugin, over MCP and
the CLI, generated from the catalog, so that a plugin installed later is swept with no new test.

For each operation the cases are built from its declared parameters (``sweep_cases``): each
required argument missing, each argument given a value of each wrong JSON type, an unknown
argument, and for every string an empty and a blank value, a 1 MB value, control characters and
NUL, emoji, right-to-left text and id-like values (``../1``, ``%2e%2e%2f``, ``1 OR 1=1``, ``-1``,
``1e9``, 25 digits); integers (``limit`` too) get -1, 0, 10^9, 10^25 and ``1e9``; a paged
operation's ``cursor`` gets forged cursors. The other required arguments get good values (the
demo site's ids for the built-in plugins' parameter names, a plain value of the declared type
otherwise), so that a bad value reaches as deep as it can.

What must hold, for every case: an ``isError`` result (MCP) or one ``Error:`` line on stderr
with a documented exit code (CLI), or a success where the input is in fact valid (an emoji title
is a title); never a traceback, an internal or unexpected error, a JSON-RPC error or a dead
server; usage cases (missing, wrong type, unknown, out of bounds) are usage errors (exit code
2); an error quotes at most a short prefix of a long value and stays under 2 KB; an id-like
value never reaches a URL path; a good call still works after each operation's cases. Writes run
with ``CTK_ENABLE_WRITES=true``; the sandbox is seeded afresh after every case that sent a
write, so nothing leaks from one case into the next.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from ctk_core.context import forget_space_ids
from ctk_core.plugin import Operation, Param, Resource
from ctk_core.registry import load_catalog
from ctk_core.sandbox.seed import demo_ids

CATALOG = load_catalog()
IDS = demo_ids()

#: Longer than any prefix an error may quote of the 1 MB value ("x" * 2**20).
ECHO = "x" * 100
BIG = "x" * (1 << 20)
MAX_ERROR = 2048
#: What an error line must not carry to a terminal (C0 and C1 controls, DEL).
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
#: The exit codes docs/architecture.md documents.
EXIT_CODES = {0, 1, 2, 3, 4, 5, 6, 7, 8}

#: Good values for the parameter names of the built-in plugins, on the demo site (``good_values``
#: finds the same things on a live sandbox, whose ids change when it is seeded afresh). A
#: parameter not named here gets a plain value of its type (``good_value``).
GOOD: dict[str, Any] = {
    "page_id": IDS["page:Architecture"],
    "space_id": "DEMO",
    "comment_id": IDS["comment:Should we mention the"],
    "attachment_id": IDS["attachment:notes.txt"],
    "folder_id": IDS["folder:Meeting Notes"],
    "title": "Sweep",
    "body": "Some text.",
    "selection": "three parts",
    "heading": "Components",
    "label": ["guide"],
    "cql": "type = page",
    "query": "install",
    "key": "SWEEP",
    "name": "Sweep",
    "account_id": [IDS["user:Alex Morgan"]],
    "version": 1,
}


def good_values(sandbox: Any) -> dict[str, Any]:
    """GOOD with the ids of the sandbox's live state."""
    state = sandbox.state
    comment = next(
        c["id"] for c in state.comments.values() if "Should we mention the" in str(c["body"])
    )
    attachment = next(a["id"] for a in state.attachments.values() if a["title"] == "notes.txt")
    folder = next(f["id"] for f in state.folders.values() if f["title"] == "Meeting Notes")
    return {
        **GOOD,
        "page_id": sandbox.page_id("Architecture"),
        "comment_id": comment,
        "attachment_id": attachment,
        "folder_id": folder,
    }


#: String values every string parameter gets (label -> value).
STRINGS: dict[str, str] = {
    "empty": "",
    "blank": "   ",
    "1MB": BIG,
    "control": "a\x00b\x01c\x1b[31mred\r\nnext\t\x7f",
    "emoji": "Sweep \U0001f4c4\u2705 \U0001f469\U0001f3fd\u200d\U0001f4bb",
    "rtl": "\u0645\u0631\u062d\u0628\u0627 \u05e9\u05dc\u05d5\u05dd \u202eevil\u202c",
    "dotdot": "../1",
    "pct": "%2e%2e%2f",
    "sql": "1 OR 1=1",
    "minus": "-1",
    "exp": "1e9",
    "digits25": "1234567890123456789012345",
}
#: The labels of STRINGS that are no id at all: an ``*_id`` parameter must refuse them (25 digits
#: are an id that names nothing: a filter may find nothing with it).
NOT_IDS = set(STRINGS) - {"empty", "blank", "digits25"}
#: Values that must never reach a URL path.
INJECTIONS = ("../1", "%2e%2e%2f", "1 OR 1=1")

INTEGERS: dict[str, Any] = {
    "minus1": -1,
    "zero": 0,
    "1e9": 10**9,
    "10^25": 10**25,
    "float1e9": 1e9,
}

CURSORS: dict[str, str] = {
    "forged": "forged-cursor",
    "base64": "eyJpZCI6IDEsICJsaW1pdCI6IDk5OTl9",
    "path": "../../rest/api/space",
    "url": "http://127.0.0.1:1/wiki/api/v2/pages",
    "query": "x&limit=9999&cursor=y",
}

#: A value of each JSON type; a parameter gets every one its type does not accept.
JSON_VALUES: dict[str, Any] = {
    "string": "7",
    "integer": 7,
    "fraction": 1.5,
    "boolean": True,
    "array": ["7"],
    "array-of-numbers": [7],
    "object": {"a": 1},
}
ACCEPTS = {
    "str": {"string"},
    "int": {"integer"},
    "float": {"integer", "fraction"},
    "bool": {"boolean"},
    "list": {"array"},
}


@dataclass
class Case:
    """One call: its arguments, and what must come of it."""

    label: str
    args: dict[str, Any]
    #: A usage error is the only right answer (MCP: isError; CLI: exit code 2).
    usage: bool = False
    #: Any error will do, but not a success.
    must_fail: bool = False
    #: The bad value, when it is a long string an error must not quote in full.
    long_value: bool = False
    #: The value must not reach a URL path.
    injection: str | None = None
    #: CLI only: more options, and more positional values after the declared ones.
    options: tuple[str, ...] = ()
    trailing: tuple[str, ...] = ()


def good_value(param: Param, upload: str, good: dict[str, Any]) -> Any:
    """A value the parameter accepts: the demo site's for known names, else one of its type."""
    if param.name == "file_path":
        return upload
    if param.name in good:
        value = good[param.name]
        return value if param.type != "list" or isinstance(value, list) else [value]
    if param.choices:
        return [param.choices[0]] if param.type == "list" else param.choices[0]
    if param.type == "int":
        return param.minimum if param.minimum is not None else 1
    return {"str": "1", "float": 1.0, "bool": True, "list": ["1"]}[param.type]


def baseline(params: tuple[Param, ...], upload: str, good: dict[str, Any]) -> dict[str, Any]:
    """Good values for the required parameters."""
    return {p.name: good_value(p, upload, good) for p in params if p.required}


def _bounds_break(param: Param, value: Any) -> bool:
    return (param.minimum is not None and value < param.minimum) or (
        param.maximum is not None and value > param.maximum
    )


def sweep_cases(
    params: tuple[Param, ...], upload: str, good: dict[str, Any], *, cli: bool
) -> list[Case]:
    """Every case for one operation, from its declared ``params`` (the ones the front end offers).

    The CLI's cases are the MCP cases a command line can carry: values are text there, so a wrong
    JSON type becomes text that is not a number, a yes/no word or a choice.
    """
    base = baseline(params, upload, good)
    cases: list[Case] = []
    required = [p for p in params if p.required]
    for param in required:
        args = {k: v for k, v in base.items() if k != param.name}
        cases.append(Case(f"missing {param.name}", args, usage=True))
    if len(required) > 1:
        cases.append(Case("nothing", {}, usage=True))
    cases.append(Case("unknown argument", {**base, "no_such_argument": "1"}, usage=True))
    for param in params:
        if cli:
            cases += _cli_type_cases(param, base)
        else:
            for kind, value in JSON_VALUES.items():
                if kind not in ACCEPTS[param.type]:
                    cases.append(
                        Case(f"{param.name}={kind}", {**base, param.name: value}, usage=True)
                    )
        if param.type in ("str", "list"):
            strings = dict(STRINGS)
            if param.name == "cursor":
                strings.update(CURSORS)
            for label, text in strings.items():
                value: Any = [text] if param.type == "list" else text
                must_fail = param.type == "str" and param.name.endswith("_id") and label in NOT_IDS
                if (param.choices and label not in ("empty", "blank")) or (
                    param.type == "str" and param.required and label in ("empty", "blank")
                ):
                    must_fail = True
                usage = bool(param.choices) and label not in ("empty", "blank")
                if param.type == "list" and label in ("empty", "blank"):
                    usage = cli  # an empty item is left out over MCP: no value, or a missing one
                cases.append(
                    Case(
                        f"{param.name}={label}",
                        {**base, param.name: value},
                        usage=usage,
                        must_fail=must_fail or usage,
                        long_value=text is BIG,
                        injection=text if text in INJECTIONS else None,
                    )
                )
        if param.type in ("int", "float"):
            for label, number in INTEGERS.items():
                broken = _bounds_break(param, number)
                cases.append(
                    Case(f"{param.name}={label}", {**base, param.name: number}, usage=broken)
                )
    return cases


def _cli_type_cases(param: Param, base: dict[str, Any]) -> list[Case]:
    """Text that is not of the parameter's type, as a command line carries it."""
    texts: list[tuple[str, Any]] = []
    if param.type in ("int", "float"):
        texts = [("word", "seven"), ("empty", ""), ("hex", "0x10")]
        if param.type == "int":
            texts.append(("fraction", "1.5"))
    elif param.type == "bool":
        texts = [("value", "maybe")]
    elif param.choices:
        texts = [("not a choice", ["nope"] if param.type == "list" else "nope")]
    return [
        Case(f"{param.name}={label}", {**base, param.name: v}, usage=True) for label, v in texts
    ]


def operations() -> Iterator[tuple[Resource, Operation]]:
    for resource in CATALOG.resources:
        for op in resource.operations:
            yield resource, op


def check_paths(entries: list[dict[str, Any]], case: Case) -> list[str]:
    """An id-like value never reaches a URL path (it is refused or goes in a query)."""
    problems = []
    for entry in entries:
        path = entry["path"]
        decoded = unquote(unquote(path))
        segments = [unquote(s) for s in path.split("/")]
        if any(s in ("..", ".") or "/" in s or "\x00" in s for s in segments):
            problems.append(f"request path {path[:120]!r}")
        elif case.injection and case.injection in decoded:
            problems.append(f"{case.injection!r} reached the path {path[:120]!r}")
    return problems


def check_error_text(text: str, case: Case) -> list[str]:
    problems = []
    for marker in ("Traceback", "Internal error", "Error: unexpected "):
        if marker in text:
            problems.append(f"{marker.strip()}: {text[:300]!r}")
    if len(text.encode("utf-8")) >= MAX_ERROR:
        problems.append(f"an error of {len(text)} characters: {text[:200]!r}...")
    if case.long_value and ECHO in text:
        problems.append(f"the error quotes the 1 MB value: {text[:200]!r}...")
    return problems


class Sweep:
    """Runs one tool's cases against the test's sandbox: ``cases(op, good)`` builds them,
    ``call(op, case)`` makes one call and returns its problems (a list of strings), ``good(op,
    good)`` is a good call's case. The sandbox is seeded afresh after every case that sent a
    write (the good values then follow its new ids)."""

    def __init__(self, sandbox: Any, resource: Resource) -> None:
        self.sandbox = sandbox
        self.resource = resource
        self.good = good_values(sandbox)
        self.problems: list[str] = []

    def run(self, cases: Any, call: Any, healthy: Any) -> None:
        for op in self.resource.operations:
            index = 0
            while index < len(built := cases(op, self.good)):
                case = built[index]
                index += 1
                problems = call(op, case)
                entries = self.sandbox.requests.entries()
                self.sandbox.requests.clear()
                problems += check_paths(entries, case)
                where = f"{self.resource.tool_name} {op.name} {case.label}"
                self.problems += [f"{where}: {p}" for p in problems]
                if any(e["method"] not in ("GET", "HEAD") for e in entries):
                    self.reseed()
            trouble = healthy()
            if trouble:
                self.problems.append(f"after {op.name}, the good call failed: {trouble}")

    def reseed(self) -> None:
        """The demo site as it was (with new ids, which ctk must not remember from before)."""
        self.sandbox.reset()
        forget_space_ids()
        self.good = good_values(self.sandbox)

    def verdict(self) -> None:
        assert not self.problems, f"{len(self.problems)} problems:\n" + "\n".join(self.problems)


TOOLS = [r.tool_name for r in CATALOG.resources]


@pytest.fixture
def upload(tmp_path: Path) -> str:
    path = tmp_path / "uploads" / "sweep.txt"
    path.parent.mkdir()
    path.write_text("to upload\n")
    return str(path)


# ------------------------------------------------------------------------------------- MCP


@pytest.mark.parametrize("tool", TOOLS)
def test_mcp_bad_input(tool, ctk_mcp, confluence_sandbox, upload):
    resource = CATALOG.resource(tool)
    session = ctk_mcp({"CTK_ENABLE_WRITES": "true", "CTK_UPLOAD_ROOTS": str(Path(upload).parent)})
    sweep = Sweep(confluence_sandbox, resource)

    def call(op: Operation, case: Case) -> list[str]:
        try:
            result = session.call(tool, {"action": op.name, **case.args})
        except Exception as exc:  # a JSON-RPC error, or the session died
            return [f"{type(exc).__name__}: {str(exc)[:300]}"]
        text = session.text(result)
        if result.is_error:
            return check_error_text(text, case)
        if case.usage or case.must_fail:
            return [f"succeeded: {text[:200]!r}"]
        return []

    def first_good_read() -> str | None:
        for op in resource.operations:
            if not op.write:
                args = {"action": op.name, **baseline(op.mcp_params, upload, sweep.good)}
                if not session.call(tool, args).is_error:
                    return op.name
        return None

    read = first_good_read()

    def healthy() -> str | None:
        if read is None:  # no read action answers these good values: the server must answer
            return None if session.tool_names() else "tools/list answered nothing"
        op = resource.operation(read)
        args = {"action": read, **baseline(op.mcp_params, upload, sweep.good)}
        result = session.call(tool, args)
        return session.text(result)[:300] if result.is_error else None

    sweep.run(lambda op, good: sweep_cases(op.mcp_params, upload, good, cli=False), call, healthy)
    sweep.verdict()


# ------------------------------------------------------------------------------------- CLI


def cli_cases(op: Operation, upload: str, good: dict[str, Any], folder: Path) -> list[Case]:
    """The sweep's cases, plus what only a command line has: an unreadable ``--X-file`` and a
    positional value too many (when the last positional parameter is not a list)."""
    cases = sweep_cases(op.all_params, upload, good, cli=True)
    base = baseline(op.all_params, upload, good)
    for param in op.all_params:
        if param.from_file:
            args = {k: v for k, v in base.items() if k != param.name}
            for label, path in (("absent", str(folder / "absent.md")), ("folder", "..")):
                option = (param.cli_file_flag, path)
                cases.append(Case(f"{param.name} file {label}", args, usage=True, options=option))
    positional = [p for p in op.all_params if p.positional]
    if not positional or positional[-1].type != "list":
        cases.append(Case("a positional too many", base, usage=True, trailing=("extra",)))
    return cases


def cli_argv(resource: Resource, op: Operation, case: Case) -> list[str]:
    """The command line for a case: options first, then ``--`` and the positional values (so
    that a value such as ``-1`` is a value, not an option)."""
    argv = ["--json", resource.name.replace("_", "-"), op.cli_name, *case.options]
    declared = {p.name: p for p in op.all_params}
    positional: list[str] = []
    for name, value in case.args.items():
        param = declared.get(name)
        if param is None:
            argv += ["--" + name.replace("_", "-"), str(value)]
        elif param.positional:
            continue
        elif param.type == "bool":
            argv.append(param.cli_flag if value is True else f"{param.cli_flag}={value}")
        elif param.type == "list":
            for item in value if isinstance(value, list) else [value]:
                argv += [param.cli_flag, str(item)]
        else:
            argv += [param.cli_flag, str(value)]
    for param in op.all_params:
        if param.positional and param.name in case.args:
            value = case.args[param.name]
            positional += [str(v) for v in value] if isinstance(value, list) else [str(value)]
    positional += case.trailing
    return [*argv, "--", *positional] if positional else argv


@pytest.mark.parametrize("tool", TOOLS)
def test_cli_bad_input(tool, ctk_cli, confluence_sandbox, upload, tmp_path, monkeypatch):
    resource = CATALOG.resource(tool)
    # downloads land here (an --output of ../1 too), never in the checkout
    work = tmp_path / "cwd" / "here"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    ctk_cli.env["CTK_ENABLE_WRITES"] = "true"
    sweep = Sweep(confluence_sandbox, resource)

    def call(op: Operation, case: Case) -> list[str]:
        return _check_cli(ctk_cli(*cli_argv(resource, op, case)), case)

    def first_good_read() -> Operation | None:
        for op in resource.operations:
            good = Case("good", baseline(op.all_params, upload, sweep.good))
            if not op.write and ctk_cli(*cli_argv(resource, op, good)).exit_code == 0:
                return op
        return None

    read = first_good_read()

    def healthy() -> str | None:
        if read is None:
            return None
        good = Case("good", baseline(read.all_params, upload, sweep.good))
        result = ctk_cli(*cli_argv(resource, read, good))
        return None if result.exit_code == 0 else repr(result)

    sweep.run(lambda op, good: cli_cases(op, upload, good, tmp_path), call, healthy)
    sweep.verdict()


def _check_cli(result: Any, case: Case) -> list[str]:
    problems = []
    code = result.exit_code
    if code not in EXIT_CODES:
        problems.append(f"exit code {code}")
    if "Traceback" in result.stdout + result.stderr:
        problems.append(f"a traceback: {result.stderr[-300:]!r}")
    if code == 0:
        if case.usage or case.must_fail:
            problems.append(f"succeeded: {result.stdout[:200]!r}")
        else:
            try:
                json.loads(result.stdout)
            except ValueError:
                problems.append(f"--json printed no JSON: {result.stdout[:200]!r}")
        return problems
    lines = result.stderr.splitlines()
    if len(lines) != 1 or not lines[0].startswith("Error: "):
        problems.append(f"not one error line: {result.stderr[:300]!r}")
    elif CONTROL.search(lines[0]):
        problems.append(f"control characters reach the terminal: {result.stderr[:300]!r}")
    problems += check_error_text(result.stderr, case)
    if case.usage and code != 2:
        problems.append(f"exit code {code}, not 2: {result.stderr[:200]!r}")
    return problems


# ---------------------------------------------------------------------------------- its size


def sweep_size() -> dict[str, int]:
    """The number of cases the two sweeps run with the plugins loaded now (each front end also
    makes a good call after each operation's cases, and up to one per read operation before)."""
    mcp = sum(len(sweep_cases(op.mcp_params, "/up.txt", GOOD, cli=False)) for _, op in operations())
    cli = sum(len(cli_cases(op, "/up.txt", GOOD, Path("/tmp"))) for _, op in operations())
    return {"mcp": mcp, "cli": cli, "operations": sum(1 for _ in operations())}


def test_sweep_covers_every_operation_of_every_loaded_plugin():
    size = sweep_size()
    assert size["operations"] > 40
    # every declared parameter of every operation is in a case of each front end
    for _resource, op in operations():
        for cli, params in ((False, op.mcp_params), (True, op.all_params)):
            labels = [c.label for c in sweep_cases(params, "/up.txt", GOOD, cli=cli)]
            for param in params:
                assert any(param.name in label for label in labels), (op.name, param.name)
    assert size["mcp"] > 2000, size
    assert size["cli"] > 2000, size


def test_a_cli_error_is_one_line_with_its_control_characters_shown(ctk_cli, confluence_sandbox):
    # found by the sweep: a file name quoted in a message carried a carriage return and an
    # escape sequence to the terminal as they were
    page = confluence_sandbox.page_id("Architecture")
    result = ctk_cli(
        "attachments",
        "upload",
        page,
        "a\x1b[31mred\rover\u2028b\x85c",
        env={"CTK_ENABLE_WRITES": "true"},
    )
    assert result.exit_code == 2
    assert result.stderr == "Error: No such file: a\\x1b[31mred\\rover\\u2028b\\x85c\n"
