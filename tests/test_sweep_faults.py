"""Every read operation of every loaded plugin, against every kind of fault the sandbox injects.

The operations come from the catalog (``load_catalog()``), so a plugin added later is swept with
no new test; its required parameters get values from the demo seed (``VALUES``: a parameter
name this table does not know fails ``test_every_read_runs_cleanly_without_faults``, which says
which name to add). Each read runs over the CLI (in-process) and over MCP, once with the fault
on every request (the first request fails) and, for an operation that sends more than one
request, once with the fault only on the path of its last request (say, a download's bytes after
the attachment's record was read). Each case must:

- fail with the class the docs promise: 429 storms are RateLimited (exit 7), 5xx, timeouts,
  dropped connections, malformed JSON and HTML pages are Unavailable (exit 8); over MCP an
  ``isError`` result saying the same, never "Internal error";
- end within ``BOUND`` seconds, retries included (``CTK_TIMEOUT`` makes timeouts short, the
  faults answer ``Retry-After: 0``);
- leave no file in the download folders.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ctk_core.client import MAX_RETRIES
from ctk_core.plugin import Operation, Resource
from ctk_core.registry import load_catalog
from ctk_core.sandbox.seed import demo_ids

IDS = demo_ids()

#: A valid value for each parameter name the loaded plugins require, from the demo seed.
VALUES: dict[str, Any] = {
    "page_id": IDS["page:Architecture"],
    "space_id": "DEMO",
    "folder_id": IDS["folder:Meeting Notes"],
    "comment_id": IDS["comment:Should we mention the"],
    "attachment_id": IDS["attachment:diagram.png"],
    "label": "guide",
    "account_id": IDS["user:Alex Morgan"],
    "key": "DEMO",
    "query": "install",
    "cql": 'type = page AND space = "DEMO"',
    "title": "Architecture",
    "heading": "Components",
    "template_id": IDS["template:Meeting notes"],
}
#: Requests that only add to a read, which succeeds without them (docs/resources/comments.md,
#: pages.md): display names (the id form stays) and a comment listing's threads (the comments
#: come back with ``replies_unavailable``). A fault on such a last request leaves the read
#: successful; a fault on every request still fails it.
OPTIONAL = {
    ("*", "POST", "/wiki/api/v2/users-bulk"),
    ("comments", "GET", "/wiki/rest/api/content/search"),
}


def optional(resource: Resource, method: str, path: str) -> bool:
    return any(
        r in ("*", resource.name) and m == method and path.startswith(p) for r, m, p in OPTIONAL
    )


#: Optional parameters that still say what to read (the operation needs one of a choice).
WHAT_TO_READ = ("page_id",)

#: The read timeout the sweep runs with (CTK_TIMEOUT), and the latency fault that outlasts it.
TIMEOUT = 0.2
#: The read timeout of every other case.
RELAXED_TIMEOUT = 10.0
LATENCY_MS = 1000
#: The longest one case may take, retries included.
BOUND = 4.0

UNAVAILABLE = 8
RATE_LIMITED = 7


@dataclass(frozen=True)
class Fault:
    name: str
    spec: dict[str, Any]
    exit_code: int
    #: What the message says (CLI stderr and MCP text alike).
    says: str


FAULTS = [
    Fault(
        "429-storm",
        {"kind": "429", "retry_after": 0},
        RATE_LIMITED,
        r"rate limiting requests \(429\)",
    ),
    Fault("500", {"kind": "500"}, UNAVAILABLE, r"unavailable \(500 Internal Server Error\)"),
    Fault("502", {"kind": "502"}, UNAVAILABLE, r"unavailable \(502 Bad Gateway\)"),
    Fault(
        "503-storm",
        {"kind": "503", "retry_after": 0},
        UNAVAILABLE,
        r"unavailable \(503 Service Unavailable\)",
    ),
    Fault(
        "latency",
        {"kind": "latency", "ms": LATENCY_MS},
        UNAVAILABLE,
        rf"did not answer within {TIMEOUT:g} s|no data within the read timeout",
    ),
    Fault("close", {"kind": "close"}, UNAVAILABLE, r"broke|cut off|closed the connection|interr"),
    Fault("malformed", {"kind": "malformed"}, UNAVAILABLE, r"malformed JSON|incomplete|bytes"),
    Fault("html-200", {"kind": "html", "status": 200}, UNAVAILABLE, r"HTML page"),
    Fault("html-502", {"kind": "html", "status": 502}, UNAVAILABLE, r"HTML error page: 502"),
]


def read_operations() -> list[tuple[Resource, Operation]]:
    return [(r, op) for r in load_catalog().resources for op in r.operations if not op.write]


def arguments(op: Operation) -> dict[str, Any]:
    """MCP-style arguments: every required parameter, from ``VALUES``."""
    args: dict[str, Any] = {}
    required = [p for p in op.params if p.required]
    wanted = required or [p for p in op.params if p.name in WHAT_TO_READ]
    for param in wanted:
        if param.name not in VALUES:
            raise LookupError(
                f"no demo value for parameter {param.name!r}: add one to VALUES in {__file__}"
            )
        value = VALUES[param.name]
        args[param.name] = [value] if param.type == "list" else value
    return args


def cli_argv(resource: Resource, op: Operation, args: dict[str, Any], out: Path) -> list[str]:
    argv = ["--json", resource.name.replace("_", "-"), op.cli_name]
    for param in op.params:
        if param.name == "output":
            argv += [param.cli_flag, str(out)]
        if param.name not in args:
            continue
        values = args[param.name] if isinstance(args[param.name], list) else [args[param.name]]
        for value in values:
            argv += [str(value)] if param.positional else [param.cli_flag, str(value)]
    return argv


@dataclass
class Outcome:
    exit_code: int
    text: str
    seconds: float


class Runner:
    """Runs one read over one front end against the sandbox, timing it."""

    def __init__(self, front: str, sandbox: Any, ctk_cli: Any, ctk_mcp: Any, home: Path) -> None:
        self.front = front
        self.sandbox = sandbox
        self.cli = ctk_cli
        self.cli_out = home / "cli-downloads"
        self.cli_out.mkdir()
        self.download_dirs = [self.cli_out, home / "downloads"]
        self.new_mcp = ctk_mcp
        self.mcp = None
        self.set_timeout(RELAXED_TIMEOUT)

    def set_timeout(self, seconds: float) -> None:
        """The read timeout of the next runs (a short one only where a latency fault needs it,
        so a loaded machine does not time out an ordinary request)."""
        env = {"CTK_TIMEOUT": str(seconds)}
        self.cli.env.update(env)
        if self.front == "mcp":
            self.mcp = self.new_mcp(env)

    def run(self, resource: Resource, op: Operation) -> Outcome:
        args = arguments(op)
        started = time.monotonic()
        if self.mcp is None:
            result = self.cli(*cli_argv(resource, op, args, self.cli_out))
            code, text = result.exit_code, result.stderr
        else:
            answer = self.mcp.call(resource.tool_name, {"action": op.name, **args})
            code = 1 if answer.is_error else 0
            text = self.mcp.text(answer)
        return Outcome(code, text, time.monotonic() - started)

    def leftovers(self) -> list[str]:
        found = []
        for folder in self.download_dirs:
            if folder.is_dir():
                found += [str(p) for p in folder.rglob("*") if p.is_file()]
        return found

    def clean(self) -> None:
        for path in self.leftovers():
            Path(path).unlink()


def requests_of(sandbox: Any) -> list[tuple[str, str]]:
    return [(e["method"], e["path"]) for e in sandbox.requests.entries()]


def problems_of(fault: Fault, front: str, outcome: Outcome) -> list[str]:
    problems = []
    if front == "cli":
        if outcome.exit_code != fault.exit_code:
            problems.append(f"exit {outcome.exit_code}, expected {fault.exit_code}")
        lines = outcome.text.splitlines()
        if len([line for line in lines if line.startswith("Error:")]) != 1:
            problems.append("not one 'Error:' line")
    elif outcome.exit_code == 0:
        problems.append("succeeded (no isError)")
    if "Internal error" in outcome.text or "unexpected" in outcome.text:
        problems.append("an internal error")
    if not re.search(fault.says, outcome.text):
        problems.append(f"message does not match {fault.says!r}")
    if outcome.seconds > BOUND:
        problems.append(f"took {outcome.seconds:.1f} s (bound {BOUND} s)")
    return problems


@pytest.fixture
def runner(request, confluence_sandbox, ctk_cli, ctk_mcp, private_environment):
    return Runner(request.param, confluence_sandbox, ctk_cli, ctk_mcp, private_environment)


def baseline(runner: Runner) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """Run every read without faults; return the requests each sent (failing on any error)."""
    sent: dict[tuple[str, str], list[tuple[str, str]]] = {}
    failures = []
    for resource, op in read_operations():
        runner.sandbox.requests.clear()
        try:
            outcome = runner.run(resource, op)
        except LookupError as exc:
            failures.append(f"{resource.name}.{op.name}: {exc}")
            continue
        if outcome.exit_code != 0:
            failures.append(f"{resource.name}.{op.name}: {outcome.text.strip()[:300]}")
        sent[(resource.name, op.name)] = requests_of(runner.sandbox)
        if not sent[(resource.name, op.name)]:
            failures.append(f"{resource.name}.{op.name}: sent no request")
        runner.clean()
    assert not failures, "reads that fail without a fault:\n  " + "\n  ".join(failures)
    return sent


@pytest.mark.parametrize("runner", ["cli", "mcp"], indirect=True)
def test_every_read_runs_cleanly_without_faults(runner):
    sent = baseline(runner)
    assert len(sent) == len(read_operations()) >= 31
    assert any(len(paths) > 1 for paths in sent.values())


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
@pytest.mark.parametrize("runner", ["cli", "mcp"], indirect=True)
def test_every_read_under_fault(runner, fault):
    sandbox = runner.sandbox
    sent = baseline(runner)
    if fault.name == "latency":
        runner.set_timeout(TIMEOUT)
    failures = []
    calls = 0
    for resource, op in read_operations():
        paths = sent[(resource.name, op.name)]
        # The fault on every request; then, if the operation sends more than one request,
        # only on its last one (the earlier ones succeed, the last one breaks).
        # (Each timeout costs TIMEOUT seconds: latency on the last request only for downloads.)
        scopes: list[dict[str, Any]] = [{}]
        downloads = any(p.name == "output" for p in op.params)
        if len(paths) > 1 and paths[-1] != paths[0] and (fault.name != "latency" or downloads):
            scopes.append({"method": paths[-1][0], "path": paths[-1][1]})
        for scope in scopes:
            sandbox.faults.replace([{**fault.spec, **scope}])
            sandbox.requests.clear()
            outcome = runner.run(resource, op)
            calls += 1
            sandbox.faults.clear()
            where = f"{resource.name}.{op.name}" + (f" (fault on {scope['path']})" if scope else "")
            if scope and optional(resource, scope["method"], scope["path"]):
                problems = [] if outcome.exit_code == 0 else ["failed: the request is optional"]
                if "Internal error" in outcome.text or "unexpected" in outcome.text:
                    problems.append("an internal error")
            else:
                problems = problems_of(fault, runner.front, outcome)
            faulted = [
                (method, path)
                for method, path in requests_of(sandbox)
                if not scope or (method == scope["method"] and path.startswith(scope["path"]))
            ]
            if not faulted and not (scope and optional(resource, scope["method"], scope["path"])):
                problems.append("sent no request")  # (names an MCP server knows cost none)
            if len(faulted) > 1 + MAX_RETRIES:
                problems.append(f"sent {len(faulted)} requests where the fault was")
            left = runner.leftovers()
            if left:
                problems.append(f"left files behind: {left}")
                runner.clean()
            if problems:
                failures.append(f"{where}: {'; '.join(problems)}: {outcome.text.strip()[:300]}")
    print(f"{fault.name} over {runner.front}: {calls} calls, {len(failures)} failures")
    assert not failures, f"{len(failures)} of {calls} cases:\n  " + "\n  ".join(failures)


def test_a_429_storm_with_retry_after_stays_bounded(ctk_cli, confluence_sandbox):
    """Confluence asking to wait 1 s each time: three retries, then exit 7, in about 3 s."""
    confluence_sandbox.fault({"kind": "429", "retry_after": 1})
    started = time.monotonic()
    result = ctk_cli("spaces", "list")
    took = time.monotonic() - started
    assert result.exit_code == RATE_LIMITED, result
    assert "after 3 retries" in result.stderr
    assert len(confluence_sandbox.requests.find("GET", "/wiki/api/v2/spaces")) == 4
    assert 2.5 < took < 6


@pytest.mark.parametrize("value", ["0", "-1", "soon", "nan", "inf"])
def test_a_bad_ctk_timeout_is_a_usage_error(ctk_cli, value):
    result = ctk_cli("spaces", "list", env={"CTK_TIMEOUT": value})
    assert result.exit_code == 2, result
    assert "CTK_TIMEOUT must be a number of seconds above 0" in result.stderr


def test_ctk_timeout_sets_the_read_timeout(ctk_cli, confluence_sandbox):
    confluence_sandbox.fault({"kind": "latency", "ms": 800, "count": 1})
    slow = ctk_cli("spaces", "list", env={"CTK_TIMEOUT": "0.2"})
    assert slow.exit_code == UNAVAILABLE, slow
    assert "did not answer within 0.2 s" in slow.stderr
    confluence_sandbox.fault({"kind": "latency", "ms": 300, "count": 1})
    assert ctk_cli("spaces", "list", env={"CTK_TIMEOUT": "5"}).exit_code == 0
