"""Start-up and size figures of ctk, against the budget in docs/architecture.md.

Run: ``python bench/run.py [--runs N]``. Prints a table (figure, median, min, max, budget).
Every run is a fresh process, as a user or an MCP client would start it. The MCP server talks
to a sandbox started once, in this process (so its start-up is not counted), with writes off
and then on for the tools/list sizes (the whole JSON-RPC answer, as sent on stdio). Nothing
here asserts: it measures and prints.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def ctk_command() -> list[str]:
    exe = shutil.which("ctk", path=os.path.dirname(sys.executable)) or shutil.which("ctk")
    return [exe] if exe else [sys.executable, "-m", "ctk_core.cli"]


def private_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CTK_", "CONFLUENCE_"))}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        CTK_LOG_DIR=str(home / "logs"),
        CTK_DOWNLOAD_DIR=str(home / "downloads"),
        CTK_RATE_LIMIT="off",
    )
    return env


def wall(cmd: list[str], env: dict[str, str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.decode()[-500:]}")
    return times


def start_sandbox() -> tuple[object, str]:
    """A sandbox in this process (a thread): the measured ctk processes reach it over loopback."""
    from ctk_core.sandbox import SandboxServer

    server = SandboxServer(host="127.0.0.1", port=0, seed="demo")
    server.start()
    return server, server.url


def _send(proc: subprocess.Popen, message: dict) -> None:
    assert proc.stdin is not None
    proc.stdin.write((json.dumps(message) + "\n").encode())
    proc.stdin.flush()


def _answer(proc: subprocess.Popen, want_id: int) -> bytes:
    assert proc.stdout is not None
    while True:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit("ctk mcp closed stdout before answering")
        if json.loads(line).get("id") == want_id:
            return line.rstrip(b"\n")


def mcp_tools_list(env: dict[str, str]) -> tuple[float, bytes]:
    """Spawn ``ctk mcp``; seconds from spawn to the tools/list answer, and that answer."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [*ctk_command(), "mcp"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        _send(
            proc,
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {},
                    "clientInfo": {"name": "bench", "version": "1"},
                },
            },
        )
        _answer(proc, 1)
        _send(proc, {"jsonrpc": "2.0", "method": "notifications/initialized"})
        _send(proc, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
        answer = _answer(proc, 2)
        elapsed = time.perf_counter() - start
    finally:
        if proc.stdin:
            proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return elapsed, answer


def download_peak_rss(
    sandbox: object, env: dict[str, str], folder: Path, size_mb: int = 200
) -> tuple[float, int]:
    """Seconds and peak RSS (KiB) of ``ctk attachments download`` of a ``size_mb`` MB file."""
    from ctk_core.sandbox.routes_attachments import attach_file

    source = folder / "big.bin"
    block = os.urandom(1024 * 1024)
    with source.open("wb") as fh:
        for _ in range(size_mb):
            fh.write(block)
    state = sandbox.state  # type: ignore[attr-defined]
    page_id = next(p["id"] for p in state.pages.values() if p["status"] == "current")
    with state.lock:
        att = attach_file(state, page_id, source, filename="big.bin")
    source.unlink()
    out = folder / "out"
    out.mkdir()
    start = time.perf_counter()
    proc = subprocess.Popen(
        [*ctk_command(), "attachments", "download", att["id"], "--output", str(out)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"download failed: {proc.stderr.read().decode()[-500:]}")  # type: ignore[union-attr]
    if (out / "big.bin").stat().st_size != size_mb * 1024 * 1024:
        raise SystemExit("download incomplete")
    return seconds, usage.ru_maxrss


def fmt(seconds: list[float]) -> tuple[str, str, str]:
    return (f"{statistics.median(seconds):.3f} s", f"{min(seconds):.3f} s", f"{max(seconds):.3f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="cold runs per figure (default 10)")
    args = parser.parse_args(argv)
    rows: list[tuple[str, str, str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="ctk-bench-") as tmp:
        home = Path(tmp)
        env = private_env(home)
        ctk = ctk_command()

        rows.append(
            (
                "`ctk --help`, cold process",
                *fmt(wall([*ctk, "--help"], env, args.runs)),
                "<= 0.15 s",
            )
        )
        rows.append(
            (
                "`ctk --sandbox spaces list`",
                *fmt(wall([*ctk, "--sandbox", "spaces", "list"], env, args.runs)),
                "-",
            )
        )

        sandbox, url = start_sandbox()
        try:
            mcp_env = dict(
                env,
                CTK_BASE_URL=url,
                CONFLUENCE_EMAIL="bench@example.com",
                CONFLUENCE_API_TOKEN="bench-token",
                CONFLUENCE_TOKEN_TYPE="classic",
            )
            spawn, sizes = [], {}
            for _ in range(args.runs):
                seconds, answer = mcp_tools_list(mcp_env)
                spawn.append(seconds)
            sizes["off"] = answer
            _, sizes["on"] = mcp_tools_list(dict(mcp_env, CTK_ENABLE_WRITES="true"))
            seconds, peak = download_peak_rss(sandbox, mcp_env, home)
        finally:
            sandbox.stop()  # type: ignore[attr-defined]
        rows.append(("`ctk mcp` spawn to first tools/list answer", *fmt(spawn), "<= 1.2 s"))
        for label, budget in (("off", "<= 9 KB (9216 B)"), ("on", "-")):
            data = json.loads(sizes[label])
            count = len(data["result"]["tools"])
            size = len(sizes[label])
            rows.append(
                (f"tools/list size, writes {label} ({count} tools)", f"{size} B", "", "", budget)
            )

        rows.append(
            ("attachment download, 200 MB: peak RSS", f"{peak / 1024:.0f} MB", "", "", "<= 80 MB")
        )
        rows.append(("attachment download, 200 MB: wall", f"{seconds:.2f} s", "", "", "-"))

    headers = ("figure", "median", "min", "max", "budget")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells):
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    print(line(headers))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print(line(row))
    print(
        f"\n{args.runs} runs each; {sys.executable}; python {sys.version.split()[0]}; "
        f"{os.cpu_count()} CPUs"
    )
    if editable_install():
        print(
            "ctk is an editable install here: its import hook adds some 40 ms to every start. "
            "A user's figure comes from a regular install (pip install .)."
        )
    return 0


def editable_install() -> bool:
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        direct = distribution("ctk-confluence").read_text("direct_url.json") or "{}"
    except PackageNotFoundError:
        return False
    return bool(json.loads(direct).get("dir_info", {}).get("editable"))


if __name__ == "__main__":
    raise SystemExit(main())
