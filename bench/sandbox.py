"""How many simple GETs per second the sandbox answers on loopback (budget: >= 500/s).

One keep-alive ``requests.Session`` sends sequential GETs, as ctk's client would, to a sandbox
in a separate process (``python -m ctk_core.sandbox``) with its state in memory, to one in a
separate process keeping its state in a SQLite file (``--data``: what ``ctk --sandbox`` uses,
where every request checks the file for other processes' writes), and then to one in this
process (a server thread sharing the interpreter with the client). A last row per server times
sequential page creates (one write transaction each), for information: writes have no budget.
Prints a table; never asserts.

    python bench/sandbox.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from ctk_core.sandbox import SandboxServer

BUDGET = 500.0


def measure(send: Callable[[], requests.Response], seconds: float) -> tuple[int, float]:
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        send().raise_for_status()
        count += 1
    return count, time.perf_counter() - start


@contextmanager
def subprocess_sandbox(data: str | None = None) -> Iterator[str]:
    extra = ["--data", data] if data else []
    proc = subprocess.Popen(
        [sys.executable, "-m", "ctk_core.sandbox", "--port", "0", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.wait(10)


@contextmanager
def thread_sandbox() -> Iterator[str]:
    server = SandboxServer(seed="demo").start()
    try:
        yield server.url
    finally:
        server.stop()


Row = tuple[str, str, int, float, float, bool]


def run(url: str, seconds: float, where: str) -> list[Row]:
    session = requests.Session()
    session.auth = ("bench@example.com", "token")
    session.headers["Accept"] = "application/json"
    cloud_id = session.get(url + "/_edge/tenant_info").json()["cloudId"]
    space = session.get(url + "/wiki/api/v2/spaces?keys=DEMO").json()["results"][0]
    home = space["homepageId"]
    endpoints = [
        ("space by id", f"/wiki/api/v2/spaces/{space['id']}"),
        ("page by id (storage)", f"/wiki/api/v2/pages/{home}?body-format=storage"),
        ("pages list (limit 25)", "/wiki/api/v2/pages?limit=25"),
        ("gateway page by id", f"/ex/confluence/{cloud_id}/wiki/api/v2/pages/{home}"),
    ]
    rows: list[Row] = []
    for name, path in endpoints:
        session.get(url + path).raise_for_status()  # warm up
        count, elapsed = measure(lambda path=path: session.get(url + path), seconds)
        rows.append((where, name, count, elapsed, count / elapsed, True))
    titles = iter(range(1_000_000))

    def create() -> requests.Response:
        body = {"spaceId": space["id"], "title": f"Bench {next(titles)}", "parentId": home}
        return session.post(url + "/wiki/api/v2/pages", json=body)

    count, elapsed = measure(create, seconds)
    rows.append((where, "page create (write)", count, elapsed, count / elapsed, False))
    session.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per endpoint")
    args = parser.parse_args()
    rows = []
    with subprocess_sandbox() as url:
        rows += run(url, args.seconds, "subprocess")
    with (
        tempfile.TemporaryDirectory(prefix="ctk-bench-") as folder,
        subprocess_sandbox(str(Path(folder) / "bench.db")) as url,
    ):
        rows += run(url, args.seconds, "file db")
    with thread_sandbox() as url:
        rows += run(url, args.seconds, "in-process")
    print(
        f"{'server':<11} {'endpoint':<24} {'requests':>9} {'seconds':>8} {'req/s':>8}  "
        f"budget {BUDGET:.0f}/s"
    )
    for where, name, count, elapsed, rate, budgeted in rows:
        verdict = ("ok" if rate >= BUDGET else "UNDER") if budgeted else "(no budget)"
        print(f"{where:<11} {name:<24} {count:>9} {elapsed:>8.2f} {rate:>8.0f}  {verdict}")


if __name__ == "__main__":
    main()
